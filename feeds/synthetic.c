#include "feeds/synthetic.h"
#include "shm/event_build.h"
#include "shm/fixed.h"

#include <string.h>

/*
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that any
 * seed, 0 included, gives a well-mixed nonzero state.  Written here rather
 * than taken from libc: rand() and friends differ between C libraries, and
 * the stream must be the same bytes everywhere.
 */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t x, unsigned k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n) for n >= 1, by multiply-shift: one multiplication, no
 * division, and a bias below n / 2^64, which no test could see. */
static uint64_t rng_below(uint64_t s[4], uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

int synth_init(struct synth_feed *f, const struct synth_params *p)
{
	memset(f, 0, sizeof *f);
	if (p->n_instruments == 0 || p->n_instruments > SYNTH_MAX_INSTRUMENTS ||
	    p->trade_ratio_ppm > 1000000 || p->volatility_bps_x100 > 1000000 || p->step_ns < 0)
		return -1;
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		const struct synth_instrument *in = &p->instrument[i];

		if (in->id == 0 || in->start_px < 1 || in->start_px > SYNTH_PX_MAX ||
		    in->qty_scale >= SYNTH_MAX_SCALE)
			return -1;
	}

	f->p = *p;
	uint64_t x = p->seed;
	for (int i = 0; i < 4; i++)
		f->rng[i] = splitmix64(&x);
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		struct synth_book *b = &f->book[i];

		b->max_size = 10 * fx_pow10(p->instrument[i].qty_scale);
		b->bid_px = p->instrument[i].start_px;
		b->ask_px = b->bid_px + 1;
		b->bid_qty = b->ask_qty = b->max_size;
	}
	return 0;
}

/* A displayed size: 1 .. max_size >> shift, shift uniform in 0..7, so
 * sizes spread over two orders of magnitude and small ones are common. */
static int64_t draw_size(struct synth_feed *f, int64_t max_size)
{
	uint64_t range = (uint64_t)max_size >> rng_below(f->rng, 8);

	return 1 + (int64_t)rng_below(f->rng, range ? range : 1);
}

static void move_book(struct synth_feed *f, struct synth_book *b)
{
	/* Everything in 128 bits: bid * volatility reaches 2^80. */
	__int128 vol = f->p.volatility_bps_x100;
	__int128 sigma = b->bid_px * vol / 1000000;
	__int128 r = b->bid_px * vol * 1732 / 1000000000; /* sigma * sqrt(3) */

	if (vol > 0 && r < 1)
		r = 1;

	__int128 bid = b->bid_px + (__int128)rng_below(f->rng, (uint64_t)(2 * r + 1)) - r;
	if (bid < 1)
		bid = 2 - bid;                  /* reflect off 1 */
	if (bid > SYNTH_PX_MAX)
		bid = 2 * (__int128)SYNTH_PX_MAX - bid;
	if (bid < 1)                            /* a step wider than the band */
		bid = 1;

	b->bid_px = (int64_t)bid;
	b->ask_px = b->bid_px + 1 + (int64_t)rng_below(f->rng, (uint64_t)(sigma / 8 + 1));
	b->bid_qty = draw_size(f, b->max_size);
	b->ask_qty = draw_size(f, b->max_size);
}

unsigned synth_next(struct synth_feed *f, union fks_event *ev)
{
	uint64_t k = f->events++;
	uint32_t i = (uint32_t)(k % f->p.n_instruments);
	struct synth_book *b = &f->book[i];
	/* Drawn on every event, forced quote or not, so the choice never
	 * shifts the rest of the stream. */
	int is_trade = rng_below(f->rng, 1000000) < f->p.trade_ratio_ppm && b->quoted;

	/* The builders clear exactly the event's line: the caller's buffer may
	 * be a 64-byte ring slot, and the union is 128 bytes. */
	_Static_assert(sizeof(struct fks_ev_quote) == FKS_EVENT_LINE && sizeof(struct fks_ev_trade) == FKS_EVENT_LINE,
		       "synthetic events are one line");
	struct fks_event_hdr h;
	/* Unsigned arithmetic: wraps instead of being undefined on absurd
	 * params, and is exact for any realistic run. */
	fks_hdr_origin(&h, FKS_EV_NONE, FKS_STAGE_FEED, k + 1, f->p.instrument[i].id, 0,
		       (int64_t)((uint64_t)f->p.start_time_ns + k * (uint64_t)f->p.step_ns), 0);

	if (is_trade) {
		uint8_t aggressor;
		int64_t px, qty;

		if (rng_below(f->rng, 2)) {
			aggressor = FKS_SIDE_BUY;
			px = b->ask_px;
			qty = 1 + (int64_t)rng_below(f->rng, (uint64_t)b->ask_qty);
		} else {
			aggressor = FKS_SIDE_SELL;
			px = b->bid_px;
			qty = 1 + (int64_t)rng_below(f->rng, (uint64_t)b->bid_qty);
		}
		fks_build_trade(&ev->trade, &h, px, qty, ++f->trades, aggressor);
		return FKS_EV_TRADE;
	}

	move_book(f, b);
	b->quoted = 1;
	fks_build_quote(&ev->quote, &h, b->bid_px, b->bid_qty, b->ask_px, b->ask_qty);
	return FKS_EV_QUOTE;
}
