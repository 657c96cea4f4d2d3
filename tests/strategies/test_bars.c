/*
 * Tests for strategies/bars.c: time and volume bars.
 *
 * Hand-built sequences have their expected bars worked out in the comments.
 * The long random streams are checked against a reference written here from
 * the definition: trades grouped by floor(t / interval) (time bars) or cut
 * where the running volume reaches the threshold (volume bars), with plain
 * loops over the whole tape.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/bars.h"

static struct bars b;

static void time_bars(int64_t interval, bool mids)
{
	struct bars_params p = { .kind = BARS_TIME, .interval_ns = interval, .use_quote_mids = mids };

	cr_assert_eq(bars_init(&b, &p), BARS_OK);
}

static void volume_bars(int64_t threshold)
{
	struct bars_params p = { .kind = BARS_VOLUME, .threshold = threshold };

	cr_assert_eq(bars_init(&b, &p), BARS_OK);
}

static void expect_bar(const struct bar *x, int64_t start, int64_t end, int64_t o, int64_t h,
		       int64_t l, int64_t c, int64_t vol, uint64_t trades, uint64_t skipped)
{
	cr_expect_eq(x->start_ns, start, "start %ld want %ld", (long)x->start_ns, (long)start);
	cr_expect_eq(x->end_ns, end, "end %ld want %ld", (long)x->end_ns, (long)end);
	cr_expect_eq(x->open, o, "open");
	cr_expect_eq(x->high, h, "high");
	cr_expect_eq(x->low, l, "low");
	cr_expect_eq(x->close, c, "close");
	cr_expect_eq(x->volume, vol, "volume %ld want %ld", (long)x->volume, (long)vol);
	cr_expect_eq(x->trades, trades, "trades");
	cr_expect_eq(x->skipped, skipped, "skipped %lu want %lu",
		     (unsigned long)x->skipped, (unsigned long)skipped);
}

Test(bars, init_rejects_bad_parameters)
{
	struct bars_params p = { .kind = 0 };

	cr_expect_eq(bars_init(&b, &p), BARS_E_KIND);
	p.kind = BARS_TIME;
	cr_expect_eq(bars_init(&b, &p), BARS_E_INTERVAL);
	p.interval_ns = -5;
	cr_expect_eq(bars_init(&b, &p), BARS_E_INTERVAL);
	p.kind = BARS_VOLUME;
	cr_expect_eq(bars_init(&b, &p), BARS_E_THRESHOLD);
	p.threshold = 1;
	cr_expect_eq(bars_init(&b, &p), BARS_OK);
	cr_expect_str_eq(bars_strerror(BARS_OK), "ok");
	cr_expect_str_eq(bars_strerror(99), "unknown bars status");
}

Test(bars, time_bars_by_hand)
{
	struct bar x;

	memset(&x, 0, sizeof x);
	time_bars(1000, false);
	/* Interval [1000, 2000): 10 x1, 12 x2, 9 x1. */
	cr_expect_not(bars_on_trade(&b, 1000, 10, 1, &x));
	cr_expect_not(bars_on_trade(&b, 1500, 12, 2, &x));
	cr_expect_not(bars_on_trade(&b, 1999, 9, 1, &x));
	cr_expect_not(bars_time_advance(&b, 1999, &x));
	/* A trade exactly at the end closes the bar, and opens [2000, 3000). */
	cr_assert(bars_on_trade(&b, 2000, 11, 1, &x));
	expect_bar(&x, 1000, 2000, 10, 12, 9, 9, 4, 3, 0);
	/* Gap: nothing in [3000, 5000).  The trade at 5500 closes [2000,
	 * 3000) and opens [5000, 6000) with two skipped intervals. */
	cr_assert(bars_on_trade(&b, 5500, 13, 1, &x));
	expect_bar(&x, 2000, 3000, 11, 11, 11, 11, 1, 1, 0);
	cr_expect_not(bars_on_trade(&b, 5600, 14, 5, &x));
	cr_expect_not(bars_time_advance(&b, 5999, &x));
	cr_assert(bars_time_advance(&b, 6000, &x));
	expect_bar(&x, 5000, 6000, 13, 14, 13, 14, 6, 2, 2);
	/* Nothing open: advancing time or flushing emits nothing. */
	cr_expect_not(bars_time_advance(&b, 100000, &x));
	cr_expect_not(bars_flush(&b, &x));
	cr_expect_eq(b.c.bars, 3);
	cr_expect_eq(b.c.trades, 6);
	/* The flush emits a bar that has not ended ([6000, 7000) was empty). */
	cr_expect_not(bars_on_trade(&b, 7001, 20, 1, &x));
	cr_assert(bars_flush(&b, &x));
	expect_bar(&x, 7000, 8000, 20, 20, 20, 20, 1, 1, 1);
}

Test(bars, time_bars_late_bad_and_edges)
{
	struct bar x;

	time_bars(1000, false);
	bars_on_trade(&b, 1500, 10, 1, &x);
	/* Earlier than the open bar's start: folded in, counted. */
	cr_expect_not(bars_on_trade(&b, 900, 8, 1, &x));
	cr_expect_eq(b.c.late, 1);
	/* Bad quantity: ignored and counted, but its time closes the bar. */
	cr_expect_not(bars_on_trade(&b, 1600, 99, 0, &x));
	cr_assert(bars_on_trade(&b, 2100, 99, -1, &x));
	cr_expect_eq(b.c.bad_qty, 2);
	expect_bar(&x, 1000, 2000, 10, 10, 8, 8, 2, 2, 0);
	/* A trade timed inside the emitted bar never reopens it: it goes to
	 * the interval right after. */
	cr_expect_not(bars_on_trade(&b, 1700, 7, 3, &x));
	cr_expect_eq(b.c.late, 2);
	cr_assert(bars_flush(&b, &x));
	expect_bar(&x, 2000, 3000, 7, 7, 7, 7, 3, 1, 0);

	/* Negative times align by floor: -1 is in [-1000, 0). */
	time_bars(1000, false);
	bars_on_trade(&b, -1, 5, 1, &x);
	cr_assert(bars_on_trade(&b, 0, 6, 1, &x));
	expect_bar(&x, -1000, 0, 5, 5, 5, 5, 1, 1, 0);

	/* Volume saturates instead of wrapping. */
	time_bars(1000, false);
	bars_on_trade(&b, 10, 1, INT64_MAX, &x);
	bars_on_trade(&b, 11, 1, INT64_MAX, &x);
	cr_assert(bars_flush(&b, &x));
	cr_expect_eq(x.volume, INT64_MAX);
	cr_expect_eq(x.trades, 2);
	cr_expect_eq(b.c.volume_saturated, 1);

	/* The far ends of time and price: no overflow, no crash. */
	time_bars(INT64_MAX, false);
	bars_on_trade(&b, INT64_MIN, INT64_MIN, 1, &x);
	bars_on_trade(&b, INT64_MAX, INT64_MAX, 1, &x);
	bars_on_trade(&b, INT64_MAX, INT64_MAX, 1, &x);
	bars_flush(&b, &x);
	cr_expect_eq(x.close, INT64_MAX);
}

Test(bars, quote_mids)
{
	struct bar x;

	/* Mids on: quotes move OHLC by floor((bid + ask) / 2), no volume. */
	time_bars(1000, true);
	cr_expect_not(bars_on_quote(&b, 100, 10, 13, &x));     /* mid 11 */
	cr_expect_not(bars_on_trade(&b, 200, 15, 2, &x));
	cr_expect_not(bars_on_quote(&b, 300, 0, 13, &x));      /* bad: bid 0 */
	cr_expect_not(bars_on_quote(&b, 300, 14, 13, &x));     /* bad: crossed */
	cr_expect_not(bars_on_quote(&b, 400, 8, 8, &x));       /* locked: mid 8 */
	cr_expect_eq(b.c.bad_quotes, 2);
	cr_assert(bars_on_quote(&b, 1000, INT64_MAX - 1, INT64_MAX, &x));
	expect_bar(&x, 0, 1000, 11, 15, 8, 8, 2, 1, 0);
	cr_expect_eq(x.updates, 3);
	/* The huge quote's mid, computed without overflow. */
	cr_assert(bars_flush(&b, &x));
	cr_expect_eq(x.open, INT64_MAX - 1);
	cr_expect_eq(x.trades, 0);
	cr_expect_eq(x.volume, 0);
	cr_expect_eq(b.c.mids, 3);

	/* Mids off: a quote only advances time. */
	time_bars(1000, false);
	bars_on_trade(&b, 100, 5, 1, &x);
	cr_expect_not(bars_on_quote(&b, 500, 1, 100, &x));
	cr_assert(bars_on_quote(&b, 1000, 1, 100, &x));
	expect_bar(&x, 0, 1000, 5, 5, 5, 5, 1, 1, 0);
	cr_expect_not(bars_flush(&b, &x));
	cr_expect_eq(b.c.mids, 0);
}

Test(bars, on_event_filters_instrument)
{
	struct bar x;
	union fks_event ev;
	struct bars_params p = { .kind = BARS_TIME, .interval_ns = 1000, .instrument = 7 };

	cr_assert_eq(bars_init(&b, &p), BARS_OK);
	memset(&ev, 0, sizeof ev);
	ev.h.type = FKS_EV_TRADE;
	ev.h.instrument = 7;
	ev.h.event_time_ns = 10;
	ev.trade.px = 100;
	ev.trade.qty = 4;
	cr_expect_not(bars_on_event(&b, &ev, &x));
	/* Another instrument's trade is not in the bar, but its time counts. */
	ev.h.instrument = 8;
	ev.h.event_time_ns = 20;
	ev.trade.px = 1;
	cr_expect_not(bars_on_event(&b, &ev, &x));
	ev.h.event_time_ns = 1000;
	cr_assert(bars_on_event(&b, &ev, &x));
	expect_bar(&x, 0, 1000, 100, 100, 100, 100, 4, 1, 0);
	/* A heartbeat advances time too. */
	ev.h.instrument = 7;
	ev.h.event_time_ns = 1100;
	bars_on_event(&b, &ev, &x);
	memset(&ev, 0, sizeof ev);
	ev.h.type = FKS_EV_HEARTBEAT;
	ev.h.event_time_ns = 2000;
	cr_assert(bars_on_event(&b, &ev, &x));
	cr_expect_eq(x.start_ns, 1000);
	/* Quotes of ours with mids off: time only. */
	ev.h.type = FKS_EV_QUOTE;
	ev.h.instrument = 7;
	ev.quote.bid_px = 5;
	ev.quote.ask_px = 6;
	cr_expect_not(bars_on_event(&b, &ev, &x));
	cr_expect_not(bars_flush(&b, &x));
}

Test(bars, volume_bars_by_hand)
{
	struct bar x;

	volume_bars(10);
	/* 3 + 4 = 7 < 10; + 5 = 12 >= 10: the whole trade goes in. */
	cr_expect_not(bars_on_trade(&b, 100, 50, 3, &x));
	cr_expect_not(bars_on_trade(&b, 200, 52, 4, &x));
	cr_assert(bars_on_trade(&b, 300, 49, 5, &x));
	expect_bar(&x, 100, 300, 50, 52, 49, 49, 12, 3, 0);
	/* Exactly the threshold closes. */
	cr_assert(bars_on_trade(&b, 400, 51, 10, &x));
	expect_bar(&x, 400, 400, 51, 51, 51, 51, 10, 1, 0);
	/* One huge trade is one bar, not ten. */
	cr_assert(bars_on_trade(&b, 500, 53, 100, &x));
	expect_bar(&x, 500, 500, 53, 53, 53, 53, 100, 1, 0);
	cr_expect_eq(b.c.bars, 3);
	/* Time never closes a volume bar; a late trade is folded in. */
	cr_expect_not(bars_on_trade(&b, 600, 60, 1, &x));
	cr_expect_not(bars_time_advance(&b, 1000000, &x));
	cr_expect_not(bars_on_trade(&b, 550, 61, 1, &x));
	cr_expect_eq(b.c.late, 1);
	cr_expect_not(bars_on_trade(&b, 700, 62, -3, &x));
	cr_expect_eq(b.c.bad_qty, 1);
	cr_assert(bars_flush(&b, &x));
	expect_bar(&x, 600, 600, 60, 61, 60, 61, 2, 2, 0);

	/* Mids never close a volume bar. */
	struct bars_params p = { .kind = BARS_VOLUME, .threshold = 2, .use_quote_mids = true };
	cr_assert_eq(bars_init(&b, &p), BARS_OK);
	cr_expect_not(bars_on_quote(&b, 1, 10, 20, &x));
	cr_expect_not(bars_on_quote(&b, 2, 10, 12, &x));
	cr_assert(bars_on_trade(&b, 3, 30, 2, &x));
	expect_bar(&x, 1, 3, 15, 30, 11, 30, 2, 1, 0);
}

/* ---- random tapes against the reference ---------------------------------- */

static uint64_t rng_state;
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

struct tape {
	int64_t t, px, qty;
};

static struct tape *make_tape(size_t len, uint64_t seed)
{
	struct tape *tp = malloc(len * sizeof *tp);
	int64_t t = 1700000000000000000LL, px = 5000000;

	cr_assert(tp);
	rng_state = seed;
	for (size_t i = 0; i < len; i++) {
		uint64_t r = rng();
		/* Mostly small steps, sometimes a long gap (several intervals). */
		t += r % 16 == 0 ? (int64_t)(rng() % 10000000000ULL) : (int64_t)(rng() % 50000000);
		px += (int64_t)(rng() % 201) - 100;
		tp[i] = (struct tape){ t, px, 1 + (int64_t)(rng() % 1000) };
	}
	return tp;
}

Test(bars, time_bars_against_reference)
{
	const size_t len = 200000;
	const int64_t iv = 1000000000;   /* 1 s */
	struct tape *tp = make_tape(len, 11);
	struct bar *got = malloc(len * sizeof *got);
	size_t ngot = 0;
	struct bar x;

	cr_assert(got);
	time_bars(iv, false);
	for (size_t i = 0; i < len; i++)
		if (bars_on_trade(&b, tp[i].t, tp[i].px, tp[i].qty, &x))
			got[ngot++] = x;
	if (bars_flush(&b, &x))
		got[ngot++] = x;

	/* Reference: runs of equal floor(t / iv), times are non-decreasing. */
	size_t k = 0, i = 0;
	int64_t prev_bucket = 0;
	while (i < len) {
		int64_t bucket = tp[i].t / iv;   /* positive times */
		struct bar w = { .start_ns = bucket * iv, .end_ns = bucket * iv + iv,
				 .open = tp[i].px, .high = tp[i].px, .low = tp[i].px };
		w.skipped = k == 0 ? 0 : (uint64_t)(bucket - prev_bucket - 1);
		for (; i < len && tp[i].t / iv == bucket; i++) {
			if (tp[i].px > w.high)
				w.high = tp[i].px;
			if (tp[i].px < w.low)
				w.low = tp[i].px;
			w.close = tp[i].px;
			w.volume += tp[i].qty;
			w.trades++;
		}
		cr_assert_lt(k, ngot, "fewer bars than the reference");
		expect_bar(&got[k], w.start_ns, w.end_ns, w.open, w.high, w.low, w.close,
			   w.volume, w.trades, w.skipped);
		if (memcmp(&got[k].start_ns, &w.start_ns, 7 * sizeof(int64_t)) != 0)
			cr_assert_fail("bar %zu differs", k);
		prev_bucket = bucket;
		k++;
	}
	cr_assert_eq(k, ngot, "bar count %zu, reference %zu", ngot, k);
	cr_expect_gt(k, 1000);
	free(tp);
	free(got);
}

Test(bars, volume_bars_against_reference)
{
	const size_t len = 200000;
	const int64_t thr = 5000;
	struct tape *tp = make_tape(len, 12);
	struct bar x;
	size_t i = 0, nbars = 0;

	volume_bars(thr);
	/* Reference and builder side by side: the reference cuts after the
	 * trade whose running volume reaches thr. */
	while (i < len) {
		struct bar w = { .start_ns = tp[i].t, .open = tp[i].px, .high = tp[i].px, .low = tp[i].px };
		bool emitted = false;

		for (; i < len && w.volume < thr; i++) {
			if (tp[i].px > w.high)
				w.high = tp[i].px;
			if (tp[i].px < w.low)
				w.low = tp[i].px;
			w.close = tp[i].px;
			w.end_ns = tp[i].t;
			w.volume += tp[i].qty;
			w.trades++;
			emitted = bars_on_trade(&b, tp[i].t, tp[i].px, tp[i].qty, &x);
			cr_assert_eq(emitted, w.volume >= thr, "trade %zu", i);
		}
		if (!emitted)
			cr_assert(bars_flush(&b, &x));
		expect_bar(&x, w.start_ns, w.end_ns, w.open, w.high, w.low, w.close, w.volume, w.trades, 0);
		cr_assert(x.volume >= thr || i == len);
		nbars++;
	}
	cr_expect_eq(b.c.bars, nbars);
	free(tp);
}
