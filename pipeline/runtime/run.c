/*
 * `fks run`: the supervisor.  Creates the run segment and the rings, forks
 * one pinned process per stage, watches them, and stops the pipeline:
 *
 *  - on SIGINT, SIGTERM, SIGHUP or SIGQUIT (to the supervisor or to its
 *    whole process group: the stages ignore them), --duration or --events:
 *    set `stop`; the feed stops, each stage drains and exits (the close
 *    cascade in stage_int.h); exit 0 with a summary, even when stdout is
 *    gone (SIGPIPE is ignored, the lost summary is reported on stderr);
 *  - when strategy, risk or gateway dies or stalls: trip the kill switch
 *    (the gateway cancels open orders and sends nothing more; when the
 *    gateway is the one that died, say how many orders it left open), name
 *    the stage and the cause, stop the rest, exit 1;
 *  - when the feed dies, stalls (SIGKILLed then) or fails at start: mark
 *    market data stale (risk refuses new orders), close its rings on its
 *    behalf so the rest drain, stop, exit 1.
 */
#include "pipeline/runtime/run.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/options.h"
#include "pipeline/config/config.h"
#include "shm/fixed.h"
#include "shm/text_sink.h"
#include "pipeline/journal/journal.h"
#include "pipeline/bus/bus_side.h"
#include "pipeline/metrics/metrics.h"
#include "pipeline/notify/notify.h"
#include "pipeline/runtime/runseg.h"
#include "pipeline/runtime/stage.h"
#include "shm/clock.h"

#define WATCH_NS 5000000ull        /* supervisor poll interval */
#define DRAIN_TIMEOUT_NS 10000000000ull
#define JOURNAL_START_TIMEOUT_NS 10000000000ull
#define CLAIM_LOCK_TIMEOUT_MS 5000u

const char *run_fks_version = "unknown";

static volatile sig_atomic_t got_signal;
/* The config's notify targets (NULL: none): the watch loop only enqueues. */
static struct notifier *run_notifier;

static void on_signal(int sig) { got_signal = sig; }

/* Every stop signal drains (stage.h).  SIGQUIT conventionally also dumps
 * core; a core of the supervisor tells nothing the journal does not, and
 * an undrained stop loses events and leaves orders open, so it drains like
 * the others.  SIGPIPE is ignored: `fks run | head` must not die on the
 * summary before it removes its segments. */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < STAGE_STOP_SIGNAL_COUNT; i++)
		sigaction(stage_stop_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* v at `scale` decimals: the digits of |v| with a point before the last
 * scale of them, and a '-' for a negative v.  Exact, any 128-bit value. */
static void fmt_i128_fixed(__int128 v, unsigned scale, char *buf, size_t cap)
{
	char digits[64];
	int n = 0;
	bool neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;

	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u || n <= (int)scale);
	size_t o = 0;
	if (neg && o + 1 < cap)
		buf[o++] = '-';
	for (int i = n - 1; i >= 0 && o + 1 < cap; i--) {
		buf[o++] = digits[i];
		if (i == (int)scale && scale > 0 && o + 1 < cap)
			buf[o++] = '.';
	}
	buf[o] = 0;
}

/* Cash units (px_scale + qty_scale) printed at the instrument's px_scale,
 * rounded toward zero: the summary's P&L format. */
static void fmt_cash_at_px(__int128 cash, const struct fks_instrument_cfg *ic, char *buf, size_t cap)
{
	fmt_i128_fixed(cash / fx_pow10(ic->qty_scale), ic->px_scale, buf, cap);
}

struct run_opts {
	const char *config_path;
	double duration_s;
	uint64_t events;
	const char *prefix;
	const char *journal;
	bool json;
};

static void usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks run [-c FILE] [--duration SECONDS] [--events N] [--prefix NAME]\n"
		"               [--journal DIR] [--json]\n"
		"\n"
		"Start the pipeline: feed -> strategy -> risk -> gateway, connected by\n"
		"shared-memory rings, and a journal stage that records every event in an LMDB\n"
		"journal.  The stages run in runners, processes pinned to the configured cores\n"
		"(the config's runners and stages sections).  Without -c it runs the embedded\n"
		"default config (fks config default): the hot path in one runner, the journal\n"
		"in another.\n"
		"\n"
		"The journal goes to DIR (default: the config's journal.path, fks-journal).  A\n"
		"journal already there is first moved to DIR.<its start time>, so DIR always\n"
		"holds the latest run: follow it with 'fks tail -f -j DIR'.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out,
		"\n"
		"Watch a running pipeline with 'fks status --watch' from another terminal.\n"
		"Exit status: 0 clean stop, 1 a stage failed or died, 2 usage or config error.\n");
}

/* The supervisor turns --duration into a nanosecond deadline in a uint64:
 * above this (about 31 years) the conversion would overflow, and infinity
 * or NaN would make it undefined (a run that stops at once or never). */
#define RUN_DURATION_MAX_S 1e9

static bool parse_duration(void *ctx, char *value)
{
	char *end;
	errno = 0;
	double s = value[0] ? strtod(value, &end) : 0;
	if (!value[0] || *end || errno || !isfinite(s) || s <= 0 || s > RUN_DURATION_MAX_S) {
		fprintf(stderr, "fks run: --duration: expected seconds > 0 and at most %.0f, got '%s'\n",
			RUN_DURATION_MAX_S, value);
		return false;
	}
	*(double *)ctx = s;
	return true;
}

/* Options into o: -1 to go on, else the exit status (help: 0). */
static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	const struct opt opts[] = {
		{ .name = "config", .short_name = 'c', .kind = OPT_STRING, .dest = &o->config_path, .arg = "FILE",
		  .help = "pipeline config (YAML)" },
		{ .name = "duration", .kind = OPT_CALL, .call = parse_duration, .ctx = &o->duration_s, .arg = "SECONDS",
		  .help = "stop after this long (default: until SIGINT/SIGTERM)" },
		{ .name = "events", .kind = OPT_UINT, .dest = &o->events, .arg = "N",
		  .help = "stop after the feed has produced N events", .expect = "a count > 0",
		  .umin = 1, .umax = UINT64_MAX },
		{ .name = "prefix", .kind = OPT_STRING, .dest = &o->prefix, .arg = "NAME",
		  .help = "shared-memory name prefix (default: the config's\n"
			  "supervisor.stats, \"fks\"); two runs need two prefixes" },
		{ .name = "journal", .kind = OPT_STRING, .dest = &o->journal, .arg = "DIR",
		  .help = "journal directory (overrides journal.path)" },
		{ .name = "json", .kind = OPT_FLAG, .dest = &o->json, .help = "print the final summary as one JSON object" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks run", .help_col = 22, .opts = opts };
	int code, npos = opts_parse_or_usage(&table, argc, argv, usage, &code);
	if (npos < 0)
		return code;
	if (o->journal && (!o->journal[0] || strlen(o->journal) >= FKS_CONFIG_PATH_MAX)) {
		fprintf(stderr, "%s: --journal: a directory of 1 to %d characters\n", table.cmd, FKS_CONFIG_PATH_MAX - 1);
		return 2;
	}
	if (npos > 0) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", table.cmd, argv[1]);
		return 2;
	}
	return -1;
}

/* ---- segments ---------------------------------------------------------- */

static void unlink_all(const char *prefix)
{
	char name[RUNSEG_NAME_MAX];
	for (int r = 0; r < RUN_RING_COUNT; r++) {
		runseg_ring_name(prefix, (enum run_ring)r, name, sizeof name);
		ring_unlink(name);
	}
	runseg_unlink(prefix);
}

/* Refuse to start over a live run; clean up after a dead one.  A segment
 * this user cannot read or does not recognise may belong to a live run (of
 * another user, or another FKS build): refuse, and delete nothing. */
static int check_prefix_free(const char *prefix)
{
	struct run_segment *old;
	int rc = runseg_open(prefix, false, &old);
	if (rc == RING_E_NOENT)
		return 0;
	if (rc != RING_OK) {
		char why[320];
		runseg_explain(prefix, rc, why, sizeof why);
		fprintf(stderr,
			"fks run: cannot start over the run segment %s.\n"
			"It was left in place: it may belong to a running pipeline.  Start this one with\n"
			"--prefix OTHER, or remove /dev/shm/%s.* once no pipeline uses it.\n",
			why, prefix);
		return 1;
	}
	pid_t sup = old->supervisor_pid;
	bool alive = runseg_supervisor_alive(old);
	runseg_close(old);
	if (alive) {
		fprintf(stderr,
			"fks run: a pipeline with prefix '%s' is already running (supervisor pid %d).\n"
			"Stop it first, or start this one with --prefix OTHER.\n",
			prefix, (int)sup);
		return 1;
	}
	fprintf(stderr, "fks run: removing segments left by a crashed run (supervisor pid %d gone)\n", (int)sup);
	unlink_all(prefix);
	return 0;
}

/* Take the prefix: check it is free and create this run's segment, under
 * the claim lock (runseg.h), so that of two runs started together over a
 * crashed run's segments one removes them and starts, and the other finds
 * it running and says so. */
static int claim_prefix(const char *prefix, struct run_segment **rs)
{
	int lock = runseg_claim_lock(CLAIM_LOCK_TIMEOUT_MS);
	if (lock < 0) {
		fprintf(stderr, "fks run: cannot claim prefix '%s': the lock on /dev/shm: %s\n", prefix,
			errno == EWOULDBLOCK ? "another process has held it for over 5 s" : strerror(errno));
		return 1;
	}
	int rc = check_prefix_free(prefix);
	if (rc == 0 && (rc = runseg_create(prefix, rs)) != RING_OK) {
		fprintf(stderr, "fks run: cannot create the run segment: %s%s%s\n", ring_strerror(rc),
			rc == RING_E_SYS ? ": " : "", rc == RING_E_SYS ? strerror(errno) : "");
		rc = 1;
	}
	runseg_claim_unlock(lock);
	return rc;
}

static int create_rings(const struct fks_config *cfg, const char *prefix)
{
	char name[RUNSEG_NAME_MAX];
	for (int r = 0; r < RUN_RING_COUNT; r++) {
		runseg_ring_name(prefix, (enum run_ring)r, name, sizeof name);
		/* The asymmetric barrier pays off only where nobody parks. */
		bool parks = cfg->stage[topology[r].consumer].wait.kind == RING_WAIT_SPIN_PARK ||
			     cfg->stage[topology[r].producer].wait.kind == RING_WAIT_SPIN_PARK;
		int rc = ring_create_flags(name, topology[r].slot_size, topo_capacity(cfg, (enum run_ring)r),
					   parks ? 0 : RING_F_ASYM_BARRIER);
		if (rc) {
			fprintf(stderr, "fks run: cannot create ring %s: %s%s%s\n", name, ring_strerror(rc),
				rc == RING_E_SYS ? ": " : "", rc == RING_E_SYS ? strerror(errno) : "");
			return 1;
		}
	}
	return 0;
}

/* ---- stages ------------------------------------------------------------ */

/* One runner process (stage.h): the death of a runner is the death of
 * every stage in it. */
struct child {
	pid_t pid;
	bool exited;
	int status;
};

static pid_t spawn_runner(const struct runner_args *a)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* A runner never outlives its supervisor. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Until runner_main ignores the stop signals, one that arrives runs the
	 * inherited on_signal on this process's own copy of got_signal: harmless. */
	fflush(NULL);
	_exit(runner_main(a));
}

static void describe_exit(int status, char *buf, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(buf, cap, "ended (status 0x%x)", status);
}

/* Orders at the venue with no terminal event yet, by the gateway's
 * counters: orders sent (kill-blocked ones count as sent, and are terminal
 * at once) minus fills to zero, rejects and cancel acks. */
static uint64_t gateway_open_orders(const struct run_segment *rs)
{
	const struct stage_stats *gw = &rs->stage[FKS_CFG_GATEWAY];
	uint64_t sent = atomic_load(&gw->counter[CTR_ORDERS]) + atomic_load(&gw->counter[CTR_KILL_BLOCKED]);
	uint64_t done = atomic_load(&gw->counter[CTR_TERMINAL]);
	return sent > done ? sent - done : 0;
}

/* What became of the orders open at the venue when the gateway died: the
 * gateway is what cancels them, so nothing in FKS can now. */
static void describe_orphaned_orders(const struct fks_config *cfg, const struct run_segment *rs, char *buf,
				     size_t cap)
{
	uint64_t open = gateway_open_orders(rs);
	if (open == 0) {
		snprintf(buf, cap, "no order was open at the venue when the gateway died");
		return;
	}
	snprintf(buf, cap, "%" PRIu64 " order%s open at the venue when the gateway died, and FKS could not cancel %s: %s",
		 open, open == 1 ? " was" : "s were", open == 1 ? "it" : "them",
		 !strcmp(cfg->venue.type, "sim")
			 ? "the simulated venue ran inside the gateway process and died with it"
			 : "only the venue's cancel-on-disconnect protects them; check them at the venue");
}

/* Set the kill switch for stage s and say what it does.  The gateway is
 * what cancels open orders: when it is the stage that died, say what was
 * left open instead. */
static void trip_kill(const struct fks_config *cfg, struct run_segment *rs, enum fks_cfg_stage s, const char *why)
{
	snprintf(rs->control.kill_reason, sizeof rs->control.kill_reason, "%s %s", config_stage_name(s), why);
	atomic_store_explicit(&rs->control.kill_stage, (uint32_t)s, memory_order_relaxed);
	atomic_store_explicit(&rs->control.kill, 1, memory_order_release);
	notify_kill_switch(run_notifier, rs->control.kill_reason);
	if (s == FKS_CFG_GATEWAY) {
		char orders[256];
		describe_orphaned_orders(cfg, rs, orders, sizeof orders);
		fprintf(stderr, "fks run: KILL SWITCH: stage gateway %s; no new orders leave; %s\n", why, orders);
		return;
	}
	fprintf(stderr, "fks run: KILL SWITCH: stage %s %s; no new orders leave, the gateway cancels open orders\n",
		config_stage_name(s), why);
}

/* ---- summary ----------------------------------------------------------- */

static void fmt_fixed(int64_t v, unsigned scale, char *buf, size_t cap)
{
	if (fx_format(v, scale, buf, cap) < 0)
		snprintf(buf, cap, "%" PRId64, v);
}

/* The mark the journal on disk ends at.  A journal stage that exited
 * cleanly published its last one.  One that died may have died inside a
 * commit, before or after the transaction landed: the journal's last key
 * tells which of the two marks it is. */
static const struct journal_mark *journal_end_mark(const struct run_segment *rs, const char *journal_dir)
{
	const struct journal_mark *committed = &rs->journal.committed, *committing = &rs->journal.committing;
	if (atomic_load(&rs->stage[FKS_CFG_JOURNAL].state) == STAGE_EXITED ||
	    atomic_load(&committing->global_seq) == atomic_load(&committed->global_seq))
		return committed;
	struct journal_reader *r;
	char err[512];
	uint64_t first = 0, last = 0;
	if (journal_open_reader(journal_dir, &r, err, sizeof err) != JOURNAL_OK)
		return committed;
	int rc = journal_bounds(r, &first, &last);
	journal_reader_close(r);
	return rc == JOURNAL_OK && last == atomic_load(&committing->global_seq) ? committing : committed;
}

static void print_summary(const struct fks_config *cfg, const struct run_segment *rs, double secs, bool json,
			  const char *journal_dir)
{
	const struct journal_mark *end = journal_end_mark(rs, journal_dir);
	unsigned long long lost = 0;
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++)
		lost += runseg_not_journaled(rs, end, (enum fks_cfg_stage)s);
	const struct stage_stats *jn = &rs->stage[FKS_CFG_JOURNAL];
	const struct stage_stats *gw = &rs->stage[FKS_CFG_GATEWAY];
	const struct stage_stats *rk = &rs->stage[FKS_CFG_RISK];
	const struct stage_stats *sg = &rs->stage[FKS_CFG_STRATEGY];
	const struct stage_stats *fd = &rs->stage[FKS_CFG_FEED];
#define C(st, c) ((unsigned long long)atomic_load(&(st)->counter[c]))
#define E(st, f) ((unsigned long long)atomic_load(&(st)->f))
	uint64_t p50 = hist_quantile(&gw->tick_to_trade, 0.5), p99 = hist_quantile(&gw->tick_to_trade, 0.99),
		 p999 = hist_quantile(&gw->tick_to_trade, 0.999);
	if (json) {
		printf("{\"seconds\":%.3f,\"kill\":%u,", secs, atomic_load(&rs->control.kill));
		printf("\"stages\":{");
		for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
			const struct stage_stats *st = &rs->stage[s];
			printf("%s\"%s\":{\"state\":\"%s\",\"events_in\":%llu,\"events_out\":%llu", s ? "," : "",
			       config_stage_name((enum fks_cfg_stage)s), runseg_state_name(atomic_load(&st->state)),
			       E(st, events_in), E(st, events_out));
			for (int c = 0; c < CTR_COUNT; c++)
				printf(",\"%s\":%llu", runseg_counter_name((enum stage_counter)c), C(st, c));
			printf(",\"not_journaled\":%llu",
			       (unsigned long long)runseg_not_journaled(rs, end, (enum fks_cfg_stage)s));
			printf(",\"busy_ns\":%llu,\"idle_ns\":%llu,\"cpu_ns\":%llu,\"cpu_wall_ns\":%llu,\"cpu_pct\":%.1f}",
			       E(st, busy_ns), E(st, idle_ns), E(st, cpu_ns),
			       (unsigned long long)runseg_cpu_wall_ns(st), runseg_cpu_pct(st));
		}
		printf("},\"positions\":{");
		for (uint32_t i = 0; i < cfg->n_instruments; i++) {
			const struct fks_instrument_cfg *ic = &cfg->instrument[i];
			char pos[32], pnl[48], cash[48];
			__int128 realized = runseg_realized_cash(gw, ic->id);
			fmt_fixed(atomic_load(&gw->position[ic->id]), ic->qty_scale, pos, sizeof pos);
			fmt_cash_at_px(realized, ic, pnl, sizeof pnl);
			fmt_i128_fixed(realized, 0, cash, sizeof cash);
			printf("%s\"%s\":{\"position\":\"%s\",\"realized_pnl\":\"%s\",\"realized_cash\":\"%s\"}",
			       i ? "," : "", ic->symbol, pos, pnl, cash);
		}
		printf("},\"journal\":{\"path\":\"");
		fks_json_fput_chars(stdout, journal_dir, strlen(journal_dir));
		printf("\",\"not_journaled\":%llu,\"events\":%llu,\"commits\":%llu,\"map_grows\":%llu,\"commit_ns\":{\"p50\":%llu,\"p99\":%llu,\"max\":%llu}",
		       lost, C(jn, CTR_JOURNALED), C(jn, CTR_COMMITS), C(jn, CTR_MAP_GROWS),
		       (unsigned long long)hist_quantile(&jn->latency, 0.5),
		       (unsigned long long)hist_quantile(&jn->latency, 0.99), E(&jn->latency, max));
		printf(",\"parts\":%u,\"parts_removed\":%u", atomic_load(&jn->journal_part),
		       atomic_load(&jn->journal_parts_removed));
		printf("},\"tick_to_trade_ns\":{\"count\":%llu,\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu}}\n",
		       E(&gw->tick_to_trade, count), (unsigned long long)p50, (unsigned long long)p99,
		       (unsigned long long)p999, E(&gw->tick_to_trade, max));
		return;
	}
	printf("\nfks run: summary after %.2f s\n", secs);
	/* busy % is the time a stage handled events itself over its wall time
	 * (in a shared runner, not the other stages' time); cpu % is the
	 * process's CPU time over its wall time, everything included. */
	printf("  %-9s %-9s %12s %12s %10s %8s\n", "stage", "state", "events in", "events out", "busy %", "cpu %");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		const struct stage_stats *st = &rs->stage[s];
		uint64_t busy = atomic_load(&st->busy_ns), wall = runseg_cpu_wall_ns(st);
		printf("  %-9s %-9s %12llu %12llu %9.1f%% %7.1f%%\n", config_stage_name((enum fks_cfg_stage)s),
		       runseg_state_name(atomic_load(&st->state)), E(st, events_in), E(st, events_out),
		       wall ? 100.0 * (double)busy / (double)wall : 0.0, runseg_cpu_pct(st));
	}
	printf("  market data: %llu quotes, %llu trades, %llu dropped (conflation)\n", C(fd, CTR_QUOTES),
	       C(fd, CTR_TRADES), C(fd, CTR_DROPPED));
	printf("  orders: %llu intents, %llu passed risk, %llu rejected by risk", C(sg, CTR_ORDERS),
	       C(rk, CTR_RISK_PASSED), C(rk, CTR_RISK_REJECTED));
	bool first = true;
	for (unsigned r = 1; r < FKS_RISK_REASON_SLOTS; r++) {
		unsigned long long n = atomic_load(&rk->reject_reason[r]);
		if (n) {
			printf("%s%s %llu", first ? " (" : ", ", fks_risk_reason_name(r), n);
			first = false;
		}
	}
	printf("%s\n", first ? "" : ")");
	printf("  venue: %llu orders, %llu acks, %llu fills, %llu rejects, %llu cancels, %llu blocked by kill switch\n",
	       C(gw, CTR_ORDERS), C(gw, CTR_ACKS), C(gw, CTR_FILLS), C(gw, CTR_VENUE_REJECTS), C(gw, CTR_CANCELS),
	       C(gw, CTR_KILL_BLOCKED));
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		char pos[32], pnl[48];
		fmt_fixed(atomic_load(&gw->position[ic->id]), ic->qty_scale, pos, sizeof pos);
		fmt_cash_at_px(runseg_realized_cash(gw, ic->id), ic, pnl, sizeof pnl);
		printf("  %-10s position %s, realized P&L %s\n", ic->symbol, pos, pnl);
	}
	printf("  tick-to-trade (feed receive -> order to venue), %llu orders: p50 %llu ns, p99 %llu ns, p99.9 %llu ns, max %llu ns\n",
	       E(&gw->tick_to_trade, count), (unsigned long long)p50, (unsigned long long)p99,
	       (unsigned long long)p999, E(&gw->tick_to_trade, max));
	printf("  journal %s: %llu events in %llu commits (sync %s), commit p50 %llu us, p99 %llu us%s",
	       journal_dir, C(jn, CTR_JOURNALED), C(jn, CTR_COMMITS), journal_sync_name(cfg->journal.sync),
	       (unsigned long long)hist_quantile(&jn->latency, 0.5) / 1000,
	       (unsigned long long)hist_quantile(&jn->latency, 0.99) / 1000, lost ? "" : "\n");
	if (lost) {
		printf("; %llu events NOT journaled (the journal stage died):", lost);
		for (int s = 0; s < FKS_CFG_JOURNAL; s++)
			printf(" %s %llu", config_stage_name((enum fks_cfg_stage)s),
			       (unsigned long long)runseg_not_journaled(rs, end, (enum fks_cfg_stage)s));
		printf("\n");
	}
	if (C(gw, CTR_JOURNAL_BLOCKED))
		printf("  gateway: %llu orders refused because the journal was down\n", C(gw, CTR_JOURNAL_BLOCKED));
	if (atomic_load(&jn->journal_part) > 1)
		printf("  journal rotated: %u parts, %u old ones deleted (fks journal list %s)\n",
		       atomic_load(&jn->journal_part), atomic_load(&jn->journal_parts_removed), journal_dir);
	if (atomic_load(&rs->control.kill))
		printf("  kill switch: tripped (%s)\n", rs->control.kill_reason);
#undef C
#undef E
}

/* A reader that went away (EPIPE) or a full disk loses the summary, not the
 * drain: say so on stderr; the exit status is the pipeline's. */
static void report_lost_summary(void)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	fprintf(stderr, "fks run: the summary could not be written to stdout%s%s\n", errno ? ": " : "",
		errno ? strerror(errno) : "");
}

/* ---- start-up ---------------------------------------------------------- */

/* Wait until the journal stage has created its journal and attached its
 * taps.  On failure (a journal locked by another run, a disk error) set
 * `stop` and return nonzero: nothing else is started, and supervise()
 * reports the journal's error. */
static int wait_journal_ready(struct run_segment *rs, struct child *c)
{
	uint64_t until = (uint64_t)clock_mono_ns() + JOURNAL_START_TIMEOUT_NS;
	for (;;) {
		uint32_t st = atomic_load(&rs->stage[FKS_CFG_JOURNAL].state);
		if (st == STAGE_RUNNING)
			return 0;
		int status;
		bool died = waitpid(c->pid, &status, WNOHANG) == c->pid;
		if (st == STAGE_FAILED || died || (uint64_t)clock_mono_ns() > until) {
			if (st != STAGE_FAILED && died) {
				/* No error of its own: a crash, e.g. SIGBUS on a lock
				 * file mapped on a full tmpfs. */
				char how[128];
				describe_exit(status, how, sizeof how);
				fprintf(stderr, "fks run: the journal stage %s while creating the journal\n", how);
				return 1;
			}
			if (st != STAGE_FAILED)
				fprintf(stderr, "fks run: the journal stage did not start within %llu s\n",
					JOURNAL_START_TIMEOUT_NS / 1000000000ull);
			/* Its error is already on stderr; nothing else was started. */
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			return 1;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* ---- the watch loop ---------------------------------------------------- */

/* A live websocket feed blocks without beating in a reconnect (a TCP
 * connect of up to 5 s, then TLS and the HTTP upgrade, up to 10 s) and,
 * for Binance depth, in each instrument's REST snapshot (up to 5 s): only
 * a silence longer than those is a stall.  Every other feed beats at least
 * every STAGE_TICK_NS. */
static uint64_t feed_stall_ns(const struct fks_config *cfg, uint64_t stall_ns)
{
	if (!stall_ns || cfg->feed.type == FKS_FEED_SYNTHETIC || cfg->feed.source != FKS_SOURCE_WEBSOCKET)
		return stall_ns;
	return stall_ns + (15ull + 5ull * cfg->n_instruments) * 1000000000ull;
}

/* Close the rings a dead stage produced, on its behalf.  Consumers notice
 * a producer that died attached, but one that failed before it attached
 * (a feed that cannot open its source) they would wait for forever, and
 * the close cascade (stage_int.h) would never start. */
static void close_rings_of(const struct fks_config *cfg, const struct run_segment *rs, enum fks_cfg_stage s)
{
	for (int r = 0; r < RUN_RING_COUNT; r++) {
		if (topology[r].producer != s)
			continue;
		struct ring_producer p;
		int rc = ring_producer_attach(&p, rs->ring_name[r], topology[r].slot_size,
					      topo_capacity(cfg, (enum run_ring)r), NULL);
		if (rc == RING_OK)
			ring_producer_detach(&p); /* marks it closed and wakes the consumer */
		else
			fprintf(stderr, "fks run: cannot close ring %s for the dead %s stage: %s\n", rs->ring_name[r],
				config_stage_name(s), ring_strerror(rc));
	}
}

/* " (in runner hot, with feed risk gateway)" for a stage that shares its
 * runner, "" for one alone in its own: a runner dies, or is killed for a
 * stall, with every stage in it. */
static void runner_note(const struct fks_config *cfg, enum fks_cfg_stage s, char *buf, size_t cap)
{
	const struct fks_runner_cfg *rc = &cfg->runner[cfg->stage_runner[s]];
	buf[0] = 0;
	if (rc->stages == 1u << s)
		return;
	size_t n = (size_t)snprintf(buf, cap, " (in runner %s, with", rc->name);
	for (int t = 0; t < FKS_CFG_STAGE_COUNT && n < cap; t++)
		if (t != (int)s && rc->stages & (1u << t))
			n += (size_t)snprintf(buf + n, cap - n, " %s", config_stage_name((enum fks_cfg_stage)t));
	if (n < cap)
		snprintf(buf + n, cap - n, ")");
}

struct watch {
	const struct fks_config *cfg;
	struct run_segment *rs;
	struct child *ch;   /* by runner */
	uint64_t stall_ns, feed_stall_ns;
	uint64_t stop_at;   /* when `stop` was set; 0: not yet */
	bool failed;
	bool feed_stalled;  /* reported and killed as stalled */
	bool lost[FKS_CFG_STAGE_COUNT]; /* reported: died, failed or stalled */
};

static void request_stop(struct watch *w, uint64_t now)
{
	if (!atomic_load(&w->rs->control.stop)) {
		atomic_store(&w->rs->control.stop, 1);
		w->stop_at = now;
	}
}

/* A stage whose heartbeat is older than its stall limit is killed, with its
 * runner.  The feed's market data is stale at once (risk refuses every new
 * order), so whatever the feed would send if it woke up could never become
 * an order; any other stage trips the kill switch. */
static void check_heartbeat(struct watch *w, enum fks_cfg_stage s, uint64_t now)
{
	uint64_t limit = s == FKS_CFG_FEED ? w->feed_stall_ns : w->stall_ns;
	uint64_t beat = atomic_load(&w->rs->stage[s].heartbeat_ns);
	if (!limit || now <= beat || now - beat <= limit)
		return;
	char note[128];
	runner_note(w->cfg, s, note, sizeof note);
	if (s == FKS_CFG_FEED) {
		if (w->feed_stalled)
			return;
		w->feed_stalled = true;
		atomic_store(&w->rs->control.feed_dead, 1);
		fprintf(stderr,
			"fks run: stage feed stalled: no heartbeat for %" PRIu64 " ms%s; market data is stale, risk refuses new orders; killing the feed and stopping\n",
			(now - beat) / 1000000, note);
	} else {
		if (atomic_load(&w->rs->control.kill))
			return;
		char why[224];
		snprintf(why, sizeof why, "stalled: no heartbeat for %" PRIu64 " ms%s", (now - beat) / 1000000, note);
		trip_kill(w->cfg, w->rs, s, why);
	}
	kill(w->ch[w->cfg->stage_runner[s]].pid, SIGKILL);
	w->failed = true;
	if (s == FKS_CFG_FEED)
		request_stop(w, now);
}

/* Stage s is over: dead with its runner (how: the exit status), or failed
 * inside a runner that runs on ("failed"). */
static void on_stage_lost(struct watch *w, enum fks_cfg_stage s, const char *how, uint64_t now)
{
	w->lost[s] = true;
	w->failed = true;
	char note[128];
	runner_note(w->cfg, s, note, sizeof note);
	const char *err = w->rs->stage[s].error;
	char what[448]; /* how (128) + note (128) + error (160) */
	snprintf(what, sizeof what, "%s%s%s%s", how, note, err[0] ? ": " : "", err);
	notify_stage_dead(run_notifier, config_stage_name(s), what);
	if (s == FKS_CFG_FEED) {
		atomic_store(&w->rs->control.feed_dead, 1);
		if (!w->feed_stalled)
			fprintf(stderr,
				"fks run: stage feed %s%s%s%s; market data is stale, risk refuses new orders; the other stages drain and stop\n",
				how, note, err[0] ? ": " : "", err);
		close_rings_of(w->cfg, w->rs, s);
	} else if (!atomic_load(&w->rs->control.kill)) {
		trip_kill(w->cfg, w->rs, s, what);
	} else if (s == FKS_CFG_GATEWAY) {
		char orders[256];
		describe_orphaned_orders(w->cfg, w->rs, orders, sizeof orders);
		fprintf(stderr, "fks run: stage gateway %s%s; %s\n", how, note, orders);
	} else {
		fprintf(stderr, "fks run: stage %s %s%s\n", config_stage_name(s), how, note);
	}
	request_stop(w, now);
}

/* Runner r and its stages, after a look at its process: 1 if it runs. */
static int watch_runner(struct watch *w, uint32_t r, uint64_t now)
{
	const struct fks_config *cfg = w->cfg;
	struct child *c = &w->ch[r];
	bool clean = c->exited && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
	char how[128] = "failed";
	if (c->exited)
		describe_exit(c->status, how, sizeof how);
	/* A stage that failed alone in its runner is reported with the exit
	 * status, once the runner exits; one that failed in a shared runner is
	 * reported at once, while the stages beside it drain.
	 * Latest stage first: when a shared runner stalls or dies, the gateway
	 * is the one the kill switch names, and it names the runner and the
	 * stages that went with it. */
	for (int s = FKS_CFG_STAGE_COUNT - 1; s >= 0; s--) {
		if (cfg->stage_runner[s] != r || w->lost[s])
			continue;
		uint32_t state = atomic_load(&w->rs->stage[s].state);
		if (!c->exited && state == STAGE_FAILED && cfg->runner[r].stages != 1u << s)
			on_stage_lost(w, (enum fks_cfg_stage)s, "failed", now); /* its neighbours drain */
		else if (!c->exited)
			check_heartbeat(w, (enum fks_cfg_stage)s, now);
		else if (!clean && state != STAGE_EXITED)
			on_stage_lost(w, (enum fks_cfg_stage)s, how, now);
	}
	if (c->exited) {
		w->failed |= !clean;
		c->pid = 0;
		return 0;
	}
	return 1;
}

/* One look at every runner and its stages; how many runners still run.
 * Every runner is reaped first, and the ones a signal killed are handled
 * before the ones that exited: a stage that dies takes its peers' rings
 * with it, and a peer that then exits with "producer died" is a
 * consequence, not the cause the kill switch should name. */
static int watch_runners(struct watch *w, uint64_t now)
{
	const struct fks_config *cfg = w->cfg;
	for (uint32_t r = 0; r < cfg->n_runners; r++) {
		struct child *c = &w->ch[r];
		if (c->pid > 0 && !c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
			c->exited = true;
	}
	int alive = 0;
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t r = 0; r < cfg->n_runners; r++) {
			struct child *c = &w->ch[r];
			if (c->pid <= 0 || (pass == 0) != (c->exited && WIFSIGNALED(c->status)))
				continue; /* handled, or not in this pass */
			alive += watch_runner(w, r, now);
		}
	return alive;
}
static int supervise(const struct fks_config *cfg, struct run_segment *rs, struct child *ch,
		     const struct run_opts *o, uint64_t t0)
{
	uint64_t stall_ns = (uint64_t)cfg->supervisor.heartbeat_timeout_ms * 1000000ull;
	struct watch w = { .cfg = cfg, .rs = rs, .ch = ch, .stall_ns = stall_ns,
			   .feed_stall_ns = feed_stall_ns(cfg, stall_ns) };
	uint64_t deadline = o->duration_s > 0 ? t0 + (uint64_t)(o->duration_s * 1e9) : 0;
	bool kill_seen = false;
	for (;;) {
		struct timespec ts = { 0, (long)WATCH_NS };
		nanosleep(&ts, NULL);
		uint64_t now = (uint64_t)clock_mono_ns();
		if (!kill_seen && atomic_load(&rs->control.kill)) {
			kill_seen = true; /* trip_kill announces its own; this is `fks kill` */
			if (atomic_load(&rs->control.kill_stage) == FKS_CFG_STAGE_COUNT) {
				fprintf(stderr, "fks run: KILL SWITCH: %s; no new orders leave, open orders are canceled\n",
					rs->control.kill_reason);
				notify_kill_switch(run_notifier, rs->control.kill_reason);
			}
		}
		bool stopping = atomic_load(&rs->control.stop);
		if (!stopping && (got_signal || (deadline && now >= deadline))) {
			if (got_signal)
				fprintf(stderr, "fks run: %s: stopping (the feed stops, every stage drains)\n",
					strsignal(got_signal));
			request_stop(&w, now);
		}
		if (watch_runners(&w, now) == 0)
			break;
		if (w.stop_at && now - w.stop_at > DRAIN_TIMEOUT_NS) {
			fprintf(stderr, "fks run: stages did not drain within %llu s; killing them\n",
				DRAIN_TIMEOUT_NS / 1000000000ull);
			for (uint32_t r = 0; r < cfg->n_runners; r++)
				if (!ch[r].exited && ch[r].pid > 0)
					kill(ch[r].pid, SIGKILL);
			w.failed = true;
			w.stop_at = now; /* give the kills time to land */
		}
	}
	return w.failed;
}

int run_main(int argc, char **argv)
{
	struct run_opts o = { 0 };
	int rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;

	static struct fks_config cfg;
	char err[512];
	if (config_load_to_run(o.config_path, &cfg, err, sizeof err)) {
		fprintf(stderr, "fks run: %s\n", err);
		return 2;
	}
	if (notifier_open(&cfg.notify, cfg.name, &run_notifier, err, sizeof err)) {
		fprintf(stderr, "fks run: %s\n", err);
		return 2;
	}
	const char *prefix = o.prefix ? o.prefix : cfg.supervisor.stats_prefix;
	if (!prefix[0] || strlen(prefix) >= FKS_STATS_PREFIX_MAX || strchr(prefix, '/')) {
		fprintf(stderr, "fks run: --prefix: 1 to %d characters without '/', got '%s'\n",
			FKS_STATS_PREFIX_MAX - 1, prefix);
		return 2;
	}
	/* From the first segment on, a stop signal must reach the cleanup. */
	catch_stop_signals();
	struct run_segment *rs;
	if (claim_prefix(prefix, &rs))
		return 1;
	const char *journal_dir = o.journal ? o.journal : cfg.journal.path;
	char moved[PATH_MAX + 64];
	if (journal_rotate(journal_dir, moved, sizeof moved, err, sizeof err)) {
		fprintf(stderr, "fks run: journal: %s\n", err);
		runseg_close(rs);
		unlink_all(prefix);
		return 1;
	}
	if (moved[0])
		fprintf(stderr, "fks run: the previous journal in %s moved to %s\n", journal_dir, moved);
	if (create_rings(&cfg, prefix)) {
		runseg_close(rs);
		unlink_all(prefix);
		return 1;
	}
	fprintf(stderr, "fks run: %s, %u instruments, prefix '%s'; runners:", cfg.name, cfg.n_instruments, prefix);
	for (uint32_t r = 0; r < cfg.n_runners; r++) {
		const struct fks_runner_cfg *rc = &cfg.runner[r];
		fprintf(stderr, " %s=core %d %s (", rc->name, rc->core, config_idle_name((enum fks_idle)rc->idle));
		for (int s = 0, first = 1; s < FKS_CFG_STAGE_COUNT; s++)
			if (rc->stages & (1u << s)) {
				fprintf(stderr, "%s%s", first ? "" : " ", config_stage_name((enum fks_cfg_stage)s));
				first = 0;
			}
		fprintf(stderr, ")%s", r + 1 < cfg.n_runners ? "," : "");
	}
	fprintf(stderr, "\n");

	uint64_t t0 = (uint64_t)clock_mono_ns();
	static struct child ch[FKS_CFG_STAGE_COUNT + 1];
	static struct runner_args args[FKS_CFG_STAGE_COUNT + 1];
	/* Start the stall clock at spawn, not at zero. */
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++)
		atomic_store(&rs->stage[s].heartbeat_ns, (uint64_t)clock_mono_ns());
	/* The journal's runner first: it must be running before anything else
	 * starts, since an event that cannot be journaled must never be
	 * produced.  Then consumers before producers (the runner of the
	 * latest stage first), so the feed never publishes into a ring nobody
	 * reads yet (it would only wait; this just avoids the wait). */
	uint32_t order[FKS_CFG_STAGE_COUNT + 1], n_order = 0;
	for (int s = FKS_CFG_STAGE_COUNT - 1; s >= 0; s--) {
		uint32_t r = cfg.stage_runner[s];
		bool seen = false;
		for (uint32_t i = 0; i < n_order; i++)
			seen |= order[i] == r;
		if (!seen)
			order[n_order++] = r;
	}
	for (uint32_t i = 0; i < n_order; i++) {
		uint32_t r = order[i];
		struct runner_args *ra = &args[r];
		ra->cfg = &cfg;
		ra->index = r;
		for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
			ra->stage[s] = (struct stage_args){ .id = (enum fks_cfg_stage)s, .cfg = &cfg, .max_events = o.events,
							    .version = run_fks_version };
			snprintf(ra->stage[s].prefix, sizeof ra->stage[s].prefix, "%s", prefix);
			snprintf(ra->stage[s].journal_dir, sizeof ra->stage[s].journal_dir, "%s", journal_dir);
		}
		ch[r].pid = spawn_runner(ra);
		if (ch[r].pid < 0) {
			fprintf(stderr, "fks run: fork: %s\n", strerror(errno));
			atomic_store(&rs->control.stop, 1);
			ch[r].exited = true;
			ch[r].pid = 0;
		}
		if (r == cfg.stage_runner[FKS_CFG_JOURNAL] && ch[r].pid > 0 && wait_journal_ready(rs, &ch[r])) {
			fprintf(stderr, "fks run: no journal, so nothing was started\n");
			runseg_close(rs);
			unlink_all(prefix);
			return 1;
		}
	}
	/* After the forks: a runner must not inherit a sender thread's lock. */
	if (notifier_start(run_notifier, err, sizeof err))
		fprintf(stderr, "fks run: %s; running without notifications\n", err);
	/* After the fork: the runners must not inherit the exporter's socket. */
	struct metrics_server *metrics = NULL;
	bool metrics_failed = cfg.metrics.listen[0] &&
			      metrics_server_start(&cfg, prefix, cfg.metrics.listen, false, &metrics, err, sizeof err);
	if (metrics_failed) {
		fprintf(stderr, "fks run: metrics: %s; stopping\n", err);
		atomic_store(&rs->control.stop, 1);
	} else if (metrics)
		fprintf(stderr, "fks run: metrics on http://%s/metrics\n", metrics_server_address(metrics));
	/* After the journal is there; never part of the run's outcome. */
	pid_t bus = cfg.bus.url[0] && o.config_path ? bus_side_start(o.config_path, journal_dir) : 0;
	int failed = supervise(&cfg, rs, ch, &o, t0) || metrics_failed;
	metrics_server_stop(metrics);
	bus_side_stop(bus, BUS_SIDE_FINISH_MS);
	print_summary(&cfg, rs, (double)((uint64_t)clock_mono_ns() - t0) / 1e9, o.json, journal_dir);
	report_lost_summary();
	runseg_close(rs);
	unlink_all(prefix);
	notifier_close(run_notifier, NOTIFY_FLUSH_MS, "fks run", NULL);
	return failed ? 1 : 0;
}
