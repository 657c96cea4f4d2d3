/*
 * `fks bench pipeline`: end-to-end throughput and tick-to-trade of the whole
 * pipeline (feed -> strategy -> risk -> gateway), per layout (the stages'
 * placement in runners, and their idle strategy) and offered rate, in one
 * run on one machine, beside the floor: one ring hop one-way times the hops
 * on the path.
 *
 * Each cell (layout x rate) is one `fks run` of this same executable
 * (/proc/self/exe) as a child process:
 *
 *   fks run -c /tmp/fks-bench-XXXXXX.yaml --events N --prefix fks-bench-<pid> --json
 *
 * The config is the embedded default (`fks config default`, read from the
 * child too, so this file needs no link dependency on pipeline/) without
 * its runners and stages sections, with feed.rate (and, for asap-async,
 * journal.sync) substituted and a generated placement appended: see
 * make_config().  From the run's one-line JSON summary the bench reads a few
 * numbers with a small scanner (no JSON library), checks that the run exited
 * 0 and that its counters agree (every event the feed wrote reached the
 * gateway), and prints a table or JSON lines.
 *
 * Rates: "asap" is feed.rate 0 (as fast as possible: throughput), with the
 * journal as configured (durable in the default); "asap-async" the same with
 * journal.sync async.  A number is a paced run, where the feed stamps each
 * event with its INTENDED send time, so tick-to-trade includes any queueing
 * (no coordinated omission).
 *
 * Layouts: dedicated/<wait> is a runner per stage, on the cores of the
 * dedicated default before runners (feed 0, strategy 1, risk 1, gateway 0,
 * journal 0), every hot-path stage on that wait, the journal parking.
 * dedicated/spin first asks the config loader whether that is accepted
 * (`fks config check`); when it refuses (a spinning stage needs a core of
 * its own) the bench uses the closest layout it accepts on this machine's
 * usable cores and says so: see spin_layout().  shared/<idle> is the
 * default's shape: runner hot (feed, strategy, risk, gateway) on the highest
 * usable core with that idle strategy, runner journal on the lowest, parking.
 *
 * The floor is `fks bench ring --only fks --json` run first, as a child:
 * its rtt p50 / 2 is one hop one-way, and an event crosses three hops on
 * its way to the venue (market_data, orders, risk_out).
 *
 * With asap rows, the journal's floor too: `fks bench journal` at the
 * default config's journal.batch_events, durable and async, in the same
 * run (measure_journal_floor); each asap row's live journal is set beside
 * it as a ratio.
 */
#include "bench/bench.h"
#include "bench/bench_util.h"
#include "shm/clock.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/jitter.h"

#define PROG "fks bench pipeline"

#define JITTER_SECONDS 2.0        /* the hot core's stalls, before the rows */
#define NSTAGES 4                /* the hot path; the journal is placed beside it */
#define NPLACED (NSTAGES + 1)    /* ... and these are every stage the bench places */
#define MAX_RATES 16
#define MAX_RATE 1000000000ull   /* feed.rate's range in the config */
#define MAX_EVENTS 1000000000000ull
#define ASAP_EVENTS 20000000ull  /* seconds: start-up and drain stay well under 1% */
#define OUT_MAX (1u << 20)       /* captured stdout/stderr of one child */
#define YAML_MAX (64u * 1024u)   /* the config loader's own limit */
#define FLOOR_HOPS 3             /* market_data, orders, risk_out: feed -> venue */

static const char *const stage_names[NPLACED] = { "feed", "strategy", "risk", "gateway", "journal" };
enum { ST_FEED, ST_STRATEGY, ST_RISK, ST_GATEWAY, ST_JOURNAL }; /* the order `fks run` uses */
/* The dedicated default's cores before runners: feed and gateway (and the
 * journal, beside the gateway) on 0, strategy and risk on 1. */
static const int dedicated_cores[NPLACED] = { 0, 1, 1, 0, 0 };

enum wait_kind { W_PARK, W_YIELD, W_SPIN, W_COUNT };
static const char *const wait_names[W_COUNT] = { "park", "yield", "spin" };

/* shared/backoff+wal: shared/backoff with journal.write_ahead, every order
 * committed to the journal before it is sent: the cost of that guarantee,
 * row by row against shared/backoff. */
enum layout_kind { L_DED_PARK, L_DED_YIELD, L_DED_SPIN, L_SH_BACKOFF, L_SH_PARK, L_SH_SPIN, L_SH_BACKOFF_WAL, L_COUNT };
static const char *const layout_names[L_COUNT] = { "dedicated/park", "dedicated/yield", "dedicated/spin",
						   "shared/backoff", "shared/park",     "shared/spin",
						   "shared/backoff+wal" };
#define LAYOUTS_KNOWN                                                                                         \
	"dedicated/park, dedicated/yield, dedicated/spin, shared/backoff, shared/park, shared/spin, "         \
	"shared/backoff+wal"

static bool layout_shared(enum layout_kind k) { return k >= L_SH_BACKOFF; }

/* ---- options ----------------------------------------------------------- */

struct rate {
	uint64_t per_s; /* 0 = asap */
	bool async;     /* journal.sync: async (asap-async) */
};

struct opts {
	bool json;
	uint64_t events; /* 0: per-rate default */
	unsigned n_rates;
	struct rate rate[MAX_RATES];
	unsigned n_layouts;
	enum layout_kind layout[L_COUNT];
};

static const char usage_head[] =
	"usage: " PROG " [--json] [--events N] [--rates LIST] [--layouts LIST]\n"
	"\n"
	"End-to-end throughput and tick-to-trade latency of the whole pipeline\n"
	"(feed -> strategy -> risk -> gateway), for each layout and offered rate, beside\n"
	"the floor (one ring hop one-way, from 'fks bench ring --only fks', times the\n"
	"3 hops on the path).  Every cell is one 'fks run' of this executable with the\n"
	"embedded default config, its runners and stages replaced by the layout's and\n"
	"feed.rate substituted; its --json summary is checked (exit 0, every event the\n"
	"feed wrote reached the gateway) and tabulated.  With asap rates, the live\n"
	"journal is set beside 'fks bench journal's raw LMDB floor at the default\n"
	"config's journal.batch_events, durable and async, measured in the same run.\n"
	"\n"
	"options:\n";
static const char usage_tail[] =
	"  -h, --help      show this text\n"
	"\n"
	"Layouts: dedicated/WAIT runs a runner per stage on the cores feed 0, strategy 1,\n"
	"risk 1, gateway 0, journal 0 (the journal parks), every other stage on WAIT;\n"
	"shared/IDLE runs runner 'hot' (feed, strategy, risk, gateway) on the highest\n"
	"usable core with idle IDLE, and runner 'journal' on the lowest, parking.\n"
	"N and rates take an optional k, M or G suffix (10^3, 10^6, 10^9).\n"
	"Tick-to-trade runs from the feed's stamp (in paced runs the event's intended\n"
	"send time, so queueing counts) to the order reaching the venue.\n"
	"Progress goes to stderr.  Exit status: 0 every run ok, 1 a run failed (exit\n"
	"status, counters that disagree; its stderr is shown), 2 usage error.\n";

static void usage(FILE *out, const struct opt_table *t)
{
	fputs(usage_head, out);
	opts_print_help(t, out);
	fputs(usage_tail, out);
}

/* The item errors are followed by bench_parse_options's "Try ..." line. */
static int rate_item(const char *p, size_t len, void *ctx)
{
	struct opts *o = ctx;
	struct rate r = { 0, false };
	char word[32];
	snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), p);
	if (len == 4 && !strncmp(p, "asap", 4))
		r.per_s = 0;
	else if (len == 10 && !strncmp(p, "asap-async", 10))
		r.async = true;
	else if (len >= sizeof word || !opts_parse_count(word, MAX_RATE, &r.per_s))
		return bench_option_error(PROG,
					  "--rates: '%.*s' is neither asap, asap-async nor a rate from 0 to %llu events/s",
					  (int)len, p, MAX_RATE);
	if (o->n_rates == MAX_RATES)
		return bench_option_error(PROG, "--rates: at most %d rates", MAX_RATES);
	o->rate[o->n_rates++] = r; /* 0 is asap too, as in the config */
	return 0;
}

static bool take_rates(void *ctx, char *s)
{
	struct opts *o = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--rates needs a list, e.g. --rates asap,10k,1M");
	o->n_rates = 0;
	return !bench_each_item(PROG, "--rates", "asap,asap-async,10k,1M", s, rate_item, o);
}

static int add_layout(struct opts *o, enum layout_kind k, const char *option, const char *item)
{
	for (unsigned i = 0; i < o->n_layouts; i++)
		if (o->layout[i] == k)
			return bench_option_error(PROG, "%s: '%s' given twice", option, item);
	o->layout[o->n_layouts++] = k;
	return 0;
}

static int layout_item(const char *p, size_t len, void *ctx)
{
	for (int k = 0; k < L_COUNT; k++)
		if (strlen(layout_names[k]) == len && !strncmp(layout_names[k], p, len))
			return add_layout(ctx, (enum layout_kind)k, "--layouts", layout_names[k]);
	return bench_option_error(PROG, "--layouts: unknown layout '%.*s' (known: " LAYOUTS_KNOWN ")", (int)len, p);
}

static bool take_layouts(void *ctx, char *s)
{
	struct opts *o = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--layouts needs a list, e.g. --layouts shared/backoff,shared/spin");
	o->n_layouts = 0;
	return !bench_each_item(PROG, "--layouts", "dedicated/park,shared/backoff", s, layout_item, o);
}

/* --waits: the spelling from before runners; WAIT is dedicated/WAIT. */
static int wait_item(const char *p, size_t len, void *ctx)
{
	static const enum layout_kind as_layout[W_COUNT] = { L_DED_PARK, L_DED_YIELD, L_DED_SPIN };
	for (int w = 0; w < W_COUNT; w++)
		if (strlen(wait_names[w]) == len && !strncmp(wait_names[w], p, len))
			return add_layout(ctx, as_layout[w], "--waits", wait_names[w]);
	return bench_option_error(PROG, "--waits: unknown wait '%.*s' (known: park, yield, spin)", (int)len, p);
}

static bool take_waits(void *ctx, char *s)
{
	struct opts *o = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--waits needs a list, e.g. --waits park,spin");
	o->n_layouts = 0;
	return !bench_each_item(PROG, "--waits", "park,spin", s, wait_item, o);
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	char default_rates[] = "asap,asap-async,10k,100k,1M";
	char default_layouts[] = "dedicated/park,dedicated/spin,shared/backoff,shared/spin,shared/backoff+wal";
	take_rates(o, default_rates);
	take_layouts(o, default_layouts);
	char events_help[160], events_max[64];
	snprintf(events_help, sizeof events_help,
		 "events per run, for every cell (default: by rate; asap %llu,\n"
		 "up to 10k/s 10 s worth, up to 100k/s 5 s, above 2 s)",
		 ASAP_EVENTS);
	snprintf(events_max, sizeof events_max, "a number from 1 to %llu", MAX_EVENTS);
	const struct opt options[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = &o->json,
		  .help = "one JSON object per line per (layout, rate, metric), and one\n"
			  "for the floor, on stdout instead of the table (header and\n"
			  "layouts go to stderr)" },
		{ .name = "events", .kind = OPT_COUNT, .dest = &o->events, .arg = "N", .help = events_help,
		  .expect = events_max, .umin = 1, .umax = MAX_EVENTS },
		{ .name = "rates", .kind = OPT_CALL, .call = take_rates, .ctx = o, .arg = "LIST",
		  .help = "comma-separated offered rates in events/s, asap (feed.rate 0,\n"
			  "as fast as possible, the journal as configured: durable) or\n"
			  "asap-async (the same with journal.sync async)\n"
			  "(default asap,asap-async,10k,100k,1M)" },
		{ .name = "layouts", .kind = OPT_CALL, .call = take_layouts, .ctx = o, .arg = "LIST",
		  .help = "comma-separated subset of dedicated/park, dedicated/yield,\n"
			  "dedicated/spin, shared/backoff, shared/park, shared/spin,\n"
			  "shared/backoff+wal (journal.write_ahead: every order\n"
			  "committed before it is sent) (default dedicated/park,\n"
			  "dedicated/spin,shared/backoff,shared/spin,\n"
			  "shared/backoff+wal).  dedicated/spin needs a core per spinning\n"
			  "stage: where the config refuses it, the closest layout it\n"
			  "accepts is used and printed; shared/spin needs 2 cores" },
		{ .name = "waits", .kind = OPT_CALL, .call = take_waits, .ctx = o, .arg = "LIST",
		  .help = "the older spelling of --layouts: park,yield,spin stand for\n"
			  "dedicated/park, dedicated/yield, dedicated/spin" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = PROG, .help_col = 18, .opts = options };
	return bench_parse_options(&t, argc, argv, usage);
}

/* Default events per run: enough orders for a p99.9 at low rates, a few
 * seconds at most at high ones (the whole default bench: about 3 minutes,
 * most of it the asap rows, which the journal holds near 1.5M events/s). */
static uint64_t default_events(uint64_t rate)
{
	if (rate == 0)
		return ASAP_EVENTS;
	uint64_t n = rate <= 10000 ? rate * 10 : rate <= 100000 ? rate * 5 : rate * 2;
	return n < 1000 ? 1000 : n;
}

static void fmt_rate(char *buf, size_t cap, struct rate rt)
{
	uint64_t r = rt.per_s;
	if (r == 0)
		snprintf(buf, cap, rt.async ? "asap-async" : "asap");
	else if (r % 1000000000ull == 0)
		snprintf(buf, cap, "%" PRIu64 "G", (uint64_t)(r / 1000000000u));
	else if (r % 1000000ull == 0)
		snprintf(buf, cap, "%" PRIu64 "M", (uint64_t)(r / 1000000u));
	else if (r % 1000ull == 0)
		snprintf(buf, cap, "%" PRIu64 "k", (uint64_t)(r / 1000u));
	else
		snprintf(buf, cap, "%" PRIu64, r);
}

/* 3 significant digits with a k/M suffix: 9.87M, 99.9k, 512. */
static void fmt_si(char *buf, size_t cap, double v)
{
	const char *suf = "";
	if (v >= 1e6)
		v /= 1e6, suf = "M";
	else if (v >= 1e3)
		v /= 1e3, suf = "k";
	snprintf(buf, cap, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, suf);
}

/* ---- the machine ------------------------------------------------------- */

struct env {
	struct bench_machine m;
	char exe[PATH_MAX];
	char version[128]; /* `fks --version` of the binary that runs */
	int n_usable;
	int usable[CPU_SETSIZE];
};

static void read_env(struct env *e, int argc, char **argv)
{
	bench_machine_read(&e->m, argc, argv);

	cpu_set_t mask;
	e->n_usable = 0;
	if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &mask))
				e->usable[e->n_usable++] = c;
	}
}

/* ---- child processes --------------------------------------------------- */

static volatile sig_atomic_t g_signal;
static volatile pid_t g_child;
static char g_tmp[64]; /* the current temporary config, removed on a signal */

static void on_signal(int sig)
{
	g_signal = sig;
	pid_t c = g_child;
	if (c > 0)
		kill(c, SIGTERM); /* fks run stops, drains and removes its segments */
}

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NHANDLED (sizeof handled_signals / sizeof handled_signals[0])

struct child_out {
	int status;
	char *out, *err; /* NUL-terminated, at most OUT_MAX bytes each */
};

static void child_out_free(struct child_out *c)
{
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}

static char *slurp(FILE *f)
{
	char *buf = malloc(OUT_MAX + 1);
	if (!buf)
		return NULL;
	size_t n = 0;
	if (f) {
		rewind(f);
		n = fread(buf, 1, OUT_MAX, f);
	}
	buf[n] = 0;
	return buf;
}

/* Run exe with argv, capturing stdout and stderr.  Returns 0 once the child
 * has been reaped (its status in c->status), -1 if it could not run. */
static int run_child(const char *exe, char *const argv[], struct child_out *c, char *why, size_t whycap)
{
	memset(c, 0, sizeof *c);
	FILE *fo = tmpfile(), *fe = tmpfile();
	if (!fo || !fe) {
		snprintf(why, whycap, "tmpfile: %s", strerror(errno));
		if (fo)
			fclose(fo);
		if (fe)
			fclose(fe);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whycap, "fork: %s", strerror(errno));
		fclose(fo);
		fclose(fe);
		return -1;
	}
	if (pid == 0) {
		/* Never outlive the bench: a lone `fks run` would keep its cores. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		for (size_t i = 0; i < NHANDLED; i++)
			signal(handled_signals[i], SIG_DFL);
		if (dup2(fileno(fo), STDOUT_FILENO) < 0 || dup2(fileno(fe), STDERR_FILENO) < 0)
			_exit(127);
		execv(exe, argv);
		fprintf(stderr, "exec %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	g_child = pid;
	if (g_signal) /* arrived between the check and the fork */
		kill(pid, SIGTERM);
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	g_child = 0;
	if (w < 0) {
		snprintf(why, whycap, "waitpid: %s", strerror(errno));
		fclose(fo);
		fclose(fe);
		return -1;
	}
	c->status = status;
	c->out = slurp(fo);
	c->err = slurp(fe);
	fclose(fo);
	fclose(fe);
	if (!c->out || !c->err) {
		child_out_free(c);
		snprintf(why, whycap, "out of memory");
		return -1;
	}
	return 0;
}

static void describe_status(int status, char *buf, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, cap, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, cap, "ended with status 0x%x", status);
}

static bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

/* Show a child's captured text on stderr, indented. */
static void show_text(const char *label, const char *text)
{
	if (!text || !*text)
		return;
	fprintf(stderr, "  --- %s ---\n", label);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(stderr, "  | %.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

/* ---- config text ------------------------------------------------------- */

/* Where the stages run: a dedicated layout (a runner per stage, from each
 * stage's core and wait) or a shared one (runner hot for the hot path,
 * runner journal for the journal). */
struct placement {
	enum layout_kind kind;
	int core[NPLACED];           /* dedicated */
	enum wait_kind wait[NPLACED];
	int hot_core, journal_core;  /* shared */
};

static const char *shared_idle(enum layout_kind k)
{
	return k == L_SH_SPIN ? "spin" : k == L_SH_PARK ? "park" : "backoff";
}

/* As `fks run` prints its runners, for the dedicated layouts more tersely. */
static void fmt_placement(const struct placement *P, char *buf, size_t cap)
{
	if (layout_shared(P->kind)) {
		snprintf(buf, cap, "hot=core %d %s (feed strategy risk gateway), journal=core %d park (journal)",
			 P->hot_core, shared_idle(P->kind), P->journal_core);
		return;
	}
	size_t off = 0;
	for (int s = 0; s < NPLACED && off < cap; s++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s=%d(%s)", s ? " " : "", stage_names[s], P->core[s],
					wait_names[P->wait[s]]);
}

static bool placement_shares(const struct placement *P, int s)
{
	for (int t = 0; t < NPLACED; t++)
		if (t != s && P->core[t] == P->core[s])
			return true;
	return false;
}

struct yaml_line {
	int indent;       /* leading spaces; -1 for a blank or comment line */
	const char *key;  /* the mapping key, when the line is "key:" or "key: value" */
	size_t key_len;
	const char *value; /* after ':' and blanks; "" or a comment when the key opens a block */
};

static void split_line(const char *p, size_t n, struct yaml_line *l)
{
	memset(l, 0, sizeof *l);
	size_t i = 0;
	while (i < n && p[i] == ' ')
		i++;
	if (i == n || p[i] == '#') {
		l->indent = -1;
		return;
	}
	l->indent = (int)i;
	size_t k = i;
	while (k < n && p[k] != ':' && p[k] != ' ' && p[k] != '#')
		k++;
	if (k < n && p[k] == ':' && (k + 1 == n || p[k + 1] == ' ')) {
		l->key = p + i;
		l->key_len = k - i;
		size_t v = k + 1;
		while (v < n && p[v] == ' ')
			v++;
		l->value = p + v;
	}
}

static bool value_opens_block(const struct yaml_line *l, const char *eol)
{
	return l->value == eol || l->value[0] == '#';
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void sb_put(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

/* Append the placement: `runners` and `stages` sections. */
static void put_placement(struct sbuf *b, const struct placement *P)
{
	if (!layout_shared(P->kind)) {
		sb_put(b, "stages:\n");
		for (int s = 0; s < NPLACED; s++)
			sb_put(b, "  %s:\n    core: %d\n    wait: %s\n", stage_names[s], P->core[s], wait_names[P->wait[s]]);
		return;
	}
	sb_put(b, "runners:\n  - name: hot\n    core: %d\n    idle: %s\n  - name: journal\n    core: %d\n"
		  "    idle: park\nstages:\n",
	       P->hot_core, shared_idle(P->kind), P->journal_core);
	for (int s = 0; s < NPLACED; s++)
		sb_put(b, "  %s:\n    runner: %s\n", stage_names[s], s == ST_JOURNAL ? "journal" : "hot");
}

static bool key_is(const struct yaml_line *l, const char *key)
{
	return l->key && l->key_len == strlen(key) && !strncmp(l->key, key, l->key_len);
}

/*
 * The default config without its top-level runners and stages sections,
 * with feed.rate = rt.per_s, journal.sync = async when rt.async,
 * journal.write_ahead = true for shared/backoff+wal, and
 * P's placement appended.  Plain line-level text filtering of the
 * block-style YAML `fks config default` prints: the feed and journal
 * blocks get their keys written right after the block's opening line, and
 * the same keys further down in the block are dropped.  Anything it does
 * not recognise is an error, never a guess.
 */
static int make_config(const char *base, struct rate rt, const struct placement *P, char *out, size_t cap,
		       char *why, size_t whycap)
{
	struct sbuf b = { out, 0, cap, false };
	bool wal = P->kind == L_SH_BACKOFF_WAL;
	enum { SEC_OTHER, SEC_DROP, SEC_FEED, SEC_JOURNAL } sec = SEC_OTHER;
	bool have_feed = false, have_journal = false;
	for (const char *p = base; *p;) {
		size_t n = strcspn(p, "\n");
		const char *eol = p + n;
		struct yaml_line l;
		split_line(p, n, &l);
		bool keep = true;
		if (l.indent == 0) {
			if (!l.key) {
				snprintf(why, whycap, "default config: unexpected top-level line '%.*s'", (int)n, p);
				return -1;
			}
			sec = key_is(&l, "runners") || key_is(&l, "stages") ? SEC_DROP
			      : key_is(&l, "feed")			     ? SEC_FEED
			      : key_is(&l, "journal")			     ? SEC_JOURNAL
									     : SEC_OTHER;
			if ((sec == SEC_FEED || sec == SEC_JOURNAL) && !value_opens_block(&l, eol)) {
				snprintf(why, whycap, "default config: '%.*s' is not a block mapping; cannot substitute",
					 (int)n, p);
				return -1;
			}
			if (sec == SEC_FEED) {
				sb_put(&b, "%.*s\n  rate: %" PRIu64 "\n", (int)n, p, rt.per_s);
				have_feed = true;
				keep = false;
			} else if (sec == SEC_JOURNAL && (rt.async || wal)) {
				sb_put(&b, "%.*s\n%s%s", (int)n, p, rt.async ? "  sync: async\n" : "",
				       wal ? "  write_ahead: true\n" : "");
				have_journal = true;
				keep = false;
			}
			keep = keep && sec != SEC_DROP;
		} else if (l.indent > 0 && sec == SEC_DROP) {
			keep = false;
		} else if (l.indent == 2 && sec == SEC_FEED && key_is(&l, "rate")) {
			keep = false;
		} else if (l.indent == 2 && sec == SEC_JOURNAL && rt.async && key_is(&l, "sync")) {
			keep = false;
		} else if (l.indent == 2 && sec == SEC_JOURNAL && wal && key_is(&l, "write_ahead")) {
			keep = false;
		}
		if (keep)
			sb_put(&b, "%.*s\n", (int)n, p);
		p = *eol ? eol + 1 : eol;
	}
	if (!have_feed)
		sb_put(&b, "feed:\n  rate: %" PRIu64 "\n", rt.per_s);
	if ((rt.async || wal) && !have_journal)
		sb_put(&b, "journal:\n%s%s", rt.async ? "  sync: async\n" : "", wal ? "  write_ahead: true\n" : "");
	put_placement(&b, P);
	if (b.overflow) {
		snprintf(why, whycap, "the config would exceed %zu bytes", cap);
		return -1;
	}
	return 0;
}

/* A journal directory holds only flat files (data.mdb, lock.mdb,
 * writer.lock): remove them, then it. */
static void remove_journal(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb", "writer.lock" };
	char path[128];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Write text to a new /tmp/fks-bench-XXXXXX.yaml; its name goes to g_tmp. */
static int write_tmp_config(const char *text, char *why, size_t whycap)
{
	snprintf(g_tmp, sizeof g_tmp, "/tmp/fks-bench-XXXXXX.yaml");
	int fd = mkstemps(g_tmp, 5);
	if (fd < 0) {
		snprintf(why, whycap, "mkstemps(%s): %s", g_tmp, strerror(errno));
		g_tmp[0] = 0;
		return -1;
	}
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(why, whycap, "write %s: %s", g_tmp, strerror(errno));
			close(fd);
			unlink(g_tmp);
			g_tmp[0] = 0;
			return -1;
		}
		done += (size_t)w;
	}
	close(fd);
	return 0;
}

static void remove_tmp_config(void)
{
	if (g_tmp[0])
		unlink(g_tmp);
	g_tmp[0] = 0;
}

/* ---- a tiny JSON scanner ----------------------------------------------- */

/* Only what `fks run --json` prints: objects, strings without escapes that
 * matter here, numbers.  Looks a key up among the direct members of the
 * object starting at obj ('{'). */
static const char *json_member(const char *obj, const char *key)
{
	if (!obj || *obj != '{')
		return NULL;
	size_t klen = strlen(key);
	int depth = 0;
	for (const char *p = obj; *p; p++) {
		if (*p == '"') {
			const char *s = p + 1;
			const char *e = s;
			while (*e && *e != '"') {
				if (*e == '\\' && e[1])
					e++;
				e++;
			}
			if (!*e)
				return NULL;
			if (depth == 1 && e[1] == ':' && (size_t)(e - s) == klen && !strncmp(s, key, klen))
				return e + 2;
			p = e;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return NULL;
		}
	}
	return NULL;
}

static const char *json_obj(const char *obj, const char *key)
{
	const char *v = json_member(obj, key);
	return v && *v == '{' ? v : NULL;
}

static bool json_num(const char *obj, const char *key, double *out)
{
	const char *v = json_member(obj, key);
	if (!v || !(isdigit((unsigned char)*v) || *v == '-'))
		return false;
	char *end;
	*out = strtod(v, &end);
	return end != v;
}

/* ---- one run ----------------------------------------------------------- */

struct cell {
	enum layout_kind layout;
	struct rate rate;
	uint64_t events;
	bool ran, ok;
	char why[512];
	char runners[512]; /* the layout as `fks run` printed it on stderr */
	double seconds;
	double feed_out, dropped, gw_in, gw_quotes, gw_trades, gw_orders;
	double feed_wall_ns; /* the feed stage's life, open to its last event (0: not in the summary) */
	double t2t_count, p50, p99, p999, max;
	bool have_max;
	double jn_events, jn_commits, jn_busy_ns; /* the journal: committed, transactions, busy */
};

/* "fks run: ..., prefix '...'; runners: hot=core 1 backoff (feed ...), ...":
 * the part after "runners: " - what actually ran. */
static void find_runners_line(const char *err, char *buf, size_t cap)
{
	static const char mark[] = "; runners: ";
	buf[0] = 0;
	const char *p = strstr(err, mark);
	if (!p)
		return;
	p += sizeof mark - 1;
	snprintf(buf, cap, "%.*s", (int)strcspn(p, "\n"), p);
}

static bool summary_numbers(struct cell *c, const char *js)
{
	const char *top = strchr(js, '{');
	const char *stages = json_obj(top, "stages");
	const char *feed = json_obj(stages, "feed");
	const char *gw = json_obj(stages, "gateway");
	const char *t2t = json_obj(top, "tick_to_trade_ns");
	double kill = 0;
	bool ok = json_num(top, "seconds", &c->seconds) && json_num(top, "kill", &kill) &&
		  json_num(feed, "events_out", &c->feed_out) && json_num(feed, "dropped", &c->dropped) &&
		  json_num(gw, "events_in", &c->gw_in) && json_num(gw, "quotes", &c->gw_quotes) &&
		  json_num(gw, "trades", &c->gw_trades) && json_num(gw, "orders", &c->gw_orders) &&
		  json_num(t2t, "count", &c->t2t_count) && json_num(t2t, "p50", &c->p50) &&
		  json_num(t2t, "p99", &c->p99) && json_num(t2t, "p999", &c->p999);
	if (!ok) {
		snprintf(c->why, sizeof c->why, "the --json summary lacks a field this bench reads");
		return false;
	}
	c->have_max = json_num(t2t, "max", &c->max); /* not in the summary (yet) */
	if (!json_num(feed, "cpu_wall_ns", &c->feed_wall_ns))
		c->feed_wall_ns = 0;
	const char *jn = json_obj(top, "journal"), *jn_stage = json_obj(stages, "journal");
	if (!json_num(jn, "events", &c->jn_events) || !json_num(jn, "commits", &c->jn_commits) ||
	    !json_num(jn_stage, "busy_ns", &c->jn_busy_ns)) {
		snprintf(c->why, sizeof c->why, "the --json summary lacks the journal's events, commits or busy_ns");
		return false;
	}
	if (kill != 0) {
		snprintf(c->why, sizeof c->why, "the kill switch tripped");
		return false;
	}
	if (c->feed_out + c->dropped != (double)c->events) {
		snprintf(c->why, sizeof c->why, "the feed wrote %.0f events (+%.0f dropped), not the %" PRIu64 " asked for",
			 c->feed_out, c->dropped, c->events);
		return false;
	}
	if (c->gw_quotes + c->gw_trades != c->feed_out) {
		snprintf(c->why, sizeof c->why,
			 "counters disagree: the feed wrote %.0f events, the gateway saw %.0f quotes + %.0f trades",
			 c->feed_out, c->gw_quotes, c->gw_trades);
		return false;
	}
	if (c->seconds <= 0) {
		snprintf(c->why, sizeof c->why, "the run lasted %.3f s", c->seconds);
		return false;
	}
	return true;
}

static void run_cell(const struct env *e, const char *base, const struct placement *P, struct cell *c, unsigned idx,
		     unsigned count)
{
	char rate_s[32], yaml_why[256];
	fmt_rate(rate_s, sizeof rate_s, c->rate);
	if (c->rate.per_s)
		strcat(rate_s, "/s");
	static char yaml[YAML_MAX + 1];
	c->ran = true;
	if (make_config(base, c->rate, P, yaml, sizeof yaml, yaml_why, sizeof yaml_why) < 0) {
		snprintf(c->why, sizeof c->why, "%s", yaml_why);
		fprintf(stderr, PROG ": [%u/%u] %s @ %s: FAILED: %s\n", idx, count, layout_names[c->layout], rate_s, c->why);
		return;
	}
	if (write_tmp_config(yaml, c->why, sizeof c->why) < 0) {
		fprintf(stderr, PROG ": [%u/%u] %s @ %s: FAILED: %s\n", idx, count, layout_names[c->layout], rate_s, c->why);
		return;
	}
	char events_s[32], prefix[32];
	snprintf(events_s, sizeof events_s, "%" PRIu64, c->events);
	snprintf(prefix, sizeof prefix, "fks-bench-%d", (int)getpid());
	/* Each run journals into a scratch directory, removed after it: the
	 * journal is part of what is measured, its files are not kept. */
	char journal[64];
	snprintf(journal, sizeof journal, "/tmp/fks-bench-journal-%d", (int)getpid());
	remove_journal(journal);
	char *argv[] = { (char *)e->exe, "run", "-c", g_tmp, "--events", events_s, "--prefix", prefix,
			 "--journal", journal, "--json", NULL };
	if (c->rate.per_s)
		fprintf(stderr, PROG ": [%u/%u] %s @ %s: %" PRIu64 " events (%.1f s at the offered rate)\n", idx, count,
			layout_names[c->layout], rate_s, c->events, (double)c->events / (double)c->rate.per_s);
	else
		fprintf(stderr, PROG ": [%u/%u] %s @ %s: %" PRIu64 " events\n", idx, count, layout_names[c->layout],
			rate_s, c->events);
	struct child_out co;
	char why[256];
	int rc = run_child(e->exe, argv, &co, why, sizeof why);
	remove_tmp_config();
	remove_journal(journal);
	if (rc < 0) {
		snprintf(c->why, sizeof c->why, "cannot run %.200s: %.200s", e->exe, why);
		fprintf(stderr, PROG ": [%u/%u] %s @ %s: FAILED: %s\n", idx, count, layout_names[c->layout], rate_s, c->why);
		return;
	}
	find_runners_line(co.err, c->runners, sizeof c->runners);
	if (g_signal) { /* stopped by us: not a failure of the pipeline */
		snprintf(c->why, sizeof c->why, "interrupted");
		child_out_free(&co);
		return;
	}
	if (!exited_ok(co.status)) {
		char st[128];
		describe_status(co.status, st, sizeof st);
		snprintf(c->why, sizeof c->why, "fks run %s", st);
	} else if (summary_numbers(c, co.out)) {
		c->ok = true;
	}
	if (!c->ok) {
		fprintf(stderr, PROG ": [%u/%u] %s @ %s: FAILED: %s\n", idx, count, layout_names[c->layout], rate_s, c->why);
		fprintf(stderr, "  command: %s run -c CONFIG --events %s --prefix %s --journal %s --json\n", e->exe,
			events_s, prefix, journal);
		show_text("stderr of fks run", co.err);
		if (exited_ok(co.status))
			show_text("stdout of fks run", co.out);
	} else {
		char ach[32];
		fmt_si(ach, sizeof ach, c->feed_out / c->seconds);
		fprintf(stderr,
			PROG ": [%u/%u] %s @ %s: %s events/s in %.2f s, %.0f orders, tick-to-trade p50 %.1f us, "
			     "p99 %.1f us, p99.9 %.1f us\n",
			idx, count, layout_names[c->layout], rate_s, ach, c->seconds, c->gw_orders, c->p50 / 1e3,
			c->p99 / 1e3, c->p999 / 1e3);
	}
	child_out_free(&co);
}

/* ---- layouts ----------------------------------------------------------- */

struct variant {
	struct placement P;
	bool usable;    /* false: no placement this machine's config accepts */
	char note[768]; /* why this placement, for the header */
};

/* dedicated/<w>: every hot-path stage on the dedicated default's core with
 * wait w; the journal beside them, parking (it mostly waits on the disk). */
static void dedicated_placement(struct placement *P, enum layout_kind k, enum wait_kind w)
{
	P->kind = k;
	for (int s = 0; s < NPLACED; s++) {
		P->core[s] = dedicated_cores[s];
		P->wait[s] = s == ST_JOURNAL ? W_PARK : w;
	}
}

/* shared/<idle>: runner hot on the highest usable core, runner journal on
 * the lowest (on a 2-core machine, the default config's 1 and 0). */
static void shared_placement(const struct env *e, struct placement *P, enum layout_kind k)
{
	P->kind = k;
	P->hot_core = e->n_usable ? e->usable[e->n_usable - 1] : 0;
	P->journal_core = e->n_usable ? e->usable[0] : 0;
}

/* Does `fks config check` accept the config for P?  0 yes, 1 no (its
 * message, without the temporary file's name, in refusal), -1 it could not
 * tell (said on stderr). */
static int config_accepts(const struct env *e, const char *base, const struct placement *P, char *refusal,
			  size_t cap)
{
	static char yaml[YAML_MAX + 1];
	char why[256];
	struct rate asap = { 0, false };
	if (make_config(base, asap, P, yaml, sizeof yaml, why, sizeof why) < 0 ||
	    write_tmp_config(yaml, why, sizeof why) < 0) {
		fprintf(stderr, PROG ": spin: %s\n", why);
		return -1;
	}
	char *argv[] = { (char *)e->exe, "config", "check", g_tmp, NULL };
	struct child_out co;
	int rc = run_child(e->exe, argv, &co, why, sizeof why);
	remove_tmp_config();
	if (rc < 0) {
		fprintf(stderr, PROG ": spin: cannot run %s config check: %s\n", e->exe, why);
		return -1;
	}
	if (exited_ok(co.status)) {
		child_out_free(&co);
		return 0;
	}
	if (!WIFEXITED(co.status) || WEXITSTATUS(co.status) != 1) {
		char st[128];
		describe_status(co.status, st, sizeof st);
		fprintf(stderr, PROG ": spin: fks config check %s\n", st);
		show_text("stderr of fks config check", co.err);
		child_out_free(&co);
		return -1;
	}
	const char *msg = co.err;
	const char *colon = strstr(msg, ": stages.");
	if (!colon)
		colon = strstr(msg, ": runners");
	msg = colon ? colon + 2 : msg;
	snprintf(refusal, cap, "%.*s", (int)strcspn(msg, "\n"), msg);
	child_out_free(&co);
	return 1;
}

/*
 * dedicated/spin: all four hot-path stages spinning on the dedicated
 * default's cores, if the config loader accepts it.  Otherwise the closest
 * layout it accepts on the usable cores u[0..n-1]: stages in the order
 * strategy, risk, gateway, feed each get a core of their own from the top
 * (u[n-1], u[n-2], ... u[1]) and spin; the rest share u[0] with the journal
 * and park (the journal never spins, so u[0] stays a parking core).  The hot
 * path goes first, as in the 4-core example of docs/config.md (strategy and
 * risk spin on isolated cores, feed and gateway park on a shared one); the
 * feed goes last because a spinning feed also spin-paces, busy-waiting for
 * every event's due time.
 * On 2 cores: strategy alone on cpu1 (spin); feed, risk, gateway and the
 * journal on cpu0 (park).  On 3: strategy and risk spin.  On 4: strategy,
 * risk and gateway spin.  On 5 or more: every hot-path stage spins on its
 * own core.
 */
static int spin_layout(const struct env *e, const char *base, struct variant *v)
{
	struct placement all;
	dedicated_placement(&all, L_DED_SPIN, W_SPIN);
	char refusal[320], lay[256];
	fmt_placement(&all, lay, sizeof lay);
	int acc = config_accepts(e, base, &all, refusal, sizeof refusal);
	if (acc < 0)
		return -1;
	if (acc == 0) {
		v->P = all;
		bool shared = false;
		for (int s = 0; s < NSTAGES; s++)
			shared = shared || placement_shares(&all, s);
		snprintf(v->note, sizeof v->note, "all four hot-path stages spin on the dedicated cores%s",
			 shared ? ". OVERSUBSCRIBED: stages that share a core both spin; spin is meant for "
				  "isolated cores, so read these rows as a worst case"
				: "");
		return 0;
	}
	if (e->n_usable < 2) {
		fprintf(stderr, PROG ": spin: the config refuses '%s' (%s), and with %d usable core%s no stage can have "
				"a core of its own\n",
			lay, refusal, e->n_usable, e->n_usable == 1 ? "" : "s");
		return -1;
	}
	static const int order[NSTAGES] = { ST_STRATEGY, ST_RISK, ST_GATEWAY, ST_FEED };
	int next = e->n_usable - 1;
	struct placement P;
	dedicated_placement(&P, L_DED_SPIN, W_PARK);
	P.core[ST_JOURNAL] = e->usable[0];
	for (int i = 0; i < NSTAGES; i++) {
		int s = order[i];
		if (next >= 1) {
			P.core[s] = e->usable[next--];
			P.wait[s] = W_SPIN;
		} else {
			P.core[s] = e->usable[0];
		}
	}
	v->P = P;
	snprintf(v->note, sizeof v->note,
		 "the config refuses all four stages spinning on the dedicated cores (%s). Ran instead: "
		 "each stage that can have a core of its own on this machine spins on it, hot path first "
		 "(strategy, risk, gateway, feed); the others share cpu%d with the journal and park",
		 refusal, e->usable[0]);
	return 0;
}

/* The placement for layout k; v->usable false when there is none. */
static void resolve_layout(const struct env *e, const char *base, enum layout_kind k, struct variant *v)
{
	v->usable = true;
	switch (k) {
	case L_DED_PARK:
		dedicated_placement(&v->P, k, W_PARK);
		break;
	case L_DED_YIELD:
		dedicated_placement(&v->P, k, W_YIELD);
		break;
	case L_DED_SPIN:
		fprintf(stderr, PROG ": spin: asking the config loader whether all four stages may spin on the "
				"dedicated cores\n");
		if (spin_layout(e, base, v) < 0)
			v->usable = false;
		else
			fprintf(stderr, PROG ": spin: %s\n", v->note);
		break;
	default:
		shared_placement(e, &v->P, k);
		if (k == L_SH_SPIN && v->P.hot_core == v->P.journal_core) {
			v->usable = false;
			snprintf(v->note, sizeof v->note, "a spinning runner needs a core of its own: with one usable "
				 "core, hot and journal would share it");
		}
		break;
	}
}

/* ---- the floor --------------------------------------------------------- */

/* One ring hop one-way (fks bench ring's fks rtt p50 / 2) times the hops on
 * the path: what tick-to-trade would be if the stages cost nothing. */
struct floor {
	bool ok;
	double rtt_p50, one_way, total; /* ns */
	char why[512];
};

/* Runs ring throughput too (it cannot be left out), hence --events 1M: the
 * latency part, 200k round trips, is what is read. */
static void measure_floor(const struct env *e, struct floor *f)
{
	memset(f, 0, sizeof *f);
	char *argv[] = { (char *)e->exe, "bench", "ring", "--only", "fks", "--roundtrips", "200k", "--events", "1M",
			 "--repeat", "1", "--json", NULL };
	fprintf(stderr, PROG ": floor: %s bench ring --only fks --roundtrips 200k --events 1M --repeat 1 --json\n",
		e->exe);
	struct child_out co;
	char why[256];
	if (run_child(e->exe, argv, &co, why, sizeof why) < 0) {
		snprintf(f->why, sizeof f->why, "cannot run %.200s: %.200s", e->exe, why);
		return;
	}
	if (!exited_ok(co.status)) {
		char st[128];
		describe_status(co.status, st, sizeof st);
		snprintf(f->why, sizeof f->why, "fks bench ring %s", st);
		show_text("stderr of fks bench ring", co.err);
		child_out_free(&co);
		return;
	}
	for (const char *p = co.out; *p && !f->ok;) {
		size_t n = strcspn(p, "\n");
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
		const char *v = strstr(line, "\"value\":");
		if (strstr(line, "\"transport\":\"fks\"") && strstr(line, "\"metric\":\"rtt_p50_ns\"") && v) {
			char *end;
			f->rtt_p50 = strtod(v + 8, &end);
			f->ok = end != v + 8 && f->rtt_p50 > 0;
		}
		p += n;
		if (*p)
			p++;
	}
	if (!f->ok) {
		snprintf(f->why, sizeof f->why, "fks bench ring printed no fks rtt_p50_ns");
		show_text("stdout of fks bench ring", co.out);
	} else {
		f->one_way = f->rtt_p50 / 2;
		f->total = f->one_way * FLOOR_HOPS;
		fprintf(stderr, PROG ": floor: fks rtt p50 %.1f ns, one-way %.1f ns, x %d hops = %.1f ns\n", f->rtt_p50,
			f->one_way, FLOOR_HOPS, f->total);
	}
	child_out_free(&co);
}

/* ---- the journal's floor ----------------------------------------------- */

/*
 * The live journal beside raw LMDB at the same batch size, in the same run:
 * `fks bench journal --modes durable,async --batches B --order-batch 0
 * --repeat 3 --json` (64-byte quotes), B = journal.batch_events of the
 * default config, which is also the largest batch the live journal
 * commits.  Its raw writer's median rate per mode is the floor (async's
 * raw peer commits like durable, on the writer's thread).  Each asap row
 * gives the live journal two ways:
 *   e2e       journal events committed / the run's seconds: what the
 *             pipeline made durable per second; bound by the hot path
 *             whenever that is the slower side;
 *   capacity  journal events / the journal stage's busy seconds (appending
 *             and committing, not waiting for its taps): the rate the live
 *             path sustains when it is the bottleneck.
 */
enum { JF_DURABLE, JF_ASYNC, JF_COUNT };
static const char *const jf_mode_names[JF_COUNT] = { "durable", "async" };

struct journal_floor {
	bool wanted, ok[JF_COUNT];
	uint64_t batch;
	double raw[JF_COUNT], lib[JF_COUNT]; /* raw LMDB and the journal library alone, events/s */
	char why[512];
};

/* journal.batch_events of the base config (the embedded default). */
static uint64_t base_batch_events(const char *base)
{
	const char *j = strstr(base, "\njournal:\n");
	const char *b = j ? strstr(j, "\n  batch_events: ") : NULL;
	return b ? strtoull(b + strlen("\n  batch_events: "), NULL, 10) : 0;
}

/* One line of `fks bench journal --json`: its mode, if it is the quote
 * cell's median rate of `writer`, and the value. */
static bool journal_rate_line(const char *line, const char *writer, int *mode, double *v)
{
	char w[48];
	snprintf(w, sizeof w, "\"writer\":\"%s\"", writer);
	const char *val = strstr(line, "\"value\":");
	if (!val || !strstr(line, w) || !strstr(line, "\"metric\":\"rate\",") || !strstr(line, "\"event\":\"quote\""))
		return false;
	for (int m = 0; m < JF_COUNT; m++) {
		char mk[48];
		snprintf(mk, sizeof mk, "\"mode\":\"%s\"", jf_mode_names[m]);
		if (strstr(line, mk)) {
			*mode = m;
			*v = strtod(val + 8, NULL);
			return *v > 0;
		}
	}
	return false;
}

static void measure_journal_floor(const struct env *e, struct journal_floor *f)
{
	char batch_s[32];
	snprintf(batch_s, sizeof batch_s, "%" PRIu64, f->batch);
	char *argv[] = { (char *)e->exe, "bench", "journal", "--modes", "durable,async", "--batches", batch_s,
			 "--order-batch", "0", "--repeat", "3", "--json", NULL };
	fprintf(stderr, PROG ": journal floor: %s bench journal --modes durable,async --batches %s --order-batch 0 "
		"--repeat 3 --json\n", e->exe, batch_s);
	struct child_out co;
	char why[256];
	if (run_child(e->exe, argv, &co, why, sizeof why) < 0) {
		snprintf(f->why, sizeof f->why, "cannot run %.200s: %.200s", e->exe, why);
		return;
	}
	if (!exited_ok(co.status)) {
		char st[128];
		describe_status(co.status, st, sizeof st);
		snprintf(f->why, sizeof f->why, "fks bench journal %s", st);
		show_text("stderr of fks bench journal", co.err);
		child_out_free(&co);
		return;
	}
	for (const char *p = co.out; *p;) {
		size_t n = strcspn(p, "\n");
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
		int m;
		double v;
		if (journal_rate_line(line, "raw", &m, &v))
			f->raw[m] = v, f->ok[m] = true;
		else if (journal_rate_line(line, "journal", &m, &v))
			f->lib[m] = v;
		p += n + (p[n] != 0);
	}
	if (!f->ok[JF_DURABLE] || !f->ok[JF_ASYNC]) {
		snprintf(f->why, sizeof f->why, "fks bench journal printed no raw rate for %s",
			 f->ok[JF_DURABLE] ? "async" : "durable");
		show_text("stdout of fks bench journal", co.out);
	}
	for (int m = 0; m < JF_COUNT; m++)
		if (f->ok[m])
			fprintf(stderr, PROG ": journal floor: %s batch %" PRIu64 ": raw LMDB %.0f events/s, journal "
				"library %.0f events/s\n", jf_mode_names[m], f->batch, f->raw[m], f->lib[m]);
	child_out_free(&co);
}

/* ---- output ------------------------------------------------------------ */

/* text, word-wrapped to `width` columns, every line after `indent` spaces. */
static void print_wrapped(FILE *out, int indent, const char *text, int width)
{
	const char *p = text;
	while (*p) {
		int room = width - indent, len = (int)strlen(p);
		int n = len;
		if (len > room) {
			n = room;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = room;
		}
		fprintf(out, "%*s%.*s\n", indent, "", n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* The layouts as planned and, where a run printed it, as `fks run` ran them. */
static void print_layouts(FILE *out, const struct opts *o, const struct variant *var, const struct cell *cells,
			  unsigned n_cells)
{
	for (unsigned i = 0; i < o->n_layouts; i++) {
		enum layout_kind k = o->layout[i];
		char lay[512];
		fmt_placement(&var[k].P, lay, sizeof lay);
		const char *ran = NULL; /* what `fks run` itself printed: that is what ran */
		for (unsigned c = 0; c < n_cells && !ran; c++)
			if (cells[c].layout == k && cells[c].runners[0])
				ran = cells[c].runners;
		fprintf(out, "%s%s\n", i ? "          " : "layouts : ", layout_names[k]);
		char line[640];
		snprintf(line, sizeof line, "%s: %s", ran ? "fks run" : var[k].usable ? "planned" : "not run",
			 ran ? ran : lay);
		print_wrapped(out, 12, line, 100);
		if (var[k].note[0])
			print_wrapped(out, 12, var[k].note, 100);
	}
}

static void print_header(FILE *out, const struct env *e, const struct opts *o, const struct variant *var,
			 const struct floor *fl, const struct jitter *jit, const struct cell *cells, unsigned n_cells)
{
	fprintf(out, "fks bench pipeline - feed -> strategy -> risk -> gateway, one 'fks run' per row, %s\n", e->m.date);
	fprintf(out, "machine : %s; %d usable CPU%s (%ld online); %s\n", e->m.cpu_model, e->n_usable,
		e->n_usable == 1 ? "" : "s", e->m.cpus_online, e->m.kernel);
	fprintf(out, "command : %s\n", e->m.cmdline);
#if defined(__OPTIMIZE__)
	const char *opt = "optimized";
#else
	const char *opt = "NOT optimized";
#endif
#if defined(NDEBUG)
	const char *asserts = "assertions off";
#else
	const char *asserts = "assertions on";
#endif
	fprintf(out, "build   : %s, %s, %s\n", e->version[0] ? e->version : "fks (version unknown)", opt, asserts);
	fprintf(out, "config  : the embedded default (fks config default) without its runners and stages, the\n"
		     "          layout's placement appended, feed.rate substituted; journal.sync as in the\n"
		     "          default (durable) except in asap-async rows (async)\n");
	print_layouts(out, o, var, cells, n_cells);
	if (jit->ok)
		fprintf(out, "jitter  : a thread spinning on cpu%d (the hot runner's core) for %.1f s, this run: stalls\n"
			     "          > %u ns took %.3f%% of its time, the longest %.1f us; an event arriving at a\n"
			     "          random instant waits for the core p99 %.1f us, p99.9 %.1f us: the floor of a paced\n"
			     "          t2t tail on this core (bench/jitter.h)\n",
			jit->core, jit->seconds, JITTER_MIN_GAP_NS, jit->stalled_share * 100, (double)jit->longest_ns / 1e3,
			(double)jit->wait_p99_ns / 1e3, (double)jit->wait_p999_ns / 1e3);
	else
		fprintf(out, "jitter  : not measured: %s\n", jit->why);
	if (fl->ok)
		fprintf(out, "floor   : %d hops (md, orders, risk_out) x one-way p50 %.1f ns = %.1f ns\n"
			     "          (fks bench ring --only fks: rtt p50 %.1f ns / 2, cpu0 <-> cpu1, this run)\n",
			FLOOR_HOPS, fl->one_way, fl->total, fl->rtt_p50);
	else
		fprintf(out, "floor   : not measured: %s\n", fl->why);
	fprintf(out, "events  :");
	for (unsigned i = 0; i < o->n_rates; i++) {
		char r[32];
		fmt_rate(r, sizeof r, o->rate[i]);
		fprintf(out, "%s %s %" PRIu64, i ? "," : "", r,
			o->events ? o->events : default_events(o->rate[i].per_s));
	}
	fprintf(out, "%s\n", o->events ? " (--events)" : "");
	fprintf(out, "rate    : achieved = events the feed wrote / the run's seconds (fks run's wall time, start-up\n"
		     "          and drain included) = market events through the gateway / s (checked equal);\n"
		     "          gw in/s adds the orders and risk rejects the gateway also received;\n"
		     "          late = seconds - events / offered: start-up and drain (a few ms) plus any backlog;\n"
		     "          feed %% = the feed's own rate over its life (its first to its last event: the\n"
		     "          run's start-up and drain left out) / offered: what the pipeline sustained\n");
	fprintf(out, "t2t     : tick-to-trade, feed stamp -> order handed to the venue, over every order: paced\n"
		     "          runs stamp the INTENDED send time (queueing counts, no coordinated omission), asap\n"
		     "          runs the time the feed wrote the event; percentiles are the upper edges of the\n"
		     "          summary histogram's buckets (at most 6.25%% above the true value);\n"
		     "          x floor = t2t p50 / the floor\n");
}

static void print_table(FILE *out, const struct cell *cells, unsigned n, const struct floor *fl)
{
	bool any_max = false;
	for (unsigned i = 0; i < n; i++)
		any_max = any_max || (cells[i].ok && cells[i].have_max);
	fprintf(out, "\ntick-to-trade in us\n");
	fprintf(out, "%-18s | %10s | %8s | %6s | %6s | %8s | %9s | %7s | %7s | %8s | %9s | %8s | %9s | %9s%s\n", "layout",
		"offered", "achieved", "of off", "feed %", "gw in/s", "events", "orders", "seconds", "late ms", "t2t p50",
		"x floor", "t2t p99", "t2t p99.9", any_max ? " |   t2t max" : "");
	fprintf(out, "-------------------+------------+----------+--------+--------+----------+-----------+---------+---------+"
		     "----------+-----------+----------+-----------+----------%s\n",
		any_max ? "-+-----------" : "");
	for (unsigned i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		char rate_s[32];
		fmt_rate(rate_s, sizeof rate_s, c->rate);
		if (!c->ok) {
			fprintf(out, "%-18s | %10s | %s: %s\n", layout_names[c->layout], rate_s,
				c->ran ? "FAILED" : "not run", c->ran ? c->why : "");
			continue;
		}
		char ach[16], gw[16], pct[16], fpct[16] = "-", late[16], ratio[16] = "-", mx[24] = "";
		double rate = c->feed_out / c->seconds;
		uint64_t offered = c->rate.per_s;
		fmt_si(ach, sizeof ach, rate);
		fmt_si(gw, sizeof gw, c->gw_in / c->seconds);
		if (offered) {
			snprintf(pct, sizeof pct, "%.1f%%", 100.0 * rate / (double)offered);
			snprintf(late, sizeof late, "%.0f", 1e3 * (c->seconds - (double)c->events / (double)offered));
			if (c->feed_wall_ns > 0)
				snprintf(fpct, sizeof fpct, "%.1f%%",
					 100.0 * c->feed_out / (c->feed_wall_ns / 1e9) / (double)offered);
		} else {
			snprintf(pct, sizeof pct, "-");
			snprintf(late, sizeof late, "-");
		}
		if (fl->ok)
			snprintf(ratio, sizeof ratio, "%.0f", c->p50 / fl->total);
		if (any_max) {
			if (c->have_max)
				snprintf(mx, sizeof mx, " | %9.1f", c->max / 1e3);
			else
				snprintf(mx, sizeof mx, " | %9s", "-");
		}
		fprintf(out,
			"%-18s | %10s | %8s | %6s | %6s | %8s | %9" PRIu64 " | %7.0f | %7.2f | %8s | %9.1f | %8s | %9.1f | "
			"%9.1f%s\n",
			layout_names[c->layout], rate_s, ach, pct, fpct, gw, c->events, c->gw_orders, c->seconds, late,
			c->p50 / 1e3, ratio, c->p99 / 1e3, c->p999 / 1e3, mx);
	}
	if (!any_max)
		fprintf(out, "(t2t max: not in fks run's --json summary)\n");
}

/* The asap rows' live journal against the journal floor of its sync mode. */
static void print_journal_table(FILE *out, const struct cell *cells, unsigned n, const struct journal_floor *jf)
{
	if (!jf->wanted)
		return;
	if (!jf->ok[JF_DURABLE] && !jf->ok[JF_ASYNC]) {
		fprintf(out, "\njournal floor: not measured: %s\n", jf->why);
		return;
	}
	fprintf(out, "\nthe live journal beside raw LMDB at batch %" PRIu64 " (fks bench journal, this run), events/s\n",
		jf->batch);
	fprintf(out, "%-18s | %10s | %7s | %8s | %9s | %8s | %8s | %8s | %9s | %8s\n", "layout", "rate", "sync", "e2e",
		"ev/commit", "capacity", "raw", "library", "e2e/raw", "cap/raw");
	fprintf(out, "-------------------+------------+---------+----------+-----------+----------+----------+----------"
		     "+-----------+---------\n");
	for (unsigned i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		int m = c->rate.async ? JF_ASYNC : JF_DURABLE;
		if (!c->ok || c->rate.per_s || !jf->ok[m])
			continue;
		char rate_s[32], e2e[16], cap[16], raw[16], lib[16];
		fmt_rate(rate_s, sizeof rate_s, c->rate);
		double r_e2e = c->jn_events / c->seconds, r_cap = c->jn_busy_ns > 0 ? c->jn_events * 1e9 / c->jn_busy_ns : 0;
		fmt_si(e2e, sizeof e2e, r_e2e);
		fmt_si(cap, sizeof cap, r_cap);
		fmt_si(raw, sizeof raw, jf->raw[m]);
		fmt_si(lib, sizeof lib, jf->lib[m]);
		fprintf(out, "%-18s | %10s | %7s | %8s | %9.0f | %8s | %8s | %8s | %8.0f%% | %7.0f%%\n",
			layout_names[c->layout], rate_s, jf_mode_names[m], e2e,
			c->jn_commits > 0 ? c->jn_events / c->jn_commits : 0, cap, raw, lib, 100 * r_e2e / jf->raw[m],
			100 * r_cap / jf->raw[m]);
	}
	fprintf(out, "e2e = journal events committed / the run's seconds; capacity = journal events / the journal\n"
		     "stage's busy seconds (appending and committing); raw, library = fks bench journal's raw LMDB\n"
		     "floor and its journal-library writer, median of 3 runs; target: live >= 70%% of raw\n");
}

static void json_metric(const struct cell *c, const char *metric, double value, const char *unit, int decimals)
{
	char rate[32];
	if (c->rate.per_s)
		snprintf(rate, sizeof rate, "%" PRIu64, c->rate.per_s);
	else
		snprintf(rate, sizeof rate, "\"%s\"", c->rate.async ? "asap-async" : "asap");
	printf("{\"layout\":\"%s\",\"rate\":%s,\"metric\":\"%s\",\"value\":%.*f,\"unit\":\"%s\"}\n",
	       layout_names[c->layout], rate, metric, decimals, value, unit);
}

static void print_json(const struct cell *cells, unsigned n, const struct floor *fl, const struct journal_floor *jf)
{
	for (int m = 0; m < JF_COUNT; m++)
		if (jf->ok[m])
			printf("{\"metric\":\"journal_floor\",\"sync\":\"%s\",\"batch\":%" PRIu64 ",\"value\":%.0f,"
			       "\"library\":%.0f,\"unit\":\"events/s\"}\n",
			       jf_mode_names[m], jf->batch, jf->raw[m], jf->lib[m]);
	if (fl->ok)
		printf("{\"metric\":\"floor\",\"hops\":%d,\"one_way_p50_ns\":%.1f,\"rtt_p50_ns\":%.1f,\"value\":%.1f,"
		       "\"unit\":\"ns\"}\n",
		       FLOOR_HOPS, fl->one_way, fl->rtt_p50, fl->total);
	for (unsigned i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		if (!c->ok)
			continue;
		json_metric(c, "achieved_rate", c->feed_out / c->seconds, "events/s", 0);
		json_metric(c, "gateway_in_rate", c->gw_in / c->seconds, "events/s", 0);
		json_metric(c, "events", c->feed_out, "events", 0);
		json_metric(c, "orders", c->gw_orders, "orders", 0);
		json_metric(c, "seconds", c->seconds, "s", 3);
		if (c->rate.per_s && c->feed_wall_ns > 0)
			json_metric(c, "feed_sustained", c->feed_out / (c->feed_wall_ns / 1e9), "events/s", 0);
		if (c->rate.per_s)
			json_metric(c, "late", c->seconds - (double)c->events / (double)c->rate.per_s, "s", 3);
		json_metric(c, "t2t_p50", c->p50, "ns", 0);
		json_metric(c, "t2t_p99", c->p99, "ns", 0);
		json_metric(c, "t2t_p999", c->p999, "ns", 0);
		if (c->have_max)
			json_metric(c, "t2t_max", c->max, "ns", 0);
		if (fl->ok)
			json_metric(c, "t2t_p50_over_floor", c->p50 / fl->total, "x", 1);
		json_metric(c, "journal_rate", c->jn_events / c->seconds, "events/s", 0);
		json_metric(c, "journal_events_per_commit", c->jn_commits > 0 ? c->jn_events / c->jn_commits : 0,
			    "events", 1);
		int m = c->rate.async ? JF_ASYNC : JF_DURABLE;
		if (!c->rate.per_s && jf->ok[m] && c->jn_busy_ns > 0) {
			double cap = c->jn_events * 1e9 / c->jn_busy_ns;
			json_metric(c, "journal_capacity", cap, "events/s", 0);
			json_metric(c, "journal_over_floor", c->jn_events / c->seconds / jf->raw[m], "ratio", 3);
			json_metric(c, "journal_capacity_over_floor", cap / jf->raw[m], "ratio", 3);
		}
	}
	fflush(stdout);
}

/* ---- entry ------------------------------------------------------------- */

/* The base config, from `fks config default`: 0, or -1 (said on stderr). */
static int read_base(const struct env *e, struct child_out *base)
{
	char why[256];
	char *argv[] = { (char *)e->exe, "config", "default", NULL };
	if (run_child(e->exe, argv, base, why, sizeof why) < 0) {
		fprintf(stderr, PROG ": cannot run '%s config default': %s\n", e->exe, why);
		return -1;
	}
	if (!exited_ok(base->status)) {
		char st[128];
		describe_status(base->status, st, sizeof st);
		fprintf(stderr, PROG ": '%s config default' %s\n", e->exe, st);
		show_text("stderr of fks config default", base->err);
		child_out_free(base);
		return -1;
	}
	return 0;
}

/* The version string names the commit (and -dirty): which code ran. */
static void read_version(struct env *e)
{
	char why[256];
	struct child_out ver;
	char *argv[] = { e->exe, "--version", NULL };
	if (run_child(e->exe, argv, &ver, why, sizeof why) == 0) {
		if (exited_ok(ver.status))
			snprintf(e->version, sizeof e->version, "%.*s", (int)strcspn(ver.out, "\n"), ver.out);
		child_out_free(&ver);
	}
}

/* A placement per layout and a cell per (layout, rate), in that order.
 * Returns the number of cells; *failed is set when a layout has none. */
static unsigned plan_cells(const struct env *e, const struct opts *o, const char *base, struct variant *var,
			   struct cell *cells, bool *failed)
{
	unsigned n = 0;
	for (unsigned i = 0; i < o->n_layouts; i++) {
		enum layout_kind k = o->layout[i];
		resolve_layout(e, base, k, &var[k]);
		if (!var[k].usable)
			*failed = true;
		for (unsigned r = 0; r < o->n_rates; r++) {
			struct cell *c = &cells[n++];
			c->layout = k;
			c->rate = o->rate[r];
			c->events = o->events ? o->events : default_events(o->rate[r].per_s);
			if (!var[k].usable) {
				c->ran = true; /* failed before it could run */
				snprintf(c->why, sizeof c->why, "no %s placement this machine's config accepts (see above)",
					 layout_names[k]);
			}
		}
	}
	return n;
}

int bench_pipeline_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	static struct env env;
	memset(&env, 0, sizeof env);
	ssize_t n = readlink("/proc/self/exe", env.exe, sizeof env.exe - 1);
	if (n <= 0) {
		fprintf(stderr, PROG ": readlink /proc/self/exe: %s\n", n < 0 ? strerror(errno) : "empty");
		return 1;
	}
	env.exe[n] = 0;
	read_env(&env, argc, argv);

	struct sigaction sa, saved[NHANDLED];
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < NHANDLED; i++)
		sigaction(handled_signals[i], &sa, &saved[i]);

	int exit_code = 0;
	static struct cell cells[L_COUNT * MAX_RATES];
	static struct variant var[L_COUNT];
	static struct floor fl;
	static struct journal_floor jf;
	static struct jitter jit;
	memset(&jf, 0, sizeof jf);
	memset(cells, 0, sizeof cells);
	memset(var, 0, sizeof var);
	struct child_out base;
	if (read_base(&env, &base) < 0) {
		exit_code = 1;
		goto out;
	}
	read_version(&env);
	bool failed = false;
	unsigned n_cells = plan_cells(&env, &o, base.out, var, cells, &failed);
	unsigned count = 0, idx = 0;
	for (unsigned k = 0; k < n_cells; k++)
		count += !cells[k].ran;
	uint64_t t0 = (uint64_t)clock_mono_ns();
	/* The floor first, in the same run, so every row can be read against it. */
	if (!g_signal)
		measure_floor(&env, &fl);
	if (!fl.ok && !g_signal) {
		fprintf(stderr, PROG ": floor: FAILED: %s\n", fl.why);
		failed = true;
	}
	/* The floor of the tail: the hot core's own stalls, same run. */
	if (!g_signal) {
		jitter_measure(env.n_usable ? env.usable[env.n_usable - 1] : 0, JITTER_SECONDS, &jit);
		if (jit.ok)
			fprintf(stderr, PROG ": jitter: cpu%d %.1f s: %" PRIu64 " stalls, wait p99 %.1f us, longest %.1f us\n",
				jit.core, jit.seconds, jit.stalls, (double)jit.wait_p99_ns / 1e3, (double)jit.longest_ns / 1e3);
	}
	for (unsigned r = 0; r < o.n_rates; r++)
		jf.wanted = jf.wanted || !o.rate[r].per_s;
	jf.batch = base_batch_events(base.out);
	if (jf.wanted && !jf.batch)
		snprintf(jf.why, sizeof jf.why, "the default config has no journal.batch_events");
	else if (jf.wanted && !g_signal)
		measure_journal_floor(&env, &jf);
	if (jf.wanted && !(jf.ok[JF_DURABLE] && jf.ok[JF_ASYNC]) && !g_signal) {
		fprintf(stderr, PROG ": journal floor: FAILED: %s\n", jf.why);
		failed = true;
	}
	for (unsigned k = 0; k < n_cells && !g_signal; k++) {
		struct cell *c = &cells[k];
		if (c->ran)
			continue;
		run_cell(&env, base.out, &var[c->layout].P, c, ++idx, count);
		failed = failed || !c->ok;
	}
	child_out_free(&base);
	if (g_signal) {
		fprintf(stderr, PROG ": interrupted by %s after %.1f s; no results\n", strsignal(g_signal),
			(double)((uint64_t)clock_mono_ns() - t0) / 1e9);
		remove_tmp_config();
		for (size_t i = 0; i < NHANDLED; i++)
			sigaction(handled_signals[i], &saved[i], NULL);
		raise(g_signal);
		return 1;
	}
	fprintf(stderr, PROG ": the floor and %u runs in %.1f s\n", idx, (double)((uint64_t)clock_mono_ns() - t0) / 1e9);
	exit_code = failed ? 1 : 0;

	if (o.json) {
		print_json(cells, n_cells, &fl, &jf);
		print_header(stderr, &env, &o, var, &fl, &jit, cells, n_cells);
	} else {
		print_header(stdout, &env, &o, var, &fl, &jit, cells, n_cells);
		print_table(stdout, cells, n_cells, &fl);
		print_journal_table(stdout, cells, n_cells, &jf);
		fflush(stdout);
	}
out:
	for (size_t i = 0; i < NHANDLED; i++)
		sigaction(handled_signals[i], &saved[i], NULL);
	return exit_code;
}
