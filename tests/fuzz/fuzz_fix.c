/*
 * The FIX 4.4 decoder on arbitrary bytes, as a stream.  Properties: nothing
 * reads outside the input (ASan); every call either needs more input or
 * consumes something, never past the end; a decoded message's fields lie
 * inside it, in order, with the header's required tags found; and a
 * message that decodes decodes again from a copy of exactly its bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/venues/fix44/fix_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fix_msg m, again;

static void check_message(const char *at, size_t used)
{
	if (used != m.raw_len || m.raw != at || m.n == 0 || m.f[0].tag != 35)
		abort();
	for (uint32_t i = 0; i < m.n; i++) {
		const struct fix_field *f = &m.f[i];
		if (f->len == 0 || f->val < at || f->val + f->len > at + used)
			abort();
		if (i && f->val <= m.f[i - 1].val)
			abort();
	}
	if (!fix_get(&m, 49) || !fix_get(&m, 56) || !fix_get(&m, 52))
		abort();
	char *copy = malloc(used);
	if (!copy)
		abort();
	memcpy(copy, at, used);
	size_t used2;
	if (fix_decode(copy, used, &again, &used2, NULL) != FIX_OK || used2 != used || again.seq != m.seq)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size heap copy so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	struct fix_decode_counters c = { 0 };
	size_t off = 0;
	while (off < size) {
		size_t used;
		int rc = fix_decode(buf + off, size - off, &m, &used, &c);
		if (rc == FIX_NEED_MORE)
			break;
		if (used == 0 || used > size - off)
			abort();
		if (rc == FIX_OK)
			check_message(buf + off, used);
		else if (rc <= FIX_OK || rc >= FIX_ERR_COUNT)
			abort();
		off += used;
	}
	free(buf);
	return 0;
}
