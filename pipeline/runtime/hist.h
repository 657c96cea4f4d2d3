/*
 * A log-linear latency histogram that lives in shared memory.
 *
 * Values (ns) are bucketed by their power of two and, within it, by the next
 * HIST_SUB_BITS bits, so every bucket is at most 1/2^HIST_SUB_BITS (6.25%)
 * wide relative to its value, from 1 ns to 2^HIST_MAX_POW2 ns (about 18
 * minutes); larger values land in the last bucket.  Recording is a count
 * leading zeros, a shift and one relaxed add: no syscall, no allocation, no
 * lock.  One writer (the stage) and any number of readers (`fks status`), so
 * counters are relaxed atomics: a reader may see a histogram a few events
 * behind, never a torn counter.
 */
#ifndef FKS_PIPELINE_HIST_H
#define FKS_PIPELINE_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_POW2 40
/* Values below HIST_SUB get exact buckets; then HIST_SUB per power of two. */
#define HIST_BUCKETS ((HIST_MAX_POW2 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	_Atomic uint64_t count;
	_Atomic uint64_t sum;
	_Atomic uint64_t max;
	_Atomic uint64_t bucket[HIST_BUCKETS];
};

static inline unsigned hist_bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned pow2 = 63u - (unsigned)__builtin_clzll(v);    /* >= HIST_SUB_BITS */
	if (pow2 > HIST_MAX_POW2)
		return HIST_BUCKETS - 1;
	unsigned sub = (unsigned)(v >> (pow2 - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return (pow2 - HIST_SUB_BITS + 1) * HIST_SUB + sub;
}

/* Single writer: plain read-modify-write through relaxed loads and stores is
 * enough and avoids a locked instruction per sample. */
static inline void hist_record(struct hist *h, uint64_t v)
{
	unsigned b = hist_bucket_of(v);
	atomic_store_explicit(&h->bucket[b], atomic_load_explicit(&h->bucket[b], memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&h->count, atomic_load_explicit(&h->count, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&h->sum, atomic_load_explicit(&h->sum, memory_order_relaxed) + v,
			      memory_order_relaxed);
	if (v > atomic_load_explicit(&h->max, memory_order_relaxed))
		atomic_store_explicit(&h->max, v, memory_order_relaxed);
}

/* Lowest and highest value that fall in bucket b. */
uint64_t hist_bucket_low(unsigned b);
uint64_t hist_bucket_high(unsigned b);

/* The value at quantile q (0..1): the upper bound of the bucket holding the
 * ceil(q * count)-th smallest sample, capped at the recorded max, so the
 * answer never understates the latency.  0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);

/* Copy a live histogram (a consistent-enough snapshot for reporting). */
void hist_snapshot(const struct hist *h, struct hist *out);
/* out += in, for combining per-stage or per-run histograms. */
void hist_merge(struct hist *out, const struct hist *in);

#endif
