/*
 * session_cache.c
 *		The per-backend cache behind um_session_vouch (see session_cache.h),
 *		and the trigger that keeps every backend's cache exact.
 *
 * Rows are read with a snapshot taken at the moment of reading (not the
 * caller's, which under REPEATABLE READ could predate a revocation), after
 * the invalidations that have arrived are taken in; a cached row is used
 * until an invalidation for sessions or users empties the cache.  Reading
 * needs no SELECT privilege: the tables are the extension's own and only
 * its functions look at them this way.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/uuid_text.h"
#include "login_guard.h"
#include "session_cache.h"
#include "sessions.h"

/*
 * Past this many sessions (about 2 MB) the cache starts again from empty;
 * it is sized for it from the start, so that refilling never splits.
 */
#define MAX_CACHED_SESSIONS 16384
#define MAX_CACHED_ACCOUNTS 16384

typedef struct cached_session
{
	pg_uuid_t	id;				/* hash key */
	int32		user_id;
	int64		epoch;
	TimestampTz refreshed_at;
	TimestampTz expires_at;
	TimestampTz revoked_at;		/* 0: not revoked */
	char		reason[UM_REASON_BYTES];
} cached_session;

typedef struct cached_account
{
	int32		id;				/* hash key */
	bool		is_active;
	int64		epoch;
} cached_account;

/* Where the two tables and their columns are. */
typedef struct cache_layout
{
	bool		valid;
	Oid			sessions;
	Oid			sessions_pkey;
	Oid			users;
	Oid			users_pkey;
	AttrNumber	s_id;
	AttrNumber	s_user_id;
	AttrNumber	s_epoch;
	AttrNumber	s_refreshed_at;
	AttrNumber	s_expires_at;
	AttrNumber	s_revoked_at;
	AttrNumber	s_reason;
	AttrNumber	u_id;
	AttrNumber	u_is_active;
	AttrNumber	u_epoch;
} cache_layout;

static cache_layout layout;
static HTAB *sessions = NULL;
static HTAB *accounts = NULL;
static bool stale = true;

/* The last session vouched for, good until `until` unless the cache empties. */
static struct
{
	bool		valid;
	pg_uuid_t	sid;
	int32		user_id;
	int			idle;			/* the idle timeout it was judged with */
	TimestampTz until;
}			memo;

#define reject(msg, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), \
			 errmsg(msg), errhidestmt(true), __VA_ARGS__))

static void
forget_everything(Datum arg pg_attribute_unused(), Oid relid)
{
	if (relid == InvalidOid || !layout.valid ||
		relid == layout.sessions || relid == layout.users)
	{
		stale = true;
		memo.valid = false;
		/* ALTER TABLE sends these too: the columns may have moved. */
		layout.valid = false;
	}
}

void
um_session_cache_init(void)
{
	CacheRegisterRelcacheCallback(forget_everything, (Datum) 0);
}

static AttrNumber
column(Oid relid, const char *table, const char *name)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column user_mgmt.%s.%s does not exist", table, name),
				 errhint("Update the extension: ALTER EXTENSION user_mgmt UPDATE.")));
	return attnum;
}

static Oid
relation(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation user_mgmt.%s does not exist", name),
				 errhint("Sessions need version 1.4 or later: ALTER EXTENSION user_mgmt UPDATE.")));
	return relid;
}

static void
load_layout(void)
{
	Oid			nsp = get_namespace_oid("user_mgmt", false);

	layout.sessions = relation(nsp, "sessions");
	layout.sessions_pkey = relation(nsp, "sessions_pkey");
	layout.users = relation(nsp, "users");
	layout.users_pkey = relation(nsp, "users_pkey");
	layout.s_id = column(layout.sessions, "sessions", "id");
	layout.s_user_id = column(layout.sessions, "sessions", "user_id");
	layout.s_epoch = column(layout.sessions, "sessions", "session_epoch");
	layout.s_refreshed_at = column(layout.sessions, "sessions", "refreshed_at");
	layout.s_expires_at = column(layout.sessions, "sessions", "expires_at");
	layout.s_revoked_at = column(layout.sessions, "sessions", "revoked_at");
	layout.s_reason = column(layout.sessions, "sessions", "revoke_reason");
	layout.u_id = column(layout.users, "users", "id");
	layout.u_is_active = column(layout.users, "users", "is_active");
	layout.u_epoch = column(layout.users, "users", "session_epoch");
	layout.valid = true;
}

/* Empty the cache if an invalidation said so (and re-read the layout). */
static void
freshen(void)
{
	HASHCTL		ctl;

	if (!stale && sessions != NULL &&
		hash_get_num_entries(sessions) < MAX_CACHED_SESSIONS &&
		hash_get_num_entries(accounts) < MAX_CACHED_ACCOUNTS)
		return;
	stale = false;
	memo.valid = false;
	if (sessions != NULL)
		hash_destroy(sessions);
	if (accounts != NULL)
		hash_destroy(accounts);
	sessions = accounts = NULL;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(cached_session);
	ctl.hcxt = CacheMemoryContext;
	sessions = hash_create("user_mgmt sessions", MAX_CACHED_SESSIONS, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(int32);
	ctl.entrysize = sizeof(cached_account);
	accounts = hash_create("user_mgmt accounts", MAX_CACHED_ACCOUNTS, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (!layout.valid)
		load_layout();
}

/*
 * One row of relid by its key, read with a snapshot taken now; false when
 * there is none.  The table is opened first: that takes in invalidations,
 * so the snapshot is at least as new as every one of them.
 */
static bool
read_row(Oid relid, Oid index, AttrNumber keycol, RegProcedure eq, Datum key,
		 void (*copy) (HeapTuple, TupleDesc, void *), void *out)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetCatalogSnapshot(relid));
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found;

	ScanKeyInit(&skey, keycol, BTEqualStrategyNumber, eq, key);
	scan = systable_beginscan(rel, index, true, snapshot, 1, &skey);
	tuple = systable_getnext(scan);
	found = HeapTupleIsValid(tuple);
	if (found)
		copy(tuple, RelationGetDescr(rel), out);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

static void
copy_session(HeapTuple tuple, TupleDesc desc, void *out)
{
	cached_session *s = out;
	bool		isnull;
	Datum		d;

	s->user_id = DatumGetInt32(heap_getattr(tuple, layout.s_user_id, desc, &isnull));
	s->epoch = DatumGetInt64(heap_getattr(tuple, layout.s_epoch, desc, &isnull));
	s->refreshed_at = DatumGetTimestampTz(heap_getattr(tuple, layout.s_refreshed_at, desc, &isnull));
	s->expires_at = DatumGetTimestampTz(heap_getattr(tuple, layout.s_expires_at, desc, &isnull));
	d = heap_getattr(tuple, layout.s_revoked_at, desc, &isnull);
	s->revoked_at = isnull ? 0 : DatumGetTimestampTz(d);
	d = heap_getattr(tuple, layout.s_reason, desc, &isnull);
	s->reason[0] = '\0';
	if (!isnull)
		text_to_cstring_buffer(DatumGetTextPP(d), s->reason, sizeof(s->reason));
}

static void
copy_account(HeapTuple tuple, TupleDesc desc, void *out)
{
	cached_account *a = out;
	bool		isnull;

	a->is_active = DatumGetBool(heap_getattr(tuple, layout.u_is_active, desc, &isnull));
	a->epoch = DatumGetInt64(heap_getattr(tuple, layout.u_epoch, desc, &isnull));
}

/* The session, from the cache or (reread, or a miss) the table. */
static bool
find_session(const pg_uuid_t *sid, cached_session *out, bool reread)
{
	cached_session *entry;
	bool		found;

	freshen();
	entry = hash_search(sessions, sid, HASH_FIND, NULL);
	if (entry != NULL && !reread)
	{
		*out = *entry;
		return true;
	}
	memset(out, 0, sizeof(*out));
	out->id = *sid;
	found = read_row(layout.sessions, layout.sessions_pkey, layout.s_id, F_UUID_EQ,
					 UUIDPGetDatum(sid), copy_session, out);
	freshen();					/* an invalidation may have come with the lock */
	if (found)
		*(cached_session *) hash_search(sessions, sid, HASH_ENTER, NULL) = *out;
	else
		hash_search(sessions, sid, HASH_REMOVE, NULL);
	return found;
}

static bool
find_account(int32 user_id, cached_account *out)
{
	cached_account *entry;
	bool		found;

	freshen();
	entry = hash_search(accounts, &user_id, HASH_FIND, NULL);
	if (entry != NULL)
	{
		*out = *entry;
		return true;
	}
	memset(out, 0, sizeof(*out));
	out->id = user_id;
	found = read_row(layout.users, layout.users_pkey, layout.u_id, F_INT4EQ,
					 Int32GetDatum(user_id), copy_account, out);
	freshen();
	/* A missing account is not cached: a later insert sends nothing. */
	if (found)
		*(cached_account *) hash_search(accounts, &user_id, HASH_ENTER, NULL) = *out;
	return found;
}

static const char *
sid_text(const pg_uuid_t *sid)
{
	char	   *text = palloc(UM_UUID_TEXT_LEN + 1);

	um_uuid_format(sid->data, text);
	return text;
}

void
um_session_vouch(const pg_uuid_t *sid, int32 user_id)
{
	cached_session s;
	cached_account a;
	bool		has_session = false;
	bool		has_account = false;
	TimestampTz now;
	TimestampTz idle_end = DT_NOEND;
	int			idle = um_session_idle_timeout();
	int			attempt;

	/* What other backends committed up to now, before anything else. */
	AcceptInvalidationMessages();
	freshen();
	now = GetCurrentTimestamp();
	if (memo.valid && memo.user_id == user_id && memo.idle == idle &&
		now < memo.until && memcmp(&memo.sid, sid, sizeof(pg_uuid_t)) == 0)
		return;
	memo.valid = false;

	/* Reading a row can take in invalidations: then read both again. */
	for (attempt = 0; attempt < 3; attempt++)
	{
		has_session = find_session(sid, &s, false);
		has_account = has_session && find_account(user_id, &a);
		if (!stale)
			break;
	}

	if (!has_session)
		reject("token's session does not exist",
			   errdetail("No session has the id %s; it may have been deleted after it ended.",
						 sid_text(sid)));
	if (s.user_id != user_id)
		reject("token does not match its session",
			   errdetail("Session %s belongs to another user.", sid_text(sid)));
	if (!has_account)
		reject("token's user no longer exists",
			   errdetail("User %d has been deleted.", user_id));
	if (!a.is_active)
		reject("token's user is inactive",
			   errdetail("User %d has been deactivated.", user_id));
	if (s.revoked_at != 0)
		reject("token's session has been revoked",
			   errdetail("Session %s was revoked at %s (%s).", sid_text(sid),
						 timestamptz_to_str(s.revoked_at), s.reason));
	if (s.epoch != a.epoch)
		reject("token's session has been revoked",
			   errdetail("The password, role or activation of user %d changed after session %s began.",
						 user_id, sid_text(sid)));
	if (now >= s.expires_at)
		reject("token's session has expired",
			   errdetail("Session %s ended at %s.", sid_text(sid),
						 timestamptz_to_str(s.expires_at)));
	if (idle > 0)
	{
		idle_end = s.refreshed_at + (TimestampTz) idle * USECS_PER_SEC;
		if (now >= idle_end)
		{
			/* A refresh since it was cached sent no invalidation: look again. */
			if (!find_session(sid, &s, true))
				reject("token's session does not exist",
					   errdetail("No session has the id %s; it may have been deleted after it ended.",
								 sid_text(sid)));
			idle_end = s.refreshed_at + (TimestampTz) idle * USECS_PER_SEC;
			if (now >= idle_end)
				reject("token's session has expired",
					   errdetail("Session %s has been idle since %s.", sid_text(sid),
								 timestamptz_to_str(s.refreshed_at)));
		}
	}

	if (!stale)
	{
		memo.valid = true;
		memo.sid = *sid;
		memo.user_id = user_id;
		memo.idle = idle;
		memo.until = Min(s.expires_at, idle_end);
	}
}
