/*
 * The strategy stage: signal_logic (the config's strategies) on the market
 * data, its orders and cancels on to risk, and the execution reports back.
 */
#include <stdlib.h>

#include "pipeline/runtime/stage_int.h"
#include "pipeline/runtime/signal_logic.h"

/* What the strategy logic emits: signals go to the journal only; orders and
 * cancels go on to risk, and to the journal.  All carry the stage's one
 * sequence, whichever instance made them. */
static void strategy_emit(void *ctx, const union fks_event *ev)
{
	struct relay *r = ctx;
	union fks_event copy;
	stage_copy_event(&copy, ev);
	copy.h.seq = ++r->seq;
	copy.h.source = FKS_STAGE_STRATEGY;
	copy.h.flags |= r->s->ev_flags;
	if (copy.h.type != FKS_EV_SIGNAL) {
		relay_stage(r, &copy);
		if (copy.h.type == FKS_EV_ORDER_NEW)
			stats_add(&r->s->st->counter[CTR_ORDERS], 1);
	}
	tap_put(&r->tap, &copy);
}

static void strategy_on_feedback(struct relay *r, const union fks_event *ev)
{
	if (!ev)
		return;
	signal_logic_on_exec(r->logic, ev);
	if (ev->h.type == FKS_EV_FILL)
		stats_add(&r->s->st->counter[CTR_FILLS], 1);
}

static void strategy_on_main(struct relay *r, const union fks_event *ev, uint64_t now)
{
	relay_forward(r, ev, now);
	signal_logic_on_market(r->logic, ev);
}

/* The strategy stage's state: large, so allocated, never on the stack. */
struct strategy_stage {
	struct signal_logic logic;
	bool logic_ready;
	struct relay relay;
};

static int strategy_open(struct kernel *k)
{
	struct stage *s = &k->s;
	struct strategy_stage *S = calloc(1, sizeof *S);
	if (!S)
		return stage_fail(s, "out of memory");
	k->state = S;
	struct relay *r = &S->relay;
	k->relay = r;
	r->on_main = strategy_on_main;
	r->on_feedback = strategy_on_feedback;
	char err[256];
	if (signal_logic_init(&S->logic, s->a->cfg, strategy_emit, r, err, sizeof err))
		return stage_fail(s, "%s", err);
	S->logic_ready = true;
	r->logic = &S->logic;
	return relay_open(s, r, RUN_RING_MD, RUN_RING_EXEC_STRATEGY, RUN_RING_ORDERS, RUN_RING_TAP_STRATEGY);
}

static int strategy_poll(struct kernel *k, uint64_t now)
{
	return relay_poll(&((struct strategy_stage *)k->state)->relay, now);
}

static int strategy_close(struct kernel *k)
{
	struct strategy_stage *S = k->state;
	if (!S)
		return 1;
	int rc = relay_close(&S->relay);
	if (S->logic_ready)
		signal_logic_free(&S->logic);
	free(S);
	k->state = NULL;
	return rc;
}

const struct kernel_ops strategy_kernel = { .open = strategy_open, .poll = strategy_poll, .close = strategy_close };
