/*
 * Feed transports: what they share.
 *
 * A transport delivers raw venue messages (one ITCH message, one JSON line,
 * one UDP payload) to a callback, with the local receive time.  It knows
 * nothing about decoding: the bytes go to a decoder (feeds/feed.h) unchanged.
 *
 *   int deliver(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns);
 *
 * msg is valid only during the call (it points into a mapping, a capture
 * buffer or a receive buffer that is reused afterwards).  recv_ns is
 * CLOCK_MONOTONIC nanoseconds: when the bytes reached this host (UDP with
 * kernel timestamps) or when the transport handed them over (file replay).
 * The callback returns 0 to go on, nonzero to make the transport's run/poll
 * function return after this message; the next call resumes with the next
 * message, nothing is lost.
 *
 * Also here, because the pcap and DPDK transports both need it: one parser
 * for Ethernet / IPv4 / UDP frames (xport_net_udp), and the replay pacer
 * that file and pcap replay share (struct xport_pacer).
 */
#ifndef FKS_FEEDS_XPORT_H
#define FKS_FEEDS_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/feed.h"

typedef int (*xport_deliver_fn)(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns);

/* Counters every transport keeps; plain fields, read them any time (the
 * progress of a replay: input_bytes against the file size). */
struct xport_stats {
	uint64_t messages;     /* delivered to the callback */
	uint64_t bytes;        /* payload bytes delivered */
	uint64_t input_bytes;  /* bytes consumed from the source: file offset, frame bytes */
	uint64_t errors;       /* sum of the transport's error counters */
	uint64_t skipped;      /* dropped on purpose, not errors: filtered packets, blank lines */
};

/* "No recorded time" for a message. */
#define XPORT_NO_TIME INT64_MIN

/* ---- Ethernet / IPv4 / UDP --------------------------------------------- */

/* Why a frame carried no UDP payload.  Each is a counter in the pcap and DPDK
 * transports, named by xport_net_reason[]. */
enum xport_net_status {
	XPORT_NET_OK = 0,
	XPORT_NET_SHORT_L2,      /* shorter than its link-layer (+VLAN) header */
	XPORT_NET_NOT_IPV4,      /* ethertype other than IPv4: ARP, IPv6, LLDP... */
	XPORT_NET_SHORT_IP,      /* fewer than 20 bytes of IPv4 header */
	XPORT_NET_BAD_IP_VERSION,/* version nibble is not 4 */
	XPORT_NET_BAD_IHL,       /* header length < 20 bytes or beyond the frame */
	XPORT_NET_BAD_IP_LEN,    /* total length < header length, or beyond the frame */
	XPORT_NET_FRAGMENT,      /* MF set or nonzero offset: not reassembled, skipped */
	XPORT_NET_NOT_UDP,       /* IP protocol other than 17 */
	XPORT_NET_BAD_UDP_LEN,   /* UDP length < 8 or beyond the IP payload */
	XPORT_NET_N
};
extern const char *const xport_net_reason[XPORT_NET_N]; /* [0] is "ok" */

/* Where the IP packet starts in a frame. */
enum xport_link {
	XPORT_LINK_ETHERNET,     /* DIX Ethernet, up to two 802.1Q / 802.1ad tags */
	XPORT_LINK_RAW_IP,       /* the frame is the IP packet */
	XPORT_LINK_LINUX_SLL,    /* Linux cooked capture v1 (tcpdump -i any) */
};

struct xport_udp_pkt {
	const uint8_t *payload;
	size_t len;
	uint32_t src_addr, dst_addr;  /* host byte order */
	uint16_t src_port, dst_port;  /* host byte order */
};

/*
 * Find the UDP payload of one captured frame of cap_len bytes.  Lengths are
 * validated against each other and against cap_len; trailing bytes past the
 * IP total length (Ethernet padding, FCS) are ignored.  The UDP checksum is
 * not verified (the NIC or capture already did, or nobody will).  No state,
 * no allocation: safe on any input.
 */
enum xport_net_status xport_net_udp(enum xport_link link, const uint8_t *frame, size_t cap_len,
				    struct xport_udp_pkt *out);

/* Optional filter: 0 in a field matches anything. */
struct xport_net_filter {
	uint32_t dst_addr;   /* host byte order */
	uint16_t dst_port;
};

static inline bool xport_net_match(const struct xport_net_filter *f, const struct xport_udp_pkt *p)
{
	return (f->dst_addr == 0 || f->dst_addr == p->dst_addr) &&
	       (f->dst_port == 0 || f->dst_port == p->dst_port);
}

/* ---- replay pacing ----------------------------------------------------- */

/*
 * Paces replay by recorded timestamps: the message recorded at t is handed
 * over at  start + (t - t0) / speed  on CLOCK_MONOTONIC, where t0 is the
 * first recorded time seen and start the moment it was seen.  Sleeps with
 * clock_nanosleep(TIMER_ABSTIME), so errors do not accumulate.  A time
 * earlier than the previous one is counted (backwards) and delivered at
 * once; it does not move the anchor, so later messages keep their pace.
 * speed <= 0 disables pacing (as fast as possible); going backwards is
 * counted either way.
 *
 * A jump forward of more than max_gap_ns of recorded time (a corrupt
 * timestamp, or the night between two sessions) would stall the replay for
 * that long: it is counted (jumps), the message is handed over at once and
 * pacing re-anchors there.  max_gap_ns 0 means XPORT_PACER_MAX_GAP_NS,
 * negative means no limit.
 */
#define XPORT_PACER_MAX_GAP_NS 60000000000LL /* one minute of recorded time */

struct xport_pacer {
	double speed;
	int64_t max_gap_ns;
	bool seen, anchored;
	int64_t t0, start, last;
	uint64_t backwards;
	uint64_t jumps;
	uint64_t sleeps;
};

void xport_pacer_init(struct xport_pacer *p, double speed, int64_t max_gap_ns);

/* Wait until the message recorded at rec_ns is due. */
void xport_pacer_wait(struct xport_pacer *p, int64_t rec_ns);

#endif
