/*
 * fuzz_bcrypt_hash.c
 *		libFuzzer target: bcrypt hashing around the key schedule, cheap
 *		enough for 10^7 executions, with real cost-4 hashes on a sample.
 *
 * Input: byte 0 is a control byte.  If its bit 0 is set, the next 29 bytes
 * (60 with bit 2 also set) are the setting, else the setting is the fixed
 * "$2b$04$rfzl06lo7kOeZ.JN4ASf.."; the rest is the password.  Bit 1 asks
 * for one expensive round in the cheap path.
 *
 * Every input (the cheap path: one key schedule, no or one expensive round):
 *   - a setting that bcrypt_parse (allow_setting_only) refuses is refused by
 *     bcrypt_hash with the same status;
 *   - bcrypt_init's key words are the password and its NUL, cut to 72
 *     bytes and cycled over 18 big-endian words (a model written here, so
 *     bytes past the 72nd cannot matter), its salt words the setting's salt
 *     and its rounds 2^cost for every cost 04..31;
 *   - bcrypt_run counts rounds, in two calls, and says when they are done;
 *   - bcrypt_final wipes the context, and the digest formats to a hash that
 *     parses back to the same variant, cost, salt and digest and starts with
 *     the setting in its canonical form;
 *   - bcrypt_padding_rounds against its formula for any two costs, and
 *     bcrypt_discard wipes a padding context.
 * One input in FULL_EVERY, picked by a hash of all its bytes (so neither
 * the corpus nor the mutations can make the slow path common), also takes
 * the expensive path: all rounds of a real hash at cost 4 (the minimum)
 * with the setting's variant and salt, whatever the setting's cost:
 *   - bcrypt_hash equals bcrypt_init, bcrypt_run in chunks of 1 to 7
 *     rounds taken from the input (as the fmgr binding runs it, checking
 *     for interrupts), bcrypt_final and bcrypt_format;
 *   - an exact-size copy of the first 72 bytes hashes the same (ASan sees
 *     any read past it);
 *   - libxcrypt's crypt_rn gives the same hash for passwords without a NUL
 *     byte and under its 512-byte limit ($2b$, $2y$; $2a$ only for 7-bit
 *     passwords, since crypt_blowfish flips a bit for some 8-bit $2a$
 *     passwords as a countermeasure to its old sign-extension bug);
 *   - a padding context of 2^5 - 2^4 rounds runs out in the same chunks.
 * What this does not do at scale: the full 2^cost expensive rounds of every
 * input (the Blowfish code they run is the same as one round's, and the
 * known-answer vectors of test/unit check its output).
 */
#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"

#define SETTING "$2b$04$rfzl06lo7kOeZ.JN4ASf.."
#ifndef FULL_EVERY
#define FULL_EVERY 512
#endif

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct crypt_data xcrypt;

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t		i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* The key as bcrypt's $2b$ defines it, independently of bcrypt_init. */
static void
model_key_words(const uint8_t *pw, size_t len, uint32_t words[BLOWFISH_P_WORDS])
{
	uint8_t		key[BCRYPT_MAX_KEY_BYTES];
	size_t		key_len = len < BCRYPT_MAX_KEY_BYTES ? len : BCRYPT_MAX_KEY_BYTES;
	size_t		i;

	memcpy(key, pw, key_len);
	if (key_len < BCRYPT_MAX_KEY_BYTES)
		key[key_len++] = 0;
	for (i = 0; i < BLOWFISH_P_WORDS; i++)
		words[i] = ((uint32_t) key[(4 * i) % key_len] << 24) |
			((uint32_t) key[(4 * i + 1) % key_len] << 16) |
			((uint32_t) key[(4 * i + 2) % key_len] << 8) |
			(uint32_t) key[(4 * i + 3) % key_len];
}

static uint32_t
fnv1a(const uint8_t *data, size_t size)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

static void
check_padding_formula(int cost, int target)
{
	uint64_t	want = 0;

	if (cost >= 0 && cost < target && target <= BCRYPT_MAX_COST)
		want = ((uint64_t) 1 << target) - ((uint64_t) 1 << cost);
	if (bcrypt_padding_rounds(cost, target) != want)
		abort();
}

/* Run ctx to the end in chunks of 1..7 rounds taken from chunks[]. */
static void
run_in_chunks(bcrypt_ctx *ctx, uint64_t rounds, const uint8_t *chunks, size_t n)
{
	uint64_t	done = 0;
	size_t		i = 0;

	for (;;)
	{
		uint64_t	chunk = n ? 1 + chunks[i++ % n] % 7 : 16;
		int			finished = bcrypt_run(ctx, chunk);

		done += chunk;
		if (finished != (done >= rounds) ||
			ctx->rounds_left != (done >= rounds ? 0 : rounds - done))
			abort();
		if (finished)
			break;
	}
}

static void
full_hash(const bcrypt_hash_info *info, const uint8_t *pw, size_t len,
		  const uint8_t *chunks, size_t nchunks)
{
	uint8_t		zero[BCRYPT_DIGEST_BYTES] = {0};
	uint8_t		digest[BCRYPT_DIGEST_BYTES];
	char		setting[BCRYPT_HASH_LEN + 1];
	char		want[BCRYPT_HASH_LEN + 1];
	char		got[BCRYPT_HASH_LEN + 1];
	bcrypt_ctx	ctx;
	size_t		i;
	int			ascii = 1;

	bcrypt_format(info->variant, BCRYPT_MIN_COST, info->salt, zero, setting);
	setting[BCRYPT_SETTING_LEN] = '\0';
	if (bcrypt_hash(pw, len, setting, BCRYPT_SETTING_LEN, want) != BCRYPT_OK)
		abort();

	/* The chunked path gives the same hash. */
	bcrypt_init(&ctx, pw, len, info->salt, BCRYPT_MIN_COST);
	run_in_chunks(&ctx, (uint64_t) 1 << BCRYPT_MIN_COST, chunks, nchunks);
	bcrypt_final(&ctx, digest);
	bcrypt_format(info->variant, BCRYPT_MIN_COST, info->salt, digest, got);
	if (strcmp(got, want) != 0 || !all_zero(&ctx, sizeof(ctx)))
		abort();

	/* Bytes past the 72nd do not matter. */
	if (len > BCRYPT_MAX_KEY_BYTES)
	{
		uint8_t    *copy = malloc(BCRYPT_MAX_KEY_BYTES);

		memcpy(copy, pw, BCRYPT_MAX_KEY_BYTES);
		if (bcrypt_hash(copy, BCRYPT_MAX_KEY_BYTES, setting, BCRYPT_SETTING_LEN, got) != BCRYPT_OK ||
			strcmp(got, want) != 0)
			abort();
		free(copy);
	}

	/* An independent implementation agrees (C strings only). */
	for (i = 0; i < len; i++)
		if (pw[i] >= 0x80)
			ascii = 0;
	if (memchr(pw, 0, len) == NULL && len < CRYPT_MAX_PASSPHRASE_SIZE &&
		(info->variant != 'a' || ascii))
	{
		char	   *phrase = malloc(len + 1);
		const char *ref;

		memcpy(phrase, pw, len);
		phrase[len] = '\0';
		ref = crypt_rn(phrase, setting, &xcrypt, sizeof(xcrypt));
		if (ref == NULL || strcmp(ref, want) != 0)
			abort();
		free(phrase);
	}

	/* Padding runs its rounds in the same chunks, then is wiped. */
	bcrypt_init_padding(&ctx, bcrypt_padding_rounds(4, 5));
	run_in_chunks(&ctx, 16, chunks, nchunks);
	bcrypt_discard(&ctx);
	if (!all_zero(&ctx, sizeof(ctx)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bcrypt_hash_info info;
	bcrypt_hash_info again;
	bcrypt_status status;
	bcrypt_ctx	ctx;
	uint32_t	words[BLOWFISH_P_WORDS];
	uint8_t		digest[BCRYPT_DIGEST_BYTES];
	char		out[BCRYPT_HASH_LEN + 1];
	char		canon[BCRYPT_HASH_LEN + 1];
	const char *setting = SETTING;
	size_t		setting_len = strlen(SETTING);
	const uint8_t *pw;
	size_t		len;
	uint64_t	rounds;
	uint64_t	extra;
	int			i;

	if (size < 1)
		return 0;
	if (data[0] & 1)
	{
		setting = (const char *) data + 1;
		setting_len = (data[0] & 4) ? BCRYPT_HASH_LEN : BCRYPT_SETTING_LEN;
		if (size - 1 < setting_len)
			return 0;
	}
	pw = data + 1 + ((data[0] & 1) ? setting_len : 0);
	len = size - (size_t) (pw - data);

	status = bcrypt_parse(setting, setting_len, 1, &info);
	if (status != BCRYPT_OK)
	{
		if (bcrypt_hash(pw, len, setting, setting_len, out) != status)
			abort();
		return 0;
	}

	/* The key schedule's inputs. */
	bcrypt_init(&ctx, pw, len, info.salt, info.cost);
	model_key_words(pw, len, words);
	if (memcmp(ctx.key_words, words, sizeof(words)) != 0 ||
		ctx.rounds_left != (uint64_t) 1 << info.cost)
		abort();
	for (i = 0; i < 4; i++)
		if (ctx.salt_words[i] != (((uint32_t) info.salt[4 * i] << 24) |
								  ((uint32_t) info.salt[4 * i + 1] << 16) |
								  ((uint32_t) info.salt[4 * i + 2] << 8) |
								  (uint32_t) info.salt[4 * i + 3]))
			abort();

	/* No round, then at most one: never the last of 2^cost >= 16. */
	rounds = ctx.rounds_left;
	extra = (data[0] >> 1) & 1;
	if (bcrypt_run(&ctx, 0) != 0 || bcrypt_run(&ctx, extra) != 0 ||
		ctx.rounds_left != rounds - extra)
		abort();

	/* The digest, which formats and parses back; the context is wiped. */
	bcrypt_final(&ctx, digest);
	if (!all_zero(&ctx, sizeof(ctx)))
		abort();
	bcrypt_format(info.variant, info.cost, info.salt, digest, out);
	bcrypt_format(info.variant, info.cost, info.salt, info.digest, canon);
	if (strlen(out) != BCRYPT_HASH_LEN ||
		bcrypt_parse(out, BCRYPT_HASH_LEN, 0, &again) != BCRYPT_OK ||
		again.variant != info.variant || again.cost != info.cost ||
		memcmp(again.salt, info.salt, sizeof(info.salt)) != 0 ||
		memcmp(again.digest, digest, sizeof(digest)) != 0 ||
		memcmp(out, canon, BCRYPT_SETTING_LEN) != 0)
		abort();

	/* Padding: the formula for costs from the input, and the wipe. */
	check_padding_formula((int8_t) data[0], info.cost);
	check_padding_formula(info.cost, (int8_t) (len ? pw[len - 1] : 0));
	bcrypt_init_padding(&ctx, 0);
	if (bcrypt_run(&ctx, 1) != 1)
		abort();
	bcrypt_discard(&ctx);
	if (!all_zero(&ctx, sizeof(ctx)))
		abort();

	if (fnv1a(data, size) % FULL_EVERY == 0)
		full_hash(&info, pw, len, pw, len);
	return 0;
}
