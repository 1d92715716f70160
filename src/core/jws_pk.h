/*
 * jws_pk.h
 *		The asymmetric JWS algorithms, in plain C on OpenSSL's libcrypto:
 *		EdDSA with Ed25519 (RFC 8037) and ES256, ECDSA on P-256 with
 *		SHA-256 (RFC 7518 section 3.4).
 *
 * No elliptic-curve arithmetic is written here: every signature is made
 * and checked by libcrypto.  What this file adds is what JWS asks of it:
 * the fixed 64-byte signature forms (Ed25519's own, and ES256's R || S
 * instead of libcrypto's DER), strict key loading (only these two key
 * types, only P-256, no trailing bytes), and the JWK coordinates.
 *
 * Keys travel as DER: a PKCS#8 PrivateKeyInfo for a private key, a
 * SubjectPublicKeyInfo for a public one.  Every function leaves
 * libcrypto's error queue empty, so that nothing it failed on is later
 * blamed on someone else (PostgreSQL's TLS code reads that queue).
 */
#ifndef USER_MGMT_JWS_PK_H
#define USER_MGMT_JWS_PK_H

#include <stddef.h>
#include <stdint.h>

enum um_pk_alg
{
	UM_PK_EDDSA = 1,			/* "EdDSA", curve Ed25519 */
	UM_PK_ES256 = 2				/* "ES256", curve P-256 */
};

/* Both algorithms sign with 64 bytes. */
#define UM_PK_SIG_LEN		64
/* A JWK coordinate (32 bytes) in base64url, and its NUL. */
#define UM_PK_COORD_LEN		43

/* A loaded key: public, or private (which can also verify). */
typedef struct um_pk_key um_pk_key;

/* The JWS "alg" of an algorithm, and back (0 for any other name). */
extern const char *um_pk_alg_name(int alg);
extern int	um_pk_alg_from_name(const char *name);

/*
 * Load a DER SubjectPublicKeyInfo, or a DER PKCS#8 PrivateKeyInfo, of
 * this algorithm; NULL when the bytes are anything else (another key type
 * or curve, a truncated or padded encoding).  Free with um_pk_free.
 */
extern um_pk_key *um_pk_load_public(int alg, const uint8_t *der, size_t len);
extern um_pk_key *um_pk_load_private(int alg, const uint8_t *der, size_t len);
extern void um_pk_free(um_pk_key *key);

/*
 * A new key pair from libcrypto's random generator: *private (PKCS#8) and
 * *public (SPKI), both DER, malloc'ed.  0 on success, -1 on failure.
 */
extern int	um_pk_generate(int alg, uint8_t **private_der, size_t *private_len,
						   uint8_t **public_der, size_t *public_len);

/* Sign msg with a private key: the JWS signature.  0, or -1 on failure. */
extern int	um_pk_sign(const um_pk_key *key, const uint8_t *msg, size_t len,
					   uint8_t sig[UM_PK_SIG_LEN]);

/*
 * Whether sig is the key's JWS signature of msg: 1 when it is, 0 for any
 * other input (a wrong length included).
 */
extern int	um_pk_verify(const um_pk_key *key, const uint8_t *msg, size_t len,
						 const uint8_t *sig, size_t sig_len);

/*
 * The key's public half as DER SPKI (malloc'ed), and as PEM text
 * (malloc'ed, NUL-terminated).  0 / NULL on failure.
 */
extern int	um_pk_public_der(const um_pk_key *key, uint8_t **der, size_t *len);
extern char *um_pk_public_pem(const um_pk_key *key);

/*
 * The JWK coordinates of the public key, base64url with a NUL: x, and y
 * for P-256 (y is set to "" for Ed25519).  0, or -1 on failure.
 */
extern int	um_pk_jwk_coordinates(const um_pk_key *key,
								  char x[UM_PK_COORD_LEN + 1],
								  char y[UM_PK_COORD_LEN + 1]);

/*
 * Read a PEM public key (SPKI, "BEGIN PUBLIC KEY") of either algorithm:
 * its algorithm and its DER (malloc'ed).  0, or -1 when the text holds no
 * such key (a private key, a certificate, another curve).
 */
extern int	um_pk_public_from_pem(const char *pem, size_t len, int *alg,
								  uint8_t **der, size_t *der_len);

#endif							/* USER_MGMT_JWS_PK_H */
