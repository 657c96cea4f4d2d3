/*
 * The pinned rules: they protect the order path itself, so the runner
 * always applies them, in this order, and no config can drop them:
 * kill_switch, bad_order and feed_dead before every configured rule,
 * throttle after them all (it guards the open-order table the runner fills
 * once an order passes).
 */
#include "gateway/risk/risk.h"

static int no_params(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
		     size_t n_params, struct fks_param_error *err)
{
	(void)state;
	(void)ctx;
	return n_params ? fks_param_unknown(&params[0], "(none)", err) : 0;
}

/* The kill switch is on.  limit 0, value 1. */
static enum fks_risk_reason kill_switch_check(const void *state, const struct risk_view *v,
					      const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	(void)state;
	(void)o;
	if (!v->kill)
		return FKS_RISK_OK;
	*limit = 0;
	*value = 1;
	return FKS_RISK_KILL_SWITCH;
}

/* The order cannot be checked or tracked (see risk.h).  limit 0, value 0. */
static enum fks_risk_reason bad_order_check(const void *state, const struct risk_view *v,
					    const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	(void)state;
	bool well_formed = o->h.type == FKS_EV_ORDER_NEW && o->order_id != 0 &&
			   (o->side == FKS_SIDE_BUY || o->side == FKS_SIDE_SELL) &&
			   (o->ord_type == FKS_ORD_LIMIT || o->ord_type == FKS_ORD_MARKET) &&
			   o->tif >= FKS_TIF_DAY && o->tif <= FKS_TIF_FOK && o->qty > 0 && o->px > 0;
	if (well_formed && v->inst >= 0 && !v->already_open)
		return FKS_RISK_OK;
	*limit = 0;
	*value = 0;
	return FKS_RISK_BAD_ORDER;
}

/* The feed stage judged the feed dead (a gap, a silence).  limit 0, value 1. */
static enum fks_risk_reason feed_dead_check(const void *state, const struct risk_view *v,
					    const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	(void)state;
	(void)o;
	if (!v->feed_stale)
		return FKS_RISK_OK;
	*limit = 0;
	*value = 1;
	return FKS_RISK_STALE_DATA;
}

/* RISK_MAX_OPEN_ORDERS are open: this one could not be tracked.  limit
 * RISK_MAX_OPEN_ORDERS, value the open count. */
static enum fks_risk_reason throttle_check(const void *state, const struct risk_view *v,
					   const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	(void)state;
	(void)o;
	if (v->n_open < RISK_MAX_OPEN_ORDERS)
		return FKS_RISK_OK;
	*limit = RISK_MAX_OPEN_ORDERS;
	*value = v->n_open;
	return FKS_RISK_THROTTLE;
}

#define PINNED(n, why) { .name = #n, .reason = why, .pinned = true, .init = no_params, .check = n##_check }
const struct risk_rule_vtbl risk_rule_kill_switch = PINNED(kill_switch, FKS_RISK_KILL_SWITCH);
const struct risk_rule_vtbl risk_rule_bad_order = PINNED(bad_order, FKS_RISK_BAD_ORDER);
const struct risk_rule_vtbl risk_rule_feed_dead = PINNED(feed_dead, FKS_RISK_STALE_DATA);
const struct risk_rule_vtbl risk_rule_throttle = PINNED(throttle, FKS_RISK_THROTTLE);
