--
-- Version 1.2's tokens: issue_token, verify_token (every rejection), keys
-- and their rotation, and the per-transaction session claims.  Tokens are
-- also crafted here with pgcrypto's hmac(), an independent HMAC-SHA256.
-- Since 1.4 a token must name a live session of its subject (claim sid):
-- the crafted ones borrow the session of an issued token, so that each
-- has only the one defect it is there to show (sessions.sql has the rest).
--
SET user_mgmt.bcrypt_cost = 4;
SELECT user_mgmt.create_user('tokyo', 'tokyo password', 'Токио', 'ADMIN') AS uid \gset

CREATE FUNCTION regress.b64url(bytea) RETURNS text LANGUAGE sql IMMUTABLE
RETURN rtrim(translate(encode($1, 'base64'), E'+/\n', '-_'), '=');
CREATE FUNCTION regress.b64url_decode(text) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64');
-- A token signed by pgcrypto with the current signing key.
CREATE FUNCTION regress.craft(header jsonb, claims jsonb, alg text DEFAULT 'sha256')
RETURNS text LANGUAGE sql
RETURN regress.b64url(convert_to(header::text, 'UTF8')) || '.' ||
       regress.b64url(convert_to(claims::text, 'UTF8')) || '.' ||
       regress.b64url(hmac(convert_to(regress.b64url(convert_to(header::text, 'UTF8')) || '.' ||
                                      regress.b64url(convert_to(claims::text, 'UTF8')), 'UTF8'),
                           user_mgmt.export_signing_key(), alg));
CREATE FUNCTION regress.now_unix() RETURNS bigint LANGUAGE sql
RETURN extract(epoch FROM clock_timestamp())::bigint;

-- One key exists from the start, and PUBLIC cannot read it.
SELECT count(*) AS keys, bool_and(octet_length(secret) = 32) AS secret_32_bytes,
       bool_and(kid ~ '^[A-Za-z0-9_-]{16}$') AS kid_form
FROM user_mgmt.signing_keys;
SELECT has_table_privilege('public', 'user_mgmt.signing_keys', 'SELECT') AS public_reads_keys;

-- The token: header, claims, and an HMAC that pgcrypto agrees with.
SELECT user_mgmt.issue_token(:uid) AS tok \gset
SELECT convert_from(regress.b64url_decode(split_part(:'tok', '.', 1)), 'UTF8')::jsonb - 'kid' AS header,
       convert_from(regress.b64url_decode(split_part(:'tok', '.', 1)), 'UTF8')::jsonb ->> 'kid' =
           (SELECT kid FROM user_mgmt.signing_keys) AS kid_is_the_key;
SELECT c - 'iat' - 'exp' - 'jti' - 'sub' - 'sid' AS claims, c->>'sub' = :'uid' AS sub_is_the_id,
       c->>'sid' = (SELECT s.id::text FROM user_mgmt.sessions AS s
                    WHERE s.user_id = :uid AND s.origin = 'issue_token') AS sid_is_its_session,
       (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime,
       abs((c->>'iat')::bigint - regress.now_unix()) <= 5 AS issued_now,
       c->>'jti' ~ '^[A-Za-z0-9_-]{22}$' AS jti_form
FROM (SELECT convert_from(regress.b64url_decode(split_part(:'tok', '.', 2)), 'UTF8')::jsonb AS c) AS t;
SELECT split_part(:'tok', '.', 3) =
       regress.b64url(hmac(convert_to(split_part(:'tok', '.', 1) || '.' || split_part(:'tok', '.', 2), 'UTF8'),
                           user_mgmt.export_signing_key(), 'sha256')) AS pgcrypto_agrees;
SELECT user_mgmt.verify_token(:'tok') - 'iat' - 'exp' - 'jti' - 'sub' - 'sid' AS verified;

-- Lifetime from the GUC or the argument; tokens differ by jti.
SET user_mgmt.token_ttl = '5min';
SELECT (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime
FROM user_mgmt.verify_token(user_mgmt.issue_token(:uid)) AS c;
RESET user_mgmt.token_ttl;
SELECT (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime
FROM user_mgmt.verify_token(user_mgmt.issue_token(:uid, '2 hours')) AS c;
SELECT user_mgmt.issue_token(:uid) <> user_mgmt.issue_token(:uid) AS tokens_differ;

\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.issue_token(0)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.issue_token(1, '0 seconds')$$);
\x off

-- A token crafted elsewhere with the key and its kid verifies (it names
-- the session of :tok, which is live) ...
SELECT kid FROM user_mgmt.signing_keys \gset
SELECT user_mgmt.verify_token(:'tok') ->> 'sid' AS sid \gset
SELECT user_mgmt.verify_token(regress.craft(
    jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'kid'),
    jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60, 'custom', 'Ω'))) ->> 'custom' AS custom_claim;
-- ... but not without a session (every token of 1.2 and 1.3).
\x on
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'exp', regress.now_unix() + 60, 'custom', 'Ω'))));
\x off
-- Without a kid, the current key is tried.
SELECT user_mgmt.verify_token(regress.craft('{"alg":"HS256"}',
    jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60))) ->> 'sub' = :'uid' AS sub;

-- Every rejection is 28000, with a message of its own.
\x on
-- malformed
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_token('')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_token('a.b')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_token('a.b.c.d')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_token('e30=.e30.AAAA')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_token('bm90IGpzb24.e30.AAAA')$$);
-- alg none, with or without a signature, and any algorithm but HS256
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.b64url('{"alg":"none"}') || '.' || regress.b64url(convert_to(
        jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60)::text, 'UTF8')) || '.'));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.b64url('{"alg":"none"}') || '.' || split_part(:'tok', '.', 2) || '.' || split_part(:'tok', '.', 3)));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS512', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60), 'sha512')));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'hs256', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60))));
-- a header that asks for what it may not
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'kid', 'crit', '["exp"]'::jsonb),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60))));
-- unknown key id
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft('{"alg":"HS256","kid":"no-such-key"}',
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60))));
-- bad signature: a changed claim, or a signature from another key
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    split_part(:'tok', '.', 1) || '.' ||
    regress.b64url(convert_to(jsonb_set(convert_from(regress.b64url_decode(split_part(:'tok', '.', 2)), 'UTF8')::jsonb,
                                        '{role}', '"USER"')::text, 'UTF8')) || '.' ||
    split_part(:'tok', '.', 3)));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    split_part(:'tok', '.', 1) || '.' || split_part(:'tok', '.', 2) || '.' ||
    regress.b64url(hmac(convert_to(split_part(:'tok', '.', 1) || '.' || split_part(:'tok', '.', 2), 'UTF8'),
                        '\x00'::bytea, 'sha256'))));
-- expired, not yet valid, no expiry
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', 1000000000))));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', 4000000000, 'nbf', 3000000000))));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid'))));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.verify_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', 'tomorrow'))));
\x off

-- Leeway: a token that expired two seconds ago passes with ten seconds.
SELECT regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'kid'),
                     jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() - 2)) AS stale \gset
SELECT (regress.error_of(format('SELECT user_mgmt.verify_token(%L)', :'stale'))).message;
SET user_mgmt.token_leeway = '10s';
SELECT user_mgmt.verify_token(:'stale') ->> 'sub' = :'uid' AS accepted_with_leeway;
RESET user_mgmt.token_leeway;

-- RFC 7515, appendix A.1: its key and token.  The token expired in 2011,
-- so the answer is "expired", which comes only after the signature passed.
INSERT INTO user_mgmt.signing_keys (kid, secret, created_at)
VALUES ('rfc7515-a1', regress.b64url_decode('AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow'),
        now() + '1 hour');
SELECT (regress.error_of($$SELECT user_mgmt.verify_token(
  'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')$$)).*;
DELETE FROM user_mgmt.signing_keys WHERE kid = 'rfc7515-a1';

-- Rotation: new tokens carry the new kid, old ones keep verifying ...
SELECT user_mgmt.rotate_signing_key() AS new_kid \gset
SELECT convert_from(regress.b64url_decode(split_part(user_mgmt.issue_token(:uid), '.', 1)), 'UTF8')::jsonb ->> 'kid' = :'new_kid' AS signed_with_new_key;
SELECT user_mgmt.verify_token(:'tok') ->> 'username' AS old_token_still_verifies;
SELECT user_mgmt.export_signing_key() = user_mgmt.export_signing_key(:'new_kid') AS current_key_exported;
-- ... until their key is retired.
SELECT user_mgmt.retire_signing_key(:'kid');
-- (the random kid shows as <kid>)
\x on
SELECT state, message, replace(detail, :'kid', '<kid>') AS detail
FROM regress.error_of(format('SELECT user_mgmt.verify_token(%L)', :'tok'));
SELECT state, replace(message, :'kid', '<kid>') AS message
FROM regress.error_of(format('SELECT user_mgmt.retire_signing_key(%L)', :'kid'));
SELECT state, replace(message, :'kid', '<kid>') AS message
FROM regress.error_of(format('SELECT user_mgmt.export_signing_key(%L)', :'kid'));
\x off

-- Only superusers export keys.
CREATE ROLE regress_user_mgmt_exporter;
GRANT EXECUTE ON FUNCTION user_mgmt.export_signing_key(text) TO regress_user_mgmt_exporter;
SET ROLE regress_user_mgmt_exporter;
SELECT * FROM regress.error_of('SELECT user_mgmt.export_signing_key()');
RESET ROLE;
DROP OWNED BY regress_user_mgmt_exporter;
DROP ROLE regress_user_mgmt_exporter;

-- Session claims: for this transaction only.
SELECT user_mgmt.current_user_id() IS NULL AS no_claims, user_mgmt.current_user_role() IS NULL AS no_role;
BEGIN;
SELECT user_mgmt.set_session_token(user_mgmt.issue_token(:uid)) ->> 'username' AS session_for;
SELECT user_mgmt.current_user_id() = :uid AS id_from_token, user_mgmt.current_user_role();
COMMIT;
SELECT user_mgmt.current_user_id() IS NULL AS forgotten_at_commit;
BEGIN;
SELECT user_mgmt.set_session_token(user_mgmt.issue_token(:uid)) IS NOT NULL;
ROLLBACK;
SELECT user_mgmt.current_user_id() IS NULL AS forgotten_at_rollback;
-- A subtransaction that rolls back takes its claims with it; one that
-- commits hands them to its parent.
BEGIN;
SAVEPOINT s1;
SELECT user_mgmt.set_session_token(user_mgmt.issue_token(:uid)) IS NOT NULL;
ROLLBACK TO SAVEPOINT s1;
SELECT user_mgmt.current_user_id() IS NULL AS forgotten_at_rollback_to_savepoint;
SAVEPOINT outer_sp;
SAVEPOINT inner_sp;
SELECT user_mgmt.set_session_token(user_mgmt.issue_token(:uid)) IS NOT NULL;
RELEASE SAVEPOINT inner_sp;
SELECT user_mgmt.current_user_id() = :uid AS kept_after_release;
ROLLBACK TO SAVEPOINT outer_sp;
SELECT user_mgmt.current_user_id() IS NULL AS forgotten_with_the_parent;
COMMIT;
\x on
SELECT state, message, replace(detail, :'kid', '<kid>') AS detail
FROM regress.error_of(format('SELECT user_mgmt.set_session_token(%L)', :'tok'));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.set_session_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'new_kid'),
                  jsonb_build_object('sub', 'admin', 'role', 'ADMIN', 'sid', :'sid', 'exp', regress.now_unix() + 60))));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.set_session_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'new_kid'),
                  jsonb_build_object('sub', :'uid', 'role', 'GOD', 'sid', :'sid', 'exp', regress.now_unix() + 60))));
SELECT * FROM regress.error_of(format($$SELECT user_mgmt.set_session_token(%L)$$,
    regress.craft(jsonb_build_object('alg', 'HS256', 'kid', :'new_kid'),
                  jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60))));
SELECT user_mgmt.current_user_id() IS NULL AS nothing_remembered;
\x off

-- An inactive user gets no token.
SELECT user_mgmt.set_active(:uid, false);
SELECT state, replace(message, :'uid', 'N') AS message, detail
FROM regress.error_of(format('SELECT user_mgmt.issue_token(%s)', :uid));
SELECT user_mgmt.delete_user(:uid);
RESET user_mgmt.bcrypt_cost;
