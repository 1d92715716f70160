/*
 * uuid_text.c
 *		Canonical UUID text: parsing, formatting, version 4 bits.
 */
#include "uuid_text.h"

#include "hex.h"

/* Positions of the hyphens in the 36 characters. */
static int
is_hyphen_position(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

int
um_uuid_parse(const char *text, size_t len, uint8_t out[UM_UUID_BYTES])
{
	size_t		i;
	size_t		nibble = 0;

	if (len != UM_UUID_TEXT_LEN)
		return -1;
	for (i = 0; i < len; i++)
	{
		int			v;

		if (is_hyphen_position(i))
		{
			if (text[i] != '-')
				return -1;
			continue;
		}
		v = um_hex_value((unsigned char) text[i]);
		if (v < 0)
			return -1;
		if (nibble % 2 == 0)
			out[nibble / 2] = (uint8_t) (v << 4);
		else
			out[nibble / 2] |= (uint8_t) v;
		nibble++;
	}
	return 0;
}

void
um_uuid_format(const uint8_t id[UM_UUID_BYTES], char out[UM_UUID_TEXT_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;
	size_t		nibble = 0;

	for (i = 0; i < UM_UUID_TEXT_LEN; i++)
	{
		if (is_hyphen_position(i))
			out[i] = '-';
		else
		{
			uint8_t		byte = id[nibble / 2];

			out[i] = digits[nibble % 2 == 0 ? byte >> 4 : byte & 0x0f];
			nibble++;
		}
	}
	out[UM_UUID_TEXT_LEN] = '\0';
}

void
um_uuid_set_v4(uint8_t id[UM_UUID_BYTES])
{
	id[6] = (uint8_t) ((id[6] & 0x0f) | 0x40);	/* version 4 */
	id[8] = (uint8_t) ((id[8] & 0x3f) | 0x80);	/* variant 10 */
}
