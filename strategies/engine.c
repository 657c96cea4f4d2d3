/*
 * The signal-to-order engine: see engine.h for the contract.
 */
#include "strategies/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/event_build.h"
#include "shm/fixed.h"

int engine_init(struct engine *e, const struct engine_params *p, engine_emit_fn emit,
		void *user)
{
	memset(e, 0, sizeof *e);
	if (p->equity <= 0 || p->equity_scale > 18 || !emit)
		return -1;
	e->p = *p;
	e->emit = emit;
	e->user = user;
	return 0;
}

void engine_free(struct engine *e)
{
	for (uint32_t i = 0; i < e->n_inst; i++) {
		free(e->inst[i].state);
		e->inst[i].state = NULL;
	}
	e->n_inst = 0;
}

static struct engine_instrument *find_instr(struct engine *e, uint32_t id)
{
	for (uint32_t i = 0; i < e->n_instr; i++)
		if (e->instr[i].id == id)
			return &e->instr[i];
	return NULL;
}

static const struct engine_instrument *find_instr_c(const struct engine *e, uint32_t id)
{
	return find_instr((struct engine *)e, id);
}

const struct engine_inst *engine_instance(const struct engine *e, const char *name)
{
	for (uint32_t i = 0; i < e->n_inst; i++)
		if (strcmp(e->inst[i].name, name) == 0)
			return &e->inst[i];
	return NULL;
}

/* A quantity key at the instrument's qty scale, > 0. */
static int parse_qty(const struct fks_param *p, uint8_t qty_scale, int64_t *out,
		     struct fks_param_error *err)
{
	int rc = fx_parse(p->value, strlen(p->value), qty_scale, out);

	if (rc != FX_OK)
		return fks_param_fail(err, p->key, "%s: '%s' is not a quantity at %u decimals (%s)",
				     p->key, p->value, qty_scale, fx_strerror(rc));
	if (*out <= 0)
		return fks_param_fail(err, p->key, "%s: must be > 0", p->key);
	return 0;
}

/* Take one engine key into *in; 1 if it was one, 0 if not, -1 on error. */
static int engine_param(struct engine *e, struct engine_inst *in, const struct fks_param *p,
			struct fks_param_error *err)
{
	static const char *const gate_modes[] = { "strict", "against" };
	static const char *const sizings[] = { "fixed", "risk", "atr" };
	static const char *const types[] = { "limit", "market" };
	unsigned v;
	uint32_t u;

	if (strcmp(p->key, "min_confidence") == 0)
		return strategy_parse_ppm(p, 0, FKS_CONF_ONE, &in->min_conf, err) ? -1 : 1;
	if (strcmp(p->key, "gate") == 0) {
		const struct engine_inst *g = engine_instance(e, p->value);

		if (!g)
			return fks_param_fail(err, p->key, "gate: no instance '%s' before this one",
					     p->value);
		if (!g->vt->regime)
			return fks_param_fail(err, p->key, "gate: '%s' (%s) is not a regime filter",
					     p->value, g->vt->kind);
		in->gate = (int16_t)(g - e->inst);
		return 1;
	}
	if (strcmp(p->key, "gate_mode") == 0) {
		if (strategy_parse_enum(p, gate_modes, 2, &v, err))
			return -1;
		in->gate_against = v == 1;
		return 1;
	}
	if (strcmp(p->key, "sizing") == 0) {
		if (strategy_parse_enum(p, sizings, 3, &v, err))
			return -1;
		in->sizing.mode = (enum sizing_mode)v;
		return 1;
	}
	if (strcmp(p->key, "risk") == 0)
		return strategy_parse_ppm(p, 100, 100000, &in->sizing.risk_ppm, err) ? -1 : 1;
	if (strcmp(p->key, "fraction") == 0)
		return strategy_parse_ppm(p, 100, 1000000, &in->sizing.fraction_ppm, err) ? -1 : 1;
	if (strcmp(p->key, "atr_mult") == 0)
		return strategy_parse_ppm(p, 100000, 50000000, &in->sizing.atr_mult_ppm, err) ? -1 : 1;
	if (strcmp(p->key, "atr_period") == 0) {
		if (strategy_parse_u32(p, 1, 1000, &u, err))
			return -1;
		ind_atr_init(&e->instr[in->slot_instr].atr, u);
		return 1;
	}
	if (strcmp(p->key, "order_type") == 0) {
		if (strategy_parse_enum(p, types, 2, &v, err))
			return -1;
		in->order_type = v == 1 ? FKS_ORD_MARKET : FKS_ORD_LIMIT;
		return 1;
	}
	if (strcmp(p->key, "max_positions") == 0)
		return strategy_parse_u32(p, 1, ENGINE_MAX_LOTS, &in->max_positions, err) ? -1 : 1;
	if (strcmp(p->key, "lot") == 0)
		return parse_qty(p, in->ctx.qty_scale, &in->sizing.lot, err) ? -1 : 1;
	if (strcmp(p->key, "max_qty") == 0)
		return parse_qty(p, in->ctx.qty_scale, &in->sizing.max_qty, err) ? -1 : 1;
	return 0;
}

int engine_add(struct engine *e, const char *name, const char *kind,
	       const struct strategy_ctx *ctx, const struct fks_param *params,
	       size_t n_params, struct fks_param_error *err)
{
	const struct strategy_vtbl *vt = strategy_find(kind);

	if (!vt)
		return fks_param_fail(err, NULL, "unknown strategy kind '%s'", kind ? kind : "");
	return engine_add_vtbl(e, name, vt, ctx, params, n_params, err);
}

int engine_add_vtbl(struct engine *e, const char *name, const struct strategy_vtbl *vt,
		    const struct strategy_ctx *ctx, const struct fks_param *params,
		    size_t n_params, struct fks_param_error *err)
{
	if (!vt || !vt->init || !vt->on_market || vt->state_size == 0)
		return fks_param_fail(err, NULL, "incomplete strategy table");
	if (!name || !name[0] || strlen(name) >= ENGINE_NAME_MAX)
		return fks_param_fail(err, NULL, "instance name must be 1..%d characters",
				     ENGINE_NAME_MAX - 1);
	if (engine_instance(e, name))
		return fks_param_fail(err, NULL, "instance name '%s' is used twice", name);
	if (e->n_inst == ENGINE_MAX_INSTANCES)
		return fks_param_fail(err, NULL, "more than %d strategy instances",
				     ENGINE_MAX_INSTANCES);
	if (ctx->instrument == 0 || ctx->px_scale > 18 || ctx->qty_scale > 18)
		return fks_param_fail(err, NULL, "%s: instrument id 0 or a scale above 18", name);

	struct engine_instrument *ins = find_instr(e, ctx->instrument);

	if (ins && (ins->px_scale != ctx->px_scale || ins->qty_scale != ctx->qty_scale))
		return fks_param_fail(err, NULL, "%s: instrument %u has other scales elsewhere",
				     name, ctx->instrument);
	if (!ins && e->n_instr == ENGINE_MAX_INSTRUMENTS)
		return fks_param_fail(err, NULL, "more than %d instruments",
				     ENGINE_MAX_INSTRUMENTS);

	/* Work on a copy: a refused instance leaves the engine unchanged. */
	struct engine_inst in;
	struct engine_instrument *slot = ins ? ins : &e->instr[e->n_instr];
	struct engine_instrument saved = *slot;

	memset(&in, 0, sizeof in);
	snprintf(in.name, sizeof in.name, "%s", name);
	in.vt = vt;
	in.ctx = *ctx;
	in.slot_instr = (uint16_t)(slot - e->instr);
	in.gate = -1;
	in.order_type = FKS_ORD_LIMIT;
	in.min_conf = 600000;
	in.max_positions = 1;
	sizing_defaults(&in.sizing);
	in.sizing.equity_scale = e->p.equity_scale;
	in.sizing.px_scale = ctx->px_scale;
	in.sizing.qty_scale = ctx->qty_scale;
	if (!ins) {
		memset(slot, 0, sizeof *slot);
		slot->px_scale = ctx->px_scale;
		slot->qty_scale = ctx->qty_scale;
		ind_atr_init(&slot->atr, 14);
	}

	struct fks_param rest[64];
	size_t n_rest = 0;

	for (size_t i = 0; i < n_params; i++) {
		if (!params[i].key || !params[i].value) {
			*slot = saved;
			return fks_param_fail(err, NULL, "%s: a parameter without key or value", name);
		}
		int rc = engine_param(e, &in, &params[i], err);

		if (rc < 0) {
			*slot = saved;
			return -1;
		}
		if (rc == 0) {
			if (n_rest == sizeof rest / sizeof rest[0]) {
				*slot = saved;
				return fks_param_fail(err, params[i].key, "%s: too many parameters",
						     name);
			}
			rest[n_rest++] = params[i];
		}
	}

	in.state = calloc(1, vt->state_size);
	if (!in.state) {
		*slot = saved;
		return fks_param_fail(err, NULL, "%s: out of memory", name);
	}
	if (vt->init(in.state, ctx, rest, n_rest, err)) {
		free(in.state);
		*slot = saved;
		return -1;
	}
	if (in.sizing.mode == SIZING_ATR)
		slot->atr_wanted = true;
	if (!ins) {
		slot->id = ctx->instrument;
		e->n_instr++;
	}
	e->inst[e->n_inst++] = in;
	return 0;
}

/* ---- output -------------------------------------------------------------- */

/* The header of an order or a cancel that market event md caused: numbered
 * in the engine's one output sequence. */
static struct fks_event_hdr out_hdr(struct engine *e, uint8_t type, const union fks_event *md)
{
	struct fks_event_hdr h;

	fks_hdr_from_cause(&h, type, FKS_STAGE_STRATEGY, ++e->out_seq, &md->h);
	return h;
}

static uint64_t send_order(struct engine *e, const struct engine_inst *in,
			   const union fks_event *md, uint64_t signal_id, uint8_t side, int64_t px,
			   int64_t qty, uint8_t ord_type, uint8_t tif, int64_t tp, int64_t sl)
{
	union fks_event ev;
	struct fks_event_hdr h = out_hdr(e, FKS_EV_ORDER_NEW, md);

	fks_build_order_new(&ev.order_new, &h, &(struct fks_order_terms){
		.order_id = e->p.order_id_base + ++e->orders_sent,
		.signal_id = signal_id,
		.px = px,
		.qty = qty,
		.take_profit_px = tp,
		.stop_loss_px = sl,
		.side = side,
		.ord_type = ord_type,
		.tif = tif,
		.strategy = in->ctx.strategy_id,
	});
	e->emit(e->user, &ev);
	return ev.order_new.order_id;
}

/* ---- brackets ------------------------------------------------------------ */

/* The price a lot on `side` would exit at, from this event. */
static int64_t exit_touch(const union fks_event *md, uint8_t side)
{
	if (md->h.type == FKS_EV_QUOTE)
		return side == FKS_SIDE_BUY ? md->quote.bid_px : md->quote.ask_px;
	return md->trade.px;
}

static void lot_drive_exit(struct engine *e, struct engine_lot *l, const union fks_event *md)
{
	const struct engine_inst *in = &e->inst[l->inst];

	if (l->entry_working && !l->cancel_sent) {
		union fks_event ev;
		struct fks_event_hdr h = out_hdr(e, FKS_EV_ORDER_CANCEL, md);

		fks_build_order_cancel(&ev.order_cancel, &h, l->entry_id, l->signal_id);
		e->emit(e->user, &ev);
		l->cancel_sent = true;
		e->c.cancels++;
	}
	int64_t open = l->filled - l->exited;

	if (l->exit_working || open <= 0 || l->exit_refusals >= ENGINE_EXIT_RETRIES)
		return;
	uint8_t side = l->side == FKS_SIDE_BUY ? FKS_SIDE_SELL : FKS_SIDE_BUY;

	l->exit_id = send_order(e, in, md, l->signal_id, side, exit_touch(md, l->side), open,
				in->order_type, FKS_TIF_IOC, 0, 0);
	l->exit_leaves = open;
	l->exit_working = true;
	e->c.exit_orders++;
}

static void watch_brackets(struct engine *e, struct engine_instrument *ins,
			   const union fks_event *md)
{
	for (unsigned k = 0; k < ENGINE_MAX_LOTS; k++) {
		struct engine_lot *l = &ins->lot[k];

		if (!l->used)
			continue;
		if (l->exit_reason == ENGINE_EXIT_NONE && l->filled > 0) {
			int64_t px = exit_touch(md, l->side);
			bool lng = l->side == FKS_SIDE_BUY;

			if (l->tp && (lng ? px >= l->tp : px <= l->tp)) {
				l->exit_reason = ENGINE_EXIT_TP;
				e->c.exits_tp++;
			} else if (l->sl && (lng ? px <= l->sl : px >= l->sl)) {
				l->exit_reason = ENGINE_EXIT_SL;
				e->c.exits_sl++;
			}
		}
		if (l->exit_reason != ENGINE_EXIT_NONE)
			lot_drive_exit(e, l, md);
	}
}

/* ---- signals ------------------------------------------------------------- */

static bool gate_allows(const struct engine *e, const struct engine_inst *in, uint8_t side)
{
	if (in->gate < 0)
		return true;
	const struct engine_inst *g = &e->inst[in->gate];
	enum strategy_regime r = g->vt->regime(g->state);
	enum strategy_regime with = side == FKS_SIDE_BUY ? STRATEGY_REGIME_BULL : STRATEGY_REGIME_BEAR;
	enum strategy_regime against = side == FKS_SIDE_BUY ? STRATEGY_REGIME_BEAR : STRATEGY_REGIME_BULL;

	return in->gate_against ? r != against : r == with;
}

/* The lot's average entry price, as a rational compare: is px worse (a
 * loss) for a lot on `side` than its average entry? */
static bool lot_losing_at(const struct engine_lot *l, int64_t px)
{
	__int128 lhs, rhs;

	if (l->filled > 0) {
		lhs = (__int128)px * l->filled;
		rhs = l->entry_value;
	} else {
		lhs = px;
		rhs = l->entry_px;
	}
	return l->side == FKS_SIDE_BUY ? lhs < rhs : lhs > rhs;
}

static void on_signal(struct engine *e, uint32_t idx, struct engine_instrument *ins,
		      struct fks_ev_signal *sig, const union fks_event *md)
{
	struct engine_inst *in = &e->inst[idx];

	e->c.signals++;
	if (sig->side != FKS_SIDE_BUY && sig->side != FKS_SIDE_SELL)
		return;
	if (sig->confidence < in->min_conf) {
		e->c.low_confidence++;
		return;
	}
	if (!gate_allows(e, in, sig->side)) {
		e->c.gated++;
		return;
	}
	sig->signal_id = ++e->signal_seq;
	/* The strategy drafted it; the engine numbers it in its output
	 * sequence, keeping the draft's instrument, flags and times. */
	fks_hdr_from_cause_with_flags(&sig->h, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, ++e->out_seq,
				      &sig->h);
	sig->cause_seq = md->h.seq;
	sig->strategy = in->ctx.strategy_id;
	{
		union fks_event ev;

		memset(&ev, 0, sizeof ev);
		ev.signal = *sig;
		e->emit(e->user, &ev);
	}
	e->c.signals_emitted++;

	unsigned same = 0, opposite = 0;
	struct engine_lot *free_lot = NULL;

	for (unsigned k = 0; k < ENGINE_MAX_LOTS; k++) {
		struct engine_lot *l = &ins->lot[k];

		if (!l->used) {
			if (!free_lot)
				free_lot = l;
			continue;
		}
		if (l->side == sig->side)
			same++;
		else
			opposite++;
	}
	if (opposite) {
		for (unsigned k = 0; k < ENGINE_MAX_LOTS; k++) {
			struct engine_lot *l = &ins->lot[k];

			if (l->used && l->side != sig->side && l->exit_reason == ENGINE_EXIT_NONE) {
				l->exit_reason = ENGINE_EXIT_OPPOSITE;
				e->c.exits_opposite++;
				lot_drive_exit(e, l, md);
			}
		}
		return;
	}
	if (same >= in->max_positions) {
		e->c.position_limit++;
		return;
	}
	for (unsigned k = 0; k < ENGINE_MAX_LOTS; k++) {
		const struct engine_lot *l = &ins->lot[k];

		if (l->used && l->side == sig->side && lot_losing_at(l, sig->entry_px)) {
			e->c.averaging_down++;
			return;
		}
	}

	int64_t stop = sig->stop_loss_px, atr = 0;

	if (in->sizing.mode == SIZING_ATR) {
		double a2;

		/* The ATR is kept over doubled mids: halve it, round down. */
		if (ind_atr_value(&ins->atr, &a2) && a2 >= 2.0)
			atr = ind_round_fx(a2) / 2;
		if (atr > 0) {
			__int128 d = (__int128)atr * in->sizing.atr_mult_ppm / 1000000;

			if (d < 1)
				d = 1;
			__int128 s = sig->side == FKS_SIDE_BUY ? sig->entry_px - d : sig->entry_px + d;
			stop = s > 0 && s < INT64_MAX ? (int64_t)s : 1;
		}
	}
	int64_t qty = sizing_qty(&in->sizing, engine_equity(e), sig->entry_px, stop, atr);

	if (qty <= 0) {
		e->c.size_zero++;
		return;
	}
	if (!free_lot) {
		e->c.no_slot++;
		return;
	}

	struct engine_lot *l = free_lot;

	memset(l, 0, sizeof *l);
	l->used = true;
	l->side = sig->side;
	l->inst = (uint16_t)idx;
	l->signal_id = sig->signal_id;
	l->entry_px = sig->entry_px;
	l->tp = sig->take_profit_px;
	l->sl = stop;
	l->entry_leaves = qty;
	l->entry_working = true;
	l->entry_id = send_order(e, in, md, sig->signal_id, sig->side, sig->entry_px, qty,
				 in->order_type,
				 in->order_type == FKS_ORD_MARKET ? FKS_TIF_IOC : FKS_TIF_GTC,
				 l->tp, l->sl);
	e->c.entries++;
}

/* ---- market events ------------------------------------------------------- */

static bool market_valid(const union fks_event *md)
{
	if (md->h.type == FKS_EV_QUOTE)
		return md->quote.bid_px > 0 && md->quote.ask_px > 0 &&
		       md->quote.bid_px <= md->quote.ask_px;
	if (md->h.type == FKS_EV_TRADE)
		return md->trade.px > 0;
	return false;
}

void engine_on_market(struct engine *e, const union fks_event *md)
{
	if (md->h.type != FKS_EV_QUOTE && md->h.type != FKS_EV_TRADE)
		return;
	struct engine_instrument *ins = find_instr(e, md->h.instrument);

	if (!ins)
		return;
	if (!market_valid(md)) {
		e->c.bad_market++;
		return;
	}
	e->c.market_events++;
	if (ins->atr_wanted) {
		int64_t px2 = md->h.type == FKS_EV_QUOTE ? md->quote.bid_px + md->quote.ask_px
							 : 2 * md->trade.px;

		ind_atr_update(&ins->atr, px2, px2, px2);
	}
	watch_brackets(e, ins, md);
	for (uint32_t i = 0; i < e->n_inst; i++) {
		struct engine_inst *in = &e->inst[i];
		struct fks_ev_signal sig;

		if (in->ctx.instrument != md->h.instrument)
			continue;
		if (in->vt->on_market(in->state, md, &sig))
			on_signal(e, i, ins, &sig, md);
	}
}

/* ---- execution reports --------------------------------------------------- */

static struct engine_lot *find_lot(struct engine *e, uint32_t instrument, uint64_t order_id,
				   struct engine_instrument **ins_out, bool *is_entry)
{
	if (order_id == 0)
		return NULL;
	for (uint32_t i = 0; i < e->n_instr; i++) {
		struct engine_instrument *ins = &e->instr[i];

		/* Reports normally name the instrument; search all when not. */
		if (instrument && ins->id != instrument)
			continue;
		for (unsigned k = 0; k < ENGINE_MAX_LOTS; k++) {
			struct engine_lot *l = &ins->lot[k];

			if (!l->used)
				continue;
			if (l->entry_id == order_id || (l->exit_working && l->exit_id == order_id)) {
				*ins_out = ins;
				*is_entry = l->entry_id == order_id;
				return l;
			}
		}
	}
	return NULL;
}

static void lot_maybe_close(struct engine *e, struct engine_instrument *ins, struct engine_lot *l)
{
	if (l->entry_working || l->exit_working || l->filled != l->exited)
		return;
	if (l->filled > 0) {
		__int128 pnl = l->exit_value - l->entry_value;

		ins->realized += l->side == FKS_SIDE_BUY ? pnl : -pnl;
		e->c.lots_closed++;
	}
	memset(l, 0, sizeof *l);
}

void engine_on_exec(struct engine *e, const union fks_event *ev)
{
	struct engine_instrument *ins = NULL;
	struct engine_lot *l;
	bool entry = false;
	uint64_t id;

	switch (ev->h.type) {
	case FKS_EV_FILL: id = ev->fill.order_id; break;
	case FKS_EV_ORDER_ACK: id = ev->order_ack.order_id; break;
	case FKS_EV_ORDER_REJECT: id = ev->order_reject.order_id; break;
	case FKS_EV_CANCEL_ACK: id = ev->cancel_ack.order_id; break;
	case FKS_EV_RISK_REJECT: id = ev->risk_reject.order_id; break;
	default: return;
	}
	l = find_lot(e, ev->h.instrument, id, &ins, &entry);
	if (!l && ev->h.instrument)
		l = find_lot(e, 0, id, &ins, &entry);
	if (!l) {
		e->c.unknown_exec++;
		return;
	}
	int64_t *leaves = entry ? &l->entry_leaves : &l->exit_leaves;
	bool *working = entry ? &l->entry_working : &l->exit_working;

	switch (ev->h.type) {
	case FKS_EV_ORDER_ACK:
		return;
	case FKS_EV_FILL: {
		int64_t q = ev->fill.qty > 0 ? ev->fill.qty : 0;

		e->c.fills++;
		if (q > *leaves) {
			e->c.overfills++;
			/* The fill happened: the position takes all of it. */
		}
		*leaves = q > *leaves ? 0 : *leaves - q;
		if (entry) {
			l->filled += q;
			l->entry_value += (__int128)ev->fill.px * q;
		} else {
			l->exited += q;
			l->exit_value += (__int128)ev->fill.px * q;
			l->exit_refusals = 0;
		}
		if (ev->fill.leaves_qty <= 0 || *leaves == 0)
			*working = false;
		const struct engine_inst *in = &e->inst[l->inst];

		if (in->vt->on_fill)
			in->vt->on_fill(in->state, &ev->fill);
		break;
	}
	case FKS_EV_ORDER_REJECT:
	case FKS_EV_RISK_REJECT:
		e->c.rejects++;
		if (!entry && l->exit_refusals < UINT8_MAX &&
		    ++l->exit_refusals == ENGINE_EXIT_RETRIES)
			e->c.exit_abandoned++;
		*working = false;
		break;
	case FKS_EV_CANCEL_ACK:
		*working = false;
		break;
	}
	lot_maybe_close(e, ins, l);
}

/* ---- queries ------------------------------------------------------------- */

int64_t engine_equity(const struct engine *e)
{
	__int128 eq = e->p.equity;

	for (uint32_t i = 0; i < e->n_instr; i++) {
		const struct engine_instrument *ins = &e->instr[i];
		int shift = (int)ins->px_scale + ins->qty_scale - e->p.equity_scale;
		__int128 v = ins->realized;

		if (shift > 0) {
			__int128 d = 1;

			for (int k = 0; k < shift; k++)
				d *= 10;
			/* floor division, also for losses */
			__int128 q = v / d;

			if (q * d != v && v < 0)
				q--;
			v = q;
		} else {
			for (int k = 0; k < -shift; k++)
				v *= 10;
		}
		eq += v;
	}
	return eq > INT64_MAX ? INT64_MAX : eq < INT64_MIN ? INT64_MIN : (int64_t)eq;
}

int64_t engine_position(const struct engine *e, uint32_t instrument)
{
	const struct engine_instrument *ins = find_instr_c(e, instrument);
	int64_t pos = 0;

	if (!ins)
		return 0;
	for (unsigned k = 0; k < ENGINE_MAX_LOTS; k++) {
		const struct engine_lot *l = &ins->lot[k];

		if (l->used)
			pos += (l->side == FKS_SIDE_BUY ? 1 : -1) * (l->filled - l->exited);
	}
	return pos;
}

unsigned engine_open_lots(const struct engine *e, uint32_t instrument)
{
	const struct engine_instrument *ins = find_instr_c(e, instrument);
	unsigned n = 0;

	for (unsigned k = 0; ins && k < ENGINE_MAX_LOTS; k++)
		n += ins->lot[k].used;
	return n;
}
