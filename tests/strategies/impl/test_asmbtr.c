/*
 * Tests for strategies/asmbtr.c.
 *
 * The price paths are built from explicit lists of changes, and every
 * expected state, count and probability is worked out by hand in the
 * comments next to it (depth 4, states written newest change in bit 0).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "strategies/impl/asmbtr.h"

#define INST 7
#define ONE ASMBTR_ONE

static struct asmbtr a;
static const struct strategy_ctx ctx = { .instrument = INST, .px_scale = 2, .qty_scale = 0,
					 .strategy_id = 4 };
static uint64_t seq;

static int init_with(const struct fks_param *p, size_t n, struct fks_param_error *err)
{
	seq = 0;
	return asmbtr_vtbl.init(&a, &ctx, p, n, err);
}

static bool trade(int64_t px, struct fks_ev_signal *out)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_TRADE;
	e.h.instrument = INST;
	e.h.seq = ++seq;
	e.h.event_time_ns = 1000 + (int64_t)seq;
	e.h.recv_time_ns = 5000 + (int64_t)seq;
	e.trade.px = px;
	e.trade.qty = 1;
	return asmbtr_vtbl.on_market(&a, &e, out);
}

/* Apply a change string: 'U' +10, 'D' -10, '0' the same price again.  Returns
 * the index (1-based, counting every letter) of each signal in *at, its side
 * in *sides. */
static int64_t px_now;
static unsigned run(const char *path, unsigned *at, uint8_t *sides, struct fks_ev_signal *last)
{
	unsigned n = 0;

	for (unsigned i = 0; path[i]; i++) {
		struct fks_ev_signal s;

		px_now += path[i] == 'U' ? 10 : path[i] == 'D' ? -10 : 0;
		if (trade(px_now, &s)) {
			at[n] = i + 1;
			sides[n] = s.side;
			if (last)
				*last = s;
			n++;
		}
	}
	return n;
}

Test(asmbtr, alternating_path_learns_both_states_and_skips_zero_changes)
{
	const struct fks_param p[] = {
		{ "depth", "4" }, { "decay", "1.0" }, { "threshold", "0.6" },
		{ "min_obs", "1" }, { "on", "trade" },
	};
	struct fks_param_error err;
	unsigned at[32];
	uint8_t sides[32];
	struct fks_ev_signal last;

	cr_assert_eq(init_with(p, 5, &err), 0, "%s", err.msg);
	px_now = 10000;
	cr_assert_not(trade(px_now, &last));      /* the first sample: no change */

	/* Changes U D U D: state after them = 1010b = 10.  Change 5 (U) is
	 * state 10's first outcome -> state 0101b = 5, never seen: nothing.
	 * Change 6 (D) teaches state 5 "down" -> state 10, seen once, up:
	 * P(up) = 1 -> BUY.  Change 7 (U) -> state 5, seen once, down: SELL.
	 * The zero changes ('0') change nothing and signal nothing. */
	unsigned n = run("U0D00U0DUDU", at, sides, &last);

	/* letters:      1 2 3 4 5 6 7 8 9 10 11
	 *               U 0 D 0 0 U 0 D U D  U
	 * non-zero #:   1   2     3   4 5 6  7
	 * so change 6 is letter 10 and change 7 letter 11. */
	cr_assert_eq(n, 2);
	cr_assert_eq(at[0], 10);
	cr_assert_eq(sides[0], FKS_SIDE_BUY);
	cr_assert_eq(at[1], 11);
	cr_assert_eq(sides[1], FKS_SIDE_SELL);
	cr_assert_eq(last.confidence, FKS_CONF_ONE);
	cr_assert_eq(a.changes, 7);
	cr_assert_eq(a.state, 5);
	/* State 10 was followed by U at changes 5 and 7; state 5 by D at 6. */
	cr_assert_eq(asmbtr_cell(&a, 10)->n, 2);
	cr_assert_eq(asmbtr_cell(&a, 10)->up, 2 * ONE);
	cr_assert_eq(asmbtr_cell(&a, 10)->total, 2 * ONE);
	cr_assert_eq(asmbtr_cell(&a, 5)->n, 1);
	cr_assert_eq(asmbtr_cell(&a, 5)->up, 0);
	cr_assert_eq(asmbtr_cell(&a, 5)->total, ONE);
	/* Sell at the trade price 10000 - 10 + 10 - 10 + 10 - 10 + 10 = 10000... */
	cr_assert_eq(last.entry_px, px_now);
	/* ...with the default bracket: sl 50 bps above, tp 100 bps below. */
	cr_assert_eq(last.stop_loss_px, px_now + px_now * 50 / 10000);
	cr_assert_eq(last.take_profit_px, px_now - px_now * 100 / 10000);
	cr_assert_eq(last.cause_seq, seq);
	cr_assert_eq(last.h.instrument, INST);
	cr_assert_eq(last.strategy, 4);
	cr_assert_eq(last.h.recv_time_ns, 5000 + (int64_t)seq);
}

/*
 * Decay 0.9, min_obs 2, depth 4, state 0 = DDDD:
 *   changes 1-4 D: state 0
 *   5 D: cell0 learns down:  up 0,            total 1            n 1
 *   6 U: cell0 learns up:    up 0*.9+1 = 1,   total .9+1 = 1.9   n 2; state 1
 *   7 D: cell1 down (n 1); state 2.  8 D: cell2 (n 1); state 4.
 *   9 D: cell4 (n 1); state 8.  10 D: cell8 (n 1); state 0:
 *        P(up) = 1/1.9 = 0.526, P(down) = 0.474: no signal
 *  11 U: cell0 learns up:   up .9+1 = 1.9,   total 1.71+1 = 2.71 n 3; state 1:
 *        n 1 < min_obs: no signal
 *  12-14 D: cells 1, 2, 4 reach n 2; states 2, 4, 8 have n 1: no signal
 *  15 D: cell8 n 2; state 0: n 3, P(up) = 1.9 / 2.71 = 0.70110701...
 *        -> BUY, confidence floor(701107.01) = 701107
 */
static const char *const DECAY_PATH = "DDDDDUDDDDUDDDD";

Test(asmbtr, decayed_probabilities_by_hand)
{
	const struct fks_param p[] = {
		{ "depth", "4" }, { "decay", "0.9" }, { "min_obs", "2" }, { "on", "trade" },
	};
	struct fks_param_error err;
	unsigned at[32];
	uint8_t sides[32];
	struct fks_ev_signal last;

	cr_assert_eq(init_with(p, 4, &err), 0, "%s", err.msg);
	px_now = 100000;
	trade(px_now, &last);
	unsigned n = run(DECAY_PATH, at, sides, &last);

	cr_assert_eq(n, 1);
	cr_assert_eq(at[0], 15);
	cr_assert_eq(sides[0], FKS_SIDE_BUY);
	cr_assert_eq(last.confidence, 701107);
	cr_assert_eq(asmbtr_cell(&a, 0)->up, 1900000000ull);
	cr_assert_eq(asmbtr_cell(&a, 0)->total, 2710000000ull);
	cr_assert_eq(asmbtr_cell(&a, 0)->n, 3);
	cr_assert_eq(asmbtr_cell(&a, 1)->up, 0);
	cr_assert_eq(asmbtr_cell(&a, 1)->total, 1900000000ull);
	cr_assert_eq(asmbtr_cell(&a, 8)->n, 2);
}

Test(asmbtr, threshold_above_the_probability_stays_silent)
{
	const struct fks_param p[] = {
		{ "depth", "4" }, { "decay", "0.9" }, { "min_obs", "2" }, { "on", "trade" },
		{ "threshold", "0.75" },
	};
	struct fks_param_error err;
	unsigned at[32];
	uint8_t sides[32];

	cr_assert_eq(init_with(p, 5, &err), 0, "%s", err.msg);
	px_now = 100000;
	trade(px_now, NULL);
	/* P(up | 0) = 0.701 < 0.75, P(down) smaller: nothing. */
	cr_assert_eq(run(DECAY_PATH, at, sides, NULL), 0);
}

Test(asmbtr, quotes_use_the_mid_and_enter_at_the_touch)
{
	const struct fks_param p[] = { { "depth", "4" }, { "min_obs", "1" }, { "decay", "1" } };
	struct fks_param_error err;
	union fks_event e;
	struct fks_ev_signal s;
	int64_t mids[] = { 1000, 1010, 1000, 1010, 1000, 1010, 1000, 1010 };
	unsigned sigs = 0;

	cr_assert_eq(init_with(p, 3, &err), 0, "%s", err.msg);
	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.instrument = INST;
	for (unsigned i = 0; i < 8; i++) {
		/* A trade in between is ignored: the source is quotes. */
		union fks_event t = e;

		t.h.type = FKS_EV_TRADE;
		t.trade.px = 5;
		cr_assert_not(asmbtr_vtbl.on_market(&a, &t, &s));
		e.h.seq = i + 1;
		e.quote.bid_px = mids[i] - 1;
		e.quote.ask_px = mids[i] + 1;
		if (asmbtr_vtbl.on_market(&a, &e, &s)) {
			sigs++;
			/* Changes U D U D U D U: the first signal is at change 6
			 * (sample 7, a down move into state 1010b whose one
			 * outcome was up): BUY at the ask. */
			if (sigs == 1) {
				cr_assert_eq(i, 6);
				cr_assert_eq(s.side, FKS_SIDE_BUY);
				cr_assert_eq(s.entry_px, mids[i] + 1);
			} else {
				cr_assert_eq(s.side, FKS_SIDE_SELL);
				cr_assert_eq(s.entry_px, mids[i] - 1);
			}
		}
	}
	cr_assert_eq(sigs, 2);
}

static void expect_bad(const char *key, const char *value)
{
	const struct fks_param p[] = { { key, value } };
	struct fks_param_error err;

	memset(&err, 0, sizeof err);
	cr_expect_eq(init_with(p, 1, &err), -1, "%s=%s accepted", key, value);
	cr_expect(err.key && strcmp(err.key, key) == 0, "%s=%s: error names %s", key, value,
		  err.key ? err.key : "(null)");
	cr_expect(err.msg[0], "no message");
}

Test(asmbtr, bad_params_name_their_key)
{
	expect_bad("depth", "3");
	expect_bad("depth", "13");
	expect_bad("depth", "eight");
	expect_bad("depth", "99999999999999999999999");
	expect_bad("decay", "0.89");
	expect_bad("decay", "1.01");
	expect_bad("decay", "");
	expect_bad("threshold", "0.5");
	expect_bad("threshold", "0.76");
	expect_bad("threshold", "0.6000001");
	expect_bad("min_obs", "0");
	expect_bad("on", "book");
	expect_bad("tp_atr", "2");
	expect_bad("sl_bps", "0");
	expect_bad("colour", "blue");
}

Test(asmbtr, defaults)
{
	struct fks_param_error err;

	cr_assert_eq(init_with(NULL, 0, &err), 0);
	cr_assert_eq(a.depth, 8);
	cr_assert_eq(a.decay_ppm, 990000);
	cr_assert_eq(a.threshold_ppm, 600000);
	cr_assert_eq(strategy_find("asmbtr"), &asmbtr_vtbl);
}
