/*
 * The risk section: either `risk.rules` (the rules of gateway/risk by name,
 * with their parameters as text) or the legacy shorthand, expanded into the
 * same rules; and config_build_risk, which the loader runs once so that a
 * refused parameter is reported at its own line and column.
 */
#include "pipeline/config/config_int.h"

#include <inttypes.h>
#include <stdlib.h>

#include "gateway/risk/risk.h"
#include "shm/fixed.h"

_Static_assert(FKS_RISK_PARAMS_MAX <= RISK_MAX_RULE_PARAMS, "risk.rules[].params: more than a rule takes");
_Static_assert(FKS_MAX_RISK_RULES <= RISK_MAX_RULES - 4, "risk.rules: more than the runner holds");
_Static_assert(FKS_MAX_INSTRUMENTS <= RISK_MAX_INSTRUMENTS, "instruments: more than risk holds");

/* dst was derived from the value at src (the legacy risk shorthand): report
 * its errors where src was written. */
static void remember_as(struct loader *ld, const void *dst, const void *src)
{
	const struct value_mark *from = cfg_find_mark(ld, src);
	if (!from || ld->n_marks == MAX_MARKS)
		return;
	struct value_mark *vm = &ld->marks[ld->n_marks++];
	*vm = *from;
	vm->dst = dst;
}

/* Where a top-level key was written (the root when it was not). */
static yaml_mark_t top_key_mark(struct loader *ld, const char *key)
{
	const yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
	for (const yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(ld, p->key);
		if (k->type == YAML_SCALAR_NODE && scalar_is(k, key))
			return k->start_mark;
	}
	return root->start_mark;
}

/* `rules`, or the whole legacy shorthand: one of the two, never both. */
int cfg_check_risk_form(struct loader *ld, struct fks_config *cfg)
{
	struct fks_risk_cfg *r = &cfg->risk;
	const char *const names[] = { "max_order_qty", "max_notional", "max_position" };
	const char *const limits[] = { r->max_order_qty, r->max_notional, r->max_position };
	r->legacy = cfg_find_mark(ld, &r->stale_data_ms) != NULL;
	for (int i = 0; i < 3; i++)
		r->legacy |= cfg_find_mark(ld, limits[i]) != NULL;
	yaml_mark_t at = top_key_mark(ld, "risk");
	if (r->legacy && r->n_rules)
		return cfg_fail_field(ld, r->rules[0].rule, "risk.rules replaces the legacy keys (max_order_qty, "
				      "max_notional, max_position, stale_data_ms): give one or the other");
	if (!r->legacy && !r->n_rules)
		return cfg_fail_at(ld, &at, "risk.rules", "required key is missing (or the legacy max_order_qty, "
				   "max_notional and max_position)");
	for (int i = 0; r->legacy && i < 3; i++) {
		if (cfg_find_mark(ld, limits[i]))
			continue;
		char path[KEY_PATH_MAX];
		cfg_child_path(path, "risk", names[i], strlen(names[i]));
		return cfg_fail_at(ld, &at, path, "required key is missing");
	}
	return 0;
}

/* The legacy shorthand as rules, in today's order; errors in them point at
 * the legacy keys they came from. */
static void expand_legacy_risk(struct loader *ld, struct fks_risk_cfg *r)
{
	const struct { const char *rule, *key; const char *text; const void *src; } from[] = {
		{ "stale_data", "max_age_ms", NULL, &r->stale_data_ms },
		{ "max_order_qty", "limit", r->max_order_qty, r->max_order_qty },
		{ "max_notional", "limit", r->max_notional, r->max_notional },
		{ "max_position", "limit", r->max_position, r->max_position },
	};
	for (uint32_t i = 0; i < sizeof from / sizeof from[0]; i++) {
		struct fks_risk_rule_cfg *rc = &r->rules[i];
		snprintf(rc->rule, sizeof rc->rule, "%s", from[i].rule);
		rc->n_params = 1;
		snprintf(rc->param[0].key, sizeof rc->param[0].key, "%s", from[i].key);
		if (from[i].text)
			snprintf(rc->param[0].value, sizeof rc->param[0].value, "%s", from[i].text);
		else
			snprintf(rc->param[0].value, sizeof rc->param[0].value, "%" PRIu32, r->stale_data_ms);
		remember_as(ld, rc->param[0].value, from[i].src);
	}
	r->n_rules = sizeof from / sizeof from[0];
}

/* Build the runner once, exactly as the risk stage will, so that every
 * rule's parameter errors are found before anything starts, at the value's
 * own line and column. */
int cfg_check_risk_rules(struct loader *ld, struct fks_config *cfg)
{
	struct fks_risk_cfg *r = &cfg->risk;
	if (r->legacy)
		expand_legacy_risk(ld, r);
	struct risk *rk = malloc(sizeof *rk);
	if (!rk) {
		cfg_set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	struct risk_error e = { 0 };
	int rc = config_build_risk(cfg, rk, &e);
	free(rk);
	if (rc == 0)
		return 0;
	if (e.rule >= r->n_rules) {
		yaml_mark_t at = top_key_mark(ld, "risk");
		return cfg_fail_at(ld, &at, "risk", "%s", e.why.msg);
	}
	const struct fks_risk_rule_cfg *bad = &r->rules[e.rule];
	for (uint32_t k = 0; e.why.key && k < bad->n_params; k++)
		if (!strcmp(bad->param[k].key, e.why.key))
			return cfg_fail_field(ld, bad->param[k].value, "%s", e.why.msg);
	return cfg_fail_field(ld, bad->rule, "\"%s\": %s", bad->rule, e.why.msg);
}

/* The strategy's order size against one max_order_qty limit: an order the
 * risk stage would refuse every time is a config error, named at both keys. */
static int check_qty_under_limit(struct loader *ld, const struct fks_config *cfg, const char *limit_text)
{
	const struct value_mark *at = cfg_find_mark(ld, limit_text);
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *in = &cfg->instrument[i];
		int64_t limit;
		/* The runner was built from this text: it resolves at every scale. */
		if (fx_parse(limit_text, strlen(limit_text), in->qty_scale, &limit) != FX_OK || in->order_qty <= limit)
			continue;
		return cfg_fail_field(ld, cfg->strategy.qty, "%s is above %s (%s, at line %zu column %zu) for "
				      "instruments[%" PRIu32 "] (%s): the risk stage would refuse every order",
				      cfg->strategy.qty, at ? at->path : "max_order_qty", limit_text,
				      at ? at->mark.line + 1 : 0, at ? at->mark.column + 1 : 0, i, in->symbol);
	}
	return 0;
}

/* Every max_order_qty rule's limit against strategy.qty (the `strategies`
 * list sizes its orders through engine parameters, checked by the engine). */
int cfg_check_order_size(struct loader *ld, const struct fks_config *cfg)
{
	if (!cfg->strategy.qty[0])
		return 0;
	for (uint32_t r = 0; r < cfg->risk.n_rules; r++) {
		const struct fks_risk_rule_cfg *rc = &cfg->risk.rules[r];
		if (strcmp(rc->rule, "max_order_qty"))
			continue;
		for (uint32_t k = 0; k < rc->n_params; k++)
			if (!strcmp(rc->param[k].key, "limit") && check_qty_under_limit(ld, cfg, rc->param[k].value))
				return -1;
	}
	return 0;
}

int config_build_risk(const struct fks_config *cfg, struct risk *r, struct risk_error *err)
{
	struct risk_setup s = {
		.n_instruments = cfg->n_instruments,
		.n_rules = cfg->risk.n_rules,
		.equity = cfg->account.equity_cents,
		.equity_scale = 2,
		.kill_switch = cfg->risk.kill_switch,
	};
	for (uint32_t i = 0; i < cfg->n_instruments && i < RISK_MAX_INSTRUMENTS; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		s.instrument[i] = (struct risk_instrument_def){ .id = ic->id, .px_scale = ic->px_scale,
								.qty_scale = ic->qty_scale };
		snprintf(s.instrument[i].symbol, sizeof s.instrument[i].symbol, "%s", ic->symbol);
	}
	for (uint32_t i = 0; i < cfg->risk.n_rules && i < FKS_MAX_RISK_RULES; i++) {
		const struct fks_risk_rule_cfg *rc = &cfg->risk.rules[i];
		s.rule[i].name = rc->rule;
		s.rule[i].n_params = rc->n_params;
		for (uint32_t k = 0; k < rc->n_params && k < RISK_MAX_RULE_PARAMS; k++)
			s.rule[i].param[k] = (struct fks_param){ rc->param[k].key, rc->param[k].value };
	}
	return risk_init_rules(r, &s, err);
}
