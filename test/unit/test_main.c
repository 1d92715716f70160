/*
 * test_main.c
 *		Runs every core unit test group; argv[1] is the KAT TSV file.
 */
#include <stdio.h>

#include "tap.h"
#include "unit_tests.h"

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s bcrypt_kat.tsv\n", argv[0]);
		return 2;
	}
	test_blowfish();
	test_secure();
	test_bcrypt_parse();
	test_bcrypt();
	test_bcrypt_kat(argv[1]);
	test_base64url();
	test_json_scan();
	test_jws();
	test_uuid_text();
	test_jws_pk();
	test_hmac_sha256();
	return tap_done();
}
