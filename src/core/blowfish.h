/*
 * blowfish.h
 *		The Blowfish primitives bcrypt needs, in plain C.
 *
 * Blocks are handled as two 32-bit halves (big-endian words of the 8-byte
 * block), which is what both bcrypt and the standard test vectors use.
 */
#ifndef USER_MGMT_BLOWFISH_H
#define USER_MGMT_BLOWFISH_H

#include <stddef.h>
#include <stdint.h>

#define BLOWFISH_P_WORDS		18
#define BLOWFISH_S_BOXES		4
#define BLOWFISH_S_ENTRIES		256
#define BLOWFISH_MAX_KEY_BYTES	72	/* 18 words of key material */

/*
 * P-array followed by the four S-boxes, all contiguous, so the key schedule
 * can treat the whole state as one word array when rewriting it.
 */
typedef struct blowfish_state
{
	uint32_t	P[BLOWFISH_P_WORDS];
	uint32_t	S[BLOWFISH_S_BOXES][BLOWFISH_S_ENTRIES];
} blowfish_state;

/* The digits of pi every key schedule starts from (blowfish_tables.c). */
extern const blowfish_state blowfish_initial_state;

/* Encrypt one block in place. */
extern void blowfish_encrypt(const blowfish_state *st,
							 uint32_t *left, uint32_t *right);

/* Classic Blowfish key schedule (1..72 key bytes), for cipher test vectors. */
extern void blowfish_set_key(blowfish_state *st,
							 const uint8_t *key, size_t key_len);

/*
 * Eksblowfish's salted ExpandKey: XOR key into P, then rewrite P and the
 * S-boxes with successive encryptions of the previous block XOR the salt
 * (its 4 words cycled).
 */
extern void blowfish_expand_salted(blowfish_state *st,
								   const uint32_t key[BLOWFISH_P_WORDS],
								   const uint32_t salt[4]);

/*
 * The unsalted ExpandKey that dominates bcrypt's cost: XOR words into P,
 * then rewrite P and the S-boxes with a chain of encryptions from zero.
 */
extern void blowfish_expand(blowfish_state *st,
							const uint32_t words[BLOWFISH_P_WORDS]);

#endif							/* USER_MGMT_BLOWFISH_H */
