/*
 * The machine's own stalls, measured where the hot runner runs: a thread
 * pinned to one core reads CLOCK_MONOTONIC in a loop for a while, and every
 * gap between two reads longer than JITTER_MIN_GAP_NS is a stall (the vCPU
 * taken away, an interrupt, a timer tick).  From them: how long an event
 * arriving at a random instant waits for the core to come back, p99 and
 * p99.9.  A paced tick-to-trade counts from the intended send time, so its
 * tail cannot be below this on the same core: the floor of the tail, as
 * the ring hop is the floor of the median (bench/pipeline_bench.c).
 */
#ifndef FKS_BENCH_JITTER_H
#define FKS_BENCH_JITTER_H

#include <stdbool.h>
#include <stdint.h>

#define JITTER_MIN_GAP_NS 500u

struct jitter {
	bool ok;
	int core;
	double seconds;         /* measured */
	uint64_t stalls;        /* gaps > JITTER_MIN_GAP_NS */
	double stalled_share;   /* the stalls' total / the time measured */
	uint64_t longest_ns;
	uint64_t wait_p99_ns, wait_p999_ns; /* an arrival at a random instant */
	char why[160];
};

/* Spin on core for seconds (a thread of this process, pinned there). */
void jitter_measure(int core, double seconds, struct jitter *out);

/* The wait at a random instant that a share q (0.01: p99) of instants
 * exceed, given the stalls: the x with sum(max(0, g - x)) = q * total.
 * Exposed for the unit test. */
uint64_t jitter_wait_quantile(const uint64_t *gaps, uint64_t n, double total_ns, double q);

#endif
