/*
 * `fks metrics`: the exporter of pipeline/metrics/ served from outside the
 * supervisor, for a pipeline started without `metrics:` in its config, or
 * an exporter that must outlive a run (it follows the next run under the
 * same prefix).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/options.h"
#include "pipeline/config/config.h"
#include "pipeline/metrics/metrics.h"

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks metrics [--prefix NAME] [--listen HOST:PORT] [-c FILE]\n"
		"\n"
		"Serve a running pipeline's counters over HTTP until SIGINT or SIGTERM:\n"
		"  /metrics  Prometheus text format (the names: docs/operations.md)\n"
		"  /health   JSON; HTTP 503 when a stage is dead or failed or the kill switch\n"
		"            is on (\"unhealthy\"), \"degraded\" when market data is stale\n"
		"  /ready    JSON; HTTP 200 once every stage runs and market data has flowed\n"
		"Reads shared memory only (read-only), as fks status does; it never touches\n"
		"the stages.  The config (the run's, for runner names, symbols and scales)\n"
		"defaults to the embedded one, as for fks run.  Port 0 takes a free port;\n"
		"the address served is printed on stderr.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out, "\nExit status: 0 stopped by a signal, 1 no running pipeline or cannot listen,\n"
		     "2 usage or config error.\n");
}

int metrics_main(int argc, char **argv)
{
	const char *prefix = NULL, *listen = "127.0.0.1:9464", *config_path = NULL;
	const struct opt opts[] = {
		{ .name = "prefix", .kind = OPT_STRING, .dest = &prefix, .arg = "NAME",
		  .help = "the run's shared-memory prefix (default: the config's\nsupervisor.stats, \"fks\")" },
		{ .name = "listen", .kind = OPT_STRING, .dest = &listen, .arg = "HOST:PORT",
		  .help = "address to serve on", .dflt = "127.0.0.1:9464" },
		{ .name = "config", .short_name = 'c', .kind = OPT_STRING, .dest = &config_path, .arg = "FILE",
		  .help = "the config the pipeline runs (YAML)" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks metrics", .help_col = 24, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	if (npos > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	char host[FKS_LISTEN_MAX], err[512];
	uint16_t port;
	const char *why;
	if (strlen(listen) >= FKS_LISTEN_MAX || config_split_listen(listen, host, sizeof host, &port, &why)) {
		fprintf(stderr, "fks metrics: --listen: \"%s\": %s\n", listen,
			strlen(listen) >= FKS_LISTEN_MAX ? "too long" : why);
		return 2;
	}
	static struct fks_config cfg;
	if (config_path ? config_load_file(config_path, &cfg, err, sizeof err) : config_load_default(&cfg, err, sizeof err)) {
		fprintf(stderr, "fks metrics: %s\n", err);
		return 2;
	}
	if (!prefix)
		prefix = cfg.supervisor.stats_prefix;
	/* Blocked before the server's thread starts, so only sigwait sees them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	struct metrics_server *srv;
	if (metrics_server_start(&cfg, prefix, listen, true, &srv, err, sizeof err)) {
		fprintf(stderr, "fks metrics: %s\n", err);
		return 1;
	}
	fprintf(stderr, "fks metrics: pipeline '%s' on http://%s/metrics (also /health, /ready)%s\n", prefix,
		metrics_server_address(srv), metrics_server_has_run(srv) ? "" : "; no run yet: waiting for one");
	int sig = 0;
	sigwait(&stop, &sig);
	fprintf(stderr, "fks metrics: %s: stopping\n", strsignal(sig));
	metrics_server_stop(srv);
	return 0;
}
