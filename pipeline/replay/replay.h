/*
 * `fks replay`: backtests over recorded market data, in one process,
 * through the live pipeline's own strategy, risk and gateway kernels.
 *
 * The replay core is a pure function of (setup, market events in order):
 * it runs the live strategy, risk and gateway kernels in lockstep
 * (pipeline/runtime/lockstep.h has the order of events), with the input in
 * the feed's place and the --out journal, the counts and the report in the
 * journal's.  Each market event is emitted first (the output journal holds
 * the input too), then what the kernels tap, in the order they make it:
 * the strategy's orders, risk's rejects, the venue's execution reports,
 * each report followed by the FKS_EV_APPLIED markers of the strategy and
 * of risk; at the end the venue cancels what is open.
 *
 * So the output is laid out like a live journal, with reports applied as
 * early as they could be (the freshest position), and `--verify` accepts
 * it.  Events the kernels make carry FKS_EVF_REPLAY; copied market events
 * do not.  Times come from the input only: each stage's clock is the
 * receive time of the event it handles (so stale-data checks never fire in
 * a replay; they depend on live timing), and nothing reads a wall clock.
 *
 * Everything else (options, inputs, --verify, --sweep) is in the other
 * files of pipeline/replay/ (replay_int.h lists them); docs/replay.md is
 * the user reference.
 */
#ifndef FKS_PIPELINE_REPLAY_H
#define FKS_PIPELINE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/config/config.h"
#include "shm/event.h"
#include "pipeline/replay/report.h"
#include "gateway/venues/sim/sim_venue.h"

/* What a replay runs with: the pipeline config and the knobs a config does
 * not have (fill model details, fees).  Plain data. */
#define REPLAY_MAX_SPECS 8
#define REPLAY_MAX_PARAMS 16

/* One engine strategy, bound to every instrument of the config
 * (`--strategy KIND[:key=value,...]`).  Its name is its kind, or kind#2,
 * kind#3 for repeats; sweep and --set address its keys as NAME.key. */
struct replay_strategy_spec {
	char name[24];
	char kind[24];
	uint32_t n;
	char key[REPLAY_MAX_PARAMS][24];
	char val[REPLAY_MAX_PARAMS][40];
};

struct replay_setup {
	struct fks_config cfg;
	struct sim_venue_params venue;
	uint32_t fee_ppm;
	/* No specs: the config's ma_cross, as the live strategy stage runs it.
	 * Specs: strategies/engine.h with these instances. */
	uint32_t n_specs;
	struct replay_strategy_spec spec[REPLAY_MAX_SPECS];
	char equity[24];               /* engine start equity, decimal; "100000" */
};

/* Add an engine strategy from "KIND[:key=value,...]".  0, or -1 with a
 * message. */
int replay_setup_add_strategy(struct replay_setup *s, const char *text, char *err, size_t errlen);

/* Fill a setup from a loaded config: the venue as the live gateway builds
 * it, fee REPORT_DEFAULT_FEE_PPM. */
void replay_setup_from_config(struct replay_setup *s, const struct fks_config *cfg);

/*
 * Set one knob by name, as `--sweep key=...` and the options do:
 *   fast, slow          strategy windows (1 <= fast < slow)
 *   order_type          limit | market
 *   fill                touch | queue | none
 *   latency_us          0..SIM_VENUE_MAX_LATENCY_US
 *   slippage_bps        0..SIM_VENUE_MAX_SLIPPAGE_BPS
 *   slippage_ticks      price units, 0..10^9
 *   fee_ppm             0..10^6 (1000 = 0.1%)
 *   equity              engine start equity (decimal, quote currency)
 *   NAME.key            a parameter of engine strategy NAME (its kind, or
 *                       kind#N); checked by the strategy when the core starts
 * 0, or -1 with a message naming the key (unknown key, bad value).
 */
int replay_setup_set(struct replay_setup *s, const char *key, const char *value, char *err, size_t errlen);

typedef void (*replay_sink_fn)(void *ctx, const union fks_event *ev);

struct replay_core;

/* NULL sink: nothing is emitted (the report is still kept).  0, or -1 with
 * a message. */
int replay_core_new(struct replay_core **out, const struct replay_setup *s, replay_sink_fn sink, void *ctx,
		    char *err, size_t errlen);
/* One market event (quote, trade, book delta); other types are counted and
 * skipped.  0, or -1 once a kernel failed (replay_core_error). */
int replay_core_market(struct replay_core *c, const union fks_event *md);
/* End of input: cancel what is open, close the report. */
void replay_core_finish(struct replay_core *c);
/* Why a kernel failed (the replay is then wrong from that event on), or
 * NULL. */
const char *replay_core_error(struct replay_core *c);
const struct report *replay_core_report(const struct replay_core *c);

struct replay_counts {
	uint64_t market, orders, risk_rejects, acks, fills, venue_rejects, cancels, applied, skipped;
};
void replay_core_counts(const struct replay_core *c, struct replay_counts *out);
void replay_core_free(struct replay_core *c);

/* `fks replay ...`: exit 0 ok, 1 a failure (bad input, verify mismatch),
 * 2 usage. */
int replay_main(int argc, char **argv);

/* `fks bench replay [--json] [--events N]` (bench/replay_bench.c). */
int bench_replay_main(int argc, char **argv);

#endif
