/*
 * bcrypt_base64.h
 *		bcrypt's own base64: alphabet "./A-Za-z0-9", no padding.
 */
#ifndef USER_MGMT_BCRYPT_BASE64_H
#define USER_MGMT_BCRYPT_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes: ceil(8n / 6). */
#define BCRYPT_B64_LEN(n)	(((n) * 4 + 2) / 3)

/* Write BCRYPT_B64_LEN(n) characters (no NUL) for the n bytes at in. */
extern void bcrypt_b64_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decode BCRYPT_B64_LEN(n) characters into n bytes.  Unused low bits of
 * the last character are ignored, as other implementations emit them.
 * Returns 0 if any character is outside the alphabet.
 */
extern int	bcrypt_b64_decode(const char *in, size_t n, uint8_t *out);

#endif							/* USER_MGMT_BCRYPT_BASE64_H */
