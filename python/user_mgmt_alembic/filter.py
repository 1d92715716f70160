"""Hide an extension's own objects from Alembic's autogenerate.

``ExtensionObjects(connection)`` reads, from the database the connection
is on, which objects belong to the extension, and gives Alembic the
``include_name`` / ``include_object`` hooks that leave exactly those out of
the comparison:

* **Members** come from ``pg_depend``: every object with a dependency of
  type ``'e'`` on the ``pg_extension`` row (tables, views, sequences,
  types, functions).  Nothing is listed by hand, so each version's own
  objects are found in the version that is installed.
* **Parts of member tables** (columns, indexes, constraints and their
  comments) have no ``pg_depend`` row of their own: PostgreSQL records
  membership for the table only.  A part is the extension's when the
  installed version's own inventory, ``<schema>.expected_schema_objects()``
  (what ``check_schema()`` compares against; user_mgmt 1.1 and later),
  lists it.  Without such an inventory (user_mgmt 1.0) every part present
  in the database is taken as the extension's.

What is hidden: a member table or view, whether it is in the database only
(``schema_migrations``, ``signing_keys``, ...: never "drop table") or in
the model only (a view such as ``accounts`` mapped as a table: never
"create table"); the extension's columns, indexes, unique and foreign-key
constraints of a member table, and the member table's comment.

What is still compared: everything else.  The application's own tables
(including their foreign keys to ``user_mgmt.users``), and a member table
that the model declares (the tutorial's ``users``), so that a column or
index the application adds to it, or removes from it, is still seen.

Objects are read once, lazily, at the first question (inside Alembic's
transaction), so creating the filter in ``env.py`` costs nothing for
``upgrade`` / ``downgrade``; call :meth:`ExtensionObjects.refresh` after
changing the extension in the same connection.
"""

import re
import warnings

from sqlalchemy import text

__all__ = ["ExtensionObjects"]

# Every member of the extension: pg_identify_object's type, schema and name
# (NULL for functions), and pg_describe_object's description (as psql's
# \dx+ and check_schema() name members).
_MEMBERS_SQL = """
SELECT o.type, o.schema, o.name, pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_depend AS d
        ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND d.refobjid = e.oid
        AND d.deptype = 'e'
    CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) AS o
WHERE e.extname = :extname
"""

# The member relations (tables, views, sequences, ...) and types, by their
# catalog names (pg_identify_object quotes names that need it; reflection
# does not).
_NAMED_MEMBERS_SQL = """
SELECT 'relation', n.nspname, c.relname
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_depend AS d
        ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND d.refobjid = e.oid
        AND d.deptype = 'e'
        AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    JOIN pg_catalog.pg_class AS c ON c.oid = d.objid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE e.extname = :extname
UNION ALL
SELECT 'type', n.nspname, t.typname
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_depend AS d
        ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND d.refobjid = e.oid
        AND d.deptype = 'e'
        AND d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
    JOIN pg_catalog.pg_type AS t ON t.oid = d.objid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
WHERE e.extname = :extname
"""

_EXTENSION_SQL = """
SELECT e.extversion, n.nspname
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = :extname
"""

# The parts of each member table present in the database: columns, indexes
# and constraints (a unique or primary key constraint appears twice, as a
# constraint and as its index, like in expected_schema_objects()).
_PARTS_SQL = """
WITH members AS (
    SELECT c.oid, n.nspname, c.relname
    FROM pg_catalog.pg_extension AS e
        JOIN pg_catalog.pg_depend AS d
            ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
            AND d.refobjid = e.oid
            AND d.deptype = 'e'
            AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
        JOIN pg_catalog.pg_class AS c ON c.oid = d.objid
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE e.extname = :extname
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
)
SELECT m.nspname, m.relname, 'column', a.attname::text
FROM members AS m
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = m.oid
WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT m.nspname, m.relname, 'index', i.relname::text
FROM members AS m
    JOIN pg_catalog.pg_index AS x ON x.indrelid = m.oid
    JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
UNION ALL
SELECT m.nspname, m.relname, 'constraint', k.conname::text
FROM members AS m
    JOIN pg_catalog.pg_constraint AS k ON k.conrelid = m.oid
"""

# The installed version's inventory of its own objects, when it has one: a
# function of the extension named expected_schema_objects, without arguments.
_INVENTORY_SQL = """
SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_depend AS d
        ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND d.refobjid = e.oid
        AND d.deptype = 'e'
        AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
    JOIN pg_catalog.pg_proc AS p ON p.oid = d.objid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE e.extname = :extname
    AND p.proname = 'expected_schema_objects'
    AND p.pronargs = 0
"""

_PART_KINDS = {
    "column": "column",
    "index": "index",
    "unique_constraint": "constraint",
    "foreign_key_constraint": "constraint",
}


def _table_of(object_):
    """The Table of a Column, Index or constraint, or None if unattached."""
    try:
        table = object_.table
    except Exception:  # an unattached constraint raises InvalidRequestError
        table = getattr(object_, "parent", None)
    return table if hasattr(table, "schema") and hasattr(table, "name") else None


class ExtensionObjects:
    """The objects of extension ``extname`` in the database of ``connection``
    (a SQLAlchemy ``Connection``; in an async ``env.py``, the one that
    ``run_sync`` hands over), with Alembic filter hooks that hide them.

    ``target_metadata`` (the ``MetaData``, or a list of them, that
    autogenerate compares) is optional: with it, :meth:`include_name` skips
    reflecting the member tables the model does not declare.

    ``default_schema`` is the schema Alembic calls ``None`` (the first
    schema of the connection's ``search_path``); it is taken from the
    connection's dialect unless given.
    """

    def __init__(self, connection, extname="user_mgmt", target_metadata=None,
                 default_schema=None):
        self.connection = connection
        self.extname = extname
        self.target_metadata = target_metadata
        self.version_table = None
        self._default_schema = default_schema
        self._loaded = False

    # --- reading the catalogs ------------------------------------------------

    def refresh(self):
        """Forget what was read; the next question reads the catalogs again."""
        self._loaded = False

    def _load(self):
        if self._loaded:
            return
        conn = self.connection
        params = {"extname": self.extname}
        if self._default_schema is None:
            self._default_schema = conn.dialect.default_schema_name
        row = conn.execute(text(_EXTENSION_SQL), params).first()
        self.version = row[0] if row else None
        self.schema = row[1] if row else None
        # (type, schema, name, description) of each member
        self.members = [tuple(r) for r in conn.execute(text(_MEMBERS_SQL), params)]
        named = [tuple(r) for r in conn.execute(text(_NAMED_MEMBERS_SQL), params)]
        self.relations = {(s, n) for kind, s, n in named if kind == "relation"}
        self.types = {(s, n) for kind, s, n in named if kind == "type"}
        present = {}
        for schema, table, kind, name in conn.execute(text(_PARTS_SQL), params):
            present.setdefault((schema, table), set()).add((kind, name))
        inventory_fn = conn.execute(text(_INVENTORY_SQL), params).scalar()
        if inventory_fn is None:
            self.inventory = None
            self.parts = present
        else:
            self.inventory = inventory_fn
            self.parts = {key: set() for key in present}
            rows = conn.execute(text(
                "SELECT object_type, object_name FROM %s() "
                "WHERE object_type IN ('column', 'constraint', 'index')" % inventory_fn))
            index_tables = {name: key for key, parts in present.items()
                            for kind, name in parts if kind == "index"}
            for kind, name in rows:
                if kind == "index":
                    # index names are unique per schema; find its table
                    key = index_tables.get(name)
                    if key is not None:
                        self.parts[key].add(("index", name))
                else:
                    table, _, part = name.partition(".")
                    self.parts.setdefault((self.schema, table), set()).add((kind, part))
        # SQLAlchemy 1.4 cannot reflect expression indexes and warns about
        # each; the extension's (users_username_lower_key) are not compared
        # anyway, so their warnings are only noise.
        for parts in self.parts.values():
            for kind, name in parts:
                if kind == "index":
                    warnings.filterwarnings(
                        "ignore", "Skipped unsupported reflection of expression-based index %s$"
                        % re.escape(name))
        self._loaded = True

    # --- questions ----------------------------------------------------------

    def _key(self, schema, name):
        self._load()
        return (schema if schema is not None else self._default_schema, name)

    def is_installed(self):
        self._load()
        return self.version is not None

    def owns_relation(self, schema, name):
        """True for a table, view or sequence of the extension."""
        return self._key(schema, name) in self.relations

    def owns_part(self, schema, table, kind, name):
        """True for a column / index / constraint (``kind``) of a member
        table that the extension defines."""
        key = self._key(schema, table)
        if key not in self.relations or name is None:
            return False
        return (kind, name) in self.parts.get(key, ())

    # --- Alembic hooks --------------------------------------------------------

    def _declared(self, schema, name):
        """True when the target metadata has a table of that name."""
        key = self._key(schema, name)
        for table in self._metadata_tables():
            if self._key(table.schema, table.name) == key:
                return True
        return False

    def _metadata_tables(self):
        md = self.target_metadata
        if md is None:
            return ()
        if isinstance(md, (list, tuple)):
            return [t for m in md for t in m.tables.values()]
        return md.tables.values()

    def _is_version_table(self, schema, name):
        # Alembic 1.8 leaves its version table out of the comparison only
        # when version_table_schema is not the connection's default schema;
        # with version_table_schema="public" and the default search_path it
        # proposes to drop it.
        vt = self.version_table
        return vt is not None and self._key(schema, name) == self._key(vt[0], vt[1])

    def include_name(self, name, type_, parent_names):
        """``include_name`` for ``context.configure``: leaves out, before
        they are even reflected, the member tables that the target metadata
        does not declare, and Alembic's version table.  (Without
        ``target_metadata`` it leaves the member tables to
        :meth:`include_object`.)"""
        if type_ != "table":
            return True
        schema = parent_names.get("schema_name")
        if self._is_version_table(schema, name):
            return False
        if self.target_metadata is None:
            return True
        return not self.owns_relation(schema, name) or self._declared(schema, name)

    def include_object(self, object_, name, type_, reflected, compare_to):
        """``include_object`` for ``context.configure``."""
        if type_ == "table":
            if reflected and self._is_version_table(object_.schema, name):
                return False
            if not self.owns_relation(object_.schema, name):
                return True
            # A member table the model declares is compared (the
            # application's additions to it); one the model does not
            # declare, or a member view the model maps, is not.
            return not reflected and compare_to is not None
        kind = _PART_KINDS.get(type_)
        if kind is None:
            return True
        table = _table_of(object_)
        if table is None:
            return True
        return not self.owns_part(table.schema, table.name, kind, name)

    def configure_options(self, version_table_schema="public", version_table="alembic_version"):
        """Keyword arguments for ``context.configure`` (or the ``opts`` of
        ``MigrationContext.configure``): both hooks, ``include_schemas``
        (the extension's schema is not the default one), where Alembic
        keeps its version table (``public`` by default: never in the
        extension's schema, whatever the ``search_path``), and this object,
        through which the table-comment comparator finds it."""
        self.version_table = (version_table_schema, version_table)
        return {
            "version_table_schema": version_table_schema,
            "version_table": version_table,
            "include_schemas": True,
            "include_name": self.include_name,
            "include_object": self.include_object,
            "user_mgmt_objects": self,
        }


# --- the member table's comment ------------------------------------------------
#
# Alembic compares a table's comment without asking include_object about it;
# this comparator, run after Alembic's own, takes the comment operations of
# member tables back out.  It acts only when the autogenerate run was
# configured with an ExtensionObjects (configure_options(), or its
# include_object method given directly).

def _objects_of(autogen_context):
    found = autogen_context.opts.get("user_mgmt_objects")
    if isinstance(found, ExtensionObjects):
        return found
    hook = autogen_context.opts.get("include_object")
    owner = getattr(hook, "__self__", None)
    return owner if isinstance(owner, ExtensionObjects) else None


def _register_comment_comparator():
    from alembic.autogenerate import comparators
    from alembic.operations import ops

    comment_ops = (ops.CreateTableCommentOp, ops.DropTableCommentOp)

    @comparators.dispatch_for("table")
    def _hide_member_table_comment(autogen_context, modify_table_ops, schema,
                                   tname, conn_table, metadata_table):
        objects = _objects_of(autogen_context)
        if objects is None or not objects.owns_relation(schema, tname):
            return
        modify_table_ops.ops[:] = [o for o in modify_table_ops.ops
                                   if not isinstance(o, comment_ops)]


_register_comment_comparator()
