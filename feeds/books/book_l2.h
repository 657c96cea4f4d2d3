/*
 * An L2 (price-level) order book for one instrument: what the JSON venues
 * publish.  Levels are set to a total quantity or deleted; nothing else.
 *
 * A pure data structure: no clock, no I/O, and no allocation after
 * book_l2_init (the caller owns the storage, sized by max_levels per side).
 * Prices and quantities are int64 fixed point at the instrument's scales.
 *
 * Best bid and offer are O(1).  Top-N is O(N).  A set or delete is
 * O(log n) to find the level plus a move of the levels behind it in a sorted
 * array: venue books are shallow (Binance 1000, Bybit 500, Kraken <= 1000),
 * updates cluster at the touch, and a sorted array keeps the top levels in a
 * few cache lines, which is what every reader touches.
 *
 * Crossed or locked books (best bid >= best ask) are reported by
 * book_l2_crossed(), never "fixed": what the venue sent is what the book
 * holds.
 */
#ifndef FKS_FEEDS_BOOK_L2_H
#define FKS_FEEDS_BOOK_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/event.h"

struct book_level {
	int64_t px;
	int64_t qty;   /* > 0 */
};

/* One side: levels sorted worst first, so the best is the last element and
 * a change at the touch, the common case, moves nothing. */
struct book_l2_side {
	struct book_level *lv;
	uint32_t n, cap;
};

enum book_l2_status {
	BOOK_L2_OK = 0,
	BOOK_L2_E_FULL = -1,     /* a new level beyond max_levels: refused, book unchanged */
	BOOK_L2_E_PRICE = -2,    /* px <= 0 */
	BOOK_L2_E_QTY = -3,      /* qty < 0 */
	BOOK_L2_E_SIDE = -4,     /* side neither BUY nor SELL */
};

struct book_l2 {
	uint32_t instrument;
	struct book_l2_side bid, ask;
	uint64_t last_update_id;  /* venue update id of the last change applied */
	bool stale;               /* set on a gap; cleared by a snapshot */
};

/* storage must hold 2 * max_levels levels; it is not copied. */
void book_l2_init(struct book_l2 *b, uint32_t instrument, struct book_level *storage,
		  uint32_t max_levels);
void book_l2_clear(struct book_l2 *b);

/* Set the level at px on side (enum fks_side) to qty; qty 0 deletes it (a
 * delete of an absent level is not an error). */
int book_l2_set(struct book_l2 *b, uint8_t side, int64_t px, int64_t qty);

/* Best level of a side, or NULL when the side is empty. */
static inline const struct book_level *book_l2_best(const struct book_l2 *b, uint8_t side)
{
	const struct book_l2_side *s = side == FKS_SIDE_BUY ? &b->bid : &b->ask;
	return s->n ? &s->lv[s->n - 1] : NULL;
}

/* Quantity at px on side, 0 when there is no such level. */
int64_t book_l2_qty(const struct book_l2 *b, uint8_t side, int64_t px);

/* Levels held on side. */
static inline uint32_t book_l2_levels(const struct book_l2 *b, uint8_t side)
{
	return side == FKS_SIDE_BUY ? b->bid.n : b->ask.n;
}

/* Copy up to n best levels of side into out; returns how many. */
uint32_t book_l2_top(const struct book_l2 *b, uint8_t side, struct book_level *out, uint32_t n);

/* Keep only the best `depth` levels of each side (Kraken's subscribed depth). */
void book_l2_truncate(struct book_l2 *b, uint32_t depth);

/* Best bid >= best ask, both sides present. */
bool book_l2_crossed(const struct book_l2 *b);

const char *book_l2_strerror(int status);

#endif
