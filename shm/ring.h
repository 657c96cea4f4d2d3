/*
 * A single-producer single-consumer ring in a named shared-memory segment.
 *
 * The segment is /dev/shm/<name>, mode 0600, owned by the creating user.  It
 * begins with struct ring_shared (no pointers, fixed offsets) followed by
 * `capacity` slots of `slot_size` bytes.  Any two processes of that user can
 * attach, one as producer and one as consumer; attach validates the header and
 * refuses a mismatch with a specific error.
 *
 * Cursors are free-running 64-bit counters: slot i lives at (i & mask).  The
 * producer owns prod_tail (slots published), the consumer owns cons_head
 * (slots released).  Each sits on its own 128-byte block, because Intel's
 * adjacent-line prefetcher pulls cache lines in pairs and would otherwise
 * make two neighbouring lines falsely shared.  Each side keeps a private copy
 * of the other side's cursor and reads the shared one only when the private
 * copy says it must wait: in steady state a batch costs one shared write.
 *
 * Hot path (claim/publish, peek/release) is inline here: no locks, no
 * allocation, no syscall.  The blocking variants and everything else are in
 * ring.c.  The one exception to "no syscall": with the park wait strategy a
 * side that finds its peer asleep on the futex wakes it, and only then.
 *
 * Usage, producer:            Usage, consumer:
 *   n = ring_claim(p, k);       n = ring_peek(c, k);
 *   fill ring_wslot(p, 0..n)    read ring_rslot(c, 0..n)
 *   ring_publish(p, n);         ring_release(c, n);
 */
#ifndef FKS_SHM_RING_H
#define FKS_SHM_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RING_MAGIC 0x31474e4952534b46ull /* "FKSRING1" little-endian */
#define RING_LAYOUT_VERSION 1u
#define RING_NAME_MAX 200
#define RING_BLOCK 128 /* bytes between independently written fields */

/* Header flags, fixed at create. */
enum {
	/* Publish and release pay no fence: a side about to park issues
	 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) instead, which runs the
	 * barrier on the peer's CPU.  Set when the kernel supports it. */
	RING_F_ASYM_BARRIER = 1u << 0,
};

/* Errors are negative return values; ring_strerror() describes each. */
enum ring_status {
	RING_OK = 0,
	RING_E_NAME = -1,       /* name empty, too long or contains '/' */
	RING_E_NOENT = -2,      /* no such segment */
	RING_E_EXISTS = -3,     /* create: segment already exists */
	RING_E_SYS = -4,        /* a system call failed; errno is kept */
	RING_E_SHORT = -5,      /* segment smaller than its header says */
	RING_E_MAGIC = -6,      /* not an FKS ring */
	RING_E_VERSION = -7,    /* ring layout from another FKS version */
	RING_E_SLOT_SIZE = -8,  /* slot size differs from the expected one */
	RING_E_CAPACITY = -9,   /* capacity differs, or is not a power of two */
	RING_E_OWNER = -10,     /* segment belongs to another user */
	RING_E_PERMS = -11,     /* segment is group- or world-accessible */
	RING_E_BUSY = -12,      /* that side is held by another live process */
	RING_E_ARG = -13,       /* bad argument (slot size, capacity, batch) */
	RING_E_RANGE = -14,     /* publish/release of more than was claimed/peeked */
	RING_E_CLOSED = -15,    /* producer closed the ring and it is drained */
	RING_E_PEER_DEAD = -16, /* the other side's process is gone */
	RING_E_TIMEOUT = -17,   /* a bounded wait ran out */
};
const char *ring_strerror(int status);

enum ring_wait_kind {
	RING_WAIT_SPIN = 0,       /* busy-spin forever: isolated cores only */
	RING_WAIT_SPIN_YIELD = 1, /* spin, then sched_yield() in a loop */
	RING_WAIT_SPIN_PARK = 2,  /* spin, then sleep on a futex (the default) */
};
const char *ring_wait_name(enum ring_wait_kind k);
/* Parses "spin", "yield" or "park"; returns -1 if unknown. */
int ring_wait_parse(const char *s);

struct ring_wait {
	enum ring_wait_kind kind;
	uint32_t spin_iters;       /* pause-loop iterations before yield/park */
	uint32_t park_timeout_us;  /* a parked side wakes this often to check its peer */
	uint64_t stall_ns;         /* heartbeat older than this: peer is stalled */
	uint64_t deadline_ns;      /* 0: wait without limit; else give up at this
	                              CLOCK_MONOTONIC time with RING_E_TIMEOUT */
};
/* Spin-then-park, 1024 spins, 10 ms park slices, 1 s stall threshold. */
struct ring_wait ring_wait_default(void);

enum ring_side { RING_PRODUCER = 0, RING_CONSUMER = 1 };

/* Liveness and counters of one side.  Written only by that side, read by
 * anyone (the peer, the supervisor, `fks status`). */
struct ring_side_info {
	_Atomic int32_t pid;          /* 0: nobody attached */
	_Atomic uint32_t state;       /* enum ring_side_state */
	_Atomic uint64_t start_ticks; /* /proc starttime of pid: detects pid reuse */
	_Atomic uint64_t heartbeat_ns;/* CLOCK_MONOTONIC */
	_Atomic uint64_t waits;       /* producer: ring full; consumer: ring empty */
	_Atomic uint64_t blocked_ns;  /* time spent in those waits */
	_Atomic uint64_t parks;       /* park attempts: "wake me" flag raised */
	_Atomic uint64_t wakes;       /* futex wakes issued to the peer (syscalls) */
	_Atomic uint64_t park_timeouts; /* parks that ended by timeout, not a wake */
	_Atomic uint32_t wait_kind;   /* enum ring_wait_kind of this side */
	uint32_t pad0;
};

enum ring_side_state { RING_SIDE_NEVER = 0, RING_SIDE_ATTACHED = 1, RING_SIDE_DETACHED = 2 };

struct ring_shared {
	/* Block 0: written once at create, read-only afterwards. */
	uint64_t magic;
	uint32_t version;
	uint32_t slot_size;
	uint64_t capacity;
	uint64_t slots_offset;   /* bytes from the segment start to slot 0 */
	uint64_t segment_size;
	uint32_t owner_uid;
	uint32_t flags;          /* RING_F_* */
	int64_t created_ns;      /* CLOCK_REALTIME at create */
	uint8_t pad_b0[RING_BLOCK - 56];

	/* Block 1: producer cursor, the only shared write of a publish. */
	_Atomic uint64_t prod_tail;
	_Atomic uint32_t closed;  /* producer is done; set after its last publish */
	uint8_t pad_b1[RING_BLOCK - 12];

	/* Block 2: consumer cursor, the only shared write of a release. */
	_Atomic uint64_t cons_head;
	uint8_t pad_b2[RING_BLOCK - 8];

	/* Blocks 3 and 4: futex words.  Nonzero means "I am asleep, wake me".
	 * Read by the peer on every publish/release, written only around a
	 * sleep, so in steady state the line stays shared and costs nothing. */
	_Atomic uint32_t cons_parked;
	uint8_t pad_b3[RING_BLOCK - 4];
	_Atomic uint32_t prod_parked;
	uint8_t pad_b4[RING_BLOCK - 4];

	/* Blocks 5 and 6: liveness and counters, per side. */
	struct ring_side_info side[2];
	uint8_t pad_b56[2 * RING_BLOCK - 2 * sizeof(struct ring_side_info)];

	uint8_t pad_b7[RING_BLOCK];
};

_Static_assert(sizeof(struct ring_side_info) <= RING_BLOCK, "side info fits a block");
_Static_assert(offsetof(struct ring_shared, prod_tail) == 1 * RING_BLOCK, "prod_tail block");
_Static_assert(offsetof(struct ring_shared, cons_head) == 2 * RING_BLOCK, "cons_head block");
_Static_assert(offsetof(struct ring_shared, cons_parked) == 3 * RING_BLOCK, "cons_parked block");
_Static_assert(offsetof(struct ring_shared, prod_parked) == 4 * RING_BLOCK, "prod_parked block");
_Static_assert(offsetof(struct ring_shared, side) == 5 * RING_BLOCK, "side info blocks");
_Static_assert(sizeof(struct ring_shared) == 8 * RING_BLOCK, "header is 1 KiB");

/* Process-private handles.  Fields are public only so the hot path can be
 * inline; treat them as read-only outside shm/. */
struct ring_producer {
	struct ring_shared *shm;
	uint8_t *slots;
	uint64_t mask;
	uint32_t slot_size;
	uint32_t claimed;        /* slots claimed from tail, not yet published */
	uint64_t tail;           /* private copy of prod_tail */
	uint64_t cons_cache;     /* last cons_head seen */
	struct ring_wait wait;
	size_t map_len;
	bool borrowed_map;       /* pair attach: the mapping is unmapped by ring_pair_detach */
	bool asym;               /* RING_F_ASYM_BARRIER: no fence in publish */
};

struct ring_consumer {
	struct ring_shared *shm;
	uint8_t *slots;
	uint64_t mask;
	uint32_t slot_size;
	uint32_t peeked;         /* slots visible from head, not yet released */
	uint64_t head;           /* private copy of cons_head */
	uint64_t prod_cache;     /* last prod_tail seen */
	struct ring_wait wait;
	size_t map_len;
	bool borrowed_map;
	bool asym;
};

/* ---- segments ---------------------------------------------------------- */

/* Create /dev/shm/<name> with mode 0600.  slot_size: a multiple of 64, at
 * most 64 KiB.  capacity: a power of two, 2 .. 2^30.  Fails with
 * RING_E_EXISTS if the name is taken.  Uses RING_F_ASYM_BARRIER when the
 * kernel supports it (the right choice when neither side parks). */
int ring_create(const char *name, uint32_t slot_size, uint64_t capacity);
/* The same with explicit flags.  RING_F_ASYM_BARRIER is dropped if the
 * kernel lacks membarrier(GLOBAL_EXPEDITED).  Ask for it only when neither
 * side parks (spin or yield): it takes the fence out of every publish but
 * costs each park a membarrier, an IPI to every CPU running a registered
 * process (18 us per park measured on a 2-vCPU VM, against ~10 ns for the
 * fence it saves). */
int ring_create_flags(const char *name, uint32_t slot_size, uint64_t capacity, uint32_t flags);
/* Remove the name; mappings that exist stay valid. */
int ring_unlink(const char *name);
/* Bytes a segment with this geometry occupies. */
size_t ring_segment_size(uint32_t slot_size, uint64_t capacity);

/* Attach as producer or consumer.  Validates magic, version, size, owner uid
 * and permissions, and - when nonzero - the expected slot size and capacity.
 * Refuses with RING_E_BUSY if a live process already holds that side; a side
 * held by a dead process is taken over.  `wait` may be NULL for the default. */
int ring_producer_attach(struct ring_producer *p, const char *name, uint32_t slot_size,
			 uint64_t capacity, const struct ring_wait *wait);
int ring_consumer_attach(struct ring_consumer *c, const char *name, uint32_t slot_size,
			 uint64_t capacity, const struct ring_wait *wait);
/* Producer detach marks the ring closed, so the consumer drains what is left
 * and then gets RING_E_CLOSED.  Consumer detach just leaves. */
void ring_producer_detach(struct ring_producer *p);
void ring_consumer_detach(struct ring_consumer *c);

/* Attach both sides in one process over a single mapping, for threads in
 * one process (in-process pipelines, and the thread-sanitizer tests: TSan
 * tracks memory by address, so both threads must use the same mapping).
 * Detach both with ring_pair_detach. */
int ring_pair_attach(struct ring_producer *p, struct ring_consumer *c, const char *name,
		     uint32_t slot_size, uint64_t capacity, const struct ring_wait *pw,
		     const struct ring_wait *cw);
void ring_pair_detach(struct ring_producer *p, struct ring_consumer *c);

/* Read-only view for observers (`fks status`, the supervisor).  Validates
 * like attach but takes no side. */
int ring_observe(const char *name, const struct ring_shared **out, size_t *map_len);
void ring_unobserve(const struct ring_shared *shm, size_t map_len);

/* ---- liveness ---------------------------------------------------------- */

enum ring_peer_state {
	RING_PEER_ABSENT = 0,   /* never attached */
	RING_PEER_ALIVE = 1,
	RING_PEER_STALLED = 2,  /* process exists, heartbeat older than stall_ns */
	RING_PEER_DEAD = 3,     /* process gone (or a zombie, or its pid reused) */
	RING_PEER_LEFT = 4,     /* detached cleanly */
};
const char *ring_peer_state_name(enum ring_peer_state s);
/* Costs a few syscalls (reads /proc): call it from slow paths only. */
enum ring_peer_state ring_side_state(const struct ring_shared *shm, enum ring_side side,
				     uint64_t now_ns, uint64_t stall_ns);

static inline void ring_side_beat(struct ring_shared *shm, enum ring_side side, uint64_t now_ns)
{
	atomic_store_explicit(&shm->side[side].heartbeat_ns, now_ns, memory_order_relaxed);
}

/* ---- blocking slow paths (ring.c) -------------------------------------- */

/* Wait until n slots are free and claim them.  Returns n, or a negative
 * status: RING_E_ARG if n exceeds the capacity, RING_E_PEER_DEAD,
 * RING_E_TIMEOUT.  Time spent waiting is added to the producer's blocked_ns
 * and each wait counts once in its `waits`. */
int ring_claim_wait(struct ring_producer *p, uint32_t n);
/* Wait until at least one slot is readable; returns min(max, readable) or a
 * negative status: RING_E_CLOSED once a closed ring is drained,
 * RING_E_PEER_DEAD, RING_E_TIMEOUT.  Published events are always returned
 * before either error. */
int ring_peek_wait(struct ring_consumer *c, uint32_t max);

/* Wait until any of n consumers (n <= RING_WAIT_ANY_MAX) has a readable
 * slot, for a stage with several inputs.  Rings are polled in order, so an
 * earlier ring takes priority.  Returns 1 with *which set to that ring, or a
 * negative status: RING_E_CLOSED once every ring is closed and drained,
 * RING_E_PEER_DEAD with *which set when an empty ring's producer is gone,
 * RING_E_TIMEOUT.  Uses cs[0]'s wait strategy.  Parking sleeps on every
 * ring's futex word at once (futex_waitv), so each producer wakes us through
 * its own ring exactly as for a single consumer; without futex_waitv (Linux
 * < 5.16) it sleeps on cs[0] and polls the others every millisecond. */
#define RING_WAIT_ANY_MAX 8
int ring_wait_any(struct ring_consumer *const *cs, unsigned n, unsigned *which);

/* Futex wake of a parked peer: the out-of-line part of publish/release. */
void ring_wake_consumer(struct ring_producer *p);
void ring_wake_producer(struct ring_consumer *c);

/* ---- hot path ---------------------------------------------------------- */

static inline void ring_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Between "publish my cursor" and "is my peer asleep?": the store must not
 * be ordered after the load, or both sides could miss each other (the peer
 * raises its flag, then re-reads our cursor).  With RING_F_ASYM_BARRIER the
 * peer pays for this with membarrier() when it parks, so here only the
 * compiler must keep program order; otherwise it is a full fence. */
#if defined(__SANITIZE_THREAD__)
#define RING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RING_TSAN 1
#endif
#endif

/* A full (store-load) barrier.  ThreadSanitizer does not model standalone
 * fences and gcc refuses them under -fsanitize=thread; a seq_cst
 * read-modify-write is a full barrier on x86 too, and TSan understands it. */
static inline void ring_full_fence(void)
{
#ifdef RING_TSAN
	static _Atomic int fence_word;
	atomic_fetch_add_explicit(&fence_word, 0, memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

static inline void ring_store_load_barrier(bool asym)
{
	if (asym)
		atomic_signal_fence(memory_order_seq_cst);
	else
		ring_full_fence();
}

/* Claim up to n slots without waiting; returns how many (0 when full).
 * A claim replaces the previous unpublished one, from the same tail. */
static inline uint32_t ring_try_claim(struct ring_producer *p, uint32_t n)
{
	uint64_t cap = p->mask + 1;
	uint64_t free_slots = cap - (p->tail - p->cons_cache);
	if (free_slots < n) {
		p->cons_cache = atomic_load_explicit(&p->shm->cons_head, memory_order_acquire);
		free_slots = cap - (p->tail - p->cons_cache);
	}
	uint32_t k = free_slots < n ? (uint32_t)free_slots : n;
	p->claimed = k;
	return k;
}

/* Claim exactly n slots, waiting per the wait strategy if the ring is full. */
static inline int ring_claim(struct ring_producer *p, uint32_t n)
{
	if (__builtin_expect(ring_try_claim(p, n) == n, 1))
		return (int)n;
	return ring_claim_wait(p, n);
}

/* Slot i (0-based) of the current claim. */
static inline void *ring_wslot(const struct ring_producer *p, uint32_t i)
{
	return p->slots + ((p->tail + i) & p->mask) * p->slot_size;
}

/* Make the first n claimed slots visible to the consumer, in order.
 * RING_E_RANGE (and nothing published) if n exceeds the claim. */
static inline int ring_publish(struct ring_producer *p, uint32_t n)
{
	if (__builtin_expect(n > p->claimed, 0))
		return RING_E_RANGE;
	p->tail += n;
	p->claimed -= n;
	atomic_store_explicit(&p->shm->prod_tail, p->tail, memory_order_release);
	ring_store_load_barrier(p->asym);
	if (__builtin_expect(atomic_load_explicit(&p->shm->cons_parked, memory_order_relaxed) != 0, 0))
		ring_wake_consumer(p);
	return RING_OK;
}

/* Up to max readable slots without waiting; returns how many (0 when empty). */
static inline uint32_t ring_try_peek(struct ring_consumer *c, uint32_t max)
{
	uint64_t avail = c->prod_cache - c->head;
	if (avail < max) {
		c->prod_cache = atomic_load_explicit(&c->shm->prod_tail, memory_order_acquire);
		avail = c->prod_cache - c->head;
	}
	uint32_t k = avail < max ? (uint32_t)avail : max;
	c->peeked = k;
	return k;
}

/* Up to max readable slots, waiting for at least one. */
static inline int ring_peek(struct ring_consumer *c, uint32_t max)
{
	uint32_t k = ring_try_peek(c, max);
	if (__builtin_expect(k != 0, 1))
		return (int)k;
	return ring_peek_wait(c, max);
}

static inline const void *ring_rslot(const struct ring_consumer *c, uint32_t i)
{
	return c->slots + ((c->head + i) & c->mask) * c->slot_size;
}

/* Hand the first n peeked slots back to the producer.  RING_E_RANGE (and
 * nothing released) if n exceeds what was peeked. */
static inline int ring_release(struct ring_consumer *c, uint32_t n)
{
	if (__builtin_expect(n > c->peeked, 0))
		return RING_E_RANGE;
	c->head += n;
	c->peeked -= n;
	atomic_store_explicit(&c->shm->cons_head, c->head, memory_order_release);
	ring_store_load_barrier(c->asym);
	if (__builtin_expect(atomic_load_explicit(&c->shm->prod_parked, memory_order_relaxed) != 0, 0))
		ring_wake_producer(c);
	return RING_OK;
}

/* Events readable right now, as seen by an observer. */
static inline uint64_t ring_depth(const struct ring_shared *shm)
{
	uint64_t head = atomic_load_explicit(&shm->cons_head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&shm->prod_tail, memory_order_acquire);
	return tail - head;
}

#endif
