/*
 * Moving-average crossover (strategy kind "sma_cross"), SMA or EMA.
 *
 * Samples are quote mids or trade prices (`on`), fed to a fast and a slow
 * average (strategies/indicators.h; prices enter doubled, 2 * mid, so no
 * rounding happens).  With d = fast - slow compared at each sample once both
 * are ready (sample `slow`):
 *     d goes from <= 0 to > 0:  BUY  at the ask (quotes) / trade price
 *     d goes from >= 0 to < 0:  SELL at the bid / trade price
 * so the first signal can come at sample slow + 1.  For SMA the comparison
 * is exact (sum_fast * slow against sum_slow * fast in 128 bits); for EMA it
 * compares the two doubles.
 *
 * Confidence: the separation of the averages at the crossing sample, as a
 * share of full_conf_bps: strength = (|fast - slow| / slow) / full_conf_bps,
 * confidence = 0.5 + 0.5 * min(1, strength).  A cross that opens a 10 bps
 * gap at once (the default full_conf_bps) is 1.0; a grazing one near 0.5.
 *
 * Parameters:
 *     fast, slow       1 <= fast < slow <= 4096     defaults 10, 30
 *     ma               sma|ema                      default sma
 *     full_conf_bps    1..10000                     default 10
 *     on, tp_bps, sl_bps, tp_atr, sl_atr, bracket_atr   (strategy.h)
 */
#ifndef FKS_STRATEGIES_SMA_CROSS_H
#define FKS_STRATEGIES_SMA_CROSS_H

#include "strategies/indicators.h"
#include "strategies/strategy.h"

struct sma_cross {
	struct strategy_common c;
	uint32_t fast, slow, full_bps;
	bool ema;
	int prev_cmp;
	bool have_prev;
	struct ind_sma sma_fast, sma_slow;
	struct ind_ema ema_fast, ema_slow;
};

extern const struct strategy_vtbl sma_cross_vtbl;

#endif
