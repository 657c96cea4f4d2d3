/*
 * The bus section (config.h, struct fks_bus_cfg): its defaults, refusals at
 * the line and column of the fault, and, for a run, creds_file of mode
 * 0600.  An unreachable server is not a config error and is not checked.
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
	"journal: {path: /tmp/fks-test-config-bus-journal}\n"    \
	"bus:\n" /* line 7 */

static struct fks_config cfg;

static int load(const char *bus, char *err, size_t cap)
{
	char text[4096];
	snprintf(text, sizeof text, "%s%s", HEAD, bus);
	return config_load_string(text, strlen(text), "b.yaml", &cfg, err, cap);
}

static void expect_error(const char *bus, const char *where, const char *what)
{
	char err[1024];
	cr_assert_eq(load(bus, err, sizeof err), -1, "loaded: %s", bus);
	cr_assert(strstr(err, where), "expected \"%s\" in %s", where, err);
	cr_assert(strstr(err, what), "expected \"%s\" in %s", what, err);
}

Test(config_bus, defaults_and_every_key)
{
	char err[1024];
	cr_assert_eq(load("  url: nats://127.0.0.1:4222\n", err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.bus.stream, "FKS");
	cr_assert_str_eq(cfg.bus.subjects_prefix, "fks");
	cr_assert_eq(cfg.bus.replicas, 1);
	cr_assert_eq(cfg.bus.max_age_ns, 0);
	cr_assert_str_eq(cfg.bus.signals.stream, "FKS_SIGNALS");
	cr_assert_str_eq(cfg.bus.signals.consumer, "execution");
	cr_assert_eq(load("  url: nats://a:4222,tls://b:4223\n  tls: true\n  stream: DESK1\n"
			  "  subjects_prefix: desk1.fks\n  replicas: 3\n  max_age: 7d\n"
			  "  signals: {stream: SIG, consumer: exec2}\n", err, sizeof err), 0, "%s", err);
	cr_assert(cfg.bus.tls);
	cr_assert_eq(cfg.bus.replicas, 3);
	cr_assert_eq(cfg.bus.max_age_ns, 7ll * 86400 * 1000000000ll);
	cr_assert_str_eq(cfg.bus.signals.consumer, "exec2");
}

Test(config_bus, no_bus_section_is_no_bus)
{
	char err[1024];
	char text[4096];
	snprintf(text, sizeof text, "%s", HEAD);
	text[strlen(text) - strlen("bus:\n")] = 0;
	cr_assert_eq(config_load_string(text, strlen(text), "b.yaml", &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.bus.url, "");
}

Test(config_bus, refused_at_the_line_and_column)
{
	expect_error("  stream: X\n", "b.yaml:7", "url");
	expect_error("  url: \"\"\n", "b.yaml:8:8", "must not be empty");
	expect_error("  url: http://127.0.0.1:4222\n", "b.yaml:8:8", "expected nats://HOST:PORT");
	expect_error("  url: nats://u:secret@127.0.0.1:4222\n", "b.yaml:8:8", "no user or password");
	expect_error("  url: nats://127.0.0.1\n", "b.yaml:8:8", "a host and a port");
	expect_error("  url: nats://127.0.0.1:70000\n", "b.yaml:8:8", "1..65535");
	expect_error("  url: nats://a:1,\n", "b.yaml:8:8", "must not end with ','");
	expect_error("  url: nats://a:1\n  stream: a.b\n", "b.yaml:9:11", "a stream name");
	expect_error("  url: nats://a:1\n  subjects_prefix: fks..x\n", "b.yaml:9:20", "single dots");
	expect_error("  url: nats://a:1\n  subjects_prefix: fks.>\n", "b.yaml:9:20", "single dots");
	expect_error("  url: nats://a:1\n  replicas: 6\n", "b.yaml:9:13", "1..5");
	expect_error("  url: nats://a:1\n  max_age: 3w\n", "b.yaml:9:12", "a duration");
	expect_error("  url: nats://a:1\n  signals: {stream: FKS}\n", "b.yaml:9:21", "a stream of their own");
	expect_error("  url: nats://a:1\n  signals: {consumer: \"a b\"}\n", "b.yaml:9", "a consumer name");
	expect_error("  url: nats://a:1\n  password: x\n", "b.yaml:9", "password");
}

Test(config_bus, creds_file_must_be_0600_for_a_run)
{
	char path[] = "/tmp/fks-test-bus-credsXXXXXX", cfgpath[] = "/tmp/fks-test-bus-cfgXXXXXX", err[1024];
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "-----BEGIN NATS USER JWT-----\n", 30), 30);
	close(fd);
	int cfd = mkstemp(cfgpath);
	cr_assert(cfd >= 0);
	FILE *f = fdopen(cfd, "w");
	fprintf(f, "%s  url: nats://127.0.0.1:4222\n  creds_file: %s\n", HEAD, path);
	fclose(f);
	chmod(path, 0644);
	cr_assert_eq(config_load_to_run(cfgpath, &cfg, err, sizeof err), -1);
	cr_assert(strstr(err, ":9:15"), "%s", err);
	cr_assert(strstr(err, "group or others") || strstr(err, "permission"), "%s", err);
	chmod(path, 0600);
	cr_assert_eq(config_load_to_run(cfgpath, &cfg, err, sizeof err), 0, "%s", err);
	unlink(path);
	unlink(cfgpath);
}
