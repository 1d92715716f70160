/*
 * session_writer.c
 *		The login writer's session work (see session_writer.h).
 *
 * The decisions live in SQL (user_mgmt.session_open, session_refresh,
 * session_revoke), which the writer runs as the extension's owner in the
 * request's subtransaction; a reply is delivered only after the batch's
 * transaction committed, so a caller never holds a token whose session or
 * rotation is not durable.  Statements that would wait on a row another
 * transaction holds fail at once, as 'busy': the writer serves every login
 * of its database and must never wait on a caller.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "session_writer.h"
#include "writer_sql.h"

static SPIPlanPtr open_plan = NULL;
static SPIPlanPtr refresh_plan = NULL;
static SPIPlanPtr revoke_plan = NULL;

static const char *const origin_names[] = {
	[UM_ORIGIN_LOGIN] = "login",
	[UM_ORIGIN_SIGN_IN] = "sign_in",
	[UM_ORIGIN_ISSUE_TOKEN] = "issue_token",
};

static const char *const reason_names[] = {
	[UM_REVOKE_LOGOUT] = "logout",
	[UM_REVOKE_LOGOUT_ALL] = "logout_all",
	[UM_REVOKE_REVOKED] = "revoked",
};

void
um_session_writer_forget_plans(void)
{
	SPIPlanPtr *plans[] = {&open_plan, &refresh_plan, &revoke_plan};
	size_t		i;

	for (i = 0; i < lengthof(plans); i++)
	{
		if (*plans[i] != NULL)
			SPI_freeplan(*plans[i]);
		*plans[i] = NULL;
	}
}

static Datum
uuid_datum(const uint8 *id)
{
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

	memcpy(u->data, id, UUID_LEN);
	return UUIDPGetDatum(u);
}

static Datum
hash_datum(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + UM_REFRESH_HASH_BYTES);

	SET_VARSIZE(b, VARHDRSZ + UM_REFRESH_HASH_BYTES);
	memcpy(VARDATA(b), hash, UM_REFRESH_HASH_BYTES);
	return PointerGetDatum(b);
}

/* Column n (1-based) of the single result row. */
static Datum
result_column(int n, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n, isnull);
}

static TimestampTz
timestamp_column(int n)
{
	bool		isnull;
	Datum		d = result_column(n, &isnull);

	return isnull ? 0 : DatumGetTimestampTz(d);
}

/* Copy text column n into dst (cap bytes with the NUL); empty for NULL. */
static void
text_column(int n, char *dst, size_t cap)
{
	bool		isnull;
	Datum		d = result_column(n, &isnull);

	dst[0] = '\0';
	if (!isnull)
		text_to_cstring_buffer(DatumGetTextPP(d), dst, cap);
}

static int
session_result_of(const char *result)
{
	static const struct
	{
		const char *name;
		int			result;
	}			results[] = {
		{"ok", UM_SESSION_OK}, {"done", UM_SESSION_OK},
		{"unknown", UM_SESSION_UNKNOWN}, {"reused", UM_SESSION_REUSED},
		{"revoked", UM_SESSION_REVOKED}, {"expired", UM_SESSION_EXPIRED},
		{"busy", UM_SESSION_BUSY},
	};
	size_t		i;

	for (i = 0; i < lengthof(results); i++)
		if (strcmp(result, results[i].name) == 0)
			return results[i].result;
	elog(ERROR, "user_mgmt session function returned \"%s\"", result);
	return UM_SESSION_NONE;		/* keep the compiler quiet */
}

void
um_session_writer_open(const um_login_request *request, um_login_reply *reply)
{
	const um_session_request *s = &request->session;
	Oid			types[14] = {UUIDOID, INT4OID, INT8OID, TEXTOID, BYTEAOID,
		INTERVALOID, INTERVALOID, INTERVALOID, INT4OID, TEXTOID, INETOID,
	TEXTOID, INETOID, TEXTOID};
	Datum		values[14];
	char		nulls[14];

	if (s->origin < UM_ORIGIN_LOGIN || s->origin > UM_ORIGIN_ISSUE_TOKEN)
		elog(ERROR, "unknown session origin %d", s->origin);
	memset(nulls, ' ', sizeof(nulls));
	values[0] = uuid_datum(s->id);
	values[1] = Int32GetDatum(request->user_id);
	values[2] = Int64GetDatum(s->epoch);
	values[3] = CStringGetTextDatum(origin_names[s->origin]);
	if (s->has_refresh)
		values[4] = hash_datum(s->refresh_hash);
	else
	{
		values[4] = (Datum) 0;
		nulls[4] = 'n';
	}
	values[5] = um_writer_interval_seconds(s->token_lifetime);
	values[6] = um_writer_interval_seconds(s->session_lifetime);
	values[7] = um_writer_interval_seconds(s->idle_timeout);
	values[8] = Int32GetDatum(s->max_sessions);
	/* As given: an empty user agent is not no user agent. */
	values[9] = CStringGetTextDatum(s->user_agent);
	nulls[9] = s->has_user_agent ? ' ' : 'n';
	um_writer_inet_arg(values, nulls, 10, s->given_client_addr);
	um_writer_text_arg(values, nulls, 11, request->username);
	um_writer_inet_arg(values, nulls, 12, request->client_addr);
	um_writer_text_arg(values, nulls, 13, request->application_name);

	if (SPI_execute_plan(um_writer_plan(&open_plan,
										"SELECT expires_at, refresh_expires_at FROM user_mgmt.session_open("
										"$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
										14, types),
						 values, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "session_open returned no row");

	reply->session.result = UM_SESSION_OK;
	memcpy(reply->session.id, s->id, UM_SESSION_ID_BYTES);
	reply->session.user_id = request->user_id;
	reply->session.expires_at = timestamp_column(1);
	reply->session.refresh_expires_at = timestamp_column(2);
}

void
um_session_writer_refresh(const um_login_request *request, um_login_reply *reply)
{
	const um_session_request *s = &request->session;
	Oid			types[5] = {BYTEAOID, BYTEAOID, INTERVALOID, INETOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	char		result[16];
	bool		isnull;
	Datum		d;

	values[0] = hash_datum(s->refresh_hash);
	values[1] = hash_datum(s->next_hash);
	values[2] = um_writer_interval_seconds(s->idle_timeout);
	um_writer_inet_arg(values, nulls, 3, request->client_addr);
	um_writer_text_arg(values, nulls, 4, request->application_name);

	if (SPI_execute_plan(um_writer_plan(&refresh_plan,
										"SELECT result, session_id, user_id, username, role, expires_at,"
										" refresh_expires_at, revoke_reason"
										" FROM user_mgmt.session_refresh($1, $2, $3, $4, $5)",
										5, types),
						 values, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "session_refresh returned no row");

	text_column(1, result, sizeof(result));
	reply->session.result = session_result_of(result);
	d = result_column(2, &isnull);
	if (!isnull)
		memcpy(reply->session.id, DatumGetUUIDP(d)->data, UM_SESSION_ID_BYTES);
	d = result_column(3, &isnull);
	reply->session.user_id = isnull ? 0 : DatumGetInt32(d);
	text_column(4, reply->session.username, sizeof(reply->session.username));
	text_column(5, reply->session.role, sizeof(reply->session.role));
	reply->session.expires_at = timestamp_column(6);
	reply->session.refresh_expires_at = timestamp_column(7);
	text_column(8, reply->session.reason, sizeof(reply->session.reason));
}

void
um_session_writer_revoke(const um_login_request *request, um_login_reply *reply)
{
	const um_session_request *s = &request->session;
	Oid			types[7] = {UUIDOID, BYTEAOID, INT4OID, TEXTOID, INTERVALOID, INETOID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	char		result[16];
	bool		isnull;
	Datum		d;

	if (s->reason < UM_REVOKE_LOGOUT || s->reason > UM_REVOKE_REVOKED)
		elog(ERROR, "unknown revoke reason %d", s->reason);
	values[0] = s->has_id ? uuid_datum(s->id) : (Datum) 0;
	nulls[0] = s->has_id ? ' ' : 'n';
	values[1] = s->has_refresh ? hash_datum(s->refresh_hash) : (Datum) 0;
	nulls[1] = s->has_refresh ? ' ' : 'n';
	values[2] = Int32GetDatum(request->user_id);
	nulls[2] = request->user_known ? ' ' : 'n';
	values[3] = CStringGetTextDatum(reason_names[s->reason]);
	values[4] = um_writer_interval_seconds(s->idle_timeout);
	um_writer_inet_arg(values, nulls, 5, request->client_addr);
	um_writer_text_arg(values, nulls, 6, request->application_name);

	if (SPI_execute_plan(um_writer_plan(&revoke_plan,
										"SELECT result, revoked, owner_id"
										" FROM user_mgmt.session_revoke($1, $2, $3, $4, $5, $6, $7)",
										7, types),
						 values, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "session_revoke returned no row");

	text_column(1, result, sizeof(result));
	reply->session.result = session_result_of(result);
	d = result_column(2, &isnull);
	reply->session.revoked = isnull ? 0 : DatumGetInt32(d);
	d = result_column(3, &isnull);
	reply->session.user_id = isnull ? 0 : DatumGetInt32(d);
}
