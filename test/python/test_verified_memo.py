#!/usr/bin/python3
"""The last token a backend verified is remembered (src/tokens.c): the memo
must never outlive a change of the keys, even one whose invalidation the
backend takes in half-way through the verification that fills the memo.

The verifying backend is held inside its session lookup (another
connection holds an ACCESS EXCLUSIVE lock on user_mgmt.sessions) while a
third retires the token's key; once released, that first verification may
succeed (it began before the retirement), but no later one may, in that
backend or any other.  Found by the load suite (test/load/).
"""

import os
import sys
import threading
import time
import unittest

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_verified_memo"
DEADLINE = 20.0


def one(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        row = cur.fetchone() if cur.description else None
        return None if row is None else row[0]


def verdict(conn, token):
    try:
        one(conn, "SELECT user_mgmt.verify_token(%s) ->> 'sid'", token)
        return "verifies"
    except psycopg2.Error as e:
        return e.diag.message_primary


def connect():
    conn = tap.connect(DB)
    conn.autocommit = True
    return conn


class VerifiedMemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tap.create_test_db(DB)
        cls.admin = connect()
        one(cls.admin, "SET user_mgmt.bcrypt_cost = 4")
        one(cls.admin, "SELECT user_mgmt.create_user('memo', 'memo password', 'Memo')")

    @classmethod
    def tearDownClass(cls):
        one(cls.admin, "SELECT user_mgmt.stop_login_writer()")
        cls.admin.close()
        tap.drop_test_db(DB)

    def wait_until_blocked(self, pid):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if one(self.admin, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                   pid):
                return
            time.sleep(0.01)  # poll interval of a condition loop
        self.fail("the verification never waited for the lock")

    def test_a_key_retired_mid_verification_is_not_remembered(self):
        for algorithm in ("HS256", "EdDSA"):
            with self.subTest(algorithm=algorithm):
                kid = one(self.admin, "SELECT user_mgmt.rotate_signing_key(%s)", algorithm)
                token = one(self.admin, "SELECT access_token FROM user_mgmt.sign_in('memo', 'memo password')")
                one(self.admin, "SELECT user_mgmt.rotate_signing_key(%s)", algorithm)  # kid stops signing
                verifier, locker = connect(), connect()
                try:
                    pid = one(verifier, "SELECT pg_backend_pid()")
                    locker.autocommit = False
                    one(locker, "LOCK TABLE user_mgmt.sessions IN ACCESS EXCLUSIVE MODE")
                    first = {}
                    t = threading.Thread(target=lambda: first.update(v=verdict(verifier, token)))
                    t.start()
                    self.wait_until_blocked(pid)
                    one(self.admin, "SELECT user_mgmt.retire_signing_key(%s)", kid)
                    locker.rollback()
                    t.join(DEADLINE)
                    self.assertFalse(t.is_alive())
                    self.assertIn(first["v"], ("verifies", "token has an unknown key id"))
                    self.assertEqual(verdict(verifier, token), "token has an unknown key id",
                                     "the same backend, right after")
                    verifier.autocommit = False
                    self.assertEqual(verdict(verifier, token), "token has an unknown key id",
                                     "the same backend, in a transaction")
                    verifier.rollback()
                    fresh = connect()
                    self.assertEqual(verdict(fresh, token), "token has an unknown key id", "another backend")
                    fresh.close()
                finally:
                    verifier.close()
                    locker.close()

    def test_the_memo_answers_while_nothing_changed(self):
        token = one(self.admin, "SELECT access_token FROM user_mgmt.sign_in('memo', 'memo password')")
        conn = connect()
        try:
            self.assertEqual([verdict(conn, token) for _ in range(3)], ["verifies"] * 3)
            one(self.admin, "SELECT user_mgmt.logout(%s)", token)
            self.assertEqual(verdict(conn, token), "token's session has been revoked")
        finally:
            conn.close()


if __name__ == "__main__":
    tap.main()
