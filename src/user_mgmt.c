/*
 * user_mgmt.c
 *		Module entry point: loads each part of the binding layer.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "login_guard.h"
#include "session_cache.h"
#include "sessions.h"
#include "signing_keys.h"
#include "user_mgmt.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	um_password_init();
	um_login_failures_init();
	um_login_guard_init();
	um_tokens_init();
	um_signing_keys_init();
	um_session_init();
	um_sessions_init();
	um_session_cache_init();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("user_mgmt");
#else
	EmitWarningsOnPlaceholders("user_mgmt");
#endif
}
