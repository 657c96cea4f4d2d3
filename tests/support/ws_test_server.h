/*
 * A test-only TLS websocket server on 127.0.0.1, for tests/test_ws_client.c.
 *
 * wsts_start() makes a fresh EC P-256 key and a self-signed certificate
 * (CN 127.0.0.1, SAN IP:127.0.0.1, optionally DNS:localhost), writes the
 * certificate to a temporary PEM file that a client can trust through its
 * CA-file option, binds an ephemeral loopback port and serves in a thread,
 * one connection at a time.  wsts_stop() wakes the thread, joins it and
 * removes the file.
 *
 * The server does its own HTTP upgrade (it computes Sec-WebSocket-Accept
 * itself, independently of the client code) and then frames with wslay's
 * server API.  Connection number i (0-based) follows modes[i] (the last
 * mode repeats).  Everything it saw is logged per connection; read the log
 * after wsts_stop() (the join orders it).
 */
#ifndef FKS_TESTS_WS_TEST_SERVER_H
#define FKS_TESTS_WS_TEST_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSTS_MAX_CONN 16
#define WSTS_MAX_MODES 8
#define WSTS_SUB_MAX 4096

enum wsts_mode {
	/* wait for the first text message (the subscribe), send every line as
	 * a text frame, then the fragmented message with a ping between its
	 * first two fragments (or a ping alone without one); then serve
	 * (answering the client's pings) until the client leaves */
	WSTS_REPLAY = 0,
	/* like REPLAY, but after drop_after lines drop TCP without a close frame */
	WSTS_REPLAY_DROP,
	/* like REPLAY, then a close frame (1000) */
	WSTS_REPLAY_CLOSE,
	/* answer 101 with a wrong Sec-WebSocket-Accept */
	WSTS_BAD_ACCEPT,
	/* read the upgrade request, then close without an answer */
	WSTS_CLOSE_IN_HANDSHAKE,
	/* after the subscribe: one text message of oversize_len - 1 bytes,
	 * then one of oversize_len bytes */
	WSTS_OVERSIZE,
	/* after the subscribe, never feed wslay again: pings go unanswered */
	WSTS_SILENT,
	/* after the subscribe: line 0, then a text message that is not UTF-8
	 * (C3 28), then line 1 */
	WSTS_BAD_UTF8,
};

struct wsts_config {
	enum wsts_mode modes[WSTS_MAX_MODES];
	size_t n_modes;                 /* >= 1 */
	const char *const *lines;       /* the replay, one message each */
	const size_t *line_len;
	size_t n_lines;
	size_t drop_after;              /* REPLAY_DROP: lines sent before the drop */
	const uint8_t *frag_msg;        /* sent as a fragmented text message; NULL: none */
	size_t frag_len, frag_chunk;    /* frag_chunk bytes per frame */
	bool send_ping;                 /* after the replay */
	size_t oversize_len;
	bool san_localhost;             /* add DNS:localhost to the certificate */
};

struct wsts_conn_log {
	int64_t accept_ns;              /* CLOCK_MONOTONIC */
	int64_t end_ns;
	enum wsts_mode mode;
	bool tls_ok;
	bool upgrade_ok;                /* a well-formed upgrade request came */
	char path[256];
	char subscribe[WSTS_SUB_MAX];   /* first text message from the client */
	size_t subscribe_len;
	bool got_subscribe;
	size_t text_msgs;               /* text messages from the client, incl. the subscribe */
	size_t lines_sent;
	bool ping_sent;
	bool ping_mid_message;          /* it went between two fragments */
	bool pong_ok;                   /* pong with our ping's payload came back */
	unsigned client_pings;          /* pings from the client (wslay answers them) */
	bool close_received;            /* the client sent a close frame */
	uint16_t close_code;            /* its status code */
};

struct wsts;

/* The certificate half of wsts_start, shared with the HTTPS test server:
 * a fresh P-256 key and self-signed certificate (SAN IP:127.0.0.1, plus
 * DNS:localhost if asked) installed in ctx (an SSL_CTX *) and written as
 * PEM to a new temporary file whose name goes to ca_path (>= 32 bytes; the
 * caller removes it).  0 or -1 with err set. */
int wsts_make_cert(void *ctx, bool san_localhost, char *ca_path, size_t ca_cap, char *err, size_t errlen);

/* The listener half, shared with the HTTPS test server: a TCP socket
 * listening on 127.0.0.1 at an ephemeral port (its number in *port),
 * close-on-exec, non-blocking if asked.  The fd, or -1 with errno set. */
int wsts_listen_loopback(bool nonblock, uint16_t *port);

/* The stop half, shared likewise: if *thread_started, wake the serving
 * thread through the pipe's write end wake_w and join it; then close
 * *listen_fd and remove the certificate file ca_path (each once: they are
 * reset to -1 / ""). */
void wsts_shutdown(pthread_t thread, bool *thread_started, int wake_w, int *listen_fd, char *ca_path);

struct wsts *wsts_start(const struct wsts_config *cfg, char *err, size_t errlen);
uint16_t wsts_port(const struct wsts *s);
const char *wsts_ca_file(const struct wsts *s);
void wsts_stop(struct wsts *s);

/* After wsts_stop: connections accepted, and the log of each. */
size_t wsts_n_conns(const struct wsts *s);
const struct wsts_conn_log *wsts_conn(const struct wsts *s, size_t i);
void wsts_free(struct wsts *s);

#endif
