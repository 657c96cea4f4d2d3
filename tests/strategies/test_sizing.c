/*
 * Tests for strategies/sizing.c: exact arithmetic cases worked out by hand.
 */
#include <criterion/criterion.h>

#include <stdint.h>

#include "strategies/sizing.h"

static struct sizing_params base(enum sizing_mode mode, uint8_t es, uint8_t ps, uint8_t qs)
{
	struct sizing_params p;

	sizing_defaults(&p);
	p.mode = mode;
	p.equity_scale = es;
	p.px_scale = ps;
	p.qty_scale = qs;
	return p;
}

Test(sizing, risk_based_brief_example)
{
	/* equity 100000.00, risk 1%, entry 50.00, stop 48.00: risk 1000.00 over
	 * a 2.00 distance = 500 shares. */
	struct sizing_params p = base(SIZING_RISK, 2, 2, 0);

	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 4800, 0), 500);
	/* a short: stop above entry, same distance */
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 5200, 0), 500);
}

Test(sizing, risk_based_rounds_down_to_the_qty_scale_and_lot)
{
	/* equity 100000.00, risk 1% = 1000.00, distance 3.00: 333.333... shares.
	 * qty_scale 0: 333.  qty_scale 3: 333.333 (333333 units).  Lot 0.010
	 * (10 units): 333.330. */
	struct sizing_params p = base(SIZING_RISK, 2, 2, 0);

	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 4700, 0), 333);
	p.qty_scale = 3;
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 4700, 0), 333333);
	p.lot = 10;
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 4700, 0), 333330);
	p.max_qty = 100005;
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 4700, 0), 100000);
}

Test(sizing, mixed_scales)
{
	/* Crypto: equity 25000.000000 USD (scale 6), BTC at 60000.50 (px scale
	 * 2), stop 59400.50 (distance 600.00), qty scale 8, risk 2% = 500 USD:
	 * 500 / 600 = 0.83333333 BTC = 83333333 units (rounded down). */
	struct sizing_params p = base(SIZING_RISK, 6, 2, 8);

	p.risk_ppm = 20000;
	cr_assert_eq(sizing_qty(&p, 25000000000LL, 6000050, 5940050, 0), 83333333);
	/* equity scale above px + qty: exponent -2 goes to the denominator.
	 * equity 1000.0000 at scale 4 (10000000), px scale 1, qty scale 1,
	 * risk 1% = 10, distance 0.5 (5 units): 20 shares = 200 units. */
	p = base(SIZING_RISK, 4, 1, 1);
	cr_assert_eq(sizing_qty(&p, 10000000, 100, 95, 0), 200);
}

Test(sizing, fixed_fraction)
{
	/* 10% of 100000.00 = 10000.00 of notional at 30.00 = 333.33 -> 333. */
	struct sizing_params p = base(SIZING_FIXED, 2, 2, 0);

	cr_assert_eq(sizing_qty(&p, 10000000, 3000, 0, 0), 333);
	p.fraction_ppm = 1000000;     /* all of it: 100000 / 30 = 3333.33 */
	cr_assert_eq(sizing_qty(&p, 10000000, 3000, 0, 0), 3333);
}

Test(sizing, atr_based)
{
	/* equity 100000.00, risk 1% = 1000.00, ATR 1.25, 2 ATRs = 2.50:
	 * 400 shares. */
	struct sizing_params p = base(SIZING_ATR, 2, 2, 0);

	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 0, 125), 400);
	p.atr_mult_ppm = 1500000;   /* 1.5 ATRs = 1.875: 533.33 -> 533 */
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 0, 125), 533);
}

Test(sizing, refusals)
{
	struct sizing_params p = base(SIZING_RISK, 2, 2, 0);

	cr_assert_eq(sizing_qty(&p, 0, 5000, 4800, 0), SIZING_E_EQUITY);
	cr_assert_eq(sizing_qty(&p, -5, 5000, 4800, 0), SIZING_E_EQUITY);
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 5000, 0), SIZING_E_DISTANCE);
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 0, 0), SIZING_E_DISTANCE);
	/* 1% of 1.00 over a distance of 2.00: 0.005 shares -> nothing */
	cr_assert_eq(sizing_qty(&p, 100, 5000, 4800, 0), SIZING_E_ZERO);
	p.mode = SIZING_ATR;
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 0, 0), SIZING_E_DISTANCE);
	p.mode = SIZING_FIXED;
	cr_assert_eq(sizing_qty(&p, 10000000, 0, 0, 0), SIZING_E_PRICE);
	p.px_scale = 19;
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 0, 0), SIZING_E_PARAMS);
	p.px_scale = 2;
	p.lot = 0;
	cr_assert_eq(sizing_qty(&p, 10000000, 5000, 0, 0), SIZING_E_PARAMS);
	cr_assert_str_eq(sizing_strerror(SIZING_E_ZERO), "size rounds down to less than one lot");
}

Test(sizing, huge_numbers_saturate_instead_of_wrapping)
{
	/* INT64_MAX equity, scales 18 + 18 - 0: the numerator overflows 128 bits
	 * -> INT64_MAX, then the lot rounding keeps it a multiple of the lot. */
	struct sizing_params p = base(SIZING_RISK, 0, 18, 18);

	cr_assert_eq(sizing_qty(&p, INT64_MAX, 2, 1, 0), INT64_MAX);
	p.lot = 1000;
	cr_assert_eq(sizing_qty(&p, INT64_MAX, 2, 1, 0), INT64_MAX - INT64_MAX % 1000);
	/* A distance of INT64_MAX with equity 1 and scales summing negative:
	 * far below one unit. */
	p = base(SIZING_RISK, 18, 0, 0);
	cr_assert_eq(sizing_qty(&p, 1, INT64_MAX, 1, 0), SIZING_E_ZERO);
}
