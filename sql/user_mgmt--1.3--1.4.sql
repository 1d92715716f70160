/*
 * user_mgmt 1.3 -> 1.4: sessions, refresh tokens and revocation that takes
 * effect at the very next verification, in every backend.
 *
 * Every token now belongs to a session (its sid claim).  Sessions are
 * opened, refreshed and revoked by the database's login writer, in
 * transactions of its own, so that no caller's rollback undoes a refresh
 * token's rotation or a logout; a change of password, role or activation
 * ends a user's sessions in the transaction that makes it.  Verification
 * checks the session and the account through a per-backend cache that a
 * trigger empties on every change that matters (src/session_cache.c).
 *
 * The way back is user_mgmt--1.4--1.3.sql.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.4'" to load this file. \quit

/* ---------------------------------------------------------------------
 * The account's session epoch: moved by every change of the password,
 * role or activation, in the changing transaction.  A session remembers
 * the epoch its login saw; one opened under an older epoch never verifies,
 * even if it was committed beside the change.
 * --------------------------------------------------------------------- */

ALTER TABLE user_mgmt.users ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0;

COMMENT ON COLUMN user_mgmt.users.session_epoch IS
'Moved on by every change of the password, role or activation (trigger users_session_epoch); sessions opened under an older epoch no longer verify';

CREATE FUNCTION user_mgmt.users_session_epoch()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.session_epoch IS DISTINCT FROM OLD.session_epoch THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'session_epoch is kept by user_mgmt',
			DETAIL = 'It moves by itself when the password, role or activation changes.',
			HINT = 'To end a user''s sessions, use user_mgmt.logout_all(user_id).';
	END IF;
	-- The login writer's new hash of the same password is no password change.
	IF NEW.role IS DISTINCT FROM OLD.role
		OR NEW.is_active IS DISTINCT FROM OLD.is_active
		OR (NEW.hashed_password IS DISTINCT FROM OLD.hashed_password
			AND NOT user_mgmt.is_login_writer()) THEN
		NEW.session_epoch := OLD.session_epoch OPERATOR(pg_catalog.+) 1;
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION user_mgmt.users_session_epoch() IS
'Trigger function: moves session_epoch on a change of password, role or activation, and refuses to let it be set by hand';

CREATE TRIGGER users_session_epoch
	BEFORE UPDATE ON user_mgmt.users
	FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_session_epoch();

COMMENT ON TRIGGER users_session_epoch ON user_mgmt.users IS
'Moves session_epoch when the password, role or activation changes';

/* ---------------------------------------------------------------------
 * Sessions and their refresh tokens.  No foreign keys: the login writer
 * writes both and must never wait on a lock a caller holds.
 * --------------------------------------------------------------------- */

CREATE TABLE user_mgmt.sessions (
	id uuid NOT NULL,
	user_id integer NOT NULL,
	session_epoch bigint NOT NULL,
	origin text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	refreshed_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz,
	revoke_reason text,
	user_agent text,
	client_addr inet,
	CONSTRAINT sessions_pkey PRIMARY KEY (id),
	CONSTRAINT sessions_origin_check
		CHECK (origin OPERATOR(pg_catalog.=) ANY (ARRAY['login', 'sign_in', 'issue_token'])),
	CONSTRAINT sessions_revoked_check
		CHECK ((revoked_at IS NULL) OPERATOR(pg_catalog.=) (revoke_reason IS NULL)),
	CONSTRAINT sessions_revoke_reason_check CHECK (revoke_reason OPERATOR(pg_catalog.=) ANY (ARRAY[
		'logout', 'logout_all', 'revoked', 'session_limit', 'refresh_token_reused',
		'password_changed', 'role_changed', 'deactivated', 'user_deleted', 'account_changed'])),
	CONSTRAINT sessions_user_agent_check
		CHECK (pg_catalog.length(user_agent) OPERATOR(pg_catalog.<=) 512)
);

CREATE INDEX sessions_user_id_idx ON user_mgmt.sessions (user_id, created_at);

COMMENT ON TABLE user_mgmt.sessions IS
'Login sessions: every token names one (its sid claim) and stops verifying when it ends; written by the login writer and by the triggers on users';
COMMENT ON COLUMN user_mgmt.sessions.id IS 'The session id, the sid claim of its tokens';
COMMENT ON COLUMN user_mgmt.sessions.user_id IS 'The account (no foreign key: the login writer must never wait on a user''s row)';
COMMENT ON COLUMN user_mgmt.sessions.session_epoch IS
'users.session_epoch when the session was opened; a different one now means the account changed since';
COMMENT ON COLUMN user_mgmt.sessions.origin IS
'login (an access token only), sign_in (with refresh tokens) or issue_token';
COMMENT ON COLUMN user_mgmt.sessions.created_at IS 'When the session was opened';
COMMENT ON COLUMN user_mgmt.sessions.refreshed_at IS
'When a refresh token of the session was last used (created_at until then); the idle timeout counts from here';
COMMENT ON COLUMN user_mgmt.sessions.expires_at IS
'The session ends at this time whatever happens (sign_in: user_mgmt.session_lifetime; login and issue_token: the token''s expiry)';
COMMENT ON COLUMN user_mgmt.sessions.revoked_at IS 'When the session was ended before its time; NULL while it is not';
COMMENT ON COLUMN user_mgmt.sessions.revoke_reason IS
'Why: logout, logout_all, revoked (revoke_session), session_limit, refresh_token_reused, password_changed, role_changed, deactivated, user_deleted or account_changed';
COMMENT ON COLUMN user_mgmt.sessions.user_agent IS 'The user agent given to sign_in (its first 512 characters)';
COMMENT ON COLUMN user_mgmt.sessions.client_addr IS
'The client address given to sign_in, else inet_client_addr() of the session that opened it';
COMMENT ON CONSTRAINT sessions_pkey ON user_mgmt.sessions IS 'One row per session id';
COMMENT ON INDEX user_mgmt.sessions_pkey IS 'Index of the primary key sessions_pkey';
COMMENT ON CONSTRAINT sessions_origin_check ON user_mgmt.sessions IS 'Known origins only';
COMMENT ON CONSTRAINT sessions_revoked_check ON user_mgmt.sessions IS
'A revoked session says why, and only a revoked one does';
COMMENT ON CONSTRAINT sessions_revoke_reason_check ON user_mgmt.sessions IS 'Known reasons only';
COMMENT ON CONSTRAINT sessions_user_agent_check ON user_mgmt.sessions IS
'User agents are kept cut to 512 characters';
COMMENT ON INDEX user_mgmt.sessions_user_id_idx IS 'An account''s sessions, oldest first (logout_all, the session cap)';

REVOKE ALL ON TABLE user_mgmt.sessions FROM PUBLIC;

CREATE TABLE user_mgmt.refresh_tokens (
	token_hash bytea NOT NULL,
	session_id uuid NOT NULL,
	issued_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	used_at timestamptz,
	CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
	CONSTRAINT refresh_tokens_token_hash_check
		CHECK (pg_catalog.octet_length(token_hash) OPERATOR(pg_catalog.=) 32)
);

CREATE INDEX refresh_tokens_session_id_idx ON user_mgmt.refresh_tokens (session_id);

COMMENT ON TABLE user_mgmt.refresh_tokens IS
'Every refresh token a session was given, as a SHA-256 hash only (the token cannot be recovered from it); single use';
COMMENT ON COLUMN user_mgmt.refresh_tokens.token_hash IS 'SHA-256 of the token''s 32 random bytes';
COMMENT ON COLUMN user_mgmt.refresh_tokens.session_id IS 'The session it refreshes';
COMMENT ON COLUMN user_mgmt.refresh_tokens.issued_at IS 'When it was given out';
COMMENT ON COLUMN user_mgmt.refresh_tokens.used_at IS
'When it was exchanged for new tokens; presenting it again ends the session (reuse detection)';
COMMENT ON CONSTRAINT refresh_tokens_pkey ON user_mgmt.refresh_tokens IS 'One row per token';
COMMENT ON INDEX user_mgmt.refresh_tokens_pkey IS 'Index of the primary key refresh_tokens_pkey';
COMMENT ON CONSTRAINT refresh_tokens_token_hash_check ON user_mgmt.refresh_tokens IS
'A SHA-256 hash is 32 bytes';
COMMENT ON INDEX user_mgmt.refresh_tokens_session_id_idx IS 'A session''s tokens (pruning)';

REVOKE ALL ON TABLE user_mgmt.refresh_tokens FROM PUBLIC;

-- pg_dump keeps sessions and token hashes: tokens stay valid across a restore.
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.refresh_tokens', '');

/* ---------------------------------------------------------------------
 * The audit trail learns the session events.
 * --------------------------------------------------------------------- */

ALTER TABLE user_mgmt.auth_events DROP CONSTRAINT auth_events_event_check;
ALTER TABLE user_mgmt.auth_events ADD CONSTRAINT auth_events_event_check
	CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY[
		'login_ok', 'login_failed', 'locked', 'unlocked', 'password_changed',
		'role_changed', 'activated', 'deactivated', 'user_created', 'user_deleted',
		'session_revoked', 'refresh_token_reused']));

COMMENT ON CONSTRAINT auth_events_event_check ON user_mgmt.auth_events IS 'Known event names only';
COMMENT ON COLUMN user_mgmt.auth_events.event IS
'login_ok, login_failed, locked, unlocked, password_changed, role_changed, activated, deactivated, user_created, user_deleted, session_revoked or refresh_token_reused';
COMMENT ON COLUMN user_mgmt.auth_events.detail IS
'login_failed: wrong_password, unknown_user, inactive, locked, busy (attempts in progress) or abandoned (the check was interrupted); role_changed: old -> new; user_created: the role; session_revoked: the reason and the session; refresh_token_reused: the session';

/* ---------------------------------------------------------------------
 * Every backend caches sessions and accounts for verification; these
 * triggers tell all of them when something that decides a verification
 * changes (a refresh does not: the idle timeout is rechecked in the table).
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.session_caches_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'um_session_caches_changed'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.session_caches_changed() IS
'Trigger function: makes every backend forget the sessions and accounts it cached for token verification';

CREATE TRIGGER sessions_caches_update
	AFTER UPDATE ON user_mgmt.sessions
	FOR EACH ROW
	WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
		  OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
		  OR OLD.user_id IS DISTINCT FROM NEW.user_id
		  OR OLD.session_epoch IS DISTINCT FROM NEW.session_epoch
		  OR OLD.id IS DISTINCT FROM NEW.id)
	EXECUTE FUNCTION user_mgmt.session_caches_changed();

COMMENT ON TRIGGER sessions_caches_update ON user_mgmt.sessions IS
'A session revoked or otherwise changed (not merely refreshed): every backend forgets its cached sessions';

CREATE TRIGGER sessions_caches_delete
	AFTER DELETE OR TRUNCATE ON user_mgmt.sessions
	FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.session_caches_changed();

COMMENT ON TRIGGER sessions_caches_delete ON user_mgmt.sessions IS
'Sessions deleted: every backend forgets its cached sessions';

CREATE TRIGGER users_caches_update
	AFTER UPDATE ON user_mgmt.users
	FOR EACH ROW
	WHEN (OLD.session_epoch IS DISTINCT FROM NEW.session_epoch OR OLD.id IS DISTINCT FROM NEW.id)
	EXECUTE FUNCTION user_mgmt.session_caches_changed();

COMMENT ON TRIGGER users_caches_update ON user_mgmt.users IS
'A password, role or activation changed: every backend forgets its cached accounts';

CREATE TRIGGER users_caches_delete
	AFTER DELETE OR TRUNCATE ON user_mgmt.users
	FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.session_caches_changed();

COMMENT ON TRIGGER users_caches_delete ON user_mgmt.users IS
'Users deleted: every backend forgets its cached accounts';

/* ---------------------------------------------------------------------
 * A change of password, role or activation, and a deletion, end the
 * account's sessions in the changing transaction (a rolled-back change
 * ends none).
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.users_end_sessions()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	reason text;
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
		UPDATE user_mgmt.sessions AS s
		SET revoked_at = pg_catalog.clock_timestamp(), revoke_reason = 'user_deleted'
		WHERE s.revoked_at IS NULL;
		RETURN NULL;
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		reason := 'user_deleted';
	ELSIF OLD.is_active AND NOT NEW.is_active THEN
		reason := 'deactivated';
	ELSIF NEW.role IS DISTINCT FROM OLD.role THEN
		reason := 'role_changed';
	ELSIF NEW.hashed_password IS DISTINCT FROM OLD.hashed_password THEN
		reason := 'password_changed';
	ELSE
		reason := 'account_changed';
	END IF;
	UPDATE user_mgmt.sessions AS s
	SET revoked_at = pg_catalog.clock_timestamp(), revoke_reason = reason
	WHERE s.user_id OPERATOR(pg_catalog.=) OLD.id AND s.revoked_at IS NULL;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION user_mgmt.users_end_sessions() IS
'Trigger function: revokes the sessions of an account whose password, role or activation changed, or that was deleted';

REVOKE ALL ON FUNCTION user_mgmt.users_end_sessions() FROM PUBLIC;

CREATE TRIGGER users_end_sessions
	AFTER UPDATE ON user_mgmt.users
	FOR EACH ROW
	WHEN (OLD.session_epoch IS DISTINCT FROM NEW.session_epoch)
	EXECUTE FUNCTION user_mgmt.users_end_sessions();

COMMENT ON TRIGGER users_end_sessions ON user_mgmt.users IS
'Revokes an account''s sessions when its password, role or activation changes';

CREATE TRIGGER users_end_sessions_delete
	AFTER DELETE ON user_mgmt.users
	FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_end_sessions();

COMMENT ON TRIGGER users_end_sessions_delete ON user_mgmt.users IS
'Revokes a deleted account''s sessions';

CREATE TRIGGER users_end_sessions_truncate
	AFTER TRUNCATE ON user_mgmt.users
	FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.users_end_sessions();

COMMENT ON TRIGGER users_end_sessions_truncate ON user_mgmt.users IS
'Revokes every session when users is truncated';

/* ---------------------------------------------------------------------
 * The login writer's session work (internal).  Each statement that would
 * wait for a row a caller holds fails at once instead ('busy'): the writer
 * serves every login of the database and must never wait.
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.session_open(session_id uuid, user_id integer,
	session_epoch bigint, origin text, refresh_hash bytea, token_lifetime interval,
	session_lifetime interval, idle_timeout interval, max_sessions integer,
	user_agent text, given_client_addr inet, username text, client_addr inet,
	application_name text, OUT expires_at timestamptz, OUT refresh_expires_at timestamptz)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moment timestamptz := pg_catalog.clock_timestamp();
	limited integer;
BEGIN
	expires_at := moment OPERATOR(pg_catalog.+) CASE WHEN refresh_hash IS NULL
		THEN token_lifetime ELSE session_lifetime END;

	-- The cap: the oldest live sessions make room (a row another
	-- transaction holds is being revoked by it, and is skipped).
	IF max_sessions OPERATOR(pg_catalog.>) 0 THEN
		WITH excess AS (
			SELECT s.id FROM user_mgmt.sessions AS s
			WHERE s.user_id OPERATOR(pg_catalog.=) session_open.user_id
				AND s.revoked_at IS NULL
				AND s.expires_at OPERATOR(pg_catalog.>) moment
				AND (idle_timeout OPERATOR(pg_catalog.=) interval '0'
					 OR s.refreshed_at OPERATOR(pg_catalog.+) idle_timeout OPERATOR(pg_catalog.>) moment)
			ORDER BY s.created_at DESC, s.id
			OFFSET max_sessions OPERATOR(pg_catalog.-) 1
		), locked AS (
			SELECT s.id FROM user_mgmt.sessions AS s
			WHERE s.id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT e.id FROM excess AS e))
			FOR UPDATE SKIP LOCKED
		)
		UPDATE user_mgmt.sessions AS s
		SET revoked_at = moment, revoke_reason = 'session_limit'
		FROM locked AS l WHERE s.id OPERATOR(pg_catalog.=) l.id;
		GET DIAGNOSTICS limited = ROW_COUNT;
		IF limited OPERATOR(pg_catalog.>) 0 THEN
			PERFORM user_mgmt.record_auth_event('session_revoked', session_open.user_id,
				session_open.username,
				pg_catalog.format('session_limit: %s oldest session(s) of %s', limited, max_sessions),
				session_open.client_addr, session_open.application_name);
		END IF;
	END IF;

	INSERT INTO user_mgmt.sessions AS s (id, user_id, session_epoch, origin, created_at,
		refreshed_at, expires_at, user_agent, client_addr)
	VALUES (session_open.session_id, session_open.user_id, session_open.session_epoch,
		session_open.origin, moment, moment, session_open.expires_at,
		pg_catalog."left"(session_open.user_agent, 512),
		COALESCE(session_open.given_client_addr, session_open.client_addr));

	IF refresh_hash IS NOT NULL THEN
		INSERT INTO user_mgmt.refresh_tokens AS t (token_hash, session_id, issued_at)
		VALUES (refresh_hash, session_open.session_id, moment);
		refresh_expires_at := CASE WHEN idle_timeout OPERATOR(pg_catalog.=) interval '0'
			THEN session_open.expires_at
			ELSE LEAST(session_open.expires_at, moment OPERATOR(pg_catalog.+) idle_timeout) END;
	END IF;
END
$$;

COMMENT ON FUNCTION user_mgmt.session_open(uuid, integer, bigint, text, bytea, interval, interval, interval, integer, text, inet, text, inet, text) IS
'The login writer''s opening of a session, after the user''s oldest ones beyond user_mgmt.max_sessions_per_user (internal)';

REVOKE ALL ON FUNCTION user_mgmt.session_open(uuid, integer, bigint, text, bytea, interval, interval, interval, integer, text, inet, text, inet, text) FROM PUBLIC;

/* Ends a session the writer has locked, with an audit row. */
CREATE FUNCTION user_mgmt.session_end(session_id uuid, user_id integer, reason text,
	username text, client_addr inet, application_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE user_mgmt.sessions AS s
	SET revoked_at = pg_catalog.clock_timestamp(), revoke_reason = reason
	WHERE s.id OPERATOR(pg_catalog.=) session_end.session_id AND s.revoked_at IS NULL;
	IF FOUND THEN
		PERFORM user_mgmt.record_auth_event('session_revoked', session_end.user_id,
			session_end.username, reason OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) session_end.session_id::text,
			session_end.client_addr, session_end.application_name);
	END IF;
END
$$;

COMMENT ON FUNCTION user_mgmt.session_end(uuid, integer, text, text, inet, text) IS
'Revokes one session and records it in the audit trail (internal, for the login writer)';

REVOKE ALL ON FUNCTION user_mgmt.session_end(uuid, integer, text, text, inet, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.session_refresh(presented_hash bytea, new_hash bytea,
	idle_timeout interval, client_addr inet, application_name text,
	OUT result text, OUT session_id uuid, OUT user_id integer, OUT username text,
	OUT role text, OUT expires_at timestamptz, OUT refresh_expires_at timestamptz,
	OUT revoke_reason text)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moment timestamptz := pg_catalog.clock_timestamp();
	t user_mgmt.refresh_tokens;
	s user_mgmt.sessions;
	u user_mgmt.users;
	ending text;
BEGIN
	SELECT x.* INTO t FROM user_mgmt.refresh_tokens AS x
	WHERE x.token_hash OPERATOR(pg_catalog.=) presented_hash FOR UPDATE NOWAIT;
	IF NOT FOUND THEN
		result := 'unknown';
		RETURN;
	END IF;
	SELECT x.* INTO s FROM user_mgmt.sessions AS x
	WHERE x.id OPERATOR(pg_catalog.=) t.session_id FOR UPDATE NOWAIT;
	IF NOT FOUND THEN
		result := 'unknown';
		RETURN;
	END IF;
	session_id := s.id;
	user_id := s.user_id;
	SELECT x.* INTO u FROM user_mgmt.users AS x WHERE x.id OPERATOR(pg_catalog.=) s.user_id;
	username := u.username;

	-- Presented again: whoever holds it now, the session is no longer safe.
	IF t.used_at IS NOT NULL THEN
		PERFORM user_mgmt.session_end(s.id, s.user_id, 'refresh_token_reused', u.username,
			session_refresh.client_addr, session_refresh.application_name);
		PERFORM user_mgmt.record_auth_event('refresh_token_reused', s.user_id, u.username,
			s.id::text, session_refresh.client_addr, session_refresh.application_name);
		result := 'reused';
		RETURN;
	END IF;
	IF s.revoked_at IS NOT NULL THEN
		result := 'revoked';
		revoke_reason := s.revoke_reason;
		RETURN;
	END IF;
	IF s.expires_at OPERATOR(pg_catalog.<=) moment
		OR (idle_timeout OPERATOR(pg_catalog.>) interval '0'
			AND s.refreshed_at OPERATOR(pg_catalog.+) idle_timeout OPERATOR(pg_catalog.<=) moment) THEN
		result := 'expired';
		expires_at := LEAST(s.expires_at, CASE WHEN idle_timeout OPERATOR(pg_catalog.>) interval '0'
			THEN s.refreshed_at OPERATOR(pg_catalog.+) idle_timeout END);
		RETURN;
	END IF;
	-- The account changed beside the session's opening (the triggers on
	-- users ended every session they could see).
	ending := CASE WHEN u.id IS NULL THEN 'user_deleted'
				   WHEN NOT u.is_active THEN 'deactivated'
				   WHEN u.session_epoch OPERATOR(pg_catalog.<>) s.session_epoch THEN 'account_changed' END;
	IF ending IS NOT NULL THEN
		PERFORM user_mgmt.session_end(s.id, s.user_id, ending, u.username,
			session_refresh.client_addr, session_refresh.application_name);
		result := 'revoked';
		revoke_reason := ending;
		RETURN;
	END IF;

	UPDATE user_mgmt.refresh_tokens AS x SET used_at = moment
	WHERE x.token_hash OPERATOR(pg_catalog.=) presented_hash;
	INSERT INTO user_mgmt.refresh_tokens AS x (token_hash, session_id, issued_at)
	VALUES (new_hash, s.id, moment);
	UPDATE user_mgmt.sessions AS x SET refreshed_at = moment WHERE x.id OPERATOR(pg_catalog.=) s.id;

	result := 'ok';
	role := u.role::text;
	expires_at := s.expires_at;
	refresh_expires_at := CASE WHEN idle_timeout OPERATOR(pg_catalog.=) interval '0' THEN s.expires_at
		ELSE LEAST(s.expires_at, moment OPERATOR(pg_catalog.+) idle_timeout) END;
EXCEPTION WHEN lock_not_available THEN
	result := 'busy';
END
$$;

COMMENT ON FUNCTION user_mgmt.session_refresh(bytea, bytea, interval, inet, text) IS
'The login writer''s exchange of a refresh token: ok (the token is used up, new_hash is the next one), unknown, reused (the session is revoked), revoked, expired or busy (internal)';

REVOKE ALL ON FUNCTION user_mgmt.session_refresh(bytea, bytea, interval, inet, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.session_revoke(session_id uuid, refresh_hash bytea,
	user_id integer, reason text, idle_timeout interval, client_addr inet,
	application_name text, OUT result text, OUT revoked integer, OUT owner_id integer)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	target uuid := session_revoke.session_id;
	moment timestamptz := pg_catalog.clock_timestamp();
	s user_mgmt.sessions;
	name text;
BEGIN
	revoked := 0;
	IF refresh_hash IS NOT NULL THEN
		SELECT t.session_id INTO target FROM user_mgmt.refresh_tokens AS t
		WHERE t.token_hash OPERATOR(pg_catalog.=) refresh_hash;
		IF NOT FOUND THEN
			result := 'unknown';
			RETURN;
		END IF;
	END IF;

	IF target IS NOT NULL THEN
		SELECT x.* INTO s FROM user_mgmt.sessions AS x
		WHERE x.id OPERATOR(pg_catalog.=) target FOR UPDATE NOWAIT;
		IF NOT FOUND THEN
			result := 'unknown';
			RETURN;
		END IF;
		owner_id := s.user_id;
		-- A session that ended by itself (expired, idle) has nothing to revoke.
		IF s.revoked_at IS NULL AND s.expires_at OPERATOR(pg_catalog.>) moment
			AND (idle_timeout OPERATOR(pg_catalog.=) interval '0'
				 OR s.refreshed_at OPERATOR(pg_catalog.+) idle_timeout OPERATOR(pg_catalog.>) moment) THEN
			SELECT u.username INTO name FROM user_mgmt.users AS u
			WHERE u.id OPERATOR(pg_catalog.=) s.user_id;
			PERFORM user_mgmt.session_end(s.id, s.user_id, reason, name,
				session_revoke.client_addr, session_revoke.application_name);
			revoked := 1;
		END IF;
		result := 'done';
		RETURN;
	END IF;

	-- Every session of a user: all of them or none.
	owner_id := session_revoke.user_id;
	SELECT u.username INTO name FROM user_mgmt.users AS u
	WHERE u.id OPERATOR(pg_catalog.=) session_revoke.user_id;
	PERFORM FROM user_mgmt.sessions AS x
	WHERE x.user_id OPERATOR(pg_catalog.=) session_revoke.user_id AND x.revoked_at IS NULL
	FOR UPDATE NOWAIT;
	UPDATE user_mgmt.sessions AS x
	SET revoked_at = moment, revoke_reason = reason
	WHERE x.user_id OPERATOR(pg_catalog.=) session_revoke.user_id AND x.revoked_at IS NULL
		AND x.expires_at OPERATOR(pg_catalog.>) moment
		AND (idle_timeout OPERATOR(pg_catalog.=) interval '0'
			 OR x.refreshed_at OPERATOR(pg_catalog.+) idle_timeout OPERATOR(pg_catalog.>) moment);
	GET DIAGNOSTICS revoked = ROW_COUNT;
	IF revoked OPERATOR(pg_catalog.>) 0 THEN
		PERFORM user_mgmt.record_auth_event('session_revoked', session_revoke.user_id, name,
			pg_catalog.format('%s: %s session(s)', reason, revoked),
			session_revoke.client_addr, session_revoke.application_name);
	END IF;
	result := 'done';
EXCEPTION WHEN lock_not_available THEN
	result := 'busy';
	revoked := 0;
END
$$;

COMMENT ON FUNCTION user_mgmt.session_revoke(uuid, bytea, integer, text, interval, inet, text) IS
'The login writer''s revocation of one session (by id or by one of its refresh tokens) or of every session of a user: done, unknown or busy (internal)';

REVOKE ALL ON FUNCTION user_mgmt.session_revoke(uuid, bytea, integer, text, interval, inet, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.prune_sessions(older_than interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	keep interval := COALESCE(older_than,
		pg_catalog.current_setting('user_mgmt.auth_events_retention')::interval);
	idle interval := pg_catalog.current_setting('user_mgmt.session_idle_timeout')::interval;
	cutoff timestamptz;
	deleted bigint;
BEGIN
	IF keep OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'older_than must not be negative';
	END IF;
	IF older_than IS NULL AND keep OPERATOR(pg_catalog.=) interval '0' THEN
		RETURN 0;
	END IF;
	BEGIN
		cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) keep;
	EXCEPTION WHEN datetime_field_overflow THEN
		RETURN 0;
	END;
	-- Ended (revoked, expired or idle) before the cutoff; rows another
	-- transaction holds wait for the next run.
	WITH gone AS (
		DELETE FROM user_mgmt.sessions AS s
		WHERE s.id OPERATOR(pg_catalog.=) ANY (ARRAY(
			SELECT x.id FROM user_mgmt.sessions AS x
			WHERE LEAST(x.revoked_at, x.expires_at,
						CASE WHEN idle OPERATOR(pg_catalog.>) interval '0'
							 THEN x.refreshed_at OPERATOR(pg_catalog.+) idle END)
				OPERATOR(pg_catalog.<) cutoff
			FOR UPDATE SKIP LOCKED))
		RETURNING s.id
	), tokens AS (
		DELETE FROM user_mgmt.refresh_tokens AS t
		USING gone AS g WHERE t.session_id OPERATOR(pg_catalog.=) g.id
	)
	SELECT pg_catalog.count(*) INTO deleted FROM gone;
	RETURN deleted;
END
$$;

COMMENT ON FUNCTION user_mgmt.prune_sessions(interval) IS
'Deletes sessions (and their refresh tokens) that ended longer than older_than ago (default: user_mgmt.auth_events_retention; 0 keeps all) and returns how many; the login writer runs it hourly';

REVOKE ALL ON FUNCTION user_mgmt.prune_sessions(interval) FROM PUBLIC;

/* ---------------------------------------------------------------------
 * Tokens name their session (C: the *_1_4 entry points; 1.3's stay in the
 * library for the way back).  Hot paths keep no SET clause (they resolve
 * no names through search_path).
 * --------------------------------------------------------------------- */

CREATE OR REPLACE FUNCTION user_mgmt.login(username text, password text)
RETURNS text
AS 'MODULE_PATHNAME', 'um_login_1_4'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.login(text, text) IS
'An access token for the user when the password is right and the account active and unlocked, in a session of its own that ends with the token; else the error 28P01, the same for every cause';

CREATE OR REPLACE FUNCTION user_mgmt.issue_token(user_id integer)
RETURNS text
AS 'MODULE_PATHNAME', 'um_issue_token_1_4'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION user_mgmt.issue_token(integer) IS
'A signed token (JWT, HS256) for an active user, valid for user_mgmt.token_ttl, in a session of its own that ends with it';

CREATE OR REPLACE FUNCTION user_mgmt.issue_token(user_id integer, ttl interval)
RETURNS text
AS 'MODULE_PATHNAME', 'um_issue_token_1_4'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION user_mgmt.issue_token(integer, interval) IS
'A signed token (JWT, HS256) for an active user, valid for the given time, in a session of its own that ends with it';

CREATE OR REPLACE FUNCTION user_mgmt.verify_token(token text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'um_verify_token_1_4'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION user_mgmt.verify_token(text) IS
'The claims of a valid token whose session is live and whose account is active and unchanged; an error (28000) that says why for any other';

CREATE OR REPLACE FUNCTION user_mgmt.set_session_token(token text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'um_set_session_token_1_4'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION user_mgmt.set_session_token(text) IS
'Verifies a token and remembers its claims until the end of the transaction (for row-level security); they are checked again, against its session, at every use';

COMMENT ON FUNCTION user_mgmt.current_user_id() IS
'The user id (sub) of the token given to set_session_token in this transaction, or NULL; an error (28000) once its session has ended';

COMMENT ON FUNCTION user_mgmt.current_user_role() IS
'The role of the token given to set_session_token in this transaction, or NULL; an error (28000) once its session has ended';

CREATE FUNCTION user_mgmt.current_session_id()
RETURNS uuid
AS 'MODULE_PATHNAME', 'um_current_session_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION user_mgmt.current_session_id() IS
'The session (sid) of the token given to set_session_token in this transaction, or NULL; an error (28000) once it has ended';

/* ---------------------------------------------------------------------
 * Sessions (C, src/session_functions.c): each call is decided by the
 * login writer and committed before it returns.
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.sign_in(username text, password text,
	user_agent text DEFAULT NULL, client_addr inet DEFAULT NULL,
	OUT access_token text, OUT refresh_token text,
	OUT access_expires_at timestamptz, OUT refresh_expires_at timestamptz,
	OUT session_id uuid)
RETURNS record
AS 'MODULE_PATHNAME', 'um_sign_in'
LANGUAGE C VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.sign_in(text, text, text, inet) IS
'Checks the password like login() and opens a session with a refresh token: the access token, the refresh token, their expiries and the session id; the error 28P01 for every failure';

CREATE FUNCTION user_mgmt.refresh(token text,
	OUT access_token text, OUT refresh_token text,
	OUT access_expires_at timestamptz, OUT refresh_expires_at timestamptz,
	OUT session_id uuid)
RETURNS record
AS 'MODULE_PATHNAME', 'um_refresh'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.refresh(text) IS
'Exchanges a refresh token, once, for a new access token and a new refresh token; a refresh token presented a second time ends its session (reuse detection); 28000 for any token that is not good';

CREATE FUNCTION user_mgmt.logout(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_logout'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.logout(text) IS
'Ends the session of an access token (expired ones too) or of a refresh token, at once and whatever the calling transaction does next; false when it had already ended';

CREATE FUNCTION user_mgmt.logout()
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_logout'
LANGUAGE C VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.logout() IS
'Ends the session of the token given to set_session_token in this transaction, at once, and forgets its claims';

CREATE FUNCTION user_mgmt.logout_all()
RETURNS integer
AS 'MODULE_PATHNAME', 'um_logout_all'
LANGUAGE C VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.logout_all() IS
'Ends every session of the user of the token given to set_session_token in this transaction ("log out everywhere"), at once; how many';

CREATE FUNCTION user_mgmt.logout_all(user_id integer)
RETURNS integer
AS 'MODULE_PATHNAME', 'um_logout_all'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.logout_all(integer) IS
'Ends every session of a user, at once (administrative); how many';

REVOKE ALL ON FUNCTION user_mgmt.logout_all(integer) FROM PUBLIC;

CREATE FUNCTION user_mgmt.revoke_session(session_id uuid)
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_revoke_session'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.revoke_session(uuid) IS
'Ends one session, at once (administrative); false when it had already ended';

REVOKE ALL ON FUNCTION user_mgmt.revoke_session(uuid) FROM PUBLIC;

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
VALUES ('1.4', '1.3', 'upgrade',
		'Sessions: refresh tokens with reuse detection, logout, revocation on account changes seen by every backend at once');
