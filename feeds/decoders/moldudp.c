/* MoldUDP64 sequencing (moldudp.h). */
#include "feeds/decoders/moldudp.h"

#include <string.h>

void moldudp_init(struct moldudp *m)
{
	memset(m, 0, sizeof *m);
	m->next_seq = 1;
}

static uint64_t be64(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | u[i];
	return v;
}

static uint16_t be16(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	return (uint16_t)(u[0] << 8 | u[1]);
}

/* Count the gap before seq, if any. */
static uint64_t gap_before(struct moldudp *m, uint64_t seq)
{
	if (seq <= m->next_seq)
		return 0;
	uint64_t g = seq - m->next_seq;
	m->st.gaps++;
	m->st.missed += g;
	m->next_seq = seq;
	return g;
}

int moldudp_open(struct moldudp *m, const char *pkt, size_t len, struct moldudp_packet *pk)
{
	memset(pk, 0, sizeof *pk);
	if (len < MOLDUDP_HEADER_LEN) {
		m->st.malformed++;
		return MOLDUDP_MALFORMED;
	}
	uint64_t seq = be64(pkt + MOLDUDP_SESSION_LEN);
	uint16_t count = be16(pkt + 18);

	/* Heartbeats and end of session have no blocks; data must add up. */
	size_t off = MOLDUDP_HEADER_LEN;
	if (count == 0 || count == MOLDUDP_END_OF_SESSION) {
		if (len != MOLDUDP_HEADER_LEN) {
			m->st.malformed++;
			return MOLDUDP_MALFORMED;
		}
	} else {
		for (uint16_t k = 0; k < count; k++) {
			if (len - off < 2) {
				m->st.malformed++;
				return MOLDUDP_MALFORMED;
			}
			size_t n = be16(pkt + off);
			if (n == 0 || len - off - 2 < n) {
				m->st.malformed++;
				return MOLDUDP_MALFORMED;
			}
			off += 2 + n;
		}
		/* seq + count must not wrap: a sequence that large is garbage. */
		if (off != len || seq == 0 || seq > UINT64_MAX - count) {
			m->st.malformed++;
			return MOLDUDP_MALFORMED;
		}
	}

	if (!m->have_session || memcmp(m->session, pkt, MOLDUDP_SESSION_LEN) != 0) {
		if (m->have_session)
			m->st.session_changes++;
		memcpy(m->session, pkt, MOLDUDP_SESSION_LEN);
		m->have_session = true;
		m->ended = false;
		m->next_seq = 1;
	}
	m->st.packets++;

	if (count == 0 || count == MOLDUDP_END_OF_SESSION) {
		pk->gap = gap_before(m, seq);
		if (count == 0) {
			m->st.heartbeats++;
			return MOLDUDP_HEARTBEAT;
		}
		m->st.end_of_session++;
		m->ended = true;
		return MOLDUDP_END;
	}

	uint64_t end = seq + count; /* one past the packet's last message */
	if (end <= m->next_seq) {
		m->st.duplicates++;
		m->st.dup_messages += count;
		return MOLDUDP_DUPLICATE;
	}
	pk->gap = gap_before(m, seq);
	pk->p = pkt;
	pk->len = len;
	pk->off = MOLDUDP_HEADER_LEN;
	pk->seq = seq;
	pk->left = count;
	/* Skip the blocks already delivered by an overlapping packet. */
	while (pk->seq < m->next_seq) {
		pk->off += 2 + be16(pkt + pk->off);
		pk->seq++;
		pk->left--;
		m->st.dup_messages++;
	}
	m->st.messages += pk->left;
	m->next_seq = end;
	return MOLDUDP_DATA;
}

bool moldudp_next(struct moldudp_packet *pk, const char **msg, size_t *len, uint64_t *seq)
{
	if (!pk->left)
		return false;
	size_t n = be16(pk->p + pk->off);
	*msg = pk->p + pk->off + 2;
	*len = n;
	*seq = pk->seq;
	pk->off += 2 + n;
	pk->seq++;
	pk->left--;
	return true;
}

int moldudp_itch_packet(struct moldudp *m, struct itch *d, const char *pkt, size_t len,
			int64_t recv_ns, feed_emit_fn emit, void *ctx)
{
	struct moldudp_packet pk;
	int kind = moldudp_open(m, pkt, len, &pk);
	if (pk.gap)
		itch_mark_stale(d);
	if (kind == MOLDUDP_DATA) {
		const char *msg;
		size_t n;
		uint64_t seq;
		while (moldudp_next(&pk, &msg, &n, &seq))
			itch_decode(d, msg, n, recv_ns, emit, ctx);
	}
	return kind;
}
