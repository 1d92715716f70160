-- Server-side token benchmark of user_mgmt (version 1.4: session tokens).
-- Run by bench/bench_tokens.sh (psql variables tokens, sessions, few, issue
-- and rounds).  Every measurement is taken with clock_timestamp() inside
-- PL/pgSQL, so no client round trip is measured; the implementations
-- alternate, and which one goes first rotates from round to round.
\set ON_ERROR_STOP 1
\pset footer off

SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
-- 1.4: every issue_token opens a session; the bench's users get far more
-- than the default cap of 50 live sessions each (the cap is the caller's
-- setting, sent to the login writer with the request).
SET user_mgmt.max_sessions_per_user = 0;

SELECT set_config('bench.tokens', :'tokens', false),
       set_config('bench.sessions', :'sessions', false),
       set_config('bench.few', :'few', false),
       set_config('bench.issue', :'issue', false),
       set_config('bench.rounds', :'rounds', false) \gset

/* ---------------------------------------------------------------------------
 * The baseline: HS256 JWTs in plain SQL on pgcrypto's hmac(), the way pgjwt
 * (github.com/michelp/pgjwt) does it -- url-safe base64 with encode() and
 * translate(), sign = hmac(signing input, secret, 'sha256'), verify =
 * re-sign and compare, then check exp.  The secret is passed in (as pgjwt
 * does), so the baseline does not even pay for a key lookup.
 * --------------------------------------------------------------------------- */
CREATE SCHEMA bench;

CREATE FUNCTION bench.url_encode(data bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(encode(data, 'base64'), E'+/=\n', '-_');
$$;

CREATE FUNCTION bench.url_decode(data text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    WITH t AS (SELECT translate(data, '-_', '+/') AS trans),
         rem AS (SELECT length(t.trans) % 4 AS remainder FROM t)
    SELECT decode(t.trans || CASE WHEN rem.remainder > 0
                                  THEN repeat('=', 4 - rem.remainder) ELSE '' END,
                  'base64')
    FROM t, rem;
$$;

CREATE FUNCTION bench.algorithm_sign(signables text, secret bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT bench.url_encode(hmac(convert_to(signables, 'UTF8'), secret, 'sha256'));
$$;

CREATE FUNCTION bench.jwt_sign(header jsonb, payload jsonb, secret bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    WITH s AS (SELECT bench.url_encode(convert_to(header::text, 'UTF8')) || '.'
                      || bench.url_encode(convert_to(payload::text, 'UTF8')) AS data)
    SELECT s.data || '.' || bench.algorithm_sign(s.data, secret) FROM s;
$$;

-- issue: the same header and claims as user_mgmt.issue_token, from the users
-- row; sid is the session the token belongs to (NULL: none)
CREATE FUNCTION bench.jwt_issue(user_id integer, ttl_seconds integer, kid text, secret bytea,
                                sid uuid DEFAULT NULL)
RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT bench.jwt_sign(
        jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', kid),
        jsonb_strip_nulls(jsonb_build_object(
            'sub', u.id::text, 'username', u.username, 'role', u.role, 'sid', sid::text,
            'iat', floor(extract(epoch FROM now()))::bigint,
            'exp', floor(extract(epoch FROM now()))::bigint + ttl_seconds,
            'jti', gen_random_uuid()::text)),
        secret)
    FROM user_mgmt.users AS u
    WHERE u.id = user_id;
$$;

-- verify: the claims, or NULL for a bad algorithm, signature or exp
CREATE FUNCTION bench.jwt_verify(token text, secret bytea) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.header ->> 'alg' = 'HS256'
                     AND p.sig = bench.algorithm_sign(p.h || '.' || p.b, secret)
                     AND (p.claims ->> 'exp')::numeric > extract(epoch FROM now())
                THEN p.claims END
    FROM (SELECT s.h, s.b, s.sig,
                 convert_from(bench.url_decode(s.h), 'UTF8')::jsonb AS header,
                 convert_from(bench.url_decode(s.b), 'UTF8')::jsonb AS claims
          FROM (SELECT split_part(token, '.', 1) AS h, split_part(token, '.', 2) AS b,
                       split_part(token, '.', 3) AS sig) AS s) AS p;
$$;

/*
 * The baseline with revocation, as a pgjwt or PostgREST user has to write it
 * to honour logouts (PostgREST: in a pre-request function): verify as
 * above, then look the token's session up by its sid (primary key) and
 * check that it belongs to the token's subject, is not revoked and has not
 * expired.  user_mgmt checks more (the account exists, is active and has
 * not changed since the session began; the idle timeout): this baseline is
 * the least a revocable session needs.  In PL/pgSQL, whose cached plan
 * makes the lookup cost about 10 us; the same as one SQL function (a join)
 * costs about ten times that, which would flatter us.
 */
CREATE FUNCTION bench.jwt_verify_session(token text, secret bytea) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    claims constant jsonb := bench.jwt_verify(token, secret);
BEGIN
    IF claims IS NOT NULL AND EXISTS (
        SELECT 1 FROM user_mgmt.sessions AS s
        WHERE s.id = (claims ->> 'sid')::uuid
          AND s.user_id = (claims ->> 'sub')::integer
          AND s.revoked_at IS NULL
          AND s.expires_at > now()) THEN
        RETURN claims;
    END IF;
    RETURN NULL;
END
$$;

-- issue with a session, the baseline's way: a row in its own sessions table
-- (inserted by the issuing statement, committed with it), then sign
CREATE TABLE bench.sessions (
    id uuid PRIMARY KEY,
    user_id integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE FUNCTION bench.jwt_issue_session(user_id integer, ttl_seconds integer, kid text, secret bytea)
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    sid uuid;
BEGIN
    INSERT INTO bench.sessions (id, user_id, expires_at)
    VALUES (gen_random_uuid(), user_id, now() + make_interval(secs => ttl_seconds))
    RETURNING id INTO sid;
    RETURN bench.jwt_issue(user_id, ttl_seconds, kid, secret, sid);
END
$$;

/*
 * For reference, verification without the session check: 1.3's verify_token
 * entry point, still in the library (signature, exp, claims; ignores sid).
 * Then signing alone, ours: 1.3's issue_token, whose C entry point is still in
 * the library -- the same user lookup and signing as 1.4's, without the
 * session (so without the sid claim, 45 bytes shorter).  Skipped if the
 * library no longer has it.
 */
DO $$
BEGIN
    CREATE FUNCTION bench.um_verify_no_session(token text) RETURNS jsonb
        AS '$libdir/user_mgmt', 'um_verify_token' LANGUAGE C STABLE STRICT;
EXCEPTION WHEN undefined_function THEN
    RAISE WARNING 'um_verify_token is gone from the library: no row without the session check';
END
$$;
DO $$
BEGIN
    CREATE FUNCTION bench.um_sign_only(user_id integer, ttl interval) RETURNS text
        AS '$libdir/user_mgmt', 'um_issue_token' LANGUAGE C VOLATILE STRICT;
EXCEPTION WHEN undefined_function THEN
    RAISE WARNING 'um_issue_token is gone from the library: no signing-only row';
END
$$;

/* ---------------------------------------------------------------------------
 * Data: 100 users; :sessions sessions over them (one issue_token each, so
 * one session each), :few sessions more, and two spare sessions a round to
 * revoke (each revocation empties every backend's session cache).  Tokens
 * are issued for two hours, whatever user_mgmt.token_ttl says.
 * --------------------------------------------------------------------------- */
SET user_mgmt.bcrypt_cost = 4;
SELECT count(user_mgmt.create_user('bench_' || g, 'bench password', 'Bench User ' || g,
                                   (ARRAY['USER', 'CASHIER', 'ADMIN']::user_mgmt.role[])[1 + g % 3]))
FROM generate_series(1, 100) AS g \gset
RESET user_mgmt.bcrypt_cost;

CREATE TEMP TABLE bench_users AS
    SELECT row_number() OVER (ORDER BY id) AS k, id FROM user_mgmt.users;

-- many sessions: one token per session, in session order
CREATE TEMP TABLE many_tokens AS
    SELECT g, user_mgmt.issue_token(u.id, interval '2 hours') AS t
    FROM generate_series(0, current_setting('bench.sessions')::int - 1) AS g
    JOIN bench_users AS u ON u.k = 1 + g % 100
    ORDER BY g;

-- a few sessions: :tokens rows cycling over their tokens (so each row asks
-- for another session than the row before)
CREATE TEMP TABLE few_sessions AS
    SELECT g, user_mgmt.issue_token(u.id, interval '2 hours') AS t
    FROM generate_series(0, current_setting('bench.few')::int - 1) AS g
    JOIN bench_users AS u ON u.k = 1 + (g * 37) % 100
    ORDER BY g;
CREATE TEMP TABLE few_tokens AS
    SELECT s.g, f.t
    FROM generate_series(0, current_setting('bench.tokens')::int - 1) AS s(g)
    JOIN few_sessions AS f ON f.g = s.g % current_setting('bench.few')::int
    ORDER BY s.g;

CREATE TEMP TABLE spare_sessions AS
    SELECT g AS round,
           (user_mgmt.verify_token(user_mgmt.issue_token(u.id, interval '2 hours')) ->> 'sid')::uuid AS sid
    FROM generate_series(1, 2 * current_setting('bench.rounds')::int) AS g
    JOIN bench_users AS u ON u.k = 1;

CREATE TEMP TABLE issue_ids AS
    SELECT u.id FROM generate_series(0, current_setting('bench.issue')::int - 1) AS g
    JOIN bench_users AS u ON u.k = 1 + g % 100;

-- the first half of them
CREATE TEMP TABLE half_tokens AS
    SELECT g, t FROM many_tokens WHERE g < current_setting('bench.sessions')::int / 2 ORDER BY g;

ANALYZE many_tokens;
ANALYZE half_tokens;
ANALYZE few_tokens;
ANALYZE issue_ids;
ANALYZE user_mgmt.sessions;

-- Both implementations accept the same tokens (checked once, outside the
-- timed part), and the baselines really do reject bad ones.
DO $check$
DECLARE
    secret constant bytea := user_mgmt.export_signing_key();
    kid constant text := (SELECT convert_from(bench.url_decode(split_part(t, '.', 1)), 'UTF8')::jsonb ->> 'kid'
                          FROM few_tokens LIMIT 1);
    n bigint;
    total bigint;
    tok text;
    claims jsonb;
BEGIN
    total := (SELECT count(*) FROM many_tokens);
    SELECT count(user_mgmt.verify_token(t)) INTO n FROM many_tokens;
    IF n <> total THEN
        RAISE EXCEPTION 'user_mgmt verified % of its % session tokens', n, total;
    END IF;
    SELECT count(bench.jwt_verify(t, secret)) INTO n FROM many_tokens;
    IF n <> total THEN
        RAISE EXCEPTION 'the baseline verified % of our % tokens', n, total;
    END IF;
    SELECT count(bench.jwt_verify_session(t, secret)) INTO n FROM many_tokens;
    IF n <> total THEN
        RAISE EXCEPTION 'the baseline with sessions verified % of our % tokens', n, total;
    END IF;
    IF (SELECT count(DISTINCT user_mgmt.verify_token(t) ->> 'sid') FROM many_tokens) <> total THEN
        RAISE EXCEPTION 'the many-sessions tokens do not have a session each';
    END IF;
    -- tokens signed by the baseline for one of our sessions verify with ours
    tok := (SELECT t FROM few_tokens LIMIT 1);
    claims := user_mgmt.verify_token(tok);
    tok := bench.jwt_issue((claims ->> 'sub')::int, 600, kid, secret, (claims ->> 'sid')::uuid);
    IF user_mgmt.verify_token(tok) ->> 'sid' IS DISTINCT FROM claims ->> 'sid' THEN
        RAISE EXCEPTION 'user_mgmt.verify_token does not accept a baseline token';
    END IF;
    IF bench.jwt_verify(tok || 'x', secret) IS NOT NULL
       OR bench.jwt_verify(tok, set_byte(secret, 0, get_byte(secret, 0) # 1)) IS NOT NULL THEN
        RAISE EXCEPTION 'the baseline accepts a bad token';
    END IF;
    -- a revoked session: both refuse
    tok := user_mgmt.issue_token((claims ->> 'sub')::int, interval '10 minutes');
    PERFORM user_mgmt.revoke_session((user_mgmt.verify_token(tok) ->> 'sid')::uuid);
    IF bench.jwt_verify_session(tok, secret) IS NOT NULL THEN
        RAISE EXCEPTION 'the baseline with sessions accepts a revoked session';
    END IF;
    BEGIN
        PERFORM user_mgmt.verify_token(tok);
        RAISE EXCEPTION 'user_mgmt.verify_token accepts a revoked session';
    EXCEPTION WHEN invalid_authorization_specification THEN
        NULL;
    END;
    -- the signing-only function signs what verifies (signature and exp)
    IF to_regproc('bench.um_sign_only') IS NOT NULL
       AND bench.jwt_verify(bench.um_sign_only((claims ->> 'sub')::int, interval '10 minutes'), secret) IS NULL THEN
        RAISE EXCEPTION 'bench.um_sign_only signs tokens the baseline refuses';
    END IF;
END
$check$;

/* ---------------------------------------------------------------------------
 * (a) verify_token: one statement over all rows per sample.
 *   few:  :tokens rows over :few sessions (every session check a cache hit);
 *   many: :sessions rows, one session each: a pass right after a revocation
 *         (which empties the cache: cold), then a second pass (warm).
 * Baselines over the same rows: pgjwt-style verify, and the same plus the
 * session lookup.
 * --------------------------------------------------------------------------- */
CREATE TEMP TABLE token_sample (op text, impl text, round int, calls bigint, seconds float8);

DO $bench$
DECLARE
    secret constant bytea := user_mgmt.export_signing_key();
    rounds constant int := current_setting('bench.rounds')::int;
    few_total constant bigint := (SELECT count(*) FROM few_tokens);
    many_total constant bigint := (SELECT count(*) FROM many_tokens);
    half_total constant bigint := (SELECT count(*) FROM half_tokens);
    impls constant text[] := ARRAY['user_mgmt', 'pgjwt', 'pgjwt + session lookup'];
    no_session constant boolean := to_regproc('bench.um_verify_no_session') IS NOT NULL;
    r int;
    i int;
    impl text;
    n bigint;
    t0 timestamptz;
    t1 timestamptz;
    t2 timestamptz;
BEGIN
    -- warm-up (caches, plans), not recorded
    PERFORM count(user_mgmt.verify_token(t)) FROM few_tokens;
    PERFORM count(bench.jwt_verify(t, secret)) FROM (SELECT t FROM few_tokens LIMIT 1000) AS s;
    PERFORM count(bench.jwt_verify_session(t, secret)) FROM (SELECT t FROM few_tokens LIMIT 1000) AS s;

    FOR r IN 1..rounds LOOP
        FOR i IN 0..2 LOOP
            impl := impls[1 + (i + r) % 3];
            -- a few sessions, cache hits
            IF impl = 'user_mgmt' THEN
                t0 := clock_timestamp();
                SELECT count(user_mgmt.verify_token(t)) INTO n FROM few_tokens;
                t1 := clock_timestamp();
            ELSIF impl = 'pgjwt' THEN
                t0 := clock_timestamp();
                SELECT count(bench.jwt_verify(t, secret)) INTO n FROM few_tokens;
                t1 := clock_timestamp();
            ELSE
                t0 := clock_timestamp();
                SELECT count(bench.jwt_verify_session(t, secret)) INTO n FROM few_tokens;
                t1 := clock_timestamp();
            END IF;
            IF n <> few_total THEN
                RAISE EXCEPTION '% verified % of % tokens', impl, n, few_total;
            END IF;
            INSERT INTO token_sample VALUES ('few', impl, r, n, extract(epoch FROM t1 - t0));
            IF impl = 'user_mgmt' AND no_session THEN
                t0 := clock_timestamp();
                SELECT count(bench.um_verify_no_session(t)) INTO n FROM few_tokens;
                t1 := clock_timestamp();
                IF n <> few_total THEN
                    RAISE EXCEPTION 'um_verify_token verified % of % tokens', n, few_total;
                END IF;
                INSERT INTO token_sample VALUES ('few', 'no session check', r, n, extract(epoch FROM t1 - t0));
            END IF;

            -- many sessions
            IF impl = 'user_mgmt' THEN
                -- an administrator revokes a session: every backend empties its cache
                PERFORM user_mgmt.revoke_session(sid) FROM spare_sessions WHERE round = 2 * r - 1;
                t0 := clock_timestamp();
                SELECT count(user_mgmt.verify_token(t)) INTO n FROM many_tokens;
                t1 := clock_timestamp();
                IF n <> many_total THEN
                    RAISE EXCEPTION '% verified % of % tokens', impl, n, many_total;
                END IF;
                INSERT INTO token_sample VALUES ('many, cold', impl, r, n, extract(epoch FROM t1 - t0));
                t1 := clock_timestamp();
                SELECT count(user_mgmt.verify_token(t)) INTO n FROM many_tokens;
                t2 := clock_timestamp();
                IF n <> many_total THEN
                    RAISE EXCEPTION '% verified % of % tokens', impl, n, many_total;
                END IF;
                INSERT INTO token_sample VALUES ('many, warm', impl, r, n, extract(epoch FROM t2 - t1));
                -- half of those sessions, from an empty cache, twice: the second pass
                PERFORM user_mgmt.revoke_session(sid) FROM spare_sessions WHERE round = 2 * r;
                PERFORM count(user_mgmt.verify_token(t)) FROM half_tokens;
                t1 := clock_timestamp();
                SELECT count(user_mgmt.verify_token(t)) INTO n FROM half_tokens;
                t2 := clock_timestamp();
                IF n <> half_total THEN
                    RAISE EXCEPTION '% verified % of % tokens', impl, n, half_total;
                END IF;
                INSERT INTO token_sample VALUES ('many, half, warm', impl, r, n, extract(epoch FROM t2 - t1));
                n := many_total;  -- all checked
            ELSIF impl = 'pgjwt' THEN
                t0 := clock_timestamp();
                SELECT count(bench.jwt_verify(t, secret)) INTO n FROM many_tokens;
                t1 := clock_timestamp();
                INSERT INTO token_sample VALUES ('many', impl, r, n, extract(epoch FROM t1 - t0));
            ELSE
                t0 := clock_timestamp();
                SELECT count(bench.jwt_verify_session(t, secret)) INTO n FROM many_tokens;
                t1 := clock_timestamp();
                INSERT INTO token_sample VALUES ('many', impl, r, n, extract(epoch FROM t1 - t0));
            END IF;
            IF n <> many_total THEN
                RAISE EXCEPTION '% verified % of % tokens', impl, n, many_total;
            END IF;
        END LOOP;
    END LOOP;
END
$bench$;

/* ---------------------------------------------------------------------------
 * issue_token, after the verifications (it adds sessions).  1.4's waits,
 * per call, for the login writer to open and commit the token's session;
 * the baseline inserts its session rows in the issuing statement, committed
 * once with it.  Signing alone is 1.3's entry point (see bench.um_sign_only)
 * against the baseline's sign.
 * --------------------------------------------------------------------------- */
DO $bench$
DECLARE
    secret constant bytea := user_mgmt.export_signing_key();
    kid constant text := (SELECT convert_from(bench.url_decode(split_part(t, '.', 1)), 'UTF8')::jsonb ->> 'kid'
                          FROM few_tokens LIMIT 1);
    total constant bigint := (SELECT count(*) FROM issue_ids);
    rounds constant int := current_setting('bench.rounds')::int;
    sign_only constant boolean := to_regproc('bench.um_sign_only') IS NOT NULL;
    impls constant text[] := ARRAY['user_mgmt', 'pgjwt', 'pgjwt + session insert', 'user_mgmt sign only'];
    r int;
    i int;
    impl text;
    n bigint;
    t0 timestamptz;
    t1 timestamptz;
BEGIN
    PERFORM count(user_mgmt.issue_token(id, interval '2 hours')) FROM (SELECT id FROM issue_ids LIMIT 100) AS s;
    PERFORM count(bench.jwt_issue(id, 7200, kid, secret)) FROM (SELECT id FROM issue_ids LIMIT 100) AS s;
    PERFORM count(bench.jwt_issue_session(id, 7200, kid, secret)) FROM (SELECT id FROM issue_ids LIMIT 100) AS s;
    IF sign_only THEN
        PERFORM count(bench.um_sign_only(id, interval '2 hours')) FROM (SELECT id FROM issue_ids LIMIT 100) AS s;
    END IF;

    FOR r IN 1..rounds LOOP
        FOR i IN 0..3 LOOP
            impl := impls[1 + (i + r) % 4];
            t0 := clock_timestamp();
            IF impl = 'user_mgmt' THEN
                SELECT count(user_mgmt.issue_token(id, interval '2 hours')) INTO n FROM issue_ids;
            ELSIF impl = 'pgjwt' THEN
                SELECT count(bench.jwt_issue(id, 7200, kid, secret)) INTO n FROM issue_ids;
            ELSIF impl = 'pgjwt + session insert' THEN
                SELECT count(bench.jwt_issue_session(id, 7200, kid, secret)) INTO n FROM issue_ids;
            ELSIF sign_only THEN
                SELECT count(bench.um_sign_only(id, interval '2 hours')) INTO n FROM issue_ids;
            ELSE
                CONTINUE;
            END IF;
            t1 := clock_timestamp();
            IF n <> total THEN
                RAISE EXCEPTION '% issued % of % tokens', impl, n, total;
            END IF;
            INSERT INTO token_sample VALUES ('issue', impl, r, n, extract(epoch FROM t1 - t0));
        END LOOP;
    END LOOP;
END
$bench$;

CREATE TEMP VIEW token_median AS
    SELECT op, impl, count(*) AS rounds, max(calls) AS calls,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_s,
           1e6 * percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) / max(calls) AS us
    FROM token_sample GROUP BY op, impl;

\echo
\echo '(a) verify_token (1.4, session tokens): median microseconds per call over rounds, one statement over all rows'
\echo '    few: rows cycle over a few sessions; many: one session per row, cold = first pass after a revocation emptied the cache, warm = the pass right after;'
\echo '    half, warm: the first half of those rows, second pass in a row after a revocation (baselines: per call over all of them)'
SELECT o.op AS "case",
       o.rounds,
       o.calls AS "rows",
       round(o.us::numeric, 2) AS "user_mgmt us",
       round(p.us::numeric, 2) AS "pgjwt us",
       round(s.us::numeric, 2) AS "pgjwt+lookup us",
       round((p.us / o.us)::numeric, 1) AS "x vs pgjwt",
       round((s.us / o.us)::numeric, 1) AS "x vs pgjwt+lookup",
       CASE WHEN p.us / o.us >= 20 THEN 'yes' ELSE 'NO' END AS ">=20x pgjwt",
       CASE WHEN s.us / o.us >= 20 THEN 'yes' ELSE 'NO' END AS ">=20x +lookup"
FROM token_median AS o
JOIN token_median AS p ON p.impl = 'pgjwt' AND p.op = split_part(o.op, ',', 1)
JOIN token_median AS s ON s.impl = 'pgjwt + session lookup' AND s.op = p.op
WHERE o.impl = 'user_mgmt'
ORDER BY array_position(ARRAY['few', 'many, cold', 'many, warm', 'many, half, warm'], o.op);

\pset tuples_only on
SELECT format('for reference, few: without the session check (1.3''s entry point um_verify_token) %s us/call, with it (1.4) %s us/call',
              round(n.us::numeric, 2), round(o.us::numeric, 2)) AS " "
FROM token_median AS n JOIN token_median AS o ON o.op = 'few' AND o.impl = 'user_mgmt'
WHERE n.op = 'few' AND n.impl = 'no session check';
\pset tuples_only off

\echo
\echo 'issue_token: median microseconds per call; user_mgmt = 1.4 issue_token (waits for the login writer to commit a session per call),'
\echo '    sign only = 1.3 entry point um_issue_token (user lookup + signing, no session); pgjwt + session insert = INSERT into a sessions table in the same statement'
SELECT o.impl,
       o.rounds,
       o.calls AS "rows",
       round(o.us::numeric, 2) AS "us/call",
       round((1e6 / o.us)::numeric) AS "calls/s",
       round((p.us / o.us)::numeric, 2) AS "x vs pgjwt sign",
       round((s.us / o.us)::numeric, 2) AS "x vs pgjwt + session insert"
FROM token_median AS o
JOIN token_median AS p ON p.op = 'issue' AND p.impl = 'pgjwt'
JOIN token_median AS s ON s.op = 'issue' AND s.impl = 'pgjwt + session insert'
WHERE o.op = 'issue'
ORDER BY o.us;
