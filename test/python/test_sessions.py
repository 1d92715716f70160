#!/usr/bin/python3
"""Sessions (1.4) end to end, tested the way an attacker would: sign_in,
refresh-token rotation and reuse detection, logout in every form, and
revocation that reaches other, already-connected backends at once.

Run: /usr/bin/python3 test/python/test_sessions.py
(needs PGHOST/PGPORT/PGUSER of a superuser on a cluster started with
shared_preload_libraries = 'user_mgmt'; the log test reads the server log,
found through pg_current_logfile() or $UM_CLUSTER_DIR/postgresql.log).

What is proven, with real connections and exact assertions:

1. FlowTest: sign_in's 5 columns; the access token verifies here and in
   PyJWT (sid/sub/role); refresh rotates; a used refresh token presented
   again revokes the whole session (refresh_token_reused), after which no
   token of it works; logout in all its forms; bad input; privileges.
2. RevocationTest: a backend B holding an open transaction (READ
   COMMITTED, REPEATABLE READ, SERIALIZABLE; with and without
   set_session_token claims) sees every kind of revocation committed by
   backend A at its very next call (< 1 s), with the message for the
   cause; a rolled-back account change revokes nothing.
3. RollbackTest: a caller's ROLLBACK cannot undo a refresh token's
   rotation or a logout; sessions work in read-only and serializable
   transactions.
4. RaceTest: 16 parallel refreshes of one token (one winner, the session
   revoked); logout_all racing sign_ins; sign_ins racing a role change
   (the epoch check).
5. CapTest: user_mgmt.max_sessions_per_user, sequential and concurrent.
6. ExpiryTest: session_lifetime and session_idle_timeout.
7. BusyTest: a refresh beside an uncommitted account change gets 55P03 at
   once, and 28000 once the change commits.
8. LogHygieneTest: no refresh token in the server log after failures.

Concurrency is bounded: at most 16 threads, each with its own connection
(statement_timeout 30s as a safety net), synchronized with a barrier; every
join and wait has a deadline.  The only sleeps are poll intervals of
condition loops with deadlines (the log file, a clock passing a session's
end).  Timing is asserted where the brief demands promptness: revocation
seen within 1 s, a busy refresh answered within 2 s.
"""

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import sys
import threading
import time
import unittest
import uuid

import asyncpg
import jwt
import psycopg2
import psycopg2.extensions
from psycopg2 import sql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_sessions"
CLIENT = "um_test_sessions_client"     # an unprivileged role: the application
PW = "correct horse battery"
NEW_PW = "another password 1"
SAFETY_OPTIONS = "-c statement_timeout=30s"
ISOLATION_LEVELS = ("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")
PAIR_COLUMNS = ("access_token", "refresh_token", "access_expires_at", "refresh_expires_at", "session_id")
REFRESH_RE = r"\A[A-Za-z0-9_-]{43}\Z"
N_PARALLEL = 16
BARRIER_TIMEOUT = 30
JOIN_TIMEOUT = 60
WAIT_TIMEOUT = 15
PROMPT = 1.0            # seconds: a revocation is seen by another backend within this
BUSY_PROMPT = 2.0       # seconds: a busy refresh is answered within this
REAL_TIME_END = 3       # seconds: session_lifetime / idle timeout of the real-time expiry test

LOGIN_ERROR = "invalid username or password"
REVOKED = "token's session has been revoked"
INACTIVE = "token's user is inactive"
USER_GONE = "token's user no longer exists"
SESSION_EXPIRED = "token's session has expired"
TOKEN_EXPIRED = "token has expired"
REUSED = "refresh token has already been used"
INVALID_REFRESH = "invalid refresh token"
BUSY = "the session is being changed by another transaction"
NOTHING_TO_LOG_OUT = "there is no session to log out"


# --- module fixture -------------------------------------------------------------

def setUpModule():
    tap.create_test_db(DB)
    admin = tap.connect(DB)
    admin.autocommit = True
    try:
        # Every connection of this file, the threads' too, hashes at cost 4
        # (a login at another cost would rehash).  The lockout is off: it
        # refuses more concurrent checks of one account than
        # max_failed_logins as 'busy' (test_lockout_guarantees.py), and the
        # races here sign in one account from 16 connections at once.
        for setting in ("user_mgmt.bcrypt_cost = 4", "user_mgmt.max_failed_logins = 0"):
            execute(admin, sql.SQL("ALTER DATABASE {} SET " + setting).format(sql.Identifier(DB)))
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(CLIENT)))
        execute(admin, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(CLIENT)))
    finally:
        admin.close()


def tearDownModule():
    try:
        conn = tap.connect(DB)
        conn.autocommit = True
        try:
            execute(conn, "SELECT user_mgmt.stop_login_writer()")
        finally:
            conn.close()
    except psycopg2.Error:
        pass
    tap.drop_test_db(DB)
    admin = tap.connect("postgres")
    admin.autocommit = True
    try:
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(CLIENT)))
    finally:
        admin.close()


# --- helpers ------------------------------------------------------------------------

def connect(user=None, **kw):
    """A new autocommit connection to the test database (superuser unless
    user is given) with the safety statement_timeout."""
    params = {"options": SAFETY_OPTIONS}
    if user is not None:
        params["user"] = user
    params.update(kw)
    conn = tap.connect(DB, **params)
    conn.autocommit = True
    return conn


def execute(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)  # no arguments: a % is just a %


def q(conn, query, *args):
    """The first column of the first row (None without a row)."""
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        row = cur.fetchone() if cur.description else None
        return None if row is None else row[0]


def q_all(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall()


def q_dict(conn, query, *args):
    """The first row as a dict (None without a row); column order kept."""
    with conn.cursor() as cur:
        cur.execute(query, args or None)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d.name for d in cur.description], row))


def outcome(conn, query, *args):
    """('ok', first column) or ('error', sqlstate, primary message)."""
    try:
        return ("ok", q(conn, query, *args))
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary)


def in_savepoint(conn, query, *args):
    """outcome() inside a savepoint of the open transaction, which goes on
    whatever happens."""
    execute(conn, "SAVEPOINT um_probe")
    out = outcome(conn, query, *args)
    execute(conn, "ROLLBACK TO SAVEPOINT um_probe" if out[0] == "error" else "RELEASE SAVEPOINT um_probe")
    return out


def end_transaction(conn):
    if not conn.closed and conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        execute(conn, "ROLLBACK")


def sign_in(conn, username, password=PW):
    pair = q_dict(conn, "SELECT * FROM user_mgmt.sign_in(%s, %s)", username, password)
    assert tuple(pair) == PAIR_COLUMNS, pair
    return pair


def refresh(conn, token):
    pair = q_dict(conn, "SELECT * FROM user_mgmt.refresh(%s)", token)
    assert tuple(pair) == PAIR_COLUMNS, pair
    return pair


def refresh_outcome(conn, token):
    """('ok', pair) or ('error', sqlstate, primary message)."""
    try:
        return ("ok", refresh(conn, token))
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary)


def unverified_claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def refresh_hash(token):
    return hashlib.sha256(base64.urlsafe_b64decode(token + "=")).digest()


def wait_for(what, condition, timeout=WAIT_TIMEOUT):
    """Polls condition() until it returns a true value (returned) or fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.01)  # poll interval of a condition loop


class Base(unittest.TestCase):
    """A superuser connection (admin) and an unprivileged one (client), both
    autocommit, and helpers."""

    counter = 0
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.admin = connect()
        cls.client = connect(user=CLIENT)

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.client.close()

    def setUp(self):
        for conn in (self.admin, self.client):
            end_transaction(conn)
            execute(conn, "RESET ALL")

    def new_conn(self, user=None, **kw):
        conn = connect(user, **kw)
        self.addCleanup(conn.close)
        return conn

    @contextlib.contextmanager
    def temp_conn(self, user=None):
        """A connection for a few statements, closed at the end of the block."""
        conn = connect(user)
        try:
            yield conn
        finally:
            conn.close()

    def new_user(self, role="USER"):
        """A fresh account: (id, username)."""
        Base.counter += 1
        name = "s%d_%s" % (Base.counter, uuid.uuid4().hex[:8])
        uid = q(self.admin, "SELECT user_mgmt.create_user(%s, %s, 'Session Test', %s)", name, PW, role)
        self.assertIsInstance(uid, int)
        return uid, name

    def session(self, sid):
        """The sessions row as a dict (None when there is none)."""
        return q(self.admin, "SELECT to_jsonb(s) FROM user_mgmt.sessions AS s WHERE id = %s", sid)

    def events(self, uid, *names):
        """[(event, detail)] of the user, in order."""
        return q_all(self.admin, "SELECT event, detail FROM user_mgmt.auth_events "
                     "WHERE user_id = %s AND event = ANY(%s) ORDER BY id", uid, list(names))

    def assertFails(self, conn, code, message, query, *args):
        with self.assertRaises(psycopg2.Error, msg="no error from %s %r" % (query, args)) as ctx:
            q(conn, query, *args)
        e = ctx.exception
        self.assertEqual((e.pgcode, e.diag.message_primary), (code, message),
                         "%s %r: %s" % (query, args, e))
        return e

    def assertVerifies(self, conn, token):
        claims = q(conn, "SELECT user_mgmt.verify_token(%s)", token)
        self.assertEqual(claims, unverified_claims(token))
        return claims

    def assertRejected(self, conn, token, message):
        return self.assertFails(conn, "28000", message, "SELECT user_mgmt.verify_token(%s)", token)

    def assertRefreshFails(self, conn, token, code, message):
        return self.assertFails(conn, code, message, "SELECT * FROM user_mgmt.refresh(%s)", token)

    def secret(self):
        return bytes(q(self.admin, "SELECT user_mgmt.export_signing_key()"))

    # --- concurrency -----------------------------------------------------------

    def run_parallel(self, n, attempt, prepare=None, user_of=None, finish=None):
        """n threads, each with its own connection (user_of(i), default the
        superuser): prepare(conn, i), then all let go at once by a barrier:
        attempt(conn, i), then finish(conn, i).  The attempts' results;
        fails on any thread error or hang."""
        ready = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        go = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        results = [None] * n
        errors = [None] * n

        def worker(i):
            conn = None
            try:
                conn = connect(user_of(i) if user_of else None)
                if prepare:
                    prepare(conn, i)
                ready.wait()
                go.wait()
                results[i] = attempt(conn, i)
                if finish:
                    finish(conn, i)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors[i] = e
                ready.abort()
                go.abort()
            finally:
                if conn is not None:
                    conn.close()

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        try:
            ready.wait()
            go.wait()
        except threading.BrokenBarrierError:
            pass  # a thread failed: reported below
        finally:
            deadline = time.monotonic() + JOIN_TIMEOUT
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
        hung = sum(t.is_alive() for t in threads)
        self.assertEqual(hung, 0, "%d of %d threads did not finish within %ss" % (hung, n, JOIN_TIMEOUT))
        failed = [repr(e) for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
        self.assertEqual(failed, [], "threads failed")
        self.assertEqual([e for e in errors if e is not None], [], "barrier broken")
        return results


# --- 1. the flow ----------------------------------------------------------------------

class FlowTest(Base):
    def test_sign_in_refresh_and_reuse(self):
        uid, name = self.new_user(role="CASHIER")
        c = self.client
        with c.cursor() as cur:
            cur.execute("SELECT * FROM user_mgmt.sign_in(%s, %s, %s, %s)",
                        (name, PW, "py-agent/1.0", "192.0.2.7"))
            columns = tuple(d.name for d in cur.description)
            rows = cur.fetchall()
        self.assertEqual(columns, PAIR_COLUMNS)
        self.assertEqual(len(rows), 1)
        p1 = dict(zip(columns, rows[0]))
        sid = p1["session_id"]
        self.assertEqual(str(uuid.UUID(sid)), sid)
        self.assertRegex(p1["refresh_token"], REFRESH_RE)

        # the access token: PyJWT with the exported secret, verify_token,
        # set_session_token and the claims readers all agree
        secret = self.secret()
        claims = jwt.decode(p1["access_token"], key=secret, algorithms=["HS256"])
        self.assertEqual((claims["sub"], claims["role"], claims["username"], claims["sid"]),
                         (str(uid), "CASHIER", name, sid))
        self.assertEqual(set(claims), {"sub", "username", "role", "sid", "iat", "exp", "jti"})
        self.assertEqual(claims["exp"], int(p1["access_expires_at"].timestamp()))
        self.assertEqual(claims["exp"] - claims["iat"], 1800, "default token_ttl 30min")
        self.assertEqual(q(c, "SELECT user_mgmt.verify_token(%s)", p1["access_token"]), claims)
        execute(c, "BEGIN")
        self.assertEqual(q(c, "SELECT user_mgmt.set_session_token(%s)", p1["access_token"]), claims)
        self.assertEqual(q_all(c, "SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()::text, "
                               "user_mgmt.current_session_id()"), [(uid, "CASHIER", sid)])
        execute(c, "COMMIT")

        # the session row, and only the hash of the refresh token is kept
        row = self.session(sid)
        self.assertEqual((row["user_id"], row["origin"], row["user_agent"], row["client_addr"],
                          row["revoked_at"], row["revoke_reason"]),
                         (uid, "sign_in", "py-agent/1.0", "192.0.2.7", None, None))
        self.assertIs(q(self.admin, "SELECT expires_at = created_at + interval '30 days' "
                        "AND refreshed_at = created_at AND %s = created_at + interval '15 days' "
                        "FROM user_mgmt.sessions WHERE id = %s", p1["refresh_expires_at"], sid), True,
                      "lifetime 30d / idle 15d defaults: %r %r" % (row, p1["refresh_expires_at"]))
        stored = q_all(self.admin, "SELECT token_hash, used_at FROM user_mgmt.refresh_tokens "
                       "WHERE session_id = %s", sid)
        self.assertEqual([(bytes(h), u) for h, u in stored], [(refresh_hash(p1["refresh_token"]), None)])

        # refresh rotates: new tokens, the same session
        p2 = refresh(c, p1["refresh_token"])
        self.assertEqual(p2["session_id"], sid)
        self.assertRegex(p2["refresh_token"], REFRESH_RE)
        self.assertNotEqual(p2["refresh_token"], p1["refresh_token"])
        self.assertNotEqual(p2["access_token"], p1["access_token"])
        claims2 = jwt.decode(p2["access_token"], key=secret, algorithms=["HS256"])
        self.assertEqual((claims2["sub"], claims2["role"], claims2["sid"]), (str(uid), "CASHIER", sid))
        self.assertNotEqual(claims2["jti"], claims["jti"])
        self.assertVerifies(c, p2["access_token"])
        self.assertVerifies(c, p1["access_token"])  # rotation ends no access token
        stored = {bytes(h): u for h, u in q_all(self.admin, "SELECT token_hash, used_at "
                                                "FROM user_mgmt.refresh_tokens WHERE session_id = %s", sid)}
        self.assertEqual(set(stored), {refresh_hash(p1["refresh_token"]), refresh_hash(p2["refresh_token"])})
        self.assertIsNotNone(stored[refresh_hash(p1["refresh_token"])], "the used token is not marked used")
        self.assertIsNone(stored[refresh_hash(p2["refresh_token"])])

        # no token text is stored anywhere
        dump = q(self.admin, "SELECT concat((SELECT json_agg(s)::text FROM user_mgmt.sessions AS s), "
                 "(SELECT json_agg(t)::text FROM user_mgmt.refresh_tokens AS t), "
                 "(SELECT json_agg(e)::text FROM user_mgmt.auth_events AS e))")
        for tok in (p1["refresh_token"], p2["refresh_token"], p1["access_token"], p2["access_token"]):
            self.assertNotIn(tok, dump)

        # the first refresh token again: reuse, the whole session ends
        e = self.assertRefreshFails(c, p1["refresh_token"], "28000", REUSED)
        self.assertIn(sid, e.diag.message_detail or "")
        row = self.session(sid)
        self.assertEqual(row["revoke_reason"], "refresh_token_reused")
        self.assertIsNotNone(row["revoked_at"])
        fresh = self.new_conn(user=CLIENT)
        for what, tok in (("old access token", p1["access_token"]), ("new access token", p2["access_token"])):
            with self.subTest(after_reuse=what):
                self.assertRejected(c, tok, REVOKED)
                self.assertRejected(fresh, tok, REVOKED)
        e = self.assertRefreshFails(c, p2["refresh_token"], "28000", REVOKED)
        self.assertIn("(refresh_token_reused)", e.diag.message_detail or "")
        execute(c, "BEGIN")
        try:
            self.assertFails(c, "28000", REVOKED, "SELECT user_mgmt.set_session_token(%s)", p2["access_token"])
        finally:
            execute(c, "ROLLBACK")
        # presented again: still reuse, and audited again
        self.assertRefreshFails(c, p1["refresh_token"], "28000", REUSED)
        self.assertEqual(self.events(uid, "refresh_token_reused", "session_revoked"),
                         [("session_revoked", "refresh_token_reused " + sid),
                          ("refresh_token_reused", sid),
                          ("refresh_token_reused", sid)])
        # the session had ended already
        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", p2["access_token"]), False)
        # the account itself is fine: a new sign_in works
        self.assertVerifies(c, sign_in(c, name)["access_token"])

    def test_bad_input(self):
        uid, name = self.new_user()
        c = self.client
        p = sign_in(c, name)
        for what, user, pw in (("wrong password", name, "Correct horse battery"),
                               ("unknown user", "nobody_" + uuid.uuid4().hex[:8], PW)):
            with self.subTest(sign_in=what):
                self.assertFails(c, "28P01", LOGIN_ERROR, "SELECT * FROM user_mgmt.sign_in(%s, %s)", user, pw)
        for args in ((None, PW), (name, None)):
            with self.subTest(sign_in_null=args):
                with self.assertRaises(psycopg2.Error) as ctx:
                    q(c, "SELECT * FROM user_mgmt.sign_in(%s, %s)", *args)
                self.assertEqual(ctx.exception.pgcode, "22004", str(ctx.exception))
        rt = p["refresh_token"]
        unknown = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        # the same 32 bytes, spelt differently: the last character's two
        # unused bits set
        b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        variant = rt[:-1] + b64[b64.index(rt[-1]) ^ 1]
        self.assertEqual(base64.urlsafe_b64decode(variant + "="), base64.urlsafe_b64decode(rt + "="))
        for what, tok in (("empty", ""), ("short", "abc"), ("one character less", rt[:-1]),
                          ("one character more", rt + "A"), ("not base64url", "!" * 43),
                          ("the access token", p["access_token"]), ("unknown, well-formed", unknown),
                          ("padded", rt + "="), ("non-canonical spelling", variant)):
            with self.subTest(refresh=what):
                self.assertRefreshFails(c, tok, "28000", INVALID_REFRESH)
        # none of it touched the session
        self.assertVerifies(c, refresh(c, rt)["access_token"])
        for what, tok, message in (("empty", "", "invalid token"),
                                   ("unknown refresh token", unknown, INVALID_REFRESH),
                                   ("three dots of nothing", "a.b.c", "malformed token")):
            with self.subTest(logout=what):
                self.assertFails(c, "28000", message, "SELECT user_mgmt.logout(%s)", tok)
        self.assertIsNone(self.session(p["session_id"])["revoked_at"])

    def test_logout_forms(self):
        uid, name = self.new_user()
        c = self.client
        secret = self.secret()
        # by access token
        p = sign_in(c, name)
        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", p["access_token"]), True)
        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", p["access_token"]), False)
        self.assertRejected(c, p["access_token"], REVOKED)
        self.assertRefreshFails(c, p["refresh_token"], "28000", REVOKED)
        self.assertEqual(self.session(p["session_id"])["revoke_reason"], "logout")
        # by refresh token
        p = sign_in(c, name)
        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", p["refresh_token"]), True)
        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", p["refresh_token"]), False)
        self.assertRejected(c, p["access_token"], REVOKED)
        self.assertEqual(self.session(p["session_id"])["revoke_reason"], "logout")
        # a forged token (right claims, wrong signature) ends nothing
        p = sign_in(c, name)
        head, payload, sig = p["access_token"].split(".")
        flipped = bytearray(base64.urlsafe_b64decode(sig + "="))
        flipped[0] ^= 1
        forged = "%s.%s.%s" % (head, payload, base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode())
        self.assertFails(c, "28000", "invalid token signature", "SELECT user_mgmt.logout(%s)", forged)
        kid = jwt.get_unverified_header(p["access_token"])["kid"]
        claims = unverified_claims(p["access_token"])
        other_key = jwt.encode(claims, secret[::-1], algorithm="HS256", headers={"kid": kid})
        self.assertFails(c, "28000", "invalid token signature", "SELECT user_mgmt.logout(%s)", other_key)
        self.assertIsNone(self.session(p["session_id"])["revoked_at"])
        self.assertVerifies(c, p["access_token"])
        # an expired access token with a good signature still logs out
        now = int(q(c, "SELECT floor(extract(epoch FROM clock_timestamp()))"))
        expired = jwt.encode(dict(claims, iat=now - 7200, exp=now - 3600), secret, algorithm="HS256",
                             headers={"kid": kid})
        self.assertRejected(c, expired, TOKEN_EXPIRED)
        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", expired), True)
        self.assertRejected(c, p["access_token"], REVOKED)
        # logout() and logout_all() of the transaction's claims
        self.assertFails(c, "28000", NOTHING_TO_LOG_OUT, "SELECT user_mgmt.logout()")
        self.assertFails(c, "28000", NOTHING_TO_LOG_OUT, "SELECT user_mgmt.logout_all()")
        p = sign_in(c, name)
        execute(c, "BEGIN")
        q(c, "SELECT user_mgmt.set_session_token(%s)", p["access_token"])
        self.assertIs(q(c, "SELECT user_mgmt.logout()"), True)
        self.assertEqual(q_all(c, "SELECT user_mgmt.current_user_id(), user_mgmt.current_session_id()"),
                         [(None, None)], "logout() did not forget the claims")
        self.assertFails(c, "28000", NOTHING_TO_LOG_OUT, "SELECT user_mgmt.logout()")
        execute(c, "ROLLBACK")
        self.assertRejected(c, p["access_token"], REVOKED)
        self.assertEqual(self.session(p["session_id"])["revoke_reason"], "logout")
        # logout_all() needs the claims' session to be live
        keep, gone = sign_in(c, name), sign_in(c, name)
        execute(c, "BEGIN")
        q(c, "SELECT user_mgmt.set_session_token(%s)", gone["access_token"])
        self.assertIs(q(self.admin, "SELECT user_mgmt.revoke_session(%s)", gone["session_id"]), True)
        self.assertFails(c, "28000", REVOKED, "SELECT user_mgmt.logout_all()")
        execute(c, "ROLLBACK")
        self.assertVerifies(c, keep["access_token"])
        execute(c, "BEGIN")
        q(c, "SELECT user_mgmt.set_session_token(%s)", keep["access_token"])
        self.assertEqual(q(c, "SELECT user_mgmt.logout_all()"), 1)
        execute(c, "COMMIT")
        self.assertRejected(c, keep["access_token"], REVOKED)
        self.assertEqual(q_all(self.admin, "SELECT count(*) FROM user_mgmt.sessions "
                               "WHERE user_id = %s AND revoked_at IS NULL", uid), [(0,)])
        self.assertEqual(self.events(uid, "session_revoked")[-1], ("session_revoked", "logout_all: 1 session(s)"))

    def test_ended_sessions_stay_ended(self):
        """Undoing a change does not revive what it ended; pruning turns an
        ended session into a missing one."""
        uid, name = self.new_user()
        c = self.client
        steps = (("set_active false, then true", ["SELECT user_mgmt.set_active(%s, false)",
                                                  "SELECT user_mgmt.set_active(%s, true)"]),
                 ("set_role ADMIN, then back to USER", ["SELECT user_mgmt.set_role(%s, 'ADMIN')",
                                                        "SELECT user_mgmt.set_role(%s, 'USER')"]))
        ended = []
        for what, statements in steps:
            with self.subTest(undo=what):
                p = sign_in(c, name)
                for query in statements:
                    q(self.admin, query, uid)
                self.assertRejected(c, p["access_token"], REVOKED)
                self.assertRefreshFails(c, p["refresh_token"], "28000", REVOKED)
                self.assertVerifies(c, sign_in(c, name)["access_token"])
                ended.append(p)
        self.assertEqual(q(self.admin, "SELECT user_mgmt.prune_sessions(interval '0')")
                         >= len(ended), True)
        for p in ended:
            self.assertIsNone(self.session(p["session_id"]))
            self.assertRejected(c, p["access_token"], "token's session does not exist")
            self.assertRefreshFails(c, p["refresh_token"], "28000", INVALID_REFRESH)
            self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", p["access_token"]), False)

    def test_rehash_keeps_sessions(self):
        """The login writer storing a stronger hash of the same password is
        no password change: the session that login opened lives on."""
        uid, name = self.new_user()     # cost 4
        execute(self.admin, "SET user_mgmt.bcrypt_cost = 5")
        p = sign_in(self.admin, name)
        self.assertIs(q(self.admin, "SELECT user_mgmt.await_login_writer()"), True)
        self.assertEqual(q(self.admin, "SELECT substr(hashed_password, 1, 7) FROM user_mgmt.users WHERE id = %s",
                           uid), "$2b$05$", "no rehash happened")
        self.assertVerifies(self.client, p["access_token"])
        self.assertVerifies(self.client, refresh(self.client, p["refresh_token"])["access_token"])
        self.assertIsNone(self.session(p["session_id"])["revoked_at"])

    def test_privileges_and_admin_errors(self):
        uid, name = self.new_user()
        q(self.admin, "SELECT user_mgmt.set_role(%s, 'ADMIN')", uid)   # session_epoch 1
        p = sign_in(self.client, name)
        for query, args in (("SELECT user_mgmt.logout_all(%s)", (uid,)),
                            ("SELECT user_mgmt.revoke_session(%s)", (p["session_id"],)),
                            ("SELECT user_mgmt.prune_sessions()", ()),
                            ("SELECT user_mgmt.export_signing_key()", ()),
                            ("SELECT count(*) FROM user_mgmt.sessions", ()),
                            ("SELECT count(*) FROM user_mgmt.refresh_tokens", ()),
                            ("UPDATE user_mgmt.sessions SET revoked_at = NULL", ())):
            with self.subTest(client=query):
                with self.assertRaises(psycopg2.Error) as ctx:
                    q(self.client, query, *args)
                self.assertEqual(ctx.exception.pgcode, "42501", str(ctx.exception))
        # the epoch cannot be set by hand (back, to revive sessions), not even by a superuser
        for value in ("session_epoch + 1", "0", "session_epoch - 1"):
            with self.subTest(session_epoch=value):
                self.assertFails(self.admin, "55000", "session_epoch is kept by user_mgmt",
                                 "UPDATE user_mgmt.users SET session_epoch = %s WHERE id = %%s RETURNING id"
                                 % value, uid)
        zero = str(uuid.UUID(int=0))
        self.assertFails(self.admin, "P0002", "session %s does not exist" % zero,
                         "SELECT user_mgmt.revoke_session(%s)", zero)
        with self.assertRaises(psycopg2.Error) as ctx:
            q(self.admin, "SELECT user_mgmt.logout_all(-5)")
        self.assertEqual(ctx.exception.pgcode, "P0002", str(ctx.exception))
        self.assertVerifies(self.client, p["access_token"])


# --- 2. revocation reaches an open transaction of another backend -----------------------

def _txn(conn, *statements):
    """Runs (query, args) statements in one transaction and commits."""
    execute(conn, "BEGIN")
    try:
        for query, args in statements:
            q(conn, query, *args)
        execute(conn, "COMMIT")
    finally:
        end_transaction(conn)


class RevocationTest(Base):
    """B (the client role) verifies in an open transaction; A commits a
    change; B's very next call in that transaction is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.b = connect(user=CLIENT)

    @classmethod
    def tearDownClass(cls):
        cls.b.close()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        end_transaction(self.b)

    # Account changes: (name, message B gets, revoke_reason, statement(ctx),
    # who runs it: the client role (PUBLIC functions) or the superuser).
    ACCOUNT_CAUSES = (
        ("change_password", REVOKED, "password_changed",
         lambda t: ("SELECT user_mgmt.change_password(%s, %s, %s)", (t.name, PW, NEW_PW)), "client"),
        ("set_password", REVOKED, "password_changed",
         lambda t: ("SELECT user_mgmt.set_password(%s, %s)", (t.uid, NEW_PW)), "admin"),
        ("set_role", REVOKED, "role_changed",
         lambda t: ("SELECT user_mgmt.set_role(%s, 'ADMIN')", (t.uid,)), "admin"),
        ("set_active(false)", INACTIVE, "deactivated",
         lambda t: ("SELECT user_mgmt.set_active(%s, false)", (t.uid,)), "admin"),
        ("delete_user", USER_GONE, "user_deleted",
         lambda t: ("SELECT user_mgmt.delete_user(%s)", (t.uid,)), "admin"),
    )
    # Session ends: (name, revoke_reason, statements(ctx), who); B gets REVOKED.
    SESSION_CAUSES = (
        ("logout(access token)", "logout",
         lambda t: [("SELECT user_mgmt.logout(%s)", (t.pair["access_token"],))], "client"),
        ("logout(refresh token)", "logout",
         lambda t: [("SELECT user_mgmt.logout(%s)", (t.pair["refresh_token"],))], "client"),
        ("logout() via claims", "logout",
         lambda t: [("SELECT user_mgmt.set_session_token(%s)", (t.pair["access_token"],)),
                    ("SELECT user_mgmt.logout()", ())], "client"),
        ("logout_all(user_id)", "logout_all",
         lambda t: [("SELECT user_mgmt.logout_all(%s)", (t.uid,))], "admin"),
        ("logout_all() via claims", "logout_all",
         lambda t: [("SELECT user_mgmt.set_session_token(%s)", (t.other["access_token"],)),
                    ("SELECT user_mgmt.logout_all()", ())], "client"),
        ("revoke_session", "revoked",
         lambda t: [("SELECT user_mgmt.revoke_session(%s)", (t.pair["session_id"],))], "admin"),
    )

    def causes(self):
        """[(name, message, reason, statements(ctx), connection name)]"""
        out = [(n, m, r, (lambda one: lambda t: [one(t)])(stmt), who)
               for n, m, r, stmt, who in self.ACCOUNT_CAUSES]
        out += [(n, REVOKED, r, stmts, who) for n, r, stmts, who in self.SESSION_CAUSES]
        return out

    class Ctx:
        pass

    def context(self):
        t = self.Ctx()
        t.uid, t.name = self.new_user()
        t.pair = sign_in(self.client, t.name)
        t.other = sign_in(self.client, t.name)   # a second session of the user
        return t

    def open_b(self, iso, t, claims):
        """B's transaction: cache warm, snapshot taken, claims set if asked;
        returns its now()."""
        b = self.b
        execute(b, "BEGIN ISOLATION LEVEL " + iso)
        self.assertEqual(q(b, "SHOW transaction_isolation"), iso.lower())
        started = q(b, "SELECT now()")
        self.assertEqual(q(b, "SELECT user_mgmt.verify_token(%s)", t.pair["access_token"])["sid"],
                         t.pair["session_id"])
        if claims:
            q(b, "SELECT user_mgmt.set_session_token(%s)", t.pair["access_token"])
            self.assertEqual(q_all(b, "SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()::text,"
                                   " user_mgmt.current_session_id()"),
                             [(t.uid, "USER", t.pair["session_id"])])
        return started

    READERS = ("user_mgmt.current_user_id()", "user_mgmt.current_user_role()", "user_mgmt.current_session_id()")

    def test_revocation_reaches_an_open_transaction_at_once(self):
        for iso in ISOLATION_LEVELS:
            for claims in (False, True):
                for name, message, reason, statements, who in self.causes():
                    with self.subTest(isolation=iso, claims=claims, cause=name):
                        self.revocation_case(iso, claims, message, reason, statements, who)

    def revocation_case(self, iso, claims, message, reason, statements, who):
        t = self.context()
        b = self.b
        try:
            started = self.open_b(iso, t, claims)
            _txn(self.admin if who == "admin" else self.client, *statements(t))
            committed = time.monotonic()
            got = in_savepoint(b, "SELECT user_mgmt.verify_token(%s)", t.pair["access_token"])
            elapsed = time.monotonic() - committed
            self.assertEqual(got, ("error", "28000", message))
            self.assertLess(elapsed, PROMPT, "B saw the revocation only after %.3fs" % elapsed)
            if claims:
                for reader in self.READERS:
                    self.assertEqual(in_savepoint(b, "SELECT " + reader), ("error", "28000", message), reader)
                self.assertEqual(in_savepoint(b, "SELECT user_mgmt.set_session_token(%s)",
                                              t.pair["access_token"]), ("error", "28000", message))
            self.assertEqual(q(b, "SELECT now()"), started, "B's transaction is not the one it opened")
        finally:
            end_transaction(b)
        row = self.session(t.pair["session_id"])
        self.assertEqual(row["revoke_reason"], reason, row)
        self.assertIsNotNone(row["revoked_at"])
        # and outside any transaction, in a new backend too
        self.assertRejected(b, t.pair["access_token"], message)
        with self.temp_conn(CLIENT) as fresh:
            self.assertRejected(fresh, t.pair["access_token"], message)
        self.assertEqual(refresh_outcome(self.client, t.pair["refresh_token"]),
                         ("error", "28000", REVOKED))

    def test_own_transaction_and_savepoints(self):
        """The changing transaction refuses the token at once itself; a
        rolled-back (sub)transaction leaves no refusal behind in the cache."""
        uid, name = self.new_user()
        p = sign_in(self.client, name)
        tok, a, b = p["access_token"], self.admin, self.b
        self.assertVerifies(b, tok)
        execute(a, "BEGIN")
        try:
            self.assertVerifies(a, tok)
            q(a, "SELECT user_mgmt.set_password(%s, %s)", uid, NEW_PW)
            self.assertEqual(in_savepoint(a, "SELECT user_mgmt.verify_token(%s)", tok),
                             ("error", "28000", REVOKED))
            self.assertVerifies(b, tok)     # not committed: others still accept it
        finally:
            execute(a, "ROLLBACK")
        self.assertVerifies(a, tok)
        execute(a, "BEGIN")
        try:
            self.assertVerifies(a, tok)
            execute(a, "SAVEPOINT change")
            q(a, "SELECT user_mgmt.set_role(%s, 'ADMIN')", uid)
            self.assertEqual(in_savepoint(a, "SELECT user_mgmt.verify_token(%s)", tok),
                             ("error", "28000", REVOKED))
            execute(a, "ROLLBACK TO SAVEPOINT change")
            self.assertVerifies(a, tok)
            execute(a, "COMMIT")
        finally:
            end_transaction(a)
        self.assertVerifies(a, tok)
        self.assertVerifies(b, tok)
        self.assertIsNone(self.session(p["session_id"])["revoked_at"])
        # released savepoint, committed: everyone refuses it
        execute(a, "BEGIN")
        execute(a, "SAVEPOINT change")
        q(a, "SELECT user_mgmt.set_role(%s, 'ADMIN')", uid)
        execute(a, "RELEASE SAVEPOINT change")
        execute(a, "COMMIT")
        self.assertRejected(b, tok, REVOKED)
        self.assertRejected(a, tok, REVOKED)
        self.assertEqual(self.session(p["session_id"])["revoke_reason"], "role_changed")

    def test_parallel_worker_verification(self):
        """verify_token is PARALLEL SAFE: run in a parallel worker of B's open
        transaction, it refuses a token revoked meanwhile too."""
        uid, name = self.new_user()
        p = sign_in(self.client, name)
        b = self.new_conn(user=CLIENT)
        for setting in ("force_parallel_mode = on", "parallel_setup_cost = 0", "parallel_tuple_cost = 0",
                        "max_parallel_workers_per_gather = 1"):
            execute(b, "SET " + setting)
        plan = "\n".join(r[0] for r in q_all(b, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                                               "SELECT user_mgmt.verify_token(%s)", p["access_token"]))
        self.assertIn("Workers Launched: 1", plan, "no parallel worker ran verify_token:\n" + plan)
        execute(b, "BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            self.assertVerifies(b, p["access_token"])
            self.assertIs(q(self.client, "SELECT user_mgmt.logout(%s)", p["access_token"]), True)
            t0 = time.monotonic()
            self.assertEqual(in_savepoint(b, "SELECT user_mgmt.verify_token(%s)", p["access_token"]),
                             ("error", "28000", REVOKED))
            self.assertLess(time.monotonic() - t0, PROMPT)
        finally:
            end_transaction(b)

    def test_rolled_back_change_revokes_nothing(self):
        for iso in ISOLATION_LEVELS:
            for name, _, _, stmt, who in self.ACCOUNT_CAUSES:
                with self.subTest(isolation=iso, cause=name):
                    t = self.context()
                    a = self.admin if who == "admin" else self.client
                    b = self.b
                    try:
                        self.open_b(iso, t, claims=True)
                        execute(a, "BEGIN")
                        query, args = stmt(t)
                        q(a, query, *args)
                        # while A holds its change uncommitted, B is neither
                        # refused nor kept waiting
                        t0 = time.monotonic()
                        self.assertEqual(in_savepoint(b, "SELECT user_mgmt.verify_token(%s)->>'sid'",
                                                      t.pair["access_token"]), ("ok", t.pair["session_id"]))
                        self.assertLess(time.monotonic() - t0, BUSY_PROMPT)
                        execute(a, "ROLLBACK")
                        self.assertEqual(in_savepoint(b, "SELECT user_mgmt.verify_token(%s)->>'sid'",
                                                      t.pair["access_token"]), ("ok", t.pair["session_id"]))
                        self.assertEqual(q_all(b, "SELECT user_mgmt.current_user_id(), "
                                               "user_mgmt.current_session_id()"),
                                         [(t.uid, t.pair["session_id"])])
                        execute(b, "COMMIT")
                    finally:
                        end_transaction(a)
                        end_transaction(b)
                    row = self.session(t.pair["session_id"])
                    self.assertEqual((row["revoked_at"], row["revoke_reason"]), (None, None))
                    with self.temp_conn(CLIENT) as fresh:
                        self.assertVerifies(fresh, t.pair["access_token"])
                    self.assertEqual(refresh(self.client, t.pair["refresh_token"])["session_id"],
                                     t.pair["session_id"])


# --- 3. rollback and read-only transactions cannot undo ---------------------------------

class RollbackTest(Base):
    def test_rolled_back_refresh_still_retires_the_token(self):
        uid, name = self.new_user()
        c = self.client
        p1 = sign_in(c, name)
        execute(c, "BEGIN")
        p2 = refresh(c, p1["refresh_token"])
        execute(c, "ROLLBACK")
        used = dict((bytes(h), u) for h, u in q_all(
            self.admin, "SELECT token_hash, used_at FROM user_mgmt.refresh_tokens WHERE session_id = %s",
            p1["session_id"]))
        self.assertEqual(set(used), {refresh_hash(p1["refresh_token"]), refresh_hash(p2["refresh_token"])},
                         "the rotation was rolled back with the caller")
        self.assertIsNotNone(used[refresh_hash(p1["refresh_token"])])
        # the token given in the rolled-back transaction is the live one
        p3 = refresh(c, p2["refresh_token"])
        self.assertVerifies(c, p3["access_token"])
        # the first one is spent: presenting it is reuse
        self.assertRefreshFails(c, p1["refresh_token"], "28000", REUSED)
        self.assertEqual(self.session(p1["session_id"])["revoke_reason"], "refresh_token_reused")
        self.assertRefreshFails(c, p3["refresh_token"], "28000", REVOKED)
        self.assertRejected(c, p3["access_token"], REVOKED)

    def test_rolled_back_logouts_still_end_sessions(self):
        uid, name = self.new_user()
        c = self.client
        cases = (
            ("logout(access token)", c, "logout", lambda p: [("SELECT user_mgmt.logout(%s)", (p["access_token"],))]),
            ("logout(refresh token)", c, "logout", lambda p: [("SELECT user_mgmt.logout(%s)", (p["refresh_token"],))]),
            ("logout()", c, "logout", lambda p: [("SELECT user_mgmt.set_session_token(%s)", (p["access_token"],)),
                                                 ("SELECT user_mgmt.logout()", ())]),
            ("logout_all()", c, "logout_all",
             lambda p: [("SELECT user_mgmt.set_session_token(%s)", (p["access_token"],)),
                        ("SELECT user_mgmt.logout_all()", ())]),
            ("logout_all(user_id)", self.admin, "logout_all", lambda p: [("SELECT user_mgmt.logout_all(%s)", (uid,))]),
            ("revoke_session", self.admin, "revoked",
             lambda p: [("SELECT user_mgmt.revoke_session(%s)", (p["session_id"],))]),
        )
        for what, conn, reason, statements in cases:
            with self.subTest(call=what):
                p = sign_in(c, name)
                execute(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ")
                try:
                    for query, args in statements(p):
                        q(conn, query, *args)
                finally:
                    execute(conn, "ROLLBACK")
                self.assertRejected(c, p["access_token"], REVOKED)
                self.assertRefreshFails(c, p["refresh_token"], "28000", REVOKED)
                self.assertEqual(self.session(p["session_id"])["revoke_reason"], reason)

    def test_an_old_snapshot_signs_in_with_nothing_that_changed(self):
        """A caller whose snapshot predates a change of the account cannot
        use what it still sees: the old password, the active state, the
        old (higher) role."""
        c = self.client
        for iso in ("REPEATABLE READ", "SERIALIZABLE"):
            with self.subTest(isolation=iso):
                pw_uid, pw_name = self.new_user()
                off_uid, off_name = self.new_user()
                demoted_uid, demoted_name = self.new_user(role="ADMIN")
                execute(c, "BEGIN ISOLATION LEVEL " + iso)
                try:
                    q(c, "SELECT 1")   # the snapshot
                    q(self.admin, "SELECT user_mgmt.set_password(%s, %s)", pw_uid, NEW_PW)
                    q(self.admin, "SELECT user_mgmt.set_active(%s, false)", off_uid)
                    q(self.admin, "SELECT user_mgmt.set_role(%s, 'USER')", demoted_uid)
                    for what, user in (("old password", pw_name), ("deactivated", off_name)):
                        self.assertEqual(in_savepoint(c, "SELECT session_id FROM user_mgmt.sign_in(%s, %s)",
                                                      user, PW), ("error", "28P01", LOGIN_ERROR), what)
                    execute(c, "SAVEPOINT s")
                    p = sign_in(c, demoted_name)
                    execute(c, "RELEASE SAVEPOINT s")
                    execute(c, "COMMIT")
                finally:
                    end_transaction(c)
                role = unverified_claims(p["access_token"])["role"]
                if role == "USER":
                    self.assertVerifies(c, p["access_token"])
                else:
                    self.assertRejected(c, p["access_token"], REVOKED)
                    self.assertRefreshFails(c, p["refresh_token"], "28000", REVOKED)

    MODES = ("READ ONLY", "ISOLATION LEVEL SERIALIZABLE", "ISOLATION LEVEL SERIALIZABLE READ ONLY",
             "ISOLATION LEVEL REPEATABLE READ READ ONLY", "ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE")

    def test_read_only_and_serializable(self):
        uid, name = self.new_user()
        c = self.client
        for mode in self.MODES:
            for end in ("COMMIT", "ROLLBACK"):
                with self.subTest(mode=mode, end=end):
                    execute(c, "BEGIN " + mode)
                    try:
                        self.assertEqual(q(c, "SHOW transaction_read_only"), "on" if "ONLY" in mode else "off")
                        p1 = sign_in(c, name)
                        self.assertVerifies(c, p1["access_token"])
                        p2 = refresh(c, p1["refresh_token"])
                        self.assertEqual(p2["session_id"], p1["session_id"])
                        self.assertVerifies(c, p2["access_token"])
                        other = sign_in(c, name)
                        self.assertIs(q(c, "SELECT user_mgmt.logout(%s)", other["access_token"]), True)
                        # seen at once, inside the same transaction
                        self.assertEqual(in_savepoint(c, "SELECT user_mgmt.verify_token(%s)",
                                                      other["access_token"]), ("error", "28000", REVOKED))
                        execute(c, end)
                    finally:
                        end_transaction(c)
                    # durable whatever the end
                    self.assertVerifies(c, p2["access_token"])
                    self.assertRefreshFails(c, p1["refresh_token"], "28000", REUSED)
                    self.assertRejected(c, p2["access_token"], REVOKED)
                    self.assertEqual(self.session(other["session_id"])["revoke_reason"], "logout")


# --- 4. races ----------------------------------------------------------------------------

class RaceTest(Base):
    def test_parallel_refresh_of_one_token(self):
        modes = tuple("ISOLATION LEVEL " + iso for iso in ISOLATION_LEVELS) + ("READ ONLY",)
        for mode in modes:
            with self.subTest(mode=mode):
                uid, name = self.new_user()
                p = sign_in(self.client, name)

                def prepare(conn, i):
                    execute(conn, "BEGIN " + mode)
                    q(conn, "SELECT 1")   # the snapshot is taken

                def attempt(conn, i):
                    return refresh_outcome(conn, p["refresh_token"])

                def finish(conn, i):
                    execute(conn, "ROLLBACK" if i % 2 else "COMMIT")

                results = self.run_parallel(N_PARALLEL, attempt, prepare,
                                            user_of=lambda i: CLIENT, finish=finish)
                winners = [r[1] for r in results if r[0] == "ok"]
                losers = [r for r in results if r[0] != "ok"]
                self.assertEqual(len(winners), 1, "%d callers got a token pair: %r" % (len(winners), results))
                self.assertEqual(losers, [("error", "28000", REUSED)] * (N_PARALLEL - 1))
                won = winners[0]
                self.assertEqual(won["session_id"], p["session_id"])
                # reuse was detected: nothing of the session works, the winner's pair included
                row = self.session(p["session_id"])
                self.assertEqual(row["revoke_reason"], "refresh_token_reused", row)
                for tok in (p["access_token"], won["access_token"]):
                    self.assertRejected(self.client, tok, REVOKED)
                self.assertRefreshFails(self.client, won["refresh_token"], "28000", REVOKED)
                self.assertEqual(q(self.admin, "SELECT count(*) FROM user_mgmt.refresh_tokens "
                                   "WHERE session_id = %s", p["session_id"]), 2)
                ev = self.events(uid, "refresh_token_reused", "session_revoked")
                self.assertEqual(sorted(set(ev)), [("refresh_token_reused", p["session_id"]),
                                                   ("session_revoked", "refresh_token_reused " + p["session_id"])])
                self.assertEqual(ev.count(("refresh_token_reused", p["session_id"])), N_PARALLEL - 1)
                self.assertEqual(ev.count(("session_revoked", "refresh_token_reused " + p["session_id"])), 1)

    def test_logout_all_racing_sign_ins(self):
        uid, name = self.new_user()
        before = [sign_in(self.client, name) for _ in range(3)]
        n_logout, n_sign_in, rounds = 4, 12, 3

        def attempt(conn, i):
            out = []
            for _ in range(rounds):
                if i < n_logout:
                    t0 = q(conn, "SELECT clock_timestamp()")
                    out.append(("logout_all", t0, q(conn, "SELECT user_mgmt.logout_all(%s)", uid)))
                else:
                    out.append(("sign_in", sign_in(conn, name)))
            return out

        results = self.run_parallel(n_logout + n_sign_in, attempt,
                                    user_of=lambda i: None if i < n_logout else CLIENT)
        calls = [c for r in results for c in r]
        logouts = [(t0, n) for kind, t0, n in (c for c in calls if c[0] == "logout_all")]
        pairs = before + [c[1] for c in calls if c[0] == "sign_in"]
        self.assertEqual((len(logouts), len(pairs)), (n_logout * rounds, 3 + n_sign_in * rounds))

        rows = {r["id"]: r for (r,) in q_all(self.admin, "SELECT to_jsonb(s) FROM user_mgmt.sessions AS s "
                                                         "WHERE user_id = %s", uid)}
        self.assertEqual(set(rows), {p["session_id"] for p in pairs})
        ts = {sid: (q(self.admin, "SELECT created_at FROM user_mgmt.sessions WHERE id = %s", sid),
                    q(self.admin, "SELECT revoked_at FROM user_mgmt.sessions WHERE id = %s", sid))
              for sid in rows}
        self.assertEqual({r["revoke_reason"] for r in rows.values()} - {None}, {"logout_all"},
                         "only logout_all revoked sessions here")
        # every session opened before a logout_all started is revoked
        for t0, _ in logouts:
            opened_before_live = [sid for sid, (created, revoked) in ts.items() if created < t0 and revoked is None]
            self.assertEqual(opened_before_live, [], "sessions opened before a logout_all (%s) left live" % t0)
        # no live session was opened before the last revocation by logout_all
        last = max(revoked for created, revoked in ts.values() if revoked is not None)
        self.assertEqual([sid for sid, (created, revoked) in ts.items() if revoked is None and created <= last], [])
        # each revocation counted once, by exactly one logout_all
        revoked = sum(1 for created, revoked in ts.values() if revoked is not None)
        self.assertEqual(sum(n for _, n in logouts), revoked)
        audited = [int(re.fullmatch(r"logout_all: (\d+) session\(s\)", d).group(1))
                   for _, d in self.events(uid, "session_revoked")]
        self.assertEqual(sum(audited), revoked)
        self.assertGreaterEqual(revoked, 3)
        # the tokens agree with the table
        for p in pairs:
            if rows[p["session_id"]]["revoked_at"] is None:
                self.assertVerifies(self.client, p["access_token"])
            else:
                self.assertRejected(self.client, p["access_token"], REVOKED)

    def test_sign_in_racing_a_role_change(self):
        uid, name = self.new_user(role="USER")
        changer = self.new_conn()
        n_threads, max_each = 4, 200     # max_each: a bound; they stop soon after the commit
        stop = threading.Event()
        pairs, errors = [], []
        lock = threading.Lock()

        def worker():
            conn = None
            try:
                conn = connect()
                # however many sign_ins run before the commit, no cap ends any
                execute(conn, "SET user_mgmt.max_sessions_per_user = 0")
                after_stop = 0
                deadline = time.monotonic() + JOIN_TIMEOUT / 2
                for _ in range(max_each):
                    if time.monotonic() > deadline:
                        break
                    p = sign_in(conn, name)
                    with lock:
                        pairs.append(p)
                    if stop.is_set():
                        after_stop += 1
                        if after_stop >= 2:
                            break
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                if conn is not None:
                    conn.close()

        execute(changer, "BEGIN")
        q(changer, "SELECT user_mgmt.set_role(%s, 'ADMIN')", uid)
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(n_threads)]
        try:
            for t in threads:
                t.start()
            # sign_ins complete while the change is open, then it commits
            # with sign_ins in flight
            wait_for("sign_ins while the role change is open",
                     lambda: len(pairs) >= n_threads or errors or not any(t.is_alive() for t in threads))
            execute(changer, "COMMIT")
            stop.set()
        finally:
            end_transaction(changer)
            stop.set()
            deadline = time.monotonic() + JOIN_TIMEOUT
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
        self.assertFalse(any(t.is_alive() for t in threads), "sign_in threads hung")
        self.assertEqual(errors, [])
        self.assertEqual(q(self.admin, "SELECT role::text FROM user_mgmt.users WHERE id = %s", uid), "ADMIN")
        roles = [unverified_claims(p["access_token"])["role"] for p in pairs]
        self.assertIn("USER", roles, "no sign_in ran before the commit")
        self.assertIn("ADMIN", roles, "no sign_in ran after the commit")
        verifier = self.new_conn(user=CLIENT)
        for p, role in zip(pairs, roles):
            if role == "ADMIN":
                self.assertVerifies(verifier, p["access_token"])
            else:
                # a token naming the old role never verifies (epoch check),
                # nor can its session be refreshed; the session was opened
                # after the change's trigger ran, so the refresh ends it
                self.assertRejected(verifier, p["access_token"], REVOKED)
                self.assertRefreshFails(self.client, p["refresh_token"], "28000", REVOKED)
                self.assertEqual(self.session(p["session_id"])["revoke_reason"], "account_changed")


# --- 5. the cap ---------------------------------------------------------------------------

class CapTest(Base):
    CAP = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        execute(cls.admin, sql.SQL("ALTER DATABASE {} SET user_mgmt.max_sessions_per_user = %s"
                                   % cls.CAP).format(sql.Identifier(DB)))
        cls.addClassCleanup(cls.reset_cap)

    @classmethod
    def reset_cap(cls):
        conn = connect()
        try:
            execute(conn, sql.SQL("ALTER DATABASE {} RESET user_mgmt.max_sessions_per_user")
                    .format(sql.Identifier(DB)))
        finally:
            conn.close()

    def capped_conn(self):
        conn = self.new_conn(user=CLIENT)
        self.assertEqual(q(conn, "SHOW user_mgmt.max_sessions_per_user"), str(self.CAP))
        return conn

    def live(self, uid):
        return [sid for (sid,) in q_all(self.admin, "SELECT id FROM user_mgmt.sessions WHERE user_id = %s "
                                        "AND revoked_at IS NULL ORDER BY created_at", uid)]

    def test_sequential(self):
        uid, name = self.new_user()
        c = self.capped_conn()
        pairs = [sign_in(c, name) for _ in range(5)]
        for p in pairs[:2]:
            with self.subTest(oldest=p["session_id"]):
                self.assertEqual(self.session(p["session_id"])["revoke_reason"], "session_limit")
                self.assertRejected(c, p["access_token"], REVOKED)
                self.assertRefreshFails(c, p["refresh_token"], "28000", REVOKED)
        for p in pairs[2:]:
            self.assertVerifies(c, p["access_token"])
        self.assertEqual(self.live(uid), [p["session_id"] for p in pairs[2:]])
        self.assertEqual(self.events(uid, "session_revoked"),
                         [("session_revoked", "session_limit: 1 oldest session(s) of 3")] * 2)

    def test_concurrent(self):
        uid, name = self.new_user()
        n = N_PARALLEL

        def prepare(conn, i):
            assert q(conn, "SHOW user_mgmt.max_sessions_per_user") == str(self.CAP)

        pairs = self.run_parallel(n, lambda conn, i: sign_in(conn, name), prepare, user_of=lambda i: CLIENT)
        live = self.live(uid)
        self.assertEqual(len(live), self.CAP, "live sessions after %d parallel sign_ins" % n)
        newest = [sid for (sid,) in q_all(self.admin, "SELECT id FROM user_mgmt.sessions WHERE user_id = %s "
                                          "ORDER BY created_at DESC LIMIT %s", uid, self.CAP)]
        self.assertEqual(sorted(live), sorted(newest), "the live sessions are not the newest")
        self.assertEqual(q_all(self.admin, "SELECT revoke_reason, count(*) FROM user_mgmt.sessions "
                               "WHERE user_id = %s GROUP BY 1 ORDER BY 1", uid),
                         [("session_limit", n - self.CAP), (None, self.CAP)])
        verifier = self.capped_conn()
        verified = 0
        for p in pairs:
            if outcome(verifier, "SELECT user_mgmt.verify_token(%s)", p["access_token"])[0] == "ok":
                verified += 1
        self.assertEqual(verified, self.CAP)


# --- 6. expiry -----------------------------------------------------------------------------

class ExpiryTest(Base):
    def test_settings_shape_the_session(self):
        uid, name = self.new_user()
        a = self.admin
        execute(a, "SET user_mgmt.session_lifetime = '1h'")
        execute(a, "SET user_mgmt.session_idle_timeout = '10min'")
        p = sign_in(a, name)
        self.assertIs(q(a, "SELECT expires_at = created_at + interval '1 hour' AND %s = created_at + "
                        "interval '10 min' FROM user_mgmt.sessions WHERE id = %s",
                        p["refresh_expires_at"], p["session_id"]), True)
        claims = unverified_claims(p["access_token"])
        self.assertEqual(claims["exp"] - claims["iat"], 1800, "the access token keeps token_ttl")
        # a session shorter than token_ttl caps the access token
        execute(a, "SET user_mgmt.session_lifetime = '10min'")
        execute(a, "SET user_mgmt.session_idle_timeout = 0")
        p = sign_in(a, name)
        row = q_dict(a, "SELECT floor(extract(epoch FROM expires_at))::bigint AS end_s, "
                     "expires_at = created_at + interval '10 min' AS ok FROM user_mgmt.sessions WHERE id = %s",
                     p["session_id"])
        self.assertTrue(row["ok"])
        claims = unverified_claims(p["access_token"])
        self.assertEqual(claims["exp"], row["end_s"], "the access token outlives its session")
        self.assertLess(claims["exp"] - claims["iat"], 1800)
        self.assertEqual(p["refresh_expires_at"], q(a, "SELECT expires_at FROM user_mgmt.sessions WHERE id = %s",
                                                    p["session_id"]), "idle 0: the refresh token lasts the session")

    def test_idle_timeout(self):
        uid, name = self.new_user()
        a = self.admin
        execute(a, "SET user_mgmt.session_idle_timeout = '1h'")
        p1 = sign_in(a, name)
        # idle 50 minutes: still alive, and a refresh makes it fresh again
        execute(a, "UPDATE user_mgmt.sessions SET created_at = created_at - interval '50 min', "
                "refreshed_at = refreshed_at - interval '50 min' WHERE id = %s", p1["session_id"])
        checker = self.new_conn()
        execute(checker, "SET user_mgmt.session_idle_timeout = '1h'")
        self.assertVerifies(checker, p1["access_token"])
        p2 = refresh(a, p1["refresh_token"])
        self.assertIs(q(a, "SELECT refreshed_at > clock_timestamp() - interval '1 min' "
                        "FROM user_mgmt.sessions WHERE id = %s", p1["session_id"]), True)
        # idle two hours: over
        execute(a, "UPDATE user_mgmt.sessions SET refreshed_at = refreshed_at - interval '2 hours' "
                "WHERE id = %s", p1["session_id"])
        checker = self.new_conn()
        execute(checker, "SET user_mgmt.session_idle_timeout = '1h'")
        for tok in (p1["access_token"], p2["access_token"]):
            self.assertRejected(checker, tok, SESSION_EXPIRED)
        self.assertRefreshFails(a, p2["refresh_token"], "28000", SESSION_EXPIRED)
        # the default (15 days) lets it live
        self.assertVerifies(self.new_conn(), p2["access_token"])

    def test_absolute_expiry_reaches_a_warm_backend(self):
        uid, name = self.new_user()
        p = sign_in(self.client, name)
        b = self.new_conn(user=CLIENT)
        execute(b, "BEGIN ISOLATION LEVEL REPEATABLE READ")
        self.assertVerifies(b, p["access_token"])
        execute(self.admin, "UPDATE user_mgmt.sessions SET expires_at = clock_timestamp() - interval '1 second' "
                "WHERE id = %s", p["session_id"])
        t0 = time.monotonic()
        self.assertEqual(in_savepoint(b, "SELECT user_mgmt.verify_token(%s)", p["access_token"]),
                         ("error", "28000", SESSION_EXPIRED))
        self.assertLess(time.monotonic() - t0, PROMPT)
        execute(b, "ROLLBACK")
        self.assertRefreshFails(self.client, p["refresh_token"], "28000", SESSION_EXPIRED)

    def test_expiry_in_real_time(self):
        """A backend that vouched for a session stops when its end comes,
        without any invalidation: lifetime and idle timeout of a few seconds."""
        uid, name = self.new_user()
        a = self.admin
        execute(a, "SET user_mgmt.session_lifetime = '%ds'" % REAL_TIME_END)
        short = sign_in(a, name)
        execute(a, "RESET user_mgmt.session_lifetime")
        idle = sign_in(a, name)
        # one more that has been idle for 2 s already, which a backend
        # caches, and which is then refreshed: that backend must look again
        # rather than refuse it when the idleness it cached runs out
        refreshed = sign_in(a, name)
        execute(a, "UPDATE user_mgmt.sessions SET created_at = created_at - interval '2 s', "
                "refreshed_at = refreshed_at - interval '2 s' WHERE id = %s", refreshed["session_id"])
        ends = {
            "lifetime": q(a, "SELECT expires_at FROM user_mgmt.sessions WHERE id = %s", short["session_id"]),
            "idle": q(a, "SELECT refreshed_at + make_interval(secs => %s) FROM user_mgmt.sessions "
                      "WHERE id = %s", REAL_TIME_END, idle["session_id"]),
        }
        v_life = self.new_conn()
        # a leeway lets the access token outlive its exp (the session's
        # end, floored): the session's own end must still stop it
        execute(v_life, "SET user_mgmt.token_leeway = '30s'")
        v_idle = self.new_conn()
        execute(v_idle, "SET user_mgmt.session_idle_timeout = '%ds'" % REAL_TIME_END)
        self.assertEqual(outcome(v_idle, "SELECT user_mgmt.verify_token(%s)->>'sid'", refreshed["access_token"]),
                         ("ok", refreshed["session_id"]))
        cached_end = q(a, "SELECT refreshed_at + make_interval(secs => %s) FROM user_mgmt.sessions "
                       "WHERE id = %s", REAL_TIME_END, refreshed["session_id"])
        # (still the old access token, the new refresh token)
        refreshed = dict(refreshed, refresh_token=refresh(a, refreshed["refresh_token"])["refresh_token"])
        ends["refreshed"] = q(a, "SELECT refreshed_at + make_interval(secs => %s) FROM user_mgmt.sessions "
                              "WHERE id = %s", REAL_TIME_END, refreshed["session_id"])
        cases = {"lifetime": (v_life, short), "idle": (v_idle, idle), "refreshed": (v_idle, refreshed)}
        accepted_after_cached_end = []
        # the token of the short session ends with it (exp floored)
        self.assertEqual(unverified_claims(short["access_token"])["exp"],
                         q(a, "SELECT floor(extract(epoch FROM expires_at))::bigint FROM user_mgmt.sessions "
                           "WHERE id = %s", short["session_id"]))
        refused, accepted = {}, {}
        deadline = time.monotonic() + REAL_TIME_END + 10
        while len(refused) < len(cases):
            for what, (conn, p) in cases.items():
                if what in refused:
                    continue
                before = q(conn, "SELECT clock_timestamp()")
                out = outcome(conn, "SELECT user_mgmt.verify_token(%s)->>'sid'", p["access_token"])
                after = q(conn, "SELECT clock_timestamp()")
                if out[0] == "ok":
                    self.assertLess(before, ends[what], "%s: vouched for after its end" % what)
                    accepted[what] = accepted.get(what, 0) + 1
                    if what == "refreshed" and before >= cached_end:
                        accepted_after_cached_end.append(before)
                else:
                    self.assertEqual(out, ("error", "28000", SESSION_EXPIRED), what)
                    self.assertGreaterEqual(after, ends[what], "%s: refused before its end" % what)
                    refused[what] = out
            if time.monotonic() > deadline:
                self.fail("sessions not refused 10 s after their end: %r" % refused)
            time.sleep(0.02)  # poll interval of a condition loop
        # each was vouched for (from the cache) before its end came; the
        # refreshed one also after the end of the idleness first cached
        self.assertEqual(set(accepted), set(cases), accepted)
        self.assertTrue(accepted_after_cached_end, "the refreshed session was not checked between %s and %s"
                        % (cached_end, ends["refreshed"]))
        for what, (conn, p) in cases.items():
            out = refresh_outcome(conn, p["refresh_token"])
            self.assertEqual(out, ("error", "28000", SESSION_EXPIRED), what)


# --- 7. busy -------------------------------------------------------------------------------

class BusyTest(Base):
    def test_refresh_beside_an_uncommitted_password_change(self):
        uid, name = self.new_user()
        c = self.client
        p = sign_in(c, name)
        spare = sign_in(c, name)
        changer = self.new_conn()
        execute(changer, "BEGIN")
        try:
            q(changer, "SELECT user_mgmt.set_password(%s, %s)", uid, NEW_PW)
            for what, conn, query, args in (
                    ("refresh", c, "SELECT * FROM user_mgmt.refresh(%s)", (p["refresh_token"],)),
                    ("logout(refresh token)", c, "SELECT user_mgmt.logout(%s)", (p["refresh_token"],)),
                    ("logout(access token)", c, "SELECT user_mgmt.logout(%s)", (spare["access_token"],)),
                    ("logout_all(user_id)", self.admin, "SELECT user_mgmt.logout_all(%s)", (uid,)),
                    ("revoke_session", self.admin, "SELECT user_mgmt.revoke_session(%s)", (p["session_id"],))):
                with self.subTest(busy=what):
                    t0 = time.monotonic()
                    out = outcome(conn, query, *args)
                    self.assertLess(time.monotonic() - t0, BUSY_PROMPT, "%s waited" % what)
                    self.assertEqual(out, ("error", "55P03", BUSY))
            # verification does not wait either, and the change is not yet seen
            t0 = time.monotonic()
            self.assertVerifies(c, p["access_token"])
            self.assertLess(time.monotonic() - t0, BUSY_PROMPT)
            # a sign_in with the old password meanwhile opens a session that
            # will not outlive the change
            during = sign_in(c, name)
            execute(changer, "COMMIT")
        finally:
            end_transaction(changer)
        e = self.assertRefreshFails(c, p["refresh_token"], "28000", REVOKED)
        self.assertIn("(password_changed)", e.diag.message_detail)
        for tok in (p["access_token"], spare["access_token"], during["access_token"]):
            self.assertRejected(c, tok, REVOKED)
        self.assertRefreshFails(c, during["refresh_token"], "28000", REVOKED)
        self.assertEqual(self.session(during["session_id"])["revoke_reason"], "account_changed")
        self.assertEqual(self.session(p["session_id"])["revoke_reason"], "password_changed")
        self.assertFails(c, "28P01", LOGIN_ERROR, "SELECT * FROM user_mgmt.sign_in(%s, %s)", name, PW)
        self.assertVerifies(c, sign_in(c, name, NEW_PW)["access_token"])

    def test_busy_does_not_spend_the_token(self):
        uid, name = self.new_user()
        c = self.client
        p = sign_in(c, name)
        changer = self.new_conn()
        execute(changer, "BEGIN")
        try:
            q(changer, "SELECT user_mgmt.set_role(%s, 'ADMIN')", uid)
            self.assertEqual(refresh_outcome(c, p["refresh_token"]), ("error", "55P03", BUSY))
            execute(changer, "ROLLBACK")
        finally:
            end_transaction(changer)
        p2 = refresh(c, p["refresh_token"])
        self.assertVerifies(c, p2["access_token"])
        self.assertIsNone(self.session(p["session_id"])["revoked_at"])


# --- 8. log hygiene --------------------------------------------------------------------------

ENTRY_RE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(?P<pid>\d+)\] "
                      r"(?:(?P<who>\S*@\S*) )?(?P<level>[A-Z]+[0-9]?):  (?P<msg>.*)$")
LOG_DEADLINE = 15.0


def log_entries(text):
    out = []
    for line in text.splitlines():
        m = ENTRY_RE.match(line)
        if m:
            out.append({"pid": int(m.group("pid")), "level": m.group("level"), "msg": m.group("msg")})
        elif out:
            out[-1]["msg"] += "\n" + line
    return out


class LogHygieneTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = None
        current = q(cls.admin, "SELECT pg_current_logfile()")
        if current:
            path = current if os.path.isabs(current) else os.path.join(q(cls.admin, "SHOW data_directory"),
                                                                       current)
        elif os.environ.get("UM_CLUSTER_DIR"):
            path = os.path.join(os.environ["UM_CLUSTER_DIR"], "postgresql.log")
        if path is None:
            raise RuntimeError("cannot find the server log: no pg_current_logfile() and no UM_CLUSTER_DIR")
        with open(path, "rb"):
            pass
        cls.log_path = path

    def log_since(self, start, conn):
        """The log from byte start to a marker this connection writes now."""
        marker = uuid.uuid4().hex
        execute(conn, "DO $$BEGIN RAISE WARNING USING MESSAGE = 'um-log-marker %s'; END$$" % marker)
        deadline = time.monotonic() + LOG_DEADLINE
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
            i = text.find(marker)
            if i >= 0 and text.find("\n", i) >= 0:
                return text[:text.find("\n", i) + 1]   # up to the marker's line
            if time.monotonic() > deadline:
                raise AssertionError("the marker did not reach %s:\n%s" % (self.log_path, text))
            time.sleep(0.02)  # poll interval of a condition loop

    def test_failed_refresh_and_logout_leave_no_token_in_the_log(self):
        uid, name = self.new_user()
        c = self.client
        pid = q(c, "SELECT pg_backend_pid()")
        p1 = sign_in(c, name)
        p2 = refresh(c, p1["refresh_token"])
        gone = sign_in(c, name)
        q(c, "SELECT user_mgmt.logout(%s)", gone["access_token"])
        busy = sign_in(c, name)
        unknown = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        start = os.path.getsize(self.log_path)
        # control: an ordinary error of this session does log its statement
        ctrl = uuid.uuid4().hex
        self.assertEqual(outcome(c, "SELECT length(%s) / 0", ctrl)[1], "22012")
        calls = [
            ("refresh(used token)", "SELECT * FROM user_mgmt.refresh(%s)", p1["refresh_token"], "28000", REUSED),
            ("refresh(token of a revoked session)", "SELECT * FROM user_mgmt.refresh(%s)", p2["refresh_token"],
             "28000", REVOKED),
            ("refresh(token of a logged-out session)", "SELECT * FROM user_mgmt.refresh(%s)",
             gone["refresh_token"], "28000", REVOKED),
            ("refresh(unknown token)", "SELECT * FROM user_mgmt.refresh(%s)", unknown, "28000", INVALID_REFRESH),
            ("logout(unknown refresh token)", "SELECT user_mgmt.logout(%s)", unknown, "28000", INVALID_REFRESH),
        ]
        for what, query, tok, code, message in calls:
            with self.subTest(call=what):
                self.assertEqual(outcome(c, query, tok), ("error", code, message))
        changer = self.new_conn()
        execute(changer, "BEGIN")
        try:
            q(changer, "SELECT user_mgmt.set_password(%s, %s)", uid, NEW_PW)
            self.assertEqual(refresh_outcome(c, busy["refresh_token"]), ("error", "55P03", BUSY))
            self.assertEqual(outcome(c, "SELECT user_mgmt.logout(%s)", busy["refresh_token"]),
                             ("error", "55P03", BUSY))
        finally:
            execute(changer, "ROLLBACK")
        text = self.log_since(start, c)
        mine = [e for e in log_entries(text) if e["pid"] == pid]
        self.assertTrue(any(e["level"] == "STATEMENT" and ctrl in e["msg"] for e in mine),
                        "the control error's statement is not in the log:\n" + text)
        errors = [e["msg"] for e in mine if e["level"] == "ERROR"]
        for message in (REUSED, REVOKED, INVALID_REFRESH, BUSY):
            self.assertIn(message, errors, "the ERROR is not in the log (is it being read?):\n" + text)
        for tok in (p1["refresh_token"], p2["refresh_token"], gone["refresh_token"], busy["refresh_token"],
                    unknown):
            self.assertNotIn(tok, text, "a refresh token is in the server log:\n" + text)
        statements = [e for e in mine if e["level"] in ("STATEMENT", "CONTEXT") and ctrl not in e["msg"]]
        self.assertEqual(statements, [], "errors logged with their statement")

    def test_bind_parameters_stay_out_of_the_log(self):
        """asyncpg with log_parameter_max_length_on_error = -1: the CONTEXT
        of a logged error would show the bind parameters."""
        uid, name = self.new_user()
        p1 = sign_in(self.client, name)
        p2 = refresh(self.client, p1["refresh_token"])
        unknown = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        ctrl = uuid.uuid4().hex
        log = self

        async def go():
            conn = await asyncpg.connect(database=DB)  # PGHOST/PGPORT/PGUSER: a superuser
            try:
                await conn.execute("SET log_parameter_max_length_on_error = -1")
                pid = await conn.fetchval("SELECT pg_backend_pid()")
                start = os.path.getsize(log.log_path)
                got = []
                for query, arg in (("SELECT length($1::text) / 0", ctrl),
                                   ("SELECT * FROM user_mgmt.refresh($1)", p1["refresh_token"]),
                                   ("SELECT * FROM user_mgmt.refresh($1)", p2["refresh_token"]),
                                   ("SELECT user_mgmt.logout($1)", unknown)):
                    try:
                        await conn.fetch(query, arg)
                        got.append(None)
                    except asyncpg.PostgresError as e:
                        got.append((e.sqlstate, e.message))
                marker = uuid.uuid4().hex
                await conn.execute("DO $$BEGIN RAISE WARNING USING MESSAGE = 'um-log-marker %s'; END$$" % marker)
                return pid, start, got, marker
            finally:
                await conn.close()

        pid, start, got, marker = asyncio.run(go())
        self.assertEqual(got, [("22012", "division by zero"), ("28000", REUSED), ("28000", REVOKED),
                               ("28000", INVALID_REFRESH)])
        deadline = time.monotonic() + LOG_DEADLINE
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
            if marker in text and text.find("\n", text.find(marker)) >= 0:
                text = text[:text.find("\n", text.find(marker)) + 1]
                break
            if time.monotonic() > deadline:
                self.fail("the marker did not reach the log:\n" + text)
            time.sleep(0.02)  # poll interval of a condition loop
        self.assertIn(ctrl, text, "the control's bind parameter is not in the log: is it being read?\n" + text)
        for tok in (p1["refresh_token"], p2["refresh_token"], unknown):
            self.assertNotIn(tok, text, "a refresh token is in the server log:\n" + text)
        errors = [e["msg"] for e in log_entries(text) if e["pid"] == pid and e["level"] == "ERROR"]
        self.assertEqual(errors, ["division by zero", REUSED, REVOKED, INVALID_REFRESH])


if __name__ == "__main__":
    tap.main()
