/*
 * user_mgmt 1.0 -> 1.1: account lifecycle columns, case-insensitive
 * usernames, and the catalog functions (history, pending versions, drift).
 *
 * A fresh install of 1.1 runs user_mgmt--1.0.sql and then this script, so
 * both ways of getting 1.1 give the same objects.  The way back is
 * user_mgmt--1.1--1.0.sql.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.1'" to load this file. \quit

/*
 * Refuse before changing anything: usernames that collide once case is
 * folded cannot all survive the new unique index.  Folding uses the ICU
 * root locale, so 'Иван' and 'иван' collide whatever the database's locale.
 */
DO $$
DECLARE
	collisions text;
BEGIN
	SELECT pg_catalog.string_agg(g.names, '; ' ORDER BY g.names)
	INTO collisions
	FROM (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(u.username), ', '
									   ORDER BY u.username) AS names
		  FROM user_mgmt.users AS u
		  GROUP BY pg_catalog.lower(u.username COLLATE pg_catalog."und-x-icu")
		  HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1) AS g;

	IF collisions IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'unique_violation',
			MESSAGE = 'cannot update user_mgmt to 1.1: some usernames differ only in case',
			DETAIL = pg_catalog.format('Version 1.1 makes usernames unique regardless of case. These usernames collide: %s.', collisions),
			HINT = 'Rename or delete all but one username of each group, then run ALTER EXTENSION user_mgmt UPDATE again.';
	END IF;
END
$$;

/* ---------------------------------------------------------------------
 * Account lifecycle columns.  Existing rows: created_at and updated_at are
 * the time of this upgrade (the best known), password_changed_at stays
 * NULL (unknown), everyone is active, unlocked, with no failed logins.
 * --------------------------------------------------------------------- */

ALTER TABLE user_mgmt.users
	ADD COLUMN created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	ADD COLUMN updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	ADD COLUMN is_active boolean NOT NULL DEFAULT true,
	ADD COLUMN last_login_at timestamptz,
	ADD COLUMN failed_login_count integer NOT NULL DEFAULT 0,
	ADD COLUMN locked_until timestamptz,
	ADD COLUMN password_changed_at timestamptz,
	ADD CONSTRAINT users_failed_login_count_check
		CHECK (failed_login_count OPERATOR(pg_catalog.>=) 0);

-- New rows get it from the default; existing rows keep NULL (see above).
ALTER TABLE user_mgmt.users
	ALTER COLUMN password_changed_at SET DEFAULT pg_catalog.now();

COMMENT ON COLUMN user_mgmt.users.created_at IS
'When the user was created (for users from before version 1.1: when the extension was updated to 1.1)';
COMMENT ON COLUMN user_mgmt.users.updated_at IS
'When the row last changed; kept current by the trigger users_track_changes';
COMMENT ON COLUMN user_mgmt.users.is_active IS
'False for a deactivated account, which cannot log in';
COMMENT ON COLUMN user_mgmt.users.last_login_at IS 'Time of the last successful login';
COMMENT ON COLUMN user_mgmt.users.failed_login_count IS
'Consecutive failed logins since the last successful one';
COMMENT ON COLUMN user_mgmt.users.locked_until IS
'The account cannot log in before this time; NULL when not locked';
COMMENT ON COLUMN user_mgmt.users.password_changed_at IS
'When hashed_password last changed; NULL when unknown (set before version 1.1)';
COMMENT ON CONSTRAINT users_failed_login_count_check ON user_mgmt.users IS
'The failed-login counter is never negative';

CREATE UNIQUE INDEX users_username_lower_key
	ON user_mgmt.users (pg_catalog.lower(username COLLATE pg_catalog."und-x-icu"));

COMMENT ON INDEX user_mgmt.users_username_lower_key IS
'Usernames are unique regardless of case (Unicode case folding, ICU root locale)';

CREATE FUNCTION user_mgmt.users_track_changes()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	NEW.updated_at := pg_catalog.now();
	IF NEW.hashed_password IS DISTINCT FROM OLD.hashed_password THEN
		NEW.password_changed_at := pg_catalog.now();
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION user_mgmt.users_track_changes() IS
'Trigger function: sets updated_at on every update and password_changed_at when the hash changes';

-- BEFORE UPDATE only: inserts take the column defaults, so that pg_restore
-- (which inserts) brings every timestamp back as it was.
CREATE TRIGGER users_track_changes
	BEFORE UPDATE ON user_mgmt.users
	FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_track_changes();

COMMENT ON TRIGGER users_track_changes ON user_mgmt.users IS
'Keeps updated_at and password_changed_at current';

/* ---------------------------------------------------------------------
 * The catalog: history, pending versions, drift.
 * --------------------------------------------------------------------- */

CREATE FUNCTION user_mgmt.migration_history()
RETURNS SETOF user_mgmt.schema_migrations
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM user_mgmt.schema_migrations ORDER BY applied_at;
END;

COMMENT ON FUNCTION user_mgmt.migration_history() IS
'Every install, upgrade and downgrade of the extension, oldest first (like alembic history)';

CREATE FUNCTION user_mgmt.pending_versions()
RETURNS TABLE (version text, path text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT p.target, p.path
	FROM pg_catalog.pg_extension_update_paths('user_mgmt') AS p
		JOIN pg_catalog.pg_extension AS e
		ON e.extname OPERATOR(pg_catalog.=) 'user_mgmt'
		AND p.source OPERATOR(pg_catalog.=) e.extversion
	WHERE p.path IS NOT NULL
		AND pg_catalog.string_to_array(p.target, '.')::integer[]
			OPERATOR(pg_catalog.>) pg_catalog.string_to_array(p.source, '.')::integer[]
	ORDER BY pg_catalog.string_to_array(p.target, '.')::integer[];
END;

COMMENT ON FUNCTION user_mgmt.pending_versions() IS
'Newer versions the installed one can be updated to with the scripts present, and the path to each';

CREATE FUNCTION user_mgmt.public_privileges(acl aclitem[])
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN COALESCE((SELECT pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)
				 FROM pg_catalog.aclexplode(acl) AS a
				 WHERE a.grantee OPERATOR(pg_catalog.=) 0), 'none');

COMMENT ON FUNCTION user_mgmt.public_privileges(aclitem[]) IS
'The privileges an ACL grants to PUBLIC, as a sorted list, or none';

/*
 * A description of the live objects in schema user_mgmt, one row each:
 * tables, sequences, views, columns, constraints, indexes, triggers, types
 * and enum labels, functions, what PUBLIC may do with each, and which of
 * them belong to the extension.  check_schema() compares it with what the
 * installed version defines.  Definitions come from PostgreSQL's own
 * deparsers, so they carry no OIDs and no owner.
 */
CREATE FUNCTION user_mgmt.schema_objects()
RETURNS TABLE (object_type text, object_name text, definition text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH ns AS (
		SELECT oid FROM pg_catalog.pg_namespace
		WHERE nspname OPERATOR(pg_catalog.=) 'user_mgmt'
	), rel AS (
		SELECT c.* FROM pg_catalog.pg_class AS c, ns
		WHERE c.relnamespace OPERATOR(pg_catalog.=) ns.oid
	)
	SELECT CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
			WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
			WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' END,
		r.relname::text,
		CASE r.relkind
			WHEN 'S' THEN (SELECT pg_catalog.format('%s start %s increment %s min %s max %s cycle %s',
						pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
						s.seqmin, s.seqmax, s.seqcycle)
					FROM pg_catalog.pg_sequence AS s WHERE s.seqrelid OPERATOR(pg_catalog.=) r.oid)
			WHEN 'v' THEN pg_catalog.pg_get_viewdef(r.oid)
			ELSE pg_catalog.format('row level security %s', r.relrowsecurity)
		END
	FROM rel AS r
	WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f,S}'::"char"[])
	UNION ALL
	SELECT 'column', r.relname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) a.attname,
		pg_catalog.format_type(a.atttypid, a.atttypmod)
		OPERATOR(pg_catalog.||) CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
		OPERATOR(pg_catalog.||) COALESCE(' DEFAULT ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
		OPERATOR(pg_catalog.||) CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) t.typcollation
			THEN ' COLLATE ' OPERATOR(pg_catalog.||) a.attcollation::regcollation::text ELSE '' END
	FROM rel AS r
		JOIN pg_catalog.pg_attribute AS a ON a.attrelid OPERATOR(pg_catalog.=) r.oid
		JOIN pg_catalog.pg_type AS t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
		LEFT JOIN pg_catalog.pg_attrdef AS d
			ON d.adrelid OPERATOR(pg_catalog.=) a.attrelid AND d.adnum OPERATOR(pg_catalog.=) a.attnum
	WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::"char"[])
		AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'constraint', r.relname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.conname,
		pg_catalog.pg_get_constraintdef(c.oid)
	FROM rel AS r JOIN pg_catalog.pg_constraint AS c ON c.conrelid OPERATOR(pg_catalog.=) r.oid
	UNION ALL
	SELECT 'index', i.relname::text, pg_catalog.pg_get_indexdef(i.oid)
	FROM rel AS i WHERE i.relkind OPERATOR(pg_catalog.=) ANY ('{i,I}'::"char"[])
	UNION ALL
	SELECT 'trigger', r.relname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) g.tgname,
		pg_catalog.pg_get_triggerdef(g.oid)
		OPERATOR(pg_catalog.||) CASE g.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (replica only)'
			WHEN 'A' THEN ' (always)' ELSE '' END
	FROM rel AS r JOIN pg_catalog.pg_trigger AS g ON g.tgrelid OPERATOR(pg_catalog.=) r.oid
	WHERE NOT g.tgisinternal
	UNION ALL
	SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'type' END,
		t.typname::text,
		CASE t.typtype
			WHEN 'e' THEN (SELECT pg_catalog.string_agg(e.enumlabel::text, ', ' ORDER BY e.enumsortorder)
					FROM pg_catalog.pg_enum AS e WHERE e.enumtypid OPERATOR(pg_catalog.=) t.oid)
			WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
			ELSE t.typtype::text
		END
	FROM pg_catalog.pg_type AS t, ns
	WHERE t.typnamespace OPERATOR(pg_catalog.=) ns.oid
		AND t.typelem OPERATOR(pg_catalog.=) 0	-- not an array type
		AND NOT EXISTS (SELECT FROM rel AS r WHERE r.oid OPERATOR(pg_catalog.=) t.typrelid)	-- not a row type
	UNION ALL
	SELECT 'function', p.oid::regprocedure::text,
		'md5 ' OPERATOR(pg_catalog.||) pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid))
	FROM pg_catalog.pg_proc AS p, ns
	WHERE p.pronamespace OPERATOR(pg_catalog.=) ns.oid
		AND p.prokind OPERATOR(pg_catalog.<>) 'a'
		-- the reference itself changes with every version
		AND p.proname OPERATOR(pg_catalog.<>) 'expected_schema_objects'
	UNION ALL
	-- What PUBLIC may do: a grant to PUBLIC (or a revoke) is drift that
	-- matters; grants to particular roles are the deployment's business.
	SELECT 'public privileges', r.relname::text,
		user_mgmt.public_privileges(COALESCE(r.relacl, pg_catalog.acldefault(
			CASE r.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", r.relowner)))
	FROM rel AS r
	WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f,S}'::"char"[])
	UNION ALL
	SELECT 'public privileges', p.oid::regprocedure::text,
		user_mgmt.public_privileges(COALESCE(p.proacl,
			pg_catalog.acldefault('f'::"char", p.proowner)))
	FROM pg_catalog.pg_proc AS p, ns
	WHERE p.pronamespace OPERATOR(pg_catalog.=) ns.oid
		AND p.proname OPERATOR(pg_catalog.<>) 'expected_schema_objects'
	UNION ALL
	SELECT 'public privileges', 'schema user_mgmt',
		user_mgmt.public_privileges(COALESCE(n.nspacl,
			pg_catalog.acldefault('n'::"char", n.nspowner)))
	FROM pg_catalog.pg_namespace AS n, ns
	WHERE n.oid OPERATOR(pg_catalog.=) ns.oid
	UNION ALL
	-- Objects in the schema that are not the extension's, or the reverse
	-- (ALTER EXTENSION ... ADD / DROP by hand).
	SELECT 'extension member', pg_catalog.pg_describe_object(o.classid, o.objid, 0),
		CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_depend AS d
						  WHERE d.classid OPERATOR(pg_catalog.=) o.classid
							AND d.objid OPERATOR(pg_catalog.=) o.objid
							AND d.deptype OPERATOR(pg_catalog.=) 'e'
							AND d.refobjid OPERATOR(pg_catalog.=) (
								SELECT e.oid FROM pg_catalog.pg_extension AS e
								WHERE e.extname OPERATOR(pg_catalog.=) 'user_mgmt'))
			THEN 'member' ELSE 'not a member' END
	FROM (SELECT 'pg_catalog.pg_class'::regclass::oid AS classid, r.oid AS objid
		  FROM rel AS r
		  WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f,S}'::"char"[])
		  UNION ALL
		  SELECT 'pg_catalog.pg_proc'::regclass::oid, p.oid
		  FROM pg_catalog.pg_proc AS p, ns
		  WHERE p.pronamespace OPERATOR(pg_catalog.=) ns.oid
		  UNION ALL
		  SELECT 'pg_catalog.pg_type'::regclass::oid, t.oid
		  FROM pg_catalog.pg_type AS t, ns
		  WHERE t.typnamespace OPERATOR(pg_catalog.=) ns.oid
			AND t.typelem OPERATOR(pg_catalog.=) 0
			AND NOT EXISTS (SELECT FROM rel AS r WHERE r.oid OPERATOR(pg_catalog.=) t.typrelid)) AS o;
END;

COMMENT ON FUNCTION user_mgmt.schema_objects() IS
'Description of the live objects in schema user_mgmt (what check_schema compares)';

/*
 * What version 1.1 defines: schema_objects() of a fresh 1.1 install, made
 * by scripts/expected_schema_objects.sh.  Each later version replaces this
 * function with its own, and each downgrade puts the older one back.
 */
CREATE FUNCTION user_mgmt.expected_schema_objects()
RETURNS TABLE (object_type text, object_name text, definition text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT * FROM (VALUES
-- BEGIN GENERATED 1.1
		('column', 'schema_migrations.applied_at', 'timestamp with time zone NOT NULL DEFAULT clock_timestamp()'),
		('column', 'schema_migrations.applied_by', 'name NOT NULL DEFAULT CURRENT_USER'),
		('column', 'schema_migrations.description', 'text NOT NULL'),
		('column', 'schema_migrations.direction', 'text NOT NULL'),
		('column', 'schema_migrations.previous_version', 'text'),
		('column', 'schema_migrations.version', 'text NOT NULL'),
		('column', 'users.created_at', 'timestamp with time zone NOT NULL DEFAULT now()'),
		('column', 'users.failed_login_count', 'integer NOT NULL DEFAULT 0'),
		('column', 'users.full_name', 'character varying(40) NOT NULL'),
		('column', 'users.hashed_password', 'character varying(512) NOT NULL'),
		('column', 'users.id', 'integer NOT NULL DEFAULT nextval(''user_mgmt.users_id_seq''::regclass)'),
		('column', 'users.is_active', 'boolean NOT NULL DEFAULT true'),
		('column', 'users.last_login_at', 'timestamp with time zone'),
		('column', 'users.locked_until', 'timestamp with time zone'),
		('column', 'users.password_changed_at', 'timestamp with time zone DEFAULT now()'),
		('column', 'users.role', 'user_mgmt.role NOT NULL DEFAULT ''USER''::user_mgmt.role'),
		('column', 'users.updated_at', 'timestamp with time zone NOT NULL DEFAULT now()'),
		('column', 'users.username', 'character varying(20) NOT NULL'),
		('constraint', 'schema_migrations.schema_migrations_direction_check', 'CHECK ((direction = ANY (ARRAY[''install''::text, ''upgrade''::text, ''downgrade''::text])))'),
		('constraint', 'schema_migrations.schema_migrations_pkey', 'PRIMARY KEY (applied_at)'),
		('constraint', 'schema_migrations.schema_migrations_previous_version_check', 'CHECK (((direction = ''install''::text) = (previous_version IS NULL)))'),
		('constraint', 'users.users_failed_login_count_check', 'CHECK ((failed_login_count >= 0))'),
		('constraint', 'users.users_full_name_not_blank', 'CHECK (((full_name)::text ~ ''[^[:space:]]''::text))'),
		('constraint', 'users.users_hashed_password_is_bcrypt', 'CHECK (user_mgmt.is_password_hash((hashed_password)::text))'),
		('constraint', 'users.users_pkey', 'PRIMARY KEY (id)'),
		('constraint', 'users.users_username_key', 'UNIQUE (username)'),
		('constraint', 'users.users_username_not_blank', 'CHECK (((username)::text ~ ''[^[:space:]]''::text))'),
		('enum', 'role', 'USER, CASHIER, ADMIN'),
		('extension member', 'function user_mgmt.check_schema()', 'member'),
		('extension member', 'function user_mgmt.current_version()', 'member'),
		('extension member', 'function user_mgmt.expected_schema_objects()', 'member'),
		('extension member', 'function user_mgmt.hash_cost(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text)', 'member'),
		('extension member', 'function user_mgmt.hash_password(text,integer)', 'member'),
		('extension member', 'function user_mgmt.is_password_hash(text)', 'member'),
		('extension member', 'function user_mgmt.migration_history()', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text)', 'member'),
		('extension member', 'function user_mgmt.password_needs_rehash(text,integer)', 'member'),
		('extension member', 'function user_mgmt.pending_versions()', 'member'),
		('extension member', 'function user_mgmt.public_privileges(aclitem[])', 'member'),
		('extension member', 'function user_mgmt.role_from_label(text)', 'member'),
		('extension member', 'function user_mgmt.role_label(user_mgmt.role)', 'member'),
		('extension member', 'function user_mgmt.role_labels()', 'member'),
		('extension member', 'function user_mgmt.schema_objects()', 'member'),
		('extension member', 'function user_mgmt.users_track_changes()', 'member'),
		('extension member', 'function user_mgmt.verify_password(text,text)', 'member'),
		('extension member', 'sequence user_mgmt.users_id_seq', 'member'),
		('extension member', 'table user_mgmt.schema_migrations', 'member'),
		('extension member', 'table user_mgmt.users', 'member'),
		('extension member', 'type user_mgmt.role', 'member'),
		('function', 'user_mgmt.check_schema()', 'md5 460444ad3f537dfe85539dff11ad56d5'),
		('function', 'user_mgmt.current_version()', 'md5 124da90e0b53fb9d2c1674bdd24d4d70'),
		('function', 'user_mgmt.hash_cost(text)', 'md5 11f6282c7e784e1acb395d7abcd305c8'),
		('function', 'user_mgmt.hash_password(text)', 'md5 05f314c79c3d52978568ee29f7a117d0'),
		('function', 'user_mgmt.hash_password(text,integer)', 'md5 7be0790d23d582bb23eb608decb1cced'),
		('function', 'user_mgmt.is_password_hash(text)', 'md5 23c754e0bbde61790907ccf6780b56be'),
		('function', 'user_mgmt.migration_history()', 'md5 37186625b6783a283b1c2f91c46a84f5'),
		('function', 'user_mgmt.password_needs_rehash(text)', 'md5 baa6914ffc90d557d987ee4ac5a591a9'),
		('function', 'user_mgmt.password_needs_rehash(text,integer)', 'md5 c054ad3073aeb69253efa987ce534a47'),
		('function', 'user_mgmt.pending_versions()', 'md5 e5b625c57d57d68640760c13a691cb03'),
		('function', 'user_mgmt.public_privileges(aclitem[])', 'md5 9f24b15b6dc60858f9a21621291de743'),
		('function', 'user_mgmt.role_from_label(text)', 'md5 5b1907cdd9ae50a7edd6cd536032cf4f'),
		('function', 'user_mgmt.role_label(user_mgmt.role)', 'md5 3731e0c6b3e97401e09cce2f35f77a48'),
		('function', 'user_mgmt.role_labels()', 'md5 3ca47398b9e6416136341ace28566aee'),
		('function', 'user_mgmt.schema_objects()', 'md5 3596a57b0d208fdf04859c216fca4c07'),
		('function', 'user_mgmt.users_track_changes()', 'md5 e72fdbbf6ba0395400cc84f32bef9d4a'),
		('function', 'user_mgmt.verify_password(text,text)', 'md5 38bb68be68cb347972e5167ae3b9541b'),
		('index', 'schema_migrations_pkey', 'CREATE UNIQUE INDEX schema_migrations_pkey ON user_mgmt.schema_migrations USING btree (applied_at)'),
		('index', 'users_pkey', 'CREATE UNIQUE INDEX users_pkey ON user_mgmt.users USING btree (id)'),
		('index', 'users_username_key', 'CREATE UNIQUE INDEX users_username_key ON user_mgmt.users USING btree (username)'),
		('index', 'users_username_lower_key', 'CREATE UNIQUE INDEX users_username_lower_key ON user_mgmt.users USING btree (lower(((username)::text COLLATE "und-x-icu")))'),
		('public privileges', 'schema user_mgmt', 'USAGE'),
		('public privileges', 'schema_migrations', 'none'),
		('public privileges', 'user_mgmt.check_schema()', 'EXECUTE'),
		('public privileges', 'user_mgmt.current_version()', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_cost(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.hash_password(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.is_password_hash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.migration_history()', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.password_needs_rehash(text,integer)', 'EXECUTE'),
		('public privileges', 'user_mgmt.pending_versions()', 'EXECUTE'),
		('public privileges', 'user_mgmt.public_privileges(aclitem[])', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_from_label(text)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_label(user_mgmt.role)', 'EXECUTE'),
		('public privileges', 'user_mgmt.role_labels()', 'EXECUTE'),
		('public privileges', 'user_mgmt.schema_objects()', 'EXECUTE'),
		('public privileges', 'user_mgmt.users_track_changes()', 'EXECUTE'),
		('public privileges', 'user_mgmt.verify_password(text,text)', 'EXECUTE'),
		('public privileges', 'users', 'none'),
		('public privileges', 'users_id_seq', 'none'),
		('sequence', 'users_id_seq', 'integer start 1 increment 1 min 1 max 2147483647 cycle f'),
		('table', 'schema_migrations', 'row level security f'),
		('table', 'users', 'row level security f'),
		('trigger', 'users.users_track_changes', 'CREATE TRIGGER users_track_changes BEFORE UPDATE ON user_mgmt.users FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_track_changes()')
-- END GENERATED 1.1
	) AS t(object_type, object_name, definition);
END;

COMMENT ON FUNCTION user_mgmt.expected_schema_objects() IS
'The objects the installed version defines, as schema_objects() describes them';

CREATE FUNCTION user_mgmt.check_schema()
RETURNS TABLE (object_type text, object_name text, problem text,
			   expected text, found text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT COALESCE(e.object_type, f.object_type),
		COALESCE(e.object_name, f.object_name),
		CASE WHEN f.object_name IS NULL THEN 'missing'
			WHEN e.object_name IS NULL THEN 'unexpected'
			ELSE 'changed' END,
		e.definition, f.definition
	FROM user_mgmt.expected_schema_objects() AS e
		FULL JOIN user_mgmt.schema_objects() AS f
		ON e.object_type OPERATOR(pg_catalog.=) f.object_type
		AND e.object_name OPERATOR(pg_catalog.=) f.object_name
	WHERE e.definition IS DISTINCT FROM f.definition
	ORDER BY 1, 2;
END;

COMMENT ON FUNCTION user_mgmt.check_schema() IS
'Differences between the live objects and what the installed version defines (like alembic check); empty when clean';

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.1', '1.0', 'upgrade',
		'Account lifecycle columns and trigger, case-insensitive usernames, catalog functions (history, pending, check_schema)');
