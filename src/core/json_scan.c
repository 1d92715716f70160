/*
 * json_scan.c
 *		Strict, allocation-free validation of one JSON object (RFC 8259).
 *
 * The scan is a loop over a small state machine; open containers are kept
 * as one bit each (object or array) in a 64-bit word, which is why the
 * nesting limit is 64.  Top-level member names are kept as (offset,
 * length, hash) so duplicates are caught after unescaping without
 * allocating.
 */
#include "json_scan.h"

#include "hex.h"

#include <string.h>

typedef const unsigned char *uptr;

/* A top-level member name: content between the quotes, and its hash. */
typedef struct key_entry
{
	uint32_t	off;
	uint32_t	len;			/* KEY_ESCAPED set if it has a backslash */
	uint32_t	hash;
} key_entry;

#define KEY_ESCAPED		0x80000000u

/* Decodes a validated string's content byte by byte, escapes expanded. */
typedef struct str_iter
{
	uptr		p;
	uptr		end;
	unsigned char buf[4];
	int			pos;
	int			len;
} str_iter;

enum scan_state
{
	ST_VALUE,					/* a value starts here */
	ST_AFTER,					/* a value just ended */
	ST_KEY						/* a member name starts here */
};

static inline uptr
skip_ws(uptr p, uptr end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static inline int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Four hex digits at p (caller checked they exist); -1 if not hex. */
static int32_t
hex4(uptr p)
{
	int32_t		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			h = um_hex_value(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * The escape at p (a backslash): store its code point and return its
 * length, or 0 if invalid.  A surrogate must come as a high-low pair of
 * \u escapes; a lone one has no UTF-8 form, so it is rejected.
 */
static size_t
parse_escape(uptr p, uptr end, uint32_t *cp)
{
	int32_t		hi;
	int32_t		lo;

	if (end - p < 2)
		return 0;
	switch (p[1])
	{
		case '"':
		case '\\':
		case '/':
			*cp = p[1];
			return 2;
		case 'b':
			*cp = '\b';
			return 2;
		case 'f':
			*cp = '\f';
			return 2;
		case 'n':
			*cp = '\n';
			return 2;
		case 'r':
			*cp = '\r';
			return 2;
		case 't':
			*cp = '\t';
			return 2;
		case 'u':
			break;
		default:
			return 0;
	}
	if (end - p < 6 || (hi = hex4(p + 2)) < 0)
		return 0;
	if (hi < 0xd800 || hi > 0xdfff)
	{
		*cp = (uint32_t) hi;
		return 6;
	}
	if (hi > 0xdbff || end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
		(lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = 0x10000 + (((uint32_t) hi - 0xd800) << 10) +
		((uint32_t) lo - 0xdc00);
	return 12;
}

/*
 * Length of the well-formed UTF-8 sequence at p (a byte >= 0x80), or 0.
 * RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static int
utf8_len(uptr p, uptr end)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	int			n;
	int			i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
	{
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	else
		return 0;
	if (end - p < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Validate a string whose opening quote precedes p.  On success *stop is
 * just past the closing quote and *escaped says whether a backslash
 * occurred (if not, the raw bytes are the decoded bytes).
 */
static int
scan_string(uptr p, uptr end, uptr *stop, int *escaped)
{
	uint32_t	cp;
	size_t		n;

	*escaped = 0;
	for (;;)
	{
		/* Plain ASCII is by far the common case. */
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p == end)
			return JSON_ERR_SYNTAX;
		if (*p == '"')
			break;
		if (*p == '\\')
		{
			if ((n = parse_escape(p, end, &cp)) == 0)
				return JSON_ERR_ESCAPE;
			*escaped = 1;
			p += n;
		}
		else if (*p < 0x20)
			return JSON_ERR_CONTROL;
		else
		{
			if ((n = (size_t) utf8_len(p, end)) == 0)
				return JSON_ERR_UTF8;
			p += n;
		}
	}
	*stop = p + 1;
	return JSON_OK;
}

/* Past the number at p, or NULL if it does not follow RFC 8259's grammar. */
static uptr
scan_number(uptr p, uptr end)
{
	if (p < end && *p == '-')
		p++;
	if (p == end)
		return NULL;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < end && is_digit(*p))
			p++;
	else
		return NULL;
	if (p < end && *p == '.')
	{
		if (++p == end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	return p;
}

static int
utf8_encode(uint32_t cp, unsigned char *buf)
{
	if (cp < 0x80)
	{
		buf[0] = (unsigned char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		buf[0] = (unsigned char) (0xc0 | cp >> 6);
		buf[1] = (unsigned char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		buf[0] = (unsigned char) (0xe0 | cp >> 12);
		buf[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (unsigned char) (0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (unsigned char) (0xf0 | cp >> 18);
	buf[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (unsigned char) (0x80 | (cp & 0x3f));
	return 4;
}

static void
iter_init(str_iter *it, uptr p, uptr end)
{
	it->p = p;
	it->end = end;
	it->pos = it->len = 0;
}

/* Next decoded byte, or -1 at the end. */
static int
iter_next(str_iter *it)
{
	uint32_t	cp;
	size_t		n;

	if (it->pos < it->len)
		return it->buf[it->pos++];
	if (it->p >= it->end)
		return -1;
	if (*it->p != '\\')
		return *it->p++;
	/* Validated by scan_string already, so n is never 0 here. */
	n = parse_escape(it->p, it->end, &cp);
	if (n == 0)
		return -1;
	it->p += n;
	it->len = utf8_encode(cp, it->buf);
	it->pos = 1;
	return it->buf[0];
}

/*
 * Hash of the decoded name: its length and its first and last two bytes.
 * Cheap, and names that collide are merely compared in full.
 */
static uint32_t
name_hash(uptr p, size_t len, int escaped)
{
	uint32_t	n = 0;
	uint32_t	head = 0;
	uint32_t	tail = 0;
	str_iter	it;
	int			c;

	if (!escaped)
	{
		if (len == 0)
			return 0;
		return (uint32_t) len * 0x9e3779b1u ^
			((uint32_t) p[0] << 24 | (uint32_t) p[len > 1] << 16 |
			 (uint32_t) p[len - 1 - (len > 1)] << 8 | p[len - 1]);
	}
	iter_init(&it, p, p + len);
	while ((c = iter_next(&it)) >= 0)
	{
		if (n < 2)
			head = head << 8 | (uint32_t) c;
		tail = (tail << 8 | (uint32_t) c) & 0xffff;
		n++;
	}
	if (n == 0)
		return 0;
	if (n == 1)
		tail = head = head << 8 | head;
	return n * 0x9e3779b1u ^ (head << 16 | tail);
}

/* Do two string contents decode to the same bytes? */
static int
names_equal(uptr a, size_t alen, int aesc, uptr b, size_t blen, int besc)
{
	str_iter	ia;
	str_iter	ib;
	int			ca;

	if (!aesc && !besc)
		return alen == blen && memcmp(a, b, alen) == 0;
	iter_init(&ia, a, a + alen);
	iter_init(&ib, b, b + blen);
	do
	{
		ca = iter_next(&ia);
		if (ca != iter_next(&ib))
			return 0;
	} while (ca >= 0);
	return 1;
}

/* Remember a top-level name, or fail if an equal one came before. */
static int
add_key(key_entry *keys, int *nkeys, uptr text, uptr name, size_t len,
		int escaped)
{
	uint32_t	h = name_hash(name, len, escaped);
	int			i;

	for (i = 0; i < *nkeys; i++)
	{
		if (keys[i].hash == h &&
			names_equal(text + keys[i].off, keys[i].len & ~KEY_ESCAPED,
						(keys[i].len & KEY_ESCAPED) != 0,
						name, len, escaped))
			return JSON_ERR_DUPLICATE;
	}
	if (*nkeys == JSON_SCAN_MAX_MEMBERS)
		return JSON_ERR_TOO_MANY_MEMBERS;
	keys[*nkeys].off = (uint32_t) (name - text);
	keys[*nkeys].len = (uint32_t) len | (escaped ? KEY_ESCAPED : 0);
	keys[*nkeys].hash = h;
	(*nkeys)++;
	return JSON_OK;
}

/* Hand a finished top-level value to every request naming its member. */
static void
record_value(json_member *members, int nmembers, uptr name, size_t name_len,
			 int escaped, int type, uptr value, uptr value_end)
{
	int			i;

	for (i = 0; i < nmembers; i++)
	{
		const char *want = members[i].name;
		size_t		j;

		if (escaped)
		{
			if (!names_equal((uptr) want, strlen(want), 0,
							 name, name_len, 1))
				continue;
		}
		else
		{
			/* Inline compare: names are short, and raw names hold no NUL. */
			for (j = 0; j < name_len && want[j] == (char) name[j]; j++)
				;
			if (j < name_len || want[j] != '\0')
				continue;
		}
		members[i].type = type;
		members[i].raw = (const char *) value;
		members[i].raw_len = (size_t) (value_end - value);
	}
}

static int
value_type(unsigned char c)
{
	switch (c)
	{
		case '{':
			return JSON_OBJECT;
		case '[':
			return JSON_ARRAY;
		case '"':
			return JSON_STRING;
		case 't':
			return JSON_TRUE;
		case 'f':
			return JSON_FALSE;
		case 'n':
			return JSON_NULL;
		default:
			return JSON_NUMBER;
	}
}

int
json_scan_object(const char *text, size_t len, json_member *members,
				 int nmembers)
{
	uptr		start = (uptr) text;
	uptr		end = start + len;
	uptr		p;
	uint64_t	is_object = 0;	/* bit d: container at depth d+1 */
	int			depth = 0;
	int			state = ST_VALUE;
	key_entry	keys[JSON_SCAN_MAX_MEMBERS];
	int			nkeys = 0;
	uptr		key = NULL;		/* current top-level member name */
	size_t		key_len = 0;
	int			key_escaped = 0;
	uptr		value = NULL;	/* start of its value, once seen */
	int			status;
	int			i;

	for (i = 0; i < nmembers; i++)
	{
		members[i].type = JSON_ABSENT;
		members[i].raw = NULL;
		members[i].raw_len = 0;
	}
	if (len > JSON_SCAN_MAX_LEN)
		return JSON_ERR_TOO_LONG;
	p = skip_ws(start, end);
	if (p == end || *p != '{')
		return JSON_ERR_NOT_OBJECT;

	for (;;)
	{
		uptr		last = p;	/* in ST_AFTER: where the value ended */
		unsigned char c;
		uptr		q;
		int			escaped;

		p = skip_ws(p, end);
		if (p == end)
			return JSON_ERR_SYNTAX;
		c = *p;
		if (state == ST_VALUE)
		{
			if (depth == 1)
				value = p;
			if (c == '{' || c == '[')
			{
				if (depth == JSON_SCAN_MAX_DEPTH)
					return JSON_ERR_DEPTH;
				if (c == '{')
					is_object |= (uint64_t) 1 << depth;
				else
					is_object &= ~((uint64_t) 1 << depth);
				depth++;
				p = skip_ws(p + 1, end);
				if (p < end && *p == (c == '{' ? '}' : ']'))
				{
					p++;
					if (--depth == 0)
						break;
					state = ST_AFTER;
				}
				else
					state = c == '{' ? ST_KEY : ST_VALUE;
			}
			else if (c == '"')
			{
				status = scan_string(p + 1, end, &p, &escaped);
				if (status != JSON_OK)
					return status;
				state = ST_AFTER;
			}
			else if (c == '-' || is_digit(c))
			{
				if ((p = scan_number(p, end)) == NULL)
					return JSON_ERR_SYNTAX;
				state = ST_AFTER;
			}
			else if ((end - p >= 4 && memcmp(p, "true", 4) == 0) ||
					 (end - p >= 4 && memcmp(p, "null", 4) == 0))
			{
				p += 4;
				state = ST_AFTER;
			}
			else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
			{
				p += 5;
				state = ST_AFTER;
			}
			else
				return JSON_ERR_SYNTAX;
		}
		else if (state == ST_AFTER)
		{
			int			in_object = (is_object >> (depth - 1)) & 1;

			if (depth == 1 && value != NULL)
			{
				record_value(members, nmembers, key, key_len, key_escaped,
							 value_type(*value), value, last);
				value = NULL;
			}
			if (c == ',')
			{
				p++;
				state = in_object ? ST_KEY : ST_VALUE;
			}
			else if (c == (in_object ? '}' : ']'))
			{
				p++;
				if (--depth == 0)
					break;
			}
			else
				return JSON_ERR_SYNTAX;
		}
		else
		{
			/* ST_KEY */
			if (c != '"')
				return JSON_ERR_SYNTAX;
			if ((status = scan_string(p + 1, end, &q, &escaped)) != JSON_OK)
				return status;
			if (depth == 1)
			{
				key = p + 1;
				key_len = (size_t) (q - 1 - key);
				key_escaped = escaped;
				status = add_key(keys, &nkeys, start, key, key_len, escaped);
				if (status != JSON_OK)
					return status;
			}
			p = skip_ws(q, end);
			if (p == end || *p != ':')
				return JSON_ERR_SYNTAX;
			p++;
			state = ST_VALUE;
		}
	}
	if (skip_ws(p, end) != end)
		return JSON_ERR_TRAILING;
	return JSON_OK;
}

int
json_string_decode(const char *raw, size_t raw_len, char *dst,
				   size_t dst_cap, size_t *out_len)
{
	uptr		p = (uptr) raw;
	uptr		end = p + raw_len;
	uptr		stop;
	int			escaped;
	int			status;
	str_iter	it;
	size_t		n = 0;
	int			c;

	/* Validate again: raw need not come from json_scan_object. */
	if (raw_len < 2 || *p != '"')
		return JSON_ERR_NOT_STRING;
	if ((status = scan_string(p + 1, end, &stop, &escaped)) != JSON_OK)
		return status;
	if (stop != end)
		return JSON_ERR_NOT_STRING;

	if (!escaped)
	{
		/* Raw bytes are the decoded bytes, and hold no NUL. */
		n = raw_len - 2;
		if (n >= dst_cap)
			return JSON_ERR_NO_ROOM;
		memcpy(dst, p + 1, n);
		dst[n] = '\0';
		*out_len = n;
		return JSON_OK;
	}
	iter_init(&it, p + 1, end - 1);
	while ((c = iter_next(&it)) >= 0)
	{
		if (c == 0)
			return JSON_ERR_NUL;
		if (n + 1 >= dst_cap)
			return JSON_ERR_NO_ROOM;
		dst[n++] = (char) c;
	}
	if (dst_cap == 0)
		return JSON_ERR_NO_ROOM;
	dst[n] = '\0';
	*out_len = n;
	return JSON_OK;
}

int
json_number_to_int64_floor(const char *raw, size_t raw_len, int64_t *out)
{
	uptr		p = (uptr) raw;
	uptr		end = p + raw_len;
	uptr		int_digits;
	uptr		frac_digits = NULL;
	long		nint;
	long		nfrac = 0;
	long		ndigits;
	long		point;			/* digits before the decimal point */
	long		exp10 = 0;
	int			negative;
	int			exp_negative = 0;
	int			frac_nonzero = 0;
	uint64_t	limit;
	uint64_t	mag = 0;
	long		i;

	if (raw_len > JSON_SCAN_MAX_LEN)
		return JSON_ERR_TOO_LONG;
	if (scan_number(p, end) != end)
		return JSON_ERR_NOT_NUMBER;

	/* The value is digits (integer then fraction) times 10^(exp - nfrac). */
	negative = *p == '-';
	p += negative;
	int_digits = p;
	while (p < end && is_digit(*p))
		p++;
	nint = (long) (p - int_digits);
	if (p < end && *p == '.')
	{
		frac_digits = ++p;
		while (p < end && is_digit(*p))
			p++;
		nfrac = (long) (p - frac_digits);
	}
	if (p < end)
	{
		/* Exponent; saturating, as anything past 10^7 is out of range. */
		p++;
		if (*p == '+' || *p == '-')
			exp_negative = *p++ == '-';
		for (; p < end; p++)
			if (exp10 < 10000000)
				exp10 = exp10 * 10 + (*p - '0');
		if (exp_negative)
			exp10 = -exp10;
	}
	ndigits = nint + nfrac;
	point = nint + exp10;

	limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (i = 0; i < ndigits; i++)
	{
		uptr		digit = i < nint ? int_digits + i : frac_digits + (i - nint);
		unsigned	d = *digit - '0';

		if (i < point)
		{
			if (mag > (limit - d) / 10)
				return JSON_ERR_RANGE;
			mag = mag * 10 + d;
		}
		else if (d != 0)
		{
			frac_nonzero = 1;
			break;
		}
	}
	/* Trailing zeros from a positive exponent; 0e99999 stays 0. */
	for (i = ndigits; mag != 0 && i < point; i++)
	{
		if (mag > limit / 10)
			return JSON_ERR_RANGE;
		mag *= 10;
	}

	if (!negative)
		*out = (int64_t) mag;
	else
	{
		/* floor(-x.y) = -(x + 1) when y is not zero. */
		if (frac_nonzero)
		{
			if (mag == limit)
				return JSON_ERR_RANGE;
			mag++;
		}
		*out = mag == limit ? INT64_MIN : -(int64_t) mag;
	}
	return JSON_OK;
}

const char *
json_status_detail(int status)
{
	switch (status)
	{
		case JSON_OK:
			return "The JSON text is valid.";
		case JSON_ERR_TOO_LONG:
			return "The JSON text is longer than 65536 bytes.";
		case JSON_ERR_NOT_OBJECT:
			return "The JSON text must be a single object.";
		case JSON_ERR_SYNTAX:
			return "The JSON text is not valid JSON.";
		case JSON_ERR_TRAILING:
			return "The JSON object is followed by unexpected text.";
		case JSON_ERR_DEPTH:
			return "The JSON text is nested more than 64 levels deep.";
		case JSON_ERR_UTF8:
			return "A JSON string contains invalid UTF-8.";
		case JSON_ERR_CONTROL:
			return "A JSON string contains an unescaped control character.";
		case JSON_ERR_ESCAPE:
			return "A JSON string contains an invalid escape sequence or an unpaired surrogate.";
		case JSON_ERR_DUPLICATE:
			return "The JSON object has two members with the same name.";
		case JSON_ERR_TOO_MANY_MEMBERS:
			return "The JSON object has more than 1024 members.";
		case JSON_ERR_NOT_STRING:
			return "The JSON value is not a string.";
		case JSON_ERR_NOT_NUMBER:
			return "The JSON value is not a number.";
		case JSON_ERR_NO_ROOM:
			return "The JSON string is too long.";
		case JSON_ERR_NUL:
			return "A JSON string contains the character U+0000.";
		case JSON_ERR_RANGE:
			return "The JSON number is outside the 64-bit integer range.";
	}
	return "The JSON text could not be processed.";
}
