#!/usr/bin/python3
"""Failover: a primary with a streaming hot standby, the standby promoted
after the primary dies.  TAP output; exits 1 on a failure.

    /usr/bin/python3 test/failover/failover.py      (as root or postgres)

Starts its own two servers (it needs no PGHOST): initdb of a primary under
/tmp/um-failover.XXXXXX (owned by the postgres OS user, loopback only, its
own ports and socket directory, shared_preload_libraries = 'user_mgmt'),
and a standby made from it with pg_basebackup -R -X stream, hot_standby on.
Both are stopped, and the directory removed, at the end, also after a
failure, an exception or SIGTERM/SIGINT.

What it proves, in order (each a TAP line):

Before the failover, on the primary: users, sessions from sign_in, login()
and issue_token(), with tokens signed by the install's HS256 key and, after
rotate_signing_key('EdDSA'), by an EdDSA key; a refresh; two logouts; one
account locked (5 wrong passwords), one with 3 failures, one with 4 and a
5th guess still being checked when the primary dies (its hash has cost
16, so the check takes seconds; the login writer has charged it before the
check began); a role change; audit events; and 40 rows of an application
table, each committed.

On the standby, once its replay LSN has reached the primary's current LSN
(polled, with a deadline):
  - verify_token and set_session_token accept the live HS256 and EdDSA
    tokens with the claims the primary gives; logged-out tokens are refused
    (28000, "token's session has been revoked");
  - login, authenticate, change_password, sign_in, refresh and logout are
    refused with 25006 (the README's design: a standby cannot record a
    login attempt, so it checks no password; applications send logins and
    session changes to the primary);
  - a logout on the primary reaches a standby backend that had the session
    cached, and an open REPEATABLE READ transaction there, once replayed.
The ledger: every row of every user_mgmt table and of the application
table, read on the primary after the login writer has settled
(await_login_writer); the standby has replayed past the LSN that followed
it, and shows exactly the same rows.

The failover: the primary is stopped with -m immediate (a crash: nothing
more is sent), the standby promoted with pg_promote(wait => true).

After it, on the new primary:
  - the ledger is there, row for row: nothing committed and replicated is
    lost;
  - the tokens issued on the old primary verify (HS256 and EdDSA, from
    sign_in, login and issue_token), with the same claims; the revoked ones
    stay refused; jwks() publishes the same EdDSA key;
  - a connection opened on the standby before the promotion now writes;
  - the login writer starts on the first login (login_statistics().
    writer_pid is a 'user_mgmt login writer' backend); sign_in, refresh (of
    a refresh token from the old primary), logout work; a refresh token
    used on the old primary is detected as reused and ends its session;
  - the lockout state survived: the locked account refuses even the right
    password (audited as 'locked'), the account with 3 failures before is
    locked by exactly 2 more (then refuses the right password), and the
    guess in flight at the crash counts as the 5th failure of its account
    (the new primary's login writer turns the charge into a failure when it
    starts): the right password is refused; counts 5 and a lock in the
    accounts view for all three;
  - the audit trail has every event from before (part of the ledger) and
    the new ones are appended after them (ids above the old maximum);
  - account changes, a new ES256 key and its tokens, and application
    writes work.

No sleep stands in for a condition: replay, promotion and the writer are
polled with deadlines.  No timing is asserted.
"""

import atexit
import base64
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import bcrypt
import psycopg2

PG_BIN = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
PG_OS_USER = "postgres"
DB = "um_failover"
PW = "correct horse battery"
WRONG = "Correct horse battery"
DEADLINE = 60  # seconds, for every wait on a condition
SLOW_COST = 16  # a hash whose check lasts seconds: a check still in flight at the crash


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

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        sys.stdout.write("%s %d - %s\n" % ("ok" if cond else "not ok", self.n, desc))
        if not cond and detail is not None:
            self.diag(detail() if callable(detail) else detail)
        sys.stdout.flush()
        return bool(cond)

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, lambda: "expected: %r\n     got: %r" % (want, got))

    def end(self):
        sys.stdout.write("1..%d\n" % self.n)
        sys.stdout.flush()


class Bail(Exception):
    """A step that later steps depend on failed: stop here.  reported: its
    TAP line has been printed already."""

    def __init__(self, message, reported=False):
        super().__init__(message)
        self.reported = reported


T = Tap()


def must(cond, desc, detail=None):
    if not T.ok(cond, desc, detail):
        raise Bail(desc, reported=True)


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------

def as_pg(cmd):
    if pwd.getpwuid(os.geteuid()).pw_name == PG_OS_USER:
        return cmd
    return ["runuser", "-u", PG_OS_USER, "--"] + cmd


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, base):
        self.name = name
        self.base = base
        self.data = os.path.join(base, name)
        self.log = os.path.join(base, name + ".log")
        self.port = None

    def start(self):
        last = None
        for _ in range(5):  # a port can be taken between picking and binding
            port = free_port()
            last = run(as_pg([PG_BIN + "/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                              "-o", "-p %d -k %s" % (port, self.base), "start"]))
            if last.returncode == 0:
                self.port = port
                return
        raise RuntimeError("%s did not start:\n%s\n%s" % (self.name, last.stdout, self.log_tail()))

    def stop(self, mode="fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            return run(as_pg([PG_BIN + "/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"]))
        return None

    def running(self):
        return run(as_pg([PG_BIN + "/pg_ctl", "-D", self.data, "status"])).returncode == 0

    def connect(self, db=DB, autocommit=True):
        conn = psycopg2.connect(host=self.base, port=self.port, user="postgres", dbname=db,
                                application_name="um_failover_test")
        conn.autocommit = autocommit
        return conn

    def log_tail(self, chars=3000):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""


BASE = None
SERVERS = []
CONNS = []


def cleanup():
    """Close every connection, stop both servers, remove the directory.
    Runs once (atexit, and at the end of main)."""
    global BASE
    for c in CONNS:
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass
    del CONNS[:]
    for s in SERVERS:
        try:
            s.stop("immediate")
        except Exception:  # noqa: BLE001
            pass
    del SERVERS[:]
    if BASE and os.path.isdir(BASE):
        shutil.rmtree(BASE, ignore_errors=True)
    BASE = None


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def make_base():
    path = tempfile.mkdtemp(prefix="um-failover.", dir="/tmp")
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        pg = pwd.getpwnam(PG_OS_USER)
        os.chown(path, pg.pw_uid, pg.pw_gid)
    return path


def locale():
    r = run(["locale", "-a"])
    names = [x.strip().lower() for x in r.stdout.splitlines()]
    return "C.UTF-8" if ("c.utf8" in names or "c.utf-8" in names) else "C"


# --------------------------------------------------------------------------
# SQL helpers
# --------------------------------------------------------------------------

def q(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        if cur.description is None:
            return None
        row = cur.fetchone()
        return None if row is None else (row[0] if len(row) == 1 else row)


def qrow(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        row = cur.fetchone()
        return None if row is None else dict(zip([d.name for d in cur.description], row))


def qall(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall()


def error_of(conn, query, *args):
    """The psycopg2 error a statement raises (None when it succeeds)."""
    try:
        with conn.cursor() as cur:
            cur.execute(query, args or None)
    except psycopg2.Error as e:
        if not conn.autocommit:
            conn.rollback()
        return e
    return None


def raises(conn, code, query, *args, message=None):
    e = error_of(conn, query, *args)
    if e is None:
        return False, "no error"
    if e.pgcode != code:
        return False, "SQLSTATE %s: %s" % (e.pgcode, e)
    if message is not None and e.diag.message_primary != message:
        return False, "message %r, want %r" % (e.diag.message_primary, message)
    return True, None


def header(token):
    seg = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def wait_for_replay(primary, standby_conn, what):
    """Polls until the standby has replayed everything the primary has
    written so far; returns the LSN waited for."""
    lsn = q(primary, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + DEADLINE
    while not q(standby_conn, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", lsn):
        if time.monotonic() > deadline:
            raise Bail("the standby did not replay up to %s within %ds (%s; at %s)"
                       % (lsn, DEADLINE, what, q(standby_conn, "SELECT pg_last_wal_replay_lsn()")))
        time.sleep(0.02)  # poll interval of a condition loop
    return lsn


LEDGER_TABLES = {
    # table: ordering key
    "user_mgmt.users": "id",
    "user_mgmt.login_state": "user_id",
    "user_mgmt.auth_events": "id",
    "user_mgmt.sessions": "id",
    "user_mgmt.refresh_tokens": "token_hash",
    "user_mgmt.signing_keys": "kid",
    "user_mgmt.schema_migrations": "applied_at",
    "public.ledger": "id",
}


def ledger(conn):
    """Every row of the tables above, as text, in key order (one snapshot)."""
    out = {}
    with conn.cursor() as cur:
        if not conn.autocommit:
            conn.rollback()
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            for table, key in LEDGER_TABLES.items():
                cur.execute("SELECT t::text FROM %s AS t ORDER BY %s" % (table, key))
                out[table] = [r[0] for r in cur.fetchall()]
        finally:
            cur.execute("ROLLBACK")
    return out


def ledger_diff(want, got, limit=8):
    lines = []
    for table in want:
        w, g = want[table], got.get(table, [])
        if w != g:
            missing = [r for r in w if r not in set(g)]
            extra = [r for r in g if r not in set(w)]
            lines.append("%s: %d rows expected, %d found; missing %d, extra %d"
                         % (table, len(w), len(g), len(missing), len(extra)))
            lines += ["  - " + r[:300] for r in missing[:limit]]
            lines += ["  + " + r[:300] for r in extra[:limit]]
    return "\n".join(lines) or "(equal)"


# --------------------------------------------------------------------------
# the scenario
# --------------------------------------------------------------------------

class SlowHash(threading.Thread):
    """Makes a bcrypt hash of cost SLOW_COST beside the rest of the set-up."""

    def __init__(self):
        super().__init__(daemon=True)
        self.hash = None

    def run(self):
        self.hash = bcrypt.hashpw(PW.encode(), bcrypt.gensalt(SLOW_COST)).decode()


class InFlightLogin(threading.Thread):
    """login(username, password) in a connection of its own; keeps the
    outcome: a token, a psycopg2 error, or the connection lost."""

    def __init__(self, server, username, password):
        super().__init__(daemon=True)
        self.server, self.username, self.password = server, username, password
        self.pid = None
        self.outcome = None
        self.started = threading.Event()

    def run(self):
        try:
            conn = self.server.connect()
        except psycopg2.Error as e:
            self.outcome = ("no connection", str(e))
            self.started.set()
            return
        self.pid = conn.get_backend_pid()
        self.started.set()
        try:
            self.outcome = ("returned", q(conn, "SELECT user_mgmt.login(%s, %s)", self.username, self.password))
        except psycopg2.OperationalError as e:
            self.outcome = ("connection lost", str(e).strip())
        except psycopg2.Error as e:
            self.outcome = ("error %s" % e.pgcode, str(e).strip())
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass


def scenario():
    global BASE
    slow = SlowHash()
    slow.start()
    BASE = make_base()
    primary = Server("primary", BASE)
    standby = Server("standby", BASE)

    # --- the primary --------------------------------------------------------
    r = run(as_pg([PG_BIN + "/initdb", "-D", primary.data, "--username=postgres", "--encoding=UTF8",
                   "--locale=" + locale(), "--auth=trust", "--no-sync"]))
    must(r.returncode == 0, "initdb of the primary", r.stdout)
    with open(os.path.join(primary.data, "postgresql.conf"), "a", encoding="utf-8") as f:
        f.write("\n# --- test/failover/failover.py ---\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '%s'\n"
                "shared_preload_libraries = 'user_mgmt'\n"
                "wal_level = replica\n"
                "max_wal_senders = 5\n"
                "wal_keep_size = '256MB'\n"
                "hot_standby = on\n"
                "fsync = off\n"
                "max_connections = 30\n"
                "shared_buffers = 32MB\n"
                "user_mgmt.bcrypt_cost = 4\n"
                "log_min_messages = warning\n"
                "log_line_prefix = '%%m [%%p] %%q%%u@%%d '\n" % BASE)
    SERVERS.append(primary)
    primary.start()
    admin = primary.connect("postgres")
    CONNS.append(admin)
    q(admin, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'" % DB)
    p = primary.connect()
    CONNS.append(p)
    q(p, "CREATE EXTENSION user_mgmt")
    version = q(p, "SELECT extversion FROM pg_extension WHERE extname = 'user_mgmt'")
    must(tuple(int(x) for x in version.split(".")) >= (1, 5),
         "primary up, user_mgmt %s installed (EdDSA keys need 1.5)" % version)
    q(p, "CREATE TABLE public.ledger (id serial PRIMARY KEY, note text NOT NULL, "
         "at timestamptz NOT NULL DEFAULT clock_timestamp())")

    # --- the standby, streaming before anything else is written ---------------
    r = run(as_pg([PG_BIN + "/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                   "-D", standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync"]))
    must(r.returncode == 0, "pg_basebackup -R of the primary", r.stdout)
    SERVERS.append(standby)
    standby.start()
    deadline = time.monotonic() + DEADLINE
    s = None
    while s is None:
        try:
            s = standby.connect()
        except psycopg2.OperationalError as e:
            if time.monotonic() > deadline:
                raise Bail("no connection to the standby within %ds: %s" % (DEADLINE, e))
            time.sleep(0.05)  # poll interval of a condition loop
    CONNS.append(s)
    must(q(s, "SELECT pg_is_in_recovery()") is True, "the standby is in recovery (hot standby)")
    deadline = time.monotonic() + DEADLINE
    while q(p, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") < 1:
        if time.monotonic() > deadline:
            raise Bail("the standby did not start streaming within %ds" % DEADLINE)
        time.sleep(0.02)  # poll interval of a condition loop
    T.ok(True, "the standby streams from the primary (pg_stat_replication)")

    # --- state written on the primary ---------------------------------------
    ids = {}
    for name, role in (("alice", "USER"), ("bob", "CASHIER"), ("carol", "USER"), ("dave", "USER"),
                       ("erin", "USER"), ("frank", "ADMIN"), ("gina", "USER"), ("ivan", "USER")):
        ids[name] = q(p, "SELECT user_mgmt.create_user(%s, %s, %s, %s)", name, PW, "Имя " + name, role)

    def sign_in(user, conn=p):
        return qrow(conn, "SELECT * FROM user_mgmt.sign_in(%s, %s, 'failover-test/1.0')", user, PW)

    tok = {}
    tok["hs_sign_in"] = sign_in("alice")
    tok["hs_login"] = q(p, "SELECT user_mgmt.login('alice', %s)", PW)
    tok["hs_issued"] = q(p, "SELECT user_mgmt.issue_token(%s)", ids["frank"])
    tok["hs_revoked"] = sign_in("carol")
    tok["hs_warm"] = q(p, "SELECT user_mgmt.login('gina', %s)", PW)
    ed_kid = q(p, "SELECT user_mgmt.rotate_signing_key('EdDSA')")
    tok["ed_sign_in_old"] = sign_in("bob")
    tok["ed_sign_in"] = qrow(p, "SELECT * FROM user_mgmt.refresh(%s)", tok["ed_sign_in_old"]["refresh_token"])
    tok["ed_issued"] = q(p, "SELECT user_mgmt.issue_token(%s)", ids["frank"])
    tok["ed_revoked"] = sign_in("carol")
    tok["ed_other"] = sign_in("alice")
    q(p, "SELECT user_mgmt.logout(%s)", tok["hs_revoked"]["access_token"])
    q(p, "SELECT user_mgmt.logout(%s)", tok["ed_revoked"]["refresh_token"])
    algs = {k: header(v if isinstance(v, str) else v["access_token"])["alg"] for k, v in tok.items()}
    T.eq(algs, {"hs_sign_in": "HS256", "hs_login": "HS256", "hs_issued": "HS256", "hs_revoked": "HS256",
                "hs_warm": "HS256", "ed_sign_in_old": "EdDSA", "ed_sign_in": "EdDSA", "ed_issued": "EdDSA",
                "ed_revoked": "EdDSA", "ed_other": "EdDSA"},
         "primary: tokens from sign_in, login, issue_token and refresh, signed HS256, then EdDSA")

    wrong = [raises(p, "28P01", "SELECT user_mgmt.login(%s, %s)", user, WRONG)
             for user, times in (("dave", 5), ("erin", 3), ("ivan", 4)) for _ in range(times)]
    must(all(ok for ok, _ in wrong), "primary: 12 wrong passwords (dave 5, erin 3, ivan 4) are 28P01",
         repr([why for ok, why in wrong if not ok]))
    ok, why = raises(p, "28P01", "SELECT user_mgmt.login('dave', %s)", PW)
    T.ok(ok, "primary: dave is locked after 5 failures (the right password is refused)", why)
    q(p, "SELECT user_mgmt.set_role(%s, 'CASHIER')", ids["gina"])  # ends gina's sessions
    ok, why = raises(p, "28000", "SELECT user_mgmt.verify_token(%s)", tok["hs_warm"],
                     message="token's session has been revoked")
    T.ok(ok, "primary: a role change ends the account's sessions", why)
    tok["hs_warm"] = q(p, "SELECT user_mgmt.login('gina', %s)", PW)
    for i in range(40):
        q(p, "INSERT INTO public.ledger (note) VALUES (%s)", "committed before the failover #%d" % i)
    must(q(p, "SELECT user_mgmt.await_login_writer()") is True, "primary: the login writer has settled")
    acc = {r[0]: r[1:] for r in qall(p, "SELECT username, failed_login_count, locked_until IS NOT NULL "
                                        "FROM user_mgmt.accounts")}
    T.eq((acc["dave"], acc["erin"], acc["ivan"]), ((5, True), (3, False), (4, False)),
         "primary: dave has 5 failures and a lock, erin 3 and ivan 4 and none")
    events = dict(qall(p, "SELECT event, count(*) FROM user_mgmt.auth_events GROUP BY event"))
    T.ok(all(events.get(e) for e in ("user_created", "login_ok", "login_failed", "locked", "role_changed",
                                     "session_revoked")),
         "primary: the audit trail has user_created, login_ok, login_failed, locked, role_changed, "
         "session_revoked events", repr(events))
    claims_primary = {k: q(p, "SELECT user_mgmt.verify_token(%s)", v if isinstance(v, str) else v["access_token"])
                      for k, v in tok.items() if "revoked" not in k and k != "ed_sign_in_old"}
    jwks_before = q(p, "SELECT user_mgmt.jwks()")

    # --- the standby, before the failover --------------------------------------
    wait_for_replay(p, s, "the writes above")
    T.ok(True, "the standby has replayed up to the primary's current LSN")
    for k, want in claims_primary.items():
        v = tok[k] if isinstance(tok[k], str) else tok[k]["access_token"]
        got, e = None, None
        try:
            got = q(s, "SELECT user_mgmt.verify_token(%s)", v)
        except psycopg2.Error as err:
            e = err
        T.ok(got == want, "standby: verify_token accepts %s (%s) with the primary's claims"
             % (k, algs[k]), lambda: "got %r / %s, want %r" % (got, e, want))
    with s.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok["ed_sign_in"]["access_token"],))
            cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_session_id()")
            got = cur.fetchone()
        finally:
            cur.execute("ROLLBACK")
    T.eq(got, (ids["bob"], tok["ed_sign_in"]["session_id"]),
         "standby: set_session_token (EdDSA) gives the user and session in a transaction")
    for k in ("hs_revoked", "ed_revoked"):
        ok, why = raises(s, "28000", "SELECT user_mgmt.verify_token(%s)", tok[k]["access_token"],
                         message="token's session has been revoked")
        T.ok(ok, "standby: the logged-out %s token is refused (28000, revoked)" % algs[k], why)
    refusals = (
        ("login", "SELECT user_mgmt.login('alice', %s)", (PW,)),
        ("authenticate", "SELECT user_mgmt.authenticate('alice', %s)", (PW,)),
        ("change_password", "SELECT user_mgmt.change_password('alice', %s, 'new password 1')", (PW,)),
        ("sign_in", "SELECT * FROM user_mgmt.sign_in('alice', %s)", (PW,)),
        ("sign_in (wrong password)", "SELECT * FROM user_mgmt.sign_in('erin', %s)", (WRONG,)),
        ("refresh", "SELECT * FROM user_mgmt.refresh(%s)", (tok["hs_sign_in"]["refresh_token"],)),
        ("logout (access token)", "SELECT user_mgmt.logout(%s)", (tok["hs_sign_in"]["access_token"],)),
        ("logout (refresh token)", "SELECT user_mgmt.logout(%s)", (tok["ed_sign_in"]["refresh_token"],)),
    )
    for what, query, args in refusals:
        ok, why = raises(s, "25006", query, *args)
        T.ok(ok, "standby: %s is refused with 25006" % what, why)

    # A revocation on the primary reaches standby backends that had the
    # session cached, one of them in an open REPEATABLE READ transaction.
    warm = standby.connect()
    CONNS.append(warm)
    rr = standby.connect(autocommit=False)
    CONNS.append(rr)
    with rr.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok["hs_warm"],))
        cur.execute("SELECT user_mgmt.current_user_id()")
        rr_before = cur.fetchone()[0]
    warm_before = q(warm, "SELECT user_mgmt.verify_token(%s) ->> 'sub'", tok["hs_warm"])
    T.eq((warm_before, rr_before), (str(ids["gina"]), ids["gina"]),
         "standby: two backends have gina's session cached (one in a REPEATABLE READ transaction)")
    q(p, "SELECT user_mgmt.logout(%s)", tok["hs_warm"])
    wait_for_replay(p, s, "a logout")
    ok, why = raises(warm, "28000", "SELECT user_mgmt.verify_token(%s)", tok["hs_warm"],
                     message="token's session has been revoked")
    T.ok(ok, "standby: once replayed, a logout on the primary is seen by a backend that had it cached", why)
    with rr.cursor() as cur:
        e = None
        try:
            cur.execute("SELECT user_mgmt.current_user_id()")
        except psycopg2.Error as err:
            e = err
        rr.rollback()
    T.ok(e is not None and e.pgcode == "28000",
         "standby: ... and by an open REPEATABLE READ transaction that had set it",
         lambda: "no error" if e is None else "%s %s" % (e.pgcode, e))

    # A check in flight when the primary dies: ivan's 5th guess, against a
    # hash whose check takes seconds.  The writer has charged it as a
    # failure (login_state.pending) before the check began.
    slow.join(DEADLINE)
    must(slow.hash is not None, "a bcrypt hash of cost %d is made" % SLOW_COST)
    q(p, "UPDATE user_mgmt.users SET hashed_password = %s WHERE username = 'ivan'", slow.hash)
    flight = InFlightLogin(primary, "ivan", WRONG)
    flight.start()
    flight.started.wait(DEADLINE)
    deadline = time.monotonic() + DEADLINE
    while q(p, "SELECT pending FROM user_mgmt.login_state WHERE user_id = %s", ids["ivan"]) != 1:
        if time.monotonic() > deadline or flight.outcome is not None:
            raise Bail("ivan's check was never charged (pending stays 0; outcome %r)" % (flight.outcome,))
        time.sleep(0.005)  # poll interval of a condition loop
    T.ok(flight.outcome is None and q(p, "SELECT state FROM pg_stat_activity WHERE pid = %s", flight.pid) == "active",
         "primary: ivan's 5th guess is charged (pending 1) and its check is running")

    # The ledger: what is committed and replicated at this point.
    must(q(p, "SELECT user_mgmt.await_login_writer()") is True, "primary: the login writer has settled again")
    before = ledger(p)
    wait_for_replay(p, s, "the ledger")
    T.ok(ledger(s) == before, "standby: every row of the ledger (%s) is there, identical"
         % ", ".join("%s %d" % (t.split(".")[1], len(r)) for t, r in before.items()),
         lambda: ledger_diff(before, ledger(s)))
    max_event = q(p, "SELECT max(id) FROM user_mgmt.auth_events")

    # --- failover -------------------------------------------------------------
    r = primary.stop("immediate")
    must(r is not None and r.returncode == 0 and not primary.running(),
         "the primary is stopped (immediate: a crash, nothing more is sent)", r and r.stdout)
    flight.join(DEADLINE)
    must(flight.outcome is not None and flight.outcome[0] == "connection lost",
         "ivan's check was still in flight when the primary died (its connection was lost)",
         "outcome %r: the check ended before the crash, so this run cannot test a check in flight"
         % (flight.outcome,))
    CONNS.remove(p)
    CONNS.remove(admin)
    for c in (p, admin):
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass
    promoted = q(s, "SELECT pg_promote(wait => true, wait_seconds => %s)", DEADLINE)
    must(promoted is True and q(s, "SELECT pg_is_in_recovery()") is False,
         "the standby is promoted (pg_promote) and out of recovery", standby.log_tail)
    n = s  # the new primary

    # --- the new primary ----------------------------------------------------
    after = ledger(n)
    T.ok(after == before, "new primary: the whole ledger is there, row for row (nothing committed and "
                          "replicated is lost)", lambda: ledger_diff(before, after))
    for k, want in claims_primary.items():
        if k == "hs_warm":
            continue
        v = tok[k] if isinstance(tok[k], str) else tok[k]["access_token"]
        got, e = None, None
        try:
            got = q(n, "SELECT user_mgmt.verify_token(%s)", v)
        except psycopg2.Error as err:
            e = err
        T.ok(got == want, "new primary: the old primary's %s token (%s) verifies, same claims" % (k, algs[k]),
             lambda: "got %r / %s" % (got, e))
    for k, v in (("hs_revoked", tok["hs_revoked"]["access_token"]),
                 ("ed_revoked", tok["ed_revoked"]["access_token"]), ("hs_warm", tok["hs_warm"])):
        ok, why = raises(n, "28000", "SELECT user_mgmt.verify_token(%s)", v,
                         message="token's session has been revoked")
        T.ok(ok, "new primary: the token logged out before the failover (%s) stays refused" % k, why)
    T.eq(q(n, "SELECT user_mgmt.jwks()"), jwks_before, "new primary: jwks() publishes the same keys")
    T.eq(q(warm, "SELECT pg_is_in_recovery()"), False,
         "new primary: a connection opened on the standby before the promotion sees it promoted")

    # The login writer starts on the first login, sign_in works.
    got = sign_in("alice", conn=warm)
    new_claims = q(n, "SELECT user_mgmt.verify_token(%s)", got["access_token"]) if got else {}
    T.ok(got is not None and new_claims.get("sub") == str(ids["alice"])
         and header(got["access_token"])["kid"] == ed_kid,
         "new primary: sign_in works (in that same connection), its EdDSA token verifies", repr(got))
    stats = qrow(n, "SELECT * FROM user_mgmt.login_statistics()")
    wtype = q(n, "SELECT backend_type FROM pg_stat_activity WHERE pid = %s", stats["writer_pid"]) \
        if stats["writer_pid"] else None
    T.ok(wtype == "user_mgmt login writer",
         "new primary: the login writer runs (login_statistics().writer_pid %s is a %r)"
         % (stats["writer_pid"], wtype), repr(stats))
    T.ok(stats["succeeded"] >= 1,
         "new primary: login_statistics() counts the login (succeeded %s)" % stats["succeeded"], repr(stats))

    # Refresh tokens from the old primary: a live one rotates; a used one is reuse.
    ref = None
    try:
        ref = qrow(n, "SELECT * FROM user_mgmt.refresh(%s)", tok["hs_sign_in"]["refresh_token"])
    except psycopg2.Error as e:
        ref = e
    T.ok(isinstance(ref, dict) and ref["session_id"] == tok["hs_sign_in"]["session_id"]
         and q(n, "SELECT user_mgmt.verify_token(%s) ->> 'sid'", ref["access_token"]) == ref["session_id"],
         "new primary: refresh() of a refresh token issued on the old primary gives new tokens", repr(ref))
    ok, why = raises(n, "28000", "SELECT * FROM user_mgmt.refresh(%s)", tok["hs_sign_in"]["refresh_token"])
    T.ok(ok, "new primary: ... and that refresh token, presented again, is refused as used", why)
    ok, why = raises(n, "28000", "SELECT * FROM user_mgmt.refresh(%s)", tok["ed_sign_in_old"]["refresh_token"])
    ok2, why2 = raises(n, "28000", "SELECT user_mgmt.verify_token(%s)", tok["ed_sign_in"]["access_token"],
                       message="token's session has been revoked")
    T.ok(ok and ok2, "new primary: a refresh token already used on the old primary is detected as reused, "
                     "and its session ends", why or why2)
    lo = q(n, "SELECT user_mgmt.logout(%s)", tok["ed_other"]["access_token"])
    ok, why = raises(n, "28000", "SELECT user_mgmt.verify_token(%s)", tok["ed_other"]["access_token"],
                     message="token's session has been revoked")
    T.ok(lo is True and ok, "new primary: logout() of an old primary's session works; its token is refused",
         why or repr(lo))

    # The lockout state survived.
    refused_before = qrow(n, "SELECT * FROM user_mgmt.login_statistics()")["refused_locked"]
    ok1, why1 = raises(n, "28P01", "SELECT user_mgmt.login('dave', %s)", WRONG)
    ok2, why2 = raises(n, "28P01", "SELECT user_mgmt.login('dave', %s)", PW)
    stats = qrow(n, "SELECT * FROM user_mgmt.login_statistics()")
    T.ok(ok1 and ok2 and stats["refused_locked"] - refused_before == 2,
         "new primary: dave, locked before the failover, is refused as locked (a 6th wrong and the right "
         "password; refused_locked +%d)" % (stats["refused_locked"] - refused_before), why1 or why2 or repr(stats))
    for _ in range(2):
        raises(n, "28P01", "SELECT user_mgmt.login('erin', %s)", WRONG)
    ok, why = raises(n, "28P01", "SELECT user_mgmt.login('erin', %s)", PW)
    T.ok(ok, "new primary: erin (3 failures before the failover) is locked by exactly 2 more: the right "
             "password is refused", why)
    ok, why = raises(n, "28P01", "SELECT user_mgmt.login('ivan', %s)", PW)
    last = q(n, "SELECT ROW(event, detail)::text FROM user_mgmt.auth_events WHERE username = 'ivan' "
                "AND event = 'login_failed' ORDER BY id DESC LIMIT 1")
    T.ok(ok and last == "(login_failed,locked)",
         "new primary: ivan's guess in flight at the crash counts as his 5th failure: the right "
         "password (which 4 failures alone would let in) is refused as locked", why or last)
    q(n, "SELECT user_mgmt.await_login_writer()")
    acc = {r[0]: r[1:] for r in qall(n, "SELECT username, failed_login_count, locked_until > now() "
                                        "FROM user_mgmt.accounts")}
    T.eq((acc["dave"], acc["erin"], acc["ivan"]), ((5, True), (5, True), (5, True)),
         "new primary: the accounts view shows dave, erin and ivan with 5 failures and a lock")

    # The audit trail: everything from before is there (the ledger), new
    # events come after it.
    new_events = qall(n, "SELECT event, username, detail FROM user_mgmt.auth_events WHERE id > %s ORDER BY id",
                      max_event)
    old_rows = [r[0] for r in qall(n, "SELECT t::text FROM user_mgmt.auth_events AS t WHERE id <= %s ORDER BY id",
                                   max_event)]
    in_order = q(n, "SELECT min(occurred_at) FROM user_mgmt.auth_events WHERE id > %s", max_event) >= \
        q(n, "SELECT max(occurred_at) FROM user_mgmt.auth_events WHERE id <= %s", max_event)
    want = [("login_ok", "alice", None), ("session_revoked", None, None),
            ("refresh_token_reused", None, None), ("login_failed", "dave", "locked"),
            ("login_failed", "erin", "wrong_password"), ("locked", "erin", None),
            ("login_failed", "erin", "locked"), ("locked", "ivan", None), ("login_failed", "ivan", "locked")]
    missing = [w for w in want if not any(e[0] == w[0] and (w[1] is None or e[1] == w[1])
                                          and (w[2] is None or e[2] == w[2]) for e in new_events)]
    T.ok(not missing and in_order and old_rows == before["user_mgmt.auth_events"],
         "new primary: the %d audit events from before the failover are unchanged, the %d new ones "
         "(login_ok, session_revoked, refresh_token_reused, login_failed locked, locked, ...) come after them"
         % (len(old_rows), len(new_events)),
         lambda: "missing %r; in order %r; old rows kept %r; new events %r"
         % (missing, in_order, old_rows == before["user_mgmt.auth_events"], new_events))

    # Ordinary writes.
    hid = q(n, "SELECT user_mgmt.create_user('henry', %s, 'Henry', 'USER')", PW)
    q(n, "SELECT user_mgmt.set_role(%s, 'ADMIN')", hid)
    es_kid = q(n, "SELECT user_mgmt.rotate_signing_key('ES256')")
    es = sign_in("henry", conn=n)
    es_claims = q(n, "SELECT user_mgmt.verify_token(%s)", es["access_token"])
    q(n, "INSERT INTO public.ledger (note) VALUES ('after the failover')")
    T.ok(header(es["access_token"])["kid"] == es_kid and es_claims["role"] == "ADMIN"
         and q(n, "SELECT count(*) FROM public.ledger") == 41
         and q(n, "SELECT count(*) FROM user_mgmt.auth_events WHERE id > %s AND event = 'role_changed' "
                  "AND username = 'henry'", max_event) == 1,
         "new primary: create_user, set_role (audited), a new ES256 key and its tokens, application writes")
    T.ok(q(n, "SELECT count(*) FROM user_mgmt.check_schema()") == 0, "new primary: check_schema() is empty")


def main():
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    start = time.monotonic()
    try:
        scenario()
    except Bail as e:
        if not e.reported:
            T.ok(False, str(e))
        T.diag("stopped: the steps after this one depend on it")
    except SystemExit as e:
        T.ok(False, "the failover scenario ran to the end (stopped by signal %s)" % (e.code - 128))
    except Exception:  # noqa: BLE001
        T.ok(False, "the failover scenario ran to the end", traceback.format_exc())
    finally:
        if T.failed:
            for srv in SERVERS:
                T.diag("---- %s log (tail) ----\n%s" % (srv.name, srv.log_tail()))
        cleanup()
    T.diag("failover scenario: %.1fs" % (time.monotonic() - start))
    T.end()
    return 1 if T.failed else 0


if __name__ == "__main__":
    sys.exit(main())
