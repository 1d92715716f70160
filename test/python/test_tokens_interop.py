#!/usr/bin/python3
"""Token interoperability: user_mgmt's HS256 JWTs vs PyJWT.

Run: /usr/bin/python3 test/python/test_tokens_interop.py
(needs PGHOST/PGPORT/PGUSER of a cluster where user_mgmt >= 1.4 is
installed, preloaded; connects as a superuser, which export_signing_key
requires).

PyJWT, given the secret from export_signing_key(), must accept our tokens
and see the documented header and claims; tokens PyJWT signs with that
secret must pass verify_token only when they name (claim sid) a live
session of their subject (1.4): knowing the key is not enough to make up a
session.  The sids used come from tokens our own login() issued.  Every
kind of bad token must be refused with SQLSTATE 28000 and its own message.
Key rotation and retirement, token_ttl and token_leeway are checked here
too.  No timing is asserted: times are only used to build claims relative
to the server's clock.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import unittest
import uuid

import jwt
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_tokens"
PASSWORD = "correct horse battery"

HEADER_KEYS = {"alg", "typ", "kid"}
CLAIM_KEYS = {"sub", "username", "role", "sid", "iat", "exp", "jti"}

# The kinds of rejection verify_token distinguishes (SQLSTATE 28000 each),
# with a pattern its message must match.  The messages of different kinds
# must differ from one another.
KINDS = {
    "malformed": r"malformed",
    "algorithm": r"algorithm",
    "unknown_kid": r"unknown.*key|key id|\bkid\b",
    "signature": r"signature",
    "expired": r"\bexpired\b",
    "not_yet_valid": r"not yet valid",
    "no_exp": r"no expir|missing.*\bexp\b|without.*\bexp",
    # 1.4: the session the token names
    "no_session": r"^token has no session$",
    "unknown_session": r"^token's session does not exist$",
    "other_users_session": r"^token does not match its session$",
    "revoked_session": r"^token's session has been revoked$",
}


def b64e(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_seg(obj):
    return b64e(json.dumps(obj, separators=(",", ":")))


def hs256(secret, signing_input):
    return b64e(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def craft(header, payload, secret=None, signature=None):
    """A compact JWS built by hand: header and payload are dicts (or
    already-encoded segments); signed HS256 with secret unless signature
    (an encoded segment, possibly empty) is given."""
    h = header if isinstance(header, str) else json_seg(header)
    p = payload if isinstance(payload, str) else json_seg(payload)
    if signature is None:
        signature = hs256(secret, h + "." + p)
    return "%s.%s.%s" % (h, p, signature)


def setUpModule():
    tap.create_test_db(DB)


def tearDownModule():
    tap.drop_test_db(DB)


class TokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = tap.connect(DB)
        cls.conn.autocommit = True
        with cls.conn.cursor() as cur:
            cur.execute("SET user_mgmt.bcrypt_cost = 4")
            cur.execute("SELECT user_mgmt.create_user('tok_alice', %s, 'Alice Token', 'CASHIER')",
                        (PASSWORD,))
            cls.uid = cur.fetchone()[0]
            cur.execute("SELECT user_mgmt.create_user('tok_bob', %s, 'Bob Token')", (PASSWORD,))
            cls.bob = cur.fetchone()[0]
            # sids of sessions our login() opened: alice's (live), bob's
            # (live) and one of alice's that was logged out
            cls.sid = cls.sid_of_login(cur, "tok_alice")
            cls.bob_sid = cls.sid_of_login(cur, "tok_bob")
            cur.execute("SELECT user_mgmt.login('tok_alice', %s)", (PASSWORD,))
            gone = cur.fetchone()[0]
            cls.revoked_sid = jwt.decode(gone, options={"verify_signature": False})["sid"]
            cur.execute("SELECT user_mgmt.logout(%s)", (gone,))
            assert cur.fetchone()[0] is True

    @staticmethod
    def sid_of_login(cur, username):
        cur.execute("SELECT user_mgmt.login(%s, %s)", (username, PASSWORD))
        return jwt.decode(cur.fetchone()[0], options={"verify_signature": False})["sid"]

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def setUp(self):
        with self.conn.cursor() as cur:
            cur.execute("RESET ALL")
            cur.execute("SET user_mgmt.bcrypt_cost = 4")
            # every issue_token() opens a session: no cap may end the ones
            # whose sids the PyJWT tokens borrow
            cur.execute("SET user_mgmt.max_sessions_per_user = 0")

    # --- helpers -----------------------------------------------------------

    def q(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0]

    def execute(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)

    def now(self):
        """The server's clock, whole seconds since the epoch."""
        return int(self.q("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint"))

    def current_key(self):
        """(kid, secret) of the key new tokens are signed with."""
        tok = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        kid = jwt.get_unverified_header(tok)["kid"]
        secret = bytes(self.q("SELECT user_mgmt.export_signing_key()"))
        return kid, secret

    def claims(self, **overrides):
        """Claims for a PyJWT token of tok_alice in her live session (sid
        taken from a token login() issued); None drops a claim."""
        t = self.now()
        c = {"sub": str(self.uid), "username": "tok_alice", "role": "CASHIER", "sid": self.sid,
             "iat": t, "exp": t + 600, "jti": "py-%d" % t}
        c.update(overrides)
        return {k: v for k, v in c.items() if v is not None}

    def verify(self, token):
        return self.q("SELECT user_mgmt.verify_token(%s)", token)

    def rejection(self, token):
        """The psycopg2 error verify_token raises for token (fails the
        test when it accepts it or raises another SQLSTATE)."""
        with self.assertRaises(psycopg2.Error, msg="verify_token accepted %r" % token) as ctx:
            self.verify(token)
        e = ctx.exception
        self.assertEqual(e.pgcode, "28000", "expected SQLSTATE 28000, got %s: %s" % (e.pgcode, e))
        return e.diag.message_primary or ""

    def assertRejected(self, token, kind):
        msg = self.rejection(token)
        self.assertRegex(msg.lower(), KINDS[kind],
                         "rejected as expected, but the message %r does not say %s" % (msg, kind))
        return msg

    # --- our tokens, read by PyJWT -------------------------------------------

    def test_guc_defaults(self):
        self.assertEqual(self.q("SELECT current_setting('user_mgmt.token_ttl')"), "30min")
        self.assertEqual(self.q("SELECT current_setting('user_mgmt.token_leeway')"), "0")

    def test_pyjwt_verifies_our_token(self):
        tok = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        self.assertRegex(tok, r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                         "not a compact JWS in unpadded base64url")
        header = jwt.get_unverified_header(tok)
        self.assertEqual(set(header), HEADER_KEYS, header)
        self.assertEqual(header["alg"], "HS256")
        self.assertEqual(header["typ"], "JWT")
        kid = header["kid"]
        self.assertIsInstance(kid, str)
        self.assertIs(self.q("SELECT EXISTS (SELECT FROM user_mgmt.signing_keys "
                             "WHERE kid = %s AND retired_at IS NULL)", kid), True,
                      "the token's kid %r is not a live key in signing_keys" % kid)

        secret = bytes(self.q("SELECT user_mgmt.export_signing_key()"))
        # RFC 7518 3.2: an HS256 key MUST be at least 256 bits.
        self.assertGreaterEqual(len(secret), 32, "signing key shorter than 256 bits")
        self.assertEqual(bytes(self.q("SELECT user_mgmt.export_signing_key(%s)", kid)), secret)

        claims = jwt.decode(tok, key=secret, algorithms=["HS256"])
        self.assertEqual(set(claims), CLAIM_KEYS, claims)
        self.assertEqual(claims["sub"], str(self.uid))
        self.assertIsInstance(claims["sub"], str)
        self.assertEqual(claims["username"], "tok_alice")
        self.assertEqual(claims["role"], "CASHIER")
        self.assertIsInstance(claims["iat"], int)
        self.assertIsInstance(claims["exp"], int)
        self.assertEqual(claims["exp"] - claims["iat"], 1800, "default token_ttl is 30min")
        self.assertLessEqual(abs(claims["iat"] - self.now()), 300, "iat is not the server's time")
        self.assertIsInstance(claims["jti"], str)
        self.assertTrue(claims["jti"])
        # the sid names the session issue_token opened, which ends with the token
        session = self.q("SELECT to_jsonb(s) || jsonb_build_object('end', "
                         "floor(extract(epoch FROM expires_at))::bigint) "
                         "FROM user_mgmt.sessions AS s WHERE id = %s", claims["sid"])
        self.assertIsNotNone(session, "no session %s" % claims["sid"])
        self.assertEqual((session["user_id"], session["origin"], session["revoked_at"], session["end"]),
                         (self.uid, "issue_token", None, claims["exp"]))

        # and verify_token returns exactly the claims PyJWT saw
        self.assertEqual(self.verify(tok), claims)

        # PyJWT refuses it with any other key
        with self.assertRaises(jwt.InvalidSignatureError):
            jwt.decode(tok, key=secret[::-1], algorithms=["HS256"])

    def test_jti_unique(self):
        jtis = {jwt.decode(self.q("SELECT user_mgmt.issue_token(%s)", self.uid),
                           options={"verify_signature": False})["jti"] for _ in range(20)}
        self.assertEqual(len(jtis), 20)

    def test_ttl(self):
        kid, secret = self.current_key()
        cases = [("SELECT user_mgmt.issue_token(%s, '90 seconds')", 90),
                 ("SELECT user_mgmt.issue_token(%s, '2 hours')", 7200)]
        for query, ttl in cases:
            with self.subTest(ttl=ttl):
                c = jwt.decode(self.q(query, self.uid), key=secret, algorithms=["HS256"])
                self.assertEqual(c["exp"] - c["iat"], ttl)
        self.execute("SET user_mgmt.token_ttl = '5min'")
        c = jwt.decode(self.q("SELECT user_mgmt.issue_token(%s)", self.uid),
                       key=secret, algorithms=["HS256"])
        self.assertEqual(c["exp"] - c["iat"], 300, "token_ttl = 5min not used")

    def test_issue_token_unknown_user(self):
        with self.assertRaises(psycopg2.Error) as ctx:
            self.q("SELECT user_mgmt.issue_token(-42)")
        self.assertEqual(ctx.exception.pgcode, "P0002", str(ctx.exception))

    def test_login_token_verifies_with_pyjwt(self):
        tok = self.q("SELECT user_mgmt.login('tok_alice', %s)", PASSWORD)
        kid, secret = self.current_key()
        self.assertEqual(jwt.get_unverified_header(tok)["kid"], kid)
        c = jwt.decode(tok, key=secret, algorithms=["HS256"])
        self.assertEqual((c["sub"], c["username"], c["role"]), (str(self.uid), "tok_alice", "CASHIER"))
        self.assertEqual(self.q("SELECT origin FROM user_mgmt.sessions WHERE id = %s AND user_id = %s "
                                "AND revoked_at IS NULL", c["sid"], self.uid), "login")
        self.assertEqual(self.verify(tok), c)

    # --- PyJWT's tokens, read by verify_token ----------------------------------

    def test_verify_token_accepts_pyjwt_tokens(self):
        # With the key and the sid of a live session of the subject; the
        # other claims are whatever the signer wrote (the key holder is
        # trusted with them).
        kid, secret = self.current_key()
        payloads = [
            self.claims(),
            self.claims(nbf=self.now() - 10, scope="extra claim", n=[1, {"x": None}]),
            self.claims(username="any name", role="ADMIN"),
            self.claims(sub=str(self.bob), sid=self.bob_sid, username="tok_bob", role="USER"),
        ]
        for payload in payloads:
            with self.subTest(payload=payload):
                tok = jwt.encode(payload, secret, algorithm="HS256", headers={"kid": kid})
                self.assertEqual(self.verify(tok), payload)
        # a hand-made one too, with the header keys in another order
        payload = self.claims()
        tok = craft({"kid": kid, "typ": "JWT", "alg": "HS256"}, payload, secret)
        self.assertEqual(self.verify(tok), payload)
        # set_session_token takes it too, and the session is the claims'
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
                cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_session_id()")
                self.assertEqual(cur.fetchone(), (self.uid, self.sid))
            finally:
                cur.execute("ROLLBACK")

    def test_pyjwt_tokens_need_a_live_session_of_their_subject(self):
        # The key alone does not make a session: a token PyJWT signs
        # correctly is refused unless its sid names a live session of its sub.
        kid, secret = self.current_key()
        made_up = "6f1c1e3a-2b4d-4c5e-8f70-91a2b3c4d5e6"
        self.assertIs(self.q("SELECT EXISTS (SELECT FROM user_mgmt.sessions WHERE id = %s)", made_up), False)
        cases = [
            ("no sid", self.claims(sid=None), "no_session", "token has no session"),
            ("a made-up sid", self.claims(sid=made_up), "unknown_session", "token's session does not exist"),
            ("sid of another user's session", self.claims(sid=self.bob_sid), "other_users_session",
             "token does not match its session"),
            ("bob's sid, alice's sub", self.claims(sub=str(self.uid), sid=self.bob_sid, username="tok_bob"),
             "other_users_session", "token does not match its session"),
            ("sid of a logged-out session", self.claims(sid=self.revoked_sid), "revoked_session",
             "token's session has been revoked"),
            ("sid not a uuid", self.claims(sid="not-a-session"), "malformed", "malformed token"),
            ("sid a number", self.claims(sid=12345), "malformed", "malformed token"),
            ("sid null", self.claims(sid=None) | {"sid": None}, "malformed", "malformed token"),
            ("sid an empty string", self.claims(sid=""), "malformed", "malformed token"),
            ("sid of a uuid with a trailing byte", self.claims(sid=self.sid + "0"), "malformed",
             "malformed token"),
            ("no sid, sub of a user that does not exist",
             self.claims(sid=None, sub="999999", username="not a real user", role="ADMIN"),
             "no_session", "token has no session"),
            ("a made-up sid, sub of a user that does not exist",
             self.claims(sid=made_up, sub="999999", username="not a real user", role="ADMIN"),
             "unknown_session", "token's session does not exist"),
        ]
        for what, payload, kind, message in cases:
            with self.subTest(case=what):
                tok = jwt.encode(payload, secret, algorithm="HS256", headers={"kid": kid})
                self.assertEqual(self.rejection(tok), message)
                self.assertRejected(tok, kind)
                with self.conn.cursor() as cur:
                    cur.execute("BEGIN")
                    try:
                        with self.assertRaises(psycopg2.Error) as ctx:
                            cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
                        self.assertEqual((ctx.exception.pgcode, ctx.exception.diag.message_primary),
                                         ("28000", message))
                    finally:
                        cur.execute("ROLLBACK")

    # --- rejections ----------------------------------------------------------------

    def test_rejections(self):
        kid, secret = self.current_key()
        t = self.now()
        good = self.claims()
        hs = {"alg": "HS256", "typ": "JWT", "kid": kid}
        ours = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        oh, op, osig = ours.split(".")

        # tampered payload: a valid JSON payload that claims ADMIN, old signature
        forged = json.loads(b64d(op))
        forged["role"] = "ADMIN"
        # tampered signature: one bit of the MAC flipped (not just the
        # base64 padding bits of the last character)
        sig = bytearray(b64d(osig))
        sig[0] ^= 0x01
        sig2 = bytearray(b64d(osig))
        sig2[-1] ^= 0x80

        cases = [
            ("malformed", "empty", ""),
            ("malformed", "one segment", "abc"),
            ("malformed", "two segments", "%s.%s" % (oh, op)),
            ("malformed", "four segments", ours + ".x"),
            ("malformed", "not base64url", "!!!.@@@.###"),
            ("malformed", "header not JSON", craft(b64e("not json"), good, secret)),
            ("malformed", "header a JSON array", craft(b64e("[1,2]"), good, secret)),
            ("malformed", "payload not JSON", craft(hs, b64e("not json"), secret)),
            ("malformed", "payload a JSON array", craft(hs, b64e("[1,2]"), secret)),
            ("signature", "tampered payload", craft(oh, forged, signature=osig)),
            ("signature", "tampered signature (first byte)", "%s.%s.%s" % (oh, op, b64e(bytes(sig)))),
            ("signature", "tampered signature (last byte)", "%s.%s.%s" % (oh, op, b64e(bytes(sig2)))),
            ("signature", "signed with another secret",
             jwt.encode(good, secret[::-1], algorithm="HS256", headers={"kid": kid})),
            ("expired", "exp an hour ago",
             jwt.encode(self.claims(iat=t - 7200, exp=t - 3600), secret, algorithm="HS256",
                        headers={"kid": kid})),
            ("not_yet_valid", "nbf in an hour",
             jwt.encode(self.claims(nbf=t + 3600, exp=t + 7200), secret, algorithm="HS256",
                        headers={"kid": kid})),
            ("no_exp", "no exp claim",
             jwt.encode(self.claims(exp=None), secret, algorithm="HS256", headers={"kid": kid})),
            ("algorithm", "alg none, empty signature", craft({"alg": "none"}, good, signature="")),
            ("algorithm", "alg none, with an HS256 signature",
             craft({"alg": "none"}, good, secret)),
            ("algorithm", "alg none with typ and kid",
             craft({"alg": "none", "typ": "JWT", "kid": kid}, good, signature="")),
            ("algorithm", "alg None", craft({"alg": "None", "typ": "JWT", "kid": kid}, good, signature="")),
            ("algorithm", "alg NONE", craft({"alg": "NONE", "typ": "JWT", "kid": kid}, good, secret)),
            ("algorithm", "alg hs256 (lower case)", craft({"alg": "hs256", "typ": "JWT", "kid": kid}, good, secret)),
            ("algorithm", "HS512 with the same secret",
             jwt.encode(good, secret, algorithm="HS512", headers={"kid": kid})),
            ("algorithm", "HS384 with the same secret",
             jwt.encode(good, secret, algorithm="HS384", headers={"kid": kid})),
            ("algorithm", "RS256 label, HMAC-SHA256 signature (key confusion)",
             craft({"alg": "RS256", "typ": "JWT", "kid": kid}, good, secret)),
            ("algorithm", "RS256 label, 256-byte signature",
             craft({"alg": "RS256", "typ": "JWT", "kid": kid}, good, signature=b64e(os.urandom(256)))),
            ("unknown_kid", "unknown kid",
             jwt.encode(good, secret, algorithm="HS256", headers={"kid": "no-such-key"})),
            ("no_session", "no sid claim",
             jwt.encode(self.claims(sid=None), secret, algorithm="HS256", headers={"kid": kid})),
            ("unknown_session", "a made-up sid",
             jwt.encode(self.claims(sid=str(uuid.uuid4())), secret, algorithm="HS256", headers={"kid": kid})),
            ("other_users_session", "another user's sid",
             jwt.encode(self.claims(sid=self.bob_sid), secret, algorithm="HS256", headers={"kid": kid})),
            ("revoked_session", "a logged-out session's sid",
             jwt.encode(self.claims(sid=self.revoked_sid), secret, algorithm="HS256", headers={"kid": kid})),
        ]
        messages = {}
        for kind, what, token in cases:
            with self.subTest(kind=kind, case=what):
                msg = self.assertRejected(token, kind)
                messages.setdefault(kind, set()).add(msg)
        # distinct messages: no message is used for two different kinds
        kinds = sorted(messages)
        for i, a in enumerate(kinds):
            for b in kinds[i + 1:]:
                with self.subTest(distinct=(a, b)):
                    self.assertFalse(messages[a] & messages[b],
                                     "kinds %s and %s share the message %r" % (a, b, messages[a] & messages[b]))
        self.assertEqual(set(messages), set(KINDS), "not every kind of rejection was seen")

    def test_rejection_does_not_leak_into_claims_functions(self):
        # a refused set_session_token leaves no claims behind
        kid, secret = self.current_key()
        bad = jwt.encode(self.claims(exp=self.now() - 3600), secret, algorithm="HS256", headers={"kid": kid})
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                cur.execute("SAVEPOINT s")
                with self.assertRaises(psycopg2.Error) as ctx:
                    cur.execute("SELECT user_mgmt.set_session_token(%s)", (bad,))
                self.assertEqual(ctx.exception.pgcode, "28000")
                cur.execute("ROLLBACK TO SAVEPOINT s")
                cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()")
                self.assertEqual(cur.fetchone(), (None, None))
                good = jwt.encode(self.claims(), secret, algorithm="HS256", headers={"kid": kid})
                cur.execute("SELECT user_mgmt.set_session_token(%s)", (good,))
                self.assertEqual(cur.fetchone()[0]["sub"], str(self.uid))
                cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()::text")
                self.assertEqual(cur.fetchone(), (self.uid, "CASHIER"))
            finally:
                cur.execute("ROLLBACK")
        # the claims do not outlive the transaction
        with self.conn.cursor() as cur:
            cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()")
            self.assertEqual(cur.fetchone(), (None, None))

    # --- leeway --------------------------------------------------------------------

    def test_leeway(self):
        # (the tokens name alice's live session: only exp / nbf are at stake)
        kid, secret = self.current_key()
        t = self.now()
        expired = jwt.encode(self.claims(iat=t - 600, exp=t - 2), secret, algorithm="HS256",
                             headers={"kid": kid})
        early = jwt.encode(self.claims(nbf=t + 30, exp=t + 600), secret, algorithm="HS256",
                           headers={"kid": kid})
        self.execute("SET user_mgmt.token_leeway = 0")
        self.assertRejected(expired, "expired")
        self.assertRejected(early, "not_yet_valid")
        self.execute("SET user_mgmt.token_leeway = '10s'")
        self.assertEqual(self.verify(expired)["exp"], t - 2)
        self.execute("SET user_mgmt.token_leeway = '60s'")
        self.assertEqual(self.verify(early)["nbf"], t + 30)
        self.execute("RESET user_mgmt.token_leeway")
        self.assertRejected(expired, "expired")

    # --- rotation and retirement (runs last: it changes the current key) ----------

    def test_zz_rotation_and_retirement(self):
        old_kid, old_secret = self.current_key()
        old_tok = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        py_old = jwt.encode(self.claims(), old_secret, algorithm="HS256", headers={"kid": old_kid})

        new_kid = self.q("SELECT user_mgmt.rotate_signing_key()")
        self.assertIsInstance(new_kid, str)
        self.assertNotEqual(new_kid, old_kid)
        new_secret = bytes(self.q("SELECT user_mgmt.export_signing_key()"))
        self.assertNotEqual(new_secret, old_secret)
        self.assertEqual(bytes(self.q("SELECT user_mgmt.export_signing_key(%s)", old_kid)), old_secret)
        self.assertEqual(bytes(self.q("SELECT user_mgmt.export_signing_key(%s)", new_kid)), new_secret)

        new_tok = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        self.assertEqual(jwt.get_unverified_header(new_tok)["kid"], new_kid)
        login_tok = self.q("SELECT user_mgmt.login('tok_alice', %s)", PASSWORD)
        self.assertEqual(jwt.get_unverified_header(login_tok)["kid"], new_kid)
        jwt.decode(new_tok, key=new_secret, algorithms=["HS256"])
        with self.assertRaises(jwt.InvalidSignatureError):
            jwt.decode(new_tok, key=old_secret, algorithms=["HS256"])

        # old tokens keep verifying after the rotation
        self.assertEqual(self.verify(old_tok)["sub"], str(self.uid))
        self.assertEqual(self.verify(py_old)["sub"], str(self.uid))
        self.assertEqual(self.verify(new_tok)["sub"], str(self.uid))
        # the old kid with the new secret is a bad signature
        self.assertRejected(
            jwt.encode(self.claims(), new_secret, algorithm="HS256", headers={"kid": old_kid}),
            "signature")

        self.execute("SELECT user_mgmt.retire_signing_key(%s)", old_kid)
        self.assertIsNotNone(self.q("SELECT retired_at FROM user_mgmt.signing_keys WHERE kid = %s", old_kid))
        self.assertIsNone(self.q("SELECT retired_at FROM user_mgmt.signing_keys WHERE kid = %s", new_kid))
        for what, tok in (("issued by us", old_tok), ("signed by PyJWT", py_old),
                          ("signed by PyJWT after retirement",
                           jwt.encode(self.claims(), old_secret, algorithm="HS256",
                                      headers={"kid": old_kid}))):
            with self.subTest(retired=what):
                msg = self.rejection(tok)
                self.assertRegex(msg.lower(), r"key|retired", msg)
        # tokens of the current key are unaffected
        self.assertEqual(self.verify(new_tok)["sub"], str(self.uid))
        self.assertEqual(self.verify(login_tok)["sub"], str(self.uid))


if __name__ == "__main__":
    tap.main()
