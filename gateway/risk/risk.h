/*
 * Pre-trade risk: the rule runner.  It keeps what every rule may look at
 * (positions, open orders, marks, the kill switch and the feed's state) and
 * applies a chain of rules (gateway/risk/rule.h) to every new order.
 *
 * A pure state machine.  It reads no clock (the caller passes now_ns: the
 * live stage its clock, replay the time it replays), allocates nothing (the
 * rules' state lives in struct risk), and its outputs depend only on the
 * sequence of calls, never on hash-table order.
 *
 * risk_check_order() applies the chain in order and reports the first rule
 * that fails (limit and value say what broke, in the units that
 * shm/reasons.h gives the reason).  The chain is
 *
 *   kill_switch, bad_order, feed_dead     pinned: always, first
 *   the configured rules, in config order (risk.rules)
 *   throttle                              pinned: always, last
 *
 * and the default (and the legacy shorthand's) configured rules are
 * stale_data, max_order_qty, max_notional, max_position.  So the checks and
 * their order are:
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
 *                           (stale_data) or now_ns - h.recv_time_ns >
 *                           max_age: limit max_age in ns, value the age in
 *                           ns.  An age <= 0 (a receive time in the future)
 *                           is fresh.
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

#include "gateway/order.h"
#include "gateway/risk/rule.h"
#include "shm/index.h"
#include "shm/event.h"
#include "shm/reasons.h"

#define RISK_MAX_OPEN_ORDERS 4096
#define RISK_ORDER_SLOTS (2 * RISK_MAX_OPEN_ORDERS) /* table at most half full */
#define RISK_MAX_RULES 16        /* in the chain, pinned ones included */
#define RISK_RULE_ARENA 8192     /* bytes of rule state, all rules together */
#define RISK_MAX_RULE_PARAMS 8

/* The limits of one instrument, resolved at its scales, for risk_init. */
struct risk_limits {
	uint32_t id;               /* symbol-table id; not 0, unique */
	uint8_t qty_scale;         /* 0..RISK_MAX_QTY_SCALE */
	int64_t max_order_qty;     /* qty_scale, > 0 */
	int64_t max_notional;      /* px_scale, > 0 */
	int64_t max_position;      /* qty_scale, >= 0 */
};

/* The default chain with its limits already resolved (risk_init). */
struct risk_params {
	uint32_t n_instruments;    /* 1..RISK_MAX_INSTRUMENTS */
	struct risk_limits instrument[RISK_MAX_INSTRUMENTS];
	int64_t stale_data_ns;     /* > 0 */
	bool kill_switch;          /* start with the kill switch on */
};

/* One configured rule: a registry name and its parameters as text. */
struct risk_rule_spec {
	const char *name;
	uint32_t n_params;         /* 0..RISK_MAX_RULE_PARAMS */
	struct fks_param param[RISK_MAX_RULE_PARAMS];
};

/* A chain from the config (risk_init_rules). */
struct risk_setup {
	uint32_t n_instruments;    /* 1..RISK_MAX_INSTRUMENTS */
	struct risk_instrument_def instrument[RISK_MAX_INSTRUMENTS];
	uint32_t n_rules;          /* 0..RISK_MAX_RULES - 4 (the pinned ones) */
	struct risk_rule_spec rule[RISK_MAX_RULES];
	int64_t equity;            /* account equity; 0: not given */
	uint8_t equity_scale;
	bool kill_switch;          /* start with the kill switch on */
};

/* Private to risk.c: an open order, in the one order model
 * (gateway/order.h), and its instrument's index into risk.def. */
struct risk_order {
	struct order ord;
	uint16_t inst;
};

struct risk_counters {
	uint64_t checked;
	uint64_t passed;
	uint64_t rejected[FKS_RISK_REASON_COUNT]; /* by enum fks_risk_reason */
	uint64_t fills;
	uint64_t released;         /* orders ended by order_reject or cancel_ack */
	uint64_t unknown_exec;     /* exec reports for orders not open here */
	uint64_t overfills;        /* fills larger than the order's open qty */
	uint64_t bad_fills;        /* fills the position module refused (px < 0,
				    * qty <= 0, a position beyond int64): the
				    * position is unchanged, the order still
				    * follows the fill */
};

struct risk_chain_link {
	const struct risk_rule_vtbl *vt;
	uint32_t state_off;        /* into risk.arena: an offset, so struct risk stays plain data */
};

/* Plain data, about 400 KiB: keep it off the stack.  open points into
 * open_slot, so a risk must not be copied after init. */
struct risk {
	uint32_t n_instruments;
	struct risk_instrument_def def[RISK_MAX_INSTRUMENTS];
	struct risk_book book[RISK_MAX_INSTRUMENTS];
	int64_t equity;
	bool kill, feed_stale;
	uint32_t n_open;
	uint32_t n_chain;
	struct risk_chain_link chain[RISK_MAX_RULES];
	/* The links whose rule follows market data: risk_on_market runs for
	 * every market event, and most chains have none, so it walks only these. */
	uint32_t n_market_rules;
	uint8_t market_rule[RISK_MAX_RULES];
	uint32_t arena_used;
	_Alignas(16) unsigned char arena[RISK_RULE_ARENA];
	struct risk_order order[RISK_MAX_OPEN_ORDERS]; /* records of open orders */
	uint32_t free_rec[RISK_MAX_OPEN_ORDERS];  /* unused records: a stack */
	uint32_t n_free;
	struct index open;         /* order_id -> record, over open_slot */
	struct index_slot open_slot[RISK_ORDER_SLOTS];
	struct risk_counters c;
	struct order_errors order_errors; /* inputs the order model refused */
};

/*
 * Set up r from a config's chain: the pinned rules around s->rule[], each
 * found in the registry and initialised from its parameters.  Returns 0, or
 * -1 with *err naming the rule (err->rule, its index in s->rule; n_rules
 * when the setup itself is out of range) and the parameter at fault,
 * leaving r unusable.
 */
int risk_init_rules(struct risk *r, const struct risk_setup *s, struct risk_error *err);

/* Set up r with the default chain (stale_data, max_order_qty, max_notional,
 * max_position) at the limits of p, already resolved per instrument.
 * Returns 0, or -1 when p is out of range (see the field comments), leaving
 * r unusable. */
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
 * Apply one execution report.  FKS_EV_FILL moves the position
 * (gateway/position.h, without fees) by the fill's quantity at its price, on
 * the side of the order it belongs to (fills carry no side), or counts it in
 * bad_fills when the position refuses it, and either way reduces the order's
 * open quantity; a fill with leaves_qty 0 ends the
 * order and releases anything still counted.  FKS_EV_ORDER_REJECT and
 * FKS_EV_CANCEL_ACK end the order and release its open quantity.
 * FKS_EV_ORDER_ACK and every other type change nothing.  Reports for orders
 * that are not open here are counted in unknown_exec and change nothing: a
 * fill without its order has no side to apply.
 */
void risk_on_exec(struct risk *r, const union fks_event *ev);

/* A market event (quote or trade): the instrument's mark (the trade's price,
 * or the mid of a two-sided quote) and every rule that follows market data.
 * Other types and unknown instruments change nothing. */
void risk_on_market(struct risk *r, const union fks_event *md);

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
