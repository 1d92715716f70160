--
-- The users table: the shape Alembic creates from the tutorial's model,
-- the constraints that keep garbage out, privileges, and dump settings.
--

-- Columns: types, lengths, nullability and defaults.
SELECT column_name, data_type, udt_schema || '.' || udt_name AS udt,
       character_maximum_length AS max_len, is_nullable, column_default
FROM information_schema.columns
WHERE table_schema = 'user_mgmt' AND table_name = 'users'
ORDER BY ordinal_position;

-- Constraints, with their definitions.
SELECT conname, contype, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE conrelid = 'user_mgmt.users'::regclass
ORDER BY conname;

-- A user as the tutorial's app stores one; role defaults to USER.
INSERT INTO user_mgmt.users (username, hashed_password, full_name)
VALUES ('ivan', user_mgmt.hash_password('s3cret-Пароль', 4), 'Иван Петров')
RETURNING id, username, role, user_mgmt.role_label(role), full_name;

SELECT username, user_mgmt.verify_password('s3cret-Пароль', hashed_password) AS right_password,
       user_mgmt.verify_password('s3cret-пароль', hashed_password) AS wrong_password
FROM user_mgmt.users;

-- Maximum lengths fit exactly; Cyrillic counts characters, not bytes.
INSERT INTO user_mgmt.users (username, hashed_password, role, full_name)
VALUES (repeat('ж', 20), user_mgmt.hash_password('x', 4), 'ADMIN', repeat('Щ', 40))
RETURNING id, length(username), length(full_name), role;

-- What the constraints refuse, with the SQLSTATE of each refusal.  (The
-- hash below is a valid one, of the empty password.)
\x on
-- the username is unique
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('ivan', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Another Ivan')$$);
-- plaintext never gets into hashed_password
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('petr', 's3cret', 'Пётр')$$);
-- neither does a malformed hash
SELECT * FROM regress.error_of($$
  UPDATE user_mgmt.users SET hashed_password = left('$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 59)
  WHERE username = 'ivan'$$);
-- blank names
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES (E' \t ', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Blank Login')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('blank', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', '   ')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Empty Login')$$);
-- too long
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES (repeat('a', 21), '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'Long Login')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('long', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', repeat('b', 41))$$);
-- missing values and unknown roles
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, role, full_name)
  VALUES ('norole', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', NULL, 'No Role')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, role, full_name)
  VALUES ('god', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua', 'GOD', 'God')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password)
  VALUES ('nameless', '$2b$04$R8GCE7bdfPMINQwFt9pk2e4ztzjm5ZNQSkbiMTHnH08XbDCzFRhua')$$);
\x off

-- Nothing of the refused rows got in.
SELECT count(*) AS users FROM user_mgmt.users;

-- Privileges: PUBLIC may hash and read labels but not touch the tables.
CREATE ROLE regress_user_mgmt_nobody;
SET ROLE regress_user_mgmt_nobody;
SELECT user_mgmt.hash_cost(user_mgmt.hash_password('x', 4)) AS public_can_hash,
       user_mgmt.role_label('CASHIER') AS public_can_read_labels;
\x on
SELECT * FROM regress.error_of('SELECT * FROM user_mgmt.users');
SELECT * FROM regress.error_of('SELECT * FROM user_mgmt.schema_migrations');
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.users (username, hashed_password, full_name)
  VALUES ('intruder', user_mgmt.hash_password('x', 4), 'Intruder')$$);
SELECT * FROM regress.error_of($$SELECT nextval('user_mgmt.users_id_seq')$$);
\x off
RESET ROLE;
DROP ROLE regress_user_mgmt_nobody;

-- pg_dump keeps the rows of the users table, its sequence and the catalog.
SELECT unnest(extconfig)::regclass AS dumped_with_data, unnest(extcondition) AS condition
FROM pg_extension WHERE extname = 'user_mgmt'
ORDER BY dumped_with_data::text;

-- Every function pins its search_path, but for the C functions on the
-- token hot path: they resolve no name through search_path, and a SET
-- clause would cost each call about a microsecond.  Every object has a
-- comment.
SELECT p.oid::regprocedure AS function_without_pinned_search_path,
       l.lanname AS language
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
     JOIN pg_language l ON l.oid = p.prolang
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_mgmt')
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
ORDER BY p.oid::regprocedure::text;

SELECT pg_describe_object(classid, objid, 0) AS member_without_comment
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_mgmt')
  AND obj_description(objid, classid::regclass::name) IS NULL
ORDER BY 1;

-- Beyond the members themselves: every column, constraint, index and
-- trigger in the schema has a comment too.
SELECT a.attrelid::regclass || '.' || a.attname AS column_without_comment
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'user_mgmt'::regnamespace AND c.relkind IN ('r', 'v')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND col_description(a.attrelid, a.attnum) IS NULL
ORDER BY 1;

SELECT conrelid::regclass || '.' || conname AS constraint_without_comment
FROM pg_constraint
WHERE connamespace = 'user_mgmt'::regnamespace
  AND obj_description(oid, 'pg_constraint') IS NULL
ORDER BY 1;

SELECT c.oid::regclass AS relation_without_comment, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'user_mgmt'::regnamespace
  AND obj_description(c.oid, 'pg_class') IS NULL
ORDER BY 1;

SELECT t.tgrelid::regclass || '.' || t.tgname AS trigger_without_comment
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'user_mgmt'::regnamespace
  AND obj_description(t.oid, 'pg_trigger') IS NULL
ORDER BY 1;
