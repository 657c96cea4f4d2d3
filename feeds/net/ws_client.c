/*
 * Websocket over TLS: TCP + OpenSSL + our HTTP upgrade + wslay framing.
 * The contract is in ws_client.h.
 */
#include "feeds/net/ws_client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "feeds/net/tls_conn.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HTTP_RESPONSE_MAX 8192
#define NS_PER_MS 1000000ll

/* Why the current connection ended, as seen by the I/O callbacks. */
enum conn_end {
	END_NONE = 0,
	END_EOF,       /* peer closed the TCP/TLS stream */
	END_TLS,       /* TLS record error */
	END_IO,        /* socket error */
};

struct ws_client {
	struct ws_config cfg;          /* string pointers refer to the copies below */
	struct tls_target t;           /* host, port, Host: value; t.path is not kept */
	char *path;                    /* request target, "/..." */
	char *ca_file;
	char *sub[WS_MAX_SUBSCRIBE];
	size_t sub_len[WS_MAX_SUBSCRIBE];
	SSL_CTX *ssl_ctx;

	/* the connection */
	int fd;
	SSL *ssl;
	wslay_event_context_ptr ws;
	bool ever_opened;
	bool delivered_on_conn;
	bool close_received;
	bool want_reconnect;
	bool read_wants_write, write_wants_read;
	enum conn_end end;
	uint8_t pend[HTTP_RESPONSE_MAX]; /* bytes read past the HTTP response header */
	size_t pend_off, pend_len;
	int64_t last_read_ns;
	int64_t next_ping_ns, pong_deadline_ns;
	bool awaiting_pong;
	uint64_t ping_seq;

	/* reconnect */
	int64_t next_attempt_ns;
	unsigned backoff_k;
	int64_t last_backoff_ms;     /* the wait schedule_retry chose last */
	uint64_t rng;

	volatile sig_atomic_t stop;
	struct ws_stats st;
	char last_error[WS_ERROR_MAX];
};

/* Milliseconds from now to deadline, rounded up so that a poll() that
 * times out is past the deadline (no 0 ms wake-up loop just before it). */
static int ms_until(int64_t now, int64_t deadline)
{
	if (deadline <= now)
		return 0;
	int64_t ms = (deadline - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void set_error(struct ws_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct ws_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
	va_end(ap);
}

/* OpenSSL's reason for the last failure, plus the certificate verdict
 * when verification is what failed. */
static void set_tls_error(struct ws_client *c, const char *what)
{
	tls_error_text(c->ssl, what, c->last_error, sizeof c->last_error);
}

/* splitmix64: the seeded jitter source. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void schedule_retry(struct ws_client *c)
{
	int64_t d = c->cfg.backoff_min_ms;
	for (unsigned i = 0; i < c->backoff_k && d < c->cfg.backoff_max_ms; i++)
		d *= 2;
	if (d > c->cfg.backoff_max_ms)
		d = c->cfg.backoff_max_ms;
	/* equal jitter: half fixed, half random, so peers that lost the same
	 * venue at the same moment do not come back in lockstep */
	int64_t half = d / 2;
	int64_t wait_ms = half + (int64_t)(rng_next(&c->rng) % (uint64_t)(d - half + 1));
	c->next_attempt_ns = tls_mono_ns() + wait_ms * NS_PER_MS;
	c->last_backoff_ms = wait_ms;
	if (c->backoff_k < 62)
		c->backoff_k++;
}

/* ---- URL ---- */

_Static_assert(WS_URL_MAX == TLS_URL_MAX, "the URL limit is tls_conn's");

static int parse_url(struct ws_client *c, const char *url, char *err, size_t errlen)
{
	if (tls_url_split(url, "wss", 443, &c->t, err, errlen) != 0)
		return -1;
	const char *p = c->t.path;
	c->t.path = NULL; /* it points into the caller's url */
	size_t pl = strlen(p);
	c->path = malloc(pl + 2);
	if (!c->path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (*p == '/')
		memcpy(c->path, p, pl + 1);
	else { /* "" or "?q" */
		c->path[0] = '/';
		memcpy(c->path + 1, p, pl + 1);
	}
	return 0;
}

/* ---- lifecycle ---- */

struct ws_client *ws_client_new(const struct ws_config *cfg, char *err, size_t errlen)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	if (!cfg || !cfg->url || !cfg->deliver) {
		snprintf(err, errlen, "config needs a url and a deliver callback");
		return NULL;
	}
	if (cfg->n_subscribe > WS_MAX_SUBSCRIBE) {
		snprintf(err, errlen, "more than %d subscribe messages", WS_MAX_SUBSCRIBE);
		return NULL;
	}
	struct ws_client *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->cfg = *cfg;
	if (parse_url(c, cfg->url, err, errlen) != 0)
		goto fail;
	c->cfg.url = NULL; /* not kept: the query may hold a token */
	for (size_t i = 0; i < cfg->n_subscribe; i++) {
		if (!cfg->subscribe[i]) {
			snprintf(err, errlen, "subscribe message %zu is NULL", i);
			goto fail;
		}
		c->sub_len[i] = strlen(cfg->subscribe[i]);
		c->sub[i] = malloc(c->sub_len[i] + 1);
		if (!c->sub[i]) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		memcpy(c->sub[i], cfg->subscribe[i], c->sub_len[i] + 1);
		c->cfg.subscribe[i] = c->sub[i];
	}
	if (cfg->ca_file) {
		c->ca_file = strdup(cfg->ca_file);
		if (!c->ca_file) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		c->cfg.ca_file = c->ca_file;
	}
	if (c->cfg.connect_timeout_ms <= 0) c->cfg.connect_timeout_ms = 5000;
	if (c->cfg.handshake_timeout_ms <= 0) c->cfg.handshake_timeout_ms = 10000;
	if (c->cfg.ping_interval_ms == 0) c->cfg.ping_interval_ms = 15000;
	if (c->cfg.pong_timeout_ms <= 0) c->cfg.pong_timeout_ms = 10000;
	if (c->cfg.backoff_min_ms <= 0) c->cfg.backoff_min_ms = 100;
	if (c->cfg.backoff_max_ms <= 0) c->cfg.backoff_max_ms = 30000;
	if (c->cfg.backoff_max_ms < c->cfg.backoff_min_ms) c->cfg.backoff_max_ms = c->cfg.backoff_min_ms;
	if (c->cfg.max_msg_size == 0) c->cfg.max_msg_size = 16u << 20;
	c->rng = cfg->seed;

	c->ssl_ctx = tls_client_ctx_new(c->ca_file, err, errlen);
	if (!c->ssl_ctx)
		goto fail;
	/* wslay may retry a partial write with another buffer */
	SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return c;
fail:
	ws_client_free(c);
	return NULL;
}

static void conn_release(struct ws_client *c)
{
	if (c->ws) {
		wslay_event_context_free(c->ws);
		c->ws = NULL;
	}
	if (c->ssl) {
		/* Only after a completed close handshake: one non-blocking
		 * attempt to say close_notify, never a wait for the peer's. */
		if (c->close_received)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	ERR_clear_error();
	c->pend_off = c->pend_len = 0;
	c->awaiting_pong = false;
	c->want_reconnect = false;
	c->read_wants_write = c->write_wants_read = false;
	c->close_received = false;
	c->delivered_on_conn = false;
	c->end = END_NONE;
}

void ws_client_free(struct ws_client *c)
{
	if (!c)
		return;
	conn_release(c);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	for (size_t i = 0; i < WS_MAX_SUBSCRIBE; i++)
		free(c->sub[i]);
	free(c->ca_file);
	free(c->path);
	free(c);
}

/* An open connection ended (or a failed attempt is given up): release it,
 * tell the caller if it was open, and schedule the next attempt. */
static void conn_drop(struct ws_client *c)
{
	bool was_open = c->ws != NULL;
	conn_release(c);
	if (was_open) {
		c->st.disconnects++;
		if (c->cfg.on_state)
			c->cfg.on_state(c->cfg.ctx, WS_DISCONNECTED);
	}
	schedule_retry(c);
}

/* ---- blocking-with-deadline helpers for the connect phase ---- */

/* The shared connect path, mapped onto our counters: 0, -1 (counted,
 * last_error set) or TLSC_STOPPED. */
static int tcp_connect(struct ws_client *c, int64_t deadline)
{
	int r = tls_tcp_connect(&c->t, deadline, &c->stop, &c->fd, c->last_error, sizeof c->last_error);
	if (r == TLSC_OK || r == TLSC_STOPPED)
		return r;
	if (r == TLSC_RESOLVE)
		c->st.resolve_errors++;
	else
		c->st.tcp_errors++; /* refused, unreachable or timed out */
	return -1;
}

static int tls_handshake(struct ws_client *c, int64_t deadline)
{
	int r = tls_client_handshake(c->ssl_ctx, c->fd, &c->t, deadline, &c->stop, &c->ssl, c->last_error,
				     sizeof c->last_error);
	if (r == TLSC_OK || r == TLSC_STOPPED)
		return r;
	if (r == TLSC_TLS)
		c->st.tls_errors++;
	else
		c->st.handshake_timeouts++; /* timed out, or poll failed while waiting */
	return -1;
}

/* One SSL_read or SSL_write with a deadline: bytes (> 0), 0 on EOF, or a
 * TLSC_* status (TLSC_TLS already counted). */
static int ssl_io_deadline(struct ws_client *c, bool rd, void *buf, int len, int64_t deadline)
{
	int r = tls_io(c->ssl, c->fd, rd, buf, len, deadline, &c->stop, c->last_error, sizeof c->last_error);
	if (r == TLSC_TLS)
		c->st.tls_errors++;
	return r;
}

/* Header value of `name` in the response block, trimmed; NULL if absent.
 * hdr is NUL-terminated and its lines end with \r\n. */
static const char *find_header(const char *hdr, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *line = strstr(hdr, "\r\n");
	while (line && line[2] && !(line[2] == '\r' && line[3] == '\n')) {
		line += 2;
		const char *eol = strstr(line, "\r\n");
		if (!eol)
			return NULL;
		if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		line = eol;
	}
	return NULL;
}

/* Does a comma-separated header value hold the token (case-insensitive)? */
static bool has_token(const char *v, size_t vlen, const char *tok)
{
	size_t tl = strlen(tok), i = 0;
	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < vlen && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
	}
	return false;
}

int ws_accept_key(const char *key, size_t key_len, char out[29])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m && EVP_DigestInit_ex(m, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(m, key, key_len) == 1 &&
		 EVP_DigestUpdate(m, WS_GUID, sizeof WS_GUID - 1) == 1 &&
		 EVP_DigestFinal_ex(m, md, &mdlen) == 1 && mdlen == 20;
	EVP_MD_CTX_free(m);
	if (!ok)
		return -1;
	/* 20 bytes -> 28 base64 characters + NUL */
	return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28 ? 0 : -1;
}

static int http_upgrade(struct ws_client *c, int64_t deadline)
{
	unsigned char raw[16];
	char key[25], expect[29];
	if (RAND_bytes(raw, sizeof raw) != 1 || EVP_EncodeBlock((unsigned char *)key, raw, 16) != 24 ||
	    ws_accept_key(key, 24, expect) != 0) {
		c->st.tls_errors++;
		set_tls_error(c, "key generation");
		return -1;
	}
	size_t req_cap = strlen(c->path) + sizeof c->t.host_header + 256;
	char *req = malloc(req_cap);
	if (!req) {
		set_error(c, "out of memory");
		return -1;
	}
	int rl = snprintf(req, req_cap,
			  "GET %s HTTP/1.1\r\n"
			  "Host: %s\r\n"
			  "Upgrade: websocket\r\n"
			  "Connection: Upgrade\r\n"
			  "Sec-WebSocket-Key: %s\r\n"
			  "Sec-WebSocket-Version: 13\r\n"
			  "User-Agent: fks\r\n"
			  "\r\n",
			  c->path, c->t.host_header, key);
	int off = 0, r = 1;
	while (off < rl && r > 0) {
		r = ssl_io_deadline(c, false, req + off, rl - off, deadline);
		if (r > 0)
			off += r;
	}
	free(req);
	if (r <= 0) {
		if (r == TLSC_STOPPED)
			return TLSC_STOPPED;
		if (r == TLSC_TIMEOUT) {
			c->st.handshake_timeouts++;
			set_error(c, "handshake: timed out sending the upgrade request");
		} else if (r != TLSC_TLS) {
			c->st.handshake_errors++;
			set_error(c, "handshake: connection closed while sending the upgrade request");
		}
		return -1;
	}

	char resp[HTTP_RESPONSE_MAX + 1];
	size_t have = 0;
	char *hend = NULL;
	while (!hend) {
		if (have == HTTP_RESPONSE_MAX) {
			c->st.handshake_errors++;
			set_error(c, "handshake: response header longer than %d bytes", HTTP_RESPONSE_MAX);
			return -1;
		}
		r = ssl_io_deadline(c, true, resp + have, (int)(HTTP_RESPONSE_MAX - have), deadline);
		if (r <= 0) {
			if (r == TLSC_STOPPED)
				return TLSC_STOPPED;
			if (r == TLSC_TIMEOUT) {
				c->st.handshake_timeouts++;
				set_error(c, "handshake: timed out waiting for the upgrade response");
			} else if (r != TLSC_TLS) {
				c->st.handshake_errors++;
				set_error(c, "handshake: connection closed before the upgrade response");
			}
			return -1;
		}
		have += (size_t)r;
		resp[have] = 0;
		if (memchr(resp, 0, have)) {
			c->st.handshake_errors++;
			set_error(c, "handshake: NUL byte in the response header");
			return -1;
		}
		hend = strstr(resp, "\r\n\r\n");
	}
	size_t hlen = (size_t)(hend - resp) + 4;
	/* frames the server sent right behind the 101 go to wslay first */
	c->pend_len = have - hlen;
	c->pend_off = 0;
	memcpy(c->pend, resp + hlen, c->pend_len);
	hend[2] = 0; /* keep one \r\n after the last header line */

	if (strncmp(resp, "HTTP/1.1 101", 12) != 0 || (resp[12] != ' ' && resp[12] != '\r')) {
		char code[4] = "???";
		if (strncmp(resp, "HTTP/", 5) == 0 && strchr(resp, ' ')) {
			const char *s = strchr(resp, ' ') + 1;
			for (int i = 0; i < 3 && s[i] >= '0' && s[i] <= '9'; i++)
				code[i] = s[i];
		}
		c->st.handshake_errors++;
		set_error(c, "handshake: status %s instead of 101", code);
		return -1;
	}
	size_t vl;
	const char *v = find_header(resp, "Upgrade", &vl);
	if (!v || vl != 9 || strncasecmp(v, "websocket", 9) != 0) {
		c->st.handshake_errors++;
		set_error(c, "handshake: missing or bad Upgrade header");
		return -1;
	}
	v = find_header(resp, "Connection", &vl);
	if (!v || !has_token(v, vl, "upgrade")) {
		c->st.handshake_errors++;
		set_error(c, "handshake: missing or bad Connection header");
		return -1;
	}
	v = find_header(resp, "Sec-WebSocket-Accept", &vl);
	if (!v || vl != 28 || memcmp(v, expect, 28) != 0) {
		c->st.handshake_errors++;
		set_error(c, "handshake: %s Sec-WebSocket-Accept", v ? "bad" : "missing");
		return -1;
	}
	if (find_header(resp, "Sec-WebSocket-Extensions", &vl) || find_header(resp, "Sec-WebSocket-Protocol", &vl)) {
		c->st.handshake_errors++;
		set_error(c, "handshake: server chose an extension or subprotocol we did not offer");
		return -1;
	}
	return 0;
}

/* ---- wslay callbacks ---- */

static ssize_t cb_recv(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *ud)
{
	(void)flags;
	struct ws_client *c = ud;
	if (c->stop || c->want_reconnect) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (c->pend_off < c->pend_len) {
		size_t n = c->pend_len - c->pend_off;
		if (n > len)
			n = len;
		memcpy(buf, c->pend + c->pend_off, n);
		c->pend_off += n;
		c->last_read_ns = tls_mono_ns();
		return (ssize_t)n;
	}
	ERR_clear_error();
	errno = 0;
	int r = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0) {
		c->last_read_ns = tls_mono_ns();
		return r;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	case SSL_ERROR_WANT_WRITE:
		c->read_wants_write = true;
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		c->end = END_EOF;
		break;
	case SSL_ERROR_SYSCALL:
		c->end = errno ? END_IO : END_EOF;
		if (errno)
			set_error(c, "read: %s", strerror(errno));
		break;
	default:
		c->end = END_TLS;
		set_tls_error(c, "read");
		break;
	}
	wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t cb_send(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags, void *ud)
{
	(void)flags;
	struct ws_client *c = ud;
	ERR_clear_error();
	errno = 0;
	int r = SSL_write(c->ssl, data, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0)
		return r;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	case SSL_ERROR_WANT_READ:
		c->write_wants_read = true;
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		c->end = END_EOF;
		break;
	case SSL_ERROR_SYSCALL:
		c->end = errno ? END_IO : END_EOF;
		if (errno)
			set_error(c, "write: %s", strerror(errno));
		break;
	default:
		c->end = END_TLS;
		set_tls_error(c, "write");
		break;
	}
	wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int cb_genmask(wslay_event_context_ptr ws, uint8_t *buf, size_t len, void *ud)
{
	(void)ud;
	if (RAND_bytes(buf, (int)len) != 1) {
		wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void cb_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
	(void)ws;
	struct ws_client *c = ud;
	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME: {
		c->st.messages++;
		c->st.bytes += arg->msg_length;
		c->delivered_on_conn = true;
		c->backoff_k = 0; /* this venue connection worked: back-off starts over */
		int r = c->cfg.deliver(c->cfg.ctx, arg->msg, arg->msg_length, c->last_read_ns);
		if (r < 0)
			c->st.deliver_errors++;
		else if (r == WS_DELIVER_RECONNECT && !c->want_reconnect) {
			c->st.deliver_reconnects++;
			c->want_reconnect = true;
		}
		break;
	}
	case WSLAY_PING:
		c->st.pings_received++; /* wslay has already queued the pong */
		break;
	case WSLAY_PONG: {
		uint8_t want[8];
		for (int i = 0; i < 8; i++)
			want[i] = (uint8_t)(c->ping_seq >> (8 * (7 - i)));
		/* unsolicited pongs are legal and prove nothing about our ping */
		if (c->awaiting_pong && arg->msg_length == 8 && memcmp(arg->msg, want, 8) == 0) {
			c->st.pongs_received++;
			c->awaiting_pong = false;
		}
		break;
	}
	case WSLAY_CONNECTION_CLOSE:
		c->st.closes_received++;
		c->close_received = true;
		set_error(c, "server closed the websocket (status %u)", (unsigned)arg->status_code);
		break;
	default:
		break;
	}
}

/* ---- connect, serve ---- */

static void queue_subscribes(struct ws_client *c)
{
	for (size_t i = 0; i < c->cfg.n_subscribe; i++) {
		struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME,
					    .msg = (const uint8_t *)c->sub[i], .msg_length = c->sub_len[i]};
		if (wslay_event_queue_msg(c->ws, &m) == 0)
			c->st.subscribes_sent++;
	}
}

static void connect_once(struct ws_client *c)
{
	c->st.connect_attempts++;
	int64_t t0 = tls_mono_ns();
	int r = tcp_connect(c, t0 + (int64_t)c->cfg.connect_timeout_ms * NS_PER_MS);
	int64_t hs_deadline = tls_mono_ns() + (int64_t)c->cfg.handshake_timeout_ms * NS_PER_MS;
	if (r == 0)
		r = tls_handshake(c, hs_deadline);
	if (r == 0)
		r = http_upgrade(c, hs_deadline);
	if (r == 0) {
		struct wslay_event_callbacks cb = {
			.recv_callback = cb_recv,
			.send_callback = cb_send,
			.genmask_callback = cb_genmask,
			.on_msg_recv_callback = cb_msg,
		};
		if (wslay_event_context_client_init(&c->ws, &cb, c) != 0) {
			c->ws = NULL;
			set_error(c, "wslay: out of memory");
			r = -1;
		}
	}
	if (r == TLSC_STOPPED) {
		/* not a failure: try again as soon as we run again */
		conn_release(c);
		c->next_attempt_ns = 0;
		return;
	}
	if (r != 0) {
		conn_release(c);
		schedule_retry(c);
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, c->cfg.max_msg_size);
	int64_t now = tls_mono_ns();
	c->next_ping_ns = now + (int64_t)c->cfg.ping_interval_ms * NS_PER_MS;
	c->awaiting_pong = false;
	c->st.connects++;
	bool again = c->ever_opened;
	if (again)
		c->st.reconnects++;
	c->ever_opened = true;
	if (c->cfg.on_state)
		c->cfg.on_state(c->cfg.ctx, again ? WS_RECONNECTED : WS_CONNECTED);
	queue_subscribes(c);
}

/* The connection is going away: count why. */
static void classify_end(struct ws_client *c)
{
	if (c->end == END_TLS) {
		c->st.tls_errors++;
		return;
	}
	if (c->end == END_IO) {
		c->st.io_errors++;
		return;
	}
	if (c->close_received)
		return; /* orderly: the server said goodbye */
	if (c->end == END_EOF) {
		c->st.io_errors++;
		set_error(c, "connection closed by the server without a close frame");
		return;
	}
	/* wslay closed the connection on its own: its close code says why */
	if (wslay_event_get_close_sent(c->ws)) {
		uint16_t code = wslay_event_get_status_code_sent(c->ws);
		if (code == WSLAY_CODE_MESSAGE_TOO_BIG) {
			c->st.oversize++;
			set_error(c, "message longer than max_msg_size (%zu bytes)", c->cfg.max_msg_size);
		} else {
			c->st.protocol_errors++;
			set_error(c, "websocket protocol error (closed with %u)", (unsigned)code);
		}
		return;
	}
	c->st.protocol_errors++;
	set_error(c, "websocket closed without a reason");
}

static void conn_service(struct ws_client *c, int64_t end_ns)
{
	int64_t now = tls_mono_ns();
	if (c->cfg.ping_interval_ms > 0) {
		if (c->awaiting_pong && now >= c->pong_deadline_ns) {
			c->st.pong_timeouts++;
			set_error(c, "no pong within %d ms: connection declared dead", c->cfg.pong_timeout_ms);
			conn_drop(c);
			return;
		}
		if (!c->awaiting_pong && now >= c->next_ping_ns) {
			uint8_t payload[8];
			c->ping_seq++;
			for (int i = 0; i < 8; i++)
				payload[i] = (uint8_t)(c->ping_seq >> (8 * (7 - i)));
			struct wslay_event_msg m = {.opcode = WSLAY_PING, .msg = payload, .msg_length = 8};
			if (wslay_event_queue_msg(c->ws, &m) == 0) {
				c->st.pings_sent++;
				c->awaiting_pong = true;
				c->pong_deadline_ns = now + (int64_t)c->cfg.pong_timeout_ms * NS_PER_MS;
			}
			c->next_ping_ns = now + (int64_t)c->cfg.ping_interval_ms * NS_PER_MS;
		}
	}
	if (wslay_event_want_write(c->ws)) {
		c->write_wants_read = false;
		if (wslay_event_send(c->ws) != 0) {
			classify_end(c);
			conn_drop(c);
			return;
		}
	}
	bool want_read = wslay_event_want_read(c->ws), want_write = wslay_event_want_write(c->ws);
	if (!want_read && !want_write) {
		classify_end(c);
		conn_drop(c);
		return;
	}
	/* bytes already inside OpenSSL or behind the HTTP header never make
	 * the socket readable again: serve them without waiting */
	bool ready = want_read && (SSL_pending(c->ssl) > 0 || c->pend_off < c->pend_len);
	short ev = 0;
	if (want_read || c->write_wants_read)
		ev |= POLLIN;
	if ((want_write && !c->write_wants_read) || c->read_wants_write)
		ev |= POLLOUT;
	int64_t wake = end_ns;
	if (c->cfg.ping_interval_ms > 0) {
		int64_t t = c->awaiting_pong ? c->pong_deadline_ns : c->next_ping_ns;
		if (t < wake)
			wake = t;
	}
	struct pollfd p = {.fd = c->fd, .events = ev};
	int r = poll(&p, 1, ready ? 0 : ms_until(now, wake));
	if (r < 0)
		return; /* EINTR: the caller re-checks stop and the clock */
	if (want_read && (ready || (p.revents & (POLLIN | POLLHUP | POLLERR)) || (c->read_wants_write && (p.revents & POLLOUT)))) {
		c->read_wants_write = false;
		if (wslay_event_recv(c->ws) != 0) {
			classify_end(c);
			conn_drop(c);
			return;
		}
	}
	if (c->want_reconnect) {
		set_error(c, "reconnect requested by the decoder");
		conn_drop(c);
	}
}

int ws_client_run(struct ws_client *c, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? INT64_MAX : tls_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
	for (;;) {
		if (c->stop) {
			c->stop = 0;
			return WS_RUN_STOPPED;
		}
		int64_t now = tls_mono_ns();
		if (now >= end)
			return WS_RUN_TIMEOUT;
		if (c->ws) {
			conn_service(c, end);
			continue;
		}
		if (now < c->next_attempt_ns) {
			int64_t until = c->next_attempt_ns < end ? c->next_attempt_ns : end;
			poll(NULL, 0, ms_until(now, until));
			continue;
		}
		connect_once(c);
	}
}

void ws_client_stop(struct ws_client *c)
{
	c->stop = 1;
}

int ws_client_send_text(struct ws_client *c, const char *msg, size_t len)
{
	if (!c->ws)
		return -1;
	struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)msg, .msg_length = len};
	return wslay_event_queue_msg(c->ws, &m) == 0 ? 0 : -1;
}

bool ws_client_is_open(const struct ws_client *c)
{
	return c->ws != NULL;
}

const struct ws_stats *ws_client_stats(const struct ws_client *c)
{
	return &c->st;
}

#define STAT(f) {#f, offsetof(struct ws_stats, f)}
static const struct {
	const char *name;
	size_t off;
} stat_names[] = {
	STAT(connect_attempts), STAT(connects), STAT(reconnects), STAT(disconnects),
	STAT(messages), STAT(bytes), STAT(subscribes_sent), STAT(pings_sent),
	STAT(pongs_received), STAT(pings_received), STAT(closes_received), STAT(deliver_errors),
	STAT(deliver_reconnects), STAT(resolve_errors), STAT(tcp_errors), STAT(tls_errors),
	STAT(handshake_errors), STAT(handshake_timeouts), STAT(protocol_errors), STAT(oversize),
	STAT(pong_timeouts), STAT(io_errors),
};
_Static_assert(sizeof stat_names / sizeof stat_names[0] == WS_STATS_COUNT, "WS_STATS_COUNT");
_Static_assert(sizeof(struct ws_stats) == WS_STATS_COUNT * sizeof(uint64_t), "a counter has no name");

size_t ws_client_counters(const struct ws_client *c, struct named_counter *out, size_t cap)
{
	for (size_t i = 0; i < WS_STATS_COUNT && i < cap; i++) {
		out[i].name = stat_names[i].name;
		memcpy(&out[i].n, (const char *)&c->st + stat_names[i].off, sizeof out[i].n);
	}
	return WS_STATS_COUNT;
}

const char *ws_client_last_error(const struct ws_client *c)
{
	return c->last_error;
}

int64_t ws_client_last_backoff_ms(const struct ws_client *c)
{
	return c->last_backoff_ms;
}
