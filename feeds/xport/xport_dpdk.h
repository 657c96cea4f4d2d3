/*
 * DPDK poll-mode receive: UDP payloads (MoldUDP64 packets) straight from a
 * NIC queue, no kernel on the path.
 *
 * Built only when libdpdk is found (FKS_HAVE_DPDK_XPORT is then defined to
 * 1 for everything that depends on feeds); without it xport_dpdk_open()
 * does not exist.  This header includes no DPDK header, so users of it need
 * none of DPDK's compile flags.
 *
 * Open initialises the EAL with opts.eal_argv (once per process: DPDK
 * cannot initialise twice, so a second open skips it and reuses the EAL),
 * creates an mbuf pool, and configures one port with one receive queue.
 * Each poll takes one rte_eth_rx_burst() and hands every frame's UDP payload
 * to the callback, parsed by xport_net_udp() (xport.h) exactly as pcap
 * replay does.  recv_ns is CLOCK_MONOTONIC read once per non-empty burst,
 * right after rte_eth_rx_burst returns (the vDSO clock: no syscall).  The
 * poll never blocks and never allocates; run it on an isolated core.
 *
 * Errors (counters, named by xport_dpdk_errors): every xport_net_reason,
 * plus
 *   multiseg    a frame spread over several mbufs (jumbo frames on a
 *               port configured for them): skipped
 *   rx_missed   frames the NIC dropped, queue full (imissed)
 *   rx_errors   frames the NIC rejected (ierrors)
 *   rx_nombuf   frames lost for want of an mbuf
 * The last three come from rte_eth_stats_get and are refreshed by
 * xport_dpdk_refresh_hw() (a PCI read; keep it off the per-packet path).
 * Packets that fail opts.filter are counted in stats.skipped.
 */
#ifndef FKS_FEEDS_XPORT_DPDK_H
#define FKS_FEEDS_XPORT_DPDK_H

#include "feeds/xport/xport.h"

enum xport_dpdk_err {
	XPORT_DPDK_E_MULTISEG = XPORT_NET_N,
	XPORT_DPDK_E_RX_MISSED,
	XPORT_DPDK_E_RX_ERRORS,
	XPORT_DPDK_E_RX_NOMBUF,
	XPORT_DPDK_E_N
};

#define XPORT_DPDK_MAX_BURST 64

struct xport_dpdk_opts {
	int eal_argc;
	char **eal_argv;          /* argv[0] first; copied, EAL may reorder it */
	const char *port;         /* device name ("net_pcap0", "0000:3b:00.0"); NULL: the first port */
	unsigned n_rx_desc;       /* 0: 1024 */
	unsigned n_mbufs;         /* 0: 8191 */
	unsigned burst;           /* 1..XPORT_DPDK_MAX_BURST; 0: 32 */
	bool promiscuous;         /* also enable promiscuous mode (all-multicast is always on) */
	struct xport_net_filter filter;
};

struct xport_dpdk_impl;

struct xport_dpdk {
	struct xport_dpdk_impl *impl;
	uint16_t port_id;
	struct xport_net_filter filter;
	struct xport_stats stats;
	struct named_counter err[XPORT_DPDK_E_N];
	char errbuf[256];
};

/* Returns 0, or -1 with the reason in errbuf (EAL init failed: the EAL's
 * own log says more; no such port; configure or queue set-up failed). */
int xport_dpdk_open(struct xport_dpdk *x, const struct xport_dpdk_opts *o);

/* One receive burst: returns how many payloads were delivered.  Stops early
 * when the callback returns nonzero; the rest of the burst stays for the
 * next call. */
int xport_dpdk_poll(struct xport_dpdk *x, xport_deliver_fn fn, void *ctx);

/* Copy the port's hardware drop counters into err[]. */
void xport_dpdk_refresh_hw(struct xport_dpdk *x);

size_t xport_dpdk_errors(const struct xport_dpdk *x, const struct named_counter **out);

/* Stop and close the port, free the pool.  The EAL stays up. */
void xport_dpdk_close(struct xport_dpdk *x);

/* rte_eal_cleanup(), at process exit; no DPDK call may follow. */
void xport_dpdk_eal_cleanup(void);

#endif
