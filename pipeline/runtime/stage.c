/*
 * The four stage processes.  Each is a loop around the pure logic in
 * feeds/, strategies/ and gateway/: read a batch, apply it, emit, count.
 *
 * Rules every loop follows:
 *  - Feedback first: execution reports are applied before the next
 *    main-line batch, so a stage acts on the freshest position.
 *  - Never block on an output while feedback is waiting: a stage whose
 *    output ring is full keeps draining its feedback ring, otherwise the
 *    cycle strategy -> risk -> gateway -> strategy could deadlock.
 *  - Waits are bounded (STAGE_TICK_NS), so an idle stage still beats its
 *    heartbeat and sees the control words.
 *  - Shutdown is a cascade of closes: the feed closes market data; each
 *    stage, once its main input is closed and drained, closes its main
 *    output; the gateway then cancels what is open and closes the
 *    execution rings; strategy and risk exit once those are drained.
 */
#include "pipeline/runtime/stage.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/runtime/feed_source.h"
#include "shm/fixed.h"
#include "pipeline/journal/journal.h"
#include "pipeline/runtime/proctitle.h"
#include "gateway/risk/risk.h"
#include "pipeline/runtime/signal_logic.h"
#include "gateway/venues/sim/sim_ops.h"
#include "gateway/venues/sim/sim_venue.h"
#include "feeds/synthetic.h"

#define STAGE_TICK_NS 20000000ull /* longest wait before a heartbeat */
/* order_reject.reason for an order the gateway refused itself; venue
 * reasons (enum sim_reject_reason) are small numbers. */
#define GATEWAY_REJ_KILL_SWITCH 100
#define BATCH 32

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t stage_ring_slot_size(enum run_ring r)
{
	/* 128 only where orders or risk rejects travel. */
	return r == RUN_RING_MD || r == RUN_RING_TAP_FEED || r == RUN_RING_TAP_GATEWAY ? 64 : 128;
}

uint32_t stage_ring_capacity(const struct fks_config *cfg, enum run_ring r)
{
	switch (r) {
	case RUN_RING_MD: return cfg->ring[FKS_RING_MARKET_DATA].capacity;
	case RUN_RING_ORDERS: return cfg->ring[FKS_RING_ORDERS].capacity;
	case RUN_RING_RISK_OUT: return cfg->ring[FKS_RING_RISK_OUT].capacity;
	case RUN_RING_TAP_FEED:
	case RUN_RING_TAP_STRATEGY:
	case RUN_RING_TAP_RISK:
	case RUN_RING_TAP_GATEWAY: return cfg->ring[FKS_RING_JOURNAL].capacity;
	default: return cfg->ring[FKS_RING_EXEC_REPORTS].capacity;
	}
}

/* ---- runtime shared by every stage ------------------------------------- */

struct stage {
	const struct stage_args *a;
	struct run_segment *run;
	struct stage_stats *st;
	struct ring_wait wait;
	uint64_t last_beat;
};

static int stage_fail(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stage_fail(struct stage *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->st->error, sizeof s->st->error, fmt, ap);
	va_end(ap);
	fprintf(stderr, "fks:%s: %s\n", config_stage_name(s->a->id), s->st->error);
	atomic_store_explicit(&s->st->state, STAGE_FAILED, memory_order_release);
	return 1;
}

static void beat(struct stage *s, uint64_t now)
{
	if (now - s->last_beat < 1000000)
		return;
	s->last_beat = now;
	atomic_store_explicit(&s->st->heartbeat_ns, now, memory_order_relaxed);
}

static bool control_on(_Atomic uint32_t *w)
{
	return atomic_load_explicit(w, memory_order_relaxed) != 0;
}

static int attach_in(struct stage *s, struct ring_consumer *c, enum run_ring r)
{
	int rc = ring_consumer_attach(c, s->run->ring_name[r], stage_ring_slot_size(r),
				      stage_ring_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

static int attach_out(struct stage *s, struct ring_producer *p, enum run_ring r)
{
	int rc = ring_producer_attach(p, s->run->ring_name[r], stage_ring_slot_size(r),
				      stage_ring_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

/* Bounded waits: the deadline is the next heartbeat. */
static void wait_until_tick(struct stage *s, struct ring_wait *w)
{
	*w = s->wait;
	w->deadline_ns = now_ns() + STAGE_TICK_NS;
}

static void copy_event(void *dst, const union fks_event *ev)
{
	memcpy(dst, ev, fks_event_size(ev->h.type));
}

/* ---- journal taps ------------------------------------------------------ */

/* A stage's tap: events are written into claimed slots as they happen and
 * published together by tap_flush() at the end of the stage's batch, so the
 * journal costs the hot path a copy, not a cursor store per event. */
struct tap {
	struct stage *s;
	struct ring_producer p;
	uint32_t used;          /* written since the last flush */
	bool attached, dead;    /* dead: the journal stage is gone */
};

#define TAP_CHUNK 64

static int tap_attach(struct stage *s, struct tap *t, enum run_ring r)
{
	t->s = s;
	if (attach_out(s, &t->p, r))
		return 1;
	t->attached = true;
	return 0;
}

static void tap_flush(struct tap *t)
{
	if (t->used) {
		ring_publish(&t->p, t->used);
		t->used = 0;
	}
}

/* The next free slot, waiting while the journal is behind (beating, so the
 * supervisor sees a stage held back, not a stalled one); NULL once the
 * journal stage is dead. */
static void *tap_slot(struct tap *t)
{
	if (t->used < t->p.claimed)
		return ring_wslot(&t->p, t->used++);
	tap_flush(t);
	if (!t->attached || t->dead)
		return NULL;
	for (;;) {
		/* Claim ahead, so most events find a slot already claimed. */
		if (ring_try_claim(&t->p, TAP_CHUNK) == 0) {
			struct ring_wait saved = t->p.wait;
			t->p.wait.deadline_ns = now_ns() + STAGE_TICK_NS;
			int k = ring_claim(&t->p, 1);
			t->p.wait = saved;
			beat(t->s, now_ns());
			if (k == RING_E_TIMEOUT)
				continue;
			if (k != 1) {
				t->dead = true;
				return NULL;
			}
		}
		return ring_wslot(&t->p, t->used++);
	}
}

static void tap_put(struct tap *t, const void *ev)
{
	void *slot = tap_slot(t);
	if (!slot) {
		stats_add(&t->s->st->counter[CTR_NOT_JOURNALED], 1);
		return;
	}
	copy_event(slot, ev);
	stats_add(&t->s->st->counter[CTR_TAPPED], 1);
}

static void tap_close(struct tap *t)
{
	if (!t->attached)
		return;
	tap_flush(t);
	ring_producer_detach(&t->p);
	t->attached = false;
}

/* ---- feed -------------------------------------------------------------- */

static int feed_params(const struct fks_config *cfg, struct synth_params *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->seed = cfg->feed.seed;
	sp->trade_ratio_ppm = cfg->feed.trade_ratio_ppm;
	sp->volatility_bps_x100 = cfg->feed.volatility_bps_x100;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sp->start_time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	sp->step_ns = cfg->feed.rate ? (int64_t)(1000000000ull / cfg->feed.rate) : 1000;
	sp->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		sp->instrument[i].id = cfg->instrument[i].id;
		sp->instrument[i].start_px = cfg->instrument[i].start_px;
		sp->instrument[i].px_scale = cfg->instrument[i].px_scale;
		sp->instrument[i].qty_scale = cfg->instrument[i].qty_scale;
	}
	return 0;
}

/* Paced mode: event k is due at t0 + k * period.  The feed sends every event
 * that is due, each stamped with its own due time as its receive time, so
 * latency measured downstream includes any queueing the pipeline caused
 * (no coordinated omission).  Between bursts it sleeps, unless its wait
 * strategy is spin: a feed that spins to pace itself takes the whole core,
 * and on a shared core the stage next to it would run only when the
 * scheduler preempts the feed. */
static void pace_sleep_until(uint64_t t, bool spin)
{
	if (!spin) {
		struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		return;
	}
	while (now_ns() < t)
		ring_cpu_relax();
}

/* ---- feed from a venue: a feed_source (feed_source.h) ------------------- */

/* Events wait here between the decoder's emit and the ring: one venue
 * message can emit many (a 500-level snapshot), so the buffer is flushed
 * whenever it fills, and once per poll. */
#define FEED_PUB_BUF 256
#define FEED_POLL_MSGS 64     /* venue messages per poll */
#define FEED_POLL_TIMEOUT_MS 10 /* live sources: longest wait for input */

struct feed_pub {
	struct stage *s;
	struct ring_producer md;
	struct tap tap;
	bool conflate;
	bool halted;             /* stop/kill, or the ring failed: emit discards */
	int rc;
	uint32_t claim_max;
	uint64_t seq;            /* dense per-source sequence of what was published */
	uint32_t n;
	union fks_event buf[FEED_PUB_BUF];
};

static bool feed_should_stop(struct stage *s)
{
	return control_on(&s->run->control.stop) || control_on(&s->run->control.kill);
}

/* Publish the buffered events to the market data ring, then the journal,
 * exactly as the synthetic path does.  Waits for room in slices of
 * STAGE_TICK_NS, beating and watching the control words. */
static void feed_pub_flush(struct feed_pub *p)
{
	struct stage *s = p->s;
	uint32_t done = 0;
	while (done < p->n && !p->halted) {
		uint32_t want = p->n - done;
		if (want > p->claim_max)
			want = p->claim_max;
		int k;
		if (p->conflate) {
			k = (int)ring_try_claim(&p->md, want);
			if (k < (int)want) /* the consumer is behind: drop, and count it */
				stats_add(&s->st->counter[CTR_DROPPED], want - (uint32_t)k);
		} else {
			struct ring_wait saved = p->md.wait;
			p->md.wait.deadline_ns = now_ns() + STAGE_TICK_NS;
			k = ring_claim(&p->md, want);
			p->md.wait = saved;
			if (k == RING_E_TIMEOUT) {
				beat(s, now_ns());
				if (feed_should_stop(s))
					p->halted = true;
				continue;
			}
		}
		if (k < 0) {
			/* The strategy died: the supervisor is already stopping us. */
			if (!(k == RING_E_PEER_DEAD && feed_should_stop(s)))
				p->rc = stage_fail(s, "market data ring: %s", ring_strerror(k));
			p->halted = true;
			break;
		}
		uint64_t quotes = 0, trades = 0;
		for (int i = 0; i < k; i++) {
			union fks_event *ev = &p->buf[done + (uint32_t)i];
			ev->h.seq = ++p->seq;
			copy_event(ring_wslot(&p->md, (uint32_t)i), ev);
			tap_put(&p->tap, ev);
			quotes += ev->h.type == FKS_EV_QUOTE;
			trades += ev->h.type == FKS_EV_TRADE;
		}
		/* Published to the strategy first, to the journal right after. */
		ring_publish(&p->md, (uint32_t)k);
		tap_flush(&p->tap);
		stats_add(&s->st->counter[CTR_QUOTES], quotes);
		stats_add(&s->st->counter[CTR_TRADES], trades);
		stats_add(&s->st->events_out, (uint64_t)k);
		done += want;
	}
	p->n = 0;
}

static void feed_pub_emit(void *ctx, const union fks_event *ev)
{
	struct feed_pub *p = ctx;
	if (p->halted)
		return;
	union fks_event *e = &p->buf[p->n++];
	copy_event(e, ev);
	e->h.source = FKS_STAGE_FEED;
	if (!e->h.recv_time_ns)
		e->h.recv_time_ns = (int64_t)now_ns();
	if (p->n == FEED_PUB_BUF)
		feed_pub_flush(p);
}

/* Called by a paced replay while it sleeps. */
static int feed_pace_hook(void *ctx)
{
	struct feed_pub *p = ctx;
	beat(p->s, now_ns());
	return feed_should_stop(p->s);
}

/* Log the decoder's and transport's nonzero error counters at the end. */
static void feed_log_counters(struct stage *s, const struct feed_source *src)
{
	const struct named_counter *c;
	size_t n = feed_source_errors(src, &c);
	for (size_t i = 0; i < n; i++)
		if (c[i].n)
			fprintf(stderr, "fks:feed: decoder %s: %llu\n", c[i].name, (unsigned long long)c[i].n);
	struct named_counter x[FEED_SOURCE_MAX_XPORT_COUNTERS];
	n = feed_source_xport_counters(src, x, FEED_SOURCE_MAX_XPORT_COUNTERS);
	for (size_t i = 0; i < n && i < FEED_SOURCE_MAX_XPORT_COUNTERS; i++)
		if (x[i].n)
			fprintf(stderr, "fks:feed: transport %s: %llu\n", x[i].name, (unsigned long long)x[i].n);
	(void)s;
}

static int run_feed_venue(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	/* A fixed table of the configured instruments: ids are config ids. */
	static struct feed_symtab symbols;
	feed_symtab_init(&symbols, false, 0, 0);
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *in = &cfg->instrument[i];
		uint32_t id = feed_symtab_add(&symbols, in->symbol, strlen(in->symbol), in->px_scale, in->qty_scale);
		if (id != in->id)
			return stage_fail(s, "instrument %s: symbol table id %u, config id %u", in->symbol, id, in->id);
	}
	char err[512];
	struct feed_source *src = feed_source_open(&cfg->feed, &symbols, err, sizeof err);
	if (!src)
		return stage_fail(s, "%s", err);
	static struct feed_pub p;
	memset(&p, 0, sizeof p);
	p.s = s;
	if (attach_out(s, &p.md, RUN_RING_MD) || tap_attach(s, &p.tap, RUN_RING_TAP_FEED)) {
		feed_source_close(src);
		return 1;
	}
	p.conflate = cfg->ring[FKS_RING_MARKET_DATA].overflow == FKS_OVERFLOW_CONFLATE;
	uint32_t cap = stage_ring_capacity(cfg, RUN_RING_MD);
	p.claim_max = cap < 64 ? cap : 64;
	feed_source_set_wait_hook(src, feed_pace_hook, &p);
	uint64_t limit = s->a->max_events;

	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	while (!p.halted && !feed_should_stop(s) && (!limit || p.seq < limit)) {
		uint64_t t_busy = now_ns();
		int n = feed_source_poll(src, feed_pub_emit, &p, FEED_POLL_MSGS, FEED_POLL_TIMEOUT_MS);
		if (n == FEED_SOURCE_END)
			break; /* the recording is exhausted: close, like --events */
		if (n < 0) {
			p.rc = stage_fail(s, "feed: %s", feed_source_error(src));
			break;
		}
		feed_pub_flush(&p);
		uint64_t t_end = now_ns();
		stats_add(n ? &s->st->busy_ns : &s->st->idle_ns, t_end - t_busy);
		beat(s, t_end);
	}
	feed_log_counters(s, src);
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	ring_producer_detach(&p.md); /* closes: the cascade starts here */
	tap_close(&p.tap);
	feed_source_close(src);
	return p.rc;
}

static int run_feed_synthetic(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct synth_feed feed;
	struct synth_params sp;
	feed_params(cfg, &sp);
	if (synth_init(&feed, &sp) != 0)
		return stage_fail(s, "synthetic feed: invalid parameters");
	struct ring_producer md;
	static struct tap tap;
	if (attach_out(s, &md, RUN_RING_MD) || tap_attach(s, &tap, RUN_RING_TAP_FEED))
		return 1;
	bool conflate = cfg->ring[FKS_RING_MARKET_DATA].overflow == FKS_OVERFLOW_CONFLATE;
	uint64_t period = cfg->feed.rate ? 1000000000ull / cfg->feed.rate : 0;
	uint64_t limit = s->a->max_events, sent = 0;
	uint64_t t0 = now_ns();
	int rc = 0;

	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	bool spin_pace = s->wait.kind == RING_WAIT_SPIN;
	if (period && !spin_pace)
		prctl(PR_SET_TIMERSLACK, 1UL); /* wake when asked, not up to 50 us later */
	while (!control_on(&s->run->control.stop) && (!limit || sent < limit)) {
		uint32_t n = BATCH;
		uint64_t t_busy = now_ns();
		if (period) {
			uint64_t due = (t_busy - t0) / period + 1; /* events due by now */
			if (due <= sent) {
				pace_sleep_until(t0 + sent * period, spin_pace);
				uint64_t t_wake = now_ns();
				stats_add(&s->st->idle_ns, t_wake - t_busy);
				beat(s, t_wake);
				continue;
			}
			if (due - sent < n)
				n = (uint32_t)(due - sent);
		}
		if (limit && limit - sent < n)
			n = (uint32_t)(limit - sent);
		int k = conflate ? (int)ring_try_claim(&md, n) : ring_claim(&md, n);
		if (k < 0) {
			/* The strategy died: the supervisor is already stopping us. */
			if (!(k == RING_E_PEER_DEAD && (control_on(&s->run->control.stop) ||
							control_on(&s->run->control.kill))))
				rc = stage_fail(s, "market data ring: %s", ring_strerror(k));
			break;
		}
		if (k < (int)n) { /* conflate: the consumer is behind; drop, and count it */
			stats_add(&s->st->counter[CTR_DROPPED], n - (uint32_t)k);
			if (k == 0) {
				sent += n;
				continue;
			}
		}
		for (int i = 0; i < k; i++) {
			union fks_event *ev = ring_wslot(&md, (uint32_t)i);
			unsigned type = synth_next(&feed, ev);
			ev->h.recv_time_ns = (int64_t)(period ? t0 + (sent + (uint64_t)i) * period : t_busy);
			tap_put(&tap, ev);
			stats_add(&s->st->counter[type == FKS_EV_QUOTE ? CTR_QUOTES : CTR_TRADES], 1);
		}
		/* Published to the strategy first, to the journal right after. */
		ring_publish(&md, (uint32_t)k);
		tap_flush(&tap);
		sent += n;
		uint64_t t_end = now_ns();
		stats_add(&s->st->events_out, (uint64_t)k);
		stats_add(&s->st->busy_ns, t_end - t_busy);
		beat(s, t_end);
	}
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	ring_producer_detach(&md); /* closes: the cascade starts here */
	tap_close(&tap);
	return rc;
}

static int run_feed(struct stage *s)
{
	if (s->a->cfg->feed.type == FKS_FEED_SYNTHETIC)
		return run_feed_synthetic(s);
	return run_feed_venue(s);
}

/* ---- strategy and risk: a main input, a feedback input, a main output -- */

/* Most events one main-line event can cause: itself forwarded, and for the
 * engine every instance's signal and order plus every lot's exit and
 * cancel (32 + 32 + 2 * 8 with the engine's limits). */
#define RELAY_MAX_OUT 128

struct relay {
	struct stage *s;
	struct ring_consumer main_in, feedback;
	struct ring_producer out;
	struct tap tap;
	bool main_done, out_closed;
	uint64_t seq; /* the stage's own events (orders, rejects): one sequence per source */
	uint64_t main_pos; /* main-input events handled so far: where feedback lands */
	void (*on_feedback)(struct relay *r, const union fks_event *ev);
	/* Handle one main-line event: stage what it sends on (relay_stage). */
	void (*on_main)(struct relay *r, const union fks_event *ev, uint64_t now);
	void *logic;
	/* The output of the event being handled.  It is copied to the ring only
	 * once the event is done, so an execution report applied while the
	 * output waits for room lands between two events, never inside one:
	 * that is what the APPLIED marker can record and replay reproduce. */
	uint32_t n_staged;
	bool staging_overflow;
	union fks_event staged[RELAY_MAX_OUT];
};

/* Journal where this stage applied an execution report (FKS_EV_APPLIED). */
static void relay_mark_applied(struct relay *r, const union fks_event *ev)
{
	struct fks_ev_applied m;
	memset(&m, 0, sizeof m);
	m.h.type = FKS_EV_APPLIED;
	m.h.source = (uint8_t)(r->s->a->id == FKS_CFG_STRATEGY ? FKS_STAGE_STRATEGY : FKS_STAGE_RISK);
	m.h.instrument = ev->h.instrument;
	m.h.seq = ++r->seq;
	m.h.event_time_ns = ev->h.event_time_ns;
	m.h.recv_time_ns = ev->h.recv_time_ns;
	m.applied_seq = ev->h.seq;
	m.applied_source = ev->h.source;
	m.applied_type = ev->h.type;
	m.input_pos = r->main_pos;
	tap_put(&r->tap, &m);
}

static void relay_drain_feedback(struct relay *r)
{
	int k;
	while ((k = (int)ring_try_peek(&r->feedback, BATCH)) > 0) {
		for (int i = 0; i < k; i++) {
			const union fks_event *ev = ring_rslot(&r->feedback, (uint32_t)i);
			r->on_feedback(r, ev);
			relay_mark_applied(r, ev);
		}
		ring_release(&r->feedback, (uint32_t)k);
		tap_flush(&r->tap);
		stats_add(&r->s->st->events_in, (uint64_t)k);
		stats_add(&r->s->st->counter[CTR_EXEC_IN], (uint64_t)k);
	}
}

/* Claim n output slots, draining feedback while the output is full. */
static int relay_claim(struct relay *r, uint32_t n)
{
	for (;;) {
		if (ring_try_claim(&r->out, n) == n)
			return (int)n;
		relay_drain_feedback(r);
		stats_add(&r->s->st->counter[CTR_OUT_WAIT_DRAINS], 1);
		struct ring_wait saved = r->out.wait;
		r->out.wait.deadline_ns = now_ns() + 1000000; /* re-check feedback every ms */
		int k = ring_claim(&r->out, n);
		r->out.wait = saved;
		if (k == (int)n)
			return k;
		if (k != RING_E_TIMEOUT)
			return k;
		beat(r->s, now_ns());
	}
}

static void relay_close_out(struct relay *r)
{
	if (!r->out_closed) {
		ring_producer_detach(&r->out);
		r->out_closed = true;
		atomic_store_explicit(&r->s->st->state, STAGE_DRAINING, memory_order_release);
	}
}

/* Queue one event for the output ring (see struct relay). */
static void relay_stage(struct relay *r, const void *ev)
{
	if (r->n_staged == RELAY_MAX_OUT) {
		r->staging_overflow = true;
		return;
	}
	copy_event(&r->staged[r->n_staged++], ev);
}

static int relay_main_batch(struct relay *r)
{
	int k = (int)ring_try_peek(&r->main_in, BATCH);
	if (k <= 0)
		return 0;
	uint64_t t_busy = now_ns();
	uint32_t used = 0;
	for (int i = 0; i < k; i++) {
		r->n_staged = 0;
		r->on_main(r, ring_rslot(&r->main_in, (uint32_t)i), t_busy);
		r->main_pos++;
		if (r->staging_overflow)
			return stage_fail(r->s, "one event caused more than %d output events", RELAY_MAX_OUT);
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
					return stage_fail(r->s, "output ring %s", ring_strerror(claimed));
			}
			copy_event(ring_wslot(&r->out, used++), &r->staged[j]);
		}
	}
	ring_publish(&r->out, used);
	ring_release(&r->main_in, (uint32_t)k);
	tap_flush(&r->tap);
	uint64_t t_end = now_ns();
	struct stage_stats *st = r->s->st;
	stats_add(&st->events_in, (uint64_t)k);
	stats_add(&st->events_out, used);
	stats_add(&st->busy_ns, t_end - t_busy);
	return 0;
}

/* Forward a main-line event unchanged and record its receive-to-emit time. */
static void relay_forward(struct relay *r, const union fks_event *ev, uint64_t now)
{
	relay_stage(r, ev);
	if (ev->h.type == FKS_EV_QUOTE || ev->h.type == FKS_EV_TRADE)
		stats_add(&r->s->st->counter[ev->h.type == FKS_EV_TRADE ? CTR_TRADES : CTR_QUOTES], 1);
	if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
		hist_record(&r->s->st->latency, now - (uint64_t)ev->h.recv_time_ns);
}

static int relay_run(struct relay *r)
{
	struct stage *s = r->s;
	struct ring_consumer *inputs[2] = { &r->feedback, &r->main_in };
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	for (;;) {
		if (control_on(&s->run->control.kill) || control_on(&s->run->control.feed_dead))
			r->on_feedback(r, NULL); /* lets risk see the control words */
		relay_drain_feedback(r);
		if (!r->main_done && relay_main_batch(r))
			return 1;
		if (!r->main_done && atomic_load_explicit(&r->main_in.shm->closed, memory_order_acquire) &&
		    !ring_try_peek(&r->main_in, 1)) {
			r->main_done = true;
			relay_close_out(r);
		}
		struct ring_wait w;
		wait_until_tick(s, &w);
		r->feedback.wait = w;
		r->main_in.wait = w;
		unsigned which = 0;
		uint64_t t_idle = now_ns();
		int rc = ring_wait_any(inputs, r->main_done ? 1 : 2, &which);
		uint64_t t_wake = now_ns();
		stats_add(&s->st->idle_ns, t_wake - t_idle);
		beat(s, t_wake);
		if (rc == RING_E_CLOSED && r->main_done)
			break; /* feedback closed and drained too: done */
		if (rc == RING_E_PEER_DEAD && which == 1) {
			/* The main input's producer died: nothing more will come. */
			r->main_done = true;
			relay_close_out(r);
		} else if (rc == RING_E_PEER_DEAD) {
			return stage_fail(s, "execution reports: producer died");
		} else if (rc < 0 && rc != RING_E_TIMEOUT && rc != RING_E_CLOSED) {
			return stage_fail(s, "wait: %s", ring_strerror(rc));
		}
	}
	relay_close_out(r);
	ring_consumer_detach(&r->main_in);
	ring_consumer_detach(&r->feedback);
	tap_close(&r->tap);
	return 0;
}

/* Attach a relay stage's four rings and run it. */
static int relay_start(struct stage *s, struct relay *r, enum run_ring in, enum run_ring fb, enum run_ring out,
		       enum run_ring tap)
{
	r->s = s;
	if (attach_in(s, &r->main_in, in) || attach_in(s, &r->feedback, fb) || attach_out(s, &r->out, out) ||
	    tap_attach(s, &r->tap, tap))
		return 1;
	return relay_run(r);
}

/* ---- strategy ---------------------------------------------------------- */

/* What the strategy logic emits: signals go to the journal only; orders and
 * cancels go on to risk, and to the journal.  All carry the stage's one
 * sequence, whichever instance made them. */
static void strategy_emit(void *ctx, const union fks_event *ev)
{
	struct relay *r = ctx;
	union fks_event copy;
	copy_event(&copy, ev);
	copy.h.seq = ++r->seq;
	copy.h.source = FKS_STAGE_STRATEGY;
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

static int run_strategy(struct stage *s)
{
	static struct signal_logic L; /* large: not on the stack */
	static struct relay r = { .on_main = strategy_on_main, .on_feedback = strategy_on_feedback };
	char err[256];
	if (signal_logic_init(&L, s->a->cfg, strategy_emit, &r, err, sizeof err))
		return stage_fail(s, "%s", err);
	r.logic = &L;
	int rc = relay_start(s, &r, RUN_RING_MD, RUN_RING_EXEC_STRATEGY, RUN_RING_ORDERS, RUN_RING_TAP_STRATEGY);
	signal_logic_free(&L);
	return rc;
}

/* ---- risk -------------------------------------------------------------- */

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
		if (control_on(&r->s->run->control.kill))
			risk_set_kill(R, true);
		if (control_on(&r->s->run->control.feed_dead))
			risk_set_feed_stale(R, true);
		return;
	}
	risk_on_exec(R, ev);
	if (ev->h.type == FKS_EV_FILL) {
		stats_add(&r->s->st->counter[CTR_FILLS], 1);
		risk_publish_positions(r);
	}
}

static void risk_on_main(struct relay *r, const union fks_event *ev, uint64_t now)
{
	struct risk *R = r->logic;
	if (ev->h.type != FKS_EV_ORDER_NEW) {
		relay_forward(r, ev, now); /* market data, and cancels: nothing to check */
		return;
	}
	stats_add(&r->s->st->counter[CTR_ORDERS], 1);
	int64_t limit = 0, value = 0;
	enum fks_risk_reason why = risk_check_order(R, &ev->order_new, (int64_t)now, &limit, &value);
	if (why == FKS_RISK_OK) {
		relay_stage(r, ev);
		stats_add(&r->s->st->counter[CTR_RISK_PASSED], 1);
	} else {
		struct fks_ev_risk_reject rej;
		risk_build_reject(&ev->order_new, why, limit, value, ++r->seq, &rej);
		relay_stage(r, &rej);
		tap_put(&r->tap, &rej);
		stats_add(&r->s->st->counter[CTR_RISK_REJECTED], 1);
		if (why < 16)
			stats_add(&r->s->st->reject_reason[why], 1);
	}
	if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
		hist_record(&r->s->st->latency, now - (uint64_t)ev->h.recv_time_ns);
}

static int run_risk(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct risk R;
	static struct risk_params p;
	p.n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		p.instrument[i] = (struct risk_limits){
			.id = ic->id,
			.qty_scale = ic->qty_scale,
			.max_order_qty = ic->max_order_qty,
			.max_notional = ic->max_notional,
			.max_position = ic->max_position,
		};
	}
	p.stale_data_ns = (int64_t)cfg->risk.stale_data_ms * 1000000;
	p.kill_switch = cfg->risk.kill_switch;
	if (risk_init(&R, &p) != 0)
		return stage_fail(s, "risk: invalid limits");
	static struct relay r = { .on_main = risk_on_main, .on_feedback = risk_on_feedback };
	r.logic = &R;
	return relay_start(s, &r, RUN_RING_ORDERS, RUN_RING_EXEC_RISK, RUN_RING_RISK_OUT, RUN_RING_TAP_RISK);
}

/* ---- gateway ----------------------------------------------------------- */

struct gateway {
	struct stage *s;
	struct sim_venue venue;
	struct ring_consumer in;
	struct ring_producer exec_risk, exec_strategy;
	struct tap tap;
	bool killed;
	uint64_t seq;
	/* position accounting for the summary, by instrument id */
	int64_t position[FKS_MAX_INSTRUMENTS + 1];
	int64_t avg_px[FKS_MAX_INSTRUMENTS + 1];
	int64_t realized[FKS_MAX_INSTRUMENTS + 1];
};

static void gateway_emit_to(struct gateway *g, struct ring_producer *p, const union fks_event *ev)
{
	int k = ring_claim(p, 1);
	if (k != 1) {
		stage_fail(g->s, "execution ring: %s", ring_strerror(k));
		return;
	}
	copy_event(ring_wslot(p, 0), ev);
	ring_publish(p, 1);
	stats_add(&g->s->st->events_out, 1);
}

/* Average-cost accounting, at the instrument's scales. */
static void gateway_account_fill(struct gateway *g, const struct fks_ev_fill *f, int8_t sign)
{
	uint32_t id = f->h.instrument;
	if (id == 0 || id > FKS_MAX_INSTRUMENTS)
		return;
	int64_t qty_unit = fx_pow10(g->s->a->cfg->instrument[id - 1].qty_scale);
	int64_t pos = g->position[id], q = sign * f->qty;
	if (pos == 0 || (pos > 0) == (q > 0)) {
		__int128 cost = (__int128)g->avg_px[id] * (pos < 0 ? -pos : pos) + (__int128)f->px * f->qty;
		int64_t new_abs = (pos < 0 ? -pos : pos) + f->qty;
		g->avg_px[id] = (int64_t)(cost / new_abs);
	} else {
		int64_t closed = f->qty < (pos < 0 ? -pos : pos) ? f->qty : (pos < 0 ? -pos : pos);
		__int128 pnl = (__int128)(f->px - g->avg_px[id]) * closed * (pos > 0 ? 1 : -1) / qty_unit;
		g->realized[id] += (int64_t)pnl;
		if (f->qty > closed)
			g->avg_px[id] = f->px; /* flipped side: the rest opens at this price */
	}
	g->position[id] = pos + q;
	atomic_store_explicit(&g->s->st->position[id], g->position[id], memory_order_relaxed);
	atomic_store_explicit(&g->s->st->realized_pnl[id], g->realized[id], memory_order_relaxed);
}

static int8_t gateway_fill_sign(struct gateway *g, uint64_t order_id)
{
	uint8_t side = FKS_SIDE_NONE;
	sim_venue_order_side(&g->venue, order_id, &side);
	return side == FKS_SIDE_SELL ? -1 : 1;
}

static void gateway_emit(void *ctx, const union fks_event *in)
{
	struct gateway *g = ctx;
	struct stage_stats *st = g->s->st;
	/* Everything the gateway emits, the venue's events and its own kill
	 * rejects alike, shares one sequence: the gateway is one source. */
	union fks_event copy;
	copy_event(&copy, in);
	copy.h.seq = ++g->seq;
	const union fks_event *ev = &copy;
	switch (ev->h.type) {
	case FKS_EV_ORDER_ACK: stats_add(&st->counter[CTR_ACKS], 1); break;
	case FKS_EV_FILL:
		stats_add(&st->counter[CTR_FILLS], 1);
		gateway_account_fill(g, &ev->fill, gateway_fill_sign(g, ev->fill.order_id));
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
	gateway_emit_to(g, &g->exec_risk, ev);
	gateway_emit_to(g, &g->exec_strategy, ev);
	tap_put(&g->tap, ev);
}

static void gateway_kill(struct gateway *g)
{
	if (g->killed)
		return;
	g->killed = true;
	atomic_store_explicit(&g->s->st->counter[CTR_ORDERS_AT_KILL],
			      atomic_load_explicit(&g->s->st->counter[CTR_ORDERS], memory_order_relaxed),
			      memory_order_relaxed);
	sim_venue_cancel_all(&g->venue, gateway_emit, g);
}

static void gateway_on_event(struct gateway *g, const union fks_event *ev, uint64_t now)
{
	struct stage_stats *st = g->s->st;
	switch (ev->h.type) {
	case FKS_EV_ORDER_NEW:
		if (g->killed) {
			/* No order leaves once the kill switch is on; the strategy
			 * and risk learn of it through a venue-style reject. */
			union fks_event rej;
			memset(&rej, 0, sizeof rej);
			rej.order_reject.h = ev->h;
			rej.order_reject.h.type = FKS_EV_ORDER_REJECT;
			rej.order_reject.h.source = FKS_STAGE_GATEWAY;
			rej.order_reject.order_id = ev->order_new.order_id;
			rej.order_reject.reason = GATEWAY_REJ_KILL_SWITCH;
			stats_add(&st->counter[CTR_KILL_BLOCKED], 1);
			gateway_emit(g, &rej);
			return;
		}
		stats_add(&st->counter[CTR_ORDERS], 1);
		if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
			hist_record(&st->tick_to_trade, now - (uint64_t)ev->h.recv_time_ns);
		sim_venue_on_order(&g->venue, ev, gateway_emit, g);
		break;
	case FKS_EV_ORDER_CANCEL:
		sim_venue_on_order(&g->venue, ev, gateway_emit, g);
		break;
	case FKS_EV_RISK_REJECT:
		/* risk already knows; the strategy must release its pending qty */
		gateway_emit_to(g, &g->exec_strategy, ev);
		break;
	case FKS_EV_QUOTE:
	case FKS_EV_TRADE:
		stats_add(&st->counter[ev->h.type == FKS_EV_QUOTE ? CTR_QUOTES : CTR_TRADES], 1);
		sim_venue_on_market(&g->venue, ev, gateway_emit, g);
		break;
	default:
		break;
	}
}

static int run_gateway(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct gateway g;
	g.s = s;
	/* The venue section through the sim venue's own init, as the loader
	 * checked it; the stage runs the sim venue only (the one registered). */
	struct venue_ctx vctx;
	struct venue_param vparams[FKS_VENUE_PARAMS_MAX];
	struct venue_error verr = { .key = NULL };
	if (venue_find(cfg->venue.type) != &sim_venue_vtbl)
		return stage_fail(s, "venue type %s: the gateway stage runs the sim venue only", cfg->venue.type);
	config_venue_ctx(cfg, &vctx);
	if (sim_venue_vtbl.init(&g.venue, &vctx, vparams, config_venue_params(cfg, vparams), &verr) != 0)
		return stage_fail(s, "simulated venue: %s%s%s", verr.key ? verr.key : "", verr.key ? ": " : "",
				  verr.msg);
	if (attach_in(s, &g.in, RUN_RING_RISK_OUT) || attach_out(s, &g.exec_risk, RUN_RING_EXEC_RISK) ||
	    attach_out(s, &g.exec_strategy, RUN_RING_EXEC_STRATEGY) || tap_attach(s, &g.tap, RUN_RING_TAP_GATEWAY))
		return 1;
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	int rc = 0;
	for (;;) {
		if (control_on(&s->run->control.kill) && !g.killed) {
			gateway_kill(&g);
			tap_flush(&g.tap);
		}
		wait_until_tick(s, &g.in.wait);
		uint64_t t_idle = now_ns();
		int k = ring_peek(&g.in, BATCH);
		uint64_t t_busy = now_ns();
		stats_add(&s->st->idle_ns, t_busy - t_idle);
		beat(s, t_busy);
		if (k == RING_E_TIMEOUT)
			continue;
		if (k == RING_E_PEER_DEAD) {
			/* Risk died: whatever it had not checked must never leave.
			 * Act as the kill switch at once, without waiting for the
			 * supervisor to notice and trip it. */
			gateway_kill(&g);
			break;
		}
		if (k == RING_E_CLOSED)
			break;
		if (k < 0) {
			rc = stage_fail(s, "input: %s", ring_strerror(k));
			break;
		}
		for (int i = 0; i < k; i++)
			gateway_on_event(&g, ring_rslot(&g.in, (uint32_t)i), t_busy);
		ring_release(&g.in, (uint32_t)k);
		tap_flush(&g.tap);
		stats_add(&s->st->events_in, (uint64_t)k);
		stats_add(&s->st->busy_ns, now_ns() - t_busy);
	}
	/* Input is over: leave nothing open at the venue, then close the
	 * execution rings so strategy and risk can finish. */
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	if (control_on(&s->run->control.kill))
		gateway_kill(&g); /* the input may have ended because of what tripped it */
	sim_venue_cancel_all(&g.venue, gateway_emit, &g);
	ring_producer_detach(&g.exec_risk);
	ring_producer_detach(&g.exec_strategy);
	ring_consumer_detach(&g.in);
	tap_close(&g.tap);
	return rc;
}

/* ---- journal ----------------------------------------------------------- */

/*
 * The one LMDB writer.  It drains the four taps in turn, appends each event
 * under the next global sequence number, and commits a batch when it holds
 * journal.batch_events events or its first event has waited batch_us.  It
 * never drops: when it falls behind, the taps fill and their stages block.
 * It ignores the kill switch (a killed pipeline still wants its record) and
 * stops once every tap is closed and drained.
 */
#define JOURNAL_TAPS 4

struct journal_stage {
	struct stage *s;
	struct journal *j;
	struct ring_consumer tap[JOURNAL_TAPS];
	bool done[JOURNAL_TAPS];
	uint64_t liveness_ns[JOURNAL_TAPS]; /* last /proc look at each producer */
	uint64_t batch_n;       /* appended since the last commit */
	uint64_t due_ns;        /* commit by then; 0: nothing pending */
};

static int journal_stage_commit(struct journal_stage *J)
{
	uint64_t t = now_ns();
	int rc = journal_commit(J->j);
	uint64_t t_end = now_ns();
	if (rc)
		return stage_fail(J->s, "journal commit: %s", journal_error(J->j));
	struct stage_stats *st = J->s->st;
	hist_record(&st->latency, t_end - t);
	stats_add(&st->counter[CTR_COMMITS], 1);
	atomic_store_explicit(&st->counter[CTR_JOURNALED], journal_committed_seq(J->j), memory_order_relaxed);
	atomic_store_explicit(&st->counter[CTR_MAP_GROWS], journal_map_grows(J->j), memory_order_relaxed);
	J->batch_n = 0;
	/* async: a busy committer leaves events pending; come back for them. */
	J->due_ns = journal_pending(J->j) ? t_end + J->s->a->cfg->journal.batch_us * 1000ull : 0;
	return 0;
}

/* Append what one tap holds now; returns events taken, or -1 on failure. */
static int journal_stage_drain(struct journal_stage *J, unsigned t)
{
	const struct fks_config *cfg = J->s->a->cfg;
	int total = 0, k;
	while ((k = (int)ring_try_peek(&J->tap[t], BATCH * 4)) > 0) {
		uint64_t t_busy = now_ns();
		for (int i = 0; i < k; i++) {
			const union fks_event *ev = ring_rslot(&J->tap[t], (uint32_t)i);
			int rc = journal_append(J->j, ev, NULL, 0);
			if (rc)
				return stage_fail(J->s, "journal append (type %u from tap %u): %s", ev->h.type, t,
						  journal_strerror(rc)), -1;
		}
		ring_release(&J->tap[t], (uint32_t)k);
		if (!J->batch_n)
			J->due_ns = t_busy + cfg->journal.batch_us * 1000ull;
		J->batch_n += (uint64_t)k;
		total += k;
		stats_add(&J->s->st->events_in, (uint64_t)k);
		if (J->batch_n >= cfg->journal.batch_events && journal_stage_commit(J))
			return -1;
		uint64_t t_end = now_ns();
		stats_add(&J->s->st->busy_ns, t_end - t_busy);
		beat(J->s, t_end); /* a busy journal is not a stalled one */
		if ((uint64_t)total >= cfg->journal.batch_events)
			break; /* let the other taps in: no tap starves another */
	}
	return total;
}

/* Its producer closed the tap, or died (checked through /proc, so only
 * every 100 ms).  The supervisor deals with a death; the journal only
 * stops waiting for that tap. */
static bool journal_tap_over(struct journal_stage *J, unsigned t, uint64_t now)
{
	const struct ring_shared *shm = J->tap[t].shm;
	if (atomic_load_explicit(&shm->closed, memory_order_acquire))
		return true;
	if (now - J->liveness_ns[t] < 100000000ull)
		return false;
	J->liveness_ns[t] = now;
	return ring_side_state(shm, RING_PRODUCER, now, 0) == RING_PEER_DEAD;
}

/* How long an idle journal sleeps between looks at its taps: its batch
 * window, within [50 us, 1 ms].  Well inside `fks tail`'s 50 ms. */
static uint64_t journal_poll_ns(const struct fks_config *cfg)
{
	uint64_t ns = cfg->journal.batch_us * 1000ull;
	return ns < 50000 ? 50000 : ns > 1000000 ? 1000000 : ns;
}

static int run_journal(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct journal_stage J;
	J.s = s;
	static struct journal_meta meta; /* ~100 KiB: not on the stack */
	journal_meta_from_config(&meta, cfg, s->a->version ? s->a->version : "unknown");
	struct journal_options opt = { .sync = cfg->journal.sync, .batch_hint = cfg->journal.batch_events };
	char err[512];
	if (journal_create(s->a->journal_dir, &meta, &opt, &J.j, err, sizeof err))
		return stage_fail(s, "%s", err);
	static const enum run_ring taps[JOURNAL_TAPS] = { RUN_RING_TAP_FEED, RUN_RING_TAP_STRATEGY,
							  RUN_RING_TAP_RISK, RUN_RING_TAP_GATEWAY };
	for (unsigned t = 0; t < JOURNAL_TAPS; t++)
		if (attach_in(s, &J.tap[t], taps[t]))
			return 1;
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	for (;;) {
		bool took = false;
		for (unsigned t = 0; t < JOURNAL_TAPS; t++) {
			if (J.done[t])
				continue;
			int k = journal_stage_drain(&J, t);
			if (k < 0)
				return 1;
			took |= k > 0;
		}
		uint64_t now = now_ns();
		if (J.due_ns && now >= J.due_ns && journal_stage_commit(&J))
			return 1;
		beat(s, now);
		if (took)
			continue;
		/* Nothing new: note the taps that are over, then sleep. */
		bool any_open = false;
		for (unsigned t = 0; t < JOURNAL_TAPS; t++) {
			if (J.done[t])
				continue;
			if (ring_try_peek(&J.tap[t], 1) == 0 && journal_tap_over(&J, t, now) &&
			    ring_try_peek(&J.tap[t], 1) == 0)
				J.done[t] = true; /* nothing more comes */
			else
				any_open = true;
		}
		if (!any_open)
			break;
		/* Poll, never park: a parked consumer costs every producer a futex
		 * wake-up per batch, a syscall on the hot path of the feed, to
		 * save a journal that is not latency-critical a few wake-ups. */
		uint64_t until = now + journal_poll_ns(cfg);
		if (J.due_ns && J.due_ns < until)
			until = J.due_ns;
		struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ull), .tv_nsec = (long)(until % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		stats_add(&s->st->idle_ns, now_ns() - now);
	}
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	uint64_t appended = journal_appended_seq(J.j);
	int rc = journal_close(J.j); /* commits the rest and flushes it; frees J.j */
	J.j = NULL;
	if (rc == 0)
		atomic_store_explicit(&s->st->counter[CTR_JOURNALED], appended, memory_order_relaxed);
	for (unsigned t = 0; t < JOURNAL_TAPS; t++)
		ring_consumer_detach(&J.tap[t]);
	if (rc)
		return stage_fail(s, "journal close: %s", journal_strerror(rc));
	return 0;
}

/* ---- entry ------------------------------------------------------------- */

static int pin_to(int core)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

int stage_main(const struct stage_args *a)
{
	char title[32];
	snprintf(title, sizeof title, "fks:%s", config_stage_name(a->id));
	proctitle_set(title);

	struct stage s = { .a = a };
	int rc = runseg_open(a->prefix, true, &s.run);
	if (rc) {
		fprintf(stderr, "%s: run segment: %s\n", title, ring_strerror(rc));
		return 1;
	}
	s.st = &s.run->stage[a->id];
	s.wait = a->cfg->stage[a->id].wait;
	atomic_store_explicit(&s.st->pid, getpid(), memory_order_relaxed);
	atomic_store_explicit(&s.st->heartbeat_ns, now_ns(), memory_order_relaxed);
	if (pin_to(a->cfg->stage[a->id].core) != 0)
		return stage_fail(&s, "cannot pin to core %d: %s", a->cfg->stage[a->id].core, strerror(errno));

	switch (a->id) {
	case FKS_CFG_FEED: rc = run_feed(&s); break;
	case FKS_CFG_STRATEGY: rc = run_strategy(&s); break;
	case FKS_CFG_RISK: rc = run_risk(&s); break;
	case FKS_CFG_GATEWAY: rc = run_gateway(&s); break;
	case FKS_CFG_JOURNAL: rc = run_journal(&s); break;
	default: rc = stage_fail(&s, "unknown stage"); break;
	}
	if (rc == 0)
		atomic_store_explicit(&s.st->state, STAGE_EXITED, memory_order_release);
	runseg_close(s.run);
	return rc;
}
