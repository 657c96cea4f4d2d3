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

#define PENDING_BYTES_MAX (256 * 1024 * 1024)

struct bus_reader {
	struct fks_bus_cfg b;
	struct bus_conn c;
	natsSubscription *sub;
	natsMsg *held;               /* the message the last record points into */
	char run[BUS_RUN_MAX];
	char error[512];
	char journal_name[BUS_JOURNAL_NAME_MAX];
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
	int rc = bus_meta_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &r->meta, r->journal_name,
				 why, sizeof why);
	natsMsg_Destroy(m);
	if (rc)
		snprintf(r->error, sizeof r->error, "stream %s, run %s: %s", r->b.stream, r->run, why);
	return rc;
}

static int subscribe(struct bus_reader *r)
{
	char filter[BUS_SUBJECT_MAX];
	jsSubOptions so;
	jsErrCode jerr = 0;
	bus_run_filter(filter, sizeof filter, r->b.subjects_prefix, r->run);
	jsSubOptions_Init(&so);
	so.Stream = r->b.stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverAll;
	natsStatus s = js_SubscribeSync(&r->sub, r->c.js, filter, NULL, &so, &jerr);
	/* Events are small: libnats' default of 65536 pending messages is
	 * reached long before the server's flow control (in bytes) slows the
	 * stream down, and a reader slower than the network would drop
	 * messages.  Bound the buffer in bytes only. */
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(r->sub, -1, PENDING_BYTES_MAX);
	if (s != NATS_OK) {
		bus_nats_error(r->error, sizeof r->error, "subscribing", s);
		return -1;
	}
	return 0;
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
		rc = subscribe(r);
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

/* Why a message is not an event of ours, or NULL when it is one (its
 * journal sequence in *seq). */
static const char *not_an_event(natsMsg *m, uint64_t *seq)
{
	const char *v = NULL;
	char layout[16];
	if (natsMsgHeader_Get(m, BUS_HDR_FORMAT, &v) != NATS_OK || strcmp(v, "binary"))
		return "a JSON payload (published with --json): remote tail and replay read the binary form";
	snprintf(layout, sizeof layout, "%u", FKS_EVENT_LAYOUT_VERSION);
	if (natsMsgHeader_Get(m, BUS_HDR_LAYOUT, &v) != NATS_OK || strcmp(v, layout))
		return "another event layout than this build's";
	if (natsMsgHeader_Get(m, BUS_HDR_SEQ, &v) != NATS_OK || !(*v >= '1' && *v <= '9'))
		return "no journal sequence (Fks-Seq)";
	*seq = strtoull(v, NULL, 10);
	return NULL;
}

int bus_reader_next(struct bus_reader *r, struct journal_record *rec, int timeout_ms, bool *caught_up)
{
	for (;;) {
		natsMsg_Destroy(r->held);
		r->held = NULL;
		natsMsg *m = NULL;
		natsStatus s = natsSubscription_NextMsg(&m, r->sub, timeout_ms);
		if (s == NATS_TIMEOUT)
			return 0;
		if (s != NATS_OK) {
			bus_nats_error(r->error, sizeof r->error, "reading", s);
			return -1;
		}
		r->held = m;
		jsMsgMetaData *md = NULL;
		*caught_up = natsMsg_GetMetaData(&md, m) == NATS_OK && md->NumPending == 0;
		jsMsgMetaData_Destroy(md);
		const char *kind = NULL;
		if (natsMsgHeader_Get(m, BUS_HDR_KIND, &kind) == NATS_OK && !strcmp(kind, "meta")) {
			if (*caught_up)
				return 0; /* the run has no event yet */
			continue;
		}
		uint64_t seq = 0;
		const char *why = not_an_event(m, &seq);
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
	natsMsg_Destroy(r->held);
	r->held = NULL;
	natsSubscription_Unsubscribe(r->sub);
	natsSubscription_Destroy(r->sub);
	r->sub = NULL;
	return subscribe(r);
}

void bus_reader_close(struct bus_reader *r)
{
	if (!r)
		return;
	natsMsg_Destroy(r->held);
	if (r->sub) {
		natsSubscription_Unsubscribe(r->sub);
		natsSubscription_Destroy(r->sub);
	}
	bus_disconnect(&r->c);
	free(r);
}
