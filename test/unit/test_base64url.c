/*
 * test_base64url.c
 *		base64url: RFC 4648 vectors, canonical-only decoding, round trips.
 */
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "tap.h"
#include "unit_tests.h"

typedef struct b64_vector
{
	const char *bytes;
	size_t		nbytes;
	const char *text;
} b64_vector;

/* RFC 4648 section 10, with the padding dropped. */
static const b64_vector vectors[] =
{
	{"", 0, ""},
	{"f", 1, "Zg"},
	{"fo", 2, "Zm8"},
	{"foo", 3, "Zm9v"},
	{"foob", 4, "Zm9vYg"},
	{"fooba", 5, "Zm9vYmE"},
	{"foobar", 6, "Zm9vYmFy"},
	{"\xfb\xff", 2, "-_8"},		/* the two URL-safe characters */
	{"\xff\xff\xff", 3, "____"},
	{"\x00\x00", 2, "AAA"}
};

/* Inputs that must not decode; each a case of its own. */
static const char *const rejects[] =
{
	"Zg==",						/* padding */
	"Zm9v\n",					/* whitespace */
	"Zm 9v",
	"Z",						/* n % 4 == 1 */
	"Zm9vY",
	"Zh",						/* spare bits set in a 2-char tail */
	"Zm9",						/* spare bits set in a 3-char tail */
	"+_8",						/* standard base64 alphabet */
	"-/8",
	"Zm9v\x80",
	"Zm.v"
};

/* Decode from an exact-length heap copy, so ASan sees any over-read. */
static int
decode_copy(const char *text, size_t n, uint8_t *dst, size_t *out_len)
{
	char	   *copy = malloc(n ? n : 1);
	int			rc;

	memcpy(copy, text, n);
	rc = um_b64url_decode(copy, n, dst, out_len);
	free(copy);
	return rc;
}

static void
test_vectors(void)
{
	size_t		i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
	{
		const b64_vector *v = &vectors[i];
		size_t		nbytes = v->nbytes;
		size_t		ntext = strlen(v->text);
		char		enc[16];
		uint8_t		dec[16];
		size_t		dec_len = 99;

		memset(enc, '#', sizeof(enc));
		um_b64url_encode((const uint8_t *) v->bytes, nbytes, enc);
		tap_ok(um_b64url_encoded_len(nbytes) == ntext &&
			   memcmp(enc, v->text, ntext) == 0 && enc[ntext] == '#',
			   "base64url: encode vector \"%s\"", v->text);
		tap_ok(decode_copy(v->text, ntext, dec, &dec_len) == 0 &&
			   dec_len == nbytes && um_b64url_decoded_max(ntext) == nbytes &&
			   memcmp(dec, v->bytes, nbytes) == 0,
			   "base64url: decode vector \"%s\"", v->text);
	}
}

static void
test_rejects(void)
{
	uint8_t		dec[16];
	size_t		dec_len;
	size_t		i;

	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++)
		tap_ok(decode_copy(rejects[i], strlen(rejects[i]),
						   dec, &dec_len) == -1,
			   "base64url: reject case %zu", i);
	tap_ok(decode_copy("Zm9v\0Zm9v", 9, dec, &dec_len) == -1,
		   "base64url: reject an embedded NUL");
}

/*
 * Every 2- and 3-character string: exactly one encoding per byte string
 * decodes (256 and 65536 of them), and each re-encodes to itself.
 */
static void
test_canonical(void)
{
	static const char alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int			n2 = 0;
	int			n3 = 0;
	int			bad = 0;
	int			a,
				b,
				c;

	for (a = 0; a < 64; a++)
		for (b = 0; b < 64; b++)
		{
			char		t[3] = {alpha[a], alpha[b], alpha[0]};
			uint8_t		d[2];
			char		e[3];
			size_t		len;

			if (um_b64url_decode(t, 2, d, &len) == 0)
			{
				n2++;
				um_b64url_encode(d, len, e);
				bad += len != 1 || memcmp(e, t, 2) != 0;
			}
			for (c = 0; c < 64; c++)
			{
				t[2] = alpha[c];
				if (um_b64url_decode(t, 3, d, &len) == 0)
				{
					n3++;
					um_b64url_encode(d, len, e);
					bad += len != 2 || memcmp(e, t, 3) != 0;
				}
			}
		}
	tap_ok(n2 == 256 && n3 == 65536 && bad == 0,
		   "base64url: only canonical tails decode (%d, %d, %d bad)",
		   n2, n3, bad);
}

/* Pseudo-random buffers of every length up to 200 survive a round trip. */
static void
test_round_trip(void)
{
	uint8_t		src[200];
	char		enc[272];
	uint8_t		dec[200];
	uint32_t	x = 12345;
	size_t		n;
	size_t		i;
	int			bad = 0;

	for (i = 0; i < sizeof(src); i++)
	{
		x = x * 1103515245u + 12345u;
		src[i] = (uint8_t) (x >> 16);
	}
	for (n = 0; n <= sizeof(src); n++)
	{
		size_t		elen = um_b64url_encoded_len(n);
		size_t		dlen = 0;

		um_b64url_encode(src, n, enc);
		if (um_b64url_decode(enc, elen, dec, &dlen) != 0 || dlen != n ||
			um_b64url_decoded_max(elen) != n || memcmp(dec, src, n) != 0 ||
			um_b64url_span(enc, elen) != elen)
			bad++;
	}
	tap_ok(bad == 0, "base64url: round trip of lengths 0..200 (%d bad)", bad);
	tap_ok(um_b64url_span("abc.def", 7) == 3 && um_b64url_span("", 0) == 0,
		   "base64url: span stops at the first non-alphabet character");
}

void
test_base64url(void)
{
	test_vectors();
	test_rejects();
	test_canonical();
	test_round_trip();
}
