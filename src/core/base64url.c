/*
 * base64url.c
 *		RFC 4648 section 5 base64url without padding.
 *
 * Table-driven: one lookup per character, and invalid characters are
 * detected by OR-ing the looked-up values of a whole quantum together.
 */
#include "base64url.h"

static const char b64url_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of each byte, or X (high bit set) outside the alphabet. */
#define X 0xff
static const uint8_t b64url_value[256] =
{
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

size_t
um_b64url_encoded_len(size_t n)
{
	return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t
um_b64url_decoded_max(size_t n)
{
	static const uint8_t tail[4] = {0, 0, 1, 2};

	return (n / 4) * 3 + tail[n % 4];
}

size_t
um_b64url_span(const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t		i = 0;

	/* Four lookups per test; the whole token passes through here. */
	while (i + 4 <= n &&
		   !((b64url_value[s[i]] | b64url_value[s[i + 1]] |
			  b64url_value[s[i + 2]] | b64url_value[s[i + 3]]) & 0x80))
		i += 4;
	while (i < n && !(b64url_value[s[i]] & 0x80))
		i++;
	return i;
}

void
um_b64url_encode(const uint8_t *src, size_t n, char *dst)
{
	size_t		i;

	for (i = 0; i + 3 <= n; i += 3)
	{
		uint32_t	v = (uint32_t) src[i] << 16 |
			(uint32_t) src[i + 1] << 8 | src[i + 2];

		*dst++ = b64url_alphabet[v >> 18];
		*dst++ = b64url_alphabet[(v >> 12) & 0x3f];
		*dst++ = b64url_alphabet[(v >> 6) & 0x3f];
		*dst++ = b64url_alphabet[v & 0x3f];
	}
	if (n - i == 1)
	{
		*dst++ = b64url_alphabet[src[i] >> 2];
		*dst++ = b64url_alphabet[(src[i] & 0x03) << 4];
	}
	else if (n - i == 2)
	{
		uint32_t	v = (uint32_t) src[i] << 8 | src[i + 1];

		*dst++ = b64url_alphabet[v >> 10];
		*dst++ = b64url_alphabet[(v >> 4) & 0x3f];
		*dst++ = b64url_alphabet[(v << 2) & 0x3f];
	}
}

int
um_b64url_decode(const char *src, size_t n, uint8_t *dst, size_t *out_len)
{
	const unsigned char *s = (const unsigned char *) src;
	uint8_t    *d = dst;
	size_t		i;
	uint8_t		a,
				b,
				c,
				e;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i + 4 <= n; i += 4)
	{
		a = b64url_value[s[i]];
		b = b64url_value[s[i + 1]];
		c = b64url_value[s[i + 2]];
		e = b64url_value[s[i + 3]];
		if ((a | b | c | e) & 0x80)
			return -1;
		*d++ = (uint8_t) (a << 2 | b >> 4);
		*d++ = (uint8_t) (b << 4 | c >> 2);
		*d++ = (uint8_t) (c << 6 | e);
	}
	/* A 2- or 3-character tail; its spare low bits must be zero. */
	if (n - i >= 2)
	{
		a = b64url_value[s[i]];
		b = b64url_value[s[i + 1]];
		c = n - i == 3 ? b64url_value[s[i + 2]] : 0;
		if ((a | b | c) & 0x80)
			return -1;
		*d++ = (uint8_t) (a << 2 | b >> 4);
		if (n - i == 2)
		{
			if (b & 0x0f)
				return -1;
		}
		else
		{
			if (c & 0x03)
				return -1;
			*d++ = (uint8_t) (b << 4 | c >> 2);
		}
	}
	*out_len = (size_t) (d - dst);
	return 0;
}
