/*
 * hex.h
 *		The value of one hexadecimal digit, for the core's parsers.
 */
#ifndef USER_MGMT_HEX_H
#define USER_MGMT_HEX_H

/* 0 to 15, or -1 when c is no hex digit (either case). */
static inline int
um_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* USER_MGMT_HEX_H */
