/*
 * signing_keys.c
 *		A per-backend cache of user_mgmt.signing_keys, and the trigger that
 *		keeps every backend's cache honest.
 *
 * Verifying a token must not cost a table scan.  Each backend loads the
 * unretired keys once; the statement trigger on signing_keys sends a
 * relcache invalidation for the table, which reaches this backend's
 * callback (for its own changes at once, for others' at their commit) and
 * empties the cache.  Keys are read with a snapshot taken at that moment,
 * not the caller's (which under REPEATABLE READ could predate a key's
 * retirement).  Reading the table here needs no SELECT privilege: the
 * keys are the extension's own, and only its functions use them.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/base64url.h"
#include "signing_keys.h"
#include "user_mgmt.h"

static MemoryContext keys_context = NULL;
static um_signing_key *keys = NULL;
static int	nkeys = 0;
static int	current_key = -1;
static bool keys_valid = false;
static Oid	keys_relid = InvalidOid;

/* Moves on whenever the cache is dropped: what was checked with it is stale. */
static uint64 keys_generation = 0;

static void
invalidate_keys(Datum arg pg_attribute_unused(), Oid relid)
{
	if (relid == InvalidOid || relid == keys_relid)
	{
		keys_valid = false;
		keys_generation++;
	}
}

uint64
um_signing_keys_generation(void)
{
	return keys_generation;
}

void
um_signing_keys_init(void)
{
	CacheRegisterRelcacheCallback(invalidate_keys, (Datum) 0);
}

/* The JOSE header of tokens signed with a key, base64url-encoded. */
static void
encode_header(um_signing_key *key)
{
	char	   *json = psprintf("{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
								key->alg_name, key->kid);
	size_t		len = strlen(json);

	key->header_b64_len = um_b64url_encoded_len(len);
	key->header_b64 = palloc(key->header_b64_len + 1);
	um_b64url_encode((const uint8 *) json, len, key->header_b64);
	key->header_b64[key->header_b64_len] = '\0';
}

static AttrNumber
column_number(Oid relid, const char *name)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "column user_mgmt.signing_keys.%s does not exist", name);
	return attnum;
}

/* libcrypto's keys and MAC states are in no memory context: free them with it. */
static void
free_pk_keys(void *arg pg_attribute_unused())
{
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		um_hmac_key_free(keys[i].hmac);
		um_pk_free(keys[i].private_key);
		um_pk_free(keys[i].public_key);
		keys[i].hmac = NULL;
		keys[i].private_key = keys[i].public_key = NULL;
	}
	nkeys = 0;
}

static bytea *
bytea_column(TupleTableSlot *slot, AttrNumber col)
{
	bool		isnull;
	Datum		d;

	if (col == InvalidAttrNumber)
		return NULL;
	d = slot_getattr(slot, col, &isnull);
	return isnull ? NULL : DatumGetByteaPCopy(d);
}

/*
 * Fill in a key's material from its row; false (with a WARNING) when the
 * row holds nothing this build can use, so the key is left out.
 */
static bool
load_material(um_signing_key *key, const char *alg_name, bytea *secret, bytea *public_key)
{
	key->alg = strcmp(alg_name, "HS256") == 0 ? UM_KEY_HS256 : um_pk_alg_from_name(alg_name);
	if (key->alg == UM_KEY_HS256 && strcmp(alg_name, "HS256") == 0 && secret != NULL)
	{
		key->alg_name = "HS256";
		key->hmac = um_hmac_key_new((const uint8 *) VARDATA(secret), VARSIZE(secret) - VARHDRSZ);
		key->can_sign = key->hmac != NULL;
		if (key->hmac != NULL)
			return true;
	}
	if (key->alg != UM_KEY_HS256 && public_key != NULL)
	{
		key->alg_name = um_pk_alg_name(key->alg);
		key->public_key = um_pk_load_public(key->alg, (const uint8 *) VARDATA(public_key),
											VARSIZE(public_key) - VARHDRSZ);
		if (secret != NULL)
			key->private_key = um_pk_load_private(key->alg, (const uint8 *) VARDATA(secret),
												  VARSIZE(secret) - VARHDRSZ);
		key->can_sign = key->private_key != NULL;
		if (key->public_key != NULL && (secret == NULL || key->private_key != NULL))
			return true;
		um_pk_free(key->public_key);
		um_pk_free(key->private_key);
		key->public_key = key->private_key = NULL;
	}
	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("signing key \"%s\" cannot be used and is left out", key->kid),
			 errdetail("Its algorithm is \"%s\", and its key material does not fit it.", alg_name)));
	return false;
}

static void
load_keys(void)
{
	Oid			nsp = get_namespace_oid("user_mgmt", false);
	Oid			relid = get_relname_relid("signing_keys", nsp);
	AttrNumber	kid_col,
				secret_col,
				created_col,
				retired_col,
				alg_col,
				public_col,
				signs_col;
	MemoryContextCallback *cleanup;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	MemoryContext old;
	TimestampTz newest = DT_NOBEGIN;
	TimestampTz newest_created = DT_NOBEGIN;
	int			capacity = 4;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table user_mgmt.signing_keys does not exist"),
				 errhint("Update the extension: ALTER EXTENSION user_mgmt UPDATE.")));

	kid_col = column_number(relid, "kid");
	secret_col = column_number(relid, "secret");
	created_col = column_number(relid, "created_at");
	retired_col = column_number(relid, "retired_at");
	/* Before 1.5 every key is HS256. */
	alg_col = get_attnum(relid, "algorithm");
	public_col = get_attnum(relid, "public_key");
	signs_col = get_attnum(relid, "signs_since");

	if (keys_context == NULL)
		keys_context = AllocSetContextCreate(TopMemoryContext,
											 "user_mgmt signing keys",
											 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(keys_context);
	keys = NULL;
	nkeys = 0;
	current_key = -1;
	keys_relid = relid;
	cleanup = MemoryContextAlloc(keys_context, sizeof(MemoryContextCallback));
	cleanup->func = free_pk_keys;
	cleanup->arg = NULL;
	MemoryContextRegisterResetCallback(keys_context, cleanup);

	rel = table_open(relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	/* For a table that is no catalog, a catalog snapshot is always new. */
	snapshot = RegisterSnapshot(GetCatalogSnapshot(relid));
	scan = table_beginscan(rel, snapshot, 0, NULL);

	old = MemoryContextSwitchTo(keys_context);
	keys = palloc0(sizeof(um_signing_key) * capacity);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		kid;
		char		alg_name[16] = "HS256";
		TimestampTz created;
		TimestampTz signs;
		um_signing_key *key;

		slot_getattr(slot, retired_col, &isnull);
		if (!isnull)
			continue;			/* retired keys neither sign nor verify */

		if (nkeys == capacity)
		{
			capacity *= 2;
			keys = repalloc(keys, sizeof(um_signing_key) * capacity);
		}
		key = &keys[nkeys];
		memset(key, 0, sizeof(*key));

		kid = slot_getattr(slot, kid_col, &isnull);
		text_to_cstring_buffer(DatumGetTextPP(kid), key->kid, sizeof(key->kid));
		if (alg_col != InvalidAttrNumber)
			text_to_cstring_buffer(DatumGetTextPP(slot_getattr(slot, alg_col, &isnull)),
								   alg_name, sizeof(alg_name));
		/* Counted at once: the cleanup frees what a failure leaves behind. */
		nkeys++;
		if (!load_material(key, alg_name, bytea_column(slot, secret_col),
						   bytea_column(slot, public_col)))
		{
			nkeys--;
			continue;
		}
		encode_header(key);

		/* 1.5: the key with the latest signs_since (NULL: created_at) signs. */
		created = DatumGetTimestampTz(slot_getattr(slot, created_col, &isnull));
		signs = created;
		if (signs_col != InvalidAttrNumber)
		{
			Datum		d = slot_getattr(slot, signs_col, &isnull);

			if (!isnull)
				signs = DatumGetTimestampTz(d);
		}
		if (key->can_sign &&
			(current_key < 0 || signs > newest ||
			 (signs == newest && created > newest_created)))
		{
			newest = signs;
			newest_created = created;
			current_key = nkeys - 1;
		}
	}
	MemoryContextSwitchTo(old);

	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);

	keys_valid = true;
}

static void
ensure_keys(void)
{
	if (!keys_valid)
		load_keys();
}

const um_signing_key *
um_current_signing_key(void)
{
	ensure_keys();
	return current_key >= 0 ? &keys[current_key] : NULL;
}

const um_signing_key *
um_signing_keys(int *n)
{
	ensure_keys();
	*n = nkeys;
	return keys;
}

const um_signing_key *
um_find_signing_key(const char *kid)
{
	int			i;

	ensure_keys();
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].kid, kid) == 0)
			return &keys[i];
	return NULL;
}
