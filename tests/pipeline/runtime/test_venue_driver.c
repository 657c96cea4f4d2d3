/*
 * Tests for pipeline/runtime/venue_driver.h, the glue through which the
 * gateway stage and replay drive a venue: a test venue defined here (not
 * registered) with a pipe for a socket and a settable timer, so that every
 * entry of the table is seen to be called, with the driver's emit, and
 * poll only when a descriptor is ready or the deadline is due.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/runtime/venue_driver.h"

struct test_venue {
	uint32_t n_instruments;
	char fill[16];
	int rd;                      /* the "socket": a pipe's read end, -1 none */
	int64_t deadline_ns;
	int poll_result;             /* what poll returns once it has read */
	int polls, orders, markets, cancels;
	int *closed;                 /* counted outside the state, which is freed */
	bool zeroed;                 /* the state was zero when init ran */
};

static int tv_closed;
static int tv_rd = -1;

static int tv_init(void *state, const struct venue_ctx *ctx, const struct fks_param *p, size_t n,
		   struct fks_param_error *err)
{
	struct test_venue *v = state;
	static const struct test_venue zero;
	v->zeroed = memcmp(v, &zero, sizeof zero) == 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(p[i].key, "fill") != 0)
			return fks_param_fail(err, p[i].key, "unknown test venue parameter");
		snprintf(v->fill, sizeof v->fill, "%s", p[i].value);
	}
	v->n_instruments = ctx->n_instruments;
	v->rd = tv_rd;
	v->deadline_ns = INT64_MAX;
	v->closed = &tv_closed;
	return 0;
}

static void tv_ack(const union fks_event *ev, uint8_t type, venue_emit_fn emit, void *ctx)
{
	union fks_event out;
	memset(&out, 0, sizeof out);
	out.h = ev->h;
	out.h.type = type;
	emit(ctx, &out);
}

static void tv_order(void *state, const union fks_event *ev, venue_emit_fn emit, void *ctx)
{
	((struct test_venue *)state)->orders++;
	tv_ack(ev, FKS_EV_ORDER_ACK, emit, ctx);
}

static void tv_market(void *state, const union fks_event *md, venue_emit_fn emit, void *ctx)
{
	(void)md, (void)emit, (void)ctx;
	((struct test_venue *)state)->markets++;
}

static int tv_poll(void *state, int64_t now_ns, venue_emit_fn emit, void *ctx)
{
	struct test_venue *v = state;
	char byte;
	v->polls++;
	if (v->rd >= 0 && read(v->rd, &byte, 1) != 1)
		return -1;
	union fks_event in = { .h = { .type = FKS_EV_ORDER_NEW, .event_time_ns = now_ns } };
	tv_ack(&in, FKS_EV_FILL, emit, ctx);
	return v->poll_result < 0 ? -1 : 1;
}

static int tv_fds(const void *state, int *fds, int max, int64_t *deadline_ns)
{
	const struct test_venue *v = state;
	*deadline_ns = v->deadline_ns;
	if (v->rd < 0 || max < 1)
		return 0;
	fds[0] = v->rd;
	return 1;
}

static void tv_cancel_all(void *state, venue_emit_fn emit, void *ctx)
{
	union fks_event in = { .h = { .type = FKS_EV_ORDER_CANCEL } };
	((struct test_venue *)state)->cancels++;
	tv_ack(&in, FKS_EV_CANCEL_ACK, emit, ctx);
}

static bool tv_side(const void *state, uint64_t order_id, uint8_t *side)
{
	(void)state;
	*side = order_id == 7 ? FKS_SIDE_SELL : FKS_SIDE_BUY; /* written even when unknown: must be ignored */
	return order_id == 7;
}

static void tv_close(void *state)
{
	(*((struct test_venue *)state)->closed)++;
}

static const struct venue_vtbl test_vtbl = {
	.type = "test",
	.state_size = sizeof(struct test_venue),
	.init = tv_init,
	.on_order = tv_order,
	.on_market = tv_market,
	.poll = tv_poll,
	.fds = tv_fds,
	.cancel_all = tv_cancel_all,
	.order_side = tv_side,
	.close = tv_close,
};

struct sink {
	uint8_t type[16];
	int n;
};

static void collect(void *ctx, const union fks_event *ev)
{
	struct sink *s = ctx;
	cr_assert_lt(s->n, 16);
	s->type[s->n++] = ev->h.type;
}

static const struct venue_ctx one = { .n_instruments = 1, .instrument = { 1 } };

static void open_test(struct venue_driver *d, const struct venue_vtbl *vt, struct sink *sink)
{
	static const struct fks_param fill = { "fill", "queue" };
	struct fks_param_error err = { .key = NULL };
	tv_closed = 0;
	cr_assert_eq(venue_driver_open(d, vt, &one, &fill, 1, collect, sink, &err), 0, "%s", err.msg);
}

static struct test_venue *tv(struct venue_driver *d)
{
	return d->state;
}

Test(venue_driver, open_runs_init_on_zeroed_state_and_close_releases_once)
{
	struct venue_driver d;
	struct sink sink = { .n = 0 };
	open_test(&d, &test_vtbl, &sink);
	cr_assert(tv(&d)->zeroed);
	cr_assert_str_eq(tv(&d)->fill, "queue");
	cr_assert_eq(tv(&d)->n_instruments, 1);
	venue_driver_close(&d);
	cr_assert_eq(tv_closed, 1);
	cr_assert_null(d.state);
	venue_driver_close(&d);
	cr_assert_eq(tv_closed, 1);
}

Test(venue_driver, refused_init_names_the_key_and_keeps_nothing)
{
	static const struct fks_param bad = { "speed", "1" };
	struct venue_driver d;
	struct fks_param_error err = { .key = NULL };
	struct sink sink = { .n = 0 };
	cr_assert_eq(venue_driver_open(&d, &test_vtbl, &one, &bad, 1, collect, &sink, &err), -1);
	cr_assert_str_eq(err.key, "speed");
	cr_assert_null(d.state);
	venue_driver_close(&d); /* safe after a failed open */
}

Test(venue_driver, table_with_fds_but_no_poll_is_refused)
{
	struct venue_vtbl broken = test_vtbl;
	broken.poll = NULL;
	struct venue_driver d;
	struct fks_param_error err = { .key = NULL };
	cr_assert_eq(venue_driver_open(&d, &broken, &one, NULL, 0, collect, NULL, &err), -1);
	cr_assert_null(err.key);
	cr_assert(strstr(err.msg, "required function") != NULL, "%s", err.msg);
}

Test(venue_driver, calls_go_through_the_table_with_the_drivers_emit)
{
	struct venue_driver d;
	struct sink sink = { .n = 0 };
	open_test(&d, &test_vtbl, &sink);
	union fks_event ev = { .h = { .type = FKS_EV_ORDER_NEW } };
	venue_driver_order(&d, &ev);
	venue_driver_market(&d, &ev);
	venue_driver_cancel_all(&d);
	cr_assert_eq(tv(&d)->orders, 1);
	cr_assert_eq(tv(&d)->markets, 1);
	cr_assert_eq(tv(&d)->cancels, 1);
	cr_assert_eq(sink.n, 2);
	cr_assert_eq(sink.type[0], FKS_EV_ORDER_ACK);
	cr_assert_eq(sink.type[1], FKS_EV_CANCEL_ACK);
	cr_assert_eq(venue_driver_order_side(&d, 7), FKS_SIDE_SELL);
	cr_assert_eq(venue_driver_order_side(&d, 8), FKS_SIDE_NONE);
	venue_driver_close(&d);
}

Test(venue_driver, market_data_skipped_for_a_venue_without_on_market)
{
	struct venue_vtbl no_md = test_vtbl;
	no_md.on_market = NULL;
	struct venue_driver d;
	struct sink sink = { .n = 0 };
	open_test(&d, &no_md, &sink);
	union fks_event q = { .h = { .type = FKS_EV_QUOTE } };
	venue_driver_market(&d, &q); /* would crash on a NULL call */
	cr_assert_eq(sink.n, 0);
	venue_driver_close(&d);
}

Test(venue_driver, sim_venue_is_synchronous_and_never_polled)
{
	static const struct fks_param fill = { "fill", "touch" };
	struct venue_driver d;
	struct fks_param_error err = { .key = NULL };
	cr_assert_eq(venue_driver_open(&d, venue_find("sim"), &one, &fill, 1, collect, NULL, &err), 0, "%s",
		     err.msg);
	cr_assert(venue_driver_is_sync(&d));
	cr_assert_not(venue_driver_refresh(&d));
	cr_assert_eq(d.n_fds, 0);
	cr_assert_eq(d.deadline_ns, INT64_MAX);
	venue_driver_close(&d);
}

Test(venue_driver, polls_only_when_a_descriptor_is_readable)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_NONBLOCK), 0); /* a wrong poll fails an assertion, not a hang */
	tv_rd = p[0];
	struct venue_driver d;
	struct sink sink = { .n = 0 };
	open_test(&d, &test_vtbl, &sink);
	tv_rd = -1;
	cr_assert_not(venue_driver_is_sync(&d));
	cr_assert(venue_driver_refresh(&d));
	cr_assert_eq(d.n_fds, 1);
	cr_assert_eq(d.fds[0], p[0]);
	cr_assert_eq(venue_driver_service(&d, 5), 0);
	cr_assert_eq(tv(&d)->polls, 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	cr_assert_eq(venue_driver_service(&d, 6), 1);
	cr_assert_eq(tv(&d)->polls, 1);
	cr_assert_eq(sink.n, 1);
	cr_assert_eq(sink.type[0], FKS_EV_FILL);
	cr_assert_eq(venue_driver_service(&d, 7), 0, "the byte was read: nothing is ready");
	venue_driver_close(&d);
	close(p[0]);
	close(p[1]);
}

Test(venue_driver, polls_when_the_deadline_is_due)
{
	struct venue_driver d;
	struct sink sink = { .n = 0 };
	open_test(&d, &test_vtbl, &sink);
	cr_assert_not(venue_driver_refresh(&d), "no descriptor, no timer: nothing to wait for");
	tv(&d)->deadline_ns = 1000;
	cr_assert(venue_driver_refresh(&d));
	cr_assert_eq(d.n_fds, 0);
	cr_assert_eq(venue_driver_service(&d, 999), 0);
	cr_assert_eq(tv(&d)->polls, 0);
	cr_assert_eq(venue_driver_service(&d, 1000), 1);
	cr_assert_eq(tv(&d)->polls, 1);
	cr_assert_eq(d.polls, 1);
	venue_driver_close(&d);
}

Test(venue_driver, a_poll_of_minus_one_is_a_lost_venue)
{
	struct venue_driver d;
	struct sink sink = { .n = 0 };
	open_test(&d, &test_vtbl, &sink);
	tv(&d)->deadline_ns = 0;
	tv(&d)->poll_result = -1;
	cr_assert(venue_driver_refresh(&d));
	cr_assert_eq(venue_driver_service(&d, 1), -1);
	cr_assert_eq(d.lost, 1);
	venue_driver_close(&d);
}
