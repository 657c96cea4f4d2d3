/*
 * The runtime every stage process shares (stage_int.h) and stage_main(),
 * the entry point the supervisor calls in each forked child.  The stages
 * themselves are in stage_feed.c, stage_strategy.c, stage_risk.c,
 * stage_gateway.c and stage_journal.c.
 */
#include "pipeline/runtime/stage_int.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/runtime/proctitle.h"

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

int stage_fail(struct stage *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->st->error, sizeof s->st->error, fmt, ap);
	va_end(ap);
	fprintf(stderr, "fks:%s: %s\n", config_stage_name(s->a->id), s->st->error);
	atomic_store_explicit(&s->st->state, STAGE_FAILED, memory_order_release);
	return 1;
}

int stage_attach_in(struct stage *s, struct ring_consumer *c, enum run_ring r)
{
	int rc = ring_consumer_attach(c, s->run->ring_name[r], stage_ring_slot_size(r),
				      stage_ring_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

int stage_attach_out(struct stage *s, struct ring_producer *p, enum run_ring r)
{
	int rc = ring_producer_attach(p, s->run->ring_name[r], stage_ring_slot_size(r),
				      stage_ring_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

void stage_wait_until_tick(struct stage *s, struct ring_wait *w)
{
	*w = s->wait;
	w->deadline_ns = stage_now_ns() + STAGE_TICK_NS;
}

/* ---- journal taps ------------------------------------------------------ */

#define TAP_CHUNK 64

int tap_attach(struct stage *s, struct tap *t, enum run_ring r)
{
	t->s = s;
	if (stage_attach_out(s, &t->p, r))
		return 1;
	t->attached = true;
	return 0;
}

/* The next free slot, waiting while the journal is behind (beating, so the
 * supervisor sees a stage held back, not a stalled one); NULL once the
 * journal stage is dead. */
void *tap_slot_refill(struct tap *t)
{
	tap_flush(t);
	if (!t->attached || t->dead)
		return NULL;
	for (;;) {
		/* Claim ahead, so most events find a slot already claimed. */
		if (ring_try_claim(&t->p, TAP_CHUNK) == 0) {
			struct ring_wait saved = t->p.wait;
			t->p.wait.deadline_ns = stage_now_ns() + STAGE_TICK_NS;
			int k = ring_claim(&t->p, 1);
			t->p.wait = saved;
			stage_beat(t->s, stage_now_ns());
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

void tap_close(struct tap *t)
{
	if (!t->attached)
		return;
	tap_flush(t);
	ring_producer_detach(&t->p);
	t->attached = false;
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

int stage_main(const struct stage_args *a)
{
	ignore_stop_signals();
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
	atomic_store_explicit(&s.st->heartbeat_ns, stage_now_ns(), memory_order_relaxed);
	stage_sample_cpu(&s, stage_now_ns()); /* the start of the stage's wall time */
	if (pin_to(a->cfg->stage[a->id].core) != 0)
		return stage_fail(&s, "cannot pin to core %d: %s", a->cfg->stage[a->id].core, strerror(errno));

	switch (a->id) {
	case FKS_CFG_FEED: rc = stage_run_feed(&s); break;
	case FKS_CFG_STRATEGY: rc = stage_run_strategy(&s); break;
	case FKS_CFG_RISK: rc = stage_run_risk(&s); break;
	case FKS_CFG_GATEWAY: rc = stage_run_gateway(&s); break;
	case FKS_CFG_JOURNAL: rc = stage_run_journal(&s); break;
	default: rc = stage_fail(&s, "unknown stage"); break;
	}
	stage_sample_cpu(&s, stage_now_ns()); /* the whole life, for the run's summary */
	if (rc == 0)
		atomic_store_explicit(&s.st->state, STAGE_EXITED, memory_order_release);
	runseg_close(s.run);
	return rc;
}
