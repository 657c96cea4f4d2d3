/* End to end: the real `fks` binary runs the pipeline, and these tests
 * check what an operator would: counters that reconcile stage to stage,
 * a terminal state for every order, the kill switch when a stage dies,
 * clean stops, bad configs refused before anything starts, and restarts. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/journal/journal.h"
#include "pipeline/replay/report.h"
#include "shm/index.h"
#include "pipeline/runtime/runseg.h"
#include "shm/reasons.h"
#include "tests/support/fks_test.h"

static void unique_prefix(char *buf, size_t cap, const char *tag)
{
	static int n;
	snprintf(buf, cap, "fkst%d%s%d", (int)getpid() % 100000, tag, n++);
}

/* Wait until the running pipeline's gateway has sent at least n orders. */
static struct run_segment *wait_for_orders(const char *prefix, uint64_t n)
{
	struct run_segment *rs = NULL;
	for (int i = 0; i < 3000; i++) {
		if (!rs && runseg_open(prefix, false, &rs) != RING_OK)
			rs = NULL;
		if (rs && atomic_load(&rs->stage[FKS_CFG_GATEWAY].counter[CTR_ORDERS]) >= n)
			return rs;
		fks_test_sleep_ms(10);
	}
	cr_assert_fail("the pipeline '%s' never sent %llu orders", prefix, (unsigned long long)n);
	return NULL;
}

static struct fks_proc P; /* large: keep it off the stack */

/*
 * A run a test stops or kills parts of (SIGSTOP, SIGKILL) must not outlive
 * a failed assertion: a stopped supervisor never ends, and its stages and
 * /dev/shm segments stay.  start_killable starts it in a process group of
 * its own and notes it; the test's .fini, end_killable_run, which Criterion
 * runs also after a failed assertion, lets the group go on (SIGCONT) and
 * kills it, then removes the run's segments.  After a run that ended as the
 * test expected, it finds nothing to do.
 */
static struct fks_proc *killable;

static void start_killable(struct fks_proc *p, const char *const *args)
{
	p->own_group = true;
	fks_test_start(p, args);
	p->own_group = false;
	killable = p;
}

/* Remove every "<prefix>." segment from /dev/shm. */
static void unlink_segments(const char *prefix)
{
	char stem[64];
	snprintf(stem, sizeof stem, "%s.", prefix);
	DIR *d = opendir("/dev/shm");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, stem, strlen(stem)) != 0)
			continue;
		char path[320];
		snprintf(path, sizeof path, "/dev/shm/%s", e->d_name);
		unlink(path);
	}
	closedir(d);
}

static void end_killable_run(void)
{
	struct fks_proc *p = killable;
	killable = NULL;
	if (!p)
		return;
	if (p->running) {
		kill(-p->pid, SIGCONT);
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->running = false;
		fks_test_sleep_ms(200); /* the group's other processes, the stages, die too */
	}
	if (p->prefix[0])
		unlink_segments(p->prefix);
}

/* Every counter of one stage agrees with its neighbours', and every order
 * that reached the venue ended in a terminal state. */
static void expect_reconciled(const char *j, long long events)
{
	long long feed_out = fks_test_json_num(j, "\"feed\"", "events_out");
	long long s_in = fks_test_json_num(j, "\"strategy\"", "events_in"), s_exec = fks_test_json_num(j, "\"strategy\"", "exec_in");
	long long s_out = fks_test_json_num(j, "\"strategy\"", "events_out"), s_orders = fks_test_json_num(j, "\"strategy\"", "orders");
	long long r_in = fks_test_json_num(j, "\"risk\"", "events_in"), r_exec = fks_test_json_num(j, "\"risk\"", "exec_in");
	long long r_out = fks_test_json_num(j, "\"risk\"", "events_out"), r_orders = fks_test_json_num(j, "\"risk\"", "orders");
	long long r_pass = fks_test_json_num(j, "\"risk\"", "risk_passed"), r_rej = fks_test_json_num(j, "\"risk\"", "risk_rejected");
	long long g_in = fks_test_json_num(j, "\"gateway\"", "events_in"), g_orders = fks_test_json_num(j, "\"gateway\"", "orders");
	long long g_acks = fks_test_json_num(j, "\"gateway\"", "acks"), g_vrej = fks_test_json_num(j, "\"gateway\"", "venue_rejects");
	long long g_term = fks_test_json_num(j, "\"gateway\"", "terminal"), g_block = fks_test_json_num(j, "\"gateway\"", "kill_blocked");
	long long g_md = fks_test_json_num(j, "\"gateway\"", "quotes") + fks_test_json_num(j, "\"gateway\"", "trades");

	cr_assert_eq(feed_out, events);
	cr_assert_eq(fks_test_json_num(j, "\"feed\"", "dropped"), 0, "the default overflow policy blocks, never drops");
	cr_assert_eq(s_in - s_exec, feed_out, "strategy read every market event");
	cr_assert_eq(s_out, feed_out + s_orders, "strategy forwarded all market data plus its orders");
	cr_assert_gt(s_orders, 0, "the default config trades");
	cr_assert_eq(r_in - r_exec, s_out, "risk read everything the strategy wrote");
	cr_assert_eq(r_orders, s_orders);
	cr_assert_eq(r_pass + r_rej, r_orders, "every intent passed or was rejected");
	cr_assert_eq(r_out, r_in - r_exec, "risk wrote one event per event it read");
	cr_assert_eq(g_in, r_out, "gateway read everything risk wrote");
	cr_assert_eq(g_md, feed_out, "the venue saw all market data");
	cr_assert_eq(g_orders + g_block, r_pass, "every passed order reached the venue");
	cr_assert_eq(g_acks + g_vrej, g_orders, "the venue answered every order");
	cr_assert_eq(g_term, g_orders + g_block, "every order ended filled, canceled or rejected");
	cr_assert_eq(fks_test_json_num(j, NULL, "kill"), 0);
	cr_assert_eq(fks_test_json_num(j, "tick_to_trade_ns", "count"), g_orders);
}

Test(run, a_million_events_reconcile_through_every_stage, .timeout = 240)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "e2e");
	const char *args[] = { "run", "--events", "1000000", "--prefix", prefix, "--json", NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "fks run failed:\n%s", P.err);
	expect_reconciled(P.out, 1000000);
}

/* As fast as possible: the rings fill, producers block (back-pressure),
 * and still nothing is lost or duplicated. */
Test(run, full_speed_with_full_rings_loses_nothing, .timeout = 240)
{
	static char cfg[16384], path[64];
	const char *dump[] = { "config", "default", NULL };
	cr_assert_eq(fks_test_run(&P, dump), 0);
	const char *rate = strstr(P.out, "  rate: 100000\n");
	cr_assert_not_null(rate, "the default config sets feed.rate to 100000");
	snprintf(cfg, sizeof cfg, "%.*s  rate: 0\n%s", (int)(rate - P.out), P.out, rate + strlen("  rate: 100000\n"));
	snprintf(path, sizeof path, "/tmp/fks-test-asap-%d.yaml", (int)getpid());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(cfg, f);
	fclose(f);

	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "asap");
	const char *args[] = { "run", "-c", path, "--events", "2000000", "--prefix", prefix, "--json", NULL };
	int rc = fks_test_run(&P, args);
	unlink(path);
	cr_assert_eq(rc, 0, "fks run failed:\n%s", P.err);
	expect_reconciled(P.out, 2000000);
}

/* busy % in a runner: each stage's busy_ns is the time it handled events
 * itself (not the time spent in the polls of the kernels beside it), and
 * idle_ns the time its runner found no work, in every phase of its idle
 * strategy (spin, yield, park).  At a low rate every stage is mostly idle,
 * and busy + idle stays within the stage's wall time. */
static void expect_mostly_idle(const char *idle)
{
	static char cfg[16384], path[160];
	const char *dump[] = { "config", "default", NULL };
	cr_assert_eq(fks_test_run(&P, dump), 0);
	const char *rate = strstr(P.out, "  rate: 100000\n"), *hot = strstr(P.out, "    idle: backoff\n");
	cr_assert(rate && hot && rate > hot, "the default config: the hot runner backs off, feed.rate is 100000");
	snprintf(cfg, sizeof cfg, "%.*s    idle: %s\n%.*s  rate: 2000\n%s", (int)(hot - P.out), P.out, idle,
		 (int)(rate - hot - strlen("    idle: backoff\n")), hot + strlen("    idle: backoff\n"),
		 rate + strlen("  rate: 100000\n"));
	snprintf(path, sizeof path, "%s/idle-%s.yaml", fks_test_scratch_dir(), idle);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(cfg, f);
	fclose(f);

	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "idle");
	const char *args[] = { "run", "-c", path, "--events", "3000", "--prefix", prefix, "--json", NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "fks run (hot runner idle: %s) failed:\n%s", idle, P.err);
	expect_reconciled(P.out, 3000);
	static const char *const hot_path[] = { "\"feed\"", "\"strategy\"", "\"risk\"", "\"gateway\"" };
	for (int i = 0; i < 4; i++) {
		long long busy = fks_test_json_num(P.out, hot_path[i], "busy_ns"), idle_ns = fks_test_json_num(P.out, hot_path[i], "idle_ns");
		long long wall = fks_test_json_num(P.out, hot_path[i], "cpu_wall_ns");
		cr_assert_gt(wall, 1000000000LL, "%s (idle %s): 3000 events at 2000/s take over a second", hot_path[i], idle);
		cr_assert_gt(idle_ns, busy, "%s (idle %s): busy %lld ns, idle %lld ns", hot_path[i], idle, busy, idle_ns);
		cr_assert_geq(idle_ns, wall / 2, "%s (idle %s): idle %lld ns of %lld ns wall", hot_path[i], idle, idle_ns,
			      wall);
		cr_assert_leq(busy + idle_ns, wall + wall / 10, "%s (idle %s): busy %lld + idle %lld ns over %lld ns wall",
			      hot_path[i], idle, busy, idle_ns, wall);
	}
	/* The journal, in a runner of its own: how busy its commits keep it
	 * depends on the disk; nothing is counted twice. */
	long long busy = fks_test_json_num(P.out, "\"journal\"", "busy_ns"), idle_ns = fks_test_json_num(P.out, "\"journal\"", "idle_ns");
	long long wall = fks_test_json_num(P.out, "\"journal\"", "cpu_wall_ns");
	cr_assert_leq(busy + idle_ns, wall + wall / 10, "journal: busy %lld + idle %lld ns over %lld ns wall", busy,
		      idle_ns, wall);
}

Test(run, a_slow_feed_leaves_every_stage_mostly_idle_when_the_runner_spins, .timeout = 120)
{
	expect_mostly_idle("spin");
}
Test(run, a_slow_feed_leaves_every_stage_mostly_idle_when_the_runner_backs_off, .timeout = 120)
{
	expect_mostly_idle("backoff");
}
Test(run, a_slow_feed_leaves_every_stage_mostly_idle_when_the_runner_parks, .timeout = 120)
{
	expect_mostly_idle("park");
}

Test(run, sigterm_stops_cleanly_with_a_summary, .timeout = 120)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "term");
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, NULL };
	fks_test_start(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 1);
	runseg_close(rs);
	kill(P.pid, SIGTERM);
	cr_assert_eq(fks_test_finish(&P), 0, "stderr:\n%s", P.err);
	cr_assert_not_null(strstr(P.out, "summary"), "stdout:\n%s", P.out);
	cr_assert_not_null(strstr(P.out, "tick-to-trade"));
	cr_assert_not_null(strstr(P.err, "stopping"));
}

/* Kill one stage mid-run: the kill switch trips, the supervisor names the
 * stage and exits 1, and the gateway sends nothing once it sees the kill. */
static void kill_stage(enum fks_cfg_stage victim)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "kill");
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--json", NULL };
	start_killable(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 20);
	pid_t pid = atomic_load(&rs->stage[victim].pid);
	char cmdline[64] = { 0 }, path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		cr_assert_gt(fread(cmdline, 1, sizeof cmdline - 1, f), 0);
		fclose(f);
	}
	runseg_close(rs);
	/* Dedicated: the victim is a process of its own.  Shared: it is the
	 * hot runner, which takes feed, strategy, risk and gateway with it; the
	 * kill switch names the gateway and the runner. */
	bool dedicated = fks_test_dedicated_layout();
	enum fks_cfg_stage named = dedicated ? victim : FKS_CFG_GATEWAY;
	char want[32];
	snprintf(want, sizeof want, "fks:%s", dedicated ? config_stage_name(victim) : "hot");
	cr_assert_str_eq(cmdline, want, "ps shows the runner by name");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(fks_test_finish(&P), 1, "stderr:\n%s", P.err);
	char msg[64];
	snprintf(msg, sizeof msg, "KILL SWITCH: stage %s", config_stage_name(named));
	cr_assert_not_null(strstr(P.err, msg), "stderr:\n%s", P.err);
	cr_assert_not_null(strstr(P.err, "signal 9"), "the cause is named:\n%s", P.err);
	if (!dedicated)
		cr_assert_not_null(strstr(P.err, "(in runner hot, with feed strategy risk)"), "stderr:\n%s", P.err);
	cr_assert_eq(fks_test_json_num(P.out, NULL, "kill"), 1);
	if (named != FKS_CFG_GATEWAY) {
		long long sent = fks_test_json_num(P.out, "\"gateway\"", "orders");
		long long at_kill = fks_test_json_num(P.out, "\"gateway\"", "orders_at_kill");
		cr_assert_eq(sent, at_kill, "no order reached the venue after the kill switch");
		cr_assert_eq(fks_test_json_num(P.out, "\"gateway\"", "terminal"),
			     sent + fks_test_json_num(P.out, "\"gateway\"", "kill_blocked"),
			     "open orders were canceled");
	}
}

Test(run, killed_strategy_trips_the_kill_switch, .timeout = 120, .fini = end_killable_run) { kill_stage(FKS_CFG_STRATEGY); }
Test(run, killed_risk_trips_the_kill_switch, .timeout = 120, .fini = end_killable_run) { kill_stage(FKS_CFG_RISK); }
Test(run, killed_gateway_trips_the_kill_switch, .timeout = 120, .fini = end_killable_run) { kill_stage(FKS_CFG_GATEWAY); }

Test(run, bad_configs_are_refused_with_file_and_line, .timeout = 60)
{
	const char *dir = getenv("FKS_TEST_CONFIGS");
	cr_assert_not_null(dir);
	static const struct {
		const char *file;
		const char *needle;
	} cases[] = {
		/* the lines are those of the fixtures (see test_config.c) */
		{ "bad_unknown_key.yaml", "bad_unknown_key.yaml:15:3: risk.max_notionl: unknown key" },
		{ "bad_duplicate_symbol.yaml", "bad_duplicate_symbol.yaml:14:" },
		{ "bad_core_absent.yaml", "bad_core_absent.yaml:6:" },
		{ "bad_type_int.yaml", "bad_type_int.yaml:5:" },
		{ "bad_capacity_pow2.yaml", "bad_capacity_pow2.yaml:9:" },
		{ "bad_feed_missing.yaml", "bad_feed_missing.yaml:14:9: feed.path:" },
		{ "bad_journal_root.yaml", "bad_journal_root.yaml:12:9: journal.path:" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[512], prefix[48];
		snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
		unique_prefix(prefix, sizeof prefix, "bad");
		const char *args[] = { "run", "-c", path, "--prefix", prefix, NULL };
		cr_assert_eq(fks_test_run(&P, args), 2, "%s: stderr:\n%s", cases[i].file, P.err);
		cr_assert_not_null(strstr(P.err, cases[i].needle), "%s: stderr:\n%s", cases[i].file, P.err);
		/* refused before anything started: no segment was created */
		struct run_segment *rs;
		cr_assert_eq(runseg_open(prefix, false, &rs), RING_E_NOENT, "%s left a run segment", cases[i].file);
	}
}

/* The deadline is nanoseconds in a uint64: infinity, NaN and overflowing
 * values would stop the run at once or never. */
Test(run, duration_must_be_finite_positive_and_bounded, .timeout = 60)
{
	static const char *const bad[] = { "inf", "nan", "-1", "0", "1e30", "5x" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char prefix[48];
		unique_prefix(prefix, sizeof prefix, "dur");
		const char *args[] = { "run", "--duration", bad[i], "--prefix", prefix, NULL };
		cr_assert_eq(fks_test_run(&P, args), 2, "--duration %s: stderr:\n%s", bad[i], P.err);
		cr_assert_not_null(strstr(P.err, "--duration: expected seconds > 0"), "%s: %s", bad[i], P.err);
		struct run_segment *rs;
		cr_assert_eq(runseg_open(prefix, false, &rs), RING_E_NOENT, "--duration %s started a run", bad[i]);
	}
}

Test(run, second_run_is_refused_and_a_crashed_run_is_cleaned_up, .timeout = 120, .fini = end_killable_run)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "again");
	const char *first[] = { "run", "--duration", "60", "--prefix", prefix, NULL };
	start_killable(&P, first);
	runseg_close(wait_for_orders(prefix, 1));

	static struct fks_proc second;
	const char *args2[] = { "run", "--events", "1000", "--prefix", prefix, NULL };
	cr_assert_eq(fks_test_run(&second, args2), 1);
	cr_assert_not_null(strstr(second.err, "already running"), "stderr:\n%s", second.err);

	/* `fks status` reads the running pipeline */
	const char *st[] = { "status", "--prefix", prefix, "--interval", "0.2", NULL };
	cr_assert_eq(fks_test_run(&second, st), 0, "stderr:\n%s", second.err);
	cr_assert_not_null(strstr(second.out, "gateway"), "status:\n%s", second.out);
	cr_assert_not_null(strstr(second.out, "tick-to-trade"));

	/* crash the supervisor: its stages die with it, the segments stay */
	kill(P.pid, SIGKILL);
	fks_test_finish(&P);
	fks_test_sleep_ms(200);
	struct run_segment *rs;
	cr_assert_eq(runseg_open(prefix, false, &rs), RING_OK, "a crash leaves the segment behind");
	runseg_close(rs);
	/* a dead pipeline is not shown running, nor "killed" */
	cr_assert_eq(fks_test_run(&second, st), 1, "status of a crashed run; stdout:\n%s", second.out);
	cr_assert_not_null(strstr(second.err, "is not running"), "stderr:\n%s", second.err);
	const char *kill_args[] = { "kill", "--prefix", prefix, NULL };
	cr_assert_eq(fks_test_run(&second, kill_args), 1, "kill of a crashed run; stdout:\n%s", second.out);
	cr_assert_not_null(strstr(second.err, "no running pipeline"), "stderr:\n%s", second.err);

	cr_assert_eq(fks_test_run(&second, args2), 0, "restart after a crash: stderr:\n%s", second.err);
	cr_assert_not_null(strstr(second.err, "crashed run"), "stderr:\n%s", second.err);
	cr_assert_eq(runseg_open(prefix, false, &rs), RING_E_NOENT, "a clean stop removes its segments");
	cr_assert_eq(fks_test_run(&second, st), 1, "status with nothing running");
}

/* A stage that is alive but stuck (SIGSTOP) is caught by its heartbeat: the
 * supervisor trips the kill switch after supervisor.heartbeat_timeout_ms
 * (default 1000) and kills it. */
Test(run, stalled_risk_trips_the_kill_switch, .timeout = 120, .fini = end_killable_run)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "stall");
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--json", NULL };
	start_killable(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 5);
	pid_t pid = atomic_load(&rs->stage[FKS_CFG_RISK].pid);
	runseg_close(rs);
	cr_assert_eq(kill(pid, SIGSTOP), 0);
	cr_assert_eq(fks_test_finish(&P), 1, "stderr:\n%s", P.err);
	/* Shared: risk's runner stops every stage in it; the gateway is named,
	 * with the runner. */
	const char *want = fks_test_dedicated_layout() ? "KILL SWITCH: stage risk stalled: no heartbeat for"
					      : "KILL SWITCH: stage gateway stalled: no heartbeat for";
	cr_assert_not_null(strstr(P.err, want), "stderr:\n%s", P.err);
	if (!fks_test_dedicated_layout())
		cr_assert_not_null(strstr(P.err, "(in runner hot, with feed strategy risk)"), "stderr:\n%s", P.err);
	cr_assert_eq(fks_test_json_num(P.out, NULL, "kill"), 1);
}

/* `fks kill` on a live pipeline: market data keeps flowing, risk refuses
 * every later intent with kill_switch, the gateway sends nothing after it
 * saw the switch, and a stop afterwards is still clean. */
/* ---- the journal of a run ------------------------------------------------ */

/* What a journal holds, counted independently of `fks journal`. */
struct census {
	uint64_t total, last_key;
	uint64_t by_source[FKS_STAGE_COUNT];
	uint64_t by_type[FKS_EV_TYPE_COUNT];
	uint64_t applied_by[FKS_STAGE_COUNT];   /* FKS_EV_APPLIED markers, by applying stage */
	uint64_t next_seq[FKS_STAGE_COUNT];     /* per source: the seq expected next */
	bool keys_dense, seqs_dense;
	struct fks_ev_control control;          /* the last FKS_EV_CONTROL */
};

static void take_census(const char *dir, struct census *c)
{
	memset(c, 0, sizeof *c);
	c->keys_dense = c->seqs_dense = true;
	for (int s = 0; s < FKS_STAGE_COUNT; s++)
		c->next_seq[s] = 1;
	struct journal_reader *r;
	char err[512];
	cr_assert_eq(journal_open_reader(dir, &r, err, sizeof err), JOURNAL_OK, "%s", err);
	journal_seek(r, 1);
	static struct journal_record rec;
	int rc;
	while ((rc = journal_read(r, &rec)) == 1) {
		c->total++;
		if (rec.seq != c->total)
			c->keys_dense = false;
		c->last_key = rec.seq;
		unsigned src = rec.ev.h.source, type = rec.ev.h.type;
		cr_assert_lt(src, FKS_STAGE_COUNT, "key %llu: source %u", (unsigned long long)rec.seq, src);
		cr_assert_lt(type, FKS_EV_TYPE_COUNT);
		c->by_source[src]++;
		c->by_type[type]++;
		if (type == FKS_EV_APPLIED)
			c->applied_by[src]++;
		if (type == FKS_EV_CONTROL)
			c->control = rec.ev.control;
		if (rec.ev.h.seq != c->next_seq[src])
			c->seqs_dense = false;
		c->next_seq[src] = rec.ev.h.seq + 1;
	}
	cr_assert_eq(rc, 0, "read: %s", journal_reader_error(r));
	journal_reader_close(r);
}

Test(run, operator_kill_switch_stops_orders_not_the_pipeline, .timeout = 120)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "opkill");
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--json", NULL };
	fks_test_start(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 10);

	static struct fks_proc k;
	const char *kill_args[] = { "kill", "--prefix", prefix, "--reason", "test", NULL };
	cr_assert_eq(fks_test_run(&k, kill_args), 0, "stderr:\n%s", k.err);
	cr_assert_not_null(strstr(k.out, "kill switch tripped"), "stdout:\n%s", k.out);
	/* let the strategy emit at least 20 more intents into the tripped switch */
	uint64_t intents = atomic_load(&rs->stage[FKS_CFG_STRATEGY].counter[CTR_ORDERS]);
	for (int i = 0; i < 3000 && atomic_load(&rs->stage[FKS_CFG_STRATEGY].counter[CTR_ORDERS]) < intents + 20; i++)
		fks_test_sleep_ms(10);
	runseg_close(rs);
	kill(P.pid, SIGTERM);
	cr_assert_eq(fks_test_finish(&P), 0, "a deliberate kill is not a failure; stderr:\n%s", P.err);
	cr_assert_not_null(strstr(P.err, "KILL SWITCH: operator test"), "stderr:\n%s", P.err);
	cr_assert_eq(fks_test_json_num(P.out, NULL, "kill"), 1);
	cr_assert_eq(fks_test_json_num(P.out, "\"gateway\"", "orders"), fks_test_json_num(P.out, "\"gateway\"", "orders_at_kill"),
		     "no order reached the venue after the kill switch");
	cr_assert_geq(fks_test_json_num(P.out, "\"risk\"", "risk_rejected"), 20, "risk refused the intents that followed");
	cr_assert_eq(fks_test_json_num(P.out, "\"gateway\"", "terminal"),
		     fks_test_json_num(P.out, "\"gateway\"", "orders") + fks_test_json_num(P.out, "\"gateway\"", "kill_blocked"),
		     "every order that reached the gateway is done");
	const char *again[] = { "kill", "--prefix", prefix, NULL };
	cr_assert_eq(fks_test_run(&k, again), 1, "nothing left to kill");
	static struct census c;
	take_census(P.journal, &c);
	cr_assert_eq(c.by_type[FKS_EV_CONTROL], 1, "the kill switch is journaled once");
	cr_assert_eq(c.control.op, FKS_CTL_KILL);
	cr_assert_eq(c.control.reason, FKS_CTL_REASON_OPERATOR);
	cr_assert_eq(c.control.h.source, FKS_STAGE_GATEWAY);
	static struct fks_proc t;
	const char *tail[] = { "tail", "--type", "control", "-j", P.journal, NULL };
	cr_assert_eq(fks_test_run(&t, tail), 0, "stderr:\n%s", t.err);
	cr_assert_not_null(strstr(t.out, "op=kill reason=operator"), "fks tail names the kill switch's reason");
}

/* Every event of a run is in the journal exactly once: the journal's counts
 * by source and type equal each stage's own counters, and every source's
 * sequence is dense from 1. */
Test(run, the_journal_holds_every_event_exactly_once, .timeout = 240)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "jall");
	const char *args[] = { "run", "--events", "300000", "--prefix", prefix, "--json", NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "fks run failed:\n%s", P.err);
	const char *j = P.out;
	expect_reconciled(j, 300000);
	static struct census c;
	take_census(P.journal, &c);
	cr_assert(c.keys_dense, "keys 1..n without gaps");
	cr_assert(c.seqs_dense, "every source's sequence is dense from 1");
	cr_assert_eq(c.total, (uint64_t)fks_test_json_num(j, "\"journal\"", "events"), "the summary counts what was committed");
	cr_assert_eq(c.by_source[FKS_STAGE_FEED], 300000);
	cr_assert_eq(c.by_type[FKS_EV_QUOTE], (uint64_t)fks_test_json_num(j, "\"feed\"", "quotes"));
	cr_assert_eq(c.by_type[FKS_EV_TRADE], (uint64_t)fks_test_json_num(j, "\"feed\"", "trades"));
	cr_assert_eq(c.by_type[FKS_EV_ORDER_NEW], (uint64_t)fks_test_json_num(j, "\"strategy\"", "orders"));
	cr_assert_eq(c.by_type[FKS_EV_RISK_REJECT], (uint64_t)fks_test_json_num(j, "\"risk\"", "risk_rejected"));
	cr_assert_eq(c.by_type[FKS_EV_ORDER_ACK], (uint64_t)fks_test_json_num(j, "\"gateway\"", "acks"));
	cr_assert_eq(c.by_type[FKS_EV_FILL], (uint64_t)fks_test_json_num(j, "\"gateway\"", "fills"));
	cr_assert_eq(c.by_type[FKS_EV_ORDER_REJECT], (uint64_t)fks_test_json_num(j, "\"gateway\"", "venue_rejects"));
	cr_assert_eq(c.by_type[FKS_EV_CANCEL_ACK], (uint64_t)fks_test_json_num(j, "\"gateway\"", "cancels"));
	cr_assert_eq(c.applied_by[FKS_STAGE_STRATEGY], (uint64_t)fks_test_json_num(j, "\"strategy\"", "exec_in"),
		     "one marker per report the strategy applied");
	cr_assert_eq(c.applied_by[FKS_STAGE_RISK], (uint64_t)fks_test_json_num(j, "\"risk\"", "exec_in"),
		     "one marker per report risk applied");
	cr_assert_eq(c.by_source[FKS_STAGE_GATEWAY], c.by_type[FKS_EV_ORDER_ACK] + c.by_type[FKS_EV_FILL] +
			     c.by_type[FKS_EV_ORDER_REJECT] + c.by_type[FKS_EV_CANCEL_ACK],
		     "the gateway journals its reports once, not the risk rejects it forwards");
	fks_test_expect_verify_ok(P.journal);
}

/* A slow disk is back-pressure, not a death: with every journal commit
 * slowed to 1.5 s (the journal stage's test hook, longer than the 1000 ms
 * heartbeat timeout) the run still finishes cleanly, nothing is lost, and
 * the journal verifies. */
Test(run, a_commit_slower_than_the_heartbeat_timeout_is_not_a_stall, .timeout = 180)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "slowdisk");
	const char *args[] = { "run", "--events", "10000", "--prefix", prefix, "--json", NULL };
	cr_assert_eq(setenv("FKS_TEST_JOURNAL_COMMIT_DELAY_MS", "1500", 1), 0);
	int rc = fks_test_run(&P, args);
	unsetenv("FKS_TEST_JOURNAL_COMMIT_DELAY_MS");
	cr_assert_eq(rc, 0, "fks run with 1.5 s commits failed:\n%s", P.err);
	cr_assert_null(strstr(P.err, "stalled"), "stderr:\n%s", P.err);
	cr_assert_eq(fks_test_json_num(P.out, NULL, "kill"), 0);
	expect_reconciled(P.out, 10000);
	cr_assert_geq(fks_test_json_num(P.out, "\"journal\"", "commits"), 2, "more than one slow commit ran");
	fks_test_expect_verify_ok(P.journal);
}

/* `fks status` shows a commit in progress and how long it has run: with
 * 1.5 s commits, a sample lands inside one within a few tries. */
Test(run, status_shows_a_long_commit, .timeout = 180)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "slowstat");
	const char *args[] = { "run", "--events", "10000", "--prefix", prefix, NULL };
	cr_assert_eq(setenv("FKS_TEST_JOURNAL_COMMIT_DELAY_MS", "1500", 1), 0);
	fks_test_start(&P, args);
	unsetenv("FKS_TEST_JOURNAL_COMMIT_DELAY_MS");
	static struct fks_proc st;
	const char *st_args[] = { "status", "--prefix", prefix, "--interval", "0.2", NULL };
	bool seen = false;
	for (int i = 0; i < 50 && !seen; i++) /* exit 1 until the run's segments exist */
		seen = fks_test_run(&st, st_args) == 0 && strstr(st.out, "journal: committing for") != NULL;
	int rc = fks_test_finish(&P);
	cr_assert(seen, "status never showed the commit:\n%s\nrun:\n%s", st.out, P.err);
	cr_assert_eq(rc, 0, "stderr:\n%s", P.err);
	fks_test_expect_verify_ok(P.journal);
}

/* The acknowledged-commit counter of a live run, once it is past n. */
static uint64_t wait_committed(struct run_segment *rs, uint64_t n)
{
	for (int i = 0; i < 3000; i++) {
		uint64_t c = atomic_load(&rs->stage[FKS_CFG_JOURNAL].counter[CTR_JOURNALED]);
		if (c >= n)
			return c;
		fks_test_sleep_ms(10);
	}
	cr_assert_fail("the journal never committed %llu events", (unsigned long long)n);
	return 0;
}

/* SIGKILL the journal stage mid-run: the kill switch trips and names it, and
 * the journal left behind is valid (dense keys, whole batches) and holds at
 * least every event whose commit had been acknowledged. */
Test(run, killed_journal_trips_the_kill_switch_and_leaves_a_valid_journal, .timeout = 120, .fini = end_killable_run)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "jkill");
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--json", NULL };
	start_killable(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 20);
	uint64_t acked = wait_committed(rs, 50000);
	pid_t pid = atomic_load(&rs->stage[FKS_CFG_JOURNAL].pid);
	acked = atomic_load(&rs->stage[FKS_CFG_JOURNAL].counter[CTR_JOURNALED]);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	runseg_close(rs);
	cr_assert_eq(fks_test_finish(&P), 1, "stderr:\n%s", P.err);
	cr_assert_not_null(strstr(P.err, "KILL SWITCH: stage journal"), "stderr:\n%s", P.err);
	cr_assert_eq(fks_test_json_num(P.out, NULL, "kill"), 1);
	static struct census c;
	take_census(P.journal, &c);
	cr_assert(c.keys_dense && c.seqs_dense);
	cr_assert_geq(c.total, acked, "an acknowledged commit survives: %llu in the journal, %llu acknowledged",
		      (unsigned long long)c.total, (unsigned long long)acked);
	fks_test_expect_verify_ok(P.journal);
}

/* SIGKILL every process of the run at once (supervisor and stages), as a
 * crash would.  The journal stays valid with every acknowledged event; the
 * next run on the same prefix and journal path cleans up the segments and
 * moves the crashed journal aside. */
Test(run, killed_process_group_leaves_a_valid_journal_and_a_restartable_run, .timeout = 120, .fini = end_killable_run)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "jgrp");
	char dir[96];
	fks_test_new_journal_dir(dir, sizeof dir);
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--journal", dir, NULL };
	start_killable(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 20);
	wait_committed(rs, 50000);
	uint64_t acked = atomic_load(&rs->stage[FKS_CFG_JOURNAL].counter[CTR_JOURNALED]);
	cr_assert_eq(kill(-P.pid, SIGKILL), 0);
	runseg_close(rs);
	fks_test_finish(&P);
	fks_test_sleep_ms(200); /* let the kernel finish off the stages */
	static struct census c;
	take_census(dir, &c);
	cr_assert(c.keys_dense && c.seqs_dense);
	cr_assert_geq(c.total, acked, "%llu in the journal, %llu acknowledged", (unsigned long long)c.total,
		      (unsigned long long)acked);
	fks_test_expect_verify_ok(dir);

	static struct fks_proc again;
	const char *args2[] = { "run", "--events", "1000", "--prefix", prefix, "--journal", dir, NULL };
	cr_assert_eq(fks_test_run(&again, args2), 0, "restart: stderr:\n%s", again.err);
	cr_assert_not_null(strstr(again.err, "crashed run"), "stderr:\n%s", again.err);
	const char *moved = strstr(again.err, "moved to ");
	cr_assert_not_null(moved, "the crashed journal was moved aside:\n%s", again.err);
	char old[128];
	cr_assert_eq(sscanf(moved, "moved to %127s", old), 1);
	take_census(old, &c);
	cr_assert_geq(c.total, acked, "the moved journal is the crashed one");
	take_census(dir, &c);
	cr_assert_eq(c.by_source[FKS_STAGE_FEED], 1000, "the new run has a journal of its own");
}

/* Wait until the tail's output holds `want` lines, then stop it. */
static void expect_tail_saw(struct fks_proc *t, uint64_t want)
{
	bool in_order = false;
	uint64_t n = 0;
	for (int i = 0; i < 1000 && (n = fks_test_count_tail_lines(t->out_path, &in_order)) < want; i++)
		fks_test_sleep_ms(20);
	kill(t->pid, SIGTERM);
	cr_assert_eq(fks_test_finish(t), 0, "tail: stderr:\n%s", t->err);
	cr_assert_eq(n, want, "the tail saw %llu of %llu events", (unsigned long long)n, (unsigned long long)want);
	cr_assert(in_order, "the tail printed seq 1, 2, 3, ... in order");
}

/* `fks tail -f` started before the run (it waits for the journal to appear),
 * and one started mid-run with --from 1, each print every event in order. */
Test(run, tails_started_before_and_during_a_run_see_every_event, .timeout = 180)
{
	char prefix[48], dir[96];
	unique_prefix(prefix, sizeof prefix, "jtail");
	fks_test_new_journal_dir(dir, sizeof dir);
	static struct fks_proc early, late;
	const char *targs[] = { "tail", "-f", "-j", dir, "--json", NULL };
	fks_test_start(&early, targs);
	fks_test_sleep_ms(100);
	const char *args[] = { "run", "--events", "300000", "--prefix", prefix, "--journal", dir, NULL };
	fks_test_start(&P, args);
	runseg_close(wait_for_orders(prefix, 5));
	const char *largs[] = { "tail", "-f", "-j", dir, "--json", "--from", "1", NULL };
	fks_test_start(&late, largs);
	cr_assert_eq(fks_test_finish(&P), 0, "run: stderr:\n%s", P.err);
	static struct census c;
	take_census(dir, &c);
	cr_assert_gt(c.total, 300000);
	expect_tail_saw(&early, c.total);
	expect_tail_saw(&late, c.total);
}

/* Live/backtest parity: a run of the signal engine (several strategy kinds,
 * a regime gate) is reproduced by `fks replay --verify` from its journal
 * alone, decision for decision, with execution reports applied where the
 * APPLIED markers say. */
Test(run, replay_verify_reproduces_a_live_engine_run, .timeout = 240)
{
	static char cfg[20000], path[64];
	const char *dump[] = { "config", "default", NULL };
	cr_assert_eq(fks_test_run(&P, dump), 0);
	const char *st = strstr(P.out, "\nstrategy:\n");
	cr_assert_not_null(st, "the default config has a strategy section");
	const char *end = strstr(st + 1, "\n\n");
	cr_assert_not_null(end);
	snprintf(cfg, sizeof cfg,
		 "%.*s\n"
		 "strategies:\n"
		 "  - {name: regime, kind: markov, instrument: BTCUSDT, params: {window: 50}}\n"
		 "  - name: cross\n"
		 "    kind: sma_cross\n"
		 "    instrument: BTCUSDT\n"
		 "    params: {fast: 10, slow: 30, min_confidence: 0.1, max_qty: \"0.05\"}\n"
		 "  - {name: states, kind: asmbtr, instrument: ETHUSDT, params: {depth: 6, max_qty: \"0.5\"}}\n"
		 "%s",
		 (int)(st - P.out), P.out, end);
	snprintf(path, sizeof path, "/tmp/fks-test-engine-%d.yaml", (int)getpid());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(cfg, f);
	fclose(f);

	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "parity");
	const char *args[] = { "run", "-c", path, "--events", "200000", "--prefix", prefix, "--json", NULL };
	int rc = fks_test_run(&P, args);
	unlink(path);
	cr_assert_eq(rc, 0, "fks run failed:\n%s", P.err);
	static struct census c;
	take_census(P.journal, &c);
	cr_assert_gt(c.by_type[FKS_EV_SIGNAL], 0, "the engine signalled");
	cr_assert_gt(c.by_type[FKS_EV_FILL], 0, "and traded");
	static struct fks_proc v;
	const char *vargs[] = { "replay", "--input", P.journal, "--verify", NULL };
	cr_assert_eq(fks_test_run(&v, vargs), 0, "replay --verify:\n%s%s", v.out, v.err);
	cr_assert_not_null(strstr(v.out, "all match"), "%s", v.out);
}

/* ---- the live summary and the replay report agree ----------------------- */

/* The exact realized P&L the summary printed for symbol ("realized_cash",
 * cash units), parsed as a 128-bit integer. */
static __int128 summary_realized_cash(const char *json, const char *symbol)
{
	char key[64];
	snprintf(key, sizeof key, "\"%s\":{\"position\"", symbol);
	const char *at = strstr(json, key);
	cr_assert_not_null(at, "no position for %s in the summary", symbol);
	at = strstr(at, "\"realized_cash\":\"");
	cr_assert_not_null(at, "no realized_cash for %s", symbol);
	at += strlen("\"realized_cash\":\"");
	bool neg = *at == '-';
	at += neg;
	__int128 v = 0;
	cr_assert(*at >= '0' && *at <= '9', "realized_cash of %s is not a number", symbol);
	for (; *at >= '0' && *at <= '9'; at++)
		v = v * 10 + (*at - '0');
	cr_assert_eq(*at, '"');
	return neg ? -v : v;
}

/*
 * The journal's own fills, each with the side of the order it names, fed to
 * the replay report's accounting: its realized P&L per instrument must be
 * the live summary's, exactly.  The two sides are independent readings of
 * the run (the gateway stage live, the journal afterwards), so a broken
 * side lookup, a lost fill or a different average-cost rule on either side
 * shows up as a difference.
 */
Test(run, live_summary_and_replay_report_agree_on_realized_pnl, .timeout = 120)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "pnl");
	const char *args[] = { "run", "--events", "60000", "--prefix", prefix, "--json", NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "fks run failed:\n%s", P.err);

	struct journal_reader *jr;
	char err[512];
	cr_assert_eq(journal_open_reader(P.journal, &jr, err, sizeof err), JOURNAL_OK, "%s", err);
	const struct journal_meta *meta = journal_reader_meta(jr);
	static struct report_params rp;
	static struct report rep;
	memset(&rp, 0, sizeof rp);
	rp.fee_ppm = 0;
	rp.n_instruments = meta->n_symbols;
	for (uint32_t i = 0; i < meta->n_symbols; i++) {
		rp.instrument[i].id = meta->symbol[i].id;
		memcpy(rp.instrument[i].symbol, meta->symbol[i].symbol, FKS_SYMBOL_MAX);
		rp.instrument[i].px_scale = meta->symbol[i].px_scale;
		rp.instrument[i].qty_scale = meta->symbol[i].qty_scale;
	}
	cr_assert_eq(report_init(&rep, &rp), 0);

	/* order_id -> side, from the journal's ORDER_NEW events: a first pass,
	 * because the journal interleaves the stages' taps, so a fill can be
	 * journaled before the order it fills (each source stays in order). */
	struct index sides;
	cr_assert_eq(index_init(&sides, 1u << 20, NULL, 0), INDEX_OK);
	static struct journal_record rec;
	uint64_t fills = 0, orphan_fills = 0;
	int rc;
	journal_seek(jr, 1);
	while ((rc = journal_read(jr, &rec)) == 1)
		if (rec.ev.h.type == FKS_EV_ORDER_NEW && rec.ev.order_new.order_id != 0)
			cr_assert_eq(index_put(&sides, rec.ev.order_new.order_id, rec.ev.order_new.side), INDEX_OK);
	cr_assert_eq(rc, 0, "journal read: %d", rc);
	/* The fills, in the gateway's own order. */
	journal_seek(jr, 1);
	while ((rc = journal_read(jr, &rec)) == 1) {
		if (rec.ev.h.type == FKS_EV_FILL) {
			uint32_t side;
			if (index_get(&sides, rec.ev.fill.order_id, &side) != INDEX_OK) {
				orphan_fills++;
				continue;
			}
			report_on_fill(&rep, &rec.ev.fill, (uint8_t)side, 0);
			fills++;
		}
	}
	cr_assert_eq(rc, 0, "journal read: %d", rc);
	journal_reader_close(jr);
	index_free(&sides);
	report_finish(&rep);

	cr_assert_eq(orphan_fills, 0, "fills whose order the journal does not hold");
	cr_assert_gt(fills, 0, "the run filled nothing: nothing was compared");
	cr_assert_eq(rep.unknown_fills, 0);
	cr_assert_eq((long long)fills, fks_test_json_num(P.out, "\"gateway\"", "fills"), "the journal lost or gained fills");
	bool some_nonzero = false;
	for (uint32_t i = 0; i < rp.n_instruments; i++) {
		__int128 live = summary_realized_cash(P.out, rp.instrument[i].symbol);
		__int128 replayed = report_realized_cash(&rep, rp.instrument[i].id);
		cr_assert(live == replayed, "%s: live realized %lld, report %lld (cash units)",
			  rp.instrument[i].symbol, (long long)live, (long long)replayed);
		some_nonzero |= replayed != 0;
	}
	cr_assert(some_nonzero, "every realized P&L is 0: the comparison proves nothing");
	report_free(&rep);
}

/* ---- every way of stopping drains ------------------------------------------ */

/* Nothing of the run is left in /dev/shm: no "<prefix>." segment. */
static void expect_no_segments(const char *prefix)
{
	char stem[64];
	snprintf(stem, sizeof stem, "%s.", prefix);
	DIR *d = opendir("/dev/shm");
	cr_assert_not_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		cr_assert(strncmp(e->d_name, stem, strlen(stem)) != 0, "left in /dev/shm: %s", e->d_name);
	closedir(d);
}

/* A drained stop: exit 0, every stage exited (none still "running"), no kill
 * switch, a journal that verifies, and no segment left behind. */
static void expect_drained(struct fks_proc *p, int rc, const char *prefix, const char *how)
{
	cr_assert_eq(rc, 0, "%s: exit %d; stderr:\n%s", how, rc, p->err);
	if (!p->stdout_unread) {
		cr_assert_null(strstr(p->out, "\"state\":\"running\""), "%s: summary:\n%s", how, p->out);
		for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
			char scope[32];
			snprintf(scope, sizeof scope, "\"%s\":{\"state\":\"exited\"", config_stage_name((enum fks_cfg_stage)s));
			cr_assert_not_null(strstr(p->out, scope), "%s: stage %s did not exit cleanly:\n%s", how,
					   config_stage_name((enum fks_cfg_stage)s), p->out);
		}
		cr_assert_eq(fks_test_json_num(p->out, NULL, "kill"), 0, "%s: the kill switch tripped", how);
	}
	fks_test_expect_verify_ok(p->journal);
	expect_no_segments(prefix);
}

/* Start a run in a process group of its own, wait until it trades, send sig
 * to the supervisor alone or to the whole group (as systemd, timeout(1),
 * `kill -- -PGID` or a terminal's Ctrl-C, Ctrl-\ or hangup do). */
static void stop_with(int sig, bool whole_group)
{
	char prefix[48], how[64];
	unique_prefix(prefix, sizeof prefix, "sig");
	snprintf(how, sizeof how, "%s to the %s", strsignal(sig), whole_group ? "process group" : "supervisor");
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--json", NULL };
	P.own_group = true;
	fks_test_start(&P, args);
	P.own_group = false;
	runseg_close(wait_for_orders(prefix, 20));
	cr_assert_eq(kill(whole_group ? -P.pid : P.pid, sig), 0);
	int rc = fks_test_finish(&P);
	expect_drained(&P, rc, prefix, how);
}

Test(stop, sigterm_to_the_supervisor_drains, .timeout = 120) { stop_with(SIGTERM, false); }
Test(stop, sigterm_to_the_process_group_drains, .timeout = 120) { stop_with(SIGTERM, true); }
Test(stop, sigint_to_the_process_group_drains, .timeout = 120) { stop_with(SIGINT, true); }
Test(stop, sighup_to_the_process_group_drains, .timeout = 120) { stop_with(SIGHUP, true); }
Test(stop, sigquit_to_the_process_group_drains, .timeout = 120) { stop_with(SIGQUIT, true); }

/* `fks run | true`: the summary cannot be written, and the run still drains,
 * cleans up and exits 0, saying on stderr that the summary was lost. */
Test(stop, an_unread_stdout_does_not_stop_the_drain, .timeout = 120)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "pipe");
	const char *args[] = { "run", "--events", "20000", "--prefix", prefix, NULL };
	P.stdout_unread = true;
	fks_test_start(&P, args);
	int rc = fks_test_finish(&P);
	expect_drained(&P, rc, prefix, "stdout closed");
	P.stdout_unread = false;
	cr_assert_not_null(strstr(P.err, "summary"), "the lost summary is reported:\n%s", P.err);
}

/* ---- the journal guard (issue 12 item 4) ---------------------------------- */

/* Gateway orders to the venue, once they have stopped growing for 300 ms
 * (or after 10 s: then the caller's assertion fails). */
static uint64_t orders_once_settled(struct run_segment *rs)
{
	const _Atomic uint64_t *o = &rs->stage[FKS_CFG_GATEWAY].counter[CTR_ORDERS];
	uint64_t last = atomic_load(o);
	for (int i = 0; i < 100; i++) {
		fks_test_sleep_ms(300);
		uint64_t now = atomic_load(o);
		if (now == last)
			return now;
		last = now;
	}
	return last;
}

/* Start a run, stop its supervisor (so no kill switch comes to the rescue),
 * SIGKILL the journal stage, and check the gateway alone stops sending:
 * the strategy keeps sending orders, the gateway refuses them. */
static void kill_journal_behind_a_stopped_supervisor(const char *prefix, const char *config)
{
	const char *args[] = { "run", "--duration", "60", "--prefix", prefix, "--json", "-c", config, NULL };
	if (!config)
		args[6] = NULL;
	start_killable(&P, args);
	struct run_segment *rs = wait_for_orders(prefix, 20);
	wait_committed(rs, 20000);
	pid_t journal = atomic_load(&rs->stage[FKS_CFG_JOURNAL].pid);
	cr_assert_eq(kill(P.pid, SIGSTOP), 0);
	cr_assert_eq(kill(journal, SIGKILL), 0);
	uint64_t settled = orders_once_settled(rs);
	uint64_t blocked = atomic_load(&rs->stage[FKS_CFG_GATEWAY].counter[CTR_JOURNAL_BLOCKED]);
	uint64_t intents = atomic_load(&rs->stage[FKS_CFG_STRATEGY].counter[CTR_ORDERS]);
	for (int i = 0; i < 1000 && atomic_load(&rs->stage[FKS_CFG_STRATEGY].counter[CTR_ORDERS]) < intents + 20; i++)
		fks_test_sleep_ms(10);
	fks_test_sleep_ms(300);
	cr_assert_eq(atomic_load(&rs->stage[FKS_CFG_GATEWAY].counter[CTR_ORDERS]), settled,
		     "no order leaves once the journal is dead, with the supervisor stopped");
	cr_assert_gt(atomic_load(&rs->stage[FKS_CFG_GATEWAY].counter[CTR_JOURNAL_BLOCKED]), blocked,
		     "the strategy went on sending; the gateway refused");
	runseg_close(rs);
	cr_assert_eq(kill(P.pid, SIGCONT), 0);
	cr_assert_eq(fks_test_finish(&P), 1, "stderr:\n%s", P.err);
	cr_assert_eq(fks_test_json_num(P.out, "\"gateway\"", "orders"), (long long)settled);
	cr_assert_gt(fks_test_json_num(P.out, "\"gateway\"", "journal_blocked"), 0);
}

/* not_journaled is exactly what each stage tapped minus what the journal
 * holds from it, counted in the journal itself. */
static void expect_not_journaled_exact(const char *out, const char *journal)
{
	static struct census c;
	take_census(journal, &c);
	cr_assert(c.keys_dense && c.seqs_dense);
	static const char *const scope[] = { "\"feed\"", "\"strategy\"", "\"risk\"", "\"gateway\"" };
	long long total = 0;
	for (int s = 0; s < 4; s++) {
		long long tapped = fks_test_json_num(out, scope[s], "tapped");
		long long missing = fks_test_json_num(out, scope[s], "not_journaled");
		cr_assert_eq(missing, tapped - (long long)c.by_source[s + 1],
			     "%s: not_journaled %lld, tapped %lld, in the journal %llu", scope[s], missing, tapped,
			     (unsigned long long)c.by_source[s + 1]);
		total += missing;
	}
	cr_assert_gt(total, 0, "the journal died with events in flight");
	cr_assert_eq(fks_test_json_num(out, "\"path\"", "not_journaled"), total);
}

TestSuite(journal_guard, .fini = end_killable_run);

Test(journal_guard, killed_journal_no_order_leaves_and_the_loss_is_exact, .timeout = 180)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "jguard");
	kill_journal_behind_a_stopped_supervisor(prefix, NULL);
	expect_not_journaled_exact(P.out, P.journal);
}

/* A config: the default with journal.write_ahead on. */
static const char *write_ahead_config(void)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/write_ahead.yaml", fks_test_scratch_dir());
	static struct fks_proc d;
	const char *args[] = { "config", "default", NULL };
	cr_assert_eq(fks_test_run(&d, args), 0);
	char *at = strstr(d.out, "  batch_us:");
	cr_assert_not_null(at);
	at = strchr(at, '\n');
	cr_assert_not_null(at);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%.*s\n  write_ahead: true%s", (int)(at - d.out), d.out, at);
	fclose(f);
	return path;
}

/* write_ahead as fast as possible with small rings: every ring fills and
 * every stage is held back, and still the run completes.  (A strategy that
 * waited for room on its output with an order still in an unpublished tap
 * slot held the gateway, which waited for that order's commit: a deadlock.) */
Test(journal_guard, write_ahead_under_back_pressure_completes, .timeout = 180)
{
	static char text[65536], path[160];
	FILE *in = fopen(write_ahead_config(), "r");
	cr_assert_not_null(in);
	size_t n = fread(text, 1, sizeof text - 1, in);
	fclose(in);
	text[n] = 0;
	char *rate = strstr(text, "  rate: 100000\n"), *cap = strstr(text, "  capacity: 65536\n");
	cr_assert(rate && cap, "the default config sets feed.rate 100000 and rings.capacity 65536");
	memcpy(rate, "  rate: 0     ", 14);   /* as fast as possible */
	memcpy(cap, "  capacity: 1024 ", 17); /* rings fill at once */
	snprintf(path, sizeof path, "%s/write_ahead_asap.yaml", fks_test_scratch_dir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "waasap");
	const char *args[] = { "run", "--events", "300000", "--prefix", prefix, "--json", "-c", path, NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "stderr:\n%s", P.err);
	expect_reconciled(P.out, 300000);
	cr_assert_eq(fks_test_json_num(P.out, "\"path\"", "not_journaled"), 0);
}

/* write_ahead: every order that reached the venue is in the journal, also
 * when the journal dies mid-run. */
Test(journal_guard, write_ahead_journals_every_order_before_the_venue, .timeout = 180)
{
	const char *cfg = write_ahead_config();
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "wa");
	const char *args[] = { "run", "--events", "50000", "--prefix", prefix, "--json", "-c", cfg, NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "stderr:\n%s", P.err);
	expect_reconciled(P.out, 50000);
	cr_assert_eq(fks_test_json_num(P.out, "\"path\"", "not_journaled"), 0);

	unique_prefix(prefix, sizeof prefix, "wakill");
	kill_journal_behind_a_stopped_supervisor(prefix, cfg);
	expect_not_journaled_exact(P.out, P.journal);
	static struct census c;
	take_census(P.journal, &c);
	cr_assert_leq(fks_test_json_num(P.out, "\"gateway\"", "orders"), (long long)c.by_type[FKS_EV_ORDER_NEW],
		      "no order reached the venue before the journal had it");
}

/* ---- group commit: adapts to the backlog (stage_journal.c) ------------- */

/* The default config with some lines replaced: each `from` must occur. */
static const char *config_with(const char *name, const char *const from[], const char *const to[], int n)
{
	static char text[65536], out[65536], path[160];
	fks_test_read_config(NULL, text, sizeof text);
	for (int i = 0; i < n; i++) {
		char *at = strstr(text, from[i]);
		cr_assert_not_null(at, "the default config has '%s'", from[i]);
		snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to[i], at + strlen(from[i]));
		snprintf(text, sizeof text, "%s", out);
	}
	snprintf(path, sizeof path, "%s/%s.yaml", fks_test_scratch_dir(), name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* A trickle into an idle pipeline, with the batch window at its maximum
 * (1 s) and a batch size no run reaches: every event finds the taps empty
 * behind it and is committed at once, so the journal counts commits while
 * the run lasts (0.1 s of feed).  Waiting for batch_us instead, nothing
 * would be committed before the close, which commits the rest uncounted. */
Test(group_commit, a_lone_event_is_committed_when_the_taps_are_empty, .timeout = 120)
{
	static const char *const from[] = { "  rate: 100000\n", "  batch_events: 4096\n", "  batch_us: 1000\n" };
	static const char *const to[] = { "  rate: 100\n", "  batch_events: 1048576\n", "  batch_us: 1000000\n" };
	const char *cfg = config_with("trickle", from, to, 3);
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "gcidle");
	const char *args[] = { "run", "--events", "10", "--prefix", prefix, "--json", "-c", cfg, NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "stderr:\n%s", P.err);
	cr_assert_geq(fks_test_json_num(P.out, "\"journal\"", "commits"), 1,
		      "events committed while the run lasted, not batch_us later:\n%s", P.out);
	cr_assert_eq(fks_test_json_num(P.out, "\"path\"", "not_journaled"), 0);
	fks_test_expect_verify_ok(P.journal);
}

/* As fast as possible: the taps refill while a commit syncs, so a commit
 * takes what arrived meanwhile and batches are larger than one event; and
 * still every event is in the journal exactly once. */
Test(group_commit, a_burst_is_committed_in_batches, .timeout = 240)
{
	static const char *const from[] = { "  rate: 100000\n" };
	static const char *const to[] = { "  rate: 0\n" };
	const char *cfg = config_with("burst", from, to, 1);
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "gcburst");
	const char *args[] = { "run", "--events", "200000", "--prefix", prefix, "--json", "-c", cfg, NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "stderr:\n%s", P.err);
	expect_reconciled(P.out, 200000);
	long long events = fks_test_json_num(P.out, "\"journal\"", "events"), commits = fks_test_json_num(P.out, "\"journal\"", "commits");
	cr_assert_gt(events, 200000);
	cr_assert_gt(commits, 0);
	cr_assert_lt(commits, events / 2, "%lld commits for %lld events: batches of more than two", commits, events);
	static struct census c;
	take_census(P.journal, &c);
	cr_assert(c.keys_dense && c.seqs_dense);
	cr_assert_eq(c.total, (uint64_t)events);
	fks_test_expect_verify_ok(P.journal);
}
