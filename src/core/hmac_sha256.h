/*
 * hmac_sha256.h
 *		HMAC-SHA256 (RFC 2104) with the key's work done once, in plain C on
 *		OpenSSL's libcrypto.
 *
 * Every HS256 token is signed or checked with one of a few keys, so the
 * two key blocks are hashed when a key is loaded, and each MAC then copies
 * those two hash states and hashes only the message: about a tenth of the
 * time a fresh HMAC takes (which also looks the digest up every time).
 */
#ifndef USER_MGMT_HMAC_SHA256_H
#define USER_MGMT_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define UM_HMAC_SHA256_LEN 32

typedef struct um_hmac_key um_hmac_key;

/* A key made ready for MACs; NULL on failure.  Free with um_hmac_key_free. */
extern um_hmac_key *um_hmac_key_new(const uint8_t *secret, size_t len);
extern void um_hmac_key_free(um_hmac_key *key);

/* The MAC of data under key; 0, or -1 on failure. */
extern int	um_hmac_sha256(const um_hmac_key *key, const uint8_t *data, size_t len,
						   uint8_t mac[UM_HMAC_SHA256_LEN]);

#endif							/* USER_MGMT_HMAC_SHA256_H */
