/*
 * Tests for gateway/risk.c: pre-trade checks.
 *
 * Every boundary is written out by hand: at the limit passes, one unit over
 * fails, with the limit and value the reject must carry.  Instruments:
 *   1  like BTCUSDT: qty_scale 6, max qty 1.000000, max notional 100000.00,
 *      max position 5.000000
 *   2  qty_scale 0, limits near the int64 edge: for overflow cases
 *   3  qty_scale 9, max notional 18000000000000 (px_scale units)
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "gateway/risk/risk.h"

#define NOW 5000000000LL          /* the caller's clock, ns */
#define STALE 1000000000LL        /* 1 s */
#define BTC 1
#define WIDE 2
#define FINE 3

static struct risk risk;

static struct risk_params params(void)
{
	struct risk_params p = {
		.n_instruments = 3,
		.instrument = {
			{ .id = BTC, .qty_scale = 6, .max_order_qty = 1000000,
			  .max_notional = 10000000, .max_position = 5000000 },
			{ .id = WIDE, .qty_scale = 0, .max_order_qty = INT64_MAX,
			  .max_notional = 1000000000000000000LL, .max_position = INT64_MAX },
			{ .id = FINE, .qty_scale = 9, .max_order_qty = INT64_MAX,
			  .max_notional = 18000000000000LL, .max_position = INT64_MAX },
		},
		.stale_data_ns = STALE,
		.kill_switch = false,
	};
	return p;
}

static void setup(void)
{
	struct risk_params p = params();

	cr_assert_eq(risk_init(&risk, &p), 0);
}

static uint64_t next_id = 100;

static struct fks_ev_order_new order(uint32_t inst, uint8_t side, int64_t px, int64_t qty)
{
	struct fks_ev_order_new o;

	memset(&o, 0, sizeof o);
	o.h.type = FKS_EV_ORDER_NEW;
	o.h.source = FKS_STAGE_STRATEGY;
	o.h.instrument = inst;
	o.h.seq = 1;
	o.h.event_time_ns = 1700000000000000000LL;
	o.h.recv_time_ns = NOW;          /* fresh */
	o.order_id = ++next_id;
	o.signal_id = 7;
	o.px = px;
	o.qty = qty;
	o.side = side;
	o.ord_type = FKS_ORD_LIMIT;
	o.tif = FKS_TIF_GTC;
	o.strategy = 1;
	return o;
}

#define expect(o, want_reason, want_limit, want_value)                                          \
	do {                                                                                    \
		int64_t lim_ = -12345, val_ = -12345;                                           \
		enum fks_risk_reason got_ = risk_check_order(&risk, &(o), NOW, &lim_, &val_);   \
		cr_assert_eq(got_, (want_reason), "reason %s, want %s", fks_risk_reason_name(got_), \
			     fks_risk_reason_name(want_reason));                                \
		cr_assert_eq(lim_, (int64_t)(want_limit), "limit %" PRId64 ", want %" PRId64,    \
			     lim_, (int64_t)(want_limit));                                      \
		cr_assert_eq(val_, (int64_t)(want_value), "value %" PRId64 ", want %" PRId64,    \
			     val_, (int64_t)(want_value));                                      \
	} while (0)

#define expect_ok(o) expect(o, FKS_RISK_OK, 0, 0)

static union fks_event exec_fill(uint64_t id, int64_t qty, int64_t leaves)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_FILL;
	e.fill.order_id = id;
	e.fill.px = 1;
	e.fill.qty = qty;
	e.fill.leaves_qty = leaves;
	return e;
}

static union fks_event exec_end(unsigned type, uint64_t id)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = (uint8_t)type;
	if (type == FKS_EV_CANCEL_ACK)
		e.cancel_ack.order_id = id;
	else
		e.order_reject.order_id = id;
	return e;
}

static void expect_exposure(uint32_t inst, int64_t pos, int64_t buy, int64_t sell)
{
	int64_t p, b, s;

	cr_assert(risk_exposure(&risk, inst, &p, &b, &s));
	cr_assert_eq(p, pos, "position %" PRId64 ", want %" PRId64, p, pos);
	cr_assert_eq(b, buy, "open buy %" PRId64 ", want %" PRId64, b, buy);
	cr_assert_eq(s, sell, "open sell %" PRId64 ", want %" PRId64, s, sell);
}

TestSuite(risk, .init = setup);

Test(risk, init_checks_params)
{
	struct risk_params p;

	p = params();
	p.n_instruments = 0;
	cr_assert_eq(risk_init(&risk, &p), -1);
	p = params();
	p.instrument[1].id = BTC;
	cr_assert_eq(risk_init(&risk, &p), -1, "duplicate id");
	p = params();
	p.instrument[0].id = 0;
	cr_assert_eq(risk_init(&risk, &p), -1);
	p = params();
	p.instrument[0].max_order_qty = 0;
	cr_assert_eq(risk_init(&risk, &p), -1);
	p = params();
	p.instrument[0].max_notional = 0;
	cr_assert_eq(risk_init(&risk, &p), -1);
	p = params();
	p.instrument[0].max_position = -1;
	cr_assert_eq(risk_init(&risk, &p), -1);
	p.instrument[0].max_position = 0;
	cr_assert_eq(risk_init(&risk, &p), 0, "max_position 0 is allowed: flat only");
	p = params();
	p.instrument[0].qty_scale = RISK_MAX_QTY_SCALE + 1;
	cr_assert_eq(risk_init(&risk, &p), -1);
	p = params();
	p.stale_data_ns = 0;
	cr_assert_eq(risk_init(&risk, &p), -1);
}

Test(risk, kill_switch)
{
	struct fks_ev_order_new o = order(BTC, FKS_SIDE_BUY, 100, 1);

	expect_ok(o);
	risk_set_kill(&risk, true);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_KILL_SWITCH, 0, 1);
	risk_set_kill(&risk, false);
	expect_ok(o);

	struct risk_params p = params();
	p.kill_switch = true;
	cr_assert_eq(risk_init(&risk, &p), 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_KILL_SWITCH, 0, 1);
	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_KILL_SWITCH), 1);
}

Test(risk, bad_orders)
{
	struct fks_ev_order_new o;

	o = order(BTC, FKS_SIDE_BUY, 100, 0);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, -1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(9, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(0, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_NONE, 100, 1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, 3, 100, 1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.ord_type = 0;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o.ord_type = 3;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.tif = 0;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o.tif = FKS_TIF_FOK + 1;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 0, 1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_SELL, -5, 1);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	/* A market order needs its reference price for the notional check. */
	o = order(BTC, FKS_SIDE_BUY, 0, 1);
	o.ord_type = FKS_ORD_MARKET;
	o.tif = FKS_TIF_IOC;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o.px = 100;
	expect_ok(o);
	/* The same order id while it is open. */
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.order_id = 0;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.h.type = FKS_EV_ORDER_CANCEL;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);

	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_BAD_ORDER), 16);
	cr_assert_eq(risk.c.checked, 17);
	cr_assert_eq(risk.c.passed, 1);
	/* Nothing rejected was counted as open. */
	expect_exposure(BTC, 0, 1, 0);
}

Test(risk, stale_by_age_and_by_flag)
{
	struct fks_ev_order_new o;

	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.h.recv_time_ns = NOW - STALE;             /* exactly the limit */
	expect_ok(o);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.h.recv_time_ns = NOW - STALE - 1;
	expect(o, FKS_RISK_STALE_DATA, STALE, STALE + 1);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.h.recv_time_ns = NOW + 1000;              /* from the future: fresh */
	expect_ok(o);
	/* An absurd receive time saturates instead of wrapping to fresh. */
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	o.h.recv_time_ns = INT64_MIN;
	expect(o, FKS_RISK_STALE_DATA, STALE, INT64_MAX);

	risk_set_feed_stale(&risk, true);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_STALE_DATA, 0, 1);
	risk_set_feed_stale(&risk, false);
	expect_ok(o);
	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_STALE_DATA), 3);
}

Test(risk, max_order_qty)
{
	struct fks_ev_order_new o;

	o = order(BTC, FKS_SIDE_BUY, 100, 1000000);
	expect_ok(o);
	o = order(BTC, FKS_SIDE_SELL, 100, 1000001);
	expect(o, FKS_RISK_MAX_QTY, 1000000, 1000001);
}

/* Notional at px_scale is px * qty / 10^qty_scale.  BTC: limit 10000000
 * (100000.00), qty_scale 6. */
Test(risk, max_notional_exact_boundary)
{
	struct fks_ev_order_new o;

	/* 100000.00 x 1.000000 = 100000.00: at the limit. */
	o = order(BTC, FKS_SIDE_BUY, 10000000, 1000000);
	expect_ok(o);
	/* 100000.01 x 1.000000 = 100000.01: one unit over. */
	o = order(BTC, FKS_SIDE_SELL, 10000001, 1000000);
	expect(o, FKS_RISK_MAX_NOTIONAL, 10000000, 10000001);
	/* px 10^13 x qty 1 (0.000001) = 10^7 exactly: passes.  px 10^13 + 1
	 * x qty 1 is 10^7 + 10^-6 units over: fails, and the value is
	 * rounded up so it does not read as equal to the limit. */
	o = order(BTC, FKS_SIDE_SELL, 10000000000000LL, 1);
	expect_ok(o);
	o = order(BTC, FKS_SIDE_SELL, 10000000000001LL, 1);
	expect(o, FKS_RISK_MAX_NOTIONAL, 10000000, 10000001);
	/* 0.5 BTC at 200000.00 = 100000.00 */
	o = order(BTC, FKS_SIDE_SELL, 20000000, 500000);
	expect_ok(o);
	o = order(BTC, FKS_SIDE_SELL, 20000000, 500001);
	/* 200000.00 x 0.500001 = 100000.20 */
	expect(o, FKS_RISK_MAX_NOTIONAL, 10000000, 10000020);
}

Test(risk, max_notional_needs_128_bits)
{
	struct fks_ev_order_new o;

	/* WIDE, qty_scale 0, limit 10^18.  2^62 x 4 = 2^64: zero in 64-bit
	 * arithmetic, which would pass; it is 18446744073709551616 > 10^18. */
	o = order(WIDE, FKS_SIDE_BUY, 4611686018427387904LL, 4);
	expect(o, FKS_RISK_MAX_NOTIONAL, 1000000000000000000LL, INT64_MAX);
	/* 10^9 x 10^9 = 10^18: at the limit. */
	o = order(WIDE, FKS_SIDE_BUY, 1000000000LL, 1000000000LL);
	expect_ok(o);
	o = order(WIDE, FKS_SIDE_BUY, 1000000001LL, 1000000000LL);
	expect(o, FKS_RISK_MAX_NOTIONAL, 1000000000000000000LL, 1000000001000000000LL);

	/* FINE, qty_scale 9: px 9 x 10^12, qty 2 x 10^9 (2.0): the product
	 * 1.8 x 10^22 overflows int64, the notional 1.8 x 10^13 is the limit. */
	o = order(FINE, FKS_SIDE_BUY, 9000000000000LL, 2000000000LL);
	expect_ok(o);
	o = order(FINE, FKS_SIDE_BUY, 9000000000000LL, 2000000001LL);
	/* 9 x 10^12 x 2.000000001 = 18000000009000 */
	expect(o, FKS_RISK_MAX_NOTIONAL, 18000000000000LL, 18000000009000LL);
}

/* BTC: max position 5.000000.  Worst case: every same-side open order
 * fills, no opposite one does. */
Test(risk, max_position_worst_case_with_open_orders)
{
	struct fks_ev_order_new b1 = order(BTC, FKS_SIDE_BUY, 100, 1000000);
	struct fks_ev_order_new o;

	expect_ok(b1);
	for (int i = 0; i < 4; i++) {
		o = order(BTC, FKS_SIDE_BUY, 100, 1000000);
		expect_ok(o);                       /* open buy 2, 3, 4, 5 */
	}
	expect_exposure(BTC, 0, 5000000, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_MAX_POSITION, 5000000, 5000001);

	/* Sells are checked on their own side: 0 - 0 - 5 = -5 is allowed. */
	struct fks_ev_order_new s1 = order(BTC, FKS_SIDE_SELL, 100, 1000000);
	expect_ok(s1);
	for (int i = 0; i < 4; i++) {
		o = order(BTC, FKS_SIDE_SELL, 100, 1000000);
		expect_ok(o);
	}
	o = order(BTC, FKS_SIDE_SELL, 100, 1);
	expect(o, FKS_RISK_MAX_POSITION, 5000000, 5000001);

	/* b1 fills: position +1, open buy 4.  A buy is still at 1 + 4 = 5;
	 * a sell now has room: 1 - 5 - 1 = -5. */
	union fks_event f = exec_fill(b1.order_id, 1000000, 0);
	risk_on_exec(&risk, &f);
	expect_exposure(BTC, 1000000, 4000000, 5000000);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_MAX_POSITION, 5000000, 5000001);
	o = order(BTC, FKS_SIDE_SELL, 100, 1000000);
	expect_ok(o);
	o = order(BTC, FKS_SIDE_SELL, 100, 1);
	expect(o, FKS_RISK_MAX_POSITION, 5000000, 5000001);

	/* s1 fills in two parts: position 1 - 0.4 - 0.6 = 0. */
	f = exec_fill(s1.order_id, 400000, 600000);
	risk_on_exec(&risk, &f);
	expect_exposure(BTC, 600000, 4000000, 5600000);
	f = exec_fill(s1.order_id, 600000, 0);
	risk_on_exec(&risk, &f);
	expect_exposure(BTC, 0, 4000000, 5000000);
	cr_assert_eq(risk.c.fills, 3);
	cr_assert_eq(risk.n_open, 9);
}

Test(risk, max_position_zero_allows_nothing)
{
	struct risk_params p = params();

	p.instrument[0].max_position = 0;
	cr_assert_eq(risk_init(&risk, &p), 0);
	struct fks_ev_order_new o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_MAX_POSITION, 0, 1);
}

Test(risk, reject_and_cancel_release_open_quantity)
{
	struct risk_params p = params();

	p.instrument[0].max_order_qty = 5000000;
	cr_assert_eq(risk_init(&risk, &p), 0);

	struct fks_ev_order_new a = order(BTC, FKS_SIDE_BUY, 100, 3000000);
	struct fks_ev_order_new b = order(BTC, FKS_SIDE_BUY, 100, 2000000);
	struct fks_ev_order_new o;
	union fks_event e;

	expect_ok(a);
	expect_ok(b);
	o = order(BTC, FKS_SIDE_BUY, 100, 1);
	expect(o, FKS_RISK_MAX_POSITION, 5000000, 5000001);

	e = exec_end(FKS_EV_ORDER_REJECT, a.order_id);
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 0, 2000000, 0);
	o = order(BTC, FKS_SIDE_BUY, 100, 3000000);
	expect_ok(o);

	/* b: partly filled, then the rest canceled. */
	e = exec_fill(b.order_id, 500000, 1500000);
	risk_on_exec(&risk, &e);
	e = exec_end(FKS_EV_CANCEL_ACK, b.order_id);
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 500000, 3000000, 0);
	cr_assert_eq(risk.c.released, 2);

	/* An ack changes nothing; reports for unknown orders change nothing
	 * and are counted, including a second cancel of b. */
	e = exec_end(FKS_EV_CANCEL_ACK, b.order_id);
	risk_on_exec(&risk, &e);
	union fks_event ack;
	memset(&ack, 0, sizeof ack);
	ack.h.type = FKS_EV_ORDER_ACK;
	ack.order_ack.order_id = o.order_id;
	ack.order_ack.leaves_qty = 3000000;
	risk_on_exec(&risk, &ack);
	e = exec_fill(999999, 1000000, 0);
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 500000, 3000000, 0);
	cr_assert_eq(risk.c.unknown_exec, 2);

	/* A fill for more than was open moves the position by all of it. */
	e = exec_fill(o.order_id, 3500000, 0);
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 4000000, 0, 0);
	cr_assert_eq(risk.c.overfills, 1);
	cr_assert_eq(risk.n_open, 0);
	cr_assert_eq(risk.order_errors.total, 0, "the overfill was clamped, not refused");
}

/* A fill the position module refuses (a negative price, no quantity)
 * leaves the position as it was and is counted in bad_fills; the order
 * still follows it, since the venue says it traded. */
Test(risk, refused_fill_leaves_position_and_is_counted)
{
	struct fks_ev_order_new o = order(BTC, FKS_SIDE_BUY, 100, 1000000);
	expect_ok(o);

	union fks_event e = exec_fill(o.order_id, 400000, 600000);
	e.fill.px = -1;
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 0, 600000, 0);
	cr_assert_eq(risk.c.bad_fills, 1);

	e = exec_fill(o.order_id, 0, 600000);
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 0, 600000, 0);
	cr_assert_eq(risk.c.bad_fills, 2);

	e = exec_fill(o.order_id, 600000, 0);
	risk_on_exec(&risk, &e);
	expect_exposure(BTC, 600000, 0, 0);
	cr_assert_eq(risk.c.bad_fills, 2, "a good fill is not counted");
	cr_assert_eq(risk.c.fills, 3);
	cr_assert_eq(risk.n_open, 0);
}

/* A fill that would take the position beyond int64 is refused, not
 * saturated: the position stays the exact sum of the fills it took, and
 * the order still ends. */
Test(risk, fill_beyond_int64_is_refused_not_saturated)
{
	struct fks_ev_order_new a = order(WIDE, FKS_SIDE_BUY, 1, 1);
	struct fks_ev_order_new b = order(WIDE, FKS_SIDE_BUY, 1, 1);
	expect_ok(a);
	expect_ok(b);

	/* a is overfilled by the venue to two short of the int64 edge. */
	union fks_event e = exec_fill(a.order_id, INT64_MAX - 2, 0);
	risk_on_exec(&risk, &e);
	expect_exposure(WIDE, INT64_MAX - 2, 1, 0);
	cr_assert_eq(risk.c.bad_fills, 0);

	e = exec_fill(b.order_id, 5, 0);
	risk_on_exec(&risk, &e);
	expect_exposure(WIDE, INT64_MAX - 2, 0, 0);
	cr_assert_eq(risk.c.bad_fills, 1);
	cr_assert_eq(risk.n_open, 0);

	/* A sell still moves it by exactly its quantity. */
	struct fks_ev_order_new s = order(WIDE, FKS_SIDE_SELL, 1, 3);
	expect_ok(s);
	e = exec_fill(s.order_id, 3, 0);
	risk_on_exec(&risk, &e);
	expect_exposure(WIDE, INT64_MAX - 5, 0, 0);
	cr_assert_eq(risk.c.bad_fills, 1);
}

/* One order per pair of adjacent checks, breaking both: the earlier one
 * is reported. */
Test(risk, first_failing_check_is_reported)
{
	struct fks_ev_order_new o;

	/* kill + bad */
	risk_set_kill(&risk, true);
	o = order(BTC, FKS_SIDE_BUY, 100, 0);
	expect(o, FKS_RISK_KILL_SWITCH, 0, 1);
	risk_set_kill(&risk, false);
	/* bad + stale */
	o = order(BTC, FKS_SIDE_BUY, 100, 0);
	o.h.recv_time_ns = NOW - STALE - 1;
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	/* stale + max qty */
	o = order(BTC, FKS_SIDE_BUY, 100, 1000001);
	o.h.recv_time_ns = NOW - STALE - 1;
	expect(o, FKS_RISK_STALE_DATA, STALE, STALE + 1);
	/* max qty + notional: 2 BTC at 100000.00 */
	o = order(BTC, FKS_SIDE_BUY, 10000000, 2000000);
	expect(o, FKS_RISK_MAX_QTY, 1000000, 2000000);
	/* notional + position: fill to 4.5 first, then 1 BTC at 100000.01 */
	struct fks_ev_order_new big;
	union fks_event f;
	for (int i = 0; i < 4; i++) {
		big = order(BTC, FKS_SIDE_BUY, 100, 1000000);
		expect_ok(big);
		f = exec_fill(big.order_id, 1000000, 0);
		risk_on_exec(&risk, &f);
	}
	big = order(BTC, FKS_SIDE_BUY, 100, 500000);
	expect_ok(big);
	f = exec_fill(big.order_id, 500000, 0);
	risk_on_exec(&risk, &f);
	expect_exposure(BTC, 4500000, 0, 0);
	o = order(BTC, FKS_SIDE_BUY, 10000001, 1000000);
	expect(o, FKS_RISK_MAX_NOTIONAL, 10000000, 10000001);
	/* position alone */
	o = order(BTC, FKS_SIDE_BUY, 100, 1000000);
	expect(o, FKS_RISK_MAX_POSITION, 5000000, 5500000);
}

/* The table holds RISK_MAX_OPEN_ORDERS; one more is THROTTLE.  Releasing
 * orders in a scrambled order must find every one (deletion keeps every
 * probe chain intact) and free room again. */
Test(risk, open_order_table_full_and_scrambled_release)
{
	static uint64_t ids[RISK_MAX_OPEN_ORDERS];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct fks_ev_order_new o;
	struct risk_params p = params();

	/* 2048 buys of 1 will be open: a worst case of 2049 still fits. */
	p.instrument[1].max_position = RISK_MAX_OPEN_ORDERS / 2 + 1;
	cr_assert_eq(risk_init(&risk, &p), 0);

	for (int i = 0; i < RISK_MAX_OPEN_ORDERS; i++) {
		o = order(WIDE, i % 2 ? FKS_SIDE_BUY : FKS_SIDE_SELL, 1, 1);
		/* Random 64-bit ids, so probe chains form and interleave. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		o.order_id = x | 1;
		ids[i] = o.order_id;
		expect_ok(o);
	}
	o = order(WIDE, FKS_SIDE_BUY, 1, 1);
	expect(o, FKS_RISK_THROTTLE, RISK_MAX_OPEN_ORDERS, RISK_MAX_OPEN_ORDERS);
	/* Position is checked before room in the table: 2048 + 2 > 2049. */
	struct fks_ev_order_new two = order(WIDE, FKS_SIDE_BUY, 1, 2);
	expect(two, FKS_RISK_MAX_POSITION, RISK_MAX_OPEN_ORDERS / 2 + 1, RISK_MAX_OPEN_ORDERS / 2 + 2);
	expect_exposure(WIDE, 0, RISK_MAX_OPEN_ORDERS / 2, RISK_MAX_OPEN_ORDERS / 2);

	/* Release every other order, in a stride-scrambled order, then all the
	 * rest; each must be found exactly once. */
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < RISK_MAX_OPEN_ORDERS; k++) {
			int i = (int)(((unsigned)k * 2654435761u) % RISK_MAX_OPEN_ORDERS);
			if (i % 2 != pass)
				continue;
			union fks_event e = exec_end(pass ? FKS_EV_CANCEL_ACK : FKS_EV_ORDER_REJECT, ids[i]);
			risk_on_exec(&risk, &e);
		}
		if (pass == 0) {
			cr_assert_eq(risk.n_open, RISK_MAX_OPEN_ORDERS / 2);
			expect_exposure(WIDE, 0, RISK_MAX_OPEN_ORDERS / 2, 0);
			expect_ok(o);   /* room again */
			union fks_event e = exec_end(FKS_EV_ORDER_REJECT, o.order_id);
			risk_on_exec(&risk, &e);
		}
	}
	cr_assert_eq(risk.c.unknown_exec, 0, "an open order was lost in the table");
	cr_assert_eq(risk.c.released, RISK_MAX_OPEN_ORDERS + 1);
	cr_assert_eq(risk.n_open, 0);
	expect_exposure(WIDE, 0, 0, 0);
	for (size_t i = 0; i < RISK_ORDER_SLOTS; i++)
		cr_assert_eq(risk.open_slot[i].key, 0, "slot %zu not emptied", i);
	cr_assert_eq(risk.n_free, RISK_MAX_OPEN_ORDERS, "a record was not given back");
	cr_assert_eq(risk.order_errors.total, 0, "rejects and cancels of pending orders are legal");
}

Test(risk, build_reject)
{
	struct fks_ev_order_new o = order(BTC, FKS_SIDE_SELL, 12345, 67);
	struct fks_ev_risk_reject r;

	o.h.flags = FKS_EVF_REPLAY;
	o.h.recv_time_ns = 424242;
	memset(&r, 0xcc, sizeof r);
	risk_build_reject(&o, FKS_RISK_MAX_NOTIONAL, 10000000, 10000001, 77, &r);
	cr_assert_eq(r.h.type, FKS_EV_RISK_REJECT);
	cr_assert_eq(r.h.source, FKS_STAGE_RISK);
	cr_assert_eq(r.h.seq, 77);
	cr_assert_eq(r.h.flags, FKS_EVF_REPLAY);
	cr_assert_eq(r.h.instrument, BTC);
	cr_assert_eq(r.h.event_time_ns, o.h.event_time_ns);
	cr_assert_eq(r.h.recv_time_ns, 424242);
	cr_assert_eq(r.order_id, o.order_id);
	cr_assert_eq(r.signal_id, 7);
	cr_assert_eq(r.reason, FKS_RISK_MAX_NOTIONAL);
	cr_assert_eq(r.limit, 10000000);
	cr_assert_eq(r.value, 10000001);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(r.pad0[i], 0);
	for (int i = 0; i < 56; i++)
		cr_assert_eq(r.pad[i], 0, "pad byte %d", i);
}

Test(risk, counters_by_reason)
{
	struct fks_ev_order_new o;

	o = order(BTC, FKS_SIDE_BUY, 100, 2000000);
	expect(o, FKS_RISK_MAX_QTY, 1000000, 2000000);
	o = order(BTC, FKS_SIDE_BUY, 100, 2000000);
	expect(o, FKS_RISK_MAX_QTY, 1000000, 2000000);
	o = order(BTC, FKS_SIDE_BUY, 100, 0);
	expect(o, FKS_RISK_BAD_ORDER, 0, 0);
	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_MAX_QTY), 2);
	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_BAD_ORDER), 1);
	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_MAX_NOTIONAL), 0);
	cr_assert_eq(risk_reject_count(&risk, FKS_RISK_OK), 0);
	cr_assert_eq(risk_reject_count(&risk, (enum fks_risk_reason)200), 0);
	cr_assert_eq(risk.c.checked, 3);
	cr_assert_eq(risk.c.passed, 0);
	int64_t p, b, s;
	cr_assert(!risk_exposure(&risk, 42, &p, &b, &s));
}
