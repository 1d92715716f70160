"""Alembic operations for PostgreSQL extensions.

Importing this module (``import user_mgmt_alembic`` does) adds to Alembic's
``op``:

``op.create_extension(name, version=None, schema=None, if_not_exists=False, cascade=False)``
    ``CREATE EXTENSION``; its reverse is ``drop_extension``.
``op.drop_extension(name, if_exists=False, cascade=False, version=None)``
    ``DROP EXTENSION`` (which drops the extension's tables with their rows).
``op.update_extension(name, to_version, from_version=None)``
    ``ALTER EXTENSION ... UPDATE TO``; its reverse updates back to
    ``from_version``.  With ``from_version`` given, the installed version is
    checked first: a database whose extension was moved outside Alembic
    (``ALTER EXTENSION`` by hand) stops the migration with
    :class:`ExtensionVersionMismatch` instead of being moved further, in
    whatever direction.

All three emit plain SQL, so ``alembic upgrade --sql`` prints them (without
the check, which needs a database).  ``CREATE EXTENSION`` of an extension
that is not trusted (user_mgmt is not) needs a superuser: run such
revisions as one, or have a superuser create the extension first (see
``require_extension``).
"""

from alembic.operations import MigrateOperation, Operations
from sqlalchemy import text

__all__ = [
    "CreateExtensionOp", "DropExtensionOp", "UpdateExtensionOp",
    "ExtensionVersionMismatch", "installed_version", "require_extension",
]


class ExtensionVersionMismatch(RuntimeError):
    """The installed version is not the one a revision starts from."""


def _literal(value):
    return "'" + str(value).replace("'", "''") + "'"


def _ident(operations, name):
    return operations.impl.dialect.identifier_preparer.quote(name)


def installed_version(connection, name="user_mgmt"):
    """The installed version of extension ``name`` (None when absent)."""
    return connection.execute(
        text("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = :n"),
        {"n": name}).scalar()


def require_extension(connection, name="user_mgmt", version=None):
    """Raises ExtensionVersionMismatch unless the extension is installed (at
    ``version``, when given).  For revisions of databases where a
    superuser installs the extension and the migrations run as its owner."""
    found = installed_version(connection, name)
    if found is None or (version is not None and found != version):
        raise ExtensionVersionMismatch(
            "extension %s %s is required, the database has %s"
            % (name, version or "(any version)",
               "version " + found if found else "no such extension"))
    return found


@Operations.register_operation("create_extension")
class CreateExtensionOp(MigrateOperation):
    """CREATE EXTENSION."""

    def __init__(self, name, version=None, schema=None, if_not_exists=False, cascade=False):
        self.name = name
        self.version = version
        self.schema = schema
        self.if_not_exists = if_not_exists
        self.cascade = cascade

    @classmethod
    def create_extension(cls, operations, name, version=None, schema=None,
                         if_not_exists=False, cascade=False):
        """``CREATE EXTENSION [IF NOT EXISTS] name [SCHEMA s] [VERSION v] [CASCADE]``"""
        return operations.invoke(cls(name, version, schema, if_not_exists, cascade))

    def reverse(self):
        return DropExtensionOp(self.name, version=self.version)


@Operations.register_operation("drop_extension")
class DropExtensionOp(MigrateOperation):
    """DROP EXTENSION."""

    def __init__(self, name, if_exists=False, cascade=False, version=None):
        self.name = name
        self.if_exists = if_exists
        self.cascade = cascade
        self.version = version

    @classmethod
    def drop_extension(cls, operations, name, if_exists=False, cascade=False, version=None):
        """``DROP EXTENSION [IF EXISTS] name [CASCADE]``; ``version`` only
        serves ``reverse()``."""
        return operations.invoke(cls(name, if_exists, cascade, version))

    def reverse(self):
        return CreateExtensionOp(self.name, version=self.version)


@Operations.register_operation("update_extension")
class UpdateExtensionOp(MigrateOperation):
    """ALTER EXTENSION ... UPDATE TO."""

    def __init__(self, name, to_version, from_version=None):
        self.name = name
        self.to_version = to_version
        self.from_version = from_version

    @classmethod
    def update_extension(cls, operations, name, to_version, from_version=None):
        """``ALTER EXTENSION name UPDATE TO to_version``, after checking that
        ``from_version`` (when given) is what is installed."""
        return operations.invoke(cls(name, to_version, from_version))

    def reverse(self):
        if self.from_version is None:
            raise ValueError("update_extension needs from_version to be reversed")
        return UpdateExtensionOp(self.name, self.from_version, self.to_version)


@Operations.implementation_for(CreateExtensionOp)
def _create_extension(operations, operation):
    sql = "CREATE EXTENSION "
    if operation.if_not_exists:
        sql += "IF NOT EXISTS "
    sql += _ident(operations, operation.name)
    if operation.schema is not None:
        sql += " SCHEMA " + _ident(operations, operation.schema)
    if operation.version is not None:
        sql += " VERSION " + _literal(operation.version)
    if operation.cascade:
        sql += " CASCADE"
    operations.execute(sql)


@Operations.implementation_for(DropExtensionOp)
def _drop_extension(operations, operation):
    sql = "DROP EXTENSION "
    if operation.if_exists:
        sql += "IF EXISTS "
    sql += _ident(operations, operation.name)
    if operation.cascade:
        sql += " CASCADE"
    operations.execute(sql)


@Operations.implementation_for(UpdateExtensionOp)
def _update_extension(operations, operation):
    context = operations.get_context()
    if operation.from_version is not None and not context.as_sql:
        found = installed_version(operations.get_bind(), operation.name)
        if found != operation.from_version:
            raise ExtensionVersionMismatch(
                "this revision updates extension %s from version %s to %s, but the "
                "database has %s; it was changed outside Alembic: update it back "
                "(ALTER EXTENSION %s UPDATE TO %s) or stamp the revision that "
                "matches it (alembic stamp)"
                % (operation.name, operation.from_version, operation.to_version,
                   "version " + found if found else "no such extension",
                   operation.name, _literal(operation.from_version)))
    operations.execute("ALTER EXTENSION %s UPDATE TO %s"
                       % (_ident(operations, operation.name), _literal(operation.to_version)))
