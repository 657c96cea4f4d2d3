/*
 * What the transports share: the Ethernet/IPv4/UDP parser and the replay
 * pacer.  See xport.h.
 */
#include "feeds/xport/xport.h"
#include "shm/clock.h"

#include <errno.h>
#include <time.h>

const char *const xport_net_reason[XPORT_NET_N] = {
	[XPORT_NET_OK] = "ok",
	[XPORT_NET_SHORT_L2] = "short_l2",
	[XPORT_NET_NOT_IPV4] = "not_ipv4",
	[XPORT_NET_SHORT_IP] = "short_ip",
	[XPORT_NET_BAD_IP_VERSION] = "bad_ip_version",
	[XPORT_NET_BAD_IHL] = "bad_ihl",
	[XPORT_NET_BAD_IP_LEN] = "bad_ip_len",
	[XPORT_NET_FRAGMENT] = "fragment",
	[XPORT_NET_NOT_UDP] = "not_udp",
	[XPORT_NET_BAD_UDP_LEN] = "bad_udp_len",
};

static inline uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_UDP_ 17

enum xport_net_status xport_net_udp(enum xport_link link, const uint8_t *f, size_t cap,
				    struct xport_udp_pkt *out)
{
	size_t off;
	uint16_t type;

	switch (link) {
	case XPORT_LINK_ETHERNET:
		if (cap < 14)
			return XPORT_NET_SHORT_L2;
		off = 12;
		type = be16_at(f + off);
		/* Up to two tags (802.1ad outer, 802.1Q inner): exchanges hand
		 * out tagged cross-connects. */
		for (int tags = 0; tags < 2 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ); tags++) {
			off += 4;
			if (cap < off + 2)
				return XPORT_NET_SHORT_L2;
			type = be16_at(f + off);
		}
		off += 2;
		break;
	case XPORT_LINK_LINUX_SLL:
		if (cap < 16)
			return XPORT_NET_SHORT_L2;
		type = be16_at(f + 14);
		off = 16;
		break;
	case XPORT_LINK_RAW_IP:
		off = 0;
		type = cap > 0 && (f[0] >> 4) == 4 ? ETHERTYPE_IPV4 : 0;
		break;
	default:
		return XPORT_NET_SHORT_L2;
	}
	if (type != ETHERTYPE_IPV4)
		return XPORT_NET_NOT_IPV4;

	const uint8_t *ip = f + off;
	size_t avail = cap - off;
	if (avail < 20)
		return XPORT_NET_SHORT_IP;
	if (ip[0] >> 4 != 4)
		return XPORT_NET_BAD_IP_VERSION;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > avail)
		return XPORT_NET_BAD_IHL;
	size_t total = be16_at(ip + 2);
	if (total < ihl || total > avail)
		return XPORT_NET_BAD_IP_LEN;
	uint16_t frag = be16_at(ip + 6);
	if (frag & 0x3fff) /* MF or a fragment offset; DF (0x4000) is fine */
		return XPORT_NET_FRAGMENT;
	if (ip[9] != IPPROTO_UDP_)
		return XPORT_NET_NOT_UDP;

	const uint8_t *udp = ip + ihl;
	size_t ip_payload = total - ihl;
	if (ip_payload < 8)
		return XPORT_NET_BAD_UDP_LEN;
	size_t ulen = be16_at(udp + 4);
	if (ulen < 8 || ulen > ip_payload)
		return XPORT_NET_BAD_UDP_LEN;

	out->payload = udp + 8;
	out->len = ulen - 8;
	out->src_addr = be32_at(ip + 12);
	out->dst_addr = be32_at(ip + 16);
	out->src_port = be16_at(udp);
	out->dst_port = be16_at(udp + 2);
	return XPORT_NET_OK;
}

void xport_pacer_init(struct xport_pacer *p, double speed, int64_t max_gap_ns)
{
	*p = (struct xport_pacer){ .speed = speed,
				   .max_gap_ns = max_gap_ns == 0 ? XPORT_PACER_MAX_GAP_NS : max_gap_ns };
}

void xport_pacer_wait(struct xport_pacer *p, int64_t rec_ns)
{
	if (p->seen && rec_ns < p->last) {
		p->backwards++;
		return; /* due already: deliver at once */
	}
	bool jump = p->seen && p->max_gap_ns > 0 && rec_ns - p->last > p->max_gap_ns;
	if (jump)
		p->jumps++;
	p->seen = true;
	p->last = rec_ns; /* the latest time so far: only moves forward */
	if (p->speed <= 0)
		return;
	if (!p->anchored || jump) {
		p->anchored = true;
		p->t0 = rec_ns;
		p->start = clock_mono_ns();
		return;
	}
	/* double: (t - t0) can be a whole day of ns; 2^53 ns is 104 days, so
	 * the quotient is exact to well under a ns over any real recording. */
	int64_t due = p->start + (int64_t)((double)(rec_ns - p->t0) / p->speed);
	if (due <= clock_mono_ns())
		return;
	struct timespec ts = { .tv_sec = due / 1000000000, .tv_nsec = due % 1000000000 };
	p->sleeps++;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}
