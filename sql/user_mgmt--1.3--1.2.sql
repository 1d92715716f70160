/*
 * user_mgmt 1.3 -> 1.2: back to version 1.2.
 *
 * The login state goes back into the users columns (failed_login_count,
 * locked_until, last_login_at), checks still in flight counted as
 * failures; every user and every value 1.2 can hold stays.  1.2 has no
 * place for the audit trail: user_mgmt.auth_events is dropped (export it
 * first if it must be kept).  The account functions are 1.2's again.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.2'" to load this file. \quit

-- 1.2 has no comments on the view's columns, the constraints and their indexes.
COMMENT ON COLUMN user_mgmt.accounts.id IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.username IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.role IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.full_name IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.created_at IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.updated_at IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.is_active IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.last_login_at IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.failed_login_count IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.locked_until IS NULL;
COMMENT ON COLUMN user_mgmt.accounts.password_changed_at IS NULL;
COMMENT ON CONSTRAINT users_pkey ON user_mgmt.users IS NULL;
COMMENT ON INDEX user_mgmt.users_pkey IS NULL;
COMMENT ON CONSTRAINT users_username_key ON user_mgmt.users IS NULL;
COMMENT ON INDEX user_mgmt.users_username_key IS NULL;
COMMENT ON CONSTRAINT schema_migrations_pkey ON user_mgmt.schema_migrations IS NULL;
COMMENT ON INDEX user_mgmt.schema_migrations_pkey IS NULL;
COMMENT ON CONSTRAINT schema_migrations_direction_check ON user_mgmt.schema_migrations IS NULL;
COMMENT ON CONSTRAINT schema_migrations_previous_version_check ON user_mgmt.schema_migrations IS NULL;
COMMENT ON CONSTRAINT signing_keys_pkey ON user_mgmt.signing_keys IS NULL;
COMMENT ON INDEX user_mgmt.signing_keys_pkey IS NULL;
COMMENT ON CONSTRAINT signing_keys_kid_check ON user_mgmt.signing_keys IS NULL;
COMMENT ON CONSTRAINT signing_keys_secret_check ON user_mgmt.signing_keys IS NULL;

DROP TRIGGER users_audit ON user_mgmt.users;
DROP FUNCTION user_mgmt.users_audit();
DROP TRIGGER users_protect_login_state ON user_mgmt.users;
DROP FUNCTION user_mgmt.users_protect_login_state();

-- The state back into users, as 1.2 keeps it.
UPDATE user_mgmt.users AS u
SET failed_login_count = (s.pending OPERATOR(pg_catalog.+) s.confirmed OPERATOR(pg_catalog.-) s.erased)::integer,
	locked_until = s.locked_until,
	last_login_at = COALESCE(s.last_login_at, u.last_login_at)
FROM user_mgmt.login_state AS s
WHERE s.user_id OPERATOR(pg_catalog.=) u.id
	AND (u.failed_login_count OPERATOR(pg_catalog.<>) (s.pending OPERATOR(pg_catalog.+) s.confirmed OPERATOR(pg_catalog.-) s.erased)::integer
		 OR u.locked_until IS DISTINCT FROM s.locked_until
		 OR u.last_login_at IS DISTINCT FROM COALESCE(s.last_login_at, u.last_login_at));

CREATE OR REPLACE VIEW user_mgmt.accounts AS
	SELECT u.id, u.username, u.role, u.full_name, u.created_at, u.updated_at,
		u.is_active, u.last_login_at, u.failed_login_count, u.locked_until,
		u.password_changed_at
	FROM user_mgmt.users AS u;

COMMENT ON VIEW user_mgmt.accounts IS
'Every column of users except hashed_password';

DROP FUNCTION user_mgmt.await_login_writer();
DROP FUNCTION user_mgmt.stop_login_writer();
DROP FUNCTION user_mgmt.login_statistics();
DROP FUNCTION user_mgmt.sign_up(text, text, text);
DROP FUNCTION user_mgmt.check_full_name(text);
DROP FUNCTION user_mgmt.login_guard_rehash(integer, text, text);
DROP FUNCTION user_mgmt.login_guard_mirror(integer);
DROP FUNCTION user_mgmt.login_guard_recover();
DROP FUNCTION user_mgmt.login_guard_unlock(integer, text, inet, text);
DROP FUNCTION user_mgmt.login_guard_complete(integer, bigint, boolean, text, integer, interval, text, inet, text, boolean);
DROP FUNCTION user_mgmt.login_guard_reserve(integer, integer, interval, text, inet, text);
DROP FUNCTION user_mgmt.is_login_writer();
DROP FUNCTION user_mgmt.prune_auth_events(interval);
DROP FUNCTION user_mgmt.record_auth_event(text, integer, text, text, inet, text);
-- Leave the extension first: that also takes them out of extconfig.
ALTER EXTENSION user_mgmt DROP TABLE user_mgmt.login_state;
DROP TABLE user_mgmt.login_state;
ALTER EXTENSION user_mgmt DROP SEQUENCE user_mgmt.auth_events_id_seq;
ALTER EXTENSION user_mgmt DROP TABLE user_mgmt.auth_events;
DROP TABLE user_mgmt.auth_events;

/* 1.2's account functions, as user_mgmt--1.1--1.2.sql has them. */

CREATE FUNCTION user_mgmt.record_failed_login(user_id integer,
	max_failed_logins integer, lockout_duration interval)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- A lock that has run out starts a new count.
	UPDATE user_mgmt.users AS u
	SET failed_login_count = CASE
			WHEN u.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now() THEN 1
			ELSE u.failed_login_count OPERATOR(pg_catalog.+) 1 END,
		locked_until = CASE
			WHEN u.locked_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN u.locked_until
			WHEN max_failed_logins OPERATOR(pg_catalog.>) 0
				AND (CASE WHEN u.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now() THEN 1
						  ELSE u.failed_login_count OPERATOR(pg_catalog.+) 1 END)
					OPERATOR(pg_catalog.>=) max_failed_logins
				THEN pg_catalog.now() OPERATOR(pg_catalog.+) lockout_duration
			ELSE NULL END
	WHERE u.id OPERATOR(pg_catalog.=) user_id;
END
$$;

COMMENT ON FUNCTION user_mgmt.record_failed_login(integer, integer, interval) IS
'Counts one failed login of a user and locks the account once the count reaches max_failed_logins (0: never)';

REVOKE ALL ON FUNCTION user_mgmt.record_failed_login(integer, integer, interval) FROM PUBLIC;

CREATE FUNCTION user_mgmt.count_failed_login(user_id integer)
RETURNS void
AS 'MODULE_PATHNAME', 'um_count_failed_login'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.count_failed_login(integer) IS
'Runs record_failed_login with this session''s lockout settings in a transaction of its own, so no rollback undoes it; NULL (an unknown user) does the same work and changes nothing';

REVOKE ALL ON FUNCTION user_mgmt.count_failed_login(integer) FROM PUBLIC;

CREATE OR REPLACE FUNCTION user_mgmt.create_user(username text, password text,
	full_name text, role user_mgmt.role DEFAULT 'USER')
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id integer;
BEGIN
	PERFORM user_mgmt.check_username(username);
	PERFORM user_mgmt.check_password_policy(password);

	INSERT INTO user_mgmt.users (username, hashed_password, role, full_name)
	VALUES (username, user_mgmt.hash_password(password), role, full_name)
	RETURNING id INTO new_id;
	RETURN new_id;
EXCEPTION
	WHEN unique_violation THEN
		RAISE EXCEPTION USING
			ERRCODE = 'unique_violation',
			MESSAGE = pg_catalog.format('username "%s" is already taken', username),
			DETAIL = 'Usernames are unique regardless of case.';
END
$$;

COMMENT ON FUNCTION user_mgmt.create_user(text, text, text, user_mgmt.role) IS
'Creates a user with a bcrypt-hashed password (checked against the password policy) and returns its id';

/* Look a user up by name, regardless of case (the unique index's expression). */
CREATE FUNCTION user_mgmt.find_user(username text)
RETURNS user_mgmt.users
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT u.* FROM user_mgmt.users AS u
	WHERE pg_catalog.lower(u.username::text COLLATE pg_catalog."und-x-icu")
		OPERATOR(pg_catalog.=) pg_catalog.lower(find_user.username COLLATE pg_catalog."und-x-icu");
END;

COMMENT ON FUNCTION user_mgmt.find_user(text) IS
'The user with this username, matched regardless of case, or NULL';

REVOKE ALL ON FUNCTION user_mgmt.find_user(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION user_mgmt.authenticate(username text, password text)
RETURNS user_mgmt.accounts
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	u user_mgmt.users;
	matches boolean;
	writable boolean;
	result user_mgmt.accounts;
BEGIN
	u := user_mgmt.find_user(username);

	-- Unknown users cost a full bcrypt check too: no timing oracle.
	matches := user_mgmt.verify_password(password,
		COALESCE(u.hashed_password::text, user_mgmt.dummy_password_hash()));

	IF u.id IS NULL OR NOT matches OR NOT u.is_active
		OR u.locked_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN
		PERFORM user_mgmt.count_failed_login(u.id);
		RETURN NULL;
	END IF;

	writable := NOT pg_catalog.pg_is_in_recovery()
		AND pg_catalog.current_setting('transaction_read_only') OPERATOR(pg_catalog.=) 'off';
	IF writable THEN
		UPDATE user_mgmt.users AS x
		SET failed_login_count = 0, locked_until = NULL, last_login_at = pg_catalog.now()
		WHERE x.id OPERATOR(pg_catalog.=) u.id;

		-- The cost went up since this hash was made: store a new one, but
		-- keep password_changed_at (the password itself did not change).
		IF user_mgmt.password_needs_rehash(u.hashed_password)
			AND pg_catalog.octet_length(password) OPERATOR(pg_catalog.<=) 72 THEN
			UPDATE user_mgmt.users AS x
			SET hashed_password = user_mgmt.hash_password(password)
			WHERE x.id OPERATOR(pg_catalog.=) u.id;
			UPDATE user_mgmt.users AS x
			SET password_changed_at = u.password_changed_at
			WHERE x.id OPERATOR(pg_catalog.=) u.id;
		END IF;
	END IF;

	SELECT a.* INTO result FROM user_mgmt.accounts AS a
	WHERE a.id OPERATOR(pg_catalog.=) u.id;
	RETURN result;
END
$$;

COMMENT ON FUNCTION user_mgmt.authenticate(text, text) IS
'The account when the password is right and the account active and unlocked, else NULL (counting the failure, locking after user_mgmt.max_failed_logins)';

CREATE OR REPLACE FUNCTION user_mgmt.login(username text, password text)
RETURNS text
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	account user_mgmt.accounts;
BEGIN
	account := user_mgmt.authenticate(username, password);
	IF account.id IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_password',
			MESSAGE = 'invalid username or password';
	END IF;
	RETURN user_mgmt.issue_token(account.id);
END
$$;

CREATE OR REPLACE FUNCTION user_mgmt.set_password(user_id integer, new_password text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM user_mgmt.require_user(user_id);
	PERFORM user_mgmt.check_password_policy(new_password);
	UPDATE user_mgmt.users AS u
	SET hashed_password = user_mgmt.hash_password(new_password)
	WHERE u.id OPERATOR(pg_catalog.=) user_id;
END
$$;

CREATE OR REPLACE FUNCTION user_mgmt.change_password(username text, old_password text,
	new_password text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	account user_mgmt.accounts;
BEGIN
	-- Check the new password first: a policy error reveals nothing.
	PERFORM user_mgmt.check_password_policy(new_password);
	account := user_mgmt.authenticate(username, old_password);
	IF account.id IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_password',
			MESSAGE = 'invalid username or password';
	END IF;
	UPDATE user_mgmt.users AS u
	SET hashed_password = user_mgmt.hash_password(new_password)
	WHERE u.id OPERATOR(pg_catalog.=) account.id;
END
$$;

CREATE OR REPLACE FUNCTION user_mgmt.unlock_user(user_id integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM user_mgmt.require_user(user_id);
	UPDATE user_mgmt.users AS u SET locked_until = NULL, failed_login_count = 0
	WHERE u.id OPERATOR(pg_catalog.=) user_id;
END
$$;

COMMENT ON FUNCTION user_mgmt.unlock_user(integer) IS
'Lifts a lockout and resets the failed-login counter (administrative)';

/* What version 1.2 defines, as user_mgmt--1.1--1.2.sql has it. */
CREATE OR REPLACE FUNCTION user_mgmt.expected_schema_objects()
RETURNS TABLE (object_type text, object_name text, definition text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM (VALUES
-- BEGIN GENERATED 1.2
		('column', 'accounts.created_at', 'timestamp with time zone'),
		('column', 'accounts.failed_login_count', 'integer'),
		('column', 'accounts.full_name', 'character varying(40)'),
		('column', 'accounts.id', 'integer'),
		('column', 'accounts.is_active', 'boolean'),
		('column', 'accounts.last_login_at', 'timestamp with time zone'),
		('column', 'accounts.locked_until', 'timestamp with time zone'),
		('column', 'accounts.password_changed_at', 'timestamp with time zone'),
		('column', 'accounts.role', 'user_mgmt.role'),
		('column', 'accounts.updated_at', 'timestamp with time zone'),
		('column', 'accounts.username', 'character varying(20)'),
		('column', 'schema_migrations.applied_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'schema_migrations.applied_by', 'name NOT NULL DEFAULT CURRENT_USER'),
		('column', 'schema_migrations.description', 'text NOT NULL'),
		('column', 'schema_migrations.direction', 'text NOT NULL'),
		('column', 'schema_migrations.previous_version', 'text'),
		('column', 'schema_migrations.version', 'text NOT NULL'),
		('column', 'signing_keys.created_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'signing_keys.kid', 'text NOT NULL'),
		('column', 'signing_keys.retired_at', 'timestamp with time zone'),
		('column', 'signing_keys.secret', 'bytea NOT NULL'),
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
		('constraint', 'signing_keys.signing_keys_kid_check', 'CHECK ((kid ~ ''^[A-Za-z0-9_-]{1,64}$''::text))'),
		('constraint', 'signing_keys.signing_keys_pkey', 'PRIMARY KEY (kid)'),
		('constraint', 'signing_keys.signing_keys_secret_check', 'CHECK ((octet_length(secret) >= 32))'),
		('constraint', 'users.users_failed_login_count_check', 'CHECK ((failed_login_count >= 0))'),
		('constraint', 'users.users_full_name_not_blank', 'CHECK (((full_name)::text ~ ''[^[:space:]]''::text))'),
		('constraint', 'users.users_hashed_password_is_bcrypt', 'CHECK (user_mgmt.is_password_hash((hashed_password)::text))'),
		('constraint', 'users.users_pkey', 'PRIMARY KEY (id)'),
		('constraint', 'users.users_username_key', 'UNIQUE (username)'),
		('constraint', 'users.users_username_not_blank', 'CHECK (((username)::text ~ ''[^[:space:]]''::text))'),
		('enum', 'role', 'USER, CASHIER, ADMIN'),
		('extension member', 'function user_mgmt.authenticate(text,text)', 'member'),
		('extension member', 'function user_mgmt.change_password(text,text,text)', 'member'),
		('extension member', 'function user_mgmt.check_password_policy(text)', 'member'),
		('extension member', 'function user_mgmt.check_schema()', 'member'),
		('extension member', 'function user_mgmt.check_username(text)', 'member'),
		('extension member', 'function user_mgmt.count_failed_login(integer)', 'member'),
		('extension member', 'function user_mgmt.create_user(text,text,text,user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.current_user_id()', 'member'),
		('extension member', 'function user_mgmt.current_user_role()', 'member'),
		('extension member', 'function user_mgmt.current_version()', 'member'),
		('extension member', 'function user_mgmt.delete_user(integer)', 'member'),
		('extension member', 'function user_mgmt.dummy_password_hash()', 'member'),
		('extension member', 'function user_mgmt.expected_schema_objects()', 'member'),
		('extension member', 'function user_mgmt.export_signing_key(text)', 'member'),
		('extension member', 'function user_mgmt.find_user(text)', 'member'),
		('extension member', 'function user_mgmt.hash_cost(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text,integer)', 'member'),
		('extension member', 'function user_mgmt.is_password_hash(text)', 'member'),
		('extension member', 'function user_mgmt.issue_token(integer)', 'member'),
		('extension member', 'function user_mgmt.issue_token(integer,interval)', 'member'),
		('extension member', 'function user_mgmt.login(text,text)', 'member'),
		('extension member', 'function user_mgmt.migration_history()', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text)', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text,integer)', 'member'),
		('extension member', 'function user_mgmt.pending_versions()', 'member'),
		('extension member', 'function user_mgmt.public_privileges(aclitem[])', 'member'),
		('extension member', 'function user_mgmt.random_bytes(integer)', 'member'),
		('extension member', 'function user_mgmt.record_failed_login(integer,integer,interval)', 'member'),
		('extension member', 'function user_mgmt.require_user(integer)', 'member'),
		('extension member', 'function user_mgmt.retire_signing_key(text)', 'member'),
		('extension member', 'function user_mgmt.role_from_label(text)', 'member'),
		('extension member', 'function user_mgmt.role_label(user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.role_labels()', 'member'),
		('extension member', 'function user_mgmt.rotate_signing_key()', 'member'),
		('extension member', 'function user_mgmt.schema_objects()', 'member'),
		('extension member', 'function user_mgmt.set_active(integer,boolean)', 'member'),
		('extension member', 'function user_mgmt.set_password(integer,text)', 'member'),
		('extension member', 'function user_mgmt.set_role(integer,user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.set_session_token(text)', 'member'),
		('extension member', 'function user_mgmt.signing_keys_changed()', 'member'),
		('extension member', 'function user_mgmt.unlock_user(integer)', 'member'),
		('extension member', 'function user_mgmt.users_track_changes()', 'member'),
		('extension member', 'function user_mgmt.verify_password(text,text)', 'member'),
		('extension member', 'function user_mgmt.verify_token(text)', 'member'),
		('extension member', 'sequence user_mgmt.users_id_seq', 'member'),
		('extension member', 'table user_mgmt.schema_migrations', 'member'),
		('extension member', 'table user_mgmt.signing_keys', 'member'),
		('extension member', 'table user_mgmt.users', 'member'),
		('extension member', 'type user_mgmt.role', 'member'),
		('extension member', 'view user_mgmt.accounts', 'member'),
		('function', 'user_mgmt.authenticate(text,text)', 'md5 8b358008d3676899b4b608e41c624e55'),
		('function', 'user_mgmt.change_password(text,text,text)', 'md5 ad559afc07e3cbd15fe55004dccc9ee0'),
		('function', 'user_mgmt.check_password_policy(text)', 'md5 42707a3df506f73e1396a882629ef556'),
		('function', 'user_mgmt.check_schema()', 'md5 460444ad3f537dfe85539dff11ad56d5'),
		('function', 'user_mgmt.check_username(text)', 'md5 61751d297b7f631b1e8e4b3b199c6d06'),
		('function', 'user_mgmt.count_failed_login(integer)', 'md5 d038a8c198c02dc017c64f06d58a507e'),
		('function', 'user_mgmt.create_user(text,text,text,user_mgmt.role)', 'md5 62fe5ba9f7cd8c82acb8937d2fdbc4a6'),
		('function', 'user_mgmt.current_user_id()', 'md5 620a939bf79a5cfe92a87d8469c437e5'),
		('function', 'user_mgmt.current_user_role()', 'md5 f26f8b48f8321156bd85219862db1db2'),
		('function', 'user_mgmt.current_version()', 'md5 124da90e0b53fb9d2c1674bdd24d4d70'),
		('function', 'user_mgmt.delete_user(integer)', 'md5 f0d4e1d3d58c4bccec20212d0df25ac2'),
		('function', 'user_mgmt.dummy_password_hash()', 'md5 9cbb68a99ccf239b317a501658052a1e'),
		('function', 'user_mgmt.export_signing_key(text)', 'md5 6715f3dbc816494cad401a9b81c58384'),
		('function', 'user_mgmt.find_user(text)', 'md5 fbc24bfe155147d34ff75ba510d285e5'),
		('function', 'user_mgmt.hash_cost(text)', 'md5 11f6282c7e784e1acb395d7abcd305c8'),
		('function', 'user_mgmt.hash_password(text)', 'md5 05f314c79c3d52978568ee29f7a117d0'),
		('function', 'user_mgmt.hash_password(text,integer)', 'md5 7be0790d23d582bb23eb608decb1cced'),
		('function', 'user_mgmt.is_password_hash(text)', 'md5 23c754e0bbde61790907ccf6780b56be'),
		('function', 'user_mgmt.issue_token(integer)', 'md5 151826fcb0487ee7b11e0a8c825b6764'),
		('function', 'user_mgmt.issue_token(integer,interval)', 'md5 f0e5d9dd61dd21cb11e24e03dd1a0d2b'),
		('function', 'user_mgmt.login(text,text)', 'md5 8adf1b4302cbbe9f07e0e1dbb4de6f00'),
		('function', 'user_mgmt.migration_history()', 'md5 37186625b6783a283b1c2f91c46a84f5'),
		('function', 'user_mgmt.password_needs_rehash(text)', 'md5 baa6914ffc90d557d987ee4ac5a591a9'),
		('function', 'user_mgmt.password_needs_rehash(text,integer)', 'md5 c054ad3073aeb69253efa987ce534a47'),
		('function', 'user_mgmt.pending_versions()', 'md5 e5b625c57d57d68640760c13a691cb03'),
		('function', 'user_mgmt.public_privileges(aclitem[])', 'md5 9f24b15b6dc60858f9a21621291de743'),
		('function', 'user_mgmt.random_bytes(integer)', 'md5 940ee5cd5b1be97c94284a2f3d0ba93e'),
		('function', 'user_mgmt.record_failed_login(integer,integer,interval)', 'md5 432dcfe66f746052cd5431c4933857fa'),
		('function', 'user_mgmt.require_user(integer)', 'md5 b3f2804b1307ffd8e3b928f974a8a721'),
		('function', 'user_mgmt.retire_signing_key(text)', 'md5 42b1913dc5f564cbff98ebdc184b6866'),
		('function', 'user_mgmt.role_from_label(text)', 'md5 5b1907cdd9ae50a7edd6cd536032cf4f'),
		('function', 'user_mgmt.role_label(user_mgmt.role)', 'md5 3731e0c6b3e97401e09cce2f35f77a48'),
		('function', 'user_mgmt.role_labels()', 'md5 3ca47398b9e6416136341ace28566aee'),
		('function', 'user_mgmt.rotate_signing_key()', 'md5 1811064893963e6a18527d3c72180f10'),
		('function', 'user_mgmt.schema_objects()', 'md5 3596a57b0d208fdf04859c216fca4c07'),
		('function', 'user_mgmt.set_active(integer,boolean)', 'md5 d0f178e4a063f824fbf915ac9d941c6e'),
		('function', 'user_mgmt.set_password(integer,text)', 'md5 e2ba81bcff01b478375c49d0eb0943c0'),
		('function', 'user_mgmt.set_role(integer,user_mgmt.role)', 'md5 7250d3ae1df85f1cc7e1c3508f26a153'),
		('function', 'user_mgmt.set_session_token(text)', 'md5 ed971171a153751960e1b1bacaa7c2cd'),
		('function', 'user_mgmt.signing_keys_changed()', 'md5 bf25ffb15a0570542ac605acf0091007'),
		('function', 'user_mgmt.unlock_user(integer)', 'md5 36a00814d0344a9bb799c341ff8999e7'),
		('function', 'user_mgmt.users_track_changes()', 'md5 e72fdbbf6ba0395400cc84f32bef9d4a'),
		('function', 'user_mgmt.verify_password(text,text)', 'md5 38bb68be68cb347972e5167ae3b9541b'),
		('function', 'user_mgmt.verify_token(text)', 'md5 e3db62badb8f09427e886e10317999e7'),
		('index', 'schema_migrations_pkey', 'CREATE UNIQUE INDEX schema_migrations_pkey ON user_mgmt.schema_migrations USING btree (applied_at)'),
		('index', 'signing_keys_pkey', 'CREATE UNIQUE INDEX signing_keys_pkey ON user_mgmt.signing_keys USING btree (kid)'),
		('index', 'users_pkey', 'CREATE UNIQUE INDEX users_pkey ON user_mgmt.users USING btree (id)'),
		('index', 'users_username_key', 'CREATE UNIQUE INDEX users_username_key ON user_mgmt.users USING btree (username)'),
		('index', 'users_username_lower_key', 'CREATE UNIQUE INDEX users_username_lower_key ON user_mgmt.users USING btree (lower(((username)::text COLLATE "und-x-icu")))'),
		('public privileges', 'accounts', 'none'),
		('public privileges', 'schema user_mgmt', 'USAGE'),
		('public privileges', 'schema_migrations', 'none'),
		('public privileges', 'signing_keys', 'none'),
		('public privileges', 'user_mgmt.authenticate(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.change_password(text,text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_password_policy(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_schema()', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_username(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.count_failed_login(integer)', 'none'),
		('public privileges', 'user_mgmt.create_user(text,text,text,user_mgmt.role)', 'none'),
		('public privileges', 'user_mgmt.current_user_id()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_user_role()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_version()', 'EXECUTE'),
		('public privileges', 'user_mgmt.delete_user(integer)', 'none'),
		('public privileges', 'user_mgmt.dummy_password_hash()', 'EXECUTE'),
		('public privileges', 'user_mgmt.export_signing_key(text)', 'none'),
		('public privileges', 'user_mgmt.find_user(text)', 'none'),
		('public privileges', 'user_mgmt.hash_cost(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.is_password_hash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.issue_token(integer)', 'none'),
		('public privileges', 'user_mgmt.issue_token(integer,interval)', 'none'),
		('public privileges', 'user_mgmt.login(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.migration_history()', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.pending_versions()', 'EXECUTE'),
		('public privileges', 'user_mgmt.public_privileges(aclitem[])', 'EXECUTE'),
		('public privileges', 'user_mgmt.random_bytes(integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.record_failed_login(integer,integer,interval)', 'none'),
		('public privileges', 'user_mgmt.require_user(integer)', 'none'),
		('public privileges', 'user_mgmt.retire_signing_key(text)', 'none'),
		('public privileges', 'user_mgmt.role_from_label(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_label(user_mgmt.role)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_labels()', 'EXECUTE'),
		('public privileges', 'user_mgmt.rotate_signing_key()', 'none'),
		('public privileges', 'user_mgmt.schema_objects()', 'EXECUTE'),
		('public privileges', 'user_mgmt.set_active(integer,boolean)', 'none'),
		('public privileges', 'user_mgmt.set_password(integer,text)', 'none'),
		('public privileges', 'user_mgmt.set_role(integer,user_mgmt.role)', 'none'),
		('public privileges', 'user_mgmt.set_session_token(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.signing_keys_changed()', 'none'),
		('public privileges', 'user_mgmt.unlock_user(integer)', 'none'),
		('public privileges', 'user_mgmt.users_track_changes()', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_password(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_token(text)', 'EXECUTE'),
		('public privileges', 'users', 'none'),
		('public privileges', 'users_id_seq', 'none'),
		('sequence', 'users_id_seq', 'integer start 1 increment 1 min 1 max 2147483647 cycle f'),
		('table', 'schema_migrations', 'row level security f'),
		('table', 'signing_keys', 'row level security f'),
		('table', 'users', 'row level security f'),
		('trigger', 'signing_keys.signing_keys_changed', 'CREATE TRIGGER signing_keys_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON user_mgmt.signing_keys FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.signing_keys_changed()'),
		('trigger', 'users.users_track_changes', 'CREATE TRIGGER users_track_changes BEFORE UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_track_changes()'),
		('view', 'accounts', ' SELECT u.id,
    u.username,
    u.role,
    u.full_name,
    u.created_at,
    u.updated_at,
    u.is_active,
    u.last_login_at,
    u.failed_login_count,
    u.locked_until,
    u.password_changed_at
   FROM user_mgmt.users u;')
-- END GENERATED 1.2
	) AS t(object_type, object_name, definition);
END;

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.2', '1.3', 'downgrade',
		'Back to 1.2: login state copied into users, audit trail dropped, 1.2''s account functions');
