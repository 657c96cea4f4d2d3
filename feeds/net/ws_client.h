/*
 * A websocket-over-TLS client for the JSON venues: it delivers each venue
 * message (one text or binary websocket message) to a callback, raw, and
 * knows nothing about decoding.
 *
 * Layers, bottom up:
 *  - TCP: getaddrinfo (IPv4 and IPv6, every address in turn), non-blocking
 *    connect bounded by connect_timeout_ms, TCP_NODELAY.
 *  - TLS (OpenSSL): TLS 1.2 or newer, certificate verification always on,
 *    against the system CA store or cfg.ca_file; the host name (or IP
 *    literal) is checked against the certificate; SNI is sent for names.
 *  - HTTP/1.1 Upgrade, written here: a random Sec-WebSocket-Key
 *    (RAND_bytes), and the server's Sec-WebSocket-Accept must equal
 *    base64(SHA1(key + RFC 6455 GUID)); no extension or subprotocol is
 *    accepted.  TLS and HTTP together are bounded by handshake_timeout_ms.
 *  - Framing: wslay's event API.  wslay reassembles fragmented messages,
 *    answers pings with pongs and answers close frames; a message longer
 *    than max_msg_size makes wslay close the connection with 1009, which is
 *    counted (oversize) and followed by a reconnect.
 *
 * Liveness: every ping_interval_ms the client sends a ping whose payload is
 * a counter; if the matching pong is not back within pong_timeout_ms the
 * connection is declared dead (pong_timeouts) and dropped.
 *
 * Reconnect: after any drop or failed attempt the next attempt waits an
 * exponential back-off, backoff_min_ms * 2^k capped at backoff_max_ms, with
 * "equal jitter" (a uniform draw in [d/2, d]) from a generator seeded with
 * cfg.seed, so the schedule is reproducible.  k counts attempts since the
 * last connection that delivered a message.  After each successful
 * handshake the client calls on_state(WS_CONNECTED or WS_RECONNECTED) and
 * then sends every subscribe message again.  WS_RECONNECTED tells the
 * decoder its books are stale: the venue's fresh snapshots follow the
 * resubscribe.  WS_DISCONNECTED is signalled when an open connection ends.
 *
 * Threading: single-threaded.  ws_client_run() is a poll() loop that
 * sleeps until the socket is readable or a timer (ping, pong deadline,
 * back-off, the caller's timeout) is due; it never spins.  The only call
 * allowed from elsewhere is ws_client_stop() from a signal handler (it
 * writes a sig_atomic_t; the signal interrupts poll).
 *
 * Memory: ws_client_new allocates the client and the TLS context; wslay
 * allocates per message while reassembling (this is transport, not the
 * decoder hot path).  The buffer passed to deliver is valid only during
 * the call.
 *
 * Secrets: nothing the client logs or keeps in last_error contains the
 * request path, query or subscribe messages (which may carry tokens).
 */
#ifndef FKS_FEEDS_WS_CLIENT_H
#define FKS_FEEDS_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/net/counter.h"

/* One whole venue message.  recv_ns is CLOCK_MONOTONIC taken right after
 * the read that completed the message.  Return 0 to go on,
 * WS_DELIVER_RECONNECT to have the client drop the connection and
 * reconnect (a decoder that lost sync and resyncs by resubscribing), or a
 * negative value, which is counted (deliver_errors) and ignored. */
typedef int (*ws_deliver_fn)(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns);
#define WS_DELIVER_RECONNECT 1

enum ws_state {
	WS_CONNECTED = 1,     /* first connection is open; subscribes follow */
	WS_RECONNECTED = 2,   /* a later connection is open: resync the books */
	WS_DISCONNECTED = 3,  /* an open connection ended; data may be missing */
};
typedef void (*ws_state_fn)(void *ctx, enum ws_state state);

#define WS_MAX_SUBSCRIBE 16
#define WS_URL_MAX 2048
#define WS_ERROR_MAX 256

struct ws_config {
	const char *url;            /* wss://host[:port][/path][?query]; [v6] hosts */
	const char *ca_file;        /* PEM trust anchors; NULL: system CA store */
	const char *subscribe[WS_MAX_SUBSCRIBE]; /* text messages sent after each connect */
	size_t n_subscribe;
	int connect_timeout_ms;     /* TCP connect, all addresses; 0: 5000 */
	int handshake_timeout_ms;   /* TLS + HTTP upgrade; 0: 10000 */
	int ping_interval_ms;       /* 0: 15000; < 0: never ping */
	int pong_timeout_ms;        /* 0: 10000 */
	int backoff_min_ms;         /* 0: 100 */
	int backoff_max_ms;         /* 0: 30000; clamped to >= backoff_min_ms */
	uint64_t seed;              /* back-off jitter */
	size_t max_msg_size;        /* bytes of one reassembled message; 0: 16 MiB */
	ws_deliver_fn deliver;      /* required */
	ws_state_fn on_state;       /* optional */
	void *ctx;                  /* passed to deliver and on_state */
};

/* Monotonic counters since ws_client_new. */
struct ws_stats {
	uint64_t connect_attempts;  /* attempts started (resolve + TCP + TLS + HTTP) */
	uint64_t connects;          /* websocket opened */
	uint64_t reconnects;        /* opened after the first open */
	uint64_t disconnects;       /* open connections that ended */
	uint64_t messages;          /* text + binary messages delivered */
	uint64_t bytes;             /* their payload bytes */
	uint64_t subscribes_sent;
	uint64_t pings_sent;        /* our keep-alive pings */
	uint64_t pongs_received;    /* pongs matching our ping */
	uint64_t pings_received;    /* server pings, each answered by wslay with a pong */
	uint64_t closes_received;   /* close frames from the server */
	uint64_t deliver_errors;    /* deliver returned < 0 */
	uint64_t deliver_reconnects;/* deliver asked for a reconnect */
	/* errors, by reason */
	uint64_t resolve_errors;    /* getaddrinfo failed */
	uint64_t tcp_errors;        /* connect refused / unreachable / timed out */
	uint64_t tls_errors;        /* TLS handshake or record failure, incl. verification */
	uint64_t handshake_errors;  /* bad HTTP upgrade response (status, headers, accept) */
	uint64_t handshake_timeouts;/* TLS + HTTP did not finish in time */
	uint64_t protocol_errors;   /* websocket protocol violation (wslay closed 1002/1007) */
	uint64_t oversize;          /* message longer than max_msg_size (closed 1009) */
	uint64_t pong_timeouts;     /* no pong in time: connection declared dead */
	uint64_t io_errors;         /* socket errors and unexpected EOF on an open connection */
};

struct ws_client;

/*
 * Validate cfg, copy it (strings included) and build the TLS context.
 * Returns NULL with a reason in err on a bad URL, a missing callback, an
 * unreadable CA file or an OpenSSL failure.  Does not connect.
 */
struct ws_client *ws_client_new(const struct ws_config *cfg, char *err, size_t errlen);

/* Close any connection (no callbacks) and free everything. */
void ws_client_free(struct ws_client *c);

enum {
	WS_RUN_TIMEOUT = 0,  /* timeout_ms elapsed */
	WS_RUN_STOPPED = 1,  /* ws_client_stop() was called */
};

/*
 * Connect, read, deliver, keep alive and reconnect until timeout_ms has
 * elapsed (< 0: no limit) or ws_client_stop() is called.  The connection
 * stays open across calls, so the feed stage may call this in a loop with
 * a short timeout to do its own housekeeping in between.  A stop is
 * honoured at the next socket read: messages already read in the same
 * batch are still delivered (dropping them would lose data), the rest
 * wait in the socket for the next run.
 */
int ws_client_run(struct ws_client *c, int timeout_ms);

/* The wait, in ms, that the client chose before its next connection
 * attempt, the last time one failed (0 before any failure): what `fks
 * status` and the tests read to see the back-off schedule without timing it. */
int64_t ws_client_last_backoff_ms(const struct ws_client *c);

/* Ask ws_client_run to return; async-signal-safe.  The next run clears it. */
void ws_client_stop(struct ws_client *c);

/* Queue a text message (an application-level ping, a late subscribe) on
 * the open connection; it is sent by ws_client_run.  Returns 0, or -1 when
 * no connection is open or wslay refuses it. */
int ws_client_send_text(struct ws_client *c, const char *msg, size_t len);

/* Is a websocket open right now? */
bool ws_client_is_open(const struct ws_client *c);

const struct ws_stats *ws_client_stats(const struct ws_client *c);

/*
 * The counters of struct ws_stats by name ("connects", "tls_errors", ...),
 * in declaration order, for `fks status` and the metrics exporter, which
 * print every feed's counters alike.  Writes at most cap entries and
 * returns how many there are in all (WS_STATS_COUNT).
 */
#define WS_STATS_COUNT 22
size_t ws_client_counters(const struct ws_client *c, struct named_counter *out, size_t cap);

/* The last error, for the log: e.g. "tls: certificate verify failed
 * (self-signed certificate)", "handshake: bad Sec-WebSocket-Accept".
 * Empty before any error. */
const char *ws_client_last_error(const struct ws_client *c);

/*
 * base64(SHA1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) into out
 * (29 bytes incl. NUL).  Exposed for the test server.  Returns 0 or -1.
 */
int ws_accept_key(const char *key, size_t key_len, char out[29]);

#endif
