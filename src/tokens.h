/*
 * tokens.h
 *		Token verification, shared by verify_token and set_session_token.
 */
#ifndef USER_MGMT_TOKENS_H
#define USER_MGMT_TOKENS_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "core/jws.h"

/* Long enough for any role label. */
#define UM_ROLE_LABEL_MAX 64

typedef struct um_verified_token
{
	char	   *payload;		/* the claims' JSON, UTF-8, NUL-terminated */
	size_t		payload_len;
	jws_claims	claims;
} um_verified_token;

/* Who a verified token speaks for: its sub, role and sid claims. */
typedef struct um_token_identity
{
	int32		user_id;		/* sub */
	bool		has_role;
	char		role[UM_ROLE_LABEL_MAX + 1];
	bool		has_sid;
	pg_uuid_t	sid;
} um_token_identity;

/*
 * Verify a token's form, signature and times (1.2, 1.3), or raise SQLSTATE
 * 28000 with a message per cause.
 */
extern void um_verify_token_text(text *token, um_verified_token *out);

/*
 * Only the form and the signature, whatever exp and nbf say: for logout(),
 * which takes expired tokens too.
 */
extern void um_verify_token_signature(text *token, um_verified_token *out);

/*
 * The identity claims of a verified token: sub must be a user id (and,
 * with need_role, role a string); sid, when present, a session id.  Else
 * SQLSTATE 28000.
 */
extern void um_token_identity_of(const um_verified_token *token, bool need_role,
								 um_token_identity *id);

/*
 * Verify a token as version 1.4 does: um_verify_token_text, then the
 * identity, which must name a session, and that session must vouch for it
 * now (session_cache.h).  SQLSTATE 28000 for every rejection.  The claims,
 * as jsonb.
 */
extern Jsonb *um_verify_session_claims(text *token, bool need_role,
									   um_token_identity *id);

/* The verified claims as jsonb. */
extern Jsonb *um_token_claims_jsonb(const um_verified_token *token);

/*
 * A signed token (JWT, HS256) for these claims, valid for ttl seconds; the
 * username is UTF-8 and the role an enum label.  With a session id (1.4)
 * the token carries it as sid and expires no later than session_end (0:
 * no limit); *exp gets its expiry (Unix time) unless exp is NULL.
 */
extern text *um_sign_token(int32 user_id, const char *username_utf8,
						   const char *role, int64 ttl, const uint8 *sid,
						   TimestampTz session_end, int64 *exp);

/* SHA-256 of len bytes. */
extern void um_sha256(const uint8 *data, size_t len, uint8 *digest);

/* A Unix time as timestamptz. */
extern TimestampTz um_unix_to_timestamptz(int64 seconds);

/* user_mgmt.token_ttl, in seconds. */
extern int64 um_token_ttl(void);

#endif							/* USER_MGMT_TOKENS_H */
