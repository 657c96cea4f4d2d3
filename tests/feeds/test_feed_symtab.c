#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed.h"

static struct feed_symtab *new_tab(bool learn)
{
	struct feed_symtab *t = malloc(sizeof *t);
	cr_assert_not_null(t);
	feed_symtab_init(t, learn, 8, 6);
	return t;
}

Test(feed_symtab, fixed_table_knows_only_what_was_added)
{
	struct feed_symtab *t = new_tab(false);
	cr_assert_eq(feed_symtab_add(t, "BTCUSDT", 7, 2, 3), 1);
	cr_assert_eq(feed_symtab_add(t, "ETHUSDT", 7, 2, 4), 2);
	cr_assert_eq(feed_symtab_add(t, "BTCUSDT", 7, 9, 9), 1, "re-adding keeps the id");
	cr_assert_eq(feed_symtab_lookup(t, "ETHUSDT", 7), 2);
	cr_assert_eq(feed_symtab_lookup(t, "ETHUSD", 6), 0, "a prefix is another symbol");
	cr_assert_eq(feed_symtab_lookup(t, "XRPUSDT", 7), 0);
	cr_assert_eq(t->n, 2);
	const struct feed_symbol *e = feed_symtab_get(t, 2);
	cr_assert_not_null(e);
	cr_assert_eq(e->len, 7);
	cr_assert_eq(memcmp(e->name, "ETHUSDT", 7), 0);
	cr_assert_eq(e->px_scale, 2);
	cr_assert_eq(e->qty_scale, 4);
	cr_assert_null(feed_symtab_get(t, 0));
	cr_assert_null(feed_symtab_get(t, 3));
	free(t);
}

Test(feed_symtab, learning_table_assigns_dense_ids_with_default_scales)
{
	struct feed_symtab *t = new_tab(true);
	cr_assert_eq(feed_symtab_lookup(t, "AAPL", 4), 1);
	cr_assert_eq(feed_symtab_lookup(t, "MSFT", 4), 2);
	cr_assert_eq(feed_symtab_lookup(t, "AAPL", 4), 1);
	cr_assert_eq(feed_symtab_get(t, 2)->px_scale, 8);
	cr_assert_eq(feed_symtab_get(t, 2)->qty_scale, 6);
	free(t);
}

Test(feed_symtab, bad_names_and_a_full_table_are_refused)
{
	struct feed_symtab *t = new_tab(true);
	cr_assert_eq(feed_symtab_lookup(t, "", 0), 0);
	cr_assert_eq(feed_symtab_lookup(t, "ABCDEFGHIJKLMNOPQ", 17), 0, "17 bytes is too long");
	cr_assert_eq(feed_symtab_lookup(t, "ABCDEFGHIJKLMNOP", 16), 1, "16 bytes fits");
	char name[16];
	for (unsigned i = 2; i <= FEED_MAX_SYMBOLS; i++) {
		int n = snprintf(name, sizeof name, "S%u", i);
		cr_assert_eq(feed_symtab_lookup(t, name, (size_t)n), i);
	}
	cr_assert_eq(feed_symtab_lookup(t, "ONEMORE", 7), 0, "full");
	cr_assert_eq(feed_symtab_lookup(t, "S77", 3), 77, "still finds what it has");
	free(t);
}
