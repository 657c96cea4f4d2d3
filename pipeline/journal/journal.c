/*
 * The event journal on LMDB; the contract, the on-disk layout and the crash
 * guarantees of each sync mode are in journal.h.
 *
 * The writer never puts into LMDB from journal_append.  Events are copied
 * into a batch buffer, and journal_commit writes the whole batch in one
 * short write transaction.  Keeping the batch in our own memory is what
 * makes MDB_MAP_FULL harmless: LMDB aborts the transaction that hit it, so
 * the only way to lose nothing is to write the batch again after growing the
 * map.  It also keeps LMDB's writer lock held for microseconds, not for the
 * caller's whole batching interval.
 */
#include "pipeline/journal/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "shm/fixed.h"
#include "shm/clock.h"

/* Keys are native uint64 in a MDB_INTEGERKEY database, which LMDB accepts
 * only at the size of an unsigned int or a size_t. */
_Static_assert(sizeof(uint64_t) == sizeof(size_t), "MDB_INTEGERKEY keys are size_t");

#define EVENTS_DB "events"
#define META_DB "meta"
#define LOCK_FILE "writer.lock"

#define MSG_MAX 512
#define DEFAULT_BATCH_HINT 4096
#define MAX_MAP_GROWS 48                 /* doublings; the address space ends first */
#define READ_CHUNK 65536                 /* records per read snapshot */
#define ASYNC_HIGH_WATER ((size_t)64 << 20) /* pending bytes before async commit blocks */
#define READER_CHECK_NS 1000000000ll     /* how often the writer clears dead readers */

/* Each record in a batch buffer: this header, the value, padding to 8. */
struct batch_rec {
	uint32_t value_len;
	uint32_t reserved;
};

struct batch {
	unsigned char *buf;
	size_t len, cap;
	uint64_t first_seq;                  /* valid while count > 0 */
	uint64_t count;
};

struct journal {
	MDB_env *env;
	MDB_dbi events, meta_dbi;
	uint32_t part;                       /* this part's number in the run */
	int lock_fd;
	enum fks_journal_sync sync;
	bool failed;                         /* sync modes: a commit failed */

	struct batch fill;                   /* the appending thread's */
	uint64_t appended_seq;
	_Atomic uint64_t committed_seq;
	_Atomic size_t map_size;
	_Atomic unsigned map_grows;
	int64_t last_reader_check_ns;        /* the committing thread's */

	/* Async mode: a committer thread owns `inflight` while `busy`. */
	bool async;
	bool thread_started;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	struct batch inflight;
	bool busy, stop;
	int async_rc;
	char async_err[MSG_MAX];

	char err[MSG_MAX];
	char dir[PATH_MAX];
};

/* ---- damaged files --------------------------------------------------------
 *
 * LMDB trusts its file.  It maps data.mdb and follows page numbers and node
 * offsets with few checks, so a truncated or corrupted file makes it read
 * past the end of the file (SIGBUS), outside the map (SIGSEGV) or fail an
 * assertion (abort).  A reader defends in three layers:
 *
 * 1. Before LMDB opens the file, check_data_file() reads both meta pages
 *    with pread() and checks what LMDB would otherwise trust: the size is a
 *    whole number of pages and holds both meta pages; each is a meta page
 *    (flags, magic, data version, its own page number, one page size); the
 *    last page in use lies inside the file, and each database root lies
 *    between the meta pages and that last page.  LMDB reads no page beyond
 *    a transaction's last page (MDB_PAGE_NOTFOUND), so after this check
 *    every page number it follows is inside the file.
 * 2. While reading, a key or value LMDB hands back must lie inside the
 *    file's pages before this code (or a caller, via rec->payload) touches
 *    it (span_in_file).
 * 3. What is left is a damaged branch or leaf page: node offsets or sizes
 *    that LMDB follows out of its page.  Checking those from outside would
 *    mean re-implementing LMDB's B-tree walk, so instead every reader call
 *    that enters LMDB runs under a fault trap: handlers for SIGSEGV and
 *    SIGBUS, and LMDB's assert callback, siglongjmp() back to the call,
 *    which marks the reader damaged and returns JOURNAL_E_DAMAGED naming
 *    the page it faulted in and the last good key.
 *
 * Why jumping out of LMDB is acceptable here, though not in general: a
 * reader only runs read-only transactions.  While it walks pages LMDB holds
 * no lock and allocates nothing (the reader-table mutex is taken only when a
 * thread first gets its reader slot, and renewing reads only the meta pages
 * that layer 1 checked), and the fault is a read of our own private map, so
 * no shared state is left half-written.  After the jump the reader never
 * uses that transaction or cursor again except to free them:
 * mdb_cursor_close, mdb_txn_abort and mdb_env_close free memory, release
 * the reader slot and unmap, and none of them walks a page.  A fault
 * outside a trap (another thread, other code) is not ours: the handler puts
 * the previous disposition back and returns, so the fault happens again and
 * ends the process as it did before this code was installed.
 *
 * Why not a forked child: tail, export and replay iterate records in their
 * own process, through this API, so a child would have to stream every
 * record back through a pipe, and a one-off checking child would double
 * the cost of every open (and still race a live writer).  The trap costs
 * one sigsetjmp per call and no system call.
 */

/* LMDB 0.9's on-disk meta page, data format version 1 on a 64-bit host: a
 * 16-byte page header (page number 8, pad 2, flags 2, lower/upper 4), then
 * MDB_meta: magic 4, version 4, fixed-map address 8, map size 8, two MDB_db
 * of 48 bytes (free pages, then the main database; the free one's first 4
 * bytes hold the page size), the last page in use 8, the transaction id 8.
 * In MDB_db: flags 2 at 4, depth 2 at 6, root page 8 at 40.  Read off the
 * dump of a journal this LMDB wrote, against mdb_env_info() and
 * mdb_env_stat() of it; were they wrong, check_data_file would refuse
 * every sound journal, and every journal test would fail. */
#define LMDB_PAGE_HDR 16
#define LMDB_P_META 0x08u
#define LMDB_MAGIC 0xBEEFC0DEu
#define LMDB_DATA_VERSION 1u
#define LMDB_META_DBS 24
#define LMDB_DB_SIZE 48
#define LMDB_DB_ROOT 40
#define LMDB_META_LAST_PG 120
#define LMDB_META_TXNID 128
#define LMDB_META_END 136
#define LMDB_META_BYTES (LMDB_PAGE_HDR + LMDB_META_END)
#define LMDB_NO_PAGE UINT64_MAX           /* P_INVALID: an empty database */
#define LMDB_MIN_PSIZE 512u
#define LMDB_MAX_PSIZE 65536u

static int fail(char *err, size_t errlen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static uint64_t get_u64(const unsigned char *p) { uint64_t x; memcpy(&x, p, sizeof x); return x; }
static uint32_t get_u32(const unsigned char *p) { uint32_t x; memcpy(&x, p, sizeof x); return x; }
static uint16_t get_u16(const unsigned char *p) { uint16_t x; memcpy(&x, p, sizeof x); return x; }

/* One meta page (n = 0 or 1).  file_pages 0: not known yet (page 0 gives
 * the page size).  Sets *psize from page 0; page 1 must agree. */
static int check_meta_page(const char *dir, const unsigned char *pg, uint64_t n, uint64_t file_pages,
			   uint32_t *psize, char *err, size_t errlen)
{
	const unsigned char *m = pg + LMDB_PAGE_HDR;
	uint32_t magic = get_u32(m), version = get_u32(m + 4), ps = get_u32(m + LMDB_META_DBS);
	uint64_t last = get_u64(m + LMDB_META_LAST_PG);
	/* No magic in page 0: not LMDB at all, or its first page is gone. */
	if (n == 0 && magic != LMDB_MAGIC)
		return fail(err, errlen, JOURNAL_E_NOT_JOURNAL,
			    "%s: data.mdb page 0 is not an LMDB meta page (magic 0x%08" PRIx32
			    "): not an FKS journal, or one whose meta page 0 is destroyed", dir, magic);
	if (!(get_u16(pg + 10) & LMDB_P_META) || magic != LMDB_MAGIC || get_u64(pg) != n)
		return fail(err, errlen, JOURNAL_E_DAMAGED,
			    "%s: data.mdb is damaged: page %" PRIu64 " is not an LMDB meta page "
			    "(page number %" PRIu64 ", flags 0x%x, magic 0x%08" PRIx32 ")",
			    dir, n, get_u64(pg), get_u16(pg + 10), magic);
	if (version != LMDB_DATA_VERSION)
		return fail(err, errlen, JOURNAL_E_DAMAGED,
			    "%s: data.mdb meta page %" PRIu64 ": LMDB data version %" PRIu32 ", this LMDB reads %u",
			    dir, n, version, LMDB_DATA_VERSION);
	if (ps < LMDB_MIN_PSIZE || ps > LMDB_MAX_PSIZE || (ps & (ps - 1)) || (n == 1 && ps != *psize))
		return fail(err, errlen, JOURNAL_E_DAMAGED,
			    "%s: data.mdb is damaged: meta page %" PRIu64 " gives a page size of %" PRIu32 " bytes",
			    dir, n, ps);
	*psize = ps;
	if (!file_pages)
		return JOURNAL_OK;
	if (last < 1 || last >= file_pages)
		return fail(err, errlen, JOURNAL_E_DAMAGED,
			    "%s: data.mdb is damaged: meta page %" PRIu64 " says page %" PRIu64
			    " is in use, but the file has pages 0..%" PRIu64 " (truncated?)",
			    dir, n, last, file_pages - 1);
	for (int db = 0; db < 2; db++) {
		uint64_t root = get_u64(m + LMDB_META_DBS + db * LMDB_DB_SIZE + LMDB_DB_ROOT);
		if (root != LMDB_NO_PAGE && (root < 2 || root > last))
			return fail(err, errlen, JOURNAL_E_DAMAGED,
				    "%s: data.mdb is damaged: meta page %" PRIu64 " puts the %s database's root at page %" PRIu64
				    ", outside the data pages 2..%" PRIu64,
				    dir, n, db ? "main" : "free-page", root, last);
	}
	return JOURNAL_OK;
}

/* What check_data_file learned, for the reader's bounds. */
struct data_file {
	uint32_t psize;
	uint64_t pages;
	uint64_t main_root;                  /* of the newer meta page, for messages */
	unsigned char meta0[LMDB_META_BYTES]; /* to find LMDB's map (map_base) */
};

/* Layer 1: data.mdb may be handed to LMDB.  An empty file is NOT_JOURNAL
 * (a writer creating it writes both meta pages at once); any other problem
 * is JOURNAL_E_DAMAGED naming the page. */
static int check_data_file(const char *dir, const char *path, struct data_file *df, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", path, strerror(e));
	}
	unsigned char m1[LMDB_META_BYTES];
	uint64_t size = (uint64_t)st.st_size;
	int rc = JOURNAL_OK;
	if (size == 0)
		rc = fail(err, errlen, JOURNAL_E_NOT_JOURNAL, "%s: data.mdb is empty (no meta page 0): not an FKS journal",
			  dir);
	else if (size < LMDB_META_BYTES || pread(fd, df->meta0, sizeof df->meta0, 0) != (ssize_t)sizeof df->meta0)
		rc = fail(err, errlen, JOURNAL_E_DAMAGED, "%s: data.mdb is %" PRIu64 " bytes: truncated inside meta page 0",
			  dir, size);
	else if (!(rc = check_meta_page(dir, df->meta0, 0, 0, &df->psize, err, errlen))) {
		if (size % df->psize || size < 2u * df->psize)
			rc = fail(err, errlen, JOURNAL_E_DAMAGED,
				  "%s: data.mdb is %" PRIu64 " bytes, not whole %" PRIu32 "-byte pages holding both meta "
				  "pages: truncated inside page %" PRIu64,
				  dir, size, df->psize, size / df->psize);
		else if (pread(fd, m1, sizeof m1, df->psize) != (ssize_t)sizeof m1)
			rc = fail(err, errlen, JOURNAL_E_SYS, "%s: reading meta page 1: %s", path, strerror(errno));
		else {
			df->pages = size / df->psize;
			if (!(rc = check_meta_page(dir, df->meta0, 0, df->pages, &df->psize, err, errlen)))
				rc = check_meta_page(dir, m1, 1, df->pages, &df->psize, err, errlen);
			const unsigned char *newer = get_u64(m1 + LMDB_PAGE_HDR + LMDB_META_TXNID) >
							     get_u64(df->meta0 + LMDB_PAGE_HDR + LMDB_META_TXNID)
						     ? m1 : df->meta0;
			df->main_root = get_u64(newer + LMDB_PAGE_HDR + LMDB_META_DBS + LMDB_DB_SIZE + LMDB_DB_ROOT);
		}
	}
	close(fd);
	return rc;
}

/* Layer 3: the trap.  Per thread: only the thread inside a reader call
 * jumps; a fault in any other thread goes to the previous disposition. */
struct trap_report {
	int sig;                             /* SIGSEGV, SIGBUS, or SIGABRT for an LMDB assertion */
	const void *addr;                    /* the faulting address, if a fault */
	char assertion[160];
};
static _Thread_local sigjmp_buf *trap_jump;
static _Thread_local struct trap_report trap_seen;
static struct sigaction prev_segv, prev_bus;
static pthread_once_t trap_once = PTHREAD_ONCE_INIT;

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	sigjmp_buf *jb = trap_jump;
	if (jb) {
		trap_jump = NULL;
		trap_seen.sig = sig;
		trap_seen.addr = si->si_addr;
		siglongjmp(*jb, 1);
	}
	sigaction(sig, sig == SIGBUS ? &prev_bus : &prev_segv, NULL);
}

/* LMDB calls this before printing the failed assertion and aborting. */
static void on_lmdb_assert(MDB_env *env, const char *msg)
{
	(void)env;
	sigjmp_buf *jb = trap_jump;
	if (!jb)
		return;
	trap_jump = NULL;
	trap_seen.sig = SIGABRT;
	trap_seen.addr = NULL;
	snprintf(trap_seen.assertion, sizeof trap_seen.assertion, "%s", msg);
	siglongjmp(*jb, 1);
}

static void install_fault_handlers(void)
{
	/* SA_NODEFER: the jump out of the handler then leaves no signal
	 * blocked, so sigsetjmp need not save the mask (no system call). */
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &prev_segv);
	sigaction(SIGBUS, &sa, &prev_bus);
}

/* fn(ctx) under the trap: its status, or JOURNAL_E_DAMAGED with *rep set
 * when it faulted.  Not nested: fn must not call run_trapped. */
static int run_trapped(int (*fn)(void *), void *ctx, struct trap_report *rep)
{
	pthread_once(&trap_once, install_fault_handlers);
	sigjmp_buf jb;
	memset(rep, 0, sizeof *rep);
	if (sigsetjmp(jb, 0)) {
		*rep = trap_seen;
		return JOURNAL_E_DAMAGED;
	}
	trap_jump = &jb;
	int rc = fn(ctx);
	trap_jump = NULL;
	return rc;
}

struct journal_reader {
	MDB_env *env;
	MDB_dbi events, meta_dbi;
	MDB_txn *txn;                        /* one read handle, renewed and reset */
	MDB_cursor *cur;
	bool live;                           /* txn renewed, cursor positioned */
	uint32_t in_snapshot;
	uint64_t next_seq;
	bool damaged;                        /* JOURNAL_E_DAMAGED from now on */
	MDB_txn *open_txn;                   /* the opening transaction, while open */
	const unsigned char *map;            /* LMDB's map of data.mdb; NULL: not found */
	uint64_t file_bytes;                 /* data.mdb's size at the last renew */
	struct data_file file;
	char err[MSG_MAX];
	char dir[PATH_MAX];
	char data_path[PATH_MAX + 32];
	struct journal_meta meta;
};

/* ---- small helpers ----------------------------------------------------- */

const char *journal_strerror(int status)
{
	switch (status) {
	case JOURNAL_OK: return "ok";
	case JOURNAL_E_SYS: return "system error";
	case JOURNAL_E_NOENT: return "no such directory";
	case JOURNAL_E_NOT_JOURNAL: return "not an FKS journal";
	case JOURNAL_E_EXISTS: return "journal already exists";
	case JOURNAL_E_LOCKED: return "journal is being written by another process";
	case JOURNAL_E_VERSION: return "journal written with another format or event layout";
	case JOURNAL_E_META: return "journal metadata missing or malformed";
	case JOURNAL_E_CORRUPT: return "corrupted record";
	case JOURNAL_E_LMDB: return "LMDB error";
	case JOURNAL_E_INVALID: return "invalid argument";
	case JOURNAL_E_FAILED: return "an earlier commit failed";
	case JOURNAL_E_DAMAGED: return "journal file damaged";
	}
	return "unknown journal error";
}

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* LMDB returns errno values (ENOSPC, EIO, ...) and its own negative codes. */
static int lmdb_status(int rc)
{
	return rc > 0 ? JOURNAL_E_SYS : JOURNAL_E_LMDB;
}

/* Below this much free space, an EIO from a write is the disk filling up. */
#define FULL_DISK_SLACK_BYTES (1u << 20)

/* The cause of an LMDB error on a write path (create, commit, sync), for
 * the operator: a full disk by name, whichever way it shows.  LMDB turns a
 * short write, the disk filling up in the middle of one, into EIO.  The
 * cause ends with the journal's directory, and the messages built on it
 * start with what was being done: a stage's error holds 160 bytes, and a
 * long path at the front would push the cause out of it. */
static const char *write_cause(const char *dir, int rc, char *buf, size_t cap)
{
	struct statvfs fs;
	switch (rc) {
	case ENOSPC:
		snprintf(buf, cap, "no space left on device (journal %s)", dir);
		return buf;
	case EDQUOT:
		snprintf(buf, cap, "disk quota exceeded (journal %s)", dir);
		return buf;
	case EIO:
		if (statvfs(dir, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < FULL_DISK_SLACK_BYTES) {
			snprintf(buf, cap, "no space left on device (journal %s; LMDB said EIO: a short write)", dir);
			return buf;
		}
		break;
	case MDB_MAP_FULL:
		snprintf(buf, cap, "the journal's map is full (journal %s)", dir);
		return buf;
	}
	snprintf(buf, cap, "%s (journal %s)", mdb_strerror(rc), dir);
	return buf;
}

const char *journal_sync_name(enum fks_journal_sync sync)
{
	switch (sync) {
	case FKS_SYNC_DURABLE: return "durable";
	case FKS_SYNC_NOMETASYNC: return "nometasync";
	case FKS_SYNC_ASYNC: return "async";
	}
	return "?";
}

static bool sync_from_name(const char *s, size_t n, enum fks_journal_sync *out)
{
	static const enum fks_journal_sync all[] = { FKS_SYNC_DURABLE, FKS_SYNC_NOMETASYNC, FKS_SYNC_ASYNC };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		const char *name = journal_sync_name(all[i]);
		if (strlen(name) == n && !memcmp(name, s, n)) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

static bool symbol_valid(const struct journal_symbol *s)
{
	size_t n = strnlen(s->symbol, FKS_SYMBOL_MAX);
	return n >= 1 && n < FKS_SYMBOL_MAX && s->px_scale <= FX_MAX_SCALE && s->qty_scale <= FX_MAX_SCALE;
}

const struct journal_symbol *journal_meta_symbol(const struct journal_meta *meta, uint32_t id)
{
	/* Config ids are index + 1, so this is almost always the hit. */
	if (id >= 1 && id <= meta->n_symbols && meta->symbol[id - 1].id == id)
		return &meta->symbol[id - 1];
	for (uint32_t i = 0; i < meta->n_symbols; i++)
		if (meta->symbol[i].id == id)
			return &meta->symbol[i];
	return NULL;
}

/* ---- the record format ------------------------------------------------- */

int journal_decode(const void *value, size_t len, struct journal_record *rec, char *why, size_t whylen)
{
	const unsigned char *v = value;
	if (len < FKS_EVENT_LINE)
		return fail(why, whylen, JOURNAL_E_CORRUPT, "value of %zu bytes is shorter than any event", len);
	unsigned type = v[0];
	size_t esz = fks_event_size(type);
	if (!esz)
		return fail(why, whylen, JOURNAL_E_CORRUPT, "unknown event type %u", type);
	if (len < esz)
		return fail(why, whylen, JOURNAL_E_CORRUPT, "value of %zu bytes is too short for a %s event (%zu bytes)",
			    len, fks_event_type_name(type), esz);
	rec->payload = NULL;
	rec->payload_len = 0;
	if (len > esz) {
		struct journal_payload_hdr ph;
		if (len < esz + sizeof ph)
			return fail(why, whylen, JOURNAL_E_CORRUPT,
				    "value of %zu bytes does not fit a %s event (%zu bytes, or more with a payload)",
				    len, fks_event_type_name(type), esz);
		memcpy(&ph, v + esz, sizeof ph);
		if (ph.magic != JOURNAL_PAYLOAD_MAGIC)
			return fail(why, whylen, JOURNAL_E_CORRUPT,
				    "value of %zu bytes does not fit a %s event (%zu bytes) and has no payload header",
				    len, fks_event_type_name(type), esz);
		if (ph.len == 0 || ph.len != len - esz - sizeof ph)
			return fail(why, whylen, JOURNAL_E_CORRUPT,
				    "payload header says %" PRIu32 " bytes, the value holds %zu",
				    ph.len, len - esz - sizeof ph);
		rec->payload = v + esz + sizeof ph;
		rec->payload_len = ph.len;
	}
	/* Values sit unaligned in LMDB's pages: copy the event out. */
	memcpy(rec->ev.bytes, v, esz);
	if (esz < sizeof rec->ev.bytes)
		memset(rec->ev.bytes + esz, 0, sizeof rec->ev.bytes - esz);
	rec->ev_size = esz;
	return JOURNAL_OK;
}

/* ---- batches ----------------------------------------------------------- */

static size_t rec_stride(size_t value_len)
{
	return (sizeof(struct batch_rec) + value_len + 7) & ~(size_t)7;
}

static int batch_reserve(struct batch *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	unsigned char *p = realloc(b->buf, cap);
	if (!p)
		return -1;
	b->buf = p;
	b->cap = cap;
	return 0;
}

static void batch_clear(struct batch *b)
{
	b->len = 0;
	b->count = 0;
	b->first_seq = 0;
}

/* ---- the writer -------------------------------------------------------- */

static int grow_map(struct journal *j, char *err, size_t errlen)
{
	MDB_envinfo info;
	mdb_env_info(j->env, &info);
	size_t next = info.me_mapsize * 2;
	char cause[MSG_MAX];
	if (next < info.me_mapsize)
		return fail(err, errlen, JOURNAL_E_LMDB, "%s: map size %zu cannot grow", j->dir, info.me_mapsize);
	/* Legal only with no transaction active in this process: the one that
	 * hit MDB_MAP_FULL is aborted, and nothing else here ever opens one. */
	int rc = mdb_env_set_mapsize(j->env, next);
	if (rc)
		return fail(err, errlen, lmdb_status(rc), "growing the map to %zu bytes: %s", next,
			    write_cause(j->dir, rc, cause, sizeof cause));
	atomic_store_explicit(&j->map_size, next, memory_order_relaxed);
	atomic_fetch_add_explicit(&j->map_grows, 1, memory_order_relaxed);
	return JOURNAL_OK;
}

/* A reader killed with its snapshot open keeps that snapshot's pages from
 * being reused until someone notices it is dead: the writer does, now and
 * then. */
static void clear_dead_readers(struct journal *j)
{
	int64_t now = clock_mono_ns();
	if (now - j->last_reader_check_ns < READER_CHECK_NS)
		return;
	j->last_reader_check_ns = now;
	int dead;
	mdb_reader_check(j->env, &dead);
}

/* Write a batch in one transaction, growing the map and starting over on
 * MDB_MAP_FULL.  Called by the appending thread, or by the committer. */
static int commit_batch(struct journal *j, struct batch *b, char *err, size_t errlen)
{
	if (!b->count)
		return JOURNAL_OK;
	clear_dead_readers(j);
	char cause[MSG_MAX];
	for (int grows = 0;; grows++) {
		MDB_txn *txn;
		MDB_cursor *cur;
		int rc = mdb_txn_begin(j->env, NULL, 0, &txn);
		if (rc)
			return fail(err, errlen, lmdb_status(rc), "beginning a write transaction: %s",
				    write_cause(j->dir, rc, cause, sizeof cause));
		rc = mdb_cursor_open(txn, j->events, &cur);
		const unsigned char *p = b->buf;
		uint64_t seq = b->first_seq;
		for (uint64_t i = 0; !rc && i < b->count; i++, seq++) {
			struct batch_rec h;
			memcpy(&h, p, sizeof h);
			MDB_val key = { sizeof seq, &seq };
			MDB_val val = { h.value_len, (void *)(p + sizeof h) };
			rc = mdb_cursor_put(cur, &key, &val, MDB_APPEND);
			p += rec_stride(h.value_len);
		}
		if (!rc)
			rc = mdb_txn_commit(txn); /* frees txn and cursor, also on failure */
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL && grows < MAX_MAP_GROWS) {
			int grc = grow_map(j, err, errlen);
			if (grc)
				return grc;
			continue;
		}
		if (rc == MDB_KEYEXIST) /* the loop has already stepped past the key */
			return fail(err, errlen, JOURNAL_E_LMDB,
				    "%s: key %" PRIu64 " is not after the last key: was the journal written by someone else?",
				    j->dir, seq - 1);
		if (rc)
			return fail(err, errlen, lmdb_status(rc), "committing seq %" PRIu64 "..%" PRIu64 ": %s",
				    b->first_seq, b->first_seq + b->count - 1,
				    write_cause(j->dir, rc, cause, sizeof cause));
		atomic_store_explicit(&j->committed_seq, b->first_seq + b->count - 1, memory_order_release);
		return JOURNAL_OK;
	}
}

static void *committer_main(void *arg)
{
	struct journal *j = arg;
	char err[MSG_MAX];
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->busy && !j->stop)
			pthread_cond_wait(&j->work, &j->mu);
		if (!j->busy)
			break;
		pthread_mutex_unlock(&j->mu);
		int rc = commit_batch(j, &j->inflight, err, sizeof err);
		pthread_mutex_lock(&j->mu);
		if (rc && !j->async_rc) {
			j->async_rc = rc;
			memcpy(j->async_err, err, sizeof err);
		}
		batch_clear(&j->inflight);
		j->busy = false;
		pthread_cond_broadcast(&j->idle);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

int journal_append(struct journal *j, const union fks_event *ev, const void *payload, size_t payload_len)
{
	if (j->failed)
		return JOURNAL_E_FAILED;
	size_t esz = fks_event_size(ev->h.type);
	if (!esz)
		return fail(j->err, sizeof j->err, JOURNAL_E_INVALID, "%s: append: unknown event type %u", j->dir,
			    ev->h.type);
	if (payload_len > JOURNAL_PAYLOAD_MAX || (payload_len && !payload))
		return fail(j->err, sizeof j->err, JOURNAL_E_INVALID,
			    "%s: append: payload of %zu bytes (at most %u, and not NULL)", j->dir, payload_len,
			    JOURNAL_PAYLOAD_MAX);
	size_t vlen = esz + (payload_len ? sizeof(struct journal_payload_hdr) + payload_len : 0);
	size_t stride = rec_stride(vlen);
	struct batch *b = &j->fill;
	if (batch_reserve(b, stride))
		return fail(j->err, sizeof j->err, JOURNAL_E_SYS, "%s: append: %s", j->dir, strerror(ENOMEM));
	unsigned char *p = b->buf + b->len;
	struct batch_rec h = { .value_len = (uint32_t)vlen };
	memcpy(p, &h, sizeof h);
	p += sizeof h;
	memcpy(p, ev->bytes, esz);
	if (payload_len) {
		struct journal_payload_hdr ph = { .len = (uint32_t)payload_len, .magic = JOURNAL_PAYLOAD_MAGIC };
		memcpy(p + esz, &ph, sizeof ph);
		memcpy(p + esz + sizeof ph, payload, payload_len);
	}
	b->len += stride;
	if (!b->count++)
		b->first_seq = j->appended_seq + 1;
	j->appended_seq++;
	return JOURNAL_OK;
}

/* The committer failed: report its error, sticky. */
static int async_failed(struct journal *j)
{
	memcpy(j->err, j->async_err, sizeof j->err);
	return j->async_rc;
}

int journal_commit(struct journal *j)
{
	if (j->failed)
		return JOURNAL_E_FAILED;
	if (!j->async) {
		int rc = commit_batch(j, &j->fill, j->err, sizeof j->err);
		if (rc) {
			/* The journal ends at the previous batch; the events of
			 * this one were never acknowledged.  A later batch on top
			 * of a hole would break density, so stop here. */
			j->failed = true;
			return rc;
		}
		batch_clear(&j->fill);
		return JOURNAL_OK;
	}
	pthread_mutex_lock(&j->mu);
	int rc = j->async_rc;
	if (!rc && j->fill.count) {
		while (j->busy && j->fill.len >= ASYNC_HIGH_WATER && !j->async_rc)
			pthread_cond_wait(&j->idle, &j->mu);
		rc = j->async_rc;
		if (!rc && !j->busy) {
			struct batch t = j->inflight;
			j->inflight = j->fill;
			j->fill = t;
			j->busy = true;
			pthread_cond_signal(&j->work);
		}
	}
	if (rc)
		rc = async_failed(j);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int journal_drain(struct journal *j)
{
	if (!j->async)
		return journal_commit(j);
	for (;;) {
		int rc = journal_commit(j);
		if (rc)
			return rc;
		pthread_mutex_lock(&j->mu);
		while (j->busy)
			pthread_cond_wait(&j->idle, &j->mu);
		rc = j->async_rc ? async_failed(j) : 0;
		bool empty = j->fill.count == 0;
		pthread_mutex_unlock(&j->mu);
		if (rc)
			return rc;
		if (empty)
			return JOURNAL_OK;
	}
}

int journal_sync(struct journal *j)
{
	if (j->sync != FKS_SYNC_NOMETASYNC)
		return JOURNAL_OK;
	int rc = mdb_env_sync(j->env, 1);
	char cause[MSG_MAX];
	if (rc)
		return fail(j->err, sizeof j->err, lmdb_status(rc), "sync: %s",
			    write_cause(j->dir, rc, cause, sizeof cause));
	return JOURNAL_OK;
}

uint64_t journal_committed_seq(const struct journal *j)
{
	return atomic_load_explicit(&j->committed_seq, memory_order_acquire);
}

uint64_t journal_appended_seq(const struct journal *j) { return j->appended_seq; }

uint64_t journal_pending(const struct journal *j)
{
	return j->appended_seq - journal_committed_seq(j);
}

size_t journal_map_size(const struct journal *j)
{
	return atomic_load_explicit(&j->map_size, memory_order_relaxed);
}

unsigned journal_map_grows(const struct journal *j)
{
	return atomic_load_explicit(&j->map_grows, memory_order_relaxed);
}

const char *journal_error(const struct journal *j) { return j->err; }

static void journal_free(struct journal *j)
{
	if (j->thread_started) {
		pthread_mutex_lock(&j->mu);
		j->stop = true;
		pthread_cond_signal(&j->work);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->thread, NULL);
	}
	if (j->async) {
		pthread_cond_destroy(&j->work);
		pthread_cond_destroy(&j->idle);
		pthread_mutex_destroy(&j->mu);
	}
	if (j->env)
		mdb_env_close(j->env);
	if (j->lock_fd >= 0)
		close(j->lock_fd); /* releases the flock */
	free(j->fill.buf);
	free(j->inflight.buf);
	free(j);
}

static int put_meta(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *data, size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)data };
	return mdb_put(txn, dbi, &k, &v, 0);
}

static int put_meta_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t x)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%" PRIu64, x);
	return put_meta(txn, dbi, key, buf, (size_t)n);
}

/* The part's last transaction: "end_seq" and "end" (how) in its metadata,
 * after everything appended is committed (the caller drained). */
static int end_part(struct journal *j, const char *how)
{
	for (int grows = 0;; grows++) {
		MDB_txn *txn;
		int rc = mdb_txn_begin(j->env, NULL, 0, &txn);
		if (rc)
			return fail(j->err, sizeof j->err, lmdb_status(rc), "%s: ending the part: %s", j->dir,
				    mdb_strerror(rc));
		rc = put_meta_u64(txn, j->meta_dbi, "end_seq", j->appended_seq);
		if (!rc)
			rc = put_meta(txn, j->meta_dbi, "end", how, strlen(how));
		if (!rc)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL && grows < MAX_MAP_GROWS) {
			int grc = grow_map(j, j->err, sizeof j->err);
			if (grc)
				return grc;
			continue;
		}
		if (rc) {
			char cause[MSG_MAX];
			return fail(j->err, sizeof j->err, lmdb_status(rc), "ending the part: %s",
				    write_cause(j->dir, rc, cause, sizeof cause));
		}
		return JOURNAL_OK;
	}
}

int journal_close(struct journal *j)
{
	if (!j)
		return JOURNAL_OK;
	int rc = j->failed ? JOURNAL_E_FAILED : journal_drain(j);
	if (!rc)
		rc = end_part(j, "closed");
	if (!rc)
		rc = journal_sync(j);
	journal_free(j);
	return rc;
}

uint64_t journal_data_bytes(const struct journal *j)
{
	mdb_filehandle_t fd;
	struct stat st;
	if (mdb_env_get_fd(j->env, &fd) || fstat(fd, &st))
		return 0;
	return (uint64_t)st.st_size;
}

/* ---- creating a journal ------------------------------------------------ */

static int validate_meta(const struct journal_meta *m, char *err, size_t errlen)
{
	if (m->n_symbols > JOURNAL_SYMBOLS_MAX)
		return fail(err, errlen, JOURNAL_E_INVALID, "%" PRIu32 " symbols, at most %d", m->n_symbols,
			    JOURNAL_SYMBOLS_MAX);
	for (uint32_t i = 0; i < m->n_symbols; i++)
		if (!symbol_valid(&m->symbol[i]))
			return fail(err, errlen, JOURNAL_E_INVALID,
				    "symbol %" PRIu32 " (id %" PRIu32 "): want 1..%d chars and scales <= %d", i,
				    m->symbol[i].id, FKS_SYMBOL_MAX - 1, FX_MAX_SCALE);
	if (m->config_len > JOURNAL_CONFIG_MAX)
		return fail(err, errlen, JOURNAL_E_INVALID, "config text of %zu bytes, at most %d", m->config_len,
			    JOURNAL_CONFIG_MAX);
	if (!memchr(m->fks_version, 0, sizeof m->fks_version) || !memchr(m->host, 0, sizeof m->host))
		return fail(err, errlen, JOURNAL_E_INVALID, "fks_version or host is not NUL-terminated");
	return JOURNAL_OK;
}

static void record_writer_pid(struct journal *j)
{
	char pid[24];
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	/* Only a hint for the error message of a refused writer. */
	if (ftruncate(j->lock_fd, 0) == 0)
		(void)!pwrite(j->lock_fd, pid, (size_t)n, 0);
}

/* Take the writer lock, or name the process that holds it. */
static int take_writer_lock(struct journal *j, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", j->dir, LOCK_FILE);
	j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0)
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", path, strerror(errno));
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		record_writer_pid(j);
		return JOURNAL_OK;
	}
	if (errno != EWOULDBLOCK)
		return fail(err, errlen, JOURNAL_E_SYS, "%s: flock: %s", path, strerror(errno));
	char pid[24] = "";
	ssize_t n = pread(j->lock_fd, pid, sizeof pid - 1, 0);
	pid[n > 0 ? n : 0] = 0;
	pid[strcspn(pid, "\n")] = 0;
	if (!pid[0])
		return fail(err, errlen, JOURNAL_E_LOCKED, "%s: another process is writing this journal", j->dir);
	return fail(err, errlen, JOURNAL_E_LOCKED, "%s: another process (pid %s) is writing this journal", j->dir, pid);
}

/* A journal goes only into an empty directory, or one that holds nothing but
 * the remains of a journal whose creation never committed. */
static int check_dir_contents(struct journal *j, char *err, size_t errlen)
{
	DIR *d = opendir(j->dir);
	if (!d)
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", j->dir, strerror(errno));
	struct dirent *e;
	int rc = JOURNAL_OK;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "data.mdb") || !strcmp(n, "lock.mdb") ||
		    !strcmp(n, LOCK_FILE))
			continue;
		rc = fail(err, errlen, JOURNAL_E_NOT_JOURNAL,
			  "%s: not an FKS journal, and not empty (it holds '%s'): refusing to create a journal there",
			  j->dir, n);
		break;
	}
	closedir(d);
	return rc;
}

/* The first transaction: check the environment is fresh, create both
 * databases and write the metadata, all or nothing. */
static int write_meta(struct journal *j, const struct journal_meta *m, enum fks_journal_sync sync, char *err,
		      size_t errlen)
{
	uint64_t first_seq = j->appended_seq + 1;
	int64_t part_start = m->part_start_ns ? m->part_start_ns : clock_real_ns();
	char host[JOURNAL_HOST_MAX];
	snprintf(host, sizeof host, "%s", m->host);
	if (!host[0] && gethostname(host, sizeof host - 1))
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = 0;
	int64_t start = m->start_time_ns ? m->start_time_ns : clock_real_ns();
	char start_text[24];
	int start_len = snprintf(start_text, sizeof start_text, "%" PRId64, start);

	char cause[MSG_MAX];
	for (int grows = 0;; grows++) {
		MDB_txn *txn;
		MDB_dbi meta_dbi, main_dbi;
		MDB_stat st;
		int rc = mdb_txn_begin(j->env, NULL, 0, &txn);
		if (rc)
			return fail(err, errlen, lmdb_status(rc), "%s", write_cause(j->dir, rc, cause, sizeof cause));
		rc = mdb_dbi_open(txn, META_DB, 0, &meta_dbi);
		if (rc == 0) {
			mdb_txn_abort(txn);
			return fail(err, errlen, JOURNAL_E_EXISTS,
				    "%s: already holds a journal; a journal is one run: pick another directory or remove it",
				    j->dir);
		}
		if (rc != MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return fail(err, errlen, JOURNAL_E_NOT_JOURNAL, "%s: an LMDB environment, but not an FKS journal (%s)",
				    j->dir, mdb_strerror(rc));
		}
		rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
		if (!rc)
			rc = mdb_stat(txn, main_dbi, &st);
		if (!rc && st.ms_entries) {
			mdb_txn_abort(txn);
			return fail(err, errlen, JOURNAL_E_NOT_JOURNAL, "%s: holds a foreign LMDB database, not an FKS journal",
				    j->dir);
		}
		if (!rc)
			rc = mdb_dbi_open(txn, EVENTS_DB, MDB_CREATE | MDB_INTEGERKEY, &j->events);
		if (!rc)
			rc = mdb_dbi_open(txn, META_DB, MDB_CREATE, &meta_dbi);
		if (!rc)
			rc = put_meta_u64(txn, meta_dbi, "journal_format", JOURNAL_FORMAT_VERSION);
		if (!rc)
			rc = put_meta_u64(txn, meta_dbi, "event_layout", FKS_EVENT_LAYOUT_VERSION);
		if (!rc)
			rc = put_meta(txn, meta_dbi, "fks_version", m->fks_version, strlen(m->fks_version));
		if (!rc)
			rc = put_meta(txn, meta_dbi, "host", host, strlen(host));
		if (!rc)
			rc = put_meta(txn, meta_dbi, "start_time_ns", start_text, (size_t)start_len);
		if (!rc)
			rc = put_meta(txn, meta_dbi, "sync", journal_sync_name(sync), strlen(journal_sync_name(sync)));
		if (!rc)
			rc = put_meta(txn, meta_dbi, "config", m->config, m->config_len);
		if (!rc)
			rc = put_meta(txn, meta_dbi, "symbols", m->symbol, m->n_symbols * sizeof m->symbol[0]);
		if (!rc)
			rc = put_meta_u64(txn, meta_dbi, "first_seq", first_seq);
		if (!rc)
			rc = put_meta_u64(txn, meta_dbi, "part", j->part);
		if (!rc)
			rc = put_meta_u64(txn, meta_dbi, "part_start_ns", (uint64_t)part_start);
		if (!rc)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL && grows < MAX_MAP_GROWS) {
			int grc = grow_map(j, err, errlen);
			if (grc)
				return grc;
			continue;
		}
		if (rc)
			return fail(err, errlen, lmdb_status(rc), "writing the metadata: %s",
				    write_cause(j->dir, rc, cause, sizeof cause));
		j->meta_dbi = meta_dbi;
		/* Metadata is the one thing a reader cannot do without, and it is
		 * written once: flush it whatever the sync mode. */
		rc = mdb_env_sync(j->env, 1);
		if (rc)
			return fail(err, errlen, lmdb_status(rc), "sync: %s",
				    write_cause(j->dir, rc, cause, sizeof cause));
		return JOURNAL_OK;
	}
}

/* LMDB maps its lock file and writes it through the map: on a full tmpfs
 * that is a SIGBUS, not an error.  So the file is created here first, its
 * blocks allocated, and a full disk is a message.  LMDB keeps a larger
 * file as it is (it only grows a smaller one): 16 KiB holds LMDB's default
 * 126 readers (8 KiB) with room to spare. */
#define LOCK_FILE_BYTES 16384

static int reserve_lock_file(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return JOURNAL_OK;
	char cause[MSG_MAX];
	if (fd < 0)
		return fail(err, errlen, JOURNAL_E_SYS, "creating lock.mdb: %s",
			    write_cause(dir, errno, cause, sizeof cause));
	int rc = posix_fallocate(fd, 0, LOCK_FILE_BYTES);
	close(fd);
	if (rc) {
		unlink(path);
		return fail(err, errlen, JOURNAL_E_SYS, "creating lock.mdb: %s",
			    write_cause(dir, rc, cause, sizeof cause));
	}
	return JOURNAL_OK;
}

static unsigned env_flags(enum fks_journal_sync sync)
{
	/* Async mode commits exactly like durable mode, on its own thread. */
	return sync == FKS_SYNC_NOMETASYNC ? MDB_NOMETASYNC : 0;
}

int journal_create(const char *dir, const struct journal_meta *meta, const struct journal_options *opt,
		   struct journal **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!dir || !dir[0] || !meta)
		return fail(err, errlen, JOURNAL_E_INVALID, "journal_create: no directory or no metadata");
	if (strlen(dir) >= PATH_MAX - 32)
		return fail(err, errlen, JOURNAL_E_INVALID, "%.64s...: path too long", dir);
	enum fks_journal_sync sync = opt && opt->sync ? opt->sync : FKS_SYNC_DURABLE;
	if (sync != FKS_SYNC_DURABLE && sync != FKS_SYNC_NOMETASYNC && sync != FKS_SYNC_ASYNC)
		return fail(err, errlen, JOURNAL_E_INVALID, "%s: unknown sync mode %d", dir, (int)sync);
	int rc = validate_meta(meta, err, errlen);
	if (rc)
		return rc;
	long page = sysconf(_SC_PAGESIZE);
	size_t map = opt && opt->initial_map_size ? opt->initial_map_size : JOURNAL_DEFAULT_MAP_SIZE;
	map = (map + (size_t)page - 1) / (size_t)page * (size_t)page;
	size_t hint = opt && opt->batch_hint ? opt->batch_hint : DEFAULT_BATCH_HINT;

	struct journal *j = calloc(1, sizeof *j);
	if (!j)
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", dir, strerror(ENOMEM));
	j->lock_fd = -1;
	j->sync = sync;
	j->part = meta->part ? meta->part : 1;
	j->appended_seq = meta->first_seq ? meta->first_seq - 1 : 0;
	atomic_store(&j->committed_seq, j->appended_seq);
	snprintf(j->dir, sizeof j->dir, "%s", dir);

	struct stat st;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = fail(err, errlen, errno == ENOENT ? JOURNAL_E_NOENT : JOURNAL_E_SYS, "%s: cannot create: %s", dir,
			  strerror(errno));
		goto out_free;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		rc = fail(err, errlen, JOURNAL_E_NOT_JOURNAL, "%s: exists and is not a directory", dir);
		goto out_free;
	}
	/* Contents first, so a refused directory gets no writer.lock either. */
	if ((rc = check_dir_contents(j, err, errlen)) || (rc = take_writer_lock(j, err, errlen)))
		goto out_free;

	if ((rc = mdb_env_create(&j->env)) || (rc = mdb_env_set_maxdbs(j->env, 2)) ||
	    (rc = mdb_env_set_mapsize(j->env, map))) {
		rc = fail(err, errlen, lmdb_status(rc), "%s: %s", dir, mdb_strerror(rc));
		goto out_free;
	}
	if ((rc = reserve_lock_file(dir, err, errlen)))
		goto out_free;
	rc = mdb_env_open(j->env, dir, env_flags(sync), 0600);
	if (rc) {
		int status = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? JOURNAL_E_NOT_JOURNAL : lmdb_status(rc);
		char cause[MSG_MAX];
		rc = fail(err, errlen, status, "opening the LMDB environment: %s",
			  write_cause(dir, rc, cause, sizeof cause));
		goto out_free;
	}
	MDB_envinfo info;
	mdb_env_info(j->env, &info);
	atomic_store(&j->map_size, info.me_mapsize);
	j->last_reader_check_ns = INT64_MIN / 2;
	clear_dead_readers(j);
	if ((rc = write_meta(j, meta, sync, err, errlen)))
		goto out_free;

	if (batch_reserve(&j->fill, hint * rec_stride(2 * FKS_EVENT_LINE))) {
		rc = fail(err, errlen, JOURNAL_E_SYS, "%s: %s", dir, strerror(ENOMEM));
		goto out_free;
	}
	if (sync == FKS_SYNC_ASYNC) {
		j->async = true;
		pthread_mutex_init(&j->mu, NULL);
		pthread_cond_init(&j->work, NULL);
		pthread_cond_init(&j->idle, NULL);
		if (batch_reserve(&j->inflight, j->fill.cap)) {
			rc = fail(err, errlen, JOURNAL_E_SYS, "%s: %s", dir, strerror(ENOMEM));
			goto out_free;
		}
		int prc = pthread_create(&j->thread, NULL, committer_main, j);
		if (prc) {
			rc = fail(err, errlen, JOURNAL_E_SYS, "%s: starting the committer: %s", dir, strerror(prc));
			goto out_free;
		}
		j->thread_started = true;
	}
	*out = j;
	return JOURNAL_OK;

out_free:
	journal_free(j);
	return rc;
}

/* ---- the reader -------------------------------------------------------- */

static int meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *v)
{
	MDB_val k = { strlen(key), (void *)key };
	return mdb_get(txn, dbi, &k, v);
}

/* LMDB's errors that mean its pages are not what it expects. */
static bool lmdb_damage(int rc)
{
	return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_CURSOR_FULL || rc == MDB_BAD_TXN ||
	       rc == MDB_INCOMPATIBLE;
}

/* Where reading got to, for messages: after the last key read whole. */
static void reader_position(const struct journal_reader *r, char *buf, size_t cap)
{
	if (r->next_seq > 1)
		snprintf(buf, cap, "after key %" PRIu64, r->next_seq - 1);
	else
		snprintf(buf, cap, "before key 1");
}

/* Find LMDB's map from a pointer into a page of it that is known sound (the
 * metadata's leaf): its header holds its page number, and page 0 is the
 * meta page.  Only when LMDB's pages are the system's, so that the map is
 * aligned to them; otherwise r->map stays NULL and the trap is the guard. */
static void locate_map(struct journal_reader *r, const void *inside)
{
	long sys = sysconf(_SC_PAGESIZE);
	uint64_t ps = r->file.psize;
	r->map = NULL;
	if (sys <= 0 || (uint64_t)sys != ps)
		return;
	uintptr_t page = (uintptr_t)inside & ~(uintptr_t)(ps - 1);
	uint64_t pgno = get_u64((const unsigned char *)page);
	if (pgno < 2 || pgno >= r->file.pages || page < pgno * ps)
		return;
	const unsigned char *base = (const unsigned char *)(page - pgno * ps);
	/* The header and magic: the rest of a meta page changes with commits. */
	if (!memcmp(base, r->file.meta0, LMDB_PAGE_HDR + 8))
		r->map = base;
}

/* Layer 2: a key or value must lie in the file's pages (past the metas). */
static bool span_in_file(const struct journal_reader *r, const MDB_val *v)
{
	if (!r->map)
		return true;
	uintptr_t a = (uintptr_t)v->mv_data, lo = (uintptr_t)r->map + 2u * r->file.psize;
	return a >= lo && v->mv_size <= r->file_bytes && a - (uintptr_t)r->map <= r->file_bytes - v->mv_size;
}

/* The trap fired: name the signal, the page and the last good key, and
 * never use the transaction again except to free it. */
static int reader_trapped(struct journal_reader *r, const struct trap_report *rep)
{
	char where[48], what[256];
	reader_position(r, where, sizeof where);
	const char *sig = rep->sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
	uintptr_t a = (uintptr_t)rep->addr, base = (uintptr_t)r->map;
	if (rep->sig == SIGABRT)
		snprintf(what, sizeof what, "an LMDB assertion failed (%s)", rep->assertion);
	else if (r->map && a >= base && (a - base) / r->file.psize < ((uint64_t)1 << 40))
		snprintf(what, sizeof what, "%s reading page %" PRIu64 "%s", sig, (uint64_t)((a - base) / r->file.psize),
			 a - base >= r->file_bytes ? ", past the end of the file" : "");
	else
		snprintf(what, sizeof what, "%s reading outside the file's pages", sig);
	r->damaged = true;
	r->live = false;
	return fail(r->err, sizeof r->err, JOURNAL_E_DAMAGED, "%s: data.mdb is damaged: %s, %s; reading stops here",
		    r->dir, what, where);
}

/* fn(ctx) under the trap, for a reader: damaged stays damaged. */
static int reader_call(struct journal_reader *r, int (*fn)(void *), void *ctx)
{
	if (r->damaged)
		return JOURNAL_E_DAMAGED;
	struct trap_report rep;
	int rc = run_trapped(fn, ctx, &rep);
	if (rc == JOURNAL_E_DAMAGED && rep.sig)
		return reader_trapped(r, &rep);
	if (rc == JOURNAL_E_DAMAGED)
		r->damaged = true;
	return rc;
}

/* Renew the read transaction, following a map the writer has grown. */
static int reader_begin(struct journal_reader *r)
{
	/* The open file, not the path: a rotation moves this part away and
	 * puts the next one's data.mdb at the path while we read. */
	struct stat st;
	mdb_filehandle_t fd;
	if (mdb_env_get_fd(r->env, &fd) || fstat(fd, &st))
		return fail(r->err, sizeof r->err, JOURNAL_E_SYS, "%s: %s", r->data_path, strerror(errno));
	r->file_bytes = (uint64_t)st.st_size;
	int rc = mdb_txn_renew(r->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Adopt the writer's size; no transaction of ours is active. */
		rc = mdb_env_set_mapsize(r->env, 0);
		if (!rc)
			rc = mdb_txn_renew(r->txn);
		MDB_val v;
		r->map = NULL; /* remapped: find it again */
		if (!rc && meta_get(r->txn, r->meta_dbi, "journal_format", &v) == 0)
			locate_map(r, v.mv_data);
	}
	if (!rc)
		rc = mdb_cursor_renew(r->txn, r->cur);
	if (rc)
		return fail(r->err, sizeof r->err, lmdb_damage(rc) ? JOURNAL_E_DAMAGED : lmdb_status(rc),
			    "%s: starting a read transaction: %s", r->dir, mdb_strerror(rc));
	r->live = true;
	r->in_snapshot = 0;
	return JOURNAL_OK;
}

static void reader_end(struct journal_reader *r)
{
	if (r->live)
		mdb_txn_reset(r->txn);
	r->live = false;
}

static bool parse_u64_text(const MDB_val *v, uint64_t *out)
{
	const char *s = v->mv_data;
	uint64_t x = 0;
	if (!v->mv_size || v->mv_size > 20)
		return false;
	for (size_t i = 0; i < v->mv_size; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

static bool parse_i64_text(const MDB_val *v, int64_t *out)
{
	MDB_val u = *v;
	bool neg = u.mv_size && ((const char *)u.mv_data)[0] == '-';
	if (neg) {
		u.mv_data = (char *)u.mv_data + 1;
		u.mv_size--;
	}
	uint64_t x;
	if (!parse_u64_text(&u, &x) || x > (uint64_t)INT64_MAX + neg)
		return false;
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

/* A required metadata value: JOURNAL_E_META when missing. */
static int need(struct journal_reader *r, MDB_txn *txn, const char *key, MDB_val *v, char *err, size_t errlen)
{
	int rc = meta_get(txn, r->meta_dbi, key, v);
	if (rc == MDB_NOTFOUND)
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata has no '%s'", r->dir, key);
	if (lmdb_damage(rc))
		return fail(err, errlen, JOURNAL_E_DAMAGED,
			    "%s: data.mdb is damaged: reading metadata '%s' (main database root page %" PRIu64 "): %s",
			    r->dir, key, r->file.main_root, mdb_strerror(rc));
	if (rc)
		return fail(err, errlen, lmdb_status(rc), "%s: reading metadata '%s': %s", r->dir, key, mdb_strerror(rc));
	return JOURNAL_OK;
}

static int check_version(struct journal_reader *r, MDB_txn *txn, const char *key, uint32_t mine, uint32_t *out,
			 char *err, size_t errlen)
{
	MDB_val v;
	uint64_t x;
	int rc = need(r, txn, key, &v, err, errlen);
	if (rc)
		return rc;
	if (!parse_u64_text(&v, &x) || x > UINT32_MAX)
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata '%s' is not a number", r->dir, key);
	*out = (uint32_t)x;
	if (x == mine)
		return JOURNAL_OK;
	/* Name the build that wrote it, if it said: that is the one to use. */
	MDB_val ver;
	int vlen = 0;
	const char *vtext = "";
	if (meta_get(txn, r->meta_dbi, "fks_version", &ver) == 0 && ver.mv_size < JOURNAL_VERSION_TEXT_MAX) {
		vlen = (int)ver.mv_size;
		vtext = ver.mv_data;
	}
	return fail(err, errlen, JOURNAL_E_VERSION,
		    "%s: written with %s %" PRIu64 ", which is %s than this build's %" PRIu32
		    ": read it with the fks that wrote it%s%.*s%s",
		    r->dir, key, x, x > mine ? "newer" : "older", mine, vlen ? " (" : "", vlen, vtext, vlen ? ")" : "");
}

static int copy_text(struct journal_reader *r, MDB_txn *txn, const char *key, char *dst, size_t cap, char *err,
		     size_t errlen)
{
	MDB_val v;
	int rc = need(r, txn, key, &v, err, errlen);
	if (rc)
		return rc;
	if (v.mv_size >= cap || memchr(v.mv_data, 0, v.mv_size))
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata '%s' is malformed (%zu bytes)", r->dir, key,
			    v.mv_size);
	memcpy(dst, v.mv_data, v.mv_size);
	dst[v.mv_size] = 0;
	return JOURNAL_OK;
}

/* A number that journals written before rotation do not have: *out keeps
 * its default when the key is missing. */
static int optional_u64(struct journal_reader *r, MDB_txn *txn, const char *key, uint64_t *out, char *err,
			size_t errlen)
{
	MDB_val v;
	int rc = meta_get(txn, r->meta_dbi, key, &v);
	if (rc == MDB_NOTFOUND)
		return JOURNAL_OK;
	if (rc)
		return need(r, txn, key, &v, err, errlen); /* its message for the failure */
	if (!parse_u64_text(&v, out))
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata '%s' is not a number", r->dir, key);
	return JOURNAL_OK;
}

static int read_part_meta(struct journal_reader *r, MDB_txn *txn, char *err, size_t errlen)
{
	struct journal_meta *m = &r->meta;
	uint64_t first = 1, part = 1, start = (uint64_t)m->start_time_ns;
	int rc;
	if ((rc = optional_u64(r, txn, "first_seq", &first, err, errlen)) ||
	    (rc = optional_u64(r, txn, "part", &part, err, errlen)) ||
	    (rc = optional_u64(r, txn, "part_start_ns", &start, err, errlen)))
		return rc;
	if (first < 1 || part < 1 || part > UINT32_MAX || start > INT64_MAX)
		return fail(err, errlen, JOURNAL_E_META,
			    "%s: metadata 'first_seq' %" PRIu64 ", 'part' %" PRIu64 " or 'part_start_ns' out of range",
			    r->dir, first, part);
	m->first_seq = first;
	m->part = (uint32_t)part;
	m->part_start_ns = (int64_t)start;
	r->next_seq = first;
	return JOURNAL_OK;
}

static int read_meta(struct journal_reader *r, MDB_txn *txn, char *err, size_t errlen)
{
	struct journal_meta *m = &r->meta;
	MDB_val v;
	int rc;
	/* Versions first: a newer journal may have other metadata. */
	if ((rc = check_version(r, txn, "journal_format", JOURNAL_FORMAT_VERSION, &m->journal_format, err, errlen)) ||
	    (rc = check_version(r, txn, "event_layout", FKS_EVENT_LAYOUT_VERSION, &m->event_layout, err, errlen)) ||
	    (rc = copy_text(r, txn, "fks_version", m->fks_version, sizeof m->fks_version, err, errlen)) ||
	    (rc = copy_text(r, txn, "host", m->host, sizeof m->host, err, errlen)))
		return rc;
	if ((rc = need(r, txn, "start_time_ns", &v, err, errlen)))
		return rc;
	if (!parse_i64_text(&v, &m->start_time_ns))
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata 'start_time_ns' is not a number", r->dir);
	if ((rc = need(r, txn, "sync", &v, err, errlen)))
		return rc;
	if (!sync_from_name(v.mv_data, v.mv_size, &m->sync))
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata 'sync' is not a sync mode", r->dir);
	if ((rc = need(r, txn, "config", &v, err, errlen)))
		return rc;
	if (v.mv_size > JOURNAL_CONFIG_MAX)
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata 'config' is %zu bytes, at most %d", r->dir,
			    v.mv_size, JOURNAL_CONFIG_MAX);
	memcpy(m->config, v.mv_data, v.mv_size);
	m->config[v.mv_size] = 0;
	m->config_len = v.mv_size;
	if ((rc = need(r, txn, "symbols", &v, err, errlen)))
		return rc;
	if (v.mv_size % sizeof m->symbol[0] || v.mv_size / sizeof m->symbol[0] > JOURNAL_SYMBOLS_MAX)
		return fail(err, errlen, JOURNAL_E_META, "%s: metadata 'symbols' is %zu bytes, not a symbol table",
			    r->dir, v.mv_size);
	m->n_symbols = (uint32_t)(v.mv_size / sizeof m->symbol[0]);
	memcpy(m->symbol, v.mv_data, v.mv_size);
	for (uint32_t i = 0; i < m->n_symbols; i++)
		if (!symbol_valid(&m->symbol[i]))
			return fail(err, errlen, JOURNAL_E_META, "%s: metadata 'symbols': entry %" PRIu32 " is malformed",
				    r->dir, i);
	return read_part_meta(r, txn, err, errlen);
}

struct open_ctx {
	struct journal_reader *r;
	char *err;
	size_t errlen;
};

/* The LMDB part of opening, under the trap: the environment, the metadata,
 * the events database and the read handle.  What it leaves open, the caller
 * frees on failure (r->open_txn, r->txn, r->cur, r->env). */
static int open_env(void *arg)
{
	struct open_ctx *c = arg;
	struct journal_reader *r = c->r;
	char *err = c->err;
	size_t errlen = c->errlen;
	const char *dir = r->dir;
	int rc;
	if ((rc = mdb_env_create(&r->env)) || (rc = mdb_env_set_maxdbs(r->env, 2)) ||
	    (rc = mdb_env_set_assert(r->env, on_lmdb_assert)))
		return fail(err, errlen, lmdb_status(rc), "%s: %s", dir, mdb_strerror(rc));
	rc = mdb_env_open(r->env, dir, MDB_RDONLY, 0600);
	if (rc) {
		int status = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? JOURNAL_E_NOT_JOURNAL : lmdb_status(rc);
		return fail(err, errlen, status, "%s: not an FKS journal: data.mdb: %s", dir, mdb_strerror(rc));
	}
	rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &r->open_txn);
	if (rc == MDB_MAP_RESIZED && !(rc = mdb_env_set_mapsize(r->env, 0)))
		rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &r->open_txn);
	if (rc) {
		r->open_txn = NULL;
		return fail(err, errlen, lmdb_status(rc), "%s: %s", dir, mdb_strerror(rc));
	}
	rc = mdb_dbi_open(r->open_txn, META_DB, 0, &r->meta_dbi);
	if (lmdb_damage(rc) && rc != MDB_INCOMPATIBLE)
		return fail(err, errlen, JOURNAL_E_DAMAGED,
			    "%s: data.mdb is damaged: the main database (root page %" PRIu64 "): %s", dir,
			    r->file.main_root, mdb_strerror(rc));
	if (rc)
		return fail(err, errlen, rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE ? JOURNAL_E_NOT_JOURNAL : lmdb_status(rc),
			    "%s: an LMDB environment without FKS journal metadata: not an FKS journal", dir);
	if ((rc = read_meta(r, r->open_txn, err, errlen)))
		return rc;
	MDB_val v;
	if (meta_get(r->open_txn, r->meta_dbi, "journal_format", &v) == 0)
		locate_map(r, v.mv_data);
	unsigned flags = 0;
	rc = mdb_dbi_open(r->open_txn, EVENTS_DB, 0, &r->events);
	if (!rc)
		rc = mdb_dbi_flags(r->open_txn, r->events, &flags);
	if (rc || !(flags & MDB_INTEGERKEY))
		return fail(err, errlen, lmdb_damage(rc) ? JOURNAL_E_DAMAGED : JOURNAL_E_NOT_JOURNAL,
			    "%s: no events database of the journal format%s%s", dir,
			    lmdb_damage(rc) ? ": data.mdb is damaged: " : ": not an FKS journal",
			    lmdb_damage(rc) ? mdb_strerror(rc) : "");
	/* Committing (not resetting) keeps the database handles for later. */
	rc = mdb_txn_commit(r->open_txn);
	r->open_txn = NULL;
	if (!rc)
		rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &r->txn);
	if (rc)
		r->txn = NULL;
	if (!rc)
		rc = mdb_cursor_open(r->txn, r->events, &r->cur);
	if (rc)
		return fail(err, errlen, lmdb_status(rc), "%s: %s", dir, mdb_strerror(rc));
	r->live = true;
	reader_end(r);
	return JOURNAL_OK;
}

int journal_open_reader(const char *dir, struct journal_reader **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!dir || strlen(dir) >= PATH_MAX - 32)
		return fail(err, errlen, JOURNAL_E_INVALID, "journal directory missing or too long");
	struct stat st;
	if (stat(dir, &st))
		return fail(err, errlen, errno == ENOENT ? JOURNAL_E_NOENT : JOURNAL_E_SYS, "%s: %s", dir,
			    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, errlen, JOURNAL_E_NOT_JOURNAL, "%s: not a directory, so not an FKS journal", dir);
	struct journal_reader *r = calloc(1, sizeof *r);
	if (!r)
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", dir, strerror(ENOMEM));
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	snprintf(r->data_path, sizeof r->data_path, "%s/data.mdb", dir);
	/* LMDB would create lock.mdb before failing on a missing data.mdb:
	 * check first, so a reader never writes into a stranger's directory. */
	int rc = JOURNAL_OK;
	if (stat(r->data_path, &st))
		rc = fail(err, errlen, errno == ENOENT ? JOURNAL_E_NOT_JOURNAL : JOURNAL_E_SYS,
			  "%s: not an FKS journal (no data.mdb)", dir);
	else if (!(rc = check_data_file(dir, r->data_path, &r->file, err, errlen))) {
		r->file_bytes = r->file.pages * r->file.psize;
		struct open_ctx c = { r, err, errlen };
		struct trap_report rep;
		rc = run_trapped(open_env, &c, &rep);
		if (rc == JOURNAL_E_DAMAGED && rep.sig) {
			reader_trapped(r, &rep);
			fail(err, errlen, rc, "%s (while opening)", r->err);
		}
	}
	if (rc == JOURNAL_OK) {
		*out = r;
		return JOURNAL_OK;
	}
	r->live = false;
	journal_reader_close(r);
	return rc;
}

const struct journal_meta *journal_reader_meta(const struct journal_reader *r) { return &r->meta; }

const char *journal_reader_error(const struct journal_reader *r) { return r->err; }

void journal_reader_close(struct journal_reader *r)
{
	if (!r)
		return;
	if (r->cur)
		mdb_cursor_close(r->cur);
	if (r->open_txn)
		mdb_txn_abort(r->open_txn);
	if (r->txn)
		mdb_txn_abort(r->txn);
	if (r->env)
		mdb_env_close(r->env);
	free(r);
}

void journal_seek(struct journal_reader *r, uint64_t seq)
{
	reader_end(r);
	r->next_seq = seq;
}

static int cursor_failed(struct journal_reader *r, int rc, const char *what)
{
	char where[48];
	reader_end(r);
	if (!lmdb_damage(rc))
		return fail(r->err, sizeof r->err, lmdb_status(rc), "%s: %s: %s", r->dir, what, mdb_strerror(rc));
	reader_position(r, where, sizeof where);
	r->damaged = true;
	return fail(r->err, sizeof r->err, JOURNAL_E_DAMAGED, "%s: data.mdb is damaged: %s, %s: %s", r->dir, what,
		    where, mdb_strerror(rc));
}

/* The key at the cursor, or JOURNAL_E_CORRUPT when it is not 8 bytes. */
static int key_seq(struct journal_reader *r, const MDB_val *k, uint64_t *seq)
{
	if (k->mv_size != sizeof *seq)
		return fail(r->err, sizeof r->err, JOURNAL_E_CORRUPT, "%s: after seq %" PRIu64 ": a key of %zu bytes",
			    r->dir, r->next_seq ? r->next_seq - 1 : 0, k->mv_size);
	memcpy(seq, k->mv_data, sizeof *seq);
	return JOURNAL_OK;
}

struct bounds_ctx {
	struct journal_reader *r;
	uint64_t *first, *last;
};

static int bounds_body(void *arg)
{
	struct bounds_ctx *c = arg;
	struct journal_reader *r = c->r;
	uint64_t *first = c->first, *last = c->last;
	MDB_val k, v;
	*first = *last = 0;
	reader_end(r);
	int rc = reader_begin(r);
	if (rc)
		return rc;
	rc = mdb_cursor_get(r->cur, &k, &v, MDB_FIRST);
	if (rc == MDB_NOTFOUND) {
		reader_end(r);
		return JOURNAL_OK;
	}
	if (rc)
		return cursor_failed(r, rc, "reading the first key");
	if ((rc = key_seq(r, &k, first)))
		goto out;
	if ((rc = mdb_cursor_get(r->cur, &k, &v, MDB_LAST)))
		return cursor_failed(r, rc, "reading the last key");
	rc = key_seq(r, &k, last);
out:
	reader_end(r);
	return rc;
}

int journal_bounds(struct journal_reader *r, uint64_t *first, uint64_t *last)
{
	*first = *last = 0;
	struct bounds_ctx c = { r, first, last };
	return reader_call(r, bounds_body, &c);
}

struct seek_last_ctx {
	struct journal_reader *r;
	uint64_t n;
	bool (*match)(const struct journal_record *rec, void *ctx);
	void *ctx;
};

static int seek_last_body(void *arg)
{
	struct seek_last_ctx *c = arg;
	struct journal_reader *r = c->r;
	uint64_t n = c->n;
	bool (*match)(const struct journal_record *, void *) = c->match;
	void *ctx = c->ctx;
	MDB_val k, v;
	struct journal_record rec;
	char why[128];
	uint64_t seq = 0, target = 0, count = 0, last = 0;
	reader_end(r);
	int rc = reader_begin(r);
	if (rc)
		return rc;
	rc = mdb_cursor_get(r->cur, &k, &v, MDB_LAST);
	if (rc == 0 && key_seq(r, &k, &last))
		rc = MDB_NOTFOUND; /* a damaged last key: start from the front */
	while (rc == 0 && count < n) {
		if (span_in_file(r, &v) && key_seq(r, &k, &seq) == JOURNAL_OK &&
		    journal_decode(v.mv_data, v.mv_size, &rec, why, sizeof why) == 0) {
			rec.seq = seq;
			if (!match || match(&rec, ctx)) {
				count++;
				target = seq;
			}
		}
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_PREV);
	}
	if (rc && rc != MDB_NOTFOUND)
		return cursor_failed(r, rc, "scanning back from the end");
	reader_end(r);
	if (n == 0)
		r->next_seq = last + 1;
	else
		r->next_seq = count == n ? target : 0;
	return JOURNAL_OK;
}

int journal_seek_last(struct journal_reader *r, uint64_t n,
		      bool (*match)(const struct journal_record *rec, void *ctx), void *ctx)
{
	struct seek_last_ctx c = { r, n, match, ctx };
	return reader_call(r, seek_last_body, &c);
}

struct read_ctx {
	struct journal_reader *r;
	struct journal_record *rec;
};

static int read_body(void *arg)
{
	struct read_ctx *c = arg;
	struct journal_reader *r = c->r;
	struct journal_record *rec = c->rec;
	MDB_val k, v;
	int rc;
	if (r->live && r->in_snapshot >= READ_CHUNK)
		reader_end(r);
	if (!r->live) {
		if ((rc = reader_begin(r)))
			return rc;
		uint64_t want = r->next_seq;
		k.mv_size = sizeof want;
		k.mv_data = &want;
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_RANGE);
	} else {
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND) {
		reader_end(r); /* never hold a snapshot while the caller waits */
		return 0;
	}
	if (rc)
		return cursor_failed(r, rc, "reading");
	r->in_snapshot++;
	if (!span_in_file(r, &k) || !span_in_file(r, &v)) {
		char where[48];
		reader_position(r, where, sizeof where);
		reader_end(r);
		r->damaged = true;
		return fail(r->err, sizeof r->err, JOURNAL_E_DAMAGED,
			    "%s: data.mdb is damaged: the record %s lies outside the file's pages", r->dir, where);
	}
	uint64_t seq = 0;
	if ((rc = key_seq(r, &k, &seq))) {
		rec->seq = r->next_seq++;
		return rc;
	}
	rec->seq = seq;
	r->next_seq = seq + 1;
	char why[200];
	if ((rc = journal_decode(v.mv_data, v.mv_size, rec, why, sizeof why)))
		return fail(r->err, sizeof r->err, rc, "%s: seq %" PRIu64 ": %s", r->dir, seq, why);
	return 1;
}

int journal_read(struct journal_reader *r, struct journal_record *rec)
{
	struct read_ctx c = { r, rec };
	return reader_call(r, read_body, &c);
}

struct disk_ctx {
	struct journal_reader *r;
	struct journal_disk *out;
};

static int disk_usage_body(void *arg)
{
	struct journal_reader *r = ((struct disk_ctx *)arg)->r;
	struct journal_disk *out = ((struct disk_ctx *)arg)->out;
	char data[PATH_MAX + 32];
	snprintf(data, sizeof data, "%s/data.mdb", r->dir);
	struct stat st;
	if (stat(data, &st))
		return fail(r->err, sizeof r->err, JOURNAL_E_SYS, "%s: %s", data, strerror(errno));
	out->data_bytes = (uint64_t)st.st_size;
	out->allocated_bytes = (uint64_t)st.st_blocks * 512u;
	reader_end(r);
	int rc = reader_begin(r);
	if (rc)
		return rc;
	MDB_envinfo info;
	MDB_stat est, dst;
	mdb_env_info(r->env, &info);
	mdb_env_stat(r->env, &est);
	rc = mdb_stat(r->txn, r->events, &dst);
	reader_end(r);
	if (rc)
		return fail(r->err, sizeof r->err, lmdb_status(rc), "%s: %s", r->dir, mdb_strerror(rc));
	out->map_bytes = info.me_mapsize;
	out->pages_used = info.me_last_pgno + 1;
	out->page_size = est.ms_psize;
	out->entries = dst.ms_entries;
	return JOURNAL_OK;
}

int journal_disk_usage(struct journal_reader *r, struct journal_disk *out)
{
	memset(out, 0, sizeof *out);
	struct disk_ctx c = { r, out };
	return reader_call(r, disk_usage_body, &c);
}

struct end_ctx {
	struct journal_reader *r;
	struct journal_end *out;
};

static int reader_end_body(void *arg)
{
	struct journal_reader *r = ((struct end_ctx *)arg)->r;
	struct journal_end *out = ((struct end_ctx *)arg)->out;
	reader_end(r);
	int rc = reader_begin(r);
	if (rc)
		return rc;
	MDB_val how, last;
	rc = meta_get(r->txn, r->meta_dbi, "end", &how);
	if (!rc)
		rc = meta_get(r->txn, r->meta_dbi, "end_seq", &last);
	if (rc == MDB_NOTFOUND) {
		reader_end(r);
		return JOURNAL_OK;
	}
	if (rc) {
		reader_end(r);
		return fail(r->err, sizeof r->err, lmdb_damage(rc) ? JOURNAL_E_DAMAGED : lmdb_status(rc),
			    "%s: reading how the part ended: %s", r->dir, mdb_strerror(rc));
	}
	bool rotated = how.mv_size == 7 && !memcmp(how.mv_data, "rotated", 7);
	bool closed = how.mv_size == 6 && !memcmp(how.mv_data, "closed", 6);
	bool ok = parse_u64_text(&last, &out->end_seq);
	reader_end(r);
	if (!ok || (!rotated && !closed))
		return fail(r->err, sizeof r->err, JOURNAL_E_META, "%s: metadata 'end' or 'end_seq' is malformed", r->dir);
	out->ended = true;
	out->rotated = rotated;
	return JOURNAL_OK;
}

int journal_reader_end(struct journal_reader *r, struct journal_end *out)
{
	memset(out, 0, sizeof *out);
	struct end_ctx c = { r, out };
	return reader_call(r, reader_end_body, &c);
}

/* ---- rotation ------------------------------------------------------------ */

/* Is a writer holding dir's writer.lock?  Returns JOURNAL_OK when not. */
static int check_not_locked(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", dir, LOCK_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? JOURNAL_OK : fail(err, errlen, JOURNAL_E_SYS, "%s: %s", path, strerror(errno));
	int rc = JOURNAL_OK;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[24] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		rc = fail(err, errlen, errno == EWOULDBLOCK ? JOURNAL_E_LOCKED : JOURNAL_E_SYS,
			  "%s: a running process%s%s%s is writing this journal", dir, pid[0] ? " (pid " : "", pid,
			  pid[0] ? ")" : "");
	}
	close(fd); /* drops the probe's lock, if it got one */
	return rc;
}

int journal_writer_pid(const char *dir)
{
	char path[PATH_MAX + 32], text[24] = "";
	snprintf(path, sizeof path, "%s/%s", dir, LOCK_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	long pid = strtol(text, NULL, 10);
	return pid > 0 && pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM) ? (int)pid : 0;
}

static bool has_writer_lock(const char *dir)
{
	char path[PATH_MAX + 32];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, LOCK_FILE);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* "j/" names the same journal as "j"; the moved name is "j.<stamp>". */
static void strip_slashes(const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "%s", dir);
	for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
		out[n - 1] = 0;
}

static void run_stamp(int64_t start_ns, char *out, size_t cap)
{
	time_t secs = (time_t)(start_ns / 1000000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(out, cap, "%Y%m%dT%H%M%SZ", &tm);
}

bool journal_part_path(const char *dir, int64_t start_ns, uint32_t part, char *out, size_t cap)
{
	char base[PATH_MAX], stamp[32];
	strip_slashes(dir, base, sizeof base);
	run_stamp(start_ns, stamp, sizeof stamp);
	int n = snprintf(out, cap, "%s.%s.p%06" PRIu32, base, stamp, part);
	return n > 0 && (size_t)n < cap;
}

int journal_rotate(const char *dir, char *moved_to, size_t cap, char *err, size_t errlen)
{
	if (cap)
		moved_to[0] = 0;
	if (err && errlen)
		err[0] = 0;
	struct stat st;
	if (!dir || !dir[0] || strlen(dir) >= PATH_MAX - 64)
		return fail(err, errlen, JOURNAL_E_INVALID, "journal directory missing or too long");
	if (stat(dir, &st))
		return errno == ENOENT ? JOURNAL_OK : fail(err, errlen, JOURNAL_E_SYS, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, errlen, JOURNAL_E_NOT_JOURNAL,
			    "%s exists and is not a directory: refusing to put a journal there", dir);
	if (dir_is_empty(dir))
		return JOURNAL_OK;
	int rc = check_not_locked(dir, err, errlen);
	if (rc)
		return rc;

	int64_t start_ns = 0;
	uint32_t part = 1;
	struct journal_reader *r;
	char rerr[512];
	rc = journal_open_reader(dir, &r, rerr, sizeof rerr);
	if (rc == JOURNAL_OK) {
		start_ns = journal_reader_meta(r)->start_time_ns;
		part = journal_reader_meta(r)->part;
		journal_reader_close(r);
	} else if (rc == JOURNAL_E_VERSION || rc == JOURNAL_E_META || (rc == JOURNAL_E_DAMAGED && has_writer_lock(dir))) {
		/* A damaged journal (a crash, a bad disk) is still a journal this
		 * code wrote, as its writer.lock says: keep it, aside, for study. */
		char data[PATH_MAX + 32];
		snprintf(data, sizeof data, "%s/data.mdb", dir);
		if (stat(data, &st) == 0)
			start_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	} else {
		return fail(err, errlen, rc == JOURNAL_E_NOT_JOURNAL ? JOURNAL_E_NOT_JOURNAL : rc,
			    "%s holds something that is not an FKS journal (%s): refusing to move or overwrite it; "
			    "remove it or choose another journal path", dir, rerr);
	}
	/* The last part of a rotated run goes after its rotated parts; a run
	 * that never rotated keeps the plain "<dir>.<stamp>". */
	char base[PATH_MAX], name[PATH_MAX + 64];
	strip_slashes(dir, base, sizeof base);
	if (part > 1)
		journal_part_path(dir, start_ns, part, name, sizeof name);
	else {
		char stamp[32];
		run_stamp(start_ns, stamp, sizeof stamp);
		snprintf(name, sizeof name, "%s.%s", base, stamp);
	}
	char target[PATH_MAX + 80];
	for (int k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(target, sizeof target, "%s", name);
		else
			snprintf(target, sizeof target, "%s-%d", name, k);
		if (lstat(target, &st) == 0)
			continue;
		if (rename(base, target) != 0)
			return fail(err, errlen, JOURNAL_E_SYS, "cannot move %s to %s: %s", base, target, strerror(errno));
		snprintf(moved_to, cap, "%s", target);
		return JOURNAL_OK;
	}
	return fail(err, errlen, JOURNAL_E_SYS, "%s: no free name of the form %s-N", dir, name);
}

/* ---- rotation while writing, and retention -------------------------------- */

int journal_next_part(struct journal **jp, struct journal_meta *meta, const struct journal_options *opt,
		      char *moved_to, size_t cap, char *err, size_t errlen)
{
	struct journal *j = *jp;
	char dir[PATH_MAX], target[PATH_MAX + 64];
	if (cap)
		moved_to[0] = 0;
	snprintf(dir, sizeof dir, "%s", j->dir);
	uint32_t part = j->part;
	uint64_t end_seq = 0;
	int rc = j->failed ? JOURNAL_E_FAILED : journal_drain(j);
	if (!rc) {
		end_seq = j->appended_seq;
		rc = end_part(j, "rotated");
	}
	if (!rc)
		rc = journal_sync(j);
	if (rc)
		fail(err, errlen, rc, "%s: ending part %" PRIu32 " for rotation: %s", dir, part, j->err);
	journal_free(j);
	*jp = NULL;
	if (rc)
		return rc;
	if (!journal_part_path(dir, meta->start_time_ns, part, target, sizeof target))
		return fail(err, errlen, JOURNAL_E_INVALID, "%s: the rotated part's name is too long", dir);
	struct stat st;
	/* Two runs that started in the same second, rotating into one name:
	 * never overwrite a journal. */
	if (lstat(target, &st) == 0)
		return fail(err, errlen, JOURNAL_E_EXISTS, "%s: cannot rotate part %" PRIu32 ": %s already exists", dir,
			    part, target);
	if (rename(dir, target))
		return fail(err, errlen, JOURNAL_E_SYS, "cannot move %s to %s: %s", dir, target, strerror(errno));
	snprintf(moved_to, cap, "%s", target);
	meta->first_seq = end_seq + 1;
	meta->part = part + 1;
	meta->part_start_ns = 0;
	return journal_create(dir, meta, opt, jp, err, errlen);
}

/* Delete one rotated part: only its journal files, only with no writer. */
static int remove_part(const char *path, char *err, size_t errlen)
{
	int rc = check_not_locked(path, err, errlen);
	if (rc)
		return rc;
	DIR *d = opendir(path);
	if (!d)
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", path, strerror(errno));
	static const char *const files[] = { "data.mdb", "lock.mdb", LOCK_FILE };
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, files[0]) || !strcmp(n, files[1]) ||
		    !strcmp(n, files[2]))
			continue;
		/* The name lives in d's buffer: format before closing it. */
		rc = fail(err, errlen, JOURNAL_E_NOT_JOURNAL,
			  "%s: holds '%s', which is not a journal file: not deleting it (retention)", path, n);
		closedir(d);
		return rc;
	}
	closedir(d);
	char f[PATH_MAX + 128];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(f, sizeof f, "%s/%s", path, files[i]);
		if (unlink(f) && errno != ENOENT)
			return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", f, strerror(errno));
	}
	if (rmdir(path))
		return fail(err, errlen, JOURNAL_E_SYS, "%s: %s", path, strerror(errno));
	return JOURNAL_OK;
}

int journal_retain(const char *dir, int64_t start_ns, uint32_t current, uint32_t keep, unsigned *removed,
		   char *err, size_t errlen)
{
	*removed = 0;
	if (!keep || current <= keep + 1)
		return JOURNAL_OK;
	char path[PATH_MAX + 64];
	struct stat st;
	/* Each rotation removes what fell out of the window, so the first part
	 * already gone marks where earlier rotations stopped. */
	for (uint32_t p = current - keep - 1; p >= 1; p--) {
		if (!journal_part_path(dir, start_ns, p, path, sizeof path))
			return fail(err, errlen, JOURNAL_E_INVALID, "%s: a part's name is too long", dir);
		if (lstat(path, &st) && errno == ENOENT)
			break;
		int rc = remove_part(path, err, errlen);
		if (rc)
			return rc;
		++*removed;
	}
	return JOURNAL_OK;
}
