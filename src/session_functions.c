/*
 * session_functions.c
 *		Sessions (version 1.4): refresh, logout, logout_all and
 *		revoke_session, the session settings, and what sign_in and
 *		login (accounts.c) and issue_token (tokens.c) share with them.
 *
 * Every change to a session is made by the database's login writer, in a
 * transaction of its own that has committed before the function returns:
 * no rollback of the caller undoes a logout or a refresh token's rotation
 * (which would let a stolen refresh token mint access tokens without ever
 * being detected), and they work in read-only transactions too.
 *
 * A refresh token is 32 bytes from pg_strong_random, given out as 43
 * base64url characters; the database keeps only its SHA-256.  Refresh
 * tokens are secrets: these functions run in a secret scope, so no error
 * they raise puts the caller's statement into the server log.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/base64url.h"
#include "core/secure.h"
#include "core/uuid_text.h"
#include "log_hygiene.h"
#include "login_guard.h"
#include "login_guard_shmem.h"
#include "session_cache.h"
#include "sessions.h"
#include "tokens.h"
#include "user_mgmt.h"

#define REFRESH_SECRET_BYTES 32

static int	session_idle_timeout = 15 * 24 * 60 * 60;
static int	session_lifetime = 30 * 24 * 60 * 60;
static int	max_sessions_per_user = 50;

/* Policy, like the lockout's: only superusers change it. */
void
um_sessions_init(void)
{
	DefineCustomIntVariable("user_mgmt.session_idle_timeout",
							"How long a session may go without a refresh before it ends.",
							"0 lets sessions idle until their lifetime ends.",
							&session_idle_timeout,
							15 * 24 * 60 * 60,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("user_mgmt.session_lifetime",
							"How long a session opened by sign_in() lasts at most, refreshed or not.",
							NULL,
							&session_lifetime,
							30 * 24 * 60 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("user_mgmt.max_sessions_per_user",
							"How many live sessions a user may have; opening one more ends the oldest.",
							"0 sets no limit.",
							&max_sessions_per_user,
							50,
							0,
							1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}

int
um_session_idle_timeout(void)
{
	return session_idle_timeout;
}

int
um_session_lifetime(void)
{
	return session_lifetime;
}

int
um_max_sessions_per_user(void)
{
	return max_sessions_per_user;
}

#define reject(msg, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), \
			 errmsg(msg), errhidestmt(true), __VA_ARGS__))

/* A new refresh token: its text (with a NUL) and the hash that is kept. */
static void
new_refresh_token(char *text, uint8 *hash)
{
	uint8		secret[REFRESH_SECRET_BYTES];

	if (!pg_strong_random(secret, sizeof(secret)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random refresh token")));
	um_b64url_encode(secret, sizeof(secret), text);
	text[UM_REFRESH_TOKEN_LEN] = '\0';
	um_sha256(secret, sizeof(secret), hash);
	um_wipe(secret, sizeof(secret));
}

/* The hash of a refresh token given as text; false when it is no token. */
static bool
refresh_token_hash(text *token, uint8 *hash)
{
	uint8		secret[REFRESH_SECRET_BYTES + 3];
	size_t		len;

	if (VARSIZE_ANY_EXHDR(token) != UM_REFRESH_TOKEN_LEN ||
		um_b64url_decode(VARDATA_ANY(token), UM_REFRESH_TOKEN_LEN, secret, &len) != 0 ||
		len != REFRESH_SECRET_BYTES)
		return false;
	um_sha256(secret, REFRESH_SECRET_BYTES, hash);
	um_wipe(secret, sizeof(secret));
	return true;
}

void
um_session_request_init(um_session_request *session, int origin, int64 epoch,
						int64 token_lifetime, char *refresh_token)
{
	memset(session, 0, sizeof(*session));
	session->open = true;
	if (!pg_strong_random(session->id, sizeof(session->id)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random session id")));
	um_uuid_set_v4(session->id);
	session->has_id = true;
	session->epoch = epoch;
	session->origin = origin;
	session->token_lifetime = (int32) Min(token_lifetime, PG_INT32_MAX);
	session->session_lifetime = session_lifetime;
	session->idle_timeout = session_idle_timeout;
	session->max_sessions = max_sessions_per_user;
	if (refresh_token != NULL)
	{
		new_refresh_token(refresh_token, session->refresh_hash);
		session->has_refresh = true;
	}
}

/* Sessions change only on a primary, through its login writer. */
static void
require_writable(void)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("sessions cannot be opened, refreshed or ended on a hot standby"),
				 errhint("Send them to the primary; verify_token() and set_session_token() work on standbys.")));
}

void
um_session_call(const um_login_request *request, um_login_reply *reply,
				const char *what)
{
	require_writable();
	um_login_guard_require();
	um_login_guard_call(request, reply, true);
	if (reply->result == UM_RESULT_DONE)
		return;
	if (reply->result == UM_RESULT_UNANSWERED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not %s", what),
				 errdetail("No login writer answered within %d ms.", UM_WRITER_TIMEOUT_MS),
				 errhint("A login writer needs a free background worker slot: raise max_worker_processes.")));
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not %s", what),
			 errdetail("The login writer failed to record it; the server log says why.")));
}

void
um_session_busy(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("the session is being changed by another transaction"),
			 errdetail("A change of the account's password, role or activation, which ends its sessions, has not committed yet."),
			 errhint("Try again when that transaction has ended."),
			 errhidestmt(true)));
}

Datum
um_token_pair_datum(FunctionCallInfo fcinfo, text *access_token, int64 access_exp,
					const char *refresh_token, TimestampTz refresh_expires_at,
					const uint8 *session_id)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	pg_uuid_t  *sid = palloc(sizeof(pg_uuid_t));

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE || desc->natts != 5)
		elog(ERROR, "a token pair must be a row of 5 columns");
	memcpy(sid->data, session_id, UUID_LEN);
	values[0] = PointerGetDatum(access_token);
	values[1] = CStringGetTextDatum(refresh_token);
	values[2] = TimestampTzGetDatum(um_unix_to_timestamptz(access_exp));
	values[3] = TimestampTzGetDatum(refresh_expires_at);
	values[4] = UUIDPGetDatum(sid);
	desc = BlessTupleDesc(desc);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/* The reply's user, as the new access token names them. */
static char *
reply_username_utf8(const um_session_reply *session)
{
	return pg_server_to_any(session->username, strlen(session->username), PG_UTF8);
}

static void
reject_ended(const um_session_reply *session)
{
	char		sid[UM_UUID_TEXT_LEN + 1];

	um_uuid_format(session->id, sid);
	switch (session->result)
	{
		case UM_SESSION_UNKNOWN:
			reject("invalid refresh token",
				   errdetail("No session has this refresh token."));
			break;
		case UM_SESSION_REUSED:
			reject("refresh token has already been used",
				   errdetail("A refresh token is good for one refresh; a second use means a copy of it exists, so its session (%s) is revoked.", sid),
				   errhint("Log in again."));
			break;
		case UM_SESSION_REVOKED:
			reject("token's session has been revoked",
				   errdetail("Session %s was revoked (%s).", sid, session->reason));
			break;
		case UM_SESSION_EXPIRED:
			reject("token's session has expired",
				   errdetail("Session %s ended at %s.", sid,
							 timestamptz_to_str(session->expires_at)));
			break;
		case UM_SESSION_BUSY:
			um_session_busy();
			break;
		default:
			elog(ERROR, "unexpected session result %d", session->result);
	}
}

PG_FUNCTION_INFO_V1(um_refresh);

/*
 * refresh(token text) returns (access_token, refresh_token,
 * access_expires_at, refresh_expires_at, session_id): the refresh token is
 * used up, whatever the caller's transaction does next.
 */
Datum
um_refresh(PG_FUNCTION_ARGS)
{
	um_secret_scope scope;
	um_login_request request;
	um_login_reply reply;
	char		next[UM_REFRESH_TOKEN_LEN + 1];
	text	   *access;
	int64		access_exp;
	Datum		result;

	um_secret_scope_enter(&scope);
	memset(&request, 0, sizeof(request));
	if (!refresh_token_hash(PG_GETARG_TEXT_PP(0), request.session.refresh_hash))
		reject("invalid refresh token",
			   errdetail("A refresh token is %d base64url characters.", UM_REFRESH_TOKEN_LEN));
	new_refresh_token(next, request.session.next_hash);
	request.kind = UM_REQ_REFRESH;
	request.session.has_refresh = true;
	request.session.idle_timeout = session_idle_timeout;
	um_login_request_set_client(&request);

	um_session_call(&request, &reply, "refresh the session");
	if (reply.session.result != UM_SESSION_OK)
		reject_ended(&reply.session);

	access = um_sign_token(reply.session.user_id, reply_username_utf8(&reply.session),
						   reply.session.role, um_token_ttl(), reply.session.id,
						   reply.session.expires_at, &access_exp);
	result = um_token_pair_datum(fcinfo, access, access_exp, next,
								 reply.session.refresh_expires_at, reply.session.id);
	um_wipe(next, sizeof(next));
	um_secret_scope_leave(&scope);
	PG_RETURN_DATUM(result);
}

/* Ask the writer to end sessions; how many ended, or -1 for none known. */
static int32
end_sessions(um_login_request *request, int reason)
{
	um_login_reply reply;

	request->kind = UM_REQ_REVOKE;
	request->session.reason = reason;
	request->session.idle_timeout = session_idle_timeout;
	um_login_request_set_client(request);
	um_session_call(request, &reply, "end the session");
	if (reply.session.result == UM_SESSION_BUSY)
		um_session_busy();
	if (reply.session.result == UM_SESSION_UNKNOWN)
		return -1;
	return reply.session.revoked;
}

PG_FUNCTION_INFO_V1(um_logout);

/*
 * logout([token text]) returns boolean: the session of an access token
 * (expired or not: its signature is enough) or of a refresh token, or
 * without an argument the session of this transaction's claims.
 */
Datum
um_logout(PG_FUNCTION_ARGS)
{
	um_secret_scope scope;
	um_login_request request;
	int32		ended;

	um_secret_scope_enter(&scope);
	memset(&request, 0, sizeof(request));
	if (PG_NARGS() == 0)
	{
		pg_uuid_t	sid;
		int32		user_id;

		if (!um_session_claims(&sid, &user_id))
			reject("there is no session to log out",
				   errdetail("set_session_token() has not been given a token with a session in this transaction."),
				   errhint("Call set_session_token() first, or pass the token to logout()."));
		memcpy(request.session.id, sid.data, UUID_LEN);
		request.session.has_id = true;
		ended = end_sessions(&request, UM_REVOKE_LOGOUT);
		um_session_claims_forget();
	}
	else
	{
		text	   *token = PG_GETARG_TEXT_PP(0);

		if (memchr(VARDATA_ANY(token), '.', VARSIZE_ANY_EXHDR(token)) != NULL)
		{
			um_verified_token verified;
			um_token_identity id;

			um_verify_token_signature(token, &verified);
			um_token_identity_of(&verified, false, &id);
			if (!id.has_sid)
				reject("token has no session",
					   errdetail("Since version 1.4 every token names its session in a sid claim."),
					   errhint("Tokens issued before the update to 1.4 no longer verify: log in again."));
			memcpy(request.session.id, id.sid.data, UUID_LEN);
			request.session.has_id = true;
		}
		else
		{
			if (!refresh_token_hash(token, request.session.refresh_hash))
				reject("invalid token",
					   errdetail("logout() takes an access token (a JWT) or a refresh token."));
			request.session.has_refresh = true;
		}
		ended = end_sessions(&request, UM_REVOKE_LOGOUT);
		if (ended < 0 && request.session.has_refresh)
			reject("invalid refresh token",
				   errdetail("No session has this refresh token."));
	}
	um_secret_scope_leave(&scope);
	PG_RETURN_BOOL(ended > 0);
}

PG_FUNCTION_INFO_V1(um_logout_all);

/*
 * logout_all([user_id integer]) returns integer: every session of a user,
 * or without an argument of the user of this transaction's claims, whose
 * session must still be live.
 */
Datum
um_logout_all(PG_FUNCTION_ARGS)
{
	um_login_request request;
	int32		ended;

	memset(&request, 0, sizeof(request));
	request.user_known = true;
	if (PG_NARGS() == 0)
	{
		pg_uuid_t	sid;

		if (!um_session_claims(&sid, &request.user_id))
			reject("there is no session to log out",
				   errdetail("set_session_token() has not been given a token with a session in this transaction."),
				   errhint("Call set_session_token() first."));
		um_session_vouch(&sid, request.user_id);
	}
	else
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1];

		request.user_id = PG_GETARG_INT32(0);
		values[0] = Int32GetDatum(request.user_id);
		SPI_connect();
		if (SPI_execute_with_args("SELECT user_mgmt.require_user($1)", 1, types, values,
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "require_user failed");
		SPI_finish();
	}
	ended = end_sessions(&request, UM_REVOKE_LOGOUT_ALL);
	PG_RETURN_INT32(Max(ended, 0));
}

PG_FUNCTION_INFO_V1(um_revoke_session);

/* revoke_session(session_id uuid) returns boolean */
Datum
um_revoke_session(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *sid = PG_GETARG_UUID_P(0);
	um_login_request request;
	int32		ended;

	memset(&request, 0, sizeof(request));
	memcpy(request.session.id, sid->data, UUID_LEN);
	request.session.has_id = true;
	ended = end_sessions(&request, UM_REVOKE_REVOKED);
	if (ended < 0)
	{
		char		text[UM_UUID_TEXT_LEN + 1];

		um_uuid_format(sid->data, text);
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("session %s does not exist", text)));
	}
	PG_RETURN_BOOL(ended > 0);
}
