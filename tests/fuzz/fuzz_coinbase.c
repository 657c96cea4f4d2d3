/* coinbase_decode on arbitrary bytes (fuzz_venue.h): 4 books of 32 levels. */
#include "feeds/decoders/coinbase.h"
#include "tests/fuzz/fuzz_venue.h"

static int decode(void *d, const char *m, size_t n)
{
	return coinbase_decode(d, m, n, 1, fuzz_check_event, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed_symtab tab;
	static struct coinbase d;

	feed_symtab_init(&tab, true, 2, 8);
	if (coinbase_init(&d, &tab, 4, 32, 2048))
		abort();
	fuzz_venue_run(&d, &d.v, 32, decode, NULL, data, size);
	coinbase_free(&d);
	return 0;
}
