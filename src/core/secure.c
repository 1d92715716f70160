/*
 * secure.c
 *		Constant-time comparison and wiping of secrets.
 */
#include "secure.h"

#include <stdint.h>

int
um_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *pa = a;
	const volatile unsigned char *pb = b;
	unsigned	diff = 0;
	size_t		i;

	/* Accumulate every difference; never stop early. */
	for (i = 0; i < n; i++)
		diff |= pa[i] ^ pb[i];

	/* diff is 0..255: (diff - 1) >> 8 is 1 exactly when diff == 0. */
	return (int) (((diff - 1) >> 8) & 1);
}

void
um_wipe(void *p, size_t n)
{
	volatile unsigned char *vp = p;
	size_t		i;

	/* Volatile stores cannot be removed as dead. */
	for (i = 0; i < n; i++)
		vp[i] = 0;
#if defined(__GNUC__) || defined(__clang__)
	/* And the barrier keeps later code from assuming the old contents. */
	__asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}
