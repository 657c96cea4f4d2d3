/* shm/clock.h: the monotonic clock never goes backwards; the real clock
 * reads as a plausible date and agrees with time(2). */
#include <criterion/criterion.h>

#include "shm/clock.h"

Test(clock, monotonic_never_goes_backwards)
{
	int64_t prev = clock_mono_ns();
	cr_assert_gt(prev, 0);
	for (int i = 0; i < 100000; i++) {
		int64_t now = clock_mono_ns();
		cr_assert_geq(now, prev, "reading %d went back: %lld < %lld", i,
			      (long long)now, (long long)prev);
		prev = now;
	}
}

Test(clock, monotonic_advances_across_a_sleep)
{
	int64_t before = clock_mono_ns();
	struct timespec nap = {0, 2000000}; /* 2 ms */
	nanosleep(&nap, NULL);
	/* Only a lower bound: a sleep lasts at least what was asked. */
	cr_assert_geq(clock_mono_ns() - before, 2000000);
}

Test(clock, real_is_ns_since_the_epoch)
{
	/* 2020-01-01 and 2100-01-01 UTC, in seconds. */
	const int64_t lo = 1577836800ll * CLOCK_NS_PER_SEC;
	const int64_t hi = 4102444800ll * CLOCK_NS_PER_SEC;
	int64_t before = (int64_t)time(NULL);
	int64_t ns = clock_real_ns();
	int64_t after = (int64_t)time(NULL);
	cr_assert_gt(ns, lo);
	cr_assert_lt(ns, hi);
	/* Same scale and origin as time(2): seconds, not ms or us.  One second
	 * of slack: time(2) may read a coarse clock that ticks a little late. */
	cr_assert_geq(ns / CLOCK_NS_PER_SEC, before - 1);
	cr_assert_leq(ns / CLOCK_NS_PER_SEC, after + 1);
}
