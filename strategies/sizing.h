/*
 * Position sizing: how much to buy or sell for one signal, in exact integer
 * arithmetic.
 *
 * Units.  Equity is an amount of the quote currency at its own scale
 * (equity_scale decimals); prices are at the instrument's px_scale and
 * quantities at its qty_scale (shm/fixed.h).  Every formula below is
 * evaluated as one fraction of 128-bit integers and rounded DOWN to the
 * quantity scale, then down to a multiple of lot (the smallest tradeable
 * step, in qty units).  Rounding down means a size never risks or spends
 * more than asked.
 *
 *   fixed      qty = equity * fraction / entry
 *              (notional = fraction of equity)
 *   risk       qty = equity * risk / |entry - stop|
 *              (losing `risk` of equity if the stop is hit)
 *   atr        qty = equity * risk / (atr_mult * atr)
 *              (the stop distance is atr_mult ATRs: volatility-adjusted)
 *
 * with the scales folded in:  qty_units = real_qty * 10^qty_scale, so e.g.
 * risk: qty_units = E * risk_ppm * 10^(px_scale + qty_scale - equity_scale)
 *                   / (10^6 * D)   (a negative exponent moves to the
 *                   denominator).
 * Example: equity 100000.00 (E = 10000000 at scale 2), risk 1%, entry 50.00,
 * stop 48.00 (D = 200 at px_scale 2), qty_scale 0: 10^7 * 10^4 / (10^6 *
 * 200) = 500.
 *
 * The result is then capped at max_qty (when > 0).
 */
#ifndef FKS_STRATEGIES_SIZING_H
#define FKS_STRATEGIES_SIZING_H

#include <stdint.h>

enum sizing_mode {
	SIZING_FIXED = 0,        /* fixed fraction of equity as notional */
	SIZING_RISK = 1,         /* risk-based on the signal's stop */
	SIZING_ATR = 2,          /* risk-based on an ATR stop */
};

struct sizing_params {
	enum sizing_mode mode;
	uint32_t fraction_ppm;   /* fixed: share of equity, 1..10^6 */
	uint32_t risk_ppm;       /* risk, atr: share of equity at risk; default 10^4 (1%) */
	uint32_t atr_mult_ppm;   /* atr: stop distance in ATRs * 10^6; default 2 * 10^6 */
	uint8_t equity_scale, px_scale, qty_scale;   /* each <= 18 */
	int64_t lot;             /* quantity step, >= 1 (qty units) */
	int64_t max_qty;         /* cap; 0: none */
};

/* Why a size is 0. */
enum sizing_status {
	SIZING_OK = 0,
	SIZING_E_EQUITY = -1,    /* equity <= 0 */
	SIZING_E_PRICE = -2,     /* entry <= 0 (fixed) */
	SIZING_E_DISTANCE = -3,  /* stop == entry, no stop, or atr <= 0 */
	SIZING_E_ZERO = -4,      /* rounds down to less than one lot */
	SIZING_E_PARAMS = -5,    /* a scale > 18, lot < 1, a ppm of 0 */
};

/* Sensible defaults: risk mode, 1% risk, fraction 10%, 2 ATRs, lot 1. */
void sizing_defaults(struct sizing_params *p);

/*
 * Quantity for one entry.  `stop` is used by SIZING_RISK, `atr` (px units)
 * by SIZING_ATR, `entry` by SIZING_FIXED and SIZING_RISK.  Returns the
 * quantity (> 0) in qty units, or a sizing_status (<= 0).  Sizes beyond
 * int64 saturate to INT64_MAX before the max_qty cap and lot rounding.
 */
int64_t sizing_qty(const struct sizing_params *p, int64_t equity, int64_t entry,
		   int64_t stop, int64_t atr);

const char *sizing_strerror(int64_t status);

#endif
