/*
 * Helpers the JSON venue tests (test_binance.c, test_bybit.c,
 * test_coinbase.c, test_kraken.c) share: an event sink that grows, reading
 * a file of the shared data, and finding a counter by name.  Criterion
 * asserts report failures; everything is static inline so a test that
 * uses only part of it still builds with -Werror.
 */
#ifndef FKS_TESTS_VENUE_TEST_UTIL_H
#define FKS_TESTS_VENUE_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/event.h"
#include "feeds/feed.h"

/* Every event emitted, in order; start it zeroed, free(ev) when done. */
struct sink {
	union fks_event *ev;
	size_t n, cap;
};

/* A feed_emit_fn; ctx is a struct sink. */
static inline void collect(void *ctx, const union fks_event *ev)
{
	struct sink *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->ev = realloc(s->ev, s->cap * sizeof *s->ev);
		cr_assert_not_null(s->ev);
	}
	s->ev[s->n++] = *ev;
}

/* $FKS_SHARED/data/<rel>, whole, NUL-terminated; free() it.  *len excludes
 * the NUL. */
static inline char *slurp(const char *rel, size_t *len)
{
	const char *root = getenv("FKS_SHARED");
	cr_assert_not_null(root, "FKS_SHARED must point at the shared directory");
	char path[1024];
	snprintf(path, sizeof path, "%s/data/%s", root, rel);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The count of the counter called name among c[0..n); fails the test when
 * there is none (names may be NULL). */
static inline uint64_t counter(const struct named_counter *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].name && strcmp(c[i].name, name) == 0)
			return c[i].n;
	cr_assert_fail("no counter %s", name);
	return 0;
}

#endif
