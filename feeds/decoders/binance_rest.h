/*
 * Live Binance depth books: the REST snapshots they are built from.
 *
 * A depth stream carries only diffs; the decoder (binance.h) buffers them
 * and lists the books waiting for a snapshot (first diff, a gap, a buffer
 * overflow).  binance_rest_sync fetches the snapshot of each such book,
 * GET {base}/api/v3/depth (spot) or /fapi/v1/depth (futures)
 * ?symbol=BTCUSDT&limit=1000, and hands it to the decoder, which replays
 * the buffered diffs.  Fetches block (up to 3 s each) and run only on a
 * resync; a failed or rejected snapshot backs off exponentially per book
 * (250 ms to 30 s), and a book is not fetched more than once a second
 * (Binance's request weight).
 */
#ifndef FKS_FEEDS_BINANCE_REST_H
#define FKS_FEEDS_BINANCE_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/decoders/binance.h"

struct binance_rest;

/*
 * The snapshot client.  base_url "https://host[:port]" or "" for the
 * default: the production REST host of the market, or the websocket url's
 * host and port when that is a loopback test server (ws_url may be "").
 * ca_file: extra trust anchors, or NULL.  NULL with the reason in err.
 */
struct binance_rest *binance_rest_new(const char *base_url, const char *ws_url, const char *ca_file, bool futures,
				      char *err, size_t errlen);
void binance_rest_free(struct binance_rest *r);

/* Replace the base URL ("https://host[:port]", trailing slashes dropped)
 * or the trust anchors.  0, or -1 with the reason in err (nothing changed). */
int binance_rest_set_base(struct binance_rest *r, const char *base_url, char *err, size_t errlen);
int binance_rest_set_ca_file(struct binance_rest *r, const char *ca_file, char *err, size_t errlen);

/* Fetch the snapshots the decoder waits for and whose back-off has
 * passed; returns how many bodies went to the decoder. */
uint32_t binance_rest_sync(struct binance_rest *r, struct binance *d, feed_emit_fn emit, void *ctx);

/* rest_snapshots, rest_failures, rest_rejected, then the HTTPS client's
 * counters; copies up to cap, returns how many there are. */
size_t binance_rest_counters(const struct binance_rest *r, struct named_counter *out, size_t cap);

#endif
