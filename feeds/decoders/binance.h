/*
 * Binance spot and USD-M futures market data: trade, aggTrade, bookTicker
 * and depthUpdate, bare or inside the combined-stream envelope
 * {"stream": "...", "data": {...}}.  One websocket text frame per
 * binance_decode call.  Decoder shape: feeds/feed.h.
 *
 * Events (h.source FKS_STAGE_FEED, h.seq 0: the stage numbers them;
 * h.event_time_ns from "T" where present, else "E", ms -> ns):
 *   trade, aggTrade   FKS_EV_TRADE; aggressor SELL when "m" (buyer is the
 *                     maker), else BUY; trade_id "t" / "a"
 *   bookTicker        FKS_EV_QUOTE straight from b/B/a/A (no book)
 *   depthUpdate       FKS_EV_BOOK_DELTA per changed level, then
 *                     FKS_EV_QUOTE if the top of the book changed
 *
 * Book sync, as Binance documents it ("How to manage a local order book
 * correctly"), per instrument:
 *
 *   NEED_SNAPSHOT  depthUpdates are buffered (raw bytes, a fixed buffer)
 *                  and the instrument is listed by binance_pending_snapshots:
 *                  the transport fetches GET /api/v3/depth (spot) or
 *                  /fapi/v1/depth (futures) and hands the body to
 *                  binance_snapshot_json, or the levels to binance_snapshot.
 *   WAIT_FIRST     the snapshot (lastUpdateId L) is in the book; buffered and
 *                  new events are dropped while too old (spot u <= L,
 *                  futures u < L); the first one applied must straddle:
 *                  spot U <= L+1 <= u, futures U <= L <= u or, equally
 *                  continuous, pu <= L <= u (a snapshot taken exactly
 *                  between two events).
 *   LIVE           each event must follow the previous one: spot U == prev
 *                  u + 1; futures (events carrying "pu") pu == prev u.  An
 *                  event wholly older than the book (u <= prev u) is
 *                  dropped and counted as stale_update.
 *
 * Anything else is a gap: counted ("gap"), the book is cleared and marked
 * stale (book.stale, and a FKS_BOOK_CLEAR delta plus an empty quote, both
 * flagged FKS_EVF_STALE, go out), the event is buffered, and the instrument
 * is back in NEED_SNAPSHOT; resync_requests counts every such request.
 * Never a silently wrong book.  A malformed depthUpdate that is lost breaks
 * the id chain, so the next one finds the gap.  A full diff buffer is
 * counted ("buffer_full"), drops that instrument's buffered events and
 * requests a new snapshot.
 *
 * Snapshot events are flagged FKS_EVF_SNAPSHOT: a CLEAR, one SET per level,
 * then the quote.  Buffered events replayed by the snapshot call go to the
 * emit callback given to that call, with their original receive times.
 *
 * Prices and quantities use the instrument's scales from the symbol table;
 * a value with more decimals is the "precision" error.  Books hold
 * BINANCE_BOOK_LEVELS per side (a 1000-level snapshot fits); beyond that the
 * worst level gives way (json_book_set).  Messages with other "e" types
 * (executionReport, kline, ...) are "unknown_type"; subscription replies
 * ({"result":..., "id":...}) are counted as "response".
 *
 * struct binance is large (about 0.75 MB: tokens, books, the diff buffer):
 * allocate it once; nothing is allocated after binance_init.
 */
#ifndef FKS_FEEDS_BINANCE_H
#define FKS_FEEDS_BINANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/feed.h"
#include "feeds/decoders/json.h"
#include "feeds/decoders/json_venue.h"

#define BINANCE_MAX_TOKENS 8192          /* a 1000+1000-level body is ~6000 */
#define BINANCE_MAX_BOOKS 8              /* instruments with a depth book */
#define BINANCE_BOOK_LEVELS 1024         /* per side */
#define BINANCE_BUF_BYTES (256 * 1024)   /* diffs buffered awaiting a snapshot */
#define BINANCE_BUF_MSGS 512

/* A book's json_venue sync; 0 is what json_venue_needs_snapshot looks for. */
enum binance_sync { BINANCE_NEED_SNAPSHOT = 0, BINANCE_WAIT_FIRST = 1, BINANCE_LIVE = 2 };

/* Message type counters (binance_counts), in this order. */
enum binance_msg {
	BINANCE_MSG_TRADE, BINANCE_MSG_AGG_TRADE, BINANCE_MSG_BOOK_TICKER,
	BINANCE_MSG_DEPTH_UPDATE, BINANCE_MSG_SNAPSHOT, BINANCE_MSG_RESPONSE,
	BINANCE_MSG_COUNT_
};

struct binance_pending {
	uint32_t instrument;
	uint32_t off, len;
	int64_t recv_ns;
	bool keep;                           /* still waiting after a replay */
};

struct binance {
	struct json_venue v;                 /* tokens, books, counters (json_venue.h);
					      * a book's v sync is its enum binance_sync */
	/* sync statistics (also in the error counters where they are errors) */
	uint64_t resync_requests;            /* times a book entered NEED_SNAPSHOT */
	uint64_t buffered;                   /* depthUpdates buffered */
	uint64_t dropped_old;                /* buffered/new events older than a snapshot */

	uint32_t npend, buf_used;
	struct binance_pending pend[BINANCE_BUF_MSGS];
	char buf[BINANCE_BUF_BYTES];

	/* json_venue's fixed storage */
	struct json_venue_book slots[BINANCE_MAX_BOOKS];
	struct book_level lv[BINANCE_MAX_BOOKS * 2 * BINANCE_BOOK_LEVELS];
	struct json_tok tok[BINANCE_MAX_TOKENS];
	struct book_level scratch[BINANCE_MAX_TOKENS / 3];   /* one message's levels */
};

int binance_init(struct binance *d, struct feed_symtab *symbols);

/* One message; 0, or a negative enum json_err that is also counted.
 * A depthUpdate buffered for a book awaiting its snapshot returns 0. */
int binance_decode(struct binance *d, const char *msg, size_t len, int64_t recv_ns,
		   feed_emit_fn emit, void *ctx);

/* A REST depth snapshot for instrument: levels at its scales, qty 0 levels
 * ignored.  Replaces the book, then replays the instrument's buffered
 * depthUpdates.  Returns 0 or a negative enum json_err (counted). */
int binance_snapshot(struct binance *d, uint32_t instrument, uint64_t last_update_id,
		     const struct book_level *bids, uint32_t nbids,
		     const struct book_level *asks, uint32_t nasks,
		     int64_t recv_ns, feed_emit_fn emit, void *ctx);

/* The same from the REST body {"lastUpdateId":..,"bids":[[p,q]..],"asks":..}
 * (the body names no symbol: the caller says which one it asked for). */
int binance_snapshot_json(struct binance *d, const char *symbol, size_t symbol_len,
			  const char *body, size_t len, int64_t recv_ns,
			  feed_emit_fn emit, void *ctx);

/* Whether instrument's depth book awaits a snapshot (false when it has no
 * depth book yet), and the list of all that do. */
bool binance_needs_snapshot(const struct binance *d, uint32_t instrument);
size_t binance_pending_snapshots(const struct binance *d, uint32_t *ids, size_t cap);

/* The depth book of instrument, or NULL when none has been seen. */
const struct book_l2 *binance_book(const struct binance *d, uint32_t instrument);

size_t binance_counts(const struct binance *d, const struct named_counter **out);
size_t binance_errors(const struct binance *d, const struct named_counter **out);

#endif
