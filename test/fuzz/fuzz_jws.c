/*
 * fuzz_jws.c
 *		libFuzzer target: the token path on arbitrary bytes.
 *
 * The input is split as a token; each segment that decodes is parsed as
 * both a header and a claims set.  The input is also tried directly as
 * base64url and as header / claims JSON, so the fuzzer need not learn
 * base64url to reach the JSON code.  Whatever decodes must re-encode to
 * the same text (canonical decoding), and every encoding must decode.
 * Decoding gets exactly um_b64url_decoded_max(n) bytes of room, so ASan
 * sees a write past it.  A refresh token (1.4) is 43 base64url characters
 * that src/session_functions.c decodes this very way and wants 32 bytes
 * from: 43-character inputs are among the seeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jws.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_header(const char *json, size_t len)
{
	jws_header	h;
	size_t		i;

	if (jws_parse_header(json, len, &h) != JWS_OK)
		return;
	/* alg, and kid/typ when present, are short printable C strings. */
	for (i = 0; h.alg[i] != '\0'; i++)
		if (i >= JWS_ALG_MAX || h.alg[i] < 0x20 || h.alg[i] > 0x7e)
			abort();
	if (h.has_kid && strlen(h.kid) > JWS_KID_MAX)
		abort();
	if (h.has_typ && strlen(h.typ) > JWS_TYP_MAX)
		abort();
}

static void
check_json(const char *json, size_t len)
{
	jws_claims	c;

	check_header(json, len);
	(void) jws_parse_claims(json, len, &c);
}

/* Decode text; if valid, re-encode it and parse the bytes as JSON. */
static void
check_segment(const char *text, size_t n)
{
	size_t		room = um_b64url_decoded_max(n);
	uint8_t    *dec = malloc(room ? room : 1);	/* exactly what the header promises */
	char	   *enc;
	size_t		len;

	if (um_b64url_decode(text, n, dec, &len) == 0)
	{
		if (len != um_b64url_decoded_max(n) ||
			um_b64url_encoded_len(len) != n)
			abort();
		enc = malloc(n + 1);
		um_b64url_encode(dec, len, enc);
		if (memcmp(enc, text, n) != 0)
			abort();
		free(enc);
		check_json((const char *) dec, len);
	}
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	jws_parts	p;
	size_t		elen = um_b64url_encoded_len(size);
	char	   *enc = malloc(elen + 1);
	uint8_t    *dec = malloc(size + 1);
	size_t		len;

	if (jws_split(text, size, &p) == JWS_OK)
	{
		/* The signature may be empty (an unsecured JWS); the rest not. */
		if (p.header != text || p.header_len == 0 || p.payload_len == 0 ||
			p.header_len + p.payload_len + p.signature_len + 2 != size ||
			p.payload != text + p.header_len + 1 ||
			p.signature != p.payload + p.payload_len + 1 ||
			p.signing_input != text ||
			p.signing_input_len != p.header_len + 1 + p.payload_len)
			abort();
		check_segment(p.header, p.header_len);
		check_segment(p.payload, p.payload_len);
		check_segment(p.signature, p.signature_len);
	}
	check_segment(text, size);
	check_json(text, size);

	/* Any bytes encode to text that decodes back to them. */
	um_b64url_encode(data, size, enc);
	if (um_b64url_span(enc, elen) != elen ||
		um_b64url_decode(enc, elen, dec, &len) != 0 || len != size ||
		memcmp(dec, data, size) != 0)
		abort();
	free(enc);
	free(dec);
	return 0;
}
