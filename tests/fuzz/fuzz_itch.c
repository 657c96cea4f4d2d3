/*
 * ITCH framing, decoding and L3 book maintenance on arbitrary bytes.
 * Properties: nothing reads outside the input (ASan), and after any input
 * every book is consistent - levels sorted, each with positive size and
 * orders, their order counts adding up to the book's - and every event is
 * well formed.  Small tables, so the full-table paths run too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/itch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	if (ev->h.source != FKS_STAGE_FEED || ev->h.instrument == 0)
		abort();
	if (ev->h.type == FKS_EV_BOOK_DELTA) {
		if (ev->book.px <= 0 || ev->book.qty < 0)
			abort();
		if ((ev->book.action == FKS_BOOK_DELETE) != (ev->book.qty == 0))
			abort();
	} else if (ev->h.type == FKS_EV_TRADE) {
		if (ev->trade.qty <= 0)
			abort();
	} else if (ev->h.type != FKS_EV_QUOTE) {
		abort();
	}
}

static void check_side(const struct book_l3_side *s, uint8_t side, uint64_t *orders)
{
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->lv[i].qty <= 0 || s->lv[i].orders == 0 || s->lv[i].px <= 0)
			abort();
		if (i && (side == FKS_SIDE_BUY ? s->lv[i].px <= s->lv[i - 1].px
					       : s->lv[i].px >= s->lv[i - 1].px))
			abort();
		*orders += s->lv[i].orders;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed_symtab tab;
	static struct itch d;
	feed_symtab_init(&tab, true, 4, 0);
	struct itch_cfg cfg = {.session_midnight_ns = 1, .max_books = 4, .max_levels = 16,
			       .max_orders = 64};
	if (itch_init(&d, &tab, &cfg) != 0)
		abort();
	/* Exact-size heap copy so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (itch_decode_stream(&d, buf, size, 0, check_event, NULL) > size)
		abort();
	/* The whole input as one message as well. */
	itch_decode(&d, buf, size, 0, check_event, NULL);

	uint64_t total = 0;
	for (uint32_t i = 0; i < d.pool.n_books; i++) {
		const struct book_l3 *b = &d.pool.books[i];
		uint64_t orders = 0;
		check_side(&b->bid, FKS_SIDE_BUY, &orders);
		check_side(&b->ask, FKS_SIDE_SELL, &orders);
		if (orders != b->orders)
			abort();
		total += orders;
	}
	if (total != d.pool.n_orders)
		abort();
	free(buf);
	itch_free(&d);
	return 0;
}
