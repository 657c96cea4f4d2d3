/*
 * Test-only HTTPS responder; see https_test_server.h.  Loopback only.
 */
#include "tests/support/https_test_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/support/ws_test_server.h"

struct hts {
	struct hts_config cfg;
	int listen_fd;
	int wake[2];
	uint16_t port;
	char ca_path[64];
	SSL_CTX *ctx;
	pthread_t thread;
	bool thread_started;
	size_t n_conns;
	struct hts_conn_log log[HTS_MAX_CONN];
};

static int write_all(SSL *ssl, const char *buf, size_t len)
{
	while (len) {
		int n = SSL_write(ssl, buf, len > 65536 ? 65536 : (int)len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the request header block (blocking socket with a receive timeout). */
static bool read_request(SSL *ssl, struct hts_conn_log *l)
{
	char req[8192];
	size_t have = 0;
	while (have < sizeof req - 1) {
		int n = SSL_read(ssl, req + have, (int)(sizeof req - 1 - have));
		if (n <= 0)
			return false;
		have += (size_t)n;
		req[have] = 0;
		if (strstr(req, "\r\n\r\n")) {
			size_t ll = strcspn(req, "\r");
			if (ll >= sizeof l->request_line)
				ll = sizeof l->request_line - 1;
			memcpy(l->request_line, req, ll);
			l->request_line[ll] = 0;
			l->connection_close = strcasestr(req, "\r\nConnection: close\r\n") != NULL;
			return true;
		}
	}
	return false;
}

static void serve(struct hts *s, SSL *ssl, struct hts_conn_log *l)
{
	if (SSL_accept(ssl) != 1)
		return;
	if (!(l->got_request = read_request(ssl, l)))
		return;
	const struct hts_config *c = &s->cfg;
	char h[512];
	switch (l->mode) {
	case HTS_LENGTH:
	case HTS_GZIP:
	case HTS_TRUNCATED:
		snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n",
			 l->mode == HTS_GZIP ? "Content-Encoding: gzip\r\n" : "",
			 c->body_len + (l->mode == HTS_TRUNCATED ? 100 : 0));
		if (!write_all(ssl, h, strlen(h)))
			write_all(ssl, c->body, c->body_len);
		break;
	case HTS_NO_LENGTH:
		snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
		if (!write_all(ssl, h, strlen(h)))
			write_all(ssl, c->body, c->body_len);
		break;
	case HTS_404: {
		static const char r[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
		write_all(ssl, r, sizeof r - 1);
		break;
	}
	case HTS_CHUNKED: {
		snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		if (write_all(ssl, h, strlen(h)))
			break;
		size_t step = c->chunk ? c->chunk : 1000;
		for (size_t off = 0; off < c->body_len; off += step) {
			size_t n = c->body_len - off < step ? c->body_len - off : step;
			/* a chunk extension on the first chunk: clients must skip it */
			snprintf(h, sizeof h, off ? "%zx\r\n" : "%zX;ext=1\r\n", n);
			if (write_all(ssl, h, strlen(h)) || write_all(ssl, c->body + off, n) || write_all(ssl, "\r\n", 2))
				return;
		}
		write_all(ssl, "0\r\nX-Trailer: 1\r\n\r\n", 19);
		break;
	}
	case HTS_SILENT: {
		struct pollfd p = { .fd = s->wake[0], .events = POLLIN };
		poll(&p, 1, 10000);
		break;
	}
	}
}

static void *server_main(void *arg)
{
	struct hts *s = arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = s->listen_fd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
		int r = poll(p, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (p[1].revents & POLLIN))
			break;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (s->n_conns == HTS_MAX_CONN) {
			close(fd);
			continue;
		}
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		size_t i = s->n_conns;
		struct hts_conn_log *l = &s->log[i];
		l->mode = s->cfg.modes[i < s->cfg.n_modes ? i : s->cfg.n_modes - 1];
		SSL *ssl = SSL_new(s->ctx);
		if (ssl && SSL_set_fd(ssl, fd) == 1)
			serve(s, ssl, l);
		s->n_conns++;
		if (ssl)
			SSL_shutdown(ssl);
		SSL_free(ssl);
		close(fd);
		ERR_clear_error();
	}
	return NULL;
}

struct hts *hts_start(const struct hts_config *cfg, char *err, size_t errlen)
{
	struct hts *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.n_modes)
		s->cfg.n_modes = 1;
	s->listen_fd = -1;
	s->wake[0] = s->wake[1] = -1;
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (!s->ctx || wsts_make_cert(s->ctx, false, s->ca_path, sizeof s->ca_path, err, errlen) != 0)
		goto fail;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		goto fail_sys;
	s->listen_fd = wsts_listen_loopback(false, &s->port);
	if (s->listen_fd < 0)
		goto fail_sys;
	if (pthread_create(&s->thread, NULL, server_main, s) != 0)
		goto fail_sys;
	s->thread_started = true;
	return s;
fail_sys:
	snprintf(err, errlen, "https test server: %s", strerror(errno));
fail:
	hts_stop(s);
	hts_free(s);
	return NULL;
}

uint16_t hts_port(const struct hts *s) { return s->port; }
const char *hts_ca_file(const struct hts *s) { return s->ca_path; }
size_t hts_n_conns(const struct hts *s) { return s->n_conns; }
const struct hts_conn_log *hts_conn(const struct hts *s, size_t i) { return i < s->n_conns ? &s->log[i] : NULL; }

void hts_stop(struct hts *s)
{
	if (!s)
		return;
	wsts_shutdown(s->thread, &s->thread_started, s->wake[1], &s->listen_fd, s->ca_path);
}

void hts_free(struct hts *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	SSL_CTX_free(s->ctx);
	free(s);
}
