/*
 * Subjects, record values and the metadata encoding of bus_wire.h.
 */
#include "pipeline/bus/bus_wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bus_run_id(int64_t start_time_ns, char out[BUS_RUN_MAX])
{
	snprintf(out, BUS_RUN_MAX, "%" PRId64, start_time_ns);
}

void bus_msg_id(char out[BUS_MSG_ID_MAX], const char *run, uint64_t seq)
{
	if (seq)
		snprintf(out, BUS_MSG_ID_MAX, "%s-%" PRIu64, run, seq);
	else
		snprintf(out, BUS_MSG_ID_MAX, "%s-meta", run);
}

bool bus_msg_id_parse(const char *id, char run[BUS_RUN_MAX], uint64_t *seq)
{
	const char *dash = strrchr(id, '-');
	size_t n = dash ? (size_t)(dash - id) : 0;
	if (!n || n >= BUS_RUN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (i == 0 && id[i] == '-')))
			return false;
	if (!strcmp(dash + 1, "meta")) {
		*seq = 0;
	} else {
		char *end;
		if (!(dash[1] >= '1' && dash[1] <= '9'))
			return false;
		*seq = strtoull(dash + 1, &end, 10);
		if (*end)
			return false;
	}
	memcpy(run, id, n);
	run[n] = 0;
	return true;
}

const char *bus_event_class(unsigned type)
{
	switch (type) {
	case FKS_EV_QUOTE: case FKS_EV_TRADE: case FKS_EV_BOOK_DELTA: case FKS_EV_INSTRUMENT_DEF:
		return "md";
	case FKS_EV_SIGNAL: return "signals";
	case FKS_EV_ORDER_NEW: case FKS_EV_ORDER_CANCEL: case FKS_EV_ORDER_REPLACE: case FKS_EV_ORDER_ACK:
	case FKS_EV_ORDER_REJECT: case FKS_EV_CANCEL_ACK:
		return "orders";
	case FKS_EV_RISK_REJECT: return "risk";
	case FKS_EV_FILL: return "fills";
	case FKS_EV_POSITION: return "positions";
	case FKS_EV_CONTROL: return "control";
	case FKS_EV_HEARTBEAT: return "heartbeat";
	case FKS_EV_APPLIED: return "applied";
	default: return NULL;
	}
}

/* A symbol as one subject token: symbols are [A-Z0-9._/-] and a token
 * cannot hold '.', so '.' -> '_' and '/' -> '~' (neither is a symbol
 * character, so no two symbols share a token). */
static void symbol_token(const char *sym, char out[FKS_SYMBOL_MAX + 1])
{
	size_t i = 0;
	for (; i < FKS_SYMBOL_MAX && sym[i]; i++)
		out[i] = sym[i] == '.' ? '_' : sym[i] == '/' ? '~' : sym[i];
	out[i] = 0;
}

bool bus_event_subject(char *out, size_t cap, const char *prefix, const char *run, const union fks_event *ev,
		       const struct journal_meta *meta)
{
	const char *cls = bus_event_class(ev->h.type);
	if (!cls)
		return false;
	int n;
	if (strcmp(cls, "md")) {
		n = snprintf(out, cap, "%s.%s.%s", prefix, run, cls);
	} else {
		const struct journal_symbol *s = meta ? journal_meta_symbol(meta, ev->h.instrument) : NULL;
		char tok[FKS_SYMBOL_MAX + 1];
		if (s) {
			symbol_token(s->symbol, tok);
			n = snprintf(out, cap, "%s.%s.md.%s", prefix, run, tok);
		} else {
			n = snprintf(out, cap, "%s.%s.md.id%" PRIu32, prefix, run, (uint32_t)ev->h.instrument);
		}
	}
	return n > 0 && (size_t)n < cap;
}

bool bus_meta_subject(char *out, size_t cap, const char *prefix, const char *run)
{
	int n = snprintf(out, cap, "%s.%s.meta", prefix, run);
	return n > 0 && (size_t)n < cap;
}

int bus_stream_subjects(const char *prefix, char out[BUS_STREAM_SUBJECTS][BUS_SUBJECT_MAX])
{
	static const char *const classes[] = { "md.*", "signals", "orders", "risk", "fills", "positions",
					       "control", "heartbeat", "applied", "meta" };
	int n = 0;
	for (size_t i = 0; i < sizeof classes / sizeof classes[0] && n < BUS_STREAM_SUBJECTS; i++)
		snprintf(out[n++], BUS_SUBJECT_MAX, "%s.*.%s", prefix, classes[i]);
	return n;
}

bool bus_signals_subject(char *out, size_t cap, const char *prefix)
{
	int n = snprintf(out, cap, "%s.signals.v1", prefix);
	return n > 0 && (size_t)n < cap;
}

size_t bus_record_value(const struct journal_record *rec, void *buf, size_t cap)
{
	size_t need = rec->ev_size + (rec->payload ? sizeof(struct journal_payload_hdr) + rec->payload_len : 0);
	if (need > cap)
		return 0;
	memcpy(buf, &rec->ev, rec->ev_size);
	if (rec->payload) {
		struct journal_payload_hdr h = { (uint32_t)rec->payload_len, JOURNAL_PAYLOAD_MAGIC };
		memcpy((char *)buf + rec->ev_size, &h, sizeof h);
		memcpy((char *)buf + rec->ev_size + sizeof h, rec->payload, rec->payload_len);
	}
	return need;
}

/* ---- the metadata message ---------------------------------------------- */

#define BUS_META_MAGIC 0x4154454d53554246ull /* "FBUSMETA" in a little-endian dump */
#define BUS_META_WIRE 1u

/* Host-order x86-64, like the events themselves. */
struct bus_meta_wire {
	uint64_t magic;
	uint32_t wire;               /* BUS_META_WIRE */
	uint32_t journal_format;
	uint32_t event_layout;
	uint32_t n_symbols;
	int64_t start_time_ns;
	uint32_t sync;
	uint32_t config_len;
	char fks_version[JOURNAL_VERSION_TEXT_MAX];
	char host[JOURNAL_HOST_MAX];
	char journal_name[BUS_JOURNAL_NAME_MAX];
	/* then n_symbols struct journal_symbol, then config_len bytes */
};

void *bus_meta_encode(const struct journal_meta *m, const char *journal_name, size_t *len)
{
	size_t sym_bytes = (size_t)m->n_symbols * sizeof(struct journal_symbol);
	*len = sizeof(struct bus_meta_wire) + sym_bytes + m->config_len;
	char *buf = calloc(1, *len);
	if (!buf)
		return NULL;
	struct bus_meta_wire w = {
		.magic = BUS_META_MAGIC, .wire = BUS_META_WIRE, .journal_format = m->journal_format,
		.event_layout = m->event_layout, .n_symbols = m->n_symbols, .start_time_ns = m->start_time_ns,
		.sync = (uint32_t)m->sync, .config_len = (uint32_t)m->config_len,
	};
	snprintf(w.fks_version, sizeof w.fks_version, "%s", m->fks_version);
	snprintf(w.host, sizeof w.host, "%s", m->host);
	snprintf(w.journal_name, sizeof w.journal_name, "%s", journal_name);
	memcpy(buf, &w, sizeof w);
	memcpy(buf + sizeof w, m->symbol, sym_bytes);
	memcpy(buf + sizeof w + sym_bytes, m->config, m->config_len);
	return buf;
}

int bus_meta_decode(const void *body, size_t len, struct journal_meta *m, char name[BUS_JOURNAL_NAME_MAX],
		    char *why, size_t whylen)
{
	struct bus_meta_wire w;
	if (len < sizeof w) {
		snprintf(why, whylen, "metadata message of %zu bytes: shorter than its header", len);
		return -1;
	}
	memcpy(&w, body, sizeof w);
	if (w.magic != BUS_META_MAGIC || w.wire != BUS_META_WIRE) {
		snprintf(why, whylen, "metadata message of another wire version (%" PRIu32 ", this build reads %u)",
			 w.wire, BUS_META_WIRE);
		return -1;
	}
	if (w.n_symbols > JOURNAL_SYMBOLS_MAX || w.config_len > JOURNAL_CONFIG_MAX ||
	    len != sizeof w + (size_t)w.n_symbols * sizeof(struct journal_symbol) + w.config_len) {
		snprintf(why, whylen, "metadata message: %" PRIu32 " symbols and %" PRIu32
			 " config bytes do not make its %zu bytes", w.n_symbols, w.config_len, len);
		return -1;
	}
	if (w.event_layout != FKS_EVENT_LAYOUT_VERSION || w.journal_format != JOURNAL_FORMAT_VERSION) {
		snprintf(why, whylen, "run published with event layout %" PRIu32 " and journal format %" PRIu32
			 "; this build reads %u and %u", w.event_layout, w.journal_format, FKS_EVENT_LAYOUT_VERSION,
			 JOURNAL_FORMAT_VERSION);
		return -1;
	}
	memset(m, 0, offsetof(struct journal_meta, config));
	m->journal_format = w.journal_format;
	m->event_layout = w.event_layout;
	memcpy(m->fks_version, w.fks_version, sizeof m->fks_version);
	m->fks_version[sizeof m->fks_version - 1] = 0;
	memcpy(m->host, w.host, sizeof m->host);
	m->host[sizeof m->host - 1] = 0;
	memcpy(name, w.journal_name, BUS_JOURNAL_NAME_MAX);
	name[BUS_JOURNAL_NAME_MAX - 1] = 0;
	m->start_time_ns = w.start_time_ns;
	m->sync = (enum fks_journal_sync)w.sync;
	m->first_seq = 1;
	m->part = 1;
	m->part_start_ns = w.start_time_ns;
	m->n_symbols = w.n_symbols;
	memcpy(m->symbol, (const char *)body + sizeof w, (size_t)w.n_symbols * sizeof(struct journal_symbol));
	m->config_len = w.config_len;
	memcpy(m->config, (const char *)body + sizeof w + (size_t)w.n_symbols * sizeof(struct journal_symbol),
	       w.config_len);
	m->config[w.config_len] = 0;
	return 0;
}
