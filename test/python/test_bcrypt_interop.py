#!/usr/bin/python3
"""bcrypt interoperability: user_mgmt vs Python's bcrypt vs pgcrypto.

Run: /usr/bin/python3 test/python/test_bcrypt_interop.py
(needs PGHOST/PGPORT/PGUSER of a cluster where user_mgmt is installed).
"""

import os
import sys
import unittest

import bcrypt
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_interop"

PASSWORDS = [
    "",
    "correct horse battery staple",
    "пароль Пользователь",           # Cyrillic: 2 bytes a letter in UTF-8
    "a" * 72,                         # exactly 72 bytes
    "п" * 36,                         # 72 bytes, 36 characters
    "tab\tand \"quotes\" and ' and \\ and €",
]


def wrong(pw):
    """A different password that differs within bcrypt's first 72 bytes
    (appending to a 72-byte password would not change it for bcrypt)."""
    return "x" + pw


def setUpModule():
    tap.create_test_db(DB, ("user_mgmt", "pgcrypto"))


def tearDownModule():
    tap.drop_test_db(DB)


class InteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = tap.connect(DB)
        cls.conn.autocommit = True

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def q(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0]

    def assertSqlState(self, code, query, *args):
        with self.assertRaises(psycopg2.Error) as ctx:
            self.q(query, *args)
        self.assertEqual(ctx.exception.pgcode, code,
                         "expected SQLSTATE %s, got %s: %s"
                         % (code, ctx.exception.pgcode, ctx.exception))
        return ctx.exception

    # --- our hashes, checked by Python's bcrypt --------------------------

    def test_python_accepts_our_hashes(self):
        for cost in (4, 5):
            for pw in PASSWORDS:
                with self.subTest(cost=cost, pw=pw):
                    h = self.q("SELECT user_mgmt.hash_password(%s, %s)", pw, cost)
                    self.assertEqual(len(h), 60)
                    self.assertTrue(h.startswith("$2b$%02d$" % cost), h)
                    self.assertTrue(bcrypt.checkpw(pw.encode(), h.encode()),
                                    "bcrypt.checkpw rejected %r for %r" % (h, pw))
                    self.assertFalse(bcrypt.checkpw(wrong(pw).encode(), h.encode()))
                    self.assertFalse(bcrypt.checkpw(b"wrong", h.encode()))

    def test_salts_are_random(self):
        hashes = {self.q("SELECT user_mgmt.hash_password('same', 4)") for _ in range(5)}
        self.assertEqual(len(hashes), 5)

    def test_default_cost_follows_guc(self):
        self.assertEqual(self.q("SELECT current_setting('user_mgmt.bcrypt_cost')"), "12")
        with self.conn.cursor() as cur:
            cur.execute("SET user_mgmt.bcrypt_cost = 5")
        try:
            h = self.q("SELECT user_mgmt.hash_password('guc')")
            self.assertTrue(h.startswith("$2b$05$"), h)
            self.assertTrue(bcrypt.checkpw(b"guc", h.encode()))
        finally:
            with self.conn.cursor() as cur:
                cur.execute("RESET user_mgmt.bcrypt_cost")

    def test_our_verify_accepts_our_hashes(self):
        for pw in PASSWORDS:
            with self.subTest(pw=pw):
                h = self.q("SELECT user_mgmt.hash_password(%s, 4)", pw)
                self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw, h), True)
                self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", wrong(pw), h), False)

    # --- foreign hashes, checked by verify_password ----------------------

    def test_verify_accepts_python_2a_2b_2y(self):
        for pw in PASSWORDS:
            for prefix in (b"2a", b"2b"):
                h = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4, prefix=prefix)).decode()
                variants = [h]
                if prefix == b"2b":
                    variants.append("$2y$" + h[4:])  # PHP's $2y$: same algorithm
                for hv in variants:
                    with self.subTest(pw=pw, hash=hv):
                        self.assertTrue(hv.startswith("$" + prefix.decode()) or hv.startswith("$2y$"))
                        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw, hv), True)
                        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", wrong(pw), hv), False)
                        self.assertIs(self.q("SELECT user_mgmt.verify_password('wrong', %s)", hv), False)
                        self.assertIs(self.q("SELECT user_mgmt.is_password_hash(%s)", hv), True)
                        self.assertEqual(self.q("SELECT user_mgmt.hash_cost(%s)", hv), 4)

    def test_verify_accepts_pgcrypto_hashes(self):
        for pw in PASSWORDS:
            with self.subTest(pw=pw):
                h = self.q("SELECT crypt(%s, gen_salt('bf', 4))", pw)
                self.assertTrue(h.startswith("$2a$04$"), h)
                self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw, h), True)
                self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", wrong(pw), h), False)
                # and pgcrypto agrees with Python about it
                self.assertTrue(bcrypt.checkpw(pw.encode(), h.encode()))

    def test_pgcrypto_accepts_our_hashes_relabelled_2a(self):
        # pgcrypto only knows $2a$; for passwords without 8-bit bytes (where
        # $2a$ and $2b$ agree) our hash relabelled $2a$ must verify there.
        pw = "correct horse battery staple"
        h = self.q("SELECT user_mgmt.hash_password(%s, 4)", pw)
        h2a = "$2a$" + h[4:]
        self.assertEqual(self.q("SELECT crypt(%s, %s)", pw, h2a), h2a)

    def test_73_bytes_python_hash_verifies_with_prefix(self):
        pw73 = "b" * 73
        # Debian's python3-bcrypt (3.2) truncates at 72 bytes, like every bcrypt.
        h = bcrypt.hashpw(pw73.encode(), bcrypt.gensalt(4)).decode()
        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw73, h), True)
        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw73[:72], h), True)
        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw73[:71], h), False)

    # --- errors ------------------------------------------------------------

    def test_hash_password_refuses_73_bytes(self):
        self.assertSqlState("22023", "SELECT user_mgmt.hash_password(%s, 4)", "a" * 73)
        # bytes, not characters: 37 Cyrillic letters are 74 bytes
        self.assertSqlState("22023", "SELECT user_mgmt.hash_password(%s, 4)", "п" * 37)
        self.assertSqlState("22023", "SELECT user_mgmt.hash_password(%s)", "п" * 36 + "x")

    def test_hash_password_refuses_bad_cost(self):
        for cost in (3, 32, -1, 0):
            with self.subTest(cost=cost):
                self.assertSqlState("22023", "SELECT user_mgmt.hash_password('x', %s)", cost)

    def test_malformed_hashes_raise_22023(self):
        good = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
        malformed = [
            "",
            "plaintext password",
            "$2x$" + good[4:],          # unknown variant
            "$2$04$" + good[7:],        # unsupported old variant
            "$1$saltsalt$abcdefghijklmnopqrstuv",  # md5crypt
            good[:-1],                  # too short
            good + "A",                 # too long
            "$2b$03$" + good[7:],       # cost below 4
            "$2b$32$" + good[7:],       # cost above 31
            "$2b$ab$" + good[7:],       # cost not a number
            "$2b$4$" + good[7:] + "A",  # one-digit cost
            good[:7] + "!" + good[8:],  # character outside bcrypt's base64
        ]
        for h in malformed:
            with self.subTest(hash=h):
                self.assertSqlState("22023", "SELECT user_mgmt.verify_password('pw', %s)", h)
                self.assertIs(self.q("SELECT user_mgmt.is_password_hash(%s)", h), False)

    # --- the pgcrypto bug this extension exists for -----------------------

    def test_pgcrypto_does_not_understand_2b(self):
        pw = "correct horse battery staple"
        h = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4, prefix=b"2b")).decode()
        try:
            result = self.q("SELECT crypt(%s, %s)", pw, h)
        except psycopg2.Error as e:  # an error is also "does not verify"
            result = "error %s: %s" % (e.pgcode, e)
        self.assertNotEqual(
            result, h,
            "pgcrypto's crypt() now verifies $2b$ hashes: the pgcrypto bug "
            "documented here is gone; update the docs and this test")
        # ... while user_mgmt verifies the very same hash.
        self.assertIs(self.q("SELECT user_mgmt.verify_password(%s, %s)", pw, h), True)


if __name__ == "__main__":
    tap.main()
