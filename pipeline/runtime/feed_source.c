/*
 * Feed sources: transport + decoder (feed_source.h).  Each transport's
 * deliver callback lands in one of the deliver_* functions below, which
 * hands the bytes to the venue decoder and stops the transport once the
 * poll's message budget is spent.
 */
#include "pipeline/runtime/feed_source.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "feeds/decoders/binance.h"
#include "feeds/books/book_l3.h"
#include "feeds/decoders/bybit.h"
#include "feeds/net/https_get.h"
#include "feeds/decoders/coinbase.h"
#include "feeds/decoders/itch.h"
#include "feeds/decoders/kraken.h"
#include "feeds/net/ws_client.h"
#include "feeds/xport/ws_venue.h"
#include "feeds/decoders/moldudp.h"
#include "feeds/xport/xport_file.h"
#include "feeds/xport/xport_pcap.h"
#include "feeds/xport/xport_udp.h"
#include "shm/clock.h"
#ifdef FKS_HAVE_DPDK_XPORT
#include "feeds/xport/xport_dpdk.h"
#endif

#define DPDK_MAX_ARGS 32

/* Live Binance depth: REST snapshot fetches (docs/feeds.md). */
#define REST_TIMEOUT_MS 3000             /* one blocking fetch, connect to last byte */
#define REST_MAX_BODY (4u << 20)         /* a 1000+1000-level body is ~60 KB */
#define REST_BACKOFF_MIN_NS 250000000LL  /* after a failed or rejected snapshot */
#define REST_BACKOFF_MAX_NS 30000000000LL
#define REST_MIN_INTERVAL_NS 1000000000LL /* per book, between fetches: Binance's request weight */
#define REST_BASE_MAX 256

/* The JSON venues behind one set of calls. */
struct json_venue_ops {
	int (*decode)(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx);
	size_t (*counts)(const void *d, const struct named_counter **out);
	size_t (*errors)(const void *d, const struct named_counter **out);
	const struct book_l2 *(*book)(const void *d, uint32_t instrument);
	void (*reconnected)(void *d);  /* NULL: the venue resyncs by itself */
	void (*free)(void *d);         /* NULL: plain free() */
};

#define JSON_OPS(X)                                                                              \
	static int X##_decode_(void *d, const char *m, size_t l, int64_t r, feed_emit_fn e, void *c) \
	{                                                                                        \
		return X##_decode(d, m, l, r, e, c);                                             \
	}                                                                                        \
	static size_t X##_counts_(const void *d, const struct named_counter **o) { return X##_counts(d, o); } \
	static size_t X##_errors_(const void *d, const struct named_counter **o) { return X##_errors(d, o); } \
	static const struct book_l2 *X##_book_(const void *d, uint32_t i) { return X##_book(d, i); }

JSON_OPS(binance)
JSON_OPS(bybit)
JSON_OPS(coinbase)
JSON_OPS(kraken)

static void coinbase_reconnected_(void *d) { coinbase_reconnect(d); }
static void coinbase_free_(void *d) { coinbase_free(d); free(d); }
static void kraken_free_(void *d) { kraken_free(d); free(d); }

static const struct json_venue_ops ops_binance = { binance_decode_, binance_counts_, binance_errors_, binance_book_, NULL, NULL };
static const struct json_venue_ops ops_bybit = { bybit_decode_, bybit_counts_, bybit_errors_, bybit_book_, NULL, NULL };
static const struct json_venue_ops ops_coinbase = { coinbase_decode_, coinbase_counts_, coinbase_errors_, coinbase_book_,
						    coinbase_reconnected_, coinbase_free_ };
static const struct json_venue_ops ops_kraken = { kraken_decode_, kraken_counts_, kraken_errors_, kraken_book_, NULL,
						  kraken_free_ };

struct feed_source {
	struct fks_feed_cfg cfg;
	struct feed_symtab *symbols;
	struct itch *itch;
	const struct json_venue_ops *jops;
	void *json;                    /* the JSON venue's decoder */
	struct ws_client *ws;
	struct ws_venue_plan plan;
	uint64_t ws_reconnects;
	/* live Binance depth books: the REST snapshot client and its schedule */
	struct https_client *rest;
	char rest_base[REST_BASE_MAX];     /* "https://api.binance.com" */
	bool rest_futures;
	int64_t rest_next_ns[BINANCE_MAX_BOOKS];  /* per book slot: earliest next fetch */
	uint8_t rest_fails[BINANCE_MAX_BOOKS];    /* consecutive failures: the back-off */
	uint32_t rest_inst[BINANCE_MAX_BOOKS];    /* instrument of the slot */
	uint64_t rest_snapshots, rest_failures, rest_rejected;
	struct moldudp mold;
	struct xport_file file;
	struct xport_pcap pcap;
	struct xport_udp udp;
	bool file_open, pcap_open, udp_open;
#ifdef FKS_HAVE_DPDK_XPORT
	struct xport_dpdk dpdk;
	bool dpdk_open;
	char *eal_argv[DPDK_MAX_ARGS];
	char eal_buf[FKS_FEED_TEXT_MAX + 8];
#endif
	uint64_t file_size;
	/* replay pacing, done here rather than in the transport's pacer so a
	 * long quiet spell in a recording is waited out in short slices that
	 * let the caller beat its heartbeat and see a stop */
	double speed;
	bool paced_anchor;
	int64_t pace_t0, pace_start, pace_last;
	uint64_t pace_backwards, pace_jumps;
	int (*wait_hook)(void *ctx);
	void *wait_ctx;
	/* the poll in progress */
	feed_emit_fn emit;
	void *ctx;
	uint32_t budget, polled;
	uint64_t messages;
	bool ended;
	char err[320];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *const type_names[] = {
	[FKS_FEED_SYNTHETIC] = "synthetic", [FKS_FEED_ITCH] = "itch",
	[FKS_FEED_BINANCE] = "binance",     [FKS_FEED_BYBIT] = "bybit",
	[FKS_FEED_COINBASE] = "coinbase",   [FKS_FEED_KRAKEN] = "kraken",
};

const char *feed_source_type_name(enum fks_feed_type t)
{
	return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : NULL;
}

enum fks_feed_type feed_source_type_parse(const char *name)
{
	for (unsigned t = 1; t < sizeof type_names / sizeof *type_names; t++)
		if (type_names[t] && !strcmp(type_names[t], name))
			return (enum fks_feed_type)t;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's
 * algorithm), so no time zone database and no mktime/TZ are involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static const unsigned char days_in_month[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

int64_t feed_source_session_midnight(const char *date, int32_t utc_offset_min)
{
	int y, m, d, used = 0;
	if (!date || sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || date[used] || used != 10)
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month[m - 1])
		return -1;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return -1;
	/* Local midnight is UTC midnight minus the offset east of UTC. */
	int64_t s = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 - (int64_t)utc_offset_min * 60;
	return s < 0 ? -1 : s * 1000000000;
}

/* Today's midnight in the zone utc_offset_min east of UTC (live sources). */
static int64_t today_midnight(int32_t utc_offset_min)
{
	int64_t local = clock_real_ns() / CLOCK_NS_PER_SEC + (int64_t)utc_offset_min * 60;
	int64_t day = local >= 0 ? local / 86400 : 0;
	int64_t s = day * 86400 - (int64_t)utc_offset_min * 60;
	return s < 0 ? 0 : s * 1000000000;
}

static double speed_of(const char *speed)
{
	if (!speed[0] || !strcmp(speed, "asap"))
		return 0;
	char *end;
	double x = strtod(speed, &end);
	return *end || !(x > 0) ? 0 : x;
}

/* ---- delivery ------------------------------------------------------------ */

static int64_t itch_record_ns(void *ctx, const uint8_t *msg, size_t len);

#define PACE_SLICE_NS 10000000LL              /* longest sleep between hook calls */
#define PACE_MAX_GAP_NS XPORT_PACER_MAX_GAP_NS /* recorded gap that re-anchors */

/* Wait until the message recorded at rec_ns is due: the rule of struct
 * xport_pacer (xport.h), slept in slices. */
static void pace(struct feed_source *s, int64_t rec_ns)
{
	if (s->speed <= 0 || rec_ns == XPORT_NO_TIME)
		return;
	int64_t now = clock_mono_ns();
	if (!s->paced_anchor || rec_ns - s->pace_last > PACE_MAX_GAP_NS) {
		if (s->paced_anchor)
			s->pace_jumps++;
		s->paced_anchor = true;
		s->pace_t0 = s->pace_last = rec_ns;
		s->pace_start = now;
		return;
	}
	if (rec_ns < s->pace_last) {
		s->pace_backwards++;
		return;
	}
	s->pace_last = rec_ns;
	int64_t due = s->pace_start + (int64_t)((double)(rec_ns - s->pace_t0) / s->speed);
	while (now < due) {
		int64_t t = due - now < PACE_SLICE_NS ? due : now + PACE_SLICE_NS;
		struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (s->wait_hook && s->wait_hook(s->wait_ctx))
			return; /* stopping: hand it over now */
		now = clock_mono_ns();
	}
}

static int deliver_itch(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct feed_source *s = ctx;
	if (s->speed > 0)
		pace(s, itch_record_ns(s, msg, len));
	itch_decode(s->itch, (const char *)msg, len, recv_ns, s->emit, s->ctx);
	s->messages++;
	return ++s->polled >= s->budget;
}

static int deliver_mold(void *ctx, const uint8_t *pkt, size_t len, int64_t recv_ns)
{
	struct feed_source *s = ctx;
	if (s->speed > 0 && s->pcap_open)
		pace(s, xport_pcap_record_ns(&s->pcap));
	uint64_t before = s->mold.st.messages;
	moldudp_itch_packet(&s->mold, s->itch, (const char *)pkt, len, recv_ns, s->emit, s->ctx);
	uint64_t n = s->mold.st.messages - before;
	s->messages += n;
	s->polled += (uint32_t)n;
	return s->polled >= s->budget;
}

static int deliver_json(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct feed_source *s = ctx;
	if (s->speed > 0 && s->file_open)
		pace(s, xport_file_record_ns(&s->file));
	s->jops->decode(s->json, (const char *)msg, len, recv_ns, s->emit, s->ctx);
	s->messages++;
	return ++s->polled >= s->budget;
}

/* A negative return would only be counted again by the client (the
 * decoder counted the reason already): always go on. */
static int deliver_ws(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct feed_source *s = ctx;
	s->jops->decode(s->json, (const char *)msg, len, recv_ns, s->emit, s->ctx);
	s->messages++;
	s->polled++;
	return 0;
}

/* ---- live Binance depth: REST snapshots ------------------------------------ */

/* The schedule slot of instrument (the decoder has at most
 * BINANCE_MAX_BOOKS depth books, so a slot is always found). */
static size_t rest_slot(struct feed_source *s, uint32_t inst)
{
	for (size_t i = 0; i < BINANCE_MAX_BOOKS; i++)
		if (s->rest_inst[i] == inst)
			return i;
	for (size_t i = 0; i < BINANCE_MAX_BOOKS; i++)
		if (!s->rest_inst[i]) {
			s->rest_inst[i] = inst;
			return i;
		}
	return 0;
}

/* Exponential back-off after a failed or rejected snapshot, so a venue
 * that answers 429/418 or a stream that keeps gapping is not hammered. */
static void rest_backoff(struct feed_source *s, size_t k, int64_t now)
{
	int64_t d = REST_BACKOFF_MIN_NS;
	for (unsigned i = 0; i < s->rest_fails[k] && d < REST_BACKOFF_MAX_NS; i++)
		d *= 2;
	s->rest_next_ns[k] = now + (d < REST_BACKOFF_MAX_NS ? d : REST_BACKOFF_MAX_NS);
	if (s->rest_fails[k] < 255)
		s->rest_fails[k]++;
}

/*
 * Fetch the REST snapshot of every depth book the decoder lists as waiting
 * for one (first depthUpdate seen, a gap, a buffer overflow) and whose
 * back-off has passed, and hand it to the decoder, which replays the
 * buffered diffs.  Blocking, up to REST_TIMEOUT_MS per fetch: this runs
 * only on a resync.  Until a snapshot lands the book stays stale and its
 * diffs stay buffered (feeds/binance.h).
 */
static void binance_rest_sync(struct feed_source *s)
{
	uint32_t ids[BINANCE_MAX_BOOKS];
	size_t n = binance_pending_snapshots(s->json, ids, BINANCE_MAX_BOOKS);
	for (size_t i = 0; i < n; i++) {
		size_t k = rest_slot(s, ids[i]);
		if (clock_mono_ns() < s->rest_next_ns[k])
			continue;
		const struct feed_symbol *sym = feed_symtab_get(s->symbols, ids[i]);
		if (!sym)
			continue;
		size_t nl = strnlen(sym->name, sizeof sym->name);
		char up[sizeof sym->name + 1];
		for (size_t j = 0; j < nl; j++) /* REST wants BTCUSDT, the streams btcusdt */
			up[j] = (char)(sym->name[j] >= 'a' && sym->name[j] <= 'z' ? sym->name[j] - 32 : sym->name[j]);
		up[nl] = 0;
		char url[REST_BASE_MAX + 128];
		snprintf(url, sizeof url, "%s%s?symbol=%s&limit=1000", s->rest_base,
			 s->rest_futures ? "/fapi/v1/depth" : "/api/v3/depth", up);
		struct https_response r;
		int rc = https_get(s->rest, url, &r);
		int64_t now = clock_mono_ns();
		if (rc) {
			s->rest_failures++;
			rest_backoff(s, k, now);
			continue;
		}
		int e = binance_snapshot_json(s->json, sym->name, nl, r.body, r.len, now, s->emit, s->ctx);
		s->messages++;
		s->polled++;
		if (e || binance_needs_snapshot(s->json, ids[i])) {
			/* a bad body, or one older than the buffered diffs (they
			 * gap against it): the decoder asked again */
			s->rest_rejected++;
			rest_backoff(s, k, now);
		} else {
			s->rest_snapshots++;
			s->rest_fails[k] = 0;
			s->rest_next_ns[k] = now + REST_MIN_INTERVAL_NS;
		}
	}
}

/* REST base URL for a Binance websocket URL override: a loopback test
 * server (127.0.0.1, localhost, [::1]) serves REST on the same host and
 * port; anything else (and no override) gets the production REST host. */
static void binance_rest_base(char *out, size_t cap, const char *ws_url, bool futures)
{
	const char *def = futures ? "https://fapi.binance.com" : "https://api.binance.com";
	snprintf(out, cap, "%s", def);
	if (!ws_url || strncasecmp(ws_url, "wss://", 6))
		return;
	const char *h = ws_url + 6;
	size_t hl = strcspn(h, "/?");
	static const char *const loop[] = { "127.0.0.1", "localhost", "[::1]" };
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(loop[i]);
		if (hl >= l && !strncasecmp(h, loop[i], l) && (hl == l || h[l] == ':')) {
			snprintf(out, cap, "https://%.*s", (int)hl, h);
			return;
		}
	}
}

int feed_source_set_binance_rest(struct feed_source *s, const char *base_url, const char *ca_file, char *err,
				 size_t errlen)
{
	if (!s->rest) {
		set_err(err, errlen, "not a live Binance source");
		return -1;
	}
	if (!base_url || strncasecmp(base_url, "https://", 8) || strlen(base_url) >= sizeof s->rest_base) {
		set_err(err, errlen, "REST base must be https://host[:port], under %d bytes", REST_BASE_MAX);
		return -1;
	}
	if (ca_file) {
		struct https_config hc = { .ca_file = ca_file, .timeout_ms = REST_TIMEOUT_MS, .max_body = REST_MAX_BODY };
		struct https_client *h = https_client_new(&hc, err, errlen);
		if (!h)
			return -1;
		https_client_free(s->rest);
		s->rest = h;
	}
	snprintf(s->rest_base, sizeof s->rest_base, "%s", base_url);
	size_t l = strlen(s->rest_base);
	while (l && s->rest_base[l - 1] == '/')
		s->rest_base[--l] = 0;
	return 0;
}

static void ws_state(void *ctx, enum ws_state st)
{
	struct feed_source *s = ctx;
	if (st == WS_RECONNECTED) {
		s->ws_reconnects++;
		/* Coinbase restarts its sequence numbers; the others resync from
		 * the snapshot that follows the resubscribe. */
		if (s->jops->reconnected)
			s->jops->reconnected(s->json);
	}
}

/* Raw ITCH files are paced by the message's own timestamp: bytes 5..10,
 * big-endian ns since midnight. */
static int64_t itch_record_ns(void *ctx, const uint8_t *msg, size_t len)
{
	const struct feed_source *s = ctx;
	if (len < 11)
		return XPORT_NO_TIME;
	uint64_t t = 0;
	for (int i = 5; i < 11; i++)
		t = t << 8 | msg[i];
	return s->itch->midnight_ns + (int64_t)t;
}

/* ---- open / close -------------------------------------------------------- */

/* "host:port" -> host (in buf) and port. */
static int split_addr(const char *addr, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= cap)
		return -1;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == 0 || p == 0 || p > 65535)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) != 1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static bool is_multicast(const char *host)
{
	struct in_addr a;
	return inet_pton(AF_INET, host, &a) == 1 && IN_MULTICAST(ntohl(a.s_addr));
}

static int open_itch(struct feed_source *s, char *err, size_t errlen)
{
	const struct fks_feed_cfg *c = &s->cfg;
	if (!s->symbols->learn)
		for (uint32_t id = 1; id <= s->symbols->n; id++) {
			const struct feed_symbol *sym = feed_symtab_get(s->symbols, id);
			if (sym->px_scale != ITCH_PX_SCALE || sym->qty_scale != ITCH_QTY_SCALE) {
				set_err(err, errlen,
					"itch: instrument %.*s must have px_scale %d and qty_scale %d (ITCH prices "
					"have 4 decimals, quantities are whole shares)",
					(int)sym->len, sym->name, ITCH_PX_SCALE, ITCH_QTY_SCALE);
				return -1;
			}
		}
	int64_t midnight;
	if (c->session_date[0]) {
		midnight = feed_source_session_midnight(c->session_date, c->utc_offset_min);
		if (midnight < 0) {
			set_err(err, errlen, "itch: bad session_date \"%s\" (expected YYYY-MM-DD, 1970 or later)",
				c->session_date);
			return -1;
		}
	} else if (c->source == FKS_SOURCE_UDP || c->source == FKS_SOURCE_DPDK) {
		midnight = today_midnight(c->utc_offset_min);
	} else {
		midnight = 0; /* a recording without a date: ns since its midnight */
	}
	s->itch = calloc(1, sizeof *s->itch);
	struct itch_cfg ic = {
		.session_midnight_ns = midnight,
		/* learning: room for as many stocks as the table can name */
		.max_books = s->symbols->learn ? FEED_MAX_SYMBOLS : (s->symbols->n ? s->symbols->n : 1),
	};
	if (!s->itch || itch_init(s->itch, s->symbols, &ic) != 0) {
		free(s->itch);
		s->itch = NULL;
		set_err(err, errlen, "itch: cannot allocate the books and order table");
		return -1;
	}
	moldudp_init(&s->mold);
	s->speed = speed_of(c->speed);
	switch (c->source) {
	case FKS_SOURCE_FILE: {
		struct xport_file_opts o = {
			.format = XPORT_FILE_RAW,
			.size_of_type = itch_msg_len,
			/* paced here (pace()), not by the transport */
		};
		int rc = xport_file_open(&s->file, c->path, &o);
		if (rc) {
			set_err(err, errlen, "%s: %s", c->path, strerror(-rc));
			return -1;
		}
		s->file_open = true;
		s->file_size = s->file.size;
		return 0;
	}
	case FKS_SOURCE_PCAP: {
		struct xport_pcap_opts o = { .speed = 0 };
		if (c->address[0]) {
			char host[64];
			uint16_t port;
			if (split_addr(c->address, host, sizeof host, &port)) {
				set_err(err, errlen, "feed.address \"%s\": expected ipv4:port", c->address);
				return -1;
			}
			struct in_addr a;
			inet_pton(AF_INET, host, &a);
			o.filter.dst_addr = ntohl(a.s_addr);
			o.filter.dst_port = port;
		}
		if (xport_pcap_open(&s->pcap, c->path, &o)) {
			set_err(err, errlen, "%s: %s", c->path, s->pcap.errbuf);
			return -1;
		}
		s->pcap_open = true;
		struct stat st;
		if (stat(c->path, &st) == 0)
			s->file_size = (uint64_t)st.st_size;
		return 0;
	}
	case FKS_SOURCE_UDP: {
		struct xport_udp_opts o = { 0 };
		char host[64];
		if (split_addr(c->address, host, sizeof host, &o.port)) {
			set_err(err, errlen, "feed.address \"%s\": expected ipv4:port (a multicast group or a local address)",
				c->address);
			return -1;
		}
		if (is_multicast(host)) {
			o.groups[0] = host;
			o.iface = c->interface[0] ? c->interface : NULL;
		} else {
			o.bind_addr = host;
		}
		if (xport_udp_open(&s->udp, &o)) {
			set_err(err, errlen, "udp %s: %s", c->address, s->udp.errbuf);
			return -1;
		}
		s->udp_open = true;
		return 0;
	}
	case FKS_SOURCE_DPDK: {
#ifdef FKS_HAVE_DPDK_XPORT
		snprintf(s->eal_buf, sizeof s->eal_buf, "%s", c->dpdk_args);
		int argc = 0;
		s->eal_argv[argc++] = "fks-feed";
		for (char *save = NULL, *t = strtok_r(s->eal_buf, " \t", &save); t && argc < DPDK_MAX_ARGS - 1;
		     t = strtok_r(NULL, " \t", &save))
			s->eal_argv[argc++] = t;
		s->eal_argv[argc] = NULL;
		struct xport_dpdk_opts o = { .eal_argc = argc, .eal_argv = s->eal_argv };
		if (xport_dpdk_open(&s->dpdk, &o)) {
			set_err(err, errlen, "dpdk: %s", s->dpdk.errbuf);
			return -1;
		}
		s->dpdk_open = true;
		return 0;
#else
		set_err(err, errlen, "dpdk: this fks was built without DPDK (libdpdk not found at build time)");
		return -1;
#endif
	}
	case FKS_SOURCE_WEBSOCKET:
		break;
	}
	set_err(err, errlen, "itch: unsupported source");
	return -1;
}

static int open_json(struct feed_source *s, char *err, size_t errlen)
{
	const struct fks_feed_cfg *c = &s->cfg;
	uint32_t nb = s->symbols->learn ? 64 : (s->symbols->n ? s->symbols->n : 1);
	int rc = -1;
	enum ws_venue v = WS_VENUE_BINANCE_SPOT;
	unsigned channels = WS_CH_TRADE | WS_CH_BOOK;
	bool futures = !strcmp(c->market, "futures");
	switch (c->type) {
	case FKS_FEED_BINANCE:
		s->jops = &ops_binance;
		if ((s->json = calloc(1, sizeof(struct binance))))
			rc = binance_init(s->json, s->symbols);
		v = futures ? WS_VENUE_BINANCE_FUTURES : WS_VENUE_BINANCE_SPOT;
		/* trades and depth diffs; the quotes come from the synced book
		 * (binance_rest_sync fetches its snapshots), not bookTicker,
		 * so there is one top of book, never two disagreeing ones */
		channels = WS_CH_TRADE | WS_CH_BOOK;
		break;
	case FKS_FEED_BYBIT:
		s->jops = &ops_bybit;
		if ((s->json = calloc(1, sizeof(struct bybit))))
			rc = bybit_init(s->json, s->symbols);
		v = futures ? WS_VENUE_BYBIT_LINEAR : WS_VENUE_BYBIT_SPOT;
		break;
	case FKS_FEED_COINBASE:
		s->jops = &ops_coinbase;
		if ((s->json = calloc(1, sizeof(struct coinbase))))
			rc = coinbase_init(s->json, s->symbols, nb, 8192, 1 << 17);
		v = WS_VENUE_COINBASE;
		channels = WS_CH_TRADE | WS_CH_TOP | WS_CH_BOOK | WS_CH_HEARTBEAT;
		break;
	case FKS_FEED_KRAKEN:
		s->jops = &ops_kraken;
		if ((s->json = calloc(1, sizeof(struct kraken))))
			rc = kraken_init(s->json, s->symbols, nb, c->depth ? c->depth : (s->symbols->learn ? 1000 : 10),
					 1 << 16);
		v = WS_VENUE_KRAKEN;
		break;
	default:
		break;
	}
	if (rc) {
		if (s->json && s->jops && s->jops->free)
			s->jops->free(s->json);
		else
			free(s->json);
		s->json = NULL;
		set_err(err, errlen, "%s: cannot set up the decoder (out of memory)", feed_source_type_name(c->type));
		return -1;
	}
	s->speed = speed_of(c->speed);
	if (c->source == FKS_SOURCE_FILE) {
		struct xport_file_opts o = { .format = XPORT_FILE_JSONL };
		int e = xport_file_open(&s->file, c->path, &o);
		if (e) {
			set_err(err, errlen, "%s: %s", c->path, strerror(-e));
			return -1;
		}
		s->file_open = true;
		s->file_size = s->file.size;
		return 0;
	}
	if (c->source != FKS_SOURCE_WEBSOCKET) {
		set_err(err, errlen, "%s: only file (JSON lines) and websocket sources", feed_source_type_name(c->type));
		return -1;
	}
	const char *syms[WS_VENUE_MAX_SYMBOLS];
	size_t n = 0;
	for (uint32_t id = 1; id <= s->symbols->n && n < WS_VENUE_MAX_SYMBOLS; id++) {
		const struct feed_symbol *sym = feed_symtab_get(s->symbols, id);
		syms[n++] = sym->name; /* NUL-padded: a C string */
	}
	int pv = ws_venue_plan(&s->plan, v, syms, n, channels, c->depth, c->url[0] ? c->url : NULL);
	if (pv) {
		set_err(err, errlen, "%s websocket: %s", ws_venue_name(v), ws_venue_strerror(pv));
		return -1;
	}
	struct ws_config wc = { 0 };
	ws_venue_apply(&s->plan, &wc);
	wc.ca_file = c->ca_file[0] ? c->ca_file : NULL;
	wc.deliver = deliver_ws;
	wc.on_state = ws_state;
	wc.ctx = s;
	wc.seed = c->seed;
	char e2[WS_ERROR_MAX];
	s->ws = ws_client_new(&wc, e2, sizeof e2);
	if (!s->ws) {
		set_err(err, errlen, "%s websocket: %s", ws_venue_name(v), e2);
		return -1;
	}
	if (c->type == FKS_FEED_BINANCE) {
		struct https_config hc = { .ca_file = wc.ca_file, .timeout_ms = REST_TIMEOUT_MS,
					   .max_body = REST_MAX_BODY };
		s->rest = https_client_new(&hc, e2, sizeof e2);
		if (!s->rest) {
			set_err(err, errlen, "%s REST: %s", ws_venue_name(v), e2);
			return -1;
		}
		s->rest_futures = futures;
		if (c->rest_url[0])
			snprintf(s->rest_base, sizeof s->rest_base, "%s", c->rest_url);
		else
			binance_rest_base(s->rest_base, sizeof s->rest_base, c->url[0] ? c->url : NULL, futures);
	}
	return 0;
}

struct feed_source *feed_source_open(const struct fks_feed_cfg *cfg, struct feed_symtab *symbols,
				     char *err, size_t errlen)
{
	set_err(err, errlen, "%s", "");
	struct feed_source *s = calloc(1, sizeof *s);
	if (!s) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->symbols = symbols;
	int rc;
	switch (cfg->type) {
	case FKS_FEED_ITCH:
		rc = open_itch(s, err, errlen);
		break;
	case FKS_FEED_BINANCE:
	case FKS_FEED_BYBIT:
	case FKS_FEED_COINBASE:
	case FKS_FEED_KRAKEN:
		rc = open_json(s, err, errlen);
		break;
	default:
		set_err(err, errlen, "feed.type %s: not supported by this build's feed stage",
			feed_source_type_name(cfg->type) ? feed_source_type_name(cfg->type) : "?");
		rc = -1;
		break;
	}
	if (rc) {
		feed_source_close(s);
		return NULL;
	}
	return s;
}

void feed_source_close(struct feed_source *s)
{
	if (!s)
		return;
	if (s->file_open)
		xport_file_close(&s->file);
	if (s->pcap_open)
		xport_pcap_close(&s->pcap);
	if (s->udp_open)
		xport_udp_close(&s->udp);
#ifdef FKS_HAVE_DPDK_XPORT
	if (s->dpdk_open)
		xport_dpdk_close(&s->dpdk);
#endif
	if (s->itch) {
		itch_free(s->itch);
		free(s->itch);
	}
	if (s->ws)
		ws_client_free(s->ws);
	https_client_free(s->rest);
	if (s->json) {
		if (s->jops->free)
			s->jops->free(s->json);
		else
			free(s->json);
	}
	free(s);
}

/* ---- poll ---------------------------------------------------------------- */

int feed_source_poll(struct feed_source *s, feed_emit_fn emit, void *ctx, uint32_t max_msgs, int timeout_ms)
{
	if (s->ended)
		return FEED_SOURCE_END;
	s->emit = emit;
	s->ctx = ctx;
	s->budget = max_msgs ? max_msgs : 1;
	s->polled = 0;
	int rc = 0;
	if (s->ws) {
		ws_client_run(s->ws, timeout_ms > 0 ? timeout_ms : 1);
		if (s->rest)
			binance_rest_sync(s);
		return (int)s->polled;
	}
	if (s->file_open) {
		rc = xport_file_run(&s->file, s->json ? deliver_json : deliver_itch, s);
	} else if (s->pcap_open) {
		rc = xport_pcap_run(&s->pcap, deliver_mold, s);
	} else if (s->udp_open) {
		if (xport_udp_poll(&s->udp, timeout_ms, deliver_mold, s) < 0) {
			snprintf(s->err, sizeof s->err, "udp: %s", s->udp.errbuf);
			return FEED_SOURCE_E_TRANSPORT;
		}
		return (int)s->polled;
	}
#ifdef FKS_HAVE_DPDK_XPORT
	else if (s->dpdk_open) {
		xport_dpdk_poll(&s->dpdk, deliver_mold, s);
		return (int)s->polled;
	}
#endif
	/* Recordings: run returns 0 at the end of the data. */
	if (rc == 0) {
		s->ended = true;
		if (!s->polled)
			return FEED_SOURCE_END;
	}
	return (int)s->polled;
}

void feed_source_set_wait_hook(struct feed_source *s, int (*hook)(void *ctx), void *ctx)
{
	s->wait_hook = hook;
	s->wait_ctx = ctx;
}

const char *feed_source_error(const struct feed_source *s) { return s->err; }

bool feed_source_is_recording(const struct feed_source *s)
{
	return s->cfg.source == FKS_SOURCE_FILE || s->cfg.source == FKS_SOURCE_PCAP;
}

uint64_t feed_source_messages(const struct feed_source *s) { return s->messages; }

size_t feed_source_counts(const struct feed_source *s, const struct named_counter **out)
{
	if (s->itch)
		return itch_counts(s->itch, out);
	if (s->json)
		return s->jops->counts(s->json, out);
	*out = NULL;
	return 0;
}

size_t feed_source_errors(const struct feed_source *s, const struct named_counter **out)
{
	if (s->itch)
		return itch_errors(s->itch, out);
	if (s->json)
		return s->jops->errors(s->json, out);
	*out = NULL;
	return 0;
}

static size_t put(struct named_counter *out, size_t cap, size_t n, const char *name, uint64_t v)
{
	if (n < cap)
		out[n] = (struct named_counter){ name, v };
	return n + 1;
}

static size_t put_all(struct named_counter *out, size_t cap, size_t n, const struct named_counter *c,
		      size_t k, size_t first)
{
	for (size_t i = first; i < k; i++)
		n = put(out, cap, n, c[i].name, c[i].n);
	return n;
}

size_t feed_source_xport_counters(const struct feed_source *s, struct named_counter *out, size_t cap)
{
	size_t n = 0;
	const struct named_counter *c;
	if (s->file_open) {
		size_t k = xport_file_errors(&s->file, &c);
		n = put_all(out, cap, n, c, k, 0);
		n = put(out, cap, n, "skipped", s->file.stats.skipped);
	}
	if (s->pcap_open) {
		size_t k = xport_pcap_errors(&s->pcap, &c);
		n = put_all(out, cap, n, c, k, 1); /* [0] is "ok" */
		n = put(out, cap, n, "filtered", s->pcap.stats.skipped);
	}
	if (s->udp_open) {
		size_t k = xport_udp_errors(&s->udp, &c);
		n = put_all(out, cap, n, c, k, 0);
	}
#ifdef FKS_HAVE_DPDK_XPORT
	if (s->dpdk_open) {
		xport_dpdk_refresh_hw((struct xport_dpdk *)&s->dpdk);
		size_t k = xport_dpdk_errors(&s->dpdk, &c);
		n = put_all(out, cap, n, c, k, 1);
	}
#endif
	if (s->pcap_open || s->udp_open
#ifdef FKS_HAVE_DPDK_XPORT
	    || s->dpdk_open
#endif
	) {
		const struct moldudp_stats *m = &s->mold.st;
		n = put(out, cap, n, "mold_packets", m->packets);
		n = put(out, cap, n, "mold_heartbeats", m->heartbeats);
		n = put(out, cap, n, "mold_end_of_session", m->end_of_session);
		n = put(out, cap, n, "mold_gaps", m->gaps);
		n = put(out, cap, n, "mold_missed", m->missed);
		n = put(out, cap, n, "mold_duplicates", m->duplicates);
		n = put(out, cap, n, "mold_dup_messages", m->dup_messages);
		n = put(out, cap, n, "mold_malformed", m->malformed);
		n = put(out, cap, n, "mold_session_changes", m->session_changes);
	}
	if (s->ws) {
		struct named_counter w[WS_STATS_COUNT];
		size_t k = ws_client_counters(s->ws, w, WS_STATS_COUNT);
		n = put_all(out, cap, n, w, k < WS_STATS_COUNT ? k : WS_STATS_COUNT, 0);
	}
	if (s->rest) {
		n = put(out, cap, n, "rest_snapshots", s->rest_snapshots);
		n = put(out, cap, n, "rest_failures", s->rest_failures);
		n = put(out, cap, n, "rest_rejected", s->rest_rejected);
		struct named_counter h[HTTPS_STATS_COUNT];
		size_t k = https_client_counters(s->rest, h, HTTPS_STATS_COUNT);
		n = put_all(out, cap, n, h, k < HTTPS_STATS_COUNT ? k : HTTPS_STATS_COUNT, 0);
	}
	if (s->itch)
		n = put(out, cap, n, "ignored_messages", itch_ignored(s->itch));
	if (s->speed > 0) {
		n = put(out, cap, n, "pace_backwards", s->pace_backwards);
		n = put(out, cap, n, "pace_time_jumps", s->pace_jumps);
	}
	return n;
}

void feed_source_progress(const struct feed_source *s, uint64_t *done, uint64_t *total)
{
	*done = s->file_open ? s->file.stats.input_bytes : s->pcap_open ? s->pcap.stats.input_bytes : 0;
	*total = s->file_size;
}

/* ---- books --------------------------------------------------------------- */

bool feed_source_book(const struct feed_source *s, uint32_t instrument, struct feed_book_info *info)
{
	memset(info, 0, sizeof *info);
	if (s->itch) {
		const struct book_l3 *b = itch_book(s->itch, instrument);
		if (!b)
			return false;
		info->bid_levels = b->bid.n;
		info->ask_levels = b->ask.n;
		info->unknown_refs = b->unknown_refs;
		info->has_unknown_refs = true;
		info->stale = b->stale;
		return true;
	}
	if (s->json) {
		const struct book_l2 *b = s->jops->book(s->json, instrument);
		if (!b)
			return false;
		info->bid_levels = b->bid.n;
		info->ask_levels = b->ask.n;
		info->stale = b->stale;
		return true;
	}
	return false;
}

uint32_t feed_source_book_top(const struct feed_source *s, uint32_t instrument, uint8_t side,
			      struct book_level *out, uint32_t n)
{
	if (s->itch) {
		const struct book_l3 *b = itch_book(s->itch, instrument);
		if (!b)
			return 0;
		const struct book_l3_side *sd = side == FKS_SIDE_BUY ? &b->bid : &b->ask;
		uint32_t k = 0;
		for (; k < n && k < sd->n; k++)
			out[k] = (struct book_level){ sd->lv[sd->n - 1 - k].px, sd->lv[sd->n - 1 - k].qty };
		return k;
	}
	if (s->json) {
		const struct book_l2 *b = s->jops->book(s->json, instrument);
		return b ? book_l2_top(b, side, out, n) : 0;
	}
	return 0;
}
