/*
 * log_hygiene.c
 *		Error reports without secrets: see log_hygiene.h.
 */
#include "postgres.h"

#include "utils/elog.h"

#include "log_hygiene.h"

/*
 * Runs while PostgreSQL assembles a report raised inside the scope, before
 * it is logged or sent.  The client still receives CONTEXT: only the server
 * log loses it, since it can hold bind parameters
 * (log_parameter_max_length_on_error).
 */
static void
secret_scope_callback(void *arg pg_attribute_unused())
{
	errhidestmt(true);
	errhidecontext(true);

	/* NOT NULL, CHECK and the like print the failing row: hash included. */
	if (ERRCODE_TO_CATEGORY(geterrcode()) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
		errdetail("The row's values are not shown: they include a password hash.");
}

void
um_secret_scope_enter(um_secret_scope *scope)
{
	scope->callback.callback = secret_scope_callback;
	scope->callback.arg = NULL;
	scope->callback.previous = error_context_stack;
	error_context_stack = &scope->callback;
}

void
um_secret_scope_leave(um_secret_scope *scope)
{
	Assert(error_context_stack == &scope->callback);
	error_context_stack = scope->callback.previous;
}
