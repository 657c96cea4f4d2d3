/*
 * `fks status`: per-stage counters of a running pipeline, read from shared
 * memory only.  It maps the run segment and the rings read-only, so it can
 * neither slow nor disturb a stage.
 *
 * --watch follows whatever run holds the prefix: it waits for one to start,
 * shows it every interval, says when and how it stopped, and waits for the
 * next.  Every line fits 80 columns and is in human units; screen clears
 * go to a terminal only, so a file or a pipe gets plain snapshots.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/config/config.h"
#include "pipeline/cli/options.h"
#include "pipeline/runtime/run.h"
#include "pipeline/runtime/runseg.h"
#include "shm/clock.h"

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks status [--prefix NAME] [--watch] [--interval SECONDS] [--json]\n"
		"\n"
		"Per-stage counters of a running pipeline, with rates over the interval:\n"
		"state, pid, heartbeat age, events in/out and per second, busy share,\n"
		"cpu share, receive-to-emit latency, ring depths and producer blocked time.\n"
		"busy: the share of the interval a stage spent in the sections it times\n"
		"itself (handling events; in a shared runner, not the time it spent\n"
		"running the stages beside it); cpu: the stage process's CPU time (all its\n"
		"threads) over its wall time since it started, in percent of one core,\n"
		"which also counts polling, system calls and the journal's commits.\n"
		"Reads shared memory only; it never touches the stages.\n"
		"\n"
		"--watch follows the run of the prefix until interrupted: it waits for one\n"
		"to start, says when and how it stopped (clean, a stage that died or\n"
		"failed, the kill switch) and then waits for the next.  On a terminal it\n"
		"redraws the screen; into a file or pipe it prints one snapshot per\n"
		"interval, separated by a blank line, with no control codes.\n"
		"--json prints one snapshot as one JSON object (times in ns, exact counts).\n"
		"Exit status: 0 done, 1 no running pipeline (without --watch), 2 usage.\n"
		"\n");
	opts_print_help(table, out);
}

struct sample {
	uint64_t t;
	uint64_t in[FKS_CFG_STAGE_COUNT], out[FKS_CFG_STAGE_COUNT];
	uint64_t busy[FKS_CFG_STAGE_COUNT];
};

static void take(const struct run_segment *rs, struct sample *s)
{
	s->t = (uint64_t)clock_mono_ns();
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		s->in[i] = atomic_load(&rs->stage[i].events_in);
		s->out[i] = atomic_load(&rs->stage[i].events_out);
		s->busy[i] = atomic_load(&rs->stage[i].busy_ns);
	}
}

/* The share of the interval stage i handled events itself, in percent; a
 * runner corrects a stage's count right after a poll (runner.c), so a
 * sample taken in between can be a little ahead of the next. */
static double busy_pct(const struct sample *a, const struct sample *b, int i)
{
	uint64_t db = b->busy[i] > a->busy[i] ? b->busy[i] - a->busy[i] : 0;
	return b->t > a->t ? 100.0 * (double)db / (double)(b->t - a->t) : 0.0;
}

/* ---- human units -------------------------------------------------------- */

#define STATUS_COLUMNS 80
#define HUMAN_MAX 16

/* One line of the display, cut at 80 columns: every line goes through here. */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	line[STATUS_COLUMNS] = 0; /* the buffer is wider: a longer line is cut */
	puts(line);
}

/* v in the largest unit where it stays below 1000 once rounded to one
 * decimal: "39.8 ms", "1.2 s", "812 ns".  At most 8 characters below
 * 1000 hours. */
static const char *human_ns(char buf[HUMAN_MAX], double ns)
{
	static const struct { const char *unit; double size; } units[] = {
		{ "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "min", 60e9 }, { "h", 3600e9 },
	};
	if (ns < 999.5) {
		snprintf(buf, HUMAN_MAX, "%.0f ns", ns);
		return buf;
	}
	size_t u = 0;
	while (u + 1 < sizeof units / sizeof units[0] && ns / units[u].size >= 999.95)
		u++;
	snprintf(buf, HUMAN_MAX, "%.1f %s", ns / units[u].size, units[u].unit);
	return buf;
}

/* A latency quantile, "-" for none (an empty histogram: the feed has no
 * cause to measure from). */
static const char *human_latency(char buf[HUMAN_MAX], uint64_t ns)
{
	if (!ns) {
		snprintf(buf, HUMAN_MAX, "-");
		return buf;
	}
	return human_ns(buf, (double)ns);
}

/* A count or a rate with k/M/G: "812", "39.8k", "1.2M".  At most 6
 * characters below 1000 T. */
static const char *human_count(char buf[HUMAN_MAX], double n)
{
	static const char suffix[] = "kMGT";
	if (n < 999.5) {
		snprintf(buf, HUMAN_MAX, "%.0f", n);
		return buf;
	}
	size_t u = 0;
	double scaled = n / 1e3;
	while (u + 1 < sizeof suffix - 1 && scaled >= 999.95) {
		scaled /= 1e3;
		u++;
	}
	snprintf(buf, HUMAN_MAX, "%.1f%c", scaled, suffix[u]);
	return buf;
}

/* "12.3%", or "150%" from 100 on (cpu counts every thread of a process). */
static const char *human_pct(char buf[HUMAN_MAX], double pct)
{
	snprintf(buf, HUMAN_MAX, pct < 99.95 ? "%.1f%%" : "%.0f%%", pct);
	return buf;
}

/* ---- one snapshot ------------------------------------------------------- */

/* A heartbeat older than this is worth a line under the table. */
#define STALE_BEAT_NS 1000000000ull

static void show_stages(const struct run_segment *rs, const struct sample *a, const struct sample *b)
{
	double dt = (double)(b->t - a->t) / 1e9;
	char in[HUMAN_MAX], out[HUMAN_MAX], rate[HUMAN_MAX], busy[HUMAN_MAX], cpu[HUMAN_MAX], p50[HUMAN_MAX],
		p99[HUMAN_MAX];
	emit("%-8s %-8s %7s %7s %7s %7s %5s %5s %8s %8s", "stage", "state", "pid", "in", "out", "out/s", "busy",
	     "cpu", "lat p50", "lat p99");
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		const struct stage_stats *st = &rs->stage[i];
		emit("%-8s %-8s %7d %7s %7s %7s %5s %5s %8s %8s", config_stage_name((enum fks_cfg_stage)i),
		     runseg_state_name(atomic_load(&st->state)), (int)atomic_load(&st->pid),
		     human_count(in, (double)b->in[i]), human_count(out, (double)b->out[i]),
		     human_count(rate, (double)(b->out[i] - a->out[i]) / dt),
		     human_pct(busy, busy_pct(a, b, i)),
		     human_pct(cpu, runseg_cpu_pct(st)), human_latency(p50, hist_quantile(&st->latency, 0.5)),
		     human_latency(p99, hist_quantile(&st->latency, 0.99)));
	}
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		const struct stage_stats *st = &rs->stage[i];
		uint64_t beat = atomic_load(&st->heartbeat_ns);
		if (atomic_load(&st->state) == STAGE_RUNNING && beat && b->t > beat + STALE_BEAT_NS)
			emit("%s: no heartbeat for %s", config_stage_name((enum fks_cfg_stage)i),
			     human_ns(p50, (double)(b->t - beat)));
	}
}

static void show_journal_and_gateway(const struct run_segment *rs, const struct sample *b)
{
	char x[HUMAN_MAX], y[HUMAN_MAX], z[HUMAN_MAX];
	const struct stage_stats *jn = &rs->stage[FKS_CFG_JOURNAL], *gw = &rs->stage[FKS_CFG_GATEWAY];
	uint64_t since = atomic_load(&jn->disk_wait_since_ns);
	if (since && b->t > since)
		emit("journal: committing for %s (a slow disk: the taps fill, producers wait)",
		     human_ns(x, (double)(b->t - since)));
	if (atomic_load(&jn->journal_part) > 1)
		emit("journal: writing part %u (rotated %u times; %u old parts deleted by retain)",
		     atomic_load(&jn->journal_part), atomic_load(&jn->journal_part) - 1,
		     atomic_load(&jn->journal_parts_removed));
	/* exact: scripts read these (a count of at most 20 digits still fits) */
	emit("gateway: %" PRIu64 " orders, %" PRIu64 " fills", (uint64_t)atomic_load(&gw->counter[CTR_ORDERS]),
	     (uint64_t)atomic_load(&gw->counter[CTR_FILLS]));
	emit("tick-to-trade: p50 %s, p99 %s, p99.9 %s", human_ns(x, (double)hist_quantile(&gw->tick_to_trade, 0.5)),
	     human_ns(y, (double)hist_quantile(&gw->tick_to_trade, 0.99)),
	     human_ns(z, (double)hist_quantile(&gw->tick_to_trade, 0.999)));
}

/* The ring's name without "<prefix>.": the prefix is in the title. */
static const char *ring_short_name(const struct run_segment *rs, int r)
{
	size_t n = strlen(rs->prefix);
	const char *name = rs->ring_name[r];
	return !strncmp(name, rs->prefix, n) && name[n] == '.' ? name + n + 1 : name;
}

static void show_rings(const struct run_segment *rs)
{
	char blocked[HUMAN_MAX], waits[HUMAN_MAX], parks[HUMAN_MAX];
	emit("%-16s %8s %8s %10s %8s %8s", "ring", "depth", "capacity", "blocked", "waits", "parks");
	for (int r = 0; r < RUN_RING_COUNT; r++) {
		const struct ring_shared *shm;
		size_t len;
		if (ring_observe(rs->ring_name[r], &shm, &len) != RING_OK) {
			emit("%-16s (not available)", ring_short_name(rs, r));
			continue;
		}
		const struct ring_side_info *p = &shm->side[RING_PRODUCER], *c = &shm->side[RING_CONSUMER];
		emit("%-16s %8" PRIu64 " %8" PRIu64 " %10s %8s %8s", ring_short_name(rs, r), (uint64_t)ring_depth(shm),
		     (uint64_t)shm->capacity, human_ns(blocked, (double)atomic_load(&p->blocked_ns)),
		     human_count(waits, (double)atomic_load(&p->waits)),
		     human_count(parks, (double)(atomic_load(&p->parks) + atomic_load(&c->parks))));
		ring_unobserve(shm, len);
	}
}

/* How long the run has been going: from its start in wall-clock time. */
static double run_age_ns(const struct run_segment *rs)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - rs->start_realtime_ns;
	return ns > 0 ? (double)ns : 0.0;
}

static void show(const struct run_segment *rs, const struct sample *a, const struct sample *b)
{
	char up[HUMAN_MAX];
	emit("pipeline '%s' (supervisor pid %d), up %s", rs->prefix, rs->supervisor_pid,
	     human_ns(up, run_age_ns(rs)));
	if (atomic_load(&rs->control.kill))
		emit("KILL SWITCH TRIPPED: %s", rs->control.kill_reason);
	show_stages(rs, a, b);
	show_journal_and_gateway(rs, b);
	show_rings(rs);
}

/* ---- --json ------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* One object: exact counts, times in ns, rates per second over the interval. */
static void show_json(const struct run_segment *rs, const struct sample *a, const struct sample *b)
{
	double dt = (double)(b->t - a->t) / 1e9;
	printf("{\"prefix\":");
	json_string(rs->prefix);
	printf(",\"supervisor_pid\":%d,\"start_realtime_ns\":\"%" PRId64 "\",\"interval_s\":%.3f,\"kill\":%s,"
	       "\"kill_reason\":",
	       rs->supervisor_pid, rs->start_realtime_ns, dt, atomic_load(&rs->control.kill) ? "true" : "false");
	json_string(atomic_load(&rs->control.kill) ? rs->control.kill_reason : "");
	printf(",\"stages\":[");
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		const struct stage_stats *st = &rs->stage[i];
		uint64_t beat = atomic_load(&st->heartbeat_ns);
		printf("%s{\"stage\":\"%s\",\"state\":\"%s\",\"pid\":%d,\"heartbeat_age_ns\":%" PRIu64
		       ",\"events_in\":%" PRIu64 ",\"events_out\":%" PRIu64 ",\"in_per_s\":%.1f,\"out_per_s\":%.1f,"
		       "\"busy_pct\":%.2f,\"cpu_pct\":%.2f,\"latency_p50_ns\":%" PRIu64 ",\"latency_p99_ns\":%" PRIu64 "}",
		       i ? "," : "", config_stage_name((enum fks_cfg_stage)i), runseg_state_name(atomic_load(&st->state)),
		       (int)atomic_load(&st->pid), beat && b->t > beat ? b->t - beat : 0, b->in[i], b->out[i],
		       (double)(b->in[i] - a->in[i]) / dt, (double)(b->out[i] - a->out[i]) / dt,
		       busy_pct(a, b, i), runseg_cpu_pct(st),
		       hist_quantile(&st->latency, 0.5), hist_quantile(&st->latency, 0.99));
	}
	const struct stage_stats *gw = &rs->stage[FKS_CFG_GATEWAY];
	printf("],\"orders\":%" PRIu64 ",\"fills\":%" PRIu64 ",\"tick_to_trade_p50_ns\":%" PRIu64
	       ",\"tick_to_trade_p99_ns\":%" PRIu64 ",\"tick_to_trade_p999_ns\":%" PRIu64 ",\"rings\":[",
	       (uint64_t)atomic_load(&gw->counter[CTR_ORDERS]), (uint64_t)atomic_load(&gw->counter[CTR_FILLS]),
	       hist_quantile(&gw->tick_to_trade, 0.5), hist_quantile(&gw->tick_to_trade, 0.99),
	       hist_quantile(&gw->tick_to_trade, 0.999));
	for (int r = 0, first = 1; r < RUN_RING_COUNT; r++) {
		const struct ring_shared *shm;
		size_t len;
		if (ring_observe(rs->ring_name[r], &shm, &len) != RING_OK)
			continue;
		const struct ring_side_info *p = &shm->side[RING_PRODUCER], *c = &shm->side[RING_CONSUMER];
		printf("%s{\"ring\":", first ? "" : ",");
		json_string(rs->ring_name[r]);
		printf(",\"depth\":%" PRIu64 ",\"capacity\":%" PRIu64 ",\"blocked_ns\":%" PRIu64 ",\"waits\":%" PRIu64
		       ",\"parks\":%" PRIu64 "}",
		       (uint64_t)ring_depth(shm), (uint64_t)shm->capacity, (uint64_t)atomic_load(&p->blocked_ns),
		       (uint64_t)atomic_load(&p->waits), (uint64_t)(atomic_load(&p->parks) + atomic_load(&c->parks)));
		ring_unobserve(shm, len);
		first = 0;
	}
	printf("]}\n");
}

/* ---- following runs ----------------------------------------------------- */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL); /* a signal cuts it short: stop is then set */
}

enum open_result { OPENED, NOT_RUNNING, OPEN_FAILED };

/* The live run of prefix into *rs.  NOT_RUNNING: no segment, or a crashed
 * run's (`fks run` cleans those up); with quiet false, said on stderr. */
static enum open_result open_live(const char *prefix, bool quiet, struct run_segment **rs)
{
	int rc = runseg_open(prefix, false, rs);
	if (rc == RING_E_NOENT) {
		if (!quiet)
			fprintf(stderr, "fks status: no running pipeline with prefix '%s' (%s)\n", prefix,
				ring_strerror(rc));
		return NOT_RUNNING;
	}
	if (rc) {
		char why[320];
		runseg_explain(prefix, rc, why, sizeof why);
		fprintf(stderr, "fks status: cannot read the run segment %s\n", why);
		return OPEN_FAILED;
	}
	/* A crashed run's counters stay frozen in its segment: showing them as a
	 * running pipeline would hide the crash. */
	if (!runseg_supervisor_alive(*rs)) {
		if (!quiet)
			fprintf(stderr,
				"fks status: the pipeline '%s' is not running (supervisor pid %d gone); the segments are a\n"
				"crashed run's, and `fks run` will clean them up\n",
				prefix, (*rs)->supervisor_pid);
		runseg_close(*rs);
		return NOT_RUNNING;
	}
	return OPENED;
}

/* How the run of rs ended, read from its segment after its supervisor is
 * gone: a stage that failed, a stage the supervisor found dead (it trips
 * the kill switch for it), the operator's kill switch, or a clean stop. */
static void describe_end(const struct run_segment *rs, char *how, size_t cap)
{
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++)
		if (atomic_load(&rs->stage[i].state) == STAGE_FAILED) {
			snprintf(how, cap, "stage %s failed: %.*s", config_stage_name((enum fks_cfg_stage)i),
				 (int)sizeof rs->stage[i].error, rs->stage[i].error);
			return;
		}
	if (atomic_load(&rs->control.kill)) {
		uint32_t by = atomic_load(&rs->control.kill_stage);
		snprintf(how, cap, "%s: %s", by < FKS_CFG_STAGE_COUNT ? "killed stage" : "kill switch",
			 rs->control.kill_reason);
		return;
	}
	for (int i = 0; i < FKS_CFG_STAGE_COUNT; i++) {
		uint32_t state = atomic_load(&rs->stage[i].state);
		if (state != STAGE_EXITED) {
			snprintf(how, cap, "the supervisor ended with stage %s %s", config_stage_name((enum fks_cfg_stage)i),
				 runseg_state_name(state));
			return;
		}
	}
	snprintf(how, cap, "clean stop, every stage exited");
}

static void report_end(const struct run_segment *rs)
{
	char how[256], age[HUMAN_MAX], orders[HUMAN_MAX], fills[HUMAN_MAX], events[HUMAN_MAX], when[16];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof when, "%H:%M:%S", localtime_r(&now, &tm));
	describe_end(rs, how, sizeof how);
	const struct stage_stats *gw = &rs->stage[FKS_CFG_GATEWAY];
	emit("run '%s' (supervisor pid %d) stopped at %s after %s", rs->prefix, rs->supervisor_pid, when,
	     human_ns(age, run_age_ns(rs)));
	emit("how: %s", how);
	emit("totals: %s market events, %s orders, %s fills",
	     human_count(events, (double)atomic_load(&rs->stage[FKS_CFG_FEED].events_out)),
	     human_count(orders, (double)atomic_load(&gw->counter[CTR_ORDERS])),
	     human_count(fills, (double)atomic_load(&gw->counter[CTR_FILLS])));
}

struct watch {
	const char *prefix;
	double interval;
	bool tty;         /* redraw the screen; else blank lines between blocks */
	bool printed;     /* a block is out: the next one is separated from it */
};

/* Before each block: a screen clear on a terminal, else a blank line. */
static void begin_block(struct watch *w, bool snapshot)
{
	if (w->tty && snapshot)
		fputs("\033[H\033[2J", stdout);
	else if (w->printed)
		putchar('\n');
	w->printed = true;
}

static void end_block(void) { fflush(stdout); }

/* Until interrupted: wait for a run, show it, report its end, wait again. */
static int watch_runs(struct watch *w)
{
	/* Waiting polls faster than the interval, so a short run is not missed. */
	double poll = w->interval < 0.1 ? w->interval : 0.1;
	struct run_segment *rs = NULL;
	struct sample a, b;
	bool waiting_said = false, seen_a_run = false;
	while (!stop) {
		if (!rs) {
			enum open_result r = open_live(w->prefix, true, &rs);
			if (r == OPEN_FAILED)
				return 1;
			if (r == NOT_RUNNING) {
				rs = NULL;
				if (!waiting_said) {
					begin_block(w, false);
					emit("waiting for %s run with prefix '%s' to start (Ctrl-C to stop)",
					     seen_a_run ? "the next" : "a", w->prefix);
					end_block();
					waiting_said = true;
				}
				sleep_s(poll);
				continue;
			}
			waiting_said = false;
			seen_a_run = true;
			take(rs, &a);
		}
		sleep_s(w->interval);
		if (stop)
			break;
		if (!runseg_supervisor_alive(rs)) {
			begin_block(w, false);
			report_end(rs);
			end_block();
			runseg_close(rs);
			rs = NULL;
			continue;
		}
		take(rs, &b);
		begin_block(w, true);
		show(rs, &a, &b);
		end_block();
		a = b;
	}
	if (rs)
		runseg_close(rs);
	return 0;
}

/* One snapshot over one interval: the text or the JSON object. */
static int snapshot(const char *prefix, double interval, bool json)
{
	struct run_segment *rs;
	if (open_live(prefix, false, &rs) != OPENED)
		return 1;
	struct sample a, b;
	take(rs, &a);
	sleep_s(interval);
	if (!runseg_supervisor_alive(rs)) {
		fprintf(stderr, "fks status: the pipeline '%s' stopped (supervisor pid %d gone)\n", prefix,
			rs->supervisor_pid);
		runseg_close(rs);
		return 1;
	}
	take(rs, &b);
	if (json)
		show_json(rs, &a, &b);
	else
		show(rs, &a, &b);
	fflush(stdout);
	runseg_close(rs);
	return 0;
}

int status_main(int argc, char **argv)
{
	const char *prefix = "fks";
	bool watch = false, json = false;
	double interval = 1.0;
	const struct opt opts[] = {
		{ .name = "prefix", .kind = OPT_STRING, .dest = &prefix, .arg = "NAME",
		  .help = "the run's shared-memory prefix", .dflt = "\"fks\"" },
		{ .name = "watch", .short_name = 'w', .kind = OPT_FLAG, .dest = &watch,
		  .help = "follow the prefix's runs until interrupted" },
		{ .name = "interval", .kind = OPT_DECIMAL, .dest = &interval, .arg = "SECONDS",
		  .help = "sampling interval", .dflt = "1", .expect = "seconds > 0", .dmin = 0, .dmin_open = true },
		{ .name = "json", .kind = OPT_FLAG, .dest = &json, .help = "one snapshot as one JSON object" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks status", .help_col = 23, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	if (npos > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	if (json && watch)
		return opts_usage_error(&table, "--json prints one snapshot: not with --watch");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!watch)
		return snapshot(prefix, interval, json);
	struct watch w = { .prefix = prefix, .interval = interval, .tty = isatty(STDOUT_FILENO) };
	return watch_runs(&w);
}
