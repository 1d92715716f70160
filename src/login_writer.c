/*
 * login_writer.c
 *		A database's login writer: the background process that decides and
 *		records every login attempt (see login_guard.h).
 *
 * It takes the queued requests of its database in arrival order and runs
 * each in a subtransaction of one transaction, then commits and answers.
 * The decisions live in SQL (user_mgmt.login_guard_*), run as the
 * extension's owner.  After answering it copies the new state into the
 * users rows it can lock at once (never waiting on a caller's lock), and
 * retries the others.
 *
 * It also keeps, in its own memory, which slot holds which reservation, so
 * that a check that never reports back (its backend died, or was cancelled
 * and called again) is counted as a failure.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "log_hygiene.h"
#include "login_guard_shmem.h"
#include "session_writer.h"
#include "user_mgmt.h"
#include "writer_sql.h"

/* How often to look for reservations whose backend went away. */
#define SWEEP_INTERVAL_MS	1000
/* How often to retry users rows that were locked. */
#define RETRY_INTERVAL_MS	100
/* How often to prune user_mgmt.auth_events. */
#define PRUNE_INTERVAL_MS	(60 * 60 * 1000)

/* One request being served: from a slot, or made up here (ABANDON). */
typedef struct batch_item
{
	int			slot;			/* -1: made up by the writer */
	uint64		seq;
	pid_t		pid;
	um_login_request request;
	um_login_reply reply;
} batch_item;

/* A reservation a slot holds: its check has not reported back yet. */
typedef struct held_reservation
{
	bool		held;
	pid_t		pid;
	int32		user_id;
	bool		user_known;
	int64		ticket;
	um_login_request request;	/* for the audit row if it is abandoned */
} held_reservation;

/* Follow-up work on users rows: copy the state, or store a new hash. */
typedef struct users_followup
{
	int32		user_id;
	bool		rehash;
	char		old_hash[BCRYPT_HASH_LEN + 1];
	char		new_hash[BCRYPT_HASH_LEN + 1];
} users_followup;

bool		um_in_login_writer = false;

static uint32 my_incarnation;
static um_login_writer *my_entry;
static held_reservation *held;	/* nslots of them */
static batch_item *batch;		/* nslots + nslots (abandons) */
static List *followups = NIL;	/* of users_followup, in TopMemoryContext */

static SPIPlanPtr reserve_plan = NULL;
static SPIPlanPtr complete_plan = NULL;
static SPIPlanPtr unlock_plan = NULL;
static SPIPlanPtr mirror_plan = NULL;
static SPIPlanPtr rehash_plan = NULL;

static const char *const outcome_names[] = {
	[UM_OUTCOME_OK] = "ok",
	[UM_OUTCOME_WRONG_PASSWORD] = "wrong_password",
	[UM_OUTCOME_INACTIVE] = "inactive",
	[UM_OUTCOME_UNKNOWN_USER] = "unknown_user",
	[UM_OUTCOME_LOCKED] = "locked",
	[UM_OUTCOME_BUSY] = "busy",
	[UM_OUTCOME_ABANDONED] = "abandoned",
};

PG_FUNCTION_INFO_V1(um_is_login_writer);

/* is_login_writer() returns boolean: lets the triggers tell its updates apart */
Datum
um_is_login_writer(PG_FUNCTION_ARGS pg_attribute_unused())
{
	PG_RETURN_BOOL(um_in_login_writer);
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------ */

/*
 * Leave the registry, and put back what this writer took but did not
 * answer: an exit happens only between batches or inside one that was
 * rolled back, so the next writer may serve those requests again.
 */
static void
writer_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	int			i;

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	if (my_entry != NULL && my_entry->pid == MyProcPid)
		my_entry->state = UM_WRITER_NONE;
	for (i = 0; i < um_login_shmem->nslots; i++)
	{
		um_login_slot *slot = &um_login_shmem->slots[i];

		if (slot->state == UM_SLOT_TAKEN && slot->dboid == MyDatabaseId)
			slot->state = UM_SLOT_QUEUED;
	}
	LWLockRelease(um_login_shmem->lock);
}

/* Become this database's writer; false when another one already is. */
static bool
register_writer(void)
{
	um_login_writer *entry;

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	entry = um_login_writer_entry(MyDatabaseId);
	if (entry != NULL && entry->state == UM_WRITER_RUNNING)
	{
		LWLockRelease(um_login_shmem->lock);
		return false;
	}
	if (entry == NULL)
	{
		int			i;

		for (i = 0; i < UM_MAX_WRITERS && entry == NULL; i++)
			if (um_login_shmem->writers[i].state == UM_WRITER_NONE)
				entry = &um_login_shmem->writers[i];
		if (entry == NULL)
		{
			LWLockRelease(um_login_shmem->lock);
			return false;
		}
		entry->since = GetCurrentTimestamp();
	}
	entry->dboid = MyDatabaseId;
	entry->state = UM_WRITER_RUNNING;
	entry->pid = MyProcPid;
	entry->pgprocno = MyProc->pgprocno;
	entry->stop_requested = false;
	entry->incarnation = um_login_shmem->next_incarnation++;
	my_incarnation = entry->incarnation;
	my_entry = entry;
	LWLockRelease(um_login_shmem->lock);
	return true;
}

/* ------------------------------------------------------------------------
 * Running SQL as the extension's owner
 * ------------------------------------------------------------------------ */

/* The extension's owner, or InvalidOid when it is not installed here. */
static Oid
extension_owner(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("user_mgmt"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

static void
forget_plans(void)
{
	SPIPlanPtr *plans[] = {&reserve_plan, &complete_plan, &unlock_plan,
	&mirror_plan, &rehash_plan};
	size_t		i;

	for (i = 0; i < lengthof(plans); i++)
	{
		if (*plans[i] != NULL)
			SPI_freeplan(*plans[i]);
		*plans[i] = NULL;
	}
	um_session_writer_forget_plans();
}

SPIPlanPtr
um_writer_plan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *types)
{
	if (*cache == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "could not keep the plan of \"%s\"", sql);
		*cache = p;
	}
	return *cache;
}

/* Text argument: NULL for an empty string. */
void
um_writer_text_arg(Datum *values, char *nulls, int i, const char *s)
{
	if (s == NULL || s[0] == '\0')
	{
		values[i] = (Datum) 0;
		nulls[i] = 'n';
	}
	else
	{
		values[i] = CStringGetTextDatum(s);
		nulls[i] = ' ';
	}
}

Datum
um_writer_interval_seconds(int32 seconds)
{
	Interval   *span = palloc0(sizeof(Interval));

	span->time = (int64) seconds * USECS_PER_SEC;
	return IntervalPGetDatum(span);
}

/* The caller's address as inet, or NULL. */
void
um_writer_inet_arg(Datum *values, char *nulls, int i, const char *addr)
{
	if (addr[0] == '\0')
	{
		values[i] = (Datum) 0;
		nulls[i] = 'n';
	}
	else
	{
		values[i] = DirectFunctionCall1(inet_in, CStringGetDatum(addr));
		nulls[i] = ' ';
	}
}

static void
run_reserve(batch_item *item)
{
	Oid			types[6] = {INT4OID, INT4OID, INTERVALOID, TEXTOID, INETOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	const um_login_request *r = &item->request;
	bool		isnull;
	char	   *result;

	values[0] = Int32GetDatum(r->user_id);
	if (!r->user_known)
		nulls[0] = 'n';
	values[1] = Int32GetDatum(r->max_failed_logins);
	values[2] = um_writer_interval_seconds(r->lockout_seconds);
	um_writer_text_arg(values, nulls, 3, r->username);
	um_writer_inet_arg(values, nulls, 4, r->client_addr);
	um_writer_text_arg(values, nulls, 5, r->application_name);

	if (SPI_execute_plan(um_writer_plan(&reserve_plan,
							  "SELECT result, ticket FROM user_mgmt.login_guard_reserve($1, $2, $3, $4, $5, $6)",
							  6, types),
						 values, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "login_guard_reserve returned no row");

	result = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	item->reply.ticket = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 2, &isnull));
	item->reply.incarnation = my_incarnation;
	if (strcmp(result, "allowed") == 0)
		item->reply.result = UM_RESULT_ALLOWED;
	else if (strcmp(result, "locked") == 0)
		item->reply.result = UM_RESULT_LOCKED;
	else if (strcmp(result, "busy") == 0)
		item->reply.result = UM_RESULT_BUSY;
	else
		elog(ERROR, "login_guard_reserve returned \"%s\"", result);
}

/*
 * Run fn(item) in a subtransaction of its own: when it fails, the failure
 * is logged (as "could not <what>") and only its own work is rolled back.
 */
static bool
run_isolated(void (*fn) (batch_item *), batch_item *item, const char *what)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		fn(item);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		ereport(LOG,
				(errcode(edata->sqlerrcode),
				 errmsg("user_mgmt login writer could not %s: %s", what, edata->message)));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static void
open_session(batch_item *item)
{
	um_session_writer_open(&item->request, &item->reply);
}

static void
run_complete(batch_item *item)
{
	Oid			types[10] = {INT4OID, INT8OID, BOOLOID, TEXTOID, INT4OID,
	INTERVALOID, TEXTOID, INETOID, TEXTOID, BOOLOID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const um_login_request *r = &item->request;
	bool		isnull;
	Datum		locked;

	if (r->outcome < UM_OUTCOME_OK || r->outcome > UM_OUTCOME_ABANDONED)
		elog(ERROR, "unknown login outcome %d", r->outcome);

	values[0] = Int32GetDatum(r->user_id);
	if (!r->user_known)
		nulls[0] = 'n';
	values[1] = Int64GetDatum(r->ticket);
	values[2] = BoolGetDatum(r->incarnation != my_incarnation);
	values[3] = CStringGetTextDatum(outcome_names[r->outcome]);
	values[4] = Int32GetDatum(r->max_failed_logins);
	values[5] = um_writer_interval_seconds(r->lockout_seconds);
	um_writer_text_arg(values, nulls, 6, r->username);
	um_writer_inet_arg(values, nulls, 7, r->client_addr);
	um_writer_text_arg(values, nulls, 8, r->application_name);
	values[9] = BoolGetDatum(r->new_hash[0] != '\0');

	if (SPI_execute_plan(um_writer_plan(&complete_plan,
							  "SELECT failed_count, locked_until FROM user_mgmt.login_guard_complete($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
							  10, types),
						 values, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "login_guard_complete returned no row");

	item->reply.failed_count = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull));
	locked = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	item->reply.locked_until = isnull ? 0 : DatumGetTimestampTz(locked);

	/* A right password that asked for a session gets it in the same step. */
	/*
	 * Should that fail, the login stays recorded and only the session is
	 * missing: the caller refuses the login (UM_SESSION_NONE).
	 */
	if (r->outcome == UM_OUTCOME_OK && r->user_known && r->session.open &&
		!run_isolated(open_session, item, "open a session"))
		memset(&item->reply.session, 0, sizeof(item->reply.session));
	item->reply.result = UM_RESULT_DONE;
}

static void
run_unlock(batch_item *item)
{
	Oid			types[4] = {INT4OID, TEXTOID, INETOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	const um_login_request *r = &item->request;

	values[0] = Int32GetDatum(r->user_id);
	um_writer_text_arg(values, nulls, 1, r->username);
	um_writer_inet_arg(values, nulls, 2, r->client_addr);
	um_writer_text_arg(values, nulls, 3, r->application_name);

	if (SPI_execute_plan(um_writer_plan(&unlock_plan,
							  "SELECT user_mgmt.login_guard_unlock($1, $2, $3, $4)",
							  4, types),
						 values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "login_guard_unlock failed");
	item->reply.result = UM_RESULT_DONE;
}

/* ------------------------------------------------------------------------
 * Batches
 * ------------------------------------------------------------------------ */

static int
compare_seq(const void *a, const void *b)
{
	uint64		x = ((const batch_item *) a)->seq;
	uint64		y = ((const batch_item *) b)->seq;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* An ABANDON for the reservation slot i holds, made up by the writer. */
static void
add_abandon(int slot, int *n)
{
	batch_item *item = &batch[(*n)++];
	held_reservation *h = &held[slot];

	memset(item, 0, sizeof(*item));
	item->slot = -1;
	item->request = h->request;
	item->request.kind = UM_REQ_COMPLETE;
	item->request.outcome = UM_OUTCOME_ABANDONED;
	item->request.ticket = h->ticket;
	item->request.incarnation = my_incarnation;
	item->request.new_hash[0] = '\0';
	h->held = false;
}

/*
 * Take this database's queued requests, oldest first.  A RESERVE from a
 * slot that still holds a reservation abandons that one first: its check
 * never reported back.
 */
static int
collect_batch(void)
{
	int			n = 0;
	int			i;
	int			first;

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	for (i = 0; i < um_login_shmem->nslots; i++)
	{
		um_login_slot *slot = &um_login_shmem->slots[i];

		if (slot->state != UM_SLOT_QUEUED || slot->dboid != MyDatabaseId)
			continue;
		slot->state = UM_SLOT_TAKEN;
		my_entry->busy = true;
		memset(&batch[n], 0, sizeof(batch[n]));
		batch[n].slot = i;
		batch[n].seq = slot->seq;
		batch[n].pid = slot->pid;
		batch[n].request = slot->request;
		n++;
	}
	LWLockRelease(um_login_shmem->lock);

	qsort(batch, n, sizeof(batch_item), compare_seq);

	/* Abandons go first: they happened before anything now queued. */
	first = n;
	for (i = 0; i < first; i++)
	{
		const um_login_request *r = &batch[i].request;
		held_reservation *h = &held[batch[i].slot];

		if (!h->held)
			continue;
		if (r->kind == UM_REQ_COMPLETE && h->pid == batch[i].pid &&
			r->ticket == h->ticket && r->incarnation == my_incarnation)
			h->held = false;	/* the report we were waiting for */
		else if (r->kind != UM_REQ_COMPLETE || h->pid != batch[i].pid)
			add_abandon(batch[i].slot, &n);	/* not in the middle of a check */
	}
	if (n > first)
	{
		batch_item *tmp = palloc(sizeof(batch_item) * first);

		memcpy(tmp, batch, sizeof(batch_item) * first);
		memmove(batch, batch + first, sizeof(batch_item) * (n - first));
		memcpy(batch + (n - first), tmp, sizeof(batch_item) * first);
		pfree(tmp);
	}
	return n;
}

/* Reservations whose backend is gone: each becomes a failure. */
static int
collect_orphans(void)
{
	int			n = 0;
	int			i;

	for (i = 0; i < um_login_shmem->nslots; i++)
		if (held[i].held && BackendPidGetProc(held[i].pid) == NULL)
			add_abandon(i, &n);
	return n;
}

static bool
any_held(void)
{
	int			i;

	for (i = 0; i < um_login_shmem->nslots; i++)
		if (held[i].held)
			return true;
	return false;
}

static void
add_followup(const batch_item *item)
{
	const um_login_request *r = &item->request;
	MemoryContext old;
	users_followup *f;
	ListCell   *lc;

	if (!r->user_known || r->keep_off_users ||
		(r->kind != UM_REQ_RESERVE && r->kind != UM_REQ_COMPLETE &&
		 r->kind != UM_REQ_UNLOCK))
		return;
	/* One copy per user is enough, unless this one brings a new hash. */
	if (r->new_hash[0] == '\0')
		foreach(lc, followups)
			if (((users_followup *) lfirst(lc))->user_id == r->user_id &&
				!((users_followup *) lfirst(lc))->rehash)
				return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	f = palloc0(sizeof(users_followup));
	f->user_id = r->user_id;
	if (r->kind == UM_REQ_COMPLETE && r->outcome == UM_OUTCOME_OK &&
		r->new_hash[0] != '\0')
	{
		f->rehash = true;
		strlcpy(f->old_hash, r->old_hash, sizeof(f->old_hash));
		strlcpy(f->new_hash, r->new_hash, sizeof(f->new_hash));
	}
	followups = lappend(followups, f);
	MemoryContextSwitchTo(old);
}

static void
run_item(batch_item *item)
{
	switch (item->request.kind)
	{
		case UM_REQ_RESERVE:
			run_reserve(item);
			break;
		case UM_REQ_COMPLETE:
			run_complete(item);
			break;
		case UM_REQ_UNLOCK:
			run_unlock(item);
			break;
		case UM_REQ_ABANDON:
			/* an explicit abandon: handled by collect_batch */
			item->reply.result = UM_RESULT_DONE;
			break;
		case UM_REQ_OPEN_SESSION:
			um_session_writer_open(&item->request, &item->reply);
			item->reply.result = UM_RESULT_DONE;
			break;
		case UM_REQ_REFRESH:
			um_session_writer_refresh(&item->request, &item->reply);
			item->reply.result = UM_RESULT_DONE;
			break;
		case UM_REQ_REVOKE:
			um_session_writer_revoke(&item->request, &item->reply);
			item->reply.result = UM_RESULT_DONE;
			break;
		default:
			elog(ERROR, "unknown login request kind %d", item->request.kind);
	}
}

/* Each request in a subtransaction: one bad request fails alone. */
static void
run_item_isolated(batch_item *item)
{
	if (!run_isolated(run_item, item, "record a login attempt"))
		item->reply.result = UM_RESULT_FAILED;
}

/*
 * One transaction for the whole batch, as the extension's owner.  False
 * when the extension is gone from this database: the writer then exits.
 */
static bool
run_batch(batch_item *items, int n)
{
	um_secret_scope scope;
	volatile bool installed = true;
	int			i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		Oid			owner = extension_owner();
		Oid			nsp = get_namespace_oid("user_mgmt", true);

		if (!OidIsValid(owner) || !OidIsValid(nsp) ||
			!OidIsValid(get_relname_relid("login_state", nsp)))
			installed = false;
		else
		{
			Oid			save_user;
			int			save_sec;

			GetUserIdAndSecContext(&save_user, &save_sec);
			SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
								   SECURITY_RESTRICTED_OPERATION);
			um_secret_scope_enter(&scope);
			SPI_connect();
			PushActiveSnapshot(GetTransactionSnapshot());
			pgstat_report_activity(STATE_RUNNING, "user_mgmt: recording login attempts");
			for (i = 0; i < n; i++)
				run_item_isolated(&items[i]);
			PopActiveSnapshot();
			SPI_finish();
			um_secret_scope_leave(&scope);
			SetUserIdAndSecContext(save_user, save_sec);
		}
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		forget_plans();
		for (i = 0; i < n; i++)
			items[i].reply.result = UM_RESULT_FAILED;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (!installed)
		for (i = 0; i < n; i++)
			items[i].reply.result = UM_RESULT_FAILED;
	return installed;
}

/* Answer the callers; remember the reservations given. */
static void
deliver(batch_item *items, int n)
{
	int			i;

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
	{
		batch_item *item = &items[i];
		um_login_slot *slot;

		if (item->slot < 0)
			continue;
		slot = &um_login_shmem->slots[item->slot];
		if (item->request.kind == UM_REQ_RESERVE &&
			item->reply.result == UM_RESULT_ALLOWED)
		{
			held_reservation *h = &held[item->slot];

			h->held = true;
			h->pid = item->pid;
			h->user_id = item->request.user_id;
			h->user_known = item->request.user_known;
			h->ticket = item->reply.ticket;
			h->request = item->request;
		}
		if (slot->state != UM_SLOT_TAKEN || slot->seq != item->seq)
			continue;			/* cannot happen: only we touch TAKEN slots */
		if (slot->want_reply)
		{
			slot->reply = item->reply;
			slot->state = UM_SLOT_DONE;
			SetLatch(&GetPGProcByNumber(slot->pgprocno)->procLatch);
		}
		else
			slot->state = UM_SLOT_FREE;
	}
	LWLockRelease(um_login_shmem->lock);
}

/*
 * Copy the new state into users rows, and store hashes that a login
 * upgraded; a row another transaction holds is left for a later try.
 */
static void
run_followups(void)
{
	List	   *todo = followups;
	List	   *volatile retry = NIL;
	ListCell   *lc;
	um_secret_scope scope;

	if (todo == NIL)
		return;
	followups = NIL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		Oid			owner = extension_owner();

		if (OidIsValid(owner))
		{
			Oid			save_user;
			int			save_sec;
			Oid			mirror_types[1] = {INT4OID};
			Oid			rehash_types[3] = {INT4OID, TEXTOID, TEXTOID};

			GetUserIdAndSecContext(&save_user, &save_sec);
			SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
								   SECURITY_RESTRICTED_OPERATION);
			um_secret_scope_enter(&scope);
			SPI_connect();
			PushActiveSnapshot(GetTransactionSnapshot());
			foreach(lc, todo)
			{
				users_followup *f = lfirst(lc);
				Datum		values[3];
				char		nulls[3] = {' ', ' ', ' '};
				bool		isnull;
				bool		done;

				values[0] = Int32GetDatum(f->user_id);
				if (f->rehash)
				{
					values[1] = CStringGetTextDatum(f->old_hash);
					values[2] = CStringGetTextDatum(f->new_hash);
					SPI_execute_plan(um_writer_plan(&rehash_plan,
										  "SELECT user_mgmt.login_guard_rehash($1, $2, $3)",
										  3, rehash_types),
									 values, nulls, false, 1);
				}
				else
					SPI_execute_plan(um_writer_plan(&mirror_plan,
										  "SELECT user_mgmt.login_guard_mirror($1)",
										  1, mirror_types),
									 values, nulls, false, 1);
				done = SPI_processed == 1 &&
					DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
				if (!done)
				{
					MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

					retry = lappend(retry, f);
					MemoryContextSwitchTo(old);
				}
				else
					pfree(f);
			}
			PopActiveSnapshot();
			SPI_finish();
			um_secret_scope_leave(&scope);
			SetUserIdAndSecContext(save_user, save_sec);
		}
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		forget_plans();
		retry = NIL;			/* the state stays right in login_state */
	}
	PG_END_TRY();

	/* What new work arrived meanwhile goes after the retries. */
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		followups = list_concat(retry, followups);
		MemoryContextSwitchTo(old);
	}
	list_free(todo);
}

/*
 * Run one housekeeping statement in a transaction of its own, as the
 * extension's owner; an error is logged and the writer carries on.  Nothing
 * runs until required_table exists, when one is named (the writer can
 * start while an update is still in progress, or serve an older version).
 */
static void
run_housekeeping(const char *sql, const char *required_table)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		Oid			owner = extension_owner();
		Oid			nsp = get_namespace_oid("user_mgmt", true);

		if (OidIsValid(owner) && OidIsValid(nsp) &&
			(required_table == NULL ||
			 OidIsValid(get_relname_relid(required_table, nsp))))
		{
			Oid			save_user;
			int			save_sec;

			GetUserIdAndSecContext(&save_user, &save_sec);
			SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
								   SECURITY_RESTRICTED_OPERATION);
			SPI_connect();
			PushActiveSnapshot(GetTransactionSnapshot());
			SPI_execute(sql, false, 0);
			PopActiveSnapshot();
			SPI_finish();
			SetUserIdAndSecContext(save_user, save_sec);
		}
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
}

/* Charges of reservations a previous writer held become failures. */
static void
recover_reservations(void)
{
	run_housekeeping("SELECT user_mgmt.login_guard_recover()", "login_state");
}

/*
 * Audit events past user_mgmt.auth_events_retention go, and (1.4) sessions
 * that ended longer ago than that.
 */
static void
prune_events(void)
{
	run_housekeeping("SELECT user_mgmt.prune_auth_events()", NULL);
	run_housekeeping("SELECT user_mgmt.prune_sessions()", "sessions");
}

/* Leave when asked to, or idle long enough, unless work is waiting. */
static bool
may_exit(TimestampTz last_work)
{
	bool		stop;
	bool		queued = false;
	int			i;

	if (any_held() || followups != NIL)
		return false;

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	stop = my_entry->stop_requested ||
		(um_login_writer_idle_timeout > 0 &&
		 TimestampDifferenceExceeds(last_work, GetCurrentTimestamp(),
									um_login_writer_idle_timeout * 1000));
	if (stop)
	{
		for (i = 0; i < um_login_shmem->nslots && !queued; i++)
			queued = um_login_shmem->slots[i].state == UM_SLOT_QUEUED &&
				um_login_shmem->slots[i].dboid == MyDatabaseId;
		if (!queued)
			my_entry->state = UM_WRITER_NONE;	/* new requests start a new one */
	}
	LWLockRelease(um_login_shmem->lock);
	return stop && !queued;
}

void
um_login_writer_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	TimestampTz last_work;
	TimestampTz last_sweep;
	TimestampTz last_prune;
	MemoryContext batch_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (um_login_shmem == NULL)
		proc_exit(0);			/* not preloaded: nothing to serve */

	/* As the bootstrap superuser; the SQL runs as the extension's owner. */
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	um_in_login_writer = true;

	/* Our transactions are short and must see each other's commits. */
	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("application_name", "user_mgmt login writer",
					PGC_USERSET, PGC_S_OVERRIDE);

	held = MemoryContextAllocZero(TopMemoryContext,
								  sizeof(held_reservation) * um_login_shmem->nslots);
	batch = MemoryContextAllocZero(TopMemoryContext,
								   sizeof(batch_item) * 2 * um_login_shmem->nslots);
	batch_context = AllocSetContextCreate(TopMemoryContext, "user_mgmt login writer",
										  ALLOCSET_DEFAULT_SIZES);

	if (!register_writer())
		proc_exit(0);			/* another writer serves this database */
	before_shmem_exit(writer_exit, (Datum) 0);

	recover_reservations();
	last_work = last_sweep = last_prune = GetCurrentTimestamp();

	for (;;)
	{
		int			n;
		long		timeout = SWEEP_INTERVAL_MS;
		TimestampTz now;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextReset(batch_context);
		MemoryContextSwitchTo(batch_context);

		now = GetCurrentTimestamp();
		n = collect_batch();
		if (n == 0 && TimestampDifferenceExceeds(last_sweep, now, SWEEP_INTERVAL_MS))
		{
			n = collect_orphans();
			last_sweep = now;
		}
		if (n > 0)
		{
			bool		installed;
			int			i;

			installed = run_batch(batch, n);
			for (i = 0; i < n; i++)
				if (batch[i].reply.result != UM_RESULT_FAILED)
					add_followup(&batch[i]);
			deliver(batch, n);
			run_followups();
			last_work = GetCurrentTimestamp();
			if (!installed)
				break;
			continue;
		}

		if (followups != NIL)
		{
			run_followups();
			timeout = RETRY_INTERVAL_MS;
		}
		if (TimestampDifferenceExceeds(last_prune, now, PRUNE_INTERVAL_MS))
		{
			prune_events();
			last_prune = now;
		}
		if (may_exit(last_work))
			break;
		if (followups == NIL)
		{
			LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
			my_entry->busy = false;
			LWLockRelease(um_login_shmem->lock);
		}

		MemoryContextSwitchTo(TopMemoryContext);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
	}
	proc_exit(0);
}
