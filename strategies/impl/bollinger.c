/*
 * Bollinger bands strategy: see bollinger.h.
 */
#include "strategies/impl/bollinger.h"

#include <math.h>
#include <string.h>

static int bollinger_init(void *state, const struct strategy_ctx *ctx,
			  const struct fks_param *params, size_t n, struct fks_param_error *err)
{
	static const char *const modes[] = { "reversion", "breakout" };
	struct bollinger *s = state;

	memset(s, 0, sizeof *s);
	strategy_common_init(&s->c, ctx);
	s->period = 20;
	s->k_ppm = 2000000;
	if (ctx->instrument == 0)
		return fks_param_fail(err, NULL, "bollinger: instrument id must not be 0");
	for (size_t i = 0; i < n; i++) {
		const struct fks_param *p = &params[i];
		int rc;

		if (strcmp(p->key, "period") == 0) {
			rc = strategy_parse_u32(p, 2, IND_MAX_WINDOW, &s->period, err);
		} else if (strcmp(p->key, "k") == 0) {
			rc = strategy_parse_ppm(p, 100000, 10000000, &s->k_ppm, err);
		} else if (strcmp(p->key, "mode") == 0) {
			unsigned v;

			rc = strategy_parse_enum(p, modes, 2, &v, err);
			s->breakout = v == 1;
		} else {
			int c = strategy_common_param(&s->c, p, err);

			if (c == 0)
				return fks_param_fail(err, p->key, "bollinger: unknown key '%s'", p->key);
			if (strncmp(p->key, "tp_", 3) == 0)
				s->tp_given = true;
			rc = c < 0 ? -1 : 0;
		}
		if (rc)
			return -1;
	}
	if (strategy_common_finish(&s->c, err))
		return -1;
	ind_bollinger_init(&s->bb, s->period, s->k_ppm / 1e6);
	return 0;
}

static bool bollinger_on_market(void *state, const union fks_event *md, struct fks_ev_signal *out)
{
	struct bollinger *s = state;
	struct strategy_sample smp;
	struct ind_bollinger_out b;

	if (!strategy_common_sample(&s->c, md, &smp))
		return false;
	ind_bollinger_update(&s->bb, smp.px2);
	if (!ind_bollinger_value(&s->bb, &b))
		return false;

	double x = (double)smp.px2;
	int zone = x > b.upper ? 1 : x < b.lower ? -1 : 0;

	if (zone == 0 || !(b.sigma > 0)) {
		s->zone = 0;
		return false;
	}
	double az = fabs((x - b.mid) / b.sigma);
	bool fresh = zone != s->zone;

	s->zone = zone;
	if (!fresh && !(az > s->extreme))
		return false;
	s->extreme = az;

	uint8_t side = (zone < 0) != s->breakout ? FKS_SIDE_BUY : FKS_SIDE_SELL;
	uint32_t conf = strategy_confidence(az - s->k_ppm / 1e6);

	if (!strategy_common_signal(&s->c, md, side, conf, &smp, out))
		return false;
	if (!s->breakout && !s->tp_given) {
		/* mid is in doubled units: halve, rounding toward the entry. */
		double half = b.mid / 2.0;
		int64_t tp = side == FKS_SIDE_BUY ? (int64_t)floor(half) : (int64_t)ceil(half);

		if (side == FKS_SIDE_BUY ? tp > out->entry_px : tp < out->entry_px)
			out->take_profit_px = tp;
	}
	return true;
}

const struct strategy_vtbl bollinger_vtbl = {
	.kind = "bollinger",
	.state_size = sizeof(struct bollinger),
	.init = bollinger_init,
	.on_market = bollinger_on_market,
};
