/*
 * Tests for gateway/position.c against hand-computed cases.  Prices and
 * quantities are small integers; cash is px * qty.
 */
#include <criterion/criterion.h>

#include "gateway/position.h"
#include "shm/event.h"

#define BUY FKS_SIDE_BUY
#define SELL FKS_SIDE_SELL

static void expect(const struct position *p, int64_t qty, long long open_cost, long long realized,
		   long long fees)
{
	cr_assert_eq(p->qty, qty, "qty %lld, want %lld", (long long)p->qty, (long long)qty);
	cr_assert_eq((long long)p->open_cost, open_cost, "open_cost %lld, want %lld",
		     (long long)p->open_cost, open_cost);
	cr_assert_eq((long long)p->realized, realized, "realized %lld, want %lld",
		     (long long)p->realized, realized);
	cr_assert_eq((long long)p->fees, fees, "fees %lld, want %lld", (long long)p->fees, fees);
	/* The invariant the report relies on. */
	cr_assert_eq((long long)position_cash(p), realized - open_cost);
}

Test(position, open_add_partial_close_close)
{
	struct position p;

	position_init(&p);
	cr_assert_eq(position_on_fill(&p, BUY, 100, 10, 0), 0);      /* open: cost 1000 */
	expect(&p, 10, 1000, 0, 0);
	cr_assert_eq(position_on_fill(&p, BUY, 110, 10, 0), 0);      /* add: 2100 for 20 */
	expect(&p, 20, 2100, 0, 0);
	cr_assert_eq(position_avg_px(&p), 105);
	cr_assert_eq(position_on_fill(&p, SELL, 120, 5, 0), 0);      /* 5 out: cost 525, +600 */
	expect(&p, 15, 1575, 75, 0);
	cr_assert_eq((long long)position_unrealized(&p, 100), 1500 - 1575);
	cr_assert_eq(position_on_fill(&p, SELL, 90, 15, 0), 0);      /* the rest: 1350 - 1575 */
	expect(&p, 0, 0, 75 - 225, 0);
	cr_assert_eq(position_avg_px(&p), 0);
	cr_assert_eq((long long)position_unrealized(&p, 12345), 0);
	cr_assert_eq(p.fills, 4);
	cr_assert_eq((long long)p.turnover, 1000 + 1100 + 600 + 1350);
}

Test(position, truncated_partial_close_loses_nothing_at_flat)
{
	struct position p;

	position_init(&p);
	position_on_fill(&p, BUY, 100, 1, 0);
	position_on_fill(&p, BUY, 101, 2, 0);                       /* 302 for 3 */
	position_on_fill(&p, SELL, 102, 1, 0);                      /* cost 302/3 = 100 (trunc) */
	expect(&p, 2, 202, 2, 0);
	position_on_fill(&p, SELL, 102, 2, 0);                      /* 204 - 202 */
	expect(&p, 0, 0, 4, 0);                                     /* = cash: 306 - 302 */
}

Test(position, short_side)
{
	struct position p;

	position_init(&p);
	position_on_fill(&p, SELL, 50, 4, 0);                       /* short 4, cost -200 */
	expect(&p, -4, -200, 0, 0);
	cr_assert_eq(position_avg_px(&p), 50);
	cr_assert_eq((long long)position_unrealized(&p, 45), -180 + 200);
	position_on_fill(&p, BUY, 45, 1, 0);                        /* cover 1: +5 */
	expect(&p, -3, -150, 5, 0);
}

Test(position, flip_through_zero)
{
	struct position p;

	position_init(&p);
	position_on_fill(&p, BUY, 100, 3, 0);
	position_on_fill(&p, SELL, 110, 5, 0);       /* close 3 (+30), open short 2 at 110 */
	expect(&p, -2, -220, 30, 0);
	cr_assert_eq(position_avg_px(&p), 110);
	position_on_fill(&p, BUY, 100, 4, 0);        /* cover 2 (+20), long 2 at 100 */
	expect(&p, 2, 200, 50, 0);
}

Test(position, fees_round_up_and_accumulate)
{
	struct position p;

	cr_assert_eq((long long)position_fee(100, 10, 0), 0);
	cr_assert_eq((long long)position_fee(100, 10, 1000), 1);     /* 1000 * 1000 / 1e6 = 1 exactly */
	cr_assert_eq((long long)position_fee(100, 10, 1001), 2);     /* 1.001 -> 2 */
	cr_assert_eq((long long)position_fee(3, 1, 1), 1);           /* 0.000003 -> 1 */
	position_init(&p);
	position_on_fill(&p, BUY, 100, 10, position_fee(100, 10, 1001));
	position_on_fill(&p, SELL, 101, 10, position_fee(101, 10, 1001));
	expect(&p, 0, 0, 10, 4);                     /* 1010 * 1001 / 1e6 = 1.011 -> 2 */
}

Test(position, bad_fills_change_nothing_but_the_count)
{
	struct position p;

	position_init(&p);
	position_on_fill(&p, BUY, 100, 1, 0);
	cr_assert_eq(position_on_fill(&p, FKS_SIDE_NONE, 100, 1, 0), -1);
	cr_assert_eq(position_on_fill(&p, BUY, 100, 0, 0), -1);
	cr_assert_eq(position_on_fill(&p, BUY, -1, 1, 0), -1);
	cr_assert_eq(position_on_fill(&p, BUY, 100, 1, -1), -1);
	cr_assert_eq(position_on_fill(&p, BUY, 1, INT64_MAX, 0), -1);  /* position overflow */
	cr_assert_eq(p.bad_fills, 5);
	cr_assert_eq(p.fills, 1);
	expect(&p, 1, 100, 0, 0);
}

/* A large position closed in part: cost * closed would pass 2^127 (here
 * 2^100 * 2^39); the share is still exact, for a long and for a short. */
Test(position, partial_close_of_a_huge_position_does_not_overflow)
{
	const int64_t px = (int64_t)1 << 60, qty = (int64_t)1 << 40, half = qty / 2;
	for (int side = 0; side < 2; side++) {
		uint8_t open = side ? FKS_SIDE_SELL : FKS_SIDE_BUY, close = side ? FKS_SIDE_BUY : FKS_SIDE_SELL;
		struct position p;
		position_init(&p);
		cr_assert_eq(position_on_fill(&p, open, px, qty, 0), 0);
		/* close half at px + 1: realized is exactly half * 1 per unit, signed */
		cr_assert_eq(position_on_fill(&p, close, px + 1, half, 0), 0);
		__int128 want = side ? -(__int128)half : (__int128)half;
		cr_assert(p.realized == want, "side %d: realized %lld", side, (long long)p.realized);
		cr_assert(p.open_cost == (side ? -1 : 1) * ((__int128)px * half), "side %d: open cost", side);
		cr_assert_eq(p.qty, side ? -half : half);
	}
}

/* Turnover is a 128-bit sum: the fill that would carry it past its range
 * is refused and counted, never wrapped. */
Test(position, turnover_beyond_128_bits_is_refused)
{
	struct position p;
	position_init(&p);
	int64_t big = INT64_MAX;
	uint64_t accepted = 0;
	/* each fill adds just under 2^126 of turnover: two fit, the third cannot */
	for (int i = 0; i < 4; i++) {
		uint8_t s = i % 2 ? FKS_SIDE_SELL : FKS_SIDE_BUY;
		if (position_on_fill(&p, s, big, big, 0) == 0)
			accepted++;
	}
	cr_assert_eq(accepted, 2, "accepted %llu", (unsigned long long)accepted);
	cr_assert_eq(p.bad_fills, 2);
	cr_assert(p.turnover > 0, "turnover never wraps negative");
}
