/*
 * uuid_text.h
 *		A UUID in its canonical text form (RFC 9562, section 4), in plain C.
 *
 * A session id travels in a token's sid claim as text.  Only the
 * canonical form is accepted (8-4-4-4-12 hex digits, either case): one
 * session has one spelling per case, and no braces, missing hyphens or
 * surrounding spaces reach the lookup.
 */
#ifndef USER_MGMT_UUID_TEXT_H
#define USER_MGMT_UUID_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define UM_UUID_BYTES		16
#define UM_UUID_TEXT_LEN	36	/* without the NUL */

/* Parse text[0..len) into out; 0 on success, -1 on anything else. */
extern int	um_uuid_parse(const char *text, size_t len, uint8_t out[UM_UUID_BYTES]);

/* Write the lower-case canonical form and a NUL (37 bytes) to out. */
extern void um_uuid_format(const uint8_t id[UM_UUID_BYTES], char out[UM_UUID_TEXT_LEN + 1]);

/* Make 16 random bytes a version 4 (random) UUID: set its version and variant bits. */
extern void um_uuid_set_v4(uint8_t id[UM_UUID_BYTES]);

#endif							/* USER_MGMT_UUID_TEXT_H */
