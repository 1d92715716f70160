/*
 * session_cache.h
 *		Whether a token's session may vouch for it, now (version 1.4).
 *
 * Each backend caches the sessions and accounts it has checked.  The
 * triggers on user_mgmt.sessions and user_mgmt.users send a relcache
 * invalidation whenever something that decides a check changes, and every
 * check first reads the invalidations that have arrived, so a revocation
 * committed by any backend is seen by the very next check in every other
 * one, whatever its transaction or isolation level.  A refresh sends
 * nothing: a session whose idle timeout seems to have run out is read
 * again before it is refused.
 */
#ifndef USER_MGMT_SESSION_CACHE_H
#define USER_MGMT_SESSION_CACHE_H

#include "utils/uuid.h"

/*
 * Return when session sid belongs to user_id, has neither ended nor been
 * revoked, and the account exists, is active and has not changed its
 * password, role or activation since the session began.  Otherwise raise
 * SQLSTATE 28000 with a message per cause.
 */
extern void um_session_vouch(const pg_uuid_t *sid, int32 user_id);

/* Module set-up, from _PG_init. */
extern void um_session_cache_init(void);

#endif							/* USER_MGMT_SESSION_CACHE_H */
