-- Server-side token benchmark of user_mgmt.
-- Run by bench/bench_tokens.sh (psql variables tokens and rounds).  Every
-- measurement is taken with clock_timestamp() inside PL/pgSQL, so no client
-- round trip is measured; the implementations alternate, and which one goes
-- first alternates from round to round.
\set ON_ERROR_STOP 1
\pset footer off

SET client_min_messages = warning;

SELECT set_config('bench.tokens', :'tokens', false),
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

-- issue: the same header and claims as user_mgmt.issue_token, from the users row
CREATE FUNCTION bench.jwt_issue(user_id integer, ttl_seconds integer, kid text, secret bytea)
RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT bench.jwt_sign(
        jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', kid),
        jsonb_build_object('sub', u.id::text, 'username', u.username, 'role', u.role,
                           'iat', floor(extract(epoch FROM now()))::bigint,
                           'exp', floor(extract(epoch FROM now()))::bigint + ttl_seconds,
                           'jti', gen_random_uuid()::text),
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

/* ---------------------------------------------------------------------------
 * Data: 100 users, :tokens user ids cycling over them, and one token of ours
 * for each.
 * --------------------------------------------------------------------------- */
SET user_mgmt.bcrypt_cost = 4;
SELECT count(user_mgmt.create_user('bench_' || g, 'bench password', 'Bench User ' || g,
                                   (ARRAY['USER', 'CASHIER', 'ADMIN']::user_mgmt.role[])[1 + g % 3]))
FROM generate_series(1, 100) AS g \gset
RESET user_mgmt.bcrypt_cost;

CREATE TEMP TABLE bench_users AS
    SELECT row_number() OVER (ORDER BY id) AS k, id FROM user_mgmt.users;
CREATE TEMP TABLE bench_ids AS
    SELECT u.id FROM generate_series(0, current_setting('bench.tokens')::int - 1) AS g
    JOIN bench_users AS u ON u.k = 1 + g % 100;
CREATE TEMP TABLE bench_tokens AS
    SELECT user_mgmt.issue_token(id) AS t FROM bench_ids;
ANALYZE bench_ids;
ANALYZE bench_tokens;

-- Both implementations produce and accept the same tokens (checked once,
-- outside the timed part), and the baseline really does reject bad ones.
DO $check$
DECLARE
    secret constant bytea := user_mgmt.export_signing_key();
    kid constant text := (SELECT convert_from(bench.url_decode(split_part(t, '.', 1)), 'UTF8')::jsonb ->> 'kid'
                          FROM bench_tokens LIMIT 1);
    n bigint;
    total constant bigint := (SELECT count(*) FROM bench_tokens);
    tok text;
BEGIN
    SELECT count(bench.jwt_verify(t, secret)) INTO n FROM bench_tokens;
    IF n <> total THEN
        RAISE EXCEPTION 'the baseline verified % of our % tokens', n, total;
    END IF;
    SELECT count(user_mgmt.verify_token(bench.jwt_issue(id, 1800, kid, secret))) INTO n
    FROM (SELECT id FROM bench_ids LIMIT 1000) AS s;
    IF n <> least(1000, total) THEN
        RAISE EXCEPTION 'user_mgmt.verify_token accepted only % baseline tokens', n;
    END IF;
    tok := (SELECT t FROM bench_tokens LIMIT 1);
    IF bench.jwt_verify(tok || 'x', secret) IS NOT NULL
       OR bench.jwt_verify(tok, set_byte(secret, 0, get_byte(secret, 0) # 1)) IS NOT NULL THEN
        RAISE EXCEPTION 'the baseline accepts a bad token';
    END IF;
END
$check$;

/* ---------------------------------------------------------------------------
 * (a) verify_token and issue_token: one statement over all rows per sample.
 * --------------------------------------------------------------------------- */
CREATE TEMP TABLE token_sample (op text, impl text, round int, calls bigint, seconds float8);

DO $bench$
DECLARE
    secret constant bytea := user_mgmt.export_signing_key();
    kid constant text := (SELECT convert_from(bench.url_decode(split_part(t, '.', 1)), 'UTF8')::jsonb ->> 'kid'
                          FROM bench_tokens LIMIT 1);
    total constant bigint := (SELECT count(*) FROM bench_tokens);
    rounds constant int := current_setting('bench.rounds')::int;
    r int;
    impl text;
    n bigint;
    t0 timestamptz;
    t1 timestamptz;
BEGIN
    -- warm-up (caches, plans), not recorded
    PERFORM count(user_mgmt.verify_token(t)) FROM (SELECT t FROM bench_tokens LIMIT 1000) AS s;
    PERFORM count(bench.jwt_verify(t, secret)) FROM (SELECT t FROM bench_tokens LIMIT 1000) AS s;
    PERFORM count(user_mgmt.issue_token(id)) FROM (SELECT id FROM bench_ids LIMIT 1000) AS s;
    PERFORM count(bench.jwt_issue(id, 1800, kid, secret)) FROM (SELECT id FROM bench_ids LIMIT 1000) AS s;

    FOR r IN 1..rounds LOOP
        FOREACH impl IN ARRAY CASE WHEN r % 2 = 1 THEN ARRAY['user_mgmt', 'pgjwt-style SQL']
                                   ELSE ARRAY['pgjwt-style SQL', 'user_mgmt'] END LOOP
            IF impl = 'user_mgmt' THEN
                t0 := clock_timestamp();
                SELECT count(user_mgmt.verify_token(t)) INTO n FROM bench_tokens;
                t1 := clock_timestamp();
            ELSE
                t0 := clock_timestamp();
                SELECT count(bench.jwt_verify(t, secret)) INTO n FROM bench_tokens;
                t1 := clock_timestamp();
            END IF;
            IF n <> total THEN
                RAISE EXCEPTION '% verified % of % tokens', impl, n, total;
            END IF;
            INSERT INTO token_sample VALUES ('verify_token', impl, r, n, extract(epoch FROM t1 - t0));

            IF impl = 'user_mgmt' THEN
                t0 := clock_timestamp();
                SELECT count(user_mgmt.issue_token(id)) INTO n FROM bench_ids;
                t1 := clock_timestamp();
            ELSE
                t0 := clock_timestamp();
                SELECT count(bench.jwt_issue(id, 1800, kid, secret)) INTO n FROM bench_ids;
                t1 := clock_timestamp();
            END IF;
            IF n <> total THEN
                RAISE EXCEPTION '% issued % of % tokens', impl, n, total;
            END IF;
            INSERT INTO token_sample VALUES ('issue_token', impl, r, n, extract(epoch FROM t1 - t0));
        END LOOP;
    END LOOP;
END
$bench$;

\echo
\echo '(a) tokens: calls per second (median over rounds, one statement over all rows), user_mgmt vs pgjwt-style SQL on pgcrypto hmac()'
WITH m AS (
    SELECT op, impl, count(*) AS rounds, max(calls) AS calls,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_s
    FROM token_sample GROUP BY op, impl
)
SELECT o.op,
       o.rounds,
       o.calls AS "rows",
       round((o.calls / o.median_s)::numeric) AS "user_mgmt calls/s",
       round((b.calls / b.median_s)::numeric) AS "baseline calls/s",
       round((1e6 * o.median_s / o.calls)::numeric, 2) AS "user_mgmt us/call",
       round((1e6 * b.median_s / b.calls)::numeric, 2) AS "baseline us/call",
       round((b.median_s / o.median_s)::numeric, 1) AS "speed-up",
       CASE WHEN b.median_s / o.median_s >= 20 THEN 'yes' ELSE 'NO' END AS ">= 20x"
FROM m AS o JOIN m AS b ON b.op = o.op AND b.impl = 'pgjwt-style SQL'
WHERE o.impl = 'user_mgmt'
ORDER BY o.op DESC;

