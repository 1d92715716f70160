"""Alembic helpers for the user_mgmt PostgreSQL extension.

* :class:`ExtensionObjects`: ``include_name`` / ``include_object`` hooks
  that hide the extension's own objects (found through ``pg_depend``) from
  ``alembic revision --autogenerate``, so that the tutorial's models give an
  empty migration at every version of the extension.
* ``op.create_extension``, ``op.update_extension``, ``op.drop_extension``:
  Alembic operations for ``CREATE EXTENSION ... VERSION``, ``ALTER
  EXTENSION ... UPDATE TO`` and ``DROP EXTENSION``, registered on import.

In ``env.py``::

    import user_mgmt_alembic

    def do_run_migrations(connection):
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table_schema="public",   # never inside schema user_mgmt
            **user_mgmt_alembic.ExtensionObjects(connection).configure_options(),
        )
        with context.begin_transaction():
            context.run_migrations()
"""

from .filter import ExtensionObjects
from .ops import (CreateExtensionOp, DropExtensionOp, ExtensionVersionMismatch,
                  UpdateExtensionOp, installed_version, require_extension)

__version__ = "1.0.0"

__all__ = [
    "ExtensionObjects",
    "CreateExtensionOp", "DropExtensionOp", "UpdateExtensionOp",
    "ExtensionVersionMismatch", "installed_version", "require_extension",
]
