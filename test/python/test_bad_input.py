#!/usr/bin/python3
"""Every user_mgmt function against bad input, generated from the catalog.

For each function of the extension (found through pg_depend, so a new one
is covered without editing this file) and each of its arguments, the
argument takes every bad value of its type while the others keep a
plausible one: NULL, empty and blank strings, 10 MB strings (made on the
server), control and multibyte characters, hash- and token-shaped junk,
out-of-range and extreme numbers, extreme intervals; since 1.4 also
refresh-token-shaped junk, live access and refresh tokens and a used
refresh token, session ids that name nothing (all zeros, all ones, random)
or a live or revoked session, odd addresses ('::', '255.255.255.255/0')
and hashes of the wrong length; a function without arguments is called
once more after set_session_token() of a live session's token.  Since 1.5
arguments are also told apart by name: an `algorithm` is EdDSA unless it
is the bad value (unknown, wrongly cased or padded names), a
`public_key` is RFC 8037's Ed25519 key in PEM unless it is PEM junk (a
private key, P-384, RSA, a compressed P-256 point, Ed25519's identity
point, truncated, headers only, two keys, 10 MB bodies, 400,000 headers,
20,000 private keys),
and a `kid` also takes kids that are too long, not base64url, or name a
live HS256 key, an EdDSA key pair or an imported key.  Each call
runs in a transaction of its own that is rolled back, as a superuser (the
widest access), with a statement_timeout; the lockout is off, so that the
good username and password always log in and the bad values of the
arguments after them (sign_in's user agent and address) reach the session
code.  (Session changes are committed by the login writer whatever the
caller does: those calls really open, refresh and end sessions.)

Each call must end in a result or an error whose SQLSTATE is one a caller
can expect (classes 22, 23, 28, 55 -- 28000 for tokens and refresh tokens,
28P01, 22004, 22023, 55P03, 55000 -- and 57014, P0002, 53400); never an
internal error, a crash or a lost connection.  25006 is not accepted: this
is a primary, where sessions can be changed even in a read-only
transaction.  Afterwards the server log
shows no crash, and a second pass over everything leaves the backend's
memory where the first left it (no growth across passes).

Invalid UTF-8 cannot reach a function as text: convert_from() refuses it
(22021) before the call, which the test shows too.

Run: /usr/bin/python3 test/python/test_bad_input.py
(needs PGHOST/PGPORT/PGUSER of a superuser, UM_CLUSTER_DIR of the cluster,
shared_preload_libraries = 'user_mgmt').
"""

import os
import re
import sys
import unittest

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_bad_input"
TEN_MB = 10 * 1024 * 1024
ALLOWED_CLASSES = ("22", "23", "28", "55")
ALLOWED_CODES = ("57014", "P0002", "53400")
# growth of the backend's resident memory allowed between two passes
GROWTH_LIMIT_KB = 32 * 1024

# (1.4) A session of a user of its own, whose password no bad value ever
# guesses wrong, so that its credentials stay live whatever the other calls do.
TOKEN_OWNER = ("um_token_owner", "token owner password")
SIGN_IN = "user_mgmt.sign_in('%s', '%s')" % TOKEN_OWNER

# SQL expressions per argument type: (a plausible value, the bad ones)
TEXT_BAD = [
    "NULL", "''", "'   '", "repeat('x', %d)" % TEN_MB, "repeat('я', %d)" % (TEN_MB // 2),
    "E'\\x01\\x02\\x1f'", "repeat('€', 100)", "convert_from('\\xe9ff'::bytea, 'LATIN1')",
    "'$2b$04$' || repeat('.', 53)", "'$2b$99$' || repeat('a', 53)", "'a.b.c'",
    "'eyJhbGciOiJub25lIn0.e30.'", "'...'", "E'\\\\'", "'''; SELECT 1; --'",
    # refresh-token-shaped (1.4): 43 base64url characters that name no
    # token, one too many or too few, padding, a dot (the access-token path
    # of logout), characters outside base64url
    "repeat('A', 43)", "repeat('_', 43)", "repeat('A', 44)", "repeat('A', 42)",
    "repeat('A', 42) || '='", "repeat('A', 42) || '.'", "repeat('+', 43)", "repeat('я', 43)",
    # live credentials of the user (1.4): an access token, a refresh token,
    # and a refresh token already used once
    "(%s).access_token" % SIGN_IN,
    "(%s).refresh_token" % SIGN_IN,
    "(SELECT s.refresh_token FROM %s AS s, " % SIGN_IN +
    "LATERAL user_mgmt.refresh(s.refresh_token) AS r)",
]
VALUES = {
    "text": ("'olga_pass_1234'", TEXT_BAD),  # a valid username and password both
    "integer": ("1", ["NULL", "0", "-1", "2147483647", "-2147483648"]),
    "bigint": ("1", ["NULL", "0", "-1", "9223372036854775807", "-9223372036854775808"]),
    "boolean": ("true", ["NULL", "false"]),
    "interval": ("'1 hour'", ["NULL", "'0'", "'-1 day'", "'178000000 years'", "'-178000000 years'",
                              "'0.000001 seconds'"]),
    "inet": ("'127.0.0.1'", ["NULL", "'::'", "'255.255.255.255'", "'255.255.255.255/0'", "'0.0.0.0/0'",
                             "'::/0'", "'::ffff:10.0.0.1/128'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'"]),
    # (1.4) session ids: valid ones that name no session (the good value,
    # all zeros, all ones, a random one), a live session's, a revoked one's
    "uuid": ("'6f0c6b2e-8a51-4f5e-9d6b-0a1b2c3d4e5f'",
             ["NULL", "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
              "gen_random_uuid()",
              "(%s).session_id" % SIGN_IN,
              "(SELECT id FROM user_mgmt.sessions WHERE revoked_at IS NOT NULL LIMIT 1)"]),
    # (1.4) the refresh token hashes the login writer's functions take: the
    # right length (32 bytes) naming nothing, and wrong lengths
    "bytea": ("sha256('x')", ["NULL", "''::bytea", "'\\x00'::bytea", "decode(repeat('ff', 33), 'hex')",
                              "decode(repeat('00', 32), 'hex')",
                              "convert_to(repeat('x', %d), 'UTF8')" % TEN_MB]),
    "user_mgmt.role": ("'USER'", ["NULL", "'ADMIN'"]),
    "aclitem[]": ("'{}'", ["NULL"]),
}


def pem(der_hex, label="PUBLIC KEY"):
    """SQL for a PEM of DER given in hex."""
    return ("(E'-----BEGIN %s-----\\n' || encode(decode('%s', 'hex'), 'base64') || "
            "E'\\n-----END %s-----\\n')" % (label, der_hex, label))


# (1.5) RFC 8037 A.1's Ed25519 public key, and RFC 7515 A.3's P-256 one.
ED25519_SPKI = "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
P256_X = "7fcdce2770f6c45d4183cbee6fdb4b7b580733357be9ef13bacf6e3c7bd15445"
P256_SPKI = ("3059301306072a8648ce3d020106082a8648ce3d03010703420004" + P256_X +
             "c7f144cd1bbd9b7e872cdfedb9eeb9f4b3695d6ea90b24ad8a4623288588e5ad")
PEM_HEAD = "E'-----BEGIN PUBLIC KEY-----\\n'"
PEM_TAIL = "E'\\n-----END PUBLIC KEY-----\\n'"
# (1.5) Values by argument name, for the arguments whose text is not just
# text: (a plausible value, more bad ones than TEXT_BAD's).
BY_NAME = {
    "algorithm": ("'EdDSA'", [
        "'RS256'", "'HS256'", "'none'", "'eddsa'", "'EDDSA'", "'es256'", "'ES384'", "'ES256K'",
        "'Ed25519'", "'Ed448'", "'P-256'", "' EdDSA'", "'EdDSA '", "E'EdDSA\\n'", "'ES256,EdDSA'"]),
    "public_key": (pem(ED25519_SPKI), [
        # a private key (RFC 8037 A.1's), P-384, RSA-1024, a compressed P-256
        # point, the Ed25519 identity point (a small-order key)
        pem("302e020100300506032b657004220420"
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "PRIVATE KEY"),
        "E'-----BEGIN PUBLIC KEY-----\\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEt+3KWL5mgFHEk9hZDh1d7k0Z0PY7KM6V\\n"
        "szlrAuta67i8dG+Aa8o5wwU2mTOToYSU2Jombm8jfOuCuJDCoUWYL6g1zeP4+1vG\\n"
        "5Oil8489jKWMIYpw6VT/dowm+sWc9pfA\\n-----END PUBLIC KEY-----\\n'",
        "E'-----BEGIN PUBLIC KEY-----\\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCyZxl80yJLiykME9m5XJUMaN0/\\n"
        "Y86AYqrFRs9tRq7Sc4arcAxoXo3g6XabHJxv+601NQ43Nmkl7fmPrnettiYc7vq8\\n"
        "71NGpxnWunkNHPgKSPbIAPVLFUS5mnxXm0nn9+JzsNeKNURa827zLfPH79DDUdrA\\n"
        "x3DI3uits8M+ho8n3wIDAQAB\\n-----END PUBLIC KEY-----\\n'",
        pem("3039301306072a8648ce3d020106082a8648ce3d03010703220003" + P256_X),
        pem("302a300506032b6570032100" + "01" + "00" * 31),
        # the right key under another label, or with bytes after its DER
        pem(ED25519_SPKI, "CERTIFICATE"),
        pem(ED25519_SPKI, "EC PUBLIC KEY"),
        pem(ED25519_SPKI + "00"),
        pem(P256_SPKI[:-2]),
        pem("302a300506032b6570032100" + "00" * 31),
        # cut short, headers alone, junk inside, two keys, CRLF
        "left(%s, 60)" % pem(ED25519_SPKI),
        PEM_HEAD, "%s || %s" % (PEM_HEAD, PEM_TAIL),
        "%s || '@@@@' || %s" % (PEM_HEAD, PEM_TAIL),
        "%s || %s" % (pem(ED25519_SPKI), pem(P256_SPKI)),
        "replace(%s, E'\\n', E'\\r\\n')" % pem(P256_SPKI),
        "encode(decode('%s', 'hex'), 'base64')" % ED25519_SPKI,
        # 10 MB: a body of base64 on one line and on many, 400,000 headers,
        # and 20,000 private keys before nothing
        "%s || repeat('A', %d) || %s" % (PEM_HEAD, TEN_MB, PEM_TAIL),
        "%s || repeat(E'QUFBQUFB\\n', %d) || %s" % (PEM_HEAD, TEN_MB // 9, PEM_TAIL),
        "repeat(%s, 400000)" % PEM_HEAD,
        "repeat(%s, 20000)" % pem(ED25519_SPKI, "PRIVATE KEY")]),
    "kid": ("'olga_pass_1234'", [
        "repeat('k', 64)", "repeat('k', 65)", "'bad kid'", "'kid/../x'", "'кид'",
        "(SELECT kid FROM user_mgmt.signing_keys WHERE algorithm = 'HS256' AND retired_at IS NULL LIMIT 1)",
        "(SELECT kid FROM user_mgmt.signing_keys WHERE algorithm = 'EdDSA' AND secret IS NOT NULL LIMIT 1)",
        "'um-imported'"]),
}


def functions(conn):
    """(signature, [argument types], [argument names]) of every callable
    member function (the names of its input arguments, '' when unnamed)."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT p.oid::regprocedure::text,
                   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t),
                   ARRAY(SELECT coalesce(a.name, '')
                         FROM unnest(coalesce(p.proargnames, array_fill(NULL::text, ARRAY[p.pronargs])),
                                     coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs])))
                              WITH ORDINALITY AS a(name, mode, n)
                         WHERE a.mode IN ('i', 'b', 'v') ORDER BY a.n)
            FROM pg_proc p
            JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
            WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
              AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'user_mgmt')
              AND p.prorettype <> 'trigger'::regtype
            ORDER BY 1""")
        return cur.fetchall()


LIVE_ACCESS_TOKEN = "(%s).access_token" % SIGN_IN


def needs_sessions(value):
    """A value made with 1.4's sessions (left out for older versions)."""
    return "user_mgmt.sign_in" in value or "user_mgmt.sessions" in value


def calls(funcs):
    """(label, SQL) for every function and every bad value of every argument;
    a function without arguments is called once (and, with sessions, once
    more after set_session_token of a live session's token)."""
    out = []
    has_sessions = any(sig.startswith("user_mgmt.sign_in(") for sig, _, _ in funcs)
    for sig, types, names in funcs:
        name = sig.split("(")[0]
        for t in types:
            if t not in VALUES:
                raise AssertionError("%s: no values for argument type %s: add them" % (sig, t))
        # (1.5) an argument with a name of BY_NAME takes its values too
        good = [BY_NAME[n][0] if t == "text" and n in BY_NAME else VALUES[t][0]
                for t, n in zip(types, names)]
        if not types:
            out.append((sig, "SELECT %s()" % name))
            if has_sessions:
                # (1.4) and again with the claims of a live session in the
                # transaction (logout(), logout_all(), current_session_id())
                out.append(("%s, after set_session_token" % sig,
                            "SELECT user_mgmt.set_session_token(%s); SELECT %s()" % (LIVE_ACCESS_TOKEN, name)))
        for i, t in enumerate(types):
            extra = BY_NAME[names[i]][1] if t == "text" and names[i] in BY_NAME else []
            for bad in VALUES[t][1] + extra:
                if needs_sessions(bad) and not has_sessions:
                    continue
                args = list(good)
                args[i] = bad
                casts = ", ".join("(%s)::%s" % (a, ty) for a, ty in zip(args, types))
                label = "%s, argument %d = %s" % (sig, i + 1, bad if len(bad) < 60 else bad[:57] + "...")
                out.append((label, "SELECT %s(%s)" % (name, casts)))
    return out


def rss_kb(pid):
    """The backend's private resident memory (shared buffers excluded)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon for %d" % pid)


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tap.create_test_db(DB)
        cls.conn = tap.connect(DB)
        cls.conn.autocommit = True
        with cls.conn.cursor() as cur:
            cur.execute("SET user_mgmt.bcrypt_cost = 4")
            # No lockout: the bad passwords would lock olga_pass_1234 out at
            # once, and then no call with the good username and password
            # would get past the password check (sign_in's user agent and
            # address would never reach the session code).  The locked path
            # is test_lockout_guarantees.py's.
            cur.execute("SET user_mgmt.max_failed_logins = 0")
            cur.execute("SELECT user_mgmt.create_user('olga_pass_1234', 'olga_pass_1234', 'Ольга')")
            cur.execute("SELECT user_mgmt.create_user(%s, %s, 'Token Owner')", TOKEN_OWNER)
            if any(sig == "user_mgmt.jwks()" for sig, _, _ in functions(cur.connection)):
                # (1.5) a key pair of each kind, an imported key, and an HS256
                # key that signs: kids for the bad values to name
                cur.execute("SELECT user_mgmt.rotate_signing_key('EdDSA'), "
                            "user_mgmt.rotate_signing_key('ES256'), user_mgmt.rotate_signing_key('HS256')")
                cur.execute("SELECT user_mgmt.import_signing_key('um-imported', 'ES256', %s)" % pem(P256_SPKI))
            cur.execute("SELECT pg_backend_pid()")
            cls.pid = cur.fetchone()[0]
        cls.conn.autocommit = False
        cls.log = os.path.join(os.environ["UM_CLUSTER_DIR"], "postgresql.log")
        with open(cls.log, "rb") as f:
            f.seek(0, 2)
            cls.log_start = f.tell()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        admin = tap.connect(DB)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT user_mgmt.stop_login_writer()")
        admin.close()
        tap.drop_test_db(DB)

    def run_all(self):
        """Runs every call; the list of (label, what went wrong)."""
        problems = []
        for label, query in calls(functions(self.conn)):
            with self.conn.cursor() as cur:
                try:
                    cur.execute("SET LOCAL statement_timeout = '5s'")
                    cur.execute(query)
                    cur.fetchall()
                except psycopg2.OperationalError as e:
                    if self.conn.closed:
                        raise AssertionError("%s: the connection was lost: %s" % (label, e))
                    code = e.pgcode
                    if not (code and (code[:2] in ALLOWED_CLASSES or code in ALLOWED_CODES)):
                        problems.append((label, "%s %s" % (code, e)))
                except psycopg2.Error as e:
                    code = e.pgcode
                    if not (code and (code[:2] in ALLOWED_CLASSES or code in ALLOWED_CODES)):
                        problems.append((label, "%s %s" % (code, str(e).strip())))
                finally:
                    if not self.conn.closed:
                        self.conn.rollback()
        return problems

    def test_every_function_ends_in_a_result_or_a_documented_error(self):
        n = len(calls(functions(self.conn)))
        self.assertGreater(n, 300, "too few calls generated")
        self.assertEqual(self.run_all(), [])
        first = rss_kb(self.pid)
        self.assertEqual(self.run_all(), [])
        second = rss_kb(self.pid)
        self.assertLess(second - first, GROWTH_LIMIT_KB,
                        "the backend grew from %d kB to %d kB over a second pass" % (first, second))
        with open(self.log, "rb") as f:
            f.seek(self.log_start)
            log = f.read().decode("utf-8", "replace")
        crashes = [line for line in log.splitlines()
                   if re.search(r"terminated by signal|PANIC|TRAP:|was terminated|server process .* exited", line)]
        self.assertEqual(crashes, [])

    def test_invalid_utf8_stops_before_the_call(self):
        with self.conn.cursor() as cur:
            try:
                with self.assertRaises(psycopg2.Error) as ctx:
                    cur.execute("SELECT user_mgmt.verify_password(convert_from('\\xc328'::bytea, 'UTF8'), "
                                "user_mgmt.dummy_password_hash())")
                self.assertEqual(ctx.exception.pgcode, "22021")
            finally:
                self.conn.rollback()

    def test_every_argument_type_has_values(self):
        # a new argument type fails calls() loudly instead of going untested
        for sig, types, _ in functions(self.conn):
            for t in types:
                self.assertIn(t, VALUES, sig)


if __name__ == "__main__":
    tap.main()
