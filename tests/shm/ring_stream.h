/*
 * One producer loop and one consumer loop, shared by the two-process and
 * the two-thread ring suites.  Batches are random, and with `pauses` both
 * sides stop at random moments (spin, yield or sleep) so that every
 * interleaving of park and wake gets its chance: a lost wake-up shows up as
 * a park that ended by timeout, which the suites assert never happens.
 * In that mode the producer also waits, at random, for the ring to drain
 * before it publishes: a handshake where nothing but the wake-ups can move
 * either side forward.
 */
#ifndef FKS_TESTS_RING_STREAM_H
#define FKS_TESTS_RING_STREAM_H

#include <sched.h>
#include <time.h>

#include "tests/shm/ring_fixture.h"

struct stream_opts {
	uint64_t events;
	uint32_t max_batch;
	bool pauses;
	uint32_t drain_one_in;  /* with pauses: 1 in N batches waits for an empty ring */
	uint64_t seed;
};

struct stream_result {
	uint64_t received;
	uint64_t sum;
	uint64_t bad_seq;   /* first sequence whose slot was wrong, 0 if none */
	int status;         /* what ended the stream: RING_E_CLOSED normally */
};

static inline uint64_t stream_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline void stream_pause(uint64_t *rng)
{
	uint64_t r = stream_rand(rng);
	if ((r & 63) != 0)
		return;
	switch ((r >> 6) % 3) {
	case 0:
		for (uint64_t i = (r >> 8) % 2000; i; i--)
			ring_cpu_relax();
		break;
	case 1:
		sched_yield();
		break;
	default: {
		struct timespec ts = { 0, (long)(1000 + (r >> 8) % 50000) };
		nanosleep(&ts, NULL);
	}
	}
}

/* Publishes events 1..o->events.  Returns RING_OK or the error that stopped it. */
static inline int stream_produce(struct ring_producer *p, const struct stream_opts *o)
{
	uint64_t rng = o->seed | 1, seq = 1;
	while (seq <= o->events) {
		uint64_t left = o->events - seq + 1;
		uint64_t r = stream_rand(&rng);
		uint32_t b = 1 + (uint32_t)(r % o->max_batch);
		if (b > left)
			b = (uint32_t)left;
		/* Handshake: wait for an empty ring before publishing.  Both
		 * sides then depend on one wake-up each; a missed one can only
		 * end by the park timeout, which the suites count. */
		bool drain = o->pauses && o->drain_one_in && ((r >> 32) % o->drain_one_in) == 0;
		int k = ring_claim(p, drain ? (uint32_t)(p->mask + 1) : b);
		if (k < 0)
			return k;
		/* Jitter after a drain sweeps the publish across the consumer's
		 * spin-to-park transition, where a missed wake-up would hide. */
		for (uint64_t j = drain ? (r >> 40) % 64 : 0; j; j--)
			ring_cpu_relax();
		k = (int)b;
		for (int i = 0; i < k; i++)
			fix_fill(ring_wslot(p, (uint32_t)i), seq + (uint64_t)i);
		int rc = ring_publish(p, (uint32_t)k);
		if (rc)
			return rc;
		seq += (uint64_t)k;
		if (o->pauses)
			stream_pause(&rng);
	}
	return RING_OK;
}

/* Consumes until the ring reports an error (RING_E_CLOSED at a clean end),
 * checking each slot against the pattern of the next expected sequence. */
static inline void stream_consume(struct ring_consumer *c, const struct stream_opts *o,
				  struct stream_result *r)
{
	uint64_t rng = (o->seed * 31) | 1, expect = 1;
	memset(r, 0, sizeof *r);
	for (;;) {
		int k = ring_peek(c, 1 + (uint32_t)(stream_rand(&rng) % (2 * o->max_batch)));
		if (k < 0) {
			r->status = k;
			break;
		}
		for (int i = 0; i < k; i++, expect++) {
			const void *slot = ring_rslot(c, (uint32_t)i);
			if (!r->bad_seq && fix_check(slot, expect))
				r->bad_seq = expect;
			r->sum = fix_sum_step(r->sum, slot);
		}
		ring_release(c, (uint32_t)k);
		r->received += (uint64_t)k;
		if (o->pauses)
			stream_pause(&rng);
	}
}

#endif
