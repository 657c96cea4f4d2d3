/* Binance spot and USD-M futures market data (binance.h). */
#include "feeds/decoders/binance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoder.h"
#include "feeds/decoders/binance_rest.h"
#include "feeds/xport/ws_venue.h"

static const char *const msg_names[BINANCE_MSG_COUNT_] = {
	[BINANCE_MSG_TRADE] = "trade",
	[BINANCE_MSG_AGG_TRADE] = "aggTrade",
	[BINANCE_MSG_BOOK_TICKER] = "bookTicker",
	[BINANCE_MSG_DEPTH_UPDATE] = "depthUpdate",
	[BINANCE_MSG_SNAPSHOT] = "snapshot",
	[BINANCE_MSG_RESPONSE] = "response",
};

int binance_init(struct binance *d, struct feed_symtab *symbols)
{
	if (!d || !symbols)
		return -1;
	memset(d, 0, sizeof *d);
	json_venue_init(&d->v, symbols, d->tok, BINANCE_MAX_TOKENS, d->slots, d->lv,
			BINANCE_MAX_BOOKS, BINANCE_BOOK_LEVELS, msg_names, BINANCE_MSG_COUNT_, NULL, 0);
	return 0;
}

static int counted(struct binance *d, int r)
{
	return json_venue_fail(&d->v, r);
}

/* ---- the parts of a message --------------------------------------------- */

/* Venue time: "T" (transaction/trade time) where present, else "E" (event
 * time); 0 when the message carries neither (raw spot bookTicker). */
static int event_time(const struct json_doc *j, int obj, int64_t *ns)
{
	int v = json_get(j, obj, "T");

	if (v < 0)
		v = json_get(j, obj, "E");
	if (v < 0) {
		*ns = 0;
		return JSON_OK;
	}
	return json_ms_tok_to_ns(j, v, ns);
}

static int do_trade(struct binance *d, const struct json_doc *j, int obj, bool agg,
		    int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	uint32_t id;
	const struct feed_symbol *sym;
	int64_t px, qty, t;
	uint64_t tid;
	bool maker;
	int r;

	if ((r = json_venue_symbol(&d->v, j, obj, "s", &id, &sym)) ||
	    (r = json_fx(j, json_get(j, obj, "p"), sym->px_scale, &px)) ||
	    (r = json_fx(j, json_get(j, obj, "q"), sym->qty_scale, &qty)) ||
	    (r = json_u64(j, json_get(j, obj, agg ? "a" : "t"), &tid)) ||
	    (r = json_bool(j, json_get(j, obj, "m"), &maker)) ||
	    (r = event_time(j, obj, &t)))
		return r;
	if (px <= 0 || qty <= 0)
		return JSON_E_BAD_VALUE;

	union fks_event ev;
	struct fks_event_hdr h;
	json_hdr(&h, id, t, recv_ns, 0);
	/* The buyer was the maker: the seller crossed the spread. */
	fks_build_trade(&ev.trade, &h, px, qty, tid, maker ? FKS_SIDE_SELL : FKS_SIDE_BUY);
	if (emit)
		emit(ctx, &ev);
	return JSON_OK;
}

static int do_book_ticker(struct binance *d, const struct json_doc *j, int obj, int64_t recv_ns,
			  feed_emit_fn emit, void *ctx)
{
	uint32_t id;
	const struct feed_symbol *sym;
	int64_t bp, bq, ap, aq, t;
	int r;

	if ((r = json_venue_symbol(&d->v, j, obj, "s", &id, &sym)) ||
	    (r = json_fx(j, json_get(j, obj, "b"), sym->px_scale, &bp)) ||
	    (r = json_fx(j, json_get(j, obj, "B"), sym->qty_scale, &bq)) ||
	    (r = json_fx(j, json_get(j, obj, "a"), sym->px_scale, &ap)) ||
	    (r = json_fx(j, json_get(j, obj, "A"), sym->qty_scale, &aq)) ||
	    (r = event_time(j, obj, &t)))
		return r;
	if (bp < 0 || bq < 0 || ap < 0 || aq < 0)
		return JSON_E_BAD_VALUE;

	union fks_event ev;
	struct fks_event_hdr h;
	json_hdr(&h, id, t, recv_ns, 0);
	fks_build_quote(&ev.quote, &h, bp, bq, ap, aq);
	if (emit)
		emit(ctx, &ev);
	return JSON_OK;
}

/* ---- books, the diff buffer and sync ------------------------------------ */

/* Drop the buffered messages of instrument id, except those marked keep,
 * and close the holes: entries stay in arrival order. */
static void compact(struct binance *d, uint32_t id, bool honour_keep)
{
	uint32_t w = 0, off = 0;

	for (uint32_t i = 0; i < d->npend; i++) {
		struct binance_pending p = d->pend[i];

		if (p.instrument == id && !(honour_keep && p.keep))
			continue;
		if (p.off != off)
			memmove(d->buf + off, d->buf + p.off, p.len);
		p.off = off;
		p.keep = false;
		off += p.len;
		d->pend[w++] = p;
	}
	d->npend = w;
	d->buf_used = off;
}

static int buffer_msg(struct binance *d, uint32_t id, const char *msg, size_t len, int64_t recv_ns)
{
	int r = JSON_OK;

	if (len > BINANCE_BUF_BYTES)
		return JSON_E_TOO_LONG;
	if (d->npend == BINANCE_BUF_MSGS || d->buf_used + len > BINANCE_BUF_BYTES) {
		/* Whatever snapshot was requested may now be older than the
		 * oldest diff we keep: start this instrument over. */
		compact(d, id, false);
		d->resync_requests++;
		r = JSON_E_BUFFER_FULL;
		if (d->npend == BINANCE_BUF_MSGS || d->buf_used + len > BINANCE_BUF_BYTES)
			return r;   /* other instruments fill it: this one is lost too */
	}
	memcpy(d->buf + d->buf_used, msg, len);
	d->pend[d->npend++] = (struct binance_pending){
		.instrument = id, .off = d->buf_used, .len = (uint32_t)len, .recv_ns = recv_ns,
	};
	d->buf_used += (uint32_t)len;
	d->buffered++;
	return r;
}

/* Out of sync: no book at all is better than a wrong one. */
static void gap(struct binance *d, struct json_venue_book *bk, int64_t t, int64_t recv_ns,
		feed_emit_fn emit, void *ctx)
{
	struct fks_event_hdr h;

	json_hdr(&h, bk->book.instrument, t, recv_ns, FKS_EVF_STALE);
	json_venue_book_lost(bk, 0, &h, emit, ctx);
	bk->sync = BINANCE_NEED_SNAPSHOT;
	d->resync_requests++;
}

/* Parse the [price, qty] arrays of key into d->scratch from *n on. */
static int parse_levels(struct binance *d, const struct json_doc *j, int obj, const char *key,
			const struct feed_symbol *sym, uint32_t *n)
{
	return json_venue_levels(j, obj, key, sym, d->scratch,
				 sizeof d->scratch / sizeof d->scratch[0], n);
}

/* keep: non-NULL while replaying the buffer; set when the message must
 * stay buffered instead of being buffered again. */
static int do_depth(struct binance *d, const struct json_doc *j, int obj, const char *msg,
		    size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx, bool *keep)
{
	uint32_t id, nb = 0, na = 0;
	const struct feed_symbol *sym;
	uint64_t U, u;
	int64_t pu = 0, t;
	int r;

	if ((r = json_venue_symbol(&d->v, j, obj, "s", &id, &sym)) ||
	    (r = json_u64(j, json_get(j, obj, "U"), &U)) ||
	    (r = json_u64(j, json_get(j, obj, "u"), &u)) ||
	    (r = event_time(j, obj, &t)))
		return r;
	int pu_tok = json_get(j, obj, "pu");
	bool futures = pu_tok >= 0;
	if (futures && (r = json_i64(j, pu_tok, &pu)))
		return r;
	if (U > u)
		return JSON_E_BAD_VALUE;
	if ((r = parse_levels(d, j, obj, "b", sym, &nb)))
		return r;
	na = nb;
	if ((r = parse_levels(d, j, obj, "a", sym, &na)))
		return r;
	na -= nb;

	bool fresh = !json_venue_book(&d->v, id);
	struct json_venue_book *bk = json_venue_slot(&d->v, id, true);
	if (!bk)
		return JSON_E_TOO_MANY_BOOKS;
	if (fresh)
		d->resync_requests++;   /* the first snapshot is a request too */

	uint64_t L = bk->book.last_update_id;
	switch (bk->sync) {
	case BINANCE_NEED_SNAPSHOT:
		if (keep) {
			*keep = true;
			return JSON_OK;
		}
		return buffer_msg(d, id, msg, len, recv_ns);
	case BINANCE_WAIT_FIRST:
		if (futures ? u < L : u <= L) {
			d->dropped_old++;   /* already in the snapshot */
			return JSON_OK;
		}
		/* Futures: Binance says U <= L <= u.  An event whose pu (the u
		 * before it) is <= L continues the snapshot just as well, and
		 * covers a snapshot taken exactly between two events, which the
		 * documented rule would refuse forever. */
		if (futures ? U <= L || (pu >= 0 && (uint64_t)pu <= L) : U <= L + 1)
			break;
		goto out_of_sync;
	default: /* BINANCE_LIVE */
		if (u <= L)
			return JSON_E_STALE_UPDATE;
		if (futures ? pu >= 0 && (uint64_t)pu == L : U == L + 1)
			break;
		goto out_of_sync;
	}

	struct fks_event_hdr h;
	json_hdr(&h, id, t, recv_ns, 0);
	json_venue_apply(&d->v, bk, d->scratch, nb, na, false, u, &h, emit, ctx);
	bk->book.last_update_id = u;
	bk->sync = BINANCE_LIVE;
	return JSON_OK;

out_of_sync:
	gap(d, bk, t, recv_ns, emit, ctx);
	/* This event is newer than the book: the next snapshot may need it. */
	if (keep)
		*keep = true;
	else
		buffer_msg(d, id, msg, len, recv_ns);
	return JSON_E_GAP;
}

/* One message; *type is its enum binance_msg on success. */
static int decode_msg(struct binance *d, const char *msg, size_t len, int64_t recv_ns,
		      feed_emit_fn emit, void *ctx, bool *keep, int *type)
{
	struct json_doc j;
	int r = json_venue_parse(&d->v, &j, msg, len);

	if (r)
		return r;
	if (j.tok[0].type != JSON_OBJECT)
		return JSON_E_WRONG_TYPE;

	int obj = 0;
	int data = json_get(&j, 0, "data");
	if (data >= 0 && json_get(&j, 0, "stream") >= 0) {
		if (j.tok[data].type != JSON_OBJECT)
			return JSON_E_WRONG_TYPE;
		obj = data;
	}

	int e = json_get(&j, obj, "e");
	if (e < 0) {
		/* The raw spot bookTicker stream has no "e". */
		if (json_get(&j, obj, "u") >= 0 && json_get(&j, obj, "B") >= 0 &&
		    json_get(&j, obj, "A") >= 0) {
			*type = BINANCE_MSG_BOOK_TICKER;
			return do_book_ticker(d, &j, obj, recv_ns, emit, ctx);
		}
		if (obj == 0 && json_get(&j, 0, "result") >= 0) {
			*type = BINANCE_MSG_RESPONSE;
			return JSON_OK;
		}
		return JSON_E_UNKNOWN_TYPE;
	}
	const char *s;
	size_t n;
	if ((r = json_str(&j, e, &s, &n)))
		return r;
	if (json_eq(&j, e, "depthUpdate")) {
		*type = BINANCE_MSG_DEPTH_UPDATE;
		return do_depth(d, &j, obj, msg, len, recv_ns, emit, ctx, keep);
	}
	if (json_eq(&j, e, "trade")) {
		*type = BINANCE_MSG_TRADE;
		return do_trade(d, &j, obj, false, recv_ns, emit, ctx);
	}
	if (json_eq(&j, e, "aggTrade")) {
		*type = BINANCE_MSG_AGG_TRADE;
		return do_trade(d, &j, obj, true, recv_ns, emit, ctx);
	}
	if (json_eq(&j, e, "bookTicker")) {
		*type = BINANCE_MSG_BOOK_TICKER;
		return do_book_ticker(d, &j, obj, recv_ns, emit, ctx);
	}
	return JSON_E_UNKNOWN_TYPE;
}

int binance_decode(struct binance *d, const char *msg, size_t len, int64_t recv_ns,
		   feed_emit_fn emit, void *ctx)
{
	int type = -1;
	int r = decode_msg(d, msg, len, recv_ns, emit, ctx, NULL, &type);

	if (r == 0 && type >= 0)
		d->v.counts[type].n++;
	return counted(d, r);
}

/* Replay instrument id's buffered diffs against its new snapshot. */
static void replay(struct binance *d, uint32_t id, feed_emit_fn emit, void *ctx)
{
	for (uint32_t i = 0; i < d->npend; i++) {
		struct binance_pending *p = &d->pend[i];
		int type;
		bool keep = false;

		if (p->instrument != id)
			continue;
		/* Counted once already when it arrived; count only what the
		 * replay itself finds (a gap, a stale event). */
		counted(d, decode_msg(d, d->buf + p->off, p->len, p->recv_ns, emit, ctx, &keep, &type));
		p->keep = keep;
	}
	compact(d, id, true);
}

/* The levels are in d->scratch (nb bids, then na asks), checked. */
static int apply_snapshot(struct binance *d, uint32_t id, uint64_t last_update_id, uint32_t nb,
			  uint32_t na, int64_t t, int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	struct json_venue_book *bk = json_venue_slot(&d->v, id, true);
	struct fks_event_hdr h;

	if (!bk)
		return JSON_E_TOO_MANY_BOOKS;
	json_hdr(&h, id, t, recv_ns, FKS_EVF_SNAPSHOT);
	json_venue_book_reset(bk, last_update_id, &h, emit, ctx);
	json_venue_apply(&d->v, bk, d->scratch, nb, na, true, last_update_id, &h, emit, ctx);
	bk->book.last_update_id = last_update_id;
	bk->sync = BINANCE_WAIT_FIRST;
	d->v.counts[BINANCE_MSG_SNAPSHOT].n++;
	replay(d, id, emit, ctx);
	return JSON_OK;
}

int binance_snapshot(struct binance *d, uint32_t instrument, uint64_t last_update_id,
		     const struct book_level *bids, uint32_t nbids,
		     const struct book_level *asks, uint32_t nasks,
		     int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	const size_t cap = sizeof d->scratch / sizeof d->scratch[0];
	uint32_t n = 0, nb = 0;

	if (!feed_symtab_get(d->v.symbols, instrument))
		return counted(d, JSON_E_UNKNOWN_SYMBOL);
	if ((size_t)nbids + nasks > cap)
		return counted(d, JSON_E_TOO_MANY_TOKENS);
	for (int side = 0; side < 2; side++) {
		const struct book_level *lv = side ? asks : bids;
		uint32_t cnt = side ? nasks : nbids;

		for (uint32_t k = 0; k < cnt; k++) {
			if (lv[k].px <= 0 || lv[k].qty < 0)
				return counted(d, JSON_E_BAD_VALUE);
			if (lv[k].qty)
				d->scratch[n++] = lv[k];
		}
		if (!side)
			nb = n;
	}
	return counted(d, apply_snapshot(d, instrument, last_update_id, nb, n - nb, 0, recv_ns,
					 emit, ctx));
}

int binance_snapshot_json(struct binance *d, const char *symbol, size_t symbol_len,
			  const char *body, size_t len, int64_t recv_ns,
			  feed_emit_fn emit, void *ctx)
{
	struct json_doc j;
	uint32_t id = feed_symtab_lookup(d->v.symbols, symbol, symbol_len);
	const struct feed_symbol *sym = feed_symtab_get(d->v.symbols, id);
	uint64_t lid;
	uint32_t nb = 0, n = 0;
	int64_t t;
	int r;

	if (!sym)
		return counted(d, JSON_E_UNKNOWN_SYMBOL);
	if ((r = json_venue_parse(&d->v, &j, body, len)))
		return counted(d, r);
	if (j.tok[0].type != JSON_OBJECT)
		return counted(d, JSON_E_WRONG_TYPE);
	if ((r = json_u64(&j, json_get(&j, 0, "lastUpdateId"), &lid)) ||
	    (r = event_time(&j, 0, &t)) ||
	    (r = parse_levels(d, &j, 0, "bids", sym, &nb)))
		return counted(d, r);
	n = nb;
	if ((r = parse_levels(d, &j, 0, "asks", sym, &n)))
		return counted(d, r);
	return counted(d, apply_snapshot(d, id, lid, nb, n - nb, t, recv_ns, emit, ctx));
}

bool binance_needs_snapshot(const struct binance *d, uint32_t instrument)
{
	return json_venue_needs_snapshot(&d->v, instrument);
}

size_t binance_pending_snapshots(const struct binance *d, uint32_t *ids, size_t cap)
{
	return json_venue_pending_snapshots(&d->v, ids, cap);
}

const struct book_l2 *binance_book(const struct binance *d, uint32_t instrument)
{
	return json_venue_book(&d->v, instrument);
}

size_t binance_counts(const struct binance *d, const struct named_counter **out)
{
	return json_venue_counts(&d->v, out);
}

size_t binance_errors(const struct binance *d, const struct named_counter **out)
{
	return json_venue_errors(&d->v, out);
}

/* ---- ops table (feeds/decoder.h) ------------------------------------------ */

/* The decoder and, live, the REST client its depth books sync from. */
struct binance_feed {
	struct binance dec;
	struct binance_rest *rest;   /* websocket only */
};

static void binance_destroy(void *d)
{
	struct binance_feed *f = d;
	binance_rest_free(f->rest);
	free(f);
}

static void *binance_create(const struct feed_decoder_params *p, char *err, size_t errlen)
{
	struct binance_feed *f = calloc(1, sizeof *f);
	if (!f || binance_init(&f->dec, p->symbols)) {
		free(f);
		snprintf(err, errlen, "binance: cannot set up the decoder (out of memory)");
		return NULL;
	}
	if (!p->websocket)
		return f;
	char e[256];
	f->rest = binance_rest_new(p->rest_url, p->ws_url, p->ca_file, p->futures, e, sizeof e);
	if (!f->rest) {
		snprintf(err, errlen, "%s REST: %s",
			 ws_venue_name(p->futures ? WS_VENUE_BINANCE_FUTURES : WS_VENUE_BINANCE_SPOT), e);
		binance_destroy(f);
		return NULL;
	}
	return f;
}

static int binance_decode_op(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	return binance_decode(&((struct binance_feed *)d)->dec, msg, len, recv_ns, emit, ctx);
}

static size_t binance_counts_op(const void *d, const struct named_counter **out)
{
	return binance_counts(&((const struct binance_feed *)d)->dec, out);
}

static size_t binance_errors_op(const void *d, const struct named_counter **out)
{
	return binance_errors(&((const struct binance_feed *)d)->dec, out);
}

static size_t binance_counters_op(const void *d, struct named_counter *out, size_t cap)
{
	const struct binance_feed *f = d;
	return f->rest ? binance_rest_counters(f->rest, out, cap) : 0;
}

static bool binance_book_op(const void *d, uint32_t inst, struct feed_book_info *info)
{
	return feed_decoder_l2_info(binance_book(&((const struct binance_feed *)d)->dec, inst), info);
}

static uint32_t binance_top_op(const void *d, uint32_t inst, uint8_t side, struct book_level *out, uint32_t n)
{
	return feed_decoder_l2_top(binance_book(&((const struct binance_feed *)d)->dec, inst), side, out, n);
}

static bool binance_websocket(const struct feed_decoder_params *p, struct feed_ws_plan *plan)
{
	plan->venue = p->futures ? WS_VENUE_BINANCE_FUTURES : WS_VENUE_BINANCE_SPOT;
	/* trades and depth diffs; the quotes come from the synced book (the
	 * REST snapshots of binance_rest.h), not bookTicker, so there is one
	 * top of book, never two disagreeing ones */
	plan->channels = WS_CH_TRADE | WS_CH_BOOK;
	return true;
}

static uint32_t binance_upkeep(void *d, feed_emit_fn emit, void *ctx)
{
	struct binance_feed *f = d;
	return f->rest ? binance_rest_sync(f->rest, &f->dec, emit, ctx) : 0;
}

/* "rest_url": where depth snapshots come from; "rest_ca_file": its trust
 * anchors.  Live (websocket) sources only. */
static int binance_set_option(void *d, const char *key, const char *value, char *err, size_t errlen)
{
	struct binance_feed *f = d;
	if (!f->rest) {
		snprintf(err, errlen, "not a live Binance source");
		return -1;
	}
	if (!strcmp(key, "rest_url"))
		return binance_rest_set_base(f->rest, value, err, errlen);
	if (!strcmp(key, "rest_ca_file"))
		return binance_rest_set_ca_file(f->rest, value, err, errlen);
	snprintf(err, errlen, "binance: no option \"%s\" (rest_url, rest_ca_file)", key);
	return -1;
}

const struct feed_decoder_ops binance_decoder_ops = {
	.name = "binance",
	.framing = FEED_FRAMING_JSON_LINES,
	.create = binance_create,
	.destroy = binance_destroy,
	.decode = binance_decode_op,
	.counts = binance_counts_op,
	.errors = binance_errors_op,
	.counters = binance_counters_op,
	.book = binance_book_op,
	.book_top = binance_top_op,
	.websocket = binance_websocket,
	.upkeep = binance_upkeep,
	.set_option = binance_set_option,
};
