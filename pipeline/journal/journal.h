/*
 * The event journal: an append-only LMDB environment that records every
 * event of a run, with the run's metadata, so that a journal alone is enough
 * to tail, verify, export and replay the run.
 *
 * A journal is a directory:
 *
 *     data.mdb, lock.mdb   the LMDB environment
 *     writer.lock          flock()ed by the one writer for its whole life;
 *                          holds the writer's pid, for error messages
 *
 * and two named databases inside the environment:
 *
 *   "events"  key:   the global sequence number, 1, 2, 3, ... with no gaps,
 *                    as a native (little-endian) uint64 in a MDB_INTEGERKEY
 *                    database.  Integer keys let LMDB compare them as
 *                    integers, and the event bytes are host-order x86-64
 *                    anyway, so big-endian keys would buy no portability.
 *                    Every key is written with MDB_APPEND.
 *             value: [0, E)        the event exactly as given, E =
 *                                  fks_event_size(type): 64 or 128 bytes
 *                    and, only when the record has a payload:
 *                    [E, E+8)      struct journal_payload_hdr {len, magic}
 *                    [E+8, E+8+len) the payload, len >= 1
 *                    So a value is exactly E bytes, or exactly E + 8 + len
 *                    bytes with the magic in place; anything else is
 *                    corrupt (JOURNAL_E_CORRUPT).  Values are not aligned
 *                    in LMDB's pages: readers copy the event out.
 *
 *   "meta"    text keys, written once, in the transaction that creates the
 *             journal: "journal_format" and "event_layout" (decimal),
 *             "fks_version", "host", "start_time_ns" (decimal, epoch ns),
 *             "sync" (the writer's sync mode), "config" (the YAML text, may
 *             be empty) and "symbols" (an array of struct journal_symbol);
 *             and, for rotation (absent in older journals, read as 1, 1 and
 *             start_time_ns): "first_seq" (the key of the part's first
 *             event), "part" (1, 2, 3, ... within the run) and
 *             "part_start_ns" (when the part was created).  Two keys are
 *             added when the writer ends the part, in its last
 *             transaction: "end_seq" (its last key; first_seq - 1 when it
 *             holds none) and "end", "rotated" (the run goes on in part +
 *             1) or "closed" (the run ended).  A part without them was not
 *             closed by its writer: it is being written, or its writer died.
 *
 * Rotation: a run's journal is a chain of parts, each a complete journal
 * of its own.  The part being written is always at `dir`; a rotated part is
 * moved to "<dir>.<run start, UTC, YYYYMMDDTHHMMSSZ>.p<part, 6 digits>"
 * (journal_part_path), so the names of a run's parts sort in time order
 * after the run's start, and keys run on across parts with no gap: part
 * k + 1 starts at part k's end_seq + 1.
 *
 * One writer (the journal stage) appends; any number of readers, in other
 * processes, read concurrently and never block it.  Do not open a journal
 * twice in one process (a writer and a reader, or two readers): LMDB's
 * fcntl locks are per process, so closing one handle breaks the other's.
 * A handle is for the process that opened it, not for a fork() child.
 *
 * Errors: every function returns JOURNAL_OK (0) or a negative enum
 * journal_status; a handle keeps a message naming the journal and what is
 * wrong (journal_error, journal_reader_error); the open functions write it
 * into err.  Nothing here prints, exits or aborts on bad input.
 */
#ifndef FKS_PIPELINE_JOURNAL_H
#define FKS_PIPELINE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/event.h"

/* The on-disk format of this file's layer (keys, value framing, metadata).
 * A journal records it next to FKS_EVENT_LAYOUT_VERSION; a reader refuses a
 * journal whose either number differs from its own (JOURNAL_E_VERSION). */
#define JOURNAL_FORMAT_VERSION 1u

#define JOURNAL_PAYLOAD_MAGIC 0x444c5950u   /* "PYLD" in a little-endian dump */
#define JOURNAL_PAYLOAD_MAX (1u << 20)      /* bytes of payload per record */
#define JOURNAL_SYMBOLS_MAX 1024
#define JOURNAL_VERSION_TEXT_MAX 64
#define JOURNAL_HOST_MAX 256
#define JOURNAL_DEFAULT_MAP_SIZE ((size_t)1 << 30) /* address space, not disk */
#define JOURNAL_DEFAULT_DIR "fks-journal"   /* as journal.path in the config */

/* Between the event and its payload, only in records that have one. */
struct journal_payload_hdr {
	uint32_t len;                /* payload bytes that follow, >= 1 */
	uint32_t magic;              /* JOURNAL_PAYLOAD_MAGIC */
};
_Static_assert(sizeof(struct journal_payload_hdr) == 8, "journal_payload_hdr is on disk: 8 bytes");

enum journal_status {
	JOURNAL_OK = 0,
	JOURNAL_E_SYS = -1,         /* a system call failed; errno text in the message */
	JOURNAL_E_NOENT = -2,       /* the directory does not exist */
	JOURNAL_E_NOT_JOURNAL = -3, /* a directory, but not an FKS journal */
	JOURNAL_E_EXISTS = -4,      /* create: the directory already holds a journal */
	JOURNAL_E_LOCKED = -5,      /* create: another process is writing it */
	JOURNAL_E_VERSION = -6,     /* written with another journal format or event layout */
	JOURNAL_E_META = -7,        /* run metadata missing or malformed */
	JOURNAL_E_CORRUPT = -8,     /* a record does not decode */
	JOURNAL_E_LMDB = -9,        /* LMDB failed; its message is in ours */
	JOURNAL_E_INVALID = -10,    /* a bad argument: unknown event type, payload too large */
	JOURNAL_E_FAILED = -11,     /* an earlier commit failed; the writer is unusable */
	JOURNAL_E_DAMAGED = -12,    /* data.mdb's structure is damaged (truncated, a bad
				       meta or B-tree page): the message names the page
				       or the last good key; reading cannot go on */
};

/* A short static description of a status; never NULL. */
const char *journal_strerror(int status);

/* ---- run metadata ------------------------------------------------------ */

/* One instrument of the symbol table; stored as is in "symbols". */
struct journal_symbol {
	uint32_t id;                 /* the events' h.instrument */
	char symbol[FKS_SYMBOL_MAX]; /* 1..15 chars, NUL-terminated and -padded */
	uint8_t px_scale;            /* decimal places of its prices, <= FX_MAX_SCALE */
	uint8_t qty_scale;           /* and of its quantities */
	uint8_t pad[10];             /* zero */
};
_Static_assert(sizeof(struct journal_symbol) == 32, "journal_symbol is on disk: 32 bytes");

/* How a commit reaches the disk (journal.sync in the config; see below). */
enum fks_journal_sync {
	FKS_SYNC_DURABLE = 1,
	FKS_SYNC_NOMETASYNC = 2,
	FKS_SYNC_ASYNC = 3,
};

/* The largest config text a journal keeps (pipeline/config refuses larger). */
#define JOURNAL_CONFIG_MAX (64 * 1024)

/* Plain data, large (about 100 KiB): keep it off small stacks. */
struct journal_meta {
	uint32_t journal_format;     /* filled in by readers; create writes its own */
	uint32_t event_layout;       /* FKS_EVENT_LAYOUT_VERSION of the writer, likewise */
	char fks_version[JOURNAL_VERSION_TEXT_MAX];
	char host[JOURNAL_HOST_MAX]; /* "" at create: gethostname() */
	int64_t start_time_ns;       /* epoch ns; 0 at create: now */
	enum fks_journal_sync sync;  /* filled in by readers; create records its option */
	uint64_t first_seq;          /* the part's first key; 0 at create: 1 */
	uint32_t part;               /* the part's number in its run; 0 at create: 1 */
	int64_t part_start_ns;       /* epoch ns; 0 at create: now */
	uint32_t n_symbols;
	struct journal_symbol symbol[JOURNAL_SYMBOLS_MAX];
	size_t config_len;
	char config[JOURNAL_CONFIG_MAX + 1]; /* NUL-terminated */
};

/* The symbol-table entry with this id, or NULL. */
const struct journal_symbol *journal_meta_symbol(const struct journal_meta *meta, uint32_t id);

/* "durable", "nometasync", "async", or "?" */
const char *journal_sync_name(enum fks_journal_sync sync);

/* ---- writing ----------------------------------------------------------- */

/*
 * Sync modes and what a crash can take.  "Committed" means: journal_commit
 * (durable, nometasync) returned JOURNAL_OK, or journal_committed_seq()
 * (async) has reached the event.  Readers see a batch once it is committed.
 *
 * In every mode a journal stays valid after a crash: keys dense from 1,
 * every record intact, ending exactly at the boundary of a committed batch.
 * A commit cut short by the crash is invisible, because LMDB writes the meta
 * page that publishes a transaction only after its data pages.
 *
 * Process crash (SIGKILL, segfault; the kernel lives on), every mode:
 *   every committed event survives, since the written pages are in the page
 *   cache, which the kernel writes back whoever dies.  Lost: the events
 *   appended but not committed (still in this process's buffers).
 *
 * OS crash or power loss (assuming the disk honours flushes):
 *   FKS_SYNC_DURABLE (the default; LMDB flags 0): journal_commit returns
 *     after fdatasync() of the data pages and a synchronous (O_DSYNC) write
 *     of the meta page.  Lost: only what was not committed.
 *   FKS_SYNC_NOMETASYNC (MDB_NOMETASYNC): one fdatasync() per commit instead
 *     of two; the meta page is written but not flushed, and becomes durable
 *     with the next commit's flush, journal_sync(), journal_close() or the
 *     kernel's own writeback.  Lost: at most the last committed batch (LMDB:
 *     "a system crash may undo the last committed transaction"); the data of
 *     every published meta page was flushed before it, so never corruption.
 *   FKS_SYNC_ASYNC: journal_commit does not wait.  It hands the batch to a
 *     committer thread that commits it exactly as durable mode does, while
 *     the caller goes on appending; journal_committed_seq() advances when a
 *     batch is on disk.  Lost: what was not yet committed - the batch in
 *     flight and the one filling; nothing committed, and never corruption.
 *
 * Flag combinations deliberately not used:
 *   MDB_NOSYNC: LMDB documents that a system crash "can corrupt the
 *     database" unless the filesystem preserves write order.  ext4 and XFS
 *     write dirty pages back in no particular order, so the meta page can
 *     reach the disk before the pages it points to.  That is why async mode
 *     moves the flush off the caller's thread instead of skipping it.
 *   MDB_WRITEMAP (with or without MDB_MAPASYNC): the same reordering through
 *     msync, and a stray pointer write lands in the database.
 *   MDB_NOLOCK: readers in other processes would be invisible to the
 *     writer, which would recycle pages under them.
 */
struct journal_options {
	enum fks_journal_sync sync; /* 0: FKS_SYNC_DURABLE */
	size_t initial_map_size;    /* bytes; 0: JOURNAL_DEFAULT_MAP_SIZE.  The map
				       doubles on MDB_MAP_FULL, so tests may
				       start it tiny (64 KiB). */
	size_t batch_hint;          /* events per batch to allocate for up front; 0: 4096 */
};

struct journal;

/*
 * Create the journal `dir` (the directory itself is created if missing,
 * mode 0700; its parent must exist) and open it for appending.
 *
 * Refused, each with its own status and message:
 *   JOURNAL_E_LOCKED       another process writes this journal (its pid is named)
 *   JOURNAL_E_EXISTS       the directory already holds a journal: a journal
 *                          is one run, so appending a second run to it would
 *                          mix two symbol tables and restart every per-source
 *                          sequence; use another directory or remove it
 *   JOURNAL_E_NOT_JOURNAL  the directory holds other files, or a foreign
 *                          LMDB database
 *   JOURNAL_E_INVALID      meta is malformed (a symbol not 1..15 chars, a
 *                          scale above FX_MAX_SCALE, too many symbols, ...)
 *
 * The metadata is committed, durably, before this returns; journal_format,
 * event_layout and sync are filled in here whatever meta says, and host and
 * start_time_ns when they are empty.  The lock on writer.lock is held until
 * journal_close; a fork() child shares it until the child exits or execs.
 */
int journal_create(const char *dir, const struct journal_meta *meta,
		   const struct journal_options *opt, struct journal **out,
		   char *err, size_t errlen);

/*
 * Append one event, and optionally a payload (payload_len 0: none), to the
 * current batch, and give it the next sequence number.  The bytes are
 * copied, so the caller may reuse ev and payload at once.  Nothing reaches
 * LMDB until journal_commit; nothing is allocated unless this batch is the
 * largest so far (the buffer doubles, and is kept).
 *
 * JOURNAL_E_INVALID: ev's type is unknown (nothing is appended, no sequence
 * number is used), or payload_len > JOURNAL_PAYLOAD_MAX.
 */
int journal_append(struct journal *j, const union fks_event *ev,
		   const void *payload, size_t payload_len);

/*
 * End the current batch and commit it: one LMDB write transaction, every
 * key with MDB_APPEND.  The caller chooses batch boundaries (N events or T
 * microseconds); a commit with nothing pending does nothing.
 *
 * On MDB_MAP_FULL the transaction is aborted, the map doubled and the whole
 * batch written again from this handle's buffer, as often as needed, so a
 * growing journal loses nothing.
 *
 * durable, nometasync: returns when the batch is committed (see the modes).
 * async: returns at once.  If the committer is idle it takes the batch;
 *   if it is busy the events stay pending and join the next batch it takes,
 *   so call journal_commit again (on the T timer) while journal_pending() is
 *   not 0.  It blocks only when 64 MiB are pending behind a busy committer:
 *   back-pressure, never a drop.
 *
 * Failure (the disk is full, an I/O error): the batch is not committed and
 * the journal ends at the previous batch.  The handle is then unusable
 * (JOURNAL_E_FAILED from here on); close it.
 */
int journal_commit(struct journal *j);

/* Commit everything appended so far and wait until it is committed (in
 * durable and nometasync the same as journal_commit). */
int journal_drain(struct journal *j);

/* Flush the last commit to disk now.  Only nometasync has anything to flush:
 * its last meta page.  The other modes return JOURNAL_OK at once. */
int journal_sync(struct journal *j);

/* The last sequence number that is committed (0: none yet).  Thread-safe. */
uint64_t journal_committed_seq(const struct journal *j);
/* The last sequence number journal_append handed out (0: none yet). */
uint64_t journal_appended_seq(const struct journal *j);
/* Events appended but not yet committed (in async: in flight included). */
uint64_t journal_pending(const struct journal *j);
/* The current map size in bytes, and how many times it has grown. */
size_t journal_map_size(const struct journal *j);
unsigned journal_map_grows(const struct journal *j);
const char *journal_error(const struct journal *j);

/* Commit what is pending (journal_drain), end the part (meta "end" =
 * "closed"), flush it (journal_sync), stop the
 * committer, release the lock and free everything.  Returns the first error
 * of the drain, or JOURNAL_OK; the handle is gone either way. */
int journal_close(struct journal *j);

/*
 * Make room for a new run's journal at `dir`: if it holds a journal, rename
 * it to "<dir>.<its start time, UTC, YYYYMMDDTHHMMSSZ>" (with "-2", "-3"
 * ... if that name is taken) and write the new name into moved_to; if there
 * is nothing at dir, or an empty directory, do nothing (moved_to "").  So
 * `dir` always names the latest run's journal and no run ever overwrites
 * another's.
 *
 * Refused: JOURNAL_E_LOCKED (a live writer; its pid is named),
 * JOURNAL_E_NOT_JOURNAL (dir holds something else: never moved or touched).
 * A journal of another layout version is still moved, dated by data.mdb's
 * modification time, and so is a damaged one (JOURNAL_E_DAMAGED: truncated,
 * a bad page) when its writer.lock shows that a journal writer made it.
 */
int journal_rotate(const char *dir, char *moved_to, size_t cap, char *err, size_t errlen);

/* Where part `part` of the run that started at start_ns goes when it is
 * rotated: "<dir>.<YYYYMMDDTHHMMSSZ>.p<part, 6 digits>" (trailing slashes of
 * dir dropped).  Returns false when it does not fit in cap. */
bool journal_part_path(const char *dir, int64_t start_ns, uint32_t part, char *out, size_t cap);

/*
 * Rotation while writing: commit everything appended (journal_drain), end
 * the part (meta "end" = "rotated", "end_seq"), close it, move it to
 * journal_part_path(dir, meta->start_time_ns, its part) and create the next
 * part at dir with the same metadata, first_seq = end_seq + 1 and part + 1
 * (meta is updated to say so; part_start_ns is set to now).  *jp is the new
 * part's handle on success.  On failure *jp is NULL (nothing is lost that
 * was committed: the old part ends where it ended) and the message says
 * which step failed; moved_to is the rotated part's path once it moved.
 */
int journal_next_part(struct journal **jp, struct journal_meta *meta, const struct journal_options *opt,
		      char *moved_to, size_t cap, char *err, size_t errlen);

/* The pid written in dir's writer.lock when that process still exists, else
 * 0.  Read without taking the lock, so a reader never races a writer that
 * is creating the journal; a hint for listings, not a liveness proof. */
int journal_writer_pid(const char *dir);

/* The size of the writer's data.mdb now (fstat), for rotation by size. */
uint64_t journal_data_bytes(const struct journal *j);

/*
 * Retention: delete the rotated parts of the run that started at start_ns
 * beyond the `keep` newest ones, given that part `current` is being
 * written at dir (so parts current - keep - 1, current - keep - 2, ... go,
 * down to the first one already gone).  keep 0: delete nothing.  Only a
 * journal directory that no writer holds is removed, and only its journal
 * files: anything else in it is an error naming it.  *removed counts the
 * parts deleted.
 */
int journal_retain(const char *dir, int64_t start_ns, uint32_t current, uint32_t keep, unsigned *removed,
		   char *err, size_t errlen);

/* ---- reading ----------------------------------------------------------- */

/* One record.  ev is a copy (aligned; bytes past ev_size are zero); payload
 * points into the map and stays valid until the next call on the reader. */
struct journal_record {
	uint64_t seq;               /* the key */
	union fks_event ev;
	size_t ev_size;             /* 64 or 128 */
	const void *payload;        /* NULL when none */
	size_t payload_len;
};

/* Decode one stored value.  JOURNAL_E_CORRUPT with the reason in why when
 * its size does not fit its type, the type is unknown, or the payload
 * header is wrong.  rec->seq is left alone. */
int journal_decode(const void *value, size_t len, struct journal_record *rec,
		   char *why, size_t whylen);

struct journal_reader;

/*
 * Open a journal read-only (MDB_RDONLY), while its writer runs or not, and
 * read and check its metadata.  JOURNAL_E_NOENT, JOURNAL_E_NOT_JOURNAL (no
 * data.mdb, not LMDB, no FKS metadata), JOURNAL_E_VERSION (another journal
 * format or event layout: the message names both numbers), JOURNAL_E_META,
 * JOURNAL_E_DAMAGED (data.mdb truncated, not whole pages, or a meta page
 * wrong: checked before LMDB maps the file, the message names the page).
 * Creates nothing in a directory that is not a journal.
 *
 * Every reading function below survives a damaged file: a page LMDB cannot
 * walk is JOURNAL_E_DAMAGED with the page or last good key in the message,
 * never a crash (journal.c, "Damaged files", says how).  After it the
 * reader returns JOURNAL_E_DAMAGED from every call; close it.
 */
int journal_open_reader(const char *dir, struct journal_reader **out, char *err, size_t errlen);

const struct journal_meta *journal_reader_meta(const struct journal_reader *r);

/* The first and last keys committed now (both 0 when empty). */
int journal_bounds(struct journal_reader *r, uint64_t *first, uint64_t *last);

/* The next journal_read returns the first record whose key is >= seq. */
void journal_seek(struct journal_reader *r, uint64_t seq);

/* Seek to the n-th last record for which match (NULL: every record)
 * returns true, or to the first record when fewer match.  Scans backwards
 * from the end; records that do not decode never match. */
int journal_seek_last(struct journal_reader *r, uint64_t n,
		      bool (*match)(const struct journal_record *rec, void *ctx), void *ctx);

/*
 * Read the next record.  Returns 1 with *rec filled; 0 when no further
 * record is committed yet; or an error.  Made for polling: a read
 * transaction is renewed when reading starts and reset when it returns 0
 * (and every 65536 records), so a reader never holds a snapshot while it
 * waits and a long read never pins old pages for long.  After 0, sleep and
 * call again to follow a live journal.  A writer growing the map
 * (MDB_MAP_RESIZED) is followed transparently.
 *
 * JOURNAL_E_CORRUPT: the record with key rec->seq does not decode (the
 * message says why); the reader has moved past it, so the caller may count
 * it and go on.  JOURNAL_E_DAMAGED: the file's structure is broken at
 * this point; nothing further can be read.
 */
int journal_read(struct journal_reader *r, struct journal_record *rec);

struct journal_disk {
	uint64_t data_bytes;        /* data.mdb's size */
	uint64_t allocated_bytes;   /* blocks actually allocated to data.mdb */
	uint64_t map_bytes;         /* the map size the writer last recorded */
	uint64_t pages_used;        /* LMDB pages in use, of page_size bytes */
	uint32_t page_size;
	uint64_t entries;           /* records in "events" */
};

int journal_disk_usage(struct journal_reader *r, struct journal_disk *out);

/* How the part ended, read now (a fresh transaction: a live part may end
 * while it is read).  ended false: its writer has not ended it (it is being
 * written, or its writer died); then the rest is zero. */
struct journal_end {
	bool ended;
	bool rotated;               /* the run goes on in part + 1 */
	uint64_t end_seq;           /* the part's last key */
};
int journal_reader_end(struct journal_reader *r, struct journal_end *out);

const char *journal_reader_error(const struct journal_reader *r);
void journal_reader_close(struct journal_reader *r);

/* ---- the commands (pipeline/journal_cmd.c) ----------------------------- */

/* `fks tail` and `fks journal stats|verify|export|list`; argv[0] is the
 * command's own name, as in pipeline/main.c's tables.  Exit status 0 ok,
 * 1 a problem (with the journal, or found by verify), 2 usage. */
int journal_cmd_tail(int argc, char **argv);
int journal_cmd_stats(int argc, char **argv);
int journal_cmd_verify(int argc, char **argv);
int journal_cmd_export(int argc, char **argv);
int journal_cmd_list(int argc, char **argv);

#endif
