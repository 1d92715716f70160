/*
 * session.c
 *		Token claims for the current transaction, for row-level security:
 *		set_session_token, current_user_id and current_user_role.
 *
 * The claims live in this backend's memory, not in a GUC, so that no SET
 * can forge them; they are forgotten when the transaction ends, or when
 * the subtransaction that set them rolls back.  Parallel workers cannot
 * see them, hence PARALLEL RESTRICTED on the readers.
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

#include "core/json_scan.h"
#include "tokens.h"
#include "user_mgmt.h"

/* Long enough for any role label. */
#define ROLE_LABEL_MAX 64

static bool session_has_claims = false;
static int32 session_user_id;
static char session_role[ROLE_LABEL_MAX + 1];
static SubTransactionId session_subxact;	/* the one that set the claims */

static void
forget_claims(XactEvent event pg_attribute_unused(),
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
	RegisterXactCallback(forget_claims, NULL);
	RegisterSubXactCallback(follow_subtransactions, NULL);
}

/* The value of a string claim, or an error that names it. */
static void
string_claim(const json_member *member, char *dst, size_t cap)
{
	size_t		len;

	if (member->type != JSON_STRING ||
		json_string_decode(member->raw, member->raw_len, dst, cap, &len) != JSON_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token claim \"%s\" is missing or invalid", member->name),
				 errhidestmt(true),
				 errdetail("set_session_token() needs the string claims sub (a user id) and role.")));
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

PG_FUNCTION_INFO_V1(um_set_session_token);

/* set_session_token(token text) returns jsonb */
Datum
um_set_session_token(PG_FUNCTION_ARGS)
{
	um_verified_token token;
	json_member members[2] = {{.name = "sub"}, {.name = "role"}};
	char		sub[16];
	char		role[ROLE_LABEL_MAX + 1];
	char	   *end;
	long		id;
	Jsonb	   *claims;

	um_verify_token_text(PG_GETARG_TEXT_PP(0), &token);
	claims = um_token_claims_jsonb(&token);

	/* Already validated by the verification; this only finds members. */
	json_scan_object(token.payload, token.payload_len, members, 2);
	string_claim(&members[0], sub, sizeof(sub));
	string_claim(&members[1], role, sizeof(role));

	if (!is_role_label(role))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token role \"%s\" is not a label of user_mgmt.role", role),
				 errhidestmt(true)));

	errno = 0;
	id = strtol(sub, &end, 10);
	if (errno != 0 || *sub == '\0' || *end != '\0' || id < 1 || id > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token subject \"%s\" is not a user id", sub),
				 errhidestmt(true)));

	session_user_id = (int32) id;
	strlcpy(session_role, role, sizeof(session_role));
	session_subxact = GetCurrentSubTransactionId();
	session_has_claims = true;

	PG_RETURN_JSONB_P(claims);
}

PG_FUNCTION_INFO_V1(um_current_user_id);

/* current_user_id() returns integer */
Datum
um_current_user_id(PG_FUNCTION_ARGS)
{
	if (!session_has_claims)
		PG_RETURN_NULL();
	PG_RETURN_INT32(session_user_id);
}

PG_FUNCTION_INFO_V1(um_current_user_role);

/* current_user_role() returns user_mgmt.role */
Datum
um_current_user_role(PG_FUNCTION_ARGS)
{
	if (!session_has_claims)
		PG_RETURN_NULL();
	return DirectFunctionCall2(enum_in, CStringGetDatum(session_role),
							   ObjectIdGetDatum(get_fn_expr_rettype(fcinfo->flinfo)));
}
