/*
 * pcap file replay: the UDP payloads of a capture (MoldUDP64 packets, for
 * the caller to unwrap), in capture order.
 *
 * Read with libpcap (pcap_open_offline_with_tstamp_precision, so classic
 * and nanosecond pcap and pcapng all work, timestamps in ns).  Link types:
 * Ethernet (with up to two VLAN tags), raw IPv4, and Linux cooked capture;
 * anything else is refused at open.  Frames are parsed by xport_net_udp()
 * (xport.h), which the DPDK transport shares.  libpcap reads into one
 * buffer it reuses: no allocation per packet.
 *
 * The capture timestamp is the recorded time: with opts.speed > 0 packets
 * are handed over at their captured spacing divided by speed; recv_ns is
 * CLOCK_MONOTONIC at hand-over; xport_pcap_record_ns() gives the capture
 * time (ns since the epoch) of the packet being delivered, and
 * xport_pcap_packet() its addresses and ports.
 *
 * Errors (counters, named by xport_pcap_errors): every xport_net_reason
 * (short_l2, not_ipv4, bad_ihl, fragment, not_udp, ...), plus
 *   caplen_short  the capture kept fewer bytes than were on the wire
 *                 (snaplen): the payload would be cut, so it is skipped;
 *   truncated     the file ends inside a record (libpcap "truncated dump
 *                 file"): replay ends, every whole packet before it was
 *                 delivered;
 *   read_error    any other libpcap read error: replay ends;
 *   backwards     a capture time earlier than one before it (delivered);
 *   time_jump     a capture time more than max_gap_ns after the one
 *                 before (delivered at once; pacing restarts there).
 * Packets that fail opts.filter are counted in stats.skipped, not errors.
 */
#ifndef FKS_FEEDS_XPORT_PCAP_H
#define FKS_FEEDS_XPORT_PCAP_H

#include "feeds/xport/xport.h"

enum xport_pcap_err {
	/* XPORT_NET_SHORT_L2 .. XPORT_NET_BAD_UDP_LEN share numbers with
	 * enum xport_net_status; [0] (ok) is unused. */
	XPORT_PCAP_E_CAPLEN_SHORT = XPORT_NET_N,
	XPORT_PCAP_E_TRUNCATED,
	XPORT_PCAP_E_READ_ERROR,
	XPORT_PCAP_E_BACKWARDS,
	XPORT_PCAP_E_TIME_JUMP,
	XPORT_PCAP_E_N
};

struct xport_pcap_opts {
	struct xport_net_filter filter; /* zeros: every UDP packet */
	double speed;                   /* 0: as fast as possible */
	int64_t max_gap_ns;             /* see struct xport_pacer; 0: one minute */
};

struct xport_pcap {
	struct xport_pcap_opts o;
	void *pcap;                     /* pcap_t */
	enum xport_link link;
	bool done;
	int64_t rec_ns;
	struct xport_udp_pkt pkt;       /* the packet being delivered */
	struct xport_pacer pacer;
	struct xport_stats stats;
	struct named_counter err[XPORT_PCAP_E_N];
	char errbuf[256];               /* libpcap's message for open / read_error */
};

/* Open a capture.  Returns 0, or -1 with the reason in x->errbuf (no such
 * file, not a capture, unsupported link type, bad opts). */
int xport_pcap_open(struct xport_pcap *x, const char *path, const struct xport_pcap_opts *o);

/* Deliver UDP payloads until the capture ends (0) or the callback returns
 * nonzero (1; call again to go on). */
int xport_pcap_run(struct xport_pcap *x, xport_deliver_fn fn, void *ctx);

static inline int64_t xport_pcap_record_ns(const struct xport_pcap *x)
{
	return x->rec_ns;
}

static inline const struct xport_udp_pkt *xport_pcap_packet(const struct xport_pcap *x)
{
	return &x->pkt;
}

/* Error counters by name; entry 0 ("ok") is always zero.  Returns how many. */
size_t xport_pcap_errors(const struct xport_pcap *x, const struct named_counter **out);

void xport_pcap_close(struct xport_pcap *x);

#endif
