/* Live Binance depth: REST snapshot fetches (binance_rest.h). */
#include "feeds/decoders/binance_rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feeds/net/https_get.h"
#include "shm/clock.h"

#define REST_TIMEOUT_MS 3000             /* one blocking fetch, connect to last byte */
#define REST_MAX_BODY (4u << 20)         /* a 1000+1000-level body is ~60 KB */
#define REST_BACKOFF_MIN_NS 250000000LL  /* after a failed or rejected snapshot */
#define REST_BACKOFF_MAX_NS 30000000000LL
#define REST_MIN_INTERVAL_NS 1000000000LL /* per book, between fetches: Binance's request weight */
#define REST_BASE_MAX 256

struct binance_rest {
	struct https_client *http;
	char base[REST_BASE_MAX];                 /* "https://api.binance.com" */
	bool futures;
	int64_t next_ns[BINANCE_MAX_BOOKS];       /* per book slot: earliest next fetch */
	uint8_t fails[BINANCE_MAX_BOOKS];         /* consecutive failures: the back-off */
	uint32_t inst[BINANCE_MAX_BOOKS];         /* instrument of the slot */
	uint64_t snapshots, failures, rejected;
};

static struct https_client *http_new(const char *ca_file, char *err, size_t errlen)
{
	struct https_config hc = { .ca_file = ca_file, .timeout_ms = REST_TIMEOUT_MS, .max_body = REST_MAX_BODY };
	return https_client_new(&hc, err, errlen);
}

/* REST base URL for a Binance websocket URL override: a loopback test
 * server (127.0.0.1, localhost, [::1]) serves REST on the same host and
 * port; anything else (and no override) gets the production REST host. */
static void default_base(char *out, size_t cap, const char *ws_url, bool futures)
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

struct binance_rest *binance_rest_new(const char *base_url, const char *ws_url, const char *ca_file, bool futures,
				      char *err, size_t errlen)
{
	struct binance_rest *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->http = http_new(ca_file, err, errlen);
	if (!r->http) {
		free(r);
		return NULL;
	}
	r->futures = futures;
	if (base_url && base_url[0])
		snprintf(r->base, sizeof r->base, "%s", base_url);
	else
		default_base(r->base, sizeof r->base, ws_url && ws_url[0] ? ws_url : NULL, futures);
	return r;
}

void binance_rest_free(struct binance_rest *r)
{
	if (!r)
		return;
	https_client_free(r->http);
	free(r);
}

int binance_rest_set_base(struct binance_rest *r, const char *base_url, char *err, size_t errlen)
{
	if (!base_url || strncasecmp(base_url, "https://", 8) || strlen(base_url) >= sizeof r->base) {
		snprintf(err, errlen, "REST base must be https://host[:port], under %d bytes", REST_BASE_MAX);
		return -1;
	}
	snprintf(r->base, sizeof r->base, "%s", base_url);
	size_t l = strlen(r->base);
	while (l && r->base[l - 1] == '/')
		r->base[--l] = 0;
	return 0;
}

int binance_rest_set_ca_file(struct binance_rest *r, const char *ca_file, char *err, size_t errlen)
{
	struct https_client *h = http_new(ca_file, err, errlen);
	if (!h)
		return -1;
	https_client_free(r->http);
	r->http = h;
	return 0;
}

/* The schedule slot of instrument (the decoder has at most
 * BINANCE_MAX_BOOKS depth books, so a slot is always found). */
static size_t slot_of(struct binance_rest *r, uint32_t inst)
{
	for (size_t i = 0; i < BINANCE_MAX_BOOKS; i++)
		if (r->inst[i] == inst)
			return i;
	for (size_t i = 0; i < BINANCE_MAX_BOOKS; i++)
		if (!r->inst[i]) {
			r->inst[i] = inst;
			return i;
		}
	return 0;
}

/* Exponential back-off after a failed or rejected snapshot, so a venue
 * that answers 429/418 or a stream that keeps gapping is not hammered. */
static void backoff(struct binance_rest *r, size_t k, int64_t now)
{
	int64_t d = REST_BACKOFF_MIN_NS;
	for (unsigned i = 0; i < r->fails[k] && d < REST_BACKOFF_MAX_NS; i++)
		d *= 2;
	r->next_ns[k] = now + (d < REST_BACKOFF_MAX_NS ? d : REST_BACKOFF_MAX_NS);
	if (r->fails[k] < 255)
		r->fails[k]++;
}

/* GET the snapshot of sym; 0 with the response, or nonzero. */
static int fetch(struct binance_rest *r, const struct feed_symbol *sym, struct https_response *resp)
{
	size_t nl = strnlen(sym->name, sizeof sym->name);
	char up[sizeof sym->name + 1];
	for (size_t j = 0; j < nl; j++) /* REST wants BTCUSDT, the streams btcusdt */
		up[j] = (char)(sym->name[j] >= 'a' && sym->name[j] <= 'z' ? sym->name[j] - 32 : sym->name[j]);
	up[nl] = 0;
	char url[REST_BASE_MAX + 128];
	snprintf(url, sizeof url, "%s%s?symbol=%s&limit=1000", r->base,
		 r->futures ? "/fapi/v1/depth" : "/api/v3/depth", up);
	return https_get(r->http, url, resp);
}

/*
 * Until a snapshot lands the book stays stale and its diffs stay buffered
 * (binance.h); a body the decoder refuses, or one older than the buffered
 * diffs (they gap against it, so the decoder asks again), counts as
 * rejected and backs off like a failed fetch.
 */
uint32_t binance_rest_sync(struct binance_rest *r, struct binance *d, feed_emit_fn emit, void *ctx)
{
	uint32_t ids[BINANCE_MAX_BOOKS], handed = 0;
	size_t n = binance_pending_snapshots(d, ids, BINANCE_MAX_BOOKS);
	for (size_t i = 0; i < n; i++) {
		size_t k = slot_of(r, ids[i]);
		if (clock_mono_ns() < r->next_ns[k])
			continue;
		const struct feed_symbol *sym = feed_symtab_get(d->v.symbols, ids[i]);
		if (!sym)
			continue;
		struct https_response resp;
		int rc = fetch(r, sym, &resp);
		int64_t now = clock_mono_ns();
		if (rc) {
			r->failures++;
			backoff(r, k, now);
			continue;
		}
		size_t nl = strnlen(sym->name, sizeof sym->name);
		int e = binance_snapshot_json(d, sym->name, nl, resp.body, resp.len, now, emit, ctx);
		handed++;
		if (e || binance_needs_snapshot(d, ids[i])) {
			r->rejected++;
			backoff(r, k, now);
		} else {
			r->snapshots++;
			r->fails[k] = 0;
			r->next_ns[k] = now + REST_MIN_INTERVAL_NS;
		}
	}
	return handed;
}

size_t binance_rest_counters(const struct binance_rest *r, struct named_counter *out, size_t cap)
{
	size_t n = 0;
	n = feed_counter_put(out, cap, n, "rest_snapshots", r->snapshots);
	n = feed_counter_put(out, cap, n, "rest_failures", r->failures);
	n = feed_counter_put(out, cap, n, "rest_rejected", r->rejected);
	struct named_counter h[HTTPS_STATS_COUNT];
	size_t k = https_client_counters(r->http, h, HTTPS_STATS_COUNT);
	return feed_counter_put_all(out, cap, n, h, k < HTTPS_STATS_COUNT ? k : HTTPS_STATS_COUNT, 0);
}
