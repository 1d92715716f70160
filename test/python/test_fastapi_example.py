#!/usr/bin/python3
"""The tutorial's FastAPI app with login done by the database (issue 10,
part 2): examples/fastapi, in-process through FastAPI's TestClient (httpx),
on a real cluster, connected as an application role that has only the
grants of examples/fastapi/setup.sql (the README's "Least privilege").

Run: /usr/bin/python3 test/python/test_fastapi_example.py
(needs PGHOST/PGPORT/PGUSER of a superuser on a cluster started with
shared_preload_libraries = 'user_mgmt', and psql on PATH or in
/usr/lib/postgresql/15/bin; creates and drops the database um_test_fastapi
and the role um_test_fastapi_app).

What is proven, one class each: registration (201, a USER whatever the
body says, 409 for a duplicate in any letter case, 422 for the password
policy and bad names); the application role's privileges (it runs with
setup.sql's two grants and cannot read hashes or make an ADMIN); login
(OAuth2 form; 401 with one body for a wrong password, an unknown user and
a locked account; the lockout after 5 wrong passwords); /users/me with a
good, missing, malformed, tampered, expired and revoked token; the admin
route (403 for USER and CASHIER, 200 for ADMIN); refresh rotation and
reuse detection (401, the whole session ended); 55P03 -> 503 with
Retry-After; logout and logout_all (the token stops working at once).
"""

import os
import shutil
import subprocess
import sys
import time
import unittest

import psycopg2
from psycopg2 import sql

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(ROOT, "examples", "fastapi")

sys.path.insert(0, HERE)
import tap  # noqa: E402

DB = "um_test_fastapi"
APP_ROLE = "um_test_fastapi_app"
PW = "correct horse battery"
LOGIN_FAILED = {"detail": "Incorrect username or password"}
BAD_TOKEN = {"detail": "Could not validate credentials"}
REFRESH_RE = r"\A[A-Za-z0-9_-]{43}\Z"
WAIT = 10   # seconds: deadline of the one condition loop (a token expiring)

app = None
client = None


def execute(conn, query, args=None):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall() if cur.description else None


def scalar(conn, query, args=None):
    rows = execute(conn, query, args)
    return rows[0][0] if rows else None


def psql_binary():
    return shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"


def setUpModule():
    global app, client
    tap.drop_test_db(DB)
    admin = tap.connect("postgres")
    admin.autocommit = True
    try:
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP_ROLE)))
        execute(admin, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_ROLE)))
    finally:
        admin.close()
    tap.create_test_db(DB, extensions=())
    conn = tap.connect(DB)
    conn.autocommit = True
    try:
        execute(conn, sql.SQL("ALTER DATABASE {} SET user_mgmt.bcrypt_cost = 4")
                .format(sql.Identifier(DB)))
    finally:
        conn.close()
    # the example's own set-up script, as its README runs it
    proc = subprocess.run([psql_binary(), "-X", "-q", "-d", DB, "-v", "app_role=" + APP_ROLE,
                           "-f", os.path.join(EXAMPLE, "setup.sql")],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("setup.sql failed:\n" + proc.stdout + proc.stderr)

    os.environ["DATABASE_URL"] = tap.sqlalchemy_url("asyncpg", DB).set(
        username=APP_ROLE).render_as_string(hide_password=False)
    sys.path.insert(0, EXAMPLE)
    from fastapi.testclient import TestClient
    from main import app as example_app
    app = example_app
    client = TestClient(app)
    client.__enter__()      # startup; the app's engine lives in the client's event loop


def tearDownModule():
    if client is not None:
        client.__exit__(None, None, None)   # shutdown: engine.dispose()
    tap.drop_test_db(DB)    # WITH (FORCE): the login writer goes too
    admin = tap.connect("postgres")
    admin.autocommit = True
    try:
        execute(admin, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP_ROLE)))
    finally:
        admin.close()


class Base(unittest.TestCase):
    """A superuser connection (autocommit) beside the app, and helpers."""

    seq = 0

    @classmethod
    def setUpClass(cls):
        cls.db = tap.connect(DB)
        cls.db.autocommit = True

    @classmethod
    def tearDownClass(cls):
        cls.db.close()

    @classmethod
    def new_name(cls, prefix):
        Base.seq += 1
        return "%s%d" % (prefix, Base.seq)

    def register(self, username=None, password=PW, full_name="Ольга Смирнова", **extra):
        username = username or self.new_name("u")
        r = client.post("/users/register", json=dict(username=username, password=password,
                                                    full_name=full_name, **extra))
        return username, r

    def make_user(self, role="USER"):
        """A user of any role, made by the superuser (sign-up makes USERs only)."""
        name = self.new_name(role.lower())
        uid = scalar(self.db, "SELECT user_mgmt.create_user(%s, %s, %s, %s)",
                     (name, PW, "Иван Петров", role))
        return name, uid

    def login(self, username, password=PW):
        return client.post("/auth/login", data={"username": username, "password": password})

    def tokens(self, username, password=PW):
        r = self.login(username, password)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()

    def me(self, access_token):
        headers = {"Authorization": "Bearer " + access_token} if access_token is not None else {}
        return client.get("/users/me", headers=headers)

    def assert_bad_token(self, r):
        self.assertEqual((r.status_code, r.json()), (401, BAD_TOKEN), r.text)
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer")


class RegisterTest(Base):
    def test_register_makes_a_user(self):
        name, r = self.register(role="ADMIN")       # a role in the body is ignored
        self.assertEqual(r.status_code, 201, r.text)
        body = r.json()
        self.assertEqual((body["username"], body["role"], body["role_label"], body["full_name"]),
                         (name, "USER", "Пользователь", "Ольга Смирнова"))
        self.assertNotIn("hashed_password", body)
        self.assertEqual(scalar(self.db, "SELECT role::text FROM user_mgmt.users WHERE id = %s",
                                (body["id"],)), "USER")
        # the database hashed it
        self.assertTrue(scalar(self.db, "SELECT user_mgmt.verify_password(%s, hashed_password) "
                                        "FROM user_mgmt.users WHERE id = %s", (PW, body["id"])))

    def test_duplicate_is_409(self):
        name, r = self.register()
        self.assertEqual(r.status_code, 201)
        for other in (name, name.upper()):
            _, r = self.register(username=other)
            self.assertEqual((r.status_code, r.json()), (409, {"detail": "Username is already taken"}))

    def test_bad_input_is_422(self):
        cases = {
            "short password": dict(password="Qz7"),
            "password over 72 bytes": dict(password="я" * 37),
            "username too long": dict(username="x" * 21),
            "blank full name": dict(full_name="   "),
        }
        for what, kwargs in cases.items():
            with self.subTest(what):
                _, r = self.register(**kwargs)
                self.assertEqual(r.status_code, 422, r.text)
                detail = r.json()["detail"]
                self.assertIsInstance(detail, str)       # the database's own message
                self.assertNotIn(kwargs.get("password", PW), detail)


class PrivilegeTest(Base):
    """The app runs as a role with setup.sql's grants and no more."""

    def test_app_role_privileges(self):
        rows = execute(self.db, """
            SELECT has_function_privilege(%(r)s, 'user_mgmt.sign_up(text,text,text)', 'EXECUTE'),
                   has_table_privilege(%(r)s, 'user_mgmt.accounts', 'SELECT'),
                   has_table_privilege(%(r)s, 'user_mgmt.users', 'SELECT'),
                   has_table_privilege(%(r)s, 'user_mgmt.sessions', 'SELECT'),
                   has_function_privilege(%(r)s,
                       'user_mgmt.create_user(text,text,text,user_mgmt.role)', 'EXECUTE'),
                   has_function_privilege(%(r)s, 'user_mgmt.set_role(integer,user_mgmt.role)',
                                          'EXECUTE'),
                   (SELECT rolsuper FROM pg_roles WHERE rolname = %(r)s)""", {"r": APP_ROLE})
        self.assertEqual(rows, [(True, True, False, False, False, False, False)])

    def test_app_connects_as_that_role(self):
        from database import engine
        self.assertEqual(engine.url.username, APP_ROLE)
        self.assertTrue(engine.sync_engine.hide_parameters)


class LoginTest(Base):
    def test_login_returns_bearer_and_refresh_token(self):
        name, r = self.register()
        uid = r.json()["id"]
        t = self.tokens(name)
        self.assertEqual(t["token_type"], "bearer")
        self.assertRegex(t["refresh_token"], REFRESH_RE)
        claims = scalar(self.db, "SELECT user_mgmt.verify_token(%s)", (t["access_token"],))
        self.assertEqual((claims["sub"], claims["username"], claims["role"], claims["sid"]),
                         (str(uid), name, "USER", t["session_id"]))

    def test_wrong_password_and_unknown_user_look_the_same(self):
        name, _ = self.register()
        wrong = self.login(name, "wrong password")
        unknown = self.login(self.new_name("nobody"), PW)
        for r in (wrong, unknown):
            self.assertEqual((r.status_code, r.json()), (401, LOGIN_FAILED))
            self.assertEqual(r.headers.get("www-authenticate"), "Bearer")
        self.assertEqual(dict(wrong.headers), dict(unknown.headers))

    def test_lockout_after_five_wrong_passwords_is_still_401(self):
        name, r = self.register()
        uid = r.json()["id"]
        for _ in range(5):
            r = self.login(name, "wrong password")
            self.assertEqual((r.status_code, r.json()), (401, LOGIN_FAILED))
        r = self.login(name, PW)     # the right password, but locked
        self.assertEqual((r.status_code, r.json()), (401, LOGIN_FAILED))
        self.assertIsNotNone(scalar(self.db, "SELECT locked_until FROM user_mgmt.accounts "
                                             "WHERE id = %s", (uid,)))
        execute(self.db, "SELECT user_mgmt.await_login_writer()")
        events = execute(self.db, "SELECT event, coalesce(detail, '') FROM user_mgmt.auth_events "
                                  "WHERE user_id = %s ORDER BY id", (uid,))
        self.assertEqual(events[-7:], [("login_failed", "wrong_password")] * 5
                         + [("locked", ""), ("login_failed", "locked")])
        execute(self.db, "SELECT user_mgmt.unlock_user(%s)", (uid,))
        self.assertEqual(self.login(name, PW).status_code, 200)


class MeTest(Base):
    def test_me_with_token(self):
        name, r = self.register()
        t = self.tokens(name)
        r = self.me(t["access_token"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual((r.json()["username"], r.json()["role"]), (name, "USER"))
        self.assertIsNotNone(r.json()["last_login_at"])

    def test_me_without_or_with_bad_token(self):
        r = self.me(None)
        self.assertEqual(r.status_code, 401)
        self.assert_bad_token(self.me("not.a.token"))
        name, _ = self.register()
        token = self.tokens(name)["access_token"]
        head, payload, sig = token.split(".")
        self.assert_bad_token(self.me(".".join((head, payload, sig[:-2] + ("AA" if sig[-2:] != "AA"
                                                                             else "BB")))))

    def test_expired_token(self):
        name, uid = self.make_user()
        token = scalar(self.db, "SELECT user_mgmt.issue_token(%s, interval '1 second')", (uid,))
        self.assertEqual(self.me(token).status_code, 200)
        deadline = time.monotonic() + WAIT
        while True:
            try:
                execute(self.db, "SELECT user_mgmt.verify_token(%s)", (token,))
            except psycopg2.Error as e:
                self.assertEqual((e.pgcode, e.diag.message_primary), ("28000", "token has expired"))
                break
            self.assertLess(time.monotonic(), deadline, "the token did not expire")
            time.sleep(0.1)
        self.assert_bad_token(self.me(token))

    def test_revoked_token(self):
        name, r = self.register()
        uid = r.json()["id"]
        t = self.tokens(name)
        self.assertEqual(self.me(t["access_token"]).status_code, 200)
        execute(self.db, "SELECT user_mgmt.revoke_session(%s)", (t["session_id"],))
        self.assert_bad_token(self.me(t["access_token"]))
        # an account change (here the role) ends its sessions too
        t = self.tokens(name)
        execute(self.db, "SELECT user_mgmt.set_role(%s, 'CASHIER')", (uid,))
        self.assert_bad_token(self.me(t["access_token"]))


class AdminTest(Base):
    def test_admin_route_by_role(self):
        user, _ = self.register()
        cashier, _ = self.make_user("CASHIER")
        admin, admin_id = self.make_user("ADMIN")
        for name in (user, cashier):
            r = client.get("/admin/users",
                           headers={"Authorization": "Bearer " + self.tokens(name)["access_token"]})
            self.assertEqual((r.status_code, r.json()), (403, {"detail": "Administrators only"}))
        r = client.get("/admin/users",
                       headers={"Authorization": "Bearer " + self.tokens(admin)["access_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        listed = {u["username"]: u for u in r.json()}
        self.assertTrue({user, cashier, admin} <= set(listed))
        self.assertEqual((listed[admin]["role"], listed[admin]["role_label"]), ("ADMIN", "Администратор"))
        self.assertTrue(all("hashed_password" not in u for u in r.json()))
        # the role is the session's, asked again: a demoted admin is refused
        token = self.tokens(admin)["access_token"]
        execute(self.db, "SELECT user_mgmt.set_role(%s, 'USER')", (admin_id,))
        self.assert_bad_token(client.get("/admin/users", headers={"Authorization": "Bearer " + token}))
        r = client.get("/admin/users",
                       headers={"Authorization": "Bearer " + self.tokens(admin)["access_token"]})
        self.assertEqual(r.status_code, 403)


class RefreshTest(Base):
    def refresh(self, refresh_token):
        return client.post("/auth/refresh", json={"refresh_token": refresh_token})

    def test_rotation_and_reuse(self):
        name, _ = self.register()
        t1 = self.tokens(name)
        r = self.refresh(t1["refresh_token"])
        self.assertEqual(r.status_code, 200, r.text)
        t2 = r.json()
        self.assertNotEqual(t2["refresh_token"], t1["refresh_token"])
        self.assertNotEqual(t2["access_token"], t1["access_token"])
        self.assertEqual(t2["session_id"], t1["session_id"])
        self.assertEqual(self.me(t2["access_token"]).status_code, 200)
        t3 = self.refresh(t2["refresh_token"]).json()
        # the first refresh token again: reuse, the whole session ends
        self.assert_bad_token(self.refresh(t1["refresh_token"]))
        for access in (t1["access_token"], t2["access_token"], t3["access_token"]):
            self.assert_bad_token(self.me(access))
        self.assert_bad_token(self.refresh(t3["refresh_token"]))
        self.assertEqual(scalar(self.db, "SELECT revoke_reason FROM user_mgmt.sessions WHERE id = %s",
                                (t1["session_id"],)), "refresh_token_reused")

    def test_unknown_refresh_token(self):
        self.assert_bad_token(self.refresh("A" * 43))
        self.assert_bad_token(self.refresh("junk"))

    def test_busy_session_is_503_with_retry_after(self):
        name, r = self.register()
        uid = r.json()["id"]
        t = self.tokens(name)
        other = tap.connect(DB)     # an account change in flight
        try:
            execute(other, "SELECT user_mgmt.set_role(%s, 'CASHIER')", (uid,))
            r = self.refresh(t["refresh_token"])
            self.assertEqual(r.status_code, 503, r.text)
            self.assertEqual(r.headers.get("retry-after"), "1")
        finally:
            other.rollback()        # the change never happened
            other.close()
        r = self.refresh(t["refresh_token"])
        self.assertEqual(r.status_code, 200, r.text)


class LogoutTest(Base):
    def test_logout_ends_the_session(self):
        name, _ = self.register()
        t = self.tokens(name)
        headers = {"Authorization": "Bearer " + t["access_token"]}
        r = client.post("/auth/logout", headers=headers)
        self.assertEqual(r.status_code, 204, r.text)
        self.assert_bad_token(self.me(t["access_token"]))
        self.assert_bad_token(client.post("/auth/refresh", json={"refresh_token": t["refresh_token"]}))
        self.assertEqual(client.post("/auth/logout", headers=headers).status_code, 204)  # idempotent
        self.assertEqual(scalar(self.db, "SELECT revoke_reason FROM user_mgmt.sessions WHERE id = %s",
                                (t["session_id"],)), "logout")

    def test_logout_needs_a_token(self):
        self.assertEqual(client.post("/auth/logout").status_code, 401)
        self.assert_bad_token(client.post("/auth/logout", headers={"Authorization": "Bearer x.y.z"}))

    def test_logout_all(self):
        name, _ = self.register()
        t1, t2 = self.tokens(name), self.tokens(name)
        r = client.post("/auth/logout_all", headers={"Authorization": "Bearer " + t1["access_token"]})
        self.assertEqual((r.status_code, r.json()), (200, {"sessions_ended": 2}))
        for t in (t1, t2):
            self.assert_bad_token(self.me(t["access_token"]))


if __name__ == "__main__":
    tap.main()
