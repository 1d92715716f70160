/*
 * fuzz_bcrypt_hash.c
 *		libFuzzer target: hash arbitrary password bytes at cost 4.
 *
 * Must not crash, and bytes past the 72nd must not matter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"

#define SETTING "$2b$04$rfzl06lo7kOeZ.JN4ASf.."

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		full[BCRYPT_HASH_LEN + 1];
	char		cut[BCRYPT_HASH_LEN + 1];
	size_t		cut_len = size < BCRYPT_MAX_KEY_BYTES ? size : BCRYPT_MAX_KEY_BYTES;
	uint8_t    *copy;

	if (bcrypt_hash(data, size, SETTING, strlen(SETTING), full) != BCRYPT_OK)
		abort();
	/* An exact-size copy so ASan sees any read past 72 bytes. */
	copy = malloc(cut_len ? cut_len : 1);
	memcpy(copy, data, cut_len);
	if (bcrypt_hash(copy, cut_len, SETTING, strlen(SETTING), cut) != BCRYPT_OK ||
		strcmp(full, cut) != 0)
		abort();
	free(copy);
	return 0;
}
