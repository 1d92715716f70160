/*
 * user_mgmt 1.2 -> 1.3: a lockout that holds against any caller, an audit
 * trail, sign-up without privilege, and no secrets in errors or the log.
 *
 * Login attempts are decided and recorded by a background writer per
 * database (src/login_guard.c, src/login_writer.c), outside the caller's
 * transaction, through the functions login_guard_*() below; the state
 * lives in login_state, which only that writer changes.  The account
 * functions that take passwords are now C (src/accounts.c).  This version
 * needs shared_preload_libraries = 'user_mgmt' for logins.
 *
 * The way back is user_mgmt--1.3--1.2.sql.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.3'" to load this file. \quit

/* ---------------------------------------------------------------------
 * The audit trail: one row per authentication event.
 * --------------------------------------------------------------------- */

CREATE TABLE user_mgmt.auth_events (
	id bigserial NOT NULL,
	occurred_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	event text NOT NULL,
	user_id integer,
	username text,
	detail text,
	client_addr inet,
	application_name text,
	CONSTRAINT auth_events_pkey PRIMARY KEY (id),
	CONSTRAINT auth_events_event_check CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY[
		'login_ok', 'login_failed', 'locked', 'unlocked', 'password_changed',
		'role_changed', 'activated', 'deactivated', 'user_created', 'user_deleted'])),
	CONSTRAINT auth_events_username_check
		CHECK (pg_catalog.length(username) OPERATOR(pg_catalog.<=) 64)
);

CREATE INDEX auth_events_user_id_idx ON user_mgmt.auth_events (user_id, occurred_at);
CREATE INDEX auth_events_occurred_at_idx ON user_mgmt.auth_events (occurred_at);

COMMENT ON TABLE user_mgmt.auth_events IS
'Audit trail of authentication events; login events are written by the login writer, so no rollback undoes them';
COMMENT ON COLUMN user_mgmt.auth_events.id IS 'Order of recording';
COMMENT ON COLUMN user_mgmt.auth_events.occurred_at IS 'When the event was recorded';
COMMENT ON COLUMN user_mgmt.auth_events.event IS
'login_ok, login_failed, locked, unlocked, password_changed, role_changed, activated, deactivated, user_created or user_deleted';
COMMENT ON COLUMN user_mgmt.auth_events.user_id IS 'The account; NULL for an unknown username';
COMMENT ON COLUMN user_mgmt.auth_events.username IS 'The username as given (at most 64 characters)';
COMMENT ON COLUMN user_mgmt.auth_events.detail IS
'login_failed: wrong_password, unknown_user, inactive, locked, busy (attempts in progress) or abandoned (the check was interrupted); role_changed: old -> new; user_created: the role';
COMMENT ON COLUMN user_mgmt.auth_events.client_addr IS 'inet_client_addr() of the session; NULL over a Unix socket';
COMMENT ON COLUMN user_mgmt.auth_events.application_name IS 'application_name of the session';
COMMENT ON INDEX user_mgmt.auth_events_user_id_idx IS 'An account''s events in time order';
COMMENT ON INDEX user_mgmt.auth_events_occurred_at_idx IS 'Pruning by age';
COMMENT ON SEQUENCE user_mgmt.auth_events_id_seq IS 'Generates auth_events.id';
COMMENT ON CONSTRAINT auth_events_event_check ON user_mgmt.auth_events IS 'Known event names only';
COMMENT ON CONSTRAINT auth_events_username_check ON user_mgmt.auth_events IS
'Usernames are kept cut to 64 characters';

REVOKE ALL ON TABLE user_mgmt.auth_events FROM PUBLIC;
REVOKE ALL ON SEQUENCE user_mgmt.auth_events_id_seq FROM PUBLIC;

CREATE FUNCTION user_mgmt.record_auth_event(event text, user_id integer,
	username text, detail text, client_addr inet, application_name text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO user_mgmt.auth_events (event, user_id, username, detail, client_addr, application_name)
	VALUES (record_auth_event.event, record_auth_event.user_id,
			pg_catalog."left"(record_auth_event.username, 64), record_auth_event.detail,
			record_auth_event.client_addr, record_auth_event.application_name);
END;

COMMENT ON FUNCTION user_mgmt.record_auth_event(text, integer, text, text, inet, text) IS
'Appends one row to auth_events (internal)';

REVOKE ALL ON FUNCTION user_mgmt.record_auth_event(text, integer, text, text, inet, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.prune_auth_events(older_than interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	keep interval := COALESCE(older_than,
		pg_catalog.current_setting('user_mgmt.auth_events_retention')::interval);
	cutoff timestamptz;
	deleted bigint;
BEGIN
	IF keep OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'older_than must not be negative';
	END IF;
	-- A retention of 0 keeps everything; an explicit 0 deletes everything.
	IF older_than IS NULL AND keep OPERATOR(pg_catalog.=) interval '0' THEN
		RETURN 0;
	END IF;
	BEGIN
		cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) keep;
	EXCEPTION WHEN datetime_field_overflow THEN
		RETURN 0;				-- before any time a timestamp holds: nothing is older
	END;
	DELETE FROM user_mgmt.auth_events AS e
	WHERE e.occurred_at OPERATOR(pg_catalog.<) cutoff;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted;
END
$$;

COMMENT ON FUNCTION user_mgmt.prune_auth_events(interval) IS
'Deletes audit events older than older_than (default: user_mgmt.auth_events_retention; a retention of 0 keeps all) and returns how many; the login writer runs it hourly';

REVOKE ALL ON FUNCTION user_mgmt.prune_auth_events(interval) FROM PUBLIC;

/* ---------------------------------------------------------------------
 * Login state, kept by the login writer alone.  An account's charged
 * attempts are pending (checks in flight) + confirmed - erased: confirmed
 * counts failures ever recorded in order, erased is how many of the first
 * ones a success or an unlock wiped.  A success wipes only the failures
 * recorded before its own reservation (its ticket), never the ones of
 * checks that ran beside it.  Row 0 stands for unknown usernames, so that
 * they cost the writer what a known one does.
 * --------------------------------------------------------------------- */

CREATE TABLE user_mgmt.login_state (
	user_id integer NOT NULL,
	pending integer NOT NULL DEFAULT 0,
	confirmed bigint NOT NULL DEFAULT 0,
	erased bigint NOT NULL DEFAULT 0,
	locked_until timestamptz,
	last_attempt_at timestamptz,
	last_login_at timestamptz,
	CONSTRAINT login_state_pkey PRIMARY KEY (user_id),
	CONSTRAINT login_state_counts_check CHECK (pending OPERATOR(pg_catalog.>=) 0
		AND erased OPERATOR(pg_catalog.>=) 0 AND erased OPERATOR(pg_catalog.<=) confirmed)
);

COMMENT ON TABLE user_mgmt.login_state IS
'Failed-login counts and lockouts, written only by the login writer (what the lockout decides on)';
COMMENT ON COLUMN user_mgmt.login_state.user_id IS 'The account (no foreign key: the writer must never wait on a user''s row); 0: unknown usernames';
COMMENT ON COLUMN user_mgmt.login_state.pending IS 'Checks allowed and not reported yet (each charged as a failure)';
COMMENT ON COLUMN user_mgmt.login_state.confirmed IS 'Failures recorded so far';
COMMENT ON COLUMN user_mgmt.login_state.erased IS 'How many of the first confirmed failures no longer count';
COMMENT ON COLUMN user_mgmt.login_state.locked_until IS 'The account may not be tried before this time';
COMMENT ON COLUMN user_mgmt.login_state.last_attempt_at IS 'When the account was last tried';
COMMENT ON COLUMN user_mgmt.login_state.last_login_at IS 'When the account last logged in';
COMMENT ON CONSTRAINT login_state_counts_check ON user_mgmt.login_state IS
'Counts are never negative, and no more failures are wiped than were recorded';

REVOKE ALL ON TABLE user_mgmt.login_state FROM PUBLIC;

-- Every account's state as 1.2 left it; row 0 for unknown usernames.
INSERT INTO user_mgmt.login_state (user_id, confirmed, locked_until, last_login_at)
SELECT u.id, u.failed_login_count, u.locked_until, u.last_login_at
FROM user_mgmt.users AS u
WHERE u.failed_login_count OPERATOR(pg_catalog.>) 0 OR u.locked_until IS NOT NULL
	OR u.last_login_at IS NOT NULL;
INSERT INTO user_mgmt.login_state (user_id) VALUES (0) ON CONFLICT DO NOTHING;

CREATE FUNCTION user_mgmt.login_guard_reserve(user_id integer,
	max_failed_logins integer, lockout_duration interval, username text,
	client_addr inet, application_name text, OUT result text, OUT ticket bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	key integer := COALESCE(login_guard_reserve.user_id, 0);
	s user_mgmt.login_state;
BEGIN
	INSERT INTO user_mgmt.login_state AS x (user_id) VALUES (key) ON CONFLICT DO NOTHING;
	SELECT x.* INTO STRICT s FROM user_mgmt.login_state AS x
	WHERE x.user_id OPERATOR(pg_catalog.=) key FOR UPDATE;

	-- A lock that has run out starts a new count; checks in flight keep their charge.
	IF s.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		s.erased := s.confirmed;
		s.locked_until := NULL;
	END IF;

	ticket := s.confirmed;
	IF login_guard_reserve.user_id IS NULL THEN
		result := 'allowed';		-- an unknown username: the same work, nothing to count
	ELSIF s.locked_until IS NOT NULL THEN
		result := 'locked';
	ELSIF max_failed_logins OPERATOR(pg_catalog.>) 0
		AND s.pending OPERATOR(pg_catalog.+) s.confirmed OPERATOR(pg_catalog.-) s.erased
			OPERATOR(pg_catalog.>=) max_failed_logins THEN
		IF s.pending OPERATOR(pg_catalog.=) 0 THEN
			-- Failures a previous writer left as charges: the lock starts now.
			s.locked_until := pg_catalog.now() OPERATOR(pg_catalog.+) lockout_duration;
			result := 'locked';
			PERFORM user_mgmt.record_auth_event('locked', login_guard_reserve.user_id,
				login_guard_reserve.username, NULL, login_guard_reserve.client_addr,
				login_guard_reserve.application_name);
		ELSE
			result := 'busy';		-- the allowance is taken by checks in flight
		END IF;
	ELSE
		result := 'allowed';
		s.pending := s.pending OPERATOR(pg_catalog.+) 1;
	END IF;

	UPDATE user_mgmt.login_state AS x
	SET pending = s.pending, erased = s.erased, locked_until = s.locked_until,
		last_attempt_at = pg_catalog.now()
	WHERE x.user_id OPERATOR(pg_catalog.=) key;
END
$$;

COMMENT ON FUNCTION user_mgmt.login_guard_reserve(integer, integer, interval, text, inet, text) IS
'The login writer''s decision before a password check: allowed (and charged as a failure), locked, or busy (internal)';

REVOKE ALL ON FUNCTION user_mgmt.login_guard_reserve(integer, integer, interval, text, inet, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.login_guard_complete(user_id integer, ticket bigint,
	stale boolean, outcome text, max_failed_logins integer,
	lockout_duration interval, username text, client_addr inet,
	application_name text, rehashed boolean,
	OUT failed_count integer, OUT locked_until timestamptz)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	key integer := COALESCE(login_guard_complete.user_id, 0);
	s user_mgmt.login_state;
	failed boolean := outcome OPERATOR(pg_catalog.=) ANY (ARRAY['wrong_password', 'inactive', 'abandoned']);
	lock_began boolean := false;
BEGIN
	INSERT INTO user_mgmt.login_state AS x (user_id) VALUES (key) ON CONFLICT DO NOTHING;
	SELECT x.* INTO STRICT s FROM user_mgmt.login_state AS x
	WHERE x.user_id OPERATOR(pg_catalog.=) key FOR UPDATE;

	IF s.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		s.erased := s.confirmed;
		s.locked_until := NULL;
	END IF;

	-- A stale report answers a reservation of a writer that has gone: its
	-- charge was made a failure when this writer started.
	IF login_guard_complete.user_id IS NOT NULL AND NOT stale
		AND (failed OR outcome OPERATOR(pg_catalog.=) 'ok') THEN
		s.pending := GREATEST(s.pending OPERATOR(pg_catalog.-) 1, 0);
		IF failed THEN
			s.confirmed := s.confirmed OPERATOR(pg_catalog.+) 1;
		ELSE
			-- Only the failures recorded before this check was allowed.
			s.erased := GREATEST(s.erased, LEAST(ticket, s.confirmed));
		END IF;
	END IF;
	IF login_guard_complete.user_id IS NOT NULL AND failed
		AND s.locked_until IS NULL AND max_failed_logins OPERATOR(pg_catalog.>) 0
		AND s.confirmed OPERATOR(pg_catalog.-) s.erased OPERATOR(pg_catalog.>=) max_failed_logins THEN
		s.locked_until := pg_catalog.now() OPERATOR(pg_catalog.+) lockout_duration;
		lock_began := true;
	END IF;
	IF login_guard_complete.user_id IS NOT NULL AND outcome OPERATOR(pg_catalog.=) 'ok' THEN
		s.last_login_at := pg_catalog.now();
	END IF;

	UPDATE user_mgmt.login_state AS x
	SET pending = s.pending, confirmed = s.confirmed, erased = s.erased,
		locked_until = s.locked_until, last_login_at = s.last_login_at,
		last_attempt_at = pg_catalog.now()
	WHERE x.user_id OPERATOR(pg_catalog.=) key;

	PERFORM user_mgmt.record_auth_event(
		CASE WHEN outcome OPERATOR(pg_catalog.=) 'ok' THEN 'login_ok' ELSE 'login_failed' END,
		login_guard_complete.user_id, login_guard_complete.username,
		CASE WHEN outcome OPERATOR(pg_catalog.<>) 'ok' THEN outcome
			 WHEN rehashed THEN 'rehashed' END,
		login_guard_complete.client_addr, login_guard_complete.application_name);
	IF lock_began THEN
		PERFORM user_mgmt.record_auth_event('locked', login_guard_complete.user_id,
			login_guard_complete.username, NULL, login_guard_complete.client_addr,
			login_guard_complete.application_name);
	END IF;

	failed_count := (s.confirmed OPERATOR(pg_catalog.-) s.erased)::integer;
	locked_until := s.locked_until;
END
$$;

COMMENT ON FUNCTION user_mgmt.login_guard_complete(integer, bigint, boolean, text, integer, interval, text, inet, text, boolean) IS
'The login writer''s record of a check''s outcome: counts or refunds its charge, locks after max_failed_logins, writes the audit row (internal)';

REVOKE ALL ON FUNCTION user_mgmt.login_guard_complete(integer, bigint, boolean, text, integer, interval, text, inet, text, boolean) FROM PUBLIC;

CREATE FUNCTION user_mgmt.login_guard_unlock(user_id integer, username text,
	client_addr inet, application_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO user_mgmt.login_state AS x (user_id) VALUES (login_guard_unlock.user_id)
	ON CONFLICT DO NOTHING;
	UPDATE user_mgmt.login_state AS x SET erased = x.confirmed, locked_until = NULL
	WHERE x.user_id OPERATOR(pg_catalog.=) login_guard_unlock.user_id;
	PERFORM user_mgmt.record_auth_event('unlocked', login_guard_unlock.user_id,
		login_guard_unlock.username, NULL, login_guard_unlock.client_addr,
		login_guard_unlock.application_name);
END
$$;

COMMENT ON FUNCTION user_mgmt.login_guard_unlock(integer, text, inet, text) IS
'The login writer''s unlock: wipes the failures and the lock, writes the audit row (internal)';

REVOKE ALL ON FUNCTION user_mgmt.login_guard_unlock(integer, text, inet, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.login_guard_recover()
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	UPDATE user_mgmt.login_state AS x
	SET confirmed = x.confirmed OPERATOR(pg_catalog.+) x.pending, pending = 0
	WHERE x.pending OPERATOR(pg_catalog.>) 0;
END;

COMMENT ON FUNCTION user_mgmt.login_guard_recover() IS
'Run by a starting login writer: checks a previous writer allowed and never heard back from count as failures (internal)';

REVOKE ALL ON FUNCTION user_mgmt.login_guard_recover() FROM PUBLIC;

/*
 * The users table keeps copies of failed_login_count, locked_until and
 * last_login_at, which the writer refreshes when it can lock the row at
 * once; user_mgmt.accounts reads the state itself.
 */
CREATE FUNCTION user_mgmt.login_guard_mirror(user_id integer)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM FROM user_mgmt.users AS u WHERE u.id OPERATOR(pg_catalog.=) login_guard_mirror.user_id
	FOR NO KEY UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		-- Busy: try again later; gone (or not committed yet): nothing to do.
		RETURN NOT EXISTS (SELECT FROM user_mgmt.users AS u
						   WHERE u.id OPERATOR(pg_catalog.=) login_guard_mirror.user_id);
	END IF;
	UPDATE user_mgmt.users AS u
	SET failed_login_count = (s.confirmed OPERATOR(pg_catalog.-) s.erased)::integer,
		locked_until = s.locked_until,
		last_login_at = COALESCE(s.last_login_at, u.last_login_at)
	FROM user_mgmt.login_state AS s
	WHERE s.user_id OPERATOR(pg_catalog.=) u.id AND u.id OPERATOR(pg_catalog.=) login_guard_mirror.user_id
		AND (u.failed_login_count OPERATOR(pg_catalog.<>) (s.confirmed OPERATOR(pg_catalog.-) s.erased)::integer
			 OR u.locked_until IS DISTINCT FROM s.locked_until
			 OR u.last_login_at IS DISTINCT FROM COALESCE(s.last_login_at, u.last_login_at));
	RETURN true;
END
$$;

COMMENT ON FUNCTION user_mgmt.login_guard_mirror(integer) IS
'Copies an account''s login state into its users row unless another transaction holds the row; false: try later (internal)';

REVOKE ALL ON FUNCTION user_mgmt.login_guard_mirror(integer) FROM PUBLIC;

CREATE FUNCTION user_mgmt.login_guard_rehash(user_id integer, old_hash text, new_hash text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	changed_at timestamptz;
BEGIN
	SELECT u.password_changed_at INTO changed_at FROM user_mgmt.users AS u
	WHERE u.id OPERATOR(pg_catalog.=) login_guard_rehash.user_id
	FOR NO KEY UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN NOT EXISTS (SELECT FROM user_mgmt.users AS u
						   WHERE u.id OPERATOR(pg_catalog.=) login_guard_rehash.user_id);
	END IF;
	-- Only if the password is still the one that was checked.
	UPDATE user_mgmt.users AS u SET hashed_password = new_hash
	WHERE u.id OPERATOR(pg_catalog.=) login_guard_rehash.user_id
		AND u.hashed_password::text OPERATOR(pg_catalog.=) old_hash;
	IF FOUND THEN
		-- A new hash of the same password: password_changed_at stays.
		UPDATE user_mgmt.users AS u SET password_changed_at = changed_at
		WHERE u.id OPERATOR(pg_catalog.=) login_guard_rehash.user_id;
	END IF;
	RETURN user_mgmt.login_guard_mirror(login_guard_rehash.user_id);
END
$$;

COMMENT ON FUNCTION user_mgmt.login_guard_rehash(integer, text, text) IS
'Stores a hash of a higher cost for a password that was just checked, unless it changed meanwhile or the row is busy; false: try later (internal)';

REVOKE ALL ON FUNCTION user_mgmt.login_guard_rehash(integer, text, text) FROM PUBLIC;

CREATE FUNCTION user_mgmt.is_login_writer()
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_is_login_writer'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.is_login_writer() IS
'True in a login writer process (the triggers tell its updates apart); internal';

REVOKE ALL ON FUNCTION user_mgmt.is_login_writer() FROM PUBLIC;

/* ---------------------------------------------------------------------
 * Triggers on users: the copied login state is the writer's alone, and
 * account changes go into the audit trail with the change (a rolled-back
 * change leaves no event, as it did not happen).
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.users_protect_login_state()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF (NEW.failed_login_count IS DISTINCT FROM OLD.failed_login_count
		OR NEW.locked_until IS DISTINCT FROM OLD.locked_until)
		AND NOT user_mgmt.is_login_writer() THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'failed_login_count and locked_until are kept by the login writer',
			DETAIL = 'They copy user_mgmt.login_state, which decides lockouts; a change here would not unlock anyone.',
			HINT = 'Use user_mgmt.unlock_user(id) to lift a lockout.';
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION user_mgmt.users_protect_login_state() IS
'Trigger function: refuses changes to failed_login_count and locked_until except from the login writer';

CREATE TRIGGER users_protect_login_state
	BEFORE UPDATE OF failed_login_count, locked_until ON user_mgmt.users
	FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_protect_login_state();

COMMENT ON TRIGGER users_protect_login_state ON user_mgmt.users IS
'Keeps the copied login state the writer''s alone';

CREATE FUNCTION user_mgmt.users_audit()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	addr inet := pg_catalog.inet_client_addr();
	app text := pg_catalog.current_setting('application_name');
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		PERFORM user_mgmt.record_auth_event('user_deleted', OLD.id, OLD.username, NULL, addr, app);
		RETURN NULL;
	END IF;
	-- The writer's new hash of the same password is no password change.
	IF NEW.hashed_password IS DISTINCT FROM OLD.hashed_password
		AND NOT user_mgmt.is_login_writer() THEN
		PERFORM user_mgmt.record_auth_event('password_changed', NEW.id, NEW.username, NULL, addr, app);
	END IF;
	IF NEW.role IS DISTINCT FROM OLD.role THEN
		PERFORM user_mgmt.record_auth_event('role_changed', NEW.id, NEW.username,
			OLD.role::text OPERATOR(pg_catalog.||) ' -> ' OPERATOR(pg_catalog.||) NEW.role::text, addr, app);
	END IF;
	IF NEW.is_active IS DISTINCT FROM OLD.is_active THEN
		PERFORM user_mgmt.record_auth_event(
			CASE WHEN NEW.is_active THEN 'activated' ELSE 'deactivated' END,
			NEW.id, NEW.username, NULL, addr, app);
	END IF;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION user_mgmt.users_audit() IS
'Trigger function: records password, role and activation changes and deletions in auth_events';

REVOKE ALL ON FUNCTION user_mgmt.users_audit() FROM PUBLIC;

-- No INSERT: pg_restore inserts every user again; create_user and sign_up
-- record user_created themselves.
CREATE TRIGGER users_audit
	AFTER UPDATE OR DELETE ON user_mgmt.users
	FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_audit();

COMMENT ON TRIGGER users_audit ON user_mgmt.users IS
'Writes account changes into the audit trail, in the transaction that makes them';

/* ---------------------------------------------------------------------
 * The accounts view reads the login state itself, not its copy.
 * --------------------------------------------------------------------- */

CREATE OR REPLACE VIEW user_mgmt.accounts AS
	SELECT u.id, u.username, u.role, u.full_name, u.created_at, u.updated_at,
		u.is_active,
		COALESCE(s.last_login_at, u.last_login_at) AS last_login_at,
		COALESCE((s.confirmed OPERATOR(pg_catalog.-) s.erased)::integer, u.failed_login_count) AS failed_login_count,
		CASE WHEN s.user_id IS NULL THEN u.locked_until ELSE s.locked_until END AS locked_until,
		u.password_changed_at
	FROM user_mgmt.users AS u
		LEFT JOIN user_mgmt.login_state AS s ON s.user_id OPERATOR(pg_catalog.=) u.id;

COMMENT ON VIEW user_mgmt.accounts IS
'Every column of users except hashed_password, with the login state as the login writer has it';

/* ---------------------------------------------------------------------
 * A comment on every object: the view's columns, the constraints and
 * their indexes (1.0-1.2 left them without one).
 * --------------------------------------------------------------------- */

COMMENT ON COLUMN user_mgmt.accounts.id IS 'users.id';
COMMENT ON COLUMN user_mgmt.accounts.username IS 'users.username';
COMMENT ON COLUMN user_mgmt.accounts.role IS 'users.role';
COMMENT ON COLUMN user_mgmt.accounts.full_name IS 'users.full_name';
COMMENT ON COLUMN user_mgmt.accounts.created_at IS 'users.created_at';
COMMENT ON COLUMN user_mgmt.accounts.updated_at IS 'users.updated_at';
COMMENT ON COLUMN user_mgmt.accounts.is_active IS 'users.is_active';
COMMENT ON COLUMN user_mgmt.accounts.last_login_at IS
'Time of the last successful login, from the login state';
COMMENT ON COLUMN user_mgmt.accounts.failed_login_count IS
'Failed logins counted towards the lockout since the last success or lock, from the login state';
COMMENT ON COLUMN user_mgmt.accounts.locked_until IS
'The account cannot log in before this time; NULL when not locked; from the login state';
COMMENT ON COLUMN user_mgmt.accounts.password_changed_at IS 'users.password_changed_at';

COMMENT ON CONSTRAINT users_pkey ON user_mgmt.users IS 'One row per user id';
COMMENT ON INDEX user_mgmt.users_pkey IS 'Index of the primary key users_pkey';
COMMENT ON CONSTRAINT users_username_key ON user_mgmt.users IS
'Usernames are unique as written (users_username_lower_key makes them unique regardless of case)';
COMMENT ON INDEX user_mgmt.users_username_key IS 'Index of the unique constraint users_username_key';
COMMENT ON CONSTRAINT schema_migrations_pkey ON user_mgmt.schema_migrations IS
'One row per moment a version was applied';
COMMENT ON INDEX user_mgmt.schema_migrations_pkey IS 'Index of the primary key schema_migrations_pkey';
COMMENT ON CONSTRAINT schema_migrations_direction_check ON user_mgmt.schema_migrations IS
'A version is installed, upgraded to or downgraded to';
COMMENT ON CONSTRAINT schema_migrations_previous_version_check ON user_mgmt.schema_migrations IS
'Only an install has no previous version';
COMMENT ON CONSTRAINT signing_keys_pkey ON user_mgmt.signing_keys IS 'One row per key id';
COMMENT ON INDEX user_mgmt.signing_keys_pkey IS 'Index of the primary key signing_keys_pkey';
COMMENT ON CONSTRAINT signing_keys_kid_check ON user_mgmt.signing_keys IS
'A key id is 1 to 64 base64url characters (it goes into token headers as it is)';
COMMENT ON CONSTRAINT signing_keys_secret_check ON user_mgmt.signing_keys IS
'An HS256 secret has at least 256 bits';
COMMENT ON CONSTRAINT auth_events_pkey ON user_mgmt.auth_events IS 'One row per event';
COMMENT ON INDEX user_mgmt.auth_events_pkey IS 'Index of the primary key auth_events_pkey';
COMMENT ON CONSTRAINT login_state_pkey ON user_mgmt.login_state IS 'One row per user id (0: unknown usernames)';
COMMENT ON INDEX user_mgmt.login_state_pkey IS 'Index of the primary key login_state_pkey';

/* ---------------------------------------------------------------------
 * The account functions that take passwords, now in C (src/accounts.c):
 * no error they raise carries the caller's statement or a hash.
 * --------------------------------------------------------------------- */

DROP FUNCTION user_mgmt.count_failed_login(integer);
DROP FUNCTION user_mgmt.record_failed_login(integer, integer, interval);

CREATE FUNCTION user_mgmt.check_full_name(full_name text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.length(full_name) OPERATOR(pg_catalog.>) 40 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'full name must have at most 40 characters',
			DETAIL = pg_catalog.format('The full name has %s characters.', pg_catalog.length(full_name));
	END IF;
	IF full_name OPERATOR(pg_catalog.!~) '[^[:space:]]' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'full name must not be blank';
	END IF;
END
$$;

COMMENT ON FUNCTION user_mgmt.check_full_name(text) IS
'Raises an error unless the full name has 1 to 40 characters and is not blank';

CREATE OR REPLACE FUNCTION user_mgmt.authenticate(username text, password text)
RETURNS user_mgmt.accounts
AS 'MODULE_PATHNAME', 'um_authenticate'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.authenticate(text, text) IS
'The account when the password is right and the account active and unlocked, else NULL; every attempt is decided and recorded by the login writer (at most user_mgmt.max_failed_logins failures per lockout)';

CREATE OR REPLACE FUNCTION user_mgmt.login(username text, password text)
RETURNS text
AS 'MODULE_PATHNAME', 'um_login'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION user_mgmt.change_password(username text, old_password text,
	new_password text)
RETURNS void
AS 'MODULE_PATHNAME', 'um_change_password'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION user_mgmt.set_password(user_id integer, new_password text)
RETURNS void
AS 'MODULE_PATHNAME', 'um_set_password'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION user_mgmt.create_user(username text, password text,
	full_name text, role user_mgmt.role DEFAULT 'USER')
RETURNS integer
AS 'MODULE_PATHNAME', 'um_create_user'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.create_user(text, text, text, user_mgmt.role) IS
'Creates a user of any role with a bcrypt-hashed password (checked against the password policy) and returns its id (administrative: see sign_up)';

CREATE FUNCTION user_mgmt.sign_up(username text, password text, full_name text)
RETURNS integer
AS 'MODULE_PATHNAME', 'um_sign_up'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.sign_up(text, text, text) IS
'Creates a USER (never any other role) with a bcrypt-hashed password and returns its id; safe to grant to the role an application signs users up with';

REVOKE ALL ON FUNCTION user_mgmt.sign_up(text, text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION user_mgmt.unlock_user(user_id integer)
RETURNS void
AS 'MODULE_PATHNAME', 'um_unlock_user'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.unlock_user(integer) IS
'Lifts a lockout and wipes the failed-login count (administrative); takes effect at once, whatever the calling transaction does next';

DROP FUNCTION user_mgmt.find_user(text);

/* ---------------------------------------------------------------------
 * Operations
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.login_statistics(OUT allowed bigint,
	OUT refused_locked bigint, OUT refused_busy bigint, OUT checked bigint,
	OUT succeeded bigint, OUT unrecorded bigint, OUT writer_pid integer)
RETURNS record
AS 'MODULE_PATHNAME', 'um_login_statistics'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.login_statistics() IS
'Login attempts since the server started, cluster-wide: allowed to be checked, refused (locked or busy), checked against a real hash, succeeded, refused because they could not be recorded; and the pid of this database''s login writer';

REVOKE ALL ON FUNCTION user_mgmt.login_statistics() FROM PUBLIC;

CREATE FUNCTION user_mgmt.stop_login_writer()
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_stop_login_writer'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.stop_login_writer() IS
'Asks this database''s login writer to exit and waits for it (before DROP DATABASE or using the database as a template); true when none runs; the next login starts one';

REVOKE ALL ON FUNCTION user_mgmt.stop_login_writer() FROM PUBLIC;

CREATE FUNCTION user_mgmt.await_login_writer()
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_await_login_writer'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.await_login_writer() IS
'Waits (up to 5 s) until this database''s login writer has answered every request and copied the login state into the users rows; false while such a row stays locked';

REVOKE ALL ON FUNCTION user_mgmt.await_login_writer() FROM PUBLIC;

-- pg_dump keeps the state and the trail (row 0 comes with the extension).
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.login_state',
	'WHERE user_id OPERATOR(pg_catalog.<>) 0');
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.auth_events', '');
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.auth_events_id_seq', '');

/* What version 1.3 defines (scripts/expected_schema_objects.sh). */
CREATE OR REPLACE FUNCTION user_mgmt.expected_schema_objects()
RETURNS TABLE (object_type text, object_name text, definition text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM (VALUES
-- BEGIN GENERATED 1.3
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
		('constraint', 'auth_events.auth_events_event_check', 'CHECK ((event = ANY (ARRAY[''login_ok''::text, ''login_failed''::text, ''locked''::text, ''unlocked''::text, ''password_changed''::text, ''role_changed''::text, ''activated''::text, ''deactivated''::text, ''user_created''::text, ''user_deleted''::text])))'),
		('constraint', 'auth_events.auth_events_pkey', 'PRIMARY KEY (id)'),
		('constraint', 'auth_events.auth_events_username_check', 'CHECK ((length(username) <= 64))'),
		('constraint', 'login_state.login_state_counts_check', 'CHECK (((pending >= 0) AND (erased >= 0) AND (erased <= confirmed)))'),
		('constraint', 'login_state.login_state_pkey', 'PRIMARY KEY (user_id)'),
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
		('extension member', 'function user_mgmt.await_login_writer()', 'member'),
		('extension member', 'function user_mgmt.change_password(text,text,text)', 'member'),
		('extension member', 'function user_mgmt.check_full_name(text)', 'member'),
		('extension member', 'function user_mgmt.check_password_policy(text)', 'member'),
		('extension member', 'function user_mgmt.check_schema()', 'member'),
		('extension member', 'function user_mgmt.check_username(text)', 'member'),
		('extension member', 'function user_mgmt.create_user(text,text,text,user_mgmt.role)', 'member'),
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
		('extension member', 'function user_mgmt.migration_history()', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text)', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text,integer)', 'member'),
		('extension member', 'function user_mgmt.pending_versions()', 'member'),
		('extension member', 'function user_mgmt.prune_auth_events(interval)', 'member'),
		('extension member', 'function user_mgmt.public_privileges(aclitem[])', 'member'),
		('extension member', 'function user_mgmt.random_bytes(integer)', 'member'),
		('extension member', 'function user_mgmt.record_auth_event(text,integer,text,text,inet,text)', 'member'),
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
		('extension member', 'function user_mgmt.sign_up(text,text,text)', 'member'),
		('extension member', 'function user_mgmt.signing_keys_changed()', 'member'),
		('extension member', 'function user_mgmt.stop_login_writer()', 'member'),
		('extension member', 'function user_mgmt.unlock_user(integer)', 'member'),
		('extension member', 'function user_mgmt.users_audit()', 'member'),
		('extension member', 'function user_mgmt.users_protect_login_state()', 'member'),
		('extension member', 'function user_mgmt.users_track_changes()', 'member'),
		('extension member', 'function user_mgmt.verify_password(text,text)', 'member'),
		('extension member', 'function user_mgmt.verify_token(text)', 'member'),
		('extension member', 'sequence user_mgmt.auth_events_id_seq', 'member'),
		('extension member', 'sequence user_mgmt.users_id_seq', 'member'),
		('extension member', 'table user_mgmt.auth_events', 'member'),
		('extension member', 'table user_mgmt.login_state', 'member'),
		('extension member', 'table user_mgmt.schema_migrations', 'member'),
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
		('function', 'user_mgmt.issue_token(integer)', 'md5 151826fcb0487ee7b11e0a8c825b6764'),
		('function', 'user_mgmt.issue_token(integer,interval)', 'md5 f0e5d9dd61dd21cb11e24e03dd1a0d2b'),
		('function', 'user_mgmt.login(text,text)', 'md5 2d93f317bb940e72695467f570ef0043'),
		('function', 'user_mgmt.login_guard_complete(integer,bigint,boolean,text,integer,interval,text,inet,text,boolean)', 'md5 a737a348544cac8d2106719f0788cf4f'),
		('function', 'user_mgmt.login_guard_mirror(integer)', 'md5 8b9256e13a18eb799be16e1cb1f4184b'),
		('function', 'user_mgmt.login_guard_recover()', 'md5 1971e54bfd3a65ea4d150d9cea99ccc0'),
		('function', 'user_mgmt.login_guard_rehash(integer,text,text)', 'md5 0ba120136dc23077c2177ed193298180'),
		('function', 'user_mgmt.login_guard_reserve(integer,integer,interval,text,inet,text)', 'md5 aeed17ae71f051bc9261bf825944c778'),
		('function', 'user_mgmt.login_guard_unlock(integer,text,inet,text)', 'md5 e7c9b48012f3f1a134baff9d54e482b9'),
		('function', 'user_mgmt.login_statistics()', 'md5 1f19accf258726b3758173f73b645d03'),
		('function', 'user_mgmt.migration_history()', 'md5 37186625b6783a283b1c2f91c46a84f5'),
		('function', 'user_mgmt.password_needs_rehash(text)', 'md5 baa6914ffc90d557d987ee4ac5a591a9'),
		('function', 'user_mgmt.password_needs_rehash(text,integer)', 'md5 c054ad3073aeb69253efa987ce534a47'),
		('function', 'user_mgmt.pending_versions()', 'md5 e5b625c57d57d68640760c13a691cb03'),
		('function', 'user_mgmt.prune_auth_events(interval)', 'md5 551ea4a3a0b0445096d20aa556e4cef8'),
		('function', 'user_mgmt.public_privileges(aclitem[])', 'md5 9f24b15b6dc60858f9a21621291de743'),
		('function', 'user_mgmt.random_bytes(integer)', 'md5 940ee5cd5b1be97c94284a2f3d0ba93e'),
		('function', 'user_mgmt.record_auth_event(text,integer,text,text,inet,text)', 'md5 e10160a4bfd4597278af8a3f96506493'),
		('function', 'user_mgmt.require_user(integer)', 'md5 b3f2804b1307ffd8e3b928f974a8a721'),
		('function', 'user_mgmt.retire_signing_key(text)', 'md5 42b1913dc5f564cbff98ebdc184b6866'),
		('function', 'user_mgmt.role_from_label(text)', 'md5 5b1907cdd9ae50a7edd6cd536032cf4f'),
		('function', 'user_mgmt.role_label(user_mgmt.role)', 'md5 3731e0c6b3e97401e09cce2f35f77a48'),
		('function', 'user_mgmt.role_labels()', 'md5 3ca47398b9e6416136341ace28566aee'),
		('function', 'user_mgmt.rotate_signing_key()', 'md5 1811064893963e6a18527d3c72180f10'),
		('function', 'user_mgmt.schema_objects()', 'md5 3596a57b0d208fdf04859c216fca4c07'),
		('function', 'user_mgmt.set_active(integer,boolean)', 'md5 d0f178e4a063f824fbf915ac9d941c6e'),
		('function', 'user_mgmt.set_password(integer,text)', 'md5 d923f0a623ed6a9e1b83f51f296606b2'),
		('function', 'user_mgmt.set_role(integer,user_mgmt.role)', 'md5 7250d3ae1df85f1cc7e1c3508f26a153'),
		('function', 'user_mgmt.set_session_token(text)', 'md5 ed971171a153751960e1b1bacaa7c2cd'),
		('function', 'user_mgmt.sign_up(text,text,text)', 'md5 a68223bf9b4d73b08795846dfc122a20'),
		('function', 'user_mgmt.signing_keys_changed()', 'md5 bf25ffb15a0570542ac605acf0091007'),
		('function', 'user_mgmt.stop_login_writer()', 'md5 4fc5228616d1b0d65c0eb6d6cd2101a0'),
		('function', 'user_mgmt.unlock_user(integer)', 'md5 18a19d823a64927b811cc4b0621f5f24'),
		('function', 'user_mgmt.users_audit()', 'md5 f8fe68536a82116a23bf0af1478f54c0'),
		('function', 'user_mgmt.users_protect_login_state()', 'md5 04cfaabfbf4e76091ef8956f3a82413f'),
		('function', 'user_mgmt.users_track_changes()', 'md5 e72fdbbf6ba0395400cc84f32bef9d4a'),
		('function', 'user_mgmt.verify_password(text,text)', 'md5 38bb68be68cb347972e5167ae3b9541b'),
		('function', 'user_mgmt.verify_token(text)', 'md5 e3db62badb8f09427e886e10317999e7'),
		('index', 'auth_events_occurred_at_idx', 'CREATE INDEX auth_events_occurred_at_idx ON user_mgmt.auth_events USING btree (occurred_at)'),
		('index', 'auth_events_pkey', 'CREATE UNIQUE INDEX auth_events_pkey ON user_mgmt.auth_events USING btree (id)'),
		('index', 'auth_events_user_id_idx', 'CREATE INDEX auth_events_user_id_idx ON user_mgmt.auth_events USING btree (user_id, occurred_at)'),
		('index', 'login_state_pkey', 'CREATE UNIQUE INDEX login_state_pkey ON user_mgmt.login_state USING btree (user_id)'),
		('index', 'schema_migrations_pkey', 'CREATE UNIQUE INDEX schema_migrations_pkey ON user_mgmt.schema_migrations USING btree (applied_at)'),
		('index', 'signing_keys_pkey', 'CREATE UNIQUE INDEX signing_keys_pkey ON user_mgmt.signing_keys USING btree (kid)'),
		('index', 'users_pkey', 'CREATE UNIQUE INDEX users_pkey ON user_mgmt.users USING btree (id)'),
		('index', 'users_username_key', 'CREATE UNIQUE INDEX users_username_key ON user_mgmt.users USING btree (username)'),
		('index', 'users_username_lower_key', 'CREATE UNIQUE INDEX users_username_lower_key ON user_mgmt.users USING btree (lower(((username)::text COLLATE "und-x-icu")))'),
		('public privileges', 'accounts', 'none'),
		('public privileges', 'auth_events', 'none'),
		('public privileges', 'auth_events_id_seq', 'none'),
		('public privileges', 'login_state', 'none'),
		('public privileges', 'schema user_mgmt', 'USAGE'),
		('public privileges', 'schema_migrations', 'none'),
		('public privileges', 'signing_keys', 'none'),
		('public privileges', 'user_mgmt.authenticate(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.await_login_writer()', 'none'),
		('public privileges', 'user_mgmt.change_password(text,text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_full_name(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_password_policy(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_schema()', 'EXECUTE'),
		('public privileges', 'user_mgmt.check_username(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.create_user(text,text,text,user_mgmt.role)', 'none'),
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
		('public privileges', 'user_mgmt.migration_history()', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.pending_versions()', 'EXECUTE'),
		('public privileges', 'user_mgmt.prune_auth_events(interval)', 'none'),
		('public privileges', 'user_mgmt.public_privileges(aclitem[])', 'EXECUTE'),
		('public privileges', 'user_mgmt.random_bytes(integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.record_auth_event(text,integer,text,text,inet,text)', 'none'),
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
		('public privileges', 'user_mgmt.sign_up(text,text,text)', 'none'),
		('public privileges', 'user_mgmt.signing_keys_changed()', 'none'),
		('public privileges', 'user_mgmt.stop_login_writer()', 'none'),
		('public privileges', 'user_mgmt.unlock_user(integer)', 'none'),
		('public privileges', 'user_mgmt.users_audit()', 'none'),
		('public privileges', 'user_mgmt.users_protect_login_state()', 'EXECUTE'),
		('public privileges', 'user_mgmt.users_track_changes()', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_password(text,text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_token(text)', 'EXECUTE'),
		('public privileges', 'users', 'none'),
		('public privileges', 'users_id_seq', 'none'),
		('sequence', 'auth_events_id_seq', 'bigint start 1 increment 1 min 1 max 9223372036854775807 cycle f'),
		('sequence', 'users_id_seq', 'integer start 1 increment 1 min 1 max 2147483647 cycle f'),
		('table', 'auth_events', 'row level security f'),
		('table', 'login_state', 'row level security f'),
		('table', 'schema_migrations', 'row level security f'),
		('table', 'signing_keys', 'row level security f'),
		('table', 'users', 'row level security f'),
		('trigger', 'signing_keys.signing_keys_changed', 'CREATE TRIGGER signing_keys_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON user_mgmt.signing_keys FOR EACH STATEMENT EXECUTE FUNCTION user_mgmt.signing_keys_changed()'),
		('trigger', 'users.users_audit', 'CREATE TRIGGER users_audit AFTER DELETE OR UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_audit()'),
		('trigger', 'users.users_protect_login_state', 'CREATE TRIGGER users_protect_login_state BEFORE UPDATE OF failed_login_count, locked_until ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_protect_login_state()'),
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
-- END GENERATED 1.3
	) AS t(object_type, object_name, definition);
END;

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.3', '1.2', 'upgrade',
		'Hardening: logins decided and recorded by a background writer (lockout under any isolation level and concurrency), audit trail, sign_up, no secrets in errors or logs');
