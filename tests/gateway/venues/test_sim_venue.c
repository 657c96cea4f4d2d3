/*
 * Tests for gateway/sim_venue.c: the simulated venue.
 *
 * Each test feeds hand-written quotes and orders and checks every emitted
 * event field by field against values worked out in the comments.  The
 * random run at the end checks determinism (two venues, byte-identical
 * output) and conservation (every order's quantity ends up filled, canceled
 * or still open) with bookkeeping done here.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "gateway/venues/sim/sim_venue.h"

#define I1 1
#define I2 2
#define MAX_CAPTURE 64

static struct sim_venue venue, venue2;

struct capture {
	int n;
	uint64_t base;          /* events emitted before ev[0] */
	union fks_event ev[MAX_CAPTURE];
};

static struct capture cap;

/* Forget what was captured; the seq of the next event is still checked. */
static void cap_reset(void)
{
	cap.base += (uint64_t)cap.n;
	cap.n = 0;
}

/* Sides of the orders the tests send, by order id (0: not sent as such). */
static uint8_t sent_side[128];

static void capture_emit(void *ctx, const union fks_event *ev)
{
	struct capture *c = ctx;

	cr_assert_lt(c->n, MAX_CAPTURE, "too many events");
	c->ev[c->n++] = *ev;
	/* The stage books fills by side from inside this callback: the side
	 * must be there for every fill. */
	if (ev->h.type == FKS_EV_FILL) {
		uint8_t side = 0xff;

		cr_assert(sim_venue_order_side(&venue, ev->fill.order_id, &side));
		if (ev->fill.order_id < 128 && sent_side[ev->fill.order_id])
			cr_assert_eq(side, sent_side[ev->fill.order_id], "order %" PRIu64, ev->fill.order_id);
	}
}

static void setup_venue(uint8_t fill, uint32_t latency_us)
{
	struct sim_venue_params p = {
		.fill = fill,
		.latency_us = latency_us,
		.n_instruments = 2,
		.instrument = { I1, I2 },
	};

	cr_assert_eq(sim_venue_init(&venue, &p), 0);
	memset(&cap, 0, sizeof cap);
}

/* ---- inputs ------------------------------------------------------------- */

static void quote(uint32_t inst, int64_t bid, int64_t bid_qty, int64_t ask, int64_t ask_qty, int64_t t)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.source = FKS_STAGE_FEED;
	e.h.instrument = inst;
	e.h.event_time_ns = t;
	e.h.recv_time_ns = t + 1;
	e.quote.bid_px = bid;
	e.quote.bid_qty = bid_qty;
	e.quote.ask_px = ask;
	e.quote.ask_qty = ask_qty;
	sim_venue_on_market(&venue, &e, capture_emit, &cap);
}

static union fks_event make_order(uint64_t id, uint32_t inst, uint8_t side, uint8_t type, uint8_t tif,
				  int64_t px, int64_t qty, int64_t t)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_ORDER_NEW;
	e.h.source = FKS_STAGE_RISK;
	e.h.instrument = inst;
	e.h.event_time_ns = t;
	e.h.recv_time_ns = 500000 + (int64_t)id;  /* distinct per order, checkable */
	e.order_new.order_id = id;
	e.order_new.side = side;
	if (id < 128)
		sent_side[id] = side;
	e.order_new.ord_type = type;
	e.order_new.tif = tif;
	e.order_new.px = px;
	e.order_new.qty = qty;
	return e;
}

static void limit(uint64_t id, uint32_t inst, uint8_t side, int64_t px, int64_t qty, int64_t t)
{
	union fks_event e = make_order(id, inst, side, FKS_ORD_LIMIT, FKS_TIF_GTC, px, qty, t);

	sim_venue_on_order(&venue, &e, capture_emit, &cap);
}

static void send(uint64_t id, uint32_t inst, uint8_t side, uint8_t type, uint8_t tif, int64_t px,
		 int64_t qty, int64_t t)
{
	union fks_event e = make_order(id, inst, side, type, tif, px, qty, t);

	sim_venue_on_order(&venue, &e, capture_emit, &cap);
}

static void cancel(uint64_t id, uint32_t inst, int64_t t)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_ORDER_CANCEL;
	e.h.source = FKS_STAGE_RISK;
	e.h.instrument = inst;
	e.h.event_time_ns = t;
	e.h.recv_time_ns = 900000 + (int64_t)id;
	e.order_cancel.order_id = id;
	sim_venue_on_order(&venue, &e, capture_emit, &cap);
}

/* ---- expectations --------------------------------------------------------
 * Each takes the index of the captured event.  The common header: source
 * gateway, flags 0, seq dense from 1 over the whole venue. */

static const union fks_event *event_at(int i, unsigned type, uint32_t inst, int64_t t, int64_t recv)
{
	cr_assert_lt(i, cap.n, "event %d missing (only %d)", i, cap.n);
	const union fks_event *e = &cap.ev[i];
	cr_assert_eq(e->h.type, type, "event %d: type %s, want %s", i, fks_event_type_name(e->h.type),
		     fks_event_type_name(type));
	cr_assert_eq(e->h.source, FKS_STAGE_GATEWAY);
	cr_assert_eq(e->h.flags, 0);
	cr_assert_eq(e->h.instrument, inst, "event %d", i);
	cr_assert_eq(e->h.seq, cap.base + (uint64_t)i + 1, "event %d: seq %" PRIu64, i, e->h.seq);
	cr_assert_eq(e->h.event_time_ns, t, "event %d: event time %" PRId64 ", want %" PRId64, i,
		     e->h.event_time_ns, t);
	cr_assert_eq(e->h.recv_time_ns, recv, "event %d: recv time %" PRId64 ", want %" PRId64, i,
		     e->h.recv_time_ns, recv);
	for (size_t b = 64; b < sizeof *e; b++)
		cr_assert_eq(e->bytes[b], 0);
	return e;
}

#define RECV(id) (500000 + (int64_t)(id))
#define CRECV(id) (900000 + (int64_t)(id))

static void expect_ack(int i, uint64_t id, uint32_t inst, int64_t t, uint64_t venue_id, int64_t leaves)
{
	const union fks_event *e = event_at(i, FKS_EV_ORDER_ACK, inst, t, RECV(id));

	cr_assert_eq(e->order_ack.order_id, id);
	cr_assert_eq(e->order_ack.venue_order_id, venue_id);
	cr_assert_eq(e->order_ack.leaves_qty, leaves);
}

static void expect_fill(int i, uint64_t id, uint32_t inst, int64_t t, int64_t px, int64_t qty, int64_t leaves)
{
	const union fks_event *e = event_at(i, FKS_EV_FILL, inst, t, RECV(id));

	cr_assert_eq(e->fill.order_id, id, "event %d", i);
	cr_assert_eq(e->fill.px, px, "event %d: px %" PRId64 ", want %" PRId64, i, e->fill.px, px);
	cr_assert_eq(e->fill.qty, qty, "event %d: qty %" PRId64 ", want %" PRId64, i, e->fill.qty, qty);
	cr_assert_eq(e->fill.leaves_qty, leaves, "event %d", i);
}

static void expect_cancel_ack(int i, uint64_t id, uint32_t inst, int64_t t, int64_t recv, int64_t qty)
{
	const union fks_event *e = event_at(i, FKS_EV_CANCEL_ACK, inst, t, recv);

	cr_assert_eq(e->cancel_ack.order_id, id);
	cr_assert_eq(e->cancel_ack.canceled_qty, qty, "event %d: canceled %" PRId64 ", want %" PRId64, i,
		     e->cancel_ack.canceled_qty, qty);
}

static void expect_reject(int i, uint64_t id, uint32_t inst, int64_t t, int64_t recv, unsigned reason)
{
	const union fks_event *e = event_at(i, FKS_EV_ORDER_REJECT, inst, t, recv);

	cr_assert_eq(e->order_reject.order_id, id);
	cr_assert_eq(e->order_reject.reason, reason, "event %d: reason %s, want %s", i,
		     sim_reject_reason_name(e->order_reject.reason), sim_reject_reason_name(reason));
}

static void expect_count(int n)
{
	cr_assert_eq(cap.n, n, "%d events, want %d", cap.n, n);
}

static void expect_state(uint64_t id, enum order_state want, int64_t want_leaves)
{
	int64_t leaves = -1;
	enum order_state s = sim_venue_order_state(&venue, id, &leaves);

	cr_assert_eq(s, want, "order %" PRIu64 ": %s, want %s", id, order_state_name(s),
		     order_state_name(want));
	cr_assert_eq(leaves, want_leaves, "order %" PRIu64 ": leaves %" PRId64, id, leaves);
	/* The order model (tests/gateway/test_order.c) refused nothing the venue did. */
	cr_assert_eq(venue.order_errors.total, 0, "order model refused %" PRIu64 " transitions",
		     venue.order_errors.total);
}


/* ---- tests -------------------------------------------------------------- */

Test(sim_venue, init_checks_params)
{
	struct sim_venue_params p = { .fill = SIM_FILL_TOUCH, .n_instruments = 1, .instrument = { 5 } };

	cr_assert_eq(sim_venue_init(&venue, &p), 0);
	p.fill = 0;
	cr_assert_eq(sim_venue_init(&venue, &p), -1);
	p.fill = SIM_FILL_NONE;
	cr_assert_eq(sim_venue_init(&venue, &p), 0);
	p.latency_us = SIM_VENUE_MAX_LATENCY_US + 1;
	cr_assert_eq(sim_venue_init(&venue, &p), -1);
	p.latency_us = 0;
	p.n_instruments = 0;
	cr_assert_eq(sim_venue_init(&venue, &p), -1);
	p.n_instruments = 2;
	p.instrument[1] = 5;
	cr_assert_eq(sim_venue_init(&venue, &p), -1, "duplicate instrument");
	p.instrument[1] = 0;
	cr_assert_eq(sim_venue_init(&venue, &p), -1);
}

/*
 * Buy 10 at 100.  Ask 101: rests.  Ask 100 x 3: fills 3 at 100 (leaves 7).
 * Ask 99 x 10: fills 7 at 99, price improvement, done.  Later quotes and a
 * cancel cannot touch it.
 */
Test(sim_venue, partial_fills_then_filled_with_price_improvement)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I1, 98, 5, 101, 5, 1000);
	expect_count(0);
	limit(11, I1, FKS_SIDE_BUY, 100, 10, 1000);
	expect_count(1);
	expect_ack(0, 11, I1, 1000, 1, 10);
	expect_state(11, ORDER_ST_NEW, 10);

	quote(I1, 98, 5, 100, 3, 2000);
	expect_count(2);
	expect_fill(1, 11, I1, 2000, 100, 3, 7);
	expect_state(11, ORDER_ST_PARTIALLY_FILLED, 7);

	quote(I1, 97, 5, 99, 10, 3000);
	expect_count(3);
	expect_fill(2, 11, I1, 3000, 99, 7, 0);
	expect_state(11, ORDER_ST_FILLED, 0);

	quote(I1, 80, 50, 90, 50, 4000);
	expect_count(3);
	cancel(11, I1, 5000);
	expect_count(4);
	expect_reject(3, 11, I1, 5000, CRECV(11), SIM_REJ_ORDER_DONE);
	expect_state(11, ORDER_ST_FILLED, 0);

	cr_assert_eq(venue.c.orders, 1);
	cr_assert_eq(venue.c.acks, 1);
	cr_assert_eq(venue.c.fills, 2);
	cr_assert_eq(venue.c.rejects, 1);
	cr_assert_eq(venue.c.cancels, 0);
	cr_assert_eq(venue.c.open, 0);
	cr_assert_eq(venue.c.cancel_requests, 1);
}

/* Sell 4 at 100 against a bid of 102 x 10 already there (the quote that
 * caused the order: same event time): fills at once at 102, carrying the
 * order's own times. */
Test(sim_venue, sell_fills_at_arrival_at_the_better_bid)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I2, 102, 10, 103, 10, 1000);
	limit(7, I2, FKS_SIDE_SELL, 100, 4, 1000);
	expect_count(2);
	expect_ack(0, 7, I2, 1000, 1, 4);
	expect_fill(1, 7, I2, 1000, 102, 4, 0);
	/* A sell above the bid rests. */
	limit(8, I2, FKS_SIDE_SELL, 103, 4, 1000);
	expect_count(3);
	expect_ack(2, 8, I2, 1000, 2, 4);
	expect_state(8, ORDER_ST_NEW, 4);
	/* An order caused by a later quote than the venue has seen waits for
	 * it, even at latency 0: it must not trade on a book it never saw. */
	limit(9, I2, FKS_SIDE_SELL, 100, 1, 1500);
	expect_count(4);
	expect_ack(3, 9, I2, 1500, 3, 1);
	quote(I2, 101, 10, 103, 10, 1500);
	expect_count(5);
	expect_fill(4, 9, I2, 1500, 101, 1, 0);
}

/*
 * Displayed size is shared and used once per quote, oldest order first:
 *   A buy 5 @100, B buy 5 @100 rest (ask 101).
 *   ask 100 x 7:  A 5 (done), B 2 (leaves 3).
 *   C buy 1 @100 arrives at the same quote: nothing left, rests.
 *   D sell 2 @99 arrives: the bid side (99 x 3) is untouched: fills 2.
 *   ask 100 x 2:  B 2 (leaves 1), C nothing.
 *   ask 100 x 10: B 1, C 1.
 */
Test(sim_venue, displayed_size_is_consumed_in_arrival_order)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I1, 99, 3, 101, 10, 1000);
	limit(1, I1, FKS_SIDE_BUY, 100, 5, 1000);
	limit(2, I1, FKS_SIDE_BUY, 100, 5, 1000);
	expect_count(2);
	expect_ack(0, 1, I1, 1000, 1, 5);
	expect_ack(1, 2, I1, 1000, 2, 5);

	quote(I1, 99, 3, 100, 7, 2000);
	expect_count(4);
	expect_fill(2, 1, I1, 2000, 100, 5, 0);
	expect_fill(3, 2, I1, 2000, 100, 2, 3);

	limit(3, I1, FKS_SIDE_BUY, 100, 1, 2000);
	expect_count(5);
	expect_ack(4, 3, I1, 2000, 3, 1);
	limit(4, I1, FKS_SIDE_SELL, 99, 2, 2000);
	expect_count(7);
	expect_ack(5, 4, I1, 2000, 4, 2);
	expect_fill(6, 4, I1, 2000, 99, 2, 0);
	/* The bid had 3; 1 is left for another seller at this quote. */
	limit(5, I1, FKS_SIDE_SELL, 99, 2, 2000);
	expect_count(9);
	expect_ack(7, 5, I1, 2000, 5, 2);
	expect_fill(8, 5, I1, 2000, 99, 1, 1);

	quote(I1, 98, 3, 100, 2, 3000);
	expect_count(10);
	expect_fill(9, 2, I1, 3000, 100, 2, 1);

	quote(I1, 98, 3, 100, 10, 4000);
	expect_count(12);
	expect_fill(10, 2, I1, 4000, 100, 1, 0);
	expect_fill(11, 3, I1, 4000, 100, 1, 0);
	expect_state(5, ORDER_ST_PARTIALLY_FILLED, 1);
	cr_assert_eq(venue.c.open, 1);
}

/* Market buy 10 against ask 100 x 4: fill 4, the 6 left canceled.  A
 * market sell into an empty bid: nothing fills, all canceled. */
Test(sim_venue, market_order_remainder_is_canceled)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I1, 99, 0, 100, 4, 1000);
	send(21, I1, FKS_SIDE_BUY, FKS_ORD_MARKET, FKS_TIF_GTC, 0, 10, 1000);
	expect_count(3);
	expect_ack(0, 21, I1, 1000, 1, 10);
	expect_fill(1, 21, I1, 1000, 100, 4, 6);
	expect_cancel_ack(2, 21, I1, 1000, RECV(21), 6);
	expect_state(21, ORDER_ST_CANCELED, 0);

	send(22, I1, FKS_SIDE_SELL, FKS_ORD_MARKET, FKS_TIF_IOC, 0, 3, 1000);
	expect_count(5);
	expect_ack(3, 22, I1, 1000, 2, 3);
	expect_cancel_ack(4, 22, I1, 1000, RECV(22), 3);
	cr_assert_eq(venue.c.open, 0);
	cr_assert_eq(venue.c.cancels, 2);
}

/* A quote side with no price or no (or negative) size is empty: nothing
 * trades against it, and immediate orders are canceled whole. */
Test(sim_venue, empty_quote_sides_do_not_trade)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I1, 0, 5, 101, -3, 1000);
	send(1, I1, FKS_SIDE_SELL, FKS_ORD_MARKET, FKS_TIF_IOC, 0, 2, 1000);
	send(2, I1, FKS_SIDE_BUY, FKS_ORD_MARKET, FKS_TIF_IOC, 0, 2, 1000);
	limit(3, I1, FKS_SIDE_BUY, 101, 2, 1000);
	limit(4, I1, FKS_SIDE_SELL, 1, 2, 1000);
	expect_count(6);
	expect_ack(0, 1, I1, 1000, 1, 2);
	expect_cancel_ack(1, 1, I1, 1000, RECV(1), 2);
	expect_ack(2, 2, I1, 1000, 2, 2);
	expect_cancel_ack(3, 2, I1, 1000, RECV(2), 2);
	expect_ack(4, 3, I1, 1000, 3, 2);
	expect_ack(5, 4, I1, 1000, 4, 2);
	/* Sizes appear: both resting orders trade. */
	quote(I1, 1, 5, 101, 0, 2000);
	expect_count(7);
	expect_fill(6, 4, I1, 2000, 1, 2, 0);
	quote(I1, 1, 5, 101, 9, 3000);
	expect_count(8);
	expect_fill(7, 3, I1, 3000, 101, 2, 0);
}

/* A market order before any quote waits for the first one. */
Test(sim_venue, market_order_waits_for_a_quote)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	send(31, I2, FKS_SIDE_BUY, FKS_ORD_MARKET, FKS_TIF_IOC, 0, 5, 1000);
	expect_count(1);
	expect_state(31, ORDER_ST_NEW, 5);
	quote(I1, 10, 100, 11, 100, 1500);     /* another instrument */
	expect_count(1);
	quote(I2, 49, 9, 50, 2, 2000);
	expect_count(3);
	expect_fill(1, 31, I2, 2000, 50, 2, 3);
	expect_cancel_ack(2, 31, I2, 2000, RECV(31), 3);
}

Test(sim_venue, ioc_and_fok_limits)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I1, 99, 5, 101, 5, 1000);
	/* IOC below the ask: nothing fills, all canceled. */
	send(1, I1, FKS_SIDE_BUY, FKS_ORD_LIMIT, FKS_TIF_IOC, 100, 10, 1000);
	expect_count(2);
	expect_ack(0, 1, I1, 1000, 1, 10);
	expect_cancel_ack(1, 1, I1, 1000, RECV(1), 10);
	/* IOC at the ask for more than shown: 5 fill, 5 canceled. */
	send(2, I1, FKS_SIDE_BUY, FKS_ORD_LIMIT, FKS_TIF_IOC, 101, 10, 1000);
	expect_count(5);
	expect_ack(2, 2, I1, 1000, 2, 10);
	expect_fill(3, 2, I1, 1000, 101, 5, 5);
	expect_cancel_ack(4, 2, I1, 1000, RECV(2), 5);
	/* FOK for 4 against a bid of 5: all of it. */
	send(3, I1, FKS_SIDE_SELL, FKS_ORD_LIMIT, FKS_TIF_FOK, 99, 4, 1000);
	expect_count(7);
	expect_ack(5, 3, I1, 1000, 3, 4);
	expect_fill(6, 3, I1, 1000, 99, 4, 0);
	/* FOK for 2 against the 1 left: none of it. */
	send(4, I1, FKS_SIDE_SELL, FKS_ORD_LIMIT, FKS_TIF_FOK, 99, 2, 1000);
	expect_count(9);
	expect_ack(7, 4, I1, 1000, 4, 2);
	expect_cancel_ack(8, 4, I1, 1000, RECV(4), 2);
	/* DAY rests like GTC. */
	send(5, I1, FKS_SIDE_SELL, FKS_ORD_LIMIT, FKS_TIF_DAY, 105, 2, 1000);
	expect_count(10);
	expect_state(5, ORDER_ST_NEW, 2);
}

Test(sim_venue, fill_none_never_fills)
{
	setup_venue(SIM_FILL_NONE, 0);
	quote(I1, 99, 5, 100, 5, 1000);
	limit(1, I1, FKS_SIDE_BUY, 100, 3, 1000);
	expect_count(1);
	expect_ack(0, 1, I1, 1000, 1, 3);
	quote(I1, 99, 5, 90, 500, 2000);
	quote(I1, 99, 5, 80, 500, 3000);
	expect_count(1);
	expect_state(1, ORDER_ST_NEW, 3);
	/* A market order could never fill: acked, then canceled. */
	send(2, I1, FKS_SIDE_SELL, FKS_ORD_MARKET, FKS_TIF_IOC, 0, 4, 3000);
	expect_count(3);
	expect_ack(1, 2, I1, 3000, 2, 4);
	expect_cancel_ack(2, 2, I1, 3000, RECV(2), 4);
	cancel(1, I1, 4000);
	expect_count(4);
	expect_cancel_ack(3, 1, I1, 4000, CRECV(1), 3);
	cr_assert_eq(venue.c.fills, 0);
}

/*
 * Latency 5 us: an order with event time T may only see quotes at
 * T + 5000 ns or later, whatever they show before.
 */
Test(sim_venue, latency_gates_matching)
{
	setup_venue(SIM_FILL_TOUCH, 5);
	quote(I1, 99, 5, 100, 5, 10000);
	limit(1, I1, FKS_SIDE_BUY, 100, 2, 10000);
	expect_count(1);                         /* ack, no fill at T */
	quote(I1, 99, 5, 100, 5, 14999);
	expect_count(1);                         /* T + 4999 ns: still too early */
	quote(I1, 99, 5, 100, 5, 15000);
	expect_count(2);
	expect_fill(1, 1, I1, 15000, 100, 2, 0);

	/* An IOC waits for its first eligible quote, then matches or dies. */
	send(2, I1, FKS_SIDE_BUY, FKS_ORD_LIMIT, FKS_TIF_IOC, 100, 2, 20000);
	quote(I1, 99, 5, 100, 5, 20000);
	quote(I1, 99, 5, 100, 5, 24999);
	expect_count(3);
	expect_state(2, ORDER_ST_NEW, 2);
	quote(I1, 99, 5, 101, 5, 25000);         /* eligible, does not cross */
	expect_count(4);
	expect_cancel_ack(3, 2, I1, 25000, RECV(2), 2);
}

Test(sim_venue, cancels)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	quote(I1, 99, 5, 101, 5, 1000);
	limit(1, I1, FKS_SIDE_BUY, 100, 8, 1000);
	quote(I1, 99, 5, 100, 3, 2000);          /* fill 3, leaves 5 */
	expect_count(2);
	cancel(1, I1, 3000);
	expect_count(3);
	expect_cancel_ack(2, 1, I1, 3000, CRECV(1), 5);
	expect_state(1, ORDER_ST_CANCELED, 0);
	/* A canceled order neither fills nor cancels again. */
	quote(I1, 99, 5, 90, 50, 4000);
	expect_count(3);
	cancel(1, I1, 5000);
	expect_reject(3, 1, I1, 5000, CRECV(1), SIM_REJ_ORDER_DONE);
	/* Never seen: the cancel's own instrument. */
	cancel(77, I2, 6000);
	expect_reject(4, 77, I2, 6000, CRECV(77), SIM_REJ_UNKNOWN_ORDER);
	cancel(0, I2, 6000);
	expect_reject(5, 0, I2, 6000, CRECV(0), SIM_REJ_UNKNOWN_ORDER);
	expect_count(6);
	cr_assert_eq(venue.c.cancel_requests, 4);
	cr_assert_eq(venue.c.cancels, 1);
	cr_assert_eq(venue.c.rejects, 3);
}

Test(sim_venue, rejects_of_new_orders)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	limit(1, I1, FKS_SIDE_BUY, 100, 8, 1000);
	expect_count(1);
	/* Duplicate of an open order: rejected, the original untouched. */
	limit(1, I2, FKS_SIDE_SELL, 50, 1, 1100);
	expect_reject(1, 1, I2, 1100, RECV(1), SIM_REJ_DUPLICATE_ORDER_ID);
	expect_state(1, ORDER_ST_NEW, 8);
	/* Unknown instrument: rejected and remembered. */
	limit(2, 9, FKS_SIDE_BUY, 100, 1, 1200);
	expect_reject(2, 2, 9, 1200, RECV(2), SIM_REJ_UNKNOWN_INSTRUMENT);
	expect_state(2, ORDER_ST_REJECTED, 0);
	limit(2, I1, FKS_SIDE_BUY, 100, 1, 1300);
	expect_reject(3, 2, I1, 1300, RECV(2), SIM_REJ_DUPLICATE_ORDER_ID);
	cancel(2, I1, 1400);
	expect_reject(4, 2, 9, 1400, CRECV(2), SIM_REJ_ORDER_DONE);
	/* Bad fields. */
	limit(3, I1, FKS_SIDE_BUY, 100, 0, 1500);
	expect_reject(5, 3, I1, 1500, RECV(3), SIM_REJ_BAD_ORDER);
	limit(4, I1, FKS_SIDE_BUY, 0, 1, 1500);
	expect_reject(6, 4, I1, 1500, RECV(4), SIM_REJ_BAD_ORDER);
	limit(5, I1, FKS_SIDE_NONE, 100, 1, 1500);
	expect_reject(7, 5, I1, 1500, RECV(5), SIM_REJ_BAD_ORDER);
	send(6, I1, FKS_SIDE_BUY, 9, FKS_TIF_GTC, 100, 1, 1500);
	expect_reject(8, 6, I1, 1500, RECV(6), SIM_REJ_BAD_ORDER);
	send(7, I1, FKS_SIDE_BUY, FKS_ORD_LIMIT, 0, 100, 1, 1500);
	expect_reject(9, 7, I1, 1500, RECV(7), SIM_REJ_BAD_ORDER);
	limit(0, I1, FKS_SIDE_BUY, 100, 1, 1500);
	expect_reject(10, 0, I1, 1500, RECV(0), SIM_REJ_BAD_ORDER);
	/* A market order needs no price. */
	send(8, I1, FKS_SIDE_BUY, FKS_ORD_MARKET, FKS_TIF_IOC, 0, 1, 1500);
	expect_ack(11, 8, I1, 1500, 2, 1);
	/* Replace is not supported. */
	union fks_event r;
	memset(&r, 0, sizeof r);
	r.h.type = FKS_EV_ORDER_REPLACE;
	r.h.instrument = I1;
	r.h.event_time_ns = 1600;
	r.h.recv_time_ns = 1601;
	r.order_replace.order_id = 1;
	r.order_replace.new_order_id = 99;
	sim_venue_on_order(&venue, &r, capture_emit, &cap);
	/* Naming the refused replacement, not the live order 1. */
	expect_reject(12, 99, I1, 1600, 1601, SIM_REJ_UNSUPPORTED);
	expect_state(1, ORDER_ST_NEW, 8);
	expect_count(13);
	cr_assert_eq(venue.c.rejects, 11);
	cr_assert_eq(venue.c.acks, 2);
	cr_assert_eq(venue.c.orders, 11);
}

/*
 * Kill switch: every open order canceled, instrument by instrument in
 * params order, oldest first, at the latest event time seen.
 *   21 (I2, t 100), 11 (I1, t 200), 22 (I2, t 300), 12 (I1, t 400, 2 of 5
 *   filled at a quote at t 500), then a quote of I2 at t 900.
 *   -> 11 (5), 12 (3), 21 (4), 22 (6), all at t 900.
 */
Test(sim_venue, cancel_all)
{
	setup_venue(SIM_FILL_TOUCH, 0);
	limit(21, I2, FKS_SIDE_BUY, 10, 4, 100);
	limit(11, I1, FKS_SIDE_SELL, 200, 5, 200);
	limit(22, I2, FKS_SIDE_SELL, 30, 6, 300);
	limit(12, I1, FKS_SIDE_BUY, 150, 5, 400);
	quote(I1, 149, 1, 150, 2, 500);          /* 12 fills 2 at 150 */
	quote(I2, 11, 1, 29, 1, 900);            /* crosses nothing */
	expect_count(5);
	expect_fill(4, 12, I1, 500, 150, 2, 3);
	cap_reset();
	sim_venue_cancel_all(&venue, capture_emit, &cap);
	expect_count(4);
	expect_cancel_ack(0, 11, I1, 900, RECV(11), 5);
	expect_cancel_ack(1, 12, I1, 900, RECV(12), 3);
	expect_cancel_ack(2, 21, I2, 900, RECV(21), 4);
	expect_cancel_ack(3, 22, I2, 900, RECV(22), 6);
	cr_assert_eq(venue.c.open, 0);
	cr_assert_eq(venue.c.cancels, 4);
	expect_state(12, ORDER_ST_CANCELED, 0);
	cap_reset();
	sim_venue_cancel_all(&venue, capture_emit, &cap);
	expect_count(0);
}

/*
 * Done orders are remembered until their record is needed.  With every
 * order canceled at once, after MAX + 10 orders the 10 oldest are
 * forgotten (unknown), the 11th is still known (done).  And with every
 * record open, a new order is VENUE_FULL and not remembered.
 */
Test(sim_venue, record_recycling_and_full_venue)
{
	setup_venue(SIM_FILL_NONE, 0);
	for (uint64_t id = 1; id <= SIM_VENUE_MAX_ORDERS + 10; id++) {
		limit(id, I1, FKS_SIDE_BUY, 100, 1, (int64_t)id);
		cancel(id, I1, (int64_t)id);
		cap_reset();
	}
	cr_assert_eq(venue.c.recycled, 10);
	for (uint64_t id = 1; id <= 10; id++)
		cr_assert_eq(sim_venue_order_state(&venue, id, NULL), ORDER_ST_NONE);
	cr_assert_eq(sim_venue_order_state(&venue, 11, NULL), ORDER_ST_CANCELED);
	uint8_t side = 0xff;
	cr_assert(!sim_venue_order_side(&venue, 1, &side), "a forgotten order has no side");
	cr_assert_eq(side, FKS_SIDE_NONE);
	cr_assert(sim_venue_order_side(&venue, 11, &side));
	cr_assert_eq(side, FKS_SIDE_BUY);
	cancel(1, I1, 1);
	cr_assert_eq(cap.ev[0].order_reject.reason, SIM_REJ_UNKNOWN_ORDER);
	cancel(11, I1, 1);
	cr_assert_eq(cap.ev[1].order_reject.reason, SIM_REJ_ORDER_DONE);
	/* A forgotten id may be used again. */
	limit(1, I1, FKS_SIDE_BUY, 100, 1, 1);
	cr_assert_eq(cap.ev[2].h.type, FKS_EV_ORDER_ACK);

	setup_venue(SIM_FILL_NONE, 0);
	for (uint64_t id = 1; id <= SIM_VENUE_MAX_ORDERS; id++) {
		limit(id, id % 2 ? I1 : I2, FKS_SIDE_BUY, 100, 1, 1);
		cap_reset();
	}
	cr_assert_eq(venue.c.open, SIM_VENUE_MAX_ORDERS);
	limit(100000, I1, FKS_SIDE_BUY, 100, 1, 2);
	cr_assert_eq(cap.n, 1);
	cr_assert_eq(cap.ev[0].order_reject.reason, SIM_REJ_VENUE_FULL);
	cr_assert_eq(sim_venue_order_state(&venue, 100000, NULL), ORDER_ST_NONE);
	/* Still full, but the bad-order reason wins over VENUE_FULL. */
	limit(100001, 9, FKS_SIDE_BUY, 100, 1, 2);
	cr_assert_eq(cap.ev[1].order_reject.reason, SIM_REJ_UNKNOWN_INSTRUMENT);
	/* One canceled: its record takes the next order. */
	cancel(7, I1, 3);
	cr_assert_eq(cap.ev[2].h.type, FKS_EV_CANCEL_ACK);
	limit(100000, I1, FKS_SIDE_BUY, 100, 1, 4);
	cr_assert_eq(cap.ev[3].h.type, FKS_EV_ORDER_ACK);
	cr_assert_eq(sim_venue_order_state(&venue, 7, NULL), ORDER_ST_NONE);
	cr_assert_eq(venue.c.open, SIM_VENUE_MAX_ORDERS);
	cr_assert_eq(venue.c.cancels, 1);
}

/* ---- a long random run ---------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define RUN_ORDERS 60000
#define RUN_CAPTURE (2 * SIM_VENUE_MAX_ORDERS + 16) /* cancel_all of a full venue */

struct run_capture {
	int n;
	union fks_event ev[RUN_CAPTURE];
};

static struct run_capture run_a, run_b;
static int64_t ordered[RUN_ORDERS + 1], filled[RUN_ORDERS + 1], canceled[RUN_ORDERS + 1];

static void run_emit(void *ctx, const union fks_event *ev)
{
	struct run_capture *c = ctx;

	cr_assert_lt(c->n, RUN_CAPTURE);
	c->ev[c->n++] = *ev;
}

/*
 * Random quotes, orders of every type and tif, cancels of random ids (many
 * unknown or done), a cancel_all now and then, with latency.  Two venues
 * must say exactly the same bytes; the sequence must be dense; and every
 * order's quantity must be accounted for: filled + canceled + leaves = qty.
 */
Test(sim_venue, random_run_is_deterministic_and_conserves_quantity)
{
	struct sim_venue_params p = {
		.fill = SIM_FILL_TOUCH, .latency_us = 3, .n_instruments = 2, .instrument = { I1, I2 },
	};
	uint64_t rng = 12345, next_id = 1, seq = 0;
	int64_t t = 1000000, mid[2] = { 10000, 500 };
	uint64_t fills = 0;

	cr_assert_eq(sim_venue_init(&venue, &p), 0);
	cr_assert_eq(sim_venue_init(&venue2, &p), 0);
	for (int step = 0; next_id <= RUN_ORDERS; step++) {
		union fks_event in;
		uint64_t r = xorshift(&rng) % 100;
		int inst = (int)(xorshift(&rng) % 2);

		t += (int64_t)(xorshift(&rng) % 2000);
		run_a.n = run_b.n = 0;
		memset(&in, 0, sizeof in);
		if (r < 45) {
			mid[inst] += (int64_t)(xorshift(&rng) % 7) - 3;
			if (mid[inst] < 10)
				mid[inst] = 10;
			in.h.type = FKS_EV_QUOTE;
			in.h.instrument = (uint32_t)inst + 1;
			in.h.event_time_ns = t;
			in.quote.bid_px = mid[inst] - 1;
			in.quote.ask_px = mid[inst] + 1;
			in.quote.bid_qty = (int64_t)(xorshift(&rng) % 6);  /* 0: empty side */
			in.quote.ask_qty = (int64_t)(xorshift(&rng) % 6);
			sim_venue_on_market(&venue, &in, run_emit, &run_a);
			sim_venue_on_market(&venue2, &in, run_emit, &run_b);
		} else if (r < 90) {
			uint64_t id = next_id++;
			uint8_t type = xorshift(&rng) % 4 ? FKS_ORD_LIMIT : FKS_ORD_MARKET;
			uint8_t tif = (uint8_t)(1 + xorshift(&rng) % 4);
			int64_t qty = 1 + (int64_t)(xorshift(&rng) % 8);

			in = make_order(id, (uint32_t)inst + 1, xorshift(&rng) % 2 ? FKS_SIDE_BUY : FKS_SIDE_SELL,
					type, tif, mid[inst] + (int64_t)(xorshift(&rng) % 7) - 3, qty, t);
			ordered[id] = qty;
			sim_venue_on_order(&venue, &in, run_emit, &run_a);
			sim_venue_on_order(&venue2, &in, run_emit, &run_b);
		} else if (r < 99) {
			in.h.type = FKS_EV_ORDER_CANCEL;
			in.h.instrument = (uint32_t)inst + 1;
			in.h.event_time_ns = t;
			in.order_cancel.order_id = 1 + xorshift(&rng) % (next_id + 10);
			sim_venue_on_order(&venue, &in, run_emit, &run_a);
			sim_venue_on_order(&venue2, &in, run_emit, &run_b);
		} else {
			sim_venue_cancel_all(&venue, run_emit, &run_a);
			sim_venue_cancel_all(&venue2, run_emit, &run_b);
		}

		cr_assert_eq(run_a.n, run_b.n, "step %d", step);
		if (run_a.n && memcmp(run_a.ev, run_b.ev, (size_t)run_a.n * sizeof run_a.ev[0]) != 0)
			cr_assert_fail("step %d: the two venues disagree", step);
		for (int i = 0; i < run_a.n; i++) {
			const union fks_event *e = &run_a.ev[i];

			cr_assert_eq(e->h.seq, ++seq);
			cr_assert_eq(e->h.source, FKS_STAGE_GATEWAY);
			switch (e->h.type) {
			case FKS_EV_FILL:
				cr_assert_gt(e->fill.qty, 0);
				cr_assert_geq(e->fill.leaves_qty, 0);
				filled[e->fill.order_id] += e->fill.qty;
				fills++;
				break;
			case FKS_EV_CANCEL_ACK:
				cr_assert_gt(e->cancel_ack.canceled_qty, 0);
				canceled[e->cancel_ack.order_id] += e->cancel_ack.canceled_qty;
				break;
			case FKS_EV_ORDER_ACK:
			case FKS_EV_ORDER_REJECT:
				break;
			default:
				cr_assert_fail("unexpected event type %u", e->h.type);
			}
		}
	}

	cr_assert_gt(fills, 10000, "the run barely traded");
	for (uint64_t id = 1; id <= RUN_ORDERS; id++) {
		int64_t leaves = 0;
		enum order_state s = sim_venue_order_state(&venue, id, &leaves);

		if (s == ORDER_ST_NONE)
			continue;  /* forgotten: its record was recycled */
		if (s == ORDER_ST_REJECTED) {
			cr_assert_eq(filled[id] + canceled[id], 0);
			continue;
		}
		cr_assert_eq(filled[id] + canceled[id] + leaves, ordered[id],
			     "order %" PRIu64 " (%s): filled %" PRId64 " canceled %" PRId64 " leaves %" PRId64
			     " of %" PRId64, id, order_state_name(s), filled[id], canceled[id], leaves,
			     ordered[id]);
		if (s == ORDER_ST_FILLED)
			cr_assert_eq(filled[id], ordered[id]);
	}
}

/* ---- fill model SIM_FILL_QUEUE and slippage ------------------------------ */

static void setup_venue_ex(uint8_t fill, uint32_t latency_us, uint32_t slip_bps, uint32_t slip_ticks)
{
	struct sim_venue_params p = {
		.fill = fill,
		.latency_us = latency_us,
		.slippage_bps = slip_bps,
		.slippage_ticks = slip_ticks,
		.n_instruments = 2,
		.instrument = { I1, I2 },
	};

	cr_assert_eq(sim_venue_init(&venue, &p), 0);
	memset(&cap, 0, sizeof cap);
}

static void trade(uint32_t inst, int64_t px, int64_t qty, uint8_t aggressor, int64_t t)
{
	union fks_event e;

	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_TRADE;
	e.h.source = FKS_STAGE_FEED;
	e.h.instrument = inst;
	e.h.event_time_ns = t;
	e.trade.px = px;
	e.trade.qty = qty;
	e.trade.aggressor = aggressor;
	sim_venue_on_market(&venue, &e, capture_emit, &cap);
}

Test(sim_venue_queue, slippage_applies_to_market_orders_only)
{
	/* 10 bps of 10000 is 10, plus 2 ticks: buy at 10000 + 12, sell at
	 * 9990 - ceil(9990 * 10 / 10^4) - 2 = 9990 - 10 - 2 = 9978. */
	setup_venue_ex(SIM_FILL_TOUCH, 0, 10, 2);
	quote(I1, 9990, 50, 10000, 50, 1000);
	send(1, I1, FKS_SIDE_BUY, FKS_ORD_MARKET, FKS_TIF_IOC, 10000, 5, 1000);
	expect_ack(0, 1, I1, 1000, 1, 5);
	expect_fill(1, 1, I1, 1000, 10012, 5, 0);
	send(2, I1, FKS_SIDE_SELL, FKS_ORD_MARKET, FKS_TIF_IOC, 9990, 5, 1000);
	expect_fill(3, 2, I1, 1000, 9978, 5, 0);
	/* a marketable limit fills at the touch, unslipped */
	limit(3, I1, FKS_SIDE_BUY, 10005, 5, 1000);
	expect_fill(5, 3, I1, 1000, 10000, 5, 0);
	cr_assert_eq(cap.n, 6);
}

Test(sim_venue_queue, bad_slippage_refused)
{
	struct sim_venue_params p = { .fill = SIM_FILL_QUEUE, .slippage_bps = SIM_VENUE_MAX_SLIPPAGE_BPS + 1,
				      .n_instruments = 1, .instrument = { I1 } };

	cr_assert_eq(sim_venue_init(&venue, &p), -1);
	p.fill = 4;
	p.slippage_bps = 0;
	cr_assert_eq(sim_venue_init(&venue, &p), -1);
}

Test(sim_venue_queue, touch_model_ignores_trades)
{
	setup_venue_ex(SIM_FILL_TOUCH, 0, 0, 0);
	quote(I1, 9990, 50, 10000, 50, 1000);
	limit(1, I1, FKS_SIDE_BUY, 9990, 5, 1000);
	trade(I1, 9980, 100, FKS_SIDE_SELL, 2000);
	cr_assert_eq(cap.n, 1, "ack only");
	cr_assert_eq(venue.c.ignored, 1);
}

Test(sim_venue_queue, trade_through_fills_at_limit)
{
	setup_venue_ex(SIM_FILL_QUEUE, 0, 0, 0);
	quote(I1, 9990, 50, 10000, 50, 1000);
	limit(1, I1, FKS_SIDE_BUY, 9985, 8, 1000); /* behind the best: queue unknown */
	expect_ack(0, 1, I1, 1000, 1, 8);
	trade(I1, 9985, 100, FKS_SIDE_SELL, 1500);  /* at the limit, queue unknown: nothing */
	cr_assert_eq(cap.n, 1);
	trade(I1, 9984, 3, FKS_SIDE_SELL, 2000);    /* through: 3 at the limit */
	expect_fill(1, 1, I1, 2000, 9985, 3, 5);
	trade(I1, 9980, 10, FKS_SIDE_NONE, 3000);   /* through: the remaining 5 */
	expect_fill(2, 1, I1, 3000, 9985, 5, 0);
	cr_assert_eq(venue.c.trade_fills, 2);
}

Test(sim_venue_queue, queue_position_at_touch)
{
	setup_venue_ex(SIM_FILL_QUEUE, 0, 0, 0);
	quote(I1, 9990, 50, 10000, 40, 1000);
	limit(1, I1, FKS_SIDE_SELL, 10000, 10, 1000); /* joins the ask: 40 ahead */
	limit(2, I1, FKS_SIDE_BUY, 9995, 10, 1000);   /* improves the bid: 0 ahead */
	cap_reset();
	trade(I1, 10000, 30, FKS_SIDE_SELL, 2000);    /* seller-initiated: cannot hit a sell */
	cr_assert_eq(cap.n, 0);
	trade(I1, 10000, 30, FKS_SIDE_BUY, 2100);     /* 40 -> 10 ahead */
	cr_assert_eq(cap.n, 0);
	trade(I1, 10000, 14, FKS_SIDE_BUY, 2200);     /* 10 ahead eaten, 4 fill */
	expect_fill(0, 1, I1, 2200, 10000, 4, 6);
	trade(I1, 9995, 4, FKS_SIDE_SELL, 2300);      /* order 2: nothing ahead, 4 fill */
	expect_fill(1, 2, I1, 2300, 9995, 4, 6);
	/* one trade's quantity is handed out once: 20 through both... only
	 * order 1 (sell 10000) sees 10001 as through; order 2 does not. */
	trade(I1, 10001, 20, FKS_SIDE_BUY, 2400);
	expect_fill(2, 1, I1, 2400, 10000, 6, 0);
	cr_assert_eq(cap.n, 3);
}

Test(sim_venue_queue, unknown_queue_learned_when_best_reaches_price)
{
	setup_venue_ex(SIM_FILL_QUEUE, 0, 0, 0);
	quote(I1, 9990, 50, 10000, 40, 1000);
	limit(1, I1, FKS_SIDE_BUY, 9980, 5, 1000);   /* behind: unknown */
	cap_reset();
	quote(I1, 9980, 7, 9990, 40, 1500);          /* best is now 9980 with 7 shown */
	trade(I1, 9980, 7, FKS_SIDE_SELL, 1600);     /* eats the 7 ahead */
	cr_assert_eq(cap.n, 0);
	trade(I1, 9980, 2, FKS_SIDE_SELL, 1700);
	expect_fill(0, 1, I1, 1700, 9980, 2, 3);
}

Test(sim_venue_queue, latency_delays_trade_fills)
{
	setup_venue_ex(SIM_FILL_QUEUE, 10, 0, 0);      /* eligible at 1000 + 10000 */
	quote(I1, 9990, 50, 10000, 40, 1000);
	limit(1, I1, FKS_SIDE_BUY, 9995, 5, 1000);
	cap_reset();
	trade(I1, 9990, 5, FKS_SIDE_SELL, 5000);       /* through, but too early */
	cr_assert_eq(cap.n, 0);
	trade(I1, 9990, 5, FKS_SIDE_SELL, 11000);
	expect_fill(0, 1, I1, 11000, 9995, 5, 0);
}
