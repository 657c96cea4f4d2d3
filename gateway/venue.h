/*
 * The venue interface: one implementation per folder under gateway/venues/
 * (sim today; FIX, REST and others next), all behind this table of
 * functions and found by name in one registry (gateway/venues/registry.c).
 *
 * A venue takes order-path events (FKS_EV_ORDER_NEW, _CANCEL, _REPLACE)
 * and answers with the events the simulated venue emits: FKS_EV_ORDER_ACK,
 * FKS_EV_FILL, FKS_EV_ORDER_REJECT, FKS_EV_CANCEL_ACK, each through the
 * emit callback, with every order's state kept in the one order model
 * (gateway/order.h).  A venue that owns sockets and timers answers later,
 * from poll(); the gateway stage waits on the descriptors fds() names
 * (and on its rings) and calls poll() when any is ready or its deadline
 * passes.  The simulated venue answers synchronously and has neither.
 *
 * Rules every implementation keeps:
 *  - no allocation after init: the state is `state_size` bytes the caller
 *    provides, zeroed (a socket venue may own descriptors, closed in close);
 *  - emit is called synchronously, from inside the call that caused it;
 *  - bad input (a malformed order, a garbled wire message) is a counted
 *    error and an ORDER_REJECT where an order is concerned, never an abort.
 *
 * Parameters arrive as text key/value pairs straight from the config's
 * venue section, and each venue parses and range-checks its own, so the
 * config loader knows no venue, and a refused value is reported against the
 * exact key (which the config maps to its line and column): struct fks_param
 * and struct fks_param_error, with fks_param_fail (shm/params.h).
 */
#ifndef FKS_GATEWAY_VENUE_H
#define FKS_GATEWAY_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/event.h"
#include "shm/params.h"

#define VENUE_MAX_INSTRUMENTS 64

/* What a venue knows of the run: the instruments it trades, with their
 * symbols and scales for a venue that speaks text (symbol "" and scales 0
 * where the caller has none: the sim venue needs neither). */
struct venue_ctx {
	uint32_t n_instruments;      /* 1..VENUE_MAX_INSTRUMENTS */
	uint32_t instrument[VENUE_MAX_INSTRUMENTS]; /* symbol-table ids */
	char symbol[VENUE_MAX_INSTRUMENTS][FKS_SYMBOL_MAX]; /* the config's, NUL-terminated */
	uint8_t px_scale[VENUE_MAX_INSTRUMENTS], qty_scale[VENUE_MAX_INSTRUMENTS];
};

/* Called synchronously for each event the venue emits.  It may call
 * order_side but must not feed the venue. */
typedef void (*venue_emit_fn)(void *ctx, const union fks_event *ev);

struct venue_vtbl {
	const char *type;            /* the config's `venue.type`: "sim", ... */
	size_t state_size;

	/* 0, or -1 with *err filled in.  Unknown keys are an error. */
	int (*init)(void *state, const struct venue_ctx *ctx, const struct fks_param *params,
		    size_t n_params, struct fks_param_error *err);

	/* An order-path event: new, cancel or replace.  Others are ignored. */
	void (*on_order)(void *state, const union fks_event *ev, venue_emit_fn emit, void *ctx);

	/* A market-data event, for venues that match or mark against it;
	 * NULL for venues that do not want market data. */
	void (*on_market)(void *state, const union fks_event *md, venue_emit_fn emit, void *ctx);

	/* Read sockets, fire timers due at now_ns (monotonic), emit what came
	 * in.  Returns the number of events emitted, or -1 when the venue is
	 * lost (the stage then trips the kill switch).  NULL: nothing to poll. */
	int (*poll)(void *state, int64_t now_ns, venue_emit_fn emit, void *ctx);

	/* Up to max descriptors the stage must wait on (readable), written to
	 * fds; returns how many.  *deadline_ns (monotonic; INT64_MAX for none)
	 * is the next timer poll must run at.  NULL: none. */
	int (*fds)(const void *state, int *fds, int max, int64_t *deadline_ns);

	/* The kill switch: cancel every open order (emitting the cancel acks
	 * or, for a remote venue, sending the cancels). */
	void (*cancel_all)(void *state, venue_emit_fn emit, void *ctx);

	/* The side (enum fks_side) of an order, which fills do not carry:
	 * true and *side, or false and FKS_SIDE_NONE if unknown here.  Always
	 * true from inside emit for the order of a fill or cancel ack. */
	bool (*order_side)(const void *state, uint64_t order_id, uint8_t *side);

	/* Release what init took (descriptors).  NULL: nothing to release. */
	void (*close)(void *state);
};

/* The table for a venue type, or NULL. */
const struct venue_vtbl *venue_find(const char *type);

/* The i-th registered venue, NULL past the last: for listing the types. */
const struct venue_vtbl *venue_at(size_t i);

/* A decimal integer in [lo, hi], digits only (no sign, no spaces); else -1
 * with err naming p->key, "expected an integer in <lo>..<hi>, got '<text>'",
 * the wording venue configs have always been refused with. */
int venue_parse_u32(const struct fks_param *p, uint32_t lo, uint32_t hi, uint32_t *out,
		    struct fks_param_error *err);

#endif
