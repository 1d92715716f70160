--
-- hash_password, hash_cost, password_needs_rehash, is_password_hash and
-- the GUC user_mgmt.bcrypt_cost.
--

-- A $2b$ hash of 60 characters with the requested cost and a random salt.
SELECT length(h) AS length, h ~ '^\$2b\$04\$[./A-Za-z0-9]{53}$' AS well_formed,
       user_mgmt.hash_cost(h) AS cost, user_mgmt.is_password_hash(h) AS is_hash
FROM user_mgmt.hash_password('correct horse', 4) AS h;

SELECT user_mgmt.hash_password('same', 4) <> user_mgmt.hash_password('same', 4)
       AS salts_differ;

-- Without a cost: the GUC, 12 by default.
SHOW user_mgmt.bcrypt_cost;
SET user_mgmt.bcrypt_cost = 5;
SELECT user_mgmt.hash_cost(user_mgmt.hash_password('x')) AS cost_from_guc;
RESET user_mgmt.bcrypt_cost;
SELECT name, setting, min_val, max_val, context, short_desc
FROM pg_settings WHERE name = 'user_mgmt.bcrypt_cost';

\x on
SELECT * FROM regress.error_of($$SET user_mgmt.bcrypt_cost = 3$$);
SELECT * FROM regress.error_of($$SET user_mgmt.bcrypt_cost = 32$$);
-- the prefix belongs to the extension: typos are caught
SELECT * FROM regress.error_of($$SET user_mgmt.bcrypt_cots = 10$$);
\x off

-- Costs out of range.
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password('x', 3)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password('x', 32)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password('x', -1)$$);
\x off

-- Up to 72 bytes is fine, including the empty password ...
SELECT octet_length(p) AS bytes, user_mgmt.verify_password(p, user_mgmt.hash_password(p, 4)) AS verifies
FROM (VALUES (''), (repeat('a', 72)), (repeat('я', 36)), (repeat('a', 70) || 'я')) AS t(p);

-- ... but not one byte more: bcrypt would silently ignore the rest.
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password(repeat('a', 73), 4)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password(repeat('я', 37), 4)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password(repeat('a', 71) || 'я', 4)$$);
\x off

-- NULL in, NULL out.
SELECT user_mgmt.hash_password(NULL) IS NULL AS a,
       user_mgmt.hash_password(NULL, 4) IS NULL AS b,
       user_mgmt.hash_password('x', NULL) IS NULL AS c;

-- hash_cost reads the cost of any variant.
SELECT h, user_mgmt.hash_cost(h)
FROM (VALUES ('$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2y$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$04$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')) AS t(h);

-- password_needs_rehash: below the target cost, or not $2b$.
SET user_mgmt.bcrypt_cost = 10;
SELECT h, user_mgmt.password_needs_rehash(h) AS against_guc_10,
       user_mgmt.password_needs_rehash(h, 4) AS against_4,
       user_mgmt.password_needs_rehash(h, 12) AS against_12
FROM (VALUES ('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$11$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$09$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2y$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')) AS t(h);
RESET user_mgmt.bcrypt_cost;
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.password_needs_rehash('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', 40)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.password_needs_rehash('plaintext')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_cost('$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
\x off

-- is_password_hash never raises, whatever it is given.
SELECT v, user_mgmt.is_password_hash(v)
FROM (VALUES ('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$32$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$1$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWyx'),
             ('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW'),
             ('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWyy'),
             ('$2b$10$N9qo8uLOickgx2ZMRZoMy_IjZAgcfl7p92ldGxad68LJZdL17lhWy'),
             ('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh+y'),
             ('$1$abcdefgh$abcdefghijklmnopqrstuv'),
             ('s3cret'),
             ('')) AS t(v);

-- A cost-20 hash takes about a minute; statement_timeout stops it at once.
SET statement_timeout = '200ms';
SELECT * FROM regress.error_of($$SELECT user_mgmt.hash_password('x', 20)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.verify_password('x', '$2b$20$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')$$);
RESET statement_timeout;

-- Labels of every function: volatility, strictness, parallel safety.
SELECT p.oid::regprocedure::text AS function,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
       p.proisstrict AS strict,
       CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END AS parallel,
       p.prosecdef AS security_definer
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_mgmt')
ORDER BY 1;
