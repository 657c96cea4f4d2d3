#include "gateway/risk/risk.h"
#include "shm/fixed.h"

#include <string.h>

_Static_assert((RISK_ORDER_SLOTS & (RISK_ORDER_SLOTS - 1)) == 0, "slots: a power of two");

#define SLOT_MASK (RISK_ORDER_SLOTS - 1u)

static int64_t saturate(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

int risk_init(struct risk *r, const struct risk_params *p)
{
	memset(r, 0, sizeof *r);
	if (p->n_instruments == 0 || p->n_instruments > RISK_MAX_INSTRUMENTS || p->stale_data_ns <= 0)
		return -1;
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		const struct risk_limits *l = &p->instrument[i];

		if (l->id == 0 || l->qty_scale > RISK_MAX_QTY_SCALE || l->max_order_qty <= 0 ||
		    l->max_notional <= 0 || l->max_position < 0)
			return -1;
		for (uint32_t j = 0; j < i; j++)
			if (p->instrument[j].id == l->id)
				return -1;
		r->inst[i].lim = *l;
		r->inst[i].qty_unit = fx_pow10(l->qty_scale);
	}
	r->n_instruments = p->n_instruments;
	r->stale_data_ns = p->stale_data_ns;
	r->kill = p->kill_switch;
	return 0;
}

/* Config ids are index + 1, so the first probe almost always hits; the
 * scan keeps any other numbering correct. */
static int find_instrument(const struct risk *r, uint32_t id)
{
	if (id >= 1 && id <= r->n_instruments && r->inst[id - 1].lim.id == id)
		return (int)(id - 1);
	for (uint32_t i = 0; i < r->n_instruments; i++)
		if (r->inst[i].lim.id == id)
			return (int)i;
	return -1;
}

/* ---- the open-order table ---------------------------------------------
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so probe lengths do not creep up over a long run).  It is
 * only ever looked up by key, never walked to produce output. */

static uint32_t home_slot(uint64_t order_id)
{
	/* Fibonacci hashing: sequential ids spread over the whole table. */
	return (uint32_t)((order_id * 0x9e3779b97f4a7c15ull) >> (64 - __builtin_ctz(RISK_ORDER_SLOTS)));
}

static struct risk_order *find_order(struct risk *r, uint64_t order_id)
{
	for (uint32_t i = home_slot(order_id);; i = (i + 1) & SLOT_MASK) {
		if (r->table[i].order_id == order_id)
			return &r->table[i];
		if (r->table[i].order_id == 0)
			return NULL;
	}
}

/* The caller has checked that the id is absent and the table not full. */
static void insert_order(struct risk *r, const struct risk_order *o)
{
	uint32_t i = home_slot(o->order_id);

	while (r->table[i].order_id != 0)
		i = (i + 1) & SLOT_MASK;
	r->table[i] = *o;
	r->n_open++;
}

static void remove_order(struct risk *r, struct risk_order *o)
{
	uint32_t hole = (uint32_t)(o - r->table);

	for (uint32_t j = (hole + 1) & SLOT_MASK; r->table[j].order_id != 0; j = (j + 1) & SLOT_MASK) {
		uint32_t home = home_slot(r->table[j].order_id);
		/* The entry at j may move into the hole only if its home is
		 * not cyclically within (hole, j]. */
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);

		if (!stays) {
			r->table[hole] = r->table[j];
			hole = j;
		}
	}
	memset(&r->table[hole], 0, sizeof r->table[hole]);
	r->n_open--;
}

/* ---- checks ------------------------------------------------------------ */

static enum fks_risk_reason fail(struct risk *r, enum fks_risk_reason why, int64_t lim, int64_t val,
				 int64_t *limit, int64_t *value)
{
	*limit = lim;
	*value = val;
	r->c.rejected[why]++;
	return why;
}

static bool order_is_well_formed(const struct fks_ev_order_new *o)
{
	return o->h.type == FKS_EV_ORDER_NEW && o->order_id != 0 &&
	       (o->side == FKS_SIDE_BUY || o->side == FKS_SIDE_SELL) &&
	       (o->ord_type == FKS_ORD_LIMIT || o->ord_type == FKS_ORD_MARKET) &&
	       o->tif >= FKS_TIF_DAY && o->tif <= FKS_TIF_FOK && o->qty > 0 && o->px > 0;
}

enum fks_risk_reason risk_check_order(struct risk *r, const struct fks_ev_order_new *o,
				      int64_t now_ns, int64_t *limit, int64_t *value)
{
	r->c.checked++;
	if (r->kill)
		return fail(r, FKS_RISK_KILL_SWITCH, 0, 1, limit, value);

	int idx = order_is_well_formed(o) ? find_instrument(r, o->h.instrument) : -1;
	if (idx < 0 || find_order(r, o->order_id))
		return fail(r, FKS_RISK_BAD_ORDER, 0, 0, limit, value);

	struct risk_instrument *in = &r->inst[idx];

	if (r->feed_stale)
		return fail(r, FKS_RISK_STALE_DATA, 0, 1, limit, value);
	__int128 age = (__int128)now_ns - o->h.recv_time_ns;
	if (age > r->stale_data_ns)
		return fail(r, FKS_RISK_STALE_DATA, r->stale_data_ns, saturate(age), limit, value);

	if (o->qty > in->lim.max_order_qty)
		return fail(r, FKS_RISK_MAX_QTY, in->lim.max_order_qty, o->qty, limit, value);

	/* px * qty / 10^qty_scale <= max_notional, without the division:
	 * both products are below 2^126. */
	__int128 notional_scaled = (__int128)o->px * o->qty;
	if (notional_scaled > (__int128)in->lim.max_notional * in->qty_unit) {
		__int128 ceil = (notional_scaled + in->qty_unit - 1) / in->qty_unit;

		return fail(r, FKS_RISK_MAX_NOTIONAL, in->lim.max_notional, saturate(ceil), limit, value);
	}

	__int128 same_side_open = (__int128)(o->side == FKS_SIDE_BUY ? in->open_buy : in->open_sell) + o->qty;
	__int128 worst = o->side == FKS_SIDE_BUY ? in->position + same_side_open
						 : in->position - same_side_open;
	if (worst < 0)
		worst = -worst;
	/* The second test only matters for a position already far beyond any
	 * limit (saturated fills): open quantities must stay in int64. */
	if (worst > in->lim.max_position || same_side_open > INT64_MAX)
		return fail(r, FKS_RISK_MAX_POSITION, in->lim.max_position, saturate(worst), limit, value);

	if (r->n_open >= RISK_MAX_OPEN_ORDERS)
		return fail(r, FKS_RISK_THROTTLE, RISK_MAX_OPEN_ORDERS, r->n_open, limit, value);

	struct risk_order rec = {
		.order_id = o->order_id,
		.open_qty = o->qty,
		.inst = (uint16_t)idx,
		.side = o->side,
	};
	insert_order(r, &rec);
	if (o->side == FKS_SIDE_BUY)
		in->open_buy += o->qty;
	else
		in->open_sell += o->qty;
	r->c.passed++;
	*limit = 0;
	*value = 0;
	return FKS_RISK_OK;
}

/* ---- execution reports ------------------------------------------------- */

static void release_open(struct risk *r, struct risk_order *o, int64_t qty)
{
	struct risk_instrument *in = &r->inst[o->inst];

	if (o->side == FKS_SIDE_BUY)
		in->open_buy -= qty;
	else
		in->open_sell -= qty;
	o->open_qty -= qty;
}

void risk_on_exec(struct risk *r, const union fks_event *ev)
{
	struct risk_order *o;

	switch (ev->h.type) {
	case FKS_EV_FILL: {
		o = ev->fill.order_id ? find_order(r, ev->fill.order_id) : NULL;
		if (!o) {
			r->c.unknown_exec++;
			return;
		}
		struct risk_instrument *in = &r->inst[o->inst];
		int64_t qty = ev->fill.qty > 0 ? ev->fill.qty : 0;

		r->c.fills++;
		/* The venue says it traded: the position takes all of it,
		 * even beyond what we thought was open. */
		in->position = saturate((__int128)in->position + (o->side == FKS_SIDE_BUY ? qty : -qty));
		if (qty > o->open_qty) {
			r->c.overfills++;
			qty = o->open_qty;
		}
		release_open(r, o, qty);
		if (ev->fill.leaves_qty <= 0 || o->open_qty == 0) {
			release_open(r, o, o->open_qty);
			remove_order(r, o);
		}
		return;
	}
	case FKS_EV_ORDER_REJECT:
	case FKS_EV_CANCEL_ACK:
		/* order_id sits at the same offset in both. */
		o = ev->order_reject.order_id ? find_order(r, ev->order_reject.order_id) : NULL;
		if (!o) {
			r->c.unknown_exec++;
			return;
		}
		r->c.released++;
		release_open(r, o, o->open_qty);
		remove_order(r, o);
		return;
	default:
		return;
	}
}

void risk_set_kill(struct risk *r, bool on)
{
	r->kill = on;
}

void risk_set_feed_stale(struct risk *r, bool stale)
{
	r->feed_stale = stale;
}

void risk_build_reject(const struct fks_ev_order_new *o, enum fks_risk_reason reason,
		       int64_t limit, int64_t value, uint64_t seq,
		       struct fks_ev_risk_reject *out)
{
	memset(out, 0, sizeof *out);
	out->h = o->h;
	out->h.type = FKS_EV_RISK_REJECT;
	out->h.source = FKS_STAGE_RISK;
	out->h.seq = seq;
	out->order_id = o->order_id;
	out->signal_id = o->signal_id;
	out->reason = reason;
	out->limit = limit;
	out->value = value;
}

bool risk_exposure(const struct risk *r, uint32_t instrument, int64_t *position,
		   int64_t *open_buy, int64_t *open_sell)
{
	int i = find_instrument(r, instrument);

	if (i < 0)
		return false;
	*position = r->inst[i].position;
	*open_buy = r->inst[i].open_buy;
	*open_sell = r->inst[i].open_sell;
	return true;
}

uint64_t risk_reject_count(const struct risk *r, enum fks_risk_reason reason)
{
	return (unsigned)reason <= FKS_RISK_BAD_ORDER && reason != FKS_RISK_OK ? r->c.rejected[reason] : 0;
}
