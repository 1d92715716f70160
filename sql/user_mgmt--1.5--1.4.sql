/*
 * user_mgmt 1.5 -> 1.4: back to version 1.4, which has HS256 keys only.
 *
 * Refused while an EdDSA or ES256 key is unretired (its tokens would stop
 * verifying without anyone having asked for it): make an HS256 key sign
 * with rotate_signing_key('HS256') and retire the others first.  Retired
 * EdDSA and ES256 keys verify nothing and are deleted; every HS256 key,
 * and so every HS256 token, stays.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.4'" to load this file. \quit

DO $$
DECLARE
	active text;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', k.kid, k.algorithm), ', '
								 ORDER BY k.created_at)
	INTO active FROM user_mgmt.signing_keys AS k
	WHERE k.retired_at IS NULL AND k.algorithm OPERATOR(pg_catalog.<>) 'HS256';
	IF active IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'cannot go back to 1.4 while EdDSA or ES256 signing keys are active',
			DETAIL = pg_catalog.format('Version 1.4 has HS256 keys only; these keys are not retired: %s.', active),
			HINT = 'Make an HS256 key sign with SELECT user_mgmt.rotate_signing_key(''HS256''), retire each of these with user_mgmt.retire_signing_key(kid) (their tokens stop verifying), and update again.';
	END IF;
END
$$;

DELETE FROM user_mgmt.signing_keys AS k WHERE k.algorithm OPERATOR(pg_catalog.<>) 'HS256';

/* 1.4's key functions, as user_mgmt--1.1--1.2.sql has them. */

CREATE OR REPLACE FUNCTION user_mgmt.rotate_signing_key()
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_kid text;
BEGIN
	INSERT INTO user_mgmt.signing_keys (kid, secret)
	VALUES (pg_catalog.rtrim(pg_catalog.translate(
				pg_catalog.encode(user_mgmt.random_bytes(12), 'base64'), '+/', '-_'), '='),
			user_mgmt.random_bytes(32))
	RETURNING kid INTO new_kid;
	RETURN new_kid;
END
$$;

COMMENT ON FUNCTION user_mgmt.rotate_signing_key() IS
'Makes a new signing key and returns its kid; older keys keep verifying until retired';

CREATE OR REPLACE FUNCTION user_mgmt.export_signing_key(kid text DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result bytea;
BEGIN
	IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r
			WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = 'only superusers may export signing keys';
	END IF;
	SELECT k.secret INTO result FROM user_mgmt.signing_keys AS k
	WHERE k.retired_at IS NULL
		AND (export_signing_key.kid IS NULL OR k.kid OPERATOR(pg_catalog.=) export_signing_key.kid)
	ORDER BY k.created_at DESC LIMIT 1;
	IF result IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'no_data_found',
			MESSAGE = CASE WHEN kid IS NULL THEN 'there is no active signing key'
				ELSE pg_catalog.format('no active signing key "%s"', kid) END;
	END IF;
	RETURN result;
END
$$;

COMMENT ON FUNCTION user_mgmt.export_signing_key(text) IS
'The secret of a signing key (the current one without an argument), for applications that verify tokens themselves; superusers only';

DROP FUNCTION user_mgmt.import_signing_key(text, text, text);
DROP FUNCTION user_mgmt.public_key_pem(text);
DROP FUNCTION user_mgmt.jwks();
DROP FUNCTION user_mgmt.rotate_signing_key(text);
DROP FUNCTION user_mgmt.new_signing_key_material(text);

ALTER TABLE user_mgmt.signing_keys
	DROP CONSTRAINT signing_keys_material_check,
	DROP CONSTRAINT signing_keys_algorithm_check,
	DROP COLUMN signs_since,
	DROP COLUMN public_key,
	DROP COLUMN algorithm,
	ALTER COLUMN secret SET NOT NULL;

COMMENT ON TABLE user_mgmt.signing_keys IS
'HMAC-SHA256 keys for tokens: the newest unretired key signs, every unretired key verifies';
COMMENT ON COLUMN user_mgmt.signing_keys.secret IS 'The HMAC secret (at least 32 bytes)';
COMMENT ON CONSTRAINT signing_keys_secret_check ON user_mgmt.signing_keys IS
'An HS256 secret has at least 256 bits';

/* check_schema() as 1.1 to 1.4 have it (no 'added'). */
CREATE OR REPLACE FUNCTION user_mgmt.check_schema()
RETURNS TABLE (object_type text, object_name text, problem text,
			   expected text, found text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT COALESCE(e.object_type, f.object_type),
		COALESCE(e.object_name, f.object_name),
		CASE WHEN f.object_name IS NULL THEN 'missing'
			WHEN e.object_name IS NULL THEN 'unexpected'
			ELSE 'changed' END,
		e.definition, f.definition
	FROM user_mgmt.expected_schema_objects() AS e
		FULL JOIN user_mgmt.schema_objects() AS f
		ON e.object_type OPERATOR(pg_catalog.=) f.object_type
		AND e.object_name OPERATOR(pg_catalog.=) f.object_name
	WHERE e.definition IS DISTINCT FROM f.definition
	ORDER BY 1, 2;
END;

COMMENT ON FUNCTION user_mgmt.check_schema() IS
'Differences between the live objects and what the installed version defines (like alembic check); empty when clean';

/* What version 1.4 defines (scripts/expected_schema_objects.sh). */
CREATE OR REPLACE FUNCTION user_mgmt.expected_schema_objects()
RETURNS TABLE (object_type text, object_name text, definition text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM (VALUES
-- BEGIN GENERATED 1.4
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
		('column', 'auth_events.application_name', 'text'),
		('column', 'auth_events.client_addr', 'inet'),
		('column', 'auth_events.detail', 'text'),
		('column', 'auth_events.event', 'text NOT NULL'),
		('column', 'auth_events.id', 'bigint NOT NULL DEFAULT nextval(''user_mgmt.auth_events_id_seq''::regclass)'),
		('column', 'auth_events.occurred_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'auth_events.user_id', 'integer'),
		('column', 'auth_events.username', 'text'),
		('column', 'login_state.confirmed', 'bigint NOT NULL DEFAULT 0'),
		('column', 'login_state.erased', 'bigint NOT NULL DEFAULT 0'),
		('column', 'login_state.last_attempt_at', 'timestamp with time zone'),
		('column', 'login_state.last_login_at', 'timestamp with time zone'),
		('column', 'login_state.locked_until', 'timestamp with time zone'),
		('column', 'login_state.pending', 'integer NOT NULL DEFAULT 0'),
		('column', 'login_state.user_id', 'integer NOT NULL'),
		('column', 'refresh_tokens.issued_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'refresh_tokens.session_id', 'uuid NOT NULL'),
		('column', 'refresh_tokens.token_hash', 'bytea NOT NULL'),
		('column', 'refresh_tokens.used_at', 'timestamp with time zone'),
		('column', 'schema_migrations.applied_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'schema_migrations.applied_by', 'name NOT NULL DEFAULT CURRENT_USER'),
		('column', 'schema_migrations.description', 'text NOT NULL'),
		('column', 'schema_migrations.direction', 'text NOT NULL'),
		('column', 'schema_migrations.previous_version', 'text'),
		('column', 'schema_migrations.version', 'text NOT NULL'),
		('column', 'sessions.client_addr', 'inet'),
		('column', 'sessions.created_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'sessions.expires_at', 'timestamp with time zone NOT NULL'),
		('column', 'sessions.id', 'uuid NOT NULL'),
		('column', 'sessions.origin', 'text NOT NULL'),
		('column', 'sessions.refreshed_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'sessions.revoke_reason', 'text'),
		('column', 'sessions.revoked_at', 'timestamp with time zone'),
		('column', 'sessions.session_epoch', 'bigint NOT NULL'),
		('column', 'sessions.user_agent', 'text'),
		('column', 'sessions.user_id', 'integer NOT NULL'),
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
		('column', 'users.session_epoch', 'bigint NOT NULL DEFAULT 0'),
		('column', 'users.updated_at', 'timestamp with time zone NOT NULL DEFAULT now()'),
		('column', 'users.username', 'character varying(20) NOT NULL'),
		('constraint', 'auth_events.auth_events_event_check', 'CHECK ((event = ANY (ARRAY[''login_ok''::text, ''login_failed''::text, ''locked''::text, ''unlocked''::text, ''password_changed''::text, ''role_changed''::text, ''activated''::text, ''deactivated''::text, ''user_created''::text, ''user_deleted''::text, ''session_revoked''::text, ''refresh_token_reused''::text])))'),
		('constraint', 'auth_events.auth_events_pkey', 'PRIMARY KEY (id)'),
		('constraint', 'auth_events.auth_events_username_check', 'CHECK ((length(username) <= 64))'),
		('constraint', 'login_state.login_state_counts_check', 'CHECK (((pending >= 0) AND (erased >= 0) AND (erased <= confirmed)))'),
		('constraint', 'login_state.login_state_pkey', 'PRIMARY KEY (user_id)'),
		('constraint', 'refresh_tokens.refresh_tokens_pkey', 'PRIMARY KEY (token_hash)'),
		('constraint', 'refresh_tokens.refresh_tokens_token_hash_check', 'CHECK ((octet_length(token_hash) = 32))'),
		('constraint', 'schema_migrations.schema_migrations_direction_check', 'CHECK ((direction = ANY (ARRAY[''install''::text, ''upgrade''::text, ''downgrade''::text])))'),
		('constraint', 'schema_migrations.schema_migrations_pkey', 'PRIMARY KEY (applied_at)'),
		('constraint', 'schema_migrations.schema_migrations_previous_version_check', 'CHECK (((direction = ''install''::text) = (previous_version IS NULL)))'),
		('constraint', 'sessions.sessions_origin_check', 'CHECK ((origin = ANY (ARRAY[''login''::text, ''sign_in''::text, ''issue_token''::text])))'),
		('constraint', 'sessions.sessions_pkey', 'PRIMARY KEY (id)'),
		('constraint', 'sessions.sessions_revoke_reason_check', 'CHECK ((revoke_reason = ANY (ARRAY[''logout''::text, ''logout_all''::text, ''revoked''::text, ''session_limit''::text, ''refresh_token_reused''::text, ''password_changed''::text, ''role_changed''::text, ''deactivated''::text, ''user_deleted''::text, ''account_changed''::text])))'),
		('constraint', 'sessions.sessions_revoked_check', 'CHECK (((revoked_at IS NULL) = (revoke_reason IS NULL)))'),
		('constraint', 'sessions.sessions_user_agent_check', 'CHECK ((length(user_agent) <= 512))'),
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
		('extension member', 'function user_mgmt.await_login_writer()', 'member'),
		('extension member', 'function user_mgmt.change_password(text,text,text)', 'member'),
		('extension member', 'function user_mgmt.check_full_name(text)', 'member'),
		('extension member', 'function user_mgmt.check_password_policy(text)', 'member'),
		('extension member', 'function user_mgmt.check_schema()', 'member'),
		('extension member', 'function user_mgmt.check_username(text)', 'member'),
		('extension member', 'function user_mgmt.create_user(text,text,text,user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.current_session_id()', 'member'),
		('extension member', 'function user_mgmt.current_user_id()', 'member'),
		('extension member', 'function user_mgmt.current_user_role()', 'member'),
		('extension member', 'function user_mgmt.current_version()', 'member'),
		('extension member', 'function user_mgmt.delete_user(integer)', 'member'),
		('extension member', 'function user_mgmt.dummy_password_hash()', 'member'),
		('extension member', 'function user_mgmt.expected_schema_objects()', 'member'),
		('extension member', 'function user_mgmt.export_signing_key(text)', 'member'),
		('extension member', 'function user_mgmt.hash_cost(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text,integer)', 'member'),
		('extension member', 'function user_mgmt.is_login_writer()', 'member'),
		('extension member', 'function user_mgmt.is_password_hash(text)', 'member'),
		('extension member', 'function user_mgmt.issue_token(integer)', 'member'),
		('extension member', 'function user_mgmt.issue_token(integer,interval)', 'member'),
		('extension member', 'function user_mgmt.login(text,text)', 'member'),
		('extension member', 'function user_mgmt.login_guard_complete(integer,bigint,boolean,text,integer,interval,text,inet,text,boolean)', 'member'),
		('extension member', 'function user_mgmt.login_guard_mirror(integer)', 'member'),
		('extension member', 'function user_mgmt.login_guard_recover()', 'member'),
		('extension member', 'function user_mgmt.login_guard_rehash(integer,text,text)', 'member'),
		('extension member', 'function user_mgmt.login_guard_reserve(integer,integer,interval,text,inet,text)', 'member'),
		('extension member', 'function user_mgmt.login_guard_unlock(integer,text,inet,text)', 'member'),
		('extension member', 'function user_mgmt.login_statistics()', 'member'),
		('extension member', 'function user_mgmt.logout()', 'member'),
		('extension member', 'function user_mgmt.logout(text)', 'member'),
		('extension member', 'function user_mgmt.logout_all()', 'member'),
		('extension member', 'function user_mgmt.logout_all(integer)', 'member'),
		('extension member', 'function user_mgmt.migration_history()', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text)', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text,integer)', 'member'),
		('extension member', 'function user_mgmt.pending_versions()', 'member'),
		('extension member', 'function user_mgmt.prune_auth_events(interval)', 'member'),
		('extension member', 'function user_mgmt.prune_sessions(interval)', 'member'),
		('extension member', 'function user_mgmt.public_privileges(aclitem[])', 'member'),
		('extension member', 'function user_mgmt.random_bytes(integer)', 'member'),
		('extension member', 'function user_mgmt.record_auth_event(text,integer,text,text,inet,text)', 'member'),
		('extension member', 'function user_mgmt.refresh(text)', 'member'),
		('extension member', 'function user_mgmt.require_user(integer)', 'member'),
		('extension member', 'function user_mgmt.retire_signing_key(text)', 'member'),
		('extension member', 'function user_mgmt.revoke_session(uuid)', 'member'),
		('extension member', 'function user_mgmt.role_from_label(text)', 'member'),
		('extension member', 'function user_mgmt.role_label(user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.role_labels()', 'member'),
		('extension member', 'function user_mgmt.rotate_signing_key()', 'member'),
		('extension member', 'function user_mgmt.schema_objects()', 'member'),
		('extension member', 'function user_mgmt.session_caches_changed()', 'member'),
		('extension member', 'function user_mgmt.session_end(uuid,integer,text,text,inet,text)', 'member'),
		('extension member', 'function user_mgmt.session_open(uuid,integer,bigint,text,bytea,interval,interval,interval,integer,text,inet,text,inet,text)', 'member'),
		('extension member', 'function user_mgmt.session_refresh(bytea,bytea,interval,inet,text)', 'member'),
		('extension member', 'function user_mgmt.session_revoke(uuid,bytea,integer,text,interval,inet,text)', 'member'),
		('extension member', 'function user_mgmt.set_active(integer,boolean)', 'member'),
		('extension member', 'function user_mgmt.set_password(integer,text)', 'member'),
		('extension member', 'function user_mgmt.set_role(integer,user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.set_session_token(text)', 'member'),
		('extension member', 'function user_mgmt.sign_in(text,text,text,inet)', 'member'),
		('extension member', 'function user_mgmt.sign_up(text,text,text)', 'member'),
		('extension member', 'function user_mgmt.signing_keys_changed()', 'member'),
		('extension member', 'function user_mgmt.stop_login_writer()', 'member'),
		('extension member', 'function user_mgmt.unlock_user(integer)', 'member'),
		('extension member', 'function user_mgmt.users_audit()', 'member'),
		('extension member', 'function user_mgmt.users_end_sessions()', 'member'),
		('extension member', 'function user_mgmt.users_protect_login_state()', 'member'),
		('extension member', 'function user_mgmt.users_session_epoch()', 'member'),
		('extension member', 'function user_mgmt.users_track_changes()', 'member'),
		('extension member', 'function user_mgmt.verify_password(text,text)', 'member'),
		('extension member', 'function user_mgmt.verify_token(text)', 'member'),
		('extension member', 'sequence user_mgmt.auth_events_id_seq', 'member'),
		('extension member', 'sequence user_mgmt.users_id_seq', 'member'),
		('extension member', 'table user_mgmt.auth_events', 'member'),
		('extension member', 'table user_mgmt.login_state', 'member'),
		('extension member', 'table user_mgmt.refresh_tokens', 'member'),
		('extension member', 'table user_mgmt.schema_migrations', 'member'),
		('extension member', 'table user_mgmt.sessions', 'member'),
		('extension member', 'table user_mgmt.signing_keys', 'member'),
		('extension member', 'table user_mgmt.users', 'member'),
		('extension member', 'type user_mgmt.role', 'member'),
		('extension member', 'view user_mgmt.accounts', 'member'),
		('function', 'user_mgmt.authenticate(text,text)', 'md5 4e82e5fb6d97aedf358db97f97d9e32c'),
		('function', 'user_mgmt.await_login_writer()', 'md5 beb641e8e720fb4b6437dfbda828a3f0'),
		('function', 'user_mgmt.change_password(text,text,text)', 'md5 94b0d29b1135250e4b663431376495f3'),
		('function', 'user_mgmt.check_full_name(text)', 'md5 def08d8612b77970086b4a79ca1ed13f'),
		('function', 'user_mgmt.check_password_policy(text)', 'md5 42707a3df506f73e1396a882629ef556'),
		('function', 'user_mgmt.check_schema()', 'md5 460444ad3f537dfe85539dff11ad56d5'),
		('function', 'user_mgmt.check_username(text)', 'md5 61751d297b7f631b1e8e4b3b199c6d06'),
		('function', 'user_mgmt.create_user(text,text,text,user_mgmt.role)', 'md5 50b0ef898962cac9b056a55769f55511'),
		('function', 'user_mgmt.current_session_id()', 'md5 fd9045350e4798ede4b6df78e114aec8'),
		('function', 'user_mgmt.current_user_id()', 'md5 620a939bf79a5cfe92a87d8469c437e5'),
		('function', 'user_mgmt.current_user_role()', 'md5 f26f8b48f8321156bd85219862db1db2'),
		('function', 'user_mgmt.current_version()', 'md5 124da90e0b53fb9d2c1674bdd24d4d70'),
		('function', 'user_mgmt.delete_user(integer)', 'md5 f0d4e1d3d58c4bccec20212d0df25ac2'),
		('function', 'user_mgmt.dummy_password_hash()', 'md5 9cbb68a99ccf239b317a501658052a1e'),
		('function', 'user_mgmt.export_signing_key(text)', 'md5 6715f3dbc816494cad401a9b81c58384'),
		('function', 'user_mgmt.hash_cost(text)', 'md5 11f6282c7e784e1acb395d7abcd305c8'),
		('function', 'user_mgmt.hash_password(text)', 'md5 05f314c79c3d52978568ee29f7a117d0'),
		('function', 'user_mgmt.hash_password(text,integer)', 'md5 7be0790d23d582bb23eb608decb1cced'),
		('function', 'user_mgmt.is_login_writer()', 'md5 fa7a86b98011b7df75ae4d0ec8877618'),
		('function', 'user_mgmt.is_password_hash(text)', 'md5 23c754e0bbde61790907ccf6780b56be'),
		('function', 'user_mgmt.issue_token(integer)', 'md5 f8e0119cf23e96f8b425f4bcbc8ef40b'),
		('function', 'user_mgmt.issue_token(integer,interval)', 'md5 e44b63085d8d785e5dd29dd5b821a4e1'),
		('function', 'user_mgmt.login(text,text)', 'md5 e9b05c697993c74d74a5b476a85e4c2b'),
		('function', 'user_mgmt.login_guard_complete(integer,bigint,boolean,text,integer,interval,text,inet,text,boolean)', 'md5 a737a348544cac8d2106719f0788cf4f'),
		('function', 'user_mgmt.login_guard_mirror(integer)', 'md5 8b9256e13a18eb799be16e1cb1f4184b'),
		('function', 'user_mgmt.login_guard_recover()', 'md5 1971e54bfd3a65ea4d150d9cea99ccc0'),
		('function', 'user_mgmt.login_guard_rehash(integer,text,text)', 'md5 0ba120136dc23077c2177ed193298180'),
		('function', 'user_mgmt.login_guard_reserve(integer,integer,interval,text,inet,text)', 'md5 aeed17ae71f051bc9261bf825944c778'),
		('function', 'user_mgmt.login_guard_unlock(integer,text,inet,text)', 'md5 e7c9b48012f3f1a134baff9d54e482b9'),
		('function', 'user_mgmt.login_statistics()', 'md5 1f19accf258726b3758173f73b645d03'),
		('function', 'user_mgmt.logout()', 'md5 c99dcfe4537a7cee86a29ffdfa3c2a85'),
		('function', 'user_mgmt.logout(text)', 'md5 45506f681112f639705378defeec9eef'),
		('function', 'user_mgmt.logout_all()', 'md5 a7dad1b00de7102696d3b825d585e507'),
		('function', 'user_mgmt.logout_all(integer)', 'md5 12c2d6402b85520213c3ad05d04d7f38'),
		('function', 'user_mgmt.migration_history()', 'md5 37186625b6783a283b1c2f91c46a84f5'),
		('function', 'user_mgmt.password_needs_rehash(text)', 'md5 baa6914ffc90d557d987ee4ac5a591a9'),
		('function', 'user_mgmt.password_needs_rehash(text,integer)', 'md5 c054ad3073aeb69253efa987ce534a47'),
		('function', 'user_mgmt.pending_versions()', 'md5 e5b625c57d57d68640760c13a691cb03'),
		('function', 'user_mgmt.prune_auth_events(interval)', 'md5 551ea4a3a0b0445096d20aa556e4cef8'),
		('function', 'user_mgmt.prune_sessions(interval)', 'md5 033a873c016c74387b13d2bf257c3ead'),
		('function', 'user_mgmt.public_privileges(aclitem[])', 'md5 9f24b15b6dc60858f9a21621291de743'),
		('function', 'user_mgmt.random_bytes(integer)', 'md5 940ee5cd5b1be97c94284a2f3d0ba93e'),
		('function', 'user_mgmt.record_auth_event(text,integer,text,text,inet,text)', 'md5 e10160a4bfd4597278af8a3f96506493'),
		('function', 'user_mgmt.refresh(text)', 'md5 395b2bbd88bddac55910381729b0f8d8'),
		('function', 'user_mgmt.require_user(integer)', 'md5 b3f2804b1307ffd8e3b928f974a8a721'),
		('function', 'user_mgmt.retire_signing_key(text)', 'md5 42b1913dc5f564cbff98ebdc184b6866'),
		('function', 'user_mgmt.revoke_session(uuid)', 'md5 629346c78231d0e01cbf2586ffed817b'),
		('function', 'user_mgmt.role_from_label(text)', 'md5 5b1907cdd9ae50a7edd6cd536032cf4f'),
		('function', 'user_mgmt.role_label(user_mgmt.role)', 'md5 3731e0c6b3e97401e09cce2f35f77a48'),
		('function', 'user_mgmt.role_labels()', 'md5 3ca47398b9e6416136341ace28566aee'),
		('function', 'user_mgmt.rotate_signing_key()', 'md5 1811064893963e6a18527d3c72180f10'),
		('function', 'user_mgmt.schema_objects()', 'md5 3596a57b0d208fdf04859c216fca4c07'),
		('function', 'user_mgmt.session_caches_changed()', 'md5 18ad88c3ce61f426419dc631835418b1'),
		('function', 'user_mgmt.session_end(uuid,integer,text,text,inet,text)', 'md5 3c1947d4b1b8bee475b725a22f5201be'),
		('function', 'user_mgmt.session_open(uuid,integer,bigint,text,bytea,interval,interval,interval,integer,text,inet,text,inet,text)', 'md5 ed5bcd610ac0a17fa2cdc59484c9a452'),
		('function', 'user_mgmt.session_refresh(bytea,bytea,interval,inet,text)', 'md5 e92382912c453203eaaf035f81b41fe6'),
		('function', 'user_mgmt.session_revoke(uuid,bytea,integer,text,interval,inet,text)', 'md5 fc1c0be8cb71c48110993a54a760e3db'),
		('function', 'user_mgmt.set_active(integer,boolean)', 'md5 d0f178e4a063f824fbf915ac9d941c6e'),
		('function', 'user_mgmt.set_password(integer,text)', 'md5 d923f0a623ed6a9e1b83f51f296606b2'),
		('function', 'user_mgmt.set_role(integer,user_mgmt.role)', 'md5 7250d3ae1df85f1cc7e1c3508f26a153'),
		('function', 'user_mgmt.set_session_token(text)', 'md5 36b53c564e97951698f90a3621bdb797'),
		('function', 'user_mgmt.sign_in(text,text,text,inet)', 'md5 e8c7f0444fa6ab34934dcf321947f885'),
		('function', 'user_mgmt.sign_up(text,text,text)', 'md5 a68223bf9b4d73b08795846dfc122a20'),
		('function', 'user_mgmt.signing_keys_changed()', 'md5 bf25ffb15a0570542ac605acf0091007'),
		('function', 'user_mgmt.stop_login_writer()', 'md5 4fc5228616d1b0d65c0eb6d6cd2101a0'),
		('function', 'user_mgmt.unlock_user(integer)', 'md5 18a19d823a64927b811cc4b0621f5f24'),
		('function', 'user_mgmt.users_audit()', 'md5 f8fe68536a82116a23bf0af1478f54c0'),
		('function', 'user_mgmt.users_end_sessions()', 'md5 6868e3ed9c1a46caf4560565487425e4'),
		('function', 'user_mgmt.users_protect_login_state()', 'md5 04cfaabfbf4e76091ef8956f3a82413f'),
		('function', 'user_mgmt.users_session_epoch()', 'md5 48bd28fa18b84200499b7adfd9ed74d0'),
		('function', 'user_mgmt.users_track_changes()', 'md5 e72fdbbf6ba0395400cc84f32bef9d4a'),
		('function', 'user_mgmt.verify_password(text,text)', 'md5 38bb68be68cb347972e5167ae3b9541b'),
		('function', 'user_mgmt.verify_token(text)', 'md5 ca6a10bf4f7ec751032571f5d5fac7cf'),
		('index', 'auth_events_occurred_at_idx', 'CREATE INDEX auth_events_occurred_at_idx ON user_mgmt.auth_events USING btree (occurred_at)'),
		('index', 'auth_events_pkey', 'CREATE UNIQUE INDEX auth_events_pkey ON user_mgmt.auth_events USING btree (id)'),
		('index', 'auth_events_user_id_idx', 'CREATE INDEX auth_events_user_id_idx ON user_mgmt.auth_events USING btree (user_id, occurred_at)'),
		('index', 'login_state_pkey', 'CREATE UNIQUE INDEX login_state_pkey ON user_mgmt.login_state USING btree (user_id)'),
		('index', 'refresh_tokens_pkey', 'CREATE UNIQUE INDEX refresh_tokens_pkey ON user_mgmt.refresh_tokens USING btree (token_hash)'),
		('index', 'refresh_tokens_session_id_idx', 'CREATE INDEX refresh_tokens_session_id_idx ON user_mgmt.refresh_tokens USING btree (session_id)'),
		('index', 'schema_migrations_pkey', 'CREATE UNIQUE INDEX schema_migrations_pkey ON user_mgmt.schema_migrations USING btree (applied_at)'),
		('index', 'sessions_pkey', 'CREATE UNIQUE INDEX sessions_pkey ON user_mgmt.sessions USING btree (id)'),
		('index', 'sessions_user_id_idx', 'CREATE INDEX sessions_user_id_idx ON user_mgmt.sessions USING btree (user_id, created_at)'),
		('index', 'signing_keys_pkey', 'CREATE UNIQUE INDEX signing_keys_pkey ON user_mgmt.signing_keys USING btree (kid)'),
		('index', 'users_pkey', 'CREATE UNIQUE INDEX users_pkey ON user_mgmt.users USING btree (id)'),
		('index', 'users_username_key', 'CREATE UNIQUE INDEX users_username_key ON user_mgmt.users USING btree (username)'),
		('index', 'users_username_lower_key', 'CREATE UNIQUE INDEX users_username_lower_key ON user_mgmt.users USING btree (lower(((username)::text COLLATE "und-x-icu")))'),
		('public privileges', 'accounts', 'none'),
		('public privileges', 'auth_events', 'none'),
		('public privileges', 'auth_events_id_seq', 'none'),
		('public privileges', 'login_state', 'none'),
		('public privileges', 'refresh_tokens', 'none'),
		('public privileges', 'schema user_mgmt', 'USAGE'),
		('public privileges', 'schema_migrations', 'none'),
		('public privileges', 'sessions', 'none'),
		('public privileges', 'signing_keys', 'none'),
		('public privileges', 'user_mgmt.authenticate(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.await_login_writer()', 'none'),
		('public privileges', 'user_mgmt.change_password(text,text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_full_name(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_password_policy(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_schema()', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_username(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.create_user(text,text,text,user_mgmt.role)', 'none'),
		('public privileges', 'user_mgmt.current_session_id()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_user_id()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_user_role()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_version()', 'EXECUTE'),
		('public privileges', 'user_mgmt.delete_user(integer)', 'none'),
		('public privileges', 'user_mgmt.dummy_password_hash()', 'EXECUTE'),
		('public privileges', 'user_mgmt.export_signing_key(text)', 'none'),
		('public privileges', 'user_mgmt.hash_cost(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.is_login_writer()', 'none'),
		('public privileges', 'user_mgmt.is_password_hash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.issue_token(integer)', 'none'),
		('public privileges', 'user_mgmt.issue_token(integer,interval)', 'none'),
		('public privileges', 'user_mgmt.login(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.login_guard_complete(integer,bigint,boolean,text,integer,interval,text,inet,text,boolean)', 'none'),
		('public privileges', 'user_mgmt.login_guard_mirror(integer)', 'none'),
		('public privileges', 'user_mgmt.login_guard_recover()', 'none'),
		('public privileges', 'user_mgmt.login_guard_rehash(integer,text,text)', 'none'),
		('public privileges', 'user_mgmt.login_guard_reserve(integer,integer,interval,text,inet,text)', 'none'),
		('public privileges', 'user_mgmt.login_guard_unlock(integer,text,inet,text)', 'none'),
		('public privileges', 'user_mgmt.login_statistics()', 'none'),
		('public privileges', 'user_mgmt.logout()', 'EXECUTE'),
		('public privileges', 'user_mgmt.logout(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.logout_all()', 'EXECUTE'),
		('public privileges', 'user_mgmt.logout_all(integer)', 'none'),
		('public privileges', 'user_mgmt.migration_history()', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.pending_versions()', 'EXECUTE'),
		('public privileges', 'user_mgmt.prune_auth_events(interval)', 'none'),
		('public privileges', 'user_mgmt.prune_sessions(interval)', 'none'),
		('public privileges', 'user_mgmt.public_privileges(aclitem[])', 'EXECUTE'),
		('public privileges', 'user_mgmt.random_bytes(integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.record_auth_event(text,integer,text,text,inet,text)', 'none'),
		('public privileges', 'user_mgmt.refresh(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.require_user(integer)', 'none'),
		('public privileges', 'user_mgmt.retire_signing_key(text)', 'none'),
		('public privileges', 'user_mgmt.revoke_session(uuid)', 'none'),
		('public privileges', 'user_mgmt.role_from_label(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_label(user_mgmt.role)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_labels()', 'EXECUTE'),
		('public privileges', 'user_mgmt.rotate_signing_key()', 'none'),
		('public privileges', 'user_mgmt.schema_objects()', 'EXECUTE'),
		('public privileges', 'user_mgmt.session_caches_changed()', 'EXECUTE'),
		('public privileges', 'user_mgmt.session_end(uuid,integer,text,text,inet,text)', 'none'),
		('public privileges', 'user_mgmt.session_open(uuid,integer,bigint,text,bytea,interval,interval,interval,integer,text,inet,text,inet,text)', 'none'),
		('public privileges', 'user_mgmt.session_refresh(bytea,bytea,interval,inet,text)', 'none'),
		('public privileges', 'user_mgmt.session_revoke(uuid,bytea,integer,text,interval,inet,text)', 'none'),
		('public privileges', 'user_mgmt.set_active(integer,boolean)', 'none'),
		('public privileges', 'user_mgmt.set_password(integer,text)', 'none'),
		('public privileges', 'user_mgmt.set_role(integer,user_mgmt.role)', 'none'),
		('public privileges', 'user_mgmt.set_session_token(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.sign_in(text,text,text,inet)', 'EXECUTE'),
		('public privileges', 'user_mgmt.sign_up(text,text,text)', 'none'),
		('public privileges', 'user_mgmt.signing_keys_changed()', 'none'),
		('public privileges', 'user_mgmt.stop_login_writer()', 'none'),
		('public privileges', 'user_mgmt.unlock_user(integer)', 'none'),
		('public privileges', 'user_mgmt.users_audit()', 'none'),
		('public privileges', 'user_mgmt.users_end_sessions()', 'none'),
		('public privileges', 'user_mgmt.users_protect_login_state()', 'EXECUTE'),
		('public privileges', 'user_mgmt.users_session_epoch()', 'EXECUTE'),
		('public privileges', 'user_mgmt.users_track_changes()', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_password(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_token(text)', 'EXECUTE'),
		('public privileges', 'users', 'none'),
		('public privileges', 'users_id_seq', 'none'),
		('sequence', 'auth_events_id_seq', 'bigint start 1 increment 1 min 1 max 9223372036854775807 cycle f'),
		('sequence', 'users_id_seq', 'integer start 1 increment 1 min 1 max 2147483647 cycle f'),
		('table', 'auth_events', 'row level security f'),
		('table', 'login_state', 'row level security f'),
		('table', 'refresh_tokens', 'row level security f'),
		('table', 'schema_migrations', 'row level security f'),
		('table', 'sessions', 'row level security f'),
		('table', 'signing_keys', 'row level security f'),
		('table', 'users', 'row level security f'),
		('trigger', 'sessions.sessions_caches_delete', 'CREATE TRIGGER sessions_caches_delete AFTER DELETE OR TRUNCATE ON user_mgmt.sessions FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.session_caches_changed()'),
		('trigger', 'sessions.sessions_caches_update', 'CREATE TRIGGER sessions_caches_update AFTER UPDATE ON user_mgmt.sessions FOR EACH ROW WHEN (((old.revoked_at IS DISTINCT FROM new.revoked_at) OR (old.expires_at IS DISTINCT FROM new.expires_at) OR (old.user_id IS DISTINCT FROM new.user_id) OR (old.session_epoch IS DISTINCT FROM new.session_epoch) OR (old.id IS DISTINCT FROM new.id))) EXECUTE FUNCTION user_mgmt.session_caches_changed()'),
		('trigger', 'signing_keys.signing_keys_changed', 'CREATE TRIGGER signing_keys_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON user_mgmt.signing_keys FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.signing_keys_changed()'),
		('trigger', 'users.users_audit', 'CREATE TRIGGER users_audit AFTER DELETE OR UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_audit()'),
		('trigger', 'users.users_caches_delete', 'CREATE TRIGGER users_caches_delete AFTER DELETE OR TRUNCATE ON user_mgmt.users FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.session_caches_changed()'),
		('trigger', 'users.users_caches_update', 'CREATE TRIGGER users_caches_update AFTER UPDATE ON user_mgmt.users FOR EACH ROW WHEN (((old.session_epoch IS DISTINCT FROM new.session_epoch) OR (old.id IS DISTINCT FROM new.id))) EXECUTE FUNCTION user_mgmt.session_caches_changed()'),
		('trigger', 'users.users_end_sessions', 'CREATE TRIGGER users_end_sessions AFTER UPDATE ON user_mgmt.users FOR EACH ROW WHEN ((old.session_epoch IS DISTINCT FROM new.session_epoch)) EXECUTE FUNCTION user_mgmt.users_end_sessions()'),
		('trigger', 'users.users_end_sessions_delete', 'CREATE TRIGGER users_end_sessions_delete AFTER DELETE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_end_sessions()'),
		('trigger', 'users.users_end_sessions_truncate', 'CREATE TRIGGER users_end_sessions_truncate AFTER TRUNCATE ON user_mgmt.users FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.users_end_sessions()'),
		('trigger', 'users.users_protect_login_state', 'CREATE TRIGGER users_protect_login_state BEFORE UPDATE OF failed_login_count, locked_until ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_protect_login_state()'),
		('trigger', 'users.users_session_epoch', 'CREATE TRIGGER users_session_epoch BEFORE UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_session_epoch()'),
		('trigger', 'users.users_track_changes', 'CREATE TRIGGER users_track_changes BEFORE UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_track_changes()'),
		('view', 'accounts', ' SELECT u.id,
    u.username,
    u.role,
    u.full_name,
    u.created_at,
    u.updated_at,
    u.is_active,
    COALESCE(s.last_login_at, u.last_login_at) AS last_login_at,
    COALESCE(((s.confirmed - s.erased))::integer, u.failed_login_count) AS failed_login_count,
        CASE
            WHEN (s.user_id IS NULL) THEN u.locked_until
            ELSE s.locked_until
        END AS locked_until,
    u.password_changed_at
   FROM (user_mgmt.users u
     LEFT JOIN user_mgmt.login_state s ON ((s.user_id = u.id)));')
-- END GENERATED 1.4
	) AS t(object_type, object_name, definition);
END;

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.4', '1.5', 'downgrade',
		'Back to 1.4: HS256 keys only (retired EdDSA and ES256 keys deleted)');
