/* feeds/net/hmac: HMAC-SHA256 sign to hex and constant-time verify. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "feeds/net/hmac.h"

/* Binance's documented example of a SIGNED endpoint (spot API docs,
 * "SIGNED Endpoint Examples for POST /api/v3/order"). */
static const char key[] = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
static const char query[] = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&"
			    "recvWindow=5000&timestamp=1499827319559";
static const char expected[] = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";

Test(hmac, signs_binance_documented_vector)
{
	char sig[HMAC_SHA256_HEX_LEN + 1];
	cr_assert_eq(hmac_sha256_hex(key, strlen(key), query, strlen(query), sig), 0);
	cr_assert_str_eq(sig, expected);
}

Test(hmac, verifies_the_right_signature_in_either_case)
{
	cr_assert(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), expected, strlen(expected)));
	char upper[sizeof expected];
	for (size_t i = 0; i < sizeof expected; i++)
		upper[i] = (char)(expected[i] >= 'a' && expected[i] <= 'f' ? expected[i] - 32 : expected[i]);
	cr_assert(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), upper, strlen(upper)));
}

Test(hmac, rejects_a_wrong_key)
{
	char other[sizeof key];
	memcpy(other, key, sizeof key);
	other[0] ^= 1;
	cr_assert_not(hmac_sha256_verify_hex(other, strlen(other), query, strlen(query), expected, strlen(expected)));
}

Test(hmac, rejects_a_changed_message_and_a_changed_signature)
{
	char msg[sizeof query];
	memcpy(msg, query, sizeof query);
	msg[sizeof query - 2] ^= 1; /* the last digit of the timestamp */
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), msg, strlen(msg), expected, strlen(expected)));
	char sig[sizeof expected];
	memcpy(sig, expected, sizeof expected);
	sig[63] = sig[63] == '0' ? '1' : '0';
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), sig, strlen(sig)));
}

Test(hmac, rejects_wrong_lengths_and_non_hex)
{
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), expected, 63),
		      "a truncated signature");
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), expected, 0));
	char longer[HMAC_SHA256_HEX_LEN + 3];
	snprintf(longer, sizeof longer, "%s00", expected);
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), longer, strlen(longer)),
		      "a signature with bytes appended");
	char bad[sizeof expected];
	memcpy(bad, expected, sizeof expected);
	bad[10] = 'g';
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), bad, strlen(bad)));
	cr_assert_not(hmac_sha256_verify_hex(key, strlen(key), query, strlen(query), NULL, 64));
}
