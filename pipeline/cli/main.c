/*
 * fks: the one executable.  Each subcommand is a row in a table; groups
 * (`fks bench ...`) are tables of their own.  Every command and group answers
 * --help (`fks help CMD [SUB]` is the same), and an unknown word is an error
 * that suggests the closest known one.
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "pipeline/cli/bus_cmd.h"
#include "pipeline/cli/options.h"
#include "pipeline/config/config.h"
#include "pipeline/runtime/feed_source.h"
#include "pipeline/journal/journal.h"
#include "pipeline/metrics/metrics.h"
#include "pipeline/runtime/proctitle.h"
#include "pipeline/replay/replay.h"
#include "pipeline/runtime/run.h"
#include "version.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command's own name */
	const struct command *sub;         /* a group: subcommands instead of run */
};

static const struct command bench_commands[] = {
	{ "ring", "SPSC ring latency and throughput beside floor, rte_ring, ck_ring, unix, pipe",
	  bench_ring_main, NULL },
	{ "pipeline", "end-to-end throughput and tick-to-trade per layout and offered rate",
	  bench_pipeline_main, NULL },
	{ "journal", "LMDB journal append rate and commit latency per sync mode and batch, beside raw LMDB",
	  bench_journal_main, NULL },
	{ "replay", "replay throughput in market events/s per strategy, beside a tape-iteration floor",
	  bench_replay_main, NULL },
	{ "fix", "FIX 4.4 NewOrderSingle encode and ExecutionReport decode, ns per message, beside QuickFIX",
	  bench_fix_main, NULL },
	{ "bus", "fks bus publish throughput and commit-to-subscriber lag, beside a bare libnats JetStream loop",
	  bench_bus_main, NULL },
	{ 0 },
};

static const struct command config_commands[] = {
	{ "default", "print the embedded default config", config_cmd_default, NULL },
	{ "check", "validate a config and print it resolved: fks config check FILE", config_cmd_check, NULL },
	{ 0 },
};

static const struct command journal_commands[] = {
	{ "stats", "events by type and stage, sequence range, size and run metadata", journal_cmd_stats, NULL },
	{ "verify", "check keys, records, per-stage sequences and metadata; exit 1 on the first problem",
	  journal_cmd_verify, NULL },
	{ "export", "write events as JSON lines or CSV: fks journal export DIR --format csv", journal_cmd_export, NULL },
	{ "list", "every journal of DIR: current, rotated parts, earlier runs; ranges, sizes, state",
	  journal_cmd_list, NULL },
	{ 0 },
};

static const struct command feed_commands[] = {
	{ "decode", "decode a recording and print counts and final books: fks feed decode --venue itch FILE",
	  feed_cmd_decode, NULL },
	{ 0 },
};

static const struct command notify_commands[] = {
	{ "test", "post test messages to the config's notify targets: fks notify test -c FILE", notify_cmd_test,
	  NULL },
	{ 0 },
};

static const struct command bus_commands[] = {
	{ "publish", "follow the journal and publish every event to NATS JetStream (docs/bus.md)", bus_cmd_publish,
	  NULL },
	{ 0 },
};

static const struct command top_commands[] = {
	{ "run", "run the pipeline (fks run --help)", run_main, NULL },
	{ "status", "counters of a running pipeline, from shared memory", status_main, NULL },
	{ "metrics", "serve a running pipeline's Prometheus metrics, /health and /ready over HTTP", metrics_main,
	  NULL },
	{ "kill", "trip the kill switch of a running pipeline: no new orders leave", kill_main, NULL },
	{ "tail", "print journal events, or follow them live with -f (fks tail --help)", journal_cmd_tail, NULL },
	{ "journal", "inspect a journal: stats, verify, export, list (fks journal --help)", NULL, journal_commands },
	{ "replay", "backtest over a journal or recording, --report, --sweep, --verify (fks replay --help)",
	  replay_main, NULL },
	{ "feed", "market data tools: decode (fks feed --help)", NULL, feed_commands },
	{ "config", "print or check a pipeline config (fks config --help)", NULL, config_commands },
	{ "bench", "run a benchmark (fks bench --help)", NULL, bench_commands },
	{ "notify", "Discord/Slack notifications: test (fks notify --help)", NULL, notify_commands },
	{ "bus", "NATS JetStream: publish the journal (fks bus --help)", NULL, bus_commands },
	{ "doctor", "check this host for low-latency operation (fks doctor --help)", doctor_main, NULL },
	{ 0 },
};

static void print_group_help(FILE *out, const char *path, const struct command *cmds)
{
	fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", path);
	for (const struct command *c = cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nRun '%s <command> --help' for a command's options.\n", path);
}

static int is_help(const char *a) { return !strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help"); }

/* "fks: unknown command 'replya'; did you mean 'replay'?" and the hint. */
static int unknown_command(const char *path, const struct command *cmds, const char *word)
{
	const char *best = NULL;
	unsigned best_d = ~0u;
	for (const struct command *c = cmds; c->name; c++) {
		unsigned d = opts_edit_distance(word, strlen(word), c->name);
		if (d < best_d && opts_is_close(d, c->name)) {
			best = c->name;
			best_d = d;
		}
	}
	fprintf(stderr, "%s: unknown command '%s'", path, word);
	if (best)
		fprintf(stderr, "; did you mean '%s'?", best);
	fprintf(stderr, "\nTry '%s --help'.\n", path);
	return 2;
}

/* Walk the table: argv[0] names the current group, argv[1] its child. */
static int dispatch(const char *path, const struct command *cmds, int argc, char **argv)
{
	if (argc < 2) {
		print_group_help(stderr, path, cmds);
		return 2;
	}
	if (is_help(argv[1])) {
		print_group_help(stdout, path, cmds);
		return 0;
	}
	for (const struct command *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[1]))
			continue;
		if (c->sub) {
			char sub_path[128];
			snprintf(sub_path, sizeof sub_path, "%s %s", path, c->name);
			return dispatch(sub_path, c->sub, argc - 1, argv + 1);
		}
		return c->run(argc - 1, argv + 1);
	}
	return unknown_command(path, cmds, argv[1]);
}

/* `fks help CMD [SUB...]` is `fks CMD [SUB...] --help`, word for word. */
static int help_command(int argc, char **argv)
{
	enum { MAX_WORDS = 8 };
	char *words[MAX_WORDS + 3] = { argv[0] };
	int n = 1;
	if (argc - 2 > MAX_WORDS) {
		fprintf(stderr, "fks help: at most %d words\nTry 'fks --help'.\n", MAX_WORDS);
		return 2;
	}
	for (int i = 2; i < argc; i++)
		words[n++] = argv[i];
	words[n++] = (char *)"--help";
	words[n] = NULL;
	return dispatch("fks", top_commands, n, words);
}

int main(int argc, char **argv)
{
	proctitle_init(argc, argv);
	run_fks_version = FKS_VERSION;
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("fks %s\n", FKS_VERSION);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "help"))
		return help_command(argc, argv);
	return dispatch("fks", top_commands, argc, argv);
}
