#!/usr/bin/python3
"""Alembic, as the tutorial teaches it, on top of user_mgmt (issue 10, part 1).

Run: /usr/bin/python3 test/python/test_alembic_workflow.py
(needs PGHOST/PGPORT/PGUSER of a superuser on a cluster started with
shared_preload_libraries = 'user_mgmt'; creates and drops its own databases
and the role um_test_alembic_app).

What is proven:

1. CliCycleTest: the example project examples/alembic, driven by the
   alembic CLI (``python3 -m alembic -c examples/alembic/alembic.ini``,
   the URL in DATABASE_URL, asyncpg as in the tutorial, the helper package
   imported from the repository without installing it), on a database
   whose search_path is ``user_mgmt, public`` (the issue's case):
   ``upgrade head`` reaches the control file's default_version through
   every version; ``current``; ``downgrade -1``; every step down to 1.0
   and back up keeps every user (id, name, hash, role, full name) and the
   passwords verify; a refused downgrade (1.1 -> 1.0 with an account
   deactivated) fails the command and changes nothing, neither the
   extension nor alembic_version; a revision whose starting version is not
   the installed one (the extension moved by hand) stops instead of moving
   it further; the application role's grants come back after a downgrade
   and upgrade; ``revision --autogenerate`` writes an empty migration;
   alembic_version lives in public and check_schema() finds no drift;
   ``downgrade base`` drops the extension; ``upgrade --sql`` prints the
   extension's DDL.
2. AutogenerateTest: at every version of the chain, Alembic's
   compare_metadata and produce_migrations with the helper's hooks find no
   difference between the tutorial's models and the database (and find
   many without them: what the issue saw); the helper's pg_depend query
   finds exactly the extension's members (compared with the extension's
   own inventory, and with the 1.0 script for 1.0); an application's own
   table (with a foreign key to users), its own column and index on
   users are still detected, added and removed; a model mapping the view
   accounts makes no "create table"; alembic_version in public (the
   default schema) is not proposed for removal; the same empty comparison
   for a non-superuser role; the CLI's autogenerate too.
3. PackageTest: ``pip install ./python`` installs an importable package.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

import psycopg2
from psycopg2 import sql

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(ROOT, "examples", "alembic")
INI = os.path.join(EXAMPLE, "alembic.ini")
HELPER = os.path.join(ROOT, "python")

sys.path.insert(0, HERE)
sys.path.insert(0, HELPER)      # importable without installing
sys.path.insert(0, EXAMPLE)     # the example's api.user.models
import tap  # noqa: E402

from alembic import command  # noqa: E402
from alembic.autogenerate import compare_metadata, produce_migrations  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402
from sqlalchemy import (Column, ForeignKey, Index, Integer, MetaData, String, Table,  # noqa: E402
                        Text, create_engine, text)
from sqlalchemy.dialects.postgresql import ENUM  # noqa: E402

import user_mgmt_alembic  # noqa: E402
from api.user.models import Base as TutorialBase  # noqa: E402

DB_CLI = "um_test_alembic_cli"      # search_path = user_mgmt, public
DB_API = "um_test_alembic_api"      # default search_path
APP_ROLE = "um_test_alembic_app"
CHAIN = ["um_1_0", "um_1_1", "um_1_2", "um_1_3", "um_1_4", "um_1_5"]
VERSION_OF = {rev: "1.%s" % rev[-1] for rev in CHAIN}
HEAD, BEFORE_HEAD = CHAIN[-1], CHAIN[-2]
TUTORIAL_COLUMNS = ("id", "username", "hashed_password", "role", "full_name")
PW = "correct horse battery"
CLI_TIMEOUT = 60

warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")


def execute(conn, query, args=None):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall() if cur.description else None


def scalar(conn, query, args=None):
    rows = execute(conn, query, args)
    return rows[0][0] if rows else None


def url(driver, dbname):
    return tap.sqlalchemy_url(driver, dbname).render_as_string(hide_password=False)


def setUpModule():
    for db in (DB_CLI, DB_API):     # left over by an interrupted run: they hold grants
        tap.drop_test_db(db)
    admin = tap.connect("postgres")
    admin.autocommit = True
    try:
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP_ROLE)))
        execute(admin, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_ROLE)))
    finally:
        admin.close()
    for db in (DB_CLI, DB_API):
        tap.create_test_db(db, extensions=())    # Alembic creates the extension
        conn = tap.connect(db)
        conn.autocommit = True
        try:
            execute(conn, sql.SQL("ALTER DATABASE {} SET user_mgmt.bcrypt_cost = 4")
                    .format(sql.Identifier(db)))
            if db == DB_CLI:
                execute(conn, sql.SQL("ALTER DATABASE {} SET search_path = user_mgmt, public")
                        .format(sql.Identifier(db)))
        finally:
            conn.close()


def tearDownModule():
    for db in (DB_CLI, DB_API):
        tap.drop_test_db(db)    # WITH (FORCE): the login writer goes too
    admin = tap.connect("postgres")
    admin.autocommit = True
    try:
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP_ROLE)))
    finally:
        admin.close()


def default_version():
    conn = tap.connect("postgres")
    try:
        return scalar(conn, "SELECT default_version FROM pg_available_extensions "
                            "WHERE name = 'user_mgmt'")
    finally:
        conn.close()


def flatten(diffs):
    out = []
    for d in diffs:
        out.extend(d if isinstance(d, list) else [d])
    return out


# --- models --------------------------------------------------------------------

def tutorial_metadata(extra_user_columns=(), user_indexes=(), orders=False, accounts=False,
                      username_length=20):
    """The tutorial's users table as Core metadata, plus what the
    application adds: columns and indexes on users, its own table orders
    (with a foreign key to users.id), a mapping of the view accounts."""
    md = MetaData()
    role = ENUM("USER", "CASHIER", "ADMIN", name="role", schema="user_mgmt", create_type=False)
    users = Table(
        "users", md,
        Column("id", Integer, primary_key=True),
        Column("username", String(username_length), unique=True, nullable=False),
        Column("hashed_password", String(512), nullable=False),
        Column("role", role, nullable=False),
        Column("full_name", String(40), nullable=False),
        *[Column(name, type_) for name, type_ in extra_user_columns],
        schema="user_mgmt")
    for name, column in user_indexes:
        Index(name, users.c[column])
    if orders:
        Table("orders", md,
              Column("id", Integer, primary_key=True),
              Column("user_id", Integer, ForeignKey("user_mgmt.users.id"), nullable=False),
              Column("item", Text, nullable=False))   # the default schema
    if accounts:
        Table("accounts", md,
              Column("id", Integer, primary_key=True),
              Column("username", String(20)),
              schema="user_mgmt")
    return md


# --- CLI ------------------------------------------------------------------------

class CliCycleTest(unittest.TestCase):
    """The whole cycle with the alembic CLI, in order (test_1 ... test_9)."""

    @classmethod
    def setUpClass(cls):
        cls.env = dict(os.environ, DATABASE_URL=url("asyncpg", DB_CLI), APP_ROLE=APP_ROLE)
        cls.env.pop("PYTHONPATH", None)   # env.py finds ../../python by itself
        cls.conn = tap.connect(DB_CLI)
        cls.conn.autocommit = True
        cls.snapshot = None

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def alembic(self, *args, ok=True, cwd=None, ini=INI, env=None):
        proc = subprocess.run([sys.executable, "-m", "alembic", "-c", ini, *args],
                              cwd=cwd or ROOT, env=env or self.env, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT)
        if ok:
            self.assertEqual(proc.returncode, 0, "alembic %s:\n%s%s"
                             % (" ".join(args), proc.stdout, proc.stderr))
        else:
            self.assertNotEqual(proc.returncode, 0, "alembic %s succeeded" % " ".join(args))
        return proc

    def current(self):
        out = self.alembic("current").stdout.split()
        return out[0] if out else None

    def version(self):
        return scalar(self.conn, "SELECT extversion FROM pg_extension WHERE extname = 'user_mgmt'")

    def users(self):
        return execute(self.conn, "SELECT %s FROM user_mgmt.users ORDER BY id"
                       % ", ".join(c if c != "role" else "role::text" for c in TUTORIAL_COLUMNS))

    def assert_state(self, rev, cli=False):
        """alembic_version (read by `alembic current` when `cli`) and the
        extension agree on `rev`; the users are the ones snapshotted;
        alembic_version is in public only."""
        if cli:
            self.assertEqual(self.current(), rev)
        self.assertEqual(self.version(), VERSION_OF[rev])
        self.assertEqual(execute(self.conn, "SELECT version_num FROM public.alembic_version"),
                         [(rev,)])
        self.assertEqual(execute(self.conn, "SELECT n.nspname FROM pg_class c JOIN pg_namespace n "
                                            "ON n.oid = c.relnamespace WHERE relname = 'alembic_version'"),
                         [("public",)])
        if self.snapshot is not None:
            self.assertEqual(self.users(), type(self).snapshot)
        if VERSION_OF[rev] != "1.0":
            self.assertEqual(execute(self.conn, "SELECT * FROM user_mgmt.check_schema()"), [])

    def assert_app_grants(self):
        has = execute(self.conn, """
            SELECT has_function_privilege(%(r)s, 'user_mgmt.sign_up(text,text,text)', 'EXECUTE'),
                   has_table_privilege(%(r)s, 'user_mgmt.accounts', 'SELECT'),
                   has_function_privilege(%(r)s, 'user_mgmt.create_user(text,text,text,user_mgmt.role)',
                                          'EXECUTE'),
                   has_table_privilege(%(r)s, 'user_mgmt.users', 'SELECT')""", {"r": APP_ROLE})[0]
        self.assertEqual(has, (True, True, False, False))

    def test_1_upgrade_head_reaches_default_version(self):
        self.assertIsNone(self.current())
        out = self.alembic("upgrade", "head")
        for rev in CHAIN:
            self.assertIn("-> %s" % rev, out.stderr)
        self.assertEqual(CHAIN[-1], "um_%s" % default_version().replace(".", "_"),
                         "the chain ends at the control file's default_version")
        self.assert_state(HEAD, cli=True)
        history = execute(self.conn, "SELECT version, coalesce(previous_version, ''), direction "
                                     "FROM user_mgmt.migration_history()")
        self.assertEqual(history, [("1.0", "", "install")] +
                         [(VERSION_OF[b], VERSION_OF[a], "upgrade") for a, b in zip(CHAIN, CHAIN[1:])])
        self.assertIsNone(scalar(self.conn, "SELECT to_regclass('user_mgmt.alembic_version')"))
        self.assert_app_grants()
        # users: an ADMIN made by the superuser, a USER signed up by the
        # application role with only its grants, a Cyrillic one
        execute(self.conn, "SELECT user_mgmt.create_user('ivan', %s, 'Иван Петров', 'ADMIN')", (PW,))
        execute(self.conn, "SELECT user_mgmt.create_user('Мария', %s, 'Мария', 'CASHIER')", (PW,))
        execute(self.conn, sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
        try:
            execute(self.conn, "SELECT user_mgmt.sign_up('olga', %s, 'Ольга')", (PW,))
            self.assertEqual(scalar(self.conn, "SELECT role::text FROM user_mgmt.accounts "
                                               "WHERE username = 'olga'"), "USER")
        finally:
            execute(self.conn, "RESET ROLE")
        type(self).snapshot = self.users()
        self.assertEqual(len(self.snapshot), 3)
        row = execute(self.conn, "SELECT access_token IS NOT NULL FROM user_mgmt.sign_in('ivan', %s)",
                      (PW,))
        self.assertEqual(row, [(True,)])

    def test_2_downgrade_one_keeps_data(self):
        self.alembic("downgrade", "-1")
        self.assert_state(BEFORE_HEAD, cli=True)

    def test_3_revision_refuses_extension_moved_by_hand(self):
        head, before = VERSION_OF[HEAD], VERSION_OF[BEFORE_HEAD]
        execute(self.conn, "ALTER EXTENSION user_mgmt UPDATE TO '%s'" % head)
        try:
            proc = self.alembic("upgrade", "head", ok=False)
            self.assertIn("ExtensionVersionMismatch", proc.stderr)
            self.assertIn("from version %s to %s, but the database has version %s" % (before, head, head),
                          proc.stderr)
        finally:
            execute(self.conn, "ALTER EXTENSION user_mgmt UPDATE TO '%s'" % before)
        self.assert_state(BEFORE_HEAD)

    def test_4_up_again_then_down_to_1_0_step_by_step(self):
        self.alembic("upgrade", "head")
        self.assert_state(HEAD)
        self.assert_app_grants()
        for rev in reversed(CHAIN[:-1]):
            if rev == "um_1_0":
                break
            self.alembic("downgrade", "-1")
            self.assert_state(rev)
        # at 1.1: 1.1 -> 1.0 refuses while an account is deactivated, and the
        # failed command changes nothing
        execute(self.conn, "UPDATE user_mgmt.users SET is_active = false WHERE username = 'olga'")
        proc = self.alembic("downgrade", "-1", ok=False)
        self.assertIn("deactivated", proc.stderr)
        self.assert_state("um_1_1", cli=True)
        execute(self.conn, "UPDATE user_mgmt.users SET is_active = true WHERE username = 'olga'")
        self.alembic("downgrade", "-1")
        self.assert_state("um_1_0")
        cols = [r[0] for r in execute(self.conn, "SELECT attname FROM pg_attribute WHERE attrelid = "
                                      "'user_mgmt.users'::regclass AND attnum > 0 AND NOT attisdropped "
                                      "ORDER BY attnum")]
        self.assertEqual(tuple(cols), TUTORIAL_COLUMNS)

    def test_5_up_from_1_0_keeps_data_and_grants(self):
        self.alembic("upgrade", "head")
        self.assert_state(HEAD)
        self.assert_app_grants()
        ok = execute(self.conn, "SELECT username, user_mgmt.verify_password(%s, hashed_password) "
                                "FROM user_mgmt.users ORDER BY id", (PW,))
        self.assertEqual(ok, [("ivan", True), ("Мария", True), ("olga", True)])

    def test_6_autogenerate_writes_an_empty_migration(self):
        with tempfile.TemporaryDirectory(prefix="um_alembic_") as tmp:
            project = os.path.join(tmp, "project")
            shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
            env = dict(self.env, PYTHONPATH=HELPER)   # the copy cannot find ../../python
            self.alembic("revision", "--autogenerate", "-m", "nothing to do", cwd=project,
                         ini=os.path.join(project, "alembic.ini"), env=env)
            made = [f for f in os.listdir(os.path.join(project, "migrations", "versions"))
                    if f.endswith("_nothing_to_do.py")]
            self.assertEqual(len(made), 1, made)
            with open(os.path.join(project, "migrations", "versions", made[0])) as f:
                body = f.read()
        self.assertNotIn("op.", body)
        self.assertEqual(len(re.findall(r"^    pass$", body, re.M)), 2, body)
        self.assertIn("down_revision = '%s'" % HEAD, body)

    def test_7_offline_sql(self):
        out = self.alembic("upgrade", "head", "--sql").stdout
        self.assertIn("CREATE EXTENSION user_mgmt VERSION '1.0';", out)
        for v in (VERSION_OF[r] for r in CHAIN[1:]):
            self.assertIn("ALTER EXTENSION user_mgmt UPDATE TO '%s';" % v, out)
        self.assertIn("CREATE TABLE public.alembic_version", out)
        self.assertIn('GRANT EXECUTE ON FUNCTION user_mgmt.sign_up(text, text, text) TO %s;'
                      % APP_ROLE, out)

    def test_8_downgrade_base_drops_the_extension(self):
        self.alembic("downgrade", "base")
        self.assertIsNone(self.current())
        self.assertIsNone(self.version())
        # the example's downgrade also drops the schema CREATE EXTENSION made
        self.assertIsNone(scalar(self.conn, "SELECT to_regnamespace('user_mgmt')"))
        self.assertEqual(execute(self.conn, "SELECT count(*) FROM public.alembic_version"), [(0,)])


# --- API: every version -------------------------------------------------------------

class AutogenerateTest(unittest.TestCase):
    """Steps through the chain in-process (Alembic's command API with a
    shared connection) and compares at each version."""

    @classmethod
    def setUpClass(cls):
        cls.engine = create_engine(url("psycopg2", DB_API), future=True)
        cls.cfg = Config()
        cls.cfg.set_main_option("script_location", os.path.join(EXAMPLE, "migrations"))
        cls.cfg.attributes["app_role"] = APP_ROLE

    @classmethod
    def tearDownClass(cls):
        cls.engine.dispose()

    def migrate(self, fn, rev):
        with self.engine.connect() as conn:
            self.cfg.attributes["connection"] = conn
            try:
                fn(self.cfg, rev)
            finally:
                del self.cfg.attributes["connection"]
            conn.commit()

    def diffs(self, metadata, hooks=True):
        with self.engine.connect() as conn:
            opts = {"compare_type": True}
            if hooks:
                objects = user_mgmt_alembic.ExtensionObjects(conn, target_metadata=metadata)
                opts.update(objects.configure_options())
            else:
                opts.update(include_schemas=True)
            ctx = MigrationContext.configure(conn, opts=opts)
            found = flatten(compare_metadata(ctx, metadata))
            if hooks:   # the same through produce_migrations (what `revision` uses)
                script = produce_migrations(ctx, metadata)
                self.assertEqual(script.upgrade_ops.is_empty(), not found)
            return found

    def members(self):
        with self.engine.connect() as conn:
            objects = user_mgmt_alembic.ExtensionObjects(conn)
            self.assertTrue(objects.is_installed())
            return objects, {description for _t, _s, _n, description in objects.members}

    def expected_members(self, version):
        if version == "1.0":
            # what the 1.0 script creates (and serial's sequence)
            with open(os.path.join(ROOT, "sql", "user_mgmt--1.0.sql")) as f:
                script = f.read()
            return {("%s user_mgmt.%s" % (kind.lower(), name))
                    for kind, name in re.findall(r"^CREATE (TABLE|TYPE|FUNCTION) user_mgmt\.(\w+)",
                                                 script, re.M)} | {"sequence user_mgmt.users_id_seq"}
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(text(
                "SELECT object_name FROM user_mgmt.expected_schema_objects() "
                "WHERE object_type = 'extension member'"))}

    def check_version(self, rev):
        version = VERSION_OF[rev]
        # the tutorial's models: nothing with the hooks, much without them
        self.assertEqual(self.diffs(TutorialBase.metadata), [], version)
        raw = {d[0] for d in self.diffs(TutorialBase.metadata, hooks=False)}
        self.assertIn("modify_comment", raw, version)
        if version != "1.0":
            self.assertTrue({"remove_table", "remove_column"} <= raw, (version, raw))
        # the pg_depend query
        objects, found = self.members()
        self.assertEqual(objects.version, version)
        expected = self.expected_members(version)
        if version == "1.0":   # functions by name only (the regex has no signatures)
            found = {re.sub(r"\(.*\)$", "", m) for m in found}
        self.assertEqual(found, expected, version)
        self.assertEqual(objects.inventory is None, version == "1.0")
        users = {(k, n) for k, n in objects.parts[("user_mgmt", "users")] if k == "column"}
        with self.engine.connect() as conn:
            live = {("column", r[0]) for r in conn.execute(text(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'user_mgmt.users'::regclass "
                "AND attnum > 0 AND NOT attisdropped"))}
        self.assertEqual(users, live, "every column of users is the extension's at %s" % version)
        self.assertNotIn(("public", "alembic_version"), objects.relations)
        # the application's own objects are still seen
        md = tutorial_metadata(extra_user_columns=[("phone", Text)],
                               user_indexes=[("ix_users_phone", "phone")], orders=True)
        ops = sorted((d[0], d[-1].name) for d in self.diffs(md))
        self.assertEqual(ops, [("add_column", "phone"), ("add_index", "ix_users_phone"),
                               ("add_table", "orders")], version)
        # a model changing an extension's column changes nothing; one mapping
        # the extension's view (1.2+) makes no "create table"
        self.assertEqual(self.diffs(tutorial_metadata(username_length=30)), [])
        if version >= "1.2":
            self.assertEqual(self.diffs(tutorial_metadata(accounts=True)), [])

    def test_every_version(self):
        self.migrate(command.downgrade, "base")
        for rev in CHAIN:
            with self.subTest(rev=rev):
                self.migrate(command.upgrade, rev)
                self.check_version(rev)

    def test_z_app_column_and_table_both_directions(self):
        """At the head: the application's column on users and its own table,
        created in the database, are compared like any other (nothing when
        the model has them, removals when it drops them); the default
        search_path puts alembic_version in public, the default schema,
        which is still not proposed for removal."""
        self.migrate(command.upgrade, "head")
        with self.engine.begin() as conn:
            self.assertEqual(conn.execute(text("SELECT current_schema()")).scalar(), "public")
            conn.execute(text("ALTER TABLE user_mgmt.users ADD COLUMN phone text"))
            conn.execute(text("CREATE INDEX ix_users_phone ON user_mgmt.users (phone)"))
            conn.execute(text("CREATE TABLE public.orders (id serial PRIMARY KEY, "
                              "user_id integer NOT NULL REFERENCES user_mgmt.users (id), "
                              "item text NOT NULL)"))
        try:
            with_app = tutorial_metadata(extra_user_columns=[("phone", Text)],
                                         user_indexes=[("ix_users_phone", "phone")], orders=True)
            self.assertEqual(self.diffs(with_app), [])
            removed = sorted((d[0], d[-1].name) for d in self.diffs(tutorial_metadata()))
            self.assertEqual(removed, [("remove_column", "phone"), ("remove_index", "ix_users_phone"),
                                       ("remove_table", "orders")])
            # a change to the application's column is seen too
            changed = self.diffs(tutorial_metadata(extra_user_columns=[("phone", String(20))],
                                                   user_indexes=[("ix_users_phone", "phone")],
                                                   orders=True))
            self.assertEqual([d[0] for d in changed], ["modify_type"])
        finally:
            with self.engine.begin() as conn:
                conn.execute(text("DROP TABLE public.orders"))
                conn.execute(text("ALTER TABLE user_mgmt.users DROP COLUMN phone"))
        self.assertEqual(self.diffs(TutorialBase.metadata), [])

    def test_z_autogenerate_as_the_application_role(self):
        """The hooks read only catalogs and PUBLIC functions: a developer's
        non-superuser role gets the same empty comparison."""
        self.migrate(command.upgrade, "head")
        engine = create_engine(tap.sqlalchemy_url("psycopg2", DB_API).set(username=APP_ROLE),
                               future=True)
        try:
            with engine.connect() as conn:
                self.assertFalse(conn.execute(text(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())
                objects = user_mgmt_alembic.ExtensionObjects(conn, target_metadata=TutorialBase.metadata)
                ctx = MigrationContext.configure(conn, opts=dict(objects.configure_options(),
                                                                 compare_type=True))
                self.assertEqual(compare_metadata(ctx, TutorialBase.metadata), [])
                self.assertIsNotNone(objects.inventory)
        finally:
            engine.dispose()

    def test_z_cli_autogenerate_with_default_search_path(self):
        self.migrate(command.upgrade, "head")
        with tempfile.TemporaryDirectory(prefix="um_alembic_") as tmp:
            project = os.path.join(tmp, "project")
            shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
            env = dict(os.environ, DATABASE_URL=url("asyncpg", DB_API), PYTHONPATH=HELPER)
            proc = subprocess.run([sys.executable, "-m", "alembic", "-c", "alembic.ini", "revision",
                                   "--autogenerate", "-m", "empty"], cwd=project, env=env,
                                  capture_output=True, text=True, timeout=CLI_TIMEOUT)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertNotIn("Detected", proc.stderr)
            versions = os.path.join(project, "migrations", "versions")
            made = [f for f in os.listdir(versions) if f.endswith("_empty.py")]
            with open(os.path.join(versions, made[0])) as f:
                self.assertNotIn("op.", f.read())


class PackageTest(unittest.TestCase):
    def test_pip_install(self):
        """pip install ./python (offline: --no-build-isolation, Debian's
        setuptools) gives a package that imports and registers the ops."""
        with tempfile.TemporaryDirectory(prefix="um_pip_") as tmp:
            src = os.path.join(tmp, "src")
            shutil.copytree(HELPER, src, ignore=shutil.ignore_patterns(
                "__pycache__", "build", "*.egg-info"))
            target = os.path.join(tmp, "site")
            proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                                   "--no-deps", "--no-index", "--disable-pip-version-check",
                                   "--target", target, src],
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            check = subprocess.run(
                [sys.executable, "-c",
                 "import user_mgmt_alembic, alembic.operations as o; "
                 "print(user_mgmt_alembic.__file__); "
                 "print(all(hasattr(o.Operations, n) for n in "
                 "('create_extension', 'update_extension', 'drop_extension')))"],
                env=dict(os.environ, PYTHONPATH=target), cwd=tmp,
                capture_output=True, text=True, timeout=60)
            self.assertEqual(check.returncode, 0, check.stderr)
            path, registered = check.stdout.split()
            self.assertTrue(path.startswith(target), path)
            self.assertEqual(registered, "True")


if __name__ == "__main__":
    tap.main()
