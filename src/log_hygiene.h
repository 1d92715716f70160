/*
 * log_hygiene.h
 *		Keeping passwords and hashes out of error reports and the server log.
 *
 * A function that receives a password brackets its work with
 * um_secret_scope_enter() / um_secret_scope_leave().  Every error or notice
 * raised inside, by this code or by PostgreSQL beneath it, then goes to the
 * server log without the STATEMENT and CONTEXT lines (which hold the
 * caller's text, passwords included when the client interpolates them),
 * and an integrity error loses its detail ("Failing row contains ...",
 * which would show the new row's password hash to the caller and the log).
 *
 * The scope is an error context callback on the caller's stack: an error
 * unwinds it with everything else, so there is nothing to clean up.
 */
#ifndef USER_MGMT_LOG_HYGIENE_H
#define USER_MGMT_LOG_HYGIENE_H

#include "utils/elog.h"

typedef struct um_secret_scope
{
	ErrorContextCallback callback;
} um_secret_scope;

extern void um_secret_scope_enter(um_secret_scope *scope);
extern void um_secret_scope_leave(um_secret_scope *scope);

#endif							/* USER_MGMT_LOG_HYGIENE_H */
