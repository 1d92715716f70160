/*
 * bcrypt_base64.c
 *		bcrypt's base64 variant.
 *
 * Same bit order as RFC 4648 base64, but a different alphabet and no
 * padding, so it cannot share code with any standard decoder.
 */
#include "bcrypt_base64.h"

static const char b64_alphabet[] =
"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Value of a character, or -1; by ranges, so there is no second table. */
static int
b64_value(unsigned char c)
{
	if (c == '.')
		return 0;
	if (c == '/')
		return 1;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 2;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 28;
	if (c >= '0' && c <= '9')
		return c - '0' + 54;
	return -1;
}

void
bcrypt_b64_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6)
		{
			bits -= 6;
			*out++ = b64_alphabet[(acc >> bits) & 0x3f];
		}
	}
	/* Left-align the leftover bits in a final character. */
	if (bits > 0)
		*out++ = b64_alphabet[(acc << (6 - bits)) & 0x3f];
}

int
bcrypt_b64_decode(const char *in, size_t n, uint8_t *out)
{
	size_t		nchars = BCRYPT_B64_LEN(n);
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		produced = 0;
	size_t		i;

	for (i = 0; i < nchars; i++)
	{
		int			v = b64_value((unsigned char) in[i]);

		if (v < 0)
			return 0;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			/* The last character's spare bits never produce a byte. */
			if (produced < n)
				out[produced++] = (uint8_t) (acc >> bits);
		}
	}
	return 1;
}
