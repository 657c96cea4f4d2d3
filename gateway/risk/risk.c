/*
 * The rule runner: the chain, the books it keeps for the rules to read, and
 * the open orders (records in the one order model, found through the one
 * shm/index).
 */
#include "gateway/risk/risk.h"
#include "gateway/risk/rules.h"
#include "shm/event_build.h"
#include "shm/fixed.h"

#include <string.h>

_Static_assert((RISK_ORDER_SLOTS & (RISK_ORDER_SLOTS - 1)) == 0, "slots: a power of two");
_Static_assert(RISK_ORDER_SLOTS >= 2 * RISK_MAX_OPEN_ORDERS, "open-order index: at most half full");
_Static_assert(RISK_MAX_INSTRUMENTS <= UINT16_MAX, "risk_order.inst is 16 bits");

#define N_PINNED_HEAD 3  /* kill_switch, bad_order, feed_dead */

/* ---- set-up ------------------------------------------------------------- */

static int setup_instruments(struct risk *r, uint32_t n, const struct risk_instrument_def *defs)
{
	if (n == 0 || n > RISK_MAX_INSTRUMENTS)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const struct risk_instrument_def *d = &defs[i];
		if (d->id == 0 || d->qty_scale > RISK_MAX_QTY_SCALE || d->px_scale > RISK_MAX_QTY_SCALE)
			return -1;
		for (uint32_t j = 0; j < i; j++)
			if (defs[j].id == d->id)
				return -1;
		r->def[i] = *d;
		r->book[i].qty_unit = fx_pow10(d->qty_scale);
		position_init(&r->book[i].position);
	}
	r->n_instruments = n;
	return 0;
}

/* Every record free, the index empty.  The sizes are constants checked
 * above, so index_init cannot fail. */
static void open_orders_init(struct risk *r)
{
	for (uint32_t i = 0; i < RISK_MAX_OPEN_ORDERS; i++)
		r->free_rec[i] = RISK_MAX_OPEN_ORDERS - 1 - i;
	r->n_free = RISK_MAX_OPEN_ORDERS;
	(void)index_init(&r->open, RISK_MAX_OPEN_ORDERS, r->open_slot, RISK_ORDER_SLOTS);
}

/* Append a rule and give it zeroed state; its state, or NULL when full. */
static void *chain_add(struct risk *r, const struct risk_rule_vtbl *vt)
{
	size_t size = (vt->state_size + 15u) & ~(size_t)15u;
	if (r->n_chain == RISK_MAX_RULES || size > RISK_RULE_ARENA - r->arena_used)
		return NULL;
	if (vt->on_market)
		r->market_rule[r->n_market_rules++] = (uint8_t)r->n_chain;
	r->chain[r->n_chain++] = (struct risk_chain_link){ vt, r->arena_used };
	void *state = r->arena + r->arena_used;
	r->arena_used += (uint32_t)size;
	return state;
}

static void chain_head(struct risk *r)
{
	chain_add(r, &risk_rule_kill_switch);
	chain_add(r, &risk_rule_bad_order);
	chain_add(r, &risk_rule_feed_dead);
}

static int setup_fail(struct risk_error *err, uint32_t rule, const char *key, const char *msg)
{
	err->rule = rule;
	return fks_param_fail(&err->why, key, "%s", msg);
}

int risk_init_rules(struct risk *r, const struct risk_setup *s, struct risk_error *err)
{
	memset(r, 0, sizeof *r);
	open_orders_init(r);
	if (setup_instruments(r, s->n_instruments, s->instrument))
		return setup_fail(err, s->n_rules, NULL, "the instruments are out of range");
	if (s->n_rules > RISK_MAX_RULES - N_PINNED_HEAD - 1)
		return setup_fail(err, s->n_rules, NULL, "too many rules");
	struct risk_rule_ctx ctx = { .n_instruments = r->n_instruments, .instrument = r->def,
				     .equity = s->equity, .equity_scale = s->equity_scale };
	chain_head(r);
	for (uint32_t i = 0; i < s->n_rules; i++) {
		const struct risk_rule_spec *spec = &s->rule[i];
		const struct risk_rule_vtbl *vt = risk_rule_find(spec->name);
		if (!vt)
			return setup_fail(err, i, NULL, "unknown rule");
		if (vt->pinned)
			return setup_fail(err, i, NULL, "always applied, in a fixed place: it cannot be listed");
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(s->rule[k].name, spec->name))
				return setup_fail(err, i, NULL, "listed twice");
		void *state = chain_add(r, vt);
		if (!state)
			return setup_fail(err, i, NULL, "the rules need more state than the runner holds");
		err->rule = i;
		if (spec->n_params > RISK_MAX_RULE_PARAMS ||
		    vt->init(state, &ctx, spec->param, spec->n_params, &err->why))
			return -1;
	}
	chain_add(r, &risk_rule_throttle);
	r->equity = s->equity;
	r->kill = s->kill_switch;
	return 0;
}

int risk_init(struct risk *r, const struct risk_params *p)
{
	memset(r, 0, sizeof *r);
	open_orders_init(r);
	if (p->n_instruments == 0 || p->n_instruments > RISK_MAX_INSTRUMENTS || p->stale_data_ns <= 0)
		return -1;
	struct risk_instrument_def defs[RISK_MAX_INSTRUMENTS];
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		const struct risk_limits *l = &p->instrument[i];
		if (l->max_order_qty <= 0 || l->max_notional <= 0 || l->max_position < 0)
			return -1;
		defs[i] = (struct risk_instrument_def){ .id = l->id, .qty_scale = l->qty_scale };
	}
	if (setup_instruments(r, p->n_instruments, defs))
		return -1;
	chain_head(r);
	struct rule_stale_state *stale = chain_add(r, &risk_rule_stale_data);
	struct rule_limit_state *qty = chain_add(r, &risk_rule_max_order_qty);
	struct rule_limit_state *notional = chain_add(r, &risk_rule_max_notional);
	struct rule_limit_state *position = chain_add(r, &risk_rule_max_position);
	chain_add(r, &risk_rule_throttle);
	stale->max_age_ns = p->stale_data_ns;
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		qty->limit[i] = p->instrument[i].max_order_qty;
		notional->limit[i] = p->instrument[i].max_notional;
		position->limit[i] = p->instrument[i].max_position;
	}
	r->kill = p->kill_switch;
	return 0;
}

/* Config ids are index + 1, so the first probe almost always hits; the
 * scan keeps any other numbering correct. */
static int find_instrument(const struct risk *r, uint32_t id)
{
	if (id >= 1 && id <= r->n_instruments && r->def[id - 1].id == id)
		return (int)(id - 1);
	for (uint32_t i = 0; i < r->n_instruments; i++)
		if (r->def[i].id == id)
			return (int)i;
	return -1;
}

/* ---- the open orders ----------------------------------------------------
 * A record per open order, found by id through the index, which is only
 * ever looked up by key, never walked to produce output.  The throttle rule
 * refuses an order once RISK_MAX_OPEN_ORDERS are open, so a record and an
 * index entry are always there for one that passes. */

static struct risk_order *find_order(struct risk *r, uint64_t order_id)
{
	uint32_t rec;

	return index_get(&r->open, order_id, &rec) == INDEX_OK ? &r->order[rec] : NULL;
}

static void insert_order(struct risk *r, const struct fks_ev_order_new *o, int inst)
{
	uint32_t rec = r->free_rec[--r->n_free];
	struct risk_order *ro = &r->order[rec];

	order_submit(&ro->ord, o->order_id, o->h.instrument, o->side, o->ord_type, o->tif, o->px, o->qty);
	ro->inst = (uint16_t)inst;
	(void)index_put(&r->open, o->order_id, rec);
	r->n_open = index_count(&r->open);
}

static void remove_order(struct risk *r, struct risk_order *o)
{
	uint32_t rec;

	if (index_del(&r->open, o->ord.order_id, &rec) == INDEX_OK)
		r->free_rec[r->n_free++] = rec;
	r->n_open = index_count(&r->open);
}

/* ---- the chain --------------------------------------------------------- */

static void *rule_state(struct risk *r, const struct risk_chain_link *l)
{
	return r->arena + l->state_off;
}

static void view_of(const struct risk *r, int inst, int64_t now_ns, struct risk_view *v)
{
	*v = (struct risk_view){
		.now_ns = now_ns, .equity = r->equity, .n_open = r->n_open, .kill = r->kill,
		.feed_stale = r->feed_stale, .inst = inst,
		.def = inst >= 0 ? &r->def[inst] : NULL, .book = inst >= 0 ? &r->book[inst] : NULL,
	};
}

static void track_order(struct risk *r, const struct fks_ev_order_new *o, int idx)
{
	insert_order(r, o, idx);
	if (o->side == FKS_SIDE_BUY)
		r->book[idx].open_buy += o->qty;
	else
		r->book[idx].open_sell += o->qty;
}

enum fks_risk_reason risk_check_order(struct risk *r, const struct fks_ev_order_new *o,
				      int64_t now_ns, int64_t *limit, int64_t *value)
{
	r->c.checked++;
	struct risk_view v;
	view_of(r, find_instrument(r, o->h.instrument), now_ns, &v);
	/* Order id 0 is never a key: bad_order refuses it anyway. */
	v.already_open = o->order_id != 0 && find_order(r, o->order_id) != NULL;
	for (uint32_t i = 0; i < r->n_chain; i++) {
		const struct risk_chain_link *l = &r->chain[i];
		enum fks_risk_reason why = l->vt->check(rule_state(r, l), &v, o, limit, value);
		if (why != FKS_RISK_OK) {
			if ((unsigned)why < FKS_RISK_REASON_COUNT)
				r->c.rejected[why]++;
			return why;
		}
	}
	track_order(r, o, v.inst);
	r->c.passed++;
	*limit = 0;
	*value = 0;
	return FKS_RISK_OK;
}

/* ---- market data and execution reports --------------------------------- */

void risk_on_market(struct risk *r, const union fks_event *md)
{
	int idx = find_instrument(r, md->h.instrument);
	if (idx < 0)
		return;
	if (md->h.type == FKS_EV_TRADE && md->trade.px > 0)
		r->book[idx].mark_px = md->trade.px;
	else if (md->h.type == FKS_EV_QUOTE && md->quote.bid_px > 0 && md->quote.ask_px > 0)
		/* both sides > 0, so their sum fits 64 unsigned bits: no 128-bit
		 * arithmetic on a path every market event takes */
		r->book[idx].mark_px = (int64_t)(((uint64_t)md->quote.bid_px + (uint64_t)md->quote.ask_px) >> 1);
	else
		return;
	for (uint32_t k = 0; k < r->n_market_rules; k++) {
		const struct risk_chain_link *l = &r->chain[r->market_rule[k]];
		l->vt->on_market(rule_state(r, l), md);
	}
}

/* Take qty out of the instrument's open buys or sells. */
static void release_open(struct risk *r, const struct risk_order *o, int64_t qty)
{
	struct risk_book *b = &r->book[o->inst];

	if (o->ord.side == FKS_SIDE_BUY)
		b->open_buy -= qty;
	else
		b->open_sell -= qty;
}

/*
 * The order is over (the venue said so): release what is still open and
 * forget it.  in (a reject, or a cancel ack for the remainder) takes the
 * model to a final state; when the model refuses it (say a reject after a
 * fill) the refusal is counted in order_errors and the order ends all the
 * same: risk ends whatever order an exec report says is done.
 */
static void end_order(struct risk *r, struct risk_order *o, enum order_input in)
{
	release_open(r, o, o->ord.leaves);
	if (!order_is_final((enum order_state)o->ord.state))
		(void)order_apply(&o->ord, in, 0, &r->order_errors);
	remove_order(r, o);
}

static void apply_fill(struct risk *r, struct risk_order *o, const struct fks_ev_fill *f)
{
	struct risk_book *b = &r->book[o->inst];
	int64_t qty = f->qty > 0 ? f->qty : 0;

	r->c.fills++;
	/* The venue says it traded: the position takes all of it, even beyond
	 * what we thought was open.  A fill the position module refuses (px < 0,
	 * qty <= 0, a position beyond int64) leaves it as it was: counted, never
	 * clamped, so the position is always the exact sum of accepted fills. */
	if (position_on_fill(&b->position, o->ord.side, f->px, f->qty, 0))
		r->c.bad_fills++;
	/* The order model refuses a fill above the leaves: count the overfill
	 * and fill what was open. */
	if (qty > o->ord.leaves) {
		r->c.overfills++;
		qty = o->ord.leaves;
	}
	if (qty > 0) {
		release_open(r, o, qty);
		(void)order_apply(&o->ord, ORDER_IN_FILL, qty, &r->order_errors);
	}
	/* The venue's leaves end the order even if ours say more is open: what
	 * it will not fill is canceled. */
	if (f->leaves_qty <= 0 || o->ord.leaves == 0)
		end_order(r, o, ORDER_IN_CANCEL_ACK);
}

/* Rules see the report after the books have moved. */
static void exec_to_rules(struct risk *r, const union fks_event *ev, int inst)
{
	struct risk_view v;
	view_of(r, inst, 0, &v);
	for (uint32_t i = 0; i < r->n_chain; i++)
		if (r->chain[i].vt->on_exec)
			r->chain[i].vt->on_exec(rule_state(r, &r->chain[i]), ev, &v);
}

void risk_on_exec(struct risk *r, const union fks_event *ev)
{
	if (ev->h.type != FKS_EV_FILL && ev->h.type != FKS_EV_ORDER_REJECT && ev->h.type != FKS_EV_CANCEL_ACK)
		return;
	/* order_id sits at the same offset in all three. */
	_Static_assert(offsetof(struct fks_ev_fill, order_id) == offsetof(struct fks_ev_order_reject, order_id),
		       "fill and order_reject: order_id at the same offset");
	_Static_assert(offsetof(struct fks_ev_cancel_ack, order_id) == offsetof(struct fks_ev_order_reject, order_id),
		       "cancel_ack and order_reject: order_id at the same offset");
	uint64_t id = ev->order_reject.order_id;
	struct risk_order *o = id ? find_order(r, id) : NULL;
	if (!o) {
		r->c.unknown_exec++;
		return;
	}
	int inst = o->inst;
	if (ev->h.type == FKS_EV_FILL) {
		apply_fill(r, o, &ev->fill);
	} else {
		r->c.released++;
		end_order(r, o, ev->h.type == FKS_EV_ORDER_REJECT ? ORDER_IN_REJECT : ORDER_IN_CANCEL_ACK);
	}
	exec_to_rules(r, ev, inst);
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
	struct fks_event_hdr h;

	/* The reject speaks for its order: it keeps the order's flags (replay). */
	fks_hdr_from_cause_with_flags(&h, FKS_EV_RISK_REJECT, FKS_STAGE_RISK, seq, &o->h);
	fks_build_risk_reject(out, &h, o->order_id, o->signal_id, reason, limit, value);
}

bool risk_exposure(const struct risk *r, uint32_t instrument, int64_t *position,
		   int64_t *open_buy, int64_t *open_sell)
{
	int i = find_instrument(r, instrument);

	if (i < 0)
		return false;
	*position = r->book[i].position.qty;
	*open_buy = r->book[i].open_buy;
	*open_sell = r->book[i].open_sell;
	return true;
}

uint64_t risk_reject_count(const struct risk *r, enum fks_risk_reason reason)
{
	return (unsigned)reason < FKS_RISK_REASON_COUNT && reason != FKS_RISK_OK ? r->c.rejected[reason] : 0;
}
