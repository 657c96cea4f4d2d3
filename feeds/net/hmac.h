/*
 * HMAC-SHA256 for signed requests (signed-REST venues) and signed webhooks:
 * sign to lowercase hex, and verify a hex signature in constant time.
 *
 *   char sig[HMAC_SHA256_HEX_LEN + 1];
 *   hmac_sha256_hex(key, key_len, msg, msg_len, sig);
 *   hmac_sha256_verify_hex(key, key_len, msg, msg_len, their_hex, their_len)
 *
 * Verification compares the whole digest whatever the first difference
 * (CRYPTO_memcmp), so the time taken says nothing about where a forged
 * signature went wrong.  A signature of the wrong length, or with a
 * character that is not hex, is refused before any comparison.
 */
#ifndef FKS_FEEDS_NET_HMAC_H
#define FKS_FEEDS_NET_HMAC_H

#include <stdbool.h>
#include <stddef.h>

#define HMAC_SHA256_LEN 32
#define HMAC_SHA256_HEX_LEN 64

/* Writes 64 lowercase hex digits and a NUL to out.  0, or -1 if OpenSSL
 * failed (out is then ""). */
int hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
		    char out[HMAC_SHA256_HEX_LEN + 1]);

/* true when sig (sig_len bytes, hex, either case) is the HMAC-SHA256 of
 * msg under key. */
bool hmac_sha256_verify_hex(const void *key, size_t key_len, const void *msg, size_t msg_len, const char *sig,
			    size_t sig_len);

#endif
