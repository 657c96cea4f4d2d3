/*
 * Private to the stage processes (pipeline/runtime/stage_*.c): the runtime
 * every stage shares, and each stage's entry point.
 *
 *   stage_common.c    this header's runtime (failure, heartbeat, ring
 *                     attach, journal taps)
 *   stage_relay.c     the loop of strategy and risk: a main input, a
 *                     feedback input, a main output
 *   stage_feed.c      feed: synthetic, or a venue through feed_source
 *   stage_strategy.c  strategy: signal_logic on the market data
 *   stage_risk.c      risk: every order checked by gateway/risk
 *   stage_gateway.c   gateway: the config's venue, through venue_driver.h
 *   stage_journal.c   journal: the one LMDB writer, draining the taps
 *
 * Each stage keeps its state in one struct (struct feed_stage, ...),
 * allocated by its entry point, never in function-local statics.
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
#ifndef FKS_PIPELINE_STAGE_INT_H
#define FKS_PIPELINE_STAGE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pipeline/runtime/stage.h"

#define STAGE_TICK_NS 20000000ull /* longest wait before a heartbeat */
#define STAGE_CPU_SAMPLE_NS 10000000ull /* CPU time into the stats block: a syscall, so not per beat */
#define BATCH 32

/* ---- runtime shared by every stage (stage_common.c) ---------------------- */

struct kernel;
struct venue_ctx;

/* A stage run by direct calls in one process instead of by a runner over
 * rings: how replay runs the kernels (lockstep.c).  Its rings stay
 * unattached; what it taps and the execution reports the gateway sends
 * back go to these calls, and every event the stage makes carries
 * ev_flags (FKS_EVF_REPLAY).  Nothing waits in this mode: a call returns
 * when the event is handled. */
struct stage_direct {
	void (*tap)(void *ctx, enum fks_cfg_stage from, const union fks_event *ev);
	void (*feedback)(void *ctx, enum run_ring r, const union fks_event *ev);
	void *ctx;
	uint16_t ev_flags;
	/* The gateway's venue: this context and these parameters, not the
	 * config's section (replay's fill-model knobs); NULL: the config's. */
	const struct venue_ctx *venue_ctx;
	const struct fks_param *venue_params;
	size_t n_venue_params;
};

struct stage {
	const struct stage_args *a;
	struct run_segment *run;
	struct stage_stats *st;
	struct ring_wait wait;
	uint64_t last_beat;
	struct kernel *k;       /* the kernel this stage runs as (runner.c) */
	uint64_t last_cpu_sample;
	const struct stage_direct *direct; /* NULL: a runner over rings */
	uint16_t ev_flags;      /* OR-ed into the flags of every event it makes */
};

/* The small helpers of the hot path are inline here: the stages were one
 * file, and the build has no link-time optimisation. */
static inline uint64_t stage_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Record the error in the stage's stats block and on stderr, mark the stage
 * failed; returns 1, the exit code. */
int stage_fail(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The process's CPU time into the stats block (runseg.h, cpu_ns); the
 * first call also marks the stage's start. */
static inline void stage_sample_cpu(struct stage *s, uint64_t now)
{
	struct timespec ts;
	s->last_cpu_sample = now;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return;
	if (!atomic_load_explicit(&s->st->cpu_since_ns, memory_order_relaxed))
		atomic_store_explicit(&s->st->cpu_since_ns, now, memory_order_relaxed);
	atomic_store_explicit(&s->st->cpu_ns, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
			      memory_order_relaxed);
	atomic_store_explicit(&s->st->cpu_at_ns, now, memory_order_relaxed);
}

/* The heartbeat, at most once a millisecond; the CPU time less often. */
static inline void stage_beat(struct stage *s, uint64_t now)
{
	if (now - s->last_beat < 1000000)
		return;
	s->last_beat = now;
	atomic_store_explicit(&s->st->heartbeat_ns, now, memory_order_relaxed);
	if (now - s->last_cpu_sample >= STAGE_CPU_SAMPLE_NS)
		stage_sample_cpu(s, now);
}

static inline bool stage_control_on(_Atomic uint32_t *w)
{
	return atomic_load_explicit(w, memory_order_relaxed) != 0;
}

int stage_attach_in(struct stage *s, struct ring_consumer *c, enum run_ring r);
int stage_attach_out(struct stage *s, struct ring_producer *p, enum run_ring r);
/* Bounded waits: the deadline is the next heartbeat. */
void stage_wait_until_tick(struct stage *s, struct ring_wait *w);
static inline void stage_copy_event(void *dst, const union fks_event *ev)
{
	memcpy(dst, ev, fks_event_size(ev->h.type));
}

/* A stage's tap: events are written into claimed slots as they happen and
 * published together by tap_flush() at the end of the stage's batch, so the
 * journal costs the hot path a copy, not a cursor store per event. */
struct tap {
	struct stage *s;
	const struct stage_direct *direct; /* set: each event goes to direct->tap */
	struct ring_producer p;
	uint32_t used;          /* written since the last flush */
	bool attached, dead;    /* dead: the journal stage is gone */
};

int tap_attach(struct stage *s, struct tap *t, enum run_ring r);
void tap_close(struct tap *t);

static inline void tap_flush(struct tap *t)
{
	if (t->used) {
		ring_publish(&t->p, t->used);
		t->used = 0;
	}
}

/* The next free slot once the claimed ones are used (stage_common.c). */
void *tap_slot_refill(struct tap *t);

/* Copy one event into the tap.  Every event counts as tapped, and as
 * refused too once the journal stage is gone (runseg.h). */
static inline void tap_put(struct tap *t, const void *ev)
{
	if (__builtin_expect(t->direct != NULL, 0)) {
		t->direct->tap(t->direct->ctx, t->s->a->id, ev);
		stats_add(&t->s->st->counter[CTR_TAPPED], 1);
		return;
	}
	void *slot = t->used < t->p.claimed ? ring_wslot(&t->p, t->used++) : tap_slot_refill(t);
	if (!slot) {
		stats_add(&t->s->st->counter[CTR_TAPPED], 1);
		stats_add(&t->s->st->counter[CTR_TAP_REFUSED], 1);
		return;
	}
	stage_copy_event(slot, ev);
	stats_add(&t->s->st->counter[CTR_TAPPED], 1);
}

/* ---- kernels and runners (runner.c) -------------------------------------
 *
 * A stage is a kernel: its state in one struct, and three calls the runner
 * makes.  open attaches its rings; poll does what is ready now (a batch of
 * input, a due timer) and returns at once; close detaches and finishes.  A
 * runner is one process that polls its kernels in turn, one duty cycle, and
 * applies its idle strategy when a whole cycle found no work.
 *
 * Where a kernel must wait inside a poll (an output or a tap is full, a
 * paced recording is early), it calls stage_yield(): in a runner of its
 * own that is a bounded wait as before; in a shared runner it polls the
 * kernels after it in pipeline order once, so the consumer it waits for,
 * when it runs in this process, gets to drain the ring.  Every wait points
 * downstream, so no kernel waits for one below it on the stack: the
 * gateway, last, queues what its execution rings cannot take rather than
 * wait on strategy and risk, and the journal, which every tap waits for,
 * has a runner of its own (the config checks).
 */
enum { KERNEL_DONE = -1, KERNEL_FAILED = -2 };

struct kernel_ops {
	/* Allocate the state and attach the rings: 0, or 1 after stage_fail. */
	int (*open)(struct kernel *k);
	/* Work done now (0: nothing was ready), KERNEL_DONE once every input
	 * is over, or KERNEL_FAILED after stage_fail. */
	int (*poll)(struct kernel *k, uint64_t now);
	/* Detach and free; the stage's exit code (0 or 1). */
	int (*close)(struct kernel *k);
};

#define KERNEL_WAKE_MAX 2

struct kernel {
	struct stage s;
	const struct kernel_ops *ops;
	void *state;
	struct runner *runner;
	bool opened, done, active; /* active: inside its poll (stage_yield skips it) */
	int rc;
	/* What the runner parks on when the cycle is idle: the kernel's inputs
	 * (kept current by the kernel), and the earliest time it wants a poll
	 * without input (a pace, a timer, a commit due); 0: none. */
	struct ring_consumer *wake_in[KERNEL_WAKE_MAX];
	unsigned n_wake_in;
	uint64_t wake_ns;
	bool check_inputs;       /* the runner saw a producer die: look now (stage_producer_gone) */
	struct relay *relay;     /* strategy and risk: their loop, which lockstep.c drives directly */
};

/* The producer of c is gone (dead, or detached without closing): looked up
 * in /proc, so at most every 100 ms per ring (*last_ns), or at once when the
 * runner saw a producer die.  Call it only when c is empty. */
bool stage_producer_gone(struct stage *s, struct ring_consumer *c, uint64_t *last_ns, uint64_t now);

/* True when the stage shares its runner with other kernels. */
bool stage_shared(const struct stage *s);
/* Inside a poll, waiting for room or time: let the runner's other kernels
 * run once, and idle briefly if none had work; beats every kernel of the
 * runner (they all wait with this one).  Only in a shared runner. */
void stage_yield(struct stage *s);
/* Claim n slots of p, waiting at most wait_ns: n, or RING_E_TIMEOUT (beat,
 * look at the control words, call again), RING_E_PEER_DEAD, or another
 * ring error.  In a runner of its own the wait is the ring's; in a shared
 * one it is stage_yield, so a consumer in this process drains the ring. */
int stage_claim(struct stage *s, struct ring_producer *p, uint32_t n, uint64_t wait_ns);

extern const struct kernel_ops feed_kernel, strategy_kernel, risk_kernel, gateway_kernel, journal_kernel;

/* Direct calls into an opened gateway kernel (lockstep.c): one input
 * event handled, the end of input (cancel what is open at the venue), and
 * the side of an order the venue knows (fills carry none). */
void gateway_direct_event(struct kernel *k, const union fks_event *ev, uint64_t now);
void gateway_direct_finish(struct kernel *k);
uint8_t gateway_direct_order_side(struct kernel *k, uint64_t order_id);
bool gateway_direct_venue_is_sync(struct kernel *k);

/* ---- strategy and risk: a main input, a feedback input, a main output ----
 * (stage_relay.c) */

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
	uint64_t main_checked_ns, feedback_checked_ns; /* stage_producer_gone */
	uint64_t seq; /* the stage's own events (orders, rejects): one sequence per source */
	uint64_t main_pos; /* main-input events handled so far: where feedback lands */
	void (*on_feedback)(struct relay *r, const union fks_event *ev);
	/* Handle one main-line event: stage what it sends on (relay_stage). */
	void (*on_main)(struct relay *r, const union fks_event *ev, uint64_t now);
	void *logic;
	/* The output of the event being handled.  It is copied to the ring only
	 * once the event is done, so an execution report applied while the
	 * output waits for room lands between two events, never inside one:
	 * that is what the APPLIED marker can record and replay reproduce.
	 * staged[] points at the input event itself where the stage passes it
	 * on unchanged (it stays valid until the input is released, after the
	 * copy), and into made[] for the events the stage makes. */
	uint32_t n_staged, n_made;
	bool staging_overflow;
	const union fks_event *staged[RELAY_MAX_OUT];
	union fks_event made[RELAY_MAX_OUT];
};

/* Queue for the output ring (see struct relay) an event the stage made
 * (copied), or the input event it passes on unchanged (by reference). */
void relay_stage(struct relay *r, const void *ev);
static inline void relay_pass(struct relay *r, const union fks_event *in)
{
	if (r->n_staged == RELAY_MAX_OUT) {
		r->staging_overflow = true;
		return;
	}
	r->staged[r->n_staged++] = in;
}
/* Empty the staged output (before an event, or a lockstep turn). */
static inline void relay_unstage(struct relay *r)
{
	r->n_staged = 0;
	r->n_made = 0;
}
/* One main-line event through on_main; what it sends on is appended to
 * r->staged (the caller empties it).  now: the stage's clock. */
static inline void relay_main_event(struct relay *r, const union fks_event *ev, uint64_t now)
{
	r->on_main(r, ev, now);
	r->main_pos++;
}
/* One execution report applied, and its FKS_EV_APPLIED marker tapped. */
void relay_apply(struct relay *r, const union fks_event *ev);
/* Forward a main-line event unchanged and record its receive-to-emit time. */
static inline void relay_forward(struct relay *r, const union fks_event *ev, uint64_t now)
{
	relay_pass(r, ev);
	if (ev->h.type == FKS_EV_QUOTE || ev->h.type == FKS_EV_TRADE)
		stats_add(&r->s->st->counter[ev->h.type == FKS_EV_TRADE ? CTR_TRADES : CTR_QUOTES], 1);
	if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
		hist_record(&r->s->st->latency, now - (uint64_t)ev->h.recv_time_ns);
}
/* The relay as a kernel: attach its four rings (0, or 1 after stage_fail),
 * poll, and close (kernel_ops). */
int relay_open(struct stage *s, struct relay *r, enum run_ring in, enum run_ring fb, enum run_ring out,
	       enum run_ring tap);
int relay_poll(struct relay *r, uint64_t now);
int relay_close(struct relay *r);

#endif
