#include "gateway/venues/fix44/fix_venue.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shm/event_build.h"
#include "shm/reasons.h"

_Static_assert((FIX_VENUE_ID_SLOTS & (FIX_VENUE_ID_SLOTS - 1)) == 0, "id slots: a power of two");
_Static_assert(VENUE_MAX_INSTRUMENTS <= 255, "fix_order.book is a byte");

#define NIL UINT32_MAX

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- records --------------------------------------------------------------- */

static uint32_t find(const struct fix_venue *v, uint64_t order_id)
{
	uint32_t r;
	return order_id && index_get(&v->ids, order_id, &r) == INDEX_OK ? r : NIL;
}

static struct fix_order *find_order(struct fix_venue *v, uint64_t order_id)
{
	uint32_t r = find(v, order_id);
	return r == NIL ? NULL : &v->rec[r];
}

/* A record for a new order: an unused one or the next done one (its id is
 * forgotten), NIL when all hold working orders. */
static uint32_t alloc(struct fix_venue *v, uint64_t order_id)
{
	for (uint32_t k = 0; k < FIX_VENUE_MAX_ORDERS; k++) {
		uint32_t r = (v->cursor + k) % FIX_VENUE_MAX_ORDERS;
		struct fix_order *o = &v->rec[r];
		if (o->ord.state != ORDER_ST_NONE && !order_is_final((enum order_state)o->ord.state))
			continue;
		if (o->ord.state != ORDER_ST_NONE)
			(void)index_del(&v->ids, o->ord.order_id, NULL);
		memset(o, 0, sizeof *o);
		(void)index_put(&v->ids, order_id, r);
		v->cursor = (r + 1) % FIX_VENUE_MAX_ORDERS;
		return r;
	}
	return NIL;
}

static int find_inst(const struct fix_venue *v, uint32_t id)
{
	for (uint32_t i = 0; i < v->n_inst; i++)
		if (v->inst[i].id == id)
			return (int)i;
	return -1;
}

void fix_venue_init(struct fix_venue *v, const struct fix_session_cfg *scfg, const char *account,
		    const struct fix_instrument *inst, uint32_t n_inst)
{
	snprintf(v->account, sizeof v->account, "%s", account);
	v->n_inst = n_inst;
	memcpy(v->inst, inst, n_inst * sizeof inst[0]);
	(void)index_init(&v->ids, FIX_VENUE_MAX_ORDERS, v->id_slot, FIX_VENUE_ID_SLOTS);
	fix_session_init(&v->s, scfg, NULL, NULL);
}

/* ---- output ------------------------------------------------------------------- */

static struct fks_event_hdr hdr(struct fix_venue *v, union fks_event *e, const struct fix_order *o,
				int64_t recv_ns)
{
	memset(e, 0, sizeof *e);
	struct fks_event_hdr h;
	fks_hdr_origin(&h, 0, FKS_STAGE_GATEWAY, ++v->seq, o ? o->ord.instrument : 0, 0, wall_ns(),
		       o ? o->recv_time_ns : recv_ns);
	return h;
}

static void out(struct fix_venue *v, const union fks_event *e)
{
	v->emitted++;
	v->emit(v->emit_ctx, e);
}

static void emit_reject(struct fix_venue *v, struct fix_order *o, uint64_t order_id, unsigned reason,
			const struct fks_event_hdr *cause)
{
	union fks_event e;
	struct fks_event_hdr h = hdr(v, &e, o, cause ? cause->recv_time_ns : 0);
	if (cause)
		h.instrument = cause->instrument;
	fks_build_order_reject(&e.order_reject, &h, order_id, reason);
	v->c.rejects++;
	out(v, &e);
}

static void emit_ack(struct fix_venue *v, struct fix_order *o)
{
	union fks_event e;
	struct fks_event_hdr h = hdr(v, &e, o, 0);
	fks_build_order_ack(&e.order_ack, &h, o->ord.order_id, o->venue_order_id, o->ord.leaves);
	v->c.acks++;
	out(v, &e);
}

static void emit_cancel_ack(struct fix_venue *v, struct fix_order *o, int64_t qty)
{
	union fks_event e;
	struct fks_event_hdr h = hdr(v, &e, o, 0);
	fks_build_cancel_ack(&e.cancel_ack, &h, o->ord.order_id, qty);
	v->c.cancel_acks++;
	out(v, &e);
}

/* ---- requests out ------------------------------------------------------------------ */

static char side_code(uint8_t side)
{
	return side == FKS_SIDE_BUY ? '1' : '2';
}

static char tif_code(uint8_t tif)
{
	static const char codes[] = { [FKS_TIF_DAY] = '0', [FKS_TIF_GTC] = '1', [FKS_TIF_IOC] = '3',
				      [FKS_TIF_FOK] = '4' };
	return codes[tif];
}

static void put_common(struct fix_venue *v, struct fix_writer *w, const struct fix_order *o)
{
	const struct fix_instrument *in = &v->inst[o->book];
	if (v->account[0])
		fix_w_str(w, 1, v->account);
	fix_w_str(w, 55, in->symbol);
	fix_w_char(w, 54, side_code(o->ord.side));
	fix_w_time(w, 60, wall_ns());
}

static uint64_t send_new(struct fix_venue *v, struct fix_order *o)
{
	const struct fix_instrument *in = &v->inst[o->book];
	struct fix_writer w;
	size_t at;
	if (!fix_session_begin(&v->s, "D", &w, &at))
		return 0;
	fix_w_u64(&w, 11, o->ord.order_id);
	put_common(v, &w, o);
	fix_w_dec(&w, 38, o->ord.qty, in->qty_scale);
	fix_w_char(&w, 40, o->ord.ord_type == FKS_ORD_MARKET ? '1' : '2');
	if (o->ord.ord_type == FKS_ORD_LIMIT)
		fix_w_dec(&w, 44, o->ord.px, in->px_scale);
	fix_w_char(&w, 59, tif_code(o->ord.tif));
	return fix_session_send(&v->s, &w, "D", at);
}

static uint64_t send_cancel(struct fix_venue *v, struct fix_order *o)
{
	const struct fix_instrument *in = &v->inst[o->book];
	struct fix_writer w;
	size_t at;
	char id[48];
	if (!fix_session_begin(&v->s, "F", &w, &at))
		return 0;
	snprintf(id, sizeof id, "%llu.C%u", (unsigned long long)o->ord.order_id, o->cancels + 1);
	fix_w_str(&w, 11, id);
	fix_w_u64(&w, 41, o->ord.order_id);
	put_common(v, &w, o);
	fix_w_dec(&w, 38, o->ord.qty, in->qty_scale);
	uint64_t seq = fix_session_send(&v->s, &w, "F", at);
	if (seq) {
		o->cancels++;
		o->req = 'F';
		o->req_seq = seq;
		v->c.cancels++;
	}
	return seq;
}

static uint64_t send_replace(struct fix_venue *v, struct fix_order *old, const struct fix_order *neu)
{
	const struct fix_instrument *in = &v->inst[old->book];
	struct fix_writer w;
	size_t at;
	if (!fix_session_begin(&v->s, "G", &w, &at))
		return 0;
	fix_w_u64(&w, 11, neu->ord.order_id);
	fix_w_u64(&w, 41, old->ord.order_id);
	put_common(v, &w, old);
	fix_w_dec(&w, 38, neu->ord.qty, in->qty_scale);
	fix_w_char(&w, 40, old->ord.ord_type == FKS_ORD_MARKET ? '1' : '2');
	if (old->ord.ord_type == FKS_ORD_LIMIT)
		fix_w_dec(&w, 44, neu->ord.px, in->px_scale);
	fix_w_char(&w, 59, tif_code(old->ord.tif));
	return fix_session_send(&v->s, &w, "G", at);
}

static bool order_ok(const struct fks_ev_order_new *n)
{
	return (n->side == FKS_SIDE_BUY || n->side == FKS_SIDE_SELL) &&
	       (n->ord_type == FKS_ORD_LIMIT || n->ord_type == FKS_ORD_MARKET) && n->tif >= FKS_TIF_DAY &&
	       n->tif <= FKS_TIF_FOK && n->qty > 0 && (n->ord_type == FKS_ORD_MARKET || n->px > 0);
}

static void on_new(struct fix_venue *v, const struct fks_ev_order_new *n)
{
	int bi = find_inst(v, n->h.instrument);
	unsigned reason = n->order_id == 0 || !order_ok(n) ? FKS_VENUE_REJ_BAD_ORDER
			  : bi < 0			    ? FKS_VENUE_REJ_UNKNOWN_INSTRUMENT
			  : find(v, n->order_id) != NIL	    ? FKS_VENUE_REJ_DUPLICATE_ORDER_ID
			  : !fix_session_active(&v->s)	    ? FKS_VENUE_REJ_NOT_CONNECTED
							    : 0;
	uint32_t r = reason ? NIL : alloc(v, n->order_id);
	if (!reason && r == NIL) {
		reason = FKS_VENUE_REJ_VENUE_FULL;
		v->c.venue_full++;
	}
	if (reason) {
		v->c.not_connected += reason == FKS_VENUE_REJ_NOT_CONNECTED;
		emit_reject(v, NULL, n->order_id, reason, &n->h);
		return;
	}
	struct fix_order *o = &v->rec[r];
	order_submit(&o->ord, n->order_id, n->h.instrument, n->side, n->ord_type, n->tif, n->px, n->qty);
	o->book = (uint8_t)bi;
	o->recv_time_ns = n->h.recv_time_ns;
	o->req = 'D';
	o->req_seq = send_new(v, o);
	if (o->req_seq) {
		v->c.orders++;
		return;
	}
	order_apply(&o->ord, ORDER_IN_REJECT, 0, &v->order_errors);
	emit_reject(v, o, n->order_id, FKS_VENUE_REJ_BAD_ORDER, NULL);
}

static void request_cancel(struct fix_venue *v, struct fix_order *o)
{
	if (o->ord.state == ORDER_ST_PENDING_CANCEL || o->ord.state == ORDER_ST_PENDING_REPLACE)
		return;              /* one request at a time per order */
	if (!fix_session_active(&v->s)) {
		o->cancel_wanted = true;
		v->c.cancels_deferred++;
		return;
	}
	if (send_cancel(v, o)) {
		o->cancel_wanted = false;
		order_apply(&o->ord, ORDER_IN_CANCEL_REQUEST, 0, &v->order_errors);
	}
}

static void on_cancel(struct fix_venue *v, const struct fks_ev_order_cancel *c)
{
	struct fix_order *o = find_order(v, c->order_id);
	if (!o) {
		emit_reject(v, NULL, c->order_id, FKS_VENUE_REJ_UNKNOWN_ORDER, &c->h);
		return;
	}
	if (!order_is_open((enum order_state)o->ord.state)) {
		emit_reject(v, o, c->order_id, FKS_VENUE_REJ_ORDER_DONE, &c->h);
		return;
	}
	request_cancel(v, o);
}

static void on_replace(struct fix_venue *v, const struct fks_ev_order_replace *rp)
{
	struct fix_order *old = find_order(v, rp->order_id);
	unsigned reason = !old ? FKS_VENUE_REJ_UNKNOWN_ORDER
			  : (old->ord.state != ORDER_ST_NEW && old->ord.state != ORDER_ST_PARTIALLY_FILLED)
			      ? FKS_VENUE_REJ_ORDER_DONE
			  : rp->new_order_id == 0 || rp->new_qty <= 0 ||
				  (old->ord.ord_type == FKS_ORD_LIMIT && rp->new_px <= 0)
			      ? FKS_VENUE_REJ_BAD_ORDER
			  : find(v, rp->new_order_id) != NIL ? FKS_VENUE_REJ_DUPLICATE_ORDER_ID
			  : !fix_session_active(&v->s)	     ? FKS_VENUE_REJ_NOT_CONNECTED
							     : 0;
	uint32_t r = reason ? NIL : alloc(v, rp->new_order_id);
	if (!reason && r == NIL)
		reason = FKS_VENUE_REJ_VENUE_FULL;
	if (reason) {
		emit_reject(v, NULL, rp->new_order_id, reason, &rp->h);
		return;
	}
	struct fix_order *neu = &v->rec[r];
	old = find_order(v, rp->order_id);   /* alloc may not move it, but be plain */
	order_submit(&neu->ord, rp->new_order_id, old->ord.instrument, old->ord.side, old->ord.ord_type,
		     old->ord.tif, rp->new_px, rp->new_qty);
	neu->book = old->book;
	neu->recv_time_ns = rp->h.recv_time_ns;
	neu->replaces = old->ord.order_id;
	neu->req = 'G';
	neu->req_seq = send_replace(v, old, neu);
	if (!neu->req_seq) {
		order_apply(&neu->ord, ORDER_IN_REJECT, 0, &v->order_errors);
		emit_reject(v, neu, rp->new_order_id, FKS_VENUE_REJ_BAD_ORDER, NULL);
		return;
	}
	old->replaced_by = neu->ord.order_id;
	old->req = 'G';
	old->req_seq = neu->req_seq;
	order_apply(&old->ord, ORDER_IN_REPLACE_REQUEST, 0, &v->order_errors);
	v->c.replaces++;
}

void fix_venue_on_order(struct fix_venue *v, const union fks_event *ev, venue_emit_fn emit, void *ctx)
{
	v->emit = emit;
	v->emit_ctx = ctx;
	switch (ev->h.type) {
	case FKS_EV_ORDER_NEW:
		on_new(v, &ev->order_new);
		break;
	case FKS_EV_ORDER_CANCEL:
		on_cancel(v, &ev->order_cancel);
		break;
	case FKS_EV_ORDER_REPLACE:
		on_replace(v, &ev->order_replace);
		break;
	default:
		break;
	}
}

/* ---- reports in ------------------------------------------------------------------- */

/* The FKS order id a ClOrdID names: its leading digits ("17", "17.C2"). */
static uint64_t id_of(const struct fix_field *f)
{
	uint64_t id = 0;
	for (uint32_t i = 0; f && i < f->len && i < 19 && f->val[i] >= '0' && f->val[i] <= '9'; i++)
		id = id * 10 + (uint64_t)(f->val[i] - '0');
	return id;
}

static void apply(struct fix_venue *v, struct fix_order *o, enum order_input in, int64_t qty)
{
	order_apply(&o->ord, in, qty, &v->order_errors);
}

static void acked(struct fix_venue *v, struct fix_order *o, const struct fix_msg *m)
{
	o->venue_order_id = id_of(fix_get(m, 37));
	const struct fix_field *f = fix_get(m, 37);
	for (uint32_t i = 0; !o->venue_order_id && f && i < f->len; i++)
		if (f->val[i] >= '1' && f->val[i] <= '9') {
			struct fix_field rest = { 0, f->len - i, f->val + i };
			o->venue_order_id = id_of(&rest);
		}
	if (order_apply(&o->ord, ORDER_IN_ACK, 0, &v->order_errors))
		emit_ack(v, o);
	if (o->cancel_wanted)
		request_cancel(v, o);
}

static void filled(struct fix_venue *v, struct fix_order *o, const struct fix_msg *m)
{
	const struct fix_instrument *in = &v->inst[o->book];
	int64_t px, qty;
	if (!fix_get_dec(m, 31, in->px_scale, &px) || !fix_get_dec(m, 32, in->qty_scale, &qty) || qty <= 0) {
		v->c.bad_report++;
		return;
	}
	if (!order_apply(&o->ord, ORDER_IN_FILL, qty, &v->order_errors))
		return;
	union fks_event e;
	struct fks_event_hdr h = hdr(v, &e, o, 0);
	fks_build_fill(&e.fill, &h, o->ord.order_id, px, qty, o->ord.leaves);
	v->c.fills++;
	out(v, &e);
}

/* Canceled or expired: what was left goes. */
static void ended(struct fix_venue *v, struct fix_order *o, enum order_input in)
{
	int64_t left = o->ord.leaves;
	if (order_apply(&o->ord, in, 0, &v->order_errors))
		emit_cancel_ack(v, o, left);
}

static void replaced(struct fix_venue *v, struct fix_order *neu, const struct fix_msg *m)
{
	struct fix_order *old = find_order(v, neu->replaces ? neu->replaces : id_of(fix_get(m, 41)));
	if (!old || neu->ord.state != ORDER_ST_PENDING_NEW) {
		v->c.bad_report++;
		return;
	}
	ended(v, old, ORDER_IN_REPLACE_ACK);
	old->replaced_by = 0;
	acked(v, neu, m);
}

static void on_exec(struct fix_venue *v, const struct fix_msg *m)
{
	struct fix_order *o = find_order(v, id_of(fix_get(m, 11)));
	if (!o) {
		v->c.unknown_order++;
		return;
	}
	switch (fix_get_char(m, 150)) {
	case '0':
		if (o->ord.state == ORDER_ST_PENDING_NEW)
			acked(v, o, m);
		else
			v->c.ignored_reports++;
		break;
	case 'F':
		filled(v, o, m);
		break;
	case '4':
		ended(v, o, ORDER_IN_CANCEL_ACK);
		break;
	case 'C':
		ended(v, o, ORDER_IN_EXPIRE);
		break;
	case '5':
		replaced(v, o, m);
		break;
	case '8':
		if (order_apply(&o->ord, ORDER_IN_REJECT, 0, &v->order_errors))
			emit_reject(v, o, o->ord.order_id, FKS_VENUE_REJ_VENUE_REJECTED, NULL);
		break;
	default:
		v->c.ignored_reports++;
		break;
	}
}

/* A replace that failed: the old order works on, the new id is refused. */
static void replace_failed(struct fix_venue *v, struct fix_order *neu, unsigned reason)
{
	struct fix_order *old = find_order(v, neu->replaces);
	if (old && old->ord.state == ORDER_ST_PENDING_REPLACE) {
		apply(v, old, ORDER_IN_REPLACE_REJECT, 0);
		old->replaced_by = 0;
	}
	if (order_apply(&neu->ord, ORDER_IN_REJECT, 0, &v->order_errors))
		emit_reject(v, neu, neu->ord.order_id, reason, NULL);
	v->c.replace_rejects++;
}

static void on_cancel_reject(struct fix_venue *v, const struct fix_msg *m)
{
	if (fix_get_char(m, 434) == '2') {
		struct fix_order *neu = find_order(v, id_of(fix_get(m, 11)));
		if (neu && neu->replaces && neu->ord.state == ORDER_ST_PENDING_NEW)
			replace_failed(v, neu, FKS_VENUE_REJ_REPLACE_REJECTED);
		else
			v->c.unknown_order++;
		return;
	}
	struct fix_order *o = find_order(v, id_of(fix_get(m, 41)));
	v->c.cancel_rejects++;
	if (o && o->ord.state == ORDER_ST_PENDING_CANCEL)
		apply(v, o, ORDER_IN_CANCEL_REJECT, 0);
}

/* The request o last made was refused before any venue logic saw it. */
static void request_failed(struct fix_venue *v, struct fix_order *o, unsigned reason)
{
	if (o->req == 'D' && o->ord.state == ORDER_ST_PENDING_NEW) {
		if (order_apply(&o->ord, ORDER_IN_REJECT, 0, &v->order_errors))
			emit_reject(v, o, o->ord.order_id, reason, NULL);
	} else if (o->req == 'F' && o->ord.state == ORDER_ST_PENDING_CANCEL) {
		apply(v, o, ORDER_IN_CANCEL_REJECT, 0);
	} else if (o->req == 'G' && o->replaces && o->ord.state == ORDER_ST_PENDING_NEW) {
		replace_failed(v, o, reason);
	}
}

/* A Reject or BusinessMessageReject: the request it names by MsgSeqNum
 * (RefSeqNum), else, for a business reject, by ClOrdID (BusinessRejectRefID). */
static void on_request_rejected(struct fix_venue *v, const struct fix_msg *m, unsigned reason)
{
	uint64_t ref = 0;
	if (fix_get_u64(m, 45, &ref) && ref) {
		for (uint32_t r = 0; r < FIX_VENUE_MAX_ORDERS; r++)
			if (v->rec[r].req_seq == ref && order_is_open((enum order_state)v->rec[r].ord.state))
				request_failed(v, &v->rec[r], reason);
		return;
	}
	struct fix_order *o = find_order(v, id_of(fix_get(m, 379)));
	if (o)
		request_failed(v, o, reason);
}

static void on_app(void *ctx, const struct fix_msg *m)
{
	struct fix_venue *v = ctx;
	if (strcmp(m->type, "8") == 0) {
		on_exec(v, m);
	} else if (strcmp(m->type, "9") == 0) {
		on_cancel_reject(v, m);
	} else if (strcmp(m->type, "3") == 0) {
		v->c.session_rejects++;
		on_request_rejected(v, m, FKS_VENUE_REJ_SESSION_REJECT);
	} else if (strcmp(m->type, "j") == 0) {
		v->c.business_rejects++;
		on_request_rejected(v, m, FKS_VENUE_REJ_BUSINESS_REJECT);
	} else {
		v->c.ignored_reports++;
	}
}

/* ---- the table's other calls -------------------------------------------------------- */

static void send_deferred_cancels(struct fix_venue *v)
{
	for (uint32_t r = 0; r < FIX_VENUE_MAX_ORDERS && fix_session_active(&v->s); r++) {
		struct fix_order *o = &v->rec[r];
		if (o->cancel_wanted && (o->ord.state == ORDER_ST_NEW || o->ord.state == ORDER_ST_PARTIALLY_FILLED))
			request_cancel(v, o);
	}
}

int fix_venue_poll(struct fix_venue *v, int64_t now_ns, venue_emit_fn emit, void *ctx)
{
	v->emit = emit;
	v->emit_ctx = ctx;
	v->emitted = 0;
	v->s.on_app = on_app;
	v->s.app_ctx = v;
	bool was_active = fix_session_active(&v->s);
	fix_session_poll(&v->s, now_ns);
	if (!was_active && fix_session_active(&v->s))
		send_deferred_cancels(v);
	return fix_session_take_lost(&v->s) ? -1 : v->emitted;
}

int fix_venue_fds(const struct fix_venue *v, int *fds, int max, int64_t *deadline_ns)
{
	*deadline_ns = fix_session_deadline(&v->s);
	int fd = fix_session_fd(&v->s);
	if (fd < 0 || max < 1)
		return 0;
	fds[0] = fd;
	return 1;
}

void fix_venue_cancel_all(struct fix_venue *v, venue_emit_fn emit, void *ctx)
{
	v->emit = emit;
	v->emit_ctx = ctx;
	for (uint32_t r = 0; r < FIX_VENUE_MAX_ORDERS; r++) {
		struct fix_order *o = &v->rec[r];
		if (o->ord.state == ORDER_ST_PENDING_NEW)
			o->cancel_wanted = true;   /* sent once it is acked */
		else if (o->ord.state == ORDER_ST_NEW || o->ord.state == ORDER_ST_PARTIALLY_FILLED)
			request_cancel(v, o);
	}
}

bool fix_venue_order_side(const struct fix_venue *v, uint64_t order_id, uint8_t *side)
{
	uint32_t r = find(v, order_id);
	*side = r == NIL ? FKS_SIDE_NONE : v->rec[r].ord.side;
	return r != NIL;
}

enum order_state fix_venue_order_state(const struct fix_venue *v, uint64_t order_id)
{
	uint32_t r = find(v, order_id);
	return r == NIL ? ORDER_ST_NONE : (enum order_state)v->rec[r].ord.state;
}

void fix_venue_close(struct fix_venue *v)
{
	fix_session_close(&v->s);
}
