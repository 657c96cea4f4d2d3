/*
 * The websocket-over-TLS client against a TLS websocket server started in
 * the test on 127.0.0.1 (ws_test_server.c), replaying the shared Bybit
 * recording; and the per-venue subscribe messages.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/net/ws_client.h"
#include "tests/support/ws_test_server.h"
#include "feeds/xport/ws_venue.h"

/* ---- the recording ---- */

/* ../shared/data/README.md: "a 500-level snapshot followed by 49 deltas",
 * one JSON per line (CRLF-terminated in the file). */
#define BYBIT_LINES 50
#define BYBIT_FILE "/data/bybit/2024-12-01_XRPUSDT_ob500.data"

static char *rec_buf;
static const char *rec_line[BYBIT_LINES + 1];
static size_t rec_len[BYBIT_LINES + 1];
static size_t rec_n;

static void load_recording(void)
{
	const char *shared = getenv("FKS_SHARED");
	cr_assert(shared, "FKS_SHARED is not set");
	char path[4096];
	snprintf(path, sizeof path, "%s%s", shared, BYBIT_FILE);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	rec_buf = malloc((size_t)sz + 1);
	cr_assert(fread(rec_buf, 1, (size_t)sz, f) == (size_t)sz);
	fclose(f);
	rec_buf[sz] = 0;
	rec_n = 0;
	char *p = rec_buf, *end = rec_buf + sz;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		if (le > p && le[-1] == '\r')
			le--;
		cr_assert(rec_n < BYBIT_LINES + 1);
		rec_line[rec_n] = p;
		rec_len[rec_n] = (size_t)(le - p);
		rec_n++;
		p = nl ? nl + 1 : end;
	}
	cr_assert_eq(rec_n, BYBIT_LINES, "the recording has %zu lines", rec_n);
	/* first bytes of the first line, read from the file by hand */
	static const char head[] = "{\"topic\":\"orderbook.500.XRPUSDT\",\"type\":\"snapshot\"";
	cr_assert(strncmp(rec_line[0], head, sizeof head - 1) == 0);
}

static void free_recording(void)
{
	free(rec_buf);
	rec_buf = NULL;
}

/* ---- what the client delivered ---- */

#define MAX_MSGS 256
#define MAX_STATES 32

struct sink {
	struct ws_client *client;
	size_t n;
	uint8_t *msg[MAX_MSGS];
	size_t len[MAX_MSGS];
	int64_t recv_ns[MAX_MSGS];
	size_t stop_after;          /* ws_client_stop once this many arrived; 0: never */
	int reply;                  /* what deliver returns */
	size_t reply_at;            /* ...for message number reply_at (1-based); 0: always 0 */
	enum ws_state state[MAX_STATES];
	size_t n_states;
	size_t msgs_at_state[MAX_STATES];
};

static int sink_deliver(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct sink *s = ctx;
	if (s->n < MAX_MSGS) {
		s->msg[s->n] = malloc(len ? len : 1);
		memcpy(s->msg[s->n], msg, len);
		s->len[s->n] = len;
		s->recv_ns[s->n] = recv_ns;
	}
	s->n++;
	if (s->stop_after && s->n == s->stop_after)
		ws_client_stop(s->client);
	return s->reply_at && s->n == s->reply_at ? s->reply : 0;
}

static void sink_state(void *ctx, enum ws_state st)
{
	struct sink *s = ctx;
	if (s->n_states < MAX_STATES) {
		s->msgs_at_state[s->n_states] = s->n;
		s->state[s->n_states++] = st;
	}
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n && i < MAX_MSGS; i++)
		free(s->msg[i]);
}

static void assert_msg(const struct sink *s, size_t i, const void *want, size_t want_len)
{
	cr_assert(i < s->n, "message %zu was not delivered (got %zu)", i, s->n);
	cr_assert_eq(s->len[i], want_len, "message %zu: %zu bytes, want %zu", i, s->len[i], want_len);
	cr_assert(memcmp(s->msg[i], want, want_len) == 0, "message %zu differs", i);
}

/* Run the client in slices until cond holds or budget_ms passes. */
#define RUN_UNTIL(c, budget_ms, cond)                                         \
	do {                                                                  \
		for (int _t = 0; _t < (budget_ms) / 20 && !(cond); _t++)      \
			ws_client_run((c), 20);                               \
	} while (0)

static const char bybit_sub[] = "{\"op\":\"subscribe\",\"args\":[\"orderbook.500.XRPUSDT\"]}";

static struct ws_config base_config(struct sink *sink, const struct wsts *srv, const char *path)
{
	static char url[128];
	snprintf(url, sizeof url, "wss://127.0.0.1:%u%s", wsts_port(srv), path);
	struct ws_config cfg = {
		.url = url,
		.ca_file = wsts_ca_file(srv),
		.subscribe = {bybit_sub},
		.n_subscribe = 1,
		.connect_timeout_ms = 2000,
		.handshake_timeout_ms = 2000,
		.ping_interval_ms = -1,
		.backoff_min_ms = 50,
		.backoff_max_ms = 400,
		.seed = 42,
		.deliver = sink_deliver,
		.on_state = sink_state,
		.ctx = sink,
	};
	return cfg;
}

/* ---- the handshake key ---- */

Test(ws_client, accept_key_rfc6455_vector)
{
	/* RFC 6455 section 1.3 */
	char out[29];
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
	cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* ---- the main scenario ---- */

Test(ws_client, replay_drop_reconnect_replay_again, .timeout = 60)
{
	load_recording();
	/* a fragmented message: 1000 bytes of JSON, sent as 100-byte frames */
	static uint8_t frag[1000];
	memset(frag, 'a', sizeof frag);
	memcpy(frag, "{\"topic\":\"fragmented\",\"data\":\"", 30);
	memcpy(frag + sizeof frag - 2, "\"}", 2);

	struct wsts_config sc = {
		.modes = {WSTS_REPLAY_DROP, WSTS_REPLAY},
		.n_modes = 2,
		.lines = rec_line, .line_len = rec_len, .n_lines = rec_n,
		.drop_after = 20,
		.frag_msg = frag, .frag_len = sizeof frag, .frag_chunk = 100,
		.send_ping = true,
	};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);

	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/v5/public/linear");
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	const size_t want = 20 + BYBIT_LINES + 1;
	const struct ws_stats *st = ws_client_stats(c);
	RUN_UNTIL(c, 20000, sink.n >= want && st->pings_received >= 1);
	/* give the pong time to leave */
	ws_client_run(c, 200);
	wsts_stop(srv);

	cr_assert_eq(sink.n, want, "delivered %zu, last error: %s", sink.n, ws_client_last_error(c));
	/* connection 1: lines 0..19, then the drop */
	for (size_t i = 0; i < 20; i++)
		assert_msg(&sink, i, rec_line[i], rec_len[i]);
	/* connection 2: the whole replay again, then the fragmented message */
	for (size_t i = 0; i < BYBIT_LINES; i++)
		assert_msg(&sink, 20 + i, rec_line[i], rec_len[i]);
	assert_msg(&sink, 70, frag, sizeof frag);
	for (size_t i = 1; i < sink.n; i++)
		cr_assert(sink.recv_ns[i] >= sink.recv_ns[i - 1] && sink.recv_ns[i] > 0);

	/* the caller was told, in order, with the data in between */
	cr_assert_eq(sink.n_states, 3);
	cr_assert_eq(sink.state[0], WS_CONNECTED);
	cr_assert_eq(sink.msgs_at_state[0], 0);
	cr_assert_eq(sink.state[1], WS_DISCONNECTED);
	cr_assert_eq(sink.msgs_at_state[1], 20);
	cr_assert_eq(sink.state[2], WS_RECONNECTED);
	cr_assert_eq(sink.msgs_at_state[2], 20);

	size_t bytes = sizeof frag;
	for (size_t i = 0; i < 20; i++)
		bytes += rec_len[i];
	for (size_t i = 0; i < BYBIT_LINES; i++)
		bytes += rec_len[i];
	cr_assert_eq(st->messages, want);
	cr_assert_eq(st->bytes, bytes);
	cr_assert_eq(st->connects, 2);
	cr_assert_eq(st->reconnects, 1);
	cr_assert_eq(st->disconnects, 1);
	cr_assert_eq(st->io_errors, 1, "the drop is an unexpected EOF");
	cr_assert_eq(st->subscribes_sent, 2);
	cr_assert_eq(st->pings_received, 1);
	cr_assert_eq(st->tls_errors + st->handshake_errors + st->protocol_errors + st->oversize, 0);

	/* what the server saw: the request path, the subscribe (twice), the pong */
	cr_assert_eq(wsts_n_conns(srv), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct wsts_conn_log *l = wsts_conn(srv, i);
		cr_assert(l->tls_ok && l->upgrade_ok);
		cr_assert_str_eq(l->path, "/v5/public/linear");
		cr_assert(l->got_subscribe, "connection %zu: no subscribe", i);
		cr_assert_str_eq(l->subscribe, bybit_sub);
	}
	const struct wsts_conn_log *l0 = wsts_conn(srv, 0), *l1 = wsts_conn(srv, 1);
	cr_assert(l1->ping_sent);
	cr_assert(l1->ping_mid_message, "the ping went between two fragments");
	cr_assert(l1->pong_ok, "the client did not answer the server's ping");
	/* back-off: the first retry waits at least backoff_min/2 (equal jitter) */
	cr_assert_geq(l1->accept_ns - l0->end_ns, 25 * 1000000ll - 1000000ll,
		      "reconnected after %lld ns", (long long)(l1->accept_ns - l0->end_ns));

	ws_client_free(c);
	wsts_free(srv);
	sink_free(&sink);
	free_recording();
}

Test(ws_client, server_close_frame_then_reconnect, .timeout = 60)
{
	load_recording();
	struct wsts_config sc = {
		.modes = {WSTS_REPLAY_CLOSE, WSTS_REPLAY},
		.n_modes = 2,
		.lines = rec_line, .line_len = rec_len, .n_lines = 3,
	};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "");
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	RUN_UNTIL(c, 10000, sink.n >= 6);
	const struct ws_stats *st = ws_client_stats(c);
	ws_client_run(c, 100);
	wsts_stop(srv);
	cr_assert_eq(sink.n, 6, "n=%zu connects=%lu attempts=%lu io=%lu tls=%lu hs=%lu: %s", sink.n, st->connects, st->connect_attempts, st->io_errors, st->tls_errors, st->handshake_errors, ws_client_last_error(c));
	for (size_t i = 0; i < 6; i++)
		assert_msg(&sink, i, rec_line[i % 3], rec_len[i % 3]);
	cr_assert_eq(st->closes_received, 1);
	cr_assert_eq(st->io_errors, 0, "an orderly close is not an error");
	cr_assert_eq(st->connects, 2);
	const struct wsts_conn_log *l0 = wsts_conn(srv, 0);
	cr_assert_str_eq(l0->path, "/", "an empty path is sent as /");
	cr_assert(l0->close_received, "the client answered the close");
	cr_assert_eq(l0->close_code, 1000);
	ws_client_free(c);
	wsts_free(srv);
	sink_free(&sink);
	free_recording();
}

/* ---- TLS verification ---- */

static void run_refused(struct wsts_config *sc, const char *host, bool trust, const char *want_err,
			uint64_t (*counter)(const struct ws_stats *))
{
	char err[256];
	struct wsts *srv = wsts_start(sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	char url[128];
	snprintf(url, sizeof url, "wss://%s:%u/", host, wsts_port(srv));
	cfg.url = url;
	if (!trust)
		cfg.ca_file = NULL; /* the system store: it does not know our certificate */
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	const struct ws_stats *st = ws_client_stats(c);
	RUN_UNTIL(c, 10000, counter(st) >= 2);
	wsts_stop(srv);
	cr_assert_geq(counter(st), 2, "last error: %s", ws_client_last_error(c));
	cr_assert(strstr(ws_client_last_error(c), want_err), "last error: %s", ws_client_last_error(c));
	cr_assert_eq(sink.n, 0, "no data may be delivered");
	cr_assert_eq(st->connects, 0);
	cr_assert_eq(sink.n_states, 0);
	for (size_t i = 0; i < wsts_n_conns(srv); i++)
		cr_assert(!wsts_conn(srv, i)->got_subscribe, "nothing is sent before the handshake succeeds");
	ws_client_free(c);
	wsts_free(srv);
}

static uint64_t tls_errors(const struct ws_stats *s) { return s->tls_errors; }
static uint64_t handshake_errors(const struct ws_stats *s) { return s->handshake_errors; }

Test(ws_client, untrusted_certificate_is_refused, .timeout = 60)
{
	struct wsts_config sc = {.modes = {WSTS_REPLAY}, .n_modes = 1};
	run_refused(&sc, "127.0.0.1", false, "certificate verify failed", tls_errors);
}

Test(ws_client, wrong_host_name_is_refused, .timeout = 60)
{
	/* the certificate names only IP 127.0.0.1, not "localhost" */
	struct wsts_config sc = {.modes = {WSTS_REPLAY}, .n_modes = 1};
	run_refused(&sc, "localhost", true, "hostname mismatch", tls_errors);
}

Test(ws_client, bad_accept_is_refused, .timeout = 60)
{
	struct wsts_config sc = {.modes = {WSTS_BAD_ACCEPT}, .n_modes = 1};
	run_refused(&sc, "127.0.0.1", true, "bad Sec-WebSocket-Accept", handshake_errors);
}

Test(ws_client, close_during_handshake, .timeout = 60)
{
	struct wsts_config sc = {.modes = {WSTS_CLOSE_IN_HANDSHAKE}, .n_modes = 1};
	run_refused(&sc, "127.0.0.1", true, "connection closed before the upgrade response", handshake_errors);
}

Test(ws_client, localhost_name_with_dns_san_connects, .timeout = 60)
{
	/* localhost may resolve to ::1 first, where nobody listens: the client
	 * must go on to 127.0.0.1 */
	load_recording();
	struct wsts_config sc = {.modes = {WSTS_REPLAY}, .n_modes = 1, .san_localhost = true,
				 .lines = rec_line, .line_len = rec_len, .n_lines = 2};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	char url[128];
	snprintf(url, sizeof url, "wss://localhost:%u/x?y=1", wsts_port(srv));
	cfg.url = url;
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	sink.stop_after = 2;
	RUN_UNTIL(c, 10000, sink.n >= 2);
	wsts_stop(srv);
	cr_assert_eq(sink.n, 2, "%s", ws_client_last_error(c));
	assert_msg(&sink, 1, rec_line[1], rec_len[1]);
	cr_assert_str_eq(wsts_conn(srv, 0)->path, "/x?y=1");
	ws_client_free(c);
	wsts_free(srv);
	sink_free(&sink);
	free_recording();
}

/* ---- back-off ---- */

Test(ws_client, backoff_grows_between_attempts, .timeout = 60)
{
	struct wsts_config sc = {.modes = {WSTS_BAD_ACCEPT}, .n_modes = 1};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	cfg.backoff_min_ms = 40;
	cfg.backoff_max_ms = 160;
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	const struct ws_stats *st = ws_client_stats(c);
	/* The wait chosen after failed attempt k is in [d/2, d], d = min(40 *
	 * 2^k, 160) ms: read from the client as each attempt fails, not timed,
	 * so a loaded machine cannot make it pass or fail. */
	int64_t wait[5] = {0};
	uint64_t seen = 0;
	for (int t = 0; t < 1000 && seen < 5; t++) {
		ws_client_run(c, 10);
		if (st->handshake_errors > seen && seen < 5)
			wait[seen++] = ws_client_last_backoff_ms(c);
	}
	wsts_stop(srv);
	cr_assert_eq(seen, 5, "five failed attempts, saw %llu", (unsigned long long)seen);
	for (size_t k = 0; k < 5; k++) {
		int64_t d = 40 << k;
		if (d > 160)
			d = 160;
		cr_assert(wait[k] >= d / 2 && wait[k] <= d, "wait %zu: %lld ms, want [%lld, %lld]", k,
			  (long long)wait[k], (long long)(d / 2), (long long)d);
	}
	/* and the server saw the attempts apart, in order */
	cr_assert_geq(wsts_n_conns(srv), 5);
	for (size_t k = 0; k + 1 < 5; k++)
		cr_assert_gt(wsts_conn(srv, k + 1)->accept_ns, wsts_conn(srv, k)->accept_ns);
	ws_client_free(c);
	wsts_free(srv);
}

/* ---- oversize ---- */

Test(ws_client, oversize_message_is_counted_and_the_stream_recovers, .timeout = 60)
{
	load_recording();
	struct wsts_config sc = {
		.modes = {WSTS_OVERSIZE, WSTS_REPLAY},
		.n_modes = 2,
		.lines = rec_line, .line_len = rec_len, .n_lines = rec_n,
		.oversize_len = 32769, /* one message of 32768 bytes, then one of 32769 */
	};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	cfg.max_msg_size = 32768; /* the longest recorded line is 18066 bytes */
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	const struct ws_stats *st = ws_client_stats(c);
	RUN_UNTIL(c, 20000, sink.n >= 1 + BYBIT_LINES);
	ws_client_run(c, 100);
	wsts_stop(srv);
	cr_assert_eq(sink.n, 1 + BYBIT_LINES, "%s", ws_client_last_error(c));
	cr_assert_eq(sink.len[0], 32768, "a message of exactly max_msg_size is delivered");
	for (size_t i = 0; i < BYBIT_LINES; i++)
		assert_msg(&sink, 1 + i, rec_line[i], rec_len[i]);
	cr_assert_eq(st->oversize, 1);
	cr_assert_eq(st->reconnects, 1);
	cr_assert_eq(wsts_conn(srv, 0)->close_code, 1009, "the client closed with 1009 message too big");
	ws_client_free(c);
	wsts_free(srv);
	sink_free(&sink);
	free_recording();
}

/* ---- protocol errors ---- */

Test(ws_client, bad_utf8_text_is_a_protocol_error, .timeout = 60)
{
	load_recording();
	struct wsts_config sc = {.modes = {WSTS_BAD_UTF8, WSTS_REPLAY}, .n_modes = 2,
				 .lines = rec_line, .line_len = rec_len, .n_lines = 2};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	const struct ws_stats *st = ws_client_stats(c);
	RUN_UNTIL(c, 10000, sink.n >= 3);
	ws_client_run(c, 100);
	wsts_stop(srv);
	/* connection 1: line 0, then the bad message ends it; connection 2:
	 * lines 0 and 1 */
	cr_assert_eq(sink.n, 3, "%s", ws_client_last_error(c));
	assert_msg(&sink, 0, rec_line[0], rec_len[0]);
	assert_msg(&sink, 1, rec_line[0], rec_len[0]);
	assert_msg(&sink, 2, rec_line[1], rec_len[1]);
	cr_assert_eq(st->protocol_errors, 1);
	cr_assert_eq(st->reconnects, 1);
	cr_assert_eq(wsts_conn(srv, 0)->close_code, 1007, "closed with 1007 invalid payload");
	struct named_counter fc[WS_STATS_COUNT];
	cr_assert_eq(ws_client_counters(c, fc, WS_STATS_COUNT), WS_STATS_COUNT);
	bool seen = false;
	for (size_t i = 0; i < WS_STATS_COUNT; i++)
		if (strcmp(fc[i].name, "protocol_errors") == 0) {
			cr_assert_eq(fc[i].n, 1);
			seen = true;
		}
	cr_assert(seen);
	ws_client_free(c);
	wsts_free(srv);
	sink_free(&sink);
	free_recording();
}

/* ---- keep-alive ---- */

Test(ws_client, our_pings_are_answered, .timeout = 60)
{
	struct wsts_config sc = {.modes = {WSTS_REPLAY}, .n_modes = 1};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	cfg.ping_interval_ms = 30;
	cfg.pong_timeout_ms = 2000;
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	const struct ws_stats *st = ws_client_stats(c);
	RUN_UNTIL(c, 10000, st->pongs_received >= 3);
	wsts_stop(srv);
	cr_assert_geq(st->pongs_received, 3, "%s", ws_client_last_error(c));
	cr_assert_geq(st->pings_sent, st->pongs_received);
	cr_assert_eq(st->pong_timeouts, 0);
	cr_assert_eq(st->connects, 1);
	cr_assert_geq(wsts_conn(srv, 0)->client_pings, 3);
	ws_client_free(c);
	wsts_free(srv);
}

Test(ws_client, missing_pong_declares_the_connection_dead, .timeout = 60)
{
	struct wsts_config sc = {.modes = {WSTS_SILENT}, .n_modes = 1};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {0};
	struct ws_config cfg = base_config(&sink, srv, "/");
	cfg.ping_interval_ms = 30;
	cfg.pong_timeout_ms = 100;
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	const struct ws_stats *st = ws_client_stats(c);
	RUN_UNTIL(c, 10000, st->pong_timeouts >= 1);
	wsts_stop(srv);
	cr_assert_geq(st->pong_timeouts, 1);
	cr_assert_geq(st->disconnects, 1);
	cr_assert_eq(st->pongs_received, 0);
	cr_assert(sink.n_states >= 2 && sink.state[1] == WS_DISCONNECTED);
	cr_assert(strstr(ws_client_last_error(c), "no pong"), "%s", ws_client_last_error(c));
	ws_client_free(c);
	wsts_free(srv);
}

/* ---- the decoder asks for a resync ---- */

Test(ws_client, deliver_can_ask_for_a_reconnect, .timeout = 60)
{
	load_recording();
	struct wsts_config sc = {.modes = {WSTS_REPLAY}, .n_modes = 1,
				 .lines = rec_line, .line_len = rec_len, .n_lines = 3};
	char err[256];
	struct wsts *srv = wsts_start(&sc, err, sizeof err);
	cr_assert(srv, "%s", err);
	struct sink sink = {.reply = WS_DELIVER_RECONNECT, .reply_at = 2};
	struct ws_config cfg = base_config(&sink, srv, "/");
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	sink.client = c;
	const struct ws_stats *st = ws_client_stats(c);
	/* connection 1 delivers 2 (the second asks for a resync; the third
	 * may already be decoded from the same read), connection 2 all 3 */
	RUN_UNTIL(c, 10000, sink.n_states > 0 && st->reconnects >= 1 && sink.n >= sink.msgs_at_state[sink.n_states - 1] + 3);
	wsts_stop(srv);
	cr_assert_eq(st->deliver_reconnects, 1);
	cr_assert_eq(st->reconnects, 1, "%s", ws_client_last_error(c));
	cr_assert_eq(sink.state[sink.n_states - 1], WS_RECONNECTED);
	size_t base = sink.msgs_at_state[sink.n_states - 1];
	cr_assert(base == 2 || base == 3);
	for (size_t i = 0; i < 3; i++)
		assert_msg(&sink, base + i, rec_line[i], rec_len[i]);
	cr_assert_eq(st->subscribes_sent, 2, "resubscribed after the reconnect");
	ws_client_free(c);
	wsts_free(srv);
	sink_free(&sink);
	free_recording();
}

/* ---- configuration ---- */

static int nop_deliver(void *ctx, const uint8_t *m, size_t n, int64_t t)
{
	(void)ctx, (void)m, (void)n, (void)t;
	return 0;
}

Test(ws_client, bad_configs_are_refused)
{
	static const char *const bad[] = {
		"ws://127.0.0.1/",            /* TLS only */
		"https://x/",
		"wss://",
		"wss://:443/",
		"wss://host:0/",
		"wss://host:65536/",
		"wss://host:12ab/",
		"wss://[::1/",
		"wss://host/a b",              /* request splitting */
		"wss://host/\r\nX: y",
	};
	char err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ws_config cfg = {.url = bad[i], .deliver = nop_deliver};
		struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
		cr_assert_null(c, "accepted %s", bad[i]);
		cr_assert(err[0], "no reason for %s", bad[i]);
	}
	struct ws_config no_cb = {.url = "wss://host/"};
	cr_assert_null(ws_client_new(&no_cb, err, sizeof err));
	struct ws_config no_ca = {.url = "wss://host/", .ca_file = "/nonexistent/ca.pem", .deliver = nop_deliver};
	cr_assert_null(ws_client_new(&no_ca, err, sizeof err));
	cr_assert(strstr(err, "ca_file"), "%s", err);
	struct ws_config good = {.url = "wss://[::1]:9443/stream?streams=a", .deliver = nop_deliver};
	struct ws_client *c = ws_client_new(&good, err, sizeof err);
	cr_assert(c, "%s", err);
	cr_assert(!ws_client_is_open(c));
	cr_assert_eq(ws_client_send_text(c, "x", 1), -1, "nothing to send on");
	ws_client_free(c);
}

Test(ws_client, stop_before_run_returns_at_once)
{
	struct ws_config cfg = {.url = "wss://127.0.0.1:1/", .deliver = nop_deliver};
	char err[256];
	struct ws_client *c = ws_client_new(&cfg, err, sizeof err);
	cr_assert(c, "%s", err);
	ws_client_stop(c);
	cr_assert_eq(ws_client_run(c, 5000), WS_RUN_STOPPED);
	cr_assert_eq(ws_client_stats(c)->connect_attempts, 0);
	/* the stop was consumed: port 1 refuses, the attempt is a tcp error */
	cr_assert_eq(ws_client_run(c, 50), WS_RUN_TIMEOUT);
	cr_assert_geq(ws_client_stats(c)->tcp_errors, 1);
	cr_assert(strstr(ws_client_last_error(c), "tcp connect"), "%s", ws_client_last_error(c));
	ws_client_free(c);
}

/* ---- venues: expected strings written from the venues' documentation ---- */

Test(ws_venue, bybit)
{
	struct ws_venue_plan p;
	const char *syms[] = {"BTCUSDT"};
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BYBIT_LINEAR, syms, 1, WS_CH_BOOK | WS_CH_TRADE, 50, NULL), 0);
	cr_assert_str_eq(p.url, "wss://stream.bybit.com/v5/public/linear");
	cr_assert_eq(p.n_msgs, 1);
	cr_assert_str_eq(p.msg[0], "{\"op\":\"subscribe\",\"args\":[\"orderbook.50.BTCUSDT\",\"publicTrade.BTCUSDT\"]}");
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BYBIT_SPOT, syms, 1, WS_CH_BOOK, 7, NULL), WS_VENUE_E_DEPTH);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BYBIT_SPOT, syms, 1, WS_CH_TOP, 0, NULL), WS_VENUE_E_CHANNEL);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BYBIT_SPOT, syms, 1, WS_CH_BOOK, 0, NULL), 0);
	cr_assert_str_eq(p.url, "wss://stream.bybit.com/v5/public/spot");
	cr_assert_str_eq(p.msg[0], "{\"op\":\"subscribe\",\"args\":[\"orderbook.50.BTCUSDT\"]}");
}

Test(ws_venue, binance)
{
	struct ws_venue_plan p;
	const char *syms[] = {"BTCUSDT", "ETHUSDT"};
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BINANCE_SPOT, syms, 2,
				   WS_CH_TRADE | WS_CH_AGGTRADE | WS_CH_TOP | WS_CH_BOOK, 0, NULL), 0);
	cr_assert_str_eq(p.url, "wss://stream.binance.com:9443/stream");
	cr_assert_eq(p.n_msgs, 1);
	cr_assert_str_eq(p.msg[0],
			 "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@trade\",\"btcusdt@aggTrade\","
			 "\"btcusdt@bookTicker\",\"btcusdt@depth@100ms\",\"ethusdt@trade\",\"ethusdt@aggTrade\","
			 "\"ethusdt@bookTicker\",\"ethusdt@depth@100ms\"],\"id\":1}");
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BINANCE_FUTURES, syms, 1, WS_CH_BOOK, 0, NULL), 0);
	cr_assert_str_eq(p.url, "wss://fstream.binance.com/stream");
	char url[256];
	int n = ws_venue_binance_combined_url(url, sizeof url, WS_VENUE_BINANCE_SPOT, NULL, syms, 1,
					      WS_CH_TRADE | WS_CH_BOOK);
	cr_assert_str_eq(url, "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@depth@100ms");
	cr_assert_eq(n, (int)strlen(url));
	cr_assert_eq(ws_venue_binance_combined_url(url, 20, WS_VENUE_BINANCE_SPOT, NULL, syms, 1, WS_CH_TRADE),
		     WS_VENUE_E_SPACE);
	cr_assert_eq(ws_venue_binance_combined_url(url, sizeof url, WS_VENUE_KRAKEN, NULL, syms, 1, WS_CH_TRADE),
		     WS_VENUE_E_VENUE);
}

Test(ws_venue, coinbase)
{
	struct ws_venue_plan p;
	const char *syms[] = {"BTC-USD", "ETH-USD"};
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_COINBASE, syms, 2,
				   WS_CH_BOOK | WS_CH_TRADE | WS_CH_TOP | WS_CH_HEARTBEAT, 0, NULL), 0);
	cr_assert_str_eq(p.url, "wss://advanced-trade-ws.coinbase.com");
	cr_assert_eq(p.n_msgs, 4);
	cr_assert_str_eq(p.msg[0], "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":\"heartbeats\"}");
	cr_assert_str_eq(p.msg[1], "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":\"level2\"}");
	cr_assert_str_eq(p.msg[2], "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":\"market_trades\"}");
	cr_assert_str_eq(p.msg[3], "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":\"ticker\"}");
}

Test(ws_venue, kraken)
{
	struct ws_venue_plan p;
	const char *syms[] = {"BTC/USD"};
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, syms, 1, WS_CH_BOOK | WS_CH_TRADE, 0, NULL), 0);
	cr_assert_str_eq(p.url, "wss://ws.kraken.com/v2");
	cr_assert_eq(p.n_msgs, 2);
	cr_assert_str_eq(p.msg[0], "{\"method\":\"subscribe\",\"params\":{\"channel\":\"book\",\"symbol\":[\"BTC/USD\"],\"depth\":10}}");
	cr_assert_str_eq(p.msg[1], "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"BTC/USD\"]}}");
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, syms, 1, WS_CH_BOOK, 20, NULL), WS_VENUE_E_DEPTH);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, syms, 1, WS_CH_BOOK, 1000, "wss://127.0.0.1:1/v2"), 0);
	cr_assert_str_eq(p.url, "wss://127.0.0.1:1/v2");
	cr_assert(strstr(p.msg[0], "\"depth\":1000}"));
	struct ws_config cfg = {0};
	ws_venue_apply(&p, &cfg);
	cr_assert_eq(cfg.n_subscribe, 1);
	cr_assert_eq(cfg.subscribe[0], p.msg[0]);
	cr_assert_eq(cfg.url, p.url);
}

Test(ws_venue, bad_symbols_and_names)
{
	struct ws_venue_plan p;
	const char *inject[] = {"BTC\",\"x"};
	const char *empty[] = {""};
	const char *utf8[] = {"BTC\xc3\xa9"};
	const char *lng[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}; /* 33 bytes */
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, inject, 1, WS_CH_TRADE, 0, NULL), WS_VENUE_E_SYMBOL);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, empty, 1, WS_CH_TRADE, 0, NULL), WS_VENUE_E_SYMBOL);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, utf8, 1, WS_CH_TRADE, 0, NULL), WS_VENUE_E_SYMBOL);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, lng, 1, WS_CH_TRADE, 0, NULL), WS_VENUE_E_SYMBOL);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, inject, 0, WS_CH_TRADE, 0, NULL), WS_VENUE_E_SYMBOL);
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, empty, 1, 0, 0, NULL), WS_VENUE_E_SYMBOL);
	const char *ok[] = {"BTC/USD"};
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_KRAKEN, ok, 1, 0, 0, NULL), WS_VENUE_E_CHANNEL);
	cr_assert_eq(ws_venue_plan(&p, (enum ws_venue)99, ok, 1, WS_CH_TRADE, 0, NULL), WS_VENUE_E_VENUE);
	/* 64 symbols of 32 bytes, 4 streams each: Binance's one message
	 * outgrows 4096 bytes */
	const char *many[WS_VENUE_MAX_SYMBOLS];
	for (size_t i = 0; i < WS_VENUE_MAX_SYMBOLS; i++)
		many[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
	cr_assert_eq(ws_venue_plan(&p, WS_VENUE_BINANCE_SPOT, many, WS_VENUE_MAX_SYMBOLS,
				   WS_CH_TRADE | WS_CH_AGGTRADE | WS_CH_TOP | WS_CH_BOOK, 0, NULL),
		     WS_VENUE_E_SPACE);
	cr_assert_eq(ws_venue_parse("kraken"), WS_VENUE_KRAKEN);
	cr_assert_eq(ws_venue_parse("bybit-linear"), WS_VENUE_BYBIT_LINEAR);
	cr_assert_eq(ws_venue_parse("nasdaq"), -1);
	cr_assert_str_eq(ws_venue_name(WS_VENUE_COINBASE), "coinbase");
	cr_assert_null(ws_venue_name((enum ws_venue)WS_VENUE_COUNT));
	cr_assert_str_eq(ws_venue_default_url(WS_VENUE_BINANCE_FUTURES), "wss://fstream.binance.com/stream");
	cr_assert(ws_venue_strerror(WS_VENUE_E_DEPTH)[0]);
}
