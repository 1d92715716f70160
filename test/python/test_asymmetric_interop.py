#!/usr/bin/python3
"""Asymmetric token interoperability (1.5): EdDSA and ES256 vs PyJWT.

Run: /usr/bin/python3 test/python/test_asymmetric_interop.py
(needs PGHOST/PGPORT/PGUSER of a cluster where user_mgmt >= 1.5 is
installed, preloaded; connects as a superuser, which rotate_signing_key,
import_signing_key and export_signing_key require).

Both ways, with PyJWT 2.6 on python3-cryptography (an implementation of
its own, not OpenSSL's EVP code driven by ours):
- PyJWT verifies the EdDSA and ES256 access tokens of login(), sign_in(),
  refresh() and issue_token() with nothing but what jwks() publishes
  (PyJWKSet, the key picked by kid, algorithms pinned to that key's alg),
  and with public_key_pem() too;
- tokens PyJWT signs with a key pair of its own, whose public half a
  superuser imported with import_signing_key(), verify here when they carry
  the sid (and sub) of a live session, taken from a token login() issued;
  every wrong one is refused with SQLSTATE 28000 and its own message:
  another key's signature, HS256 with the public key as HMAC secret, the
  alg of the other curve, a DER ECDSA signature, an unknown kid, a key
  retired since.
No timing is asserted.
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
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

DB = "um_test_asymmetric_interop"
PASSWORD = "correct horse battery"
ALGS = ("EdDSA", "ES256")
OTHER = {"EdDSA": "ES256", "ES256": "EdDSA"}
CLAIM_KEYS = {"sub", "username", "role", "sid", "iat", "exp", "jti"}

MALFORMED = "malformed token"
MISMATCH = "token algorithm does not match its key"
BAD_SIGNATURE = "invalid token signature"
UNKNOWN_KID = "token has an unknown key id"


def b64e(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_seg(obj):
    return b64e(json.dumps(obj, separators=(",", ":")))


def new_key(alg):
    """A fresh private key of the algorithm, made by python3-cryptography."""
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def pem_of(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def spki_of(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def numbers_of(public_key):
    """What identifies a public key whatever its encoding (a compressed
    point included): the raw Ed25519 key, or the P-256 point."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return public_key.public_numbers()


def raw_signature(private_key, signing_input):
    """The JWS signature of signing_input: Ed25519's 64 bytes, or ES256's
    R || S (RFC 7518 3.4), each 32 bytes."""
    data = signing_input.encode()
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def craft(header, payload, sign):
    """A compact JWS built by hand; sign maps the signing input to the
    signature bytes."""
    signing_input = json_seg(header) + "." + json_seg(payload)
    return signing_input + "." + b64e(sign(signing_input))


def setUpModule():
    tap.create_test_db(DB)


def tearDownModule():
    tap.drop_test_db(DB)


class AsymmetricInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = tap.connect(DB)
        cls.conn.autocommit = True
        with cls.conn.cursor() as cur:
            cur.execute("SET user_mgmt.bcrypt_cost = 4")
            cur.execute("SET user_mgmt.max_sessions_per_user = 0")
            cur.execute("SELECT user_mgmt.create_user('asym_alice', %s, 'Alice Asym', 'CASHIER')",
                        (PASSWORD,))
            cls.uid = cur.fetchone()[0]
            cur.execute("SELECT user_mgmt.create_user('asym_bob', %s, 'Bob Asym')", (PASSWORD,))
            cls.bob = cur.fetchone()[0]
            # the HS256 key the extension was created with
            cur.execute("SELECT kid FROM user_mgmt.signing_keys WHERE algorithm = 'HS256'")
            cls.hs256_kid = cur.fetchone()[0]
            # one key of each algorithm made here (ES256 signs from now on)
            cls.our_kid = {}
            for alg in ALGS:
                cur.execute("SELECT user_mgmt.rotate_signing_key(%s)", (alg,))
                cls.our_kid[alg] = cur.fetchone()[0]
            # sids and subs of live sessions, from tokens our login() issued
            cls.sid = cls.claims_of_login(cur, "asym_alice")["sid"]
            cls.bob_sid = cls.claims_of_login(cur, "asym_bob")["sid"]
            # imported keys: PyJWT's key pairs, public halves imported here
            cls.imported = {}
            for alg in ALGS:
                kid = "pyjwt-" + alg.lower()
                priv = new_key(alg)
                cur.execute("SELECT user_mgmt.import_signing_key(%s, %s, %s)", (kid, alg, pem_of(priv)))
                cls.imported[alg] = (kid, priv)

    @staticmethod
    def claims_of_login(cur, username):
        cur.execute("SELECT user_mgmt.login(%s, %s)", (username, PASSWORD))
        return jwt.decode(cur.fetchone()[0], options={"verify_signature": False})

    @classmethod
    def tearDownClass(cls):
        try:
            with cls.conn.cursor() as cur:
                cur.execute("SELECT user_mgmt.stop_login_writer()")
        finally:
            cls.conn.close()

    def setUp(self):
        with self.conn.cursor() as cur:
            cur.execute("RESET ALL")
            cur.execute("SET user_mgmt.bcrypt_cost = 4")
            # every token issued opens a session: no cap may end the ones
            # whose sids the PyJWT tokens borrow
            cur.execute("SET user_mgmt.max_sessions_per_user = 0")

    # --- helpers -----------------------------------------------------------

    def q(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0]

    def row(self, query, *args):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()

    def now(self):
        return int(self.q("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint"))

    def sign_with(self, alg):
        """Makes a new key of ours of the algorithm the signing key; its kid."""
        return self.q("SELECT user_mgmt.rotate_signing_key(%s)", alg)

    def jwks(self):
        """What a client of jwks() gets: the JSON text, parsed."""
        return json.loads(self.q("SELECT user_mgmt.jwks()::text"))

    def our_tokens(self):
        """{origin: access token} from login(), sign_in(), refresh() and
        issue_token(), signed with the current key; and the session of
        sign_in (which refresh keeps)."""
        tokens = {"login": self.q("SELECT user_mgmt.login('asym_alice', %s)", PASSWORD)}
        access, refresh_token, sign_in_sid = self.row(
            "SELECT access_token, refresh_token, session_id::text "
            "FROM user_mgmt.sign_in('asym_alice', %s, 'asym-test', '127.0.0.1')", PASSWORD)
        tokens["sign_in"] = access
        tokens["refresh"], refresh_sid = self.row(
            "SELECT access_token, session_id::text FROM user_mgmt.refresh(%s)", refresh_token)
        self.assertEqual(refresh_sid, sign_in_sid)
        tokens["issue_token"] = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        return tokens, sign_in_sid

    def claims(self, **overrides):
        """Claims for a foreign token of asym_alice in her live session
        (sid from a token login() issued); None drops a claim."""
        t = self.now()
        c = {"sub": str(self.uid), "username": "asym_alice", "role": "CASHIER", "sid": self.sid,
             "iat": t, "exp": t + 600, "jti": "py-%s" % uuid.uuid4()}
        c.update(overrides)
        return {k: v for k, v in c.items() if v is not None}

    def verify(self, token):
        return self.q("SELECT user_mgmt.verify_token(%s)", token)

    def rejection(self, token):
        """The message of the 28000 error verify_token raises for token."""
        with self.assertRaises(psycopg2.Error, msg="verify_token accepted %r" % token) as ctx:
            self.verify(token)
        e = ctx.exception
        self.assertEqual(e.pgcode, "28000", "expected SQLSTATE 28000, got %s: %s" % (e.pgcode, e))
        return e.diag.message_primary

    def assertRejected(self, token, message):
        self.assertEqual(self.rejection(token), message, "token: %s" % token)

    def assertSqlError(self, sqlstate, query, *args):
        with self.assertRaises(psycopg2.Error) as ctx:
            self.q(query, *args)
        self.assertEqual(ctx.exception.pgcode, sqlstate, str(ctx.exception))
        return ctx.exception

    # --- jwks() --------------------------------------------------------------

    def test_jwks_publishes_our_asymmetric_keys_only(self):
        keys = self.jwks()["keys"]
        rows = self.q("SELECT coalesce(jsonb_object_agg(kid, algorithm), '{}') FROM user_mgmt.signing_keys "
                      "WHERE retired_at IS NULL AND algorithm <> 'HS256' AND secret IS NOT NULL")
        self.assertEqual({k["kid"]: k["alg"] for k in keys}, rows,
                         "jwks() is not exactly the unretired EdDSA/ES256 keys made here")
        kids = {k["kid"] for k in keys}
        self.assertNotIn(self.hs256_kid, kids, "an HS256 key is published")
        for alg in ALGS:
            self.assertIn(self.our_kid[alg], kids)
            self.assertNotIn(self.imported[alg][0], kids, "an imported key is published")
        for k in keys:
            with self.subTest(kid=k["kid"]):
                if k["alg"] == "EdDSA":
                    self.assertEqual(set(k), {"kty", "crv", "x", "kid", "alg", "use"}, k)
                    self.assertEqual((k["kty"], k["crv"]), ("OKP", "Ed25519"))
                    coords = [k["x"]]
                else:
                    self.assertEqual(set(k), {"kty", "crv", "x", "y", "kid", "alg", "use"}, k)
                    self.assertEqual((k["kty"], k["crv"]), ("EC", "P-256"))
                    coords = [k["x"], k["y"]]
                self.assertEqual(k["use"], "sig")
                for c in coords:  # RFC 7518 6.2.1.2: the full 32 bytes, unpadded base64url
                    self.assertRegex(c, r"^[A-Za-z0-9_-]{43}$")
                    self.assertEqual(len(b64d(c)), 32)
        # a retired key leaves the set, and its tokens stop verifying
        kid = self.sign_with("EdDSA")
        tok = self.q("SELECT user_mgmt.issue_token(%s)", self.uid)
        self.assertIn(kid, {k["kid"] for k in self.jwks()["keys"]})
        self.q("SELECT user_mgmt.retire_signing_key(%s)::text", kid)
        self.assertNotIn(kid, {k["kid"] for k in self.jwks()["keys"]})
        self.assertRejected(tok, UNKNOWN_KID)
        self.assertSqlError("P0002", "SELECT user_mgmt.public_key_pem(%s)", kid)
        # PyJWT takes every key of the set (PyJWKSet skips unusable ones silently)
        keyset = jwt.PyJWKSet.from_dict(self.jwks())
        self.assertEqual(sorted(k.key_id for k in keyset.keys), sorted(kids))
    def test_public_keys_are_public_importing_is_not(self):
        # A role with no grant reads jwks() and public_key_pem(), and can
        # neither import a key nor read a private one.
        role = "um_asym_nobody"
        ed = new_key("EdDSA")
        published = self.jwks()
        with self.conn.cursor() as cur:
            cur.execute("DROP ROLE IF EXISTS " + role)
            cur.execute("CREATE ROLE " + role)
            try:
                cur.execute("SET ROLE " + role)
                cur.execute("SELECT user_mgmt.jwks()::text")
                self.assertEqual(json.loads(cur.fetchone()[0]), published)
                cur.execute("SELECT user_mgmt.public_key_pem(%s)", (self.our_kid["ES256"],))
                self.assertIn("BEGIN PUBLIC KEY", cur.fetchone()[0])
                for query, args in (("SELECT user_mgmt.import_signing_key('nobody-key', 'EdDSA', %s)",
                                     (pem_of(ed),)),
                                    ("SELECT user_mgmt.export_signing_key(%s)", (self.our_kid["EdDSA"],)),
                                    ("SELECT user_mgmt.rotate_signing_key('EdDSA')", ())):
                    with self.subTest(query=query):
                        with self.assertRaises(psycopg2.Error) as ctx:
                            cur.execute(query, args)
                        self.assertEqual(ctx.exception.pgcode, "42501", str(ctx.exception))
            finally:
                cur.execute("RESET ROLE")
                cur.execute("DROP ROLE " + role)
        self.assertEqual(self.q("SELECT count(*) FROM user_mgmt.signing_keys WHERE kid = 'nobody-key'"), 0)

    # --- our tokens, read by PyJWT -------------------------------------------

    def test_pyjwt_verifies_our_tokens_with_the_jwks_alone(self):
        for alg in ALGS:
            with self.subTest(alg=alg):
                kid = self.sign_with(alg)
                tokens, sign_in_sid = self.our_tokens()
                published = self.jwks()
                keyset = jwt.PyJWKSet.from_dict(published)
                alg_of = {k["kid"]: k["alg"] for k in published["keys"]}
                for origin, tok in tokens.items():
                    with self.subTest(alg=alg, origin=origin):
                        header = jwt.get_unverified_header(tok)
                        self.assertEqual(header, {"alg": alg, "typ": "JWT", "kid": kid})
                        # as a relying party would: the key by kid, the
                        # algorithm that key's, never the token's
                        jwk = keyset[header["kid"]]
                        claims = jwt.decode(tok, key=jwk.key, algorithms=[alg_of[header["kid"]]])
                        self.assertEqual(set(claims), CLAIM_KEYS, claims)
                        self.assertEqual((claims["sub"], claims["username"], claims["role"]),
                                         (str(self.uid), "asym_alice", "CASHIER"))
                        self.assertEqual(len(b64d(tok.rsplit(".", 1)[1])), 64,
                                         "not a 64-byte JWS signature")
                        self.assertEqual(self.verify(tok), claims)
                        if origin in ("sign_in", "refresh"):
                            self.assertEqual(claims["sid"], sign_in_sid)
                        # PyJWT really checks: a changed claim fails
                        h, p, s = tok.split(".")
                        forged = dict(claims, role="ADMIN")
                        with self.assertRaises(jwt.InvalidSignatureError):
                            jwt.decode("%s.%s.%s" % (h, json_seg(forged), s), key=jwk.key,
                                       algorithms=[alg])
                        # and the key of the other algorithm is no key for it
                        other = keyset[self.our_kid[OTHER[alg]]]
                        with self.assertRaises(jwt.InvalidTokenError):
                            jwt.decode(tok, key=other.key, algorithms=[OTHER[alg]])

    def test_pyjwt_verifies_our_tokens_with_public_key_pem(self):
        for alg in ALGS:
            with self.subTest(alg=alg):
                kid = self.sign_with(alg)
                tokens, _ = self.our_tokens()
                pem = self.q("SELECT user_mgmt.public_key_pem(%s)", kid)
                self.assertRegex(pem, r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+"
                                      r"-----END PUBLIC KEY-----\n$")
                key = serialization.load_pem_public_key(pem.encode())
                self.assertIsInstance(key, ed25519.Ed25519PublicKey if alg == "EdDSA"
                                      else ec.EllipticCurvePublicKey)
                if alg == "ES256":
                    self.assertEqual(key.curve.name, "secp256r1")
                # the same key as the JWK
                jwk = jwt.PyJWKSet.from_dict(self.jwks())[kid]
                self.assertEqual(spki_of(key), spki_of(jwk.key))
                for origin, tok in tokens.items():
                    with self.subTest(alg=alg, origin=origin):
                        claims = jwt.decode(tok, key=key, algorithms=[alg])
                        self.assertEqual(self.verify(tok), claims)
                        # PyJWT takes the PEM text itself as a key too
                        self.assertEqual(jwt.decode(tok, key=pem, algorithms=[alg]), claims)

    def test_exported_private_key_is_pkcs8_and_signs_for_pyjwt(self):
        # export_signing_key(kid) of an asymmetric key: PKCS#8 DER that
        # python3-cryptography reads; its public half is the published one,
        # and PyJWT's tokens signed with it verify here.
        for alg in ALGS:
            with self.subTest(alg=alg):
                kid = self.our_kid[alg]
                der = bytes(self.q("SELECT user_mgmt.export_signing_key(%s)", kid))
                priv = serialization.load_der_private_key(der, password=None)
                jwk = jwt.PyJWKSet.from_dict(self.jwks())[kid]
                self.assertEqual(spki_of(priv.public_key()), spki_of(jwk.key))
                payload = self.claims()
                tok = jwt.encode(payload, priv, algorithm=alg, headers={"kid": kid})
                self.assertEqual(self.verify(tok), payload)

    # --- PyJWT's tokens, read by verify_token --------------------------------

    def test_imported_key_tokens_verify_here(self):
        signer = self.q("SELECT kid FROM user_mgmt.signing_keys WHERE retired_at IS NULL AND secret IS NOT NULL "
                        "ORDER BY created_at DESC LIMIT 1")
        for alg in ALGS:
            kid, priv = self.imported[alg]
            with self.subTest(alg=alg):
                self.assertEqual(self.row("SELECT algorithm, secret IS NULL, public_key = %s "
                                          "FROM user_mgmt.signing_keys WHERE kid = %s",
                                          spki_of(priv.public_key()), kid),
                                 (alg, True, True), "the imported key is not stored as its SPKI DER")
                payloads = [
                    self.claims(),
                    self.claims(nbf=self.now() - 5, aud="other service", extra=[1, {"x": None}]),
                    self.claims(sub=str(self.bob), sid=self.bob_sid, username="asym_bob", role="USER"),
                ]
                for payload in payloads:
                    tok = jwt.encode(payload, priv, algorithm=alg, headers={"kid": kid})
                    self.assertEqual(jwt.get_unverified_header(tok),
                                     {"alg": alg, "typ": "JWT", "kid": kid})
                    self.assertEqual(self.verify(tok), payload)
                # a hand-made one too, with R || S made from cryptography's DER
                payload = self.claims()
                tok = craft({"kid": kid, "alg": alg}, payload, lambda s: raw_signature(priv, s))
                self.assertEqual(self.verify(tok), payload)
                # set_session_token takes it: the session is the token's
                with self.conn.cursor() as cur:
                    cur.execute("BEGIN")
                    try:
                        cur.execute("SELECT user_mgmt.set_session_token(%s)", (tok,))
                        cur.execute("SELECT user_mgmt.current_user_id(), user_mgmt.current_session_id()::text")
                        self.assertEqual(cur.fetchone(), (self.uid, self.sid))
                    finally:
                        cur.execute("ROLLBACK")
                # its public key is readable, the same key; it is not published
                pem = self.q("SELECT user_mgmt.public_key_pem(%s)", kid)
                self.assertEqual(spki_of(serialization.load_pem_public_key(pem.encode())),
                                 spki_of(priv.public_key()))
                self.assertNotIn(kid, {k["kid"] for k in self.jwks()["keys"]})
                # it never signs, and has no private key to export
                e = self.assertSqlError("55000", "SELECT user_mgmt.export_signing_key(%s)", kid)
                self.assertIn("imported", e.diag.message_primary)
                self.assertEqual(jwt.get_unverified_header(
                    self.q("SELECT user_mgmt.issue_token(%s)", self.uid))["kid"], signer)

    def test_imported_key_tokens_keep_the_session_rules(self):
        for alg in ALGS:
            kid, priv = self.imported[alg]
            t = self.now()
            cases = [
                ("no sid", self.claims(sid=None), "token has no session"),
                ("made-up sid", self.claims(sid=str(uuid.uuid4())), "token's session does not exist"),
                ("another user's sid", self.claims(sid=self.bob_sid), "token does not match its session"),
                ("expired", self.claims(iat=t - 7200, exp=t - 3600), "token has expired"),
                ("no exp", self.claims(exp=None), "token has no expiry"),
            ]
            for what, payload, message in cases:
                with self.subTest(alg=alg, case=what):
                    self.assertRejected(jwt.encode(payload, priv, algorithm=alg, headers={"kid": kid}),
                                        message)

    def test_rejections(self):
        for alg in ALGS:
            kid, priv = self.imported[alg]
            other_kid, other_priv = self.imported[OTHER[alg]]
            our_kid = self.our_kid[alg]
            our_pem = self.q("SELECT user_mgmt.public_key_pem(%s)", our_kid)
            our_jwk = next(k for k in self.jwks()["keys"] if k["kid"] == our_kid)
            pem = pem_of(priv)
            payload = self.claims()
            stranger = new_key(alg)

            def hs256(secret):
                return lambda s: hmac.new(secret, s.encode(), hashlib.sha256).digest()

            def der_es256(key):
                return lambda s: key.sign(s.encode(), ec.ECDSA(hashes.SHA256()))

            cases = [
                (BAD_SIGNATURE, "signed with another key (PyJWT) under the imported kid",
                 jwt.encode(payload, stranger, algorithm=alg, headers={"kid": kid})),
                (BAD_SIGNATURE, "signed with another key under our kid",
                 jwt.encode(payload, stranger, algorithm=alg, headers={"kid": our_kid})),
                (BAD_SIGNATURE, "a claim changed after PyJWT signed",
                 (lambda t: t.split(".")[0] + "." + json_seg(dict(payload, role="ADMIN")) + "."
                  + t.split(".")[2])(jwt.encode(payload, priv, algorithm=alg, headers={"kid": kid}))),
                (MISMATCH, "HS256, the imported PEM as HMAC secret",
                 craft({"alg": "HS256", "typ": "JWT", "kid": kid}, payload, hs256(pem.encode()))),
                (MISMATCH, "HS256, the PEM without its final newline as HMAC secret",
                 craft({"alg": "HS256", "typ": "JWT", "kid": kid}, payload, hs256(pem.strip().encode()))),
                (MISMATCH, "HS256, the SPKI DER as HMAC secret",
                 craft({"alg": "HS256", "typ": "JWT", "kid": kid}, payload,
                       hs256(spki_of(priv.public_key())))),
                (MISMATCH, "HS256, public_key_pem() of our key as HMAC secret under its kid",
                 craft({"alg": "HS256", "typ": "JWT", "kid": our_kid}, payload, hs256(our_pem.encode()))),
                (MISMATCH, "HS256, our JWK's x as HMAC secret under its kid",
                 craft({"alg": "HS256", "typ": "JWT", "kid": our_kid}, payload, hs256(b64d(our_jwk["x"])))),
                (MISMATCH, "alg of the other curve, signed by the kid's own key",
                 craft({"alg": OTHER[alg], "typ": "JWT", "kid": kid}, payload,
                       lambda s: raw_signature(priv, s))),
                (MISMATCH, "alg of the other curve, signed by a key of that curve",
                 craft({"alg": OTHER[alg], "typ": "JWT", "kid": kid}, payload,
                       lambda s: raw_signature(other_priv, s))),
                (MISMATCH, "a token of the other imported key, relabelled with this kid",
                 jwt.encode(payload, other_priv, algorithm=OTHER[alg], headers={"kid": kid})),
                (MISMATCH, "the other algorithm under our kid",
                 craft({"alg": OTHER[alg], "typ": "JWT", "kid": our_kid}, payload,
                       lambda s: raw_signature(new_key(OTHER[alg]), s))),
                (UNKNOWN_KID, "a kid never imported",
                 jwt.encode(payload, stranger, algorithm=alg, headers={"kid": "never-imported"})),
                (UNKNOWN_KID, "the imported kid in another case",
                 jwt.encode(payload, priv, algorithm=alg, headers={"kid": kid.upper()})),
                (MALFORMED, "a 63-byte signature",
                 craft({"alg": alg, "typ": "JWT", "kid": kid}, payload, lambda s: raw_signature(priv, s)[:63])),
                (MALFORMED, "a 65-byte signature",
                 craft({"alg": alg, "typ": "JWT", "kid": kid}, payload,
                       lambda s: raw_signature(priv, s) + b"\0")),
                (MALFORMED, "an empty signature",
                 craft({"alg": alg, "typ": "JWT", "kid": kid}, payload, lambda s: b"")),
            ]
            if alg == "ES256":
                cases += [
                    (MALFORMED, "a DER ECDSA signature instead of R || S",
                     craft({"alg": alg, "typ": "JWT", "kid": kid}, payload, der_es256(priv))),
                    (MALFORMED, "R || S with 33-byte halves",
                     craft({"alg": alg, "typ": "JWT", "kid": kid}, payload,
                           lambda s: (lambda r: b"\0" + r[:32] + b"\0" + r[32:])(raw_signature(priv, s)))),
                    (BAD_SIGNATURE, "R and S swapped",
                     craft({"alg": alg, "typ": "JWT", "kid": kid}, payload,
                           lambda s: (lambda r: r[32:] + r[:32])(raw_signature(priv, s)))),
                    (BAD_SIGNATURE, "R = S = 0",
                     craft({"alg": alg, "typ": "JWT", "kid": kid}, payload, lambda s: bytes(64))),
                    (BAD_SIGNATURE, "R = S = 2^256 - 1 (above the group order)",
                     craft({"alg": alg, "typ": "JWT", "kid": kid}, payload, lambda s: b"\xff" * 64)),
                ]
            for message, what, token in cases:
                with self.subTest(alg=alg, case=what):
                    self.assertRejected(token, message)
                    if message == MALFORMED and alg == "ES256" and "DER" in what:
                        # the DER really is a valid ECDSA signature, just not JWS's form
                        der = b64d(token.rsplit(".", 1)[1])
                        self.assertNotEqual(len(der), 64)
                        priv.public_key().verify(der, token.rsplit(".", 1)[0].encode(),
                                                 ec.ECDSA(hashes.SHA256()))
            # and the genuine one, for contrast
            with self.subTest(alg=alg, case="genuine"):
                self.assertEqual(self.verify(jwt.encode(payload, priv, algorithm=alg,
                                                        headers={"kid": kid})), payload)

    def test_retired_imported_key(self):
        for alg in ALGS:
            with self.subTest(alg=alg):
                kid = "retired-" + alg.lower()
                priv = new_key(alg)
                self.q("SELECT user_mgmt.import_signing_key(%s, %s, %s)::text", kid, alg, pem_of(priv))
                tok = jwt.encode(self.claims(), priv, algorithm=alg, headers={"kid": kid})
                self.assertEqual(self.verify(tok)["sid"], self.sid)
                self.q("SELECT user_mgmt.retire_signing_key(%s)::text", kid)
                self.assertIsNotNone(self.q("SELECT retired_at FROM user_mgmt.signing_keys WHERE kid = %s", kid))
                self.assertRejected(tok, UNKNOWN_KID)
                self.assertRejected(jwt.encode(self.claims(), priv, algorithm=alg, headers={"kid": kid}),
                                    UNKNOWN_KID)
                self.assertSqlError("P0002", "SELECT user_mgmt.public_key_pem(%s)", kid)
                # the other imported keys are unaffected
                other_kid, other_priv = self.imported[alg]
                self.assertEqual(self.verify(jwt.encode(self.claims(), other_priv, algorithm=alg,
                                                        headers={"kid": other_kid}))["sid"], self.sid)

    def test_import_takes_pem_as_tools_write_it(self):
        # CRLF line ends (a file from Windows) and a compressed P-256 point
        # (openssl ec -conv_form compressed): the same keys, tokens verify
        ed = new_key("EdDSA")
        p256 = new_key("ES256")
        compressed = p256.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.CompressedPoint)
        spki = bytes.fromhex("3039301306072a8648ce3d020106082a8648ce3d030107032200") + compressed
        compressed_pem = ("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n"
                          % base64.b64encode(spki).decode())
        self.assertEqual(numbers_of(serialization.load_pem_public_key(compressed_pem.encode())),
                         numbers_of(p256.public_key()))
        for kid, alg, priv, pem in (("crlf-ed", "EdDSA", ed, pem_of(ed).replace("\n", "\r\n")),
                                    ("compressed-p256", "ES256", p256, compressed_pem)):
            with self.subTest(kid=kid):
                self.q("SELECT user_mgmt.import_signing_key(%s, %s, %s)::text", kid, alg, pem)
                payload = self.claims()
                self.assertEqual(self.verify(jwt.encode(payload, priv, algorithm=alg, headers={"kid": kid})),
                                 payload)
                back = self.q("SELECT user_mgmt.public_key_pem(%s)", kid)
                self.assertEqual(numbers_of(serialization.load_pem_public_key(back.encode())),
                                 numbers_of(priv.public_key()))

    def test_import_refuses_small_order_ed25519_keys(self):
        # An Ed25519 public key of small order (here the identity point)
        # would let a signature R = identity, S = 0 verify for every message
        # under its kid (libcrypto's Ed25519 does not refuse such keys;
        # libsodium does): import_signing_key refuses them (22023).
        identity = bytes([1]) + bytes(31)
        spki = bytes.fromhex("302a300506032b6570032100") + identity
        pem = "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(spki).decode()
        try:
            self.q("SELECT user_mgmt.import_signing_key('small-order', 'EdDSA', %s)::text", pem)
        except psycopg2.Error as e:
            self.assertEqual(e.pgcode, "22023", str(e))
            return
        forged = craft({"alg": "EdDSA", "kid": "small-order"}, self.claims(role="ADMIN"),
                       lambda s: identity + bytes(32))
        try:
            self.assertRejected(forged, BAD_SIGNATURE)  # or at least its forgeries refused
        finally:
            self.q("SELECT user_mgmt.retire_signing_key('small-order')::text")

    def test_import_refuses_what_is_not_such_a_key(self):
        ed = new_key("EdDSA")
        p256 = new_key("ES256")
        p384 = ec.generate_private_key(ec.SECP384R1())
        private_pem = ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode()
        cases = [
            ("22023", "EdDSA", pem_of(p256), "a P-256 key as EdDSA"),
            ("22023", "ES256", pem_of(ed), "an Ed25519 key as ES256"),
            ("22023", "ES256", pem_of(p384), "a P-384 key"),
            ("22023", "EdDSA", private_pem, "a private key"),
            ("22023", "HS256", pem_of(ed), "algorithm HS256"),
            ("22023", "eddsa", pem_of(ed), "algorithm in lower case"),
            ("22023", "EdDSA", pem_of(ed)[:-40], "a truncated PEM"),
            ("22023", "EdDSA", "", "an empty text"),
        ]
        for i, (sqlstate, alg, pem, what) in enumerate(cases):
            with self.subTest(case=what):
                self.assertSqlError(sqlstate, "SELECT user_mgmt.import_signing_key(%s, %s, %s)::text",
                                    "bad-import-%d" % i, alg, pem)
        self.assertEqual(self.q("SELECT count(*) FROM user_mgmt.signing_keys WHERE kid LIKE 'bad-import-%%'"), 0)
        # a kid tokens cannot carry, and a kid already taken
        self.assertSqlError("22023", "SELECT user_mgmt.import_signing_key(%s, 'EdDSA', %s)::text",
                            "has space", pem_of(ed))
        self.assertSqlError("23505", "SELECT user_mgmt.import_signing_key(%s, 'EdDSA', %s)::text",
                            self.imported["EdDSA"][0], pem_of(ed))
        self.assertSqlError("23505", "SELECT user_mgmt.import_signing_key(%s, 'EdDSA', %s)::text",
                            self.our_kid["EdDSA"], pem_of(ed))


if __name__ == "__main__":
    tap.main()
