/*
 * Tests for feeds/synthetic.c: the seeded random-walk feed.
 *
 * Expected values come from the params (start times, steps, ids) or from the
 * stream's own earlier events (a trade must print at the last quote's
 * touch), never from the generator's internals.  The step-size test checks
 * the volatility parameter against its definition with a statistic computed
 * here in floating point, which the test may use and the feed may not.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "feeds/synthetic.h"

#define MILLION 1000000u
#define T0 1700000000000000000LL /* 2023-11-14, epoch ns */
#define STEP 10000LL             /* 10 us per event */

static struct synth_feed feed_a, feed_b;

/* BTCUSDT and ETHUSDT as in the default config, and a penny stock that
 * starts at 1 tick, so the floor is hit all the time. */
static struct synth_params default_params(uint64_t seed)
{
	struct synth_params p = {
		.seed = seed,
		.trade_ratio_ppm = 200000,
		.volatility_bps_x100 = 100,
		.start_time_ns = T0,
		.step_ns = STEP,
		.n_instruments = 3,
		.instrument = {
			{ .id = 1, .start_px = 6000000, .px_scale = 2, .qty_scale = 6 },
			{ .id = 2, .start_px = 300000, .px_scale = 2, .qty_scale = 5 },
			{ .id = 7, .start_px = 1, .px_scale = 4, .qty_scale = 0 },
		},
	};
	return p;
}

Test(synthetic, rejects_params_out_of_range)
{
	struct synth_params p;

	p = default_params(1);
	cr_assert_eq(synth_init(&feed_a, &p), 0);
	p.n_instruments = 0;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p = default_params(1);
	p.n_instruments = SYNTH_MAX_INSTRUMENTS + 1;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p = default_params(1);
	p.instrument[1].id = 0;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p = default_params(1);
	p.instrument[0].start_px = 0;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p.instrument[0].start_px = SYNTH_PX_MAX + 1;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p.instrument[0].start_px = SYNTH_PX_MAX;
	cr_assert_eq(synth_init(&feed_a, &p), 0);
	p = default_params(1);
	p.instrument[2].qty_scale = SYNTH_MAX_SCALE;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p = default_params(1);
	p.trade_ratio_ppm = MILLION + 1;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p.trade_ratio_ppm = MILLION;
	cr_assert_eq(synth_init(&feed_a, &p), 0);
	p = default_params(1);
	p.volatility_bps_x100 = MILLION + 1;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
	p = default_params(1);
	p.step_ns = -1;
	cr_assert_eq(synth_init(&feed_a, &p), -1);
}

Test(synthetic, same_seed_same_bytes_different_seed_different_stream)
{
	struct synth_params p = default_params(42);
	union fks_event a, b;

	cr_assert_eq(synth_init(&feed_a, &p), 0);
	cr_assert_eq(synth_init(&feed_b, &p), 0);
	for (unsigned k = 0; k < MILLION; k++) {
		/* Different garbage in each: every byte must be written. */
		memset(&a, 0xa5, sizeof a);
		memset(&b, 0x5a, sizeof b);
		unsigned ta = synth_next(&feed_a, &a);
		unsigned tb = synth_next(&feed_b, &b);
		cr_assert_eq(ta, tb, "event %u: type %u vs %u", k, ta, tb);
		/* the event is one line; the rest of the union is not its to touch */
		if (memcmp(&a, &b, FKS_EVENT_LINE) != 0)
			cr_assert_fail("event %u differs between two feeds with the same seed", k);
	}

	/* Seeds 42 and 43: the streams part within the first few events and
	 * stay apart (two walks agreeing on most bids would mean the seed
	 * barely matters). */
	struct synth_params p2 = default_params(43);
	unsigned same_bid = 0, n_quotes = 0;

	cr_assert_eq(synth_init(&feed_a, &p), 0);
	cr_assert_eq(synth_init(&feed_b, &p2), 0);
	for (unsigned k = 0; k < 10000; k++) {
		synth_next(&feed_a, &a);
		synth_next(&feed_b, &b);
		if (a.h.type == FKS_EV_QUOTE && b.h.type == FKS_EV_QUOTE && a.h.instrument == 1) {
			n_quotes++;
			same_bid += a.quote.bid_px == b.quote.bid_px;
		}
	}
	cr_assert_gt(n_quotes, 1000);
	cr_assert_lt(same_bid, n_quotes / 10, "%u of %u bids equal across seeds", same_bid, n_quotes);
}

Test(synthetic, seed_zero_is_a_real_stream)
{
	struct synth_params p = default_params(0);
	union fks_event ev;
	int64_t first = -1;
	bool moved = false;

	cr_assert_eq(synth_init(&feed_a, &p), 0);
	for (int k = 0; k < 3000; k++) {
		synth_next(&feed_a, &ev);
		if (ev.h.type == FKS_EV_QUOTE && ev.h.instrument == 1) {
			if (first < 0)
				first = ev.quote.bid_px;
			moved |= ev.quote.bid_px != first;
		}
	}
	cr_assert(moved, "seed 0 gave a constant walk");
}

struct inst_stats {
	uint64_t quotes, trades;
	int64_t min_bid, max_bid;
	struct fks_ev_quote last; /* the book as last quoted */
	bool quoted;
};

Test(synthetic, invariants_over_a_million_events)
{
	struct synth_params p = default_params(7);
	struct inst_stats st[3] = { 0 };
	union fks_event ev;
	uint64_t trades = 0, last_trade_id = 0;

	cr_assert_eq(synth_init(&feed_a, &p), 0);
	for (uint64_t k = 0; k < MILLION; k++) {
		memset(&ev, 0xee, sizeof ev);
		unsigned type = synth_next(&feed_a, &ev);
		uint32_t idx = (uint32_t)(k % 3);
		struct inst_stats *s = &st[idx];

		cr_assert_eq(ev.h.type, type);
		cr_assert_eq(ev.h.source, FKS_STAGE_FEED);
		cr_assert_eq(ev.h.flags, 0);
		cr_assert_eq(ev.h.seq, k + 1, "seq %" PRIu64 " at event %" PRIu64, ev.h.seq, k);
		cr_assert_eq(ev.h.event_time_ns, T0 + (int64_t)k * STEP);
		cr_assert_eq(ev.h.recv_time_ns, 0);
		cr_assert_eq(ev.h.instrument, p.instrument[idx].id, "round robin");
		/* writes_exactly_one_line checks that nothing past byte 64 is touched */

		if (type == FKS_EV_QUOTE) {
			const struct fks_ev_quote *q = &ev.quote;

			cr_assert_gt(q->bid_px, 0);
			cr_assert_lt(q->bid_px, q->ask_px, "event %" PRIu64 ": bid %" PRId64 " ask %" PRId64,
				     k, q->bid_px, q->ask_px);
			cr_assert_leq(q->bid_px, SYNTH_PX_MAX);
			cr_assert_gt(q->bid_qty, 0);
			cr_assert_gt(q->ask_qty, 0);
			if (!s->quoted || q->bid_px < s->min_bid)
				s->min_bid = q->bid_px;
			if (!s->quoted || q->bid_px > s->max_bid)
				s->max_bid = q->bid_px;
			s->last = *q;
			s->quoted = true;
			s->quotes++;
		} else {
			cr_assert_eq(type, FKS_EV_TRADE);
			const struct fks_ev_trade *t = &ev.trade;

			cr_assert(s->quoted, "a trade before the instrument's first quote");
			cr_assert_gt(t->qty, 0);
			if (t->aggressor == FKS_SIDE_BUY) {
				cr_assert_eq(t->px, s->last.ask_px, "a buy prints at the ask");
				cr_assert_leq(t->qty, s->last.ask_qty);
			} else {
				cr_assert_eq(t->aggressor, FKS_SIDE_SELL);
				cr_assert_eq(t->px, s->last.bid_px, "a sell prints at the bid");
				cr_assert_leq(t->qty, s->last.bid_qty);
			}
			cr_assert_eq(t->trade_id, ++last_trade_id, "trade ids count trades");
			for (int i = 0; i < 7; i++)
				cr_assert_eq(t->pad[i], 0);
			s->trades++;
			trades++;
		}
	}

	/* 20% trades: the binomial standard deviation over 10^6 events is
	 * 400; allow 5 of them. */
	int64_t want = (int64_t)MILLION / 5;
	cr_assert_lt(llabs((long long)trades - want), 2000, "%" PRIu64 " trades, want about %" PRId64,
		     trades, want);
	for (int i = 0; i < 3; i++) {
		cr_assert_gt(st[i].quotes, 100000, "instrument %d barely quoted", i);
		cr_assert_gt(st[i].trades, 50000, "instrument %d barely traded", i);
	}
	/* The walk moves: a 1 bp step on 60000.00 is 6.00, so a million
	 * steps range over far more than 100 ticks; the penny stock must
	 * leave its floor. */
	cr_assert_gt(st[0].max_bid - st[0].min_bid, 100000);
	cr_assert_gt(st[1].max_bid - st[1].min_bid, 5000);
	cr_assert_gt(st[2].max_bid - st[2].min_bid, 1);
}

/* The step has the standard deviation it is configured with: the mean of
 * move^2 / sigma^2 over many quotes is about 1, with sigma = bid * vol. */
Test(synthetic, volatility_sets_the_step_size)
{
	uint32_t vols[] = { 100, 1000 }; /* 1 bp and 10 bp */

	for (unsigned v = 0; v < 2; v++) {
		struct synth_params p = default_params(99);
		union fks_event ev;
		int64_t prev_bid = p.instrument[0].start_px;
		double sum = 0;
		unsigned n = 0;

		p.n_instruments = 1;
		p.trade_ratio_ppm = 0;
		p.volatility_bps_x100 = vols[v];
		cr_assert_eq(synth_init(&feed_a, &p), 0);
		for (int k = 0; k < 200000; k++) {
			synth_next(&feed_a, &ev);
			double sigma = (double)prev_bid * vols[v] / 1e6;
			double move = (double)(ev.quote.bid_px - prev_bid);

			sum += move * move / (sigma * sigma);
			n++;
			prev_bid = ev.quote.bid_px;
		}
		double ratio = sum / n;
		cr_assert(ratio > 0.95 && ratio < 1.05, "vol %u: variance ratio %f", vols[v], ratio);
	}
}

Test(synthetic, zero_volatility_and_all_or_no_trades)
{
	struct synth_params p = default_params(5);
	union fks_event ev;

	p.volatility_bps_x100 = 0;
	p.trade_ratio_ppm = 0;
	cr_assert_eq(synth_init(&feed_a, &p), 0);
	for (int k = 0; k < 30000; k++) {
		cr_assert_eq(synth_next(&feed_a, &ev), FKS_EV_QUOTE, "ratio 0: a trade at %d", k);
		cr_assert_eq(ev.quote.bid_px, p.instrument[k % 3].start_px, "volatility 0: bid moved");
		cr_assert_eq(ev.quote.ask_px, ev.quote.bid_px + 1, "volatility 0: one-tick spread");
	}

	p = default_params(5);
	p.trade_ratio_ppm = MILLION;
	cr_assert_eq(synth_init(&feed_a, &p), 0);
	for (int k = 0; k < 30000; k++) {
		unsigned t = synth_next(&feed_a, &ev);
		/* The first event of each instrument is its first quote. */
		cr_assert_eq(t, k < 3 ? FKS_EV_QUOTE : FKS_EV_TRADE, "event %d", k);
	}
}

/* A 100% step on prices at both ends of the band: reflection keeps every
 * bid in [1, SYNTH_PX_MAX] and the ask above it, with no overflow (UBSan
 * would catch one in the sanitizer build). */
Test(synthetic, extreme_volatility_stays_in_band)
{
	struct synth_params p = default_params(11);
	union fks_event ev;
	bool hit_top = false, hit_floor_zone = false;

	p.volatility_bps_x100 = MILLION;
	p.trade_ratio_ppm = 0;
	p.n_instruments = 2;
	p.instrument[0].start_px = 1;
	p.instrument[1].start_px = SYNTH_PX_MAX;
	cr_assert_eq(synth_init(&feed_a, &p), 0);
	for (int k = 0; k < 200000; k++) {
		synth_next(&feed_a, &ev);
		cr_assert_geq(ev.quote.bid_px, 1);
		cr_assert_leq(ev.quote.bid_px, SYNTH_PX_MAX);
		cr_assert_gt(ev.quote.ask_px, ev.quote.bid_px);
		hit_top |= ev.quote.bid_px > SYNTH_PX_MAX / 2;
		hit_floor_zone |= ev.quote.bid_px < 1000;
	}
	cr_assert(hit_top && hit_floor_zone);
}

/* A ring slot for market data is 64 bytes, half a union fks_event: the feed
 * must write exactly one line.  The buffer is allocated at its exact size so
 * AddressSanitizer sees any overrun, and the bytes after the event in a
 * larger buffer must come back untouched. */
Test(synthetic, writes_exactly_one_line)
{
	struct synth_params p = { .seed = 5, .trade_ratio_ppm = 500000, .volatility_bps_x100 = 100,
				  .step_ns = 1000, .n_instruments = 1 };
	p.instrument[0] = (struct synth_instrument){ .id = 1, .start_px = 10000, .px_scale = 2, .qty_scale = 2 };
	static struct synth_feed f;
	cr_assert_eq(synth_init(&f, &p), 0);

	uint8_t *exact = malloc(FKS_EVENT_LINE);
	cr_assert_not_null(exact);
	uint8_t slots[4 * FKS_EVENT_LINE];
	for (int i = 0; i < 1000; i++) {
		synth_next(&f, (union fks_event *)(void *)exact);
		memset(slots, 0xA5, sizeof slots);
		synth_next(&f, (union fks_event *)(void *)(slots + FKS_EVENT_LINE));
		for (size_t b = 0; b < sizeof slots; b++)
			if (b < FKS_EVENT_LINE || b >= 2 * FKS_EVENT_LINE)
				cr_assert_eq(slots[b], 0xA5, "event %d: byte %zu outside its slot was written", i, b);
	}
	free(exact);
}
