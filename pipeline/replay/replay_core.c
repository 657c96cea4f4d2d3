/*
 * The replay core: one market event through the strategy, risk and the
 * simulated venue, in the order replay.h describes.  Pure: no clock, no
 * I/O but the sink.
 *
 * Every call into gateway/risk is in the "risk" section below and every call
 * into the venue (through its table, gateway/venue.h) in the "venue"
 * section, so that swapping either touches one place.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/replay/replay_int.h"
#include "shm/event_build.h"
#include "shm/fixed.h"

static uint32_t owner_home(uint64_t id)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - 14));
}

static void owner_put(struct replay_core *c, uint64_t id, uint16_t strategy)
{
	if (c->n_owner >= OWNER_SLOTS / 2)
		return; /* reported as strategy 0; cannot happen with the per-instance open limits */
	uint32_t i = owner_home(id);
	while (c->owner[i].order_id && c->owner[i].order_id != id)
		i = (i + 1) & (OWNER_SLOTS - 1);
	if (!c->owner[i].order_id)
		c->n_owner++;
	c->owner[i].order_id = id;
	c->owner[i].strategy = strategy;
}

static int owner_find(const struct replay_core *c, uint64_t id)
{
	for (uint32_t i = owner_home(id);; i = (i + 1) & (OWNER_SLOTS - 1)) {
		if (c->owner[i].order_id == id)
			return (int)i;
		if (!c->owner[i].order_id)
			return -1;
	}
}

static void owner_del(struct replay_core *c, uint64_t id)
{
	int f = owner_find(c, id);
	if (f < 0)
		return;
	uint32_t hole = (uint32_t)f;
	for (uint32_t j = (hole + 1) & (OWNER_SLOTS - 1); c->owner[j].order_id; j = (j + 1) & (OWNER_SLOTS - 1)) {
		uint32_t home = owner_home(c->owner[j].order_id);
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (!stays) {
			c->owner[hole] = c->owner[j];
			hole = j;
		}
	}
	memset(&c->owner[hole], 0, sizeof c->owner[hole]);
	c->n_owner--;
}

static void emit(struct replay_core *c, const union fks_event *ev)
{
	if (c->sink)
		c->sink(c->ctx, ev);
}

static void emit_applied(struct replay_core *c, unsigned stage, uint64_t *seq, uint64_t pos,
			 const union fks_event *rep)
{
	union fks_event m;
	struct fks_event_hdr h;
	memset(&m, 0, sizeof m);
	fks_hdr_from_cause(&h, FKS_EV_APPLIED, stage, ++*seq, &rep->h);
	h.flags = FKS_EVF_REPLAY;
	fks_build_applied(&m.applied, &h, &rep->h, pos);
	c->c.applied++;
	emit(c, &m);
}

/* ---- strategy -------------------------------------------------------------- */

static void strat_out(void *user, const union fks_event *ev)
{
	struct replay_core *c = user;
	if (c->n_out < REPLAY_MAX_OUT)
		c->out[c->n_out++] = *ev;
	else
		c->out_dropped++;
}

void replay_strat_market(struct replay_core *c, const union fks_event *md)
{
	c->n_out = 0;
	signal_logic_on_market(c->sl, md);
}

void replay_strat_exec(struct replay_core *c, const union fks_event *rep)
{
	signal_logic_on_exec(c->sl, rep);
}

/* The config the strategy logic runs: the setup's, with the --strategy
 * specs (if any) in place of its own strategies.  Each spec becomes one
 * instance per instrument, named NAME@SYMBOL; a gate names a spec and is
 * resolved to that spec's instance on the same instrument. */
static int strategy_config(const struct replay_setup *s, struct fks_config *cfg, char *err, size_t errlen)
{
	*cfg = s->cfg;
	if (s->n_specs == 0)
		return 0;
	int64_t equity;
	if (fx_parse(s->equity, strlen(s->equity), 2, &equity) != FX_OK || equity <= 0) {
		snprintf(err, errlen, "equity: '%s' is not a positive amount", s->equity);
		return -1;
	}
	cfg->account.equity_cents = equity;
	cfg->n_strategies = 0;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		/* From the setup's copy: gcc cannot tell that it does not overlap. */
		const struct fks_instrument_cfg *ic = &s->cfg.instrument[i];
		for (uint32_t k = 0; k < s->n_specs; k++) {
			const struct replay_strategy_spec *sp = &s->spec[k];
			if (cfg->n_strategies == FKS_MAX_STRATEGIES) {
				snprintf(err, errlen, "more than %d strategy instances", FKS_MAX_STRATEGIES);
				return -1;
			}
			struct fks_strategy_inst *si = &cfg->strategies[cfg->n_strategies++];
			memset(si, 0, sizeof *si);
			int n = snprintf(si->name, sizeof si->name, "%s@%s", sp->name, ic->symbol);
			if (n < 0 || (size_t)n >= sizeof si->name) {
				snprintf(err, errlen, "strategy %s on %s: name too long", sp->name, ic->symbol);
				return -1;
			}
			snprintf(si->kind, sizeof si->kind, "%s", sp->kind);
			memcpy(si->instrument, ic->symbol, sizeof si->instrument);
			for (uint32_t j = 0; j < sp->n && j < FKS_PARAMS_MAX; j++) {
				snprintf(si->param[j].key, FKS_PARAM_KEY_MAX, "%s", sp->key[j]);
				if (!strcmp(sp->key[j], "gate")) {
					int g = snprintf(si->param[j].value, FKS_PARAM_VALUE_MAX, "%s@%s", sp->val[j],
							 ic->symbol);
					if (g < 0 || g >= FKS_PARAM_VALUE_MAX) {
						snprintf(err, errlen, "strategy %s: gate %s on %s: name too long", sp->name,
							 sp->val[j], ic->symbol);
						return -1;
					}
				} else
					snprintf(si->param[j].value, FKS_PARAM_VALUE_MAX, "%s", sp->val[j]);
			}
			si->n_params = sp->n < FKS_PARAMS_MAX ? sp->n : FKS_PARAMS_MAX;
		}
	}
	return 0;
}

static int core_strategy_init(struct replay_core *c, const struct replay_setup *s, char *err, size_t errlen)
{
	struct fks_config *scfg = malloc(sizeof *scfg);
	c->sl = malloc(sizeof *c->sl);
	if (!scfg || !c->sl || strategy_config(s, scfg, err, errlen) ||
	    signal_logic_init(c->sl, scfg, strat_out, c, err, errlen)) {
		if (!scfg || !c->sl)
			snprintf(err, errlen, "out of memory");
		free(scfg);
		free(c->sl);
		c->sl = NULL;
		return -1;
	}
	free(scfg);
	return 0;
}

/* ---- risk: every call into gateway/risk ------------------------------------ */

static int core_risk_init(struct replay_core *c, const struct fks_config *cfg, char *err, size_t errlen)
{
	struct risk_error rerr;
	if (config_build_risk(cfg, &c->risk, &rerr)) {
		snprintf(err, errlen, "risk: %s", rerr.why.msg);
		return -1;
	}
	return 0;
}

enum fks_risk_reason replay_risk_check(struct replay_core *c, const struct fks_ev_order_new *o, int64_t now,
				       int64_t *limit, int64_t *value)
{
	return risk_check_order(&c->risk, o, now, limit, value);
}

void replay_risk_build_reject(const struct fks_ev_order_new *o, enum fks_risk_reason why, int64_t limit,
			      int64_t value, uint64_t seq, struct fks_ev_risk_reject *out)
{
	risk_build_reject(o, why, limit, value, seq, out);
}

void replay_risk_exec(struct replay_core *c, const union fks_event *rep)
{
	risk_on_exec(&c->risk, rep);
}

void replay_risk_market(struct replay_core *c, const union fks_event *md)
{
	risk_on_market(&c->risk, md);
}

/* ---- reports back to the strategy and risk --------------------------------- */

/* A report reaches the strategy (and, from the venue, risk). */
static void apply_report(struct replay_core *c, const union fks_event *rep, bool to_risk)
{
	replay_strat_exec(c, rep);
	emit_applied(c, FKS_STAGE_STRATEGY, &c->strat_seq, c->strat_pos, rep);
	if (to_risk) {
		replay_risk_exec(c, rep);
		emit_applied(c, FKS_STAGE_RISK, &c->risk_seq, c->risk_pos, rep);
	}
}

/* ---- venue: every call into the venue, through its table -------------------- */

static void venue_emit(void *ctx, const union fks_event *in)
{
	struct replay_core *c = ctx;
	union fks_event ev = *in;

	ev.h.flags |= FKS_EVF_REPLAY;
	switch (ev.h.type) {
	case FKS_EV_ORDER_ACK: c->c.acks++; break;
	case FKS_EV_FILL: {
		c->c.fills++;
		uint8_t side = venue_driver_order_side(&c->venue, ev.fill.order_id);
		int o = owner_find(c, ev.fill.order_id);
		report_on_fill(&c->report, &ev.fill, side, o < 0 ? 0 : c->owner[o].strategy);
		if (ev.fill.leaves_qty == 0)
			owner_del(c, ev.fill.order_id);
		break;
	}
	case FKS_EV_ORDER_REJECT: c->c.venue_rejects++; owner_del(c, ev.order_reject.order_id); break;
	case FKS_EV_CANCEL_ACK: c->c.cancels++; owner_del(c, ev.cancel_ack.order_id); break;
	default: break;
	}
	emit(c, &ev);
	apply_report(c, &ev, true);
}

/* The setup's venue parameters as a venue's init takes them: text
 * key/value pairs.  For the sim venue the setup keeps them as its struct
 * (the --set knobs write it), so they are written back as text here; any
 * other venue gets the config's section as written. */
struct core_venue_setup {
	const char *type;
	struct venue_ctx ctx;
	struct fks_param param[FKS_VENUE_PARAMS_MAX];
	size_t n_params;
	char num[3][16];
};

static void core_venue_setup(struct core_venue_setup *vs, const struct replay_setup *s)
{
	static const char *const fill_text[] = { [SIM_FILL_TOUCH] = "touch", [SIM_FILL_NONE] = "none",
						 [SIM_FILL_QUEUE] = "queue" };
	const struct sim_venue_params *sp = &s->venue;

	memset(vs, 0, sizeof *vs);
	vs->type = s->cfg.venue.type;
	if (strcmp(vs->type, "sim") != 0) {
		config_venue_ctx(&s->cfg, &vs->ctx);
		vs->n_params = config_venue_params(&s->cfg, vs->param);
		return;
	}
	vs->ctx.n_instruments = sp->n_instruments;
	memcpy(vs->ctx.instrument, sp->instrument, sizeof vs->ctx.instrument);
	/* Any other fill value is passed on as text the venue refuses. */
	const char *fill = sp->fill < sizeof fill_text / sizeof fill_text[0] && fill_text[sp->fill] ?
				   fill_text[sp->fill] : "?";
	snprintf(vs->num[0], sizeof vs->num[0], "%" PRIu32, sp->latency_us);
	snprintf(vs->num[1], sizeof vs->num[1], "%" PRIu32, sp->slippage_bps);
	snprintf(vs->num[2], sizeof vs->num[2], "%" PRIu32, sp->slippage_ticks);
	vs->param[vs->n_params++] = (struct fks_param){ "fill", fill };
	vs->param[vs->n_params++] = (struct fks_param){ "latency_us", vs->num[0] };
	vs->param[vs->n_params++] = (struct fks_param){ "slippage_bps", vs->num[1] };
	vs->param[vs->n_params++] = (struct fks_param){ "slippage_ticks", vs->num[2] };
}

/* Replay is a pure function of its input: a venue that answers later, from
 * sockets or timers, cannot be replayed and is refused. */
static int core_venue_init(struct replay_core *c, const struct replay_setup *s, char *err, size_t errlen)
{
	struct core_venue_setup vs;
	struct fks_param_error verr = { .key = NULL };

	core_venue_setup(&vs, s);
	const struct venue_vtbl *vt = venue_find(vs.type);
	if (!vt) {
		snprintf(err, errlen, "venue type '%s': not in the venue registry", s->cfg.venue.type);
		return -1;
	}
	if (venue_driver_open(&c->venue, vt, &vs.ctx, vs.param, vs.n_params, venue_emit, c, &verr)) {
		snprintf(err, errlen, "%s venue: %s%s%s", vt->type, verr.key ? verr.key : "", verr.key ? ": " : "",
			 verr.msg);
		return -1;
	}
	if (!venue_driver_is_sync(&c->venue)) {
		venue_driver_close(&c->venue);
		snprintf(err, errlen, "%s venue: it answers from sockets or timers, which replay cannot reproduce",
			 vt->type);
		return -1;
	}
	return 0;
}

/* The venue sees the market event, then what risk passed (pass[i] for
 * c->out[i]).  The reports it emits are applied at once, and may make the
 * strategy answer nothing here: it answers market events only. */
/* Out of line: its copy array is a large stack frame that most market
 * events, which carry no order, should not pay to set up. */
static __attribute__((noinline)) void core_venue_orders(struct replay_core *c, unsigned n, const bool *pass)
{
	union fks_event passed[REPLAY_MAX_OUT];
	unsigned np = 0;
	for (unsigned i = 0; i < n; i++)
		if (pass[i])
			passed[np++] = c->out[i];
	for (unsigned i = 0; i < np; i++)
		venue_driver_order(&c->venue, &passed[i]);
}

static void core_venue_step(struct replay_core *c, const union fks_event *md, unsigned n, const bool *pass)
{
	venue_driver_market(&c->venue, md);
	if (n)
		core_venue_orders(c, n, pass);
}

static void core_venue_cancel_all(struct replay_core *c)
{
	venue_driver_cancel_all(&c->venue);
}

/* ---- the core -------------------------------------------------------------- */

/* No message when the report parameters cannot be allocated: as before. */
static int core_report_init(struct replay_core *c, const struct replay_setup *s, char *err, size_t errlen)
{
	const struct fks_config *cfg = &s->cfg;
	struct report_params *pp = calloc(1, sizeof *pp);
	if (!pp)
		return -1;
	pp->fee_ppm = s->fee_ppm;
	pp->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		pp->instrument[i].id = cfg->instrument[i].id;
		memcpy(pp->instrument[i].symbol, cfg->instrument[i].symbol, FKS_SYMBOL_MAX);
		pp->instrument[i].px_scale = cfg->instrument[i].px_scale;
		pp->instrument[i].qty_scale = cfg->instrument[i].qty_scale;
	}
	int rc = report_init(&c->report, pp);
	free(pp);
	if (rc) {
		snprintf(err, errlen, "report: out of memory");
		return -1;
	}
	return 0;
}

int replay_core_new(struct replay_core **out, const struct replay_setup *s, replay_sink_fn sink, void *ctx,
		    char *err, size_t errlen)
{
	struct replay_core *c = calloc(1, sizeof *c);

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->s = *s;
	c->sink = sink;
	c->ctx = ctx;
	if (core_strategy_init(c, s, err, errlen) || core_risk_init(c, &s->cfg, err, errlen) ||
	    core_venue_init(c, s, err, errlen) || core_report_init(c, s, err, errlen)) {
		venue_driver_close(&c->venue);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* The strategy's answer to md, numbered in the stage's one sequence
 * (markers included) and emitted.  Returns how many events it sent. */
static unsigned core_strategy_step(struct replay_core *c, const union fks_event *md)
{
	c->strat_pos++;
	replay_strat_market(c, md);
	unsigned n = c->n_out;
	for (unsigned i = 0; i < n; i++) {
		union fks_event *o = &c->out[i];
		o->h.seq = ++c->strat_seq;
		o->h.flags |= FKS_EVF_REPLAY;
		c->c.orders += o->h.type == FKS_EV_ORDER_NEW;
		emit(c, o);
	}
	return n;
}

/* Risk sees the market event, then each strategy event after it (signals
 * stay in the strategy stage: they go to the journal, not to risk).
 * pass[i]: c->out[i] goes on to the venue; a rejected order's risk reject
 * is emitted and applied to the strategy at once. */
static void core_risk_step(struct replay_core *c, const union fks_event *md, unsigned n, bool *pass)
{
	c->risk_pos++;
	replay_risk_market(c, md);
	for (unsigned i = 0; i < n; i++) {
		union fks_event *o = &c->out[i];
		if (o->h.type == FKS_EV_SIGNAL) {
			pass[i] = false;
			continue;
		}
		c->risk_pos++;
		pass[i] = o->h.type == FKS_EV_ORDER_CANCEL || o->h.type == FKS_EV_ORDER_REPLACE;
		if (o->h.type != FKS_EV_ORDER_NEW)
			continue;
		int64_t limit = 0, value = 0;
		enum fks_risk_reason why = replay_risk_check(c, &o->order_new, o->h.recv_time_ns, &limit, &value);
		if (why == FKS_RISK_OK) {
			pass[i] = true;
			owner_put(c, o->order_new.order_id, o->order_new.strategy);
		} else {
			union fks_event rej;
			memset(&rej, 0, sizeof rej);
			replay_risk_build_reject(&o->order_new, why, limit, value, ++c->risk_seq, &rej.risk_reject);
			c->c.risk_rejects++;
			emit(c, &rej);
			apply_report(c, &rej, false);
		}
	}
}

void replay_core_market(struct replay_core *c, const union fks_event *md)
{
	if (md->h.type != FKS_EV_QUOTE && md->h.type != FKS_EV_TRADE && md->h.type != FKS_EV_BOOK_DELTA) {
		c->c.skipped++;
		return;
	}
	c->c.market++;
	emit(c, md);
	report_on_market(&c->report, md);

	unsigned n = core_strategy_step(c, md);
	bool pass[REPLAY_MAX_OUT];
	core_risk_step(c, md, n, pass);

	core_venue_step(c, md, n, pass);
}

void replay_core_finish(struct replay_core *c)
{
	core_venue_cancel_all(c);
	report_finish(&c->report);
}

const struct report *replay_core_report(const struct replay_core *c)
{
	return &c->report;
}

void replay_core_counts(const struct replay_core *c, struct replay_counts *out)
{
	*out = c->c;
}

void replay_core_free(struct replay_core *c)
{
	if (!c)
		return;
	report_free(&c->report);
	venue_driver_close(&c->venue);
	if (c->sl) {
		signal_logic_free(c->sl);
		free(c->sl);
	}
	free(c);
}

