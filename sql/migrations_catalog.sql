--
-- The migration catalog as version 1.0 leaves it.
--
SELECT user_mgmt.current_version();

SELECT version, previous_version, direction, description,
       applied_by = current_user AS applied_by_me,
       applied_at <= clock_timestamp() AS applied_in_the_past
FROM user_mgmt.schema_migrations ORDER BY applied_at;

-- The catalog refuses rows that make no sense.
\x on
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.schema_migrations (applied_at, version, previous_version, direction, description, applied_by)
  VALUES ('2000-01-01 00:00:00+00', '9.9', NULL, 'sideways', 'nonsense', 'someone')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.schema_migrations (applied_at, version, previous_version, direction, description, applied_by)
  VALUES ('2000-01-01 00:00:00+00', '9.9', NULL, 'upgrade', 'an upgrade from nowhere', 'someone')$$);
\x off

-- The history in order, and nothing pending at the latest version.
SELECT version, previous_version, direction
FROM user_mgmt.migration_history();
SELECT * FROM user_mgmt.pending_versions();

-- Clean: the live objects are what the installed version defines.
SELECT * FROM user_mgmt.check_schema();

-- Update paths: every step goes one version up or down, never round about.
SELECT source, target, path FROM pg_extension_update_paths('user_mgmt')
ORDER BY source, target;

--
-- Down to 1.0 and back up, in a database of its own.
--
CREATE DATABASE regress_user_mgmt_walk;
\c regress_user_mgmt_walk
CREATE SCHEMA regress;
CREATE EXTENSION user_mgmt VERSION '1.0';
SELECT user_mgmt.current_version();
SELECT target, path FROM pg_extension_update_paths('user_mgmt') WHERE source = '1.0' ORDER BY target;

INSERT INTO user_mgmt.users (username, hashed_password, role, full_name)
VALUES ('Admin', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'ADMIN', 'Админ'),
       ('admin', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'USER', 'Тёзка');

-- The upgrade refuses usernames that differ only in case, and changes nothing.
ALTER EXTENSION user_mgmt UPDATE TO '1.1';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT user_mgmt.current_version();
SELECT count(*) AS catalog_rows FROM user_mgmt.schema_migrations;

UPDATE user_mgmt.users SET username = 'admin2' WHERE username = 'admin';
ALTER EXTENSION user_mgmt UPDATE TO '1.1';
SELECT user_mgmt.current_version();
SELECT username, role, created_at IS NOT NULL AS has_created_at,
       password_changed_at IS NULL AS password_date_unknown, is_active, failed_login_count
FROM user_mgmt.users ORDER BY id;
SELECT * FROM user_mgmt.check_schema();

-- The downgrade refuses to re-enable a deactivated account ...
UPDATE user_mgmt.users SET is_active = false WHERE username = 'admin2';
ALTER EXTENSION user_mgmt UPDATE TO '1.0';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT user_mgmt.current_version();

-- ... and otherwise keeps every user and every 1.0 value.
UPDATE user_mgmt.users SET is_active = true WHERE username = 'admin2';
ALTER EXTENSION user_mgmt UPDATE TO '1.0';
SELECT user_mgmt.current_version();
SELECT * FROM user_mgmt.users ORDER BY id;

ALTER EXTENSION user_mgmt UPDATE;
SELECT version, previous_version, direction
FROM user_mgmt.migration_history();
SELECT * FROM user_mgmt.check_schema();

-- Drift: each kind of manual change is reported.
ALTER TABLE user_mgmt.users ALTER COLUMN full_name TYPE varchar(60);
ALTER TABLE user_mgmt.users DROP CONSTRAINT users_full_name_not_blank;
DROP TRIGGER users_track_changes ON user_mgmt.users;
ALTER TYPE user_mgmt.role ADD VALUE 'MANAGER';
ALTER TABLE user_mgmt.users ADD COLUMN nickname text;
ALTER TABLE user_mgmt.users ALTER COLUMN is_active SET DEFAULT false;
DROP INDEX user_mgmt.users_username_lower_key;
CREATE OR REPLACE FUNCTION user_mgmt.role_labels() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN ARRAY['hacked'];
-- The application's own objects are additions, not drift (1.5); an object
-- slipped into the extension is drift.
CREATE INDEX users_full_name_idx ON user_mgmt.users (full_name);
CREATE FUNCTION user_mgmt.app_helper() RETURNS int LANGUAGE sql RETURN 1;
CREATE FUNCTION user_mgmt.smuggled() RETURNS int LANGUAGE sql RETURN 2;
ALTER EXTENSION user_mgmt ADD FUNCTION user_mgmt.smuggled();
\x on
SELECT * FROM user_mgmt.check_schema();
\x off
SELECT count(*) FILTER (WHERE problem = 'added') AS added,
       count(*) FILTER (WHERE problem <> 'added') AS drift
FROM user_mgmt.check_schema();

\c contrib_regression
DROP DATABASE regress_user_mgmt_walk;
