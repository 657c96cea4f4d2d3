/* The table-driven option parser of every fks command (options.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/options.h"

static const struct opt help_opt = { .name = "help", .short_name = 'h', .kind = OPT_FLAG };

/* The long option whose name is s[0..len): an exact name, else the one
 * name s is a prefix of.  NULL, with the error reported, for none or
 * several. */
static const struct opt *find_long(const struct opt_table *t, const char *s, size_t len)
{
	const struct opt *found = NULL;
	int prefixed = 0;
	for (const struct opt *o = t->opts; o->name; o++) {
		if (strlen(o->name) == len && !strncmp(o->name, s, len))
			return o;
		if (!strncmp(o->name, s, len)) {
			found = o;
			prefixed++;
		}
	}
	if (!strncmp(help_opt.name, s, len)) {
		if (len == strlen(help_opt.name))
			return &help_opt;
		found = &help_opt;
		prefixed++;
	}
	if (prefixed == 1)
		return found;
	fprintf(stderr, "%s: %s option '--%.*s'\n", t->cmd, prefixed ? "ambiguous" : "unknown", (int)len, s);
	if (t->unknown)
		++*t->unknown;
	return NULL;
}

static const struct opt *find_short(const struct opt_table *t, char c)
{
	for (const struct opt *o = t->opts; o->name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	if (c == help_opt.short_name)
		return &help_opt;
	fprintf(stderr, "%s: unknown option '-%c'\n", t->cmd, c);
	if (t->unknown)
		++*t->unknown;
	return NULL;
}

static bool bad_value(const struct opt_table *t, const struct opt *o, const char *v)
{
	fprintf(stderr, "%s: --%s: expected %s, got '%s'\n", t->cmd, o->name, o->expect ? o->expect : "a value", v);
	return false;
}

static bool parse_int(const char *v, int64_t *out)
{
	char *end;
	if (!v[0] || v[0] == ' ')
		return false;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

static bool parse_uint(const char *v, uint64_t *out)
{
	char *end;
	if (!v[0] || v[0] == '-' || v[0] == '+' || v[0] == ' ')
		return false;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

bool opts_parse_count(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	size_t digits = strspn(s, "0123456789");
	char buf[24];
	if (digits == 0 || digits >= sizeof buf)
		return false;
	memcpy(buf, s, digits);
	buf[digits] = 0;
	if (!parse_uint(buf, &v))
		return false;
	uint64_t mul = 1;
	switch (s[digits]) {
	case 0: break;
	case 'k': case 'K': mul = 1000ull; break;
	case 'm': case 'M': mul = 1000000ull; break;
	case 'g': case 'G': mul = 1000000000ull; break;
	default: return false;
	}
	if ((mul > 1 && s[digits + 1]) || v > max / mul)
		return false;
	*out = v * mul;
	return true;
}

static bool parse_list_value(const struct opt_table *t, const struct opt *o, const char *v)
{
	char buf[1024];
	if (snprintf(buf, sizeof buf, "%s", v) >= (int)sizeof buf) {
		fprintf(stderr, "%s: --%s: list too long\n", t->cmd, o->name);
		return false;
	}
	for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (!o->word(o->ctx, w)) {
			fprintf(stderr, "%s: --%s: unknown '%s'\n", t->cmd, o->name, w);
			return false;
		}
	return true;
}

/* Store v, the value of o; false after reporting a bad one. */
static bool store(const struct opt_table *t, const struct opt *o, const char *v)
{
	switch (o->kind) {
	case OPT_FLAG: *(bool *)o->dest = true; return true;
	case OPT_STRING: *(const char **)o->dest = v; return true;
	case OPT_INT: {
		int64_t x;
		bool ranged = o->imin || o->imax;
		if (!parse_int(v, &x) || (ranged && (x < o->imin || x > o->imax)))
			return bad_value(t, o, v);
		*(int64_t *)o->dest = x;
		return true;
	}
	case OPT_UINT: {
		uint64_t x;
		bool ranged = o->umin || o->umax;
		if (!parse_uint(v, &x) || (ranged && (x < o->umin || x > o->umax)))
			return bad_value(t, o, v);
		*(uint64_t *)o->dest = x;
		return true;
	}
	case OPT_DECIMAL: {
		char *end;
		errno = 0;
		double x = v[0] ? strtod(v, &end) : 0;
		if (!v[0] || *end || errno || x != x || x < o->dmin || (o->dmin_open && x == o->dmin))
			return bad_value(t, o, v);
		*(double *)o->dest = x;
		return true;
	}
	case OPT_COUNT: {
		uint64_t x;
		bool ranged = o->umin || o->umax;
		if (!opts_parse_count(v, ranged ? o->umax : UINT64_MAX, &x) || (ranged && x < o->umin))
			return bad_value(t, o, v);
		*(uint64_t *)o->dest = x;
		return true;
	}
	case OPT_LIST: return parse_list_value(t, o, v);
	case OPT_CALL: return o->call(o->ctx, (char *)v); /* v is a word of argv, which is writable */
	}
	return false;
}

/* The value of o: the rest of this word (inline, may be NULL) or the next
 * word of argv.  NULL after reporting that it is missing. */
static const char *take_value(const struct opt_table *t, const struct opt *o, const char *inline_value,
			      int argc, char **argv, int *i)
{
	if (inline_value)
		return inline_value;
	if (*i + 1 < argc)
		return argv[++*i];
	fprintf(stderr, "%s: --%s needs a value\n", t->cmd, o->name);
	return NULL;
}

/* One option, given as o with maybe an inline value.  Returns 0, 1 on an
 * error, OPTS_HELP. */
static int apply(const struct opt_table *t, const struct opt *o, const char *inline_value, int argc,
		 char **argv, int *i)
{
	if (o == &help_opt)
		return OPTS_HELP;
	if (o->seen)
		*o->seen = true;
	if (o->kind == OPT_FLAG) {
		if (inline_value) {
			fprintf(stderr, "%s: --%s takes no value\n", t->cmd, o->name);
			return 1;
		}
		return store(t, o, NULL) ? 0 : 1;
	}
	const char *v = take_value(t, o, inline_value, argc, argv, i);
	return v && store(t, o, v) ? 0 : 1;
}

/* "-fj DIR", "-jDIR": short flags until one that takes a value. */
static int apply_shorts(const struct opt_table *t, int argc, char **argv, int *i)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct opt *o = find_short(t, *p);
		if (!o)
			return 1;
		if (o != &help_opt && o->kind != OPT_FLAG)
			return apply(t, o, p[1] ? p + 1 : NULL, argc, argv, i);
		int rc = apply(t, o, NULL, argc, argv, i);
		if (rc)
			return rc;
	}
	return 0;
}

int opts_parse(const struct opt_table *t, int argc, char **argv)
{
	int npos = 0, errors = 0;
	bool options_end = false;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		int rc;
		if (options_end || a[0] != '-' || !a[1]) {
			argv[1 + npos++] = a; /* never ahead of i: compacting in place is safe */
			continue;
		}
		if (!strcmp(a, "--")) {
			options_end = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			const struct opt *o = find_long(t, a + 2, len);
			rc = o ? apply(t, o, eq ? eq + 1 : NULL, argc, argv, &i) : 1;
		} else {
			rc = apply_shorts(t, argc, argv, &i);
		}
		if (rc == OPTS_HELP)
			return OPTS_HELP;
		errors += rc;
	}
	return errors ? OPTS_BAD : npos;
}

void opts_print_help(const struct opt_table *t, FILE *out)
{
	for (const struct opt *o = t->opts; o->name; o++) {
		int len = fprintf(out, "  ");
		if (o->short_name)
			len += fprintf(out, "-%c, ", o->short_name);
		len += fprintf(out, "--%s", o->name);
		if (o->arg)
			len += fprintf(out, " %s", o->arg);
		/* an entry too wide for the column keeps two spaces before its
		 * help, on the same line */
		fprintf(out, "%*s", len + 2 > t->help_col ? 2 : t->help_col - len, "");
		for (const char *h = o->help ? o->help : ""; *h; h++) {
			fputc(*h, out);
			if (*h == '\n')
				fprintf(out, "%*s", t->help_col, "");
		}
		if (o->dflt)
			fprintf(out, " (default %s)", o->dflt);
		fputc('\n', out);
	}
}

int opts_parse_or_usage(const struct opt_table *t, int argc, char **argv,
			void (*usage)(FILE *out, const struct opt_table *t), int *exit_code)
{
	int n = opts_parse(t, argc, argv);
	if (n == OPTS_HELP || n == OPTS_BAD) {
		usage(n == OPTS_HELP ? stdout : stderr, t);
		*exit_code = n == OPTS_HELP ? 0 : 2;
		return -1;
	}
	return n;
}
