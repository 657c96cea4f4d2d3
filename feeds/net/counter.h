/*
 * A named event count, as every client, transport and decoder reports its
 * counters: `fks feed decode`, `fks status` and the logs print them by name.
 * It lives in feeds/net/ because the network clients are a leaf library
 * and report counters too; everything above includes it from here.
 */
#ifndef FKS_FEEDS_NET_COUNTER_H
#define FKS_FEEDS_NET_COUNTER_H

#include <stdint.h>

struct named_counter {
	const char *name;    /* static string */
	uint64_t n;
};

#endif
