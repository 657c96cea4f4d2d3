/*
 * pcap file replay through libpcap.  See xport_pcap.h.
 */
#include "feeds/xport/xport_pcap.h"
#include "shm/clock.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "feeds/xport/transport.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static const char *const pcap_err_name[XPORT_PCAP_E_N - XPORT_NET_N] = {
	[XPORT_PCAP_E_CAPLEN_SHORT - XPORT_NET_N] = "caplen_short",
	[XPORT_PCAP_E_TRUNCATED - XPORT_NET_N] = "truncated",
	[XPORT_PCAP_E_READ_ERROR - XPORT_NET_N] = "read_error",
	[XPORT_PCAP_E_BACKWARDS - XPORT_NET_N] = "backwards",
	[XPORT_PCAP_E_TIME_JUMP - XPORT_NET_N] = "time_jump",
};

#ifndef DLT_LINUX_SLL
#define DLT_LINUX_SLL 113
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

int xport_pcap_open(struct xport_pcap *x, const char *path, const struct xport_pcap_opts *o)
{
	memset(x, 0, sizeof *x);
	x->rec_ns = XPORT_NO_TIME;
	for (int i = 0; i < XPORT_PCAP_E_N; i++)
		x->err[i].name = i < XPORT_NET_N ? xport_net_reason[i] : pcap_err_name[i - XPORT_NET_N];
	if (!(o->speed >= 0)) {
		snprintf(x->errbuf, sizeof x->errbuf, "speed must be >= 0");
		return -1;
	}
	x->o = *o;
	xport_pacer_init(&x->pacer, o->speed, o->max_gap_ns);

	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		snprintf(x->errbuf, sizeof x->errbuf, "%s", errbuf);
		return -1;
	}
	int dlt = pcap_datalink(p);
	switch (dlt) {
	case DLT_EN10MB:
		x->link = XPORT_LINK_ETHERNET;
		break;
	case DLT_RAW:
	case DLT_IPV4:
		x->link = XPORT_LINK_RAW_IP;
		break;
	case DLT_LINUX_SLL:
		x->link = XPORT_LINK_LINUX_SLL;
		break;
	default:
		snprintf(x->errbuf, sizeof x->errbuf, "%s: unsupported link type %s (%d)", path,
			 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", dlt);
		pcap_close(p);
		return -1;
	}
	x->pcap = p;
	return 0;
}

void xport_pcap_close(struct xport_pcap *x)
{
	if (x->pcap)
		pcap_close(x->pcap);
	x->pcap = NULL;
}

size_t xport_pcap_errors(const struct xport_pcap *x, const struct named_counter **out)
{
	*out = x->err;
	return XPORT_PCAP_E_N;
}

static void count_err(struct xport_pcap *x, int e)
{
	x->err[e].n++;
	x->stats.errors++;
}

int xport_pcap_run(struct xport_pcap *x, xport_deliver_fn fn, void *ctx)
{
	while (!x->done) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(x->pcap, &h, &data);
		if (rc == PCAP_ERROR_BREAK) { /* end of file */
			x->done = true;
			break;
		}
		if (rc != 1) {
			const char *msg = pcap_geterr(x->pcap);
			snprintf(x->errbuf, sizeof x->errbuf, "%s", msg ? msg : "?");
			count_err(x, msg && strstr(msg, "truncated") ? XPORT_PCAP_E_TRUNCATED
								      : XPORT_PCAP_E_READ_ERROR);
			x->done = true;
			break;
		}
		x->stats.input_bytes += 16 + h->caplen; /* classic record header + data */
		if (h->caplen < h->len) {
			count_err(x, XPORT_PCAP_E_CAPLEN_SHORT);
			continue;
		}
		enum xport_net_status st = xport_net_udp(x->link, data, h->caplen, &x->pkt);
		if (st != XPORT_NET_OK) {
			count_err(x, st);
			continue;
		}
		if (!xport_net_match(&x->o.filter, &x->pkt)) {
			x->stats.skipped++;
			continue;
		}
		/* NANO precision: tv_usec holds nanoseconds. */
		x->rec_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
		uint64_t before = x->pacer.backwards, jumps = x->pacer.jumps;
		xport_pacer_wait(&x->pacer, x->rec_ns);
		if (x->pacer.backwards != before)
			count_err(x, XPORT_PCAP_E_BACKWARDS);
		if (x->pacer.jumps != jumps)
			count_err(x, XPORT_PCAP_E_TIME_JUMP);
		x->stats.messages++;
		x->stats.bytes += x->pkt.len;
		if (fn(ctx, x->pkt.payload, x->pkt.len, clock_mono_ns()) != 0)
			return 1;
	}
	return 0;
}

/* ---- ops table (feeds/xport/transport.h) ---------------------------------- */

struct pcap_feed {
	struct xport_pcap x;
	uint64_t size;
	xport_deliver_fn deliver;
	void *ctx;
};

static void *pcap_open_op(const struct feed_xport_params *p, char *err, size_t errlen)
{
	struct xport_pcap_opts o = { .speed = 0 }; /* paced by the feed source */
	if (p->address && p->address[0]) {
		char host[64];
		uint16_t port;
		if (feed_xport_split_addr(p->address, host, sizeof host, &port)) {
			snprintf(err, errlen, "feed.address \"%s\": expected ipv4:port", p->address);
			return NULL;
		}
		struct in_addr a;
		inet_pton(AF_INET, host, &a);
		o.filter.dst_addr = ntohl(a.s_addr);
		o.filter.dst_port = port;
	}
	struct pcap_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (xport_pcap_open(&f->x, p->path, &o)) {
		snprintf(err, errlen, "%s: %s", p->path, f->x.errbuf);
		free(f);
		return NULL;
	}
	struct stat st;
	if (stat(p->path, &st) == 0)
		f->size = (uint64_t)st.st_size;
	f->deliver = p->deliver;
	f->ctx = p->ctx;
	return f;
}

static void pcap_close_op(void *x)
{
	xport_pcap_close(&((struct pcap_feed *)x)->x);
	free(x);
}

static int pcap_poll_op(void *x, int timeout_ms)
{
	(void)timeout_ms;
	struct pcap_feed *f = x;
	return xport_pcap_run(&f->x, f->deliver, f->ctx);
}

static const char *pcap_error_op(const void *x) { return ((const struct pcap_feed *)x)->x.errbuf; }

static int64_t pcap_record_op(const void *x) { return xport_pcap_record_ns(&((const struct pcap_feed *)x)->x); }

static size_t pcap_counters_op(void *x, struct named_counter *out, size_t cap)
{
	struct pcap_feed *f = x;
	const struct named_counter *c;
	size_t k = xport_pcap_errors(&f->x, &c);
	size_t n = feed_counter_put_all(out, cap, 0, c, k, 1); /* [0] is "ok" */
	return feed_counter_put(out, cap, n, "filtered", f->x.stats.skipped);
}

static void pcap_progress_op(const void *x, uint64_t *done, uint64_t *total)
{
	const struct pcap_feed *f = x;
	*done = f->x.stats.input_bytes;
	*total = f->size;
}

const struct feed_xport_ops xport_pcap_ops = {
	.name = "pcap",
	.recording = true,
	.packets = true,
	.open = pcap_open_op,
	.close = pcap_close_op,
	.poll = pcap_poll_op,
	.error = pcap_error_op,
	.record_ns = pcap_record_op,
	.counters = pcap_counters_op,
	.progress = pcap_progress_op,
};
