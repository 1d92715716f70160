#!/usr/bin/python3
"""The lockout's guarantees under attack: concurrency, isolation levels,
long transactions, savepoints, rollbacks, row locks, a right guess beside a
burst, locked accounts, interrupted checks, background worker slots and
the registry of writers (32 databases).

Run: /usr/bin/python3 test/python/test_lockout_guarantees.py
(needs PGHOST/PGPORT/PGUSER of a cluster started with
shared_preload_libraries = 'user_mgmt', as a superuser; WorkerSlot tests
start throwaway clusters of their own, so they must run as root or as the
postgres OS user).

The guarantee (README, "How the lockout holds"): at most
user_mgmt.max_failed_logins (5) wrong guesses are checked against one
account per lockout window, whatever the callers do, and a right guess
never erases failures of checks that ran beside it.  Every test counts
exactly:

- guesses evaluated: the delta of login_statistics().checked (checks
  against a real hash) and the account's login_failed/wrong_password rows
  in auth_events;
- refusals: refused_locked + refused_busy, and the login_failed rows with
  detail 'locked' / 'busy' (the two must agree, reason by reason);
- the end state: accounts.failed_login_count, whether locked_until is set,
  the users copy after await_login_writer(), no check left pending.

Under the 1.2 design (the count read from the caller's snapshot and
written by a per-call worker) each of them fails: concurrent or
snapshot-bound callers all see a count of 0 and all get checked.

login_statistics() is cluster-wide: the deltas assume that nothing else
logs in on the cluster while this file runs (test/run-all.sh runs the
suites one after the other).

Concurrency is bounded: at most 31 threads, each with its own connection
(statement_timeout 30s as a safety net), synchronized with a
threading.Barrier; every join and wait has a deadline.  Waits poll a
condition (an auth_events row, login_state.pending, a counter); no sleep
stands in for one.  The only timing asserted is that guesses do not wait
for a transaction holding the user's row (case 5, bounded at 10 s).
"""

import json
import os
import sys
import threading
import time
import unittest
import uuid

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
# The throwaway-cluster helpers of the auth flow suite (functions only).
from test_auth_flow import PG_BIN, _as_pg, _pg_dir, _run, _start_server, _stop_and_remove  # noqa: E402

DB = "um_test_lockout"
PW = "correct horse battery"
WRONG = "Correct horse battery"
NEW_PW = "another password 1"
LOGIN_ERROR = "invalid username or password"
LIMIT = 5                       # the default user_mgmt.max_failed_logins
SAFETY_OPTIONS = "-c statement_timeout=30s"
BARRIER_TIMEOUT = 30            # seconds for all threads to be ready
JOIN_TIMEOUT = 60               # seconds for all threads to finish
WAIT_TIMEOUT = 15               # seconds for a polled condition

# Case 1: the transaction each attacking connection opens.
BURST_MODES = ("ISOLATION LEVEL READ COMMITTED", "ISOLATION LEVEL REPEATABLE READ",
               "ISOLATION LEVEL SERIALIZABLE", "READ ONLY")
# Case 2: one long transaction.
LONG_MODES = ("ISOLATION LEVEL REPEATABLE READ", "ISOLATION LEVEL REPEATABLE READ READ ONLY",
              "ISOLATION LEVEL SERIALIZABLE", "ISOLATION LEVEL SERIALIZABLE READ ONLY")

STAT_COLUMNS = ("allowed", "refused_locked", "refused_busy", "checked", "succeeded", "unrecorded")


def setUpModule():
    tap.create_test_db(DB)


def tearDownModule():
    # The writer is connected to the database: stop it before dropping
    # (DROP ... WITH (FORCE) would do without, this is just cleaner).
    try:
        conn = tap.connect(DB)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT user_mgmt.stop_login_writer()")
        finally:
            conn.close()
    except psycopg2.Error:
        pass
    tap.drop_test_db(DB)


# --- helpers -----------------------------------------------------------------

def q(conn, query, *args):
    """The first column of the first row (None without a row)."""
    with conn.cursor() as cur:
        cur.execute(query, args)
        row = cur.fetchone() if cur.description else None
        return None if row is None else row[0]


def q_row(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()


def execute(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args or None)  # no arguments: a % is just a %


def auth(conn, username, password):
    """authenticate(): None when it returned NULL, else the row as a dict."""
    is_null, row = q_row(conn, "SELECT r IS NULL, to_jsonb(r) FROM "
                         "(SELECT user_mgmt.authenticate(%s, %s) AS r OFFSET 0) AS s",
                         username, password)
    return None if is_null else row


def login_outcome(conn, query, *args):
    """Runs a login()-like call: ('token', value) or ('error', sqlstate,
    message, detail, hint)."""
    try:
        return ("token", q(conn, query, *args))
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary, e.diag.message_detail,
                e.diag.message_hint)


LOGIN_REFUSED = ("error", "28P01", LOGIN_ERROR, None, None)


def stats(conn):
    row = q_row(conn, "SELECT %s, writer_pid FROM user_mgmt.login_statistics()"
                % ", ".join(STAT_COLUMNS))
    return dict(zip(STAT_COLUMNS + ("writer_pid",), row))


def delta(before, after):
    return {k: after[k] - before[k] for k in STAT_COLUMNS}


def events(conn, uid):
    """The account's login events, {(event, detail): count}."""
    with conn.cursor() as cur:
        cur.execute("SELECT event, detail, count(*) FROM user_mgmt.auth_events "
                    "WHERE user_id = %s AND event <> 'user_created' GROUP BY 1, 2", (uid,))
        return {(e, d): n for e, d, n in cur.fetchall()}


def end_transaction(conn):
    """Rolls back a transaction left open (BEGIN sent as SQL)."""
    if conn.closed:
        return
    if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        execute(conn, "ROLLBACK")


def wait_for(what, condition, timeout=WAIT_TIMEOUT):
    """Polls condition() until it returns a true value (returned) or fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.01)  # poll interval of a condition loop, not a wait for an event


class Base(unittest.TestCase):
    """One superuser connection (autocommit) to the test database, and the
    exact accounting of attempts."""

    DBNAME = DB
    CONN_KW = {}                # host/port of a throwaway cluster
    counter = 0
    maxDiff = None

    @classmethod
    def connect(cls, **kw):
        """A new autocommit connection with bcrypt_cost 4 and the safety
        statement_timeout."""
        params = dict(cls.CONN_KW, options=SAFETY_OPTIONS)
        params.update(kw)
        conn = tap.connect(cls.DBNAME, **params)
        conn.autocommit = True
        execute(conn, "SET user_mgmt.bcrypt_cost = 4")
        return conn

    @classmethod
    def setUpClass(cls):
        cls.conn = cls.connect()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def setUp(self):
        end_transaction(self.conn)
        execute(self.conn, "RESET ALL")
        execute(self.conn, "SET user_mgmt.bcrypt_cost = 4")

    def new_conn(self, **kw):
        conn = self.connect(**kw)
        self.addCleanup(conn.close)
        return conn

    def new_user(self, cost=4):
        """A fresh account whose hash has the given bcrypt cost: (id, name)."""
        Base.counter += 1
        name = "lk%d_%s" % (Base.counter, uuid.uuid4().hex[:8])
        execute(self.conn, "SET user_mgmt.bcrypt_cost = %d" % cost)
        try:
            uid = q(self.conn, "SELECT user_mgmt.create_user(%s, %s, 'Lockout Test')", name, PW)
        finally:
            execute(self.conn, "SET user_mgmt.bcrypt_cost = 4")
        self.assertIsInstance(uid, int)
        return uid, name

    def account(self, uid):
        """(failed_login_count, locked_until) as user_mgmt.accounts has it."""
        return q_row(self.conn, "SELECT failed_login_count, locked_until FROM user_mgmt.accounts "
                     "WHERE id = %s", uid)

    def pending(self, uid):
        return q(self.conn, "SELECT pending FROM user_mgmt.login_state WHERE user_id = %s", uid)

    def assertOutcome(self, uid, before, *, wrong, refused, ok=0, abandoned=0,
                      count, locked, busy=None):
        """The exact account of what happened to uid since `before` (a
        stats() snapshot): `wrong` wrong passwords and `ok` right ones
        evaluated against the real hash, `abandoned` checks interrupted,
        `refused` attempts refused unchecked (`busy` of them as busy, when
        given); the account ends with failed_login_count `count`, locked or
        not, and the writer has caught up (users copy, nothing pending)."""
        self.assertIs(q(self.conn, "SELECT user_mgmt.await_login_writer()"), True,
                      "await_login_writer() did not return true")
        d = delta(before, stats(self.conn))
        ev = events(self.conn, uid)
        acc_count, acc_locked, acc_lock_long, copy_count, copy_same_lock, pending = q_row(
            self.conn,
            "SELECT a.failed_login_count, a.locked_until IS NOT NULL, "
            "       a.locked_until > clock_timestamp() + interval '10 min', "
            "       u.failed_login_count, u.locked_until IS NOT DISTINCT FROM a.locked_until, "
            "       (SELECT s.pending FROM user_mgmt.login_state AS s WHERE s.user_id = a.id) "
            "FROM user_mgmt.accounts AS a JOIN user_mgmt.users AS u USING (id) WHERE a.id = %s", uid)
        known = {("login_failed", "wrong_password"), ("login_failed", "busy"),
                 ("login_failed", "locked"), ("login_failed", "abandoned"),
                 ("login_ok", None), ("login_ok", "rehashed"), ("locked", None)}
        got = {
            "checked (real hash)": d["checked"],
            "allowed": d["allowed"],
            "succeeded": d["succeeded"],
            "refused (locked + busy)": d["refused_locked"] + d["refused_busy"],
            "unrecorded": d["unrecorded"],
            "wrong_password events": ev.get(("login_failed", "wrong_password"), 0),
            "abandoned events": ev.get(("login_failed", "abandoned"), 0),
            "login_ok events": ev.get(("login_ok", None), 0) + ev.get(("login_ok", "rehashed"), 0),
            "refusal events (busy, locked)": (ev.get(("login_failed", "busy"), 0),
                                              ev.get(("login_failed", "locked"), 0)),
            "lockouts begun": ev.get(("locked", None), 0),
            "other events": {k: v for k, v in ev.items() if k not in known},
            "accounts.failed_login_count": acc_count,
            "accounts.locked_until set": acc_locked,
            "users copy (count, same locked_until)": (copy_count, copy_same_lock),
            "checks pending": pending,
        }
        want = {
            "checked (real hash)": wrong + ok + abandoned,
            "allowed": wrong + ok + abandoned,
            "succeeded": ok,
            "refused (locked + busy)": refused,
            "unrecorded": 0,
            "wrong_password events": wrong,
            "abandoned events": abandoned,
            "login_ok events": ok,
            # each refusal is recorded with its reason, as the counters say
            "refusal events (busy, locked)": (d["refused_busy"], d["refused_locked"]),
            "lockouts begun": 1 if locked else 0,
            "other events": {},
            "accounts.failed_login_count": count,
            "accounts.locked_until set": locked,
            "users copy (count, same locked_until)": (count, True),
            "checks pending": 0,
        }
        if busy is not None:
            got["refused busy"] = d["refused_busy"]
            want["refused busy"] = busy
        self.assertEqual(got, want)
        if locked:
            self.assertIs(acc_lock_long, True, "locked_until is not about lockout_duration (15min) ahead")

    # --- concurrency ---------------------------------------------------------

    def run_threads(self, n, prepare, attempt, release=None):
        """n threads, each with its own connection: prepare(conn, i), then
        once all are ready (and release(), if given, has returned in this
        thread) attempt(conn, i), all let go at once by a barrier.  Returns
        the attempts' results; fails on any thread error or hang."""
        ready = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        go = threading.Barrier(n + 1, timeout=BARRIER_TIMEOUT)
        results = [None] * n
        errors = [None] * n

        def worker(i):
            conn = None
            try:
                conn = self.connect()
                prepare(conn, i)
                ready.wait()
                go.wait()
                results[i] = attempt(conn, i)
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
            if release is not None:
                release()
            go.wait()
        except threading.BrokenBarrierError:
            pass  # a thread failed: reported below
        except BaseException:
            go.abort()
            raise
        finally:
            deadline = time.monotonic() + JOIN_TIMEOUT
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
        hung = sum(t.is_alive() for t in threads)
        self.assertEqual(hung, 0, "%d of %d threads did not finish within %ss" % (hung, n, JOIN_TIMEOUT))
        failed = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
        self.assertEqual(failed, [], "threads failed")
        self.assertEqual([e for e in errors if e is not None], [], "barrier broken")
        return results

    def burst(self, n, mode, use_login, limit=LIMIT):
        """n connections, each in a transaction opened with `BEGIN mode` that
        has taken its snapshot (the account unfailed), guess wrong at once,
        then roll back: `limit` guesses are checked, the others refused."""
        uid, name = self.new_user(cost=8)   # checks long enough to overlap
        before = stats(self.conn)

        def prepare(conn, i):
            execute(conn, "BEGIN " + mode)
            snap = q_row(conn, "SELECT failed_login_count, locked_until FROM user_mgmt.accounts "
                         "WHERE id = %s", uid)
            if snap != (0, None):
                raise AssertionError("snapshot sees %r" % (snap,))

        def attempt(conn, i):
            try:
                if use_login:
                    return login_outcome(conn, "SELECT user_mgmt.login(%s, %s)", name, WRONG)
                return auth(conn, name, WRONG)
            finally:
                execute(conn, "ROLLBACK")

        results = self.run_threads(n, prepare, attempt)
        expected = LOGIN_REFUSED if use_login else None
        self.assertEqual([r for r in results if r != expected], [],
                         "a wrong guess did not fail as it should")
        self.assertOutcome(uid, before, wrong=limit, refused=n - limit, count=limit, locked=True)
        return uid, name


# --- 1. concurrent connections under every isolation level --------------------------

class ConcurrentBurstTest(Base):
    """30 connections at once, each in its own transaction whose snapshot
    shows the account unfailed: 5 guesses checked, 25 refused."""

    def test_burst_authenticate(self):
        for mode in BURST_MODES:
            with self.subTest(mode=mode):
                self.burst(30, mode, use_login=False)

    def test_burst_login(self):
        for mode in BURST_MODES:
            with self.subTest(mode=mode):
                self.burst(30, mode, use_login=True)


# --- 2. one long transaction ---------------------------------------------------------

class LongTransactionTest(Base):
    def test_fifty_guesses_in_one_snapshot(self):
        # 50 wrong guesses and then the right password in one transaction
        # whose snapshot never sees a failure: 5 checked, the right password
        # refused, and the rollback undoes none of it.
        for mode in LONG_MODES:
            with self.subTest(mode=mode):
                uid, name = self.new_user()
                before = stats(self.conn)
                guesser = self.new_conn()
                execute(guesser, "BEGIN " + mode)
                self.assertEqual(q_row(guesser, "SELECT failed_login_count, locked_until "
                                       "FROM user_mgmt.accounts WHERE id = %s", uid), (0, None))
                for i in range(50):
                    self.assertIsNone(auth(guesser, name, WRONG), "wrong guess %d" % (i + 1))
                self.assertIsNone(auth(guesser, name, PW), "right password after 50 wrong ones")
                # the transaction's snapshot still shows no failure...
                self.assertEqual(q(guesser, "SELECT failed_login_count FROM user_mgmt.accounts "
                                   "WHERE id = %s", uid), 0)
                execute(guesser, "ROLLBACK")
                # ...but for everybody else, and after the rollback, it is locked
                self.assertIsNone(auth(self.new_conn(), name, PW), "right password from a new session")
                self.assertOutcome(uid, before, wrong=LIMIT, refused=50 - LIMIT + 2, busy=0,
                                   count=LIMIT, locked=True)


# --- 3. savepoints and exception blocks; 4. rollback after each guess ------------------

class SubtransactionTest(Base):
    def test_plpgsql_exception_block(self):
        # A DO block catching 28P01 fifty times, inside a transaction that
        # is rolled back: each exception block rolls back a subtransaction.
        uid, name = self.new_user()
        before = stats(self.conn)
        conn = self.new_conn()
        do = sql.SQL("""
            DO $do$
            DECLARE
                caught integer := 0;
            BEGIN
                FOR i IN 1..50 LOOP
                    BEGIN
                        PERFORM user_mgmt.login({name}, {wrong});
                        RAISE EXCEPTION 'guess % logged in', i;
                    EXCEPTION WHEN invalid_password THEN
                        caught := caught + 1;
                    END;
                END LOOP;
                RAISE NOTICE 'caught % of 50', caught;
            END
            $do$""").format(name=sql.Literal(name), wrong=sql.Literal(WRONG))
        del conn.notices[:]
        execute(conn, "BEGIN")
        execute(conn, do)
        execute(conn, "ROLLBACK")
        self.assertIn("NOTICE:  caught 50 of 50\n", conn.notices)
        self.assertOutcome(uid, before, wrong=LIMIT, refused=50 - LIMIT, busy=0,
                           count=LIMIT, locked=True)

    def test_client_savepoints(self):
        # SAVEPOINT / ROLLBACK TO around each of 50 guesses, then ROLLBACK.
        uid, name = self.new_user()
        before = stats(self.conn)
        conn = self.new_conn()
        execute(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ")
        for i in range(50):
            execute(conn, "SAVEPOINT guess")
            self.assertEqual(login_outcome(conn, "SELECT user_mgmt.login(%s, %s)", name, WRONG),
                             LOGIN_REFUSED, "guess %d" % (i + 1))
            execute(conn, "ROLLBACK TO SAVEPOINT guess")
        execute(conn, "ROLLBACK")
        self.assertOutcome(uid, before, wrong=LIMIT, refused=50 - LIMIT, busy=0,
                           count=LIMIT, locked=True)


class RollbackTest(Base):
    def test_rollback_after_each_guess(self):
        for function in ("authenticate", "login"):
            with self.subTest(function=function):
                uid, name = self.new_user()
                before = stats(self.conn)
                conn = self.new_conn()
                for i in range(50):
                    execute(conn, "BEGIN")
                    if function == "authenticate":
                        self.assertIsNone(auth(conn, name, WRONG), "guess %d" % (i + 1))
                    else:
                        self.assertEqual(login_outcome(conn, "SELECT user_mgmt.login(%s, %s)",
                                                       name, WRONG), LOGIN_REFUSED)
                    execute(conn, "ROLLBACK")
                self.assertOutcome(uid, before, wrong=LIMIT, refused=50 - LIMIT, busy=0,
                                   count=LIMIT, locked=True)


# --- 5. the user's row locked by another transaction ------------------------------------

class RowLockTest(Base):
    BLOCKERS = (("UPDATE", "UPDATE user_mgmt.users SET full_name = full_name WHERE id = %s"),
                ("SELECT FOR UPDATE", "SELECT id FROM user_mgmt.users WHERE id = %s FOR UPDATE"))

    def test_guesses_do_not_wait_for_row_lock(self):
        for label, lock_stmt in self.BLOCKERS:
            with self.subTest(blocker=label):
                uid, name = self.new_user()
                blocker = self.new_conn()
                guesser = self.new_conn()
                execute(guesser, "SET statement_timeout = '5s'")
                execute(blocker, "BEGIN")
                execute(blocker, lock_stmt, uid)
                blocker_pid = q(blocker, "SELECT pg_backend_pid()")
                # the row really is held: a row lock cannot be had
                with self.assertRaises(psycopg2.Error) as ctx:
                    execute(self.conn, "SELECT 1 FROM user_mgmt.users WHERE id = %s "
                            "FOR NO KEY UPDATE NOWAIT", uid)
                self.assertEqual(ctx.exception.pgcode, "55P03", str(ctx.exception))

                before = stats(self.conn)
                started = time.monotonic()
                for i in range(10):
                    self.assertIsNone(auth(guesser, name, WRONG), "guess %d" % (i + 1))
                # at once, without the writer's copy: accounts shows the lockout
                count, locked_until = self.account(uid)
                elapsed = time.monotonic() - started
                self.assertEqual((count, locked_until is not None), (LIMIT, True),
                                 "accounts right after the guesses")
                self.assertLess(elapsed, 10.0, "10 guesses took %.1f s with the row locked" % elapsed)
                # the blocker is still open, and the users copy had to wait for it
                self.assertEqual(q(self.conn, "SELECT state FROM pg_stat_activity WHERE pid = %s",
                                   blocker_pid), "idle in transaction")
                self.assertEqual(q_row(self.conn, "SELECT failed_login_count, locked_until "
                                       "FROM user_mgmt.users WHERE id = %s", uid), (0, None))
                execute(blocker, "COMMIT")
                # now the writer copies the state (assertOutcome awaits it)
                self.assertOutcome(uid, before, wrong=LIMIT, refused=10 - LIMIT, busy=0,
                                   count=LIMIT, locked=True)


# --- 6. a right guess beside a burst ----------------------------------------------------

class RightGuessTest(Base):
    def test_right_guess_keeps_concurrent_failures(self):
        # The owner's right password is allowed first (its reservation is
        # seen in login_state), then 30 wrong guesses come in at once while
        # it is being checked.  Its session pads the check up to cost 13 and
        # rehashes the password at cost 13 (the account's hash has cost 4),
        # so the wrong guesses (cost 4) are recorded while it is in flight.
        # It may erase only failures recorded before its reservation: none.
        uid, name = self.new_user(cost=4)
        before = stats(self.conn)
        owner = self.new_conn()
        execute(owner, "SET user_mgmt.bcrypt_cost = 13")
        owner_result = {}

        def owner_login():
            try:
                owner_result["row"] = auth(owner, name, PW)
            except BaseException as e:  # noqa: BLE001 - reported below
                owner_result["error"] = e

        owner_thread = threading.Thread(target=owner_login, daemon=True)

        def release():
            owner_thread.start()
            wait_for("the right password's reservation",
                     lambda: self.pending(uid) == 1 or not owner_thread.is_alive())
            self.assertTrue(owner_thread.is_alive(),
                            "the right password was checked before the burst could start: %r"
                            % owner_result)

        try:
            results = self.run_threads(30, lambda conn, i: None,
                                       lambda conn, i: auth(conn, name, WRONG), release=release)
        finally:
            if owner_thread.is_alive() or owner_thread.ident is not None:
                owner_thread.join(JOIN_TIMEOUT)
        self.assertFalse(owner_thread.is_alive(), "the right password's check did not finish")
        self.assertNotIn("error", owner_result)
        self.assertEqual([r for r in results if r is not None], [], "a wrong guess logged in")

        ev = events(self.conn, uid)
        wrong = ev.get(("login_failed", "wrong_password"), 0)
        during = q(self.conn, """
            SELECT count(*) FROM user_mgmt.auth_events
            WHERE user_id = %s AND event = 'login_failed' AND detail = 'wrong_password'
              AND id < (SELECT min(id) FROM user_mgmt.auth_events
                        WHERE user_id = %s AND event = 'login_ok')""", uid, uid)
        self.assertLessEqual(wrong, LIMIT, "more wrong guesses checked than the limit")
        self.assertGreaterEqual(during, 1, "no wrong guess was recorded while the right password "
                                "was being checked: the test did not make them overlap")
        # the right password was evaluated and returned the account, showing
        # the failures recorded meanwhile
        row = owner_result.get("row")
        self.assertIsNotNone(row, "the right password, allowed first, did not log in")
        self.assertEqual(row["id"], uid)
        self.assertEqual(row["failed_login_count"], during,
                         "the success erased failures of checks that ran beside it")
        # the end: every evaluated wrong guess still counts
        self.assertOutcome(uid, before, wrong=wrong, ok=1, refused=30 - wrong,
                           count=wrong, locked=wrong == LIMIT)

    def test_success_resets_sequentially(self):
        uid, name = self.new_user()
        before = stats(self.conn)
        conn = self.new_conn()
        for _ in range(LIMIT - 1):
            self.assertIsNone(auth(conn, name, WRONG))
        self.assertEqual(self.account(uid), (LIMIT - 1, None))
        row = auth(conn, name, PW)
        self.assertIsNotNone(row, "the right password after 4 wrong ones")
        self.assertEqual(row["id"], uid)
        self.assertEqual(self.account(uid), (0, None), "the success did not wipe the earlier failures")
        for _ in range(LIMIT - 1):
            self.assertIsNone(auth(conn, name, WRONG))
        self.assertOutcome(uid, before, wrong=2 * (LIMIT - 1), ok=1, refused=0,
                           count=LIMIT - 1, locked=False)


# --- 7. once locked ------------------------------------------------------------------------

class LockedTest(Base):
    def test_locked_answers_alike_and_checks_nothing(self):
        uid, name = self.new_user(cost=8)
        before = stats(self.conn)
        conn = self.new_conn()
        for _ in range(LIMIT):
            self.assertIsNone(auth(conn, name, WRONG))
        self.assertIsNotNone(self.account(uid)[1], "not locked after 5 failures")

        locked_before = stats(self.conn)
        answers = {}
        for password in (PW, WRONG, PW, WRONG):
            with self.subTest(password="right" if password == PW else "wrong"):
                self.assertIsNone(auth(conn, name, password))
                for call, query, args in (
                        ("login", "SELECT user_mgmt.login(%s, %s)", (name, password)),
                        ("change_password", "SELECT user_mgmt.change_password(%s, %s, %s)",
                         (name, password, NEW_PW))):
                    answers.setdefault(call, set()).add(login_outcome(conn, query, *args))
        self.assertEqual(answers, {"login": {LOGIN_REFUSED}, "change_password": {LOGIN_REFUSED}},
                         "right and wrong passwords are not answered alike while locked")
        d = delta(locked_before, stats(self.conn))
        self.assertEqual((d["checked"], d["allowed"], d["refused_locked"], d["refused_busy"]),
                         (0, 0, 12, 0), "while locked: %r" % d)
        self.assertOutcome(uid, before, wrong=LIMIT, refused=12, busy=0, count=LIMIT, locked=True)
        # and the password did not change
        self.assertIs(q(self.conn, "SELECT user_mgmt.verify_password(%s, hashed_password) "
                        "FROM user_mgmt.users WHERE id = %s", PW, uid), True)


# --- 8. interrupted checks -----------------------------------------------------------

class InterruptedCheckTest(Base):
    # The victim's session pads every check up to cost 16 (seconds of
    # bcrypt rounds), so it is surely interrupted inside the check.
    SLOW_COST = 16

    def setUp(self):
        super().setUp()
        # The writer runs (an unknown username counts on no account and no
        # counter used here), so a reservation is answered in milliseconds.
        self.assertIsNone(auth(self.conn, "nobody_" + uuid.uuid4().hex[:8], PW))

    def wait_abandoned(self, uid):
        wait_for("the abandoned check's auth_events row",
                 lambda: events(self.conn, uid).get(("login_failed", "abandoned")) == 1
                 and self.pending(uid) == 0)

    def test_statement_timeout_mid_check(self):
        uid, name = self.new_user()
        before = stats(self.conn)
        victim = self.new_conn()
        execute(victim, "SET user_mgmt.bcrypt_cost = %d" % self.SLOW_COST)
        execute(victim, "SET statement_timeout = '500ms'")
        with self.assertRaises(psycopg2.Error) as ctx:
            auth(victim, name, WRONG)
        self.assertEqual(ctx.exception.pgcode, "57014", str(ctx.exception))
        self.wait_abandoned(uid)
        self.assertOutcome(uid, before, wrong=0, abandoned=1, refused=0, count=1, locked=False)

    def test_terminated_mid_check(self):
        uid, name = self.new_user()
        before = stats(self.conn)
        victim = self.new_conn()
        execute(victim, "SET user_mgmt.bcrypt_cost = %d" % self.SLOW_COST)
        pid = q(victim, "SELECT pg_backend_pid()")
        outcome = {}

        def guess():
            try:
                outcome["result"] = auth(victim, name, WRONG)
            except BaseException as e:  # noqa: BLE001 - checked below
                outcome["error"] = e

        t = threading.Thread(target=guess, daemon=True)
        t.start()
        try:
            # inside the check: allowed (pending) and counted as checked
            wait_for("the guess to be inside its check",
                     lambda: not t.is_alive() or (
                         self.pending(uid) == 1
                         and stats(self.conn)["checked"] == before["checked"] + 1))
            self.assertTrue(t.is_alive(), "the guess ended before it could be killed: %r" % outcome)
            self.assertIs(q(self.conn, "SELECT pg_terminate_backend(%s)", pid), True)
        finally:
            t.join(JOIN_TIMEOUT)
        self.assertFalse(t.is_alive(), "the killed guess did not return")
        self.assertNotIn("result", outcome, "the check ran to completion")
        self.assertIsInstance(outcome.get("error"), psycopg2.OperationalError)
        self.wait_abandoned(uid)
        self.assertOutcome(uid, before, wrong=0, abandoned=1, refused=0, count=1, locked=False)


# --- 9. background worker slots ----------------------------------------------------------

def _start_throwaway(cls, prefix, options):
    """Starts a throwaway cluster for cls (removed by a class cleanup, even
    if this fails half-way) with user_mgmt in its postgres database; sets
    cls.CONN_KW and cls.server_dir."""
    path = _pg_dir(prefix)
    cls.addClassCleanup(_stop_and_remove, path)
    cls.server_dir = path
    data = os.path.join(path, "data")
    r = _run(_as_pg([PG_BIN + "/initdb", "-D", data, "--username=postgres", "--encoding=UTF8",
                     "--locale=C", "--auth=trust", "--no-sync"]))
    if r.returncode != 0:
        raise RuntimeError("initdb failed:\n" + r.stdout)
    port = _start_server(data, path, os.path.join(path, "server.log"),
                         "-c listen_addresses=127.0.0.1 -c fsync=off "
                         "-c shared_preload_libraries=user_mgmt " + options)
    cls.CONN_KW = {"host": path, "port": port}
    conn = tap.connect("postgres", **cls.CONN_KW)
    conn.autocommit = True
    try:
        execute(conn, "CREATE EXTENSION user_mgmt")
    finally:
        conn.close()


def _parallel_workers(conn):
    """(planned, launched) workers of a forced parallel query."""
    with conn.cursor() as cur:
        cur.execute("SET force_parallel_mode = on")
        cur.execute("SET parallel_setup_cost = 0")
        cur.execute("SET max_parallel_workers_per_gather = 1")
        try:
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                        "SELECT count(*) FROM pg_class")
            plan = cur.fetchone()[0]
        finally:
            cur.execute("RESET force_parallel_mode")
            cur.execute("RESET parallel_setup_cost")
            cur.execute("RESET max_parallel_workers_per_gather")
    if isinstance(plan, str):
        plan = json.loads(plan)
    node = plan[0]["Plan"]
    return node.get("Workers Planned"), node.get("Workers Launched")


class OneWorkerSlotTest(Base):
    """max_worker_processes = 1.  (The logical replication launcher, a
    background worker too, is switched off so that this one slot is free.)"""

    DBNAME = "postgres"

    @classmethod
    def setUpClass(cls):
        _start_throwaway(cls, "um-lockout-1slot.",
                         "-c max_worker_processes=1 -c max_logical_replication_workers=0")
        super().setUpClass()

    def writers(self):
        return [pid for (pid,) in self.q_all("SELECT pid FROM pg_stat_activity "
                                             "WHERE backend_type = 'user_mgmt login writer'")]

    def q_all(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def test_writer_takes_the_only_slot(self):
        self.assertEqual(q(self.conn, "SHOW max_worker_processes"), "1")
        # before any login: no writer, and the slot is free
        self.assertIsNone(stats(self.conn)["writer_pid"])
        self.assertEqual(self.writers(), [])
        self.assertEqual(_parallel_workers(self.conn), (1, 1), "the one slot is not free")
        # the first login starts the writer, in that slot
        uid, name = self.new_user()
        row = auth(self.conn, name, PW)
        self.assertIsNotNone(row, "the first login")
        self.assertEqual(row["id"], uid)
        writer = stats(self.conn)["writer_pid"]
        self.assertIsNotNone(writer)
        self.assertEqual(self.writers(), [writer])
        self.assertEqual(_parallel_workers(self.conn), (1, 0),
                         "another background worker could start")
        # no slot is left, and logins are decided exactly all the same
        self.burst(10, "ISOLATION LEVEL REPEATABLE READ", use_login=False)
        self.burst(10, "ISOLATION LEVEL READ COMMITTED", use_login=True)
        self.assertEqual(_parallel_workers(self.conn), (1, 0))
        self.assertEqual(stats(self.conn)["writer_pid"], writer, "the writer changed")


class NoWorkerSlotTest(Base):
    """max_worker_processes = 0: no writer can start, so logins fail closed."""

    DBNAME = "postgres"

    @classmethod
    def setUpClass(cls):
        _start_throwaway(cls, "um-lockout-0slot.", "-c max_worker_processes=0")
        super().setUpClass()

    def test_logins_fail_closed(self):
        uid, name = self.new_user()
        before = stats(self.conn)
        events_before = q(self.conn, "SELECT count(*) FROM user_mgmt.auth_events")
        del self.conn.notices[:]
        self.assertIsNone(auth(self.conn, name, PW), "the right password logged in unrecorded")
        self.assertEqual(login_outcome(self.conn, "SELECT user_mgmt.login(%s, %s)", name, PW),
                         LOGIN_REFUSED)
        warnings = [n for n in self.conn.notices
                    if n.startswith("WARNING:  the login attempt could not be recorded, so it was refused")]
        self.assertEqual(len(warnings), 2, self.conn.notices)
        d = delta(before, stats(self.conn))
        self.assertEqual(d, {"allowed": 0, "refused_locked": 0, "refused_busy": 0, "checked": 0,
                             "succeeded": 0, "unrecorded": 2})
        self.assertEqual(q(self.conn, "SELECT count(*) FROM user_mgmt.auth_events"), events_before,
                         "something was written to auth_events")
        self.assertIsNone(stats(self.conn)["writer_pid"])
        self.assertEqual(self.account(uid), (0, None))


class WriterRegistryFullTest(Base):
    """The shared registry holds UM_MAX_WRITERS (32) writers.  With enough
    worker slots, 32 databases each get a writer; a 33rd database's logins
    are refused, unchecked, until one of those writers stops."""

    DBNAME = "postgres"
    WRITERS = 32

    @classmethod
    def setUpClass(cls):
        _start_throwaway(cls, "um-lockout-registry.",
                         "-c max_worker_processes=40 -c max_connections=60")
        super().setUpClass()
        # One template with the extension and a user; the databases copy it.
        execute(cls.conn, "CREATE DATABASE um_tpl")
        tpl = tap.connect("um_tpl", **cls.CONN_KW)
        tpl.autocommit = True
        try:
            execute(tpl, "CREATE EXTENSION user_mgmt")
            execute(tpl, "SET user_mgmt.bcrypt_cost = 4")
            q(tpl, "SELECT user_mgmt.create_user('reg', %s, 'Registry Test')", PW)
        finally:
            tpl.close()
        for i in range(cls.WRITERS + 1):
            execute(cls.conn, "CREATE DATABASE um_reg%d TEMPLATE um_tpl" % i)

    def db_conn(self, i):
        conn = tap.connect("um_reg%d" % i, **dict(self.CONN_KW, options=SAFETY_OPTIONS))
        conn.autocommit = True
        self.addCleanup(conn.close)
        return conn

    def writers(self):
        return q(self.conn, "SELECT count(*) FROM pg_stat_activity "
                            "WHERE backend_type = 'user_mgmt login writer'")

    def test_a_database_past_the_registry_fails_closed(self):
        for i in range(self.WRITERS):
            self.assertIsNotNone(auth(self.db_conn(i), "reg", PW), "login in database %d" % i)
        self.assertEqual(self.writers(), self.WRITERS)
        last = self.db_conn(self.WRITERS)
        before = stats(self.conn)
        del last.notices[:]
        self.assertIsNone(auth(last, "reg", PW), "the right password logged in unrecorded")
        self.assertTrue(any("more than 32 databases check logins at once" in n for n in last.notices),
                        last.notices)
        self.assertTrue(any("could not be recorded, so it was refused" in n for n in last.notices),
                        last.notices)
        d = delta(before, stats(self.conn))
        self.assertEqual((d["checked"], d["unrecorded"]), (0, 1))
        self.assertEqual(q(last, "SELECT count(*) FROM user_mgmt.auth_events WHERE event LIKE 'login%%'"), 0)
        # one writer stops: its slot goes to the next database that logs in
        self.assertIs(q(self.db_conn(0), "SELECT user_mgmt.stop_login_writer()"), True)
        self.assertIsNotNone(auth(last, "reg", PW), "login after a registry slot was freed")
        self.assertEqual(self.writers(), self.WRITERS)


if __name__ == "__main__":
    tap.main()
