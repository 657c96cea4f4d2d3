/*
 * Tests for strategies/ma_cross.c: the moving-average crossover.
 *
 * Crossover indexes in the hand-built paths are worked out in the comments
 * next to them.  The long random paths are checked against a reference
 * written here from the definition: both averages recomputed from scratch
 * at every index with plain loops, no running sums.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/impl/ma_cross.h"

#define INST 3
#define OTHER 4
#define QTY 10
#define BASE 5000

static struct ma_cross strat, strat2;

static struct ma_cross_params params(uint32_t fast, uint32_t slow, uint8_t type)
{
	struct ma_cross_params p = {
		.instrument = INST,
		.fast = fast,
		.slow = slow,
		.qty = QTY,
		.order_type = type,
		.strategy_id = 9,
		.order_id_base = BASE,
	};
	return p;
}

/* A quote whose mid is m: bid m - 1, ask m + 1.  Times derive from k so that
 * the copy into the order can be checked. */
static union fks_event quote_at(uint32_t inst, int64_t bid, int64_t ask, int64_t k)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.source = FKS_STAGE_FEED;
	e.h.instrument = inst;
	e.h.seq = (uint64_t)k + 1;
	e.h.event_time_ns = 1000000000LL + k * 1000;
	e.h.recv_time_ns = 77000 + k * 10;
	e.quote.bid_px = bid;
	e.quote.bid_qty = 1;
	e.quote.ask_px = ask;
	e.quote.ask_qty = 1;
	return e;
}

static union fks_event mid_quote(int64_t m, int64_t k)
{
	return quote_at(INST, m - 1, m + 1, k);
}

static union fks_event fill(uint64_t order_id, int64_t qty, int64_t leaves)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_FILL;
	e.h.source = FKS_STAGE_GATEWAY;
	e.h.instrument = INST;
	e.fill.order_id = order_id;
	e.fill.px = 100;
	e.fill.qty = qty;
	e.fill.leaves_qty = leaves;
	return e;
}

static union fks_event done_event(unsigned type, uint64_t order_id)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = (uint8_t)type;
	e.h.instrument = INST;
	switch (type) {
	case FKS_EV_ORDER_REJECT: e.order_reject.order_id = order_id; break;
	case FKS_EV_CANCEL_ACK: e.cancel_ack.order_id = order_id; break;
	case FKS_EV_RISK_REJECT: e.risk_reject.order_id = order_id; break;
	case FKS_EV_ORDER_ACK: e.order_ack.order_id = order_id; break;
	}
	return e;
}

/* Feed mids[0..n) as quotes k = 0..n-1; record which k produced an order. */
struct run {
	int n_orders;
	int at[64];
	struct fks_ev_order_new order[64];
};

static void feed_mids(struct ma_cross *s, const int64_t *mids, int n, struct run *r)
{
	memset(r, 0, sizeof *r);
	for (int k = 0; k < n; k++) {
		union fks_event q = mid_quote(mids[k], k);
		struct fks_ev_order_new out;

		if (ma_cross_on_market(s, &q, &out)) {
			cr_assert_lt(r->n_orders, 64);
			r->at[r->n_orders] = k;
			r->order[r->n_orders++] = out;
		}
	}
}

Test(ma_cross, init_checks_params)
{
	struct ma_cross_params p;

	p = params(2, 4, FKS_ORD_LIMIT);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_OK);
	p = params(1, 2, FKS_ORD_MARKET);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_OK);
	p = params(MA_CROSS_MAX_WINDOW - 1, MA_CROSS_MAX_WINDOW, FKS_ORD_LIMIT);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_OK);
	p = params(0, 4, FKS_ORD_LIMIT);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_WINDOW);
	p = params(4, 4, FKS_ORD_LIMIT);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_WINDOW);
	p = params(5, 4, FKS_ORD_LIMIT);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_WINDOW);
	p = params(2, MA_CROSS_MAX_WINDOW + 1, FKS_ORD_LIMIT);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_WINDOW);
	p = params(2, 4, FKS_ORD_LIMIT);
	p.qty = 0;
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_QTY);
	p.qty = -1;
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_QTY);
	p = params(2, 4, 0);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_ORDER_TYPE);
	p = params(2, 4, 3);
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_ORDER_TYPE);
	p = params(2, 4, FKS_ORD_LIMIT);
	p.instrument = 0;
	cr_assert_eq(ma_cross_init(&strat, &p), MA_CROSS_E_INSTRUMENT);
	cr_assert_str_neq(ma_cross_strerror(MA_CROSS_E_QTY), ma_cross_strerror(MA_CROSS_E_WINDOW));
}

/*
 * fast 2, slow 4.  d = fast avg - slow avg, from the 4th mid (k = 3) on:
 *   k:    0   1   2   3   4   5    6    7    8    9   10  11  12
 *   mid: 100 100 100 100 100 104  104  104  96   96  96  96  100
 *   fast:             100 100 102  104  104  100  96  96  96  98
 *   slow:             100 100 101  102  103  102 100  98  96  97
 *   d:                 0   0   +    +    +    -    -   -   0   +
 * Crosses: up at k = 5 (0 -> +), down at k = 8 (+ -> -), none at k = 11
 * (- -> 0 is not a cross), up at k = 12 (0 -> +).
 */
static const int64_t path_a[] = { 100, 100, 100, 100, 100, 104, 104, 104, 96, 96, 96, 96, 100 };

Test(ma_cross, crossovers_at_hand_computed_indexes_limit)
{
	struct ma_cross_params p = params(2, 4, FKS_ORD_LIMIT);
	struct run r;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	feed_mids(&strat, path_a, 13, &r);
	cr_assert_eq(r.n_orders, 3);
	cr_assert_eq(r.at[0], 5);
	cr_assert_eq(r.at[1], 8);
	cr_assert_eq(r.at[2], 12);

	/* No fills: pending carries.  k=5: target +10, nothing held: buy 10.
	 * k=8: target -10, pending +10: sell 20.  k=12: target +10, pending
	 * -10: buy 20.  Prices: the ask to buy (mid + 1), the bid to sell. */
	const struct { uint8_t side; int64_t qty, px; } want[3] = {
		{ FKS_SIDE_BUY, 10, 105 }, { FKS_SIDE_SELL, 20, 95 }, { FKS_SIDE_BUY, 20, 101 },
	};
	for (int i = 0; i < 3; i++) {
		const struct fks_ev_order_new *o = &r.order[i];
		union fks_event cause = mid_quote(path_a[r.at[i]], r.at[i]);

		cr_assert_eq(o->h.type, FKS_EV_ORDER_NEW);
		cr_assert_eq(o->h.source, FKS_STAGE_STRATEGY);
		cr_assert_eq(o->h.flags, 0);
		cr_assert_eq(o->h.instrument, INST);
		cr_assert_eq(o->h.seq, (uint64_t)i + 1);
		cr_assert_eq(o->h.event_time_ns, cause.h.event_time_ns, "event time from the cause");
		cr_assert_eq(o->h.recv_time_ns, cause.h.recv_time_ns, "recv time from the cause");
		cr_assert_eq(o->order_id, BASE + (uint64_t)i + 1);
		cr_assert_eq(o->signal_id, (uint64_t)i + 1);
		cr_assert_eq(o->side, want[i].side, "order %d", i);
		cr_assert_eq(o->qty, want[i].qty, "order %d", i);
		cr_assert_eq(o->px, want[i].px, "order %d", i);
		cr_assert_eq(o->ord_type, FKS_ORD_LIMIT);
		cr_assert_eq(o->tif, FKS_TIF_GTC);
		cr_assert_eq(o->strategy, 9);
		cr_assert_eq(o->take_profit_px, 0);
		cr_assert_eq(o->stop_loss_px, 0);
	}
	cr_assert_eq(ma_cross_pending(&strat), 10);
	cr_assert_eq(ma_cross_position(&strat), 0);
	cr_assert_eq(strat.c.crossovers, 3);
}

Test(ma_cross, market_orders_are_ioc_with_a_reference_price)
{
	struct ma_cross_params p = params(2, 4, FKS_ORD_MARKET);
	struct run r;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	feed_mids(&strat, path_a, 9, &r);
	cr_assert_eq(r.n_orders, 2);
	cr_assert_eq(r.order[0].ord_type, FKS_ORD_MARKET);
	cr_assert_eq(r.order[0].tif, FKS_TIF_IOC);
	cr_assert_eq(r.order[0].px, 105, "buy: the ask as reference");
	cr_assert_eq(r.order[1].px, 95, "sell: the bid as reference");
}

/* The average is of exact mids, not rounded ones: with fast 1, slow 2, d has
 * the sign of the change in bid + ask.  Mids 101, 101, 101.5: the last is a
 * rise that mids rounded down to a tick (101, 101, 101) would miss. */
Test(ma_cross, mid_is_exact)
{
	struct ma_cross_params p = params(1, 2, FKS_ORD_LIMIT);
	struct fks_ev_order_new out;
	union fks_event q;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	q = quote_at(INST, 100, 102, 0);        /* 2*mid 202 */
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	q = quote_at(INST, 99, 103, 1);         /* 202: d = 0 */
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	q = quote_at(INST, 101, 102, 2);        /* 203: up by half a tick */
	cr_assert(ma_cross_on_market(&strat, &q, &out), "a half-tick rise of the mid is a cross");
	cr_assert_eq(out.side, FKS_SIDE_BUY);
	cr_assert_eq(out.px, 102);
}

/*
 * No order before the slow average exists, and none for a relation first
 * seen when it does: fast 2, slow 4 on 100, 90, 110, 120, 130, 140.
 * k = 3: fast 115 > slow 105, but there is no earlier comparison, so no
 * cross; after that the fast average stays above, so never an order.
 */
Test(ma_cross, warm_up)
{
	static const int64_t up[] = { 100, 90, 110, 120, 130, 140 };
	struct ma_cross_params p = params(2, 4, FKS_ORD_LIMIT);
	struct run r;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	feed_mids(&strat, up, 6, &r);
	cr_assert_eq(r.n_orders, 0);

	/* The earliest possible order is at the (slow + 1)-th mid, k = slow:
	 * flat for 4 (d = 0 at k = 3), then up at k = 4. */
	static const int64_t earliest[] = { 100, 100, 100, 100, 101 };
	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	feed_mids(&strat, earliest, 5, &r);
	cr_assert_eq(r.n_orders, 1);
	cr_assert_eq(r.at[0], 4);
}

/* fast 1, slow 2: d has the sign of the last change of the mid. */
Test(ma_cross, position_from_fills_sizes_the_next_order)
{
	struct ma_cross_params p = params(1, 2, FKS_ORD_LIMIT);
	struct fks_ev_order_new out;
	union fks_event q, e;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	q = mid_quote(100, 0);
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	q = mid_quote(100, 1);                 /* d = 0 */
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	q = mid_quote(101, 2);                 /* up: buy 10 */
	cr_assert(ma_cross_on_market(&strat, &q, &out));
	cr_assert_eq(out.qty, QTY);
	uint64_t buy_id = out.order_id;

	e = done_event(FKS_EV_ORDER_ACK, buy_id);
	ma_cross_on_exec(&strat, &e);
	cr_assert_eq(ma_cross_pending(&strat), QTY, "an ack changes nothing");
	e = fill(buy_id, 4, 6);
	ma_cross_on_exec(&strat, &e);
	cr_assert_eq(ma_cross_position(&strat), 4);
	cr_assert_eq(ma_cross_pending(&strat), 6);
	e = fill(buy_id, 6, 0);
	ma_cross_on_exec(&strat, &e);
	cr_assert_eq(ma_cross_position(&strat), QTY);
	cr_assert_eq(ma_cross_pending(&strat), 0);

	q = mid_quote(100, 3);                 /* down: target -10 from +10 */
	cr_assert(ma_cross_on_market(&strat, &q, &out));
	cr_assert_eq(out.side, FKS_SIDE_SELL);
	cr_assert_eq(out.qty, 2 * QTY);
	cr_assert_eq(strat.c.fills, 2);
	cr_assert_eq(strat.c.unknown_exec, 0);
}

Test(ma_cross, pending_prevents_a_duplicate_order)
{
	struct ma_cross_params p = params(1, 2, FKS_ORD_LIMIT);
	struct fks_ev_order_new out;
	union fks_event q;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	q = mid_quote(100, 0);
	ma_cross_on_market(&strat, &q, &out);
	q = mid_quote(100, 1);
	ma_cross_on_market(&strat, &q, &out);
	q = mid_quote(101, 2);                 /* 0 -> +: buy 10 */
	cr_assert(ma_cross_on_market(&strat, &q, &out));
	q = mid_quote(101, 3);                 /* + -> 0 */
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	q = mid_quote(102, 4);                 /* 0 -> +: a cross, but 10 are pending */
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	cr_assert_eq(strat.c.crossovers, 2);
	cr_assert_eq(strat.c.orders, 1);
	q = mid_quote(101, 5);                 /* + -> -: sell 10 + 10 */
	cr_assert(ma_cross_on_market(&strat, &q, &out));
	cr_assert_eq(out.qty, 2 * QTY);
	cr_assert_eq(out.side, FKS_SIDE_SELL);
}

/* Each way an order can end without filling gives its quantity back. */
Test(ma_cross, rejects_and_cancels_release_pending)
{
	static const unsigned ends[] = { FKS_EV_RISK_REJECT, FKS_EV_ORDER_REJECT, FKS_EV_CANCEL_ACK };

	for (unsigned i = 0; i < 3; i++) {
		struct ma_cross_params p = params(1, 2, FKS_ORD_LIMIT);
		struct fks_ev_order_new out;
		union fks_event q, e;

		cr_assert_eq(ma_cross_init(&strat, &p), 0);
		q = mid_quote(100, 0);
		ma_cross_on_market(&strat, &q, &out);
		q = mid_quote(100, 1);
		ma_cross_on_market(&strat, &q, &out);
		q = mid_quote(101, 2);
		cr_assert(ma_cross_on_market(&strat, &q, &out));
		uint64_t first = out.order_id;

		if (ends[i] == FKS_EV_CANCEL_ACK) {
			/* A partial fill, then the rest canceled. */
			e = fill(first, 3, 7);
			ma_cross_on_exec(&strat, &e);
		}
		e = done_event(ends[i], first);
		ma_cross_on_exec(&strat, &e);
		cr_assert_eq(ma_cross_pending(&strat), 0, "end type %u", ends[i]);
		int64_t held = ends[i] == FKS_EV_CANCEL_ACK ? 3 : 0;
		cr_assert_eq(ma_cross_position(&strat), held);

		/* The same order id again is now unknown. */
		ma_cross_on_exec(&strat, &e);
		cr_assert_eq(strat.c.unknown_exec, 1);

		/* The next up-cross buys again, for what is missing. */
		q = mid_quote(101, 3);                 /* d = 0 */
		cr_assert(!ma_cross_on_market(&strat, &q, &out));
		q = mid_quote(102, 4);
		cr_assert(ma_cross_on_market(&strat, &q, &out), "end type %u", ends[i]);
		cr_assert_eq(out.qty, QTY - held);
		cr_assert_eq(out.order_id, first + 1);
	}
}

/* Quotes of other instruments, trades, bad quotes and other strategies'
 * exec reports change nothing: the orders are byte for byte those of a
 * clean run. */
Test(ma_cross, ignores_what_is_not_its_own)
{
	struct ma_cross_params p = params(2, 4, FKS_ORD_LIMIT);
	struct run clean;
	struct fks_ev_order_new out;
	int n = 0;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	feed_mids(&strat, path_a, 13, &clean);

	cr_assert_eq(ma_cross_init(&strat2, &p), 0);
	for (int k = 0; k < 13; k++) {
		union fks_event noise = quote_at(OTHER, 1, 1000000 - k * 7919 % 5000, k);
		cr_assert(!ma_cross_on_market(&strat2, &noise, &out));

		union fks_event t;
		memset(&t, 0, sizeof t);
		t.h.type = FKS_EV_TRADE;
		t.h.instrument = INST;
		t.trade.px = 1 + k * 1000;
		t.trade.qty = 1;
		cr_assert(!ma_cross_on_market(&strat2, &t, &out));

		union fks_event crossed = quote_at(INST, 500, 400, k);
		cr_assert(!ma_cross_on_market(&strat2, &crossed, &out));
		union fks_event zero = quote_at(INST, 0, 400, k);
		cr_assert(!ma_cross_on_market(&strat2, &zero, &out));

		union fks_event foreign = fill(BASE + 1000 + k, 5, 0);
		ma_cross_on_exec(&strat2, &foreign);

		union fks_event q = mid_quote(path_a[k], k);
		if (ma_cross_on_market(&strat2, &q, &out)) {
			cr_assert_lt(n, clean.n_orders);
			cr_assert_eq(memcmp(&out, &clean.order[n], sizeof out), 0, "order %d", n);
			n++;
		}
	}
	cr_assert_eq(n, clean.n_orders);
	cr_assert_eq(strat2.c.bad_quotes, 26);
	cr_assert_eq(strat2.c.samples, 13);
	cr_assert_eq(strat2.c.unknown_exec, 13);
	cr_assert_eq(ma_cross_position(&strat2), 0, "someone else's fills moved our position");
	/* A locked quote (bid == ask) is a valid sample. */
	union fks_event locked = quote_at(INST, 100, 100, 99);
	ma_cross_on_market(&strat2, &locked, &out);
	cr_assert_eq(strat2.c.samples, 14);
}

/* ---- against a reference ------------------------------------------------ */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* sign(fast avg - slow avg) at index k, from scratch. */
static int reference_cmp(const int64_t *two_mid, int k, int fast, int slow)
{
	__int128 sf = 0, ss = 0;

	for (int i = k - fast + 1; i <= k; i++)
		sf += two_mid[i];
	for (int i = k - slow + 1; i <= k; i++)
		ss += two_mid[i];
	/* sf / fast vs ss / slow */
	__int128 l = sf * slow, r = ss * fast;
	return (l > r) - (l < r);
}

/*
 * A random walk of quotes (with random spreads, so mids land on half
 * ticks).  Every order is filled at once, so pending is always 0 and the
 * expected order is target - position, with position tracked here.
 */
static void check_against_reference(uint32_t fast, uint32_t slow, int n, uint64_t seed)
{
	static int64_t bid[200000], ask[200000], two_mid[200000];
	struct ma_cross_params p = params(fast, slow, FKS_ORD_LIMIT);
	uint64_t rng = seed;
	int64_t m = 1000000, position = 0;
	int prev = 0, have_prev = 0, orders = 0;

	cr_assert_leq(n, 200000);
	for (int k = 0; k < n; k++) {
		m += (int64_t)(xorshift(&rng) % 21) - 10;
		bid[k] = m;
		ask[k] = m + 1 + (int64_t)(xorshift(&rng) % 3);
		two_mid[k] = bid[k] + ask[k];
	}

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	for (int k = 0; k < n; k++) {
		union fks_event q = quote_at(INST, bid[k], ask[k], k);
		struct fks_ev_order_new out;
		bool sent = ma_cross_on_market(&strat, &q, &out);

		int64_t want = 0;
		if (k + 1 >= (int)slow) {
			int cmp = reference_cmp(two_mid, k, (int)fast, (int)slow);
			if (have_prev && prev <= 0 && cmp > 0)
				want = QTY - position;
			else if (have_prev && prev >= 0 && cmp < 0)
				want = -QTY - position;
			prev = cmp;
			have_prev = 1;
		}
		cr_assert_eq(sent, want != 0, "fast %u slow %u k %d: sent %d, want %" PRId64, fast, slow,
			     k, sent, want);
		if (!sent)
			continue;
		orders++;
		cr_assert_eq(out.side, want > 0 ? FKS_SIDE_BUY : FKS_SIDE_SELL);
		cr_assert_eq(out.qty, want > 0 ? want : -want);
		cr_assert_eq(out.px, want > 0 ? ask[k] : bid[k]);
		position += want;

		union fks_event f = fill(out.order_id, out.qty, 0);
		ma_cross_on_exec(&strat, &f);
		cr_assert_eq(ma_cross_position(&strat), position);
		cr_assert_eq(ma_cross_pending(&strat), 0);
	}
	cr_assert_gt(orders, 10, "fast %u slow %u: too few crossovers to mean anything", fast, slow);
}

Test(ma_cross, matches_a_from_scratch_reference)
{
	check_against_reference(1, 2, 20000, 1);
	check_against_reference(5, 20, 50000, 2);
	check_against_reference(10, 30, 50000, 3);
	check_against_reference(3, 4, 20000, 4);
	check_against_reference(64, 4096, 150000, 5);
}

Test(ma_cross, same_input_same_bytes)
{
	struct ma_cross_params p = params(3, 7, FKS_ORD_LIMIT);
	uint64_t rng = 11;
	int64_t m = 50000;
	int orders = 0;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	cr_assert_eq(ma_cross_init(&strat2, &p), 0);
	for (int k = 0; k < 20000; k++) {
		m += (int64_t)(xorshift(&rng) % 11) - 5;
		union fks_event q = quote_at(INST, m, m + 2, k);
		struct fks_ev_order_new a, b;

		memset(&a, 0x11, sizeof a);
		memset(&b, 0x22, sizeof b);
		bool sa = ma_cross_on_market(&strat, &q, &a);
		bool sb = ma_cross_on_market(&strat2, &q, &b);
		cr_assert_eq(sa, sb);
		if (!sa)
			continue;
		cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "order at k %d differs", k);
		orders++;
		/* Alternate the outcome so the exec path is exercised too. */
		union fks_event e = k % 2 ? fill(a.order_id, a.qty, 0)
					  : done_event(FKS_EV_ORDER_REJECT, a.order_id);
		ma_cross_on_exec(&strat, &e);
		ma_cross_on_exec(&strat2, &e);
	}
	cr_assert_gt(orders, 100);
}

/* Unanswered orders pile up; when every slot is taken the strategy stops
 * ordering (and counts it) rather than lose track, and resumes once one
 * ends. */
Test(ma_cross, full_order_table_suppresses_then_recovers)
{
	struct ma_cross_params p = params(1, 2, FKS_ORD_LIMIT);
	struct fks_ev_order_new out;
	union fks_event q;
	int k = 0, sent = 0;

	cr_assert_eq(ma_cross_init(&strat, &p), 0);
	q = mid_quote(100, k++);
	ma_cross_on_market(&strat, &q, &out);
	q = mid_quote(100, k++);               /* d = 0 */
	ma_cross_on_market(&strat, &q, &out);
	/* 101, 100, 101, ...: a cross on every quote.  Orders: buy 10, then
	 * alternately sell 20 and buy 20 (target minus the opposite pending),
	 * so pending swings between +10 and -10. */
	for (int i = 0; i < MA_CROSS_MAX_OPEN + 5; i++) {
		q = mid_quote(i % 2 ? 100 : 101, k++);
		sent += ma_cross_on_market(&strat, &q, &out);
	}
	/* 64 orders (i = 0..63), the last a sell (odd i): pending -10.  Of
	 * the 5 crosses after that, the down-crosses want -10 - (-10) = 0 and
	 * send nothing anyway; the up-crosses at i = 64, 66, 68 want 20 and are
	 * suppressed. */
	cr_assert_eq(sent, MA_CROSS_MAX_OPEN);
	cr_assert_eq(strat.c.orders_suppressed, 3);
	cr_assert_eq(ma_cross_pending(&strat), -10);

	/* The first order (buy 10) is rejected: pending -20, one slot free.
	 * The last quote was 101; 100 is a down-cross: target -10, so
	 * -10 - (-20) = +10 to buy. */
	union fks_event e = done_event(FKS_EV_RISK_REJECT, BASE + 1);
	ma_cross_on_exec(&strat, &e);
	cr_assert_eq(ma_cross_pending(&strat), -20);
	q = mid_quote(100, k++);
	cr_assert(ma_cross_on_market(&strat, &q, &out));
	cr_assert_eq(out.side, FKS_SIDE_BUY);
	cr_assert_eq(out.qty, 10);
	cr_assert_eq(out.order_id, BASE + MA_CROSS_MAX_OPEN + 1, "suppressed signals use no id");

	/* Full again. */
	q = mid_quote(101, k++);
	cr_assert(!ma_cross_on_market(&strat, &q, &out));
	cr_assert_eq(strat.c.orders_suppressed, 4);
}
