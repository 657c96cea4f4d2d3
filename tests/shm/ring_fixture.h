/*
 * Shared by the ring tests: unique segment names, a payload pattern that
 * every word of a slot depends on, and an order-sensitive checksum.  The
 * expected checksum of events 1..n is computed from the pattern alone, never
 * from anything that went through a ring.
 */
#ifndef FKS_TESTS_RING_FIXTURE_H
#define FKS_TESTS_RING_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shm/ring.h"

#define FIX_WORDS 8 /* a 64-byte slot */

static inline void fix_name(char *buf, size_t cap, const char *tag)
{
	static unsigned counter;
	snprintf(buf, cap, "fks-test-%d-%s-%u", (int)getpid(), tag, counter++);
	ring_unlink(buf); /* a leftover from a crashed earlier run */
}

static inline uint64_t fix_mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

static inline void fix_fill(void *slot, uint64_t seq)
{
	uint64_t *w = slot;
	w[0] = seq;
	for (int i = 1; i < FIX_WORDS; i++)
		w[i] = fix_mix(seq * FIX_WORDS + (uint64_t)i);
}

/* 0 if the slot holds exactly the pattern of seq, else the bad word + 1. */
static inline int fix_check(const void *slot, uint64_t seq)
{
	uint64_t w[FIX_WORDS];
	memcpy(w, slot, sizeof w);
	if (w[0] != seq)
		return 1;
	for (int i = 1; i < FIX_WORDS; i++)
		if (w[i] != fix_mix(seq * FIX_WORDS + (uint64_t)i))
			return i + 1;
	return 0;
}

/* Order-sensitive: a swap of two events changes the result. */
static inline uint64_t fix_sum_step(uint64_t sum, const void *slot)
{
	const uint64_t *w = slot;
	for (int i = 0; i < FIX_WORDS; i++)
		sum = (sum ^ w[i]) * 0x100000001b3ull + (uint64_t)i;
	return sum;
}

static inline uint64_t fix_expected_sum(uint64_t n)
{
	uint64_t sum = 0, slot[FIX_WORDS];
	for (uint64_t s = 1; s <= n; s++) {
		fix_fill(slot, s);
		sum = fix_sum_step(sum, slot);
	}
	return sum;
}

static inline struct ring_wait fix_wait(enum ring_wait_kind kind)
{
	struct ring_wait w = ring_wait_default();
	w.kind = kind;
	return w;
}

#endif
