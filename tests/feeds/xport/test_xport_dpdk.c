/*
 * DPDK receive through the net_pcap virtual device: the ITCH sample wrapped
 * in MoldUDP64 packets, written to a pcap file here (with libpcap's dumper),
 * read back through rte_eth_rx_burst.  Every payload must arrive in order,
 * byte for byte; the non-UDP frames mixed in must be counted.
 *
 * The EAL initialises once per process; Criterion runs each test in a
 * process of its own, and this file keeps DPDK to one test.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds/xport/xport_dpdk.h"
#include "shm/clock.h"

#if FKS_HAVE_DPDK_XPORT

/* ITCH 5.0 sizes from the specification, for framing the zero-prefixed
 * sample (only the types the sample holds; data/README.md lists them). */
static size_t itch_size(uint8_t t)
{
	switch (t) {
	case 'S': return 12;
	case 'R': return 39;
	case 'H': return 25;
	case 'A': return 36;
	case 'F': return 40;
	case 'E': return 31;
	case 'X': return 23;
	case 'D': return 19;
	case 'U': return 35;
	case 'P': return 44;
	default: return 0;
	}
}

#define MAX_PKTS 1024
#define MOLD_MAX 1400

struct expect {
	size_t n;
	uint16_t len[MAX_PKTS];
	uint8_t *payload[MAX_PKTS];
	uint64_t messages;    /* ITCH messages over all packets */
};

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Ethernet + IPv4 + UDP to 233.54.12.1:26477 around payload. */
static size_t eth_udp(uint8_t *f, const uint8_t *payload, size_t plen, uint8_t proto, uint16_t frag)
{
	static const uint8_t hdr[14] = { 1, 0, 0x5e, 0x36, 0x0c, 1, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	memcpy(f, hdr, 14);
	uint8_t *ip = f + 14;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(28 + plen));
	put16(ip + 6, frag);
	ip[8] = 32;
	ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 1, 2, 3, 233, 54, 12, 1 }, 8);
	put16(ip + 20, 40000);
	put16(ip + 22, 26477);
	put16(ip + 24, (unsigned)(8 + plen));
	memcpy(ip + 28, payload, plen);
	return 14 + 28 + plen;
}

static void dump(pcap_dumper_t *d, const uint8_t *f, size_t n, long usec)
{
	struct pcap_pkthdr h = { .ts = { .tv_sec = 1293177600, .tv_usec = usec }, .caplen = (bpf_u_int32)n,
				 .len = (bpf_u_int32)n };
	pcap_dump((u_char *)d, &h, f);
}

/* MoldUDP64: session(10) seq(8) count(2), then count x (len(2) message). */
static void build_capture(const char *path, struct expect *e, const char *itch_path)
{
	FILE *in = fopen(itch_path, "rb");
	cr_assert(in, "%s", itch_path);
	static uint8_t itch[465048];
	cr_assert_eq(fread(itch, 1, sizeof itch, in), sizeof itch);
	fclose(in);

	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	cr_assert(d, "%s", pcap_geterr(dead));

	uint8_t frame[2048], pkt[MOLD_MAX + 64];
	uint64_t seq = 1;
	size_t off = 0;
	long t = 0;
	while (off < sizeof itch) {
		memcpy(pkt, "FKSTEST001", 10);
		size_t plen = 20;
		unsigned count = 0;
		while (off < sizeof itch) {
			size_t len = itch_size(itch[off + 2]);
			cr_assert_neq(len, 0, "unknown ITCH type at %zu", off);
			if (plen + 2 + len > MOLD_MAX)
				break;
			put16(pkt + plen, (unsigned)len);
			memcpy(pkt + plen + 2, itch + off + 2, len);
			plen += 2 + len;
			off += 2 + len;
			count++;
		}
		for (int i = 0; i < 8; i++)
			pkt[10 + i] = (uint8_t)(seq >> (56 - 8 * i));
		put16(pkt + 18, count);
		seq += count;
		cr_assert(e->n < MAX_PKTS);
		e->payload[e->n] = malloc(plen);
		memcpy(e->payload[e->n], pkt, plen);
		e->len[e->n] = (uint16_t)plen;
		e->n++;
		e->messages += count;
		dump(d, frame, eth_udp(frame, pkt, plen, 17, 0), t++);
		if (e->n == 3) { /* noise the transport must count and skip */
			dump(d, frame, eth_udp(frame, pkt, 40, 6, 0), t++);       /* TCP */
			dump(d, frame, eth_udp(frame, pkt, 40, 17, 0x2000), t++); /* fragment */
			uint8_t arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
			dump(d, arp, sizeof arp, t++);                             /* not IPv4 */
		}
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

struct sink {
	const struct expect *e;
	size_t n;
	size_t mismatch_at;  /* first wrong packet + 1, or 0 */
	uint64_t messages;
};

static int sink_fn(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct sink *s = ctx;
	(void)recv_ns;
	if (!s->mismatch_at && (s->n >= s->e->n || len != s->e->len[s->n] ||
				memcmp(msg, s->e->payload[s->n], len) != 0))
		s->mismatch_at = s->n + 1;
	if (len >= 20)
		s->messages += (unsigned)msg[18] << 8 | msg[19];
	s->n++;
	return 0;
}

static uint64_t err_of(const struct xport_dpdk *x, const char *name)
{
	const struct named_counter *c;
	size_t n = xport_dpdk_errors(x, &c);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].n;
	cr_assert_fail("no counter %s", name);
	return 0;
}

Test(xport_dpdk, net_pcap_itch_in_moldudp64)
{
	const char *root = getenv("FKS_SHARED");
	cr_assert(root, "FKS_SHARED not set");
	char itch[512], pcap_path[64], vdev[128], prefix[64];
	snprintf(itch, sizeof itch, "%s/data/itch/ex20101224.TEST_ITCH_50", root);
	snprintf(pcap_path, sizeof pcap_path, "/tmp/fks_xport_dpdk_%d.pcap", (int)getpid());
	static struct expect e;
	build_capture(pcap_path, &e, itch);
	cr_assert_eq(e.messages, 12012); /* data/README.md */

	snprintf(vdev, sizeof vdev, "--vdev=net_pcap0,rx_pcap=%s", pcap_path);
	snprintf(prefix, sizeof prefix, "--file-prefix=fks_xport_%d", (int)getpid());
	char *argv[] = { "fks-test", "--no-huge", "--no-pci", "--no-shconf", prefix, vdev, "-l", "0",
			 "--no-telemetry", "--log-level=*:warning", NULL };
	struct xport_dpdk x;
	struct xport_dpdk_opts o = { .eal_argc = 10, .eal_argv = argv, .port = "net_pcap0", .n_mbufs = 2047 };
	int rc = xport_dpdk_open(&x, &o);
	unlink(pcap_path);
	cr_assert_eq(rc, 0, "%s", x.errbuf);

	struct sink s = { .e = &e };
	int64_t deadline = clock_mono_ns() + 10000000000;
	while (s.n < e.n && clock_mono_ns() < deadline)
		cr_assert(xport_dpdk_poll(&x, sink_fn, &s) >= 0);
	/* net_pcap stops at the end of the file: nothing more shows up */
	for (int i = 0; i < 1000; i++)
		xport_dpdk_poll(&x, sink_fn, &s);
	cr_assert_eq(s.n, e.n, "%zu of %zu packets", s.n, e.n);
	cr_assert_eq(s.mismatch_at, 0, "packet %zu differs", s.mismatch_at - 1);
	cr_assert_eq(s.messages, 12012);
	cr_assert_eq(x.stats.messages, e.n);
	cr_assert_eq(err_of(&x, "not_udp"), 1);
	cr_assert_eq(err_of(&x, "fragment"), 1);
	cr_assert_eq(err_of(&x, "not_ipv4"), 1);
	cr_assert_eq(x.stats.errors, 3);
	xport_dpdk_refresh_hw(&x);
	cr_assert_eq(err_of(&x, "rx_missed"), 0);
	cr_assert_eq(err_of(&x, "rx_nombuf"), 0);
	xport_dpdk_close(&x);
	xport_dpdk_eal_cleanup();
	/* --no-shconf leaves only the EAL's empty runtime directory */
	char rundir[256];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	snprintf(rundir, sizeof rundir, "%s/dpdk/%s", getuid() == 0 ? "/var/run" : xdg ? xdg : "/tmp",
		 prefix + strlen("--file-prefix="));
	rmdir(rundir);
	for (size_t i = 0; i < e.n; i++)
		free(e.payload[i]);
}

#else

Test(xport_dpdk, net_pcap_itch_in_moldudp64)
{
	cr_skip_test("built without DPDK (libdpdk not found, or -Ddpdk=disabled)");
}

#endif
