#include "gateway/venues/fix44/fix_session.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MS 1000000LL
#define SEC 1000000000LL
#define CONNECT_TIMEOUT_NS (5 * SEC)
#define RECHECK_NS MS          /* connect in progress, or bytes waiting to go */

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int64_t hb_ns(const struct fix_session *s)
{
	return (int64_t)s->cfg.heartbeat_s * SEC;
}

void fix_session_init(struct fix_session *s, const struct fix_session_cfg *cfg, fix_app_fn on_app, void *ctx)
{
	memset(s, 0, offsetof(struct fix_session, msg));
	s->cfg = *cfg;
	s->fd = -1;
	s->on_app = on_app;
	s->app_ctx = ctx;
	s->backoff_ns = FIX_RECONNECT_MIN_NS;
}

bool fix_session_active(const struct fix_session *s)
{
	return s->state == FIX_ST_ACTIVE;
}

bool fix_session_take_lost(struct fix_session *s)
{
	bool lost = s->lost;
	s->lost = false;
	return lost;
}

int fix_session_fd(const struct fix_session *s)
{
	return s->state == FIX_ST_DOWN || s->state == FIX_ST_FAILED ? -1 : s->fd;
}

/* ---- the connection ------------------------------------------------------- */

static void drop(struct fix_session *s, enum fix_drop_reason why, int64_t now)
{
	if (s->ssl)
		SSL_free(s->ssl);
	s->ssl = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (!s->closing && (s->state == FIX_ST_ACTIVE || s->state == FIX_ST_LOGOUT_SENT)) {
		s->lost = true;
		s->c.losses++;
	}
	s->c.drops[why]++;
	s->state = FIX_ST_DOWN;
	s->in_len = s->out_len = 0;
	s->resend_until = 0;
	s->test_request_ns = 0;
	s->next_connect_ns = now + s->backoff_ns;
	s->backoff_ns = s->backoff_ns * 2 > FIX_RECONNECT_MAX_NS ? FIX_RECONNECT_MAX_NS : s->backoff_ns * 2;
	fix_store_sync(&s->store);
}

/* Bytes moved (> 0), 0 when the socket would block, -1 when the
 * connection is gone (closed, or a socket or TLS error). */
static ssize_t io_send(struct fix_session *s, const char *p, size_t n)
{
	if (s->ssl) {
		int rc = SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		int e = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, rc);
		return rc > 0 ? rc : e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
	}
	for (;;) {
		ssize_t rc = send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc > 0 ? rc : rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	}
}

static ssize_t io_recv(struct fix_session *s, char *p, size_t n)
{
	if (s->ssl) {
		int rc = SSL_read(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		int e = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, rc);
		return rc > 0 ? rc : e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
	}
	for (;;) {
		ssize_t rc = recv(s->fd, p, n, MSG_DONTWAIT);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc > 0 ? rc : rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	}
}

/* Bytes still waiting in out: as many as the socket takes now. */
static void flush_out(struct fix_session *s, int64_t now)
{
	size_t done = 0;
	while (done < s->out_len) {
		ssize_t n = io_send(s, s->out + done, s->out_len - done);
		if (n == 0)
			break;
		if (n < 0) {
			drop(s, s->ssl ? FIX_DROP_TLS : FIX_DROP_PEER_CLOSED, now);
			return;
		}
		done += (size_t)n;
	}
	memmove(s->out, s->out + done, s->out_len - done);
	s->out_len -= done;
}

/* One whole message to the socket, or queued behind what is waiting. */
static void write_msg(struct fix_session *s, const char *msg, size_t n, int64_t now)
{
	if (s->fd < 0)
		return;
	if (n > sizeof s->out - s->out_len) {
		drop(s, FIX_DROP_OUT_FULL, now);
		return;
	}
	memcpy(s->out + s->out_len, msg, n);
	s->out_len += n;
	s->last_out_ns = now;
	s->c.sent++;
	flush_out(s, now);
}

/* The standard header of a message numbered seq. */
static void header(struct fix_session *s, struct fix_writer *w, const char *type, uint64_t seq, int64_t sending_ns)
{
	fix_w_begin(w, s->scratch, sizeof s->scratch, type);
	fix_w_str(w, 49, s->cfg.sender);
	fix_w_str(w, 56, s->cfg.target);
	fix_w_u64(w, 34, seq);
	fix_w_time(w, 52, sending_ns);
}

/* Close and send a message numbered next_out, and count it used. */
static void send_numbered(struct fix_session *s, struct fix_writer *w, int64_t now)
{
	const char *msg;
	size_t n = fix_w_end(w, &msg);
	if (n == 0)
		return;
	s->store.f->next_out++;
	write_msg(s, msg, n, now);
}

static struct fix_writer *admin(struct fix_session *s, struct fix_writer *w, const char *type)
{
	header(s, w, type, s->store.f->next_out, real_ns());
	return w;
}

static void send_logon(struct fix_session *s, int64_t now)
{
	struct fix_writer w;
	if (s->cfg.reset_seq)
		fix_store_reset(&s->store);
	admin(s, &w, "A");
	fix_w_char(&w, 98, '0');
	fix_w_u64(&w, 108, s->cfg.heartbeat_s);
	if (s->cfg.reset_seq)
		fix_w_char(&w, 141, 'Y');
	s->state = FIX_ST_LOGON_SENT;
	s->logon_sent_ns = now;
	s->last_in_ns = now;
	send_numbered(s, &w, now);
}

static void send_logout(struct fix_session *s, const char *text, int64_t now)
{
	struct fix_writer w;
	admin(s, &w, "5");
	if (text)
		fix_w_str(&w, 58, text);
	send_numbered(s, &w, now);
	if (s->state != FIX_ST_DOWN)
		s->state = FIX_ST_LOGOUT_SENT;
}

/* TLS: the handshake, one step at a time; the Logon once it is done. */
static void tls_step(struct fix_session *s, int64_t now)
{
	int rc = SSL_do_handshake(s->ssl);
	if (rc == 1) {
		send_logon(s, now);
		return;
	}
	int e = SSL_get_error(s->ssl, rc);
	ERR_clear_error();
	if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || now - s->logon_sent_ns >= CONNECT_TIMEOUT_NS)
		drop(s, FIX_DROP_TLS, now);
}

static void tls_start(struct fix_session *s, int64_t now)
{
	unsigned char ip[16];
	bool literal = inet_pton(AF_INET, s->cfg.host, ip) == 1 || inet_pton(AF_INET6, s->cfg.host, ip) == 1;
	s->ssl = SSL_new(s->tls_ctx);
	if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1 ||
	    (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), s->cfg.host) != 1
		     : SSL_set1_host(s->ssl, s->cfg.host) != 1 || SSL_set_tlsext_host_name(s->ssl, s->cfg.host) != 1)) {
		drop(s, FIX_DROP_TLS, now);
		return;
	}
	SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_connect_state(s->ssl);
	s->state = FIX_ST_TLS;
	tls_step(s, now);
}

/* TCP is up: TLS first if configured, then the Logon. */
static void connected(struct fix_session *s, int64_t now)
{
	if (s->cfg.tls)
		tls_start(s, now);
	else
		send_logon(s, now);
}

static int tls_setup(struct fix_session *s)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    (s->cfg.tls_ca[0] ? SSL_CTX_load_verify_locations(ctx, s->cfg.tls_ca, NULL)
			      : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(s->store_err, sizeof s->store_err, "tls: loading trust anchors %.80s: %.40s",
			 s->cfg.tls_ca[0] ? s->cfg.tls_ca : "(system)", ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	s->tls_ctx = ctx;
	return 0;
}

static int resolve(const struct fix_session *s, struct sockaddr_storage *sa, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	char port[8];
	snprintf(port, sizeof port, "%u", s->cfg.port);
	/* A literal first: no resolver on the order path. */
	hints.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(s->cfg.host, port, &hints, &ai) != 0) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		if (getaddrinfo(s->cfg.host, port, &hints, &ai) != 0)
			return -1;
	}
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void connect_start(struct fix_session *s, int64_t now)
{
	struct sockaddr_storage sa;
	socklen_t len;
	s->c.connects++;
	if (resolve(s, &sa, &len) != 0) {
		drop(s, FIX_DROP_CONNECT, now);
		return;
	}
	s->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		drop(s, FIX_DROP_CONNECT, now);
		return;
	}
	int one = 1;
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->state = FIX_ST_CONNECTING;
	s->logon_sent_ns = now;    /* the connect's start, for its timeout */
	if (connect(s->fd, (struct sockaddr *)&sa, len) == 0)
		connected(s, now);
	else if (errno != EINPROGRESS)
		drop(s, FIX_DROP_CONNECT, now);
}

static void connect_check(struct fix_session *s, int64_t now)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	if (poll(&p, 1, 0) == 0) {
		if (now - s->logon_sent_ns >= CONNECT_TIMEOUT_NS)
			drop(s, FIX_DROP_CONNECT, now);
		return;
	}
	int err = 0;
	socklen_t el = sizeof err;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
		drop(s, FIX_DROP_CONNECT, now);
	else
		connected(s, now);
}

/* ---- resends ----------------------------------------------------------------- */

static void gap_fill(struct fix_session *s, uint64_t from, uint64_t to_next, int64_t now)
{
	struct fix_writer w;
	header(s, &w, "4", from, real_ns());
	fix_w_char(&w, 43, 'Y');
	fix_w_time(&w, 122, real_ns());
	fix_w_char(&w, 123, 'Y');
	fix_w_u64(&w, 36, to_next);
	const char *msg;
	size_t n = fix_w_end(&w, &msg);
	s->c.gap_fills_sent++;
	write_msg(s, msg, n, now);
}

static void resend_one(struct fix_session *s, const struct fix_store_slot *sl, int64_t now)
{
	struct fix_writer w;
	header(s, &w, sl->type, sl->seq, real_ns());
	fix_w_char(&w, 43, 'Y');
	fix_w_time(&w, 122, sl->sending_time_ns);
	fix_w_raw(&w, sl->body, sl->len);
	const char *msg;
	size_t n = fix_w_end(&w, &msg);
	s->c.resent++;
	write_msg(s, msg, n, now);
}

/* A ResendRequest for [begin, end] (end 0: everything sent). */
static void on_resend_request(struct fix_session *s, const struct fix_msg *m, int64_t now)
{
	uint64_t begin = 0, end = 0, last = s->store.f->next_out - 1;
	s->c.resend_requests_received++;
	if (!fix_get_u64(m, 7, &begin) || !fix_get_u64(m, 16, &end) || begin == 0)
		return;
	if (end == 0 || end > last)
		end = last;
	uint64_t gap = 0;               /* the first seq of a run to gap-fill; 0: none */
	for (uint64_t q = begin; q <= end && s->fd >= 0; q++) {
		const struct fix_store_slot *sl = fix_store_get(&s->store, q);
		if (!sl) {
			if (!gap)
				gap = q;
			continue;
		}
		if (gap)
			gap_fill(s, gap, q, now);
		gap = 0;
		resend_one(s, sl, now);
	}
	if (gap && s->fd >= 0)
		gap_fill(s, gap, end + 1, now);
}

static void request_resend(struct fix_session *s, uint64_t upto, int64_t now)
{
	if (s->resend_until >= s->store.f->next_in)
		return;                  /* one is out already */
	struct fix_writer w;
	admin(s, &w, "2");
	fix_w_u64(&w, 7, s->store.f->next_in);
	fix_w_u64(&w, 16, 0);
	s->resend_until = upto;
	s->c.resend_requests_sent++;
	send_numbered(s, &w, now);
}

/* ---- incoming ------------------------------------------------------------------- */

static bool possdup(const struct fix_msg *m)
{
	return fix_get_char(m, 43) == 'Y';
}

static void on_logout(struct fix_session *s, int64_t now)
{
	if (s->state != FIX_ST_LOGOUT_SENT)
		send_logout(s, NULL, now);
	if (s->fd >= 0)
		flush_out(s, now);
	drop(s, FIX_DROP_LOGOUT, now);
}

/* A message whose number is the expected one (or admin that ignores it). */
static void dispatch(struct fix_session *s, const struct fix_msg *m, int64_t now)
{
	struct fix_writer w;
	const struct fix_field *id;
	uint64_t next;

	switch (m->type[1] ? 0 : m->type[0]) {
	case 'A':
		s->state = FIX_ST_ACTIVE;
		s->c.logons++;
		s->backoff_ns = FIX_RECONNECT_MIN_NS;
		fix_store_sync(&s->store);
		break;
	case '0':
		break;
	case '1':
		id = fix_get(m, 112);
		admin(s, &w, "0");
		fix_w_strn(&w, 112, id->val, id->len);
		send_numbered(s, &w, now);
		break;
	case '2':
		on_resend_request(s, m, now);
		break;
	case '4':
		if (fix_get_u64(m, 36, &next) && next > s->store.f->next_in)
			s->store.f->next_in = next;
		s->c.gap_fills_received++;
		break;
	case '5':
		on_logout(s, now);
		break;
	case '3':
		s->c.rejects_received++;
		/* the venue learns which of its messages it was */
		__attribute__((fallthrough));
	default:
		if (s->on_app)
			s->on_app(s->app_ctx, m);
		break;
	}
}

/* Not a session message: for the venue. */
static bool is_app(const struct fix_msg *m)
{
	return m->type[1] || !strchr("0123456A", m->type[0]);
}

static bool comp_ids_ok(const struct fix_session *s, const struct fix_msg *m)
{
	return fix_field_is(fix_get(m, 49), s->cfg.target) && fix_field_is(fix_get(m, 56), s->cfg.sender);
}

static void on_message(struct fix_session *s, const struct fix_msg *m, int64_t now)
{
	uint64_t *next_in = &s->store.f->next_in, next;
	bool logon = strcmp(m->type, "A") == 0;

	s->c.received++;
	s->last_in_ns = now;
	s->test_request_ns = 0;
	if (!comp_ids_ok(s, m)) {
		drop(s, FIX_DROP_BAD_COMP_ID, now);
		return;
	}
	if (s->state == FIX_ST_LOGON_SENT && !logon) {
		drop(s, strcmp(m->type, "5") == 0 ? FIX_DROP_LOGOUT : FIX_DROP_LOGON_REFUSED, now);
		return;
	}
	/* SequenceReset-Reset moves next_in whatever the number says. */
	if (strcmp(m->type, "4") == 0 && fix_get_char(m, 123) != 'Y') {
		if (fix_get_u64(m, 36, &next) && next > *next_in)
			*next_in = next;
		return;
	}
	if (m->seq > *next_in) {
		/* A gap: ask for it.  A Logon, a Logout and a ResendRequest act
		 * now, or neither side could ever catch up. */
		if (logon || strcmp(m->type, "5") == 0 || strcmp(m->type, "2") == 0)
			dispatch(s, m, now);
		if (s->state == FIX_ST_ACTIVE)
			request_resend(s, m->seq, now);
		return;
	}
	if (m->seq < *next_in) {
		if (possdup(m)) {
			s->c.possdup_dropped++;
			return;
		}
		char text[96];
		snprintf(text, sizeof text, "MsgSeqNum too low, expecting %llu but received %llu",
			 (unsigned long long)*next_in, (unsigned long long)m->seq);
		send_logout(s, text, now);
		if (s->fd >= 0)
			flush_out(s, now);
		drop(s, FIX_DROP_SEQ_TOO_LOW, now);
		return;
	}
	if (s->closing && is_app(m)) {
		/* Nobody to hand it to: leave it unnumbered, so the next
		 * session asks for it again, and stop reading. */
		s->c.left_for_resend++;
		s->held = true;
		return;
	}
	(*next_in)++;
	dispatch(s, m, now);
	if (s->resend_until && *next_in > s->resend_until)
		s->resend_until = 0;
}

static void read_socket(struct fix_session *s, int64_t now)
{
	for (;;) {
		if (s->in_len == sizeof s->in) {
			/* A message longer than the buffer cannot be framed. */
			s->decode.bad[FIX_ERR_TOO_LONG]++;
			s->in_len = 0;
		}
		ssize_t n = io_recv(s, s->in + s->in_len, sizeof s->in - s->in_len);
		if (n == 0)
			return;
		if (n < 0) {
			drop(s, FIX_DROP_PEER_CLOSED, now);
			return;
		}
		s->in_len += (size_t)n;
		size_t off = 0;
		while (s->fd >= 0 && off < s->in_len && !s->held) {
			size_t used;
			int rc = fix_decode(s->in + off, s->in_len - off, &s->msg, &used, &s->decode);
			if (rc == FIX_NEED_MORE)
				break;
			off += used;
			if (rc == FIX_OK)
				on_message(s, &s->msg, now);
		}
		if (s->fd < 0 || s->held)
			return;
		memmove(s->in, s->in + off, s->in_len - off);
		s->in_len -= off;
	}
}

/* ---- timers and the poll ------------------------------------------------------------ */

static void timers(struct fix_session *s, int64_t now)
{
	struct fix_writer w;
	int64_t hb = hb_ns(s);

	if (s->state == FIX_ST_LOGON_SENT && now - s->logon_sent_ns >= 2 * hb) {
		drop(s, FIX_DROP_LOGON_REFUSED, now);
	} else if (s->state == FIX_ST_LOGOUT_SENT && now - s->last_out_ns >= FIX_LOGOUT_WAIT_NS) {
		drop(s, FIX_DROP_LOGOUT, now);
	} else if (s->state == FIX_ST_ACTIVE) {
		if (s->test_request_ns && now - s->test_request_ns >= hb) {
			drop(s, FIX_DROP_HEARTBEAT, now);
			return;
		}
		if (!s->test_request_ns && now - s->last_in_ns >= hb + hb / 5) {
			admin(s, &w, "1");
			fix_w_u64(&w, 112, ++s->test_req_id);
			s->test_request_ns = now;
			s->c.test_requests_sent++;
			send_numbered(s, &w, now);
		}
		if (s->state == FIX_ST_ACTIVE && now - s->last_out_ns >= hb) {
			admin(s, &w, "0");
			s->c.heartbeats_sent++;
			send_numbered(s, &w, now);
		}
	}
}

void fix_session_poll(struct fix_session *s, int64_t now)
{
	if (s->state == FIX_ST_FAILED)
		return;
	if (!s->store.f &&
	    fix_store_open(&s->store, s->cfg.store, s->cfg.sender, s->cfg.target, s->store_err, sizeof s->store_err)) {
		s->state = FIX_ST_FAILED;
		return;
	}
	if (s->cfg.tls && !s->tls_ctx && tls_setup(s) != 0) {
		s->state = FIX_ST_FAILED;
		return;
	}
	if (s->state == FIX_ST_DOWN && now >= s->next_connect_ns)
		connect_start(s, now);
	else if (s->state == FIX_ST_CONNECTING)
		connect_check(s, now);
	else if (s->state == FIX_ST_TLS)
		tls_step(s, now);
	if (s->fd >= 0 && s->state != FIX_ST_CONNECTING && s->state != FIX_ST_TLS) {
		if (s->out_len)
			flush_out(s, now);
		if (s->fd >= 0)
			read_socket(s, now);
	}
	timers(s, now);
	/* A fixed point in time, not "now + 1 ms" at each fds() call: a
	 * deadline that moves with every look would never come due. */
	s->recheck_ns = now + RECHECK_NS;
}

int64_t fix_session_deadline(const struct fix_session *s)
{
	int64_t hb = hb_ns(s);
	switch (s->state) {
	case FIX_ST_DOWN:
		return s->next_connect_ns;
	case FIX_ST_CONNECTING:
	case FIX_ST_TLS:
		return s->recheck_ns;
	case FIX_ST_LOGON_SENT:
		return s->out_len ? s->recheck_ns : s->logon_sent_ns + 2 * hb;
	case FIX_ST_LOGOUT_SENT:
		return s->last_out_ns + FIX_LOGOUT_WAIT_NS;
	case FIX_ST_ACTIVE: {
		if (s->out_len)
			return s->recheck_ns;
		int64_t in = s->test_request_ns ? s->test_request_ns + hb : s->last_in_ns + hb + hb / 5;
		int64_t out = s->last_out_ns + hb;
		return in < out ? in : out;
	}
	default:
		return INT64_MAX;
	}
}

/* ---- application messages -------------------------------------------------------------- */

struct fix_writer *fix_session_begin(struct fix_session *s, const char *type, struct fix_writer *w, size_t *body_at)
{
	if (s->state != FIX_ST_ACTIVE) {
		s->c.send_failed++;
		return NULL;
	}
	s->app_sending_ns = real_ns();
	header(s, w, type, s->store.f->next_out, s->app_sending_ns);
	*body_at = w->pos;
	return w;
}

uint64_t fix_session_send(struct fix_session *s, struct fix_writer *w, const char *type, size_t body_at)
{
	uint64_t seq = s->store.f->next_out;
	size_t body_end = w->pos;
	const char *msg;
	size_t n = fix_w_end(w, &msg);
	if (n == 0) {
		s->c.send_failed++;
		return 0;
	}
	/* Its SendingTime is a resend's OrigSendingTime. */
	fix_store_put(&s->store, seq, type, s->app_sending_ns, w->buf + body_at, body_end - body_at);
	s->store.f->next_out++;
	write_msg(s, msg, n, mono_ns());
	return seq;
}

void fix_session_close(struct fix_session *s)
{
	int64_t now = mono_ns(), until = now + FIX_LOGOUT_WAIT_NS;
	s->closing = true;
	if (s->state == FIX_ST_ACTIVE)
		send_logout(s, NULL, now);
	while (s->state == FIX_ST_LOGOUT_SENT && s->fd >= 0 && !s->held && (now = mono_ns()) < until) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (poll(&p, 1, 50) > 0)
			read_socket(s, now);
	}
	if (s->ssl) {
		(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = FIX_ST_DOWN;
	SSL_CTX_free(s->tls_ctx);
	s->tls_ctx = NULL;
	fix_store_close(&s->store);
}

const char *fix_drop_reason_name(unsigned r)
{
	static const char *const names[FIX_DROP_COUNT] = {
		"connect", "peer_closed", "heartbeat", "seq_too_low", "logout", "logon_refused", "bad_comp_id",
		"out_full", "tls",
	};
	return r < FIX_DROP_COUNT ? names[r] : "?";
}
