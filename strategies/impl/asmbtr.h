/*
 * ASMBTR: adaptive state machine of binary price changes (strategy kind
 * "asmbtr").
 *
 * State.  Each market event of the configured source gives a sample (quote
 * mid, or trade price).  Its change from the previous sample is up, down or
 * zero; zero changes are skipped entirely (they neither count as down nor
 * shift the state).  The state is the last `depth` non-zero changes as bits,
 * newest in bit 0: 1 up, 0 down.  So with depth 4, the changes
 * down, up, up, down (oldest first) are state 0b0110 = 6.
 *
 * Learning.  For every state the instance keeps decayed counts of what the
 * NEXT non-zero change was, in fixed point (ASMBTR_ONE is one observation):
 *     up    = floor(up    * decay) + (next was up ? ONE : 0)
 *     total = floor(total * decay) + ONE
 * with decay applied per observation of that state (not per event), so a
 * state seen rarely keeps its history.  P(up | state) = up / total.  A raw
 * count of observations n (not decayed) is kept beside, for min_obs.  When
 * total would pass 2^62 (decay 1.0, after ~4.6e9 observations) both counts
 * are halved, which keeps the ratio.
 *
 * Signal.  After each non-zero change the new state is looked up: if it has
 * been observed at least `min_obs` times and P(up) >= threshold, BUY; if
 * P(down) = 1 - P(up) >= threshold, SELL (threshold > 0.5, so never both).
 * Confidence is the probability of the signalled direction itself, in ppm,
 * rounded down: P(up) = 0.75 gives confidence 750000.  A signal therefore
 * always has confidence >= threshold.  The comparisons are exact
 * (up * 10^6 >= threshold_ppm * total in 128 bits).
 *
 * Entry: the ask for a buy, the bid for a sell (quotes); the trade price
 * (trades).  Take-profit and stop-loss in bps of entry (strategy.h).
 *
 * Parameters (all optional):
 *     depth      4..12        default 8
 *     decay      0.9..1.0     default 0.99
 *     threshold  0.55..0.75   default 0.6
 *     min_obs    1..1000000   default 10   observations of the state before
 *                                          it may signal
 *     on         quote|trade  default quote
 *     tp_bps, sl_bps          default 100, 50
 */
#ifndef FKS_STRATEGIES_ASMBTR_H
#define FKS_STRATEGIES_ASMBTR_H

#include <stdint.h>

#include "strategies/strategy.h"

#define ASMBTR_MAX_DEPTH 12
#define ASMBTR_ONE 1000000000ull       /* one observation, fixed point */

struct asmbtr_cell {
	uint64_t up, total;      /* decayed, ASMBTR_ONE units */
	uint32_t n;              /* raw observations, saturating */
	uint32_t pad;
};

struct asmbtr {
	struct strategy_ctx ctx;
	uint32_t depth, decay_ppm, threshold_ppm, min_obs;
	enum strategy_source on;
	struct strategy_bracket bracket;
	int64_t last_px2;        /* previous sample; valid when samples > 0 */
	uint64_t samples;        /* samples seen */
	uint64_t changes;        /* non-zero changes seen */
	uint32_t state;          /* last `depth` changes, newest in bit 0 */
	uint64_t signals;
	struct asmbtr_cell cell[1u << ASMBTR_MAX_DEPTH];
};

extern const struct strategy_vtbl asmbtr_vtbl;

/* The state's learnt counts (for tests and reports). */
static inline const struct asmbtr_cell *asmbtr_cell(const struct asmbtr *a, uint32_t state)
{
	return &a->cell[state & ((1u << a->depth) - 1)];
}

#endif
