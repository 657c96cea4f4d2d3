/*
 * `fks bus publish`: follow a journal and publish every event to NATS
 * JetStream (pipeline/bus/bus_publish.h).  The bus section of the config
 * says where; options override it, so a journal can be published without
 * a config (`fks bus publish -j DIR --url nats://...`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/bus/bus_publish.h"
#include "pipeline/cli/bus_cmd.h"
#include "pipeline/cli/journal_common.h"
#include "pipeline/cli/options.h"
#include "pipeline/config/config.h"

static void publish_usage(FILE *out, const struct opt_table *t)
{
	fprintf(out,
		"usage: fks bus publish [-c CONFIG] [-j DIR] [--url URL] [--stream S] [--prefix P] [--json]\n"
		"                       [--window N] [--report-ms MS] [--metrics-file PATH] [--until-closed]\n"
		"\n"
		"Follow the journal (as fks tail -f does: rotations, a new run) and publish every\n"
		"event to JetStream, on <prefix>.<run>.md.<symbol>, .orders, .fills, .risk, ...\n"
		"(docs/bus.md), exactly once and in journal order, with the journal sequence as\n"
		"the message id.  It resumes where the stream ends.  A missing or unreachable\n"
		"server stops nothing: it retries with back-off and catches up.  Credentials:\n"
		"bus.creds_file, or FKS_NATS_TOKEN, or FKS_NATS_USER and FKS_NATS_PASSWORD.\n"
		"\n");
	opts_print_help(t, out);
	fprintf(out, "\nExit status: 0 stopped (SIGINT/SIGTERM, or --until-closed done), 1 the journal\n"
		     "or the config cannot be read, 2 usage.\n");
}

struct publish_args {
	const char *config, *dir, *url, *stream, *prefix, *metrics_file;
	bool json, until_closed;
	uint64_t window, report_ms;
};

/* The bus section of the config (or none), then the options over it. */
static int settle_bus(const struct publish_args *a, struct fks_config *cfg, const char **dir)
{
	char err[1024];
	if (a->config && config_load_file(a->config, cfg, err, sizeof err)) {
		fprintf(stderr, "fks bus publish: %s\n", err);
		return 1;
	}
	if (!a->config && config_load_default(cfg, err, sizeof err)) {
		fprintf(stderr, "fks bus publish: %s\n", err);
		return 1;
	}
	struct fks_bus_cfg *b = &cfg->bus;
	if (a->url)
		snprintf(b->url, sizeof b->url, "%s", a->url);
	if (a->stream)
		snprintf(b->stream, sizeof b->stream, "%s", a->stream);
	if (a->prefix)
		snprintf(b->subjects_prefix, sizeof b->subjects_prefix, "%s", a->prefix);
	if (!b->url[0]) {
		fprintf(stderr, "fks bus publish: no bus: give --url or a config with a bus section (-c)\n");
		return 2;
	}
	*dir = a->dir ? a->dir : cfg->journal.path;
	return 0;
}

int bus_cmd_publish(int argc, char **argv)
{
	struct publish_args a = { .window = 1024 };
	const struct opt opts[] = {
		{ .name = "config", .short_name = 'c', .kind = OPT_STRING, .dest = &a.config, .arg = "FILE",
		  .help = "the pipeline config: its bus section and journal.path" },
		{ .name = "journal", .short_name = 'j', .kind = OPT_STRING, .dest = &a.dir, .arg = "DIR",
		  .help = "the journal", .dflt = "journal.path of the config" },
		{ .name = "url", .kind = OPT_STRING, .dest = &a.url, .arg = "URL",
		  .help = "nats://HOST:PORT[,nats://...] instead of bus.url" },
		{ .name = "stream", .kind = OPT_STRING, .dest = &a.stream, .arg = "S", .help = "instead of bus.stream" },
		{ .name = "prefix", .kind = OPT_STRING, .dest = &a.prefix, .arg = "P",
		  .help = "instead of bus.subjects_prefix" },
		{ .name = "json", .kind = OPT_FLAG, .dest = &a.json,
		  .help = "payload: the fks tail --json line instead of the event's\nbytes (remote tail and replay need the bytes)" },
		{ .name = "window", .kind = OPT_UINT, .dest = &a.window, .arg = "N", .umin = 1, .umax = 65536,
		  .help = "messages in flight before their acknowledgements", .dflt = "1024", .expect = "a count" },
		{ .name = "report-ms", .kind = OPT_UINT, .dest = &a.report_ms, .arg = "MS", .umax = 3600000,
		  .help = "print the lag line on stderr this often (0: at exit only)", .expect = "milliseconds" },
		{ .name = "metrics-file", .kind = OPT_STRING, .dest = &a.metrics_file, .arg = "PATH",
		  .help = "write the lag and counters there as Prometheus text\n(node_exporter textfile), every report or 1 s" },
		{ .name = "until-closed", .kind = OPT_FLAG, .dest = &a.until_closed,
		  .help = "exit 0 once the run's journal is closed and all of it\nis in the stream" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks bus publish", .help_col = 22, .opts = opts };
	int status, n = opts_parse_or_usage(&table, argc, argv, publish_usage, &status);
	if (n < 0)
		return status;
	if (n > 0) {
		fprintf(stderr, "fks bus publish: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	struct fks_config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return 1;
	const char *dir;
	status = settle_bus(&a, cfg, &dir);
	if (!status) {
		catch_stop_signals();
		struct bus_publish_opts o = {
			.bus = &cfg->bus, .journal_dir = dir, .json = a.json, .window = (uint32_t)a.window,
			.report_ms = (uint32_t)a.report_ms, .metrics_file = a.metrics_file, .until_closed = a.until_closed,
		};
		struct bus_publish_stats st;
		status = bus_publish_run(&o, &stop_requested, &st);
	}
	free(cfg);
	return status;
}
