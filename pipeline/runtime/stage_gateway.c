/*
 * The gateway stage: the orders risk passed to the venue the config names
 * (gateway/venue.h, found in the registry), and the venue's execution
 * reports back to risk, the strategy and the journal.  Every call into the
 * venue goes through its table, from the one section below.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gateway/position.h"
#include "shm/event_build.h"
#include "pipeline/runtime/stage_int.h"
#include "pipeline/runtime/venue_driver.h"
#include "shm/clock.h"
#include "shm/fixed.h"
#include "shm/reasons.h"

/* A venue with descriptors: the ring's wait cannot wake on them, so the
 * stage waits on the ring at most this long between looks at them. */
#define GATEWAY_VENUE_SLICE_NS 100000ull

/* Execution reports an execution ring could not take yet, in order.  The
 * gateway never waits on strategy or risk: in a shared runner they are
 * polled only before it, never from inside it (stage_int.h).  It takes no
 * new input while any report is queued, so the queue holds what one batch
 * causes; it starts at EXEC_QUEUE_MIN and doubles when one batch causes
 * more (a cancel of that many open orders). */
#define EXEC_QUEUE_MIN 4096

struct exec_queue {
	uint32_t head, n, cap;
	union fks_event *ev;
};

struct gateway {
	struct stage *s;
	struct exec_queue q_risk, q_strategy;
	bool input_over;       /* its input closed, or risk died: finishing */
	uint64_t in_checked_ns;
	struct venue_driver venue;
	struct ring_consumer in;
	struct ring_producer exec_risk, exec_strategy;
	struct tap tap;
	bool killed, venue_open;
	bool write_ahead;      /* journal.write_ahead, over rings only: each order waits for its commit */
	bool venue_lost;       /* its poll returned -1: the kill switch is tripped */
	uint64_t seq;
	/* The live summary's positions, by instrument id: the same module as
	 * the replay report, so both give the same realized P&L. */
	struct position pos[FKS_MAX_INSTRUMENTS + 1];
	/* The journal guard (gateway_journal_ok): no order leaves that the
	 * journal cannot record.  journal_gone is set by a watcher thread
	 * blocked on a pidfd of the tap's consumer, so the hot path learns of
	 * the journal's death from one load, without a syscall. */
	_Atomic bool journal_gone;
	bool journal_ok;          /* the guard, once per batch */
	bool watching;
	int journal_pidfd;
	int watch_stop_fd;        /* an eventfd: written to stop the watcher */
	pthread_t watcher;
	uint64_t journal_stall_ns;
};

static void exec_put(struct gateway *g, struct ring_producer *p, const union fks_event *ev)
{
	stage_copy_event(ring_wslot(p, 0), ev);
	ring_publish(p, 1);
	stats_add(&g->s->st->events_out, 1);
}

/* Move queued reports to the ring while it has room; true once the queue
 * is empty. */
static bool exec_flush(struct gateway *g, struct ring_producer *p, struct exec_queue *q)
{
	while (q->n && ring_try_claim(p, 1) == 1) {
		exec_put(g, p, &q->ev[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	return q->n == 0;
}

/* Double the queue's room, keeping its order; false without memory. */
static bool exec_queue_grow(struct exec_queue *q)
{
	uint32_t cap = q->cap ? 2 * q->cap : EXEC_QUEUE_MIN;
	union fks_event *ev = malloc((size_t)cap * sizeof *ev);
	if (!ev)
		return false;
	for (uint32_t i = 0; i < q->n; i++)
		ev[i] = q->ev[(q->head + i) % q->cap];
	free(q->ev);
	q->ev = ev;
	q->cap = cap;
	q->head = 0;
	return true;
}

/* A report to strategy or risk: at once if the ring has room and nothing
 * is queued before it, else queued. */
static void gateway_emit_to(struct gateway *g, struct ring_producer *p, const union fks_event *ev)
{
	if (g->s->direct) {
		g->s->direct->feedback(g->s->direct->ctx, p == &g->exec_risk ? RUN_RING_EXEC_RISK : RUN_RING_EXEC_STRATEGY,
				       ev);
		return;
	}
	struct exec_queue *q = p == &g->exec_risk ? &g->q_risk : &g->q_strategy;
	if (q->n == 0 && ring_try_claim(p, 1) == 1) {
		exec_put(g, p, ev);
		return;
	}
	if (q->n == q->cap && !exec_queue_grow(q)) {
		stage_fail(g->s, "execution reports: out of memory queueing %u of them", q->n);
		return;
	}
	stage_copy_event(&q->ev[(q->head + q->n) % q->cap], ev);
	q->n++;
}

/* Exact average-cost accounting (gateway/position.h), published for the
 * summary: the position at qty_scale, realized P&L in cash units as the two
 * halves of a 128-bit integer (runseg.h).  A fill whose order the venue no
 * longer knows has no side: position_on_fill refuses it and counts it in
 * bad_fills, rather than guessing. */
static void gateway_account_fill(struct gateway *g, const struct fks_ev_fill *f, uint8_t side)
{
	uint32_t id = f->h.instrument;
	if (id == 0 || id > FKS_MAX_INSTRUMENTS)
		return;
	struct position *p = &g->pos[id];
	(void)position_on_fill(p, side, f->px, f->qty, 0);
	struct stage_stats *st = g->s->st;
	atomic_store_explicit(&st->position[id], p->qty, memory_order_relaxed);
	atomic_store_explicit(&st->realized_cash_lo[id], (uint64_t)(unsigned __int128)p->realized,
			      memory_order_relaxed);
	atomic_store_explicit(&st->realized_cash_hi[id], (uint64_t)((unsigned __int128)p->realized >> 64),
			      memory_order_relaxed);
}

static uint8_t gateway_fill_side(struct gateway *g, uint64_t order_id);

static void gateway_emit(void *ctx, const union fks_event *in)
{
	struct gateway *g = ctx;
	struct stage_stats *st = g->s->st;
	/* Everything the gateway emits, the venue's events and its own kill
	 * rejects alike, shares one sequence: the gateway is one source. */
	union fks_event copy;
	stage_copy_event(&copy, in);
	copy.h.seq = ++g->seq;
	copy.h.flags |= g->s->ev_flags;
	const union fks_event *ev = &copy;
	switch (ev->h.type) {
	case FKS_EV_ORDER_ACK: stats_add(&st->counter[CTR_ACKS], 1); break;
	case FKS_EV_FILL:
		stats_add(&st->counter[CTR_FILLS], 1);
		gateway_account_fill(g, &ev->fill, gateway_fill_side(g, ev->fill.order_id));
		if (ev->fill.leaves_qty == 0)
			stats_add(&st->counter[CTR_TERMINAL], 1);
		break;
	case FKS_EV_ORDER_REJECT:
		stats_add(&st->counter[CTR_VENUE_REJECTS], 1);
		stats_add(&st->counter[CTR_TERMINAL], 1);
		break;
	case FKS_EV_CANCEL_ACK:
		stats_add(&st->counter[CTR_CANCELS], 1);
		stats_add(&st->counter[CTR_TERMINAL], 1);
		break;
	default: break;
	}
	/* The journal first, then the strategy, then risk: the order in which
	 * a lockstep replay, which delivers each at once, journals the report
	 * and the two FKS_EV_APPLIED markers.  Over rings the three are
	 * independent. */
	tap_put(&g->tap, ev);
	gateway_emit_to(g, &g->exec_strategy, ev);
	gateway_emit_to(g, &g->exec_risk, ev);
}

/* ---- the venue: every call into it, through its table ------------------- */

/* The venue the config's section names, with its parameters as text
 * (the loader already ran them through this venue's init). */
static int gateway_venue_open(struct gateway *g, const struct fks_config *cfg)
{
	struct venue_ctx ctx;
	struct fks_param params[FKS_VENUE_PARAMS_MAX];
	struct fks_param_error err = { .key = NULL };

	const struct venue_vtbl *vt = venue_find(cfg->venue.type);
	if (!vt)
		return stage_fail(g->s, "venue type '%s': not in the venue registry", cfg->venue.type);
	config_venue_ctx(cfg, &ctx);
	size_t n = config_venue_params(cfg, params);
	const struct stage_direct *d = g->s->direct;
	bool given = d && d->venue_ctx;
	if (venue_driver_open(&g->venue, vt, given ? d->venue_ctx : &ctx, given ? d->venue_params : params,
			      given ? d->n_venue_params : n, gateway_emit, g, &err) != 0)
		return stage_fail(g->s, "%s venue: %s%s%s", vt->type, err.key ? err.key : "", err.key ? ": " : "",
				  err.msg);
	return 0;
}

/* An order new or cancel to the venue. */
static void gateway_venue_order(struct gateway *g, const union fks_event *ev)
{
	venue_driver_order(&g->venue, ev);
}

static void gateway_venue_market(struct gateway *g, const union fks_event *ev)
{
	venue_driver_market(&g->venue, ev);
}

static void gateway_venue_cancel_all(struct gateway *g)
{
	venue_driver_cancel_all(&g->venue);
}

/* Fills carry no side: the venue's record of the order has it. */
static uint8_t gateway_fill_side(struct gateway *g, uint64_t order_id)
{
	return venue_driver_order_side(&g->venue, order_id);
}

static void gateway_kill(struct gateway *g);

/* The venue is gone: trip the run's kill switch, as the supervisor does,
 * so risk stops too, and act on it here at once. */
static void gateway_venue_lost(struct gateway *g)
{
	struct run_control *c = &g->s->run->control;
	g->venue_lost = true;
	if (!stage_control_on(&c->kill)) {
		snprintf(c->kill_reason, sizeof c->kill_reason, "gateway lost its %s venue", g->venue.vt->type);
		atomic_store_explicit(&c->kill_stage, (uint32_t)FKS_CFG_GATEWAY, memory_order_relaxed);
		atomic_store_explicit(&c->kill, 1, memory_order_release);
	}
	fprintf(stderr, "fks gateway: KILL SWITCH: the %s venue is lost; open orders are canceled\n",
		g->venue.vt->type);
	gateway_kill(g);
	tap_flush(&g->tap);
}

/* Before each ring wait, for a venue with descriptors or timers: poll it if
 * one is ready or its deadline is due, then bound the wait *w by its next
 * deadline and, with descriptors, by GATEWAY_VENUE_SLICE_NS.  A synchronous
 * venue (the sim) never gets here: its callers test venue_driver_is_sync. */
static void gateway_venue_turn(struct gateway *g, struct ring_wait *w)
{
	if (g->venue_lost || !venue_driver_refresh(&g->venue))
		return;
	int64_t now = (int64_t)stage_now_ns();
	int n = venue_driver_service(&g->venue, now);
	if (n < 0) {
		gateway_venue_lost(g);
		return;
	}
	if (n > 0)
		tap_flush(&g->tap);
	if (!venue_driver_refresh(&g->venue))
		return;
	uint64_t until = g->venue.n_fds > 0 ? (uint64_t)now + GATEWAY_VENUE_SLICE_NS : UINT64_MAX;
	if (g->venue.deadline_ns != INT64_MAX) {
		/* Already due (it emitted, or polled early): look again at once. */
		uint64_t due = g->venue.deadline_ns > now ? (uint64_t)g->venue.deadline_ns : (uint64_t)now + 1;
		until = due < until ? due : until;
	}
	if (until < w->deadline_ns)
		w->deadline_ns = until;
}

/* ---- the stage ----------------------------------------------------------- */

/* The kill switch in the journal: an FKS_EV_CONTROL on the gateway's tap,
 * numbered in its sequence like everything it emits, with why it tripped
 * (shm/reasons.h) and the stage that caused it.  The journal may be the
 * stage that died: then the tap refuses it, counted. */
static void gateway_journal_kill(struct gateway *g)
{
	struct run_control *c = &g->s->run->control;
	uint32_t reason = FKS_CTL_REASON_INPUT_DEAD, stage = FKS_STAGE_RISK;
	if (g->venue_lost) {
		reason = FKS_CTL_REASON_VENUE_LOST;
		stage = FKS_STAGE_GATEWAY;
	} else if (stage_control_on(&c->kill)) {
		uint32_t by = atomic_load_explicit(&c->kill_stage, memory_order_relaxed);
		reason = by >= FKS_CFG_STAGE_COUNT ? FKS_CTL_REASON_OPERATOR : FKS_CTL_REASON_STAGE_FAILED;
		stage = by >= FKS_CFG_STAGE_COUNT ? FKS_STAGE_NONE : by + 1; /* enum fks_cfg_stage -> fks_stage_id */
	}
	union fks_event ev;
	struct fks_event_hdr h;
	memset(&ev, 0, sizeof ev);
	fks_hdr_origin(&h, FKS_EV_CONTROL, FKS_STAGE_GATEWAY, ++g->seq, 0, 0, clock_real_ns(), 0);
	fks_build_control(&ev.control, &h, FKS_CTL_KILL, reason, stage);
	tap_put(&g->tap, &ev);
	tap_flush(&g->tap);
}

static void gateway_kill(struct gateway *g)
{
	if (g->killed)
		return;
	g->killed = true;
	gateway_journal_kill(g);
	atomic_store_explicit(&g->s->st->counter[CTR_ORDERS_AT_KILL],
			      atomic_load_explicit(&g->s->st->counter[CTR_ORDERS], memory_order_relaxed),
			      memory_order_relaxed);
	gateway_venue_cancel_all(g);
}

/* An order that must not leave: the strategy and risk learn of it through
 * a venue-style reject with the gateway's reason, counted in ctr. */
static void gateway_refuse(struct gateway *g, const union fks_event *ev, unsigned reason, enum stage_counter ctr)
{
	union fks_event rej;
	struct fks_event_hdr h;
	memset(&rej, 0, sizeof rej);
	/* seq: gateway_emit numbers it */
	fks_hdr_from_cause_with_flags(&h, FKS_EV_ORDER_REJECT, FKS_STAGE_GATEWAY, ev->h.seq, &ev->h);
	fks_build_order_reject(&rej.order_reject, &h, ev->order_new.order_id, reason);
	stats_add(&g->s->st->counter[ctr], 1);
	gateway_emit(g, &rej);
}

/* ---- the journal guard ----------------------------------------------------
 * An order the journal cannot record must not reach the venue.  Before each
 * batch (and while a write-ahead order waits) the gateway looks at the
 * journal stage's state and heartbeat in the run segment, its tap, and the
 * watcher's flag: loads only.  The supervisor's kill switch would stop the
 * orders too, but only after its heartbeat timeout, and never while the
 * supervisor itself is stopped. */

static void *gateway_journal_watch(void *arg)
{
	struct gateway *g = arg;
	struct pollfd p[2] = { { .fd = g->journal_pidfd, .events = POLLIN }, { .fd = g->watch_stop_fd, .events = POLLIN } };
	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (p[0].revents)
		atomic_store_explicit(&g->journal_gone, true, memory_order_release);
	return NULL;
}

/* Watch the gateway tap's consumer, the journal stage, through a pidfd.
 * Without pidfds (Linux < 5.3) the heartbeat alone tells, later. */
static void gateway_journal_watch_start(struct gateway *g)
{
	const struct fks_config *cfg = g->s->a->cfg;
	uint64_t hb = (uint64_t)cfg->supervisor.heartbeat_timeout_ms * 1000000ull;
	g->journal_stall_ns = hb ? hb : 1000000000ull;
	g->journal_pidfd = -1;
	pid_t pid = atomic_load(&g->tap.p.shm->side[RING_CONSUMER].pid);
	if (pid <= 0)
		return;
	g->journal_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (g->journal_pidfd < 0) {
		fprintf(stderr, "fks gateway: no pidfd for the journal (%s): its death is seen by its heartbeat\n",
			strerror(errno));
		return;
	}
	g->watch_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (g->watch_stop_fd < 0) {
		fprintf(stderr, "fks gateway: no eventfd for the journal watcher (%s): its death is seen by its "
				"heartbeat\n", strerror(errno));
		return;
	}
	g->watching = pthread_create(&g->watcher, NULL, gateway_journal_watch, g) == 0;
}

static void gateway_journal_watch_stop(struct gateway *g)
{
	/* Woken through its eventfd, not cancelled: a cancelled thread's
	 * unwinding is what sanitizers and some libcs handle worst. */
	if (g->watching) {
		uint64_t one = 1;
		/* An eventfd's counter cannot overflow from one write. */
		ssize_t wr = write(g->watch_stop_fd, &one, sizeof one);
		(void)wr;
		pthread_join(g->watcher, NULL);
		g->watching = false;
	}
	if (g->watch_stop_fd >= 0)
		close(g->watch_stop_fd);
	g->watch_stop_fd = -1;
	if (g->journal_pidfd >= 0)
		close(g->journal_pidfd);
	g->journal_pidfd = -1;
}

/* The journal can record what the gateway sends: alive, beating, its tap
 * taken.  A commit in progress beats through its keeper thread. */
static bool gateway_journal_ok(struct gateway *g, uint64_t now)
{
	const struct stage_stats *jn = &g->s->run->stage[FKS_CFG_JOURNAL];
	if (atomic_load_explicit(&g->journal_gone, memory_order_acquire) || g->tap.dead || !g->tap.attached)
		return false;
	if (atomic_load_explicit(&g->tap.p.shm->side[RING_CONSUMER].state, memory_order_relaxed) ==
	    RING_SIDE_DETACHED)
		return false;
	uint32_t state = atomic_load_explicit(&jn->state, memory_order_acquire);
	if (state == STAGE_FAILED || state == STAGE_EXITED)
		return false;
	uint64_t beat = atomic_load_explicit(&jn->heartbeat_ns, memory_order_relaxed);
	return !(now > beat && now - beat > g->journal_stall_ns);
}

/* journal.write_ahead: hold the order until the journal has committed it
 * (its source's committed seq has reached the order's).  The wait sleeps
 * (the journal may share this core), beats, and keeps an asynchronous
 * venue serviced; it ends when the journal stops being able to commit: the
 * guard.  False: the journal went down, the order must not leave. */
static bool gateway_wait_journaled(struct gateway *g, const union fks_event *ev)
{
	unsigned src = ev->h.source;
	if (src < FKS_STAGE_FEED || src > FKS_STAGE_GATEWAY)
		return true; /* not from a tapped stage: nothing to wait for */
	const _Atomic uint64_t *committed = &g->s->run->journal.committed.seq[src - FKS_STAGE_FEED];
	while (atomic_load_explicit(committed, memory_order_acquire) < ev->h.seq) {
		uint64_t now = stage_now_ns();
		stage_beat(g->s, now);
		if (!gateway_journal_ok(g, now))
			return false;
		if (!venue_driver_is_sync(&g->venue)) {
			struct ring_wait w = { .deadline_ns = UINT64_MAX };
			gateway_venue_turn(g, &w);
		}
		if (stage_shared(g->s)) {
			stage_yield(g->s); /* the kernels beside it go on meanwhile */
		} else {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
	}
	return true;
}

/* Out of line: most events are market data (gateway_on_event). */
static __attribute__((noinline)) void gateway_on_order_flow(struct gateway *g, const union fks_event *ev,
							    uint64_t now)
{
	struct stage_stats *st = g->s->st;
	switch (ev->h.type) {
	case FKS_EV_ORDER_NEW:
		if (g->killed) {
			/* No order leaves once the kill switch is on. */
			gateway_refuse(g, ev, FKS_GATEWAY_REJ_KILL_SWITCH, CTR_KILL_BLOCKED);
			return;
		}
		if (!g->journal_ok || (g->write_ahead && !(g->journal_ok = gateway_wait_journaled(g, ev)))) {
			gateway_refuse(g, ev, FKS_GATEWAY_REJ_JOURNAL_DOWN, CTR_JOURNAL_BLOCKED);
			return;
		}
		stats_add(&st->counter[CTR_ORDERS], 1);
		/* With write-ahead the order waited for its commit: tick-to-trade
		 * ends when it leaves, not when its batch was read. */
		if (g->write_ahead)
			now = stage_now_ns();
		if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
			hist_record(&st->tick_to_trade, now - (uint64_t)ev->h.recv_time_ns);
		gateway_venue_order(g, ev);
		break;
	case FKS_EV_ORDER_CANCEL:
		gateway_venue_order(g, ev);
		break;
	case FKS_EV_RISK_REJECT:
		/* risk already knows; the strategy must release its pending qty */
		gateway_emit_to(g, &g->exec_strategy, ev);
		break;
	default:
		break;
	}
}

static inline void gateway_on_event(struct gateway *g, const union fks_event *ev, uint64_t now)
{
	if (ev->h.type == FKS_EV_QUOTE || ev->h.type == FKS_EV_TRADE) {
		stats_add(&g->s->st->counter[ev->h.type == FKS_EV_QUOTE ? CTR_QUOTES : CTR_TRADES], 1);
		gateway_venue_market(g, ev);
		return;
	}
	gateway_on_order_flow(g, ev, now);
}

/* One batch of the input: events handled, or KERNEL_FAILED. */
static int gateway_batch(struct stage *s, struct gateway *g, uint64_t now)
{
	int k = (int)ring_try_peek(&g->in, BATCH);
	if (k == 0) {
		bool closed = atomic_load_explicit(&g->in.shm->closed, memory_order_acquire) && !ring_try_peek(&g->in, 1);
		if (closed) {
			g->input_over = true;
		} else if (stage_producer_gone(s, &g->in, &g->in_checked_ns, now)) {
			/* Risk died: whatever it had not checked must never leave.
			 * Act as the kill switch at once, without waiting for the
			 * supervisor to notice and trip it. */
			gateway_kill(g);
			g->input_over = true;
		}
		return 0;
	}
	uint64_t t_busy = stage_now_ns();
	g->journal_ok = gateway_journal_ok(g, t_busy);
	for (int i = 0; i < k; i++)
		gateway_on_event(g, ring_rslot(&g->in, (uint32_t)i), t_busy);
	ring_release(&g->in, (uint32_t)k);
	tap_flush(&g->tap);
	stats_add(&s->st->events_in, (uint64_t)k);
	stats_add(&s->st->busy_ns, stage_now_ns() - t_busy);
	return atomic_load_explicit(&s->st->state, memory_order_relaxed) == STAGE_FAILED ? KERNEL_FAILED : k;
}

/* Input is over: leave nothing open at the venue; the execution rings
 * close once what is queued for them is out, so strategy and risk can
 * finish. */
static void gateway_finish_input(struct gateway *g)
{
	struct stage *s = g->s;
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	if (stage_control_on(&s->run->control.kill))
		gateway_kill(g); /* the input may have ended because of what tripped it */
	gateway_venue_cancel_all(g);
	tap_flush(&g->tap);
}

static int gateway_poll(struct kernel *kn, uint64_t now)
{
	struct gateway *g = kn->state;
	struct stage *s = &kn->s;
	kn->check_inputs = false;
	if (stage_control_on(&s->run->control.kill) && !g->killed) {
		gateway_kill(g);
		tap_flush(&g->tap);
	}
	/* What strategy and risk could not take yet goes first. */
	bool flushed = exec_flush(g, &g->exec_risk, &g->q_risk) & exec_flush(g, &g->exec_strategy, &g->q_strategy);
	if (g->input_over) {
		kn->n_wake_in = 0;
		kn->wake_ns = now + 50000; /* room in an execution ring: look again soon */
		return flushed ? KERNEL_DONE : 0;
	}
	/* A venue with descriptors or timers: serviced once a poll, and its
	 * next deadline bounds the runner's park. */
	struct ring_wait w = { .deadline_ns = now + STAGE_TICK_NS };
	if (!venue_driver_is_sync(&g->venue))
		gateway_venue_turn(g, &w);
	int work = 0;
	if (flushed) {
		work = gateway_batch(s, g, now);
		if (work < 0)
			return work;
		if (g->input_over) {
			gateway_finish_input(g);
			return 1;
		}
	}
	kn->wake_in[0] = &g->in;
	kn->n_wake_in = flushed ? 1 : 0;
	kn->wake_ns = w.deadline_ns;
	if (!flushed && kn->wake_ns > now + 50000)
		kn->wake_ns = now + 50000;
	return work;
}

static int gateway_open(struct kernel *k)
{
	struct stage *s = &k->s;
	struct gateway *g = calloc(1, sizeof *g);
	if (!g)
		return stage_fail(s, "out of memory");
	k->state = g;
	g->s = s;
	g->journal_pidfd = -1;
	g->watch_stop_fd = -1;
	if (gateway_venue_open(g, s->a->cfg) != 0)
		return 1;
	g->venue_open = true;
	if (stage_attach_in(s, &g->in, RUN_RING_RISK_OUT) || stage_attach_out(s, &g->exec_risk, RUN_RING_EXEC_RISK) ||
	    stage_attach_out(s, &g->exec_strategy, RUN_RING_EXEC_STRATEGY) ||
	    tap_attach(s, &g->tap, RUN_RING_TAP_GATEWAY))
		return 1;
	if (s->direct) {
		g->journal_ok = true; /* lockstep: whoever calls journals what the tap gets */
	} else {
		g->write_ahead = s->a->cfg->journal.write_ahead;
		gateway_journal_watch_start(g);
	}
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	return 0;
}

static int gateway_close(struct kernel *k)
{
	struct gateway *g = k->state;
	if (!g)
		return 1;
	/* Failed: still leave nothing open.  Not in lockstep, whose caller
	 * ends the input itself (lockstep_finish) and may be closing after an
	 * error, with nobody left to take the cancels. */
	if (g->venue_open && !g->input_over && !k->s.direct)
		gateway_venue_cancel_all(g);
	ring_producer_detach(&g->exec_risk);
	ring_producer_detach(&g->exec_strategy);
	ring_consumer_detach(&g->in);
	tap_close(&g->tap);
	gateway_journal_watch_stop(g);
	if (g->venue_open)
		venue_driver_close(&g->venue);
	free(g->q_risk.ev);
	free(g->q_strategy.ev);
	free(g);
	k->state = NULL;
	return 0;
}

void gateway_direct_event(struct kernel *k, const union fks_event *ev, uint64_t now)
{
	gateway_on_event(k->state, ev, now);
}

void gateway_direct_finish(struct kernel *k)
{
	struct gateway *g = k->state;
	g->input_over = true;
	gateway_venue_cancel_all(g);
}

bool gateway_direct_venue_is_sync(struct kernel *k)
{
	return venue_driver_is_sync(&((struct gateway *)k->state)->venue);
}

uint8_t gateway_direct_order_side(struct kernel *k, uint64_t order_id)
{
	return gateway_fill_side(k->state, order_id);
}

const struct kernel_ops gateway_kernel = { .open = gateway_open, .poll = gateway_poll, .close = gateway_close };
