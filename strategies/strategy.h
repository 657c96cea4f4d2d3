/*
 * The strategy interface: one implementation per file (ma_cross, rsi,
 * bollinger, asmbtr, markov), all behind this table of functions.
 *
 * A strategy instance is bound to one instrument.  It is fed that
 * instrument's market events and its own fills, in arrival order, and may
 * answer a market event with one signal: a side, a confidence in [0, 1]
 * (fixed point, FKS_CONF_ONE is 1.0), an entry price, and optionally a
 * take-profit and a stop-loss.  Turning signals into orders (minimum
 * confidence, regime gating, sizing, brackets) is the engine's job, not the
 * strategy's (strategies/engine.h).
 *
 * Rules every implementation keeps, because replay depends on them:
 *  - a pure function of the events fed: no clock, no I/O, no random source
 *    except one seeded from its parameters;
 *  - no allocation after init: the state is a plain struct of `state_size`
 *    bytes that the caller provides (zeroed);
 *  - O(1) work per market event.
 *
 * Parameters arrive as text key/value pairs, straight from the config (or
 * from `fks replay --sweep`), and each strategy parses and range-checks its
 * own.  So the config loader needs no knowledge of any strategy, and a bad
 * value is reported against the exact key that carried it.
 */
#ifndef FKS_STRATEGIES_STRATEGY_H
#define FKS_STRATEGIES_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct strategy_param {
	const char *key;
	const char *value;       /* as written in the config, NUL-terminated */
};

/* What an instance knows of its instrument and of itself. */
struct strategy_ctx {
	uint32_t instrument;     /* symbol-table id; not 0 */
	uint8_t px_scale, qty_scale;
	uint16_t strategy_id;    /* instance id, written into every signal */
};

/* Why init refused: the key at fault (NULL when none) and a sentence. */
struct strategy_error {
	const char *key;
	char msg[160];
};

/* Regimes, for the Markov filter and whoever it gates. */
enum strategy_regime {
	STRATEGY_REGIME_UNKNOWN = 0,
	STRATEGY_REGIME_BULL = 1,
	STRATEGY_REGIME_BEAR = 2,
	STRATEGY_REGIME_SIDEWAYS = 3,
};

struct strategy_vtbl {
	const char *kind;        /* the config's `kind`: "ma_cross", "rsi", ... */
	size_t state_size;

	/* 0, or -1 with *err filled in.  Unknown keys are an error. */
	int (*init)(void *state, const struct strategy_ctx *ctx,
		    const struct strategy_param *params, size_t n_params,
		    struct strategy_error *err);

	/* One market event of the bound instrument.  Returns true with *out
	 * filled (signal_id, side, confidence, prices, cause_seq, and the header
	 * copied from md) when it signals; false leaves *out untouched. */
	bool (*on_market)(void *state, const union fks_event *md, struct fks_ev_signal *out);

	/* A fill of one of this instance's orders.  May be NULL. */
	void (*on_fill)(void *state, const struct fks_ev_fill *fill);

	/* The regime this instance currently believes in; NULL for strategies
	 * that are not regime filters. */
	enum strategy_regime (*regime)(const void *state);
};

/* The table for a kind, or NULL. */
const struct strategy_vtbl *strategy_find(const char *kind);

#endif
