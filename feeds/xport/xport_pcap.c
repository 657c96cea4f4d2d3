/*
 * pcap file replay through libpcap.  See xport_pcap.h.
 */
#include "feeds/xport/xport_pcap.h"
#include "shm/clock.h"

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
