--
-- Version 1.4: sessions.  sign_in, login and issue_token open them;
-- refresh rotates refresh tokens (a second use ends the session); logout,
-- logout_all and revoke_session end them, and so does every change of an
-- account's password, role or activation; verify_token, set_session_token
-- and the claims readers check them at every call.  Every session change is
-- made and committed by the login writer before the function returns.
-- Random ids, tokens and times never show: they are compared, or shown by a
-- name (<s1>, <sasha>) given to them here (regress.mask).
--
SET user_mgmt.bcrypt_cost = 4;
SET DateStyle = 'ISO, MDY';
SELECT COALESCE(max(id), 0) AS before FROM user_mgmt.auth_events \gset

-- Names for the random values in messages.
CREATE TABLE regress.masks (label text PRIMARY KEY, value text NOT NULL UNIQUE,
	is_user boolean NOT NULL DEFAULT false);
CREATE FUNCTION regress.mask(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	m record;
BEGIN
	FOR m IN SELECT * FROM regress.masks ORDER BY label LOOP
		IF m.is_user THEN
			t := regexp_replace(t, '([Uu]ser )' || m.value || '\M', '\1<' || m.label || '>', 'g');
		ELSE
			t := replace(t, m.value, '<' || m.label || '>');
		END IF;
	END LOOP;
	t := regexp_replace(t, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
	RETURN regexp_replace(t, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?', '<time>', 'g');
END
$$;
INSERT INTO regress.masks (label, value) VALUES ('nil', '00000000-0000-4000-8000-000000000000');
-- regress.error_of, with the names.
CREATE FUNCTION regress.session_error(stmt text,
	OUT state text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE sql
AS $$ SELECT e.state, regress.mask(e.message), regress.mask(e.detail), regress.mask(e.hint)
      FROM regress.error_of(stmt) AS e $$;
-- What verify_token says of a token: valid, or the error.
CREATE FUNCTION regress.verdict(token text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
BEGIN
	PERFORM user_mgmt.verify_token(token);
	RETURN 'valid';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN st || ' ' || msg || ': ' || regress.mask(det);
END
$$;
-- A user, a token's session, sign_in's session: named as they are made.
CREATE FUNCTION regress.named_user(label text, id integer) RETURNS integer
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO regress.masks (label, value, is_user) VALUES (label, id::text, true);
	SELECT id;
END;
CREATE FUNCTION regress.named(label text, token text) RETURNS text
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO regress.masks (label, value)
	VALUES (label, convert_from(regress.b64url_decode(split_part(token, '.', 2)), 'UTF8')::jsonb ->> 'sid');
	SELECT token;
END;
CREATE FUNCTION regress.sign_in(label text, name text, password text,
	OUT access_token text, OUT refresh_token text,
	OUT access_expires_at timestamptz, OUT refresh_expires_at timestamptz, OUT session_id uuid)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT s.* INTO access_token, refresh_token, access_expires_at, refresh_expires_at, session_id
	FROM user_mgmt.sign_in(name, password) AS s;
	INSERT INTO regress.masks (label, value) VALUES (label, session_id::text);
END
$$;

--
-- The objects.
--
SELECT a.attrelid::regclass AS "table", a.attname AS column,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS "default"
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid IN ('user_mgmt.sessions'::regclass, 'user_mgmt.refresh_tokens'::regclass)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid::regclass::text DESC, a.attnum;

-- PUBLIC may neither read nor write them; every object has a comment
-- (table.sql checks the columns, constraints, indexes and triggers).
SELECT t AS "table",
       bool_or(has_table_privilege('public', t, p)) AS public_has_any,
       obj_description(t::regclass, 'pg_class') IS NOT NULL AS commented
FROM unnest(ARRAY['user_mgmt.sessions', 'user_mgmt.refresh_tokens']) AS t,
     unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
GROUP BY t ORDER BY t;

-- Who may call the functions of 1.4 (and those it changed).
SELECT p.oid::regprocedure::text AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute,
       p.prosecdef AS security_definer,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.pronamespace = 'user_mgmt'::regnamespace
  AND p.proname IN ('sign_in', 'refresh', 'logout', 'logout_all', 'revoke_session',
                    'current_session_id', 'prune_sessions', 'session_open', 'session_end',
                    'session_refresh', 'session_revoke', 'users_session_epoch',
                    'users_end_sessions', 'session_caches_changed', 'login', 'issue_token',
                    'verify_token', 'set_session_token', 'current_user_id', 'current_user_role')
ORDER BY 1;

-- The settings: superusers only (accounts.sql tries them as another role),
-- with their defaults and bounds.
SELECT name, setting, unit, context, min_val, max_val
FROM pg_settings
WHERE name IN ('user_mgmt.session_idle_timeout', 'user_mgmt.session_lifetime',
               'user_mgmt.max_sessions_per_user')
ORDER BY name;
\x on
SELECT * FROM regress.error_of('SET user_mgmt.session_lifetime = 0');
SELECT * FROM regress.error_of('SET user_mgmt.max_sessions_per_user = -1');
\x off

--
-- sign_in: a session with an access token and a refresh token.
--
SELECT regress.named_user('sasha', user_mgmt.create_user('sasha', 'sasha password', 'Саша Белова', 'CASHIER')) AS sasha \gset
SELECT pg_get_function_arguments('user_mgmt.sign_in(text,text,text,inet)'::regprocedure) AS arguments,
       pg_get_function_result('user_mgmt.sign_in(text,text,text,inet)'::regprocedure) AS result;
SELECT * FROM user_mgmt.sign_in('Sasha', 'sasha password', 'Mozilla/5.0 (regress)', '203.0.113.7') \gset s1_
INSERT INTO regress.masks (label, value) VALUES ('s1', :'s1_session_id');

-- The access token names the session; its expiry is access_expires_at.
SELECT :'s1_refresh_token' ~ '^[A-Za-z0-9_-]{43}$' AS refresh_token_form,
       c->>'sid' = :'s1_session_id' AS sid_is_the_session,
       c->>'sub' = :'sasha' AS sub_is_sasha, c->>'username' AS username, c->>'role' AS role,
       (c->>'exp')::bigint = extract(epoch FROM :'s1_access_expires_at'::timestamptz) AS exp_is_access_expires_at,
       (c->>'exp')::bigint - (c->>'iat')::bigint AS access_lifetime
FROM user_mgmt.verify_token(:'s1_access_token') AS c;
-- The session: its lifetime is session_lifetime (30 days), the refresh
-- token is good for the idle timeout (15 days); what sign_in was given.
SELECT s.origin, s.user_id = :sasha AS of_sasha,
       s.session_epoch = u.session_epoch AS epoch_of_the_account,
       s.refreshed_at = s.created_at AS not_refreshed_yet,
       s.expires_at - s.created_at AS lifetime,
       :'s1_refresh_expires_at'::timestamptz - s.created_at AS refresh_good_for,
       s.revoked_at IS NULL AS live, s.revoke_reason, s.user_agent, s.client_addr
FROM user_mgmt.sessions s JOIN user_mgmt.users u ON u.id = s.user_id
WHERE s.id = :'s1_session_id';
-- Only the SHA-256 of the refresh token is kept.
SELECT t.token_hash = digest(regress.b64url_decode(:'s1_refresh_token'), 'sha256') AS hash_of_the_token,
       t.issued_at = s.created_at AS issued_with_the_session, t.used_at IS NULL AS unused
FROM user_mgmt.refresh_tokens t JOIN user_mgmt.sessions s ON s.id = t.session_id
WHERE t.session_id = :'s1_session_id';

-- The settings decide the expiries: the refresh token never outlives the
-- session, nor the access token.
SET user_mgmt.session_lifetime = '2h';
SET user_mgmt.session_idle_timeout = '1h';
SELECT * FROM user_mgmt.sign_in('sasha', 'sasha password') \gset s2_
SELECT s.expires_at - s.created_at AS lifetime,
       :'s2_refresh_expires_at'::timestamptz - s.created_at AS refresh_good_for,
       :'s2_access_expires_at'::timestamptz - s.created_at < interval '31 minutes' AS access_for_token_ttl,
       s.user_agent IS NULL AS no_user_agent,
       s.client_addr IS NOT DISTINCT FROM inet_client_addr() AS address_of_the_caller
FROM user_mgmt.sessions s WHERE s.id = :'s2_session_id';
SET user_mgmt.session_idle_timeout = 0;
SET user_mgmt.session_lifetime = '10min';
SELECT * FROM user_mgmt.sign_in('sasha', 'sasha password') \gset s3_
SELECT s.expires_at - s.created_at AS lifetime,
       :'s3_refresh_expires_at'::timestamptz = s.expires_at AS refresh_until_the_end,
       :'s3_access_expires_at'::timestamptz = date_trunc('second', s.expires_at) AS access_until_the_end
FROM user_mgmt.sessions s WHERE s.id = :'s3_session_id';
RESET user_mgmt.session_lifetime;
RESET user_mgmt.session_idle_timeout;

-- The user agent is kept to its first 512 characters.
SELECT session_id AS ua_session FROM user_mgmt.sign_in('sasha', 'sasha password', repeat('я', 600)) \gset
SELECT length(user_agent) AS characters, user_agent = repeat('я', 512) AS its_beginning
FROM user_mgmt.sessions WHERE id = :'ua_session';
-- As given: an empty user agent is kept empty, not made NULL.
SELECT session_id AS ua_session FROM user_mgmt.sign_in('sasha', 'sasha password', '') \gset
SELECT user_agent = '' AS kept_empty FROM user_mgmt.sessions WHERE id = :'ua_session';

-- Failures: NULL arguments; every failed login is 28P01 and opens nothing.
SELECT count(*) AS sessions_of_sasha FROM user_mgmt.sessions WHERE user_id = :sasha \gset
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_in(NULL, 'sasha password')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_in('sasha', NULL)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_in('sasha', 'wrong password')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_in('nobody', 'sasha password')$$);
\x off
SELECT count(*) = :sessions_of_sasha AS none_opened FROM user_mgmt.sessions WHERE user_id = :sasha;

--
-- login and issue_token: a session each, that ends with the token.
--
SET user_mgmt.token_ttl = '10min';
SELECT regress.named('l1', user_mgmt.login('sasha', 'sasha password')) AS l1 \gset
RESET user_mgmt.token_ttl;
SELECT regress.named('i1', user_mgmt.issue_token(:sasha, '1 hour')) AS i1 \gset
SELECT s.origin, s.expires_at - s.created_at AS lifetime,
       (c->>'exp')::bigint = extract(epoch FROM date_trunc('second', s.expires_at)) AS token_ends_with_it,
       NOT EXISTS (SELECT FROM user_mgmt.refresh_tokens t WHERE t.session_id = s.id) AS no_refresh_token
FROM unnest(ARRAY[:'l1', :'i1']) AS tok,
     LATERAL user_mgmt.verify_token(tok) AS c
     JOIN user_mgmt.sessions s ON s.id = (c->>'sid')::uuid
ORDER BY s.created_at;

--
-- refresh: new tokens for the old refresh token, which is used up.
--
SELECT * FROM user_mgmt.refresh(:'s1_refresh_token') \gset r1_
SELECT :'r1_session_id' = :'s1_session_id' AS same_session,
       :'r1_refresh_token' <> :'s1_refresh_token' AS new_refresh_token,
       :'r1_access_token' <> :'s1_access_token' AS new_access_token,
       regress.verdict(:'r1_access_token') AS new_access,
       regress.verdict(:'s1_access_token') AS old_access_until_it_expires,
       s.refreshed_at > s.created_at AS refreshed,
       :'r1_refresh_expires_at'::timestamptz = s.refreshed_at + interval '15 days' AS idle_timeout_from_now,
       :'r1_access_expires_at'::timestamptz - s.refreshed_at < interval '31 minutes' AS access_for_token_ttl
FROM user_mgmt.sessions s WHERE s.id = :'s1_session_id';
SELECT t.token_hash = digest(regress.b64url_decode(:'s1_refresh_token'), 'sha256') AS first_token,
       t.used_at IS NOT NULL AS used
FROM user_mgmt.refresh_tokens t WHERE t.session_id = :'s1_session_id' ORDER BY t.issued_at;

-- The rotation is the writer's: a read-only transaction refreshes, and a
-- rollback does not give the used token back ...
BEGIN READ ONLY;
SELECT * FROM user_mgmt.refresh(:'r1_refresh_token') \gset r2_
ROLLBACK;
-- ... so presenting it again is reuse: the whole session ends.
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'r1_refresh_token'));
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'r2_refresh_token'));
\x off
SELECT regress.verdict(:'r2_access_token') AS newest_access;
SELECT revoke_reason FROM user_mgmt.sessions WHERE id = :'s1_session_id';

-- Tokens that are no refresh tokens.
\x on
SELECT * FROM regress.session_error($$SELECT user_mgmt.refresh('not a token')$$);
SELECT * FROM regress.session_error($$SELECT user_mgmt.refresh(repeat('A', 43))$$);
SELECT * FROM regress.session_error($$SELECT user_mgmt.refresh(repeat('A', 42) || '*')$$);
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'s2_access_token'));
\x off
SELECT session_id IS NULL AS strict FROM user_mgmt.refresh(NULL);

-- Expiry.  Idle: no refresh for longer than session_idle_timeout (the
-- session is made two hours old by hand).
SELECT * FROM regress.sign_in('s4', 'sasha', 'sasha password') \gset s4_
UPDATE user_mgmt.sessions SET created_at = created_at - interval '2 hours',
       refreshed_at = refreshed_at - interval '2 hours'
WHERE id = :'s4_session_id';
SET user_mgmt.session_idle_timeout = '1h';
SELECT regress.verdict(:'s4_access_token') AS idle;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'s4_refresh_token'));
\x off
-- (The timeout is read at each check.)
RESET user_mgmt.session_idle_timeout;
SELECT regress.verdict(:'s4_access_token') AS idle_for_less_than_15_days;
-- Absolute: past expires_at, refreshed or not.
UPDATE user_mgmt.sessions SET expires_at = now() - interval '1 minute' WHERE id = :'s4_session_id';
SELECT regress.verdict(:'s4_access_token') AS past_its_end;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'s4_refresh_token'));
\x off
SELECT used_at IS NULL AS refresh_token_not_used
FROM user_mgmt.refresh_tokens WHERE session_id = :'s4_session_id';

--
-- logout(token): an access token (even an expired one) or a refresh token.
--
SELECT * FROM regress.sign_in('s5', 'sasha', 'sasha password') \gset s5_
SELECT user_mgmt.logout(:'s5_access_token') AS ended;
SELECT user_mgmt.logout(:'s5_access_token') AS ended_again;
SELECT regress.verdict(:'s5_access_token') AS access;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'s5_refresh_token'));
\x off
SELECT user_mgmt.logout(:'s5_refresh_token') AS by_its_refresh_token_again;

-- An expired access token still names its session: logout takes it.
SELECT * FROM regress.sign_in('s6', 'sasha', 'sasha password') \gset s6_
SELECT regress.craft('{"alg":"HS256","typ":"JWT"}',
                     jsonb_build_object('sub', :'sasha', 'sid', :'s6_session_id',
                                        'exp', regress.now_unix() - 3600)) AS expired6 \gset
SELECT regress.verdict(:'expired6') AS expired_token;
SELECT user_mgmt.logout(:'expired6') AS ended_by_expired_token;
SELECT regress.verdict(:'s6_access_token') AS access;

-- By the refresh token.
SELECT * FROM regress.sign_in('s7', 'sasha', 'sasha password') \gset s7_
SELECT user_mgmt.logout(:'s7_refresh_token') AS ended;
SELECT user_mgmt.logout(:'s7_refresh_token') AS ended_again;
SELECT regress.verdict(:'s7_access_token') AS access;

-- What logout refuses: a signature that is not ours, a token without a
-- session, something that is no token, an unknown refresh token.  An
-- access token naming no session that exists (pruned, say) ends nothing.
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.logout(%L)',
    split_part(:'s2_access_token', '.', 1) || '.' || split_part(:'s2_access_token', '.', 2) || '.' ||
    regress.b64url(hmac(convert_to(split_part(:'s2_access_token', '.', 1) || '.' ||
                                   split_part(:'s2_access_token', '.', 2), 'UTF8'), '\x00'::bytea, 'sha256'))));
SELECT * FROM regress.session_error(format('SELECT user_mgmt.logout(%L)',
    regress.craft('{"alg":"HS256"}', jsonb_build_object('sub', :'sasha', 'exp', regress.now_unix() + 60))));
SELECT * FROM regress.session_error($$SELECT user_mgmt.logout('not a token')$$);
SELECT * FROM regress.session_error($$SELECT user_mgmt.logout(repeat('A', 43))$$);
\x off
SELECT user_mgmt.logout(regress.craft('{"alg":"HS256"}',
    jsonb_build_object('sub', :'sasha', 'sid', '00000000-0000-4000-8000-000000000000',
                       'exp', regress.now_unix() + 60))) AS unknown_session_ended;
SELECT user_mgmt.logout(NULL) IS NULL AS strict;
SELECT regress.verdict(:'s2_access_token') AS untouched;

--
-- logout(): the session of this transaction's claims.
--
SELECT * FROM regress.sign_in('s8', 'sasha', 'sasha password') \gset s8_
SELECT user_mgmt.current_session_id() IS NULL AS no_claims_no_session;
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.logout()');
\x off
BEGIN;
SELECT user_mgmt.set_session_token(:'s8_access_token') ->> 'sid' = :'s8_session_id' AS claims_set;
SELECT user_mgmt.current_session_id() = :'s8_session_id' AS current_session,
       user_mgmt.current_user_id() = :sasha AS current_user, user_mgmt.current_user_role();
SELECT user_mgmt.logout() AS logged_out;
-- the claims are forgotten
SELECT user_mgmt.current_session_id() IS NULL AS no_session, user_mgmt.current_user_id() IS NULL AS no_user;
ROLLBACK;
-- and the rollback did not bring the session back.
SELECT regress.verdict(:'s8_access_token') AS after_rollback;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.set_session_token(%L)', :'s8_access_token'));
\x off

-- Claims whose session ends in the middle of the transaction (here by
-- revoke_session, committed by the writer) no longer answer.
SELECT * FROM regress.sign_in('s9', 'sasha', 'sasha password') \gset s9_
BEGIN;
SELECT user_mgmt.set_session_token(:'s9_access_token') IS NOT NULL AS claims_set;
SELECT user_mgmt.current_user_id() = :sasha AS current_user;
SELECT user_mgmt.revoke_session(:'s9_session_id') AS revoked;
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.current_user_id()');
SELECT * FROM regress.session_error('SELECT user_mgmt.current_user_role()');
SELECT * FROM regress.session_error('SELECT user_mgmt.current_session_id()');
SELECT * FROM regress.session_error('SELECT user_mgmt.logout_all()');
\x off
-- logout() does not need a live session: it had ended already.
SELECT user_mgmt.logout() AS ended;
SELECT user_mgmt.current_user_id() IS NULL AS forgotten;
COMMIT;

-- A change of the account in this transaction: the claims stop at once,
-- and a rolled-back change ends no session.
SELECT * FROM regress.sign_in('s10', 'sasha', 'sasha password') \gset s10_
BEGIN;
SELECT user_mgmt.set_session_token(:'s10_access_token') IS NOT NULL AS claims_set;
SELECT user_mgmt.set_active(:sasha, false);
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.current_user_id()');
\x off
ROLLBACK;
SELECT regress.verdict(:'s10_access_token') AS after_rollback;

--
-- The account's session epoch: moved by changes of password, role and
-- activation only; never set by hand.
--
SELECT session_epoch AS e0, hashed_password AS h0 FROM user_mgmt.users WHERE id = :sasha \gset
\x on
SELECT * FROM regress.error_of(format('UPDATE user_mgmt.users SET session_epoch = session_epoch + 1 WHERE id = %s', :sasha));
\x off
UPDATE user_mgmt.users SET session_epoch = session_epoch, full_name = 'Саша Б.', is_active = true
WHERE id = :sasha;
SELECT session_epoch - :e0 AS moved FROM user_mgmt.users WHERE id = :sasha;
-- The login writer's new hash of the same password is no change.
SET user_mgmt.bcrypt_cost = 5;
SELECT (user_mgmt.authenticate('sasha', 'sasha password')).username;
SELECT user_mgmt.await_login_writer();
SET user_mgmt.bcrypt_cost = 4;
SELECT user_mgmt.hash_cost(hashed_password) AS cost, hashed_password <> :'h0' AS rehashed,
       session_epoch - :e0 AS moved
FROM user_mgmt.users WHERE id = :sasha;
SELECT regress.verdict(:'s10_access_token') AS after_rehash;
-- Each change moves it, and revokes the sessions, saying why.
SELECT user_mgmt.set_role(:sasha, 'ADMIN');
SELECT session_epoch - :e0 AS moved FROM user_mgmt.users WHERE id = :sasha;
SELECT regress.verdict(:'s10_access_token') AS role_changed;
SELECT * FROM regress.sign_in('s11', 'sasha', 'sasha password') \gset s11_
SELECT user_mgmt.set_password(:sasha, 'new sasha password');
SELECT session_epoch - :e0 AS moved FROM user_mgmt.users WHERE id = :sasha;
SELECT regress.verdict(:'s11_access_token') AS password_set;
SELECT * FROM regress.sign_in('s12', 'sasha', 'new sasha password') \gset s12_
SELECT user_mgmt.change_password('sasha', 'new sasha password', 'sasha password');
SELECT regress.verdict(:'s12_access_token') AS password_changed;
SELECT * FROM regress.sign_in('s13', 'sasha', 'sasha password') \gset s13_
SELECT user_mgmt.set_active(:sasha, false);
SELECT regress.verdict(:'s13_access_token') AS while_inactive;
SELECT user_mgmt.set_active(:sasha, true);
SELECT session_epoch - :e0 AS moved FROM user_mgmt.users WHERE id = :sasha;
SELECT regress.verdict(:'s13_access_token') AS reactivated;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'s13_refresh_token'));
\x off
SELECT revoke_reason, count(*) FROM user_mgmt.sessions
WHERE user_id = :sasha GROUP BY revoke_reason ORDER BY revoke_reason;

--
-- logout_all, revoke_session.
--
SELECT regress.named_user('misha', user_mgmt.create_user('misha', 'misha password', 'Миша', 'USER')) AS misha \gset
SELECT * FROM regress.sign_in('m1', 'misha', 'misha password') \gset m1_
SELECT * FROM regress.sign_in('m2', 'misha', 'misha password') \gset m2_
SELECT regress.named('m3', user_mgmt.login('misha', 'misha password')) AS m3 \gset
SELECT * FROM regress.sign_in('s14', 'sasha', 'sasha password') \gset s14_
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.logout_all()');
\x off
-- Every session of the claims' user, at once (a rollback undoes nothing).
BEGIN;
SELECT user_mgmt.set_session_token(:'m1_access_token') IS NOT NULL AS claims_set;
SELECT user_mgmt.logout_all() AS ended;
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.current_user_id()');
\x off
ROLLBACK;
SELECT regress.verdict(:'m2_access_token') AS m2, regress.verdict(:'m3') AS m3,
       regress.verdict(:'s14_access_token') AS other_user;
-- As administrator: by user id.
SELECT * FROM regress.sign_in('m4', 'misha', 'misha password') \gset m4_
SELECT user_mgmt.logout_all(:misha) AS ended;
SELECT user_mgmt.logout_all(:misha) AS ended_again;
SELECT regress.verdict(:'m4_access_token') AS m4;
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.logout_all(2147483647)');
\x off
SELECT user_mgmt.logout_all(NULL) IS NULL AS strict;
-- One session.
SELECT * FROM regress.sign_in('m5', 'misha', 'misha password') \gset m5_
SELECT user_mgmt.revoke_session(:'m5_session_id') AS revoked;
SELECT user_mgmt.revoke_session(:'m5_session_id') AS revoked_again;
SELECT regress.verdict(:'m5_access_token') AS m5;
\x on
SELECT * FROM regress.session_error($$SELECT user_mgmt.revoke_session('00000000-0000-4000-8000-000000000000')$$);
\x off
SELECT user_mgmt.revoke_session(NULL) IS NULL AS strict;
-- A session that ended by itself (past its end, or idle) has nothing left
-- to revoke: false, not counted, no audit row.
SELECT max(id) AS before_ended FROM user_mgmt.auth_events \gset
SELECT * FROM regress.sign_in('z1', 'misha', 'misha password') \gset z1_
SELECT * FROM regress.sign_in('z2', 'misha', 'misha password') \gset z2_
SELECT * FROM regress.sign_in('z3', 'misha', 'misha password') \gset z3_
UPDATE user_mgmt.sessions SET expires_at = now() - interval '1 hour' WHERE id = :'z1_session_id';
UPDATE user_mgmt.sessions SET refreshed_at = now() - interval '16 days' WHERE id = :'z2_session_id';
SELECT user_mgmt.logout(:'z1_refresh_token') AS expired_logged_out,
       user_mgmt.revoke_session(:'z2_session_id') AS idle_revoked;
SELECT user_mgmt.logout_all(:misha) AS live_ones_ended;
SELECT id = :'z3_session_id' AS only_the_live_one, revoke_reason FROM user_mgmt.sessions
WHERE id IN (:'z1_session_id', :'z2_session_id', :'z3_session_id') AND revoked_at IS NOT NULL;
SELECT event, detail FROM user_mgmt.auth_events WHERE id > :before_ended ORDER BY id;

--
-- verify_token: every way a session can fail a token.
--
SELECT * FROM regress.sign_in('m6', 'misha', 'misha password') \gset m6_
SELECT regress.verdict(regress.craft('{"alg":"HS256"}',
           jsonb_build_object('sub', :'misha', 'sid', 'not-a-uuid', 'exp', regress.now_unix() + 60))) AS sid_not_a_uuid,
       regress.verdict(regress.craft('{"alg":"HS256"}',
           jsonb_build_object('sub', :'misha', 'sid', 42, 'exp', regress.now_unix() + 60))) AS sid_a_number;
SELECT regress.verdict(regress.craft('{"alg":"HS256"}',
           jsonb_build_object('sub', :'misha', 'sid', '00000000-0000-4000-8000-000000000000',
                              'exp', regress.now_unix() + 60))) AS no_such_session;
SELECT regress.verdict(regress.craft('{"alg":"HS256"}',
           jsonb_build_object('sub', :'sasha', 'sid', :'m6_session_id', 'exp', regress.now_unix() + 60))) AS another_users_session;
SELECT regress.verdict(:'m6_access_token') AS still_valid;

-- A session opened by a transaction that changed the account and then
-- rolled back was opened under an epoch the account never had.
BEGIN;
SELECT user_mgmt.set_role(:misha, 'ADMIN');
SELECT * FROM user_mgmt.sign_in('misha', 'misha password') \gset m7_
ROLLBACK;
INSERT INTO regress.masks (label, value) VALUES ('m7', :'m7_session_id');
SELECT regress.verdict(:'m7_access_token') AS epoch_changed;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'m7_refresh_token'));
\x off
SELECT revoke_reason FROM user_mgmt.sessions WHERE id = :'m7_session_id';
SELECT regress.verdict(:'m6_access_token') AS still_valid;

-- A change another transaction has not committed yet: the writer does not
-- wait for its rows (55P03); tokens verify until the change commits, and
-- claims stop answering as soon as it has.
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s',
    current_setting('unix_socket_directories'), current_setting('port'), current_database())) AS other;
SELECT dblink_exec('other', 'BEGIN');
SELECT r AS set_role_elsewhere
FROM dblink('other', format('SELECT user_mgmt.set_role(%s, %L)::text', :misha, 'CASHIER')) AS t(r text);
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'m6_refresh_token'));
SELECT * FROM regress.session_error(format('SELECT user_mgmt.logout(%L)', :'m6_refresh_token'));
\x off
BEGIN;
SELECT user_mgmt.set_session_token(:'m6_access_token') IS NOT NULL AS claims_set;
SELECT user_mgmt.current_user_role() AS before_the_commit;
SELECT dblink_exec('other', 'COMMIT');
\x on
SELECT * FROM regress.session_error('SELECT user_mgmt.current_user_role()');
\x off
COMMIT;
SELECT dblink_disconnect('other');
SELECT regress.verdict(:'m6_access_token') AS after_the_commit;

-- A deleted user's sessions.
SELECT regress.named_user('tolya', user_mgmt.create_user('tolya', 'tolya password', 'Толя', 'USER')) AS tolya \gset
SELECT user_mgmt.set_active(:tolya, false);
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_in('tolya', 'tolya password')$$);
\x off
SELECT user_mgmt.set_active(:tolya, true);
SELECT * FROM regress.sign_in('t1', 'tolya', 'tolya password') \gset t1_
SELECT user_mgmt.delete_user(:tolya);
SELECT regress.verdict(:'t1_access_token') AS user_deleted;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'t1_refresh_token'));
\x off

-- TRUNCATE of users revokes every session (rolled back here).
SELECT user_mgmt.await_login_writer();
BEGIN;
SELECT count(*) AS live_before FROM user_mgmt.sessions WHERE revoked_at IS NULL \gset
TRUNCATE user_mgmt.users;
SELECT :live_before > 0 AS there_were_some,
       count(*) FILTER (WHERE revoked_at IS NULL) AS live,
       count(*) FILTER (WHERE revoke_reason = 'user_deleted' AND revoked_at >= now()) = :live_before AS revoked_now
FROM user_mgmt.sessions;
SELECT regress.verdict(:'s14_access_token') AS s14;
ROLLBACK;
SELECT regress.verdict(:'s14_access_token') AS s14;

--
-- The cap: max_sessions_per_user live sessions; the oldest make room.
--
SELECT regress.named_user('kolya', user_mgmt.create_user('kolya', 'kolya password', 'Коля', 'USER')) AS kolya \gset
SET user_mgmt.max_sessions_per_user = 2;
SELECT * FROM regress.sign_in('k1', 'kolya', 'kolya password') \gset k1_
SELECT * FROM regress.sign_in('k2', 'kolya', 'kolya password') \gset k2_
SELECT * FROM regress.sign_in('k3', 'kolya', 'kolya password') \gset k3_
SELECT regress.verdict(:'k1_access_token') AS k1, regress.verdict(:'k2_access_token') AS k2,
       regress.verdict(:'k3_access_token') AS k3;
-- Only live sessions count: an expired one makes no room.
UPDATE user_mgmt.sessions SET expires_at = now() - interval '1 minute' WHERE id = :'k2_session_id';
SELECT * FROM regress.sign_in('k4', 'kolya', 'kolya password') \gset k4_
SELECT regress.verdict(:'k3_access_token') AS k3, regress.verdict(:'k4_access_token') AS k4;
-- One: every other session goes, login and issue_token included.
SET user_mgmt.max_sessions_per_user = 1;
SELECT regress.named('k5', user_mgmt.issue_token(:kolya)) AS k5 \gset
SELECT regress.verdict(:'k3_access_token') AS k3, regress.verdict(:'k4_access_token') AS k4,
       regress.verdict(:'k5') AS k5;
-- Zero: no cap.
SET user_mgmt.max_sessions_per_user = 0;
SELECT count(*) AS opened FROM generate_series(1, 3) AS i, LATERAL user_mgmt.sign_in('kolya', 'kolya password');
SELECT regress.verdict(:'k5') AS k5;
RESET user_mgmt.max_sessions_per_user;
SELECT revoke_reason, count(*) FROM user_mgmt.sessions
WHERE user_id = :kolya GROUP BY revoke_reason ORDER BY revoke_reason;

--
-- prune_sessions: sessions that ended longer ago than older_than go, with
-- their refresh tokens (made to have ended days ago here).
--
UPDATE user_mgmt.sessions SET revoked_at = now() - interval '2 days' WHERE id = :'k1_session_id';
UPDATE user_mgmt.sessions SET expires_at = now() - interval '3 days' WHERE id = :'k2_session_id';
SELECT user_mgmt.prune_sessions('1 day') AS pruned;
SELECT count(*) AS sessions_left FROM user_mgmt.sessions
WHERE id IN (:'k1_session_id', :'k2_session_id');
SELECT count(*) AS refresh_tokens_left FROM user_mgmt.refresh_tokens
WHERE session_id IN (:'k1_session_id', :'k2_session_id');
SELECT regress.verdict(:'k1_access_token') AS pruned_session;
\x on
SELECT * FROM regress.session_error(format('SELECT user_mgmt.refresh(%L)', :'k2_refresh_token'));
SELECT * FROM regress.error_of($$SELECT user_mgmt.prune_sessions('-1 day')$$);
\x off
-- The default is user_mgmt.auth_events_retention; 0 there keeps everything.
SELECT user_mgmt.prune_sessions() AS pruned_by_retention;
SET user_mgmt.auth_events_retention = 0;
SELECT user_mgmt.prune_sessions() AS pruned_with_retention_0;
RESET user_mgmt.auth_events_retention;

--
-- Another role: sign_in, refresh, logout and the claims are for everyone,
-- the tables and the administrative functions are not.
--
CREATE ROLE regress_user_mgmt_app;
SET ROLE regress_user_mgmt_app;
SELECT * FROM user_mgmt.sign_in('misha', 'misha password') \gset a_
SELECT session_id = :'a_session_id' AS refreshed FROM user_mgmt.refresh(:'a_refresh_token') \gset
SELECT :'refreshed' AS refreshed;
BEGIN;
SELECT user_mgmt.set_session_token(:'a_access_token') IS NOT NULL AS claims_set;
SELECT user_mgmt.current_session_id() = :'a_session_id' AS current_session;
SELECT user_mgmt.logout() AS logged_out;
COMMIT;
\x on
SELECT * FROM regress.error_of('SELECT count(*) FROM user_mgmt.sessions');
SELECT * FROM regress.error_of('SELECT count(*) FROM user_mgmt.refresh_tokens');
SELECT * FROM regress.error_of($$SELECT user_mgmt.revoke_session('00000000-0000-4000-8000-000000000000')$$);
SELECT * FROM regress.error_of(format('SELECT user_mgmt.logout_all(%s)', :misha));
SELECT * FROM regress.error_of('SELECT user_mgmt.prune_sessions()');
\x off
SELECT s.name, e.state, e.message
FROM pg_settings AS s, LATERAL regress.error_of(format('SET %I = %L', s.name, s.setting)) AS e
WHERE s.name IN ('user_mgmt.session_idle_timeout', 'user_mgmt.session_lifetime',
                 'user_mgmt.max_sessions_per_user')
ORDER BY s.name;
RESET ROLE;
DROP ROLE regress_user_mgmt_app;
INSERT INTO regress.masks (label, value) VALUES ('a1', :'a_session_id');

--
-- The audit trail: the writer's revocations and reuse, with the session.
--
SELECT event, username, regress.mask(detail) AS detail
FROM user_mgmt.auth_events
WHERE id > :before AND event IN ('session_revoked', 'refresh_token_reused')
ORDER BY id;

SELECT user_mgmt.delete_user(id) FROM user_mgmt.users
WHERE username IN ('sasha', 'misha', 'kolya') ORDER BY id;
DROP FUNCTION regress.sign_in(text, text, text), regress.named(text, text),
	regress.named_user(text, integer), regress.verdict(text),
	regress.session_error(text), regress.mask(text);
DROP TABLE regress.masks;
RESET DateStyle;
RESET user_mgmt.bcrypt_cost;
