/*
 * accounts.c
 *		The account functions that take passwords: authenticate, login,
 *		change_password, create_user, sign_up, set_password; and
 *		unlock_user.
 *
 * A login attempt goes: look the user up as the database has it now (not
 * as the caller's snapshot has it), ask the login writer whether the
 * account may be tried (RESERVE), check the password, tell the writer the
 * outcome (COMPLETE).  Every failure does the same work in the same order:
 * an unknown user, a locked or inactive account are checked against a
 * dummy hash of the current cost, and a hash of a lower cost is padded up
 * to it, so that no failure answers faster than another.
 *
 * Every function here runs inside a secret scope (log_hygiene.h): no error
 * it raises carries the caller's statement or a row with a hash to the log.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/secure.h"
#include "log_hygiene.h"
#include "login_guard.h"
#include "login_guard_shmem.h"
#include "sessions.h"
#include "tokens.h"
#include "user_mgmt.h"

/* Columns of user_mgmt.accounts, in order, as the lookup returns them. */
enum
{
	ACC_ID = 0,
	ACC_USERNAME,
	ACC_ROLE,
	ACC_FULL_NAME,
	ACC_CREATED_AT,
	ACC_UPDATED_AT,
	ACC_IS_ACTIVE,
	ACC_LAST_LOGIN_AT,
	ACC_FAILED_LOGIN_COUNT,
	ACC_LOCKED_UNTIL,
	ACC_PASSWORD_CHANGED_AT,
	ACC_NCOLUMNS,
	/* and after them */
	ACC_HASH = ACC_NCOLUMNS,
	ACC_ROLE_LABEL,
	ACC_SESSION_EPOCH,			/* 1.4's lookup only */
	LOOKUP_NCOLUMNS
};

/* A user as the lookup found them. */
typedef struct account
{
	bool		found;
	Datum		values[LOOKUP_NCOLUMNS];
	bool		nulls[LOOKUP_NCOLUMNS];
	char	   *hash;			/* NUL-terminated */
	char	   *username;		/* server encoding */
	char	   *role;			/* enum label */
	int64		epoch;			/* session_epoch (1.4's lookup) */
} account;

static SPIPlanPtr lookup_plan = NULL;
static SPIPlanPtr lookup_plan_1_4 = NULL;

#define LOOKUP_SELECT \
	"SELECT u.id, u.username, u.role, u.full_name, u.created_at, u.updated_at," \
	" u.is_active, u.last_login_at, u.failed_login_count, u.locked_until," \
	" u.password_changed_at, u.hashed_password::text, u.role::text"
#define LOOKUP_FROM \
	" FROM user_mgmt.users AS u" \
	" WHERE pg_catalog.lower(u.username::text COLLATE pg_catalog.\"und-x-icu\")" \
	" OPERATOR(pg_catalog.=) pg_catalog.lower($1 COLLATE pg_catalog.\"und-x-icu\")"

/*
 * Look a user up by name, regardless of case, in the latest committed state
 * plus this transaction's own changes: a REPEATABLE READ snapshot taken
 * before a password change or a deactivation must not decide a login.
 * The failed_login_count, locked_until and last_login_at it returns are
 * replaced by the caller.  With_epoch (1.4) also reads session_epoch, in
 * the same snapshot as the hash: a session opened for this check then
 * remembers the state of the account the password was checked against.
 */
static void
lookup_user(text *username, account *out, bool with_epoch)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	MemoryContext caller = CurrentMemoryContext;
	SPIPlanPtr *plan = with_epoch ? &lookup_plan_1_4 : &lookup_plan;
	int			ncolumns = with_epoch ? LOOKUP_NCOLUMNS : ACC_SESSION_EPOCH;
	int			i;

	memset(out, 0, sizeof(*out));
	values[0] = PointerGetDatum(username);

	SPI_connect();
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(with_epoch ?
									LOOKUP_SELECT ", u.session_epoch" LOOKUP_FROM :
									LOOKUP_SELECT LOOKUP_FROM,
									1, types);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the user lookup: %s",
				 SPI_result_code_string(SPI_result));
		*plan = p;
	}
	if (SPI_execute_snapshot(*plan, values, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "user lookup failed");

	if (SPI_processed == 1)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spi = MemoryContextSwitchTo(caller);

		out->found = true;
		for (i = 0; i < ncolumns; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			Datum		v = heap_getattr(tuple, i + 1, desc, &out->nulls[i]);

			out->values[i] = out->nulls[i] ? (Datum) 0 :
				datumCopy(v, att->attbyval, att->attlen);
		}
		out->hash = TextDatumGetCString(out->values[ACC_HASH]);
		out->username = TextDatumGetCString(out->values[ACC_USERNAME]);
		out->role = TextDatumGetCString(out->values[ACC_ROLE_LABEL]);
		if (with_epoch)
			out->epoch = DatumGetInt64(out->values[ACC_SESSION_EPOCH]);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
}

/* The request both halves of an attempt share. */
static void
init_request(um_login_request *request, text *username, const account *acc)
{
	const char *given = VARDATA_ANY(username);
	int			len = VARSIZE_ANY_EXHDR(username);
	int			keep;

	memset(request, 0, sizeof(*request));
	request->user_known = acc->found;
	request->user_id = acc->found ? DatumGetInt32(acc->values[ACC_ID]) : 0;
	request->max_failed_logins = um_max_failed_logins();
	request->lockout_seconds = um_lockout_seconds();

	/* The name as given, cut to whole characters. */
	keep = pg_mbcharcliplen(given, len, UM_EVENT_USERNAME_CHARS);
	keep = Min(keep, UM_EVENT_USERNAME_BYTES - 1);
	keep = pg_mbcliplen(given, len, keep);
	memcpy(request->username, given, keep);
	request->username[keep] = '\0';

	um_login_request_set_client(request);
}

/* Whether the writer recorded the request; if not, say why (fail closed). */
static bool
recorded(const um_login_reply *reply)
{
	if (reply->result != UM_RESULT_FAILED && reply->result != UM_RESULT_UNANSWERED)
		return true;
	um_login_stat_add(UM_STAT_UNRECORDED);
	if (reply->result == UM_RESULT_UNANSWERED)
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("the login attempt could not be recorded, so it was refused"),
				 errdetail("No login writer answered within %d ms.", UM_WRITER_TIMEOUT_MS),
				 errhint("A login writer needs a free background worker slot: raise max_worker_processes above what parallel queries, logical replication and other extensions take, plus one per database that checks logins.")));
	else
		ereport(WARNING,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the login attempt could not be recorded, so it was refused"),
				 errdetail("The login writer failed to record it; the server log says why.")));
	return false;
}

/*
 * One login attempt; true when the password is right and the account may
 * log in, with *acc describing it.  update_users = false asks the writer to
 * leave the users row alone (the caller is about to update it itself).
 * With session (1.4), a right password also opens that session, in the
 * writer's same step; *opened gets the writer's reply about it.
 */
static bool
attempt_login(text *username, text *password, account *acc, bool update_users,
			  const um_session_request *session, um_session_reply *opened)
{
	um_login_request request;
	um_login_reply reserve;
	um_login_reply complete;
	int			outcome;

	um_login_guard_require();
	lookup_user(username, acc, session != NULL);
	init_request(&request, username, acc);

	request.kind = UM_REQ_RESERVE;
	um_login_guard_call(&request, &reserve, true);
	if (!recorded(&reserve))
		return false;

	PG_TRY();
	{
		if (reserve.result == UM_RESULT_LOCKED)
		{
			um_login_stat_add(UM_STAT_REFUSED_LOCKED);
			um_password_dummy_check(password);
			outcome = UM_OUTCOME_LOCKED;
		}
		else if (reserve.result == UM_RESULT_BUSY)
		{
			um_login_stat_add(UM_STAT_REFUSED_BUSY);
			um_password_dummy_check(password);
			outcome = UM_OUTCOME_BUSY;
		}
		else if (!acc->found)
		{
			um_password_dummy_check(password);
			outcome = UM_OUTCOME_UNKNOWN_USER;
		}
		else if (!DatumGetBool(acc->values[ACC_IS_ACTIVE]))
		{
			um_login_stat_add(UM_STAT_ALLOWED);
			um_password_dummy_check(password);
			outcome = UM_OUTCOME_INACTIVE;
		}
		else
		{
			um_login_stat_add(UM_STAT_ALLOWED);
			um_login_stat_add(UM_STAT_CHECKED);
			outcome = um_password_check(password, acc->hash, strlen(acc->hash),
										um_bcrypt_cost()) ?
				UM_OUTCOME_OK : UM_OUTCOME_WRONG_PASSWORD;
		}

		/* The cost went up since this hash was made: the writer stores a new one. */
		if (outcome == UM_OUTCOME_OK && update_users &&
			VARSIZE_ANY_EXHDR(password) <= BCRYPT_MAX_KEY_BYTES &&
			um_hash_needs_rehash(acc->hash, strlen(acc->hash)))
		{
			strlcpy(request.old_hash, acc->hash, sizeof(request.old_hash));
			um_password_hash(password, um_bcrypt_cost(), request.new_hash);
		}
	}
	PG_CATCH();
	{
		/* Cancelled mid-check: the charge stays a failure. */
		if (reserve.result == UM_RESULT_ALLOWED)
		{
			um_login_reply ignored;

			request.kind = UM_REQ_ABANDON;
			request.ticket = reserve.ticket;
			request.incarnation = reserve.incarnation;
			um_login_guard_call(&request, &ignored, false);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	request.kind = UM_REQ_COMPLETE;
	request.outcome = outcome;
	request.ticket = reserve.ticket;
	request.incarnation = reserve.incarnation;
	request.keep_off_users = !update_users;
	if (session != NULL)
	{
		request.session = *session;
		request.session.epoch = acc->epoch;
	}
	um_login_guard_call(&request, &complete, true);
	if (!recorded(&complete))
		return false;
	if (outcome != UM_OUTCOME_OK)
		return false;
	if (session != NULL)
	{
		*opened = complete.session;
		if (opened->result != UM_SESSION_OK)
		{
			um_login_stat_add(UM_STAT_UNRECORDED);
			ereport(WARNING,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("the login's session could not be opened, so it was refused")));
			return false;
		}
	}

	um_login_stat_add(UM_STAT_SUCCEEDED);
	acc->values[ACC_LAST_LOGIN_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	acc->nulls[ACC_LAST_LOGIN_AT] = false;
	acc->values[ACC_FAILED_LOGIN_COUNT] = Int32GetDatum(complete.failed_count);
	acc->nulls[ACC_FAILED_LOGIN_COUNT] = false;
	acc->values[ACC_LOCKED_UNTIL] = TimestampTzGetDatum(complete.locked_until);
	acc->nulls[ACC_LOCKED_UNTIL] = (complete.locked_until == 0);
	return true;
}

static void
raise_login_failed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PASSWORD),
			 errmsg("invalid username or password"),
			 errhidestmt(true),
			 errhidecontext(true)));
}

PG_FUNCTION_INFO_V1(um_authenticate);

/* authenticate(username text, password text) returns user_mgmt.accounts */
Datum
um_authenticate(PG_FUNCTION_ARGS)
{
	um_secret_scope scope;
	account		acc;
	TupleDesc	desc;
	bool		ok;

	um_secret_scope_enter(&scope);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "authenticate must return a composite type");
	ok = attempt_login(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &acc, true, NULL, NULL);
	um_secret_scope_leave(&scope);

	if (!ok)
		PG_RETURN_NULL();
	if (desc->natts != ACC_NCOLUMNS)
		elog(ERROR, "user_mgmt.accounts has %d columns, not %d", desc->natts, ACC_NCOLUMNS);
	desc = BlessTupleDesc(desc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, acc.values, acc.nulls)));
}

PG_FUNCTION_INFO_V1(um_login);

/* login(username text, password text) returns text: a token, or 28P01 */
Datum
um_login(PG_FUNCTION_ARGS)
{
	um_secret_scope scope;
	account		acc;
	text	   *token;
	char	   *username;

	um_secret_scope_enter(&scope);
	if (!attempt_login(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &acc, true, NULL, NULL))
		raise_login_failed();
	username = pg_server_to_any(acc.username, strlen(acc.username), PG_UTF8);
	token = um_sign_token(DatumGetInt32(acc.values[ACC_ID]), username, acc.role,
						  um_token_ttl(), NULL, 0, NULL);
	um_secret_scope_leave(&scope);

	PG_RETURN_TEXT_P(token);
}

/*
 * A login that opens a session (1.4): check the password, have the writer
 * open the session in the same step, and sign an access token naming it.
 * With refresh_token, the session gets that (new) refresh token too.
 */
static text *
login_with_session(text *username, text *password, int origin,
				   const char *user_agent, const char *client_addr,
				   char *refresh_token, um_session_reply *opened, int64 *exp)
{
	um_secret_scope scope;
	um_session_request session;
	account		acc;
	text	   *token;
	char	   *name;

	um_secret_scope_enter(&scope);
	um_session_request_init(&session, origin, 0, um_token_ttl(), refresh_token);
	if (user_agent != NULL)
	{
		strlcpy(session.user_agent, user_agent, sizeof(session.user_agent));
		session.has_user_agent = true;
	}
	if (client_addr != NULL)
		strlcpy(session.given_client_addr, client_addr, sizeof(session.given_client_addr));
	if (!attempt_login(username, password, &acc, true, &session, opened))
		raise_login_failed();
	name = pg_server_to_any(acc.username, strlen(acc.username), PG_UTF8);
	token = um_sign_token(DatumGetInt32(acc.values[ACC_ID]), name, acc.role,
						  um_token_ttl(), opened->id, opened->expires_at, exp);
	um_secret_scope_leave(&scope);
	return token;
}

PG_FUNCTION_INFO_V1(um_login_1_4);

/* login(username text, password text) returns text, as of 1.4: in a session */
Datum
um_login_1_4(PG_FUNCTION_ARGS)
{
	um_session_reply opened;

	PG_RETURN_TEXT_P(login_with_session(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1),
										UM_ORIGIN_LOGIN, NULL, NULL, NULL, &opened, NULL));
}

/* A user agent as given, cut to whole characters within the request's room. */
static char *
user_agent_arg(text *given)
{
	const char *s = VARDATA_ANY(given);
	int			len = VARSIZE_ANY_EXHDR(given);
	int			keep = pg_mbcharcliplen(s, len, 512);
	char	   *out;

	keep = pg_mbcliplen(s, len, Min(keep, UM_USER_AGENT_BYTES - 1));
	out = palloc(keep + 1);
	memcpy(out, s, keep);
	out[keep] = '\0';
	return out;
}

PG_FUNCTION_INFO_V1(um_sign_in);

/*
 * sign_in(username, password, user_agent DEFAULT NULL, client_addr DEFAULT
 * NULL) returns (access_token, refresh_token, access_expires_at,
 * refresh_expires_at, session_id)
 */
Datum
um_sign_in(PG_FUNCTION_ARGS)
{
	um_session_reply opened;
	char		refresh_token[UM_REFRESH_TOKEN_LEN + 1];
	const char *user_agent = NULL;
	const char *client_addr = NULL;
	text	   *access;
	int64		exp;
	Datum		result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("username and password must not be null")));
	if (!PG_ARGISNULL(2))
		user_agent = user_agent_arg(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
		client_addr = DatumGetCString(DirectFunctionCall1(inet_out, PG_GETARG_DATUM(3)));

	access = login_with_session(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1),
								UM_ORIGIN_SIGN_IN, user_agent, client_addr,
								refresh_token, &opened, &exp);
	result = um_token_pair_datum(fcinfo, access, exp, refresh_token,
								 opened.refresh_expires_at, opened.id);
	um_wipe(refresh_token, sizeof(refresh_token));
	PG_RETURN_DATUM(result);
}

/* Run one statement with arguments; its result stays in SPI memory. */
static void
run_sql(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc != expected)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

static void
store_password(int32 user_id, const char *hash)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2];

	values[0] = Int32GetDatum(user_id);
	values[1] = CStringGetTextDatum(hash);
	SPI_connect();
	run_sql("UPDATE user_mgmt.users AS u SET hashed_password = $2"
			" WHERE u.id OPERATOR(pg_catalog.=) $1", 2, types, values, SPI_OK_UPDATE);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(um_change_password);

/* change_password(username text, old_password text, new_password text) */
Datum
um_change_password(PG_FUNCTION_ARGS)
{
	text	   *new_password = PG_GETARG_TEXT_PP(2);
	um_secret_scope scope;
	account		acc;
	char		hash[BCRYPT_HASH_LEN + 1];

	um_secret_scope_enter(&scope);
	/* The new password first: a policy error reveals nothing. */
	um_password_policy(new_password);
	/* The users row is ours to update here: the writer keeps off it. */
	if (!attempt_login(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &acc, false, NULL, NULL))
		raise_login_failed();
	um_password_hash(new_password, um_bcrypt_cost(), hash);
	store_password(DatumGetInt32(acc.values[ACC_ID]), hash);
	um_secret_scope_leave(&scope);

	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(um_set_password);

/* set_password(user_id integer, new_password text) */
Datum
um_set_password(PG_FUNCTION_ARGS)
{
	int32		user_id = PG_GETARG_INT32(0);
	text	   *new_password = PG_GETARG_TEXT_PP(1);
	um_secret_scope scope;
	char		hash[BCRYPT_HASH_LEN + 1];
	Oid			types[1] = {INT4OID};
	Datum		values[1];

	um_secret_scope_enter(&scope);
	values[0] = Int32GetDatum(user_id);
	SPI_connect();
	run_sql("SELECT user_mgmt.require_user($1)", 1, types, values, SPI_OK_SELECT);
	SPI_finish();
	um_password_policy(new_password);
	um_password_hash(new_password, um_bcrypt_cost(), hash);
	store_password(user_id, hash);
	um_secret_scope_leave(&scope);

	PG_RETURN_VOID();
}

/*
 * Whether an error from the users INSERT is a taken username: a unique
 * violation on one of the two username indexes.  Any other unique index
 * (one an application adds, say) keeps its own error.
 */
static bool
is_username_conflict(ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION &&
		edata->constraint_name != NULL &&
		(strcmp(edata->constraint_name, "users_username_key") == 0 ||
		 strcmp(edata->constraint_name, "users_username_lower_key") == 0);
}

/*
 * Insert a user; the new id.  A duplicate username is reported here, out
 * of the secret scope's reach, with a message of our own.
 */
static int32
insert_user(text *username, text *password, text *full_name, Datum role)
{
	um_secret_scope scope;
	char		hash[BCRYPT_HASH_LEN + 1];
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Oid			event_types[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		values[4];
	volatile bool duplicate = false;
	volatile int32 id = 0;
	MemoryContext oldcontext = CurrentMemoryContext;

	um_secret_scope_enter(&scope);
	values[0] = PointerGetDatum(username);
	values[1] = PointerGetDatum(full_name);
	SPI_connect();
	run_sql("SELECT user_mgmt.check_username($1), user_mgmt.check_full_name($2)",
			2, types, values, SPI_OK_SELECT);
	SPI_finish();
	um_password_policy(password);
	um_password_hash(password, um_bcrypt_cost(), hash);

	values[1] = CStringGetTextDatum(hash);
	values[2] = PointerGetDatum(full_name);
	values[3] = role;
	SPI_connect();
	PG_TRY();
	{
		bool		isnull;

		run_sql("INSERT INTO user_mgmt.users (username, hashed_password, full_name, role)"
				" VALUES ($1, $2, $3, $4::user_mgmt.role) RETURNING id",
				4, types, values, SPI_OK_INSERT_RETURNING);
		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		if (!is_username_conflict(edata))
			PG_RE_THROW();
		/* Nothing more runs in this transaction: the error below ends it. */
		FlushErrorState();
		duplicate = true;
	}
	PG_END_TRY();
	um_secret_scope_leave(&scope);

	if (!duplicate)
	{
		values[0] = Int32GetDatum(id);
		values[1] = PointerGetDatum(username);
		values[2] = role;
		run_sql("SELECT user_mgmt.record_auth_event('user_created', $1, $2, $3,"
				" pg_catalog.inet_client_addr(), pg_catalog.current_setting('application_name'))",
				3, event_types, values, SPI_OK_SELECT);
	}
	if (duplicate)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("username \"%s\" is already taken", text_to_cstring(username)),
				 errdetail("Usernames are unique regardless of case."),
				 errhidestmt(true),
				 errhidecontext(true)));
	SPI_finish();
	return id;
}

PG_FUNCTION_INFO_V1(um_create_user);

/* create_user(username, password, full_name, role DEFAULT 'USER') returns integer */
Datum
um_create_user(PG_FUNCTION_ARGS)
{
	Datum		role = DirectFunctionCall1(textin,
										   DirectFunctionCall1(enum_out, PG_GETARG_DATUM(3)));

	PG_RETURN_INT32(insert_user(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1),
								PG_GETARG_TEXT_PP(2), role));
}

PG_FUNCTION_INFO_V1(um_sign_up);

/* sign_up(username, password, full_name) returns integer: always a USER */
Datum
um_sign_up(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(insert_user(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1),
								PG_GETARG_TEXT_PP(2), CStringGetTextDatum("USER")));
}

PG_FUNCTION_INFO_V1(um_unlock_user);

/* unlock_user(user_id integer): at once, whatever the transaction does next */
Datum
um_unlock_user(PG_FUNCTION_ARGS)
{
	int32		user_id = PG_GETARG_INT32(0);
	um_login_request request;
	um_login_reply reply;
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	bool		isnull;
	char	   *username;

	um_login_guard_require();
	values[0] = Int32GetDatum(user_id);
	SPI_connect();
	run_sql("SELECT user_mgmt.require_user($1)", 1, types, values, SPI_OK_SELECT);
	run_sql("SELECT u.username::text FROM user_mgmt.users AS u"
			" WHERE u.id OPERATOR(pg_catalog.=) $1", 1, types, values, SPI_OK_SELECT);
	username = SPI_processed == 1 ?
		TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) : "";

	memset(&request, 0, sizeof(request));
	request.kind = UM_REQ_UNLOCK;
	request.user_known = true;
	request.user_id = user_id;
	strlcpy(request.username, username, sizeof(request.username));
	um_login_request_set_client(&request);
	SPI_finish();

	um_login_guard_call(&request, &reply, true);
	if (reply.result != UM_RESULT_DONE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not unlock user %d", user_id),
				 errdetail(reply.result == UM_RESULT_UNANSWERED ?
						   "No login writer answered in time." :
						   "The login writer failed to record it; the server log says why.")));

	PG_RETURN_VOID();
}
