"""How fast a running bcrypt hash answers a cancel, at any cost.

Two ways, each timed from the client over loopback, median of SAMPLES:
  statement_timeout: SET statement_timeout = 100ms, then a hash at cost C;
                     the latency is the time past 100 ms until the error.
  pg_cancel_backend: a second connection cancels the hash once
                     pg_stat_activity shows it running; the latency is from
                     the cancel call to the error.
A benchmark, not a test: it prints a table.  Target: about 50 ms at most.
"""
import os
import statistics
import threading
import time

import psycopg2
import psycopg2.errors

SAMPLES = int(os.environ.get("BENCH_CANCEL_SAMPLES", "7"))
COSTS = (12, 20, 31)


def connect():
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
    conn.autocommit = True
    return conn


def by_timeout(conn, cost):
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = '100ms'")
        start = time.perf_counter()
        try:
            cur.execute("SELECT user_mgmt.hash_password('x', %s)", (cost,))
            raise SystemExit("cost %d finished before the timeout" % cost)
        except psycopg2.errors.QueryCanceled:
            elapsed = time.perf_counter() - start
        cur.execute("RESET statement_timeout")
    return (elapsed - 0.100) * 1000


def by_cancel(conn, other, cost):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    done = {}

    def run():
        with conn.cursor() as cur:
            try:
                cur.execute("SELECT user_mgmt.hash_password('x', %s)", (cost,))
            except psycopg2.errors.QueryCanceled:
                done["at"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    with other.cursor() as cur:
        while True:  # a condition wait: until the hash is running
            cur.execute("SELECT state = 'active' AND query LIKE '%%hash_password%%' "
                        "FROM pg_stat_activity WHERE pid = %s", (pid,))
            if cur.fetchone()[0]:
                break
        start = time.perf_counter()
        cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
    worker.join()
    return (done["at"] - start) * 1000


def main():
    conn, other = connect(), connect()
    print("cancel latency, median milliseconds over %d samples (target: about 50 ms at most)" % SAMPLES)
    print("%-5s | %-18s | %-18s" % ("cost", "statement_timeout", "pg_cancel_backend"))
    for cost in COSTS:
        t = statistics.median(by_timeout(conn, cost) for _ in range(SAMPLES))
        c = statistics.median(by_cancel(conn, other, cost) for _ in range(SAMPLES))
        print("%-5d | %18.2f | %18.2f" % (cost, t, c))


if __name__ == "__main__":
    main()
