/*
 * DPDK poll-mode receive.  See xport_dpdk.h.  Compiled in its own static
 * library: DPDK's pkg-config cflags (-march=corei7, -include rte_config.h)
 * apply to this file alone.
 */
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/xport/xport_dpdk.h"
#include "feeds/xport/transport.h"
#include "shm/clock.h"

static const char *const dpdk_err_name[XPORT_DPDK_E_N - XPORT_NET_N] = {
	[XPORT_DPDK_E_MULTISEG - XPORT_NET_N] = "multiseg",
	[XPORT_DPDK_E_RX_MISSED - XPORT_NET_N] = "rx_missed",
	[XPORT_DPDK_E_RX_ERRORS - XPORT_NET_N] = "rx_errors",
	[XPORT_DPDK_E_RX_NOMBUF - XPORT_NET_N] = "rx_nombuf",
};

struct xport_dpdk_impl {
	struct rte_mempool *pool;
	bool started;
	unsigned burst;
	uint16_t n, next;        /* frames held from the last burst, next to hand over */
	int64_t burst_ns;
	struct rte_mbuf *bufs[XPORT_DPDK_MAX_BURST];
};

/* The EAL initialises once per process, ever (not even after cleanup). */
static enum { EAL_NONE, EAL_UP, EAL_FAILED, EAL_GONE } eal_state;
static char eal_error[128];

static int fail(struct xport_dpdk *x, const char *what, int err)
{
	snprintf(x->errbuf, sizeof x->errbuf, "%s: %s", what, rte_strerror(err < 0 ? -err : err));
	return -1;
}

static int eal_up(struct xport_dpdk *x, const struct xport_dpdk_opts *o)
{
	if (eal_state == EAL_UP)
		return 0;
	if (eal_state != EAL_NONE) {
		snprintf(x->errbuf, sizeof x->errbuf, "EAL unusable in this process: %s", eal_error);
		return -1;
	}
	if (o->eal_argc < 1 || !o->eal_argv) {
		snprintf(x->errbuf, sizeof x->errbuf, "no EAL arguments");
		return -1;
	}
	/* rte_eal_init permutes argv; give it a copy */
	char *argv[o->eal_argc + 1];
	memcpy(argv, o->eal_argv, sizeof(char *) * (size_t)o->eal_argc);
	argv[o->eal_argc] = NULL;
	if (rte_eal_init(o->eal_argc, argv) < 0) {
		eal_state = EAL_FAILED;
		snprintf(eal_error, sizeof eal_error, "rte_eal_init: %s", rte_strerror(rte_errno));
		snprintf(x->errbuf, sizeof x->errbuf, "%s", eal_error);
		return -1;
	}
	eal_state = EAL_UP;
	return 0;
}

int xport_dpdk_open(struct xport_dpdk *x, const struct xport_dpdk_opts *o)
{
	memset(x, 0, sizeof *x);
	for (int i = 0; i < XPORT_DPDK_E_N; i++)
		x->err[i].name = i < XPORT_NET_N ? xport_net_reason[i] : dpdk_err_name[i - XPORT_NET_N];
	unsigned burst = o->burst ? o->burst : 32;
	if (burst > XPORT_DPDK_MAX_BURST) {
		snprintf(x->errbuf, sizeof x->errbuf, "burst %u > %d", burst, XPORT_DPDK_MAX_BURST);
		return -1;
	}
	if (eal_up(x, o) < 0)
		return -1;

	uint16_t port;
	if (o->port) {
		if (rte_eth_dev_get_port_by_name(o->port, &port) != 0) {
			snprintf(x->errbuf, sizeof x->errbuf, "no DPDK port '%s' (%u ports available)", o->port,
				 rte_eth_dev_count_avail());
			return -1;
		}
	} else {
		if (rte_eth_dev_count_avail() == 0) {
			snprintf(x->errbuf, sizeof x->errbuf, "no DPDK ports (is the NIC bound to vfio-pci?)");
			return -1;
		}
		port = (uint16_t)rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER);
	}
	x->port_id = port;

	struct xport_dpdk_impl *m = calloc(1, sizeof *m);
	if (!m)
		return fail(x, "calloc", ENOMEM);
	x->impl = m;
	m->burst = burst;

	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	char name[RTE_MEMPOOL_NAMESIZE];
	static unsigned pool_seq;
	snprintf(name, sizeof name, "fks_rx_%u_%u", port, pool_seq++);
	unsigned n_mbufs = o->n_mbufs ? o->n_mbufs : 8191;
	m->pool = rte_pktmbuf_pool_create(name, n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!m->pool) {
		fail(x, "rte_pktmbuf_pool_create", rte_errno);
		goto err;
	}

	/* One rx queue, no offloads, no RSS: market data is one flow per
	 * channel and a second queue would only reorder it.  No tx queue:
	 * retransmission requests go out through the kernel. */
	struct rte_eth_conf conf = { 0 };
	int rc = rte_eth_dev_configure(port, 1, 0, &conf);
	if (rc < 0) {
		fail(x, "rte_eth_dev_configure", rc);
		goto err;
	}
	uint16_t n_rxd = (uint16_t)(o->n_rx_desc ? o->n_rx_desc : 1024), n_txd = 0;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &n_rxd, &n_txd);
	if (rc < 0) {
		fail(x, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
		goto err;
	}
	rc = rte_eth_rx_queue_setup(port, 0, n_rxd, (unsigned)socket, NULL, m->pool);
	if (rc < 0) {
		fail(x, "rte_eth_rx_queue_setup", rc);
		goto err;
	}
	rc = rte_eth_dev_start(port);
	if (rc < 0) {
		fail(x, "rte_eth_dev_start", rc);
		goto err;
	}
	m->started = true;
	/* Multicast feeds: accept every group; the switch does the joining.
	 * Not every PMD implements these; failing them is not fatal. */
	rte_eth_allmulticast_enable(port);
	if (o->promiscuous)
		rte_eth_promiscuous_enable(port);
	x->stats = (struct xport_stats){ 0 };
	x->filter = o->filter;
	return 0;
err:
	xport_dpdk_close(x);
	return -1;
}

void xport_dpdk_close(struct xport_dpdk *x)
{
	struct xport_dpdk_impl *m = x->impl;
	if (!m)
		return;
	if (m->next < m->n)
		rte_pktmbuf_free_bulk(m->bufs + m->next, (unsigned)(m->n - m->next));
	if (m->started) {
		rte_eth_dev_stop(x->port_id);
		rte_eth_dev_close(x->port_id);
	}
	if (m->pool)
		rte_mempool_free(m->pool);
	free(m);
	x->impl = NULL;
}

void xport_dpdk_eal_cleanup(void)
{
	if (eal_state == EAL_UP) {
		rte_eal_cleanup();
		eal_state = EAL_GONE;
		snprintf(eal_error, sizeof eal_error, "rte_eal_cleanup was called");
	}
}

static void count_err(struct xport_dpdk *x, int e)
{
	x->err[e].n++;
	x->stats.errors++;
}

int xport_dpdk_poll(struct xport_dpdk *x, xport_deliver_fn fn, void *ctx)
{
	struct xport_dpdk_impl *m = x->impl;
	int delivered = 0;
	if (m->next == m->n) {
		m->n = rte_eth_rx_burst(x->port_id, 0, m->bufs, (uint16_t)m->burst);
		m->next = 0;
		if (m->n == 0)
			return 0;
		m->burst_ns = clock_mono_ns();
	}
	while (m->next < m->n) {
		struct rte_mbuf *mb = m->bufs[m->next++];
		x->stats.input_bytes += rte_pktmbuf_pkt_len(mb);
		if (mb->nb_segs > 1) {
			count_err(x, XPORT_DPDK_E_MULTISEG);
			rte_pktmbuf_free(mb);
			continue;
		}
		struct xport_udp_pkt p;
		enum xport_net_status st = xport_net_udp(XPORT_LINK_ETHERNET, rte_pktmbuf_mtod(mb, const uint8_t *),
							 rte_pktmbuf_data_len(mb), &p);
		int stop = 0;
		if (st != XPORT_NET_OK) {
			count_err(x, st);
		} else if (!xport_net_match(&x->filter, &p)) {
			x->stats.skipped++;
		} else {
			x->stats.messages++;
			x->stats.bytes += p.len;
			delivered++;
			stop = fn(ctx, p.payload, p.len, m->burst_ns);
		}
		rte_pktmbuf_free(mb);
		if (stop)
			break;
	}
	return delivered;
}

void xport_dpdk_refresh_hw(struct xport_dpdk *x)
{
	struct rte_eth_stats s;
	if (rte_eth_stats_get(x->port_id, &s) != 0)
		return;
	uint64_t before = x->err[XPORT_DPDK_E_RX_MISSED].n + x->err[XPORT_DPDK_E_RX_ERRORS].n +
			  x->err[XPORT_DPDK_E_RX_NOMBUF].n;
	x->err[XPORT_DPDK_E_RX_MISSED].n = s.imissed;
	x->err[XPORT_DPDK_E_RX_ERRORS].n = s.ierrors;
	x->err[XPORT_DPDK_E_RX_NOMBUF].n = s.rx_nombuf;
	x->stats.errors += s.imissed + s.ierrors + s.rx_nombuf - before;
}

size_t xport_dpdk_errors(const struct xport_dpdk *x, const struct named_counter **out)
{
	*out = x->err;
	return XPORT_DPDK_E_N;
}

/* ---- ops table (feeds/xport/transport.h) ---------------------------------- */

#define DPDK_MAX_ARGS 32

struct dpdk_feed {
	struct xport_dpdk x;
	xport_deliver_fn deliver;
	void *ctx;
	char *eal_argv[DPDK_MAX_ARGS];
	char eal_buf[512];
};

static void *dpdk_open_op(const struct feed_xport_params *p, char *err, size_t errlen)
{
	struct dpdk_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* EAL keeps pointers into argv: it lives as long as the transport */
	snprintf(f->eal_buf, sizeof f->eal_buf, "%s", p->dpdk_args ? p->dpdk_args : "");
	int argc = 0;
	f->eal_argv[argc++] = "fks-feed";
	for (char *save = NULL, *t = strtok_r(f->eal_buf, " \t", &save); t && argc < DPDK_MAX_ARGS - 1;
	     t = strtok_r(NULL, " \t", &save))
		f->eal_argv[argc++] = t;
	f->eal_argv[argc] = NULL;
	struct xport_dpdk_opts o = { .eal_argc = argc, .eal_argv = f->eal_argv };
	if (xport_dpdk_open(&f->x, &o)) {
		snprintf(err, errlen, "dpdk: %s", f->x.errbuf);
		free(f);
		return NULL;
	}
	f->deliver = p->deliver;
	f->ctx = p->ctx;
	return f;
}

static void dpdk_close_op(void *x)
{
	xport_dpdk_close(&((struct dpdk_feed *)x)->x);
	free(x);
}

static int dpdk_poll_op(void *x, int timeout_ms)
{
	(void)timeout_ms; /* a busy-polled port does not wait */
	struct dpdk_feed *f = x;
	xport_dpdk_poll(&f->x, f->deliver, f->ctx);
	return 1;
}

static const char *dpdk_error_op(const void *x) { return ((const struct dpdk_feed *)x)->x.errbuf; }

static size_t dpdk_counters_op(void *x, struct named_counter *out, size_t cap)
{
	struct dpdk_feed *f = x;
	xport_dpdk_refresh_hw(&f->x);
	const struct named_counter *c;
	size_t k = xport_dpdk_errors(&f->x, &c);
	return feed_counter_put_all(out, cap, 0, c, k, 1); /* [0] is "ok" */
}

const struct feed_xport_ops xport_dpdk_ops = {
	.name = "dpdk",
	.packets = true,
	.open = dpdk_open_op,
	.close = dpdk_close_op,
	.poll = dpdk_poll_op,
	.error = dpdk_error_op,
	.counters = dpdk_counters_op,
};
