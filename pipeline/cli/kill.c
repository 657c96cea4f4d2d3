/*
 * `fks kill`: trip the kill switch of a running pipeline by hand.  The
 * pipeline keeps running: market data still flows, risk refuses every new
 * order (reason kill_switch), and the gateway cancels what is open at the
 * venue and sends nothing more.  Stop it as usual (SIGTERM, Ctrl-C).
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/options.h"
#include "pipeline/runtime/run.h"
#include "pipeline/runtime/runseg.h"

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks kill [--prefix NAME] [--reason TEXT]\n"
		"\n"
		"Trip the kill switch of a running pipeline: no new order leaves, open orders\n"
		"are canceled at the venue, market data keeps flowing.  It stays tripped\n"
		"until the pipeline is stopped.\n"
		"\n");
	opts_print_help(table, out);
}

int kill_main(int argc, char **argv)
{
	const char *prefix = "fks", *reason = "by hand";
	const struct opt opts[] = {
		{ .name = "prefix", .kind = OPT_STRING, .dest = &prefix, .arg = "NAME",
		  .help = "the run's shared-memory prefix", .dflt = "\"fks\"" },
		{ .name = "reason", .kind = OPT_STRING, .dest = &reason, .arg = "TEXT",
		  .help = "recorded in the summary and the supervisor's log" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks kill", .help_col = 18, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	if (npos > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	struct run_segment *rs;
	int rc = runseg_open(prefix, true, &rs);
	if (rc == RING_E_NOENT) {
		fprintf(stderr, "fks kill: no running pipeline with prefix '%s' (%s)\n", prefix, ring_strerror(rc));
		return 1;
	}
	if (rc) {
		char why[320];
		runseg_explain(prefix, rc, why, sizeof why);
		fprintf(stderr, "fks kill: cannot open the run segment %s\n", why);
		return 1;
	}
	/* Tripping a crashed run's switch would report a kill that stops nothing. */
	if (!runseg_supervisor_alive(rs)) {
		fprintf(stderr,
			"fks kill: no running pipeline with prefix '%s': supervisor pid %d is gone; the segments are\n"
			"a crashed run's, and `fks run` will clean them up\n",
			prefix, rs->supervisor_pid);
		runseg_close(rs);
		return 1;
	}
	if (atomic_load(&rs->control.kill)) {
		printf("fks kill: the kill switch of '%s' was already tripped (%s)\n", prefix, rs->control.kill_reason);
	} else {
		snprintf(rs->control.kill_reason, sizeof rs->control.kill_reason, "operator %s", reason);
		atomic_store_explicit(&rs->control.kill_stage, FKS_CFG_STAGE_COUNT, memory_order_relaxed);
		atomic_store_explicit(&rs->control.kill, 1, memory_order_release);
		printf("fks kill: kill switch tripped on '%s' (supervisor pid %d)\n", prefix, rs->supervisor_pid);
	}
	runseg_close(rs);
	return 0;
}
