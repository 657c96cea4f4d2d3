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
		fprintf(stderr, "%s: unexpected argument '%s'\n", t->cmd, argv[1]);
	if (n != 0) {
		fprintf(stderr, "Try '%s --help'.\n", t->cmd);
		return 2;
	}
	return -1;
}

bool bench_parse_num(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	char buf[32];
	if (len == 0 || len >= sizeof buf || !isdigit((unsigned char)s[0]))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(buf, &end, 10);
	unsigned long long mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1000ull, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1000000ull, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1000000000ull, end++;
	if (errno || *end || v > max / mul)
		return false;
	*out = v * mul;
	return true;
}

int bench_option(const char *prog, int argc, char **argv, int *i, const char *const *with_value, char *name,
		 size_t cap, const char **val)
{
	const char *a = argv[*i];
	const char *eq = strchr(a, '=');
	*val = NULL;
	if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < cap) {
		memcpy(name, a, (size_t)(eq - a));
		name[eq - a] = 0;
		*val = eq + 1;
	} else {
		snprintf(name, cap, "%s", a);
	}
	bool takes_value = false;
	for (const char *const *w = with_value; *w; w++)
		takes_value |= !strcmp(name, *w);
	if (takes_value && !*val) {
		if (*i + 1 >= argc)
			return bench_usage_error(prog, "%s needs a value", name);
		*val = argv[++*i];
	} else if (!takes_value && *val) {
		return bench_usage_error(prog, "%s takes no value", name);
	}
	return 0;
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
