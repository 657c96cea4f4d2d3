/*
 * What every `fks bench` command shares: option errors, count parsing and
 * the description of the machine a result was measured on.
 */
#ifndef FKS_BENCH_UTIL_H
#define FKS_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/cli/options.h"

/* "<prog>: <message>\nTry '<prog> --help'." on stderr; returns 2 (usage). */
int bench_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "<prog>: <message>" on stderr, for an option callback (OPT_CALL) whose
 * error bench_parse_options follows with "Try ..."; returns 2. */
int bench_option_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse argv by t (t->cmd is the prog) the way every `fks bench` command
 * does: -h/--help prints help(stdout, t) and returns 0; a usage error is
 * followed by "Try '<prog> --help'." and returns 2, and so is a word that
 * is not an option ("unexpected argument 'w'"); -1 to go on. */
int bench_parse_options(const struct opt_table *t, int argc, char **argv,
			void (*help)(FILE *out, const struct opt_table *t));


/* Call item(p, len, ctx) on each comma-separated item of s, in order.
 * Stops at, and returns, the first nonzero result.  An empty or missing
 * list is a usage error: "<opt> needs a list, e.g. <opt> <example>". */
int bench_each_item(const char *prog, const char *opt, const char *example, const char *s,
		    int (*item)(const char *p, size_t len, void *ctx), void *ctx);

struct bench_machine {
	char cpu_model[160];
	bool invariant_tsc;   /* constant_tsc and nonstop_tsc */
	char kernel[300];     /* uname: system, release, machine, version */
	char date[64];        /* UTC, when the benchmark started */
	char cmdline[1024];   /* the command as run */
	long cpus_online;
};

/* Fill m from /proc/cpuinfo, uname, the clock and /proc/self/cmdline
 * (argc/argv are the fallback when that cannot be read). */
void bench_machine_read(struct bench_machine *m, int argc, char **argv);

#endif
