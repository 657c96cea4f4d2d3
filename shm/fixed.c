/*
 * Exact decimal <-> int64 fixed point.  See fixed.h for the contract.
 */
#include "shm/fixed.h"

#include <stdbool.h>
#include <string.h>

/*
 * Unsigned so that fx_parse can scale a magnitude of up to 2^63 (INT64_MIN)
 * without a signed overflow.
 */
static const uint64_t pow10_table[FX_MAX_SCALE + 1] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
	10000000000000000ull,
	100000000000000000ull,
	1000000000000000000ull,
};

/*
 * Every number of up to this many digits fits in a uint64 (10^19 - 1 <
 * 2^64), so fx_parse can accumulate without checking and decide about
 * overflow once, at the end.
 */
#define U64_SAFE_DIGITS 19

int64_t fx_pow10(unsigned scale)
{
	if (scale > FX_MAX_SCALE)
		return 0;
	return (int64_t)pow10_table[scale];
}

const char *fx_strerror(int status)
{
	switch (status) {
	case FX_OK:
		return "ok";
	case FX_E_EMPTY:
		return "no digits";
	case FX_E_JUNK:
		return "not a plain decimal number";
	case FX_E_PRECISION:
		return "more decimal places than the scale allows";
	case FX_E_OVERFLOW:
		return "value out of int64 range at this scale";
	case FX_E_SCALE:
		return "scale greater than 18";
	case FX_E_SPACE:
		return "output buffer too small";
	}
	return "unknown fixed-point error";
}

int fx_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
	if (scale > FX_MAX_SCALE)
		return FX_E_SCALE;
	if (len == 0)
		return FX_E_EMPTY; /* before any arithmetic: s may be NULL */

	const char *p = s;
	const char *const end = s + len;
	bool negative = false;

	if (*p == '-' || *p == '+') {
		negative = *p == '-';
		p++;
	}

	/*
	 * The integer digits and the first `scale` fractional digits are
	 * accumulated into one integer, the magnitude, without any overflow
	 * check in the loops; the check comes once, at the end, and counts
	 * digits.  Leading zeros are skipped first so that they count for
	 * nothing: a thousand of them in front of a 1 are still just 1.
	 */
	const char *const int_start = p;

	while (p < end && *p == '0')
		p++;

	const char *const significant_start = p;
	uint64_t magnitude = 0;

	while (p < end) {
		unsigned digit = (unsigned)(unsigned char)*p - '0';

		if (digit > 9)
			break;
		magnitude = magnitude * 10 + digit;
		p++;
	}
	/* Integer digits from the first nonzero one on; 0 if the part is zero. */
	size_t int_significant = (size_t)(p - significant_start);
	size_t digits_seen = (size_t)(p - int_start);
	unsigned kept_fraction = 0;
	unsigned dropped_nonzero = 0;

	if (p < end && *p == '.') {
		p++;
		const char *const frac_start = p;
		const char *const keep_end = (size_t)(end - p) > scale ? p + scale : end;

		while (p < keep_end) {
			unsigned digit = (unsigned)(unsigned char)*p - '0';

			if (digit > 9)
				break;
			magnitude = magnitude * 10 + digit;
			p++;
		}
		kept_fraction = (unsigned)(p - frac_start);
		/* Beyond the scale a digit is fine only if it is a zero. */
		while (p < end) {
			unsigned digit = (unsigned)(unsigned char)*p - '0';

			if (digit > 9)
				break;
			dropped_nonzero |= digit;
			p++;
		}
		digits_seen += (size_t)(p - frac_start);
	}

	if (p != end)
		return FX_E_JUNK;
	if (digits_seen == 0)
		return FX_E_EMPTY;

	/*
	 * With a nonzero integer part the scaled value has exactly
	 * int_significant + scale digits, the first of them nonzero.  More
	 * than 19 means at least 10^19 > 2^63: an overflow, whatever the
	 * magnitude (which may then have wrapped) says.  Otherwise the
	 * magnitude never wrapped and the scaled value stays below 10^19 <
	 * 2^64, so comparing it with the limit is exact.  Without an integer
	 * part there are at most scale <= 18 digits, which always fit.
	 */
	if (int_significant + scale > U64_SAFE_DIGITS)
		return FX_E_OVERFLOW;

	uint64_t scaled = magnitude * pow10_table[scale - kept_fraction];

	/* |INT64_MIN| is one more than INT64_MAX. */
	if (scaled > (uint64_t)INT64_MAX + negative)
		return FX_E_OVERFLOW;
	if (dropped_nonzero != 0)
		return FX_E_PRECISION;

	/* -(int64_t)2^63 would overflow and (int64_t)2^63 is implementation-
	 * defined; going through scaled - 1 keeps every step in range. */
	if (negative && scaled != 0)
		*out = -(int64_t)(scaled - 1) - 1;
	else
		*out = (int64_t)scaled;
	return FX_OK;
}

int fx_format(int64_t v, unsigned scale, char *buf, size_t cap)
{
	if (scale > FX_MAX_SCALE) {
		if (cap > 0)
			buf[0] = '\0';
		return FX_E_SCALE;
	}

	/* Unsigned, so that INT64_MIN has a magnitude (2^63) like the rest. */
	uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char text[FX_FORMAT_MAX + 1];
	char *p = text + sizeof(text);

	/* Built backwards, least significant digit first. */
	for (unsigned i = 0; i < scale; i++) {
		*--p = (char)('0' + magnitude % 10);
		magnitude /= 10;
	}
	if (scale > 0)
		*--p = '.';
	do {
		*--p = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude != 0);
	if (v < 0)
		*--p = '-';

	size_t len = (size_t)(text + sizeof(text) - p);

	if (len >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return FX_E_SPACE;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	return (int)len;
}

int fx_rescale(int64_t v, unsigned from, unsigned to, int64_t *out)
{
	if (from > FX_MAX_SCALE || to > FX_MAX_SCALE)
		return FX_E_SCALE;

	if (to < from) {
		int64_t factor = (int64_t)pow10_table[from - to];

		/* C division truncates, so a nonzero remainder is a lost digit
		 * whatever the sign. */
		if (v % factor != 0)
			return FX_E_PRECISION;
		*out = v / factor;
		return FX_OK;
	}

	int64_t factor = (int64_t)pow10_table[to - from];

	/* Truncating division gives the exact bounds: v * factor fits iff
	 * INT64_MIN / factor <= v <= INT64_MAX / factor. */
	if (v > INT64_MAX / factor || v < INT64_MIN / factor)
		return FX_E_OVERFLOW;
	*out = v * factor;
	return FX_OK;
}
