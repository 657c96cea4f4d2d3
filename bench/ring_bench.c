/*
 * `fks bench ring`: latency and throughput of the FKS SPSC ring beside the
 * physical floor (one cache line each way), DPDK rte_ring, ck_ring, a unix
 * socketpair and a pair of pipes - in one run, on one machine, through the
 * same loops (harness.h).
 *
 * Per transport: the parent (cpu0) sets the transport up, forks a child
 * (cpu1), and both attach.  Then
 *   latency     parent sends one event on A, child echoes it on B; the parent
 *               times each round trip with the TSC.  10% warm-up discarded.
 *   throughput  parent sends seq 1..N on A, in batches of 1 and then 32; the
 *               child checks strict order and a checksum and reports the sum
 *               and its end time; the parent compares the sum with one it
 *               computes itself.  Rate = N / (child's end - parent's start).
 * Phases are sequenced through a small control block in shared memory.
 *
 * Safety: the child has PR_SET_PDEATHSIG(SIGKILL); a watchdog thread in the
 * parent notices a child that dies early and stops the parent's spin loops
 * (or, if the parent is stuck inside a transport's own wait, removes the shm
 * names and exits).  SIGINT/SIGTERM/SIGHUP remove the shm names too.
 */
#include "bench/bench.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "bench/harness.h"
#include "shm/clock.h"

#define PROG "fks bench ring"

#define DEFAULT_ROUNDTRIPS 1000000ull
#define MAX_ROUNDTRIPS 100000000ull /* 800 MB of samples */
#define MAX_EVENTS 1000000000000ull
#define DEFAULT_REPEAT 5
#define MAX_REPEAT 101
#define PROGRESS_EVERY_NS 2000000000ull
#define CALIBRATE_NS 200000000ull

/* ---- small helpers ----------------------------------------------------- */

int bx_fail(struct bx *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, sizeof x->err, fmt, ap);
	va_end(ap);
	return -1;
}

int bx_map_shared(struct bx *x, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return bx_fail(x, "mmap(%zu bytes, MAP_SHARED|MAP_ANONYMOUS): %s", len, strerror(errno));
	x->shared = p;
	x->shared_len = len;
	return 0;
}

void bx_unmap_shared(struct bx *x)
{
	if (x->shared)
		munmap(x->shared, x->shared_len);
	x->shared = NULL;
	x->shared_len = 0;
}

/* ---- transports -------------------------------------------------------- */

struct slot {
	const char *name;
	const struct bench_xport *t; /* NULL: not built */
	const char *missing;         /* why, when t is NULL */
	bool spins;                  /* busy-waits: needs two CPUs */
};

static const struct slot slots[] = {
	{ "floor", &bench_xport_floor, NULL, true },
	{ "fks", &bench_xport_fks, NULL, true },
#if FKS_HAVE_DPDK
	{ "rte_ring", &bench_xport_rte, NULL, true },
#else
	{ "rte_ring", NULL, "built without DPDK (libdpdk not found, or -Ddpdk=disabled)", true },
#endif
	{ "ck_ring", &bench_xport_ck, NULL, true },
	{ "unix", &bench_xport_unix, NULL, false },
	{ "pipe", &bench_xport_pipe, NULL, false },
};
#define NSLOTS (sizeof slots / sizeof slots[0])

enum { S_FLOOR, S_FKS, S_RTE, S_CK, S_UNIX, S_PIPE };

/* ---- options ----------------------------------------------------------- */

struct opts {
	bool json;
	uint64_t roundtrips;
	uint64_t events; /* 0: per-transport default */
	uint64_t repeat; /* rounds: every transport once per round, interleaved */
	bool want[NSLOTS];
};

static const char usage_head[] =
	"usage: " PROG " [--json] [--roundtrips N] [--events N] [--repeat K] [--only LIST]\n"
	"\n"
	"Latency (round-trip ping-pong) and throughput of the FKS shared-memory SPSC\n"
	"ring beside the cache-line floor, DPDK rte_ring, ck_ring, an AF_UNIX socketpair\n"
	"and pipes.  Two processes pinned to cpu0 (parent) and cpu1 (child), 64-byte\n"
	"events, every transport through the same measurement loops.\n"
	"\n"
	"options:\n";
static const char usage_tail[] =
	"  -h, --help      show this text\n"
	"\n"
	"N takes an optional k, M or G suffix (10^3, 10^6, 10^9).\n"
	"Progress goes to stderr.  Exit status: 0 ok, 1 a transport failed (error,\n"
	"out-of-order event or checksum mismatch), 2 usage error.  Missed performance\n"
	"targets are reported, not an error.\n";

static void usage(FILE *out, const struct opt_table *t)
{
	fputs(usage_head, out);
	opts_print_help(t, out);
	fputs(usage_tail, out);
}

static int only_item(const char *p, size_t len, void *ctx)
{
	bool *want = ctx;
	for (size_t i = 0; i < NSLOTS; i++)
		if (strlen(slots[i].name) == len && !strncmp(slots[i].name, p, len)) {
			want[i] = true;
			return 0;
		}
	return bench_option_error(PROG,
				  "--only: unknown transport '%.*s' (known: floor, fks, rte_ring, ck_ring, unix, pipe)",
				  (int)len, p);
}

/* --only LIST: the transports to run, in place of all of them. */
static bool take_only(void *ctx, char *s)
{
	bool *want = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--only needs a list, e.g. --only fks,rte_ring");
	memset(want, 0, NSLOTS * sizeof want[0]);
	return !bench_each_item(PROG, "--only", "fks,rte_ring", s, only_item, want);
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->roundtrips = DEFAULT_ROUNDTRIPS;
	o->repeat = DEFAULT_REPEAT;
	for (size_t i = 0; i < NSLOTS; i++)
		o->want[i] = true;
	/* the defaults and limits are the macros above: the texts are built */
	char roundtrips_help[128], repeat_help[128], roundtrips_max[64], events_max[64], repeat_max[64];
	snprintf(roundtrips_help, sizeof roundtrips_help,
		 "measured round trips per transport (default %llu),\nplus 10%% warm-up that is discarded",
		 DEFAULT_ROUNDTRIPS);
	snprintf(repeat_help, sizeof repeat_help,
		 "rounds (default %d): each runs every transport once,\nA B C A B C ...; ratios are taken "
		 "within a round",
		 DEFAULT_REPEAT);
	snprintf(roundtrips_max, sizeof roundtrips_max, "a number from 1 to %llu", MAX_ROUNDTRIPS);
	snprintf(events_max, sizeof events_max, "a number from 1 to %llu", MAX_EVENTS);
	snprintf(repeat_max, sizeof repeat_max, "a number from 1 to %d", MAX_REPEAT);
	const struct opt options[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = &o->json,
		  .help = "one JSON object per line per transport and metric on stdout,\n"
			  "instead of the table (header and targets go to stderr)" },
		{ .name = "roundtrips", .kind = OPT_COUNT, .dest = &o->roundtrips, .arg = "N", .help = roundtrips_help,
		  .expect = roundtrips_max, .umin = 1, .umax = MAX_ROUNDTRIPS },
		{ .name = "events", .kind = OPT_COUNT, .dest = &o->events, .arg = "N",
		  .help = "events per throughput run, for every transport (default:\n"
			  "20M for fks, rte_ring and ck_ring, 2M for unix and pipe)",
		  .expect = events_max, .umin = 1, .umax = MAX_EVENTS },
		{ .name = "repeat", .kind = OPT_COUNT, .dest = &o->repeat, .arg = "K", .help = repeat_help,
		  .expect = repeat_max, .umin = 1, .umax = MAX_REPEAT },
		{ .name = "only", .kind = OPT_CALL, .call = take_only, .ctx = o->want, .arg = "LIST",
		  .help = "comma-separated subset of floor,fks,rte_ring,ck_ring,unix,pipe" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = PROG, .help_col = 18, .opts = options };
	return bench_parse_options(&t, argc, argv, usage);
}

/* ---- the machine ------------------------------------------------------- */

struct env {
	struct bench_machine m;
	int cpus_usable;
	bool pinned;
	bool have_orig_mask;
	cpu_set_t orig_mask;
	double tsc_hz;
	double timer_ns; /* cost of an empty begin/end pair */
	double pause_ns; /* one PAUSE */
};

/* Pin the parent to cpu0 if cpu0 and cpu1 are both usable; else warn and run
 * unpinned.  The original mask is restored at the end. */
static void pin_parent(struct env *e)
{
	e->pinned = false;
	e->cpus_usable = (int)(e->m.cpus_online > 0 ? e->m.cpus_online : 1);
	if (sched_getaffinity(0, sizeof e->orig_mask, &e->orig_mask) != 0) {
		fprintf(stderr, PROG ": warning: sched_getaffinity: %s; running unpinned\n", strerror(errno));
		return;
	}
	e->have_orig_mask = true;
	e->cpus_usable = CPU_COUNT(&e->orig_mask);
	for (int cpu = 0; cpu < 2; cpu++) {
		if (CPU_ISSET(cpu, &e->orig_mask))
			continue;
		struct stat st;
		char path[64];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", cpu);
		if (stat(path, &st) != 0)
			fprintf(stderr,
				PROG ": warning: cpu%d does not exist (%ld CPU%s online): running "
				     "parent and child unpinned\n",
				cpu, e->m.cpus_online, e->m.cpus_online == 1 ? "" : "s");
		else
			fprintf(stderr,
				PROG ": warning: cpu%d is not in this process's allowed CPU set "
				     "(taskset/cgroup cpuset?): running parent and child unpinned\n",
				cpu);
		return;
	}
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof one, &one) != 0) {
		fprintf(stderr, PROG ": warning: pinning to cpu0 failed: %s; running unpinned\n",
			strerror(errno));
		return;
	}
	e->pinned = true;
}

static void unpin_parent(struct env *e)
{
	if (e->pinned && e->have_orig_mask && sched_setaffinity(0, sizeof e->orig_mask, &e->orig_mask) != 0)
		fprintf(stderr, PROG ": warning: restoring the CPU mask: %s\n", strerror(errno));
}

/* One (TSC, CLOCK_MONOTONIC) pair, taken from the tightest of a few tries. */
static void tsc_mono_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 16; i++) {
		uint64_t a = (uint64_t)clock_mono_ns();
		uint64_t t = hx_tsc_begin();
		uint64_t b = (uint64_t)clock_mono_ns();
		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}

static void calibrate(struct env *e)
{
	uint64_t c0, n0, c1, n1;
	tsc_mono_pair(&c0, &n0);
	struct timespec ts = { 0, (long)CALIBRATE_NS };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	tsc_mono_pair(&c1, &n1);
	e->tsc_hz = (double)(c1 - c0) * 1e9 / (double)(n1 - n0);

	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 10000; i++) {
		uint64_t a = hx_tsc_begin();
		uint64_t b = hx_tsc_end();
		if (b - a < best)
			best = b - a;
	}
	e->timer_ns = (double)best * 1e9 / e->tsc_hz;

	best = UINT64_MAX;
	for (int r = 0; r < 20; r++) {
		uint64_t a = hx_tsc_begin();
		for (int i = 0; i < 1000; i++)
			hx_relax();
		uint64_t b = hx_tsc_end();
		if (b - a < best)
			best = b - a;
	}
	e->pause_ns = (double)best * 1e9 / e->tsc_hz / 1000.0;
}

/* ---- control block shared by parent and child -------------------------- */

struct bench_ctl {
	_Alignas(128) _Atomic uint32_t child_stage; /* see child_main */
	_Atomic uint32_t child_ok;                  /* set just before a clean exit */
	_Alignas(128) uint64_t t_end_ns[2];         /* throughput b1, b32: child's end time */
	uint64_t sum[2];
	char child_err[320];
};

enum {
	STAGE_ATTACHED = 1, /* opened, about to echo; throughput run r (batch r % 2,
	                       repetition r / 2) is then stage_ready(r), stage_done(r) */
};

/* ---- watchdog ---------------------------------------------------------- */

struct watchdog {
	pthread_t th;
	bool running;
	pid_t pid;
	struct bench_ctl *ctl;
	struct bx *x;
	_Atomic int abort;     /* child died early: parent loops stop */
	_Atomic int main_done; /* parent finished (or is killing the child itself) */
};

static struct watchdog g_watch;
static struct bx *volatile g_current; /* for the signal handler */

static void describe_status(char *buf, size_t cap, int code, int status)
{
	if (code == CLD_EXITED)
		snprintf(buf, cap, "exited with status %d", status);
	else if (code == CLD_KILLED || code == CLD_DUMPED)
		snprintf(buf, cap, "was killed by signal %d (%s)", status, strsignal(status));
	else
		snprintf(buf, cap, "stopped (code %d)", code);
}

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	siginfo_t si;
	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOWAIT) == 0)
			break;
		if (errno != EINTR)
			return NULL; /* already reaped by the main thread */
	}
	if (atomic_load(&w->main_done))
		return NULL;
	if (si.si_code == CLD_EXITED && si.si_status == 0 && atomic_load(&w->ctl->child_ok))
		return NULL;
	atomic_store(&w->abort, 1);
	/* The main thread's own loops see `abort` within microseconds.  A loop
	 * inside a transport (e.g. a ring's own spin) may not: give it 3 s. */
	for (int i = 0; i < 300; i++) {
		if (atomic_load(&w->main_done))
			return NULL;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	char st[128];
	describe_status(st, sizeof st, si.si_code, si.si_status);
	char msg[640];
	int n = snprintf(msg, sizeof msg,
			 PROG ": %s: the child process %s%s%s, and the parent has been stuck waiting "
			      "for it for 3 s; removing shm names and exiting\n",
			 w->x->t->name, st, w->ctl->child_err[0] ? ": " : "", w->ctl->child_err);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	if (w->x->t->emergency)
		w->x->t->emergency(w->x);
	_exit(1);
}

/* ---- signals ----------------------------------------------------------- */

static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])

struct saved_signals {
	struct sigaction fatal[NFATAL];
	struct sigaction pipe;
};

static void on_fatal_signal(int sig)
{
	struct bx *x = g_current;
	if (x && x->t->emergency)
		x->t->emergency(x);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(struct saved_signals *s)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_fatal_signal;
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &sa, &s->fatal[i]);
	/* A dead peer must show up as EPIPE from write(), not kill us. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &s->pipe);
}

static void restore_signals(const struct saved_signals *s)
{
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &s->fatal[i], NULL);
	sigaction(SIGPIPE, &s->pipe, NULL);
}

/* ---- results ----------------------------------------------------------- */

enum rstate { RES_NOT_RUN = 0, RES_SKIPPED, RES_OK, RES_FAILED };

/* One transport over all rounds.  Latency pools the rounds' samples;
 * throughput is the median of the rounds' rates.  The per-round figures
 * stay, for the ratios of runs taken side by side (print_ratios). */
struct result {
	enum rstate state;
	char why[640];
	bool lat;
	double p50, p99, p999, max; /* RTT, ns, over every round's samples */
	uint64_t samples;
	bool tput[2];
	double rate[2]; /* events/s, batch 1 and 32: median of the rounds */
	uint64_t events;
	uint64_t rounds;                     /* rounds completed */
	double round_p50[MAX_REPEAT];        /* RTT p50 of each round */
	double round_rate[2][MAX_REPEAT];    /* each round's rates */
	uint64_t *samples_all;               /* every round's RTT samples, in ticks */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of n values (sorts them in place). */
static double median(double *v, uint64_t n)
{
	qsort(v, n, sizeof v[0], cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static uint64_t pct(const uint64_t *s, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)ceil(p * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return s[rank - 1];
}

static uint64_t expected_sum(uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t s = 1; s <= n; s++)
		sum += bench_ev_mix(s, bench_px_of(s), bench_qty_of(s));
	return sum;
}

/* ---- one transport ----------------------------------------------------- */

struct run_ctx {
	const struct opts *o;
	struct env *env;
	struct bench_ctl *ctl;
	uint64_t *samples;     /* this round's part of the transport's samples */
	uint64_t roundtrips;   /* measured in this round */
	uint64_t round;        /* 0 .. repeat-1 */
	unsigned idx, count; /* for "[2/6]" */
	uint64_t warm;
};

static void progress_parent(struct bx *x, const char *what, uint64_t done, uint64_t total)
{
	uint64_t now = (uint64_t)clock_mono_ns();
	if (now - x->progress_last_ns < PROGRESS_EVERY_NS)
		return;
	x->progress_last_ns = now;
	fprintf(stderr, PROG ":        %s: %s %" PRIu64 " / %" PRIu64 " (%.0f%%)\n", x->t->name, what, done,
		total, 100.0 * (double)done / (double)total);
}

static void progress_none(struct bx *x, const char *what, uint64_t done, uint64_t total)
{
	(void)x, (void)what, (void)done, (void)total;
}

static const _Atomic int never_abort;

static uint32_t stage_ready(uint64_t run) { return STAGE_ATTACHED + 1 + 2 * (uint32_t)run; }
static uint32_t stage_done(uint64_t run) { return STAGE_ATTACHED + 2 + 2 * (uint32_t)run; }

static void child_set_stage(struct bench_ctl *ctl, uint32_t s)
{
	atomic_store_explicit(&ctl->child_stage, s, memory_order_release);
}

static _Noreturn void child_fail(struct bx *x, struct bench_ctl *ctl, const char *what)
{
	snprintf(ctl->child_err, sizeof ctl->child_err, "%.40s: %.250s", what, x->err);
	fprintf(stderr, PROG ": %s: child: %s\n", x->t->name, ctl->child_err);
	_exit(1);
}

static _Noreturn void child_main(struct bx *x, const struct run_ctx *rc, pid_t parent, uint64_t events)
{
	struct bench_ctl *ctl = rc->ctl;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		bx_fail(x, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		child_fail(x, ctl, "setup");
	}
	if (getppid() != parent) /* the parent died before prctl */
		_exit(1);
	for (size_t i = 0; i < NFATAL; i++)
		signal(fatal_signals[i], SIG_DFL);
	g_current = NULL;

	x->side = BX_CHILD;
	x->abort = &never_abort;
	x->progress = progress_none;
	/* The parent has moved us to cpu1 already (see run_one). */
	if (x->t->open(x, BX_CHILD) < 0)
		child_fail(x, ctl, "open");
	child_set_stage(ctl, STAGE_ATTACHED);
	if (x->t->run.pong(x, rc->warm + rc->roundtrips) < 0)
		child_fail(x, ctl, "latency");
	for (uint64_t run = 0; x->t->has_tput && run < 2; run++) {
		unsigned b = run % 2;
		child_set_stage(ctl, stage_ready(run));
		if (x->t->run.consume(x, events, b ? BENCH_BATCH_MAX : 1, &ctl->sum[b]) < 0)
			child_fail(x, ctl, b ? "throughput b32" : "throughput b1");
		ctl->t_end_ns[b] = (uint64_t)clock_mono_ns();
		child_set_stage(ctl, stage_done(run));
	}
	x->t->close(x);
	atomic_store(&ctl->child_ok, 1);
	_exit(0);
}

static int wait_stage(struct bx *x, struct bench_ctl *ctl, uint32_t s)
{
	uint32_t spins = 0;
	while (atomic_load_explicit(&ctl->child_stage, memory_order_acquire) < s) {
		hx_relax();
		if (++spins > HX_ABORT_CHECK) {
			spins = 0;
			if (atomic_load_explicit(x->abort, memory_order_relaxed))
				return bx_fail(x, "the child process died");
		}
	}
	return 0;
}

static double ticks_ns(const struct env *e, uint64_t t)
{
	return (double)t * 1e9 / e->tsc_hz;
}

static int parent_phases(struct bx *x, const struct run_ctx *rc, uint64_t events, struct result *r)
{
	const struct opts *o = rc->o;
	struct bench_ctl *ctl = rc->ctl;
	const char *name = x->t->name;

	if (wait_stage(x, ctl, STAGE_ATTACHED) < 0)
		return -1;
	fprintf(stderr, PROG ": [%u/%u] round %" PRIu64 "/%" PRIu64 " %s: latency, %" PRIu64 " round trips + %" PRIu64
			" warm-up\n",
		rc->idx, rc->count, rc->round + 1, o->repeat, name, rc->roundtrips, rc->warm);
	uint64_t t0 = (uint64_t)clock_mono_ns();
	x->progress_last_ns = t0;
	if (x->t->run.ping(x, rc->samples, rc->warm, rc->roundtrips) < 0)
		return -1;
	double secs = (double)((uint64_t)clock_mono_ns() - t0) * 1e-9;
	/* This round's p50 from a sorted copy: the pooled samples are sorted
	 * once, after the last round. */
	uint64_t *sorted = malloc(rc->roundtrips * sizeof *sorted);
	if (!sorted)
		return bx_fail(x, "out of memory for %" PRIu64 " samples", rc->roundtrips);
	memcpy(sorted, rc->samples, rc->roundtrips * sizeof *sorted);
	qsort(sorted, rc->roundtrips, sizeof sorted[0], cmp_u64);
	r->round_p50[rc->round] = ticks_ns(rc->env, pct(sorted, rc->roundtrips, 0.50));
	double p99 = ticks_ns(rc->env, pct(sorted, rc->roundtrips, 0.99));
	free(sorted);
	r->samples += rc->roundtrips;
	r->lat = true;
	fprintf(stderr, PROG ": [%u/%u] %s: rtt p50 %.1f ns, p99 %.1f ns (%.1f s)\n", rc->idx, rc->count, name,
		r->round_p50[rc->round], p99, secs);

	if (!x->t->has_tput)
		return 0;
	r->events = events;
	uint64_t want = expected_sum(events);
	static const uint32_t batches[2] = { 1, BENCH_BATCH_MAX };
	for (uint64_t run = 0; run < 2; run++) {
		unsigned b = (unsigned)run;
		if (wait_stage(x, ctl, stage_ready(run)) < 0)
			return -1;
		fprintf(stderr, PROG ": [%u/%u] %s: throughput b%u, %" PRIu64 " events\n", rc->idx, rc->count, name,
			batches[b], events);
		t0 = (uint64_t)clock_mono_ns();
		x->progress_last_ns = t0;
		if (x->t->run.produce(x, events, batches[b]) < 0)
			return -1;
		if (wait_stage(x, ctl, stage_done(run)) < 0)
			return -1;
		uint64_t dt = ctl->t_end_ns[b] - t0;
		if (ctl->sum[b] != want)
			return bx_fail(x, "throughput b%u: checksum mismatch: consumer 0x%016" PRIx64
					  ", expected 0x%016" PRIx64,
				       batches[b], ctl->sum[b], want);
		r->round_rate[b][rc->round] = (double)events * 1e9 / (double)(dt ? dt : 1);
		fprintf(stderr, PROG ": [%u/%u] %s: throughput b%u %.2f Mev/s (%.2f s, checksum ok)\n", rc->idx,
			rc->count, name, batches[b], r->round_rate[b][rc->round] / 1e6, (double)dt * 1e-9);
	}
	return 0;
}

/* Move the child to cpu1 from here: it inherited our cpu0-only mask, and
 * we are about to spin on cpu0, so it might otherwise wait a whole
 * scheduler slice before it gets to run and move itself. */
static void pin_child(const struct bench_xport *t, const struct run_ctx *rc, pid_t pid)
{
	if (!rc->env->pinned)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	if (sched_setaffinity(pid, sizeof one, &one) != 0)
		fprintf(stderr, PROG ": warning: %s: pinning the child to cpu1 failed: %s; child left on cpu0 "
			"with the parent - spinning transports will crawl\n", t->name, strerror(errno));
}

static void start_watchdog(pid_t pid)
{
	g_watch.pid = pid;
	int perr = pthread_create(&g_watch.th, NULL, watchdog_main, &g_watch);
	if (perr)
		fprintf(stderr, PROG ": warning: no watchdog thread (%s): a child that dies early may go unnoticed\n",
			strerror(perr));
	g_watch.running = perr == 0;
}

/* Wait for the child; a run that went well fails here if the child did
 * not finish cleanly.  Returns the run's code. */
static int reap_child(struct bx *x, const struct run_ctx *rc, pid_t pid, int rcode)
{
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	char cst[160] = "";
	if (w < 0) {
		snprintf(cst, sizeof cst, "waitpid: %s", strerror(errno));
		if (rcode == 0)
			bx_fail(x, "%s", cst), rcode = -1;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (rcode == 0 && !atomic_load(&rc->ctl->child_ok))
			rcode = bx_fail(x, "the child exited without finishing");
	} else {
		if (WIFEXITED(status))
			describe_status(cst, sizeof cst, CLD_EXITED, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			describe_status(cst, sizeof cst, CLD_KILLED, WTERMSIG(status));
		if (rcode == 0)
			rcode = bx_fail(x, "the child %s", cst);
	}
	return rcode;
}

static void record_result(const struct bench_xport *t, const struct run_ctx *rc, const struct bx *x, int rcode,
			  const char *early, struct result *r)
{
	if (rcode >= 0) {
		if (r->state != RES_FAILED)
			r->state = RES_OK;
		r->rounds++;
		return;
	}
	r->state = RES_FAILED;
	if (rc->ctl->child_err[0])
		snprintf(r->why, sizeof r->why, "child: %.320s (parent: %.250s)", rc->ctl->child_err, x->err);
	else if (early[0])
		snprintf(r->why, sizeof r->why, "%.250s (the child %.150s)", x->err, early);
	else
		snprintf(r->why, sizeof r->why, "%s", x->err);
	fprintf(stderr, PROG ": [%u/%u] %s: FAILED: %s\n", rc->idx, rc->count, t->name, r->why);
}

static void run_one(const struct bench_xport *t, const struct run_ctx *rc, struct result *r)
{
	uint64_t events = rc->o->events ? rc->o->events : t->default_events;
	struct bx x;
	memset(&x, 0, sizeof x);
	x.t = t;
	x.side = BX_PARENT;
	x.abort = &g_watch.abort;
	x.progress = progress_parent;
	x.priv = calloc(1, t->priv_size ? t->priv_size : 1);
	if (!x.priv) {
		r->state = RES_FAILED;
		snprintf(r->why, sizeof r->why, "out of memory");
		return;
	}
	if (t->setup(&x) < 0) {
		r->state = RES_FAILED;
		snprintf(r->why, sizeof r->why, "setup: %s", x.err);
		free(x.priv);
		return;
	}
	g_current = &x;
	memset(rc->ctl, 0, sizeof *rc->ctl);
	memset(&g_watch, 0, sizeof g_watch);
	g_watch.ctl = rc->ctl;
	g_watch.x = &x;

	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		r->state = RES_FAILED;
		snprintf(r->why, sizeof r->why, "fork: %s", strerror(errno));
		g_current = NULL;
		t->teardown(&x);
		free(x.priv);
		return;
	}
	if (pid == 0)
		child_main(&x, rc, parent, events);

	pin_child(t, rc, pid);
	start_watchdog(pid);

	int rcode = -1;
	bool opened = false;
	if (t->open(&x, BX_PARENT) < 0) {
		char tmp[sizeof x.err];
		memcpy(tmp, x.err, sizeof tmp);
		bx_fail(&x, "open: %s", tmp);
	} else {
		opened = true;
		rcode = parent_phases(&x, rc, events, r);
	}
	atomic_store(&g_watch.main_done, 1);
	char early[160] = ""; /* how the child ended, if it did so on its own before we gave up */
	if (rcode < 0) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			describe_status(early, sizeof early, si.si_code, si.si_status);
		else if (kill(pid, SIGKILL) != 0 && errno != ESRCH)
			fprintf(stderr, PROG ": warning: kill child %d: %s\n", (int)pid, strerror(errno));
	}
	if (opened)
		t->close(&x);

	rcode = reap_child(&x, rc, pid, rcode);
	if (g_watch.running)
		pthread_join(g_watch.th, NULL);
	g_watch.running = false;
	g_current = NULL;
	t->teardown(&x);
	record_result(t, rc, &x, rcode, early, r);
	free(x.priv);
}

/* ---- output ------------------------------------------------------------ */

struct ratio {
	const char *label;
	int num, den;        /* slot indices */
	int kind;            /* 0: b32 throughput, 1: rtt p50 */
	bool at_most;        /* target: ratio <= target, else >= */
	double target;
	const char *target_note;
};

static const struct ratio ratios[] = {
	{ "fks b32 tput / rte_ring b32 tput", S_FKS, S_RTE, 0, false, 1.0, "" },
	{ "fks b32 tput / ck_ring b32 tput", S_FKS, S_CK, 0, false, 1.0, "" },
	{ "fks rtt p50 / floor rtt p50", S_FKS, S_FLOOR, 1, true, 1.5, "" },
	{ "unix rtt p50 / fks rtt p50", S_UNIX, S_FKS, 1, false, 20.0, "" },
};
#define NRATIOS (sizeof ratios / sizeof ratios[0])

/* The ratio in each round where both ran, into v; how many.  Two runs of
 * one round were taken minutes apart at most, usually seconds: the VM moves
 * its vCPUs between rounds, so only these side-by-side ratios compare. */
static uint64_t round_ratios(const struct ratio *q, const struct result *a, const struct result *b, double *v)
{
	uint64_t n = 0, rounds = a->rounds < b->rounds ? a->rounds : b->rounds;
	for (uint64_t k = 0; k < rounds; k++) {
		double num = q->kind == 0 ? a->round_rate[1][k] : a->round_p50[k];
		double den = q->kind == 0 ? b->round_rate[1][k] : b->round_p50[k];
		if (den > 0)
			v[n++] = num / den;
	}
	return n;
}

static void print_ratios(FILE *out, const struct result *res)
{
	fprintf(out, "\ntargets (each the median of the rounds' side-by-side ratios, [lowest, highest]):\n");
	for (size_t i = 0; i < NRATIOS; i++) {
		const struct ratio *q = &ratios[i];
		const struct result *a = &res[q->num], *b = &res[q->den];
		double v[MAX_REPEAT];
		uint64_t n = round_ratios(q, a, b, v);
		bool have = n > 0 && (q->kind == 0 ? (a->tput[1] && b->tput[1]) : (a->lat && b->lat));
		char tgt[64];
		snprintf(tgt, sizeof tgt, "target %s %.2f%s", q->at_most ? "<=" : ">=", q->target, q->target_note);
		if (!have) {
			const struct result *miss = (q->kind == 0 ? !a->tput[1] : !a->lat) ? a : b;
			const char *who = slots[miss == a ? q->num : q->den].name;
			fprintf(out, "  %-34s %8s   %-32s n/a (%s %s)\n", q->label, "-", tgt, who,
				miss->state == RES_NOT_RUN ? "not requested"
				: miss->state == RES_SKIPPED ? "skipped"
							   : "failed");
			continue;
		}
		fprintf(out, "  %-34s", q->label);
		for (uint64_t k = 0; k < n; k++)
			fprintf(out, "%s%.2f", k ? " " : "   rounds: ", v[k]);
		double m = median(v, n); /* sorts v */
		bool met = q->at_most ? m <= q->target : m >= q->target;
		fprintf(out, "\n  %-34s %8.2f [%.2f, %.2f]   %-32s %s\n", "", m, v[0], v[n - 1], tgt,
			met ? "met" : "MISSED");
	}
}

/* After the last round: the pooled latency percentiles and the median
 * rates, from what each round recorded. */
static void finish_result(const struct env *e, struct result *r)
{
	if (r->lat && r->samples) {
		qsort(r->samples_all, r->samples, sizeof r->samples_all[0], cmp_u64);
		r->p50 = ticks_ns(e, pct(r->samples_all, r->samples, 0.50));
		r->p99 = ticks_ns(e, pct(r->samples_all, r->samples, 0.99));
		r->p999 = ticks_ns(e, pct(r->samples_all, r->samples, 0.999));
		r->max = ticks_ns(e, r->samples_all[r->samples - 1]);
	}
	if (r->state != RES_OK || !r->events || !r->rounds)
		return;
	for (unsigned b = 0; b < 2; b++) {
		double v[MAX_REPEAT];
		memcpy(v, r->round_rate[b], r->rounds * sizeof v[0]);
		r->rate[b] = median(v, r->rounds);
		r->tput[b] = true;
	}
}

static void print_header(FILE *out, const struct env *e, const struct opts *o, uint64_t warm)
{
	fprintf(out, "fks bench ring - SPSC transports, 64-byte events, %s\n", e->m.date);
	fprintf(out, "machine : %s; nproc %d (%ld online); %s\n", e->m.cpu_model, e->cpus_usable, e->m.cpus_online,
		e->m.kernel);
	fprintf(out, "command : %s\n", e->m.cmdline);
	if (e->pinned)
		fprintf(out, "cpus    : parent (sender of pings, producer) on cpu0, child on cpu1\n");
	else
		fprintf(out, "cpus    : UNPINNED (see warnings) - numbers are not comparable\n");
	fprintf(out, "timer   : rdtsc at %.1f MHz (calibrated over %.0f ms against CLOCK_MONOTONIC)%s; "
		     "begin/end pair costs %.1f ns, not subtracted\n",
		e->tsc_hz / 1e6, (double)CALIBRATE_NS / 1e6, e->m.invariant_tsc ? ", invariant" : ", NOT invariant",
		e->timer_ns);
	uint64_t per_round = (o->roundtrips + o->repeat - 1) / o->repeat;
	fprintf(out, "rounds  : %" PRIu64 ", interleaved: every transport once per round, in the table's order\n",
		o->repeat);
	fprintf(out, "latency : %" PRIu64 " measured round trips per transport and round after %" PRIu64
		     " warm-up, pooled over the rounds; one-way = rtt / 2\n",
		per_round, warm);
	fprintf(out, "tput    : rings of %u slots; rate = events / (consumer's last receive - producer's "
		     "first send), median of the rounds; order and checksum verified\n",
		BENCH_RING_CAP);
	fprintf(out, "spin    : empty/full waits execute PAUSE (%.1f ns here) and retry\n", e->pause_ns);
}

static void fmt_num(char *buf, size_t cap, bool have, double v)
{
	if (have)
		snprintf(buf, cap, "%.1f", v);
	else
		snprintf(buf, cap, "-");
}

static void print_table(FILE *out, const struct result *res)
{
	fprintf(out, "\nall latencies in ns\n");
	fprintf(out, "%-9s | %8s | %8s | %9s | %10s | %11s | %15s | %16s | %11s\n", "transport", "rtt p50",
		"rtt p99", "rtt p99.9", "rtt max", "one-way p50", "tput b1 (Mev/s)", "tput b32 (Mev/s)",
		"tput events");
	fprintf(out, "----------+----------+----------+-----------+------------+-------------+-----------------+"
		     "------------------+------------\n");
	for (size_t i = 0; i < NSLOTS; i++) {
		const struct result *r = &res[i];
		if (r->state == RES_NOT_RUN)
			continue;
		if (r->state == RES_SKIPPED || (r->state == RES_FAILED && !r->lat)) {
			fprintf(out, "%-9s | %s: %s\n", slots[i].name, r->state == RES_SKIPPED ? "skipped" : "FAILED",
				r->why);
			continue;
		}
		char c[8][32];
		fmt_num(c[0], sizeof c[0], r->lat, r->p50);
		fmt_num(c[1], sizeof c[1], r->lat, r->p99);
		fmt_num(c[2], sizeof c[2], r->lat, r->p999);
		fmt_num(c[3], sizeof c[3], r->lat, r->max);
		fmt_num(c[4], sizeof c[4], r->lat, r->p50 / 2);
		if (r->tput[0])
			snprintf(c[5], sizeof c[5], "%.2f", r->rate[0] / 1e6);
		else
			snprintf(c[5], sizeof c[5], "-");
		if (r->tput[1])
			snprintf(c[6], sizeof c[6], "%.2f", r->rate[1] / 1e6);
		else
			snprintf(c[6], sizeof c[6], "-");
		if (r->events)
			snprintf(c[7], sizeof c[7], "%" PRIu64, r->events);
		else
			snprintf(c[7], sizeof c[7], "-");
		fprintf(out, "%-9s | %8s | %8s | %9s | %10s | %11s | %15s | %16s | %11s\n", slots[i].name, c[0],
			c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
		if (r->state == RES_FAILED)
			fprintf(out, "%-9s   FAILED after latency: %s\n", "", r->why);
	}
}

static void print_notes(FILE *out, const struct result *res)
{
	fprintf(out, "\nnotes:\n");
	for (size_t i = 0; i < NSLOTS; i++)
		if (res[i].state != RES_NOT_RUN && slots[i].t && slots[i].t->note)
			fprintf(out, "  - %s\n", slots[i].t->note);
}

static void json_metric(const char *transport, const char *metric, double value, const char *unit,
			const char *extra)
{
	printf("{\"transport\":\"%s\",\"metric\":\"%s\",\"value\":%.*f,\"unit\":\"%s\"%s}\n", transport, metric,
	       !strcmp(unit, "ns") ? 1 : 0, value, unit, extra);
}

static void print_json(const struct result *res)
{
	char extra[128];
	for (size_t i = 0; i < NSLOTS; i++) {
		const struct result *r = &res[i];
		const char *n = slots[i].name;
		if (r->lat) {
			snprintf(extra, sizeof extra, ",\"samples\":%" PRIu64, r->samples);
			json_metric(n, "rtt_p50_ns", r->p50, "ns", extra);
			json_metric(n, "rtt_p99_ns", r->p99, "ns", extra);
			json_metric(n, "rtt_p999_ns", r->p999, "ns", extra);
			json_metric(n, "rtt_max_ns", r->max, "ns", extra);
		}
		for (int b = 0; b < 2; b++) {
			if (!r->tput[b])
				continue;
			snprintf(extra, sizeof extra, ",\"events\":%" PRIu64 ",\"batch\":%u", r->events,
				 b == 0 ? 1u : BENCH_BATCH_MAX);
			json_metric(n, b == 0 ? "tput_b1" : "tput_b32", r->rate[b], "events/s", extra);
		}
	}
	fflush(stdout);
}

/* ---- entry ------------------------------------------------------------- */

int bench_ring_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	static struct env env;
	memset(&env, 0, sizeof env);
	bench_machine_read(&env.m, argc, argv);
	pin_parent(&env);

	struct result res[NSLOTS];
	memset(res, 0, sizeof res);
	unsigned count = 0;
	for (size_t i = 0; i < NSLOTS; i++) {
		if (!o.want[i])
			continue;
		if (!slots[i].t) {
			res[i].state = RES_SKIPPED;
			snprintf(res[i].why, sizeof res[i].why, "%s", slots[i].missing);
			fprintf(stderr, PROG ": %s: skipped: %s\n", slots[i].name, slots[i].missing);
		} else if (slots[i].spins && env.cpus_usable < 2) {
			res[i].state = RES_SKIPPED;
			snprintf(res[i].why, sizeof res[i].why,
				 "needs 2 usable CPUs: two busy-spinning processes on one CPU only "
				 "progress at scheduler ticks");
			fprintf(stderr, PROG ": %s: skipped: %s\n", slots[i].name, res[i].why);
		} else {
			count++;
		}
	}

	fprintf(stderr, PROG ": calibrating the TSC (%.0f ms)\n", (double)CALIBRATE_NS / 1e6);
	calibrate(&env);
	if (!env.m.invariant_tsc)
		fprintf(stderr, PROG ": warning: the CPU does not report an invariant TSC (constant_tsc, "
				    "nonstop_tsc): latencies may be wrong\n");

	struct run_ctx rctx = { .o = &o, .env = &env };
	rctx.count = count;
	int exit_code = 0;

	/* Samples: private, prefaulted, and not inherited by the children, so
	 * that writing them after a fork does not take copy-on-write faults. */
	/* Every transport's samples of every round: rounds of roundtrips/repeat
	 * each, pooled for the percentiles. */
	rctx.roundtrips = (o.roundtrips + o.repeat - 1) / o.repeat;
	uint64_t per_slot = rctx.roundtrips * o.repeat;
	rctx.warm = rctx.roundtrips / 10; /* per round: each round is a new pair of processes */
	if (rctx.warm < 1000)
		rctx.warm = 1000;
	size_t samples_len = (count ? count : 1) * per_slot * sizeof rctx.samples[0];
	void *smem = mmap(NULL, samples_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
			  -1, 0);
	if (smem != MAP_FAILED) {
		rctx.samples = smem;
		if (madvise(smem, samples_len, MADV_DONTFORK) != 0)
			fprintf(stderr, PROG ": warning: madvise(MADV_DONTFORK): %s\n", strerror(errno));
	}
	void *ctl_mem = mmap(NULL, sizeof(struct bench_ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			     -1, 0);
	if (!rctx.samples || ctl_mem == MAP_FAILED) {
		fprintf(stderr, PROG ": cannot allocate %" PRIu64 " latency samples (%.0f MB) and the control block: %s\n",
			count * per_slot, (double)(count * per_slot) * 8 / 1e6, strerror(errno));
		if (rctx.samples)
			munmap(rctx.samples, samples_len);
		if (ctl_mem != MAP_FAILED)
			munmap(ctl_mem, sizeof(struct bench_ctl));
		unpin_parent(&env);
		return 1;
	}
	rctx.ctl = ctl_mem;

	struct saved_signals saved;
	install_signals(&saved);
	uint64_t *next = rctx.samples;
	for (size_t i = 0; i < NSLOTS; i++)
		if (o.want[i] && res[i].state != RES_SKIPPED) {
			res[i].samples_all = next;
			next += per_slot;
		}
	/* Interleaved: every transport once per round (A B C A B C ...), so
	 * the runs a ratio compares were taken side by side. */
	for (rctx.round = 0; rctx.round < o.repeat; rctx.round++) {
		rctx.idx = 0;
		for (size_t i = 0; i < NSLOTS; i++) {
			if (!o.want[i] || res[i].state == RES_SKIPPED)
				continue;
			rctx.idx++;
			if (res[i].state == RES_FAILED)
				continue; /* failed in an earlier round */
			rctx.samples = res[i].samples_all + rctx.round * rctx.roundtrips;
			run_one(slots[i].t, &rctx, &res[i]);
			if (res[i].state == RES_FAILED)
				exit_code = 1;
		}
	}
	rctx.samples = smem;
	for (size_t i = 0; i < NSLOTS; i++)
		finish_result(&env, &res[i]);
	restore_signals(&saved);
	munmap(ctl_mem, sizeof(struct bench_ctl));
	munmap(rctx.samples, samples_len);
	unpin_parent(&env);

	if (o.json) {
		print_json(res);
		print_header(stderr, &env, &o, rctx.warm);
		print_ratios(stderr, res);
	} else {
		print_header(stdout, &env, &o, rctx.warm);
		print_table(stdout, res);
		print_ratios(stdout, res);
		print_notes(stdout, res);
		fflush(stdout);
	}
	return exit_code;
}
