/*
 * L3 (order-by-order) books: what Nasdaq ITCH publishes.  Every resting
 * order is known by its reference number; the books aggregate them into
 * price levels per side.
 *
 * One pool holds every book of a feed and one shared pool of order records,
 * because ITCH messages after the add name only the order reference, never
 * the price or side.  Records are found through a shm/index keyed by the
 * reference; an order is identified by (book, reference): Nasdaq references
 * are unique for the day, but telling books apart keeps a test file with
 * reused references correct.  Records that share an index key (the same
 * reference in two books) are chained through their next field; in a real
 * feed every chain has one record.
 *
 * Storage is allocated once, by book_l3_pool_init; no call after it
 * allocates.  A full order pool or a full side of levels is a counted,
 * specific error, never a reallocation.
 *
 * Levels per side are a sorted array, worst first, so the best level is the
 * last element: best bid/offer is O(1), top-N is O(N), and a change at the
 * touch - most of them - moves nothing.  Finding a level is a binary search.
 *
 * Crossed or locked books (best bid >= best ask) are reported by
 * book_l3_crossed(), never corrected: the book holds what the venue sent.
 */
#ifndef FKS_FEEDS_BOOK_L3_H
#define FKS_FEEDS_BOOK_L3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/event.h"
#include "shm/index.h"

struct book_l3_level {
	int64_t px;
	int64_t qty;        /* total shares resting at px; > 0 */
	uint32_t orders;    /* orders resting at px; > 0 */
};

struct book_l3_side {
	struct book_l3_level *lv;   /* sorted worst first: best is lv[n - 1] */
	uint32_t n, cap;
};

struct book_l3 {
	uint32_t instrument;        /* symbol-table id */
	uint32_t index;             /* position in the pool, 0-based */
	struct book_l3_side bid, ask;
	uint64_t orders;            /* resting orders */
	uint64_t unknown_refs;      /* references to orders this book never saw */
	bool stale;                 /* set on a feed gap; see docs/feeds-itch.md */
};

/* One resting order: a record of the pool's order array. */
struct book_l3_order {
	uint64_t ref;       /* ITCH reference; 0 is valid (the shared sample has one) */
	int64_t px;
	uint32_t qty;       /* remaining shares, > 0 */
	uint16_t book;      /* book index */
	uint8_t side;       /* enum fks_side */
	uint32_t next;      /* next record with the same index key, or of the
	                       free list; BOOK_L3_NIL ends either */
};

#define BOOK_L3_NIL UINT32_MAX

struct book_l3_cfg {
	uint32_t max_books;   /* books in the pool */
	uint32_t max_levels;  /* price levels per side of each book */
	uint32_t max_orders;  /* resting orders across all books (<= 2^30) */
};

struct book_l3_pool {
	struct book_l3 *books;
	uint32_t n_books, max_books;
	struct book_l3_level *levels;      /* 2 * max_levels per book */
	uint32_t max_levels;
	struct book_l3_order *order;       /* max_orders records */
	struct index by_ref;               /* reference key -> first record */
	uint32_t free_head;                /* released records, linked by next */
	uint32_t fresh;                    /* records [fresh, max_orders) never used */
	uint32_t n_orders, max_orders;
};

enum book_l3_status {
	BOOK_L3_OK = 0,
	BOOK_L3_E_UNKNOWN_REF = -1,   /* no such order in this book (counted in it) */
	BOOK_L3_E_DUP_REF = -2,       /* add of a reference that is resting: refused */
	BOOK_L3_E_ORDERS_FULL = -3,   /* max_orders resting: add refused */
	BOOK_L3_E_LEVELS_FULL = -4,   /* a new level beyond max_levels: add refused */
	BOOK_L3_E_OVER_QTY = -5,      /* executed/canceled more than rests: order
	                                 removed, the change still reported */
	BOOK_L3_E_SIDE = -6,          /* side neither BUY nor SELL */
	BOOK_L3_E_PRICE = -7,         /* px <= 0 */
	BOOK_L3_E_QTY = -8,           /* qty == 0 on an add or a reduce */
	BOOK_L3_E_NOMEM = -9,         /* pool_init: allocation failed or bad cfg */
};

/*
 * What one operation did, for the decoder to turn into events: the levels
 * whose total changed (qty is the new total, 0 when the level is gone), the
 * order as it was, and whether the best bid or offer (price or size) moved.
 * Filled on success and on BOOK_L3_E_OVER_QTY; n is 0 on any other error.
 */
struct book_l3_change {
	uint8_t n;
	struct {
		uint8_t side;
		int64_t px, qty;
	} lv[2];
	uint8_t side;       /* the (old) order's side */
	int64_t px;         /* the (old) order's price */
	uint32_t qty;       /* shares removed by a reduce, delete or replace */
	bool top_changed;
};

/* Allocate the pool (zeroed).  Returns 0 or BOOK_L3_E_NOMEM when the cfg is
 * zero anywhere, too large, or memory is short. */
int book_l3_pool_init(struct book_l3_pool *p, const struct book_l3_cfg *cfg);
void book_l3_pool_free(struct book_l3_pool *p);

/* A new empty book for instrument; NULL when the pool has max_books already. */
struct book_l3 *book_l3_new(struct book_l3_pool *p, uint32_t instrument);

/* Empty every book and the order records; books stay assigned, stale clears. */
void book_l3_pool_clear(struct book_l3_pool *p);

int book_l3_add(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint8_t side,
		int64_t px, uint32_t qty, struct book_l3_change *ch);
/* Execute or cancel qty shares of ref; the order goes when none are left. */
int book_l3_reduce(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint32_t qty,
		   struct book_l3_change *ch);
int book_l3_delete(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref,
		   struct book_l3_change *ch);
/* ITCH U: ref goes, new_ref rests on the same side at px for qty (it loses
 * its time priority).  An unknown ref or a resting new_ref changes nothing. */
int book_l3_replace(struct book_l3_pool *p, struct book_l3 *b, uint64_t ref, uint64_t new_ref,
		    int64_t px, uint32_t qty, struct book_l3_change *ch);

/* The resting order ref of book b, or NULL. */
const struct book_l3_order *book_l3_find(const struct book_l3_pool *p, const struct book_l3 *b,
					 uint64_t ref);

static inline const struct book_l3_level *book_l3_best(const struct book_l3 *b, uint8_t side)
{
	const struct book_l3_side *s = side == FKS_SIDE_BUY ? &b->bid : &b->ask;
	return s->n ? &s->lv[s->n - 1] : NULL;
}

/* Copy up to n best levels of side, best first; returns how many. */
uint32_t book_l3_top(const struct book_l3 *b, uint8_t side, struct book_l3_level *out, uint32_t n);

/* Best bid >= best ask, both sides present. */
bool book_l3_crossed(const struct book_l3 *b);

const char *book_l3_strerror(int status);

#endif
