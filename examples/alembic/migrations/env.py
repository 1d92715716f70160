"""Alembic environment: the tutorial's (async template), plus user_mgmt.

Three additions to what ``alembic init -t async migrations`` writes:

1. ``user_mgmt_alembic`` is imported: it registers ``op.create_extension``
   and ``op.update_extension`` for the revisions, and its
   ``ExtensionObjects`` hides the extension's own objects from
   ``alembic revision --autogenerate`` (found through pg_depend at the
   installed version), so that the tutorial's models give an empty
   migration instead of dropping the extension's tables, columns and
   comments.
2. ``alembic_version`` is kept in schema ``public``, never in the
   extension's schema, whatever the search_path (check_schema() would
   report it there).
3. ``-x app_role=NAME`` (or ``APP_ROLE``) names the application's role: the
   revisions grant it what the README's "Least privilege" section asks
   for, at the version that creates each object, so the grants come back
   with the objects after a downgrade and an upgrade.
"""

import asyncio
import os
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

try:
    import user_mgmt_alembic
except ImportError:  # not installed (pip install ./python): use the repository's copy
    sys.path.insert(0, os.path.join(PROJECT, os.pardir, os.pardir, "python"))
    import user_mgmt_alembic

from api.user.models import Base  # noqa: E402
from config import DATABASE_URL  # noqa: E402

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata

config.attributes.setdefault(
    "app_role", context.get_x_argument(as_dictionary=True).get("app_role")
    or os.environ.get("APP_ROLE") or None)

VERSION_TABLE_SCHEMA = "public"


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: prints the SQL."""
    context.configure(
        url=DATABASE_URL,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        version_table_schema=VERSION_TABLE_SCHEMA,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection) -> None:
    objects = user_mgmt_alembic.ExtensionObjects(connection, target_metadata=target_metadata)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        **objects.configure_options(version_table_schema=VERSION_TABLE_SCHEMA),
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(DATABASE_URL, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_online() -> None:
    # A connection handed over by a program (Alembic's cookbook recipe
    # "sharing a connection with a series of migration commands"):
    #     cfg.attributes["connection"] = connection; command.upgrade(cfg, "head")
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    if make_url(DATABASE_URL).get_dialect().is_async:  # postgresql+asyncpg://
        asyncio.run(run_async_migrations())
        return
    engine = create_engine(DATABASE_URL, poolclass=pool.NullPool)
    with engine.connect() as connection:
        do_run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
