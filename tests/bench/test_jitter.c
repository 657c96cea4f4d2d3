/*
 * bench/jitter.h: the wait an arrival at a random instant sees from a
 * list of stalls.  Worked by hand: an arrival inside a stall of g ns at
 * offset u waits g - u, so P(wait > x) = sum(max(0, g - x)) / total.
 */
#include <criterion/criterion.h>

#include "bench/jitter.h"

Test(jitter, one_stall)
{
	uint64_t g[] = { 1000 };
	/* 1% of 100 us is 1000 ns of excess: all of the stall, from x = 0 */
	cr_assert_eq(jitter_wait_quantile(g, 1, 100000, 0.01), 0);
	/* 0.5%: 500 ns of excess: x = 500 */
	cr_assert_eq(jitter_wait_quantile(g, 1, 100000, 0.005), 500);
	/* beyond the stalls' total share: nothing waits */
	cr_assert_eq(jitter_wait_quantile(g, 1, 100000, 0.5), 0);
}

Test(jitter, stalls_in_any_order)
{
	uint64_t g[] = { 1000, 2000 };
	/* 1000 ns of excess out of 1 ms: only the longer stall, x = 1000 */
	cr_assert_eq(jitter_wait_quantile(g, 2, 1e6, 0.001), 1000);
	/* 2000 ns: both, 1500 + 500 at x = 500 */
	cr_assert_eq(jitter_wait_quantile(g, 2, 1e6, 0.002), 500);
}

Test(jitter, no_stalls)
{
	cr_assert_eq(jitter_wait_quantile(NULL, 0, 1e9, 0.01), 0);
}

Test(jitter, a_short_probe_runs_and_measures_its_time)
{
	struct jitter j;
	jitter_measure(0, 0.05, &j);
	cr_assert(j.ok, "%s", j.why);
	cr_assert_geq(j.seconds, 0.05);
	cr_assert_leq(j.stalled_share, 1.0);
	cr_assert_geq(j.longest_ns, j.stalls ? JITTER_MIN_GAP_NS : 0);
}
