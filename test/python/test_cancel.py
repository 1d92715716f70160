#!/usr/bin/python3
"""Long bcrypt computations obey statement_timeout and pg_cancel_backend.

Run: /usr/bin/python3 test/python/test_cancel.py
(needs PGHOST/PGPORT/PGUSER of a cluster where user_mgmt is installed).

A cost-20 bcrypt takes about a minute; if the C code never checks for
interrupts, these calls run to completion and the tests fail.  No timing is
asserted: the tests only wait for conditions (the statement visibly inside
the function call) and check the error code.
"""

import os
import sys
import threading
import time
import unittest

import bcrypt
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_cancel"
LOCK_KEY = 424242

# A well-formed cost-20 hash (the digest is simply wrong for any password,
# so verify_password must compute all 2^20 rounds before answering false).
HASH20 = "$2b$20$" + bcrypt.hashpw(b"x", bcrypt.gensalt(4)).decode()[7:]


def setUpModule():
    tap.create_test_db(DB)


def tearDownModule():
    tap.drop_test_db(DB)


class CancelTest(unittest.TestCase):
    def setUp(self):
        self.conn = tap.connect(DB)
        self.conn.autocommit = True

    def tearDown(self):
        self.conn.close()

    def assert_usable(self, conn):
        with conn.cursor() as cur:
            cur.execute("SELECT user_mgmt.verify_password('a', user_mgmt.hash_password('a', 4))")
            self.assertIs(cur.fetchone()[0], True)

    def test_statement_timeout(self):
        for query, args in (("SELECT user_mgmt.hash_password('x', 20)", ()),
                            ("SELECT user_mgmt.verify_password('x', %s)", (HASH20,))):
            with self.subTest(query=query):
                with self.conn.cursor() as cur:
                    cur.execute("SET statement_timeout = '200ms'")
                    try:
                        with self.assertRaises(psycopg2.Error) as ctx:
                            cur.execute(query, args)
                        self.assertEqual(ctx.exception.pgcode, "57014", str(ctx.exception))
                        self.assertIn("statement timeout", str(ctx.exception))
                    finally:
                        cur.execute("RESET statement_timeout")
                self.assert_usable(self.conn)

    def _cancel_running(self, call, args):
        """Runs `call` in a thread on self.conn, cancels it once it is inside
        the call, and returns the exception the thread got (or None)."""
        outcome = {}
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]

        # The subquery (OFFSET 0 keeps it a separate plan node) takes a
        # transaction advisory lock and only then does the outer projection
        # call the function: once pg_locks shows the lock, the backend is
        # inside (or a few instructions before) the bcrypt computation, past
        # parsing and planning, so only the function's own interrupt checks
        # can end it early.  The arguments come from the subquery, so the
        # planner cannot fold the (immutable) call into a constant at plan
        # time, before the lock.
        query = ("SELECT %s FROM (SELECT %%s::text AS a1, %%s::text AS a2, "
                 "pg_advisory_xact_lock(%d) OFFSET 0) AS started" % (call, LOCK_KEY))

        def worker():
            try:
                with self.conn.cursor() as cur:
                    cur.execute(query, args)
                    outcome["result"] = cur.fetchone()[0]
            except Exception as e:  # noqa: BLE001 - reported to the main thread
                outcome["error"] = e

        other = tap.connect(DB)
        other.autocommit = True
        try:
            t = threading.Thread(target=worker, daemon=True)
            t.start()
            inside = False
            with other.cursor() as cur:
                while t.is_alive():  # condition wait: poll the catalogs
                    cur.execute("""
                        SELECT a.state = 'active' AND EXISTS (
                            SELECT FROM pg_locks l
                            WHERE l.pid = a.pid AND l.locktype = 'advisory'
                              AND l.objid = %s AND l.granted)
                        FROM pg_stat_activity a WHERE a.pid = %s""", (LOCK_KEY, pid))
                    row = cur.fetchone()
                    if row and row[0]:
                        inside = True
                        break
                    time.sleep(0.005)
                self.assertTrue(inside, "the statement ended before it was seen running: %r"
                                % outcome)
                cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
                self.assertIs(cur.fetchone()[0], True)
            t.join()
        finally:
            other.close()
        self.assertNotIn("result", outcome,
                         "the call ran to completion instead of being cancelled")
        return outcome.get("error")

    def test_cancel_hash_password(self):
        err = self._cancel_running("user_mgmt.hash_password(a1, a2::int)", ("x", "20"))
        self.assertIsInstance(err, psycopg2.Error)
        self.assertEqual(err.pgcode, "57014", str(err))
        self.assertIn("user request", str(err))
        self.assert_usable(self.conn)

    def test_cancel_verify_password(self):
        err = self._cancel_running("user_mgmt.verify_password(a1, a2)", ("x", HASH20))
        self.assertIsInstance(err, psycopg2.Error)
        self.assertEqual(err.pgcode, "57014", str(err))
        self.assertIn("user request", str(err))
        self.assert_usable(self.conn)


if __name__ == "__main__":
    tap.main()
