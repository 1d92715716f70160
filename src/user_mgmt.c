/*
 * user_mgmt.c
 *		Module entry point: loads each part of the binding layer.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "user_mgmt.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	um_password_init();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("user_mgmt");
#else
	EmitWarningsOnPlaceholders("user_mgmt");
#endif
}
