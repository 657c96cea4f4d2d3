/*
 * Tests for strategies/engine.c: the path from signal to order, brackets,
 * execution reports and equity.
 *
 * Signals come from a scripted strategy defined here: the test arms it with
 * the exact signal it wants, and it emits that on the next market event.
 * Every expected quantity and P&L is worked out by hand next to it.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "strategies/engine.h"
#include "strategies/impl/markov.h"

#define INST 5
#define BASE 9000

/* ---- the scripted strategy ---------------------------------------------- */

struct scripted {
	struct strategy_ctx ctx;
	uint64_t fills;
};

static struct {
	bool armed;
	uint8_t side;
	uint32_t conf;
	int64_t entry, tp, sl;
} script;

static int scripted_init(void *state, const struct strategy_ctx *ctx,
			 const struct fks_param *params, size_t n, struct fks_param_error *err)
{
	struct scripted *s = state;

	s->ctx = *ctx;
	if (n)
		return fks_param_fail(err, params[0].key, "scripted: unknown key '%s'", params[0].key);
	return 0;
}

static bool scripted_on_market(void *state, const union fks_event *md, struct fks_ev_signal *out)
{
	struct scripted *s = state;

	if (!script.armed)
		return false;
	script.armed = false;
	strategy_signal_init(out, md, &s->ctx, script.side, script.conf, script.entry);
	out->take_profit_px = script.tp;
	out->stop_loss_px = script.sl;
	return true;
}

static void scripted_on_fill(void *state, const struct fks_ev_fill *f)
{
	(void)f;
	((struct scripted *)state)->fills++;
}

static const struct strategy_vtbl scripted_vtbl = {
	.kind = "scripted",
	.state_size = sizeof(struct scripted),
	.init = scripted_init,
	.on_market = scripted_on_market,
	.on_fill = scripted_on_fill,
};

static void arm(uint8_t side, uint32_t conf, int64_t entry, int64_t tp, int64_t sl)
{
	script.armed = true;
	script.side = side;
	script.conf = conf;
	script.entry = entry;
	script.tp = tp;
	script.sl = sl;
}

/* ---- the engine under test, and what it emitted ------------------------- */

static struct engine eng;
static union fks_event out[256];
static unsigned n_out;
static uint64_t md_seq;

static void collect(void *user, const union fks_event *ev)
{
	(void)user;
	cr_assert_lt(n_out, 256);
	out[n_out++] = *ev;
}

/* Equity 100000.00 at scale 2; the instrument at px scale 2, qty scale 0. */
static const struct strategy_ctx ctx = { .instrument = INST, .px_scale = 2, .qty_scale = 0,
					 .strategy_id = 3 };

static void start(const struct fks_param *p, size_t n)
{
	const struct engine_params ep = { .equity = 10000000, .equity_scale = 2,
					  .order_id_base = BASE };
	struct fks_param_error err;

	memset(&script, 0, sizeof script);
	n_out = 0;
	md_seq = 0;
	cr_assert_eq(engine_init(&eng, &ep, collect, NULL), 0);
	cr_assert_eq(engine_add_vtbl(&eng, "s1", &scripted_vtbl, &ctx, p, n, &err), 0, "%s",
		     err.msg);
}

static void quote(int64_t bid, int64_t ask)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.instrument = INST;
	e.h.seq = ++md_seq;
	e.h.event_time_ns = 1700000000000000000LL + (int64_t)md_seq;
	e.h.recv_time_ns = 100 + (int64_t)md_seq;
	e.quote.bid_px = bid;
	e.quote.ask_px = ask;
	e.quote.bid_qty = e.quote.ask_qty = 1000;
	engine_on_market(&eng, &e);
}

static void fill(uint64_t order_id, int64_t px, int64_t qty, int64_t leaves)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_FILL;
	e.h.source = FKS_STAGE_GATEWAY;
	e.h.instrument = INST;
	e.fill.order_id = order_id;
	e.fill.px = px;
	e.fill.qty = qty;
	e.fill.leaves_qty = leaves;
	engine_on_exec(&eng, &e);
}

static void reject(uint64_t order_id, uint8_t type)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = type;
	e.h.instrument = INST;
	if (type == FKS_EV_RISK_REJECT)
		e.risk_reject.order_id = order_id;
	else if (type == FKS_EV_ORDER_REJECT)
		e.order_reject.order_id = order_id;
	else
		e.cancel_ack.order_id = order_id;
	engine_on_exec(&eng, &e);
}

/* The standard long: buy at 50.00, TP 52.00, SL 48.00; with equity
 * 100000.00 and the default 1% risk: 1000.00 / 2.00 = 500 shares. */
static void open_long(void)
{
	arm(FKS_SIDE_BUY, 700000, 5000, 5200, 4800);
	quote(4999, 5000);
}

/* ---- tests ------------------------------------------------------------- */

Test(engine, signal_and_order_link_to_their_cause)
{
	start(NULL, 0);
	quote(4998, 5001);
	open_long();
	cr_assert_eq(n_out, 2);

	const struct fks_ev_signal *s = &out[0].signal;
	const struct fks_ev_order_new *o = &out[1].order_new;

	cr_assert_eq(s->h.type, FKS_EV_SIGNAL);
	cr_assert_eq(s->h.seq, 1);
	cr_assert_eq(s->h.source, FKS_STAGE_STRATEGY);
	cr_assert_eq(s->signal_id, 1);
	cr_assert_eq(s->cause_seq, 2, "the second quote caused it");
	cr_assert_eq(s->h.recv_time_ns, 102);
	cr_assert_eq(s->strategy, 3);
	cr_assert_eq(s->confidence, 700000);

	cr_assert_eq(o->h.type, FKS_EV_ORDER_NEW);
	cr_assert_eq(o->h.seq, 2);
	cr_assert_eq(o->h.instrument, INST);
	cr_assert_eq(o->h.recv_time_ns, 102);
	cr_assert_eq(o->h.event_time_ns, 1700000000000000002LL);
	cr_assert_eq(o->order_id, BASE + 1);
	cr_assert_eq(o->signal_id, 1);
	cr_assert_eq(o->side, FKS_SIDE_BUY);
	cr_assert_eq(o->px, 5000);
	cr_assert_eq(o->qty, 500);
	cr_assert_eq(o->ord_type, FKS_ORD_LIMIT);
	cr_assert_eq(o->tif, FKS_TIF_GTC);
	cr_assert_eq(o->take_profit_px, 5200);
	cr_assert_eq(o->stop_loss_px, 4800);
	cr_assert_eq(o->strategy, 3);
	cr_assert_eq(eng.c.entries, 1);
	engine_free(&eng);
}

Test(engine, min_confidence_drops_and_counts)
{
	start(NULL, 0);
	arm(FKS_SIDE_BUY, 599999, 5000, 5200, 4800);
	quote(4999, 5000);
	cr_assert_eq(n_out, 0);
	cr_assert_eq(eng.c.low_confidence, 1);
	arm(FKS_SIDE_BUY, 600000, 5000, 5200, 4800);    /* exactly 0.6 passes */
	quote(4999, 5000);
	cr_assert_eq(n_out, 2);
	cr_assert_eq(out[0].signal.signal_id, 1, "dropped signals take no id");
	engine_free(&eng);

	const struct fks_param p[] = { { "min_confidence", "0.9" } };

	start(p, 1);
	arm(FKS_SIDE_BUY, 800000, 5000, 5200, 4800);
	quote(4999, 5000);
	cr_assert_eq(n_out, 0);
	cr_assert_eq(eng.c.low_confidence, 1);
	engine_free(&eng);
}

Test(engine, one_position_per_direction_and_no_averaging_down)
{
	start(NULL, 0);
	open_long();
	fill(BASE + 1, 5000, 500, 0);
	cr_assert_eq(engine_position(&eng, INST), 500);
	arm(FKS_SIDE_BUY, 700000, 5100, 5300, 4900);
	quote(5099, 5100);
	cr_assert_eq(eng.c.position_limit, 1);
	cr_assert_eq(n_out, 3, "the signal is journaled, no order");
	cr_assert_eq(out[2].h.type, FKS_EV_SIGNAL);
	engine_free(&eng);

	const struct fks_param p[] = { { "max_positions", "2" } };

	start(p, 1);
	open_long();
	fill(BASE + 1, 5000, 500, 0);
	/* Lower than the 50.00 average entry: averaging down, refused. */
	arm(FKS_SIDE_BUY, 700000, 4950, 5150, 4850);
	quote(4949, 4950);
	cr_assert_eq(eng.c.averaging_down, 1);
	cr_assert_eq(engine_open_lots(&eng, INST), 1);
	/* Higher: adding to a winner is allowed, up to max_positions.  Risk
	 * 1000.00 / (51.00 - 49.00) = 500. */
	arm(FKS_SIDE_BUY, 700000, 5100, 5300, 4900);
	quote(5099, 5100);
	cr_assert_eq(engine_open_lots(&eng, INST), 2);
	cr_assert_eq(out[n_out - 1].order_new.order_id, BASE + 2);
	cr_assert_eq(out[n_out - 1].order_new.qty, 500);
	arm(FKS_SIDE_BUY, 700000, 5200, 5400, 5000);
	quote(5199, 5200);
	cr_assert_eq(eng.c.position_limit, 1);
	engine_free(&eng);
}

Test(engine, take_profit_fires_and_realises)
{
	start(NULL, 0);
	open_long();
	fill(BASE + 1, 5000, 500, 0);
	unsigned before = n_out;

	quote(5150, 5160);               /* below TP 52.00: nothing */
	cr_assert_eq(n_out, before);
	quote(5200, 5210);               /* bid reaches TP */
	cr_assert_eq(n_out, before + 1);
	const struct fks_ev_order_new *x = &out[before].order_new;

	cr_assert_eq(x->side, FKS_SIDE_SELL);
	cr_assert_eq(x->qty, 500);
	cr_assert_eq(x->px, 5200);
	cr_assert_eq(x->tif, FKS_TIF_IOC);
	cr_assert_eq(x->order_id, BASE + 2);
	cr_assert_eq(x->signal_id, 1, "exits carry the entry's signal");
	cr_assert_eq(eng.c.exits_tp, 1);
	quote(5210, 5220);               /* exit working: no duplicate */
	cr_assert_eq(n_out, before + 1);
	fill(BASE + 2, 5200, 500, 0);
	/* 500 * (52.00 - 50.00) = 1000.00 */
	cr_assert_eq(engine_equity(&eng), 10100000);
	cr_assert_eq(engine_open_lots(&eng, INST), 0);
	cr_assert_eq(engine_position(&eng, INST), 0);
	cr_assert_eq(eng.c.lots_closed, 1);
	cr_assert_eq(((struct scripted *)eng.inst[0].state)->fills, 2);
	engine_free(&eng);
}

Test(engine, stop_loss_fires_on_a_short_and_the_size_follows_equity)
{
	start(NULL, 0);
	/* Short at 50.00, TP 47.00, SL 51.00: 1000.00 / 1.00 = 1000 shares. */
	arm(FKS_SIDE_SELL, 700000, 5000, 4700, 5100);
	quote(5000, 5001);
	cr_assert_eq(out[1].order_new.qty, 1000);
	fill(BASE + 1, 5000, 1000, 0);
	cr_assert_eq(engine_position(&eng, INST), -1000);
	quote(5090, 5099);
	cr_assert_eq(n_out, 2);
	quote(5100, 5105);               /* ask 51.05 >= SL 51.00 */
	cr_assert_eq(n_out, 3);
	cr_assert_eq(out[2].order_new.side, FKS_SIDE_BUY);
	cr_assert_eq(out[2].order_new.px, 5105);
	cr_assert_eq(eng.c.exits_sl, 1);
	fill(BASE + 2, 5105, 1000, 0);
	/* loss 1000 * 1.05 = 1050.00 -> 98950.00 */
	cr_assert_eq(engine_equity(&eng), 9895000);
	/* The next size uses the new equity: 989.50 / 2.00 = 494.75 -> 494. */
	open_long();
	cr_assert_eq(out[n_out - 1].order_new.qty, 494);
	engine_free(&eng);
}

Test(engine, partial_entry_then_bracket_cancels_the_rest_and_retries_exits)
{
	start(NULL, 0);
	open_long();
	fill(BASE + 1, 5000, 200, 300);          /* 200 of 500, 300 still working */
	quote(4790, 4800);                        /* SL */
	cr_assert_eq(n_out, 4);
	cr_assert_eq(out[2].h.type, FKS_EV_ORDER_CANCEL);
	cr_assert_eq(out[2].order_cancel.order_id, BASE + 1);
	cr_assert_eq(out[3].order_new.qty, 200);
	cr_assert_eq(out[3].order_new.order_id, BASE + 2);
	/* The exit is refused by risk: sent again on the next quote. */
	reject(BASE + 2, FKS_EV_RISK_REJECT);
	quote(4780, 4790);
	cr_assert_eq(n_out, 5);
	cr_assert_eq(out[4].order_new.order_id, BASE + 3);
	cr_assert_eq(out[4].order_new.qty, 200);
	/* 100 more of the entry filled before the cancel landed. */
	fill(BASE + 1, 5000, 100, 200);
	reject(BASE + 1, FKS_EV_CANCEL_ACK);
	fill(BASE + 3, 4780, 200, 0);
	cr_assert_eq(engine_position(&eng, INST), 100);
	quote(4770, 4780);                        /* the remaining 100 go out */
	cr_assert_eq(out[n_out - 1].order_new.qty, 100);
	fill(BASE + 4, 4770, 100, 0);
	cr_assert_eq(engine_open_lots(&eng, INST), 0);
	/* 200 * -2.20 + 100 * -2.30 = -440 - 230 = -670.00 */
	cr_assert_eq(engine_equity(&eng), 10000000 - 67000);
	cr_assert_eq(eng.c.cancels, 1);
	cr_assert_eq(eng.c.exit_orders, 3);
	engine_free(&eng);
}

Test(engine, unfilled_entry_released_by_reject)
{
	start(NULL, 0);
	open_long();
	reject(BASE + 1, FKS_EV_ORDER_REJECT);
	cr_assert_eq(engine_open_lots(&eng, INST), 0);
	cr_assert_eq(eng.c.rejects, 1);
	open_long();
	cr_assert_eq(out[n_out - 1].order_new.order_id, BASE + 2);
	reject(777, FKS_EV_ORDER_REJECT);
	cr_assert_eq(eng.c.unknown_exec, 1);
	engine_free(&eng);
}

Test(engine, opposite_signal_closes)
{
	start(NULL, 0);
	open_long();
	fill(BASE + 1, 5000, 500, 0);
	arm(FKS_SIDE_SELL, 700000, 5050, 4800, 5200);
	quote(5050, 5060);
	cr_assert_eq(eng.c.exits_opposite, 1);
	cr_assert_eq(out[n_out - 2].h.type, FKS_EV_SIGNAL);
	cr_assert_eq(out[n_out - 1].order_new.side, FKS_SIDE_SELL);
	cr_assert_eq(out[n_out - 1].order_new.qty, 500);
	cr_assert_eq(out[n_out - 1].order_new.signal_id, 1, "the exit belongs to the long");
	engine_free(&eng);
}

Test(engine, markov_gate)
{
	const struct engine_params ep = { .equity = 10000000, .equity_scale = 2,
					  .order_id_base = BASE };
	const struct fks_param mp[] = { { "window", "2" } };
	const struct fks_param sp[] = { { "gate", "regime" } };
	struct fks_param_error err;

	memset(&script, 0, sizeof script);
	n_out = 0;
	cr_assert_eq(engine_init(&eng, &ep, collect, NULL), 0);
	cr_assert_eq(engine_add(&eng, "regime", "markov", &ctx, mp, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(engine_add_vtbl(&eng, "s1", &scripted_vtbl, &ctx, sp, 1, &err), 0, "%s",
		     err.msg);
	/* No regime yet: gated. */
	arm(FKS_SIDE_BUY, 700000, 5000, 5200, 4800);
	quote(4999, 5001);
	cr_assert_eq(eng.c.gated, 1);
	/* Windows of two mids: (50.00, 55.00) bull, (50.00, 55.00) bull: the
	 * first quote above was the first of window 1.  Then BULL>BULL is the
	 * only transition: BULL likeliest. */
	quote(5499, 5501);          /* window 1: 50.00 -> 55.00 bull */
	quote(4999, 5001);
	quote(5499, 5501);          /* window 2: bull, transition bull>bull */
	cr_assert_eq(markov_vtbl.regime(eng.inst[0].state), STRATEGY_REGIME_BULL);
	arm(FKS_SIDE_BUY, 700000, 5501, 5700, 5300);
	quote(5499, 5501);          /* a buy while bull is likeliest: passes */
	cr_assert_eq(eng.c.gated, 1);
	/* This quote ends window 3: 55.00 -> 55.00 sideways, so the BULL row is
	 * {BULL 1, SIDEWAYS 1}: a tie, undecided, and the sell is gated (it
	 * would be in any case: strict mode wants BEAR). */
	arm(FKS_SIDE_SELL, 700000, 5500, 5300, 5700);
	quote(5499, 5501);
	cr_assert_eq(markov_vtbl.regime(eng.inst[0].state), STRATEGY_REGIME_UNKNOWN);
	cr_assert_eq(eng.c.gated, 2);
	cr_assert_eq(eng.c.entries, 1);
	engine_free(&eng);
}

static void expect_add_fails(const char *key, const char *value, const char *want_key)
{
	const struct engine_params ep = { .equity = 10000000, .equity_scale = 2 };
	const struct fks_param p[] = { { key, value } };
	struct fks_param_error err;

	cr_assert_eq(engine_init(&eng, &ep, collect, NULL), 0);
	cr_assert_eq(engine_add(&eng, "m", "markov", &ctx, NULL, 0, &err), 0);
	memset(&err, 0, sizeof err);
	cr_expect_eq(engine_add(&eng, "x", "asmbtr", &ctx, p, 1, &err), -1, "%s=%s", key, value);
	cr_expect(err.key && strcmp(err.key, want_key) == 0, "%s=%s names %s", key, value,
		  err.key ? err.key : "(null)");
	cr_expect_eq(eng.n_inst, 1, "a refused instance is not added");
	engine_free(&eng);
}

Test(engine, bad_params)
{
	expect_add_fails("min_confidence", "1.5", "min_confidence");
	expect_add_fails("gate", "nobody", "gate");
	expect_add_fails("gate_mode", "lenient", "gate_mode");
	expect_add_fails("sizing", "kelly", "sizing");
	expect_add_fails("risk", "0.5", "risk");
	expect_add_fails("max_positions", "9", "max_positions");
	expect_add_fails("lot", "-1", "lot");
	expect_add_fails("lot", "0.5", "lot");           /* qty scale 0 */
	expect_add_fails("order_type", "stop", "order_type");
	expect_add_fails("depth", "40", "depth");        /* the strategy's own */
	expect_add_fails("bogus", "1", "bogus");

	const struct engine_params ep = { .equity = 10000000, .equity_scale = 2 };
	const struct fks_param gp[] = { { "gate", "a" } };
	struct fks_param_error err;

	cr_assert_eq(engine_init(&eng, &ep, collect, NULL), 0);
	cr_assert_eq(engine_add(&eng, "a", "asmbtr", &ctx, NULL, 0, &err), 0);
	cr_assert_eq(engine_add(&eng, "b", "asmbtr", &ctx, gp, 1, &err), -1, "asmbtr is no filter");
	cr_assert_eq(engine_add(&eng, "a", "markov", &ctx, NULL, 0, &err), -1, "duplicate name");
	cr_assert_eq(engine_add(&eng, "c", "nosuch", &ctx, NULL, 0, &err), -1);
	struct strategy_ctx other = ctx;

	other.px_scale = 4;
	cr_assert_eq(engine_add(&eng, "d", "markov", &other, NULL, 0, &err), -1, "scale clash");
	engine_free(&eng);
	const struct engine_params bad = { .equity = 0 };

	cr_assert_eq(engine_init(&eng, &bad, collect, NULL), -1);
}

Test(engine, bad_market_is_counted_and_ignored)
{
	start(NULL, 0);
	arm(FKS_SIDE_BUY, 700000, 5000, 5200, 4800);
	quote(5001, 5000);               /* crossed */
	quote(0, 5000);
	quote(-3, 5000);
	cr_assert_eq(eng.c.bad_market, 3);
	cr_assert_eq(n_out, 0);
	cr_assert(script.armed, "the strategy never saw them");
	engine_free(&eng);
}

Test(engine, market_orders_and_fixed_fraction)
{
	const struct fks_param p[] = { { "order_type", "market" }, { "sizing", "fixed" },
					    { "fraction", "0.25" } };

	start(p, 3);
	open_long();
	/* 25% of 100000.00 at 50.00 = 500 */
	cr_assert_eq(out[1].order_new.qty, 500);
	cr_assert_eq(out[1].order_new.ord_type, FKS_ORD_MARKET);
	cr_assert_eq(out[1].order_new.tif, FKS_TIF_IOC);
	engine_free(&eng);
}

static unsigned run_session(union fks_event *dst)
{
	const struct fks_param p[] = { { "depth", "4" }, { "min_obs", "1" }, { "decay", "1" } };
	const struct engine_params ep = { .equity = 10000000, .equity_scale = 2,
					  .order_id_base = BASE };
	struct fks_param_error err;
	uint64_t x = 12345;

	n_out = 0;
	md_seq = 0;
	cr_assert_eq(engine_init(&eng, &ep, collect, NULL), 0);
	cr_assert_eq(engine_add(&eng, "a", "asmbtr", &ctx, p, 3, &err), 0, "%s", err.msg);
	int64_t mid = 10000;

	for (int i = 0; i < 2000 && n_out < 200; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		mid += (int64_t)((x >> 33) % 5) - 2;
		quote(mid - 1, mid + 1);
		/* Fill every order in full at its price, at once. */
		if (n_out && out[n_out - 1].h.type == FKS_EV_ORDER_NEW) {
			const struct fks_ev_order_new *o = &out[n_out - 1].order_new;

			fill(o->order_id, o->px, o->qty, 0);
		}
	}
	memcpy(dst, out, n_out * sizeof out[0]);
	engine_free(&eng);
	return n_out;
}

Test(engine, deterministic)
{
	static union fks_event a[256], b[256];
	unsigned na = run_session(a), nb = run_session(b);

	cr_assert_gt(na, 4, "the session should trade");
	cr_assert_eq(na, nb);
	cr_assert(memcmp(a, b, na * sizeof a[0]) == 0);
}

Test(engine, atr_sizing_sets_the_stop)
{
	/* ATR over 1 sample = the last change of the mid: 50.00 -> 50.50 is
	 * 0.50.  Stop = entry 50.51 - 2 * 0.50 = 49.51; size = 1000.00 / 1.00
	 * = 1000. */
	const struct fks_param p[] = { { "sizing", "atr" }, { "atr_period", "1" },
					    { "atr_mult", "2" } };

	start(p, 3);
	arm(FKS_SIDE_BUY, 700000, 5051, 5300, 0);
	cr_assert_eq(eng.c.size_zero, 0);
	quote(4999, 5001);               /* no ATR yet: the signal gets no size */
	cr_assert_eq(eng.c.size_zero, 1);
	arm(FKS_SIDE_BUY, 700000, 5051, 5300, 0);
	quote(5049, 5051);
	cr_assert_eq(out[n_out - 1].h.type, FKS_EV_ORDER_NEW);
	cr_assert_eq(out[n_out - 1].order_new.qty, 1000);
	cr_assert_eq(out[n_out - 1].order_new.stop_loss_px, 4951);
	engine_free(&eng);
}
