/*
 * The config's venue section: `type` is looked up in the venue registry
 * (gateway/venue.h) and every other key goes, as text, to that venue's own
 * init, which the loader runs once so that a refused value is reported as
 * file:line:column: venue.KEY: problem.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/venue.h"
#include "gateway/venues/sim/sim_ops.h"
#include "pipeline/config/config.h"

/* A valid config of 12 lines; the venue section under test is line 13 on. */
static const char base[] =
	"stages:\n"                                                   /* 1 */
	"  feed: {core: 0}\n"
	"  strategy: {core: 1}\n"
	"  risk: {core: 1}\n"
	"  gateway: {core: 0}\n"                                      /* 5 */
	"instruments:\n"
	"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
	"strategy: {fast: 5, slow: 20, qty: \"0.01\"}\n"
	"risk:\n"
	"  max_order_qty: 1\n"                                        /* 10 */
	"  max_notional: 100000\n"
	"  max_position: 5\n";

static struct fks_config cfg;

/* Load base + venue; the return code, with the message in err. */
static int load_venue(const char *venue, char *err, size_t errlen)
{
	char text[2048];
	int n = snprintf(text, sizeof text, "%s%s", base, venue);
	cr_assert(n > 0 && (size_t)n < sizeof text);
	return config_load_string(text, (size_t)n, "v.yaml", &cfg, err, errlen);
}

static void expect_error(const char *venue, const char *want)
{
	char err[1024];
	cr_assert_eq(load_venue(venue, err, sizeof err), -1, "loaded: %s", venue);
	cr_assert_str_eq(err, want);
}

/* What the sim venue makes of the loaded section. */
static struct sim_venue_params sim_params(void)
{
	struct fks_param vp[FKS_VENUE_PARAMS_MAX];
	struct fks_param_error verr;
	struct sim_venue_params sp;
	cr_assert_eq(sim_venue_parse_params(&sp, vp, config_venue_params(&cfg, vp), &verr), 0, "%s", verr.msg);
	return sp;
}

Test(config_venue, the_golden_sections_keep_their_meaning)
{
	char err[1024];
	cr_assert_eq(load_venue("venue: {type: sim, fill: touch, latency_us: 0}\n", err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.venue.type, "sim");
	struct sim_venue_params sp = sim_params();
	cr_assert_eq(sp.fill, SIM_FILL_TOUCH);
	cr_assert_eq(sp.latency_us, 0);

	cr_assert_eq(load_venue("venue: {type: sim, fill: none, latency_us: 150}\n", err, sizeof err), 0, "%s", err);
	sp = sim_params();
	cr_assert_eq(sp.fill, SIM_FILL_NONE);
	cr_assert_eq(sp.latency_us, 150);

	/* No type: sim, as before; no section: sim with its defaults. */
	cr_assert_eq(load_venue("venue: {latency_us: 50}\n", err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.venue.type, "sim");
	cr_assert_eq(sim_params().latency_us, 50);
	cr_assert_eq(load_venue("", err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.venue.type, "sim");
	cr_assert_eq(cfg.venue.n_params, 0);
	sp = sim_params();
	cr_assert_eq(sp.fill, SIM_FILL_TOUCH);
	cr_assert_eq(sp.latency_us, 0);
}

Test(config_venue, every_other_key_reaches_the_venue_as_written)
{
	char err[1024];
	cr_assert_eq(load_venue("venue:\n  slippage_bps: 25\n  type: sim\n  fill: queue\n", err, sizeof err), 0,
		     "%s", err);
	cr_assert_eq(cfg.venue.n_params, 2, "type is not a parameter");
	struct fks_param vp[FKS_VENUE_PARAMS_MAX];
	cr_assert_eq(config_venue_params(&cfg, vp), 2);
	cr_assert_str_eq(vp[0].key, "slippage_bps");
	cr_assert_str_eq(vp[0].value, "25");
	cr_assert_str_eq(vp[1].key, "fill");
	cr_assert_str_eq(vp[1].value, "queue");
	struct sim_venue_params sp = sim_params();
	cr_assert_eq(sp.slippage_bps, 25);
	cr_assert_eq(sp.fill, SIM_FILL_QUEUE);

	struct venue_ctx ctx;
	config_venue_ctx(&cfg, &ctx);
	cr_assert_eq(ctx.n_instruments, 1);
	cr_assert_eq(ctx.instrument[0], cfg.instrument[0].id);
}

Test(config_venue, an_unknown_type_lists_the_known_types)
{
	char want[256];
	size_t used = 0;
	/* Every registered type, in registry order. */
	for (size_t i = 0; venue_at(i); i++)
		used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", i ? ", " : "", venue_at(i)->type);
	cr_assert(strstr(want, "sim") != NULL);
	char expect[512];
	snprintf(expect, sizeof expect, "v.yaml:14:9: venue.type: unknown venue type \"fix\"; known types: %s", want);
	expect_error("venue:\n  type: fix\n  fill: touch\n", expect);
	expect_error("venue: {type: \"\"}\n",
		     "v.yaml:13:15: venue.type: unknown venue type \"\"; known types: sim, fix44");
}

Test(config_venue, a_refused_sim_parameter_is_named_with_its_line_and_column)
{
	expect_error("venue:\n  type: sim\n  fill: sometimes\n",
		     "v.yaml:15:9: venue.fill: expected touch, none or queue, got 'sometimes'");
	expect_error("venue: {type: sim, fill: touch, latency_us: 10000001}\n",
		     "v.yaml:13:45: venue.latency_us: expected an integer in 0..10000000, got '10000001'");
	expect_error("venue: {type: sim, latency_us: -1}\n",
		     "v.yaml:13:32: venue.latency_us: expected an integer in 0..10000000, got '-1'");
	expect_error("venue:\n  type: sim\n  colour: blue\n",
		     "v.yaml:15:11: venue.colour: unknown sim venue parameter");
}

Test(config_venue, the_section_shape_is_checked_before_the_venue)
{
	expect_error("venue:\n  type: sim\n  type: sim\n",
		     "v.yaml:15:3: venue.type: duplicate key (first at line 14)");
	expect_error("venue:\n  fill: none\n  fill: touch\n",
		     "v.yaml:15:3: venue.fill: duplicate key (first at line 14)");
	expect_error("venue: {type: sim, fill: [touch]}\n",
		     "v.yaml:13:26: venue.fill: a parameter value must be a single value, not a list or mapping");
	expect_error("venue: [sim]\n", "v.yaml:13:8: venue: expected a mapping, got a list");
}

/* The fix44 venue's keys are checked at load, at their own line and
 * column, and loading connects to nothing and creates no store. */
Test(config_venue, fix44_keys_checked_at_load)
{
	static const char good[] =
		"venue:\n"                                                    /* 13 */
		"  type: fix44\n"
		"  host: 127.0.0.1\n"
		"  port: 9878\n"
		"  sender_comp_id: FKS1\n"
		"  target_comp_id: BROKER\n"
		"  store: /nonexistent/fks-fix.store\n"
		"  symbol.BTCUSDT: BTC/USDT\n";
	char err[1024];
	cr_assert_eq(load_venue(good, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.venue.type, "fix44");

	expect_error("venue:\n  type: fix44\n  host: 127.0.0.1\n  port: 0\n",
		     "v.yaml:16:9: venue.port: expected an integer in 1..65535, got '0'");
	expect_error("venue:\n  type: fix44\n  host: 127.0.0.1\n  port: 1\n  sender_comp_id: A\n"
		     "  target_comp_id: B\n  store: s\n  symbol.ETHUSDT: ETH/USDT\n",
		     "v.yaml:20:19: venue.symbol.ETHUSDT: 'ETHUSDT' is not an instrument of this config");
	expect_error("venue:\n  type: fix44\n  host: 127.0.0.1\n  port: 1\n",
		     "v.yaml:14:9: venue.type: the fix44 venue needs `sender_comp_id`");
}
