/*
 * password.c
 *		SQL face of the bcrypt core: hash_password, verify_password,
 *		password_needs_rehash, hash_cost, is_password_hash, the password
 *		policy, random_bytes, and the GUCs user_mgmt.bcrypt_cost and
 *		user_mgmt.min_password_length.
 *
 * The hashing itself lives in src/core (no PostgreSQL headers); this file
 * does argument handling, errors, salt generation and interrupt checks.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "core/bcrypt.h"
#include "core/secure.h"
#include "log_hygiene.h"
#include "user_mgmt.h"

/*
 * Rounds between interrupt checks.  One round costs about 57 us on current
 * hardware, so this answers a cancel within about a millisecond at any cost
 * while keeping the check itself out of the profile.
 */
#define ROUNDS_PER_INTERRUPT_CHECK 16

/* Longest random_bytes() answer: keys and salts, not bulk data. */
#define MAX_RANDOM_BYTES 1024

static int	bcrypt_cost = 12;
static int	min_password_length = 8;

/*
 * These are policy, not preference: only superusers set them (ALTER SYSTEM,
 * ALTER DATABASE or ALTER ROLE ... SET), so that no session can loosen them
 * for itself.
 */
void
um_password_init(void)
{
	DefineCustomIntVariable("user_mgmt.min_password_length",
							"Fewest characters a new password may have.",
							"create_user, set_password and change_password refuse shorter ones.",
							&min_password_length,
							8,
							1,
							BCRYPT_MAX_KEY_BYTES,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("user_mgmt.bcrypt_cost",
							"bcrypt cost (log2 of the rounds) of new password hashes.",
							"Each step up doubles the time to hash and to verify a password.",
							&bcrypt_cost,
							12,
							BCRYPT_MIN_COST,
							BCRYPT_MAX_COST,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}

static void
check_cost(int32 cost)
{
	if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bcrypt cost %d is out of range", cost),
				 errdetail("The cost must be between %d and %d.",
						   BCRYPT_MIN_COST, BCRYPT_MAX_COST)));
}

/*
 * bcrypt reads only 72 bytes.  Refuse rather than cut: a silent cut lets
 * every password sharing those 72 bytes log in.
 */
static void
check_password_bytes(size_t len)
{
	if (len > BCRYPT_MAX_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too long for bcrypt"),
				 errdetail("The password has %zu bytes; bcrypt uses only the first %d.",
						   len, BCRYPT_MAX_KEY_BYTES),
				 errhint("Use a password of at most %d bytes; a non-ASCII character takes 2 to 4 bytes in UTF-8.",
						 BCRYPT_MAX_KEY_BYTES)));
}

/* Parse a stored hash, or raise an error that says what is wrong with it. */
static void
parse_hash(const char *hash, size_t len, bcrypt_hash_info *info)
{
	bcrypt_status status;

	status = bcrypt_parse(hash, len, 0, info);
	if (status != BCRYPT_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid bcrypt hash"),
				 errdetail("%s", bcrypt_status_detail(status))));
}

/*
 * Run bcrypt in chunks so that statement_timeout and pg_cancel_backend()
 * get through at any cost.  The context holds key material: wipe it however
 * we leave.
 */
static void
compute_digest(text *password, const uint8 *salt, int cost,
			   uint8 *digest)
{
	bcrypt_ctx	ctx;

	PG_TRY();
	{
		bcrypt_init(&ctx, (const uint8 *) VARDATA_ANY(password),
					VARSIZE_ANY_EXHDR(password), salt, cost);
		while (!bcrypt_run(&ctx, ROUNDS_PER_INTERRUPT_CHECK))
			CHECK_FOR_INTERRUPTS();
	}
	PG_CATCH();
	{
		um_wipe(&ctx, sizeof(ctx));
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* bcrypt_final wipes the context itself. */
	bcrypt_final(&ctx, digest);
}

/* Run rounds that compute nothing, chunked like a real hash. */
static void
run_padding(uint64 rounds)
{
	bcrypt_ctx	ctx;

	if (rounds == 0)
		return;
	bcrypt_init_padding(&ctx, rounds);
	while (!bcrypt_run(&ctx, ROUNDS_PER_INTERRUPT_CHECK))
		CHECK_FOR_INTERRUPTS();
	bcrypt_discard(&ctx);
}

int
um_bcrypt_cost(void)
{
	return bcrypt_cost;
}

void
um_password_hash(text *password, int cost, char out[BCRYPT_HASH_LEN + 1])
{
	uint8		salt[BCRYPT_SALT_BYTES];
	uint8		digest[BCRYPT_DIGEST_BYTES];

	check_cost(cost);
	check_password_bytes(VARSIZE_ANY_EXHDR(password));

	if (!pg_strong_random(salt, sizeof(salt)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random salt")));

	compute_digest(password, salt, cost, digest);
	bcrypt_format('b', cost, salt, digest, out);
	um_wipe(digest, sizeof(digest));
}

bool
um_password_check(text *password, const char *hash, size_t hash_len,
				  int pad_to_cost)
{
	bcrypt_hash_info info;
	uint8		digest[BCRYPT_DIGEST_BYTES];
	bool		match;

	parse_hash(hash, hash_len, &info);

	/* Longer passwords are judged by their first 72 bytes, as libraries do. */
	compute_digest(password, info.salt, info.cost, digest);
	match = um_ct_equal(digest, info.digest, BCRYPT_DIGEST_BYTES);
	um_wipe(digest, sizeof(digest));
	run_padding(bcrypt_padding_rounds(info.cost, pad_to_cost));
	um_wipe(&info, sizeof(info));
	return match;
}

bool
um_hash_needs_rehash(const char *hash, size_t hash_len)
{
	bcrypt_hash_info info;

	if (bcrypt_parse(hash, hash_len, 0, &info) != BCRYPT_OK)
		return false;
	return info.cost < bcrypt_cost || info.variant != 'b';
}

PG_FUNCTION_INFO_V1(um_hash_password);

/* hash_password(password text [, cost integer]) returns text */
Datum
um_hash_password(PG_FUNCTION_ARGS)
{
	text	   *password = PG_GETARG_TEXT_PP(0);
	int32		cost = PG_NARGS() > 1 ? PG_GETARG_INT32(1) : bcrypt_cost;
	char		hash[BCRYPT_HASH_LEN + 1];
	um_secret_scope scope;

	um_secret_scope_enter(&scope);
	um_password_hash(password, cost, hash);
	um_secret_scope_leave(&scope);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(hash, BCRYPT_HASH_LEN));
}

PG_FUNCTION_INFO_V1(um_verify_password);

/* verify_password(password text, hashed_password text) returns boolean */
Datum
um_verify_password(PG_FUNCTION_ARGS)
{
	text	   *password = PG_GETARG_TEXT_PP(0);
	text	   *hash = PG_GETARG_TEXT_PP(1);
	bool		match;
	um_secret_scope scope;

	um_secret_scope_enter(&scope);
	match = um_password_check(password, VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash), 0);
	um_secret_scope_leave(&scope);

	PG_RETURN_BOOL(match);
}

PG_FUNCTION_INFO_V1(um_password_needs_rehash);

/* password_needs_rehash(hashed_password text [, cost integer]) */
Datum
um_password_needs_rehash(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(0);
	int32		target = PG_NARGS() > 1 ? PG_GETARG_INT32(1) : bcrypt_cost;
	bcrypt_hash_info info;
	um_secret_scope scope;

	check_cost(target);
	um_secret_scope_enter(&scope);
	parse_hash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash), &info);
	um_secret_scope_leave(&scope);

	PG_RETURN_BOOL(info.cost < target || info.variant != 'b');
}

PG_FUNCTION_INFO_V1(um_hash_cost);

/* hash_cost(hashed_password text) returns integer */
Datum
um_hash_cost(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(0);
	bcrypt_hash_info info;
	um_secret_scope scope;

	um_secret_scope_enter(&scope);
	parse_hash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash), &info);
	um_secret_scope_leave(&scope);

	PG_RETURN_INT32(info.cost);
}

PG_FUNCTION_INFO_V1(um_is_password_hash);

/* is_password_hash(value text) returns boolean; never raises an error */
Datum
um_is_password_hash(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	bcrypt_hash_info info;

	PG_RETURN_BOOL(bcrypt_parse(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
								0, &info) == BCRYPT_OK);
}

PG_FUNCTION_INFO_V1(um_check_password_policy);

/* check_password_policy(password text) returns void */
Datum
um_check_password_policy(PG_FUNCTION_ARGS)
{
	um_secret_scope scope;

	um_secret_scope_enter(&scope);
	um_password_policy(PG_GETARG_TEXT_PP(0));
	um_secret_scope_leave(&scope);

	PG_RETURN_VOID();
}

void
um_password_policy(text *password)
{
	int			chars = pg_mbstrlen_with_len(VARDATA_ANY(password),
											 VARSIZE_ANY_EXHDR(password));

	if (chars < min_password_length)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too short"),
				 errdetail("The password has %d characters; user_mgmt.min_password_length requires at least %d.",
						   chars, min_password_length)));
	check_password_bytes(VARSIZE_ANY_EXHDR(password));
}

static void
dummy_hash(char hash[BCRYPT_HASH_LEN + 1])
{
	static const char salt_and_digest[] =
		"UnknownUserDummySalt.."		/* 22 salt characters */
		"TimingEqualiserThatNeverMatches";	/* 31 digest characters */

	StaticAssertStmt(sizeof(salt_and_digest) - 1 == BCRYPT_HASH_LEN - 7,
					 "dummy hash must have 22 salt and 31 digest characters");
	snprintf(hash, BCRYPT_HASH_LEN + 1, "$2b$%02d$%s", bcrypt_cost, salt_and_digest);
}

PG_FUNCTION_INFO_V1(um_dummy_password_hash);

/*
 * dummy_password_hash() returns text: a well-formed hash at the current
 * cost.  Its digest is a fixed string, which no password reaches except
 * with probability 2^-184; checking against it costs what a real check does.
 */
Datum
um_dummy_password_hash(PG_FUNCTION_ARGS)
{
	char		hash[BCRYPT_HASH_LEN + 1];

	dummy_hash(hash);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(hash, BCRYPT_HASH_LEN));
}

void
um_password_dummy_check(text *password)
{
	char		hash[BCRYPT_HASH_LEN + 1];

	dummy_hash(hash);
	(void) um_password_check(password, hash, BCRYPT_HASH_LEN, 0);
}

PG_FUNCTION_INFO_V1(um_random_bytes);

/* random_bytes(count integer) returns bytea */
Datum
um_random_bytes(PG_FUNCTION_ARGS)
{
	int32		count = PG_GETARG_INT32(0);
	bytea	   *result;

	if (count < 1 || count > MAX_RANDOM_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("random_bytes count %d is out of range", count),
				 errdetail("The count must be between 1 and %d.", MAX_RANDOM_BYTES)));

	result = palloc(VARHDRSZ + count);
	SET_VARSIZE(result, VARHDRSZ + count);
	if (!pg_strong_random(VARDATA(result), count))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));

	PG_RETURN_BYTEA_P(result);
}
