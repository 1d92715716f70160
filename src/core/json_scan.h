/*
 * json_scan.h
 *		Strict, allocation-free RFC 8259 validation of one JSON object, with
 *		extraction of chosen top-level members.
 *
 * Built for JWS headers and claims sets, where lax parsing is a security
 * problem: two parsers that disagree on a token (duplicate names, invalid
 * UTF-8, odd escapes) let an attacker show each a different claim.  So
 * anything RFC 8259 leaves to the implementation is rejected here.
 *
 * Limits: JSON_SCAN_MAX_LEN bytes of text, nesting JSON_SCAN_MAX_DEPTH
 * deep (the top-level object counts as 1), JSON_SCAN_MAX_MEMBERS
 * top-level members.  The scan is iterative, so the limits bound time and
 * stack use (about 12 kB), not recursion.
 */
#ifndef USER_MGMT_JSON_SCAN_H
#define USER_MGMT_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define JSON_SCAN_MAX_LEN		65536
#define JSON_SCAN_MAX_DEPTH		64
#define JSON_SCAN_MAX_MEMBERS	1024

/* Value types; JSON_ABSENT means the member was not present. */
enum json_type
{
	JSON_ABSENT = 0,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
	JSON_OBJECT,
	JSON_ARRAY
};

enum json_status
{
	JSON_OK = 0,
	JSON_ERR_TOO_LONG,			/* text longer than JSON_SCAN_MAX_LEN */
	JSON_ERR_NOT_OBJECT,		/* first non-blank byte is not '{' */
	JSON_ERR_SYNTAX,			/* anything else RFC 8259 does not allow */
	JSON_ERR_TRAILING,			/* non-blank bytes after the object */
	JSON_ERR_DEPTH,				/* nested deeper than JSON_SCAN_MAX_DEPTH */
	JSON_ERR_UTF8,				/* invalid UTF-8 inside a string */
	JSON_ERR_CONTROL,			/* unescaped byte below 0x20 in a string */
	JSON_ERR_ESCAPE,			/* bad escape, or a lone \uD800-\uDFFF */
	JSON_ERR_DUPLICATE,			/* equal top-level names, once unescaped */
	JSON_ERR_TOO_MANY_MEMBERS,	/* over JSON_SCAN_MAX_MEMBERS top-level */
	JSON_ERR_NOT_STRING,		/* json_string_decode: raw is no string */
	JSON_ERR_NOT_NUMBER,		/* json_number_to_int64_floor: no number */
	JSON_ERR_NO_ROOM,			/* json_string_decode: dst too small */
	JSON_ERR_NUL,				/* json_string_decode: string has \u0000 */
	JSON_ERR_RANGE				/* number outside the int64 range */
};

/*
 * One requested top-level member.  The caller sets name (a C string,
 * compared with the unescaped member name); json_scan_object sets the
 * rest.  raw points into the scanned text and covers the whole value as
 * written: quotes included for a string, brackets for an object or array.
 */
typedef struct json_member
{
	const char *name;
	int			type;			/* enum json_type */
	const char *raw;
	size_t		raw_len;
} json_member;

/*
 * Validate text[0..len) as exactly one JSON object, optionally surrounded
 * by JSON whitespace, and fill in members[0..nmembers).  Never reads past
 * len; text need not be NUL-terminated.  Returns JSON_OK or the first
 * problem found (enum json_status); members are meaningful only on
 * JSON_OK.
 */
extern int	json_scan_object(const char *text, size_t len,
							 json_member *members, int nmembers);

/*
 * Unescape a string value's raw text (with its quotes) into UTF-8 at dst,
 * followed by a NUL, so dst_cap must exceed the decoded length.  Fails
 * with JSON_ERR_NUL on \u0000, which no C string or PostgreSQL text value
 * could carry, and with JSON_ERR_NO_ROOM if it does not fit.
 */
extern int	json_string_decode(const char *raw, size_t raw_len,
							   char *dst, size_t dst_cap, size_t *out_len);

/*
 * Convert a number's raw text (integer, fraction and exponent forms) to
 * the largest int64 not above it, exactly: no floating point is involved.
 * JSON_ERR_RANGE if that is outside int64.
 */
extern int	json_number_to_int64_floor(const char *raw, size_t raw_len,
									   int64_t *out);

/* A full-sentence explanation of a status, for error details. */
extern const char *json_status_detail(int status);

#endif							/* USER_MGMT_JSON_SCAN_H */
