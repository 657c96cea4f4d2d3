/*
 * The strategy interface: one implementation per file (sma_cross, rsi_mr,
 * bollinger, asmbtr, markov), all behind this table of functions, and the
 * small helpers they share (parameter parsing, price samples, brackets).
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
 * value is reported against the exact key that carried it (struct fks_param
 * and struct fks_param_error, shm/params.h, as for venues and risk rules).
 */
#ifndef FKS_STRATEGIES_STRATEGY_H
#define FKS_STRATEGIES_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strategies/bars.h"
#include "shm/event.h"
#include "shm/params.h"
#include "strategies/indicators.h"

/* What an instance knows of its instrument and of itself. */
struct strategy_ctx {
	uint32_t instrument;     /* symbol-table id; not 0 */
	uint8_t px_scale, qty_scale;
	uint16_t strategy_id;    /* instance id, written into every signal */
};

/* Regimes, for the Markov filter and whoever it gates. */
enum strategy_regime {
	STRATEGY_REGIME_UNKNOWN = 0,
	STRATEGY_REGIME_BULL = 1,
	STRATEGY_REGIME_BEAR = 2,
	STRATEGY_REGIME_SIDEWAYS = 3,
};

struct strategy_vtbl {
	const char *kind;        /* the config's `kind`: "sma_cross", "asmbtr", ... */
	size_t state_size;

	/* 0, or -1 with *err filled in.  Unknown keys are an error. */
	int (*init)(void *state, const struct strategy_ctx *ctx,
		    const struct fks_param *params, size_t n_params,
		    struct fks_param_error *err);

	/* One market event of the bound instrument (the caller has already
	 * dropped other instruments' events and malformed quotes).  Returns true
	 * with *out filled (side, confidence, prices, strategy, cause_seq =
	 * md->h.seq, and the header's instrument and times copied from md) when
	 * it signals; false leaves *out untouched.  signal_id and h.seq are left
	 * 0: the engine numbers the signals it lets through. */
	bool (*on_market)(void *state, const union fks_event *md, struct fks_ev_signal *out);

	/* A fill of one of this instance's orders.  May be NULL. */
	void (*on_fill)(void *state, const struct fks_ev_fill *fill);

	/* The regime this instance currently believes likeliest next; NULL for
	 * strategies that are not regime filters. */
	enum strategy_regime (*regime)(const void *state);
};

/* The table for a kind, or NULL. */
const struct strategy_vtbl *strategy_find(const char *kind);

/* ---- helpers shared by the implementations --------------------------- */

/* Failing names the key with fks_param_fail (shm/params.h).  The parsers
 * below word their refusals as strategies always have ("<key>: ..."), which
 * configs and sweeps are checked against. */

/* A decimal integer in [lo, hi]; else -1 with err naming p->key. */
int strategy_parse_u32(const struct fks_param *p, uint32_t lo, uint32_t hi,
		       uint32_t *out, struct fks_param_error *err);
/* A decimal fraction ("0.6", "1", ".99") in parts per million, in [lo, hi]
 * ppm; exact (fx_parse at scale 6: a 7th nonzero decimal is an error). */
int strategy_parse_ppm(const struct fks_param *p, uint32_t lo, uint32_t hi,
		       uint32_t *out, struct fks_param_error *err);
/* One of names[0..n); *out is its index. */
int strategy_parse_enum(const struct fks_param *p, const char *const *names, unsigned n,
			unsigned *out, struct fks_param_error *err);

/* Which price a strategy samples. */
enum strategy_source { STRATEGY_ON_QUOTE = 0, STRATEGY_ON_TRADE = 1 };

/*
 * The sample of one market event: for a quote, bid + ask (twice the mid, so
 * that no rounding happens; compare samples with samples only) and the
 * entry prices a buy (ask) and a sell (bid) would take; for a trade, twice
 * its price and its price for both entries.  Returns false when the event is
 * not of the source asked for.
 */
struct strategy_sample {
	int64_t px2;             /* 2 * mid or 2 * trade price */
	int64_t buy_px, sell_px; /* entry prices */
};
bool strategy_sample(const union fks_event *md, enum strategy_source on,
		     struct strategy_sample *s);

/*
 * Take-profit and stop-loss distances, shared by every signalling strategy.
 * Keys: tp_bps, sl_bps (basis points of the entry price, 1..10000) or
 * tp_atr, sl_atr (multiples of an ATR the strategy keeps, 0.1..50, only for
 * strategies that keep one).  Defaults: tp_bps 100, sl_bps 50.
 */
struct strategy_bracket {
	uint32_t tp_bps, sl_bps;        /* 0 when given in ATR */
	uint32_t tp_atr_ppm, sl_atr_ppm;/* multiples * 10^6; 0 when in bps */
};
void strategy_bracket_defaults(struct strategy_bracket *b);
/* 1 if p is a bracket key and was parsed, 0 if it is not one of them,
 * -1 on a bad value (or an ATR key when allow_atr is false). */
int strategy_bracket_param(struct strategy_bracket *b, const struct fks_param *p,
			   bool allow_atr, struct fks_param_error *err);
/*
 * Set tp/sl for a signal on `side` entering at entry.  Distances round
 * down (a bracket is never wider than asked), with a floor of one price
 * unit so that a bracket never sits on the entry.  atr is in price units
 * (ignored for bps brackets).  A stop that would be <= 0 becomes 1.
 */
void strategy_bracket_apply(const struct strategy_bracket *b, uint8_t side, int64_t entry,
			    int64_t atr, int64_t *tp, int64_t *sl);

/* Fill the parts of *out every strategy fills the same way. */
void strategy_signal_init(struct fks_ev_signal *out, const union fks_event *md,
			  const struct strategy_ctx *ctx, uint8_t side, uint32_t confidence,
			  int64_t entry);

/*
 * What the indicator strategies (sma_cross, rsi_mr, bollinger) share: the
 * source (`on`: quote|trade, default quote), optional bars, the bracket
 * keys, and for ATR brackets a Wilder ATR over samples (`bracket_atr`: its
 * period, 1..1000, default 14).
 *
 * Without bars (the default) every valid event of the source is a sample,
 * and the ATR sees it as a bar with high = low = close (so the true range is
 * the absolute change between samples).
 *
 * With bars (`bar: time` with `bar_ms` 1..86400000, or `bar: volume` with
 * `bar_volume`, a quantity > 0 at the instrument's qty_scale, exact), the
 * bars of strategies/bars.h are built from the instrument's TRADES only:
 * quotes never open, move or close a volume bar, and only advance time for
 * time bars (a quote timed at or past a time bar's end closes it).  A sample
 * is produced only on the event that closes a bar: px2 = 2 * close, and both
 * entry prices are the close (a price that traded; the engine's limit entry
 * then never pays more than it).  The ATR gets the bar's true high, low and
 * close.  `on: quote` together with `bar` is an error (naming `on`);
 * `bar_ms` or `bar_volume` without the matching `bar` is an error naming it.
 */
struct strategy_common {
	struct strategy_ctx ctx;
	enum strategy_source on;
	struct strategy_bracket bracket;
	struct ind_atr atr;      /* over doubled prices */
	/* bars: kind 0 = none (ticks); the rest only matter while parsing */
	uint8_t bar_kind;        /* enum bars_kind, or 0 */
	bool on_given;
	uint32_t bar_ms;         /* 0 = not given */
	int64_t bar_volume;      /* 0 = not given */
	struct bars bars;
};
void strategy_common_init(struct strategy_common *c, const struct strategy_ctx *ctx);
/* 1 if p was a common key (parsed), 0 if not one, -1 on a bad value. */
int strategy_common_param(struct strategy_common *c, const struct fks_param *p,
			  struct fks_param_error *err);
/* After the last parameter: checks the keys that depend on each other (the
 * bar keys) and sets up the bars.  0, or -1 with *err naming the key. */
int strategy_common_finish(struct strategy_common *c, struct fks_param_error *err);
/* Without bars: strategy_sample(), and the ATR fed with it.  With bars: true
 * only when md closes a bar, with that bar's close (see above). */
bool strategy_common_sample(struct strategy_common *c, const union fks_event *md,
			    struct strategy_sample *s);
/* A signal on side at the sample's entry price, bracket applied.  False
 * (no signal) while an ATR bracket is asked for and the ATR is not ready. */
bool strategy_common_signal(struct strategy_common *c, const union fks_event *md, uint8_t side,
			    uint32_t confidence, const struct strategy_sample *s,
			    struct fks_ev_signal *out);
/* A strength in [0, 1] (clamped; NaN is 0) as confidence 0.5 + 0.5 * strength,
 * in ppm, rounded down. */
uint32_t strategy_confidence(double strength);

#endif
