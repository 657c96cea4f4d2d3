/* The ring in one process: cursor arithmetic, batches, bounds and errors. */
#include <criterion/criterion.h>
#include <time.h>

#include "tests/shm/ring_fixture.h"

#define CAP 16

static char name[96];
static struct ring_producer P;
static struct ring_consumer C;

static void setup_cap(uint32_t slot, uint64_t cap)
{
	fix_name(name, sizeof name, "unit");
	cr_assert_eq(ring_create(name, slot, cap), RING_OK);
	struct ring_wait w = fix_wait(RING_WAIT_SPIN_PARK);
	cr_assert_eq(ring_pair_attach(&P, &C, name, slot, cap, &w, &w), RING_OK);
}

static void setup(void) { setup_cap(64, CAP); }

static void teardown(void)
{
	ring_pair_detach(&P, &C);
	ring_unlink(name);
}

TestSuite(ring, .init = setup, .fini = teardown);

Test(ring, empty_ring_has_nothing_to_peek)
{
	cr_assert_eq(ring_try_peek(&C, 1), 0);
	cr_assert_eq(ring_try_peek(&C, CAP), 0);
	cr_assert_eq(ring_depth(P.shm), 0);
}

Test(ring, full_ring_refuses_claims_until_release)
{
	cr_assert_eq(ring_try_claim(&P, CAP), CAP);
	for (uint32_t i = 0; i < CAP; i++)
		fix_fill(ring_wslot(&P, i), i + 1);
	cr_assert_eq(ring_publish(&P, CAP), RING_OK);
	cr_assert_eq(ring_depth(P.shm), CAP);
	cr_assert_eq(ring_try_claim(&P, 1), 0, "a full ring must not hand out a slot");

	cr_assert_eq(ring_try_peek(&C, CAP + 5), CAP, "peek is bounded by what was published");
	for (uint32_t i = 0; i < CAP; i++)
		cr_assert_eq(fix_check(ring_rslot(&C, i), i + 1), 0, "slot %u", i);
	cr_assert_eq(ring_release(&C, 1), RING_OK);
	cr_assert_eq(ring_try_claim(&P, 2), 1, "exactly one slot was freed");
}

/* Every batch size from 1 to the capacity, for enough rounds to wrap the
 * cursors around the ring several times from an unaligned start. */
Test(ring, wraps_around_at_every_batch_size)
{
	uint64_t seq_out = 1, seq_in = 1;
	for (uint32_t b = 1; b <= CAP; b++) {
		/* Misalign the start so wraps land mid-batch. */
		cr_assert_eq(ring_try_claim(&P, 1), 1);
		fix_fill(ring_wslot(&P, 0), seq_out++);
		cr_assert_eq(ring_publish(&P, 1), RING_OK);
		cr_assert_eq(ring_try_peek(&C, 1), 1);
		cr_assert_eq(fix_check(ring_rslot(&C, 0), seq_in++), 0);
		cr_assert_eq(ring_release(&C, 1), RING_OK);

		uint32_t rounds = 3 * CAP / b + 3;
		for (uint32_t r = 0; r < rounds; r++) {
			cr_assert_eq(ring_try_claim(&P, b), b, "batch %u round %u", b, r);
			for (uint32_t i = 0; i < b; i++)
				fix_fill(ring_wslot(&P, i), seq_out++);
			cr_assert_eq(ring_publish(&P, b), RING_OK);
			cr_assert_eq(ring_try_peek(&C, b), b);
			for (uint32_t i = 0; i < b; i++)
				cr_assert_eq(fix_check(ring_rslot(&C, i), seq_in++), 0, "batch %u round %u slot %u", b, r, i);
			cr_assert_eq(ring_release(&C, b), RING_OK);
		}
	}
	cr_assert_eq(seq_in, seq_out);
	cr_assert_eq(atomic_load(&P.shm->prod_tail), seq_out - 1, "cursor is the free-running count");
	cr_assert_gt(seq_out, 10 * CAP, "the cursors wrapped many times");
}

Test(ring, slot_addresses_follow_the_mask)
{
	cr_assert_eq(ring_try_claim(&P, CAP), CAP);
	for (uint32_t i = 0; i < CAP; i++)
		cr_assert_eq((uint8_t *)ring_wslot(&P, i) - P.slots, (ptrdiff_t)i * 64);
	cr_assert_eq(ring_publish(&P, CAP - 3), RING_OK);
	cr_assert_eq(ring_try_peek(&C, CAP), CAP - 3);
	cr_assert_eq(ring_release(&C, CAP - 3), RING_OK);
	/* tail is now CAP-3: slot 3 of the next claim is physical slot 0 */
	cr_assert_eq(ring_try_claim(&P, 4), 4);
	cr_assert_eq((uint8_t *)ring_wslot(&P, 3), P.slots);
}

Test(ring, claim_larger_than_free_space_gets_only_the_free_space)
{
	cr_assert_eq(ring_try_claim(&P, CAP - 3), CAP - 3);
	cr_assert_eq(ring_publish(&P, CAP - 3), RING_OK);
	cr_assert_eq(ring_try_claim(&P, 10), 3);
	cr_assert_eq(P.claimed, 3);
	cr_assert_eq(ring_publish(&P, 4), RING_E_RANGE, "cannot publish past the claim");
	cr_assert_eq(ring_depth(P.shm), CAP - 3, "a refused publish publishes nothing");
	cr_assert_eq(ring_claim(&P, CAP + 1), RING_E_ARG, "a claim that can never fit is an error");
}

Test(ring, release_more_than_peeked_is_an_error_not_corruption)
{
	cr_assert_eq(ring_try_claim(&P, 4), 4);
	for (uint32_t i = 0; i < 4; i++)
		fix_fill(ring_wslot(&P, i), i + 1);
	cr_assert_eq(ring_publish(&P, 4), RING_OK);

	cr_assert_eq(ring_release(&C, 1), RING_E_RANGE, "nothing was peeked yet");
	cr_assert_eq(ring_try_peek(&C, 2), 2);
	cr_assert_eq(ring_release(&C, 3), RING_E_RANGE);
	cr_assert_eq(atomic_load(&C.shm->cons_head), 0, "the refused release moved nothing");
	cr_assert_eq(ring_release(&C, 2), RING_OK);
	cr_assert_eq(ring_release(&C, 1), RING_E_RANGE, "the peek was used up");
	cr_assert_eq(ring_try_peek(&C, 8), 2);
	cr_assert_eq(fix_check(ring_rslot(&C, 0), 3), 0, "the stream continues where it was");
	cr_assert_eq(fix_check(ring_rslot(&C, 1), 4), 0);
}

Test(ring, partial_publish_keeps_the_rest_of_the_claim)
{
	cr_assert_eq(ring_try_claim(&P, 8), 8);
	for (uint32_t i = 0; i < 8; i++)
		fix_fill(ring_wslot(&P, i), i + 1);
	cr_assert_eq(ring_publish(&P, 5), RING_OK);
	cr_assert_eq(P.claimed, 3);
	/* the remaining claimed slots are addressed from the new tail */
	cr_assert_eq(fix_check(ring_wslot(&P, 0), 6), 0);
	cr_assert_eq(ring_publish(&P, 3), RING_OK);
	cr_assert_eq(ring_try_peek(&C, 16), 8);
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_eq(fix_check(ring_rslot(&C, i), i + 1), 0);
}

Test(ring, closed_ring_is_drained_before_it_reports_closed)
{
	cr_assert_eq(ring_claim(&P, 3), 3);
	for (uint32_t i = 0; i < 3; i++)
		fix_fill(ring_wslot(&P, i), i + 1);
	cr_assert_eq(ring_publish(&P, 3), RING_OK);
	struct ring_shared *s = P.shm;
	ring_producer_detach(&P);
	cr_assert_eq(ring_peek(&C, 2), 2);
	cr_assert_eq(ring_release(&C, 2), RING_OK);
	cr_assert_eq(ring_peek(&C, 2), 1);
	cr_assert_eq(fix_check(ring_rslot(&C, 0), 3), 0);
	cr_assert_eq(ring_release(&C, 1), RING_OK);
	cr_assert_eq(ring_peek(&C, 2), RING_E_CLOSED);
	cr_assert_eq(ring_side_state(s, RING_PRODUCER, 0, 0), RING_PEER_LEFT);
}

Test(ring, bounded_wait_times_out_and_counts_blocked_time)
{
	struct ring_wait w = fix_wait(RING_WAIT_SPIN_PARK);
	w.park_timeout_us = 1000;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	w.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 20 * 1000000ull;
	C.wait = w;
	cr_assert_eq(ring_peek(&C, 1), RING_E_TIMEOUT);
	const struct ring_side_info *si = &C.shm->side[RING_CONSUMER];
	cr_assert_eq(atomic_load(&si->waits), 1);
	/* the consumer's clock starts after its spin phase (microseconds) */
	cr_assert_geq(atomic_load(&si->blocked_ns), 15 * 1000000ull, "it waited until the deadline");
	cr_assert_geq(atomic_load(&si->parks), 1, "the park strategy slept instead of spinning");

	/* the producer side counts a full ring the same way */
	cr_assert_eq(ring_claim(&P, CAP), CAP);
	cr_assert_eq(ring_publish(&P, CAP), RING_OK);
	P.wait = w;
	cr_assert_eq(ring_claim(&P, 1), RING_E_TIMEOUT);
	cr_assert_eq(P.claimed, 0, "a failed claim claims nothing");
	cr_assert_eq(atomic_load(&P.shm->side[RING_PRODUCER].waits), 1);
	cr_assert_gt(atomic_load(&P.shm->side[RING_PRODUCER].blocked_ns), 0);
}

Test(ring, publish_makes_no_wake_syscall_when_nobody_sleeps)
{
	for (int i = 0; i < 10000; i++) {
		cr_assert_eq(ring_claim(&P, 1), 1);
		fix_fill(ring_wslot(&P, 0), (uint64_t)i + 1);
		cr_assert_eq(ring_publish(&P, 1), RING_OK);
		cr_assert_eq(ring_peek(&C, 1), 1);
		cr_assert_eq(ring_release(&C, 1), RING_OK);
	}
	cr_assert_eq(atomic_load(&P.shm->side[RING_PRODUCER].wakes), 0);
	cr_assert_eq(atomic_load(&P.shm->side[RING_CONSUMER].wakes), 0);
}

Test(ring, a_side_cannot_be_attached_twice)
{
	struct ring_producer p2;
	struct ring_consumer c2;
	cr_assert_eq(ring_producer_attach(&p2, name, 64, CAP, NULL), RING_E_BUSY);
	cr_assert_eq(ring_consumer_attach(&c2, name, 64, CAP, NULL), RING_E_BUSY);
}

/* Tests below set up for themselves (Criterion has no per-test opt-out of a
 * suite's fixtures). */
Test(ring_misc, two_cache_line_slots)
{
	setup_cap(128, 8);
	cr_assert_eq(ring_try_claim(&P, 8), 8);
	for (uint32_t i = 0; i < 8; i++) {
		uint8_t *s = ring_wslot(&P, i);
		cr_assert_eq(s - P.slots, (ptrdiff_t)i * 128);
		fix_fill(s, i + 1);
		fix_fill(s + 64, 100 + i);
	}
	cr_assert_eq(ring_publish(&P, 8), RING_OK);
	cr_assert_eq(ring_try_peek(&C, 8), 8);
	for (uint32_t i = 0; i < 8; i++) {
		const uint8_t *s = ring_rslot(&C, i);
		cr_assert_eq(fix_check(s, i + 1), 0);
		cr_assert_eq(fix_check(s + 64, 100 + i), 0);
	}
	teardown();
}

Test(ring_misc, create_rejects_bad_geometry_and_names)
{
	char n[96];
	fix_name(n, sizeof n, "geom");
	cr_assert_eq(ring_create(n, 64, 12), RING_E_ARG, "capacity not a power of two");
	cr_assert_eq(ring_create(n, 64, 1), RING_E_ARG);
	cr_assert_eq(ring_create(n, 65, 16), RING_E_ARG, "slot not a multiple of 64");
	cr_assert_eq(ring_create(n, 0, 16), RING_E_ARG);
	cr_assert_eq(ring_create("", 64, 16), RING_E_NAME);
	cr_assert_eq(ring_create("a/b", 64, 16), RING_E_NAME);
	cr_assert_eq(ring_create(n, 64, 16), RING_OK);
	cr_assert_eq(ring_create(n, 64, 16), RING_E_EXISTS);
	cr_assert_eq(ring_unlink(n), RING_OK);
	cr_assert_eq(ring_unlink(n), RING_E_NOENT);
}

Test(ring_misc, every_status_has_its_own_message)
{
	for (int a = RING_E_TIMEOUT; a <= RING_OK; a++) {
		cr_assert_neq(strcmp(ring_strerror(a), "unknown ring status"), 0, "status %d", a);
		for (int b = RING_E_TIMEOUT; b < a; b++)
			cr_assert_neq(strcmp(ring_strerror(a), ring_strerror(b)), 0, "%d and %d", a, b);
	}
	cr_assert_eq(ring_wait_parse("park"), RING_WAIT_SPIN_PARK);
	cr_assert_eq(ring_wait_parse("spin"), RING_WAIT_SPIN);
	cr_assert_eq(ring_wait_parse("yield"), RING_WAIT_SPIN_YIELD);
	cr_assert_eq(ring_wait_parse("sleep"), -1);
}

/* The lost wake-up window, made deterministic: the peer acts after the
 * waiter's last check and before it raises its flag.  The waiter must notice
 * and not sleep; if it slept, only the park timeout would wake it. */
#include "shm/ring_testing.h"

static void publish_one(enum ring_side side, void *arg)
{
	(void)arg;
	if (side != RING_CONSUMER || P.claimed)
		return;
	cr_assert_eq(ring_try_claim(&P, 1), 1);
	fix_fill(ring_wslot(&P, 0), 1);
	ring_publish(&P, 1);
}

static void release_all(enum ring_side side, void *arg)
{
	(void)arg;
	if (side != RING_PRODUCER)
		return;
	int k = (int)ring_try_peek(&C, CAP);
	ring_release(&C, (uint32_t)k);
}

static struct ring_wait one_shot_park(void)
{
	struct ring_wait w = fix_wait(RING_WAIT_SPIN_PARK);
	w.spin_iters = 0;
	w.park_timeout_us = 2 * 1000 * 1000;
	return w;
}

Test(ring, consumer_sees_a_publish_that_lands_just_before_it_parks)
{
	C.wait = one_shot_park();
	ring_test_before_park = publish_one;
	int k = ring_peek(&C, 1);
	ring_test_before_park = NULL;
	cr_assert_eq(k, 1);
	cr_assert_eq(fix_check(ring_rslot(&C, 0), 1), 0);
	cr_assert_eq(atomic_load(&C.shm->side[RING_CONSUMER].park_timeouts), 0,
		     "the consumer slept through data that was already there");
}

Test(ring, producer_sees_a_release_that_lands_just_before_it_parks)
{
	cr_assert_eq(ring_claim(&P, CAP), CAP);
	cr_assert_eq(ring_publish(&P, CAP), RING_OK);
	P.wait = one_shot_park();
	ring_test_before_park = release_all;
	int k = ring_claim(&P, 1);
	ring_test_before_park = NULL;
	cr_assert_eq(k, 1);
	cr_assert_eq(atomic_load(&P.shm->side[RING_PRODUCER].park_timeouts), 0,
		     "the producer slept through space that was already free");
}

/* The other half of the protocol: a publish that finds the flag raised
 * clears it and wakes, and one that finds it clear makes no syscall. */
Test(ring, publish_wakes_a_parked_consumer_exactly_once)
{
	atomic_store(&C.shm->cons_parked, 1); /* as a consumer about to sleep */
	cr_assert_eq(ring_claim(&P, 2), 2);
	cr_assert_eq(ring_publish(&P, 1), RING_OK);
	cr_assert_eq(atomic_load(&C.shm->cons_parked), 0, "flag cleared before the wake");
	cr_assert_eq(atomic_load(&P.shm->side[RING_PRODUCER].wakes), 1);
	cr_assert_eq(ring_publish(&P, 1), RING_OK);
	cr_assert_eq(atomic_load(&P.shm->side[RING_PRODUCER].wakes), 1, "no second wake");
}

/* ---- waiting on several rings ------------------------------------------ */

#include <pthread.h>

struct two_rings {
	char name[2][96];
	struct ring_producer p[2];
	struct ring_consumer c[2];
	struct ring_consumer *cs[2];
};

static void two_rings_open(struct two_rings *t, uint32_t park_us)
{
	struct ring_wait w = fix_wait(RING_WAIT_SPIN_PARK);
	w.spin_iters = 16;
	w.park_timeout_us = park_us;
	for (int r = 0; r < 2; r++) {
		fix_name(t->name[r], sizeof t->name[r], "any");
		cr_assert_eq(ring_create(t->name[r], 64, 16), RING_OK);
		cr_assert_eq(ring_pair_attach(&t->p[r], &t->c[r], t->name[r], 64, 16, &w, &w), RING_OK);
		t->cs[r] = &t->c[r];
	}
}

static void two_rings_close(struct two_rings *t)
{
	for (int r = 0; r < 2; r++) {
		ring_pair_detach(&t->p[r], &t->c[r]);
		ring_unlink(t->name[r]);
	}
}

static void put(struct ring_producer *p, uint64_t seq)
{
	cr_assert_eq(ring_claim(p, 1), 1);
	fix_fill(ring_wslot(p, 0), seq);
	cr_assert_eq(ring_publish(p, 1), RING_OK);
}

Test(ring_misc, wait_any_returns_the_first_ring_with_data)
{
	struct two_rings t;
	two_rings_open(&t, 10000);
	unsigned which = 99;
	put(&t.p[1], 7);
	cr_assert_eq(ring_wait_any(t.cs, 2, &which), 1);
	cr_assert_eq(which, 1);
	put(&t.p[0], 8);
	cr_assert_eq(ring_wait_any(t.cs, 2, &which), 1);
	cr_assert_eq(which, 0, "the earlier ring has priority");
	two_rings_close(&t);
}

Test(ring_misc, wait_any_ends_when_every_ring_is_closed_and_drained)
{
	struct two_rings t;
	two_rings_open(&t, 10000);
	put(&t.p[1], 1);
	ring_producer_detach(&t.p[0]);
	ring_producer_detach(&t.p[1]);
	unsigned which = 99;
	cr_assert_eq(ring_wait_any(t.cs, 2, &which), 1, "closed but not yet drained");
	cr_assert_eq(which, 1);
	cr_assert_eq(ring_try_peek(&t.c[1], 1), 1);
	cr_assert_eq(ring_release(&t.c[1], 1), RING_OK);
	cr_assert_eq(ring_wait_any(t.cs, 2, &which), RING_E_CLOSED);
	two_rings_close(&t);
}

Test(ring_misc, wait_any_times_out)
{
	struct two_rings t;
	two_rings_open(&t, 1000);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t.c[0].wait.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 5000000ull;
	unsigned which;
	cr_assert_eq(ring_wait_any(t.cs, 2, &which), RING_E_TIMEOUT);
	two_rings_close(&t);
}

static void *publish_later(void *arg)
{
	struct timespec ts = { 0, 50 * 1000000 };
	nanosleep(&ts, NULL);
	put(arg, 42);
	return NULL;
}

/* A waiter asleep on both words is woken by the second ring's producer,
 * through that ring's own ordinary publish. */
Test(ring_misc, wait_any_sleeps_on_both_rings_and_wakes_on_either)
{
	struct two_rings t;
	two_rings_open(&t, 5 * 1000 * 1000);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, publish_later, &t.p[1]), 0);
	unsigned which = 99;
	int rc = ring_wait_any(t.cs, 2, &which);
	pthread_join(th, NULL);
	cr_assert_eq(rc, 1);
	cr_assert_eq(which, 1);
	cr_assert_geq(atomic_load(&t.c[1].shm->side[RING_CONSUMER].parks), 1, "it really slept");
	cr_assert_eq(atomic_load(&t.c[0].shm->side[RING_CONSUMER].park_timeouts), 0,
		     "woken by the publish, not by the 5 s timeout");
	cr_assert_eq(atomic_load(&t.p[1].shm->side[RING_PRODUCER].wakes), 1);
	two_rings_close(&t);
}
