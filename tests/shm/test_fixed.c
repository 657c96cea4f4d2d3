/*
 * Tests for shm/fixed.c: exact decimal <-> int64 fixed point.
 *
 * Expected values are written by hand or computed here by other means
 * (snprintf of integer parts, a slow 128-bit reference parser), never taken
 * from the functions under test.  Random inputs come from a fixed-seed
 * xorshift, so every run checks the same cases.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm/fixed.h"

/* What *out holds before a call: an error must leave it there. */
#define UNTOUCHED ((int64_t)0x5a5a5a5a5a5a5a5aLL)

/* ---- helpers ----------------------------------------------------------- */

/*
 * Copies s[0..len) so that it ends exactly where an inaccessible page
 * begins, then parses it there: a read past len crashes the test instead of
 * passing by luck.  Works without AddressSanitizer.
 */
static int parse_at_page_end(const char *s, size_t len, unsigned scale, int64_t *out)
{
	static char *guarded_page;
	static size_t page_size;

	if (guarded_page == NULL) {
		page_size = (size_t)sysconf(_SC_PAGESIZE);
		char *map = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		cr_assert_neq(map, MAP_FAILED, "mmap of the guard pages failed");
		cr_assert_eq(mprotect(map + page_size, page_size, PROT_NONE), 0);
		guarded_page = map;
	}
	cr_assert_leq(len, page_size, "test string longer than a page");

	char *copy = guarded_page + page_size - len;

	if (len > 0)
		memcpy(copy, s, len);
	return fx_parse(copy, len, scale, out);
}

#define expect_value_len(text, len, scale, want)                                      \
	do {                                                                          \
		int64_t got_ = UNTOUCHED;                                             \
		int status_ = parse_at_page_end((text), (len), (scale), &got_);       \
		cr_assert_eq(status_, FX_OK, "\"%s\" at scale %u: status %d (%s)",    \
			     (text), (unsigned)(scale), status_, fx_strerror(status_)); \
		cr_assert_eq(got_, (int64_t)(want),                                   \
			     "\"%s\" at scale %u: got %" PRId64 ", want %" PRId64,    \
			     (text), (unsigned)(scale), got_, (int64_t)(want));       \
	} while (0)

#define expect_value(text, scale, want) expect_value_len((text), strlen(text), (scale), (want))

#define expect_error_len(text, len, scale, want_status)                               \
	do {                                                                          \
		int64_t got_ = UNTOUCHED;                                             \
		int status_ = parse_at_page_end((text), (len), (scale), &got_);       \
		cr_assert_eq(status_, (want_status),                                  \
			     "\"%s\" at scale %u: status %d (%s), want %d (%s)",      \
			     (text), (unsigned)(scale), status_, fx_strerror(status_), \
			     (want_status), fx_strerror(want_status));                \
		cr_assert_eq(got_, UNTOUCHED, "\"%s\": *out written on error", (text)); \
	} while (0)

#define expect_error(text, scale, want_status) \
	expect_error_len((text), strlen(text), (scale), (want_status))

struct xorshift {
	uint64_t state;
};

static uint64_t next_random(struct xorshift *rng)
{
	uint64_t x = rng->state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng->state = x;
	return x;
}

/* 10^n by repeated multiplication, so no test depends on fx_pow10. */
static uint64_t power_of_ten(unsigned n)
{
	uint64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* The text fx_format must produce, built from snprintf of the integer and
 * fractional parts. */
static void expected_text(int64_t v, unsigned scale, char *buf, size_t cap)
{
	uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	const char *sign = v < 0 ? "-" : "";

	if (scale == 0) {
		snprintf(buf, cap, "%s%" PRIu64, sign, magnitude);
	} else {
		uint64_t unit = power_of_ten(scale);

		snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, sign, magnitude / unit,
			 (int)scale, magnitude % unit);
	}
}

/* digits with a '.' put before the last `scale` of them, after `sign`. */
static void place_point(const char *sign, const char *digits, unsigned scale, char *buf,
			size_t cap)
{
	size_t n = strlen(digits);
	int int_len = (int)(n - scale);

	if (scale == 0)
		snprintf(buf, cap, "%s%s", sign, digits);
	else
		snprintf(buf, cap, "%s%.*s.%s", sign, int_len, digits, digits + int_len);
}

/*
 * A deliberately plain reference for fx_parse: validate the syntax first,
 * then evaluate in 128 bits, saturating far above the int64 range.  Shares
 * no structure with the real parser, so agreeing with it means something.
 */
static int reference_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
	const unsigned __int128 saturated = (unsigned __int128)1 << 100;

	if (scale > 18)
		return FX_E_SCALE;

	size_t i = 0;
	bool negative = false;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		negative = s[0] == '-';
		i = 1;
	}

	size_t dots = 0, digits = 0;

	for (size_t j = i; j < len; j++) {
		if (s[j] == '.')
			dots++;
		else if (s[j] >= '0' && s[j] <= '9')
			digits++;
		else
			return FX_E_JUNK;
	}
	if (dots > 1)
		return FX_E_JUNK;
	if (digits == 0)
		return FX_E_EMPTY;

	unsigned __int128 value = 0;
	unsigned fraction_places = 0;
	bool after_point = false, lost = false;

	for (size_t j = i; j < len; j++) {
		if (s[j] == '.') {
			after_point = true;
			continue;
		}
		if (after_point && fraction_places == scale) {
			lost = lost || s[j] != '0';
			continue;
		}
		value = value * 10 + (unsigned)(s[j] - '0');
		if (value > saturated)
			value = saturated;
		if (after_point)
			fraction_places++;
	}
	for (; fraction_places < scale; fraction_places++) {
		value *= 10;
		if (value > saturated)
			value = saturated;
	}

	unsigned __int128 limit = (unsigned __int128)INT64_MAX + (negative ? 1 : 0);

	if (value > limit)
		return FX_E_OVERFLOW;
	if (lost)
		return FX_E_PRECISION;
	__int128 signed_value = negative ? -(__int128)value : (__int128)value;
	*out = (int64_t)signed_value;
	return FX_OK;
}

/* ---- fx_parse: ordinary values ---------------------------------------- */

Test(fixed, parse_scale0)
{
	expect_value("0", 0, 0);
	expect_value("1", 0, 1);
	expect_value("12", 0, 12);
	expect_value("007", 0, 7);
	expect_value("1234567890", 0, 1234567890);
	expect_value("5.", 0, 5);
	expect_value("5.0", 0, 5);
}

Test(fixed, parse_scale2)
{
	expect_value("27.06", 2, 2706);
	expect_value("27.6", 2, 2760);
	expect_value("27.", 2, 2700);
	expect_value("27", 2, 2700);
	expect_value("0.01", 2, 1);
	expect_value(".5", 2, 50);
	expect_value(".05", 2, 5);
	expect_value("100.99", 2, 10099);
}

Test(fixed, parse_scale4)
{
	expect_value("27.0600", 4, 270600);
	expect_value("27.06", 4, 270600);
	expect_value("-3.5", 4, -35000);
	expect_value("0.0001", 4, 1);
	expect_value("0.0000", 4, 0);
	expect_value("65000.1234", 4, 650001234);
}

Test(fixed, parse_scale8)
{
	expect_value("0.01000000", 8, 1000000);
	expect_value("0.00000001", 8, 1);
	expect_value("12345.6789", 8, 1234567890000LL);
	expect_value("21000000", 8, 2100000000000000LL);
	expect_value("-0.5", 8, -50000000);
}

Test(fixed, parse_scale18)
{
	expect_value("1", 18, 1000000000000000000LL);
	expect_value("0.000000000000000001", 18, 1);
	expect_value("0.5", 18, 500000000000000000LL);
	expect_value("-1.25", 18, -1250000000000000000LL);
	expect_value("9", 18, 9000000000000000000LL);
	expect_value("-9", 18, -9000000000000000000LL);
	expect_value("9.223372036854775807", 18, INT64_MAX);
	expect_value("-9.223372036854775808", 18, INT64_MIN);
}

Test(fixed, parse_signs)
{
	expect_value("+5", 0, 5);
	expect_value("-5", 0, -5);
	expect_value("+0.25", 2, 25);
	expect_value("-0.25", 2, -25);
	expect_value("-.5", 1, -5);
	expect_value("+.5", 1, 5);
	expect_value("-5.", 1, -50);
	/* No negative zero in int64: "-0" is plain 0. */
	expect_value("-0", 0, 0);
	expect_value("+0", 0, 0);
	expect_value("-0.000", 3, 0);
	expect_value("-.0", 4, 0);
}

/* ---- fx_parse: digits beyond the scale ---------------------------------- */

Test(fixed, parse_trailing_zeros_beyond_scale)
{
	expect_value("27.060000000000", 4, 270600);
	expect_value("5.0", 0, 5);
	expect_value("-5.000", 0, -5);
	expect_value("0.0100000000000000000000000000000", 2, 1);
	expect_value("9223372036854775807.000", 0, INT64_MAX);
	expect_value("-9223372036854775808.0", 0, INT64_MIN);
	expect_value("9.2233720368547758070", 18, INT64_MAX);

	char long_zeros[1100] = "1.";

	memset(long_zeros + 2, '0', 1000);
	long_zeros[1002] = '\0';
	expect_value(long_zeros, 0, 1);
	expect_value(long_zeros, 8, 100000000);
}

Test(fixed, parse_excess_precision)
{
	expect_error("27.06001", 4, FX_E_PRECISION);
	expect_error("0.5", 0, FX_E_PRECISION);
	expect_error("-0.5", 0, FX_E_PRECISION);
	expect_error(".1", 0, FX_E_PRECISION);
	expect_error("0.000000001", 8, FX_E_PRECISION);
	expect_error("1.0000000000000000001", 18, FX_E_PRECISION);
	expect_error("1.00000000000000000000000000009", 18, FX_E_PRECISION);
	expect_error("1.005", 2, FX_E_PRECISION);
	/* Truncated it would be INT64_MIN, which fits; it is just inexact. */
	expect_error("-9223372036854775808.5", 0, FX_E_PRECISION);

	char long_zeros[1100] = "0.";

	memset(long_zeros + 2, '0', 1000);
	strcpy(long_zeros + 1002, "1");
	expect_error(long_zeros, 18, FX_E_PRECISION);
}

/* ---- fx_parse: syntax errors ------------------------------------------- */

Test(fixed, parse_junk)
{
	static const char *const junk[] = {
		"1e5", "1E5", "1.5e3", "1e", "e1", " 1", "1 ", "\t1", "1\n",
		"1,000", "1_000", "1'000", "0x10", "0b1", "--1", "++1", "+-1",
		"-+1", "1-", "1+", "1.2.3", "..1", "1..", "1.-2", "nan", "NaN",
		"inf", "-inf", "Infinity", "1/2", "/", ":", "12:30", "$1",
		"\xd9\xa1", /* ARABIC-INDIC DIGIT ONE: a digit, but not ASCII */
		"-.x", ".x", "x", "-x", "1.x",
		/* The bytes either side of '0'..'9', in every digit position. */
		"/1", ":1", "1/", "1:", "1./", "1.:", "1.00/", "1.00:",
	};

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		for (unsigned scale = 0; scale <= 18; scale += 6)
			expect_error(junk[i], scale, FX_E_JUNK);
}

Test(fixed, parse_embedded_nul)
{
	expect_error_len("1\0", 2, 0, FX_E_JUNK);
	expect_error_len("\0", 1, 0, FX_E_JUNK);
	expect_error_len("1\0002", 3, 0, FX_E_JUNK);
	expect_error_len("1.\0", 3, 2, FX_E_JUNK);
	expect_error_len("1.5\0", 4, 2, FX_E_JUNK);
	expect_error_len("-\0", 2, 0, FX_E_JUNK);
	expect_error_len("\0001", 2, 0, FX_E_JUNK);
	/* The same bytes, with len stopping before the NUL, are fine. */
	expect_value_len("12\0", 2, 0, 12);
}

Test(fixed, parse_empty)
{
	int64_t out = UNTOUCHED;

	cr_assert_eq(fx_parse(NULL, 0, 4, &out), FX_E_EMPTY);
	cr_assert_eq(out, UNTOUCHED);
	cr_assert_eq(fx_parse("123", 0, 4, &out), FX_E_EMPTY);
	cr_assert_eq(out, UNTOUCHED);

	expect_error("", 0, FX_E_EMPTY);
	expect_error("-", 0, FX_E_EMPTY);
	expect_error("+", 0, FX_E_EMPTY);
	expect_error(".", 0, FX_E_EMPTY);
	expect_error("-.", 4, FX_E_EMPTY);
	expect_error("+.", 4, FX_E_EMPTY);
	expect_error(".", 18, FX_E_EMPTY);
}

Test(fixed, parse_bad_scale)
{
	static const unsigned bad[] = { 19, 20, 64, 1000, 0xffffffffu };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_error("1", bad[i], FX_E_SCALE);
		expect_error("", bad[i], FX_E_SCALE);
		expect_error("junk", bad[i], FX_E_SCALE);
	}
}

/* ---- fx_parse: range --------------------------------------------------- */

Test(fixed, parse_int64_boundaries_scale0)
{
	expect_value("9223372036854775807", 0, INT64_MAX);
	expect_value("+9223372036854775807", 0, INT64_MAX);
	expect_value("-9223372036854775808", 0, INT64_MIN);
	expect_value("-9223372036854775807", 0, INT64_MIN + 1);
	expect_value("9223372036854775806", 0, INT64_MAX - 1);
	expect_error("9223372036854775808", 0, FX_E_OVERFLOW);
	expect_error("+9223372036854775808", 0, FX_E_OVERFLOW);
	expect_error("-9223372036854775809", 0, FX_E_OVERFLOW);
	expect_error("9223372036854775809", 0, FX_E_OVERFLOW);
	expect_error("9999999999999999999", 0, FX_E_OVERFLOW);
	expect_error("-9999999999999999999", 0, FX_E_OVERFLOW);
	expect_error("10000000000000000000", 0, FX_E_OVERFLOW);
}

/* INT64_MAX and INT64_MIN spelled at every scale, and one unit past each. */
Test(fixed, parse_int64_boundaries_every_scale)
{
	char text[64];

	for (unsigned scale = 0; scale <= 18; scale++) {
		place_point("", "9223372036854775807", scale, text, sizeof(text));
		expect_value(text, scale, INT64_MAX);
		place_point("+", "9223372036854775807", scale, text, sizeof(text));
		expect_value(text, scale, INT64_MAX);
		place_point("-", "9223372036854775808", scale, text, sizeof(text));
		expect_value(text, scale, INT64_MIN);
		place_point("-", "9223372036854775807", scale, text, sizeof(text));
		expect_value(text, scale, INT64_MIN + 1);

		place_point("", "9223372036854775808", scale, text, sizeof(text));
		expect_error(text, scale, FX_E_OVERFLOW);
		place_point("+", "9223372036854775808", scale, text, sizeof(text));
		expect_error(text, scale, FX_E_OVERFLOW);
		place_point("-", "9223372036854775809", scale, text, sizeof(text));
		expect_error(text, scale, FX_E_OVERFLOW);

		/* Leading zeros in front of the boundary change nothing. */
		place_point("-000", "9223372036854775808", scale, text, sizeof(text));
		expect_value(text, scale, INT64_MIN);
		place_point("000", "9223372036854775808", scale, text, sizeof(text));
		expect_error(text, scale, FX_E_OVERFLOW);
	}
}

/* Values that reach the boundary only once the missing places are added. */
Test(fixed, parse_overflow_from_scaling)
{
	expect_value("92233720368547758", 2, 9223372036854775800LL);
	expect_value("92233720368547758.0", 2, 9223372036854775800LL);
	expect_value("-92233720368547758", 2, -9223372036854775800LL);
	expect_error("92233720368547759", 2, FX_E_OVERFLOW);
	expect_error("92233720368547758.1", 2, FX_E_OVERFLOW);
	expect_error("-92233720368547758.1", 2, FX_E_OVERFLOW);
	expect_error("10", 18, FX_E_OVERFLOW);
	expect_error("-10", 18, FX_E_OVERFLOW);
	expect_error("9.3", 18, FX_E_OVERFLOW);
	expect_error("-9.3", 18, FX_E_OVERFLOW);
	/* Scaled, these pass 2^64: a uint64 multiply would wrap to a small
	 * number (2e19 - 2^64, and 4) instead of overflowing. */
	expect_error("2000000000000000000", 1, FX_E_OVERFLOW);
	expect_error("1844674407370955162", 1, FX_E_OVERFLOW);
	expect_error("1844674407370955162", 18, FX_E_OVERFLOW);
}

Test(fixed, parse_huge)
{
	static const char *const huge[] = {
		"1234567890123456789012345678901234567890",
		"9999999999999999999999999999999999999999",
		"-1234567890123456789012345678901234567890",
		"+1000000000000000000000000000000000000000",
		"1234567890123456789012345678901234567890.5",
		/* 2^64, 2^64 + 5, 2^65 and 2^64 * 10^10 wrap a uint64 to 0, 5,
		 * 0 and 0: a parser that trusts the wrapped value accepts them. */
		"18446744073709551616",
		"18446744073709551621",
		"-18446744073709551616",
		"36893488147419103232",
		"184467440737095516160000000000",
		"18446744073709551615",
	};

	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++)
		for (unsigned scale = 0; scale <= 18; scale++)
			expect_error(huge[i], scale, FX_E_OVERFLOW);
	expect_error("1844674407370955161.6", 1, FX_E_OVERFLOW);
	expect_error("18446744073709551.616", 3, FX_E_OVERFLOW);
}

Test(fixed, parse_long_leading_zeros)
{
	char text[1100];

	memset(text, '0', 1000);
	strcpy(text + 1000, "1");
	expect_value(text, 0, 1);
	expect_value(text, 18, 1000000000000000000LL);

	strcpy(text + 1000, "9223372036854775807");
	expect_value(text, 0, INT64_MAX);
	strcpy(text + 1000, "9223372036854775808");
	expect_error(text, 0, FX_E_OVERFLOW);
	strcpy(text + 1000, "9.223372036854775807");
	expect_value(text, 18, INT64_MAX);
	strcpy(text + 1000, ".000000000000000001");
	expect_value(text, 18, 1);

	text[0] = '-';
	strcpy(text + 1000, "9223372036854775808");
	expect_value(text, 0, INT64_MIN);

	/* Zeros after the point, before the first significant digit. */
	strcpy(text, "0.");
	memset(text + 2, '0', 17);
	strcpy(text + 19, "1");
	expect_value(text, 18, 1);
}

/* A malformed string is JUNK whatever its digits would have been. */
Test(fixed, parse_error_precedence)
{
	expect_error("99999999999999999999x", 0, FX_E_JUNK);
	expect_error("99999999999999999999.5x", 0, FX_E_JUNK);
	expect_error("1.5x", 0, FX_E_JUNK);
	expect_error("1.55.", 1, FX_E_JUNK);
	expect_error("-.x", 0, FX_E_JUNK);
	expect_error("99999999999999999999.5", 0, FX_E_OVERFLOW);
	expect_error("-9223372036854775809.5", 0, FX_E_OVERFLOW);
	expect_error("9223372036854775808.1", 0, FX_E_OVERFLOW);
	expect_error("9223372036854775807.1", 0, FX_E_PRECISION);
	expect_error("1x", 19, FX_E_SCALE);
}

/* len, not a NUL, ends the input: the bytes after it are never looked at. */
Test(fixed, parse_len_bounds_the_read)
{
	static const char digits[] = "123456789";
	static const char price[] = "27.06001";
	static const char trailing_junk[] = "-5x";
	static const char trailing_dot[] = "1.5";
	int64_t out = UNTOUCHED;

	cr_assert_eq(fx_parse(digits, 3, 0, &out), FX_OK);
	cr_assert_eq(out, 123);
	cr_assert_eq(fx_parse(digits, 1, 2, &out), FX_OK);
	cr_assert_eq(out, 100);
	cr_assert_eq(fx_parse(price, 7, 4, &out), FX_OK);
	cr_assert_eq(out, 270600);
	cr_assert_eq(fx_parse(price, 8, 4, &out), FX_E_PRECISION);
	cr_assert_eq(fx_parse(trailing_junk, 2, 0, &out), FX_OK);
	cr_assert_eq(out, -5);
	cr_assert_eq(fx_parse(trailing_junk, 3, 0, &out), FX_E_JUNK);
	cr_assert_eq(fx_parse(trailing_dot, 2, 0, &out), FX_OK);
	cr_assert_eq(out, 1);
	cr_assert_eq(fx_parse(trailing_dot, 1, 0, &out), FX_OK);
	cr_assert_eq(out, 1);
	cr_assert_eq(fx_parse(trailing_junk, 1, 0, &out), FX_E_EMPTY);

	/* A number inside a JSON document, as a decoder would pass it. */
	static const char json[] = "{\"p\":\"27.0600\",\"q\":\"0.01000000\"}";

	cr_assert_eq(fx_parse(json + 6, 7, 4, &out), FX_OK);
	cr_assert_eq(out, 270600);
	cr_assert_eq(fx_parse(json + 20, 10, 8, &out), FX_OK);
	cr_assert_eq(out, 1000000);

	/* And at the very end of readable memory (see parse_at_page_end). */
	expect_value("9223372036854775807", 0, INT64_MAX);
	expect_value("1.", 0, 1);
	expect_error("1.5", 0, FX_E_PRECISION);
	expect_error("-", 0, FX_E_EMPTY);
}

/* fx_parse against reference_parse on random strings over its alphabet. */
Test(fixed, parse_matches_reference_random_text)
{
	static const char alphabet[] = "0000123456789999.........----++++eE x/:\0";
	struct xorshift rng = { 0x2545f4914f6cdd1dull };
	char text[40];

	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)(next_random(&rng) % 28);
		unsigned scale = (unsigned)(next_random(&rng) % 20);

		for (size_t j = 0; j < len; j++)
			text[j] = alphabet[next_random(&rng) % (sizeof(alphabet) - 1)];

		int64_t got = UNTOUCHED, want = UNTOUCHED;
		int status = parse_at_page_end(text, len, scale, &got);
		int want_status = reference_parse(text, len, scale, &want);

		cr_assert_eq(status, want_status, "case %d \"%.*s\" scale %u: status %d, want %d",
			     i, (int)len, text, scale, status, want_status);
		cr_assert_eq(got, want, "case %d \"%.*s\" scale %u: got %" PRId64
			     ", want %" PRId64, i, (int)len, text, scale, got, want);
	}
}

/* The same, on well-formed numbers crowded around the int64 boundaries. */
Test(fixed, parse_matches_reference_near_boundaries)
{
	static const char *const signs[] = { "", "-", "+" };
	struct xorshift rng = { 0x9e3779b97f4a7c15ull };
	char digits[32], text[64];
	int accepted = 0, overflowed = 0;

	for (int i = 0; i < 200000; i++) {
		uint64_t r = next_random(&rng);
		uint64_t magnitude;

		switch (r % 3) {
		case 0:  /* within 2000 of 2^63 */
			magnitude = (1ull << 63) - 1000 + next_random(&rng) % 2000;
			break;
		case 1:  /* near 2^63 at a lower scale */
			magnitude = ((1ull << 63) - 1000 + next_random(&rng) % 2000) /
				    power_of_ten((unsigned)(next_random(&rng) % 19));
			break;
		default: /* anything, at any magnitude */
			magnitude = next_random(&rng) >> (next_random(&rng) % 64);
			break;
		}

		unsigned scale = (unsigned)(next_random(&rng) % 19);
		int n = snprintf(digits, sizeof(digits), "%s%.*s%" PRIu64,
				 signs[next_random(&rng) % 3],
				 (int)(next_random(&rng) % 3), "00", magnitude);
		size_t len = (size_t)n;

		memcpy(text, digits, len);
		/* Put the point somewhere in the digits, or nowhere, then maybe
		 * add a few digits after the end. */
		size_t point = (size_t)(next_random(&rng) % (len + 2));

		if (point <= len) {
			memmove(text + point + 1, text + point, len - point);
			text[point] = '.';
			len++;
		}
		for (uint64_t extra = next_random(&rng) % 4; extra > 0; extra--)
			text[len++] = next_random(&rng) % 4 == 0 ? '5' : '0';

		int64_t got = UNTOUCHED, want = UNTOUCHED;
		int status = parse_at_page_end(text, len, scale, &got);
		int want_status = reference_parse(text, len, scale, &want);

		cr_assert_eq(status, want_status, "case %d \"%.*s\" scale %u: status %d, want %d",
			     i, (int)len, text, scale, status, want_status);
		cr_assert_eq(got, want, "case %d \"%.*s\" scale %u: got %" PRId64
			     ", want %" PRId64, i, (int)len, text, scale, got, want);
		accepted += status == FX_OK;
		overflowed += status == FX_E_OVERFLOW;
	}
	/* Make sure the generator really reaches both sides of the line. */
	cr_assert_gt(accepted, 20000);
	cr_assert_gt(overflowed, 20000);
}

/* ---- fx_format --------------------------------------------------------- */

#define expect_format(v, scale, want)                                                   \
	do {                                                                            \
		char buf_[64];                                                          \
		int n_ = fx_format((v), (scale), buf_, sizeof(buf_));                   \
		cr_assert_str_eq(buf_, (want), "%" PRId64 " at scale %u",               \
				 (int64_t)(v), (unsigned)(scale));                      \
		cr_assert_eq(n_, (int)strlen(want), "%" PRId64 " at scale %u: length", \
			     (int64_t)(v), (unsigned)(scale));                          \
	} while (0)

Test(fixed, format_values)
{
	expect_format(270600, 4, "27.0600");
	expect_format(1, 4, "0.0001");
	expect_format(-5000, 4, "-0.5000");
	expect_format(12, 0, "12");
	expect_format(-12, 0, "-12");
	expect_format(0, 0, "0");
	expect_format(0, 2, "0.00");
	expect_format(-1, 2, "-0.01");
	expect_format(-1, 0, "-1");
	expect_format(100, 2, "1.00");
	expect_format(1000000, 8, "0.01000000");
	expect_format(1234567890000LL, 8, "12345.67890000");
	expect_format(1000000000000000000LL, 18, "1.000000000000000000");
	expect_format(-1, 18, "-0.000000000000000001");
	expect_format(0, 18, "0.000000000000000000");
}

Test(fixed, format_int64_extremes)
{
	expect_format(INT64_MAX, 0, "9223372036854775807");
	expect_format(INT64_MIN, 0, "-9223372036854775808");
	expect_format(INT64_MIN + 1, 0, "-9223372036854775807");
	expect_format(INT64_MAX, 3, "9223372036854775.807");
	expect_format(INT64_MIN, 3, "-9223372036854775.808");
	expect_format(INT64_MAX, 18, "9.223372036854775807");
	expect_format(INT64_MIN, 18, "-9.223372036854775808");

	/* The longest possible output fits FX_FORMAT_MAX + 1 bytes exactly. */
	char buf[FX_FORMAT_MAX + 1];

	cr_assert_eq(fx_format(INT64_MIN, 18, buf, sizeof(buf)), 21);
	cr_assert_str_eq(buf, "-9.223372036854775808");
	cr_assert_eq(fx_format(INT64_MIN, 0, buf, sizeof(buf)), 20);
	cr_assert_str_eq(buf, "-9223372036854775808");
}

Test(fixed, format_buffer_too_small)
{
	char buf[16];

	/* "27.0600" is 7 characters plus the NUL. */
	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(fx_format(270600, 4, buf, 8), 7);
	cr_assert_str_eq(buf, "27.0600");

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(fx_format(270600, 4, buf, 7), FX_E_SPACE);
	cr_assert_eq(buf[0], '\0', "a failed format must leave an empty string");
	cr_assert_eq(buf[1], 'x', "a failed format wrote past the NUL");

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(fx_format(0, 0, buf, 1), FX_E_SPACE);
	cr_assert_eq(buf[0], '\0');
	cr_assert_eq(fx_format(0, 0, buf, 2), 1);
	cr_assert_str_eq(buf, "0");

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(fx_format(0, 0, buf, 0), FX_E_SPACE);
	cr_assert_eq(buf[0], 'x', "cap 0 must not write at all");
	cr_assert_eq(fx_format(0, 0, NULL, 0), FX_E_SPACE);

	char exact[FX_FORMAT_MAX];

	cr_assert_eq(fx_format(INT64_MIN, 18, exact, sizeof(exact)), FX_E_SPACE);
	cr_assert_eq(exact[0], '\0');
}

Test(fixed, format_bad_scale)
{
	char buf[64] = "unchanged";

	cr_assert_eq(fx_format(1, 19, buf, sizeof(buf)), FX_E_SCALE);
	cr_assert_eq(buf[0], '\0');
	cr_assert_eq(fx_format(1, 0xffffffffu, buf, sizeof(buf)), FX_E_SCALE);
	cr_assert_eq(fx_format(1, 19, NULL, 0), FX_E_SCALE);
}

/* Checks fx_format against expected_text, and fx_parse of that text back. */
static void check_round_trip(int64_t v, unsigned scale)
{
	char want[64], got[64], small[64];

	expected_text(v, scale, want, sizeof(want));
	size_t want_len = strlen(want);
	int n = fx_format(v, scale, got, sizeof(got));

	cr_assert_eq(n, (int)want_len, "%" PRId64 " at scale %u: length %d, want %zu (%s)",
		     v, scale, n, want_len, want);
	cr_assert_str_eq(got, want, "%" PRId64 " at scale %u", v, scale);

	cr_assert_eq(fx_format(v, scale, small, want_len + 1), n);
	cr_assert_eq(fx_format(v, scale, small, want_len), FX_E_SPACE,
		     "%" PRId64 " at scale %u: fits in one byte too few", v, scale);

	int64_t back = UNTOUCHED;
	int status = parse_at_page_end(want, want_len, scale, &back);

	cr_assert_eq(status, FX_OK, "\"%s\" at scale %u: status %d", want, scale, status);
	cr_assert_eq(back, v, "\"%s\" at scale %u: parsed %" PRId64, want, scale, back);
}

Test(fixed, format_parse_round_trip)
{
	static const int64_t special[] = {
		INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0, -1, 1, 9, -9,
		10, -10, 999999999999999999LL, 1000000000000000000LL,
		-1000000000000000000LL, 270600, -35000,
	};
	struct xorshift rng = { 0x853c49e6748fea9bull };

	for (unsigned scale = 0; scale <= 18; scale++)
		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
			check_round_trip(special[i], scale);

	for (int i = 0; i < 100000; i++) {
		/* Shifting by a random amount spreads the magnitudes over every
		 * digit count; the -v - 1 keeps INT64_MIN reachable. */
		int64_t v = (int64_t)(next_random(&rng) >> 1 >> (next_random(&rng) % 63));

		if (next_random(&rng) & 1)
			v = -v - 1;
		check_round_trip(v, (unsigned)(next_random(&rng) % 19));
	}
}

/* ---- fx_rescale, fx_pow10, fx_strerror --------------------------------- */

#define expect_rescale(v, from, to, want)                                              \
	do {                                                                           \
		int64_t got_ = UNTOUCHED;                                              \
		int status_ = fx_rescale((v), (from), (to), &got_);                    \
		cr_assert_eq(status_, FX_OK, "%" PRId64 " %u -> %u: status %d",        \
			     (int64_t)(v), (unsigned)(from), (unsigned)(to), status_); \
		cr_assert_eq(got_, (int64_t)(want), "%" PRId64 " %u -> %u: got %" PRId64, \
			     (int64_t)(v), (unsigned)(from), (unsigned)(to), got_);    \
	} while (0)

#define expect_rescale_error(v, from, to, want_status)                                 \
	do {                                                                           \
		int64_t got_ = UNTOUCHED;                                              \
		int status_ = fx_rescale((v), (from), (to), &got_);                    \
		cr_assert_eq(status_, (want_status), "%" PRId64 " %u -> %u: status %d", \
			     (int64_t)(v), (unsigned)(from), (unsigned)(to), status_); \
		cr_assert_eq(got_, UNTOUCHED, "*out written on error");                \
	} while (0)

Test(fixed, rescale_up)
{
	expect_rescale(2706, 2, 4, 270600);
	expect_rescale(-2706, 2, 4, -270600);
	expect_rescale(0, 0, 18, 0);
	expect_rescale(5, 0, 18, 5000000000000000000LL);
	expect_rescale(-9, 0, 18, -9000000000000000000LL);
	expect_rescale(INT64_MAX, 7, 7, INT64_MAX);
	expect_rescale(INT64_MIN, 0, 0, INT64_MIN);
	/* The last values that fit, and the first that do not. */
	expect_rescale(922337203685477580LL, 0, 1, 9223372036854775800LL);
	expect_rescale_error(922337203685477581LL, 0, 1, FX_E_OVERFLOW);
	expect_rescale(-922337203685477580LL, 0, 1, -9223372036854775800LL);
	expect_rescale_error(-922337203685477581LL, 0, 1, FX_E_OVERFLOW);
	expect_rescale(9, 0, 18, 9000000000000000000LL);
	expect_rescale_error(10, 0, 18, FX_E_OVERFLOW);
	expect_rescale_error(-10, 0, 18, FX_E_OVERFLOW);
	expect_rescale_error(INT64_MAX, 0, 1, FX_E_OVERFLOW);
	expect_rescale_error(INT64_MIN, 4, 5, FX_E_OVERFLOW);
}

Test(fixed, rescale_down)
{
	expect_rescale(270600, 4, 2, 2706);
	expect_rescale(-270600, 4, 2, -2706);
	expect_rescale(1000000000000000000LL, 18, 0, 1);
	expect_rescale(-1000000000000000000LL, 18, 0, -1);
	expect_rescale(9223372036854775800LL, 1, 0, 922337203685477580LL);
	expect_rescale(0, 18, 0, 0);
	expect_rescale_error(270601, 4, 2, FX_E_PRECISION);
	expect_rescale_error(-270601, 4, 2, FX_E_PRECISION);
	expect_rescale_error(270600, 4, 0, FX_E_PRECISION);
	expect_rescale_error(-270600, 4, 0, FX_E_PRECISION);
	expect_rescale_error(INT64_MIN, 18, 0, FX_E_PRECISION);
	expect_rescale_error(INT64_MAX, 1, 0, FX_E_PRECISION);
	expect_rescale_error(1, 18, 17, FX_E_PRECISION);
}

Test(fixed, rescale_bad_scale)
{
	expect_rescale_error(1, 19, 0, FX_E_SCALE);
	expect_rescale_error(1, 0, 19, FX_E_SCALE);
	expect_rescale_error(1, 19, 19, FX_E_SCALE);
	expect_rescale_error(0, 0xffffffffu, 2, FX_E_SCALE);
}

Test(fixed, pow10)
{
	static const int64_t want[19] = {
		1LL,
		10LL,
		100LL,
		1000LL,
		10000LL,
		100000LL,
		1000000LL,
		10000000LL,
		100000000LL,
		1000000000LL,
		10000000000LL,
		100000000000LL,
		1000000000000LL,
		10000000000000LL,
		100000000000000LL,
		1000000000000000LL,
		10000000000000000LL,
		100000000000000000LL,
		1000000000000000000LL,
	};

	for (unsigned i = 0; i <= FX_MAX_SCALE; i++)
		cr_assert_eq(fx_pow10(i), want[i], "10^%u", i);
	cr_assert_eq(fx_pow10(19), 0);
	cr_assert_eq(fx_pow10(0xffffffffu), 0);
}

Test(fixed, strerror)
{
	static const int codes[] = {
		FX_OK, FX_E_EMPTY, FX_E_JUNK, FX_E_PRECISION, FX_E_OVERFLOW, FX_E_SCALE, FX_E_SPACE,
	};
	const size_t n = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = fx_strerror(-99);

	cr_assert_not_null(unknown);
	cr_assert_str_eq(fx_strerror(1), unknown);
	for (size_t i = 0; i < n; i++) {
		const char *text = fx_strerror(codes[i]);

		cr_assert_not_null(text);
		cr_assert_neq(text[0], '\0');
		cr_assert_str_neq(text, unknown, "code %d described as unknown", codes[i]);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(text, fx_strerror(codes[j]), "codes %d and %d",
					  codes[i], codes[j]);
	}
	/* The numbers are stable: they may be stored or compared by value. */
	cr_assert_eq(FX_E_EMPTY, -1);
	cr_assert_eq(FX_E_JUNK, -2);
	cr_assert_eq(FX_E_PRECISION, -3);
	cr_assert_eq(FX_E_OVERFLOW, -4);
	cr_assert_eq(FX_E_SCALE, -5);
	cr_assert_eq(FX_E_SPACE, -6);
}
