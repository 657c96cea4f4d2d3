/*
 * The kernels in lockstep (lockstep.h): the strategy, risk and gateway
 * kernels opened in direct mode (struct stage_direct, stage_int.h) and
 * driven along the topology's edges by direct calls.
 */
#include "pipeline/runtime/lockstep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/runtime/stage_int.h"

/* The kernels lockstep runs, in pipeline order. */
enum { LS_STRATEGY, LS_RISK, LS_GATEWAY, LS_COUNT };
static const enum fks_cfg_stage ls_stage[LS_COUNT] = { FKS_CFG_STRATEGY, FKS_CFG_RISK, FKS_CFG_GATEWAY };

struct lockstep {
	struct fks_config strategy_cfg, cfg;  /* copies: the kernels read them while they run */
	struct run_segment *run;              /* private: the stages' stats blocks, control words all off */
	struct stage_direct direct;
	struct stage_args args[LS_COUNT];
	struct kernel k[LS_COUNT];
	lockstep_tap_fn tap;
	void *ctx;
	char error[200];              /* a kernel failed: the rest is refused */
};

static void ls_tap(void *ctx, enum fks_cfg_stage from, const union fks_event *ev)
{
	struct lockstep *L = ctx;
	L->tap(L->ctx, from, ev);
}

/* A report on a feedback edge reaches the stage that consumes it. */
static void ls_feedback(void *ctx, enum run_ring r, const union fks_event *ev)
{
	struct lockstep *L = ctx;
	relay_apply(L->k[topology[r].consumer == FKS_CFG_STRATEGY ? LS_STRATEGY : LS_RISK].relay, ev);
}

int lockstep_open(struct lockstep **out, const struct lockstep_params *p, char *err, size_t errlen)
{
	*out = NULL;
	struct lockstep *L = calloc(1, sizeof *L);
	if (L)
		L->run = calloc(1, sizeof *L->run);
	if (!L || !L->run) {
		free(L);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	L->strategy_cfg = *p->strategy_cfg;
	L->cfg = *p->cfg;
	L->tap = p->tap;
	L->ctx = p->ctx;
	L->direct = (struct stage_direct){ .tap = ls_tap, .feedback = ls_feedback, .ctx = L,
					   .ev_flags = FKS_EVF_REPLAY, .venue_ctx = p->venue_ctx,
					   .venue_params = p->venue_params, .n_venue_params = p->n_venue_params };
	/* Consumers first, as a runner opens them. */
	for (int i = LS_COUNT - 1; i >= 0; i--) {
		struct kernel *k = &L->k[i];
		struct stage_args *a = &L->args[i];
		a->id = ls_stage[i];
		a->cfg = i == LS_STRATEGY ? &L->strategy_cfg : &L->cfg;
		static const struct kernel_ops *const ops[LS_COUNT] = { &strategy_kernel, &risk_kernel, &gateway_kernel };
		k->ops = ops[i];
		k->s = (struct stage){ .a = a, .run = L->run, .st = &L->run->stage[a->id], .k = k, .direct = &L->direct,
				       .ev_flags = FKS_EVF_REPLAY };
		if (k->ops->open(k)) {
			snprintf(err, errlen, "%s", k->s.st->error);
			k->opened = k->state != NULL;
			lockstep_close(L);
			return -1;
		}
		k->opened = true;
	}
	if (!gateway_direct_venue_is_sync(&L->k[LS_GATEWAY])) {
		snprintf(err, errlen, "%s venue: it answers from sockets or timers, which replay cannot reproduce",
			 L->cfg.venue.type);
		lockstep_close(L);
		return -1;
	}
	*out = L;
	return 0;
}

/* The events a stage sent on for the next one: its relay's staged list,
 * which the caller empties before the stage's turn. */
static void ls_relay_turn(struct relay *r, const union fks_event *const *in, uint32_t n)
{
	relay_unstage(r);
	for (uint32_t i = 0; i < n; i++)
		relay_main_event(r, in[i], (uint64_t)in[i]->h.recv_time_ns);
}

/* A kernel that failed (stage_fail), or a relay that had to drop what it
 * staged: as in a runner, the stage is over, and so is the replay. */
static bool ls_failed(struct lockstep *L)
{
	for (int i = 0; i < LS_COUNT; i++) {
		struct kernel *k = &L->k[i];
		if (k->relay && k->relay->staging_overflow && !k->s.st->error[0])
			stage_fail(&k->s, "one event caused more than %d output events", RELAY_MAX_OUT);
		if (atomic_load_explicit(&k->s.st->state, memory_order_relaxed) == STAGE_FAILED) {
			snprintf(L->error, sizeof L->error, "%s: %s", config_stage_name(k->s.a->id), k->s.st->error);
			return true;
		}
	}
	return false;
}

const char *lockstep_error(struct lockstep *L)
{
	return L->error[0] || ls_failed(L) ? L->error : NULL;
}

int lockstep_market(struct lockstep *L, const union fks_event *md)
{
	if (L->error[0])
		return -1;
	struct relay *strategy = L->k[LS_STRATEGY].relay, *risk = L->k[LS_RISK].relay;
	relay_unstage(strategy);
	relay_main_event(strategy, md, (uint64_t)md->h.recv_time_ns);
	/* The strategy's staged list stays put while risk runs: feedback,
	 * which reaches the strategy during the gateway's turn, stages
	 * nothing (it answers market events only). */
	ls_relay_turn(risk, strategy->staged, strategy->n_staged);
	for (uint32_t i = 0; i < risk->n_staged; i++)
		gateway_direct_event(&L->k[LS_GATEWAY], risk->staged[i], (uint64_t)risk->staged[i]->h.recv_time_ns);
	/* Only a relay's staging can fail on the way (the live stage's
	 * relay_main_batch checks the same); lockstep_error looks at the
	 * rest. */
	if (__builtin_expect(strategy->staging_overflow | risk->staging_overflow, 0))
		return ls_failed(L) ? -1 : 0;
	return 0;
}

void lockstep_finish(struct lockstep *L)
{
	gateway_direct_finish(&L->k[LS_GATEWAY]);
}

uint8_t lockstep_order_side(struct lockstep *L, uint64_t order_id)
{
	return gateway_direct_order_side(&L->k[LS_GATEWAY], order_id);
}

void lockstep_stage_event(struct lockstep *L, enum fks_cfg_stage stage, const union fks_event *ev, uint64_t now)
{
	struct relay *r = L->k[stage == FKS_CFG_STRATEGY ? LS_STRATEGY : LS_RISK].relay;
	relay_unstage(r);
	relay_main_event(r, ev, now);
}

void lockstep_stage_apply(struct lockstep *L, enum fks_cfg_stage stage, const union fks_event *report)
{
	relay_apply(L->k[stage == FKS_CFG_STRATEGY ? LS_STRATEGY : LS_RISK].relay, report);
}

void lockstep_close(struct lockstep *L)
{
	if (!L)
		return;
	/* The gateway first: nothing may reach a closed strategy or risk. */
	for (int i = LS_COUNT - 1; i >= 0; i--)
		if (L->k[i].opened)
			L->k[i].ops->close(&L->k[i]);
	free(L->run);
	free(L);
}
