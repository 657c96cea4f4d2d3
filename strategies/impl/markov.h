/*
 * Markov regime filter (strategy kind "markov").  It never signals; the
 * engine asks it for regime() to gate other instances (engine.h, `gate`).
 *
 * Windows.  Samples (quote mid, or trade price: `on`) are cut into
 * consecutive, non-overlapping windows of `window` samples.  A window's
 * return is (last - first) / first, its last sample against its first.  It
 * is classified, exactly (128-bit cross-multiplication, no division):
 *     return >  +bull   BULL
 *     return <  -bear   BEAR
 *     otherwise         SIDEWAYS
 * (defaults bull = bear = 0.02, i.e. +-2%).
 *
 * Transitions.  From the second window on, counts[prev][cur] is incremented
 * (saturating at 2^40).  The transition matrix is the row-normalised counts.
 *
 * regime() is the likeliest NEXT regime: the strict maximum of the current
 * regime's row of counts.  It is STRATEGY_REGIME_UNKNOWN before the first
 * window ends, while the current regime's row is empty (never left it yet),
 * and when the row's maximum is tied: a gate on an undecided filter stays
 * closed.
 *
 * Steady state.  markov_steady_state() solves pi = pi P exactly with the
 * Markov chain tree theorem: pi_i is proportional to r_i times the sum over
 * spanning trees directed into i of the product of their edge counts (r_i
 * the row totals), all in 128-bit integers, then scaled to ppm rounding
 * down.  A row with no observations (a regime never left yet) is taken as
 * uniform: with no evidence every next regime is alike.  When the chain is
 * reducible so that every tree weight is 0 (two closed classes, e.g. only
 * self-transitions in two regimes) the steady state is not unique and the
 * function returns false.
 *
 * Parameters (all optional):
 *     window     2..1000000 samples   default 100
 *     bull       0.0001..1            default 0.02
 *     bear       0.0001..1            default 0.02  (a return below -bear)
 *     on         quote|trade          default quote
 *     bar_ms     1..86400000          default none: samples are events
 *
 * Bars.  With bar_ms, the samples are the closes of epoch-aligned time
 * bars of that length (strategies/bars.h): built from trades, plus quote
 * mids when on = quote; a bar is taken when the first event past its end
 * arrives; empty intervals make no bar.  `window` then counts bars.
 */
#ifndef FKS_STRATEGIES_MARKOV_H
#define FKS_STRATEGIES_MARKOV_H

#include <stdbool.h>
#include <stdint.h>

#include "strategies/bars.h"
#include "strategies/strategy.h"

struct markov {
	struct strategy_ctx ctx;
	uint32_t window, bull_ppm, bear_ppm;
	enum strategy_source on;
	bool use_bars;
	struct bars bars;
	int64_t first_px2;               /* first sample of the current window */
	uint32_t in_window;              /* samples in the current window */
	enum strategy_regime current;    /* regime of the last complete window */
	uint64_t windows;                /* complete windows */
	uint64_t counts[3][3];           /* [from][to], index = regime - 1 */
};

extern const struct strategy_vtbl markov_vtbl;

/* Transitions counted from `from` to `to` (regimes 1..3). */
uint64_t markov_count(const struct markov *m, enum strategy_regime from, enum strategy_regime to);

/* Steady-state probabilities of BULL, BEAR, SIDEWAYS (in that order, index
 * regime - 1) in ppm, rounded down; false (ppm untouched) when there are no
 * transitions yet or the steady state is not unique. */
bool markov_steady_state(const struct markov *m, uint32_t ppm[3]);

#endif
