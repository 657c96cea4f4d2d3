/*
 * A small blocking HTTPS GET client, for the REST calls a live feed needs
 * now and then (the Binance depth snapshot on a book resync).  Not for hot
 * paths: each request is a fresh TCP + TLS connection ("Connection: close").
 *
 *   TCP    getaddrinfo (IPv4 and IPv6, every address in turn), non-blocking
 *          connect.
 *   TLS    OpenSSL, TLS 1.2 or newer, certificate verification always on,
 *          against the system CA store or cfg.ca_file; the host name (or IP
 *          literal) is checked against the certificate (SSL_set1_host /
 *          IP SAN); SNI is sent for names.
 *   HTTP   "GET <path> HTTP/1.1" with Host, Accept and Connection: close
 *          (no Accept-Encoding: the body comes uncompressed).  The response
 *          must be HTTP/1.x with a status line, headers within
 *          HTTPS_HEADER_MAX bytes, and a body framed by Content-Length or
 *          Transfer-Encoding: chunked; anything else (no length, another
 *          transfer or content coding, 1xx) is refused as "framing".
 *
 * Every request, connect to last body byte, is bounded by timeout_ms: it
 * blocks at most that long.  A body over max_body bytes is refused
 * ("oversize") before it is read when Content-Length says so, else as soon
 * as it grows past the cap.  A status other than 200 is an error
 * (HTTPS_E_STATUS, resp->status holds it); its body is not read.
 *
 * Each failure returns a negative enum https_status and bumps the counter
 * of its reason (struct https_stats, https_client_counters); last_error has
 * a human-readable reason that never contains the path or query.
 *
 * Memory: https_client_new allocates the client and the TLS context; the
 * body buffer grows (realloc) up to max_body + 1 and is reused.  A
 * response's body is valid until the next request or https_client_free.
 * Single-threaded.
 */
#ifndef FKS_FEEDS_HTTPS_GET_H
#define FKS_FEEDS_HTTPS_GET_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/net/counter.h"

#define HTTPS_HEADER_MAX 16384
#define HTTPS_URL_MAX 2048
#define HTTPS_ERROR_MAX 256

struct https_config {
	const char *ca_file;   /* PEM trust anchors; NULL: system CA store */
	int timeout_ms;        /* whole request; 0: 5000 */
	size_t max_body;       /* 0: 8 MiB */
};

enum https_status {
	HTTPS_OK = 0,
	HTTPS_E_URL = -1,       /* not https://host[:port]/path, or control characters */
	HTTPS_E_RESOLVE = -2,   /* getaddrinfo failed */
	HTTPS_E_TCP = -3,       /* connect refused / unreachable */
	HTTPS_E_TLS = -4,       /* handshake (incl. certificate verification) or record error */
	HTTPS_E_TIMEOUT = -5,   /* timeout_ms elapsed */
	HTTPS_E_IO = -6,        /* socket error, or EOF before the response was complete */
	HTTPS_E_PROTOCOL = -7,  /* malformed status line, header or chunk */
	HTTPS_E_FRAMING = -8,   /* no Content-Length and not chunked, or an encoding we refuse */
	HTTPS_E_STATUS = -9,    /* status other than 200 */
	HTTPS_E_OVERSIZE = -10, /* header block or body over its cap */
	HTTPS_E_NOMEM = -11,
};
const char *https_strerror(int status);

/* Monotonic counters since https_client_new. */
struct https_stats {
	uint64_t requests;
	uint64_t ok;
	uint64_t body_bytes;       /* of successful responses */
	uint64_t url_errors;
	uint64_t resolve_errors;
	uint64_t tcp_errors;
	uint64_t tls_errors;
	uint64_t timeouts;
	uint64_t io_errors;
	uint64_t protocol_errors;
	uint64_t framing_errors;
	uint64_t status_errors;
	uint64_t oversize;
	uint64_t nomem;
};
#define HTTPS_STATS_COUNT 14

struct https_response {
	int status;            /* HTTP status, 0 if none was read */
	const char *body;      /* NUL-terminated (the NUL is not counted) */
	size_t len;
};

struct https_client;

/* Build the TLS context; NULL with a reason in err on an unreadable CA file
 * or an OpenSSL failure. */
struct https_client *https_client_new(const struct https_config *cfg, char *err, size_t errlen);
void https_client_free(struct https_client *c);

/* GET url (https://host[:port][/path][?query], [v6] hosts).  Returns
 * HTTPS_OK with resp filled, or a negative enum https_status (counted;
 * resp->status is set when a status line was read). */
int https_get(struct https_client *c, const char *url, struct https_response *resp);

const struct https_stats *https_client_stats(const struct https_client *c);

/* The counters by name, "https_" + the field ("https_requests",
 * "https_tls_errors", ...), in declaration order.  Writes at most cap,
 * returns HTTPS_STATS_COUNT. */
size_t https_client_counters(const struct https_client *c, struct named_counter *out, size_t cap);

/* The last error, "" before any. */
const char *https_client_last_error(const struct https_client *c);

#endif
