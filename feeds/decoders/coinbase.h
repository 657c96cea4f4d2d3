/*
 * Coinbase Advanced Trade websocket decoder (wss://advanced-trade-ws.coinbase.com).
 *
 * One call decodes one websocket frame: a JSON object
 *
 *   {"channel": C, "client_id": "", "timestamp": T, "sequence_num": N,
 *    "events": [...]}
 *
 * for the channels
 *
 *   l2_data        events {type: "snapshot"|"update", product_id,
 *                  updates: [{side: "bid"|"offer", event_time,
 *                  price_level, new_quantity}]}; new_quantity 0 deletes.
 *                  A snapshot clears the book first and clears its stale
 *                  mark.  -> FKS_EV_BOOK_DELTA per level (a snapshot starts
 *                  with one FKS_BOOK_CLEAR; all carry FKS_EVF_SNAPSHOT),
 *                  then one FKS_EV_QUOTE if the top of the book changed.
 *   market_trades  events {trades: [{trade_id, product_id, price, size,
 *                  side: "BUY"|"SELL", time}]} -> FKS_EV_TRADE each; side
 *                  is the taker's side (Coinbase's schema) and becomes the
 *                  aggressor.
 *   ticker         events {tickers: [{product_id, best_bid,
 *                  best_bid_quantity, best_ask, best_ask_quantity, ...}]}
 *                  -> FKS_EV_QUOTE each, timed by the top-level timestamp.
 *   heartbeats     events {current_time, heartbeat_counter}: counted, the
 *                  counter is kept in last_heartbeat.
 *   subscriptions  counted only.
 *
 * Keys may come in any order with any whitespace; unknown keys are ignored.
 * Prices and sizes are decimal strings, converted exactly at the
 * instrument's scales (feed_symtab); a digit beyond the scale is an error,
 * never rounded.  Timestamps are RFC 3339 (timefmt.h).
 *
 * Sequence: sequence_num counts every message of one connection, all
 * channels together.  A jump forward is a gap (counted "sequence_gap"): a
 * message may have carried a book update, so every book is marked stale
 * and `resync` is set; a number at or below the last one is a replay or
 * duplicate ("sequence_old") and the message is dropped.  A stale book
 * keeps applying updates, but its events carry FKS_EVF_STALE until a
 * snapshot for it arrives.  A rejected l2_data message for a known product
 * also makes that book stale (an update was lost).  The transport reads
 * `resync`, resubscribes (which brings snapshots), calls
 * coinbase_reconnect() if it opened a new connection, and clears `resync`.
 *
 * Events: h.source FKS_STAGE_FEED, h.seq 0 (the feed stage numbers them),
 * h.recv_time_ns the caller's recv_ns, h.event_time_ns the venue time of
 * the level, trade or message.  The last event of one decode call carries
 * FKS_EVF_LAST.
 *
 * A message is validated completely before anything is applied, so a bad
 * message changes no book and emits nothing.  No allocation after
 * coinbase_init, no clock, no locks.
 */
#ifndef FKS_FEEDS_COINBASE_H
#define FKS_FEEDS_COINBASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/feed.h"
#include "feeds/decoders/json.h"
#include "feeds/decoders/json_venue.h"

/* Message kinds, counted in coinbase_counts() under these names. */
enum coinbase_count {
	CB_N_L2_SNAPSHOT,       /* "l2_data.snapshot" (per event) */
	CB_N_L2_UPDATE,         /* "l2_data.update" (per event) */
	CB_N_MARKET_TRADES,     /* "market_trades" (per message) */
	CB_N_TICKER,            /* "ticker" */
	CB_N_HEARTBEATS,        /* "heartbeats" */
	CB_N_SUBSCRIPTIONS,     /* "subscriptions" */
	CB_N_COUNT
};

/*
 * Error reasons.  coinbase_decode returns 0 or a negative reason, counted at
 * errors[-reason] under its name: the shared ones of feeds/json.h
 * ("truncated", "bad_json", "bad_utf8", "missing_field", "wrong_type",
 * "bad_number", "number_overflow", "precision", "too_many_tokens",
 * "unknown_symbol", "unknown_type", "bad_value", "book_full", "gap",
 * "stale_update"), as Coinbase uses them:
 *
 *   bad_utf8        anywhere in the message (RFC 8259: JSON is UTF-8)
 *   unknown_symbol  a product not in a fixed symbol table: that event is
 *                   skipped, the rest of the message is used, 0 returned
 *   unknown_type    an l2_data event type other than snapshot/update
 *   bad_value       a side other than bid/offer (BUY/SELL), price <= 0,
 *                   size < 0
 *   book_full       a new level worse than all max_levels held on a full
 *                   side: refused (a better one evicts the worst, see
 *                   json_book_set).  The book keeps the best max_levels
 *                   levels; deeper ones are not tracked, not an error of
 *                   the book, so it does not go stale
 *   gap             sequence_num jumped: books stale, resync
 *   stale_update    sequence_num not above the last: message dropped
 *
 * and these of Coinbase's own:
 */
enum coinbase_error {
	CB_E_BAD_TIME = -JSON_E_COUNT_,  /* "bad_time": malformed timestamp */
	CB_E_BAD_SEQUENCE = -JSON_E_COUNT_ - 1, /* "bad_sequence": not a u64 */
	CB_E_UNKNOWN_CHANNEL = -JSON_E_COUNT_ - 2, /* "unknown_channel" */
	CB_E_NO_BOOK = -JSON_E_COUNT_ - 3, /* "no_book": id > max_books: skipped, 0 returned */
	CB_E_VENUE_ERROR = -JSON_E_COUNT_ - 4, /* "venue_error": {"type":"error"} */
};
#define CB_E_COUNT (JSON_E_COUNT_ + 5)

struct coinbase {
	struct json_venue v;            /* tokens, books (slot id-1 is instrument
					 * id), counters, FKS_EVF_LAST staging */
	uint64_t last_seq;              /* sequence_num of the last message */
	bool have_seq;                  /* last_seq is set (per connection) */
	bool resync;                    /* books need snapshots: resubscribe */
	uint64_t last_heartbeat;        /* heartbeat_counter last seen */
};

/*
 * Set up d for instruments 1..max_books of symbols (which must outlive d),
 * each book holding up to max_levels levels per side; max_tokens bounds the
 * JSON tokens of one message (a snapshot of L levels needs about 9 L).
 * Allocates here, never later.  Returns 0, or -1 (bad arguments, no memory).
 */
int coinbase_init(struct coinbase *d, struct feed_symtab *symbols, uint32_t max_books,
		  uint32_t max_levels, uint32_t max_tokens);
void coinbase_free(struct coinbase *d);

/* Decode one message (feed.h).  Returns 0 or a negative reason (above). */
int coinbase_decode(struct coinbase *d, const char *msg, size_t len, int64_t recv_ns,
		    feed_emit_fn emit, void *ctx);

size_t coinbase_counts(const struct coinbase *d, const struct named_counter **out);
size_t coinbase_errors(const struct coinbase *d, const struct named_counter **out);
/* Count of one error reason. */
uint64_t coinbase_error_count(const struct coinbase *d, int reason);

/* The book of an instrument, or NULL when it has none (id 0 or > max_books). */
const struct book_l2 *coinbase_book(const struct coinbase *d, uint32_t instrument);

/* A new connection: sequence numbers start again, and every book is stale
 * until its snapshot arrives. */
void coinbase_reconnect(struct coinbase *d);

/* RFC 3339 time to ns since the epoch: timefmt_rfc3339_ns (timefmt.h),
 * which Kraken uses too; Coinbase also writes
 * "2026-04-07 14:30:10.000000000+00:00".  Returns 0, or -1 with *ns
 * unchanged. */
int coinbase_parse_time(const char *s, size_t len, int64_t *ns);

#endif
