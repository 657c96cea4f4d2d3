/*
 * pcap replay and the shared Ethernet/IPv4/UDP parser.  The captures are
 * written here by hand, byte by byte (not with libpcap), so the reader is
 * checked against an independent writer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds/xport/xport_pcap.h"

/* ---- a capture writer --------------------------------------------------- */

struct cap {
	uint8_t buf[1 << 16];
	size_t n;
};

static void put(struct cap *c, const void *p, size_t n)
{
	cr_assert(c->n + n <= sizeof c->buf);
	memcpy(c->buf + c->n, p, n);
	c->n += n;
}

static void put32(struct cap *c, uint32_t v) { put(c, &v, 4); } /* host order: pcap is writer-endian */
static void put16(struct cap *c, uint16_t v) { put(c, &v, 2); }

/* Classic pcap global header; nano picks the ns magic. */
static void cap_header(struct cap *c, bool nano, uint32_t linktype)
{
	c->n = 0;
	put32(c, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(c, 2);
	put16(c, 4);
	put32(c, 0);
	put32(c, 0);
	put32(c, 65535);
	put32(c, linktype);
}

static void cap_record(struct cap *c, uint32_t sec, uint32_t frac, const uint8_t *frame, size_t caplen,
		       size_t wirelen)
{
	put32(c, sec);
	put32(c, frac);
	put32(c, (uint32_t)caplen);
	put32(c, (uint32_t)wirelen);
	put(c, frame, caplen);
}

/* Ethernet + IPv4 + UDP around payload; returns the frame length.  The
 * knobs make it bad in one specific way. */
struct knobs {
	uint16_t ethertype;   /* 0: IPv4 */
	bool vlan;
	uint8_t version_ihl;  /* 0: 0x45 */
	int total_adj;        /* added to the IP total length */
	uint16_t frag;        /* flags+offset field */
	uint8_t proto;        /* 0: UDP */
	int udp_adj;          /* added to the UDP length */
	size_t pad;           /* Ethernet padding after the IP packet */
	uint16_t dport;       /* 0: 26400 */
};

static size_t frame(uint8_t *f, const struct knobs *k, const void *payload, size_t plen)
{
	size_t o = 0;
	static const uint8_t macs[12] = { 1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	memcpy(f, macs, 12);
	o = 12;
	if (k->vlan) {
		f[o++] = 0x81;
		f[o++] = 0x00;
		f[o++] = 0x00;
		f[o++] = 0x64; /* VLAN 100 */
	}
	uint16_t et = k->ethertype ? k->ethertype : 0x0800;
	f[o++] = (uint8_t)(et >> 8);
	f[o++] = (uint8_t)et;
	uint8_t *ip = f + o;
	size_t total = 20 + 8 + plen;
	uint16_t tl = (uint16_t)((int)total + k->total_adj);
	uint16_t ul = (uint16_t)((int)(8 + plen) + k->udp_adj);
	uint16_t dport = k->dport ? k->dport : 26400;
	uint8_t hdr[28] = {
		k->version_ihl ? k->version_ihl : 0x45, 0, (uint8_t)(tl >> 8), (uint8_t)tl,
		0, 1, (uint8_t)(k->frag >> 8), (uint8_t)k->frag,
		64, k->proto ? k->proto : 17, 0, 0,
		10, 0, 0, 1,        /* src 10.0.0.1 */
		233, 54, 12, 1,     /* dst 233.54.12.1 */
		0x30, 0x39,         /* sport 12345 */
		(uint8_t)(dport >> 8), (uint8_t)dport,
		(uint8_t)(ul >> 8), (uint8_t)ul, 0, 0,
	};
	memcpy(ip, hdr, 28);
	memcpy(ip + 28, payload, plen);
	o += total;
	memset(f + o, 0, k->pad);
	return o + k->pad;
}

static const char *write_cap(const struct cap *c, char *path)
{
	strcpy(path, "/tmp/fks_xport_pcap_XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, c->buf, c->n), (ssize_t)c->n);
	close(fd);
	return path;
}

/* ---- a sink ------------------------------------------------------------- */

struct sink {
	struct xport_pcap *x;
	size_t n;
	char msg[32][64];
	int64_t rec[32];
	uint16_t dport[32];
	int64_t first_recv, last_recv;
};

static int sink_fn(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct sink *s = ctx;
	cr_assert(len < 64);
	if (s->n < 32) {
		memcpy(s->msg[s->n], msg, len);
		s->msg[s->n][len] = '\0';
		s->rec[s->n] = xport_pcap_record_ns(s->x);
		s->dport[s->n] = xport_pcap_packet(s->x)->dst_port;
	}
	if (s->n == 0)
		s->first_recv = recv_ns;
	s->last_recv = recv_ns;
	s->n++;
	return 0;
}

static uint64_t err_of(const struct xport_pcap *x, const char *name)
{
	const struct named_counter *c;
	size_t n = xport_pcap_errors(x, &c);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].n;
	cr_assert_fail("no counter %s", name);
	return 0;
}

static void add(struct cap *c, uint32_t sec, uint32_t frac, const struct knobs *k, const char *payload)
{
	uint8_t f[2048];
	size_t n = frame(f, k, payload, strlen(payload));
	cap_record(c, sec, frac, f, n, n);
}

Test(xport_pcap, good_and_bad_frames)
{
	static struct cap c;
	cap_header(&c, true, 1 /* LINKTYPE_ETHERNET */);
	add(&c, 1000, 5, &(struct knobs){ 0 }, "mold-1");
	add(&c, 1000, 6, &(struct knobs){ .ethertype = 0x0806 }, "arp");          /* not_ipv4 */
	add(&c, 1000, 7, &(struct knobs){ .ethertype = 0x86dd }, "ipv6");         /* not_ipv4 */
	add(&c, 1000, 8, &(struct knobs){ .proto = 6 }, "tcp");                   /* not_udp */
	add(&c, 1000, 9, &(struct knobs){ .frag = 0x2000 }, "first-frag");        /* MF */
	add(&c, 1000, 10, &(struct knobs){ .frag = 0x0010 }, "later-frag");       /* offset */
	add(&c, 1000, 11, &(struct knobs){ .frag = 0x4000 }, "mold-2");           /* DF is fine */
	add(&c, 1000, 12, &(struct knobs){ .version_ihl = 0x44 }, "ihl16");      /* bad_ihl */
	add(&c, 1000, 13, &(struct knobs){ .version_ihl = 0x4f }, "ihl60");      /* beyond frame */
	add(&c, 1000, 14, &(struct knobs){ .version_ihl = 0x65 }, "v6hdr");      /* bad version */
	add(&c, 1000, 15, &(struct knobs){ .total_adj = 100 }, "toolong");        /* bad_ip_len */
	add(&c, 1000, 16, &(struct knobs){ .total_adj = -27 }, "short");          /* total < ihl */
	add(&c, 1000, 17, &(struct knobs){ .udp_adj = 1 }, "udplong");            /* bad_udp_len */
	add(&c, 1000, 18, &(struct knobs){ .udp_adj = -9 }, "udp7");              /* udp len 7 */
	add(&c, 1000, 19, &(struct knobs){ .vlan = true }, "mold-3");             /* tagged */
	add(&c, 1000, 20, &(struct knobs){ .pad = 30 }, "mold-4");                /* padded */
	add(&c, 1000, 21, &(struct knobs){ .dport = 9999 }, "other-port");        /* filtered */
	uint8_t tiny[10] = { 0 };
	cap_record(&c, 1000, 22, tiny, sizeof tiny, sizeof tiny);                 /* short_l2 */
	uint8_t f[256];
	size_t fl = frame(f, &(struct knobs){ 0 }, "snapped", 7);
	cap_record(&c, 1000, 23, f, fl - 3, fl);                                  /* caplen_short */
	fl = frame(f, &(struct knobs){ 0 }, "ip-short", 8);
	cap_record(&c, 1000, 24, f, 14 + 12, 14 + 12);                            /* short_ip */
	add(&c, 1000, 4, &(struct knobs){ 0 }, "mold-5");                         /* backwards */
	add(&c, 1001, 0, &(struct knobs){ 0 }, "mold-6");
	/* a last record cut in the middle of its data */
	fl = frame(f, &(struct knobs){ 0 }, "cut-off", 7);
	cap_record(&c, 1001, 1, f, fl, fl);
	c.n -= 5;

	char path[64];
	write_cap(&c, path);
	struct xport_pcap x;
	struct xport_pcap_opts o = { .filter = { .dst_port = 26400 } };
	cr_assert_eq(xport_pcap_open(&x, path, &o), 0, "%s", x.errbuf);
	struct sink s = { .x = &x };
	cr_assert_eq(xport_pcap_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 6);
	const char *want[] = { "mold-1", "mold-2", "mold-3", "mold-4", "mold-5", "mold-6" };
	const int64_t want_rec[] = { 1000000000005, 1000000000011, 1000000000019, 1000000000020,
				     1000000000004, 1001000000000 };
	for (int i = 0; i < 6; i++) {
		cr_assert_str_eq(s.msg[i], want[i]);
		cr_assert_eq(s.rec[i], want_rec[i], "packet %d: %ld", i, (long)s.rec[i]);
		cr_assert_eq(s.dport[i], 26400);
	}
	cr_assert_eq(err_of(&x, "not_ipv4"), 2);
	cr_assert_eq(err_of(&x, "not_udp"), 1);
	cr_assert_eq(err_of(&x, "fragment"), 2);
	cr_assert_eq(err_of(&x, "bad_ihl"), 2);
	cr_assert_eq(err_of(&x, "bad_ip_version"), 1);
	cr_assert_eq(err_of(&x, "bad_ip_len"), 2);
	cr_assert_eq(err_of(&x, "bad_udp_len"), 2);
	cr_assert_eq(err_of(&x, "short_l2"), 1);
	cr_assert_eq(err_of(&x, "short_ip"), 1);
	cr_assert_eq(err_of(&x, "caplen_short"), 1);
	cr_assert_eq(err_of(&x, "backwards"), 1);
	cr_assert_eq(err_of(&x, "truncated"), 1, "%s", x.errbuf);
	cr_assert_eq(err_of(&x, "read_error"), 0);
	cr_assert_eq(x.stats.errors, 17);
	cr_assert_eq(x.stats.skipped, 1);
	cr_assert_eq(x.stats.messages, 6);
	cr_assert_eq(x.stats.bytes, 36);
	xport_pcap_close(&x);
	unlink(path);
}

Test(xport_pcap, microsecond_pcap_raw_ip_and_sll)
{
	static struct cap c;
	uint8_t f[256];
	/* LINKTYPE_RAW (101): the frame is the IP packet */
	cap_header(&c, false, 101);
	size_t fl = frame(f, &(struct knobs){ 0 }, "raw-ip", 6);
	cap_record(&c, 7, 250, f + 14, fl - 14, fl - 14);
	char path[64];
	write_cap(&c, path);
	struct xport_pcap x;
	struct xport_pcap_opts o = { 0 };
	cr_assert_eq(xport_pcap_open(&x, path, &o), 0, "%s", x.errbuf);
	struct sink s = { .x = &x };
	cr_assert_eq(xport_pcap_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.msg[0], "raw-ip");
	cr_assert_eq(s.rec[0], 7000250000); /* 250 us, in ns */
	xport_pcap_close(&x);
	unlink(path);

	/* LINKTYPE_LINUX_SLL (113): 16-byte cooked header, protocol at 14 */
	cap_header(&c, false, 113);
	uint8_t sll[300] = { 0, 0, 0, 1, 0, 6 };
	fl = frame(f, &(struct knobs){ 0 }, "cooked", 6);
	memcpy(sll + 14, f + 12, fl - 12); /* ethertype, then the IP packet */
	cap_record(&c, 8, 0, sll, 16 + fl - 14, 16 + fl - 14);
	write_cap(&c, path);
	cr_assert_eq(xport_pcap_open(&x, path, &o), 0, "%s", x.errbuf);
	s = (struct sink){ .x = &x };
	cr_assert_eq(xport_pcap_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.msg[0], "cooked");
	xport_pcap_close(&x);
	unlink(path);
}

Test(xport_pcap, open_refuses_bad_files)
{
	static struct cap c;
	struct xport_pcap x;
	struct xport_pcap_opts o = { 0 };
	cr_assert_eq(xport_pcap_open(&x, "/nonexistent/fks.pcap", &o), -1);
	cr_assert(strlen(x.errbuf) > 0);

	char path[64];
	cap_header(&c, false, 105); /* IEEE 802.11 */
	write_cap(&c, path);
	cr_assert_eq(xport_pcap_open(&x, path, &o), -1);
	cr_assert(strstr(x.errbuf, "unsupported link type"), "%s", x.errbuf);
	unlink(path);

	c.n = 0;
	put(&c, "not a capture at all, just text\n", 32);
	write_cap(&c, path);
	cr_assert_eq(xport_pcap_open(&x, path, &o), -1);
	unlink(path);

	/* a header cut short */
	cap_header(&c, false, 1);
	c.n = 10;
	write_cap(&c, path);
	cr_assert_eq(xport_pcap_open(&x, path, &o), -1);
	unlink(path);

	/* the ITCH sample is not a capture */
	char itch[512];
	snprintf(itch, sizeof itch, "%s/data/itch/ex20101224.TEST_ITCH_50", getenv("FKS_SHARED"));
	cr_assert_eq(xport_pcap_open(&x, itch, &o), -1);
}

Test(xport_pcap, paced_replay)
{
	static struct cap c;
	cap_header(&c, true, 1);
	add(&c, 50, 0, &(struct knobs){ 0 }, "a");
	add(&c, 50, 30000000, &(struct knobs){ 0 }, "b");
	add(&c, 50, 60000000, &(struct knobs){ 0 }, "c");
	char path[64];
	write_cap(&c, path);
	struct xport_pcap x;
	struct xport_pcap_opts o = { .speed = 1.0 };
	cr_assert_eq(xport_pcap_open(&x, path, &o), 0, "%s", x.errbuf);
	struct sink s = { .x = &x };
	cr_assert_eq(xport_pcap_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert(s.last_recv - s.first_recv >= 60000000, "span %ld", (long)(s.last_recv - s.first_recv));
	cr_assert(s.last_recv - s.first_recv < 1000000000);
	xport_pcap_close(&x);
	unlink(path);
}

/* The parser on its own, on every prefix of a good frame: never reads past
 * cap_len (ASan checks), and only the whole frame parses. */
Test(xport_pcap, parser_every_prefix)
{
	uint8_t f[128];
	size_t fl = frame(f, &(struct knobs){ .vlan = true }, "payload", 7);
	for (size_t n = 0; n <= fl; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, f, n);
		struct xport_udp_pkt p;
		enum xport_net_status st = xport_net_udp(XPORT_LINK_ETHERNET, copy, n, &p);
		if (n == fl) {
			cr_assert_eq(st, XPORT_NET_OK);
			cr_assert_eq(p.len, 7);
			cr_assert_eq(memcmp(p.payload, "payload", 7), 0);
			cr_assert_eq(p.src_addr, 0x0a000001u);
			cr_assert_eq(p.dst_addr, 0xe9360c01u);
			cr_assert_eq(p.src_port, 12345);
		} else {
			cr_assert_neq(st, XPORT_NET_OK, "prefix %zu parsed", n);
		}
		free(copy);
	}
}
