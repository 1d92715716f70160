/*
 * tap.c
 *		Minimal TAP output for the core's unit tests.
 */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>

static int	tap_count;
static int	tap_failed;

int
tap_ok(int cond, const char *fmt,...)
{
	va_list		ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

void
tap_diag(const char *fmt,...)
{
	va_list		ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		tap_diag("%d of %d tests failed", tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}
