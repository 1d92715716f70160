/*
 * bcrypt.h
 *		bcrypt password hashing (Provos & Mazieres, 1999) in plain C.
 *
 * No PostgreSQL headers: this core is unit-tested, sanitized and fuzzed on
 * its own.  The hashing is split into init / run / final so that the caller
 * (the fmgr binding) can check for interrupts between chunks of rounds.
 */
#ifndef USER_MGMT_BCRYPT_H
#define USER_MGMT_BCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "blowfish.h"

#define BCRYPT_HASH_LEN			60	/* "$2b$12$" + 22 salt + 31 digest chars */
#define BCRYPT_SETTING_LEN		29	/* "$2b$12$" + 22 salt chars */
#define BCRYPT_SALT_BYTES		16
#define BCRYPT_DIGEST_BYTES		23
#define BCRYPT_MAX_KEY_BYTES	72
#define BCRYPT_MIN_COST			4
#define BCRYPT_MAX_COST			31

typedef enum bcrypt_status
{
	BCRYPT_OK = 0,
	BCRYPT_BAD_LENGTH,			/* not exactly 60 characters */
	BCRYPT_BAD_PREFIX,			/* does not start with "$2" */
	BCRYPT_BAD_VARIANT,			/* "$2x$" (crypt_blowfish bug) or unknown */
	BCRYPT_BAD_COST,			/* not two digits 04..31 followed by '$' */
	BCRYPT_BAD_SALT,			/* character outside ./A-Za-z0-9 */
	BCRYPT_BAD_DIGEST			/* character outside ./A-Za-z0-9 */
} bcrypt_status;

typedef struct bcrypt_hash_info
{
	char		variant;		/* 'a', 'b' or 'y' */
	int			cost;			/* 4..31 */
	uint8_t		salt[BCRYPT_SALT_BYTES];
	uint8_t		digest[BCRYPT_DIGEST_BYTES];
} bcrypt_hash_info;

typedef struct bcrypt_ctx
{
	blowfish_state state;
	uint32_t	key_words[BLOWFISH_P_WORDS];	/* password, cycled */
	uint32_t	salt_words[4];
	uint64_t	rounds_left;
} bcrypt_ctx;

/*
 * Parse a 60-character hash (or, with allow_setting_only, the 29-character
 * setting prefix, in which case info->digest is zeroed).  Never reads past
 * len.  Returns BCRYPT_OK or the first problem found.
 */
extern bcrypt_status bcrypt_parse(const char *text, size_t len,
								  int allow_setting_only,
								  bcrypt_hash_info *info);

/* A full-sentence explanation of a status, for error details. */
extern const char *bcrypt_status_detail(bcrypt_status status);

/*
 * Start hashing.  A password longer than 72 bytes is cut to 72 bytes, as
 * every bcrypt library does; length policy belongs to the caller.
 */
extern void bcrypt_init(bcrypt_ctx *ctx, const uint8_t *password,
						size_t password_len,
						const uint8_t salt[BCRYPT_SALT_BYTES], int cost);

/* Run at most max_rounds expensive rounds; returns 1 once all are done. */
extern int	bcrypt_run(bcrypt_ctx *ctx, uint64_t max_rounds);

/*
 * Start padding: rounds of bcrypt's expensive schedule on a state that holds
 * no secret, run with bcrypt_run and dropped with bcrypt_discard.  Checking
 * a hash of a lower cost, then padding with the difference in rounds, costs
 * what checking one of the higher cost does (the login path uses this so
 * that an old, cheaper hash does not answer faster).
 */
extern void bcrypt_init_padding(bcrypt_ctx *ctx, uint64_t rounds);

/* Rounds to pad a check at cost to the time of one at target_cost (0 if none). */
extern uint64_t bcrypt_padding_rounds(int cost, int target_cost);

/* Wipe a context without producing a digest. */
extern void bcrypt_discard(bcrypt_ctx *ctx);

/* Produce the digest (after bcrypt_run returned 1) and wipe the context. */
extern void bcrypt_final(bcrypt_ctx *ctx,
						 uint8_t digest[BCRYPT_DIGEST_BYTES]);

/* Format "$2<variant>$<cost>$<salt><digest>" plus a NUL into out. */
extern void bcrypt_format(char variant, int cost,
						  const uint8_t salt[BCRYPT_SALT_BYTES],
						  const uint8_t digest[BCRYPT_DIGEST_BYTES],
						  char out[BCRYPT_HASH_LEN + 1]);

/*
 * One-shot hashing, for tests, fuzzing and benchmarks: setting is a full
 * hash or a 29-character setting.  Writes the 60-character hash plus NUL.
 */
extern bcrypt_status bcrypt_hash(const uint8_t *password, size_t password_len,
								 const char *setting, size_t setting_len,
								 char out[BCRYPT_HASH_LEN + 1]);

#endif							/* USER_MGMT_BCRYPT_H */
