/*
 * test_hmac_sha256.c
 *		HMAC-SHA256 with precomputed key states against RFC 4231's test
 *		cases (short key, key shorter than the data's block, 131-byte keys
 *		that are hashed first), and a key used many times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmac_sha256.h"
#include "tap.h"
#include "unit_tests.h"

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t		n = strlen(hex) / 2;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned	v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t) v;
	}
	return n;
}

static int
mac_is(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
	   const char *expected_hex)
{
	uint8_t		expected[UM_HMAC_SHA256_LEN];
	uint8_t		mac[UM_HMAC_SHA256_LEN];
	um_hmac_key *k = um_hmac_key_new(key, key_len);
	int			ok;

	unhex(expected_hex, expected);
	ok = k != NULL && um_hmac_sha256(k, data, len, mac) == 0 &&
		memcmp(mac, expected, sizeof(mac)) == 0;
	um_hmac_key_free(k);
	return ok;
}

void
test_hmac_sha256(void)
{
	uint8_t		key[131];
	uint8_t		data[160];
	size_t		n;
	um_hmac_key *k;
	uint8_t		mac1[UM_HMAC_SHA256_LEN];
	uint8_t		mac2[UM_HMAC_SHA256_LEN];
	int			i;
	int			same = 1;

	/* RFC 4231 4.2: 20 bytes of 0x0b, "Hi There". */
	memset(key, 0x0b, 20);
	tap_ok(mac_is(key, 20, (const uint8_t *) "Hi There", 8,
				  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
		   "hmac: RFC 4231 test case 1");
	/* 4.3: "Jefe", "what do ya want for nothing?". */
	tap_ok(mac_is((const uint8_t *) "Jefe", 4,
				  (const uint8_t *) "what do ya want for nothing?", 28,
				  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
		   "hmac: RFC 4231 test case 2");
	/* 4.4: 20 bytes of 0xaa, 50 bytes of 0xdd. */
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	tap_ok(mac_is(key, 20, data, 50,
				  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
		   "hmac: RFC 4231 test case 3");
	/* 4.5: a 25-byte key 0x01..0x19, 50 bytes of 0xcd. */
	for (i = 0; i < 25; i++)
		key[i] = (uint8_t) (i + 1);
	memset(data, 0xcd, 50);
	tap_ok(mac_is(key, 25, data, 50,
				  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
		   "hmac: RFC 4231 test case 4");
	/* 4.7 and 4.8: 131 bytes of 0xaa, longer than a block: hashed first. */
	memset(key, 0xaa, 131);
	n = strlen("Test Using Larger Than Block-Size Key - Hash Key First");
	tap_ok(mac_is(key, 131, (const uint8_t *) "Test Using Larger Than Block-Size Key - Hash Key First", n,
				  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
		   "hmac: RFC 4231 test case 6 (key hashed first)");
	{
		const char *text = "This is a test using a larger than block-size key and a larger "
			"than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";

		tap_ok(mac_is(key, 131, (const uint8_t *) text, strlen(text),
					  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
			   "hmac: RFC 4231 test case 7 (key and data over a block)");
	}

	/* One key, used again and again: the states it copies stay intact. */
	memset(key, 0x42, 32);
	k = um_hmac_key_new(key, 32);
	tap_ok(k != NULL && um_hmac_sha256(k, data, 50, mac1) == 0, "hmac: a 32-byte key makes a MAC");
	for (i = 0; i < 1000 && k != NULL; i++)
		if (um_hmac_sha256(k, data, 50, mac2) != 0 || memcmp(mac1, mac2, sizeof(mac1)) != 0)
			same = 0;
	tap_ok(same, "hmac: the same MAC 1000 times over from one key");
	tap_ok(k != NULL && um_hmac_sha256(k, data, 0, mac2) == 0 && memcmp(mac1, mac2, sizeof(mac1)) != 0,
		   "hmac: empty data gives another MAC");
	um_hmac_key_free(k);
	um_hmac_key_free(NULL);
}
