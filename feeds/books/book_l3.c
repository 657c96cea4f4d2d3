/* L3 books and their shared order records (book_l3.h). */
#include "feeds/books/book_l3.h"

#include <stdlib.h>
#include <string.h>

/* ---- pool ------------------------------------------------------------- */

int book_l3_pool_init(struct book_l3_pool *p, const struct book_l3_cfg *cfg)
{
	memset(p, 0, sizeof *p);
	if (!cfg->max_books || !cfg->max_levels || !cfg->max_orders ||
	    cfg->max_books > UINT16_MAX + 1u || cfg->max_orders > (1u << 30) ||
	    cfg->max_levels > (1u << 24))
		return BOOK_L3_E_NOMEM;
	p->books = calloc(cfg->max_books, sizeof *p->books);
	p->levels = calloc((size_t)cfg->max_books * 2 * cfg->max_levels, sizeof *p->levels);
	p->order = calloc(cfg->max_orders, sizeof *p->order);
	/* Distinct keys never outnumber resting orders, so an index of
	 * max_orders entries is never the one that is full. */
	int rc = index_init(&p->by_ref, cfg->max_orders, NULL, 0);
	if (!p->books || !p->levels || !p->order || rc != INDEX_OK) {
		book_l3_pool_free(p);
		return BOOK_L3_E_NOMEM;
	}
	p->max_books = cfg->max_books;
	p->max_levels = cfg->max_levels;
	p->max_orders = cfg->max_orders;
	p->free_head = BOOK_L3_NIL;
	return BOOK_L3_OK;
}

void book_l3_pool_free(struct book_l3_pool *p)
{
	free(p->books);
	free(p->levels);
	free(p->order);
	index_free(&p->by_ref);
	memset(p, 0, sizeof *p);
}

struct book_l3 *book_l3_new(struct book_l3_pool *p, uint32_t instrument)
{
	if (p->n_books == p->max_books)
		return NULL;
	struct book_l3 *b = &p->books[p->n_books];
	memset(b, 0, sizeof *b);
	b->instrument = instrument;
	b->index = p->n_books++;
	struct book_l3_level *lv = p->levels + (size_t)b->index * 2 * p->max_levels;
	b->bid = (struct book_l3_side){.lv = lv, .cap = p->max_levels};
	b->ask = (struct book_l3_side){.lv = lv + p->max_levels, .cap = p->max_levels};
	return b;
}

void book_l3_pool_clear(struct book_l3_pool *p)
{
	for (uint32_t i = 0; i < p->n_books; i++) {
		struct book_l3 *b = &p->books[i];
		b->bid.n = b->ask.n = 0;
		b->orders = 0;
		b->stale = false;
	}
	index_clear(&p->by_ref);
	p->free_head = BOOK_L3_NIL;
	p->fresh = 0;
	p->n_orders = 0;
}

/* ---- order records ---------------------------------------------------- */

/* The index refuses key 0 and ITCH allows reference 0, so the key is the
 * reference + 1.  The one reference that would wrap to 0 shares key 1 with
 * reference 0; the chain tells them apart like any other shared key. */
static uint64_t ref_key(uint64_t ref)
{
	return ref + 1 ? ref + 1 : 1;
}

/* The record of (book, ref), or BOOK_L3_NIL. */
static uint32_t order_find(const struct book_l3_pool *p, uint32_t book, uint64_t ref)
{
	uint32_t i;
	if (index_get(&p->by_ref, ref_key(ref), &i) != INDEX_OK)
		return BOOK_L3_NIL;
	for (; i != BOOK_L3_NIL; i = p->order[i].next)
		if (p->order[i].ref == ref && p->order[i].book == book)
			return i;
	return BOOK_L3_NIL;
}

/* Rest o.  The caller has checked that (book, ref) is absent and that fewer
 * than max_orders rest, so a record is free and the index has room. */
static void order_insert(struct book_l3_pool *p, const struct book_l3_order *o)
{
	uint32_t r = p->free_head;
	if (r != BOOK_L3_NIL)
		p->free_head = p->order[r].next;
	else
		r = p->fresh++;
	uint64_t key = ref_key(o->ref);
	uint32_t head;
	p->order[r] = *o;
	p->order[r].next = index_get(&p->by_ref, key, &head) == INDEX_OK ? head : BOOK_L3_NIL;
	index_put(&p->by_ref, key, r);
	p->n_orders++;
}

/* Unlink record r from its key's chain and release it. */
static void order_remove(struct book_l3_pool *p, uint32_t r)
{
	uint64_t key = ref_key(p->order[r].ref);
	uint32_t next = p->order[r].next, i;
	index_get(&p->by_ref, key, &i);
	if (i != r) {
		while (p->order[i].next != r)
			i = p->order[i].next;
		p->order[i].next = next;
	} else if (next != BOOK_L3_NIL) {
		index_put(&p->by_ref, key, next);
	} else {
		index_del(&p->by_ref, key, NULL);
	}
	p->order[r].next = p->free_head;
	p->free_head = r;
	p->n_orders--;
}

const struct book_l3_order *book_l3_find(const struct book_l3_pool *p, const struct book_l3 *b,
					 uint64_t ref)
{
	uint32_t i = order_find(p, b->index, ref);
	return i == BOOK_L3_NIL ? NULL : &p->order[i];
}

/* ---- levels ----------------------------------------------------------- */

static struct book_l3_side *side_of(struct book_l3 *b, uint8_t side)
{
	return side == FKS_SIDE_BUY ? &b->bid : &b->ask;
}

/* First index whose price is not worse than px (bids ascend, asks descend). */
static uint32_t level_pos(const struct book_l3_side *s, uint8_t side, int64_t px)
{
	uint32_t lo = 0, hi = s->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		bool worse = side == FKS_SIDE_BUY ? s->lv[mid].px < px : s->lv[mid].px > px;
		if (worse)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add one order of qty at px; returns the level's new total or an error. */
static int64_t level_add(struct book_l3 *b, uint8_t side, int64_t px, uint32_t qty)
{
	struct book_l3_side *s = side_of(b, side);
	uint32_t i = level_pos(s, side, px);
	if (i < s->n && s->lv[i].px == px) {
		s->lv[i].qty += qty;
		s->lv[i].orders++;
		return s->lv[i].qty;
	}
	if (s->n == s->cap)
		return BOOK_L3_E_LEVELS_FULL;
	memmove(&s->lv[i + 1], &s->lv[i], (size_t)(s->n - i) * sizeof *s->lv);
	s->lv[i] = (struct book_l3_level){.px = px, .qty = qty, .orders = 1};
	s->n++;
	return qty;
}

/* Take qty off the level at px, and the order too when order_gone; returns
 * the level's new total, 0 when the level went. */
static int64_t level_sub(struct book_l3 *b, uint8_t side, int64_t px, uint32_t qty, bool order_gone)
{
	struct book_l3_side *s = side_of(b, side);
	uint32_t i = level_pos(s, side, px);
	if (i >= s->n || s->lv[i].px != px)
		return 0; /* cannot happen: every resting order has its level */
	s->lv[i].qty -= qty;
	s->lv[i].orders -= order_gone;
	if (s->lv[i].orders)
		return s->lv[i].qty;
	memmove(&s->lv[i], &s->lv[i + 1], (size_t)(s->n - i - 1) * sizeof *s->lv);
	s->n--;
	return 0;
}

struct top {
	int64_t bpx, bqty, apx, aqty;
};

static struct top top_of(const struct book_l3 *b)
{
	struct top t = {0};
	const struct book_l3_level *x = book_l3_best(b, FKS_SIDE_BUY);
	if (x)
		t.bpx = x->px, t.bqty = x->qty;
	x = book_l3_best(b, FKS_SIDE_SELL);
	if (x)
		t.apx = x->px, t.aqty = x->qty;
	return t;
}

static bool top_differs(struct top a, struct top b)
{
	return a.bpx != b.bpx || a.bqty != b.bqty || a.apx != b.apx || a.aqty != b.aqty;
}

static void note_level(struct book_l3_change *ch, uint8_t side, int64_t px, int64_t qty)
{
	/* A replace at the same price touches one level twice: keep one entry. */
	for (uint8_t k = 0; k < ch->n; k++)
		if (ch->lv[k].side == side && ch->lv[k].px == px) {
			ch->lv[k].qty = qty;
			return;
		}
	ch->lv[ch->n].side = side;
	ch->lv[ch->n].px = px;
	ch->lv[ch->n].qty = qty;
	ch->n++;
}

/* ---- operations ------------------------------------------------------- */

static int add_order(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint8_t side,
		     int64_t px, uint32_t qty, struct book_l3_change *ch)
{
	if (side != FKS_SIDE_BUY && side != FKS_SIDE_SELL)
		return BOOK_L3_E_SIDE;
	if (px <= 0)
		return BOOK_L3_E_PRICE;
	if (qty == 0)
		return BOOK_L3_E_QTY;
	if (order_find(p, b->index, ref) != BOOK_L3_NIL)
		return BOOK_L3_E_DUP_REF;
	if (p->n_orders == p->max_orders)
		return BOOK_L3_E_ORDERS_FULL;
	int64_t total = level_add(b, side, px, qty);
	if (total < 0)
		return (int)total;
	order_insert(p, &(struct book_l3_order){
		.ref = ref, .px = px, .qty = qty, .book = (uint16_t)b->index, .side = side});
	b->orders++;
	note_level(ch, side, px, total);
	return BOOK_L3_OK;
}

int book_l3_add(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint8_t side,
		int64_t px, uint32_t qty, struct book_l3_change *ch)
{
	memset(ch, 0, sizeof *ch);
	struct top before = top_of(b);
	int rc = add_order(p, b, ref, side, px, qty, ch);
	ch->side = side;
	ch->px = px;
	ch->top_changed = rc == BOOK_L3_OK && top_differs(before, top_of(b));
	return rc;
}

static void remove_order(struct book_l3_pool *p, struct book_l3 *b, uint32_t i,
			 struct book_l3_change *ch)
{
	struct book_l3_order o = p->order[i];
	note_level(ch, o.side, o.px, level_sub(b, o.side, o.px, o.qty, true));
	order_remove(p, i);
	b->orders--;
}

int book_l3_reduce(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint32_t qty,
		   struct book_l3_change *ch)
{
	memset(ch, 0, sizeof *ch);
	if (qty == 0)
		return BOOK_L3_E_QTY;
	uint32_t i = order_find(p, b->index, ref);
	if (i == BOOK_L3_NIL) {
		b->unknown_refs++;
		return BOOK_L3_E_UNKNOWN_REF;
	}
	struct top before = top_of(b);
	struct book_l3_order *o = &p->order[i];
	ch->side = o->side;
	ch->px = o->px;
	int rc = BOOK_L3_OK;
	if (qty >= o->qty) {
		rc = qty > o->qty ? BOOK_L3_E_OVER_QTY : BOOK_L3_OK;
		ch->qty = o->qty;
		remove_order(p, b, i, ch);
	} else {
		o->qty -= qty;
		ch->qty = qty;
		note_level(ch, o->side, o->px, level_sub(b, o->side, o->px, qty, false));
	}
	ch->top_changed = top_differs(before, top_of(b));
	return rc;
}

int book_l3_delete(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref,
		   struct book_l3_change *ch)
{
	memset(ch, 0, sizeof *ch);
	uint32_t i = order_find(p, b->index, ref);
	if (i == BOOK_L3_NIL) {
		b->unknown_refs++;
		return BOOK_L3_E_UNKNOWN_REF;
	}
	struct top before = top_of(b);
	ch->side = p->order[i].side;
	ch->px = p->order[i].px;
	ch->qty = p->order[i].qty;
	remove_order(p, b, i, ch);
	ch->top_changed = top_differs(before, top_of(b));
	return BOOK_L3_OK;
}

int book_l3_replace(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint64_t new_ref,
		    int64_t px, uint32_t qty, struct book_l3_change *ch)
{
	memset(ch, 0, sizeof *ch);
	uint32_t i = order_find(p, b->index, ref);
	if (i == BOOK_L3_NIL) {
		b->unknown_refs++;
		return BOOK_L3_E_UNKNOWN_REF;
	}
	if (px <= 0)
		return BOOK_L3_E_PRICE;
	if (qty == 0)
		return BOOK_L3_E_QTY;
	if (new_ref != ref && order_find(p, b->index, new_ref) != BOOK_L3_NIL)
		return BOOK_L3_E_DUP_REF;
	struct top before = top_of(b);
	uint8_t side = p->order[i].side;
	ch->side = side;
	ch->px = p->order[i].px;
	ch->qty = p->order[i].qty;
	remove_order(p, b, i, ch);
	/* The old order is gone either way, as the venue said; a refused new
	 * one (levels full) is reported with the removal still applied. */
	int rc = add_order(p, b, new_ref, side, px, qty, ch);
	ch->top_changed = top_differs(before, top_of(b));
	return rc;
}

uint32_t book_l3_top(const struct book_l3 *b, uint8_t side, struct book_l3_level *out, uint32_t n)
{
	const struct book_l3_side *s = side == FKS_SIDE_BUY ? &b->bid : &b->ask;
	uint32_t k = 0;
	for (; k < n && k < s->n; k++)
		out[k] = s->lv[s->n - 1 - k];
	return k;
}

bool book_l3_crossed(const struct book_l3 *b)
{
	const struct book_l3_level *bid = book_l3_best(b, FKS_SIDE_BUY);
	const struct book_l3_level *ask = book_l3_best(b, FKS_SIDE_SELL);
	return bid && ask && bid->px >= ask->px;
}

const char *book_l3_strerror(int status)
{
	switch (status) {
	case BOOK_L3_OK: return "ok";
	case BOOK_L3_E_UNKNOWN_REF: return "unknown order reference";
	case BOOK_L3_E_DUP_REF: return "order reference already resting";
	case BOOK_L3_E_ORDERS_FULL: return "order table full";
	case BOOK_L3_E_LEVELS_FULL: return "price levels full";
	case BOOK_L3_E_OVER_QTY: return "more shares than the order has";
	case BOOK_L3_E_SIDE: return "bad side";
	case BOOK_L3_E_PRICE: return "price not positive";
	case BOOK_L3_E_QTY: return "zero quantity";
	case BOOK_L3_E_NOMEM: return "out of memory or bad pool size";
	default: return "unknown book_l3 status";
	}
}
