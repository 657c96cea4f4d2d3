/*
 * Blocking HTTPS GET with one deadline per request; contract in https_get.h.
 */
#include "feeds/net/https_get.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "feeds/net/tls_conn.h"

#define RBUF 16384
#define NS_PER_MS 1000000ll

struct https_client {
	SSL_CTX *ctx;
	int timeout_ms;
	size_t max_body;
	char *body;
	size_t body_cap;
	struct https_stats st;
	char last_error[HTTPS_ERROR_MAX];
};

/* One request in flight. */
struct req {
	struct https_client *c;
	struct tls_target t;    /* t.path: "/...", "?..." or "" (then "/" is sent) */
	bool path_is_query;     /* path starts with '?' */
	int fd;
	SSL *ssl;
	int64_t deadline;
	unsigned char rbuf[RBUF];
	size_t roff, rlen;
	char hdr[HTTPS_HEADER_MAX + 1];
	size_t hdr_len;
};

static void set_error(struct https_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct https_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
	va_end(ap);
}

/* Count a failure under its reason and return it. */
static int fail(struct https_client *c, int status)
{
	struct https_stats *s = &c->st;
	switch (status) {
	case HTTPS_E_URL: s->url_errors++; break;
	case HTTPS_E_RESOLVE: s->resolve_errors++; break;
	case HTTPS_E_TCP: s->tcp_errors++; break;
	case HTTPS_E_TLS: s->tls_errors++; break;
	case HTTPS_E_TIMEOUT: s->timeouts++; break;
	case HTTPS_E_IO: s->io_errors++; break;
	case HTTPS_E_PROTOCOL: s->protocol_errors++; break;
	case HTTPS_E_FRAMING: s->framing_errors++; break;
	case HTTPS_E_STATUS: s->status_errors++; break;
	case HTTPS_E_OVERSIZE: s->oversize++; break;
	default: s->nomem++; break;
	}
	return status;
}

const char *https_strerror(int status)
{
	switch (status) {
	case HTTPS_OK: return "ok";
	case HTTPS_E_URL: return "bad url";
	case HTTPS_E_RESOLVE: return "name resolution failed";
	case HTTPS_E_TCP: return "tcp connect failed";
	case HTTPS_E_TLS: return "tls failure";
	case HTTPS_E_TIMEOUT: return "timed out";
	case HTTPS_E_IO: return "i/o error or early eof";
	case HTTPS_E_PROTOCOL: return "malformed http response";
	case HTTPS_E_FRAMING: return "unsupported body framing";
	case HTTPS_E_STATUS: return "http status not 200";
	case HTTPS_E_OVERSIZE: return "response too large";
	case HTTPS_E_NOMEM: return "out of memory";
	default: return "unknown";
	}
}

/* ---- lifecycle ---- */

struct https_client *https_client_new(const struct https_config *cfg, char *err, size_t errlen)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	struct https_client *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->timeout_ms = cfg && cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
	c->max_body = cfg && cfg->max_body ? cfg->max_body : 8u << 20;
	c->ctx = tls_client_ctx_new(cfg ? cfg->ca_file : NULL, err, errlen);
	if (!c->ctx)
		goto bad;
	return c;
bad:
	https_client_free(c);
	return NULL;
}

void https_client_free(struct https_client *c)
{
	if (!c)
		return;
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	free(c->body);
	free(c);
}

const struct https_stats *https_client_stats(const struct https_client *c) { return &c->st; }
const char *https_client_last_error(const struct https_client *c) { return c->last_error; }

size_t https_client_counters(const struct https_client *c, struct named_counter *out, size_t cap)
{
	const struct https_stats *s = &c->st;
	const struct named_counter all[HTTPS_STATS_COUNT] = {
		{ "https_requests", s->requests },          { "https_ok", s->ok },
		{ "https_body_bytes", s->body_bytes },      { "https_url_errors", s->url_errors },
		{ "https_resolve_errors", s->resolve_errors }, { "https_tcp_errors", s->tcp_errors },
		{ "https_tls_errors", s->tls_errors },      { "https_timeouts", s->timeouts },
		{ "https_io_errors", s->io_errors },        { "https_protocol_errors", s->protocol_errors },
		{ "https_framing_errors", s->framing_errors }, { "https_status_errors", s->status_errors },
		{ "https_oversize", s->oversize },          { "https_nomem", s->nomem },
	};
	for (size_t i = 0; i < HTTPS_STATS_COUNT && i < cap; i++)
		out[i] = all[i];
	return HTTPS_STATS_COUNT;
}

/* ---- URL ---- */

_Static_assert(HTTPS_URL_MAX == TLS_URL_MAX, "one URL limit for both clients");

static int parse_url(struct req *r, const char *url)
{
	if (tls_url_split(url, "https", 443, &r->t, NULL, 0) != 0)
		return -1;
	r->path_is_query = *r->t.path == '?';
	return 0;
}

/* ---- I/O with the request's deadline ---- */

/* The shared connection's statuses as ours. */
static int from_tls(int status)
{
	switch (status) {
	case TLSC_OK: return HTTPS_OK;
	case TLSC_RESOLVE: return HTTPS_E_RESOLVE;
	case TLSC_TCP: return HTTPS_E_TCP;
	case TLSC_TIMEOUT: return HTTPS_E_TIMEOUT;
	case TLSC_TLS: return HTTPS_E_TLS;
	default: return HTTPS_E_IO; /* TLSC_IO; no stop flag here */
	}
}

static int connect_tls(struct req *r)
{
	struct https_client *c = r->c;
	int rc = tls_tcp_connect(&r->t, r->deadline, NULL, &r->fd, c->last_error, sizeof c->last_error);
	if (rc == TLSC_OK)
		rc = tls_client_handshake(c->ctx, r->fd, &r->t, r->deadline, NULL, &r->ssl, c->last_error,
					  sizeof c->last_error);
	return from_tls(rc);
}

/* One SSL_read/SSL_write: bytes (> 0), 0 on EOF, or a negative status. */
static int ssl_io(struct req *r, bool rd, void *buf, int len)
{
	int k = tls_io(r->ssl, r->fd, rd, buf, len, r->deadline, NULL, r->c->last_error, sizeof r->c->last_error);
	return k >= 0 ? k : from_tls(k);
}

/* Refill rbuf; 1 on data, 0 on EOF, < 0 a status. */
static int fill(struct req *r)
{
	r->roff = 0;
	r->rlen = 0;
	int k = ssl_io(r, true, r->rbuf, (int)sizeof r->rbuf);
	if (k > 0)
		r->rlen = (size_t)k;
	return k > 0 ? 1 : k;
}

static int early_eof(struct req *r, const char *where)
{
	set_error(r->c, "connection closed in the %s", where);
	return HTTPS_E_IO;
}

/* ---- response ---- */

/* Read until the blank line that ends the header block; the bytes after it
 * stay in rbuf. */
static int read_header(struct req *r)
{
	for (;;) {
		while (r->roff < r->rlen) {
			if (r->hdr_len == HTTPS_HEADER_MAX) {
				set_error(r->c, "response header block over %d bytes", HTTPS_HEADER_MAX);
				return HTTPS_E_OVERSIZE;
			}
			r->hdr[r->hdr_len++] = (char)r->rbuf[r->roff++];
			if (r->hdr_len >= 4 && !memcmp(r->hdr + r->hdr_len - 4, "\r\n\r\n", 4)) {
				r->hdr[r->hdr_len] = 0;
				return 0;
			}
		}
		int k = fill(r);
		if (k == 0)
			return r->hdr_len ? early_eof(r, "response header") : early_eof(r, "status line");
		if (k < 0)
			return k;
	}
}

/* The value of header name (case-insensitive), trimmed; NULL if absent.
 * A second occurrence is reported through *dup. */
static const char *find_header(const char *hdr, const char *name, size_t *vlen, bool *dup)
{
	size_t nl = strlen(name);
	const char *found = NULL;
	*dup = false;
	const char *line = strstr(hdr, "\r\n");
	while (line && !(line[2] == '\r' && line[3] == '\n')) {
		line += 2;
		const char *eol = strstr(line, "\r\n");
		if (!eol)
			break;
		if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (found)
				*dup = true;
			else {
				found = v;
				*vlen = (size_t)(ve - v);
			}
		}
		line = eol;
	}
	return found;
}

static int body_reserve(struct req *r, size_t need)
{
	struct https_client *c = r->c;
	if (need + 1 <= c->body_cap)
		return 0;
	size_t cap = c->body_cap ? c->body_cap : 65536;
	while (cap < need + 1)
		cap *= 2;
	if (cap > c->max_body + 1)
		cap = c->max_body + 1;
	char *b = realloc(c->body, cap);
	if (!b) {
		set_error(c, "out of memory for a %zu-byte body", need);
		return HTTPS_E_NOMEM;
	}
	c->body = b;
	c->body_cap = cap;
	return 0;
}

/* Append exactly n body bytes from the stream. */
static int read_exact(struct req *r, size_t *len, size_t n, const char *where)
{
	struct https_client *c = r->c;
	if (n > c->max_body - *len) {
		set_error(c, "body over max_body (%zu bytes)", c->max_body);
		return HTTPS_E_OVERSIZE;
	}
	int rc = body_reserve(r, *len + n);
	if (rc)
		return rc;
	while (n) {
		if (r->roff == r->rlen) {
			int k = fill(r);
			if (k == 0)
				return early_eof(r, where);
			if (k < 0)
				return k;
		}
		size_t take = r->rlen - r->roff < n ? r->rlen - r->roff : n;
		memcpy(c->body + *len, r->rbuf + r->roff, take);
		r->roff += take;
		*len += take;
		n -= take;
	}
	return 0;
}

/* One CRLF-terminated line of the chunked framing into line (NUL-ended). */
static int read_line(struct req *r, char *line, size_t cap)
{
	size_t n = 0;
	for (;;) {
		if (r->roff == r->rlen) {
			int k = fill(r);
			if (k == 0)
				return early_eof(r, "chunked body");
			if (k < 0)
				return k;
		}
		char ch = (char)r->rbuf[r->roff++];
		if (ch == '\n') {
			if (!n || line[n - 1] != '\r') {
				set_error(r->c, "chunked body: bare LF");
				return HTTPS_E_PROTOCOL;
			}
			line[n - 1] = 0;
			return 0;
		}
		if (n + 1 >= cap) {
			set_error(r->c, "chunked body: line over %zu bytes", cap);
			return HTTPS_E_PROTOCOL;
		}
		line[n++] = ch;
	}
}

static int read_chunked(struct req *r, size_t *len)
{
	char line[1024];
	for (;;) {
		int rc = read_line(r, line, sizeof line);
		if (rc)
			return rc;
		/* chunk-size [; extensions]: hex digits only, at most 15 of them
		 * so the value cannot overflow */
		size_t n = 0, digits = 0;
		const char *p = line;
		for (; *p; p++, digits++) {
			int d = *p >= '0' && *p <= '9' ? *p - '0'
				: (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f' ? (*p | 0x20) - 'a' + 10 : -1;
			if (d < 0)
				break;
			if (digits == 15) {
				set_error(r->c, "chunked body: chunk size too long");
				return HTTPS_E_PROTOCOL;
			}
			n = n * 16 + (size_t)d;
		}
		if (!digits || (*p && *p != ';' && *p != ' ' && *p != '\t')) {
			set_error(r->c, "chunked body: bad chunk size line");
			return HTTPS_E_PROTOCOL;
		}
		if (n == 0)
			break;
		rc = read_exact(r, len, n, "chunked body");
		if (rc)
			return rc;
		rc = read_line(r, line, sizeof line);
		if (rc)
			return rc;
		if (line[0]) {
			set_error(r->c, "chunked body: data longer than its chunk size");
			return HTTPS_E_PROTOCOL;
		}
	}
	/* trailer fields, ignored, up to the blank line */
	for (int i = 0; i < 64; i++) {
		int rc = read_line(r, line, sizeof line);
		if (rc)
			return rc;
		if (!line[0])
			return 0;
	}
	set_error(r->c, "chunked body: too many trailer lines");
	return HTTPS_E_PROTOCOL;
}

static int read_response(struct req *r, struct https_response *resp)
{
	int rc = read_header(r);
	if (rc)
		return rc;
	/* status line: HTTP/1.x SP 3DIGIT SP reason */
	const char *h = r->hdr;
	if (strncmp(h, "HTTP/1.", 7) || (h[7] != '0' && h[7] != '1') || h[8] != ' ' || h[9] < '1' || h[9] > '5' ||
	    h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9' || (h[12] != ' ' && h[12] != '\r')) {
		set_error(r->c, "malformed status line");
		return HTTPS_E_PROTOCOL;
	}
	resp->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	if (resp->status < 200) {
		set_error(r->c, "interim status %d not supported", resp->status);
		return HTTPS_E_FRAMING;
	}
	if (resp->status != 200) {
		set_error(r->c, "http status %d", resp->status);
		return HTTPS_E_STATUS;
	}
	size_t vl = 0;
	bool dup = false;
	const char *v = find_header(h, "Content-Encoding", &vl, &dup);
	if (v && !(vl == 8 && !strncasecmp(v, "identity", 8))) {
		set_error(r->c, "Content-Encoding %.*s not supported", (int)(vl < 32 ? vl : 32), v);
		return HTTPS_E_FRAMING;
	}
	size_t len = 0;
	v = find_header(h, "Transfer-Encoding", &vl, &dup);
	if (v) {
		if (dup || vl != 7 || strncasecmp(v, "chunked", 7)) {
			set_error(r->c, "Transfer-Encoding other than chunked");
			return HTTPS_E_FRAMING;
		}
		rc = read_chunked(r, &len);
	} else {
		v = find_header(h, "Content-Length", &vl, &dup);
		if (!v) {
			set_error(r->c, "no Content-Length and not chunked");
			return HTTPS_E_FRAMING;
		}
		uint64_t n = 0;
		if (dup || vl == 0 || vl > 18) {
			set_error(r->c, "bad Content-Length");
			return HTTPS_E_PROTOCOL;
		}
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9') {
				set_error(r->c, "bad Content-Length");
				return HTTPS_E_PROTOCOL;
			}
			n = n * 10 + (uint64_t)(v[i] - '0');
		}
		if (n > r->c->max_body) {
			set_error(r->c, "Content-Length %llu over max_body (%zu bytes)", (unsigned long long)n,
				  r->c->max_body);
			return HTTPS_E_OVERSIZE;
		}
		rc = read_exact(r, &len, (size_t)n, "body");
	}
	if (rc)
		return rc;
	rc = body_reserve(r, len);
	if (rc)
		return rc;
	r->c->body[len] = 0;
	resp->body = r->c->body;
	resp->len = len;
	return 0;
}

static int send_request(struct req *r)
{
	char buf[HTTPS_URL_MAX + TLS_HOST_MAX + 256];
	int n = snprintf(buf, sizeof buf,
			 "GET %s%s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: fks\r\n"
			 "Accept: application/json\r\n"
			 "Connection: close\r\n"
			 "\r\n",
			 *r->t.path && !r->path_is_query ? "" : "/", r->t.path, r->t.host_header);
	if (n < 0 || (size_t)n >= sizeof buf) {
		set_error(r->c, "request too long");
		return HTTPS_E_URL;
	}
	size_t off = 0;
	while (off < (size_t)n) {
		int k = ssl_io(r, false, buf + off, n - (int)off);
		if (k == 0)
			return early_eof(r, "request");
		if (k < 0)
			return k;
		off += (size_t)k;
	}
	return 0;
}

int https_get(struct https_client *c, const char *url, struct https_response *resp)
{
	c->st.requests++;
	c->last_error[0] = 0;
	resp->status = 0;
	resp->body = NULL;
	resp->len = 0;
	struct req *r = malloc(sizeof *r); /* ~32 KiB of buffers: not on the stack */
	if (!r) {
		set_error(c, "out of memory");
		return fail(c, HTTPS_E_NOMEM);
	}
	r->c = c;
	r->fd = -1;
	r->ssl = NULL;
	r->roff = r->rlen = r->hdr_len = 0;
	r->deadline = tls_mono_ns() + (int64_t)c->timeout_ms * NS_PER_MS;
	int rc;
	if (!url || parse_url(r, url)) {
		set_error(c, "url must be https://host[:port][/path] without spaces or control characters");
		rc = HTTPS_E_URL;
	} else if (!(rc = connect_tls(r)) && !(rc = send_request(r))) {
		rc = read_response(r, resp);
	}
	if (r->ssl) {
		SSL_free(r->ssl); /* no close_notify exchange: Connection: close */
	}
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	ERR_clear_error();
	if (rc)
		return fail(c, rc);
	c->st.ok++;
	c->st.body_bytes += resp->len;
	return HTTPS_OK;
}
