/*
 * fks bench replay: replay throughput on one core.
 *
 * A synthetic tape (feeds/synthetic.h, fixed seed 42, one instrument,
 * 20% trades) of N market events (default 10M) is generated into memory
 * first, so that generation is not measured.  Then, in the same run:
 *   floor     iterate the tape and sum a field of each event (what any
 *             replay must at least do)
 *   ma_cross  the replay core (strategy, risk, simulated venue, report)
 *             over the same tape, no output journal
 * reported as events/s and as the ratio floor/peer (how many times slower
 * than the floor).  ASMBTR: reported as skipped until strategies/engine
 * lands in this branch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"
#include "synthetic.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_replay_main(int argc, char **argv)
{
	bool json = false;
	uint64_t n = 10000000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--events") && i + 1 < argc) {
			char *end;
			n = strtoull(argv[++i], &end, 10);
			if (*end || n == 0) {
				fprintf(stderr, "bench replay: --events N, N > 0\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: fks bench replay [--json] [--events N]\n");
			return 0;
		} else {
			fprintf(stderr, "bench replay: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	struct fks_config *cfg = calloc(1, sizeof *cfg);
	struct replay_setup *s = calloc(1, sizeof *s);
	union fks_event *tape = malloc(n * 64);
	char err[512];
	if (!cfg || !s || !tape) {
		fprintf(stderr, "bench replay: out of memory (%" PRIu64 " events)\n", n);
		return 1;
	}
	if (config_load_default(cfg, err, sizeof err)) {
		fprintf(stderr, "bench replay: %s\n", err);
		return 1;
	}
	cfg->n_instruments = 1; /* one instrument: one core, one strategy */
	struct synth_feed feed;
	struct synth_params sp = { .seed = 42, .trade_ratio_ppm = 200000, .volatility_bps_x100 = 100,
				   .start_time_ns = 1700000000000000000, .step_ns = 1000, .n_instruments = 1 };
	sp.instrument[0] = (struct synth_instrument){ .id = 1, .start_px = cfg->instrument[0].start_px,
						      .px_scale = cfg->instrument[0].px_scale,
						      .qty_scale = cfg->instrument[0].qty_scale };
	synth_init(&feed, &sp);
	for (uint64_t i = 0; i < n; i++) {
		union fks_event e;
		synth_next(&feed, &e);
		memcpy((char *)tape + i * 64, &e, 64);
	}
	/* floor */
	double t0 = now_s();
	int64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		const union fks_event *e = (const void *)((char *)tape + i * 64);
		sum += e->h.event_time_ns & 0xff;
	}
	double floor_s = now_s() - t0;
	/* ma_cross */
	replay_setup_from_config(s, cfg);
	struct replay_core *core;
	if (replay_core_new(&core, s, NULL, NULL, err, sizeof err)) {
		fprintf(stderr, "bench replay: %s\n", err);
		return 1;
	}
	union fks_event ev;
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(&ev, (char *)tape + i * 64, 64);
		replay_core_market(core, &ev);
	}
	replay_core_finish(core);
	double ma_s = now_s() - t0;
	struct replay_counts c;
	replay_core_counts(core, &c);
	replay_core_free(core);
	double floor_rate = (double)n / floor_s, ma_rate = (double)n / ma_s;
	if (json)
		printf("{\"events\": %" PRIu64 ", \"seed\": 42, \"floor_events_per_s\": %.0f, "
		       "\"ma_cross_events_per_s\": %.0f, \"ma_cross_slowdown\": %.2f, \"ma_cross_orders\": %" PRIu64
		       ", \"ma_cross_fills\": %" PRIu64 ", \"asmbtr\": \"skipped: strategies/engine not merged\", "
		       "\"checksum\": %" PRId64 "}\n",
		       n, floor_rate, ma_rate, floor_rate / ma_rate, c.orders, c.fills, sum);
	else {
		printf("replay throughput, %" PRIu64 " synthetic events (seed 42, 1 instrument, 20%% trades), one core\n", n);
		printf("  %-10s %14.0f events/s\n", "floor", floor_rate);
		printf("  %-10s %14.0f events/s  %6.2fx slower than floor  (%" PRIu64 " orders, %" PRIu64 " fills)\n",
		       "ma_cross", ma_rate, floor_rate / ma_rate, c.orders, c.fills);
		printf("  %-10s skipped: strategies/engine (ASMBTR) not merged in this branch yet\n", "asmbtr");
	}
	free(tape);
	free(cfg);
	free(s);
	return 0;
}
