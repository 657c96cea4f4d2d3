/*
 * fks replay: the core (pure), the inputs, --verify, --sweep and the CLI.
 * See replay.h for the core's contract and docs/replay.md for the command.
 */
#include "pipeline/replay/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/fixed.h"
#include "pipeline/journal/journal.h"
#include "strategies/engine.h"
#include "strategies/impl/ma_cross.h"
#include "pipeline/runtime/feed_source.h"
#include "pipeline/runtime/signal_logic.h"
#include "gateway/risk/risk.h"
#include "gateway/venues/sim/sim_ops.h"

#include <jsmn.h>

/* ---- setup --------------------------------------------------------------- */

void replay_setup_from_config(struct replay_setup *s, const struct fks_config *cfg)
{
	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	struct venue_param vp[FKS_VENUE_PARAMS_MAX];
	struct venue_error verr;
	/* The loader ran these through the sim venue's init (check_venue). */
	(void)sim_venue_parse_params(&s->venue, vp, config_venue_params(cfg, vp), &verr);
	s->venue.n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++)
		s->venue.instrument[i] = cfg->instrument[i].id;
	s->fee_ppm = REPORT_DEFAULT_FEE_PPM;
	snprintf(s->equity, sizeof s->equity, "100000");
}

static struct fks_strategy_inst *config_strategy_named(struct fks_config *cfg, const char *name, size_t len)
{
	for (uint32_t i = 0; i < cfg->n_strategies; i++)
		if (strlen(cfg->strategies[i].name) == len && !memcmp(cfg->strategies[i].name, name, len))
			return &cfg->strategies[i];
	return NULL;
}

/* Set (or add) one parameter of a config strategy: the engine checks it
 * when the replay starts, exactly as the loader would have. */
static int config_strategy_set(struct fks_strategy_inst *si, const char *key, const char *val, char *err,
			       size_t errlen)
{
	if (!*key || !*val || strlen(key) >= FKS_PARAM_KEY_MAX || strlen(val) >= FKS_PARAM_VALUE_MAX) {
		snprintf(err, errlen, "%s.%s: key or value empty or too long", si->name, key);
		return -1;
	}
	uint32_t i = 0;
	while (i < si->n_params && strcmp(si->param[i].key, key))
		i++;
	if (i == si->n_params) {
		if (si->n_params == FKS_PARAMS_MAX) {
			snprintf(err, errlen, "%s: too many parameters", si->name);
			return -1;
		}
		snprintf(si->param[si->n_params++].key, FKS_PARAM_KEY_MAX, "%s", key);
	}
	snprintf(si->param[i].value, FKS_PARAM_VALUE_MAX, "%s", val);
	return 0;
}

static struct replay_strategy_spec *spec_named(struct replay_setup *s, const char *name, size_t len)
{
	for (uint32_t i = 0; i < s->n_specs; i++)
		if (strlen(s->spec[i].name) == len && !memcmp(s->spec[i].name, name, len))
			return &s->spec[i];
	return NULL;
}

static int spec_set(struct replay_strategy_spec *sp, const char *key, const char *val, char *err, size_t errlen)
{
	if (!*key || strlen(key) >= sizeof sp->key[0] || strlen(val) >= sizeof sp->val[0] || !*val) {
		snprintf(err, errlen, "%s.%s: key or value empty or too long", sp->name, key);
		return -1;
	}
	for (uint32_t i = 0; i < sp->n; i++)
		if (!strcmp(sp->key[i], key)) {
			snprintf(sp->val[i], sizeof sp->val[i], "%s", val);
			return 0;
		}
	if (sp->n == REPLAY_MAX_PARAMS) {
		snprintf(err, errlen, "%s: more than %d parameters", sp->name, REPLAY_MAX_PARAMS);
		return -1;
	}
	snprintf(sp->key[sp->n], sizeof sp->key[0], "%s", key);
	snprintf(sp->val[sp->n], sizeof sp->val[0], "%s", val);
	sp->n++;
	return 0;
}

int replay_setup_add_strategy(struct replay_setup *s, const char *text, char *err, size_t errlen)
{
	if (s->n_specs == REPLAY_MAX_SPECS) {
		snprintf(err, errlen, "--strategy: at most %d", REPLAY_MAX_SPECS);
		return -1;
	}
	struct replay_strategy_spec *sp = &s->spec[s->n_specs];
	memset(sp, 0, sizeof *sp);
	const char *colon = strchr(text, ':');
	size_t kl = colon ? (size_t)(colon - text) : strlen(text);
	if (kl == 0 || kl >= sizeof sp->kind) {
		snprintf(err, errlen, "--strategy %s: expected KIND[:key=value,...]", text);
		return -1;
	}
	char kind[24];
	memcpy(kind, text, kl);
	kind[kl] = 0;
	memcpy(sp->kind, kind, sizeof kind);
	if (!strategy_find(kind)) {
		snprintf(err, errlen, "--strategy %s: unknown strategy kind '%s'", text, kind);
		return -1;
	}
	memcpy(sp->name, kind, sizeof kind);
	for (unsigned k = 2; k < 10 && spec_named(s, sp->name, strlen(sp->name)); k++)
		snprintf(sp->name, sizeof sp->name, "%.16s#%u", kind, k % 10u);
	if (colon) {
		char buf[512];
		snprintf(buf, sizeof buf, "%s", colon + 1);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(t, '=');
			if (!eq) {
				snprintf(err, errlen, "--strategy %s: '%s' is not key=value", text, t);
				return -1;
			}
			*eq = 0;
			if (spec_set(sp, t, eq + 1, err, errlen))
				return -1;
		}
	}
	s->n_specs++;
	return 0;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	if (!*v || *v == '-' || *v == '+')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*out = x;
	return 0;
}

int replay_setup_set(struct replay_setup *s, const char *key, const char *value, char *err, size_t errlen)
{
	uint64_t u = 0;
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
	if (!strcmp(key, "fast") || !strcmp(key, "slow")) {
		if (parse_u64(value, MA_CROSS_MAX_WINDOW, &u) || u == 0)
			BAD("%s: '%s' is not a window 1..%u", key, value, MA_CROSS_MAX_WINDOW);
		if (key[0] == 'f')
			s->cfg.strategy.fast = (uint32_t)u;
		else
			s->cfg.strategy.slow = (uint32_t)u;
	} else if (!strcmp(key, "order_type")) {
		if (!strcmp(value, "limit"))
			s->cfg.strategy.order_type = FKS_ORD_LIMIT;
		else if (!strcmp(value, "market"))
			s->cfg.strategy.order_type = FKS_ORD_MARKET;
		else
			BAD("order_type: '%s' is not limit or market", value);
	} else if (!strcmp(key, "fill")) {
		if (!strcmp(value, "touch"))
			s->venue.fill = SIM_FILL_TOUCH;
		else if (!strcmp(value, "queue"))
			s->venue.fill = SIM_FILL_QUEUE;
		else if (!strcmp(value, "none"))
			s->venue.fill = SIM_FILL_NONE;
		else
			BAD("fill: '%s' is not touch, queue or none", value);
	} else if (!strcmp(key, "latency_us")) {
		if (parse_u64(value, SIM_VENUE_MAX_LATENCY_US, &u))
			BAD("latency_us: '%s' is not 0..%u", value, SIM_VENUE_MAX_LATENCY_US);
		s->venue.latency_us = (uint32_t)u;
	} else if (!strcmp(key, "slippage_bps")) {
		if (parse_u64(value, SIM_VENUE_MAX_SLIPPAGE_BPS, &u))
			BAD("slippage_bps: '%s' is not 0..%u", value, SIM_VENUE_MAX_SLIPPAGE_BPS);
		s->venue.slippage_bps = (uint32_t)u;
	} else if (!strcmp(key, "slippage_ticks")) {
		if (parse_u64(value, 1000000000u, &u))
			BAD("slippage_ticks: '%s' is not 0..1000000000", value);
		s->venue.slippage_ticks = (uint32_t)u;
	} else if (!strcmp(key, "fee_ppm")) {
		if (parse_u64(value, 1000000u, &u))
			BAD("fee_ppm: '%s' is not 0..1000000", value);
		s->fee_ppm = (uint32_t)u;
	} else if (!strcmp(key, "equity")) {
		int64_t v;
		if (fx_parse(value, strlen(value), 2, &v) != FX_OK || v <= 0 || strlen(value) >= sizeof s->equity)
			BAD("equity: '%s' is not a positive amount with at most 2 decimals", value);
		snprintf(s->equity, sizeof s->equity, "%s", value);
	} else if (strchr(key, '.')) {
		const char *dot = strchr(key, '.');
		struct replay_strategy_spec *sp = spec_named(s, key, (size_t)(dot - key));
		if (sp)
			return spec_set(sp, dot + 1, value, err, errlen);
		struct fks_strategy_inst *si = config_strategy_named(&s->cfg, key, (size_t)(dot - key));
		if (!si)
			BAD("unknown key '%s': no --strategy or config strategy named '%.*s'", key, (int)(dot - key), key);
		return config_strategy_set(si, dot + 1, value, err, errlen);
	} else {
		BAD("unknown key '%s' (known: fast, slow, order_type, fill, latency_us, slippage_bps, "
		    "slippage_ticks, fee_ppm, equity, NAME.key)", key);
	}
#undef BAD
	return 0;
}

/* The single `strategy` crossover runs: no specs, and no config strategies. */
static bool uses_crossover(const struct replay_setup *s)
{
	return s->n_specs == 0 && s->cfg.n_strategies == 0;
}

/* ---- the core ------------------------------------------------------------ */

#define REPLAY_MAX_OUT 64 /* strategy events per market event: signal, entry, exits, cancels */
#define OWNER_SLOTS 16384u /* order id -> strategy; open orders only, <= 1/2 full */

struct owner_slot {
	uint64_t order_id;
	uint16_t strategy;
};

struct replay_core {
	struct replay_setup s;
	replay_sink_fn sink;
	void *ctx;
	struct signal_logic *sl;       /* the live strategy stage's own logic */
	union fks_event out[REPLAY_MAX_OUT]; /* the strategy's answer to one event */
	unsigned n_out;
	uint64_t out_dropped;
	struct risk risk;
	struct sim_venue venue;
	struct report report;
	uint64_t strat_seq, risk_seq;
	uint64_t strat_pos, risk_pos;  /* main-input events consumed */
	struct owner_slot owner[OWNER_SLOTS];
	uint32_t n_owner;
	struct replay_counts c;
};

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
	memset(&m, 0, sizeof m);
	m.h.type = FKS_EV_APPLIED;
	m.h.source = (uint8_t)stage;
	m.h.flags = FKS_EVF_REPLAY;
	m.h.instrument = rep->h.instrument;
	m.h.seq = ++*seq;
	m.h.event_time_ns = rep->h.event_time_ns;
	m.h.recv_time_ns = rep->h.recv_time_ns;
	m.applied.applied_seq = rep->h.seq;
	m.applied.input_pos = pos;
	m.applied.applied_source = rep->h.source;
	m.applied.applied_type = rep->h.type;
	c->c.applied++;
	emit(c, &m);
}

static void strat_out(void *user, const union fks_event *ev)
{
	struct replay_core *c = user;
	if (c->n_out < REPLAY_MAX_OUT)
		c->out[c->n_out++] = *ev;
	else
		c->out_dropped++;
}

/* The strategy stage's logic on one market event: its outputs (signals,
 * orders, cancels) land in c->out[0 .. c->n_out), unnumbered. */
static void strat_market(struct replay_core *c, const union fks_event *md)
{
	c->n_out = 0;
	signal_logic_on_market(c->sl, md);
}

static void strat_exec(struct replay_core *c, const union fks_event *rep)
{
	signal_logic_on_exec(c->sl, rep);
}

/* A report reaches the strategy (and, from the venue, risk). */
static void apply_report(struct replay_core *c, const union fks_event *rep, bool to_risk)
{
	strat_exec(c, rep);
	emit_applied(c, FKS_STAGE_STRATEGY, &c->strat_seq, c->strat_pos, rep);
	if (to_risk) {
		risk_on_exec(&c->risk, rep);
		emit_applied(c, FKS_STAGE_RISK, &c->risk_seq, c->risk_pos, rep);
	}
}

static void venue_emit(void *ctx, const union fks_event *in)
{
	struct replay_core *c = ctx;
	union fks_event ev = *in;

	ev.h.flags |= FKS_EVF_REPLAY;
	switch (ev.h.type) {
	case FKS_EV_ORDER_ACK: c->c.acks++; break;
	case FKS_EV_FILL: {
		c->c.fills++;
		uint8_t side = FKS_SIDE_NONE;
		sim_venue_order_side(&c->venue, ev.fill.order_id, &side);
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

int replay_core_new(struct replay_core **out, const struct replay_setup *s, replay_sink_fn sink, void *ctx,
		    char *err, size_t errlen)
{
	struct replay_core *c = calloc(1, sizeof *c);
	const struct fks_config *cfg = &s->cfg;

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->s = *s;
	c->sink = sink;
	c->ctx = ctx;
	struct fks_config *scfg = malloc(sizeof *scfg);
	c->sl = malloc(sizeof *c->sl);
	if (!scfg || !c->sl || strategy_config(s, scfg, err, errlen) ||
	    signal_logic_init(c->sl, scfg, strat_out, c, err, errlen)) {
		if (!scfg || !c->sl)
			snprintf(err, errlen, "out of memory");
		free(scfg);
		free(c->sl);
		free(c);
		return -1;
	}
	free(scfg);
	struct risk_params *rp = calloc(1, sizeof *rp);
	if (!rp) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rp->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		rp->instrument[i] = (struct risk_limits){
			.id = ic->id,
			.qty_scale = ic->qty_scale,
			.max_order_qty = ic->max_order_qty,
			.max_notional = ic->max_notional,
			.max_position = ic->max_position,
		};
	}
	rp->stale_data_ns = (int64_t)cfg->risk.stale_data_ms * 1000000;
	rp->kill_switch = cfg->risk.kill_switch;
	int rc = risk_init(&c->risk, rp);
	free(rp);
	if (rc) {
		snprintf(err, errlen, "risk: invalid limits");
		free(c);
		return -1;
	}
	if (sim_venue_init(&c->venue, &s->venue)) {
		snprintf(err, errlen, "simulated venue: invalid parameters");
		free(c);
		return -1;
	}
	struct report_params *pp = calloc(1, sizeof *pp);
	if (!pp) {
		free(c);
		return -1;
	}
	pp->fee_ppm = s->fee_ppm;
	pp->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		pp->instrument[i].id = cfg->instrument[i].id;
		memcpy(pp->instrument[i].symbol, cfg->instrument[i].symbol, FKS_SYMBOL_MAX);
		pp->instrument[i].px_scale = cfg->instrument[i].px_scale;
		pp->instrument[i].qty_scale = cfg->instrument[i].qty_scale;
	}
	rc = report_init(&c->report, pp);
	free(pp);
	if (rc) {
		snprintf(err, errlen, "report: out of memory");
		free(c);
		return -1;
	}
	*out = c;
	return 0;
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

	/* strategy */
	c->strat_pos++;
	strat_market(c, md);
	unsigned n = c->n_out;
	bool pass[REPLAY_MAX_OUT];
	for (unsigned i = 0; i < n; i++) {
		union fks_event *o = &c->out[i];
		o->h.seq = ++c->strat_seq; /* one sequence for the stage, markers included */
		o->h.flags |= FKS_EVF_REPLAY;
		c->c.orders += o->h.type == FKS_EV_ORDER_NEW;
		emit(c, o);
	}

	/* risk: the event, then each strategy event after it (signals stay in
	 * the strategy stage: they go to the journal, not to risk) */
	c->risk_pos++;
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
		enum fks_risk_reason why =
			risk_check_order(&c->risk, &o->order_new, o->h.recv_time_ns, &limit, &value);
		if (why == FKS_RISK_OK) {
			pass[i] = true;
			owner_put(c, o->order_new.order_id, o->order_new.strategy);
		} else {
			union fks_event rej;
			memset(&rej, 0, sizeof rej);
			risk_build_reject(&o->order_new, why, limit, value, ++c->risk_seq, &rej.risk_reject);
			c->c.risk_rejects++;
			emit(c, &rej);
			apply_report(c, &rej, false);
		}
	}

	/* venue: the event, then what risk passed.  The reports it emits are
	 * applied at once, and may make the strategy answer nothing here: it
	 * answers market events only. */
	sim_venue_on_market(&c->venue, md, venue_emit, c);
	union fks_event passed[REPLAY_MAX_OUT];
	unsigned np = 0;
	for (unsigned i = 0; i < n; i++)
		if (pass[i])
			passed[np++] = c->out[i];
	for (unsigned i = 0; i < np; i++)
		sim_venue_on_order(&c->venue, &passed[i], venue_emit, c);
}

void replay_core_finish(struct replay_core *c)
{
	sim_venue_cancel_all(&c->venue, venue_emit, c);
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
	if (c->sl) {
		signal_logic_free(c->sl);
		free(c->sl);
	}
	free(c);
}

/* ---- inputs ---------------------------------------------------------------
 * A journal directory (its market events, in journal order), a recording in
 * replay's own JSON-lines format (dec_jsonl, one event per line), or a venue
 * recording read through pipeline/feed_source exactly as `fks run` reads
 * it (IN_VENUE). */

enum { IN_JOURNAL = 1, IN_RECORDING = 2, IN_VENUE = 3 };

enum rec_error {
	REC_BAD_JSON, REC_MISSING_FIELD, REC_BAD_NUMBER, REC_BAD_SIDE, REC_UNKNOWN_SYMBOL, REC_LINE_TOO_LONG,
	REC_ERROR_COUNT
};
static const char *const rec_error_name[REC_ERROR_COUNT] = {
	"bad_json", "missing_field", "bad_number", "bad_side", "unknown_symbol", "line_too_long",
};

struct input;
typedef int (*decode_fn)(struct input *in, const char *msg, size_t len);

struct replay_decoder {
	const char *name;
	decode_fn decode;       /* NULL: known venue, decoder not built in yet */
};

#define QUEUE_MAX 8

struct input {
	int kind;
	const char *path;
	struct journal_reader *jr;
	const struct journal_meta *meta;
	FILE *f;
	char *line;
	size_t line_cap;
	const struct replay_decoder *dec;
	const struct fks_config *cfg;
	bool touch_from_trades;
	uint64_t seq, lines, corrupt;
	uint64_t err[REC_ERROR_COUNT];
	union fks_event q[QUEUE_MAX];
	unsigned qn, qi;
	/* IN_VENUE: a venue recording read by the feed stage's own source
	 * (transport + decoder); one message can make hundreds of events (a
	 * book snapshot), so they queue in a buffer that grows. */
	struct feed_source *src;
	struct feed_symtab *symbols;
	union fks_event *vq;
	size_t vq_n, vq_i, vq_cap;
	bool vq_oom;
};

static int dec_jsonl(struct input *in, const char *msg, size_t len);

/* jsonl is replay's own trade/quote format; the venues' recordings go
 * through pipeline/feed_source (decode NULL here), exactly as `fks run`
 * reads them. */
static const struct replay_decoder decoders[] = {
	{ "jsonl", dec_jsonl },
	{ "itch", NULL }, { "binance", NULL }, { "bybit", NULL }, { "coinbase", NULL }, { "kraken", NULL },
	{ NULL, NULL },
};

static void venue_push(void *ctx, const union fks_event *ev)
{
	struct input *in = ctx;
	if (in->vq_n == in->vq_cap) {
		size_t cap = in->vq_cap ? 2 * in->vq_cap : 1024;
		union fks_event *q = realloc(in->vq, cap * sizeof *q);
		if (!q) {
			in->vq_oom = true;
			return;
		}
		in->vq = q;
		in->vq_cap = cap;
	}
	union fks_event *e = &in->vq[in->vq_n++];
	*e = *ev;
	e->h.source = FKS_STAGE_FEED;
	e->h.seq = ++in->seq; /* as the feed stage numbers them */
}

/* Open a venue recording with the config's instruments as a fixed symbol
 * table, so ids are the config's, as in `fks run`. */
static int venue_open(struct input *in, const char *venue, char *err, size_t errlen)
{
	const struct fks_config *cfg = in->cfg;
	struct fks_feed_cfg fc = cfg->feed;
	fc.type = feed_source_type_parse(venue);
	fc.source = FKS_SOURCE_FILE;
	snprintf(fc.path, sizeof fc.path, "%s", in->path);
	snprintf(fc.speed, sizeof fc.speed, "asap"); /* replay paces by event time itself */
	in->symbols = malloc(sizeof *in->symbols);
	if (!in->symbols) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	feed_symtab_init(in->symbols, false, 0, 0);
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		if (feed_symtab_add(in->symbols, ic->symbol, strlen(ic->symbol), ic->px_scale, ic->qty_scale) != ic->id) {
			snprintf(err, errlen, "instrument %s: cannot enter it in the symbol table", ic->symbol);
			return -1;
		}
	}
	in->src = feed_source_open(&fc, in->symbols, err, errlen);
	return in->src ? 0 : -1;
}

static void in_push(struct input *in, const union fks_event *ev)
{
	if (in->qn < QUEUE_MAX)
		in->q[in->qn++] = *ev;
}

static bool tok_is(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);
	return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n && !memcmp(js + t->start, s, n);
}

/* A value token as number text: a string or a bare primitive. */
static int tok_fixed(const char *js, const jsmntok_t *t, unsigned scale, int64_t *out)
{
	if (t->type != JSMN_STRING && t->type != JSMN_PRIMITIVE)
		return -1;
	return fx_parse(js + t->start, (size_t)(t->end - t->start), scale, out) == FX_OK ? 0 : -1;
}

/*
 * One JSON object per line (docs/replay.md):
 *   {"ts": NS, "price": P, "qty": Q, "side": "buy"|"sell"|"b"|"s"[, "symbol": S]}   a trade
 *   {"ts": NS, "bid": P, "bid_qty": Q, "ask": P, "ask_qty": Q[, "symbol": S]}       a quote
 * ts is integer ns since the epoch; numbers may be quoted.  Without symbol:
 * the config's first instrument.
 */
static int dec_jsonl(struct input *in, const char *msg, size_t len)
{
	jsmn_parser p;
	jsmntok_t t[32];
	const jsmntok_t *ts = NULL, *px = NULL, *qty = NULL, *side = NULL, *sym = NULL, *bid = NULL, *ask = NULL,
			*bq = NULL, *aq = NULL;

	jsmn_init(&p);
	int n = jsmn_parse(&p, msg, len, t, 32);
	if (n < 1 || t[0].type != JSMN_OBJECT) {
		in->err[REC_BAD_JSON]++;
		return -1;
	}
	for (int i = 1; i + 1 < n; i += 2) {
		const jsmntok_t *k = &t[i], *v = &t[i + 1];
		if (k->type != JSMN_STRING || v->type == JSMN_OBJECT || v->type == JSMN_ARRAY) {
			in->err[REC_BAD_JSON]++;
			return -1;
		}
		if (tok_is(msg, k, "ts")) ts = v;
		else if (tok_is(msg, k, "price")) px = v;
		else if (tok_is(msg, k, "qty")) qty = v;
		else if (tok_is(msg, k, "side")) side = v;
		else if (tok_is(msg, k, "symbol")) sym = v;
		else if (tok_is(msg, k, "bid")) bid = v;
		else if (tok_is(msg, k, "ask")) ask = v;
		else if (tok_is(msg, k, "bid_qty")) bq = v;
		else if (tok_is(msg, k, "ask_qty")) aq = v;
	}
	bool is_quote = bid || ask;
	if (!ts || (is_quote ? !(bid && ask && bq && aq) : !(px && qty && side))) {
		in->err[REC_MISSING_FIELD]++;
		return -1;
	}
	int idx = 0;
	if (sym) {
		char name[FKS_SYMBOL_MAX + 1];
		size_t sl = (size_t)(sym->end - sym->start);
		if (sym->type != JSMN_STRING || sl >= sizeof name) {
			in->err[REC_UNKNOWN_SYMBOL]++;
			return -1;
		}
		memcpy(name, msg + sym->start, sl);
		name[sl] = 0;
		idx = config_find_instrument(in->cfg, name);
		if (idx < 0) {
			in->err[REC_UNKNOWN_SYMBOL]++;
			return -1;
		}
	}
	const struct fks_instrument_cfg *ic = &in->cfg->instrument[idx];
	int64_t t_ns;
	if (tok_fixed(msg, ts, 0, &t_ns) || t_ns < 0) {
		in->err[REC_BAD_NUMBER]++;
		return -1;
	}
	union fks_event ev;
	memset(&ev, 0, sizeof ev);
	ev.h.source = FKS_STAGE_FEED;
	ev.h.instrument = ic->id;
	ev.h.event_time_ns = t_ns;
	if (is_quote) {
		ev.h.type = FKS_EV_QUOTE;
		if (tok_fixed(msg, bid, ic->px_scale, &ev.quote.bid_px) ||
		    tok_fixed(msg, ask, ic->px_scale, &ev.quote.ask_px) ||
		    tok_fixed(msg, bq, ic->qty_scale, &ev.quote.bid_qty) ||
		    tok_fixed(msg, aq, ic->qty_scale, &ev.quote.ask_qty)) {
			in->err[REC_BAD_NUMBER]++;
			return -1;
		}
		ev.h.seq = ++in->seq;
		in_push(in, &ev);
		return 0;
	}
	ev.h.type = FKS_EV_TRADE;
	if (tok_fixed(msg, px, ic->px_scale, &ev.trade.px) || tok_fixed(msg, qty, ic->qty_scale, &ev.trade.qty) ||
	    ev.trade.px <= 0 || ev.trade.qty <= 0) {
		in->err[REC_BAD_NUMBER]++;
		return -1;
	}
	if (tok_is(msg, side, "buy") || tok_is(msg, side, "b"))
		ev.trade.aggressor = FKS_SIDE_BUY;
	else if (tok_is(msg, side, "sell") || tok_is(msg, side, "s"))
		ev.trade.aggressor = FKS_SIDE_SELL;
	else {
		in->err[REC_BAD_SIDE]++;
		return -1;
	}
	ev.trade.trade_id = in->lines;
	ev.h.seq = ++in->seq;
	in_push(in, &ev);
	if (in->touch_from_trades) {
		/* The last trade as the touch, with unlimited depth: every order
		 * fills in full at the last price (the "simple fill rule"). */
		union fks_event q;
		memset(&q, 0, sizeof q);
		q.h = ev.h;
		q.h.type = FKS_EV_QUOTE;
		q.h.seq = ++in->seq;
		q.quote.bid_px = q.quote.ask_px = ev.trade.px;
		q.quote.bid_qty = q.quote.ask_qty = INT64_MAX / 4;
		in_push(in, &q);
	}
	return 0;
}

/* The next market event: 1, 0 at the end, -1 on an error that ends it. */
static int input_next(struct input *in, union fks_event *ev, char *err, size_t errlen)
{
	for (;;) {
		if (in->qi < in->qn) {
			*ev = in->q[in->qi++];
			return 1;
		}
		in->qi = in->qn = 0;
		if (in->kind == IN_VENUE) {
			if (in->vq_i < in->vq_n) {
				*ev = in->vq[in->vq_i++];
				return 1;
			}
			in->vq_i = in->vq_n = 0;
			int rc = feed_source_poll(in->src, venue_push, in, 64, 0);
			if (in->vq_oom) {
				snprintf(err, errlen, "%s: out of memory", in->path);
				return -1;
			}
			if (rc == FEED_SOURCE_END && in->vq_n == 0)
				return 0;
			if (rc < 0 && rc != FEED_SOURCE_END) {
				snprintf(err, errlen, "%s: %s", in->path, feed_source_error(in->src));
				return -1;
			}
			continue;
		}
		if (in->kind == IN_JOURNAL) {
			struct journal_record rec;
			int rc = journal_read(in->jr, &rec);
			if (rc == 0)
				return 0;
			if (rc == JOURNAL_E_CORRUPT) {
				in->corrupt++;
				continue;
			}
			if (rc < 0) {
				snprintf(err, errlen, "%s: %s", in->path, journal_reader_error(in->jr));
				return -1;
			}
			unsigned ty = rec.ev.h.type;
			if (ty == FKS_EV_QUOTE || ty == FKS_EV_TRADE || ty == FKS_EV_BOOK_DELTA) {
				*ev = rec.ev;
				return 1;
			}
			continue;
		}
		ssize_t n = getline(&in->line, &in->line_cap, in->f);
		if (n < 0)
			return 0;
		in->lines++;
		while (n > 0 && (in->line[n - 1] == '\n' || in->line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if (n > 4096) {
			in->err[REC_LINE_TOO_LONG]++;
			continue;
		}
		in->dec->decode(in, in->line, (size_t)n);
	}
}

static void input_close(struct input *in)
{
	if (in->src)
		feed_source_close(in->src);
	free(in->symbols);
	free(in->vq);
	if (in->jr)
		journal_reader_close(in->jr);
	if (in->f)
		fclose(in->f);
	free(in->line);
	memset(in, 0, sizeof *in);
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Open the input and settle the config: -c if given, else the journal's
 * own, else the default.  cfg must stay valid while in is used. */
static int input_open(struct input *in, const char *path, const char *venue, const char *config_path,
		      bool touch_from_trades, struct fks_config *cfg, char *err, size_t errlen)
{
	memset(in, 0, sizeof *in);
	in->path = path;
	in->touch_from_trades = touch_from_trades;
	in->cfg = cfg;
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (is_dir(path)) {
		if (venue) {
			snprintf(err, errlen, "%s: --venue is for recordings, this is a directory (a journal?)", path);
			return -1;
		}
		in->kind = IN_JOURNAL;
		if (journal_open_reader(path, &in->jr, err, errlen) != JOURNAL_OK)
			return -1;
		in->meta = journal_reader_meta(in->jr);
	} else {
		const char *v = venue ? venue : "jsonl";
		for (const struct replay_decoder *d = decoders; d->name; d++)
			if (!strcmp(d->name, v))
				in->dec = d;
		if (!in->dec) {
			snprintf(err, errlen, "--venue %s: unknown format (known: jsonl, itch, binance, bybit, coinbase, kraken)", v);
			return -1;
		}
		if (in->dec->decode) {
			in->kind = IN_RECORDING;
			in->f = fopen(path, "r");
			if (!in->f) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				return -1;
			}
		} else {
			in->kind = IN_VENUE; /* opened once the config is known */
		}
	}
	int rc;
	if (config_path)
		rc = config_load_file(config_path, cfg, err, errlen);
	else if (in->meta && in->meta->config_len > 0)
		rc = config_load_string(in->meta->config, in->meta->config_len, path, cfg, err, errlen);
	else
		rc = config_load_default(cfg, err, errlen);
	if (rc || (in->kind == IN_VENUE && venue_open(in, venue, err, errlen))) {
		input_close(in);
		return -1;
	}
	return 0;
}

static void input_print_errors(const struct input *in, FILE *f)
{
	for (int i = 0; i < REC_ERROR_COUNT; i++)
		if (in->err[i])
			fprintf(f, "replay: %s: %" PRIu64 " lines skipped: %s\n", in->path, in->err[i], rec_error_name[i]);
	if (in->corrupt)
		fprintf(f, "replay: %s: %" PRIu64 " corrupt records skipped\n", in->path, in->corrupt);
}

/* ---- one replay ------------------------------------------------------------ */

enum speed_mode { SPEED_ASAP = 0, SPEED_REAL = 1 };

struct opts {
	const char *input, *venue, *config, *out, *report_dir;
	int speed;
	double speed_x;
	bool verify, touch_from_trades, quiet;
	const char *rank;
	int n_sweep;
	struct sweep_axis {
		char key[64];
		char *vals[64];
		int n;
	} sweep[8];
	int n_set;
	char *set_key[32], *set_val[32];
	int n_strategy;
	const char *strategy[REPLAY_MAX_SPECS];
};

struct out_sink {
	struct journal *j;
	const struct journal_meta *meta_src;
	struct journal_meta *meta;
	const char *dir;
	int err;
	char msg[512];
	uint64_t since_commit;
};

static void out_sink_fn(void *ctx, const union fks_event *ev)
{
	struct out_sink *o = ctx;
	if (o->err)
		return;
	int rc = journal_append(o->j, ev, NULL, 0);
	if (rc == JOURNAL_OK && ++o->since_commit >= 65536) {
		o->since_commit = 0;
		rc = journal_commit(o->j);
	}
	if (rc != JOURNAL_OK) {
		o->err = rc;
		snprintf(o->msg, sizeof o->msg, "%s: %s", o->dir, journal_error(o->j));
	}
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Pacing only: wall time decides when an event is fed, never what is in it. */
static void pace(const struct opts *o, int64_t *t0_wall, int64_t *t0_ev, int64_t ev_ns)
{
	if (o->speed == SPEED_ASAP)
		return;
	if (*t0_wall == 0) {
		*t0_wall = mono_ns();
		*t0_ev = ev_ns;
		return;
	}
	double due = (double)(ev_ns - *t0_ev) / o->speed_x;
	int64_t target = *t0_wall + (int64_t)due;
	int64_t now = mono_ns();
	if (target > now) {
		struct timespec ts = { .tv_sec = (time_t)(target / 1000000000), .tv_nsec = (long)(target % 1000000000) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void safe_title(const char *path, char *out, size_t cap)
{
	const char *b = strrchr(path, '/');
	b = b && b[1] ? b + 1 : path;
	size_t k = 0;
	for (; *b && k + 1 < cap; b++)
		out[k++] = (*b == '"' || *b == '\\' || *b == '<' || *b == '>' || *b == '&' || (unsigned char)*b < 32) ? '_' : *b;
	out[k] = 0;
}

/*
 * Replay o->input with setup s.  With out/report as in o.  *m gets the total
 * metrics.  Returns 0, or 1 with the message printed.
 */
static int run_one(const struct opts *o, const struct replay_setup *s_in, struct input *in,
		   struct report_metrics *m, bool print)
{
	char err[512] = "";
	struct replay_core *core = NULL;
	struct out_sink sink = { .dir = o->out };
	int rc = 1;

	if (o->out) {
		sink.meta = calloc(1, sizeof *sink.meta);
		if (!sink.meta)
			return 1;
		journal_meta_from_config(sink.meta, &s_in->cfg, "fks-replay");
		/* No wall clock and no host name: the same replay writes the
		 * same metadata. */
		snprintf(sink.meta->host, sizeof sink.meta->host, "replay");
		sink.meta->start_time_ns = in->meta && in->meta->start_time_ns ? in->meta->start_time_ns : 1;
		struct journal_options jo = { .sync = FKS_SYNC_NOMETASYNC, .batch_hint = 65536 };
		if (journal_create(o->out, sink.meta, &jo, &sink.j, err, sizeof err) != JOURNAL_OK) {
			fprintf(stderr, "replay: --out %s\n", err);
			free(sink.meta);
			return 1;
		}
	}
	if (replay_core_new(&core, s_in, o->out ? out_sink_fn : NULL, &sink, err, sizeof err)) {
		fprintf(stderr, "replay: %s\n", err);
		goto done;
	}
	union fks_event ev;
	int64_t t0_wall = 0, t0_ev = 0;
	int got;
	while ((got = input_next(in, &ev, err, sizeof err)) == 1) {
		pace(o, &t0_wall, &t0_ev, ev.h.event_time_ns);
		replay_core_market(core, &ev);
		if (sink.err)
			break;
	}
	if (got < 0) {
		fprintf(stderr, "replay: %s\n", err);
		goto done;
	}
	replay_core_finish(core);
	if (sink.err) {
		fprintf(stderr, "replay: --out %s\n", sink.msg);
		goto done;
	}
	if (sink.j) {
		int jr = journal_close(sink.j);
		sink.j = NULL;
		if (jr != JOURNAL_OK) {
			fprintf(stderr, "replay: --out %s: %s\n", o->out, journal_strerror(jr));
			goto done;
		}
	}
	const struct report *rep = replay_core_report(core);
	report_metrics(rep, -1, 0, m);
	if (o->report_dir) {
		char title[256];
		safe_title(o->input, title, sizeof title);
		if (report_write(rep, o->report_dir, title, err, sizeof err)) {
			fprintf(stderr, "replay: --report %s\n", err);
			goto done;
		}
	}
	if (print) {
		struct replay_counts c;
		replay_core_counts(core, &c);
		input_print_errors(in, stderr);
		printf("market events %" PRIu64 "  orders %" PRIu64 "  risk rejects %" PRIu64 "  fills %" PRIu64
		       "  cancels %" PRIu64 "  venue rejects %" PRIu64 "\n",
		       c.market, c.orders, c.risk_rejects, c.fills, c.cancels, c.venue_rejects);
		printf("trades %" PRIu64 " (open %" PRIu64 ")  win rate %.2f%%  gross %.6f  fees %.6f  net %.6f\n",
		       m->trades, m->open_trades, m->win_rate * 100, m->gross, m->fees, m->net);
		printf("sharpe %.4f  sortino %.4f  calmar %.4f  max drawdown %.6f  exposure %.2f%%  turnover %.6f\n",
		       m->sharpe, m->sortino, m->calmar, m->max_drawdown, m->exposure * 100, m->turnover);
		for (uint32_t i = 0; i < rep->p.n_instruments; i++) {
			__int128 fees, net = report_net_cash(rep, rep->p.instrument[i].id, &fees);
			char a[80], b[80];
			report_format_cash(rep, (int)i, net, a, sizeof a);
			report_format_cash(rep, (int)i, fees, b, sizeof b);
			printf("%s net %s fees %s\n", rep->p.instrument[i].symbol, a, b);
		}
	}
	rc = 0;
done:
	if (sink.j)
		journal_close(sink.j);
	free(sink.meta);
	replay_core_free(core);
	return rc;
}

/* ---- --verify ---------------------------------------------------------------
 * Feed a live journal's market data through strategy and risk, applying the
 * journaled execution reports where its FKS_EV_APPLIED markers say, and
 * compare every produced order and risk reject with the journaled one.
 * h.seq and h.flags are not compared: the live stages number markers and
 * orders in one sequence, and replay sets FKS_EVF_REPLAY.  Risk's clock is
 * the order's receive time, plus the age a journaled STALE_DATA reject of
 * that order recorded (the one input live timing adds). */

struct jev {
	uint64_t key;
	union fks_event ev;
};

struct jarr {
	struct jev *v;
	size_t n, cap;
};

static int jarr_push(struct jarr *a, uint64_t key, const union fks_event *ev)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 1024;
		struct jev *n = realloc(a->v, cap * sizeof *n);
		if (!n)
			return -1;
		a->v = n;
		a->cap = cap;
	}
	a->v[a->n].key = key;
	a->v[a->n].ev = *ev;
	a->n++;
	return 0;
}

static int cmp_md_seq(const void *a, const void *b)
{
	const struct jev *x = a, *y = b;
	if (x->ev.h.seq != y->ev.h.seq)
		return x->ev.h.seq < y->ev.h.seq ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_marker_pos(const void *a, const void *b)
{
	const struct jev *x = a, *y = b;
	if (x->ev.applied.input_pos != y->ev.applied.input_pos)
		return x->ev.applied.input_pos < y->ev.applied.input_pos ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key; /* journal order within one point */
}

struct field { const char *name; unsigned off, len; };

static const struct field hdr_fields[] = {
	{ "type", 0, 1 }, { "source", 1, 1 }, { "instrument", 4, 4 }, { "event_time_ns", 16, 8 },
	{ "recv_time_ns", 24, 8 }, { NULL, 0, 0 },
};
static const struct field order_fields[] = {
	{ "order_id", 32, 8 }, { "signal_id", 40, 8 }, { "px", 48, 8 }, { "qty", 56, 8 },
	{ "take_profit_px", 64, 8 }, { "stop_loss_px", 72, 8 }, { "side", 80, 1 }, { "ord_type", 81, 1 },
	{ "tif", 82, 1 }, { "strategy", 84, 2 }, { NULL, 0, 0 },
};
static const struct field reject_fields[] = {
	{ "order_id", 32, 8 }, { "signal_id", 40, 8 }, { "reason", 48, 4 }, { "limit", 56, 8 }, { "value", 64, 8 },
	{ NULL, 0, 0 },
};

static int64_t field_val(const union fks_event *e, const struct field *f)
{
	int64_t v = 0;
	if (f->len == 8)
		memcpy(&v, e->bytes + f->off, 8);
	else if (f->len == 4) {
		uint32_t x;
		memcpy(&x, e->bytes + f->off, 4);
		v = x;
	} else if (f->len == 2) {
		uint16_t x;
		memcpy(&x, e->bytes + f->off, 2);
		v = x;
	} else
		v = e->bytes[f->off];
	return v;
}

/* "" when equal (seq and flags aside), else what differs. */
static bool event_diff(const union fks_event *journal, const union fks_event *replay, char *out, size_t cap)
{
	static const struct field none[] = { { NULL, 0, 0 } };
	const struct field *tabs[2] = { hdr_fields, journal->h.type == FKS_EV_ORDER_NEW	  ? order_fields
						    : journal->h.type == FKS_EV_RISK_REJECT ? reject_fields
											    : none };
	for (int t = 0; t < 2; t++)
		for (const struct field *f = tabs[t]; f->name; f++) {
			int64_t a = field_val(journal, f), b = field_val(replay, f);
			if (a != b) {
				snprintf(out, cap, "%s: journal %" PRId64 ", replay %" PRId64, f->name, a, b);
				return true;
			}
		}
	size_t sz = fks_event_size(journal->h.type);
	for (size_t i = 32; i < sz; i++)
		if (journal->bytes[i] != replay->bytes[i]) {
			snprintf(out, cap, "byte %zu: journal 0x%02x, replay 0x%02x", i, journal->bytes[i], replay->bytes[i]);
			return true;
		}
	return false;
}

struct verify {
	struct jarr md, orders, rejects, smark, rmark, gw;
	const union fks_event **gw_by_seq, **rej_by_seq;
	uint64_t gw_max, rej_max;
	uint64_t bad_key;        /* first mismatch (journal key), UINT64_MAX none */
	char what[600];
};

static void mismatch(struct verify *v, uint64_t key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mismatch(struct verify *v, uint64_t key, const char *fmt, ...)
{
	if (key >= v->bad_key)
		return;
	v->bad_key = key;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->what, sizeof v->what, fmt, ap);
	va_end(ap);
}

static const union fks_event *report_of(struct verify *v, const struct jev *mk)
{
	uint64_t s = mk->ev.applied.applied_seq;
	if (mk->ev.applied.applied_source == FKS_STAGE_GATEWAY)
		return s >= 1 && s <= v->gw_max ? v->gw_by_seq[s] : NULL;
	if (mk->ev.applied.applied_source == FKS_STAGE_RISK)
		return s >= 1 && s <= v->rej_max ? v->rej_by_seq[s] : NULL;
	return NULL;
}

static int index_by_seq(const struct jarr *a, const union fks_event ***out, uint64_t *max)
{
	uint64_t m = 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].ev.h.seq > m)
			m = a->v[i].ev.h.seq;
	*out = calloc(m + 1, sizeof **out);
	if (!*out)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		(*out)[a->v[i].ev.h.seq] = &a->v[i].ev;
	*max = m;
	return 0;
}

/* Risk checks one produced order; the next journaled reject must be its. */
static void verify_risk_order(struct verify *v, struct risk *risk, const struct fks_ev_order_new *o, size_t oi,
			      size_t pos, size_t *rk)
{
	const struct fks_ev_risk_reject *next = *rk < v->rejects.n ? &v->rejects.v[*rk].ev.risk_reject : NULL;
	int64_t now = o->h.recv_time_ns;
	if (next && next->order_id == o->order_id && next->reason == FKS_RISK_STALE_DATA && next->limit > 0)
		now += next->value; /* the live clock, where it mattered */
	int64_t limit, value;
	enum fks_risk_reason why = risk_check_order(risk, o, now, &limit, &value);
	if (why != FKS_RISK_OK) {
		union fks_event rej;
		char what[200];
		memset(&rej, 0, sizeof rej);
		risk_build_reject(o, why, limit, value, 0, &rej.risk_reject);
		if (!next)
			mismatch(v, oi < v->orders.n ? v->orders.v[oi].key : v->md.v[pos].key,
				 "replay's risk rejects order %" PRIu64 " (%s); the journal has no such reject", o->order_id,
				 fks_risk_reason_name(why));
		else if (event_diff(&v->rejects.v[*rk].ev, &rej, what, sizeof what))
			mismatch(v, v->rejects.v[*rk].key, "risk_reject (risk seq %" PRIu64 "): %s", v->rejects.v[*rk].ev.h.seq,
				 what);
		++*rk;
	} else if (next && next->order_id == o->order_id) {
		mismatch(v, v->rejects.v[*rk].key, "risk_reject of order %" PRIu64 " (%s): replay's risk passes it",
			 o->order_id, fks_risk_reason_name(next->reason));
		++*rk;
	}
}

static int verify_run(const char *path, const struct replay_setup *s, struct verify *v, char *err, size_t errlen)
{
	struct journal_reader *jr;
	if (journal_open_reader(path, &jr, err, errlen) != JOURNAL_OK)
		return -1;
	struct journal_record rec;
	int rc;
	uint64_t corrupt = 0;
	while ((rc = journal_read(jr, &rec)) != 0) {
		if (rc == JOURNAL_E_CORRUPT) {
			corrupt++;
			continue;
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path, journal_reader_error(jr));
			journal_reader_close(jr);
			return -1;
		}
		const union fks_event *e = &rec.ev;
		struct jarr *dst = NULL;
		switch (e->h.type) {
		case FKS_EV_QUOTE: case FKS_EV_TRADE: case FKS_EV_BOOK_DELTA: dst = &v->md; break;
		case FKS_EV_ORDER_NEW: case FKS_EV_SIGNAL: case FKS_EV_ORDER_CANCEL: case FKS_EV_ORDER_REPLACE:
			if (e->h.source == FKS_STAGE_STRATEGY)
				dst = &v->orders; /* everything the strategy sends down */
			break;
		case FKS_EV_RISK_REJECT: if (e->h.source == FKS_STAGE_RISK) dst = &v->rejects; break;
		case FKS_EV_ORDER_ACK: case FKS_EV_FILL: case FKS_EV_ORDER_REJECT: case FKS_EV_CANCEL_ACK:
			if (e->h.source == FKS_STAGE_GATEWAY) dst = &v->gw;
			break;
		case FKS_EV_APPLIED:
			dst = e->h.source == FKS_STAGE_STRATEGY ? &v->smark : e->h.source == FKS_STAGE_RISK ? &v->rmark : NULL;
			break;
		default: break;
		}
		if (dst && jarr_push(dst, rec.seq, e)) {
			snprintf(err, errlen, "out of memory");
			journal_reader_close(jr);
			return -1;
		}
	}
	journal_reader_close(jr);
	if (corrupt)
		fprintf(stderr, "replay --verify: %s: %" PRIu64 " corrupt records skipped\n", path, corrupt);

	/* The strategy's main input is the market data in feed order. */
	qsort(v->md.v, v->md.n, sizeof *v->md.v, cmp_md_seq);
	qsort(v->smark.v, v->smark.n, sizeof *v->smark.v, cmp_marker_pos);
	qsort(v->rmark.v, v->rmark.n, sizeof *v->rmark.v, cmp_marker_pos);
	if (index_by_seq(&v->gw, &v->gw_by_seq, &v->gw_max) || index_by_seq(&v->rejects, &v->rej_by_seq, &v->rej_max)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}

	struct replay_core *core;
	if (replay_core_new(&core, s, NULL, NULL, err, errlen))
		return -1;
	/* The core's strategy and risk, driven by hand. */
	struct risk *risk = &core->risk;

	/* Strategy pass: every event it sends (orders, signals, cancels), each
	 * remembered with the market event that caused it. */
	size_t n_md = v->md.n, mi = 0, k = 0, cap = 1024;
	size_t *first_out = calloc(n_md + 1, sizeof *first_out); /* md index -> first produced */
	union fks_event *produced = malloc(cap * sizeof *produced);
	if (!first_out || !produced) {
		free(first_out);
		free(produced);
		replay_core_free(core);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t pos = 0; pos <= n_md; pos++) {
		for (; mi < v->smark.n && v->smark.v[mi].ev.applied.input_pos == pos; mi++) {
			const union fks_event *r = report_of(v, &v->smark.v[mi]);
			if (!r) {
				mismatch(v, v->smark.v[mi].key, "applied marker names report %s seq %" PRIu64
					 " that is not in the journal", fks_stage_name(v->smark.v[mi].ev.applied.applied_source),
					 v->smark.v[mi].ev.applied.applied_seq);
				continue;
			}
			strat_exec(core, r);
		}
		first_out[pos] = k;
		if (pos == n_md)
			break;
		strat_market(core, &v->md.v[pos].ev);
		for (unsigned i = 0; i < core->n_out; i++) {
			const union fks_event *o = &core->out[i];
			if (k == cap) {
				union fks_event *np = realloc(produced, 2 * cap * sizeof *np);
				if (!np)
					break;
				produced = np;
				cap *= 2;
			}
			produced[k] = *o;
			char what[200];
			if (k >= v->orders.n)
				mismatch(v, v->md.v[pos].key, "replay's strategy sends %s after market event key %" PRIu64
					 "; the journal has nothing more from the strategy", fks_event_type_name(o->h.type),
					 v->md.v[pos].key);
			else if (event_diff(&v->orders.v[k].ev, o, what, sizeof what))
				mismatch(v, v->orders.v[k].key, "%s (strategy seq %" PRIu64 "): %s",
					 fks_event_type_name(v->orders.v[k].ev.h.type), v->orders.v[k].ev.h.seq, what);
			k++;
		}
	}
	if (mi < v->smark.n)
		mismatch(v, v->smark.v[mi].key, "strategy applied marker at input_pos %" PRIu64 " beyond the %zu market events",
			 v->smark.v[mi].ev.applied.input_pos, n_md);
	if (k < v->orders.n)
		mismatch(v, v->orders.v[k].key, "journaled %s (strategy seq %" PRIu64 ") is not produced by replay",
			 fks_event_type_name(v->orders.v[k].ev.h.type), v->orders.v[k].ev.h.seq);

	/* Risk pass: its input is the market data with each order right after
	 * the event that caused it; markers at input_pos p apply once p of
	 * those events are consumed. */
	size_t rk = 0, ri = 0;
	uint64_t rpos = 0;
	for (size_t pos = 0;; pos++) {
		for (; ri < v->rmark.n && v->rmark.v[ri].ev.applied.input_pos == rpos; ri++) {
			const union fks_event *r = report_of(v, &v->rmark.v[ri]);
			if (!r)
				mismatch(v, v->rmark.v[ri].key, "applied marker names report seq %" PRIu64
					 " that is not in the journal", v->rmark.v[ri].ev.applied.applied_seq);
			else
				risk_on_exec(risk, r);
		}
		if (pos >= n_md)
			break;
		rpos++; /* the market event */
		for (; ri < v->rmark.n && v->rmark.v[ri].ev.applied.input_pos == rpos; ri++) {
			const union fks_event *r = report_of(v, &v->rmark.v[ri]);
			if (r)
				risk_on_exec(risk, r);
			else
				mismatch(v, v->rmark.v[ri].key, "applied marker names report seq %" PRIu64
					 " that is not in the journal", v->rmark.v[ri].ev.applied.applied_seq);
		}
		for (size_t oi = first_out[pos]; oi < first_out[pos + 1]; oi++) {
			if (produced[oi].h.type == FKS_EV_SIGNAL)
				continue; /* journaled, never sent to risk */
			rpos++; /* each strategy event after it */
			if (produced[oi].h.type == FKS_EV_ORDER_NEW)
				verify_risk_order(v, risk, &produced[oi].order_new, oi, pos, &rk);
			for (; ri < v->rmark.n && v->rmark.v[ri].ev.applied.input_pos == rpos; ri++) {
				const union fks_event *r = report_of(v, &v->rmark.v[ri]);
				if (r)
					risk_on_exec(risk, r);
				else
					mismatch(v, v->rmark.v[ri].key, "applied marker names report seq %" PRIu64
						 " that is not in the journal", v->rmark.v[ri].ev.applied.applied_seq);
			}
		}
	}
	if (ri < v->rmark.n)
		mismatch(v, v->rmark.v[ri].key, "risk applied marker at input_pos %" PRIu64 " beyond its %" PRIu64
			 " input events", v->rmark.v[ri].ev.applied.input_pos, rpos);
	if (rk < v->rejects.n)
		mismatch(v, v->rejects.v[rk].key, "journaled risk reject of order %" PRIu64 " is not produced by replay",
			 v->rejects.v[rk].ev.risk_reject.order_id);
	free(first_out);
	free(produced);
	replay_core_free(core);
	return 0;
}

static int do_verify(const struct opts *o, const struct replay_setup *s)
{
	struct verify v;
	char err[512];
	memset(&v, 0, sizeof v);
	v.bad_key = UINT64_MAX;
	int rc = verify_run(o->input, s, &v, err, sizeof err);
	if (rc)
		fprintf(stderr, "replay --verify: %s\n", err);
	else if (v.bad_key != UINT64_MAX)
		fprintf(stderr, "replay --verify: %s: MISMATCH at journal key %" PRIu64 ": %s\n", o->input, v.bad_key, v.what);
	else
		printf("verify: %s: %zu market events, %zu orders, %zu risk rejects, %zu + %zu applied markers: all match\n",
		       o->input, v.md.n, v.orders.n, v.rejects.n, v.smark.n, v.rmark.n);
	free(v.md.v); free(v.orders.v); free(v.rejects.v); free(v.smark.v); free(v.rmark.v); free(v.gw.v);
	free(v.gw_by_seq); free(v.rej_by_seq);
	return rc ? 1 : v.bad_key != UINT64_MAX ? 1 : 0;
}

/* ---- --sweep ------------------------------------------------------------- */

struct sweep_result {
	int ok;
	struct report_metrics m;
};

static int sweep_count(const struct opts *o)
{
	int n = 1;
	for (int a = 0; a < o->n_sweep; a++)
		n *= o->sweep[a].n;
	return n;
}

/* Combination i: axis 0 varies slowest. */
static void sweep_combo(const struct opts *o, int i, int *pick)
{
	for (int a = o->n_sweep - 1; a >= 0; a--) {
		pick[a] = i % o->sweep[a].n;
		i /= o->sweep[a].n;
	}
}

static int sweep_setup(const struct opts *o, const struct replay_setup *base, int i, struct replay_setup *s,
		       char *err, size_t errlen)
{
	int pick[8];
	*s = *base;
	sweep_combo(o, i, pick);
	for (int a = 0; a < o->n_sweep; a++)
		if (replay_setup_set(s, o->sweep[a].key, o->sweep[a].vals[pick[a]], err, errlen))
			return -1;
	if (uses_crossover(s) && s->cfg.strategy.fast >= s->cfg.strategy.slow) {
		snprintf(err, errlen, "fast %u must be below slow %u", s->cfg.strategy.fast, s->cfg.strategy.slow);
		return -1;
	}
	return 0;
}

struct ranked {
	int i;
	struct sweep_result r;
};

static const struct opts *rank_opts;

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->r.ok != y->r.ok)
		return y->r.ok - x->r.ok;
	bool sh = rank_opts->rank && !strcmp(rank_opts->rank, "sharpe");
	double u = sh ? x->r.m.sharpe : x->r.m.net, v = sh ? y->r.m.sharpe : y->r.m.net;
	if (u != v)
		return u > v ? -1 : 1;
	return x->i - y->i; /* ties: grid order, so the table is deterministic */
}

static int do_sweep(const struct opts *o, const struct replay_setup *base)
{
	int n = sweep_count(o);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers = ncpu > 0 ? (int)ncpu : 1;
	char err[512];
	int next = 0, running = 0, done = 0, failed = 0;

	/* Check every combination before starting any. */
	for (int i = 0; i < n; i++) {
		struct replay_setup *s = malloc(sizeof *s);
		struct replay_core *probe = NULL;
		if (!s || sweep_setup(o, base, i, s, err, sizeof err) || replay_core_new(&probe, s, NULL, NULL, err, sizeof err)) {
			fprintf(stderr, "replay: --sweep: %s\n", s ? err : "out of memory");
			free(s);
			return 2;
		}
		replay_core_free(probe);
		free(s);
	}
	struct ranked *res = calloc((size_t)n, sizeof *res);
	pid_t *pid = calloc((size_t)n, sizeof *pid);
	int *fd = calloc((size_t)n, sizeof *fd);
	int rc = 1;
	if (!res || !pid || !fd)
		goto out;
	fflush(stdout);
	fflush(stderr);
	while (done < n) {
		while (running < workers && next < n) {
			int p[2];
			if (pipe(p)) {
				perror("replay: pipe");
				goto out; /* the children already started are reaped by init */
			}
			pid_t c = fork();
			if (c < 0) {
				perror("replay: fork");
				close(p[0]);
				close(p[1]);
				goto out;
			}
			if (c == 0) {
				close(p[0]);
				struct sweep_result r = { 0 };
				struct replay_setup *s = malloc(sizeof *s);
				struct fks_config *cfg = malloc(sizeof *cfg);
				struct input in;
				if (s && cfg && input_open(&in, o->input, o->venue, o->config, o->touch_from_trades, cfg, err,
							   sizeof err) == 0) {
					sweep_setup(o, base, next, s, err, sizeof err);
					struct opts one = *o;
					one.out = NULL;
					one.report_dir = NULL;
					r.ok = run_one(&one, s, &in, &r.m, false) == 0;
					input_close(&in);
				} else if (s && cfg) {
					fprintf(stderr, "replay: %s\n", err);
				}
				ssize_t w = write(p[1], &r, sizeof r);
				free(s);
				free(cfg);
				_exit(w == (ssize_t)sizeof r && r.ok ? 0 : 1);
			}
			close(p[1]);
			pid[next] = c;
			fd[next] = p[0];
			res[next].i = next;
			next++;
			running++;
		}
		int st;
		pid_t w = wait(&st);
		if (w < 0)
			break;
		for (int i = 0; i < next; i++) {
			if (pid[i] != w)
				continue;
			if (read(fd[i], &res[i].r, sizeof res[i].r) != (ssize_t)sizeof res[i].r)
				res[i].r.ok = 0;
			close(fd[i]);
			pid[i] = 0;
			running--;
			done++;
			if (!res[i].r.ok)
				failed++;
			fprintf(stderr, "sweep: %d/%d done%s\n", done, n, res[i].r.ok ? "" : " (one failed)");
		}
	}
	rank_opts = o;
	qsort(res, (size_t)n, sizeof *res, cmp_ranked);
	printf("rank");
	for (int a = 0; a < o->n_sweep; a++)
		printf("  %12s", o->sweep[a].key);
	printf("  %14s %14s %10s %8s %9s %14s\n", "net_pnl", "fees", "sharpe", "trades", "win_rate", "max_drawdown");
	for (int k = 0; k < n; k++) {
		int pick[8];
		sweep_combo(o, res[k].i, pick);
		printf("%4d", k + 1);
		for (int a = 0; a < o->n_sweep; a++)
			printf("  %12s", o->sweep[a].vals[pick[a]]);
		if (!res[k].r.ok) {
			printf("  failed\n");
			continue;
		}
		const struct report_metrics *m = &res[k].r.m;
		printf("  %14.6f %14.6f %10.4f %8" PRIu64 " %8.2f%% %14.6f\n", m->net, m->fees, m->sharpe, m->trades,
		       m->win_rate * 100, m->max_drawdown);
	}
	rc = failed ? 1 : 0;
out:
	free(res);
	free(pid);
	free(fd);
	return rc;
}

/* ---- the command ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fks replay --input JOURNAL_DIR|RECORDING [options]\n"
		"  --venue FORMAT         recording format: jsonl (default); itch, binance, bybit,\n"
		"                         coinbase, kraken (read as fks run reads them; -c names\n"
		"                         the instruments, at the venue's symbols and scales)\n"
		"  --touch-from-trades    recording: after each trade, a quote at its price with\n"
		"                         unlimited size (every order fills at the last price)\n"
		"  -c, --config FILE      config (default: the journal's, else the built-in one)\n"
		"  --out JOURNAL_DIR      write every event to a new journal\n"
		"  --report DIR           write DIR/report.json and DIR/report.html\n"
		"  --speed asap|real|xN   pacing by event time (default asap)\n"
		"  --strategy KIND[:k=v,...]  run strategies/engine with this strategy on every\n"
		"                         instrument (repeatable; default: the config's strategies)\n"
		"                         kinds: sma_cross rsi_mr bollinger asmbtr markov\n"
		"  --set key=value        one knob (see --sweep keys)\n"
		"  --sweep key=v1,v2,...  grid over knobs (repeatable), in parallel processes;\n"
		"                         keys: fast slow order_type fill latency_us slippage_bps\n"
		"                         slippage_ticks fee_ppm equity NAME.key\n"
		"  --rank net|sharpe      sweep ranking (default net: net P&L)\n"
		"  --verify               check a live journal: strategy and risk must reproduce\n"
		"                         every order and reject; exit 1 at the first difference\n");
}

static int parse_kv(char *arg, char **key, char **val)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return -1;
	*eq = 0;
	*key = arg;
	*val = eq + 1;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->speed_x = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { fprintf(stderr, "replay: %s needs a value\n", a); return 2; } i++; } while (0)
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "--input") || !strcmp(a, "-i")) {
			NEED(); o->input = v;
		} else if (!strcmp(a, "--venue")) {
			NEED(); o->venue = v;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			NEED(); o->config = v;
		} else if (!strcmp(a, "--out")) {
			NEED(); o->out = v;
		} else if (!strcmp(a, "--report")) {
			NEED(); o->report_dir = v;
		} else if (!strcmp(a, "--rank")) {
			NEED();
			if (strcmp(v, "net") && strcmp(v, "sharpe")) {
				fprintf(stderr, "replay: --rank %s: use net or sharpe\n", v);
				return 2;
			}
			o->rank = v;
		} else if (!strcmp(a, "--speed")) {
			NEED();
			if (!strcmp(v, "asap"))
				o->speed = SPEED_ASAP;
			else if (!strcmp(v, "real"))
				o->speed = SPEED_REAL;
			else if (v[0] == 'x') {
				char *end;
				o->speed = SPEED_REAL;
				o->speed_x = strtod(v + 1, &end);
				if (*end || !(o->speed_x > 0) || o->speed_x > 1e9) {
					fprintf(stderr, "replay: --speed %s: use asap, real or xN with N > 0\n", v);
					return 2;
				}
			} else {
				fprintf(stderr, "replay: --speed %s: use asap, real or xN\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--strategy")) {
			NEED();
			if (o->n_strategy == REPLAY_MAX_SPECS) {
				fprintf(stderr, "replay: at most %d --strategy\n", REPLAY_MAX_SPECS);
				return 2;
			}
			o->strategy[o->n_strategy++] = v;
		} else if (!strcmp(a, "--verify")) {
			o->verify = true;
		} else if (!strcmp(a, "--touch-from-trades")) {
			o->touch_from_trades = true;
		} else if (!strcmp(a, "--set")) {
			NEED();
			if (o->n_set == 32 || parse_kv(argv[i], &o->set_key[o->n_set], &o->set_val[o->n_set])) {
				fprintf(stderr, "replay: --set %s: expected key=value\n", v);
				return 2;
			}
			o->n_set++;
		} else if (!strcmp(a, "--sweep")) {
			NEED();
			char *key, *vals;
			if (o->n_sweep == 8 || parse_kv(argv[i], &key, &vals) || strlen(key) >= sizeof o->sweep[0].key) {
				fprintf(stderr, "replay: --sweep %s: expected key=v1,v2,... (at most 8 axes)\n", v);
				return 2;
			}
			if (vals[0] == ',' || vals[strlen(vals) - 1] == ',' || strstr(vals, ",,")) {
				fprintf(stderr, "replay: --sweep %s: empty value\n", key);
				return 2;
			}
			struct sweep_axis *ax = &o->sweep[o->n_sweep++];
			snprintf(ax->key, sizeof ax->key, "%s", key);
			for (char *save = NULL, *t = strtok_r(vals, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (ax->n == 64) {
					fprintf(stderr, "replay: --sweep %s: at most 64 values per key\n", key);
					return 2;
				}
				ax->vals[ax->n++] = t;
			}
			if (ax->n == 0) {
				fprintf(stderr, "replay: --sweep %s: empty value\n", key);
				return 2;
			}
		} else {
			fprintf(stderr, "replay: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
#undef NEED
	}
	if (!o->input) {
		fprintf(stderr, "replay: --input is required\n");
		usage(stderr);
		return 2;
	}
	if (o->n_sweep && (o->out || o->report_dir || o->verify)) {
		fprintf(stderr, "replay: --sweep writes a ranked table only: no --out, --report or --verify with it\n");
		return 2;
	}
	if (o->n_sweep && sweep_count(o) > 100000) {
		fprintf(stderr, "replay: --sweep: more than 100000 combinations\n");
		return 2;
	}
	return 0;
}

int replay_main(int argc, char **argv)
{
	struct opts *o = calloc(1, sizeof *o);
	struct fks_config *cfg = calloc(1, sizeof *cfg);
	struct replay_setup *s = calloc(1, sizeof *s);
	char err[512];
	struct input in;
	int rc;

	if (!o || !cfg || !s) {
		rc = 1;
		goto out;
	}
	rc = parse_opts(argc, argv, o);
	if (rc) {
		rc = rc == 1 ? 0 : rc;
		goto out;
	}
	if (input_open(&in, o->input, o->venue, o->config, o->touch_from_trades, cfg, err, sizeof err)) {
		fprintf(stderr, "replay: %s\n", err);
		rc = 1;
		goto out;
	}
	replay_setup_from_config(s, cfg);
	for (int i = 0; i < o->n_strategy; i++)
		if (replay_setup_add_strategy(s, o->strategy[i], err, sizeof err)) {
			fprintf(stderr, "replay: %s\n", err);
			input_close(&in);
			rc = 2;
			goto out;
		}
	for (int i = 0; i < o->n_set; i++)
		if (replay_setup_set(s, o->set_key[i], o->set_val[i], err, sizeof err)) {
			fprintf(stderr, "replay: --set %s\n", err);
			input_close(&in);
			rc = 2;
			goto out;
		}
	if (uses_crossover(s) && s->cfg.strategy.fast >= s->cfg.strategy.slow) {
		fprintf(stderr, "replay: fast %u must be below slow %u\n", s->cfg.strategy.fast, s->cfg.strategy.slow);
		input_close(&in);
		rc = 2;
		goto out;
	}
	if (o->verify) {
		if (in.kind != IN_JOURNAL) {
			fprintf(stderr, "replay: --verify needs a journal directory\n");
			input_close(&in);
			rc = 2;
			goto out;
		}
		input_close(&in); /* one reader per process: verify opens its own */
		rc = do_verify(o, s);
	} else if (o->n_sweep) {
		input_close(&in); /* each worker opens its own */
		rc = do_sweep(o, s);
	} else {
		struct report_metrics m;
		rc = run_one(o, s, &in, &m, true);
		input_close(&in);
	}
out:
	free(o);
	free(cfg);
	free(s);
	return rc;
}
