"""Tiny TAP output for unittest, plus the database fixture of the python suites.

Each test file ends with ``tap.main()``; it prints one TAP line per test
(``ok N - Class.test`` / ``not ok N - Class.test`` with the traceback as
``# `` comments), the plan ``1..N`` at the end, and exits non-zero when a test
failed.  Connections use libpq's PGHOST/PGPORT/PGUSER environment variables.
"""

import os
import sys
import unittest

import psycopg2
from psycopg2 import sql


def _comment(text, stream):
    for line in str(text).rstrip("\n").splitlines():
        stream.write("# " + line + "\n")


def _name(test):
    case = getattr(test, "test_case", None)  # a subtest
    if case is not None:
        return "%s %s" % (_name(case), test._subDescription())
    if isinstance(test, unittest.TestCase):
        return "%s.%s" % (type(test).__name__, test._testMethodName)
    return str(test)  # e.g. "setUpClass (test_x.Class)"


class TAPResult(unittest.TestResult):
    """Writes a TAP line as soon as each test finishes."""

    def __init__(self, stream=None, descriptions=None, verbosity=0):
        super().__init__(stream, descriptions, verbosity)
        self.out = stream or sys.stdout
        self.count = 0

    def _line(self, ok, test, directive="", details=None):
        self.count += 1
        line = "%s %d - %s" % ("ok" if ok else "not ok", self.count, _name(test))
        if directive:
            line += " # " + directive
        self.out.write(line + "\n")
        if details:
            _comment(details, self.out)
        self.out.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, details=self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, details=self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, directive="SKIP " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line(False, test, directive="TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(False, test, details="unexpected success")

    def addSubTest(self, test, subtest, err):
        # A failing subtest is reported on its own line; passing ones are
        # covered by the test's own line.
        if err is not None:
            super().addSubTest(test, subtest, err)
            kind = self.failures if issubclass(err[0], test.failureException) else self.errors
            self._line(False, subtest, details=kind[-1][1])


class TAPRunner:
    """unittest runner for unittest.main(testRunner=...)."""

    def __init__(self, stream=None, **_ignored):
        self.stream = stream if hasattr(stream, "write") else sys.stdout

    def run(self, test):
        result = TAPResult(self.stream)
        test(result)
        self.stream.write("1..%d\n" % result.count)
        self.stream.flush()
        return result


def main():
    """Run the calling module's tests with TAP output; exits with status."""
    unittest.main(module="__main__", testRunner=TAPRunner(sys.stdout), verbosity=0)


# --- database fixture ------------------------------------------------------

def connect(dbname="postgres", **kwargs):
    """A psycopg2 connection through PGHOST/PGPORT/PGUSER (libpq env)."""
    kwargs.setdefault("application_name", "um_python_tests")
    return psycopg2.connect(dbname=dbname, **kwargs)


def create_test_db(name, extensions=("user_mgmt",)):
    """(Re)creates database `name` with the given extensions in it; an
    extension is a name or a (name, version) pair."""
    drop_test_db(name)
    admin = connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                        .format(sql.Identifier(name)))
    finally:
        admin.close()
    conn = connect(name)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for ext in extensions:
                ext, version = (ext, None) if isinstance(ext, str) else ext
                stmt = sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(ext))
                if version is not None:
                    stmt += sql.SQL(" VERSION {}").format(sql.Literal(version))
                cur.execute(stmt)
    finally:
        conn.close()


def drop_test_db(name):
    admin = connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                        .format(sql.Identifier(name)))
    finally:
        admin.close()


def sqlalchemy_url(driver, dbname):
    """SQLAlchemy URL for PGHOST/PGPORT/PGUSER; a PGHOST path is a socket dir."""
    from sqlalchemy.engine import URL

    host = os.environ.get("PGHOST", "")
    port = os.environ.get("PGPORT")
    query = {}
    if host.startswith("/"):
        query["host"] = host
        host = None
    return URL.create(
        "postgresql+" + driver,
        username=os.environ.get("PGUSER", "postgres"),
        host=host or None,
        port=int(port) if port else None,
        database=dbname,
        query=query,
    )
