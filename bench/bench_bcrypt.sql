-- Server-side bcrypt benchmark: user_mgmt vs pgcrypto.
-- Run by bench/bench_bcrypt.sh (psql variables samples_fast, samples_slow).
-- Each call is timed with clock_timestamp() inside PL/pgSQL, so the client
-- round trip is not measured.  Ours and pgcrypto's calls alternate, and
-- which one goes first alternates from sample to sample.
\set ON_ERROR_STOP 1
\pset footer off

SET client_min_messages = warning;
CREATE TEMP TABLE bench_sample (cost int, op text, impl text, ms float8);

SELECT set_config('bench.samples_fast', :'samples_fast', false),
       set_config('bench.samples_slow', :'samples_slow', false) \gset

DO $bench$
DECLARE
    pw    constant text := 'correct horse battery staple';
    c     int;
    n     int;
    i     int;
    impl  text;
    h     text;
    ok    boolean;
    ours  text;    -- our hash of pw at cost c
    theirs text;   -- pgcrypto's hash of pw at cost c
    t0    timestamptz;
    t1    timestamptz;
BEGIN
    FOREACH c IN ARRAY ARRAY[4, 8, 10, 12] LOOP
        n := CASE WHEN c <= 8 THEN current_setting('bench.samples_fast')::int
                  ELSE current_setting('bench.samples_slow')::int END;
        ours := user_mgmt.hash_password(pw, c);
        theirs := crypt(pw, gen_salt('bf', c));
        FOR i IN 1..n LOOP
            FOREACH impl IN ARRAY CASE WHEN i % 2 = 1 THEN ARRAY['user_mgmt', 'pgcrypto']
                                       ELSE ARRAY['pgcrypto', 'user_mgmt'] END LOOP
                IF impl = 'user_mgmt' THEN
                    t0 := clock_timestamp();
                    h := user_mgmt.hash_password(pw, c);
                    t1 := clock_timestamp();
                ELSE
                    t0 := clock_timestamp();
                    h := crypt(pw, gen_salt('bf', c));
                    t1 := clock_timestamp();
                END IF;
                INSERT INTO bench_sample
                VALUES (c, 'hash', impl, extract(epoch FROM t1 - t0) * 1000);
                IF length(h) <> 60 THEN
                    RAISE EXCEPTION '% produced a bad hash: %', impl, h;
                END IF;

                IF impl = 'user_mgmt' THEN
                    t0 := clock_timestamp();
                    ok := user_mgmt.verify_password(pw, ours);
                    t1 := clock_timestamp();
                ELSE
                    t0 := clock_timestamp();
                    ok := crypt(pw, theirs) = theirs;
                    t1 := clock_timestamp();
                END IF;
                INSERT INTO bench_sample
                VALUES (c, 'verify', impl, extract(epoch FROM t1 - t0) * 1000);
                IF NOT ok THEN
                    RAISE EXCEPTION '% failed to verify its own hash at cost %', impl, c;
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
END
$bench$;

\echo
\echo 'bcrypt, median milliseconds per call (server side), user_mgmt vs pgcrypto'
SELECT cost,
       op,
       count(*) FILTER (WHERE impl = 'user_mgmt') AS samples,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
             FILTER (WHERE impl = 'user_mgmt')::numeric, 3) AS "ours ms",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
             FILTER (WHERE impl = 'pgcrypto')::numeric, 3) AS "pgcrypto ms",
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE impl = 'user_mgmt')
            / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE impl = 'pgcrypto'))::numeric,
             3) AS "ours/pgcrypto"
FROM bench_sample
GROUP BY cost, op
ORDER BY cost, op;
