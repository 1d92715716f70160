/*
 * fuzz_json_scan.c
 *		libFuzzer target: json_scan_object and its helpers on arbitrary
 *		bytes.
 *
 * When the text is valid, every reported member must lie within it, start
 * as its type says, and satisfy the helper for its type: strings decode
 * (unless they hold \u0000), numbers convert (unless out of range) and
 * agree with strtoll when they are plain integers, and objects scan again
 * on their own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

#define NMEMBERS 9

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char first_char[] = "?\"-tfn{[";

static void
check_string(const json_member *m)
{
	char	   *buf = malloc(m->raw_len);
	size_t		len;
	int			rc;

	/* Decoding never lengthens: raw_len - 2 bytes plus the NUL suffice. */
	rc = json_string_decode(m->raw, m->raw_len, buf, m->raw_len - 1, &len);
	if (rc != JSON_OK && rc != JSON_ERR_NUL)
		abort();
	if (rc == JSON_OK && (len > m->raw_len - 2 || buf[len] != '\0' ||
						  memchr(buf, '\0', len) != NULL))
		abort();
	free(buf);
}

static void
check_number(const json_member *m)
{
	char	   *copy = malloc(m->raw_len + 1);
	int64_t		v;
	long long	ll;
	int			rc;

	rc = json_number_to_int64_floor(m->raw, m->raw_len, &v);
	if (rc != JSON_OK && rc != JSON_ERR_RANGE)
		abort();
	memcpy(copy, m->raw, m->raw_len);
	copy[m->raw_len] = '\0';
	if (strpbrk(copy, ".eE") == NULL)
	{
		errno = 0;
		ll = strtoll(copy, NULL, 10);
		if ((errno == ERANGE) != (rc == JSON_ERR_RANGE) ||
			(rc == JSON_OK && ll != v))
			abort();
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	json_member m[NMEMBERS] = {
		{.name = "alg"}, {.name = "kid"}, {.name = "typ"}, {.name = "crit"},
		{.name = "exp"}, {.name = "nbf"}, {.name = "iat"}, {.name = "a"},
		{.name = ""}
	};
	char		buf[64];
	int64_t		v;
	size_t		len;
	int			i;
	int			rc;

	/* The helpers must also cope with input that no scan vetted. */
	(void) json_string_decode(text, size, buf, sizeof(buf), &len);
	(void) json_number_to_int64_floor(text, size, &v);

	if (json_scan_object(text, size, m, NMEMBERS) != JSON_OK)
		return 0;
	for (i = 0; i < NMEMBERS; i++)
	{
		if (m[i].type == JSON_ABSENT)
			continue;
		if (m[i].type < JSON_STRING || m[i].type > JSON_ARRAY ||
			m[i].raw < text || m[i].raw_len == 0 ||
			m[i].raw_len > size || m[i].raw > text + size - m[i].raw_len)
			abort();
		if (m[i].type != JSON_NUMBER &&
			m[i].raw[0] != first_char[m[i].type])
			abort();
		switch (m[i].type)
		{
			case JSON_STRING:
				check_string(&m[i]);
				break;
			case JSON_NUMBER:
				check_number(&m[i]);
				break;
			case JSON_OBJECT:
				/* Nested duplicates were allowed; now they are top-level. */
				rc = json_scan_object(m[i].raw, m[i].raw_len, NULL, 0);
				if (rc != JSON_OK && rc != JSON_ERR_DUPLICATE &&
					rc != JSON_ERR_TOO_MANY_MEMBERS)
					abort();
				break;
		}
	}
	return 0;
}
