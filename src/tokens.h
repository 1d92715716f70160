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

#endif							/* USER_MGMT_TOKENS_H */
