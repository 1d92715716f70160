/*
 * hmac_sha256.c
 *		HMAC-SHA256 from precomputed key states (see hmac_sha256.h).
 */
#include "hmac_sha256.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define BLOCK 64				/* SHA-256's block */

struct um_hmac_key
{
	EVP_MD_CTX *inner;			/* SHA-256 after (key ^ ipad) */
	EVP_MD_CTX *outer;			/* SHA-256 after (key ^ opad) */
};

/* Fetched once per process; a MAC copies states into one work context. */
static EVP_MD *sha256 = NULL;
static EVP_MD_CTX *work = NULL;

static int
ready(void)
{
	if (sha256 == NULL)
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (work == NULL)
		work = EVP_MD_CTX_new();
	return sha256 != NULL && work != NULL;
}

static EVP_MD_CTX *
state_after(const uint8_t block[BLOCK])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx != NULL &&
		(EVP_DigestInit_ex(ctx, sha256, NULL) != 1 ||
		 EVP_DigestUpdate(ctx, block, BLOCK) != 1))
	{
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

um_hmac_key *
um_hmac_key_new(const uint8_t *secret, size_t len)
{
	uint8_t		k[BLOCK] = {0};
	uint8_t		pad[BLOCK];
	unsigned int n;
	um_hmac_key *key = NULL;
	int			i;

	if (!ready() || (key = calloc(1, sizeof(um_hmac_key))) == NULL)
		goto done;
	/* RFC 2104: a key longer than a block is hashed first. */
	if (len > BLOCK)
	{
		if (EVP_Digest(secret, len, k, &n, sha256, NULL) != 1)
			goto fail;
	}
	else if (len > 0)
		memcpy(k, secret, len);
	for (i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	key->inner = state_after(pad);
	for (i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	key->outer = state_after(pad);
	if (key->inner != NULL && key->outer != NULL)
		goto done;
fail:
	um_hmac_key_free(key);
	key = NULL;
done:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	ERR_clear_error();
	return key;
}

void
um_hmac_key_free(um_hmac_key *key)
{
	if (key == NULL)
		return;
	EVP_MD_CTX_free(key->inner);
	EVP_MD_CTX_free(key->outer);
	free(key);
}

int
um_hmac_sha256(const um_hmac_key *key, const uint8_t *data, size_t len,
			   uint8_t mac[UM_HMAC_SHA256_LEN])
{
	uint8_t		inner[UM_HMAC_SHA256_LEN];
	unsigned int n;
	int			ok;

	ok = EVP_MD_CTX_copy_ex(work, key->inner) == 1 &&
		EVP_DigestUpdate(work, data, len) == 1 &&
		EVP_DigestFinal_ex(work, inner, &n) == 1 &&
		EVP_MD_CTX_copy_ex(work, key->outer) == 1 &&
		EVP_DigestUpdate(work, inner, sizeof(inner)) == 1 &&
		EVP_DigestFinal_ex(work, mac, &n) == 1;
	OPENSSL_cleanse(inner, sizeof(inner));
	/* The work context holds no key state once finalized, but be sure. */
	EVP_MD_CTX_reset(work);
	ERR_clear_error();
	return ok ? 0 : -1;
}
