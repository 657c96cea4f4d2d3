/*
 * The signal-to-order engine: strategy instances in, signals and order
 * intents out.  Both the live strategy stage and `fks replay` run it, so it
 * is a pure function of the sequence of calls it gets: market events
 * (engine_on_market) and execution reports (engine_on_exec), in the order
 * they were applied.  No clock, no I/O, no allocation after setup, no
 * floating point in prices or quantities.
 *
 * Instances.  engine_add() creates one strategy instance (strategy.h) bound
 * to one instrument, from text parameters.  The engine takes its own keys
 * out of the list (below) and hands the rest to the strategy, so an unknown
 * key is reported by the strategy, naming it.  Each market event goes to the
 * instances of its instrument, in the order they were added.
 *
 * Engine keys, per instance (all optional):
 *   min_confidence  0..1             0.6    signals below are dropped, counted
 *   gate            instance name           a regime filter added earlier
 *   gate_mode       strict|against   strict strict: buy only when BULL is the
 *                                           likeliest next regime, sell only
 *                                           when BEAR; against: buy unless BEAR,
 *                                           sell unless BULL is likeliest
 *   sizing          fixed|risk|atr   risk   sizing.h
 *   risk            0.0001..0.1      0.01   share of equity at risk per trade
 *   fraction        0.0001..1        0.1    fixed: share of equity as notional
 *   atr_mult        0.1..50          2      atr: stop = entry -+ atr_mult ATRs
 *   atr_period      1..1000          14     atr: Wilder ATR over samples (the
 *                                           instrument's quote mids and trades)
 *   order_type      limit|market     limit  entries: limit GTC at the signal's
 *                                           entry price, or market IOC
 *   max_positions   1..8             1      open positions per direction
 *   lot             decimal qty      one qty unit   sizes round down to it
 *   max_qty         decimal qty      none   cap on one entry
 *
 * From signal to order, in this order, each refusal counted:
 *   1. confidence < min_confidence: dropped (low_confidence)
 *   2. the gate refuses (gated)
 *   -- the signal is numbered (signal_id 1, 2, ... per engine) and emitted
 *   3. an opposite position is open on the instrument: it is closed (exit
 *      orders for every open lot, exits_opposite) and nothing new is opened
 *   4. max_positions lots of this side open already (position_limit)
 *   5. a lot of this side is losing at the signal's entry price: a buy below
 *      the average entry of an open long, a sell above that of a short
 *      (averaging_down).  Adding to a winner is allowed up to max_positions.
 *   6. sizing gives no quantity (size_zero); no free lot slot (no_slot)
 *   7. an entry order_new: order_id = order_id_base + n (n = 1, 2, ... over
 *      every order the engine sends), signal_id, the signal's TP and SL.
 *
 * Positions are lots: one entry order, its fills, and the exits of them.
 * Brackets: on every valid market event of the instrument, each lot with
 * filled quantity is checked against its TP and SL at the price it would
 * exit at (bid for a long, ask for a short; a trade's price):
 *     long:  bid >= TP (take profit) or bid <= SL (stop loss)
 *     short: ask <= TP               or ask >= SL
 * A touched lot is closing: its entry order is cancelled if still working
 * (order_cancel), and an exit order for filled - exited is sent at the
 * touch, as a limit IOC (or market IOC with order_type market), carrying the
 * lot's signal_id.  Whatever an exit leaves unfilled (IOC remainder, reject)
 * is sent again on the next market event, up to ENGINE_EXIT_RETRIES
 * refusals in a row (then exit_abandoned, and the lot stays open).  A lot
 * closes when its entry order is done and exits equal fills; its P&L
 * (exit value - entry value, sign by side) is then realised.
 *
 * Equity = start equity + realised P&L: per instrument the P&L is kept
 * exactly as sum(px * qty) (scale px_scale + qty_scale) and converted to
 * equity_scale rounding down.
 *
 * Output, through emit(): FKS_EV_SIGNAL, FKS_EV_ORDER_NEW and
 * FKS_EV_ORDER_CANCEL, with h.source STRATEGY, h.seq 1, 2, ... over
 * everything the engine emits, h.instrument and both times copied from the
 * market event that caused them (so tick-to-trade is measured from it), and
 * signal.cause_seq = that event's h.seq.
 *
 * Bad input: market events with a non-positive or crossed quote, or a
 * non-positive trade price, are counted (bad_market) and reach neither
 * strategies nor brackets.  Execution reports for unknown order ids are
 * counted (unknown_exec).
 */
#ifndef FKS_STRATEGIES_ENGINE_H
#define FKS_STRATEGIES_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/event.h"
#include "strategies/indicators.h"
#include "strategies/sizing.h"
#include "strategies/strategy.h"

#define ENGINE_MAX_INSTANCES 32
#define ENGINE_MAX_INSTRUMENTS 64
#define ENGINE_MAX_LOTS 8           /* per instrument, both sides */
#define ENGINE_NAME_MAX 32
#define ENGINE_EXIT_RETRIES 8

typedef void (*engine_emit_fn)(void *user, const union fks_event *ev);

struct engine_params {
	int64_t equity;                 /* starting equity at equity_scale; > 0 */
	uint8_t equity_scale;           /* 0..18 */
	uint64_t order_id_base;
};

struct engine_counters {
	uint64_t market_events;         /* valid ones, of instruments with instances */
	uint64_t bad_market;
	uint64_t signals;               /* produced by strategies */
	uint64_t low_confidence;
	uint64_t gated;
	uint64_t signals_emitted;
	uint64_t exits_opposite;        /* lots closed by an opposite signal */
	uint64_t position_limit;
	uint64_t averaging_down;
	uint64_t size_zero;
	uint64_t no_slot;
	uint64_t entries;               /* entry orders sent */
	uint64_t exits_tp, exits_sl;    /* lots whose bracket fired */
	uint64_t exit_orders;           /* exit orders sent, retries included */
	uint64_t cancels;               /* order_cancel sent */
	uint64_t exit_abandoned;
	uint64_t fills;
	uint64_t rejects;               /* venue rejects, risk rejects */
	uint64_t unknown_exec;
	uint64_t overfills;             /* a fill larger than the order's leaves */
	uint64_t lots_closed;
};

enum engine_exit_reason { ENGINE_EXIT_NONE = 0, ENGINE_EXIT_TP, ENGINE_EXIT_SL, ENGINE_EXIT_OPPOSITE };

/* One position: private to engine.c, visible for tests. */
struct engine_lot {
	bool used;
	uint8_t side;                   /* of the entry */
	uint8_t exit_reason;            /* enum engine_exit_reason; set: closing */
	uint8_t exit_refusals;          /* in a row */
	bool entry_working, exit_working, cancel_sent;
	uint16_t inst;                  /* instance slot that opened it */
	uint64_t signal_id;
	int64_t entry_px, tp, sl;
	uint64_t entry_id, exit_id;
	int64_t entry_leaves, exit_leaves;
	int64_t filled, exited;
	__int128 entry_value, exit_value;   /* sum of px * qty */
};

struct engine_instrument {
	uint32_t id;                    /* 0: free */
	uint8_t px_scale, qty_scale;
	bool atr_wanted;
	struct ind_atr atr;             /* of 2 * mid samples, for sizing atr */
	__int128 realized;              /* px * qty units */
	struct engine_lot lot[ENGINE_MAX_LOTS];
};

struct engine_inst {
	char name[ENGINE_NAME_MAX];
	const struct strategy_vtbl *vt;
	void *state;                    /* vt->state_size bytes, from engine_add */
	struct strategy_ctx ctx;
	uint16_t slot_instr;            /* index into engine.instr */
	int16_t gate;                   /* instance slot, -1: none */
	bool gate_against;
	uint8_t order_type;
	uint32_t min_conf, max_positions;
	struct sizing_params sizing;
};

struct engine {
	struct engine_params p;
	engine_emit_fn emit;
	void *user;
	uint64_t out_seq, signal_seq, orders_sent;
	uint32_t n_inst, n_instr;
	struct engine_inst inst[ENGINE_MAX_INSTANCES];
	struct engine_instrument instr[ENGINE_MAX_INSTRUMENTS];
	struct engine_counters c;
};

/* Set up e (about 45 KiB: keep it off small stacks).  -1 when equity <= 0
 * or equity_scale > 18. */
int engine_init(struct engine *e, const struct engine_params *p, engine_emit_fn emit,
		void *user);
/* Release the instances' states. */
void engine_free(struct engine *e);

/*
 * Add an instance named `name` (unique, 1..31 chars) of strategy `kind`.
 * 0, or -1 with *err naming the key at fault (NULL for the kind, the name,
 * the instrument, or a full engine).  The state is allocated here, once.
 */
int engine_add(struct engine *e, const char *name, const char *kind,
	       const struct strategy_ctx *ctx, const struct fks_param *params,
	       size_t n_params, struct fks_param_error *err);

/* The same with the strategy's table given directly (a strategy that is not
 * in the registry: tests, experiments). */
int engine_add_vtbl(struct engine *e, const char *name, const struct strategy_vtbl *vt,
		    const struct strategy_ctx *ctx, const struct fks_param *params,
		    size_t n_params, struct fks_param_error *err);

/* Feed one market event (any type, any instrument). */
void engine_on_market(struct engine *e, const union fks_event *md);
/* Feed one execution report: fill, order_ack, order_reject, cancel_ack,
 * risk_reject; anything else is ignored. */
void engine_on_exec(struct engine *e, const union fks_event *ev);

/* Start equity + realised P&L, at equity_scale. */
int64_t engine_equity(const struct engine *e);
/* Net filled position of an instrument (filled - exited, signed by side). */
int64_t engine_position(const struct engine *e, uint32_t instrument);
/* Lots in use on an instrument. */
unsigned engine_open_lots(const struct engine *e, uint32_t instrument);
/* An instance by name, or NULL. */
const struct engine_inst *engine_instance(const struct engine *e, const char *name);

#endif
