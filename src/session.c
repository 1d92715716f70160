/*
 * session.c
 *		Token claims for the current transaction, for row-level security:
 *		set_session_token, current_user_id, current_user_role and (1.4)
 *		current_session_id.
 *
 * The claims live in this backend's memory, not in a GUC, so that no SET
 * can forge them; they are forgotten when the transaction ends, or when
 * the subtransaction that set them rolls back.  Since 1.4 they name a
 * session, and every reader asks it again whether it still vouches for
 * them: once the session ends (logout, revocation, a change of the
 * account), in this backend or any other, the readers raise 28000 instead
 * of answering for an identity that is gone.  Parallel workers cannot see
 * the claims, hence PARALLEL RESTRICTED on the readers.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "session_cache.h"
#include "tokens.h"
#include "user_mgmt.h"

static bool session_has_claims = false;
static int32 session_user_id;
static char session_role[UM_ROLE_LABEL_MAX + 1];
static bool session_has_sid = false;
static pg_uuid_t session_sid;
static SubTransactionId session_subxact;	/* the one that set the claims */

static void
forget_claims_at_end(XactEvent event pg_attribute_unused(),
					 void *arg pg_attribute_unused())
{
	session_has_claims = false;
}

static void
follow_subtransactions(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid,
					   void *arg pg_attribute_unused())
{
	if (!session_has_claims || mySubid != session_subxact)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		session_has_claims = false;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		session_subxact = parentSubid;
}

void
um_session_init(void)
{
	RegisterXactCallback(forget_claims_at_end, NULL);
	RegisterSubXactCallback(follow_subtransactions, NULL);
}

/* Whether label is one of user_mgmt.role's. */
static bool
is_role_label(const char *label)
{
	Oid			nsp = get_namespace_oid("user_mgmt", false);
	Oid			role_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											CStringGetDatum("role"),
											ObjectIdGetDatum(nsp));

	return OidIsValid(role_type) &&
		SearchSysCacheExists2(ENUMTYPOIDNAME, ObjectIdGetDatum(role_type),
							  CStringGetDatum(label));
}

/* Remember the claims of a verified token for this transaction. */
static void
remember(const um_token_identity *id, bool with_session)
{
	if (!is_role_label(id->role))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token role \"%s\" is not a label of user_mgmt.role", id->role),
				 errhidestmt(true)));

	session_user_id = id->user_id;
	strlcpy(session_role, id->role, sizeof(session_role));
	session_has_sid = with_session;
	if (with_session)
		session_sid = id->sid;
	session_subxact = GetCurrentSubTransactionId();
	session_has_claims = true;
}

PG_FUNCTION_INFO_V1(um_set_session_token);

/* set_session_token(token text) returns jsonb (1.2, 1.3: no session) */
Datum
um_set_session_token(PG_FUNCTION_ARGS)
{
	um_verified_token token;
	um_token_identity id;
	Jsonb	   *claims;

	um_verify_token_text(PG_GETARG_TEXT_PP(0), &token);
	claims = um_token_claims_jsonb(&token);
	um_token_identity_of(&token, true, &id);
	remember(&id, false);

	PG_RETURN_JSONB_P(claims);
}

PG_FUNCTION_INFO_V1(um_set_session_token_1_4);

/* set_session_token(token text) returns jsonb, as of 1.4: a live session */
Datum
um_set_session_token_1_4(PG_FUNCTION_ARGS)
{
	um_token_identity id;
	Jsonb	   *claims;

	claims = um_verify_session_claims(PG_GETARG_TEXT_PP(0), true, &id);
	remember(&id, true);

	PG_RETURN_JSONB_P(claims);
}

/*
 * Whether there are claims for this transaction; with a session, only
 * while it still vouches for them (else 28000).
 */
static bool
claims_hold(void)
{
	if (!session_has_claims)
		return false;
	if (session_has_sid)
		um_session_vouch(&session_sid, session_user_id);
	return true;
}

bool
um_session_claims(pg_uuid_t *sid, int32 *user_id)
{
	if (!session_has_claims || !session_has_sid)
		return false;
	*sid = session_sid;
	*user_id = session_user_id;
	return true;
}

void
um_session_claims_forget(void)
{
	session_has_claims = false;
}

PG_FUNCTION_INFO_V1(um_current_user_id);

/* current_user_id() returns integer */
Datum
um_current_user_id(PG_FUNCTION_ARGS)
{
	if (!claims_hold())
		PG_RETURN_NULL();
	PG_RETURN_INT32(session_user_id);
}

PG_FUNCTION_INFO_V1(um_current_user_role);

/* current_user_role() returns user_mgmt.role */
Datum
um_current_user_role(PG_FUNCTION_ARGS)
{
	if (!claims_hold())
		PG_RETURN_NULL();
	return DirectFunctionCall2(enum_in, CStringGetDatum(session_role),
							   ObjectIdGetDatum(get_fn_expr_rettype(fcinfo->flinfo)));
}

PG_FUNCTION_INFO_V1(um_current_session_id);

/* current_session_id() returns uuid (1.4) */
Datum
um_current_session_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *sid;

	if (!claims_hold() || !session_has_sid)
		PG_RETURN_NULL();
	sid = palloc(sizeof(pg_uuid_t));
	*sid = session_sid;
	PG_RETURN_UUID_P(sid);
}
