/*
 * Private to the stage processes (pipeline/runtime/stage_*.c): the runtime
 * every stage shares, and each stage's entry point.
 *
 *   stage_common.c    this header's runtime (failure, heartbeat, ring
 *                     attach, journal taps) and stage_main()
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

struct stage {
	const struct stage_args *a;
	struct run_segment *run;
	struct stage_stats *st;
	struct ring_wait wait;
	uint64_t last_beat;
	uint64_t last_cpu_sample;
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
	void *slot = t->used < t->p.claimed ? ring_wslot(&t->p, t->used++) : tap_slot_refill(t);
	if (!slot) {
		stats_add(&t->s->st->counter[CTR_TAPPED], 1);
		stats_add(&t->s->st->counter[CTR_TAP_REFUSED], 1);
		return;
	}
	stage_copy_event(slot, ev);
	stats_add(&t->s->st->counter[CTR_TAPPED], 1);
}

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

/* Queue one event for the output ring (see struct relay). */
void relay_stage(struct relay *r, const void *ev);
/* Forward a main-line event unchanged and record its receive-to-emit time. */
void relay_forward(struct relay *r, const union fks_event *ev, uint64_t now);
/* Attach a relay stage's four rings and run it; the exit code. */
int relay_start(struct stage *s, struct relay *r, enum run_ring in, enum run_ring fb, enum run_ring out,
		enum run_ring tap);

/* ---- the stages: each runs to completion, returns the exit code ---------- */

int stage_run_feed(struct stage *s);
int stage_run_strategy(struct stage *s);
int stage_run_risk(struct stage *s);
int stage_run_gateway(struct stage *s);
int stage_run_journal(struct stage *s);

#endif
