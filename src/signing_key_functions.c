/*
 * signing_key_functions.c
 *		The SQL functions over asymmetric signing keys (version 1.5):
 *		jwks(), public_key_pem(), import_signing_key() and the key pairs
 *		rotate_signing_key() stores (new_signing_key_material()).
 *
 * Private keys are made by libcrypto here and go straight into
 * user_mgmt.signing_keys; nothing but export_signing_key() (superusers
 * only) ever hands one out.  Public keys are public: jwks() and
 * public_key_pem() are for everyone.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "core/jws_pk.h"
#include "core/secure.h"
#include "signing_keys.h"

#ifndef USE_OPENSSL
#error "user_mgmt needs a PostgreSQL built with OpenSSL (configure --with-ssl=openssl) for its EdDSA and ES256 keys"
#endif

static void check_kid(const char *kid);

/* The algorithm named by a text argument; 22023 for any other name. */
static int
asymmetric_alg(text *name)
{
	char	   *s = text_to_cstring(name);
	int			alg = um_pk_alg_from_name(s);

	if (alg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported key algorithm \"%.32s\"", s),
				 errhint("The algorithms with key pairs are EdDSA (Ed25519) and ES256 (P-256).")));
	return alg;
}

static bytea *
bytea_of(const uint8 *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

PG_FUNCTION_INFO_V1(um_new_signing_key_material);

/*
 * new_signing_key_material(algorithm text, OUT secret bytea, OUT public_key
 * bytea): a fresh key pair, PKCS#8 and SPKI DER (internal).
 */
Datum
um_new_signing_key_material(PG_FUNCTION_ARGS)
{
	int			alg = asymmetric_alg(PG_GETARG_TEXT_PP(0));
	uint8	   *private_der;
	uint8	   *public_der;
	size_t		private_len;
	size_t		public_len;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "new_signing_key_material must return a row");
	if (um_pk_generate(alg, &private_der, &private_len, &public_der, &public_len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a %s key pair", um_pk_alg_name(alg))));
	values[0] = PointerGetDatum(bytea_of(private_der, private_len));
	values[1] = PointerGetDatum(bytea_of(public_der, public_len));
	um_wipe(private_der, private_len);
	free(private_der);
	free(public_der);
	desc = BlessTupleDesc(desc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* One key of a JSON Web Key Set (RFC 7517, RFC 8037, RFC 7518). */
static void
append_jwk(StringInfo buf, const um_signing_key *key)
{
	char		x[UM_PK_COORD_LEN + 1];
	char		y[UM_PK_COORD_LEN + 1];

	if (um_pk_jwk_coordinates(key->public_key, x, y) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not read the public key of signing key \"%s\"", key->kid)));
	if (key->alg == UM_PK_EDDSA)
		appendStringInfo(buf, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"", x);
	else
		appendStringInfo(buf, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"", x, y);
	appendStringInfoString(buf, ",\"kid\":");
	escape_json(buf, key->kid);
	appendStringInfo(buf, ",\"alg\":\"%s\",\"use\":\"sig\"}", key->alg_name);
}

PG_FUNCTION_INFO_V1(um_jwks);

/*
 * jwks() returns jsonb: the public keys of every unretired key pair made
 * here, as a JSON Web Key Set, for services that verify our tokens
 * without any secret.  Imported keys (other services') are not ours to
 * publish; HS256 keys have nothing public.
 */
Datum
um_jwks(PG_FUNCTION_ARGS)
{
	int			n;
	const um_signing_key *keys = um_signing_keys(&n);
	StringInfoData buf;
	bool		first = true;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"keys\":[");
	for (i = 0; i < n; i++)
	{
		if (keys[i].alg == UM_KEY_HS256 || !keys[i].can_sign)
			continue;
		if (!first)
			appendStringInfoChar(&buf, ',');
		append_jwk(&buf, &keys[i]);
		first = false;
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

PG_FUNCTION_INFO_V1(um_public_key_pem);

/* public_key_pem(kid text) returns text: an unretired key's public half */
Datum
um_public_key_pem(PG_FUNCTION_ARGS)
{
	char	   *kid = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const um_signing_key *key;
	char	   *pem;
	text	   *result;

	check_kid(kid);
	key = um_find_signing_key(kid);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no active signing key \"%s\"", kid)));
	if (key->alg == UM_KEY_HS256)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("signing key \"%s\" is HS256 and has no public key", kid),
				 errdetail("An HS256 key is one shared secret; only EdDSA and ES256 keys have a public half.")));
	pem = um_pk_public_pem(key->public_key);
	if (pem == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not write the public key of signing key \"%s\"", kid)));
	result = cstring_to_text(pem);
	free(pem);
	PG_RETURN_TEXT_P(result);
}

/* A kid as tokens carry it: 1 to 64 base64url characters. */
static void
check_kid(const char *kid)
{
	size_t		len = strlen(kid);
	size_t		i;

	for (i = 0; i < len; i++)
		if (!((kid[i] >= 'A' && kid[i] <= 'Z') || (kid[i] >= 'a' && kid[i] <= 'z') ||
			  (kid[i] >= '0' && kid[i] <= '9') || kid[i] == '-' || kid[i] == '_'))
			break;
	/* Echo a key id only when it is short: this is open to PUBLIC. */
	if (len == 0 || len > JWS_KID_MAX || i < len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 len > JWS_KID_MAX ?
				 errmsg("invalid key id of %zu characters", len) :
				 errmsg("invalid key id \"%s\"", kid),
				 errdetail("A key id is 1 to %d characters of A-Z, a-z, 0-9, - and _.", JWS_KID_MAX)));
}

PG_FUNCTION_INFO_V1(um_import_signing_key);

/*
 * import_signing_key(kid text, algorithm text, public_key text): a public
 * key, in PEM, of a service whose tokens this database is to accept.  It
 * verifies tokens with its kid and its algorithm only; it never signs, and
 * jwks() does not publish it.  Superusers only: whoever may import a key
 * may mint every token.
 */
Datum
um_import_signing_key(PG_FUNCTION_ARGS)
{
	char	   *kid;
	int			alg;
	text	   *pem = PG_GETARG_TEXT_PP(2);
	int			pem_alg;
	uint8	   *der;
	size_t		der_len;
	Oid			types[3] = {TEXTOID, TEXTOID, BYTEAOID};
	Datum		values[3];

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may import signing keys"),
				 errdetail("Whoever holds the private half of an imported key can sign any token this database accepts.")));
	kid = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_kid(kid);
	alg = asymmetric_alg(PG_GETARG_TEXT_PP(1));
	if (um_pk_public_from_pem(VARDATA_ANY(pem), VARSIZE_ANY_EXHDR(pem), &pem_alg,
							  &der, &der_len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a public key for EdDSA or ES256"),
				 errdetail("public_key must be one PEM \"PUBLIC KEY\" block, alone, of a sound Ed25519 or P-256 key.")));
	if (pem_alg != alg)
	{
		free(der);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the key is for %s, not %s", um_pk_alg_name(pem_alg), um_pk_alg_name(alg))));
	}
	values[0] = CStringGetTextDatum(kid);
	values[1] = CStringGetTextDatum(um_pk_alg_name(alg));
	values[2] = PointerGetDatum(bytea_of(der, der_len));
	free(der);

	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO user_mgmt.signing_keys (kid, algorithm, public_key)"
							  " VALUES ($1, $2, $3)", 3, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the imported key");
	SPI_finish();
	PG_RETURN_VOID();
}
