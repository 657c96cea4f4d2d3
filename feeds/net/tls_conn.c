/*
 * TCP + TLS client connection with a deadline; contract in tls_conn.h.
 */
#include "feeds/net/tls_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define NS_PER_MS 1000000ll

int64_t tls_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void tls_error_text(const SSL *ssl, const char *what, char *err, size_t errlen)
{
	char buf[160] = "";
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	else
		snprintf(buf, sizeof buf, "%s", errno ? strerror(errno) : "connection closed");
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (v != X509_V_OK)
		say(err, errlen, "tls: %s: %s (%s)", what, buf, X509_verify_cert_error_string(v));
	else
		say(err, errlen, "tls: %s: %s", what, buf);
	ERR_clear_error();
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		say(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		char buf[160];
		ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
		say(err, errlen, "loading trust anchors%s: %s", ca_file ? " from ca_file" : "", buf);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- URL ---- */

int tls_url_split(const char *url, const char *scheme, int default_port, struct tls_target *out, char *err,
		  size_t errlen)
{
	size_t n = strlen(url);
	if (n >= TLS_URL_MAX) {
		say(err, errlen, "url longer than %d bytes", TLS_URL_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch >= 0x7f) {
			say(err, errlen, "url contains a space or control character");
			return -1;
		}
	}
	size_t sl = strlen(scheme);
	if (strncasecmp(url, scheme, sl) != 0 || strncmp(url + sl, "://", 3) != 0) {
		say(err, errlen, "url must start with %s:// (TLS only)", scheme);
		return -1;
	}
	const char *p = url + sl + 3, *h, *he;
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (!he) {
			say(err, errlen, "url: unterminated [ipv6] host");
			return -1;
		}
		p = he + 1;
	} else {
		h = p;
		he = h + strcspn(h, ":/?");
		p = he;
	}
	if (he == h || (size_t)(he - h) >= TLS_HOST_MAX) {
		say(err, errlen, "url: empty or too long host");
		return -1;
	}
	memcpy(out->host, h, (size_t)(he - h));
	out->host[he - h] = 0;
	long port = default_port;
	if (*p == ':') {
		char *end;
		errno = 0;
		port = strtol(p + 1, &end, 10);
		if (end == p + 1 || errno || port < 1 || port > 65535 || (*end && *end != '/' && *end != '?')) {
			say(err, errlen, "url: bad port");
			return -1;
		}
		p = end;
	} else if (*p && *p != '/' && *p != '?') {
		say(err, errlen, "url: junk after host");
		return -1;
	}
	snprintf(out->port, sizeof out->port, "%u", (unsigned)(uint16_t)port); /* 1..65535 */
	unsigned char addr[16];
	out->host_is_ip = inet_pton(AF_INET, out->host, addr) == 1 || inet_pton(AF_INET6, out->host, addr) == 1;
	bool v6 = strchr(out->host, ':') != NULL;
	if (port == default_port)
		snprintf(out->host_header, sizeof out->host_header, v6 ? "[%s]" : "%s", out->host);
	else
		snprintf(out->host_header, sizeof out->host_header, v6 ? "[%s]:%ld" : "%s:%ld", out->host, port);
	out->path = p;
	return 0;
}

/* ---- waiting ---- */

int tls_wait_fd(int fd, short events, int64_t deadline_ns, const volatile sig_atomic_t *stop)
{
	for (;;) {
		if (stop && *stop)
			return TLSC_STOPPED;
		int64_t now = tls_mono_ns();
		if (now >= deadline_ns)
			return TLSC_TIMEOUT;
		/* rounded up, so a poll that times out is past the deadline (no
		 * 0 ms wake-up loop just before it) */
		int64_t ms = (deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS;
		struct pollfd p = {.fd = fd, .events = events};
		int k = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
		if (k > 0)
			return TLSC_OK;
		if (k < 0 && errno != EINTR)
			return TLSC_IO;
	}
}

/* ---- TCP ---- */

int tls_tcp_connect(const struct tls_target *t, int64_t deadline_ns, const volatile sig_atomic_t *stop, int *fd,
		    char *err, size_t errlen)
{
	*fd = -1;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = t->host_is_ip ? AI_NUMERICHOST : 0};
	struct addrinfo *res = NULL;
	int gr = getaddrinfo(t->host, t->port, &hints, &res);
	if (gr != 0) {
		say(err, errlen, "resolve %s: %s", t->host, gai_strerror(gr));
		return TLSC_RESOLVE;
	}
	int left = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next)
		left++;
	int last_errno = 0;
	bool timed_out = false; /* what ended the last attempt */
	for (struct addrinfo *a = res; a; a = a->ai_next, left--) {
		/* each remaining address gets a fair share of what is left */
		int64_t now = tls_mono_ns();
		if (now >= deadline_ns) {
			timed_out = true;
			break;
		}
		int64_t my_deadline = now + (deadline_ns - now) / left;
		int s = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (s < 0) {
			last_errno = errno;
			timed_out = false;
			continue;
		}
		int k = connect(s, a->ai_addr, a->ai_addrlen);
		timed_out = false;
		if (k != 0 && errno == EINPROGRESS) {
			int w = tls_wait_fd(s, POLLOUT, my_deadline, stop);
			if (w == TLSC_STOPPED) {
				close(s);
				freeaddrinfo(res);
				return TLSC_STOPPED;
			}
			if (w == TLSC_OK) {
				int soerr = 0;
				socklen_t sl = sizeof soerr;
				getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				k = soerr ? -1 : 0;
				errno = soerr;
			} else {
				timed_out = w == TLSC_TIMEOUT;
				k = -1;
				if (timed_out)
					errno = ETIMEDOUT;
			}
		}
		if (k == 0) {
			int one = 1;
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			freeaddrinfo(res);
			*fd = s;
			return TLSC_OK;
		}
		last_errno = errno;
		close(s);
	}
	freeaddrinfo(res);
	if (timed_out || !last_errno) {
		say(err, errlen, "tcp connect %s port %s: timed out", t->host, t->port);
		return TLSC_TIMEOUT;
	}
	say(err, errlen, "tcp connect %s port %s: %s", t->host, t->port, strerror(last_errno));
	return TLSC_TCP;
}

/* ---- TLS ---- */

/* Wait for what OpenSSL asked for after a call that returned k; TLSC_OK
 * to call again, or a status.  *e gets SSL_get_error's verdict. */
static int ssl_wait(SSL *ssl, int k, int fd, int64_t deadline_ns, const volatile sig_atomic_t *stop, int *e)
{
	*e = SSL_get_error(ssl, k);
	if (*e == SSL_ERROR_WANT_READ)
		return tls_wait_fd(fd, POLLIN, deadline_ns, stop);
	if (*e == SSL_ERROR_WANT_WRITE)
		return tls_wait_fd(fd, POLLOUT, deadline_ns, stop);
	return TLSC_TLS;
}

int tls_client_handshake(SSL_CTX *ctx, int fd, const struct tls_target *t, int64_t deadline_ns,
			 const volatile sig_atomic_t *stop, SSL **out, char *err, size_t errlen)
{
	*out = NULL;
	SSL *ssl = SSL_new(ctx);
	int rc = TLSC_TLS;
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		tls_error_text(ssl, "setup", err, errlen);
		goto fail;
	}
	int ok;
	if (t->host_is_ip) /* RFC 6066: no IP literals in SNI; match the certificate's IP SAN */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->host);
	else
		ok = SSL_set_tlsext_host_name(ssl, t->host) == 1 && SSL_set1_host(ssl, t->host) == 1;
	if (ok != 1) {
		tls_error_text(ssl, "setting the expected host", err, errlen);
		goto fail;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int k = SSL_connect(ssl);
		if (k == 1) {
			*out = ssl;
			return TLSC_OK;
		}
		int e;
		rc = ssl_wait(ssl, k, fd, deadline_ns, stop, &e);
		if (rc == TLSC_OK)
			continue;
		if (rc == TLSC_TLS)
			tls_error_text(ssl, "handshake", err, errlen);
		else if (rc == TLSC_TIMEOUT)
			say(err, errlen, "tls: handshake timed out");
		else if (rc == TLSC_IO)
			say(err, errlen, "tls: poll: %s", strerror(errno));
		goto fail;
	}
fail:
	SSL_free(ssl);
	ERR_clear_error();
	return rc;
}

int tls_io(SSL *ssl, int fd, bool rd, void *buf, int len, int64_t deadline_ns, const volatile sig_atomic_t *stop,
	   char *err, size_t errlen)
{
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int k = rd ? SSL_read(ssl, buf, len) : SSL_write(ssl, buf, len);
		if (k > 0)
			return k;
		int e;
		int rc = ssl_wait(ssl, k, fd, deadline_ns, stop, &e);
		if (rc == TLSC_OK)
			continue;
		if (rc == TLSC_TIMEOUT) {
			say(err, errlen, "%s timed out", rd ? "read" : "write");
			return rc;
		}
		if (rc == TLSC_IO) {
			say(err, errlen, "poll: %s", strerror(errno));
			return rc;
		}
		if (rc == TLSC_STOPPED)
			return rc;
		/* the peer's end, with or without close_notify, is an EOF: the
		 * caller's framing says whether anything was missing */
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 0;
		}
		if (e == SSL_ERROR_SYSCALL && errno == 0)
			return 0;
		tls_error_text(ssl, rd ? "read" : "write", err, errlen);
		return TLSC_TLS;
	}
}
