/*
 * secure.h
 *		Constant-time comparison and wiping of secrets, in plain C.
 */
#ifndef USER_MGMT_SECURE_H
#define USER_MGMT_SECURE_H

#include <stddef.h>

/* 1 when the n bytes at a and b are equal; time depends only on n. */
extern int	um_ct_equal(const void *a, const void *b, size_t n);

/* Zero n bytes in a way the compiler cannot drop as a dead store. */
extern void um_wipe(void *p, size_t n);

#endif							/* USER_MGMT_SECURE_H */
