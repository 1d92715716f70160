/*
 * signing_keys.h
 *		A per-backend cache of user_mgmt.signing_keys.
 */
#ifndef USER_MGMT_SIGNING_KEYS_H
#define USER_MGMT_SIGNING_KEYS_H

#include "core/hmac_sha256.h"
#include "core/jws.h"
#include "core/jws_pk.h"

/* A key's algorithm: HS256, or one of jws_pk.h's (1.5). */
#define UM_KEY_HS256 0

typedef struct um_signing_key
{
	char		kid[JWS_KID_MAX + 1];
	int			alg;			/* UM_KEY_HS256, UM_PK_EDDSA or UM_PK_ES256 */
	const char *alg_name;		/* its JWS "alg" */
	um_hmac_key *hmac;			/* HS256: the secret, ready for MACs */
	um_pk_key  *private_key;	/* asymmetric keys made here */
	um_pk_key  *public_key;		/* asymmetric keys */
	bool		can_sign;		/* false for an imported public key */
	char	   *header_b64;		/* base64url of this key's JOSE header */
	int			header_b64_len;
} um_signing_key;

/*
 * The key that signs (the newest that is not retired and can sign), or
 * NULL when none.  Pointers stay valid until the next call into this
 * module or the next invalidation: use them at once.
 */
extern const um_signing_key *um_current_signing_key(void);

/* The unretired key with this kid, or NULL. */
extern const um_signing_key *um_find_signing_key(const char *kid);

/* Every unretired key, in no particular order. */
extern const um_signing_key *um_signing_keys(int *nkeys);

/*
 * A number that changes whenever the cache is dropped (a key made, retired
 * or changed anywhere): a result that depended on the keys is good only
 * while it stays the same.
 */
extern uint64 um_signing_keys_generation(void);

extern void um_signing_keys_init(void);

#endif							/* USER_MGMT_SIGNING_KEYS_H */
