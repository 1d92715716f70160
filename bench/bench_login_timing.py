"""Does the time of a failed login tell an attacker anything?

authenticate() is timed per call from a client (psycopg2, one connection,
autocommit), the way an attacker times it, for each failure case:

  wrong password      a known, active user (the baseline)
  unknown user        a username that does not exist (a new one every call)
  locked              a user locked for the whole run
  inactive            a deactivated user
  lower cost (10)     a known user whose stored hash has cost 10
  lower cost (4)      the same with cost 4

and the success path.  The cases are interleaved in a new random order in
every round, SAMPLES rounds.  For each case against the wrong password it
prints the medians and the AUC of the best per-call-time classifier (the
Mann-Whitney statistic, folded so that 0.5 is chance and 1.0 a perfect
separation; target at most 0.60).  The lockout is off during the rounds
(max_failed_logins = 0) so that the baseline user never locks; the locked
user was locked before, with a lock that outlasts the run.

Then, at bcrypt cost 4, what the login writer adds to an attempt:
authenticate() with the right and a wrong password against
verify_password() on the same hash, interleaved.

A benchmark, not a test: it prints tables and exits 0.
"""
import os
import random
import statistics
import time

import psycopg2

SAMPLES = int(os.environ.get("BENCH_TIMING_SAMPLES", "200"))
WARMUP = 5
PASSWORD = "correct horse battery"
WRONG = "wrong horse battery"


def connect():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    return conn


def q(cur, sql, *args):
    cur.execute(sql, args)
    return cur.fetchone()[0] if cur.description else None


def auc(xs, ys):
    """P(x > y) + P(x = y) / 2 over all pairs, folded to [0.5, 1]."""
    ranked = sorted([(v, 0) for v in xs] + [(v, 1) for v in ys])
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, (_, group) in zip(ranks, ranked) if group == 0)
    u = rank_sum - len(xs) * (len(xs) + 1) / 2
    a = u / (len(xs) * len(ys))
    return max(a, 1 - a)


def timed(cur, sql, args):
    start = time.perf_counter()
    cur.execute(sql, args)
    result = cur.fetchone()[0]
    return (time.perf_counter() - start) * 1000, result


def setup(cur):
    cur.execute("RESET user_mgmt.bcrypt_cost")
    cost = int(q(cur, "SHOW user_mgmt.bcrypt_cost"))
    for name in ("t_known", "t_locked", "t_inactive", "t_low10", "t_low4", "t_ok", "t_fast"):
        q(cur, "SELECT user_mgmt.create_user(%s, %s, 'Timing')", name, PASSWORD)
    for name, low in (("t_low10", 10), ("t_low4", 4)):
        q(cur, "UPDATE user_mgmt.users SET hashed_password = user_mgmt.hash_password(%s, %s)"
               " WHERE username = %s", PASSWORD, low, name)
    q(cur, "UPDATE user_mgmt.users SET is_active = false WHERE username = 't_inactive'")
    q(cur, "SELECT user_mgmt.await_login_writer()")
    cur.execute("SET user_mgmt.lockout_duration = '1d'")
    for _ in range(int(q(cur, "SHOW user_mgmt.max_failed_logins"))):
        q(cur, "SELECT NOT (user_mgmt.authenticate('t_locked', %s) IS NULL)", WRONG)
    if q(cur, "SELECT locked_until > now() FROM user_mgmt.accounts WHERE username = 't_locked'") is not True:
        raise SystemExit("t_locked did not lock")
    cur.execute("SET user_mgmt.max_failed_logins = 0")
    return cost


def interleaved(cur, cases, seed):
    """cases: name -> function of the round number giving (sql, args,
    expected result).  Every round runs each case once, in a new random
    order; per case, the times of the rounds after the warm-up."""
    times = {name: [] for name in cases}
    order = list(cases)
    rng = random.Random(seed)
    for i in range(WARMUP + SAMPLES):
        rng.shuffle(order)
        for name in order:
            sql, args, expected = cases[name](i)
            ms, result = timed(cur, sql, args)
            if result != expected:
                raise SystemExit("%s: returned %s" % (name, result))
            if i >= WARMUP:
                times[name].append(ms)
    return times


def failure_rounds(cur):
    def attempt(username, password, succeeds=False):
        return lambda i: ("SELECT NOT (user_mgmt.authenticate(%s, %s) IS NULL)",
                          (username(i) if callable(username) else username, password), succeeds)
    return interleaved(cur, {
        "wrong password": attempt("t_known", WRONG),
        "unknown user": attempt(lambda i: "t_nobody_%d" % i, WRONG),
        "locked": attempt("t_locked", PASSWORD),  # the right password: still refused
        "inactive": attempt("t_inactive", PASSWORD),
        "lower cost (10)": attempt("t_low10", WRONG),
        "lower cost (4)": attempt("t_low4", WRONG),
        "success": attempt("t_ok", PASSWORD, succeeds=True),
    }, 20261203)


def writer_rounds(cur):
    cur.execute("SET user_mgmt.bcrypt_cost = 4")
    q(cur, "UPDATE user_mgmt.users SET hashed_password = user_mgmt.hash_password(%s, 4)"
           " WHERE username = 't_fast'", PASSWORD)
    stored = q(cur, "SELECT hashed_password FROM user_mgmt.users WHERE username = 't_fast'")
    auth = "SELECT NOT (user_mgmt.authenticate('t_fast', %s) IS NULL)"
    times = interleaved(cur, {
        "verify_password (no writer)":
            lambda i: ("SELECT user_mgmt.verify_password(%s, %s)", (PASSWORD, stored), True),
        "authenticate, right password": lambda i: (auth, (PASSWORD,), True),
        "authenticate, wrong password": lambda i: (auth, (WRONG,), False),
    }, 4)
    cur.execute("RESET user_mgmt.bcrypt_cost")
    return times


def main():
    conn = connect()
    cur = conn.cursor()
    cost = setup(cur)
    print("authenticate per call from the client, bcrypt_cost = %d, %d interleaved rounds"
          % (cost, SAMPLES))
    started = time.perf_counter()
    times = failure_rounds(cur)
    base = times["wrong password"]
    base_median = statistics.median(base)
    print()
    print("| case | samples | median ms | p10 ms | p90 ms | median / wrong password | AUC vs wrong password | AUC <= 0.60 |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, xs in times.items():
        deciles = statistics.quantiles(xs, n=10)
        a = auc(xs, base) if name != "wrong password" else 0.5
        verdict = "" if name in ("wrong password", "success") else ("yes" if a <= 0.60 else "NO")
        print("| %s | %d | %.2f | %.2f | %.2f | %.4f | %.3f | %s |"
              % (name, len(xs), statistics.median(xs), deciles[0], deciles[-1],
                 statistics.median(xs) / base_median, a, verdict))
    print()
    print("failure path over success: %+.2f ms (median wrong password - median success)"
          % (base_median - statistics.median(times["success"])))
    print("rounds took %.0f s" % (time.perf_counter() - started))

    fast = writer_rounds(cur)
    ref = statistics.median(fast["verify_password (no writer)"])
    print()
    print("at bcrypt_cost = 4, %d interleaved rounds: what the login writer adds" % SAMPLES)
    print()
    print("| call | median ms | over verify_password ms |")
    print("|---|---:|---:|")
    for name, xs in fast.items():
        print("| %s | %.3f | %+.3f |" % (name, statistics.median(xs), statistics.median(xs) - ref))
    stats = q(cur, "SELECT row_to_json(s)::text FROM user_mgmt.login_statistics() AS s")
    print()
    print("login_statistics(): %s" % stats)
    conn.close()


if __name__ == "__main__":
    main()
