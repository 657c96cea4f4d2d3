/*
 * `fks notify test`: post test messages to every target of a config's
 * `notify` section, through the same notifier `fks run` uses (rate limit,
 * retries, summary), and say what became of them.  For an operator setting
 * up a webhook, and for the tests of the notifier itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pipeline/cli/options.h"
#include "pipeline/config/config.h"
#include "pipeline/notify/notify.h"
#include "pipeline/runtime/run.h"

struct notify_opts {
	const char *config_path;
	uint64_t count;
	const char *severity;
	double wait_s;
};

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks notify test [-c FILE] [--count N] [--severity LEVEL] [--wait SECONDS]\n"
		"\n"
		"Post N test notifications to every target of the config's notify section\n"
		"whose min_severity LEVEL reaches, as `fks run` would: at most 30 a minute per\n"
		"target (the rest counted and sent as one summary once the limit allows),\n"
		"retried on network errors, 5xx and 429.  Waits up to --wait for them to go\n"
		"out.  URLs come from each target's url_env or url_file and are never printed.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out, "\nExit status: 0 every message delivered or summarised, 1 some not, 2 usage or\n"
		     "config error (a URL file open to others, a variable not set).\n");
}

static int severity_from(const char *s)
{
	for (int v = FKS_SEV_INFO; v <= FKS_SEV_CRITICAL; v++)
		if (!strcmp(config_severity_name((enum fks_severity)v), s))
			return v;
	return -1;
}

static int post_tests(struct notifier *n, const struct notify_opts *o, enum fks_severity sev)
{
	char err[512];
	if (notifier_start(n, err, sizeof err)) {
		fprintf(stderr, "fks notify test: %s\n", err);
		notifier_close(n, 0, NULL, NULL);
		return 1;
	}
	for (uint64_t i = 1; i <= o->count; i++) {
		struct notify_msg m;
		notify_msg_test(&m, (int64_t)time(NULL), sev, i, o->count);
		notify_post(n, &m);
	}
	struct notify_stats st;
	uint64_t lost = notifier_close(n, (uint32_t)(o->wait_s * 1000), "fks notify test", &st);
	printf("posted %" PRIu64 " per target: delivered %" PRIu64 " (summaries included), held back %" PRIu64
	       " (summarised %" PRIu64 "), retries %" PRIu64 ", failed %" PRIu64 ", undelivered %" PRIu64 "\n",
	       o->count, st.delivered, st.suppressed, st.summarised, st.retries, st.failed, st.undelivered);
	return lost ? 1 : 0;
}

int notify_cmd_test(int argc, char **argv)
{
	struct notify_opts o = { .count = 1, .severity = "critical", .wait_s = 75 };
	const struct opt opts[] = {
		{ .name = "config", .short_name = 'c', .kind = OPT_STRING, .dest = &o.config_path, .arg = "FILE",
		  .help = "pipeline config (YAML) with a notify section" },
		{ .name = "count", .kind = OPT_UINT, .dest = &o.count, .arg = "N", .help = "messages to post (default 1)",
		  .expect = "a count from 1 to 10000", .umin = 1, .umax = 10000 },
		{ .name = "severity", .kind = OPT_STRING, .dest = &o.severity, .arg = "LEVEL",
		  .help = "info, warning or critical (default critical)" },
		{ .name = "wait", .kind = OPT_DECIMAL, .dest = &o.wait_s, .arg = "SECONDS",
		  .help = "how long to wait for delivery (default 75: a\nsummary may wait a minute for the rate limit)",
		  .dmin = 0 },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks notify test", .help_col = 22, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	int sev = severity_from(o.severity);
	if (npos > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	if (sev < 0) {
		fprintf(stderr, "fks notify test: --severity: info, warning or critical, got '%s'\n", o.severity);
		return 2;
	}
	if (o.wait_s > 3600) {
		fprintf(stderr, "fks notify test: --wait: at most 3600 seconds\n");
		return 2;
	}
	static struct fks_config cfg;
	char err[512];
	if (config_load_to_run(o.config_path, &cfg, err, sizeof err)) {
		fprintf(stderr, "fks notify test: %s\n", err);
		return 2;
	}
	if (cfg.notify.n_targets == 0) {
		fprintf(stderr, "fks notify test: %s has no notify targets\n", cfg.name);
		return 2;
	}
	struct notifier *n;
	if (notifier_open(&cfg.notify, cfg.name, &n, err, sizeof err)) {
		fprintf(stderr, "fks notify test: %s\n", err);
		return 2;
	}
	return post_tests(n, &o, (enum fks_severity)sev);
}
