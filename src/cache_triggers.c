/*
 * cache_triggers.c
 *		The triggers that tell every backend to drop what it cached of a
 *		table: signing_keys (the key cache, signing_keys.c) and, since 1.4,
 *		sessions and users (the session cache, session_cache.c).
 *
 * Each sends a relcache invalidation for the table it fires on.  This
 * backend takes it in at the end of the command, the others when the
 * transaction commits (and a standby when it replays the commit); a
 * rolled-back change sends nothing.  The caches' callbacks listen for it.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/rel.h"

static Datum
invalidate_trigger_relation(FunctionCallInfo fcinfo, const char *name)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() must be called as a trigger", name)));

	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));

	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(um_signing_keys_changed);

/* Statement trigger on signing_keys: every backend reloads its keys. */
Datum
um_signing_keys_changed(PG_FUNCTION_ARGS)
{
	return invalidate_trigger_relation(fcinfo, "signing_keys_changed");
}

PG_FUNCTION_INFO_V1(um_session_caches_changed);

/*
 * Triggers on sessions and users (1.4): every backend forgets the sessions
 * and accounts it cached for token verification.
 */
Datum
um_session_caches_changed(PG_FUNCTION_ARGS)
{
	return invalidate_trigger_relation(fcinfo, "session_caches_changed");
}
