/*
 * test_jws.c
 *		jws_split, jws_parse_header and jws_parse_claims, starting from the
 *		RFC 7515 Appendix A.1 example (HS256).
 */
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jws.h"
#include "json_scan.h"
#include "tap.h"
#include "unit_tests.h"

#define A1_HEADER "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
#define A1_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6" \
	"Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define A1_SIGNATURE "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define A1_TOKEN A1_HEADER "." A1_PAYLOAD "." A1_SIGNATURE

/* The HMAC-SHA256 octets RFC 7515 A.1.1 publishes for this token. */
static const uint8_t a1_mac[32] = {
	116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187,
	186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141,
	121
};

/* Decode a segment into a fresh exact-size buffer (NULL if invalid). */
static uint8_t *
decode_segment(const char *s, size_t n, size_t *len)
{
	uint8_t    *buf = malloc(um_b64url_decoded_max(n) + 1);

	if (um_b64url_decode(s, n, buf, len) != 0)
	{
		free(buf);
		return NULL;
	}
	return buf;
}

static void
test_rfc7515_a1(void)
{
	const char *token = A1_TOKEN;
	jws_parts	parts;
	jws_header	h;
	jws_claims	c;
	uint8_t    *json;
	size_t		len;

	tap_ok(jws_split(token, strlen(token), &parts) == JWS_OK,
		   "jws: RFC 7515 A.1 token splits");
	tap_ok(parts.header == token && parts.header_len == strlen(A1_HEADER) &&
		   parts.payload == token + strlen(A1_HEADER) + 1 &&
		   parts.payload_len == strlen(A1_PAYLOAD) &&
		   parts.signature_len == strlen(A1_SIGNATURE) &&
		   memcmp(parts.signature, A1_SIGNATURE, parts.signature_len) == 0,
		   "jws: A.1 segments point into the token");
	tap_ok(parts.signing_input == token &&
		   parts.signing_input_len == strlen(A1_HEADER "." A1_PAYLOAD),
		   "jws: A.1 signing input is header.payload");

	json = decode_segment(parts.header, parts.header_len, &len);
	tap_ok(json != NULL && len == 30 &&
		   memcmp(json, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}", 30) == 0,
		   "jws: A.1 header decodes");
	tap_ok(json != NULL &&
		   jws_parse_header((char *) json, len, &h) == JWS_OK &&
		   strcmp(h.alg, "HS256") == 0 && h.has_typ && strcmp(h.typ, "JWT") == 0 &&
		   !h.has_kid, "jws: A.1 header parses: alg HS256, typ JWT");
	free(json);

	json = decode_segment(parts.payload, parts.payload_len, &len);
	tap_ok(json != NULL &&
		   jws_parse_claims((char *) json, len, &c) == JWS_OK &&
		   c.has_exp && c.exp == 1300819380 && !c.has_nbf && !c.has_iat,
		   "jws: A.1 claims parse: exp 1300819380");
	free(json);

	json = decode_segment(parts.signature, parts.signature_len, &len);
	tap_ok(json != NULL && len == JWS_HS256_SIG_LEN &&
		   memcmp(json, a1_mac, 32) == 0,
		   "jws: A.1 signature decodes to the published 32 octets");
	free(json);
}

static void
test_split(void)
{
	static const char *const bad[] = {
		"", ".", "..", "a.b", "a.b.c.d", ".b.c", "a..c", "..c", "a.b.c=",
		"a+b.c.d", "a/b.c.d", "a.b.c ", " a.b.c", "a.b.c\n", "a.b.c.",
		"a.b\xc3\xa9.c"
	};
	jws_parts	parts;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		size_t		n = strlen(bad[i]);
		char	   *copy = malloc(n ? n : 1);

		memcpy(copy, bad[i], n);
		tap_ok(jws_split(copy, n, &parts) == JWS_ERR_FORMAT &&
			   parts.header == NULL, "jws: split rejects bad token %zu", i);
		free(copy);
	}
	/* An unsecured JWS (empty signature) splits; the caller refuses it. */
	tap_ok(jws_split("a.b.", 4, &parts) == JWS_OK && parts.signature_len == 0 &&
		   parts.signing_input_len == 3, "jws: split keeps an empty signature");
	tap_ok(jws_split("a.b.c\0d", 7, &parts) == JWS_ERR_FORMAT,
		   "jws: split rejects an embedded NUL");
	tap_ok(jws_split("a-_.b.c", 7, &parts) == JWS_OK &&
		   parts.header_len == 3 && parts.signature_len == 1 &&
		   parts.signing_input_len == 5, "jws: split of minimal segments");
	tap_ok(jws_split("a.b.cX", 5, &parts) == JWS_OK &&
		   parts.signature_len == 1, "jws: split honours len");
}

typedef struct header_case
{
	const char *label;
	const char *json;
	int			want;
} header_case;

static const header_case header_cases[] =
{
	{"minimal", "{\"alg\":\"HS256\"}", JWS_OK},
	{"other members ignored",
	"{\"alg\":\"HS256\",\"x5u\":1,\"jku\":[],\"cty\":null}", JWS_OK},
	{"any alg parses", "{\"alg\":\"none\"}", JWS_OK},
	{"15-byte alg", "{\"alg\":\"ABCDEFGHIJKLMNO\"}", JWS_OK},
	{"16-byte alg", "{\"alg\":\"ABCDEFGHIJKLMNOP\"}", JWS_ERR_ALG_INVALID},
	{"alg with \\u0000", "{\"alg\":\"HS256\\u0000\"}", JWS_ERR_ALG_INVALID},
	{"alg with newline", "{\"alg\":\"HS256\\n\"}", JWS_ERR_ALG_INVALID},
	{"missing alg", "{\"typ\":\"JWT\"}", JWS_ERR_ALG_MISSING},
	{"empty object", "{}", JWS_ERR_ALG_MISSING},
	{"alg number", "{\"alg\":256}", JWS_ERR_ALG_NOT_STRING},
	{"alg null", "{\"alg\":null}", JWS_ERR_ALG_NOT_STRING},
	{"alg array", "{\"alg\":[\"HS256\"]}", JWS_ERR_ALG_NOT_STRING},
	{"kid", "{\"alg\":\"HS256\",\"kid\":\"key-2024\"}", JWS_OK},
	{"empty kid", "{\"alg\":\"HS256\",\"kid\":\"\"}", JWS_OK},
	{"64-byte kid", "{\"alg\":\"HS256\",\"kid\":\""
		"0123456789012345678901234567890123456789012345678901234567890123\"}",
	JWS_OK},
	{"65-byte kid", "{\"alg\":\"HS256\",\"kid\":\""
		"01234567890123456789012345678901234567890123456789012345678901234\"}",
	JWS_ERR_KID_INVALID},
	{"kid number", "{\"alg\":\"HS256\",\"kid\":7}", JWS_ERR_KID_INVALID},
	{"kid null", "{\"alg\":\"HS256\",\"kid\":null}", JWS_ERR_KID_INVALID},
	{"kid non-ASCII", "{\"alg\":\"HS256\",\"kid\":\"\\u00e9\"}",
	JWS_ERR_KID_INVALID},
	{"kid control", "{\"alg\":\"HS256\",\"kid\":\"a\\tb\"}", JWS_ERR_KID_INVALID},
	{"typ number", "{\"alg\":\"HS256\",\"typ\":1}", JWS_ERR_TYP_INVALID},
	{"crit", "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", JWS_ERR_CRIT},
	{"empty crit", "{\"crit\":[],\"alg\":\"HS256\"}", JWS_ERR_CRIT},
	{"escaped crit", "{\"alg\":\"HS256\",\"\\u0063rit\":null}", JWS_ERR_CRIT},
	{"not JSON", "alg=HS256", JWS_ERR_HEADER_JSON},
	{"array", "[\"HS256\"]", JWS_ERR_HEADER_JSON},
	{"escaped duplicate alg", "{\"alg\":\"none\",\"\\u0061lg\":\"HS256\"}",
	JWS_ERR_HEADER_JSON},
	{"trailing garbage", "{\"alg\":\"HS256\"}x", JWS_ERR_HEADER_JSON}
};

static void
test_header(void)
{
	jws_header	h;
	size_t		i;
	const char *json;

	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++)
	{
		const header_case *c = &header_cases[i];
		int			got = jws_parse_header(c->json, strlen(c->json), &h);

		if (!tap_ok(got == c->want, "jws: header %s", c->label))
			tap_diag("want %d, got %d", c->want, got);
	}

	json = "{\"kid\":\"k\\u0031\",\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	tap_ok(jws_parse_header(json, strlen(json), &h) == JWS_OK &&
		   h.has_kid && strcmp(h.kid, "k1") == 0 && strcmp(h.alg, "HS256") == 0,
		   "jws: header kid is unescaped");
	json = "{\"alg\":\"none\",\"\\u0061lg\":\"HS256\"}";
	tap_ok(jws_parse_header(json, strlen(json), &h) == JWS_ERR_HEADER_JSON &&
		   h.json_status == JSON_ERR_DUPLICATE && h.alg[0] == '\0',
		   "jws: header JSON problem is reported");
}

static void
test_claims(void)
{
	jws_claims	c;
	const char *json;

	json = "{\"sub\":\"alice\",\"exp\":1.7e9,\"nbf\":-1.5,\"iat\":1699999999.9}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_OK &&
		   c.has_exp && c.exp == 1700000000 && c.has_nbf && c.nbf == -2 &&
		   c.has_iat && c.iat == 1699999999,
		   "jws: claims are floored to whole seconds");
	json = "{\"sub\":\"alice\",\"roles\":[\"a\"]}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_OK &&
		   !c.has_exp && !c.has_nbf && !c.has_iat,
		   "jws: claims without dates");
	json = "{\"exp\":\"1700000000\"}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_EXP_NOT_NUMBER,
		   "jws: exp as a string");
	json = "{\"exp\":null}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_EXP_NOT_NUMBER,
		   "jws: exp null");
	json = "{\"nbf\":true}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_NBF_NOT_NUMBER,
		   "jws: nbf true");
	json = "{\"iat\":{}}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_IAT_NOT_NUMBER,
		   "jws: iat object");
	json = "{\"exp\":1e400}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_EXP_RANGE,
		   "jws: exp 1e400");
	json = "{\"nbf\":-9223372036854775809}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_NBF_RANGE,
		   "jws: nbf below int64");
	json = "{\"iat\":9223372036854775808}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_IAT_RANGE,
		   "jws: iat above int64");
	json = "{\"exp\":1,\"exp\":2}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_CLAIMS_JSON &&
		   c.json_status == JSON_ERR_DUPLICATE, "jws: duplicate exp");
	json = "{\"exp\":01}";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_CLAIMS_JSON &&
		   c.json_status == JSON_ERR_SYNTAX, "jws: exp 01 is not JSON");
	json = "[1]";
	tap_ok(jws_parse_claims(json, strlen(json), &c) == JWS_ERR_CLAIMS_JSON &&
		   c.json_status == JSON_ERR_NOT_OBJECT, "jws: claims must be an object");
}

static void
test_details(void)
{
	int			s;
	int			bad = 0;

	for (s = JWS_OK; s <= JWS_ERR_IAT_RANGE; s++)
	{
		const char *d = jws_status_detail(s);
		size_t		n = strlen(d);

		bad += n < 10 || d[0] < 'A' || d[0] > 'Z' || d[n - 1] != '.' ||
			strcmp(d, jws_status_detail(-1)) == 0;
	}
	tap_ok(bad == 0, "jws: every status has a sentence");
}

void
test_jws(void)
{
	test_rfc7515_a1();
	test_split();
	test_header();
	test_claims();
	test_details();
}
