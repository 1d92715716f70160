/*
 * test_jws_pk.c
 *		EdDSA and ES256 against RFC 8037 A.4 and RFC 7515 A.3, round trips,
 *		and every way a key or signature may be wrong.
 *
 * The DER keys were made from the RFCs' JWKs with python3-cryptography, an
 * independent implementation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jws_pk.h"
#include "tap.h"
#include "unit_tests.h"

/* RFC 8037 A.1 / A.2: the Ed25519 key (PKCS#8 and SPKI). */
static const char ed_private_hex[] =
"302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char ed_public_hex[] =
"302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/* RFC 8037 A.4: signing input and signature. */
static const char ed_input[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char ed_sig[] =
"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/* RFC 7515 A.3: the P-256 public key, signing input and signature. */
static const char es_public_hex[] =
"3059301306072a8648ce3d020106082a8648ce3d030107034200047fcdce2770f6c45d4183cbee6fdb4b7b"
"580733357be9ef13bacf6e3c7bd15445c7f144cd1bbd9b7e872cdfedb9eeb9f4b3695d6ea90b24ad8a4623288588e5ad";
static const char es_input[] =
"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char es_sig[] =
"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char es_public_pem[] =
"-----BEGIN PUBLIC KEY-----\n"
"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
"6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
"-----END PUBLIC KEY-----\n";
/* A P-384 public key: an elliptic curve no JWS algorithm here uses. */
static const char p384_public_pem[] =
"-----BEGIN PUBLIC KEY-----\n"
"MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEt+3KWL5mgFHEk9hZDh1d7k0Z0PY7KM6V\n"
"szlrAuta67i8dG+Aa8o5wwU2mTOToYSU2Jombm8jfOuCuJDCoUWYL6g1zeP4+1vG\n"
"5Oil8489jKWMIYpw6VT/dowm+sWc9pfA\n"
"-----END PUBLIC KEY-----\n";

static size_t
from_hex(const char *hex, uint8_t *out)
{
	size_t		n = strlen(hex) / 2;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned	v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t) v;
	}
	return n;
}

static size_t
from_b64url(const char *text, uint8_t *out)
{
	size_t		len = 0;

	if (um_b64url_decode(text, strlen(text), out, &len) != 0)
		return 0;
	return len;
}

static void
test_vectors(void)
{
	uint8_t		der[128];
	uint8_t		sig[UM_PK_SIG_LEN];
	uint8_t		mine[UM_PK_SIG_LEN];
	size_t		n;
	um_pk_key  *pub;
	um_pk_key  *priv;
	char		x[UM_PK_COORD_LEN + 1];
	char		y[UM_PK_COORD_LEN + 1];

	n = from_hex(ed_public_hex, der);
	pub = um_pk_load_public(UM_PK_EDDSA, der, n);
	tap_ok(pub != NULL, "pk: RFC 8037 Ed25519 public key loads");
	n = from_b64url(ed_sig, sig);
	tap_ok(n == UM_PK_SIG_LEN && pub != NULL &&
		   um_pk_verify(pub, (const uint8_t *) ed_input, strlen(ed_input), sig, n) == 1,
		   "pk: RFC 8037 A.4 signature verifies");
	tap_ok(pub != NULL && um_pk_jwk_coordinates(pub, x, y) == 0 &&
		   strcmp(x, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == 0 && y[0] == '\0',
		   "pk: Ed25519 JWK x is RFC 8037's, no y");

	n = from_hex(ed_private_hex, der);
	priv = um_pk_load_private(UM_PK_EDDSA, der, n);
	tap_ok(priv != NULL && um_pk_sign(priv, (const uint8_t *) ed_input, strlen(ed_input), mine) == 0 &&
		   memcmp(mine, sig, UM_PK_SIG_LEN) == 0,
		   "pk: signing RFC 8037 A.4's input gives its signature (Ed25519 is deterministic)");
	tap_ok(um_pk_load_private(UM_PK_ES256, der, n) == NULL,
		   "pk: an Ed25519 private key does not load as ES256");
	tap_ok(um_pk_load_public(UM_PK_EDDSA, der, n) == NULL,
		   "pk: a private key does not load as a public one");
	um_pk_free(priv);
	um_pk_free(pub);

	n = from_hex(es_public_hex, der);
	pub = um_pk_load_public(UM_PK_ES256, der, n);
	tap_ok(pub != NULL, "pk: RFC 7515 P-256 public key loads");
	n = from_b64url(es_sig, sig);
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, n) == 1,
		   "pk: RFC 7515 A.3 signature verifies (R || S, not DER)");
	tap_ok(pub != NULL && um_pk_jwk_coordinates(pub, x, y) == 0 &&
		   strcmp(x, "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU") == 0 &&
		   strcmp(y, "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0") == 0,
		   "pk: P-256 JWK x and y are RFC 7515's");
	sig[0] ^= 1;
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, n) == 0,
		   "pk: a changed R fails");
	sig[0] ^= 1;
	sig[63] ^= 0x80;
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, n) == 0,
		   "pk: a changed S fails");
	sig[63] ^= 0x80;
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input) - 1, sig, n) == 0,
		   "pk: a changed input fails");
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, 63) == 0,
		   "pk: a 63-byte signature fails");
	memset(sig, 0, sizeof(sig));
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, 64) == 0,
		   "pk: R = S = 0 fails");
	memset(sig, 0xff, sizeof(sig));
	tap_ok(pub != NULL && um_pk_verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, 64) == 0,
		   "pk: R, S above the group order fail");
	tap_ok(um_pk_load_public(UM_PK_EDDSA, der, from_hex(es_public_hex, der)) == NULL,
		   "pk: a P-256 key does not load as EdDSA");
	tap_ok(um_pk_load_public(UM_PK_ES256, der, from_hex(es_public_hex, der) - 1) == NULL,
		   "pk: a truncated key does not load");
	der[n = from_hex(es_public_hex, der)] = 0;
	tap_ok(um_pk_load_public(UM_PK_ES256, der, n + 1) == NULL,
		   "pk: a key with a byte after it does not load");
	um_pk_free(pub);
}

static void
test_round_trips(int alg, const char *name)
{
	uint8_t    *priv_der;
	uint8_t    *pub_der;
	uint8_t    *again;
	size_t		priv_len;
	size_t		pub_len;
	size_t		again_len;
	uint8_t		sig[UM_PK_SIG_LEN];
	uint8_t		sig2[UM_PK_SIG_LEN];
	static const uint8_t msg[] = "header.payload";
	um_pk_key  *priv;
	um_pk_key  *pub;
	char	   *pem;
	int			pem_alg;

	tap_ok(um_pk_generate(alg, &priv_der, &priv_len, &pub_der, &pub_len) == 0,
		   "pk %s: a key pair is generated", name);
	priv = um_pk_load_private(alg, priv_der, priv_len);
	pub = um_pk_load_public(alg, pub_der, pub_len);
	tap_ok(priv != NULL && pub != NULL, "pk %s: both halves load", name);
	if (priv == NULL || pub == NULL)
		return;
	tap_ok(um_pk_sign(priv, msg, sizeof(msg) - 1, sig) == 0 &&
		   um_pk_verify(pub, msg, sizeof(msg) - 1, sig, sizeof(sig)) == 1 &&
		   um_pk_verify(priv, msg, sizeof(msg) - 1, sig, sizeof(sig)) == 1,
		   "pk %s: a signature verifies with the public and the private key", name);
	tap_ok(um_pk_sign(priv, msg, sizeof(msg) - 1, sig2) == 0 &&
		   um_pk_verify(pub, msg, sizeof(msg) - 1, sig2, sizeof(sig2)) == 1,
		   "pk %s: a second signature verifies too", name);
	tap_ok(um_pk_public_der(priv, &again, &again_len) == 0 && again_len == pub_len &&
		   memcmp(again, pub_der, pub_len) == 0,
		   "pk %s: the private key's public half is the public key", name);
	free(again);
	pem = um_pk_public_pem(pub);
	tap_ok(pem != NULL && strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0 &&
		   um_pk_public_from_pem(pem, strlen(pem), &pem_alg, &again, &again_len) == 0 &&
		   pem_alg == alg && again_len == pub_len && memcmp(again, pub_der, pub_len) == 0,
		   "pk %s: PEM out and back in is the same key", name);
	free(again);
	free(pem);
	um_pk_free(priv);
	um_pk_free(pub);
	free(priv_der);
	free(pub_der);
}

static void
test_pem(void)
{
	uint8_t    *der;
	size_t		len;
	int			alg;
	const char *private_pem =
		"-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
		"-----END PRIVATE KEY-----\n";

	tap_ok(um_pk_public_from_pem(es_public_pem, strlen(es_public_pem), &alg, &der, &len) == 0 &&
		   alg == UM_PK_ES256 && len == 91,
		   "pk: a P-256 PEM public key is ES256");
	free(der);
	tap_ok(um_pk_public_from_pem(p384_public_pem, strlen(p384_public_pem), &alg, &der, &len) != 0,
		   "pk: a P-384 public key is refused");
	tap_ok(um_pk_public_from_pem(private_pem, strlen(private_pem), &alg, &der, &len) != 0,
		   "pk: a private key is not taken for a public one");
	tap_ok(um_pk_public_from_pem("not a key", 9, &alg, &der, &len) != 0,
		   "pk: text that is no PEM is refused");
	tap_ok(um_pk_public_from_pem("", 0, &alg, &der, &len) != 0, "pk: empty text is refused");
	tap_ok(strcmp(um_pk_alg_name(UM_PK_EDDSA), "EdDSA") == 0 &&
		   strcmp(um_pk_alg_name(UM_PK_ES256), "ES256") == 0 &&
		   um_pk_alg_from_name("ES256") == UM_PK_ES256 &&
		   um_pk_alg_from_name("EdDSA") == UM_PK_EDDSA &&
		   um_pk_alg_from_name("eddsa") == 0 && um_pk_alg_from_name("ES384") == 0 &&
		   um_pk_alg_name(0) == NULL,
		   "pk: algorithm names are exact");
}

/* An Ed25519 SPKI around 32 raw bytes. */
static size_t
ed_spki(const uint8_t raw[32], uint8_t *der)
{
	static const uint8_t prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
	0x70, 0x03, 0x21, 0x00};

	memcpy(der, prefix, sizeof(prefix));
	memcpy(der + sizeof(prefix), raw, 32);
	return sizeof(prefix) + 32;
}

static void
test_weak_keys(void)
{
	uint8_t		raw[32];
	uint8_t		der[64];
	uint8_t		sig[UM_PK_SIG_LEN];
	int			refused = 1;
	int			i;
	static const char *const weak[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000080",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	};

	for (i = 0; i < (int) (sizeof(weak) / sizeof(weak[0])); i++)
	{
		um_pk_key  *key;

		from_hex(weak[i], raw);
		key = um_pk_load_public(UM_PK_EDDSA, der, ed_spki(raw, der));
		if (key != NULL)
		{
			refused = 0;
			tap_diag("weak key %s loaded", weak[i]);
		}
		um_pk_free(key);
	}
	tap_ok(refused, "pk: the 12 small-order and non-canonical Ed25519 keys are refused");

	/* The forgery such a key would allow: R = identity, S = 0. */
	memset(sig, 0, sizeof(sig));
	sig[0] = 1;
	from_hex(ed_public_hex + 24, raw);
	{
		um_pk_key  *key = um_pk_load_public(UM_PK_EDDSA, der, ed_spki(raw, der));

		tap_ok(key != NULL && um_pk_verify(key, (const uint8_t *) "any", 3, sig, 64) == 0,
			   "pk: R = identity, S = 0 does not verify with a sound key");
		um_pk_free(key);
	}
}

static void
test_strict_pem(void)
{
	uint8_t    *der;
	size_t		len;
	int			alg;
	char		text[2048];
	const char *private_pem =
		"-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
		"-----END PRIVATE KEY-----\n";

	snprintf(text, sizeof(text), "\n  %s\n\n", es_public_pem);
	tap_ok(um_pk_public_from_pem(text, strlen(text), &alg, &der, &len) == 0 && alg == UM_PK_ES256,
		   "pk: white space around the PEM is fine");
	free(der);
	snprintf(text, sizeof(text), "%s%s", private_pem, es_public_pem);
	tap_ok(um_pk_public_from_pem(text, strlen(text), &alg, &der, &len) != 0,
		   "pk: a private key before the public one is refused");
	snprintf(text, sizeof(text), "%s%s", es_public_pem, es_public_pem);
	tap_ok(um_pk_public_from_pem(text, strlen(text), &alg, &der, &len) != 0,
		   "pk: two public keys are refused");
	snprintf(text, sizeof(text), "junk\n%s", es_public_pem);
	tap_ok(um_pk_public_from_pem(text, strlen(text), &alg, &der, &len) != 0,
		   "pk: text before the PEM is refused");
	snprintf(text, sizeof(text), "%sjunk", es_public_pem);
	tap_ok(um_pk_public_from_pem(text, strlen(text), &alg, &der, &len) != 0,
		   "pk: text after the PEM is refused");
	snprintf(text, sizeof(text), "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n"
			 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
			 "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
			 "-----END PUBLIC KEY-----\n");
	tap_ok(um_pk_public_from_pem(text, strlen(text), &alg, &der, &len) != 0,
		   "pk: a PEM with headers is refused");
}

void
test_jws_pk(void)
{
	test_vectors();
	test_round_trips(UM_PK_EDDSA, "EdDSA");
	test_round_trips(UM_PK_ES256, "ES256");
	test_pem();
	test_weak_keys();
	test_strict_pem();
}
