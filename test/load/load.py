#!/usr/bin/python3
"""Load suite of user_mgmt (TAP): N concurrent clients against one database,
with a client-side ledger of every write the server confirmed, checked
against the database at the end.

Run through test/load/run.sh (which starts a throwaway cluster); directly:

    /usr/bin/python3 test/load/load.py        (PGHOST/PGPORT/PGUSER of a
                                               preloaded cluster, superuser)

Environment:
    UM_LOAD_CLIENTS   concurrent clients (default 16), each a thread with its
                      own connection; plus one admin connection per 8 clients
    UM_LOAD_SECONDS   how long they run (default 20)
    UM_LOAD_SEED      random seed (default: random, printed)
    UM_LOAD_BCRYPT_COST  user_mgmt.bcrypt_cost of the load database (default 4)
    UM_LOAD_REPORT    write the figures as JSON to this file
    UM_LOAD_MARKDOWN  write the figures as a bench/RESULTS.md section to this file

What a client does (a random mix): sign_up with new names and, on
purpose, with taken names in another case (23505); sign_in / login /
authenticate with its own accounts' right passwords; wrong passwords against anybody's accounts (some accounts,
the "victims", are attacked often enough to lock); unknown usernames;
verify_token and set_session_token (+ current_user_id()) on its tokens;
refresh, and replays of used refresh tokens (reuse detection, 28000);
logout by access or refresh token; change_password.  Clients run in
autocommit, READ COMMITTED, REPEATABLE READ or SERIALIZABLE transactions
(client i: mode i % 4); some transactions are rolled back on purpose and
some (RR, SERIALIZABLE) group several calls.  Admin connections do
set_role, set_active, unlock_user, logout_all(id), delete_user (of the
accounts marked ephemeral) and, on the first admin, rotate_signing_key and
retire_signing_key.

Expected errors are classified per call (23505 for a taken name, 28P01 for
a refused login, 28000 for an ended session, 55P03 while an account change
holds a session, 40001 only for a change_password that overlapped an admin
write of the same user); anything else, a WARNING, a deadlock, a lost
connection (outside the crash tests) fails the run.

The checks at the end, each a TAP line (Checker.check_all()):
- every user whose creation committed is there, with the ledger's role,
  activation and current password (verify_password on the stored hash);
- no half-made account: each users row has its one user_created event and
  was made by a client; rolled-back sign-ups are absent;
- the audit trail has exactly one login event per attempt, matched in order
  per connection (application_name) and username as given: login_ok for
  every success, login_failed for every refusal, never wrong_password for a
  right password, inactive/unknown_user only after a deactivation/deletion
  had begun;
- the lockout, replayed from the trail per account: at most
  max_failed_logins failures per window (between successes and unlocks), a
  lock exactly when they are reached, nothing checked while locked; the
  final count, lock and login_state as the trail has them, no check
  pending; login_statistics() deltas equal the trail's counts;
- every committed password change, role change, (de)activation, unlock
  and deletion has its audit event, and no other;
- every call that told whether a session was alive agrees with the
  revocations the clients saw return (client-side times): no success after
  a revocation had returned, no refusal before one had begun;
- at the end: every session the ledger holds is in the table, the live
  ones verify (with the current role), the ended ones do not, sessions of
  deleted users never verify; logout, reuse and logout_all events match;
  the refresh_tokens table matches each chain; signing keys rotated and
  retired as the ledger says; 40001 only beside a write of the same user;
  finally every live session's refresh token refreshes, no ended one's.
"""

import base64
import hashlib
import json
import os
import random
import string
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict

import psycopg2
import psycopg2.extensions

DB = os.environ.get("UM_LOAD_DB", "um_load")
APP_ROLE = "um_load_app"
MAX_FAILED = 5                  # user_mgmt.max_failed_logins (default)
ROLES = ("USER", "CASHIER", "ADMIN")
MODES = ("autocommit", "read committed", "repeatable read", "serializable")
LOST_CODES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001"}
FAILURE_DETAILS = {"wrong_password", "inactive", "abandoned"}
LOGIN_EVENTS = ("login_ok", "login_failed", "locked", "unlocked")
SAFETY_OPTIONS = "-c statement_timeout=60s"
KEY_GONE = "token has an unknown key id"
PROBE_PREFIX = "probe"          # accounts the crash tests make outside the ledger
PW_ALPHABET = string.ascii_letters + string.digits


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name, default):
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def now():
    return time.monotonic()


def connect(dbname=DB, user=None, app="um_load_checker", **kw):
    params = dict(dbname=dbname, application_name=app, options=SAFETY_OPTIONS,
                  connect_timeout=10)
    if user:
        params["user"] = user
    params.update(kw)
    return psycopg2.connect(**params)


def q_all(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall() if cur.description else []


def q(conn, query, *args):
    rows = q_all(conn, query, *args)
    return rows[0][0] if rows else None


def b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def token_parts(token):
    """(header, claims) of a JWS, unverified (the kid and sid of our own tokens)."""
    head, payload, _ = token.split(".")
    return b64json(head), b64json(payload)


def new_password(rng):
    return "".join(rng.choice(PW_ALPHABET) for _ in range(14))


# --- database set-up -------------------------------------------------------

def setup_database(cost, seconds=0):
    admin = connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
            cur.execute("CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'" % DB)
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
            if cur.fetchone() is None:
                cur.execute("CREATE ROLE %s LOGIN" % APP_ROLE)
    finally:
        admin.close()
    conn = connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION user_mgmt")
            cur.execute("GRANT EXECUTE ON FUNCTION user_mgmt.sign_up(text, text, text) TO %s"
                        % APP_ROLE)
            cur.execute("ALTER DATABASE %s SET user_mgmt.bcrypt_cost = %d" % (DB, cost))
            # The checks assume no lock and no token runs out during the run
            # (defaults 15min and 30min): long runs get longer ones.
            if seconds > 600:
                for name in ("lockout_duration", "token_ttl"):
                    cur.execute("ALTER DATABASE %s SET user_mgmt.%s = '%ds'"
                                % (DB, name, 3 * int(seconds) + 600))
            cur.execute("SHOW user_mgmt.max_failed_logins")
            assert int(cur.fetchone()[0]) == MAX_FAILED
    finally:
        conn.close()


def drop_database():
    try:
        conn = connect()
        conn.autocommit = True
        try:
            q(conn, "SELECT user_mgmt.stop_login_writer()")
        finally:
            conn.close()
        admin = connect("postgres")
        admin.autocommit = True
        try:
            q(admin, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
        finally:
            admin.close()
    except psycopg2.Error:
        pass


# --- the ledger --------------------------------------------------------------

class User:
    """An account whose creation a client saw commit, and what the clients
    know about it.  The owner (the client that made it) alone uses its
    right password and changes it; one admin alone changes its role,
    activation and lock, and deletes it (ephemeral accounts only)."""

    def __init__(self, name, uid, owner, password, t0, t1, ephemeral, victim):
        self.name = name
        self.id = uid
        self.owner = owner
        self.t0, self.t1 = t0, t1
        self.ephemeral = ephemeral
        self.victim = victim
        self.pw = [password]        # candidates for the current password
        self.pw_changes = [0, 0]    # committed, unknown
        self.pw_final = None        # index in pw of the one that verifies (the checks)
        # the admin's side
        self.role = {"USER"}
        self.active = {True}
        self.role_events = [0, 0]
        self.deactivated_events = [0, 0]
        self.activated_events = [0, 0]
        self.unlocks = [0, 0]
        self.deleted = "no"         # "yes", "maybe"
        self.logout_all = []        # counts returned (> 0) by confirmed logout_all
        self.logout_all_unknown = 0


class Session:
    def __init__(self, sid, user, origin, t0, t1, token, refresh=None):
        self.sid = sid
        self.user = user
        self.origin = origin
        self.t0, self.t1 = t0, t1
        self.tokens = [(token, token_parts(token)[0]["kid"], t1)]
        self.refresh = refresh      # current refresh token (None: none or unknown)
        self.used = []              # refresh tokens exchanged already
        self.chain_known = refresh is not None
        self.lost_refresh = None    # the token a refresh in flight at a crash presented
        self.replays = [0, 0]       # confirmed, unknown
        self.logout_true = 0
        self.logout_unknown = 0
        self.dead_seen = False
        self.closed = False         # the owner stopped using it


class Ender:
    """Something that ends sessions: of one user ('user'), one session
    ('session'), or the tokens of one key ('key').  Definite: confirmed and
    certainly effective; else only possible (unknown outcome, or a change
    whose effect depends on a state the admin did not know)."""

    __slots__ = ("scope", "key", "t0", "t1", "definite", "what")

    def __init__(self, scope, key, t0, t1, definite, what):
        self.scope, self.key, self.t0, self.t1 = scope, key, t0, t1
        self.definite, self.what = definite, what


# How long before a call its transaction's snapshot may have been taken (an
# open REPEATABLE READ / SERIALIZABLE transaction groups a few calls).
SNAPSHOT_AGE_MAX = 10.0


class Attempt:
    __slots__ = ("app", "given", "user", "right", "kind", "t0", "t1", "result")

    def __init__(self, app, given, user, right, kind, t0, t1, result):
        self.app, self.given, self.user, self.right = app, given, user, right
        self.kind, self.t0, self.t1, self.result = kind, t0, t1, result


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}             # lower(name) -> User
        self.user_list = []
        self.maybe_users = []       # (name, password): sign_up with an unknown outcome
        self.absent_names = []      # sign_ups rolled back: must not exist
        self.sessions = {}          # sid -> Session
        self.maybe_sessions = Counter()   # user name -> opens with an unknown outcome
        self.enders = []
        self.observations = []      # (session, kid, t0, t1, alive, kind)
        self.attempts = []
        self.serialization = []     # (user, t0, t1, app): 40001 of change_password
        self.keys = {}              # kid -> "live" | "retired" | "maybe"
        self.rotations = []         # kids made by rotate_signing_key, in order

    def add_user(self, user):
        with self.lock:
            self.users[user.name.lower()] = user
            self.user_list.append(user)

    def add_session(self, s):
        with self.lock:
            self.sessions[s.sid] = s


class Stats:
    """Per-operation latencies and outcomes."""

    def __init__(self):
        self.lat = defaultdict(list)
        self.outcomes = defaultdict(Counter)

    def add(self, kind, dt, outcome):
        self.lat[kind].append(dt)
        self.outcomes[kind][outcome] += 1


# --- one call ----------------------------------------------------------------

class Result:
    __slots__ = ("status", "rows", "code", "message", "t0", "t1", "rolled_back")

    def __init__(self, status, rows=None, code=None, message=None, t0=0, t1=0,
                 rolled_back=False):
        self.status, self.rows, self.code, self.message = status, rows, code, message
        self.t0, self.t1, self.rolled_back = t0, t1, rolled_back

    @property
    def value(self):
        return self.rows[0][0] if self.rows else None


def is_lost(err, conn):
    """Whether an error means the connection is gone: a shutdown or crash
    SQLSTATE, or an error without any (libpq lost the server)."""
    code = getattr(err, "pgcode", None)
    if code is None and isinstance(err, psycopg2.ProgrammingError):
        return False            # a mistake of the client, not of the connection
    return code in LOST_CODES or code is None or (conn is not None and conn.closed != 0)


class Worker(threading.Thread):
    """A thread with one connection at a time; reconnects after a lost
    connection when the workload allows it (crash tests)."""

    ROLE = None

    def __init__(self, wl, name, mode, seed):
        super().__init__(name=name, daemon=True)
        self.wl = wl
        self.ledger = wl.ledger
        self.label = name
        self.mode = mode
        self.rng = random.Random(seed)
        self.conn = None
        self.generation = -1
        self.app = None
        self.in_group = False
        self.stats = Stats()
        self.unexpected = []
        self.lost_calls = 0

    # connection handling

    def ensure_connection(self):
        if self.conn is not None:
            return True
        deadline = now() + (60 if self.wl.crash_mode else 10)
        while not self.wl.stop.is_set():
            self.generation += 1
            self.app = "load-%s-g%d" % (self.label, self.generation)
            try:
                conn = connect(user=self.ROLE, app=self.app)
                if self.mode == "autocommit":
                    conn.autocommit = True
                else:
                    conn.set_session(isolation_level=self.mode, autocommit=False)
                self.conn = conn
                return True
            except psycopg2.Error as e:
                if not self.wl.crash_mode or now() > deadline:
                    self.fail("connect", "could not connect: %s" % str(e).strip())
                    self.wl.stop.set()
                    return False
                self.wl.stop.wait(0.05)     # poll interval while the server restarts
        return False

    def drop_connection(self):
        try:
            if self.conn is not None:
                self.conn.close()
        except psycopg2.Error:
            pass
        self.conn = None
        self.in_group = False

    def fail(self, kind, what):
        self.unexpected.append("%s %s: %s" % (self.app, kind, what))

    def check_notices(self, kind):
        if self.conn is None:
            return
        for n in self.conn.notices:
            if self.wl.crash_mode and "terminating connection" in n:
                continue        # the server going down says so first
            if not n.startswith("NOTICE"):
                self.fail(kind, "server message: " + n.strip())
        del self.conn.notices[:]

    def run_sql(self, kind, steps, end="commit", stat=True):
        """Runs steps [(sql, args)] as one call: in autocommit mode each
        statement on its own (several: inside BEGIN ... COMMIT), in a
        transaction mode inside the client's transaction, ended by `end`
        ('commit' or 'rollback') unless a group is open.  The rows of the
        last statement come back."""
        conn = self.conn
        t0 = now()
        rows = None
        explicit = self.mode == "autocommit" and len(steps) > 1
        try:
            with conn.cursor() as cur:
                if explicit:
                    cur.execute("BEGIN")
                for sql, args in steps:
                    cur.execute(sql, args)
                    rows = cur.fetchall() if cur.description else []
                if explicit:
                    cur.execute("COMMIT" if end == "commit" else "ROLLBACK")
            if self.mode != "autocommit" and not self.in_group:
                if end == "commit":
                    conn.commit()
                else:
                    conn.rollback()
            t1 = now()
            self.check_notices(kind)
            if stat:
                self.stats.add(kind, t1 - t0, "ok")
            return Result("ok", rows, t0=t0, t1=t1, rolled_back=(end != "commit"))
        except psycopg2.Error as e:
            t1 = now()
            if is_lost(e, conn):
                self.lost_calls += 1
                if not self.wl.crash_mode:
                    self.fail(kind, "connection lost: %s" % str(e).strip())
                    self.wl.stop.set()
                self.drop_connection()
                return Result("lost", code=getattr(e, "pgcode", None), t0=t0, t1=t1)
            code = e.pgcode
            message = e.diag.message_primary if e.diag else str(e)
            try:
                if explicit or (self.mode == "autocommit" and self.in_group):
                    with conn.cursor() as cur:
                        cur.execute("ROLLBACK")
                elif self.mode != "autocommit":
                    conn.rollback()
            except psycopg2.Error as e2:
                if is_lost(e2, conn):
                    self.drop_connection()
                    return Result("lost", code=code, t0=t0, t1=t1)
                raise
            self.in_group = False
            self.check_notices(kind)
            if stat:
                self.stats.add(kind, t1 - t0, code)
            return Result("error", code=code, message=message, t0=t0, t1=t1)

    def expect(self, kind, res, *codes):
        """True when res is ok; an error must be one of codes (else it is
        unexpected); lost is allowed only in crash tests (run_sql said so)."""
        if res.status == "ok":
            return True
        if res.status == "error" and res.code not in codes:
            self.fail(kind, "unexpected error %s: %s" % (res.code, res.message))
        return False

    def run(self):
        try:
            while not self.wl.stop.is_set() and now() < self.wl.end:
                if not self.ensure_connection():
                    break
                self.step()
        except Exception:      # a bug in the test itself must fail it too
            self.fail("internal", traceback.format_exc())
            self.wl.stop.set()
        finally:
            self.drop_connection()


class Client(Worker):
    ROLE = APP_ROLE
    OPS = (("sign_up", 6), ("sign_up_dup", 2), ("sign_in", 10), ("login", 4),
           ("authenticate", 2), ("attack", 14), ("unknown_user", 2), ("verify", 22),
           ("set_session_token", 6), ("refresh", 10), ("replay", 2), ("logout", 5),
           ("change_password", 4), ("change_password_wrong", 1), ("group", 4))

    def __init__(self, wl, index, seed):
        super().__init__(wl, "c%02d" % index, MODES[index % len(MODES)], seed)
        self.index = index
        self.mine = []          # User
        self.sessions = []      # Session (not closed)
        self.made = 0
        self.ops = [op for op, _ in self.OPS]
        self.weights = [w for _, w in self.OPS]

    def step(self):
        if len(self.mine) < 2:
            op = "sign_up"
        else:
            op = self.rng.choices(self.ops, self.weights)[0]
            if op == "sign_up" and len(self.mine) >= 12:
                op = "sign_in"
            if op == "group" and self.mode not in ("repeatable read", "serializable"):
                op = "verify"
        getattr(self, "op_" + op)()

    def end(self):
        """How a transaction-mode call ends: now and then a rollback."""
        if self.mode != "autocommit" and self.rng.random() < 0.1:
            return "rollback"
        return "commit"

    # accounts

    def op_sign_up(self):
        self.made += 1
        name = "%s%sn%d" % (self.wl.tag, self.label, self.made)
        pw = new_password(self.rng)
        full = self.rng.choice(("Load User %d" % self.made, "Пользователь %d" % self.made))
        end = self.end()
        res = self.run_sql("sign_up", [("SELECT user_mgmt.sign_up(%s, %s, %s)",
                                        (name, pw, full))], end)
        if res.status == "ok":
            if res.rolled_back:
                self.ledger.absent_names.append(name)
                return
            u = User(name, res.value, self.label, pw, res.t0, res.t1,
                     ephemeral=self.rng.random() < 0.12, victim=self.rng.random() < 0.3)
            self.mine.append(u)
            self.ledger.add_user(u)
        elif res.status == "lost":
            self.ledger.maybe_users.append((name, pw))
        else:
            self.expect("sign_up", res)

    def op_sign_up_dup(self):
        users = self.ledger.user_list
        if not users:
            return
        u = self.rng.choice(users)
        if u.ephemeral:         # may be deleted meanwhile: the name would be free
            return
        name = self.rng.choice((u.name.upper(), u.name.capitalize(), u.name))
        res = self.run_sql("sign_up_dup", [("SELECT user_mgmt.sign_up(%s, %s, %s)",
                                            (name, new_password(self.rng), "Dup"))])
        if res.status == "ok":
            self.fail("sign_up_dup", "a taken name (%s, taken as %s) was signed up again as id %s"
                      % (name, u.name, res.value))
        else:
            self.expect("sign_up_dup", res, "23505")

    def own_user(self):
        """One of this client's accounts whose current password it knows;
        when it has none left (after changes in flight at a crash), it
        signs up another."""
        known = [u for u in self.mine if len(u.pw) == 1]
        if not known:
            self.op_sign_up()
            return None
        return self.rng.choice(known)

    def attempt(self, kind, user, given, right, res, ok):
        result = "unknown" if res.status == "lost" else ("ok" if ok else "refused")
        self.ledger.attempts.append(Attempt(self.app, given, user, right, kind,
                                            res.t0, res.t1, result))

    def login_call(self, kind, user, given, password, right):
        """sign_in / login / authenticate; the new session (or None)."""
        end = self.end()
        if kind == "sign_in":
            res = self.run_sql(kind, [("SELECT access_token, refresh_token, session_id::text"
                                       " FROM user_mgmt.sign_in(%s, %s, %s)",
                                       (given, password, "um-load/" + self.label))], end)
        elif kind == "login":
            res = self.run_sql(kind, [("SELECT user_mgmt.login(%s, %s)", (given, password))], end)
        else:
            res = self.run_sql(kind, [("SELECT a.id FROM user_mgmt.authenticate(%s, %s) AS a",
                                       (given, password))], end)
        ok = res.status == "ok" and (kind != "authenticate" or res.value is not None)
        if res.status == "error":
            self.expect(kind, res, "28P01")
        self.attempt(kind, user, given, right, res, ok)
        if not ok:
            if res.status == "lost" and user is not None and right and kind != "authenticate":
                self.ledger.maybe_sessions[user.name] += 1
            return None
        if not right:
            self.fail(kind, "a wrong password let %s in" % given)
            return None
        if kind == "authenticate":
            if res.value != user.id:
                self.fail(kind, "authenticate(%s) returned id %s, not %s" % (given, res.value, user.id))
            return None
        if kind == "sign_in":
            access, refresh, sid = res.rows[0]
            s = Session(sid, user, "sign_in", res.t0, res.t1, access, refresh)
        else:
            access = res.value
            s = Session(token_parts(access)[1]["sid"], user, "login", res.t0, res.t1, access)
        claims = token_parts(access)[1]
        if claims.get("sub") != str(user.id) or claims.get("sid") != s.sid:
            self.fail(kind, "token claims %r do not name user %s / session %s"
                      % (claims, user.id, s.sid))
        self.ledger.add_session(s)
        self.sessions.append(s)
        return s

    def op_sign_in(self, kind="sign_in"):
        u = self.own_user()
        if u is None:
            return
        live = [s for s in self.sessions if s.user is u]
        if len(live) >= 20:         # stay far below max_sessions_per_user
            self.logout(self.rng.choice(live))
            return
        self.login_call(kind, u, u.name, u.pw[0], True)

    def op_login(self):
        self.op_sign_in("login")

    def op_authenticate(self):
        u = self.own_user()
        if u is not None:
            self.login_call("authenticate", u, u.name, u.pw[0], True)

    def op_attack(self):
        users = self.ledger.user_list
        if not users:
            return
        victims = [u for u in users[-400:] if u.victim]
        u = self.rng.choice(victims) if victims and self.rng.random() < 0.7 else self.rng.choice(users)
        given = self.rng.choice((u.name, u.name, u.name.upper()))
        kind = self.rng.choice(("sign_in", "sign_in", "login", "authenticate", "change_password"))
        if kind == "change_password":
            self.change_password(u, given, new_password(self.rng), right=False)
        else:
            self.login_call(kind, u, given, new_password(self.rng), False)

    def op_unknown_user(self):
        given = "zz%s%s" % (self.label, "".join(self.rng.choice(string.ascii_lowercase)
                                                 for _ in range(8)))
        self.login_call(self.rng.choice(("sign_in", "login")), None, given,
                        new_password(self.rng), False)

    def op_change_password(self):
        u = self.own_user()
        if u is not None:
            self.change_password(u, u.name, u.pw[0], right=True)

    def op_change_password_wrong(self):
        u = self.own_user()
        if u is not None:
            self.change_password(u, u.name, u.pw[0] + "x", right=False)

    def change_password(self, u, given, old, right):
        new = new_password(self.rng)
        end = self.end()
        kind = "change_password" if right else "change_password_wrong"
        res = self.run_sql(kind, [("SELECT user_mgmt.change_password(%s, %s, %s)",
                                   (given, old, new))], end)
        if res.status == "ok":
            self.attempt("change_password", u, given, right, res, True)
            if not right:
                self.fail(kind, "a wrong old password changed %s's password" % given)
            elif not res.rolled_back:
                u.pw = [new]
                u.pw_changes[0] += 1
                self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, True,
                                                "change_password"))
        elif res.status == "lost":
            self.attempt("change_password", u, given, right, res, False)
            if right:
                u.pw = [old, new]
                u.pw_changes[1] += 1
                self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, False,
                                                "change_password?"))
        elif res.code == "40001" and right:
            # The password was right (login_ok), the UPDATE lost to another write.
            self.attempt("change_password", u, given, right, res, True)
            self.ledger.serialization.append((u, res.t0, res.t1, self.app, res.message))
        else:
            self.expect(kind, res, "28P01")
            self.attempt("change_password", u, given, right, res, False)

    # sessions

    def pick_session(self, want=None):
        cands = [s for s in self.sessions if want is None or want(s)]
        return self.rng.choice(cands) if cands else None

    def observe(self, s, kid, res, alive, kind):
        """A call that told whether session s (and the key of its token, kid)
        was alive.  A refusal for the token's key alone ('token has an
        unknown key id': the key was retired) says nothing of the session: a
        refresh gives it a token of the current key."""
        key_only = not alive and res.message == KEY_GONE
        where = "%s (%s%s)" % (self.app, self.mode, ", in a group" if self.in_group else "")
        self.ledger.observations.append((s, kid, res.t0, res.t1, alive, kind, key_only, where))
        if key_only:
            if s.refresh is None:
                self.close(s)       # nothing left to use it with
        elif not alive:
            s.dead_seen = True
            self.close(s)

    def close(self, s):
        s.closed = True
        if s in self.sessions:
            self.sessions.remove(s)

    def op_verify(self):
        s = self.pick_session()
        if s is None:
            return self.op_sign_in()
        self.verify(s)
        # A repeated bearer token (a pooled connection, a policy checked per
        # row) takes the backend's last-verified fast path.
        if self.rng.random() < 0.3 and not s.closed and self.conn is not None:
            self.verify(s)

    def verify(self, s):
        token, kid, _ = s.tokens[-1]
        res = self.run_sql("verify_token", [("SELECT user_mgmt.verify_token(%s)", (token,))],
                           stat=True)
        if res.status == "ok":
            claims = res.value
            if claims.get("sid") != s.sid or claims.get("sub") != str(s.user.id):
                self.fail("verify_token", "claims %r for session %s of user %s"
                          % (claims, s.sid, s.user.id))
            self.observe(s, kid, res, True, "verify_token")
        elif res.status == "error" and res.code == "28000":
            self.observe(s, kid, res, False, "verify_token: " + res.message)
        else:
            self.expect("verify_token", res, "28000")

    def op_set_session_token(self):
        s = self.pick_session()
        if s is None:
            return
        token, kid, _ = s.tokens[-1]
        res = self.run_sql("set_session_token", [
            ("SELECT user_mgmt.set_session_token(%s)", (token,)),
            ("SELECT user_mgmt.current_user_id(), user_mgmt.current_session_id()::text", None)],
            self.end())
        if res.status == "ok":
            uid, sid = res.rows[0]
            if uid != s.user.id or sid != s.sid:
                self.fail("set_session_token", "current_user_id() %s, current_session_id() %s"
                          " for session %s of user %s" % (uid, sid, s.sid, s.user.id))
            self.observe(s, kid, res, True, "set_session_token")
        elif res.status == "error" and res.code == "28000":
            self.observe(s, kid, res, False, "set_session_token: " + res.message)
        else:
            self.expect("set_session_token", res, "28000")

    def op_refresh(self):
        s = self.pick_session(lambda s: s.refresh is not None)
        if s is None:
            return self.op_sign_in()
        self.refresh(s)

    def refresh(self, s):
        old = s.refresh
        res = self.run_sql("refresh", [("SELECT access_token, refresh_token, session_id::text"
                                        " FROM user_mgmt.refresh(%s)", (old,))], self.end())
        if res.status == "ok":
            access, new, sid = res.rows[0]
            if sid != s.sid:
                self.fail("refresh", "refresh of session %s returned session %s" % (s.sid, sid))
            s.used.append(old)
            s.refresh = new
            s.tokens.append((access, token_parts(access)[0]["kid"], res.t1))
            self.observe(s, None, res, True, "refresh")
        elif res.status == "lost":
            s.lost_refresh = old        # used or not: unknown
            s.refresh = None
            s.chain_known = False
        elif res.code == "28000":
            if res.message == "refresh token has already been used":
                self.fail("refresh", "an unused refresh token of session %s was taken for a "
                          "reused one" % s.sid)
            self.observe(s, None, res, False, "refresh: " + res.message)
        else:
            self.expect("refresh", res, "55P03")

    def op_replay(self):
        s = self.pick_session(lambda s: s.used)
        if s is None:
            return self.op_refresh()
        res = self.run_sql("refresh_replay", [("SELECT access_token FROM user_mgmt.refresh(%s)",
                                               (self.rng.choice(s.used),))], self.end())
        if res.status == "ok":
            self.fail("refresh_replay", "a used refresh token of session %s refreshed again" % s.sid)
        elif res.status == "lost":
            s.replays[1] += 1
            self.ledger.enders.append(Ender("session", s.sid, res.t0, res.t1, False, "replay?"))
            self.close(s)
        elif res.code == "28000":
            if res.message != "refresh token has already been used":
                self.fail("refresh_replay", "replay answered %r" % res.message)
            s.replays[0] += 1
            self.ledger.enders.append(Ender("session", s.sid, res.t0, res.t1, True, "replay"))
            self.close(s)
        else:
            self.expect("refresh_replay", res, "55P03")

    def op_logout(self):
        s = self.pick_session()
        if s is not None:
            self.logout(s)

    def logout(self, s):
        if s.refresh is not None and self.rng.random() < 0.4:
            token, kid = s.refresh, None
        else:
            token, kid, _ = s.tokens[-1]
        res = self.run_sql("logout", [("SELECT user_mgmt.logout(%s)", (token,))], self.end())
        if res.status == "ok":
            if res.value:
                s.logout_true += 1
                self.observe(s, kid, res, True, "logout")
            else:
                self.observe(s, kid, res, False, "logout: false")
            self.ledger.enders.append(Ender("session", s.sid, res.t0, res.t1, True, "logout"))
            self.close(s)
        elif res.status == "lost":
            s.logout_unknown += 1
            self.ledger.enders.append(Ender("session", s.sid, res.t0, res.t1, False, "logout?"))
            self.close(s)
        elif res.code == "28000" and kid is not None:
            # An access token whose key was retired: logout needs its signature.
            self.observe(s, kid, res, False, "logout: " + res.message)
        else:
            self.expect("logout", res, "55P03")

    def op_group(self):
        """Several calls in one REPEATABLE READ / SERIALIZABLE transaction,
        committed or rolled back: only calls whose effects the login writer
        commits on its own (no caller-side write)."""
        end = self.end()
        self.in_group = True
        for _ in range(self.rng.randint(2, 4)):
            if not self.in_group or self.conn is None:
                break           # an error or a lost connection ended it
            self.rng.choice((self.op_verify, self.op_verify, self.op_sign_in,
                             self.op_refresh, self.op_logout, self.op_attack))()
        if self.in_group and self.conn is not None:
            self.in_group = False
            t0 = now()
            try:
                if end == "commit":
                    self.conn.commit()
                else:
                    self.conn.rollback()
                self.stats.add("group_end", now() - t0, "ok")
            except psycopg2.Error as e:
                if is_lost(e, self.conn):
                    if not self.wl.crash_mode:
                        self.fail("group_end", "connection lost: %s" % e)
                        self.wl.stop.set()
                    self.drop_connection()
                else:
                    self.fail("group_end", "%s at %s: %s" % (e.pgcode, end, e))
                    self.conn.rollback()
        self.in_group = False


class Admin(Worker):
    ROLE = None     # the superuser of PGUSER

    def __init__(self, wl, index, count, seed):
        super().__init__(wl, "a%d" % index, "autocommit", seed)
        self.index = index
        self.count = count
        self.next_rotation = now() + 1.0

    def my_users(self):
        return [u for u in self.ledger.user_list
                if u.id % self.count == self.index and u.deleted == "no"]

    def step(self):
        if self.index == 0 and now() >= self.next_rotation:
            self.next_rotation = now() + self.rng.uniform(1.5, 3.0)
            return self.rotate()
        users = self.my_users()
        if not users:
            self.wl.stop.wait(0.02)     # pacing: nothing to administer yet
            return
        op = self.rng.choices(("set_role", "set_active", "unlock", "logout_all", "delete"),
                              (15, 15, 30, 15, 5))[0]
        if op == "unlock":
            victims = [u for u in users if u.victim]
            u = self.rng.choice(victims or users)
        elif op == "delete":
            eph = [u for u in users if u.ephemeral and now() - u.t1 > 2.0]
            if not eph:
                return
            u = self.rng.choice(eph)
        elif op == "set_active":
            inactive = [u for u in users if False in u.active]
            u = self.rng.choice(inactive) if inactive and self.rng.random() < 0.7 \
                else self.rng.choice(users)
        else:
            u = self.rng.choice(users)
        getattr(self, "op_" + op)(u)
        self.wl.stop.wait(self.rng.uniform(0.01, 0.04))     # pacing of the admin

    def op_set_role(self, u):
        known = len(u.role) == 1
        choices = [r for r in ROLES if not known or r not in u.role]
        role = self.rng.choice(choices)
        res = self.run_sql("admin_set_role", [("SELECT user_mgmt.set_role(%s, %s)", (u.id, role))])
        if res.status == "ok":
            u.role = {role}
            if known:
                u.role_events[0] += 1
            else:
                u.role_events[1] += 1
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, known, "set_role"))
        elif res.status == "lost":
            u.role = u.role | {role}
            u.role_events[1] += 1
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, False, "set_role?"))
        else:
            self.expect("admin_set_role", res)

    def op_set_active(self, u):
        known = len(u.active) == 1
        value = (not next(iter(u.active))) if known else self.rng.choice((True, False))
        res = self.run_sql("admin_set_active", [("SELECT user_mgmt.set_active(%s, %s)",
                                                 (u.id, value))])
        counter = u.activated_events if value else u.deactivated_events
        if res.status == "ok":
            u.active = {value}
            counter[0 if known else 1] += 1
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, known,
                                            "set_active(%s)" % value))
        elif res.status == "lost":
            u.active = u.active | {value}
            counter[1] += 1
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, False,
                                            "set_active(%s)?" % value))
        else:
            self.expect("admin_set_active", res)

    def op_unlock(self, u):
        res = self.run_sql("admin_unlock_user", [("SELECT user_mgmt.unlock_user(%s)", (u.id,))])
        if res.status == "ok":
            u.unlocks[0] += 1
        elif res.status == "lost":
            u.unlocks[1] += 1
        else:
            self.expect("admin_unlock_user", res)

    def op_logout_all(self, u):
        res = self.run_sql("admin_logout_all", [("SELECT user_mgmt.logout_all(%s)", (u.id,))])
        if res.status == "ok":
            if res.value > 0:
                u.logout_all.append(res.value)
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, True, "logout_all"))
        elif res.status == "lost":
            u.logout_all_unknown += 1
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, False, "logout_all?"))
        else:
            self.expect("admin_logout_all", res, "55P03")

    def op_delete(self, u):
        res = self.run_sql("admin_delete_user", [("SELECT user_mgmt.delete_user(%s)", (u.id,))])
        if res.status == "ok":
            u.deleted = "yes"
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, True, "delete_user"))
        elif res.status == "lost":
            u.deleted = "maybe"
            self.ledger.enders.append(Ender("user", u.name, res.t0, res.t1, False, "delete_user?"))
        else:
            self.expect("admin_delete_user", res)

    def rotate(self):
        alg = self.rng.choice(("HS256", "EdDSA", "ES256"))
        res = self.run_sql("admin_rotate_key", [("SELECT user_mgmt.rotate_signing_key(%s)", (alg,))])
        if res.status == "ok":
            self.ledger.keys[res.value] = "live"
            self.ledger.rotations.append(res.value)
        elif res.status == "error":
            self.expect("admin_rotate_key", res)
        # Retire the key of two rotations ago: never the one that signs now
        # nor the one before it (tokens in flight).
        rot = self.ledger.rotations
        if len(rot) >= 3 and self.ledger.keys.get(rot[-3]) == "live":
            kid = rot[-3]
            res = self.run_sql("admin_retire_key", [("SELECT user_mgmt.retire_signing_key(%s)",
                                                     (kid,))])
            if res.status == "ok":
                self.ledger.keys[kid] = "retired"
                self.ledger.enders.append(Ender("key", kid, res.t0, res.t1, True, "retire"))
            elif res.status == "lost":
                self.ledger.keys[kid] = "maybe"
                self.ledger.enders.append(Ender("key", kid, res.t0, res.t1, False, "retire?"))
            else:
                self.expect("admin_retire_key", res)


# --- the workload --------------------------------------------------------------

class Workload:
    def __init__(self, clients, seconds, seed, crash_mode=False):
        self.ledger = Ledger()
        self.stop = threading.Event()
        self.crash_mode = crash_mode
        self.seconds = seconds
        self.rng = random.Random(seed)
        self.tag = "".join(self.rng.choice(string.ascii_lowercase) for _ in range(2))
        self.clients = [Client(self, i, self.rng.random()) for i in range(clients)]
        n_admin = max(1, clients // 8)
        self.admins = [Admin(self, i, n_admin, self.rng.random()) for i in range(n_admin)]
        self.end = None
        self.started = self.finished = None

    @property
    def workers(self):
        return self.clients + self.admins

    def start(self):
        self.started = now()
        self.end = self.started + self.seconds
        for w in self.workers:
            w.start()

    def join(self):
        deadline = self.end + 120
        for w in self.workers:
            w.join(max(0.0, deadline - now()))
        self.finished = now()
        return [w.name for w in self.workers if w.is_alive()]

    def unexpected(self):
        return [f for w in self.workers for f in w.unexpected]

    def stats(self):
        merged = Stats()
        for w in self.workers:
            for k, v in w.stats.lat.items():
                merged.lat[k].extend(v)
            for k, c in w.stats.outcomes.items():
                merged.outcomes[k].update(c)
        return merged


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def figures(wl):
    stats = wl.stats()
    duration = wl.finished - wl.started
    rows = []
    total = 0
    for kind in sorted(stats.lat):
        v = sorted(stats.lat[kind])
        total += len(v)
        rows.append({"op": kind, "calls": len(v), "per_s": len(v) / duration,
                     "p50_ms": percentile(v, 50) * 1000, "p99_ms": percentile(v, 99) * 1000,
                     "outcomes": dict(stats.outcomes[kind])})
    return {"duration_s": duration, "calls": total, "per_s": total / duration, "ops": rows}


def figures_table(fig):
    lines = ["| operation | calls | calls/s | p50 ms | p99 ms | outcomes |",
             "|---|---:|---:|---:|---:|---|"]
    for r in fig["ops"]:
        out = ", ".join("%s %d" % (k, n) for k, n in sorted(r["outcomes"].items(),
                                                           key=lambda kv: -kv[1]))
        lines.append("| `%s` | %d | %.1f | %.2f | %.2f | %s |"
                     % (r["op"], r["calls"], r["per_s"], r["p50_ms"], r["p99_ms"], out))
    lines.append("| all | %d | %.1f | | | |" % (fig["calls"], fig["per_s"]))
    return lines


# --- the checks ----------------------------------------------------------------

class Tap:
    def __init__(self, prefix):
        self.prefix = prefix
        self.failed = 0
        self.count = 0

    def check(self, ok, name, details=()):
        self.count += 1
        if not ok:
            self.failed += 1
        print("%s - %s: %s" % ("ok" if ok else "not ok", self.prefix, name))
        details = list(details)
        for d in details[:30]:
            for line in str(d).rstrip("\n").splitlines():
                print("#   " + line)
        if len(details) > 30:
            print("#   ... and %d more" % (len(details) - 30))
        sys.stdout.flush()
        return ok

    def comment(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()


def login_statistics(conn):
    cols = ("allowed", "refused_locked", "refused_busy", "checked", "succeeded", "unrecorded")
    row = q_all(conn, "SELECT %s FROM user_mgmt.login_statistics()" % ", ".join(cols))[0]
    return dict(zip(cols, row))


class Snapshot:
    """What the database holds at the end, read by a superuser."""

    def __init__(self, conn):
        q(conn, "SELECT user_mgmt.await_login_writer()")
        self.users = {r[0]: r for r in q_all(
            conn, "SELECT id, username::text, role::text, is_active, hashed_password::text "
                  "FROM user_mgmt.users")}
        self.by_name = {r[1].lower(): r for r in self.users.values()}
        self.accounts = {r[0]: r for r in q_all(
            conn, "SELECT id, failed_login_count, locked_until IS NOT NULL FROM user_mgmt.accounts")}
        self.login_state = {r[0]: r for r in q_all(
            conn, "SELECT user_id, pending, confirmed, erased, locked_until IS NOT NULL "
                  "FROM user_mgmt.login_state")}
        self.events = q_all(conn, "SELECT id, event, user_id, username, detail, application_name "
                                  "FROM user_mgmt.auth_events ORDER BY id")
        self.sessions = {r[0]: r for r in q_all(
            conn, "SELECT id::text, user_id, origin, revoked_at IS NOT NULL, revoke_reason "
                  "FROM user_mgmt.sessions")}
        self.refresh_tokens = defaultdict(dict)
        for sid, h, used in q_all(conn, "SELECT session_id::text, token_hash, used_at IS NOT NULL "
                                        "FROM user_mgmt.refresh_tokens"):
            self.refresh_tokens[sid][bytes(h)] = used
        self.keys = {r[0]: r[1] for r in q_all(
            conn, "SELECT kid, retired_at IS NOT NULL FROM user_mgmt.signing_keys")}


def verify(conn, token):
    """(True, claims) or (False, message) for a 28000; other errors raise."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT user_mgmt.verify_token(%s)", (token,))
            return True, cur.fetchone()[0]
    except psycopg2.Error as e:
        if e.pgcode != "28000":
            raise
        return False, e.diag.message_primary


def refresh_hash(token):
    """What the database keeps of a refresh token: SHA-256 of its 32 bytes."""
    return hashlib.sha256(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))).digest()


def in_range(value, lo, hi):
    return lo <= value <= hi


class Checker:
    def __init__(self, wl, tap, crash_count=0):
        self.wl = wl
        self.ledger = wl.ledger
        self.tap = tap
        self.crashed = crash_count > 0
        self.conn = connect()
        self.conn.autocommit = True
        self.snap = Snapshot(self.conn)
        self.enders_user = defaultdict(list)
        self.enders_session = defaultdict(list)
        self.enders_key = defaultdict(list)
        for e in self.ledger.enders:
            {"user": self.enders_user, "session": self.enders_session,
             "key": self.enders_key}[e.scope][e.key].append(e)
        self.unknown_attempts = Counter(a.user.name for a in self.ledger.attempts
                                        if a.result == "unknown" and a.user is not None)
        self.unknown_opened = Counter()     # sign_in/login in flight at a crash that let in

    def close(self):
        self.conn.close()

    # what may end a session

    def session_enders(self, s):
        """(possible, definite) enders of session s."""
        possible, definite = [], []
        for e in self.enders_session[s.sid]:
            possible.append(e)
            if e.definite:
                definite.append(e)
        for e in self.enders_user[s.user.name]:
            if e.t1 > s.t0:                 # not over before the session was asked for
                possible.append(e)
                if e.definite and e.t0 > s.t1:
                    definite.append(e)
        return possible, definite

    # 1. users

    def check_users(self):
        snap, problems = self.snap, []
        for u in self.ledger.user_list:
            row = snap.users.get(u.id)
            if u.deleted == "yes":
                if row is not None:
                    problems.append("user %s (%s) was deleted, still there" % (u.id, u.name))
                continue
            if row is None:
                if u.deleted == "no":
                    problems.append("user %s (%s), whose sign_up committed, is missing" % (u.id, u.name))
                continue
            if row[1] != u.name:
                problems.append("user %s is named %r, not %r" % (u.id, row[1], u.name))
            if row[2] not in u.role:
                problems.append("user %s has role %s, the ledger says %s" % (u.id, row[2], sorted(u.role)))
            if row[3] not in u.active:
                problems.append("user %s is_active %s, the ledger says %s" % (u.id, row[3], sorted(u.active)))
            matches = [pw for pw in u.pw if q(self.conn, "SELECT user_mgmt.verify_password(%s, %s)",
                                             pw, row[4])]
            if len(matches) != 1:
                problems.append("user %s: %d of the %d candidate current passwords verify"
                                % (u.id, len(matches), len(u.pw)))
            else:
                u.pw_final = u.pw.index(matches[0])
        self.tap.check(not problems, "every user whose creation committed is there with the "
                       "ledger's role, activation and current password (%d users)"
                       % len(self.ledger.user_list), problems)

    def check_whole_accounts(self):
        snap, problems = self.snap, []
        created = Counter(e[2] for e in snap.events if e[1] == "user_created")
        deleted = Counter(e[2] for e in snap.events if e[1] == "user_deleted")
        for uid, row in snap.users.items():
            if created[uid] != 1:
                problems.append("users row %s (%s) has %d user_created events"
                                % (uid, row[1], created[uid]))
        for uid, n in created.items():
            if uid not in snap.users and deleted[uid] != 1:
                problems.append("user_created event of user %s, which is gone without a "
                                "user_deleted event" % uid)
        known = {u.id for u in self.ledger.user_list}
        maybe = {name.lower(): pw for name, pw in self.ledger.maybe_users}
        for uid, row in snap.users.items():
            if uid in known or row[1].startswith(PROBE_PREFIX):
                continue
            pw = maybe.get(row[1].lower())
            if pw is None:
                problems.append("users row %s (%s) that no client made" % (uid, row[1]))
            elif not (row[2] == "USER" and row[3]
                      and q(self.conn, "SELECT user_mgmt.verify_password(%s, %s)", pw, row[4])):
                problems.append("user %s from a sign_up in flight is not whole: %r" % (uid, row[:4]))
        for name in self.ledger.absent_names:
            if name.lower() in snap.by_name:
                problems.append("a rolled-back sign_up made user %r" % name)
        in_flight = sum(1 for name, _ in self.ledger.maybe_users if name.lower() in snap.by_name)
        self.tap.check(not problems, "no half-made account: every users row has its one "
                       "user_created event and was made by a client; rolled-back sign-ups are "
                       "absent (%d); sign-ups in flight at a crash are whole or absent (%d of %d "
                       "present)" % (len(self.ledger.absent_names), in_flight,
                                     len(self.ledger.maybe_users)), problems)

    # 2. login attempts against the audit trail

    def check_attempts(self):
        snap, problems = self.snap, []
        led = defaultdict(list)
        for a in self.ledger.attempts:
            led[(a.app, a.given.lower())].append(a)
        ev = defaultdict(list)
        for e in snap.events:
            if e[1] in ("login_ok", "login_failed"):
                ev[(e[5], (e[3] or "").lower())].append(e)
        for key in set(ev) - set(led):
            if not (key[0] or "").startswith("load-"):
                continue        # not a load client (the crash tests' probes)
            problems.append("%d login events of %s that no client made: %r"
                            % (len(ev[key]), key, ev[key][:3]))
        matched = resolved = 0
        for key, attempts in led.items():
            events = ev.get(key, [])
            n_unknown = sum(1 for a in attempts if a.result == "unknown")
            if n_unknown and attempts[-1].result == "unknown" and n_unknown == 1:
                ok_len = len(events) in (len(attempts) - 1, len(attempts))
            else:
                ok_len = len(events) == len(attempts) and n_unknown == 0
            if not ok_len:
                problems.append("%s: %d attempts in the ledger (%d unknown), %d events"
                                % (key, len(attempts), n_unknown, len(events)))
                continue
            for a, e in zip(attempts, events):
                if a.result == "unknown":
                    resolved += 1
                    if e[1] == "login_ok" and a.kind in ("sign_in", "login"):
                        self.unknown_opened[a.user.name] += 1
                matched += 1
                why = self.attempt_mismatch(a, e)
                if why:
                    problems.append("%s attempt %s (%s, right=%s, %s): event %r: %s"
                                    % (key, a.kind, a.result, a.right, a.t1, e, why))
        self.tap.check(not problems, "the audit trail has exactly one login event per attempt "
                       "the clients made, in order per connection and name, with a matching "
                       "outcome (%d attempts; %d in flight at a crash, %d of them recorded)"
                       % (matched, sum(1 for a in self.ledger.attempts if a.result == "unknown"),
                          resolved), problems)

    def attempt_mismatch(self, a, e):
        _, event, uid, _, detail, _ = e
        if a.result == "ok":
            if event != "login_ok":
                return "the client was let in"
            if uid != a.user.id:
                return "event of user %s" % uid
            return None
        if a.result == "unknown":
            return None
        if event != "login_failed":
            return "the client was refused"
        if detail == "unknown_user":
            if a.user is not None and uid is None and not any(
                    e2.what.startswith("delete_user") and e2.t0 < a.t1
                    for e2 in self.enders_user[a.user.name]):
                return "unknown_user for an account that existed"
            return None
        if a.user is None:
            return "a known-user event for an unknown name"
        if uid != a.user.id:
            return "event of user %s, not %s" % (uid, a.user.id)
        if detail == "wrong_password":
            return "a right password was checked as wrong" if a.right else None
        if detail == "inactive":
            if not any(e2.what.startswith("set_active(False)") and e2.t0 < a.t1
                       for e2 in self.enders_user[a.user.name]):
                return "inactive, but no deactivation had begun"
            return None
        if detail in ("locked", "busy"):
            return None
        return "unexpected detail %r" % detail

    # 3. the lockout

    def check_lockout(self):
        snap, problems = self.snap, []
        per_user = defaultdict(list)
        for e in snap.events:
            if e[1] in LOGIN_EVENTS and e[2] is not None:
                per_user[e[2]].append(e)
        windows = max_window = recovered = 0
        by_id = {u.id: u for u in self.ledger.user_list}
        for uid in set(per_user) | set(by_id):
            events = per_user.get(uid, [])
            user = by_id.get(uid)
            unknown = self.unknown_attempts[user.name] if user else 0
            lo = hi = 0             # bounds of confirmed - erased
            locked = False
            in_window = 0           # failures since the last reset
            expect_lock = False
            for i, e in enumerate(events):
                _, event, _, _, detail, _ = e
                if expect_lock and event != "locked":
                    problems.append("user %s: %d failures counted, but no lock began: %r"
                                    % (uid, MAX_FAILED, e))
                expect_lock = False
                if event == "login_ok":
                    if locked:
                        problems.append("user %s: a login succeeded while locked: %r" % (uid, e))
                    lo, in_window = 0, 0
                    windows += 1
                elif event == "unlocked":
                    lo = hi = 0
                    locked = False
                    in_window = 0
                    windows += 1
                elif event == "locked":
                    follows_failure = i > 0 and events[i - 1][1] == "login_failed" \
                        and events[i - 1][4] in FAILURE_DETAILS
                    if follows_failure and hi + unknown < MAX_FAILED:
                        problems.append("user %s: locked after at most %d counted failures: %r"
                                        % (uid, hi, e))
                    if not follows_failure and not (self.crashed and unknown):
                        problems.append("user %s: a lock that no failure began: %r" % (uid, e))
                    locked = True
                elif event == "login_failed" and detail in FAILURE_DETAILS:
                    if locked:
                        problems.append("user %s: a password checked while locked: %r" % (uid, e))
                    lo += 1
                    hi += 1
                    in_window += 1
                    max_window = max(max_window, in_window)
                    if lo > MAX_FAILED or in_window > MAX_FAILED:
                        problems.append("user %s: %d failures counted in one lockout window: %r"
                                        % (uid, max(lo, in_window), e))
                    if lo == MAX_FAILED:
                        expect_lock = True
                elif event == "login_failed" and detail == "locked":
                    if not any(x[1] == "locked" for x in events[:i]):
                        problems.append("user %s: refused as locked before any lock: %r" % (uid, e))
            if expect_lock:
                problems.append("user %s: %d failures counted at the end, no lock" % (uid, MAX_FAILED))
            # the end state
            ls = snap.login_state.get(uid)
            failures = sum(1 for e in events if e[1] == "login_failed" and e[4] in FAILURE_DETAILS)
            if ls is not None:
                _, pending, confirmed, erased, ls_locked = ls
                if pending != 0:
                    problems.append("user %s: %d checks still pending at the end" % (uid, pending))
                recovered += max(0, confirmed - failures)
                if not in_range(confirmed - failures, 0, unknown):
                    problems.append("user %s: login_state.confirmed %d, %d failure events, %d "
                                    "attempts in flight at a crash" % (uid, confirmed, failures, unknown))
                count = confirmed - erased
                if not in_range(count, lo, hi + unknown):
                    problems.append("user %s: failed count %d, the trail allows %d..%d"
                                    % (uid, count, lo, hi + unknown))
                if ls_locked != locked:
                    problems.append("user %s: locked %s, the trail says %s" % (uid, ls_locked, locked))
            elif events:
                problems.append("user %s has login events but no login_state" % uid)
            acc = snap.accounts.get(uid)
            if acc is not None and ls is not None and (acc[1] != ls[2] - ls[3] or acc[2] != ls[4]):
                problems.append("user %s: accounts view %r disagrees with login_state %r" % (uid, acc, ls))
        self.tap.check(not problems, "lockout: never more than %d failures per lockout window "
                       "(most seen: %d), a lock exactly when they are reached, nothing checked "
                       "while locked, and the counts and locks at the end as the trail has them "
                       "(%d resets; %d checks in flight at a crash charged as failures)"
                       % (MAX_FAILED, max_window, windows, recovered), problems)

    def check_statistics(self, before, after):
        d = {k: after[k] - before[k] for k in before}
        ev = Counter((e[1], e[4]) for e in self.snap.events if e[1] in ("login_ok", "login_failed"))
        oks = sum(n for (e, _), n in ev.items() if e == "login_ok")
        want = {
            "refused_locked": ev[("login_failed", "locked")],
            "refused_busy": ev[("login_failed", "busy")],
            "checked": oks + ev[("login_failed", "wrong_password")],
            "allowed": oks + ev[("login_failed", "wrong_password")] + ev[("login_failed", "inactive")],
            "succeeded": oks,
            "unrecorded": 0,
        }
        problems = ["%s: login_statistics says %d, the trail %d" % (k, d[k], want[k])
                    for k in want if d[k] != want[k]]
        self.tap.check(not problems, "login_statistics() agrees with the audit trail "
                       "(allowed %d, checked %d, refused locked %d, busy %d)"
                       % (d["allowed"], d["checked"], d["refused_locked"], d["refused_busy"]),
                       problems)

    # 4. account events

    def check_account_events(self):
        snap, problems = self.snap, []
        ev = defaultdict(Counter)
        for e in snap.events:
            ev[e[2]][e[1]] += 1
        for u in self.ledger.user_list:
            c = ev[u.id]
            gone = u.deleted != "no"
            rules = [("password_changed", u.pw_changes, gone),
                     ("role_changed", u.role_events, False),
                     ("deactivated", u.deactivated_events, False),
                     ("activated", u.activated_events, False),
                     ("unlocked", u.unlocks, False)]
            for event, (conf, unk), lenient in rules:
                # confirmed: changes the client saw commit and knew to be real
                # changes; unknown: outcome unknown, or a value set when the
                # admin did not know the old one (maybe no change at all).  A
                # password change racing the account's deletion may update
                # no row (lenient).
                lo = 0 if lenient else conf
                if not in_range(c[event], lo, conf + unk):
                    problems.append("user %s: %d %s events, the ledger: %d confirmed, %d unknown"
                                    % (u.id, c[event], event, conf, unk))
            # A change in flight at a crash is all there or not at all: its
            # event exists exactly when its password is the current one.
            if u.pw_changes[1] and u.deleted == "no" and u.pw_final is not None:
                want = u.pw_changes[0] + (1 if u.pw_final == len(u.pw) - 1 else 0)
                if c["password_changed"] != want:
                    problems.append("user %s: %d password_changed events; %d committed changes, "
                                    "and the one in flight at the crash %s"
                                    % (u.id, c["password_changed"], u.pw_changes[0],
                                       "took effect" if u.pw_final else "did not"))
            want_deleted = {"yes": (1, 1), "maybe": (0, 1), "no": (0, 0)}[u.deleted]
            if not in_range(c["user_deleted"], *want_deleted):
                problems.append("user %s: %d user_deleted events (deleted: %s)"
                                % (u.id, c["user_deleted"], u.deleted))
        self.tap.check(not problems, "every committed password change, role change, "
                       "(de)activation, unlock and deletion has its audit event, and no other "
                       "(%d users)" % len(self.ledger.user_list), problems)

    # 5. sessions

    def check_observations(self):
        problems = []
        n_alive = n_dead = 0
        for s, kid, t0, t1, alive, kind, key_only, where in self.ledger.observations:
            possible, definite = self.session_enders(s)
            kp = self.enders_key.get(kid, []) if kid else []
            if alive:
                n_alive += 1
                late = [e for e in definite + [k for k in kp if k.definite] if e.t1 < t0]
                if late:
                    problems.append("%s: %s of session %s (user %s, key %s) succeeded %.3f s after "
                                    "%s had returned" % (where, kind, s.sid, s.user.id, kid,
                                                         t0 - late[0].t1, late[0].what))
            elif key_only:
                n_dead += 1
                if not any(e.t0 < t1 for e in kp):
                    problems.append("%s: %s of session %s: its key %s refused with no "
                                    "retirement of it begun" % (where, kind, s.sid, kid))
            else:
                n_dead += 1
                if not any(e.t0 < t1 for e in possible):
                    problems.append("%s: %s of session %s (user %s): rejected with nothing "
                                    "that ends it begun" % (where, kind, s.sid, s.user.id))
        self.tap.check(not problems, "every verification, refresh and logout during the load "
                       "agrees with the revocations the clients saw return: none succeeded after "
                       "its session was ended, none was refused before anything ended it "
                       "(%d accepted, %d refused)" % (n_alive, n_dead), problems)

    def final_state(self, s):
        possible, definite = self.session_enders(s)
        if definite or s.dead_seen:
            return "dead"
        if not possible:
            return "live"
        return "either"

    def check_sessions(self):
        snap, problems = self.snap, []
        counts = Counter()
        live = dead = either = 0
        for s in self.ledger.sessions.values():
            row = snap.sessions.get(s.sid)
            if row is None:
                problems.append("session %s of user %s (%s), whose opening returned, is missing"
                                % (s.sid, s.user.id, s.origin))
                continue
            if row[1] != s.user.id or row[2] != s.origin:
                problems.append("session %s: user %s origin %s, the ledger: %s %s"
                                % (s.sid, row[1], row[2], s.user.id, s.origin))
            state = self.final_state(s)
            token, kid, _ = s.tokens[-1]
            ok, claims = verify(self.conn, token)
            key_dead = snap.keys.get(kid, True) is True
            if state == "live":
                live += 1
                if key_dead:
                    if ok:
                        problems.append("session %s: a token of retired key %s verifies" % (s.sid, kid))
                elif not ok:
                    problems.append("session %s (user %s), live for the ledger, is refused: %s"
                                    % (s.sid, s.user.id, claims))
                elif claims.get("role") != snap.users.get(s.user.id, (0, 0, None))[2]:
                    problems.append("session %s: a live token with role %s, the user has %s"
                                    % (s.sid, claims.get("role"), snap.users.get(s.user.id)))
                if row[3]:
                    problems.append("session %s live for the ledger is revoked (%s)" % (s.sid, row[4]))
            elif state == "dead":
                dead += 1
                if ok:
                    possible, definite = self.session_enders(s)
                    problems.append("session %s (user %s) verifies after %s"
                                    % (s.sid, s.user.id, (definite[0].what if definite else "a rejection")))
            else:
                either += 1
            counts[s.user.name] += 1
        # Per user: the sessions in the table are those the ledger holds, and
        # one for each sign_in/login in flight at a crash whose login_ok
        # event is there (the writer commits both in one step: all or none).
        per_user = Counter(r[1] for r in snap.sessions.values())
        for u in self.ledger.user_list:
            n = per_user.get(u.id, 0)
            if n != counts[u.name] + self.unknown_opened[u.name]:
                problems.append("user %s has %d sessions; the ledger %d, and %d sign-ins in flight "
                                "at a crash have their login_ok event (%d in flight in all)"
                                % (u.id, n, counts[u.name], self.unknown_opened[u.name],
                                   self.ledger.maybe_sessions[u.name]))
        # Deleted users: no session of theirs verifies; every session row is
        # revoked, but for one opened beside the deletion (its sign_in's
        # password check saw the user, the deletion committed before the
        # writer opened the session: the session's user no longer exists,
        # so it cannot verify).
        raced = 0
        for u in self.ledger.user_list:
            if u.id in snap.users:
                continue
            deletion = [e for e in self.enders_user[u.name] if e.what.startswith("delete_user")]
            for sid, r in snap.sessions.items():
                if r[1] != u.id or r[3]:
                    continue
                s = self.ledger.sessions.get(sid)
                if s is not None and any(s.t1 > e.t0 for e in deletion):
                    raced += 1
                elif s is None and self.ledger.maybe_sessions[u.name]:
                    raced += 1
                else:
                    problems.append("session %s of deleted user %s is not revoked" % (sid, u.id))
            for s in self.ledger.sessions.values():
                if s.user is u:
                    ok, claims = verify(self.conn, s.tokens[-1][0])
                    if ok:
                        problems.append("session %s of deleted user %s verifies" % (s.sid, u.id))
        self.tap.check(not problems, "at the end every session the ledger holds is in the table; "
                       "the live ones verify with the user's current role, the ended ones do not; "
                       "no session of a deleted user verifies, and all are revoked but those "
                       "opened beside the deletion (%d live, %d ended, %d either: opened beside a "
                       "change or in flight at a crash; %d opened beside a deletion)"
                       % (live, dead, either, raced), problems)

    def check_session_events(self):
        snap, problems = self.snap, []
        logout_ev = Counter()
        reuse_ev = Counter()
        logout_all_ev = defaultdict(list)
        for e in snap.events:
            if e[1] == "session_revoked" and e[4] and e[4].startswith("logout "):
                logout_ev[e[4].split(" ", 1)[1]] += 1
            elif e[1] == "refresh_token_reused":
                reuse_ev[e[4]] += 1
            elif e[1] == "session_revoked" and e[4] and e[4].startswith("logout_all: "):
                logout_all_ev[e[2]].append(int(e[4].split()[1]))
        for sid, row in snap.sessions.items():
            if (row[4] == "logout") != (logout_ev[sid] == 1) or logout_ev[sid] > 1:
                problems.append("session %s: revoked for %s, %d logout events" % (sid, row[4], logout_ev[sid]))
            if row[4] == "refresh_token_reused" and not reuse_ev[sid]:
                problems.append("session %s: revoked for a reused refresh token, no such event" % sid)
        for s in self.ledger.sessions.values():
            lo = 1 if s.logout_true else 0
            hi = 1 if (s.logout_true or s.logout_unknown) else 0
            if not in_range(logout_ev[s.sid], lo, hi):
                problems.append("session %s: %d logout events, the ledger: logout true %d, unknown %d"
                                % (s.sid, logout_ev[s.sid], s.logout_true, s.logout_unknown))
            if not in_range(reuse_ev[s.sid], s.replays[0], sum(s.replays)):
                problems.append("session %s: %d refresh_token_reused events, %d replays (+%d unknown)"
                                % (s.sid, reuse_ev[s.sid], s.replays[0], s.replays[1]))
        for u in self.ledger.user_list:
            got = sorted(logout_all_ev.get(u.id, []))
            want = sorted(u.logout_all)
            extra = Counter(got) - Counter(want)
            missing = Counter(want) - Counter(got)
            if missing or sum(extra.values()) > u.logout_all_unknown:
                problems.append("user %s: logout_all events %s, the ledger %s (+%d unknown)"
                                % (u.id, got, want, u.logout_all_unknown))
        self.tap.check(not problems, "every logout that returned true, every replayed refresh "
                       "token and every logout_all has its audit event, with the count returned",
                       problems)

    def check_refresh_chains(self):
        """The refresh_tokens table against the ledger's chains: each token a
        client was given is there, used exactly when the client exchanged
        it; a refresh in flight at a crash either used its token and added
        the next one, or did neither."""
        problems = []
        n = lost = 0
        for s in self.ledger.sessions.values():
            if s.origin != "sign_in":
                continue
            n += 1
            table = self.snap.refresh_tokens.get(s.sid, {})
            given = [(t, True) for t in s.used]
            if s.refresh is not None:
                given.append((s.refresh, False))
            for token, used in given:
                h = refresh_hash(token)
                if h not in table:
                    problems.append("session %s: a refresh token it was given is missing" % s.sid)
                elif table[h] != used:
                    problems.append("session %s: a refresh token %s used" % (s.sid, "not" if used else "already"))
            extra = len(table) - len(given)
            if s.lost_refresh is not None:
                lost += 1
                h = refresh_hash(s.lost_refresh)
                if h not in table or extra != 1 + (1 if table[h] else 0):
                    problems.append("session %s: the refresh in flight at the crash is half done: its "
                                    "token %s, %d tokens the client never saw"
                                    % (s.sid, "missing" if h not in table else
                                       ("used" if table[h] else "unused"), extra - 1))
            elif extra != 0:
                problems.append("session %s: %d refresh tokens no client was given" % (s.sid, extra))
        self.tap.check(not problems, "refresh tokens: every one a client was given is stored, used "
                       "exactly when it was exchanged; a refresh in flight at a crash is whole or "
                       "absent (%d sessions, %d refreshes in flight)" % (n, lost), problems)

    def check_refresh_tokens(self):
        """Last, as it changes state: a live session's current refresh token
        refreshes, an ended one's does not."""
        problems = []
        n = 0
        for s in self.ledger.sessions.values():
            if not s.chain_known or s.refresh is None:
                continue
            state = self.final_state(s)
            if state == "either":
                continue
            n += 1
            try:
                rows = q_all(self.conn, "SELECT access_token FROM user_mgmt.refresh(%s)", s.refresh)
                if state == "dead":
                    problems.append("session %s: ended, but its refresh token refreshed" % s.sid)
                else:
                    ok, claims = verify(self.conn, rows[0][0])
                    if not ok:
                        problems.append("session %s: the refreshed token is refused: %s" % (s.sid, claims))
            except psycopg2.Error as e:
                if state == "live":
                    problems.append("session %s: live, but refresh failed: %s %s"
                                    % (s.sid, e.pgcode, e.diag.message_primary))
                elif e.pgcode != "28000":
                    problems.append("session %s: refresh failed with %s" % (s.sid, e.pgcode))
        self.tap.check(not problems, "the current refresh token of every live session refreshes "
                       "(and the new token verifies), none of an ended one does (%d sessions)" % n,
                       problems)

    def check_keys(self):
        snap, problems = self.snap, []
        for kid, state in self.ledger.keys.items():
            if kid not in snap.keys:
                problems.append("key %s made by rotate_signing_key is missing" % kid)
            elif state == "retired" and not snap.keys[kid]:
                problems.append("key %s was retired, is not" % kid)
            elif state == "live" and snap.keys[kid]:
                problems.append("key %s is retired, nobody retired it" % kid)
        # a token of each retired key is refused, of each live one accepted
        # (when its session is live): covered per session above; here the kid
        for s in self.ledger.sessions.values():
            for token, kid, _ in s.tokens:
                if self.ledger.keys.get(kid) == "retired":
                    ok, msg = verify(self.conn, token)
                    if ok or msg != "token has an unknown key id":
                        problems.append("token of retired key %s: %s" % (kid, msg if not ok else "verifies"))
                    break
        self.tap.check(not problems, "signing keys: every rotation is there, the retired keys "
                       "are retired and their tokens refused (%d rotations, %d retired)"
                       % (len(self.ledger.rotations),
                          sum(1 for v in self.ledger.keys.values() if v == "retired")), problems)

    def check_serialization(self):
        """A change_password under REPEATABLE READ or SERIALIZABLE updates the
        users row with the transaction's snapshot: 40001 when the row changed
        after it, by an admin, or by the login writer copying the login state
        of another attempt on the account into the row (README: retry, as for
        any serialization failure), or under SERIALIZABLE when PostgreSQL
        cannot prove the order of overlapping transactions (read/write
        dependencies: retry).  Any other 40001 is a failure."""
        problems = []
        attempts = defaultdict(list)
        for a in self.ledger.attempts:
            if a.user is not None:      # None: an unknown username
                attempts[a.user.name].append(a)
        for u, t0, t1, app, msg in self.ledger.serialization:
            if "read/write dependencies" in (msg or ""):
                continue    # SERIALIZABLE's own false positives: PostgreSQL's contract, retry
            writers = [e for e in self.enders_user[u.name]
                       if e.what.startswith(("set_role", "set_active", "delete_user"))
                       and e.t0 < t1 and e.t1 > t0 - SNAPSHOT_AGE_MAX]
            copies = [a for a in attempts[u.name]
                      if not (a.app == app and a.t0 == t0)
                      and a.t0 < t1 and a.t1 > t0 - SNAPSHOT_AGE_MAX]
            if not writers and not copies:
                problems.append("%s: change_password of user %s failed with 40001 (%s) with no "
                                "other write of that user in the ledger beside it" % (app, u.id, msg))
        self.tap.check(not problems, "serialization failures (40001) only where the ledger has a "
                       "concurrent write of the same users row: an admin's, or the login "
                       "writer's copy of another attempt's login state (%d seen)"
                       % len(self.ledger.serialization), problems)

    def check_all(self, stats_before=None):
        self.check_users()
        self.check_whole_accounts()
        self.check_attempts()
        self.check_lockout()
        if stats_before is not None:
            self.check_statistics(stats_before, login_statistics(self.conn))
        self.check_account_events()
        self.check_observations()
        self.check_sessions()
        self.check_session_events()
        self.check_refresh_chains()
        self.check_keys()
        self.check_serialization()
        self.check_refresh_tokens()


def server_log_problems(patterns=("PANIC", "terminated by signal", "login writer could not",
                                  "deadlock detected", "TRAP:")):
    path = os.path.join(os.environ.get("UM_CLUSTER_DIR", ""), "postgresql.log")
    if not os.path.exists(path):
        return None
    with open(path, errors="replace") as f:
        return [line.rstrip() for line in f if any(p in line for p in patterns)]


def report_workload(tap, wl, fig):
    tap.comment("%d clients (%s), %d admin connections, %.1f s, %d calls (%.1f/s)"
                % (len(wl.clients), ", ".join("%d %s" % (sum(1 for c in wl.clients if c.mode == m), m)
                                              for m in MODES),
                   len(wl.admins), fig["duration_s"], fig["calls"], fig["per_s"]))
    for line in figures_table(fig):
        tap.comment(line)


def run_workload_checks(tap, wl, leftover):
    errors = wl.unexpected()
    deadlocks = [e for e in errors if "40P01" in e]
    tap.check(not leftover, "every client finished in time", leftover)
    tap.check(not deadlocks, "no deadlock (40P01)", deadlocks)
    tap.check(not errors, "no error beyond the expected ones (23505, 28P01, 28000, 55P03, 40001 "
              "beside a write of the same user), no WARNING", errors)


def main():
    clients = env_int("UM_LOAD_CLIENTS", 16)
    seconds = env_float("UM_LOAD_SECONDS", 20)
    cost = env_int("UM_LOAD_BCRYPT_COST", 4)
    seed = os.environ.get("UM_LOAD_SEED") or str(random.randrange(1 << 30))
    tap = Tap("load")
    tap.comment("seed %s (UM_LOAD_SEED), bcrypt cost %d" % (seed, cost))
    setup_database(cost, seconds)
    wl = Workload(clients, seconds, int(seed))
    conn = connect()
    conn.autocommit = True
    before = login_statistics(conn)
    conn.close()
    log_before = server_log_problems() or []
    wl.start()
    leftover = wl.join()
    fig = figures(wl)
    report_workload(tap, wl, fig)
    run_workload_checks(tap, wl, leftover)
    checker = Checker(wl, tap)
    try:
        checker.check_all(stats_before=before)
    finally:
        checker.close()
    log = server_log_problems()
    if log is not None:
        new = log[len(log_before):]
        tap.check(not new, "the server log has no crash, PANIC, deadlock or login writer error", new)
    if os.environ.get("UM_LOAD_REPORT"):
        with open(os.environ["UM_LOAD_REPORT"], "w") as f:
            json.dump({"clients": clients, "seconds": seconds, "cost": cost, "seed": seed,
                       "figures": fig}, f, indent=1)
    if os.environ.get("UM_LOAD_MARKDOWN"):
        write_markdown(os.environ["UM_LOAD_MARKDOWN"], wl, fig, cost)
    drop_database()
    return 1 if tap.failed else 0


def write_markdown(path, wl, fig, cost):
    lines = ["## Load: `bash test/load/run.sh`", "",
             "%s; %d clients (%s) and %d admin connection(s) for %.0f s, bcrypt cost %d, "
             "on this project's machine (%d cores); one run. Calls per second are per "
             "operation over the whole run; latency is per call from the client (psycopg2, "
             "Unix socket), commit included."
             % (time.strftime("%Y-%m-%d"), len(wl.clients),
                ", ".join("%d %s" % (sum(1 for c in wl.clients if c.mode == m), m) for m in MODES),
                len(wl.admins), fig["duration_s"], cost, os.cpu_count() or 0), ""]
    lines += figures_table(fig)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
