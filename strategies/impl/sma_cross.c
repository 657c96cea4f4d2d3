/*
 * Moving-average crossover: see sma_cross.h.
 */
#include "strategies/impl/sma_cross.h"

#include <math.h>
#include <string.h>

static int sma_cross_init(void *state, const struct strategy_ctx *ctx,
			  const struct fks_param *params, size_t n, struct fks_param_error *err)
{
	static const char *const kinds[] = { "sma", "ema" };
	struct sma_cross *s = state;
	const char *fast_key = NULL;

	memset(s, 0, sizeof *s);
	strategy_common_init(&s->c, ctx);
	s->fast = 10;
	s->slow = 30;
	s->full_bps = 10;
	if (ctx->instrument == 0)
		return fks_param_fail(err, NULL, "sma_cross: instrument id must not be 0");
	for (size_t i = 0; i < n; i++) {
		const struct fks_param *p = &params[i];
		int rc;

		if (strcmp(p->key, "fast") == 0) {
			rc = strategy_parse_u32(p, 1, IND_MAX_WINDOW - 1, &s->fast, err);
			fast_key = p->key;
		} else if (strcmp(p->key, "slow") == 0) {
			rc = strategy_parse_u32(p, 2, IND_MAX_WINDOW, &s->slow, err);
		} else if (strcmp(p->key, "full_conf_bps") == 0) {
			rc = strategy_parse_u32(p, 1, 10000, &s->full_bps, err);
		} else if (strcmp(p->key, "ma") == 0) {
			unsigned v;

			rc = strategy_parse_enum(p, kinds, 2, &v, err);
			s->ema = v == 1;
		} else {
			int c = strategy_common_param(&s->c, p, err);

			if (c == 0)
				return fks_param_fail(err, p->key, "sma_cross: unknown key '%s'", p->key);
			rc = c < 0 ? -1 : 0;
		}
		if (rc)
			return -1;
	}
	if (strategy_common_finish(&s->c, err))
		return -1;
	if (s->fast >= s->slow)
		return fks_param_fail(err, fast_key ? fast_key : "slow",
				     "sma_cross: fast (%u) must be below slow (%u)", s->fast, s->slow);
	if (s->ema) {
		ind_ema_init(&s->ema_fast, s->fast);
		ind_ema_init(&s->ema_slow, s->slow);
	} else {
		ind_sma_init(&s->sma_fast, s->fast);
		ind_sma_init(&s->sma_slow, s->slow);
	}
	return 0;
}

static bool sma_cross_on_market(void *state, const union fks_event *md, struct fks_ev_signal *out)
{
	struct sma_cross *s = state;
	struct strategy_sample smp;
	double f, sl;
	int cmp;

	if (!strategy_common_sample(&s->c, md, &smp))
		return false;
	if (s->ema) {
		ind_ema_update(&s->ema_fast, (double)smp.px2);
		ind_ema_update(&s->ema_slow, (double)smp.px2);
		if (!ind_ema_value(&s->ema_fast, &f) || !ind_ema_value(&s->ema_slow, &sl))
			return false;
		cmp = (f > sl) - (f < sl);
	} else {
		ind_sma_update(&s->sma_fast, smp.px2);
		ind_sma_update(&s->sma_slow, smp.px2);
		if (!ind_sma_ready(&s->sma_fast) || !ind_sma_ready(&s->sma_slow))
			return false;
		__int128 lhs = ind_sma_sum(&s->sma_fast) * s->slow;
		__int128 rhs = ind_sma_sum(&s->sma_slow) * s->fast;

		cmp = (lhs > rhs) - (lhs < rhs);
		ind_sma_value(&s->sma_fast, &f);
		ind_sma_value(&s->sma_slow, &sl);
	}
	int prev = s->prev_cmp;
	bool had = s->have_prev;

	s->prev_cmp = cmp;
	s->have_prev = true;
	if (!had)
		return false;
	uint8_t side;

	if (prev <= 0 && cmp > 0)
		side = FKS_SIDE_BUY;
	else if (prev >= 0 && cmp < 0)
		side = FKS_SIDE_SELL;
	else
		return false;
	double strength = sl > 0 ? fabs(f - sl) / sl * 10000.0 / s->full_bps : 0;

	return strategy_common_signal(&s->c, md, side, strategy_confidence(strength), &smp, out);
}

const struct strategy_vtbl sma_cross_vtbl = {
	.kind = "sma_cross",
	.state_size = sizeof(struct sma_cross),
	.init = sma_cross_init,
	.on_market = sma_cross_on_market,
};
