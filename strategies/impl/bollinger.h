/*
 * Bollinger bands (strategy kind "bollinger"): reversion to the band, or
 * breakout.
 *
 * Samples (quote mids or trade prices, `on`) feed Bollinger bands of
 * `period` samples and width k (population sigma; strategies/indicators.h),
 * the current sample included.  Once ready (sample `period`), a sample
 * above the upper band or below the lower one starts an excursion:
 *     mode reversion:  below -> BUY, above -> SELL   (back toward the middle)
 *     mode breakout:   above -> BUY, below -> SELL   (with the move)
 * The strategy signals on the sample that starts the excursion and on each
 * sample that takes it further out (a larger |z|, z = (x - mid) / sigma),
 * not while it lingers.  Entry: the ask for a buy, the bid for a sell
 * (quotes), the trade price (trades).
 *
 * Confidence: 0.5 + 0.5 * min(1, |z| - k): a sample one sigma beyond the
 * band is 1.0, one on it 0.5.
 *
 * Take-profit: in reversion mode, unless tp_bps or tp_atr is given, the
 * middle band (rounded toward the entry: down for a buy, up for a sell);
 * if the middle band is not beyond the entry (a wide spread), the default
 * bps bracket is used.  Stop-loss and breakout TP: the bracket keys.
 *
 * Parameters:
 *     period   2..4096                default 20
 *     k        0.1..10                default 2
 *     mode     reversion|breakout     default reversion
 *     on, tp_bps, sl_bps, tp_atr, sl_atr, bracket_atr   (strategy.h)
 */
#ifndef FKS_STRATEGIES_BOLLINGER_H
#define FKS_STRATEGIES_BOLLINGER_H

#include "strategies/indicators.h"
#include "strategies/strategy.h"

struct bollinger {
	struct strategy_common c;
	uint32_t period, k_ppm;
	bool breakout, tp_given;
	int zone;                /* -1 below, +1 above, 0 inside */
	double extreme;          /* largest |z| of the excursion */
	struct ind_bollinger bb;
};

extern const struct strategy_vtbl bollinger_vtbl;

#endif
