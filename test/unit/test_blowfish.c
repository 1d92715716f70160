/*
 * test_blowfish.c
 *		Blowfish cipher known-answer tests (Eric Young's ECB vectors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blowfish.h"
#include "blowfish_test_vectors.h"
#include "tap.h"
#include "unit_tests.h"

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

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | p[3];
}

void
test_blowfish(void)
{
	const blowfish_state *init = &blowfish_initial_state;
	size_t		i;

	tap_ok(init->P[0] == 0x243f6a88 && init->P[17] == 0x8979fb1b &&
		   init->S[0][0] == 0xd1310ba6 && init->S[3][255] == 0x3ac372e6,
		   "blowfish: initial state holds the digits of pi");

	for (i = 0; i < sizeof(bf_ecb_vectors) / sizeof(bf_ecb_vectors[0]); i++)
	{
		const bf_ecb_vector *v = &bf_ecb_vectors[i];
		blowfish_state *st = malloc(sizeof(blowfish_state));
		uint8_t		key[BLOWFISH_MAX_KEY_BYTES];
		uint8_t		pt[8];
		uint8_t		ct[8];
		size_t		key_len = from_hex(v->key, key);
		uint32_t	L;
		uint32_t	R;

		from_hex(v->plain, pt);
		from_hex(v->cipher, ct);
		blowfish_set_key(st, key, key_len);
		L = be32(pt);
		R = be32(pt + 4);
		blowfish_encrypt(st, &L, &R);
		if (!tap_ok(L == be32(ct) && R == be32(ct + 4),
					"blowfish: ECB key %s plaintext %s", v->key, v->plain))
			tap_diag("got %08X%08X, want %s", L, R, v->cipher);
		free(st);
	}
}
