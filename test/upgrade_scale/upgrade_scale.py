#!/usr/bin/python3
"""Upgrades at size: every ALTER EXTENSION user_mgmt UPDATE step, up and
down, on databases holding UM_UPGRADE_USERS users (default 100,000; 10^6
with UM_UPGRADE_USERS=1000000) and the side tables each version has, timed,
with the longest ACCESS EXCLUSIVE lock held on user_mgmt.users.

    /usr/bin/python3 test/upgrade_scale/upgrade_scale.py [--users N]
        [--smoke] [--poll | --no-poll] [--overhead] [--from VERSION ...]
        [--report FILE] [--json FILE] [--keep]

Needs PGHOST/PGPORT/PGUSER of a running PostgreSQL 15 cluster where the
extension is installed, as a superuser.  Creates and drops databases named
um_upgscale_*.  bash test/upgrade_scale/run.sh starts a throwaway cluster
for it; test/suites/upgrade_scale.sh runs the CI smoke (--smoke, 5,000
users): TAP, correctness only, no timing asserted.

The data.  For each version V, a database is made with
CREATE EXTENSION user_mgmt VERSION 'V' and filled as an application on V
would have filled it (COPY-speed INSERT ... SELECT, bcrypt hashes at cost 4
taken from a pool of 16 made by hash_password, since hashing N passwords
would take longer than everything else together):
  - users: N rows, 1/50 ADMIN, 1/10 CASHIER, Cyrillic full names; from 1.1
    their lifecycle columns (60% have logged in, 1% locked with 5 failures,
    4% with 1 to 4 failures, everyone active: 1.1 -> 1.0 refuses inactive
    accounts); from 1.4 a session epoch (1/7 moved once);
  - 1.2+: signing keys rotated twice, one retired; 1.5: EdDSA and ES256
    keys too, retired (1.5 -> 1.4 refuses unretired ones), HS256 signing;
  - 1.3+: login_state rows for every user with a state (60%), 1/100 of them
    one failure ahead of the users copy (the writer had not refreshed it);
    auth_events: 3 events per user over the last 81 days (1.4+: 1/10 of
    them session_revoked);
  - 1.4+: sessions: N (1/4 from login, the rest from sign_in with two
    refresh tokens each, one used; 1/5 revoked).
Then VACUUM (FREEZE, ANALYZE) and CHECKPOINT: the tables look like an
application's, not like a bulk load (hint bits set, statistics known).

The steps.  On the database made at V: V -> next (upgrade), and on a
FILE_COPY clone of it made before: V -> previous (downgrade), for the
latest version on a database made at it.  Plus the whole path from the
first to the latest version in ONE statement (ALTER EXTENSION user_mgmt
UPDATE), on a clone of the first version's database: its scripts run in
one transaction, so a lock taken by the first step is held to the end of
the last one.  Each step runs in a fresh connection, autocommit (the
ALTER's own transaction), after a CHECKPOINT.

What is measured per step:
  - wall: the ALTER EXTENSION statement as the client sees it (the script,
    its commit, one round trip);
  - lock: how long the step's transaction held ACCESS EXCLUSIVE on
    user_mgmt.users.  Method: event triggers on ddl_command_start and
    ddl_command_end (they fire for every DDL command inside an extension
    script, nested ones in DO blocks included) record clock_timestamp(),
    and at each command's end which user_mgmt relations the backend holds
    in AccessExclusiveLock (pg_locks, pid = pg_backend_pid()).  Locks are
    held to the end of the transaction, so the lock window runs from the
    start of the first command at whose end the lock shows, to the commit:
    the client reads clock_timestamp() right after the ALTER returns (same
    server clock).  Resolution: the window is overstated by at most the
    time from that command's start to its lock request (parse and name
    lookup, microseconds) plus one round trip after the commit (about
    0.1 ms); the figure is thus an upper bound within about 0.2 ms, not
    counting what the event triggers themselves add under the lock.  The
    trace also gives the duration of every DDL command and of the untraced
    statements between them (DML, SELECT, DO), which says what ran under
    the lock, and the same window for every other table or view of the
    schema that the step holds in ACCESS EXCLUSIVE (relations the step
    creates are left out: nobody else can see them).  The event triggers
    cost time of their own (a pg_locks read per command): --overhead runs
    each step on an empty database with and without them.
  - writes blocked: the same window for the first command after which the
    backend holds users in ShareLock or stronger (CREATE INDEX, CREATE
    TRIGGER, ...): writers wait from then on, readers only under ACCESS
    EXCLUSIVE;
  - cross-check (--poll, default outside --smoke): a second connection
    reads pg_locks for the ALTER's pid, users and AccessExclusiveLock about
    every millisecond; the longest run of samples that saw it is a lower
    bound of the window (resolution: one poll period, reported).  It would
    catch a lock taken by a statement no event trigger sees (LOCK TABLE).
  - rewrite: relfilenode of users, its indexes and the side tables before
    and after (a new relfilenode means the data was copied).
--from VERSION (repeatable) keeps only the steps from that version's
database (e.g. the 10^6 figures of the steps that matter).
Correctness, after each step: the extension's version, every user kept
(count and checksum of id, username, hash, role, full name), the account
state (accounts view, or the users columns at 1.1) where both versions
have it, login_state, auth_events (1.4 -> 1.3 drops the session events, by
design), sessions and refresh tokens where both versions have them, and
check_schema() empty.  Only these are asserted in --smoke; timings never.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import threading
import time
import traceback

import psycopg2
from psycopg2 import sql

PREFIX = "um_upgscale_"
EXT = "user_mgmt"
POOL_SIZE = 16


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def dbname(tag):
    return PREFIX + tag.replace(".", "_")


def connect(db, autocommit=True):
    conn = psycopg2.connect(dbname=db, application_name="um_upgrade_scale")
    conn.autocommit = autocommit
    return conn


def q(conn, query, args=None):
    with conn.cursor() as cur:
        cur.execute(query, args)
        if cur.description is None:
            return None
        row = cur.fetchone()
        return None if row is None else (row[0] if len(row) == 1 else row)


def qall(conn, query, args=None):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

class Out:
    """TAP lines in --smoke; plain progress otherwise."""

    def __init__(self, tap):
        self.tap = tap
        self.n = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).rstrip("\n").splitlines() or [""]:
            sys.stdout.write("# " + line + "\n")
        sys.stdout.flush()

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        if self.tap or not cond:
            sys.stdout.write("%s %d - %s\n" % ("ok" if cond else "not ok", self.n, desc))
            if not cond and detail:
                self.diag(detail() if callable(detail) else detail)
            sys.stdout.flush()
        return cond

    def end(self):
        if self.tap:
            sys.stdout.write("1..%d\n" % self.n)
            sys.stdout.flush()


# --------------------------------------------------------------------------
# databases
# --------------------------------------------------------------------------

def drop_db(admin, name):
    # The login writer never runs here (no login is made), but FORCE also
    # ends an autovacuum worker or a connection left by a failed step.
    q(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_db(admin, name, template="template0"):
    drop_db(admin, name)
    if template == "template0":
        q(admin, sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
          .format(sql.Identifier(name)))
    else:
        q(admin, sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY")
          .format(sql.Identifier(name), sql.Identifier(template)))


def leftover_dbs(admin):
    return [r[0] for r in qall(admin, "SELECT datname FROM pg_database WHERE datname LIKE %s",
                               (PREFIX + "%",))]


def versions(admin):
    vs = [r[0] for r in qall(admin, "SELECT version FROM pg_available_extension_versions "
                                    "WHERE name = %s", (EXT,))]
    vs.sort(key=vkey)
    return vs


# --------------------------------------------------------------------------
# filling a database as an application on that version would have
# --------------------------------------------------------------------------

def make_pool(conn):
    return [r[0] for r in qall(conn, "SELECT user_mgmt.hash_password('password number ' || i, 4) "
                                     "FROM generate_series(1, %s) AS i", (POOL_SIZE,))]


def fill(conn, version, n, pool):
    ge = lambda v: vkey(version) >= vkey(v)  # noqa: E731
    cols = ["id", "username", "hashed_password", "role", "full_name"]
    exprs = ["g", "'user' || g", "(%(pool)s::text[])[1 + g %% " + str(len(pool)) + "]",
             "(CASE WHEN g %% 50 = 0 THEN 'ADMIN' WHEN g %% 10 = 0 THEN 'CASHIER' "
             "ELSE 'USER' END)::user_mgmt.role",
             "'Пользователь номер ' || g"]
    if ge("1.1"):
        cols += ["created_at", "updated_at", "is_active", "last_login_at", "failed_login_count",
                 "locked_until", "password_changed_at"]
        exprs += ["t.created", "t.created + (g %% 60) * interval '1 minute'", "true",
                  "CASE WHEN g %% 5 < 3 THEN now() - (g %% 700) * interval '1 minute' END",
                  "CASE WHEN g %% 100 = 1 THEN 5 WHEN g %% 25 = 2 THEN 1 + g %% 4 ELSE 0 END",
                  "CASE WHEN g %% 100 = 1 THEN now() + interval '1 day' END",
                  "CASE WHEN g %% 3 = 0 THEN t.created END"]
    if ge("1.4"):
        cols += ["session_epoch"]
        exprs += ["CASE WHEN g %% 7 = 0 THEN 1 ELSE 0 END"]
    q(conn, "INSERT INTO user_mgmt.users (%s) SELECT %s FROM generate_series(1, %%(n)s) AS g, "
            "LATERAL (SELECT now() - (g %%%% 1000) * interval '1 hour' AS created) AS t"
      % (", ".join(cols), ", ".join(exprs)), {"n": n, "pool": pool})
    q(conn, "SELECT setval(pg_get_serial_sequence('user_mgmt.users', 'id'), %s)", (n,))

    if ge("1.2"):
        kids = [q(conn, "SELECT user_mgmt.rotate_signing_key()") for _ in range(2)]
        q(conn, "SELECT user_mgmt.retire_signing_key(%s)", (kids[0],))
    if ge("1.5"):
        for alg in ("EdDSA", "ES256"):
            kid = q(conn, "SELECT user_mgmt.rotate_signing_key(%s)", (alg,))
            q(conn, "SELECT user_mgmt.retire_signing_key(%s)", (kid,))
        q(conn, "SELECT user_mgmt.rotate_signing_key('HS256')")

    if ge("1.3"):
        # Every account with a state has its row; 1 in 100 of them one
        # failure ahead of the users copy (not refreshed yet by the writer).
        q(conn, """
            INSERT INTO user_mgmt.login_state
                (user_id, pending, confirmed, erased, locked_until, last_attempt_at, last_login_at)
            SELECT u.id, 0, u.failed_login_count + u.id % 3 + (u.id % 100 = 50)::int, u.id % 3,
                   u.locked_until, COALESCE(u.last_login_at, now() - interval '1 hour'), u.last_login_at
            FROM user_mgmt.users AS u
            WHERE u.failed_login_count > 0 OR u.locked_until IS NOT NULL
               OR u.last_login_at IS NOT NULL OR u.id % 100 = 50""")
        session_events = "WHEN 9 THEN 'session_revoked'" if ge("1.4") else ""
        q(conn, """
            INSERT INTO user_mgmt.auth_events
                (occurred_at, event, user_id, username, detail, client_addr, application_name)
            SELECT now() - ((3 * %(n)s - e)::float8 * 7000000 / (3 * %(n)s)) * interval '1 second',
                   x.event, x.uid, 'user' || x.uid,
                   CASE x.event WHEN 'login_failed' THEN 'wrong_password' WHEN 'user_created' THEN 'USER'
                                WHEN 'session_revoked' THEN 'logout' END,
                   ('10.' || e %% 250 || '.' || e / 250 %% 250 || '.' || e %% 7 + 1)::inet, 'web'
            FROM generate_series(1, 3 * %(n)s) AS e,
            LATERAL (SELECT 1 + e %% %(n)s AS uid,
                            CASE e %% 10 WHEN 0 THEN 'login_failed' WHEN 1 THEN 'password_changed'
                                        WHEN 2 THEN 'user_created' """ + session_events + """
                                        ELSE 'login_ok' END AS event) AS x""", {"n": n})

    if ge("1.4"):
        q(conn, """
            INSERT INTO user_mgmt.sessions (id, user_id, session_epoch, origin, created_at, refreshed_at,
                                            expires_at, revoked_at, revoke_reason, user_agent, client_addr)
            SELECT gen_random_uuid(), x.u, CASE WHEN x.u %% 7 = 0 THEN 1 ELSE 0 END,
                   CASE WHEN s %% 4 = 0 THEN 'login' ELSE 'sign_in' END,
                   x.c, x.c + (s %% 60) * interval '1 minute',
                   CASE WHEN s %% 4 = 0 THEN x.c + interval '30 minutes' ELSE x.c + interval '30 days' END,
                   CASE WHEN s %% 5 = 0 THEN x.c + interval '2 hours' END,
                   CASE WHEN s %% 5 = 0 THEN 'logout' END,
                   'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
                   '192.0.2.1'
            FROM generate_series(1, %(n)s) AS s,
            LATERAL (SELECT 1 + (s::bigint * 7919) %% %(n)s AS u,
                            now() - (s %% 720) * interval '1 hour' AS c) AS x""", {"n": n})
        q(conn, """
            INSERT INTO user_mgmt.refresh_tokens (token_hash, session_id, issued_at, used_at)
            SELECT sha256(convert_to(s.id::text || '/' || k, 'UTF8')), s.id,
                   s.created_at + (k - 1) * interval '1 minute',
                   CASE WHEN k = 1 THEN s.refreshed_at END
            FROM user_mgmt.sessions AS s, generate_series(1, 2) AS k
            WHERE s.origin = 'sign_in'""")
    q(conn, "VACUUM (FREEZE, ANALYZE)")


# --------------------------------------------------------------------------
# correctness: what must survive a step
# --------------------------------------------------------------------------

def has_rel(conn, name):
    return q(conn, "SELECT to_regclass(%s) IS NOT NULL", (name,))


def snapshot(conn, version):
    ge = lambda v: vkey(version) >= vkey(v)  # noqa: E731
    s = {"version": q(conn, "SELECT extversion FROM pg_extension WHERE extname = %s", (EXT,))}
    s["users"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', id, username, hashed_password, "
                         "role, full_name), ',' ORDER BY id)) FROM user_mgmt.users")
    account_cols = ("id, username, role, full_name, created_at, is_active, last_login_at, "
                    "failed_login_count, locked_until, password_changed_at")
    if ge("1.1"):
        source = "user_mgmt.accounts" if ge("1.2") else "user_mgmt.users"
        s["accounts"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', %s), ',' ORDER BY id)) "
                                "FROM %s" % (account_cols, source))
        s["locked"] = q(conn, "SELECT count(*) FROM %s WHERE locked_until > now()" % source)
    if ge("1.3"):
        s["login_state"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', user_id, pending, "
                                   "confirmed, erased, locked_until, last_attempt_at, last_login_at), ',' "
                                   "ORDER BY user_id)) FROM user_mgmt.login_state")
        s["auth_events_1.3"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', id, occurred_at, "
                                       "event, user_id, username, detail, client_addr, application_name), "
                                       "',' ORDER BY id)) FROM user_mgmt.auth_events WHERE event <> ALL "
                                       "(ARRAY['session_revoked', 'refresh_token_reused'])")
    if ge("1.4"):
        s["auth_events"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', id, occurred_at, event, "
                                   "user_id, detail), ',' ORDER BY id)) FROM user_mgmt.auth_events")
        s["sessions"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', id, user_id, session_epoch, "
                                "origin, created_at, refreshed_at, expires_at, revoked_at, revoke_reason), "
                                "',' ORDER BY id)) FROM user_mgmt.sessions")
        s["refresh_tokens"] = q(conn, "SELECT count(*), md5(string_agg(concat_ws('|', token_hash, "
                                      "session_id, issued_at, used_at), ',' ORDER BY token_hash)) "
                                      "FROM user_mgmt.refresh_tokens")
        s["epochs"] = q(conn, "SELECT md5(string_agg(id || ':' || session_epoch, ',' ORDER BY id)) "
                              "FROM user_mgmt.users")
    return s


def check_step(out, conn, label, a, b, before, n):
    after = snapshot(conn, b)
    bad = []
    if after["version"] != b:
        bad.append("version is %s, not %s" % (after["version"], b))
    if after["users"] != before["users"] or after["users"][0] != n:
        bad.append("users: %r before, %r after (want %d)" % (before["users"], after["users"], n))
    for key in ("accounts", "locked", "login_state", "auth_events_1.3", "auth_events",
                "sessions", "refresh_tokens", "epochs"):
        if key in before and key in after and before[key] != after[key]:
            bad.append("%s: %r before, %r after" % (key, before[key], after[key]))
    drift = []
    if vkey(b) >= vkey("1.1"):
        drift = qall(conn, "SELECT * FROM user_mgmt.check_schema()")
        if drift:
            bad.append("check_schema(): %r" % (drift[:10],))
    kept = [k for k in ("users", "accounts", "locked", "login_state", "auth_events_1.3", "auth_events",
                        "sessions", "refresh_tokens", "epochs") if k in before and k in after]
    out.ok(not bad, "%s: version %s, every user kept, %s equal, check_schema() %s"
           % (label, b, ", ".join(kept[1:]) or "nothing else to compare",
              "empty" if vkey(b) >= vkey("1.1") else "n/a at 1.0"),
           lambda: "\n".join(bad))
    return not bad


# --------------------------------------------------------------------------
# measurement
# --------------------------------------------------------------------------

TRACE_SQL = """
CREATE TABLE public.um_upgrade_trace (seq bigserial PRIMARY KEY, ev text NOT NULL, tag text,
                                      at timestamptz NOT NULL, held text[], users_modes text[]);
CREATE FUNCTION public.um_upgrade_trace_start() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO public.um_upgrade_trace (ev, tag, at) VALUES ('start', tg_tag, clock_timestamp());
END $$;
CREATE FUNCTION public.um_upgrade_trace_end() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO public.um_upgrade_trace (ev, tag, at, held, users_modes)
    SELECT 'end', tg_tag, clock_timestamp(),
           (SELECT array_agg(l.relation::text ORDER BY 1)
            FROM pg_locks AS l
            WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
              AND l.mode = 'AccessExclusiveLock'
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),
           (SELECT array_agg(l.mode ORDER BY 1)
            FROM pg_locks AS l
            WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
              AND l.relation = to_regclass('user_mgmt.users')
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()));
END $$;
CREATE EVENT TRIGGER um_upgrade_trace_start ON ddl_command_start
    EXECUTE FUNCTION public.um_upgrade_trace_start();
CREATE EVENT TRIGGER um_upgrade_trace_end ON ddl_command_end
    EXECUTE FUNCTION public.um_upgrade_trace_end();
"""

WRITE_BLOCKING = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

UNTRACE_SQL = """
DROP EVENT TRIGGER IF EXISTS um_upgrade_trace_start;
DROP EVENT TRIGGER IF EXISTS um_upgrade_trace_end;
DROP FUNCTION IF EXISTS public.um_upgrade_trace_start();
DROP FUNCTION IF EXISTS public.um_upgrade_trace_end();
DROP TABLE IF EXISTS public.um_upgrade_trace;
"""


class LockPoller(threading.Thread):
    """Samples pg_locks about every millisecond: is `pid` holding
    AccessExclusiveLock on relation `oid`?  Keeps the longest run of
    samples that said yes (first to last such sample)."""

    PERIOD = 0.001

    def __init__(self, db, pid, oid):
        super().__init__(daemon=True)
        self.conn = connect(db)
        self.pid, self.oid = pid, oid
        self.halt = threading.Event()
        self.samples = 0
        self.longest = 0.0
        self.runs = 0
        self.elapsed = 0.0
        self.error = None

    def run(self):
        since = last = None
        start = time.monotonic()
        try:
            with self.conn.cursor() as cur:
                while not self.halt.is_set():
                    cur.execute("SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND locktype = 'relation' "
                                "AND relation = %s AND mode = 'AccessExclusiveLock' AND granted)",
                                (self.pid, self.oid))
                    held = cur.fetchone()[0]
                    now = time.monotonic()
                    self.samples += 1
                    if held:
                        since = now if since is None else since
                        last = now
                    elif since is not None:
                        self.runs += 1
                        self.longest = max(self.longest, last - since)
                        since = None
                    self.halt.wait(self.PERIOD)  # the sampling period, not a wait for a condition
        except Exception as e:  # noqa: BLE001
            self.error = e
        if since is not None:
            self.runs += 1
            self.longest = max(self.longest, last - since)
        self.elapsed = time.monotonic() - start
        self.conn.close()

    def period_ms(self):
        return 1000.0 * self.elapsed / max(self.samples, 1)


def rel_files(conn):
    """relfilenode of every table and index of schema user_mgmt, by name."""
    return dict(qall(conn, "SELECT c.relname, c.relfilenode FROM pg_class AS c "
                           "WHERE c.relnamespace = 'user_mgmt'::regnamespace AND c.relkind IN ('r', 'i')"))


def rel_names(conn):
    """oid (as text) -> name of every relation of schema user_mgmt: the
    ones that exist before a step (a relation the step creates is locked by
    it, but nobody else can see it yet, so it is left out)."""
    return dict(qall(conn, "SELECT c.oid::text, CASE WHEN c.relkind IN ('r', 'v', 'm', 'p') "
                           "THEN c.relname ELSE 'index or sequence ' || c.relname END "
                           "FROM pg_class AS c WHERE c.relnamespace = 'user_mgmt'::regnamespace"))


def analyse_trace(rows, t_after, names):
    """rows: (seq, ev, tag, at, held, users_modes) ordered by seq.  Pairs
    starts and ends (a stack: the ALTER EXTENSION is the outermost command),
    finds the first command at whose end users is held in
    AccessExclusiveLock, and lists what ran from then to the commit; and
    the first at whose end users is held in a mode that blocks writes
    (ShareLock or stronger: CREATE INDEX, CREATE TRIGGER, ...)."""
    stack, cmds = [], []
    for seq, ev, tag, at, held, modes in rows:
        if ev == "start":
            stack.append((tag, at, len(cmds)))
        else:
            stag, sat, _ = stack.pop() if stack else (tag, at, None)
            held = [names[o] for o in (held or []) if o in names]
            cmds.append({"tag": tag, "start": sat, "end": at, "held": held, "depth": len(stack),
                         "blocks_writes": bool(set(modes or []) & WRITE_BLOCKING)})
    res = {"commands": len(cmds)}
    outer = [c for c in cmds if c["tag"] == "ALTER EXTENSION" and c["depth"] == 0]
    if outer:
        res["script_start"], res["script_end"] = outer[-1]["start"], outer[-1]["end"]
    inner = [c for c in cmds if c["depth"] > 0]
    inner.sort(key=lambda c: c["start"])
    first = {}
    for c in inner:
        for rel in c["held"]:
            first.setdefault(rel, c)
    res["ae_relations"] = sorted(first)
    res["ae_windows_ms"] = {rel: (t_after - c["start"]).total_seconds() * 1000 for rel, c in first.items()}
    blocker = next((c for c in inner if c["blocks_writes"]), None)
    if blocker is not None:
        res["writes_blocked_ms"] = (t_after - blocker["start"]).total_seconds() * 1000
        res["writes_blocked_by"] = blocker["tag"]
    acq = first.get("users")
    if acq is None:
        return res
    res["acquired_by"] = acq["tag"]
    res["lock_upper_ms"] = (t_after - acq["start"]).total_seconds() * 1000
    res["lock_lower_ms"] = (t_after - acq["end"]).total_seconds() * 1000
    if "script_start" in res:
        res["lock_after_ms"] = (acq["start"] - res["script_start"]).total_seconds() * 1000
    # What ran under the lock: the commands from the acquiring one on, the
    # untraced statements between them, and the commit.
    items = []
    under = [c for c in inner if c["start"] >= acq["start"]]
    prev_end = None
    prev_tag = None
    for c in under:
        if prev_end is not None and c["start"] > prev_end:
            items.append(("DML/SELECT/DO after " + prev_tag, (c["start"] - prev_end).total_seconds() * 1000))
        items.append((c["tag"], (c["end"] - c["start"]).total_seconds() * 1000))
        prev_end, prev_tag = c["end"], c["tag"]
    if "script_end" in res and prev_end is not None:
        items.append(("DML/SELECT/DO after " + prev_tag, (res["script_end"] - prev_end).total_seconds() * 1000))
        items.append(("commit and reply", (t_after - res["script_end"]).total_seconds() * 1000))
    by_kind = {}
    for label, ms in items:
        by_kind[label] = by_kind.get(label, 0.0) + ms
    res["under_lock"] = sorted(by_kind.items(), key=lambda x: -x[1])
    res["acquiring_ms"] = (acq["end"] - acq["start"]).total_seconds() * 1000
    return res


def run_step(db, target, poll, trace=True):
    """Runs ALTER EXTENSION user_mgmt UPDATE TO target in a fresh
    connection; returns the measurements."""
    conn = connect(db)
    try:
        if trace:
            q(conn, TRACE_SQL)
        q(conn, "CHECKPOINT")
        users_oid = q(conn, "SELECT 'user_mgmt.users'::regclass::oid")
        files_before = rel_files(conn)
        names = rel_names(conn)
        src = q(conn, "SELECT extversion FROM pg_extension WHERE extname = %s", (EXT,))
        poller = None
        if poll:
            poller = LockPoller(db, conn.get_backend_pid(), users_oid)
            poller.start()
            # The poller is running once it has sampled at least once.
            deadline = time.monotonic() + 10
            while poller.samples == 0 and poller.error is None and time.monotonic() < deadline:
                time.sleep(0.001)  # poll interval of a condition loop
        t0 = time.monotonic()
        q(conn, sql.SQL("ALTER EXTENSION user_mgmt UPDATE TO {}").format(sql.Literal(target)))
        wall = (time.monotonic() - t0) * 1000
        t_after = q(conn, "SELECT clock_timestamp()")
        if poller:
            poller.halt.set()
            poller.join()
        res = {"from": src, "to": target, "wall_ms": wall}
        if trace:
            rows = qall(conn, "SELECT seq, ev, tag, at, held, users_modes FROM public.um_upgrade_trace ORDER BY seq")
            res.update(analyse_trace(rows, t_after, names))
            q(conn, UNTRACE_SQL)
        files_after = rel_files(conn)
        res["rewritten"] = sorted(k for k in files_before
                                  if k in files_after and files_before[k] != files_after[k])
        res["users_rewritten"] = files_before.get("users") != files_after.get("users")
        if poller:
            res["poll_longest_ms"] = poller.longest * 1000
            res["poll_period_ms"] = poller.period_ms()
            res["poll_samples"] = poller.samples
            if poller.error is not None:
                res["poll_error"] = str(poller.error)
        return res
    finally:
        conn.close()


def sizes(conn):
    return dict(qall(conn, "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class AS c "
                           "WHERE c.relnamespace = 'user_mgmt'::regnamespace AND c.relkind = 'r'"))


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def fmt_ms(x):
    if x is None:
        return "-"
    return "%.0f" % x if x >= 100 else "%.1f" % x


def report(results, meta):
    lines = []
    lines.append("Users: %s; %s, %s" % ("{:,}".format(meta["users"]), meta["machine"], meta["date"]))
    lines.append("")
    for v, text in meta.get("filled", {}).items():
        lines.append("- made at %s: %s (total size with indexes)" % (v, text))
    lines.append("")
    lines.append("| step | wall ms | ACCESS EXCLUSIVE on users ms | taken by (its own ms) | taken at ms | "
                 "longest parts under the lock, ms | pg_locks poll ms | writes to users blocked ms | "
                 "data rewritten | other relations in ACCESS EXCLUSIVE, ms |")
    lines.append("|---|---:|---:|---|---:|---|---:|---:|---|---|")
    for r in results:
        under = "; ".join("%s %s" % (k, fmt_ms(v)) for k, v in r.get("under_lock", [])[:3])
        wins = r.get("ae_windows_ms", {})
        others = ", ".join("%s %s" % (x, fmt_ms(wins.get(x))) for x in r.get("ae_relations", [])
                           if x != "users" and not x.startswith("index or sequence "))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["label"], fmt_ms(r["wall_ms"]),
            fmt_ms(r.get("lock_upper_ms")) if "lock_upper_ms" in r else "none",
            ("%s (%s)" % (r["acquired_by"], fmt_ms(r["acquiring_ms"]))) if "acquired_by" in r else "-",
            fmt_ms(r.get("lock_after_ms")),
            under or "-",
            ("%s (every %.1f)" % (fmt_ms(r["poll_longest_ms"]), r["poll_period_ms"]))
            if "poll_longest_ms" in r else "-",
            ("%s (%s)" % (fmt_ms(r["writes_blocked_ms"]), r["writes_blocked_by"]))
            if "writes_blocked_ms" in r else "none",
            ", ".join(r["rewritten"]) or "none",
            others or "-"))
    return "\n".join(lines)


def overhead(admin, vs):
    """Each step on an empty database (made at its source version), once
    with the event triggers and once without: what the tracing costs."""
    rows = []
    for direction in ("up", "down"):
        for i, v in enumerate(vs):
            j = i + 1 if direction == "up" else i - 1
            if j < 0 or j >= len(vs):
                continue
            times = {}
            for trace in (False, True):
                name = dbname("ovh")
                create_db(admin, name)
                c = connect(name)
                q(c, "CREATE EXTENSION user_mgmt VERSION %s", (v,))
                c.close()
                times[trace] = run_step(name, vs[j], poll=False, trace=trace)["wall_ms"]
                drop_db(admin, name)
            rows.append((v + " -> " + vs[j], times[False], times[True]))
    return rows


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=int(os.environ.get("UM_UPGRADE_USERS", "100000")))
    ap.add_argument("--smoke", action="store_true", help="TAP, correctness only")
    ap.add_argument("--poll", dest="poll", action="store_true", default=None)
    ap.add_argument("--no-poll", dest="poll", action="store_false")
    ap.add_argument("--overhead", action="store_true", help="also measure the tracing's own cost")
    ap.add_argument("--report", help="write the markdown table here")
    ap.add_argument("--json", help="write every measurement here")
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    ap.add_argument("--from", dest="only", action="append", metavar="VERSION",
                    help="only the steps from the database made at this version (repeatable)")
    args = ap.parse_args()
    poll = (not args.smoke) if args.poll is None else args.poll
    n = args.users
    out = Out(args.smoke)
    started = time.monotonic()
    load_start = os.getloadavg()

    admin = connect("postgres")
    for name in leftover_dbs(admin):
        drop_db(admin, name)
    vs = versions(admin)
    if args.only and not out.ok(set(args.only) <= set(vs), "--from %s: known versions" % ", ".join(args.only)):
        out.end()
        return 1
    if not out.ok(len(vs) >= 2, "the installed scripts offer at least two versions (%s)" % ", ".join(vs)):
        out.end()
        return 1
    latest = vs[-1]
    results = []
    fill_times = {}
    filled = {}
    pool = None
    try:
        for i, v in enumerate(vs):
            if args.only and v not in args.only:
                continue
            t = time.monotonic()
            name = dbname(v)
            create_db(admin, name)
            conn = connect(name)
            q(conn, "CREATE EXTENSION user_mgmt VERSION %s", (v,))
            if pool is None:
                pool = make_pool(conn)
            fill(conn, v, n, pool)
            before = snapshot(conn, v)
            size = sizes(conn)
            conn.close()
            fill_times[v] = time.monotonic() - t
            counts = {}
            for table in ("login_state", "auth_events", "sessions", "refresh_tokens"):
                c = connect(name)
                if has_rel(c, "user_mgmt." + table):
                    counts[table] = q(c, "SELECT count(*) FROM user_mgmt.%s" % table)
                c.close()
            filled[v] = "users %s%s; %s" % (
                "{:,}".format(n), "".join(", %s %s" % (k, "{:,}".format(x)) for k, x in counts.items()),
                ", ".join("%s %.0f MB" % (k, b / 1e6) for k, b in sorted(size.items()) if b >= 1e6) or "under 1 MB")
            if not args.smoke:
                print("# %s: filled in %.1fs: %s" % (v, fill_times[v], filled[v]))
            out.ok(before["users"][0] == n, "%s: filled in %.1fs: %s" % (v, fill_times[v], filled[v]))
            steps = []
            if i > 0:
                steps.append(("down", vs[i - 1]))
            if i + 1 < len(vs):
                steps.append(("up", vs[i + 1]))
            if i == 0 and len(vs) > 2:
                steps.append(("whole", latest))
            todo = []
            for kind, target in steps:
                if kind == "up":
                    todo.append((kind, target, name))
                else:
                    clone = dbname("%s_%s" % (v, kind))
                    create_db(admin, clone, template=name)
                    todo.append((kind, target, clone))
            for kind, target, db in todo:
                label = "%s -> %s%s" % (v, target, " (one statement)" if kind == "whole" else "")
                try:
                    res = run_step(db, target, poll)
                except psycopg2.Error as e:
                    out.ok(False, "%s: ALTER EXTENSION" % label, "%s %s" % (e.pgcode, e))
                    continue
                res["label"] = label
                res["kind"] = kind
                results.append(res)
                c = connect(db)
                check_step(out, c, label, v, target, before, n)
                c.close()
                if not args.smoke:
                    print("# %s: wall %s ms, AE lock on users %s ms (taken by %s), users rewritten: %s"
                          % (label, fmt_ms(res["wall_ms"]), fmt_ms(res.get("lock_upper_ms")),
                             res.get("acquired_by", "-"), "yes" if res["users_rewritten"] else "no"))
                    sys.stdout.flush()
                if db != name and not args.keep:
                    drop_db(admin, db)
            if not args.keep:
                drop_db(admin, name)
        # Sanity of the measurement itself: a lock window lies inside its step.
        for r in results:
            if "lock_upper_ms" in r:
                out.ok(r["lock_lower_ms"] <= r["wall_ms"] + 5,
                       "%s: the lock window measured (%s ms) lies within the step (%s ms)"
                       % (r["label"], fmt_ms(r["lock_lower_ms"]), fmt_ms(r["wall_ms"])))
        ovh = overhead(admin, vs) if args.overhead else None
    except Exception:  # noqa: BLE001
        out.ok(False, "upgrade_scale ran to the end", traceback.format_exc())
        ovh = None
    finally:
        if not args.keep:
            for name in leftover_dbs(admin):
                drop_db(admin, name)
        admin.close()

    order = {v: i for i, v in enumerate(vs)}
    kind_order = {"up": 0, "down": 1, "whole": 2}
    results.sort(key=lambda r: (kind_order[r["kind"]], order[r["from"]] * (1 if r["kind"] != "down" else -1)))
    meta = {"users": n, "machine": "%s (%d cores), PostgreSQL %s; 1-minute load average %.2f at the start, "
                                   "%.2f at the end" % (cpu_model(), os.cpu_count(), q_server_version(),
                                                        load_start[0], os.getloadavg()[0]),
        "date": datetime.date.today().isoformat(), "fill_seconds": fill_times, "filled": filled,
        "total_seconds": time.monotonic() - started}
    text = report(results, meta)
    if ovh:
        text += "\n\nTracing overhead (empty databases; wall ms of each step without / with the event triggers):\n\n"
        text += "| step | without | with |\n|---|---:|---:|\n"
        text += "\n".join("| %s | %s | %s |" % (s, fmt_ms(a), fmt_ms(b)) for s, a, b in ovh)
    if not args.smoke:
        print(text)
        print("# total %.0fs" % meta["total_seconds"])
    else:
        out.diag(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "steps": results, "overhead": ovh}, f, indent=1, default=str)
    out.end()
    return 1 if out.failed else 0


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def q_server_version():
    try:
        c = connect("postgres")
        v = q(c, "SHOW server_version")
        c.close()
        return v
    except psycopg2.Error:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
