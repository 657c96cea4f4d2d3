/*
 * Kraken websocket v2 decoder (wss://ws.kraken.com/v2), public channels.
 *
 * One call decodes one websocket frame, a JSON object:
 *
 *   {"channel": "book", "type": "snapshot"|"update",
 *    "data": [{symbol, bids: [{price, qty}], asks: [...], checksum,
 *              timestamp}]}
 *        A snapshot clears the book (and its stale mark); an update sets
 *        each level to qty, qty 0 deletes it.  After every message the book
 *        is cut to the subscribed depth (levels that fall out are deleted,
 *        with a delete event each, as Kraken expects of its clients), then
 *        its CRC32 checksum is verified (kraken_book_checksum).
 *        -> FKS_EV_BOOK_DELTA per level change (a snapshot starts with one
 *        FKS_BOOK_CLEAR; snapshot events carry FKS_EVF_SNAPSHOT), then one
 *        FKS_EV_QUOTE if the top of the book changed.
 *   {"channel": "trade", "type": ..., "data": [{symbol, side: "buy"|"sell",
 *    price, qty, ord_type, trade_id, timestamp}]}
 *        -> FKS_EV_TRADE each; side is the taker's, the aggressor.
 *   {"channel": "ticker", "data": [{symbol, bid, bid_qty, ask, ask_qty,
 *    ..., timestamp}]}  -> FKS_EV_QUOTE each.
 *   {"channel": "heartbeat"}, {"channel": "status", ...}, and method
 *   replies {"method": ..., "success": true|false, ...}: counted
 *   ("success": false is the error "venue_error").
 *   Other channels (level3, ohlc, instrument, ...) are the error
 *   "unknown_channel" and emit nothing.
 *
 * Prices and quantities are JSON numbers, not strings.  The number's text is
 * converted exactly with fx_parse at the instrument's scales: an exponent
 * ("1e5") is the error "exponent", a digit beyond the scale "precision"; a
 * string where a number belongs is "wrong_type".
 *
 * Checksum: Kraken's book checksum is a CRC32 of the top 10 asks (low to
 * high) then the top 10 bids (high to low), each level written as its price
 * then its qty in Kraken's precision for the pair, with the decimal point
 * and the leading zeros removed.  This decoder writes those numbers at the
 * instrument's px_scale and qty_scale from the symbol table, so THOSE
 * SCALES MUST EQUAL KRAKEN'S PAIR PRECISION (price_precision, qty_precision
 * of the instrument channel; BTC/USD is 1 and 8) or every checksum fails.
 * A mismatch is counted ("checksum"), marks the book stale, and
 * sets `resync`: the transport resubscribes the book (a fresh snapshot
 * clears the stale mark) and clears `resync`.
 *
 * Events: h.source FKS_STAGE_FEED, h.seq 0, h.recv_time_ns the caller's
 * recv_ns, h.event_time_ns from the message's timestamp (0 if a snapshot
 * has none); events of a stale book carry FKS_EVF_STALE (a quote emitted
 * right after a failed checksum too); the last event of a call carries
 * FKS_EVF_LAST.
 *
 * Any whitespace, any key order, unknown keys ignored.  A message is
 * validated completely before anything is applied, so a bad message
 * changes no book and emits nothing; a rejected book update for a known
 * symbol marks its book stale and sets `resync` (an update was lost).  No
 * allocation after kraken_init, no clock, no locks.
 */
#ifndef FKS_FEEDS_KRAKEN_H
#define FKS_FEEDS_KRAKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/feed.h"
#include "feeds/decoders/json.h"
#include "feeds/decoders/json_venue.h"

/* Depth Kraken covers with its checksum. */
#define KRAKEN_CHECKSUM_DEPTH 10

enum kraken_count {
	KR_N_BOOK_SNAPSHOT,     /* "book.snapshot" (per data entry) */
	KR_N_BOOK_UPDATE,       /* "book.update" (per data entry) */
	KR_N_TRADE,             /* "trade" (per message) */
	KR_N_TICKER,            /* "ticker" */
	KR_N_HEARTBEAT,         /* "heartbeat" */
	KR_N_STATUS,            /* "status" */
	KR_N_METHOD,            /* "method": subscribe/unsubscribe/pong replies */
	KR_N_COUNT
};

/*
 * Error reasons.  kraken_decode returns 0 or a negative reason, counted at
 * errors[-reason] under its name: the shared ones of feeds/json.h, as Kraken
 * uses them:
 *
 *   bad_utf8        anywhere in the message (RFC 8259: JSON is UTF-8)
 *   wrong_type      e.g. a price written as a string
 *   bad_number      a number that is not a plain decimal
 *   unknown_symbol  not in a fixed symbol table: that entry is skipped
 *   unknown_type    a book type other than snapshot/update
 *   bad_value       trade side not buy/sell, price <= 0, qty < 0
 *   book_full       more levels than the book holds: stale, resync
 *   checksum        the book disagrees with Kraken's checksum: stale, resync
 *
 * and these of Kraken's own:
 */
enum kraken_error {
	KR_E_BAD_TIME = -JSON_E_COUNT_,        /* "bad_time": malformed timestamp */
	KR_E_EXPONENT = -JSON_E_COUNT_ - 1,    /* "exponent": 1.5e3 */
	KR_E_BAD_CHECKSUM = -JSON_E_COUNT_ - 2, /* "bad_checksum": not 0..2^32-1 */
	KR_E_UNKNOWN_CHANNEL = -JSON_E_COUNT_ - 3, /* "unknown_channel": level3, ... */
	KR_E_NO_BOOK = -JSON_E_COUNT_ - 4,     /* "no_book": id > max_books, skipped */
	KR_E_VENUE_ERROR = -JSON_E_COUNT_ - 5, /* "venue_error": success false */
};
#define KR_E_COUNT (JSON_E_COUNT_ + 6)

struct kraken {
	struct json_venue v;            /* tokens, books (slot id-1 is instrument
					 * id), counters, FKS_EVF_LAST staging */
	uint32_t depth;                 /* subscribed depth: books are cut to it */
	bool resync;                    /* a book needs a fresh snapshot */
};

/*
 * Set up d for instruments 1..max_books of symbols (which must outlive d)
 * with books cut to `depth` levels per side (the subscribed depth: 10, 25,
 * 100, 500 or 1000; any depth >= 1 is accepted).  max_tokens bounds the
 * JSON tokens of one message (a snapshot of L levels per side needs about
 * 10 L).  Returns 0, or -1 (bad arguments, no memory).
 */
int kraken_init(struct kraken *d, struct feed_symtab *symbols, uint32_t max_books,
		uint32_t depth, uint32_t max_tokens);
void kraken_free(struct kraken *d);

int kraken_decode(struct kraken *d, const char *msg, size_t len, int64_t recv_ns,
		  feed_emit_fn emit, void *ctx);

size_t kraken_counts(const struct kraken *d, const struct named_counter **out);
size_t kraken_errors(const struct kraken *d, const struct named_counter **out);
uint64_t kraken_error_count(const struct kraken *d, int reason);

const struct book_l2 *kraken_book(const struct kraken *d, uint32_t instrument);

/*
 * Kraken's CRC32 (zlib polynomial, unsigned 32-bit) of the top
 * KRAKEN_CHECKSUM_DEPTH levels of b, prices written at px_scale and
 * quantities at qty_scale (see above).  An empty book gives crc32 of "",
 * which is 0.
 */
uint32_t kraken_book_checksum(const struct book_l2 *b, unsigned px_scale, unsigned qty_scale);

#endif
