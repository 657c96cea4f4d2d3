/*
 * fks bench replay: replay throughput on one core.
 *
 * A synthetic tape (feeds/synthetic.h, fixed seed 42, one instrument,
 * 20% trades, 1 ms apart) of T events (default 10M, 1.28 GB in 128-byte
 * slots) is generated into memory first, so that generation is not
 * measured, and played P times (default 1), each pass shifted in event time
 * after the last, so the replay sees one long tape.
 * Every peer pays the same per-event copy and time shift.  Peers, in the
 * same run, one after the other on one core:
 *   floor      copy each event and sum a field (what any replay must do)
 *   ma_cross   the replay core with the config's ma_cross (the live
 *              strategy stage today): strategy, risk, venue, report
 *   sma_cross  the same core with strategies/engine running sma_cross
 *   asmbtr     the same core with strategies/engine running asmbtr
 * reported as events/s and as the slowdown against the floor.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/options.h"
#include "pipeline/replay/replay.h"
#include "feeds/synthetic.h"
#include "shm/clock.h"

struct peer {
	const char *name, *strategy; /* NULL: floor; "": ma_cross from the config */
	double rate;
	uint64_t orders, fills;
};

static int run_peer(struct peer *p, const struct fks_config *cfg, const union fks_event *tape, uint64_t t,
		    unsigned passes, int64_t span)
{
	char err[512];
	struct replay_core *core = NULL;
	struct replay_setup *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	if (p->strategy) {
		replay_setup_from_config(s, cfg);
		if (*p->strategy && replay_setup_add_strategy(s, p->strategy, err, sizeof err)) {
			fprintf(stderr, "fks bench replay: %s\n", err);
			free(s);
			return -1;
		}
		if (replay_core_new(&core, s, NULL, NULL, err, sizeof err)) {
			fprintf(stderr, "fks bench replay: %s\n", err);
			free(s);
			return -1;
		}
	}
	union fks_event ev;
	volatile int64_t sink = 0;
	int64_t sum = 0;
	int64_t t0 = clock_mono_ns();
	for (unsigned k = 0; k < passes; k++)
		for (uint64_t i = 0; i < t; i++) {
			memcpy(&ev, &tape[i], 64);
			ev.h.event_time_ns += (int64_t)k * span;
			ev.h.seq += (uint64_t)k * t;
			if (core)
				replay_core_market(core, &ev);
			else
				sum += ev.h.event_time_ns & 0xff;
		}
	if (core)
		replay_core_finish(core);
	double dt = (double)(clock_mono_ns() - t0) * 1e-9;
	sink = sum;
	(void)sink;
	p->rate = (double)t * passes / dt;
	if (core) {
		struct replay_counts c;
		replay_core_counts(core, &c);
		p->orders = c.orders;
		p->fills = c.fills;
		replay_core_free(core);
	}
	free(s);
	return 0;
}

/* The options into *json, *t and *passes: -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, bool *json, uint64_t *t, uint64_t *passes)
{
	const struct opt options[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = json },
		{ .name = "tape", .kind = OPT_COUNT, .dest = t, .arg = "EVENTS", .expect = "1..10^8", .umin = 1,
		  .umax = 100000000 },
		{ .name = "passes", .kind = OPT_COUNT, .dest = passes, .arg = "N", .expect = "1..1000", .umin = 1,
		  .umax = 1000 },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks bench replay", .opts = options };
	int n = opts_parse(&table, argc, argv);
	if (n == OPTS_HELP) {
		printf("usage: fks bench replay [--json] [--tape EVENTS] [--passes N]\n"
		       "  replays TAPE synthetic events N times (default 10000000 x 1)\n");
		return 0;
	}
	if (n > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	return n == 0 ? -1 : 2; /* a usage error is reported, with the hint */
}

int bench_replay_main(int argc, char **argv)
{
	bool json = false;
	uint64_t t = 10000000, passes_given = 1;
	int rc = parse_args(argc, argv, &json, &t, &passes_given);
	if (rc >= 0)
		return rc;
	unsigned passes = (unsigned)passes_given; /* at most 1000 */
	struct fks_config *cfg = calloc(1, sizeof *cfg);
	union fks_event *tape = malloc(t * sizeof *tape); /* 128-byte slots: 128 MB per 1M */
	char err[512];
	if (!cfg || !tape) {
		fprintf(stderr, "fks bench replay: out of memory (%" PRIu64 " events)\n", t);
		return 1;
	}
	if (config_load_default(cfg, err, sizeof err)) {
		fprintf(stderr, "fks bench replay: %s\n", err);
		return 1;
	}
	cfg->n_instruments = 1; /* one instrument: one core, one strategy */
	struct synth_feed feed;
	struct synth_params sp = { .seed = 42, .trade_ratio_ppm = 200000, .volatility_bps_x100 = 100,
				   .start_time_ns = 1700000000000000000, .step_ns = 1000000, .n_instruments = 1 };
	sp.instrument[0] = (struct synth_instrument){ .id = 1, .start_px = cfg->instrument[0].start_px,
						      .px_scale = cfg->instrument[0].px_scale,
						      .qty_scale = cfg->instrument[0].qty_scale };
	synth_init(&feed, &sp);
	for (uint64_t i = 0; i < t; i++)
		synth_next(&feed, &tape[i]);
	struct peer peers[] = {
		{ .name = "floor" },
		{ .name = "ma_cross", .strategy = "" },
		{ .name = "sma_cross", .strategy = "sma_cross:fast=10,slow=30,min_confidence=0,sizing=fixed,fraction=0.01" },
		{ .name = "asmbtr", .strategy = "asmbtr:sizing=fixed,fraction=0.01" },
	};
	int64_t span = (int64_t)t * sp.step_ns;
	for (size_t k = 0; k < sizeof peers / sizeof peers[0]; k++)
		if (run_peer(&peers[k], cfg, tape, t, passes, span))
			return 1;
	free(tape);
	double floor_rate = peers[0].rate;
	if (json) {
		printf("{\"tape_events\": %" PRIu64 ", \"passes\": %u, \"events\": %" PRIu64 ", \"seed\": 42, \"peers\": [", t,
		       passes, t * passes);
		for (size_t k = 0; k < sizeof peers / sizeof peers[0]; k++)
			printf("%s{\"name\": \"%s\", \"events_per_s\": %.0f, \"slowdown_vs_floor\": %.2f, \"orders\": %" PRIu64
			       ", \"fills\": %" PRIu64 "}",
			       k ? ", " : "", peers[k].name, peers[k].rate, floor_rate / peers[k].rate, peers[k].orders,
			       peers[k].fills);
		printf("]}\n");
	} else {
		printf("replay throughput: %" PRIu64 " synthetic events (tape %" PRIu64 " x %u, seed 42, 1 instrument, "
		       "20%% trades), one core, peers in sequence\n",
		       t * passes, t, passes);
		for (size_t k = 0; k < sizeof peers / sizeof peers[0]; k++)
			printf("  %-10s %14.0f events/s  %7.2fx floor time  (%" PRIu64 " orders, %" PRIu64 " fills)\n",
			       peers[k].name, peers[k].rate, floor_rate / peers[k].rate, peers[k].orders, peers[k].fills);
	}
	free(cfg);
	return 0;
}
