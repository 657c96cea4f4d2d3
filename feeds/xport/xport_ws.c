/*
 * The websocket transport (transport.h): a venue's public stream through
 * ws_client, subscribed as ws_venue plans it for the decoder's venue and
 * channels.  Live only; reconnects by itself and says so (on_reconnect).
 */
#include <stdio.h>
#include <stdlib.h>

#include "feeds/net/ws_client.h"
#include "feeds/xport/transport.h"
#include "feeds/xport/ws_venue.h"

struct ws_feed {
	struct ws_client *ws;
	struct ws_venue_plan plan;
	xport_deliver_fn deliver;
	void (*on_reconnect)(void *ctx);
	void *ctx;
};

/* The feed source's return (its message budget) is not passed on: a
 * stream cannot be paused mid-read, and a negative return would only be
 * counted again by the client (the decoder counted the reason already). */
static int ws_deliver(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct ws_feed *f = ctx;
	f->deliver(f->ctx, msg, len, recv_ns);
	return 0;
}

static void ws_state(void *ctx, enum ws_state st)
{
	struct ws_feed *f = ctx;
	if (st == WS_RECONNECTED && f->on_reconnect)
		f->on_reconnect(f->ctx);
}

static void *ws_open_op(const struct feed_xport_params *p, char *err, size_t errlen)
{
	struct ws_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	enum ws_venue v = (enum ws_venue)p->ws.venue;
	size_t n = p->n_symbols < WS_VENUE_MAX_SYMBOLS ? p->n_symbols : WS_VENUE_MAX_SYMBOLS;
	int pv = ws_venue_plan(&f->plan, v, p->symbols, n, p->ws.channels, p->depth,
			       p->url && p->url[0] ? p->url : NULL);
	if (pv) {
		snprintf(err, errlen, "%s websocket: %s", ws_venue_name(v), ws_venue_strerror(pv));
		free(f);
		return NULL;
	}
	f->deliver = p->deliver;
	f->on_reconnect = p->on_reconnect;
	f->ctx = p->ctx;
	struct ws_config wc = { 0 };
	ws_venue_apply(&f->plan, &wc);
	wc.ca_file = p->ca_file;
	wc.deliver = ws_deliver;
	wc.on_state = ws_state;
	wc.ctx = f;
	wc.seed = p->seed;
	char e[WS_ERROR_MAX];
	f->ws = ws_client_new(&wc, e, sizeof e);
	if (!f->ws) {
		snprintf(err, errlen, "%s websocket: %s", ws_venue_name(v), e);
		free(f);
		return NULL;
	}
	return f;
}

static void ws_close_op(void *x)
{
	struct ws_feed *f = x;
	ws_client_free(f->ws);
	free(f);
}

static int ws_poll_op(void *x, int timeout_ms)
{
	ws_client_run(((struct ws_feed *)x)->ws, timeout_ms > 0 ? timeout_ms : 1);
	return 1;
}

static const char *ws_error_op(const void *x)
{
	(void)x; /* the client reconnects: nothing is fatal */
	return "";
}

static size_t ws_counters_op(void *x, struct named_counter *out, size_t cap)
{
	struct named_counter w[WS_STATS_COUNT];
	size_t k = ws_client_counters(((struct ws_feed *)x)->ws, w, WS_STATS_COUNT);
	return feed_counter_put_all(out, cap, 0, w, k < WS_STATS_COUNT ? k : WS_STATS_COUNT, 0);
}

const struct feed_xport_ops xport_ws_ops = {
	.name = "websocket",
	.websocket = true,
	.open = ws_open_op,
	.close = ws_close_op,
	.poll = ws_poll_op,
	.error = ws_error_op,
	.counters = ws_counters_op,
};
