/*
 * The loop of the strategy and risk stages (struct relay, stage_int.h): a
 * main input, a feedback input of execution reports, a main output, and
 * the stage's tap.  The stage supplies on_main and on_feedback.
 */
#include "pipeline/runtime/stage_int.h"
#include "shm/event_build.h"

/* Journal where this stage applied an execution report (FKS_EV_APPLIED). */
static void relay_mark_applied(struct relay *r, const union fks_event *ev)
{
	union fks_event m; /* a union: the tap reads it as one */
	struct fks_event_hdr h;
	fks_hdr_from_cause(&h, FKS_EV_APPLIED,
			   r->s->a->id == FKS_CFG_STRATEGY ? FKS_STAGE_STRATEGY : FKS_STAGE_RISK, ++r->seq, &ev->h);
	h.flags = r->s->ev_flags;
	fks_build_applied(&m.applied, &h, &ev->h, r->main_pos);
	tap_put(&r->tap, &m);
}

void relay_apply(struct relay *r, const union fks_event *ev)
{
	r->on_feedback(r, ev);
	relay_mark_applied(r, ev);
}

/* Apply every execution report waiting; how many. */
static int relay_drain_feedback(struct relay *r)
{
	int k, total = 0;
	while ((k = (int)ring_try_peek(&r->feedback, BATCH)) > 0) {
		total += k;
		for (int i = 0; i < k; i++) {
			relay_apply(r, ring_rslot(&r->feedback, (uint32_t)i));
		}
		ring_release(&r->feedback, (uint32_t)k);
		tap_flush(&r->tap);
		stats_add(&r->s->st->events_in, (uint64_t)k);
		stats_add(&r->s->st->counter[CTR_EXEC_IN], (uint64_t)k);
	}
	return total;
}

/* Claim n output slots, draining feedback while the output is full. */
static int relay_claim(struct relay *r, uint32_t n)
{
	for (;;) {
		if (ring_try_claim(&r->out, n) == n)
			return (int)n;
		/* Before waiting, hand the journal what this batch tapped so far:
		 * with journal.write_ahead the gateway holds each order until it
		 * is committed, so an order kept in an unpublished tap slot while
		 * we wait for the gateway's side to drain would wait forever. */
		tap_flush(&r->tap);
		relay_drain_feedback(r);
		stats_add(&r->s->st->counter[CTR_OUT_WAIT_DRAINS], 1);
		int k = stage_claim(r->s, &r->out, n, 1000000); /* re-check feedback every ms */
		if (k == (int)n)
			return k;
		if (k != RING_E_TIMEOUT)
			return k;
		stage_beat(r->s, stage_now_ns());
	}
}

static void relay_close_out(struct relay *r)
{
	if (!r->out_closed) {
		ring_producer_detach(&r->out);
		r->out_closed = true;
		if (atomic_load_explicit(&r->s->st->state, memory_order_acquire) == STAGE_RUNNING)
			atomic_store_explicit(&r->s->st->state, STAGE_DRAINING, memory_order_release);
	}
}

void relay_stage(struct relay *r, const void *ev)
{
	if (r->n_staged == RELAY_MAX_OUT) {
		r->staging_overflow = true;
		return;
	}
	union fks_event *slot = &r->made[r->n_made++];
	stage_copy_event(slot, ev);
	r->staged[r->n_staged++] = slot;
}

/* One batch of the main input: events handled, or -1 after stage_fail. */
static int relay_main_batch(struct relay *r)
{
	int k = (int)ring_try_peek(&r->main_in, BATCH);
	if (k <= 0)
		return 0;
	uint64_t t_busy = stage_now_ns();
	uint32_t used = 0;
	for (int i = 0; i < k; i++) {
		relay_unstage(r);
		relay_main_event(r, ring_rslot(&r->main_in, (uint32_t)i), t_busy);
		if (r->staging_overflow)
			return -stage_fail(r->s, "one event caused more than %d output events", RELAY_MAX_OUT);
		for (uint32_t j = 0; j < r->n_staged; j++) {
			if (used == r->out.claimed) {
				/* Out of claimed room: publish what is written, then
				 * claim for the rest of this event and, if it fits,
				 * one slot per event left in the batch. */
				if (used) {
					ring_publish(&r->out, used);
					stats_add(&r->s->st->events_out, used);
					used = 0;
				}
				uint32_t cap = (uint32_t)(r->out.mask + 1);
				uint32_t want = r->n_staged - j + (uint32_t)(k - 1 - i);
				int claimed = relay_claim(r, want < cap ? want : cap);
				if (claimed < 0)
					return -stage_fail(r->s, "output ring %s", ring_strerror(claimed));
			}
			stage_copy_event(ring_wslot(&r->out, used++), r->staged[j]);
		}
	}
	ring_publish(&r->out, used);
	ring_release(&r->main_in, (uint32_t)k);
	tap_flush(&r->tap);
	uint64_t t_end = stage_now_ns();
	struct stage_stats *st = r->s->st;
	stats_add(&st->events_in, (uint64_t)k);
	stats_add(&st->events_out, used);
	stats_add(&st->busy_ns, t_end - t_busy);
	return k;
}

static bool ring_drained_closed(struct ring_consumer *c)
{
	/* closed first: the producer sets it after its last publish */
	return atomic_load_explicit(&c->shm->closed, memory_order_acquire) && !ring_try_peek(c, 1);
}

int relay_poll(struct relay *r, uint64_t now)
{
	struct stage *s = r->s;
	if (stage_control_on(&s->run->control.kill) || stage_control_on(&s->run->control.feed_dead))
		r->on_feedback(r, NULL); /* lets risk see the control words */
	int work = relay_drain_feedback(r);
	if (!r->main_done) {
		int k = relay_main_batch(r);
		if (k < 0)
			return KERNEL_FAILED;
		work += k;
		/* Closed and drained, or its producer died: nothing more comes. */
		if (!k && (ring_drained_closed(&r->main_in) ||
			   stage_producer_gone(s, &r->main_in, &r->main_checked_ns, now))) {
			r->main_done = true;
			relay_close_out(r);
		}
	}
	if (!work && ring_drained_closed(&r->feedback)) {
		if (r->main_done)
			return KERNEL_DONE; /* feedback closed and drained too */
	} else if (!work && stage_producer_gone(s, &r->feedback, &r->feedback_checked_ns, now)) {
		return stage_fail(s, "execution reports: producer died"), KERNEL_FAILED;
	}
	s->k->check_inputs = false;
	s->k->wake_in[0] = &r->feedback;
	s->k->wake_in[1] = &r->main_in;
	s->k->n_wake_in = r->main_done ? 1 : 2;
	return work;
}

int relay_close(struct relay *r)
{
	relay_close_out(r);
	ring_consumer_detach(&r->main_in);
	ring_consumer_detach(&r->feedback);
	tap_close(&r->tap);
	return 0;
}

int relay_open(struct stage *s, struct relay *r, enum run_ring in, enum run_ring fb, enum run_ring out,
	       enum run_ring tap)
{
	r->s = s;
	if (stage_attach_in(s, &r->main_in, in) || stage_attach_in(s, &r->feedback, fb) || stage_attach_out(s, &r->out, out) ||
	    tap_attach(s, &r->tap, tap))
		return 1;
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	return 0;
}
