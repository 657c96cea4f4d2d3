/*
 * Nasdaq TotalView-ITCH 5.0: one message in, normalised events out (feed.h).
 *
 * Every message type of the 5.0 spec is recognised and checked against its
 * exact length (ITCH_MSG_MAX_LEN is the longest, 50).  Fields are big-endian.
 * Prices are Price(4): 4 implied decimals, so every ITCH instrument has
 * px_scale 4 and qty_scale 0 (whole shares).
 *
 * Time: a message carries 6 bytes of nanoseconds since midnight.  Nasdaq's
 * midnight is US Eastern time, which this decoder does not compute (no time
 * zone database on the hot path): the caller passes the session's midnight
 * as ns since the Unix epoch, and event_time_ns = midnight + timestamp.
 * E.g. 2010-12-24 00:00 EST is 1293166800 * 10^9.
 *
 * Instruments: the stock directory (R) binds a stock locate to a symbol (8
 * bytes, right-padded with spaces, trimmed) and through the feed_symtab to
 * an instrument id.  A learning table gives every stock an id; a fixed table
 * ignores the stocks it does not hold - the R is counted as
 * "unknown_symbol" and later messages for that locate are skipped and
 * counted by itch_ignored().  A/F/P/Q carry the symbol too, so a locate
 * whose R was missed (a late join) is bound by them.
 *
 * Books: one L3 book (book_l3.h) per instrument.  For each message that
 * changes a book the decoder emits, in order,
 *   FKS_EV_TRADE       for E, C (printable only) - px is the resting order's
 *                      price (E) or the execution price (C), aggressor the
 *                      side opposite the resting order; and for P and Q
 *                      (cross, shares > 0) with aggressor NONE.  trade_id is
 *                      the ITCH match number.
 *   FKS_EV_BOOK_DELTA  per price level whose total changed: action SET with
 *                      the new total, or DELETE (qty 0) when the level went.
 *   FKS_EV_QUOTE       when the best bid or offer (price or size) changed; an
 *                      empty side is px 0, qty 0.
 * Headers: source FKS_STAGE_FEED, seq 0 (the stage stamps it), flags
 * FKS_EVF_STALE when the book is stale and FKS_EVF_LAST on the last event
 * of one message, recv_time_ns as passed in.  Other messages (S, H, Y, L, V,
 * W, K, J, h, B, I, N, O) are validated and counted only.
 *
 * Every bad message is counted by reason (itch_errors) and never stops the
 * next one.  No allocation after itch_init, no clock, no syscalls.
 */
#ifndef FKS_FEEDS_ITCH_H
#define FKS_FEEDS_ITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l3.h"
#include "feeds/feed.h"

#define ITCH_MSG_MAX_LEN 50
#define ITCH_PX_SCALE 4
#define ITCH_QTY_SCALE 0
#define ITCH_N_TYPES 23

/* Decode errors: negative, stable; the name in itch_errors() in brackets. */
enum itch_error {
	ITCH_OK = 0,
	ITCH_E_EMPTY = -1,          /* [empty] zero-length message */
	ITCH_E_UNKNOWN_TYPE = -2,   /* [unknown_type] not an ITCH 5.0 type */
	ITCH_E_LENGTH = -3,         /* [bad_length] length differs from the type's */
	ITCH_E_SIDE = -4,           /* [bad_side] buy/sell indicator not B or S */
	ITCH_E_PRICE = -5,          /* [bad_price] price 0 on an add or replace */
	ITCH_E_QTY = -6,            /* [bad_qty] 0 shares on an add/replace/execute/
	                               cancel, or cross shares beyond int64 */
	ITCH_E_SYMBOL = -7,         /* [bad_symbol] all-space stock field */
	ITCH_E_UNKNOWN_SYMBOL = -8, /* [unknown_symbol] stock not in a fixed table */
	ITCH_E_SYMTAB_FULL = -9,    /* [symtab_full] learning table full */
	ITCH_E_BOOKS_FULL = -10,    /* [books_full] no book left for a new stock */
	ITCH_E_UNKNOWN_LOCATE = -11,/* [unknown_locate] no R, A, F, P or Q bound it */
	ITCH_E_UNKNOWN_REF = -12,   /* [unknown_ref] order not in the book */
	ITCH_E_DUP_REF = -13,       /* [duplicate_ref] add of a resting reference */
	ITCH_E_ORDERS_FULL = -14,   /* [orders_full] order table full */
	ITCH_E_LEVELS_FULL = -15,   /* [levels_full] a side has max_levels levels */
	ITCH_E_OVER_QTY = -16,      /* [over_qty] executed/canceled more than rests */
	ITCH_E_TRUNCATED = -17,     /* [truncated] stream ends inside a message */
	ITCH_E_UNFRAMEABLE = -18,   /* [unframeable] zero length prefix and an
	                               unknown type: the rest of the stream is lost */
};
#define ITCH_N_ERRORS 18

struct itch_cfg {
	int64_t session_midnight_ns;  /* the session's midnight, epoch ns; >= 0 */
	uint32_t max_books;           /* 0: 256 */
	uint32_t max_levels;          /* per side of a book; 0: 2048 */
	uint32_t max_orders;          /* resting orders; 0: 1 << 20 */
};

struct itch {
	struct feed_symtab *symbols;
	int64_t midnight_ns;
	struct book_l3_pool pool;
	uint32_t *book_of_locate;     /* [65536]: book index + 1, 0 unbound,
	                                 UINT32_MAX ignored */
	uint32_t book_of_inst[FEED_MAX_SYMBOLS + 1]; /* book index + 1, 0 none */
	struct named_counter counts[ITCH_N_TYPES];
	struct named_counter errors[ITCH_N_ERRORS];
	uint64_t ignored;             /* messages of ignored stocks */
	bool stale;                   /* since itch_mark_stale: new books are born stale */
};

/* Returns 0, or -1 (cfg out of range or out of memory: d is unusable). */
int itch_init(struct itch *d, struct feed_symtab *symbols, const struct itch_cfg *cfg);
void itch_free(struct itch *d);

/* One ITCH message (no length prefix).  Returns 0 or an enum itch_error. */
int itch_decode(struct itch *d, const char *msg, size_t len, int64_t recv_ns,
		feed_emit_fn emit, void *ctx);

/* Messages decoded per type, in spec order, zeros included ("S", "R", ...). */
size_t itch_counts(const struct itch *d, const struct named_counter **out);
/* Errors per reason, zeros included. */
size_t itch_errors(const struct itch *d, const struct named_counter **out);
uint64_t itch_messages(const struct itch *d);
static inline uint64_t itch_ignored(const struct itch *d) { return d->ignored; }

/* The length of a message of this type, or 0 for an unknown type. */
size_t itch_msg_len(uint8_t type);

/* The book of an instrument id, or NULL. */
const struct book_l3 *itch_book(const struct itch *d, uint32_t instrument);

/* Mark every book stale (a feed gap): their events carry FKS_EVF_STALE. */
void itch_mark_stale(struct itch *d);
/* Empty every book and clear stale, e.g. before a Glimpse snapshot. */
void itch_reset_books(struct itch *d);

/*
 * Framing of files and streams: each message is preceded by a 2-byte
 * big-endian length.  A length of 0 (the shared sample writes nothing else)
 * falls back to the size of the message's type, read from its first byte.
 *
 * itch_frame_next looks at buf[*off..len): on ITCH_FRAME_OK it sets
 * *msg and *msg_len and advances *off past the message.  ITCH_FRAME_PARTIAL:
 * the bytes end inside a frame (read more; at end of file it is truncated).
 * ITCH_FRAME_LOST: a zero length before an unknown type, where nothing tells
 * where the next message starts.  ITCH_FRAME_END: *off == len.
 */
enum itch_frame_status {
	ITCH_FRAME_END = 0,
	ITCH_FRAME_OK = 1,
	ITCH_FRAME_PARTIAL = -1,
	ITCH_FRAME_LOST = -2,
};
int itch_frame_next(const char *buf, size_t len, size_t *off, const char **msg, size_t *msg_len);

/* Frame and decode a whole file image; a partial last frame is counted as
 * "truncated", a lost framing as "unframeable" (decoding stops there).
 * Returns the bytes consumed by complete frames. */
size_t itch_decode_stream(struct itch *d, const char *buf, size_t len, int64_t recv_ns,
			  feed_emit_fn emit, void *ctx);

#endif
