/*
 * Position sizing: see sizing.h.
 */
#include "strategies/sizing.h"

#include <stdbool.h>

void sizing_defaults(struct sizing_params *p)
{
	*p = (struct sizing_params){
		.mode = SIZING_RISK,
		.fraction_ppm = 100000,
		.risk_ppm = 10000,
		.atr_mult_ppm = 2000000,
		.lot = 1,
	};
}

static const unsigned __int128 pow10_u128[] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
	100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
	10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
};

/* num / den, rounded down, both > 0, with num built from factors whose
 * product may overflow 128 bits: then the result is huge anyway. */
static int64_t ratio(unsigned __int128 a, unsigned __int128 b, unsigned __int128 c,
		     unsigned __int128 den)
{
	unsigned __int128 num;

	if (__builtin_mul_overflow(a, b, &num) || __builtin_mul_overflow(num, c, &num))
		return INT64_MAX;
	unsigned __int128 q = num / den;

	return q > INT64_MAX ? INT64_MAX : (int64_t)q;
}

int64_t sizing_qty(const struct sizing_params *p, int64_t equity, int64_t entry,
		   int64_t stop, int64_t atr)
{
	if (p->equity_scale > 18 || p->px_scale > 18 || p->qty_scale > 18 || p->lot < 1)
		return SIZING_E_PARAMS;
	if (equity <= 0)
		return SIZING_E_EQUITY;

	/* 10^(px + qty - equity), split into a numerator and a denominator
	 * power; px + qty <= 36 can exceed 10^18 so it may take two factors. */
	int e = (int)p->px_scale + p->qty_scale - p->equity_scale;
	unsigned __int128 up = 1, down = 1;

	if (e > 0) {
		up = pow10_u128[e > 18 ? 18 : e];
		if (e > 18)
			up *= pow10_u128[e - 18];
	} else {
		down = pow10_u128[-e];
	}

	uint32_t share;
	unsigned __int128 dist;

	switch (p->mode) {
	case SIZING_FIXED:
		if (entry <= 0)
			return SIZING_E_PRICE;
		if (p->fraction_ppm == 0)
			return SIZING_E_PARAMS;
		share = p->fraction_ppm;
		dist = (unsigned __int128)entry * 1000000;
		break;
	case SIZING_RISK:
		if (p->risk_ppm == 0)
			return SIZING_E_PARAMS;
		if (entry <= 0 || stop <= 0 || stop == entry)
			return SIZING_E_DISTANCE;
		share = p->risk_ppm;
		dist = (unsigned __int128)(entry > stop ? entry - stop : stop - entry) * 1000000;
		break;
	case SIZING_ATR:
		if (p->risk_ppm == 0 || p->atr_mult_ppm == 0)
			return SIZING_E_PARAMS;
		if (atr <= 0)
			return SIZING_E_DISTANCE;
		/* distance = atr * mult_ppm / 10^6 and the risk share is / 10^6:
		 * the two 10^6 cancel. */
		share = p->risk_ppm;
		dist = (unsigned __int128)atr * p->atr_mult_ppm;
		break;
	default:
		return SIZING_E_PARAMS;
	}
	unsigned __int128 den;

	if (__builtin_mul_overflow(dist, down, &den))
		return SIZING_E_ZERO;   /* denominator beyond 2^128: far below one unit */
	int64_t q = ratio((unsigned __int128)equity, share, up, den);

	if (p->max_qty > 0 && q > p->max_qty)
		q = p->max_qty;
	q -= q % p->lot;
	return q > 0 ? q : SIZING_E_ZERO;
}

const char *sizing_strerror(int64_t status)
{
	switch (status) {
	case SIZING_E_EQUITY: return "equity is not positive";
	case SIZING_E_PRICE: return "entry price is not positive";
	case SIZING_E_DISTANCE: return "no stop distance (stop at entry, missing, or ATR 0)";
	case SIZING_E_ZERO: return "size rounds down to less than one lot";
	case SIZING_E_PARAMS: return "bad sizing parameters";
	}
	return status > 0 ? "ok" : "unknown sizing status";
}
