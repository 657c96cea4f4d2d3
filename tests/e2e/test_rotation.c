/* End to end: journal rotation and retention (journal.rotate_mb, retain)
 * with the real `fks` binary: the parts of a rotated run hold exactly its
 * events, numbered without gaps or repeats, each part verifies on its own,
 * retention deletes the oldest, `fks tail -f` follows across rotations and
 * `fks journal list` lists the parts in time order. */
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
#include "tests/support/fks_test.h"

#define MAX_PARTS 64

static struct fks_proc P, T; /* large: off the stack */

/* A fresh directory for one test's journals (and its config). */
static void new_area(char *buf, size_t cap)
{
	static int n;
	snprintf(buf, cap, "%s/a%d", fks_test_scratch_dir(), n++);
	cr_assert_eq(mkdir(buf, 0700), 0, "mkdir %s", buf);
}

/* The default config with the journal's rotation keys set, at area/c.yaml.
 * The heartbeat timeout is raised to 10 s: these tests are about what the
 * journal holds, and on a loaded 2-core machine a stage can miss 1 s of
 * CPU (the keeper's protection of a slow commit is test_run's business). */
static const char *extra_sed = "-e 's/^  heartbeat_timeout_ms: 1000$/  heartbeat_timeout_ms: 10000/'";

static void write_config(const char *area, unsigned rotate_mb, unsigned retain, char *path, size_t cap)
{
	snprintf(path, cap, "%s/c.yaml", area);
	char cmd[768];
	snprintf(cmd, sizeof cmd,
		 "'%s' config default | sed -e 's/^  rotate_mb: 0$/  rotate_mb: %u/' -e 's/^  retain: 0$/  retain: %u/' "
		 "%s > '%s'",
		 fks_test_bin(), rotate_mb, retain, extra_sed, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	static struct fks_proc c;
	const char *args[] = { "config", "check", path, NULL };
	cr_assert_eq(fks_test_run(&c, args), 0, "config check: %s%s", c.out, c.err);
}

/* A synthetic run of `events` feed events with journal DIR = area/j. */
static void rotated_run(const char *area, unsigned rotate_mb, unsigned retain, const char *events, char *dir,
			size_t cap)
{
	char cfg[192], prefix[48];
	static int n;
	write_config(area, rotate_mb, retain, cfg, sizeof cfg);
	snprintf(dir, cap, "%s/j", area);
	snprintf(prefix, sizeof prefix, "fkst%drot%d", (int)getpid() % 100000, n++);
	const char *args[] = { "run", "-c", cfg, "--events", events, "--prefix", prefix, "--journal", dir, "--json", NULL };
	cr_assert_eq(fks_test_run(&P, args), 0, "fks run failed:\n%s", P.err);
}

/* Every journal directory in area, the rotated parts and DIR itself. */
struct part {
	char path[512];
	uint32_t part;
	uint64_t first_seq, n;
};

static int by_part(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	return x->part < y->part ? -1 : x->part > y->part;
}

static int parts_of(const char *area, struct part *parts)
{
	DIR *d = opendir(area);
	cr_assert_not_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "j", 1) || (e->d_name[1] && e->d_name[1] != '.'))
			continue;
		cr_assert_lt(n, MAX_PARTS);
		snprintf(parts[n].path, sizeof parts[n].path, "%s/%s", area, e->d_name);
		struct journal_reader *r;
		char err[512];
		cr_assert_eq(journal_open_reader(parts[n].path, &r, err, sizeof err), 0, "%s", err);
		parts[n].part = journal_reader_meta(r)->part;
		parts[n].first_seq = journal_reader_meta(r)->first_seq;
		journal_reader_close(r);
		n++;
	}
	closedir(d);
	qsort(parts, (size_t)n, sizeof *parts, by_part);
	return n;
}

/* Read one part: keys run on from *next_key, every source's sequence goes
 * on from where the previous part left it (next_src, 0: not seen yet). */
static uint64_t read_part(const struct part *p, uint64_t *next_key, uint64_t *next_src)
{
	struct journal_reader *r;
	char err[512];
	cr_assert_eq(journal_open_reader(p->path, &r, err, sizeof err), 0, "%s", err);
	cr_assert_eq(p->first_seq, *next_key, "%s starts at key %llu, the previous part ended at %llu", p->path,
		     (unsigned long long)p->first_seq, (unsigned long long)*next_key - 1);
	struct journal_record rec;
	uint64_t n = 0;
	int rc;
	journal_seek(r, 0);
	while ((rc = journal_read(r, &rec)) == 1) {
		cr_assert_eq(rec.seq, *next_key, "%s: key %llu where %llu was due", p->path,
			     (unsigned long long)rec.seq, (unsigned long long)*next_key);
		++*next_key;
		unsigned src = rec.ev.h.source;
		if (next_src[src])
			cr_assert_eq(rec.ev.h.seq, next_src[src], "%s: source %u's sequence has a gap or repeat",
				     p->path, src);
		next_src[src] = rec.ev.h.seq + 1;
		n++;
	}
	cr_assert_eq(rc, 0, "%s: %s", p->path, journal_reader_error(r));
	struct journal_end end;
	cr_assert_eq(journal_reader_end(r, &end), 0);
	cr_assert(end.ended, "%s was ended by its writer", p->path);
	cr_assert_eq(end.end_seq, *next_key - 1, "%s: end_seq is its last key", p->path);
	journal_reader_close(r);
	return n;
}

static struct part parts[MAX_PARTS];

Test(rotation, parts_hold_every_event_once_and_each_verifies, .timeout = 240)
{
	char area[96], dir[128];
	new_area(area, sizeof area);
	rotated_run(area, 1, 0, "60000", dir, sizeof dir);
	long long events = fks_test_json_num(P.out, "\"journal\":{\"path\"", "events");
	long long nparts = fks_test_json_num(P.out, "\"journal\":{\"path\"", "parts");
	int n = parts_of(area, parts);
	cr_assert_geq(n, 3, "1 MiB parts over ~5 MiB of journal: several parts, got %d", n);
	cr_assert_eq(n, nparts, "the summary counts the parts");
	static uint64_t next_src[256];
	uint64_t next_key = 1, total = 0;
	for (int i = 0; i < n; i++) {
		cr_assert_eq(parts[i].part, (uint32_t)i + 1, "parts 1..%d, none missing", n);
		total += read_part(&parts[i], &next_key, next_src);
		fks_test_expect_verify_ok(parts[i].path);
	}
	cr_assert_eq(total, (uint64_t)events, "the parts hold exactly the run's %lld events", events);
	cr_assert_eq(next_key - 1, total, "keys 1..%llu across the parts", (unsigned long long)total);
	cr_assert_eq(next_src[FKS_STAGE_FEED] - 1, 60000, "every feed event, once");
	cr_assert_str_eq(parts[n - 1].path, dir, "the last part stays at the journal path");
	/* The summary's cpu share beside the busy share, for every stage. */
	static const char *const stages[] = { "\"feed\"", "\"strategy\"", "\"risk\"", "\"gateway\"", "\"journal\":{\"state" };
	for (int i = 0; i < 5; i++) {
		long long cpu = fks_test_json_num(P.out, stages[i], "cpu_ns"), wall = fks_test_json_num(P.out, stages[i], "cpu_wall_ns");
		cr_assert_gt(cpu, 0, "%s: cpu_ns", stages[i]);
		cr_assert_gt(wall, 0, "%s: cpu_wall_ns", stages[i]);
		fks_test_json_num(P.out, stages[i], "busy_ns"); /* kept beside it */
	}
	static struct fks_proc st;
	const char *stats[] = { "journal", "stats", parts[1].path, NULL };
	cr_assert_eq(fks_test_run(&st, stats), 0, "journal stats: %s", st.err);
	char want_part[96];
	snprintf(want_part, sizeof want_part, "part:          2 of its run, from seq %llu,",
		 (unsigned long long)parts[1].first_seq);
	cr_assert_not_null(strstr(st.out, want_part), "stats names the part:\n%s", st.out);
	cr_assert_not_null(strstr(st.out, "rotated (the run goes on"), "%s", st.out);
	char want[256];
	for (int i = 0; i + 1 < n; i++) {
		struct journal_reader *r;
		char err[256];
		cr_assert_eq(journal_open_reader(dir, &r, err, sizeof err), 0);
		journal_part_path(dir, journal_reader_meta(r)->start_time_ns, (uint32_t)i + 1, want, sizeof want);
		journal_reader_close(r);
		cr_assert_str_eq(parts[i].path, want, "rotated parts are named DIR.<run start>.pNNNNNN");
	}
}

Test(rotation, retention_deletes_the_oldest_parts, .timeout = 240)
{
	char area[96], dir[128];
	new_area(area, sizeof area);
	rotated_run(area, 1, 2, "60000", dir, sizeof dir);
	long long nparts = fks_test_json_num(P.out, "\"journal\":{\"path\"", "parts");
	cr_assert_geq(nparts, 4, "enough parts for retention to act");
	cr_assert_eq(fks_test_json_num(P.out, "\"journal\":{\"path\"", "parts_removed"), nparts - 3);
	int n = parts_of(area, parts);
	cr_assert_eq(n, 3, "two rotated parts and the current one are left, %d found", n);
	cr_assert_eq(parts[0].part, nparts - 2, "the newest rotated parts are the ones kept");
	cr_assert_eq(parts[1].part, nparts - 1);
	cr_assert_eq(parts[2].part, nparts);
	cr_assert_str_eq(parts[2].path, dir, "the part being written is never deleted");
	static uint64_t next_src[256];
	uint64_t next_key = parts[0].first_seq;
	for (int i = 0; i < n; i++) {
		read_part(&parts[i], &next_key, next_src);
		fks_test_expect_verify_ok(parts[i].path);
	}
	cr_assert_eq(next_key - 1, (uint64_t)fks_test_json_num(P.out, "\"journal\":{\"path\"", "events"),
		     "the kept parts run to the run's last event");
}

Test(rotation, tail_follows_across_rotations, .timeout = 240)
{
	char area[96], dir[128];
	new_area(area, sizeof area);
	snprintf(dir, sizeof dir, "%s/j", area);
	const char *targs[] = { "tail", "-f", "-j", dir, "--json", NULL };
	fks_test_start(&T, targs);
	fks_test_sleep_ms(100);
	rotated_run(area, 1, 0, "60000", dir, sizeof dir);
	uint64_t total = (uint64_t)fks_test_json_num(P.out, "\"journal\":{\"path\"", "events");
	cr_assert_geq(fks_test_json_num(P.out, "\"journal\":{\"path\"", "parts"), 3);
	bool in_order = false;
	uint64_t n = 0;
	for (int i = 0; i < 1000 && (n = fks_test_count_tail_lines(T.out_path, &in_order)) < total; i++)
		fks_test_sleep_ms(20);
	kill(T.pid, SIGTERM);
	cr_assert_eq(fks_test_finish(&T), 0, "tail: stderr:\n%s", T.err);
	cr_assert_eq(n, total, "the tail saw %llu of %llu events", (unsigned long long)n, (unsigned long long)total);
	cr_assert(in_order, "the tail printed seq 1, 2, 3, ... in order across the parts");
}

Test(rotation, journal_list_shows_every_part_in_time_order, .timeout = 240)
{
	char area[96], dir[128];
	new_area(area, sizeof area);
	rotated_run(area, 1, 0, "60000", dir, sizeof dir);
	long long first_run_parts = fks_test_json_num(P.out, "\"journal\":{\"path\"", "parts");
	cr_assert_geq(first_run_parts, 2);
	fks_test_sleep_ms(1100); /* the second run starts in another second: its own stamp */
	rotated_run(area, 0, 0, "2000", dir, sizeof dir);
	cr_assert_not_null(strstr(P.err, ".p0000"), "the first run's last part moved to its part name:\n%s", P.err);

	static struct fks_proc l;
	const char *args[] = { "journal", "list", dir, "--json", NULL };
	cr_assert_eq(fks_test_run(&l, args), 0, "journal list: %s", l.err);
	int lines = 0;
	long long prev_last = 0, prev_part = 0;
	static char line[4096];
	for (const char *at = l.out; (at = strstr(at, "{\"path\"")); at++, lines++) {
		/* One object at a time, so a key missing from it is not found in the next. */
		snprintf(line, sizeof line, "%.*s", (int)strcspn(at, "\n"), at);
		const char *s = line;
		cr_assert_null(strstr(s, "\"error\""), "line %d is unreadable:\n%s", lines, l.out);
		long long part = fks_test_json_num(s, NULL, "part"), first = fks_test_json_num(s, NULL, "first_seq");
		long long last = fks_test_json_num(s, NULL, "last_seq"), events = fks_test_json_num(s, NULL, "events");
		cr_assert_eq(events, last - first + 1, "line %d: events = last - first + 1:\n%s", lines, l.out);
		cr_assert_not_null(strstr(s, "\"complete\":true"), "every part of two finished runs is complete");
		cr_assert_gt(fks_test_json_num(s, NULL, "bytes"), 0);
		cr_assert_leq(fks_test_json_num(s, NULL, "first_event_ns"), fks_test_json_num(s, NULL, "last_event_ns"));
		if (lines < first_run_parts) {
			cr_assert_eq(part, lines + 1, "the first run's parts in order");
			cr_assert_eq(first, prev_last + 1, "each part starts after the previous one");
			cr_assert_not_null(strstr(s, lines + 1 < first_run_parts ? "\"state\":\"rotated\"" : "\"state\":\"closed\""));
		} else {
			cr_assert_eq(part, 1, "then the second run");
			cr_assert_eq(first, 1);
			cr_assert(!strncmp(s, "{\"path\":\"", 9) && !strncmp(s + 9, dir, strlen(dir)) &&
					  s[9 + strlen(dir)] == '"',
				  "the latest run is at the journal path: %.200s", s);
		}
		prev_last = last;
		prev_part = part;
	}
	(void)prev_part;
	cr_assert_eq(lines, first_run_parts + 1, "every part of both runs is listed:\n%s", l.out);

	const char *text[] = { "journal", "list", dir, NULL };
	cr_assert_eq(fks_test_run(&l, text), 0);
	cr_assert_not_null(strstr(l.out, "first seq"), "a header line:\n%s", l.out);
	cr_assert_not_null(strstr(l.out, "rotated"));

	char missing[192];
	snprintf(missing, sizeof missing, "%s/nothing", area);
	const char *none[] = { "journal", "list", missing, NULL };
	cr_assert_eq(fks_test_run(&l, none), 1);
	cr_assert_not_null(strstr(l.err, "no journal at"), "%s", l.err);
	snprintf(missing, sizeof missing, "%s/no-such-dir/j", area);
	const char *noparent[] = { "journal", "list", missing, NULL };
	cr_assert_eq(fks_test_run(&l, noparent), 1);
	cr_assert_not_null(strstr(l.err, "No such file or directory"), "%s", l.err);
	const char *bad[] = { "journal", "list", dir, missing, NULL };
	cr_assert_eq(fks_test_run(&l, bad), 2, "two directories: usage");
}

/* A rotation waits on the disk like a commit, and the journal's keeper
 * beats for it: with every commit and rotation slowed past the 1 s
 * heartbeat timeout (the journal stage's test hook), a rotating run still
 * ends cleanly with every event in its parts. */
Test(rotation, a_rotation_slower_than_the_heartbeat_timeout_is_not_a_stall, .timeout = 240)
{
	char area[96], dir[128];
	new_area(area, sizeof area);
	const char *saved = extra_sed;
	extra_sed = "-e 's/^  batch_events: 4096$/  batch_events: 65536/'"; /* few, large commits */
	setenv("FKS_TEST_JOURNAL_COMMIT_DELAY_MS", "1300", 1);
	rotated_run(area, 1, 0, "60000", dir, sizeof dir);
	unsetenv("FKS_TEST_JOURNAL_COMMIT_DELAY_MS");
	extra_sed = saved;
	cr_assert_geq(fks_test_json_num(P.out, "\"journal\":{\"path\"", "parts"), 2, "it rotated");
	cr_assert_eq(fks_test_json_num(P.out, NULL, "kill"), 0, "no stage was declared stalled:\n%s", P.err);
	int n = parts_of(area, parts);
	static uint64_t next_src[256];
	uint64_t next_key = 1, total = 0;
	for (int i = 0; i < n; i++)
		total += read_part(&parts[i], &next_key, next_src);
	cr_assert_eq(total, (uint64_t)fks_test_json_num(P.out, "\"journal\":{\"path\"", "events"));
}
