/*
 * The risk rule interface: one family of rules per file (rules_guard.c,
 * rules_limits.c, rules_stale.c), each rule a table of functions, found by
 * name in one registry (rule.c).  The runner (risk.h) applies them.
 *
 * A rule is initialised once from text parameters (straight from the
 * config's risk.rules[i].params), checks one order against a read-only view
 * of the runner's state, and may follow market data and execution reports.
 * A failing check returns the rule's reason (shm/reasons.h gives its name
 * and the units of limit and value), the limit and the observed value.
 *
 * Rules every implementation keeps, because replay depends on them:
 *  - a pure function of what it is fed: no clock (time is view->now_ns), no
 *    I/O, no random source;
 *  - no allocation: the state is a plain struct of `state_size` bytes that
 *    the runner provides, zeroed, inside struct risk;
 *  - O(1) work per order and per event.
 *
 * Parameters are checked by the rule itself, against the exact key (struct
 * fks_param and struct fks_param_error, shm/params.h): the config loader
 * needs no knowledge of any rule, and reports a refused value at its own
 * file, line and column.
 */
#ifndef FKS_GATEWAY_RISK_RULE_H
#define FKS_GATEWAY_RISK_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/position.h"
#include "shm/event.h"
#include "shm/params.h"

#define RISK_MAX_INSTRUMENTS 64
#define RISK_MAX_QTY_SCALE 18

/* An instrument the runner checks orders for. */
struct risk_instrument_def {
	uint32_t id;              /* symbol-table id; not 0, unique */
	uint8_t px_scale;         /* 0..RISK_MAX_QTY_SCALE */
	uint8_t qty_scale;        /* 0..RISK_MAX_QTY_SCALE */
	char symbol[FKS_SYMBOL_MAX]; /* for messages; may be "" */
};

/* What a rule knows at init. */
struct risk_rule_ctx {
	uint32_t n_instruments;
	const struct risk_instrument_def *instrument; /* the runner's index order */
	int64_t equity;           /* account equity at equity_scale; 0: not given */
	uint8_t equity_scale;
};

/* Why the runner refused a setup: which rule (its index in the setup's rule
 * list), and the key at fault (NULL when none) and a sentence. */
struct risk_error {
	uint32_t rule;
	struct fks_param_error why;
};

/* The runner's book of one instrument, as rules see it. */
struct risk_book {
	struct position position; /* of the fills (no fees); .qty signed, qty_scale */
	int64_t open_buy, open_sell; /* open quantity of orders that passed */
	int64_t mark_px;          /* last trade, or quote mid; 0 before any */
	int64_t qty_unit;         /* 10^qty_scale */
};

/*
 * Read-only, built by the runner for one order.  inst, def and book are
 * set once the order names a known instrument; bad_order, which always runs
 * before the configurable rules, refuses an order without one, so those
 * rules may rely on them.
 */
struct risk_view {
	int64_t now_ns;           /* the caller's time, same clock as h.recv_time_ns */
	int64_t equity;           /* as in the ctx */
	uint32_t n_open;          /* orders open across all instruments */
	bool kill, feed_stale;    /* the runner's switches */
	bool already_open;        /* the order id is open here */
	int inst;                 /* instrument index, -1 when unknown */
	const struct risk_instrument_def *def;
	const struct risk_book *book;
};

struct risk_rule_vtbl {
	const char *name;         /* the config's `rule:` */
	enum fks_risk_reason reason;
	size_t state_size;        /* bytes, at most RISK_RULE_STATE_MAX */
	/* Always applied by the runner in a fixed place, never named in a
	 * config: the checks that protect the order path itself. */
	bool pinned;

	/* 0, or -1 with *err filled in (the runner adds the rule's index).
	 * Unknown keys are an error (fks_param_unknown). */
	int (*init)(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
		    size_t n_params, struct fks_param_error *err);
	/* FKS_RISK_OK, or vtbl.reason with *limit and *value set. */
	enum fks_risk_reason (*check)(const void *state, const struct risk_view *v,
				      const struct fks_ev_order_new *o, int64_t *limit, int64_t *value);
	/* A market event (quote or trade) of any instrument.  May be NULL. */
	void (*on_market)(void *state, const union fks_event *md);
	/* An execution report, after the runner has applied it.  May be NULL. */
	void (*on_exec)(void *state, const union fks_event *ev, const struct risk_view *v);
};

#define RISK_RULE_STATE_MAX 4096

/* The table for a name (built-in, then registered), or NULL. */
const struct risk_rule_vtbl *risk_rule_find(const char *name);
/* Add a rule to the registry at start-up, before any risk_init_rules (tests
 * and out-of-tree builds; built-in rules are one line in rule.c).  0, or -1
 * when the name is taken, the table is malformed or the registry is full. */
int risk_rule_register(const struct risk_rule_vtbl *vt);

/* The pinned rules, by the runner's order. */
extern const struct risk_rule_vtbl risk_rule_kill_switch, risk_rule_bad_order, risk_rule_feed_dead,
	risk_rule_throttle;

/* ---- helpers for implementations ------------------------------------- */

/* Failing, unknown keys and integers: shm/params.h (fks_param_fail,
 * fks_param_unknown, fks_param_u32).  Limits are the rules' own: */
/* A decimal resolved exactly at every instrument's scale (px_scale when
 * money, else qty_scale) into out[0 .. n_instruments); must be > 0, or >= 0
 * when zero_ok. */
int risk_parse_limit(const struct fks_param *p, const struct risk_rule_ctx *ctx, bool money,
		     bool zero_ok, int64_t *out, struct fks_param_error *err);

/* v saturated to int64. */
static inline int64_t risk_saturate(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

#endif
