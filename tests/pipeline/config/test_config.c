/*
 * Tests for pipeline/config/: the config loader and validator.
 *
 * Expected values are written by hand from the YAML they come from: from
 * pipeline/default_config.yaml and from the fixtures in tests/configs/, found
 * through $FKS_TEST_CONFIGS (set by tests/meson.build).  Every error test
 * asserts the exact line (the fixture's first line says which, and why) and
 * the key path.  Configs that vary one value are built here with
 * config_load_string.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/risk/risk.h"
#include "pipeline/config/config.h"

/* ---- helpers ----------------------------------------------------------- */

static struct fks_config *new_config(void)
{
	struct fks_config *cfg = malloc(sizeof *cfg);
	cr_assert_not_null(cfg);
	return cfg;
}

static void fixture_path(const char *name, char *buf, size_t cap)
{
	const char *dir = getenv("FKS_TEST_CONFIGS");
	cr_assert_not_null(dir, "FKS_TEST_CONFIGS is not set: run the tests through meson test");
	snprintf(buf, cap, "%s/%s", dir, name);
}

static int load_fixture(const char *name, struct fks_config *cfg, char *err, size_t errlen)
{
	char path[1024];
	fixture_path(name, path, sizeof path);
	return config_load_file(path, cfg, err, errlen);
}

static void assert_contains(const char *err, const char *needle)
{
	cr_assert(strstr(err, needle) != NULL, "expected \"%s\" in:\n  %s", needle, err);
}

/* The load must fail, at name:line:, with every needle (NULL-ended) in the message. */
static void expect_error_in(const char *err, int rc, const char *name, int line, const char *const *needles)
{
	char where[256];
	cr_assert_eq(rc, -1, "loaded, but should fail at %s:%d", name, line);
	snprintf(where, sizeof where, "%s:%d:", name, line);
	assert_contains(err, where);
	for (; *needles; needles++)
		assert_contains(err, *needles);
}

static void expect_fixture_error(const char *name, int line, const char *const *needles)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	int rc = load_fixture(name, cfg, err, sizeof err);
	expect_error_in(err, rc, name, line, needles);
	free(cfg);
}

static void expect_string_error(const char *text, int line, const char *const *needles)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	int rc = config_load_string(text, strlen(text), "inline.yaml", cfg, err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", line, needles);
	free(cfg);
}

#define NEEDLES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* A valid config whose lines 1-9 never change, so a varied line's number is
 * known; %s holds the strategy qty, then the risk block's tail. */
static const char template_head[] =
	"stages:\n"                                                   /* 1 */
	"  feed: {core: 0}\n"
	"  strategy: {core: 1}\n"
	"  risk: {core: 1}\n"
	"  gateway: {core: 0}\n"                                      /* 5 */
	"instruments:\n"
	"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
	"  - {symbol: ETHUSDT, px_scale: 2, qty_scale: 5}\n"
	"strategy: {fast: 5, slow: 20, qty: %s}\n"                    /* 9 */
	"risk:\n"                                                     /* 10 */
	"  max_order_qty: %s\n"                                       /* 11 */
	"  max_notional: %s\n"                                        /* 12 */
	"  max_position: %s\n";                                       /* 13 */

static int load_template(struct fks_config *cfg, const char *qty, const char *max_order_qty,
			 const char *max_notional, const char *max_position, char *err, size_t errlen)
{
	char text[2048];
	int n = snprintf(text, sizeof text, template_head, qty, max_order_qty, max_notional, max_position);
	cr_assert(n > 0 && (size_t)n < sizeof text);
	return config_load_string(text, (size_t)n, "inline.yaml", cfg, err, errlen);
}

/* ---- runners ------------------------------------------------------------ */

/* Everything but the placement, after line `n` of a test's own lines. */
#define RUNNER_TAIL                                                   \
	"instruments:\n"                                              \
	"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"           \
	"strategy: {fast: 5, slow: 20, qty: 0.01}\n"                   \
	"risk: {max_order_qty: 1, max_notional: 100000, max_position: 5}\n"

Test(config_runners, place_the_stages_and_give_them_the_runner_core)
{
	static const char text[] =
		"runners:\n"
		"  - {name: hot, core: 1, idle: spin}\n"
		"  - {name: disk, core: 0}\n"
		"stages:\n"
		"  feed: {runner: hot}\n"
		"  strategy: {runner: hot}\n"
		"  risk: {core: 0, wait: park}\n"
		"  gateway: {runner: hot}\n"
		"  journal: {runner: disk}\n" RUNNER_TAIL;
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(config_load_string(text, strlen(text), "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->n_runners, 3, "two declared, and risk's own");
	cr_assert_eq(cfg->runner[0].stages, (1u << FKS_CFG_FEED) | (1u << FKS_CFG_STRATEGY) | (1u << FKS_CFG_GATEWAY));
	cr_assert_eq(cfg->runner[1].idle, FKS_IDLE_BACKOFF, "backoff is the default");
	cr_assert_eq(cfg->runner[1].spin_iters, ring_wait_default().spin_iters);
	cr_assert_str_eq(cfg->runner[2].name, "risk");
	cr_assert_eq(cfg->runner[2].idle, FKS_IDLE_PARK);
	cr_assert_not(cfg->runner[2].declared);
	cr_assert_eq(cfg->stage[FKS_CFG_GATEWAY].core, 1);
	cr_assert_eq(cfg->stage[FKS_CFG_GATEWAY].wait.kind, RING_WAIT_SPIN, "a spinning runner's stages spin");
	cr_assert_eq(cfg->stage_runner[FKS_CFG_RISK], 2);
	free(cfg);
}

Test(config_runners, without_stages_journal_the_journal_shares_the_gateways_core)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(load_template(cfg, "0.01", "1", "100000", "5", err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->stage[FKS_CFG_JOURNAL].core, cfg->stage[FKS_CFG_GATEWAY].core);
	cr_assert_eq(cfg->n_runners, 5, "the dedicated layout: a runner per stage");
	cr_assert_str_eq(cfg->runner[cfg->stage_runner[FKS_CFG_JOURNAL]].name, "journal");
	free(cfg);
}

Test(config_runners, bad_placements_are_refused_at_the_line)
{
	expect_string_error("runners:\n  - {name: a, core: 0}\n  - {name: a, core: 1}\n"
			    "stages: {feed: {runner: a}, strategy: {runner: a}, risk: {runner: a}, gateway: {runner: a},"
			    " journal: {core: 1}}\n" RUNNER_TAIL,
			    3, NEEDLES("runners[1].name: runner 'a' is declared twice"));
	expect_string_error("runners:\n  - {name: a, core: 0}\n"
			    "stages: {feed: {runner: b}, strategy: {runner: a}, risk: {runner: a}, gateway: {runner: a},"
			    " journal: {core: 1}}\n" RUNNER_TAIL,
			    3, NEEDLES("stages.feed.runner: no runner named 'b' under runners"));
	expect_string_error("runners:\n  - {name: a, core: 0}\n  - {name: idle, core: 1}\n"
			    "stages: {feed: {runner: a}, strategy: {runner: a}, risk: {runner: a}, gateway: {runner: a},"
			    " journal: {core: 1}}\n" RUNNER_TAIL,
			    3, NEEDLES("runner 'idle' runs no stage"));
	expect_string_error("runners:\n  - {name: a, core: 0}\n"
			    "stages: {feed: {runner: a}, strategy: {runner: a}, risk: {runner: a}, gateway: {runner: a},"
			    " journal: {runner: a}}\n" RUNNER_TAIL,
			    3, NEEDLES("the journal needs a runner of its own (runner 'a' also runs other stages)"));
	expect_string_error("runners:\n  - {name: a, core: 0}\n"
			    "stages: {feed: {runner: a, core: 1}, strategy: {runner: a}, risk: {runner: a},"
			    " gateway: {runner: a}, journal: {core: 1}}\n" RUNNER_TAIL,
			    3, NEEDLES("stages.feed.core: stages.feed runs in runner 'a', which sets its core"));
	expect_string_error("runners:\n  - {name: a, core: 0, idle: spin}\n"
			    "stages: {feed: {runner: a}, strategy: {runner: a}, risk: {runner: a}, gateway: {runner: a},"
			    " journal: {core: 0}}\n" RUNNER_TAIL,
			    2, NEEDLES("runners[0].idle: runner 'a' spins on core 0, which runner 'journal' also uses"));
	expect_string_error("runners:\n  - {name: a, core: 0, idle: nap}\n"
			    "stages: {feed: {runner: a}, strategy: {runner: a}, risk: {runner: a}, gateway: {runner: a},"
			    " journal: {core: 0}}\n" RUNNER_TAIL,
			    2, NEEDLES("nap", "spin, backoff, park"));
}

/* One rule with at most one parameter, as the config holds it. */
struct want_rule {
	const char *rule, *key, *value; /* key NULL: no parameters */
};
#define RULES(...) ((const struct want_rule[]){ __VA_ARGS__, { NULL, NULL, NULL } })

static void assert_rules(const struct fks_risk_cfg *r, const struct want_rule *want)
{
	uint32_t n = 0;
	for (; want[n].rule; n++) {
		cr_assert_lt(n, r->n_rules, "rule %u (%s) is missing", n, want[n].rule);
		cr_assert_str_eq(r->rules[n].rule, want[n].rule);
		cr_assert_eq(r->rules[n].n_params, want[n].key ? 1u : 0u, "rules[%u].n_params", n);
		if (want[n].key) {
			cr_assert_str_eq(r->rules[n].param[0].key, want[n].key);
			cr_assert_str_eq(r->rules[n].param[0].value, want[n].value);
		}
	}
	cr_assert_eq(r->n_rules, n);
}

/* ---- the embedded default ---------------------------------------------- */

Test(config_default, loads_with_the_values_written_in_the_yaml)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(config_load_default(cfg, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	cr_assert_str_eq(cfg->name, "(default config)");

	/* 2-core layout: the hot path in runner `hot` on core 1 (backoff), the
	 * journal in a runner of its own on core 0 (park). */
	cr_assert_eq(cfg->n_runners, 2);
	cr_assert_str_eq(cfg->runner[0].name, "hot");
	cr_assert_eq(cfg->runner[0].core, 1);
	cr_assert_eq(cfg->runner[0].idle, FKS_IDLE_BACKOFF);
	cr_assert_eq(cfg->runner[0].stages, (1u << FKS_CFG_FEED) | (1u << FKS_CFG_STRATEGY) | (1u << FKS_CFG_RISK) |
						     (1u << FKS_CFG_GATEWAY));
	cr_assert_str_eq(cfg->runner[1].name, "journal");
	cr_assert_eq(cfg->runner[1].core, 0);
	cr_assert_eq(cfg->runner[1].idle, FKS_IDLE_PARK);
	cr_assert_eq(cfg->runner[1].stages, 1u << FKS_CFG_JOURNAL);
	for (int s = 0; s < FKS_CFG_JOURNAL; s++) {
		cr_assert_eq(cfg->stage[s].core, 1, "stage %d takes its runner's core", s);
		cr_assert_eq(cfg->stage_runner[s], 0);
	}
	cr_assert_eq(cfg->stage[FKS_CFG_JOURNAL].core, 0);
	cr_assert_eq(cfg->stage_runner[FKS_CFG_JOURNAL], 1);
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		cr_assert_eq(cfg->stage[s].wait.kind, RING_WAIT_SPIN_PARK, "stage %d", s);
		cr_assert_eq(cfg->stage[s].wait.spin_iters, ring_wait_default().spin_iters);
	}
	for (int r = 0; r < FKS_RING_COUNT; r++) {
		cr_assert_eq(cfg->ring[r].capacity, 65536, "ring %d", r);
		cr_assert_eq(cfg->ring[r].overflow, FKS_OVERFLOW_BLOCK, "ring %d", r);
	}

	cr_assert_eq(cfg->n_instruments, 2);
	const struct fks_instrument_cfg *btc = &cfg->instrument[0], *eth = &cfg->instrument[1];
	cr_assert_eq(btc->id, 1);
	cr_assert_str_eq(btc->symbol, "BTCUSDT");
	cr_assert_eq(btc->px_scale, 2);
	cr_assert_eq(btc->qty_scale, 6);
	cr_assert_str_eq(btc->start_px_text, "60000");
	cr_assert_eq(btc->start_px, 6000000);
	cr_assert_eq(eth->id, 2);
	cr_assert_str_eq(eth->symbol, "ETHUSDT");
	cr_assert_eq(eth->px_scale, 2);
	cr_assert_eq(eth->qty_scale, 5);
	cr_assert_eq(eth->start_px, 300000);

	cr_assert_eq(cfg->feed.type, FKS_FEED_SYNTHETIC);
	cr_assert_eq(cfg->feed.seed, 1);
	cr_assert_eq(cfg->feed.rate, 100000);
	cr_assert_eq(cfg->feed.trade_ratio_ppm, 200000);
	cr_assert_eq(cfg->feed.volatility_bps_x100, 100);

	cr_assert_eq(cfg->strategy.type, FKS_STRATEGY_MA_CROSS);
	cr_assert_eq(cfg->strategy.fast, 10);
	cr_assert_eq(cfg->strategy.slow, 30);
	cr_assert_str_eq(cfg->strategy.qty, "0.01");
	cr_assert_eq(cfg->strategy.order_type, FKS_ORD_LIMIT);

	/* qty "0.01" */
	cr_assert_eq(btc->order_qty, 10000);
	cr_assert_eq(eth->order_qty, 1000);
	/* The rules of the legacy shorthand, in its order, at its old values. */
	cr_assert_not(cfg->risk.legacy);
	cr_assert_eq(cfg->risk.kill_switch, false);
	assert_rules(&cfg->risk, RULES({ "stale_data", "max_age_ms", "1000" }, { "max_order_qty", "limit", "1" },
				       { "max_notional", "limit", "100000" }, { "max_position", "limit", "5" }));

	cr_assert_str_eq(cfg->venue.type, "sim");
	cr_assert_eq(cfg->venue.n_params, 2);
	cr_assert_str_eq(cfg->venue.param[0].key, "fill");
	cr_assert_str_eq(cfg->venue.param[0].value, "touch");
	cr_assert_str_eq(cfg->venue.param[1].key, "latency_us");
	cr_assert_str_eq(cfg->venue.param[1].value, "0");
	cr_assert_str_eq(cfg->journal.path, "fks-journal");
	cr_assert_eq(cfg->journal.sync, FKS_SYNC_DURABLE);
	cr_assert_eq(cfg->journal.batch_events, 4096);
	cr_assert_eq(cfg->journal.batch_us, 1000);
	cr_assert_eq(cfg->supervisor.heartbeat_timeout_ms, 1000);
	cr_assert_str_eq(cfg->supervisor.stats_prefix, "fks");

	/* The raw text is kept, byte for byte. */
	cr_assert_eq(cfg->text_len, strlen(config_default_text()));
	cr_assert_str_eq(cfg->text, config_default_text());
	free(cfg);
}

Test(config_default, text_is_commented_yaml)
{
	const char *text = config_default_text();
	cr_assert_eq(text[0], '#');
	cr_assert(strstr(text, "docs/config.md") != NULL);
	cr_assert_eq(text[strlen(text) - 1], '\n');
}

/* ---- valid files --------------------------------------------------------- */

Test(config_valid, omitted_keys_take_their_defaults)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(load_fixture("good_minimal.yaml", cfg, err, sizeof err), 0, "%s", err);

	struct ring_wait dflt = ring_wait_default();
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		cr_assert_eq(cfg->stage[s].wait.kind, RING_WAIT_SPIN_PARK);
		cr_assert_eq(cfg->stage[s].wait.spin_iters, dflt.spin_iters);
		cr_assert_eq(cfg->stage[s].wait.park_timeout_us, dflt.park_timeout_us);
	}
	for (int r = 0; r < FKS_RING_COUNT; r++) {
		cr_assert_eq(cfg->ring[r].capacity, 65536);
		cr_assert_eq(cfg->ring[r].overflow, FKS_OVERFLOW_BLOCK);
	}
	cr_assert_eq(cfg->n_instruments, 1);
	cr_assert_str_eq(cfg->instrument[0].start_px_text, "100");
	cr_assert_eq(cfg->instrument[0].start_px, 10000);
	cr_assert_eq(cfg->feed.type, FKS_FEED_SYNTHETIC);
	cr_assert_eq(cfg->feed.seed, 1);
	cr_assert_eq(cfg->feed.rate, 100000);
	cr_assert_eq(cfg->feed.trade_ratio_ppm, 200000);
	cr_assert_eq(cfg->feed.volatility_bps_x100, 100);
	cr_assert_eq(cfg->strategy.type, FKS_STRATEGY_MA_CROSS);
	cr_assert_eq(cfg->strategy.order_type, FKS_ORD_LIMIT);
	cr_assert_eq(cfg->risk.stale_data_ms, 1000);
	cr_assert_eq(cfg->risk.kill_switch, false);
	cr_assert_str_eq(cfg->venue.type, "sim", "no venue section: the sim venue with its defaults");
	cr_assert_eq(cfg->venue.n_params, 0);
	cr_assert_str_eq(cfg->journal.path, "fks-journal");
	cr_assert_eq(cfg->journal.sync, FKS_SYNC_DURABLE);
	cr_assert_eq(cfg->supervisor.heartbeat_timeout_ms, 1000);
	cr_assert_str_eq(cfg->supervisor.stats_prefix, "fks");
	/* max_order_qty 1, max_notional 100000, max_position 5, qty "0.01" */
	cr_assert_eq(cfg->instrument[0].order_qty, 10000);
	cr_assert_eq(cfg->instrument[0].max_order_qty, 1000000);
	cr_assert_eq(cfg->instrument[0].max_notional, 10000000);
	cr_assert_eq(cfg->instrument[0].max_position, 5000000);
	free(cfg);
}

Test(config_valid, every_key_set)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(load_fixture("good_full.yaml", cfg, err, sizeof err), 0, "%s", err);

	cr_assert_eq(cfg->stage[FKS_CFG_FEED].wait.kind, RING_WAIT_SPIN_YIELD);
	cr_assert_eq(cfg->stage[FKS_CFG_FEED].wait.kind, ring_wait_parse("yield"));
	cr_assert_eq(cfg->stage[FKS_CFG_FEED].wait.spin_iters, 500);
	cr_assert_eq(cfg->stage[FKS_CFG_STRATEGY].wait.kind, RING_WAIT_SPIN_PARK);
	cr_assert_eq(cfg->stage[FKS_CFG_STRATEGY].wait.spin_iters, 1024);
	cr_assert_eq(cfg->stage[FKS_CFG_RISK].wait.kind, RING_WAIT_SPIN_PARK);
	cr_assert_eq(cfg->stage[FKS_CFG_GATEWAY].wait.kind, RING_WAIT_SPIN_YIELD);

	/* rings.capacity 1024 is the default; two rings override it. */
	cr_assert_eq(cfg->ring_default.capacity, 1024);
	cr_assert_eq(cfg->ring[FKS_RING_MARKET_DATA].capacity, 4096);
	cr_assert_eq(cfg->ring[FKS_RING_MARKET_DATA].overflow, FKS_OVERFLOW_CONFLATE);
	cr_assert_eq(cfg->ring[FKS_RING_ORDERS].capacity, 1024);
	cr_assert_eq(cfg->ring[FKS_RING_ORDERS].overflow, FKS_OVERFLOW_BLOCK);
	cr_assert_eq(cfg->ring[FKS_RING_RISK_OUT].capacity, 1024);
	cr_assert_eq(cfg->ring[FKS_RING_EXEC_REPORTS].capacity, 16);
	cr_assert_eq(cfg->ring[FKS_RING_EXEC_REPORTS].overflow, FKS_OVERFLOW_BLOCK);

	const struct fks_instrument_cfg *btc = &cfg->instrument[0], *odd = &cfg->instrument[1];
	cr_assert_eq(cfg->n_instruments, 2);
	cr_assert_eq(btc->start_px, 6000050);   /* plain 60000.5 at px_scale 2 */
	cr_assert_str_eq(odd->symbol, "ETH-USD/X_1.0");
	cr_assert_eq(odd->px_scale, 0);
	cr_assert_eq(odd->qty_scale, 3);
	cr_assert_eq(odd->start_px, 3000);      /* quoted "3000" at px_scale 0 */
	cr_assert_eq(config_find_instrument(cfg, "ETH-USD/X_1.0"), 1);
	cr_assert_eq(config_find_instrument(cfg, "BTCUSDT"), 0);
	cr_assert_eq(config_find_instrument(cfg, "XRPUSDT"), -1);

	cr_assert_eq(cfg->feed.seed, UINT64_MAX);
	cr_assert_eq(cfg->feed.rate, 0);
	cr_assert_eq(cfg->feed.trade_ratio_ppm, 125000);
	cr_assert_eq(cfg->feed.volatility_bps_x100, 250);

	cr_assert_eq(cfg->strategy.fast, 3);
	cr_assert_eq(cfg->strategy.slow, 4);
	cr_assert_eq(cfg->strategy.order_type, FKS_ORD_MARKET);
	/* qty 0.25 (plain), max_order_qty "2.5" (quoted), max_notional 1000000, max_position 0 */
	cr_assert_eq(btc->order_qty, 250000);
	cr_assert_eq(odd->order_qty, 250);
	cr_assert_eq(btc->max_order_qty, 2500000);
	cr_assert_eq(odd->max_order_qty, 2500);
	cr_assert_eq(btc->max_notional, 100000000);
	cr_assert_eq(odd->max_notional, 1000000);
	cr_assert_eq(btc->max_position, 0);
	cr_assert_eq(cfg->risk.stale_data_ms, 250);
	cr_assert_eq(cfg->risk.kill_switch, true);

	cr_assert_str_eq(cfg->venue.type, "sim");
	cr_assert_eq(cfg->venue.n_params, 2);
	cr_assert_str_eq(cfg->venue.param[0].value, "none");
	cr_assert_str_eq(cfg->venue.param[1].value, "150");
	cr_assert_str_eq(cfg->journal.path, "/tmp/fks journal");
	cr_assert_eq(cfg->journal.sync, FKS_SYNC_NOMETASYNC);
	cr_assert_eq(cfg->supervisor.heartbeat_timeout_ms, 5000);
	cr_assert_str_eq(cfg->supervisor.stats_prefix, "fks-test_1.x");
	free(cfg);
}

Test(config_valid, aliases_are_followed)
{
	static const char text[] =
		"stages:\n"
		"  feed: &shared {core: 0, wait: yield}\n"
		"  strategy: {core: 1}\n"
		"  risk: {core: 1}\n"
		"  gateway: *shared\n"
		"instruments: [{symbol: BTCUSDT, px_scale: 2, qty_scale: 6}]\n"
		"strategy: {fast: 5, slow: 20, qty: 1}\n"
		"risk: {max_order_qty: 1, max_notional: 1, max_position: 1}\n";
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(config_load_string(text, strlen(text), "alias.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->stage[FKS_CFG_GATEWAY].core, 0);
	cr_assert_eq(cfg->stage[FKS_CFG_GATEWAY].wait.kind, RING_WAIT_SPIN_YIELD);
	free(cfg);
}

Test(config_valid, sixty_four_instruments_get_ids_in_order)
{
	static char text[16384];
	int n = snprintf(text, sizeof text, "stages: {feed: {core: 0}, strategy: {core: 0}, "
			 "risk: {core: 0}, gateway: {core: 0}}\n"
			 "strategy: {fast: 1, slow: 2, qty: 1}\n"
			 "risk: {max_order_qty: 1, max_notional: 1, max_position: 1}\n"
			 "instruments:\n");
	for (int i = 0; i < FKS_MAX_INSTRUMENTS; i++)
		n += snprintf(text + n, sizeof text - (size_t)n, "  - {symbol: S%d, px_scale: 0, qty_scale: 0}\n", i);
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(config_load_string(text, (size_t)n, "many.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->n_instruments, FKS_MAX_INSTRUMENTS);
	for (uint32_t i = 0; i < FKS_MAX_INSTRUMENTS; i++)
		cr_assert_eq(cfg->instrument[i].id, i + 1);
	cr_assert_str_eq(cfg->instrument[63].symbol, "S63");
	free(cfg);
}

/* ---- errors, one fixture each ------------------------------------------- */

#define FIXTURE_ERROR(test_name, file, line, ...) \
	Test(config_errors, test_name) { expect_fixture_error(file, line, NEEDLES(__VA_ARGS__)); }

FIXTURE_ERROR(unknown_key_lists_valid_keys, "bad_unknown_key.yaml", 15,
	      "bad_unknown_key.yaml:15:3: risk.max_notionl: unknown key",
	      "max_order_qty, max_notional, max_position, stale_data_ms, kill_switch")
FIXTURE_ERROR(unknown_top_level_key, "bad_unknown_top.yaml", 13,
	      "venu: unknown key", "stages, runners, rings, instruments, feed, strategy, strategies, account, risk, venue, journal, supervisor")
FIXTURE_ERROR(unknown_nested_key, "bad_unknown_nested.yaml", 9,
	      "rings.orders.capacty: unknown key", "capacity, overflow")

FIXTURE_ERROR(string_where_integer, "bad_type_int.yaml", 5,
	      "stages.risk.core: expected an integer, got \"abc\"")
FIXTURE_ERROR(word_where_decimal, "bad_type_decimal.yaml", 15,
	      "bad_type_decimal.yaml:15:17: risk.max_notional: expected a decimal number, got \"abc\"")
FIXTURE_ERROR(mapping_where_scalar, "bad_type_mapping.yaml", 16,
	      "risk.max_notional: expected a decimal number, got a mapping")
FIXTURE_ERROR(scalar_where_mapping, "bad_type_section.yaml", 13,
	      "risk: expected a mapping, got \"5\"")
FIXTURE_ERROR(mapping_where_list, "bad_type_list.yaml", 8,
	      "instruments: expected a list, got a mapping")
FIXTURE_ERROR(quoted_integer, "bad_type_quoted_int.yaml", 10,
	      "strategy.fast: expected an integer, got the quoted string \"5\"")
FIXTURE_ERROR(yes_is_not_a_bool, "bad_bool.yaml", 17,
	      "risk.kill_switch: expected true or false, got \"yes\"")
FIXTURE_ERROR(document_is_a_list, "bad_root_list.yaml", 2, "expected a mapping, got a list")
FIXTURE_ERROR(unknown_wait_lists_choices, "bad_enum_wait.yaml", 4,
	      "stages.strategy.wait: unknown value \"sleep\"; expected one of: spin, yield, park")
FIXTURE_ERROR(unknown_feed_type_lists_types, "bad_feed_type.yaml", 8,
	      "feed.type: unknown value \"nasdaq_totalview\"; expected one of: synthetic, itch, binance, bybit, coinbase, kraken")

FIXTURE_ERROR(capacity_not_power_of_two, "bad_capacity_pow2.yaml", 9,
	      "rings.orders.capacity: 1000 is not a power of two (512 or 1024 are)")
FIXTURE_ERROR(capacity_below_minimum, "bad_capacity_small.yaml", 8,
	      "rings.capacity: 8 is out of range: expected 16..16777216")
FIXTURE_ERROR(slow_not_above_fast, "bad_fast_slow.yaml", 11,
	      "strategy.slow: must be greater than strategy.fast (20), got 20")
FIXTURE_ERROR(core_beyond_any_cpu_id, "bad_core_range.yaml", 3,
	      "stages.feed.core: 5000 is out of range: expected 0..1023")
FIXTURE_ERROR(px_scale_above_nine, "bad_px_scale.yaml", 9,
	      "instruments[1].px_scale: 10 is out of range: expected 0..9")
FIXTURE_ERROR(negative_rate, "bad_negative_rate.yaml", 9,
	      "feed.rate: -5 is out of range: expected 0..1000000000")
FIXTURE_ERROR(trade_ratio_above_one, "bad_trade_ratio.yaml", 8,
	      "feed.trade_ratio: 1.5 is out of range: expected 0..1")
FIXTURE_ERROR(negative_limit, "bad_negative_limit.yaml", 16,
	      "risk.max_position: must be at least 0, got -1")
FIXTURE_ERROR(conflate_off_market_data, "bad_conflate.yaml", 9,
	      "rings.orders.overflow: conflate applies to market data only")
FIXTURE_ERROR(conflate_as_every_rings_default, "bad_conflate_default.yaml", 8,
	      "rings.overflow: conflate applies to market data only; set it under rings.market_data")
FIXTURE_ERROR(spin_on_a_shared_core, "bad_spin_shared.yaml", 5,
	      "stages.risk.wait: spin on core 1, which stages.strategy also uses")
FIXTURE_ERROR(no_instruments, "bad_no_instruments.yaml", 7,
	      "instruments: at least one entry is required")
FIXTURE_ERROR(symbol_with_lower_case, "bad_symbol_chars.yaml", 8,
	      "instruments[0].symbol: \"btcusdt\": a symbol may contain only A-Z, 0-9 and . _ - /")
FIXTURE_ERROR(symbol_too_long, "bad_symbol_long.yaml", 8,
	      "instruments[0].symbol: \"ABCDEFGHIJKLMNOP\" is too long (at most 15 characters)")

FIXTURE_ERROR(duplicate_symbol_names_both_lines, "bad_duplicate_symbol.yaml", 14,
	      "instruments[2].symbol: duplicate symbol \"BTCUSDT\" (first defined at line 8, instruments[0])")
FIXTURE_ERROR(duplicate_key_names_both_lines, "bad_duplicate_key.yaml", 17,
	      "risk.max_order_qty: duplicate key (first at line 14)")

FIXTURE_ERROR(missing_section, "bad_missing_section.yaml", 2, "risk: required key is missing")
FIXTURE_ERROR(missing_key, "bad_missing_key.yaml", 13, "risk.max_position: required key is missing")
FIXTURE_ERROR(missing_stage, "bad_missing_stage.yaml", 2, "stages.gateway: required key is missing")

FIXTURE_ERROR(yaml_syntax_error_keeps_libyaml_line, "bad_syntax.yaml", 7,
	      "bad_syntax.yaml:7:4: invalid YAML: did not find expected key",
	      "while parsing a block mapping at line 3")
FIXTURE_ERROR(second_document, "bad_two_docs.yaml", 17, "only one YAML document is allowed")
FIXTURE_ERROR(empty_file, "empty.yaml", 1, "empty.yaml:1:1: the config is empty")
FIXTURE_ERROR(only_comments, "comments_only.yaml", 1, "the config is empty")

FIXTURE_ERROR(decimal_not_exact_for_second_instrument, "bad_precision_qty.yaml", 13,
	      "strategy.qty: \"0.001\" is not exact for instruments[1] (ETHUSDT)", "qty_scale 2")
FIXTURE_ERROR(notional_not_exact_at_px_scale, "bad_precision_notional.yaml", 15,
	      "risk.max_notional: \"1000.005\" is not exact for instruments[0] (BTCUSDT)", "px_scale 2")
FIXTURE_ERROR(start_px_not_exact_at_px_scale, "bad_start_px.yaml", 11,
	      "instruments[0].start_px: \"60000.125\" is not exact for instruments[0] (BTCUSDT)", "px_scale 2")

Test(config_errors, core_this_machine_does_not_have)
{
	cpu_set_t mine;
	cr_assert_eq(sched_getaffinity(0, sizeof mine, &mine), 0);
	if (CPU_ISSET(1023, &mine))
		cr_skip_test("this process may run on CPU 1023");
	expect_fixture_error("bad_core_absent.yaml", 6,
			     NEEDLES("stages.gateway.core: core 1023 does not exist or is not available"));
}

/* The check uses this process's affinity: the first core outside it fails. */
Test(config_errors, first_core_outside_the_affinity_mask)
{
	cpu_set_t mine;
	cr_assert_eq(sched_getaffinity(0, sizeof mine, &mine), 0);
	int absent = 0;
	while (absent < CPU_SETSIZE && CPU_ISSET(absent, &mine))
		absent++;
	if (absent == CPU_SETSIZE)
		cr_skip_test("every CPU id is available");
	char text[512], needle[128];
	snprintf(text, sizeof text,
		 "stages: {feed: {core: 0}, strategy: {core: 0}, risk: {core: 0},\n"
		 "         gateway: {core: %d}}\n"
		 "instruments: [{symbol: X, px_scale: 0, qty_scale: 0}]\n"
		 "strategy: {fast: 1, slow: 2, qty: 1}\n"
		 "risk: {max_order_qty: 1, max_notional: 1, max_position: 1}\n", absent);
	snprintf(needle, sizeof needle, "stages.gateway.core: core %d does not exist", absent);
	expect_string_error(text, 2, NEEDLES(needle, "(available: "));
}

Test(config_errors, file_not_found)
{
	struct fks_config *cfg = new_config();
	char err[1024], path[1024];
	fixture_path("no_such_file.yaml", path, sizeof path);
	cr_assert_eq(config_load_file(path, cfg, err, sizeof err), -1);
	assert_contains(err, "no_such_file.yaml: cannot open: No such file or directory");
	free(cfg);
}

Test(config_errors, directory_is_not_a_config)
{
	struct fks_config *cfg = new_config();
	char err[1024], path[1024];
	fixture_path(".", path, sizeof path);
	cr_assert_eq(config_load_file(path, cfg, err, sizeof err), -1);
	assert_contains(err, "cannot read: Is a directory");
	free(cfg);
}

/* ---- errors in configs built here ---------------------------------------- */

Test(config_errors, too_many_instruments_at_the_first_extra_one)
{
	static char text[16384];
	int n = snprintf(text, sizeof text, "stages: {feed: {core: 0}, strategy: {core: 0}, "
			 "risk: {core: 0}, gateway: {core: 0}}\n"
			 "instruments:\n");
	for (int i = 0; i <= FKS_MAX_INSTRUMENTS; i++)
		n += snprintf(text + n, sizeof text - (size_t)n, "  - {symbol: S%d, px_scale: 0, qty_scale: 0}\n", i);
	/* Entry 64 (the 65th) is on line 2 + 65. */
	expect_string_error(text, 2 + FKS_MAX_INSTRUMENTS + 1, NEEDLES("instruments: too many entries: at most 64"));
}

Test(config_errors, leading_zero_integer)
{
	expect_string_error("stages:\n  feed: {core: 01}\n", 2,
			    NEEDLES("stages.feed.core: write integers without leading zeros"));
}

Test(config_errors, empty_section_value)
{
	expect_string_error("venue:\n", 1, NEEDLES("venue: expected a mapping, got an empty value"));
}

Test(config_errors, complex_key)
{
	expect_string_error("? [a, b]\n: 1\n", 1, NEEDLES("keys must be plain names, got a list"));
}

Test(config_errors, recursive_alias_is_a_type_error_not_a_hang)
{
	expect_string_error("instruments: &loop [*loop]\n", 1,
			    NEEDLES("instruments[0]: expected a mapping, got a list"));
}

Test(config_errors, invalid_utf8_is_located_by_line)
{
	expect_string_error("stages:\n  feed: {core: 0}\n  bad: \"\xff\"\n", 3,
			    NEEDLES("inline.yaml:3:9: invalid YAML: invalid leading UTF-8 octet"));
}

Test(config_errors, undefined_alias)
{
	expect_string_error("stages:\n  feed: *nowhere\n", 2, NEEDLES("invalid YAML: found undefined alias"));
}

Test(config_errors, journal_path_empty)
{
	char text[1024];
	snprintf(text, sizeof text, template_head, "1", "1", "1", "1");
	strcat(text, "journal: {path: \"\"}\n");
	expect_string_error(text, 14, NEEDLES("journal.path: must not be empty"));
}

Test(config_errors, stats_prefix_with_a_slash)
{
	char text[1024];
	snprintf(text, sizeof text, template_head, "1", "1", "1", "1");
	strcat(text, "supervisor: {stats: a/b}\n");
	expect_string_error(text, 14, NEEDLES("supervisor.stats: \"a/b\": a shared-memory prefix"));
}

Test(config_errors, config_too_large)
{
	size_t len = FKS_CONFIG_TEXT_MAX + 1;
	char *text = malloc(len);
	cr_assert_not_null(text);
	memset(text, '#', len);
	struct fks_config *cfg = new_config();
	char err[256];
	cr_assert_eq(config_load_string(text, len, "big.yaml", cfg, err, sizeof err), -1);
	assert_contains(err, "big.yaml: the config is larger than 65536 bytes");
	free(cfg);
	free(text);
}

Test(config_errors, message_is_truncated_not_overrun)
{
	struct fks_config *cfg = new_config();
	char err[16];
	memset(err, 'x', sizeof err);
	cr_assert_eq(config_load_string("venue:\n", 7, "short.yaml", cfg, err, 8), -1);
	cr_assert_str_eq(err, "short.y");
	cr_assert_eq(err[8], 'x');
	/* No buffer at all is allowed too. */
	cr_assert_eq(config_load_string("venue:\n", 7, "short.yaml", cfg, NULL, 0), -1);
	free(cfg);
}

/* ---- decimals --------------------------------------------------------------- */

Test(config_decimals, quoted_and_plain_are_the_same_exact_value)
{
	struct fks_config *a = new_config(), *b = new_config();
	char err[1024];
	cr_assert_eq(load_template(a, "0.01", "0.5", "1000.25", "3", err, sizeof err), 0, "%s", err);
	cr_assert_eq(load_template(b, "\"0.01\"", "\"0.5\"", "\"1000.25\"", "\"3\"", err, sizeof err), 0, "%s", err);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(a->instrument[i].order_qty, b->instrument[i].order_qty);
		cr_assert_eq(a->instrument[i].max_order_qty, b->instrument[i].max_order_qty);
		cr_assert_eq(a->instrument[i].max_notional, b->instrument[i].max_notional);
		cr_assert_eq(a->instrument[i].max_position, b->instrument[i].max_position);
	}
	cr_assert_eq(a->instrument[0].order_qty, 10000);      /* 0.01 at qty_scale 6 */
	cr_assert_eq(a->instrument[1].order_qty, 1000);       /* 0.01 at qty_scale 5 */
	cr_assert_eq(a->instrument[0].max_order_qty, 500000);
	cr_assert_eq(a->instrument[0].max_notional, 100025);  /* px_scale 2 */
	cr_assert_eq(a->instrument[1].max_position, 300000);
	cr_assert_str_eq(a->strategy.qty, "0.01");
	cr_assert_str_eq(b->strategy.qty, "0.01");
	free(a);
	free(b);
}

Test(config_decimals, text_is_kept_as_written)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	/* 0.1 and 0.2 have no exact double: they must still be exact here. */
	cr_assert_eq(load_template(cfg, "0.10000", "+0.2", ".5", "0007.30", err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg->strategy.qty, "0.10000");
	cr_assert_str_eq(cfg->risk.max_order_qty, "+0.2");
	cr_assert_eq(cfg->instrument[1].order_qty, 10000);
	cr_assert_eq(cfg->instrument[1].max_order_qty, 20000);
	cr_assert_eq(cfg->instrument[0].max_notional, 50);
	cr_assert_eq(cfg->instrument[0].max_position, 7300000);
	free(cfg);
}

Test(config_decimals, zeros_beyond_the_scale_are_exact)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(load_template(cfg, "0.0100000000000", "1", "1.50000000", "1", err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->instrument[1].order_qty, 1000);
	cr_assert_eq(cfg->instrument[0].max_notional, 150);
	free(cfg);
}

Test(config_decimals, excess_precision_names_key_and_instrument)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	/* 0.000001 fits BTCUSDT's qty_scale 6 but not ETHUSDT's 5. */
	int rc = load_template(cfg, "0.000001", "1", "1", "1", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 9,
			NEEDLES("strategy.qty: \"0.000001\" is not exact for instruments[1] (ETHUSDT)", "qty_scale 5"));
	rc = load_template(cfg, "1", "1", "1", "0.0000001", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 13,
			NEEDLES("risk.max_position: \"0.0000001\" is not exact for instruments[0] (BTCUSDT)"));
	free(cfg);
}

Test(config_decimals, too_large_for_an_instrument_scale)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	/* 10^13 fits in int64, 10^13 * 10^6 does not. */
	int rc = load_template(cfg, "1", "10000000000000", "1", "1", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 11,
			NEEDLES("risk.max_order_qty: \"10000000000000\" does not fit in 64 bits at instruments[0] (BTCUSDT)"));
	rc = load_template(cfg, "1", "1", "100000000000000000000", "1", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 12,
			NEEDLES("risk.max_notional: \"100000000000000000000\" is too large"));
	free(cfg);
}

Test(config_decimals, not_decimals)
{
	static const char *const junk[] = { "1e-2", ".inf", "0x10", "\"1,5\"", "\"1 \"", "\"\"", "-", "[1]" };
	struct fks_config *cfg = new_config();
	char err[1024];
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
		int rc = load_template(cfg, junk[i], "1", "1", "1", err, sizeof err);
		expect_error_in(err, rc, "inline.yaml", 9, NEEDLES("strategy.qty: expected a decimal number"));
	}
	free(cfg);
}

Test(config_decimals, signs)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	int rc = load_template(cfg, "-0.01", "1", "1", "1", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 9, NEEDLES("strategy.qty: must be greater than 0, got -0.01"));
	rc = load_template(cfg, "1", "0", "1", "1", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 11, NEEDLES("risk.max_order_qty: must be greater than 0"));
	rc = load_template(cfg, "1", "1", "-0.00", "1", err, sizeof err);
	expect_error_in(err, rc, "inline.yaml", 12, NEEDLES("risk.max_notional: must be greater than 0"));
	cr_assert_eq(load_template(cfg, "1", "1", "1", "-0", err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->instrument[0].max_position, 0);
	free(cfg);
}

Test(config_decimals, fixed_scale_keys_refuse_extra_places)
{
	char text[1024];
	snprintf(text, sizeof text, template_head, "1", "1", "1", "1");
	strcat(text, "feed: {trade_ratio: 0.1234567}\n");
	expect_string_error(text, 14, NEEDLES("feed.trade_ratio: \"0.1234567\" has more than 6 decimal places"));
	snprintf(text, sizeof text, template_head, "1", "1", "1", "1");
	strcat(text, "feed: {volatility_bps: 0.125}\n");
	expect_string_error(text, 14, NEEDLES("feed.volatility_bps: \"0.125\" has more than 2 decimal places"));
}

/* ---- names and the commands ------------------------------------------------- */

Test(config_names, stage_and_ring_names_are_the_yaml_keys)
{
	cr_assert_str_eq(config_stage_name(FKS_CFG_FEED), "feed");
	cr_assert_str_eq(config_stage_name(FKS_CFG_GATEWAY), "gateway");
	cr_assert_str_eq(config_stage_name(FKS_CFG_STAGE_COUNT), "?");
	cr_assert_str_eq(config_ring_name(FKS_RING_MARKET_DATA), "market_data");
	cr_assert_str_eq(config_ring_name(FKS_RING_ORDERS), "orders");
	cr_assert_str_eq(config_ring_name(FKS_RING_RISK_OUT), "risk_out");
	cr_assert_str_eq(config_ring_name(FKS_RING_EXEC_REPORTS), "exec_reports");
	cr_assert_str_eq(config_ring_name(FKS_RING_JOURNAL), "journal");
	cr_assert_str_eq(config_stage_name(FKS_CFG_JOURNAL), "journal");
	cr_assert_str_eq(config_ring_name(FKS_RING_COUNT), "?");
}

static void quiet(void)
{
	cr_redirect_stdout();
	cr_redirect_stderr();
}

Test(config_cmd, default_prints_the_embedded_text, .init = quiet)
{
	char *argv[] = { "default", NULL };
	cr_assert_eq(config_cmd_default(1, argv), 0);
	fflush(stdout);
	cr_assert_stdout_eq_str(config_default_text());
}

Test(config_cmd, check_exit_status, .init = quiet)
{
	char good[1024], bad[1024];
	fixture_path("good_full.yaml", good, sizeof good);
	fixture_path("bad_fast_slow.yaml", bad, sizeof bad);
	char *ok_argv[] = { "check", "-c", good, NULL };
	char *bad_argv[] = { "check", bad, NULL };
	char *usage_argv[] = { "check", NULL };
	cr_assert_eq(config_cmd_check(3, ok_argv), 0);
	cr_assert_eq(config_cmd_check(2, bad_argv), 1);
	cr_assert_eq(config_cmd_check(1, usage_argv), 2);
}

/* The journal stage: optional, placed on the first non-spinning stage's
 * core, and required only when there is none. */
Test(config_journal, stage_core_defaults_and_overrides)
{
	static const char base[] =
		"stages:\n"
		"  feed: {core: 0, wait: %s}\n"
		"  strategy: {core: 1, wait: %s}\n"
		"  risk: {core: 1, wait: %s}\n"
		"  gateway: {core: 0, wait: %s}\n"
		"%s"
		"instruments:\n"
		"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
		"strategy: {fast: 5, slow: 20, qty: 0.01}\n"
		"risk: {max_order_qty: 1, max_notional: 1000, max_position: 1}\n"
		"journal: {batch_events: 100, batch_us: 0}\n";
	struct fks_config *cfg = new_config();
	char text[1024], err[1024];
	int n = snprintf(text, sizeof text, base, "park", "park", "park", "park", "  journal: {core: 1}\n");
	cr_assert_eq(config_load_string(text, (size_t)n, "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->stage[FKS_CFG_JOURNAL].core, 1, "an explicit core wins");
	cr_assert_eq(cfg->journal.batch_events, 100);
	cr_assert_eq(cfg->journal.batch_us, 0);
	n = snprintf(text, sizeof text, base, "park", "park", "park", "yield", "");
	cr_assert_eq(config_load_string(text, (size_t)n, "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->stage[FKS_CFG_JOURNAL].core, 0, "the gateway's core");
	free(cfg);
}

Test(config_journal, spinning_stages_leave_the_journal_no_core)
{
	/* Four spinning stages on four cores: the journal has nowhere to go.
	 * Core checks come after this one, so cores 0-3 need not exist. */
	static const char text[] =
		"stages:\n"
		"  feed: {core: 0, wait: spin}\n"
		"  strategy: {core: 1, wait: spin}\n"
		"  risk: {core: 2, wait: spin}\n"
		"  gateway: {core: 3, wait: spin}\n"  /* 5 */
		"instruments:\n"
		"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
		"strategy: {fast: 5, slow: 20, qty: 0.01}\n"
		"risk: {max_order_qty: 1, max_notional: 1000, max_position: 1}\n";
	expect_string_error(text, 5, NEEDLES("stages.journal"));
}

Test(config_journal, batch_limits)
{
	static const char head[] =
		"stages: {feed: {core: 0}, strategy: {core: 1}, risk: {core: 1}, gateway: {core: 0}}\n"
		"instruments:\n"
		"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
		"strategy: {fast: 5, slow: 20, qty: 0.01}\n"
		"risk: {max_order_qty: 1, max_notional: 1000, max_position: 1}\n";
	char text[1024];
	snprintf(text, sizeof text, "%sjournal: {batch_events: 0}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.batch_events"));
	snprintf(text, sizeof text, "%sjournal: {batch_us: 1000001}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.batch_us"));
}

Test(config_journal, rotation_keys_and_their_limits)
{
	static const char head[] =
		"stages: {feed: {core: 0}, strategy: {core: 1}, risk: {core: 1}, gateway: {core: 0}}\n"
		"instruments:\n"
		"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
		"strategy: {fast: 5, slow: 20, qty: 0.01}\n"
		"risk: {max_order_qty: 1, max_notional: 1000, max_position: 1}\n";
	struct fks_config *cfg = new_config();
	char text[1024], err[1024];
	int n = snprintf(text, sizeof text, "%s", head);
	cr_assert_eq(config_load_string(text, (size_t)n, "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->journal.rotate_mb, 0, "rotation is off by default");
	cr_assert_eq(cfg->journal.rotate_s, 0);
	cr_assert_eq(cfg->journal.retain, 0, "every rotated part is kept by default");
	n = snprintf(text, sizeof text, "%sjournal: {rotate_mb: 256, rotate_s: 3600, retain: 24}\n", head);
	cr_assert_eq(config_load_string(text, (size_t)n, "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->journal.rotate_mb, 256);
	cr_assert_eq(cfg->journal.rotate_s, 3600);
	cr_assert_eq(cfg->journal.retain, 24);
	free(cfg);

	snprintf(text, sizeof text, "%sjournal: {rotate_mb: -1}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.rotate_mb"));
	snprintf(text, sizeof text, "%sjournal: {rotate_mb: 1048577}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.rotate_mb", "1048576"));
	snprintf(text, sizeof text, "%sjournal: {rotate_mb: 1.5}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.rotate_mb", "integer"));
	snprintf(text, sizeof text, "%sjournal: {rotate_s: 604801}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.rotate_s", "604800"));
	snprintf(text, sizeof text, "%sjournal: {rotate_s: soon}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.rotate_s", "integer"));
	snprintf(text, sizeof text, "%sjournal: {retain: -3}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.retain"));
	snprintf(text, sizeof text, "%sjournal: {retain: 100001}\n", head);
	expect_string_error(text, 6, NEEDLES("journal.retain", "100000"));
	snprintf(text, sizeof text, "%sjournal: {rotate_bytes: 5}\n", head);
	expect_string_error(text, 6, NEEDLES("rotate_bytes"));
}

/* ---- strategies: instances for the signal engine -------------------------- */

static const char strategies_head[] =
	"stages: {feed: {core: 0}, strategy: {core: 1}, risk: {core: 1}, gateway: {core: 0}}\n" /* 1 */
	"instruments:\n"
	"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
	"risk: {max_order_qty: 1, max_notional: 100000, max_position: 5}\n"
	"account: {equity: \"250000.50\"}\n"                                                 /* 5 */
	"strategies:\n"
	"  - name: regime\n"
	"    kind: markov\n"
	"    instrument: BTCUSDT\n"
	"  - name: cross\n"                                                                  /* 10 */
	"    kind: sma_cross\n"
	"    instrument: %s\n"
	"    params:\n"
	"      fast: 5\n"
	"      slow: %s\n"                                                                   /* 15 */
	"      gate: regime\n"
	"      min_confidence: \"0.7\"\n";

Test(config_strategies, instances_and_their_parameters_are_kept_as_written)
{
	struct fks_config *cfg = new_config();
	char text[2048], err[1024];
	int n = snprintf(text, sizeof text, strategies_head, "BTCUSDT", "20");
	cr_assert_eq(config_load_string(text, (size_t)n, "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg->n_strategies, 2);
	cr_assert_str_eq(cfg->strategies[0].kind, "markov");
	cr_assert_eq(cfg->strategies[0].n_params, 0);
	const struct fks_strategy_inst *c = &cfg->strategies[1];
	cr_assert_str_eq(c->name, "cross");
	cr_assert_eq(c->n_params, 4);
	cr_assert_str_eq(c->param[1].key, "slow");
	cr_assert_str_eq(c->param[1].value, "20");
	cr_assert_str_eq(c->param[3].value, "0.7", "quotes are YAML's, not part of the value");
	cr_assert_eq(cfg->account.equity_cents, 25000050);
	free(cfg);
}

Test(config_strategies, a_refused_parameter_is_reported_at_its_value)
{
	char text[2048];
	snprintf(text, sizeof text, strategies_head, "BTCUSDT", "5"); /* slow == fast: the strategy blames fast */
	expect_string_error(text, 14, NEEDLES("strategies[1].params.fast", "must be below slow"));
	snprintf(text, sizeof text, strategies_head, "DOGEUSDT", "20");
	expect_string_error(text, 12, NEEDLES("strategies[1].instrument", "DOGEUSDT", "not one of"));
	char more[2200];
	snprintf(text, sizeof text, strategies_head, "BTCUSDT", "20");
	snprintf(more, sizeof more, "%s      colour: blue\n", text);                 /* line 18 */
	expect_string_error(more, 18, NEEDLES("colour"));
	snprintf(more, sizeof more, "%s      fast: 6\n", text);
	expect_string_error(more, 18, NEEDLES("duplicate key"));
	snprintf(more, sizeof more, "%s      lot: [1, 2]\n", text);
	expect_string_error(more, 18, NEEDLES("single value"));
}

Test(config_strategies, one_of_strategy_or_strategies_is_required)
{
	static const char text[] =
		"stages: {feed: {core: 0}, strategy: {core: 1}, risk: {core: 1}, gateway: {core: 0}}\n"
		"instruments:\n"
		"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
		"risk: {max_order_qty: 1, max_notional: 100000, max_position: 5}\n";
	expect_string_error(text, 1, NEEDLES("strategy: required key is missing", "strategies"));
}

/* ---- risk.rules ---------------------------------------------------------- */

static enum fks_risk_reason check_order(struct risk *r, uint32_t inst, uint8_t side, int64_t px, int64_t qty,
					uint64_t id, int64_t *limit, int64_t *value)
{
	struct fks_ev_order_new o = {
		.h = { .type = FKS_EV_ORDER_NEW, .instrument = inst, .recv_time_ns = 1000 },
		.order_id = id, .side = side, .ord_type = FKS_ORD_LIMIT, .tif = FKS_TIF_GTC, .px = px, .qty = qty,
	};
	return risk_check_order(r, &o, 1000, limit, value);
}

Test(config_risk, rules_load_in_their_order_and_run_in_it)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(load_fixture("good_risk_rules.yaml", cfg, err, sizeof err), 0, "%s", err);
	cr_assert_not(cfg->risk.legacy);
	cr_assert(cfg->risk.kill_switch);
	assert_rules(&cfg->risk, RULES({ "max_position", "limit", "2.5" }, { "max_order_qty", "limit", "1" },
				       { "stale_data", NULL, NULL }, { "max_notional", "limit", "50000.25" }));

	struct risk *r = malloc(sizeof *r);
	struct risk_error e;
	cr_assert_eq(config_build_risk(cfg, r, &e), 0, "%s", e.why.msg);
	int64_t limit, value;
	cr_assert_eq(check_order(r, 1, FKS_SIDE_BUY, 100, 1000000, 1, &limit, &value), FKS_RISK_KILL_SWITCH);
	risk_set_kill(r, false);
	/* 3 BTC breaks max_position (2.5) and max_order_qty (1): the first listed wins. */
	cr_assert_eq(check_order(r, 1, FKS_SIDE_BUY, 100, 3000000, 2, &limit, &value), FKS_RISK_MAX_POSITION);
	cr_assert_eq(limit, 2500000);
	cr_assert_eq(value, 3000000);
	/* Limits at each instrument's scale: 50000.25 at px_scale 2. */
	cr_assert_eq(check_order(r, 2, FKS_SIDE_SELL, 5000026, 100000, 3, &limit, &value), FKS_RISK_MAX_NOTIONAL);
	cr_assert_eq(limit, 5000025);
	cr_assert_eq(value, 5000026);
	cr_assert_eq(check_order(r, 2, FKS_SIDE_SELL, 5000025, 100000, 4, &limit, &value), FKS_RISK_OK);
	free(r);
	free(cfg);
}

/*
 * The legacy shorthand and the same limits written as rules build the same
 * chain: the same orders pass and fail with the same reason, limit and
 * value (this is what keeps every journaled config replaying as before).
 */
Test(config_risk, legacy_shorthand_is_the_default_rules)
{
	static const char head[] =
		"stages: {feed: {core: 0}, strategy: {core: 0}, risk: {core: 0}, gateway: {core: 0}}\n"
		"instruments: [{symbol: BTCUSDT, px_scale: 2, qty_scale: 6}, {symbol: ETHUSDT, px_scale: 2, qty_scale: 5}]\n"
		"strategy: {fast: 5, slow: 20, qty: \"0.01\"}\n";
	static const char legacy[] = "risk: {max_order_qty: 1, max_notional: 100000, max_position: 5, stale_data_ms: 250}\n";
	static const char rules[] =
		"risk:\n  rules:\n"
		"    - {rule: stale_data, params: {max_age_ms: 250}}\n"
		"    - {rule: max_order_qty, params: {limit: 1}}\n"
		"    - {rule: max_notional, params: {limit: 100000}}\n"
		"    - {rule: max_position, params: {limit: 5}}\n";
	struct risk *r[2];
	for (int i = 0; i < 2; i++) {
		char text[1024], err[1024];
		struct fks_config *cfg = new_config();
		int n = snprintf(text, sizeof text, "%s%s", head, i ? rules : legacy);
		cr_assert_eq(config_load_string(text, (size_t)n, "inline.yaml", cfg, err, sizeof err), 0, "%s", err);
		cr_assert_eq(cfg->risk.legacy, i == 0);
		assert_rules(&cfg->risk, RULES({ "stale_data", "max_age_ms", "250" }, { "max_order_qty", "limit", "1" },
					       { "max_notional", "limit", "100000" }, { "max_position", "limit", "5" }));
		struct risk_error e;
		r[i] = malloc(sizeof *r[i]);
		cr_assert_eq(config_build_risk(cfg, r[i], &e), 0, "%s", e.why.msg);
		free(cfg);
	}
	/* inst, side, px, qty: passes, max_qty, max_notional, max_position, bad order */
	static const int64_t orders[][4] = {
		{ 1, FKS_SIDE_BUY, 6000000, 1000000 }, { 1, FKS_SIDE_BUY, 6000000, 1000001 },
		{ 2, FKS_SIDE_SELL, 20000000, 100000 }, { 1, FKS_SIDE_BUY, 100, 1000000 },
		{ 1, FKS_SIDE_BUY, 100, 1000000 },     { 1, FKS_SIDE_BUY, 100, 1000000 },
		{ 1, FKS_SIDE_BUY, 100, 1000000 },     { 1, FKS_SIDE_BUY, 100, 1000000 },
		{ 3, FKS_SIDE_BUY, 100, 1 },           { 2, FKS_SIDE_SELL, 10000000, 100001 },
	};
	bool saw[FKS_RISK_REASON_COUNT] = { false };
	for (uint64_t k = 0; k < sizeof orders / sizeof orders[0]; k++) {
		int64_t l0, v0, l1, v1;
		enum fks_risk_reason a = check_order(r[0], (uint32_t)orders[k][0], (uint8_t)orders[k][1], orders[k][2],
						     orders[k][3], k + 1, &l0, &v0);
		enum fks_risk_reason b = check_order(r[1], (uint32_t)orders[k][0], (uint8_t)orders[k][1], orders[k][2],
						     orders[k][3], k + 1, &l1, &v1);
		cr_assert_eq(a, b, "order %" PRIu64 ": %s vs %s", k, fks_risk_reason_name(a), fks_risk_reason_name(b));
		cr_assert_eq(l0, l1, "order %" PRIu64, k);
		cr_assert_eq(v0, v1, "order %" PRIu64, k);
		saw[a] = true;
	}
	/* The battery reaches every reason it means to compare. */
	cr_assert(saw[FKS_RISK_OK] && saw[FKS_RISK_MAX_QTY] && saw[FKS_RISK_MAX_NOTIONAL] &&
		  saw[FKS_RISK_MAX_POSITION] && saw[FKS_RISK_BAD_ORDER]);
	free(r[0]);
	free(r[1]);
}

FIXTURE_ERROR(risk_unknown_rule, "bad_risk_unknown_rule.yaml", 17,
	      "bad_risk_unknown_rule.yaml:17:14: risk.rules[1].rule: \"max_postion\": unknown rule")
FIXTURE_ERROR(risk_unknown_param, "bad_risk_unknown_param.yaml", 17,
	      "bad_risk_unknown_param.yaml:17:22: risk.rules[0].params.limt: unknown parameter; valid: limit")
FIXTURE_ERROR(risk_param_out_of_range, "bad_risk_out_of_range.yaml", 17,
	      "bad_risk_out_of_range.yaml:17:47: risk.rules[1].params.max_age_ms: 0 is out of range: expected 1..3600000")
FIXTURE_ERROR(risk_limit_not_exact, "bad_risk_not_exact.yaml", 16,
	      "bad_risk_not_exact.yaml:16:44: risk.rules[0].params.limit: \"0.000001\" is not exact for ETHUSDT",
	      "qty_scale 5")
FIXTURE_ERROR(risk_limit_negative, "bad_risk_negative.yaml", 16,
	      "bad_risk_negative.yaml:16:45: risk.rules[0].params.limit: must be greater than 0, got -1")
FIXTURE_ERROR(risk_limit_missing, "bad_risk_missing_limit.yaml", 16,
	      "bad_risk_missing_limit.yaml:16:14: risk.rules[0].rule: \"max_notional\": parameter `limit` is required")
FIXTURE_ERROR(risk_pinned_rule_listed, "bad_risk_pinned.yaml", 16,
	      "bad_risk_pinned.yaml:16:14: risk.rules[0].rule: \"kill_switch\": always applied")
FIXTURE_ERROR(risk_rules_and_legacy_keys, "bad_risk_mixed.yaml", 17,
	      "bad_risk_mixed.yaml:17:14: risk.rules[0].rule: risk.rules replaces the legacy keys")
FIXTURE_ERROR(risk_neither_rules_nor_legacy, "bad_risk_no_rules.yaml", 14,
	      "bad_risk_no_rules.yaml:14:1: risk.rules: required key is missing")

/* ---- limits that would make a run fail at once ------------------------- */

/* Stages beat every 20 ms: a timeout of a few ms kills a healthy pipeline. */
FIXTURE_ERROR(heartbeat_timeout_below_five_ticks, "bad_heartbeat_small.yaml", 12,
	      "bad_heartbeat_small.yaml:12:25: supervisor.heartbeat_timeout_ms: 99 is out of range: expected 100..3600000")
FIXTURE_ERROR(order_qty_above_the_legacy_limit_names_both_keys, "bad_qty_above_limit.yaml", 9,
	      "bad_qty_above_limit.yaml:9:36: strategy.qty: 2.5 is above risk.max_order_qty (2, at line 11 column 18)",
	      "instruments[0] (BTCUSDT)", "refuse every order")
FIXTURE_ERROR(order_qty_above_the_rule_limit_names_both_keys, "bad_qty_above_rule.yaml", 9,
	      "bad_qty_above_rule.yaml:9:36: strategy.qty: 3 is above risk.rules[0].params.limit (2.999999, at line 12 column 45)")

Test(config_limits, order_qty_at_the_limit_is_accepted)
{
	struct fks_config *cfg = new_config();
	char err[1024];
	cr_assert_eq(load_template(cfg, "1", "1", "100000", "5", err, sizeof err), 0, "%s", err);
	cr_assert_eq(load_template(cfg, "1.00001", "1", "100000", "5", err, sizeof err), -1);
	assert_contains(err, "inline.yaml:9:");
	assert_contains(err, "strategy.qty: 1.00001 is above risk.max_order_qty (1, at line 11 column 18)");
	free(cfg);
}

/* ---- what running needs of the host: config check and fks run only ---- */

static void expect_refused_to_run(const char *name, int line, const char *needle)
{
	struct fks_config *cfg = new_config();
	char path[1024], err[1024];
	fixture_path(name, path, sizeof path);
	/* A valid config: replay, which reads neither path, still loads it. */
	cr_assert_eq(config_load_file(path, cfg, err, sizeof err), 0, "%s", err);
	int rc = config_load_to_run(path, cfg, err, sizeof err);
	expect_error_in(err, rc, name, line, NEEDLES(needle));
	free(cfg);
}

Test(config_host, feed_recording_that_does_not_exist)
{
	expect_refused_to_run("bad_feed_missing.yaml", 14,
			      "feed.path: \"/nonexistent-fks-dir/session.itch\": cannot read the recording: No such file");
}

Test(config_host, feed_recording_that_is_a_directory)
{
	char dir[] = "/tmp/fks-test-recording-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char text[1024], err[1024];
	int n = snprintf(text, sizeof text,
			 "stages: {feed: {core: 0}, strategy: {core: 1}, risk: {core: 1}, gateway: {core: 0}}\n"
			 "instruments: [{symbol: BTCUSDT, px_scale: 2, qty_scale: 6}]\n"
			 "strategy: {fast: 5, slow: 20, qty: \"0.01\"}\n"
			 "risk: {max_order_qty: 1, max_notional: 100000, max_position: 5}\n"
			 "feed: {type: itch, source: file, path: \"%s\"}\n", dir);
	char cfg_path[] = "/tmp/fks-test-config-XXXXXX";
	int fd = mkstemp(cfg_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, (size_t)n), (ssize_t)n);
	close(fd);
	struct fks_config *cfg = new_config();
	int rc = config_load_to_run(cfg_path, cfg, err, sizeof err);
	unlink(cfg_path);
	rmdir(dir);
	cr_assert_eq(rc, -1);
	assert_contains(err, "is a directory, not a recording");
	free(cfg);
}

Test(config_host, journal_path_root)
{
	expect_refused_to_run("bad_journal_root.yaml", 12, "journal.path: \"/\" is the root directory");
}

Test(config_host, journal_path_an_existing_file)
{
	expect_refused_to_run("bad_journal_file.yaml", 12, "journal.path: \"/dev/null\" exists and is not a directory");
}

Test(config_host, journal_path_whose_parent_is_missing)
{
	expect_refused_to_run("bad_journal_parent.yaml", 12,
			      "journal.path: \"/nonexistent-fks-dir/journal\" cannot be created: /nonexistent-fks-dir");
}

Test(config_host, a_runnable_config_loads_to_run)
{
	struct fks_config *cfg = new_config();
	char path[1024], err[1024];
	fixture_path("good_minimal.yaml", path, sizeof path);
	cr_assert_eq(config_load_to_run(path, cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(config_load_to_run(NULL, cfg, err, sizeof err), 0, "%s", err);
	free(cfg);
}

Test(config_cmd, check_refuses_what_cannot_run, .init = quiet)
{
	char missing_feed[1024];
	fixture_path("bad_feed_missing.yaml", missing_feed, sizeof missing_feed);
	char *argv[] = { "check", missing_feed, NULL };
	cr_assert_eq(config_cmd_check(2, argv), 1);
}

/* metrics.listen: checked at load, at its line and column. */
static void expect_metrics_error(const char *listen, const char *needle)
{
	char text[1024];
	snprintf(text, sizeof text, template_head, "1", "1", "1", "1");
	snprintf(text + strlen(text), sizeof text - strlen(text), "metrics: {listen: \"%s\"}\n", listen);
	expect_string_error(text, 14, NEEDLES(needle));
}

Test(config_errors, metrics_listen_without_port)
{
	expect_metrics_error("127.0.0.1", "metrics.listen: \"127.0.0.1\": expected HOST:PORT");
}

Test(config_errors, metrics_listen_port_out_of_range)
{
	expect_metrics_error("127.0.0.1:65536", "metrics.listen: \"127.0.0.1:65536\": expected a port 0..65535");
	expect_metrics_error("127.0.0.1:", "expected a port 0..65535");
	expect_metrics_error("127.0.0.1:-1", "expected a port 0..65535");
}

Test(config_errors, metrics_listen_host_not_an_address)
{
	expect_metrics_error("localhost:9464", "localhost is not an IP address");
	expect_metrics_error("::1:9464", "an IPv6 address goes in brackets");
	expect_metrics_error("", "metrics.listen: must not be empty");
}

Test(config, metrics_listen_accepted)
{
	const char *ok[] = { "127.0.0.1:9464", "0.0.0.0:0", "[::1]:9464" };
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		char text[1024];
		snprintf(text, sizeof text, template_head, "1", "1", "1", "1");
		snprintf(text + strlen(text), sizeof text - strlen(text), "metrics: {listen: \"%s\"}\n", ok[i]);
		struct fks_config *cfg = new_config();
		char err[512];
		cr_assert_eq(config_load_string(text, strlen(text), "inline.yaml", cfg, err, sizeof err), 0, "%s: %s",
			     ok[i], err);
		cr_assert_str_eq(cfg->metrics.listen, ok[i]);
		free(cfg);
	}
}
