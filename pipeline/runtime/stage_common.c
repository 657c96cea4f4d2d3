/*
 * The runtime every stage kernel shares (stage_int.h).  The kernels
 * themselves are in stage_feed.c, stage_strategy.c, stage_risk.c,
 * stage_gateway.c and stage_journal.c; runner.c runs them.
 */
#include "pipeline/runtime/stage_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	int rc = ring_consumer_attach(c, s->run->ring_name[r], topology[r].slot_size,
				      topo_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

int stage_attach_out(struct stage *s, struct ring_producer *p, enum run_ring r)
{
	int rc = ring_producer_attach(p, s->run->ring_name[r], topology[r].slot_size,
				      topo_capacity(s->a->cfg, r), &s->wait);
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
			int k = stage_claim(t->s, &t->p, 1, STAGE_TICK_NS);
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

/* ---- inputs ------------------------------------------------------------ */

bool stage_producer_gone(struct stage *s, struct ring_consumer *c, uint64_t *last_ns, uint64_t now)
{
	if (!s->k->check_inputs && now - *last_ns < 100000000ull)
		return false;
	*last_ns = now;
	enum ring_peer_state ps = ring_side_state(c->shm, RING_PRODUCER, now, 0);
	return (ps == RING_PEER_DEAD || ps == RING_PEER_LEFT) && !ring_try_peek(c, 1);
}
