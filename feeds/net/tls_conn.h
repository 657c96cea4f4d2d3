/*
 * The client side of one TCP + TLS connection with a deadline, shared by
 * the websocket client (ws_client.c) and the HTTPS GET client
 * (https_get.c).  Each of them keeps its own counters and maps the
 * statuses below onto them; this file counts nothing.
 *
 *   URL   tls_url_split: "<scheme>://host[:port][/path][?query]", hosts as
 *         names, IPv4 or [IPv6] literals, no spaces or control characters
 *         anywhere (no request splitting through the URL).
 *   TCP   tls_tcp_connect: getaddrinfo (IPv4 and IPv6), every address in
 *         turn with a non-blocking connect; each address gets a fair share
 *         of the time left, so one black-holed address family cannot eat
 *         the whole budget.  TCP_NODELAY on the connected socket.
 *   TLS   tls_client_handshake: SNI + SSL_set1_host for names, an IP SAN
 *         check for IP literals (RFC 6066: no IP literals in SNI).  The
 *         SSL_CTX (trust anchors, verification mode, versions) is the
 *         caller's.
 *   I/O   tls_io: one SSL_read or SSL_write that waits out want-read /
 *         want-write up to the deadline.
 *
 * Deadlines are CLOCK_MONOTONIC nanoseconds (tls_mono_ns).  Every wait
 * also honours an optional stop flag (a sig_atomic_t a signal handler sets;
 * NULL: none); it is read, never reset.  Error texts go to err (errlen
 * bytes, always NUL-terminated when errlen > 0) and never contain the
 * URL's path or query, which may carry tokens.  Blocking, single-threaded
 * per connection, no allocation beyond what getaddrinfo and OpenSSL do.
 */
#ifndef FKS_FEEDS_TLS_CONN_H
#define FKS_FEEDS_TLS_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define TLS_HOST_MAX 256
#define TLS_URL_MAX 2048   /* bytes including the NUL */

enum tls_status {
	TLSC_OK = 0,
	TLSC_RESOLVE = -1,  /* getaddrinfo failed */
	TLSC_TCP = -2,      /* every address refused / unreachable / failed */
	TLSC_TIMEOUT = -3,  /* the deadline passed */
	TLSC_STOPPED = -4,  /* *stop became non-zero; not a failure of the peer */
	TLSC_TLS = -5,      /* OpenSSL setup, handshake (incl. verification) or record error */
	TLSC_IO = -6,       /* poll() failed */
};

/* Where a URL points.  path points into the URL passed to tls_url_split
 * (so it lives as long as that string): "" , "/..." or "?...". */
struct tls_target {
	char host[TLS_HOST_MAX];               /* without brackets */
	char port[8];                          /* decimal */
	char host_header[TLS_HOST_MAX + 16];   /* for "Host:": [v6] bracketed, ":port" unless the default */
	bool host_is_ip;                       /* an IPv4 or IPv6 literal */
	const char *path;
};

int64_t tls_mono_ns(void);

/* A client context: TLS 1.2 or newer, peer verification on, trust anchors
 * from the PEM file ca_file or (NULL) the system store, and an EOF without
 * close_notify reported as a plain EOF (servers often skip it; the
 * caller's framing says whether anything was missing).  NULL with the
 * reason in err ("loading trust anchors from ca_file: ..."). */
SSL_CTX *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen);

/* Split url, whose scheme must be `scheme` (case-insensitive, e.g. "wss" or
 * "https"); a missing port is default_port (1..65535).  0, or -1 with the reason in
 * err ("url must start with wss:// (TLS only)", "url: bad port", ...). */
int tls_url_split(const char *url, const char *scheme, int default_port, struct tls_target *out, char *err,
		  size_t errlen);

/* Wait until fd has one of events or the deadline passes.  TLSC_OK,
 * TLSC_TIMEOUT, TLSC_STOPPED (checked before every poll; a signal
 * interrupts poll, EINTR retries) or TLSC_IO (errno says why). */
int tls_wait_fd(int fd, short events, int64_t deadline_ns, const volatile sig_atomic_t *stop);

/* Resolve target and connect to its addresses in turn until one accepts,
 * by deadline_ns.  TLSC_OK with the non-blocking socket in *fd, else *fd is
 * -1 and: TLSC_RESOLVE, TLSC_STOPPED, TLSC_TIMEOUT (the last attempt, or
 * the budget, ran out of time) or TLSC_TCP (the last attempt failed
 * otherwise).  err says "resolve <host>: ..." or "tcp connect <host> port
 * <port>: <reason or 'timed out'>". */
int tls_tcp_connect(const struct tls_target *target, int64_t deadline_ns, const volatile sig_atomic_t *stop,
		    int *fd, char *err, size_t errlen);

/* TLS client handshake on the connected non-blocking fd, verifying the
 * peer as target->host.  TLSC_OK with the session in *out (the caller
 * SSL_frees it; fd stays the caller's), else *out is NULL and: TLSC_TLS
 * ("tls: handshake: <OpenSSL reason> (<verify verdict>)"), TLSC_TIMEOUT
 * ("tls: handshake timed out"), TLSC_STOPPED or TLSC_IO. */
int tls_client_handshake(SSL_CTX *ctx, int fd, const struct tls_target *target, int64_t deadline_ns,
			 const volatile sig_atomic_t *stop, SSL **out, char *err, size_t errlen);

/* One SSL_read (rd) or SSL_write of up to len bytes on ssl, whose socket
 * is fd.  Bytes moved (> 0), 0 on the peer's close (close_notify, or EOF
 * without one), or TLSC_TLS ("tls: read: ..."), TLSC_TIMEOUT ("read timed
 * out"), TLSC_STOPPED or TLSC_IO. */
int tls_io(SSL *ssl, int fd, bool rd, void *buf, int len, int64_t deadline_ns, const volatile sig_atomic_t *stop,
	   char *err, size_t errlen);

/* "tls: <what>: <reason>" for the failure OpenSSL just reported (its error
 * queue, else errno), plus the certificate verdict of ssl (may be NULL)
 * when verification failed; clears the error queue. */
void tls_error_text(const SSL *ssl, const char *what, char *err, size_t errlen);

#endif
