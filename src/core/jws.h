/*
 * jws.h
 *		Compact JWS (RFC 7515) / JWT (RFC 7519) token parsing, in plain C.
 *
 * Only the parsing lives here: the fmgr binding computes and compares the
 * HMAC (PostgreSQL's common/hmac.h and um_ct_equal) and decides policy,
 * such as which alg is accepted and how exp/nbf compare with the clock.
 */
#ifndef USER_MGMT_JWS_H
#define USER_MGMT_JWS_H

#include <stddef.h>
#include <stdint.h>

#include "json_scan.h"

#define JWS_ALG_MAX		15		/* bytes, without the NUL */
#define JWS_KID_MAX		64
#define JWS_TYP_MAX		64
#define JWS_HS256_SIG_LEN	32

enum jws_status
{
	JWS_OK = 0,
	JWS_ERR_FORMAT,				/* not three base64url segments */
	JWS_ERR_HEADER_BASE64,		/* for the binding's decode of each part */
	JWS_ERR_PAYLOAD_BASE64,
	JWS_ERR_SIGNATURE_BASE64,
	JWS_ERR_SIGNATURE_LENGTH,	/* decoded signature is not 32 bytes */
	JWS_ERR_HEADER_JSON,		/* see jws_header.json_status */
	JWS_ERR_ALG_MISSING,
	JWS_ERR_ALG_NOT_STRING,
	JWS_ERR_ALG_INVALID,		/* over 15 bytes, or not printable ASCII */
	JWS_ERR_ALG_UNSUPPORTED,	/* for the binding: not "HS256" */
	JWS_ERR_KID_INVALID,		/* not a string, over 64 bytes, unprintable */
	JWS_ERR_TYP_INVALID,		/* likewise */
	JWS_ERR_CRIT,				/* "crit" present: no extension understood */
	JWS_ERR_SIGNATURE_MISMATCH, /* for the binding */
	JWS_ERR_CLAIMS_JSON,		/* see jws_claims.json_status */
	JWS_ERR_EXP_NOT_NUMBER,
	JWS_ERR_NBF_NOT_NUMBER,
	JWS_ERR_IAT_NOT_NUMBER,
	JWS_ERR_EXP_RANGE,			/* after floor, outside int64 */
	JWS_ERR_NBF_RANGE,
	JWS_ERR_IAT_RANGE
};

/* The three segments, pointing into the token; none is NUL-terminated. */
typedef struct jws_parts
{
	const char *header;
	size_t		header_len;
	const char *payload;
	size_t		payload_len;
	const char *signature;
	size_t		signature_len;
	const char *signing_input;	/* header '.' payload: what is MACed */
	size_t		signing_input_len;
} jws_parts;

/* Protected header fields, as NUL-terminated printable ASCII. */
typedef struct jws_header
{
	char		alg[JWS_ALG_MAX + 1];
	int			has_kid;
	char		kid[JWS_KID_MAX + 1];
	int			has_typ;
	char		typ[JWS_TYP_MAX + 1];
	int			json_status;	/* enum json_status behind HEADER_JSON */
} jws_header;

/*
 * NumericDate claims, floored to whole seconds; and, found in the same
 * scan, the identity claims sub, role and sid as json_scan_object gives
 * them (type JSON_ABSENT when missing; raw points into the scanned text),
 * for the binding to interpret.
 */
typedef struct jws_claims
{
	int			has_exp;
	int64_t		exp;
	int			has_nbf;
	int64_t		nbf;
	int			has_iat;
	int64_t		iat;
	json_member sub;
	json_member role;
	json_member sid;
	int			json_status;	/* enum json_status behind CLAIMS_JSON */
} jws_claims;

/*
 * Split token[0..len) into exactly three segments of base64url
 * characters separated by '.': header and payload non-empty, the
 * signature possibly empty.  Returns JWS_OK or JWS_ERR_FORMAT.
 */
extern int	jws_split(const char *token, size_t len, jws_parts *parts);

/*
 * Parse a decoded protected header: a strict JSON object (json_scan.h)
 * with a string "alg", optional string "kid" and "typ", and no "crit".
 * Other members are ignored.
 */
extern int	jws_parse_header(const char *json, size_t len, jws_header *h);

/*
 * Parse a decoded claims set: a strict JSON object whose "exp", "nbf" and
 * "iat", where present, are numbers within int64 once floored; "sub",
 * "role" and "sid" are found but not judged.
 */
extern int	jws_parse_claims(const char *json, size_t len, jws_claims *c);

/* A full-sentence explanation of a status, for error details. */
extern const char *jws_status_detail(int status);

#endif							/* USER_MGMT_JWS_H */
