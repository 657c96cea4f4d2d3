/*
 * ASMBTR: see asmbtr.h for the model.
 */
#include "strategies/impl/asmbtr.h"

#include <string.h>

static int asmbtr_init(void *state, const struct strategy_ctx *ctx,
		       const struct fks_param *params, size_t n, struct fks_param_error *err)
{
	static const char *const sources[] = { "quote", "trade" };
	struct asmbtr *a = state;

	memset(a, 0, sizeof *a);
	a->ctx = *ctx;
	a->depth = 8;
	a->decay_ppm = 990000;
	a->threshold_ppm = 600000;
	a->min_obs = 10;
	a->on = STRATEGY_ON_QUOTE;
	strategy_bracket_defaults(&a->bracket);
	if (ctx->instrument == 0)
		return fks_param_fail(err, NULL, "asmbtr: instrument id must not be 0");

	for (size_t i = 0; i < n; i++) {
		const struct fks_param *p = &params[i];
		int rc = 0;

		if (strcmp(p->key, "depth") == 0) {
			rc = strategy_parse_u32(p, 4, ASMBTR_MAX_DEPTH, &a->depth, err);
		} else if (strcmp(p->key, "decay") == 0) {
			rc = strategy_parse_ppm(p, 900000, 1000000, &a->decay_ppm, err);
		} else if (strcmp(p->key, "threshold") == 0) {
			rc = strategy_parse_ppm(p, 550000, 750000, &a->threshold_ppm, err);
		} else if (strcmp(p->key, "min_obs") == 0) {
			rc = strategy_parse_u32(p, 1, 1000000, &a->min_obs, err);
		} else if (strcmp(p->key, "on") == 0) {
			unsigned v;

			rc = strategy_parse_enum(p, sources, 2, &v, err);
			a->on = (enum strategy_source)v;
		} else {
			int b = strategy_bracket_param(&a->bracket, p, false, err);

			if (b == 0)
				return fks_param_fail(err, p->key, "asmbtr: unknown key '%s'", p->key);
			rc = b < 0 ? -1 : 0;
		}
		if (rc)
			return -1;
	}
	return 0;
}

static void learn(struct asmbtr *a, struct asmbtr_cell *c, bool up)
{
	uint64_t d = a->decay_ppm;

	c->up = (uint64_t)((unsigned __int128)c->up * d / 1000000) + (up ? ASMBTR_ONE : 0);
	c->total = (uint64_t)((unsigned __int128)c->total * d / 1000000) + ASMBTR_ONE;
	if (c->total > (1ull << 62)) {
		c->up /= 2;
		c->total /= 2;
	}
	if (c->n != UINT32_MAX)
		c->n++;
}

static bool asmbtr_on_market(void *state, const union fks_event *md, struct fks_ev_signal *out)
{
	struct asmbtr *a = state;
	struct strategy_sample s;

	if (!strategy_sample(md, a->on, &s))
		return false;
	bool first = a->samples++ == 0;
	int64_t prev = a->last_px2;

	a->last_px2 = s.px2;
	if (first || s.px2 == prev)
		return false;

	bool up = s.px2 > prev;
	uint32_t mask = (1u << a->depth) - 1;

	/* The state before this change is complete once `depth` changes have
	 * been seen; this change is its outcome. */
	if (a->changes >= a->depth)
		learn(a, &a->cell[a->state], up);
	a->state = ((a->state << 1) | (up ? 1u : 0u)) & mask;
	a->changes++;
	if (a->changes < a->depth)
		return false;

	const struct asmbtr_cell *c = &a->cell[a->state];

	if (c->n < a->min_obs || c->total == 0)
		return false;
	unsigned __int128 thr = (unsigned __int128)a->threshold_ppm * c->total;
	unsigned __int128 up_m = (unsigned __int128)c->up * 1000000;
	unsigned __int128 dn_m = (unsigned __int128)(c->total - c->up) * 1000000;
	uint8_t side;
	unsigned __int128 num;

	if (up_m >= thr) {
		side = FKS_SIDE_BUY;
		num = up_m;
	} else if (dn_m >= thr) {
		side = FKS_SIDE_SELL;
		num = dn_m;
	} else {
		return false;
	}
	int64_t entry = side == FKS_SIDE_BUY ? s.buy_px : s.sell_px;

	strategy_signal_init(out, md, &a->ctx, side, (uint32_t)(num / c->total), entry);
	strategy_bracket_apply(&a->bracket, side, entry, 0, &out->take_profit_px,
			       &out->stop_loss_px);
	a->signals++;
	return true;
}

const struct strategy_vtbl asmbtr_vtbl = {
	.kind = "asmbtr",
	.state_size = sizeof(struct asmbtr),
	.init = asmbtr_init,
	.on_market = asmbtr_on_market,
};
