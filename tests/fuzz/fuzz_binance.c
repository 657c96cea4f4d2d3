/*
 * binance_decode on arbitrary bytes: the whole input as one message, then
 * each line as a message, with a REST snapshot in between so the buffered
 * diffs are replayed.  Properties: no crash or overread (ASan/UBSan), only
 * market-data events come out, and every book stays sorted worst first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct binance dec;
static struct feed_symtab syms;

static void check_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	if (ev->h.source != FKS_STAGE_FEED || ev->h.seq != 0 ||
	    (ev->h.type != FKS_EV_QUOTE && ev->h.type != FKS_EV_TRADE && ev->h.type != FKS_EV_BOOK_DELTA))
		abort();
}

static void check_books(void)
{
	for (uint32_t i = 0; i < dec.nbooks; i++) {
		const struct book_l2 *b = &dec.book[i].book;
		for (uint32_t k = 1; k < b->bid.n; k++)
			if (b->bid.lv[k - 1].px >= b->bid.lv[k].px || b->bid.lv[k].qty <= 0)
				abort();
		for (uint32_t k = 1; k < b->ask.n; k++)
			if (b->ask.lv[k - 1].px <= b->ask.lv[k].px || b->ask.lv[k].qty <= 0)
				abort();
	}
}

static void decode(const uint8_t *p, size_t n)
{
	char *m = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
	if (!m)
		return;
	memcpy(m, p, n);
	binance_decode(&dec, m, n, 1, check_event, NULL);
	free(m);
	check_books();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	feed_symtab_init(&syms, true, 8, 8);
	binance_init(&dec, &syms);

	decode(data, size);
	static const struct book_level bids[] = { { 100, 1 }, { 200, 2 } }, asks[] = { { 300, 3 } };
	for (uint32_t id = 1; id <= syms.n && id <= 2; id++)
		binance_snapshot(&dec, id, 390497800, bids, 2, asks, 1, 2, check_event, NULL);
	check_books();
	for (size_t i = 0, start = 0; i <= size; i++)
		if (i == size || data[i] == '\n') {
			decode(data + start, i - start);
			start = i + 1;
		}
	return 0;
}
