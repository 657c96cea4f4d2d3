/*
 * UDP receive (MoldUDP64 over multicast or unicast) with io_uring.
 *
 * Paths, chosen at open and reported by xport_udp_path_name():
 *
 *  - multishot: one IORING_OP_RECVMSG armed with IORING_RECV_MULTISHOT and
 *    IOSQE_BUFFER_SELECT over a provided buffer ring (Linux 6.0+).  The
 *    kernel picks a buffer per datagram and posts a completion; nothing is
 *    resubmitted per datagram, and a busy poll of the completion ring needs
 *    no syscall.  Buffers go back to the ring as soon as the callback
 *    returns.  recvmsg rather than plain recv because its per-buffer header
 *    carries MSG_TRUNC and the control messages (timestamps, drops).
 *  - recvmmsg: plain recvmmsg(2) batches.  The fallback when io_uring is
 *    unavailable (ENOSYS, EPERM under seccomp, io_uring_disabled), when
 *    buffer rings are not supported (EINVAL, before 5.19), or when the
 *    first multishot completion says EINVAL (before 6.0), and forced by
 *    opts.mode = XPORT_UDP_RECVMMSG.
 *
 * recv_ns: with kernel timestamps on (the default) each datagram carries
 * the kernel's receive stamp (SO_TIMESTAMPNS, which is CLOCK_REALTIME); it
 * is mapped onto CLOCK_MONOTONIC with one realtime/monotonic pair read per
 * batch, and never put later than that read.  A datagram without the stamp
 * (option off, or the kernel gave none) gets CLOCK_MONOTONIC read right
 * after its completion.  xport_udp_stamp_name() says which happened last.
 *
 * Multicast: each group in opts.groups is joined (IP_ADD_MEMBERSHIP) on
 * opts.iface (by name; NULL lets the routing table choose) and the socket
 * receives only the groups it joined (IP_MULTICAST_ALL off).  With one
 * group the socket binds to the group address, else to INADDR_ANY.
 * Unicast: no groups; bind to opts.bind_addr (NULL: any).
 *
 * Errors (counters, named by xport_udp_errors):
 *   truncated     a datagram longer than opts.buf_size: not delivered
 *   nobufs        multishot found no free buffer (the consumer fell behind):
 *                 the datagram waits in the socket, receive is rearmed
 *   recv_error    any other receive error (logged in errbuf)
 *   kernel_drops  datagrams the kernel dropped for a full socket buffer
 *                 (SO_RXQ_OVFL, cumulative)
 */
#ifndef FKS_FEEDS_XPORT_UDP_H
#define FKS_FEEDS_XPORT_UDP_H

#include "feeds/xport/xport.h"

#define XPORT_UDP_MAX_GROUPS 8

enum xport_udp_mode {
	XPORT_UDP_AUTO,       /* multishot if the kernel can, else recvmmsg */
	XPORT_UDP_MULTISHOT,  /* multishot or fail at open */
	XPORT_UDP_RECVMMSG,   /* force the fallback */
};

enum xport_udp_path {
	XPORT_UDP_PATH_NONE,
	XPORT_UDP_PATH_MULTISHOT,
	XPORT_UDP_PATH_RECVMMSG,
};

enum xport_udp_err {
	XPORT_UDP_E_TRUNCATED,
	XPORT_UDP_E_NOBUFS,
	XPORT_UDP_E_RECV_ERROR,
	XPORT_UDP_E_KERNEL_DROPS,
	XPORT_UDP_E_N
};

struct xport_udp_opts {
	const char *bind_addr;                    /* unicast local address; NULL: any */
	uint16_t port;                            /* 0: an ephemeral port (tests) */
	const char *groups[XPORT_UDP_MAX_GROUPS]; /* multicast groups, NULL-terminated */
	const char *iface;                        /* interface to join on; NULL: routing */
	unsigned buf_size;                        /* largest datagram; 0: 2048 */
	unsigned n_bufs;                          /* power of two, <= 32768; 0: 256 */
	int rcvbuf;                               /* SO_RCVBUF bytes; 0: system default */
	enum xport_udp_mode mode;
	bool no_kernel_timestamps;                /* stamp with clock_gettime instead */
};

struct xport_udp_impl;

struct xport_udp {
	struct xport_udp_impl *impl;
	enum xport_udp_path path;
	int fd;
	uint16_t port;                 /* bound port, host order */
	bool kernel_stamp;             /* the last datagram had a kernel stamp */
	struct xport_stats stats;
	struct named_counter err[XPORT_UDP_E_N];
	char why_fallback[128];        /* why AUTO chose recvmmsg; "" otherwise */
	char errbuf[256];
};

/* Open the socket and the receive path.  Returns 0, or -1 with the reason
 * in x->errbuf.  Allocates its buffers here, never afterwards. */
int xport_udp_open(struct xport_udp *x, const struct xport_udp_opts *o);

/*
 * Deliver the datagrams that are ready.  When none is, wait up to
 * timeout_ms for one (0: do not wait, a busy poll; -1: wait for ever).
 * Stops early when the callback returns nonzero; undelivered datagrams
 * stay for the next call.  Returns how many were delivered, or -1 on a
 * fatal error (errbuf).
 */
int xport_udp_poll(struct xport_udp *x, int timeout_ms, xport_deliver_fn fn, void *ctx);

const char *xport_udp_path_name(const struct xport_udp *x);
const char *xport_udp_stamp_name(const struct xport_udp *x);

size_t xport_udp_errors(const struct xport_udp *x, const struct named_counter **out);

void xport_udp_close(struct xport_udp *x);

#endif
