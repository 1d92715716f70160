/*
 * fuzz_jws_pk.c
 *		libFuzzer target: the key parsers and the signature check of the
 *		EdDSA and ES256 code (src/core/jws_pk.c) on arbitrary bytes.
 *
 * The first byte picks what the rest is:
 *   0  PEM text for um_pk_public_from_pem; whatever it takes must load as
 *      a public key of the algorithm it names, re-export to the same DER,
 *      and go out as PEM and back in to the same DER;
 *   1  DER for um_pk_load_public, as EdDSA and as ES256;
 *   2  DER for um_pk_load_private, as EdDSA and as ES256;
 *   3  a signature check with a fixed valid key (RFC 8037 / RFC 7515):
 *      byte 1 picks the key (bit 0) and the signature's length (the other
 *      bits, 0 to 127 bytes, taken from the end); the rest is the message.
 * A key that loads must give its JWK coordinates, its DER and PEM (which
 * load again as the same key), and answer um_pk_verify.  um_pk_verify must
 * answer 0 or 1, never crash; with the fixed keys, an accepted signature
 * must not also cover a longer message, and an Ed25519 signature of the
 * RFC's input is accepted only as the RFC's own (OpenSSL's Ed25519 is not
 * malleable).  (Fuzzed keys are only held to 0 or 1: a small-order Ed25519
 * key, say, may accept one signature for every message.)  Everything
 * allocated is freed (LeakSanitizer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws_pk.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 8037 A.2's Ed25519 public key and RFC 7515 A.3's P-256 one (SPKI). */
static const char ed_public_hex[] =
"302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char es_public_hex[] =
"3059301306072a8648ce3d020106082a8648ce3d030107034200047fcdce2770f6c45d4183cbee6fdb4b7b"
"580733357be9ef13bacf6e3c7bd15445c7f144cd1bbd9b7e872cdfedb9eeb9f4b3695d6ea90b24ad8a4623288588e5ad";
/* RFC 8037 A.4: the signing input and its signature (hex). */
static const char ed_input[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char ed_sig_hex[] =
"860c98d2297f3060a33f42739672d61b53cf3adefed3d3c672f320dc021b411e"
"9d59b8628dc351e248b88b29468e0e41855b0fb7d83bb15be902bfccb8cd0a02";
static const char es_input[] =
"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

static um_pk_key *fixed[3];		/* by algorithm */
static uint8_t ed_sig[UM_PK_SIG_LEN];

static size_t
from_hex(const char *hex, uint8_t *out)
{
	size_t		n = strlen(hex) / 2;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned	v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t) v;
	}
	return n;
}

static void
load_fixed_keys(void)
{
	uint8_t		der[128];

	if (fixed[UM_PK_EDDSA] != NULL)
		return;
	fixed[UM_PK_EDDSA] = um_pk_load_public(UM_PK_EDDSA, der, from_hex(ed_public_hex, der));
	fixed[UM_PK_ES256] = um_pk_load_public(UM_PK_ES256, der, from_hex(es_public_hex, der));
	if (fixed[UM_PK_EDDSA] == NULL || fixed[UM_PK_ES256] == NULL ||
		from_hex(ed_sig_hex, ed_sig) != UM_PK_SIG_LEN ||
		um_pk_verify(fixed[UM_PK_EDDSA], (const uint8_t *) ed_input, strlen(ed_input),
					 ed_sig, UM_PK_SIG_LEN) != 1)
		abort();
}

/* um_pk_verify, which must answer 0 or 1. */
static int
verify(const um_pk_key *key, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	int			rc = um_pk_verify(key, msg, len, sig, sig_len);

	if (rc != 0 && rc != 1)
		abort();
	return rc;
}

/* A signature check whose answer is 1 must not hold for msg + one byte. */
static void
check_verify(const um_pk_key *key, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	uint8_t    *longer;

	if (verify(key, msg, len, sig, sig_len) == 0)
		return;
	if (sig_len != UM_PK_SIG_LEN || (longer = malloc(len + 1)) == NULL)
		abort();
	memcpy(longer, msg, len);
	longer[len] = '.';
	if (verify(key, longer, len + 1, sig, sig_len) != 0)
		abort();
	free(longer);
}

/* What a loaded key must do: its DER loads again as the same key, its
 * PEM reads back to that DER, coordinates exist, verify answers. */
static void
check_key(int alg, const um_pk_key *key, const uint8_t *sig_src, size_t sig_src_len)
{
	uint8_t    *der;
	uint8_t    *again;
	size_t		der_len;
	size_t		again_len;
	char	   *pem;
	int			pem_alg;
	char		x[UM_PK_COORD_LEN + 1];
	char		y[UM_PK_COORD_LEN + 1];
	um_pk_key  *pub;
	uint8_t		sig[UM_PK_SIG_LEN];

	if (um_pk_public_der(key, &der, &der_len) != 0)
		abort();
	pub = um_pk_load_public(alg, der, der_len);
	if (pub == NULL)
		abort();
	if (um_pk_public_der(pub, &again, &again_len) != 0 ||
		again_len != der_len || memcmp(again, der, der_len) != 0)
		abort();
	free(again);

	pem = um_pk_public_pem(key);
	if (pem == NULL ||
		um_pk_public_from_pem(pem, strlen(pem), &pem_alg, &again, &again_len) != 0 ||
		pem_alg != alg || again_len != der_len || memcmp(again, der, der_len) != 0)
		abort();
	free(again);
	free(pem);

	if (um_pk_jwk_coordinates(key, x, y) != 0 || strlen(x) != UM_PK_COORD_LEN ||
		strlen(y) != (alg == UM_PK_ES256 ? UM_PK_COORD_LEN : 0))
		abort();

	/* Some bytes of the input as a signature, over the RFC's input. */
	memset(sig, 0, sizeof(sig));
	memcpy(sig, sig_src, sig_src_len < UM_PK_SIG_LEN ? sig_src_len : UM_PK_SIG_LEN);
	(void) verify(key, (const uint8_t *) es_input, strlen(es_input), sig, UM_PK_SIG_LEN);
	(void) verify(pub, (const uint8_t *) es_input, strlen(es_input), sig, UM_PK_SIG_LEN);

	um_pk_free(pub);
	free(der);
}

static void
fuzz_pem(const uint8_t *data, size_t size)
{
	uint8_t    *der = (uint8_t *) 1;
	size_t		der_len = 0;
	int			alg = -1;
	um_pk_key  *key;
	uint8_t    *again;
	size_t		again_len;

	if (um_pk_public_from_pem((const char *) data, size, &alg, &der, &der_len) != 0)
	{
		if (der != NULL)
			abort();
		return;
	}
	if ((alg != UM_PK_EDDSA && alg != UM_PK_ES256) || der == NULL || der_len == 0)
		abort();
	/* It loads as a key of that algorithm only, and re-exports to the same DER. */
	key = um_pk_load_public(alg, der, der_len);
	if (key == NULL || um_pk_load_public(alg == UM_PK_EDDSA ? UM_PK_ES256 : UM_PK_EDDSA,
										 der, der_len) != NULL)
		abort();
	if (um_pk_public_der(key, &again, &again_len) != 0 ||
		again_len != der_len || memcmp(again, der, der_len) != 0)
		abort();
	free(again);
	check_key(alg, key, data, size);
	um_pk_free(key);
	free(der);
}

static void
fuzz_der(const uint8_t *data, size_t size, int private_part)
{
	int			alg;

	for (alg = UM_PK_EDDSA; alg <= UM_PK_ES256; alg++)
	{
		um_pk_key  *key = private_part ? um_pk_load_private(alg, data, size) :
			um_pk_load_public(alg, data, size);
		uint8_t		sig[UM_PK_SIG_LEN];

		if (key == NULL)
			continue;
		check_key(alg, key, data, size);
		if (private_part && um_pk_sign(key, data, size, sig) == 0)
			(void) verify(key, data, size, sig, UM_PK_SIG_LEN);
		um_pk_free(key);
	}
}

static void
fuzz_verify(const uint8_t *data, size_t size)
{
	int			alg;
	size_t		sig_len;
	const uint8_t *msg = data + 1;
	size_t		msg_len;

	if (size < 1)
		return;
	alg = (data[0] & 1) ? UM_PK_ES256 : UM_PK_EDDSA;
	sig_len = data[0] >> 1;
	if (sig_len > size - 1)
		sig_len = size - 1;
	msg_len = size - 1 - sig_len;
	check_verify(fixed[alg], msg, msg_len, msg + msg_len, sig_len);

	/* The signature against the RFC's own input (exercises R, S as given). */
	if (sig_len == UM_PK_SIG_LEN)
	{
		const char *input = alg == UM_PK_EDDSA ? ed_input : es_input;

		if (verify(fixed[alg], (const uint8_t *) input, strlen(input), msg + msg_len, sig_len) == 1 &&
			alg == UM_PK_EDDSA && memcmp(msg + msg_len, ed_sig, UM_PK_SIG_LEN) != 0)
			abort();			/* a second Ed25519 signature of the same input */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_fixed_keys();
	if (size < 1)
		return 0;
	switch (data[0] % 4)
	{
		case 0:
			fuzz_pem(data + 1, size - 1);
			break;
		case 1:
			fuzz_der(data + 1, size - 1, 0);
			break;
		case 2:
			fuzz_der(data + 1, size - 1, 1);
			break;
		default:
			fuzz_verify(data + 1, size - 1);
			break;
	}
	return 0;
}
