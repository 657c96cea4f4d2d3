/*
 * A test-only HTTPS server on 127.0.0.1 for tests/test_https_get.c and the
 * live-Binance feed_source test: it answers every GET with one fixed body,
 * framed per connection by modes[i] (the last mode repeats).  The
 * certificate is ws_test_server's (wsts_make_cert): self-signed, SAN
 * IP:127.0.0.1, in a temporary PEM file a client trusts via its CA file.
 * One connection at a time, served in a thread; hts_stop() joins it and
 * removes the file.  Read the log after hts_stop().
 */
#ifndef FKS_TESTS_HTTPS_TEST_SERVER_H
#define FKS_TESTS_HTTPS_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTS_MAX_CONN 32
#define HTS_MAX_MODES 8

enum hts_mode {
	HTS_LENGTH = 0,    /* 200, Content-Length */
	HTS_CHUNKED,       /* 200, Transfer-Encoding: chunked, chunk bytes per chunk */
	HTS_404,           /* 404 with a short body */
	HTS_NO_LENGTH,     /* 200, no framing header: the body ends at close */
	HTS_GZIP,          /* 200, Content-Length, Content-Encoding: gzip */
	HTS_SILENT,        /* read the request, never answer (until stop) */
	HTS_TRUNCATED,     /* Content-Length says more than is sent, then close */
};

struct hts_config {
	enum hts_mode modes[HTS_MAX_MODES];
	size_t n_modes;            /* >= 1 */
	const char *body;
	size_t body_len;
	size_t chunk;              /* HTS_CHUNKED: bytes per chunk; 0: 1000 */
};

struct hts_conn_log {
	enum hts_mode mode;
	bool got_request;
	char request_line[512];    /* "GET /path?q HTTP/1.1" */
	bool connection_close;     /* the request said Connection: close */
};

struct hts;

struct hts *hts_start(const struct hts_config *cfg, char *err, size_t errlen);
uint16_t hts_port(const struct hts *s);
const char *hts_ca_file(const struct hts *s);
void hts_stop(struct hts *s);
size_t hts_n_conns(const struct hts *s);
const struct hts_conn_log *hts_conn(const struct hts *s, size_t i);
void hts_free(struct hts *s);

#endif
