/*
 * The replay setup: the config and the knobs a config does not have, set
 * from the options (--strategy, --set, --sweep).  See replay.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/venues/sim/sim_ops.h"
#include "pipeline/replay/replay_int.h"
#include "shm/fixed.h"
#include "strategies/engine.h"
#include "strategies/impl/ma_cross.h"

void replay_setup_from_config(struct replay_setup *s, const struct fks_config *cfg)
{
	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	struct fks_param vp[FKS_VENUE_PARAMS_MAX];
	struct fks_param_error verr;
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

bool replay_uses_crossover(const struct replay_setup *s)
{
	return s->n_specs == 0 && s->cfg.n_strategies == 0;
}
