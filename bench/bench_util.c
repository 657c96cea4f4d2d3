#include "bench/bench_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int bench_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return 2;
}

int bench_option_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int bench_parse_options(const struct opt_table *t, int argc, char **argv,
			void (*help)(FILE *out, const struct opt_table *t))
{
	int n = opts_parse(t, argc, argv);
	if (n == OPTS_HELP) {
		help(stdout, t);
		return 0;
	}
	if (n > 0)
		return opts_usage_error(t, "unexpected argument '%s'", argv[1]);
	return n == 0 ? -1 : 2; /* a usage error is reported, with the hint */
}

int bench_each_item(const char *prog, const char *opt, const char *example, const char *s,
		    int (*item)(const char *p, size_t len, void *ctx), void *ctx)
{
	if (!s || !*s)
		return bench_usage_error(prog, "%s needs a list, e.g. %s %s", opt, opt, example);
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int rc = item(p, len, ctx);
		if (rc || !comma)
			return rc;
		p = comma + 1;
	}
}

static void read_cpuinfo(struct bench_machine *m)
{
	snprintf(m->cpu_model, sizeof m->cpu_model, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[4096];
	bool got_model = false, got_flags = false;
	while (fgets(line, sizeof line, f) && !(got_model && got_flags)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = 0;
		if (!got_model && !strncmp(line, "model name", 10)) {
			snprintf(m->cpu_model, sizeof m->cpu_model, "%s", v);
			got_model = true;
		} else if (!got_flags && !strncmp(line, "flags", 5)) {
			m->invariant_tsc = strstr(v, "constant_tsc") && strstr(v, "nonstop_tsc");
			got_flags = true;
		}
	}
	fclose(f);
}

static void read_cmdline(struct bench_machine *m, int argc, char **argv)
{
	m->cmdline[0] = 0;
	FILE *f = fopen("/proc/self/cmdline", "r");
	if (f) {
		size_t n = fread(m->cmdline, 1, sizeof m->cmdline - 1, f);
		fclose(f);
		m->cmdline[n] = 0;
		while (n > 0 && m->cmdline[n - 1] == 0)
			n--;
		for (size_t i = 0; i < n; i++)
			if (m->cmdline[i] == 0)
				m->cmdline[i] = ' ';
		m->cmdline[n] = 0;
	}
	if (!m->cmdline[0]) {
		size_t off = (size_t)snprintf(m->cmdline, sizeof m->cmdline, "fks bench");
		for (int i = 0; i < argc && off < sizeof m->cmdline; i++)
			off += (size_t)snprintf(m->cmdline + off, sizeof m->cmdline - off, " %s", argv[i]);
	}
}

void bench_machine_read(struct bench_machine *m, int argc, char **argv)
{
	memset(m, 0, sizeof *m);
	read_cpuinfo(m);
	read_cmdline(m, argc, argv);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof m->kernel, "%s %s %s (%s)", u.sysname, u.release, u.machine, u.version);
	else
		snprintf(m->kernel, sizeof m->kernel, "unknown");
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(m->date, sizeof m->date, "%Y-%m-%d %H:%M:%S UTC", &tm);
	m->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
}
