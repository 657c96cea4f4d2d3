/* Kraken websocket v2 decoder (kraken.h). */
#include "feeds/decoders/kraken.h"

#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "feeds/decoder.h"
#include "feeds/xport/ws_venue.h"
#include <zlib.h>

#include "shm/fixed.h"
#include "feeds/decoders/timefmt.h"

static const char *const count_names[KR_N_COUNT] = {
	[KR_N_BOOK_SNAPSHOT] = "book.snapshot",
	[KR_N_BOOK_UPDATE] = "book.update",
	[KR_N_TRADE] = "trade",
	[KR_N_TICKER] = "ticker",
	[KR_N_HEARTBEAT] = "heartbeat",
	[KR_N_STATUS] = "status",
	[KR_N_METHOD] = "method",
};

static const char *const extra_names[KR_E_COUNT - JSON_E_COUNT_] = {
	"bad_time", "exponent", "bad_checksum", "unknown_channel", "no_book", "venue_error",
};

/* ---- checksum ---------------------------------------------------------- */

/* Append v at scale without its point and leading zeros ("0.0500" at 4 is
 * "500"); returns the new end. */
static char *put_number(char *p, int64_t v, unsigned scale)
{
	char buf[FX_FORMAT_MAX + 1];
	int n = fx_format(v, scale, buf, sizeof buf);
	bool lead = true;
	for (int i = 0; i < n; i++) {
		if (buf[i] == '.' || (lead && buf[i] == '0'))
			continue;
		lead = false;
		*p++ = buf[i];
	}
	return p;
}

uint32_t kraken_book_checksum(const struct book_l2 *b, unsigned px_scale, unsigned qty_scale)
{
	/* 20 levels of two numbers of at most FX_FORMAT_MAX bytes: one crc32
	 * call over one buffer */
	char text[2 * KRAKEN_CHECKSUM_DEPTH * 2 * FX_FORMAT_MAX];
	char *p = text;
	/* sides are stored worst first: walk them from the best end */
	for (uint32_t i = 0; i < b->ask.n && i < KRAKEN_CHECKSUM_DEPTH; i++) {
		const struct book_level *lv = &b->ask.lv[b->ask.n - 1 - i];
		p = put_number(p, lv->px, px_scale);
		p = put_number(p, lv->qty, qty_scale);
	}
	for (uint32_t i = 0; i < b->bid.n && i < KRAKEN_CHECKSUM_DEPTH; i++) {
		const struct book_level *lv = &b->bid.lv[b->bid.n - 1 - i];
		p = put_number(p, lv->px, px_scale);
		p = put_number(p, lv->qty, qty_scale);
	}
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)(p - text));
}

/* ---- set-up ------------------------------------------------------------ */

int kraken_init(struct kraken *d, struct feed_symtab *symbols, uint32_t max_books,
		uint32_t depth, uint32_t max_tokens)
{
	memset(d, 0, sizeof *d);
	if (!symbols || max_books == 0 || max_books > FEED_MAX_SYMBOLS || depth == 0 ||
	    depth > (1u << 16) || max_tokens < 16 || max_tokens > (1u << 24))
		return -1;
	d->depth = depth;
	/* room for the levels one update adds before it is cut back to depth */
	uint32_t max_levels = depth + (depth > 64 ? depth : 64);
	return json_venue_alloc(&d->v, symbols, max_tokens, max_books, max_levels, count_names,
				KR_N_COUNT, extra_names, KR_E_COUNT - JSON_E_COUNT_);
}

void kraken_free(struct kraken *d)
{
	json_venue_free(&d->v);
}

size_t kraken_counts(const struct kraken *d, const struct named_counter **out)
{
	return json_venue_counts(&d->v, out);
}

/* Lists the unused "ok" entry [0] too, as it always has (json_venue_errors
 * leaves it out). */
size_t kraken_errors(const struct kraken *d, const struct named_counter **out)
{
	*out = d->v.errors;
	return KR_E_COUNT;
}

uint64_t kraken_error_count(const struct kraken *d, int reason)
{
	return json_venue_error_count(&d->v, reason);
}

const struct book_l2 *kraken_book(const struct kraken *d, uint32_t instrument)
{
	return json_venue_book(&d->v, instrument);
}

/* ---- decoding ---------------------------------------------------------- */

static int fail(struct kraken *d, int reason)
{
	return json_venue_fail(&d->v, reason);
}

/* A required JSON number member at scale.  Kraken writes numbers bare; the
 * token's own text is converted, never a double. */
static int need_num(const struct json_doc *doc, int obj, const char *key, unsigned scale,
		    int64_t *out)
{
	int i = json_get(doc, obj, key);
	if (i < 0)
		return JSON_E_MISSING_FIELD;
	const struct json_tok *t = &doc->tok[i];
	if (t->type != JSON_PRIMITIVE)
		return JSON_E_WRONG_TYPE;
	const char *s = doc->js + t->start;
	if (*s == 't' || *s == 'f' || *s == 'n')
		return JSON_E_WRONG_TYPE; /* true, false, null */
	for (int k = t->start; k < t->end; k++)
		if (doc->js[k] == 'e' || doc->js[k] == 'E')
			return KR_E_EXPONENT;
	return json_fx(doc, i, scale, out);
}

/* An optional timestamp member: 0 when absent. */
static int opt_time(const struct json_doc *doc, int obj, int64_t *ns)
{
	int i = json_get(doc, obj, "timestamp");
	*ns = 0;
	if (i < 0)
		return JSON_OK;
	if (doc->tok[i].type != JSON_STRING)
		return JSON_E_WRONG_TYPE;
	const char *s = doc->js + doc->tok[i].start;
	size_t n = (size_t)(doc->tok[i].end - doc->tok[i].start);
	return timefmt_rfc3339_ns(s, n, ns) ? KR_E_BAD_TIME : JSON_OK;
}

static int pair_of(struct kraken *d, const struct json_doc *doc, int obj, struct json_instr *p,
		   int *skip)
{
	return json_venue_instr(&d->v, doc, obj, "symbol", p, skip);
}

static int level_of(const struct json_doc *doc, int lv, const struct json_instr *p, int64_t *px,
		    int64_t *qty)
{
	if (doc->tok[lv].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	int r = need_num(doc, lv, "price", p->px_scale, px);
	if (!r)
		r = need_num(doc, lv, "qty", p->qty_scale, qty);
	if (!r && (*px <= 0 || *qty < 0))
		r = JSON_E_BAD_VALUE;
	return r;
}

/* One data entry of a book message, checked in full. */
static int book_entry_check(const struct json_doc *doc, int e, const struct json_instr *p,
			    uint32_t *checksum, int64_t *ns)
{
	static const char *const sides[2] = {"bids", "asks"};
	for (int s = 0; s < 2; s++) {
		int arr = json_need(doc, e, sides[s], JSON_ARRAY);
		if (arr < 0)
			return arr;
		if (!p->id)
			continue;
		JSON_FOR_EACH(doc, arr, k, lv) {
			int64_t px, qty;
			int r = level_of(doc, lv, p, &px, &qty);
			if (r)
				return r;
		}
	}
	int c = json_need(doc, e, "checksum", JSON_PRIMITIVE);
	if (c < 0)
		return c;
	uint64_t v;
	if (json_u64(doc, c, &v) != JSON_OK || v > UINT32_MAX)
		return KR_E_BAD_CHECKSUM;
	*checksum = (uint32_t)v;
	return opt_time(doc, e, ns);
}

static int book_kind(const struct json_doc *doc)
{
	int t = json_need(doc, 0, "type", JSON_STRING);
	if (t < 0)
		return t;
	if (json_eq(doc, t, "snapshot"))
		return 1;
	if (json_eq(doc, t, "update"))
		return 2;
	return JSON_E_UNKNOWN_TYPE;
}

/* Cut a side back to the subscribed depth, deleting (with events) the
 * levels that fell out: Kraken sends nothing for them. */
static void cut_side(struct kraken *d, struct book_l2_side *s, uint8_t side,
		     const struct fks_event_hdr *h)
{
	for (uint32_t i = 0; i + d->depth < s->n; i++)   /* worst first */
		json_emit_delta(side, s->lv[i].px, 0, 0, h, json_stage_emit, &d->v.stage);
}

static int book_apply(struct kraken *d, const struct json_doc *doc, int data, int kind,
		      int64_t recv_ns)
{
	int rc = JSON_OK;
	JSON_FOR_EACH(doc, data, k, e) {
		d->v.counts[kind == 1 ? KR_N_BOOK_SNAPSHOT : KR_N_BOOK_UPDATE].n++;
		struct json_instr p;
		int skip;
		uint32_t want = 0;
		int64_t ns = 0;
		pair_of(d, doc, e, &p, &skip);
		if (skip) {
			fail(d, skip);
			continue;
		}
		if (!p.bk) {
			fail(d, KR_E_NO_BOOK);
			continue;
		}
		book_entry_check(doc, e, &p, &want, &ns);
		struct book_l2 *b = &p.bk->book;
		struct fks_event_hdr h;
		uint16_t flags = kind == 1 ? FKS_EVF_SNAPSHOT : 0;
		if (kind == 1) {
			json_hdr(&h, p.id, ns, recv_ns, flags);
			json_venue_book_reset(p.bk, 0, &h, json_stage_emit, &d->v.stage);
		}
		json_hdr(&h, p.id, ns, recv_ns, flags | (b->stale ? FKS_EVF_STALE : 0));
		static const char *const sides[2] = {"bids", "asks"};
		for (int s = 0; s < 2; s++) {
			int arr = json_get(doc, e, sides[s]);
			uint8_t side = s == 0 ? FKS_SIDE_BUY : FKS_SIDE_SELL;
			JSON_FOR_EACH(doc, arr, j, lv) {
				int64_t px, qty;
				level_of(doc, lv, &p, &px, &qty);
				int r = json_book_set(b, side, px, qty, 0, &h, json_stage_emit, &d->v.stage);
				if (r)
					rc = fail(d, r); /* book_full: worse than all we hold */
			}
		}
		cut_side(d, &b->bid, FKS_SIDE_BUY, &h);
		cut_side(d, &b->ask, FKS_SIDE_SELL, &h);
		book_l2_truncate(b, d->depth);
		if (kraken_book_checksum(b, p.px_scale, p.qty_scale) != want) {
			rc = fail(d, JSON_E_CHECKSUM);
			b->stale = true;
			d->resync = true;
		}
		json_venue_quote(p.bk, ns, recv_ns, json_stage_emit, &d->v.stage);
	}
	return rc;
}

static int book(struct kraken *d, const struct json_doc *doc, int64_t recv_ns)
{
	int kind = book_kind(doc);
	if (kind < 0)
		return fail(d, kind);
	int data = json_need(doc, 0, "data", JSON_ARRAY);
	if (data < 0)
		return fail(d, data);
	JSON_FOR_EACH(doc, data, k, e) {
		if (doc->tok[e].type != JSON_OBJECT)
			return fail(d, JSON_E_WRONG_TYPE);
		struct json_instr p = {0};
		int skip = 0;
		int r = pair_of(d, doc, e, &p, &skip);
		uint32_t want;
		int64_t ns;
		if (!r)
			r = book_entry_check(doc, e, &p, &want, &ns);
		if (r) {
			if (p.bk && !skip) {
				/* the update is lost: the book can no longer be trusted */
				p.bk->book.stale = true;
				d->resync = true;
			}
			return fail(d, r);
		}
	}
	return book_apply(d, doc, data, kind, recv_ns);
}

static int trade_of(struct kraken *d, const struct json_doc *doc, int t, int64_t recv_ns,
		    union fks_event *e, int *skip)
{
	if (doc->tok[t].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	struct json_instr p;
	int r = pair_of(d, doc, t, &p, skip);
	if (r)
		return r;
	int st = json_need(doc, t, "side", JSON_STRING);
	if (st < 0)
		return st;
	uint8_t side = json_eq(doc, st, "buy") ? FKS_SIDE_BUY
		       : json_eq(doc, st, "sell") ? FKS_SIDE_SELL : FKS_SIDE_NONE;
	if (side == FKS_SIDE_NONE)
		return JSON_E_BAD_VALUE;
	int idt = json_need(doc, t, "trade_id", JSON_PRIMITIVE);
	if (idt < 0)
		return idt;
	uint64_t id;
	if ((r = json_u64(doc, idt, &id)))
		return r;
	int64_t ns;
	if (json_get(doc, t, "timestamp") < 0)
		return JSON_E_MISSING_FIELD;
	if ((r = opt_time(doc, t, &ns)))
		return r;
	if (*skip)
		return JSON_OK;
	int64_t px, qty;
	if ((r = need_num(doc, t, "price", p.px_scale, &px)) ||
	    (r = need_num(doc, t, "qty", p.qty_scale, &qty)))
		return r;
	if (px <= 0 || qty <= 0)
		return JSON_E_BAD_VALUE;
	struct fks_event_hdr h;
	json_hdr(&h, p.id, ns, recv_ns, 0);
	fks_build_trade(&e->trade, &h, px, qty, id, side);
	return JSON_OK;
}

static int ticker_of(struct kraken *d, const struct json_doc *doc, int t, int64_t recv_ns,
		     union fks_event *e, int *skip)
{
	if (doc->tok[t].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	struct json_instr p;
	int r = pair_of(d, doc, t, &p, skip);
	if (r || *skip)
		return r;
	int64_t ns;
	if ((r = opt_time(doc, t, &ns)))
		return r;
	int64_t bp, bq, ap, aq;
	if ((r = need_num(doc, t, "bid", p.px_scale, &bp)) ||
	    (r = need_num(doc, t, "bid_qty", p.qty_scale, &bq)) ||
	    (r = need_num(doc, t, "ask", p.px_scale, &ap)) ||
	    (r = need_num(doc, t, "ask_qty", p.qty_scale, &aq)))
		return r;
	if (bp <= 0 || ap <= 0 || bq < 0 || aq < 0)
		return JSON_E_BAD_VALUE;
	struct fks_event_hdr h;
	json_hdr(&h, p.id, ns, recv_ns, 0);
	fks_build_quote(&e->quote, &h, bp, bq, ap, aq);
	return JSON_OK;
}

typedef int (*entry_fn)(struct kraken *d, const struct json_doc *doc, int t, int64_t recv_ns,
			union fks_event *e, int *skip);

/* trade and ticker: every entry checked, then every entry emitted */
static int entries(struct kraken *d, const struct json_doc *doc, entry_fn fn, int counter,
		   int64_t recv_ns)
{
	int data = json_need(doc, 0, "data", JSON_ARRAY);
	if (data < 0)
		return fail(d, data);
	union fks_event e;
	int skip;
	JSON_FOR_EACH(doc, data, k, t) {
		int r = fn(d, doc, t, recv_ns, &e, &skip);
		if (r)
			return fail(d, r);
	}
	d->v.counts[counter].n++;
	JSON_FOR_EACH(doc, data, k, t) {
		fn(d, doc, t, recv_ns, &e, &skip);
		if (skip)
			fail(d, skip); /* not ours: counted, the rest is used */
		else
			json_stage_emit(&d->v.stage, &e);
	}
	return JSON_OK;
}

static int decode(struct kraken *d, const char *msg, size_t len, int64_t recv_ns)
{
	if (!json_utf8_valid(msg, len)) /* RFC 8259: JSON text is UTF-8 */
		return fail(d, JSON_E_BAD_UTF8);
	struct json_doc doc;
	int r = json_venue_parse(&d->v, &doc, msg, len);
	if (r)
		return fail(d, r);
	if (doc.tok[0].type != JSON_OBJECT)
		return fail(d, JSON_E_BAD_JSON);

	/* {"method":"subscribe","result":{...},"success":true,...} and pong */
	if (json_get(&doc, 0, "method") >= 0) {
		d->v.counts[KR_N_METHOD].n++;
		int ok = json_get(&doc, 0, "success");
		bool success = true;
		if (ok >= 0 && json_bool(&doc, ok, &success))
			return fail(d, JSON_E_WRONG_TYPE);
		if (!success || json_get(&doc, 0, "error") >= 0)
			return fail(d, KR_E_VENUE_ERROR);
		return JSON_OK;
	}
	int ch = json_need(&doc, 0, "channel", JSON_STRING);
	if (ch < 0)
		return fail(d, ch);
	if (json_eq(&doc, ch, "book"))
		return book(d, &doc, recv_ns);
	if (json_eq(&doc, ch, "trade"))
		return entries(d, &doc, trade_of, KR_N_TRADE, recv_ns);
	if (json_eq(&doc, ch, "ticker"))
		return entries(d, &doc, ticker_of, KR_N_TICKER, recv_ns);
	if (json_eq(&doc, ch, "heartbeat")) {
		d->v.counts[KR_N_HEARTBEAT].n++;
		return JSON_OK;
	}
	if (json_eq(&doc, ch, "status")) {
		d->v.counts[KR_N_STATUS].n++;
		return JSON_OK;
	}
	return fail(d, KR_E_UNKNOWN_CHANNEL);
}

int kraken_decode(struct kraken *d, const char *msg, size_t len, int64_t recv_ns,
		  feed_emit_fn emit, void *ctx)
{
	json_stage_begin(&d->v.stage, emit, ctx);
	int r = decode(d, msg, len, recv_ns);
	json_stage_flush(&d->v.stage);
	return r;
}

/* ---- ops table (feeds/decoder.h) ------------------------------------------ */

static void *kraken_create(const struct feed_decoder_params *p, char *err, size_t errlen)
{
	/* learning (`fks feed decode`): room for the symbols a recording holds */
	uint32_t nb = p->symbols->learn ? 64 : (p->symbols->n ? p->symbols->n : 1);
	struct kraken *d = calloc(1, sizeof *d);
	if (!d || kraken_init(d, p->symbols, nb, p->depth ? p->depth : (p->symbols->learn ? 1000 : 10), 1 << 16)) {
		if (d)
			kraken_free(d);
		free(d);
		snprintf(err, errlen, "kraken: cannot set up the decoder (out of memory)");
		return NULL;
	}
	return d;
}

static void kraken_destroy(void *d)
{
	kraken_free(d);
	free(d);
}

static int kraken_decode_op(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	return kraken_decode(d, msg, len, recv_ns, emit, ctx);
}

static size_t kraken_counts_op(const void *d, const struct named_counter **out) { return kraken_counts(d, out); }
static size_t kraken_errors_op(const void *d, const struct named_counter **out) { return kraken_errors(d, out); }

static bool kraken_book_op(const void *d, uint32_t inst, struct feed_book_info *info)
{
	return feed_decoder_l2_info(kraken_book(d, inst), info);
}

static uint32_t kraken_top_op(const void *d, uint32_t inst, uint8_t side, struct book_level *out, uint32_t n)
{
	return feed_decoder_l2_top(kraken_book(d, inst), side, out, n);
}

static bool kraken_websocket(const struct feed_decoder_params *p, struct feed_ws_plan *plan)
{
	(void)p;
	plan->venue = WS_VENUE_KRAKEN;
	plan->channels = WS_CH_TRADE | WS_CH_BOOK;
	return true;
}

const struct feed_decoder_ops kraken_decoder_ops = {
	.name = "kraken",
	.framing = FEED_FRAMING_JSON_LINES,
	.create = kraken_create,
	.destroy = kraken_destroy,
	.decode = kraken_decode_op,
	.counts = kraken_counts_op,
	.errors = kraken_errors_op,
	.book = kraken_book_op,
	.book_top = kraken_top_op,
	.websocket = kraken_websocket,
};
