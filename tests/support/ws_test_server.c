/*
 * Test-only TLS websocket server; see ws_test_server.h.  Loopback only.
 */
#include "tests/support/ws_test_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#define IO_TIMEOUT_NS (5ll * 1000000000ll)

struct wsts {
	struct wsts_config cfg;
	int listen_fd;
	int wake[2];                    /* pipe: wsts_stop writes, the thread polls */
	uint16_t port;
	char ca_path[64];
	SSL_CTX *ctx;
	pthread_t thread;
	bool thread_started;
	size_t n_conns;
	struct wsts_conn_log log[WSTS_MAX_CONN];
};

/* Per-connection state of the serving thread. */
struct conn {
	struct wsts *s;
	struct wsts_conn_log *log;
	int fd;
	SSL *ssl;
	bool eof;
	bool stopping;
	size_t frag_off;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static const uint8_t ping_payload[] = "wsts-ping";

/* ---- certificate ---- */

int wsts_make_cert(void *ctx_, bool san_localhost, char *ca_path, size_t ca_cap, char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int ok = 0;
	if (!pkey || !x)
		goto out;
	X509_set_version(x, 2);
	unsigned char serial[8];
	RAND_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
						  san_localhost ? "IP:127.0.0.1,DNS:localhost" : "IP:127.0.0.1");
	if (!ext)
		goto out;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, pkey, EVP_sha256()))
		goto out;

	snprintf(ca_path, ca_cap, "/tmp/fks-wstest-XXXXXX");
	int fd = mkstemp(ca_path);
	if (fd < 0)
		goto out;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto out;
	}
	ok = PEM_write_X509(f, x) == 1;
	ok = fclose(f) == 0 && ok;
	if (ok)
		ok = SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
out:
	if (!ok)
		snprintf(err, errlen, "test server: making the certificate failed");
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ok ? 0 : -1;
}

static int make_cert(struct wsts *s, char *err, size_t errlen)
{
	return wsts_make_cert(s->ctx, s->cfg.san_localhost, s->ca_path, sizeof s->ca_path, err, errlen);
}

/* ---- blocking-with-deadline I/O on the non-blocking socket ---- */

/* Wait for fd or the stop pipe; false when stopping or timed out. */
static bool wait_io(struct conn *k, short ev, int64_t deadline)
{
	for (;;) {
		int64_t now = mono_ns();
		if (now >= deadline)
			return false;
		struct pollfd p[2] = {{.fd = k->fd, .events = ev}, {.fd = k->s->wake[0], .events = POLLIN}};
		int r = poll(p, 2, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (p[1].revents & POLLIN)) {
			k->stopping = true;
			return false;
		}
		if (p[0].revents)
			return true;
	}
}

/* SSL_read/SSL_write until done or failure; returns bytes or <= 0. */
static int ssl_io(struct conn *k, bool rd, void *buf, int len, int64_t deadline)
{
	for (;;) {
		ERR_clear_error();
		int r = rd ? SSL_read(k->ssl, buf, len) : SSL_write(k->ssl, buf, len);
		if (r > 0)
			return r;
		int e = SSL_get_error(k->ssl, r);
		if (e == SSL_ERROR_WANT_READ) {
			if (!wait_io(k, POLLIN, deadline))
				return -1;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			if (!wait_io(k, POLLOUT, deadline))
				return -1;
		} else {
			return 0;
		}
	}
}

static int ssl_write_all(struct conn *k, const char *buf, size_t len)
{
	int64_t deadline = mono_ns() + IO_TIMEOUT_NS;
	size_t off = 0;
	while (off < len) {
		int r = ssl_io(k, false, (void *)(buf + off), (int)(len - off), deadline);
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* ---- handshake, computed here on its own ---- */

static void accept_value(const char *key, size_t key_len, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char cat[128];
	unsigned char md[20];
	size_t n = key_len < 64 ? key_len : 64;
	memcpy(cat, key, n);
	memcpy(cat + n, guid, sizeof guid - 1);
	unsigned int mdlen = 0;
	EVP_Digest(cat, n + sizeof guid - 1, md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, 20);
}

/* Read the upgrade request; fills log->path; returns the key length or -1. */
static int read_request(struct conn *k, char *key, size_t keycap, uint8_t *extra, size_t *extra_len)
{
	char req[8192 + 1];
	size_t have = 0;
	int64_t deadline = mono_ns() + IO_TIMEOUT_NS;
	char *end = NULL;
	while (!end) {
		if (have == sizeof req - 1)
			return -1;
		int r = ssl_io(k, true, req + have, (int)(sizeof req - 1 - have), deadline);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		req[have] = 0;
		end = strstr(req, "\r\n\r\n");
	}
	size_t hlen = (size_t)(end - req) + 4;
	*extra_len = have - hlen;
	memcpy(extra, req + hlen, *extra_len);
	end[2] = 0;
	if (strncmp(req, "GET ", 4) != 0)
		return -1;
	const char *p = req + 4, *pe = strchr(p, ' ');
	if (!pe || (size_t)(pe - p) >= sizeof k->log->path)
		return -1;
	memcpy(k->log->path, p, (size_t)(pe - p));
	k->log->path[pe - p] = 0;
	if (strncmp(pe, " HTTP/1.1\r\n", 11) != 0)
		return -1;
	bool upgrade = false, version = false;
	int klen = -1;
	for (char *line = strstr(req, "\r\n") + 2; *line; ) {
		char *eol = strstr(line, "\r\n");
		*eol = 0;
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = 0;
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			if (strcasecmp(line, "Upgrade") == 0 && strcasecmp(v, "websocket") == 0)
				upgrade = true;
			else if (strcasecmp(line, "Sec-WebSocket-Version") == 0 && strcmp(v, "13") == 0)
				version = true;
			else if (strcasecmp(line, "Sec-WebSocket-Key") == 0 && strlen(v) < keycap) {
				strcpy(key, v);
				klen = (int)strlen(v);
			}
		}
		line = eol + 2;
	}
	return upgrade && version ? klen : -1;
}

/* ---- wslay callbacks (server side) ---- */

static ssize_t srv_recv(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *ud)
{
	(void)flags;
	struct conn *k = ud;
	ERR_clear_error();
	int r = SSL_read(k->ssl, buf, (int)len);
	if (r > 0)
		return r;
	int e = SSL_get_error(k->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	k->eof = true;
	wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t srv_send(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags, void *ud)
{
	(void)flags;
	struct conn *k = ud;
	ERR_clear_error();
	int r = SSL_write(k->ssl, data, (int)len);
	if (r > 0)
		return r;
	int e = SSL_get_error(k->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	k->eof = true;
	wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void srv_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
	(void)ws;
	struct conn *k = ud;
	struct wsts_conn_log *l = k->log;
	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
		if (!l->got_subscribe && arg->msg_length < sizeof l->subscribe) {
			memcpy(l->subscribe, arg->msg, arg->msg_length);
			l->subscribe[arg->msg_length] = 0;
			l->subscribe_len = arg->msg_length;
			l->got_subscribe = true;
		}
		l->text_msgs++;
		break;
	case WSLAY_PING:
		l->client_pings++;
		break;
	case WSLAY_PONG:
		if (arg->msg_length == sizeof ping_payload - 1 &&
		    memcmp(arg->msg, ping_payload, sizeof ping_payload - 1) == 0)
			l->pong_ok = true;
		break;
	case WSLAY_CONNECTION_CLOSE:
		l->close_received = true;
		l->close_code = arg->status_code;
		break;
	default:
		break;
	}
}

static void queue_ping(wslay_event_context_ptr ws, struct wsts_conn_log *l)
{
	struct wslay_event_msg m = {.opcode = WSLAY_PING, .msg = ping_payload,
				    .msg_length = sizeof ping_payload - 1};
	if (wslay_event_queue_msg(ws, &m) == 0)
		l->ping_sent = true;
}

static ssize_t frag_read(wslay_event_context_ptr ws, uint8_t *buf, size_t len,
			 const union wslay_event_msg_source *src, int *eof, void *ud)
{
	(void)src;
	struct conn *k = ud;
	const struct wsts_config *cfg = &k->s->cfg;
	size_t n = cfg->frag_len - k->frag_off;
	if (n > cfg->frag_chunk)
		n = cfg->frag_chunk;
	if (n > len)
		n = len;
	memcpy(buf, cfg->frag_msg + k->frag_off, n);
	k->frag_off += n;
	*eof = k->frag_off == cfg->frag_len;
	/* the ping goes between two fragments of this message (RFC 6455 5.4
	 * allows control frames there): wslay sends a queued control frame
	 * before the next fragment */
	if (cfg->send_ping && !k->log->ping_sent && !*eof) {
		queue_ping(ws, k->log);
		k->log->ping_mid_message = true;
	}
	return (ssize_t)n;
}

/* ---- serving one connection ---- */

static void queue_text(wslay_event_context_ptr ws, const void *p, size_t n)
{
	struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME, .msg = p, .msg_length = n};
	wslay_event_queue_msg(ws, &m);
}

static void serve(struct conn *k, enum wsts_mode mode)
{
	struct wsts *s = k->s;
	const struct wsts_config *cfg = &s->cfg;
	int64_t deadline = mono_ns() + IO_TIMEOUT_NS;
	for (;;) {
		ERR_clear_error();
		int r = SSL_accept(k->ssl);
		if (r == 1)
			break;
		int e = SSL_get_error(k->ssl, r);
		if (e == SSL_ERROR_WANT_READ) {
			if (!wait_io(k, POLLIN, deadline))
				return;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			if (!wait_io(k, POLLOUT, deadline))
				return;
		} else {
			return; /* e.g. the client refused our certificate */
		}
	}
	k->log->tls_ok = true;

	char key[128];
	uint8_t extra[8192];
	size_t extra_len = 0;
	int klen = read_request(k, key, sizeof key, extra, &extra_len);
	if (klen <= 0)
		return;
	k->log->upgrade_ok = true;
	if (mode == WSTS_CLOSE_IN_HANDSHAKE)
		return;
	char acc[29];
	accept_value(key, (size_t)klen, acc);
	if (mode == WSTS_BAD_ACCEPT)
		acc[0] = acc[0] == 'A' ? 'B' : 'A';
	char resp[256];
	int rl = snprintf(resp, sizeof resp,
			  "HTTP/1.1 101 Switching Protocols\r\n"
			  "Upgrade: websocket\r\n"
			  "Connection: Upgrade\r\n"
			  "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	if (ssl_write_all(k, resp, (size_t)rl) != 0)
		return;
	if (extra_len)
		return; /* a client must wait for the 101 before framing */

	struct wslay_event_callbacks cb = {
		.recv_callback = srv_recv,
		.send_callback = srv_send,
		.on_msg_recv_callback = srv_msg,
	};
	wslay_event_context_ptr ws;
	if (wslay_event_context_server_init(&ws, &cb, k) != 0)
		return;
	bool queued = false, silent = false, close_pending = false;
	for (;;) {
		if (k->log->got_subscribe && !queued) {
			queued = true;
			if (mode == WSTS_SILENT) {
				silent = true;
			} else if (mode == WSTS_BAD_UTF8) {
				queue_text(ws, cfg->lines[0], cfg->line_len[0]);
				queue_text(ws, "\xc3\x28", 2);
				queue_text(ws, cfg->lines[1], cfg->line_len[1]);
			} else if (mode == WSTS_OVERSIZE) {
				uint8_t *big = malloc(cfg->oversize_len);
				memset(big, 'x', cfg->oversize_len);
				queue_text(ws, big, cfg->oversize_len - 1);
				queue_text(ws, big, cfg->oversize_len);
				free(big);
			} else {
				size_t n = cfg->n_lines;
				if (mode == WSTS_REPLAY_DROP && cfg->drop_after < n)
					n = cfg->drop_after;
				for (size_t i = 0; i < n; i++)
					queue_text(ws, cfg->lines[i], cfg->line_len[i]);
				k->log->lines_sent = n;
				if (mode != WSTS_REPLAY_DROP) {
					if (cfg->frag_msg) {
						struct wslay_event_fragmented_msg fm = {
							.opcode = WSLAY_TEXT_FRAME, .read_callback = frag_read};
						k->frag_off = 0;
						wslay_event_queue_fragmented_msg(ws, &fm);
					}
					if (cfg->send_ping && !cfg->frag_msg)
						queue_ping(ws, k->log);
					/* wslay sends control frames first: the close
					 * waits until the data has gone */
					close_pending = mode == WSTS_REPLAY_CLOSE;
				}
			}
		}
		if (wslay_event_want_write(ws) && wslay_event_send(ws) != 0)
			break;
		if (close_pending && !wslay_event_want_write(ws)) {
			close_pending = false;
			wslay_event_queue_close(ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
			continue;
		}
		if (mode == WSTS_REPLAY_DROP && queued && !wslay_event_want_write(ws))
			break; /* mid-stream drop: no close frame, no close_notify */
		if (!silent && !wslay_event_want_read(ws) && !wslay_event_want_write(ws))
			break;
		short ev = POLLIN;
		if (wslay_event_want_write(ws))
			ev |= POLLOUT;
		struct pollfd p[2] = {{.fd = k->fd, .events = ev}, {.fd = s->wake[0], .events = POLLIN}};
		bool pending = !silent && SSL_pending(k->ssl) > 0;
		int r = poll(p, 2, pending ? 0 : 1000);
		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			k->stopping = true;
			break;
		}
		if (!(pending || (p[0].revents & (POLLIN | POLLHUP | POLLERR))))
			continue;
		if (silent) {
			/* drain and drop, so the client's pings are never answered */
			char junk[4096];
			ERR_clear_error();
			int n = SSL_read(k->ssl, junk, sizeof junk);
			if (n <= 0) {
				int e = SSL_get_error(k->ssl, n);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					break;
			}
		} else if (wslay_event_recv(ws) != 0 || k->eof) {
			break;
		}
	}
	wslay_event_context_free(ws);
}

static void *server_main(void *arg)
{
	struct wsts *s = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN}, {.fd = s->wake[0], .events = POLLIN}};
		int r = poll(p, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (p[1].revents & POLLIN))
			break;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (s->n_conns == WSTS_MAX_CONN) {
			close(fd);
			continue;
		}
		struct wsts_conn_log *l = &s->log[s->n_conns];
		size_t i = s->n_conns++;
		l->accept_ns = mono_ns();
		l->mode = s->cfg.modes[i < s->cfg.n_modes ? i : s->cfg.n_modes - 1];
		struct conn k = {.s = s, .log = l, .fd = fd, .ssl = SSL_new(s->ctx)};
		if (k.ssl && SSL_set_fd(k.ssl, fd) == 1)
			serve(&k, l->mode);
		SSL_free(k.ssl);
		close(fd);
		l->end_ns = mono_ns();
		ERR_clear_error();
		if (k.stopping)
			break;
	}
	return NULL;
}

struct wsts *wsts_start(const struct wsts_config *cfg, char *err, size_t errlen)
{
	struct wsts *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (s->cfg.n_modes == 0)
		s->cfg.n_modes = 1;
	s->listen_fd = -1;
	s->wake[0] = s->wake[1] = -1;
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (!s->ctx || make_cert(s, err, errlen) != 0)
		goto fail;
	SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		goto fail_sys;
	s->listen_fd = wsts_listen_loopback(true, &s->port);
	if (s->listen_fd < 0)
		goto fail_sys;
	if (pthread_create(&s->thread, NULL, server_main, s) != 0)
		goto fail_sys;
	s->thread_started = true;
	return s;
fail_sys:
	snprintf(err, errlen, "test server: %s", strerror(errno));
fail:
	wsts_stop(s);
	wsts_free(s);
	return NULL;
}

uint16_t wsts_port(const struct wsts *s) { return s->port; }
const char *wsts_ca_file(const struct wsts *s) { return s->ca_path; }
size_t wsts_n_conns(const struct wsts *s) { return s->n_conns; }

const struct wsts_conn_log *wsts_conn(const struct wsts *s, size_t i)
{
	return i < s->n_conns ? &s->log[i] : NULL;
}

void wsts_stop(struct wsts *s)
{
	if (!s)
		return;
	wsts_shutdown(s->thread, &s->thread_started, s->wake[1], &s->listen_fd, s->ca_path);
}

int wsts_listen_loopback(bool nonblock, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

void wsts_shutdown(pthread_t thread, bool *thread_started, int wake_w, int *listen_fd, char *ca_path)
{
	if (*thread_started) {
		if (write(wake_w, "x", 1) < 0) {
			/* the pipe cannot be full: one byte is ever written */
		}
		pthread_join(thread, NULL);
		*thread_started = false;
	}
	if (*listen_fd >= 0) {
		close(*listen_fd);
		*listen_fd = -1;
	}
	if (ca_path[0]) {
		unlink(ca_path);
		ca_path[0] = 0;
	}
}

void wsts_free(struct wsts *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	SSL_CTX_free(s->ctx);
	free(s);
}
