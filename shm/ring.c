/*
 * SPSC ring: segment management, attach validation, liveness and the
 * blocking wait strategies.  The inline hot path is in ring.h.
 *
 * Park protocol (both directions are the same; shown for the consumer):
 *
 *   consumer, ring empty              producer, ring_publish
 *   --------------------              ----------------------
 *   cons_parked = 1                   prod_tail = t        (release)
 *   full fence                        full fence
 *   re-read prod_tail: data? unpark   if cons_parked:
 *   futex_wait(&cons_parked, 1)           if xchg(cons_parked, 0): futex_wake
 *
 * The fences make it impossible for both sides to miss each other: either
 * the consumer's re-read sees the new tail, or the producer sees the flag.
 * With RING_F_ASYM_BARRIER (the normal case) the producer's fence is only a
 * compiler barrier and the consumer's "full fence" is
 * membarrier(GLOBAL_EXPEDITED), which executes a barrier on every CPU that
 * runs a registered process: the rare side (about to sleep anyway) pays a
 * syscall so that the hot side pays nothing.
 * The producer clears the flag before waking, so a wake that lands before
 * the consumer reaches futex_wait makes that futex_wait return at once
 * (the word is no longer 1).  A parked side also wakes every
 * park_timeout_us on its own, to beat its heartbeat and check its peer.
 */
#include "shm/ring.h"
#include "shm/ring_testing.h"
#include "shm/segment.h"
#include "shm/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RING_SLOT_MAX (64u * 1024u)
#define RING_CAP_MAX (1ull << 30)

const char *ring_strerror(int status)
{
	switch (status) {
	case RING_OK: return "ok";
	case RING_E_NAME: return "invalid ring name (empty, too long, or contains '/')";
	case RING_E_NOENT: return "no such ring segment";
	case RING_E_EXISTS: return "ring segment already exists";
	case RING_E_SYS: return "system call failed";
	case RING_E_SHORT: return "ring segment is shorter than its geometry requires";
	case RING_E_MAGIC: return "not an FKS ring (bad magic)";
	case RING_E_VERSION: return "ring layout version mismatch";
	case RING_E_SLOT_SIZE: return "ring slot size mismatch";
	case RING_E_CAPACITY: return "ring capacity mismatch or not a power of two";
	case RING_E_OWNER: return "ring segment is owned by another user";
	case RING_E_PERMS: return "ring segment is accessible by group or others (must be 0600)";
	case RING_E_BUSY: return "ring side is held by another live process";
	case RING_E_ARG: return "invalid argument";
	case RING_E_RANGE: return "count exceeds what was claimed or peeked";
	case RING_E_CLOSED: return "ring closed by producer and drained";
	case RING_E_PEER_DEAD: return "peer process is gone";
	case RING_E_TIMEOUT: return "timed out";
	}
	return "unknown ring status";
}

const char *ring_wait_name(enum ring_wait_kind k)
{
	switch (k) {
	case RING_WAIT_SPIN: return "spin";
	case RING_WAIT_SPIN_YIELD: return "yield";
	case RING_WAIT_SPIN_PARK: return "park";
	}
	return "?";
}

int ring_wait_parse(const char *s)
{
	if (!strcmp(s, "spin"))
		return RING_WAIT_SPIN;
	if (!strcmp(s, "yield"))
		return RING_WAIT_SPIN_YIELD;
	if (!strcmp(s, "park"))
		return RING_WAIT_SPIN_PARK;
	return -1;
}

struct ring_wait ring_wait_default(void)
{
	return (struct ring_wait){
		.kind = RING_WAIT_SPIN_PARK,
		.spin_iters = 1024,
		.park_timeout_us = 10000,
		.stall_ns = 1000000000ull,
		.deadline_ns = 0,
	};
}

const char *ring_peer_state_name(enum ring_peer_state s)
{
	switch (s) {
	case RING_PEER_ABSENT: return "absent";
	case RING_PEER_ALIVE: return "alive";
	case RING_PEER_STALLED: return "stalled";
	case RING_PEER_DEAD: return "dead";
	case RING_PEER_LEFT: return "left";
	}
	return "?";
}

/* ---- names and segments ------------------------------------------------ */

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static bool asym_barrier_supported(void)
{
	long q = membarrier(MEMBARRIER_CMD_QUERY);
	return q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
	       (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
}

/* A process must register before a peer's GLOBAL_EXPEDITED barrier reaches
 * it.  Registration is per process and idempotent; do it once. */
static int asym_barrier_register(void)
{
	static _Atomic int registered;
	if (atomic_load_explicit(&registered, memory_order_acquire))
		return RING_OK;
	if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
		return RING_E_SYS;
	atomic_store_explicit(&registered, 1, memory_order_release);
	return RING_OK;
}

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

static bool slot_size_ok(uint64_t s) { return s >= 64 && s <= RING_SLOT_MAX && s % 64 == 0; }

static uint64_t slots_offset(void) { return sizeof(struct ring_shared); }

size_t ring_segment_size(uint32_t slot_size, uint64_t capacity)
{
	return (size_t)(slots_offset() + capacity * slot_size);
}

int ring_create(const char *name, uint32_t slot_size, uint64_t capacity)
{
	return ring_create_flags(name, slot_size, capacity, RING_F_ASYM_BARRIER);
}

int ring_create_flags(const char *name, uint32_t slot_size, uint64_t capacity, uint32_t flags)
{
	if (!slot_size_ok(slot_size) || !is_pow2(capacity) || capacity < 2 || capacity > RING_CAP_MAX)
		return name && *name && !strchr(name, '/') ? RING_E_ARG : RING_E_NAME;
	size_t len = ring_segment_size(slot_size, capacity);
	void *m;
	int rc = seg_create(name, len, &m);
	if (rc)
		return rc;
	struct ring_shared *s = m;
	/* The segment starts zeroed; set the geometry, then the magic last, so
	 * an attach racing with create sees either no ring or all of it. */
	s->version = RING_LAYOUT_VERSION;
	s->slot_size = slot_size;
	s->capacity = capacity;
	s->slots_offset = slots_offset();
	s->segment_size = len;
	s->owner_uid = (uint32_t)geteuid();
	s->flags = flags & RING_F_ASYM_BARRIER;
	if ((s->flags & RING_F_ASYM_BARRIER) && !asym_barrier_supported())
		s->flags &= ~(uint32_t)RING_F_ASYM_BARRIER;
	s->created_ns = clock_real_ns();
	__atomic_store_n(&s->magic, RING_MAGIC, __ATOMIC_RELEASE);
	seg_unmap(s, len);
	return RING_OK;
}

int ring_unlink(const char *name)
{
	return seg_unlink(name);
}
/* Open, check and map a segment.  Checks run from the cheapest and most
 * fundamental (is it ours, is it private, is it big enough to have a header)
 * to the geometry the caller expects, so each refusal names the real cause. */
static int ring_map(const char *name, uint32_t want_slot, uint64_t want_cap, bool writable,
		    struct ring_shared **out, size_t *out_len)
{
	void *m;
	size_t len;
	int rc = seg_map(name, writable, sizeof(struct ring_shared), &m, &len);
	if (rc)
		return rc;
	struct ring_shared *s = m;
	if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != RING_MAGIC)
		rc = RING_E_MAGIC;
	else if (s->version != RING_LAYOUT_VERSION)
		rc = RING_E_VERSION;
	else if (!slot_size_ok(s->slot_size) || (want_slot && s->slot_size != want_slot))
		rc = RING_E_SLOT_SIZE;
	else if (!is_pow2(s->capacity) || s->capacity > RING_CAP_MAX || (want_cap && s->capacity != want_cap))
		rc = RING_E_CAPACITY;
	else if (s->owner_uid != (uint32_t)geteuid())
		rc = RING_E_OWNER;
	else if (s->slots_offset != slots_offset() || ring_segment_size(s->slot_size, s->capacity) > len)
		rc = RING_E_SHORT;
	if (rc) {
		seg_unmap(s, len);
		return rc;
	}
	*out = s;
	*out_len = len;
	return RING_OK;
}

/* ---- liveness ---------------------------------------------------------- */

enum ring_peer_state ring_side_state(const struct ring_shared *shm, enum ring_side side,
				     uint64_t now_ns, uint64_t stall_ns)
{
	const struct ring_side_info *si = &shm->side[side];
	uint32_t state = atomic_load_explicit(&si->state, memory_order_acquire);
	if (state == RING_SIDE_NEVER)
		return RING_PEER_ABSENT;
	if (state == RING_SIDE_DETACHED)
		return RING_PEER_LEFT;
	pid_t pid = atomic_load_explicit(&si->pid, memory_order_relaxed);
	uint64_t ticks;
	char pstate;
	if (pid <= 0 || seg_proc_identity(pid, &ticks, &pstate) != 0)
		return RING_PEER_DEAD;
	if (pstate == 'Z' || pstate == 'X' ||
	    ticks != atomic_load_explicit(&si->start_ticks, memory_order_relaxed))
		return RING_PEER_DEAD;
	uint64_t beat = atomic_load_explicit(&si->heartbeat_ns, memory_order_relaxed);
	if (stall_ns && now_ns > beat && now_ns - beat > stall_ns)
		return RING_PEER_STALLED;
	return RING_PEER_ALIVE;
}

static int side_claim(struct ring_shared *s, enum ring_side side, const struct ring_wait *w)
{
	struct ring_side_info *si = &s->side[side];
	/* Both sides of an asymmetric ring must be registered, or a peer's
	 * barrier would not reach us and a wake-up could be lost. */
	if ((s->flags & RING_F_ASYM_BARRIER) && asym_barrier_register() != RING_OK)
		return RING_E_SYS;
	pid_t me = getpid();
	uint64_t my_ticks;
	char pstate;
	if (seg_proc_identity(me, &my_ticks, &pstate) != 0)
		return RING_E_SYS;

	int32_t holder = atomic_load_explicit(&si->pid, memory_order_acquire);
	if (holder != 0 && atomic_load_explicit(&si->state, memory_order_acquire) == RING_SIDE_ATTACHED) {
		enum ring_peer_state st = ring_side_state(s, side, 0, 0);
		if (st == RING_PEER_ALIVE || st == RING_PEER_STALLED)
			return RING_E_BUSY;
	}
	/* CAS, so two processes racing to take over a dead holder's side
	 * cannot both win. */
	if (!atomic_compare_exchange_strong(&si->pid, &holder, (int32_t)me))
		return RING_E_BUSY;
	atomic_store_explicit(&si->start_ticks, my_ticks, memory_order_relaxed);
	atomic_store_explicit(&si->heartbeat_ns, (uint64_t)clock_mono_ns(), memory_order_relaxed);
	atomic_store_explicit(&si->wait_kind, (uint32_t)w->kind, memory_order_relaxed);
	atomic_store_explicit(&si->state, RING_SIDE_ATTACHED, memory_order_release);
	return RING_OK;
}

static void side_leave(struct ring_shared *s, enum ring_side side)
{
	atomic_store_explicit(&s->side[side].state, RING_SIDE_DETACHED, memory_order_release);
}

static struct ring_wait wait_or_default(const struct ring_wait *w)
{
	struct ring_wait d = ring_wait_default();
	if (!w)
		return d;
	struct ring_wait r = *w;
	if (r.park_timeout_us == 0)
		r.park_timeout_us = d.park_timeout_us;
	return r;
}

/* Take the producer side of an already validated mapping. */
static int producer_init(struct ring_producer *p, struct ring_shared *s, size_t len,
			 const struct ring_wait *wait)
{
	memset(p, 0, sizeof *p);
	p->wait = wait_or_default(wait);
	p->shm = s;
	p->map_len = len;
	int rc = side_claim(s, RING_PRODUCER, &p->wait);
	if (rc) {
		p->shm = NULL;
		return rc;
	}
	p->slots = (uint8_t *)p->shm + p->shm->slots_offset;
	p->asym = (s->flags & RING_F_ASYM_BARRIER) != 0;
	p->mask = p->shm->capacity - 1;
	p->slot_size = p->shm->slot_size;
	p->tail = atomic_load_explicit(&p->shm->prod_tail, memory_order_acquire);
	p->cons_cache = atomic_load_explicit(&p->shm->cons_head, memory_order_acquire);
	atomic_store_explicit(&p->shm->closed, 0, memory_order_release);
	return RING_OK;
}

static int consumer_init(struct ring_consumer *c, struct ring_shared *s, size_t len,
			 const struct ring_wait *wait)
{
	memset(c, 0, sizeof *c);
	c->wait = wait_or_default(wait);
	c->shm = s;
	c->map_len = len;
	int rc = side_claim(s, RING_CONSUMER, &c->wait);
	if (rc) {
		c->shm = NULL;
		return rc;
	}
	c->slots = (uint8_t *)c->shm + c->shm->slots_offset;
	c->asym = (s->flags & RING_F_ASYM_BARRIER) != 0;
	c->mask = c->shm->capacity - 1;
	c->slot_size = c->shm->slot_size;
	c->head = atomic_load_explicit(&c->shm->cons_head, memory_order_acquire);
	c->prod_cache = atomic_load_explicit(&c->shm->prod_tail, memory_order_acquire);
	return RING_OK;
}

int ring_producer_attach(struct ring_producer *p, const char *name, uint32_t slot_size,
			 uint64_t capacity, const struct ring_wait *wait)
{
	struct ring_shared *s;
	size_t len;
	memset(p, 0, sizeof *p);
	int rc = ring_map(name, slot_size, capacity, true, &s, &len);
	if (rc == RING_OK && (rc = producer_init(p, s, len, wait)) != RING_OK)
		munmap(s, len);
	return rc;
}

int ring_consumer_attach(struct ring_consumer *c, const char *name, uint32_t slot_size,
			 uint64_t capacity, const struct ring_wait *wait)
{
	struct ring_shared *s;
	size_t len;
	memset(c, 0, sizeof *c);
	int rc = ring_map(name, slot_size, capacity, true, &s, &len);
	if (rc == RING_OK && (rc = consumer_init(c, s, len, wait)) != RING_OK)
		munmap(s, len);
	return rc;
}

int ring_pair_attach(struct ring_producer *p, struct ring_consumer *c, const char *name,
		     uint32_t slot_size, uint64_t capacity, const struct ring_wait *pw,
		     const struct ring_wait *cw)
{
	struct ring_shared *s;
	size_t len;
	memset(p, 0, sizeof *p);
	memset(c, 0, sizeof *c);
	int rc = ring_map(name, slot_size, capacity, true, &s, &len);
	if (rc)
		return rc;
	if ((rc = producer_init(p, s, len, pw)) != RING_OK) {
		munmap(s, len);
		return rc;
	}
	if ((rc = consumer_init(c, s, len, cw)) != RING_OK) {
		side_leave(s, RING_PRODUCER);
		munmap(s, len);
		p->shm = NULL;
		return rc;
	}
	p->borrowed_map = c->borrowed_map = true;
	return RING_OK;
}

void ring_producer_detach(struct ring_producer *p)
{
	if (!p->shm)
		return;
	atomic_store_explicit(&p->shm->closed, 1, memory_order_release);
	ring_full_fence();
	ring_wake_consumer(p);
	side_leave(p->shm, RING_PRODUCER);
	if (!p->borrowed_map)
		munmap(p->shm, p->map_len);
	p->shm = NULL;
}

void ring_consumer_detach(struct ring_consumer *c)
{
	if (!c->shm)
		return;
	side_leave(c->shm, RING_CONSUMER);
	ring_full_fence();
	ring_wake_producer(c);
	if (!c->borrowed_map)
		munmap(c->shm, c->map_len);
	c->shm = NULL;
}

void ring_pair_detach(struct ring_producer *p, struct ring_consumer *c)
{
	struct ring_shared *s = p->shm ? p->shm : c->shm;
	size_t len = p->shm ? p->map_len : c->map_len;
	ring_producer_detach(p);
	ring_consumer_detach(c);
	if (s)
		munmap(s, len);
}

int ring_observe(const char *name, const struct ring_shared **out, size_t *map_len)
{
	struct ring_shared *s;
	int rc = ring_map(name, 0, 0, false, &s, map_len);
	if (rc == RING_OK)
		*out = s;
	return rc;
}

void ring_unobserve(const struct ring_shared *shm, size_t map_len)
{
	munmap((void *)shm, map_len);
}

/* ---- waiting ----------------------------------------------------------- */

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is in a mapping shared between
	 * processes, so the kernel must key it by the backing page. */
	return syscall(SYS_futex, (uint32_t *)word, op, val, timeout, NULL, 0);
}

static void wake(_Atomic uint32_t *word, struct ring_side_info *me)
{
	/* Clear first: a waiter that has not reached futex_wait yet will then
	 * find the word changed and not sleep at all. */
	if (atomic_exchange_explicit(word, 0, memory_order_acq_rel) != 0) {
		futex(word, FUTEX_WAKE, INT_MAX, NULL);
		atomic_store_explicit(&me->wakes, atomic_load_explicit(&me->wakes, memory_order_relaxed) + 1,
				      memory_order_relaxed);
	}
}

void ring_wake_consumer(struct ring_producer *p)
{
	wake(&p->shm->cons_parked, &p->shm->side[RING_PRODUCER]);
}

void ring_wake_producer(struct ring_consumer *c)
{
	wake(&c->shm->prod_parked, &c->shm->side[RING_CONSUMER]);
}

/* Counters in a side block have one writer, that side: a plain load and
 * store is enough, and cheaper than a locked add. */
static void counter_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

/* One wait, either side.  ready() retries the fast path and returns nonzero
 * to stop (a count, or a negative status).  The spin phase touches nothing
 * but the ring: no clock read, no counter, no syscall, because a consumer
 * on a busy ring is in this loop for every event and anything here is
 * latency.  Past the spin phase the waiter yields or parks, and every park
 * interval beats its own heartbeat and looks at its peer. */
struct waiter {
	struct ring_shared *shm;
	const struct ring_wait *w;
	enum ring_side me, peer;
	_Atomic uint32_t *park_word;
	int (*ready)(struct waiter *wt);
	void *handle;
	uint32_t n;
	uint64_t t0;          /* start of the timed part of the wait; 0: not yet */
	uint64_t next_check;
};

enum { WAIT_AGAIN = 1 };

static uint64_t interval_ns(const struct waiter *wt) { return (uint64_t)wt->w->park_timeout_us * 1000; }

static void waiter_start_clock(struct waiter *wt, uint64_t now)
{
	wt->t0 = now;
	wt->next_check = now + interval_ns(wt);
}

/* Periodic slow check.  Returns WAIT_AGAIN, or a negative status to stop. */
static int waiter_check(struct waiter *wt, uint64_t now)
{
	/* A deadline ends the wait, but not before one look at the peer: a
	 * caller that waits in short slices (to do other work in between)
	 * would otherwise never hear that its peer is dead. */
	bool timed_out = wt->w->deadline_ns && now >= wt->w->deadline_ns;
	if (!timed_out && now < wt->next_check)
		return WAIT_AGAIN;
	wt->next_check = now + interval_ns(wt);
	ring_side_beat(wt->shm, wt->me, now);
	/* A peer that beats its heartbeat costs us nothing to watch; only a
	 * quiet one makes us read /proc. */
	uint64_t beat = atomic_load_explicit(&wt->shm->side[wt->peer].heartbeat_ns, memory_order_relaxed);
	uint32_t state = atomic_load_explicit(&wt->shm->side[wt->peer].state, memory_order_acquire);
	if (state == RING_SIDE_ATTACHED && now > beat && now - beat < interval_ns(wt))
		return timed_out ? RING_E_TIMEOUT : WAIT_AGAIN;
	enum ring_peer_state ps = ring_side_state(wt->shm, wt->peer, now, 0);
	if (ps == RING_PEER_DEAD || ps == RING_PEER_LEFT)
		return RING_E_PEER_DEAD;
	return timed_out ? RING_E_TIMEOUT : WAIT_AGAIN;
}

/* Test-only hook, see ring_testing.h. */
void (*ring_test_before_park)(enum ring_side side, void *arg);
void *ring_test_before_park_arg;

/* Announce that we are about to sleep.  Counted here rather than at the
 * sleep: each raised flag allows the peer exactly one wake (it clears the
 * flag with an exchange), so wakes <= parks holds exactly. */
static void raise_park_flag(struct waiter *wt)
{
	if (__builtin_expect(ring_test_before_park != NULL, 0))
		ring_test_before_park(wt->me, ring_test_before_park_arg);
	counter_add(&wt->shm->side[wt->me].parks, 1);
	atomic_store_explicit(wt->park_word, 1, memory_order_seq_cst);
	ring_full_fence();
	if (wt->shm->flags & RING_F_ASYM_BARRIER)
		membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

static void waiter_park(struct waiter *wt, uint64_t now)
{
	uint64_t ns = interval_ns(wt);
	if (wt->w->deadline_ns && wt->w->deadline_ns > now && wt->w->deadline_ns - now < ns)
		ns = wt->w->deadline_ns - now;
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull) };
	if (futex(wt->park_word, FUTEX_WAIT, 1, &ts) != 0 && errno == ETIMEDOUT)
		counter_add(&wt->shm->side[wt->me].park_timeouts, 1);
	atomic_store_explicit(wt->park_word, 0, memory_order_relaxed);
}

static int wait_loop(struct waiter *wt)
{
	const struct ring_wait *w = wt->w;
	int rc;
	for (uint64_t i = 0;; i++) {
		if ((rc = wt->ready(wt)) != 0)
			break;
		if (i < w->spin_iters || (w->kind == RING_WAIT_SPIN && (i & 255))) {
			ring_cpu_relax();
			continue;
		}
		uint64_t now = (uint64_t)clock_mono_ns();
		if (!wt->t0)
			waiter_start_clock(wt, now);
		int st = waiter_check(wt, now);
		if (st != WAIT_AGAIN) {
			/* Hand over whatever the peer published or freed before it
			 * went away; the error comes once nothing is left. */
			rc = wt->ready(wt);
			if (rc == 0)
				rc = st;
			break;
		}
		if (w->kind == RING_WAIT_SPIN_YIELD) {
			sched_yield();
		} else if (w->kind == RING_WAIT_SPIN_PARK) {
			raise_park_flag(wt);
			if ((rc = wt->ready(wt)) != 0) {
				atomic_store_explicit(wt->park_word, 0, memory_order_relaxed);
				break;
			}
			waiter_park(wt, now);
		}
	}
	struct ring_side_info *si = &wt->shm->side[wt->me];
	counter_add(&si->waits, 1);
	if (wt->t0) {
		uint64_t now = (uint64_t)clock_mono_ns();
		counter_add(&si->blocked_ns, now - wt->t0);
		ring_side_beat(wt->shm, wt->me, now);
	}
	return rc;
}

static int producer_ready(struct waiter *wt)
{
	struct ring_producer *p = wt->handle;
	return ring_try_claim(p, wt->n) == wt->n ? (int)wt->n : 0;
}

int ring_claim_wait(struct ring_producer *p, uint32_t n)
{
	if (n == 0)
		return 0;
	if (n > p->mask + 1)
		return RING_E_ARG;
	struct waiter wt = { .shm = p->shm, .w = &p->wait, .me = RING_PRODUCER, .peer = RING_CONSUMER,
			     .park_word = &p->shm->prod_parked, .ready = producer_ready, .handle = p, .n = n };
	/* A full ring is back-pressure, the exceptional case: time all of it. */
	waiter_start_clock(&wt, (uint64_t)clock_mono_ns());
	int rc = wait_loop(&wt);
	if (rc < 0)
		p->claimed = 0;
	return rc;
}

static int consumer_ready(struct waiter *wt)
{
	struct ring_consumer *c = wt->handle;
	/* Read `closed` before the tail: the producer sets it after its last
	 * publish, so closed and still empty really means drained. */
	bool closed = atomic_load_explicit(&c->shm->closed, memory_order_acquire);
	uint32_t k = ring_try_peek(c, wt->n);
	if (k)
		return (int)k;
	/* Keep the next slot's line coming while we wait for the tail: when the
	 * producer writes it, our read miss on it runs alongside the one on
	 * prod_tail instead of after it, and a hop costs one line transfer
	 * rather than two.  Only an idle consumer does this, so a busy ring
	 * pays nothing. */
	__builtin_prefetch(ring_rslot(c, 0), 0, 3);
	return closed ? RING_E_CLOSED : 0;
}

int ring_peek_wait(struct ring_consumer *c, uint32_t max)
{
	if (max == 0)
		return 0;
	/* An empty ring is the normal state of an idle consumer: the clock
	 * starts only once the wait outlasts the spin phase. */
	struct waiter wt = { .shm = c->shm, .w = &c->wait, .me = RING_CONSUMER, .peer = RING_PRODUCER,
			     .park_word = &c->shm->cons_parked, .ready = consumer_ready, .handle = c, .n = max };
	return wait_loop(&wt);
}

/* ---- waiting on several rings ------------------------------------------ */

static long futex_waitv(struct futex_waitv *w, unsigned n, const struct timespec *abs_mono)
{
	return syscall(SYS_futex_waitv, w, n, 0, abs_mono, CLOCK_MONOTONIC);
}

/* 1 and *which if a ring has data; RING_E_CLOSED if all are closed and
 * drained; 0 otherwise. */
static int any_ready(struct ring_consumer *const *cs, unsigned n, unsigned *which)
{
	unsigned closed = 0;
	for (unsigned r = 0; r < n; r++) {
		bool cl = atomic_load_explicit(&cs[r]->shm->closed, memory_order_acquire);
		if (ring_try_peek(cs[r], 1)) {
			*which = r;
			return 1;
		}
		closed += cl;
	}
	return closed == n ? RING_E_CLOSED : 0;
}

int ring_wait_any(struct ring_consumer *const *cs, unsigned n, unsigned *which)
{
	if (n == 0 || n > RING_WAIT_ANY_MAX)
		return RING_E_ARG;
	const struct ring_wait *w = &cs[0]->wait;
	uint64_t interval = (uint64_t)w->park_timeout_us * 1000;
	uint64_t t0 = 0, next_check = 0;
	static _Atomic int no_waitv; /* set once if the kernel lacks futex_waitv */
	int rc;
	for (uint64_t i = 0;; i++) {
		if ((rc = any_ready(cs, n, which)) != 0)
			break;
		if (i < w->spin_iters || (w->kind == RING_WAIT_SPIN && (i & 255))) {
			ring_cpu_relax();
			continue;
		}
		uint64_t now = (uint64_t)clock_mono_ns();
		if (!t0) {
			t0 = now;
			next_check = now + interval;
		}
		if (w->deadline_ns && now >= w->deadline_ns) {
			rc = RING_E_TIMEOUT;
			break;
		}
		if (now >= next_check) {
			next_check = now + interval;
			for (unsigned r = 0; r < n; r++) {
				ring_side_beat(cs[r]->shm, RING_CONSUMER, now);
				if (atomic_load_explicit(&cs[r]->shm->closed, memory_order_acquire))
					continue;
				enum ring_peer_state ps = ring_side_state(cs[r]->shm, RING_PRODUCER, now, 0);
				if ((ps == RING_PEER_DEAD || ps == RING_PEER_LEFT) && !ring_try_peek(cs[r], 1)) {
					*which = r;
					rc = RING_E_PEER_DEAD;
					goto out;
				}
			}
		}
		if (w->kind == RING_WAIT_SPIN_YIELD) {
			sched_yield();
			continue;
		}
		if (w->kind != RING_WAIT_SPIN_PARK)
			continue;
		/* Raise every flag, then one barrier, then re-check every ring:
		 * the same protocol as a single park, once per word. */
		bool asym = false;
		for (unsigned r = 0; r < n; r++) {
			counter_add(&cs[r]->shm->side[RING_CONSUMER].parks, 1);
			atomic_store_explicit(&cs[r]->shm->cons_parked, 1, memory_order_seq_cst);
			asym |= (cs[r]->shm->flags & RING_F_ASYM_BARRIER) != 0;
		}
		ring_full_fence();
		if (asym)
			membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
		if ((rc = any_ready(cs, n, which)) == 0) {
			uint64_t until = now + interval;
			if (w->deadline_ns && w->deadline_ns < until)
				until = w->deadline_ns;
			if (!atomic_load_explicit(&no_waitv, memory_order_relaxed)) {
				struct futex_waitv fw[RING_WAIT_ANY_MAX];
				for (unsigned r = 0; r < n; r++)
					fw[r] = (struct futex_waitv){ .val = 1, .uaddr = (uintptr_t)&cs[r]->shm->cons_parked,
								      .flags = FUTEX_32 };
				struct timespec abs = { .tv_sec = (time_t)(until / 1000000000ull),
							.tv_nsec = (long)(until % 1000000000ull) };
				if (futex_waitv(fw, n, &abs) != 0) {
					if (errno == ENOSYS)
						atomic_store_explicit(&no_waitv, 1, memory_order_relaxed);
					else if (errno == ETIMEDOUT)
						counter_add(&cs[0]->shm->side[RING_CONSUMER].park_timeouts, 1);
				}
			} else {
				uint64_t ns = until - now < 1000000 ? until - now : 1000000;
				struct timespec rel = { 0, (long)ns };
				futex(&cs[0]->shm->cons_parked, FUTEX_WAIT, 1, &rel);
			}
		}
		for (unsigned r = 0; r < n; r++)
			atomic_store_explicit(&cs[r]->shm->cons_parked, 0, memory_order_relaxed);
		if (rc != 0)
			break;
	}
out:
	if (t0) {
		uint64_t now = (uint64_t)clock_mono_ns();
		struct ring_side_info *si = &cs[0]->shm->side[RING_CONSUMER];
		counter_add(&si->waits, 1);
		counter_add(&si->blocked_ns, now - t0);
	}
	return rc;
}
