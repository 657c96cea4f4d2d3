/*
 * MoldUDP64 sequencing and the ITCH decoder behind it.  The input is a run
 * of packets, each preceded by a 2-byte big-endian length (so one input is
 * a short conversation: gaps, duplicates, overlaps, session changes).
 * Properties: no read outside a packet (each is copied to an exact-size
 * heap block), the expected sequence never moves backwards within a
 * session, and the counters agree with what was delivered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/moldudp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t delivered;

static void count_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	(void)ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed_symtab tab;
	static struct itch d;
	feed_symtab_init(&tab, true, 4, 0);
	struct itch_cfg cfg = {.max_books = 4, .max_levels = 16, .max_orders = 64};
	if (itch_init(&d, &tab, &cfg) != 0)
		abort();
	struct moldudp m;
	moldudp_init(&m);
	delivered = 0;
	size_t off = 0;
	while (size - off >= 2) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		char *pkt = malloc(n ? n : 1);
		if (!pkt)
			abort();
		memcpy(pkt, data + off, n);
		off += n;
		uint64_t before = m.next_seq, changes = m.st.session_changes;
		uint64_t msgs = m.st.messages;
		int kind = moldudp_itch_packet(&m, &d, pkt, n, 0, count_event, NULL);
		if (m.st.session_changes == changes && m.next_seq < before)
			abort();
		if (kind != MOLDUDP_DATA && m.st.messages != msgs)
			abort();
		delivered += m.st.messages - msgs;
		free(pkt);
	}
	if (delivered != m.st.messages || itch_messages(&d) > delivered)
		abort();
	itch_free(&d);
	return 0;
}
