/*
 * The built-in rules, private to gateway/risk/.  Their state layouts are
 * here (not hidden in their files) for one reason: risk_init() builds the
 * default chain from limits already resolved per instrument, without going
 * through text.
 */
#ifndef FKS_GATEWAY_RISK_RULES_H
#define FKS_GATEWAY_RISK_RULES_H

#include "gateway/risk/rule.h"

/* rules_limits.c: one limit per instrument, at its scale. */
struct rule_limit_state {
	int64_t limit[RISK_MAX_INSTRUMENTS];
};
extern const struct risk_rule_vtbl risk_rule_max_order_qty, risk_rule_max_notional, risk_rule_max_position;

/* rules_stale.c */
struct rule_stale_state {
	int64_t max_age_ns;
};
extern const struct risk_rule_vtbl risk_rule_stale_data;

#endif
