/*
 * bcrypt.c
 *		bcrypt: parsing, formatting and the Eksblowfish-based hash.
 *
 * Follows OpenBSD's $2b$ semantics for all accepted variants: the key is
 * the password plus a terminating NUL, at most 72 bytes in all.  $2a$ and
 * $2y$ are computed identically, as current libraries do.
 */
#include "bcrypt.h"

#include <string.h>

#include "bcrypt_base64.h"
#include "secure.h"

#define BCRYPT_SALT_CHARS	BCRYPT_B64_LEN(BCRYPT_SALT_BYTES)	/* 22 */
#define BCRYPT_DIGEST_CHARS BCRYPT_B64_LEN(BCRYPT_DIGEST_BYTES)	/* 31 */
#define BCRYPT_PREFIX_LEN	7	/* "$2b$12$" */

_Static_assert(BCRYPT_PREFIX_LEN + BCRYPT_SALT_CHARS == BCRYPT_SETTING_LEN,
			   "setting length mismatch");
_Static_assert(BCRYPT_SETTING_LEN + BCRYPT_DIGEST_CHARS == BCRYPT_HASH_LEN,
			   "hash length mismatch");
_Static_assert(BCRYPT_MAX_KEY_BYTES == BLOWFISH_P_WORDS * 4,
			   "the key must fill the P-array exactly");

/* Encrypted 64 times to produce the digest: 24 bytes, 6 words. */
static const char bcrypt_magic[] = "OrpheanBeholderScryDoubt";

#define BCRYPT_MAGIC_WORDS	6

bcrypt_status
bcrypt_parse(const char *text, size_t len, int allow_setting_only,
			 bcrypt_hash_info *info)
{
	int			cost;

	memset(info, 0, sizeof(*info));

	/* Every later check reads only within the length checked here. */
	if (len != BCRYPT_HASH_LEN &&
		!(allow_setting_only && len == BCRYPT_SETTING_LEN))
		return BCRYPT_BAD_LENGTH;

	if (text[0] != '$' || text[1] != '2')
		return BCRYPT_BAD_PREFIX;
	if ((text[2] != 'a' && text[2] != 'b' && text[2] != 'y') ||
		text[3] != '$')
		return BCRYPT_BAD_VARIANT;
	if (text[4] < '0' || text[4] > '9' || text[5] < '0' || text[5] > '9' ||
		text[6] != '$')
		return BCRYPT_BAD_COST;
	cost = (text[4] - '0') * 10 + (text[5] - '0');
	if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST)
		return BCRYPT_BAD_COST;

	if (!bcrypt_b64_decode(text + BCRYPT_PREFIX_LEN, BCRYPT_SALT_BYTES,
						   info->salt))
		return BCRYPT_BAD_SALT;
	if (len == BCRYPT_HASH_LEN &&
		!bcrypt_b64_decode(text + BCRYPT_SETTING_LEN, BCRYPT_DIGEST_BYTES,
						   info->digest))
		return BCRYPT_BAD_DIGEST;

	info->variant = text[2];
	info->cost = cost;
	return BCRYPT_OK;
}

const char *
bcrypt_status_detail(bcrypt_status status)
{
	switch (status)
	{
		case BCRYPT_OK:
			return "The bcrypt hash is valid.";
		case BCRYPT_BAD_LENGTH:
			return "A bcrypt hash has exactly 60 characters.";
		case BCRYPT_BAD_PREFIX:
			return "A bcrypt hash starts with \"$2\".";
		case BCRYPT_BAD_VARIANT:
			return "Only the variants $2a$, $2b$ and $2y$ are supported; "
				"$2x$ comes from a crypt_blowfish bug and is not.";
		case BCRYPT_BAD_COST:
			return "The cost must be two digits from 04 to 31, followed by \"$\".";
		case BCRYPT_BAD_SALT:
			return "The salt (characters 8 to 29) may contain only \".\", \"/\", "
				"A-Z, a-z and 0-9.";
		case BCRYPT_BAD_DIGEST:
			return "The digest (characters 30 to 60) may contain only \".\", "
				"\"/\", A-Z, a-z and 0-9.";
	}
	return "The bcrypt hash is invalid.";
}

void
bcrypt_init(bcrypt_ctx *ctx, const uint8_t *password, size_t password_len,
			const uint8_t salt[BCRYPT_SALT_BYTES], int cost)
{
	size_t		key_len;
	size_t		pos = 0;
	int			i;

	/*
	 * Password plus its NUL, cut at 72 bytes: a 72-byte password loses the
	 * NUL, exactly like OpenBSD's $2b$.  Bytes past the password are the NUL.
	 */
	if (password_len > BCRYPT_MAX_KEY_BYTES)
		password_len = BCRYPT_MAX_KEY_BYTES;
	key_len = password_len + 1;
	if (key_len > BCRYPT_MAX_KEY_BYTES)
		key_len = BCRYPT_MAX_KEY_BYTES;

	for (i = 0; i < BLOWFISH_P_WORDS; i++)
	{
		uint32_t	w = 0;
		int			j;

		for (j = 0; j < 4; j++)
		{
			w = (w << 8) | (pos < password_len ? password[pos] : 0);
			if (++pos == key_len)
				pos = 0;
		}
		ctx->key_words[i] = w;
	}

	for (i = 0; i < 4; i++)
		ctx->salt_words[i] = ((uint32_t) salt[4 * i] << 24) |
			((uint32_t) salt[4 * i + 1] << 16) |
			((uint32_t) salt[4 * i + 2] << 8) |
			(uint32_t) salt[4 * i + 3];

	ctx->state = blowfish_initial_state;
	blowfish_expand_salted(&ctx->state, ctx->key_words, ctx->salt_words);
	ctx->rounds_left = (uint64_t) 1 << cost;
}

int
bcrypt_run(bcrypt_ctx *ctx, uint64_t max_rounds)
{
	uint32_t	salt18[BLOWFISH_P_WORDS];
	uint64_t	n = ctx->rounds_left;
	uint64_t	r;
	int			i;

	if (n > max_rounds)
		n = max_rounds;

	/* The salt is 4 words; ExpandKey wants it cycled over 18. */
	for (i = 0; i < BLOWFISH_P_WORDS; i++)
		salt18[i] = ctx->salt_words[i & 3];

	for (r = 0; r < n; r++)
	{
		blowfish_expand(&ctx->state, ctx->key_words);
		blowfish_expand(&ctx->state, salt18);
	}
	ctx->rounds_left -= n;
	return ctx->rounds_left == 0;
}

void
bcrypt_init_padding(bcrypt_ctx *ctx, uint64_t rounds)
{
	/*
	 * No key schedule here: a real check does one, and padding adds rounds
	 * only, so that check plus padding equals one check at the higher cost.
	 */
	memset(ctx, 0, sizeof(*ctx));
	ctx->state = blowfish_initial_state;
	ctx->rounds_left = rounds;
}

uint64_t
bcrypt_padding_rounds(int cost, int target_cost)
{
	if (cost >= target_cost || cost < 0 || target_cost > BCRYPT_MAX_COST)
		return 0;
	return ((uint64_t) 1 << target_cost) - ((uint64_t) 1 << cost);
}

void
bcrypt_discard(bcrypt_ctx *ctx)
{
	um_wipe(ctx, sizeof(*ctx));
}

void
bcrypt_final(bcrypt_ctx *ctx, uint8_t digest[BCRYPT_DIGEST_BYTES])
{
	uint32_t	cdata[BCRYPT_MAGIC_WORDS];
	uint8_t		out[BCRYPT_MAGIC_WORDS * 4];
	int			i;
	int			j;

	for (i = 0; i < BCRYPT_MAGIC_WORDS; i++)
		cdata[i] = ((uint32_t) (unsigned char) bcrypt_magic[4 * i] << 24) |
			((uint32_t) (unsigned char) bcrypt_magic[4 * i + 1] << 16) |
			((uint32_t) (unsigned char) bcrypt_magic[4 * i + 2] << 8) |
			(uint32_t) (unsigned char) bcrypt_magic[4 * i + 3];

	/* ECB: the three blocks are independent, so do each 64 times in turn. */
	for (i = 0; i < BCRYPT_MAGIC_WORDS; i += 2)
		for (j = 0; j < 64; j++)
			blowfish_encrypt(&ctx->state, &cdata[i], &cdata[i + 1]);

	for (i = 0; i < BCRYPT_MAGIC_WORDS; i++)
	{
		out[4 * i] = (uint8_t) (cdata[i] >> 24);
		out[4 * i + 1] = (uint8_t) (cdata[i] >> 16);
		out[4 * i + 2] = (uint8_t) (cdata[i] >> 8);
		out[4 * i + 3] = (uint8_t) cdata[i];
	}
	/* bcrypt keeps 23 of the 24 bytes (a quirk of the original). */
	memcpy(digest, out, BCRYPT_DIGEST_BYTES);

	um_wipe(cdata, sizeof(cdata));
	um_wipe(out, sizeof(out));
	um_wipe(ctx, sizeof(*ctx));
}

void
bcrypt_format(char variant, int cost,
			  const uint8_t salt[BCRYPT_SALT_BYTES],
			  const uint8_t digest[BCRYPT_DIGEST_BYTES],
			  char out[BCRYPT_HASH_LEN + 1])
{
	out[0] = '$';
	out[1] = '2';
	out[2] = variant;
	out[3] = '$';
	out[4] = (char) ('0' + cost / 10);
	out[5] = (char) ('0' + cost % 10);
	out[6] = '$';
	bcrypt_b64_encode(salt, BCRYPT_SALT_BYTES, out + BCRYPT_PREFIX_LEN);
	bcrypt_b64_encode(digest, BCRYPT_DIGEST_BYTES, out + BCRYPT_SETTING_LEN);
	out[BCRYPT_HASH_LEN] = '\0';
}

bcrypt_status
bcrypt_hash(const uint8_t *password, size_t password_len,
			const char *setting, size_t setting_len,
			char out[BCRYPT_HASH_LEN + 1])
{
	bcrypt_hash_info info;
	bcrypt_ctx	ctx;
	uint8_t		digest[BCRYPT_DIGEST_BYTES];
	bcrypt_status status;

	status = bcrypt_parse(setting, setting_len, 1, &info);
	if (status != BCRYPT_OK)
		return status;

	bcrypt_init(&ctx, password, password_len, info.salt, info.cost);
	(void) bcrypt_run(&ctx, UINT64_MAX);
	bcrypt_final(&ctx, digest);
	bcrypt_format(info.variant, info.cost, info.salt, digest, out);

	um_wipe(digest, sizeof(digest));
	um_wipe(&info, sizeof(info));
	return BCRYPT_OK;
}
