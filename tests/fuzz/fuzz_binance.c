/*
 * binance_decode on arbitrary bytes (fuzz_venue.h), with a REST snapshot
 * for the first two instruments between the whole input and its lines, so
 * that buffered diffs are replayed.
 */
#include "feeds/decoders/binance.h"
#include "tests/fuzz/fuzz_venue.h"

static int decode(void *d, const char *m, size_t n)
{
	return binance_decode(d, m, n, 1, fuzz_check_event, NULL);
}

static void snapshot(void *dv)
{
	struct binance *d = dv;
	static const struct book_level bids[] = { { 100, 1 }, { 200, 2 } }, asks[] = { { 300, 3 } };

	for (uint32_t id = 1; id <= d->v.symbols->n && id <= 2; id++)
		binance_snapshot(d, id, 390497800, bids, 2, asks, 1, 2, fuzz_check_event, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct binance dec;
	static struct feed_symtab syms;

	feed_symtab_init(&syms, true, 8, 8);
	binance_init(&dec, &syms);
	fuzz_venue_run(&dec, &dec.v, BINANCE_BOOK_LEVELS, decode, snapshot, data, size);
	return 0;
}
