/* What the JSON venue decoders share (json_venue.h). */
#include "feeds/decoders/json_venue.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct json_venue_book) % 8 == 0 && sizeof(struct book_level) % 8 == 0,
	       "json_venue_alloc packs slots, levels and tokens in one block");

static void names_init(struct json_venue *v, const char *const *count_names, uint32_t ncounts,
		       const char *const *extra_names, uint32_t nextra)
{
	v->ncounts = ncounts;
	for (uint32_t i = 0; i < ncounts; i++)
		v->counts[i].name = count_names[i];
	json_counters_init(v->errors);
	v->nerrors = JSON_E_COUNT_ + nextra;
	for (uint32_t i = 0; i < nextra; i++)
		v->errors[JSON_E_COUNT_ + i].name = extra_names[i];
}

void json_venue_init(struct json_venue *v, struct feed_symtab *symbols, struct json_tok *tok,
		     uint32_t max_tokens, struct json_venue_book *slots, struct book_level *levels,
		     uint32_t max_books, uint32_t max_levels, const char *const *count_names,
		     uint32_t ncounts, const char *const *extra_names, uint32_t nextra)
{
	v->symbols = symbols;
	v->tok = tok;
	v->max_tokens = max_tokens;
	v->slot = slots;
	v->levels = levels;
	v->max_books = max_books;
	v->max_levels = max_levels;
	names_init(v, count_names, ncounts, extra_names, nextra);
}

int json_venue_alloc(struct json_venue *v, struct feed_symtab *symbols, uint32_t max_tokens,
		     uint32_t max_books, uint32_t max_levels, const char *const *count_names,
		     uint32_t ncounts, const char *const *extra_names, uint32_t nextra)
{
	/* One block: slots, then levels, then tokens; every part's size is a
	 * multiple of 8, so each stays aligned. */
	size_t slots = (size_t)max_books * sizeof(struct json_venue_book);
	size_t levels = (size_t)max_books * 2 * max_levels * sizeof(struct book_level);
	char *p = calloc(1, slots + levels + (size_t)max_tokens * sizeof(struct json_tok));

	if (!p)
		return -1;
	v->owned = p;
	json_venue_init(v, symbols, (struct json_tok *)(void *)(p + slots + levels), max_tokens,
			(struct json_venue_book *)(void *)p, (struct book_level *)(void *)(p + slots),
			max_books, max_levels, count_names, ncounts, extra_names, nextra);
	for (uint32_t id = 1; id <= max_books; id++)
		json_venue_slot(v, id, true)->book.stale = false;
	return 0;
}

void json_venue_free(struct json_venue *v)
{
	free(v->owned);
	v->owned = NULL;
	v->slot = NULL;
	v->levels = NULL;
	v->tok = NULL;
	v->max_books = v->nbooks = 0;
	memset(v->slot_of, 0, sizeof v->slot_of);
}

int json_venue_parse(struct json_venue *v, struct json_doc *doc, const char *msg, size_t len)
{
	return json_parse(doc, msg, len, v->tok, (int)v->max_tokens);
}

int json_venue_fail(struct json_venue *v, int reason)
{
	if (reason < 0 && (uint32_t)-reason < v->nerrors)
		v->errors[-reason].n++;
	return reason;
}

size_t json_venue_counts(const struct json_venue *v, const struct named_counter **out)
{
	*out = v->counts;
	return v->ncounts;
}

size_t json_venue_errors(const struct json_venue *v, const struct named_counter **out)
{
	*out = v->errors + 1;   /* [0] is "ok" */
	return v->nerrors - 1;
}

uint64_t json_venue_error_count(const struct json_venue *v, int reason)
{
	return reason < 0 && (uint32_t)-reason < v->nerrors ? v->errors[-reason].n : 0;
}

struct json_venue_book *json_venue_slot(struct json_venue *v, uint32_t id, bool create)
{
	if (id == 0 || id > FEED_MAX_SYMBOLS)
		return NULL;
	if (v->slot_of[id])
		return &v->slot[v->slot_of[id] - 1];
	if (!create || v->nbooks == v->max_books)
		return NULL;
	struct json_venue_book *bk = &v->slot[v->nbooks];

	memset(bk, 0, sizeof *bk);
	book_l2_init(&bk->book, id, v->levels + (size_t)v->nbooks * 2 * v->max_levels,
		     v->max_levels);
	bk->book.stale = true;   /* no snapshot yet */
	v->slot_of[id] = (uint16_t)++v->nbooks;
	return bk;
}

const struct book_l2 *json_venue_book(const struct json_venue *v, uint32_t id)
{
	if (id == 0 || id > FEED_MAX_SYMBOLS || !v->slot_of[id])
		return NULL;
	return &v->slot[v->slot_of[id] - 1].book;
}

bool json_venue_needs_snapshot(const struct json_venue *v, uint32_t id)
{
	return json_venue_book(v, id) && v->slot[v->slot_of[id] - 1].sync == 0;
}

size_t json_venue_pending_snapshots(const struct json_venue *v, uint32_t *ids, size_t cap)
{
	size_t n = 0;

	for (uint32_t i = 0; i < v->nbooks; i++)
		if (v->slot[i].sync == 0 && n < cap)
			ids[n++] = v->slot[i].book.instrument;
	return n;
}

int json_venue_symbol(const struct json_venue *v, const struct json_doc *doc, int obj,
		      const char *key, uint32_t *id, const struct feed_symbol **sym)
{
	int s = json_need(doc, obj, key, JSON_STRING);
	const char *p;
	size_t n;

	if (s < 0)
		return s;
	int r = json_str(doc, s, &p, &n);
	if (r)
		return r;
	*id = feed_symtab_lookup(v->symbols, p, n);
	if (!*id || !(*sym = feed_symtab_get(v->symbols, *id)))
		return JSON_E_UNKNOWN_SYMBOL;
	return JSON_OK;
}

int json_venue_instr(struct json_venue *v, const struct json_doc *doc, int obj, const char *key,
		     struct json_instr *p, int *skip)
{
	const struct feed_symbol *sym;
	uint32_t id = 0;
	int r = json_venue_symbol(v, doc, obj, key, &id, &sym);

	*p = (struct json_instr){ 0 };
	*skip = 0;
	if (r == JSON_E_UNKNOWN_SYMBOL) {
		*skip = r;
		return JSON_OK;
	}
	if (r)
		return r;
	p->id = id;
	p->px_scale = sym->px_scale;
	p->qty_scale = sym->qty_scale;
	p->bk = json_venue_slot(v, id, false);
	return JSON_OK;
}

int json_venue_levels(const struct json_doc *doc, int obj, const char *key,
		      const struct feed_symbol *sym, struct book_level *out, uint32_t cap,
		      uint32_t *n)
{
	int arr = json_need(doc, obj, key, JSON_ARRAY);

	if (arr < 0)
		return arr;
	JSON_FOR_EACH(doc, arr, k, e) {
		if (*n == cap)
			return JSON_E_TOO_MANY_TOKENS;
		struct book_level *l = &out[*n];
		int r = json_level(doc, e, sym->px_scale, sym->qty_scale, &l->px, &l->qty);

		if (r)
			return r;
		++*n;
	}
	return JSON_OK;
}

void json_venue_book_reset(struct json_venue_book *bk, uint64_t update_id,
			   const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx)
{
	book_l2_clear(&bk->book);
	bk->book.stale = false;
	json_emit_clear(update_id, hdr, emit, ctx);
}

void json_venue_book_lost(struct json_venue_book *bk, uint64_t update_id,
			  const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx)
{
	book_l2_clear(&bk->book);
	bk->book.stale = true;
	json_emit_clear(update_id, hdr, emit, ctx);
	json_quote_if_changed(&bk->book, &bk->top, hdr, emit, ctx);
}

void json_venue_apply(struct json_venue *v, struct json_venue_book *bk,
		      const struct book_level *lv, uint32_t nb, uint32_t na, bool reverse,
		      uint64_t update_id, const struct fks_event_hdr *hdr, feed_emit_fn emit,
		      void *ctx)
{
	for (uint32_t i = 0; i < nb + na; i++) {
		uint32_t k = !reverse ? i : i < nb ? nb - 1 - i : nb + na - 1 - (i - nb);
		int r = json_book_set(&bk->book, k < nb ? FKS_SIDE_BUY : FKS_SIDE_SELL, lv[k].px,
				      lv[k].qty, update_id, hdr, emit, ctx);

		json_venue_fail(v, r);   /* only book_full: the levels were checked */
	}
	json_quote_if_changed(&bk->book, &bk->top, hdr, emit, ctx);
}

void json_venue_quote(struct json_venue_book *bk, int64_t ns, int64_t recv_ns, feed_emit_fn emit,
		      void *ctx)
{
	struct fks_event_hdr h;

	json_hdr(&h, bk->book.instrument, ns, recv_ns, bk->book.stale ? FKS_EVF_STALE : 0);
	json_quote_if_changed(&bk->book, &bk->top, &h, emit, ctx);
}

void json_stage_begin(struct json_stage *st, feed_emit_fn emit, void *ctx)
{
	st->emit = emit;
	st->ctx = ctx;
	st->has_pending = false;
}

void json_stage_emit(void *ctx, const union fks_event *ev)
{
	struct json_stage *st = ctx;

	if (st->has_pending && st->emit)
		st->emit(st->ctx, &st->pending);
	memcpy(&st->pending, ev, FKS_EVENT_LINE);
	st->has_pending = true;
}

void json_stage_flush(struct json_stage *st)
{
	if (st->has_pending) {
		st->pending.h.flags |= FKS_EVF_LAST;
		if (st->emit)
			st->emit(st->ctx, &st->pending);
		st->has_pending = false;
	}
}
