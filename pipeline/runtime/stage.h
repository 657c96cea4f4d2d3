/*
 * The stages and the runners that run them: the entry point the supervisor
 * calls in each forked child (runner_main), and the ring geometry both
 * sides agree on.  A runner is one process on one core that runs one or
 * more stages (stage_int.h, docs/architecture.md "Runners and placement").
 *
 * Topology (docs/architecture.md has the diagram):
 *
 *   feed --md--> strategy --orders--> risk --risk_out--> gateway
 *                   ^                   ^                   |
 *                   +---exec_strategy---+----exec_risk------+
 *
 * Market data travels in-band along the main line (strategy and risk
 * forward it), so the gateway's simulated venue sees quotes and orders in
 * exactly the order the strategy acted on them.  Execution reports come
 * back on their own rings and are applied before the next main-line batch.
 *
 * Every stage also has a tap ring to the journal stage, carrying the events
 * it originates and nothing it only forwards: the feed its market data, the
 * strategy its orders, risk its rejects, the gateway its execution reports,
 * and strategy and risk an FKS_EV_APPLIED marker for every report they
 * apply.  So the journal holds every event exactly once, and where each
 * report took effect.  A full tap blocks its stage: back-pressure, no drops.
 */
#ifndef FKS_PIPELINE_STAGE_H
#define FKS_PIPELINE_STAGE_H

#include <stdint.h>

#include "pipeline/config/config.h"
#include "pipeline/runtime/runseg.h"
#include "pipeline/runtime/topology.h"

struct stage_args {
	enum fks_cfg_stage id;
	const struct fks_config *cfg;
	/* Shared-memory names: <prefix>.run, <prefix>.<ring>.  A copy, not a
	 * pointer: the process title is written over argv. */
	char prefix[FKS_STATS_PREFIX_MAX];
	uint64_t max_events;     /* feed: stop after this many events; 0 = no limit */
	char journal_dir[FKS_CONFIG_PATH_MAX]; /* journal: the directory to create */
	const char *version;     /* journal: the fks version for the run metadata */
};

/* One runner: the stages the config places in it (cfg->runner[index]),
 * each with its args. */
struct runner_args {
	const struct fks_config *cfg;
	uint32_t index;
	struct stage_args stage[FKS_CFG_STAGE_COUNT]; /* by stage id; only its stages are used */
};

/* Runs one runner to completion in the calling process (a forked child):
 * every stage in it, until each has drained.  Returns the process exit
 * code: 0 after a clean drain of all, 1 if any stage failed (the reason is
 * in that stage's stats block and on stderr). */
int runner_main(const struct runner_args *ra);

/* The signals that ask a pipeline to stop: SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT.  The supervisor catches each and drains the pipeline.  A stage
 * ignores them, and SIGPIPE: a signal to the whole process group (systemd,
 * timeout(1), a terminal) reaches the stages too, and a stage stopped by it
 * would lose what its rings hold.  A stage stops when the supervisor sets
 * the run segment's stop flag; only SIGKILL ends it outright. */
#define STAGE_STOP_SIGNAL_COUNT 4
extern const int stage_stop_signals[STAGE_STOP_SIGNAL_COUNT];

#endif
