/*
 * Tests for the indicator strategies: sma_cross (SMA and EMA), rsi_mr and
 * bollinger, on hand-made trade series.  The sample at which each signals,
 * and its prices, are worked out in the comments; confidences that go
 * through doubles are compared within one ppm.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/impl/bollinger.h"
#include "strategies/impl/rsi_mr.h"
#include "strategies/impl/sma_cross.h"

#define INST 11

static const struct strategy_ctx ctx = { .instrument = INST, .px_scale = 2, .strategy_id = 8 };
static void *state;

static const struct strategy_vtbl *setup_kind(const char *kind, const struct fks_param *p,
					      size_t n)
{
	const struct strategy_vtbl *vt = strategy_find(kind);
	struct fks_param_error err;

	cr_assert_not_null(vt, "%s", kind);
	free(state);
	state = calloc(1, vt->state_size);
	cr_assert_eq(vt->init(state, &ctx, p, n, &err), 0, "%s: %s", kind, err.msg);
	return vt;
}

struct hit {
	unsigned at;             /* 1-based sample */
	struct fks_ev_signal s;
};

static unsigned feed(const struct strategy_vtbl *vt, const int64_t *px, unsigned n,
		     struct hit *hits)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		union fks_event e;

		memset(&e, 0, sizeof e);
		e.h.type = FKS_EV_TRADE;
		e.h.instrument = INST;
		e.h.seq = 100 + i;
		e.trade.px = px[i];
		e.trade.qty = 1;
		if (vt->on_market(state, &e, &hits[k].s))
			hits[k++].at = i + 1;
	}
	return k;
}

#define NEAR(a, b) cr_assert(llabs((long long)(a) - (long long)(b)) <= 1, "%lld vs %lld", \
			     (long long)(a), (long long)(b))

/* Prices 100 100 100 100 106 100 94 with fast 2 and slow 3:
 *   SMA:  sample 3 fast 100 slow 100 (equal); 4 equal;
 *         5 fast 103 > slow 102 -> BUY;  6 fast 103 > slow 102;
 *         7 fast 97 < slow 100 -> SELL.
 *   EMA (alpha 2/3 and 1/2, seeded by the simple mean):
 *         5 fast 104 > slow 103 -> BUY;
 *         6 fast 104 - 2/3*4 = 101.33 < slow 103 - 1.5 = 101.5 -> SELL. */
static const int64_t CROSS[] = { 100, 100, 100, 100, 106, 100, 94, 94 };

Test(sma_cross, sma_signals_at_the_hand_computed_samples)
{
	const struct fks_param p[] = { { "fast", "2" }, { "slow", "3" }, { "on", "trade" },
					    { "full_conf_bps", "1000" } };
	const struct strategy_vtbl *vt = setup_kind("sma_cross", p, 4);
	struct hit h[8];

	cr_assert_eq(feed(vt, CROSS, 8, h), 2);
	cr_assert_eq(h[0].at, 5);
	cr_assert_eq(h[0].s.side, FKS_SIDE_BUY);
	cr_assert_eq(h[0].s.entry_px, 106);
	cr_assert_eq(h[0].s.cause_seq, 104);
	cr_assert_eq(h[0].s.strategy, 8);
	/* spread 1/102 = 98 bps of 1000: strength 0.098 -> 0.549 */
	NEAR(h[0].s.confidence, 500000 + 500000 * 98.0392156862745 / 1000);
	cr_assert_eq(h[1].at, 7);
	cr_assert_eq(h[1].s.side, FKS_SIDE_SELL);
	/* spread 3/100 = 300 bps: strength 0.3 -> 0.65 */
	NEAR(h[1].s.confidence, 650000);
	/* default bracket on 94: sl +0.47 -> floor 0 -> one unit; tp -0.94 -> 0 -> 1 unit */
	cr_assert_eq(h[1].s.stop_loss_px, 95);
	cr_assert_eq(h[1].s.take_profit_px, 93);
}

Test(sma_cross, ema_signals_earlier)
{
	const struct fks_param p[] = { { "fast", "2" }, { "slow", "3" }, { "on", "trade" },
					    { "ma", "ema" } };
	const struct strategy_vtbl *vt = setup_kind("sma_cross", p, 4);
	struct hit h[8];

	cr_assert_eq(feed(vt, CROSS, 8, h), 2);
	cr_assert_eq(h[0].at, 5);
	cr_assert_eq(h[0].s.side, FKS_SIDE_BUY);
	cr_assert_eq(h[1].at, 6);
	cr_assert_eq(h[1].s.side, FKS_SIDE_SELL);
	/* 101.33 vs 101.5: spread 0.1667/101.5 = 16.4 bps >= 10: full */
	cr_assert_eq(h[1].s.confidence, FKS_CONF_ONE);
}

Test(sma_cross, atr_bracket)
{
	/* ATR over 1 sample = the last absolute change: at sample 5 it is
	 * 106 - 100 = 6, so TP 106 + 2*6 = 118 and SL 106 - 6 = 100. */
	const struct fks_param p[] = { { "fast", "2" }, { "slow", "3" }, { "on", "trade" },
					    { "tp_atr", "2" }, { "sl_atr", "1" },
					    { "bracket_atr", "1" } };
	const struct strategy_vtbl *vt = setup_kind("sma_cross", p, 6);
	struct hit h[8];

	cr_assert_eq(feed(vt, CROSS, 5, h), 1);
	cr_assert_eq(h[0].s.take_profit_px, 118);
	cr_assert_eq(h[0].s.stop_loss_px, 100);
}

/* Wilder RSI, period 2, on 100 101 102 103 100 99 100:
 *   price 3: gains 1, 1 -> avg gain 1, loss 0 -> RSI 100 > 70: SELL (new
 *            excursion), strength (100 - 70) / 30 = 1
 *   price 4: gain 1 -> RSI 100, not beyond 100: nothing
 *   price 5: loss 3 -> gain (1 + 0) / 2 = .5, loss (0 + 3) / 2 = 1.5,
 *            RSI 100 - 100 / (1 + 1/3) = 25 < 30: BUY, strength 5/30
 *   price 6: loss 1 -> gain .25, loss 1.25, RSI 100 - 100/1.2 = 16.67,
 *            deeper: BUY, strength 13.33/30 = .4444
 *   price 7: gain 1 -> gain .625, loss .625, RSI 50: out of the zone. */
Test(rsi_mr, signals_entering_and_deepening_the_zones)
{
	const struct fks_param p[] = { { "period", "2" }, { "on", "trade" } };
	const struct strategy_vtbl *vt = setup_kind("rsi_mr", p, 2);
	const int64_t px[] = { 10000, 10100, 10200, 10300, 10000, 9900, 10000 };
	struct hit h[8];

	cr_assert_eq(feed(vt, px, 7, h), 3);
	cr_assert_eq(h[0].at, 3);
	cr_assert_eq(h[0].s.side, FKS_SIDE_SELL);
	cr_assert_eq(h[0].s.confidence, FKS_CONF_ONE);
	cr_assert_eq(h[1].at, 5);
	cr_assert_eq(h[1].s.side, FKS_SIDE_BUY);
	NEAR(h[1].s.confidence, 583333);
	cr_assert_eq(h[2].at, 6);
	NEAR(h[2].s.confidence, 722222);
	/* bracket on 9900: tp +99, sl -49 (49.5 rounded down) */
	cr_assert_eq(h[2].s.take_profit_px, 9999);
	cr_assert_eq(h[2].s.stop_loss_px, 9851);
}

/* Bollinger, period 4, k 1, on 10000 x4 then 10400, 10800, 10000:
 *   sample 4: sigma 0: nothing
 *   sample 5: [10000 x3, 10400] mean 10100, var (3*100^2 + 300^2)/4 = 30000,
 *             sigma 173.2, upper 10273.2 < 10400; z = 300/173.2 = 1.732
 *   sample 6: [10000, 10000, 10400, 10800] mean 10300, var 110000, sigma
 *             331.7, upper 10631.7 < 10800 but z 500/331.7 = 1.508 < 1.732:
 *             not further out, nothing
 *   sample 7: [10000, 10400, 10800, 10000] lower 9968.3 < 10000: inside. */
static const int64_t BB[] = { 10000, 10000, 10000, 10000, 10400, 10800, 10000 };

Test(bollinger, reversion_sells_above_with_tp_at_the_middle)
{
	const struct fks_param p[] = { { "period", "4" }, { "k", "1" }, { "on", "trade" } };
	const struct strategy_vtbl *vt = setup_kind("bollinger", p, 3);
	struct hit h[8];

	cr_assert_eq(feed(vt, BB, 7, h), 1);
	cr_assert_eq(h[0].at, 5);
	cr_assert_eq(h[0].s.side, FKS_SIDE_SELL);
	cr_assert_eq(h[0].s.entry_px, 10400);
	cr_assert_eq(h[0].s.take_profit_px, 10100);
	cr_assert_eq(h[0].s.stop_loss_px, 10452);
	/* |z| - k = 0.7320508: 0.5 + 0.366025 */
	NEAR(h[0].s.confidence, 866025);
}

Test(bollinger, breakout_buys_above)
{
	const struct fks_param p[] = { { "period", "4" }, { "k", "1" }, { "on", "trade" },
					    { "mode", "breakout" } };
	const struct strategy_vtbl *vt = setup_kind("bollinger", p, 4);
	struct hit h[8];

	cr_assert_eq(feed(vt, BB, 7, h), 1);
	cr_assert_eq(h[0].s.side, FKS_SIDE_BUY);
	cr_assert_eq(h[0].s.take_profit_px, 10504);
	cr_assert_eq(h[0].s.stop_loss_px, 10348);
}

static void expect_bad(const char *kind, const char *key, const char *value)
{
	const struct strategy_vtbl *vt = strategy_find(kind);
	const struct fks_param p[] = { { key, value } };
	struct fks_param_error err;

	free(state);
	state = calloc(1, vt->state_size);
	memset(&err, 0, sizeof err);
	cr_expect_eq(vt->init(state, &ctx, p, 1, &err), -1, "%s %s=%s", kind, key, value);
	cr_expect(err.key && strcmp(err.key, key) == 0, "%s %s=%s names %s", kind, key, value,
		  err.key ? err.key : "(null)");
}

Test(strategies, bad_params_name_their_key)
{
	expect_bad("sma_cross", "fast", "40");          /* >= default slow 30 */
	expect_bad("sma_cross", "fast", "0");
	expect_bad("sma_cross", "slow", "5000");
	expect_bad("sma_cross", "ma", "wma");
	expect_bad("sma_cross", "full_conf_bps", "0");
	expect_bad("sma_cross", "tp_atr", "100");
	expect_bad("sma_cross", "bracket_atr", "0");
	expect_bad("sma_cross", "on", "bar");
	expect_bad("sma_cross", "window", "3");
	expect_bad("rsi_mr", "period", "0");
	expect_bad("rsi_mr", "oversold", "60");
	expect_bad("rsi_mr", "overbought", "40");
	expect_bad("rsi_mr", "overbought", "100");
	expect_bad("rsi_mr", "oversold", "abc");
	expect_bad("rsi_mr", "fast", "2");
	expect_bad("bollinger", "period", "1");
	expect_bad("bollinger", "k", "0");
	expect_bad("bollinger", "k", "11");
	expect_bad("bollinger", "mode", "squeeze");
	expect_bad("bollinger", "sl_bps", "10001");

	/* fast >= slow when both are given names the fast key */
	const struct fks_param both[] = { { "slow", "3" }, { "fast", "3" } };
	struct fks_param_error err;

	free(state);
	state = calloc(1, sma_cross_vtbl.state_size);
	cr_assert_eq(sma_cross_vtbl.init(state, &ctx, both, 2, &err), -1);
	cr_assert_str_eq(err.key, "fast");
}

/* ---- bars (bar: time|volume) ------------------------------------------ */

/* One market event of a hand-made stream: T = trade, Q = quote. */
struct mev {
	char type;
	int64_t t_ms;
	int64_t px, qty;         /* trade: price, qty; quote: bid, ask */
};

static void *make_state(const char *kind, const struct strategy_ctx *c,
			const struct fks_param *p, size_t n)
{
	const struct strategy_vtbl *vt = strategy_find(kind);
	struct fks_param_error err;

	free(state);
	state = calloc(1, vt->state_size);
	cr_assert_eq(vt->init(state, c, p, n, &err), 0, "%s: %s", kind, err.msg);
	return state;
}

static void make_event(union fks_event *e, const struct mev *m, unsigned i)
{
	memset(e, 0, sizeof *e);
	e->h.instrument = INST;
	e->h.seq = 100 + i;
	e->h.event_time_ns = m->t_ms * 1000000;
	if (m->type == 'T') {
		e->h.type = FKS_EV_TRADE;
		e->trade.px = m->px;
		e->trade.qty = m->qty;
	} else {
		e->h.type = FKS_EV_QUOTE;
		e->quote.bid_px = m->px;
		e->quote.ask_px = m->qty;
		e->quote.bid_qty = e->quote.ask_qty = 1;
	}
}

/* hits[].at is the 1-based index of the event that signalled */
static unsigned feed_events(const struct strategy_vtbl *vt, const struct mev *ev, unsigned n,
			    struct hit *hits)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		union fks_event e;

		make_event(&e, &ev[i], i);
		if (vt->on_market(state, &e, &hits[k].s))
			hits[k++].at = i + 1;
	}
	return k;
}

/*
 * One-second time bars [k s, k+1 s) from trades; the spikes inside bars 1
 * and 3 would move a tick-fed crossover but only closes count here.
 *   bar 0: 100 100          -> close 100
 *   bar 1: 120 100          -> close 100 (high 120)
 *   bar 2: 100              -> close 100
 *   bar 3: 90 100           -> close 100 (low 90)
 *   bar 4: 106 110 104 106  -> close 106, high 110, low 104
 *   bar 5: 108 100          -> close 100   (opened by event 12, which closes bar 4)
 *   bar 6: 94               -> close 94    (closed by the quote, event 16)
 * Closes 100 100 100 100 106 100 94 with fast 2, slow 3 (as CROSS above):
 * bar 4 (5th close) BUY at 106, seen on event 12 (the 5.2 s trade);
 * bar 6 (7th close) SELL at 94, seen on event 16 (a quote at 7.1 s).
 */
static const struct mev TBARS[] = {
	{ 'T', 100, 100, 1 }, { 'T', 500, 100, 1 },                          /* 1-2 */
	{ 'T', 1200, 120, 1 }, { 'T', 1700, 100, 1 },                        /* 3-4 */
	{ 'T', 2300, 100, 1 },                                               /* 5 */
	{ 'T', 3100, 90, 1 }, { 'T', 3900, 100, 1 },                         /* 6-7 */
	{ 'T', 4200, 106, 1 }, { 'T', 4400, 110, 1 }, { 'T', 4600, 104, 1 }, /* 8-10 */
	{ 'T', 4800, 106, 1 },                                               /* 11 */
	{ 'T', 5200, 108, 1 }, { 'Q', 5500, 99, 101 }, { 'T', 5800, 100, 1 },/* 12-14 */
	{ 'T', 6400, 94, 1 },                                                /* 15 */
	{ 'Q', 7100, 93, 95 },                                               /* 16 */
};
#define N_TBARS (sizeof TBARS / sizeof TBARS[0])

Test(bars, sma_cross_on_time_bars_signals_at_the_bar_close)
{
	/* `on` left out: bars imply trades */
	const struct fks_param p[] = { { "fast", "2" }, { "slow", "3" }, { "bar", "time" },
					    { "bar_ms", "1000" } };
	const struct strategy_vtbl *vt = setup_kind("sma_cross", p, 4);
	struct hit h[16];

	cr_assert_eq(feed_events(vt, TBARS, N_TBARS, h), 2);
	cr_assert_eq(h[0].at, 12);
	cr_assert_eq(h[0].s.side, FKS_SIDE_BUY);
	cr_assert_eq(h[0].s.entry_px, 106);      /* bar 4's close, not the 5.2 s trade's 108 */
	cr_assert_eq(h[0].s.cause_seq, 111);
	cr_assert_eq(h[0].s.h.event_time_ns, 5200 * 1000000LL);
	/* default bracket on 106: tp +1.06 -> 1, sl -0.53 -> floor 1 unit */
	cr_assert_eq(h[0].s.take_profit_px, 107);
	cr_assert_eq(h[0].s.stop_loss_px, 105);
	cr_assert_eq(h[1].at, 16);
	cr_assert_eq(h[1].s.side, FKS_SIDE_SELL);
	cr_assert_eq(h[1].s.entry_px, 94);       /* the close, not the quote's bid 93 */
	cr_assert_eq(h[1].s.cause_seq, 115);
}

Test(bars, same_trades_as_ticks_signal_elsewhere)
{
	/* The control: without bars the 120 spike (event 3) crosses at once. */
	const struct fks_param p[] = { { "fast", "2" }, { "slow", "3" }, { "on", "trade" } };
	const struct strategy_vtbl *vt = setup_kind("sma_cross", p, 3);
	struct hit h[16];

	/* ticks 100 100 120: first comparison (fast 110 > slow 106.7) has no
	 * previous one; 100 at event 4: fast 110 > slow 106.7, no cross;
	 * 100 at event 5: fast 100 < slow 106.7 -> SELL at event 5. */
	cr_assert_geq(feed_events(vt, TBARS, N_TBARS, h), 1);
	cr_assert_eq(h[0].at, 5);
	cr_assert_eq(h[0].s.side, FKS_SIDE_SELL);
}

Test(bars, atr_bracket_uses_the_true_range_of_the_bar)
{
	/* Bar 4: high 110, low 104, close 106, previous close 100:
	 * TR = max(110 - 104, |110 - 100|, |104 - 100|) = 10; ATR(1) = 10.
	 * TP = 106 + 2 * 10 = 126, SL = 106 - 10 = 96.  (Tick ATR would be
	 * |106 - 104| = 2.) */
	const struct fks_param p[] = { { "fast", "2" }, { "slow", "3" }, { "bar", "time" },
					    { "bar_ms", "1000" }, { "tp_atr", "2" },
					    { "sl_atr", "1" }, { "bracket_atr", "1" },
					    { "on", "trade" } };
	const struct strategy_vtbl *vt = setup_kind("sma_cross", p, 8);
	struct hit h[16];

	cr_assert_eq(feed_events(vt, TBARS, 12, h), 1);
	cr_assert_eq(h[0].at, 12);
	cr_assert_eq(h[0].s.take_profit_px, 126);
	cr_assert_eq(h[0].s.stop_loss_px, 96);
}

/*
 * Volume bars of 2.5 units (qty_scale 3: 2500), fast 1 / slow 2, i.e. BUY
 * when a close is above the previous close (first possible at close 3):
 *   bar 1: 100 x1.0, 100 x2.0            -> 3.0 >= 2.5, close 100 (event 2)
 *   bar 2: 99 x0.5, [quote], 100 x0.5, 100 x1.5 -> exactly 2.5, close 100 (event 6)
 *   bar 3: 110 x1.0, [quote], 103 x1.6   -> 2.6, close 103 (event 9)
 * closes 100 100 103: close 2 equal (cmp 0), close 3 above -> BUY at 103.
 * The quotes (huge bid/ask) neither count as volume nor move prices.
 */
Test(bars, volume_bars_close_on_the_threshold)
{
	const struct strategy_ctx vctx = { .instrument = INST, .px_scale = 2, .qty_scale = 3,
					   .strategy_id = 8 };
	const struct fks_param p[] = { { "fast", "1" }, { "slow", "2" }, { "bar", "volume" },
					    { "bar_volume", "2.5" } };
	const struct mev ev[] = {
		{ 'T', 1, 100, 1000 }, { 'T', 2, 100, 2000 },
		{ 'T', 3, 99, 500 }, { 'Q', 4, 500, 600 }, { 'T', 5, 100, 500 },
		{ 'T', 6, 100, 1500 },
		{ 'T', 7, 110, 1000 }, { 'Q', 8, 900, 1000 }, { 'T', 9, 103, 1600 },
	};
	struct hit h[16];

	make_state("sma_cross", &vctx, p, 4);
	cr_assert_eq(feed_events(&sma_cross_vtbl, ev, 9, h), 1);
	cr_assert_eq(h[0].at, 9);
	cr_assert_eq(h[0].s.side, FKS_SIDE_BUY);
	cr_assert_eq(h[0].s.entry_px, 103);
}

Test(bars, quotes_alone_make_no_sample)
{
	const struct strategy_ctx vctx = { .instrument = INST, .px_scale = 2, .qty_scale = 3 };
	const struct fks_param tp[] = { { "bar", "time" }, { "bar_ms", "1" } };
	const struct fks_param vp[] = { { "bar", "volume" }, { "bar_volume", "0.001" } };
	const struct fks_param *ps[] = { tp, vp };
	struct fks_param_error err;

	for (unsigned k = 0; k < 2; k++) {
		struct strategy_common c;
		struct strategy_sample s;
		union fks_event e;

		strategy_common_init(&c, &vctx);
		for (unsigned i = 0; i < 2; i++)
			cr_assert_eq(strategy_common_param(&c, &ps[k][i], &err), 1, "%s", err.msg);
		cr_assert_eq(strategy_common_finish(&c, &err), 0, "%s", err.msg);
		/* 1000 quotes 1 ms apart: every time bar would have closed */
		for (unsigned i = 0; i < 1000; i++) {
			const struct mev q = { 'Q', i, 1000 + i, 1002 + i };

			make_event(&e, &q, i);
			cr_assert_not(strategy_common_sample(&c, &e, &s), "bar %u quote %u", k, i);
		}
		/* a trade, then (time bars) a later quote: now a sample, at the
		 * trade's price, so the loop above could have failed */
		const struct mev t = { 'T', 2000, 777, 1 }, q = { 'Q', 2001, 700, 800 };

		make_event(&e, &t, 1000);
		bool got = strategy_common_sample(&c, &e, &s);

		if (k == 0) {
			cr_assert_not(got);
			make_event(&e, &q, 1001);
			got = strategy_common_sample(&c, &e, &s);
		}
		cr_assert(got, "bar %u", k);
		cr_assert_eq(s.px2, 2 * 777);
		cr_assert_eq(s.buy_px, 777);
		cr_assert_eq(s.sell_px, 777);
	}
}

static void expect_bad_n(const char *kind, const struct fks_param *p, size_t n,
			 const char *key)
{
	const struct strategy_vtbl *vt = strategy_find(kind);
	struct fks_param_error err;

	free(state);
	state = calloc(1, vt->state_size);
	memset(&err, 0, sizeof err);
	cr_expect_eq(vt->init(state, &ctx, p, n, &err), -1, "%s %s", kind, key);
	cr_expect(err.key && strcmp(err.key, key) == 0, "%s names %s, not %s", kind,
		  err.key ? err.key : "(null)", key);
}

Test(bars, bad_bar_params_name_their_key)
{
	const char *kinds[] = { "sma_cross", "rsi_mr", "bollinger" };

	for (unsigned k = 0; k < 3; k++) {
		const char *kd = kinds[k];

		expect_bad(kd, "bar", "hourly");
		expect_bad(kd, "bar_ms", "0");
		expect_bad(kd, "bar_ms", "86400001");
		expect_bad(kd, "bar_ms", "1.5");
		expect_bad(kd, "bar_ms", "1000");       /* without bar: time */
		expect_bad(kd, "bar_volume", "5");      /* without bar: volume */
		expect_bad(kd, "bar", "time");          /* without bar_ms */
		expect_bad(kd, "bar", "volume");        /* without bar_volume */

		/* ctx.qty_scale is 0: a decimal is one place too many */
		const struct fks_param v1[] = { { "bar", "volume" }, { "bar_volume", "1.5" } };
		const struct fks_param v2[] = { { "bar_volume", "0" }, { "bar", "volume" } };
		const struct fks_param v3[] = { { "bar", "volume" }, { "bar_volume", "-3" } };
		const struct fks_param v4[] = { { "bar", "volume" }, { "bar_volume", "x" } };
		const struct fks_param m1[] = { { "bar_ms", "1000" }, { "bar", "volume" },
						     { "bar_volume", "1" } };
		const struct fks_param m2[] = { { "bar", "time" }, { "bar_ms", "1000" },
						     { "on", "quote" } };
		const struct fks_param m3[] = { { "bar", "time" }, { "bar_ms", "1000" },
						     { "bar_volume", "1" } };

		expect_bad_n(kd, v1, 2, "bar_volume");
		expect_bad_n(kd, v2, 2, "bar_volume");
		expect_bad_n(kd, v3, 2, "bar_volume");
		expect_bad_n(kd, v4, 2, "bar_volume");
		expect_bad_n(kd, m1, 3, "bar_ms");
		expect_bad_n(kd, m2, 3, "on");
		expect_bad_n(kd, m3, 3, "bar_volume");
	}
	/* and the good ones, in either order */
	const struct fks_param ok1[] = { { "bar_ms", "1000" }, { "bar", "time" } };
	const struct fks_param ok2[] = { { "bar_volume", "7" }, { "on", "trade" },
					      { "bar", "volume" } };

	make_state("rsi_mr", &ctx, ok1, 2);
	make_state("bollinger", &ctx, ok2, 3);
}

Test(strategies, registry)
{
	const char *kinds[] = { "sma_cross", "rsi_mr", "bollinger", "asmbtr", "markov" };

	for (unsigned i = 0; i < 5; i++) {
		const struct strategy_vtbl *vt = strategy_find(kinds[i]);

		cr_assert_not_null(vt, "%s", kinds[i]);
		cr_assert_str_eq(vt->kind, kinds[i]);
		cr_assert_eq(vt->regime != NULL, i == 4, "only markov is a regime filter");
	}
	cr_assert_null(strategy_find("ma_cross"));
	cr_assert_null(strategy_find(""));
	cr_assert_null(strategy_find(NULL));
}
