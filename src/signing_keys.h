/*
 * signing_keys.h
 *		A per-backend cache of user_mgmt.signing_keys.
 */
#ifndef USER_MGMT_SIGNING_KEYS_H
#define USER_MGMT_SIGNING_KEYS_H

#include "core/jws.h"

typedef struct um_signing_key
{
	char		kid[JWS_KID_MAX + 1];
	uint8	   *secret;
	int			secret_len;
	char	   *header_b64;		/* base64url of this key's JOSE header */
	int			header_b64_len;
} um_signing_key;

/*
 * The key that signs (the newest that is not retired), or NULL when none.
 * Pointers stay valid until the next call into this module or the next
 * invalidation: use them at once.
 */
extern const um_signing_key *um_current_signing_key(void);

/* The unretired key with this kid, or NULL. */
extern const um_signing_key *um_find_signing_key(const char *kid);

extern void um_signing_keys_init(void);

#endif							/* USER_MGMT_SIGNING_KEYS_H */
