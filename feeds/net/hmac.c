/* HMAC-SHA256 sign and constant-time verify (hmac.h), with OpenSSL. */
#include "feeds/net/hmac.h"

#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static int digest(const void *key, size_t key_len, const void *msg, size_t msg_len,
		  unsigned char out[HMAC_SHA256_LEN])
{
	unsigned int len = 0;
	if (key_len > INT32_MAX)
		return -1;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len) || len != HMAC_SHA256_LEN)
		return -1;
	return 0;
}

int hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
		    char out[HMAC_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[HMAC_SHA256_LEN];
	out[0] = 0;
	if (digest(key, key_len, msg, msg_len, d))
		return -1;
	for (size_t i = 0; i < HMAC_SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[HMAC_SHA256_HEX_LEN] = 0;
	OPENSSL_cleanse(d, sizeof d);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hmac_sha256_verify_hex(const void *key, size_t key_len, const void *msg, size_t msg_len, const char *sig,
			    size_t sig_len)
{
	if (!sig || sig_len != HMAC_SHA256_HEX_LEN)
		return false;
	unsigned char theirs[HMAC_SHA256_LEN], ours[HMAC_SHA256_LEN];
	for (size_t i = 0; i < HMAC_SHA256_LEN; i++) {
		int hi = hex_value(sig[2 * i]), lo = hex_value(sig[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		theirs[i] = (unsigned char)(hi << 4 | lo);
	}
	if (digest(key, key_len, msg, msg_len, ours))
		return false;
	bool same = CRYPTO_memcmp(ours, theirs, HMAC_SHA256_LEN) == 0;
	OPENSSL_cleanse(ours, sizeof ours);
	return same;
}
