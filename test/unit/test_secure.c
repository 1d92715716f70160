/*
 * test_secure.c
 *		um_ct_equal and um_wipe.
 */
#include <string.h>

#include "secure.h"
#include "tap.h"
#include "unit_tests.h"

void
test_secure(void)
{
	unsigned char a[32];
	unsigned char b[32];
	int			i;

	for (i = 0; i < 32; i++)
		a[i] = b[i] = (unsigned char) (i * 7 + 1);

	tap_ok(um_ct_equal(a, b, sizeof(a)) == 1, "secure: equal buffers");
	tap_ok(um_ct_equal(a, b, 0) == 1, "secure: length 0 is equal");
	tap_ok(um_ct_equal("x", "y", 0) == 1,
		   "secure: length 0 ignores the contents");
	b[31] ^= 0x80;
	tap_ok(um_ct_equal(a, b, sizeof(a)) == 0,
		   "secure: difference in the last byte");
	b[31] ^= 0x80;
	b[0] ^= 0x01;
	tap_ok(um_ct_equal(a, b, sizeof(a)) == 0,
		   "secure: difference in the first byte");
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char) ~a[i];
	tap_ok(um_ct_equal(a, b, sizeof(a)) == 0,
		   "secure: every byte differs");

	um_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	tap_ok(memcmp(a, b, sizeof(a)) == 0, "secure: um_wipe zeroes");
}
