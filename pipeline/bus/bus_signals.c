/*
 * Signals in (bus_signals.h): the parse and check of one signal, and the
 * durable pull consumer that feeds a sink.
 */
#ifndef JSMN_STATIC /* meson's jsmn dependency defines it too */
#define JSMN_STATIC
#endif
#include "pipeline/bus/bus_signals.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jsmn.h>

#include "pipeline/bus/bus_conn.h"
#include "shm/event_build.h"
#include "shm/fixed.h"

#define SIGNAL_MAX_BYTES 4096
#define SIGNAL_MAX_TOKENS 64
#define ACK_WAIT_NS (30ll * 1000000000ll)

static const char *const error_names[SIG_ERROR_COUNT] = {
	"bad_json", "missing_field", "unknown_symbol", "bad_side", "bad_type", "bad_tif", "bad_number",
	"unknown_key", "too_large",
};

const char *bus_signal_error_name(enum bus_signal_error e)
{
	return (unsigned)e < SIG_ERROR_COUNT ? error_names[e] : "?";
}

/* ---- one signal -------------------------------------------------------- */

struct signal_fields {
	const jsmntok_t *symbol, *side, *qty, *type, *px, *tif, *tp, *sl, *id;
};

static bool tok_is(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(t->end - t->start) == n && !memcmp(js + t->start, s, n);
}

static int fail(enum bus_signal_error *err, enum bus_signal_error e, char *why, size_t whylen, const char *fmt,
		const char *what)
{
	*err = e;
	snprintf(why, whylen, fmt, what);
	return -1;
}

/* The object's values by key; an unknown key is refused, not ignored: a
 * misspelt "stop_los" must not trade without its stop. */
static int signal_fields(const char *js, const jsmntok_t *t, int n, struct signal_fields *f,
			 enum bus_signal_error *err, char *why, size_t whylen)
{
	static const char *const keys[] = { "symbol", "side", "qty", "type", "px", "tif", "take_profit",
					    "stop_loss", "id" };
	const jsmntok_t **slot[] = { &f->symbol, &f->side, &f->qty, &f->type, &f->px, &f->tif, &f->tp, &f->sl, &f->id };
	memset(f, 0, sizeof *f);
	for (int i = 1; i + 1 < n; i += 2) {
		const jsmntok_t *k = &t[i], *v = &t[i + 1];
		if (k->type != JSMN_STRING || v->type == JSMN_OBJECT || v->type == JSMN_ARRAY)
			return fail(err, SIG_BAD_JSON, why, whylen, "%s", "expected one flat object of keys and values");
		size_t j = 0;
		while (j < sizeof keys / sizeof keys[0] && !tok_is(js, k, keys[j]))
			j++;
		if (j == sizeof keys / sizeof keys[0]) {
			char key[64];
			snprintf(key, sizeof key, "%.*s", k->end - k->start, js + k->start);
			return fail(err, SIG_UNKNOWN_KEY, why, whylen, "unknown key \"%s\"", key);
		}
		*slot[j] = v;
	}
	if (!f->symbol || !f->side || !f->qty)
		return fail(err, SIG_MISSING_FIELD, why, whylen, "%s", "symbol, side and qty are required");
	return 0;
}

static int tok_fixed(const char *js, const jsmntok_t *t, unsigned scale, int64_t *out)
{
	if (!t)
		return (*out = 0), 0;
	if (t->type != JSMN_STRING && t->type != JSMN_PRIMITIVE)
		return -1;
	return fx_parse(js + t->start, (size_t)(t->end - t->start), scale, out) == FX_OK ? 0 : -1;
}

/* side, type and tif into the terms. */
static int signal_words(const char *js, const struct signal_fields *f, struct fks_order_terms *o,
			enum bus_signal_error *err, char *why, size_t whylen)
{
	if (tok_is(js, f->side, "buy"))
		o->side = FKS_SIDE_BUY;
	else if (tok_is(js, f->side, "sell"))
		o->side = FKS_SIDE_SELL;
	else
		return fail(err, SIG_BAD_SIDE, why, whylen, "%s", "side: expected buy or sell");
	o->ord_type = FKS_ORD_LIMIT;
	if (f->type && tok_is(js, f->type, "market"))
		o->ord_type = FKS_ORD_MARKET;
	else if (f->type && !tok_is(js, f->type, "limit"))
		return fail(err, SIG_BAD_TYPE, why, whylen, "%s", "type: expected limit or market");
	static const char *const tifs[] = { "day", "gtc", "ioc", "fok" };
	o->tif = FKS_TIF_GTC;
	if (f->tif) {
		o->tif = 0;
		for (unsigned i = 0; i < 4; i++)
			if (tok_is(js, f->tif, tifs[i]))
				o->tif = (uint8_t)(FKS_TIF_DAY + i);
		if (!o->tif)
			return fail(err, SIG_BAD_TIF, why, whylen, "%s", "tif: expected day, gtc, ioc or fok");
	}
	return 0;
}

int bus_signal_parse(const char *json, size_t len, const struct fks_config *cfg, uint64_t signal_id,
		     struct fks_ev_order_new *ev, enum bus_signal_error *err, char *why, size_t whylen)
{
	jsmn_parser p;
	jsmntok_t t[SIGNAL_MAX_TOKENS];
	struct signal_fields f;
	struct fks_order_terms o = { .signal_id = signal_id };
	if (len > SIGNAL_MAX_BYTES)
		return fail(err, SIG_TOO_LARGE, why, whylen, "%s", "larger than 4096 bytes");
	jsmn_init(&p);
	int n = jsmn_parse(&p, json, len, t, SIGNAL_MAX_TOKENS);
	if (n < 1 || t[0].type != JSMN_OBJECT || t[0].end != (int)len)
		return fail(err, SIG_BAD_JSON, why, whylen, "%s", "not one JSON object");
	if (signal_fields(json, t, n, &f, err, why, whylen) || signal_words(json, &f, &o, err, why, whylen))
		return -1;
	char sym[FKS_SYMBOL_MAX + 1];
	snprintf(sym, sizeof sym, "%.*s", f.symbol->end - f.symbol->start, json + f.symbol->start);
	int idx = f.symbol->end - f.symbol->start <= FKS_SYMBOL_MAX ? config_find_instrument(cfg, sym) : -1;
	if (idx < 0)
		return fail(err, SIG_UNKNOWN_SYMBOL, why, whylen, "symbol \"%s\" is not an instrument of this run", sym);
	const struct fks_instrument_cfg *ic = &cfg->instrument[idx];
	if (tok_fixed(json, f.qty, ic->qty_scale, &o.qty) || o.qty <= 0)
		return fail(err, SIG_BAD_NUMBER, why, whylen, "qty: expected a positive decimal of at most %s",
			    "the instrument's quantity decimals");
	if (o.ord_type == FKS_ORD_LIMIT && !f.px)
		return fail(err, SIG_MISSING_FIELD, why, whylen, "%s", "px is required for a limit order");
	if (tok_fixed(json, f.px, ic->px_scale, &o.px) || tok_fixed(json, f.tp, ic->px_scale, &o.take_profit_px) ||
	    tok_fixed(json, f.sl, ic->px_scale, &o.stop_loss_px) || o.px < 0 || o.take_profit_px < 0 ||
	    o.stop_loss_px < 0 || (o.ord_type == FKS_ORD_LIMIT && o.px == 0))
		return fail(err, SIG_BAD_NUMBER, why, whylen, "%s",
			    "px, take_profit, stop_loss: expected positive decimals at the instrument's price decimals");
	struct fks_event_hdr h;
	fks_hdr_origin(&h, FKS_EV_ORDER_NEW, FKS_STAGE_NONE, 0, ic->id, 0, 0, 0);
	fks_build_order_new(ev, &h, &o);
	return 0;
}

/* ---- the consumer ------------------------------------------------------ */

struct bus_signals {
	const struct fks_config *cfg;
	struct bus_signal_sink sink;
	struct bus_conn c;
	natsSubscription *sub;
	struct bus_signals_stats st;
	char error[512];
};

/* The signals stream and its durable consumer, created when missing. */
static int ensure_signals(struct bus_signals *s, const char *subject)
{
	const struct fks_bus_cfg *b = &s->cfg->bus;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus st = js_GetStreamInfo(&si, s->c.js, b->signals.stream, NULL, &jerr);
	if (st == NATS_NOT_FOUND) {
		const char *subjects[1] = { subject };
		jsStreamConfig sc;
		jsStreamConfig_Init(&sc);
		sc.Name = b->signals.stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = (int64_t)b->replicas;
		sc.MaxAge = b->max_age_ns;
		st = js_AddStream(&si, s->c.js, &sc, NULL, &jerr);
	}
	jsStreamInfo_Destroy(si);
	if (st != NATS_OK) {
		bus_nats_error(s->error, sizeof s->error, b->signals.stream, st);
		return -1;
	}
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = b->signals.stream;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.AckWait = ACK_WAIT_NS;
	st = js_PullSubscribe(&s->sub, s->c.js, subject, b->signals.consumer, NULL, &so, &jerr);
	if (st != NATS_OK) {
		bus_nats_error(s->error, sizeof s->error, b->signals.consumer, st);
		return -1;
	}
	return 0;
}

int bus_signals_open(const struct fks_config *cfg, struct bus_signal_sink sink, struct bus_signals **out,
		     char *err, size_t errlen)
{
	struct bus_signals *s = calloc(1, sizeof *s);
	char subject[BUS_SUBJECT_MAX];
	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = cfg;
	s->sink = sink;
	bus_signals_subject(subject, sizeof subject, cfg->bus.subjects_prefix);
	if (bus_connect(&cfg->bus, NULL, true, &s->c, s->error, sizeof s->error) || ensure_signals(s, subject)) {
		snprintf(err, errlen, "%s", s->error);
		bus_signals_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* One message: terminated when it is not a signal, acknowledged once the
 * sink journaled it, left for redelivery when the sink could not. */
static void handle(struct bus_signals *s, natsMsg *m)
{
	jsMsgMetaData *md = NULL;
	uint64_t stream_seq = natsMsg_GetMetaData(&md, m) == NATS_OK ? md->Sequence.Stream : 0;
	jsMsgMetaData_Destroy(md);
	struct fks_ev_order_new ev;
	enum bus_signal_error e;
	char why[256];
	s->st.received++;
	if (bus_signal_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), s->cfg, stream_seq, &ev, &e, why,
			     sizeof why)) {
		s->st.err[e]++;
		s->st.terminated++;
		fprintf(stderr, "fks bus signals: signal %" PRIu64 " terminated: %s: %s\n", stream_seq,
			bus_signal_error_name(e), why);
		natsMsg_Term(m, NULL);
		return;
	}
	if (s->sink.submit(s->sink.ctx, &ev)) {
		s->st.naked++;
		natsMsg_Nak(m, NULL);
		return;
	}
	/* Synchronous: a signal counts as taken only once JetStream has the ack. */
	if (natsMsg_AckSync(m, NULL, NULL) == NATS_OK)
		s->st.acked++;
}

int bus_signals_poll(struct bus_signals *s, int max, int timeout_ms)
{
	natsMsgList list = { 0 };
	jsErrCode jerr = 0;
	natsStatus st = natsSubscription_Fetch(&list, s->sub, max, timeout_ms, &jerr);
	if (st == NATS_TIMEOUT)
		return 0;
	if (st != NATS_OK) {
		bus_nats_error(s->error, sizeof s->error, "fetching signals", st);
		return -1;
	}
	for (int i = 0; i < list.Count; i++)
		handle(s, list.Msgs[i]);
	int n = list.Count;
	natsMsgList_Destroy(&list);
	return n;
}

const struct bus_signals_stats *bus_signals_stats(const struct bus_signals *s) { return &s->st; }
const char *bus_signals_error(const struct bus_signals *s) { return s->error; }

void bus_signals_close(struct bus_signals *s)
{
	if (!s)
		return;
	if (s->sub)
		natsSubscription_Destroy(s->sub); /* the durable consumer stays */
	bus_disconnect(&s->c);
	free(s);
}
