#!/usr/bin/python3
"""No password, no refresh token and no bcrypt hash in the server log or in
an error (1.3; refresh tokens since 1.4).

Every function that takes a password runs inside a "secret scope": an error
raised there is logged without the STATEMENT and CONTEXT lines (which hold
the caller's SQL text, with the password in it when the client interpolates
parameters as psycopg2 does, and the bind parameters when
log_parameter_max_length_on_error is set), and an integrity error loses its
DETAIL ("Failing row contains (..., $2b$...)").

Each test reads the server log of the cluster it runs against
($UM_CLUSTER_DIR/postgresql.log): it notes the log's size, makes its calls,
then has the same backend write a marker (a WARNING) and polls the file, with
a deadline, until the marker is there.  The part of the log between the two
must hold the call's ERROR line (so the log is really being read), must not
hold the password, and must hold no STATEMENT or CONTEXT line of that
backend.  Control cases show that an ordinary error of the same session does
put the interpolated text (psycopg2) or the bind parameters (asyncpg) into
the log, so the absence is the extension's doing.

Refresh tokens (1.4) are secrets too: refresh() with a used, revoked,
unknown or malformed refresh token, logout() with an unknown or malformed
one, refresh() in a DO block, a transaction, or beside an uncommitted
account change (55P03), through psycopg2 and through asyncpg, leave neither
the token nor a STATEMENT or CONTEXT line in the log, and the error the
client gets does not show the token; successful calls log nothing.  Their
own controls show that a refresh token in an ordinary failing statement is
logged.

The limitations the README states are tests too (their names start with
test_limitation_): with log_statement = 'all' the statement, password
included, IS logged.

Run: /usr/bin/python3 test/python/test_log_hygiene.py
(needs PGHOST/PGPORT/PGUSER of a superuser, UM_CLUSTER_DIR of the cluster,
whose log file must be readable, and shared_preload_libraries = 'user_mgmt').
"""

import asyncio
import base64
import os
import re
import sys
import time
import unittest
import uuid

import asyncpg
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_log_hygiene"
LOGIN_ERROR = "invalid username or password"
HIDDEN_ROW = "The row's values are not shown: they include a password hash."
# A bcrypt hash, or the start of one: $2$, $2a$, $2b$, $2x$, $2y$ and a cost.
HASH_RE = re.compile(r"\$2[abxy]?\$\d\d\$")
LOG_DEADLINE = 15.0  # seconds to wait for a marker to reach the log file

# '%m [%p] %q%u@%d ' (scripts/lib/cluster.sh); %u@%d is absent for
# background processes.
ENTRY_RE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(?P<pid>\d+)\] "
                      r"(?:(?P<who>\S*@\S*) )?(?P<level>[A-Z]+[0-9]?):  (?P<msg>.*)$")


def secret(prefix="pw"):
    """A password nobody else writes: 35 characters."""
    return "%s-%s" % (prefix, uuid.uuid4().hex)


class ServerLog:
    """The cluster's server log file, read from a byte position on."""

    def __init__(self):
        cluster = os.environ.get("UM_CLUSTER_DIR")
        if not cluster:
            raise RuntimeError("UM_CLUSTER_DIR is not set: cannot read the server log")
        self.path = os.path.join(cluster, "postgresql.log")
        with open(self.path, "rb"):
            pass  # readable, or the suite fails here

    def size(self):
        return os.path.getsize(self.path)

    def read(self, start):
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")

    def until(self, start, marker):
        """The log from `start` up to the end of the line holding `marker`;
        polls the file until that line is complete or the deadline passes."""
        deadline = time.monotonic() + LOG_DEADLINE
        while True:
            text = self.read(start)
            i = text.find(marker)
            if i >= 0:
                end = text.find("\n", i)
                if end >= 0:
                    return text[:end + 1]
            if time.monotonic() > deadline:
                raise AssertionError("marker %r did not reach %s within %ss; log since the call:\n%s"
                                     % (marker, self.path, LOG_DEADLINE, text))
            time.sleep(0.02)  # poll interval, not a condition


def entries(text):
    """The log entries in text: dicts with pid, level, msg (continuation
    lines of a multi-line message are appended to msg)."""
    out = []
    for line in text.splitlines():
        m = ENTRY_RE.match(line)
        if m:
            out.append({"pid": int(m.group("pid")), "level": m.group("level"), "msg": m.group("msg")})
        elif out:
            out[-1]["msg"] += "\n" + line
        elif line.strip():
            # text before the first entry of the segment: part of an entry
            # that started before our position; keep it visible
            out.append({"pid": None, "level": None, "msg": line})
    return out


def marker_sql(marker):
    # marker is hex from uuid4: safe to put into the SQL text
    return "DO $$BEGIN RAISE WARNING USING MESSAGE = 'um-log-marker %s'; END$$" % marker


LOG = None


def setUpModule():
    global LOG
    LOG = ServerLog()
    tap.create_test_db(DB)


def tearDownModule():
    tap.drop_test_db(DB)


class Base(unittest.TestCase):
    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.conn = tap.connect(DB)
        cls.conn.autocommit = True
        cls.pid = cls.q_on(cls.conn, "SELECT pg_backend_pid()")

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def setUp(self):
        self.execute("RESET ALL")
        self.execute("SET user_mgmt.bcrypt_cost = 4")
        # the defaults these tests are about
        self.assertEqual(self.q("SHOW log_min_error_statement"), "error")
        self.assertEqual(self.q("SHOW log_statement"), "none")

    # --- helpers -----------------------------------------------------------

    @staticmethod
    def q_on(conn, query, *args):
        with conn.cursor() as cur:
            cur.execute(query, args)
            row = cur.fetchone() if cur.description else None
            return None if row is None else row[0]

    def q(self, query, *args):
        return self.q_on(self.conn, query, *args)

    def execute(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)

    def new_user(self, password=None, prefix="h"):
        """A user with a fresh name; returns (id, username, password)."""
        Base.counter += 1
        password = password or secret()
        name = "%s%d_%s" % (prefix, Base.counter, uuid.uuid4().hex[:6])
        uid = self.q("SELECT user_mgmt.create_user(%s, %s, 'Full Name')", name, password)
        return uid, name, password

    def locked_user(self):
        """A user locked after two wrong guesses (max_failed_logins = 2 in
        this session); returns (id, username, its right password)."""
        uid, name, pw = self.new_user()
        self.execute("SET user_mgmt.max_failed_logins = 2")
        for _ in range(2):
            self.assertIsNone(self.q("SELECT (user_mgmt.authenticate(%s, %s)).id", name, secret("guess")))
        self.assertIs(self.q("SELECT locked_until > clock_timestamp() FROM user_mgmt.accounts "
                             "WHERE id = %s", uid), True, "the account did not get locked")
        return uid, name, pw

    def logged(self, action):
        """Runs action() (which may raise psycopg2.Error) on self.conn;
        returns (the exception or None, the log written meanwhile)."""
        start = LOG.size()
        error = None
        try:
            action()
        except psycopg2.Error as e:
            error = e
        marker = uuid.uuid4().hex
        with self.conn.cursor() as cur:
            cur.execute(marker_sql(marker))  # no parameters: the text as it is
        return error, LOG.until(start, marker)

    def logged_error(self, code, query, *args):
        """query with args fails with SQLSTATE code; (error, log segment)."""
        error, text = self.logged(lambda: self.q(query, *args))
        self.assertIsNotNone(error, "no error from %s %r" % (query, args))
        self.assertEqual(error.pgcode, code, "expected SQLSTATE %s, got %s: %s"
                         % (code, error.pgcode, error))
        return error, text

    @staticmethod
    def client_texts(e):
        """Everything of an error the client sees, by field."""
        d = e.diag
        return {"pgerror": e.pgerror, "message": d.message_primary, "detail": d.message_detail,
                "hint": d.message_hint, "context": d.context, "internal_query": d.internal_query}

    def assertClientErrorClean(self, e, secrets):
        for field, value in self.client_texts(e).items():
            if value is None:
                continue
            self.assertIsNone(HASH_RE.search(value), "a bcrypt hash in the error's %s: %r" % (field, value))
            self.assertNotIn("$2b$", value.replace("$2a$, $2b$ and $2y$", ""),
                             "'$2b$' in the error's %s: %r" % (field, value))
            self.assertNotIn("Failing row contains", value, "the failing row in the error's %s" % field)
            for s in secrets:
                self.assertNotIn(s, value, "the secret %r in the error's %s: %r" % (s, field, value))

    def assertLogClean(self, text, pid, message, secrets, hide=("STATEMENT", "CONTEXT")):
        """The segment has backend pid's ERROR `message`, no secret, no
        hash, and none of pid's STATEMENT/CONTEXT lines."""
        mine = [e for e in entries(text) if e["pid"] == pid]
        self.assertTrue(any(e["level"] == "ERROR" and e["msg"] == message for e in mine),
                        "the ERROR %r of backend %d is not in the log; log since the call:\n%s"
                        % (message, pid, text))
        for s in secrets:
            self.assertNotIn(s, text, "the secret %r is in the server log:\n%s" % (s, text))
        self.assertIsNone(HASH_RE.search(text), "a bcrypt hash is in the server log:\n%s" % text)
        shown = [e for e in mine if e["level"] in hide]
        self.assertEqual(shown, [], "the error was logged with %s lines:\n%s" % ("/".join(hide), text))


class PsycopgLoginTest(Base):
    """psycopg2 interpolates parameters into the SQL text on the client."""

    def test_control_an_ordinary_error_logs_the_interpolated_statement(self):
        # Without the secret scope the text IS logged: what the other tests
        # would see if the extension did not hide it.
        ctrl = secret("ctrl")
        e, text = self.logged_error("22012", "SELECT length(%s) / 0", ctrl)
        self.assertIn(ctrl, text, "an ordinary error's STATEMENT line is not in the log:\n" + text)
        self.assertTrue(any(x["pid"] == self.pid and x["level"] == "STATEMENT" and ctrl in x["msg"]
                            for x in entries(text)), text)

    def test_failed_logins_leave_no_password_in_the_log(self):
        uid, name, _ = self.new_user()
        lid, lname, lpw = self.locked_user()
        cases = [("existing user, wrong password", name, secret()),
                 ("existing user, 73-byte password", name, secret() * 3),
                 ("unknown user", "nobody_" + uuid.uuid4().hex[:8], secret()),
                 ("locked account, its right password", lname, lpw)]
        for what, user, pw in cases:
            with self.subTest(case=what):
                e, text = self.logged_error("28P01", "SELECT user_mgmt.login(%s, %s)", user, pw)
                self.assertEqual(e.diag.message_primary, LOGIN_ERROR)
                self.assertClientErrorClean(e, [pw])
                self.assertLogClean(text, self.pid, LOGIN_ERROR, [pw])

    def test_failed_login_inside_a_transaction_and_a_do_block(self):
        # The scope is the function's, wherever it is called from.
        uid, name, _ = self.new_user()
        pw = secret()
        start = LOG.size()
        self.execute("BEGIN")
        try:
            with self.assertRaises(psycopg2.Error) as ctx:
                self.q("SELECT user_mgmt.login(%s, %s)", name, pw)
            self.assertEqual(ctx.exception.pgcode, "28P01")
        finally:
            self.execute("ROLLBACK")
        marker = uuid.uuid4().hex
        self.execute(marker_sql(marker))
        text = LOG.until(start, marker)
        self.assertLogClean(text, self.pid, LOGIN_ERROR, [pw])
        pw = secret()
        e, text = self.logged_error(
            "28P01", "DO $$BEGIN PERFORM user_mgmt.login('%s', '%s'); END$$" % (name, pw))
        self.assertLogClean(text, self.pid, LOGIN_ERROR, [pw])

    def test_change_password_wrong_old_password(self):
        uid, name, _ = self.new_user()
        old, new = secret("old"), secret("new")
        e, text = self.logged_error("28P01", "SELECT user_mgmt.change_password(%s, %s, %s)", name, old, new)
        self.assertClientErrorClean(e, [old, new])
        self.assertLogClean(text, self.pid, LOGIN_ERROR, [old, new])


class AsyncpgHelpers:
    """asyncpg sends parameters separately (extended protocol, prepared
    statements); log_parameter_max_length_on_error = -1 would put them into
    the CONTEXT line of a logged error."""

    def run_async(self, coro):
        return asyncio.run(coro)

    async def aconnect(self):
        conn = await asyncpg.connect(database=DB)  # PGHOST/PGPORT/PGUSER
        await conn.execute("SET user_mgmt.bcrypt_cost = 4")
        await conn.execute("SET log_parameter_max_length_on_error = -1")
        self.assertEqual(await conn.fetchval("SHOW log_parameter_max_length_on_error"), "-1")
        self.assertEqual(await conn.fetchval("SHOW log_min_error_statement"), "error")
        return conn, await conn.fetchval("SELECT pg_backend_pid()")

    async def alogged_error(self, conn, code, query, *args):
        start = LOG.size()
        error = None
        try:
            await conn.fetchval(query, *args)
        except asyncpg.PostgresError as e:
            error = e
        marker = uuid.uuid4().hex
        await conn.execute(marker_sql(marker))
        text = LOG.until(start, marker)
        self.assertIsNotNone(error, "no error from %s %r" % (query, args))
        self.assertEqual(error.sqlstate, code, "expected SQLSTATE %s, got %s: %s"
                         % (code, error.sqlstate, error))
        return error, text

    PORTAL_PARAMS_RE = re.compile(r'^(unnamed portal|portal "[^"]*") with parameters: .*$', re.M)

    def assertAsyncErrorClean(self, e, secrets):
        """As assertClientErrorClean.  One line is left out: with
        log_parameter_max_length_on_error set, PostgreSQL adds the client's
        own bind parameters to the CONTEXT it sends back ("unnamed portal
        with parameters: ..."); the secret scope keeps CONTEXT for the
        client by design and hides it from the log only (log_hygiene.c)."""
        for field in ("message", "detail", "hint", "context", "internal_query"):
            value = getattr(e, field, None)
            if value is None:
                continue
            if field == "context":
                value = self.PORTAL_PARAMS_RE.sub("", value)
            self.assertIsNone(HASH_RE.search(value), "a bcrypt hash in the error's %s: %r" % (field, value))
            self.assertNotIn("Failing row contains", value)
            for s in secrets:
                self.assertNotIn(s, value, "the secret in the error's %s: %r" % (field, value))


class AsyncpgLoginTest(AsyncpgHelpers, Base):
    """Logins and password functions through asyncpg's bind parameters."""

    def test_control_an_ordinary_error_logs_the_bind_parameters(self):
        async def go():
            conn, pid = await self.aconnect()
            try:
                ctrl = secret("ctrl")
                e, text = await self.alogged_error(conn, "22012", "SELECT length($1::text) / 0", ctrl)
                self.assertIn(ctrl, text, "log_parameter_max_length_on_error = -1 logged no parameter:\n"
                              + text)
                self.assertTrue(any(x["pid"] == pid and x["level"] == "CONTEXT" and ctrl in x["msg"]
                                    for x in entries(text)), text)
            finally:
                await conn.close()
        self.run_async(go())

    def test_failed_logins_leave_no_bind_parameter_in_the_log(self):
        uid, name, _ = self.new_user()
        lid, lname, lpw = self.locked_user()
        cases = [("existing user, wrong password", name, secret()),
                 ("unknown user", "nobody_" + uuid.uuid4().hex[:8], secret()),
                 ("locked account, its right password", lname, lpw)]

        async def go():
            conn, pid = await self.aconnect()
            try:
                for what, user, pw in cases:
                    # twice: the first call prepares, the second reuses the
                    # cached named statement
                    for attempt in (1, 2):
                        with self.subTest(case=what, attempt=attempt):
                            e, text = await self.alogged_error(
                                conn, "28P01", "SELECT user_mgmt.login($1, $2)", user, pw)
                            self.assertEqual(e.message, LOGIN_ERROR)
                            self.assertAsyncErrorClean(e, [pw])
                            self.assertLogClean(text, pid, LOGIN_ERROR, [pw])
            finally:
                await conn.close()
        self.run_async(go())

    def test_password_function_errors_leave_no_bind_parameter_in_the_log(self):
        uid, name, pw0 = self.new_user()
        good = self.q("SELECT user_mgmt.hash_password('x', 4)")

        async def go():
            conn, pid = await self.aconnect()
            try:
                old, new = secret("old"), secret("new")
                short, long_ = "Pw" + uuid.uuid4().hex[:5], secret() * 3
                cases = [
                    ("change_password, wrong old", "28P01",
                     "SELECT user_mgmt.change_password($1, $2, $3)", (name, old, new), [old, new]),
                    ("change_password, short new", "22023",
                     "SELECT user_mgmt.change_password($1, $2, $3)", (name, pw0, short), [pw0, short]),
                    ("create_user, long password", "22023",
                     "SELECT user_mgmt.create_user($1, $2, 'Full Name')",
                     ("a" + uuid.uuid4().hex[:8], long_), [long_]),
                    ("sign_up, duplicate username", "23505",
                     "SELECT user_mgmt.sign_up($1, $2, 'Full Name')", (name.upper(), new), [new]),
                    ("set_password, short", "22023",
                     "SELECT user_mgmt.set_password($1, $2)", (uid, short), [short]),
                    ("hash_password, bad cost", "22023",
                     "SELECT user_mgmt.hash_password($1, $2)", (new, 3), [new]),
                    ("verify_password, malformed hash", "22023",
                     "SELECT user_mgmt.verify_password($1, $2)", (new, good[:-1]), [new, good[:-1]]),
                    ("check_password_policy", "22023",
                     "SELECT user_mgmt.check_password_policy($1)", (short,), [short]),
                ]
                for what, code, query, args, secrets in cases:
                    with self.subTest(case=what):
                        e, text = await self.alogged_error(conn, code, query, *args)
                        self.assertAsyncErrorClean(e, secrets)
                        self.assertLogClean(text, pid, e.message, secrets)
            finally:
                await conn.close()
        self.run_async(go())


# --- refresh tokens (1.4) -----------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class RefreshTokenBase(Base):
    """Refresh tokens are secrets like passwords: refresh() and logout() run
    in a secret scope, so that no error of theirs logs the statement (the
    token interpolated by psycopg2) or the bind parameters (asyncpg)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.q_on(cls.conn, "SELECT to_regprocedure('user_mgmt.refresh(text)') IS NULL"):
            raise unittest.SkipTest("the installed version has no refresh tokens")

    def session(self):
        """A fresh user's new session: (access token, refresh token)."""
        uid, name, pw = self.new_user(prefix="r")
        with self.conn.cursor() as cur:
            cur.execute("SELECT access_token, refresh_token FROM user_mgmt.sign_in(%s, %s)", (name, pw))
            return cur.fetchone()

    def refreshed(self, token):
        """refresh(token): the new refresh token (token is used up)."""
        return self.q("SELECT refresh_token FROM user_mgmt.refresh(%s)", token)

    def cases(self):
        """(what, SQLSTATE, message, function, token, the secrets it shows):
        every error of refresh() and logout() that a refresh token, or
        something shaped like one, can cause."""
        out = []
        _, used = self.session()
        nxt = self.refreshed(used)
        out.append(("refresh: a used refresh token (reuse)", "28000", "refresh token has already been used",
                    "refresh", used, [used, nxt]))
        out.append(("refresh: the next one, its session revoked by the reuse", "28000",
                    "token's session has been revoked", "refresh", nxt, [used, nxt]))
        _, out_token = self.session()
        self.q("SELECT user_mgmt.logout(%s)", out_token)
        out.append(("refresh: a logged-out session's refresh token", "28000",
                    "token's session has been revoked", "refresh", out_token, [out_token]))
        unknown = b64url(os.urandom(32))
        out.append(("refresh: an unknown refresh token", "28000", "invalid refresh token",
                    "refresh", unknown, [unknown]))
        out.append(("logout: an unknown refresh token", "28000", "invalid refresh token",
                    "logout", unknown, [unknown]))
        _, live = self.session()
        for what, garbage in (("one character more", live + "A"), ("one character less", live[:-1]),
                              ("a character outside base64url", live[:20] + "!" + live[21:]),
                              ("padded", live + "="), ("with spaces", " " + live + " ")):
            out.append(("refresh: a live refresh token, %s" % what, "28000", "invalid refresh token",
                        "refresh", garbage, [live, live[:40]]))
            out.append(("logout: a live refresh token, %s" % what, "28000", "invalid token",
                        "logout", garbage, [live, live[:40]]))
        dotted = live[:21] + "." + live[22:]
        out.append(("logout: a live refresh token with a dot (read as an access token)", "28000",
                    "malformed token", "logout", dotted, [live[:21], live[22:]]))
        return out


class PsycopgRefreshTokenTest(RefreshTokenBase):
    """psycopg2: the token is part of the SQL text."""

    def test_control_an_ordinary_error_logs_a_refresh_token(self):
        # A live refresh token in an ordinary failing statement IS logged:
        # what the other tests would see if the extension did not hide it.
        _, live = self.session()
        e, text = self.logged_error("22012", "SELECT length(%s) / 0", live)
        self.assertIn(live, text, "an ordinary error's STATEMENT line is not in the log:\n" + text)
        self.assertTrue(any(x["pid"] == self.pid and x["level"] == "STATEMENT" and live in x["msg"]
                            for x in entries(text)), text)

    def test_refresh_and_logout_errors_leave_no_refresh_token_in_the_log(self):
        for what, code, message, fn, token, secrets in self.cases():
            with self.subTest(case=what):
                query = ("SELECT * FROM user_mgmt.refresh(%s)" if fn == "refresh"
                         else "SELECT user_mgmt.logout(%s)")
                e, text = self.logged_error(code, query, token)
                self.assertEqual(e.diag.message_primary, message)
                self.assertClientErrorClean(e, secrets)
                self.assertLogClean(text, self.pid, message, secrets)

    def test_refresh_in_a_do_block_and_a_transaction(self):
        _, used = self.session()
        nxt = self.refreshed(used)
        e, text = self.logged_error("28000", "DO $$BEGIN PERFORM user_mgmt.refresh('%s'); END$$" % used)
        self.assertLogClean(text, self.pid, "refresh token has already been used", [used, nxt])
        unknown = b64url(os.urandom(32))
        start = LOG.size()
        self.execute("BEGIN")
        try:
            with self.assertRaises(psycopg2.Error) as ctx:
                self.q("SELECT * FROM user_mgmt.refresh(%s)", unknown)
            self.assertEqual(ctx.exception.pgcode, "28000")
        finally:
            self.execute("ROLLBACK")
        marker = uuid.uuid4().hex
        self.execute(marker_sql(marker))
        self.assertLogClean(LOG.until(start, marker), self.pid, "invalid refresh token", [unknown])

    def test_refresh_of_a_session_being_changed(self):
        # 55P03: the account's change (which ends its sessions) has not
        # committed; the refresh token stays out of the log all the same.
        uid, name, pw = self.new_user(prefix="b")
        with self.conn.cursor() as cur:
            cur.execute("SELECT refresh_token FROM user_mgmt.sign_in(%s, %s)", (name, pw))
            live = cur.fetchone()[0]
        other = tap.connect(DB)
        try:
            with other.cursor() as cur:
                cur.execute("SELECT user_mgmt.set_role(%s, 'CASHIER')", (uid,))  # in an open transaction
            e, text = self.logged_error("55P03", "SELECT * FROM user_mgmt.refresh(%s)", live)
            self.assertClientErrorClean(e, [live])
            self.assertLogClean(text, self.pid, e.diag.message_primary, [live])
        finally:
            other.rollback()
            other.close()

    def test_successful_calls_write_nothing(self):
        access, live = self.session()
        e, text = self.logged(lambda: self.q("SELECT refresh_token FROM user_mgmt.refresh(%s)", live))
        self.assertIsNone(e)
        nxt = self.q("SELECT refresh_token FROM user_mgmt.refresh(%s)",
                     self.q("SELECT refresh_token FROM user_mgmt.sign_in(%s, %s)", *self.new_user()[1:]))
        e, text2 = self.logged(lambda: self.q("SELECT user_mgmt.logout(%s)", nxt))
        self.assertIsNone(e)
        for t in (text, text2):
            self.assertNotIn(live, t)
            self.assertNotIn(nxt, t)
            self.assertEqual([x for x in entries(t) if x["pid"] == self.pid and x["level"] != "WARNING"],
                             [], t)


class AsyncpgRefreshTokenTest(AsyncpgHelpers, RefreshTokenBase):
    """asyncpg: the token is a bind parameter, and
    log_parameter_max_length_on_error = -1."""

    def test_control_an_ordinary_error_logs_a_bound_refresh_token(self):
        _, live = self.session()

        async def go():
            conn, pid = await self.aconnect()
            try:
                e, text = await self.alogged_error(conn, "22012", "SELECT length($1::text) / 0", live)
                self.assertIn(live, text, "log_parameter_max_length_on_error = -1 logged no parameter:\n" + text)
                self.assertTrue(any(x["pid"] == pid and x["level"] == "CONTEXT" and live in x["msg"]
                                    for x in entries(text)), text)
            finally:
                await conn.close()
        self.run_async(go())

    def test_refresh_and_logout_errors_leave_no_bind_parameter_in_the_log(self):
        cases = self.cases()

        async def go():
            conn, pid = await self.aconnect()
            try:
                for what, code, message, fn, token, secrets in cases:
                    query = ("SELECT access_token FROM user_mgmt.refresh($1)" if fn == "refresh"
                             else "SELECT user_mgmt.logout($1)")
                    # twice: prepared, then the cached statement again
                    for attempt in (1, 2):
                        with self.subTest(case=what, attempt=attempt):
                            e, text = await self.alogged_error(conn, code, query, token)
                            self.assertEqual(e.message, message)
                            self.assertAsyncErrorClean(e, secrets)
                            self.assertLogClean(text, pid, message, secrets)
            finally:
                await conn.close()
        self.run_async(go())


class PasswordFunctionErrorsTest(Base):
    """Errors of every function that takes a password, via psycopg2."""

    def check(self, code, query, *args, secrets):
        e, text = self.logged_error(code, query, *args)
        self.assertClientErrorClean(e, secrets)
        self.assertLogClean(text, self.pid, e.diag.message_primary, secrets)
        return e

    def cases(self):
        uid, name, pw0 = self.new_user()
        fresh = lambda: "n%s" % uuid.uuid4().hex[:10]  # noqa: E731
        good_hash = self.q("SELECT user_mgmt.hash_password('anything', 4)")
        s = {k: secret(k) for k in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")}
        short7 = "Pw" + uuid.uuid4().hex[:5]  # 7 characters: under the default 8
        long_ = secret() * 3  # 105 bytes: over bcrypt's 72
        return [
            # (what, SQLSTATE, query, args, secrets, session settings)
            ("change_password: new password too short (default policy)", "22023",
             "SELECT user_mgmt.change_password(%s, %s, %s)", (name, pw0, short7), [pw0, short7], {}),
            ("change_password: new password too short (min_password_length = 60)", "22023",
             "SELECT user_mgmt.change_password(%s, %s, %s)", (name, pw0, s["a"]), [pw0, s["a"]],
             {"user_mgmt.min_password_length": "60"}),
            ("change_password: new password over 72 bytes", "22023",
             "SELECT user_mgmt.change_password(%s, %s, %s)", (name, pw0, long_), [pw0, long_], {}),
            ("change_password: wrong old password", "28P01",
             "SELECT user_mgmt.change_password(%s, %s, %s)", (name, s["b"], s["c"]), [s["b"], s["c"]], {}),
            ("sign_up: password too short", "22023",
             "SELECT user_mgmt.sign_up(%s, %s, 'Full Name')", (fresh(), short7), [short7], {}),
            ("sign_up: password too short (min_password_length = 60)", "22023",
             "SELECT user_mgmt.sign_up(%s, %s, 'Full Name')", (fresh(), s["d"]), [s["d"]],
             {"user_mgmt.min_password_length": "60"}),
            ("sign_up: password over 72 bytes", "22023",
             "SELECT user_mgmt.sign_up(%s, %s, 'Full Name')", (fresh(), long_), [long_], {}),
            ("sign_up: duplicate username (other case)", "23505",
             "SELECT user_mgmt.sign_up(%s, %s, 'Full Name')", (name.upper(), s["e"]), [s["e"]], {}),
            ("sign_up: bad username", "22023",
             "SELECT user_mgmt.sign_up(%s, %s, 'Full Name')", (" lead", s["e"]), [s["e"]], {}),
            ("sign_up: blank full name", "22023",
             "SELECT user_mgmt.sign_up(%s, %s, '   ')", (fresh(), s["e"]), [s["e"]], {}),
            ("create_user: password too short", "22023",
             "SELECT user_mgmt.create_user(%s, %s, 'Full Name', 'ADMIN')", (fresh(), short7), [short7], {}),
            ("create_user: password too short (min_password_length = 60)", "22023",
             "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", (fresh(), s["f"]), [s["f"]],
             {"user_mgmt.min_password_length": "60"}),
            ("create_user: password over 72 bytes", "22023",
             "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", (fresh(), long_), [long_], {}),
            ("create_user: duplicate username", "23505",
             "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", (name, s["g"]), [s["g"]], {}),
            ("create_user: username over 20 characters", "22023",
             "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", ("x" * 21, s["g"]), [s["g"]], {}),
            ("create_user: full name over 40 characters", "22023",
             "SELECT user_mgmt.create_user(%s, %s, %s)", (fresh(), s["g"], "F" * 41), [s["g"]], {}),
            ("set_password: too short", "22023",
             "SELECT user_mgmt.set_password(%s, %s)", (uid, short7), [short7], {}),
            ("set_password: too short (min_password_length = 60)", "22023",
             "SELECT user_mgmt.set_password(%s, %s)", (uid, s["h"]), [s["h"]],
             {"user_mgmt.min_password_length": "60"}),
            ("set_password: over 72 bytes", "22023",
             "SELECT user_mgmt.set_password(%s, %s)", (uid, long_), [long_], {}),
            ("set_password: unknown user id", "P0002",
             "SELECT user_mgmt.set_password(%s, %s)", (2147483647, s["h"]), [s["h"]], {}),
            ("hash_password: cost 3", "22023",
             "SELECT user_mgmt.hash_password(%s, %s)", (s["i"], 3), [s["i"]], {}),
            ("hash_password: cost 32", "22023",
             "SELECT user_mgmt.hash_password(%s, %s)", (s["i"], 32), [s["i"]], {}),
            ("hash_password: over 72 bytes", "22023",
             "SELECT user_mgmt.hash_password(%s)", (long_,), [long_], {}),
            ("hash_password: cancelled by statement_timeout", "57014",
             "SELECT user_mgmt.hash_password(%s, 20)", (s["i"],), [s["i"]],
             {"statement_timeout": "100ms"}),
            ("verify_password: a hash one character short", "22023",
             "SELECT user_mgmt.verify_password(%s, %s)", (s["j"], good_hash[:-1]),
             [s["j"], good_hash[:-1]], {}),
            ("verify_password: the $2x$ variant", "22023",
             "SELECT user_mgmt.verify_password(%s, %s)", (s["j"], "$2x$" + good_hash[4:]),
             [s["j"], good_hash[4:]], {}),
            ("verify_password: a bad salt character", "22023",
             "SELECT user_mgmt.verify_password(%s, %s)", (s["j"], good_hash[:7] + "!" + good_hash[8:]),
             [s["j"], good_hash[8:]], {}),
            ("hash_cost: a hash one character short", "22023",
             "SELECT user_mgmt.hash_cost(%s)", (good_hash[:-1],), [good_hash[:-1]], {}),
            ("password_needs_rehash: a hash one character short", "22023",
             "SELECT user_mgmt.password_needs_rehash(%s)", (good_hash[:-1],), [good_hash[:-1]], {}),
            ("password_needs_rehash: a bad salt character", "22023",
             "SELECT user_mgmt.password_needs_rehash(%s, 10)", (good_hash[:7] + "!" + good_hash[8:],),
             [good_hash[8:]], {}),
            ("check_password_policy: too short", "22023",
             "SELECT user_mgmt.check_password_policy(%s)", (short7,), [short7], {}),
            ("check_password_policy: too short (min_password_length = 60)", "22023",
             "SELECT user_mgmt.check_password_policy(%s)", (s["k"],), [s["k"]],
             {"user_mgmt.min_password_length": "60"}),
            ("check_password_policy: over 72 bytes", "22023",
             "SELECT user_mgmt.check_password_policy(%s)", (long_,), [long_], {}),
        ]

    def test_errors_leave_no_password_in_the_log_and_no_hash_in_the_error(self):
        for what, code, query, args, secrets, settings in self.cases():
            with self.subTest(case=what):
                for k, v in settings.items():
                    self.execute("SELECT set_config(%s, %s, false)", k, v)
                try:
                    self.check(code, query, *args, secrets=secrets)
                finally:
                    for k in settings:
                        self.execute("SELECT set_config(%s, %s, false)", k,
                                     self.q("SELECT boot_val FROM pg_settings WHERE name = %s", k))

    def test_no_error_case_writes_nothing(self):
        # authenticate() answers NULL: a failed check leaves no line at all.
        uid, name, _ = self.new_user()
        pw = secret()
        e, text = self.logged(lambda: self.q("SELECT (user_mgmt.authenticate(%s, %s)).id", name, pw))
        self.assertIsNone(e)
        self.assertNotIn(pw, text)
        self.assertEqual([x for x in entries(text) if x["pid"] == self.pid and x["level"] != "WARNING"],
                         [], text)


class HashInErrorsTest(Base):
    """A column or constraint the user added makes the INSERT or UPDATE of
    the users row fail: the error would show the row, hash included."""

    def tearDown(self):
        self.execute("ALTER TABLE user_mgmt.users DROP COLUMN IF EXISTS email")
        self.execute("ALTER TABLE user_mgmt.users DROP CONSTRAINT IF EXISTS users_no_rejected_name")
        self.execute("ALTER TABLE user_mgmt.users DROP CONSTRAINT IF EXISTS users_no_cost_5")

    def check(self, code, query, *args, secrets):
        e, text = self.logged_error(code, query, *args)
        self.assertClientErrorClean(e, secrets)
        self.assertEqual(e.diag.message_detail, HIDDEN_ROW)
        self.assertNotIn("$2b$", text)
        self.assertNotIn("Failing row contains", text)
        self.assertLogClean(text, self.pid, e.diag.message_primary, secrets)
        return e

    def test_not_null_column_added_by_the_user(self):
        # The table has rows: add with a default, then drop the default.
        self.new_user()
        self.execute("ALTER TABLE user_mgmt.users ADD COLUMN email text NOT NULL DEFAULT ''")
        self.execute("ALTER TABLE user_mgmt.users ALTER COLUMN email DROP DEFAULT")
        for fn in ("create_user", "sign_up"):
            with self.subTest(function=fn):
                pw = secret()
                e = self.check("23502", "SELECT user_mgmt.%s(%%s, %%s, 'Full Name')" % fn,
                               "e" + uuid.uuid4().hex[:8], pw, secrets=[pw])
                self.assertIn('"email"', e.diag.message_primary)

    def test_check_constraint_added_by_the_user(self):
        self.execute("ALTER TABLE user_mgmt.users ADD CONSTRAINT users_no_rejected_name "
                     "CHECK (full_name <> 'Rejected Name')")
        for fn in ("create_user", "sign_up"):
            with self.subTest(function=fn):
                pw = secret()
                e = self.check("23514", "SELECT user_mgmt.%s(%%s, %%s, 'Rejected Name')" % fn,
                               "c" + uuid.uuid4().hex[:8], pw, secrets=[pw])
                self.assertIn("users_no_rejected_name", e.diag.message_primary)

    def test_check_constraint_on_the_new_hash(self):
        # set_password and change_password UPDATE the row with a new hash.
        uid, name, pw0 = self.new_user()
        self.execute("ALTER TABLE user_mgmt.users ADD CONSTRAINT users_no_cost_5 "
                     "CHECK (hashed_password NOT LIKE '$2b$05$%%')")
        self.execute("SET user_mgmt.bcrypt_cost = 5")
        new = secret("new")
        self.check("23514", "SELECT user_mgmt.set_password(%s, %s)", uid, new, secrets=[new])
        new = secret("new")
        self.check("23514", "SELECT user_mgmt.change_password(%s, %s, %s)", name, pw0, new,
                   secrets=[pw0, new])


class LimitationTest(Base):
    """What the secret scope cannot hide (README, "Secrets in errors and
    logs"): these assert that the README's warnings are true."""

    def test_limitation_log_statement_all_logs_the_interpolated_password(self):
        uid, name, _ = self.new_user()
        pw = secret("logged")
        self.execute("SET log_statement = 'all'")
        try:
            e, text = self.logged_error("28P01", "SELECT user_mgmt.login(%s, %s)", name, pw)
        finally:
            self.execute("RESET log_statement")
        self.assertIn(pw, text, "log_statement = 'all' did not log the statement; the README says it does")
        self.assertTrue(any(x["pid"] == self.pid and x["level"] == "LOG" and x["msg"].startswith("statement: ")
                            and pw in x["msg"] for x in entries(text)), text)
        # the error itself is still logged without its statement
        mine = [x for x in entries(text) if x["pid"] == self.pid]
        self.assertTrue(any(x["level"] == "ERROR" and x["msg"] == LOGIN_ERROR for x in mine), text)
        self.assertEqual([x for x in mine if x["level"] in ("STATEMENT", "CONTEXT")], [], text)

    def test_limitation_log_statement_all_logs_bind_parameters_unless_log_parameter_max_length_is_0(self):
        # With bind parameters log_statement = 'all' still logs them
        # ("DETAIL:  parameters: $1 = ..., $2 = ...") while
        # log_parameter_max_length is -1 (its default); 0 keeps them out.
        uid, name, _ = self.new_user()

        async def attempt(conn, pw):
            start = LOG.size()
            with self.assertRaises(asyncpg.PostgresError) as ctx:
                await conn.fetchval("SELECT user_mgmt.login($1, $2)", name, pw)
            self.assertEqual(ctx.exception.sqlstate, "28P01")
            marker = uuid.uuid4().hex
            await conn.execute(marker_sql(marker))
            return LOG.until(start, marker)

        async def go():
            conn = await asyncpg.connect(database=DB)
            try:
                await conn.execute("SET user_mgmt.bcrypt_cost = 4")
                await conn.execute("SET log_statement = 'all'")
                self.assertEqual(await conn.fetchval("SHOW log_parameter_max_length"), "-1")
                pw = secret("bound")
                text = await attempt(conn, pw)
                self.assertIn(pw, text, "log_statement = 'all' did not log the bind parameters:\n" + text)
                await conn.execute("SET log_parameter_max_length = 0")
                pw = secret("bound")
                text = await attempt(conn, pw)
                self.assertNotIn(pw, text)
                self.assertIn("SELECT user_mgmt.login($1, $2)", text)
            finally:
                await conn.close()
        asyncio.run(go())


if __name__ == "__main__":
    tap.main()
