#include "gateway/venues/sim/sim_venue.h"

#include "shm/event_build.h"
#include "shm/reasons.h"

#include <string.h>

_Static_assert((SIM_VENUE_ID_SLOTS & (SIM_VENUE_ID_SLOTS - 1)) == 0, "id slots: a power of two");
_Static_assert(SIM_VENUE_ID_SLOTS >= 2 * SIM_VENUE_MAX_ORDERS, "id index: at most half full");
_Static_assert(SIM_VENUE_MAX_ORDERS < UINT32_MAX, "record indexes are uint32_t");

#define NIL UINT32_MAX

/* ---- the order model ---------------------------------------------------- */

/* Every state change of a record goes through the one order model. */
static void order_step(struct sim_venue *v, struct sim_order *o, enum order_input in, int64_t fill_qty)
{
	order_apply(&o->ord, in, fill_qty, &v->order_errors);
}

static bool is_open(const struct sim_order *o)
{
	return order_is_open((enum order_state)o->ord.state);
}

/* The simulated venue's codes are the registry's venue reasons (shm/reasons.h). */
#define SAME_CODE(x) _Static_assert((int)SIM_REJ_##x == (int)FKS_VENUE_REJ_##x, "SIM_REJ_" #x)
SAME_CODE(UNKNOWN_INSTRUMENT);
SAME_CODE(DUPLICATE_ORDER_ID);
SAME_CODE(BAD_ORDER);
SAME_CODE(VENUE_FULL);
SAME_CODE(UNKNOWN_ORDER);
SAME_CODE(ORDER_DONE);
SAME_CODE(UNSUPPORTED);

const char *sim_reject_reason_name(unsigned reason)
{
	const struct fks_reason *r = fks_reason_order_reject(reason);
	return r && r->origin == FKS_ORIGIN_VENUE ? r->name : "?";
}

/* ---- set-up ------------------------------------------------------------ */

int sim_venue_init(struct sim_venue *v, const struct sim_venue_params *p)
{
	memset(v, 0, sizeof *v);
	if ((p->fill != SIM_FILL_TOUCH && p->fill != SIM_FILL_NONE && p->fill != SIM_FILL_QUEUE) ||
	    p->latency_us > SIM_VENUE_MAX_LATENCY_US || p->slippage_bps > SIM_VENUE_MAX_SLIPPAGE_BPS ||
	    p->n_instruments == 0 ||
	    p->n_instruments > SIM_VENUE_MAX_INSTRUMENTS)
		return -1;
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		if (p->instrument[i] == 0)
			return -1;
		for (uint32_t j = 0; j < i; j++)
			if (p->instrument[j] == p->instrument[i])
				return -1;
		v->book[i].id = p->instrument[i];
		v->book[i].head = v->book[i].tail = NIL;
	}
	v->n_books = p->n_instruments;
	v->fill = p->fill;
	v->latency_ns = (int64_t)p->latency_us * 1000;
	v->slippage_bps = p->slippage_bps;
	v->slippage_ticks = p->slippage_ticks;
	for (uint32_t i = 0; i < SIM_VENUE_MAX_ORDERS; i++)
		v->rec[i].next = i + 1 < SIM_VENUE_MAX_ORDERS ? i + 1 : NIL;
	v->free_head = 0;
	v->done_head = v->done_tail = NIL;
	v->clock_ns = INT64_MIN;
	/* The sizes are constants checked above: this cannot fail. */
	(void)index_init(&v->ids, SIM_VENUE_MAX_ORDERS, v->id_slot, SIM_VENUE_ID_SLOTS);
	return 0;
}

static int find_book(const struct sim_venue *v, uint32_t id)
{
	if (id >= 1 && id <= v->n_books && v->book[id - 1].id == id)
		return (int)(id - 1);
	for (uint32_t i = 0; i < v->n_books; i++)
		if (v->book[i].id == id)
			return (int)i;
	return -1;
}

/* ---- the id index: order_id -> record -----------------------------------
 * The one open-addressing index (shm/index.h) over v->id_slot.  Looked up
 * by key only; nothing ever walks it, so its layout cannot reach the
 * output.  Every remembered record is in it, and there are at most
 * SIM_VENUE_MAX_ORDERS of those, its entry limit: a put never meets a full
 * index, and ids are never 0 here (on_new refuses 0 before inserting). */

static uint32_t id_find(const struct sim_venue *v, uint64_t order_id)
{
	uint32_t r;

	return index_get(&v->ids, order_id, &r) == INDEX_OK ? r : NIL;
}

static void id_insert(struct sim_venue *v, uint64_t order_id, uint32_t rec)
{
	(void)index_put(&v->ids, order_id, rec);
}

static void id_remove(struct sim_venue *v, uint64_t order_id)
{
	(void)index_del(&v->ids, order_id, NULL);
}

/* ---- records ----------------------------------------------------------- */

/* A record for a new order: a never-used one, else the oldest done one
 * (its id is forgotten).  NIL when every record holds an open order. */
static uint32_t rec_alloc(struct sim_venue *v)
{
	uint32_t r = v->free_head;

	if (r != NIL) {
		v->free_head = v->rec[r].next;
		return r;
	}
	r = v->done_head;
	if (r == NIL)
		return NIL;
	v->done_head = v->rec[r].next;
	if (v->done_head == NIL)
		v->done_tail = NIL;
	id_remove(v, v->rec[r].ord.order_id);
	v->c.recycled++;
	return r;
}

static void done_append(struct sim_venue *v, uint32_t r)
{
	v->rec[r].prev = v->done_tail;
	v->rec[r].next = NIL;
	if (v->done_tail != NIL)
		v->rec[v->done_tail].next = r;
	else
		v->done_head = r;
	v->done_tail = r;
}

static void open_append(struct sim_venue *v, struct sim_book *b, uint32_t r)
{
	v->rec[r].prev = b->tail;
	v->rec[r].next = NIL;
	if (b->tail != NIL)
		v->rec[b->tail].next = r;
	else
		b->head = r;
	b->tail = r;
	v->c.open++;
}

static void open_unlink(struct sim_venue *v, struct sim_book *b, uint32_t r)
{
	struct sim_order *o = &v->rec[r];

	if (o->prev != NIL)
		v->rec[o->prev].next = o->next;
	else
		b->head = o->next;
	if (o->next != NIL)
		v->rec[o->next].prev = o->prev;
	else
		b->tail = o->prev;
	v->c.open--;
}

/* ---- output ------------------------------------------------------------ */

/* The header of the venue's next report (the builder sets its type). */
static struct fks_event_hdr next_hdr(struct sim_venue *v, union fks_event *e, uint32_t instrument,
				     int64_t event_time_ns, int64_t recv_time_ns)
{
	/* The whole union, not only the report's own line: the tail of a
	 * 64-byte report must read as zero wherever the union is copied whole. */
	memset(e, 0, sizeof *e);
	struct fks_event_hdr h;
	fks_hdr_origin(&h, 0, FKS_STAGE_GATEWAY, ++v->seq, instrument, 0, event_time_ns, recv_time_ns);
	return h;
}

static void emit_reject(struct sim_venue *v, const struct fks_event_hdr *cause, uint64_t order_id,
			unsigned reason, sim_emit_fn emit, void *ctx)
{
	union fks_event e;

	struct fks_event_hdr h = next_hdr(v, &e, cause->instrument, cause->event_time_ns, cause->recv_time_ns);
	fks_build_order_reject(&e.order_reject, &h, order_id, reason);
	v->c.rejects++;
	emit(ctx, &e);
}

/* Cancel what is left of an open order and retire it. */
static void cancel_order(struct sim_venue *v, uint32_t r, int64_t event_time_ns, int64_t recv_time_ns,
			 sim_emit_fn emit, void *ctx)
{
	struct sim_order *o = &v->rec[r];
	union fks_event e;

	struct fks_event_hdr h = next_hdr(v, &e, o->ord.instrument, event_time_ns, recv_time_ns);
	fks_build_cancel_ack(&e.cancel_ack, &h, o->ord.order_id, o->ord.leaves);
	order_step(v, o, ORDER_IN_CANCEL_ACK, 0);
	open_unlink(v, &v->book[o->book], r);
	done_append(v, r);
	v->c.cancels++;
	emit(ctx, &e);
}

/* ---- matching ---------------------------------------------------------- */

static bool is_immediate(const struct sim_order *o)
{
	return o->ord.ord_type == FKS_ORD_MARKET || o->ord.tif == FKS_TIF_IOC || o->ord.tif == FKS_TIF_FOK;
}

static bool fills_passively(const struct sim_venue *v)
{
	return v->fill == SIM_FILL_QUEUE;
}

/* The price a market order pays at this touch (see the header).  In 128
 * bits: touch * bps cannot overflow there, and the result is clamped. */
static int64_t slipped_px(const struct sim_venue *v, const struct sim_order *o, int64_t touch)
{
	if (o->ord.ord_type != FKS_ORD_MARKET || (v->slippage_bps == 0 && v->slippage_ticks == 0))
		return touch;
	__int128 slip = v->slippage_ticks + ((__int128)touch * v->slippage_bps + 9999) / 10000;
	__int128 px = o->ord.side == FKS_SIDE_BUY ? touch + slip : touch - slip;
	if (px < 1)
		px = 1;
	if (px > INT64_MAX)
		px = INT64_MAX;
	return (int64_t)px;
}

/* Fill qty of open order r at px; retire it when done. */
static void fill_order(struct sim_venue *v, uint32_t r, int64_t px, int64_t qty, int64_t event_time_ns,
		       sim_emit_fn emit, void *ctx)
{
	struct sim_order *o = &v->rec[r];
	union fks_event e;

	order_step(v, o, ORDER_IN_FILL, qty);
	struct fks_event_hdr h = next_hdr(v, &e, o->ord.instrument, event_time_ns, o->recv_time_ns);
	fks_build_fill(&e.fill, &h, o->ord.order_id, px, qty, o->ord.leaves);
	v->c.fills++;
	if (o->ord.leaves == 0) {
		open_unlink(v, &v->book[o->book], r);
		done_append(v, r);
	}
	emit(ctx, &e);
}

/*
 * Give open order r its chance at the book's current quote, if that quote is
 * one it may see.  Fills carry event_time_ns (that of the cause).  An
 * immediate order that had its chance is canceled for what is left.
 */
static void try_match(struct sim_venue *v, uint32_t r, int64_t event_time_ns, sim_emit_fn emit,
		      void *ctx)
{
	struct sim_order *o = &v->rec[r];
	struct sim_book *b = &v->book[o->book];

	if (!b->have_quote || b->quote_time_ns < o->eligible_ns)
		return;

	bool buy = o->ord.side == FKS_SIDE_BUY;
	int64_t touch = buy ? b->ask_px : b->bid_px;
	int64_t *avail = buy ? &b->ask_avail : &b->bid_avail;
	bool crosses = touch > 0 &&
		       (o->ord.ord_type == FKS_ORD_MARKET || (buy ? touch <= o->ord.px : touch >= o->ord.px));
	int64_t qty = crosses ? (o->ord.leaves < *avail ? o->ord.leaves : *avail) : 0;

	if (o->ord.tif == FKS_TIF_FOK && o->ord.ord_type != FKS_ORD_MARKET && qty < o->ord.leaves)
		qty = 0;        /* all or nothing */
	if (qty > 0) {
		*avail -= qty;
		fill_order(v, r, slipped_px(v, o, touch), qty, event_time_ns, emit, ctx);
	}
	if (o->ord.leaves > 0 && is_immediate(o))
		cancel_order(v, r, event_time_ns, o->recv_time_ns, emit, ctx);
}

/* ---- passive fills (SIM_FILL_QUEUE) -------------------------------------- */

enum { QUEUE_UNSET = 0, QUEUE_UNKNOWN = 1, QUEUE_KNOWN = 2 };

/* Estimate a resting limit order's queue position from the book's last
 * quote, the first time it may see the market, or learn it once the best
 * reaches its price.  Sizes are the quote's displayed ones, not what our own
 * fills took from it: the queue is the resting volume ahead of us. */
static void queue_update(struct sim_venue *v, struct sim_order *o, int64_t event_time_ns)
{
	const struct sim_book *b = &v->book[o->book];

	if (o->ord.ord_type != FKS_ORD_LIMIT || o->queue_state == QUEUE_KNOWN || event_time_ns < o->eligible_ns)
		return;

	bool buy = o->ord.side == FKS_SIDE_BUY;
	int64_t best = b->have_quote ? (buy ? b->bid_px : b->ask_px) : 0;
	int64_t shown = buy ? b->bid_qty : b->ask_qty;

	if (best > 0 && best == o->ord.px) {
		o->queue_state = QUEUE_KNOWN;
		o->queue_ahead = shown > 0 ? shown : 0;
	} else if (o->queue_state == QUEUE_UNSET) {
		bool improves = best <= 0 || (buy ? o->ord.px > best : o->ord.px < best);
		o->queue_state = improves ? QUEUE_KNOWN : QUEUE_UNKNOWN;
		o->queue_ahead = 0;
	}
}

static void on_trade(struct sim_venue *v, struct sim_book *b, const struct fks_ev_trade *t, sim_emit_fn emit,
		     void *ctx)
{
	int64_t rem = t->qty;

	if (t->px <= 0 || t->qty <= 0)
		return;
	for (uint32_t r = b->head, next; r != NIL; r = next) {
		struct sim_order *o = &v->rec[r];

		next = o->next;
		if (o->ord.ord_type != FKS_ORD_LIMIT || t->h.event_time_ns < o->eligible_ns)
			continue;
		queue_update(v, o, t->h.event_time_ns);

		bool buy = o->ord.side == FKS_SIDE_BUY;
		bool through = buy ? t->px < o->ord.px : t->px > o->ord.px;
		int64_t take = 0;

		if (through) {
			take = rem;
		} else if (t->px == o->ord.px && o->queue_state == QUEUE_KNOWN && t->aggressor != o->ord.side) {
			if (o->queue_ahead >= t->qty) {
				o->queue_ahead -= t->qty;
				continue;
			}
			take = t->qty - o->queue_ahead;
			o->queue_ahead = 0;
			if (take > rem)
				take = rem;
		}
		if (take > o->ord.leaves)
			take = o->ord.leaves;
		if (take <= 0)
			continue;
		rem -= take;
		v->c.trade_fills++;
		fill_order(v, r, o->ord.px, take, t->h.event_time_ns, emit, ctx);
	}
}

void sim_venue_on_market(struct sim_venue *v, const union fks_event *ev, sim_emit_fn emit, void *ctx)
{
	bool trade = ev->h.type == FKS_EV_TRADE && fills_passively(v);
	int bi = ev->h.type == FKS_EV_QUOTE || trade ? find_book(v, ev->h.instrument) : -1;

	if (bi < 0) {
		v->c.ignored++;
		return;
	}
	if (trade) {
		if (ev->h.event_time_ns > v->clock_ns)
			v->clock_ns = ev->h.event_time_ns;
		on_trade(v, &v->book[bi], &ev->trade, emit, ctx);
		return;
	}

	const struct fks_ev_quote *q = &ev->quote;
	struct sim_book *b = &v->book[bi];

	if (q->h.event_time_ns > v->clock_ns)
		v->clock_ns = q->h.event_time_ns;
	b->have_quote = true;
	b->quote_time_ns = q->h.event_time_ns;
	b->bid_px = q->bid_px;
	b->ask_px = q->ask_px;
	b->bid_avail = q->bid_px > 0 && q->bid_qty > 0 ? q->bid_qty : 0;
	b->ask_avail = q->ask_px > 0 && q->ask_qty > 0 ? q->ask_qty : 0;
	b->bid_qty = b->bid_avail;
	b->ask_qty = b->ask_avail;
	if (v->fill == SIM_FILL_NONE)
		return;
	/* Oldest first.  The next link is read before matching, which may
	 * move the current order to the done list. */
	for (uint32_t r = b->head, next; r != NIL; r = next) {
		next = v->rec[r].next;
		try_match(v, r, q->h.event_time_ns, emit, ctx);
		if (fills_passively(v) && v->rec[r].ord.state != ORDER_ST_FILLED &&
		    v->rec[r].ord.state != ORDER_ST_CANCELED)
			queue_update(v, &v->rec[r], q->h.event_time_ns);
	}
}

/* ---- the order path ---------------------------------------------------- */

static bool fields_ok(const struct fks_ev_order_new *n)
{
	return (n->side == FKS_SIDE_BUY || n->side == FKS_SIDE_SELL) &&
	       (n->ord_type == FKS_ORD_LIMIT || n->ord_type == FKS_ORD_MARKET) &&
	       n->tif >= FKS_TIF_DAY && n->tif <= FKS_TIF_FOK && n->qty > 0 &&
	       (n->ord_type == FKS_ORD_MARKET || n->px > 0);
}

static void on_new(struct sim_venue *v, const struct fks_ev_order_new *n, sim_emit_fn emit, void *ctx)
{
	v->c.orders++;
	if (n->order_id == 0) {
		emit_reject(v, &n->h, 0, SIM_REJ_BAD_ORDER, emit, ctx);
		return;
	}
	if (id_find(v, n->order_id) != NIL) {
		emit_reject(v, &n->h, n->order_id, SIM_REJ_DUPLICATE_ORDER_ID, emit, ctx);
		return;
	}

	int bi = find_book(v, n->h.instrument);
	unsigned reason = bi < 0 ? SIM_REJ_UNKNOWN_INSTRUMENT : !fields_ok(n) ? SIM_REJ_BAD_ORDER : 0;
	uint32_t r = rec_alloc(v);

	if (r == NIL) {
		/* Everything held is open: reject, and remember nothing. */
		emit_reject(v, &n->h, n->order_id, reason ? reason : SIM_REJ_VENUE_FULL, emit, ctx);
		return;
	}

	struct sim_order *o = &v->rec[r];

	memset(o, 0, sizeof *o);
	order_submit(&o->ord, n->order_id, n->h.instrument, n->side, n->ord_type, n->tif, n->px,
		     n->qty);
	o->book = (uint16_t)(bi < 0 ? 0 : bi);
	o->event_time_ns = n->h.event_time_ns;
	o->recv_time_ns = n->h.recv_time_ns;
	o->eligible_ns = n->h.event_time_ns > INT64_MAX - v->latency_ns ? INT64_MAX
									  : n->h.event_time_ns + v->latency_ns;
	id_insert(v, o->ord.order_id, r);

	if (reason) {
		/* Remembered, so a resend of the id is a duplicate and a cancel
		 * of it hears ORDER_DONE. */
		order_step(v, o, ORDER_IN_REJECT, 0);
		done_append(v, r);
		emit_reject(v, &n->h, n->order_id, reason, emit, ctx);
		return;
	}

	union fks_event e;

	o->venue_order_id = ++v->arrivals;
	order_step(v, o, ORDER_IN_ACK, 0);
	open_append(v, &v->book[bi], r);
	struct fks_event_hdr h = next_hdr(v, &e, o->ord.instrument, o->event_time_ns, o->recv_time_ns);
	fks_build_order_ack(&e.order_ack, &h, o->ord.order_id, o->venue_order_id, o->ord.leaves);
	v->c.acks++;
	emit(ctx, &e);

	if (v->fill != SIM_FILL_NONE) {
		try_match(v, r, o->event_time_ns, emit, ctx);
		if (fills_passively(v) && is_open(o) && v->book[bi].have_quote)
			queue_update(v, o, v->book[bi].quote_time_ns);
	} else if (is_immediate(o))
		cancel_order(v, r, o->event_time_ns, o->recv_time_ns, emit, ctx);
}

static void on_cancel(struct sim_venue *v, const struct fks_ev_order_cancel *c, sim_emit_fn emit,
		      void *ctx)
{
	uint32_t r = c->order_id ? id_find(v, c->order_id) : NIL;

	v->c.cancel_requests++;
	if (r == NIL) {
		emit_reject(v, &c->h, c->order_id, SIM_REJ_UNKNOWN_ORDER, emit, ctx);
		return;
	}
	if (!is_open(&v->rec[r])) {
		struct fks_event_hdr h = c->h;

		h.instrument = v->rec[r].ord.instrument;
		emit_reject(v, &h, c->order_id, SIM_REJ_ORDER_DONE, emit, ctx);
		return;
	}
	cancel_order(v, r, c->h.event_time_ns, c->h.recv_time_ns, emit, ctx);
}

void sim_venue_on_order(struct sim_venue *v, const union fks_event *ev, sim_emit_fn emit, void *ctx)
{
	/* Orders advance the venue clock too: cancel_all needs a time even
	 * when no quote ever came. */
	if (ev->h.type == FKS_EV_ORDER_NEW || ev->h.type == FKS_EV_ORDER_CANCEL ||
	    ev->h.type == FKS_EV_ORDER_REPLACE) {
		if (ev->h.event_time_ns > v->clock_ns)
			v->clock_ns = ev->h.event_time_ns;
	}
	switch (ev->h.type) {
	case FKS_EV_ORDER_NEW:
		on_new(v, &ev->order_new, emit, ctx);
		break;
	case FKS_EV_ORDER_CANCEL:
		on_cancel(v, &ev->order_cancel, emit, ctx);
		break;
	case FKS_EV_ORDER_REPLACE:
		/* The id of the refused request, never the live order's: risk
		 * and strategy end whatever order an ORDER_REJECT names. */
		emit_reject(v, &ev->h, ev->order_replace.new_order_id, SIM_REJ_UNSUPPORTED, emit, ctx);
		break;
	default:
		v->c.ignored++;
		break;
	}
}

void sim_venue_cancel_all(struct sim_venue *v, sim_emit_fn emit, void *ctx)
{
	int64_t now = v->clock_ns == INT64_MIN ? 0 : v->clock_ns;

	for (uint32_t i = 0; i < v->n_books; i++)
		while (v->book[i].head != NIL)
			cancel_order(v, v->book[i].head, now, v->rec[v->book[i].head].recv_time_ns, emit,
				     ctx);
}

enum order_state sim_venue_order_state(const struct sim_venue *v, uint64_t order_id,
				       int64_t *leaves)
{
	uint32_t r = order_id ? id_find(v, order_id) : NIL;

	if (leaves)
		*leaves = r == NIL ? 0 : v->rec[r].ord.leaves;
	return r == NIL ? ORDER_ST_NONE : (enum order_state)v->rec[r].ord.state;
}

bool sim_venue_order_side(const struct sim_venue *v, uint64_t order_id, uint8_t *side)
{
	uint32_t r = order_id ? id_find(v, order_id) : NIL;

	*side = r == NIL ? FKS_SIDE_NONE : v->rec[r].ord.side;
	return r != NIL;
}
