/*
 * fx_parse is the first thing every feed decoder calls on a venue's price
 * and quantity strings.  Property: it never reads outside the input, and
 * whatever it accepts formats back to a string that parses to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shm/fixed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned scale = data[0] % (FX_MAX_SCALE + 2); /* one past the limit too */
	/* Copy to an exact-size heap block so ASan sees any overread. */
	char *s = malloc(size - 1 ? size - 1 : 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	int64_t v;
	int rc = fx_parse(s, size - 1, scale, &v);
	if (rc == FX_OK) {
		char buf[FX_FORMAT_MAX + 1];
		int n = fx_format(v, scale, buf, sizeof buf);
		int64_t back;
		if (n < 0 || fx_parse(buf, (size_t)n, scale, &back) != FX_OK || back != v)
			abort();
	}
	free(s);
	return 0;
}
