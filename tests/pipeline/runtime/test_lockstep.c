/*
 * The kernels in lockstep (pipeline/runtime/lockstep.h): the live
 * strategy, risk and gateway kernels driven by direct calls, as replay
 * runs them.  What the taps show is the contract replay's output and
 * --verify rely on:
 *  - every execution report is tapped, then applied to the strategy and
 *    then to risk, each with an FKS_EV_APPLIED marker naming it, before
 *    the next market event;
 *  - a risk reject reaches the strategy through the gateway, as over the
 *    live rings, and never risk itself;
 *  - everything the kernels make carries FKS_EVF_REPLAY, and each stage
 *    numbers its own events densely;
 *  - a venue the config does not know is refused with the reason.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "feeds/synthetic.h"
#include "pipeline/config/config.h"
#include "pipeline/runtime/lockstep.h"

#define MAX_TAPS 400000

struct tapped {
	enum fks_cfg_stage from;
	union fks_event ev;
};

static struct tapped *taps;
static size_t n_taps;

static void record(void *ctx, enum fks_cfg_stage from, const union fks_event *ev)
{
	(void)ctx;
	cr_assert_lt(n_taps, MAX_TAPS);
	taps[n_taps].from = from;
	memcpy(&taps[n_taps].ev, ev, fks_event_size(ev->h.type));
	n_taps++;
}

static struct fks_config cfg;

/* The default config; max_position (the last rule) set to limit. */
static void load_config(const char *max_position)
{
	char err[256];
	cr_assert_eq(config_load_default(&cfg, err, sizeof err), 0, "%s", err);
	struct fks_risk_rule_cfg *r = &cfg.risk.rules[cfg.risk.n_rules - 1];
	cr_assert_str_eq(r->rule, "max_position");
	snprintf(r->param[0].value, sizeof r->param[0].value, "%s", max_position);
}

/* n synthetic market events of the config's instruments through lockstep,
 * each also recorded as the feed's tap would; then the end of input, or
 * (finish false) a close without it, as after a failed input.  Returns
 * the taps made by the close alone. */
static size_t run_ending(uint64_t n, bool finish)
{
	char err[256];
	struct lockstep *L;
	struct lockstep_params p = { .strategy_cfg = &cfg, .cfg = &cfg, .tap = record };
	cr_assert_eq(lockstep_open(&L, &p, err, sizeof err), 0, "%s", err);
	struct synth_feed feed;
	struct synth_params sp = { .seed = 3, .trade_ratio_ppm = 200000, .volatility_bps_x100 = 300,
				   .start_time_ns = 1700000000000000000, .step_ns = 1000000, .n_instruments = 2 };
	for (int i = 0; i < 2; i++)
		sp.instrument[i] = (struct synth_instrument){ .id = cfg.instrument[i].id,
							      .start_px = cfg.instrument[i].start_px,
							      .px_scale = cfg.instrument[i].px_scale,
							      .qty_scale = cfg.instrument[i].qty_scale };
	cr_assert_eq(synth_init(&feed, &sp), 0);
	for (uint64_t i = 0; i < n; i++) {
		union fks_event e;
		memset(&e, 0, sizeof e);
		synth_next(&feed, &e);
		e.h.recv_time_ns = e.h.event_time_ns;
		record(NULL, FKS_CFG_FEED, &e);
		lockstep_market(L, &e);
	}
	if (finish)
		lockstep_finish(L);
	size_t before = n_taps;
	lockstep_close(L);
	return n_taps - before;
}

static void run(uint64_t n)
{
	run_ending(n, true);
}

static void setup(void)
{
	taps = calloc(MAX_TAPS, sizeof *taps);
	n_taps = 0;
}

static void teardown(void)
{
	free(taps);
}

TestSuite(lockstep, .init = setup, .fini = teardown, .timeout = 60);

static bool is_report(const union fks_event *ev)
{
	return ev->h.type == FKS_EV_ORDER_ACK || ev->h.type == FKS_EV_FILL || ev->h.type == FKS_EV_ORDER_REJECT ||
	       ev->h.type == FKS_EV_CANCEL_ACK;
}

static bool marks(const struct tapped *t, enum fks_cfg_stage stage, const union fks_event *rep)
{
	return t->from == stage && t->ev.h.type == FKS_EV_APPLIED && t->ev.applied.applied_seq == rep->h.seq &&
	       t->ev.applied.applied_type == rep->h.type;
}

Test(lockstep, every_report_is_applied_to_strategy_then_risk_before_the_next_market_event)
{
	load_config("5");
	run(20000);
	uint64_t market = 0, reports = 0, fills = 0;
	for (size_t i = 0; i < n_taps; i++) {
		const struct tapped *t = &taps[i];
		if (t->from == FKS_CFG_FEED) {
			market++;
			continue;
		}
		cr_assert(t->ev.h.flags & FKS_EVF_REPLAY, "tap %zu (type %u) lacks FKS_EVF_REPLAY", i, t->ev.h.type);
		if (t->from != FKS_CFG_GATEWAY || !is_report(&t->ev))
			continue;
		reports++;
		fills += t->ev.h.type == FKS_EV_FILL;
		cr_assert_lt(i + 2, n_taps);
		cr_assert(marks(&taps[i + 1], FKS_CFG_STRATEGY, &t->ev), "report at tap %zu: the strategy's marker is not next", i);
		cr_assert(marks(&taps[i + 2], FKS_CFG_RISK, &t->ev), "report at tap %zu: risk's marker does not follow", i);
		/* Applied after exactly the market events handled so far (the
		 * final cancels: after all of them). */
		cr_assert_eq(taps[i + 1].ev.applied.input_pos, market);
	}
	cr_assert_gt(fills, 10, "the synthetic tape must make the crossover trade (%lu fills)", (unsigned long)fills);
	cr_assert_gt(reports, fills);
}

Test(lockstep, a_risk_reject_reaches_the_strategy_through_the_gateway_not_risk)
{
	load_config("0.01"); /* one filled order reaches the limit: the next same-side order is refused */
	run(20000);
	uint64_t rejects = 0;
	for (size_t i = 0; i < n_taps; i++) {
		const struct tapped *t = &taps[i];
		if (t->ev.h.type == FKS_EV_APPLIED && t->ev.applied.applied_type == FKS_EV_RISK_REJECT)
			cr_assert_eq(t->from, FKS_CFG_STRATEGY, "only the strategy applies a risk reject");
		if (t->from != FKS_CFG_RISK || t->ev.h.type != FKS_EV_RISK_REJECT)
			continue;
		rejects++;
		cr_assert_eq(t->ev.risk_reject.reason, FKS_RISK_MAX_POSITION);
		/* The strategy applies it on the same market event: before the
		 * feed's next event. */
		size_t j = i + 1;
		while (j < n_taps && !(taps[j].from == FKS_CFG_STRATEGY && taps[j].ev.h.type == FKS_EV_APPLIED &&
				       taps[j].ev.applied.applied_seq == t->ev.h.seq &&
				       taps[j].ev.applied.applied_type == FKS_EV_RISK_REJECT))
			cr_assert_neq(taps[j++].from, FKS_CFG_FEED, "reject at tap %zu not applied before the next market event", i);
		cr_assert_lt(j, n_taps, "reject at tap %zu never applied", i);
	}
	cr_assert_gt(rejects, 0);
}

Test(lockstep, each_stage_numbers_its_events_densely)
{
	load_config("5");
	run(5000);
	uint64_t next[FKS_CFG_STAGE_COUNT] = { 0 };
	for (size_t i = 0; i < n_taps; i++) {
		const struct tapped *t = &taps[i];
		if (t->from == FKS_CFG_FEED)
			continue;
		cr_assert_eq(t->ev.h.seq, ++next[t->from], "stage %d: seq %lu after %lu", t->from,
			     (unsigned long)t->ev.h.seq, (unsigned long)next[t->from] - 1);
	}
	cr_assert_gt(next[FKS_CFG_STRATEGY], 0);
	cr_assert_gt(next[FKS_CFG_GATEWAY], 0);
}

Test(lockstep, an_unknown_venue_is_refused_with_the_reason)
{
	load_config("5");
	snprintf(cfg.venue.type, sizeof cfg.venue.type, "nowhere");
	char err[256] = "";
	struct lockstep *L = (struct lockstep *)&err; /* must be reset */
	struct lockstep_params p = { .strategy_cfg = &cfg, .cfg = &cfg, .tap = record };
	cr_assert_eq(lockstep_open(&L, &p, err, sizeof err), -1);
	cr_assert_null(L);
	cr_assert(strstr(err, "venue type 'nowhere': not in the venue registry"), "%s", err);
}

/* A replay whose input failed closes without finishing: orders are still
 * open at the venue, and nothing may reach the already-closing caller. */
static bool orders_open(void)
{
	uint64_t acks = 0, ends = 0;
	for (size_t i = 0; i < n_taps; i++) {
		const union fks_event *e = &taps[i].ev;
		acks += e->h.type == FKS_EV_ORDER_ACK;
		ends += e->h.type == FKS_EV_CANCEL_ACK || e->h.type == FKS_EV_ORDER_REJECT ||
			(e->h.type == FKS_EV_FILL && e->fill.leaves_qty == 0);
	}
	return acks > ends;
}

Test(lockstep, a_close_without_finish_taps_nothing)
{
	load_config("5");
	/* The first tape length that leaves an order open at the end. */
	for (uint64_t n = 200; n < 20000; n += 37) {
		n_taps = 0;
		size_t at_close = run_ending(n, false);
		if (!orders_open())
			continue;
		cr_assert_eq(at_close, 0, "%zu events tapped by the close", at_close);
		return;
	}
	cr_assert_fail("no tape length left an order open");
}
