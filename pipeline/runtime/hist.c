#include "pipeline/runtime/hist.h"


uint64_t hist_bucket_low(unsigned b)
{
	if (b < HIST_SUB)
		return b;
	unsigned pow2 = b / HIST_SUB - 1 + HIST_SUB_BITS;
	uint64_t sub = b % HIST_SUB;
	return (1ull << pow2) + (sub << (pow2 - HIST_SUB_BITS));
}

uint64_t hist_bucket_high(unsigned b)
{
	if (b + 1 >= HIST_BUCKETS)
		return UINT64_MAX;
	return hist_bucket_low(b + 1) - 1;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t n = atomic_load_explicit(&h->count, memory_order_relaxed);
	if (n == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	double x = q * (double)n;
	uint64_t rank = (uint64_t)x; /* ceil, without libm */
	if ((double)rank < x)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t max = atomic_load_explicit(&h->max, memory_order_relaxed);
	uint64_t seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
		if (seen >= rank) {
			uint64_t hi = hist_bucket_high(b);
			return hi < max ? hi : max;
		}
	}
	return max; /* a reader raced the writer: counts ran ahead of buckets */
}

void hist_snapshot(const struct hist *h, struct hist *out)
{
	atomic_store_explicit(&out->count, atomic_load_explicit(&h->count, memory_order_relaxed), memory_order_relaxed);
	atomic_store_explicit(&out->sum, atomic_load_explicit(&h->sum, memory_order_relaxed), memory_order_relaxed);
	atomic_store_explicit(&out->max, atomic_load_explicit(&h->max, memory_order_relaxed), memory_order_relaxed);
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		atomic_store_explicit(&out->bucket[b], atomic_load_explicit(&h->bucket[b], memory_order_relaxed),
				      memory_order_relaxed);
}

void hist_merge(struct hist *out, const struct hist *in)
{
	atomic_fetch_add_explicit(&out->count, atomic_load_explicit(&in->count, memory_order_relaxed), memory_order_relaxed);
	atomic_fetch_add_explicit(&out->sum, atomic_load_explicit(&in->sum, memory_order_relaxed), memory_order_relaxed);
	uint64_t m = atomic_load_explicit(&in->max, memory_order_relaxed);
	if (m > atomic_load_explicit(&out->max, memory_order_relaxed))
		atomic_store_explicit(&out->max, m, memory_order_relaxed);
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		atomic_fetch_add_explicit(&out->bucket[b], atomic_load_explicit(&in->bucket[b], memory_order_relaxed),
					  memory_order_relaxed);
}
