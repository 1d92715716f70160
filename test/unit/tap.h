/*
 * tap.h
 *		Minimal TAP output for the core's unit tests.
 *
 * The plan is printed at the end ("1..N" last is valid TAP), so tests do
 * not need to be counted in advance.
 */
#ifndef USER_MGMT_TAP_H
#define USER_MGMT_TAP_H

/* Report one test; returns cond so callers can add diagnostics. */
extern int	tap_ok(int cond, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Print a "# ..." diagnostic line. */
extern void tap_diag(const char *fmt,...)
			__attribute__((format(printf, 1, 2)));

/* Print the plan; returns the process exit status (1 if anything failed). */
extern int	tap_done(void);

#endif							/* USER_MGMT_TAP_H */
