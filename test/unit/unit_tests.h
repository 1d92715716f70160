/*
 * unit_tests.h
 *		The groups of core unit tests; each lives in its own file.
 */
#ifndef USER_MGMT_UNIT_TESTS_H
#define USER_MGMT_UNIT_TESTS_H

extern void test_blowfish(void);
extern void test_bcrypt_kat(const char *tsv_path);
extern void test_bcrypt(void);
extern void test_bcrypt_parse(void);
extern void test_secure(void);
extern void test_base64url(void);
extern void test_json_scan(void);
extern void test_jws(void);
extern void test_uuid_text(void);
extern void test_jws_pk(void);
extern void test_hmac_sha256(void);

#endif							/* USER_MGMT_UNIT_TESTS_H */
