/*
 * jws.c
 *		Compact JWS splitting and header / claims parsing.
 */
#include "jws.h"

#include <string.h>

#include "base64url.h"
#include "json_scan.h"

int
jws_split(const char *token, size_t len, jws_parts *parts)
{
	const char *seg[3];
	size_t		seg_len[3];
	size_t		off = 0;
	int			i;

	memset(parts, 0, sizeof(*parts));
	for (i = 0; i < 3; i++)
	{
		size_t		n = um_b64url_span(token + off, len - off);

		/*
		 * Header and payload are non-empty.  The signature may be empty (an
		 * unsecured JWS, alg "none"), so that the caller can name the real
		 * reason to refuse: the algorithm, or a signature of the wrong size.
		 */
		if (n == 0 && i < 2)
			return JWS_ERR_FORMAT;
		seg[i] = token + off;
		seg_len[i] = n;
		off += n;
		if (i < 2)
		{
			if (off == len || token[off] != '.')
				return JWS_ERR_FORMAT;
			off++;
		}
		else if (off != len)
			return JWS_ERR_FORMAT;
	}
	parts->header = seg[0];
	parts->header_len = seg_len[0];
	parts->payload = seg[1];
	parts->payload_len = seg_len[1];
	parts->signature = seg[2];
	parts->signature_len = seg_len[2];
	parts->signing_input = token;
	parts->signing_input_len = seg_len[0] + 1 + seg_len[1];
	return JWS_OK;
}

/*
 * Decode a string member into buf (cap bytes including the NUL) and insist
 * on printable ASCII, so the value is safe to echo in an error message.
 */
static int
decode_printable(const json_member *m, char *buf, size_t cap)
{
	size_t		n;
	size_t		i;

	if (m->type != JSON_STRING ||
		json_string_decode(m->raw, m->raw_len, buf, cap, &n) != JSON_OK)
		return -1;
	for (i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return -1;
	return 0;
}

int
jws_parse_header(const char *json, size_t len, jws_header *h)
{
	json_member m[4] = {
		{.name = "alg"}, {.name = "kid"}, {.name = "typ"}, {.name = "crit"}
	};
	const json_member *alg = &m[0];
	const json_member *kid = &m[1];
	const json_member *typ = &m[2];
	const json_member *crit = &m[3];

	memset(h, 0, sizeof(*h));
	h->json_status = json_scan_object(json, len, m, 4);
	if (h->json_status != JSON_OK)
		return JWS_ERR_HEADER_JSON;

	/* RFC 7515 4.1.11: we understand no extension, so crit must fail. */
	if (crit->type != JSON_ABSENT)
		return JWS_ERR_CRIT;
	if (alg->type == JSON_ABSENT)
		return JWS_ERR_ALG_MISSING;
	if (alg->type != JSON_STRING)
		return JWS_ERR_ALG_NOT_STRING;
	if (decode_printable(alg, h->alg, sizeof(h->alg)) != 0)
		return JWS_ERR_ALG_INVALID;
	if (kid->type != JSON_ABSENT)
	{
		if (decode_printable(kid, h->kid, sizeof(h->kid)) != 0)
			return JWS_ERR_KID_INVALID;
		h->has_kid = 1;
	}
	if (typ->type != JSON_ABSENT)
	{
		if (decode_printable(typ, h->typ, sizeof(h->typ)) != 0)
			return JWS_ERR_TYP_INVALID;
		h->has_typ = 1;
	}
	return JWS_OK;
}

/* One NumericDate claim: absent is fine, anything but a number is not. */
static int
numeric_date(const json_member *m, int *has, int64_t *value,
			 int not_number, int out_of_range)
{
	if (m->type == JSON_ABSENT)
		return JWS_OK;
	if (m->type != JSON_NUMBER)
		return not_number;
	if (json_number_to_int64_floor(m->raw, m->raw_len, value) != JSON_OK)
		return out_of_range;
	*has = 1;
	return JWS_OK;
}

int
jws_parse_claims(const char *json, size_t len, jws_claims *c)
{
	json_member m[6] = {{.name = "exp"}, {.name = "nbf"}, {.name = "iat"},
	{.name = "sub"}, {.name = "role"}, {.name = "sid"}};
	int			status;

	memset(c, 0, sizeof(*c));
	c->json_status = json_scan_object(json, len, m, 6);
	if (c->json_status != JSON_OK)
		return JWS_ERR_CLAIMS_JSON;
	c->sub = m[3];
	c->role = m[4];
	c->sid = m[5];
	if ((status = numeric_date(&m[0], &c->has_exp, &c->exp,
							   JWS_ERR_EXP_NOT_NUMBER,
							   JWS_ERR_EXP_RANGE)) != JWS_OK ||
		(status = numeric_date(&m[1], &c->has_nbf, &c->nbf,
							   JWS_ERR_NBF_NOT_NUMBER,
							   JWS_ERR_NBF_RANGE)) != JWS_OK ||
		(status = numeric_date(&m[2], &c->has_iat, &c->iat,
							   JWS_ERR_IAT_NOT_NUMBER,
							   JWS_ERR_IAT_RANGE)) != JWS_OK)
		return status;
	return JWS_OK;
}

const char *
jws_status_detail(int status)
{
	switch (status)
	{
		case JWS_OK:
			return "The token is well-formed.";
		case JWS_ERR_FORMAT:
			return "The token must have three base64url segments separated by dots, the first two non-empty.";
		case JWS_ERR_HEADER_BASE64:
			return "The token header is not valid unpadded base64url.";
		case JWS_ERR_PAYLOAD_BASE64:
			return "The token payload is not valid unpadded base64url.";
		case JWS_ERR_SIGNATURE_BASE64:
			return "The token signature is not valid unpadded base64url.";
		case JWS_ERR_SIGNATURE_LENGTH:
			return "The token signature must be 32 bytes long, as HMAC-SHA256 produces.";
		case JWS_ERR_HEADER_JSON:
			return "The token header is not a valid JSON object.";
		case JWS_ERR_ALG_MISSING:
			return "The token header has no \"alg\" member.";
		case JWS_ERR_ALG_NOT_STRING:
			return "The token header's \"alg\" member must be a string.";
		case JWS_ERR_ALG_INVALID:
			return "The token header's \"alg\" member must be at most 15 printable ASCII characters.";
		case JWS_ERR_ALG_UNSUPPORTED:
			return "The token's algorithm must be HS256.";
		case JWS_ERR_KID_INVALID:
			return "The token header's \"kid\" member must be a string of at most 64 printable ASCII characters.";
		case JWS_ERR_TYP_INVALID:
			return "The token header's \"typ\" member must be a string of at most 64 printable ASCII characters.";
		case JWS_ERR_CRIT:
			return "The token header has a \"crit\" member, but no critical extension is supported.";
		case JWS_ERR_SIGNATURE_MISMATCH:
			return "The token signature does not match its header and payload.";
		case JWS_ERR_CLAIMS_JSON:
			return "The token payload is not a valid JSON object.";
		case JWS_ERR_EXP_NOT_NUMBER:
			return "The token's \"exp\" claim must be a number.";
		case JWS_ERR_NBF_NOT_NUMBER:
			return "The token's \"nbf\" claim must be a number.";
		case JWS_ERR_IAT_NOT_NUMBER:
			return "The token's \"iat\" claim must be a number.";
		case JWS_ERR_EXP_RANGE:
			return "The token's \"exp\" claim is outside the supported range of dates.";
		case JWS_ERR_NBF_RANGE:
			return "The token's \"nbf\" claim is outside the supported range of dates.";
		case JWS_ERR_IAT_RANGE:
			return "The token's \"iat\" claim is outside the supported range of dates.";
	}
	return "The token could not be parsed.";
}
