/*
 * `fks bench journal`: sustained append rate and commit latency of the LMDB
 * event journal (pipeline/journal.h), per sync mode and batch size, beside
 * a raw LMDB loop that writes the same records the same way - the floor.
 *
 * A cell is (sync mode, events per commit, record size).  In each cell both
 * writers run --repeat times (default 5), each run in a fresh directory
 * under one mkdtemp root:
 *
 *   journal  journal_create with that sync mode; then per batch:
 *            journal_append of `batch` events, journal_commit (timed);
 *            async mode ends with journal_drain.  journal_close is not
 *            timed (for nometasync it flushes the last meta page).
 *   raw      mdb_env_open with the env flags the journal uses for that mode
 *            (0, or MDB_NOMETASYNC; async commits like durable, on its own
 *            thread, so its raw peer is flags 0), the same map size, a
 *            MDB_INTEGERKEY database "events" with native uint64 keys 1..N;
 *            then per batch: mdb_txn_begin, a cursor, one
 *            mdb_cursor_put(MDB_APPEND) per event, mdb_txn_commit (the
 *            whole transaction is timed).  That is how the journal puts
 *            too, and the fastest way LMDB appends; mdb_put(MDB_APPEND)
 *            (--raw put) walks from the root for every put: 20-30% slower
 *            than a cursor here at batch 8192, and slower than the journal
 *            itself, so it is no floor.
 *
 * Both build their events with the same generator from the same seed, so
 * they store the same bytes: realistic 64-byte quotes (four instruments, a
 * random-walk top of book, per-source seq 1..N, event and receive times),
 * and in one extra cell per mode 128-byte order_new events.
 *
 * Rate = events / (first event built .. last commit returned, or
 * journal_drain returned).  A run stops at N events or after --seconds,
 * whichever comes first, always at a batch boundary, so durable batch 1
 * (two flushes per event) stays short.  Run k of raw and run k of the
 * journal go back to back, alternating which goes first, so neither always
 * gets the warmer disk; the table shows each writer's median rate, and
 * journal/raw is the median of the k pairs' ratios, since a pair shares
 * whatever the shared disk was doing at the time.  After each run, its
 * directory is removed and the filesystem synced (syncfs), so the next run
 * does not pay for the previous one's metadata and discards.
 *
 * Every measurement is then checked: the journal is reopened with
 * journal_open_reader (first key 1, last key and entry count = events
 * appended, last record = the last event built: type, size and per-source
 * seq), the raw environment with MDB_RDONLY (entries, last key, last
 * record).  A failed check fails the bench (exit 1).  Directories are
 * removed afterwards, also on SIGINT/SIGTERM/SIGHUP.
 *
 * Targets (reported, not asserted): durable mode with group commit
 * (batch > 1) sustains >= 1,000,000 events/s; the journal reaches >= 70% of
 * the raw floor's rate in each cell.
 */
#include "bench/bench.h"
#include "bench/bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shm/event.h"
#include "shm/event_build.h"
#include "pipeline/journal/journal.h"
#include "shm/clock.h"

#define PROG "fks bench journal"

#define DEFAULT_EVENTS 1500000ull
#define DEFAULT_SECONDS 0.8
#define DEFAULT_ORDER_BATCH 1024u
#define MAX_EVENTS 1000000000ull
#define MAX_BATCH 1000000ull
#define MAX_BATCHES 16
#define MAX_SECONDS 3600.0
#define DEFAULT_REPEAT 5
#define MAX_REPEAT 15
#define NMODES 3
#define PROBE_WRITES 200
#define PROBE_MAX_NS 1000000000ull
#define TARGET_DURABLE_RATE 1000000.0
#define TARGET_RATIO 0.70

static const enum fks_journal_sync all_modes[NMODES] = { FKS_SYNC_DURABLE, FKS_SYNC_NOMETASYNC, FKS_SYNC_ASYNC };

/* ---- options ----------------------------------------------------------- */

struct opts {
	bool json;
	uint64_t events;
	double seconds;
	const char *dir;           /* parent of the mkdtemp root */
	unsigned n_modes;
	enum fks_journal_sync mode[NMODES];
	unsigned n_batches;
	uint64_t batch[MAX_BATCHES];
	uint64_t order_batch;      /* 0: no 128-byte cell */
	bool raw_put;              /* raw writer: mdb_put instead of a cursor */
	uint64_t repeat;           /* runs per writer and cell; the median rate is reported */
};

static const char usage_head[] =
	"usage: " PROG " [--json] [--events N] [--seconds S] [--repeat K] [--dir PATH]\n"
	"                         [--modes LIST] [--batches LIST] [--order-batch N]\n"
	"                         [--raw cursor|put]\n"
	"\n"
	"Sustained append rate and commit latency of the LMDB event journal for each\n"
	"sync mode and batch size (events per commit), beside a raw LMDB loop of the\n"
	"same records (MDB_APPEND puts, the journal's key scheme and env flags,\n"
	"committed at the same batch sizes): the floor.  Events are 64-byte quotes;\n"
	"one extra cell per mode stores 128-byte order_new events.  Every measurement\n"
	"runs in a fresh directory, is reopened read-only and checked, then removed.\n"
	"\n"
	"options:\n";
static const char usage_tail[] =
	"  -h, --help       show this text\n"
	"\n"
	"N takes an optional k, M or G suffix (10^3, 10^6, 10^9).\n"
	"Targets, reported and not asserted: durable with group commit (batch > 1)\n"
	">= 1,000,000 events/s; journal >= 70% of the raw rate in every cell.\n"
	"Progress goes to stderr.  Exit status: 0 every measurement ran and verified,\n"
	"1 one failed (LMDB or journal error, a verification that did not match),\n"
	"2 usage error.\n";

static void usage(FILE *out, const struct opt_table *t)
{
	fputs(usage_head, out);
	opts_print_help(t, out);
	fputs(usage_tail, out);
}

/* The option callbacks' errors are followed by bench_parse_options's
 * "Try ..." line. */
static int mode_item(const char *p, size_t len, void *ctx)
{
	struct opts *o = ctx;
	int m;
	for (m = 0; m < NMODES; m++) {
		const char *name = journal_sync_name(all_modes[m]);
		if (strlen(name) == len && !strncmp(name, p, len))
			break;
	}
	if (m == NMODES)
		return bench_option_error(PROG, "--modes: unknown sync mode '%.*s' (known: durable, nometasync, async)",
					  (int)len, p);
	for (unsigned i = 0; i < o->n_modes; i++)
		if (o->mode[i] == all_modes[m])
			return bench_option_error(PROG, "--modes: '%.*s' given twice", (int)len, p);
	o->mode[o->n_modes++] = all_modes[m];
	return 0;
}

/* --modes LIST: the sync modes to measure, in place of all three. */
static bool take_modes(void *ctx, char *s)
{
	struct opts *o = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--modes needs a list, e.g. --modes durable,async");
	o->n_modes = 0;
	return !bench_each_item(PROG, "--modes", "durable,async", s, mode_item, o);
}

/* One size of --batches, a count (word is one item, NUL-terminated). */
static bool batch_item(struct opts *o, const char *word)
{
	uint64_t b;
	if (!opts_parse_count(word, MAX_BATCH, &b) || b == 0)
		return !bench_option_error(PROG, "--batches: '%s' is not a batch size from 1 to %llu", word, MAX_BATCH);
	if (o->n_batches == MAX_BATCHES)
		return !bench_option_error(PROG, "--batches: at most %d sizes", MAX_BATCHES);
	for (unsigned i = 0; i < o->n_batches; i++)
		if (o->batch[i] == b)
			return !bench_option_error(PROG, "--batches: %" PRIu64 " given twice", b);
	o->batch[o->n_batches++] = b;
	return true;
}

/* --batches LIST: events per commit, one cell each.  The list is split in
 * place, empty items included, so "1,,8" is an error, not "1,8". */
static bool take_batches(void *ctx, char *s)
{
	struct opts *o = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--batches needs a list, e.g. --batches 1,1024");
	o->n_batches = 0;
	for (char *word = s;;) {
		char *comma = strchr(word, ',');
		if (comma)
			*comma = 0;
		if (!batch_item(o, word))
			return false;
		if (!comma)
			return true;
		word = comma + 1;
	}
}

static bool take_seconds(void *ctx, char *s)
{
	double *out = ctx;
	char *end;
	errno = 0;
	double v = *s ? strtod(s, &end) : 0;
	if (!*s || errno || *end || !(v > 0) || v > MAX_SECONDS)
		return !bench_option_error(PROG, "--seconds: '%s' is not a number of seconds above 0, at most %.0f", s,
					   MAX_SECONDS);
	*out = v;
	return true;
}

/* --dir PATH: leaves room under PATH for the mkdtemp root and its runs. */
static bool take_dir(void *ctx, char *s)
{
	const char **out = ctx;
	if (!*s)
		return !bench_option_error(PROG, "--dir needs a directory");
	if (strlen(s) > PATH_MAX - 128)
		return !bench_option_error(PROG, "--dir: path too long");
	*out = s;
	return true;
}

static bool take_raw(void *ctx, char *s)
{
	bool *raw_put = ctx;
	if (!strcmp(s, "put"))
		*raw_put = true;
	else if (!strcmp(s, "cursor"))
		*raw_put = false;
	else
		return !bench_option_error(PROG, "--raw: '%s' is neither cursor nor put", s);
	return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->events = DEFAULT_EVENTS;
	o->seconds = DEFAULT_SECONDS;
	o->dir = "/tmp";
	o->order_batch = DEFAULT_ORDER_BATCH;
	o->repeat = DEFAULT_REPEAT;
	char default_modes[] = "durable,nometasync,async", default_batches[] = "1,64,1024,8192";
	take_modes(o, default_modes);
	take_batches(o, default_batches);
	/* the defaults and limits are the macros above: the texts are built */
	char events_help[96], seconds_help[192], repeat_help[256], order_batch_help[128];
	char events_max[64], repeat_max[64], order_batch_max[64];
	snprintf(events_help, sizeof events_help, "events per measurement (default %llu)", DEFAULT_EVENTS);
	snprintf(seconds_help, sizeof seconds_help,
		 "stop a measurement after S seconds even short of N events,\n"
		 "at a batch boundary (default %.1f; keeps durable batch 1,\n"
		 "two flushes per event, short)",
		 DEFAULT_SECONDS);
	snprintf(repeat_help, sizeof repeat_help,
		 "runs per writer and cell, raw and journal back to back and\n"
		 "alternating which goes first; the median rate is reported,\n"
		 "journal/raw is the median of the K pairs' ratios, latency is\n"
		 "over all runs' commits (default %d)",
		 DEFAULT_REPEAT);
	snprintf(order_batch_help, sizeof order_batch_help,
		 "events per commit of the 128-byte order_new cell, 0 for none\n(default %u)", DEFAULT_ORDER_BATCH);
	snprintf(events_max, sizeof events_max, "a number from 1 to %llu", MAX_EVENTS);
	snprintf(repeat_max, sizeof repeat_max, "a number from 1 to %d", MAX_REPEAT);
	snprintf(order_batch_max, sizeof order_batch_max, "a batch size from 0 to %llu", MAX_BATCH);
	const struct opt options[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = &o->json,
		  .help = "one JSON object per line per (cell, writer, metric) on\n"
			  "stdout instead of the table (header and targets go to stderr)" },
		{ .name = "events", .kind = OPT_COUNT, .dest = &o->events, .arg = "N", .help = events_help,
		  .expect = events_max, .umin = 1, .umax = MAX_EVENTS },
		{ .name = "seconds", .kind = OPT_CALL, .call = take_seconds, .ctx = &o->seconds, .arg = "S",
		  .help = seconds_help },
		{ .name = "repeat", .kind = OPT_COUNT, .dest = &o->repeat, .arg = "K", .help = repeat_help,
		  .expect = repeat_max, .umin = 1, .umax = MAX_REPEAT },
		{ .name = "dir", .kind = OPT_CALL, .call = take_dir, .ctx = &o->dir, .arg = "PATH",
		  .help = "make the temporary directory under PATH (default /tmp).\n"
			  "fsync cost depends on the filesystem: its type is printed" },
		{ .name = "modes", .kind = OPT_CALL, .call = take_modes, .ctx = o, .arg = "LIST",
		  .help = "comma-separated subset of durable,nometasync,async (default all)" },
		{ .name = "batches", .kind = OPT_CALL, .call = take_batches, .ctx = o, .arg = "LIST",
		  .help = "comma-separated events per commit (default 1,64,1024,8192)" },
		{ .name = "order-batch", .kind = OPT_COUNT, .dest = &o->order_batch, .arg = "N",
		  .help = order_batch_help, .expect = order_batch_max, .umax = MAX_BATCH },
		{ .name = "raw", .kind = OPT_CALL, .call = take_raw, .ctx = &o->raw_put, .arg = "KIND",
		  .help = "how the raw loop puts: cursor (default: mdb_cursor_put on one\n"
			  "cursor per transaction, as the journal does; the fastest way\n"
			  "LMDB appends, so the floor) or put (mdb_put per event, which\n"
			  "walks from the root each time: slower, not a floor)" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = PROG, .help_col = 19, .opts = options };
	return bench_parse_options(&t, argc, argv, usage);
}

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) { g_signal = sig; }

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NHANDLED (sizeof handled_signals / sizeof handled_signals[0])

/* ---- the filesystem ---------------------------------------------------- */

struct fsinfo {
	unsigned long f_type;
	const char *type_name;     /* from f_type */
	bool ram;                  /* tmpfs/ramfs: fsync flushes nothing */
	char mount_point[PATH_MAX];
	char source[256];          /* from /proc/self/mountinfo, "" if unknown */
	char mount_opts[256];
	char super_opts[256];      /* the filesystem's own options (discard, data=, ...) */
	double probe_inplace_p50, probe_inplace_p99;  /* ns */
	double probe_append_p50, probe_append_p99;
	unsigned probe_inplace_n, probe_append_n;
	char probe_err[160];
};

static const char *fs_type_name(unsigned long t, bool *ram)
{
	*ram = false;
	switch (t) {
	case 0x01021994: *ram = true; return "tmpfs";
	case 0x858458f6: *ram = true; return "ramfs";
	case 0xef53: return "ext2/3/4";
	case 0x58465342: return "xfs";
	case 0x9123683e: return "btrfs";
	case 0x794c7630: return "overlayfs";
	case 0x2fc12fc1: return "zfs";
	case 0xf2f52010: return "f2fs";
	case 0x6969: return "nfs";
	case 0x01021997: return "9p";
	case 0x65735546: return "fuse";
	case 0x6a656a63: return "virtiofs";
	case 0x3153464a: return "jfs";
	case 0x52654973: return "reiserfs";
	}
	return "unknown";
}

/* The mount that holds path: the longest mount point that is a prefix of
 * its real path, on the same device. */
static void read_mountinfo(const char *path, struct fsinfo *fs)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) != 0)
		return;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return;
	char line[4096];
	size_t best = 0;
	while (fgets(line, sizeof line, f)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		unsigned maj, min;
		char mp[PATH_MAX], mopts[256];
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s %255s", &maj, &min, mp, mopts) != 4)
			continue;
		if (makedev(maj, min) != st.st_dev)
			continue;
		size_t n = strlen(mp);
		bool prefix = !strcmp(mp, "/") || (!strncmp(real, mp, n) && (real[n] == '/' || real[n] == 0));
		if (!prefix || (best && n <= best))
			continue;
		const char *dash = strstr(line, " - ");
		char fstype[64] = "", src[256] = "", sopts[256] = "";
		if (dash)
			sscanf(dash + 3, "%63s %255s %255s", fstype, src, sopts);
		best = n ? n : 1;
		snprintf(fs->mount_point, sizeof fs->mount_point, "%s", mp);
		snprintf(fs->source, sizeof fs->source, "%s", src);
		snprintf(fs->mount_opts, sizeof fs->mount_opts, "%s", mopts);
		snprintf(fs->super_opts, sizeof fs->super_opts, "%s", sopts);
	}
	fclose(f);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the ceil(q * n)-th smallest of n sorted samples. */
static uint64_t quantile(const uint64_t *sorted, uint64_t n, double q)
{
	if (!n)
		return 0;
	uint64_t k = (uint64_t)(q * (double)n + 0.999999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

/*
 * What one flush costs here, for reading the table: 4 KiB pwrite +
 * fdatasync, once rewriting a page of a preallocated file (LMDB's meta page)
 * and once appending (LMDB's data file grows as the journal does, and a
 * size change costs the filesystem a metadata commit too).
 */
static void fsync_probe(const char *root, struct fsinfo *fs)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/fsync-probe", root);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(fs->probe_err, sizeof fs->probe_err, "open %.100s: %s", path, strerror(errno));
		return;
	}
	static char page[4096];
	memset(page, 0xa5, sizeof page);
	uint64_t s[PROBE_WRITES];
	for (int kind = 0; kind < 2; kind++) {
		bool append = kind == 1;
		if (!append) {
			for (int i = 0; i < 16; i++)
				if (pwrite(fd, page, sizeof page, (off_t)i * 4096) != (ssize_t)sizeof page)
					goto fail;
			if (fdatasync(fd))
				goto fail;
		}
		unsigned n = 0;
		uint64_t t0 = (uint64_t)clock_mono_ns();
		off_t off = 16 * 4096;
		for (; n < PROBE_WRITES && (uint64_t)clock_mono_ns() - t0 < PROBE_MAX_NS && !g_signal; n++) {
			off_t at = append ? off : (off_t)(n % 16) * 4096;
			uint64_t a = (uint64_t)clock_mono_ns();
			if (pwrite(fd, page, sizeof page, at) != (ssize_t)sizeof page || fdatasync(fd))
				goto fail;
			s[n] = (uint64_t)clock_mono_ns() - a;
			off += 4096;
		}
		qsort(s, n, sizeof s[0], cmp_u64);
		if (append) {
			fs->probe_append_n = n;
			fs->probe_append_p50 = (double)quantile(s, n, 0.5);
			fs->probe_append_p99 = (double)quantile(s, n, 0.99);
		} else {
			fs->probe_inplace_n = n;
			fs->probe_inplace_p50 = (double)quantile(s, n, 0.5);
			fs->probe_inplace_p99 = (double)quantile(s, n, 0.99);
		}
	}
	close(fd);
	unlink(path);
	return;
fail:
	snprintf(fs->probe_err, sizeof fs->probe_err, "%.100s: %s", path, strerror(errno));
	close(fd);
	unlink(path);
}

/* Remove a measurement directory: it holds only flat files we made. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char path[PATH_MAX + 260];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			if (unlink(path))
				fprintf(stderr, PROG ": warning: removing %s: %s\n", path, strerror(errno));
		}
		closedir(d);
	}
	if (rmdir(dir) && errno != ENOENT)
		fprintf(stderr, PROG ": warning: removing %s: %s\n", dir, strerror(errno));
}

/* ---- events ------------------------------------------------------------ */

#define GEN_INSTRUMENTS 4

struct gen {
	unsigned type;                 /* FKS_EV_QUOTE or FKS_EV_ORDER_NEW */
	uint64_t n;                    /* events built so far = the last h.seq */
	uint64_t rng;
	int64_t mid[GEN_INSTRUMENTS];  /* in ticks of 0.01 */
	int64_t t_event, t_recv;
	union fks_event ev;            /* rebuilt, pads zeroed, by gen_next */
};

static void gen_init(struct gen *g, unsigned type)
{
	memset(g, 0, sizeof *g);
	g->type = type;
	g->rng = 0x9e3779b97f4a7c15ull;
	static const int64_t start[GEN_INSTRUMENTS] = { 6512345, 342150, 15025, 99875 };
	memcpy(g->mid, start, sizeof start);
	g->t_event = 1795000000000000000ll; /* late 2026, epoch ns */
	g->t_recv = 1000000000000ll;        /* a monotonic clock's kind of number */
}

static inline uint64_t gen_rand(struct gen *g)
{
	uint64_t x = g->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return g->rng = x;
}

/* The next event: a quote from the feed, or an order from the strategy. */
static inline const union fks_event *gen_next(struct gen *g)
{
	uint64_t r = gen_rand(g);
	unsigned inst = (unsigned)(r & (GEN_INSTRUMENTS - 1));
	g->mid[inst] += (int64_t)((r >> 8) % 5) - 2;
	if (g->mid[inst] < 100)
		g->mid[inst] = 100;
	g->t_event += 200 + (int64_t)((r >> 16) & 1023);
	g->t_recv = g->t_event / 1000 + 1000000000000ll; /* a fixed offset, no clock read */
	g->n++;
	union fks_event *ev = &g->ev;
	struct fks_event_hdr h;
	int64_t half = 1 + (int64_t)((r >> 32) & 3);
	if (g->type == FKS_EV_QUOTE) {
		fks_hdr_origin(&h, FKS_EV_QUOTE, FKS_STAGE_FEED, g->n, inst + 1, 0, g->t_event,
			       g->t_recv);
		fks_build_quote(&ev->quote, &h, g->mid[inst] - half,
				(int64_t)(((r >> 40) & 255) + 1) * 1000000, g->mid[inst] + half,
				(int64_t)(((r >> 48) & 255) + 1) * 1000000);
	} else {
		bool buy = r & (1ull << 36);
		int64_t px = buy ? g->mid[inst] - half : g->mid[inst] + half;
		fks_hdr_origin(&h, FKS_EV_ORDER_NEW, FKS_STAGE_STRATEGY, g->n, inst + 1, 0,
			       g->t_event, g->t_recv);
		fks_build_order_new(&ev->order_new, &h, &(struct fks_order_terms){
			.order_id = g->n,
			.signal_id = g->n,
			.px = px,
			.qty = (int64_t)(((r >> 40) & 15) + 1) * 1000000,
			.take_profit_px = buy ? px + 50 : px - 50,
			.stop_loss_px = buy ? px - 25 : px + 25,
			.side = buy ? FKS_SIDE_BUY : FKS_SIDE_SELL,
			.ord_type = FKS_ORD_LIMIT,
			.tif = FKS_TIF_IOC,
			.strategy = 1,
		});
	}
	return ev;
}

static void bench_meta(struct journal_meta *m)
{
	static const char *const sym[GEN_INSTRUMENTS] = { "BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD" };
	memset(m, 0, sizeof *m);
	snprintf(m->fks_version, sizeof m->fks_version, "fks bench journal");
	m->n_symbols = GEN_INSTRUMENTS;
	for (unsigned i = 0; i < GEN_INSTRUMENTS; i++) {
		m->symbol[i].id = i + 1;
		snprintf(m->symbol[i].symbol, sizeof m->symbol[i].symbol, "%s", sym[i]);
		m->symbol[i].px_scale = 2;
		m->symbol[i].qty_scale = 6;
	}
}

/* ---- measurements ------------------------------------------------------ */

enum impl { I_RAW = 0, I_JOURNAL = 1, I_COUNT };
static const char *const impl_names[I_COUNT] = { "raw", "journal" };

/* One repetition of one writer in one cell. */
struct run {
	uint64_t events, commits;
	bool capped;                  /* stopped by --seconds */
	double seconds, rate;
	uint64_t file_bytes;          /* data.mdb after the run */
	unsigned map_grows;           /* journal only */
};

/* One writer in one cell, over its --repeat runs. */
struct meas {
	bool ran, ok;
	char why[600];
	unsigned runs;
	struct run run[MAX_REPEAT];
	double rate, rate_min, rate_max; /* median, min, max of the runs' rates */
	uint64_t events;              /* the median run's */
	bool capped;                  /* some run stopped by --seconds */
	double seconds;               /* the median run's */
	uint64_t commits;             /* over all runs */
	uint64_t p50, p99, p999, max; /* commit, ns, over all runs' commits */
	uint64_t file_bytes;          /* the median run's data.mdb */
	unsigned map_grows;           /* the most any run grew the map */
};

struct cell {
	enum fks_journal_sync mode;
	uint64_t batch;
	unsigned type;                /* FKS_EV_QUOTE or FKS_EV_ORDER_NEW */
	struct meas m[I_COUNT];
};

struct ctx {
	const struct opts *o;
	char root[PATH_MAX];
	uint64_t *samples[I_COUNT];   /* commit times of the current cell, all runs */
	uint64_t n_samples[I_COUNT];
	struct journal_meta *meta;
	size_t map_size;
	unsigned seq_no;              /* measurements started; names their directories */
	int root_fd;                  /* for syncfs between runs; -1 if not open */
};

static unsigned env_flags(enum fks_journal_sync mode)
{
	return mode == FKS_SYNC_NOMETASYNC ? MDB_NOMETASYNC : 0;
}

static int mfail(struct meas *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mfail(struct meas *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof m->why, fmt, ap);
	va_end(ap);
	m->ok = false;
	return -1;
}

/* A run's rate and file size; its n commit samples join the cell's pool. */
static void finish(struct ctx *c, enum impl w, struct run *r, const char *dir, uint64_t events, uint64_t n,
		   uint64_t t0, uint64_t t1)
{
	c->n_samples[w] += n;
	r->events = events;
	r->commits = n;
	r->seconds = (double)(t1 - t0) / 1e9;
	r->rate = r->seconds > 0 ? (double)events / r->seconds : 0;
	char path[PATH_MAX + 160];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	struct stat st;
	r->file_bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static bool time_up(const struct ctx *c, uint64_t t0, uint64_t now)
{
	return (double)(now - t0) >= c->o->seconds * 1e9;
}

static int run_journal(struct ctx *c, const struct cell *cell, const char *dir, struct meas *m, struct run *r)
{
	uint64_t *samples = c->samples[I_JOURNAL] + c->n_samples[I_JOURNAL];
	struct journal_options opt = {
		.sync = cell->mode,
		.initial_map_size = c->map_size,
		.batch_hint = cell->batch,
	};
	struct journal *j;
	char err[512];
	int rc = journal_create(dir, c->meta, &opt, &j, err, sizeof err);
	if (rc)
		return mfail(m, "journal_create: %s (%s)", err, journal_strerror(rc));
	static struct gen g;
	gen_init(&g, cell->type);
	const uint64_t N = c->o->events;
	uint64_t done = 0, n = 0;
	uint64_t t0 = (uint64_t)clock_mono_ns(), t = t0;
	while (done < N && !g_signal) {
		uint64_t b = N - done < cell->batch ? N - done : cell->batch;
		for (uint64_t i = 0; i < b; i++) {
			rc = journal_append(j, gen_next(&g), NULL, 0);
			if (rc) {
				mfail(m, "journal_append: %s", journal_error(j));
				journal_close(j);
				return -1;
			}
		}
		uint64_t a = (uint64_t)clock_mono_ns();
		rc = journal_commit(j);
		t = (uint64_t)clock_mono_ns();
		if (rc) {
			mfail(m, "journal_commit: %s", journal_error(j));
			journal_close(j);
			return -1;
		}
		samples[n++] = t - a;
		done += b;
		if (time_up(c, t0, t)) {
			r->capped = done < N;
			break;
		}
	}
	if (cell->mode == FKS_SYNC_ASYNC) {
		rc = journal_drain(j);
		t = (uint64_t)clock_mono_ns();
		if (rc) {
			mfail(m, "journal_drain: %s", journal_error(j));
			journal_close(j);
			return -1;
		}
	}
	if (journal_committed_seq(j) != done) {
		mfail(m, "journal_committed_seq is %" PRIu64 " after committing %" PRIu64 " events",
		      journal_committed_seq(j), done);
		journal_close(j);
		return -1;
	}
	r->map_grows = journal_map_grows(j);
	rc = journal_close(j);
	if (rc)
		return mfail(m, "journal_close: %s", journal_strerror(rc));
	finish(c, I_JOURNAL, r, dir, done, n, t0, t);
	return 0;
}

static int run_raw(struct ctx *c, const struct cell *cell, const char *dir, struct meas *m, struct run *r)
{
	uint64_t *samples = c->samples[I_RAW] + c->n_samples[I_RAW];
	if (mkdir(dir, 0700))
		return mfail(m, "mkdir %s: %s", dir, strerror(errno));
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;
	if ((rc = mdb_env_create(&env)))
		return mfail(m, "mdb_env_create: %s", mdb_strerror(rc));
	if ((rc = mdb_env_set_maxdbs(env, 2)) || (rc = mdb_env_set_mapsize(env, c->map_size)) ||
	    (rc = mdb_env_open(env, dir, env_flags(cell->mode), 0600))) {
		mfail(m, "opening the LMDB environment %s: %s", dir, mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) {
		mfail(m, "mdb_txn_begin: %s", mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE | MDB_INTEGERKEY, &dbi))) {
		mfail(m, "creating the database: %s", mdb_strerror(rc));
		mdb_txn_abort(txn);
		mdb_env_close(env);
		return -1;
	}
	if ((rc = mdb_txn_commit(txn))) {
		mfail(m, "creating the database: %s", mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	static struct gen g;
	gen_init(&g, cell->type);
	const size_t esz = fks_event_size(cell->type);
	const uint64_t N = c->o->events;
	uint64_t done = 0, n = 0;
	uint64_t t0 = (uint64_t)clock_mono_ns(), t = t0;
	while (done < N && !g_signal) {
		uint64_t b = N - done < cell->batch ? N - done : cell->batch;
		uint64_t a = (uint64_t)clock_mono_ns();
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) {
			mfail(m, "mdb_txn_begin: %s", mdb_strerror(rc));
			mdb_env_close(env);
			return -1;
		}
		/* One cursor per transaction: an append then finds its page
		 * through the cursor, where mdb_put starts from the root. */
		MDB_cursor *cur = NULL;
		if (!c->o->raw_put)
			rc = mdb_cursor_open(txn, dbi, &cur);
		for (uint64_t i = 0; i < b && !rc; i++) {
			uint64_t key = done + i + 1;
			MDB_val k = { sizeof key, &key };
			MDB_val v = { esz, (void *)gen_next(&g)->bytes };
			rc = cur ? mdb_cursor_put(cur, &k, &v, MDB_APPEND) : mdb_put(txn, dbi, &k, &v, MDB_APPEND);
		}
		if (rc) {
			mfail(m, "%s(MDB_APPEND) in the batch from key %" PRIu64 ": %s", cur ? "mdb_cursor_put" : "mdb_put",
			      done + 1, mdb_strerror(rc));
			mdb_txn_abort(txn);
			mdb_env_close(env);
			return -1;
		}
		if ((rc = mdb_txn_commit(txn))) {
			mfail(m, "mdb_txn_commit: %s", mdb_strerror(rc));
			mdb_env_close(env);
			return -1;
		}
		t = (uint64_t)clock_mono_ns();
		samples[n++] = t - a;
		done += b;
		if (time_up(c, t0, t)) {
			r->capped = done < N;
			break;
		}
	}
	mdb_env_close(env);
	finish(c, I_RAW, r, dir, done, n, t0, t);
	return 0;
}

/* The last event the generator built for `events` events. */
static void expected_last(const struct cell *cell, uint64_t events, union fks_event *out)
{
	static struct gen g;
	gen_init(&g, cell->type);
	for (uint64_t i = 0; i < events; i++)
		gen_next(&g);
	memcpy(out, &g.ev, sizeof *out);
}

static int verify_journal(const struct cell *cell, const char *dir, struct meas *m, uint64_t events)
{
	struct journal_reader *r;
	char err[512];
	int rc = journal_open_reader(dir, &r, err, sizeof err);
	if (rc)
		return mfail(m, "verify: journal_open_reader: %s", err);
	uint64_t first = 0, last = 0;
	struct journal_disk du;
	static struct journal_record rec;
	static union fks_event want;
	const size_t esz = fks_event_size(cell->type);
	rc = journal_bounds(r, &first, &last);
	if (rc) {
		mfail(m, "verify: journal_bounds: %s", journal_reader_error(r));
		goto out;
	}
	if (first != 1 || last != events) {
		rc = mfail(m, "verify: keys %" PRIu64 "..%" PRIu64 ", expected 1..%" PRIu64, first, last, events);
		goto out;
	}
	if ((rc = journal_disk_usage(r, &du))) {
		mfail(m, "verify: journal_disk_usage: %s", journal_reader_error(r));
		goto out;
	}
	if (du.entries != events) {
		rc = mfail(m, "verify: %" PRIu64 " entries, expected %" PRIu64, du.entries, events);
		goto out;
	}
	if (journal_reader_meta(r)->sync != cell->mode) {
		rc = mfail(m, "verify: the journal's metadata says sync %s, expected %s",
			   journal_sync_name(journal_reader_meta(r)->sync), journal_sync_name(cell->mode));
		goto out;
	}
	journal_seek(r, last);
	rc = journal_read(r, &rec);
	if (rc != 1) {
		rc = mfail(m, "verify: reading record %" PRIu64 ": %s", last,
			   rc == 0 ? "not there" : journal_reader_error(r));
		goto out;
	}
	expected_last(cell, events, &want);
	if (rec.seq != last || rec.ev_size != esz || rec.payload_len != 0 || rec.ev.h.type != cell->type ||
	    rec.ev.h.seq != events || memcmp(rec.ev.bytes, want.bytes, esz)) {
		rc = mfail(m, "verify: last record: key %" PRIu64 " type %u size %zu seq %" PRIu64
			      "; expected key %" PRIu64 " type %u size %zu seq %" PRIu64 " and the generator's bytes",
			   rec.seq, rec.ev.h.type, rec.ev_size, rec.ev.h.seq, last, cell->type, esz, events);
		goto out;
	}
	rc = 0;
out:
	journal_reader_close(r);
	return rc ? -1 : 0;
}

static int verify_raw(const struct cell *cell, const char *dir, struct meas *m, uint64_t events)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_stat st;
	MDB_val k, v;
	static union fks_event want;
	const size_t esz = fks_event_size(cell->type);
	int rc;
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 2)) ||
	    (rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) || (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_INTEGERKEY, &dbi)) || (rc = mdb_stat(txn, dbi, &st)) ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) || (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST))) {
		mfail(m, "verify: reading %s back: %s", dir, mdb_strerror(rc));
		goto out;
	}
	uint64_t key = 0;
	if (k.mv_size == sizeof key)
		memcpy(&key, k.mv_data, sizeof key);
	expected_last(cell, events, &want);
	if (st.ms_entries != events || key != events || v.mv_size != esz || memcmp(v.mv_data, want.bytes, esz)) {
		rc = mfail(m, "verify: %zu entries, last key %" PRIu64 " with a %zu-byte value; expected %" PRIu64
			      " entries, last key %" PRIu64 " with the generator's %zu bytes",
			   (size_t)st.ms_entries, key, v.mv_size, events, events, esz);
		goto out;
	}
	rc = 0;
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return rc ? -1 : 0;
}

static void fmt_si(char *buf, size_t cap, double v)
{
	const char *suf = "";
	if (v >= 1e6)
		v /= 1e6, suf = "M";
	else if (v >= 1e3)
		v /= 1e3, suf = "k";
	snprintf(buf, cap, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, suf);
}

static const char *cell_event_name(const struct cell *cell)
{
	return cell->type == FKS_EV_QUOTE ? "quote" : "order_new";
}

/* Repetition `rep` of one writer in one cell: run, verify, remove. */
static void run_one(struct ctx *c, struct cell *cell, enum impl which, unsigned rep, unsigned idx, unsigned count)
{
	struct meas *m = &cell->m[which];
	if (rep == 0) {
		memset(m, 0, sizeof *m);
		m->ran = true;
		m->ok = true;
		c->n_samples[which] = 0;
	}
	if (!m->ok)
		return; /* an earlier run of this writer failed */
	struct run *r = &m->run[rep];
	memset(r, 0, sizeof *r);
	char dir[PATH_MAX + 128];
	snprintf(dir, sizeof dir, "%s/%03u-%s-%s-b%" PRIu64 "-%s", c->root, ++c->seq_no, impl_names[which],
		 journal_sync_name(cell->mode), cell->batch, cell_event_name(cell));
	int rc = which == I_JOURNAL ? run_journal(c, cell, dir, m, r) : run_raw(c, cell, dir, m, r);
	if (rc == 0 && g_signal)
		rc = mfail(m, "interrupted");
	if (rc == 0)
		rc = which == I_JOURNAL ? verify_journal(cell, dir, m, r->events) : verify_raw(cell, dir, m, r->events);
	m->ok = rc == 0;
	remove_dir(dir);
	/* Settle the filesystem before the next run: the removal's metadata
	 * (and, with -o discard, the trim of its blocks) goes out in the next
	 * journal commit, which would otherwise be the next run's first fsync. */
	if (c->root_fd >= 0)
		syncfs(c->root_fd);
	const char *tag = journal_sync_name(cell->mode);
	size_t esz = fks_event_size(cell->type);
	if (!m->ok) {
		fprintf(stderr, PROG ": [%u/%u] %s b%" PRIu64 " %zuB %s run %u: FAILED: %s\n", idx, count, tag,
			cell->batch, esz, impl_names[which], rep + 1, m->why);
		return;
	}
	m->runs = rep + 1;
	char rs[16];
	fmt_si(rs, sizeof rs, r->rate);
	fprintf(stderr, PROG ": [%u/%u] %s b%" PRIu64 " %zuB %s run %u: %s events/s, %" PRIu64 " events in %.2f s%s; "
			     "verified\n",
		idx, count, tag, cell->batch, esz, impl_names[which], rep + 1, rs, r->events, r->seconds,
		r->capped ? " (time cap)" : "");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* After a cell's runs: the median rate and the pooled commit percentiles. */
static void summarize(struct ctx *c, struct cell *cell)
{
	for (int w = 0; w < I_COUNT; w++) {
		struct meas *m = &cell->m[w];
		if (!m->ran || !m->ok || !m->runs)
			continue;
		double rates[MAX_REPEAT];
		for (unsigned i = 0; i < m->runs; i++)
			rates[i] = m->run[i].rate;
		qsort(rates, m->runs, sizeof rates[0], cmp_double);
		unsigned k = m->runs;
		m->rate = k % 2 ? rates[k / 2] : (rates[k / 2 - 1] + rates[k / 2]) / 2;
		m->rate_min = rates[0];
		m->rate_max = rates[k - 1];
		/* The run closest to the median stands for events, seconds, file size. */
		unsigned med = 0;
		for (unsigned i = 0; i < k; i++) {
			double d = m->run[i].rate - m->rate, e = m->run[med].rate - m->rate;
			if ((d < 0 ? -d : d) < (e < 0 ? -e : e))
				med = i;
		}
		m->events = m->run[med].events;
		m->seconds = m->run[med].seconds;
		m->file_bytes = m->run[med].file_bytes;
		m->commits = 0;
		m->capped = false;
		m->map_grows = 0;
		for (unsigned i = 0; i < k; i++) {
			m->commits += m->run[i].commits;
			m->capped = m->capped || m->run[i].capped;
			if (m->run[i].map_grows > m->map_grows)
				m->map_grows = m->run[i].map_grows;
		}
		uint64_t n = c->n_samples[w];
		uint64_t *s = c->samples[w];
		qsort(s, n, sizeof s[0], cmp_u64);
		m->p50 = quantile(s, n, 0.50);
		m->p99 = quantile(s, n, 0.99);
		m->p999 = quantile(s, n, 0.999);
		m->max = n ? s[n - 1] : 0;
	}
}

/* ---- output ------------------------------------------------------------ */

struct env {
	struct bench_machine m;
	char load_start[64], load_end[64]; /* /proc/loadavg: other work on the machine */
	char version[128];
	char lmdb[128];
	struct fsinfo fs;
};

static void read_loadavg(char *buf, size_t cap)
{
	snprintf(buf, cap, "?");
	FILE *f = fopen("/proc/loadavg", "r");
	if (!f)
		return;
	double a, b, c;
	if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(buf, cap, "%.2f %.2f %.2f", a, b, c);
	fclose(f);
}

static void read_version(struct env *e)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || strchr(exe, '\''))
		return;
	exe[n] = 0;
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", exe);
	fflush(stdout);
	fflush(stderr);
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	if (fgets(e->version, sizeof e->version, p))
		e->version[strcspn(e->version, "\n")] = 0;
	pclose(p);
}

static void print_header(FILE *out, const struct env *e, const struct opts *o, const struct ctx *c)
{
	fprintf(out, "fks bench journal - LMDB event journal beside a raw LMDB MDB_APPEND loop, %s\n", e->m.date);
	fprintf(out, "machine : %s; %ld CPUs online; %s\n", e->m.cpu_model, e->m.cpus_online, e->m.kernel);
	fprintf(out, "command : %s\n", e->m.cmdline);
	fprintf(out, "load    : %s at the start, %s at the end (1/5/15-min load average: other work here)\n",
		e->load_start, e->load_end);
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
	fprintf(out, "build   : %s, %s, %s; %s\n", e->version[0] ? e->version : "fks (version unknown)", opt, asserts,
		e->lmdb);
	const struct fsinfo *fs = &e->fs;
	fprintf(out, "dir     : %s/ (one fresh directory per measurement, all removed)\n", c->root);
	fprintf(out, "fs      : %s (statfs f_type 0x%lx)%s", fs->type_name, fs->f_type,
		fs->ram ? ", in RAM: fsync flushes nothing, so durable is not durable here" : "");
	if (fs->mount_point[0])
		fprintf(out, "; mounted on %s from %s (%s; %s)", fs->mount_point, fs->source[0] ? fs->source : "?",
			fs->mount_opts, fs->super_opts[0] ? fs->super_opts : "?");
	fprintf(out, "\n");
	if (fs->probe_err[0])
		fprintf(out, "fsync   : probe failed: %s\n", fs->probe_err);
	else
		fprintf(out,
			"fsync   : 4 KiB pwrite + fdatasync here: rewrite in place p50 %.1f us p99 %.1f us (%u), "
			"append p50 %.1f us p99 %.1f us (%u)\n",
			fs->probe_inplace_p50 / 1e3, fs->probe_inplace_p99 / 1e3, fs->probe_inplace_n,
			fs->probe_append_p50 / 1e3, fs->probe_append_p99 / 1e3, fs->probe_append_n);
	fprintf(out, "events  : 64-byte quotes (4 instruments, per-source seq 1..N)");
	if (o->order_batch)
		fprintf(out, "; 128-byte order_new at batch %" PRIu64, o->order_batch);
	fprintf(out, "\n");
	fprintf(out, "runs    : %" PRIu64 " per writer and cell, raw and journal back to back, alternating which goes\n"
		     "          first; each up to %" PRIu64 " events or %.1f s, whichever first, ending at a batch\n"
		     "          boundary; map %zu MiB (no growth during a run); syncfs after each run's removal\n",
		o->repeat, o->events, o->seconds, c->map_size >> 20);
	fprintf(out, "modes   : durable = LMDB flags 0 (fdatasync + O_DSYNC meta write per commit); nometasync =\n"
		     "          MDB_NOMETASYNC (one fdatasync per commit); async = flags 0 on the journal's committer\n"
		     "          thread, so its raw peer is the synchronous flags-0 loop\n");
	fprintf(out, "raw     : mdb_txn_begin, %s(MDB_APPEND) per event (native uint64 key 1..N in the\n"
		     "          MDB_INTEGERKEY database \"events\"), mdb_txn_commit; same env flags and map size\n",
		o->raw_put ? "mdb_put" : "one cursor, mdb_cursor_put");
	fprintf(out, "commit  : journal: time inside journal_commit (async: the hand-off to the committer thread);\n"
		     "          raw: mdb_txn_begin .. mdb_txn_commit, puts included\n");
	fprintf(out, "rate    : events / (first event built .. last commit returned; async: journal_drain returned)\n");
	fprintf(out, "verify  : every directory reopened read-only: keys 1..events, entry count, last record's\n"
		     "          bytes (journal: journal_open_reader; raw: MDB_RDONLY)\n");
}

static void fmt_us(char *buf, size_t cap, uint64_t ns)
{
	double us = (double)ns / 1e3;
	snprintf(buf, cap, us >= 1000 ? "%.0f" : us >= 10 ? "%.1f" : "%.2f", us);
}

/* journal / raw: the median over k of journal run k / raw run k.  Run k of
 * each writer ran back to back, so a pair shares the disk's weather (a
 * stall of a second or two on a shared VM), which a ratio of the two
 * medians would not. */
static bool ratio_of(const struct cell *cell, double *r)
{
	const struct meas *j = &cell->m[I_JOURNAL], *w = &cell->m[I_RAW];
	if (!j->ok || !w->ok || !j->runs || j->runs != w->runs)
		return false;
	double q[MAX_REPEAT];
	unsigned k = j->runs;
	for (unsigned i = 0; i < k; i++) {
		if (w->run[i].rate <= 0)
			return false;
		q[i] = j->run[i].rate / w->run[i].rate;
	}
	qsort(q, k, sizeof q[0], cmp_double);
	*r = k % 2 ? q[k / 2] : (q[k / 2 - 1] + q[k / 2]) / 2;
	return true;
}

static void print_table(FILE *out, const struct cell *cells, unsigned n, const struct opts *o)
{
	fprintf(out, "\nevents/s: median of %" PRIu64 " run%s (range: slowest-fastest run); commit latency in us over "
		     "every commit of every run\n",
		o->repeat, o->repeat == 1 ? "" : "s");
	fprintf(out, "%-10s | %5s | %5s | %-7s | %9s | %5s | %8s | %13s | %7s | %8s | %8s | %8s | %8s | %s\n", "mode",
		"batch", "bytes", "writer", "events/run", "s/run", "events/s", "range", "commits", "p50", "p99", "p99.9",
		"max", "journal/raw");
	fprintf(out, "-----------+-------+-------+---------+------------+-------+----------+---------------+---------+----"
		     "------+----------+----------+----------+------------\n");
	for (unsigned i = 0; i < n; i++) {
		const struct cell *cell = &cells[i];
		for (int w = 0; w < I_COUNT; w++) {
			const struct meas *m = &cell->m[w];
			size_t esz = fks_event_size(cell->type);
			if (!m->ran)
				continue;
			if (!m->ok) {
				fprintf(out, "%-10s | %5" PRIu64 " | %5zu | %-7s | FAILED: %s\n",
					journal_sync_name(cell->mode), cell->batch, esz, impl_names[w], m->why);
				continue;
			}
			char rate[16], lo[16], hi[16], range[40], ev[24], p[4][16], ratio[48] = "";
			fmt_si(rate, sizeof rate, m->rate);
			fmt_si(lo, sizeof lo, m->rate_min);
			fmt_si(hi, sizeof hi, m->rate_max);
			snprintf(range, sizeof range, "%s-%s", lo, hi);
			snprintf(ev, sizeof ev, "%" PRIu64 "%s", m->events, m->capped ? "*" : "");
			fmt_us(p[0], sizeof p[0], m->p50);
			fmt_us(p[1], sizeof p[1], m->p99);
			fmt_us(p[2], sizeof p[2], m->p999);
			fmt_us(p[3], sizeof p[3], m->max);
			double r;
			if (w == I_JOURNAL && ratio_of(cell, &r))
				snprintf(ratio, sizeof ratio, "%5.2f %s", r, r >= TARGET_RATIO ? "met" : "MISSED");
			char line[320];
			int len = snprintf(line, sizeof line,
					   "%-10s | %5" PRIu64 " | %5zu | %-7s | %10s | %5.2f | %8s | %13s | %7" PRIu64
					   " | %8s | %8s | %8s | %8s | %s",
					   journal_sync_name(cell->mode), cell->batch, esz, impl_names[w], ev, m->seconds,
					   rate, range, m->commits, p[0], p[1], p[2], p[3], ratio);
			if (len < 0)
				len = 0;
			if ((size_t)len >= sizeof line)
				len = (int)sizeof line - 1;
			while (len > 0 && line[len - 1] == ' ')
				len--; /* the raw rows have no ratio */
			fprintf(out, "%.*s\n", len, line);
		}
	}
	fprintf(out, "(events/run and s/run: the run nearest the median; * a run stopped by the --seconds time\n"
		     " cap before N events.  journal/raw: the median of the per-pair ratios, journal run k over\n"
		     " raw run k, which ran back to back; it can differ from the ratio of the two medians)\n");
	bool any_async = false;
	for (unsigned i = 0; i < n; i++)
		any_async = any_async || cells[i].mode == FKS_SYNC_ASYNC;
	if (any_async)
		fprintf(out, "(async: the journal's caller appends while its committer thread flushes, and events\n"
			     " appended meanwhile join the committer's next transaction, so its transactions are larger\n"
			     " than the batch; the raw peer flushes each batch in line.  There the ratio measures that\n"
			     " pipelining, not the journal's overhead, and commit latency is the hand-off only.)\n");
}

/* Targets; returns nothing, prints met/MISSED for each. */
static void print_targets(FILE *out, const struct cell *cells, unsigned n)
{
	fprintf(out, "\ntargets (computed from this run):\n");
	/* Durable with group commit: the best 64-byte durable row with batch > 1. */
	const struct cell *best = NULL;
	bool any_durable = false;
	for (unsigned i = 0; i < n; i++) {
		const struct cell *cell = &cells[i];
		if (cell->mode != FKS_SYNC_DURABLE || cell->type != FKS_EV_QUOTE || cell->batch < 2)
			continue;
		any_durable = true;
		if (cell->m[I_JOURNAL].ok && (!best || cell->m[I_JOURNAL].rate > best->m[I_JOURNAL].rate))
			best = cell;
	}
	char buf[32];
	if (best) {
		double v = best->m[I_JOURNAL].rate;
		fmt_si(buf, sizeof buf, v);
		fprintf(out, "  durable journal, group commit, events/s  %8s at batch %-6" PRIu64 " target >= 1M       %s\n",
			buf, best->batch, v >= TARGET_DURABLE_RATE ? "met" : "MISSED");
	} else {
		fprintf(out, "  durable journal, group commit, events/s  n/a (%s)\n",
			any_durable ? "every durable run with batch > 1 failed" : "no durable run with batch > 1 requested");
	}
	unsigned have = 0, met = 0;
	const struct cell *worst = NULL;
	double worst_r = 0;
	for (unsigned i = 0; i < n; i++) {
		double r;
		if (!ratio_of(&cells[i], &r))
			continue;
		have++;
		met += r >= TARGET_RATIO;
		if (!worst || r < worst_r)
			worst = &cells[i], worst_r = r;
	}
	if (!have) {
		fprintf(out, "  journal / raw events/s                   n/a (no cell with both runs ok)\n");
		return;
	}
	fprintf(out, "  journal / raw events/s, every cell       met in %u of %u; worst %.2f (%s b%" PRIu64 " %zuB) "
		     "target >= %.2f  %s\n",
		met, have, worst_r, journal_sync_name(worst->mode), worst->batch, fks_event_size(worst->type),
		TARGET_RATIO, met == have ? "met" : "MISSED");
	for (unsigned i = 0; i < n; i++) {
		double r;
		if (ratio_of(&cells[i], &r) && r < TARGET_RATIO)
			fprintf(out, "    MISSED: %s b%" PRIu64 " %zuB: %.2f\n", journal_sync_name(cells[i].mode), cells[i].batch,
				fks_event_size(cells[i].type), r);
	}
}

static void json_metric(const struct cell *cell, const char *writer, const struct meas *m, const char *metric,
			double value, const char *unit, int decimals, const char *extra)
{
	printf("{\"mode\":\"%s\",\"batch\":%" PRIu64 ",\"event\":\"%s\",\"event_bytes\":%zu,\"writer\":\"%s\","
	       "\"metric\":\"%s\",\"value\":%.*f,\"unit\":\"%s\"",
	       journal_sync_name(cell->mode), cell->batch, cell_event_name(cell), fks_event_size(cell->type), writer,
	       metric, decimals, value, unit);
	if (m)
		printf(",\"runs\":%u,\"events\":%" PRIu64 ",\"commits\":%" PRIu64 ",\"capped\":%s", m->runs, m->events,
		       m->commits, m->capped ? "true" : "false");
	printf("%s}\n", extra ? extra : "");
}

static void print_json(const struct cell *cells, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct cell *cell = &cells[i];
		for (int w = 0; w < I_COUNT; w++) {
			const struct meas *m = &cell->m[w];
			if (!m->ok)
				continue;
			const char *wn = impl_names[w];
			json_metric(cell, wn, m, "rate", m->rate, "events/s", 0, NULL);
			json_metric(cell, wn, m, "rate_min", m->rate_min, "events/s", 0, NULL);
			json_metric(cell, wn, m, "rate_max", m->rate_max, "events/s", 0, NULL);
			json_metric(cell, wn, m, "seconds", m->seconds, "s", 3, NULL);
			json_metric(cell, wn, m, "commit_p50", (double)m->p50, "ns", 0, NULL);
			json_metric(cell, wn, m, "commit_p99", (double)m->p99, "ns", 0, NULL);
			json_metric(cell, wn, m, "commit_p999", (double)m->p999, "ns", 0, NULL);
			json_metric(cell, wn, m, "commit_max", (double)m->max, "ns", 0, NULL);
			json_metric(cell, wn, m, "file_bytes", (double)m->file_bytes, "bytes", 0, NULL);
			for (unsigned k = 0; k < m->runs; k++) {
				char extra[160];
				snprintf(extra, sizeof extra,
					 ",\"run\":%u,\"run_events\":%" PRIu64 ",\"run_seconds\":%.3f,\"run_capped\":%s", k + 1,
					 m->run[k].events, m->run[k].seconds, m->run[k].capped ? "true" : "false");
				json_metric(cell, wn, NULL, "run_rate", m->run[k].rate, "events/s", 0, extra);
			}
		}
		double r;
		if (ratio_of(cell, &r))
			json_metric(cell, "journal/raw", NULL, "rate_ratio", r, "ratio", 3, NULL);
	}
	fflush(stdout);
}

/* ---- entry ------------------------------------------------------------- */

/* Cells: per mode, every batch with quotes, then the order cell.  Returns
 * how many, and the most commits any one run makes. */
static unsigned plan_cells(const struct opts *o, struct cell *cells, uint64_t *max_commits)
{
	unsigned n_cells = 0;
	*max_commits = 0;
	for (unsigned i = 0; i < o->n_modes; i++) {
		for (unsigned b = 0; b <= o->n_batches; b++) {
			uint64_t batch = b < o->n_batches ? o->batch[b] : o->order_batch;
			if (!batch)
				continue;
			struct cell *cell = &cells[n_cells++];
			memset(cell, 0, sizeof *cell);
			cell->mode = o->mode[i];
			cell->batch = batch;
			cell->type = b < o->n_batches ? FKS_EV_QUOTE : FKS_EV_ORDER_NEW;
			uint64_t commits = (o->events + batch - 1) / batch;
			if (commits > *max_commits)
				*max_commits = commits;
		}
	}
	return n_cells;
}

/* The file system under the runs, and the cost of one fdatasync there. */
static void probe_fs(struct ctx *c, struct env *env)
{
	struct statfs sf;
	if (statfs(c->root, &sf) == 0) {
		env->fs.f_type = (unsigned long)sf.f_type;
		env->fs.type_name = fs_type_name(env->fs.f_type, &env->fs.ram);
	} else {
		env->fs.type_name = "unknown (statfs failed)";
	}
	read_mountinfo(c->root, &env->fs);
	fprintf(stderr, PROG ": %s on %s; probing the cost of one fdatasync\n", c->root, env->fs.type_name);
	fsync_probe(c->root, &env->fs);
}

/* Every cell, repeat times, the raw and the journal writer alternating
 * which goes first.  1 when a run failed, else 0. */
static int run_cells(struct ctx *c, struct cell *cells, unsigned n_cells)
{
	const struct opts *o = c->o;
	int exit_code = 0;
	unsigned idx = 0, count = n_cells * I_COUNT * (unsigned)o->repeat;
	for (unsigned i = 0; i < n_cells && !g_signal; i++) {
		for (unsigned rep = 0; rep < o->repeat && !g_signal; rep++) {
			enum impl first = (i + rep) % 2 ? I_JOURNAL : I_RAW;
			for (int k = 0; k < I_COUNT && !g_signal; k++) {
				enum impl w = k == 0 ? first : (enum impl)(I_COUNT - 1 - first);
				run_one(c, &cells[i], w, rep, ++idx, count);
				if (!cells[i].m[w].ok)
					exit_code = 1;
			}
		}
		summarize(c, &cells[i]);
	}
	return exit_code;
}

static void release(struct ctx *c, struct sigaction *saved)
{
	free(c->samples[I_RAW]);
	free(c->samples[I_JOURNAL]);
	free(c->meta);
	if (c->root_fd >= 0)
		close(c->root_fd);
	remove_dir(c->root);
	for (size_t i = 0; i < NHANDLED; i++)
		sigaction(handled_signals[i], &saved[i], NULL);
}

static void print_results(const struct env *env, const struct opts *o, const struct ctx *c,
			  const struct cell *cells, unsigned n_cells)
{
	if (o->json) {
		print_json(cells, n_cells);
		print_header(stderr, env, o, c);
		print_targets(stderr, cells, n_cells);
	} else {
		print_header(stdout, env, o, c);
		print_table(stdout, cells, n_cells, o);
		print_targets(stdout, cells, n_cells);
		fflush(stdout);
	}
}

int bench_journal_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	static struct env env;
	memset(&env, 0, sizeof env);
	bench_machine_read(&env.m, argc, argv);
	read_loadavg(env.load_start, sizeof env.load_start);
	read_version(&env);
	snprintf(env.lmdb, sizeof env.lmdb, "%s", mdb_version(NULL, NULL, NULL));

	static struct ctx c;
	memset(&c, 0, sizeof c);
	c.o = &o;
	snprintf(c.root, sizeof c.root, "%s/fks-bench-journal-XXXXXX", o.dir);
	if (!mkdtemp(c.root)) {
		fprintf(stderr, PROG ": cannot make a directory under %s: %s\n", o.dir, strerror(errno));
		return 1;
	}

	c.root_fd = open(c.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sigaction sa, saved[NHANDLED];
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < NHANDLED; i++)
		sigaction(handled_signals[i], &sa, &saved[i]);
	probe_fs(&c, &env);

	/* Map: room for the largest run, so no run pays for growing it. */
	uint64_t need = o.events * (2 * FKS_EVENT_LINE + 64) * 2 + (64ull << 20);
	c.map_size = JOURNAL_DEFAULT_MAP_SIZE;
	while (c.map_size < need)
		c.map_size *= 2;

	static struct cell cells[NMODES * (MAX_BATCHES + 1)];
	uint64_t max_commits;
	unsigned n_cells = plan_cells(&o, cells, &max_commits);
	uint64_t pool = max_commits * o.repeat;
	c.samples[I_RAW] = malloc(pool * sizeof(uint64_t));
	c.samples[I_JOURNAL] = malloc(pool * sizeof(uint64_t));
	c.meta = malloc(sizeof *c.meta);
	if (!c.samples[I_RAW] || !c.samples[I_JOURNAL] || !c.meta) {
		fprintf(stderr, PROG ": cannot allocate 2 x %" PRIu64 " commit samples: %s\n", pool, strerror(ENOMEM));
		release(&c, saved);
		return 1;
	}
	/* Fault the pages in now, not during a run. */
	memset(c.samples[I_RAW], 0, pool * sizeof(uint64_t));
	memset(c.samples[I_JOURNAL], 0, pool * sizeof(uint64_t));
	bench_meta(c.meta);

	uint64_t t0 = (uint64_t)clock_mono_ns();
	int exit_code = run_cells(&c, cells, n_cells);
	if (g_signal) {
		fprintf(stderr, PROG ": interrupted by %s after %.1f s; no results\n", strsignal(g_signal),
			(double)((uint64_t)clock_mono_ns() - t0) / 1e9);
		release(&c, saved);
		raise(g_signal);
		return 1;
	}
	fprintf(stderr, PROG ": %u measurements in %.1f s\n", c.seq_no, (double)((uint64_t)clock_mono_ns() - t0) / 1e9);
	read_loadavg(env.load_end, sizeof env.load_end);
	print_results(&env, &o, &c, cells, n_cells);
	release(&c, saved);
	return exit_code;
}
