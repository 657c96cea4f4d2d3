/* The run segment's liveness: a run is alive only while a process with the
 * supervisor's pid AND its start time exists.  These tests forge run
 * segments (a crashed run's, one whose pid was reused, one from another
 * build) and check what `fks run`, `fks status` and `fks kill` make of them:
 * a dead run is never shown running nor "killed", a stale one is cleaned
 * up, and one that cannot be read is refused and left in place. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/runtime/runseg.h"
#include "shm/segment.h"
#include "tests/support/fks_test.h"

#define OUT_MAX 16384

struct result {
	int code;
	char out[OUT_MAX], err[OUT_MAX];
};

/* Run the fks binary with args (NULL-terminated, no program name). */
static void fks(struct result *r, const char *const *args)
{
	r->code = fks_test_capture(args, r->out, r->err, OUT_MAX);
}

static struct result R; /* large: keep it off the stack */

static void unique_prefix(char *buf, size_t cap, const char *tag)
{
	static int n;
	snprintf(buf, cap, "fkrs%d%s%d", (int)getpid() % 100000, tag, n++);
}

/* The pid of a process that has exited and been reaped: nobody has it. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

static bool segment_exists(const char *name)
{
	struct stat st;
	return seg_stat(name, &st) == RING_OK;
}

/* Remove what a test left under prefix, whatever state it is in. */
static void remove_segments(const char *prefix)
{
	char name[RUNSEG_NAME_MAX];
	for (int r = 0; r < RUN_RING_COUNT; r++) {
		runseg_ring_name(prefix, (enum run_ring)r, name, sizeof name);
		seg_unlink(name);
	}
	runseg_unlink(prefix);
}

Test(runseg, alive_means_the_same_pid_and_start_time)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "alive");
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);
	cr_assert_eq(rs->supervisor_pid, getpid());
	cr_assert(runseg_supervisor_alive(rs), "its creator is running");

	rs->supervisor_start_ticks++;
	cr_assert_not(runseg_supervisor_alive(rs), "a live process with that pid but another start time");
	rs->supervisor_start_ticks--;

	rs->supervisor_pid = gone_pid();
	cr_assert_not(runseg_supervisor_alive(rs), "no process has that pid");

	pid_t zombie = fork();
	cr_assert_geq(zombie, 0);
	if (zombie == 0)
		_exit(0);
	uint64_t ticks;
	char state = 0;
	for (int i = 0; i < 2000 && state != 'Z'; i++) {
		cr_assert_eq(seg_proc_identity(zombie, &ticks, &state), 0);
		if (state != 'Z')
			usleep(1000);
	}
	cr_assert_eq(state, 'Z', "the child has exited, not yet reaped");
	rs->supervisor_pid = zombie;
	rs->supervisor_start_ticks = ticks;
	cr_assert_not(runseg_supervisor_alive(rs), "a zombie is dead, though kill(pid, 0) succeeds");
	waitpid(zombie, NULL, 0);

	runseg_close(rs);
	runseg_unlink(prefix);
}

/* What a SIGKILLed supervisor leaves: a run segment whose pid is gone. */
Test(runseg, status_and_kill_refuse_a_crashed_run)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "crash");
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);
	pid_t dead = gone_pid();
	rs->supervisor_pid = dead;
	atomic_store(&rs->stage[FKS_CFG_GATEWAY].state, STAGE_RUNNING);

	char want[96];
	snprintf(want, sizeof want, "supervisor pid %d gone", (int)dead);
	const char *status[] = { "status", "--prefix", prefix, "--interval", "0.05", NULL };
	fks(&R, status);
	cr_assert_eq(R.code, 1, "stdout:\n%s\nstderr:\n%s", R.out, R.err);
	cr_assert_not_null(strstr(R.err, "is not running"), "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, want), "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, "crashed run"), "stderr:\n%s", R.err);
	cr_assert_null(strstr(R.out, "running"), "no stage shown running:\n%s", R.out);

	const char *kill_args[] = { "kill", "--prefix", prefix, NULL };
	fks(&R, kill_args);
	cr_assert_eq(R.code, 1, "stdout:\n%s\nstderr:\n%s", R.out, R.err);
	cr_assert_not_null(strstr(R.err, "no running pipeline"), "stderr:\n%s", R.err);
	cr_assert_null(strstr(R.out, "kill switch tripped"), "stdout:\n%s", R.out);
	cr_assert_eq(atomic_load(&rs->control.kill), 0, "a dead run's switch is left alone");

	runseg_close(rs);
	remove_segments(prefix);
}

/* The supervisor's pid now belongs to another live process (this test):
 * the run is still dead, so a new run cleans up and starts. */
Test(runseg, a_reused_supervisor_pid_is_stale, .timeout = 120)
{
	char prefix[48], journal[112];
	unique_prefix(prefix, sizeof prefix, "reuse");
	snprintf(journal, sizeof journal, "/tmp/fks-runseg-%d-%s", (int)getpid(), prefix);
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);
	rs->supervisor_start_ticks += 12345; /* same pid, started at another time */

	const char *status[] = { "status", "--prefix", prefix, "--interval", "0.05", NULL };
	fks(&R, status);
	cr_assert_eq(R.code, 1, "stdout:\n%s\nstderr:\n%s", R.out, R.err);
	cr_assert_not_null(strstr(R.err, "is not running"), "stderr:\n%s", R.err);
	runseg_close(rs);

	const char *run[] = { "run", "--events", "1000", "--prefix", prefix, "--journal", journal, NULL };
	fks(&R, run);
	cr_assert_eq(R.code, 0, "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, "removing segments left by a crashed run"), "stderr:\n%s", R.err);
	char name[RUNSEG_NAME_MAX];
	runseg_name(prefix, name, sizeof name);
	cr_assert_not(segment_exists(name), "the run removed its segments at its stop");
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", journal);
	cr_assert_eq(system(cmd), 0);
}

/* A segment whose supervisor really runs (this test, with its own start
 * time): a second run is refused, status reads it, kill trips its switch. */
Test(runseg, a_live_run_is_refused_and_killable, .timeout = 60)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "live");
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);

	const char *run[] = { "run", "--events", "1000", "--prefix", prefix, "--journal", "/nonexistent/j", NULL };
	fks(&R, run);
	cr_assert_eq(R.code, 1, "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, "already running"), "stderr:\n%s", R.err);

	const char *status[] = { "status", "--prefix", prefix, "--interval", "0.05", NULL };
	fks(&R, status);
	cr_assert_eq(R.code, 0, "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.out, "tick-to-trade"), "stdout:\n%s", R.out);

	const char *kill_args[] = { "kill", "--prefix", prefix, "--reason", "test", NULL };
	fks(&R, kill_args);
	cr_assert_eq(R.code, 0, "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.out, "kill switch tripped"), "stdout:\n%s", R.out);
	cr_assert_eq(atomic_load(&rs->control.kill), 1);

	runseg_close(rs);
	remove_segments(prefix);
}

/* fks status shows each stage's cpu share, CPU time over wall time since
 * the stage started (not its self-timed busy share), and the journal's
 * part once it has rotated: a live segment with forged counters. */
Test(runseg, status_shows_the_cpu_share_and_the_journal_part, .timeout = 60)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "cpu");
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);
	struct stage_stats *feed = &rs->stage[FKS_CFG_FEED], *jn = &rs->stage[FKS_CFG_JOURNAL];
	/* busy 35 ms of 1 s counted (3.5%), while the process used 540 ms of CPU
	 * in its 1 s of life: the feed. */
	atomic_store(&feed->busy_ns, 35000000);
	atomic_store(&feed->idle_ns, 965000000);
	atomic_store(&feed->cpu_since_ns, 1000000000);
	atomic_store(&feed->cpu_at_ns, 2000000000);
	atomic_store(&feed->cpu_ns, 540000000);
	cr_assert_float_eq(runseg_cpu_pct(feed), 54.0, 1e-9);
	atomic_store(&jn->journal_part, 4);
	atomic_store(&jn->journal_parts_removed, 1);

	const char *status[] = { "status", "--prefix", prefix, "--interval", "0.05", NULL };
	fks(&R, status);
	cr_assert_eq(R.code, 0, "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.out, " cpu "), "a cpu column:\n%s", R.out);
	const char *line = strstr(R.out, "\nfeed ");
	cr_assert_not_null(line, "stdout:\n%s", R.out);
	char row[256];
	snprintf(row, sizeof row, "%.*s", (int)strcspn(line + 1, "\n"), line + 1);
	cr_assert_not_null(strstr(row, " 54.0%"), "the feed's cpu share is 54.0%%: %s", row);
	cr_assert_not_null(strstr(R.out, "journal: writing part 4 (rotated 3 times; 1 old parts deleted"),
			   "stdout:\n%s", R.out);
	runseg_close(rs);
	remove_segments(prefix);
}

/* A run segment that cannot be read may be a live run's (another build's,
 * another user's): every command refuses it, names it, its owner and the
 * cause, and nothing of the prefix is deleted. */
static void expect_refused_and_kept(const char *prefix, const char *cause)
{
	char name[RUNSEG_NAME_MAX], ring[RUNSEG_NAME_MAX], want[96];
	runseg_name(prefix, name, sizeof name);
	runseg_ring_name(prefix, RUN_RING_MD, ring, sizeof ring);
	/* a ring of the same run, which a clean-up would remove too */
	char ring_path[RUNSEG_NAME_MAX + 2];
	snprintf(ring_path, sizeof ring_path, "/%s", ring);
	int fd = shm_open(ring_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "create %s", ring_path);
	close(fd);

	snprintf(want, sizeof want, "/dev/shm/%s (owner uid %u", name, (unsigned)geteuid());
	const char *run[] = { "run", "--events", "1000", "--prefix", prefix, "--journal", "/nonexistent/j", NULL };
	fks(&R, run);
	cr_assert_eq(R.code, 1, "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, want), "names the segment and its owner; stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, cause), "says why (%s); stderr:\n%s", cause, R.err);
	cr_assert_not_null(strstr(R.err, "left in place"), "stderr:\n%s", R.err);
	cr_assert(segment_exists(name), "the run segment is still there");
	cr_assert(segment_exists(ring), "and so are its rings");

	const char *status[] = { "status", "--prefix", prefix, "--interval", "0.05", NULL };
	fks(&R, status);
	cr_assert_eq(R.code, 1, "stdout:\n%s\nstderr:\n%s", R.out, R.err);
	cr_assert_not_null(strstr(R.err, want), "stderr:\n%s", R.err);
	cr_assert_not_null(strstr(R.err, cause), "stderr:\n%s", R.err);
	const char *kill_args[] = { "kill", "--prefix", prefix, NULL };
	fks(&R, kill_args);
	cr_assert_eq(R.code, 1, "stdout:\n%s\nstderr:\n%s", R.out, R.err);
	cr_assert_not_null(strstr(R.err, cause), "stderr:\n%s", R.err);
	cr_assert(segment_exists(name));
	remove_segments(prefix);
}

Test(runseg, another_layout_version_is_refused_and_kept, .timeout = 60)
{
	char prefix[48];
	unique_prefix(prefix, sizeof prefix, "vers");
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);
	rs->supervisor_pid = gone_pid(); /* even a dead one: its layout cannot be trusted */
	rs->version = 99;
	runseg_close(rs);
	expect_refused_and_kept(prefix, "layout version 99");
}

Test(runseg, a_changed_mode_is_refused_and_kept, .timeout = 60)
{
	char prefix[48], path[RUNSEG_NAME_MAX + 2], name[RUNSEG_NAME_MAX];
	unique_prefix(prefix, sizeof prefix, "mode");
	struct run_segment *rs;
	cr_assert_eq(runseg_create(prefix, &rs), RING_OK);
	rs->supervisor_pid = gone_pid();
	runseg_close(rs);
	runseg_name(prefix, name, sizeof name);
	snprintf(path, sizeof path, "/%s", name);
	int fd = shm_open(path, O_RDWR, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	expect_refused_and_kept(prefix, "mode 0644");
}
