/*
 * Moving-average crossover on one instrument, producing order intents.
 *
 * A pure function of the events it is fed: no clock, no I/O, no allocation,
 * no floating point.  Feed it market data with ma_cross_on_market() and the
 * execution reports of its own orders with ma_cross_on_exec(), in the order
 * they arrived; the same sequence always gives the same orders, byte for byte.
 *
 * Averages.  Each valid quote of the instrument contributes one sample, its
 * mid (bid + ask) / 2.  The mid is kept doubled, as bid + ask, so there is no
 * rounding at all: both averages scale by the same 2, and the crossover test
 * compares them exactly as rationals, fast_sum * slow against slow_sum * fast
 * in 128-bit integers.  Trades do NOT feed the averages: a quote sample is
 * the mid of the book, while a trade is one print at one touch and would make
 * the average bounce between bid and ask.  Trades, other instruments' events
 * and quotes with a non-positive or crossed price (bid > ask) are ignored
 * (the latter are counted in bad_quotes).  Locked quotes (bid == ask) count.
 *
 * Signal.  The slow average exists from the `slow`-th sample; a crossover
 * needs two consecutive comparisons, so the first order can come with sample
 * slow + 1 at the earliest.  With d = fast_avg - slow_avg:
 *     d goes from <= 0 to > 0:  target position +qty  (buy)
 *     d goes from >= 0 to < 0:  target position -qty  (sell)
 * and the order quantity is target - (position + pending), where position
 * is the sum of this strategy's fills and pending the signed open quantity
 * of its orders that are not done yet.  Nothing is sent when that is 0, so
 * an unanswered order is never duplicated.
 *
 * Orders.  One FKS_EV_ORDER_NEW per signal, at most:
 *     side       BUY or SELL by the sign of the quantity
 *     px         the touch that fills at once: the ask for a buy, the bid for
 *                a sell (a marketable limit).  Market orders carry the same
 *                price as a reference for the risk notional check.
 *     tif        GTC for limit orders (an unfilled remainder rests at its
 *                price and keeps counting as pending), IOC for market orders
 *     order_id   params.order_id_base + 1, + 2, ...
 *     signal_id  1, 2, ... per instance: one signal per order sent
 *     h.seq      1, 2, ... per instance (see the note below)
 *     h.instrument, h.event_time_ns, h.recv_time_ns: copied from the quote
 *                that caused it, so the gateway can measure tick-to-trade
 *     h.flags, take_profit_px, stop_loss_px: 0
 *
 * Note for the stage: h.seq counts this instance's orders.  If several
 * instances share one output ring, the stage must restamp h.seq so that the
 * strategy stage's sequence stays dense.
 */
#ifndef FKS_STRATEGIES_MA_CROSS_H
#define FKS_STRATEGIES_MA_CROSS_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/event.h"

#define MA_CROSS_MAX_WINDOW 4096   /* largest `slow` */
#define MA_CROSS_MAX_OPEN 64       /* orders not yet done, per instance */

struct ma_cross_params {
	uint32_t instrument;       /* symbol-table id traded; not 0 */
	uint32_t fast, slow;       /* windows, in samples: 1 <= fast < slow <= MAX_WINDOW */
	int64_t qty;               /* target position size, at qty_scale; > 0 */
	uint8_t order_type;        /* FKS_ORD_LIMIT or FKS_ORD_MARKET */
	uint16_t strategy_id;      /* written to order_new.strategy */
	uint64_t order_id_base;    /* order ids are base + 1, base + 2, ... */
};

/* ma_cross_init() errors. */
enum ma_cross_status {
	MA_CROSS_OK = 0,
	MA_CROSS_E_WINDOW = -1,      /* not 1 <= fast < slow <= MA_CROSS_MAX_WINDOW */
	MA_CROSS_E_QTY = -2,         /* qty <= 0 */
	MA_CROSS_E_ORDER_TYPE = -3,  /* neither limit nor market */
	MA_CROSS_E_INSTRUMENT = -4,  /* instrument id 0 */
};

/* An order of ours that is not done: private to ma_cross.c. */
struct ma_cross_order {
	uint64_t order_id;         /* 0: free slot */
	int64_t leaves;            /* open quantity, > 0 */
	int8_t sign;               /* +1 buy, -1 sell */
};

struct ma_cross_counters {
	uint64_t samples;          /* quotes that fed the averages */
	uint64_t bad_quotes;       /* quotes of our instrument that were ignored */
	uint64_t crossovers;       /* signals, whether or not they sent an order */
	uint64_t orders;           /* orders sent */
	uint64_t orders_suppressed;/* signals that wanted an order and could not
	                              send it: all MA_CROSS_MAX_OPEN slots in use,
	                              or a quantity outside int64 */
	uint64_t fills;
	uint64_t unknown_exec;     /* exec reports for order ids we do not hold */
	uint64_t overfills;        /* fills larger than the order's open quantity */
};

/* The state of one instance.  Plain data, about 34 KiB: keep it off small
 * stacks. */
struct ma_cross {
	struct ma_cross_params p;
	uint64_t window[MA_CROSS_MAX_WINDOW]; /* bid + ask of the last `slow` samples */
	uint32_t pos;                          /* slot of the next sample: n % slow */
	uint64_t n;                            /* samples seen */
	unsigned __int128 sum_fast, sum_slow;  /* of the last fast / slow samples */
	int prev_cmp;                          /* sign of d at the previous sample */
	bool have_prev;
	int64_t position;                      /* sum of signed fills */
	int64_t pending;                       /* sum of signed open quantities */
	uint64_t seq, signal_id, orders_sent;
	struct ma_cross_order open[MA_CROSS_MAX_OPEN];
	struct ma_cross_counters c;
};

/* Set up s; returns MA_CROSS_OK or one of the errors above (then s is
 * unusable).  p is copied. */
int ma_cross_init(struct ma_cross *s, const struct ma_cross_params *p);
const char *ma_cross_strerror(int status);

/*
 * Feed one market-data event (any type; only quotes of params.instrument
 * matter).  Returns true when it caused an order, written to *out (zeroed
 * first, 128 bytes); false leaves *out untouched.  The order is counted as
 * pending from this moment: send it, or report it back as rejected.
 */
bool ma_cross_on_market(struct ma_cross *s, const union fks_event *md,
			struct fks_ev_order_new *out);

/*
 * Feed one execution report: FKS_EV_FILL moves the position and reduces the
 * pending quantity (an order whose fill has leaves_qty 0 is done);
 * FKS_EV_ORDER_REJECT, FKS_EV_CANCEL_ACK and FKS_EV_RISK_REJECT end the
 * order and release all of its pending quantity; FKS_EV_ORDER_ACK changes
 * nothing.  Reports for order ids this instance does not hold (other
 * strategies' orders, or orders already done) are ignored and counted.
 */
void ma_cross_on_exec(struct ma_cross *s, const union fks_event *ev);

/* Signed position (sum of fills) and signed pending quantity, at qty_scale. */
static inline int64_t ma_cross_position(const struct ma_cross *s) { return s->position; }
static inline int64_t ma_cross_pending(const struct ma_cross *s) { return s->pending; }

#endif
