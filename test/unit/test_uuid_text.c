/*
 * test_uuid_text.c
 *		Canonical UUID text: what parses, what does not, and round trips.
 */
#include <string.h>

#include "tap.h"
#include "unit_tests.h"
#include "uuid_text.h"

static const uint8_t known[UM_UUID_BYTES] = {
	0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
	0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00
};

static int
parses(const char *text)
{
	uint8_t		out[UM_UUID_BYTES];

	return um_uuid_parse(text, strlen(text), out) == 0;
}

void
test_uuid_text(void)
{
	uint8_t		out[UM_UUID_BYTES];
	uint8_t		id[UM_UUID_BYTES];
	char		text[UM_UUID_TEXT_LEN + 1];
	int			i;
	int			all_round_trip = 1;

	tap_ok(um_uuid_parse("123e4567-e89b-12d3-a456-426614174000", 36, out) == 0 &&
		   memcmp(out, known, sizeof(out)) == 0,
		   "uuid: canonical lower case parses to its bytes");
	tap_ok(um_uuid_parse("123E4567-E89B-12D3-A456-426614174000", 36, out) == 0 &&
		   memcmp(out, known, sizeof(out)) == 0,
		   "uuid: upper case parses to the same bytes");
	um_uuid_format(known, text);
	tap_ok(strcmp(text, "123e4567-e89b-12d3-a456-426614174000") == 0,
		   "uuid: formats in lower case with hyphens");

	tap_ok(!parses(""), "uuid: empty text is refused");
	tap_ok(!parses("123e4567e89b12d3a456426614174000"), "uuid: no hyphens is refused");
	tap_ok(!parses("{123e4567-e89b-12d3-a456-426614174000}"), "uuid: braces are refused");
	tap_ok(!parses(" 123e4567-e89b-12d3-a456-42661417400"), "uuid: a leading space is refused");
	tap_ok(!parses("123e4567-e89b-12d3-a456-42661417400g"), "uuid: a non-hex digit is refused");
	tap_ok(!parses("123e4567-e89b-12d3-a456-4266141740000"), "uuid: 37 characters are refused");
	tap_ok(!parses("123e4567-e89b-12d3-a456-42661417400"), "uuid: 35 characters are refused");
	tap_ok(!parses("123e4567-e89b-12d3-a4564-26614174000"), "uuid: a misplaced hyphen is refused");
	tap_ok(um_uuid_parse("123e4567-e89b-12d3-a456-426614174000\0", 37, out) != 0,
		   "uuid: a trailing NUL inside the length is refused");

	for (i = 0; i < 256; i++)
	{
		int			j;

		for (j = 0; j < UM_UUID_BYTES; j++)
			id[j] = (uint8_t) (i * 31 + j * 17);
		um_uuid_format(id, text);
		if (um_uuid_parse(text, strlen(text), out) != 0 || memcmp(out, id, sizeof(id)) != 0)
			all_round_trip = 0;
	}
	tap_ok(all_round_trip, "uuid: 256 byte patterns survive format and parse");

	memset(id, 0xff, sizeof(id));
	um_uuid_set_v4(id);
	tap_ok(id[6] == 0x4f && id[8] == 0xbf, "uuid: v4 bits set on all ones");
	memset(id, 0, sizeof(id));
	um_uuid_set_v4(id);
	um_uuid_format(id, text);
	tap_ok(strcmp(text, "00000000-0000-4000-8000-000000000000") == 0,
		   "uuid: v4 bits set on all zeros");
}
