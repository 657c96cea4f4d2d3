/*
 * Test-only hooks into the ring's slow path.  Not part of the API: only
 * tests include this.  Production code never sets a hook, so the cost is
 * one predictable branch on the way to sleep.
 */
#ifndef FKS_SHM_RING_TESTING_H
#define FKS_SHM_RING_TESTING_H

#include "shm/ring.h"

/* Called by a waiter after its last failed attempt and before it raises its
 * park flag: the exact window in which a peer's publish or release must not
 * be missed.  `side` is the side that is about to park. */
extern void (*ring_test_before_park)(enum ring_side side, void *arg);
extern void *ring_test_before_park_arg;

#endif
