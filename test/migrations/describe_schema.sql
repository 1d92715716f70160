-- describe_schema.sql: an independent, normalized, deterministic description
-- of everything the user_mgmt extension owns, read straight from the system
-- catalogs (never from the extension's own functions, which are under test).
--
-- One row per fact: (section, object, detail), sorted bytewise.  Two
-- databases have the same schema exactly when this query returns the same
-- rows in both.  No OIDs, no attnums, no relfilenodes: objects are named,
-- columns are listed by position among the *live* columns (so a column
-- dropped by a downgrade leaves no trace), enum labels in their sort order.
--
-- Covers, for schema user_mgmt: the schema itself, the extension row
-- (version, relocatable, extconfig as regclass names, extcondition), its
-- members (pg_depend deptype 'e'), relations with kind/persistence/options/
-- RLS/ACL, columns (type, not null, default, identity, generated,
-- collation, ACL), constraints, indexes, triggers (with tgenabled), rules,
-- policies, views, sequences (parameters and OWNED BY), types (enum labels,
-- domains, composites), functions (pg_get_functiondef plus ACL and the
-- attributes it does not spell out), initial privileges (pg_init_privs),
-- operators, comments on all of these,
-- and ownership.
--
-- Used as a psql/psycopg2 query; takes no parameters.

WITH
ns AS (
    SELECT oid, nspname FROM pg_catalog.pg_namespace WHERE nspname = 'user_mgmt'
),
ext AS (
    SELECT * FROM pg_catalog.pg_extension WHERE extname = 'user_mgmt'
),
rel AS (
    SELECT c.oid, c.relname, c.relkind, pg_catalog.format('%I.%I', ns.nspname, c.relname) AS qname,
           c.relpersistence, c.reloptions, c.relrowsecurity, c.relforcerowsecurity,
           c.relreplident, c.relowner, c.relacl
    FROM pg_catalog.pg_class AS c JOIN ns ON c.relnamespace = ns.oid
),
-- the live columns of the schema's tables, views and composite types, numbered
-- among themselves (dropped columns do not count)
col AS (
    SELECT rel.qname, rel.relkind, a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
           a.attnotnull, a.atthasdef, a.attidentity, a.attgenerated, a.attcollation, a.attacl,
           a.attstattarget, a.attstorage,
           pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS pos
    FROM pg_catalog.pg_attribute AS a JOIN rel ON a.attrelid = rel.oid
    WHERE a.attnum > 0 AND NOT a.attisdropped AND rel.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
),
fn AS (
    SELECT p.*, pg_catalog.format('%I.%I(%s)', ns.nspname, p.proname,
                                  pg_catalog.pg_get_function_identity_arguments(p.oid)) AS sig
    FROM pg_catalog.pg_proc AS p JOIN ns ON p.pronamespace = ns.oid
),
typ AS (
    SELECT t.*, pg_catalog.format_type(t.oid, NULL) AS tname
    FROM pg_catalog.pg_type AS t JOIN ns ON t.typnamespace = ns.oid
    -- not the row types of tables/views/sequences (covered as relations),
    -- nor array types (they follow their element type)
    WHERE (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
      AND NOT (t.typcategory = 'A' AND t.typelem <> 0)
),
facts(section, object, detail) AS (
    -- the schema
    SELECT 'schema', ns.nspname,
           pg_catalog.format('owner=%s acl=%s', pg_catalog.pg_get_userbyid(n.nspowner), n.nspacl)
    FROM ns JOIN pg_catalog.pg_namespace n ON n.oid = ns.oid
    UNION ALL
    SELECT 'schema comment', ns.nspname, pg_catalog.obj_description(ns.oid, 'pg_namespace')
    FROM ns WHERE pg_catalog.obj_description(ns.oid, 'pg_namespace') IS NOT NULL

    -- the extension row
    UNION ALL
    SELECT 'extension', ext.extname,
           pg_catalog.format('version=%s relocatable=%s schema=%s owner=%s',
                             ext.extversion, ext.extrelocatable,
                             (SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = ext.extnamespace),
                             pg_catalog.pg_get_userbyid(ext.extowner))
    FROM ext
    UNION ALL
    SELECT 'extension config', ext.extname || ' #' || cfg.ord,
           pg_catalog.format('%s condition=%L', cfg.relid::pg_catalog.regclass,
                             ext.extcondition[cfg.ord])
    FROM ext, pg_catalog.unnest(ext.extconfig) WITH ORDINALITY AS cfg(relid, ord)
    UNION ALL
    SELECT 'extension comment', ext.extname, pg_catalog.obj_description(ext.oid, 'pg_extension')
    FROM ext
    -- extension members, whatever schema they live in
    UNION ALL
    SELECT 'extension member', pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ''
    FROM pg_catalog.pg_depend AS d, ext
    WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
      AND d.refobjid = ext.oid AND d.deptype = 'e'
    -- anything else that depends on the extension (e.g. 'n' on the schema)
    UNION ALL
    SELECT 'extension dependency', pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid),
           'deptype=' || d.deptype::text
    FROM pg_catalog.pg_depend AS d, ext
    WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
      AND d.refobjid = ext.oid AND d.deptype <> 'e'

    -- relations
    UNION ALL
    SELECT 'relation', rel.qname,
           pg_catalog.format('kind=%s persistence=%s options=%s rls=%s force_rls=%s replident=%s owner=%s acl=%s',
                             rel.relkind, rel.relpersistence, rel.reloptions, rel.relrowsecurity,
                             rel.relforcerowsecurity, rel.relreplident,
                             pg_catalog.pg_get_userbyid(rel.relowner), rel.relacl)
    FROM rel WHERE rel.relkind <> 'i' AND rel.relkind <> 'I' AND rel.relkind <> 't'
    UNION ALL
    SELECT 'relation comment', rel.qname, pg_catalog.obj_description(rel.oid, 'pg_class')
    FROM rel WHERE pg_catalog.obj_description(rel.oid, 'pg_class') IS NOT NULL

    -- columns, in order
    UNION ALL
    SELECT 'column', col.qname || ' #' || pg_catalog.lpad(col.pos::text, 3, '0') || ' ' || pg_catalog.quote_ident(col.attname),
           pg_catalog.concat_ws(' ',
               pg_catalog.format_type(col.atttypid, col.atttypmod),
               CASE WHEN col.attnotnull THEN 'NOT NULL' END,
               CASE WHEN col.atthasdef AND col.attgenerated = '' THEN
                   'DEFAULT ' || (SELECT pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
                                  FROM pg_catalog.pg_attrdef ad
                                  WHERE ad.adrelid = col.attrelid AND ad.adnum = col.attnum) END,
               CASE WHEN col.attgenerated <> '' THEN
                   'GENERATED ' || col.attgenerated::text || ' ' ||
                   (SELECT pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
                    FROM pg_catalog.pg_attrdef ad
                    WHERE ad.adrelid = col.attrelid AND ad.adnum = col.attnum) END,
               CASE WHEN col.attidentity <> '' THEN 'IDENTITY ' || col.attidentity::text END,
               CASE WHEN col.attcollation <> 0 THEN
                   'COLLATE ' || (SELECT pg_catalog.format('%I.%I', cn.nspname, co.collname)
                                  FROM pg_catalog.pg_collation co
                                  JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                                  WHERE co.oid = col.attcollation) END,
               CASE WHEN col.attstattarget <> -1 THEN 'STATISTICS ' || col.attstattarget END,
               'STORAGE ' || col.attstorage::text,
               CASE WHEN col.attacl IS NOT NULL THEN 'ACL ' || col.attacl::text END)
    FROM col
    UNION ALL
    SELECT 'column comment', col.qname || '.' || pg_catalog.quote_ident(col.attname),
           pg_catalog.col_description(col.attrelid, col.attnum)
    FROM col WHERE pg_catalog.col_description(col.attrelid, col.attnum) IS NOT NULL

    -- constraints (of tables and of domains)
    UNION ALL
    SELECT 'constraint',
           COALESCE(rel.qname, pg_catalog.format_type(con.contypid, NULL)) || ' ' || pg_catalog.quote_ident(con.conname),
           pg_catalog.format('%s deferrable=%s deferred=%s validated=%s',
                             pg_catalog.pg_get_constraintdef(con.oid), con.condeferrable,
                             con.condeferred, con.convalidated)
    FROM pg_catalog.pg_constraint AS con
    LEFT JOIN rel ON rel.oid = con.conrelid
    WHERE con.connamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT 'constraint comment',
           COALESCE(rel.qname, pg_catalog.format_type(con.contypid, NULL)) || ' ' || pg_catalog.quote_ident(con.conname),
           pg_catalog.obj_description(con.oid, 'pg_constraint')
    FROM pg_catalog.pg_constraint AS con
    LEFT JOIN rel ON rel.oid = con.conrelid
    WHERE con.connamespace = (SELECT oid FROM ns)
      AND pg_catalog.obj_description(con.oid, 'pg_constraint') IS NOT NULL

    -- indexes (those behind constraints too: their definition matters)
    UNION ALL
    SELECT 'index', rel.qname,
           pg_catalog.format('%s valid=%s ready=%s live=%s clustered=%s replident=%s',
                             pg_catalog.pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisready,
                             i.indislive, i.indisclustered, i.indisreplident)
    FROM rel JOIN pg_catalog.pg_index AS i ON i.indexrelid = rel.oid

    -- triggers, including whether they are enabled
    UNION ALL
    SELECT 'trigger', (SELECT r.qname FROM rel r WHERE r.oid = t.tgrelid) || ' ' || pg_catalog.quote_ident(t.tgname),
           pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
    FROM pg_catalog.pg_trigger AS t
    WHERE t.tgrelid IN (SELECT oid FROM rel) AND NOT t.tgisinternal
    UNION ALL
    SELECT 'trigger comment', (SELECT r.qname FROM rel r WHERE r.oid = t.tgrelid) || ' ' || pg_catalog.quote_ident(t.tgname),
           pg_catalog.obj_description(t.oid, 'pg_trigger')
    FROM pg_catalog.pg_trigger AS t
    WHERE t.tgrelid IN (SELECT oid FROM rel) AND NOT t.tgisinternal
      AND pg_catalog.obj_description(t.oid, 'pg_trigger') IS NOT NULL

    -- rules (views' _RETURN rules are covered by the view definition)
    UNION ALL
    SELECT 'rule', (SELECT r.qname FROM rel r WHERE r.oid = ru.ev_class) || ' ' || pg_catalog.quote_ident(ru.rulename),
           pg_catalog.pg_get_ruledef(ru.oid) || ' enabled=' || ru.ev_enabled::text
    FROM pg_catalog.pg_rewrite AS ru
    WHERE ru.ev_class IN (SELECT oid FROM rel) AND ru.rulename <> '_RETURN'

    -- row level security policies
    UNION ALL
    SELECT 'policy', (SELECT r.qname FROM rel r WHERE r.oid = po.polrelid) || ' ' || pg_catalog.quote_ident(po.polname),
           pg_catalog.format('cmd=%s permissive=%s roles=%s using=%s check=%s', po.polcmd, po.polpermissive,
                             (SELECT pg_catalog.string_agg(CASE WHEN rr = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(rr)::text END, ',' ORDER BY 1)
                              FROM pg_catalog.unnest(po.polroles) AS rr),
                             pg_catalog.pg_get_expr(po.polqual, po.polrelid),
                             pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid))
    FROM pg_catalog.pg_policy AS po
    WHERE po.polrelid IN (SELECT oid FROM rel)

    -- views
    UNION ALL
    SELECT 'view', rel.qname, pg_catalog.pg_get_viewdef(rel.oid, true)
    FROM rel WHERE rel.relkind IN ('v', 'm')

    -- sequences: parameters and owner column
    UNION ALL
    SELECT 'sequence', rel.qname,
           pg_catalog.format('type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                             s.seqtypid::pg_catalog.regtype, s.seqstart, s.seqincrement, s.seqmin,
                             s.seqmax, s.seqcache, s.seqcycle)
    FROM rel JOIN pg_catalog.pg_sequence AS s ON s.seqrelid = rel.oid
    UNION ALL
    SELECT 'sequence owned by', rel.qname,
           pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ' deptype=' || d.deptype::text
    FROM rel JOIN pg_catalog.pg_depend AS d
         ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = rel.oid
        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
    WHERE rel.relkind = 'S'

    -- types
    UNION ALL
    SELECT 'type', typ.tname,
           pg_catalog.format('type=%s category=%s owner=%s acl=%s basetype=%s notnull=%s default=%s',
                             typ.typtype, typ.typcategory, pg_catalog.pg_get_userbyid(typ.typowner), typ.typacl,
                             CASE WHEN typ.typbasetype <> 0 THEN pg_catalog.format_type(typ.typbasetype, typ.typtypmod) END,
                             typ.typnotnull, typ.typdefault)
    FROM typ
    UNION ALL
    SELECT 'type comment', typ.tname, pg_catalog.obj_description(typ.oid, 'pg_type')
    FROM typ WHERE pg_catalog.obj_description(typ.oid, 'pg_type') IS NOT NULL
    UNION ALL
    SELECT 'enum labels', typ.tname,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
            FROM pg_catalog.pg_enum AS e WHERE e.enumtypid = typ.oid)
    FROM typ WHERE typ.typtype = 'e'

    -- functions: the full definition, plus what pg_get_functiondef leaves out
    UNION ALL
    SELECT 'function', fn.sig,
           CASE WHEN fn.prokind = 'a' THEN 'aggregate'
                ELSE pg_catalog.pg_get_functiondef(fn.oid) END
    FROM fn
    UNION ALL
    SELECT 'function attributes', fn.sig,
           pg_catalog.format('kind=%s volatile=%s strict=%s parallel=%s secdef=%s leakproof=%s cost=%s rows=%s config=%s owner=%s acl=%s',
                             fn.prokind, fn.provolatile, fn.proisstrict, fn.proparallel, fn.prosecdef,
                             fn.proleakproof, fn.procost, fn.prorows, fn.proconfig,
                             pg_catalog.pg_get_userbyid(fn.proowner), fn.proacl)
    FROM fn
    UNION ALL
    SELECT 'function comment', fn.sig, pg_catalog.obj_description(fn.oid, 'pg_proc')
    FROM fn WHERE pg_catalog.obj_description(fn.oid, 'pg_proc') IS NOT NULL

    -- initial privileges recorded by CREATE/ALTER EXTENSION (what pg_dump
    -- treats as the extension's own grants)
    UNION ALL
    SELECT 'initial privileges', pg_catalog.pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
           pg_catalog.format('type=%s acl=%s', ip.privtype, ip.initprivs)
    FROM pg_catalog.pg_init_privs AS ip
    WHERE (ip.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ip.objoid IN (SELECT oid FROM rel))
       OR (ip.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ip.objoid IN (SELECT oid FROM fn))
       OR (ip.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND ip.objoid IN (SELECT oid FROM typ))
       OR (ip.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND ip.objoid IN (SELECT oid FROM ns))

    -- operators
    UNION ALL
    SELECT 'operator', pg_catalog.format('%s(%s,%s)', op.oprname,
                                         pg_catalog.format_type(op.oprleft, NULL), pg_catalog.format_type(op.oprright, NULL)),
           pg_catalog.format('function=%s commutator=%s negator=%s', op.oprcode::pg_catalog.regprocedure,
                             op.oprcom::pg_catalog.regoperator, op.oprnegate::pg_catalog.regoperator)
    FROM pg_catalog.pg_operator AS op JOIN ns ON op.oprnamespace = ns.oid
)
SELECT section, object, COALESCE(detail, '<null>') AS detail
FROM facts
ORDER BY section COLLATE "C", object COLLATE "C", detail COLLATE "C";
