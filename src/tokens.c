/*
 * tokens.c
 *		Signed tokens: issue_token and verify_token (JWT, JWS compact
 *		serialization; HS256, and since 1.5 EdDSA and ES256), and the GUCs
 *		user_mgmt.token_ttl and user_mgmt.token_leeway.
 *
 * Parsing and the cryptography live in src/core (jws.c, json_scan.c,
 * base64url.c, hmac_sha256.c, jws_pk.c: plain C, tested and fuzzed
 * alone); here are policy, keys and errors.  Verification checks, in this
 * order: the form, the header (a known alg), the key its kid names, that
 * the alg is the key's own (the key decides, never the token), the
 * signature (an HMAC in constant time), and only then the claims, which
 * must carry an expiry; since 1.4, their session.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#endif
#include "common/sha2.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/base64url.h"
#include "core/hmac_sha256.h"
#include "core/json_scan.h"
#include "core/jws.h"
#include "core/jws_pk.h"
#include "core/secure.h"
#include "core/uuid_text.h"
#include "login_guard.h"
#include "session_cache.h"
#include "sessions.h"
#include "signing_keys.h"
#include "tokens.h"
#include "user_mgmt.h"

/* Random bytes in a token id: 128 bits, as a v4 UUID has about. */
#define JTI_BYTES 16

static void forget_layout(Datum arg, Oid relid);

static int	token_ttl = 30 * 60;
static int	token_leeway = 0;

/*
 * These are policy, not preference: only superusers set them (ALTER SYSTEM,
 * ALTER DATABASE or ALTER ROLE ... SET), so that no session can loosen them
 * for itself.
 */
void
um_tokens_init(void)
{
	DefineCustomIntVariable("user_mgmt.token_ttl",
							"How long a token from issue_token() or login() stays valid.",
							NULL,
							&token_ttl,
							30 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("user_mgmt.token_leeway",
							"Clock skew allowed when checking a token's exp and nbf.",
							NULL,
							&token_leeway,
							0,
							0,
							5 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	CacheRegisterRelcacheCallback(forget_layout, (Datum) 0);
}

/* Seconds since the Unix epoch, now (not the transaction's start). */
static int64
unix_now(void)
{
	return GetCurrentTimestamp() / USECS_PER_SEC +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

TimestampTz
um_unix_to_timestamptz(int64 seconds)
{
	return (seconds -
			(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * USECS_PER_SEC;
}

/* A timestamp as Unix time, floored to the second. */
static int64
unix_seconds(TimestampTz ts)
{
	int64		us = ts + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;

	return us >= 0 ? us / USECS_PER_SEC : -((-us + USECS_PER_SEC - 1) / USECS_PER_SEC);
}

static const char *
unix_time_text(int64 seconds)
{
	return timestamptz_to_str(um_unix_to_timestamptz(seconds));
}

#if PG_VERSION_NUM >= 140000

void
um_sha256(const uint8 *data, size_t len, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
	{
		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256")));
	}
	pg_cryptohash_free(ctx);
}

#else

void
um_sha256(const uint8 *data, size_t len, uint8 *digest)
{
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, data, len);
	pg_sha256_final(&ctx, digest);
}

#endif

/* HMAC-SHA256 with the key's precomputed states (core/hmac_sha256.c). */
static void
hs256(const um_signing_key *key, const char *data, size_t len, uint8 *mac)
{
	if (um_hmac_sha256(key->hmac, (const uint8 *) data, len, mac) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute HMAC-SHA256")));
}

/* Whether sig is key's signature of data: HMAC compared in constant time. */
static bool
signature_matches(const um_signing_key *key, const char *data, size_t len,
				  const uint8 *sig, size_t sig_len)
{
	uint8		expected[PG_SHA256_DIGEST_LENGTH];
	bool		equal;

	if (key->alg != UM_KEY_HS256)
		return um_pk_verify(key->public_key, (const uint8 *) data, len, sig, sig_len) == 1;
	if (sig_len != sizeof(expected))
		return false;
	hs256(key, data, len, expected);
	equal = um_ct_equal(sig, expected, sizeof(expected));
	um_wipe(expected, sizeof(expected));
	return equal;
}

/* The signature of data with key; its length (at most UM_PK_SIG_LEN). */
static size_t
sign_with(const um_signing_key *key, const char *data, size_t len, uint8 *sig)
{
	if (key->alg == UM_KEY_HS256)
	{
		hs256(key, data, len, sig);
		return PG_SHA256_DIGEST_LENGTH;
	}
	if (um_pk_sign(key->private_key, (const uint8 *) data, len, sig) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not sign the token with key \"%s\" (%s)", key->kid, key->alg_name)));
	return UM_PK_SIG_LEN;
}

/*
 * Every rejection: SQLSTATE 28000, a message per cause, and no statement in
 * the server log (a token that is not valid yet is still a credential).
 */
#define reject(msg, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), \
			 errmsg(msg), errhidestmt(true), __VA_ARGS__))

static void
reject_malformed(int status)
{
	reject("malformed token", errdetail("%s", jws_status_detail(status)));
}

/* Decode one base64url segment into a fresh, NUL-terminated buffer. */
static char *
decode_segment(const char *b64, size_t len, size_t *out_len, int bad_status)
{
	char	   *buf = palloc(um_b64url_decoded_max(len) + 1);

	if (um_b64url_decode(b64, len, (uint8 *) buf, out_len) != 0)
		reject_malformed(bad_status);
	buf[*out_len] = '\0';
	return buf;
}

/* exp (required) and nbf against the clock, allowing the leeway. */
static void
check_token_times(const jws_claims *claims)
{
	int64		now = unix_now();

	if (!claims->has_exp)
		reject("token has no expiry",
			   errdetail("Tokens without an exp claim are not accepted."));
	if (now >= claims->exp + token_leeway)
		reject("token has expired",
			   errdetail("It expired at %s.", unix_time_text(claims->exp)));
	if (claims->has_nbf && now + token_leeway < claims->nbf)
		reject("token is not yet valid",
			   errdetail("It is valid from %s.", unix_time_text(claims->nbf)));
}

/*
 * Verify a token's form and signature, and (with check_times) its exp and
 * nbf; see um_verify_token_text.
 */
static void
verify_token(text *token, um_verified_token *out, bool check_times)
{
	const char *raw = VARDATA_ANY(token);
	size_t		len = VARSIZE_ANY_EXHDR(token);
	jws_parts	parts;
	jws_header	header;
	const um_signing_key *key;
	char	   *header_json;
	size_t		header_len;
	uint8		signature[UM_PK_SIG_LEN + 2];
	size_t		signature_len;
	size_t		expected_len;
	int			status;

	status = jws_split(raw, len, &parts);
	if (status != JWS_OK)
		reject_malformed(status);

	header_json = decode_segment(parts.header, parts.header_len, &header_len,
								 JWS_ERR_HEADER_BASE64);
	status = jws_parse_header(header_json, header_len, &header);
	if (status != JWS_OK)
		reject_malformed(status);

	/* Only the algorithms there are keys for (none, HS512, RS256: never). */
	if (strcmp(header.alg, "HS256") != 0 && um_pk_alg_from_name(header.alg) == 0)
		reject("unsupported token algorithm",
			   errdetail("The token's alg is \"%s\"; HS256, EdDSA and ES256 are accepted.",
						 header.alg));

	/* Without a kid, the current key is the only candidate. */
	key = header.has_kid ? um_find_signing_key(header.kid) : um_current_signing_key();
	if (key == NULL)
		reject("token has an unknown key id",
			   header.has_kid ?
			   errdetail("No active signing key has the kid \"%s\".", header.kid) :
			   errdetail("The token has no kid and there is no active signing key."));

	/*
	 * Which algorithm checks the signature is the key's, never the token's:
	 * an HS256 token whose secret is an EdDSA or ES256 public key, or any
	 * other swap of alg, stops here.
	 */
	if (strcmp(header.alg, key->alg_name) != 0)
		reject("token algorithm does not match its key",
			   errdetail("Key \"%s\" is for %s; the token says %s.",
						 key->kid, key->alg_name, header.alg));

	expected_len = key->alg == UM_KEY_HS256 ? JWS_HS256_SIG_LEN : UM_PK_SIG_LEN;
	if (parts.signature_len != um_b64url_encoded_len(expected_len) ||
		um_b64url_decode(parts.signature, parts.signature_len,
						 signature, &signature_len) != 0 ||
		signature_len != expected_len)
	{
		if (key->alg == UM_KEY_HS256)
			reject_malformed(JWS_ERR_SIGNATURE_LENGTH);
		reject("malformed token",
			   errdetail("The token signature must be %zu bytes long, as %s produces.",
						 expected_len, key->alg_name));
	}

	if (!signature_matches(key, parts.signing_input, parts.signing_input_len,
						   signature, signature_len))
		reject("invalid token signature",
			   errdetail("The signature does not match the token's header and claims."));

	/* Authentic: now the claims. */
	out->payload = decode_segment(parts.payload, parts.payload_len,
								  &out->payload_len, JWS_ERR_PAYLOAD_BASE64);
	status = jws_parse_claims(out->payload, out->payload_len, &out->claims);
	if (status != JWS_OK)
		reject_malformed(status);

	if (check_times)
		check_token_times(&out->claims);
}

void
um_verify_token_text(text *token, um_verified_token *out)
{
	verify_token(token, out, true);
}

void
um_verify_token_signature(text *token, um_verified_token *out)
{
	verify_token(token, out, false);
}

Jsonb *
um_token_claims_jsonb(const um_verified_token *token)
{
	/* The claims are UTF-8; the database may not be. */
	char	   *json = pg_any_to_server(token->payload, token->payload_len, PG_UTF8);

	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

PG_FUNCTION_INFO_V1(um_verify_token);

/* verify_token(token text) returns jsonb */
Datum
um_verify_token(PG_FUNCTION_ARGS)
{
	um_verified_token token;

	um_verify_token_text(PG_GETARG_TEXT_PP(0), &token);

	PG_RETURN_JSONB_P(um_token_claims_jsonb(&token));
}

/* The value of a string claim, or a rejection that names it. */
static void
string_claim(const json_member *member, char *dst, size_t cap, const char *needs)
{
	size_t		len;

	if (member->type != JSON_STRING ||
		json_string_decode(member->raw, member->raw_len, dst, cap, &len) != JSON_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token claim \"%s\" is missing or invalid", member->name),
				 errhidestmt(true),
				 errdetail("%s", needs)));
}

void
um_token_identity_of(const um_verified_token *token, bool need_role,
					 um_token_identity *id)
{
	/* Found by the claims' parse (jws_parse_claims). */
	const json_member *members[3] = {&token->claims.sub, &token->claims.role, &token->claims.sid};
	const char *needs = need_role ?
		"A token needs the string claims sub (a user id) and role." :
		"A token needs the string claim sub (a user id).";
	char		sub[16];
	char		sid[UM_UUID_TEXT_LEN + 2];
	char	   *end;
	long		user_id;

	memset(id, 0, sizeof(*id));
	string_claim(members[0], sub, sizeof(sub), needs);
	errno = 0;
	user_id = strtol(sub, &end, 10);
	if (errno != 0 || *sub == '\0' || *end != '\0' || user_id < 1 || user_id > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token subject \"%s\" is not a user id", sub),
				 errhidestmt(true),
				 errdetail("%s", needs)));
	id->user_id = (int32) user_id;

	if (need_role || members[1]->type != JSON_ABSENT)
	{
		string_claim(members[1], id->role, sizeof(id->role), needs);
		id->has_role = true;
	}

	if (members[2]->type != JSON_ABSENT)
	{
		size_t		len = 0;

		if (members[2]->type != JSON_STRING ||
			json_string_decode(members[2]->raw, members[2]->raw_len, sid, sizeof(sid), &len) != JSON_OK ||
			um_uuid_parse(sid, len, id->sid.data) != 0)
			reject("malformed token",
				   errdetail("The sid claim is not a session id."));
		id->has_sid = true;
	}
}

/*
 * The last token um_verify_session_claims accepted.  Its form, signature
 * and claims are functions of its text and of the keys, so while the text
 * is the same and no key changed (the key cache's generation), only what
 * can change is checked again: the clock against exp and nbf, and the
 * session.  Policies that verify the request's token once per row, and
 * requests that repeat their bearer token, then cost a comparison.
 */
static struct
{
	bool		valid;
	uint64		keys_generation;
	bool		has_role;		/* its identity included the role */
	char	   *token;			/* in memo_context */
	Size		token_len;
	Jsonb	   *claims;			/* in memo_context */
	jws_claims	times;			/* exp and nbf only (no pointers kept) */
	um_token_identity id;
}			last_verified;

static MemoryContext memo_context = NULL;

static Jsonb *
copy_jsonb(const Jsonb *j)
{
	Jsonb	   *copy = palloc(VARSIZE(j));

	memcpy(copy, j, VARSIZE(j));
	return copy;
}

static void
remember_verified(text *token, Jsonb *claims, const jws_claims *times,
				  const um_token_identity *id, bool need_role, uint64 keys_generation)
{
	MemoryContext old;

	if (memo_context == NULL)
		memo_context = AllocSetContextCreate(TopMemoryContext, "user_mgmt verified token",
											 ALLOCSET_SMALL_SIZES);
	last_verified.valid = false;
	MemoryContextReset(memo_context);
	old = MemoryContextSwitchTo(memo_context);
	last_verified.token_len = VARSIZE_ANY_EXHDR(token);
	last_verified.token = palloc(last_verified.token_len);
	memcpy(last_verified.token, VARDATA_ANY(token), last_verified.token_len);
	last_verified.claims = copy_jsonb(claims);
	MemoryContextSwitchTo(old);
	memset(&last_verified.times, 0, sizeof(last_verified.times));
	last_verified.times.has_exp = times->has_exp;
	last_verified.times.exp = times->exp;
	last_verified.times.has_nbf = times->has_nbf;
	last_verified.times.nbf = times->nbf;
	last_verified.id = *id;
	last_verified.has_role = need_role;
	last_verified.keys_generation = keys_generation;
	last_verified.valid = true;
}

Jsonb *
um_verify_session_claims(text *token, bool need_role, um_token_identity *id)
{
	um_verified_token verified;
	Jsonb	   *claims;
	uint64		keys_generation;

	/* What other backends committed up to now: a key retired, a session ended. */
	AcceptInvalidationMessages();

	/*
	 * The keys this call checks with.  Should an invalidation arrive later in
	 * the call (the session check opens a table, which takes them in), the
	 * memo keeps this older generation and is not trusted again.
	 */
	keys_generation = um_signing_keys_generation();

	if (last_verified.valid &&
		last_verified.keys_generation == keys_generation &&
		(last_verified.has_role || !need_role) &&
		last_verified.token_len == VARSIZE_ANY_EXHDR(token) &&
		memcmp(last_verified.token, VARDATA_ANY(token), last_verified.token_len) == 0)
	{
		check_token_times(&last_verified.times);
		*id = last_verified.id;
		um_session_vouch(&id->sid, id->user_id);
		return copy_jsonb(last_verified.claims);
	}

	um_verify_token_text(token, &verified);
	um_token_identity_of(&verified, need_role, id);
	if (!id->has_sid)
		reject("token has no session",
			   errdetail("Since version 1.4 every token names its session in a sid claim."),
			   errhint("Tokens issued before the update to 1.4 no longer verify: log in again."));
	um_session_vouch(&id->sid, id->user_id);
	claims = um_token_claims_jsonb(&verified);
	remember_verified(token, claims, &verified.claims, id, need_role, keys_generation);
	return claims;
}

PG_FUNCTION_INFO_V1(um_verify_token_1_4);

/* verify_token(token text) returns jsonb, as of 1.4: the session too */
Datum
um_verify_token_1_4(PG_FUNCTION_ARGS)
{
	um_token_identity id;

	PG_RETURN_JSONB_P(um_verify_session_claims(PG_GETARG_TEXT_PP(0), false, &id));
}

/* The token's subject, read straight from the users table. */
typedef struct token_subject
{
	char	   *username;		/* UTF-8 */
	const char *role;			/* enum label */
	int64		epoch;			/* session_epoch; 0 before 1.4 */
} token_subject;

/*
 * Where users and its columns are: looked up once, forgotten when the
 * table's relcache entry is invalidated (ALTER TABLE, DROP, an update of
 * the extension).
 */
typedef struct users_layout
{
	bool		valid;
	Oid			users;
	Oid			users_pkey;
	AttrNumber	username;
	AttrNumber	role;
	AttrNumber	is_active;		/* InvalidAttrNumber before 1.1 */
	AttrNumber	session_epoch;	/* InvalidAttrNumber before 1.4 */
} users_layout;

static users_layout layout;

static void
forget_layout(Datum arg pg_attribute_unused(), Oid relid)
{
	if (relid == InvalidOid || relid == layout.users)
		layout.valid = false;
}

static void
load_layout(void)
{
	Oid			nsp = get_namespace_oid("user_mgmt", false);

	layout.users = get_relname_relid("users", nsp);
	layout.users_pkey = get_relname_relid("users_pkey", nsp);
	if (!OidIsValid(layout.users) || !OidIsValid(layout.users_pkey))
		elog(ERROR, "table user_mgmt.users or its primary key is missing");
	layout.username = get_attnum(layout.users, "username");
	layout.role = get_attnum(layout.users, "role");
	layout.is_active = get_attnum(layout.users, "is_active");
	layout.session_epoch = get_attnum(layout.users, "session_epoch");
	layout.valid = true;
}

static void
read_subject(int32 user_id, token_subject *subject)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		value;
	char	   *username;
	Snapshot	snapshot;

	if (!layout.valid)
		load_layout();

	rel = table_open(layout.users, AccessShareLock);
	/* Opening may have processed an invalidation of the layout itself. */
	if (!layout.valid)
		load_layout();
	desc = RelationGetDescr(rel);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(user_id));
	/*
	 * The account as it is now, whatever the caller's snapshot (for a
	 * relation that is no catalog, a catalog snapshot is taken afresh, and
	 * may be, unlike GetLatestSnapshot's, in a parallel worker).
	 */
	snapshot = RegisterSnapshot(GetCatalogSnapshot(layout.users));
	scan = systable_beginscan(rel, layout.users_pkey, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user %d does not exist", user_id)));

	if (layout.is_active != InvalidAttrNumber)
	{
		value = heap_getattr(tuple, layout.is_active, desc, &isnull);
		if (!isnull && !DatumGetBool(value))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("user %d is inactive", user_id),
					 errdetail("Inactive accounts get no tokens.")));
	}

	value = heap_getattr(tuple, layout.username, desc, &isnull);
	username = TextDatumGetCString(value);
	subject->username = pg_server_to_any(username, strlen(username), PG_UTF8);

	value = heap_getattr(tuple, layout.role, desc, &isnull);
	subject->role = DatumGetCString(DirectFunctionCall1(enum_out, value));

	subject->epoch = 0;
	if (layout.session_epoch != InvalidAttrNumber)
	{
		value = heap_getattr(tuple, layout.session_epoch, desc, &isnull);
		if (!isnull)
			subject->epoch = DatumGetInt64(value);
	}

	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

/* An interval as whole seconds, months counted as 30 days. */
static int64
interval_seconds(const Interval *span)
{
	return span->time / USECS_PER_SEC +
		((int64) span->month * DAYS_PER_MONTH + span->day) * SECS_PER_DAY;
}

static void
append_b64url(StringInfo buf, const uint8 *data, size_t len)
{
	size_t		n = um_b64url_encoded_len(len);

	enlargeStringInfo(buf, n);
	um_b64url_encode(data, len, buf->data + buf->len);
	buf->len += n;
	buf->data[buf->len] = '\0';
}

static void
check_ttl(int64 ttl)
{
	if (ttl <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("token lifetime must be positive"),
				 errdetail("The lifetime is %lld seconds.", (long long) ttl)));
}

text *
um_sign_token(int32 user_id, const char *username_utf8, const char *role,
			  int64 ttl, const uint8 *sid, TimestampTz session_end, int64 *exp)
{
	const um_signing_key *key;
	uint8		jti[JTI_BYTES];
	uint8		sig[UM_PK_SIG_LEN];
	size_t		sig_len;
	StringInfoData claims;
	StringInfoData token;
	int64		now;
	int64		expires;

	check_ttl(ttl);

	if (!pg_strong_random(jti, sizeof(jti)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token id")));

	now = unix_now();
	expires = now + ttl;
	/* Never outlive the session: its end, floored to the second. */
	if (session_end != 0)
		expires = Min(expires, unix_seconds(session_end));
	if (exp != NULL)
		*exp = expires;

	initStringInfo(&claims);
	appendStringInfo(&claims, "{\"sub\":\"%d\",\"username\":", user_id);
	escape_json(&claims, username_utf8);
	appendStringInfo(&claims, ",\"role\":\"%s\",", role);
	if (sid != NULL)
	{
		char		sid_text[UM_UUID_TEXT_LEN + 1];

		um_uuid_format(sid, sid_text);
		appendStringInfo(&claims, "\"sid\":\"%s\",", sid_text);
	}
	appendStringInfo(&claims, "\"iat\":" INT64_FORMAT ",\"exp\":" INT64_FORMAT ",\"jti\":\"",
					 now, expires);
	append_b64url(&claims, jti, sizeof(jti));
	appendStringInfoString(&claims, "\"}");

	/* Keys last: nothing between here and the HMAC may reload them. */
	key = um_current_signing_key();
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("there is no active signing key"),
				 errhint("Create one with SELECT user_mgmt.rotate_signing_key().")));

	initStringInfo(&token);
	appendBinaryStringInfo(&token, key->header_b64, key->header_b64_len);
	appendStringInfoChar(&token, '.');
	append_b64url(&token, (const uint8 *) claims.data, claims.len);
	sig_len = sign_with(key, token.data, token.len, sig);
	appendStringInfoChar(&token, '.');
	append_b64url(&token, sig, sig_len);

	return cstring_to_text_with_len(token.data, token.len);
}

int64
um_token_ttl(void)
{
	return token_ttl;
}

PG_FUNCTION_INFO_V1(um_issue_token);

/* issue_token(user_id integer [, ttl interval]) returns text */
Datum
um_issue_token(PG_FUNCTION_ARGS)
{
	int32		user_id = PG_GETARG_INT32(0);
	int64		ttl = PG_NARGS() > 1 ? interval_seconds(PG_GETARG_INTERVAL_P(1)) : token_ttl;
	token_subject subject;

	check_ttl(ttl);

	read_subject(user_id, &subject);

	PG_RETURN_TEXT_P(um_sign_token(user_id, subject.username, subject.role, ttl,
								   NULL, 0, NULL));
}

PG_FUNCTION_INFO_V1(um_issue_token_1_4);

/*
 * issue_token(user_id integer [, ttl interval]) returns text, as of 1.4:
 * the token gets a session of its own, opened by the login writer, that
 * ends when the token expires (and can be revoked before).
 */
Datum
um_issue_token_1_4(PG_FUNCTION_ARGS)
{
	int32		user_id = PG_GETARG_INT32(0);
	int64		ttl = PG_NARGS() > 1 ? interval_seconds(PG_GETARG_INTERVAL_P(1)) : token_ttl;
	token_subject subject;
	um_login_request request;
	um_login_reply reply;

	check_ttl(ttl);
	if (ttl > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("token lifetime must be at most %d seconds", PG_INT32_MAX),
				 errdetail("The lifetime is %lld seconds.", (long long) ttl)));

	read_subject(user_id, &subject);

	memset(&request, 0, sizeof(request));
	request.kind = UM_REQ_OPEN_SESSION;
	request.user_known = true;
	request.user_id = user_id;
	strlcpy(request.username, subject.username, sizeof(request.username));
	um_login_request_set_client(&request);
	um_session_request_init(&request.session, UM_ORIGIN_ISSUE_TOKEN,
							subject.epoch, ttl, NULL);
	um_session_call(&request, &reply, "open a session for the token");

	PG_RETURN_TEXT_P(um_sign_token(user_id, subject.username, subject.role, ttl,
								   reply.session.id, reply.session.expires_at, NULL));
}
