/*
 * The Coinbase decoder takes bytes straight from the network.  Properties:
 * it never reads outside the message, never crashes, only emits market
 * data events that are well formed, and keeps every book within its
 * capacity and sorted.  The input is decoded whole, then line by line, so
 * that one input can be a snapshot followed by updates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coinbase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	if (ev->h.source != FKS_STAGE_FEED || ev->h.seq != 0 || ev->h.instrument == 0)
		abort();
	if (ev->h.type != FKS_EV_QUOTE && ev->h.type != FKS_EV_TRADE &&
	    ev->h.type != FKS_EV_BOOK_DELTA)
		abort();
	if (ev->h.event_time_ns < 0)
		abort();
	if (ev->h.type == FKS_EV_TRADE && (ev->trade.px <= 0 || ev->trade.qty <= 0))
		abort();
}

static void check_side(const struct book_l2_side *s, uint32_t cap, int dir)
{
	if (s->n > cap)
		abort();
	for (uint32_t i = 0; i + 1 < s->n; i++)
		if ((s->lv[i + 1].px - s->lv[i].px) * dir <= 0 || s->lv[i].qty <= 0)
			abort();
}

static void decode(struct coinbase *d, const uint8_t *p, size_t n)
{
	/* an exact-size heap copy, so ASan sees any overread */
	char *m = malloc(n ? n : 1);
	if (!m)
		abort();
	memcpy(m, p, n);
	int rc = coinbase_decode(d, m, n, 1, check_event, NULL);
	if (rc > 0 || rc <= -CB_E_COUNT)
		abort();
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed_symtab tab;
	static struct coinbase d;
	feed_symtab_init(&tab, true, 2, 8);
	if (coinbase_init(&d, &tab, 4, 32, 2048))
		abort();
	decode(&d, data, size);
	for (size_t at = 0; at < size;) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - data) : size;
		decode(&d, data + at, end - at);
		at = end + 1;
	}
	for (uint32_t id = 1; id <= 4; id++) {
		const struct book_l2 *b = coinbase_book(&d, id);
		check_side(&b->bid, 32, 1);
		check_side(&b->ask, 32, -1);
	}
	coinbase_free(&d);
	return 0;
}
