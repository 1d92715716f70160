#!/usr/bin/python3
"""Every way the README gives to set a user_mgmt.* setting works from a
fresh session, and the value is in force there; nobody else can set them.

Ways: ALTER SYSTEM SET + pg_reload_conf(), ALTER DATABASE ... SET, ALTER
ROLE ... SET, ALTER ROLE ... IN DATABASE ... SET, SET in a superuser
session.  "In force" is checked by behaviour, not only by current_setting:
a user made by create_user in that session gets a hash of the set cost
(hash_cost on the stored hash), and the account is locked after exactly
max_failed_logins wrong authenticate() calls.  The persistent ways are
checked in a new connection opened after the change, as the application
role (a non-superuser), which is what the settings are for.

ALTER SYSTEM changes the cluster all suites share: every test that uses it
resets in a finally block, reloads and waits until a fresh session sees the
default again; tearDownModule resets once more.  pg_reload_conf() only
signals the postmaster, so a fresh session is polled for (with a deadline)
until it sees the new value; nothing sleeps in place of a condition.

Run: /usr/bin/python3 test/python/test_settings.py
(needs PGHOST/PGPORT/PGUSER of a superuser and shared_preload_libraries =
'user_mgmt').
"""

import os
import sys
import time
import unittest
import uuid

import psycopg2
from psycopg2 import sql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_settings"
OTHER_DB = "um_test_settings_other"  # owned by APP (see the non-superuser tests)
APP = "um_settings_app"  # LOGIN, not a superuser
OTHER = "um_settings_other"  # LOGIN, not a superuser
ROLE_ADMIN = "um_settings_roleadmin"  # LOGIN CREATEROLE, not a superuser
ROLES = (APP, OTHER, ROLE_ADMIN)
PW = "correct horse battery"
WRONG = "Correct horse battery"
POLL_DEADLINE = 20.0

DEFAULTS = {"bcrypt_cost": "12", "min_password_length": "8", "max_failed_logins": "5",
            "lockout_duration": "15min", "token_ttl": "30min", "token_leeway": "0",
            "auth_events_retention": "90d", "login_writer_idle_timeout": "5min",
            "session_idle_timeout": "15d", "session_lifetime": "30d",
            "max_sessions_per_user": "50"}
SUSET = ("bcrypt_cost", "min_password_length", "max_failed_logins", "lockout_duration",
         "token_ttl", "token_leeway", "auth_events_retention", "session_idle_timeout",
         "session_lifetime", "max_sessions_per_user")
# a legal value other than the default for each
OTHER_VALUES = {"bcrypt_cost": "4", "min_password_length": "1", "max_failed_logins": "0",
                "lockout_duration": "1s", "token_ttl": "1s", "token_leeway": "5min",
                "auth_events_retention": "0", "session_idle_timeout": "0",
                "session_lifetime": "1s", "max_sessions_per_user": "0"}
UNKNOWN = "user_mgmt.no_such_setting"


def admin_execute(dbname, *statements):
    conn = tap.connect(dbname)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for s in statements:
                cur.execute(s)
    finally:
        conn.close()


def drop_roles():
    admin_execute("postgres", *[sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(r))
                                for r in ROLES])


def reset_system():
    admin_execute("postgres",
                  "ALTER SYSTEM RESET user_mgmt.bcrypt_cost",
                  "ALTER SYSTEM RESET user_mgmt.max_failed_logins",
                  "ALTER SYSTEM RESET user_mgmt.login_writer_idle_timeout",
                  "SELECT pg_reload_conf()")


def setUpModule():
    tap.drop_test_db(DB)
    tap.drop_test_db(OTHER_DB)
    drop_roles()
    admin_execute("postgres",
                  sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP)),
                  sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(OTHER)),
                  sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(ROLE_ADMIN)))
    tap.create_test_db(DB)
    tap.create_test_db(OTHER_DB, extensions=())
    admin_execute("postgres", sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
        sql.Identifier(OTHER_DB), sql.Identifier(APP)))
    admin_execute(DB, *[sql.SQL("GRANT EXECUTE ON FUNCTION user_mgmt.create_user(text, text, text, "
                                "user_mgmt.role) TO {}").format(sql.Identifier(r)) for r in (APP, OTHER)])


def tearDownModule():
    try:
        reset_system()
    finally:
        tap.drop_test_db(DB)
        tap.drop_test_db(OTHER_DB)
        drop_roles()  # their pg_db_role_setting rows go with them


def fresh(user=None, dbname=DB):
    """A new connection (autocommit): the session reads every setting anew."""
    kwargs = {} if user is None else {"user": user}
    conn = tap.connect(dbname, **kwargs)
    conn.autocommit = True
    return conn


def q_on(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        row = cur.fetchone() if cur.description else None
        return None if row is None else row[0]


def setting_in_fresh_session(name, user=None, dbname=DB):
    conn = fresh(user, dbname)
    try:
        return q_on(conn, "SELECT current_setting(%s)", "user_mgmt." + name)
    finally:
        conn.close()


class Base(unittest.TestCase):
    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.admin = fresh()  # superuser, in DB

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()

    def setUp(self):
        q_on(self.admin, "RESET ALL")

    def q(self, query, *args):
        return q_on(self.admin, query, *args)

    def assertSqlState(self, code, conn, query, *args):
        with self.assertRaises(psycopg2.Error, msg="no error from %s" % query) as ctx:
            q_on(conn, query, *args)
        self.assertEqual(ctx.exception.pgcode, code, "expected SQLSTATE %s, got %s: %s"
                         % (code, ctx.exception.pgcode, ctx.exception))
        return ctx.exception

    def poll_fresh(self, name, value, user=None, dbname=DB):
        """Opens fresh sessions until one has user_mgmt.<name> = value (the
        postmaster reloads asynchronously after pg_reload_conf())."""
        deadline = time.monotonic() + POLL_DEADLINE
        while True:
            seen = setting_in_fresh_session(name, user, dbname)
            if seen == value:
                return
            if time.monotonic() > deadline:
                self.fail("a fresh session still has user_mgmt.%s = %r, not %r, %ss after the reload"
                          % (name, seen, value, POLL_DEADLINE))
            time.sleep(0.05)  # poll interval

    def assertInForce(self, conn, cost, max_failed):
        """In session conn: current_setting says cost / max_failed, a new
        user gets a hash of that cost, and its account is locked after
        exactly max_failed wrong guesses."""
        self.assertEqual(q_on(conn, "SELECT current_setting('user_mgmt.bcrypt_cost')"), str(cost))
        self.assertEqual(q_on(conn, "SELECT current_setting('user_mgmt.max_failed_logins')"),
                         str(max_failed))
        Base.counter += 1
        name = "s%d_%s" % (Base.counter, uuid.uuid4().hex[:6])
        uid = q_on(conn, "SELECT user_mgmt.create_user(%s, %s, 'Full Name')", name, PW)
        self.assertEqual(self.q("SELECT user_mgmt.hash_cost(hashed_password) FROM user_mgmt.users "
                                "WHERE id = %s", uid), cost,
                         "create_user did not hash at user_mgmt.bcrypt_cost = %d" % cost)

        def locked():
            return self.q("SELECT locked_until IS NOT NULL FROM user_mgmt.accounts WHERE id = %s", uid)
        for i in range(1, max_failed):
            self.assertIsNone(q_on(conn, "SELECT (user_mgmt.authenticate(%s, %s)).id", name, WRONG))
            self.assertIs(locked(), False, "locked after %d failures, max_failed_logins = %d"
                          % (i, max_failed))
        self.assertIsNone(q_on(conn, "SELECT (user_mgmt.authenticate(%s, %s)).id", name, WRONG))
        self.assertIs(locked(), True, "not locked after %d failures, max_failed_logins = %d"
                      % (max_failed, max_failed))
        self.assertIsNone(q_on(conn, "SELECT (user_mgmt.authenticate(%s, %s)).id", name, PW),
                          "the right password got through a lockout")


class WaysToSetTest(Base):
    def test_alter_system_and_reload(self):
        try:
            self.q("ALTER SYSTEM SET user_mgmt.bcrypt_cost = 5")
            self.q("ALTER SYSTEM SET user_mgmt.max_failed_logins = 2")
            self.assertIs(self.q("SELECT pg_reload_conf()"), True)
            self.poll_fresh("bcrypt_cost", "5", APP)
            self.poll_fresh("max_failed_logins", "2", APP)
            for user in (APP, None):
                with self.subTest(user=user or "superuser"):
                    conn = fresh(user)
                    try:
                        self.assertInForce(conn, 5, 2)
                    finally:
                        conn.close()
            # in every database
            self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP, OTHER_DB), "5")
            self.assertEqual(setting_in_fresh_session("max_failed_logins", APP, OTHER_DB), "2")
        finally:
            self.q("ALTER SYSTEM RESET user_mgmt.bcrypt_cost")
            self.q("ALTER SYSTEM RESET user_mgmt.max_failed_logins")
            self.q("SELECT pg_reload_conf()")
            self.poll_fresh("bcrypt_cost", DEFAULTS["bcrypt_cost"], APP)
            self.poll_fresh("max_failed_logins", DEFAULTS["max_failed_logins"], APP)

    def test_alter_database_set(self):
        db = sql.Identifier(DB)
        try:
            self.q(sql.SQL("ALTER DATABASE {} SET user_mgmt.bcrypt_cost = 6").format(db))
            self.q(sql.SQL("ALTER DATABASE {} SET user_mgmt.max_failed_logins = 3").format(db))
            for user in (APP, None):
                with self.subTest(user=user or "superuser"):
                    conn = fresh(user)
                    try:
                        self.assertInForce(conn, 6, 3)
                    finally:
                        conn.close()
            # that database only
            self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP, OTHER_DB), DEFAULTS["bcrypt_cost"])
        finally:
            self.q(sql.SQL("ALTER DATABASE {} RESET ALL").format(db))
        self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP), DEFAULTS["bcrypt_cost"])

    def test_alter_role_set(self):
        role = sql.Identifier(APP)
        try:
            self.q(sql.SQL("ALTER ROLE {} SET user_mgmt.bcrypt_cost = 7").format(role))
            self.q(sql.SQL("ALTER ROLE {} SET user_mgmt.max_failed_logins = 2").format(role))
            conn = fresh(APP)
            try:
                self.assertInForce(conn, 7, 2)
            finally:
                conn.close()
            # in every database, for that role only
            self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP, OTHER_DB), "7")
            self.assertEqual(setting_in_fresh_session("max_failed_logins", OTHER), DEFAULTS["max_failed_logins"])
        finally:
            self.q(sql.SQL("ALTER ROLE {} RESET ALL").format(role))
        self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP), DEFAULTS["bcrypt_cost"])

    def test_alter_role_in_database_set(self):
        role, db = sql.Identifier(APP), sql.Identifier(DB)
        try:
            self.q(sql.SQL("ALTER ROLE {} IN DATABASE {} SET user_mgmt.bcrypt_cost = 5").format(role, db))
            self.q(sql.SQL("ALTER ROLE {} IN DATABASE {} SET user_mgmt.max_failed_logins = 4")
                   .format(role, db))
            conn = fresh(APP)
            try:
                self.assertInForce(conn, 5, 4)
            finally:
                conn.close()
            # that role in that database only
            self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP, OTHER_DB), DEFAULTS["bcrypt_cost"])
            self.assertEqual(setting_in_fresh_session("max_failed_logins", OTHER), DEFAULTS["max_failed_logins"])
        finally:
            self.q(sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(role, db))
        self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP), DEFAULTS["bcrypt_cost"])

    def test_set_in_a_superuser_session(self):
        conn = fresh()
        try:
            q_on(conn, "SET user_mgmt.bcrypt_cost = 6")
            q_on(conn, "SET user_mgmt.max_failed_logins = 2")
            self.assertInForce(conn, 6, 2)
            q_on(conn, "BEGIN")
            q_on(conn, "SET LOCAL user_mgmt.bcrypt_cost = 4")
            q_on(conn, "SET LOCAL user_mgmt.max_failed_logins = 3")
            # (the transaction's rows are not visible to self.admin: checked here)
            self.assertEqual(q_on(conn, "SELECT user_mgmt.hash_cost(user_mgmt.hash_password(%s))", PW), 4)
            self.assertEqual(q_on(conn, "SHOW user_mgmt.max_failed_logins"), "3")
            q_on(conn, "COMMIT")
            self.assertEqual(q_on(conn, "SELECT user_mgmt.hash_cost(user_mgmt.hash_password(%s))", PW), 6)
            self.assertEqual(q_on(conn, "SHOW user_mgmt.bcrypt_cost"), "6")
        finally:
            conn.close()
        # a session's SET is its own
        self.assertEqual(setting_in_fresh_session("bcrypt_cost"), DEFAULTS["bcrypt_cost"])


class NotForOthersTest(Base):
    """A non-superuser can neither loosen the policy for its session nor
    store a value for later ones."""

    def no_stored_settings(self):
        rows = self.q("SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) AS c "
                      "WHERE c LIKE 'user_mgmt.%%'")
        self.assertEqual(rows, 0, "a user_mgmt setting was stored in pg_db_role_setting")

    def test_non_superuser_cannot_set(self):
        conn = fresh(APP)
        try:
            for name in SUSET:
                with self.subTest(setting=name):
                    full = "user_mgmt." + name
                    value = OTHER_VALUES[name]
                    e = self.assertSqlState("42501", conn, "SELECT set_config(%s, %s, false)", full, value)
                    self.assertIn(full, e.diag.message_primary)
                    self.assertSqlState("42501", conn, sql.SQL("SET {} = {}").format(
                        sql.Identifier("user_mgmt", name), sql.Literal(value)))
                    q_on(conn, "BEGIN")
                    try:
                        self.assertSqlState("42501", conn, sql.SQL("SET LOCAL {} = {}").format(
                            sql.Identifier("user_mgmt", name), sql.Literal(value)))
                    finally:
                        q_on(conn, "ROLLBACK")
                    self.assertEqual(q_on(conn, "SELECT current_setting(%s)", full), DEFAULTS[name])
        finally:
            conn.close()

    def test_non_superuser_cannot_alter_role_or_database(self):
        cases = [(APP, "ALTER ROLE {role} SET {name} = {value}"),  # itself
                 (APP, "ALTER ROLE {role} IN DATABASE {db} SET {name} = {value}"),
                 (APP, "ALTER DATABASE {own_db} SET {name} = {value}"),  # a database it owns
                 (APP, "ALTER SYSTEM SET {name} = {value}"),
                 (ROLE_ADMIN, "ALTER ROLE {role} SET {name} = {value}"),  # CREATEROLE, another role
                 (ROLE_ADMIN, "ALTER ROLE {role} IN DATABASE {db} SET {name} = {value}")]
        self.assertEqual(self.q("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                                OTHER_DB), APP)
        for user, template in cases:
            conn = fresh(user)
            try:
                for name in ("bcrypt_cost", "max_failed_logins", "min_password_length"):
                    stmt = sql.SQL(template).format(role=sql.Identifier(APP), db=sql.Identifier(DB),
                                                    own_db=sql.Identifier(OTHER_DB),
                                                    name=sql.Identifier("user_mgmt", name),
                                                    value=sql.Literal(OTHER_VALUES[name]))
                    with self.subTest(user=user, statement=stmt.as_string(conn)):
                        e = self.assertSqlState("42501", conn, stmt)
                        self.assertIn("user_mgmt." + name, e.diag.message_primary)
            finally:
                conn.close()
        self.no_stored_settings()
        self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP), DEFAULTS["bcrypt_cost"])
        self.assertEqual(setting_in_fresh_session("bcrypt_cost", APP, OTHER_DB), DEFAULTS["bcrypt_cost"])


class NamesTest(Base):
    def test_every_setting_is_listed_here(self):
        """A new setting without a place in this suite fails here."""
        conn = fresh(APP)
        try:
            names = set(q_on(conn, "SELECT array_agg(name) FROM pg_settings WHERE name LIKE 'user_mgmt.%%'"))
        finally:
            conn.close()
        self.assertEqual(names, {"user_mgmt." + n for n in DEFAULTS})

    def test_defaults_in_a_fresh_session(self):
        for name, value in DEFAULTS.items():
            with self.subTest(setting=name):
                self.assertEqual(setting_in_fresh_session(name, APP), value)

    def test_unknown_name_fails(self):
        bad = sql.Identifier("user_mgmt", "no_such_setting")
        for user in (None, APP):
            conn = fresh(user)
            try:
                with self.subTest(how="SET", user=user or "superuser"):
                    e = self.assertSqlState("42602", conn, sql.SQL("SET {} = 1").format(bad))
                    self.assertEqual(e.diag.message_primary,
                                     'invalid configuration parameter name "%s"' % UNKNOWN)
                    self.assertEqual(e.diag.message_detail, '"user_mgmt" is a reserved prefix.')
                    self.assertSqlState("42602", conn, "SELECT set_config(%s, '1', false)", UNKNOWN)
                    self.assertSqlState("42704", conn, sql.SQL("SHOW {}").format(bad))
                    self.assertIsNone(q_on(conn, "SELECT current_setting(%s, true)", UNKNOWN))
            finally:
                conn.close()
        with self.subTest(how="ALTER SYSTEM"):
            e = self.assertSqlState("42704", self.admin, sql.SQL("ALTER SYSTEM SET {} = 1").format(bad))
            self.assertEqual(e.diag.message_primary, 'unrecognized configuration parameter "%s"' % UNKNOWN)
            self.assertEqual(self.q("SELECT count(*) FROM pg_file_settings WHERE name = %s", UNKNOWN), 0)
        for how, template in (("ALTER DATABASE", "ALTER DATABASE {db} SET {bad} = 1"),
                              ("ALTER ROLE", "ALTER ROLE {role} SET {bad} = 1"),
                              ("ALTER ROLE IN DATABASE", "ALTER ROLE {role} IN DATABASE {db} SET {bad} = 1")):
            with self.subTest(how=how):
                e = self.assertSqlState("42602", self.admin, sql.SQL(template).format(
                    db=sql.Identifier(DB), role=sql.Identifier(APP), bad=bad))
                self.assertIn(UNKNOWN, e.diag.message_primary)
        self.assertEqual(self.q("SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) AS c "
                                "WHERE c LIKE 'user_mgmt.no\\_such%%'"), 0)


class WriterIdleTimeoutTest(Base):
    def writer_pid(self):
        return self.q("SELECT pid FROM pg_stat_activity WHERE backend_type = 'user_mgmt login writer' "
                      "AND datname = %s", DB)

    def test_set_is_refused(self):
        for user in (None, APP):
            conn = fresh(user)
            try:
                with self.subTest(user=user or "superuser"):
                    e = self.assertSqlState("55P02", conn, "SET user_mgmt.login_writer_idle_timeout = '1min'")
                    self.assertEqual(e.diag.message_primary, 'parameter "user_mgmt.login_writer_idle_timeout" '
                                     'cannot be changed now')
                    self.assertSqlState("55P02", conn, "SELECT set_config('user_mgmt.login_writer_idle_timeout', "
                                        "'1min', false)")
                    self.assertEqual(q_on(conn, "SHOW user_mgmt.login_writer_idle_timeout"), "5min")
            finally:
                conn.close()
        for stmt in ("ALTER DATABASE {db} SET user_mgmt.login_writer_idle_timeout = '1min'",
                     "ALTER ROLE {role} SET user_mgmt.login_writer_idle_timeout = '1min'"):
            with self.subTest(statement=stmt):
                self.assertSqlState("55P02", self.admin, sql.SQL(stmt).format(
                    db=sql.Identifier(DB), role=sql.Identifier(APP)))

    def test_alter_system_and_reload(self):
        try:
            self.q("ALTER SYSTEM SET user_mgmt.login_writer_idle_timeout = '1s'")
            self.assertIs(self.q("SELECT pg_reload_conf()"), True)
            self.poll_fresh("login_writer_idle_timeout", "1s", APP)
            # in force: this database's writer, started by a login, exits
            # once it has been idle for a second
            conn = fresh(APP)
            try:
                self.assertIsNone(q_on(conn, "SELECT (user_mgmt.authenticate('nobody', %s)).id", WRONG))
            finally:
                conn.close()
            self.assertIsNotNone(self.writer_pid(), "no login writer answered the login")
            deadline = time.monotonic() + POLL_DEADLINE
            while self.writer_pid() is not None:
                if time.monotonic() > deadline:
                    self.fail("the login writer (pid %s) is still running %ss after its work, with "
                              "login_writer_idle_timeout = 1s" % (self.writer_pid(), POLL_DEADLINE))
                time.sleep(0.05)  # poll interval
        finally:
            self.q("ALTER SYSTEM RESET user_mgmt.login_writer_idle_timeout")
            self.q("SELECT pg_reload_conf()")
            self.poll_fresh("login_writer_idle_timeout", DEFAULTS["login_writer_idle_timeout"], APP)
        # a new writer starts on demand afterwards
        conn = fresh(APP)
        try:
            self.assertIsNone(q_on(conn, "SELECT (user_mgmt.authenticate('nobody', %s)).id", WRONG))
        finally:
            conn.close()
        self.assertIsNotNone(self.writer_pid())


if __name__ == "__main__":
    tap.main()
