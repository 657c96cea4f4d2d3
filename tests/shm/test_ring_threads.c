/* The ring between two threads over one mapping.  Same streams as the
 * two-process suite, sized for ThreadSanitizer, which cannot see across
 * processes: this is where it checks the ring's memory ordering.
 *
 * A plain program rather than a Criterion suite: Criterion's start-up maps
 * an inheritable arena that collides with TSan's address-space layout
 * ("Could not initialize inheritable arena").  It prints one line per case
 * and closes with "N passed, N failed"; the exit status is 0 only if every
 * case passed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/shm/ring_stream.h"

static int case_failed;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			case_failed = 1;                                      \
			return;                                               \
		}                                                             \
	} while (0)

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

static uint32_t ring_flags = RING_F_ASYM_BARRIER; /* per case, see main */

static void run_threads(enum ring_wait_kind kind, uint64_t cap, const struct stream_opts *o,
			uint32_t spin_iters)
{
	char name[96];
	fix_name(name, sizeof name, "threads");
	CHECK(ring_create_flags(name, 64, cap, ring_flags) == RING_OK, "create %s", name);
	struct ring_wait w = fix_wait(kind);
	w.park_timeout_us = 5 * 1000 * 1000; /* a timeout would be a lost wake-up */
	w.spin_iters = spin_iters;
	struct ring_producer p;
	struct ring_consumer c;
	int rc = ring_pair_attach(&p, &c, name, 64, cap, &w, &w);
	if (rc != RING_OK)
		ring_unlink(name);
	CHECK(rc == RING_OK, "attach: %s", ring_strerror(rc));
	struct ring_shared *shm = c.shm;

	struct producer_arg a = { .p = &p, .o = o };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, producer_thread, &a) == 0, "pthread_create");
	struct stream_result r;
	stream_consume(&c, o, &r);
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");

	uint64_t lost = atomic_load(&shm->side[RING_PRODUCER].park_timeouts) +
			atomic_load(&shm->side[RING_CONSUMER].park_timeouts);
	ring_pair_detach(&p, &c);
	ring_unlink(name);

	CHECK(a.rc == RING_OK, "producer: %s", ring_strerror(a.rc));
	CHECK(r.status == RING_E_CLOSED, "consumer: %s", ring_strerror(r.status));
	CHECK(r.bad_seq == 0, "first bad seq %llu", (unsigned long long)r.bad_seq);
	CHECK(r.received == o->events, "received %llu of %llu", (unsigned long long)r.received,
	      (unsigned long long)o->events);
	CHECK(r.sum == fix_expected_sum(o->events), "checksum");
	CHECK(lost == 0, "%llu lost wake-ups", (unsigned long long)lost);
}

static void stream(enum ring_wait_kind kind)
{
	struct stream_opts o = { .events = 2000000, .max_batch = 32, .seed = 0x7eed + kind };
	run_threads(kind, 1024, &o, 1024);
}

static void stress(enum ring_wait_kind kind)
{
	struct stream_opts o = { .events = 200000, .max_batch = 8, .pauses = true, .drain_one_in = 4,
				 .seed = 0xfeed + kind };
	run_threads(kind, 16, &o, 16);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(enum ring_wait_kind);
		enum ring_wait_kind kind;
		uint32_t flags;
	} cases[] = {
		{ "stream_spin", stream, RING_WAIT_SPIN, RING_F_ASYM_BARRIER },
		{ "stream_yield", stream, RING_WAIT_SPIN_YIELD, RING_F_ASYM_BARRIER },
		{ "stream_park", stream, RING_WAIT_SPIN_PARK, RING_F_ASYM_BARRIER },
		{ "stream_park_fence", stream, RING_WAIT_SPIN_PARK, 0 },
		{ "stress_16_slots_spin", stress, RING_WAIT_SPIN, RING_F_ASYM_BARRIER },
		{ "stress_16_slots_yield", stress, RING_WAIT_SPIN_YIELD, RING_F_ASYM_BARRIER },
		{ "stress_16_slots_park", stress, RING_WAIT_SPIN_PARK, RING_F_ASYM_BARRIER },
		{ "stress_16_slots_park_fence", stress, RING_WAIT_SPIN_PARK, 0 },
	};
	int passed = 0, failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		case_failed = 0;
		ring_flags = cases[i].flags;
		cases[i].fn(cases[i].kind);
		printf("%s ring_threads::%s\n", case_failed ? "FAIL" : "PASS", cases[i].name);
		fflush(stdout);
		case_failed ? failed++ : passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
