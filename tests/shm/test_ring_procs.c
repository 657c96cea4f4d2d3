/* The ring between two processes: long streams per wait strategy, a small
 * ring with random pauses (lost wake-ups), and peers that die. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "tests/shm/ring_stream.h"

#ifndef FKS_RING_STRESS_EVENTS
#define FKS_RING_STRESS_EVENTS 50000000
#endif

/* FKS_RING_EVENTS overrides the build's count, for quick local runs. */
static uint64_t stream_events(void)
{
	const char *e = getenv("FKS_RING_EVENTS");
	return e ? strtoull(e, NULL, 10) : (uint64_t)FKS_RING_STRESS_EVENTS;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pid_t fork_child(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork");
	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
	return pid;
}

static void expect_child_exit_ok(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "producer child failed (status 0x%x)", st);
}

/* Producer in a child process, consumer here.  Returns the consumer's view. */
/* flags: RING_F_ASYM_BARRIER or 0 (a plain fence in publish/release); both
 * park protocols get the same streams. */
static void run_pair(enum ring_wait_kind kind, uint64_t cap, struct ring_wait w, const struct stream_opts *o,
		     uint32_t flags)
{
	char name[96];
	fix_name(name, sizeof name, "procs");
	cr_assert_eq(ring_create_flags(name, 64, cap, flags), RING_OK);

	pid_t pid = fork_child();
	if (pid == 0) {
		struct ring_producer p;
		if (ring_producer_attach(&p, name, 64, cap, &w) != RING_OK)
			_exit(10);
		int rc = stream_produce(&p, o);
		ring_producer_detach(&p);
		_exit(rc == RING_OK ? 0 : 11);
	}
	struct ring_consumer c;
	cr_assert_eq(ring_consumer_attach(&c, name, 64, cap, &w), RING_OK);
	struct stream_result r;
	stream_consume(&c, o, &r);
	struct ring_side_info prod = c.shm->side[RING_PRODUCER];
	struct ring_side_info cons = c.shm->side[RING_CONSUMER];
	ring_consumer_detach(&c);
	ring_unlink(name);
	expect_child_exit_ok(pid);

	cr_assert_eq(r.status, RING_E_CLOSED, "stream ended with: %s", ring_strerror(r.status));
	cr_assert_eq(r.bad_seq, 0, "first out-of-order or corrupt event: seq %llu", (unsigned long long)r.bad_seq);
	cr_assert_eq(r.received, o->events);
	cr_assert_eq(r.sum, fix_expected_sum(o->events), "checksum over the whole stream");
	/* A lost wake-up can only end by timeout: the park timeout is set far
	 * above any pause the stream takes, so one timeout is one lost wake. */
	cr_assert_eq(atomic_load(&prod.park_timeouts), 0, "producer: %llu lost wake-ups",
		     (unsigned long long)atomic_load(&prod.park_timeouts));
	cr_assert_eq(atomic_load(&cons.park_timeouts), 0, "consumer: %llu lost wake-ups",
		     (unsigned long long)atomic_load(&cons.park_timeouts));
	/* The producer makes a wake syscall only for a parked consumer. */
	cr_assert_leq(atomic_load(&prod.wakes), atomic_load(&cons.parks));
	cr_assert_leq(atomic_load(&cons.wakes), atomic_load(&prod.parks));
	if (kind == RING_WAIT_SPIN_PARK && o->pauses)
		cr_assert_gt(atomic_load(&prod.parks) + atomic_load(&cons.parks), 100,
			     "the stress run must exercise the park path");
	if (kind != RING_WAIT_SPIN_PARK) {
		cr_assert_eq(atomic_load(&prod.parks) + atomic_load(&cons.parks), 0);
		cr_assert_eq(atomic_load(&prod.wakes) + atomic_load(&cons.wakes), 0);
	}
}

static struct ring_wait stress_wait(enum ring_wait_kind kind)
{
	struct ring_wait w = fix_wait(kind);
	w.park_timeout_us = 5 * 1000 * 1000;
	return w;
}

static void long_stream(enum ring_wait_kind kind)
{
	struct stream_opts o = { .events = stream_events(), .max_batch = 32, .seed = 0x5eed + kind };
	run_pair(kind, 4096, stress_wait(kind), &o, RING_F_ASYM_BARRIER);
}

static void small_ring_with_pauses_flags(enum ring_wait_kind kind, uint32_t flags)
{
	struct stream_opts o = { .events = 300000, .max_batch = 8, .pauses = true, .drain_one_in = 4, .seed = 0xbad5eed + kind };
	struct ring_wait w = stress_wait(kind);
	w.spin_iters = 16; /* give up spinning early: park as often as possible */
	run_pair(kind, 16, w, &o, flags);
}

static void small_ring_with_pauses(enum ring_wait_kind kind)
{
	small_ring_with_pauses_flags(kind, RING_F_ASYM_BARRIER);
}

Test(ring_procs, stream_spin) { long_stream(RING_WAIT_SPIN); }
Test(ring_procs, stream_yield) { long_stream(RING_WAIT_SPIN_YIELD); }
Test(ring_procs, stream_park) { long_stream(RING_WAIT_SPIN_PARK); }
Test(ring_procs, stress_16_slots_spin) { small_ring_with_pauses(RING_WAIT_SPIN); }
Test(ring_procs, stress_16_slots_yield) { small_ring_with_pauses(RING_WAIT_SPIN_YIELD); }
Test(ring_procs, stress_16_slots_park) { small_ring_with_pauses(RING_WAIT_SPIN_PARK); }
/* The pipeline creates rings with parking consumers without the asymmetric
 * barrier: the plain-fence protocol gets the same long and stressed runs. */
Test(ring_procs, stress_16_slots_park_fence) { small_ring_with_pauses_flags(RING_WAIT_SPIN_PARK, 0); }
Test(ring_procs, stream_park_fence)
{
	struct stream_opts o = { .events = stream_events() / 5, .max_batch = 32, .seed = 0xfe11ce };
	run_pair(RING_WAIT_SPIN_PARK, 4096, stress_wait(RING_WAIT_SPIN_PARK), &o, 0);
}

/* A producer that publishes until it is killed. */
static pid_t spawn_endless_producer(const char *name, uint64_t cap)
{
	pid_t pid = fork_child();
	if (pid != 0)
		return pid;
	struct ring_producer p;
	if (ring_producer_attach(&p, name, 64, cap, NULL) != RING_OK)
		_exit(10);
	for (uint64_t seq = 1;; seq++) {
		if (ring_claim(&p, 1) != 1)
			_exit(11);
		fix_fill(ring_wslot(&p, 0), seq);
		ring_publish(&p, 1);
		if ((seq & 1023) == 0)
			ring_side_beat(p.shm, RING_PRODUCER, now_ns());
	}
}

Test(ring_procs, killed_producer_is_reported_dead_and_nothing_published_is_lost)
{
	char name[96];
	fix_name(name, sizeof name, "kill");
	cr_assert_eq(ring_create(name, 64, 1024), RING_OK);
	pid_t pid = spawn_endless_producer(name, 1024);

	struct ring_wait w = ring_wait_default();
	w.deadline_ns = now_ns() + 20ull * 1000000000ull; /* the bound: far above 10 ms checks */
	struct ring_consumer c;
	cr_assert_eq(ring_consumer_attach(&c, name, 64, 1024, &w), RING_OK);

	uint64_t expect = 1;
	bool killed = false;
	int status;
	for (;;) {
		status = ring_peek(&c, 64);
		if (status < 0)
			break;
		for (int i = 0; i < status; i++, expect++)
			cr_assert_eq(fix_check(ring_rslot(&c, (uint32_t)i), expect), 0, "seq %llu", (unsigned long long)expect);
		ring_release(&c, (uint32_t)status);
		if (!killed && expect > 200000) {
			cr_assert_eq(kill(pid, SIGKILL), 0);
			killed = true;
		}
	}
	uint64_t published = atomic_load(&c.shm->prod_tail);
	/* Checked while the producer is a zombie: not reaped yet, but dead. */
	enum ring_peer_state ps = ring_side_state(c.shm, RING_PRODUCER, now_ns(), 0);
	ring_consumer_detach(&c);
	ring_unlink(name);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);

	cr_assert(killed);
	cr_assert_eq(status, RING_E_PEER_DEAD, "got: %s", ring_strerror(status));
	cr_assert_eq(ps, RING_PEER_DEAD);
	cr_assert_eq(expect - 1, published, "every published event was delivered");
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

Test(ring_procs, killed_consumer_unblocks_a_producer_on_a_full_ring)
{
	char name[96];
	fix_name(name, sizeof name, "killc");
	cr_assert_eq(ring_create(name, 64, 64), RING_OK);
	pid_t pid = fork_child();
	if (pid == 0) {
		struct ring_consumer c;
		if (ring_consumer_attach(&c, name, 64, 64, NULL) != RING_OK)
			_exit(10);
		pause();
		_exit(0);
	}
	struct ring_wait w = ring_wait_default();
	w.deadline_ns = now_ns() + 20ull * 1000000000ull;
	struct ring_producer p;
	cr_assert_eq(ring_producer_attach(&p, name, 64, 64, &w), RING_OK);
	/* wait for the child to attach, so its death is a death, not absence */
	while (atomic_load(&p.shm->side[RING_CONSUMER].state) != RING_SIDE_ATTACHED)
		sched_yield();
	cr_assert_eq(ring_claim(&p, 64), 64);
	cr_assert_eq(ring_publish(&p, 64), RING_OK);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	int rc = ring_claim(&p, 1);
	ring_producer_detach(&p);
	ring_unlink(name);
	waitpid(pid, NULL, 0);
	cr_assert_eq(rc, RING_E_PEER_DEAD, "got: %s", ring_strerror(rc));
}

Test(ring_procs, stopped_peer_is_stalled_not_dead)
{
	char name[96];
	fix_name(name, sizeof name, "stall");
	cr_assert_eq(ring_create(name, 64, 64), RING_OK);
	pid_t pid = fork_child();
	if (pid == 0) {
		struct ring_producer p;
		if (ring_producer_attach(&p, name, 64, 64, NULL) != RING_OK)
			_exit(10);
		raise(SIGSTOP);
		_exit(0);
	}
	const struct ring_shared *s;
	size_t len;
	cr_assert_eq(ring_observe(name, &s, &len), RING_OK);
	enum ring_peer_state st = RING_PEER_ABSENT;
	for (int i = 0; i < 500 && st != RING_PEER_STALLED; i++) {
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
		st = ring_side_state(s, RING_PRODUCER, now_ns(), 50 * 1000000ull);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	enum ring_peer_state after = ring_side_state(s, RING_PRODUCER, now_ns(), 50 * 1000000ull);
	ring_unobserve(s, len);
	ring_unlink(name);
	cr_assert_eq(st, RING_PEER_STALLED, "got %s", ring_peer_state_name(st));
	cr_assert_eq(after, RING_PEER_DEAD, "reaped and gone: %s", ring_peer_state_name(after));
}

Test(ring_procs, side_of_a_crashed_process_can_be_taken_over)
{
	char name[96];
	fix_name(name, sizeof name, "takeover");
	cr_assert_eq(ring_create(name, 64, 64), RING_OK);
	pid_t pid = fork_child();
	if (pid == 0) {
		struct ring_producer p;
		_exit(ring_producer_attach(&p, name, 64, 64, NULL) == RING_OK ? 0 : 10);
		/* exits holding the side, as a crash would */
	}
	expect_child_exit_ok(pid);
	struct ring_producer p;
	int rc = ring_producer_attach(&p, name, 64, 64, NULL);
	if (rc == RING_OK)
		ring_producer_detach(&p);
	ring_unlink(name);
	cr_assert_eq(rc, RING_OK, "got: %s", ring_strerror(rc));
}
