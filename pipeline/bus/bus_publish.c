/*
 * `fks bus publish`: the journal, followed, into JetStream (bus_publish.h
 * says what it guarantees and how).
 *
 * One loop, one thread of ours: open the journal (waiting for it), connect
 * (with back-off), ask the stream where it stands (resync), publish a
 * window of records and wait for its acknowledgements, and, when nothing
 * is new, follow a rotation or a new run as `fks tail -f` does.  Any
 * failure while publishing drops the connection, so that nothing is left
 * in flight, and the next connection starts with a resync.  libnats calls
 * on_ack from its own thread: it only touches the two atomics.
 */
#include "pipeline/bus/bus_publish.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/bus/bus_conn.h"
#include "pipeline/bus/bus_wire.h"
#include "pipeline/cli/journal_common.h"
#include "pipeline/cli/record_print.h"
#include "pipeline/journal/journal.h"

#define CMD "fks bus publish"
#define BACKOFF_MIN_NS 100000000ll
#define BACKOFF_MAX_NS 5000000000ll
#define ACK_WAIT_MS 5000
#define DEFAULT_WINDOW 1024
/* Caught up, the journal is polled every millisecond (tail -f polls every
 * 10 ms for a human): the poll is a short read transaction, about a
 * thousand cheap syscalls a second on the ops core, and it bounds what the
 * bus adds to the commit-to-consumer lag (docs/benchmarks.md, "Bus"). */
#define FOLLOW_POLL_NS 1000000l
#define VALUE_MAX (128 + sizeof(struct journal_payload_hdr) + JOURNAL_PAYLOAD_MAX)

struct publisher {
	const struct bus_publish_opts *o;
	struct bus_publish_stats *st;
	struct bus_conn c;
	int64_t retry_at_ns, backoff_ns;
	bool told_down;                 /* the outage was reported */
	struct journal_reader *r;
	ino_t ino;
	bool end_seen, need_sync;
	uint64_t idle_polls;
	char run[BUS_RUN_MAX];
	char layout[16];                /* FKS_EVENT_LAYOUT_VERSION, as the header says it */
	uint64_t stream_seq;            /* the stream's last sequence, counting ours in flight */
	atomic_bool window_failed;
	atomic_uint_fast64_t duplicates;
	char *value;                    /* one record's journal value */
	struct out json;                /* --json: the tail line, gathered by json_drain */
	char *json_text;
	size_t json_len, json_cap;
	struct fmt fmt;
	int64_t next_report_ns;
};

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	struct publisher *p = closure;
	if (pae)
		atomic_store(&p->window_failed, true);
	else if (pa && pa->Duplicate)
		atomic_fetch_add(&p->duplicates, 1);
	natsMsg_Destroy(msg);
}

static void json_drain(struct fks_sink *s)
{
	struct publisher *p = s->ctx;
	if (p->json_len + s->len > p->json_cap) {
		size_t cap = 2 * (p->json_len + s->len);
		char *t = realloc(p->json_text, cap);
		if (!t) {
			s->len = 0;
			return;
		}
		p->json_text = t;
		p->json_cap = cap;
	}
	memcpy(p->json_text + p->json_len, s->buf, s->len);
	p->json_len += s->len;
	s->len = 0;
}

/* ---- the journal ------------------------------------------------------- */

static int open_journal(struct publisher *p, bool *told)
{
	char err[512];
	int rc = journal_open_reader(p->o->journal_dir, &p->r, err, sizeof err);
	if (rc) {
		if (rc != JOURNAL_E_NOENT && rc != JOURNAL_E_NOT_JOURNAL) {
			fprintf(stderr, "%s: %s\n", CMD, err);
			return -1;
		}
		if (!*told)
			fprintf(stderr, "%s: waiting for a journal at %s (%s)\n", CMD, p->o->journal_dir, err);
		*told = true;
		return 1;
	}
	p->ino = journal_dir_inode(p->o->journal_dir);
	p->fmt = (struct fmt){ .meta = journal_reader_meta(p->r) };
	bus_run_id(p->fmt.meta->start_time_ns, p->run);
	p->end_seen = false;
	p->need_sync = true;
	return 0;
}

/* Position the reader at seq: in the part at dir, or in an earlier part
 * of the run still on disk (the publisher was down across a rotation). */
static void seek_to(struct publisher *p, uint64_t seq)
{
	const struct journal_meta *m = journal_reader_meta(p->r);
	if (seq >= m->first_seq) {
		journal_seek(p->r, seq);
		return;
	}
	char path[PATH_MAX + 80], err[512];
	for (uint32_t part = 1; part < m->part; part++) {
		struct journal_reader *n;
		struct journal_end e;
		if (!journal_part_path(p->o->journal_dir, m->start_time_ns, part, path, sizeof path))
			break;
		if (journal_open_reader(path, &n, err, sizeof err) != JOURNAL_OK)
			continue;
		if (journal_reader_end(n, &e) == JOURNAL_OK && e.ended && e.end_seq >= seq) {
			uint64_t first = journal_reader_meta(n)->first_seq;
			if (first > seq)
				fprintf(stderr, "%s: seq %" PRIu64 "..%" PRIu64 " were in parts deleted (journal.retain) "
					"before they were published\n", CMD, seq, first - 1);
			journal_reader_close(p->r);
			p->r = n;
			p->fmt.meta = journal_reader_meta(n);
			journal_seek(n, first > seq ? first : seq);
			return;
		}
		journal_reader_close(n);
	}
	fprintf(stderr, "%s: seq %" PRIu64 "..%" PRIu64 " are in no part on disk (journal.retain): not published\n",
		CMD, seq, m->first_seq - 1);
	journal_seek(p->r, m->first_seq);
}

/* Nothing new: follow a rotation or a new run (as tail.c does).  Returns
 * 1 when, with until_closed, the run is closed and all of it published. */
static int follow_journal(struct publisher *p)
{
	bool replaced = ++p->idle_polls % 500 == 0 && journal_dir_inode(p->o->journal_dir) != p->ino;
	struct journal_end end;
	if (journal_reader_end(p->r, &end) == JOURNAL_OK && end.ended) {
		/* The end is written after the part's last commit: once a read
		 * that began after seeing it finds nothing, all is read. */
		if (!p->end_seen) {
			p->end_seen = true;
			return 0;
		}
		if (end.rotated) {
			if (journal_follow_rotation(CMD, p->o->journal_dir, &p->r, end.end_seq)) {
				p->fmt.meta = journal_reader_meta(p->r);
				p->ino = journal_dir_inode(p->o->journal_dir);
				p->end_seen = false;
			}
			return 0;
		}
		if (p->o->until_closed)
			return 1;
	}
	if (replaced) {
		fprintf(stderr, "%s: %s was replaced (a new run started): publishing the new run\n", CMD,
			p->o->journal_dir);
		journal_reader_close(p->r);
		p->r = NULL;
	}
	return 0;
}

/* ---- the connection ---------------------------------------------------- */

static void drop_connection(struct publisher *p, const char *why)
{
	if (!p->told_down)
		fprintf(stderr, "%s: %s; retrying with back-off, the lag grows until the bus is back\n", CMD, why);
	p->told_down = true;
	bus_disconnect(&p->c);
	p->st->connected = false;
	p->retry_at_ns = mono_ns() + p->backoff_ns;
	p->backoff_ns = p->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : p->backoff_ns * 2;
}

static bool try_connect(struct publisher *p)
{
	if (mono_ns() < p->retry_at_ns)
		return false;
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 2 * (int64_t)p->o->window;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = p;
	char err[512];
	if (bus_connect(p->o->bus, &jo, false, &p->c, err, sizeof err)) {
		p->st->connect_failures++;
		drop_connection(p, err);
		return false;
	}
	p->st->connects++;
	p->st->connected = true;
	p->need_sync = true;
	return true;
}

/* ---- publishing -------------------------------------------------------- */

/* The last component of dir, as a report's title. */
static void journal_name(const char *dir, char name[BUS_JOURNAL_NAME_MAX])
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	snprintf(name, BUS_JOURNAL_NAME_MAX, "%.*s", (int)(n - start), dir + start);
}

/* The run's metadata, synchronously: it must be in the stream before the
 * run's first event. */
static int publish_meta(struct publisher *p, char *err, size_t errlen)
{
	char subject[BUS_SUBJECT_MAX], id[BUS_MSG_ID_MAX], layout[16];
	size_t len;
	char name[BUS_JOURNAL_NAME_MAX];
	journal_name(p->o->journal_dir, name);
	void *body = bus_meta_encode(journal_reader_meta(p->r), name, &len);
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	bus_meta_subject(subject, sizeof subject, p->o->bus->subjects_prefix, p->run);
	bus_msg_id(id, p->run, 0);
	snprintf(layout, sizeof layout, "%u", FKS_EVENT_LAYOUT_VERSION);
	natsStatus s = body ? natsMsg_Create(&m, subject, NULL, body, (int)len) : NATS_NO_MEMORY;
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, BUS_HDR_LAYOUT, layout);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, BUS_HDR_KIND, "meta");
	if (s == NATS_OK) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.ExpectLastSeq = p->stream_seq;
		po.MaxWait = ACK_WAIT_MS;
		s = js_PublishMsg(&pa, p->c.js, m, &po, &jerr);
	}
	free(body);
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		bus_nats_error(err, errlen, "publishing the run's metadata", s);
		return -1;
	}
	p->stream_seq = pa->Sequence;
	p->st->published++;
	jsPubAck_Destroy(pa);
	return 0;
}

/* Where the stream stands; publish the run's metadata when it is new there. */
static int resync(struct publisher *p)
{
	char err[512], run[BUS_RUN_MAX];
	uint64_t seq, stream_last;
	if (bus_ensure_stream(&p->c, p->o->bus, &stream_last, err, sizeof err) ||
	    bus_stream_tail(&p->c, p->o->bus->stream, run, &seq, &p->stream_seq, err, sizeof err)) {
		drop_connection(p, err);
		return -1;
	}
	if (strcmp(run, p->run)) {
		if (publish_meta(p, err, sizeof err)) {
			drop_connection(p, err);
			return -1;
		}
		seq = 0;
	}
	if (p->told_down || !p->st->resyncs)
		fprintf(stderr, "%s: connected to %s; stream %s holds run %s up to seq %" PRIu64 "\n", CMD,
			p->o->bus->url, p->o->bus->stream, p->run, seq);
	p->told_down = false;
	p->st->resyncs++;
	p->st->published_seq = seq;
	seek_to(p, seq + 1);
	p->need_sync = false;
	return 0;
}

/* One record, asynchronously, after the message before it. */
static natsStatus publish_record(struct publisher *p, const struct journal_record *rec)
{
	char subject[BUS_SUBJECT_MAX], id[BUS_MSG_ID_MAX];
	const void *data = p->value;
	size_t len;
	if (!bus_event_subject(subject, sizeof subject, p->o->bus->subjects_prefix, p->run, &rec->ev, p->fmt.meta))
		return NATS_INVALID_ARG;
	if (p->o->json) {
		p->json_len = 0;
		print_record_json(&p->json, &p->fmt, rec);
		json_drain(&p->json.s);
		data = p->json_text;
		len = p->json_len && p->json_text[p->json_len - 1] == '\n' ? p->json_len - 1 : p->json_len;
	} else {
		len = bus_record_value(rec, p->value, VALUE_MAX);
	}
	natsMsg *m = NULL;
	natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, BUS_HDR_LAYOUT, p->layout);
	if (s == NATS_OK && p->o->json)
		s = natsMsgHeader_Set(m, BUS_HDR_FORMAT, "json");
	if (s == NATS_OK) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		bus_msg_id(id, p->run, rec->seq);
		po.MsgId = id;
		po.ExpectLastSeq = p->stream_seq;
		s = js_PublishMsgAsync(p->c.js, &m, &po);
	}
	natsMsg_Destroy(m); /* NULL once libnats owns it */
	if (s == NATS_OK)
		p->stream_seq++;
	return s;
}

/* Up to a window of records, then their acknowledgements.  Returns how many
 * were published, 0 when nothing was new, -1 after a failure (the
 * connection is dropped), -2 when the journal cannot be read on. */
static int publish_window(struct publisher *p)
{
	struct journal_record rec;
	uint64_t last = 0;
	uint32_t n = 0;
	char err[512];
	atomic_store(&p->window_failed, false);
	while (n < p->o->window) {
		int rc = journal_read(p->r, &rec);
		if (rc == 0)
			break;
		if (rc == JOURNAL_E_CORRUPT) {
			p->st->corrupt++;
			fprintf(stderr, "%s: %s: not published\n", CMD, journal_reader_error(p->r));
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", CMD, journal_reader_error(p->r));
			return -2;
		}
		natsStatus s = publish_record(p, &rec);
		if (s != NATS_OK) {
			bus_nats_error(err, sizeof err, "publishing", s);
			drop_connection(p, err);
			return -1;
		}
		n++;
		last = rec.seq;
	}
	if (!n)
		return 0;
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT_MS;
	natsStatus s = js_PublishAsyncComplete(p->c.js, &po);
	if (s != NATS_OK || atomic_load(&p->window_failed)) {
		drop_connection(p, s != NATS_OK ? "acknowledgements did not come in time"
						: "a message was refused (out of sequence after a loss in flight)");
		return -1;
	}
	p->st->published += n;
	p->st->published_seq = last;
	p->backoff_ns = BACKOFF_MIN_NS;
	return (int)n;
}

/* ---- lag --------------------------------------------------------------- */

static void write_metrics(const struct publisher *p, uint64_t lag)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp", p->o->metrics_file);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	const struct bus_publish_stats *st = p->st;
	fprintf(f,
		"# HELP fks_bus_journal_seq Last sequence committed in the journal.\n# TYPE fks_bus_journal_seq gauge\n"
		"fks_bus_journal_seq %" PRIu64 "\n"
		"# HELP fks_bus_published_seq Last journal sequence acknowledged by the stream.\n"
		"# TYPE fks_bus_published_seq gauge\nfks_bus_published_seq %" PRIu64 "\n"
		"# HELP fks_bus_lag_events Events committed in the journal and not yet in the stream.\n"
		"# TYPE fks_bus_lag_events gauge\nfks_bus_lag_events %" PRIu64 "\n"
		"# HELP fks_bus_published_total Messages acknowledged by the stream.\n"
		"# TYPE fks_bus_published_total counter\nfks_bus_published_total %" PRIu64 "\n"
		"# HELP fks_bus_duplicates_total Messages the duplicate window dropped.\n"
		"# TYPE fks_bus_duplicates_total counter\nfks_bus_duplicates_total %" PRIu64 "\n"
		"# HELP fks_bus_resyncs_total Times the position was asked of the stream.\n"
		"# TYPE fks_bus_resyncs_total counter\nfks_bus_resyncs_total %" PRIu64 "\n"
		"# HELP fks_bus_connected 1 while connected to the bus.\n# TYPE fks_bus_connected gauge\n"
		"fks_bus_connected %d\n",
		st->journal_seq, st->published_seq, lag, st->published, st->duplicates, st->resyncs, st->connected);
	if (fclose(f) == 0)
		rename(tmp, p->o->metrics_file);
}

static void report(struct publisher *p, bool force)
{
	int64_t now = mono_ns();
	if (!force && now < p->next_report_ns)
		return;
	uint32_t period_ms = p->o->report_ms ? p->o->report_ms : 1000;
	p->next_report_ns = now + (int64_t)period_ms * 1000000;
	uint64_t first, last;
	if (p->r && journal_bounds(p->r, &first, &last) == JOURNAL_OK)
		p->st->journal_seq = last;
	p->st->duplicates = atomic_load(&p->duplicates);
	uint64_t lag = p->st->journal_seq > p->st->published_seq ? p->st->journal_seq - p->st->published_seq : 0;
	if (p->o->report_ms || force)
		fprintf(stderr, "%s: run %s journal seq %" PRIu64 " published seq %" PRIu64 " lag %" PRIu64
			" events; %" PRIu64 " published, %" PRIu64 " duplicates, %" PRIu64 " resyncs, %s\n", CMD,
			p->run[0] ? p->run : "-", p->st->journal_seq, p->st->published_seq, lag, p->st->published,
			p->st->duplicates, p->st->resyncs, p->st->connected ? "connected" : "disconnected");
	if (p->o->metrics_file)
		write_metrics(p, lag);
}

/* ---- the loop ---------------------------------------------------------- */

/*
 * One publisher per journal: the stream takes one writer, and `fks run`
 * (bus section) and a service may both start one.  "<dir>.bus.lock",
 * beside the journal directory (which rotation renames), is flock()ed for
 * the publisher's life; a second one waits for it, and takes over when the
 * first stops or dies.  Returns the locked fd, or -1 when stopped first.
 */
static int lock_journal(const char *dir, volatile sig_atomic_t *stop)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(path, sizeof path, "%.*s.bus.lock", (int)n, dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", CMD, path, strerror(errno));
		return -1;
	}
	bool told = false;
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (!told)
			fprintf(stderr, "%s: another fks bus publish follows %s (%s is locked); waiting to take over\n",
				CMD, dir, path);
		told = true;
		sleep_ns(OPEN_POLL_NS);
		if (*stop) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* One turn: 0 go on, 1 done (until_closed), -1 the journal failed. */
static int turn(struct publisher *p, bool *told_wait)
{
	if (!p->r) {
		int rc = open_journal(p, told_wait);
		if (rc)
			return rc < 0 ? -1 : (sleep_ns(OPEN_POLL_NS), 0);
	}
	if (!p->c.js && !try_connect(p)) {
		sleep_ns(POLL_NS);
		return 0;
	}
	if (p->need_sync && resync(p))
		return 0;
	int n = publish_window(p);
	if (n == -2)
		return -1;
	if (n == 0) {
		if (follow_journal(p))
			return 1;
		sleep_ns(FOLLOW_POLL_NS);
	}
	return 0;
}

int bus_publish_run(const struct bus_publish_opts *o, volatile sig_atomic_t *stop, struct bus_publish_stats *st)
{
	struct bus_publish_opts opts = *o;
	if (!opts.window)
		opts.window = DEFAULT_WINDOW;
	struct publisher *p = calloc(1, sizeof *p);
	char *value = malloc(VALUE_MAX);
	if (!p || !value) {
		fprintf(stderr, "%s: out of memory\n", CMD);
		free(p);
		free(value);
		return 1;
	}
	memset(st, 0, sizeof *st);
	p->o = &opts;
	p->st = st;
	p->value = value;
	p->backoff_ns = BACKOFF_MIN_NS;
	snprintf(p->layout, sizeof p->layout, "%u", FKS_EVENT_LAYOUT_VERSION);
	p->json.s = (struct fks_sink){ .buf = p->json.buf, .cap = sizeof p->json.buf, .drain = json_drain, .ctx = p };
	atomic_init(&p->window_failed, false);
	atomic_init(&p->duplicates, 0);
	bool told_wait = false;
	int lock = lock_journal(opts.journal_dir, stop);
	int rc = lock < 0 && !*stop ? -1 : 0;
	while (lock >= 0 && !*stop && !rc) {
		rc = turn(p, &told_wait);
		report(p, false);
	}
	if (lock >= 0) {
		report(p, true);
		close(lock);
	}
	bus_disconnect(&p->c);
	if (p->r)
		journal_reader_close(p->r);
	free(p->json_text);
	free(p->value);
	free(p);
	return rc < 0 ? 1 : 0;
}
