/*
 * One venue driven through its table (gateway/venue.h): what the gateway
 * stage and replay share to run whichever venue the config names.
 *
 * The driver owns the venue's state (state_size bytes, allocated and
 * zeroed once, at open) and the emit callback every call passes, so a
 * caller names the event and nothing else.  For a venue with sockets or
 * timers (fds() not NULL) it also keeps the descriptors and the deadline
 * the venue last named, and venue_driver_service() checks them without
 * blocking and calls poll() when one is ready or the deadline is due.
 * The simulated venue has neither, and then the driver costs a caller one
 * NULL test per batch and no syscall.
 */
#ifndef FKS_PIPELINE_RUNTIME_VENUE_DRIVER_H
#define FKS_PIPELINE_RUNTIME_VENUE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/venue.h"

#define VENUE_DRIVER_MAX_FDS 16

struct venue_driver {
	const struct venue_vtbl *vt;
	void *state;                   /* vt->state_size bytes, from open */
	venue_emit_fn emit;
	void *ctx;
	int fds[VENUE_DRIVER_MAX_FDS]; /* what fds() named at the last refresh */
	int n_fds;
	int64_t deadline_ns;           /* monotonic; INT64_MAX: no timer */
	uint64_t polls, lost;          /* poll() calls; polls that returned -1 */
};

/* Allocate the state and run the venue's init.  0, or -1 with *err filled
 * in (a table without init, on_order, cancel_all or order_side, or with
 * fds but no poll, and out of memory, are reported with key NULL); nothing
 * is left allocated on failure. */
int venue_driver_open(struct venue_driver *d, const struct venue_vtbl *vt, const struct venue_ctx *ctx,
		      const struct fks_param *params, size_t n_params, venue_emit_fn emit, void *emit_ctx,
		      struct fks_param_error *err);

/* close() the venue if it has one and free the state; safe on a driver
 * that failed to open or was already closed. */
void venue_driver_close(struct venue_driver *d);

/* A venue that answers only synchronously: nothing to wait on or poll. */
static inline bool venue_driver_is_sync(const struct venue_driver *d)
{
	return d->vt->fds == NULL;
}

static inline void venue_driver_order(struct venue_driver *d, const union fks_event *ev)
{
	d->vt->on_order(d->state, ev, d->emit, d->ctx);
}

/* Market data goes only to venues that want it (on_market not NULL). */
static inline void venue_driver_market(struct venue_driver *d, const union fks_event *md)
{
	if (d->vt->on_market)
		d->vt->on_market(d->state, md, d->emit, d->ctx);
}

static inline void venue_driver_cancel_all(struct venue_driver *d)
{
	d->vt->cancel_all(d->state, d->emit, d->ctx);
}

/* enum fks_side of the order, FKS_SIDE_NONE when the venue does not know it. */
static inline uint8_t venue_driver_order_side(const struct venue_driver *d, uint64_t order_id)
{
	uint8_t side = FKS_SIDE_NONE;
	if (!d->vt->order_side(d->state, order_id, &side))
		side = FKS_SIDE_NONE;
	return side;
}

/* Ask the venue for its descriptors and deadline (no syscall).  true when
 * there is anything to wait for: a descriptor, or a deadline before
 * INT64_MAX.  Always false for a synchronous venue. */
bool venue_driver_refresh(struct venue_driver *d);

/* After a refresh: check the descriptors without blocking (one poll(2),
 * none when there are no descriptors) and call the venue's poll() if one
 * is readable or the deadline is at or before now_ns.  The number of
 * events it emitted, 0 when nothing was due, or -1 when the venue is lost
 * (poll() returned -1, or poll(2) failed on the descriptors). */
int venue_driver_service(struct venue_driver *d, int64_t now_ns);

#endif
