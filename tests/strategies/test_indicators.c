/*
 * Tests for strategies/indicators.c.
 *
 * Expected values come from two places, never from the code under test:
 *  - constants worked out by hand (the comment next to each says how), and
 *    the classic 14-period Wilder RSI example series;
 *  - a naive reference written here from each definition, recomputed from
 *    scratch over the whole window (or the whole history, for the recursive
 *    ones) in long double, with plain loops and no running sums.
 *
 * Tolerances.  The rolling mean/variance is exact until its last rounding,
 * so it must agree with the long-double two-pass reference to a few ulps:
 * we allow 1e-12 relative (of the standard deviation, or of the value
 * scale where the value can be near 0).  The recursive doubles (EMA, MACD,
 * RSI, ATR) accumulate one rounding per step in a contracting recurrence;
 * 1e-9 relative over a million steps is loose for them and still catches any
 * wrong formula, seed or off-by-one by many orders of magnitude.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/indicators.h"

/* Big structs: static, not on Criterion's stack. */
static struct ind_rstats rs;
static struct ind_sma sma, sma2;
static struct ind_bollinger bb;
static struct ind_zscore zs;
static struct ind_vwap vw;
static struct ind_logvol lv;

/* splitmix64: a fixed-seed generator for the random paths. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* A random walk of positive prices around `base`, steps in [-span, span]. */
static int64_t *walk(size_t len, int64_t base, int64_t span, uint64_t seed)
{
	int64_t *p = malloc(len * sizeof *p);

	cr_assert(p);
	rng_state = seed;
	int64_t x = base;
	for (size_t i = 0; i < len; i++) {
		x += (int64_t)(rng() % (uint64_t)(2 * span + 1)) - span;
		if (x < 1)
			x = 1;
		p[i] = x;
	}
	return p;
}

static bool close_rel(double got, long double want, long double rel, long double scale)
{
	long double tol = rel * (fabsl(want) > scale ? fabsl(want) : scale);

	return fabsl((long double)got - want) <= tol;
}

#define assert_close(got, want, rel, scale, ...) \
	cr_assert(close_rel((got), (want), (rel), (scale)), __VA_ARGS__)

/* Naive window statistics over x[end-n .. end-1], two-pass in long double. */
static long double naive_mean(const int64_t *x, size_t end, uint32_t n)
{
	long double s = 0;

	for (size_t i = end - n; i < end; i++)
		s += x[i];
	return s / n;
}

static long double naive_var(const int64_t *x, size_t end, uint32_t n, uint32_t ddof)
{
	long double m = naive_mean(x, end, n), s = 0;

	for (size_t i = end - n; i < end; i++)
		s += ((long double)x[i] - m) * ((long double)x[i] - m);
	return s / (n - ddof);
}

/* ---- errors and helpers -------------------------------------------------- */

Test(indicators, init_rejects_bad_parameters)
{
	struct ind_ema e;
	struct ind_rsi r;
	struct ind_macd m;
	struct ind_atr a;

	cr_expect_eq(ind_sma_init(&sma, 0), IND_E_WINDOW);
	cr_expect_eq(ind_sma_init(&sma, IND_MAX_WINDOW + 1), IND_E_WINDOW);
	cr_expect_eq(ind_sma_init(&sma, IND_MAX_WINDOW), IND_OK);
	cr_expect_eq(ind_rstats_init(&rs, 0), IND_E_WINDOW);
	cr_expect_eq(ind_ema_init(&e, 0), IND_E_WINDOW);
	cr_expect_eq(ind_rsi_init(&r, 0), IND_E_WINDOW);
	cr_expect_eq(ind_macd_init(&m, 26, 12, 9), IND_E_WINDOW);
	cr_expect_eq(ind_macd_init(&m, 12, 12, 9), IND_E_WINDOW);
	cr_expect_eq(ind_macd_init(&m, 12, 26, 0), IND_E_WINDOW);
	cr_expect_eq(ind_atr_init(&a, 0), IND_E_WINDOW);
	cr_expect_eq(ind_bollinger_init(&bb, 20, -1.0), IND_E_PARAM);
	cr_expect_eq(ind_bollinger_init(&bb, 20, NAN), IND_E_PARAM);
	cr_expect_eq(ind_bollinger_init(&bb, 20, INFINITY), IND_E_PARAM);
	cr_expect_eq(ind_bollinger_init(&bb, 0, 2.0), IND_E_WINDOW);
	cr_expect_eq(ind_zscore_init(&zs, 1), IND_E_WINDOW);
	cr_expect_eq(ind_vwap_init(&vw, IND_MAX_WINDOW + 1, 0), IND_E_WINDOW);
	cr_expect_eq(ind_vwap_init(&vw, 0, -1), IND_E_PARAM);
	cr_expect_eq(ind_logvol_init(&lv, 1, 0), IND_E_WINDOW);
	cr_expect_eq(ind_logvol_init(&lv, 10, -1), IND_E_PARAM);
	cr_expect_eq(ind_logvol_init(&lv, 10, NAN), IND_E_PARAM);
	cr_expect_str_eq(ind_strerror(IND_OK), "ok");
	cr_expect_str_neq(ind_strerror(IND_E_WINDOW), ind_strerror(IND_E_PARAM));
	cr_expect_str_eq(ind_strerror(12345), "unknown indicator status");
}

Test(indicators, round_fx)
{
	cr_expect_eq(ind_round_fx(2.5), 3);
	cr_expect_eq(ind_round_fx(-2.5), -3);
	cr_expect_eq(ind_round_fx(2.4999), 2);
	cr_expect_eq(ind_round_fx(0.0), 0);
	cr_expect_eq(ind_round_fx(NAN), 0);
	cr_expect_eq(ind_round_fx(1e30), INT64_MAX);
	cr_expect_eq(ind_round_fx(-1e30), INT64_MIN);
	cr_expect_eq(ind_round_fx(INFINITY), INT64_MAX);
	cr_expect_eq(ind_round_fx(-INFINITY), INT64_MIN);
	cr_expect_eq(ind_round_fx(0x1p63), INT64_MAX);
	cr_expect_eq(ind_round_fx(-0x1p63), INT64_MIN);
	cr_expect_eq(ind_round_fx(123456789012.0), 123456789012);
}

/* ---- SMA and the rolling statistics ------------------------------------- */

Test(indicators, sma_warmup_and_hand_values)
{
	double v = -1;

	cr_assert_eq(ind_sma_init(&sma, 3), IND_OK);
	ind_sma_update(&sma, 10);
	cr_expect_not(ind_sma_ready(&sma));
	cr_expect_not(ind_sma_value(&sma, &v));
	cr_expect_eq(v, -1, "value written before warm-up");
	ind_sma_update(&sma, 20);
	cr_expect_not(ind_sma_ready(&sma));
	ind_sma_update(&sma, 33);
	cr_assert(ind_sma_value(&sma, &v));
	cr_expect_eq(v, 21.0);                 /* (10 + 20 + 33) / 3 */
	ind_sma_update(&sma, 40);
	cr_assert(ind_sma_value(&sma, &v));
	cr_expect_eq(v, 31.0);                 /* (20 + 33 + 40) / 3 */
	cr_expect(ind_sma_sum(&sma) == 93);

	/* Window 1 is the last sample. */
	cr_assert_eq(ind_sma_init(&sma2, 1), IND_OK);
	ind_sma_update(&sma2, -7);
	cr_assert(ind_sma_value(&sma2, &v));
	cr_expect_eq(v, -7.0);
}

Test(indicators, rstats_hand_values)
{
	double v;

	/* 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population variance 4, std 2;
	 * sample variance 32 / 7. */
	static const int64_t x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

	cr_assert_eq(ind_rstats_init(&rs, 8), IND_OK);
	for (int i = 0; i < 8; i++) {
		cr_expect_not(ind_rstats_std(&rs, &v));
		ind_rstats_update(&rs, x[i]);
	}
	cr_assert(ind_rstats_mean(&rs, &v));
	cr_expect_eq(v, 5.0);
	cr_assert(ind_rstats_var(&rs, &v));
	cr_expect_eq(v, 4.0);
	cr_assert(ind_rstats_std(&rs, &v));
	cr_expect_eq(v, 2.0);
	cr_assert(ind_rstats_var_sample(&rs, &v));
	cr_expect_eq(v, 32.0 / 7.0);

	/* Correct rounding of the exact 192-bit value: samples d and 0 give
	 * n*sum(x^2) - sum^2 = d^2, variance d^2 / 4.  For this d (found by a
	 * search in Python with exact integers), d^2 rounded once to double is
	 * 0x1.33a29f7580a27p+122, while rounding only its top 64 bits (without
	 * the bits below) gives ...a26: a tie broken by the low bits. */
	cr_assert_eq(ind_rstats_init(&rs, 2), IND_OK);
	ind_rstats_update(&rs, 2527713211239818651LL);
	ind_rstats_update(&rs, 0);
	cr_assert(ind_rstats_var(&rs, &v));
	cr_expect_eq(v, 0x1.33a29f7580a27p+120, "%a", v);

	/* Window 1: variance 0, no sample variance. */
	cr_assert_eq(ind_rstats_init(&rs, 1), IND_OK);
	ind_rstats_update(&rs, 42);
	cr_assert(ind_rstats_var(&rs, &v));
	cr_expect_eq(v, 0.0);
	cr_expect_not(ind_rstats_var_sample(&rs, &v));
}

/* The windowed ones against the naive reference, over a long random walk,
 * for several windows including 1, 2 and the maximum. */
static void check_windowed(const int64_t *x, size_t len, uint32_t n, size_t every)
{
	double v;
	struct ind_bollinger_out b;

	cr_assert_eq(ind_sma_init(&sma, n), IND_OK);
	cr_assert_eq(ind_rstats_init(&rs, n), IND_OK);
	cr_assert_eq(ind_bollinger_init(&bb, n, 2.0), IND_OK);
	bool zok = n >= 2;
	if (zok)
		cr_assert_eq(ind_zscore_init(&zs, n), IND_OK);
	for (size_t i = 0; i < len; i++) {
		ind_sma_update(&sma, x[i]);
		ind_rstats_update(&rs, x[i]);
		ind_bollinger_update(&bb, x[i]);
		if (zok)
			ind_zscore_update(&zs, x[i]);
		size_t seen = i + 1;
		bool want_ready = seen >= n;

		cr_assert_eq(ind_sma_ready(&sma), want_ready, "n=%u i=%zu", n, i);
		cr_assert_eq(ind_bollinger_ready(&bb), want_ready);
		/* Check at the warm-up sample, around it, and at checkpoints. */
		if (!(seen == n || seen == n + 1 || seen % every == 0 || seen == len))
			continue;
		if (!want_ready) {
			cr_assert_not(ind_sma_value(&sma, &v));
			continue;
		}
		__int128 exact = 0;
		for (size_t k = seen - n; k < seen; k++)
			exact += x[k];
		cr_assert(ind_sma_sum(&sma) == exact, "sma sum n=%u at %zu", n, seen);
		cr_assert(rs.sum == exact);

		long double mean = naive_mean(x, seen, n);
		long double var = naive_var(x, seen, n, 0);
		long double sd = sqrtl(var);

		cr_assert(ind_sma_value(&sma, &v));
		assert_close(v, mean, 1e-15L, 1.0L, "sma n=%u at %zu: %.17g vs %.17Lg", n, seen, v, mean);
		cr_assert(ind_bollinger_value(&bb, &b));
		assert_close(b.mid, mean, 1e-15L, 1.0L, "bb mid");
		assert_close(b.sigma, sd, 1e-12L, 1e-300L, "bb sigma n=%u at %zu: %.17g vs %.17Lg",
			     n, seen, b.sigma, sd);
		assert_close(b.upper, mean + 2 * sd, 1e-12L, fabsl(mean), "bb upper");
		assert_close(b.lower, mean - 2 * sd, 1e-12L, fabsl(mean), "bb lower");
		cr_assert(ind_rstats_var(&rs, &v));
		assert_close(v, var, 1e-12L, 1e-300L, "var");
		if (n >= 2) {
			cr_assert(ind_rstats_var_sample(&rs, &v));
			assert_close(v, naive_var(x, seen, n, 1), 1e-12L, 1e-300L, "sample var");
		}
		if (zok) {
			long double z = sd == 0 ? 0 : ((long double)x[seen - 1] - mean) / sd;

			cr_assert(ind_zscore_value(&zs, &v));
			/* z is a difference of nearby numbers divided by sd:
			 * compare on the scale of 1 (z itself is O(1)). */
			assert_close(v, z, 1e-9L, 1.0L, "z n=%u at %zu: %.17g vs %.17Lg", n, seen, v, z);
		}
	}
}

Test(indicators, windowed_against_naive_long_run, .timeout = 120)
{
	/* 1e6 updates; price 1e12 at scale 8 would not fit int64, so the big
	 * end of the range is covered separately below. */
	const size_t len = 1000000;
	int64_t *x = walk(len, 10000000000LL, 5000, 1);   /* 100.00000000 at scale 8 */

	check_windowed(x, len, 20, 99991);
	check_windowed(x, 5000, 1, 997);
	check_windowed(x, 5000, 2, 997);
	check_windowed(x, 50000, IND_MAX_WINDOW, 9973);
	free(x);
}

Test(indicators, windowed_tiny_and_huge_prices)
{
	/* Tiny: prices 1..3 (one unit at scale 8). */
	int64_t *x = walk(20000, 2, 1, 2);
	check_windowed(x, 20000, 14, 1009);
	free(x);

	/* Huge: near INT64_MAX with a wide walk; every square is near 2^126,
	 * the sum of 4096 of them near 2^138, past int128. */
	x = walk(20000, INT64_MAX - 4000000000000000000LL, 1000000000000000LL, 3);
	check_windowed(x, 20000, IND_MAX_WINDOW, 4999);
	check_windowed(x, 5000, 20, 997);
	free(x);

	/* Alternating extremes: INT64_MAX and INT64_MIN.  mean -1/2, every
	 * deviation 2^63 - 1/2, so the population sd is exactly 2^63 - 1/2
	 * (rounded to double: 2^63) and z of the last sample (INT64_MIN) is -1. */
	double v;
	cr_assert_eq(ind_zscore_init(&zs, IND_MAX_WINDOW), IND_OK);
	cr_assert_eq(ind_rstats_init(&rs, IND_MAX_WINDOW), IND_OK);
	for (uint32_t i = 0; i < 3 * IND_MAX_WINDOW; i++) {
		int64_t s = i % 2 ? INT64_MIN : INT64_MAX;
		ind_zscore_update(&zs, s);
		ind_rstats_update(&rs, s);
	}
	cr_assert(rs.sum == -(__int128)(IND_MAX_WINDOW / 2));
	cr_assert(ind_rstats_mean(&rs, &v));
	cr_expect_eq(v, -0.5);
	cr_assert(ind_rstats_std(&rs, &v));
	cr_expect_eq(v, 0x1p63);
	cr_assert(ind_zscore_value(&zs, &v));
	cr_expect(fabs(v + 1.0) < 1e-15, "z %.17g", v);
}

Test(indicators, constant_input)
{
	double v;
	struct ind_bollinger_out b;
	struct ind_rsi r;

	cr_assert_eq(ind_bollinger_init(&bb, 20, 2.0), IND_OK);
	cr_assert_eq(ind_zscore_init(&zs, 20), IND_OK);
	cr_assert_eq(ind_logvol_init(&lv, 20, 252), IND_OK);
	cr_assert_eq(ind_rsi_init(&r, 14), IND_OK);
	for (int i = 0; i < 100; i++) {
		ind_bollinger_update(&bb, 123456789);
		ind_zscore_update(&zs, 123456789);
		ind_logvol_update(&lv, 123456789);
		ind_rsi_update(&r, 123456789);
	}
	cr_assert(ind_bollinger_value(&bb, &b));
	cr_expect_eq(b.sigma, 0.0);
	cr_expect_eq(b.mid, 123456789.0);
	cr_expect_eq(b.upper, b.mid);
	cr_expect_eq(b.lower, b.mid);
	cr_assert(ind_zscore_value(&zs, &v));
	cr_expect_eq(v, 0.0, "std 0 must give z 0");
	cr_assert(ind_logvol_value(&lv, &v));
	cr_expect_eq(v, 0.0);
	cr_assert(ind_rsi_value(&r, &v));
	cr_expect_eq(v, 50.0, "constant price: RSI defined as 50");
}

/* ---- EMA ----------------------------------------------------------------- */

Test(indicators, ema_hand_values)
{
	struct ind_ema e;
	double v;

	/* n = 3, alpha 1/2.  Seed at sample 3: mean(1, 2, 3) = 2.
	 * 4: 2 + (4 - 2)/2 = 3.   10: 3 + (10 - 3)/2 = 6.5.   0: 3.25. */
	cr_assert_eq(ind_ema_init(&e, 3), IND_OK);
	cr_expect_eq(e.alpha, 0.5);
	ind_ema_update(&e, 1);
	ind_ema_update(&e, 2);
	cr_expect_not(ind_ema_value(&e, &v));
	ind_ema_update(&e, NAN);               /* rejected, not counted as a sample */
	ind_ema_update(&e, INFINITY);
	cr_expect_eq(e.rejected, 2);
	cr_expect_not(ind_ema_ready(&e));
	ind_ema_update(&e, 3);
	cr_assert(ind_ema_value(&e, &v));
	cr_expect_eq(v, 2.0);
	ind_ema_update(&e, 4);
	ind_ema_value(&e, &v);
	cr_expect_eq(v, 3.0);
	ind_ema_update(&e, 10);
	ind_ema_value(&e, &v);
	cr_expect_eq(v, 6.5);
	ind_ema_update(&e, NAN);
	ind_ema_update(&e, 0);
	ind_ema_value(&e, &v);
	cr_expect_eq(v, 3.25);

	/* n = 1: alpha 1, the EMA is the last sample. */
	cr_assert_eq(ind_ema_init(&e, 1), IND_OK);
	ind_ema_update(&e, 5);
	ind_ema_update(&e, -9);
	ind_ema_value(&e, &v);
	cr_expect_eq(v, -9.0);
}

/* Closed form of the seeded EMA at index t >= n-1 (0-based):
 *   seed * (1-a)^(t-n+1) + sum_{k=n}^{t} a (1-a)^(t-k) x_k */
static long double naive_ema(const long double *x, size_t t, uint32_t n)
{
	long double a = 2.0L / (n + 1.0L), seed = 0, acc;

	for (size_t k = 0; k < n; k++)
		seed += x[k];
	seed /= n;
	acc = seed * powl(1 - a, (long double)(t + 1 - n));
	for (size_t k = n; k <= t; k++)
		acc += a * powl(1 - a, (long double)(t - k)) * x[k];
	return acc;
}

Test(indicators, ema_and_macd_against_closed_form)
{
	const size_t len = 1500;
	int64_t *p = walk(len, 500000, 300, 4);
	long double *xs = malloc(len * sizeof *xs), *line = malloc(len * sizeof *line);
	struct ind_ema e;
	struct ind_macd m;
	struct ind_macd_out mo;
	double v;

	cr_assert(xs && line);
	for (size_t i = 0; i < len; i++)
		xs[i] = p[i];
	cr_assert_eq(ind_ema_init(&e, 10), IND_OK);
	cr_assert_eq(ind_macd_init(&m, 12, 26, 9), IND_OK);
	for (size_t i = 0; i < len; i++) {
		ind_ema_update(&e, (double)p[i]);
		ind_macd_update(&m, p[i]);
		cr_assert_eq(ind_ema_ready(&e), i + 1 >= 10);
		cr_assert_eq(ind_macd_line_ready(&m), i + 1 >= 26);
		/* 12/26/9: the signal exists from price 26 + 9 - 1 = 34. */
		cr_assert_eq(ind_macd_ready(&m), i + 1 >= 34, "macd ready at %zu", i + 1);
		if (i + 1 >= 26)
			line[i - 25] = naive_ema(xs, i, 12) - naive_ema(xs, i, 26);
		if (!(i + 1 == 10 || i + 1 == 34 || i % 97 == 0 || i + 1 == len))
			continue;
		if (i + 1 >= 10) {
			cr_assert(ind_ema_value(&e, &v));
			assert_close(v, naive_ema(xs, i, 10), 1e-12L, 1.0L, "ema at %zu", i);
		}
		if (i + 1 >= 34) {
			long double sig = naive_ema(line, i - 25, 9);

			cr_assert(ind_macd_value(&m, &mo));
			/* The line is a difference of ~5e5 values: absolute
			 * tolerance on the price scale. */
			cr_assert(fabsl(mo.line - line[i - 25]) < 1e-6L, "line at %zu", i);
			cr_assert(fabsl(mo.signal - sig) < 1e-6L, "signal at %zu", i);
			cr_assert(fabsl(mo.hist - (line[i - 25] - sig)) < 1e-6L);
		} else {
			cr_assert_not(ind_macd_value(&m, &mo));
		}
	}
	free(p);
	free(xs);
	free(line);
}

/* ---- RSI ----------------------------------------------------------------- */

/* The classic 14-period example (Wilder's method as popularised by
 * StockCharts): closes at scale 2.  The expected values are the exact
 * Wilder computation rounded to 2 decimals, as several independent
 * implementations publish them (first 70.46, i.e. 70.4641...); the
 * StockCharts table itself shows 70.53, 66.32, ... because its spreadsheet
 * rounded the intermediate averages. */
static const int64_t wilder_px[] = {
	4434, 4409, 4415, 4361, 4433, 4483, 4510, 4542, 4584, 4608, 4589, 4603,
	4561, 4628, 4628, 4600, 4603, 4641, 4622, 4564, 4621, 4625, 4571, 4645,
	4578, 4535, 4403, 4418, 4422, 4457, 4342, 4266, 4313,
};
static const double wilder_rsi[] = {
	70.46, 66.25, 66.48, 69.35, 66.29, 57.92, 62.88, 63.21, 56.01, 62.34,
	54.67, 50.39, 40.02, 41.49, 41.90, 45.50, 37.32, 33.09, 37.79,
};

Test(indicators, rsi_wilder_published_example)
{
	struct ind_rsi r;
	double v;
	size_t npx = sizeof wilder_px / sizeof wilder_px[0];

	cr_assert_eq(npx, 33);
	cr_assert_eq(ind_rsi_init(&r, 14), IND_OK);
	for (size_t i = 0; i < npx; i++) {
		ind_rsi_update(&r, wilder_px[i]);
		if (i < 14) {
			cr_assert_not(ind_rsi_ready(&r), "ready at price %zu", i + 1);
			cr_assert_not(ind_rsi_value(&r, &v));
			continue;
		}
		cr_assert(ind_rsi_value(&r, &v));
		cr_expect(fabs(v - wilder_rsi[i - 14]) <= 0.005 + 1e-9,
			  "RSI at price %zu: %.4f, published %.2f", i + 1, v, wilder_rsi[i - 14]);
	}
	/* First value to 4 places: 70.4641 (quoted by independent sources). */
	cr_assert_eq(ind_rsi_init(&r, 14), IND_OK);
	for (size_t i = 0; i < 15; i++)
		ind_rsi_update(&r, wilder_px[i]);
	ind_rsi_value(&r, &v);
	cr_expect(fabs(v - 70.4641) < 0.00005, "%.6f", v);
}

Test(indicators, rsi_edge_cases)
{
	struct ind_rsi r;
	double v;

	/* Only rises: avg loss 0, RSI 100.  Only falls: 0. */
	cr_assert_eq(ind_rsi_init(&r, 5), IND_OK);
	for (int i = 0; i < 10; i++)
		ind_rsi_update(&r, 100 + i);
	cr_assert(ind_rsi_value(&r, &v));
	cr_expect_eq(v, 100.0);
	cr_assert_eq(ind_rsi_init(&r, 5), IND_OK);
	for (int i = 0; i < 10; i++)
		ind_rsi_update(&r, 100 - i);
	cr_assert(ind_rsi_value(&r, &v));
	cr_expect_eq(v, 0.0);

	/* n = 2 by hand: prices 10, 12, 11 -> gains 2, 0; losses 0, 1:
	 * avg gain 1, avg loss 0.5, RS 2, RSI 100 - 100/3 = 66.67.
	 * Then 14: gain 3 -> avg gain (1 + 3)/2 = 2, avg loss 0.25, RS 8,
	 * RSI 100 - 100/9. */
	cr_assert_eq(ind_rsi_init(&r, 2), IND_OK);
	ind_rsi_update(&r, 10);
	ind_rsi_update(&r, 12);
	cr_expect_not(ind_rsi_ready(&r));
	ind_rsi_update(&r, 11);
	cr_assert(ind_rsi_value(&r, &v));
	cr_expect(fabs(v - (100.0 - 100.0 / 3.0)) < 1e-12);
	ind_rsi_update(&r, 14);
	ind_rsi_value(&r, &v);
	cr_expect(fabs(v - (100.0 - 100.0 / 9.0)) < 1e-12);

	/* Extreme prices: a jump from INT64_MIN to INT64_MAX is one exact
	 * int128 change, no overflow. */
	cr_assert_eq(ind_rsi_init(&r, 1), IND_OK);
	ind_rsi_update(&r, INT64_MIN);
	ind_rsi_update(&r, INT64_MAX);
	cr_assert(ind_rsi_value(&r, &v));
	cr_expect_eq(v, 100.0);
	cr_expect_eq(r.avg_gain, 0x1p64);
}

/* Wilder RSI recomputed from the whole history. */
static long double naive_rsi(const int64_t *p, size_t upto, uint32_t n)
{
	long double g = 0, l = 0;

	for (size_t k = 1; k <= n; k++) {
		long double d = (long double)p[k] - p[k - 1];
		g += d > 0 ? d : 0;
		l += d < 0 ? -d : 0;
	}
	g /= n;
	l /= n;
	for (size_t k = n + 1; k <= upto; k++) {
		long double d = (long double)p[k] - p[k - 1];
		g = (g * (n - 1) + (d > 0 ? d : 0)) / n;
		l = (l * (n - 1) + (d < 0 ? -d : 0)) / n;
	}
	if (l == 0)
		return g == 0 ? 50 : 100;
	return 100 - 100 / (1 + g / l);
}

Test(indicators, rsi_against_naive)
{
	const size_t len = 20000;
	int64_t *p = walk(len, 1000000, 100, 5);
	struct ind_rsi r;
	double v;

	cr_assert_eq(ind_rsi_init(&r, 14), IND_OK);
	for (size_t i = 0; i < len; i++) {
		ind_rsi_update(&r, p[i]);
		if (i < 14 || !(i == 14 || i % 1999 == 0 || i + 1 == len))
			continue;
		cr_assert(ind_rsi_value(&r, &v));
		long double want = naive_rsi(p, i, 14);
		cr_assert(fabsl(v - want) < 1e-9L, "rsi at %zu: %.12f vs %.12Lf", i, v, want);
	}
	free(p);
}

/* ---- ATR ----------------------------------------------------------------- */

Test(indicators, atr_hand_values)
{
	struct ind_atr a;
	double v;

	/* n = 3.  Bars (h, l, c):
	 *   (10, 8, 9)   first bar: TR = h - l = 2
	 *   (12, 10, 11) gap: max(2, |12-9|=3, |10-9|=1) = 3
	 *   (11, 10, 10) max(1, |11-11|=0, |10-11|=1) = 1  -> ATR (2+3+1)/3 = 2
	 *   (15, 13, 14) gap up: max(2, |15-10|=5, |13-10|=3) = 5
	 *                -> (2*2 + 5)/3 = 3
	 *   (14, 13, 13) max(1, 0, 1) = 1 -> (3*2 + 1)/3 = 7/3 */
	cr_assert_eq(ind_atr_init(&a, 3), IND_OK);
	ind_atr_update(&a, 10, 8, 9);
	ind_atr_update(&a, 12, 10, 11);
	cr_expect_not(ind_atr_value(&a, &v));
	ind_atr_update(&a, 8, 10, 9);          /* high < low: rejected */
	ind_atr_update(&a, 10, 8, 11);         /* close outside: rejected */
	cr_expect_eq(a.rejected, 2);
	cr_expect_not(ind_atr_ready(&a));
	ind_atr_update(&a, 11, 10, 10);
	cr_assert(ind_atr_value(&a, &v));
	cr_expect_eq(v, 2.0);
	ind_atr_update(&a, 15, 13, 14);
	ind_atr_value(&a, &v);
	cr_expect_eq(v, 3.0);
	ind_atr_update(&a, 14, 13, 13);
	ind_atr_value(&a, &v);
	cr_expect(fabs(v - 7.0 / 3.0) < 1e-15);

	/* Extreme range: TR of 2^64 - 1 is exact before the conversion. */
	cr_assert_eq(ind_atr_init(&a, 1), IND_OK);
	ind_atr_update(&a, INT64_MAX, INT64_MIN, 0);
	cr_assert(ind_atr_value(&a, &v));
	cr_expect_eq(v, 0x1p64);
}

Test(indicators, atr_against_naive)
{
	const size_t len = 5000;
	int64_t *c = walk(len, 100000, 50, 6);
	int64_t *h = malloc(len * sizeof *h), *l = malloc(len * sizeof *l);
	struct ind_atr a;
	double v;

	cr_assert(h && l);
	rng_state = 77;
	for (size_t i = 0; i < len; i++) {
		h[i] = c[i] + (int64_t)(rng() % 40);
		l[i] = c[i] - (int64_t)(rng() % 40);
	}
	cr_assert_eq(ind_atr_init(&a, 14), IND_OK);
	for (size_t i = 0; i < len; i++) {
		ind_atr_update(&a, h[i], l[i], c[i]);
		if (i + 1 < 14) {
			cr_assert_not(ind_atr_ready(&a));
			continue;
		}
		if (!(i + 1 == 14 || i % 499 == 0 || i + 1 == len))
			continue;
		/* From scratch: TRs, mean of the first 14, then Wilder. */
		long double atr = 0;
		for (size_t k = 0; k <= i; k++) {
			long double tr = h[k] - l[k];
			if (k > 0) {
				long double up = fabsl((long double)h[k] - c[k - 1]);
				long double dn = fabsl((long double)l[k] - c[k - 1]);
				tr = fmaxl(tr, fmaxl(up, dn));
			}
			if (k < 14)
				atr += tr / 14;
			else
				atr = (atr * 13 + tr) / 14;
		}
		cr_assert(ind_atr_value(&a, &v));
		cr_assert(fabsl(v - atr) < 1e-9L * atr, "atr at %zu: %.12f vs %.12Lf", i, v, atr);
	}
	free(c);
	free(h);
	free(l);
}

/* ---- VWAP ---------------------------------------------------------------- */

Test(indicators, vwap_cumulative_and_session_reset)
{
	double v;
	const int64_t day = 86400LL * 1000000000LL;

	cr_assert_eq(ind_vwap_init(&vw, 0, day), IND_OK);
	cr_expect_not(ind_vwap_value(&vw, &v));
	/* Day 0: 100 x 2, 110 x 3 -> (200 + 330) / 5 = 106. */
	ind_vwap_update(&vw, 10, 100, 2);
	cr_assert(ind_vwap_value(&vw, &v));
	cr_expect_eq(v, 100.0);
	ind_vwap_update(&vw, day - 1, 110, 3);
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 106.0);
	ind_vwap_update(&vw, 20, 999, 0);      /* qty 0: rejected */
	ind_vwap_update(&vw, 20, 999, -5);     /* negative: rejected */
	cr_expect_eq(vw.rejected, 2);
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 106.0);

	/* A gap of several days: one reset, VWAP of the new day only. */
	ind_vwap_update(&vw, 5 * day + 7, 200, 1);
	cr_expect_eq(vw.resets, 1);
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 200.0);
	/* A late trade from an earlier day: counted, kept, no reset. */
	ind_vwap_update(&vw, day + 3, 100, 1);
	cr_expect_eq(vw.late, 1);
	cr_expect_eq(vw.resets, 1);
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 150.0);
	/* Manual reset. */
	ind_vwap_reset(&vw);
	cr_expect_not(ind_vwap_value(&vw, &v));
	ind_vwap_update(&vw, 5 * day + 9, 7, 1);
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 7.0);

	/* Without session_ns, time never resets anything. */
	cr_assert_eq(ind_vwap_init(&vw, 0, 0), IND_OK);
	ind_vwap_update(&vw, 0, 10, 1);
	ind_vwap_update(&vw, 1000 * day, 20, 1);
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 15.0);

	/* Negative times: sessions are floor-aligned, so -1 and 0 differ. */
	cr_assert_eq(ind_vwap_init(&vw, 0, day), IND_OK);
	ind_vwap_update(&vw, -1, 10, 1);
	ind_vwap_update(&vw, 0, 20, 1);
	cr_expect_eq(vw.resets, 1);
}

Test(indicators, vwap_rolling_against_naive)
{
	const size_t len = 50000;
	const uint32_t n = 100;
	int64_t *px = walk(len, 5000000000LL, 1000, 7);
	int64_t *qty = malloc(len * sizeof *qty);
	double v;

	cr_assert(qty);
	rng_state = 8;
	for (size_t i = 0; i < len; i++)
		qty[i] = 1 + (int64_t)(rng() % 100000000);
	cr_assert_eq(ind_vwap_init(&vw, n, 0), IND_OK);
	for (size_t i = 0; i < len; i++) {
		ind_vwap_update(&vw, (int64_t)i, px[i], qty[i]);
		cr_assert_eq(ind_vwap_ready(&vw), i + 1 >= n);
		if (i + 1 < n || !(i + 1 == n || i % 4999 == 0 || i + 1 == len))
			continue;
		__int128 pq = 0, q = 0;
		for (size_t k = i + 1 - n; k <= i; k++) {
			pq += (__int128)px[k] * qty[k];
			q += qty[k];
		}
		cr_assert(vw.pq == pq && vw.q == q, "exact sums at %zu", i);
		cr_assert(ind_vwap_value(&vw, &v));
		long double want = (long double)pq / (long double)q;
		assert_close(v, want, 1e-15L, 1.0L, "vwap at %zu", i);
	}
	free(px);
	free(qty);
}

Test(indicators, vwap_huge_values)
{
	double v;

	/* px and qty at INT64_MAX: each product is ~2^126; a second one
	 * would pass INT128_MAX, so it is rejected and the first stays. */
	cr_assert_eq(ind_vwap_init(&vw, 0, 0), IND_OK);
	ind_vwap_update(&vw, 0, INT64_MAX, INT64_MAX);
	ind_vwap_update(&vw, 0, INT64_MAX, INT64_MAX);
	ind_vwap_update(&vw, 0, INT64_MAX, INT64_MAX);
	cr_expect_eq(vw.count, 2, "2 * (2^63-1)^2 < 2^127 fits");
	cr_expect_eq(vw.rejected, 1);
	cr_assert(ind_vwap_value(&vw, &v));
	cr_expect_eq(v, 0x1p63);

	/* Negative prices are prices (some futures went below 0). */
	cr_assert_eq(ind_vwap_init(&vw, 2, 0), IND_OK);
	ind_vwap_update(&vw, 0, -10, 1);
	ind_vwap_update(&vw, 0, 30, 3);
	cr_assert(ind_vwap_value(&vw, &v));
	cr_expect_eq(v, 20.0);                 /* (-10 + 90) / 4 */
	ind_vwap_update(&vw, 0, 0, 4);         /* window drops -10 x 1 */
	ind_vwap_value(&vw, &v);
	cr_expect_eq(v, 90.0 / 7.0);
}

/* ---- log-return volatility ------------------------------------------------ */

Test(indicators, logvol_hand_values)
{
	double v;

	/* Prices 100, 200, 100: returns ln 2 and -ln 2, sample sd
	 * sqrt((ln2^2 + ln2^2) / 1) = ln 2 * sqrt 2. */
	cr_assert_eq(ind_logvol_init(&lv, 2, 0), IND_OK);
	ind_logvol_update(&lv, 100);
	ind_logvol_update(&lv, 200);
	cr_expect_not(ind_logvol_value(&lv, &v), "ready at price n + 1 = 3");
	ind_logvol_update(&lv, 0);             /* rejected */
	ind_logvol_update(&lv, -5);            /* rejected */
	cr_expect_eq(lv.rejected, 2);
	ind_logvol_update(&lv, 100);
	cr_assert(ind_logvol_value(&lv, &v));
	cr_expect(fabs(v - log(2.0) * sqrt(2.0)) < 1e-15, "%.17g", v);

	/* Annualised by 252: times sqrt(252). */
	cr_assert_eq(ind_logvol_init(&lv, 2, 252), IND_OK);
	ind_logvol_update(&lv, 100);
	ind_logvol_update(&lv, 200);
	ind_logvol_update(&lv, 100);
	cr_assert(ind_logvol_value(&lv, &v));
	cr_expect(fabs(v - log(2.0) * sqrt(2.0) * sqrt(252.0)) < 1e-13);

	/* Extreme ratio: 1 -> INT64_MAX -> 1, returns +-ln(2^63 - 1). */
	cr_assert_eq(ind_logvol_init(&lv, 2, 0), IND_OK);
	ind_logvol_update(&lv, 1);
	ind_logvol_update(&lv, INT64_MAX);
	ind_logvol_update(&lv, 1);
	cr_assert(ind_logvol_value(&lv, &v));
	cr_expect(fabs(v - 63 * log(2.0) * sqrt(2.0)) < 1e-12, "%.17g", v);
}

Test(indicators, logvol_against_naive_long_run, .timeout = 120)
{
	const size_t len = 1000000;
	const uint32_t n = 60;
	int64_t *p = walk(len, 2000000000000LL, 200000, 9);   /* 20000.00000000, steps to 0.002 */
	double v;

	cr_assert_eq(ind_logvol_init(&lv, n, 0), IND_OK);
	for (size_t i = 0; i < len; i++) {
		ind_logvol_update(&lv, p[i]);
		cr_assert_eq(ind_logvol_ready(&lv), i >= n, "at price %zu", i + 1);
		if (i < n || !(i == n || i % 99991 == 0 || i + 1 == len))
			continue;
		long double r[60], m = 0, s = 0;
		for (uint32_t k = 0; k < n; k++) {
			size_t j = i - n + 1 + k;
			r[k] = logl((long double)p[j] / (long double)p[j - 1]);
			m += r[k];
		}
		m /= n;
		for (uint32_t k = 0; k < n; k++)
			s += (r[k] - m) * (r[k] - m);
		long double sd = sqrtl(s / (n - 1));

		cr_assert(ind_logvol_value(&lv, &v));
		/* Returns are ~1e-5 here; the 2^-56 quantum is 1e-12 of that. */
		assert_close(v, sd, 1e-9L, 1e-300L, "logvol at %zu: %.17g vs %.17Lg", i, v, sd);
	}
	free(p);
}

/* ---- determinism ------------------------------------------------------------ */

struct all {
	struct ind_ema ema;
	struct ind_rsi rsi;
	struct ind_macd macd;
	struct ind_atr atr;
	struct ind_bollinger bb;
	struct ind_zscore z;
	struct ind_logvol lv;
	struct ind_vwap vw;
};

static void run_all(struct all *a, const int64_t *p, size_t len, double *out)
{
	ind_ema_init(&a->ema, 21);
	ind_rsi_init(&a->rsi, 14);
	ind_macd_init(&a->macd, 12, 26, 9);
	ind_atr_init(&a->atr, 14);
	ind_bollinger_init(&a->bb, 20, 2.0);
	ind_zscore_init(&a->z, 50);
	ind_logvol_init(&a->lv, 30, 252);
	ind_vwap_init(&a->vw, 64, 1000);
	for (size_t i = 0; i < len; i++) {
		ind_ema_update(&a->ema, (double)p[i]);
		ind_rsi_update(&a->rsi, p[i]);
		ind_macd_update(&a->macd, p[i]);
		ind_atr_update(&a->atr, p[i] + 3, p[i] - 2, p[i]);
		ind_bollinger_update(&a->bb, p[i]);
		ind_zscore_update(&a->z, p[i]);
		ind_logvol_update(&a->lv, p[i]);
		ind_vwap_update(&a->vw, (int64_t)i * 7, p[i], 1 + (p[i] & 15));
	}
	struct ind_macd_out mo;
	struct ind_bollinger_out bo;

	ind_ema_value(&a->ema, &out[0]);
	ind_rsi_value(&a->rsi, &out[1]);
	ind_macd_value(&a->macd, &mo);
	out[2] = mo.line;
	out[3] = mo.signal;
	ind_atr_value(&a->atr, &out[4]);
	ind_bollinger_value(&a->bb, &bo);
	out[5] = bo.upper;
	out[6] = bo.lower;
	ind_zscore_value(&a->z, &out[7]);
	ind_logvol_value(&a->lv, &out[8]);
	ind_vwap_value(&a->vw, &out[9]);
}

Test(indicators, deterministic_bit_identical)
{
	static struct all a, b;
	const size_t len = 100000;
	int64_t *p = walk(len, 300000000, 20000, 10);
	double va[10], vb[10];

	/* Dirty the second copy first: results must not depend on what the
	 * memory held before init. */
	memset(&b, 0xA5, sizeof b);
	run_all(&a, p, len, va);
	run_all(&b, p, len, vb);
	cr_assert_eq(memcmp(va, vb, sizeof va), 0);
	for (int i = 0; i < 10; i++)
		cr_expect(isfinite(va[i]), "output %d", i);
	free(p);
}
