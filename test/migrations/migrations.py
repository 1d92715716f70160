#!/usr/bin/python3
"""Migration suite of user_mgmt: upgrades, downgrades, refusals, dump/restore
and drift detection, for every version the installed scripts offer.

Run by test/suites/migrations.sh (PGHOST/PGPORT/PGUSER of a running cluster
where `make install` has put the extension).  Prints TAP; exits 1 on failure.

Versions are never hard-coded as "the latest": they come from
pg_available_extension_versions (cross-checked with the sql/user_mgmt--*.sql
files), ordered numerically; update paths come from
pg_extension_update_paths().  Version-specific rules (1.1's case-folded
usernames and deactivated accounts) are tested for every version that has
the feature, found by looking at the columns/indexes a fresh install has;
the login state and sessions are tested across the downgrade from the first
version whose fresh install has user_mgmt.login_state, respectively
user_mgmt.sessions.

"Same schema" means both: the catalog description of test/migrations/
describe_schema.sql, and the normalized `pg_dump --schema-only
--binary-upgrade` of schema user_mgmt (lib.schema_dump).

Set UM_MIG_KEEP=1 to keep the databases of a failing run for inspection.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

from lib import (DB, PG_BINDIR, Tap, check_schema, config_contents, connect, default_version,
                 describe, error_text, extversion, fill, has_function, has_table, history, history_steps,
                 installed_versions, make_hash_pool, q, run_test, schema_dump, script_versions,
                 seq_state, sql_error, steps, update_paths, user_columns, users_snapshot,
                 verify_all, vkey)


class Ref:
    """A fresh install of one version (no data): what that version looks like."""

    def __init__(self, version):
        self.version = version
        self.db = DB("ref_" + version.replace(".", "_"))
        self.db.keep_until_end = True
        self.db.q("CREATE EXTENSION user_mgmt VERSION %s", (version,))
        self.desc = describe(self.db.conn)
        self.dump = schema_dump(self.db.name)
        self.history = history_steps(history(self.db.conn))
        self.columns = user_columns(self.db.conn)


VERSIONS = []   # ascending
LATEST = None
REFS = {}       # version -> Ref
PATHS = {}      # (source, target) -> [versions] or None
POOL = []       # [(plaintext, hash)]


def older():
    return [x for x in VERSIONS if vkey(x) < vkey(LATEST)]


# --------------------------------------------------------------------------
# Shared assertions
# --------------------------------------------------------------------------

def assert_schema_is(tap, db, version, what):
    """The database's schema is exactly a fresh install of `version`."""
    ref = REFS[version]
    tap.eq(extversion(db.conn), version, "%s: extversion is %s" % (what, version))
    tap.eq(describe(db.conn), ref.desc,
           "%s: catalog description equals a fresh install of %s" % (what, version))
    tap.eq(schema_dump(db.name), ref.dump,
           "%s: normalized pg_dump --schema-only equals a fresh install of %s" % (what, version))
    rows = check_schema(db.conn)
    if rows is not None:
        tap.eq(rows, [], "%s: check_schema() is empty" % what)


def assert_rows_kept(tap, db, before, columns, seq, what):
    tap.eq(users_snapshot(db.conn, columns), before,
           "%s: every user row intact in the columns %s" % (what, ", ".join(columns)))
    tap.eq(seq_state(db.conn), seq, "%s: users_id_seq intact (last_value, is_called)" % what)


def assert_history(tap, db, before, direction, path, what):
    """schema_migrations = the rows from before + one row per step of path."""
    after = history(db.conn)
    want = history_steps(before) + [(b, a, direction) for a, b in steps(path)]
    tap.eq(history_steps(after), want,
           "%s: schema_migrations gained exactly one %s row per step %s"
           % (what, direction, " -> ".join(path)))
    tap.eq(after[:len(before)], before, "%s: earlier schema_migrations rows untouched" % what)
    new = after[len(before):]
    user = q(db.conn, "SELECT current_user::text")[0][0]
    tap.ok(all(r[4] and r[5] == user for r in new)
           and all(x[0] < y[0] for x, y in zip(after, after[1:])),
           "%s: new rows have a description, applied_by = current_user, increasing applied_at" % what,
           lambda: "\n".join(map(str, new)))
    if has_function(db.conn, "user_mgmt.migration_history()"):
        tap.eq(q(db.conn, "SELECT applied_at, version, previous_version, direction, description, "
                          "applied_by::text FROM user_mgmt.migration_history()"), after,
               "%s: migration_history() returns the catalog in order" % what)


# --------------------------------------------------------------------------
# 0. Setup: which versions exist, and what a fresh install of each is
# --------------------------------------------------------------------------

def setup(tap):
    global VERSIONS, LATEST, PATHS, POOL
    conn = connect("postgres")
    VERSIONS = installed_versions(conn)
    files = script_versions()
    tap.eq(VERSIONS, files, "installed versions (pg_available_extension_versions) are those of "
                            "sql/user_mgmt--*.sql (else: run make install)")
    if not VERSIONS:
        raise RuntimeError("extension user_mgmt is not installed")
    LATEST = VERSIONS[-1]
    PATHS = update_paths(conn)
    conn.close()
    tap.diag("versions: %s; latest: %s" % (", ".join(VERSIONS), LATEST))
    for v in VERSIONS:
        REFS[v] = Ref(v)
        tap.eq(REFS[v].history[-1][0], v, "fresh install of %s records version %s in schema_migrations" % (v, v))
    POOL[:] = make_hash_pool(REFS[LATEST].db.conn)
    tap.eq(check_schema(REFS[LATEST].db.conn), [], "check_schema() is empty on a fresh install of %s" % LATEST)


# --------------------------------------------------------------------------
# 1. Upgrade equivalence.  For every older version V: a database created at
#    V and full of data, updated to the latest, has exactly the schema of a
#    fresh install of the latest, keeps every value V had, keeps its
#    sequence, and records one upgrade row per step.
# --------------------------------------------------------------------------

DATA_SHAPE = """
    SELECT count(*) >= 1000,
           count(DISTINCT role) = cardinality(enum_range(NULL::user_mgmt.role)),
           count(DISTINCT left(hashed_password, 4)),
           max(char_length(username)), max(char_length(username)) FILTER (WHERE username ~ '^[А-Яа-яЁё]+$'),
           max(char_length(full_name))
    FROM user_mgmt.users"""


def test_upgrade(tap, v):
    what = "upgrade %s -> %s" % (v, LATEST)
    db = DB("up_" + v.replace(".", "_"))
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (v,))
    fill(db.conn, POOL)
    columns = user_columns(db.conn)
    before, seq, hist = users_snapshot(db.conn, columns), seq_state(db.conn), history(db.conn)
    tap.eq(db.q(DATA_SHAPE)[0], (True, True, 3, 20, 20, 40),
           "%s: test data: >= 1000 users, every role, $2a$/$2b$/$2y$, 20-char usernames (ASCII and "
           "Cyrillic), 40-char full names" % what)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (LATEST,))
    assert_schema_is(tap, db, LATEST, what)
    assert_rows_kept(tap, db, before, columns, seq, what)
    assert_history(tap, db, hist, "upgrade", PATHS[(v, LATEST)], what)
    new_cols = [c for c in REFS[LATEST].columns if c not in columns]
    if {"is_active", "failed_login_count", "password_changed_at"} <= set(new_cols):
        # 1.1's rule for rows from before: active, no failures, password date unknown
        bad = db.one("""SELECT count(*) FROM user_mgmt.users WHERE NOT is_active OR failed_login_count <> 0
                        OR password_changed_at IS NOT NULL OR created_at IS NULL OR updated_at IS NULL""")
        tap.eq(bad, 0, "%s: pre-existing users are active, 0 failed logins, password_changed_at NULL" % what)
        db.q("UPDATE user_mgmt.users SET hashed_password = hashed_password || '' WHERE id = 1")
        db.q("UPDATE user_mgmt.users SET hashed_password = %s WHERE id = 2", (POOL[0][1],))
        got = db.q("SELECT id, password_changed_at IS NOT NULL FROM user_mgmt.users WHERE id IN (1, 2) ORDER BY id")
        tap.eq(got, [(1, False), (2, True)],
               "%s: the trigger sets password_changed_at on a pre-existing row only when the hash changes" % what)


# --------------------------------------------------------------------------
# 2. Downgrade equivalence.  From a filled fresh install of the latest, each
#    older V directly, and the whole chain down step by step: the schema is
#    exactly a fresh V, V's columns keep their values, one downgrade row per
#    step; then back up to the latest (round trip) with the same checks.
# --------------------------------------------------------------------------

def test_downgrade(tap, v):
    what = "downgrade %s -> %s" % (LATEST, v)
    db = DB("down_" + v.replace(".", "_"))
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (LATEST,))
    fill(db.conn, POOL)
    cols_v = REFS[v].columns
    before, seq, hist = users_snapshot(db.conn, cols_v), seq_state(db.conn), history(db.conn)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (v,))
    assert_schema_is(tap, db, v, what)
    assert_rows_kept(tap, db, before, cols_v, seq, what)
    assert_history(tap, db, hist, "downgrade", PATHS[(LATEST, v)], what)

    what = "round trip %s -> %s -> %s" % (LATEST, v, LATEST)
    hist = history(db.conn)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (LATEST,))
    assert_schema_is(tap, db, LATEST, what)
    assert_rows_kept(tap, db, before, cols_v, seq, what)
    assert_history(tap, db, hist, "upgrade", PATHS[(v, LATEST)], what)


def test_downgrade_chain(tap):
    chain = list(reversed(VERSIONS))
    db = DB("down_chain")
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (LATEST,))
    fill(db.conn, POOL)
    seq = seq_state(db.conn)
    oldest_cols = REFS[VERSIONS[0]].columns
    first = users_snapshot(db.conn, oldest_cols)
    for prev, v in steps(chain):
        what = "chain step %s -> %s" % (prev, v)
        before, hist = users_snapshot(db.conn, REFS[v].columns), history(db.conn)
        db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (v,))
        assert_schema_is(tap, db, v, what)
        assert_rows_kept(tap, db, before, REFS[v].columns, seq, what)
        assert_history(tap, db, hist, "downgrade", [prev, v], what)
    what = "chain %s back up to %s" % (chain[-1], LATEST)
    hist = history(db.conn)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (LATEST,))
    assert_schema_is(tap, db, LATEST, what)
    assert_rows_kept(tap, db, first, oldest_cols, seq, what)
    assert_history(tap, db, hist, "upgrade", PATHS[(chain[-1], LATEST)], what)


# --------------------------------------------------------------------------
# 3. Two ways to install the latest: CREATE EXTENSION user_mgmt (the default
#    version, which must be the latest) and CREATE EXTENSION ... VERSION of
#    the oldest + ALTER EXTENSION UPDATE give the same schema and history.
# --------------------------------------------------------------------------

def test_fresh_install_ways(tap):
    tap.eq(default_version(REFS[LATEST].db.conn), LATEST,
           "user_mgmt.control's default_version is the latest version (what pg_restore installs)")
    a = DB("fresh_default")
    a.q("CREATE EXTENSION user_mgmt")
    b = DB("fresh_stepwise")
    b.q("CREATE EXTENSION user_mgmt VERSION %s", (VERSIONS[0],))
    b.q("ALTER EXTENSION user_mgmt UPDATE")
    for db, what in ((a, "CREATE EXTENSION user_mgmt"),
                     (b, "CREATE EXTENSION user_mgmt VERSION '%s' + UPDATE" % VERSIONS[0])):
        assert_schema_is(tap, db, LATEST, what)
    tap.eq(describe(a.conn), describe(b.conn), "both ways of installing %s: identical catalog descriptions" % LATEST)
    tap.eq(schema_dump(a.name), schema_dump(b.name), "both ways of installing %s: identical normalized dumps" % LATEST)
    tap.eq(history_steps(history(a.conn)), history_steps(history(b.conn)),
           "both ways of installing %s: the same schema_migrations steps" % LATEST)


# --------------------------------------------------------------------------
# 4. Refusals change nothing.
#    Upgrade: usernames colliding under case folding ('Admin'/'admin',
#    'Иван'/'иван') make every update to a version with case-insensitive
#    usernames fail with 23505 naming exactly the colliding names.
#    Downgrade: an inactive account makes every update to a version without
#    is_active fail with 55000 naming it.  Afterwards: same version, same
#    schema (description and dump), same rows, same history.
# --------------------------------------------------------------------------

def state(db):
    columns = user_columns(db.conn)
    return (extversion(db.conn), describe(db.conn), schema_dump(db.name),
            users_snapshot(db.conn, columns), seq_state(db.conn), history(db.conn))


def assert_unchanged(tap, db, before, what):
    after = state(db)
    names = ["extversion", "catalog description", "normalized dump", "user rows", "sequence",
             "schema_migrations"]
    for name, b, a in zip(names, before, after):
        tap.eq(a, b, "%s: %s unchanged" % (what, name))


def quoted(name, text):
    return ("'%s'" % name) in text or ('"%s"' % name) in text


def case_insensitive(version):
    return any(r[0] == "index" and "lower(" in r[2] and "username" in r[2] for r in REFS[version].desc)


def test_refused_upgrade(tap):
    base = VERSIONS[0]
    targets = [v for v in VERSIONS if vkey(v) > vkey(base) and case_insensitive(v)]
    if case_insensitive(base) or not targets:
        tap.ok(True, "refused upgrade: # SKIP no version introduces case-insensitive usernames")
        return
    db = DB("refuse_up")
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (base,))
    fill(db.conn, POOL, n=100)
    colliding = ["Admin", "admin", "Иван", "иван"]
    for name in colliding:
        db.q("INSERT INTO user_mgmt.users (username, hashed_password, full_name) VALUES (%s, %s, 'X')",
             (name, POOL[0][1]))
    before = state(db)
    for target in targets + [None]:
        what = "refused upgrade %s -> %s" % (base, target or "default (latest)")
        stmt = ("ALTER EXTENSION user_mgmt UPDATE TO '%s'" % target) if target else "ALTER EXTENSION user_mgmt UPDATE"
        err = sql_error(db.conn, stmt)
        tap.ok(err is not None and err.pgcode == "23505", "%s: fails with SQLSTATE 23505" % what,
               lambda: "got: %s %s" % (err and err.pgcode, err))
        text = error_text(err) if err is not None else ""
        tap.ok(all(quoted(n, text) for n in colliding),
               "%s: the error names 'Admin', 'admin', 'Иван' and 'иван'" % what, text)
        tap.ok(not any(quoted(n, text) for n in ("user_0001", "пользователь0004", "ЕкатеринаАлександров")),
               "%s: the error names no user that does not collide" % what, text)
        assert_unchanged(tap, db, before, what)


def test_refused_downgrade(tap):
    sources = [v for v in VERSIONS if "is_active" in REFS[v].columns]
    if not sources:
        tap.ok(True, "refused downgrade: # SKIP no version has is_active")
        return
    for source in sources:
        targets = [v for v in VERSIONS if vkey(v) < vkey(source) and "is_active" not in REFS[v].columns]
        if not targets:
            continue
        db = DB("refuse_down_" + source.replace(".", "_"))
        db.q("CREATE EXTENSION user_mgmt VERSION %s", (source,))
        fill(db.conn, POOL, n=100)
        db.q("UPDATE user_mgmt.users SET is_active = false WHERE username = 'пользователь0004'")
        before = state(db)
        for target in targets:
            what = "refused downgrade %s -> %s" % (source, target)
            err = sql_error(db.conn, "ALTER EXTENSION user_mgmt UPDATE TO '%s'" % target)
            tap.ok(err is not None and err.pgcode == "55000", "%s: fails with SQLSTATE 55000" % what,
                   lambda: "got: %s %s" % (err and err.pgcode, err))
            text = error_text(err) if err is not None else ""
            tap.ok(quoted("пользователь0004", text) and not quoted("user_0001", text),
                   "%s: the error names the inactive user and no other" % what, text)
            assert_unchanged(tap, db, before, what)
            rows = check_schema(db.conn)
            if rows is not None:
                tap.eq(rows, [], "%s: check_schema() still empty" % what)


# --------------------------------------------------------------------------
# 5. Dump and restore.  A database at the latest version, with data and a
#    history of upgrade, downgrade, upgrade again, survives pg_dump -Fc +
#    createdb + pg_restore: every user (all columns), the sequence (the next
#    id continues), every catalog row exactly once, followed by exactly the
#    rows the restore's own CREATE EXTENSION writes; every password still
#    verifies; the schema is clean.
# --------------------------------------------------------------------------

def test_dump_restore(tap):
    base = VERSIONS[0]
    src = DB("dump_src")
    src.q("CREATE EXTENSION user_mgmt VERSION %s", (base,))
    plain = fill(src.conn, POOL)
    src.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (LATEST,))
    src.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (base,))
    src.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (LATEST,))
    # some users written at the latest version, with its columns set
    fill2 = {("новый_%d" % i): POOL[i % len(POOL)] for i in range(5)}
    for name, (pw, h) in fill2.items():
        src.q("INSERT INTO user_mgmt.users (username, hashed_password, role, full_name) "
              "VALUES (%s, %s, (enum_range(NULL::user_mgmt.role))[2], 'Новый Пользователь')", (name, h))
        plain[name] = pw
    if has_table(src.conn, "user_mgmt.login_state"):
        # 1.3+: the login state is the writer's table; the users copy is its
        src.q("INSERT INTO user_mgmt.login_state (user_id, confirmed, erased, locked_until, last_login_at) "
              "SELECT id, 3 + id % 2, id % 2, '2031-01-01+00', '2024-02-29 23:59:59.999999+00' "
              "FROM user_mgmt.users WHERE id % 7 = 0 "
              "ON CONFLICT (user_id) DO UPDATE SET confirmed = excluded.confirmed, erased = excluded.erased, "
              "locked_until = excluded.locked_until, last_login_at = excluded.last_login_at")
        src.q("UPDATE user_mgmt.users SET last_login_at = '2024-02-29 23:59:59.999999+00' WHERE id % 7 = 0")
    elif "last_login_at" in user_columns(src.conn):
        src.q("UPDATE user_mgmt.users SET last_login_at = '2024-02-29 23:59:59.999999+00', "
              "failed_login_count = 3, locked_until = '2031-01-01+00' WHERE id % 7 = 0")
    columns = user_columns(src.conn)
    before, seq, hist = users_snapshot(src.conn, columns), seq_state(src.conn), history(src.conn)
    # a token issued before the dump (versions with tokens): the keys must come
    # back (and, with sessions, the session it opens: before the snapshot)
    token = None
    if has_function(src.conn, "user_mgmt.issue_token(integer)"):
        token = src.one("SELECT user_mgmt.issue_token(min(id)) FROM user_mgmt.users")
    config_before = config_contents(src.conn)
    tap.ok([h[3] for h in hist].count("downgrade") >= 1 and [h[3] for h in hist].count("upgrade") >= 2,
           "dump/restore: source history has upgrade, downgrade, upgrade")
    src.close()

    dst = DB("dump_dst", create=False)
    with tempfile.TemporaryDirectory(prefix="um_mig_") as tmp:
        archive = os.path.join(tmp, "db.dump")
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_dump"), "-Fc", "-f", archive, "-d", src.name],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0, "dump/restore: pg_dump -Fc succeeds", r.stderr)
        r = subprocess.run([os.path.join(PG_BINDIR, "createdb"), dst.name], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "dump/restore: createdb succeeds", r.stderr)
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_restore"), "--exit-on-error", "-d", dst.name, archive],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0 and r.stderr == "", "dump/restore: pg_restore succeeds without errors or warnings",
               r.stderr)
    what = "dump/restore"
    assert_schema_is(tap, dst, LATEST, what)
    tap.eq(users_snapshot(dst.conn, columns), before, "%s: every user row, all columns, intact" % what)
    tap.eq(seq_state(dst.conn), seq, "%s: users_id_seq intact (last_value, is_called)" % what)
    config_after = config_contents(dst.conn)
    # any other configuration table (extconfig) of the version: no row lost or duplicated
    tap.eq(sorted(config_after), sorted(config_before), "%s: the same configuration relations (extconfig)" % what)
    for rel in sorted(set(config_before) & set(config_after)):
        b, a = config_before[rel], config_after[rel]
        if rel in ("user_mgmt.schema_migrations", "user_mgmt.users", "user_mgmt.users_id_seq"):
            continue  # checked precisely above and below
        if isinstance(b, tuple):
            tap.eq(a, b, "%s: sequence %s restored exactly" % (what, rel))
            continue
        rest = list(a)
        lost = []
        for row in b:
            if row in rest:
                rest.remove(row)
            else:
                lost.append(row)
        tap.eq(lost, [], "%s: every row of %s is back (none lost, none changed)" % (what, rel))
        tap.ok(not any(a.count(r) > b.count(r) for r in set(b)),
               "%s: no row of %s duplicated" % (what, rel))
        if rest:
            tap.diag("%s: %d rows of %s were added by the restore itself, e.g. %s" % (what, len(rest), rel, rest[0]))

    want_id = seq[0] + 1 if seq[1] else seq[0]
    new_id = dst.one("INSERT INTO user_mgmt.users (username, hashed_password, full_name) "
                     "VALUES ('after_restore', %s, 'After Restore') RETURNING id", (POOL[0][1],))
    tap.eq(new_id, want_id, "%s: a new user gets the next id of the original sequence" % what)
    dst.q("DELETE FROM user_mgmt.users WHERE username = 'after_restore'")

    after = history(dst.conn)
    tap.eq(after[:len(hist)], hist, "%s: every schema_migrations row from before is back, in order, unchanged" % what)
    tap.eq(len({r[0] for r in after}), len(after), "%s: no schema_migrations row duplicated" % what)
    tap.eq(history_steps(after[len(hist):]), REFS[default_version(dst.conn)].history,
           "%s: followed by exactly the rows of the restore's own CREATE EXTENSION" % what)
    tap.ok(all(r[0] > hist[-1][0] for r in after[len(hist):]),
           "%s: the restore's own rows come after the dumped ones" % what)
    if token is not None:
        claims = dst.one("SELECT user_mgmt.verify_token(%s)::text", (token,))
        tap.ok(claims is not None, "%s: a token issued before the dump verifies after the restore" % what, claims)
    bad = verify_all(dst.conn, plain)
    tap.eq(bad, [], "%s: verify_password accepts the password of each of the %d users" % (what, len(plain)))
    rejected = dst.one("SELECT count(*) FROM user_mgmt.users WHERE user_mgmt.verify_password('wrong', hashed_password)")
    tap.eq(rejected, 0, "%s: verify_password rejects a wrong password for every user" % what)


# --------------------------------------------------------------------------
# 5b. Login state across a downgrade (versions with user_mgmt.login_state):
#     what real logins recorded (counts, locks, last logins, checks still
#     in flight) lands in the users columns of the version below, and comes
#     back from them on the way up; the audit trail, which the older version
#     has no place for, is dropped as the README says.
# --------------------------------------------------------------------------

ACCOUNT_STATE = """SELECT id, failed_login_count, locked_until, last_login_at
                   FROM user_mgmt.accounts ORDER BY id"""


def first_version_with_table(name):
    """The oldest version whose fresh install has the table `name`, and the
    version below it; (None, None) when no version, or the oldest, has it."""
    having = [v for v in VERSIONS if has_table(REFS[v].db.conn, name)]
    if not having or having[0] == VERSIONS[0]:
        return None, None
    first = having[0]
    return first, VERSIONS[VERSIONS.index(first) - 1]


def test_login_state_downgrade(tap):
    # the downgrade that drops the login state: from the first version that
    # has user_mgmt.login_state to the one below it
    top, below = first_version_with_table("user_mgmt.login_state")
    if top is None:
        tap.ok(True, "login state downgrade: # SKIP no version introduces user_mgmt.login_state")
        return
    what = "login state %s -> %s -> %s" % (top, below, top)
    db = DB("login_state")
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (top,))
    db.q("SET user_mgmt.bcrypt_cost = 4")
    ids = [db.one("SELECT user_mgmt.create_user(%s, 'right password', 'Login State')", ("ls_%d" % i,))
           for i in range(4)]
    db.q("SELECT user_mgmt.authenticate('ls_0', 'right password')")            # a login
    db.q("SELECT user_mgmt.authenticate('ls_1', 'wrong password')")            # one failure
    for _ in range(5):                                                          # a lockout
        db.q("SELECT user_mgmt.authenticate('ls_2', 'wrong password')")
    # a check still in flight when the downgrade comes: it counts as a failure
    db.q("INSERT INTO user_mgmt.login_state (user_id, pending) VALUES (%s, 1) "
         "ON CONFLICT (user_id) DO UPDATE SET pending = 1", (ids[3],))
    state = db.q(ACCOUNT_STATE)
    tap.eq([(r[1], r[2] is not None, r[3] is not None) for r in state],
           [(0, False, True), (1, False, False), (5, True, False), (0, False, False)],
           "%s: the logins made a login, a failure and a lockout" % what)
    tap.ok(db.one("SELECT count(*) FROM user_mgmt.auth_events") > 0, "%s: the trail has events" % what)

    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (below,))
    assert_schema_is(tap, db, below, what + " (down)")
    got = db.q("SELECT id, failed_login_count, locked_until, last_login_at FROM user_mgmt.users ORDER BY id")
    want = [r if r[0] != ids[3] else (r[0], 1, r[2], r[3]) for r in state]
    tap.eq(got, want, "%s: users keep every count, lock and last login (the check in flight as a failure)"
           % what)
    tap.eq(db.one("SELECT to_regclass('user_mgmt.auth_events') IS NULL"), True,
           "%s: the audit trail is dropped on the way down" % what)

    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (top,))
    assert_schema_is(tap, db, top, what + " (up)")
    tap.eq(db.q(ACCOUNT_STATE), want, "%s: back up, the accounts show the same state" % what)
    db.q("SET user_mgmt.bcrypt_cost = 4")
    tap.eq(db.one("SELECT user_mgmt.authenticate('ls_2', 'right password') IS NULL"), True,
           "%s: the lockout still holds after the round trip" % what)
    tap.ok(db.one("SELECT (user_mgmt.authenticate('ls_1', 'right password')).id") == ids[1],
           "%s: an unlocked account logs in after the round trip" % what)
    db.q("SELECT user_mgmt.stop_login_writer()")



# --------------------------------------------------------------------------
# 5c. Sessions across the upgrade that introduces them and the downgrade
#     that drops them (the first version whose fresh install has the table
#     user_mgmt.sessions, and the one below it).  Below -> top -> below
#     keeps every user row; tokens of the version below carry no session
#     and stop verifying on the way up; on the way down the sessions, the
#     refresh tokens, users.session_epoch and the session events of the
#     trail go, and every signing key is retired for a new one, so that no
#     token of the top version (which may have been logged out) verifies
#     again.  Then a dump and restore at the latest version (when it has
#     sessions) keeps live sessions live and revoked ones revoked.
# --------------------------------------------------------------------------

SESSION_EVENTS = ("session_revoked", "refresh_token_reused")
SESSION_PW = "right password"


def token_error(db, query, args):
    """(SQLSTATE, primary message) of a statement that should fail, or
    (None, its result)."""
    err = sql_error(db.conn, query, args)
    if err is None:
        return None, db.one(query, args)
    return err.pgcode, err.diag.message_primary


def sign_in(db, username, password=SESSION_PW):
    """sign_in's row as a dict."""
    row = db.q("SELECT access_token, refresh_token, session_id::text "
               "FROM user_mgmt.sign_in(%s, %s, 'migration suite', '192.0.2.1')", (username, password))[0]
    return {"access": row[0], "refresh": row[1], "sid": row[2]}


def refresh(db, refresh_token):
    row = db.q("SELECT access_token, refresh_token, session_id::text FROM user_mgmt.refresh(%s)",
               (refresh_token,))[0]
    return {"access": row[0], "refresh": row[1], "sid": row[2]}


def jwt_part(token, i):
    """Part i of a compact JWS (0 the header, 1 the claims), decoded, unverified."""
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def keys(db):
    """{kid: retired?} of every signing key."""
    return {k: r for k, r in db.q("SELECT kid, retired_at IS NOT NULL FROM user_mgmt.signing_keys")}


def trail(db, where="true"):
    return db.q("SELECT id, occurred_at, event, user_id, username, detail, client_addr::text, "
                "application_name FROM user_mgmt.auth_events WHERE " + where + " ORDER BY id")


def test_sessions_round_trip(tap):
    top, below = first_version_with_table("user_mgmt.sessions")
    if top is None:
        tap.ok(True, "sessions round trip: # SKIP no version introduces user_mgmt.sessions")
        return
    what = "sessions %s -> %s -> %s" % (below, top, below)
    db = DB("sessions_trip")
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (below,))
    plain = fill(db.conn, POOL, n=200)
    db.q("SET user_mgmt.bcrypt_cost = 4")
    ids = {name: db.one("SELECT user_mgmt.create_user(%s, %s, 'Session Trip')", (name, SESSION_PW))
           for name in ("st_alice", "st_bob", "st_carol", "st_dave")}
    # tokens of the version below, issued before the upgrade
    old_tokens = {"issue_token": db.one("SELECT user_mgmt.issue_token(%s)", (ids["st_alice"],)),
                  "login": db.one("SELECT user_mgmt.login('st_bob', %s)", (SESSION_PW,))}
    for how, tok in old_tokens.items():
        code, _ = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
        tap.eq(code, None, "%s: the %s token verifies at %s (control)" % (what, how, below))
    cols = user_columns(db.conn)
    seq = seq_state(db.conn)
    # the writer copies last_login_at into users a moment after a login
    tap.eq(db.one("SELECT user_mgmt.await_login_writer()"), True, "%s: the login writer is idle" % what)
    before_up = users_snapshot(db.conn, cols)

    # -- up ------------------------------------------------------------------
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (top,))
    assert_schema_is(tap, db, top, what + " (up)")
    assert_rows_kept(tap, db, before_up, cols, seq, what + " (up)")
    for how, tok in old_tokens.items():
        got = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
        tap.eq(got, ("28000", "token has no session"),
               "%s: the %s token issued at %s before the upgrade no longer verifies at %s"
               % (what, how, below, top))
        got = token_error(db, "SELECT user_mgmt.set_session_token(%s)", (tok,))
        tap.eq(got, ("28000", "token has no session"),
               "%s: nor does set_session_token accept it" % what)

    # -- sessions of every kind, ended in every way ----------------------------
    live = sign_in(db, "st_alice")
    used = sign_in(db, "st_alice")
    rotated = refresh(db, used["refresh"])
    reused = sign_in(db, "st_bob")
    refresh(db, reused["refresh"])
    got = token_error(db, "SELECT user_mgmt.refresh(%s)", (reused["refresh"],))
    tap.eq(got, ("28000", "refresh token has already been used"),
           "%s: a reused refresh token is detected at %s" % (what, top))
    out = sign_in(db, "st_bob")
    tap.eq(db.one("SELECT user_mgmt.logout(%s)", (out["access"],)), True, "%s: logout" % what)
    promoted = sign_in(db, "st_carol")
    db.q("SELECT user_mgmt.set_role(%s, 'ADMIN')", (ids["st_carol"],))
    deactivated = sign_in(db, "st_dave")
    db.q("SELECT user_mgmt.set_active(%s, false)", (ids["st_dave"],))
    new_tokens = {
        "sign_in": live["access"],
        "refresh": rotated["access"],
        "issue_token": db.one("SELECT user_mgmt.issue_token(%s)", (ids["st_alice"],)),
        "login": db.one("SELECT user_mgmt.login('st_carol', %s)", (SESSION_PW,)),
    }
    for how, tok in new_tokens.items():
        code, claims = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
        tap.ok(code is None and claims.get("sid"), "%s: the %s token verifies at %s, with a sid"
               % (what, how, top), claims)
    for how, tok in (("logged out", out["access"]), ("reused", reused["access"]),
                     ("role changed", promoted["access"]), ("deactivated", deactivated["access"])):
        got = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
        tap.eq(got[0], "28000", "%s: the token of a %s session is refused at %s (control)" % (what, how, top))
    tap.ok(db.one("SELECT count(*) FROM user_mgmt.sessions") >= 8
           and db.one("SELECT count(*) FROM user_mgmt.refresh_tokens") >= 6
           and db.one("SELECT count(*) FROM user_mgmt.auth_events WHERE event = ANY(%s)",
                      (list(SESSION_EVENTS),)) >= 3
           and db.one("SELECT count(*) FROM user_mgmt.users WHERE session_epoch > 0") == 2,
           "%s: at %s there are sessions, refresh tokens, session events and moved session epochs"
           % (what, top),
           lambda: repr(db.q("SELECT (SELECT count(*) FROM user_mgmt.sessions), "
                             "(SELECT count(*) FROM user_mgmt.refresh_tokens), "
                             "(SELECT count(*) FROM user_mgmt.auth_events WHERE event = ANY(%s)), "
                             "(SELECT count(*) FROM user_mgmt.users WHERE session_epoch > 0)",
                             (list(SESSION_EVENTS),))))

    # -- down ----------------------------------------------------------------
    tap.eq(db.one("SELECT user_mgmt.await_login_writer()"), True, "%s: the login writer is idle" % what)
    before_down = users_snapshot(db.conn, cols)
    keys_before = keys(db)
    other_events = trail(db, "event <> ALL('{%s}')" % ",".join(SESSION_EVENTS))
    hist = history(db.conn)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (below,))
    assert_schema_is(tap, db, below, what + " (down)")
    assert_rows_kept(tap, db, before_down, cols, seq, what + " (down)")
    assert_history(tap, db, hist, "downgrade", [top, below], what + " (down)")
    tap.eq(db.one("SELECT role::text || ' ' || is_active::text FROM user_mgmt.users WHERE id = %s",
                  (ids["st_carol"],)), "ADMIN true", "%s: a role set at %s is kept" % (what, top))
    tap.eq(db.one("SELECT is_active FROM user_mgmt.users WHERE id = %s", (ids["st_dave"],)), False,
           "%s: a deactivation made at %s is kept" % (what, top))
    tap.eq([has_table(db.conn, "user_mgmt.sessions"), has_table(db.conn, "user_mgmt.refresh_tokens"),
            "session_epoch" in user_columns(db.conn)], [False, False, False],
           "%s: sessions, refresh_tokens and users.session_epoch are gone" % what)
    tap.eq(trail(db), other_events,
           "%s: the trail keeps every other event unchanged and has no session event left" % what)
    keys_after = keys(db)
    new = [k for k in keys_after if k not in keys_before]
    tap.ok(all(keys_after.get(k) is True for k in keys_before),
           "%s: every signing key that existed at %s is retired (%d keys)" % (what, top, len(keys_before)),
           repr(keys_after))
    tap.ok(len(new) == 1 and keys_after[new[0]] is False
           and [k for k, retired in keys_after.items() if not retired] == new,
           "%s: exactly one new signing key was made, and it is the only active one" % what,
           repr(keys_after))
    for how, tok in new_tokens.items():
        got = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
        tap.eq(got[0], "28000", "%s: the %s token issued at %s no longer verifies at %s (%s)"
               % (what, how, top, below, got[1]))
    for how, tok in (("logged out", out["access"]), ("reused", reused["access"])):
        got = token_error(db, "SELECT user_mgmt.set_session_token(%s)", (tok,))
        tap.eq(got[0], "28000", "%s: the token of a session %s at %s does not come back to life at %s"
               % (what, how, top, below))
    tok = db.one("SELECT user_mgmt.login('st_alice', %s)", (SESSION_PW,))
    code, claims = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
    tap.ok(code is None and claims["sub"] == str(ids["st_alice"]) and jwt_part(tok, 0)["kid"] == new[0],
           "%s: a new login at %s gets a token of the new key that verifies" % (what, below), claims)
    sample = dict(list(plain.items())[:40])
    tap.eq(verify_all(db.conn, sample), [], "%s: passwords still verify (40 users)" % what)

    # -- and up again: nothing of the old sessions comes back ------------------
    tap.eq(db.one("SELECT user_mgmt.await_login_writer()"), True, "%s: the login writer is idle" % what)
    before_up = users_snapshot(db.conn, cols)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (top,))
    assert_schema_is(tap, db, top, what + " -> %s (up again)" % top)
    assert_rows_kept(tap, db, before_up, cols, seq, what + " -> %s (up again)" % top)
    tap.eq(db.q("SELECT count(*) FROM user_mgmt.sessions UNION ALL SELECT count(*) FROM user_mgmt.refresh_tokens"),
           [(0,), (0,)], "%s -> %s: no session or refresh token comes back" % (what, top))
    for how, tok in list(new_tokens.items()) + [("%s login" % below, tok)]:
        got = token_error(db, "SELECT user_mgmt.verify_token(%s)", (tok,))
        tap.eq(got[0], "28000", "%s -> %s: the %s token from before still does not verify" % (what, top, how))
    got = token_error(db, "SELECT user_mgmt.refresh(%s)", (live["refresh"],))
    tap.eq(got, ("28000", "invalid refresh token"),
           "%s -> %s: a refresh token from before the downgrade is unknown" % (what, top))
    fresh = sign_in(db, "st_alice")
    code, claims = token_error(db, "SELECT user_mgmt.verify_token(%s)", (fresh["access"],))
    tap.ok(code is None and claims["sid"] == fresh["sid"], "%s -> %s: a new sign_in works" % (what, top), claims)
    db.q("SELECT user_mgmt.stop_login_writer()")


def test_sessions_dump_restore(tap):
    if not has_table(REFS[LATEST].db.conn, "user_mgmt.sessions"):
        tap.ok(True, "sessions dump/restore: # SKIP %s has no sessions" % LATEST)
        return
    what = "sessions dump/restore at %s" % LATEST
    src = DB("sess_dump_src")
    src.q("CREATE EXTENSION user_mgmt VERSION %s", (LATEST,))
    src.q("SET user_mgmt.bcrypt_cost = 4")
    ids = {name: src.one("SELECT user_mgmt.create_user(%s, %s, 'Dump Restore')", (name, SESSION_PW))
           for name in ("sd_alice", "sd_bob", "sd_carol")}
    live = sign_in(src, "sd_alice")
    used = sign_in(src, "sd_alice")
    rotated = refresh(src, used["refresh"])           # used["refresh"] is used up
    out = sign_in(src, "sd_bob")
    src.q("SELECT user_mgmt.logout(%s)", (out["access"],))
    revoked = sign_in(src, "sd_bob")
    src.q("SELECT user_mgmt.revoke_session(%s)", (revoked["sid"],))
    before_pw = sign_in(src, "sd_carol")
    src.q("SELECT user_mgmt.set_password(%s, %s)", (ids["sd_carol"], SESSION_PW))
    after_pw = sign_in(src, "sd_carol")                # a session under the moved epoch
    issued = src.one("SELECT user_mgmt.issue_token(%s)", (ids["sd_alice"],))
    logged_in = src.one("SELECT user_mgmt.login('sd_bob', %s)", (SESSION_PW,))
    good = {"sign_in": live["access"], "refresh": rotated["access"], "issue_token": issued,
            "login": logged_in, "sign_in after a password change": after_pw["access"]}
    ended = {"logged out": out, "revoked by revoke_session": revoked, "ended by a password change": before_pw}
    for how, tok in good.items():
        tap.eq(token_error(src, "SELECT user_mgmt.verify_token(%s) ->> 'sid' IS NOT NULL", (tok,)),
               (None, True), "%s: before the dump, the %s token verifies (control)" % (what, how))
    for how, s in ended.items():
        tap.eq(token_error(src, "SELECT user_mgmt.verify_token(%s)", (s["access"],)),
               ("28000", "token's session has been revoked"),
               "%s: before the dump, the token of a session %s is refused (control)" % (what, how))
    rows = {t: sorted(r[0] for r in src.q("SELECT x::text FROM user_mgmt.%s AS x" % t))
            for t in ("sessions", "refresh_tokens")}
    epochs = src.q("SELECT id, session_epoch FROM user_mgmt.users ORDER BY id")
    src.q("SELECT user_mgmt.stop_login_writer()")
    src.close()

    dst = DB("sess_dump_dst", create=False)
    with tempfile.TemporaryDirectory(prefix="um_mig_") as tmp:
        archive = os.path.join(tmp, "db.dump")
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_dump"), "-Fc", "-f", archive, "-d", src.name],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0, "%s: pg_dump -Fc succeeds" % what, r.stderr)
        r = subprocess.run([os.path.join(PG_BINDIR, "createdb"), dst.name], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "%s: createdb succeeds" % what, r.stderr)
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_restore"), "--exit-on-error", "-d", dst.name, archive],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0 and r.stderr == "", "%s: pg_restore succeeds without errors or warnings" % what,
               r.stderr)
    assert_schema_is(tap, dst, LATEST, what)
    for t, want in rows.items():
        tap.eq(sorted(r[0] for r in dst.q("SELECT x::text FROM user_mgmt.%s AS x" % t)), want,
               "%s: every row of %s is back, unchanged (%d rows)" % (what, t, len(want)))
    tap.eq(dst.q("SELECT id, session_epoch FROM user_mgmt.users ORDER BY id"), epochs,
           "%s: users.session_epoch restored" % what)
    dst.q("SET user_mgmt.bcrypt_cost = 4")
    for how, tok in good.items():
        tap.eq(token_error(dst, "SELECT user_mgmt.verify_token(%s) ->> 'sid'", (tok,)),
               (None, jwt_part(tok, 1)["sid"]),
               "%s: the %s token issued before the dump verifies after the restore" % (what, how))
    for how, s in ended.items():
        tap.eq(token_error(dst, "SELECT user_mgmt.verify_token(%s)", (s["access"],)),
               ("28000", "token's session has been revoked"),
               "%s: the token of a session %s before the dump stays refused after the restore" % (what, how))
        tap.eq(token_error(dst, "SELECT user_mgmt.refresh(%s)", (s["refresh"],)),
               ("28000", "token's session has been revoked"),
               "%s: so does its refresh token" % what)
    # the restored refresh tokens work, once
    again = refresh(dst, live["refresh"])
    tap.eq(token_error(dst, "SELECT user_mgmt.verify_token(%s) ->> 'sid'", (again["access"],)),
           (None, live["sid"]), "%s: a refresh token issued before the dump refreshes after the restore" % what)
    tap.eq(token_error(dst, "SELECT user_mgmt.refresh(%s)", (used["refresh"],)),
           ("28000", "refresh token has already been used"),
           "%s: a refresh token used before the dump is detected as reused after the restore" % what)
    tap.eq(token_error(dst, "SELECT user_mgmt.verify_token(%s)", (rotated["access"],)),
           ("28000", "token's session has been revoked"),
           "%s: and that reuse revokes its session" % what)
    tap.eq(dst.one("SELECT user_mgmt.logout(%s)", (issued,)), True,
           "%s: logout of a token issued before the dump" % what)
    tap.eq(token_error(dst, "SELECT user_mgmt.verify_token(%s)", (issued,)),
           ("28000", "token's session has been revoked"), "%s: ends its session" % what)
    dst.q("SELECT user_mgmt.stop_login_writer()")



# --------------------------------------------------------------------------
# 5d. Key pairs (EdDSA, ES256) across the downgrade that drops them: the
#     first version whose user_mgmt.signing_keys has the column algorithm,
#     and the one below it.  Every downgrade from there is refused (55000,
#     naming exactly the active EdDSA and ES256 keys, made here or imported,
#     and changing nothing: schema, users, history, every column of every
#     key) while one of them is unretired; once an HS256 key signs and they
#     are retired it goes through: the key pairs are gone, every HS256 key
#     is kept as it was and so are its tokens and the users; up again, the
#     HS256 tokens still verify, the JWKS is empty and key pairs can be made
#     again.  Then a dump and restore at the latest version (when it has key
#     pairs) keeps every key, so that tokens of every algorithm issued
#     before the dump verify after the restore, retired keys stay retired,
#     and the JWKS and PEMs are the same.
# --------------------------------------------------------------------------

# RFC 8037 A.1's Ed25519 public key: a key another service signs with.
RFC8037_PEM = ("-----BEGIN PUBLIC KEY-----\n"
               "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
               "-----END PUBLIC KEY-----\n")


def has_column(conn, table, column):
    return q(conn, "SELECT count(*) > 0 FROM pg_catalog.pg_attribute WHERE attrelid = "
                   "pg_catalog.to_regclass(%s) AND attname = %s AND attnum > 0 AND NOT attisdropped",
             (table, column))[0][0]


def first_version_with_column(table, column):
    """Like first_version_with_table, for a column."""
    having = [v for v in VERSIONS if has_column(REFS[v].db.conn, table, column)]
    if not having or having[0] == VERSIONS[0]:
        return None, None
    first = having[0]
    return first, VERSIONS[VERSIONS.index(first) - 1]


def key_rows(db):
    """Every signing key, every column, as text."""
    return sorted(r[0] for r in db.q("SELECT k::text FROM user_mgmt.signing_keys AS k"))


def hs256_keys(db):
    """(kid, secret, created_at, retired_at) of the HS256 keys."""
    where = "algorithm = 'HS256'" if has_column(db.conn, "user_mgmt.signing_keys", "algorithm") else "true"
    return db.q("SELECT kid, encode(secret, 'hex'), created_at, retired_at FROM user_mgmt.signing_keys "
                "WHERE " + where + " ORDER BY kid")


def subject(db, token):
    """(None, sub) of a token that verifies, else (SQLSTATE, message)."""
    return token_error(db, "SELECT user_mgmt.verify_token(%s) ->> 'sub'", (token,))


def test_key_pairs_round_trip(tap):
    top, below = first_version_with_column("user_mgmt.signing_keys", "algorithm")
    if top is None:
        tap.ok(True, "key pairs round trip: # SKIP no version introduces signing_keys.algorithm")
        return
    what = "key pairs %s -> %s -> %s" % (top, below, top)
    db = DB("keys_trip")
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (top,))
    plain = fill(db.conn, POOL, n=100)
    db.q("SET user_mgmt.bcrypt_cost = 4")
    uid = db.one("SELECT user_mgmt.create_user('kp_alice', %s, 'Key Pairs')", (SESSION_PW,))
    hs0 = db.one("SELECT kid FROM user_mgmt.signing_keys WHERE retired_at IS NULL")
    tokens = {"HS256": db.one("SELECT user_mgmt.issue_token(%s)", (uid,))}
    ed = db.one("SELECT user_mgmt.rotate_signing_key('EdDSA')")
    tokens["EdDSA"] = db.one("SELECT user_mgmt.login('kp_alice', %s)", (SESSION_PW,))
    es = db.one("SELECT user_mgmt.rotate_signing_key('ES256')")
    tokens["ES256"] = sign_in(db, "kp_alice")["access"]
    db.q("SELECT user_mgmt.import_signing_key('partner-ed', 'EdDSA', %s)", (RFC8037_PEM,))
    tap.eq([(jwt_part(t, 0)["alg"], jwt_part(t, 0)["kid"]) for t in tokens.values()],
           [("HS256", hs0), ("EdDSA", ed), ("ES256", es)],
           "%s: at %s, tokens of each algorithm carry their key's kid (control)" % (what, top))
    for alg, tok in tokens.items():
        tap.eq(subject(db, tok), (None, str(uid)), "%s: the %s token verifies at %s (control)" % (what, alg, top))

    # -- refused while a key pair is active, whatever the target ---------------
    def refused(targets, named, not_named, stage):
        before = state(db)
        keys_before = key_rows(db)
        for target in targets:
            label = "%s: downgrade to %s %s" % (what, target, stage)
            err = sql_error(db.conn, "ALTER EXTENSION user_mgmt UPDATE TO '%s'" % target)
            tap.ok(err is not None and err.pgcode == "55000", "%s is refused with SQLSTATE 55000" % label,
                   lambda: "got: %s %s" % (err and err.pgcode, err))
            text = error_text(err) if err is not None else ""
            tap.ok(all(k in text for k in named) and not any(k in text for k in not_named),
                   "%s: the error names the active key pairs and no other key" % label, text)
            assert_unchanged(tap, db, before, label)
            tap.eq(key_rows(db), keys_before, "%s: every signing key unchanged, every column" % label)
        for alg, tok in tokens.items():
            tap.eq(subject(db, tok), (None, str(uid)),
                   "%s: after the refusals %s, the %s token still verifies" % (what, stage, alg))

    older_than_top = [v for v in VERSIONS if vkey(v) < vkey(top)]
    refused(older_than_top, [ed, es, "partner-ed"], [hs0],
            "with EdDSA, ES256 and imported keys active")
    hs1 = db.one("SELECT user_mgmt.rotate_signing_key('HS256')")
    tokens["HS256 (new key)"] = db.one("SELECT user_mgmt.issue_token(%s)", (uid,))
    db.q("SELECT user_mgmt.retire_signing_key(%s)", (ed,))
    db.q("SELECT user_mgmt.retire_signing_key('partner-ed')")
    tokens_down = {k: tokens.pop(k) for k in ("EdDSA",)}
    refused([below], [es], [ed, "partner-ed", hs0, hs1], "with the ES256 key alone active")

    # -- retired: down it goes ------------------------------------------------
    db.q("SELECT user_mgmt.retire_signing_key(%s)", (es,))
    tokens_down["ES256"] = tokens.pop("ES256")
    tap.eq(db.one("SELECT user_mgmt.await_login_writer()"), True, "%s: the login writer is idle" % what)
    cols = user_columns(db.conn)
    users, seq, hist = users_snapshot(db.conn, cols), seq_state(db.conn), history(db.conn)
    hs_keys = hs256_keys(db)
    tap.eq([k[0] for k in hs_keys], sorted([hs0, hs1]), "%s: two HS256 keys before the downgrade (control)" % what)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (below,))
    assert_schema_is(tap, db, below, what + " (down)")
    assert_rows_kept(tap, db, users, cols, seq, what + " (down)")
    assert_history(tap, db, hist, "downgrade", [top, below], what + " (down)")
    tap.eq(hs256_keys(db), hs_keys, "%s: every HS256 key is kept as it was (kid, secret, created, retired), "
                                    "and the EdDSA, ES256 and imported keys are gone" % what)
    for alg, tok in tokens.items():
        tap.eq(subject(db, tok), (None, str(uid)),
               "%s: the %s token issued at %s verifies at %s" % (what, alg, top, below))
    for alg, tok in tokens_down.items():
        tap.eq(subject(db, tok), ("28000", "token has an unknown key id"),
               "%s: the %s token, its key retired and deleted, does not verify at %s" % (what, alg, below))
    tok = db.one("SELECT user_mgmt.login('kp_alice', %s)", (SESSION_PW,))
    tap.ok(subject(db, tok) == (None, str(uid)) and jwt_part(tok, 0) == {"alg": "HS256", "typ": "JWT", "kid": hs1},
           "%s: a login at %s gets an HS256 token of the current key that verifies" % (what, below),
           lambda: repr((jwt_part(tok, 0), subject(db, tok))))
    tokens["HS256 (%s login)" % below] = tok
    tap.eq(verify_all(db.conn, dict(list(plain.items())[:40])), [], "%s: passwords still verify (40 users)" % what)

    # -- and up again ---------------------------------------------------------
    tap.eq(db.one("SELECT user_mgmt.await_login_writer()"), True, "%s: the login writer is idle" % what)
    users, hist = users_snapshot(db.conn, cols), history(db.conn)
    db.q("ALTER EXTENSION user_mgmt UPDATE TO %s", (top,))
    assert_schema_is(tap, db, top, what + " (up again)")
    assert_rows_kept(tap, db, users, cols, seq, what + " (up again)")
    assert_history(tap, db, hist, "upgrade", [below, top], what + " (up again)")
    tap.eq(db.q("SELECT kid, algorithm, public_key FROM user_mgmt.signing_keys ORDER BY kid"),
           [(k[0], "HS256", None) for k in hs_keys], "%s: the keys are the HS256 keys, without public key" % what)
    tap.eq(hs256_keys(db), hs_keys, "%s: unchanged (kid, secret, created, retired)" % what)
    for alg, tok in tokens.items():
        tap.eq(subject(db, tok), (None, str(uid)), "%s: the %s token verifies at %s again" % (what, alg, top))
    for alg, tok in tokens_down.items():
        tap.eq(subject(db, tok), ("28000", "token has an unknown key id"),
               "%s: the %s token still does not" % (what, alg))
    tap.eq(db.one("SELECT user_mgmt.jwks()"), {"keys": []}, "%s: the JWKS is empty" % what)
    ed2 = db.one("SELECT user_mgmt.rotate_signing_key('EdDSA')")
    tok = db.one("SELECT user_mgmt.issue_token(%s)", (uid,))
    tap.ok(jwt_part(tok, 0)["alg"] == "EdDSA" and subject(db, tok) == (None, str(uid))
           and [k["kid"] for k in db.one("SELECT user_mgmt.jwks()")["keys"]] == [ed2],
           "%s: a new EdDSA key signs tokens that verify, and is the one key of the JWKS" % what,
           lambda: repr(db.one("SELECT user_mgmt.jwks()")))
    db.q("SELECT user_mgmt.stop_login_writer()")


def test_key_pairs_dump_restore(tap):
    if not has_column(REFS[LATEST].db.conn, "user_mgmt.signing_keys", "algorithm"):
        tap.ok(True, "key pairs dump/restore: # SKIP %s has no key pairs" % LATEST)
        return
    what = "key pairs dump/restore at %s" % LATEST
    src = DB("keys_dump_src")
    src.q("CREATE EXTENSION user_mgmt VERSION %s", (LATEST,))
    src.q("SET user_mgmt.bcrypt_cost = 4")
    uid = src.one("SELECT user_mgmt.create_user('kd_alice', %s, 'Key Dump')", (SESSION_PW,))
    good = {"HS256": src.one("SELECT user_mgmt.issue_token(%s)", (uid,))}
    src.one("SELECT user_mgmt.rotate_signing_key('ES256')")
    good["ES256"] = src.one("SELECT user_mgmt.issue_token(%s)", (uid,))
    gone = src.one("SELECT user_mgmt.rotate_signing_key('EdDSA')")
    retired = src.one("SELECT user_mgmt.issue_token(%s)", (uid,))
    src.q("SELECT user_mgmt.retire_signing_key(%s)", (gone,))
    ed = src.one("SELECT user_mgmt.rotate_signing_key('EdDSA')")
    good["EdDSA (login)"] = src.one("SELECT user_mgmt.login('kd_alice', %s)", (SESSION_PW,))
    good["EdDSA (sign_in)"] = sign_in(src, "kd_alice")["access"]
    src.q("SELECT user_mgmt.import_signing_key('partner-ed', 'EdDSA', %s)", (RFC8037_PEM,))
    tap.eq(jwt_part(good["EdDSA (sign_in)"], 0), {"alg": "EdDSA", "typ": "JWT", "kid": ed},
           "%s: before the dump an EdDSA key signs (control)" % what)
    for how, tok in good.items():
        tap.eq(subject(src, tok), (None, str(uid)), "%s: before the dump, the %s token verifies (control)"
               % (what, how))
    tap.eq(subject(src, retired), ("28000", "token has an unknown key id"),
           "%s: before the dump, the token of a retired EdDSA key is refused (control)" % what)
    keys_before = key_rows(src)
    jwks = src.one("SELECT user_mgmt.jwks()")
    pems = src.q("SELECT kid, user_mgmt.public_key_pem(kid) FROM user_mgmt.signing_keys "
                 "WHERE retired_at IS NULL AND algorithm <> 'HS256' ORDER BY kid")
    private = src.one("SELECT user_mgmt.export_signing_key(%s)", (ed,))
    tap.eq(sorted(k["kid"] for k in jwks["keys"]), sorted(k for k, _ in pems if k != "partner-ed"),
           "%s: the JWKS has the ES256 and EdDSA keys made here (control)" % what)
    src.q("SELECT user_mgmt.stop_login_writer()")
    src.close()

    dst = DB("keys_dump_dst", create=False)
    with tempfile.TemporaryDirectory(prefix="um_mig_") as tmp:
        archive = os.path.join(tmp, "db.dump")
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_dump"), "-Fc", "-f", archive, "-d", src.name],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0, "%s: pg_dump -Fc succeeds" % what, r.stderr)
        r = subprocess.run([os.path.join(PG_BINDIR, "createdb"), dst.name], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "%s: createdb succeeds" % what, r.stderr)
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_restore"), "--exit-on-error", "-d", dst.name, archive],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0 and r.stderr == "", "%s: pg_restore succeeds without errors or warnings" % what,
               r.stderr)
    assert_schema_is(tap, dst, LATEST, what)
    keys_after = key_rows(dst)
    tap.eq([k for k in keys_before if k not in keys_after], [],
           "%s: every signing key is back, every column unchanged (%d keys)" % (what, len(keys_before)))
    added = [k for k in keys_after if k not in keys_before]
    if added:
        tap.diag("%s: signing keys added by the restore itself (kid, algorithm): %s" % (what, dst.q(
            "SELECT kid, algorithm FROM user_mgmt.signing_keys AS k WHERE k::text = ANY(%s)", (added,))))
    for how, tok in good.items():
        tap.eq(subject(dst, tok), (None, str(uid)), "%s: the %s token issued before the dump verifies after "
                                                    "the restore" % (what, how))
    tap.eq(subject(dst, retired), ("28000", "token has an unknown key id"),
           "%s: the token of a key retired before the dump stays refused" % what)
    tap.eq(dst.one("SELECT user_mgmt.jwks()"), jwks, "%s: the same JWKS" % what)
    tap.eq(dst.q("SELECT kid, user_mgmt.public_key_pem(kid) FROM user_mgmt.signing_keys "
                 "WHERE retired_at IS NULL AND algorithm <> 'HS256' ORDER BY kid"), pems,
           "%s: the same public keys (PEM), the imported one too" % what)
    tap.eq(dst.one("SELECT user_mgmt.export_signing_key(%s)", (ed,)), private,
           "%s: the EdDSA private key is the same" % what)
    dst.q("SET user_mgmt.bcrypt_cost = 4")
    tok = dst.one("SELECT user_mgmt.login('kd_alice', %s)", (SESSION_PW,))
    tap.eq(subject(dst, tok), (None, str(uid)), "%s: a login after the restore gets a token that verifies" % what)
    # The restore runs CREATE EXTENSION, which makes an HS256 key of its own,
    # newer than every restored key; its signs_since (-infinity) lets the
    # restored signer go on signing.
    tap.eq(jwt_part(tok, 0), {"alg": "EdDSA", "typ": "JWT", "kid": ed},
           "%s: after the restore, the EdDSA key that signed before the dump still signs" % what)
    dst.q("SELECT user_mgmt.stop_login_writer()")


# --------------------------------------------------------------------------
# 6. check_schema() reports drift.  Each manual change, in its own fresh
#    database at the latest version, gives at least one row, all about the
#    changed object, with problem/expected/found that make sense; the
#    independent catalog description sees the change too.
# --------------------------------------------------------------------------

ADDITION = object()  # an object of the application's: see test_drift

DRIFTS = [
    # (label, SQL, (object_type, object_name), problem, expected contains, found contains)
    # (Since 1.2 the view accounts and SQL-standard function bodies depend
    # on the users columns, so PostgreSQL itself refuses ALTER COLUMN TYPE
    # on them; nullability is the alteration left to make by hand.)
    ("column altered", "ALTER TABLE user_mgmt.users ALTER COLUMN last_login_at SET NOT NULL",
     ("column", "users.last_login_at"), "changed", "timestamp with time zone", "NOT NULL"),
    ("column added", "ALTER TABLE user_mgmt.users ADD COLUMN nickname text",
     ("column", "users.nickname"), ADDITION, None, "text"),
    ("index added", "CREATE INDEX app_full_name_idx ON user_mgmt.users (full_name)",
     ("index", "app_full_name_idx"), ADDITION, None, "full_name"),
    ("default changed", "ALTER TABLE user_mgmt.users ALTER COLUMN role SET DEFAULT 'ADMIN'",
     ("column", "users.role"), "changed", "'USER'", "'ADMIN'"),
    ("constraint dropped", "ALTER TABLE user_mgmt.users DROP CONSTRAINT users_full_name_not_blank",
     ("constraint", "users.users_full_name_not_blank"), "missing", "CHECK", None),
    ("index dropped", "DROP INDEX user_mgmt.users_username_lower_key",
     ("index", "users_username_lower_key"), "missing", "CREATE UNIQUE INDEX", None),
    ("trigger dropped", "DROP TRIGGER users_track_changes ON user_mgmt.users",
     ("trigger", "users.users_track_changes"), "missing", "CREATE TRIGGER", None),
    ("trigger disabled", "ALTER TABLE user_mgmt.users DISABLE TRIGGER users_track_changes",
     ("trigger", "users.users_track_changes"), "changed", "CREATE TRIGGER", "disabled"),
    ("enum value added", "ALTER TYPE user_mgmt.role ADD VALUE 'MANAGER'",
     ("enum", "role"), "changed", "ADMIN", "MANAGER"),
    ("function replaced", "CREATE OR REPLACE FUNCTION user_mgmt.role_labels() RETURNS text[] "
                          "LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp "
                          "RETURN ARRAY['Пользователь', 'Кассир', 'Админ']",
     ("function", "user_mgmt.role_labels()"), "changed", "md5", "md5"),
    ("table opened to PUBLIC", "GRANT SELECT ON user_mgmt.users TO PUBLIC",
     ("public privileges", "users"), "changed", "none", "SELECT"),
    ("function closed to PUBLIC", "REVOKE EXECUTE ON FUNCTION user_mgmt.verify_password(text, text) FROM PUBLIC",
     ("public privileges", "user_mgmt.verify_password(text,text)"), "changed", "EXECUTE", "none"),
    ("function removed from the extension", "ALTER EXTENSION user_mgmt DROP FUNCTION user_mgmt.role_labels()",
     ("extension member", "function user_mgmt.role_labels()"), "changed", "member", "not a member"),
]

def test_drift(tap, drift):
    label, stmt, obj, problem, exp_has, found_has = drift
    what = "check_schema() after %s" % label
    db = DB("drift_" + label.replace(" ", "_"))
    db.q("CREATE EXTENSION user_mgmt VERSION %s", (LATEST,))
    if problem is ADDITION:
        # since 1.5 the application's own objects are 'added', before 'unexpected'
        tells = db.one("SELECT pg_get_functiondef('user_mgmt.check_schema()'::regprocedure) "
                       "LIKE '%''added''%'")
        problem = "added" if tells else "unexpected"
    db.q(stmt)
    tap.ok(describe(db.conn) != REFS[LATEST].desc, "%s: the independent catalog description differs" % what)
    rows = check_schema(db.conn)
    tap.ok(rows, "%s: reports at least one row" % what)
    rows = rows or []
    tap.eq(sorted({(r[0], r[1]) for r in rows}), [obj], "%s: every row is about %s %s" % (what, obj[0], obj[1]))
    for r in rows:
        desc = "%s: problem '%s', expected %s, found %s" % (
            what, problem, "NULL" if exp_has is None else "~ " + exp_has,
            "NULL" if found_has is None else "~ " + found_has)
        good = (r[2] == problem
                and ((r[3] is None) if exp_has is None else (r[3] is not None and exp_has in r[3]))
                and ((r[4] is None) if found_has is None else (r[4] is not None and found_has in r[4]))
                and r[3] != r[4])
        tap.ok(good, desc, repr(r))


# --------------------------------------------------------------------------
# 7. Update paths: every pair of versions is connected; a path up only goes
#    up, one version at a time, and a path down only down (no path sneaks
#    through a downgrade because it is shorter).  pending_versions() agrees.
# --------------------------------------------------------------------------

def test_update_paths(tap):
    idx = {v: i for i, v in enumerate(VERSIONS)}
    bad_missing, bad_dir = [], []
    for s in VERSIONS:
        for t in VERSIONS:
            if s == t:
                continue
            path = PATHS.get((s, t))
            if path is None:
                bad_missing.append("%s -> %s" % (s, t))
                continue
            up = idx[t] > idx[s]
            want = VERSIONS[idx[s]:idx[t] + 1] if up else list(reversed(VERSIONS[idx[t]:idx[s] + 1]))
            if path != want:
                bad_dir.append("%s -> %s: %s (want %s)" % (s, t, "--".join(path), "--".join(want)))
    n = len(VERSIONS) * (len(VERSIONS) - 1)
    tap.ok(len(VERSIONS) >= 2, "at least two versions to migrate between")
    tap.eq(bad_missing, [], "all %d ordered pairs of versions are connected by an update path" % n)
    tap.eq(bad_dir, [], "every path up goes only up and every path down only down, one version at a time")
    for v in VERSIONS:
        conn = REFS[v].db.conn
        if not has_function(conn, "user_mgmt.pending_versions()"):
            continue
        want = [(t, "--".join(PATHS[(v, t)])) for t in VERSIONS if vkey(t) > vkey(v)]
        tap.eq(q(conn, "SELECT version, path FROM user_mgmt.pending_versions()"), want,
               "pending_versions() at %s lists the newer versions with their paths" % v)
        tap.eq(q(conn, "SELECT user_mgmt.current_version()")[0][0], v, "current_version() at %s" % v)


def main():
    tap = Tap()
    start = time.time()
    try:
        setup(tap)
    except Exception:  # noqa: BLE001
        tap.ok(False, "setup: reference installs of every version", traceback.format_exc())
        for db in list(DB.created):
            db.drop()
        tap.plan_end()
        return 1
    for v in older():
        run_test(tap, "upgrade %s" % v, test_upgrade, v)
    for v in older():
        run_test(tap, "downgrade %s" % v, test_downgrade, v)
    run_test(tap, "downgrade chain", test_downgrade_chain)
    run_test(tap, "fresh install", test_fresh_install_ways)
    run_test(tap, "refused upgrade", test_refused_upgrade)
    run_test(tap, "refused downgrade", test_refused_downgrade)
    run_test(tap, "dump/restore", test_dump_restore)
    if has_table(REFS[LATEST].db.conn, "user_mgmt.login_state"):
        run_test(tap, "login state downgrade", test_login_state_downgrade)
    run_test(tap, "sessions round trip", test_sessions_round_trip)
    run_test(tap, "sessions dump/restore", test_sessions_dump_restore)
    run_test(tap, "key pairs round trip", test_key_pairs_round_trip)
    run_test(tap, "key pairs dump/restore", test_key_pairs_dump_restore)
    if has_function(REFS[LATEST].db.conn, "user_mgmt.check_schema()"):
        for d in DRIFTS:
            run_test(tap, "drift %s" % d[0], test_drift, d)
    else:
        tap.ok(False, "check_schema() exists in the latest version %s" % LATEST)
    run_test(tap, "update paths", test_update_paths)
    for ref in REFS.values():
        ref.db.drop()
    tap.diag("migration suite: %d tests, %d failed, %.0fs" % (tap.n, tap.failed, time.time() - start))
    tap.plan_end()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
