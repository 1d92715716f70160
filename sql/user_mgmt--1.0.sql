/*
 * user_mgmt 1.0: the tutorial's "Initial Migrate".
 *
 * The role enum and the users table in exactly the shape Alembic creates
 * from the tutorial's SQLAlchemy models, native bcrypt functions, the role
 * display labels and the migration catalog.
 *
 * Released: never edit this file again.  Changes come as
 * user_mgmt--A--B.sql update scripts, each with its downgrade.
 *
 * Security (PostgreSQL docs, "Security Considerations for Extension
 * Scripts"): CREATE EXTENSION runs this with search_path set to the
 * extension's own schema; every object is schema-qualified anyway, every
 * function pins its search_path, and SQL bodies are SQL-standard (parsed
 * here, once) so no name is looked up again at call time.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION user_mgmt" to load this file. \quit

COMMENT ON SCHEMA user_mgmt IS
'Objects of the user_mgmt extension: users, roles, bcrypt passwords, migration catalog';

-- Functions in this schema are for everyone; its tables are not (see below).
GRANT USAGE ON SCHEMA user_mgmt TO PUBLIC;

/* ---------------------------------------------------------------------
 * Password hashing (C, src/password.c)
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.hash_password(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'um_hash_password'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE COST 10000
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.hash_password(text) IS
'bcrypt hash ($2b$, 60 characters) of a password of at most 72 bytes, with a random salt and the cost user_mgmt.bcrypt_cost';

CREATE FUNCTION user_mgmt.hash_password(password text, cost integer)
RETURNS text
AS 'MODULE_PATHNAME', 'um_hash_password'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE COST 10000
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.hash_password(text, integer) IS
'bcrypt hash ($2b$, 60 characters) of a password of at most 72 bytes, with a random salt and the given cost (4 to 31)';

CREATE FUNCTION user_mgmt.verify_password(password text, hashed_password text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_verify_password'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.verify_password(text, text) IS
'True when the password matches a $2a$, $2b$ or $2y$ bcrypt hash from any library; compares in constant time; a malformed hash is an error';

CREATE FUNCTION user_mgmt.password_needs_rehash(hashed_password text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_password_needs_rehash'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.password_needs_rehash(text) IS
'True when the hash''s cost is below user_mgmt.bcrypt_cost or its variant is not $2b$';

CREATE FUNCTION user_mgmt.password_needs_rehash(hashed_password text, cost integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_password_needs_rehash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.password_needs_rehash(text, integer) IS
'True when the hash''s cost is below the given cost or its variant is not $2b$';

CREATE FUNCTION user_mgmt.hash_cost(hashed_password text)
RETURNS integer
AS 'MODULE_PATHNAME', 'um_hash_cost'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.hash_cost(text) IS
'The cost (log2 of the rounds) of a bcrypt hash; a malformed hash is an error';

CREATE FUNCTION user_mgmt.is_password_hash(value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'um_is_password_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION user_mgmt.is_password_hash(text) IS
'True when the value is a well-formed $2a$, $2b$ or $2y$ bcrypt hash; never raises an error';

/* ---------------------------------------------------------------------
 * Roles: the tutorial's Role enum.  SQLAlchemy's Enum(Role) stores the
 * member names, in declaration order; the Russian values are display labels.
 * --------------------------------------------------------------------- */

CREATE TYPE user_mgmt.role AS ENUM ('USER', 'CASHIER', 'ADMIN');

COMMENT ON TYPE user_mgmt.role IS
'Role of a user (the tutorial''s Role enum, by member name); see role_label() for the display labels';

CREATE FUNCTION user_mgmt.role_label(r user_mgmt.role)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE r
	WHEN 'USER' THEN 'Пользователь'
	WHEN 'CASHIER' THEN 'Кассир'
	WHEN 'ADMIN' THEN 'Администратор'
END;

COMMENT ON FUNCTION user_mgmt.role_label(user_mgmt.role) IS
'Display label of a role, as the tutorial''s Role.value';

CREATE FUNCTION user_mgmt.role_labels()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.array_agg(user_mgmt.role_label(r) ORDER BY r)
		FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::user_mgmt.role)) AS r);

COMMENT ON FUNCTION user_mgmt.role_labels() IS
'Display labels of all roles in enum order, as the tutorial''s Role.get_values()';

CREATE FUNCTION user_mgmt.role_from_label(label text)
RETURNS user_mgmt.role
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result user_mgmt.role;
BEGIN
	SELECT r INTO result
	FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::user_mgmt.role)) AS r
	WHERE user_mgmt.role_label(r) OPERATOR(pg_catalog.=) label;

	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('unknown role label "%s"', label),
			DETAIL = pg_catalog.format('The known labels are %s.',
				pg_catalog.array_to_string(user_mgmt.role_labels(), ', ')),
			HINT = 'Labels are matched exactly, including case.';
	END IF;
	RETURN result;
END
$$;

COMMENT ON FUNCTION user_mgmt.role_from_label(text) IS
'The role whose display label is the given text; an unknown label is an error';

/* ---------------------------------------------------------------------
 * The users table, as Alembic creates it from the tutorial's User model,
 * plus CHECK constraints that keep garbage (and plaintext) out.
 * --------------------------------------------------------------------- */

CREATE TABLE user_mgmt.users (
	id serial NOT NULL,
	username varchar(20) NOT NULL,
	hashed_password varchar(512) NOT NULL,
	role user_mgmt.role NOT NULL DEFAULT 'USER',
	full_name varchar(40) NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (id),
	CONSTRAINT users_username_key UNIQUE (username),
	CONSTRAINT users_username_not_blank
		CHECK (username OPERATOR(pg_catalog.~) '[^[:space:]]'),
	CONSTRAINT users_full_name_not_blank
		CHECK (full_name OPERATOR(pg_catalog.~) '[^[:space:]]'),
	CONSTRAINT users_hashed_password_is_bcrypt
		CHECK (user_mgmt.is_password_hash(hashed_password))
);

COMMENT ON TABLE user_mgmt.users IS
'Users of the application (the tutorial''s User model)';
COMMENT ON COLUMN user_mgmt.users.id IS 'Surrogate key';
COMMENT ON COLUMN user_mgmt.users.username IS 'Login name, unique';
COMMENT ON COLUMN user_mgmt.users.hashed_password IS
'bcrypt hash of the password (never the password itself)';
COMMENT ON COLUMN user_mgmt.users.role IS 'Role of the user; USER by default';
COMMENT ON COLUMN user_mgmt.users.full_name IS 'Full name for display';
COMMENT ON CONSTRAINT users_username_not_blank ON user_mgmt.users IS
'A username has at least one non-space character';
COMMENT ON CONSTRAINT users_full_name_not_blank ON user_mgmt.users IS
'A full name has at least one non-space character';
COMMENT ON CONSTRAINT users_hashed_password_is_bcrypt ON user_mgmt.users IS
'Only well-formed bcrypt hashes are stored, so plaintext can never be';

COMMENT ON SEQUENCE user_mgmt.users_id_seq IS 'Generates users.id';

REVOKE ALL ON TABLE user_mgmt.users FROM PUBLIC;
REVOKE ALL ON SEQUENCE user_mgmt.users_id_seq FROM PUBLIC;

/* ---------------------------------------------------------------------
 * The migration catalog: one row per install, upgrade or downgrade.
 * Keyed by the time it happened: pg_restore re-creates the extension (which
 * writes an install row) and then loads the dumped rows, so an identity key
 * would collide while a timestamp key cannot.
 * --------------------------------------------------------------------- */

CREATE TABLE user_mgmt.schema_migrations (
	applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	version text NOT NULL,
	previous_version text,
	direction text NOT NULL,
	description text NOT NULL,
	applied_by name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT schema_migrations_pkey PRIMARY KEY (applied_at),
	CONSTRAINT schema_migrations_direction_check
		CHECK (direction OPERATOR(pg_catalog.=) ANY (ARRAY['install', 'upgrade', 'downgrade'])),
	CONSTRAINT schema_migrations_previous_version_check
		CHECK ((direction OPERATOR(pg_catalog.=) 'install') OPERATOR(pg_catalog.=) (previous_version IS NULL))
);

COMMENT ON TABLE user_mgmt.schema_migrations IS
'History of the extension''s schema: one row per install, upgrade or downgrade';
COMMENT ON COLUMN user_mgmt.schema_migrations.applied_at IS 'When the script ran';
COMMENT ON COLUMN user_mgmt.schema_migrations.version IS 'Version after the script';
COMMENT ON COLUMN user_mgmt.schema_migrations.previous_version IS
'Version before the script; NULL for an install';
COMMENT ON COLUMN user_mgmt.schema_migrations.direction IS 'install, upgrade or downgrade';
COMMENT ON COLUMN user_mgmt.schema_migrations.description IS 'What the script changed';
COMMENT ON COLUMN user_mgmt.schema_migrations.applied_by IS 'Role that ran the script';

REVOKE ALL ON TABLE user_mgmt.schema_migrations FROM PUBLIC;

CREATE FUNCTION user_mgmt.current_version()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT e.extversion FROM pg_catalog.pg_extension AS e
		WHERE e.extname OPERATOR(pg_catalog.=) 'user_mgmt');

COMMENT ON FUNCTION user_mgmt.current_version() IS
'Installed version of the user_mgmt extension (like alembic current)';

-- pg_dump keeps the rows of these, not just their definitions.
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.users', '');
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('user_mgmt.schema_migrations', '');

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.0', NULL, 'install',
		'Initial Migrate: role enum, users table, bcrypt password functions, migration catalog');
