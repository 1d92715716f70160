#!/usr/bin/python3
"""Crash tests of user_mgmt (TAP): the load of test/load/load.py, and in
the middle of it one crash, then recovery, more load, and the ledger's
checks.

    /usr/bin/python3 test/load/crash.py backend     kill -9 of a client backend
    /usr/bin/python3 test/load/crash.py writer      kill -9 of the login writer
    /usr/bin/python3 test/load/crash.py immediate   pg_ctl stop -m immediate, then start

Each kill -9 makes the postmaster end every backend and run crash recovery
(restart_after_crash); the immediate stop leaves the same state on disk,
and the test starts the server again.  Needs a throwaway cluster of its own
(UM_CLUSTER_DIR, PGHOST/PGPORT/PGUSER from scripts/lib/cluster.sh; run as
root or as the postgres OS user): test/load/run.sh starts one per test.
The test sets synchronous_commit = on (ALTER SYSTEM): the throwaway
cluster turns it off for speed, and with it off PostgreSQL itself may lose
the last commits it acknowledged in a crash (not a property of the
extension).

Environment: UM_LOAD_CLIENTS (default 16), UM_CRASH_SECONDS (load time
around the crash, default 10), UM_LOAD_SEED, UM_LOAD_BCRYPT_COST.

Clients cope with the lost connection: the call in flight gets the outcome
'unknown' (its effects must be all there or all absent, never half), and
they reconnect (polling, with a deadline) and carry on.  After the load:
every check of load.py, with unknown outcomes checked both ways and the
charges of checks in flight at the crash counted as failures (README: a
check killed half-way stays a failure; the next writer turns them into
failures without an audit row); and the caches after the restart: a token
logged out before the crash stays refused, a live one verifies and its
refresh token works, a token of a key retired before the crash stays
refused, jwks() has no retired key, and a key rotated after the restart
signs the next token.
"""

import os
import signal
import subprocess
import sys

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402
from load import connect, now, q, q_all, verify  # noqa: E402

PG_BIN = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
PROBE_PW = "probe password 1"
KINDS = ("backend", "writer", "immediate")


def as_postgres(*cmd):
    if os.geteuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--") + cmd
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)


def wait_for(what, condition, timeout):
    """Polls condition() until it returns a true value; None on timeout."""
    deadline = now() + timeout
    while True:
        try:
            value = condition()
        except psycopg2.Error:
            value = None
        if value:
            return value
        if now() > deadline:
            return None
        load.time.sleep(0.05)   # poll interval of a condition loop


def server_up():
    try:
        c = connect("postgres", app="um_load_crash")
    except psycopg2.Error:
        return False
    try:
        return q(c, "SELECT NOT pg_is_in_recovery()")
    finally:
        c.close()


def log_lines():
    path = os.path.join(os.environ["UM_CLUSTER_DIR"], "postgresql.log")
    with open(path, errors="replace") as f:
        return f.read().splitlines()


class Probes:
    """Tokens and keys whose fate is decided before the crash."""

    def __init__(self, tap):
        self.tap = tap

    def before(self):
        c = connect(app="um_load_probe")
        c.autocommit = True
        self.conn = c           # stays open: it dies with the crash
        uid = q(c, "SELECT user_mgmt.create_user(%s, %s, %s)", load.PROBE_PREFIX + "_user",
                PROBE_PW, "Probe")
        self.uid = uid

        def sign_in():
            return q_all(c, "SELECT access_token, refresh_token FROM user_mgmt.sign_in(%s, %s)",
                         load.PROBE_PREFIX + "_user", PROBE_PW)[0]
        self.live = sign_in()
        self.out = sign_in()
        q(c, "SELECT user_mgmt.logout(%s)", self.out[0])
        self.kid_e = q(c, "SELECT user_mgmt.rotate_signing_key('EdDSA')")
        self.retired = sign_in()
        self.kid_s = q(c, "SELECT user_mgmt.rotate_signing_key('ES256')")
        self.es = sign_in()
        pre = [verify(c, self.live[0])[0], verify(c, self.retired[0])[0], verify(c, self.es[0])[0]]
        q(c, "SELECT user_mgmt.retire_signing_key(%s)", self.kid_e)
        problems = []
        if pre != [True, True, True]:
            problems.append("before the retirement, the tokens verify: %s" % pre)
        for name, token, want in (("live", self.live, True), ("logged out", self.out, False),
                                  ("retired key", self.retired, False), ("ES256", self.es, True)):
            ok, _ = verify(c, token[0])
            if ok != want:
                problems.append("%s token: verifies %s before the crash" % (name, ok))
        self.tap.check(not problems, "probes set up: a live session, a logged-out one, a token of "
                       "an EdDSA key then retired, an ES256 token (cached in a backend)", problems)

    def after(self):
        c = connect(app="um_load_probe")
        c.autocommit = True
        problems = []
        expect = (("live", self.live, True, None),
                  ("logged out", self.out, False, "token's session has been revoked"),
                  ("retired key", self.retired, False, "token has an unknown key id"),
                  ("ES256", self.es, True, None))
        for name, token, want, message in expect:
            ok, got = verify(c, token[0])
            if ok != want or (message and got != message):
                problems.append("%s token after the restart: %s" % (name, got))
        try:
            q_all(c, "SELECT * FROM user_mgmt.refresh(%s)", self.live[1])
        except psycopg2.Error as e:
            problems.append("live session's refresh token: %s %s" % (e.pgcode, e.diag.message_primary))
        try:
            q_all(c, "SELECT * FROM user_mgmt.refresh(%s)", self.out[1])
            problems.append("the logged-out session's refresh token refreshed")
        except psycopg2.Error as e:
            if e.pgcode != "28000":
                problems.append("logged-out refresh: %s" % e.pgcode)
        jwks = q(c, "SELECT user_mgmt.jwks()")
        kids = {k["kid"] for k in jwks["keys"]}
        if self.kid_e in kids:
            problems.append("the retired EdDSA key is still in jwks()")
        if q(c, "SELECT retired_at IS NULL FROM user_mgmt.signing_keys WHERE kid = %s", self.kid_e):
            problems.append("the retired key is no longer retired")
        new_kid = q(c, "SELECT user_mgmt.rotate_signing_key('EdDSA')")
        access = q_all(c, "SELECT access_token FROM user_mgmt.sign_in(%s, %s)",
                       load.PROBE_PREFIX + "_user", PROBE_PW)[0][0]
        head = load.token_parts(access)[0]
        if head.get("kid") != new_kid or head.get("alg") != "EdDSA":
            problems.append("after rotate_signing_key('EdDSA') a token is signed by %r" % head)
        ok, got = verify(c, access)
        if not ok:
            problems.append("the new key's token is refused: %s" % got)
        if new_kid not in {k["kid"] for k in q(c, "SELECT user_mgmt.jwks()")["keys"]}:
            problems.append("the new key is not in jwks()")
        c.close()
        self.tap.check(not problems, "after the restart: the logged-out token stays refused, the "
                       "live one verifies and refreshes, the retired key stays retired (and out of "
                       "jwks()), a key rotated now signs the next token", problems)


def pick_pid(kind):
    c = connect("postgres", app="um_load_crash")
    c.autocommit = True
    try:
        if kind == "writer":
            rows = q_all(c, "SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                            "backend_type = 'user_mgmt login writer'", load.DB)
        else:
            rows = q_all(c, "SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                            "backend_type = 'client backend' AND application_name LIKE 'load-c%%' "
                            "AND state = 'active'", load.DB)
        return load.random.choice(rows)[0] if rows else None
    finally:
        c.close()


def crash(kind, tap):
    """Crashes the server; returns a description, or None when it failed."""
    if kind in ("backend", "writer"):
        pid = wait_for("a %s to kill" % kind, lambda: pick_pid(kind), 20)
        if pid is None:
            return None
        os.kill(pid, signal.SIGKILL)
        return "kill -9 of %s %d" % ("the login writer" if kind == "writer" else "client backend", pid)
    data = os.path.join(os.environ["UM_CLUSTER_DIR"], "data")
    r = as_postgres(os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
    if r.returncode != 0:
        tap.comment(r.stdout)
        return None
    r = as_postgres(os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-w", "-t", "60",
                    "-l", os.path.join(os.environ["UM_CLUSTER_DIR"], "postgresql.log"),
                    "-o", "-p %s" % os.environ["PGPORT"], "start")
    if r.returncode != 0:
        tap.comment(r.stdout)
        return None
    return "pg_ctl stop -m immediate, then start"


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in KINDS:
        print("usage: crash.py %s" % "|".join(KINDS), file=sys.stderr)
        return 2
    clients = load.env_int("UM_LOAD_CLIENTS", 16)
    seconds = load.env_float("UM_CRASH_SECONDS", 10)
    cost = load.env_int("UM_LOAD_BCRYPT_COST", 4)
    seed = os.environ.get("UM_LOAD_SEED") or str(load.random.randrange(1 << 30))
    tap = load.Tap("crash/" + kind)
    tap.comment("seed %s (UM_LOAD_SEED), %d clients, %.0f s" % (seed, clients, seconds))

    c = connect("postgres")
    c.autocommit = True
    q(c, "ALTER SYSTEM SET synchronous_commit = on")
    q(c, "SELECT pg_reload_conf()")
    c.close()
    load.setup_database(cost, seconds)
    probes = Probes(tap)
    probes.before()
    c = connect()
    c.autocommit = True
    writer_before = q(c, "SELECT writer_pid FROM user_mgmt.login_statistics()")
    c.close()
    log_start = len(log_lines())

    wl = load.Workload(clients, seconds, int(seed), crash_mode=True)
    wl.start()
    # Crash once the load is going: sessions open, the writer busy.
    going = wait_for("the load to be going", lambda: (now() - wl.started >= 0.4 * seconds
                                                     and len(wl.ledger.sessions) >= 10), seconds)
    t_crash = now()
    what = crash(kind, tap) if going else None
    up = what is not None and wait_for("the server to accept connections", server_up, 90)
    t_up = now()
    tap.check(bool(what) and bool(up), "crash during the load (%s) and recovery, %.1f s into the "
              "load; the server accepts connections again after %.1f s"
              % (what, t_crash - wl.started, t_up - t_crash))
    leftover = wl.join()
    fig = load.figures(wl)
    load.report_workload(tap, wl, fig)

    log = log_lines()[log_start:]
    marks = ["automatic recovery in progress"]
    if kind != "immediate":
        marks.append("terminated by signal 9")
    missing = [m for m in marks if not any(m in line for line in log)]
    lost = [w.name for w in wl.workers if w.lost_calls == 0 and w.generation == 0]
    tap.check(not missing and not lost, "the server log shows the crash and the recovery, and "
              "every connection was lost and made again", ["log lacks: " + m for m in missing]
              + ["%s never lost its connection" % w for w in lost])
    after = [a for a in wl.ledger.attempts if a.t0 > t_up and a.result == "ok"]
    tap.check(len(after) > 0, "the clients carry on after the recovery (%d successful logins "
              "after it)" % len(after))
    unknown = sum(w.lost_calls for w in wl.workers)
    tap.comment("calls in flight at the crash (outcome unknown): %d" % unknown)

    load.run_workload_checks(tap, wl, leftover)
    c = connect()
    c.autocommit = True
    writer_after = q(c, "SELECT writer_pid FROM user_mgmt.login_statistics()")
    c.close()
    tap.check(writer_after not in (None, writer_before), "a new login writer serves the database "
              "after the restart (pid %s, before %s)" % (writer_after, writer_before))
    checker = load.Checker(wl, tap, crash_count=1)
    try:
        checker.check_all()
    finally:
        checker.close()
    probes.after()
    bad = [line for line in log_lines()[log_start:]
           if any(p in line for p in ("PANIC", "TRAP:", "login writer could not", "deadlock detected"))]
    tap.check(not bad, "the server log has no PANIC, assertion, deadlock or login writer error", bad)
    load.drop_database()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
