/*
 * The replay core: each market event through the pipeline's own strategy,
 * risk and gateway kernels, run in lockstep in this process
 * (pipeline/runtime/lockstep.h), and what they tap into the sink, the
 * counts and the report.  Pure: no clock, no I/O but the sink.
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

int replay_lockstep_open(const struct replay_setup *s, lockstep_tap_fn tap, void *ctx, struct lockstep **out,
			 char *err, size_t errlen)
{
	struct fks_config *scfg = malloc(sizeof *scfg);
	struct core_venue_setup *vs = malloc(sizeof *vs);
	int rc = -1;
	*out = NULL;
	if (!scfg || !vs) {
		snprintf(err, errlen, "out of memory");
	} else if (strategy_config(s, scfg, err, errlen) == 0) {
		core_venue_setup(vs, s);
		struct lockstep_params p = { .strategy_cfg = scfg, .cfg = &s->cfg, .venue_ctx = &vs->ctx,
					     .venue_params = vs->param, .n_venue_params = vs->n_params,
					     .tap = tap, .ctx = ctx };
		rc = lockstep_open(out, &p, err, errlen);
	}
	free(scfg);
	free(vs);
	return rc;
}

/* What the kernels tap, in the order they make it: counted, followed by
 * the report (fills), and passed to the sink.  An order is owned by its
 * strategy from the moment it is made until it ends: a risk reject, a
 * venue reject, a cancel, the fill that leaves nothing. */
static void core_tap(void *ctx, enum fks_cfg_stage from, const union fks_event *ev)
{
	struct replay_core *c = ctx;
	(void)from;
	switch (ev->h.type) {
	case FKS_EV_ORDER_NEW:
		c->c.orders++;
		owner_put(c, ev->order_new.order_id, ev->order_new.strategy);
		break;
	case FKS_EV_RISK_REJECT: c->c.risk_rejects++; owner_del(c, ev->risk_reject.order_id); break;
	case FKS_EV_APPLIED: c->c.applied++; break;
	case FKS_EV_ORDER_ACK: c->c.acks++; break;
	case FKS_EV_FILL: {
		c->c.fills++;
		uint8_t side = lockstep_order_side(c->ls, ev->fill.order_id);
		int o = owner_find(c, ev->fill.order_id);
		report_on_fill(&c->report, &ev->fill, side, o < 0 ? 0 : c->owner[o].strategy);
		if (ev->fill.leaves_qty == 0)
			owner_del(c, ev->fill.order_id);
		break;
	}
	case FKS_EV_ORDER_REJECT: c->c.venue_rejects++; owner_del(c, ev->order_reject.order_id); break;
	case FKS_EV_CANCEL_ACK: c->c.cancels++; owner_del(c, ev->cancel_ack.order_id); break;
	default: break;
	}
	if (c->sink)
		c->sink(c->ctx, ev);
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
	if (replay_lockstep_open(s, core_tap, c, &c->ls, err, errlen) || core_report_init(c, s, err, errlen)) {
		lockstep_close(c->ls);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int replay_core_market(struct replay_core *c, const union fks_event *md)
{
	if (md->h.type != FKS_EV_QUOTE && md->h.type != FKS_EV_TRADE && md->h.type != FKS_EV_BOOK_DELTA) {
		c->c.skipped++;
		return 0;
	}
	c->c.market++;
	if (c->sink)
		c->sink(c->ctx, md);
	report_on_market(&c->report, md);
	return lockstep_market(c->ls, md);
}

const char *replay_core_error(struct replay_core *c)
{
	return lockstep_error(c->ls);
}

void replay_core_finish(struct replay_core *c)
{
	lockstep_finish(c->ls);
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
	lockstep_close(c->ls); /* first: its taps reach the report */
	report_free(&c->report);
	free(c);
}

