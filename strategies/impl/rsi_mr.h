/*
 * RSI mean reversion (strategy kind "rsi_mr").
 *
 * Samples (quote mids or trade prices, `on`) feed a Wilder RSI of `period`
 * (strategies/indicators.h; ready at sample period + 1).  An excursion is a
 * run of samples with the RSI below `oversold` (or above `overbought`).  The
 * strategy signals on the sample that enters an excursion and again on each
 * sample that takes it to a new extreme:
 *     RSI < oversold:    BUY  at the ask (quotes) / trade price
 *     RSI > overbought:  SELL at the bid / trade price
 * so a falling market gives a BUY at 29, another at 25, none at 27.
 *
 * Confidence: how deep into the zone, as 0.5 + 0.5 * strength with
 *     strength = (oversold - RSI) / oversold           for a buy
 *     strength = (RSI - overbought) / (100 - overbought) for a sell
 * e.g. oversold 30 and RSI 15 is strength 0.5, confidence 0.75.
 *
 * Parameters:
 *     period       1..1000       default 14
 *     oversold     1..50         default 30   (decimals allowed)
 *     overbought   50..99        default 70   (oversold < overbought)
 *     on, tp_bps, sl_bps, tp_atr, sl_atr, bracket_atr   (strategy.h)
 */
#ifndef FKS_STRATEGIES_RSI_MR_H
#define FKS_STRATEGIES_RSI_MR_H

#include "strategies/indicators.h"
#include "strategies/strategy.h"

struct rsi_mr {
	struct strategy_common c;
	uint32_t period, oversold_ppm, overbought_ppm;   /* levels * 10^6 */
	int zone;                /* -1 oversold excursion, +1 overbought, 0 none */
	double extreme;          /* most extreme RSI of the excursion */
	struct ind_rsi rsi;
};

extern const struct strategy_vtbl rsi_mr_vtbl;

#endif
