/*
 * fuzz_hmac_sha256.c
 *		libFuzzer target: HMAC-SHA256 from precomputed key states
 *		(src/core/hmac_sha256.c) against OpenSSL's one-shot HMAC().
 *
 * Byte 0 is the key's length (0 to 255, so keys longer than the 64-byte
 * block, which are hashed first, are covered; cut to what the input has);
 * the key follows, the rest is the message.  The MAC must equal HMAC()'s
 * for the key and the message, and for every prefix length the input's
 * last byte picks; a second key (the message as key, the key as message)
 * used in between must not disturb the first key's states or the shared
 * work context, so the first MAC is then computed again and must not
 * change.  Everything allocated is freed (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac_sha256.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reference(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
		  uint8_t out[UM_HMAC_SHA256_LEN])
{
	static const uint8_t empty[1];
	unsigned int n = 0;

	/* HMAC() is not asked to read through a NULL key or message. */
	if (HMAC(EVP_sha256(), key_len ? key : empty, (int) key_len,
			 len ? msg : empty, len, out, &n) == NULL || n != UM_HMAC_SHA256_LEN)
		abort();
}

static void
check(const um_hmac_key *k, const uint8_t *key, size_t key_len,
	  const uint8_t *msg, size_t len)
{
	uint8_t		mac[UM_HMAC_SHA256_LEN];
	uint8_t		want[UM_HMAC_SHA256_LEN];

	if (um_hmac_sha256(k, msg, len, mac) != 0)
		abort();
	reference(key, key_len, msg, len, want);
	if (memcmp(mac, want, sizeof(mac)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *key;
	const uint8_t *msg;
	size_t		key_len;
	size_t		len;
	size_t		prefix;
	um_hmac_key *k;
	um_hmac_key *k2;
	uint8_t		first[UM_HMAC_SHA256_LEN];
	uint8_t		again[UM_HMAC_SHA256_LEN];

	if (size < 1)
		return 0;
	key = data + 1;
	key_len = data[0] < size - 1 ? data[0] : size - 1;
	msg = key + key_len;
	len = size - 1 - key_len;

	k = um_hmac_key_new(key, key_len);
	if (k == NULL)
		abort();
	check(k, key, key_len, msg, len);
	if (um_hmac_sha256(k, msg, len, first) != 0)
		abort();

	/* A prefix of the message, under the same key. */
	prefix = len ? msg[len - 1] % (len + 1) : 0;
	check(k, key, key_len, msg, prefix);

	/* Another key in between changes nothing for the first. */
	k2 = um_hmac_key_new(msg, len);
	if (k2 == NULL)
		abort();
	check(k2, msg, len, key, key_len);
	if (um_hmac_sha256(k, msg, len, again) != 0 ||
		memcmp(first, again, sizeof(first)) != 0)
		abort();
	um_hmac_key_free(k2);
	um_hmac_key_free(k);
	return 0;
}
