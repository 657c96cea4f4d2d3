/*
 * `fks kill`: trip the kill switch of a running pipeline by hand.  The
 * pipeline keeps running: market data still flows, risk refuses every new
 * order (reason kill_switch), and the gateway cancels what is open at the
 * venue and sends nothing more.  Stop it as usual (SIGTERM, Ctrl-C).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/runtime/run.h"
#include "pipeline/runtime/runseg.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fks kill [--prefix NAME] [--reason TEXT]\n"
		"\n"
		"Trip the kill switch of a running pipeline: no new order leaves, open orders\n"
		"are canceled at the venue, market data keeps flowing.  It stays tripped\n"
		"until the pipeline is stopped.\n"
		"\n"
		"  --prefix NAME   the run's shared-memory prefix (default \"fks\")\n"
		"  --reason TEXT   recorded in the summary and the supervisor's log\n");
}

int kill_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prefix", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *prefix = "fks", *reason = "by hand";
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': prefix = optarg; break;
		case 'r': reason = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fks kill: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	struct run_segment *rs;
	int rc = runseg_open(prefix, true, &rs);
	if (rc) {
		fprintf(stderr, "fks kill: no running pipeline with prefix '%s' (%s)\n", prefix, ring_strerror(rc));
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
