"""Helpers of the migration suite (test/migrations/migrations.py).

TAP output, throwaway databases, version discovery, the schema description
(describe_schema.sql), the normalized schema-only dump, row snapshots and
test data.  Connections use libpq's PGHOST/PGPORT/PGUSER.
"""

import datetime
import difflib
import glob
import os
import re
import subprocess
import sys
import traceback

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values

EXT = "user_mgmt"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DESCRIBE_SQL = open(os.path.join(HERE, "describe_schema.sql"), encoding="utf-8").read()
PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
KEEP = os.environ.get("UM_MIG_KEEP") == "1"  # keep the databases of failed tests


# --------------------------------------------------------------------------
# TAP
# --------------------------------------------------------------------------

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).rstrip("\n").splitlines() or [""]:
            sys.stdout.write("# " + line + "\n")
        sys.stdout.flush()

    todo = None  # while set: failures are reported as "# TODO <reason>" (known gaps)

    def ok(self, cond, desc, diag=None):
        self.n += 1
        cond = bool(cond)
        if not cond and not self.todo:
            self.failed += 1
        line = "%s %d - %s" % ("ok" if cond else "not ok", self.n, desc)
        if self.todo:
            line += " # TODO " + self.todo
        sys.stdout.write(line + "\n")
        if not cond and diag:
            self.diag(diag() if callable(diag) else diag)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        """ok when got == want; on failure shows a diff (lists) or both values."""
        return self.ok(got == want, desc, lambda: show_difference(want, got))

    def plan_end(self):
        sys.stdout.write("1..%d\n" % self.n)
        sys.stdout.flush()


def show_difference(want, got, limit=60):
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        w = [fmt_row(r) for r in want]
        g = [fmt_row(r) for r in got]
        diff = [d if len(d) <= 400 else d[:400] + "..."
                for d in difflib.unified_diff(w, g, "expected", "got", n=1, lineterm="")]
        if len(diff) > limit:
            diff = diff[:limit] + ["... (%d more diff lines)" % (len(diff) - limit)]
        return "\n".join(diff) if diff else "(same lines, different types)"
    return "expected: %r\n     got: %r" % (want, got)


def fmt_row(r):
    if isinstance(r, (list, tuple)):
        return " | ".join("<null>" if v is None else str(v) for v in r).replace("\n", "\\n")
    return str(r)


# --------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------

def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'; SET client_min_messages = warning")
    return conn


_admin = None


def admin():
    global _admin
    if _admin is None or _admin.closed:
        _admin = connect("postgres")
    return _admin


class DB:
    """A throwaway database um_mig_<pid>_<label>, dropped by drop()."""

    created = []

    def __init__(self, label, create=True):
        self.name = ("um_mig_%d_%s" % (os.getpid(), re.sub(r"[^a-z0-9_]", "_", label.lower())))[:63]
        self._conn = None
        if create:
            q(admin(), sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.name)))
            q(admin(), sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
              .format(sql.Identifier(self.name)))
        DB.created.append(self)

    @property
    def conn(self):
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.name)
        return self._conn

    def close(self):
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None

    def drop(self):
        self.close()
        q(admin(), sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        if self in DB.created:
            DB.created.remove(self)

    # shorthands
    def q(self, query, args=None):
        return q(self.conn, query, args)

    def one(self, query, args=None):
        rows = q(self.conn, query, args)
        return rows[0][0] if rows else None


def q(conn, query, args=None):
    with conn.cursor() as cur:
        cur.execute(query, args)
        if cur.description is None:
            return None
        return cur.fetchall()


def sql_error(conn, query, args=None):
    """Runs a statement that should fail; returns the psycopg2 error or None."""
    try:
        q(conn, query, args)
    except psycopg2.Error as e:
        return e
    return None


def error_text(e):
    d = e.diag
    return "\n".join(x for x in (d.message_primary, d.message_detail, d.message_hint) if x)


# --------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------

def vkey(v):
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.]", v))


def script_versions():
    """Versions named by the sql/user_mgmt--*.sql files of the checkout."""
    found = set()
    for path in glob.glob(os.path.join(REPO, "sql", EXT + "--*.sql")):
        parts = os.path.basename(path)[len(EXT) + 2:-4].split("--")
        found.update(parts)
    return sorted(found, key=vkey)


def installed_versions(conn):
    rows = q(conn, "SELECT version FROM pg_catalog.pg_available_extension_versions WHERE name = %s", (EXT,))
    return sorted((r[0] for r in rows), key=vkey)


def default_version(conn):
    return q(conn, "SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = %s", (EXT,))[0][0]


def update_paths(conn):
    """{(source, target): [v0, v1, ...] or None}."""
    rows = q(conn, "SELECT source, target, path FROM pg_catalog.pg_extension_update_paths(%s)", (EXT,))
    return {(s, t): (p.split("--") if p is not None else None) for s, t, p in rows}


def steps(path):
    return list(zip(path, path[1:]))


# --------------------------------------------------------------------------
# What a database looks like
# --------------------------------------------------------------------------

def extversion(conn):
    rows = q(conn, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = %s", (EXT,))
    return rows[0][0] if rows else None


def describe(conn):
    return q(conn, DESCRIBE_SQL)


_DROPPED = re.compile(r'"?\.\.\.\.\.\.\.\.pg\.dropped\.\d+\.\.\.\.\.\.\.\."?')


def schema_dump(dbname):
    """pg_dump --schema-only --binary-upgrade of schema user_mgmt, normalized.

    Binary-upgrade mode dumps the extension's member objects one by one
    (normally pg_dump only writes CREATE EXTENSION).  Normalized away: the
    binary_upgrade_* calls (OIDs, relfilenodes, attribute LSNs), the OID list
    of binary_upgrade_create_empty_extension, the pg_class/pg_attribute
    UPDATEs (relfrozenxid, dropped-column layout), comment lines, SET lines,
    the \\restrict key, dropped-column placeholders with their DROP COLUMN, and
    the setval() of the config sequence (data, not schema).
    """
    out = subprocess.run(
        [os.path.join(PG_BINDIR, "pg_dump"), "--schema-only", "--binary-upgrade",
         "--extension=" + EXT, "--schema=" + EXT, "--no-tablespaces", "-d", dbname],
        check=True, capture_output=True, text=True).stdout
    lines = []
    skipping = False
    for line in out.splitlines():
        if skipping:
            skipping = not line.rstrip().endswith(";")
            continue
        if re.match(r"UPDATE pg_catalog\.pg_(class|attribute|type)\b", line):
            skipping = not line.rstrip().endswith(";")
            continue
        if (line.strip() == "" or line.startswith("--") or line.startswith("\\restrict")
                or line.startswith("\\unrestrict") or line.startswith("SET ")
                or line.startswith("SELECT pg_catalog.set_config(")):
            continue
        if line.startswith("SELECT pg_catalog.binary_upgrade_create_empty_extension("):
            lines.append(re.sub(r"\d+", "N", re.sub(r"'\{[\d,]*\}'", "'{OIDS}'", line, count=1)))
            continue
        if line.startswith("SELECT pg_catalog.binary_upgrade_"):
            continue
        if _DROPPED.search(line):
            continue
        if line.startswith("SELECT pg_catalog.setval("):
            continue  # the sequence's state is data (compared on its own), not schema
        lines.append(line)
    # a dropped placeholder that was the last column leaves a dangling comma
    for i in range(len(lines) - 1):
        if lines[i + 1].strip() == ");" and lines[i].endswith(","):
            lines[i] = lines[i][:-1]
    return lines


def user_columns(conn):
    rows = q(conn, """
        SELECT a.attname FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = 'user_mgmt.users'::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum""")
    return [r[0] for r in rows]


def users_snapshot(conn, columns):
    """Every row of user_mgmt.users, the given columns as text, by id."""
    query = sql.SQL("SELECT {} FROM user_mgmt.users ORDER BY id").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns))
    return q(conn, query)


def seq_state(conn):
    return q(conn, "SELECT last_value, is_called FROM user_mgmt.users_id_seq")[0]


def history(conn):
    """schema_migrations, read directly (not via the extension's functions)."""
    return q(conn, """
        SELECT applied_at, version, previous_version, direction, description, applied_by::text
        FROM user_mgmt.schema_migrations ORDER BY applied_at""")


def history_steps(rows):
    """(version, previous_version, direction) of history rows."""
    return [(r[1], r[2], r[3]) for r in rows]


def config_relations(conn):
    """The extension's configuration relations (extconfig) as [(regclass text, relkind)]."""
    return q(conn, """
        SELECT c.oid::regclass::text, c.relkind::text
        FROM pg_catalog.pg_extension e, unnest(e.extconfig) AS cfg(relid)
        JOIN pg_catalog.pg_class c ON c.oid = cfg.relid
        WHERE e.extname = %s ORDER BY 1""", (EXT,))


def config_contents(conn):
    """{relation: sorted rows as text (tables) or (last_value, is_called) (sequences)}."""
    out = {}
    for rel, kind in config_relations(conn):
        if kind == "S":
            out[rel] = q(conn, "SELECT last_value, is_called FROM " + rel)[0]
        else:
            out[rel] = sorted(r[0] for r in q(conn, "SELECT t::text FROM %s AS t" % rel))
    return out


def has_function(conn, signature):
    return q(conn, "SELECT pg_catalog.to_regprocedure(%s) IS NOT NULL", (signature,))[0][0]


def has_table(conn, name):
    return q(conn, "SELECT pg_catalog.to_regclass(%s) IS NOT NULL", (name,))[0][0]


def check_schema(conn):
    """Rows of user_mgmt.check_schema(), or None when the version lacks it."""
    if not has_function(conn, "user_mgmt.check_schema()"):
        return None
    return q(conn, """SELECT object_type, object_name, problem, expected, found
                      FROM user_mgmt.check_schema() ORDER BY 1, 2, 3""")


# --------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------

# Passwords: a few hashed once per run and reused (hashing is the slow part).
# ASCII and Cyrillic, up to the 72-byte limit, at several costs.
PASSWORDS = [
    ("correct horse battery staple", 4),
    ("пароль", 4),
    ("Пароль-С-Пробелом и цифрами 123", 5),
    ("x" * 72, 4),
    ("ж" * 36, 5),           # 72 bytes of UTF-8
    ("p@$$w0rd!'\"\\", 6),
    ("ёЁйЙ", 4),
    ("1", 5),
]
VARIANTS = ["$2b$", "$2a$", "$2y$"]

FIRST = ["Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Анна", "Сергей", "Екатерина", "John", "Zoë"]
LAST = ["Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Новиков", "O'Brien", "Müller"]

# Rows that probe the limits: 20-character usernames (Cyrillic and ASCII),
# 40-character full names (Cyrillic), quotes, 4-byte UTF-8.
SPECIAL_USERS = [
    ("ЕкатеринаАлександров", "Константинопольский Александр Васильевич"),
    ("abcdefghijklmnopqrst", "x" * 40),
    ("Ёжик_в_тумане", "Ёжик «в тумане» — персонаж"),
    ("o'brien", "Conan O'Brien \"Coco\""),
    ("emoji_user", "Смайлик 😀 и иероглиф 漢"),
]


def make_hash_pool(conn):
    """[(plaintext, hash $2b$)] for PASSWORDS, hashed by the extension."""
    return [(pw, q(conn, "SELECT user_mgmt.hash_password(%s, %s)", (pw, cost))[0][0])
            for pw, cost in PASSWORDS]


def fill(conn, pool, n=1020):
    """Inserts n generated users plus SPECIAL_USERS into the installed version.

    Covers every role the installed version has, hashes of every variant
    ($2a$, $2b$, $2y$) and several costs.  Columns of later versions are
    filled with varied values when the table has them (is_active stays true,
    so that the data can be downgraded); unknown columns take their defaults.
    Deletes a few rows (id gaps) and advances the sequence past max(id).
    Returns {username: plaintext} of the users left.
    """
    cols = set(user_columns(conn))
    roles = [r[0] for r in q(conn, "SELECT unnest(enum_range(NULL::user_mgmt.role))::text")]
    users = [("user_%04d" % i if i % 4 == 1 else
              "пользователь%04d" % i if i % 4 == 0 else
              "Ivan.Petrov%04d" % i if i % 4 == 2 else
              "Мария_%04d" % i,
              "%s %s" % (FIRST[i % len(FIRST)], LAST[i % len(LAST)]))
             for i in range(1, n + 1)]
    users += SPECIAL_USERS
    lifecycle = [c for c in ("created_at", "updated_at", "is_active", "last_login_at",
                             "failed_login_count", "locked_until", "password_changed_at") if c in cols]
    t0 = datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)
    plain = {}
    rows = []
    for i, (username, full_name) in enumerate(users):
        pw, h = pool[i % len(pool)]
        plain[username] = pw
        values = {
            "created_at": t0 + datetime.timedelta(hours=i),
            "updated_at": t0 + datetime.timedelta(days=500, minutes=i, microseconds=i),
            "is_active": True,
            "last_login_at": None if i % 2 else t0 + datetime.timedelta(days=700, seconds=i, microseconds=123456),
            "failed_login_count": i % 5,
            "locked_until": t0 + datetime.timedelta(days=3000) if i % 50 == 0 else None,
            "password_changed_at": None if i % 3 == 0 else t0 + datetime.timedelta(days=i % 365),
        }
        rows.append([username, VARIANTS[i % len(VARIANTS)] + h[4:], roles[i % len(roles)], full_name]
                    + [values[c] for c in lifecycle])
    columns = ["username", "hashed_password", "role", "full_name"] + lifecycle
    with conn.cursor() as cur:
        execute_values(cur, sql.SQL("INSERT INTO user_mgmt.users ({}) VALUES %s").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns)).as_string(cur),
            rows, template="(%s, %s, %s::user_mgmt.role, %s" + ", %s" * len(lifecycle) + ")",
            page_size=1000)
    # id gaps, and a sequence ahead of max(id)
    q(conn, "DELETE FROM user_mgmt.users WHERE id BETWEEN 500 AND 509 OR id = 3")
    q(conn, "SELECT setval('user_mgmt.users_id_seq', (SELECT max(id) FROM user_mgmt.users) + 37)")
    left = {r[0] for r in q(conn, "SELECT username FROM user_mgmt.users")}
    return {u: p for u, p in plain.items() if u in left}


def verify_all(conn, plain):
    """Usernames whose stored hash does not accept their password."""
    names = list(plain)
    rows = q(conn, """
        SELECT p.username FROM unnest(%s::text[], %s::text[]) AS p(username, password)
        LEFT JOIN user_mgmt.users u ON u.username = p.username
        WHERE u.id IS NULL OR NOT user_mgmt.verify_password(p.password, u.hashed_password)""",
             (names, [plain[n] for n in names]))
    return [r[0] for r in rows]


def run_test(tap, name, fn, *args):
    """Runs one test function; an unexpected exception is one failing line."""
    try:
        fn(tap, *args)
    except Exception:  # noqa: BLE001
        tap.ok(False, "%s: ran without an unexpected error" % name, traceback.format_exc())
    finally:
        for db in list(DB.created):
            if getattr(db, "keep_until_end", False):
                continue
            if KEEP and tap.failed:
                tap.diag("kept database %s" % db.name)
                DB.created.remove(db)
                continue
            try:
                db.drop()
            except Exception as e:  # noqa: BLE001
                tap.diag("could not drop %s: %s" % (db.name, e))
