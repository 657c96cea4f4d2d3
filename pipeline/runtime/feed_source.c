/*
 * Feed sources: a transport and a decoder, each found by name in its
 * registry (feeds/xport/transport.h, feeds/decoder.h) and driven through
 * its ops table alone; nothing here knows a venue or a transport.  The
 * transport delivers messages or packets to deliver_message /
 * deliver_packet below, which pace a replay, hand the bytes to the
 * decoder and stop the transport once the poll's message budget is spent.
 */
#include "pipeline/runtime/feed_source.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/decoders/timefmt.h"
#include "feeds/xport/transport.h"
#include "shm/clock.h"

struct feed_source {
	struct fks_feed_cfg cfg;
	struct feed_symtab *symbols;
	const struct feed_decoder_ops *dec;
	void *d;                       /* the decoder */
	const struct feed_xport_ops *xp;
	void *x;                       /* the transport */
	/* replay pacing, done here rather than in the transport's pacer so a
	 * long quiet spell in a recording is waited out in short slices that
	 * let the caller beat its heartbeat and see a stop */
	double speed;
	bool paced_anchor;
	int64_t pace_t0, pace_start, pace_last;
	uint64_t pace_backwards, pace_jumps;
	int (*wait_hook)(void *ctx);
	int64_t pace_slice_ns;  /* 0: PACE_SLICE_NS */
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

/* The config's names: feed.type names a decoder, feed.source a transport. */
static const char *const type_names[] = {
	[FKS_FEED_SYNTHETIC] = "synthetic", [FKS_FEED_ITCH] = "itch",
	[FKS_FEED_BINANCE] = "binance",     [FKS_FEED_BYBIT] = "bybit",
	[FKS_FEED_COINBASE] = "coinbase",   [FKS_FEED_KRAKEN] = "kraken",
};

static const char *const source_names[] = {
	[FKS_SOURCE_FILE] = "file", [FKS_SOURCE_PCAP] = "pcap", [FKS_SOURCE_UDP] = "udp",
	[FKS_SOURCE_DPDK] = "dpdk", [FKS_SOURCE_WEBSOCKET] = "websocket",
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

static const char *source_name(enum fks_feed_source src)
{
	return (unsigned)src < sizeof source_names / sizeof *source_names ? source_names[src] : NULL;
}

int64_t feed_source_session_midnight(const char *date, int32_t utc_offset_min)
{
	return timefmt_local_midnight_ns(date, utc_offset_min);
#include "shm/clock.h"
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
		int64_t slice = s->pace_slice_ns ? s->pace_slice_ns : PACE_SLICE_NS;
		int64_t t = due - now < slice ? due : now + slice;
		struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (s->wait_hook && s->wait_hook(s->wait_ctx))
			return; /* stopping: hand it over now */
		now = clock_mono_ns();
	}
}

/* One venue message from a message transport.  A recording is paced by
 * the message's own time when the format carries one (ITCH), else by the
 * transport's record of it. */
static int deliver_message(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct feed_source *s = ctx;
	if (s->speed > 0 && s->xp->recording)
		pace(s, s->dec->record_ns ? s->dec->record_ns(s->d, msg, len) : s->xp->record_ns(s->x));
	s->dec->decode(s->d, (const char *)msg, len, recv_ns, s->emit, s->ctx);
	s->messages++;
	return ++s->polled >= s->budget;
}

/* One packet of messages (MoldUDP64) from a packet transport. */
static int deliver_packet(void *ctx, const uint8_t *pkt, size_t len, int64_t recv_ns)
{
	struct feed_source *s = ctx;
	if (s->speed > 0 && s->xp->recording)
		pace(s, s->xp->record_ns(s->x));
	uint32_t n = s->dec->decode_packet(s->d, pkt, len, recv_ns, s->emit, s->ctx);
	s->messages += n;
	s->polled += n;
	return s->polled >= s->budget;
}

static void on_reconnect(void *ctx)
{
	struct feed_source *s = ctx;
	if (s->dec->reconnected)
		s->dec->reconnected(s->d);
#include "shm/clock.h"
}

/* ---- open / close -------------------------------------------------------- */

/* Find the decoder and transport the config names, and check they fit. */
static int find_ops(struct feed_source *s, char *err, size_t errlen)
{
	const char *type = feed_source_type_name(s->cfg.type), *src = source_name(s->cfg.source);
	s->dec = feed_decoder_find(type);
	if (!s->dec) {
		set_err(err, errlen, "feed.type %s: not supported by this build's feed stage", type ? type : "?");
		return -1;
	}
	s->xp = feed_xport_find(src);
	if (!s->xp) {
		set_err(err, errlen, "%s: unsupported source", type);
		return -1;
	}
	if (s->xp->packets && !s->dec->decode_packet) {
		set_err(err, errlen, "%s: only file (JSON lines) and websocket sources", type);
		return -1;
	}
	if (s->xp->websocket && !s->dec->websocket) {
		set_err(err, errlen, "%s: unsupported source", type);
		return -1;
	}
	return 0;
}

static struct feed_decoder_params decoder_params(const struct feed_source *s)
{
	const struct fks_feed_cfg *c = &s->cfg;
	return (struct feed_decoder_params){
		.symbols = s->symbols,
		.live = !s->xp->recording,
		.packets = s->xp->packets,
		.websocket = s->xp->websocket,
		.futures = !strcmp(c->market, "futures"),
		.depth = c->depth,
		.session_date = c->session_date,
		.utc_offset_min = c->utc_offset_min,
		.ws_url = c->url,
		.rest_url = c->rest_url,
		.ca_file = c->ca_file[0] ? c->ca_file : NULL,
	};
}

static int open_transport(struct feed_source *s, const struct feed_decoder_params *dp, char *err, size_t errlen)
{
	const struct fks_feed_cfg *c = &s->cfg;
	const char *syms[FEED_MAX_SYMBOLS];
	size_t n = 0;
	for (uint32_t id = 1; id <= s->symbols->n && n < FEED_MAX_SYMBOLS; id++)
		syms[n++] = feed_symtab_get(s->symbols, id)->name; /* NUL-padded: a C string */
	struct feed_xport_params p = {
		.path = c->path,
		.address = c->address,
		.interface = c->interface,
		.dpdk_args = c->dpdk_args,
		.framing = s->dec->framing,
		.size_of_type = s->dec->size_of_type,
		.symbols = syms,
		.n_symbols = n,
		.depth = c->depth,
		.url = c->url,
		.ca_file = c->ca_file[0] ? c->ca_file : NULL,
		.seed = c->seed,
		.on_reconnect = on_reconnect,
		.deliver = s->xp->packets ? deliver_packet : deliver_message,
		.ctx = s,
	};
	if (s->xp->websocket && !s->dec->websocket(dp, &p.ws)) {
		set_err(err, errlen, "%s: unsupported source", s->dec->name);
		return -1;
	}
	s->x = s->xp->open(&p, err, errlen);
	return s->x ? 0 : -1;
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
	s->speed = speed_of(cfg->speed);
	int rc = find_ops(s, err, errlen);
	if (!rc) {
		struct feed_decoder_params dp = decoder_params(s);
		s->d = s->dec->create(&dp, err, errlen);
		rc = s->d ? open_transport(s, &dp, err, errlen) : -1;
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
	if (s->x)
		s->xp->close(s->x);
	if (s->d)
		s->dec->destroy(s->d);
	free(s);
}

int feed_source_set_option(struct feed_source *s, const char *key, const char *value, char *err, size_t errlen)
{
	if (!s->dec->set_option) {
		set_err(err, errlen, "%s: no option \"%s\"", s->dec->name, key);
		return -1;
	}
	return s->dec->set_option(s->d, key, value, err, errlen);
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
	int rc = s->xp->poll(s->x, timeout_ms);
	if (rc < 0) {
		snprintf(s->err, sizeof s->err, "%s", s->xp->error(s->x));
		return FEED_SOURCE_E_TRANSPORT;
	}
	if (!s->xp->recording) {
		if (s->dec->upkeep) {
			uint32_t n = s->dec->upkeep(s->d, s->emit, s->ctx);
			s->messages += n;
			s->polled += n;
		}
		return (int)s->polled;
	}
	/* Recordings: poll returns 0 at the end of the data. */
	if (rc == 0) {
		s->ended = true;
		if (!s->polled)
			return FEED_SOURCE_END;
	}
	return (int)s->polled;
}

void feed_source_set_pace_slice(struct feed_source *s, int64_t ns)
{
	s->pace_slice_ns = ns;
}

void feed_source_set_wait_hook(struct feed_source *s, int (*hook)(void *ctx), void *ctx)
{
	s->wait_hook = hook;
	s->wait_ctx = ctx;
}

const char *feed_source_error(const struct feed_source *s) { return s->err; }

bool feed_source_is_recording(const struct feed_source *s) { return s->xp->recording; }

uint64_t feed_source_messages(const struct feed_source *s) { return s->messages; }

size_t feed_source_counts(const struct feed_source *s, const struct named_counter **out)
{
	return s->dec->counts(s->d, out);
}

size_t feed_source_errors(const struct feed_source *s, const struct named_counter **out)
{
	return s->dec->errors(s->d, out);
}

/* The transport's counters, then the decoder's (framing, snapshot
 * fetches), then the pacer's. */
size_t feed_source_xport_counters(const struct feed_source *s, struct named_counter *out, size_t cap)
{
	size_t n = s->xp->counters(s->x, out, cap);
	if (s->dec->counters)
		n += s->dec->counters(s->d, n < cap ? out + n : NULL, n < cap ? cap - n : 0);
	if (s->speed > 0) {
		n = feed_counter_put(out, cap, n, "pace_backwards", s->pace_backwards);
		n = feed_counter_put(out, cap, n, "pace_time_jumps", s->pace_jumps);
	}
	return n;
}

void feed_source_progress(const struct feed_source *s, uint64_t *done, uint64_t *total)
{
	*done = *total = 0;
	if (s->xp->progress)
		s->xp->progress(s->x, done, total);
}

/* ---- books --------------------------------------------------------------- */

bool feed_source_book(const struct feed_source *s, uint32_t instrument, struct feed_book_info *info)
{
	memset(info, 0, sizeof *info);
	return s->dec->book(s->d, instrument, info);
}

uint32_t feed_source_book_top(const struct feed_source *s, uint32_t instrument, uint8_t side,
			      struct book_level *out, uint32_t n)
{
	return s->dec->book_top(s->d, instrument, side, out, n);
}
