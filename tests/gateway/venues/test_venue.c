/*
 * Tests for gateway/venue.h: the registry, the sim venue's parameters
 * (refused values name their key), and that the sim venue behind the
 * table emits exactly what sim_venue.c emits called directly.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "gateway/venue.h"
#include "gateway/venues/sim/sim_venue.h"

#define MAXEV 64

struct sink {
	union fks_event ev[MAXEV];
	int n;
};

static void collect(void *ctx, const union fks_event *ev)
{
	struct sink *s = ctx;
	cr_assert_lt(s->n, MAXEV);
	s->ev[s->n++] = *ev;
}

static const struct venue_ctx two = { .n_instruments = 2, .instrument = { 1, 2 } };

static void *sim_via_table(const struct fks_param *p, size_t n, struct fks_param_error *err, int *rc)
{
	const struct venue_vtbl *vt = venue_find("sim");
	void *st = calloc(1, vt->state_size);
	cr_assert_not_null(st);
	*rc = vt->init(st, &two, p, n, err);
	return st;
}

Test(venue, registry_finds_sim_and_fix44)
{
	cr_assert_not_null(venue_find("sim"));
	cr_assert_str_eq(venue_find("sim")->type, "sim");
	cr_assert_str_eq(venue_find("fix44")->type, "fix44");
	cr_assert_null(venue_find("fix42"));
	cr_assert_null(venue_find(NULL));
	cr_assert_eq(venue_at(0), venue_find("sim"));
	cr_assert_eq(venue_at(1), venue_find("fix44"));
	cr_assert_null(venue_at(2));
}

/* fix44's parameters: each refusal names its key (or, for a missing one,
 * says which), and init opens no file and connects to nothing. */
Test(venue, fix44_params_refused_against_their_key)
{
	static const struct venue_ctx one = { .n_instruments = 1, .instrument = { 1 }, .symbol = { "BTCUSD" } };
	static const struct { struct fks_param p; const char *key, *why; } bad[] = {
		{ { "port", "0" }, "port", "1..65535" },
		{ { "port", "70000" }, "port", "1..65535" },
		{ { "heartbeat_s", "0" }, "heartbeat_s", "1..3600" },
		{ { "sender_comp_id", "A B" }, "sender_comp_id", "no spaces" },
		{ { "target_comp_id", "" }, "target_comp_id", "1..31" },
		{ { "account", "a=b" }, "account", "'='" },
		{ { "tls_ca", "" }, "tls_ca", "1..255" },
		{ { "tls", "yes" }, "tls", "true or false" },
		{ { "reset_seq", "1" }, "reset_seq", "true or false" },
		{ { "symbol.ETHUSD", "ETH/USD" }, "symbol.ETHUSD", "not an instrument" },
		{ { "hostname", "x" }, "hostname", "unknown" },
	};
	const struct venue_vtbl *vt = venue_find("fix44");
	void *st = calloc(1, vt->state_size);
	cr_assert_not_null(st);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fks_param p[] = { { "host", "127.0.0.1" }, { "port", "9000" }, { "sender_comp_id", "FKS" },
					 { "target_comp_id", "V" }, { "store", "/nonexistent/dir/store" }, bad[i].p };
		for (size_t k = 0; k < 5; k++)
			if (!strcmp(p[k].key, bad[i].p.key))
				p[k] = p[5];
		struct fks_param_error err = { 0 };
		cr_assert_eq(vt->init(st, &one, p, 6, &err), -1, "%s: %s accepted", bad[i].p.key, bad[i].p.value);
		cr_assert_str_eq(err.key, bad[i].key);
		cr_assert_not_null(strstr(err.msg, bad[i].why), "%s: '%s'", bad[i].p.key, err.msg);
	}
	static const char *const required[] = { "host", "port", "sender_comp_id", "target_comp_id", "store" };
	for (size_t i = 0; i < 5; i++) {
		struct fks_param p[] = { { "host", "127.0.0.1" }, { "port", "9000" }, { "sender_comp_id", "FKS" },
					 { "target_comp_id", "V" }, { "store", "/nonexistent/dir/store" } };
		p[i] = p[4];
		struct fks_param_error err = { 0 };
		cr_assert_eq(vt->init(st, &one, p, 4, &err), -1);
		cr_assert_null(err.key);
		cr_assert_not_null(strstr(err.msg, required[i]), "'%s'", err.msg);
	}
	/* Good parameters: init succeeds without touching the store path. */
	struct fks_param ok[] = { { "host", "127.0.0.1" }, { "port", "9000" }, { "sender_comp_id", "FKS" },
				  { "target_comp_id", "V" }, { "store", "/nonexistent/dir/store" },
				  { "symbol.BTCUSD", "XBT/USD" }, { "heartbeat_s", "5" }, { "tls", "true" } };
	struct fks_param_error err = { 0 };
	cr_assert_eq(vt->init(st, &one, ok, 8, &err), 0, "%s", err.msg);
	vt->close(st);
	free(st);
}

Test(venue, sim_params_refused_against_their_key)
{
	static const struct { struct fks_param p; const char *why; } bad[] = {
		{ { "fill", "sometimes" }, "touch, none or queue" },
		{ { "latency_us", "10000001" }, "0..10000000" },
		{ { "latency_us", "-1" }, "integer" },
		{ { "latency_us", "5x" }, "integer" },
		{ { "slippage_bps", "10001" }, "0..10000" },
		{ { "slippage_ticks", "" }, "integer" },
		{ { "speed", "1" }, "unknown" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fks_param_error err = { 0 };
		int rc;
		void *st = sim_via_table(&bad[i].p, 1, &err, &rc);
		cr_assert_eq(rc, -1, "%s: %s accepted", bad[i].p.key, bad[i].p.value);
		cr_assert_eq(err.key, bad[i].p.key, "%s: error names %s", bad[i].p.key,
			     err.key ? err.key : "nothing");
		cr_assert(strstr(err.msg, bad[i].why), "%s: '%s'", bad[i].p.key, err.msg);
		free(st);
	}
	struct venue_ctx none = { 0 };
	struct fks_param_error err = { 0 };
	void *st = calloc(1, venue_find("sim")->state_size);
	cr_assert_eq(venue_find("sim")->init(st, &none, NULL, 0, &err), -1);
	cr_assert_null(err.key);
	free(st);
}

static union fks_event quote(uint32_t inst, int64_t bid, int64_t ask, int64_t qty, int64_t t)
{
	union fks_event e;
	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.instrument = inst;
	e.h.event_time_ns = t;
	e.quote.bid_px = bid;
	e.quote.ask_px = ask;
	e.quote.bid_qty = e.quote.ask_qty = qty;
	return e;
}

static union fks_event order(uint64_t id, uint8_t side, int64_t px, int64_t qty, int64_t t)
{
	union fks_event e;
	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_ORDER_NEW;
	e.h.instrument = 1;
	e.h.event_time_ns = t;
	e.h.recv_time_ns = t + 7;
	e.order_new.order_id = id;
	e.order_new.side = side;
	e.order_new.ord_type = FKS_ORD_LIMIT;
	e.order_new.tif = FKS_TIF_GTC;
	e.order_new.px = px;
	e.order_new.qty = qty;
	return e;
}

/* The same inputs, direct and through the table: the same bytes out. */
Test(venue, sim_behind_the_table_is_the_sim)
{
	struct fks_param p[] = { { "fill", "queue" }, { "latency_us", "1" } };
	struct fks_param_error err = { 0 };
	int rc;
	void *viat = sim_via_table(p, 2, &err, &rc);
	cr_assert_eq(rc, 0, "%s", err.msg);

	struct sim_venue *direct = calloc(1, sizeof *direct);
	struct sim_venue_params sp = { .fill = SIM_FILL_QUEUE, .latency_us = 1, .n_instruments = 2,
				       .instrument = { 1, 2 } };
	cr_assert_eq(sim_venue_init(direct, &sp), 0);

	const struct venue_vtbl *vt = venue_find("sim");
	struct sink a = { .n = 0 }, b = { .n = 0 };
	union fks_event q1 = quote(1, 99, 101, 5, 1000), q2 = quote(1, 99, 100, 2, 3000);
	union fks_event o1 = order(11, FKS_SIDE_BUY, 100, 3, 1500), o2 = order(12, FKS_SIDE_SELL, 99, 1, 1600);

	vt->on_market(viat, &q1, collect, &a);
	sim_venue_on_market(direct, &q1, collect, &b);
	vt->on_order(viat, &o1, collect, &a);
	sim_venue_on_order(direct, &o1, collect, &b);
	vt->on_order(viat, &o2, collect, &a);
	sim_venue_on_order(direct, &o2, collect, &b);
	vt->on_market(viat, &q2, collect, &a);
	sim_venue_on_market(direct, &q2, collect, &b);
	uint8_t side = 0;
	cr_assert(vt->order_side(viat, 11, &side));
	cr_assert_eq(side, FKS_SIDE_BUY);
	vt->cancel_all(viat, collect, &a);
	sim_venue_cancel_all(direct, collect, &b);

	cr_assert_geq(a.n, 4, "acks, a fill and a cancel expected, got %d events", a.n);
	cr_assert_eq(a.n, b.n);
	cr_assert_eq(memcmp(a.ev, b.ev, sizeof a.ev[0] * (size_t)a.n), 0);
	cr_assert_null(vt->poll);
	cr_assert_null(vt->fds);
	free(viat);
	free(direct);
}
