/*
 * The feed transport interface: one ops table per transport (file, pcap,
 * udp, dpdk, websocket), each defined in its transport's own file, and a
 * registry by feed.source name (feeds/xport/registry.c).  The feed source
 * (pipeline/runtime/feed_source.c) opens and polls whichever one the config
 * names through this table alone: adding a transport is one file with its
 * table and one registry line.
 *
 * A transport delivers either single venue messages or packets that a
 * decoder's decode_packet splits (MoldUDP64 in UDP): .packets says which.
 * Every delivery goes to params.deliver (xport.h's contract: return nonzero
 * to make poll return after this message).
 */
#ifndef FKS_FEEDS_XPORT_TRANSPORT_H
#define FKS_FEEDS_XPORT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/decoder.h"
#include "feeds/xport/xport.h"

struct feed_xport_params {
	const char *path;              /* file, pcap */
	const char *address;           /* pcap: "ipv4:port" filter or ""; udp: group or local address */
	const char *interface;         /* udp: local address joining the group, "" any */
	const char *dpdk_args;         /* dpdk: EAL arguments */
	enum feed_framing framing;     /* file: how messages are framed */
	size_t (*size_of_type)(uint8_t type); /* file, length-prefixed: a zero prefix's size */
	/* websocket */
	struct feed_ws_plan ws;        /* the decoder's venue and channels */
	const char *const *symbols;    /* the venue's spelling, NUL-terminated */
	size_t n_symbols;
	uint32_t depth;
	const char *url;               /* "" : the venue's default */
	const char *ca_file;           /* NULL: the system store */
	uint64_t seed;                 /* reconnect back-off jitter */
	void (*on_reconnect)(void *ctx);
	/* every transport */
	xport_deliver_fn deliver;
	void *ctx;
};

struct feed_xport_ops {
	const char *name;              /* feed.source: "file", "pcap", ... */
	bool recording;                /* it ends; it can be paced */
	bool packets;                  /* it delivers packets, not messages */
	bool websocket;                /* it subscribes by the decoder's websocket plan */

	/* A transport, or NULL with the reason in err. */
	void *(*open)(const struct feed_xport_params *p, char *err, size_t errlen);
	void (*close)(void *x);
	/* Deliver what is ready, waiting up to timeout_ms when live.  1: go on
	 * (the callback stopped it, or a live poll ended); 0: a recording is
	 * exhausted; -1: a fatal error (error() says which). */
	int (*poll)(void *x, int timeout_ms);
	const char *(*error)(const void *x);
	/* The recorded time of the message being delivered, or XPORT_NO_TIME.
	 * May be NULL (live transports). */
	int64_t (*record_ns)(const void *x);
	/* Counters by name: copies up to cap, returns how many there are. */
	size_t (*counters)(void *x, struct named_counter *out, size_t cap);
	/* Bytes consumed and the total (0: unknown).  May be NULL (live). */
	void (*progress)(const void *x, uint64_t *done, uint64_t *total);
};

const struct feed_xport_ops *feed_xport_find(const char *name);
const struct feed_xport_ops *feed_xport_at(size_t i);

/* "ipv4:port" -> host (in a buffer of cap bytes) and port; 0 or -1. */
int feed_xport_split_addr(const char *addr, char *host, size_t cap, uint16_t *port);

#endif
