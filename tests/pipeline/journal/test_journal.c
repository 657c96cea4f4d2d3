/*
 * Tests for pipeline/journal.c and the commands in pipeline/journal_cmd.c.
 *
 * Expected contents come from a generator, not from the library: event i is
 * a pure function of i (every byte of it, and its payload), and each
 * source's h.seq counts up as the generator runs, so a test regenerates the
 * sequence from scratch and compares bytes.  Writers that must be another
 * process (a second writer, a live writer under a polling reader, a writer
 * killed mid-run) are fork()ed children that report through an exit status
 * or a pipe; a child never touches Criterion.  Damage (a bumped layout, a
 * wrong-size value) is written with LMDB directly, after the journal is
 * closed, so it goes through none of the library's checks.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/journal/journal.h"

/* ---- helpers ----------------------------------------------------------- */

static char tmp_root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void make_root(void)
{
	snprintf(tmp_root, sizeof tmp_root, "/tmp/fks-test-journal-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_root), "mkdtemp: %s", strerror(errno));
}

/* Children that could outlive a failed assertion (a live writer, a
 * `fks tail -f`): killed after every test, so a failure leaves no orphan. */
static pid_t children[8];
static int n_children;

static pid_t track(pid_t pid)
{
	if (pid > 0 && n_children < (int)(sizeof children / sizeof children[0]))
		children[n_children++] = pid;
	return pid;
}

static void remove_root(void)
{
	for (int i = 0; i < n_children; i++)
		if (kill(children[i], SIGKILL) == 0)
			waitpid(children[i], NULL, 0);
	n_children = 0;
	if (tmp_root[0])
		nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(journal, .init = make_root, .fini = remove_root);

static void path_in_root(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmp_root, name);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static struct journal_meta *test_meta(void)
{
	static struct journal_meta m; /* ~100 KiB */
	memset(&m, 0, sizeof m);
	snprintf(m.fks_version, sizeof m.fks_version, "test-1.2.3");
	snprintf(m.host, sizeof m.host, "testhost");
	m.start_time_ns = 1714564800000000000ll;
	m.n_symbols = 2;
	m.symbol[0] = (struct journal_symbol){ .id = 1, .symbol = "BTCUSDT", .px_scale = 2, .qty_scale = 6 };
	m.symbol[1] = (struct journal_symbol){ .id = 2, .symbol = "ES.H5", .px_scale = 2, .qty_scale = 0 };
	const char *cfg = "instruments:\n  - symbol: BTCUSDT\n  - symbol: ES.H5\n";
	m.config_len = strlen(cfg);
	memcpy(m.config, cfg, m.config_len);
	return &m;
}

static struct journal *create_or_die(const char *dir, enum fks_journal_sync sync, size_t map)
{
	struct journal_options opt = { .sync = sync, .initial_map_size = map };
	struct journal *j;
	char err[512];
	int rc = journal_create(dir, test_meta(), &opt, &j, err, sizeof err);
	cr_assert_eq(rc, JOURNAL_OK, "journal_create(%s): %d %s", dir, rc, err);
	return j;
}

static struct journal_reader *open_or_die(const char *dir)
{
	struct journal_reader *r;
	char err[512];
	int rc = journal_open_reader(dir, &r, err, sizeof err);
	cr_assert_eq(rc, JOURNAL_OK, "journal_open_reader(%s): %d %s", dir, rc, err);
	return r;
}

/* ---- the event generator ----------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

struct gen {
	uint64_t src_seq[FKS_STAGE_COUNT];
};

#define PAYLOAD_MAX_TEST 300

/* Event i (from 1): random bytes, a known type, a source among the four
 * stages, an instrument of the symbol table, the source's next h.seq; every
 * fifth event has a payload.  Returns the event's size. */
static size_t gen_event(struct gen *g, uint64_t i, union fks_event *ev, unsigned char *payload, size_t *plen)
{
	uint64_t r = mix(i);
	unsigned type = 1 + (unsigned)(r % (FKS_EV_TYPE_COUNT - 1));
	size_t esz = type == FKS_EV_SIGNAL || type == FKS_EV_ORDER_NEW || type == FKS_EV_ORDER_REPLACE ||
				     type == FKS_EV_RISK_REJECT || type == FKS_EV_POSITION
			     ? 128
			     : 64;
	for (size_t b = 0; b < sizeof ev->bytes; b += 8) {
		uint64_t x = mix(r + b + 1);
		memcpy(ev->bytes + b, &x, 8);
	}
	memset(ev->bytes + esz, 0, sizeof ev->bytes - esz);
	ev->h.type = (uint8_t)type;
	ev->h.source = (uint8_t)(FKS_STAGE_FEED + mix(r ^ 0x5555) % 4);
	ev->h.instrument = 1 + (uint32_t)(r >> 40) % 2;
	ev->h.seq = ++g->src_seq[ev->h.source];
	*plen = i % 5 == 0 ? 1 + (size_t)(i % PAYLOAD_MAX_TEST) : 0;
	for (size_t k = 0; k < *plen; k++)
		payload[k] = (unsigned char)mix(i * 1000 + k);
	return esz;
}

/* Batch k (from 0) of a writer: sizes vary from 1 to 500. */
static uint64_t batch_size(uint64_t k)
{
	return 1 + mix(k * 31 + 7) % 500;
}

static void append_generated(struct journal *j, struct gen *g, uint64_t i)
{
	union fks_event ev;
	unsigned char payload[PAYLOAD_MAX_TEST];
	size_t plen;
	gen_event(g, i, &ev, payload, &plen);
	int rc = journal_append(j, &ev, plen ? payload : NULL, plen);
	cr_assert_eq(rc, JOURNAL_OK, "append %llu: %s", (unsigned long long)i, journal_error(j));
}

/* Append events 1..n in generator batches, committing each. */
static void write_generated(struct journal *j, uint64_t n)
{
	struct gen g = { 0 };
	uint64_t i = 1;
	for (uint64_t k = 0; i <= n; k++) {
		uint64_t end = i + batch_size(k);
		for (; i < end && i <= n; i++)
			append_generated(j, &g, i);
		cr_assert_eq(journal_commit(j), JOURNAL_OK, "commit: %s", journal_error(j));
	}
	cr_assert_eq(journal_drain(j), JOURNAL_OK, "drain: %s", journal_error(j));
	cr_assert_eq(journal_committed_seq(j), n);
}

/* Read the journal from seq 1 and compare with the generator: seq 1..n in
 * order, byte-identical events and payloads, then nothing more. */
static void expect_generated(const char *dir, uint64_t n)
{
	struct journal_reader *r = open_or_die(dir);
	struct gen g = { 0 };
	struct journal_record rec;
	union fks_event want;
	unsigned char payload[PAYLOAD_MAX_TEST];
	size_t plen;
	journal_seek(r, 1);
	for (uint64_t i = 1; i <= n; i++) {
		int rc = journal_read(r, &rec);
		cr_assert_eq(rc, 1, "read %llu: %d %s", (unsigned long long)i, rc, journal_reader_error(r));
		size_t esz = gen_event(&g, i, &want, payload, &plen);
		cr_assert_eq(rec.seq, i);
		cr_assert_eq(rec.ev_size, esz, "seq %llu: size %zu, want %zu", (unsigned long long)i, rec.ev_size, esz);
		cr_assert(!memcmp(rec.ev.bytes, want.bytes, sizeof want.bytes), "seq %llu: event bytes differ",
			  (unsigned long long)i);
		cr_assert_eq(rec.payload_len, plen, "seq %llu: payload %zu, want %zu", (unsigned long long)i,
			     rec.payload_len, plen);
		if (plen)
			cr_assert(!memcmp(rec.payload, payload, plen), "seq %llu: payload differs", (unsigned long long)i);
	}
	cr_assert_eq(journal_read(r, &rec), 0, "records after seq %llu", (unsigned long long)n);
	uint64_t first, last;
	cr_assert_eq(journal_bounds(r, &first, &last), JOURNAL_OK);
	cr_assert_eq(first, n ? 1 : 0);
	cr_assert_eq(last, n);
	journal_reader_close(r);
}

/* ---- the library ------------------------------------------------------- */

Test(journal, events_round_trip_byte_identical_in_every_sync_mode)
{
	static const enum fks_journal_sync modes[] = { FKS_SYNC_DURABLE, FKS_SYNC_NOMETASYNC, FKS_SYNC_ASYNC };
	for (size_t m = 0; m < 3; m++) {
		char dir[128];
		snprintf(dir, sizeof dir, "%s/rt-%zu", tmp_root, m);
		struct journal *j = create_or_die(dir, modes[m], 0);
		write_generated(j, 5000);
		cr_assert_eq(journal_pending(j), 0);
		cr_assert_eq(journal_close(j), JOURNAL_OK);
		expect_generated(dir, 5000);

		struct journal_reader *r = open_or_die(dir);
		const struct journal_meta *got = journal_reader_meta(r), *want = test_meta();
		cr_assert_eq(got->journal_format, JOURNAL_FORMAT_VERSION);
		cr_assert_eq(got->event_layout, FKS_EVENT_LAYOUT_VERSION);
		cr_assert_str_eq(got->fks_version, "test-1.2.3");
		cr_assert_str_eq(got->host, "testhost");
		cr_assert_eq(got->start_time_ns, 1714564800000000000ll);
		cr_assert_eq(got->sync, modes[m]);
		cr_assert_eq(got->config_len, want->config_len);
		cr_assert_str_eq(got->config, want->config);
		cr_assert_eq(got->n_symbols, 2);
		cr_assert(!memcmp(got->symbol, want->symbol, 2 * sizeof want->symbol[0]));
		cr_assert_str_eq(journal_meta_symbol(got, 2)->symbol, "ES.H5");
		cr_assert_null(journal_meta_symbol(got, 3));
		journal_reader_close(r);
	}
}

Test(journal, sequence_numbers_and_committed_seq)
{
	char dir[128];
	path_in_root(dir, sizeof dir, "seq");
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	struct gen g = { 0 };
	cr_assert_eq(journal_committed_seq(j), 0);
	cr_assert_eq(journal_commit(j), JOURNAL_OK, "an empty commit is a no-op");
	for (uint64_t i = 1; i <= 3; i++)
		append_generated(j, &g, i);
	cr_assert_eq(journal_appended_seq(j), 3);
	cr_assert_eq(journal_pending(j), 3);
	cr_assert_eq(journal_committed_seq(j), 0, "nothing is committed before journal_commit");
	cr_assert_eq(journal_commit(j), JOURNAL_OK);
	cr_assert_eq(journal_committed_seq(j), 3);
	cr_assert_eq(journal_pending(j), 0);

	union fks_event bad = { .h = { .type = 200 } };
	cr_assert_eq(journal_append(j, &bad, NULL, 0), JOURNAL_E_INVALID);
	cr_assert(strstr(journal_error(j), "unknown event type 200"), "%s", journal_error(j));
	union fks_event ok = { .h = { .type = FKS_EV_HEARTBEAT } };
	static unsigned char big[JOURNAL_PAYLOAD_MAX + 1];
	cr_assert_eq(journal_append(j, &ok, big, sizeof big), JOURNAL_E_INVALID);
	cr_assert_eq(journal_appended_seq(j), 3, "a refused append uses no sequence number");
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	expect_generated(dir, 3);
}

Test(journal, a_second_writer_is_refused_by_another_process)
{
	char dir[128];
	path_in_root(dir, sizeof dir, "locked");
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	pid_t parent = getpid();

	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct journal *j2 = NULL;
		char err[512], want_pid[32];
		int rc = journal_create(dir, test_meta(), NULL, &j2, err, sizeof err);
		snprintf(want_pid, sizeof want_pid, "pid %d", (int)parent);
		_exit(rc == JOURNAL_E_LOCKED && !j2 && strstr(err, want_pid) ? 0 : 10 + (rc < 0 ? -rc : rc));
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "second writer: exit %d (0: refused as locked, naming the writer's pid)", WEXITSTATUS(status));

	/* Still usable after the refusal. */
	write_generated(j, 10);
	cr_assert_eq(journal_close(j), JOURNAL_OK);

	/* Once the writer is gone the lock is free, but a journal is one run. */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct journal *j2 = NULL;
		char err[512];
		int rc = journal_create(dir, test_meta(), NULL, &j2, err, sizeof err);
		_exit(rc == JOURNAL_E_EXISTS ? 0 : 10 + (rc < 0 ? -rc : rc));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "create on an existing journal: exit %d",
		  WEXITSTATUS(status));
	expect_generated(dir, 10);
}

Test(journal, map_full_grows_the_map_and_loses_nothing, .timeout = 120)
{
	char dir[128];
	path_in_root(dir, sizeof dir, "tiny");
	struct journal *j = create_or_die(dir, FKS_SYNC_NOMETASYNC, 64 * 1024);
	cr_assert_eq(journal_map_size(j), 64 * 1024);
	write_generated(j, 100000);
	cr_assert_gt(journal_map_grows(j), 0, "100k events cannot fit in 64 KiB without growing");
	cr_assert_gt(journal_map_size(j), 64 * 1024);
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	expect_generated(dir, 100000);
}

Test(journal, a_polling_reader_sees_every_event_of_a_live_writer, .timeout = 120)
{
	enum { N = 60000 };
	char dir[128];
	path_in_root(dir, sizeof dir, "live");
	pid_t pid = track(fork());
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* A tiny map: the writer grows it under the reader's feet. */
		struct journal_options opt = { .sync = FKS_SYNC_NOMETASYNC, .initial_map_size = 64 * 1024 };
		struct journal *j;
		char err[512];
		if (journal_create(dir, test_meta(), &opt, &j, err, sizeof err))
			_exit(2);
		struct gen g = { 0 };
		union fks_event ev;
		unsigned char payload[PAYLOAD_MAX_TEST];
		size_t plen;
		uint64_t i = 1;
		for (uint64_t k = 0; i <= N; k++) {
			uint64_t end = i + batch_size(k);
			for (; i < end && i <= N; i++) {
				gen_event(&g, i, &ev, payload, &plen);
				if (journal_append(j, &ev, plen ? payload : NULL, plen))
					_exit(3);
			}
			if (journal_commit(j))
				_exit(4);
			if (k % 8 == 0)
				usleep(2000);
		}
		_exit(journal_close(j) ? 5 : 0);
	}

	struct journal_reader *r = NULL;
	char err[512];
	int64_t deadline = now_ns() + 30 * 1000000000ll;
	while (journal_open_reader(dir, &r, err, sizeof err)) {
		cr_assert_lt(now_ns(), deadline, "the writer never created %s: %s", dir, err);
		sleep_ms(1);
	}
	struct gen g = { 0 };
	struct journal_record rec;
	union fks_event want;
	unsigned char payload[PAYLOAD_MAX_TEST];
	size_t plen;
	uint64_t next = 1, polls = 0;
	journal_seek(r, 1);
	deadline = now_ns() + 90 * 1000000000ll;
	while (next <= N) {
		int rc = journal_read(r, &rec);
		cr_assert_geq(rc, 0, "read: %s", journal_reader_error(r));
		if (rc == 0) {
			polls++;
			cr_assert_lt(now_ns(), deadline, "stuck at seq %llu", (unsigned long long)next);
			sleep_ms(1);
			continue;
		}
		cr_assert_eq(rec.seq, next);
		gen_event(&g, next, &want, payload, &plen);
		cr_assert(!memcmp(rec.ev.bytes, want.bytes, sizeof want.bytes), "seq %llu differs", (unsigned long long)next);
		cr_assert_eq(rec.payload_len, plen);
		next++;
	}
	cr_assert_gt(polls, 0, "the reader never caught up with the writer: not a live test");
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit %d", WEXITSTATUS(status));
	cr_assert_eq(journal_read(r, &rec), 0);
	journal_reader_close(r);
}

/* ---- bad input --------------------------------------------------------- */

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void expect_open_error(const char *dir, int status, const char *needle)
{
	struct journal_reader *r = (struct journal_reader *)1;
	char err[512];
	int rc = journal_open_reader(dir, &r, err, sizeof err);
	cr_assert_eq(rc, status, "open %s: %d (%s), want %d", dir, rc, err, status);
	cr_assert_null(r);
	cr_assert(strstr(err, needle), "expected \"%s\" in: %s", needle, err);
}

Test(journal, a_directory_that_is_not_a_journal)
{
	char dir[128], file[160];
	path_in_root(dir, sizeof dir, "nothing-here");
	expect_open_error(dir, JOURNAL_E_NOENT, "nothing-here");

	path_in_root(dir, sizeof dir, "empty");
	cr_assert_eq(mkdir(dir, 0700), 0);
	expect_open_error(dir, JOURNAL_E_NOT_JOURNAL, "no data.mdb");
	cr_assert_eq(count_entries(dir), 0, "a reader must not leave files in a directory that is no journal");

	path_in_root(dir, sizeof dir, "docs");
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(file, sizeof file, "%s/notes.txt", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs("not a journal\n", f);
	fclose(f);
	expect_open_error(dir, JOURNAL_E_NOT_JOURNAL, "not an FKS journal");
	struct journal *j = NULL;
	char err[512];
	cr_assert_eq(journal_create(dir, test_meta(), NULL, &j, err, sizeof err), JOURNAL_E_NOT_JOURNAL, "%s", err);
	cr_assert(strstr(err, "notes.txt"), "%s", err);
	cr_assert_null(j);
	cr_assert_eq(count_entries(dir), 1, "a refused create must leave the directory as it was");

	/* data.mdb that is not LMDB. */
	path_in_root(dir, sizeof dir, "junk");
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(file, sizeof file, "%s/data.mdb", dir);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 3000; i++)
		fputs("garbage ", f);
	fclose(f);
	expect_open_error(dir, JOURNAL_E_NOT_JOURNAL, "not an FKS journal");

	/* A foreign LMDB environment. */
	path_in_root(dir, sizeof dir, "foreign");
	cr_assert_eq(mkdir(dir, 0700), 0);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	MDB_val k = { 5, "hello" }, v = { 5, "world" };
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	expect_open_error(dir, JOURNAL_E_NOT_JOURNAL, "without FKS journal metadata");
	cr_assert_eq(journal_create(dir, test_meta(), NULL, &j, err, sizeof err), JOURNAL_E_NOT_JOURNAL, "%s", err);
	cr_assert(strstr(err, "foreign"), "%s", err);
}

/* Open a closed journal with LMDB itself, for damage the library would refuse to write. */
struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi events, meta;
};

static void raw_open(struct raw *w, const char *dir)
{
	cr_assert_eq(mdb_env_create(&w->env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(w->env, 2), 0);
	cr_assert_eq(mdb_env_open(w->env, dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(w->env, NULL, 0, &w->txn), 0);
	cr_assert_eq(mdb_dbi_open(w->txn, "events", MDB_INTEGERKEY, &w->events), 0);
	cr_assert_eq(mdb_dbi_open(w->txn, "meta", 0, &w->meta), 0);
}

static void raw_put_meta(struct raw *w, const char *key, const char *value)
{
	MDB_val k = { strlen(key), (void *)key }, v = { strlen(value), (void *)value };
	cr_assert_eq(mdb_put(w->txn, w->meta, &k, &v, 0), 0);
}

static void raw_put_event(struct raw *w, uint64_t seq, const void *value, size_t len)
{
	MDB_val k = { sizeof seq, &seq }, v = { len, (void *)value };
	cr_assert_eq(mdb_put(w->txn, w->events, &k, &v, MDB_APPEND), 0);
}

static void raw_close(struct raw *w)
{
	cr_assert_eq(mdb_txn_commit(w->txn), 0);
	mdb_env_close(w->env);
}

static void small_journal(const char *dir, uint64_t n)
{
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	write_generated(j, n);
	cr_assert_eq(journal_close(j), JOURNAL_OK);
}

Test(journal, a_journal_from_a_newer_layout_is_refused)
{
	char dir[128];
	struct raw w;
	path_in_root(dir, sizeof dir, "newer-layout");
	small_journal(dir, 5);
	raw_open(&w, dir);
	raw_put_meta(&w, "event_layout", "2");
	raw_close(&w);
	expect_open_error(dir, JOURNAL_E_VERSION,
			  "event_layout 2, which is newer than this build's 1: read it with the fks that wrote it (test-1.2.3)");

	path_in_root(dir, sizeof dir, "newer-format");
	small_journal(dir, 5);
	raw_open(&w, dir);
	raw_put_meta(&w, "journal_format", "7");
	raw_close(&w);
	expect_open_error(dir, JOURNAL_E_VERSION, "journal_format 7, which is newer");

	path_in_root(dir, sizeof dir, "no-host");
	small_journal(dir, 5);
	raw_open(&w, dir);
	MDB_val k = { 4, "host" };
	cr_assert_eq(mdb_del(w.txn, w.meta, &k, NULL), 0);
	raw_close(&w);
	expect_open_error(dir, JOURNAL_E_META, "metadata has no 'host'");

	path_in_root(dir, sizeof dir, "bad-symbols");
	small_journal(dir, 5);
	raw_open(&w, dir);
	raw_put_meta(&w, "symbols", "abc");
	raw_close(&w);
	expect_open_error(dir, JOURNAL_E_META, "'symbols'");
}

Test(journal, a_corrupted_value_is_a_specific_error_and_the_reader_goes_on)
{
	char dir[128];
	struct raw w;
	path_in_root(dir, sizeof dir, "corrupt");
	small_journal(dir, 10);
	raw_open(&w, dir);
	unsigned char value[200] = { 0 };
	value[0] = FKS_EV_QUOTE;                 /* a 64-byte type, stored in 72 bytes */
	raw_put_event(&w, 11, value, 72);
	value[0] = 200;                          /* no such type */
	raw_put_event(&w, 12, value, 64);
	value[0] = FKS_EV_SIGNAL;                /* a 128-byte type cut to 64 */
	raw_put_event(&w, 13, value, 64);
	value[0] = FKS_EV_HEARTBEAT;             /* fine */
	raw_put_event(&w, 14, value, 64);
	raw_close(&w);

	struct journal_reader *r = open_or_die(dir);
	struct journal_record rec;
	journal_seek(r, 1);
	for (uint64_t i = 1; i <= 10; i++)
		cr_assert_eq(journal_read(r, &rec), 1);
	cr_assert_eq(journal_read(r, &rec), JOURNAL_E_CORRUPT);
	cr_assert_eq(rec.seq, 11);
	cr_assert(strstr(journal_reader_error(r), "seq 11: value of 72 bytes does not fit a quote event"), "%s",
		  journal_reader_error(r));
	cr_assert_eq(journal_read(r, &rec), JOURNAL_E_CORRUPT);
	cr_assert(strstr(journal_reader_error(r), "seq 12: unknown event type 200"), "%s", journal_reader_error(r));
	cr_assert_eq(journal_read(r, &rec), JOURNAL_E_CORRUPT);
	cr_assert(strstr(journal_reader_error(r), "seq 13: value of 64 bytes is too short for a signal event"), "%s",
		  journal_reader_error(r));
	cr_assert_eq(journal_read(r, &rec), 1);
	cr_assert_eq(rec.seq, 14);
	cr_assert_eq(rec.ev.h.type, FKS_EV_HEARTBEAT);
	cr_assert_eq(journal_read(r, &rec), 0);
	journal_reader_close(r);
}

Test(journal, decode_checks_the_payload_framing)
{
	unsigned char v[64 + 8 + 5] = { FKS_EV_TRADE };
	struct journal_record rec;
	char why[200];
	struct journal_payload_hdr ph = { .len = 5, .magic = JOURNAL_PAYLOAD_MAGIC };
	memcpy(v + 64, &ph, sizeof ph);
	memcpy(v + 72, "hello", 5);
	cr_assert_eq(journal_decode(v, sizeof v, &rec, why, sizeof why), JOURNAL_OK, "%s", why);
	cr_assert_eq(rec.payload_len, 5);
	cr_assert(!memcmp(rec.payload, "hello", 5));
	cr_assert_eq(journal_decode(v, 64, &rec, why, sizeof why), JOURNAL_OK);
	cr_assert_eq(rec.payload_len, 0);
	cr_assert_null(rec.payload);

	ph.magic ^= 1;
	memcpy(v + 64, &ph, sizeof ph);
	cr_assert_eq(journal_decode(v, sizeof v, &rec, why, sizeof why), JOURNAL_E_CORRUPT);
	cr_assert(strstr(why, "no payload header"), "%s", why);
	ph.magic ^= 1;
	ph.len = 6;
	memcpy(v + 64, &ph, sizeof ph);
	cr_assert_eq(journal_decode(v, sizeof v, &rec, why, sizeof why), JOURNAL_E_CORRUPT);
	cr_assert(strstr(why, "says 6 bytes, the value holds 5"), "%s", why);
	cr_assert_eq(journal_decode(v, 40, &rec, why, sizeof why), JOURNAL_E_CORRUPT);
	cr_assert_eq(journal_decode(v, 66, &rec, why, sizeof why), JOURNAL_E_CORRUPT);
}

/* ---- crashes ----------------------------------------------------------- */

/* A child appends generator batches and, after each commit, writes the
 * committed seq to the pipe; it is SIGKILLed mid-run.  The journal must be
 * valid, dense from 1, end at a batch boundary, and hold every seq the child
 * reported. */
static void crash_mid_run(enum fks_journal_sync sync, const char *name)
{
	char dir[128];
	path_in_root(dir, sizeof dir, name);
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = track(fork());
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		struct journal_options opt = { .sync = sync, .initial_map_size = 256 * 1024 };
		struct journal *j;
		char err[512];
		if (journal_create(dir, test_meta(), &opt, &j, err, sizeof err))
			_exit(2);
		struct gen g = { 0 };
		union fks_event ev;
		unsigned char payload[PAYLOAD_MAX_TEST];
		size_t plen;
		uint64_t i = 1, reported = 0;
		for (uint64_t k = 0;; k++) {
			uint64_t end = i + batch_size(k);
			for (; i < end; i++) {
				gen_event(&g, i, &ev, payload, &plen);
				if (journal_append(j, &ev, plen ? payload : NULL, plen))
					_exit(3);
			}
			if (journal_commit(j))
				_exit(4);
			uint64_t c = journal_committed_seq(j);
			if (c != reported && write(fds[1], &c, sizeof c) != sizeof c)
				_exit(5);
			reported = c;
			/* Paced like a real producer: unpaced, async batches
			 * would grow to the 64 MiB back-pressure mark. */
			usleep(200);
		}
	}
	close(fds[1]);
	uint64_t max_reported = 0, c;
	int reports = 0;
	while (reports < 40 && read(fds[0], &c, sizeof c) == sizeof c) {
		max_reported = c;
		reports++;
	}
	cr_assert_eq(reports, 40, "the writer died before reporting 40 commits");
	kill(pid, SIGKILL);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer was meant to be killed");
	while (read(fds[0], &c, sizeof c) == sizeof c)
		max_reported = c;
	close(fds[0]);

	struct journal_reader *r = open_or_die(dir);
	uint64_t first, last;
	cr_assert_eq(journal_bounds(r, &first, &last), JOURNAL_OK);
	journal_reader_close(r);
	cr_assert_eq(first, 1);
	cr_assert_geq(last, max_reported, "%s: committed seq %llu reported, the journal ends at %llu", name,
		      (unsigned long long)max_reported, (unsigned long long)last);
	uint64_t boundary = 0;
	for (uint64_t k = 0; boundary < last; k++)
		boundary += batch_size(k);
	cr_assert_eq(boundary, last, "%s: the journal ends at %llu, inside a batch", name, (unsigned long long)last);
	expect_generated(dir, last);
}

Test(journal, sigkill_mid_run_durable, .timeout = 60) { crash_mid_run(FKS_SYNC_DURABLE, "crash-durable"); }
Test(journal, sigkill_mid_run_nometasync, .timeout = 60) { crash_mid_run(FKS_SYNC_NOMETASYNC, "crash-nometasync"); }
Test(journal, sigkill_mid_run_async, .timeout = 60) { crash_mid_run(FKS_SYNC_ASYNC, "crash-async"); }

/* ---- the commands ------------------------------------------------------ */

struct cmd_result {
	int status;              /* exit status, or 128 + signal */
	char *out;
	size_t out_len;
	char err[16384];
};

static const char *fks_bin(void)
{
	const char *b = getenv("FKS_BIN");
	cr_assert_not_null(b, "FKS_BIN must name the fks executable (meson sets it)");
	return b;
}

static void exec_fks(const char *const *args)
{
	const char *argv[32] = { fks_bin() };
	for (int i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	size_t got = fread(buf, 1, (size_t)n, f);
	buf[got] = 0;
	fclose(f);
	unlink(path);
	if (len)
		*len = got;
	return buf;
}

static void run_fks(struct cmd_result *res, const char *const *args)
{
	char out_path[160], err_path[160];
	path_in_root(out_path, sizeof out_path, "cmd.out");
	path_in_root(err_path, sizeof err_path, "cmd.err");
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		exec_fks(args);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	res->out = slurp(out_path, &res->out_len);
	char *err = slurp(err_path, NULL);
	snprintf(res->err, sizeof res->err, "%s", err);
	free(err);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Fields in the CSV record at *p (RFC 4180 quoting); *p moves past it. */
static size_t csv_fields(const char **p)
{
	const char *s = *p;
	size_t n = 1;
	bool quoted = false;
	for (; *s && (quoted || *s != '\n'); s++) {
		if (*s == '"')
			quoted = !quoted; /* "" inside quotes toggles twice */
		else if (*s == ',' && !quoted)
			n++;
	}
	cr_assert_eq(*s, '\n', "unterminated CSV record");
	*p = s + 1;
	return n;
}

/* The generator's count of events of one type among 1..n. */
static uint64_t generated_of_type(uint64_t n, unsigned type)
{
	struct gen g = { 0 };
	union fks_event ev;
	unsigned char payload[PAYLOAD_MAX_TEST];
	size_t plen;
	uint64_t count = 0;
	for (uint64_t i = 1; i <= n; i++) {
		gen_event(&g, i, &ev, payload, &plen);
		count += ev.h.type == type;
	}
	return count;
}

Test(journal, verify_passes_a_good_journal_and_names_a_gap, .timeout = 60)
{
	char dir[128];
	struct cmd_result res;
	path_in_root(dir, sizeof dir, "good");
	small_journal(dir, 3000);
	run_fks(&res, (const char *[]){ "journal", "verify", dir, NULL });
	cr_assert_eq(res.status, 0, "verify: %d\n%s%s", res.status, res.out, res.err);
	cr_assert(!strncmp(res.out, "ok: ", 4), "%s", res.out);
	cr_assert(strstr(res.out, "3000 events, keys 1..3000"), "%s", res.out);
	free(res.out);

	/* feed seq 1, 2, 4: a gap at key 3. */
	path_in_root(dir, sizeof dir, "gap");
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	static const uint64_t seqs[] = { 1, 2, 4, 5 };
	for (int i = 0; i < 4; i++) {
		union fks_event ev = { .quote = { .h = { .type = FKS_EV_QUOTE, .source = FKS_STAGE_FEED,
							 .instrument = 1, .seq = seqs[i] } } };
		cr_assert_eq(journal_append(j, &ev, NULL, 0), JOURNAL_OK);
	}
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	run_fks(&res, (const char *[]){ "journal", "verify", dir, NULL });
	cr_assert_eq(res.status, 1, "verify of a gap: %d\n%s%s", res.status, res.out, res.err);
	cr_assert(strstr(res.out, "key 3: feed seq 4 where 3 was expected: a gap of 1"), "%s%s", res.out, res.err);
	free(res.out);

	/* A damaged value: verify names its key. */
	path_in_root(dir, sizeof dir, "damaged");
	small_journal(dir, 20);
	struct raw w;
	raw_open(&w, dir);
	unsigned char value[100] = { FKS_EV_FILL };
	raw_put_event(&w, 21, value, 100);
	raw_close(&w);
	run_fks(&res, (const char *[]){ "journal", "verify", dir, NULL });
	cr_assert_eq(res.status, 1, "verify of a damaged value: %d\n%s%s", res.status, res.out, res.err);
	cr_assert(strstr(res.out, "seq 21: value of 100 bytes does not fit a fill event"), "%s%s", res.out, res.err);
	free(res.out);

	/* Not a journal at all. */
	path_in_root(dir, sizeof dir, "none");
	run_fks(&res, (const char *[]){ "journal", "verify", dir, NULL });
	cr_assert_eq(res.status, 1);
	cr_assert(strstr(res.out, "FAIL"), "%s", res.out);
	free(res.out);
	run_fks(&res, (const char *[]){ "journal", "verify", NULL });
	cr_assert_eq(res.status, 2, "no directory is a usage error");
	free(res.out);
}

Test(journal, tail_last_json_and_exact_text, .timeout = 60)
{
	char dir[128];
	struct cmd_result res;
	path_in_root(dir, sizeof dir, "tail");
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	union fks_event ev = { .instrument_def = { .h = { .type = FKS_EV_INSTRUMENT_DEF, .source = FKS_STAGE_FEED,
						      .instrument = 1, .seq = 1 },
						.symbol = "BTCUSDT", .px_scale = 2, .qty_scale = 6 } };
	cr_assert_eq(journal_append(j, &ev, NULL, 0), JOURNAL_OK);
	ev = (union fks_event){ .quote = { .h = { .type = FKS_EV_QUOTE, .source = FKS_STAGE_FEED, .instrument = 1,
						  .seq = 2, .event_time_ns = 1714564800123456789ll, .recv_time_ns = 42 },
					   .bid_px = 2706, .bid_qty = 1500000, .ask_px = 2707, .ask_qty = 2000000 } };
	cr_assert_eq(journal_append(j, &ev, NULL, 0), JOURNAL_OK);
	ev = (union fks_event){ .risk_reject = { .h = { .type = FKS_EV_RISK_REJECT, .source = FKS_STAGE_RISK,
							.instrument = 1, .seq = 1, .event_time_ns = 5 },
						 .order_id = 7, .reason = FKS_RISK_MAX_QTY, .limit = 5000000,
						 .value = 6000000 } };
	cr_assert_eq(journal_append(j, &ev, NULL, 0), JOURNAL_OK);
	ev = (union fks_event){ .fill = { .h = { .type = FKS_EV_FILL, .source = FKS_STAGE_GATEWAY, .instrument = 2,
						 .seq = 1, .event_time_ns = -1 },
					  .order_id = 9, .px = -150, .qty = 3, .leaves_qty = 0 } };
	cr_assert_eq(journal_append(j, &ev, "xy", 2), JOURNAL_OK);
	cr_assert_eq(journal_close(j), JOURNAL_OK);

	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--from", "2", NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	const char *want =
		"2 2024-05-01T12:00:00.123456789Z quote feed#2 BTCUSDT bid_px=27.06 bid_qty=1.500000 ask_px=27.07 "
		"ask_qty=2.000000 recv_ns=42\n"
		"3 1970-01-01T00:00:00.000000005Z risk_reject risk#1 BTCUSDT order_id=7 signal_id=0 reason=max_qty "
		"limit=5.000000 value=6.000000 recv_ns=0\n"
		"4 1969-12-31T23:59:59.999999999Z fill gateway#1 ES.H5 order_id=9 px=-1.50 qty=3 leaves_qty=0 "
		"recv_ns=0 payload=2B\n";
	cr_assert_str_eq(res.out, want);
	free(res.out);

	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--json", "--last", "3", NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	cr_assert_eq(count_lines(res.out), 3, "%s", res.out);
	cr_assert(!strncmp(res.out, "{\"seq\":2,\"type\":\"quote\",\"source\":\"feed\",\"src_seq\":2,", 52), "%s",
		  res.out);
	cr_assert(strstr(res.out, "\"symbol\":\"BTCUSDT\",\"event_time\":\"2024-05-01T12:00:00.123456789Z\","
				  "\"event_time_ns\":1714564800123456789,\"recv_time_ns\":42,\"bid_px\":27.06,"
				  "\"bid_qty\":1.500000,\"ask_px\":27.07,\"ask_qty\":2.000000}\n"),
		  "%s", res.out);
	cr_assert(strstr(res.out, "\"reason\":\"max_qty\",\"limit\":5.000000"), "%s", res.out);
	cr_assert(strstr(res.out, "\"payload_len\":2,\"payload_hex\":\"7879\"}"), "%s", res.out);
	free(res.out);

	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--last", "1", "--type", "quote", NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	cr_assert_eq(count_lines(res.out), 1);
	cr_assert(!strncmp(res.out, "2 ", 2), "--last counts matching events: %s", res.out);
	free(res.out);

	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--from", "1", "--symbol", "ES.H5", NULL });
	cr_assert_eq(count_lines(res.out), 1);
	cr_assert(!strncmp(res.out, "4 ", 2), "%s", res.out);
	free(res.out);
	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--from", "1", "--stage", "risk", NULL });
	cr_assert_eq(count_lines(res.out), 1);
	cr_assert(!strncmp(res.out, "3 ", 2), "%s", res.out);
	free(res.out);

	/* Usage errors are 2, a missing journal 1. */
	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--symbol", "NOPE", NULL });
	cr_assert_eq(res.status, 2);
	cr_assert(strstr(res.err, "unknown 'NOPE'") && strstr(res.err, "BTCUSDT"), "%s", res.err);
	free(res.out);
	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--type", "quotes", NULL });
	cr_assert_eq(res.status, 2);
	free(res.out);
	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--from", "1", "--last", "2", NULL });
	cr_assert_eq(res.status, 2);
	free(res.out);
	char missing[160];
	path_in_root(missing, sizeof missing, "missing");
	run_fks(&res, (const char *[]){ "tail", "-j", missing, NULL });
	cr_assert_eq(res.status, 1);
	cr_assert(strstr(res.err, "missing"), "%s", res.err);
	free(res.out);
}

/* Every field of every type, by hand from shm/event.h, in JSON key order. */
static const char *const expected_keys[FKS_EV_TYPE_COUNT] = {
	[FKS_EV_QUOTE] = "bid_px bid_qty ask_px ask_qty",
	[FKS_EV_TRADE] = "px qty trade_id aggressor",
	[FKS_EV_BOOK_DELTA] = "side action px qty update_id",
	[FKS_EV_SIGNAL] = "signal_id side entry_px take_profit_px stop_loss_px confidence strategy cause_seq",
	[FKS_EV_ORDER_NEW] = "order_id signal_id side ord_type tif px qty take_profit_px stop_loss_px strategy",
	[FKS_EV_ORDER_CANCEL] = "order_id orig_signal_id",
	[FKS_EV_ORDER_REPLACE] = "order_id new_order_id new_px new_qty",
	[FKS_EV_RISK_REJECT] = "order_id signal_id reason limit value",
	[FKS_EV_ORDER_ACK] = "order_id venue_order_id leaves_qty",
	[FKS_EV_FILL] = "order_id px qty leaves_qty",
	[FKS_EV_ORDER_REJECT] = "order_id reason",
	[FKS_EV_CANCEL_ACK] = "order_id canceled_qty",
	[FKS_EV_POSITION] = "position avg_px realized_pnl unrealized_pnl fees fills",
	[FKS_EV_CONTROL] = "op reason stage",
	[FKS_EV_HEARTBEAT] = "events_out",
	[FKS_EV_INSTRUMENT_DEF] = "def_symbol px_scale qty_scale venue",
	[FKS_EV_APPLIED] = "applied_source applied_type applied_seq input_pos",
};

/* How many distinct field names the types have between them. */
static size_t distinct_field_names(void)
{
	char seen[2048] = " ";
	size_t n = 0;
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++) {
		char keys[256], word[64];
		snprintf(keys, sizeof keys, "%s", expected_keys[t]);
		for (char *save, *k = strtok_r(keys, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
			snprintf(word, sizeof word, " %s ", k);
			if (!strstr(seen, word)) {
				strncat(seen, word + 1, sizeof seen - strlen(seen) - 1);
				n++;
			}
		}
	}
	return n;
}

Test(journal, every_type_prints_every_field, .timeout = 60)
{
	char dir[128];
	struct cmd_result res;
	path_in_root(dir, sizeof dir, "alltypes");
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++) {
		union fks_event ev = { .h = { .type = (uint8_t)t, .source = FKS_STAGE_FEED, .instrument = 1, .seq = t } };
		cr_assert_eq(journal_append(j, &ev, NULL, 0), JOURNAL_OK);
	}
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	run_fks(&res, (const char *[]){ "tail", "-j", dir, "--from", "1", "--json", NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	char *save, *line = strtok_r(res.out, "\n", &save);
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++, line = strtok_r(NULL, "\n", &save)) {
		cr_assert_not_null(line, "no line for type %u", t);
		/* The type's own keys follow recv_time_ns; collect them in order. */
		const char *p = strstr(line, "\"recv_time_ns\":");
		cr_assert_not_null(p, "%s", line);
		char keys[512] = "";
		while ((p = strstr(p + 1, ",\"")) != NULL) {
			const char *k = p + 2, *q = strchr(k, '"');
			cr_assert(q && q[1] == ':', "%s", line);
			size_t len = strlen(keys);
			snprintf(keys + len, sizeof keys - len, "%s%.*s", len ? " " : "", (int)(q - k), k);
			p = q;
		}
		cr_assert_str_eq(keys, expected_keys[t], "type %s: %s", fks_event_type_name(t), line);
	}
	cr_assert_null(line, "more lines than types");
	free(res.out);
}

Test(journal, tail_exits_cleanly_when_its_reader_goes_away, .timeout = 60)
{
	char dir[128], err_path[160];
	path_in_root(dir, sizeof dir, "pipe");
	path_in_root(err_path, sizeof err_path, "pipe.err");
	small_journal(dir, 20000); /* megabytes of text: far more than a pipe holds */
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = track(fork());
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(e, 2);
		exec_fks((const char *[]){ "tail", "-j", dir, "--from", "1", NULL });
	}
	close(fds[1]);
	char buf[256];
	ssize_t n = read(fds[0], buf, sizeof buf); /* like head -1: one read, then gone */
	cr_assert_gt(n, 0);
	close(fds[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	char *err = slurp(err_path, NULL);
	cr_assert(WIFEXITED(status), "tail died of signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0, "exit %d: %s", WEXITSTATUS(status), err);
	cr_assert_str_eq(err, "", "no error spam on a closed pipe");
	free(err);
}

/* Read lines from fd until `count` have arrived or the deadline passes;
 * returns how many arrived. */
static int read_lines(int fd, int count, int64_t deadline, char *last_line, size_t cap)
{
	static char pending[1 << 16];
	static size_t have;
	int lines = 0;
	while (lines < count) {
		char *nl;
		while (lines < count && (nl = memchr(pending, '\n', have))) {
			size_t len = (size_t)(nl - pending) + 1;
			snprintf(last_line, cap, "%.*s", (int)len, pending);
			memmove(pending, nl + 1, have - len);
			have -= len;
			lines++;
		}
		if (lines == count)
			break;
		int64_t left = deadline - now_ns();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		ssize_t n = read(fd, pending + have, sizeof pending - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	return lines;
}

Test(journal, tail_follow_shows_new_commits_quickly, .timeout = 60)
{
	char dir[128];
	path_in_root(dir, sizeof dir, "follow");
	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	struct gen g = { 0 };
	for (uint64_t i = 1; i <= 100; i++)
		append_generated(j, &g, i);
	cr_assert_eq(journal_commit(j), JOURNAL_OK);

	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = track(fork());
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		exec_fks((const char *[]){ "tail", "-f", "-j", dir, "--from", "1", "--json", NULL });
	}
	close(fds[1]);
	char line[4096];
	cr_assert_eq(read_lines(fds[0], 100, now_ns() + 10000000000ll, line, sizeof line), 100);
	cr_assert(!strncmp(line, "{\"seq\":100,", 11), "%s", line);

	int64_t worst = 0;
	for (uint64_t i = 101; i <= 115; i++) {
		/* Irregular gaps, so commits cannot fall into step with the polls. */
		sleep_ms(5 + (int)(mix(i) % 61));
		append_generated(j, &g, i);
		cr_assert_eq(journal_commit(j), JOURNAL_OK);
		int64_t t0 = now_ns();
		cr_assert_eq(read_lines(fds[0], 1, t0 + 2000000000ll, line, sizeof line), 1, "seq %llu never shown",
			     (unsigned long long)i);
		int64_t dt = now_ns() - t0;
		worst = dt > worst ? dt : worst;
		char want[32];
		snprintf(want, sizeof want, "{\"seq\":%llu,", (unsigned long long)i);
		cr_assert(!strncmp(line, want, strlen(want)), "%s", line);
	}
	cr_log_info("tail -f: worst commit-to-line latency %.1f ms", (double)worst / 1e6);
	cr_assert_lt(worst, 50000000, "a commit took %.1f ms to show (want < 50 ms)", (double)worst / 1e6);

	kill(pid, SIGINT);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tail -f after SIGINT: status %d", status);
	close(fds[0]);
	cr_assert_eq(journal_close(j), JOURNAL_OK);
}

Test(journal, export_csv_and_jsonl_with_ranges_and_types, .timeout = 60)
{
	enum { N = 3000 };
	char dir[128];
	struct cmd_result res;
	path_in_root(dir, sizeof dir, "export");
	small_journal(dir, N);

	run_fks(&res, (const char *[]){ "journal", "export", dir, "--format", "csv", NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	cr_assert_eq(count_lines(res.out), N + 1);
	cr_assert(!strncmp(res.out, "seq,type,source,src_seq,flags,instrument,symbol,event_time,event_time_ns,"
				    "recv_time_ns,",
			   80),
		  "%.200s", res.out);
	/* Every row has as many fields as the header.  The generator's random
	 * instrument_def symbols put commas and quotes into quoted fields. */
	const char *row = res.out;
	size_t header_fields = csv_fields(&row);
	cr_assert_eq(header_fields, 10 + distinct_field_names() + 1, "common columns + every field name + payload_len");
	for (int i = 0; i < N; i++) {
		const char *start = row;
		size_t fields = csv_fields(&row);
		cr_assert_eq(fields, header_fields, "row %d: %.*s", i + 1, (int)(row - start), start);
		cr_assert_eq(strtoull(start, NULL, 10), (unsigned long long)i + 1);
	}
	cr_assert_eq(*row, 0);
	free(res.out);

	run_fks(&res, (const char *[]){ "journal", "export", dir, "--format", "csv", "--type", "fill,quote", NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	uint64_t want = generated_of_type(N, FKS_EV_FILL) + generated_of_type(N, FKS_EV_QUOTE);
	cr_assert_gt(want, 0);
	cr_assert_eq(count_lines(res.out), want + 1);
	free(res.out);

	run_fks(&res, (const char *[]){ "journal", "export", dir, "--format", "jsonl", "--from", "101", "--to", "250",
				       NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	cr_assert_eq(count_lines(res.out), 150);
	cr_assert(!strncmp(res.out, "{\"seq\":101,", 11), "%.80s", res.out);
	cr_assert(strstr(res.out, "\n{\"seq\":250,"), "ends at 250");
	free(res.out);

	run_fks(&res, (const char *[]){ "journal", "export", dir, "--format", "xml", NULL });
	cr_assert_eq(res.status, 2);
	free(res.out);

	run_fks(&res, (const char *[]){ "journal", "stats", dir, NULL });
	cr_assert_eq(res.status, 0, "%s", res.err);
	cr_assert(strstr(res.out, "events:        3000\n"), "%s", res.out);
	cr_assert(strstr(res.out, "first:         seq 1 at "), "%s", res.out);
	cr_assert(strstr(res.out, "last:          seq 3000 at "), "%s", res.out);
	cr_assert(strstr(res.out, "host:          testhost\n"), "%s", res.out);
	char line[64];
	snprintf(line, sizeof line, "  fill             %12llu\n",
		 (unsigned long long)generated_of_type(N, FKS_EV_FILL));
	cr_assert(strstr(res.out, line), "want '%s' in %s", line, res.out);
	free(res.out);
}

/* ---- rotation: what `fks run` does to the journal of the previous run ---- */

static int rotate_in_child(const char *dir, char *moved, size_t cap)
{
	/* In a child: the check must see the lock as another process would. */
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char m[512] = "", err[512];
		int rc = journal_rotate(dir, m, sizeof m, err, sizeof err);
		(void)!write(fds[1], m, strlen(m) + 1);
		_exit(rc < 0 ? -rc : 0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], moved, cap - 1);
	moved[n > 0 ? n : 0] = 0;
	close(fds[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

Test(journal, rotate_moves_a_finished_journal_aside_by_its_start_time, .timeout = 60)
{
	char dir[128], moved[512], want[160];
	path_in_root(dir, sizeof dir, "rot");
	cr_assert_eq(rotate_in_child(dir, moved, sizeof moved), JOURNAL_OK, "nothing there: nothing to do");
	cr_assert_str_empty(moved);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(rotate_in_child(dir, moved, sizeof moved), JOURNAL_OK, "an empty directory stays");
	cr_assert_str_empty(moved);
	rmdir(dir);

	struct journal *j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	write_generated(j, 50);
	cr_assert_eq(rotate_in_child(dir, moved, sizeof moved), JOURNAL_E_LOCKED, "a live writer's journal stays");
	cr_assert_eq(journal_close(j), JOURNAL_OK);

	/* test_meta() starts at 1714564800 s: 2024-05-01T12:00:00Z */
	cr_assert_eq(rotate_in_child(dir, moved, sizeof moved), JOURNAL_OK);
	snprintf(want, sizeof want, "%s.20240501T120000Z", dir);
	cr_assert_str_eq(moved, want);
	struct stat st;
	cr_assert_neq(stat(dir, &st), 0, "the path is free for the next run");
	expect_generated(want, 50);

	/* A second journal with the same start time gets the next free name. */
	j = create_or_die(dir, FKS_SYNC_DURABLE, 0);
	write_generated(j, 5);
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	cr_assert_eq(rotate_in_child(dir, moved, sizeof moved), JOURNAL_OK);
	snprintf(want, sizeof want, "%s.20240501T120000Z-2", dir);
	cr_assert_str_eq(moved, want);
	expect_generated(want, 5);
}

Test(journal, rotate_never_moves_what_is_not_a_journal, .timeout = 60)
{
	char dir[128], file[160], moved[512];
	path_in_root(dir, sizeof dir, "notj");
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(file, sizeof file, "%s/notes.txt", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs("mine\n", f);
	fclose(f);
	cr_assert_eq(rotate_in_child(dir, moved, sizeof moved), JOURNAL_E_NOT_JOURNAL);
	struct stat st;
	cr_assert_eq(stat(file, &st), 0, "left exactly where it was");
	cr_assert_eq(rotate_in_child(file, moved, sizeof moved), JOURNAL_E_NOT_JOURNAL, "a plain file");
	cr_assert_eq(stat(file, &st), 0);
}

/* ---- rotation while writing ----------------------------------------------- */

static void append_n(struct journal *j, uint64_t n)
{
	struct gen g = { 0 };
	for (uint64_t i = 0; i < n; i++)
		append_generated(j, &g, i + 1);
}

static void expect_part(const char *dir, uint32_t part, uint64_t first, uint64_t last, bool ended, bool rotated)
{
	struct journal_reader *r = open_or_die(dir);
	const struct journal_meta *m = journal_reader_meta(r);
	cr_assert_eq(m->part, part, "%s: part %u, want %u", dir, m->part, part);
	cr_assert_eq(m->first_seq, first, "%s: first_seq", dir);
	cr_assert_eq(m->start_time_ns, test_meta()->start_time_ns, "every part keeps the run's start");
	uint64_t lo, hi;
	cr_assert_eq(journal_bounds(r, &lo, &hi), JOURNAL_OK);
	cr_assert_eq(lo, first, "%s: first key %llu", dir, (unsigned long long)lo);
	cr_assert_eq(hi, last, "%s: last key %llu", dir, (unsigned long long)hi);
	struct journal_end end;
	cr_assert_eq(journal_reader_end(r, &end), JOURNAL_OK);
	cr_assert_eq(end.ended, ended, "%s: ended", dir);
	cr_assert_eq(end.rotated, rotated, "%s: rotated", dir);
	if (ended)
		cr_assert_eq(end.end_seq, last);
	journal_reader_close(r);
}

Test(journal, next_part_continues_the_keys_and_retain_deletes_the_oldest)
{
	char dir[128], p1[256], p2[256], p3[256];
	path_in_root(dir, sizeof dir, "rot");
	struct journal_meta *meta = test_meta();
	struct journal_options opt = { .sync = FKS_SYNC_DURABLE, .initial_map_size = 1 << 20 };
	struct journal *j;
	char err[512], moved[300];
	cr_assert_eq(journal_create(dir, meta, &opt, &j, err, sizeof err), JOURNAL_OK, "%s", err);
	append_n(j, 100); /* left pending: journal_next_part commits them */
	cr_assert_eq(journal_next_part(&j, meta, &opt, moved, sizeof moved, err, sizeof err), JOURNAL_OK, "%s", err);
	cr_assert(journal_part_path(dir, meta->start_time_ns, 1, p1, sizeof p1));
	cr_assert_str_eq(moved, p1);
	cr_assert_eq(journal_appended_seq(j), 100, "the sequence goes on in the new part");
	append_n(j, 50);
	cr_assert_eq(journal_commit(j), JOURNAL_OK);
	cr_assert_eq(journal_committed_seq(j), 150);
	cr_assert_eq(journal_next_part(&j, meta, &opt, moved, sizeof moved, err, sizeof err), JOURNAL_OK, "%s", err);
	append_n(j, 7);
	cr_assert_eq(journal_next_part(&j, meta, &opt, moved, sizeof moved, err, sizeof err), JOURNAL_OK, "%s", err);
	append_n(j, 3);
	expect_part(p1, 1, 1, 100, true, true);
	cr_assert(journal_part_path(dir, meta->start_time_ns, 2, p2, sizeof p2));
	cr_assert(journal_part_path(dir, meta->start_time_ns, 3, p3, sizeof p3));
	expect_part(p2, 2, 101, 150, true, true);
	expect_part(p3, 3, 151, 157, true, true);

	/* retain 1 with part 4 being written: parts 1 and 2 go, 3 stays. */
	unsigned removed = 0;
	cr_assert_eq(journal_retain(dir, meta->start_time_ns, 4, 1, &removed, err, sizeof err), JOURNAL_OK, "%s", err);
	cr_assert_eq(removed, 2);
	struct stat st;
	cr_assert_neq(stat(p1, &st), 0, "part 1 deleted");
	cr_assert_neq(stat(p2, &st), 0, "part 2 deleted");
	cr_assert_eq(stat(p3, &st), 0, "the newest rotated part kept");
	cr_assert_eq(journal_retain(dir, meta->start_time_ns, 4, 1, &removed, err, sizeof err), JOURNAL_OK);
	cr_assert_eq(removed, 0, "nothing more to delete");
	cr_assert_eq(journal_retain(dir, meta->start_time_ns, 4, 0, &removed, err, sizeof err), JOURNAL_OK);
	cr_assert_eq(removed, 0, "retain 0 keeps everything");

	cr_assert_eq(journal_close(j), JOURNAL_OK);
	expect_part(dir, 4, 158, 160, true, false);

	/* The next run moves the last part to its own part name. */
	char moved_to[300];
	cr_assert_eq(journal_rotate(dir, moved_to, sizeof moved_to, err, sizeof err), JOURNAL_OK, "%s", err);
	char p4[256];
	cr_assert(journal_part_path(dir, meta->start_time_ns, 4, p4, sizeof p4));
	cr_assert_str_eq(moved_to, p4, "the last part of a rotated run sorts after its rotated parts");
}

Test(journal, retention_keeps_a_part_that_holds_other_files)
{
	char dir[128], p1[256], stray[300];
	path_in_root(dir, sizeof dir, "rot-stray");
	struct journal_meta *meta = test_meta();
	struct journal_options opt = { .initial_map_size = 1 << 20 };
	struct journal *j;
	char err[512], moved[300];
	cr_assert_eq(journal_create(dir, meta, &opt, &j, err, sizeof err), JOURNAL_OK, "%s", err);
	append_n(j, 10);
	cr_assert_eq(journal_next_part(&j, meta, &opt, moved, sizeof moved, err, sizeof err), JOURNAL_OK, "%s", err);
	cr_assert_eq(journal_next_part(&j, meta, &opt, moved, sizeof moved, err, sizeof err), JOURNAL_OK, "%s", err);
	cr_assert(journal_part_path(dir, meta->start_time_ns, 1, p1, sizeof p1));
	snprintf(stray, sizeof stray, "%s/notes.txt", p1);
	FILE *f = fopen(stray, "w");
	cr_assert_not_null(f);
	fclose(f);
	unsigned removed = 9;
	int rc = journal_retain(dir, meta->start_time_ns, 3, 1, &removed, err, sizeof err);
	cr_assert_eq(rc, JOURNAL_E_NOT_JOURNAL, "refused: %d %s", rc, err);
	cr_assert_not_null(strstr(err, "notes.txt"), "the message names the stray file: %s", err);
	cr_assert_eq(removed, 0);
	struct stat st;
	cr_assert_eq(stat(stray, &st), 0, "nothing of it deleted");
	cr_assert_eq(stat(p1, &st), 0);
	cr_assert_eq(journal_close(j), JOURNAL_OK);
}
