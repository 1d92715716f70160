--
-- Version 1.5: EdDSA (Ed25519) and ES256 (P-256) signing keys.
-- rotate_signing_key(algorithm), the header and signature of each
-- algorithm's tokens, jwks(), public_key_pem(), import_signing_key(),
-- export_signing_key() of a key pair, and verify_token pinned to the
-- algorithm of the key a token names: the classic confusions (HS256 "signed"
-- with a public key, alg swaps, DER ECDSA signatures) are crafted here with
-- pgcrypto and must be refused.  The imported keys are the RFCs' own (RFC
-- 8037 A.1, RFC 7515 A.3); the tokens they sign were made once, outside,
-- with python3-cryptography.  Tokens need a live session (1.4): crafted
-- ones borrow the session of an issued token.  Random kids and ids show as
-- names (<ed1>, <es1>, ...: regress.mask), and are compared, never shown.
--
SET user_mgmt.bcrypt_cost = 4;
SET DateStyle = 'ISO, MDY';

-- Names for random values.
CREATE TABLE regress.masks (label text PRIMARY KEY, value text NOT NULL UNIQUE);
GRANT SELECT ON regress.masks TO PUBLIC;
CREATE FUNCTION regress.mask(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	m record;
BEGIN
	FOR m IN SELECT * FROM regress.masks ORDER BY length(value) DESC, label LOOP
		t := replace(t, m.value, '<' || m.label || '>');
	END LOOP;
	t := regexp_replace(t, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
	RETURN regexp_replace(t, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?', '<time>', 'g');
END
$$;
-- regress.error_of, with the names.
CREATE FUNCTION regress.key_error(stmt text,
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
-- A new signing key of an algorithm, named.
CREATE FUNCTION regress.rotate(label text, alg text) RETURNS text LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO regress.masks (label, value)
	VALUES (label, user_mgmt.rotate_signing_key(alg)) RETURNING value;
END;
-- A token's parts.
CREATE FUNCTION regress.header_text(token text) RETURNS text LANGUAGE sql IMMUTABLE
RETURN convert_from(regress.b64url_decode(split_part(token, '.', 1)), 'UTF8');
CREATE FUNCTION regress.signature(token text) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN regress.b64url_decode(split_part(token, '.', 3));
-- The token with another header, or another signature (the rest kept).
CREATE FUNCTION regress.reheader(token text, header jsonb) RETURNS text LANGUAGE sql IMMUTABLE
RETURN regress.b64url(convert_to(header::text, 'UTF8')) || '.' || split_part(token, '.', 2) || '.' ||
       split_part(token, '.', 3);
CREATE FUNCTION regress.resign(token text, sig bytea) RETURNS text LANGUAGE sql IMMUTABLE
RETURN split_part(token, '.', 1) || '.' || split_part(token, '.', 2) || '.' || regress.b64url(sig);
-- An HS256 token made by pgcrypto with any secret at all.
CREATE FUNCTION regress.hs256(header jsonb, claims jsonb, secret bytea) RETURNS text LANGUAGE sql
RETURN (SELECT t.input || '.' || regress.b64url(hmac(convert_to(t.input, 'UTF8'), secret, 'sha256'))
        FROM (SELECT regress.b64url(convert_to(header::text, 'UTF8')) || '.' ||
                     regress.b64url(convert_to(claims::text, 'UTF8')) AS input) AS t);
-- An ES256 signature (R || S) in DER, libcrypto's form, which JWS is not.
CREATE FUNCTION regress.der_integer(v bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN (SELECT '\x02'::bytea || set_byte('\x00'::bytea, 0, octet_length(b.t)) || b.t
        FROM (SELECT CASE WHEN get_byte(a.u, 0) >= 128 THEN '\x00'::bytea || a.u ELSE a.u END AS t
              FROM (SELECT ltrim(v, '\x00'::bytea) AS u) AS a) AS b);
CREATE FUNCTION regress.der_signature(raw bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN (SELECT '\x30'::bytea || set_byte('\x00'::bytea, 0, octet_length(t.body)) || t.body
        FROM (SELECT regress.der_integer(substr(raw, 1, 32)) ||
                     regress.der_integer(substr(raw, 33, 32)) AS body) AS t);
-- A PEM "PUBLIC KEY" of a DER SubjectPublicKeyInfo.
CREATE FUNCTION regress.pem(der bytea) RETURNS text LANGUAGE sql IMMUTABLE
RETURN E'-----BEGIN PUBLIC KEY-----\n' || encode(der, 'base64') || E'\n-----END PUBLIC KEY-----\n';
-- The DER inside a PEM.
CREATE FUNCTION regress.pem_der(pem text) RETURNS bytea LANGUAGE sql IMMUTABLE
RETURN decode(regexp_replace(pem, '-----[A-Z ]+-----|\n', '', 'g'), 'base64');
-- The labels of the keys jwks() publishes.
CREATE FUNCTION regress.published() RETURNS text LANGUAGE sql
RETURN (SELECT string_agg(regress.mask(j ->> 'kid'), ' ' ORDER BY regress.mask(j ->> 'kid'))
        FROM jsonb_array_elements(user_mgmt.jwks() -> 'keys') AS j);

-- The keys tokens.sql left: one retired, one current, both HS256.
INSERT INTO regress.masks (label, value)
SELECT CASE WHEN retired_at IS NULL THEN 'hs1' ELSE 'hs0' END, kid FROM user_mgmt.signing_keys;
SELECT regress.mask(kid) AS kid, algorithm, octet_length(secret) AS secret_bytes,
       public_key IS NULL AS no_public_key, retired_at IS NOT NULL AS retired
FROM user_mgmt.signing_keys ORDER BY 1;

--
-- The objects.
--
SELECT a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS "default",
       col_description(a.attrelid, a.attnum) IS NOT NULL AS commented
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = 'user_mgmt.signing_keys'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;
SELECT conname, pg_get_constraintdef(oid) AS definition,
       obj_description(oid, 'pg_constraint') IS NOT NULL AS commented
FROM pg_constraint WHERE conrelid = 'user_mgmt.signing_keys'::regclass AND contype = 'c'
ORDER BY conname;
SELECT p.oid::regprocedure::text AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute,
       p.prosecdef AS security_definer, p.proisstrict AS strict,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.pronamespace = 'user_mgmt'::regnamespace
  AND p.proname IN ('rotate_signing_key', 'retire_signing_key', 'export_signing_key', 'jwks',
                    'public_key_pem', 'import_signing_key', 'new_signing_key_material')
ORDER BY 1;

-- The constraints refuse rows that make no sense.
\x on
SELECT * FROM regress.error_of($$INSERT INTO user_mgmt.signing_keys (kid, algorithm, secret)
    VALUES ('k', 'RS256', user_mgmt.random_bytes(32))$$);
SELECT * FROM regress.error_of($$INSERT INTO user_mgmt.signing_keys (kid, algorithm, secret)
    VALUES ('k', 'EdDSA', user_mgmt.random_bytes(48))$$);
SELECT * FROM regress.error_of($$INSERT INTO user_mgmt.signing_keys (kid, algorithm)
    VALUES ('k', 'HS256')$$);
SELECT * FROM regress.error_of($$INSERT INTO user_mgmt.signing_keys (kid, secret, public_key)
    VALUES ('k', user_mgmt.random_bytes(32), '\x00')$$);
\x off
-- A row whose key material does not load (written past the functions) is
-- left out with a warning; the other keys go on working.
SELECT user_mgmt.create_user('kyoto', 'kyoto password', 'Kyoto') AS uid \gset
BEGIN;
INSERT INTO user_mgmt.signing_keys (kid, algorithm, secret, public_key)
VALUES ('broken', 'ES256', user_mgmt.random_bytes(138), user_mgmt.random_bytes(91));
SELECT regress.published() IS NULL AS nothing_published;
SELECT regress.verdict(user_mgmt.issue_token(:uid)) AS still_signs;
ROLLBACK;

--
-- rotate_signing_key(algorithm): a key pair of each kind.
--
SELECT user_mgmt.issue_token(:uid) AS tok_hs \gset
SELECT regress.rotate('ed1', 'EdDSA') IS NOT NULL AS rotated;
SELECT user_mgmt.login('kyoto', 'kyoto password') AS tok_ed1 \gset
-- Without an algorithm, the current key's.
INSERT INTO regress.masks (label, value) VALUES ('ed2', user_mgmt.rotate_signing_key());
SELECT user_mgmt.issue_token(:uid) AS tok_ed2 \gset
SELECT regress.rotate('es1', 'ES256') IS NOT NULL AS rotated;
SELECT user_mgmt.issue_token(:uid) AS tok_es1 \gset
SELECT regress.rotate('es2', NULL) IS NOT NULL AS rotated;
SELECT user_mgmt.issue_token(:uid, '2 hours') AS tok_es2 \gset
SELECT regress.mask(kid) AS kid, algorithm, octet_length(secret) AS secret_bytes,
       octet_length(public_key) AS public_key_bytes, kid ~ '^[A-Za-z0-9_-]{16}$' AS kid_form,
       CASE algorithm
           WHEN 'EdDSA' THEN substr(secret, 1, 16) = '\x302e020100300506032b657004220420'
           ELSE substr(secret, 1, 27) = '\x308187020100301306072a8648ce3d020106082a8648ce3d030107'
       END AS pkcs8,
       CASE algorithm
           WHEN 'EdDSA' THEN substr(public_key, 1, 12) = '\x302a300506032b6570032100'
           ELSE substr(public_key, 1, 27) = '\x3059301306072a8648ce3d020106082a8648ce3d03010703420004'
       END AS spki
FROM user_mgmt.signing_keys WHERE algorithm <> 'HS256' ORDER BY created_at;
-- Fresh keys each time.
SELECT count(DISTINCT secret) AS secrets, count(DISTINCT public_key) AS public_keys
FROM user_mgmt.signing_keys WHERE algorithm <> 'HS256';
-- Which key signs: the latest signs_since (a rotation's moment); the key
-- made by installing the extension (or by a restore's CREATE EXTENSION)
-- has -infinity, so that a restored signer goes on signing.
SELECT regress.mask(kid) AS kid, algorithm,
       CASE WHEN signs_since = '-infinity' THEN 'since install'
            WHEN signs_since IS NULL THEN 'since created'
            WHEN signs_since >= created_at THEN 'since rotated' END AS signs
FROM user_mgmt.signing_keys ORDER BY created_at;
-- The HS256 key, brought forward, signs again; set back to NULL (since it
-- was made, long ago), es2 signs.
UPDATE user_mgmt.signing_keys SET signs_since = clock_timestamp()
WHERE retired_at IS NULL AND algorithm = 'HS256';
SELECT convert_from(regress.b64url_decode(split_part(user_mgmt.issue_token(:uid), '.', 1)), 'UTF8')::jsonb ->> 'alg' AS alg;
UPDATE user_mgmt.signing_keys SET signs_since = NULL
WHERE retired_at IS NULL AND algorithm = 'HS256';
SELECT convert_from(regress.b64url_decode(split_part(user_mgmt.issue_token(:uid), '.', 1)), 'UTF8')::jsonb ->> 'alg' AS alg;
-- The key pairs come from new_signing_key_material (internal).
SELECT octet_length(m.secret) AS secret_bytes, octet_length(m.public_key) AS public_key_bytes
FROM user_mgmt.new_signing_key_material('EdDSA') AS m;

-- Unknown algorithms: 22023, and no key made.
SELECT count(*) AS keys FROM user_mgmt.signing_keys \gset
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.rotate_signing_key('RS256')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.rotate_signing_key('eddsa')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.rotate_signing_key('')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.new_signing_key_material('HS256')$$);
\x off
SELECT count(*) = :keys AS no_key_made FROM user_mgmt.signing_keys;
-- With no key at all, NULL means HS256.
BEGIN;
UPDATE user_mgmt.signing_keys SET retired_at = now() WHERE retired_at IS NULL;
SELECT user_mgmt.rotate_signing_key() AS k \gset
SELECT algorithm FROM user_mgmt.signing_keys WHERE kid = :'k';
ROLLBACK;

--
-- The tokens: the key's header, and a signature of its algorithm's length.
--
SELECT t.label, regress.mask(regress.header_text(t.tok)) AS header,
       octet_length(regress.signature(t.tok)) AS signature_bytes,
       length(split_part(t.tok, '.', 3)) AS signature_chars,
       regress.verdict(t.tok) AS verdict,
       user_mgmt.verify_token(t.tok) ->> 'sub' = :'uid' AS sub
FROM (VALUES (1, 'hs', :'tok_hs'), (2, 'ed1 (login)', :'tok_ed1'), (3, 'ed2', :'tok_ed2'),
             (4, 'es1', :'tok_es1'), (5, 'es2', :'tok_es2')) AS t(n, label, tok)
ORDER BY t.n;
-- The settings hold for every algorithm: user_mgmt.token_ttl (1.5 has no
-- setting of its own).
SET user_mgmt.token_ttl = '5min';
SELECT (c ->> 'exp')::bigint - (c ->> 'iat')::bigint AS es256_lifetime
FROM user_mgmt.verify_token(user_mgmt.issue_token(:uid)) AS c;
RESET user_mgmt.token_ttl;
-- The claims are the same whatever the algorithm.
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(user_mgmt.verify_token(:'tok_hs')) AS k) =
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(user_mgmt.verify_token(:'tok_es2')) AS k)
       AS same_claims;
-- Another backend verifies them too, and sees keys made here.
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s',
    current_setting('unix_socket_directories'), current_setting('port'), current_database())) AS other;
SELECT v = format('%s,%s,%s', :uid, :uid, :uid) AS verified_elsewhere
FROM dblink('other', format($$SELECT string_agg(v ->> 'sub', ',') FROM
    unnest(ARRAY[user_mgmt.verify_token(%L), user_mgmt.verify_token(%L), user_mgmt.verify_token(%L)]) AS v$$,
    :'tok_hs', :'tok_ed2', :'tok_es2')) AS t(v text);

--
-- jwks(): every unretired EdDSA and ES256 key made here, nothing else.
--
SELECT (SELECT array_agg(k) FROM jsonb_object_keys(user_mgmt.jwks()) AS k) AS members,
       jsonb_typeof(user_mgmt.jwks() -> 'keys') AS keys;
SELECT regress.mask(j ->> 'kid') AS kid, j - 'kid' - 'x' - 'y' AS jwk,
       (SELECT string_agg(m, ',' ORDER BY m) FROM jsonb_object_keys(j) AS m) AS members,
       j ->> 'x' ~ '^[A-Za-z0-9_-]{43}$' AS x_form,
       CASE WHEN j ? 'y' THEN j ->> 'y' ~ '^[A-Za-z0-9_-]{43}$' END AS y_form,
       j ->> 'x' = regress.b64url(CASE k.algorithm WHEN 'EdDSA' THEN substr(k.public_key, 13, 32)
                                  ELSE substr(k.public_key, 28, 32) END) AS x_is_the_key,
       CASE WHEN j ? 'y' THEN j ->> 'y' = regress.b64url(substr(k.public_key, 60, 32)) END AS y_is_the_key
FROM jsonb_array_elements(user_mgmt.jwks() -> 'keys') AS j
JOIN user_mgmt.signing_keys AS k ON k.kid = j ->> 'kid'
ORDER BY 1;
-- No private part anywhere (d is a JWK's private key).
SELECT NOT jsonb_path_exists(user_mgmt.jwks(), '$.keys[*].d') AS no_d,
       position(regress.b64url(substr(k.secret, 17)) IN user_mgmt.jwks()::text) = 0 AS no_seed
FROM user_mgmt.signing_keys AS k WHERE k.kid = (SELECT value FROM regress.masks WHERE label = 'ed1');

--
-- public_key_pem(kid): the SubjectPublicKeyInfo in PEM, for any key pair.
--
SELECT regress.mask(k.kid) AS kid, p.pem LIKE E'-----BEGIN PUBLIC KEY-----\n%\n-----END PUBLIC KEY-----\n' AS pem_form,
       p.pem NOT LIKE '%PRIVATE%' AS no_private_key,
       regress.pem_der(p.pem) = k.public_key AS is_the_public_key
FROM user_mgmt.signing_keys AS k, LATERAL (SELECT user_mgmt.public_key_pem(k.kid) AS pem) AS p
WHERE k.retired_at IS NULL AND k.algorithm <> 'HS256'
ORDER BY 1;
SELECT user_mgmt.public_key_pem(NULL) IS NULL AS strict;
\x on
SELECT * FROM regress.key_error($$SELECT user_mgmt.public_key_pem('no-such-key')$$);
SELECT * FROM regress.key_error(format('SELECT user_mgmt.public_key_pem(%L)',
    (SELECT value FROM regress.masks WHERE label = 'hs1')));
SELECT * FROM regress.key_error(format('SELECT user_mgmt.public_key_pem(%L)',
    (SELECT value FROM regress.masks WHERE label = 'hs0')));
\x off

--
-- export_signing_key(kid): a key pair's private key, PKCS#8 DER.
--
SELECT regress.mask(k.kid) AS kid, user_mgmt.export_signing_key(k.kid) = k.secret AS exported
FROM user_mgmt.signing_keys AS k WHERE k.retired_at IS NULL AND k.algorithm <> 'HS256'
ORDER BY 1;
SELECT user_mgmt.export_signing_key() = secret AS current_key_exported
FROM user_mgmt.signing_keys WHERE kid = (SELECT value FROM regress.masks WHERE label = 'es2');

--
-- import_signing_key(kid, algorithm, pem): RFC 8037 A.1's Ed25519 key and
-- RFC 7515 A.3's P-256 key.
--
SELECT regress.pem('\x302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a') AS ed_pem \gset
SELECT E'-----BEGIN PUBLIC KEY-----\n'
       'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n'
       '6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n'
       '-----END PUBLIC KEY-----\n' AS es_pem \gset
SELECT user_mgmt.import_signing_key('rfc8037-a1', 'EdDSA', :'ed_pem');
SELECT user_mgmt.import_signing_key('rfc7515-a3', 'ES256', :'es_pem');
SELECT user_mgmt.import_signing_key(NULL, 'EdDSA', :'ed_pem') IS NULL AS strict;
SELECT kid, algorithm, secret IS NULL AS no_private_key, public_key, retired_at IS NULL AS active
FROM user_mgmt.signing_keys WHERE kid LIKE 'rfc%' ORDER BY kid;
SELECT user_mgmt.public_key_pem('rfc8037-a1');
SELECT user_mgmt.public_key_pem('rfc7515-a3') = :'es_pem' AS same_pem;
-- Not published, never signing, no private key to export.
SELECT regress.published();
SELECT regress.mask(regress.header_text(user_mgmt.issue_token(:uid))) AS still_signs_with;
BEGIN;
SELECT user_mgmt.rotate_signing_key() AS k \gset
SELECT algorithm AS rotate_keeps FROM user_mgmt.signing_keys WHERE kid = :'k';
ROLLBACK;
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.export_signing_key('rfc8037-a1')$$);
\x off

-- Tokens signed with the RFCs' private keys, naming them by kid: RFC 8037
-- A.4's payload is no JSON object, RFC 7515 A.3's claims expired in 2011;
-- both answers come only after the signature passed, as the same tokens
-- with one bit of the signature changed show.
SELECT 'eyJhbGciOiJFZERTQSIsImtpZCI6InJmYzgwMzctYTEifQ.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc._F0GIVWazbdHmT6CffeCmYdbMsIzFZN1UmDve3BLcfOqAVl74KgZnaZU673kwDRTUbSUJbyG7XvnHyIB-AdPCw' AS rfc_ed \gset
SELECT 'eyJhbGciOiJFUzI1NiIsImtpZCI6InJmYzc1MTUtYTMifQ.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.o4HQBfucgyLFc3U9ZGnVxbBIsdgACpybR-9tKGhdeUsDNf7XBARExwRqhrO01xJ5cpa9h2tlAJxwqCSrsMaYtw' AS rfc_es \gset
SELECT t.label, regress.header_text(t.tok) AS header, regress.verdict(t.tok) AS verdict,
       regress.verdict(regress.resign(t.tok, set_byte(regress.signature(t.tok), 10,
                                                      get_byte(regress.signature(t.tok), 10) # 1))) AS one_bit_off
FROM (VALUES (1, 'RFC 8037 A.4', :'rfc_ed'), (2, 'RFC 7515 A.3', :'rfc_es')) AS t(n, label, tok)
ORDER BY t.n;
-- The RFCs' tokens as printed have no kid: the current key alone is tried.
SELECT regress.verdict('eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg') AS rfc_8037_a4,
       regress.verdict('eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q') AS rfc_7515_a3;
-- A whole token from that other service: user 424242, session ...a1a1,
-- expiring in 2100 (the user and session are written here directly).
INSERT INTO user_mgmt.users (id, username, hashed_password, full_name)
VALUES (424242, 'remote', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Remote');
INSERT INTO user_mgmt.sessions (id, user_id, session_epoch, origin, expires_at)
VALUES ('00000000-0000-4000-8000-00000000a1a1', 424242, 0, 'issue_token', now() + '1 hour');
SELECT 'eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6InJmYzgwMzctYTEifQ.eyJzdWIiOiI0MjQyNDIiLCJyb2xlIjoiVVNFUiIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwYTFhMSIsImV4cCI6NDEwMjQ0NDgwMH0.L18hmHDjCuX1O7UmI95YSqVIoim30hEJ16vTjMfzRox4h_QYnEmZOqK0wmpu4S31MeOMR0eFXWCdVrNU5ek5Aw' AS remote_ed \gset
SELECT 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJmYzc1MTUtYTMifQ.eyJzdWIiOiI0MjQyNDIiLCJyb2xlIjoiVVNFUiIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwYTFhMSIsImV4cCI6NDEwMjQ0NDgwMH0.KTPh1m4vUUyYxrga6a3nd39qm1n1GxZoeLn29wWppCr_-l70tRxiyk4_Ul3pGpNl43c3RznnJ_cwOLgnNl6dig' AS remote_es \gset
SELECT user_mgmt.verify_token(:'remote_ed') AS ed25519_claims;
SELECT user_mgmt.verify_token(:'remote_es') AS p256_claims;
BEGIN;
SELECT user_mgmt.set_session_token(:'remote_ed') IS NOT NULL AS claims_set;
SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role(), user_mgmt.current_session_id();
COMMIT;
-- ... but only with the algorithm it was imported for.
SELECT regress.verdict(regress.reheader(:'remote_ed', '{"alg":"ES256","typ":"JWT","kid":"rfc8037-a1"}')) AS relabelled_es256,
       regress.verdict(regress.reheader(:'remote_es', '{"alg":"EdDSA","typ":"JWT","kid":"rfc7515-a3"}')) AS relabelled_eddsa,
       regress.verdict(regress.hs256('{"alg":"HS256","typ":"JWT","kid":"rfc8037-a1"}',
                                     '{"sub":"424242","sid":"00000000-0000-4000-8000-00000000a1a1","exp":4102444800}',
                                     convert_to(:'ed_pem', 'UTF8'))) AS hs256_with_its_pem;

-- What is refused, and why.
\x on
-- a kid is 1 to 64 base64url characters
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'bad kid', 'EdDSA', :'ed_pem'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', '', 'EdDSA', :'ed_pem'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', repeat('k', 65), 'EdDSA', :'ed_pem'));
-- only EdDSA and ES256, exactly so
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'HS256', :'ed_pem'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'Ed25519', :'ed_pem'));
-- a weak Ed25519 key (the identity point: anyone could sign for it), a
-- private key before the public one, two keys, junk after the key
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'weak', 'EdDSA',
    E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n-----END PUBLIC KEY-----\n'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA',
    E'-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n' || :'ed_pem'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA',
    :'ed_pem' || :'ed_pem'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA',
    :'ed_pem' || 'junk'));
-- no PEM, a broken one, a private key, a curve that is not P-256
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA', 'not a key'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA', ''));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA',
    replace(:'ed_pem', 'AyEA', 'AyE')));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA',
    E'-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'ES256',
    E'-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEt+3KWL5mgFHEk9hZDh1d7k0Z0PY7KM6V\n'
    'szlrAuta67i8dG+Aa8o5wwU2mTOToYSU2Jombm8jfOuCuJDCoUWYL6g1zeP4+1vG\n'
    '5Oil8489jKWMIYpw6VT/dowm+sWc9pfA\n-----END PUBLIC KEY-----\n'));
-- a key of the other algorithm
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'ES256', :'ed_pem'));
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA', :'es_pem'));
-- a kid that is taken, by an imported key, one made here, or a retired one
SELECT * FROM regress.error_of(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'rfc8037-a1', 'EdDSA', :'ed_pem'));
SELECT * FROM regress.key_error(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)',
    (SELECT value FROM regress.masks WHERE label = 'ed1'), 'EdDSA', :'ed_pem'));
SELECT * FROM regress.key_error(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)',
    (SELECT value FROM regress.masks WHERE label = 'hs0'), 'EdDSA', :'ed_pem'));
\x off
SELECT count(*) = :keys + 2 AS only_the_two_imported FROM user_mgmt.signing_keys;

--
-- verify_token: the key decides the algorithm.  Each token below is
-- crafted to have one defect only: the claims name a live session.
--
SELECT user_mgmt.verify_token(:'tok_hs') ->> 'sid' AS sid \gset
SELECT jsonb_build_object('sub', :'uid', 'sid', :'sid', 'exp', regress.now_unix() + 60) AS claims \gset
SELECT value AS ed2 FROM regress.masks WHERE label = 'ed2' \gset
SELECT value AS es2 FROM regress.masks WHERE label = 'es2' \gset
SELECT value AS hs1 FROM regress.masks WHERE label = 'hs1' \gset
-- The HS256 key itself still works for a crafted token (the control).
SELECT regress.verdict(regress.hs256(jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'hs1'),
                                     :'claims', user_mgmt.export_signing_key(:'hs1'))) AS hs256_control;
-- HS256 "signed" with a public key as the HMAC secret: its PEM text, its
-- DER, with the key's kid or (for the current key) none.
SELECT t.label, regress.verdict(regress.hs256(t.header, :'claims', t.secret)) AS verdict
FROM (SELECT 1, 'EdDSA key, PEM', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'ed2'),
             convert_to(user_mgmt.public_key_pem(:'ed2'), 'UTF8')
      UNION ALL
      SELECT 2, 'EdDSA key, DER', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'ed2'),
             (SELECT public_key FROM user_mgmt.signing_keys WHERE kid = :'ed2')
      UNION ALL
      SELECT 3, 'ES256 key, PEM', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'es2'),
             convert_to(user_mgmt.public_key_pem(:'es2'), 'UTF8')
      UNION ALL
      SELECT 4, 'ES256 key, DER', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'es2'),
             (SELECT public_key FROM user_mgmt.signing_keys WHERE kid = :'es2')
      UNION ALL
      SELECT 5, 'current key, PEM, no kid', '{"alg":"HS256","typ":"JWT"}',
             convert_to(user_mgmt.public_key_pem(:'es2'), 'UTF8')
      UNION ALL
      SELECT 6, 'ES256 key, JWK x', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'es2'),
             convert_to((SELECT j ->> 'x' FROM jsonb_array_elements(user_mgmt.jwks() -> 'keys') AS j
                         WHERE j ->> 'kid' = :'es2'), 'UTF8')) AS t(n, label, header, secret)
ORDER BY t.n;
-- Another algorithm on the header of a real token, its kid kept.
SELECT t.label, regress.verdict(regress.reheader(t.tok, t.header)) AS verdict
FROM (VALUES (1, 'EdDSA token as ES256', :'tok_ed2', jsonb_build_object('alg', 'ES256', 'typ', 'JWT', 'kid', :'ed2')),
             (2, 'EdDSA token as HS256', :'tok_ed2', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'ed2')),
             (3, 'ES256 token as EdDSA', :'tok_es2', jsonb_build_object('alg', 'EdDSA', 'typ', 'JWT', 'kid', :'es2')),
             (4, 'ES256 token as HS256', :'tok_es2', jsonb_build_object('alg', 'HS256', 'typ', 'JWT', 'kid', :'es2')),
             (5, 'HS256 token as EdDSA', :'tok_hs', jsonb_build_object('alg', 'EdDSA', 'typ', 'JWT', 'kid', :'hs1')),
             (6, 'HS256 token as ES256', :'tok_hs', jsonb_build_object('alg', 'ES256', 'typ', 'JWT', 'kid', :'hs1')),
             (7, 'EdDSA token, no kid', :'tok_ed2', '{"alg":"EdDSA","typ":"JWT"}'),
             (8, 'EdDSA token, another EdDSA kid', :'tok_ed2',
                 jsonb_build_object('alg', 'EdDSA', 'typ', 'JWT', 'kid', (SELECT value FROM regress.masks WHERE label = 'ed1'))),
             (9, 'ES256 token, another ES256 kid', :'tok_es2',
                 jsonb_build_object('alg', 'ES256', 'typ', 'JWT', 'kid', (SELECT value FROM regress.masks WHERE label = 'es1'))))
     AS t(n, label, tok, header)
ORDER BY t.n;
-- Signatures of the wrong form: DER instead of R || S, a byte short or
-- over, zeros, R and S beyond the group order.
SELECT t.label, regress.verdict(regress.resign(t.tok, t.sig)) AS verdict
FROM (VALUES (1, 'ES256, as DER', :'tok_es2', regress.der_signature(regress.signature(:'tok_es2'))),
             (2, 'ES256, 63 bytes', :'tok_es2', substr(regress.signature(:'tok_es2'), 1, 63)),
             (3, 'ES256, 65 bytes', :'tok_es2', regress.signature(:'tok_es2') || '\x00'::bytea),
             (4, 'EdDSA, 63 bytes', :'tok_ed2', substr(regress.signature(:'tok_ed2'), 1, 63)),
             (5, 'EdDSA, 65 bytes', :'tok_ed2', regress.signature(:'tok_ed2') || '\x00'::bytea),
             (6, 'EdDSA, 32 bytes (an HMAC''s length)', :'tok_ed2', substr(regress.signature(:'tok_ed2'), 1, 32)),
             (7, 'ES256, zeros', :'tok_es2', decode(repeat('00', 64), 'hex')),
             (8, 'ES256, 0xff', :'tok_es2', decode(repeat('ff', 64), 'hex')),
             (9, 'EdDSA, zeros', :'tok_ed2', decode(repeat('00', 64), 'hex')),
             (10, 'ES256, R and S swapped', :'tok_es2',
                  substr(regress.signature(:'tok_es2'), 33, 32) || substr(regress.signature(:'tok_es2'), 1, 32)),
             (11, 'ES256, empty', :'tok_es2', ''::bytea)) AS t(n, label, tok, sig)
ORDER BY t.n;
-- (The DER form is what libcrypto makes and checks: a SEQUENCE of two INTEGERs.)
SELECT octet_length(regress.der_signature(regress.signature(:'tok_es2'))) BETWEEN 8 AND 72 AS der_length,
       get_byte(regress.der_signature(regress.signature(:'tok_es2')), 0) = 48 AS der_sequence;
-- Algorithms there are no keys for.
SELECT t.alg, regress.verdict(regress.reheader(:'tok_ed2', jsonb_build_object('alg', t.alg, 'typ', 'JWT', 'kid', :'ed2'))) AS verdict
FROM unnest(ARRAY['none', 'HS512', 'ES384', 'ES256K', 'RS256', 'PS256', 'Ed25519', 'EDDSA', 'es256', '']) WITH ORDINALITY AS t(alg, n)
ORDER BY t.n;
SELECT regress.verdict(regress.b64url(convert_to('{"alg":"none","kid":"' || :'ed2' || '"}', 'UTF8')) || '.' ||
                       split_part(:'tok_ed2', '.', 2) || '.') AS none_unsigned,
       regress.verdict(regress.hs256(jsonb_build_object('alg', 'HS512', 'kid', :'hs1'), :'claims',
                                     user_mgmt.export_signing_key(:'hs1'))) AS hs512;

--
-- Retiring a key pair: its tokens stop verifying, it leaves the JWKS, its
-- PEM and private key are gone; here and in the other backend.
--
SELECT regress.published() AS before;
SELECT user_mgmt.retire_signing_key(value) FROM regress.masks WHERE label = 'ed1';
SELECT regress.published() AS after;
SELECT regress.verdict(:'tok_ed1') AS ed1_token, regress.verdict(:'tok_ed2') AS ed2_token;
SELECT j::jsonb = user_mgmt.jwks() AS same_elsewhere
FROM dblink('other', 'SELECT user_mgmt.jwks()::text') AS t(j text);
\x on
SELECT * FROM regress.key_error(format('SELECT user_mgmt.public_key_pem(%L)',
    (SELECT value FROM regress.masks WHERE label = 'ed1')));
SELECT * FROM regress.key_error(format('SELECT user_mgmt.export_signing_key(%L)',
    (SELECT value FROM regress.masks WHERE label = 'ed1')));
\x off
-- A key made in another backend signs and is published here at once;
-- retired there, it is gone here too.
SELECT v AS k FROM dblink('other', $$SELECT user_mgmt.rotate_signing_key('EdDSA')$$) AS t(v text) \gset
INSERT INTO regress.masks (label, value) VALUES ('ed3', :'k');
SELECT regress.published() AS with_ed3,
       regress.mask(regress.header_text(user_mgmt.issue_token(:uid))) AS signs_with;
SELECT user_mgmt.issue_token(:uid) AS tok_ed3 \gset
-- (verified just before, so that this backend remembers it as verified)
SELECT regress.verdict(:'tok_ed3') AS ed3_token_before;
SELECT v FROM dblink('other', format('SELECT user_mgmt.retire_signing_key(%L)::text', :'k')) AS t(v text);
SELECT regress.published() AS without_ed3, regress.verdict(:'tok_ed3') AS ed3_token;
SELECT dblink_disconnect('other');
-- An imported key is retired like any other.
SELECT regress.verdict(:'remote_ed') AS remote_ed_before;
SELECT user_mgmt.retire_signing_key('rfc8037-a1');
SELECT regress.verdict(:'remote_ed') AS remote_ed, regress.verdict(:'remote_es') AS remote_es;

--
-- The way back to 1.4 is closed while a key pair is active (the
-- migrations suite walks it); nothing changes.
--
SELECT md5(string_agg(kid || algorithm || coalesce(retired_at::text, ''), ',' ORDER BY kid)) AS keys_before
FROM user_mgmt.signing_keys \gset
\x on
SELECT * FROM regress.key_error($$ALTER EXTENSION user_mgmt UPDATE TO '1.4'$$);
\x off
SELECT extversion, md5(string_agg(kid || algorithm || coalesce(retired_at::text, ''), ',' ORDER BY kid)) = :'keys_before' AS keys_unchanged
FROM pg_extension, user_mgmt.signing_keys WHERE extname = 'user_mgmt' GROUP BY extversion;

--
-- Who may do what: the public keys are for everyone, the rest is not.
--
CREATE ROLE regress_user_mgmt_keys;
SET ROLE regress_user_mgmt_keys;
SELECT jsonb_array_length(user_mgmt.jwks() -> 'keys') AS published,
       user_mgmt.public_key_pem(:'es2') LIKE '-----BEGIN PUBLIC KEY-----%' AS pem_readable;
SELECT regress.verdict(:'tok_es2') AS verifies;
\x on
SELECT * FROM regress.key_error($$SELECT user_mgmt.rotate_signing_key('EdDSA')$$);
SELECT * FROM regress.key_error($$SELECT user_mgmt.rotate_signing_key()$$);
SELECT * FROM regress.key_error($$SELECT user_mgmt.new_signing_key_material('EdDSA')$$);
SELECT * FROM regress.key_error(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA', :'ed_pem'));
SELECT * FROM regress.key_error(format('SELECT user_mgmt.export_signing_key(%L)', :'es2'));
SELECT * FROM regress.key_error('SELECT count(*) FROM user_mgmt.signing_keys');
\x off
RESET ROLE;
-- Granted EXECUTE, a role that is no superuser still may not import.
GRANT EXECUTE ON FUNCTION user_mgmt.import_signing_key(text, text, text) TO regress_user_mgmt_keys;
SET ROLE regress_user_mgmt_keys;
\x on
SELECT * FROM regress.key_error(format('SELECT user_mgmt.import_signing_key(%L, %L, %L)', 'k1', 'EdDSA', :'ed_pem'));
\x off
RESET ROLE;
DROP OWNED BY regress_user_mgmt_keys;
DROP ROLE regress_user_mgmt_keys;
SELECT count(*) FROM user_mgmt.signing_keys WHERE kid = 'k1';

-- Back to an HS256 key that signs.
SELECT regress.rotate('hs2', 'HS256') IS NOT NULL AS rotated;
SELECT regress.mask(regress.header_text(user_mgmt.issue_token(:uid))) AS header,
       octet_length(secret) AS secret_bytes, public_key IS NULL AS no_public_key
FROM user_mgmt.signing_keys WHERE kid = (SELECT value FROM regress.masks WHERE label = 'hs2');
SELECT regress.verdict(:'tok_es2') AS es2_token_still_verifies;

SELECT user_mgmt.delete_user(id) FROM user_mgmt.users WHERE username IN ('kyoto', 'remote') ORDER BY id;
DROP FUNCTION regress.published(), regress.pem_der(text), regress.pem(bytea),
	regress.der_signature(bytea), regress.der_integer(bytea), regress.hs256(jsonb, jsonb, bytea),
	regress.resign(text, bytea), regress.reheader(text, jsonb), regress.signature(text),
	regress.header_text(text), regress.rotate(text, text), regress.verdict(text),
	regress.key_error(text), regress.mask(text);
DROP TABLE regress.masks;
RESET DateStyle;
RESET user_mgmt.bcrypt_cost;
