/*
 * Transports of `fks bench ring` except rte_ring (xport_rte.c): the cache-line
 * floor, the FKS ring, ck_ring, a unix socketpair and a pair of pipes.
 * Each is a handful of small functions plus BX_DEFINE_RUNNERS, which
 * instantiates the shared loops of harness.h around them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ck_ring.h>

#include "bench/harness.h"
#include "shm/ring.h"

/* ---- floor: one counter per direction, each on its own cache line ------ *
 * The physical floor of a shared-memory hand-off: the sender stores the
 * sequence number into a line, the receiver spins until it changes.  One
 * cache-line transfer per direction and nothing else: no payload, no cursor,
 * no fence.  Latency only: a one-deep mailbox is not a queue. */

struct floor_line {
	_Alignas(128) _Atomic uint64_t v; /* 128: keep the adjacent-line prefetcher out */
	uint8_t pad[120];
};

struct floor_shared {
	struct floor_line line[2]; /* [0] parent -> child, [1] child -> parent */
};

struct floor_end {
	_Atomic uint64_t *line;
	uint64_t last; /* receiver: last value seen */
};

struct floor_priv {
	struct floor_end tx, rx;
};

static int floor_setup(struct bx *x)
{
	return bx_map_shared(x, sizeof(struct floor_shared));
}

static int floor_open(struct bx *x, enum bx_side side)
{
	struct floor_shared *s = x->shared;
	struct floor_priv *p = x->priv;
	p->tx.line = &s->line[side == BX_PARENT ? 0 : 1].v;
	p->rx.line = &s->line[side == BX_PARENT ? 1 : 0].v;
	p->rx.last = atomic_load_explicit(p->rx.line, memory_order_relaxed);
	x->tx = &p->tx;
	x->rx = &p->rx;
	return 0;
}

static void floor_close(struct bx *x)
{
	(void)x;
}

static void floor_teardown(struct bx *x)
{
	bx_unmap_shared(x);
}

HX_INLINE int floor_send(struct bx *x, const bench_ev *ev, uint32_t n)
{
	struct floor_end *e = x->tx;
	atomic_store_explicit(e->line, ev[n - 1].h.seq, memory_order_release);
	return (int)n;
}

HX_INLINE int floor_recv(struct bx *x, bench_ev *out, uint32_t max)
{
	(void)max;
	struct floor_end *e = x->rx;
	uint64_t v = atomic_load_explicit(e->line, memory_order_acquire);
	if (v == e->last)
		return 0;
	e->last = v;
	out[0].h.seq = v;
	return 1;
}

BX_DEFINE_RUNNERS(floor, floor_send, floor_recv)

const struct bench_xport bench_xport_floor = {
	.name = "floor",
	.note = "floor: one 8-byte counter per direction on its own cache line, PAUSE spin; "
		"latency only (a one-deep mailbox is not a queue)",
	.has_tput = false,
	.setup = floor_setup,
	.open = floor_open,
	.close = floor_close,
	.teardown = floor_teardown,
	.priv_size = sizeof(struct floor_priv),
	.run = BX_RUNNERS(floor),
};

/* ---- fks: the FKS ring, two segments in /dev/shm ----------------------- */

#define FKS_NAME_LEN 64

struct fks_priv {
	char name[2][FKS_NAME_LEN];          /* [0] parent -> child, [1] child -> parent */
	char path[2][FKS_NAME_LEN + 16];     /* /dev/shm/<name>, for emergency() */
	bool created[2];
	struct ring_producer prod;
	struct ring_consumer cons;
	bool prod_on, cons_on;
};

static int fks_err(struct bx *x, const char *what, const char *name, int rc)
{
	if (rc == RING_E_SYS)
		return bx_fail(x, "%s %s: %s (%s)", what, name, ring_strerror(rc), strerror(errno));
	return bx_fail(x, "%s %s: %s", what, name, ring_strerror(rc));
}

static void fks_teardown(struct bx *x)
{
	struct fks_priv *p = x->priv;
	for (int i = 0; i < 2; i++) {
		if (p->created[i]) {
			int rc = ring_unlink(p->name[i]);
			if (rc != RING_OK && rc != RING_E_NOENT)
				fprintf(stderr, "fks bench ring: warning: unlink %s: %s\n", p->name[i],
					ring_strerror(rc));
			p->created[i] = false;
		}
	}
}

static void fks_emergency(const struct bx *x)
{
	const struct fks_priv *p = x->priv;
	for (int i = 0; i < 2; i++)
		if (p->created[i])
			unlink(p->path[i]);
}

static int fks_setup(struct bx *x)
{
	static unsigned serial;
	struct fks_priv *p = x->priv;
	unsigned id = serial++;
	for (int i = 0; i < 2; i++) {
		snprintf(p->name[i], sizeof p->name[i], "fks-bench-%d-%u-%s", (int)getpid(), id,
			 i == 0 ? "p2c" : "c2p");
		snprintf(p->path[i], sizeof p->path[i], "/dev/shm/%s", p->name[i]);
		int rc = ring_create(p->name[i], sizeof(bench_ev), BENCH_RING_CAP);
		if (rc != RING_OK) {
			fks_err(x, "ring_create", p->name[i], rc);
			fks_teardown(x);
			return -1;
		}
		p->created[i] = true;
	}
	return 0;
}

static int fks_open(struct bx *x, enum bx_side side)
{
	struct fks_priv *p = x->priv;
	struct ring_wait w = ring_wait_default();
	w.kind = RING_WAIT_SPIN;
	const char *out = p->name[side == BX_PARENT ? 0 : 1];
	const char *in = p->name[side == BX_PARENT ? 1 : 0];
	int rc = ring_producer_attach(&p->prod, out, sizeof(bench_ev), BENCH_RING_CAP, &w);
	if (rc != RING_OK)
		return fks_err(x, "ring_producer_attach", out, rc);
	p->prod_on = true;
	rc = ring_consumer_attach(&p->cons, in, sizeof(bench_ev), BENCH_RING_CAP, &w);
	if (rc != RING_OK) {
		ring_producer_detach(&p->prod);
		p->prod_on = false;
		return fks_err(x, "ring_consumer_attach", in, rc);
	}
	p->cons_on = true;
	x->tx = &p->prod;
	x->rx = &p->cons;
	return 0;
}

static void fks_close(struct bx *x)
{
	struct fks_priv *p = x->priv;
	if (p->prod_on)
		ring_producer_detach(&p->prod);
	if (p->cons_on)
		ring_consumer_detach(&p->cons);
	p->prod_on = p->cons_on = false;
}

/* Claim n (waiting with the ring's own spin strategy when full), copy the
 * events into the slots, publish them in one cursor store. */
HX_INLINE int fks_send(struct bx *x, const bench_ev *ev, uint32_t n)
{
	struct ring_producer *p = x->tx;
	int rc = ring_claim(p, n);
	if (rc < 0)
		return bx_fail(x, "ring_claim: %s", ring_strerror(rc));
	for (uint32_t i = 0; i < n; i++)
		memcpy(ring_wslot(p, i), &ev[i], sizeof *ev);
	ring_publish(p, n);
	return (int)n;
}

/* Peek up to max (waiting with the ring's spin strategy when empty), copy
 * them out, release them in one cursor store. */
HX_INLINE int fks_recv(struct bx *x, bench_ev *out, uint32_t max)
{
	struct ring_consumer *c = x->rx;
	int k = ring_peek(c, max);
	if (k < 0)
		return bx_fail(x, "ring_peek: %s", ring_strerror(k));
	for (int i = 0; i < k; i++)
		memcpy(&out[i], ring_rslot(c, (uint32_t)i), sizeof *out);
	ring_release(c, (uint32_t)k);
	return k;
}

BX_DEFINE_RUNNERS(fks, fks_send, fks_recv)

const struct bench_xport bench_xport_fks = {
	.name = "fks",
	.note = "fks: shm/ring.h in /dev/shm, RING_WAIT_SPIN both sides; events copied into and out "
		"of the slots (by value, like rte_ring/ck_ring); b32 = ring_claim(32)/ring_peek(32)",
	.has_tput = true,
	.default_events = 20000000,
	.setup = fks_setup,
	.open = fks_open,
	.close = fks_close,
	.teardown = fks_teardown,
	.emergency = fks_emergency,
	.priv_size = sizeof(struct fks_priv),
	.run = BX_RUNNERS(fks),
};

/* ---- ck_ring: Concurrency Kit, entries of 64 bytes by value ------------ */

CK_RING_PROTOTYPE(bench, fks_ev_quote)

struct ck_shared {
	struct {
		_Alignas(256) struct ck_ring r;
	} ring[2];                                      /* [0] parent -> child */
	_Alignas(256) bench_ev buf[2][BENCH_RING_CAP];
};

struct ck_end {
	struct ck_ring *r;
	bench_ev *buf;
};

struct ck_priv {
	struct ck_end tx, rx;
};

static int ck_setup(struct bx *x)
{
	if (bx_map_shared(x, sizeof(struct ck_shared)) < 0)
		return -1;
	struct ck_shared *s = x->shared;
	ck_ring_init(&s->ring[0].r, BENCH_RING_CAP);
	ck_ring_init(&s->ring[1].r, BENCH_RING_CAP);
	return 0;
}

static int ck_open(struct bx *x, enum bx_side side)
{
	struct ck_shared *s = x->shared;
	struct ck_priv *p = x->priv;
	int out = side == BX_PARENT ? 0 : 1, in = 1 - out;
	p->tx = (struct ck_end){ &s->ring[out].r, s->buf[out] };
	p->rx = (struct ck_end){ &s->ring[in].r, s->buf[in] };
	x->tx = &p->tx;
	x->rx = &p->rx;
	return 0;
}

static void ck_close(struct bx *x)
{
	(void)x;
}

static void ck_teardown(struct bx *x)
{
	bx_unmap_shared(x);
}

/* ck_ring has no SPSC batch operation: a batch is a loop of single ones. */
HX_INLINE int ck_send(struct bx *x, const bench_ev *ev, uint32_t n)
{
	struct ck_end *e = x->tx;
	uint32_t i = 0;
	while (i < n && ck_ring_enqueue_spsc_bench(e->r, e->buf, (bench_ev *)(uintptr_t)&ev[i]))
		i++;
	return (int)i;
}

HX_INLINE int ck_recv(struct bx *x, bench_ev *out, uint32_t max)
{
	struct ck_end *e = x->rx;
	uint32_t i = 0;
	while (i < max && ck_ring_dequeue_spsc_bench(e->r, e->buf, &out[i]))
		i++;
	return (int)i;
}

BX_DEFINE_RUNNERS(ck, ck_send, ck_recv)

const struct bench_xport bench_xport_ck = {
	.name = "ck_ring",
	.note = "ck_ring: CK_RING_PROTOTYPE, 64-byte entries by value, ring and buffer in MAP_SHARED; "
		"ck has no SPSC batch API, so b32 is a loop of 32 single enqueues/dequeues",
	.has_tput = true,
	.default_events = 20000000,
	.setup = ck_setup,
	.open = ck_open,
	.close = ck_close,
	.teardown = ck_teardown,
	.priv_size = sizeof(struct ck_priv),
	.run = BX_RUNNERS(ck),
};

/* ---- unix and pipe: blocking byte streams ------------------------------ *
 * fd[0], fd[1]: channel A (parent -> child) write end, read end;
 * fd[2], fd[3]: channel B (child -> parent) write end, read end.
 * For the socketpair both channels are the same two sockets. */

struct fd_priv {
	int fd[4];
	int tx, rx;
};

static void fd_close_all(struct fd_priv *p)
{
	for (int i = 0; i < 4; i++) {
		if (p->fd[i] < 0)
			continue;
		int fd = p->fd[i];
		for (int j = i; j < 4; j++) /* the socketpair shares descriptors */
			if (p->fd[j] == fd)
				p->fd[j] = -1;
		close(fd);
	}
}

static int unix_setup(struct bx *x)
{
	struct fd_priv *p = x->priv;
	p->fd[0] = p->fd[1] = p->fd[2] = p->fd[3] = -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return bx_fail(x, "socketpair(AF_UNIX, SOCK_STREAM): %s", strerror(errno));
	p->fd[0] = p->fd[3] = sv[0]; /* parent end */
	p->fd[1] = p->fd[2] = sv[1]; /* child end */
	return 0;
}

static int pipe_setup(struct bx *x)
{
	struct fd_priv *p = x->priv;
	p->fd[0] = p->fd[1] = p->fd[2] = p->fd[3] = -1;
	int a[2], b[2];
	if (pipe2(a, O_CLOEXEC) != 0)
		return bx_fail(x, "pipe2: %s", strerror(errno));
	if (pipe2(b, O_CLOEXEC) != 0) {
		int e = errno;
		close(a[0]);
		close(a[1]);
		return bx_fail(x, "pipe2: %s", strerror(e));
	}
	p->fd[0] = a[1];
	p->fd[1] = a[0];
	p->fd[2] = b[1];
	p->fd[3] = b[0];
	return 0;
}

static int fd_open(struct bx *x, enum bx_side side)
{
	struct fd_priv *p = x->priv;
	/* Keep our ends, close the peer's, so that a dead peer means EOF/EPIPE. */
	int keep_tx = side == BX_PARENT ? 0 : 2, keep_rx = side == BX_PARENT ? 3 : 1;
	p->tx = p->fd[keep_tx];
	p->rx = p->fd[keep_rx];
	for (int i = 0; i < 4; i++)
		if (p->fd[i] >= 0 && p->fd[i] != p->tx && p->fd[i] != p->rx) {
			int fd = p->fd[i];
			for (int j = i; j < 4; j++)
				if (p->fd[j] == fd)
					p->fd[j] = -1;
			close(fd);
		}
	x->tx = p;
	x->rx = p;
	return 0;
}

static void fd_close(struct bx *x)
{
	fd_close_all(x->priv);
}

static void fd_teardown(struct bx *x)
{
	fd_close_all(x->priv);
}

/* Blocking write of all n events; one syscall unless the kernel takes less. */
HX_INLINE int fd_send(struct bx *x, const bench_ev *ev, uint32_t n)
{
	const struct fd_priv *p = x->tx;
	const char *b = (const char *)ev;
	size_t left = (size_t)n * sizeof *ev;
	while (left) {
		ssize_t r = write(p->tx, b, left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return bx_fail(x, "write: %s", strerror(errno));
		}
		b += r;
		left -= (size_t)r;
	}
	return (int)n;
}

/* Blocking read of 1..max events.  A stream may split an event: finish the
 * last one before returning, so callers only ever see whole events. */
HX_INLINE int fd_recv(struct bx *x, bench_ev *out, uint32_t max)
{
	const struct fd_priv *p = x->rx;
	char *b = (char *)out;
	size_t got = 0, want = (size_t)max * sizeof *out;
	while (got == 0 || got % sizeof *out) {
		size_t ask = got == 0 ? want : sizeof *out - got % sizeof *out;
		ssize_t r = read(p->rx, b + got, ask);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return bx_fail(x, "read: %s", strerror(errno));
		}
		if (r == 0)
			return bx_fail(x, "read: end of file (the peer closed its end%s)",
				       got ? " in the middle of an event" : "");
		got += (size_t)r;
	}
	return (int)(got / sizeof *out);
}

BX_DEFINE_RUNNERS(fd, fd_send, fd_recv)

const struct bench_xport bench_xport_unix = {
	.name = "unix",
	.note = "unix: AF_UNIX SOCK_STREAM socketpair, blocking; b32 = one 2048-byte write per batch, "
		"reads of up to 2048 bytes completed to whole events",
	.has_tput = true,
	.default_events = 2000000,
	.setup = unix_setup,
	.open = fd_open,
	.close = fd_close,
	.teardown = fd_teardown,
	.priv_size = sizeof(struct fd_priv),
	.run = BX_RUNNERS(fd),
};

const struct bench_xport bench_xport_pipe = {
	.name = "pipe",
	.note = "pipe: two pipes, blocking; batching as for unix",
	.has_tput = true,
	.default_events = 2000000,
	.setup = pipe_setup,
	.open = fd_open,
	.close = fd_close,
	.teardown = fd_teardown,
	.priv_size = sizeof(struct fd_priv),
	.run = BX_RUNNERS(fd),
};
