/*
 * The notify section (config.h, struct fks_notify_cfg): parsed with its
 * defaults, refused at the line and column of the fault, and, for a run
 * (config_load_to_run), each target's URL source checked on this host.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/config/config.h"

#define HEAD                                                   \
	"stages: {feed: {core: 0}, strategy: {core: 0}, risk: {core: 0}, gateway: {core: 0}}\n" \
	"instruments:\n"                                         \
	"  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"     \
	"strategy: {fast: 5, slow: 20, qty: 0.01}\n"             \
	"risk: {max_order_qty: 1, max_notional: 100000, max_position: 5}\n" \
	"journal: {path: /tmp/fks-test-config-notify-journal}\n" \
	"notify:\n"                                              \
	"  targets:\n" /* line 8 */

static struct fks_config cfg;

static int load(const char *targets, char *err, size_t cap)
{
	char text[4096];
	snprintf(text, sizeof text, "%s%s", HEAD, targets);
	return config_load_string(text, strlen(text), "n.yaml", &cfg, err, cap);
}

static void expect_error(const char *targets, const char *where, const char *what)
{
	char err[1024];
	cr_assert_eq(load(targets, err, sizeof err), -1, "loaded: %s", targets);
	cr_assert(strstr(err, where), "expected \"%s\" in %s", where, err);
	cr_assert(strstr(err, what), "expected \"%s\" in %s", what, err);
}

Test(config_notify, targets_with_their_defaults)
{
	char err[1024];
	int rc = load("    - {name: ops, kind: discord, url_env: FKS_HOOK}\n"
		      "    - {name: desk, kind: slack, url_file: /etc/fks/slack.url, min_severity: critical}\n",
		      err, sizeof err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(cfg.notify.n_targets, 2);
	cr_assert_str_eq(cfg.notify.target[0].name, "ops");
	cr_assert_eq(cfg.notify.target[0].kind, FKS_NOTIFY_DISCORD);
	cr_assert_str_eq(cfg.notify.target[0].url_env, "FKS_HOOK");
	cr_assert_eq(cfg.notify.target[0].min_severity, FKS_SEV_WARNING, "the default");
	cr_assert_eq(cfg.notify.target[1].kind, FKS_NOTIFY_SLACK);
	cr_assert_str_eq(cfg.notify.target[1].url_file, "/etc/fks/slack.url");
	cr_assert_eq(cfg.notify.target[1].min_severity, FKS_SEV_CRITICAL);
}

Test(config_notify, refused_at_the_line_and_column)
{
	expect_error("    - {name: ops, kind: teams, url_env: X}\n", "n.yaml:9:25: notify.targets[0].kind",
		     "one of: discord, slack");
	expect_error("    - {name: ops, kind: slack}\n", "n.yaml:9:", "needs exactly one of url_env");
	expect_error("    - {name: ops, kind: slack, url_env: A, url_file: /b}\n", "n.yaml:9:",
		     "needs exactly one of url_env");
	expect_error("    - {name: ops, kind: slack, url_env: A}\n    - {name: ops, kind: discord, url_env: B}\n",
		     "n.yaml:10:", "target \"ops\" is named twice");
	expect_error("    - {name: 'a b', kind: slack, url_env: A}\n", "n.yaml:9:", "a target name is 1 to 31");
	expect_error("    - {name: ops, kind: slack, url_env: A, min_severity: loud}\n", "notify.targets[0].min_severity",
		     "one of: info, warning, critical");
}

Test(config_notify, a_url_in_the_config_is_refused_with_the_reason)
{
	expect_error("    - {name: ops, kind: slack, url: 'https://hooks.slack.com/services/T/B/X'}\n",
		     "n.yaml:9:32: notify.targets[0].url", "the config is copied into every journal");
}

/* config_load_to_run: the URL source on this host. */
static int load_to_run(const char *targets, char *err, size_t cap)
{
	char path[] = "/tmp/fks-test-notify-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "%s%s", HEAD, targets);
	fclose(f);
	int rc = config_load_to_run(path, &cfg, err, cap);
	unlink(path);
	return rc;
}

Test(config_notify, url_sources_checked_for_a_run)
{
	char err[1024], file[] = "/tmp/fks-test-notify-url-XXXXXX", targets[512];
	int fd = mkstemp(file);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "https://discord.com/api/webhooks/1/secret-token\n", 48), 48);
	close(fd);
	snprintf(targets, sizeof targets, "    - {name: ops, kind: discord, url_file: %s}\n", file);

	chmod(file, 0600);
	cr_assert_eq(load_to_run(targets, err, sizeof err), 0, "%s", err);
	chmod(file, 0644);
	cr_assert_eq(load_to_run(targets, err, sizeof err), -1);
	cr_assert(strstr(err, "notify.targets[0].url_file: notify target \"ops\"") && strstr(err, file) &&
			  strstr(err, "open to group or others (chmod 600 it)"),
		  "%s", err);
	cr_assert_null(strstr(err, "secret-token"), "never the URL: %s", err);
	unlink(file);

	unsetenv("FKS_TEST_UNSET_HOOK");
	cr_assert_eq(load_to_run("    - {name: ops, kind: slack, url_env: FKS_TEST_UNSET_HOOK}\n", err, sizeof err), -1);
	cr_assert(strstr(err, "$FKS_TEST_UNSET_HOOK: the environment variable is not set"), "%s", err);
	setenv("FKS_TEST_PLAIN_HOOK", "http://hooks.example.com/secret-token", 1);
	cr_assert_eq(load_to_run("    - {name: ops, kind: slack, url_env: FKS_TEST_PLAIN_HOOK}\n", err, sizeof err), -1);
	cr_assert(strstr(err, "the URL in $FKS_TEST_PLAIN_HOOK: plain http:// is allowed only to a loopback"), "%s", err);
	cr_assert_null(strstr(err, "secret-token"), "never the URL: %s", err);
}
