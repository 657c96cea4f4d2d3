/* The table-driven option parser of every fks command (options.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/options.h"

static const struct opt help_opt = { .name = "help", .short_name = 'h', .kind = OPT_FLAG };

unsigned opts_edit_distance(const char *a, size_t alen, const char *b)
{
	/* optimal string alignment: insertions, deletions, substitutions and
	 * swaps of two neighbours ("--inptu") each cost 1; three rows suffice */
	enum { MAXLEN = 64 };
	size_t blen = strlen(b);
	if (alen >= MAXLEN || blen >= MAXLEN)
		return MAXLEN;
	unsigned rows[3][MAXLEN + 1], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= blen; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= alen; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= blen; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = cur[j - 1] + 1;
			unsigned d = sub < del ? sub : del;
			d = d < ins ? d : ins;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen];
}

bool opts_is_close(unsigned distance, const char *candidate)
{
	/* one mistake in a short name, two in a longer one: "--frobnicate"
	 * suggests nothing rather than something unrelated */
	size_t len = strlen(candidate);
	return distance > 0 && distance <= (len >= 6 ? 2u : 1u);
}

/* The long name closest to s[0..len), if close enough; else NULL. */
static const char *closest_long(const struct opt_table *t, const char *s, size_t len)
{
	const char *best = NULL;
	unsigned best_d = ~0u;
	for (const struct opt *o = t->opts;; o++) {
		const char *name = o->name ? o->name : help_opt.name;
		unsigned d = opts_edit_distance(s, len, name);
		if (d < best_d && opts_is_close(d, name)) {
			best = name;
			best_d = d;
		}
		if (!o->name)
			return best;
	}
}

static void report_unknown_long(const struct opt_table *t, const char *s, size_t len)
{
	const char *near = closest_long(t, s, len);
	fprintf(stderr, "%s: unknown option '--%.*s'", t->cmd, (int)len, s);
	if (near)
		fprintf(stderr, "; did you mean --%s?", near);
	fputc('\n', stderr);
}

/* "ambiguous option '--s' (--speed, --set, --sweep)" */
static void report_ambiguous_long(const struct opt_table *t, const char *s, size_t len)
{
	const char *sep = " (";
	fprintf(stderr, "%s: ambiguous option '--%.*s'", t->cmd, (int)len, s);
	for (const struct opt *o = t->opts;; o++) {
		const char *name = o->name ? o->name : help_opt.name;
		if (!strncmp(name, s, len)) {
			fprintf(stderr, "%s--%s", sep, name);
			sep = ", ";
		}
		if (!o->name)
			break;
	}
	fputs(")\n", stderr);
}

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
	if (prefixed)
		report_ambiguous_long(t, s, len);
	else
		report_unknown_long(t, s, len);
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
	if (errors) {
		opts_hint(t);
		return OPTS_BAD;
	}
	return npos;
}

void opts_hint(const struct opt_table *t)
{
	fprintf(stderr, "Try '%s --help'.\n", t->cmd);
}

int opts_usage_error(const struct opt_table *t, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", t->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	opts_hint(t);
	return 2;
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
	if (n == OPTS_HELP) {
		usage(stdout, t);
		*exit_code = 0;
		return -1;
	}
	if (n == OPTS_BAD) { /* reported, with the hint to --help */
		*exit_code = 2;
		return -1;
	}
	return n;
}
