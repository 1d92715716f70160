-- Server-side benchmark of the signing algorithms of user_mgmt 1.5: HS256,
-- EdDSA and ES256.  Run by bench/bench_keys.sh, in three phases (psql
-- variable phase): setup, then round (one call per round r, the shell runs
-- OpenSSL's `speed` between rounds), then report.  Every measurement is one
-- statement over many rows, timed with clock_timestamp() inside PL/pgSQL,
-- so no client round trip is measured; the algorithms' order turns from
-- round to round.
--
-- What is timed, per algorithm (its key made current by rotate_signing_key):
--   sign          the signing path of login(), sign_in(), refresh() and
--                 issue_token() without a session: the library's pre-1.4
--                 entry point of issue_token (C symbol um_issue_token, bound
--                 here as bench.sign_token): the user's row, the claims, a
--                 random jti, the signature, base64url.  Since 1.4 every
--                 public function that signs also opens a session through
--                 the login writer, which is measured apart:
--   issue_token   user_mgmt.issue_token() as it is: a session opened by the
--                 login writer (a round trip to another process and a
--                 committed row) and the signature;
--   verify_token  user_mgmt.verify_token() as it is on distinct tokens of
--                 issue_token: header, key by kid, signature, exp, the
--                 session check, the claims as jsonb.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;

SELECT :'phase' = 'setup' AS is_setup, :'phase' = 'round' AS is_round, :'phase' = 'report' AS is_report \gset

\if :is_setup
SELECT set_config('bench.tokens', :'tokens', false) \gset

CREATE SCHEMA bench;

-- The signing path without a session (see above): a bench-only binding of
-- a C entry point user_mgmt.so keeps for databases still at 1.0-1.3.
CREATE FUNCTION bench.sign_token(user_id integer) RETURNS text
AS 'user_mgmt', 'um_issue_token' LANGUAGE C VOLATILE STRICT;
-- Likewise the signature check without the session check (used only to
-- prove that bench.sign_token's tokens are sound).
CREATE FUNCTION bench.verify_signature(token text) RETURNS jsonb
AS 'user_mgmt', 'um_verify_token' LANGUAGE C STABLE STRICT;

-- No session cap: later issue_token() calls must not end the sessions of
-- the tokens verify_token is timed on.
SELECT format('ALTER DATABASE %I SET user_mgmt.max_sessions_per_user = 0', current_database()) \gexec
SET user_mgmt.max_sessions_per_user = 0;

SET user_mgmt.bcrypt_cost = 4;
SELECT count(user_mgmt.create_user('bench_' || g, 'bench password', 'Bench User ' || g,
                                   (ARRAY['USER', 'CASHIER', 'ADMIN']::user_mgmt.role[])[1 + g % 3]))
FROM generate_series(1, 100) AS g \gset
RESET user_mgmt.bcrypt_cost;

CREATE TABLE bench.ids AS
    SELECT u.id FROM generate_series(0, current_setting('bench.tokens')::int - 1) AS g
    JOIN (SELECT row_number() OVER (ORDER BY id) AS k, id FROM user_mgmt.users) AS u ON u.k = 1 + g % 100;
CREATE TABLE bench.tokens (alg text NOT NULL, t text NOT NULL);
CREATE TABLE bench.sample (round int, alg text, op text, calls bigint, seconds float8);
CREATE TABLE bench.openssl (round int, alg text, op text, per_s float8);

-- The tokens verify_token is timed on: one per row, each of its own
-- session, signed by a key of each algorithm (all three stay unretired).
SELECT user_mgmt.rotate_signing_key('HS256') IS NOT NULL AS ok \gset
INSERT INTO bench.tokens SELECT 'HS256', user_mgmt.issue_token(id) FROM bench.ids;
SELECT user_mgmt.rotate_signing_key('EdDSA') IS NOT NULL AS ok \gset
INSERT INTO bench.tokens SELECT 'EdDSA', user_mgmt.issue_token(id) FROM bench.ids;
SELECT user_mgmt.rotate_signing_key('ES256') IS NOT NULL AS ok \gset
INSERT INTO bench.tokens SELECT 'ES256', user_mgmt.issue_token(id) FROM bench.ids;
ANALYZE bench.ids;
ANALYZE bench.tokens;

-- Checked once, outside the timed part: every token carries its key's alg
-- and verifies; bench.sign_token signs with the current key, soundly.
DO $check$
DECLARE
    a text;
    n bigint;
    tok text;
BEGIN
    FOREACH a IN ARRAY ARRAY['HS256', 'EdDSA', 'ES256'] LOOP
        SELECT count(*) INTO n FROM bench.tokens AS b
        WHERE b.alg = a
          AND convert_from(decode(translate(split_part(b.t, '.', 1), '-_', '+/')
                                  || repeat('=', (4 - length(split_part(b.t, '.', 1)) % 4) % 4), 'base64'),
                           'UTF8')::jsonb ->> 'alg' = a
          AND user_mgmt.verify_token(b.t) ->> 'sid' IS NOT NULL;
        IF n <> current_setting('bench.tokens')::bigint THEN
            RAISE EXCEPTION '% of the % tokens are sound', n, a;
        END IF;
    END LOOP;
    tok := bench.sign_token((SELECT min(id) FROM bench.ids));
    IF bench.verify_signature(tok) ->> 'sub' IS NULL OR tok NOT LIKE 'eyJhbGciOiJFUzI1NiIs%' THEN
        RAISE EXCEPTION 'bench.sign_token did not sign with the current ES256 key: %', tok;
    END IF;
END
$check$;

CREATE PROCEDURE bench.run_round(r int, issue bigint) LANGUAGE plpgsql AS $proc$
DECLARE
    algs constant text[] := ARRAY['HS256', 'EdDSA', 'ES256'];
    total constant bigint := (SELECT count(*) FROM bench.ids);
    a text;
    i int;
    n bigint;
    t0 timestamptz;
    t1 timestamptz;
BEGIN
    FOR i IN 0..2 LOOP
        a := algs[1 + (i + r) % 3];
        PERFORM user_mgmt.rotate_signing_key(a);
        COMMIT;

        -- warm-up (key cache, plans), not recorded
        PERFORM count(bench.sign_token(id)) FROM (SELECT id FROM bench.ids LIMIT 200) AS s;
        PERFORM count(user_mgmt.verify_token(t)) FROM (SELECT t FROM bench.tokens WHERE alg = a LIMIT 200) AS s;

        t0 := clock_timestamp();
        SELECT count(bench.sign_token(id)) INTO n FROM bench.ids;
        t1 := clock_timestamp();
        IF n <> total THEN RAISE EXCEPTION '% signed % of %', a, n, total; END IF;
        INSERT INTO bench.sample VALUES (r, a, 'sign', n, extract(epoch FROM t1 - t0));

        t0 := clock_timestamp();
        SELECT count(user_mgmt.verify_token(t)) INTO n FROM bench.tokens WHERE alg = a;
        t1 := clock_timestamp();
        IF n <> total THEN RAISE EXCEPTION '% verified % of %', a, n, total; END IF;
        INSERT INTO bench.sample VALUES (r, a, 'verify_token', n, extract(epoch FROM t1 - t0));

        t0 := clock_timestamp();
        SELECT count(user_mgmt.issue_token(id)) INTO n FROM (SELECT id FROM bench.ids LIMIT issue) AS s;
        t1 := clock_timestamp();
        IF n <> least(issue, total) THEN RAISE EXCEPTION '% issued % of %', a, n, issue; END IF;
        INSERT INTO bench.sample VALUES (r, a, 'issue_token', n, extract(epoch FROM t1 - t0));
        COMMIT;
    END LOOP;
END
$proc$;

-- What the shell passes to `openssl speed -hmac sha256 -bytes`: the mean
-- length of an HS256 token's signing input.
SELECT round(avg(length(t) - length(split_part(t, '.', 3)) - 1))::int AS hmac_bytes
FROM bench.tokens WHERE alg = 'HS256' \gset
\echo hmac_bytes :hmac_bytes
\endif

\if :is_round
SET user_mgmt.max_sessions_per_user = 0;
CALL bench.run_round(:r, :issue);
\endif

\if :is_report
\echo
\echo 'Calls per second, median over rounds (one statement over all rows per sample), against OpenSSL''s `speed` (wall clock) for the same primitive;'
\echo 'the ratio is ours / OpenSSL''s within each round, median over the rounds'
\echo '(issue_token includes a session opened by the login writer: no OpenSSL figure compares)'
WITH s AS (
    SELECT s.round, s.alg, s.op, s.calls, s.calls / s.seconds AS per_s, o.op AS primitive,
           o.per_s AS openssl_per_s, s.calls / s.seconds / o.per_s AS ratio
    FROM bench.sample AS s
    LEFT JOIN bench.openssl AS o ON o.round = s.round AND o.alg = s.alg AND s.op <> 'issue_token'
        AND o.op = CASE WHEN s.alg = 'HS256' THEN 'hmac' WHEN s.op = 'verify_token' THEN 'verify' ELSE 'sign' END
)
SELECT alg,
       op,
       count(*) AS rounds,
       max(calls) AS "rows",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY per_s)::numeric) AS "user_mgmt calls/s",
       round((1e6 / percentile_cont(0.5) WITHIN GROUP (ORDER BY per_s))::numeric, 2) AS "us/call",
       max(primitive) AS "OpenSSL primitive",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY openssl_per_s)::numeric) AS "OpenSSL ops/s",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio)::numeric, 3) AS "ratio (median of rounds)"
FROM s
GROUP BY alg, op
ORDER BY array_position(ARRAY['sign', 'issue_token', 'verify_token'], op),
         array_position(ARRAY['HS256', 'EdDSA', 'ES256'], alg);

\echo
\echo 'Each round (calls per second), to see the noise'
SELECT s.round, s.alg, s.op, round((s.calls / s.seconds)::numeric) AS "calls/s",
       round(o.per_s::numeric) AS "OpenSSL ops/s",
       round((s.calls / s.seconds / o.per_s)::numeric, 3) AS ratio
FROM bench.sample AS s
LEFT JOIN bench.openssl AS o ON o.round = s.round AND o.alg = s.alg AND s.op <> 'issue_token'
    AND o.op = CASE WHEN s.alg = 'HS256' THEN 'hmac' WHEN s.op = 'verify_token' THEN 'verify' ELSE 'sign' END
ORDER BY s.round, array_position(ARRAY['sign', 'issue_token', 'verify_token'], s.op),
         array_position(ARRAY['HS256', 'EdDSA', 'ES256'], s.alg);
\endif
