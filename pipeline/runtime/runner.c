/*
 * A runner: one process pinned to one core that runs the kernels of one or
 * more stages in one duty cycle (stage_int.h), and applies its idle
 * strategy when a whole cycle found no work:
 *
 *   spin     poll again at once (a core of its own: the config checks)
 *   backoff  spin spin_iters empty cycles, then sched_yield a while, then park
 *   park     spin spin_iters empty cycles, then park
 *
 * Parking sleeps on every input ring of every kernel at once (futex_waitv,
 * ring_wait_any), bounded by the earliest time a kernel asked to be polled
 * (a paced feed, a venue timer, a commit due) and by the heartbeat tick.
 *
 * Busy and idle time (busy_ns, idle_ns in each stage's stats).  A kernel
 * times the sections in which it handles events itself: its busy time.  The
 * runner counts the rest that is idle for every kernel in it: the runs of
 * cycles in which no kernel had work, all phases of the idle strategy
 * included (the spin, the yields, the park).  In a shared runner the time
 * a kernel spends in the polls of the kernels after it (stage_yield, when
 * those had work) is theirs: it comes off the caller's own count.  So for
 * each stage busy + idle is close to its wall time, less the busy time of
 * the other stages in its runner.
 */
#include "pipeline/runtime/stage_int.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/runtime/proctitle.h"

/* Empty cycles a backoff runner yields the core for, after its spin phase
 * and before it parks. */
#define BACKOFF_YIELDS 64
/* A kernel waiting inside a poll in a shared runner (stage_yield), when no
 * other kernel had work: what it waits for is in another process. */
#define YIELD_NAP_NS 50000ull
/* A long run of idle cycles is added to the stages' idle time in steps of
 * this, so `fks status` sees it grow while the runner waits. */
#define IDLE_SETTLE_NS 1000000ull

struct runner {
	const struct fks_runner_cfg *cfg;
	struct run_segment *run;
	unsigned n;
	struct kernel k[FKS_CFG_STAGE_COUNT];
	/* Idle accounting (see the top): the start of the run of idle cycles
	 * not yet added to the stages' idle_ns (0: none), and each kernel's
	 * busy_ns + idle_ns when it started, so that what a kernel counted
	 * itself in that run (a feed blocking in its poll, a journal commit in
	 * a poll that took no event) is not added again. */
	uint64_t idle_from;
	uint64_t counted_seen[FKS_CFG_STAGE_COUNT];
	/* Per kernel, inside its poll: the time spent in the polls of other
	 * kernels that had work (stage_yield); and whether any had. */
	uint64_t nested_ns[FKS_CFG_STAGE_COUNT];
	bool nested_work;
};

static const struct kernel_ops *const kernel_of[FKS_CFG_STAGE_COUNT] = {
	[FKS_CFG_FEED] = &feed_kernel,       [FKS_CFG_STRATEGY] = &strategy_kernel,
	[FKS_CFG_RISK] = &risk_kernel,       [FKS_CFG_GATEWAY] = &gateway_kernel,
	[FKS_CFG_JOURNAL] = &journal_kernel,
};

bool stage_shared(const struct stage *s)
{
	return s->k->runner->n > 1;
}

static void kernel_finish(struct kernel *k, int result)
{
	k->done = true;
	int rc = k->ops->close(k);
	stage_sample_cpu(&k->s, stage_now_ns()); /* the whole life, for the run's summary */
	k->rc = result == KERNEL_FAILED || rc ? 1 : 0;
	if (k->rc == 0)
		atomic_store_explicit(&k->s.st->state, STAGE_EXITED, memory_order_release);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void stats_take(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - v, memory_order_relaxed);
}

/* The polls of other kernels that k ran while it waited inside its poll
 * were counted by them; k timed them as part of its own busy section (or,
 * a feed waiting for its pace, as idle): take them off what k counted
 * during this poll, busy first. */
static void kernel_drop_nested(struct kernel *k, uint64_t nested, uint64_t busy0, uint64_t idle0)
{
	struct stage_stats *st = k->s.st;
	uint64_t from_busy = min_u64(nested, atomic_load_explicit(&st->busy_ns, memory_order_relaxed) - busy0);
	stats_take(&st->busy_ns, from_busy);
	uint64_t from_idle = min_u64(nested - from_busy, atomic_load_explicit(&st->idle_ns, memory_order_relaxed) - idle0);
	stats_take(&st->idle_ns, from_idle);
}

/* Poll one kernel; its work, 0 if it had none or is over. */
static int kernel_poll(struct kernel *k, uint64_t now)
{
	struct runner *R = k->runner;
	unsigned i = (unsigned)(k - R->k);
	uint64_t busy0 = 0, idle0 = 0;
	if (R->n > 1) {
		busy0 = atomic_load_explicit(&k->s.st->busy_ns, memory_order_relaxed);
		idle0 = atomic_load_explicit(&k->s.st->idle_ns, memory_order_relaxed);
		R->nested_ns[i] = 0;
	}
	k->active = true;
	int r = k->ops->poll(k, now);
	k->active = false;
	if (R->n > 1 && R->nested_ns[i])
		kernel_drop_nested(k, R->nested_ns[i], busy0, idle0);
	if (r == KERNEL_DONE || r == KERNEL_FAILED) {
		kernel_finish(k, r);
		return 0;
	}
	stage_beat(&k->s, r > 0 ? stage_now_ns() : now);
	return r;
}

/* Only the kernels after the caller, in pipeline order, run: the ones its
 * output flows to, the only ones whose progress it can be waiting for (the
 * journal has a process of its own).  A kernel that ran the ones before it
 * could find one waiting for it below on the stack: risk blocked on the
 * gateway's full input while the gateway, which called it, waits; that
 * never returns.  So every wait points downstream and the gateway, last,
 * waits on nobody in its runner. */
void stage_yield(struct stage *s)
{
	struct runner *R = s->k->runner;
	unsigned self = (unsigned)(s->k - R->k);
	uint64_t t0 = stage_now_ns();
	int work = 0;
	for (unsigned i = self + 1; i < R->n; i++) {
		struct kernel *k = &R->k[i];
		if (!k->done && !k->active)
			work += kernel_poll(k, t0);
	}
	uint64_t now = stage_now_ns();
	for (unsigned i = 0; i < R->n; i++)
		if (!R->k[i].done)
			stage_beat(&R->k[i].s, now);
	if (work) {
		R->nested_ns[self] += now - t0;
		R->nested_work = true;
		return;
	}
	if (R->cfg->idle == FKS_IDLE_SPIN) {
		ring_cpu_relax();
	} else {
		struct timespec ts = { 0, (long)YIELD_NAP_NS };
		nanosleep(&ts, NULL);
	}
	/* Nobody had work: for the caller this is its own wait (it counts it),
	 * for the kernels not on the stack it is the runner's idle time. */
	uint64_t dt = stage_now_ns() - t0;
	for (unsigned i = 0; i < R->n; i++)
		if (!R->k[i].done && !R->k[i].active)
			stats_add(&R->k[i].s.st->idle_ns, dt);
}

int stage_claim(struct stage *s, struct ring_producer *p, uint32_t n, uint64_t wait_ns)
{
	uint64_t until = stage_now_ns() + wait_ns;
	if (!stage_shared(s)) {
		struct ring_wait saved = p->wait;
		p->wait.deadline_ns = until;
		int k = ring_claim(p, n);
		p->wait = saved;
		return k;
	}
	if (n > p->mask + 1)
		return RING_E_ARG;
	for (;;) {
		if (ring_try_claim(p, n) == n)
			return (int)n;
		stage_yield(s);
		uint64_t now = stage_now_ns();
		if (now >= until) {
			enum ring_peer_state ps = ring_side_state(p->shm, RING_CONSUMER, now, 0);
			if (ps == RING_PEER_DEAD || ps == RING_PEER_LEFT)
				return ring_try_claim(p, n) == n ? (int)n : RING_E_PEER_DEAD;
			return RING_E_TIMEOUT;
		}
	}
}

/* Park until an input of any kernel has data, or the earliest wake time. */
static void runner_park(struct runner *R)
{
	uint64_t now = stage_now_ns();
	uint64_t until = now + STAGE_TICK_NS;
	struct ring_consumer *in[RING_WAIT_ANY_MAX];
	unsigned n = 0;
	for (unsigned i = 0; i < R->n; i++) {
		struct kernel *k = &R->k[i];
		if (k->done)
			continue;
		if (k->wake_ns && k->wake_ns < until)
			until = k->wake_ns;
		for (unsigned j = 0; j < k->n_wake_in && n < RING_WAIT_ANY_MAX; j++)
			in[n++] = k->wake_in[j];
	}
	if (until <= now)
		return;
	if (n == 0) {
		struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ull), .tv_nsec = (long)(until % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		return;
	}
	/* Each ring keeps its own wait settings for the kernel's waits inside
	 * a poll; this park uses the first's, without its spin phase (the
	 * runner has spun already). */
	struct ring_wait saved = in[0]->wait;
	in[0]->wait.kind = RING_WAIT_SPIN_PARK;
	in[0]->wait.spin_iters = 0;
	in[0]->wait.deadline_ns = until;
	unsigned which;
	int rc = ring_wait_any(in, n, &which);
	in[0]->wait = saved;
	if (rc == RING_E_PEER_DEAD) {
		/* A producer is gone: the kernel that reads that ring finds out
		 * on its next poll (stage_input_over); until then, do not park on
		 * a ring that answers at once. */
		for (unsigned i = 0; i < R->n; i++)
			R->k[i].check_inputs = true;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

static void runner_idle(struct runner *R, uint64_t empty_cycles)
{
	const struct fks_runner_cfg *c = R->cfg;
	if (c->idle == FKS_IDLE_SPIN || empty_cycles <= c->spin_iters) {
		ring_cpu_relax();
		return;
	}
	if (c->idle == FKS_IDLE_BACKOFF && empty_cycles <= (uint64_t)c->spin_iters + BACKOFF_YIELDS) {
		sched_yield();
		return;
	}
	runner_park(R);
}

/* What kernel k has counted itself, busy and idle. */
static uint64_t kernel_counted(const struct kernel *k)
{
	return atomic_load_explicit(&k->s.st->busy_ns, memory_order_relaxed) +
	       atomic_load_explicit(&k->s.st->idle_ns, memory_order_relaxed);
}

/* The run of idle cycles that started at R->idle_from ended at now: add it
 * to every live kernel's idle time, less what the kernel counted itself
 * meanwhile. */
static void runner_settle_idle(struct runner *R, uint64_t now)
{
	if (!R->idle_from)
		return;
	uint64_t span = now - R->idle_from;
	for (unsigned i = 0; i < R->n; i++) {
		struct kernel *k = &R->k[i];
		if (k->done)
			continue;
		uint64_t own = kernel_counted(k) - R->counted_seen[i];
		if ((int64_t)own < (int64_t)span)
			stats_add(&k->s.st->idle_ns, span - ((int64_t)own > 0 ? own : 0));
	}
	R->idle_from = 0;
}

/* The duty cycle, until every kernel is done. */
static void runner_loop(struct runner *R)
{
	uint64_t empty = 0;
	for (;;) {
		uint64_t now = stage_now_ns();
		int work = 0;
		unsigned live = 0;
		R->nested_work = false;
		for (unsigned i = 0; i < R->n; i++) {
			struct kernel *k = &R->k[i];
			if (k->done)
				continue;
			live++;
			if (!R->idle_from) /* this cycle may start a run of idle ones */
				R->counted_seen[i] = kernel_counted(k);
			work += kernel_poll(k, now);
		}
		if (!live)
			return;
		if (work || R->nested_work) {
			runner_settle_idle(R, now);
			empty = 0;
			continue;
		}
		if (R->idle_from && now - R->idle_from >= IDLE_SETTLE_NS) {
			runner_settle_idle(R, now);
			for (unsigned i = 0; i < R->n; i++)
				R->counted_seen[i] = kernel_counted(&R->k[i]);
		}
		if (!R->idle_from)
			R->idle_from = now;
		runner_idle(R, ++empty);
	}
}

/* ---- entry ------------------------------------------------------------- */

const int stage_stop_signals[STAGE_STOP_SIGNAL_COUNT] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* The supervisor drives the drain (stage.h); a stage whose stderr reader
 * went away gets EPIPE, not death. */
static void ignore_stop_signals(void)
{
	for (int i = 0; i < STAGE_STOP_SIGNAL_COUNT; i++)
		signal(stage_stop_signals[i], SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

static int pin_to(int core)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

/* Bind kernel k to stage id and open it; 0, or 1 after stage_fail. */
static int kernel_open(struct runner *R, struct kernel *k, const struct stage_args *a)
{
	k->runner = R;
	k->ops = kernel_of[a->id];
	k->s = (struct stage){ .a = a, .run = R->run, .st = &R->run->stage[a->id], .wait = a->cfg->stage[a->id].wait,
			       .k = k };
	atomic_store_explicit(&k->s.st->pid, getpid(), memory_order_relaxed);
	atomic_store_explicit(&k->s.st->heartbeat_ns, stage_now_ns(), memory_order_relaxed);
	/* CPU time is the runner process's: in a shared runner every stage in
	 * it shows the runner's share. */
	stage_sample_cpu(&k->s, stage_now_ns()); /* the start of the stage's wall time */
	if (k->ops->open(k))
		return 1;
	k->opened = true;
	return 0;
}

int runner_main(const struct runner_args *ra)
{
	ignore_stop_signals();
	const struct fks_runner_cfg *rc = &ra->cfg->runner[ra->index];
	char title[32];
	snprintf(title, sizeof title, "fks:%s", rc->name);
	proctitle_set(title);

	static struct runner R; /* one per process: this is the process's runner */
	R.cfg = rc;
	int err = runseg_open(ra->stage[__builtin_ctz(rc->stages)].prefix, true, &R.run);
	if (err) {
		fprintf(stderr, "%s: run segment: %s\n", title, ring_strerror(err));
		return 1;
	}
	/* Pipeline order, so a cycle moves an event from the feed to the
	 * gateway in one pass. */
	for (int id = 0; id < FKS_CFG_STAGE_COUNT; id++)
		if (rc->stages & (1u << id))
			R.k[R.n++].s.a = &ra->stage[id];
	int rc_exit = 0;
	if (pin_to(rc->core) != 0) {
		for (unsigned i = 0; i < R.n; i++) {
			R.k[i].runner = &R;
			R.k[i].s = (struct stage){ .a = R.k[i].s.a, .run = R.run, .st = &R.run->stage[R.k[i].s.a->id] };
			stage_fail(&R.k[i].s, "cannot pin to core %d: %s", rc->core, strerror(errno));
		}
		runseg_close(R.run);
		return 1;
	}
	/* Consumers first, like the supervisor's start order. */
	bool opened_all = true;
	for (int i = (int)R.n - 1; i >= 0; i--)
		if (kernel_open(&R, &R.k[i], R.k[i].s.a)) {
			opened_all = false;
			break;
		}
	if (opened_all) {
		runner_loop(&R);
	} else {
		for (unsigned i = 0; i < R.n; i++)
			if (R.k[i].opened && !R.k[i].done)
				kernel_finish(&R.k[i], KERNEL_FAILED);
		rc_exit = 1;
	}
	for (unsigned i = 0; i < R.n; i++)
		rc_exit |= R.k[i].rc;
	runseg_close(R.run);
	return rc_exit;
}
