/*
 * The risk stage: every order checked by gateway/risk before it reaches
 * the gateway; a refused order becomes a risk reject.  Every call into
 * gateway/risk of the live pipeline is in this file.
 */
#include <stdlib.h>

#include "pipeline/runtime/stage_int.h"
#include "gateway/risk/risk.h"

static void risk_publish_positions(struct relay *r)
{
	struct risk *R = r->logic;
	for (uint32_t id = 1; id <= r->s->a->cfg->n_instruments; id++) {
		int64_t pos, ob, os;
		if (risk_exposure(R, id, &pos, &ob, &os))
			atomic_store_explicit(&r->s->st->position[id], pos, memory_order_relaxed);
	}
}

static void risk_on_feedback(struct relay *r, const union fks_event *ev)
{
	struct risk *R = r->logic;
	if (!ev) { /* control words changed */
		if (stage_control_on(&r->s->run->control.kill))
			risk_set_kill(R, true);
		if (stage_control_on(&r->s->run->control.feed_dead))
			risk_set_feed_stale(R, true);
		return;
	}
	risk_on_exec(R, ev);
	if (ev->h.type == FKS_EV_FILL) {
		stats_add(&r->s->st->counter[CTR_FILLS], 1);
		risk_publish_positions(r);
	}
}

/* Out of line: most events are market data, which should not pay to set
 * up the reject's frame. */
static __attribute__((noinline)) void risk_on_order(struct relay *r, const union fks_event *ev, uint64_t now)
{
	struct risk *R = r->logic;
	stats_add(&r->s->st->counter[CTR_ORDERS], 1);
	int64_t limit = 0, value = 0;
	enum fks_risk_reason why = risk_check_order(R, &ev->order_new, (int64_t)now, &limit, &value);
	if (why == FKS_RISK_OK) {
		relay_pass(r, ev);
		stats_add(&r->s->st->counter[CTR_RISK_PASSED], 1);
	} else {
		struct fks_ev_risk_reject rej;
		risk_build_reject(&ev->order_new, why, limit, value, ++r->seq, &rej);
		relay_stage(r, &rej);
		tap_put(&r->tap, &rej);
		stats_add(&r->s->st->counter[CTR_RISK_REJECTED], 1);
		if (why < FKS_RISK_REASON_SLOTS)
			stats_add(&r->s->st->reject_reason[why], 1);
	}
	if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
		hist_record(&r->s->st->latency, now - (uint64_t)ev->h.recv_time_ns);
}

static void risk_on_main(struct relay *r, const union fks_event *ev, uint64_t now)
{
	if (ev->h.type == FKS_EV_ORDER_NEW) {
		risk_on_order(r, ev, now);
		return;
	}
	risk_on_market(r->logic, ev); /* marks, for the rules that read them */
	relay_forward(r, ev, now); /* market data, and cancels: nothing to check */
}

/* The risk stage's state. */
struct risk_stage {
	struct risk risk;
	struct relay relay;
};

/* The rules from the config: the one init of the live risk. */
static int risk_stage_init(struct stage *s, struct risk_stage *R)
{
	struct risk_error err;
	if (config_build_risk(s->a->cfg, &R->risk, &err) != 0)
		return stage_fail(s, "risk: %s", err.why.msg);
	return 0;
}

static int risk_open(struct kernel *k)
{
	struct risk_stage *R = calloc(1, sizeof *R);
	if (!R)
		return stage_fail(&k->s, "out of memory");
	k->state = R;
	if (risk_stage_init(&k->s, R))
		return 1;
	k->relay = &R->relay;
	R->relay.on_main = risk_on_main;
	R->relay.on_feedback = risk_on_feedback;
	R->relay.logic = &R->risk;
	return relay_open(&k->s, &R->relay, RUN_RING_ORDERS, RUN_RING_EXEC_RISK, RUN_RING_RISK_OUT,
			  RUN_RING_TAP_RISK);
}

static int risk_poll(struct kernel *k, uint64_t now)
{
	return relay_poll(&((struct risk_stage *)k->state)->relay, now);
}

static int risk_close(struct kernel *k)
{
	struct risk_stage *R = k->state;
	if (!R)
		return 1;
	int rc = relay_close(&R->relay);
	free(R);
	k->state = NULL;
	return rc;
}

const struct kernel_ops risk_kernel = { .open = risk_open, .poll = risk_poll, .close = risk_close };
