/* The L2 price-level book: set, delete, top-N, truncate, crossed, full. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "feeds/books/book_l2.h"

#define CAP 8

static struct book_level storage[2 * CAP];
static struct book_l2 b;

static void setup(void)
{
	book_l2_init(&b, 7, storage, CAP);
}

TestSuite(book_l2, .init = setup);

Test(book_l2, empty_book_has_no_best)
{
	cr_assert_eq(b.instrument, 7);
	cr_assert_null(book_l2_best(&b, FKS_SIDE_BUY));
	cr_assert_null(book_l2_best(&b, FKS_SIDE_SELL));
	cr_assert_not(book_l2_crossed(&b));
	struct book_level out[4];
	cr_assert_eq(book_l2_top(&b, FKS_SIDE_BUY, out, 4), 0);
}

Test(book_l2, set_orders_bids_high_first_and_asks_low_first)
{
	/* inserted out of order on purpose */
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 100, 5), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 102, 7), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 101, 6), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 105, 1), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 103, 3), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 104, 2), 0);

	const struct book_level *bb = book_l2_best(&b, FKS_SIDE_BUY);
	const struct book_level *ba = book_l2_best(&b, FKS_SIDE_SELL);
	cr_assert_eq(bb->px, 102);
	cr_assert_eq(bb->qty, 7);
	cr_assert_eq(ba->px, 103);
	cr_assert_eq(ba->qty, 3);

	struct book_level out[8];
	cr_assert_eq(book_l2_top(&b, FKS_SIDE_BUY, out, 8), 3);
	cr_assert_eq(out[0].px, 102);
	cr_assert_eq(out[1].px, 101);
	cr_assert_eq(out[2].px, 100);
	cr_assert_eq(book_l2_top(&b, FKS_SIDE_SELL, out, 2), 2);
	cr_assert_eq(out[0].px, 103);
	cr_assert_eq(out[1].px, 104);
	/* best is the last element of the storage */
	cr_assert_eq(b.bid.lv[b.bid.n - 1].px, 102);
	cr_assert_eq(b.ask.lv[b.ask.n - 1].px, 103);
	cr_assert_eq(book_l2_levels(&b, FKS_SIDE_BUY), 3);
	cr_assert_eq(book_l2_qty(&b, FKS_SIDE_BUY, 101), 6);
	cr_assert_eq(book_l2_qty(&b, FKS_SIDE_BUY, 99), 0);
	cr_assert_eq(book_l2_qty(&b, FKS_SIDE_SELL, 104), 2);
}

Test(book_l2, set_replaces_quantity_and_zero_deletes)
{
	book_l2_set(&b, FKS_SIDE_BUY, 100, 5);
	book_l2_set(&b, FKS_SIDE_BUY, 101, 6);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 101, 9), 0);
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_BUY)->qty, 9);
	cr_assert_eq(b.bid.n, 2, "a replace adds no level");
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 101, 0), 0);
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_BUY)->px, 100);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 555, 0), 0, "delete of an absent level is fine");
	cr_assert_eq(b.bid.n, 1);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 100, 0), 0);
	cr_assert_null(book_l2_best(&b, FKS_SIDE_BUY));
}

Test(book_l2, bad_arguments_are_refused_and_change_nothing)
{
	book_l2_set(&b, FKS_SIDE_BUY, 100, 5);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 0, 5), BOOK_L2_E_PRICE);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, -3, 5), BOOK_L2_E_PRICE);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 100, -1), BOOK_L2_E_QTY);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_NONE, 100, 1), BOOK_L2_E_SIDE);
	cr_assert_eq(book_l2_set(&b, 9, 100, 1), BOOK_L2_E_SIDE);
	cr_assert_eq(b.bid.n, 1);
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_BUY)->qty, 5);
	cr_assert_str_neq(book_l2_strerror(BOOK_L2_E_FULL), book_l2_strerror(BOOK_L2_E_PRICE));
}

Test(book_l2, full_side_refuses_new_levels_but_updates_and_deletes_work)
{
	for (int i = 1; i <= CAP; i++)
		cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 1000 + i, i), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 999, 1), BOOK_L2_E_FULL, "better level");
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 2000, 1), BOOK_L2_E_FULL, "worse level");
	cr_assert_eq(b.ask.n, CAP);
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_SELL)->px, 1001, "unchanged");
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 1004, 77), 0, "update in a full side");
	cr_assert_eq(book_l2_qty(&b, FKS_SIDE_SELL, 1004), 77);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 1001, 0), 0);
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_SELL, 999, 4), 0, "room again");
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_SELL)->px, 999);
	/* the other side has its own capacity */
	cr_assert_eq(book_l2_set(&b, FKS_SIDE_BUY, 10, 1), 0);
}

Test(book_l2, truncate_keeps_the_best_levels)
{
	for (int i = 1; i <= 6; i++) {
		book_l2_set(&b, FKS_SIDE_BUY, 100 + i, i);      /* best 106 */
		book_l2_set(&b, FKS_SIDE_SELL, 200 + i, i);     /* best 201 */
	}
	book_l2_truncate(&b, 2);
	struct book_level out[8];
	cr_assert_eq(book_l2_top(&b, FKS_SIDE_BUY, out, 8), 2);
	cr_assert_eq(out[0].px, 106);
	cr_assert_eq(out[1].px, 105);
	cr_assert_eq(book_l2_top(&b, FKS_SIDE_SELL, out, 8), 2);
	cr_assert_eq(out[0].px, 201);
	cr_assert_eq(out[1].px, 202);
	book_l2_truncate(&b, 5);   /* deeper than held: nothing happens */
	cr_assert_eq(b.bid.n, 2);
	book_l2_truncate(&b, 0);
	cr_assert_null(book_l2_best(&b, FKS_SIDE_BUY));
}

Test(book_l2, crossed_and_locked_are_reported_not_fixed)
{
	book_l2_set(&b, FKS_SIDE_BUY, 100, 1);
	book_l2_set(&b, FKS_SIDE_SELL, 101, 1);
	cr_assert_not(book_l2_crossed(&b));
	book_l2_set(&b, FKS_SIDE_SELL, 100, 1);
	cr_assert(book_l2_crossed(&b), "locked");
	book_l2_set(&b, FKS_SIDE_SELL, 99, 1);
	cr_assert(book_l2_crossed(&b), "crossed");
	cr_assert_eq(book_l2_best(&b, FKS_SIDE_SELL)->px, 99, "kept as sent");
	cr_assert_eq(b.ask.n, 3);
}

Test(book_l2, clear_empties_both_sides)
{
	book_l2_set(&b, FKS_SIDE_BUY, 100, 1);
	book_l2_set(&b, FKS_SIDE_SELL, 101, 1);
	b.last_update_id = 5;
	book_l2_clear(&b);
	cr_assert_null(book_l2_best(&b, FKS_SIDE_BUY));
	cr_assert_null(book_l2_best(&b, FKS_SIDE_SELL));
	cr_assert_eq(b.last_update_id, 0);
}

/* Against a naive model: random sets and deletes over a small price range. */
Test(book_l2, random_operations_match_a_naive_array)
{
	static struct book_level big[2 * 64];
	struct book_l2 bk;
	int64_t model[2][40] = { { 0 } };   /* [side-1][px-1] */
	uint64_t x = 12345;

	book_l2_init(&bk, 1, big, 64);
	for (int step = 0; step < 5000; step++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint8_t side = (uint8_t)(1 + ((x >> 33) & 1));
		int64_t px = 1 + (int64_t)((x >> 40) % 40);
		int64_t qty = (int64_t)((x >> 20) % 4);  /* 0 deletes a quarter of the time */
		cr_assert_eq(book_l2_set(&bk, side, px, qty), 0);
		model[side - 1][px - 1] = qty;

		if (step % 97)
			continue;
		for (uint8_t sd = 1; sd <= 2; sd++) {
			struct book_level out[64];
			uint32_t n = book_l2_top(&bk, sd, out, 64), k = 0;
			for (int i = 0; i < 40; i++) {
				int p = sd == FKS_SIDE_BUY ? 40 - i : 1 + i;  /* best first */
				if (!model[sd - 1][p - 1])
					continue;
				cr_assert_lt(k, n);
				cr_assert_eq(out[k].px, p);
				cr_assert_eq(out[k].qty, model[sd - 1][p - 1]);
				k++;
			}
			cr_assert_eq(k, n);
		}
	}
}
