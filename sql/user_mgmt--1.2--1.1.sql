/*
 * user_mgmt 1.2 -> 1.1: back to version 1.1.
 *
 * Drops the accounts API, the tokens and the signing keys (tokens issued
 * so far stop verifying).  Users and every value of theirs stay: 1.2 added
 * no column and no enum label, so nothing can be lost.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.1'" to load this file. \quit

DROP FUNCTION user_mgmt.current_user_role();
DROP FUNCTION user_mgmt.current_user_id();
DROP FUNCTION user_mgmt.set_session_token(text);
DROP FUNCTION user_mgmt.verify_token(text);
DROP FUNCTION user_mgmt.login(text, text);
DROP FUNCTION user_mgmt.issue_token(integer, interval);
DROP FUNCTION user_mgmt.issue_token(integer);
DROP FUNCTION user_mgmt.export_signing_key(text);
DROP FUNCTION user_mgmt.retire_signing_key(text);
DROP FUNCTION user_mgmt.rotate_signing_key();
-- Leave the extension first: that also takes the table out of extconfig,
-- which DROP TABLE alone would leave pointing at nothing.
ALTER EXTENSION user_mgmt DROP TABLE user_mgmt.signing_keys;
DROP TABLE user_mgmt.signing_keys;
DROP FUNCTION user_mgmt.signing_keys_changed();

DROP FUNCTION user_mgmt.delete_user(integer);
DROP FUNCTION user_mgmt.unlock_user(integer);
DROP FUNCTION user_mgmt.set_active(integer, boolean);
DROP FUNCTION user_mgmt.set_role(integer, user_mgmt.role);
DROP FUNCTION user_mgmt.change_password(text, text, text);
DROP FUNCTION user_mgmt.set_password(integer, text);
DROP FUNCTION user_mgmt.require_user(integer);
DROP FUNCTION user_mgmt.authenticate(text, text);
DROP FUNCTION user_mgmt.find_user(text);
DROP FUNCTION user_mgmt.create_user(text, text, text, user_mgmt.role);
DROP FUNCTION user_mgmt.check_username(text);
DROP FUNCTION user_mgmt.count_failed_login(integer);
DROP FUNCTION user_mgmt.record_failed_login(integer, integer, interval);
DROP VIEW user_mgmt.accounts;
DROP FUNCTION user_mgmt.dummy_password_hash();
DROP FUNCTION user_mgmt.check_password_policy(text);
DROP FUNCTION user_mgmt.random_bytes(integer);

/* What version 1.1 defines, as user_mgmt--1.0--1.1.sql has it. */
CREATE OR REPLACE FUNCTION user_mgmt.expected_schema_objects()
RETURNS TABLE (object_type text, object_name text, definition text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM (VALUES
-- BEGIN GENERATED 1.1
		('column', 'schema_migrations.applied_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'schema_migrations.applied_by', 'name NOT NULL DEFAULT CURRENT_USER'),
		('column', 'schema_migrations.description', 'text NOT NULL'),
		('column', 'schema_migrations.direction', 'text NOT NULL'),
		('column', 'schema_migrations.previous_version', 'text'),
		('column', 'schema_migrations.version', 'text NOT NULL'),
		('column', 'users.created_at', 'timestamp with time zone NOT NULL DEFAULT now()'),
		('column', 'users.failed_login_count', 'integer NOT NULL DEFAULT 0'),
		('column', 'users.full_name', 'character varying(40) NOT NULL'),
		('column', 'users.hashed_password', 'character varying(512) NOT NULL'),
		('column', 'users.id', 'integer NOT NULL DEFAULT nextval(''user_mgmt.users_id_seq''::regclass)'),
		('column', 'users.is_active', 'boolean NOT NULL DEFAULT true'),
		('column', 'users.last_login_at', 'timestamp with time zone'),
		('column', 'users.locked_until', 'timestamp with time zone'),
		('column', 'users.password_changed_at', 'timestamp with time zone DEFAULT now()'),
		('column', 'users.role', 'user_mgmt.role NOT NULL DEFAULT ''USER''::user_mgmt.role'),
		('column', 'users.updated_at', 'timestamp with time zone NOT NULL DEFAULT now()'),
		('column', 'users.username', 'character varying(20) NOT NULL'),
		('constraint', 'schema_migrations.schema_migrations_direction_check', 'CHECK ((direction = ANY (ARRAY[''install''::text, ''upgrade''::text, ''downgrade''::text])))'),
		('constraint', 'schema_migrations.schema_migrations_pkey', 'PRIMARY KEY (applied_at)'),
		('constraint', 'schema_migrations.schema_migrations_previous_version_check', 'CHECK (((direction = ''install''::text) = (previous_version IS NULL)))'),
		('constraint', 'users.users_failed_login_count_check', 'CHECK ((failed_login_count >= 0))'),
		('constraint', 'users.users_full_name_not_blank', 'CHECK (((full_name)::text ~ ''[^[:space:]]''::text))'),
		('constraint', 'users.users_hashed_password_is_bcrypt', 'CHECK (user_mgmt.is_password_hash((hashed_password)::text))'),
		('constraint', 'users.users_pkey', 'PRIMARY KEY (id)'),
		('constraint', 'users.users_username_key', 'UNIQUE (username)'),
		('constraint', 'users.users_username_not_blank', 'CHECK (((username)::text ~ ''[^[:space:]]''::text))'),
		('enum', 'role', 'USER, CASHIER, ADMIN'),
		('extension member', 'function user_mgmt.check_schema()', 'member'),
		('extension member', 'function user_mgmt.current_version()', 'member'),
		('extension member', 'function user_mgmt.expected_schema_objects()', 'member'),
		('extension member', 'function user_mgmt.hash_cost(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text,integer)', 'member'),
		('extension member', 'function user_mgmt.is_password_hash(text)', 'member'),
		('extension member', 'function user_mgmt.migration_history()', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text)', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text,integer)', 'member'),
		('extension member', 'function user_mgmt.pending_versions()', 'member'),
		('extension member', 'function user_mgmt.public_privileges(aclitem[])', 'member'),
		('extension member', 'function user_mgmt.role_from_label(text)', 'member'),
		('extension member', 'function user_mgmt.role_label(user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.role_labels()', 'member'),
		('extension member', 'function user_mgmt.schema_objects()', 'member'),
		('extension member', 'function user_mgmt.users_track_changes()', 'member'),
		('extension member', 'function user_mgmt.verify_password(text,text)', 'member'),
		('extension member', 'sequence user_mgmt.users_id_seq', 'member'),
		('extension member', 'table user_mgmt.schema_migrations', 'member'),
		('extension member', 'table user_mgmt.users', 'member'),
		('extension member', 'type user_mgmt.role', 'member'),
		('function', 'user_mgmt.check_schema()', 'md5 460444ad3f537dfe85539dff11ad56d5'),
		('function', 'user_mgmt.current_version()', 'md5 124da90e0b53fb9d2c1674bdd24d4d70'),
		('function', 'user_mgmt.hash_cost(text)', 'md5 11f6282c7e784e1acb395d7abcd305c8'),
		('function', 'user_mgmt.hash_password(text)', 'md5 05f314c79c3d52978568ee29f7a117d0'),
		('function', 'user_mgmt.hash_password(text,integer)', 'md5 7be0790d23d582bb23eb608decb1cced'),
		('function', 'user_mgmt.is_password_hash(text)', 'md5 23c754e0bbde61790907ccf6780b56be'),
		('function', 'user_mgmt.migration_history()', 'md5 37186625b6783a283b1c2f91c46a84f5'),
		('function', 'user_mgmt.password_needs_rehash(text)', 'md5 baa6914ffc90d557d987ee4ac5a591a9'),
		('function', 'user_mgmt.password_needs_rehash(text,integer)', 'md5 c054ad3073aeb69253efa987ce534a47'),
		('function', 'user_mgmt.pending_versions()', 'md5 e5b625c57d57d68640760c13a691cb03'),
		('function', 'user_mgmt.public_privileges(aclitem[])', 'md5 9f24b15b6dc60858f9a21621291de743'),
		('function', 'user_mgmt.role_from_label(text)', 'md5 5b1907cdd9ae50a7edd6cd536032cf4f'),
		('function', 'user_mgmt.role_label(user_mgmt.role)', 'md5 3731e0c6b3e97401e09cce2f35f77a48'),
		('function', 'user_mgmt.role_labels()', 'md5 3ca47398b9e6416136341ace28566aee'),
		('function', 'user_mgmt.schema_objects()', 'md5 3596a57b0d208fdf04859c216fca4c07'),
		('function', 'user_mgmt.users_track_changes()', 'md5 e72fdbbf6ba0395400cc84f32bef9d4a'),
		('function', 'user_mgmt.verify_password(text,text)', 'md5 38bb68be68cb347972e5167ae3b9541b'),
		('index', 'schema_migrations_pkey', 'CREATE UNIQUE INDEX schema_migrations_pkey ON user_mgmt.schema_migrations USING btree (applied_at)'),
		('index', 'users_pkey', 'CREATE UNIQUE INDEX users_pkey ON user_mgmt.users USING btree (id)'),
		('index', 'users_username_key', 'CREATE UNIQUE INDEX users_username_key ON user_mgmt.users USING btree (username)'),
		('index', 'users_username_lower_key', 'CREATE UNIQUE INDEX users_username_lower_key ON user_mgmt.users USING btree (lower(((username)::text COLLATE "und-x-icu")))'),
		('public privileges', 'schema user_mgmt', 'USAGE'),
		('public privileges', 'schema_migrations', 'none'),
		('public privileges', 'user_mgmt.check_schema()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_version()', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_cost(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.is_password_hash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.migration_history()', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.pending_versions()', 'EXECUTE'),
		('public privileges', 'user_mgmt.public_privileges(aclitem[])', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_from_label(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_label(user_mgmt.role)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_labels()', 'EXECUTE'),
		('public privileges', 'user_mgmt.schema_objects()', 'EXECUTE'),
		('public privileges', 'user_mgmt.users_track_changes()', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_password(text,text)', 'EXECUTE'),
		('public privileges', 'users', 'none'),
		('public privileges', 'users_id_seq', 'none'),
		('sequence', 'users_id_seq', 'integer start 1 increment 1 min 1 max 2147483647 cycle f'),
		('table', 'schema_migrations', 'row level security f'),
		('table', 'users', 'row level security f'),
		('trigger', 'users.users_track_changes', 'CREATE TRIGGER users_track_changes BEFORE UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_track_changes()')
-- END GENERATED 1.1
	) AS t(object_type, object_name, definition);
END;

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.1', '1.2', 'downgrade',
		'Dropped the accounts API, tokens and signing keys of 1.2');
