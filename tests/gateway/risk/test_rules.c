/*
 * The rule runner's seams (gateway/risk/rule.h): a rule registered from this
 * file, with no change anywhere else, runs in the chain, sees market data
 * and execution reports through the read-only view, and rejects with its
 * own reason, limit and value.  docs/adding-a-risk-rule.md points here.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "gateway/risk/risk.h"
#include "shm/reasons.h"

/* ---- a test-only rule: the whole of it ----------------------------------
 * price_band: a limit order more than max_bps away from the instrument's
 * mark is refused (FKS_RISK_PRICE_BAND; limit the band's edge, value the
 * order's price, both at px_scale).  Before any mark it passes. */

struct price_band {
	uint32_t max_bps;
	uint32_t fills_seen;  /* proves on_exec is called */
};

static int price_band_init(void *state, const struct risk_rule_ctx *ctx, const struct fks_param *params,
			   size_t n_params, struct fks_param_error *err)
{
	struct price_band *s = state;
	(void)ctx;
	s->max_bps = 100;
	for (size_t i = 0; i < n_params; i++) {
		if (strcmp(params[i].key, "max_bps"))
			return fks_param_unknown(&params[i], "max_bps", err);
		if (fks_param_u32(&params[i], 1, 10000, &s->max_bps, err))
			return -1;
	}
	return 0;
}

static enum fks_risk_reason price_band_check(const void *state, const struct risk_view *v,
					     const struct fks_ev_order_new *o, int64_t *limit, int64_t *value)
{
	const struct price_band *s = state;
	int64_t mark = v->book->mark_px;
	if (mark == 0)
		return FKS_RISK_OK;
	int64_t width = (int64_t)((__int128)mark * s->max_bps / 10000);
	int64_t edge = o->side == FKS_SIDE_BUY ? mark + width : mark - width;
	if (o->side == FKS_SIDE_BUY ? o->px <= edge : o->px >= edge)
		return FKS_RISK_OK;
	*limit = edge;
	*value = o->px;
	return FKS_RISK_PRICE_BAND;
}

static void price_band_on_exec(void *state, const union fks_event *ev, const struct risk_view *v)
{
	(void)v;
	if (ev->h.type == FKS_EV_FILL)
		((struct price_band *)state)->fills_seen++;
}

static const struct risk_rule_vtbl price_band_rule = {
	.name = "test_price_band",
	.reason = FKS_RISK_PRICE_BAND,
	.state_size = sizeof(struct price_band),
	.init = price_band_init,
	.check = price_band_check,
	.on_exec = price_band_on_exec,
};

/* ---- set-up ------------------------------------------------------------- */

static struct risk *risk;

static void register_once(void)
{
	if (!risk_rule_find(price_band_rule.name))
		cr_assert_eq(risk_rule_register(&price_band_rule), 0);
	risk = malloc(sizeof *risk);
	cr_assert_not_null(risk);
}

static void teardown(void)
{
	free(risk);
}

TestSuite(risk_rules, .init = register_once, .fini = teardown);

static struct risk_setup setup_with(const char *rule, const char *key, const char *value)
{
	struct risk_setup s = { .n_instruments = 1, .n_rules = 2 };
	s.instrument[0] = (struct risk_instrument_def){ .id = 1, .px_scale = 2, .qty_scale = 0, .symbol = "X" };
	s.rule[0] = (struct risk_rule_spec){ .name = "max_order_qty", .n_params = 1, .param = { { "limit", "10" } } };
	s.rule[1] = (struct risk_rule_spec){ .name = rule, .n_params = key ? 1 : 0, .param = { { key, value } } };
	return s;
}

static struct fks_ev_order_new order(uint64_t id, uint8_t side, int64_t px, int64_t qty)
{
	return (struct fks_ev_order_new){
		.h = { .type = FKS_EV_ORDER_NEW, .instrument = 1, .recv_time_ns = 5 },
		.order_id = id, .side = side, .ord_type = FKS_ORD_LIMIT, .tif = FKS_TIF_GTC, .px = px, .qty = qty,
	};
}

static union fks_event trade(int64_t px)
{
	union fks_event e = { .trade = { .h = { .type = FKS_EV_TRADE, .instrument = 1 }, .px = px, .qty = 1 } };
	return e;
}

/* ---- the test-only rule in the chain ------------------------------------ */

Test(risk_rules, registered_rule_rejects_with_its_reason_limit_and_value)
{
	struct risk_setup s = setup_with("test_price_band", "max_bps", "50");
	struct risk_error err;
	cr_assert_eq(risk_init_rules(risk, &s, &err), 0, "%s", err.why.msg);

	int64_t limit, value;
	struct fks_ev_order_new o = order(1, FKS_SIDE_BUY, 20000, 1);
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_OK, "no mark yet: passes");

	union fks_event t = trade(10000); /* mark 100.00: band 99.50 .. 100.50 */
	risk_on_market(risk, &t);
	o = order(2, FKS_SIDE_BUY, 10051, 1);
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_PRICE_BAND);
	cr_assert_eq(limit, 10050);
	cr_assert_eq(value, 10051);
	cr_assert_eq(risk_reject_count(risk, FKS_RISK_PRICE_BAND), 1);
	cr_assert_str_eq(fks_reason_risk(FKS_RISK_PRICE_BAND)->name, "price_band");
	cr_assert_eq(fks_reason_risk(FKS_RISK_PRICE_BAND)->unit, FKS_UNIT_PX);

	o = order(3, FKS_SIDE_SELL, 9950, 1);
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_OK, "at the edge passes");
	/* Configured order: max_order_qty is listed first, so it wins. */
	o = order(4, FKS_SIDE_BUY, 99999, 11);
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_MAX_QTY);

	union fks_event f = { .fill = { .h = { .type = FKS_EV_FILL, .instrument = 1 }, .order_id = 3, .qty = 1 } };
	risk_on_exec(risk, &f);
	const struct price_band *st = (const void *)(risk->arena + risk->chain[4].state_off);
	cr_assert_eq(risk->chain[4].vt, &price_band_rule, "pinned head (3), max_order_qty, then the rule");
	cr_assert_eq(st->fills_seen, 1);
	int64_t pos, ob, os;
	cr_assert(risk_exposure(risk, 1, &pos, &ob, &os));
	cr_assert_eq(pos, -1);
}

Test(risk_rules, registered_rule_checks_its_own_parameters)
{
	struct risk_setup s = setup_with("test_price_band", "max_bps", "0");
	struct risk_error err;
	cr_assert_eq(risk_init_rules(risk, &s, &err), -1);
	cr_assert_eq(err.rule, 1);
	cr_assert_str_eq(err.why.key, "max_bps");
	cr_assert(strstr(err.why.msg, "out of range"), "%s", err.why.msg);

	s = setup_with("test_price_band", "max_bsp", "5");
	cr_assert_eq(risk_init_rules(risk, &s, &err), -1);
	cr_assert_str_eq(err.why.key, "max_bsp");
	cr_assert(strstr(err.why.msg, "unknown parameter"), "%s", err.why.msg);
}

Test(risk_rules, registry_refuses_a_taken_name_and_malformed_tables)
{
	cr_assert_eq(risk_rule_register(&price_band_rule), -1, "already registered");
	struct risk_rule_vtbl v = price_band_rule;
	v.name = "max_notional";
	cr_assert_eq(risk_rule_register(&v), -1, "a built-in name");
	v.name = "test_pinned";
	v.pinned = true;
	cr_assert_eq(risk_rule_register(&v), -1, "only the runner pins rules");
	v.pinned = false;
	v.reason = FKS_RISK_OK;
	cr_assert_eq(risk_rule_register(&v), -1, "a rule must have a reason");
	v.reason = FKS_RISK_PRICE_BAND;
	v.check = NULL;
	cr_assert_eq(risk_rule_register(&v), -1, "no check");
}

/* ---- the runner's own refusals ------------------------------------------ */

Test(risk_rules, runner_refuses_unknown_pinned_and_repeated_rules)
{
	struct risk_error err;
	struct risk_setup s = setup_with("no_such_rule", NULL, NULL);
	cr_assert_eq(risk_init_rules(risk, &s, &err), -1);
	cr_assert_eq(err.rule, 1);
	cr_assert_str_eq(err.why.msg, "unknown rule");

	s = setup_with("throttle", NULL, NULL);
	cr_assert_eq(risk_init_rules(risk, &s, &err), -1);
	cr_assert(strstr(err.why.msg, "cannot be listed"), "%s", err.why.msg);

	s = setup_with("max_order_qty", "limit", "3");
	cr_assert_eq(risk_init_rules(risk, &s, &err), -1);
	cr_assert_str_eq(err.why.msg, "listed twice");

	s = setup_with("stale_data", NULL, NULL);
	s.n_rules = RISK_MAX_RULES;
	cr_assert_eq(risk_init_rules(risk, &s, &err), -1);
	cr_assert_eq(err.rule, RISK_MAX_RULES);
}

/* Kill switch, bad order, a dead feed and throttle run with no rule listed. */
Test(risk_rules, pinned_rules_run_without_any_configured_rule)
{
	struct risk_setup s = setup_with("stale_data", NULL, NULL);
	s.n_rules = 0;
	s.kill_switch = true;
	struct risk_error err;
	cr_assert_eq(risk_init_rules(risk, &s, &err), 0, "%s", err.why.msg);
	int64_t limit, value;
	struct fks_ev_order_new o = order(1, FKS_SIDE_BUY, 100, 1);
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_KILL_SWITCH);
	risk_set_kill(risk, false);
	o.qty = 0;
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_BAD_ORDER);
	o.qty = 1;
	risk_set_feed_stale(risk, true);
	cr_assert_eq(risk_check_order(risk, &o, 5, &limit, &value), FKS_RISK_STALE_DATA);
	cr_assert_eq(value, 1);
	risk_set_feed_stale(risk, false);
	/* No stale_data rule listed: an old order passes. */
	cr_assert_eq(risk_check_order(risk, &o, 5 + 3600000000000LL, &limit, &value), FKS_RISK_OK);
}

/* Marks: a trade's price, a two-sided quote's mid; nothing else moves them. */
Test(risk_rules, marks_follow_trades_and_two_sided_quotes)
{
	struct risk_setup s = setup_with("stale_data", NULL, NULL);
	struct risk_error err;
	cr_assert_eq(risk_init_rules(risk, &s, &err), 0, "%s", err.why.msg);
	union fks_event t = trade(10000);
	risk_on_market(risk, &t);
	cr_assert_eq(risk->book[0].mark_px, 10000);
	union fks_event q = { .quote = { .h = { .type = FKS_EV_QUOTE, .instrument = 1 }, .bid_px = 10001,
					 .ask_px = 10004 } };
	risk_on_market(risk, &q);
	cr_assert_eq(risk->book[0].mark_px, 10002);
	q.quote.bid_px = 0; /* one-sided */
	risk_on_market(risk, &q);
	cr_assert_eq(risk->book[0].mark_px, 10002);
	t.h.instrument = 9; /* not traded here */
	risk_on_market(risk, &t);
	cr_assert_eq(risk->book[0].mark_px, 10002);
}
