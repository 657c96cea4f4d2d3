/*
 * Internals of `fks bench ring`: the transport vtable and the per-process
 * transport instance.  Shared by the driver (ring_bench.c), the transports
 * (xport.c) and the rte_ring peer (xport_rte.c, its own static library
 * because DPDK's cflags must not leak into the rest).
 *
 * A transport is two one-way channels between a parent (pinned to cpu0) and
 * a forked child (cpu1): channel A parent -> child, channel B child -> parent.
 * The parent sends on A and receives on B; the child the other way round.
 * Latency uses both (ping-pong), throughput only A.
 */
#ifndef FKS_BENCH_INT_H
#define FKS_BENCH_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/event.h"

/* Every transport carries the same 64-byte event, by value. */
typedef struct fks_ev_quote bench_ev;
_Static_assert(sizeof(bench_ev) == 64, "a bench event is one cache line");

#define BENCH_BATCH_MAX 32u
#define BENCH_RING_CAP 4096u /* slots per ring, the same for fks, rte_ring, ck_ring */

enum bx_side { BX_PARENT = 0, BX_CHILD = 1 };

struct bx;

/* Hot path of a transport.  send: enqueue up to n events from ev, return how
 * many were taken (0: full, the harness spins and retries) or -1 with x->err
 * set.  recv: dequeue up to max events into out, return how many (0: empty,
 * the harness spins) or -1.  Blocking transports never return 0. */
typedef int (*bx_send_fn)(struct bx *x, const bench_ev *ev, uint32_t n);
typedef int (*bx_recv_fn)(struct bx *x, bench_ev *out, uint32_t max);

/* The measurement loops, instantiated once per transport from harness.h with
 * that transport's send/recv inlined.  All return 0 or -1 with x->err set. */
struct bx_runners {
	/* Parent: warm + n round trips; samples[i] = TSC ticks of measured trip i. */
	int (*ping)(struct bx *x, uint64_t *samples, uint64_t warm, uint64_t n);
	/* Child: echo `total` events from A back on B. */
	int (*pong)(struct bx *x, uint64_t total);
	/* Parent: send events seq 1..n on A, `batch` per send. */
	int (*produce)(struct bx *x, uint64_t n, uint32_t batch);
	/* Child: receive n events on A, at most `batch` per recv, check strict
	 * order, return the checksum in *sum. */
	int (*consume)(struct bx *x, uint64_t n, uint32_t batch, uint64_t *sum);
};

struct bench_xport {
	const char *name;      /* floor, fks, rte_ring, ck_ring, unix, pipe */
	const char *note;      /* one line under the table, or NULL */
	bool has_tput;         /* false: latency only (floor) */
	uint64_t default_events;
	/* Slow path, called through the pointers.  All return 0 or -1 with
	 * x->err set, and undo their own partial work on failure. */
	int (*setup)(struct bx *x);                    /* parent, before fork */
	int (*open)(struct bx *x, enum bx_side side);  /* each process, after fork */
	void (*close)(struct bx *x);                   /* each process, after its work */
	void (*teardown)(struct bx *x);                /* parent, after the child is reaped */
	/* Async-signal-safe removal of anything named (shm files) this run
	 * created; called from a signal handler or a dying watchdog.  NULL if
	 * the transport names nothing. */
	void (*emergency)(const struct bx *x);
	size_t priv_size;                              /* zeroed, process-private */
	struct bx_runners run;
};

/* One transport instance.  Built by the parent before fork, so the child
 * starts with a copy. */
struct bx {
	const struct bench_xport *t;
	enum bx_side side;
	void *priv;               /* t->priv_size bytes */
	void *shared;             /* from bx_map_shared, or NULL */
	size_t shared_len;
	void *tx, *rx;            /* channel handles, set by open() */
	const _Atomic int *abort; /* nonzero: the peer died, stop spinning */
	/* Called every 2^16 iterations of a loop, outside any timed region. */
	void (*progress)(struct bx *x, const char *what, uint64_t done, uint64_t total);
	uint64_t progress_last_ns;
	char err[256];
};

/* Format an error into x->err; returns -1. */
int bx_fail(struct bx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Map len zeroed, prefaulted bytes MAP_SHARED|MAP_ANONYMOUS into x->shared
 * (inherited by the child at fork).  Undone by bx_unmap_shared. */
int bx_map_shared(struct bx *x, size_t len);
void bx_unmap_shared(struct bx *x);

extern const struct bench_xport bench_xport_floor;
extern const struct bench_xport bench_xport_fks;
extern const struct bench_xport bench_xport_ck;
extern const struct bench_xport bench_xport_unix;
extern const struct bench_xport bench_xport_pipe;
#if FKS_HAVE_DPDK
extern const struct bench_xport bench_xport_rte;
#endif

#endif
