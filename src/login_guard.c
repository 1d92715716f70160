/*
 * login_guard.c
 *		The requesting side of the login guard (see login_guard.h): shared
 *		memory, the per-backend request slots, starting a database's writer
 *		on demand, and the cluster-wide counters.
 *
 * Shared memory needs shared_preload_libraries.  Without it every guarded
 * function refuses with a clear error rather than check a password whose
 * failure it could not count.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "login_guard_shmem.h"
#include "user_mgmt.h"

um_login_shared *um_login_shmem = NULL;
int			um_login_writer_idle_timeout = 300;
static int	auth_events_retention = 90 * 24 * 60 * 60;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* The writer this backend registered last, to notice when it fails. */
static BackgroundWorkerHandle *started_writer = NULL;
static Oid	started_writer_db = InvalidOid;

static void require_preloaded(void);

static Size
login_shmem_size(void)
{
	return add_size(offsetof(um_login_shared, slots),
					mul_size(MaxBackends, sizeof(um_login_slot)));
}

static void
login_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(login_shmem_size());
	RequestNamedLWLockTranche("user_mgmt login guard", 1);
}

static void
login_shmem_startup(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	um_login_shmem = ShmemInitStruct("user_mgmt login guard",
									 login_shmem_size(), &found);
	if (!found)
	{
		memset(um_login_shmem, 0, login_shmem_size());
		um_login_shmem->lock = &(GetNamedLWLockTranche("user_mgmt login guard"))->lock;
		um_login_shmem->next_seq = 1;
		um_login_shmem->next_incarnation = 1;
		um_login_shmem->nslots = MaxBackends;
		for (i = 0; i < UM_STAT_COUNT; i++)
			pg_atomic_init_u64(&um_login_shmem->stats[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
um_login_guard_init(void)
{
	DefineCustomIntVariable("user_mgmt.login_writer_idle_timeout",
							"How long a database's login writer waits for work before it exits.",
							"0 keeps it running until the server stops.",
							&um_login_writer_idle_timeout,
							300,
							0,
							INT_MAX / 1000,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	/* Policy, like the lockout settings: only superusers change it. */
	DefineCustomIntVariable("user_mgmt.auth_events_retention",
							"How long user_mgmt.auth_events keeps an event.",
							"prune_auth_events() and the login writer delete older ones; 0 keeps them all.",
							&auth_events_retention,
							90 * 24 * 60 * 60,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = login_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = login_shmem_startup;
}

bool
um_login_guard_ready(void)
{
	return um_login_shmem != NULL;
}

static void
require_preloaded(void)
{
	if (!um_login_guard_ready())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("user_mgmt must be loaded through shared_preload_libraries to check logins"),
				 errdetail("Failed logins are counted in shared memory, which only a library loaded at server start can have."),
				 errhint("Add user_mgmt to shared_preload_libraries in postgresql.conf and restart the server.")));
}

void
um_login_guard_require(void)
{
	require_preloaded();
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("logins cannot be checked on a hot standby"),
				 errdetail("A standby cannot record login attempts, so it does not check passwords at all."),
				 errhint("Send logins to the primary; verify_token() and set_session_token() work on standbys.")));
}

void
um_login_stat_add(um_login_stat stat)
{
	if (um_login_shmem != NULL)
		pg_atomic_fetch_add_u64(&um_login_shmem->stats[stat], 1);
}

um_login_writer *
um_login_writer_entry(Oid dboid)
{
	int			i;

	for (i = 0; i < UM_MAX_WRITERS; i++)
		if (um_login_shmem->writers[i].state != UM_WRITER_NONE &&
			um_login_shmem->writers[i].dboid == dboid)
			return &um_login_shmem->writers[i];
	return NULL;
}

static um_login_slot *
my_slot(void)
{
	if (MyBackendId < 1 || MyBackendId > um_login_shmem->nslots)
		elog(ERROR, "backend id %d has no login guard slot", MyBackendId);
	return &um_login_shmem->slots[MyBackendId - 1];
}

/* Register a writer for this database; false when no slot or entry is free. */
static bool
start_writer(void)
{
	BackgroundWorker worker;
	um_login_writer *entry = NULL;
	MemoryContext oldcontext;
	bool		registered;
	int			i;

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	if (um_login_writer_entry(MyDatabaseId) != NULL)
	{
		LWLockRelease(um_login_shmem->lock);
		return true;			/* someone else got there first */
	}
	for (i = 0; i < UM_MAX_WRITERS && entry == NULL; i++)
		if (um_login_shmem->writers[i].state == UM_WRITER_NONE)
			entry = &um_login_shmem->writers[i];
	if (entry == NULL)
	{
		LWLockRelease(um_login_shmem->lock);
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("more than %d databases check logins at once", UM_MAX_WRITERS),
				 errdetail("Each database that checks logins needs a login writer, and every writer slot is taken; this login is refused."),
				 errhint("Stop the writers of databases that no longer log users in with user_mgmt.stop_login_writer(), or lower user_mgmt.login_writer_idle_timeout.")));
		return false;
	}
	memset(entry, 0, sizeof(*entry));
	entry->dboid = MyDatabaseId;
	entry->state = UM_WRITER_STARTING;
	entry->since = GetCurrentTimestamp();
	LWLockRelease(um_login_shmem->lock);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "user_mgmt");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "um_login_writer_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "user_mgmt login writer for database %u", MyDatabaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, "user_mgmt login writer");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	worker.bgw_notify_pid = 0;

	if (started_writer != NULL)
	{
		pfree(started_writer);
		started_writer = NULL;
	}
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	registered = RegisterDynamicBackgroundWorker(&worker, &started_writer);
	MemoryContextSwitchTo(oldcontext);
	if (!registered)
	{
		started_writer = NULL;
		LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
		if (entry->state == UM_WRITER_STARTING && entry->dboid == MyDatabaseId)
			entry->state = UM_WRITER_NONE;
		LWLockRelease(um_login_shmem->lock);
		return false;
	}
	started_writer_db = MyDatabaseId;
	return true;
}

/*
 * Make sure this database's writer runs and knows there is work.  A writer
 * this backend registered that stopped before it served counts as gone.
 */
static void
wake_writer(void)
{
	um_login_writer *entry;
	int			procno = -1;
	bool		missing;

	if (started_writer != NULL && started_writer_db == MyDatabaseId)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(started_writer, &pid) == BGWH_STOPPED)
		{
			LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
			entry = um_login_writer_entry(MyDatabaseId);
			if (entry != NULL && entry->state == UM_WRITER_STARTING)
				entry->state = UM_WRITER_NONE;
			LWLockRelease(um_login_shmem->lock);
			pfree(started_writer);
			started_writer = NULL;
		}
	}

	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	entry = um_login_writer_entry(MyDatabaseId);
	if (entry != NULL && entry->state == UM_WRITER_STARTING &&
		TimestampDifferenceExceeds(entry->since, GetCurrentTimestamp(),
								   UM_WRITER_TIMEOUT_MS))
		entry->state = UM_WRITER_NONE;	/* it never came up */
	entry = um_login_writer_entry(MyDatabaseId);
	missing = (entry == NULL);
	if (entry != NULL && entry->state == UM_WRITER_RUNNING)
		procno = entry->pgprocno;
	LWLockRelease(um_login_shmem->lock);

	if (procno >= 0)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
	else if (missing)
		(void) start_writer();
}

/* Take back a request nobody will wait for: the writer frees it, or we do. */
static void
withdraw(um_login_slot *slot)
{
	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	if (slot->state == UM_SLOT_TAKEN)
		slot->want_reply = false;
	else
		slot->state = UM_SLOT_FREE;
	LWLockRelease(um_login_shmem->lock);
}

/*
 * Wait until the slot can take a request.  It is busy only with a request
 * this backend sent without waiting, or one a dead predecessor in this
 * slot left behind; the latter never reached a writer or is being served.
 */
static bool
claim_slot(um_login_slot *slot, TimestampTz deadline)
{
	for (;;)
	{
		bool		ready;

		ResetLatch(MyLatch);
		LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
		if (slot->state == UM_SLOT_DONE ||
			(slot->state == UM_SLOT_QUEUED && slot->pid != MyProcPid))
			slot->state = UM_SLOT_FREE;
		ready = (slot->state == UM_SLOT_FREE);
		LWLockRelease(um_login_shmem->lock);
		if (ready)
			return true;
		if (GetCurrentTimestamp() >= deadline)
			return false;
		wake_writer();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
queue_request(um_login_slot *slot, const um_login_request *request, bool wait)
{
	LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
	slot->request = *request;
	memset(&slot->reply, 0, sizeof(slot->reply));
	slot->dboid = MyDatabaseId;
	slot->pid = MyProcPid;
	slot->pgprocno = MyProc->pgprocno;
	slot->want_reply = wait;
	slot->seq = um_login_shmem->next_seq++;
	slot->state = UM_SLOT_QUEUED;
	LWLockRelease(um_login_shmem->lock);
}

/* Wait for the reply; false on timeout (the request is withdrawn). */
static bool
await_reply(um_login_slot *slot, um_login_reply *reply, TimestampTz deadline)
{
	TimestampTz next_wake = 0;

	for (;;)
	{
		bool		done;
		TimestampTz now;

		ResetLatch(MyLatch);
		LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
		done = (slot->state == UM_SLOT_DONE);
		if (done)
		{
			*reply = slot->reply;
			slot->state = UM_SLOT_FREE;
		}
		LWLockRelease(um_login_shmem->lock);
		if (done)
			return true;

		now = GetCurrentTimestamp();
		if (now >= deadline)
		{
			withdraw(slot);
			return false;
		}
		/* Wake (or restart) the writer now and then, in case it went away. */
		if (now >= next_wake)
		{
			wake_writer();
			next_wake = TimestampTzPlusMilliseconds(now, 100);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
}

void
um_login_guard_call(const um_login_request *request, um_login_reply *reply,
					bool wait)
{
	um_login_slot *slot;
	TimestampTz deadline;
	bool		answered = false;

	um_login_guard_require();
	slot = my_slot();
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), UM_WRITER_TIMEOUT_MS);

	if (!claim_slot(slot, deadline))
	{
		if (wait)
			reply->result = UM_RESULT_UNANSWERED;
		return;
	}
	queue_request(slot, request, wait);
	wake_writer();
	if (!wait)
		return;

	PG_TRY();
	{
		answered = await_reply(slot, reply, deadline);
	}
	PG_CATCH();
	{
		withdraw(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (!answered)
		reply->result = UM_RESULT_UNANSWERED;
}

void
um_login_request_set_client(um_login_request *request)
{
	LOCAL_FCINFO(fcinfo, 0);
	Datum		addr;

	/* inet_client_addr(): NULL over a Unix socket. */
	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	addr = inet_client_addr(fcinfo);
	request->client_addr[0] = '\0';
	if (!fcinfo->isnull)
		strlcpy(request->client_addr,
				DatumGetCString(DirectFunctionCall1(inet_out, addr)),
				sizeof(request->client_addr));

	request->application_name[0] = '\0';
	if (application_name != NULL)
		strlcpy(request->application_name, application_name,
				sizeof(request->application_name));
	/* strlcpy may cut a multibyte character: keep the text valid. */
	request->application_name[pg_mbcliplen(request->application_name,
										   strlen(request->application_name),
										   sizeof(request->application_name) - 1)] = '\0';
}

PG_FUNCTION_INFO_V1(um_login_statistics);

/*
 * login_statistics() returns one row of the cluster-wide counters, plus
 * this database's writer (its pid, or NULL when none runs).
 */
Datum
um_login_statistics(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[UM_STAT_COUNT + 1];
	bool		nulls[UM_STAT_COUNT + 1];
	um_login_writer *entry;
	int			i;

	require_preloaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "login_statistics must return a composite type");
	if (desc->natts != UM_STAT_COUNT + 1)
		elog(ERROR, "login_statistics must return %d columns", UM_STAT_COUNT + 1);

	memset(nulls, 0, sizeof(nulls));
	for (i = 0; i < UM_STAT_COUNT; i++)
		values[i] = Int64GetDatum((int64) pg_atomic_read_u64(&um_login_shmem->stats[i]));

	LWLockAcquire(um_login_shmem->lock, LW_SHARED);
	entry = um_login_writer_entry(MyDatabaseId);
	nulls[UM_STAT_COUNT] = (entry == NULL || entry->state != UM_WRITER_RUNNING);
	values[UM_STAT_COUNT] = Int32GetDatum(nulls[UM_STAT_COUNT] ? 0 : entry->pid);
	LWLockRelease(um_login_shmem->lock);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(um_stop_login_writer);

/*
 * stop_login_writer() returns boolean: asks this database's writer to exit
 * once it holds no reservation, and waits up to the writer timeout for it
 * (before DROP DATABASE, or using the database as a template).  True when
 * none runs afterwards.  The next login starts a new one.
 */
Datum
um_stop_login_writer(PG_FUNCTION_ARGS pg_attribute_unused())
{
	TimestampTz deadline;

	require_preloaded();
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), UM_WRITER_TIMEOUT_MS);
	for (;;)
	{
		um_login_writer *entry;
		int			procno = -1;

		ResetLatch(MyLatch);
		LWLockAcquire(um_login_shmem->lock, LW_EXCLUSIVE);
		entry = um_login_writer_entry(MyDatabaseId);
		if (entry != NULL && entry->state == UM_WRITER_RUNNING)
		{
			entry->stop_requested = true;
			procno = entry->pgprocno;
		}
		LWLockRelease(um_login_shmem->lock);
		if (entry == NULL)
			PG_RETURN_BOOL(true);
		if (GetCurrentTimestamp() >= deadline)
			PG_RETURN_BOOL(false);
		if (procno >= 0)
			SetLatch(&GetPGProcByNumber(procno)->procLatch);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
}

PG_FUNCTION_INFO_V1(um_await_login_writer);

/*
 * await_login_writer() returns boolean: waits until this database's writer
 * has answered every request and copied the login state into the users
 * rows (up to the writer timeout).  True when it is idle or none runs;
 * false while a row it must update stays locked by another transaction.
 */
Datum
um_await_login_writer(PG_FUNCTION_ARGS pg_attribute_unused())
{
	TimestampTz deadline;

	require_preloaded();
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), UM_WRITER_TIMEOUT_MS);
	for (;;)
	{
		um_login_writer *entry;
		bool		idle;
		int			i;

		ResetLatch(MyLatch);
		LWLockAcquire(um_login_shmem->lock, LW_SHARED);
		entry = um_login_writer_entry(MyDatabaseId);
		idle = (entry == NULL || (entry->state == UM_WRITER_RUNNING && !entry->busy));
		for (i = 0; i < um_login_shmem->nslots && idle; i++)
			if (um_login_shmem->slots[i].dboid == MyDatabaseId &&
				(um_login_shmem->slots[i].state == UM_SLOT_QUEUED ||
				 um_login_shmem->slots[i].state == UM_SLOT_TAKEN))
				idle = false;
		LWLockRelease(um_login_shmem->lock);
		if (idle)
			PG_RETURN_BOOL(true);
		if (GetCurrentTimestamp() >= deadline)
			PG_RETURN_BOOL(false);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 5, PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
}
