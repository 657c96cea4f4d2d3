/* Bybit v5 public market data (bybit.h). */
#include "feeds/decoders/bybit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoder.h"
#include "feeds/xport/ws_venue.h"

static const char *const msg_names[BYBIT_MSG_COUNT_] = {
	[BYBIT_MSG_SNAPSHOT] = "snapshot",
	[BYBIT_MSG_DELTA] = "delta",
	[BYBIT_MSG_TRADE] = "publicTrade",
	[BYBIT_MSG_RESPONSE] = "response",
};

int bybit_init(struct bybit *d, struct feed_symtab *symbols)
{
	if (!d || !symbols)
		return -1;
	memset(d, 0, sizeof *d);
	json_venue_init(&d->v, symbols, d->tok, BYBIT_MAX_TOKENS, d->slots, d->lv, BYBIT_MAX_BOOKS,
			BYBIT_BOOK_LEVELS, msg_names, BYBIT_MSG_COUNT_, NULL, 0);
	return 0;
}

/* ms at key -> ns; 0 when the key is absent. */
static int time_of(const struct json_doc *j, int obj, const char *key, bool required, int64_t *ns)
{
	int v = json_get(j, obj, key);

	if (v < 0) {
		*ns = 0;
		return required ? JSON_E_MISSING_FIELD : JSON_OK;
	}
	return json_ms_tok_to_ns(j, v, ns);
}

/* ---- publicTrade -------------------------------------------------------- */

static uint64_t trade_id_of(const char *s, size_t n)
{
	uint64_t v = 0;
	size_t k;

	for (k = 0; k < n && k < 19 && s[k] >= '0' && s[k] <= '9'; k++)
		v = v * 10 + (uint64_t)(s[k] - '0');
	if (n && k == n)
		return v;
	return json_fnv1a(s, n);
}

static int one_trade(struct bybit *d, const struct json_doc *j, int t, int64_t recv_ns,
		     union fks_event *ev)
{
	uint32_t id;
	const struct feed_symbol *sym;
	int64_t px, qty, ns;
	uint64_t tid;
	const char *s;
	size_t n;
	int r;

	if (j->tok[t].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	if ((r = json_venue_symbol(&d->v, j, t, "s", &id, &sym)) ||
	    (r = json_fx(j, json_get(j, t, "p"), sym->px_scale, &px)) ||
	    (r = json_fx(j, json_get(j, t, "v"), sym->qty_scale, &qty)) ||
	    (r = time_of(j, t, "T", true, &ns)))
		return r;
	int side = json_need(j, t, "S", JSON_STRING);
	if (side < 0)
		return side;
	if ((r = json_str(j, side, &s, &n)))
		return r;
	int i = json_get(j, t, "i");
	if (i < 0)
		return JSON_E_MISSING_FIELD;
	if (j->tok[i].type == JSON_STRING) {
		if ((r = json_str(j, i, &s, &n)))
			return r;
		tid = trade_id_of(s, n);
	} else if ((r = json_u64(j, i, &tid))) {
		return r;
	}
	if (px <= 0 || qty <= 0)
		return JSON_E_BAD_VALUE;

	uint8_t aggressor;
	if (json_eq(j, side, "Buy"))
		aggressor = FKS_SIDE_BUY;
	else if (json_eq(j, side, "Sell"))
		aggressor = FKS_SIDE_SELL;
	else
		return JSON_E_BAD_VALUE;

	struct fks_event_hdr h;
	json_hdr(&h, id, ns, recv_ns, 0);
	fks_build_trade(&ev->trade, &h, px, qty, tid, aggressor);
	return JSON_OK;
}

static int do_trades(struct bybit *d, const struct json_doc *j, int data, int64_t recv_ns,
		     feed_emit_fn emit, void *ctx)
{
	union fks_event ev;
	int r;

	if (j->tok[data].type != JSON_ARRAY)
		return JSON_E_WRONG_TYPE;
	/* Check every trade before emitting any: a bad message emits nothing. */
	JSON_FOR_EACH(j, data, k, t)
		if ((r = one_trade(d, j, t, recv_ns, &ev)))
			return r;
	JSON_FOR_EACH(j, data, k, t) {
		one_trade(d, j, t, recv_ns, &ev);
		if (emit)
			emit(ctx, &ev);
	}
	return JSON_OK;
}

/* ---- orderbook ---------------------------------------------------------- */

static int parse_levels(struct bybit *d, const struct json_doc *j, int obj, const char *key,
			const struct feed_symbol *sym, uint32_t *n)
{
	return json_venue_levels(j, obj, key, sym, d->scratch,
				 sizeof d->scratch / sizeof d->scratch[0], n);
}

static int do_book(struct bybit *d, const struct json_doc *j, int root, int data, int *type,
		   int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	uint32_t id, nb = 0, n = 0;
	const struct feed_symbol *sym;
	uint64_t u;
	int64_t ns;
	int r;

	int kind = json_need(j, root, "type", JSON_STRING);
	if (kind < 0)
		return kind;
	const char *s;
	size_t sl;
	if ((r = json_str(j, kind, &s, &sl)))
		return r;
	bool snapshot = json_eq(j, kind, "snapshot");
	if (!snapshot && !json_eq(j, kind, "delta"))
		return JSON_E_UNKNOWN_TYPE;
	*type = snapshot ? BYBIT_MSG_SNAPSHOT : BYBIT_MSG_DELTA;
	if (j->tok[data].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	if ((r = json_venue_symbol(&d->v, j, data, "s", &id, &sym)) ||
	    (r = json_u64(j, json_get(j, data, "u"), &u)) ||
	    (r = time_of(j, root, "ts", false, &ns)) ||
	    (r = parse_levels(d, j, data, "b", sym, &nb)))
		return r;
	n = nb;
	if ((r = parse_levels(d, j, data, "a", sym, &n)))
		return r;

	struct json_venue_book *bk = json_venue_slot(&d->v, id, true);
	if (!bk)
		return JSON_E_TOO_MANY_BOOKS;

	struct fks_event_hdr h;
	/* u == 1: Bybit restarted the service and this is a fresh book. */
	if (snapshot || u == 1) {
		json_hdr(&h, id, ns, recv_ns, FKS_EVF_SNAPSHOT);
		json_venue_book_reset(bk, u, &h, emit, ctx);
		bk->sync = 1;
	} else {
		uint64_t last = bk->book.last_update_id;

		if (!bk->sync)
			return JSON_E_NOT_SYNCED;
		if (u <= last)
			return JSON_E_STALE_UPDATE;
		if (u != last + 1) {
			/* Lost deltas: no book rather than a wrong one. */
			json_hdr(&h, id, ns, recv_ns, FKS_EVF_STALE);
			json_venue_book_lost(bk, u, &h, emit, ctx);
			bk->sync = 0;
			d->resync_requests++;
			return JSON_E_GAP;
		}
		json_hdr(&h, id, ns, recv_ns, 0);
	}
	/* A snapshot goes in reverse: Bybit lists best first. */
	json_venue_apply(&d->v, bk, d->scratch, nb, n - nb, h.flags & FKS_EVF_SNAPSHOT, u, &h,
			 emit, ctx);
	bk->book.last_update_id = u;
	return JSON_OK;
}

static bool has_prefix(const struct json_doc *j, int i, const char *p)
{
	size_t n = strlen(p);

	return (size_t)(j->tok[i].end - j->tok[i].start) > n && memcmp(j->js + j->tok[i].start, p, n) == 0;
}

static int decode_msg(struct bybit *d, const char *msg, size_t len, int64_t recv_ns,
		      feed_emit_fn emit, void *ctx, int *type)
{
	struct json_doc j;
	int r = json_venue_parse(&d->v, &j, msg, len);

	if (r)
		return r;
	if (j.tok[0].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	int topic = json_get(&j, 0, "topic");
	if (topic < 0) {
		if (json_get(&j, 0, "op") >= 0) {
			*type = BYBIT_MSG_RESPONSE;
			return JSON_OK;
		}
		return JSON_E_MISSING_FIELD;
	}
	const char *s;
	size_t n;
	if ((r = json_str(&j, topic, &s, &n)))
		return r;
	int data = json_get(&j, 0, "data");
	if (data < 0)
		return JSON_E_MISSING_FIELD;
	if (has_prefix(&j, topic, "orderbook."))
		return do_book(d, &j, 0, data, type, recv_ns, emit, ctx);
	if (has_prefix(&j, topic, "publicTrade.") || has_prefix(&j, topic, "trade.")) {
		*type = BYBIT_MSG_TRADE;
		return do_trades(d, &j, data, recv_ns, emit, ctx);
	}
	return JSON_E_UNKNOWN_TYPE;
}

int bybit_decode(struct bybit *d, const char *msg, size_t len, int64_t recv_ns,
		 feed_emit_fn emit, void *ctx)
{
	int type = -1;
	int r = decode_msg(d, msg, len, recv_ns, emit, ctx, &type);

	if (r == 0 && type >= 0)
		d->v.counts[type].n++;
	return json_venue_fail(&d->v, r);
}

bool bybit_needs_snapshot(const struct bybit *d, uint32_t instrument)
{
	return json_venue_needs_snapshot(&d->v, instrument);
}

size_t bybit_pending_snapshots(const struct bybit *d, uint32_t *ids, size_t cap)
{
	return json_venue_pending_snapshots(&d->v, ids, cap);
}

const struct book_l2 *bybit_book(const struct bybit *d, uint32_t instrument)
{
	return json_venue_book(&d->v, instrument);
}

size_t bybit_counts(const struct bybit *d, const struct named_counter **out)
{
	return json_venue_counts(&d->v, out);
}

size_t bybit_errors(const struct bybit *d, const struct named_counter **out)
{
	return json_venue_errors(&d->v, out);
}

/* ---- ops table (feeds/decoder.h) ------------------------------------------ */

static void *bybit_create(const struct feed_decoder_params *p, char *err, size_t errlen)
{
	struct bybit *d = calloc(1, sizeof *d);
	if (!d || bybit_init(d, p->symbols)) {
		free(d);
		snprintf(err, errlen, "bybit: cannot set up the decoder (out of memory)");
		return NULL;
	}
	return d;
}

static void bybit_destroy(void *d) { free(d); }

static int bybit_decode_op(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	return bybit_decode(d, msg, len, recv_ns, emit, ctx);
}

static size_t bybit_counts_op(const void *d, const struct named_counter **out) { return bybit_counts(d, out); }
static size_t bybit_errors_op(const void *d, const struct named_counter **out) { return bybit_errors(d, out); }

static bool bybit_book_op(const void *d, uint32_t inst, struct feed_book_info *info)
{
	return feed_decoder_l2_info(bybit_book(d, inst), info);
}

static uint32_t bybit_top_op(const void *d, uint32_t inst, uint8_t side, struct book_level *out, uint32_t n)
{
	return feed_decoder_l2_top(bybit_book(d, inst), side, out, n);
}

static bool bybit_websocket(const struct feed_decoder_params *p, struct feed_ws_plan *plan)
{
	plan->venue = p->futures ? WS_VENUE_BYBIT_LINEAR : WS_VENUE_BYBIT_SPOT;
	plan->channels = WS_CH_TRADE | WS_CH_BOOK;
	return true;
}

const struct feed_decoder_ops bybit_decoder_ops = {
	.name = "bybit",
	.framing = FEED_FRAMING_JSON_LINES,
	.create = bybit_create,
	.destroy = bybit_destroy,
	.decode = bybit_decode_op,
	.counts = bybit_counts_op,
	.errors = bybit_errors_op,
	.book = bybit_book_op,
	.book_top = bybit_top_op,
	.websocket = bybit_websocket,
};
