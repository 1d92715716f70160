/*
 * test_bcrypt_parse.c
 *		bcrypt_parse's statuses, bcrypt_format round trips, error details.
 */
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"
#include "tap.h"
#include "unit_tests.h"

/* A valid $2b$ hash (password "password"). */
#define GOOD_HASH "$2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO"

typedef struct parse_case
{
	const char *label;
	const char *text;
	int			allow_setting_only;
	bcrypt_status want;
} parse_case;

static const parse_case parse_cases[] =
{
	{"valid hash", GOOD_HASH, 0, BCRYPT_OK},
	{"valid hash, setting allowed", GOOD_HASH, 1, BCRYPT_OK},
	{"setting only", "$2b$04$rfzl06lo7kOeZ.JN4ASf..", 1, BCRYPT_OK},
	{"setting only when a hash is required",
	"$2b$04$rfzl06lo7kOeZ.JN4ASf..", 0, BCRYPT_BAD_LENGTH},
	{"empty", "", 1, BCRYPT_BAD_LENGTH},
	{"too short", "$2b$04$", 1, BCRYPT_BAD_LENGTH},
	{"59 characters",
	"$2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbH", 0,
	BCRYPT_BAD_LENGTH},
	{"too long", GOOD_HASH "x", 0, BCRYPT_BAD_LENGTH},
	{"$1$ prefix",
	"$1$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHOO", 0,
	BCRYPT_BAD_PREFIX},
	{"no leading $",
	"x2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_PREFIX},
	{"$2x$ variant",
	"$2x$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_VARIANT},
	{"$2c$ variant",
	"$2c$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_VARIANT},
	{"$2$ without letter",
	"$2$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHOO", 0,
	BCRYPT_BAD_VARIANT},
	{"cost 03",
	"$2b$03$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_COST},
	{"cost 32",
	"$2b$32$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_COST},
	{"cost 1a",
	"$2b$1a$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_COST},
	{"missing $ after cost",
	"$2b$04xrfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_COST},
	{"bad salt character",
	"$2b$04$rfzl06lo7kOeZ.JN*ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_SALT},
	{"bad salt character in a setting",
	"$2b$04$rfzl06lo7kOeZ.JN4ASf.=", 1, BCRYPT_BAD_SALT},
	{"bad digest character",
	"$2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI-ZMXTsfk8201vxbHO", 0,
	BCRYPT_BAD_DIGEST},
	{"bad last digest character",
	"$2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbH$", 0,
	BCRYPT_BAD_DIGEST},
};

/* Parse from an exact-size heap copy, so ASan catches any over-read. */
static bcrypt_status
parse_exact(const char *text, int allow_setting_only, bcrypt_hash_info *info)
{
	size_t		len = strlen(text);
	char	   *copy = malloc(len ? len : 1);
	bcrypt_status status;

	memcpy(copy, text, len);
	status = bcrypt_parse(copy, len, allow_setting_only, info);
	free(copy);
	return status;
}

void
test_bcrypt_parse(void)
{
	bcrypt_hash_info info;
	char		out[BCRYPT_HASH_LEN + 1];
	size_t		i;
	int			s;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
	{
		const parse_case *c = &parse_cases[i];
		bcrypt_status got = parse_exact(c->text, c->allow_setting_only, &info);

		if (!tap_ok(got == c->want, "parse: %s", c->label))
			tap_diag("got status %d, want %d", (int) got, (int) c->want);
	}

	parse_exact(GOOD_HASH, 0, &info);
	tap_ok(info.variant == 'b' && info.cost == 4, "parse: variant and cost");
	bcrypt_format(info.variant, info.cost, info.salt, info.digest, out);
	tap_ok(strcmp(out, GOOD_HASH) == 0, "parse: format round-trips");

	/* "O" and "P" differ only in the bits that decoding drops. */
	tap_ok(parse_exact("$2b$04$rfzl06lo7kOeZ.JN4ASf..0BBWkRRMLrH9YI6ZMXTsfk8201vxbHP",
					   0, &info) == BCRYPT_OK,
		   "parse: accepts non-canonical trailing digest bits");
	bcrypt_format(info.variant, info.cost, info.salt, info.digest, out);
	tap_ok(strcmp(out, GOOD_HASH) == 0,
		   "parse: non-canonical digest formats canonically");
	tap_ok(parse_exact("$2b$04$rfzl06lo7kOeZ.JN4ASf./", 1, &info) == BCRYPT_OK,
		   "parse: accepts non-canonical trailing salt bits");

	for (s = BCRYPT_OK; s <= BCRYPT_BAD_DIGEST; s++)
	{
		const char *d = bcrypt_status_detail((bcrypt_status) s);
		size_t		n = strlen(d);

		tap_ok(n > 1 && d[0] >= 'A' && d[0] <= 'Z' && d[n - 1] == '.',
			   "parse: detail for status %d is a sentence", s);
	}
}
