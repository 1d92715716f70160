/*
 * login_failures.c
 *		Counting failed logins so that no rollback undoes the count.
 *
 * login() reports a failure by raising an error, which aborts the caller's
 * transaction; and anyone may call authenticate() inside a transaction and
 * roll it back.  A count kept in that transaction would be lost either way
 * and the lockout would never trigger.  So count_failed_login() hands the
 * update to a short-lived background worker, which runs
 * user_mgmt.record_failed_login() in a transaction of its own, and waits
 * for it.  No shared_preload_libraries entry is needed: dynamic background
 * workers load this library by name.
 *
 * Also the GUCs user_mgmt.max_failed_logins and user_mgmt.lockout_duration,
 * which the worker receives from the caller's session.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "user_mgmt.h"

/* What the worker needs to know; travels in bgw_extra. */
typedef struct failed_login_request
{
	Oid			database;
	Oid			role;			/* the caller's current user */
	bool		user_known;		/* false: an unknown username */
	int32		user_id;
	int32		max_failed_logins;
	int32		lockout_seconds;
} failed_login_request;

StaticAssertDecl(sizeof(failed_login_request) <= BGW_EXTRALEN,
				 "failed_login_request must fit in bgw_extra");

/*
 * When every worker slot is taken (a storm of failed logins, or parallel
 * queries), wait for one rather than count where a rollback undoes it:
 * workers finish in milliseconds, and the wait slows the storm down too.
 */
#define SLOT_WAIT_MS		10
#define SLOT_WAIT_TRIES		200		/* two seconds in all */

static int	max_failed_logins = 5;
static int	lockout_seconds = 15 * 60;

PGDLLEXPORT void um_failed_login_worker(Datum main_arg);

/*
 * These are policy, not preference: only superusers set them (ALTER SYSTEM,
 * ALTER DATABASE or ALTER ROLE ... SET), so that no session can loosen them
 * for itself.
 */
void
um_login_failures_init(void)
{
	DefineCustomIntVariable("user_mgmt.max_failed_logins",
							"Consecutive failed logins after which an account is locked.",
							"0 turns the lockout off.",
							&max_failed_logins,
							5,
							0,
							INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("user_mgmt.lockout_duration",
							"How long an account stays locked after too many failed logins.",
							NULL,
							&lockout_seconds,
							15 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

int
um_max_failed_logins(void)
{
	return max_failed_logins;
}

int
um_lockout_seconds(void)
{
	return lockout_seconds;
}

/*
 * Fallback when no worker slot is free: count in the caller's transaction,
 * which a rollback undoes, and say so.
 */
static void
record_in_this_transaction(const failed_login_request *request)
{
	Oid			types[3] = {INT4OID, INT4OID, INTERVALOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	Interval   *lockout = palloc0(sizeof(Interval));

	ereport(WARNING,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("could not start a background worker to count a failed login"),
			 errdetail("No worker slot came free within %d ms; the failure is counted in the current transaction only, which a rollback undoes.",
					   SLOT_WAIT_MS * SLOT_WAIT_TRIES),
			 errhint("Raise max_worker_processes.")));

	lockout->time = (int64) request->lockout_seconds * USECS_PER_SEC;
	values[0] = Int32GetDatum(request->user_id);
	values[1] = Int32GetDatum(request->max_failed_logins);
	values[2] = IntervalPGetDatum(lockout);
	if (!request->user_known)
		nulls[0] = 'n';

	SPI_connect();
	SPI_execute_with_args("SELECT user_mgmt.record_failed_login($1, $2, $3)",
						  3, types, values, nulls, false, 0);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(um_count_failed_login);

/* count_failed_login(user_id integer) returns void; NULL: unknown user */
Datum
um_count_failed_login(PG_FUNCTION_ARGS)
{
	failed_login_request request;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	int			tries;

	/* A standby cannot write; there is nothing to count with. */
	if (RecoveryInProgress())
		PG_RETURN_VOID();

	memset(&request, 0, sizeof(request));
	request.database = MyDatabaseId;
	request.role = GetUserId();
	request.user_known = !PG_ARGISNULL(0);
	request.user_id = request.user_known ? PG_GETARG_INT32(0) : 0;
	request.max_failed_logins = max_failed_logins;
	request.lockout_seconds = lockout_seconds;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "user_mgmt");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "um_failed_login_worker");
	snprintf(worker.bgw_name, BGW_MAXLEN, "user_mgmt failed login of PID %d", MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "user_mgmt failed login");
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &request, sizeof(request));

	for (tries = 0; !RegisterDynamicBackgroundWorker(&worker, &handle); tries++)
	{
		if (tries == SLOT_WAIT_TRIES)
		{
			record_in_this_transaction(&request);
			PG_RETURN_VOID();
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 SLOT_WAIT_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while counting a failed login")));

	PG_RETURN_VOID();
}

/*
 * The worker: one transaction running record_failed_login().  It gives up
 * after a second rather than wait on a row lock, since its caller waits
 * for it and may itself hold that lock.  Errors go to the server log.
 */
void
um_failed_login_worker(Datum main_arg pg_attribute_unused())
{
	failed_login_request request;
	Oid			types[3] = {INT4OID, INT4OID, INTERVALOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	Interval	lockout;

	memcpy(&request, MyBgworkerEntry->bgw_extra, sizeof(request));

	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(request.database, request.role, 0);

	memset(&lockout, 0, sizeof(lockout));
	lockout.time = (int64) request.lockout_seconds * USECS_PER_SEC;
	values[0] = Int32GetDatum(request.user_id);
	values[1] = Int32GetDatum(request.max_failed_logins);
	values[2] = IntervalPGetDatum(&lockout);
	if (!request.user_known)
		nulls[0] = 'n';

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SetConfigOption("lock_timeout", "1s", PGC_USERSET, PGC_S_SESSION);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "user_mgmt: counting a failed login");

	SPI_execute_with_args("SELECT user_mgmt.record_failed_login($1, $2, $3)",
						  3, types, values, nulls, false, 0);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
