/*
 * Tests for strategies/markov.c: regimes, transition counts and the steady
 * state on paths whose windows are built to be known regimes.  The steady
 * state is checked against the hand solution and against an independent
 * power iteration in double precision written here.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "strategies/impl/markov.h"

#define INST 2
#define BU STRATEGY_REGIME_BULL
#define BE STRATEGY_REGIME_BEAR
#define SI STRATEGY_REGIME_SIDEWAYS

static struct markov m;
static const struct strategy_ctx ctx = { .instrument = INST, .px_scale = 2 };

static void trade(int64_t px)
{
	union fks_event e;
	struct fks_ev_signal s;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_TRADE;
	e.h.instrument = INST;
	e.trade.px = px;
	e.trade.qty = 1;
	cr_assert_not(markov_vtbl.on_market(&m, &e, &s), "a filter never signals");
}

/* One window of 4 trades from 10000 to `last` (only first and last count). */
static void window(int64_t last)
{
	trade(10000);
	trade(10500);    /* the middle of the window does not matter */
	trade(9500);
	trade(last);
}

static const int64_t BULL_LAST = 10300, BEAR_LAST = 9700, SIDE_LAST = 10100;

static void setup_markov(void)
{
	const struct fks_param p[] = { { "window", "4" }, { "on", "trade" } };
	struct fks_param_error err;

	cr_assert_eq(markov_vtbl.init(&m, &ctx, p, 2, &err), 0, "%s", err.msg);
}

Test(markov, known_regimes_counts_and_steady_state)
{
	/* Windows: BULL BULL SIDE BEAR BULL SIDE SIDE BULL BEAR | BEAR
	 * transitions: BU>BU BU>SI SI>BE BE>BU BU>SI SI>SI SI>BU BU>BE | BE>BE
	 * counts from BULL: bull 1, bear 1, side 2;  BEAR: bull 1, bear 1 (the
	 * last one only after window 10);  SIDE: 1, 1, 1. */
	const int64_t w[] = { BULL_LAST, BULL_LAST, SIDE_LAST, BEAR_LAST, BULL_LAST,
			      SIDE_LAST, SIDE_LAST, BULL_LAST, BEAR_LAST, BEAR_LAST };

	setup_markov();
	cr_assert_eq(markov_vtbl.regime(&m), STRATEGY_REGIME_UNKNOWN);
	window(w[0]);
	/* One window: a current regime but no transitions out of it yet. */
	cr_assert_eq(m.current, BU);
	cr_assert_eq(markov_vtbl.regime(&m), STRATEGY_REGIME_UNKNOWN);
	for (unsigned i = 1; i < 9; i++)
		window(w[i]);
	/* Now in BEAR, whose row is {BULL: 1}: BULL is likeliest next. */
	cr_assert_eq(m.current, BE);
	cr_assert_eq(markov_vtbl.regime(&m), BU);
	window(w[9]);
	/* BEAR row {BULL 1, BEAR 1}: a tie, so undecided. */
	cr_assert_eq(markov_vtbl.regime(&m), STRATEGY_REGIME_UNKNOWN);
	cr_assert_eq(m.windows, 10);

	const uint64_t expect[3][3] = { { 1, 1, 2 }, { 1, 1, 0 }, { 1, 1, 1 } };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			cr_assert_eq(markov_count(&m, i + 1, j + 1), expect[i][j], "[%d][%d]", i, j);

	/* By hand: the bull and bear columns are equal in every row, so
	 * pi_bull = pi_bear; pi_side = 2/4 pi_bull + 0 + 1/3 pi_side gives
	 * pi_side = 3/4 pi_bull; normalised: 4/11, 4/11, 3/11. */
	uint32_t ppm[3];

	cr_assert(markov_steady_state(&m, ppm));
	cr_assert_eq(ppm[0], 363636);
	cr_assert_eq(ppm[1], 363636);
	cr_assert_eq(ppm[2], 272727);

	/* Independently: power iteration on the row-normalised matrix. */
	double P[3][3], pi[3] = { 1.0 / 3, 1.0 / 3, 1.0 / 3 };

	for (int i = 0; i < 3; i++) {
		double r = 0;

		for (int j = 0; j < 3; j++)
			r += (double)expect[i][j];
		for (int j = 0; j < 3; j++)
			P[i][j] = (double)expect[i][j] / r;
	}
	for (int it = 0; it < 2000; it++) {
		double nx[3] = { 0, 0, 0 };

		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				nx[j] += pi[i] * P[i][j];
		memcpy(pi, nx, sizeof pi);
	}
	for (int i = 0; i < 3; i++)
		cr_assert(fabs(pi[i] * 1e6 - ppm[i]) <= 1.0, "pi[%d] %f vs %u", i, pi[i] * 1e6,
			  ppm[i]);
}

Test(markov, thresholds_are_strict_and_configurable)
{
	setup_markov();
	/* +2% exactly is sideways, +2.01% bull, -2% sideways, -2.01% bear. */
	window(10200);
	cr_assert_eq(m.current, SI);
	window(10201);
	cr_assert_eq(m.current, BU);
	window(9800);
	cr_assert_eq(m.current, SI);
	window(9799);
	cr_assert_eq(m.current, BE);

	const struct fks_param p[] = { { "window", "4" }, { "on", "trade" }, { "bull", "0.005" },
					    { "bear", "0.1" } };
	struct fks_param_error err;

	cr_assert_eq(markov_vtbl.init(&m, &ctx, p, 4, &err), 0, "%s", err.msg);
	window(10051);   /* +0.51% > 0.5% */
	cr_assert_eq(m.current, BU);
	window(9700);    /* -3% is not below -10% */
	cr_assert_eq(m.current, SI);
}

Test(markov, quotes_by_mid_and_unseen_rows_as_uniform)
{
	const struct fks_param p[] = { { "window", "2" } };
	struct fks_param_error err;
	union fks_event e;
	struct fks_ev_signal s;

	cr_assert_eq(markov_vtbl.init(&m, &ctx, p, 1, &err), 0, "%s", err.msg);
	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.instrument = INST;
	/* mids 100, 110 (bull), 100, 100 (side), 100, 110 (bull) */
	const int64_t mids[] = { 100, 110, 100, 100, 100, 110 };

	for (unsigned i = 0; i < 6; i++) {
		e.quote.bid_px = mids[i] - 1;
		e.quote.ask_px = mids[i] + 1;
		markov_vtbl.on_market(&m, &e, &s);
	}
	cr_assert_eq(markov_count(&m, BU, SI), 1);
	cr_assert_eq(markov_count(&m, SI, BU), 1);
	/* Rows BULL {SIDE 1}, SIDE {BULL 1}, BEAR unseen -> uniform {1,1,1}.
	 * Tree weights (r_i times trees into i):
	 *   bull: 1 * (c_be>bu c_si>bu + c_be>bu c_si>be + c_be>si c_si>bu) = 1+0+1 = 2
	 *   bear: 3 * (c_bu>be c_si>be + c_bu>be c_si>bu + c_bu>si c_si>be) = 0
	 *   side: 1 * (c_bu>si c_be>si + c_bu>si c_be>bu + c_bu>be c_be>si) = 1+1+0 = 2
	 * so 1/2, 0, 1/2: bear is never reached. */
	uint32_t ppm[3];

	cr_assert(markov_steady_state(&m, ppm));
	cr_assert_eq(ppm[0], 500000);
	cr_assert_eq(ppm[1], 0);
	cr_assert_eq(ppm[2], 500000);
	cr_assert_eq(markov_vtbl.regime(&m), SI);   /* current BULL, row {SIDE 1} */
}

Test(markov, windows_of_time_bars)
{
	/* 1 s bars, windows of 2 bars, trades only.  Trades at seconds
	 * 0, 0.5 | 1 | 2 | 3 | 4: bars close at the next bar's first trade, so
	 * bar closes 100 (s0, the 0.5 s trade), 103 (s1), 103 (s2), 99 (s3).
	 * Window 1 = bars s0, s1: 100 -> 103 = +3% bull.  Window 2 = s2, s3:
	 * 103 -> 99 = -3.9% bear.  The trade at s4 closes bar s3. */
	const struct fks_param p[] = { { "window", "2" }, { "on", "trade" },
					    { "bar_ms", "1000" } };
	struct fks_param_error err;
	const int64_t t[] = { 0, 500, 1000, 2000, 3000, 4000 };
	const int64_t px[] = { 101, 100, 103, 103, 99, 50 };

	cr_assert_eq(markov_vtbl.init(&m, &ctx, p, 3, &err), 0, "%s", err.msg);
	for (unsigned i = 0; i < 6; i++) {
		union fks_event e;
		struct fks_ev_signal s;

		memset(&e, 0, sizeof e);
		e.h.type = FKS_EV_TRADE;
		e.h.instrument = INST;
		e.h.event_time_ns = 1700000000000000000LL + t[i] * 1000000;
		e.trade.px = px[i];
		e.trade.qty = 1;
		markov_vtbl.on_market(&m, &e, &s);
		if (i == 3)
			cr_assert_eq(m.current, BU, "window 1 ends with bar s1, closed at s2");
	}
	cr_assert_eq(m.windows, 2);
	cr_assert_eq(m.current, BE);
	cr_assert_eq(markov_count(&m, BU, BE), 1);
}

static void expect_bad(const char *key, const char *value)
{
	const struct fks_param p[] = { { key, value } };
	struct fks_param_error err;

	memset(&err, 0, sizeof err);
	cr_expect_eq(markov_vtbl.init(&m, &ctx, p, 1, &err), -1, "%s=%s accepted", key, value);
	cr_expect(err.key && strcmp(err.key, key) == 0, "%s=%s: key %s", key, value,
		  err.key ? err.key : "(null)");
}

Test(markov, bad_params)
{
	expect_bad("window", "1");
	expect_bad("window", "1000001");
	expect_bad("window", "-4");
	expect_bad("bull", "0");
	expect_bad("bull", "1.5");
	expect_bad("bear", "x");
	expect_bad("on", "quotes");
	expect_bad("gate", "m1");
	expect_bad("bar_ms", "0");
	expect_bad("bar_ms", "86400001");
}

Test(markov, two_closed_classes_have_no_unique_steady_state)
{
	uint32_t ppm[3] = { 7, 7, 7 };

	setup_markov();
	cr_assert_not(markov_steady_state(&m, ppm), "no transitions yet");
	/* Set by hand: only self-loops in bull and side, bear unseen. */
	m.counts[0][0] = 3;
	m.counts[2][2] = 2;
	/* bear uniform; bull and side absorbing: every tree weight is 0. */
	cr_assert_not(markov_steady_state(&m, ppm));
	cr_assert_eq(ppm[0], 7);
}
