/*
 * test_json_scan.c
 *		json_scan_object accept/reject cases (JSONTestSuite style), member
 *		extraction, limits, and the string and number helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "tap.h"
#include "unit_tests.h"

typedef struct scan_case
{
	const char *label;
	const char *text;
	int			want;
} scan_case;

static const scan_case scan_cases[] =
{
	/* accepted */
	{"empty object", "{}", JSON_OK},
	{"blanks around", " \t\r\n{ }\n ", JSON_OK},
	{"integer", "{\"a\":1}", JSON_OK},
	{"minus zero", "{\"a\":-0}", JSON_OK},
	{"1e400 is valid JSON", "{\"a\":1e400}", JSON_OK},
	{"fraction and exponent", "{\"a\":-1.5E-3,\"b\":0.0,\"c\":2e+7}", JSON_OK},
	{"literals", "{\"a\":true,\"b\":false,\"c\":null}", JSON_OK},
	{"nested", "{\"a\":[1,[],{},{\"b\":[null,\"x\"]}]}", JSON_OK},
	{"all simple escapes", "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", JSON_OK},
	{"\\u escapes and a pair", "{\"a\":\"\\u00e9\\uD83D\\uDE00\"}", JSON_OK},
	{"raw UTF-8", "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", JSON_OK},
	{"largest code point", "{\"a\":\"\xf4\x8f\xbf\xbf\"}", JSON_OK},
	{"DEL is no control character", "{\"a\":\"\x7f\"}", JSON_OK},
	{"\\u0000 scans (decode refuses it)", "{\"a\":\"\\u0000\"}", JSON_OK},
	{"empty name", "{\"\":0}", JSON_OK},
	{"nested duplicate names", "{\"a\":{\"b\":1,\"b\":2}}", JSON_OK},
	{"same name at two levels", "{\"a\":1,\"b\":{\"a\":2}}", JSON_OK},
	{"names differing by \\u0000", "{\"a\":1,\"a\\u0000\":2}", JSON_OK},
	{"case matters", "{\"alg\":1,\"ALG\":2}", JSON_OK},

	/* not an object, or not JSON at all */
	{"empty text", "", JSON_ERR_NOT_OBJECT},
	{"blanks only", " \n", JSON_ERR_NOT_OBJECT},
	{"array", "[]", JSON_ERR_NOT_OBJECT},
	{"string", "\"a\"", JSON_ERR_NOT_OBJECT},
	{"number", "1", JSON_ERR_NOT_OBJECT},
	{"byte order mark", "\xef\xbb\xbf{}", JSON_ERR_NOT_OBJECT},
	{"form feed is no JSON blank", "\f{}", JSON_ERR_NOT_OBJECT},
	{"unclosed", "{", JSON_ERR_SYNTAX},
	{"unclosed after member", "{\"a\":1", JSON_ERR_SYNTAX},
	{"name without value", "{\"a\"}", JSON_ERR_SYNTAX},
	{"missing value", "{\"a\":}", JSON_ERR_SYNTAX},
	{"trailing comma", "{\"a\":1,}", JSON_ERR_SYNTAX},
	{"lone comma", "{,}", JSON_ERR_SYNTAX},
	{"trailing comma in array", "{\"a\":[1,]}", JSON_ERR_SYNTAX},
	{"leading comma in array", "{\"a\":[,1]}", JSON_ERR_SYNTAX},
	{"missing comma", "{\"a\":1 \"b\":2}", JSON_ERR_SYNTAX},
	{"mismatched brackets", "{\"a\":[}", JSON_ERR_SYNTAX},
	{"single quotes", "{'a':1}", JSON_ERR_SYNTAX},
	{"bare name", "{a:1}", JSON_ERR_SYNTAX},
	{"number as name", "{1:1}", JSON_ERR_SYNTAX},
	{"comment", "{/**/}", JSON_ERR_SYNTAX},
	{"leading zero", "{\"a\":01}", JSON_ERR_SYNTAX},
	{"minus leading zero", "{\"a\":-01}", JSON_ERR_SYNTAX},
	{"dot without digits", "{\"a\":1.}", JSON_ERR_SYNTAX},
	{"leading dot", "{\"a\":.5}", JSON_ERR_SYNTAX},
	{"plus sign", "{\"a\":+1}", JSON_ERR_SYNTAX},
	{"bare minus", "{\"a\":-}", JSON_ERR_SYNTAX},
	{"empty exponent", "{\"a\":1e}", JSON_ERR_SYNTAX},
	{"signed empty exponent", "{\"a\":1e+}", JSON_ERR_SYNTAX},
	{"hex number", "{\"a\":0x10}", JSON_ERR_SYNTAX},
	{"NaN", "{\"a\":NaN}", JSON_ERR_SYNTAX},
	{"Infinity", "{\"a\":-Infinity}", JSON_ERR_SYNTAX},
	{"truncated literal", "{\"a\":tru}", JSON_ERR_SYNTAX},
	{"literal with junk", "{\"a\":truex}", JSON_ERR_SYNTAX},
	{"capitalised literal", "{\"a\":True}", JSON_ERR_SYNTAX},
	{"unterminated string", "{\"a\":\"abc", JSON_ERR_SYNTAX},
	{"escape at end of text", "{\"a\":\"\\", JSON_ERR_ESCAPE},
	{"object then more", "{\"a\":1}}", JSON_ERR_TRAILING},
	{"object then text", "{} x", JSON_ERR_TRAILING},
	{"two objects", "{}{}", JSON_ERR_TRAILING},

	/* strings */
	{"unknown escape", "{\"a\":\"\\x\"}", JSON_ERR_ESCAPE},
	{"escaped apostrophe", "{\"a\":\"\\'\"}", JSON_ERR_ESCAPE},
	{"short \\u", "{\"a\":\"\\u12\"}", JSON_ERR_ESCAPE},
	{"non-hex \\u", "{\"a\":\"\\u12G4\"}", JSON_ERR_ESCAPE},
	{"lone high surrogate", "{\"a\":\"\\uD800\"}", JSON_ERR_ESCAPE},
	{"lone low surrogate", "{\"a\":\"\\uDC00\"}", JSON_ERR_ESCAPE},
	{"high then non-surrogate", "{\"a\":\"\\uD800\\u0041\"}", JSON_ERR_ESCAPE},
	{"two high surrogates", "{\"a\":\"\\uD800\\uD800\"}", JSON_ERR_ESCAPE},
	{"lone surrogate in a name", "{\"\\uDFFF\":1}", JSON_ERR_ESCAPE},
	{"raw tab", "{\"a\":\"a\tb\"}", JSON_ERR_CONTROL},
	{"raw newline", "{\"a\":\"a\nb\"}", JSON_ERR_CONTROL},
	{"raw 0x1f in a name", "{\"\x1f\":1}", JSON_ERR_CONTROL},
	{"Latin-1 byte", "{\"a\":\"\xe9\"}", JSON_ERR_UTF8},
	{"overlong slash", "{\"a\":\"\xc0\xaf\"}", JSON_ERR_UTF8},
	{"overlong 3-byte", "{\"a\":\"\xe0\x80\xaf\"}", JSON_ERR_UTF8},
	{"UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", JSON_ERR_UTF8},
	{"above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", JSON_ERR_UTF8},
	{"truncated sequence", "{\"a\":\"\xe2\x82\"}", JSON_ERR_UTF8},
	{"stray continuation", "{\"a\":\"\x80\"}", JSON_ERR_UTF8},
	{"UTF-8 outside strings", "{\"a\":\xc3\xa9}", JSON_ERR_SYNTAX},

	/* duplicate top-level names, compared after unescaping */
	{"plain duplicate", "{\"a\":1,\"a\":2}", JSON_ERR_DUPLICATE},
	{"duplicate of another type", "{\"a\":{},\"b\":0,\"a\":[]}",
	JSON_ERR_DUPLICATE},
	{"escaped alg duplicate", "{\"alg\":\"none\",\"\\u0061lg\":\"HS256\"}",
	JSON_ERR_DUPLICATE},
	{"escape vs raw UTF-8", "{\"\\u00e9\":1,\"\xc3\xa9\":2}", JSON_ERR_DUPLICATE},
	{"\\/ vs /", "{\"a/b\":1,\"a\\/b\":2}", JSON_ERR_DUPLICATE},
	{"surrogate pair vs raw", "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}",
	JSON_ERR_DUPLICATE},
	{"escaped one-byte duplicate", "{\"a\":1,\"\\u0061\":2}", JSON_ERR_DUPLICATE},
	{"escaped two-byte duplicate", "{\"\\u0061b\":1,\"ab\":2}", JSON_ERR_DUPLICATE},
	{"escaped middle duplicate", "{\"abcde\":1,\"ab\\u0063de\":2}",
	JSON_ERR_DUPLICATE},
	{"same hash, different names", "{\"abXde\":1,\"ab\\u0063de\":2}",
	JSON_OK},
	{"empty names", "{\"\":1,\"\":2}", JSON_ERR_DUPLICATE}
};

/* Scan from an exact-length heap copy, so ASan sees any over-read. */
static int
scan_copy(const char *text, size_t len, json_member *m, int nm)
{
	char	   *copy = malloc(len ? len : 1);
	int			rc;

	memcpy(copy, text, len);
	rc = json_scan_object(copy, len, m, nm);
	free(copy);
	return rc;
}

static void
test_cases(void)
{
	size_t		i;

	for (i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++)
	{
		const scan_case *c = &scan_cases[i];
		int			got = scan_copy(c->text, strlen(c->text), NULL, 0);

		if (!tap_ok(got == c->want, "json_scan: %s", c->label))
			tap_diag("want %d, got %d", c->want, got);
	}
	tap_ok(scan_copy("{}\0", 3, NULL, 0) == JSON_ERR_TRAILING,
		   "json_scan: NUL after the object is trailing garbage");
	tap_ok(scan_copy("{\"a\0\":1}", 8, NULL, 0) == JSON_ERR_CONTROL,
		   "json_scan: raw NUL in a name");
	tap_ok(scan_copy("{\"a\":1}xyz", 7, NULL, 0) == JSON_OK,
		   "json_scan: bytes past len are not read");
}

/* {"a": then depth-1 arrays, a 1, and the closers: depth total. */
static int
scan_depth(int depth)
{
	char		buf[512];
	size_t		n = 0;
	int			i;

	n += (size_t) sprintf(buf, "{\"a\":");
	for (i = 1; i < depth; i++)
		buf[n++] = '[';
	buf[n++] = '1';
	for (i = 1; i < depth; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	return scan_copy(buf, n, NULL, 0);
}

static void
test_limits(void)
{
	char	   *buf = malloc(JSON_SCAN_MAX_LEN + 2);
	char		objs[512];
	size_t		n;
	int			i;
	int			rc;

	tap_ok(scan_depth(64) == JSON_OK, "json_scan: nesting 64 deep");
	tap_ok(scan_depth(65) == JSON_ERR_DEPTH, "json_scan: nesting 65 deep");
	/* Objects only, closing back up and going down again. */
	n = 0;
	for (i = 0; i < 64; i++)
		n += (size_t) sprintf(objs + n, "{\"k\":");
	objs[n++] = '0';
	for (i = 0; i < 64; i++)
		objs[n++] = '}';
	tap_ok(scan_copy(objs, n, NULL, 0) == JSON_OK,
		   "json_scan: 64 nested objects");

	/* The largest text allowed, and one byte more. */
	memset(buf, 'x', JSON_SCAN_MAX_LEN + 2);
	memcpy(buf, "{\"a\":\"", 6);
	memcpy(buf + JSON_SCAN_MAX_LEN - 2, "\"}", 2);
	tap_ok(scan_copy(buf, JSON_SCAN_MAX_LEN, NULL, 0) == JSON_OK,
		   "json_scan: %d bytes", JSON_SCAN_MAX_LEN);
	memcpy(buf + JSON_SCAN_MAX_LEN - 1, "\"}", 2);
	tap_ok(scan_copy(buf, JSON_SCAN_MAX_LEN + 1, NULL, 0) == JSON_ERR_TOO_LONG,
		   "json_scan: %d bytes", JSON_SCAN_MAX_LEN + 1);

	/* The most top-level members, and one more; then a late duplicate. */
	n = 0;
	buf[n++] = '{';
	for (i = 0; i < JSON_SCAN_MAX_MEMBERS; i++)
		n += (size_t) sprintf(buf + n, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf[n] = '}';
	rc = scan_copy(buf, n + 1, NULL, 0);
	tap_ok(rc == JSON_OK, "json_scan: %d members (%d)",
		   JSON_SCAN_MAX_MEMBERS, rc);
	n += (size_t) sprintf(buf + n, ",\"extra\":0}");
	tap_ok(scan_copy(buf, n, NULL, 0) == JSON_ERR_TOO_MANY_MEMBERS,
		   "json_scan: one member too many");
	n -= strlen(",\"extra\":0}");
	n += (size_t) sprintf(buf + n, ",\"k\\u0030\":0}");
	tap_ok(scan_copy(buf, n, NULL, 0) == JSON_ERR_DUPLICATE,
		   "json_scan: escaped duplicate of the first of many members");
	free(buf);

	buf = malloc(64);
	n = (size_t) sprintf(buf, "{\"k7\":1,\"x\":2,\"k\\u0037\":3}");
	tap_ok(scan_copy(buf, n, NULL, 0) == JSON_ERR_DUPLICATE,
		   "json_scan: escaped duplicate after another member");
	free(buf);
}

static int
raw_is(const json_member *m, int type, const char *raw)
{
	return m->type == type && m->raw_len == strlen(raw) &&
		memcmp(m->raw, raw, m->raw_len) == 0;
}

static void
test_members(void)
{
	const char *text =
		"{\"alg\":\"HS256\", \"kid\" : \"k\\u0031\" ,\"n\":1.5e3,"
		"\"o\":{\"x\":[1, {}]},\"arr\":[ ],\"t\":true,\"f\":false,\"z\":null,"
		"\"\\u0065sc\":-0}";
	json_member m[] = {
		{.name = "alg"}, {.name = "kid"}, {.name = "n"}, {.name = "o"},
		{.name = "arr"}, {.name = "t"}, {.name = "f"}, {.name = "z"},
		{.name = "esc"}, {.name = "missing"}, {.name = "x"}, {.name = "alg"}
	};
	int			rc = json_scan_object(text, strlen(text), m, 12);

	tap_ok(rc == JSON_OK, "json_scan: members object scans");
	tap_ok(raw_is(&m[0], JSON_STRING, "\"HS256\""), "json_scan: string member");
	tap_ok(raw_is(&m[1], JSON_STRING, "\"k\\u0031\""),
		   "json_scan: string raw keeps escapes, blanks excluded");
	tap_ok(raw_is(&m[2], JSON_NUMBER, "1.5e3"), "json_scan: number member");
	tap_ok(raw_is(&m[3], JSON_OBJECT, "{\"x\":[1, {}]}"),
		   "json_scan: object member");
	tap_ok(raw_is(&m[4], JSON_ARRAY, "[ ]"), "json_scan: array member");
	tap_ok(raw_is(&m[5], JSON_TRUE, "true") && raw_is(&m[6], JSON_FALSE, "false") &&
		   raw_is(&m[7], JSON_NULL, "null"), "json_scan: literal members");
	tap_ok(raw_is(&m[8], JSON_NUMBER, "-0"),
		   "json_scan: escaped member name matches");
	tap_ok(m[9].type == JSON_ABSENT && m[9].raw == NULL,
		   "json_scan: absent member");
	tap_ok(m[10].type == JSON_ABSENT,
		   "json_scan: nested names are not top-level members");
	tap_ok(raw_is(&m[11], JSON_STRING, "\"HS256\""),
		   "json_scan: a name may be requested twice");
	tap_ok(json_scan_object("[]", 2, m, 1) == JSON_ERR_NOT_OBJECT &&
		   m[0].type == JSON_ABSENT, "json_scan: members reset on failure");
}

static void
test_string_decode(void)
{
	const char *raw = "\"a\\u00e9\\uD83D\\uDE00\\n\\/\xe2\x82\xac\"";
	char		out[32];
	size_t		n = 0;

	tap_ok(json_string_decode(raw, strlen(raw), out, sizeof(out),
							  &n) == JSON_OK &&
		   n == 12 && memcmp(out, "a\xc3\xa9\xf0\x9f\x98\x80\n/\xe2\x82\xac", 13) == 0,
		   "json_string: escapes become UTF-8, NUL-terminated");
	tap_ok(json_string_decode("\"\"", 2, out, 1, &n) == JSON_OK && n == 0 &&
		   out[0] == '\0', "json_string: empty string");
	tap_ok(json_string_decode("\"\"", 2, out, 0, &n) == JSON_ERR_NO_ROOM,
		   "json_string: no room even for the NUL");
	tap_ok(json_string_decode("\"abc\"", 5, out, 4, &n) == JSON_OK && n == 3,
		   "json_string: exact fit");
	tap_ok(json_string_decode("\"abc\"", 5, out, 3, &n) == JSON_ERR_NO_ROOM,
		   "json_string: one byte short");
	tap_ok(json_string_decode("\"a\\u0000b\"", 10, out, sizeof(out), &n) == JSON_ERR_NUL,
		   "json_string: \\u0000 refused");
	tap_ok(json_string_decode("abc", 3, out, sizeof(out), &n) == JSON_ERR_NOT_STRING &&
		   json_string_decode("\"", 1, out, sizeof(out), &n) == JSON_ERR_NOT_STRING &&
		   json_string_decode("\"a\"b\"", 5, out, sizeof(out), &n) == JSON_ERR_NOT_STRING,
		   "json_string: not a string");
	tap_ok(json_string_decode("\"\\uD800\"", 8, out, sizeof(out), &n) == JSON_ERR_ESCAPE,
		   "json_string: invalid input is validated again");
}

typedef struct number_case
{
	const char *raw;
	int			want;
	int64_t		value;
} number_case;

static const number_case number_cases[] =
{
	{"0", JSON_OK, 0},
	{"-0", JSON_OK, 0},
	{"-0.0e-5", JSON_OK, 0},
	{"1300819380", JSON_OK, 1300819380},
	{"1.7e9", JSON_OK, 1700000000},
	{"17E+8", JSON_OK, 1700000000},
	{"1700000000.999", JSON_OK, 1700000000},
	{"0.5", JSON_OK, 0},
	{"-0.5", JSON_OK, -1},
	{"1.5", JSON_OK, 1},
	{"-1.5", JSON_OK, -2},
	{"-2", JSON_OK, -2},
	{"100e-2", JSON_OK, 1},
	{"-100e-2", JSON_OK, -1},
	{"-101e-2", JSON_OK, -2},
	{"123456789e-3", JSON_OK, 123456},
	{"0.000000000000000000000000001e30", JSON_OK, 1000},
	{"1e-400", JSON_OK, 0},
	{"-1e-400", JSON_OK, -1},
	{"0e99999999999999999999", JSON_OK, 0},
	{"9223372036854775807", JSON_OK, INT64_MAX},
	{"9223372036854775807.9", JSON_OK, INT64_MAX},
	{"92233720368547758070e-1", JSON_OK, INT64_MAX},
	{"-9223372036854775808", JSON_OK, INT64_MIN},
	{"-9223372036854775807.5", JSON_OK, INT64_MIN},
	{"9223372036854775808", JSON_ERR_RANGE, 0},
	{"9.3e18", JSON_ERR_RANGE, 0},
	{"-9223372036854775809", JSON_ERR_RANGE, 0},
	{"-9223372036854775808.5", JSON_ERR_RANGE, 0},
	{"1e400", JSON_ERR_RANGE, 0},
	{"-1e400", JSON_ERR_RANGE, 0},
	{"1e99999999999999999999", JSON_ERR_RANGE, 0},
	{"01", JSON_ERR_NOT_NUMBER, 0},
	{"1.", JSON_ERR_NOT_NUMBER, 0},
	{"", JSON_ERR_NOT_NUMBER, 0},
	{"-", JSON_ERR_NOT_NUMBER, 0},
	{"1 ", JSON_ERR_NOT_NUMBER, 0},
	{"+1", JSON_ERR_NOT_NUMBER, 0},
	{"\"1\"", JSON_ERR_NOT_NUMBER, 0},
	{"NaN", JSON_ERR_NOT_NUMBER, 0}
};

static void
test_numbers(void)
{
	size_t		i;

	for (i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++)
	{
		const number_case *c = &number_cases[i];
		size_t		len = strlen(c->raw);
		char	   *copy = malloc(len ? len : 1);
		int64_t		v = 42;
		int			rc;

		memcpy(copy, c->raw, len);
		rc = json_number_to_int64_floor(copy, len, &v);
		free(copy);
		if (!tap_ok(rc == c->want && (rc != JSON_OK || v == c->value),
					"json_number: \"%s\"", c->raw))
			tap_diag("want %d/%lld, got %d/%lld", c->want,
					 (long long) c->value, rc, (long long) v);
	}
}

static void
test_details(void)
{
	int			s;
	int			bad = 0;

	for (s = JSON_OK; s <= JSON_ERR_RANGE; s++)
	{
		const char *d = json_status_detail(s);
		size_t		n = strlen(d);

		bad += n < 10 || d[0] < 'A' || d[0] > 'Z' || d[n - 1] != '.' ||
			strcmp(d, json_status_detail(-1)) == 0;
	}
	tap_ok(bad == 0, "json_scan: every status has a sentence");
}

void
test_json_scan(void)
{
	test_cases();
	test_limits();
	test_members();
	test_string_decode();
	test_numbers();
	test_details();
}
