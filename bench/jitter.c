/* The machine's stalls on one core (jitter.h). */
#include "bench/jitter.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* An arrival at a uniform instant inside a stall of length g, at offset u,
 * waits g - u; so P(wait > x) = sum over stalls of max(0, g - x) / total.
 * That sum falls as x rises: walk the stalls longest first, the sum over
 * the k longest being S_k - k x while x stays above the (k+1)-th. */
uint64_t jitter_wait_quantile(const uint64_t *gaps, uint64_t n, double total_ns, double q)
{
	if (n == 0)
		return 0;
	uint64_t *g = malloc(n * sizeof *g);
	if (!g)
		return 0;
	memcpy(g, gaps, n * sizeof *g);
	qsort(g, n, sizeof *g, cmp_desc);
	double target = q * total_ns, sum = 0;
	uint64_t x = 0;
	for (uint64_t k = 0; k < n; k++) {
		sum += (double)g[k];
		double next = k + 1 < n ? (double)g[k + 1] : 0;
		/* With the k+1 longest: the excess at x is sum - (k+1) x. */
		double xs = (sum - target) / (double)(k + 1);
		if (xs >= next) {
			x = xs > 0 ? (uint64_t)xs : 0;
			break;
		}
	}
	free(g);
	return x;
}

struct probe {
	int core;
	double seconds;
	struct jitter *out;
};

static void *probe_run(void *arg)
{
	struct probe *p = arg;
	struct jitter *j = p->out;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(p->core, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof set, &set)) {
		snprintf(j->why, sizeof j->why, "cannot pin to cpu%d", p->core);
		return NULL;
	}
	size_t cap = 1 << 16;
	uint64_t n = 0, *gaps = malloc(cap * sizeof *gaps);
	if (!gaps) {
		snprintf(j->why, sizeof j->why, "out of memory");
		return NULL;
	}
	uint64_t t0 = mono_ns(), prev = t0, end = t0 + (uint64_t)(p->seconds * 1e9), sum = 0;
	for (;;) {
		uint64_t t = mono_ns();
		uint64_t g = t - prev;
		prev = t;
		if (g > JITTER_MIN_GAP_NS) {
			if (n == cap) {
				uint64_t *more = realloc(gaps, 2 * cap * sizeof *gaps);
				if (!more)
					break; /* what was recorded stands */
				gaps = more;
				cap *= 2;
			}
			gaps[n++] = g;
			sum += g;
			if (g > j->longest_ns)
				j->longest_ns = g;
		}
		if (t >= end)
			break;
	}
	double total = (double)(prev - t0);
	j->seconds = total / 1e9;
	j->stalls = n;
	j->stalled_share = total > 0 ? (double)sum / total : 0;
	j->wait_p99_ns = jitter_wait_quantile(gaps, n, total, 0.01);
	j->wait_p999_ns = jitter_wait_quantile(gaps, n, total, 0.001);
	j->ok = true;
	free(gaps);
	return NULL;
}

void jitter_measure(int core, double seconds, struct jitter *out)
{
	memset(out, 0, sizeof *out);
	out->core = core;
	struct probe p = { .core = core, .seconds = seconds, .out = out };
	pthread_t t;
	if (pthread_create(&t, NULL, probe_run, &p)) {
		snprintf(out->why, sizeof out->why, "cannot start the probe thread");
		return;
	}
	pthread_join(t, NULL);
}
