/*
 * Exact decimal <-> int64 fixed-point conversion.
 *
 * A fixed-point value v at scale s stands for the decimal number v / 10^s:
 * 270600 at scale 4 is 27.0600.  The scale is a property of the instrument
 * (see FKS_EV_INSTRUMENT_DEF in shm/event.h), never of the value, so it is
 * always passed in beside the number.
 *
 * Nothing here rounds: a conversion either is exact or fails with a status
 * that says why.  A price that silently moved by one tick is worse than a
 * rejected message.
 *
 * fx_parse sits on the hot path of every feed decoder, so it touches no
 * locale, no floating point and no allocator, and calls nothing in its loop.
 * No function here keeps state: all are reentrant and thread-safe.
 */
#ifndef FKS_SHM_FIXED_H
#define FKS_SHM_FIXED_H

#include <stddef.h>
#include <stdint.h>

/* Errors are negative; fx_strerror() describes each.  Stable numbers. */
enum fx_status {
	FX_OK = 0,
	FX_E_EMPTY = -1,     /* well formed, but no digit at all: "", "-", "." */
	FX_E_JUNK = -2,      /* a byte the grammar does not allow */
	FX_E_PRECISION = -3, /* a nonzero digit beyond the scale: not exact */
	FX_E_OVERFLOW = -4,  /* the scaled value does not fit in int64 */
	FX_E_SCALE = -5,     /* scale greater than FX_MAX_SCALE */
	FX_E_SPACE = -6,     /* fx_format: buffer too small */
};

/* The largest scale: 10^18 is the largest power of ten in an int64. */
#define FX_MAX_SCALE 18

/*
 * Longest text fx_format can produce, without the NUL:
 * "-9.223372036854775808" or "-9223372036854775808" (21 or 20 chars).
 * A buffer of FX_FORMAT_MAX + 1 bytes never fails.
 */
#define FX_FORMAT_MAX 21

/*
 * Parse s[0..len) as a decimal number and store it scaled by 10^scale in
 * *out.  s need not be NUL-terminated and is never read at or past s + len;
 * s may be NULL when len is 0.  out must not be NULL.
 *
 * Grammar (nothing else, not even surrounding whitespace):
 *
 *     [ '-' | '+' ] digit* [ '.' digit* ]      with at least one digit
 *
 * so "5", "-5", "+5", "5.", ".5", "-.5" and "0007.50" are numbers, and "",
 * "-", "+", ".", "-." and "+." are FX_E_EMPTY.  Anything else - whitespace,
 * exponents, separators, hex, "inf", "nan", a second sign or dot, a NUL byte
 * inside len - is FX_E_JUNK.  "-0" is 0.
 *
 * Fractional digits beyond `scale` are allowed only when they are all '0',
 * since the value is still exact ("27.060000" at scale 4 is 270600).
 *
 * Returns FX_OK, or on failure one of the errors below, in this order of
 * precedence when several apply, and leaves *out unchanged:
 *
 *   FX_E_SCALE      scale > FX_MAX_SCALE (the text is not looked at)
 *   FX_E_JUNK       the text does not match the grammar
 *   FX_E_EMPTY      it matches, but has no digit
 *   FX_E_OVERFLOW   the value truncated to `scale` places lies outside
 *                   [INT64_MIN, INT64_MAX] once scaled; at scale 0 that
 *                   accepts -9223372036854775808 and rejects
 *                   +9223372036854775808.  Leading zeros never count.
 *   FX_E_PRECISION  a nonzero digit beyond `scale`
 *
 * So a malformed string is always JUNK however large its digits, and
 * "99999999999999999999.5" at scale 0 is OVERFLOW, not PRECISION.
 */
int fx_parse(const char *s, size_t len, unsigned scale, int64_t *out);

/*
 * Format v at scale into buf as [-]digits[.digits], with exactly `scale`
 * fractional digits and at least one integer digit: 270600 at scale 4 is
 * "27.0600", 1 is "0.0001", -5000 is "-0.5000"; 12 at scale 0 is "12" with
 * no dot.  Never a '+', never "-0".  Every int64 works, INT64_MIN included.
 * fx_parse(buf, len, scale) gives v back.
 *
 * Returns the length written, excluding the NUL.  On failure returns
 *
 *   FX_E_SPACE   cap is too small for the text and its NUL
 *   FX_E_SCALE   scale > FX_MAX_SCALE
 *
 * and, if cap > 0, leaves buf as "": a truncated number would read as a
 * different, valid number.  buf may be NULL when cap is 0.
 */
int fx_format(int64_t v, unsigned scale, char *buf, size_t cap);

/* A short static description of an fx_status; unknown codes get a generic
 * text, never NULL. */
const char *fx_strerror(int status);

/* 10^scale for scale <= FX_MAX_SCALE; 0 (never a power of ten) above. */
int64_t fx_pow10(unsigned scale);

/*
 * Convert v from scale `from` to scale `to` without changing the value it
 * stands for: 2706 at scale 2 is 270600 at scale 4, and back.
 *
 * Returns FX_OK, or leaves *out unchanged and returns, checked in this order:
 *
 *   FX_E_SCALE      from or to > FX_MAX_SCALE
 *   FX_E_PRECISION  to < from and v has nonzero digits that would be dropped
 *   FX_E_OVERFLOW   to > from and v * 10^(to - from) does not fit in int64
 */
int fx_rescale(int64_t v, unsigned from, unsigned to, int64_t *out);

#endif
