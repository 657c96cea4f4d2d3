/*
 * `fks status`: per-stage counters of a running pipeline, read from shared
 * memory only.  It maps the run segment and the rings read-only, so it can
 * neither slow nor disturb a stage.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/config/config.h"
#include "pipeline/cli/options.h"
#include "pipeline/runtime/run.h"
#include "pipeline/runtime/runseg.h"
#include "shm/clock.h"

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks status [--prefix NAME] [--watch] [--interval SECONDS]\n"
		"\n"
		"Per-stage counters of a running pipeline, with rates over the interval:\n"
		"state, pid, heartbeat age, events in/out and per second, busy share,\n"
		"cpu share, receive-to-emit latency, ring depths and producer blocked time.\n"
		"busy: the share of the interval a stage spent in the sections it times\n"
		"itself (handling events; in a shared runner, not the time it spent\n"
		"running the stages beside it); cpu: the stage process's CPU time (all its\n"
		"threads) over its wall time since it started, in percent of one core,\n"
		"which also counts polling, system calls and the journal's commits.\n"
		"Reads shared memory only; it never touches the stages.\n"
		"\n");
	opts_print_help(table, out);
}

struct sample {
	uint64_t t;
	uint64_t in[FKS_CFG_STAGE_COUNT], out[FKS_CFG_STAGE_COUNT];
	uint64_t busy[FKS_CFG_STAGE_COUNT];
};

static void take(const struct run_segment *rs, struct sample *s)
{
	s->t = (uint64_t)clock_mono_ns();
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		s->in[i] = atomic_load(&rs->stage[i].events_in);
		s->out[i] = atomic_load(&rs->stage[i].events_out);
		s->busy[i] = atomic_load(&rs->stage[i].busy_ns);
	}
}

static void show(const struct run_segment *rs, const struct sample *a, const struct sample *b)
{
	double dt = (double)(b->t - a->t) / 1e9;
	printf("pipeline '%s' (supervisor pid %d)%s\n", rs->prefix, rs->supervisor_pid,
	       atomic_load(&rs->control.kill) ? "  KILL SWITCH TRIPPED" : "");
	printf("%-9s %-9s %7s %8s %12s %12s %11s %11s %6s %6s %9s %9s\n", "stage", "state", "pid", "beat ms",
	       "events in", "events out", "in/s", "out/s", "busy", "cpu", "lat p50", "lat p99");
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		const struct stage_stats *st = &rs->stage[i];
		uint64_t beat = atomic_load(&st->heartbeat_ns);
		/* The time the stage handled events itself over the interval; a
		 * runner corrects a stage's count right after a poll (runner.c), so
		 * a sample taken in between can be a little ahead of the next. */
		uint64_t db = b->busy[i] > a->busy[i] ? b->busy[i] - a->busy[i] : 0;
		printf("%-9s %-9s %7d %8.1f %12" PRIu64 " %12" PRIu64 " %11.0f %11.0f %5.1f%% %5.1f%% %8" PRIu64
		       "ns %8" PRIu64 "ns\n",
		       config_stage_name((enum fks_cfg_stage)i), runseg_state_name(atomic_load(&st->state)),
		       (int)atomic_load(&st->pid), beat && b->t > beat ? (double)(b->t - beat) / 1e6 : 0.0,
		       b->in[i], b->out[i], (double)(b->in[i] - a->in[i]) / dt, (double)(b->out[i] - a->out[i]) / dt,
		       b->t > a->t ? 100.0 * (double)db / (double)(b->t - a->t) : 0.0, runseg_cpu_pct(st),
		       hist_quantile(&st->latency, 0.5),
		       hist_quantile(&st->latency, 0.99));
	}
	uint64_t since = atomic_load(&rs->stage[FKS_CFG_JOURNAL].disk_wait_since_ns);
	if (since && b->t > since)
		printf("journal: committing for %.1f ms (a slow disk: the taps fill, producers wait)\n",
		       (double)(b->t - since) / 1e6);
	const struct stage_stats *jn = &rs->stage[FKS_CFG_JOURNAL];
	if (atomic_load(&jn->journal_part) > 1)
		printf("journal: writing part %u (rotated %u times; %u old parts deleted by journal.retain)\n",
		       atomic_load(&jn->journal_part), atomic_load(&jn->journal_part) - 1,
		       atomic_load(&jn->journal_parts_removed));
	const struct stage_stats *gw = &rs->stage[FKS_CFG_GATEWAY];
	printf("gateway: %llu orders, %llu fills; tick-to-trade p50 %" PRIu64 " ns, p99 %" PRIu64 " ns, p99.9 %" PRIu64 " ns\n",
	       (unsigned long long)atomic_load(&gw->counter[CTR_ORDERS]),
	       (unsigned long long)atomic_load(&gw->counter[CTR_FILLS]), hist_quantile(&gw->tick_to_trade, 0.5),
	       hist_quantile(&gw->tick_to_trade, 0.99), hist_quantile(&gw->tick_to_trade, 0.999));
	printf("%-24s %10s %10s %14s %8s %8s\n", "ring", "depth", "capacity", "blocked ms", "waits", "parks");
	for (int r = 0; r < RUN_RING_COUNT; r++) {
		const struct ring_shared *shm;
		size_t len;
		if (ring_observe(rs->ring_name[r], &shm, &len) != RING_OK) {
			printf("%-24s (not available)\n", rs->ring_name[r]);
			continue;
		}
		const struct ring_side_info *p = &shm->side[RING_PRODUCER], *c = &shm->side[RING_CONSUMER];
		printf("%-24s %10" PRIu64 " %10" PRIu64 " %14.1f %8llu %8llu\n", rs->ring_name[r], ring_depth(shm),
		       shm->capacity, (double)atomic_load(&p->blocked_ns) / 1e6,
		       (unsigned long long)atomic_load(&p->waits),
		       (unsigned long long)(atomic_load(&p->parks) + atomic_load(&c->parks)));
		ring_unobserve(shm, len);
	}
	fflush(stdout);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int status_main(int argc, char **argv)
{
	const char *prefix = "fks";
	bool watch = false;
	double interval = 1.0;
	const struct opt opts[] = {
		{ .name = "prefix", .kind = OPT_STRING, .dest = &prefix, .arg = "NAME",
		  .help = "the run's shared-memory prefix", .dflt = "\"fks\"" },
		{ .name = "watch", .short_name = 'w', .kind = OPT_FLAG, .dest = &watch,
		  .help = "refresh until interrupted" },
		{ .name = "interval", .kind = OPT_DECIMAL, .dest = &interval, .arg = "SECONDS",
		  .help = "sampling interval", .dflt = "1", .expect = "seconds > 0", .dmin = 0, .dmin_open = true },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks status", .help_col = 23, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	struct run_segment *rs;
	int rc = runseg_open(prefix, false, &rs);
	if (rc == RING_E_NOENT) {
		fprintf(stderr, "fks status: no running pipeline with prefix '%s' (%s)\n", prefix, ring_strerror(rc));
		return 1;
	}
	if (rc) {
		char why[320];
		runseg_explain(prefix, rc, why, sizeof why);
		fprintf(stderr, "fks status: cannot read the run segment %s\n", why);
		return 1;
	}
	/* A crashed run's counters stay frozen in its segment: showing them as a
	 * running pipeline would hide the crash. */
	if (!runseg_supervisor_alive(rs)) {
		fprintf(stderr,
			"fks status: the pipeline '%s' is not running (supervisor pid %d gone); the segments are a\n"
			"crashed run's, and `fks run` will clean them up\n",
			prefix, rs->supervisor_pid);
		runseg_close(rs);
		return 1;
	}
	signal(SIGINT, on_signal);
	struct sample a, b;
	take(rs, &a);
	do {
		struct timespec ts = { (time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9) };
		nanosleep(&ts, NULL);
		if (!runseg_supervisor_alive(rs)) {
			fprintf(stderr, "fks status: the pipeline '%s' stopped (supervisor pid %d gone)\n", prefix,
				rs->supervisor_pid);
			runseg_close(rs);
			return 1;
		}
		take(rs, &b);
		if (watch)
			printf("\033[H\033[2J");
		show(rs, &a, &b);
		a = b;
	} while (watch && !stop);
	runseg_close(rs);
	return 0;
}
