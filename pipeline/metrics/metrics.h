/*
 * The Prometheus exporter: /metrics in the text exposition format (0.0.4),
 * /health and /ready as JSON, for one running pipeline.
 *
 * It reads the run segment through a read-only mapping, exactly as `fks
 * status` does: it never writes shared memory and never touches a stage, so
 * scraping costs the hot path nothing but the cache lines it reads.  It runs
 * inside the supervisor (`metrics: {listen: ...}` in the config) or outside
 * it (`fks metrics`); both serve the same names (docs/operations.md).
 */
#ifndef FKS_PIPELINE_METRICS_H
#define FKS_PIPELINE_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/config/config.h"
#include "pipeline/runtime/runseg.h"

/* One pipeline as the exporter sees it: the config it runs (runner names,
 * symbols, scales, limits) and its run segment, mapped read-only. */
struct metrics_view {
	const struct fks_config *cfg;
	char prefix[FKS_STATS_PREFIX_MAX];
	struct run_segment *rs;
	/* The feed's events out at the last look and when they last moved
	 * (CLOCK_MONOTONIC): how long market data has not flowed, as far as
	 * the looks can tell. */
	uint64_t feed_out_seen;
	uint64_t feed_moved_ns;
};

/* Map prefix's run segment read-only: 0, or the runseg_open error (a
 * RING_E_* code; runseg_explain says why; v->rs stays NULL and the view
 * shows "no run" until metrics_view_follow finds one). */
int metrics_view_open(struct metrics_view *v, const struct fks_config *cfg, const char *prefix);
void metrics_view_close(struct metrics_view *v);
/* When the run the view shows has ended and a new one runs under the same
 * prefix, follow it.  Serve a view only from one thread at a time. */
void metrics_view_follow(struct metrics_view *v);

enum metrics_verdict { METRICS_OK = 0, METRICS_DEGRADED = 1, METRICS_UNHEALTHY = 2 };
const char *metrics_verdict_name(enum metrics_verdict v);

/* What /health and the health gauges say, at now_ns (CLOCK_MONOTONIC). */
struct metrics_assessment {
	bool supervisor_alive;
	bool stage_up[FKS_CFG_STAGE_COUNT];   /* its process lives and it has not ended */
	bool stage_dead[FKS_CFG_STAGE_COUNT]; /* gone without saying so (killed) */
	bool kill;
	bool stopping;
	bool feed_stale;
	double feed_quiet_s;                  /* since market data last moved */
	bool ready;                           /* every stage runs and market data has flowed */
	enum metrics_verdict verdict;
	char reasons[512];                    /* why not ok: "; "-separated */
};
void metrics_assess(struct metrics_view *v, uint64_t now_ns, struct metrics_assessment *a);

/* The exposition of everything the view shows. */
void metrics_write(struct metrics_view *v, uint64_t now_ns, FILE *out);
/* /health's and /ready's JSON bodies, from an assessment. */
void metrics_write_health(const struct metrics_view *v, const struct metrics_assessment *a, uint64_t now_ns,
			  FILE *out);
void metrics_write_ready(const struct metrics_assessment *a, FILE *out);

/* The HTTP server (libmicrohttpd, its own thread, signals blocked in it).
 * listen is "HOST:PORT" (config_split_listen); port 0 takes a free one.
 * wait_for_run: when no run exists under prefix, serve fks_up 0 and an
 * unhealthy /health until one starts (`fks metrics`); otherwise that is an
 * error.  0, or -1 with err set ("cannot listen on 127.0.0.1:80:
 * Permission denied", "no running pipeline with prefix 'x'"). */
struct metrics_server;
int metrics_server_start(const struct fks_config *cfg, const char *prefix, const char *listen, bool wait_for_run,
			 struct metrics_server **out, char *err, size_t errlen);
/* Whether it has found a run under its prefix yet. */
bool metrics_server_has_run(const struct metrics_server *s);
/* The address it listens on, the port resolved: "127.0.0.1:40123". */
const char *metrics_server_address(const struct metrics_server *s);
void metrics_server_stop(struct metrics_server *s);

/* `fks metrics` (pipeline/cli/metrics_cmd.c). */
int metrics_main(int argc, char **argv);

#endif
