/* Coinbase Advanced Trade websocket decoder (coinbase.h). */
#include "feeds/decoders/coinbase.h"

#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "feeds/decoder.h"
#include "feeds/xport/ws_venue.h"

#include "feeds/decoders/timefmt.h"

static const char *const count_names[CB_N_COUNT] = {
	[CB_N_L2_SNAPSHOT] = "l2_data.snapshot",
	[CB_N_L2_UPDATE] = "l2_data.update",
	[CB_N_MARKET_TRADES] = "market_trades",
	[CB_N_TICKER] = "ticker",
	[CB_N_HEARTBEATS] = "heartbeats",
	[CB_N_SUBSCRIPTIONS] = "subscriptions",
};

static const char *const extra_names[CB_E_COUNT - JSON_E_COUNT_] = {
	"bad_time", "bad_sequence", "unknown_channel", "no_book", "venue_error",
};

int coinbase_parse_time(const char *s, size_t len, int64_t *ns)
{
	return timefmt_rfc3339_ns(s, len, ns);
}

/* ---- set-up ------------------------------------------------------------ */

int coinbase_init(struct coinbase *d, struct feed_symtab *symbols, uint32_t max_books,
		  uint32_t max_levels, uint32_t max_tokens)
{
	memset(d, 0, sizeof *d);
	if (!symbols || max_books == 0 || max_books > FEED_MAX_SYMBOLS || max_levels == 0 ||
	    max_levels > (1u << 20) || max_tokens < 16 || max_tokens > (1u << 24))
		return -1;
	return json_venue_alloc(&d->v, symbols, max_tokens, max_books, max_levels, count_names,
				CB_N_COUNT, extra_names, CB_E_COUNT - JSON_E_COUNT_);
}

void coinbase_free(struct coinbase *d)
{
	json_venue_free(&d->v);
}

size_t coinbase_counts(const struct coinbase *d, const struct named_counter **out)
{
	return json_venue_counts(&d->v, out);
}

/* Lists the unused "ok" entry [0] too, as it always has (json_venue_errors
 * leaves it out). */
size_t coinbase_errors(const struct coinbase *d, const struct named_counter **out)
{
	*out = d->v.errors;
	return CB_E_COUNT;
}

uint64_t coinbase_error_count(const struct coinbase *d, int reason)
{
	return json_venue_error_count(&d->v, reason);
}

const struct book_l2 *coinbase_book(const struct coinbase *d, uint32_t instrument)
{
	return json_venue_book(&d->v, instrument);
}

static void mark_all_stale(struct coinbase *d)
{
	for (uint32_t i = 0; i < d->v.nbooks; i++)
		d->v.slot[i].book.stale = true;
	d->resync = true;
}

void coinbase_reconnect(struct coinbase *d)
{
	d->have_seq = false;
	mark_all_stale(d);
	d->resync = false; /* the new connection's subscribe brings the snapshots */
}

/* ---- decoding ---------------------------------------------------------- */

static int fail(struct coinbase *d, int reason)
{
	return json_venue_fail(&d->v, reason);
}

/* A required string member's bytes. */
static int need_str(const struct json_doc *doc, int obj, const char *key, const char **s,
		    size_t *n)
{
	int i = json_need(doc, obj, key, JSON_STRING);
	if (i < 0)
		return i;
	*s = doc->js + doc->tok[i].start;
	*n = (size_t)(doc->tok[i].end - doc->tok[i].start);
	return JSON_OK;
}

/* A required decimal-string member at scale: Coinbase quotes every number. */
static int need_fx(const struct json_doc *doc, int obj, const char *key, unsigned scale,
		   int64_t *out)
{
	int i = json_need(doc, obj, key, JSON_STRING);
	return i < 0 ? i : json_fx(doc, i, scale, out);
}

static int need_time(const struct json_doc *doc, int obj, const char *key, int64_t *ns)
{
	const char *s;
	size_t n;
	int r = need_str(doc, obj, key, &s, &n);
	if (r)
		return r;
	return coinbase_parse_time(s, n, ns) ? CB_E_BAD_TIME : JSON_OK;
}

static int product_of(struct coinbase *d, const struct json_doc *doc, int obj,
		      struct json_instr *p, int *skip)
{
	return json_venue_instr(&d->v, doc, obj, "product_id", p, skip);
}

static int side_of_l2(const struct json_doc *doc, int u, uint8_t *side)
{
	int i = json_need(doc, u, "side", JSON_STRING);
	if (i < 0)
		return i;
	if (json_eq(doc, i, "bid"))
		*side = FKS_SIDE_BUY;
	else if (json_eq(doc, i, "offer"))
		*side = FKS_SIDE_SELL;
	else
		return JSON_E_BAD_VALUE;
	return JSON_OK;
}

/* One element of "updates": validated and converted. */
static int l2_level(const struct json_doc *doc, int u, const struct json_instr *p, uint8_t *side,
		    int64_t *px, int64_t *qty, int64_t *ns)
{
	if (doc->tok[u].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	int r = side_of_l2(doc, u, side);
	if (!r)
		r = need_fx(doc, u, "price_level", p->px_scale, px);
	if (!r)
		r = need_fx(doc, u, "new_quantity", p->qty_scale, qty);
	if (!r)
		r = need_time(doc, u, "event_time", ns);
	if (!r && (*px <= 0 || *qty < 0))
		r = JSON_E_BAD_VALUE;
	return r;
}

/* l2_data event kind: 1 snapshot, 2 update, or an error. */
static int l2_kind(const struct json_doc *doc, int ev)
{
	int t = json_need(doc, ev, "type", JSON_STRING);
	if (t < 0)
		return t;
	if (json_eq(doc, t, "snapshot"))
		return 1;
	if (json_eq(doc, t, "update"))
		return 2;
	return JSON_E_UNKNOWN_TYPE;
}

/* Validate every l2_data event; nothing is changed except the stale mark
 * of a book whose update is refused (the update is lost either way). */
static int l2_validate(struct coinbase *d, const struct json_doc *doc, int events)
{
	JSON_FOR_EACH(doc, events, k, ev) {
		if (doc->tok[ev].type != JSON_OBJECT)
			return JSON_E_WRONG_TYPE;
		int kind = l2_kind(doc, ev);
		if (kind < 0)
			return kind;
		struct json_instr p;
		int skip;
		int r = product_of(d, doc, ev, &p, &skip);
		if (r)
			return r;
		int ups = json_need(doc, ev, "updates", JSON_ARRAY);
		r = ups < 0 ? ups : JSON_OK;
		if (!r && p.id) {
			JSON_FOR_EACH(doc, ups, j, u) {
				uint8_t side;
				int64_t px, qty, ns;
				r = l2_level(doc, u, &p, &side, &px, &qty, &ns);
				if (r)
					break;
			}
		}
		if (r) {
			if (p.bk) {
				p.bk->book.stale = true;
				d->resync = true;
			}
			return r;
		}
	}
	return JSON_OK;
}

static int l2_apply(struct coinbase *d, const struct json_doc *doc, int events, int64_t msg_ns,
		    int64_t recv_ns)
{
	int rc = JSON_OK;
	JSON_FOR_EACH(doc, events, k, ev) {
		int kind = l2_kind(doc, ev);
		d->v.counts[kind == 1 ? CB_N_L2_SNAPSHOT : CB_N_L2_UPDATE].n++;
		struct json_instr p;
		int skip;
		product_of(d, doc, ev, &p, &skip);
		/* not ours: counted, and the rest of the message is used */
		if (skip) {
			fail(d, skip);
			continue;
		}
		if (!p.bk) {
			fail(d, CB_E_NO_BOOK);
			continue;
		}
		struct book_l2 *b = &p.bk->book;
		struct fks_event_hdr h;
		uint16_t flags = kind == 1 ? FKS_EVF_SNAPSHOT : 0;
		int64_t ns = msg_ns;
		if (kind == 1) {
			json_hdr(&h, p.id, msg_ns, recv_ns, flags);
			json_venue_book_reset(p.bk, 0, &h, json_stage_emit, &d->v.stage);
		}
		int ups = json_get(doc, ev, "updates");
		JSON_FOR_EACH(doc, ups, j, u) {
			uint8_t side;
			int64_t px, qty;
			l2_level(doc, u, &p, &side, &px, &qty, &ns);
			json_hdr(&h, p.id, ns, recv_ns, flags | (b->stale ? FKS_EVF_STALE : 0));
			int r = json_book_set(b, side, px, qty, 0, &h, json_stage_emit, &d->v.stage);
			if (r)
				rc = fail(d, r); /* book_full: a level beyond what we keep */
		}
		json_venue_quote(p.bk, ns, recv_ns, json_stage_emit, &d->v.stage);
	}
	return rc;
}

/* Trade ids are decimal strings; anything else is hashed (event.h). */
static uint64_t trade_id_of(const struct json_doc *doc, int i)
{
	uint64_t id;
	if (json_u64(doc, i, &id) == JSON_OK)
		return id;
	return json_fnv1a(doc->js + doc->tok[i].start,
			  (size_t)(doc->tok[i].end - doc->tok[i].start));
}

/* One trade, validated and converted into *e (header without flags).
 * *skip is set (and 0 returned) for a product that is not ours. */
static int trade_of(struct coinbase *d, const struct json_doc *doc, int t, int64_t msg_ns,
		    int64_t recv_ns, union fks_event *e, int *skip)
{
	(void)msg_ns;   /* a trade has its own time */
	if (doc->tok[t].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	struct json_instr p;
	int r = product_of(d, doc, t, &p, skip);
	if (r)
		return r;
	int idt = json_need(doc, t, "trade_id", JSON_STRING);
	if (idt < 0)
		return idt;
	int st = json_need(doc, t, "side", JSON_STRING);
	if (st < 0)
		return st;
	uint8_t side = json_eq(doc, st, "BUY") ? FKS_SIDE_BUY
		       : json_eq(doc, st, "SELL") ? FKS_SIDE_SELL : FKS_SIDE_NONE;
	if (side == FKS_SIDE_NONE)
		return JSON_E_BAD_VALUE;
	int64_t ns;
	if ((r = need_time(doc, t, "time", &ns)))
		return r;
	if (*skip)
		return JSON_OK;
	int64_t px, qty;
	if ((r = need_fx(doc, t, "price", p.px_scale, &px)) ||
	    (r = need_fx(doc, t, "size", p.qty_scale, &qty)))
		return r;
	if (px <= 0 || qty <= 0)
		return JSON_E_BAD_VALUE;
	struct fks_event_hdr h;
	json_hdr(&h, p.id, ns, recv_ns, 0);
	fks_build_trade(&e->trade, &h, px, qty, trade_id_of(doc, idt), side);
	return JSON_OK;
}

static int ticker_of(struct coinbase *d, const struct json_doc *doc, int t, int64_t ns,
		     int64_t recv_ns, union fks_event *e, int *skip)
{
	if (doc->tok[t].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;
	struct json_instr p;
	int r = product_of(d, doc, t, &p, skip);
	if (r || *skip)
		return r;
	int64_t bp, bq, ap, aq;
	if ((r = need_fx(doc, t, "best_bid", p.px_scale, &bp)) ||
	    (r = need_fx(doc, t, "best_bid_quantity", p.qty_scale, &bq)) ||
	    (r = need_fx(doc, t, "best_ask", p.px_scale, &ap)) ||
	    (r = need_fx(doc, t, "best_ask_quantity", p.qty_scale, &aq)))
		return r;
	if (bp <= 0 || ap <= 0 || bq < 0 || aq < 0)
		return JSON_E_BAD_VALUE;
	struct fks_event_hdr h;
	json_hdr(&h, p.id, ns, recv_ns, 0);
	fks_build_quote(&e->quote, &h, bp, bq, ap, aq);
	return JSON_OK;
}

typedef int (*entry_fn)(struct coinbase *d, const struct json_doc *doc, int t, int64_t msg_ns,
			int64_t recv_ns, union fks_event *e, int *skip);

/* market_trades and ticker: the entries of every event's array `key`,
 * each checked by fn; with apply, each is emitted (or counted, when its
 * product is not ours). */
static int entries(struct coinbase *d, const struct json_doc *doc, int events, const char *key,
		   entry_fn fn, int64_t msg_ns, int64_t recv_ns, bool apply)
{
	JSON_FOR_EACH(doc, events, k, ev) {
		if (doc->tok[ev].type != JSON_OBJECT)
			return JSON_E_WRONG_TYPE;
		int ts = json_need(doc, ev, key, JSON_ARRAY);
		if (ts < 0)
			return ts;
		JSON_FOR_EACH(doc, ts, j, t) {
			union fks_event e;
			int skip;
			int r = fn(d, doc, t, msg_ns, recv_ns, &e, &skip);
			if (r)
				return r;
			if (!apply)
				continue;
			if (skip)
				fail(d, skip);
			else
				json_stage_emit(&d->v.stage, &e);
		}
	}
	return JSON_OK;
}

static int heartbeats(struct coinbase *d, const struct json_doc *doc, int events)
{
	uint64_t counter = d->last_heartbeat;
	JSON_FOR_EACH(doc, events, k, ev) {
		if (doc->tok[ev].type != JSON_OBJECT)
			return JSON_E_WRONG_TYPE;
		int c = json_need(doc, ev, "heartbeat_counter", JSON_PRIMITIVE);
		if (c < 0)
			return c;
		int r = json_u64(doc, c, &counter);
		if (r)
			return r;
		int64_t ns;
		if (json_get(doc, ev, "current_time") >= 0 &&
		    (r = need_time(doc, ev, "current_time", &ns)))
			return r;
	}
	d->last_heartbeat = counter;
	return JSON_OK;
}

enum channel { CH_UNKNOWN, CH_L2, CH_TRADES, CH_TICKER, CH_HEARTBEATS, CH_SUBSCRIPTIONS };

static enum channel channel_of(const struct json_doc *doc, int ch)
{
	/* "ticker_batch" carries the same tickers, every 5 s */
	return json_eq(doc, ch, "l2_data") ? CH_L2
	       : json_eq(doc, ch, "market_trades") ? CH_TRADES
	       : json_eq(doc, ch, "ticker") || json_eq(doc, ch, "ticker_batch") ? CH_TICKER
	       : json_eq(doc, ch, "heartbeats") ? CH_HEARTBEATS
	       : json_eq(doc, ch, "subscriptions") ? CH_SUBSCRIPTIONS : CH_UNKNOWN;
}

static int decode(struct coinbase *d, const char *msg, size_t len, int64_t recv_ns)
{
	/* RFC 8259: JSON text is UTF-8.  One pass over the bytes, so every
	 * string we use (and the ones we skip) is checked. */
	if (!json_utf8_valid(msg, len))
		return fail(d, JSON_E_BAD_UTF8);
	struct json_doc doc;
	int r = json_venue_parse(&d->v, &doc, msg, len);
	if (r)
		return fail(d, r);
	if (doc.tok[0].type != JSON_OBJECT)
		return fail(d, JSON_E_BAD_JSON);
	int ty = json_get(&doc, 0, "type");
	if (ty >= 0 && json_eq(&doc, ty, "error"))
		return fail(d, CB_E_VENUE_ERROR);

	int ch = json_need(&doc, 0, "channel", JSON_STRING);
	if (ch < 0)
		return fail(d, ch);
	int64_t msg_ns;
	if ((r = need_time(&doc, 0, "timestamp", &msg_ns)))
		return fail(d, r);
	int sq = json_get(&doc, 0, "sequence_num");
	if (sq < 0)
		return fail(d, JSON_E_MISSING_FIELD);
	uint64_t seq;
	if (doc.tok[sq].type != JSON_PRIMITIVE || json_u64(&doc, sq, &seq) != JSON_OK)
		return fail(d, CB_E_BAD_SEQUENCE);

	/* One counter per connection over all channels: a message we will not
	 * use still proves none was lost. */
	int rc = JSON_OK;
	if (d->have_seq && seq <= d->last_seq)
		return fail(d, JSON_E_STALE_UPDATE);
	if (d->have_seq && seq != d->last_seq + 1) {
		rc = fail(d, JSON_E_GAP);
		mark_all_stale(d);
	}
	d->have_seq = true;
	d->last_seq = seq;

	enum channel c = channel_of(&doc, ch);
	if (c == CH_UNKNOWN)
		return fail(d, CB_E_UNKNOWN_CHANNEL);
	if (c == CH_SUBSCRIPTIONS) {
		d->v.counts[CB_N_SUBSCRIPTIONS].n++;
		return rc;
	}
	int events = json_need(&doc, 0, "events", JSON_ARRAY);
	if (events < 0)
		return fail(d, events);

	switch (c) {
	case CH_L2:
		if ((r = l2_validate(d, &doc, events)))
			return fail(d, r);
		r = l2_apply(d, &doc, events, msg_ns, recv_ns);
		break;
	case CH_TRADES:
		if ((r = entries(d, &doc, events, "trades", trade_of, msg_ns, recv_ns, false)))
			return fail(d, r);
		d->v.counts[CB_N_MARKET_TRADES].n++;
		r = entries(d, &doc, events, "trades", trade_of, msg_ns, recv_ns, true);
		break;
	case CH_TICKER:
		if ((r = entries(d, &doc, events, "tickers", ticker_of, msg_ns, recv_ns, false)))
			return fail(d, r);
		d->v.counts[CB_N_TICKER].n++;
		r = entries(d, &doc, events, "tickers", ticker_of, msg_ns, recv_ns, true);
		break;
	case CH_HEARTBEATS:
		if ((r = heartbeats(d, &doc, events)))
			return fail(d, r);
		d->v.counts[CB_N_HEARTBEATS].n++;
		break;
	default:
		break;
	}
	return r ? r : rc;
}

int coinbase_decode(struct coinbase *d, const char *msg, size_t len, int64_t recv_ns,
		    feed_emit_fn emit, void *ctx)
{
	json_stage_begin(&d->v.stage, emit, ctx);
	int r = decode(d, msg, len, recv_ns);
	json_stage_flush(&d->v.stage);
	return r;
}

/* ---- ops table (feeds/decoder.h) ------------------------------------------ */

static void *coinbase_create(const struct feed_decoder_params *p, char *err, size_t errlen)
{
	/* learning (`fks feed decode`): room for the symbols a recording holds */
	uint32_t nb = p->symbols->learn ? 64 : (p->symbols->n ? p->symbols->n : 1);
	struct coinbase *d = calloc(1, sizeof *d);
	if (!d || coinbase_init(d, p->symbols, nb, 8192, 1 << 17)) {
		if (d)
			coinbase_free(d);
		free(d);
		snprintf(err, errlen, "coinbase: cannot set up the decoder (out of memory)");
		return NULL;
	}
	return d;
}

static void coinbase_destroy(void *d)
{
	coinbase_free(d);
	free(d);
}

static int coinbase_decode_op(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	return coinbase_decode(d, msg, len, recv_ns, emit, ctx);
}

static size_t coinbase_counts_op(const void *d, const struct named_counter **out) { return coinbase_counts(d, out); }
static size_t coinbase_errors_op(const void *d, const struct named_counter **out) { return coinbase_errors(d, out); }

static bool coinbase_book_op(const void *d, uint32_t inst, struct feed_book_info *info)
{
	return feed_decoder_l2_info(coinbase_book(d, inst), info);
}

static uint32_t coinbase_top_op(const void *d, uint32_t inst, uint8_t side, struct book_level *out, uint32_t n)
{
	return feed_decoder_l2_top(coinbase_book(d, inst), side, out, n);
}

static bool coinbase_websocket(const struct feed_decoder_params *p, struct feed_ws_plan *plan)
{
	(void)p;
	plan->venue = WS_VENUE_COINBASE;
	plan->channels = WS_CH_TRADE | WS_CH_TOP | WS_CH_BOOK | WS_CH_HEARTBEAT;
	return true;
}

/* Coinbase restarts its sequence numbers on a new connection. */
static void coinbase_reconnected(void *d) { coinbase_reconnect(d); }

const struct feed_decoder_ops coinbase_decoder_ops = {
	.name = "coinbase",
	.framing = FEED_FRAMING_JSON_LINES,
	.create = coinbase_create,
	.destroy = coinbase_destroy,
	.decode = coinbase_decode_op,
	.counts = coinbase_counts_op,
	.errors = coinbase_errors_op,
	.book = coinbase_book_op,
	.book_top = coinbase_top_op,
	.websocket = coinbase_websocket,
	.reconnected = coinbase_reconnected,
};
