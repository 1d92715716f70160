/*
 * test_bcrypt.c
 *		bcrypt hashing properties: setting vs hash, truncation, chunking.
 */
#include <stdint.h>
#include <string.h>

#include "bcrypt.h"
#include "tap.h"
#include "unit_tests.h"

#define SETTING "$2b$04$rfzl06lo7kOeZ.JN4ASf.."
#define FULL_HASH "$2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO"

static void
hash_chunked(const uint8_t *pw, size_t len, uint64_t chunk,
			 uint8_t digest[BCRYPT_DIGEST_BYTES], int *calls)
{
	bcrypt_hash_info info;
	bcrypt_ctx	ctx;

	bcrypt_parse(SETTING, strlen(SETTING), 1, &info);
	bcrypt_init(&ctx, pw, len, info.salt, info.cost);
	*calls = 1;
	while (!bcrypt_run(&ctx, chunk))
		(*calls)++;
	bcrypt_final(&ctx, digest);
}

void
test_bcrypt(void)
{
	uint8_t		pw[100];
	char		a[BCRYPT_HASH_LEN + 1];
	char		b[BCRYPT_HASH_LEN + 1];
	uint8_t		ref[BCRYPT_DIGEST_BYTES];
	static const uint64_t chunks[] = {1, 7, 64, UINT64_MAX};
	static const int want_calls[] = {16, 3, 1, 1};
	size_t		i;

	tap_ok(bcrypt_hash((const uint8_t *) "password", 8, SETTING,
					   strlen(SETTING), a) == BCRYPT_OK &&
		   strcmp(a, FULL_HASH) == 0,
		   "bcrypt: hash from a setting matches python-bcrypt");
	tap_ok(bcrypt_hash((const uint8_t *) "password", 8, FULL_HASH,
					   strlen(FULL_HASH), b) == BCRYPT_OK &&
		   strcmp(a, b) == 0,
		   "bcrypt: setting-only and full hash give the same result");
	tap_ok(bcrypt_hash((const uint8_t *) "password", 8, "$2b$04$",
					   7, b) == BCRYPT_BAD_LENGTH,
		   "bcrypt: bcrypt_hash reports a bad setting");

	for (i = 0; i < sizeof(pw); i++)
		pw[i] = (uint8_t) ('A' + i % 23);
	bcrypt_hash(pw, 72, SETTING, strlen(SETTING), a);
	bcrypt_hash(pw, 73, SETTING, strlen(SETTING), b);
	tap_ok(strcmp(a, b) == 0, "bcrypt: 73 bytes hash like their first 72");
	bcrypt_hash(pw, 100, SETTING, strlen(SETTING), b);
	tap_ok(strcmp(a, b) == 0, "bcrypt: 100 bytes hash like their first 72");
	bcrypt_hash(pw, 71, SETTING, strlen(SETTING), b);
	tap_ok(strcmp(a, b) != 0, "bcrypt: 71 bytes differ from 72");

	/* cost 4 is 16 rounds: chunking must not change the result. */
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
	{
		uint8_t		d[BCRYPT_DIGEST_BYTES];
		int			calls;

		hash_chunked(pw, 20, chunks[i], d, &calls);
		if (i == 0)
			memcpy(ref, d, sizeof(ref));
		tap_ok(memcmp(ref, d, sizeof(d)) == 0 && calls == want_calls[i],
			   "bcrypt: bcrypt_run in chunks of %llu rounds (%d calls)",
			   (unsigned long long) chunks[i], calls);
	}
	{
		uint8_t		d[BCRYPT_DIGEST_BYTES];
		bcrypt_hash_info info;
		bcrypt_ctx	ctx;
		int			done;

		bcrypt_parse(SETTING, strlen(SETTING), 1, &info);
		bcrypt_init(&ctx, pw, 20, info.salt, info.cost);
		done = bcrypt_run(&ctx, 0);
		while (!bcrypt_run(&ctx, 5))
			;
		bcrypt_final(&ctx, d);
		tap_ok(!done && memcmp(ref, d, sizeof(d)) == 0,
			   "bcrypt: bcrypt_run with 0 rounds does nothing");
		tap_ok(ctx.rounds_left == 0 && ctx.state.P[0] == 0 &&
			   ctx.key_words[0] == 0,
			   "bcrypt: bcrypt_final wipes the context");
	}
	{
		bcrypt_ctx	pad;
		int			calls = 1;

		tap_ok(bcrypt_padding_rounds(10, 12) == 4096 - 1024 &&
			   bcrypt_padding_rounds(12, 12) == 0 &&
			   bcrypt_padding_rounds(13, 12) == 0 &&
			   bcrypt_padding_rounds(4, 31) == (UINT64_C(1) << 31) - 16,
			   "bcrypt: padding rounds are the difference of 2^cost");
		bcrypt_init_padding(&pad, 40);
		while (!bcrypt_run(&pad, 16))
			calls++;
		tap_ok(calls == 3 && pad.rounds_left == 0 &&
			   pad.state.P[0] != blowfish_initial_state.P[0],
			   "bcrypt: padding runs its rounds in chunks (%d calls)", calls);
		bcrypt_discard(&pad);
		tap_ok(pad.state.P[0] == 0 && pad.state.S[0][0] == 0,
			   "bcrypt: bcrypt_discard wipes the context");
	}
}
