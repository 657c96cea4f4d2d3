/*
 * Bybit v5 public market data: orderbook.N snapshot and delta, and
 * publicTrade.  One websocket text frame (one JSON line of a recording) per
 * bybit_decode call.  Decoder shape: feeds/feed.h.
 *
 * Events (h.source FKS_STAGE_FEED, h.seq 0: the stage numbers them):
 *   orderbook  FKS_EV_BOOK_DELTA per changed level (update_id = "u"), then
 *              FKS_EV_QUOTE if the top changed; event time "ts" (ms -> ns)
 *   publicTrade FKS_EV_TRADE per element of "data"; aggressor from "S"
 *              (the taker's side: "Buy" or "Sell"); event time "T";
 *              trade_id is "i" when it is all digits, else a 64-bit
 *              FNV-1a hash of it (Bybit ids are often UUIDs)
 *
 * Book sync, per instrument.  A "snapshot" message, or any message with
 * u == 1 (Bybit: the service restarted and this is a fresh snapshot),
 * replaces the book: a FKS_BOOK_CLEAR then one SET per level, all flagged
 * FKS_EVF_SNAPSHOT.  A "delta" must carry u == previous u + 1; size "0"
 * deletes a level.  A delta that skips is a gap: counted ("gap"), the book
 * is cleared and marked stale (a CLEAR and an empty quote go out flagged
 * FKS_EVF_STALE) and deltas are refused ("not_synced") until the next
 * snapshot, which Bybit sends when the transport resubscribes:
 * bybit_needs_snapshot / bybit_pending_snapshots / resync_requests tell it
 * to.  A delta older than the book (u <= previous u) is dropped as
 * "stale_update".  A malformed message changes nothing; if it was a delta,
 * the next delta finds the gap.
 *
 * Other topics (tickers, kline, ...) are "unknown_type"; op replies
 * (subscribe, pong) are counted as "response".  Books hold BYBIT_BOOK_LEVELS
 * per side (orderbook.1000 fits).
 *
 * struct bybit is about 0.47 MB: allocate it once; nothing is allocated
 * after bybit_init.
 */
#ifndef FKS_FEEDS_BYBIT_H
#define FKS_FEEDS_BYBIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/feed.h"
#include "feeds/decoders/json.h"
#include "feeds/decoders/json_venue.h"

#define BYBIT_MAX_TOKENS 8192     /* a 1000+1000-level snapshot is ~6000 */
#define BYBIT_MAX_BOOKS 8
#define BYBIT_BOOK_LEVELS 1024

enum bybit_msg {
	BYBIT_MSG_SNAPSHOT, BYBIT_MSG_DELTA, BYBIT_MSG_TRADE, BYBIT_MSG_RESPONSE,
	BYBIT_MSG_COUNT_
};

struct bybit {
	struct json_venue v;      /* tokens, books, counters (json_venue.h); a
				   * book's sync is 1 once a snapshot is in */
	uint64_t resync_requests; /* times a book lost sync (gap) */

	/* json_venue's fixed storage */
	struct json_venue_book slots[BYBIT_MAX_BOOKS];
	struct book_level lv[BYBIT_MAX_BOOKS * 2 * BYBIT_BOOK_LEVELS];
	struct json_tok tok[BYBIT_MAX_TOKENS];
	struct book_level scratch[BYBIT_MAX_TOKENS / 3];
};

int bybit_init(struct bybit *d, struct feed_symtab *symbols);

/* One message; 0, or a negative enum json_err that is also counted. */
int bybit_decode(struct bybit *d, const char *msg, size_t len, int64_t recv_ns,
		 feed_emit_fn emit, void *ctx);

/* Whether instrument's book lost sync and waits for a snapshot, and the
 * list of all that do. */
bool bybit_needs_snapshot(const struct bybit *d, uint32_t instrument);
size_t bybit_pending_snapshots(const struct bybit *d, uint32_t *ids, size_t cap);

/* The book of instrument, or NULL when none has been seen. */
const struct book_l2 *bybit_book(const struct bybit *d, uint32_t instrument);

size_t bybit_counts(const struct bybit *d, const struct named_counter **out);
size_t bybit_errors(const struct bybit *d, const struct named_counter **out);

#endif
