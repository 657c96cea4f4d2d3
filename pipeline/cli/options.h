/*
 * One option parser for every fks command and benchmark: a command
 * describes its options in a table, and the same table parses argv and
 * prints the options block of --help, so the two cannot drift apart.
 *
 * Only libc: `fks bench` may include it (scripts/check-layers).
 *
 * The grammar every fks command shares: options and their values as below;
 * exit status 0 for --help, 2 for a usage error, 1 for a failure of the
 * work itself; every message starts "fks CMD: "; a usage error ends with
 * one line, "Try 'fks CMD --help'.", rather than the whole usage.
 *
 * Accepted forms: --name value, --name=value, an unambiguous prefix of a
 * long name, -x value, -xvalue, clustered short flags (-fw), and "--" to
 * end the options.  Words that are not options are positional: they are
 * moved, in order, to argv[1..], and their count is returned.  -h and
 * --help are always known.  Every error names the option and the word:
 *   "<cmd>: unknown option '--frm'; did you mean --from?"
 *   "<cmd>: ambiguous option '--s' (--speed, --set)"
 *   "<cmd>: --from needs a value"
 *   "<cmd>: --from: expected a sequence number, got '-3'"
 *   "<cmd>: --type: unknown 'frob'"
 * (OPT_CALL values are checked, and their errors worded, by the caller)
 * and parsing goes on, so that one run reports every mistake; then
 * "Try '<cmd> --help'." once.
 */
#ifndef FKS_PIPELINE_CLI_OPTIONS_H
#define FKS_PIPELINE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum opt_kind {
	OPT_FLAG,    /* no value; dest: bool, set true */
	OPT_STRING,  /* dest: const char *, pointing into argv */
	OPT_INT,     /* decimal, optional sign; dest: int64_t, within [imin, imax] */
	OPT_UINT,    /* decimal, no sign; dest: uint64_t, within [umin, umax] */
	OPT_DECIMAL, /* strtod; dest: double, above dmin (or at it, unless dmin_open) */
	OPT_LIST,    /* "a,b,c": word(ctx, w) for each; false is an error */
	OPT_COUNT,   /* decimal with an optional k/M/G (x1000^n) suffix, "10k";
		      * dest: uint64_t, within [umin, umax] (both 0: any) */
	OPT_CALL,    /* call(ctx, value) with the whole value, which it may split in
		      * place; it reports its own error (the message is the
		      * caller's) and returns false */
};

struct opt {
	const char *name;    /* long name, without "--"; NULL ends the table */
	char short_name;     /* 0: none */
	enum opt_kind kind;
	void *dest;          /* see the kinds; NULL for OPT_LIST */
	const char *arg;     /* the value's name in help ("SEQ"); not for OPT_FLAG */
	const char *help;    /* '\n' starts a continuation line, indented to the column */
	const char *dflt;    /* appended to help as " (default <dflt>)"; NULL: nothing */
	const char *expect;  /* what a bad value should have been: "a count" */
	int64_t imin, imax;  /* OPT_INT; both 0: any int64 */
	uint64_t umin, umax; /* OPT_UINT; both 0: any uint64 */
	double dmin;         /* OPT_DECIMAL: the lowest value */
	bool dmin_open;      /* OPT_DECIMAL: dmin itself is refused */
	bool (*word)(void *ctx, const char *w); /* OPT_LIST */
	bool (*call)(void *ctx, char *value);   /* OPT_CALL */
	void *ctx;           /* OPT_LIST, OPT_CALL */
	bool *seen;          /* set true when the option is given; may be NULL */
};

struct opt_table {
	const char *cmd;     /* "fks tail": the prefix of every message */
	int help_col;        /* help text starts at this column */
	const struct opt *opts;
	unsigned *unknown;   /* may be NULL; counts unknown or ambiguous options,
			      * for a command that follows those with its usage */
};

enum {
	OPTS_HELP = -1,      /* --help was given: print help, exit 0 */
	OPTS_BAD = -2,       /* usage error(s), already reported: exit 2 */
};

/* Parse argv[1..argc) by the table (a usage error: reported, with the
 * hint).  Returns the number of positional
 * words (now argv[1..n]), OPTS_HELP or OPTS_BAD. */
int opts_parse(const struct opt_table *t, int argc, char **argv);

/* A count, "10k", "1M", "3G" or "250" (k/M/G in either case, x1000,
 * x1000000, x1000000000), into *out if it is at most max.  The
 * OPT_COUNT parser, for callers that split their own lists. */
bool opts_parse_count(const char *s, uint64_t max, uint64_t *out);

/* The options block of --help: one entry per option, in table order,
 * "  -j, --journal DIR" padded to help_col (or, if wider, two spaces), then
 * its help. */
void opts_print_help(const struct opt_table *t, FILE *out);

/* "Try '<cmd> --help'." on stderr: the last line of every usage error. */
void opts_hint(const struct opt_table *t);

/* A usage error the table cannot see (a missing argument, options that
 * exclude each other): "<cmd>: <message>" and the hint.  Returns 2. */
int opts_usage_error(const struct opt_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The edit distance of a[0..alen) and b (insert, delete, substitute, swap
 * two neighbours), and whether it is small enough for "did you mean b". */
unsigned opts_edit_distance(const char *a, size_t alen, const char *b);
bool opts_is_close(unsigned distance, const char *candidate);

/* opts_parse with the usual endings: --help prints usage(stdout) and sets
 * *exit_code 0; a usage error (reported, with the hint) sets it 2; either
 * way the result is negative and the command returns *exit_code.  Else the
 * number of positional words, as opts_parse. */
int opts_parse_or_usage(const struct opt_table *t, int argc, char **argv,
			void (*usage)(FILE *out, const struct opt_table *t), int *exit_code);

#endif
