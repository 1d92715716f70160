#!/usr/bin/python3
"""Accounts end to end: create_user, login, authenticate, lockout, rehash,
read-only transactions and a real hot standby (where logins and session
changes are refused, tokens verify, and a revocation on the primary reaches
standby backends once replayed).  The concurrency, isolation-level and
worker-slot attacks on the lockout are in test_lockout_guarantees.py;
sessions are tested in depth in test_sessions.py.

Run: /usr/bin/python3 test/python/test_auth_flow.py
(needs PGHOST/PGPORT/PGUSER of a cluster where user_mgmt >= 1.4 is
installed, as a superuser; the hot standby test also needs to run as root or
as the postgres OS user, and the primary to accept replication connections
on 127.0.0.1, as initdb's default pg_hba.conf does).

No sleeps stand in for conditions: lockout expiry is tested by moving
locked_until into the past, and the standby is waited for by polling until a
marker row has been replayed, later until its replay LSN has reached the
primary's.  No timing is asserted.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import bcrypt
import jwt
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_auth"
PW = "correct horse battery"
WRONG = "Correct horse battery"
LOGIN_ERROR = "invalid username or password"
ACCOUNT_COLUMNS = {"id", "username", "role", "full_name", "created_at", "updated_at",
                   "is_active", "last_login_at", "failed_login_count", "locked_until",
                   "password_changed_at"}
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_OS_USER = "postgres"


def setUpModule():
    tap.create_test_db(DB)


def tearDownModule():
    tap.drop_test_db(DB)


class Base(unittest.TestCase):
    """One superuser connection (autocommit) and helpers."""

    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.conn = tap.connect(DB)
        cls.conn.autocommit = True

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def setUp(self):
        self.end_transaction()
        self.execute("RESET ALL")
        self.execute("SET user_mgmt.bcrypt_cost = 4")

    # --- helpers -----------------------------------------------------------

    def end_transaction(self):
        """Rolls back a transaction left open by a failed test (BEGIN sent as SQL)."""
        if self.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")

    @classmethod
    def q_on(cls, conn, query, *args):
        with conn.cursor() as cur:
            cur.execute(query, args)
            row = cur.fetchone()
            return None if row is None else row[0]

    def q(self, query, *args):
        return self.q_on(self.conn, query, *args)

    def execute(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)

    def new_user(self, password=PW, role="USER", prefix="u"):
        """Creates a user with a fresh name; returns (id, username)."""
        Base.counter += 1
        name = "%s%d_%s" % (prefix, Base.counter, uuid.uuid4().hex[:6])
        uid = self.q("SELECT user_mgmt.create_user(%s, %s, %s, %s)", name, password, "Full Name", role)
        self.assertIsInstance(uid, int)
        return uid, name

    @staticmethod
    def auth_on(conn, username, password):
        """authenticate(): None when it returned NULL, else the row as a dict."""
        with conn.cursor() as cur:
            cur.execute("SELECT r IS NULL, to_jsonb(r) FROM "
                        "(SELECT user_mgmt.authenticate(%s, %s) AS r OFFSET 0) AS s",
                        (username, password))
            is_null, row = cur.fetchone()
        return None if is_null else row

    def auth(self, username, password):
        return self.auth_on(self.conn, username, password)

    def login_on(self, conn, username, password):
        return self.q_on(conn, "SELECT user_mgmt.login(%s, %s)", username, password)

    def login(self, username, password):
        return self.login_on(self.conn, username, password)

    def assertSqlState(self, code, query, *args, conn=None):
        with self.assertRaises(psycopg2.Error, msg="no error from %s %r" % (query, args)) as ctx:
            self.q_on(conn or self.conn, query, *args)
        self.assertEqual(ctx.exception.pgcode, code, "expected SQLSTATE %s, got %s: %s"
                         % (code, ctx.exception.pgcode, ctx.exception))
        return ctx.exception

    def assertLoginFails(self, username, password, conn=None):
        """login() raises 28P01 'invalid username or password' and
        authenticate() returns NULL."""
        e = self.assertSqlState("28P01", "SELECT user_mgmt.login(%s, %s)", username, password, conn=conn)
        self.assertEqual(e.diag.message_primary, LOGIN_ERROR)
        self.assertIsNone(self.auth_on(conn or self.conn, username, password))

    def assertLoginWorks(self, uid, username, password, conn=None):
        row = self.auth_on(conn or self.conn, username, password)
        self.assertIsNotNone(row, "authenticate(%r) returned NULL" % username)
        self.assertEqual(row["id"], uid)
        tok = self.login_on(conn or self.conn, username, password)
        claims = self.q_on(conn or self.conn, "SELECT user_mgmt.verify_token(%s)", tok)
        self.assertEqual(claims["sub"], str(uid))
        return row

    def user(self, uid):
        """The account as user_mgmt.accounts has it (the login state the
        writer decides on) plus the hash, as a dict; None when gone."""
        return self.q("SELECT to_jsonb(a) || jsonb_build_object('hashed_password', u.hashed_password) "
                      "FROM user_mgmt.accounts AS a JOIN user_mgmt.users AS u USING (id) "
                      "WHERE a.id = %s", uid)

    def await_writer(self):
        """The writer has copied the login state into the users rows."""
        self.assertIs(self.q("SELECT user_mgmt.await_login_writer()"), True)


class AuthFlowTest(Base):
    def test_guc_defaults(self):
        self.execute("RESET ALL")
        for name, value in (("bcrypt_cost", "12"), ("min_password_length", "8"),
                            ("max_failed_logins", "5"), ("lockout_duration", "15min"),
                            ("token_ttl", "30min"), ("token_leeway", "0"),
                            ("auth_events_retention", "90d"), ("login_writer_idle_timeout", "5min"),
                            ("session_idle_timeout", "15d"), ("session_lifetime", "30d"),
                            ("max_sessions_per_user", "50")):
            with self.subTest(guc=name):
                self.assertEqual(self.q("SELECT current_setting(%s)", "user_mgmt." + name), value)
        self.assertEqual(self.q("SELECT user_mgmt.current_version()"),
                         self.q("SELECT default_version FROM pg_available_extensions "
                                "WHERE name = 'user_mgmt'"))

    def test_create_user_validation(self):
        ok = [("pw exactly 8 characters", "v_ok1", "12345678"),
              ("8 Cyrillic characters (16 bytes)", "v_ok2", "пароль12"),
              ("36 Cyrillic characters (72 bytes)", "v_ok3", "п" * 36),
              ("72 ASCII bytes", "v_ok4", "a" * 72),
              ("username of 20 characters", "v" * 20, PW),
              ("Cyrillic username", "Иван", PW),
              ("inner space", "a b", PW)]
        for what, name, pw in ok:
            with self.subTest(ok=what):
                uid = self.q("SELECT user_mgmt.create_user(%s, %s, 'Full Name')", name, pw)
                row = self.assertLoginWorks(uid, name, pw)
                self.assertEqual(row["role"], "USER", "default role")
                self.assertEqual(set(row), ACCOUNT_COLUMNS)
        bad = [("7-character password", "v_bad1", "1234567"),
               ("7 Cyrillic characters (14 bytes)", "v_bad2", "пароль1"),
               ("empty password", "v_bad3", ""),
               ("73 bytes", "v_bad4", "a" * 73),
               ("37 Cyrillic characters (74 bytes)", "v_bad5", "п" * 37),
               ("empty username", "", PW),
               ("21-character username", "w" * 21, PW),
               ("leading space", " lead", PW),
               ("trailing space", "trail ", PW),
               ("only spaces", "   ", PW),
               ("tab", "a\tb", PW),
               ("newline", "a\nb", PW),
               ("control character", "a\x01b", PW),
               ("DEL", "a\x7fb", PW)]
        for what, name, pw in bad:
            with self.subTest(bad=what):
                self.assertSqlState("22023", "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", name, pw)
        self.assertEqual(self.q("SELECT count(*) FROM user_mgmt.users WHERE username LIKE 'v\\_bad%%'"), 0)
        # duplicates, in any case
        self.q("SELECT user_mgmt.create_user('DupUser', %s, 'Full Name')", PW)
        for name in ("DupUser", "dupuser", "DUPUSER"):
            with self.subTest(duplicate=name):
                self.assertSqlState("23505", "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", name, PW)
        self.assertSqlState("23505", "SELECT user_mgmt.create_user('иван', %s, 'Full Name')", PW)
        # min_password_length follows the GUC
        self.execute("SET user_mgmt.min_password_length = 12")
        self.assertSqlState("22023", "SELECT user_mgmt.create_user('v_min12', '12345678901', 'Full Name')")
        self.q("SELECT user_mgmt.create_user('v_min12', '123456789012', 'Full Name')")
        # role argument
        uid = self.q("SELECT user_mgmt.create_user('v_admin', %s, 'Full Name', 'ADMIN')", PW)
        self.assertEqual(self.assertLoginWorks(uid, "v_admin", PW)["role"], "ADMIN")

    def test_login_success(self):
        uid, name = self.new_user(role="CASHIER")
        before = self.user(uid)
        self.assertIsNone(before["last_login_at"])
        self.assertTrue(before["hashed_password"].startswith("$2b$04$"), "bcrypt_cost GUC not used")
        row = self.auth(name, PW)
        self.assertEqual(set(row), ACCOUNT_COLUMNS, "authenticate must not return hashed_password")
        self.assertEqual((row["id"], row["username"], row["role"], row["full_name"]),
                         (uid, name, "CASHIER", "Full Name"))
        after = self.user(uid)
        self.assertIsNotNone(after["last_login_at"], "last_login_at not set")
        self.assertEqual(after["failed_login_count"], 0)
        tok = self.login(name, PW)
        claims = self.q("SELECT user_mgmt.verify_token(%s)", tok)
        self.assertEqual((claims["sub"], claims["username"], claims["role"]), (str(uid), name, "CASHIER"))
        # the accounts view has the same columns
        acc = self.q("SELECT to_jsonb(a) FROM user_mgmt.accounts AS a WHERE id = %s", uid)
        self.assertEqual(set(acc), ACCOUNT_COLUMNS)

    def test_failures_look_the_same(self):
        self.execute("SET user_mgmt.max_failed_logins = 0")  # each case on its own, not a lockout
        uid, name = self.new_user()
        iid, iname = self.new_user()
        self.execute("SELECT user_mgmt.set_active(%s, false)", iid)
        cases = [("wrong password", name, WRONG),
                 ("empty password", name, ""),
                 ("73-byte password", name, "a" * 73),
                 ("unknown user", "nobody_" + uuid.uuid4().hex[:8], PW),
                 ("empty username", "", PW),
                 ("inactive user, right password", iname, PW)]
        for what, u, p in cases:
            with self.subTest(case=what):
                self.assertLoginFails(u, p)

    def test_lockout_default_five(self):
        uid, name = self.new_user()
        for i in range(1, 5):
            self.assertIsNone(self.auth(name, WRONG))
            u = self.user(uid)
            self.assertEqual(u["failed_login_count"], i)
            self.assertIsNone(u["locked_until"], "locked after only %d failures" % i)
        self.assertIsNone(self.auth(name, WRONG))  # the 5th
        self.assertIs(self.q("SELECT locked_until > clock_timestamp() + interval '10 min' AND "
                             "locked_until <= clock_timestamp() + interval '15 min' "
                             "FROM user_mgmt.accounts WHERE id = %s", uid), True,
                      "not locked for lockout_duration (15min) after 5 failures: %r" % self.user(uid))
        # the right password does not help now
        self.assertLoginFails(name, PW)
        self.assertIsNone(self.auth(name, PW))
        # unlock_user restores
        self.execute("SELECT user_mgmt.unlock_user(%s)", uid)
        u = self.user(uid)
        self.assertEqual((u["failed_login_count"], u["locked_until"]), (0, None))
        self.assertLoginWorks(uid, name, PW)

    def test_lockout_three_via_set(self):
        self.execute("SET user_mgmt.max_failed_logins = 3")
        self.execute("SET user_mgmt.lockout_duration = '2h'")
        uid, name = self.new_user()
        self.assertIsNone(self.auth(name, WRONG))
        self.assertIsNone(self.auth(name, WRONG))
        self.assertIsNone(self.user(uid)["locked_until"])
        self.assertIsNone(self.auth(name, WRONG))
        self.assertIs(self.q("SELECT locked_until > clock_timestamp() + interval '1 hour' "
                             "FROM user_mgmt.accounts WHERE id = %s", uid), True,
                      "not locked for 2h after 3 failures: %r" % self.user(uid))
        self.assertLoginFails(name, PW)

    def test_lockout_counts_failed_login_calls(self):
        # login() reports every failure with an ERROR; the failures must
        # still count, or login() would allow unlimited guessing.
        self.execute("SET user_mgmt.max_failed_logins = 3")
        uid, name = self.new_user()
        for _ in range(3):
            self.assertSqlState("28P01", "SELECT user_mgmt.login(%s, %s)", name, WRONG)
        u = self.user(uid)
        self.assertIsNotNone(u["locked_until"],
                             "3 failed login() calls did not lock the account "
                             "(failed_login_count = %r)" % u["failed_login_count"])
        self.assertLoginFails(name, PW)

    def test_success_resets_counter(self):
        uid, name = self.new_user()
        for _ in range(4):
            self.assertIsNone(self.auth(name, WRONG))
        self.assertLoginWorks(uid, name, PW)
        self.assertEqual(self.user(uid)["failed_login_count"], 0)
        for _ in range(4):  # 4 more: not 5 consecutive ones
            self.assertIsNone(self.auth(name, WRONG))
        self.assertIsNone(self.user(uid)["locked_until"])
        self.assertLoginWorks(uid, name, PW)

    def test_lockout_expiry(self):
        self.execute("SET user_mgmt.max_failed_logins = 3")
        uid, name = self.new_user()
        for _ in range(3):
            self.assertIsNone(self.auth(name, WRONG))
        self.assertLoginFails(name, PW)
        # the lock has run out (the condition itself, in the writer's own
        # table, instead of waiting)
        self.execute("UPDATE user_mgmt.login_state SET locked_until = clock_timestamp() - interval '1 second' "
                     "WHERE user_id = %s", uid)
        self.assertLoginWorks(uid, name, PW)
        self.assertEqual(self.user(uid)["failed_login_count"], 0)

    def test_max_failed_logins_zero_disables_lockout(self):
        self.execute("SET user_mgmt.max_failed_logins = 0")
        uid, name = self.new_user()
        for _ in range(12):
            self.assertIsNone(self.auth(name, WRONG))
        self.assertIsNone(self.user(uid)["locked_until"])
        self.assertLoginWorks(uid, name, PW)

    def test_inactive(self):
        uid, name = self.new_user()
        self.execute("SELECT user_mgmt.set_active(%s, false)", uid)
        self.assertIs(self.user(uid)["is_active"], False)
        self.assertLoginFails(name, PW)
        self.execute("SELECT user_mgmt.set_active(%s, true)", uid)
        self.assertLoginWorks(uid, name, PW)

    def test_admin_functions(self):
        uid, name = self.new_user()
        # set_role
        self.execute("SELECT user_mgmt.set_role(%s, 'ADMIN')", uid)
        self.assertEqual(self.assertLoginWorks(uid, name, PW)["role"], "ADMIN")
        claims = self.q("SELECT user_mgmt.verify_token(user_mgmt.login(%s, %s))", name, PW)
        self.assertEqual(claims["role"], "ADMIN")
        # set_password
        old_hash = self.user(uid)["hashed_password"]
        self.execute("SELECT user_mgmt.set_password(%s, 'second password')", uid)
        u = self.user(uid)
        self.assertNotEqual(u["hashed_password"], old_hash)
        self.assertTrue(bcrypt.checkpw(b"second password", u["hashed_password"].encode()))
        self.assertLoginFails(name, PW)
        self.assertLoginWorks(uid, name, "second password")
        self.assertSqlState("22023", "SELECT user_mgmt.set_password(%s, 'short')", uid)
        # change_password
        self.assertSqlState("28P01", "SELECT user_mgmt.change_password(%s, %s, 'third password')",
                            name, "not the password")
        self.assertLoginWorks(uid, name, "second password")
        self.assertSqlState("22023", "SELECT user_mgmt.change_password(%s, 'second password', 'short')", name)
        self.execute("SELECT user_mgmt.change_password(%s, 'second password', 'third password')", name)
        self.assertLoginFails(name, "second password")
        self.assertLoginWorks(uid, name, "third password")
        # delete_user
        self.execute("SELECT user_mgmt.delete_user(%s)", uid)
        self.assertIsNone(self.user(uid))
        self.assertLoginFails(name, "third password")
        # unknown ids
        for query in ("SELECT user_mgmt.set_password(%s, 'long enough pw')",
                      "SELECT user_mgmt.set_role(%s, 'ADMIN')",
                      "SELECT user_mgmt.set_active(%s, false)",
                      "SELECT user_mgmt.unlock_user(%s)",
                      "SELECT user_mgmt.delete_user(%s)",
                      "SELECT user_mgmt.issue_token(%s)"):
            with self.subTest(unknown_id=query):
                self.assertSqlState("P0002", query, uid)

    def test_rehash_on_login(self):
        uid, name = self.new_user()  # at cost 4
        h4 = self.user(uid)["hashed_password"]
        self.assertTrue(h4.startswith("$2b$04$"), h4)
        self.execute("SET user_mgmt.bcrypt_cost = 5")
        # a failed login does not rehash
        self.assertIsNone(self.auth(name, WRONG))
        self.assertEqual(self.user(uid)["hashed_password"], h4)
        self.execute("SELECT user_mgmt.unlock_user(%s)", uid)
        # a successful one does (the writer stores the new hash)
        self.assertIsNotNone(self.auth(name, PW))
        self.await_writer()
        h5 = self.user(uid)["hashed_password"]
        self.assertNotEqual(h5, h4, "hash not upgraded after the cost was raised")
        self.assertTrue(h5.startswith("$2b$05$"), h5)
        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", PW, h5), True)
        self.assertTrue(bcrypt.checkpw(PW.encode(), h5.encode()))
        # at the same cost, no further rehash
        self.assertLoginWorks(uid, name, PW)
        self.await_writer()
        self.assertEqual(self.user(uid)["hashed_password"], h5)

    def read_only_case(self, how, calls):
        """Runs calls(uid, name) in a read-only transaction (opened the way
        `how` says) for a user with one failed login and a hash older than
        the cost; returns the users columns that changed, {name: (before, after)}."""
        self.execute("SET user_mgmt.bcrypt_cost = 4")
        uid, name = self.new_user()
        self.assertIsNone(self.auth(name, WRONG))  # failed_login_count = 1
        before = self.user(uid)
        self.assertEqual(before["failed_login_count"], 1)
        self.execute("SET user_mgmt.bcrypt_cost = 5")  # would rehash if writable
        self.execute("SET user_mgmt.max_failed_logins = 3")  # would lock if writable
        with self.conn.cursor() as cur:
            if how != "BEGIN READ ONLY":
                cur.execute(how)
                how = "BEGIN"
            cur.execute(how)
            try:
                cur.execute("SHOW transaction_read_only")
                self.assertEqual(cur.fetchone()[0], "on")
                calls(uid, name)
                cur.execute("COMMIT")
            finally:
                self.end_transaction()
                cur.execute("RESET default_transaction_read_only")
        self.await_writer()
        after = self.user(uid)
        return {k: (before[k], after[k]) for k in before if before[k] != after[k]}

    READ_ONLY_WAYS = ("BEGIN READ ONLY", "SET default_transaction_read_only = on")

    def test_read_only_success_is_recorded(self):
        # The writer records a login whatever the caller's transaction is:
        # the count is reset, last_login_at set and the hash upgraded.
        def calls(uid, name):
            self.assertEqual(self.auth(name, PW)["id"], uid)
            tok = self.login(name, PW)
            self.assertEqual(self.q("SELECT user_mgmt.verify_token(%s)", tok)["sub"], str(uid))
        for how in self.READ_ONLY_WAYS:
            with self.subTest(how=how):
                changed = self.read_only_case(how, calls)
                self.assertEqual(changed["failed_login_count"], (1, 0), changed)
                self.assertIsNone(changed["last_login_at"][0])
                self.assertIsNotNone(changed["last_login_at"][1])
                self.assertTrue(changed["hashed_password"][1].startswith("$2b$05$"), changed)

    def test_read_only_failure_still_counts(self):
        # Failures are counted in a transaction of their own, so a read-only
        # transaction cannot be used to guess without lockout: two more wrong
        # passwords (three in all, max_failed_logins = 3) lock the account,
        # and the third guess is refused unchecked, although the caller's
        # transaction wrote nothing.
        def calls(uid, name):
            for _ in range(3):
                self.assertIsNone(self.auth(name, WRONG))
            self.assertIsNone(self.auth("nobody_ro", PW))
        for how in self.READ_ONLY_WAYS:
            with self.subTest(how=how):
                changed = self.read_only_case(how, calls)
                self.assertEqual(changed["failed_login_count"], (1, 3), changed)
                self.assertIsNone(changed["locked_until"][0])
                self.assertIsNotNone(changed["locked_until"][1],
                                     "four failures with max_failed_logins = 3 must lock")
                self.assertNotIn("hashed_password", changed)
                self.assertNotIn("last_login_at", changed)


# --- a real hot standby --------------------------------------------------------

def _as_pg(cmd):
    if pwd.getpwuid(os.geteuid()).pw_name == PG_OS_USER:
        return cmd
    return ["runuser", "-u", PG_OS_USER, "--"] + cmd


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, **kw)


def _pg_dir(prefix):
    """A fresh directory under /tmp that the postgres user owns."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        pg = pwd.getpwnam(PG_OS_USER)
        os.chown(path, pg.pw_uid, pg.pw_gid)
    return path


def _start_server(data, sockdir, log, options):
    """Start the server in data on a free port (a few tries); the port."""
    for attempt in range(5):
        port = _free_port()
        r = _run(_as_pg([PG_BIN + "/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o",
                         "-p %d -k %s %s" % (port, sockdir, options), "start"]))
        if r.returncode == 0:
            return port
    log_tail = ""
    try:
        with open(log) as f:
            log_tail = f.read()[-4000:]
    except OSError:
        pass
    raise RuntimeError("server did not start:\n%s\n%s" % (r.stdout, log_tail))


def _stop_and_remove(path):
    """Stop the server whose data directory is path/data, remove path."""
    if os.path.exists(os.path.join(path, "data", "postmaster.pid")):
        _run(_as_pg([PG_BIN + "/pg_ctl", "-D", os.path.join(path, "data"),
                     "-m", "immediate", "-w", "stop"]))
    shutil.rmtree(path, ignore_errors=True)


class HotStandbyTest(Base):
    """A streaming replica of the test cluster, made with pg_basebackup -R."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standby = None
        cls.dir = None
        with cls.conn.cursor() as cur:
            cur.execute("SET user_mgmt.bcrypt_cost = 4")
            cur.execute("SELECT user_mgmt.create_user('standby_user', %s, 'On The Standby', 'CASHIER')", (PW,))
            cls.uid = cur.fetchone()[0]
            cur.execute("CREATE TABLE public.standby_marker (v text)")

        cls.dir = _pg_dir("um-standby.")
        cls.addClassCleanup(cls._remove_standby)
        cls.data = os.path.join(cls.dir, "data")
        primary_port = os.environ.get("PGPORT", "5432")
        r = _run(_as_pg([PG_BIN + "/pg_basebackup", "-h", "127.0.0.1", "-p", primary_port,
                         "-U", os.environ.get("PGUSER", "postgres"), "-D", cls.data,
                         "-R", "-X", "stream", "-c", "fast", "--no-sync"]))
        if r.returncode != 0:
            raise RuntimeError("pg_basebackup failed:\n" + r.stdout)
        cls.port = _start_server(cls.data, cls.dir, os.path.join(cls.dir, "standby.log"),
                                 "-c listen_addresses=127.0.0.1 -c hot_standby=on")

        # A marker written on the primary after the backup: once the standby
        # shows it, it is streaming and has replayed everything before it.
        marker = uuid.uuid4().hex
        with cls.conn.cursor() as cur:
            cur.execute("INSERT INTO public.standby_marker VALUES (%s)", (marker,))
        deadline = time.monotonic() + 90
        last = None
        while True:
            try:
                if cls.standby is None:
                    cls.standby = tap.connect(DB, host=cls.dir, port=cls.port)
                    cls.standby.autocommit = True
                with cls.standby.cursor() as cur:
                    cur.execute("SELECT pg_is_in_recovery(), "
                                "EXISTS (SELECT FROM public.standby_marker WHERE v = %s)", (marker,))
                    if cur.fetchone() == (True, True):
                        break
            except psycopg2.Error as e:
                last = e
                if cls.standby is not None:
                    cls.standby.close()
                    cls.standby = None
            if time.monotonic() > deadline:
                raise RuntimeError("standby did not replay the marker row in time (%s)" % last)
            time.sleep(0.05)  # poll interval of a condition loop, not a wait for a guess

    def wait_for_replay(self):
        """Polls until the standby has replayed everything the primary has
        written so far (sessions are written by the login writer, whose
        commits are in the WAL before its callers get their answer)."""
        lsn = self.q("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + 60
        watcher = tap.connect(DB, host=self.dir, port=self.port)
        watcher.autocommit = True
        try:
            while not self.q_on(watcher, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", lsn):
                if time.monotonic() > deadline:
                    self.fail("the standby did not replay up to %s within 60s (at %s)"
                              % (lsn, self.q_on(watcher, "SELECT pg_last_wal_replay_lsn()")))
                time.sleep(0.02)  # poll interval of a condition loop
        finally:
            watcher.close()

    def standby_conn(self):
        conn = tap.connect(DB, host=self.dir, port=self.port)
        conn.autocommit = True
        self.addCleanup(conn.close)
        return conn

    def sign_in(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT * FROM user_mgmt.sign_in('standby_user', %s)", (PW,))
            return dict(zip([d.name for d in cur.description], cur.fetchone()))

    @classmethod
    def _remove_standby(cls):
        if cls.standby is not None:
            cls.standby.close()
            cls.standby = None
        if cls.dir:
            _stop_and_remove(cls.dir)
            cls.dir = None

    def test_logins_refused_tokens_verified_on_standby(self):
        # A standby cannot record an attempt, so it checks no password at
        # all (one clear error, whatever the account); tokens verify there.
        sb = self.standby
        self.assertIs(self.q_on(sb, "SELECT pg_is_in_recovery()"), True)
        before = self.user(self.uid)
        for query, args in (("SELECT user_mgmt.authenticate(%s, %s)", ("standby_user", PW)),
                            ("SELECT user_mgmt.authenticate(%s, %s)", ("standby_user", WRONG)),
                            ("SELECT user_mgmt.login(%s, %s)", ("standby_user", PW)),
                            ("SELECT user_mgmt.login(%s, %s)", ("nobody_on_standby", PW)),
                            ("SELECT user_mgmt.change_password(%s, %s, 'new password 1')", ("standby_user", PW))):
            with self.subTest(query=query, args=args):
                e = self.assertSqlState("25006", query, *args, conn=sb)
                self.assertEqual(e.diag.message_primary, "logins cannot be checked on a hot standby")

        tok = self.login("standby_user", PW)
        self.wait_for_replay()   # the token's session, opened on the primary
        claims = self.q_on(sb, "SELECT user_mgmt.verify_token(%s)", tok)
        self.assertEqual((claims["sub"], claims["username"]), (str(self.uid), "standby_user"))
        self.assertEqual(self.q("SELECT user_mgmt.verify_token(%s)", tok), claims)
        secret = bytes(self.q("SELECT user_mgmt.export_signing_key()"))
        self.assertEqual(jwt.decode(tok, key=secret, algorithms=["HS256"]), claims)
        with sb.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
            cur.execute("SELECT user_mgmt.current_user_id()")
            self.assertEqual(cur.fetchone()[0], self.uid)
            cur.execute("ROLLBACK")
        # nothing changed on the primary but this one login there
        after = self.user(self.uid)
        self.assertEqual({k: v for k, v in after.items() if k not in ("last_login_at", "updated_at")},
                         {k: v for k, v in before.items() if k not in ("last_login_at", "updated_at")})

    STANDBY_REFUSALS = {"logins cannot be checked on a hot standby",
                        "sessions cannot be opened, refreshed or ended on a hot standby"}

    def test_sessions_on_standby(self):
        # Sessions are opened, refreshed and ended on the primary only;
        # their tokens verify on the standby.
        sb = self.standby
        pair = self.sign_in()
        self.wait_for_replay()
        claims = self.q_on(sb, "SELECT user_mgmt.verify_token(%s)", pair["access_token"])
        self.assertEqual((claims["sub"], claims["sid"]), (str(self.uid), pair["session_id"]))
        for query, args in (("SELECT * FROM user_mgmt.sign_in(%s, %s)", ("standby_user", PW)),
                            ("SELECT * FROM user_mgmt.sign_in(%s, %s)", ("standby_user", WRONG)),
                            ("SELECT * FROM user_mgmt.refresh(%s)", (pair["refresh_token"],)),
                            ("SELECT user_mgmt.logout(%s)", (pair["access_token"],)),
                            ("SELECT user_mgmt.logout(%s)", (pair["refresh_token"],)),
                            ("SELECT user_mgmt.logout_all(%s)", (self.uid,)),
                            ("SELECT user_mgmt.revoke_session(%s)", (pair["session_id"],))):
            with self.subTest(query=query, args=args):
                e = self.assertSqlState("25006", query, *args, conn=sb)
                self.assertIn(e.diag.message_primary, self.STANDBY_REFUSALS)
        for call in ("logout()", "logout_all()"):
            with self.subTest(claims_call=call):
                with sb.cursor() as cur:
                    cur.execute("BEGIN")
                    try:
                        cur.execute("SELECT user_mgmt.set_session_token(%s)", (pair["access_token"],))
                        cur.execute("SELECT user_mgmt.current_session_id()")
                        self.assertEqual(cur.fetchone()[0], pair["session_id"])
                        with self.assertRaises(psycopg2.Error) as ctx:
                            cur.execute("SELECT user_mgmt." + call)
                        self.assertEqual(ctx.exception.pgcode, "25006", str(ctx.exception))
                        self.assertIn(ctx.exception.diag.message_primary, self.STANDBY_REFUSALS)
                    finally:
                        cur.execute("ROLLBACK")
        # none of it touched the session: its refresh token is unused
        row = self.q("SELECT to_jsonb(s) FROM user_mgmt.sessions AS s WHERE id = %s", pair["session_id"])
        self.assertEqual((row["revoked_at"], row["refreshed_at"]), (None, row["created_at"]))
        self.assertEqual(self.q("SELECT session_id FROM user_mgmt.refresh(%s)", pair["refresh_token"]),
                         pair["session_id"])

    def test_revocation_reaches_standby_backends(self):
        # Backends already connected to the standby, with the session
        # cached (one of them inside an open REPEATABLE READ transaction
        # with its claims set), refuse the token once the standby has
        # replayed the revocation.
        for what, revoke, message in (
                ("logout", lambda p: self.q("SELECT user_mgmt.logout(%s)", p["access_token"]),
                 "token's session has been revoked"),
                ("set_role", lambda p: self.q("SELECT user_mgmt.set_role(%s, 'ADMIN')", self.uid),
                 "token's session has been revoked"),
                ("logout_all", lambda p: self.q("SELECT user_mgmt.logout_all(%s)", self.uid),
                 "token's session has been revoked")):
            with self.subTest(revocation=what):
                pair = self.sign_in()
                tok = pair["access_token"]
                self.wait_for_replay()
                warm, txn = self.standby_conn(), self.standby_conn()
                self.assertEqual(self.q_on(warm, "SELECT user_mgmt.verify_token(%s)", tok)["sid"],
                                 pair["session_id"])
                with txn.cursor() as cur:
                    cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    try:
                        cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
                        cur.execute("SELECT user_mgmt.current_user_id()")
                        self.assertEqual(cur.fetchone()[0], self.uid)
                        revoke(pair)
                        self.wait_for_replay()
                        e = self.assertSqlState("28000", "SELECT user_mgmt.verify_token(%s)", tok, conn=warm)
                        self.assertEqual(e.diag.message_primary, message)
                        for query, args in (("SELECT user_mgmt.verify_token(%s)", (tok,)),
                                            ("SELECT user_mgmt.current_user_id()", None)):
                            cur.execute("SAVEPOINT s")
                            with self.assertRaises(psycopg2.Error) as ctx:
                                cur.execute(query, args)
                            self.assertEqual((ctx.exception.pgcode, ctx.exception.diag.message_primary),
                                             ("28000", message), query)
                            cur.execute("ROLLBACK TO SAVEPOINT s")
                    finally:
                        cur.execute("ROLLBACK")
                self.assertSqlState("28000", "SELECT user_mgmt.verify_token(%s)", tok)


if __name__ == "__main__":
    tap.main()
