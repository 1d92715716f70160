--
-- verify_password: known answers from an independent implementation,
-- interop with pgcrypto, the 72-byte rule, and malformed hashes.
--

-- Known-answer vectors made by Python's bcrypt (test/vectors/).
CREATE TEMP TABLE kat (label text, password_hex text, hash text);
\copy kat FROM 'test/vectors/bcrypt_kat.tsv' WITH (FORMAT csv, DELIMITER E'\t', HEADER)
-- Passwords that are not valid UTF-8 cannot be text here; the C unit tests
-- cover those.
DELETE FROM kat WHERE label LIKE 'high-bytes-%';
SELECT count(*) >= 40 AS enough_vectors,
       count(DISTINCT left(hash, 4)) AS variants,
       count(*) FILTER (WHERE octet_length(decode(password_hex, 'hex')) > 72) > 0 AS has_long_passwords
FROM kat;

-- Every vector verifies; a changed password or a changed digest does not.
SELECT count(*) FILTER (WHERE NOT user_mgmt.verify_password(
           convert_from(decode(password_hex, 'hex'), 'UTF8'), hash)) AS rejected_right_password,
       count(*) FILTER (WHERE user_mgmt.verify_password(
           convert_from(decode(password_hex, 'hex'), 'UTF8') || '!', hash)
           AND octet_length(decode(password_hex, 'hex')) < 72) AS accepted_wrong_password,
       count(*) FILTER (WHERE user_mgmt.verify_password(
           convert_from(decode(password_hex, 'hex'), 'UTF8'),
           overlay(hash PLACING CASE substr(hash, 45, 1) WHEN 'a' THEN 'b' ELSE 'a' END
                   FROM 45 FOR 1))) AS accepted_wrong_digest
FROM kat;

-- The vectors named in the tests' brief are there.
SELECT label FROM kat
WHERE label ~ '(empty|cyrillic|72|73|255)' ORDER BY label;

-- Over 72 bytes, bcrypt libraries judge by the first 72 bytes: a hash made
-- elsewhere from a long password verifies with it and with its prefix.
SELECT label, octet_length(decode(password_hex, 'hex')) AS bytes,
       user_mgmt.verify_password(convert_from(decode(password_hex, 'hex'), 'UTF8'), hash) AS whole,
       user_mgmt.verify_password(convert_from(substring(decode(password_hex, 'hex') FROM 1 FOR 72), 'UTF8'), hash) AS first_72_bytes
FROM kat WHERE label LIKE '255-bytes-%' ORDER BY label;

-- When the cut falls inside a character (71 times 'x', then 'п' = D0 BF),
-- what counts is the byte D0: any ending after it verifies, 'я' (D1 8F) not.
SELECT label, octet_length(decode(password_hex, 'hex')) AS bytes,
       user_mgmt.verify_password(convert_from(decode(password_hex, 'hex'), 'UTF8'), hash) AS whole,
       user_mgmt.verify_password(repeat('x', 71) || 'пароль', hash) AS same_first_byte,
       user_mgmt.verify_password(repeat('x', 71) || 'я', hash) AS other_first_byte
FROM kat WHERE label LIKE '73-bytes-cut-inside-char-%' ORDER BY label;

-- pgcrypto's $2a$ hashes verify here ...
SELECT bool_and(user_mgmt.verify_password(p, crypt(p, gen_salt('bf', 4)))) AS pgcrypto_hashes_verify,
       bool_or(user_mgmt.verify_password('x' || p, crypt(p, gen_salt('bf', 4)))) AS wrong_ones_do
FROM (VALUES (''), ('password'), ('пароль'), (repeat('z', 72))) AS t(p);

-- ... and ours compute the same digest as pgcrypto once spelt $2a$.  But
-- pgcrypto's crypt() does not know $2b$ and silently falls back to DES,
-- so it never verifies a hash from Python or from us; verify_password does.
SELECT crypt('pw', h) = h AS pgcrypto_verifies_2b,
       crypt('pw', overlay(h PLACING 'a' FROM 3 FOR 1)) = overlay(h PLACING 'a' FROM 3 FOR 1) AS pgcrypto_verifies_same_as_2a,
       user_mgmt.verify_password('pw', h) AS we_verify_2b
FROM user_mgmt.hash_password('pw', 5) AS h;

-- Malformed hashes are errors that say what is wrong, never a quiet false.
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', 'pw')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$1$' || repeat('a', 57))$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', repeat('$', 60))$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2c$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2b$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2b$1a$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2b$10$N9qo8uLOickgx2ZMRZoMy*IjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh-y')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('pw', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy ')$$);
\x off

-- NULL in, NULL out.
SELECT user_mgmt.verify_password(NULL, '$2b$04$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy') IS NULL AS a,
       user_mgmt.verify_password('x', NULL) IS NULL AS b;
