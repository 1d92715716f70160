"""Helpers of the migration suite (test/migrations/migrations.py).

TAP output, throwaway databases, version discovery, the schema description
(describe_schema.sql), the normalized schema-only dump, row snapshots and
test data.  Connections use libpq's PGHOST/PGPORT/PGUSER.
"""

import difflib
import glob
import os
import re
import subprocess
import sys
import traceback

import psycopg2
import psycopg2.errors  # noqa: F401  (pgcode lookups)
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

    def ok(self, cond, desc, diag=None):
        self.n += 1
        cond = bool(cond)
        if not cond:
            self.failed += 1
        sys.stdout.write("%s %d - %s\n" % ("ok" if cond else "not ok", self.n, desc))
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
        diff = list(difflib.unified_diff(w, g, "expected", "got", n=1, lineterm=""))
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

    def reconnect(self):
        self.close()
        return self.conn

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
    the \\restrict key, and dropped-column placeholders with their DROP COLUMN.
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


def has_function(conn, signature):
    return q(conn, "SELECT pg_catalog.to_regprocedure(%s) IS NOT NULL", (signature,))[0][0]


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


def lifecycle_values(i):
    """Values for 1.1's lifecycle columns of generated user number i."""
    created = "2021-01-01 00:00:00+00"
    return {
        "created_at": "%s" % ("2021-01-01 00:00:00+00" if i == 0 else
                              "2021-01-01 00:00:00+00"),
        "_offset_hours": i,
        "created": created,
    }


def fill(conn, pool, n=1000):
    """Inserts n generated users plus SPECIAL_USERS into the installed version.

    Covers every role the installed version has, hashes of every variant
    ($2a$, $2b$, $2y$) and several costs.  Columns of later versions are
    filled with varied values when the table has them (is_active stays true,
    so the data can be downgraded); unknown columns take their defaults.
    Deletes a few rows (id gaps) and advances the sequence past max(id).
    Returns {username: plaintext}.
    """
    cols = set(user_columns(conn))
    roles = [r[0] for r in q(conn, "SELECT unnest(enum_range(NULL::user_mgmt.role))::text")]
    plain = {}
    rows = []
    users = [("user_%04d" % i if i % 4 == 1 else
              "пользователь%04d" % i if i % 4 == 0 else
              "Ivan.Petrov%04d" % i if i % 4 == 2 else
              "Мария_%04d" % i,
              "%s %s" % (FIRST[i % len(FIRST)], LAST[i % len(LAST)]))
             for i in range(1, n + 1)]
    users += SPECIAL_USERS
    extra = [c for c in ("created_at", "updated_at", "is_active", "last_login_at",
                         "failed_login_count", "locked_until", "password_changed_at") if c in cols]
    for i, (username, full_name) in enumerate(users):
        pw, h = pool[i % len(pool)]
        h = VARIANTS[i % len(VARIANTS)] + h[4:]
        plain[username] = pw
        row = [username, h, roles[i % len(roles)], full_name]
        lc = {
            "created_at": "2021-01-01 00:00:00+00 +%d hours" % i,
            "updated_at": "2022-06-01 12:00:00+00 +%d minutes" % i,
            "is_active": True,
            "last_login_at": None if i % 2 else "2023-03-03 03:03:03.123456+00 +%d seconds" % i,
            "failed_login_count": i % 5,
            "locked_until": "2030-01-01 00:00:00+00" if i % 50 == 0 else None,
            "password_changed_at": None if i % 3 == 0 else "2022-01-01 00:00:00+00 +%d days" % (i % 365),
        }
        for c in extra:
            v = lc[c]
            if isinstance(v, str) and " +" in v:  # "timestamp +N unit"
                base, off = v.split(" +")
                v = (base, off)
            row.append(v)
        rows.append(row)

    def value_sql(c):
        if c in ("is_active", "failed_login_count"):
            return "%s"
        return "%s"

    col_sql = ["username", "hashed_password", "role", "full_name"] + extra
    # timestamps with an offset are sent as (base, interval) and computed by the server
    flat = []
    for row in rows:
        flat.append(tuple(row))
    template_parts = ["%s", "%s", "%s::user_mgmt.role", "%s"]
    for c in extra:
        if c in ("is_active",):
            template_parts.append("%s")
        elif c == "failed_login_count":
            template_parts.append("%s")
        else:
            template_parts.append("(%s)::timestamptz")
    flat2 = []
    for row in flat:
        out = list(row[:4])
        for c, v in zip(extra, row[4:]):
            if isinstance(v, tuple):
                v = "%s" % v[0]  # base; the offset is added below via interval
            out.append(v)
        flat2.append(out)
    with conn.cursor() as cur:
        execute_values(cur, sql.SQL("INSERT INTO user_mgmt.users ({}) VALUES %s").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in col_sql)).as_string(cur),
            flat2, template="(" + ", ".join(template_parts) + ")", page_size=500)
    # spread the timestamps (same instant for everyone would hide mix-ups);
    # the trigger of 1.1 would overwrite updated_at, so switch it off meanwhile
    ts_cols = [c for c in extra if c not in ("is_active", "failed_login_count")]
    if ts_cols:
        trig = q(conn, """SELECT tgname FROM pg_trigger WHERE tgrelid = 'user_mgmt.users'::regclass
                          AND NOT tgisinternal""")
        for (t,) in trig:
            q(conn, sql.SQL("ALTER TABLE user_mgmt.users DISABLE TRIGGER {}").format(sql.Identifier(t)))
        q(conn, sql.SQL("UPDATE user_mgmt.users SET {}").format(sql.SQL(", ").join(
            sql.SQL("{c} = {c} + (id * 7919 % 100000) * interval '1 second'").format(c=sql.Identifier(c))
            for c in ts_cols)))
        for (t,) in trig:
            q(conn, sql.SQL("ALTER TABLE user_mgmt.users ENABLE TRIGGER {}").format(sql.Identifier(t)))
    # id gaps, and a sequence ahead of max(id)
    q(conn, "DELETE FROM user_mgmt.users WHERE id BETWEEN 500 AND 509 OR id = 3")
    for u in list(plain):
        pass
    q(conn, "SELECT setval('user_mgmt.users_id_seq', (SELECT max(id) FROM user_mgmt.users) + 37)")
    left = {r[0] for r in q(conn, "SELECT username FROM user_mgmt.users")}
    return {u: p for u, p in plain.items() if u in left}


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
