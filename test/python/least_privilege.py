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
authenticate, verify_token, sign_up ...; since 1.4 sign_in, refresh,
logout(token), logout(), logout_all() and current_session_id()), but
neither read password hashes, signing keys, the login state, the audit
trail, the sessions or the refresh tokens, nor set users.session_epoch,
nor call the administrative functions (logout_all(user_id),
revoke_session, prune_sessions) or the login writer's internal ones
(session_*), nor make anybody but a USER (every path to an ADMIN is tried,
1.4's sign_in, refresh, logout and crafted tokens included), nor end a
session of another user whose tokens it does not hold.  It
then plants functions, operators and tables that shadow what the SECURITY
DEFINER functions use (and a shadow of every function of user_mgmt, taken
from the catalog, plus sessions and refresh_tokens tables with a planted
session), in its own schema, in public and in pg_temp, puts them first in
its search_path, and calls the API, the session functions included: results
must be right and no planted function may run (each one raises a NOTICE,
advances a sequence -- which no rollback undoes -- and logs a row); nor may
one run when an administrator whose search_path starts with public revokes
sessions or changes accounts (the triggers that end sessions), or (1.5)
makes, imports and retires EdDSA and ES256 keys.

Since 1.5 um_app also reads the public keys (jwks(), public_key_pem()) and
verifies EdDSA and ES256 tokens, in the database and offline with PyJWT
from the JWKS or the PEM alone; it can neither make (rotate_signing_key,
new_signing_key_material), import (even granted EXECUTE: superusers only),
export, retire nor read keys, and nothing it can build from what is public
(an HS256 token whose secret is a public key's PEM, DER or JWK x, an alg
swapped on a real token, a DER ECDSA signature, a key pair of its own)
gets past verify_token, set_session_token or logout.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import unittest
import uuid

import bcrypt
import jwt
import psycopg2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
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
# A planted session and refresh token (1.4): the refresh token's text is
# base64url of 32 bytes, the planted row holds its SHA-256.
EVIL_SID = "e7e7e7e7-e7e7-4e7e-8e7e-e7e7e7e7e7e7"
EVIL_REFRESH_BYTES = b"R" * 32
EVIL_REFRESH = base64.urlsafe_b64encode(EVIL_REFRESH_BYTES).decode().rstrip("=")
EVIL_REFRESH_HASH = hashlib.sha256(EVIL_REFRESH_BYTES).hexdigest()

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
    # what 1.4's session code calls, or could call unqualified: format()
    # with its argument types, the hashing of refresh tokens; and some of
    # its functions with answers that would help an attacker (every other
    # function of user_mgmt gets a shadow too: see user_mgmt_shadows())
    ("format", "text, integer, integer", "text", "'hijacked'"),
    ("format", "text, text, integer", "text", "'hijacked'"),
    ("sha256", "bytea", "bytea", "'\\x00'::bytea"),
    ("digest", "bytea, text", "bytea", "'\\x00'::bytea"),
    ("logout", "text", "boolean", "true"),
    ("logout", "", "boolean", "true"),
    ("current_session_id", "", "uuid", "'00000000-0000-0000-0000-000000000000'"),
    ("current_user_id", "", "integer", "1"),
    ("current_user_role", "", "text", "'ADMIN'"),
    ("set_session_token", "text", "jsonb", "'{\"sub\": \"1\", \"role\": \"ADMIN\"}'"),
    ("login", "text, text", "text", "'hijacked.hijacked.hijacked'"),
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
    # 1.4: sessions, refresh token hashes, epochs, expiries
    ("=", "uuid", "uuid", "boolean", "true"),
    ("=", "bytea", "bytea", "boolean", "true"),
    ("+", "bigint", "bigint", "bigint", "0"),
    ("<>", "bigint", "bigint", "boolean", "false"),
    ("=", "bigint", "bigint", "boolean", "true"),
    ("+", "timestamptz", "interval", "timestamptz", "'infinity'"),
    ("-", "timestamptz", "interval", "timestamptz", "'-infinity'"),
    (">", "interval", "interval", "boolean", "true"),
    ("=", "interval", "interval", "boolean", "false"),
    ("<", "interval", "interval", "boolean", "false"),
    ("=", "timestamptz", "timestamptz", "boolean", "true"),
]

SCHEMAS = [APP_SCHEMA, "public", "pg_temp"]



def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def tampered(token, **claims):
    """token with claims changed in its payload, header and signature kept."""
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(claims)
    return "%s.%s.%s" % (head, b64url(json.dumps(payload, separators=(",", ":")).encode()), sig)


def unsigned(claims):
    """An alg none token."""
    return "%s.%s." % (b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(claims).encode()))


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hs256(header, claims, secret):
    """An HS256 token with any secret at all (PyJWT refuses a PEM as one)."""
    signing_input = "%s.%s" % (b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()))
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def reheader(token, header):
    """token with another header, its claims and signature kept."""
    _, body, sig = token.split(".")
    return "%s.%s.%s" % (b64url(json.dumps(header).encode()), body, sig)


def pem_der(pem):
    return base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")))


def new_ed25519():
    """(private key, its public key in PEM) of a fresh Ed25519 key pair."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key, key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()


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
        # another user whose sessions um_app must not be able to end
        cur.execute("SELECT user_mgmt.create_user('lp_bob', %s, 'Bob Other')", (PW,))
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

    @staticmethod
    def row_on(conn, query, *args):
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()

    def app_row(self, query, *args):
        return self.row_on(self.app, query, *args)

    def su_row(self, query, *args):
        return self.row_on(self.su, query, *args)

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

    def has_key_pairs(self):
        return self.su_q("SELECT to_regprocedure('user_mgmt.jwks()') IS NOT NULL")

    def keys_snapshot(self):
        return self.su_q("SELECT jsonb_agg(to_jsonb(k) ORDER BY kid) FROM user_mgmt.signing_keys AS k")


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
        if self.has_sessions():
            # a live session of alice's (before the snapshot of her row: a
            # login writes her last_login_at)
            sid = self.su_q("SELECT session_id::text FROM user_mgmt.sign_in('lp_alice', %s)", PW)
            self.assertIs(self.su_q("SELECT user_mgmt.await_login_writer()"), True)
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
        if self.has_sessions():
            forbidden += [
                # 1.4: the sessions and refresh tokens, read or written
                ("SELECT * FROM user_mgmt.sessions", ()),
                ("SELECT id FROM user_mgmt.sessions", ()),
                ("SELECT * FROM user_mgmt.refresh_tokens", ()),
                ("SELECT token_hash FROM user_mgmt.refresh_tokens", ()),
                ("UPDATE user_mgmt.sessions SET revoked_at = NULL, revoke_reason = NULL", ()),
                ("UPDATE user_mgmt.sessions SET expires_at = 'infinity'", ()),
                ("DELETE FROM user_mgmt.sessions", ()),
                ("TRUNCATE user_mgmt.sessions", ()),
                ("INSERT INTO user_mgmt.sessions (id, user_id, session_epoch, origin, expires_at) "
                 "VALUES (gen_random_uuid(), %s, 0, 'sign_in', 'infinity')", (a,)),
                ("INSERT INTO user_mgmt.refresh_tokens (token_hash, session_id) VALUES (sha256('x'), %s)",
                 (sid,)),
                ("UPDATE user_mgmt.refresh_tokens SET used_at = NULL", ()),
                ("DELETE FROM user_mgmt.refresh_tokens", ()),
                # the account's epoch, and the triggers that move it
                ("UPDATE user_mgmt.users SET session_epoch = 0", ()),
                ("UPDATE user_mgmt.users SET session_epoch = session_epoch + 1 WHERE id = %s", (a,)),
                ("ALTER TABLE user_mgmt.users DISABLE TRIGGER users_end_sessions", ()),
                ("ALTER TABLE user_mgmt.users DISABLE TRIGGER users_session_epoch", ()),
                ("ALTER TABLE user_mgmt.sessions DISABLE TRIGGER sessions_caches_update", ()),
                ("CREATE TRIGGER lp_keep AFTER UPDATE ON user_mgmt.sessions "
                 "FOR EACH ROW EXECUTE FUNCTION user_mgmt.session_caches_changed()", ()),
                # the administrative session functions
                ("SELECT user_mgmt.logout_all(%s)", (a,)),
                ("SELECT user_mgmt.revoke_session(%s)", (sid,)),
                ("SELECT user_mgmt.prune_sessions()", ()),
                ("SELECT user_mgmt.prune_sessions('0')", ()),
            ] + self.internal_session_calls()
        for query, args in forbidden:
            with self.subTest(query=query):
                self.assertAppSqlState("42501", query, *args)
        self.assertEqual(self.su_q("SELECT jsonb_agg(to_jsonb(k) ORDER BY kid) FROM user_mgmt.signing_keys AS k"),
                         keys_before)
        self.assertEqual(self.su_q("SELECT to_jsonb(u) FROM user_mgmt.users AS u WHERE id = %s", self.alice),
                         user_before)

    def internal_session_calls(self):
        """A call with plausible (non-NULL: a strict function of NULLs is
        folded away before any privilege check) arguments of every internal
        session function the login writer runs, found in the catalog."""
        dummy = {"uuid": "gen_random_uuid()", "integer": "%s" % self.alice, "bigint": "0",
                 "text": "'logout'", "bytea": "sha256('x')", "interval": "'1 hour'",
                 "inet": "'127.0.0.1'", "boolean": "true"}
        with self.su.cursor() as cur:
            cur.execute("""
                SELECT p.oid::regprocedure::text, p.proname::text,
                       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t)
                FROM pg_proc AS p
                WHERE p.pronamespace = 'user_mgmt'::regnamespace AND p.proname ~ '^session_'
                  AND p.prorettype <> 'trigger'::regtype
                ORDER BY 1""")
            found = cur.fetchall()
        self.assertGreaterEqual({name for _, name, _ in found},
                                {"session_open", "session_end", "session_refresh", "session_revoke"})
        return [("SELECT * FROM user_mgmt.%s(%s)" % (name, ", ".join("(%s)::%s" % (dummy[t], t) for t in types)),
                 ()) for _, name, types in found]

    def has_sessions(self):
        return self.su_q("SELECT to_regclass('user_mgmt.sessions') IS NOT NULL")

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
        if self.has_sessions():
            revoked += ["user_mgmt.logout_all(integer)",
                        "user_mgmt.revoke_session(uuid)",
                        "user_mgmt.prune_sessions(interval)",
                        "user_mgmt.users_end_sessions()"]
            revoked += self.su_q("SELECT array_agg(oid::regprocedure::text) FROM pg_proc "
                                 "WHERE pronamespace = 'user_mgmt'::regnamespace AND proname ~ '^session_' "
                                 "AND prorettype <> 'trigger'::regtype")
        if self.has_key_pairs():
            # 1.5: making, importing and generating keys is not PUBLIC's
            revoked += ["user_mgmt.rotate_signing_key(text)",
                        "user_mgmt.import_signing_key(text, text, text)",
                        "user_mgmt.new_signing_key_material(text)"]
        public = ["user_mgmt.login(text, text)",
                  "user_mgmt.authenticate(text, text)",
                  "user_mgmt.verify_token(text)",
                  "user_mgmt.change_password(text, text, text)",
                  "user_mgmt.set_session_token(text)",
                  "user_mgmt.current_user_id()",
                  "user_mgmt.current_user_role()"]
        if self.has_sessions():
            public += ["user_mgmt.sign_in(text, text, text, inet)",
                       "user_mgmt.refresh(text)",
                       "user_mgmt.logout(text)",
                       "user_mgmt.logout()",
                       "user_mgmt.logout_all()",
                       "user_mgmt.current_session_id()"]
        if self.has_key_pairs():
            # 1.5: the public keys are everyone's
            public += ["user_mgmt.jwks()", "user_mgmt.public_key_pem(text)"]
        for f in revoked + public:
            with self.subTest(function=f):
                self.assertEqual(self.su_q("SELECT has_function_privilege('public', %s, 'EXECUTE')", f),
                                 f in public)
        tables = ["signing_keys", "auth_events", "login_state", "users"]
        if self.has_sessions():
            tables += ["sessions", "refresh_tokens"]
        for table in tables:
            for priv in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"):
                with self.subTest(table=table, privilege=priv):
                    self.assertIs(self.su_q("SELECT has_table_privilege('public', %s, %s)",
                                            "user_mgmt." + table, priv), False)
                    self.assertIs(self.su_q("SELECT has_table_privilege('um_app', %s, %s)",
                                            "user_mgmt." + table, priv), False)
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
        if self.su_q("SELECT to_regclass('user_mgmt.sessions') IS NOT NULL"):
            # 1.4: sessions that never end, never idle out, or are never capped
            cases += [("session_lifetime", "2147483647"), ("session_idle_timeout", "0"),
                      ("max_sessions_per_user", "0")]
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
                elif setting in ("session_lifetime", "session_idle_timeout"):
                    refresh_left, sid = self.app_row(
                        "SELECT extract(epoch FROM refresh_expires_at - clock_timestamp()), session_id::text "
                        "FROM user_mgmt.sign_in('lp_alice', %s)", PW)
                    session_left = self.su_q("SELECT extract(epoch FROM expires_at - clock_timestamp()) "
                                             "FROM user_mgmt.sessions WHERE id = %s", sid)
                    self.assertLessEqual(session_left, 30 * 86400, "after SET user_mgmt.%s = %s by um_app, "
                                         "a session lasts %s s" % (setting, value, session_left))
                    self.assertLessEqual(refresh_left, 15 * 86400, "after SET user_mgmt.%s = %s by um_app, "
                                         "a refresh token lasts %s s" % (setting, value, refresh_left))
                elif setting == "max_sessions_per_user":
                    for _ in range(51):
                        self.app_q("SELECT session_id FROM user_mgmt.sign_in('lp_alice', %s)", PW)
                    live = self.su_q("SELECT count(*) FROM user_mgmt.sessions WHERE user_id = %s "
                                     "AND revoked_at IS NULL AND expires_at > clock_timestamp()", self.alice)
                    self.assertLessEqual(live, 50, "after SET user_mgmt.max_sessions_per_user = 0 by um_app, "
                                         "lp_alice has %d live sessions" % live)
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
            for name, args, result, value in FUNCTIONS + self.user_mgmt_shadows():
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
                # 1.4: sessions that never end, and a refresh token of them
                # whose text anyone knows (EVIL_REFRESH)
                "CREATE TABLE %s.sessions (id uuid, user_id integer, session_epoch bigint, origin text, "
                "created_at timestamptz, refreshed_at timestamptz, expires_at timestamptz, "
                "revoked_at timestamptz, revoke_reason text, user_agent text, client_addr inet)" % schema,
                "INSERT INTO %s.sessions SELECT '%s', id, 0, 'sign_in', now(), 'infinity', 'infinity', "
                "NULL, NULL, NULL, NULL FROM %s.users" % (schema, EVIL_SID, schema),
                "CREATE TABLE %s.refresh_tokens (token_hash bytea, session_id uuid, issued_at timestamptz, "
                "used_at timestamptz)" % schema,
                "INSERT INTO %s.refresh_tokens VALUES ('\\x%s', '%s', now(), NULL)"
                % (schema, EVIL_REFRESH_HASH, EVIL_SID),
            ]
        with self.app.cursor() as cur:
            for stmt in stmts:
                m = re.match(r"CREATE FUNCTION (\S+\(.*?\)) RETURNS ", stmt)
                if m and "PERFORM um_app_schema.hijacked('" in stmt and "hijack_op_" not in stmt:
                    # a function of user_mgmt that FUNCTIONS shadows already
                    cur.execute("SELECT pg_catalog.to_regprocedure(%s) IS NOT NULL",
                                (re.sub(r"\ba\d+ ", "", m.group(1)),))
                    if cur.fetchone()[0]:
                        continue
                cur.execute(stmt)

    def user_mgmt_shadows(self):
        """FUNCTIONS entries for every function of schema user_mgmt (its
        name and argument types; NULL or nothing as the answer), so that
        one called unqualified, by the session functions of 1.4 or by any
        later ones, would meet a shadow."""
        with self.app.cursor() as cur:
            cur.execute("""
                SELECT p.proname::text,
                       pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.format_type(t, NULL)
                                                        FROM unnest(p.proargtypes::oid[]) AS t), ', '),
                       CASE WHEN p.proretset OR p.proallargtypes IS NOT NULL
                                 OR p.prorettype IN ('pg_catalog.record'::pg_catalog.regtype,
                                                     'pg_catalog.trigger'::pg_catalog.regtype,
                                                     'pg_catalog.void'::pg_catalog.regtype)
                            THEN 'void' ELSE pg_catalog.format_type(p.prorettype, NULL) END
                FROM pg_catalog.pg_proc AS p
                WHERE p.pronamespace = 'user_mgmt'::pg_catalog.regnamespace
                ORDER BY 1, 2""")
            return [(name, args, result, "NULL") for name, args, result in cur.fetchall()]

    def fired(self):
        """What the planted objects logged: (sequence advanced?, log rows, notices)."""
        advanced = self.su_q("SELECT is_called FROM um_app_schema.hijack_seq")
        rows = self.su_q("SELECT count(*) FROM um_app_schema.hijack_log")
        notices = [n for n in self.app.notices if "HIJACK" in n]
        return advanced, rows, notices

    def session_row(self, sid):
        return self.su_row("SELECT user_id, origin, revoked_at IS NOT NULL, revoke_reason "
                           "FROM user_mgmt.sessions WHERE id = %s", sid)

    def hijack_session_flow(self, kid, t):
        """sign_in, refresh, reuse detection and logout in every form, under
        the planted search_path: the right results, in the real tables."""
        access, refresh, sid = self.app_row(
            "SELECT access_token, refresh_token, session_id::text "
            "FROM user_mgmt.sign_in('lp_alice', %s, 'hijack test', '192.0.2.7')", PW)
        self.assertEqual(self.su_row("SELECT user_id, origin, revoked_at IS NULL, user_agent, host(client_addr), "
                                     "expires_at > clock_timestamp() + interval '29 days' "
                                     "FROM user_mgmt.sessions WHERE id = %s", sid),
                         (self.alice, "sign_in", True, "hijack test", "192.0.2.7", True))
        raw = base64.urlsafe_b64decode(refresh + "=")
        self.assertIs(self.su_q("SELECT EXISTS (SELECT FROM user_mgmt.refresh_tokens WHERE session_id = %s "
                                "AND token_hash = %s AND used_at IS NULL)",
                                sid, hashlib.sha256(raw).digest()), True)
        c = self.app_q("SELECT user_mgmt.verify_token(%s)", access)
        self.assertEqual((c["sub"], c["role"], c["sid"]), (str(self.alice), "USER", sid))

        access2, refresh2, sid2 = self.app_row(
            "SELECT access_token, refresh_token, session_id::text FROM user_mgmt.refresh(%s)", refresh)
        self.assertEqual(sid2, sid)
        c = self.app_q("SELECT user_mgmt.verify_token(%s)", access2)
        self.assertEqual((c["sub"], c["role"], c["sid"]), (str(self.alice), "USER", sid))
        e = self.assertAppSqlState("28000", "SELECT * FROM user_mgmt.refresh(%s)", refresh)
        self.assertEqual(e.diag.message_primary, "refresh token has already been used")
        self.assertEqual(self.session_row(sid), (self.alice, "sign_in", True, "refresh_token_reused"))
        self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", access2)
        self.assertAppSqlState("28000", "SELECT * FROM user_mgmt.refresh(%s)", refresh2)

        # the planted session and refresh token are nobody's
        e = self.assertAppSqlState("28000", "SELECT * FROM user_mgmt.refresh(%s)", EVIL_REFRESH)
        self.assertEqual(e.diag.message_primary, "invalid refresh token")
        self.assertAppSqlState("28000", "SELECT user_mgmt.logout(%s)", EVIL_REFRESH)
        claims = {"sub": str(self.alice), "username": "lp_alice", "role": "ADMIN", "sid": EVIL_SID,
                  "iat": t, "exp": t + 600}
        for evil in (jwt.encode(claims, EVIL_SECRET, algorithm="HS256", headers={"kid": EVIL_KID}),
                     jwt.encode(claims, EVIL_SECRET, algorithm="HS256", headers={"kid": kid})):
            self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", evil)
            self.assertAppSqlState("28000", "SELECT user_mgmt.set_session_token(%s)", evil)
            self.assertAppSqlState("28000", "SELECT user_mgmt.logout(%s)", evil)

        # logout() with the claims, logout(refresh token), logout(access token)
        access, _, sid = self.app_row("SELECT access_token, refresh_token, session_id::text "
                                      "FROM user_mgmt.sign_in('lp_alice', %s)", PW)
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (access,))
            cur.execute("SELECT user_mgmt.current_session_id()::text, user_mgmt.current_user_id()")
            self.assertEqual(cur.fetchone(), (sid, self.alice))
            cur.execute("SELECT user_mgmt.logout()")
            self.assertIs(cur.fetchone()[0], True)
            cur.execute("SELECT user_mgmt.current_session_id()")
            self.assertIsNone(cur.fetchone()[0])
            cur.execute("ROLLBACK")  # a logout is not undone
        self.assertEqual(self.session_row(sid), (self.alice, "sign_in", True, "logout"))
        access, refresh, sid = self.app_row("SELECT access_token, refresh_token, session_id::text "
                                            "FROM user_mgmt.sign_in('lp_alice', %s)", PW)
        self.assertIs(self.app_q("SELECT user_mgmt.logout(%s)", refresh), True)
        self.assertIs(self.app_q("SELECT user_mgmt.logout(%s)", access), False)
        self.assertEqual(self.session_row(sid), (self.alice, "sign_in", True, "logout"))

        # logout_all() ends this user's sessions, and no other's
        other = self.su_q("SELECT session_id::text FROM user_mgmt.sign_in('lp_bob', %s)", PW)
        a1, _, s1 = self.app_row("SELECT access_token, refresh_token, session_id::text "
                                 "FROM user_mgmt.sign_in('lp_alice', %s)", PW)
        a2, _, s2 = self.app_row("SELECT access_token, refresh_token, session_id::text "
                                 "FROM user_mgmt.sign_in('lp_alice', %s)", PW)
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (a1,))
            cur.execute("SELECT user_mgmt.logout_all()")
            self.assertGreaterEqual(cur.fetchone()[0], 2)
            cur.execute("COMMIT")
        for x in (s1, s2):
            self.assertEqual(self.session_row(x)[2:], (True, "logout_all"))
        self.assertEqual(self.session_row(other)[2:], (False, None))
        self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", a2)

    def admin_calls_under_planted_search_path(self):
        """1.4: an administrator whose search_path starts with public, where
        um_app planted its shadows, runs the administrative session functions
        and the account changes whose triggers end sessions (SECURITY
        DEFINER users_end_sessions): nothing planted runs, and they do
        their work."""
        admin = tap.connect(DB, options="-c search_path=public,um_app_schema,pg_catalog")
        admin.autocommit = True
        try:
            bob = self.su_q("SELECT id FROM user_mgmt.users WHERE username = 'lp_bob'")
            sids = [self.su_q("SELECT session_id::text FROM user_mgmt.sign_in('lp_bob', %s)", PW)
                    for _ in range(4)]
            self.assertIs(self.q_on(admin, "SELECT user_mgmt.revoke_session(%s::uuid)", sids[0]), True)
            self.assertEqual(self.session_row(sids[0])[2:], (True, "revoked"))
            self.q_on(admin, "SELECT user_mgmt.set_role(%s, 'CASHIER')", bob)
            self.assertEqual(self.session_row(sids[1])[2:], (True, "role_changed"))
            self.q_on(admin, "SELECT user_mgmt.set_role(%s, 'USER')", bob)
            sid = self.su_q("SELECT session_id::text FROM user_mgmt.sign_in('lp_bob', %s)", PW)
            self.q_on(admin, "SELECT user_mgmt.set_active(%s, false)", bob)
            self.assertEqual(self.session_row(sid)[2:], (True, "deactivated"))
            self.q_on(admin, "SELECT user_mgmt.set_active(%s, true)", bob)
            sid = self.su_q("SELECT session_id::text FROM user_mgmt.sign_in('lp_bob', %s)", PW)
            self.q_on(admin, "SELECT user_mgmt.set_password(%s, %s)", bob, PW)
            self.assertEqual(self.session_row(sid)[2:], (True, "password_changed"))
            sid = self.su_q("SELECT session_id::text FROM user_mgmt.sign_in('lp_bob', %s)", PW)
            self.assertGreaterEqual(self.q_on(admin, "SELECT user_mgmt.logout_all(%s)", bob), 1)
            self.assertEqual(self.session_row(sid)[2:], (True, "logout_all"))
            self.assertGreaterEqual(self.q_on(admin, "SELECT user_mgmt.prune_sessions('0')"), 1)
            self.assertIsNone(self.session_row(sids[0]))
        finally:
            admin.close()
        self.assertEqual(self.fired(), (False, 0, []), "a planted object ran in an administrator's call")

    def key_calls_under_planted_search_path(self):
        """1.5: an administrator whose search_path starts with public makes,
        imports and retires keys, and um_app, under its planted search_path,
        reads the JWKS and the PEM and verifies an EdDSA token: the right
        results, and nothing planted runs."""
        _, partner_pem = new_ed25519()
        admin = tap.connect(DB, options="-c search_path=public,um_app_schema,pg_catalog")
        admin.autocommit = True
        try:
            es = self.q_on(admin, "SELECT user_mgmt.rotate_signing_key('ES256')")
            ed = self.q_on(admin, "SELECT user_mgmt.rotate_signing_key('EdDSA')")
            ed2 = self.q_on(admin, "SELECT user_mgmt.rotate_signing_key()")
            self.q_on(admin, "SELECT user_mgmt.import_signing_key('lp-partner', 'EdDSA', %s)", partner_pem)
            self.assertEqual(self.su_q("SELECT jsonb_object_agg(kid, algorithm) FROM user_mgmt.signing_keys "
                                       "WHERE kid IN (%s, %s, %s, 'lp-partner')", es, ed, ed2),
                             {es: "ES256", ed: "EdDSA", ed2: "EdDSA", "lp-partner": "EdDSA"})
            self.app_q("SET search_path = pg_temp, public, um_app_schema")
            jwks = {k["kid"]: k for k in self.app_q("SELECT user_mgmt.jwks()")["keys"]}
            self.assertEqual(sorted(jwks), sorted([es, ed, ed2]))
            self.assertEqual(self.app_q("SELECT user_mgmt.public_key_pem('lp-partner')"), partner_pem)
            tok = self.app_q("SELECT user_mgmt.login('lp_alice', %s)", PW)
            self.assertEqual(jwt.get_unverified_header(tok), {"alg": "EdDSA", "typ": "JWT", "kid": ed2})
            c = self.app_q("SELECT user_mgmt.verify_token(%s)", tok)
            self.assertEqual((c["sub"], c["role"]), (str(self.alice), "USER"))
            self.assertEqual(jwt.decode(tok, jwt.PyJWK(jwks[ed2]).key, algorithms=["EdDSA"])["sub"],
                             str(self.alice))
            self.app_q("RESET search_path")
            self.q_on(admin, "SELECT user_mgmt.rotate_signing_key('HS256')")
            for kid in (es, ed, ed2, "lp-partner"):
                self.q_on(admin, "SELECT user_mgmt.retire_signing_key(%s)", kid)
        finally:
            admin.close()
        self.assertEqual(self.fired(), (False, 0, []), "a planted object ran in a key function")

    def unplant(self):
        """Drops what plant() put in public, so that other tests do not meet it."""
        with self.su.cursor() as cur:
            cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc AS p "
                        "WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'um_app'::regrole")
            for (f,) in cur.fetchall():
                cur.execute("DROP FUNCTION %s CASCADE" % f)
            cur.execute("DROP TABLE IF EXISTS public.users, public.signing_keys, public.accounts, "
                        "public.sessions, public.refresh_tokens")

    def test_hijack_attempts(self):
        self.addCleanup(self.unplant)
        self.plant()
        self.assertEqual(self.fired(), (False, 0, []), "planting alone fired a shadow")
        # every function of user_mgmt has its shadow in every schema
        temp = self.app_q("SELECT pg_catalog.pg_my_temp_schema()::pg_catalog.regnamespace::pg_catalog.text")
        unshadowed = self.su_q("""
            SELECT array_agg(s.nspname || ': ' || p.oid::regprocedure::text ORDER BY 1)
            FROM pg_proc AS p, unnest(ARRAY['um_app_schema', 'public', %s]) AS s(nspname)
            WHERE p.pronamespace = 'user_mgmt'::regnamespace
              AND NOT EXISTS (SELECT FROM pg_proc AS q
                              WHERE q.pronamespace = s.nspname::regnamespace AND q.proname = p.proname
                                AND q.proargtypes = p.proargtypes)""", temp)
        self.assertIsNone(unshadowed)
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

                # 1.4: sessions under the same search_path
                self.hijack_session_flow(kid, t)

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
        if self.su_q("SELECT to_regclass('user_mgmt.sessions') IS NOT NULL"):
            self.admin_calls_under_planted_search_path()
        if self.has_key_pairs():
            self.key_calls_under_planted_search_path()

        # Control: the shadows do fire when the caller's own code resolves to them.
        self.app_q("SET search_path = um_app_schema, pg_catalog")
        self.assertIs(self.app_q("SELECT 'a'::varchar = 'b'::text"), True)
        self.assertEqual(self.app_q("SELECT lower('X')"), "hijacked")
        advanced, rows, notices = self.fired()
        self.assertTrue(advanced and rows == 2 and len(notices) == 2,
                        "the control did not fire: %r" % ((advanced, rows, notices),))


class SessionTest(Base):
    """1.4: what um_app can do with sessions -- only to sessions whose
    tokens it holds."""

    def setUp(self):
        super().setUp()
        if not self.has_sessions():
            self.skipTest("the installed version has no sessions")

    def has_sessions(self):
        return self.su_q("SELECT to_regclass('user_mgmt.sessions') IS NOT NULL")

    def sign_in(self, conn, username, password=PW):
        """(access, refresh, session id) from sign_in on conn."""
        return self.row_on(conn, "SELECT access_token, refresh_token, session_id::text "
                                 "FROM user_mgmt.sign_in(%s, %s)", username, password)

    def live(self, sid):
        return self.su_q("SELECT revoked_at IS NULL FROM user_mgmt.sessions WHERE id = %s", sid)

    def test_public_session_api_works(self):
        # um_app has no grant but sign_up: the session API is PUBLIC's
        access, refresh, sid = self.sign_in(self.app, "lp_alice")
        c = self.app_q("SELECT user_mgmt.verify_token(%s)", access)
        self.assertEqual((c["sub"], c["role"], c["sid"]), (str(self.alice), "USER", sid))
        access2, refresh2, sid2 = self.app_row("SELECT access_token, refresh_token, session_id::text "
                                               "FROM user_mgmt.refresh(%s)", refresh)
        self.assertEqual(sid2, sid)
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (access2,))
            cur.execute("SELECT user_mgmt.current_session_id()::text")
            self.assertEqual(cur.fetchone()[0], sid)
            cur.execute("SELECT user_mgmt.logout()")
            self.assertIs(cur.fetchone()[0], True)
            cur.execute("COMMIT")
        self.assertIs(self.live(sid), False)
        access, refresh, sid = self.sign_in(self.app, "lp_alice")
        self.assertIs(self.app_q("SELECT user_mgmt.logout(%s)", access), True)
        access, refresh, sid = self.sign_in(self.app, "lp_alice")
        self.assertIs(self.app_q("SELECT user_mgmt.logout(%s)", refresh), True)
        access, refresh, sid = self.sign_in(self.app, "lp_alice")
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (access,))
            cur.execute("SELECT user_mgmt.logout_all()")
            self.assertGreaterEqual(cur.fetchone()[0], 1)
            cur.execute("COMMIT")
        self.assertIs(self.live(sid), False)

    def test_cannot_end_another_users_session(self):
        """um_app holds its own session's tokens (alice's) and knows bob's
        session id and user id (neither is a secret); bob's tokens are the
        superuser's only.  Nothing um_app can send ends bob's session."""
        bob = self.su_q("SELECT id FROM user_mgmt.users WHERE username = 'lp_bob'")
        bob_access, bob_refresh, bob_sid = self.sign_in(self.su, "lp_bob")
        access, refresh, sid = self.sign_in(self.app, "lp_alice")
        events = self.su_q("SELECT count(*) FROM user_mgmt.auth_events WHERE user_id = %s "
                           "AND event IN ('session_revoked', 'refresh_token_reused')", bob)
        kid = self.current_kid()
        t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
        bob_claims = {"sub": str(bob), "username": "lp_bob", "role": "USER", "sid": bob_sid,
                      "iat": t, "exp": t + 600}
        sid_bytes = uuid.UUID(bob_sid).bytes
        guesses = [bob_sid, bob_sid.replace("-", ""), b64url(sid_bytes), b64url(sid_bytes * 2)[:43],
                   b64url(hashlib.sha256(sid_bytes).digest()), b64url(hashlib.sha256(bob_sid.encode()).digest()),
                   str(bob), "lp_bob"]
        forged = [
            tampered(access, sid=bob_sid),                       # alice's signature, bob's session
            tampered(access, sid=bob_sid, sub=str(bob)),
            tampered(bob_access.rsplit(".", 1)[0] + "." + access.rsplit(".", 1)[1]),  # bob's claims, alice's signature
            jwt.encode(bob_claims, b"not the key, but 32 bytes long!!", algorithm="HS256", headers={"kid": kid}),
            jwt.encode(bob_claims, EVIL_SECRET, algorithm="HS512", headers={"kid": kid}),
            unsigned(bob_claims),
        ]
        for g in guesses:
            with self.subTest(logout=g):
                self.assertAppSqlState("28000", "SELECT user_mgmt.logout(%s)", g)
            with self.subTest(refresh=g):
                self.assertAppSqlState("28000", "SELECT * FROM user_mgmt.refresh(%s)", g)
        for f in forged:
            for query in ("SELECT user_mgmt.logout(%s)", "SELECT user_mgmt.set_session_token(%s)",
                          "SELECT user_mgmt.verify_token(%s)"):
                with self.subTest(query=query, token=f):
                    self.assertAppSqlState("28000", query, f)
        # the administrative ways
        self.assertAppSqlState("42501", "SELECT user_mgmt.revoke_session(%s)", bob_sid)
        self.assertAppSqlState("42501", "SELECT user_mgmt.logout_all(%s)", bob)
        # its own claims reach its own user's sessions only
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (access,))
            cur.execute("SELECT user_mgmt.logout_all()")
            cur.execute("COMMIT")
        self.assertIs(self.live(sid), False)
        # logout() without claims, and with a failed set_session_token
        self.assertAppSqlState("28000", "SELECT user_mgmt.logout()")
        self.assertAppSqlState("28000", "SELECT user_mgmt.logout_all()")
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            with self.assertRaises(psycopg2.Error):
                cur.execute("SELECT user_mgmt.set_session_token(%s)", (forged[0],))
            cur.execute("ROLLBACK")
        self.assertIs(self.live(bob_sid), True, "um_app ended bob's session")
        self.assertEqual(self.su_q("SELECT user_mgmt.verify_token(%s) ->> 'sid'", bob_access), bob_sid)
        self.assertEqual(self.su_q("SELECT count(*) FROM user_mgmt.auth_events WHERE user_id = %s "
                                   "AND event IN ('session_revoked', 'refresh_token_reused')", bob), events)
        # and bob's refresh token still works, once (it was never presented)
        self.assertEqual(self.row_on(self.su, "SELECT session_id::text FROM user_mgmt.refresh(%s)", bob_refresh)[0],
                         bob_sid)


class KeyPairTest(Base):
    """1.5: EdDSA and ES256 keys, seen from um_app.  Each test makes an
    EdDSA key and then an ES256 key that signs, and leaves an HS256 key
    signing and the key pairs retired, as the other tests expect."""

    def setUp(self):
        super().setUp()
        if not self.has_key_pairs():
            self.skipTest("the installed version has no EdDSA and ES256 keys")
        self.addCleanup(self.back_to_hs256)
        self.ed = self.su_q("SELECT user_mgmt.rotate_signing_key('EdDSA')")
        self.ed_token = self.app_q("SELECT user_mgmt.login('lp_alice', %s)", PW)
        self.es = self.su_q("SELECT user_mgmt.rotate_signing_key('ES256')")

    def back_to_hs256(self):
        self.su_q("SELECT user_mgmt.rotate_signing_key('HS256')")
        self.su_q("SELECT count(*) FROM (SELECT user_mgmt.retire_signing_key(kid) FROM user_mgmt.signing_keys "
                  "WHERE algorithm <> 'HS256' AND retired_at IS NULL) AS r")

    def test_public_keys_verify_anywhere(self):
        jwks = self.app_q("SELECT user_mgmt.jwks()")
        self.assertEqual(jwks, self.su_q("SELECT user_mgmt.jwks()"))
        by_kid = {k["kid"]: k for k in jwks["keys"]}
        self.assertEqual({k: (v["kty"], v["crv"], v["alg"], v["use"]) for k, v in by_kid.items()},
                         {self.ed: ("OKP", "Ed25519", "EdDSA", "sig"), self.es: ("EC", "P-256", "ES256", "sig")})
        self.assertFalse([k for k in jwks["keys"] if "d" in k], "a private key in the JWKS")
        pems = {kid: self.app_q("SELECT user_mgmt.public_key_pem(%s)", kid) for kid in (self.ed, self.es)}
        for kid, pem in pems.items():
            self.assertEqual(pem, self.su_q("SELECT user_mgmt.public_key_pem(%s)", kid))
            self.assertEqual(pem_der(pem), bytes(self.su_q("SELECT public_key FROM user_mgmt.signing_keys "
                                                           "WHERE kid = %s", kid)))
        es_token = self.app_row("SELECT access_token FROM user_mgmt.sign_in('lp_alice', %s)", PW)[0]
        for tok, kid, alg in ((self.ed_token, self.ed, "EdDSA"), (es_token, self.es, "ES256")):
            with self.subTest(alg=alg):
                self.assertEqual(jwt.get_unverified_header(tok), {"alg": alg, "typ": "JWT", "kid": kid})
                self.assertEqual(len(b64url_decode(tok.split(".")[2])), 64)
                c = self.app_q("SELECT user_mgmt.verify_token(%s)", tok)
                self.assertEqual((c["sub"], c["role"]), (str(self.alice), "USER"))
                # offline, from the JWKS alone and from the PEM alone
                self.assertEqual(jwt.decode(tok, jwt.PyJWK(by_kid[kid]).key, algorithms=[alg]), c)
                self.assertEqual(jwt.decode(tok, pems[kid], algorithms=[alg]), c)
        hs = self.su_q("SELECT kid FROM user_mgmt.signing_keys WHERE algorithm = 'HS256' AND retired_at IS NULL "
                       "LIMIT 1")
        self.assertAppSqlState("22023", "SELECT user_mgmt.public_key_pem(%s)", hs)
        self.assertAppSqlState("P0002", "SELECT user_mgmt.public_key_pem('no-such-key')")

    def test_keys_are_not_um_apps(self):
        keys_before = self.keys_snapshot()
        mine, mine_pem = new_ed25519()
        mine_der = pem_der(mine_pem)
        forbidden = [
            ("SELECT user_mgmt.rotate_signing_key('EdDSA')", ()),
            ("SELECT user_mgmt.rotate_signing_key('HS256')", ()),
            ("SELECT user_mgmt.rotate_signing_key(NULL::text)", ()),
            ("SELECT user_mgmt.rotate_signing_key()", ()),
            ("SELECT * FROM user_mgmt.new_signing_key_material('EdDSA')", ()),
            ("SELECT user_mgmt.import_signing_key('lp-mine', 'EdDSA', %s)", (mine_pem,)),
            ("SELECT user_mgmt.export_signing_key(%s)", (self.ed,)),
            ("SELECT user_mgmt.export_signing_key(%s)", (self.es,)),
            ("SELECT user_mgmt.export_signing_key()", ()),
            ("SELECT user_mgmt.retire_signing_key(%s)", (self.es,)),
            ("SELECT public_key FROM user_mgmt.signing_keys", ()),
            ("SELECT kid, algorithm FROM user_mgmt.signing_keys", ()),
            ("UPDATE user_mgmt.signing_keys SET algorithm = 'HS256', secret = public_key, public_key = NULL "
             "WHERE kid = %s", (self.es,)),
            ("UPDATE user_mgmt.signing_keys SET public_key = %s WHERE kid = %s", (mine_der, self.ed)),
            ("INSERT INTO user_mgmt.signing_keys (kid, algorithm, public_key) VALUES ('lp-mine', 'EdDSA', %s)",
             (mine_der,)),
        ]
        for query, args in forbidden:
            with self.subTest(query=query):
                self.assertAppSqlState("42501", query, *args)
        # granted EXECUTE, importing is still a superuser's
        self.su_q("GRANT EXECUTE ON FUNCTION user_mgmt.import_signing_key(text, text, text) TO um_app")
        try:
            e = self.assertAppSqlState("42501", "SELECT user_mgmt.import_signing_key('lp-mine', 'EdDSA', %s)",
                                       mine_pem)
            self.assertEqual(e.diag.message_primary, "only superusers may import signing keys")
        finally:
            self.su_q("REVOKE EXECUTE ON FUNCTION user_mgmt.import_signing_key(text, text, text) FROM um_app")
        self.assertEqual(self.keys_snapshot(), keys_before)
        # and tokens of its own key pair are nobody's
        sid = self.app_row("SELECT session_id::text FROM user_mgmt.sign_in('lp_alice', %s)", PW)[0]
        t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
        claims = {"sub": str(self.alice), "username": "lp_alice", "role": "ADMIN", "sid": sid,
                  "iat": t, "exp": t + 600}
        for kid in ("lp-mine", self.ed):
            tok = jwt.encode(claims, mine, algorithm="EdDSA", headers={"kid": kid})
            with self.subTest(kid=kid):
                self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", tok)
                self.assertAppSqlState("28000", "SELECT user_mgmt.set_session_token(%s)", tok)

    def test_no_algorithm_confusion(self):
        """What um_app can read (the JWKS, the PEMs, its own tokens) forges
        nothing: every crafted token names alice's live session and says
        ADMIN, and each is refused by verify_token, set_session_token and
        logout, leaving the session live."""
        access, _, sid = self.app_row("SELECT access_token, refresh_token, session_id::text "
                                      "FROM user_mgmt.sign_in('lp_alice', %s)", PW)
        self.assertEqual(jwt.get_unverified_header(access)["kid"], self.es)
        jwks = {k["kid"]: k for k in self.app_q("SELECT user_mgmt.jwks()")["keys"]}
        t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
        claims = {"sub": str(self.alice), "username": "lp_alice", "role": "ADMIN", "sid": sid,
                  "iat": t, "exp": t + 600}
        mismatch = []      # HS256 with a public key as its secret
        for kid in (self.ed, self.es):
            pem = self.app_q("SELECT user_mgmt.public_key_pem(%s)", kid)
            for secret in (pem.encode(), pem.strip().encode(), pem_der(pem), b64url_decode(jwks[kid]["x"]),
                           json.dumps(jwks[kid]).encode()):
                mismatch.append(hs256({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, secret))
            mismatch.append(hs256({"alg": "HS256", "typ": "JWT"}, claims, pem.encode()))  # the current key's
        # a real token of either key under the other algorithm, or HS256
        for tok, kid, others in ((self.ed_token, self.ed, ("ES256", "HS256")),
                                 (access, self.es, ("EdDSA", "HS256"))):
            for alg in others:
                mismatch.append(reheader(tok, {"alg": alg, "typ": "JWT", "kid": kid}))
        mismatch.append(reheader(self.ed_token, {"alg": "EdDSA", "typ": "JWT"}))  # no kid: the ES256 key's
        sig = b64url_decode(access.split(".")[2])
        other = [
            tampered(access, role="ADMIN"),
            access.rsplit(".", 1)[0] + "." + b64url(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                                                          int.from_bytes(sig[32:], "big"))),
            reheader(access, {"alg": "none", "typ": "JWT", "kid": self.es}),
            reheader(access, {"alg": "ES384", "typ": "JWT", "kid": self.es}),
            reheader(self.ed_token, {"alg": "Ed25519", "typ": "JWT", "kid": self.ed}),
            unsigned(claims),
        ]
        for tok in mismatch + other:
            for query in ("SELECT user_mgmt.verify_token(%s)", "SELECT user_mgmt.set_session_token(%s)",
                          "SELECT user_mgmt.logout(%s)"):
                with self.subTest(query=query, token=tok):
                    e = self.assertAppSqlState("28000", query, tok)
                    if tok in mismatch:
                        self.assertEqual(e.diag.message_primary, "token algorithm does not match its key")
        c = self.app_q("SELECT user_mgmt.verify_token(%s)", access)
        self.assertEqual((c["role"], c["sid"]), ("USER", sid), "a forged token ended or changed the session")


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

    def test_no_admin_token_through_sessions(self):
        """1.4: sign_in, refresh, logout and crafted tokens give a signed-up
        account no other role either."""
        if not self.su_q("SELECT to_regclass('user_mgmt.sessions') IS NOT NULL"):
            self.skipTest("the installed version has no sessions")
        admins = self.admins()
        tag = uuid.uuid4().hex[:6]
        name = "lp_s_" + tag
        uid = self.app_q("SELECT user_mgmt.sign_up(%s, %s, 'Signed Up')", name, PW)
        access, refresh, sid = self.row_on(self.app, "SELECT access_token, refresh_token, session_id::text "
                                                     "FROM user_mgmt.sign_in(%s, %s, 'ADMIN', '127.0.0.1')",
                                           name, PW)
        seen = [access]
        for _ in range(3):
            access, refresh, _sid = self.row_on(self.app, "SELECT access_token, refresh_token, session_id::text "
                                                          "FROM user_mgmt.refresh(%s)", refresh)
            seen.append(access)
        for tok in seen:
            c = self.app_q("SELECT user_mgmt.verify_token(%s)", tok)
            self.assertEqual((c["sub"], c["role"], c["sid"]), (str(uid), "USER", sid))
        with self.app.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT user_mgmt.set_session_token(%s)", (access,))
            cur.execute("SELECT user_mgmt.current_user_role()::text")
            self.assertEqual(cur.fetchone()[0], "USER")
            cur.execute("ROLLBACK")

        # an administrator's live session that um_app knows the id of only
        boss = "lp_boss_" + tag
        boss_id = self.su_q("SELECT user_mgmt.create_user(%s, %s, 'Boss', 'ADMIN')", boss, PW2)
        _, _, boss_sid = self.row_on(self.su, "SELECT access_token, refresh_token, session_id::text "
                                              "FROM user_mgmt.sign_in(%s, %s)", boss, PW2)
        kid = self.current_kid()
        t = int(self.su_q("SELECT floor(extract(epoch FROM now()))::bigint"))
        admin_claims = [{"sub": str(uid), "username": name, "role": "ADMIN", "sid": sid, "iat": t, "exp": t + 600},
                        {"sub": str(boss_id), "username": boss, "role": "ADMIN", "sid": boss_sid,
                         "iat": t, "exp": t + 600}]
        crafted = [tampered(access, role="ADMIN"),
                   tampered(access, role="ADMIN", sub=str(boss_id), sid=boss_sid)]
        for c in admin_claims:
            crafted += [jwt.encode(c, b"a guess at the key, 32 bytes...!", algorithm="HS256", headers={"kid": kid}),
                        jwt.encode(c, EVIL_SECRET, algorithm="HS256", headers={"kid": EVIL_KID}),
                        jwt.encode(c, EVIL_SECRET, algorithm="HS256"),
                        unsigned(c)]
        for tok in crafted:
            for query in ("SELECT user_mgmt.verify_token(%s)", "SELECT user_mgmt.set_session_token(%s)",
                          "SELECT user_mgmt.logout(%s)", "SELECT * FROM user_mgmt.refresh(%s)"):
                with self.subTest(query=query, token=tok):
                    self.assertAppSqlState("28000", query, tok)
        # the boss's session by what is not its refresh token
        sid_bytes = uuid.UUID(boss_sid).bytes
        for guess in (boss_sid, b64url(hashlib.sha256(sid_bytes).digest()), refresh[:-1] + "A",
                      b64url(sid_bytes * 2)[:43]):
            with self.subTest(refresh=guess):
                self.assertAppSqlState("28000", "SELECT * FROM user_mgmt.refresh(%s)", guess)
        # the boss's name, in another case, with um_app's password
        self.assertAppSqlState("28P01", "SELECT * FROM user_mgmt.sign_in(%s, %s)", boss.upper(), PW)
        self.assertAppSqlState("23505", "SELECT user_mgmt.sign_up(%s, %s, 'Boss')", boss.upper(), PW)
        # a username that is a JSON fragment stays the username
        inj = 'x","role":"ADMIN'
        try:
            inj_id = self.app_q("SELECT user_mgmt.sign_up(%s, %s, 'Injected')", inj, PW)
        except psycopg2.Error as e:
            self.assertEqual(e.pgcode, "22023", str(e))
        else:
            a = self.row_on(self.app, "SELECT access_token FROM user_mgmt.sign_in(%s, %s)", inj, PW)[0]
            c = self.app_q("SELECT user_mgmt.verify_token(%s)", a)
            self.assertEqual((c["sub"], c["username"], c["role"]), (str(inj_id), inj, "USER"))
            self.assertEqual(jwt.decode(a, options={"verify_signature": False})["role"], "USER")
            with self.app.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("SELECT user_mgmt.set_session_token(%s)", (a,))
                cur.execute("SELECT user_mgmt.current_user_role()::text")
                self.assertEqual(cur.fetchone()[0], "USER")
                cur.execute("ROLLBACK")

        # an ADMIN demoted: its refresh token gives no ADMIN token any more
        demoted = "lp_demoted_" + tag
        demoted_id = self.su_q("SELECT user_mgmt.create_user(%s, %s, 'Demoted', 'ADMIN')", demoted, PW)
        d_access, d_refresh, _ = self.row_on(self.app, "SELECT access_token, refresh_token, session_id::text "
                                                       "FROM user_mgmt.sign_in(%s, %s)", demoted, PW)
        self.assertEqual(self.app_q("SELECT user_mgmt.verify_token(%s) ->> 'role'", d_access), "ADMIN")
        self.su_q("SELECT user_mgmt.set_role(%s, 'USER')", demoted_id)
        e = self.assertAppSqlState("28000", "SELECT * FROM user_mgmt.refresh(%s)", d_refresh)
        self.assertEqual(e.diag.message_primary, "token's session has been revoked")
        self.assertAppSqlState("28000", "SELECT user_mgmt.verify_token(%s)", d_access)
        self.assertAppSqlState("28000", "SELECT user_mgmt.set_session_token(%s)", d_access)
        d_access = self.row_on(self.app, "SELECT access_token FROM user_mgmt.sign_in(%s, %s)", demoted, PW)[0]
        self.assertEqual(self.app_q("SELECT user_mgmt.verify_token(%s) ->> 'role'", d_access), "USER")

        self.assertEqual(self.admins(), admins + 1, "only the superuser's boss is a new non-USER account")
        self.assertEqual(self.su_q("SELECT role::text FROM user_mgmt.users WHERE id = %s", uid), "USER")


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
