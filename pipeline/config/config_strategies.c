/*
 * The `strategies` list: each instance names a known instrument, a unique
 * name and parameters the signal engine accepts; config_build_engine builds
 * that engine, once at load and again in the strategy stage.
 */
#include "pipeline/config/config_int.h"

#include <inttypes.h>
#include <stdlib.h>

#include "shm/fixed.h"
#include "strategies/engine.h"

static void discard_event(void *user, const union fks_event *ev)
{
	(void)user;
	(void)ev;
}

/* Each instance: a known instrument, a unique name, and parameters that
 * the engine accepts.  The engine is built once here, exactly as the
 * strategy stage will build it, so every parameter error is found before
 * anything starts, and reported at the value's own line and column. */
int cfg_check_strategies(struct loader *ld, struct fks_config *cfg)
{
	if (cfg->n_strategies == 0)
		return 0;
	if (cfg->account.equity[0]) {
		if (cfg_check_positive(ld, cfg->account.equity, false))
			return -1;
		if (fx_parse(cfg->account.equity, strlen(cfg->account.equity), 2, &cfg->account.equity_cents) != FX_OK)
			return cfg_fail_field(ld, cfg->account.equity, "\"%s\" is not an amount with at most 2 decimals",
					      cfg->account.equity);
	}
	for (uint32_t i = 0; i < cfg->n_strategies; i++) {
		const struct fks_strategy_inst *si = &cfg->strategies[i];
		if (config_find_instrument(cfg, si->instrument) < 0)
			return cfg_fail_field(ld, si->instrument, "\"%s\" is not one of `instruments`", si->instrument);
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(cfg->strategies[k].name, si->name))
				return cfg_fail_field(ld, si->name, "\"%s\" names strategies[%" PRIu32 "] too", si->name, k);
	}
	struct engine *e = malloc(sizeof *e);
	if (!e) {
		cfg_set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	uint32_t bad = 0;
	struct fks_param_error serr;
	int rc = config_build_engine(cfg, e, discard_event, NULL, &bad, &serr);
	if (rc == 0) {
		engine_free(e);
		free(e);
		return 0;
	}
	free(e);
	const struct fks_strategy_inst *si = &cfg->strategies[bad];
	for (uint32_t k = 0; serr.key && k < si->n_params; k++)
		if (!strcmp(si->param[k].key, serr.key))
			return cfg_fail_field(ld, si->param[k].value, "%s", serr.msg);
	return cfg_fail_field(ld, si->kind, "%s", serr.msg);
}

int config_build_engine(const struct fks_config *cfg, struct engine *e,
			void (*emit)(void *user, const union fks_event *ev), void *user, uint32_t *bad,
			struct fks_param_error *err)
{
	struct engine_params ep = {
		.equity = cfg->account.equity_cents ? cfg->account.equity_cents : FKS_DEFAULT_EQUITY_CENTS,
		.equity_scale = 2,
		.order_id_base = (uint64_t)1 << 40,
	};
	if (engine_init(e, &ep, emit, user) != 0) {
		*bad = 0;
		err->key = NULL;
		snprintf(err->msg, sizeof err->msg, "the signal engine refused its parameters");
		return -1;
	}
	for (uint32_t i = 0; i < cfg->n_strategies; i++) {
		const struct fks_strategy_inst *si = &cfg->strategies[i];
		int idx = config_find_instrument(cfg, si->instrument);
		const struct fks_instrument_cfg *ic = &cfg->instrument[idx < 0 ? 0 : idx];
		struct strategy_ctx ctx = { .instrument = ic->id, .px_scale = ic->px_scale, .qty_scale = ic->qty_scale,
					    .strategy_id = (uint16_t)i };
		struct fks_param params[FKS_PARAMS_MAX];
		for (uint32_t k = 0; k < si->n_params; k++)
			params[k] = (struct fks_param){ si->param[k].key, si->param[k].value };
		if (idx < 0 || engine_add(e, si->name, si->kind, &ctx, params, si->n_params, err) != 0) {
			if (idx < 0) {
				err->key = NULL;
				snprintf(err->msg, sizeof err->msg, "unknown instrument '%s'", si->instrument);
			}
			*bad = i;
			engine_free(e);
			return -1;
		}
	}
	return 0;
}
