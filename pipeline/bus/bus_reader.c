/*
 * A run read back from the bus (bus_reader.h).
 */
#include "pipeline/bus/bus_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/bus/bus_conn.h"
#include "pipeline/bus/bus_wire.h"

#define FETCH_BATCH 512
#define CONSUMER_IDLE_NS (60ll * 1000000000ll)

struct bus_reader {
	struct fks_bus_cfg b;
	struct bus_conn c;
	natsSubscription *sub;
	natsMsgList batch;           /* the last fetch */
	int batch_i;                 /* its next message */
	natsMsg *held;               /* the message the last record points into (in batch) */
	uint64_t next_seq;           /* the stream sequence expected next */
	uint64_t gap_at;             /* a gap restarted from here already */
	char run[BUS_RUN_MAX];
	char error[512];
	char journal_name[BUS_JOURNAL_NAME_MAX];
	uint64_t meta_seq;           /* the run's first message in the stream */
	struct journal_meta meta;    /* large: the struct is heap-allocated */
};

static int read_meta(struct bus_reader *r)
{
	char subject[BUS_SUBJECT_MAX], why[256];
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	bus_meta_subject(subject, sizeof subject, r->b.subjects_prefix, r->run);
	natsStatus s = js_GetLastMsg(&m, r->c.js, r->b.stream, subject, NULL, &jerr);
	if (s != NATS_OK) {
		snprintf(r->error, sizeof r->error, "stream %s: no metadata for run %s (%s)", r->b.stream, r->run,
			 natsStatus_GetText(s));
		return -1;
	}
	r->meta_seq = natsMsg_GetSequence(m);
	int rc = bus_meta_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &r->meta, r->journal_name,
				 why, sizeof why);
	natsMsg_Destroy(m);
	if (rc)
		snprintf(r->error, sizeof r->error, "stream %s, run %s: %s", r->b.stream, r->run, why);
	return rc;
}

/*
 * From stream sequence `from` on, every subject of the stream: an
 * ephemeral pull consumer without acknowledgements and without a filter
 * (this server version takes one filter subject, and "<prefix>.<run>.>"
 * is not within any one of the stream's subjects), bound by a pull
 * subscription.  Other runs' messages are skipped by their Fks-Run.  The
 * server removes the consumer once nobody pulls for a while.
 */
static int subscribe(struct bus_reader *r, uint64_t from)
{
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	jsConsumerConfig_Init(&cc);
	cc.AckPolicy = js_AckNone;
	cc.DeliverPolicy = js_DeliverByStartSequence;
	cc.OptStartSeq = from;
	cc.InactiveThreshold = CONSUMER_IDLE_NS;
	natsStatus s = js_AddConsumer(&ci, r->c.js, r->b.stream, &cc, NULL, &jerr);
	if (s == NATS_OK) {
		jsSubOptions_Init(&so);
		so.Stream = r->b.stream;
		so.Consumer = ci->Name;
		s = js_PullSubscribe(&r->sub, r->c.js, NULL, NULL, NULL, &so, &jerr);
	}
	jsConsumerInfo_Destroy(ci);
	if (s != NATS_OK) {
		bus_nats_error(r->error, sizeof r->error, "subscribing", s);
		return -1;
	}
	r->next_seq = from;
	return 0;
}

static void unsubscribe(struct bus_reader *r)
{
	natsMsgList_Destroy(&r->batch);
	memset(&r->batch, 0, sizeof r->batch);
	r->batch_i = 0;
	r->held = NULL;
	if (r->sub) {
		natsSubscription_Unsubscribe(r->sub);
		natsSubscription_Destroy(r->sub);
		r->sub = NULL;
	}
}

/* The next message of the stream, in order: 1, 0 none within timeout_ms,
 * -1 an error.  A message past a gap (a fetch lost to a reconnection,
 * without acknowledgements nothing is sent again) makes the consumer start
 * again after the last one seen; a gap found again is messages the stream
 * no longer has (max_age). */
static int next_message(struct bus_reader *r, int timeout_ms, natsMsg **out)
{
	for (;;) {
		if (r->batch_i >= r->batch.Count) {
			natsMsgList_Destroy(&r->batch);
			memset(&r->batch, 0, sizeof r->batch);
			r->batch_i = 0;
			jsErrCode jerr = 0;
			natsStatus s = natsSubscription_Fetch(&r->batch, r->sub, FETCH_BATCH, timeout_ms, &jerr);
			if (s == NATS_TIMEOUT)
				return 0;
			if (s != NATS_OK) {
				bus_nats_error(r->error, sizeof r->error, "reading", s);
				return -1;
			}
		}
		natsMsg *m = r->batch.Msgs[r->batch_i++];
		uint64_t seq = natsMsg_GetSequence(m);
		jsMsgMetaData *md = NULL;
		if (!seq && natsMsg_GetMetaData(&md, m) == NATS_OK)
			seq = md->Sequence.Stream;
		jsMsgMetaData_Destroy(md);
		if (seq > r->next_seq && r->gap_at != r->next_seq) {
			uint64_t from = r->next_seq;
			r->gap_at = from;
			unsubscribe(r);
			if (subscribe(r, from))
				return -1;
			continue;
		}
		r->next_seq = seq + 1;
		*out = m;
		return 1;
	}
}

int bus_reader_open(const struct fks_bus_cfg *b, const char *run, struct bus_reader **out, char *err,
		    size_t errlen)
{
	struct bus_reader *r = calloc(1, sizeof *r);
	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->b = *b;
	snprintf(r->run, sizeof r->run, "%s", run);
	uint64_t seq, stream_seq;
	int rc = bus_connect(b, NULL, true, &r->c, r->error, sizeof r->error);
	if (!rc && !r->run[0]) {
		rc = bus_stream_tail(&r->c, b->stream, r->run, &seq, &stream_seq, r->error, sizeof r->error);
		if (!rc && !r->run[0]) {
			snprintf(r->error, sizeof r->error, "stream %s holds no run (nothing published yet?)", b->stream);
			rc = -1;
		}
	}
	if (!rc)
		rc = read_meta(r);
	if (!rc)
		rc = subscribe(r, r->meta_seq);
	if (rc) {
		snprintf(err, errlen, "%s", r->error);
		bus_reader_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

const struct journal_meta *bus_reader_meta(const struct bus_reader *r) { return &r->meta; }
const char *bus_reader_run(const struct bus_reader *r) { return r->run; }
const char *bus_reader_journal_name(const struct bus_reader *r) { return r->journal_name; }
const char *bus_reader_error(const struct bus_reader *r) { return r->error; }

/* Why an event message of the run is not one this build decodes, or NULL. */
static const char *not_decodable(natsMsg *m)
{
	const char *v = NULL;
	char layout[16];
	if (natsMsgHeader_Get(m, BUS_HDR_FORMAT, &v) == NATS_OK && strcmp(v, "binary"))
		return "a JSON payload (published with --json): remote tail and replay read the binary form";
	snprintf(layout, sizeof layout, "%u", FKS_EVENT_LAYOUT_VERSION);
	if (natsMsgHeader_Get(m, BUS_HDR_LAYOUT, &v) != NATS_OK || strcmp(v, layout))
		return "another event layout than this build's";
	return NULL;
}

int bus_reader_next(struct bus_reader *r, struct journal_record *rec, int timeout_ms, bool *caught_up)
{
	for (;;) {
		natsMsg *m = NULL;
		int got = next_message(r, timeout_ms, &m);
		if (got <= 0)
			return got;
		r->held = m;
		jsMsgMetaData *md = NULL;
		*caught_up = natsMsg_GetMetaData(&md, m) == NATS_OK && md->NumPending == 0;
		jsMsgMetaData_Destroy(md);
		const char *id = NULL;
		char run[BUS_RUN_MAX];
		uint64_t seq = 0;
		bool ours = natsMsgHeader_Get(m, BUS_HDR_MSG_ID, &id) == NATS_OK && bus_msg_id_parse(id, run, &seq) &&
			    !strcmp(run, r->run);
		if (!ours || seq == 0) { /* another run's, or the metadata */
			if (*caught_up)
				return 0; /* nothing more of the run yet */
			continue;
		}
		const char *why = not_decodable(m);
		char decode_why[256];
		if (!why && journal_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), rec, decode_why,
					   sizeof decode_why))
			why = decode_why;
		if (why) {
			snprintf(r->error, sizeof r->error, "message on %s (seq %" PRIu64 "): %s", natsMsg_GetSubject(m),
				 seq, why);
			return JOURNAL_E_CORRUPT;
		}
		rec->seq = seq;
		return 1;
	}
}

int bus_reader_rewind(struct bus_reader *r)
{
	unsubscribe(r);
	r->gap_at = 0;
	return subscribe(r, r->meta_seq);
}

void bus_reader_close(struct bus_reader *r)
{
	if (!r)
		return;
	unsubscribe(r);
	bus_disconnect(&r->c);
	free(r);
}
