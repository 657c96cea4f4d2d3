/*
 * A seeded random-walk market-data generator: the `synthetic` feed.
 *
 * It produces a stream of FKS_EV_QUOTE and FKS_EV_TRADE events that is a pure
 * function of struct synth_params: the same params give the same bytes, on
 * every run and every machine.  No clock, no I/O, no allocation, no floating
 * point; the only randomness is an internal xoshiro256** generator seeded
 * from params.seed.
 *
 * The walk, per instrument (all prices in units of 1 at px_scale, "ticks"):
 *
 *  - Instruments take turns, round robin, in the order of params.instrument:
 *    event k (k = 0, 1, ...) belongs to instrument k % n_instruments.
 *  - The first event of each instrument is always a quote.  After that an
 *    event is a trade with probability trade_ratio_ppm / 10^6, else a quote.
 *  - A quote moves the bid by a whole number of ticks drawn uniformly from
 *    [-r, r], where r = bid * volatility_bps_x100 / 10^6 * sqrt(3) (so the
 *    step's standard deviation is volatility_bps of the price), and r is at
 *    least 1 tick whenever volatility_bps_x100 > 0.  A bid that would leave
 *    [1, SYNTH_PX_MAX] is reflected back into it.  The ask is the bid plus a
 *    spread of 1 + uniform(0 .. sigma/8) ticks, so bid < ask always.  Both
 *    sizes are > 0: up to 10 whole units (10 * 10^qty_scale), scaled down
 *    by a random power of two up to 2^7 so that small sizes are common.
 *  - A trade prints at the current ask (aggressor BUY) or bid (aggressor
 *    SELL), for 1 .. the displayed size on that side; it does not move the
 *    book.  trade_id counts trades from 1, across instruments.
 *
 * Headers: h.source = FKS_STAGE_FEED, h.seq = k + 1 (dense, from 1),
 * h.event_time_ns = start_time_ns + k * step_ns, h.flags = 0, and
 * h.recv_time_ns = 0: the feed stage stamps the receive time itself.
 */
#ifndef FKS_FEEDS_SYNTHETIC_H
#define FKS_FEEDS_SYNTHETIC_H

#include <stdint.h>

#include "shm/event.h"

#define SYNTH_MAX_INSTRUMENTS 64
#define SYNTH_MAX_SCALE 18
/* Highest price the walk reaches: far from INT64_MAX, so that bid + spread
 * and bid + ask never overflow downstream. */
#define SYNTH_PX_MAX (INT64_MAX / 8)

struct synth_instrument {
	uint32_t id;          /* symbol-table id, put in h.instrument; not 0 */
	int64_t start_px;     /* first bid, at px_scale; 1..SYNTH_PX_MAX */
	uint8_t px_scale;     /* decimal places of prices (informational) */
	uint8_t qty_scale;    /* decimal places of sizes: 0..SYNTH_MAX_SCALE-1 */
};

struct synth_params {
	uint64_t seed;
	uint32_t trade_ratio_ppm;      /* 0..1000000: share of trades, ppm */
	uint32_t volatility_bps_x100;  /* one step, in 0.01 bp of the price; 0..1000000 */
	int64_t start_time_ns;         /* event time of the first event, epoch ns */
	int64_t step_ns;               /* event-time increment per event, >= 0 */
	uint32_t n_instruments;        /* 1..SYNTH_MAX_INSTRUMENTS */
	struct synth_instrument instrument[SYNTH_MAX_INSTRUMENTS];
};

/* Per-instrument book state; private to synthetic.c. */
struct synth_book {
	int64_t bid_px, bid_qty;
	int64_t ask_px, ask_qty;
	int64_t max_size;     /* 10 * 10^qty_scale */
	int quoted;           /* a quote has been emitted for it */
};

/* The generator.  Plain data: copy it to fork the stream. */
struct synth_feed {
	struct synth_params p;
	uint64_t rng[4];      /* xoshiro256** state */
	uint64_t events;      /* emitted so far; the next event is number `events` */
	uint64_t trades;      /* trades emitted so far (the last trade_id) */
	struct synth_book book[SYNTH_MAX_INSTRUMENTS];
};

/*
 * Set up f from p (p is copied; it need not outlive f).  Returns 0, or -1
 * and leaves f unusable when p is out of range: no instrument or more than
 * SYNTH_MAX_INSTRUMENTS, an id of 0, a start_px outside [1, SYNTH_PX_MAX],
 * a qty_scale >= SYNTH_MAX_SCALE, trade_ratio_ppm > 10^6,
 * volatility_bps_x100 > 10^6 or step_ns < 0.
 */
int synth_init(struct synth_feed *f, const struct synth_params *p);

/*
 * Write the next event into the first 64 bytes of *ev (a quote or a trade is
 * one line; those 64 bytes are zeroed first, so they are deterministic) and
 * return its type, FKS_EV_QUOTE or FKS_EV_TRADE.  Nothing past 64 bytes is
 * touched: *ev may be a 64-byte ring slot.  Never fails; the stream does
 * not end.
 */
unsigned synth_next(struct synth_feed *f, union fks_event *ev);

#endif
