/*
 * Live Binance depth end to end: the websocket test server replays spot
 * depthUpdate diffs while the HTTPS test server serves the REST snapshot
 * (built here from $FKS_SHARED/data/binance/btcusdt-depth-snap.csv); the
 * feed source must fetch it, replay the buffered diffs and end with the
 * book a naive computation in this file gives.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/runtime/feed_source.h"
#include "tests/support/https_test_server.h"
#include "tests/support/ws_test_server.h"

#define L 2098021528332ull /* lastUpdateId of every row of the snapshot CSV */
#define NLV 200

struct lv { int64_t px, qty; };

/* "20377.00" at 2 decimals, "1.770" at 3, parsed here on their own. */
static int64_t fixed(const char *s, int scale)
{
	int64_t v = 0;
	int dec = -1;
	for (; *s && *s != '"' && *s != ','; s++) {
		if (*s == '.') { dec = 0; continue; }
		v = v * 10 + (*s - '0');
		if (dec >= 0) dec++;
	}
	for (; dec < scale; dec++) v *= 10;
	return v;
}

static void set_level(struct lv *side, size_t *n, int64_t px, int64_t qty)
{
	for (size_t i = 0; i < *n; i++)
		if (side[i].px == px) {
			if (qty) side[i].qty = qty;
			else side[i] = side[--*n];
			return;
		}
	if (qty) side[(*n)++] = (struct lv){ px, qty };
}

static int by_px_desc(const void *a, const void *b)
{
	int64_t x = ((const struct lv *)a)->px, y = ((const struct lv *)b)->px;
	return x < y ? 1 : x > y ? -1 : 0;
}
static int by_px_asc(const void *a, const void *b) { return -by_px_desc(a, b); }

/* The diffs: {U, u, bids, asks} (spot: U <= L+1 <= u straddles). */
struct diff { unsigned long long U, u; const char *b, *a; };
static const struct diff diffs[] = {
	{ L - 10, L - 1, "[[\"20377.00\",\"9.000\"]]", "[]" },                      /* older than the snapshot: dropped */
	{ L - 1, L + 2, "[[\"20377.00\",\"2.000\"],[\"20376.90\",\"0.000\"]]", "[[\"20380.00\",\"1.500\"]]" },
	{ L + 3, L + 5, "[[\"20377.10\",\"0.500\"]]", "[[\"20380.00\",\"0\"],[\"20381.00\",\"3.000\"],[\"20382.50\",\"0.250\"]]" },
	{ L + 6, L + 6, "[[\"20376.80\",\"0.000\"]]", "[]" },
};
#define NDIFF (sizeof diffs / sizeof *diffs)

/* Apply a JSON level list [["p","q"],...] to a naive side. */
static void apply_list(struct lv *side, size_t *n, const char *s)
{
	while ((s = strstr(s, "[\""))) {
		s += 2;
		int64_t px = fixed(s, 2);
		s = strstr(s, ",\"") + 2;
		set_level(side, n, px, fixed(s, 3));
	}
}

/* Events out of the source: all, and those flagged as snapshot. */
static uint64_t n_events, n_snapshot_events;
static void count_event(void *ctx, const union fks_event *ev)
{
	(void)ctx;
	n_events++;
	if (ev->h.flags & FKS_EVF_SNAPSHOT)
		n_snapshot_events++;
}

Test(binance_live, depth_book_synced_from_rest_snapshot, .timeout = 30)
{
	const char *shared = getenv("FKS_SHARED");
	cr_assert(shared, "FKS_SHARED is not set");
	char path[512];
	snprintf(path, sizeof path, "%s/data/binance/btcusdt-depth-snap.csv", shared);
	FILE *f = fopen(path, "r");
	cr_assert(f, "%s", path);

	static struct lv bid[NLV], ask[NLV];
	size_t nb = 0, na = 0;
	static char levels[16384];
	size_t used = 0;
	char line[256];
	cr_assert(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f)) {
		char side[4], px[32], qty[32];
		unsigned long long lid;
		cr_assert_eq(sscanf(line, "%*[^,],%*[^,],%*[^,],%llu,%3[^,],%*[^,],%31[^,],%31[^,],", &lid, side, px, qty), 4);
		cr_assert_eq(lid, L);
		cr_assert_eq(side[0], 'b');
		used += (size_t)snprintf(levels + used, sizeof levels - used, "%s[\"%s\",\"%s\"]", used ? "," : "", px, qty);
		set_level(bid, &nb, fixed(px, 2), fixed(qty, 3));
	}
	fclose(f);
	cr_assert_eq(nb, 100);
	static char body[20000];
	size_t blen = (size_t)snprintf(body, sizeof body, "{\"lastUpdateId\":%llu,\"bids\":[%s],\"asks\":[]}", L, levels);

	/* websocket lines, and the naive book: every diff with u > L */
	static char msg[NDIFF][512];
	const char *lines[NDIFF];
	size_t lens[NDIFF];
	for (size_t i = 0; i < NDIFF; i++) {
		lens[i] = (size_t)snprintf(msg[i], sizeof msg[i],
			"{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":%zu,\"s\":\"BTCUSDT\","
			"\"U\":%llu,\"u\":%llu,\"b\":%s,\"a\":%s}}",
			1667346580000 + i, diffs[i].U, diffs[i].u, diffs[i].b, diffs[i].a);
		lines[i] = msg[i];
		if (diffs[i].u > L) {
			apply_list(bid, &nb, diffs[i].b);
			apply_list(ask, &na, diffs[i].a);
		}
	}
	qsort(bid, nb, sizeof *bid, by_px_desc);
	qsort(ask, na, sizeof *ask, by_px_asc);
	cr_assert_eq(nb, 99);  /* 100 - 20376.90 - 20376.80 + 20377.10 */
	cr_assert_eq(na, 2);   /* 20381.00, 20382.50 */

	char err[256] = "";
	struct wsts_config wc = { .modes = { WSTS_REPLAY }, .n_modes = 1, .lines = lines, .line_len = lens,
				  .n_lines = NDIFF };
	struct wsts *ws = wsts_start(&wc, err, sizeof err);
	cr_assert(ws, "%s", err);
	struct hts_config hc = { .modes = { HTS_CHUNKED }, .n_modes = 1, .body = body, .body_len = blen, .chunk = 1500 };
	struct hts *rest = hts_start(&hc, err, sizeof err);
	cr_assert(rest, "%s", err);

	static struct feed_symtab symbols;
	feed_symtab_init(&symbols, false, 0, 0);
	uint32_t id = feed_symtab_add(&symbols, "BTCUSDT", 7, 2, 3);
	cr_assert_eq(id, 1u);
	struct fks_feed_cfg c;
	memset(&c, 0, sizeof c);
	c.type = FKS_FEED_BINANCE;
	c.source = FKS_SOURCE_WEBSOCKET;
	snprintf(c.market, sizeof c.market, "spot");
	snprintf(c.url, sizeof c.url, "wss://127.0.0.1:%u/stream", wsts_port(ws));
	snprintf(c.ca_file, sizeof c.ca_file, "%s", wsts_ca_file(ws));
	struct feed_source *src = feed_source_open(&c, &symbols, err, sizeof err);
	cr_assert(src, "%s", err);
	char base[64];
	snprintf(base, sizeof base, "https://127.0.0.1:%u/", hts_port(rest));
	cr_assert_eq(feed_source_set_option(src, "rest_ca_file", hts_ca_file(rest), err, sizeof err), 0, "%s", err);
	cr_assert_eq(feed_source_set_option(src, "rest_url", base, err, sizeof err), 0, "%s", err);

	struct feed_book_info info = { 0 };
	bool synced = false;
	for (int i = 0; i < 200 && !synced; i++) {
		feed_source_poll(src, count_event, NULL, 64, 20);
		synced = feed_source_messages(src) >= NDIFF + 1 && feed_source_book(src, id, &info) && !info.stale;
	}
	cr_assert(synced, "book not synced: %llu messages", (unsigned long long)feed_source_messages(src));
	cr_assert_eq(info.bid_levels, nb);
	cr_assert_eq(info.ask_levels, na);
	struct book_level top[NLV];
	uint32_t k = feed_source_book_top(src, id, FKS_SIDE_BUY, top, NLV);
	cr_assert_eq(k, nb);
	for (uint32_t i = 0; i < k; i++)
		cr_assert(top[i].px == bid[i].px && top[i].qty == bid[i].qty, "bid %u: %lld x %lld, want %lld x %lld", i,
			  (long long)top[i].px, (long long)top[i].qty, (long long)bid[i].px, (long long)bid[i].qty);
	k = feed_source_book_top(src, id, FKS_SIDE_SELL, top, NLV);
	cr_assert_eq(k, na);
	for (uint32_t i = 0; i < k; i++)
		cr_assert(top[i].px == ask[i].px && top[i].qty == ask[i].qty, "ask %u", i);
	/* hand-checked: best bid 20377.10 x 0.500 (diff 2), best ask 20381.00 x 3.000 */
	cr_assert_eq(bid[0].px, 2037710);
	cr_assert_eq(ask[0].px, 2038100);

	/* snapshot: CLEAR + 100 SETs + the quote, all flagged */
	cr_assert_eq(n_snapshot_events, 102);
	cr_assert(n_events > n_snapshot_events, "the replayed diffs emitted deltas too");

	struct named_counter x[FEED_SOURCE_MAX_XPORT_COUNTERS];
	size_t n = feed_source_xport_counters(src, x, FEED_SOURCE_MAX_XPORT_COUNTERS);
	cr_assert(n <= FEED_SOURCE_MAX_XPORT_COUNTERS);
	uint64_t snaps = 99, fails = 99;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(x[i].name, "rest_snapshots")) snaps = x[i].n;
		if (!strcmp(x[i].name, "rest_failures")) fails = x[i].n;
	}
	cr_assert_eq(snaps, 1);
	cr_assert_eq(fails, 0);
	feed_source_close(src);
	wsts_stop(ws);
	hts_stop(rest);
	/* the subscribe asked for the depth stream, and REST for the symbol */
	cr_assert(strstr(wsts_conn(ws, 0)->subscribe, "btcusdt@depth@100ms"), "%s", wsts_conn(ws, 0)->subscribe);
	cr_assert_eq(hts_n_conns(rest), 1);
	cr_assert_str_eq(hts_conn(rest, 0)->request_line, "GET /api/v3/depth?symbol=BTCUSDT&limit=1000 HTTP/1.1");
	wsts_free(ws);
	hts_free(rest);
}
