/* Bybit v5 public market data (bybit.h). */
#include "bybit.h"

#include <string.h>

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
	d->symbols = symbols;
	for (int i = 0; i < BYBIT_MSG_COUNT_; i++)
		d->counts[i].name = msg_names[i];
	json_counters_init(d->errors);
	return 0;
}

static int symbol_of(struct bybit *d, const struct json_doc *j, int obj, uint32_t *id,
		     const struct feed_symbol **sym)
{
	int s = json_need(j, obj, "s", JSON_STRING);
	const char *p;
	size_t n;

	if (s < 0)
		return s;
	int r = json_str(j, s, &p, &n);
	if (r)
		return r;
	*id = feed_symtab_lookup(d->symbols, p, n);
	if (!*id || !(*sym = feed_symtab_get(d->symbols, *id)))
		return JSON_E_UNKNOWN_SYMBOL;
	return JSON_OK;
}

/* ms at key -> ns; 0 when the key is absent. */
static int time_of(const struct json_doc *j, int obj, const char *key, bool required, int64_t *ns)
{
	int v = json_get(j, obj, key);
	int64_t ms;

	if (v < 0) {
		*ns = 0;
		return required ? JSON_E_MISSING_FIELD : JSON_OK;
	}
	int r = json_i64(j, v, &ms);
	return r ? r : json_ms_to_ns(ms, ns);
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
	uint64_t h = 14695981039346656037ull;   /* FNV-1a 64 */
	for (k = 0; k < n; k++)
		h = (h ^ (uint8_t)s[k]) * 1099511628211ull;
	return h;
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
	if ((r = symbol_of(d, j, t, &id, &sym)) ||
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

	memset(ev, 0, FKS_EVENT_LINE);
	json_hdr(&ev->h, id, ns, recv_ns, 0);
	ev->h.type = FKS_EV_TRADE;
	ev->trade.px = px;
	ev->trade.qty = qty;
	ev->trade.trade_id = tid;
	if (json_eq(j, side, "Buy"))
		ev->trade.aggressor = FKS_SIDE_BUY;
	else if (json_eq(j, side, "Sell"))
		ev->trade.aggressor = FKS_SIDE_SELL;
	else
		return JSON_E_BAD_VALUE;
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

static struct bybit_book *book_slot(struct bybit *d, uint32_t id, bool create)
{
	if (id == 0 || id > FEED_MAX_SYMBOLS)
		return NULL;
	if (d->book_of[id])
		return &d->book[d->book_of[id] - 1];
	if (!create || d->nbooks == BYBIT_MAX_BOOKS)
		return NULL;
	struct bybit_book *bk = &d->book[d->nbooks++];
	d->book_of[id] = (uint8_t)d->nbooks;
	book_l2_init(&bk->book, id, bk->lv, BYBIT_BOOK_LEVELS);
	bk->book.stale = true;
	return bk;
}

static int parse_levels(struct bybit *d, const struct json_doc *j, int obj, const char *key,
			const struct feed_symbol *sym, uint32_t *n)
{
	int arr = json_need(j, obj, key, JSON_ARRAY);

	if (arr < 0)
		return arr;
	JSON_FOR_EACH(j, arr, k, e) {
		if (*n == sizeof d->scratch / sizeof d->scratch[0])
			return JSON_E_TOO_MANY_TOKENS;
		struct book_level *l = &d->scratch[*n];
		int r = json_level(j, e, sym->px_scale, sym->qty_scale, &l->px, &l->qty);

		if (r)
			return r;
		++*n;
	}
	return JSON_OK;
}

static void emit_clear(uint64_t update_id, const struct fks_event_hdr *h, feed_emit_fn emit,
		       void *ctx)
{
	union fks_event ev;

	if (!emit)
		return;
	memset(&ev, 0, FKS_EVENT_LINE);
	ev.h = *h;
	ev.h.type = FKS_EV_BOOK_DELTA;
	ev.book.action = FKS_BOOK_CLEAR;
	ev.book.update_id = update_id;
	emit(ctx, &ev);
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
	if ((r = symbol_of(d, j, data, &id, &sym)) ||
	    (r = json_u64(j, json_get(j, data, "u"), &u)) ||
	    (r = time_of(j, root, "ts", false, &ns)) ||
	    (r = parse_levels(d, j, data, "b", sym, &nb)))
		return r;
	n = nb;
	if ((r = parse_levels(d, j, data, "a", sym, &n)))
		return r;

	struct bybit_book *bk = book_slot(d, id, true);
	if (!bk)
		return JSON_E_TOO_MANY_BOOKS;

	struct fks_event_hdr h;
	/* u == 1: Bybit restarted the service and this is a fresh book. */
	if (snapshot || u == 1) {
		json_hdr(&h, id, ns, recv_ns, FKS_EVF_SNAPSHOT);
		book_l2_clear(&bk->book);
		emit_clear(u, &h, emit, ctx);
		bk->synced = true;
		bk->book.stale = false;
	} else {
		uint64_t last = bk->book.last_update_id;

		if (!bk->synced)
			return JSON_E_NOT_SYNCED;
		if (u <= last)
			return JSON_E_STALE_UPDATE;
		if (u != last + 1) {
			/* Lost deltas: no book rather than a wrong one. */
			json_hdr(&h, id, ns, recv_ns, FKS_EVF_STALE);
			book_l2_clear(&bk->book);
			bk->book.stale = true;
			bk->synced = false;
			d->resync_requests++;
			emit_clear(u, &h, emit, ctx);
			json_quote_if_changed(&bk->book, &bk->top, &h, emit, ctx);
			return JSON_E_GAP;
		}
		json_hdr(&h, id, ns, recv_ns, 0);
	}
	for (uint32_t k = 0; k < n; k++) {
		int e = json_book_set(&bk->book, k < nb ? FKS_SIDE_BUY : FKS_SIDE_SELL,
				      d->scratch[k].px, d->scratch[k].qty, u, &h, emit, ctx);
		if (e < 0)
			d->errors[-e].n++;   /* book_full: levels were checked */
	}
	bk->book.last_update_id = u;
	json_quote_if_changed(&bk->book, &bk->top, &h, emit, ctx);
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
	int r = json_parse(&j, msg, len, d->tok, BYBIT_MAX_TOKENS);

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
		d->counts[type].n++;
	if (r < 0 && -r < JSON_E_COUNT_)
		d->errors[-r].n++;
	return r;
}

bool bybit_needs_snapshot(const struct bybit *d, uint32_t instrument)
{
	if (instrument == 0 || instrument > FEED_MAX_SYMBOLS || !d->book_of[instrument])
		return false;
	return !d->book[d->book_of[instrument] - 1].synced;
}

size_t bybit_pending_snapshots(const struct bybit *d, uint32_t *ids, size_t cap)
{
	size_t n = 0;

	for (uint32_t i = 0; i < d->nbooks; i++)
		if (!d->book[i].synced && n < cap)
			ids[n++] = d->book[i].book.instrument;
	return n;
}

const struct book_l2 *bybit_book(const struct bybit *d, uint32_t instrument)
{
	if (instrument == 0 || instrument > FEED_MAX_SYMBOLS || !d->book_of[instrument])
		return NULL;
	return &d->book[d->book_of[instrument] - 1].book;
}

size_t bybit_counts(const struct bybit *d, const struct feed_counter **out)
{
	*out = d->counts;
	return BYBIT_MSG_COUNT_;
}

size_t bybit_errors(const struct bybit *d, const struct feed_counter **out)
{
	*out = d->errors + 1;   /* [0] is "ok" */
	return JSON_E_COUNT_ - 1;
}
