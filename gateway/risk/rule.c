/* The rule registry, and the limit parser the rules share. */
#include "gateway/risk/rule.h"
#include "gateway/risk/rules.h"
#include "shm/fixed.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Every rule a config may name: adding one is its file and one line here. */
static const struct risk_rule_vtbl *const builtin[] = {
	&risk_rule_stale_data,
	&risk_rule_max_order_qty,
	&risk_rule_max_notional,
	&risk_rule_max_position,
	/* pinned: found by name only to say they cannot be listed */
	&risk_rule_kill_switch,
	&risk_rule_bad_order,
	&risk_rule_feed_dead,
	&risk_rule_throttle,
};

#define RISK_MAX_REGISTERED 8
static const struct risk_rule_vtbl *registered[RISK_MAX_REGISTERED];
static unsigned n_registered;

const struct risk_rule_vtbl *risk_rule_find(const char *name)
{
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		if (!strcmp(builtin[i]->name, name))
			return builtin[i];
	for (unsigned i = 0; i < n_registered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	return NULL;
}

int risk_rule_register(const struct risk_rule_vtbl *vt)
{
	if (!vt || !vt->name || !vt->init || !vt->check || vt->pinned || vt->reason == FKS_RISK_OK ||
	    vt->state_size > RISK_RULE_STATE_MAX || risk_rule_find(vt->name) || n_registered == RISK_MAX_REGISTERED)
		return -1;
	registered[n_registered++] = vt;
	return 0;
}

int risk_parse_limit(const struct fks_param *p, const struct risk_rule_ctx *ctx, bool money,
		     bool zero_ok, int64_t *out, struct fks_param_error *err)
{
	int64_t whole;
	int rc = fx_parse(p->value, strlen(p->value), 0, &whole);
	if (rc == FX_E_JUNK || rc == FX_E_EMPTY)
		return fks_param_fail(err, p->key, "\"%s\": expected a decimal number", p->value);
	const char *scale_name = money ? "px_scale" : "qty_scale";
	for (uint32_t i = 0; i < ctx->n_instruments; i++) {
		const struct risk_instrument_def *d = &ctx->instrument[i];
		unsigned scale = money ? d->px_scale : d->qty_scale;
		rc = fx_parse(p->value, strlen(p->value), scale, &out[i]);
		if (rc == FX_E_PRECISION)
			return fks_param_fail(err, p->key, "\"%s\" is not exact for %s: more decimal places than its %s %u",
					      p->value, d->symbol, scale_name, scale);
		if (rc != FX_OK)
			return fks_param_fail(err, p->key, "\"%s\" does not fit in 64 bits at %s %s %u", p->value,
					      d->symbol, scale_name, scale);
		if (out[i] < 0 || (out[i] == 0 && !zero_ok))
			return fks_param_fail(err, p->key, "must be %s 0, got %s", zero_ok ? "at least" : "greater than",
					      p->value);
	}
	return 0;
}
