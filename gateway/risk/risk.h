/*
 * Pre-trade risk: per-instrument limits checked on every new order.
 *
 * A pure state machine.  It reads no clock (the caller passes now_ns: the
 * live stage its clock, replay the time it replays), allocates nothing after
 * risk_init, and its outputs depend only on the sequence of calls, never on
 * hash-table order.
 *
 * risk_check_order() applies these checks in this order and reports the
 * first that fails (limit and value say what broke, in the units given):
 *
 *  1. FKS_RISK_KILL_SWITCH  the kill switch is on.           limit 0, value 1
 *  2. FKS_RISK_BAD_ORDER    the order cannot be checked or tracked:
 *                           h.type is not ORDER_NEW, order_id is 0 or
 *                           already open here, the instrument is unknown,
 *                           side, ord_type or tif is out of range, qty <= 0,
 *                           or px <= 0.  A market order must carry a
 *                           reference price too: without it the notional
 *                           check would be meaningless.  limit 0, value 0.
 *  3. FKS_RISK_STALE_DATA   the feed is flagged stale:       limit 0, value 1;
 *                           or now_ns - h.recv_time_ns > stale_data_ns:
 *                           limit stale_data_ns, value the age in ns.
 *                           An age <= 0 (a receive time in the future) is
 *                           fresh.
 *  4. FKS_RISK_MAX_QTY      qty > max_order_qty.             limit, value: qty
 *  5. FKS_RISK_MAX_NOTIONAL px * qty > max_notional * 10^qty_scale, exactly,
 *                           in 128-bit integers.  limit max_notional, value
 *                           ceil(px * qty / 10^qty_scale) (at px_scale;
 *                           rounded up so that a breach never prints as equal
 *                           to the limit; saturated at INT64_MAX).
 *  6. FKS_RISK_MAX_POSITION the worst case after this order, where every open
 *                           order on the same side fills and none on the
 *                           other side does, exceeds max_position:
 *                             buy:  |position + open_buy + qty|
 *                             sell: |position - open_sell - qty|
 *                           limit max_position, value that worst case
 *                           (saturated at INT64_MAX).
 *  7. FKS_RISK_THROTTLE     RISK_MAX_OPEN_ORDERS orders are already open, so
 *                           the order could not be tracked.  limit
 *                           RISK_MAX_OPEN_ORDERS, value the open count.
 *
 * At a limit passes; one unit over fails.  An order that passes is open from
 * then on: its quantity counts in open_buy or open_sell until fills, an
 * order_reject or a cancel_ack take it out (risk_on_exec).
 */
#ifndef FKS_GATEWAY_RISK_H
#define FKS_GATEWAY_RISK_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/event.h"

#define RISK_MAX_INSTRUMENTS 64
#define RISK_MAX_OPEN_ORDERS 4096
#define RISK_ORDER_SLOTS (2 * RISK_MAX_OPEN_ORDERS) /* table at most half full */
#define RISK_MAX_QTY_SCALE 18

/* The limits of one instrument, resolved at its scales (as in
 * struct fks_instrument_cfg). */
struct risk_limits {
	uint32_t id;               /* symbol-table id; not 0, unique */
	uint8_t qty_scale;         /* 0..RISK_MAX_QTY_SCALE */
	int64_t max_order_qty;     /* qty_scale, > 0 */
	int64_t max_notional;      /* px_scale, > 0 */
	int64_t max_position;      /* qty_scale, >= 0 */
};

struct risk_params {
	uint32_t n_instruments;    /* 1..RISK_MAX_INSTRUMENTS */
	struct risk_limits instrument[RISK_MAX_INSTRUMENTS];
	int64_t stale_data_ns;     /* > 0 */
	bool kill_switch;          /* start with the kill switch on */
};

/* Private to risk.c. */
struct risk_instrument {
	struct risk_limits lim;
	int64_t qty_unit;          /* 10^qty_scale */
	int64_t position;          /* signed, sum of fills */
	int64_t open_buy, open_sell; /* open quantity of orders that passed */
};

struct risk_order {
	uint64_t order_id;         /* 0: empty slot */
	int64_t open_qty;
	uint16_t inst;             /* index into risk.inst */
	uint8_t side;
	uint8_t pad[5];
};

struct risk_counters {
	uint64_t checked;
	uint64_t passed;
	uint64_t rejected[FKS_RISK_BAD_ORDER + 1]; /* by enum fks_risk_reason */
	uint64_t fills;
	uint64_t released;         /* orders ended by order_reject or cancel_ack */
	uint64_t unknown_exec;     /* exec reports for orders not open here */
	uint64_t overfills;        /* fills larger than the order's open qty */
};

/* Plain data, about 200 KiB: keep it off the stack. */
struct risk {
	uint32_t n_instruments;
	struct risk_instrument inst[RISK_MAX_INSTRUMENTS];
	int64_t stale_data_ns;
	bool kill, feed_stale;
	uint32_t n_open;
	struct risk_order table[RISK_ORDER_SLOTS]; /* open addressing, linear probing */
	struct risk_counters c;
};

/* Set up r from p (copied).  Returns 0, or -1 when p is out of range (see
 * the field comments), leaving r unusable. */
int risk_init(struct risk *r, const struct risk_params *p);

/*
 * Check a new order at time now_ns (ns, the same clock as h.recv_time_ns).
 * Returns FKS_RISK_OK and tracks the order as open, or the first failing
 * reason (see the top of this file) and stores the breached limit in *limit
 * and the offending value in *value; both are written in every case (0 on
 * OK).  Counts every call in r->c.
 */
enum fks_risk_reason risk_check_order(struct risk *r, const struct fks_ev_order_new *o,
				      int64_t now_ns, int64_t *limit, int64_t *value);

/*
 * Apply one execution report.  FKS_EV_FILL moves the position by the fill's
 * quantity, on the side of the order it belongs to (fills carry no side),
 * and reduces the order's open quantity; a fill with leaves_qty 0 ends the
 * order and releases anything still counted.  FKS_EV_ORDER_REJECT and
 * FKS_EV_CANCEL_ACK end the order and release its open quantity.
 * FKS_EV_ORDER_ACK and every other type change nothing.  Reports for orders
 * that are not open here are counted in unknown_exec and change nothing: a
 * fill without its order has no side to apply.
 */
void risk_on_exec(struct risk *r, const union fks_event *ev);

void risk_set_kill(struct risk *r, bool on);
/* The feed stage's judgement (a gap, a dead feed): blocks new orders as
 * STALE_DATA while set, whatever the receive times say. */
void risk_set_feed_stale(struct risk *r, bool stale);

/*
 * Build the risk reject for an order that failed: h is copied from the order
 * (instrument, flags, event_time_ns, recv_time_ns) except h.type
 * (FKS_EV_RISK_REJECT), h.source (FKS_STAGE_RISK) and h.seq (the caller's
 * per-source counter, passed in: the risk stage numbers everything it
 * emits).  *out is zeroed first.
 */
void risk_build_reject(const struct fks_ev_order_new *o, enum fks_risk_reason reason,
		       int64_t limit, int64_t value, uint64_t seq,
		       struct fks_ev_risk_reject *out);

/* Signed position and open quantities of an instrument, at its qty_scale;
 * false when the id is unknown. */
bool risk_exposure(const struct risk *r, uint32_t instrument, int64_t *position,
		   int64_t *open_buy, int64_t *open_sell);

/* Rejects so far for one reason (0 for an out-of-range reason). */
uint64_t risk_reject_count(const struct risk *r, enum fks_risk_reason reason);

#endif
