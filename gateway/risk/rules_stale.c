/* Market data too old to trade on. */
#include "gateway/risk/rules.h"

#include <string.h>

#define STALE_DEFAULT_MS 1000
#define STALE_MAX_MS 3600000

/* Params: max_age_ms, 1..3600000, default 1000. */
static int stale_init(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
		      size_t n_params, struct fks_param_error *err)
{
	struct rule_stale_state *s = state;
	uint32_t ms = STALE_DEFAULT_MS;
	(void)ctx;
	for (size_t i = 0; i < n_params; i++) {
		if (strcmp(params[i].key, "max_age_ms"))
			return fks_param_unknown(&params[i], "max_age_ms", err);
		if (fks_param_u32(&params[i], 1, STALE_MAX_MS, &ms, err))
			return -1;
	}
	s->max_age_ns = (int64_t)ms * 1000000;
	return 0;
}

/* now_ns - h.recv_time_ns > max_age_ns.  limit max_age_ns, value the age.
 * An age <= 0 (a receive time in the future) is fresh. */
static enum fks_risk_reason stale_check(const void *state, const struct risk_view *v,
					const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	const struct rule_stale_state *s = state;
	__int128 age = (__int128)v->now_ns - o->h.recv_time_ns;
	if (age <= s->max_age_ns)
		return FKS_RISK_OK;
	*limit = s->max_age_ns;
	*value = risk_saturate(age);
	return FKS_RISK_STALE_DATA;
}

const struct risk_rule_vtbl risk_rule_stale_data = {
	.name = "stale_data",
	.reason = FKS_RISK_STALE_DATA,
	.state_size = sizeof(struct rule_stale_state),
	.init = stale_init,
	.check = stale_check,
};
