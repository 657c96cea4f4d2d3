/*
 * The measurement loops of `fks bench ring`, written once.
 *
 * Each loop takes the transport's send/recv as constant function pointers
 * and is always_inline: a transport instantiates all four with
 * BX_DEFINE_RUNNERS(prefix, send, recv), and the compiler turns the pointer
 * calls into direct, inlinable ones.  Every transport thus runs the same loop
 * code with no indirect call in it, which keeps the comparison fair (an
 * indirect call per operation would add a few ns to the fast rings only).
 *
 * Spinning: when a non-blocking transport is empty or full the loop executes
 * one PAUSE and retries - the same spin the FKS ring uses in its RING_WAIT_SPIN
 * strategy (ring_cpu_relax), so no transport gets a tighter spin than another.
 */
#ifndef FKS_BENCH_HARNESS_H
#define FKS_BENCH_HARNESS_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <x86intrin.h>

#include "bench/bench_int.h"

#define HX_INLINE static inline __attribute__((always_inline))
#define HX_ABORT_CHECK 0xffffu     /* spins between looks at x->abort */
#define HX_PROGRESS_MASK 0xffffu   /* iterations between progress calls */

/* TSC reads for an interval: lfence before and after the first read keeps
 * earlier work out of it and later work from starting before it; rdtscp
 * waits for everything before it to retire, the lfence after keeps the
 * following work out. */
HX_INLINE uint64_t hx_tsc_begin(void)
{
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
}

HX_INLINE uint64_t hx_tsc_end(void)
{
	unsigned aux;
	uint64_t t = __rdtscp(&aux);
	_mm_lfence();
	return t;
}

HX_INLINE void hx_relax(void)
{
	__builtin_ia32_pause();
}

/* ---- event contents and checksum --------------------------------------- */

HX_INLINE int64_t bench_px_of(uint64_t seq) { return (int64_t)(seq * 7u + 1000u); }
HX_INLINE int64_t bench_qty_of(uint64_t seq) { return (int64_t)(seq ^ 0x5a5a5a5a5a5a5a5aull); }

/* Fill seq, the first payload word and the last word of the line. */
HX_INLINE void bench_ev_fill(bench_ev *e, uint64_t seq)
{
	e->h.seq = seq;
	e->bid_px = bench_px_of(seq);
	e->ask_qty = bench_qty_of(seq);
}

/* One event's contribution to the running checksum: the sequence number and
 * two payload words from both ends of the line, so a torn or stale copy
 * changes the sum. */
HX_INLINE uint64_t bench_ev_mix(uint64_t seq, int64_t px, int64_t qty)
{
	return seq * 0x9e3779b97f4a7c15ull + (uint64_t)px + ((uint64_t)qty << 1);
}

/* ---- spinning send/recv ------------------------------------------------ */

HX_INLINE int hx_send_all(struct bx *x, bx_send_fn snd, const bench_ev *ev, uint32_t n)
{
	uint32_t spins = 0;
	for (;;) {
		int r = snd(x, ev, n);
		if (r == (int)n)
			return 0;
		if (r < 0)
			return -1;
		ev += r;
		n -= (uint32_t)r;
		hx_relax();
		if (++spins > HX_ABORT_CHECK) {
			spins = 0;
			if (atomic_load_explicit(x->abort, memory_order_relaxed))
				return bx_fail(x, "the child process died");
		}
	}
}

HX_INLINE int hx_recv(struct bx *x, bx_recv_fn rcv, bench_ev *out, uint32_t max)
{
	uint32_t spins = 0;
	for (;;) {
		int r = rcv(x, out, max);
		if (r != 0)
			return r;
		hx_relax();
		if (++spins > HX_ABORT_CHECK) {
			spins = 0;
			if (atomic_load_explicit(x->abort, memory_order_relaxed))
				return bx_fail(x, "the child process died");
		}
	}
}

/* ---- the four loops ---------------------------------------------------- */

HX_INLINE int hx_ping(struct bx *x, bx_send_fn snd, bx_recv_fn rcv, uint64_t *samples,
		      uint64_t warm, uint64_t n)
{
	_Alignas(64) bench_ev ev, back;
	memset(&ev, 0, sizeof ev);
	memset(&back, 0, sizeof back);
	ev.h.type = FKS_EV_QUOTE;
	const uint64_t total = warm + n;
	for (uint64_t i = 0; i < total; i++) {
		bench_ev_fill(&ev, i + 1);
		uint64_t t0 = hx_tsc_begin();
		if (hx_send_all(x, snd, &ev, 1) < 0)
			return -1;
		if (hx_recv(x, rcv, &back, 1) < 0)
			return -1;
		uint64_t t1 = hx_tsc_end();
		if (back.h.seq != i + 1)
			return bx_fail(x, "round trip %llu came back with seq %llu",
				       (unsigned long long)(i + 1), (unsigned long long)back.h.seq);
		if (i >= warm)
			samples[i - warm] = t1 - t0;
		if ((i & HX_PROGRESS_MASK) == HX_PROGRESS_MASK)
			x->progress(x, "latency", i + 1, total);
	}
	return 0;
}

HX_INLINE int hx_pong(struct bx *x, bx_send_fn snd, bx_recv_fn rcv, uint64_t total)
{
	_Alignas(64) bench_ev ev;
	memset(&ev, 0, sizeof ev);
	for (uint64_t i = 0; i < total; i++) {
		if (hx_recv(x, rcv, &ev, 1) < 0)
			return -1;
		if (ev.h.seq != i + 1)
			return bx_fail(x, "ping %llu arrived with seq %llu", (unsigned long long)(i + 1),
				       (unsigned long long)ev.h.seq);
		if (hx_send_all(x, snd, &ev, 1) < 0)
			return -1;
	}
	return 0;
}

HX_INLINE int hx_produce(struct bx *x, bx_send_fn snd, uint64_t n, uint32_t batch)
{
	_Alignas(64) bench_ev buf[BENCH_BATCH_MAX];
	memset(buf, 0, sizeof buf);
	for (uint32_t i = 0; i < BENCH_BATCH_MAX; i++)
		buf[i].h.type = FKS_EV_QUOTE;
	if (batch == 0 || batch > BENCH_BATCH_MAX)
		return bx_fail(x, "batch %u out of range", batch);
	uint64_t seq = 1;
	uint64_t next_progress = HX_PROGRESS_MASK + 1;
	while (seq <= n) {
		uint64_t left = n - seq + 1;
		uint32_t k = left < batch ? (uint32_t)left : batch;
		for (uint32_t i = 0; i < k; i++)
			bench_ev_fill(&buf[i], seq + i);
		if (hx_send_all(x, snd, buf, k) < 0)
			return -1;
		seq += k;
		if (seq > next_progress) {
			next_progress += HX_PROGRESS_MASK + 1;
			x->progress(x, batch == 1 ? "throughput b1" : "throughput b32", seq - 1, n);
		}
	}
	return 0;
}

HX_INLINE int hx_consume(struct bx *x, bx_recv_fn rcv, uint64_t n, uint32_t batch, uint64_t *sum_out)
{
	_Alignas(64) bench_ev buf[BENCH_BATCH_MAX];
	memset(buf, 0, sizeof buf);
	if (batch == 0 || batch > BENCH_BATCH_MAX)
		return bx_fail(x, "batch %u out of range", batch);
	uint64_t expect = 1, sum = 0;
	while (expect <= n) {
		uint64_t left = n - expect + 1;
		uint32_t want = left < batch ? (uint32_t)left : batch;
		int r = hx_recv(x, rcv, buf, want);
		if (r < 0)
			return -1;
		for (int i = 0; i < r; i++) {
			if (buf[i].h.seq != expect)
				return bx_fail(x, "out of order: expected seq %llu, got %llu",
					       (unsigned long long)expect, (unsigned long long)buf[i].h.seq);
			sum += bench_ev_mix(buf[i].h.seq, buf[i].bid_px, buf[i].ask_qty);
			expect++;
		}
	}
	*sum_out = sum;
	return 0;
}

/* Instantiate the four loops for one transport, and the initialiser of its
 * `run` member: .run = BX_RUNNERS(prefix). */
#define BX_DEFINE_RUNNERS(pfx, SEND, RECV)                                                   \
	static int pfx##_ping(struct bx *x, uint64_t *samples, uint64_t warm, uint64_t n)    \
	{                                                                                    \
		return hx_ping(x, SEND, RECV, samples, warm, n);                             \
	}                                                                                    \
	static int pfx##_pong(struct bx *x, uint64_t total)                                  \
	{                                                                                    \
		return hx_pong(x, SEND, RECV, total);                                        \
	}                                                                                    \
	static int pfx##_produce(struct bx *x, uint64_t n, uint32_t batch)                   \
	{                                                                                    \
		return hx_produce(x, SEND, n, batch);                                        \
	}                                                                                    \
	static int pfx##_consume(struct bx *x, uint64_t n, uint32_t batch, uint64_t *sum)    \
	{                                                                                    \
		return hx_consume(x, RECV, n, batch, sum);                                   \
	}
#define BX_RUNNERS(pfx) { pfx##_ping, pfx##_pong, pfx##_produce, pfx##_consume }

#endif
