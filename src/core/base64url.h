/*
 * base64url.h
 *		RFC 4648 section 5 base64url without padding, as JWS uses it.
 *
 * The decoder accepts canonical encodings only: no padding, no whitespace,
 * no '+' or '/', and zero spare bits in the last character.  Every byte
 * string then has exactly one accepted encoding, so a token's text cannot
 * be changed without changing the bytes it carries.
 */
#ifndef USER_MGMT_BASE64URL_H
#define USER_MGMT_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes: ceil(4n / 3); n must be below SIZE_MAX/2. */
extern size_t um_b64url_encoded_len(size_t n);

/* Write exactly um_b64url_encoded_len(n) characters (no NUL) to dst. */
extern void um_b64url_encode(const uint8_t *src, size_t n, char *dst);

/* Bytes that n characters can decode to: the size dst needs. */
extern size_t um_b64url_decoded_max(size_t n);

/* Length of the longest prefix of src[0..n) made of alphabet characters. */
extern size_t um_b64url_span(const char *src, size_t n);

/*
 * Decode n characters into dst (um_b64url_decoded_max(n) bytes of room).
 * Returns 0 and sets *out_len, or -1 on a character outside A-Za-z0-9-_,
 * n % 4 == 1, or non-zero spare bits; dst contents are then unspecified.
 */
extern int	um_b64url_decode(const char *src, size_t n, uint8_t *dst,
							 size_t *out_len);

#endif							/* USER_MGMT_BASE64URL_H */
