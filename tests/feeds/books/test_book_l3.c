/*
 * L3 books: level aggregation and ordering, the change records the decoder
 * turns into events, the full pools, references that share an index key,
 * and a long random churn against a naive model on a small pool.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/books/book_l3.h"

static struct book_l3_pool pool;

static void setup_small(uint32_t books, uint32_t levels, uint32_t orders)
{
	struct book_l3_cfg cfg = {books, levels, orders};
	cr_assert_eq(book_l3_pool_init(&pool, &cfg), BOOK_L3_OK);
}

static void teardown(void)
{
	book_l3_pool_free(&pool);
}

Test(book_l3, levels_aggregate_and_sort_best_first, .fini = teardown)
{
	setup_small(2, 16, 64);
	struct book_l3 *b = book_l3_new(&pool, 9);
	cr_assert_eq(b->instrument, 9);
	struct book_l3_change ch;
	cr_assert_eq(book_l3_add(&pool, b, 0, FKS_SIDE_BUY, 100, 5, &ch), BOOK_L3_OK, "ref 0 is valid");
	cr_assert(ch.top_changed);
	cr_assert_eq(ch.n, 1);
	cr_assert_eq(ch.lv[0].qty, 5);
	cr_assert_eq(book_l3_add(&pool, b, 1, FKS_SIDE_BUY, 102, 7, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, b, 2, FKS_SIDE_BUY, 101, 1, &ch), BOOK_L3_OK);
	cr_assert_not(ch.top_changed, "below the best bid");
	cr_assert_eq(book_l3_add(&pool, b, 3, FKS_SIDE_BUY, 100, 4, &ch), BOOK_L3_OK);
	cr_assert_eq(ch.lv[0].qty, 9);
	cr_assert_eq(book_l3_add(&pool, b, 4, FKS_SIDE_SELL, 105, 3, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, b, 5, FKS_SIDE_SELL, 104, 2, &ch), BOOK_L3_OK);
	cr_assert(ch.top_changed);
	cr_assert_eq(book_l3_add(&pool, b, 6, FKS_SIDE_SELL, 106, 8, &ch), BOOK_L3_OK);

	struct book_l3_level lv[8];
	cr_assert_eq(book_l3_top(b, FKS_SIDE_BUY, lv, 8), 3);
	cr_assert_eq(lv[0].px, 102);
	cr_assert_eq(lv[1].px, 101);
	cr_assert_eq(lv[2].px, 100);
	cr_assert_eq(lv[2].qty, 9);
	cr_assert_eq(lv[2].orders, 2);
	cr_assert_eq(book_l3_top(b, FKS_SIDE_SELL, lv, 2), 2, "top-N stops at N");
	cr_assert_eq(lv[0].px, 104);
	cr_assert_eq(lv[1].px, 105);
	cr_assert_eq(book_l3_best(b, FKS_SIDE_SELL)->qty, 2);
	cr_assert_not(book_l3_crossed(b));
	cr_assert_eq(b->orders, 7);

	/* A bid at the best ask locks the book: reported, kept. */
	cr_assert_eq(book_l3_add(&pool, b, 7, FKS_SIDE_BUY, 104, 1, &ch), BOOK_L3_OK);
	cr_assert(book_l3_crossed(b));
	cr_assert_eq(book_l3_best(b, FKS_SIDE_BUY)->px, 104);
	cr_assert_eq(book_l3_delete(&pool, b, 7, &ch), BOOK_L3_OK);
	cr_assert_not(book_l3_crossed(b));

	/* Reduce partly, then the rest with one share too many. */
	cr_assert_eq(book_l3_reduce(&pool, b, 3, 3, &ch), BOOK_L3_OK);
	cr_assert_eq(ch.qty, 3);
	cr_assert_eq(ch.lv[0].qty, 6);
	cr_assert_eq(ch.side, FKS_SIDE_BUY);
	cr_assert_eq(ch.px, 100);
	cr_assert_eq(book_l3_reduce(&pool, b, 3, 2, &ch), BOOK_L3_E_OVER_QTY);
	cr_assert_eq(ch.qty, 1, "only what rested");
	cr_assert_eq(ch.lv[0].qty, 5);
	cr_assert_null(book_l3_find(&pool, b, 3));
	cr_assert_eq(book_l3_reduce(&pool, b, 3, 1, &ch), BOOK_L3_E_UNKNOWN_REF);
	cr_assert_eq(b->unknown_refs, 1);

	/* Replace to the other side of the touch. */
	cr_assert_eq(book_l3_replace(&pool, b, 1, 11, 103, 9, &ch), BOOK_L3_OK);
	cr_assert_eq(ch.n, 2);
	cr_assert_eq(ch.lv[0].px, 102);
	cr_assert_eq(ch.lv[0].qty, 0);
	cr_assert_eq(ch.lv[1].px, 103);
	cr_assert_eq(ch.lv[1].qty, 9);
	cr_assert(ch.top_changed);
	const struct book_l3_order *o = book_l3_find(&pool, b, 11);
	cr_assert_not_null(o);
	cr_assert_eq(o->side, FKS_SIDE_BUY);
	cr_assert_eq(book_l3_replace(&pool, b, 11, 0, 103, 1, &ch), BOOK_L3_E_DUP_REF);
	cr_assert_eq(ch.n, 0);
	cr_assert_not_null(book_l3_find(&pool, b, 11), "a refused replace changes nothing");

	/* The same reference in another book is another order. */
	struct book_l3 *b2 = book_l3_new(&pool, 10);
	cr_assert_eq(book_l3_add(&pool, b2, 11, FKS_SIDE_SELL, 50, 1, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_find(&pool, b, 11)->px, 103);
	cr_assert_eq(book_l3_find(&pool, b2, 11)->px, 50);
	cr_assert_null(book_l3_new(&pool, 11), "pool of two books");

	cr_assert_eq(book_l3_add(&pool, b, 20, FKS_SIDE_NONE, 1, 1, &ch), BOOK_L3_E_SIDE);
	cr_assert_eq(book_l3_add(&pool, b, 20, FKS_SIDE_BUY, 0, 1, &ch), BOOK_L3_E_PRICE);
	cr_assert_eq(book_l3_add(&pool, b, 20, FKS_SIDE_BUY, 1, 0, &ch), BOOK_L3_E_QTY);

	book_l3_pool_clear(&pool);
	cr_assert_eq(b->orders, 0);
	cr_assert_null(book_l3_best(b, FKS_SIDE_BUY));
	cr_assert_null(book_l3_find(&pool, b2, 11));
}

Test(book_l3, full_tables_refuse_and_recover, .fini = teardown)
{
	setup_small(1, 2, 4);
	struct book_l3 *b = book_l3_new(&pool, 1);
	struct book_l3_change ch;
	for (uint64_t r = 0; r < 4; r++)
		cr_assert_eq(book_l3_add(&pool, b, r * 1000003, FKS_SIDE_SELL, 10, 1, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, b, 99, FKS_SIDE_SELL, 10, 1, &ch), BOOK_L3_E_ORDERS_FULL);
	cr_assert_eq(ch.n, 0);
	cr_assert_eq(book_l3_best(b, FKS_SIDE_SELL)->orders, 4);
	cr_assert_eq(book_l3_delete(&pool, b, 2000006, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, b, 99, FKS_SIDE_SELL, 11, 1, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_delete(&pool, b, 0, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, b, 98, FKS_SIDE_SELL, 12, 1, &ch), BOOK_L3_E_LEVELS_FULL);
	cr_assert_null(book_l3_find(&pool, b, 98), "a refused add leaves no order behind");
	cr_assert_eq(pool.n_orders, 3);
}

/* Orders whose references share an index key (one reference in several
 * books; references 0 and UINT64_MAX) chain behind it: removing any link of
 * a chain, first, middle or last, leaves the others found. */
Test(book_l3, shared_keys_chain_and_unlink, .fini = teardown)
{
	setup_small(3, 8, 16);
	struct book_l3 *bk[3] = {book_l3_new(&pool, 1), book_l3_new(&pool, 2), book_l3_new(&pool, 3)};
	struct book_l3_change ch;
	for (int k = 0; k < 3; k++)
		cr_assert_eq(book_l3_add(&pool, bk[k], 5, FKS_SIDE_BUY, 100 + k, 1 + (uint32_t)k, &ch),
			     BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, bk[0], 0, FKS_SIDE_SELL, 200, 7, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, bk[0], UINT64_MAX, FKS_SIDE_SELL, 201, 8, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, bk[0], UINT64_MAX, FKS_SIDE_SELL, 201, 8, &ch),
		     BOOK_L3_E_DUP_REF);
	for (int k = 0; k < 3; k++)
		cr_assert_eq(book_l3_find(&pool, bk[k], 5)->px, 100 + k);

	cr_assert_eq(book_l3_delete(&pool, bk[1], 5, &ch), BOOK_L3_OK, "middle of the chain");
	cr_assert_null(book_l3_find(&pool, bk[1], 5));
	cr_assert_eq(book_l3_find(&pool, bk[0], 5)->qty, 1);
	cr_assert_eq(book_l3_find(&pool, bk[2], 5)->qty, 3);
	cr_assert_eq(book_l3_delete(&pool, bk[2], 5, &ch), BOOK_L3_OK, "head of the chain");
	cr_assert_eq(book_l3_find(&pool, bk[0], 5)->qty, 1);
	cr_assert_eq(book_l3_reduce(&pool, bk[2], 5, 1, &ch), BOOK_L3_E_UNKNOWN_REF);

	cr_assert_eq(book_l3_reduce(&pool, bk[0], 0, 7, &ch), BOOK_L3_OK, "ref 0 goes");
	cr_assert_null(book_l3_find(&pool, bk[0], 0));
	cr_assert_eq(book_l3_find(&pool, bk[0], UINT64_MAX)->qty, 8);
	cr_assert_eq(book_l3_replace(&pool, bk[0], UINT64_MAX, 0, 202, 9, &ch), BOOK_L3_OK);
	cr_assert_null(book_l3_find(&pool, bk[0], UINT64_MAX));
	cr_assert_eq(book_l3_find(&pool, bk[0], 0)->px, 202);
	cr_assert_eq(pool.n_orders, 2);
	/* Released records are reused: fill the pool to its limit. */
	for (uint64_t r = 100; r < 114; r++)
		cr_assert_eq(book_l3_add(&pool, bk[1], r, FKS_SIDE_BUY, 50, 1, &ch), BOOK_L3_OK);
	cr_assert_eq(book_l3_add(&pool, bk[1], 114, FKS_SIDE_BUY, 50, 1, &ch), BOOK_L3_E_ORDERS_FULL);
	for (uint64_t r = 100; r < 114; r++)
		cr_assert_not_null(book_l3_find(&pool, bk[1], r));
}

Test(book_l3, bad_pool_sizes_are_refused)
{
	struct book_l3_pool p;
	cr_assert_eq(book_l3_pool_init(&p, &(struct book_l3_cfg){0, 1, 1}), BOOK_L3_E_NOMEM);
	cr_assert_eq(book_l3_pool_init(&p, &(struct book_l3_cfg){1, 1, 0}), BOOK_L3_E_NOMEM);
	cr_assert_eq(book_l3_pool_init(&p, &(struct book_l3_cfg){1, 1, (1u << 30) + 1}),
		     BOOK_L3_E_NOMEM);
	cr_assert_str_neq(book_l3_strerror(BOOK_L3_E_ORDERS_FULL), "");
}

/* ---- random churn against a naive model ------------------------------- */

#define REFS 300

struct model {
	bool live[REFS];
	uint8_t side[REFS];
	int64_t px[REFS];
	uint32_t qty[REFS];
};

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void check_model(const struct book_l3 *b, const struct model *m)
{
	uint64_t live = 0;
	for (int r = 0; r < REFS; r++) {
		const struct book_l3_order *o = book_l3_find(&pool, b, (uint64_t)r * 7919);
		cr_assert_eq(o != NULL, m->live[r], "ref %d", r);
		if (o) {
			live++;
			cr_assert_eq(o->qty, m->qty[r]);
			cr_assert_eq(o->px, m->px[r]);
			cr_assert_eq(o->side, m->side[r]);
		}
	}
	cr_assert_eq(b->orders, live);
	/* Every level is the sum of its orders; every side is sorted. */
	for (uint8_t side = FKS_SIDE_BUY; side <= FKS_SIDE_SELL; side++) {
		struct book_l3_level lv[64];
		uint32_t n = book_l3_top(b, side, lv, 64);
		int64_t total = 0;
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				cr_assert(side == FKS_SIDE_BUY ? lv[i].px < lv[i - 1].px
							       : lv[i].px > lv[i - 1].px);
			int64_t q = 0;
			uint32_t k = 0;
			for (int r = 0; r < REFS; r++)
				if (m->live[r] && m->side[r] == side && m->px[r] == lv[i].px)
					q += m->qty[r], k++;
			cr_assert_eq(lv[i].qty, q);
			cr_assert_eq(lv[i].orders, k);
			total += k;
		}
		int64_t want = 0;
		for (int r = 0; r < REFS; r++)
			want += m->live[r] && m->side[r] == side;
		cr_assert_eq(total, want, "side %u: a live order is missing from the levels", side);
	}
}

Test(book_l3, random_churn_matches_a_naive_model, .fini = teardown)
{
	/* 128 slots for up to 64 orders: long probe runs and wrap-around. */
	setup_small(1, 64, 64);
	struct book_l3 *b = book_l3_new(&pool, 1);
	struct model *m = calloc(1, sizeof *m);
	uint64_t seed = 42;
	uint32_t n_live = 0;
	for (int step = 0; step < 20000; step++) {
		int r = (int)(lcg(&seed) % REFS);
		uint64_t ref = (uint64_t)r * 7919;
		unsigned op = (unsigned)(lcg(&seed) % 4);
		struct book_l3_change ch;
		int rc;
		if (op == 0) {
			uint8_t side = lcg(&seed) & 1 ? FKS_SIDE_BUY : FKS_SIDE_SELL;
			int64_t px = 100 + (int64_t)(lcg(&seed) % 20);
			uint32_t q = 1 + (uint32_t)(lcg(&seed) % 50);
			rc = book_l3_add(&pool, b, ref, side, px, q, &ch);
			if (m->live[r])
				cr_assert_eq(rc, BOOK_L3_E_DUP_REF);
			else if (n_live == 64)
				cr_assert_eq(rc, BOOK_L3_E_ORDERS_FULL);
			else {
				cr_assert_eq(rc, BOOK_L3_OK);
				m->live[r] = true, m->side[r] = side, m->px[r] = px, m->qty[r] = q;
				n_live++;
			}
		} else if (op == 1) {
			uint32_t q = 1 + (uint32_t)(lcg(&seed) % 30);
			rc = book_l3_reduce(&pool, b, ref, q, &ch);
			if (!m->live[r]) {
				cr_assert_eq(rc, BOOK_L3_E_UNKNOWN_REF);
			} else if (q >= m->qty[r]) {
				cr_assert_eq(rc, q > m->qty[r] ? BOOK_L3_E_OVER_QTY : BOOK_L3_OK);
				m->live[r] = false;
				n_live--;
			} else {
				cr_assert_eq(rc, BOOK_L3_OK);
				m->qty[r] -= q;
			}
		} else if (op == 2) {
			rc = book_l3_delete(&pool, b, ref, &ch);
			cr_assert_eq(rc, m->live[r] ? BOOK_L3_OK : BOOK_L3_E_UNKNOWN_REF);
			if (m->live[r])
				m->live[r] = false, n_live--;
		} else {
			int r2 = (int)(lcg(&seed) % REFS);
			int64_t px = 100 + (int64_t)(lcg(&seed) % 20);
			uint32_t q = 1 + (uint32_t)(lcg(&seed) % 50);
			rc = book_l3_replace(&pool, b, ref, (uint64_t)r2 * 7919, px, q, &ch);
			if (!m->live[r])
				cr_assert_eq(rc, BOOK_L3_E_UNKNOWN_REF);
			else if (r2 != r && m->live[r2])
				cr_assert_eq(rc, BOOK_L3_E_DUP_REF);
			else {
				cr_assert_eq(rc, BOOK_L3_OK);
				m->live[r] = false;
				m->live[r2] = true, m->side[r2] = m->side[r], m->px[r2] = px, m->qty[r2] = q;
			}
		}
		if (step % 97 == 0)
			check_model(b, m);
	}
	check_model(b, m);
	free(m);
}
