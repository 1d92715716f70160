/*
 * fuzz_uuid_text.c
 *		libFuzzer target: the sid claim's UUID parser on arbitrary bytes.
 *
 * Whatever parses must format back to the input, case aside; whatever is
 * formatted must parse back to the same bytes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uuid_text.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		id[UM_UUID_BYTES];
	uint8_t		again[UM_UUID_BYTES];
	char		text[UM_UUID_TEXT_LEN + 1];
	size_t		i;

	if (um_uuid_parse((const char *) data, size, id) == 0)
	{
		if (size != UM_UUID_TEXT_LEN)
			abort();
		um_uuid_format(id, text);
		for (i = 0; i < size; i++)
			if (tolower(data[i]) != text[i])
				abort();
	}

	/* Any 16 bytes format to text that parses back to them. */
	if (size >= UM_UUID_BYTES)
	{
		um_uuid_format(data, text);
		if (strlen(text) != UM_UUID_TEXT_LEN ||
			um_uuid_parse(text, UM_UUID_TEXT_LEN, again) != 0 ||
			memcmp(again, data, UM_UUID_BYTES) != 0)
			abort();
	}
	return 0;
}
