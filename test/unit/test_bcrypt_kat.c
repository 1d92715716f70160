/*
 * test_bcrypt_kat.c
 *		bcrypt known-answer vectors from test/vectors/bcrypt_kat.tsv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"
#include "tap.h"
#include "unit_tests.h"

#define KAT_LINE_MAX 2048

static int
hex_decode(const char *hex, size_t hex_len, uint8_t *out)
{
	size_t		i;

	if (hex_len % 2)
		return -1;
	for (i = 0; i < hex_len / 2; i++)
	{
		unsigned	v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t) v;
	}
	return (int) (hex_len / 2);
}

void
test_bcrypt_kat(const char *tsv_path)
{
	FILE	   *f = fopen(tsv_path, "r");
	char		line[KAT_LINE_MAX];
	int			n = 0;

	if (!tap_ok(f != NULL, "kat: open %s", tsv_path))
		return;
	/* Skip the header. */
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';

	while (fgets(line, sizeof(line), f))
	{
		char	   *label = line;
		char	   *pw_hex = strchr(label, '\t');
		char	   *hash;
		uint8_t		pw[KAT_LINE_MAX / 2];
		int			pw_len;
		char		out[BCRYPT_HASH_LEN + 1];
		bcrypt_status status;

		if (!pw_hex || !(hash = strchr(pw_hex + 1, '\t')))
		{
			tap_ok(0, "kat: malformed line %d", n + 2);
			continue;
		}
		*pw_hex++ = '\0';
		*hash++ = '\0';
		hash[strcspn(hash, "\r\n")] = '\0';
		pw_len = hex_decode(pw_hex, strlen(pw_hex), pw);

		status = bcrypt_hash(pw, pw_len < 0 ? 0 : (size_t) pw_len,
							 hash, strlen(hash), out);
		if (!tap_ok(pw_len >= 0 && status == BCRYPT_OK &&
					strcmp(out, hash) == 0,
					"kat: %s", label))
			tap_diag("got %s, want %s (status %d)",
					 status == BCRYPT_OK ? out : "-", hash, (int) status);
		n++;
	}
	fclose(f);
	tap_ok(n >= 40, "kat: at least 40 vectors (%d)", n);
}
