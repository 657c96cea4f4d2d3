/* The log-linear histogram: bucket boundaries, and quantiles checked against
 * an exact sort of the same samples. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pipeline/runtime/hist.h"

Test(hist, buckets_tile_the_range_without_gaps_or_overlap)
{
	cr_assert_eq(hist_bucket_low(0), 0);
	for (unsigned b = 0; b + 1 < HIST_BUCKETS; b++) {
		cr_assert_eq(hist_bucket_high(b) + 1, hist_bucket_low(b + 1), "bucket %u", b);
		cr_assert_eq(hist_bucket_of(hist_bucket_low(b)), b, "low end of %u", b);
		cr_assert_eq(hist_bucket_of(hist_bucket_high(b)), b, "high end of %u", b);
	}
	cr_assert_eq(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
	cr_assert_eq(hist_bucket_of(1ull << 50), HIST_BUCKETS - 1);
}

Test(hist, relative_bucket_width_is_bounded)
{
	for (unsigned b = HIST_SUB; b + 1 < HIST_BUCKETS; b++) {
		double lo = (double)hist_bucket_low(b), width = (double)(hist_bucket_high(b) - hist_bucket_low(b) + 1);
		cr_assert_leq(width / lo, 1.0 / HIST_SUB + 1e-12, "bucket %u is %.4f wide", b, width / lo);
	}
}

Test(hist, small_values_are_exact)
{
	static struct hist h;
	for (uint64_t v = 0; v < HIST_SUB; v++)
		hist_record(&h, v);
	cr_assert_eq(hist_quantile(&h, 0.5), 7);
	cr_assert_eq(hist_quantile(&h, 1.0), 15);
	cr_assert_eq(hist_quantile(&h, 0.0), 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

Test(hist, quantiles_bound_the_exact_answer_from_above_within_a_bucket)
{
	enum { N = 100000 };
	static uint64_t v[N];
	static struct hist h;
	uint64_t s = 88172645463325252ull;
	for (int i = 0; i < N; i++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		/* a long-tailed mix: mostly ~1 us, some ~100 us, a few ~10 ms */
		uint64_t r = s % 1000;
		v[i] = r < 900 ? 500 + s % 1000 : r < 995 ? 50000 + s % 100000 : 10000000 + s % 5000000;
		hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof v[0], cmp_u64);
	const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	for (unsigned i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		size_t rank = (size_t)(qs[i] * N + 0.999999);
		uint64_t exact = v[rank ? rank - 1 : 0];
		uint64_t got = hist_quantile(&h, qs[i]);
		cr_assert_geq(got, exact, "q%.3f: %llu < exact %llu", qs[i], (unsigned long long)got, (unsigned long long)exact);
		cr_assert_leq((double)got, (double)exact * (1.0 + 1.0 / HIST_SUB) + 1, "q%.3f: %llu vs exact %llu", qs[i],
			      (unsigned long long)got, (unsigned long long)exact);
	}
	cr_assert_eq(hist_quantile(&h, 1.0), v[N - 1], "the top quantile is the true max");
	cr_assert_eq(atomic_load(&h.count), N);
}

Test(hist, merge_adds_counts_and_keeps_the_max)
{
	static struct hist a, b;
	hist_record(&a, 100);
	hist_record(&b, 5000);
	hist_record(&b, 7);
	hist_merge(&a, &b);
	cr_assert_eq(atomic_load(&a.count), 3);
	cr_assert_eq(atomic_load(&a.sum), 5107);
	cr_assert_eq(atomic_load(&a.max), 5000);
	cr_assert_eq(hist_quantile(&a, 1.0), 5000);
	static struct hist empty;
	cr_assert_eq(hist_quantile(&empty, 0.99), 0);
}
