/*
 * Bar builders: time bars and volume bars with OHLCV and a trade count,
 * built from trades (and, optionally, quote mids).
 *
 * A pure function of the event sequence fed: no clock is read.  A time bar
 * closes when the first event at or past its end arrives, so a bar is
 * emitted late by up to one inter-event gap; feed any later-timed event
 * (a quote, a heartbeat) through bars_time_advance() to close it sooner.
 * At most one bar is emitted per call, and a call that emits one returns
 * true and writes it to *out (false leaves *out alone).
 *
 * Time bars.  interval_ns > 0.  Bars are aligned to epoch multiples of the
 * interval: the bar holding time t covers
 *     [floor(t / interval) * interval, that + interval).
 * Empty intervals produce NO bar: the next bar simply starts later, and its
 * `skipped` field says how many whole empty intervals lay between it and
 * the previous bar (so an ATR over bars sees a gap as one bar, not as
 * several flat ones; a caller who wants flat bars can make them from
 * `skipped` and the previous close).  An event timed before the open bar's
 * start (time going backwards) is folded into the open bar and counted in
 * `late`; it never reopens a closed bar.
 *
 * Volume bars.  threshold > 0 (at qty_scale).  A trade is added whole to
 * the open bar; the bar closes on the trade that brings its volume to the
 * threshold or past it.  Trades are never split, so a bar's volume lies in
 * [threshold, threshold + qty of its last trade), and one huge trade makes
 * one bar, not several.  start_ns/end_ns are the times of its first and
 * last event.
 *
 * Quote mids.  With use_quote_mids, a valid quote (0 < bid <= ask) of the
 * instrument moves open/high/low/close by its mid floor((bid + ask) / 2)
 * with no volume and no trade count; it can open a time bar, and it cannot
 * close a volume bar.  Without it, quotes only advance time.
 *
 * Bad input: a trade with qty <= 0 (counted in bad_qty) is ignored; its time
 * still closes a time bar that has ended.  Volume saturates at INT64_MAX
 * (counted in volume_saturated).
 */
#ifndef FKS_STRATEGIES_BARS_H
#define FKS_STRATEGIES_BARS_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/event.h"

struct bar {
	int64_t start_ns;           /* time bar: interval start; volume bar: first event */
	int64_t end_ns;             /* time bar: start + interval (exclusive);
	                               volume bar: last event (inclusive) */
	int64_t open, high, low, close;
	int64_t volume;             /* sum of trade qty */
	uint64_t trades;            /* trades in the bar */
	uint64_t updates;           /* trades + quote mids that moved OHLC */
	uint64_t skipped;           /* time bars: empty intervals before this one */
};

enum bars_kind { BARS_TIME = 1, BARS_VOLUME = 2 };

struct bars_params {
	uint8_t kind;               /* enum bars_kind */
	bool use_quote_mids;
	uint32_t instrument;        /* bars_on_event() filter; 0 takes every instrument */
	int64_t interval_ns;        /* BARS_TIME: > 0 */
	int64_t threshold;          /* BARS_VOLUME: > 0 */
};

struct bars_counters {
	uint64_t bars;              /* emitted */
	uint64_t trades;            /* trades taken into bars */
	uint64_t mids;              /* quote mids taken into bars */
	uint64_t bad_qty;           /* trades with qty <= 0 */
	uint64_t bad_quotes;        /* quotes with bid <= 0 or bid > ask, when mids are on */
	uint64_t late;              /* events timed before the open bar's start */
	uint64_t volume_saturated;
};

struct bars {
	struct bars_params p;
	bool open;                  /* a bar is being built */
	bool have_prev;             /* a bar was emitted before (for `skipped`) */
	int64_t prev_end;           /* end_ns of the last emitted time bar */
	struct bar cur;
	struct bars_counters c;
};

enum bars_status {
	BARS_OK = 0,
	BARS_E_KIND = -1,
	BARS_E_INTERVAL = -2,       /* time bars: interval_ns <= 0 */
	BARS_E_THRESHOLD = -3,      /* volume bars: threshold <= 0 */
};

int bars_init(struct bars *b, const struct bars_params *p);
const char *bars_strerror(int status);

/* One trade at time t_ns. */
bool bars_on_trade(struct bars *b, int64_t t_ns, int64_t px, int64_t qty, struct bar *out);
/* One quote mid (only when use_quote_mids; otherwise like bars_time_advance). */
bool bars_on_quote(struct bars *b, int64_t t_ns, int64_t bid, int64_t ask, struct bar *out);
/* Time moved to t_ns with no trade: closes a time bar that ended at or before t_ns. */
bool bars_time_advance(struct bars *b, int64_t t_ns, struct bar *out);
/*
 * Any event: trades and quotes of p.instrument (or any, when 0) go to the
 * calls above; every other event only advances time.
 */
bool bars_on_event(struct bars *b, const union fks_event *ev, struct bar *out);
/* Emit the open bar now, whatever its state (end of input). */
bool bars_flush(struct bars *b, struct bar *out);

#endif
