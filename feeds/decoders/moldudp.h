/*
 * MoldUDP64: how Nasdaq carries ITCH over UDP multicast.
 *
 * A packet is a 20-byte header - session (10 ASCII bytes), the sequence
 * number of its first message (8 bytes) and a message count (2 bytes), all
 * big-endian - then `count` message blocks, each a 2-byte big-endian length
 * and that many bytes.  A count of 0 is a heartbeat and 0xFFFF the end of
 * the session; both carry the sequence number of the next message.
 *
 * The receiver expects sequence 1 first and then each next number in turn:
 *
 *  - A packet starting past the expected number is a gap: the missed
 *    messages are counted, delivery goes on from the packet, and on_gap is
 *    reported (for ITCH: every book of the session is marked stale, since
 *    nothing says which stocks the lost messages touched).  A heartbeat or
 *    end of session that reveals a gap counts the same.  Joining a session
 *    late is a gap from 1.
 *  - A packet wholly at or below what was delivered is a duplicate (the
 *    A/B feed arbitration case): dropped and counted.  A packet that
 *    overlaps delivers only its new messages; the old ones are counted as
 *    duplicate messages.
 *  - A malformed packet (short header, blocks that do not add up to the
 *    packet exactly, zero-length block) is dropped whole and counted:
 *    delivering half of it would hide where the gap is.  Its messages are
 *    then missed, so the next good packet reports the gap.
 *  - A different session id restarts sequencing at 1 (counted); the books
 *    are the caller's to reset (itch_reset_books).
 *
 * No recovery (re-request) is done here: the books stay stale until the
 * caller resets them (see docs/feeds-itch.md).  Pure: no I/O, no clock, no
 * allocation.
 */
#ifndef FKS_FEEDS_MOLDUDP_H
#define FKS_FEEDS_MOLDUDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/decoders/itch.h"

#define MOLDUDP_HEADER_LEN 20
#define MOLDUDP_SESSION_LEN 10
#define MOLDUDP_END_OF_SESSION 0xFFFFu

struct moldudp_stats {
	uint64_t packets;          /* accepted packets of any kind */
	uint64_t messages;         /* messages delivered */
	uint64_t heartbeats;
	uint64_t end_of_session;
	uint64_t gaps;             /* gap events */
	uint64_t missed;           /* messages skipped over by gaps */
	uint64_t duplicates;       /* whole packets dropped as already seen */
	uint64_t dup_messages;     /* messages dropped as already seen */
	uint64_t malformed;        /* packets dropped as malformed */
	uint64_t session_changes;
};

struct moldudp {
	char session[MOLDUDP_SESSION_LEN];
	bool have_session;
	bool ended;                /* end of session seen */
	uint64_t next_seq;         /* the sequence number expected next */
	struct moldudp_stats st;
};

void moldudp_init(struct moldudp *m);

/* One packet's messages, as moldudp_open found them. */
struct moldudp_packet {
	const char *p;
	size_t len, off;           /* off: next block to hand out */
	uint64_t seq;              /* sequence number of the block at off */
	uint16_t left;             /* blocks still to hand out */
	uint64_t gap;              /* messages missed just before this packet */
};

enum moldudp_kind {
	MOLDUDP_DATA = 1,          /* iterate with moldudp_next */
	MOLDUDP_HEARTBEAT = 2,
	MOLDUDP_END = 3,
	MOLDUDP_DUPLICATE = 4,     /* dropped */
	MOLDUDP_MALFORMED = -1,    /* dropped */
};

/*
 * Check a packet and advance the expected sequence past it.  Returns its
 * kind; on DATA, pk is ready for moldudp_next.  pk->gap (set for every
 * kind) is the number of messages missed right before it.
 */
int moldudp_open(struct moldudp *m, const char *pkt, size_t len, struct moldudp_packet *pk);

/* The next new message of an opened packet; false when none is left. */
bool moldudp_next(struct moldudp_packet *pk, const char **msg, size_t *len, uint64_t *seq);

/*
 * A packet carrying ITCH, straight into the decoder: a gap marks every book
 * of d stale before the packet's messages are decoded.  Returns the kind.
 */
int moldudp_itch_packet(struct moldudp *m, struct itch *d, const char *pkt, size_t len,
			int64_t recv_ns, feed_emit_fn emit, void *ctx);

#endif
