#!/usr/bin/python3
"""Least privilege and search_path hijacking, with real login roles (TAP).

Run through test/suites/least_privilege.sh, or directly:
  /usr/bin/python3 test/python/least_privilege.py
(needs PGHOST/PGPORT/PGUSER of a superuser on a cluster where user_mgmt
>= 1.2 is installed).  Creates the cluster-wide role um_app and database
um_test_lp, and drops both at the end.

um_app is an ordinary LOGIN role granted EXECUTE on sign_up only, as the
README advises for an application that signs users up; every check
connects as um_app (not SET ROLE).  It can use the public API (login,
authenticate, verify_token, sign_up ...), but neither read password hashes,
signing keys, the login state or the audit trail, nor call the
administrative functions, nor make anybody but a USER (every path to an
ADMIN is tried).  It
then plants functions, operators and tables that shadow what the SECURITY
DEFINER functions use, in its own schema, in public and in pg_temp, puts
them first in its search_path, and calls the API: results must be right and
no planted function may run (each one raises a NOTICE, advances a sequence
-- which no rollback undoes -- and logs a row).
"""

import os
import sys
import unittest
import uuid

import bcrypt
import jwt
import psycopg2
from psycopg2 import sql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_lp"
APP = "um_app"
APP_SCHEMA = "um_app_schema"
PW = "correct horse battery"
PW2 = "another good password"
ATTACKER_PW = "attacker password"
ATTACKER_HASH = bcrypt.hashpw(ATTACKER_PW.encode(), bcrypt.gensalt(4)).decode()
EVIL_KID = "evil-kid"
EVIL_SECRET = b"E" * 32

# Shadows of functions the API (or its helpers) could call unqualified:
# (name, argument types, result type, what the shadow returns).
FUNCTIONS = [
    ("lower", "text", "text", "'hijacked'"),
    ("upper", "text", "text", "'HIJACKED'"),
    ("btrim", "text", "text", "'hijacked'"),
    ("length", "text", "integer", "5"),
    ("char_length", "text", "integer", "5"),
    ("octet_length", "text", "integer", "5"),
    ("format", "text", "text", "'hijacked'"),
    ("format", "text, text", "text", "'hijacked'"),
    ("format", "text, integer", "text", "'hijacked'"),
    ("format", "text, text, text", "text", "'hijacked'"),
    ("now", "", "timestamptz", "'2000-01-01'"),
    ("clock_timestamp", "", "timestamptz", "'2000-01-01'"),
    ("statement_timestamp", "", "timestamptz", "'2000-01-01'"),
    ("transaction_timestamp", "", "timestamptz", "'2000-01-01'"),
    ("random", "", "double precision", "0"),
    ("gen_random_uuid", "", "uuid", "'00000000-0000-0000-0000-000000000000'"),
    ("current_setting", "text", "text", "'0'"),
    ("current_setting", "text, boolean", "text", "'0'"),
    ("set_config", "text, text, boolean", "text", "'0'"),
    ("pg_is_in_recovery", "", "boolean", "true"),
    ("nextval", "regclass", "bigint", "1"),
    ("encode", "bytea, text", "text", "'hijacked'"),
    ("decode", "text, text", "bytea", "'\\x00'::bytea"),
    ("convert_to", "text, name", "bytea", "'\\x00'::bytea"),
    ("convert_from", "bytea, name", "text", "'{}'"),
    ("to_jsonb", "text", "jsonb", "'{}'"),
    ("hmac", "bytea, bytea, text", "bytea", "'\\x00'::bytea"),
    ("gen_random_bytes", "integer", "bytea", "'\\x00'::bytea"),
    # user_mgmt's own functions, should one be called unqualified
    ("verify_password", "text, text", "boolean", "true"),
    ("hash_password", "text", "text", "'%s'" % ATTACKER_HASH),
    ("hash_password", "text, integer", "text", "'%s'" % ATTACKER_HASH),
    ("password_needs_rehash", "text", "boolean", "false"),
    ("password_needs_rehash", "text, integer", "boolean", "false"),
    ("hash_cost", "text", "integer", "4"),
    ("is_password_hash", "text", "boolean", "true"),
    ("issue_token", "integer", "text", "'hijacked.hijacked.hijacked'"),
    ("issue_token", "integer, interval", "text", "'hijacked.hijacked.hijacked'"),
    ("verify_token", "text", "jsonb", "'{\"sub\": \"1\", \"role\": \"ADMIN\"}'"),
    ("random_bytes", "integer", "bytea", "'\\x00'::bytea"),
    ("check_username", "text", "void", "NULL"),
    ("check_password_policy", "text", "void", "NULL"),
    ("dummy_password_hash", "", "text", "'%s'" % ATTACKER_HASH),
    ("require_user", "integer", "void", "NULL"),
    ("check_full_name", "text", "void", "NULL"),
    ("record_auth_event", "text, integer, text, text, inet, text", "void", "NULL"),
    ("is_login_writer", "", "boolean", "true"),
    ("inet_client_addr", "", "inet", "NULL"),
    ("left", "text, integer", "text", "'hijacked'"),
]

# Shadowing operators: (operator, left type, right type, result type, value).
OPERATORS = [
    ("=", "text", "text", "boolean", "true"),
    ("=", "character varying", "text", "boolean", "true"),
    ("=", "text", "character varying", "boolean", "true"),
    ("=", "character varying", "character varying", "boolean", "true"),
    ("=", "integer", "integer", "boolean", "true"),
    ("<>", "text", "text", "boolean", "false"),
    ("<", "timestamptz", "timestamptz", "boolean", "true"),
    (">", "timestamptz", "timestamptz", "boolean", "true"),
    ("<=", "timestamptz", "timestamptz", "boolean", "true"),
    (">=", "integer", "integer", "boolean", "true"),
    (">", "integer", "integer", "boolean", "true"),
    ("<", "integer", "integer", "boolean", "true"),
    ("+", "integer", "integer", "integer", "0"),
    ("||", "text", "text", "text", "'hijacked'"),
    ("~", "text", "text", "boolean", "false"),
    ("~", "character varying", "text", "boolean", "false"),
]

SCHEMAS = [APP_SCHEMA, "public", "pg_temp"]


def superuser():
    # pg_catalog only: the test plants shadowing operators in public, which
    # would otherwise capture this connection's own queries.
    conn = tap.connect(DB, options="-c search_path=pg_catalog,pg_temp")
    conn.autocommit = True
    return conn


def drop_role():
    admin = tap.connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP)))
    finally:
        admin.close()


def setUpModule():
    tap.drop_test_db(DB)
    drop_role()  # a leftover of an interrupted run
    admin = tap.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE ROLE um_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
    admin.close()
    tap.create_test_db(DB)
    admin = tap.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        # quicker hashes for um_app's sessions (a superuser's setting)
        cur.execute("ALTER ROLE um_app IN DATABASE um_test_lp SET user_mgmt.bcrypt_cost = 4")
    admin.close()
    conn = superuser()
    with conn.cursor() as cur:
        cur.execute("GRANT EXECUTE ON FUNCTION user_mgmt.sign_up(text, text, text) TO um_app")
        cur.execute("GRANT CREATE ON SCHEMA public TO um_app")
        cur.execute("CREATE SCHEMA um_app_schema AUTHORIZATION um_app")
        cur.execute("SET user_mgmt.bcrypt_cost = 4")
        cur.execute("SELECT user_mgmt.create_user('lp_alice', %s, 'Alice Least')", (PW,))
    conn.close()


def tearDownModule():
    try:
        tap.drop_test_db(DB)
    finally:
        drop_role()


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.su = superuser()
        cls.alice = cls.q_on(cls.su, "SELECT id FROM user_mgmt.users WHERE username = 'lp_alice'")

    @classmethod
    def tearDownClass(cls):
        cls.su.close()

    def setUp(self):
        self.app = tap.connect(DB, user=APP)
        self.app.autocommit = True
        self.assertEqual(self.q_on(self.app, "SELECT current_user"), APP)
        self.assertEqual(self.q_on(self.app, "SELECT session_user"), APP)
        self.assertIs(self.q_on(self.app, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"), False)

    def tearDown(self):
        self.app.close()

    @staticmethod
    def q_on(conn, query, *args):
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0] if cur.description else None

    def app_q(self, query, *args):
        return self.q_on(self.app, query, *args)

    def su_q(self, query, *args):
        return self.q_on(self.su, query, *args)

    def assertAppSqlState(self, code, query, *args):
        with self.assertRaises(psycopg2.Error, msg="um_app could run %s %r" % (query, args)) as ctx:
            self.app_q(query, *args)
        self.assertEqual(ctx.exception.pgcode, code, "expected SQLSTATE %s, got %s: %s"
                         % (code, ctx.exception.pgcode, ctx.exception))
        return ctx.exception

    def auth(self, username, password):
        with self.app.cursor() as cur:
            cur.execute("SELECT r IS NULL, to_jsonb(r) FROM "
                        "(SELECT user_mgmt.authenticate(%s, %s) AS r OFFSET 0) AS s",
                        (username, password))
            is_null, row = cur.fetchone()
        return None if is_null else row

    def current_kid(self):
        tok = self.su_q("SELECT user_mgmt.issue_token(%s)", self.alice)
        return jwt.get_unverified_header(tok)["kid"]


class PrivilegeTest(Base):
    def test_public_api_works(self):
        tok = self.app_q("SELECT user_mgmt.login('lp_alice', %s)", PW)
        claims = self.app_q("SELECT user_mgmt.verify_token(%s)", tok)
        self.assertEqual((claims["sub"], claims["role"]), (str(self.alice), "USER"))
        self.assertEqual(self.auth("lp_alice", PW)["id"], self.alice)
        self.assertIsNone(self.auth("lp_alice", "wrong password"))
        e = self.assertAppSqlState("28P01", "SELECT user_mgmt.login('lp_alice', 'wrong password')")
        self.assertEqual(e.diag.message_primary, "invalid username or password")

        uid = self.app_q("SELECT user_mgmt.sign_up('lp_by_app', %s, 'Made By App')", PW)
        self.assertIsInstance(uid, int)
        self.assertEqual(self.auth("lp_by_app", PW)["id"], uid)

        self.app_q("SELECT user_mgmt.change_password('lp_by_app', %s, %s)", PW, PW2)
        self.assertEqual(self.auth("lp_by_app", PW2)["id"], uid)

        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
            self.assertEqual(cur.fetchone()[0]["sub"], str(self.alice))
            cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()::text")
            self.assertEqual(cur.fetchone(), (self.alice, "USER"))
            cur.execute("ROLLBACK")

    def test_forbidden(self):
        kid = self.current_kid()
        keys_before = self.su_q("SELECT jsonb_agg(to_jsonb(k) ORDER BY kid) FROM user_mgmt.signing_keys AS k")
        user_before = self.su_q("SELECT to_jsonb(u) FROM user_mgmt.users AS u WHERE id = %s", self.alice)
        a = self.alice
        forbidden = [
            ("SELECT hashed_password FROM user_mgmt.users", ()),
            ("SELECT * FROM user_mgmt.users", ()),
            ("SELECT * FROM user_mgmt.signing_keys", ()),
            ("SELECT * FROM user_mgmt.auth_events", ()),
            ("SELECT * FROM user_mgmt.login_state", ()),
            ("UPDATE user_mgmt.login_state SET locked_until = NULL, erased = confirmed", ()),
            ("DELETE FROM user_mgmt.auth_events", ()),
            ("SELECT user_mgmt.login_guard_unlock(%s, 'x', NULL, NULL)", (a,)),
            ("SELECT user_mgmt.login_guard_complete(%s, 1000, false, 'ok', 5, '1s', 'x', NULL, NULL, false)", (a,)),
            ("SELECT user_mgmt.login_guard_reserve(%s, 5, '1s', 'x', NULL, NULL)", (a,)),
            ("SELECT user_mgmt.login_guard_recover()", ()),
            ("SELECT user_mgmt.login_guard_mirror(%s)", (a,)),
            ("SELECT user_mgmt.record_auth_event('login_ok', %s, 'x', NULL, NULL, NULL)", (a,)),
            ("SELECT user_mgmt.prune_auth_events('0')", ()),
            ("SELECT user_mgmt.login_statistics()", ()),
            ("SELECT user_mgmt.stop_login_writer()", ()),
            ("SELECT user_mgmt.await_login_writer()", ()),
            ("SELECT secret FROM user_mgmt.signing_keys", ()),
            ("SELECT user_mgmt.export_signing_key()", ()),
            ("SELECT user_mgmt.export_signing_key(%s)", (kid,)),
            ("SELECT user_mgmt.set_role(%s, 'ADMIN')", (a,)),
            ("SELECT user_mgmt.set_password(%s, 'a new password')", (a,)),
            ("SELECT user_mgmt.set_active(%s, false)", (a,)),
            ("SELECT user_mgmt.unlock_user(%s)", (a,)),
            ("SELECT user_mgmt.delete_user(%s)", (a,)),
            ("SELECT user_mgmt.issue_token(%s)", (a,)),
            ("SELECT user_mgmt.issue_token(%s, '1 year')", (a,)),
            ("SELECT user_mgmt.rotate_signing_key()", ()),
            ("SELECT user_mgmt.retire_signing_key(%s)", (kid,)),
            ("UPDATE user_mgmt.users SET role = 'ADMIN'", ()),
            ("UPDATE user_mgmt.users SET locked_until = NULL, failed_login_count = 0", ()),
            ("DELETE FROM user_mgmt.users", ()),
            ("INSERT INTO user_mgmt.signing_keys (kid, secret) VALUES ('mine', '\\x00')", ()),
            ("CREATE FUNCTION user_mgmt.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'", ()),
            ("CREATE TABLE user_mgmt.planted (x int)", ()),
        ]
        for query, args in forbidden:
            with self.subTest(query=query):
                self.assertAppSqlState("42501", query, *args)
        self.assertEqual(self.su_q("SELECT jsonb_agg(to_jsonb(k) ORDER BY kid) FROM user_mgmt.signing_keys AS k"),
                         keys_before)
        self.assertEqual(self.su_q("SELECT to_jsonb(u) FROM user_mgmt.users AS u WHERE id = %s", self.alice),
                         user_before)

    def test_revoked_from_public(self):
        # the ACLs themselves, for a role that has no grants at all
        revoked = ["user_mgmt.create_user(text, text, text, user_mgmt.role)",
                   "user_mgmt.sign_up(text, text, text)",
                   "user_mgmt.prune_auth_events(interval)",
                   "user_mgmt.record_auth_event(text, integer, text, text, inet, text)",
                   "user_mgmt.login_statistics()",
                   "user_mgmt.stop_login_writer()",
                   "user_mgmt.await_login_writer()",
                   "user_mgmt.is_login_writer()",
                   "user_mgmt.login_guard_reserve(integer, integer, interval, text, inet, text)",
                   "user_mgmt.login_guard_complete(integer, bigint, boolean, text, integer, interval, text, inet, text, boolean)",
                   "user_mgmt.login_guard_unlock(integer, text, inet, text)",
                   "user_mgmt.login_guard_recover()",
                   "user_mgmt.login_guard_mirror(integer)",
                   "user_mgmt.login_guard_rehash(integer, text, text)",
                   "user_mgmt.set_password(integer, text)",
                   "user_mgmt.set_role(integer, user_mgmt.role)",
                   "user_mgmt.set_active(integer, boolean)",
                   "user_mgmt.unlock_user(integer)",
                   "user_mgmt.delete_user(integer)",
                   "user_mgmt.issue_token(integer)",
                   "user_mgmt.issue_token(integer, interval)",
                   "user_mgmt.rotate_signing_key()",
                   "user_mgmt.retire_signing_key(text)",
                   "user_mgmt.export_signing_key(text)"]
        public = ["user_mgmt.login(text, text)",
                  "user_mgmt.authenticate(text, text)",
                  "user_mgmt.verify_token(text)",
                  "user_mgmt.change_password(text, text, text)",
                  "user_mgmt.set_session_token(text)",
                  "user_mgmt.current_user_id()",
                  "user_mgmt.current_user_role()"]
        for f in revoked + public:
            with self.subTest(function=f):
                self.assertEqual(self.su_q("SELECT has_function_privilege('public', %s, 'EXECUTE')", f),
                                 f in public)
        for table in ("signing_keys", "auth_events", "login_state", "users"):
            with self.subTest(table=table):
                self.assertIs(self.su_q("SELECT has_table_privilege('public', %s, 'SELECT')",
                                        "user_mgmt." + table), False)
        self.assertIs(self.su_q("SELECT has_column_privilege('public', 'user_mgmt.users', 'hashed_password', 'SELECT')"),
                      False)

    def test_export_signing_key_needs_superuser_even_with_grant(self):
        self.su_q("GRANT EXECUTE ON FUNCTION user_mgmt.export_signing_key(text) TO um_app")
        try:
            self.assertAppSqlState("42501", "SELECT user_mgmt.export_signing_key()")
            self.assertAppSqlState("42501", "SELECT user_mgmt.export_signing_key(%s)", self.current_kid())
        finally:
            self.su_q("REVOKE EXECUTE ON FUNCTION user_mgmt.export_signing_key(text) FROM um_app")

    def test_session_settings_cannot_loosen_security(self):
        # Beyond the letter of the spec: settings that any role may SET must
        # not let a caller of the public API turn the lockout off, shorten
        # it, or mint long-lived tokens (which set_session_token would then
        # accept for RLS).  Either the SET is refused (42501) or it has no
        # effect on these calls.  (token_leeway is capped at 300 s by the
        # setting itself; a leeway that large is not tested here.)
        secret = bytes(self.su_q("SELECT user_mgmt.export_signing_key()"))
        kid = self.current_kid()
        cases = [("max_failed_logins", "0"), ("lockout_duration", "1"),
                 ("token_leeway", "300"), ("token_ttl", "100000000")]
        # Each case in a new session, set before the library is loaded (a
        # placeholder setting) and after.
        for (setting, value), loaded in [(c, l) for c in cases for l in (False, True)]:
            with self.subTest(setting=setting, value=value, library_loaded_first=loaded):
                self.app.close()
                self.app = tap.connect(DB, user=APP)
                self.app.autocommit = True
                if loaded:
                    self.app_q("SELECT user_mgmt.current_user_id()")
                try:
                    self.app_q("SELECT set_config(%s, %s, false)", "user_mgmt." + setting, value)
                except psycopg2.Error as e:
                    self.assertEqual(e.pgcode, "42501", str(e))
                    continue
                if setting in ("max_failed_logins", "lockout_duration"):
                    name = "lp_guess_" + uuid.uuid4().hex[:6]
                    uid = self.su_q("SELECT user_mgmt.create_user(%s, %s, 'Guess Me')", name, PW)
                    for _ in range(6):
                        self.assertIsNone(self.auth(name, "wrong password"))
                    self.assertIs(
                        self.su_q("SELECT locked_until > clock_timestamp() + interval '5 min' "
                                  "FROM user_mgmt.accounts WHERE id = %s", uid), True,
                        "after SET user_mgmt.%s = %s by um_app, 6 wrong passwords left %r"
                        % (setting, value, self.su_q("SELECT jsonb_build_object('failed_login_count', "
                                                     "failed_login_count, 'locked_until', locked_until) "
                                                     "FROM user_mgmt.accounts WHERE id = %s", uid)))
                elif setting == "token_leeway":
                    t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
                    old = jwt.encode({"sub": str(self.alice), "username": "lp_alice", "role": "USER",
                                      "iat": t - 7200, "exp": t - 3600, "jti": "old"},
                                     secret, algorithm="HS256", headers={"kid": kid})
                    self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", old)
                else:
                    tok = self.app_q("SELECT user_mgmt.login('lp_alice', %s)", PW)
                    c = jwt.decode(tok, options={"verify_signature": False})
                    self.assertLessEqual(c["exp"] - c["iat"], 1800,
                                         "um_app got a token valid for %d s" % (c["exp"] - c["iat"]))


class HijackTest(Base):
    def plant(self):
        """Creates the log, and the shadows in every schema, as um_app."""
        stmts = [
            "CREATE SEQUENCE um_app_schema.hijack_seq",
            "CREATE TABLE um_app_schema.hijack_log (what text, at timestamptz DEFAULT pg_catalog.clock_timestamp())",
            "GRANT USAGE ON SCHEMA um_app_schema TO PUBLIC",
            "GRANT ALL ON SEQUENCE um_app_schema.hijack_seq TO PUBLIC",
            "GRANT ALL ON TABLE um_app_schema.hijack_log TO PUBLIC",
            """CREATE FUNCTION um_app_schema.hijacked(what text) RETURNS void
               LANGUAGE plpgsql SET search_path = pg_catalog AS $$
               BEGIN
                   RAISE NOTICE 'HIJACK %', what;
                   PERFORM pg_catalog.nextval('um_app_schema.hijack_seq'::pg_catalog.regclass);
                   INSERT INTO um_app_schema.hijack_log (what) VALUES (what);
               END $$""",
            "GRANT EXECUTE ON FUNCTION um_app_schema.hijacked(text) TO PUBLIC",
        ]
        n = 0
        for schema in SCHEMAS:
            for name, args, result, value in FUNCTIONS:
                label = "%s.%s(%s)" % (schema, name, args)
                ret = "RETURN;" if result == "void" else "RETURN %s;" % value
                stmts.append(
                    "CREATE FUNCTION %s.%s(%s) RETURNS %s LANGUAGE plpgsql "
                    "SET search_path = pg_catalog AS $f$ BEGIN "
                    "PERFORM um_app_schema.hijacked('%s'); %s END $f$"
                    % (schema, name, ", ".join("a%d %s" % (i, t.strip())
                                               for i, t in enumerate(args.split(",")) if t.strip()),
                       result, label, ret))
            for op, left, right, result, value in OPERATORS:
                n += 1
                label = "%s.%s(%s, %s)" % (schema, op, left, right)
                fn = "%s.hijack_op_%d" % (schema, n)
                stmts.append(
                    "CREATE FUNCTION %s(a %s, b %s) RETURNS %s LANGUAGE plpgsql "
                    "SET search_path = pg_catalog AS $f$ BEGIN "
                    "PERFORM um_app_schema.hijacked('%s'); RETURN %s; END $f$"
                    % (fn, left, right, result, label, value))
                stmts.append("CREATE OPERATOR %s.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)"
                             % (schema, op, left, right, fn))
            # tables named like the extension's, holding an attacker and a key
            stmts += [
                "CREATE TABLE %s.users (id integer, username varchar(20), hashed_password varchar(512), "
                "role text, full_name varchar(40), created_at timestamptz, updated_at timestamptz, "
                "is_active boolean, last_login_at timestamptz, failed_login_count integer, "
                "locked_until timestamptz, password_changed_at timestamptz)" % schema,
                "INSERT INTO %s.users VALUES (%d, 'attacker', '%s', 'ADMIN', 'Attacker', now(), now(), "
                "true, NULL, 0, NULL, now())" % (schema, 900000 + n, ATTACKER_HASH),
                "INSERT INTO %s.users SELECT %d, 'lp_alice', '%s', 'ADMIN', 'Alice', now(), now(), "
                "true, NULL, 0, NULL, now()" % (schema, 900100 + n, ATTACKER_HASH),
                "CREATE TABLE %s.signing_keys (kid text, secret bytea, created_at timestamptz DEFAULT now(), "
                "retired_at timestamptz)" % schema,
                "INSERT INTO %s.signing_keys (kid, secret) VALUES ('%s', '\\x%s')"
                % (schema, EVIL_KID, EVIL_SECRET.hex()),
                "CREATE TABLE %s.accounts AS SELECT id, username, role, full_name, created_at, updated_at, "
                "is_active, last_login_at, failed_login_count, locked_until, password_changed_at "
                "FROM %s.users" % (schema, schema),
            ]
        with self.app.cursor() as cur:
            for stmt in stmts:
                cur.execute(stmt)

    def fired(self):
        """What the planted objects logged: (sequence advanced?, log rows, notices)."""
        advanced = self.su_q("SELECT is_called FROM um_app_schema.hijack_seq")
        rows = self.su_q("SELECT count(*) FROM um_app_schema.hijack_log")
        notices = [n for n in self.app.notices if "HIJACK" in n]
        return advanced, rows, notices

    def unplant(self):
        """Drops what plant() put in public, so that other tests do not meet it."""
        with self.su.cursor() as cur:
            cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc AS p "
                        "WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'um_app'::regrole")
            for (f,) in cur.fetchall():
                cur.execute("DROP FUNCTION %s CASCADE" % f)
            cur.execute("DROP TABLE IF EXISTS public.users, public.signing_keys, public.accounts")

    def test_hijack_attempts(self):
        self.addCleanup(self.unplant)
        self.plant()
        self.assertEqual(self.fired(), (False, 0, []), "planting alone fired a shadow")
        kid = self.current_kid()
        t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
        claims = {"sub": str(self.alice), "username": "lp_alice", "role": "ADMIN",
                  "iat": t, "exp": t + 600, "jti": "evil"}
        evil_tokens = [jwt.encode(claims, EVIL_SECRET, algorithm="HS256", headers={"kid": EVIL_KID}),
                       jwt.encode(claims, EVIL_SECRET, algorithm="HS256", headers={"kid": kid})]

        paths = ["pg_temp, public, um_app_schema",
                 "um_app_schema, public, pg_catalog, pg_temp"]
        for i, path in enumerate(paths):
            with self.subTest(search_path=path):
                self.app_q("SET search_path = " + path)
                tok = self.app_q("SELECT user_mgmt.login('lp_alice', %s)", PW)
                c = self.su_q("SELECT user_mgmt.verify_token(%s)", tok)
                self.assertEqual((c["sub"], c["username"], c["role"]), (str(self.alice), "lp_alice", "USER"))
                self.assertEqual(self.app_q("SELECT user_mgmt.verify_token(%s)", tok), c)
                self.assertEqual(self.auth("lp_alice", PW)["id"], self.alice)
                row = self.auth("lp_alice", PW)
                self.assertGreater(row["last_login_at"], "2001")  # not the planted now()

                name = "lp_hj%d" % i
                uid = self.app_q("SELECT user_mgmt.sign_up(%s, %s, 'Hijack Test')", name, PW2)
                u = self.su_q("SELECT to_jsonb(u) FROM user_mgmt.users AS u WHERE id = %s", uid)
                self.assertEqual((u["username"], u["role"], u["full_name"]), (name, "USER", "Hijack Test"))
                self.assertNotEqual(u["hashed_password"], ATTACKER_HASH)
                self.assertTrue(bcrypt.checkpw(PW2.encode(), u["hashed_password"].encode()))
                self.assertGreater(u["created_at"], "2001")

                with self.app.cursor() as cur:
                    cur.execute("BEGIN")
                    cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
                    cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()::text")
                    self.assertEqual(cur.fetchone(), (self.alice, "USER"))
                    cur.execute("ROLLBACK")

                self.app_q("SELECT user_mgmt.change_password('lp_alice', %s, %s)", PW, PW2)
                self.app_q("SELECT user_mgmt.change_password('lp_alice', %s, %s)", PW2, PW)

                # failures stay failures
                self.assertIsNone(self.auth("lp_alice", "wrong password"))
                self.assertAppSqlState("28P01", "SELECT user_mgmt.login('lp_alice', 'wrong password')")
                self.assertAppSqlState("28P01", "SELECT user_mgmt.login('attacker', %s)", ATTACKER_PW)
                self.assertAppSqlState("28P01", "SELECT user_mgmt.login('lp_alice', %s)", ATTACKER_PW)
                self.assertIsNone(self.auth("attacker", ATTACKER_PW))
                self.assertAppSqlState("28P01", "SELECT user_mgmt.change_password('lp_alice', %s, %s)",
                                       ATTACKER_PW, PW2)
                self.assertAppSqlState("22023", "SELECT user_mgmt.sign_up(' lead', %s, 'X')", PW2)
                for evil in evil_tokens:
                    self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", evil)
                self.assertEqual(self.fired(), (False, 0, []), "a planted object ran")
        self.app_q("RESET search_path")
        self.assertIsNone(self.su_q("SELECT locked_until FROM user_mgmt.accounts WHERE id = %s", self.alice))

        # Control: the shadows do fire when the caller's own code resolves to them.
        self.app_q("SET search_path = um_app_schema, pg_catalog")
        self.assertIs(self.app_q("SELECT 'a'::varchar = 'b'::text"), True)
        self.assertEqual(self.app_q("SELECT lower('X')"), "hijacked")
        advanced, rows, notices = self.fired()
        self.assertTrue(advanced and rows == 2 and len(notices) == 2,
                        "the control did not fire: %r" % ((advanced, rows, notices),))


class SignUpTest(Base):
    """sign_up is safe to grant: every path from it (and from the public API)
    to an account with a role other than USER is closed."""

    def admins(self):
        return self.su_q("SELECT count(*) FROM user_mgmt.users WHERE role <> 'USER'")

    def test_sign_up_makes_only_users(self):
        admins = self.admins()
        uid = self.app_q("SELECT user_mgmt.sign_up('lp_signed', %s, 'Signed Up')", PW)
        self.assertEqual(self.su_q("SELECT role::text FROM user_mgmt.users WHERE id = %s", uid), "USER")
        tok = self.app_q("SELECT user_mgmt.login('lp_signed', %s)", PW)
        self.assertEqual(jwt.decode(tok, options={"verify_signature": False})["role"], "USER")
        self.assertEqual(self.su_q("SELECT detail FROM user_mgmt.auth_events WHERE event = 'user_created' "
                                   "AND user_id = %s", uid), "USER")

        kid = self.current_kid()
        t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
        forged = {"sub": str(uid), "username": "lp_signed", "role": "ADMIN", "iat": t, "exp": t + 600}
        attempts = [
            # the administrative function, directly and through a role cast
            ("42501", "SELECT user_mgmt.create_user('lp_admin1', %s, 'Admin', 'ADMIN')", (PW,)),
            ("42501", "SELECT user_mgmt.create_user('lp_admin2', %s, 'Admin')", (PW,)),
            # sign_up has no role to pass
            ("42883", "SELECT user_mgmt.sign_up('lp_admin3', %s, 'Admin', 'ADMIN')", (PW,)),
            ("42883", "SELECT user_mgmt.sign_up('lp_admin4', %s, 'Admin', 'ADMIN'::user_mgmt.role)", (PW,)),
            # promotion of the account it made
            ("42501", "SELECT user_mgmt.set_role(%s, 'ADMIN')", (uid,)),
            ("42501", "UPDATE user_mgmt.users SET role = 'ADMIN' WHERE id = %s", (uid,)),
            ("42501", "INSERT INTO user_mgmt.users (username, hashed_password, role, full_name) "
                      "VALUES ('lp_admin5', %s, 'ADMIN', 'Admin')", (ATTACKER_HASH,)),
            # the table's default, a trigger, the enum: only the owner may
            ("42501", "ALTER TABLE user_mgmt.users ALTER COLUMN role SET DEFAULT 'ADMIN'", ()),
            ("42501", "CREATE TRIGGER lp_promote BEFORE INSERT ON user_mgmt.users "
                      "FOR EACH ROW EXECUTE FUNCTION user_mgmt.users_track_changes()", ()),
            ("42501", "ALTER TYPE user_mgmt.role RENAME VALUE 'USER' TO 'USER_OLD'", ()),
            # a token that says ADMIN: none is issued, a forged one is refused
            ("42501", "SELECT user_mgmt.issue_token(%s)", (uid,)),
            ("28000", "SELECT user_mgmt.set_session_token(%s)",
             (jwt.encode(forged, b"not the key at all, but 32 bytes.", algorithm="HS256",
                         headers={"kid": kid}),)),
        ]
        for code, query, args in attempts:
            with self.subTest(query=query):
                self.assertAppSqlState(code, query, *args)
        # a role label smuggled into the full name or username stays text
        uid2 = self.app_q("SELECT user_mgmt.sign_up('ADMIN', %s, 'ADMIN')", PW)
        self.assertEqual(self.su_q("SELECT role::text FROM user_mgmt.users WHERE id = %s", uid2), "USER")
        self.assertEqual(self.admins(), admins, "um_app made an account with another role")


class InstallPrivilegeTest(Base):
    """The extension is not trusted (README, "Who can install it"): a
    database owner who is not a superuser can neither create it nor update
    it, in a database of its own."""

    OWNED_DB = "um_test_lp_owned"

    def test_database_owner_cannot_install(self):
        self.assertIs(self.su_q("SELECT trusted FROM pg_available_extension_versions "
                                "WHERE name = 'user_mgmt' AND version = "
                                "(SELECT default_version FROM pg_available_extensions "
                                "WHERE name = 'user_mgmt')"), False)
        admin = tap.connect("postgres")
        admin.autocommit = True
        try:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.OWNED_DB)))
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(self.OWNED_DB), sql.Identifier(APP)))
            owner = tap.connect(self.OWNED_DB, user=APP)
            owner.autocommit = True
            try:
                for stmt in ("CREATE EXTENSION user_mgmt", "CREATE EXTENSION user_mgmt VERSION '1.0'"):
                    with self.subTest(stmt=stmt):
                        with self.assertRaises(psycopg2.Error) as ctx:
                            self.q_on(owner, stmt)
                        self.assertEqual(ctx.exception.pgcode, "42501")
                        self.assertEqual(ctx.exception.diag.message_primary,
                                         'permission denied to create extension "user_mgmt"')
                        self.assertEqual(ctx.exception.diag.message_hint,
                                         "Must be superuser to create this extension.")
                self.assertEqual(self.q_on(owner, "SELECT count(*) FROM pg_extension "
                                                  "WHERE extname = 'user_mgmt'"), 0)
            finally:
                owner.close()
        finally:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.OWNED_DB)))
            admin.close()


if __name__ == "__main__":
    tap.main()
