/*
 * tokens.h
 *		Token verification, shared by verify_token and set_session_token.
 */
#ifndef USER_MGMT_TOKENS_H
#define USER_MGMT_TOKENS_H

#include "utils/jsonb.h"

#include "core/jws.h"

typedef struct um_verified_token
{
	char	   *payload;		/* the claims' JSON, UTF-8, NUL-terminated */
	size_t		payload_len;
	jws_claims	claims;
} um_verified_token;

/* Verify a token, or raise SQLSTATE 28000 with a message per cause. */
extern void um_verify_token_text(text *token, um_verified_token *out);

/* The verified claims as jsonb. */
extern Jsonb *um_token_claims_jsonb(const um_verified_token *token);

/*
 * A signed token (JWT, HS256) for these claims, valid for ttl seconds; the
 * username is UTF-8 and the role an enum label.
 */
extern text *um_sign_token(int32 user_id, const char *username_utf8,
						   const char *role, int64 ttl);

/* user_mgmt.token_ttl, in seconds. */
extern int64 um_token_ttl(void);

#endif							/* USER_MGMT_TOKENS_H */
