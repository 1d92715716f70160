/*
 * token_core_bench.c
 *		Time the plain-C token path on a typical ~250-byte HS256 token:
 *		jws_split, base64url decoding of all three segments, and parsing of
 *		the header and claims.  The HMAC (PostgreSQL's) is not included.
 *
 * Build and run from the repository root, with the core's Makefile flags:
 *	gcc -O3 -fomit-frame-pointer -Isrc/core bench/token_core_bench.c \
 *		src/core/base64url.c src/core/json_scan.c src/core/jws.c \
 *		-o /tmp/token_core_bench && /tmp/token_core_bench
 */
#define _POSIX_C_SOURCE 199309L	/* clock_gettime under -std=c99 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64url.h"
#include "jws.h"

#define ITERATIONS	1000000
#define RUNS		7

static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-2024-01\"}";
static const char payload[] =
"{\"sub\":\"alice\",\"iss\":\"user_mgmt\",\"roles\":[\"reader\",\"writer\"],"
"\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700003600}";

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The whole parse; returns a value depending on all of it, or -1. */
static int64_t
parse_token(const char *token, size_t len)
{
	jws_parts	p;
	jws_header	h;
	jws_claims	c;
	uint8_t		buf[512];
	uint8_t		sig[64];
	size_t		n;
	size_t		sig_len;

	if (jws_split(token, len, &p) != JWS_OK ||
		p.header_len > 600 || p.payload_len > 600 || p.signature_len > 80 ||
		um_b64url_decode(p.header, p.header_len, buf, &n) != 0 ||
		jws_parse_header((char *) buf, n, &h) != JWS_OK ||
		um_b64url_decode(p.signature, p.signature_len, sig, &sig_len) != 0 ||
		sig_len != JWS_HS256_SIG_LEN ||
		um_b64url_decode(p.payload, p.payload_len, buf, &n) != 0 ||
		jws_parse_claims((char *) buf, n, &c) != JWS_OK)
		return -1;
	return c.exp + h.alg[0] + sig[0];
}

int
main(void)
{
	char		token[512];
	uint8_t		sig[JWS_HS256_SIG_LEN];
	size_t		len = 0;
	double		ns[RUNS];
	int64_t		sink = 0;
	int			r;
	int			i;

	for (i = 0; i < JWS_HS256_SIG_LEN; i++)
		sig[i] = (uint8_t) (i * 37 + 11);
	um_b64url_encode((const uint8_t *) header, strlen(header), token);
	len += um_b64url_encoded_len(strlen(header));
	token[len++] = '.';
	um_b64url_encode((const uint8_t *) payload, strlen(payload), token + len);
	len += um_b64url_encoded_len(strlen(payload));
	token[len++] = '.';
	um_b64url_encode(sig, sizeof(sig), token + len);
	len += um_b64url_encoded_len(sizeof(sig));

	if (parse_token(token, len) != 1700003600 + 'H' + sig[0])
	{
		fprintf(stderr, "token did not parse\n");
		return 1;
	}
	for (r = 0; r < RUNS; r++)
	{
		double		start = now_ns();

		for (i = 0; i < ITERATIONS; i++)
			sink += parse_token(token, len);
		ns[r] = (now_ns() - start) / ITERATIONS;
	}
	qsort(ns, RUNS, sizeof(double), cmp_double);
	printf("token %zu bytes: split+decode+parse median %.0f ns, min %.0f ns"
		   " (%d x %d iterations; sink %lld)\n",
		   len, ns[RUNS / 2], ns[0], RUNS, ITERATIONS, (long long) sink);
	return 0;
}
