/* bybit_decode on arbitrary bytes (fuzz_venue.h). */
#include "feeds/decoders/bybit.h"
#include "tests/fuzz/fuzz_venue.h"

static int decode(void *d, const char *m, size_t n)
{
	return bybit_decode(d, m, n, 1, fuzz_check_event, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bybit dec;
	static struct feed_symtab syms;

	feed_symtab_init(&syms, true, 4, 3);
	bybit_init(&dec, &syms);
	fuzz_venue_run(&dec, &dec.v, BYBIT_BOOK_LEVELS, decode, NULL, data, size);
	return 0;
}
