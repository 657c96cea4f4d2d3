#include "pipeline/runtime/venue_driver.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* The state may hold cache-line-aligned members: give it a whole line. */
#define VENUE_STATE_ALIGN 64

int venue_driver_open(struct venue_driver *d, const struct venue_vtbl *vt, const struct venue_ctx *ctx,
		      const struct fks_param *params, size_t n_params, venue_emit_fn emit, void *emit_ctx,
		      struct fks_param_error *err)
{
	memset(d, 0, sizeof *d);
	d->deadline_ns = INT64_MAX;
	if (!vt->init || !vt->on_order || !vt->cancel_all || !vt->order_side || (vt->fds && !vt->poll))
		return fks_param_fail(err, NULL, "%s venue: its table lacks a required function", vt->type);
	size_t size = (vt->state_size + VENUE_STATE_ALIGN - 1) / VENUE_STATE_ALIGN * VENUE_STATE_ALIGN;
	d->state = aligned_alloc(VENUE_STATE_ALIGN, size ? size : VENUE_STATE_ALIGN);
	if (!d->state)
		return fks_param_fail(err, NULL, "%s venue: out of memory for %zu bytes of state", vt->type,
				  vt->state_size);
	memset(d->state, 0, size ? size : VENUE_STATE_ALIGN);
	if (vt->init(d->state, ctx, params, n_params, err) != 0) {
		free(d->state);
		d->state = NULL;
		return -1;
	}
	d->vt = vt;
	d->emit = emit;
	d->ctx = emit_ctx;
	return 0;
}

void venue_driver_close(struct venue_driver *d)
{
	if (!d->state)
		return;
	if (d->vt && d->vt->close)
		d->vt->close(d->state);
	free(d->state);
	d->state = NULL;
}

bool venue_driver_refresh(struct venue_driver *d)
{
	d->n_fds = 0;
	d->deadline_ns = INT64_MAX;
	if (!d->vt->fds)
		return false;
	int n = d->vt->fds(d->state, d->fds, VENUE_DRIVER_MAX_FDS, &d->deadline_ns);
	/* A venue that claims more than it was given room for, or a negative
	 * count, names none: its deadline alone still holds. */
	d->n_fds = n > 0 && n <= VENUE_DRIVER_MAX_FDS ? n : 0;
	return d->n_fds > 0 || d->deadline_ns != INT64_MAX;
}

/* Whether any descriptor is readable (or in error: poll() reads the error),
 * without blocking; -1 when poll(2) itself fails. */
static int venue_fds_ready(const struct venue_driver *d)
{
	struct pollfd p[VENUE_DRIVER_MAX_FDS];
	for (int i = 0; i < d->n_fds; i++)
		p[i] = (struct pollfd){ .fd = d->fds[i], .events = POLLIN };
	int rc;
	do
		rc = poll(p, (nfds_t)d->n_fds, 0);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -1 : rc > 0;
}

int venue_driver_service(struct venue_driver *d, int64_t now_ns)
{
	int ready = d->n_fds > 0 ? venue_fds_ready(d) : 0;
	if (ready < 0) {
		d->lost++;
		return -1;
	}
	if (!ready && now_ns < d->deadline_ns)
		return 0;
	d->polls++;
	int n = d->vt->poll(d->state, now_ns, d->emit, d->ctx);
	if (n < 0) {
		d->lost++;
		return -1;
	}
	return n;
}
