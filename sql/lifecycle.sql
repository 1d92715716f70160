--
-- Version 1.1's account lifecycle: timestamps kept by a trigger, the
-- login bookkeeping columns, and usernames unique regardless of case.
--
-- One transaction, so that now() is one instant throughout.
BEGIN;

INSERT INTO user_mgmt.users (username, hashed_password, full_name)
VALUES ('lifecycle', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Life Cycle');

-- A new user: created and updated now, password set now, active, unlocked.
SELECT created_at = now() AS created_now, updated_at = now() AS updated_now,
       password_changed_at = now() AS password_set_now, is_active,
       last_login_at, failed_login_count, locked_until
FROM user_mgmt.users WHERE username = 'lifecycle';

-- Make the row look old, as if written in an earlier transaction (the
-- trigger fires, but we overwrite in a second step with the trigger off).
ALTER TABLE user_mgmt.users DISABLE TRIGGER users_track_changes;
UPDATE user_mgmt.users
SET created_at = '2020-01-01', updated_at = '2020-01-01', password_changed_at = '2020-01-01'
WHERE username = 'lifecycle';
ALTER TABLE user_mgmt.users ENABLE TRIGGER users_track_changes;

-- Any update moves updated_at; only a new hash moves password_changed_at.
UPDATE user_mgmt.users SET full_name = 'Life Cycle II' WHERE username = 'lifecycle';
SELECT created_at = '2020-01-01' AS created_kept, updated_at = now() AS updated_now,
       password_changed_at = '2020-01-01' AS password_date_kept
FROM user_mgmt.users WHERE username = 'lifecycle';

UPDATE user_mgmt.users SET hashed_password = '$2b$04$2OVRF64VI1ZoAWLf9dR0GeTxxBqtJTpRIwXX5XW56edyyfQu.bdNO'
WHERE username = 'lifecycle';
SELECT password_changed_at = now() AS password_changed_now
FROM user_mgmt.users WHERE username = 'lifecycle';

-- Setting updated_at by hand does not stick: the trigger keeps it true.
UPDATE user_mgmt.users SET updated_at = '1999-01-01' WHERE username = 'lifecycle';
SELECT updated_at = now() AS updated_now FROM user_mgmt.users WHERE username = 'lifecycle';

-- Usernames are unique regardless of case, Cyrillic included.
INSERT INTO user_mgmt.users (username, hashed_password, full_name)
VALUES ('Иван', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Иван');
\x on
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('LifeCycle', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Case Twin')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('иВАН', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Case Twin')$$);
-- the counter never goes negative (since 1.3 only the login writer may
-- change it at all: see accounts)
SELECT * FROM regress.error_of($$
  UPDATE user_mgmt.users SET failed_login_count = -1 WHERE username = 'lifecycle'$$);
\x off

ROLLBACK;
