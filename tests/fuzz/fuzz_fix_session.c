/*
 * The fix44 session and venue on arbitrary bytes from the counterparty: a
 * logged-on session over a socketpair, three orders working, and the
 * input arriving as what the venue sends.  Properties: nothing reads or
 * writes outside its buffers (ASan, UBSan); every event emitted is one a
 * venue may emit, from the gateway, about an order it was given; the
 * expected inbound sequence number never goes backwards; and a working
 * order is never named by an ORDER_REJECT.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/venues/fix44/fix_venue.h"
#include "shm/event_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fix_venue *v;
static int peer = -1;

static void check_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	if (ev->h.source != FKS_STAGE_GATEWAY)
		abort();
	uint64_t id = ev->order_ack.order_id;
	switch (ev->h.type) {
	case FKS_EV_ORDER_ACK:
	case FKS_EV_FILL:
	case FKS_EV_CANCEL_ACK:
		if (fix_venue_order_state(v, id) == ORDER_ST_NONE)
			abort();
		break;
	case FKS_EV_ORDER_REJECT:
		if (order_is_open(fix_venue_order_state(v, id)) && fix_venue_order_state(v, id) != ORDER_ST_NONE)
			abort();
		break;
	default:
		abort();
	}
	if (ev->h.type == FKS_EV_FILL && (ev->fill.qty <= 0 || ev->fill.leaves_qty < 0))
		abort();
}

static void order(uint64_t id, int64_t px)
{
	union fks_event e;
	memset(&e, 0, sizeof e);
	fks_hdr_origin(&e.h, FKS_EV_ORDER_NEW, FKS_STAGE_RISK, id, 1, 0, 1, 2);
	e.order_new.order_id = id;
	e.order_new.px = px;
	e.order_new.qty = 5;
	e.order_new.side = FKS_SIDE_BUY;
	e.order_new.ord_type = FKS_ORD_LIMIT;
	e.order_new.tif = FKS_TIF_GTC;
	fix_venue_on_order(v, &e, check_event, NULL);
}

static void drain(void)
{
	char sink[65536];
	while (recv(peer, sink, sizeof sink, MSG_DONTWAIT) > 0)
		;
}

/* A fresh venue, logged on over a new socketpair, orders 1..3 working.
 * The store stays mapped from one input to the next (reset each time): a
 * map and an unmap of its 4 MiB per input would be most of the run. */
static void setup(void)
{
	static char store[64];
	static struct fix_store kept;
	char err[160];
	if (!v) {
		v = calloc(1, sizeof *v);
		snprintf(store, sizeof store, "/dev/shm/fks-fuzz-fix-%d.store", (int)getpid());
		unlink(store);
		if (!v || fix_store_open(&kept, store, "F", "V", err, sizeof err) != 0)
			abort();
		unlink(store);      /* the mapping outlives the name */
	}
	struct fix_session_cfg cfg = { .host = "127.0.0.1", .port = 1, .sender = "F", .target = "V",
				       .heartbeat_s = 30 };
	snprintf(cfg.store, sizeof cfg.store, "%s", store);
	struct fix_instrument in = { .id = 1, .symbol = "BTC", .px_scale = 2, .qty_scale = 0 };
	memset(v, 0, sizeof *v);
	fix_venue_init(v, &cfg, "", &in, 1);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	v->s.store = kept;
	fix_store_reset(&v->s.store);
	v->s.fd = sv[0];
	peer = sv[1];
	v->s.state = FIX_ST_ACTIVE;
	v->s.last_in_ns = v->s.last_out_ns = 1;
	order(1, 5000);
	order(2, 15000);
	order(3, 25000);
	drain();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 60000)
		return 0;
	setup();
	if (size && send(peer, data, size, 0) != (ssize_t)size)
		abort();
	uint64_t next_in = v->s.store.f->next_in;
	for (int turn = 0; turn < 3; turn++) {
		fix_venue_poll(v, 2 + turn, check_event, NULL);
		drain();
		if (v->s.store.f && v->s.store.f->next_in < next_in)
			abort();
		if (v->s.store.f)
			next_in = v->s.store.f->next_in;
	}
	if (v->s.fd >= 0)
		close(v->s.fd);
	close(peer);
	return 0;
}
