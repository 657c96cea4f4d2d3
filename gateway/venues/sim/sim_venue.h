/*
 * A simulated venue: order state machine and top-of-book matching.
 *
 * A pure function of its input sequence (orders, cancels, quotes, in the
 * order they are fed): no clock, no allocation after sim_venue_init, no
 * hash-table walks that reach the output.  Everything it says goes through
 * the emit callback passed to each call, synchronously, as 64-byte events
 * in a zeroed union fks_event.
 *
 * Order states are those of the one order model (gateway/order.h), and
 * every change goes through order_apply(): a new order is SUBMITted
 * (PENDING_NEW) while it is checked, then ACKed (NEW) or REJECTed; fills
 * make it PARTIALLY_FILLED or FILLED; a cancel (requested, IOC remainder or
 * kill switch) makes it CANCELED.  The sim never uses the pending-cancel,
 * pending-replace, replaced or expired states: it answers at once.  A
 * transition the model refuses (none should happen) is counted in
 * sim_venue.order_errors and changes nothing.
 *
 * New orders (FKS_EV_ORDER_NEW).  Checked in this order; the first failure
 * is an FKS_EV_ORDER_REJECT with the reason (enum sim_reject_reason):
 *     order_id 0                                         BAD_ORDER
 *     order_id already known (open, or done and still
 *       remembered, see below)                           DUPLICATE_ORDER_ID
 *     instrument not in params                           UNKNOWN_INSTRUMENT
 *     side, ord_type or tif out of range, qty <= 0, or
 *       a limit order with px <= 0                       BAD_ORDER
 *     SIM_VENUE_MAX_ORDERS orders open at once           VENUE_FULL
 * Otherwise an FKS_EV_ORDER_ACK (venue_order_id: 1, 2, ... in arrival
 * order; leaves_qty: qty), then matching.
 *
 * Matching, fill model SIM_FILL_TOUCH.  An order may match only quotes of
 * its instrument whose event time is >= its own h.event_time_ns +
 * latency_us * 1000; until then it waits, whatever its type.  The current
 * quote counts at arrival, so with latency 0 an order caused by a quote
 * matches that quote.  A buy matches when the ask is <= its limit (a market
 * order always), at the ask (price improvement), for the smaller of its
 * leaves and the ask size still displayed; sells mirror this on the bid.
 * Size taken by a fill is gone until the next quote of the instrument, which
 * restores the displayed sizes and re-checks every resting order in arrival
 * order.  A quote side with px <= 0 or qty <= 0 is empty.
 *     tif GTC, DAY   the remainder rests (DAY is GTC: there is no session)
 *     tif IOC        at its first eligible quote it takes what it can and
 *                    the remainder is canceled (FKS_EV_CANCEL_ACK)
 *     tif FOK        at its first eligible quote it fills completely, or is
 *                    canceled completely
 *     market orders  behave as IOC whatever their tif; px is ignored
 * Fill model SIM_FILL_NONE: acks only, nothing ever fills; IOC, FOK and
 * market orders are canceled right after their ack, since they could never
 * fill, and the others rest until canceled.
 *
 * Fill model SIM_FILL_QUEUE: everything SIM_FILL_TOUCH does, and resting
 * limit orders also fill passively from FKS_EV_TRADE events of their
 * instrument (event time >= eligible, as for quotes):
 *     trade-through  a trade strictly through the limit (below a buy's, above
 *                    a sell's) fills at the limit price, for the smaller of
 *                    the leaves and what is left of the trade's quantity
 *     on touch       a trade at the limit price first eats the order's queue
 *                    position; only what exceeds it fills (at the limit,
 *                    within what is left of the trade).  A trade whose
 *                    aggressor is the order's own side cannot hit it and is
 *                    skipped; aggressor NONE counts.
 * Queue position ("queue ahead") is estimated once, at the first quote or
 * trade the order may see: the displayed size of the last quote at its
 * price if its price is the same-side best, 0 if it improves on the best
 * (or there is no best), unknown if it is behind the best.  An unknown
 * queue becomes known, with that quote's displayed size, at the first quote
 * whose same-side best is its price; until then only trade-through fills
 * it.  Resting orders are matched against trades oldest first; each trade
 * reduces every order's queue by its full quantity (the volume ahead of
 * each was consumed) but its quantity is handed out to fills only once.
 *
 * Slippage (every fill model): a market order fills at the touch plus
 * slippage for a buy, minus it for a sell, where slippage = slippage_ticks
 * (integer units of the price scale) + ceil(touch * slippage_bps / 10^4).
 * Limit orders never slip.  Both 0 (the default) is the behaviour above.
 * A sell's slipped price is floored at 1.
 *
 * Cancels (FKS_EV_ORDER_CANCEL) act at once, without latency: an open order
 * gets an FKS_EV_CANCEL_ACK for its leaves; an id never seen (or forgotten)
 * an ORDER_REJECT with UNKNOWN_ORDER; a done order (filled, canceled,
 * rejected) one with ORDER_DONE.  FKS_EV_ORDER_REPLACE is not supported:
 * ORDER_REJECT with UNSUPPORTED for its new_order_id.
 *
 * So an ORDER_REJECT never names an order that is open here: consumers
 * (risk, strategy) may end the order it names without asking whether it
 * answered a new order or a cancel, which the event does not say.
 *
 * Done orders are remembered, so that duplicate ids and late cancels get the
 * right reason, until their record is needed: SIM_VENUE_MAX_ORDERS records
 * hold open and done orders, and the oldest done one is recycled first.
 *
 * Output headers: h.source FKS_STAGE_GATEWAY, h.seq 1, 2, ... per venue,
 * h.flags 0, h.instrument the order's.  h.event_time_ns and h.recv_time_ns
 * come from the cause: a new order's ack, fills at arrival and rejects
 * carry the order's times; a cancel's ack or reject the cancel's times;
 * fills and IOC cancels triggered by a quote carry that quote's event time
 * and the order's recv time; sim_venue_cancel_all() the latest event time
 * the venue has seen and each order's recv time.
 */
#ifndef FKS_GATEWAY_SIM_VENUE_H
#define FKS_GATEWAY_SIM_VENUE_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/order.h"
#include "shm/index.h"
#include "shm/event.h"

#define SIM_VENUE_MAX_INSTRUMENTS 64
#define SIM_VENUE_MAX_ORDERS 4096                /* order records: open + remembered */
#define SIM_VENUE_ID_SLOTS (2 * SIM_VENUE_MAX_ORDERS) /* id index, at most half full */
#define SIM_VENUE_MAX_LATENCY_US 10000000u
#define SIM_VENUE_MAX_SLIPPAGE_BPS 10000u

/* The sim venue's `fill` parameter (sim_ops.h): touch, none, queue. */
enum sim_fill_model {
	SIM_FILL_TOUCH = 1,
	SIM_FILL_NONE = 2,
	SIM_FILL_QUEUE = 3,        /* touch + trade-through + queue position */
};

/* order_reject.reason from this venue.  Stable numbers: they are journaled. */
enum sim_reject_reason {
	SIM_REJ_UNKNOWN_INSTRUMENT = 1,
	SIM_REJ_DUPLICATE_ORDER_ID = 2,
	SIM_REJ_BAD_ORDER = 3,
	SIM_REJ_VENUE_FULL = 4,
	SIM_REJ_UNKNOWN_ORDER = 5,  /* cancel: no such order */
	SIM_REJ_ORDER_DONE = 6,     /* cancel: already filled, canceled or rejected */
	SIM_REJ_UNSUPPORTED = 7,    /* a request this venue does not handle (replace) */
};

struct sim_venue_params {
	uint8_t fill;              /* enum sim_fill_model */
	uint32_t latency_us;       /* 0..SIM_VENUE_MAX_LATENCY_US */
	uint32_t slippage_bps;     /* market orders: 0..SIM_VENUE_MAX_SLIPPAGE_BPS */
	uint32_t slippage_ticks;   /* market orders: price units added; 0: none */
	uint32_t n_instruments;    /* 1..SIM_VENUE_MAX_INSTRUMENTS */
	uint32_t instrument[SIM_VENUE_MAX_INSTRUMENTS]; /* ids traded here; not 0, unique */
};

/* Called synchronously for each event the venue emits.  It may read the
 * venue (sim_venue_order_side, _order_state) but must not feed it. */
typedef void (*sim_emit_fn)(void *ctx, const union fks_event *ev);

/* Private to sim_venue.c. */
struct sim_order {
	struct order ord;          /* id, instrument, side, type, tif, state, px, qty, leaves */
	uint64_t venue_order_id;
	uint16_t book;             /* index into sim_venue.book */
	int64_t eligible_ns;       /* may match quotes at or after this event time */
	int64_t queue_ahead;       /* SIM_FILL_QUEUE: volume ahead at its price */
	uint8_t queue_state;       /* 0 not yet estimated, 1 unknown, 2 known */
	int64_t event_time_ns, recv_time_ns;
	uint32_t prev, next;       /* its book's open list, or the done/free lists */
};

struct sim_book {
	uint32_t id;
	bool have_quote;
	int64_t bid_px, ask_px;
	int64_t bid_qty, ask_qty;  /* displayed sizes of the last quote */
	int64_t bid_avail, ask_avail; /* displayed size not yet taken at this quote */
	int64_t quote_time_ns;
	uint32_t head, tail;       /* open orders, oldest first */
};

struct sim_venue_counters {
	uint64_t orders;           /* new orders received */
	uint64_t cancel_requests;
	uint64_t acks, fills, rejects, cancels; /* events emitted, by type */
	uint64_t trade_fills;      /* fills caused by trades (SIM_FILL_QUEUE) */
	uint64_t open;             /* orders open now */
	uint64_t recycled;         /* done records reused (their ids forgotten) */
	uint64_t ignored;          /* inputs of no concern: unknown types, quotes
	                              of instruments not traded here */
};

/* Plain data, about 500 KiB: keep it off the stack.  ids points into
 * id_slot, so a venue must not be copied after sim_venue_init. */
struct sim_venue {
	uint8_t fill;
	int64_t latency_ns;
	int64_t slippage_bps, slippage_ticks;
	uint32_t n_books;
	struct sim_book book[SIM_VENUE_MAX_INSTRUMENTS];
	uint32_t free_head;        /* unused records, singly linked by next */
	uint32_t done_head, done_tail; /* done records, oldest first */
	uint64_t seq, arrivals;
	int64_t clock_ns;          /* latest event time of any input */
	struct sim_order rec[SIM_VENUE_MAX_ORDERS];
	struct index ids;          /* order_id -> record, over id_slot */
	struct index_slot id_slot[SIM_VENUE_ID_SLOTS];
	struct sim_venue_counters c;
	struct order_errors order_errors; /* transitions the order model refused */
};

/* Set up v from p.  Returns 0, or -1 when p is out of range (then v is
 * unusable). */
int sim_venue_init(struct sim_venue *v, const struct sim_venue_params *p);

/* An order-path event: FKS_EV_ORDER_NEW, FKS_EV_ORDER_CANCEL or
 * FKS_EV_ORDER_REPLACE (rejected).  Other types are counted as ignored. */
void sim_venue_on_order(struct sim_venue *v, const union fks_event *ev, sim_emit_fn emit,
			void *ctx);

/* A market-data event: quotes of traded instruments update the book and
 * match resting orders; with SIM_FILL_QUEUE trades of traded instruments
 * fill resting limit orders (see above); anything else is ignored. */
void sim_venue_on_market(struct sim_venue *v, const union fks_event *ev, sim_emit_fn emit,
			 void *ctx);

/* The kill switch: cancel every open order, instrument by instrument in
 * params order, oldest first within one. */
void sim_venue_cancel_all(struct sim_venue *v, sim_emit_fn emit, void *ctx);

/* The state of an order, ORDER_ST_NONE if it is not (or no longer)
 * remembered; *leaves (if not NULL) gets its open quantity. */
enum order_state sim_venue_order_state(const struct sim_venue *v, uint64_t order_id,
				       int64_t *leaves);

/* The side (enum fks_side) of an order, which fills do not carry: true and
 * *side set, or false and *side = FKS_SIDE_NONE if the order is not (or no
 * longer) remembered.  Always true for the order of a fill or cancel_ack
 * being emitted, from inside the emit callback: records are recycled only
 * when a new order arrives. */
bool sim_venue_order_side(const struct sim_venue *v, uint64_t order_id, uint8_t *side);

const char *sim_reject_reason_name(unsigned reason);

#endif
