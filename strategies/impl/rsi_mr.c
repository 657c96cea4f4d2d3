/*
 * RSI mean reversion: see rsi_mr.h.
 */
#include "strategies/impl/rsi_mr.h"

#include <string.h>

static int rsi_mr_init(void *state, const struct strategy_ctx *ctx,
		       const struct fks_param *params, size_t n, struct fks_param_error *err)
{
	struct rsi_mr *s = state;
	const char *level_key = NULL;

	memset(s, 0, sizeof *s);
	strategy_common_init(&s->c, ctx);
	s->period = 14;
	s->oversold_ppm = 30000000;
	s->overbought_ppm = 70000000;
	if (ctx->instrument == 0)
		return fks_param_fail(err, NULL, "rsi_mr: instrument id must not be 0");
	for (size_t i = 0; i < n; i++) {
		const struct fks_param *p = &params[i];
		int rc;

		if (strcmp(p->key, "period") == 0) {
			rc = strategy_parse_u32(p, 1, 1000, &s->period, err);
		} else if (strcmp(p->key, "oversold") == 0) {
			rc = strategy_parse_ppm(p, 1000000, 50000000, &s->oversold_ppm, err);
			level_key = p->key;
		} else if (strcmp(p->key, "overbought") == 0) {
			rc = strategy_parse_ppm(p, 50000000, 99000000, &s->overbought_ppm, err);
			level_key = p->key;
		} else {
			int c = strategy_common_param(&s->c, p, err);

			if (c == 0)
				return fks_param_fail(err, p->key, "rsi_mr: unknown key '%s'", p->key);
			rc = c < 0 ? -1 : 0;
		}
		if (rc)
			return -1;
	}
	if (strategy_common_finish(&s->c, err))
		return -1;
	if (s->oversold_ppm >= s->overbought_ppm)
		return fks_param_fail(err, level_key ? level_key : "oversold",
				     "rsi_mr: oversold must be below overbought");
	ind_rsi_init(&s->rsi, s->period);
	return 0;
}

static bool rsi_mr_on_market(void *state, const union fks_event *md, struct fks_ev_signal *out)
{
	struct rsi_mr *s = state;
	struct strategy_sample smp;
	double r;

	if (!strategy_common_sample(&s->c, md, &smp))
		return false;
	ind_rsi_update(&s->rsi, smp.px2);
	if (!ind_rsi_value(&s->rsi, &r))
		return false;

	double os = s->oversold_ppm / 1e6, ob = s->overbought_ppm / 1e6;
	int zone = r < os ? -1 : r > ob ? 1 : 0;
	bool fresh = zone != s->zone;
	bool deeper = !fresh && (zone < 0 ? r < s->extreme : r > s->extreme);

	s->zone = zone;
	if (zone == 0 || !(fresh || deeper))
		return false;
	s->extreme = r;
	if (zone < 0)
		return strategy_common_signal(&s->c, md, FKS_SIDE_BUY,
					      strategy_confidence((os - r) / os), &smp, out);
	return strategy_common_signal(&s->c, md, FKS_SIDE_SELL,
				      strategy_confidence((r - ob) / (100.0 - ob)), &smp, out);
}

const struct strategy_vtbl rsi_mr_vtbl = {
	.kind = "rsi_mr",
	.state_size = sizeof(struct rsi_mr),
	.init = rsi_mr_init,
	.on_market = rsi_mr_on_market,
};
