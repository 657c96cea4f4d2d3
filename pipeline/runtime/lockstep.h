/*
 * The pipeline's kernels in lockstep, in one process: how `fks replay`
 * runs the same strategy, risk and gateway kernels as `fks run`, with
 * direct calls along the edges of the topology (topology.h) where the live
 * pipeline has rings.  The input (replay's journal or recording reader)
 * takes the feed's place; the caller's tap takes the journal's.
 *
 * For each market event (lockstep_market):
 *   1. the strategy kernel handles it, and taps what it makes (signals,
 *      orders, cancels), numbered in its one sequence;
 *   2. the risk kernel handles what the strategy sent on, in order: the
 *      market event, then each order or cancel; a refused order becomes a
 *      risk reject, tapped and sent on;
 *   3. the gateway kernel handles what risk sent on: the market event and
 *      the orders to the venue, the risk rejects back to the strategy.
 *   Each execution report is tapped, then delivered at once along the
 *   feedback edges, to the strategy and then to risk, each tapping an
 *   FKS_EV_APPLIED marker: every report is applied before the next market
 *   event, as early as the live pipeline could apply it.
 *
 * Each stage's clock is the receive time of the event it handles and no
 * wall clock is read, so the output is a function of the input.  Every
 * event the kernels make carries FKS_EVF_REPLAY.
 */
#ifndef FKS_PIPELINE_LOCKSTEP_H
#define FKS_PIPELINE_LOCKSTEP_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/config/config.h"
#include "shm/event.h"

struct venue_ctx;
struct lockstep;

/* An event a kernel tapped: ev holds fks_event_size(ev->h.type) valid
 * bytes (not always a whole union), and lives only during the call. */
typedef void (*lockstep_tap_fn)(void *ctx, enum fks_cfg_stage from, const union fks_event *ev);

struct lockstep_params {
	const struct fks_config *strategy_cfg; /* the strategy kernel's (replay's --strategy specs) */
	const struct fks_config *cfg;          /* risk's and the gateway's */
	/* The venue with this context and these parameters instead of cfg's
	 * section (replay's fill-model knobs); venue_ctx NULL: cfg's. */
	const struct venue_ctx *venue_ctx;
	const struct fks_param *venue_params;
	size_t n_venue_params;
	lockstep_tap_fn tap;
	void *ctx;
};

/* Open the three kernels.  A venue that answers from sockets or timers
 * cannot run in lockstep and is refused.  0, or -1 with a message. */
int lockstep_open(struct lockstep **out, const struct lockstep_params *p, char *err, size_t errlen);
/* One market event through strategy, risk and gateway (above): 0, or -1
 * once a kernel failed (lockstep_error says why; nothing more is handled:
 * the live stage would have stopped there too). */
int lockstep_market(struct lockstep *L, const union fks_event *md);
/* Why a kernel failed, or NULL. */
const char *lockstep_error(struct lockstep *L);
/* End of input: the gateway cancels what is open at the venue. */
void lockstep_finish(struct lockstep *L);
/* The side of an order the venue knows (a fill carries none); 0 if none. */
uint8_t lockstep_order_side(struct lockstep *L, uint64_t order_id);
void lockstep_close(struct lockstep *L);

/* One stage at a time, for `fks replay --verify`, which applies a live
 * journal's reports where its markers say rather than where lockstep
 * would: stage handles one main-line event with its clock at now (what it
 * sends on is dropped; what it taps reaches the tap), or applies one
 * execution report.  stage: FKS_CFG_STRATEGY or FKS_CFG_RISK. */
void lockstep_stage_event(struct lockstep *L, enum fks_cfg_stage stage, const union fks_event *ev, uint64_t now);
void lockstep_stage_apply(struct lockstep *L, enum fks_cfg_stage stage, const union fks_event *report);

#endif
