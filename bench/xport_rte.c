/*
 * The DPDK rte_ring peer of `fks bench ring`.  Built only when libdpdk is
 * found, in its own static library: DPDK's pkg-config cflags
 * (-march=corei7 -include rte_config.h) apply to this file alone.
 *
 * No EAL: rte_ring_init() on memory we provide needs none (it only fills in
 * the header; rte_ring_create() is the part that wants memzones).  The rings
 * live in MAP_SHARED|MAP_ANONYMOUS memory mapped before fork, so both
 * processes see them at the same address.  Elements are 64-byte events by
 * value (the _elem API with esize 64); single producer, single consumer.
 */
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <stdio.h>
#include <string.h>

#include "bench/harness.h"

#define RTE_ESIZE ((unsigned)sizeof(bench_ev))

struct rte_priv {
	size_t ring_bytes; /* one ring, rounded up to 128 */
	struct rte_ring *tx, *rx;
};

static struct rte_ring *rte_ring_at(struct bx *x, int i)
{
	const struct rte_priv *p = x->priv;
	return (struct rte_ring *)((char *)x->shared + (size_t)i * p->ring_bytes);
}

static int rte_setup(struct bx *x)
{
	struct rte_priv *p = x->priv;
	ssize_t sz = rte_ring_get_memsize_elem(RTE_ESIZE, BENCH_RING_CAP);
	if (sz < 0)
		return bx_fail(x, "rte_ring_get_memsize_elem(%u, %u): %s", RTE_ESIZE, BENCH_RING_CAP,
			       strerror((int)-sz));
	p->ring_bytes = ((size_t)sz + 127) & ~(size_t)127;
	if (bx_map_shared(x, 2 * p->ring_bytes) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int rc = rte_ring_init(rte_ring_at(x, i), i == 0 ? "fks_bench_p2c" : "fks_bench_c2p",
				       BENCH_RING_CAP, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rc != 0) {
			bx_unmap_shared(x);
			return bx_fail(x, "rte_ring_init: %s", strerror(-rc));
		}
	}
	return 0;
}

static int rte_open(struct bx *x, enum bx_side side)
{
	struct rte_priv *p = x->priv;
	p->tx = rte_ring_at(x, side == BX_PARENT ? 0 : 1);
	p->rx = rte_ring_at(x, side == BX_PARENT ? 1 : 0);
	x->tx = p->tx;
	x->rx = p->rx;
	return 0;
}

static void rte_close(struct bx *x)
{
	(void)x;
}

static void rte_teardown(struct bx *x)
{
	bx_unmap_shared(x);
}

/* All n or nothing: rte_ring's bulk enqueue. */
HX_INLINE int rte_send(struct bx *x, const bench_ev *ev, uint32_t n)
{
	return (int)rte_ring_enqueue_bulk_elem(x->tx, ev, RTE_ESIZE, n, NULL);
}

/* Up to max: rte_ring's burst dequeue. */
HX_INLINE int rte_recv(struct bx *x, bench_ev *out, uint32_t max)
{
	return (int)rte_ring_dequeue_burst_elem(x->rx, out, RTE_ESIZE, max, NULL);
}

BX_DEFINE_RUNNERS(rte, rte_send, rte_recv)

const struct bench_xport bench_xport_rte = {
	.name = "rte_ring",
	.note = "rte_ring: DPDK rte_ring_init (no EAL) in MAP_SHARED, SP_ENQ|SC_DEQ, esize 64; "
		"b32 = enqueue_bulk_elem(32) / dequeue_burst_elem(32)",
	.has_tput = true,
	.default_events = 20000000,
	.setup = rte_setup,
	.open = rte_open,
	.close = rte_close,
	.teardown = rte_teardown,
	.priv_size = sizeof(struct rte_priv),
	.run = BX_RUNNERS(rte),
};
