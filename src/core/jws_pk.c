/*
 * jws_pk.c
 *		EdDSA (Ed25519) and ES256 (P-256) JWS signatures on libcrypto
 *		(see jws_pk.h).
 */
#include "jws_pk.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base64url.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "user_mgmt's EdDSA and ES256 keys need OpenSSL 3.0 or later"
#endif

/* Each half of an ES256 signature, and each JWK coordinate. */
#define COORD_BYTES 32
/* Room for a DER ECDSA-Sig-Value of P-256: two INTEGERs of up to 33 bytes. */
#define ECDSA_DER_MAX 72

struct um_pk_key
{
	int			alg;
	EVP_PKEY   *pkey;
};

const char *
um_pk_alg_name(int alg)
{
	switch (alg)
	{
		case UM_PK_EDDSA:
			return "EdDSA";
		case UM_PK_ES256:
			return "ES256";
	}
	return NULL;
}

int
um_pk_alg_from_name(const char *name)
{
	if (strcmp(name, "EdDSA") == 0)
		return UM_PK_EDDSA;
	if (strcmp(name, "ES256") == 0)
		return UM_PK_ES256;
	return 0;
}

/* The algorithm a libcrypto key is for, or 0 for any other key. */
static int
alg_of(EVP_PKEY *pkey)
{
	char		group[64];
	size_t		group_len;

	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519)
		return UM_PK_EDDSA;
	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_EC &&
		EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) == 1 &&
		strcmp(group, SN_X9_62_prime256v1) == 0)
		return UM_PK_ES256;
	return 0;
}

/*
 * Ed25519 public keys that let anyone sign anything: the points of small
 * order (each with either sign bit), which verify R = that point, S = 0
 * for every message, and the encodings of a y not below the field's prime
 * (libsodium refuses the same set).  Facts of the curve, checked with an
 * independent implementation of its arithmetic.
 */
static const uint8_t small_order[][COORD_BYTES] = {
	/* 0 (order 4) */
	{0},
	/* 1 (order 1: the identity) */
	{0x01},
	/* order 8 */
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89,
		0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
	0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	/* order 8 */
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76,
		0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6,
	0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
	/* p - 1 (order 2) */
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

/* Whether a raw Ed25519 public key is one no signature may be trusted to. */
static int
weak_ed25519(const uint8_t raw[COORD_BYTES])
{
	size_t		i;
	int			j;
	int			below_p = 0;

	for (i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
	{
		uint8_t		diff = (uint8_t) ((raw[31] & 0x7f) ^ small_order[i][31]);

		for (j = 0; j < 31; j++)
			diff |= raw[j] ^ small_order[i][j];
		if (diff == 0)
			return 1;
	}
	/* y (the low 255 bits) must be below p = 2^255 - 19: 0x7fff...ffed. */
	if ((raw[31] & 0x7f) != 0x7f)
		return 0;
	for (j = 30; j > 0 && !below_p; j--)
		below_p = raw[j] != 0xff;
	return below_p ? 0 : raw[0] >= 0xed;
}

/* Whether a public key is one that signatures can be trusted to. */
static int
sound_public_key(int alg, EVP_PKEY *pkey)
{
	if (alg == UM_PK_EDDSA)
	{
		uint8_t		raw[COORD_BYTES];
		size_t		n = sizeof(raw);

		return EVP_PKEY_get_raw_public_key(pkey, raw, &n) == 1 &&
			n == COORD_BYTES && !weak_ed25519(raw);
	}
	else
	{
		/* On the curve, not the point at infinity, of the group's order. */
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		int			ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

		EVP_PKEY_CTX_free(ctx);
		return ok;
	}
}

/* Wrap a libcrypto key of algorithm alg; frees it and NULL otherwise. */
static um_pk_key *
wrap(int alg, EVP_PKEY *pkey)
{
	um_pk_key  *key;

	if (pkey == NULL || alg_of(pkey) != alg || !sound_public_key(alg, pkey) ||
		(key = malloc(sizeof(um_pk_key))) == NULL)
	{
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return NULL;
	}
	key->alg = alg;
	key->pkey = pkey;
	return key;
}

um_pk_key *
um_pk_load_public(int alg, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY   *pkey;

	if (len == 0 || len > LONG_MAX)
		return NULL;
	pkey = d2i_PUBKEY(NULL, &p, (long) len);
	if (pkey != NULL && p != der + len)
	{
		EVP_PKEY_free(pkey);	/* bytes after the key */
		pkey = NULL;
	}
	return wrap(alg, pkey);
}

um_pk_key *
um_pk_load_private(int alg, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *info;
	EVP_PKEY   *pkey = NULL;

	if (len == 0 || len > LONG_MAX)
		return NULL;
	info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long) len);
	if (info != NULL && p == der + len)
		pkey = EVP_PKCS82PKEY(info);
	PKCS8_PRIV_KEY_INFO_free(info);
	return wrap(alg, pkey);
}

void
um_pk_free(um_pk_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* i2d_* into a fresh malloc'ed buffer; 0, or -1 on failure. */
static int
export_der(EVP_PKEY *pkey, int private_part, uint8_t **out, size_t *out_len)
{
	PKCS8_PRIV_KEY_INFO *info = NULL;
	unsigned char *p;
	int			n;

	*out = NULL;
	if (private_part)
	{
		info = EVP_PKEY2PKCS8(pkey);
		n = info != NULL ? i2d_PKCS8_PRIV_KEY_INFO(info, NULL) : -1;
	}
	else
		n = i2d_PUBKEY(pkey, NULL);
	if (n > 0 && (*out = malloc(n)) != NULL)
	{
		p = *out;
		if ((private_part ? i2d_PKCS8_PRIV_KEY_INFO(info, &p) : i2d_PUBKEY(pkey, &p)) != n)
		{
			free(*out);
			*out = NULL;
		}
	}
	PKCS8_PRIV_KEY_INFO_free(info);
	*out_len = *out != NULL ? (size_t) n : 0;
	return *out != NULL ? 0 : -1;
}

int
um_pk_generate(int alg, uint8_t **private_der, size_t *private_len,
			   uint8_t **public_der, size_t *public_len)
{
	EVP_PKEY   *pkey = NULL;
	int			rc = -1;

	*private_der = *public_der = NULL;
	if (alg == UM_PK_EDDSA)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == UM_PK_ES256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pkey != NULL &&
		export_der(pkey, 1, private_der, private_len) == 0 &&
		export_der(pkey, 0, public_der, public_len) == 0)
		rc = 0;
	else if (*private_der != NULL)
	{
		OPENSSL_cleanse(*private_der, *private_len);
		free(*private_der);
		*private_der = NULL;
	}
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* libcrypto's DER ECDSA signature as JWS's R || S, each 32 bytes. */
static int
ecdsa_der_to_raw(const unsigned char *der, size_t len, uint8_t sig[UM_PK_SIG_LEN])
{
	const unsigned char *p = der;
	ECDSA_SIG  *es = d2i_ECDSA_SIG(NULL, &p, (long) len);
	const BIGNUM *r;
	const BIGNUM *s;
	int			ok;

	if (es == NULL)
		return -1;
	ECDSA_SIG_get0(es, &r, &s);
	ok = BN_bn2binpad(r, sig, COORD_BYTES) == COORD_BYTES &&
		BN_bn2binpad(s, sig + COORD_BYTES, COORD_BYTES) == COORD_BYTES;
	ECDSA_SIG_free(es);
	return ok ? 0 : -1;
}

/* JWS's R || S as the DER libcrypto checks; its length, or -1. */
static int
ecdsa_raw_to_der(const uint8_t sig[UM_PK_SIG_LEN], unsigned char der[ECDSA_DER_MAX])
{
	ECDSA_SIG  *es = ECDSA_SIG_new();
	BIGNUM	   *r = BN_bin2bn(sig, COORD_BYTES, NULL);
	BIGNUM	   *s = BN_bin2bn(sig + COORD_BYTES, COORD_BYTES, NULL);
	unsigned char *p = der;
	int			n = -1;

	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1)
	{
		r = s = NULL;			/* es owns them now */
		if (i2d_ECDSA_SIG(es, NULL) <= ECDSA_DER_MAX)
			n = i2d_ECDSA_SIG(es, &p);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return n;
}

int
um_pk_sign(const um_pk_key *key, const uint8_t *msg, size_t len,
		   uint8_t sig[UM_PK_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[ECDSA_DER_MAX];
	size_t		n;
	int			rc = -1;

	if (ctx == NULL)
		return -1;
	if (key->alg == UM_PK_EDDSA)
	{
		n = UM_PK_SIG_LEN;
		if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
			EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == UM_PK_SIG_LEN)
			rc = 0;
	}
	else
	{
		n = sizeof(der);
		if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
			EVP_DigestSign(ctx, der, &n, msg, len) == 1)
			rc = ecdsa_der_to_raw(der, n, sig);
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
um_pk_verify(const um_pk_key *key, const uint8_t *msg, size_t len,
			 const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx;
	unsigned char der[ECDSA_DER_MAX];
	int			n;
	int			valid = 0;

	if (sig_len != UM_PK_SIG_LEN || (ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (key->alg == UM_PK_EDDSA)
		valid = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
			EVP_DigestVerify(ctx, sig, UM_PK_SIG_LEN, msg, len) == 1;
	else if ((n = ecdsa_raw_to_der(sig, der)) > 0)
		valid = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
			EVP_DigestVerify(ctx, der, (size_t) n, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return valid;
}

int
um_pk_public_der(const um_pk_key *key, uint8_t **der, size_t *len)
{
	int			rc = export_der(key->pkey, 0, der, len);

	ERR_clear_error();
	return rc;
}

char *
um_pk_public_pem(const um_pk_key *key)
{
	BIO		   *bio = BIO_new(BIO_s_mem());
	char	   *data;
	char	   *pem = NULL;
	long		n;

	if (bio != NULL && PEM_write_bio_PUBKEY(bio, key->pkey) == 1 &&
		(n = BIO_get_mem_data(bio, &data)) > 0 &&
		(pem = malloc((size_t) n + 1)) != NULL)
	{
		memcpy(pem, data, (size_t) n);
		pem[n] = '\0';
	}
	BIO_free(bio);
	ERR_clear_error();
	return pem;
}

/* A 32-byte big number as a base64url JWK coordinate. */
static int
encode_coordinate(const BIGNUM *bn, char out[UM_PK_COORD_LEN + 1])
{
	uint8_t		raw[COORD_BYTES];

	if (bn == NULL || BN_bn2binpad(bn, raw, COORD_BYTES) != COORD_BYTES)
		return -1;
	um_b64url_encode(raw, COORD_BYTES, out);
	out[UM_PK_COORD_LEN] = '\0';
	return 0;
}

int
um_pk_jwk_coordinates(const um_pk_key *key, char x[UM_PK_COORD_LEN + 1],
					  char y[UM_PK_COORD_LEN + 1])
{
	int			rc = -1;

	x[0] = y[0] = '\0';
	if (key->alg == UM_PK_EDDSA)
	{
		uint8_t		raw[COORD_BYTES];
		size_t		n = sizeof(raw);

		if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &n) == 1 && n == COORD_BYTES)
		{
			um_b64url_encode(raw, COORD_BYTES, x);
			x[UM_PK_COORD_LEN] = '\0';
			rc = 0;
		}
	}
	else
	{
		BIGNUM	   *bx = NULL;
		BIGNUM	   *by = NULL;

		if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
			EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
			encode_coordinate(bx, x) == 0 && encode_coordinate(by, y) == 0)
			rc = 0;
		BN_free(bx);
		BN_free(by);
	}
	ERR_clear_error();
	return rc;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
um_pk_public_from_pem(const char *pem, size_t len, int *alg,
					  uint8_t **der, size_t *der_len)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	BIO		   *bio = NULL;
	char	   *name = NULL;
	char	   *header = NULL;
	unsigned char *data = NULL;
	long		data_len = 0;
	size_t		start = 0;
	um_pk_key  *key = NULL;
	int			rc = -1;
	char		rest;

	*der = NULL;
	*alg = 0;
	/* Exactly one "PUBLIC KEY" block, with nothing but white space around. */
	while (start < len && is_space(pem[start]))
		start++;
	if (len > INT_MAX || len - start < sizeof(begin) - 1 ||
		memcmp(pem + start, begin, sizeof(begin) - 1) != 0)
		return -1;
	bio = BIO_new_mem_buf(pem + start, (int) (len - start));
	if (bio != NULL &&
		PEM_read_bio(bio, &name, &header, &data, &data_len) == 1 &&
		strcmp(name, PEM_STRING_PUBLIC) == 0 && header[0] == '\0')
	{
		int			junk = 0;

		while (!junk && BIO_read(bio, &rest, 1) == 1)
			junk = !is_space(rest);
		if (!junk)
			rc = 0;
	}
	if (rc == 0)
	{
		rc = -1;
		if ((key = um_pk_load_public(UM_PK_EDDSA, data, (size_t) data_len)) != NULL ||
			(key = um_pk_load_public(UM_PK_ES256, data, (size_t) data_len)) != NULL)
		{
			*alg = key->alg;
			rc = um_pk_public_der(key, der, der_len);
		}
	}
	um_pk_free(key);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}
