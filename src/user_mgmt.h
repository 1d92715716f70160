/*
 * user_mgmt.h
 *		Shared declarations of the fmgr binding layer.
 */
#ifndef USER_MGMT_H
#define USER_MGMT_H

#include "fmgr.h"
#include "utils/uuid.h"

/* Each module of the binding defines its own GUCs here. */
extern void um_password_init(void);
extern void um_login_failures_init(void);
extern void um_tokens_init(void);
extern void um_session_init(void);

/*
 * password.c, for the accounts functions.  Hashing and checking run in
 * chunks that answer cancels; passwords over 72 bytes are refused for new
 * hashes and judged by their first 72 bytes when checked.
 */
extern int	um_bcrypt_cost(void);
extern void um_password_policy(text *password);
extern void um_password_hash(text *password, int cost, char out[61]);
/* Checks, then pads with idle rounds up to pad_to_cost (0: none). */
extern bool um_password_check(text *password, const char *hash,
							  size_t hash_len, int pad_to_cost);
/* A check against a hash no password matches, at the current cost. */
extern void um_password_dummy_check(text *password);
extern bool um_hash_needs_rehash(const char *hash, size_t hash_len);

/* login_failures.c: the lockout policy of this session. */
extern int	um_max_failed_logins(void);
extern int	um_lockout_seconds(void);

/*
 * session.c: the session of this transaction's claims (1.4), for logout()
 * and logout_all(); false when set_session_token named none.
 */
extern bool um_session_claims(pg_uuid_t *sid, int32 *user_id);
extern void um_session_claims_forget(void);

/* login_writer.c: true in a database's login writer process. */
extern bool um_in_login_writer;

#endif							/* USER_MGMT_H */
