#include "strategies/impl/ma_cross.h"

#include <string.h>

#include "shm/event_build.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define WINDOW_MAX_TEXT STRINGIFY(MA_CROSS_MAX_WINDOW)

int ma_cross_init(struct ma_cross *s, const struct ma_cross_params *p)
{
	memset(s, 0, sizeof *s);
	if (p->fast < 1 || p->fast >= p->slow || p->slow > MA_CROSS_MAX_WINDOW)
		return MA_CROSS_E_WINDOW;
	if (p->qty <= 0)
		return MA_CROSS_E_QTY;
	if (p->order_type != FKS_ORD_LIMIT && p->order_type != FKS_ORD_MARKET)
		return MA_CROSS_E_ORDER_TYPE;
	if (p->instrument == 0)
		return MA_CROSS_E_INSTRUMENT;
	s->p = *p;
	return MA_CROSS_OK;
}

const char *ma_cross_strerror(int status)
{
	switch (status) {
	case MA_CROSS_OK: return "ok";
	case MA_CROSS_E_WINDOW: return "windows must satisfy 1 <= fast < slow <= " WINDOW_MAX_TEXT;
	case MA_CROSS_E_QTY: return "order quantity must be > 0";
	case MA_CROSS_E_ORDER_TYPE: return "order type must be limit or market";
	case MA_CROSS_E_INSTRUMENT: return "instrument id must not be 0";
	}
	return "unknown ma_cross status";
}

/* Add one doubled mid; return the sign of fast_avg - slow_avg once the slow
 * window is full, else 2 (no comparison yet). */
static int add_sample(struct ma_cross *s, uint64_t x)
{
	uint32_t slow = s->p.slow, fast = s->p.fast;

	/* The slot about to be overwritten holds sample n - slow, which leaves
	 * the slow window now; sample n - fast leaves the fast window and, as
	 * fast < slow, is still in the ring. */
	if (s->n >= slow)
		s->sum_slow -= s->window[s->pos];
	if (s->n >= fast)
		s->sum_fast -= s->window[s->pos >= fast ? s->pos - fast : s->pos + slow - fast];
	s->window[s->pos] = x;
	s->sum_slow += x;
	s->sum_fast += x;
	s->pos = s->pos + 1 == slow ? 0 : s->pos + 1;
	s->n++;
	s->c.samples++;
	if (s->n < slow)
		return 2;

	/* fast_avg > slow_avg  <=>  sum_fast / fast > sum_slow / slow
	 *                      <=>  sum_fast * slow > sum_slow * fast.
	 * At most 2^12 * 2^12 * 2^64 = 2^88: exact in 128 bits. */
	unsigned __int128 lhs = s->sum_fast * slow, rhs = s->sum_slow * fast;

	return (lhs > rhs) - (lhs < rhs);
}

/* Positions come from outside (fills): saturate rather than overflow. */
static int64_t sat_add(int64_t a, __int128 b)
{
	__int128 r = a + b;

	return r > INT64_MAX ? INT64_MAX : r < INT64_MIN ? INT64_MIN : (int64_t)r;
}

static struct ma_cross_order *find_order(struct ma_cross *s, uint64_t order_id)
{
	if (order_id == 0)
		return NULL;
	for (unsigned i = 0; i < MA_CROSS_MAX_OPEN; i++)
		if (s->open[i].order_id == order_id)
			return &s->open[i];
	return NULL;
}

/* Build the order for a new target position, if one is needed and can be
 * tracked. */
static bool send_toward(struct ma_cross *s, int64_t target, const struct fks_ev_quote *q,
			struct fks_ev_order_new *out)
{
	__int128 want = (__int128)target - ((__int128)s->position + s->pending);

	if (want == 0)
		return false;
	__int128 new_pending = s->pending + want;

	if (want > INT64_MAX || want < -INT64_MAX || new_pending > INT64_MAX ||
	    new_pending < INT64_MIN) {
		s->c.orders_suppressed++;
		return false;
	}

	struct ma_cross_order *slot = NULL;
	for (unsigned i = 0; i < MA_CROSS_MAX_OPEN && !slot; i++)
		if (s->open[i].order_id == 0)
			slot = &s->open[i];
	if (!slot) {
		s->c.orders_suppressed++;
		return false;
	}

	int sign = want > 0 ? 1 : -1;
	int64_t qty = (int64_t)(want > 0 ? want : -want);

	/* q is on this strategy's instrument (ma_cross_on_market checks). */
	struct fks_event_hdr h;
	fks_hdr_from_cause(&h, FKS_EV_ORDER_NEW, FKS_STAGE_STRATEGY, ++s->seq, &q->h);
	fks_build_order_new(out, &h, &(struct fks_order_terms){
		.order_id = s->p.order_id_base + ++s->orders_sent,
		.signal_id = ++s->signal_id,
		.px = sign > 0 ? q->ask_px : q->bid_px,
		.qty = qty,
		.side = sign > 0 ? FKS_SIDE_BUY : FKS_SIDE_SELL,
		.ord_type = s->p.order_type,
		.tif = s->p.order_type == FKS_ORD_MARKET ? FKS_TIF_IOC : FKS_TIF_GTC,
		.strategy = s->p.strategy_id,
	});

	slot->order_id = out->order_id;
	slot->leaves = qty;
	slot->sign = (int8_t)sign;
	s->pending = (int64_t)new_pending;
	s->c.orders++;
	return true;
}

bool ma_cross_on_market(struct ma_cross *s, const union fks_event *md,
			struct fks_ev_order_new *out)
{
	if (md->h.type != FKS_EV_QUOTE || md->h.instrument != s->p.instrument)
		return false;

	const struct fks_ev_quote *q = &md->quote;

	if (q->bid_px <= 0 || q->ask_px <= 0 || q->bid_px > q->ask_px) {
		s->c.bad_quotes++;
		return false;
	}

	/* Both positive, so the sum fits in 64 unsigned bits. */
	int cmp = add_sample(s, (uint64_t)q->bid_px + (uint64_t)q->ask_px);
	if (cmp == 2)
		return false;

	int prev = s->prev_cmp;
	bool had_prev = s->have_prev;

	s->prev_cmp = cmp;
	s->have_prev = true;
	if (!had_prev)
		return false;
	if (prev <= 0 && cmp > 0) {
		s->c.crossovers++;
		return send_toward(s, s->p.qty, q, out);
	}
	if (prev >= 0 && cmp < 0) {
		s->c.crossovers++;
		return send_toward(s, -s->p.qty, q, out);
	}
	return false;
}

/* The order is done: whatever was still open will never fill. */
static void release(struct ma_cross *s, struct ma_cross_order *o)
{
	s->pending -= o->sign * o->leaves;
	memset(o, 0, sizeof *o);
}

void ma_cross_on_exec(struct ma_cross *s, const union fks_event *ev)
{
	struct ma_cross_order *o;

	switch (ev->h.type) {
	case FKS_EV_FILL: {
		o = find_order(s, ev->fill.order_id);
		if (!o)
			break;
		s->c.fills++;
		int64_t qty = ev->fill.qty > 0 ? ev->fill.qty : 0;
		/* The fill happened, whatever we expected: the position takes
		 * all of it, the pending quantity at most what was open. */
		s->position = sat_add(s->position, (__int128)o->sign * qty);
		if (qty > o->leaves) {
			s->c.overfills++;
			qty = o->leaves;
		}
		o->leaves -= qty;
		s->pending -= o->sign * qty;
		if (ev->fill.leaves_qty <= 0 || o->leaves == 0)
			release(s, o);
		return;
	}
	case FKS_EV_ORDER_REJECT:
		o = find_order(s, ev->order_reject.order_id);
		break;
	case FKS_EV_CANCEL_ACK:
		o = find_order(s, ev->cancel_ack.order_id);
		break;
	case FKS_EV_RISK_REJECT:
		o = find_order(s, ev->risk_reject.order_id);
		break;
	case FKS_EV_ORDER_ACK:
		if (!find_order(s, ev->order_ack.order_id))
			s->c.unknown_exec++;
		return;
	default:
		return;
	}
	if (o)
		release(s, o);
	else
		s->c.unknown_exec++;
}
