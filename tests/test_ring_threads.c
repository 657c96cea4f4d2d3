/* The ring between two threads over one mapping.  Same streams as the
 * two-process suite, sized for ThreadSanitizer (which cannot see across
 * processes, so this is where it checks the ring's memory ordering). */
#include <criterion/criterion.h>
#include <pthread.h>

#include "ring_stream.h"

struct producer_arg {
	struct ring_producer *p;
	const struct stream_opts *o;
	int rc;
};

static void *producer_thread(void *v)
{
	struct producer_arg *a = v;
	a->rc = stream_produce(a->p, a->o);
	ring_producer_detach(a->p); /* closes: the consumer ends on RING_E_CLOSED */
	return NULL;
}

static void run_threads(enum ring_wait_kind kind, uint64_t cap, const struct stream_opts *o,
			uint32_t spin_iters)
{
	char name[96];
	fix_name(name, sizeof name, "threads");
	cr_assert_eq(ring_create(name, 64, cap), RING_OK);
	struct ring_wait w = fix_wait(kind);
	w.park_timeout_us = 5 * 1000 * 1000; /* a timeout would be a lost wake-up */
	w.spin_iters = spin_iters;
	struct ring_producer p;
	struct ring_consumer c;
	cr_assert_eq(ring_pair_attach(&p, &c, name, 64, cap, &w, &w), RING_OK);
	struct ring_shared *shm = c.shm;

	struct producer_arg a = { .p = &p, .o = o };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, producer_thread, &a), 0);
	struct stream_result r;
	stream_consume(&c, o, &r);
	cr_assert_eq(pthread_join(t, NULL), 0);

	uint64_t lost = atomic_load(&shm->side[RING_PRODUCER].park_timeouts) +
			atomic_load(&shm->side[RING_CONSUMER].park_timeouts);
	ring_pair_detach(&p, &c);
	ring_unlink(name);

	cr_assert_eq(a.rc, RING_OK, "producer: %s", ring_strerror(a.rc));
	cr_assert_eq(r.status, RING_E_CLOSED, "consumer: %s", ring_strerror(r.status));
	cr_assert_eq(r.bad_seq, 0, "first bad seq %llu", (unsigned long long)r.bad_seq);
	cr_assert_eq(r.received, o->events);
	cr_assert_eq(r.sum, fix_expected_sum(o->events));
	cr_assert_eq(lost, 0, "%llu lost wake-ups", (unsigned long long)lost);
}

static void stream(enum ring_wait_kind kind)
{
	struct stream_opts o = { .events = 2000000, .max_batch = 32, .seed = 0x7eed + kind };
	run_threads(kind, 1024, &o, 1024);
}

static void stress(enum ring_wait_kind kind)
{
	struct stream_opts o = { .events = 200000, .max_batch = 8, .pauses = true, .drain_one_in = 4, .seed = 0xfeed + kind };
	run_threads(kind, 16, &o, 16);
}

Test(ring_threads, stream_spin) { stream(RING_WAIT_SPIN); }
Test(ring_threads, stream_yield) { stream(RING_WAIT_SPIN_YIELD); }
Test(ring_threads, stream_park) { stream(RING_WAIT_SPIN_PARK); }
Test(ring_threads, stress_16_slots_spin) { stress(RING_WAIT_SPIN); }
Test(ring_threads, stress_16_slots_yield) { stress(RING_WAIT_SPIN_YIELD); }
Test(ring_threads, stress_16_slots_park) { stress(RING_WAIT_SPIN_PARK); }
