/*
 * fuzz_bcrypt_parse.c
 *		libFuzzer target: bcrypt_parse on arbitrary bytes.
 *
 * Whatever parses must format back to its canonical form, and that form
 * must parse to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			allow;

	for (allow = 0; allow <= 1; allow++)
	{
		bcrypt_hash_info info;
		bcrypt_hash_info again;
		char		out[BCRYPT_HASH_LEN + 1];

		if (bcrypt_parse((const char *) data, size, allow, &info) != BCRYPT_OK)
			continue;
		if (info.cost < BCRYPT_MIN_COST || info.cost > BCRYPT_MAX_COST ||
			(info.variant != 'a' && info.variant != 'b' && info.variant != 'y'))
			abort();

		bcrypt_format(info.variant, info.cost, info.salt, info.digest, out);
		if (strlen(out) != BCRYPT_HASH_LEN ||
			bcrypt_parse(out, BCRYPT_HASH_LEN, 0, &again) != BCRYPT_OK ||
			memcmp(&info, &again, sizeof(info)) != 0)
			abort();
		/* Only the last salt and digest chars, with spare bits, may differ. */
		if (memcmp(out, data, BCRYPT_SETTING_LEN - 1) != 0 ||
			(size == BCRYPT_HASH_LEN &&
			 memcmp(out + BCRYPT_SETTING_LEN, data + BCRYPT_SETTING_LEN,
					BCRYPT_HASH_LEN - BCRYPT_SETTING_LEN - 1) != 0))
			abort();
	}
	return 0;
}
