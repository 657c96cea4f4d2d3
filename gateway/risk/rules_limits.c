/*
 * Per-order and per-instrument size limits.  Each takes one parameter,
 * `limit`, a decimal resolved exactly at every instrument's scale: a
 * quantity at qty_scale, money at px_scale.  At the limit passes; one unit
 * over fails.
 */
#include "gateway/risk/rules.h"

#include <string.h>

static int limit_init(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
		      size_t n_params, bool money, bool zero_ok, struct fks_param_error *err)
{
	struct rule_limit_state *s = state;
	bool given = false;
	for (size_t i = 0; i < n_params; i++) {
		if (strcmp(params[i].key, "limit"))
			return fks_param_unknown(&params[i], "limit", err);
		if (risk_parse_limit(&params[i], ctx, money, zero_ok, s->limit, err))
			return -1;
		given = true;
	}
	/* No default on purpose: a guessed risk limit is worse than none. */
	return given ? 0 : fks_param_fail(err, NULL, "parameter `limit` is required");
}

static int qty_init(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
		    size_t n_params, struct fks_param_error *err)
{
	return limit_init(state, ctx, params, n_params, false, false, err);
}

static int notional_init(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
			 size_t n_params, struct fks_param_error *err)
{
	return limit_init(state, ctx, params, n_params, true, false, err);
}

/* max_position 0 is allowed: flat only. */
static int max_position_init(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
			     size_t n_params, struct fks_param_error *err)
{
	return limit_init(state, ctx, params, n_params, false, true, err);
}

/* qty > limit.  limit, value: qty. */
static enum fks_risk_reason qty_check(const void *state, const struct risk_view *v,
				      const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	int64_t max = ((const struct rule_limit_state *)state)->limit[v->inst];
	if (o->qty <= max)
		return FKS_RISK_OK;
	*limit = max;
	*value = o->qty;
	return FKS_RISK_MAX_QTY;
}

/* px * qty > limit * 10^qty_scale, exactly, in 128-bit integers (both
 * products are below 2^126).  value ceil(px * qty / 10^qty_scale), rounded
 * up so that a breach never prints as equal to the limit. */
static enum fks_risk_reason notional_check(const void *state, const struct risk_view *v,
					   const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	int64_t max = ((const struct rule_limit_state *)state)->limit[v->inst];
	int64_t unit = v->book->qty_unit;
	__int128 notional_scaled = (__int128)o->px * o->qty;
	if (notional_scaled <= (__int128)max * unit)
		return FKS_RISK_OK;
	*limit = max;
	*value = risk_saturate((notional_scaled + unit - 1) / unit);
	return FKS_RISK_MAX_NOTIONAL;
}

/* The worst case after this order, where every open order on the same side
 * fills and none on the other does: |position + open_buy + qty| for a buy,
 * |position - open_sell - qty| for a sell. */
static enum fks_risk_reason max_position_check(const void *state, const struct risk_view *v,
					       const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	int64_t max = ((const struct rule_limit_state *)state)->limit[v->inst];
	const struct risk_book *b = v->book;
	bool buy = o->side == FKS_SIDE_BUY;
	__int128 same_side_open = (__int128)(buy ? b->open_buy : b->open_sell) + o->qty;
	__int128 worst = buy ? b->position.qty + same_side_open : b->position.qty - same_side_open;
	if (worst < 0)
		worst = -worst;
	/* The second test only matters for a position already far beyond any
	 * limit (near the int64 edge): open quantities must stay in int64. */
	if (worst <= max && same_side_open <= INT64_MAX)
		return FKS_RISK_OK;
	*limit = max;
	*value = risk_saturate(worst);
	return FKS_RISK_MAX_POSITION;
}

#define LIMIT_RULE(n, why, init_fn, check_fn) { .name = n, .reason = why, \
	.state_size = sizeof(struct rule_limit_state), .init = init_fn, .check = check_fn }
const struct risk_rule_vtbl risk_rule_max_order_qty = LIMIT_RULE("max_order_qty", FKS_RISK_MAX_QTY, qty_init, qty_check);
const struct risk_rule_vtbl risk_rule_max_notional =
	LIMIT_RULE("max_notional", FKS_RISK_MAX_NOTIONAL, notional_init, notional_check);
const struct risk_rule_vtbl risk_rule_max_position =
	LIMIT_RULE("max_position", FKS_RISK_MAX_POSITION, max_position_init, max_position_check);
