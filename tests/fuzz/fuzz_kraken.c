/* kraken_decode on arbitrary bytes (fuzz_venue.h): after every message each
 * book is within the subscribed depth. */
#include "tests/fuzz/fuzz_venue.h"
#include "feeds/decoders/kraken.h"

#define DEPTH 10

static int decode(void *d, const char *m, size_t n)
{
	return kraken_decode(d, m, n, 1, fuzz_check_event, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed_symtab tab;
	static struct kraken d;

	/* Kraken's BTC/USD precision as the learned default */
	feed_symtab_init(&tab, true, 1, 8);
	if (kraken_init(&d, &tab, 4, DEPTH, 4096))
		abort();
	fuzz_venue_run(&d, &d.v, DEPTH, decode, NULL, data, size);
	kraken_free(&d);
	return 0;
}
