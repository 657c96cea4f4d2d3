/*
 * What the JSON venue decoders (Binance, Bybit, Coinbase, Kraken) share:
 * tokenising one message with jsmn into a token array the decoder owns, and
 * small, exact helpers over those tokens.
 *
 * No allocation, no clock, no floating point.  A decoder keeps a fixed
 * `struct json_tok tok[N]` and calls json_parse for each message; the tokens
 * point into the caller's bytes, which must stay alive while they are used.
 *
 * Parsing accepts any whitespace between tokens and any key order.  Lookups
 * ignore keys they were not asked for.  Keys are compared as raw bytes, so
 * a key spelled with escapes ("\u0073") is not the key "s" (no venue does
 * that).  jsmn is lenient about separators (a missing comma passes); the
 * structure (object keys are strings with exactly one value, one top-level
 * value, nothing after it) is checked here.
 *
 * Every failure is one of enum json_err, a specific reason that decoders
 * count under json_err_name(): "truncated", "bad_number", ...  Decoders
 * index their error counters by -err (see json_counters_init).
 */
#ifndef FKS_FEEDS_JSON_H
#define FKS_FEEDS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "shm/event.h"
#include "shm/event_build.h"
#include "feeds/feed.h"

/* Errors are negative; stable numbers (they index counters). */
enum json_err {
	JSON_OK = 0,
	JSON_E_TRUNCATED = -1,       /* the message ends inside a value */
	JSON_E_BAD_JSON = -2,        /* not JSON, or not one object/array */
	JSON_E_BAD_UTF8 = -3,        /* a string we use is not valid UTF-8 */
	JSON_E_MISSING_FIELD = -4,   /* a required key is absent */
	JSON_E_WRONG_TYPE = -5,      /* a key holds the wrong kind of value */
	JSON_E_BAD_NUMBER = -6,      /* not a decimal number (exponents included) */
	JSON_E_NUMBER_OVERFLOW = -7, /* does not fit int64 at the scale */
	JSON_E_PRECISION = -8,       /* more decimals than the instrument's scale */
	JSON_E_TOO_MANY_TOKENS = -9, /* larger than the decoder's token array */
	JSON_E_UNKNOWN_SYMBOL = -10, /* not in the symbol table (fixed mode) */
	JSON_E_UNKNOWN_TYPE = -11,   /* a message type the decoder does not handle */
	JSON_E_BAD_VALUE = -12,      /* well-formed but impossible: side "Up", px <= 0 */
	JSON_E_BOOK_FULL = -13,      /* a new level beyond the book's capacity */
	JSON_E_GAP = -14,            /* update ids not contiguous: book resynced */
	JSON_E_NOT_SYNCED = -15,     /* book update for a book awaiting its snapshot */
	JSON_E_BUFFER_FULL = -16,    /* the pre-snapshot diff buffer overflowed */
	JSON_E_CHECKSUM = -17,       /* venue book checksum mismatch */
	JSON_E_TOO_LONG = -18,       /* message longer than the decoder accepts */
	JSON_E_STALE_UPDATE = -19,   /* update older than the book (dropped) */
	JSON_E_TOO_MANY_BOOKS = -20, /* more instruments with books than the decoder holds */
	JSON_E_COUNT_ = 21           /* number of codes, JSON_OK included */
};

/* Static name of an error ("truncated"), "ok" for 0, "unknown" otherwise. */
const char *json_err_name(int err);

/* Fill c[0..JSON_E_COUNT_) with names and zero counts; c[-err] counts err
 * (c[0] is "ok" and stays unused). */
void json_counters_init(struct named_counter *c);

/* Mirrors jsmntok_t (json.c checks the layout): what jsmn wrote. */
enum json_type { JSON_UNDEFINED = 0, JSON_OBJECT = 1, JSON_ARRAY = 2, JSON_STRING = 3,
		 JSON_PRIMITIVE = 4 };
struct json_tok {
	int type;      /* enum json_type */
	int start;     /* byte offsets into the message; a string excludes quotes */
	int end;
	int size;      /* object: keys; array: elements; key string: 1 */
	int parent;    /* index of the enclosing token, -1 for the root */
};

struct json_doc {
	const char *js;
	size_t len;
	struct json_tok *tok;
	int n;         /* tokens used; token 0 is the root */
};

/* The longest message json_parse accepts (token offsets are int). */
#define JSON_MAX_LEN ((size_t)1 << 30)
/* Deepest nesting accepted: venue messages are 4 deep; fuzzers go deeper. */
#define JSON_MAX_DEPTH 32

/*
 * Tokenise js[0..len) into tok[0..cap).  The root must be an object or an
 * array, followed by nothing but whitespace.  Returns JSON_OK with d filled,
 * or JSON_E_TRUNCATED, JSON_E_BAD_JSON, JSON_E_TOO_MANY_TOKENS, JSON_E_TOO_LONG.
 */
int json_parse(struct json_doc *d, const char *js, size_t len, struct json_tok *tok, int cap);

/* Index of the token after the value at i and everything inside it. */
int json_next(const struct json_doc *d, int i);

/* Value index of key in the object at obj (first match), or -1 (also when
 * obj is not an object). */
int json_get(const struct json_doc *d, int obj, const char *key);

/* The value of key, required to be of `type`: its index, or
 * JSON_E_MISSING_FIELD / JSON_E_WRONG_TYPE. */
int json_need(const struct json_doc *d, int obj, const char *key, int type);

/* Token i is a string (not a number, not a key lookup) equal to s. */
bool json_eq(const struct json_doc *d, int i, const char *s);

/* The bytes of a string token, checked for valid UTF-8; JSON_E_WRONG_TYPE
 * when i is not a string, JSON_E_BAD_UTF8 when invalid. */
int json_str(const struct json_doc *d, int i, const char **s, size_t *len);

/* Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool json_utf8_valid(const char *s, size_t len);

/*
 * Token i (a decimal string "27.06" or a bare number 27.06) as fixed point
 * at scale.  Exponents, "+", ".5", "5.", hex, whitespace and the like are
 * JSON_E_BAD_NUMBER; JSON_E_NUMBER_OVERFLOW; JSON_E_PRECISION when a
 * nonzero digit lies beyond scale; JSON_E_WRONG_TYPE for objects, arrays,
 * true/false/null.
 */
int json_fx(const struct json_doc *d, int i, unsigned scale, int64_t *out);

/* Token i (string or bare number) as an integer, no fraction, no exponent,
 * with overflow detection.  json_u64 refuses a '-'. */
int json_i64(const struct json_doc *d, int i, int64_t *out);
int json_u64(const struct json_doc *d, int i, uint64_t *out);

/* Token i as a JSON true/false. */
int json_bool(const struct json_doc *d, int i, bool *out);

/* Milliseconds since the epoch -> ns; JSON_E_NUMBER_OVERFLOW if negative
 * or beyond int64 ns (year 2262). */
int json_ms_to_ns(int64_t ms, int64_t *ns);

/* Token i (integer ms since the epoch, string or bare) -> ns: json_i64
 * then json_ms_to_ns. */
int json_ms_tok_to_ns(const struct json_doc *d, int i, int64_t *ns);

/* 64-bit FNV-1a of s[0..n): a stable trade id for venues whose ids are not
 * numbers (UUIDs). */
uint64_t json_fnv1a(const char *s, size_t n);

/* Iterate the elements of the array at arr; declares k (0, 1, ...) and elem
 * (each element's token index).  Usage: JSON_FOR_EACH(d, arr, k, e) { ... } */
#define JSON_FOR_EACH(d, arr, k, elem)                                         \
	for (int k = 0, elem = (arr) + 1; k < (d)->tok[(arr)].size;            \
	     k++, elem = json_next((d), elem))

/* ---- helpers every L2 venue uses to apply levels and emit events ------- */

/* A header template for the events of one message: type is set per event. */
static inline void json_hdr(struct fks_event_hdr *h, uint32_t instrument, int64_t event_ns,
			    int64_t recv_ns, uint16_t flags)
{
	fks_hdr_origin(h, FKS_EV_NONE, FKS_STAGE_FEED, 0, instrument, flags, event_ns, recv_ns);
}

/*
 * A level [price, qty] (two strings or numbers) at the array token lv,
 * parsed at the scales.  JSON_E_WRONG_TYPE unless lv is an array of at
 * least two values; extra elements are ignored (Kraken/Coinbase carry
 * more).  px must be > 0 and qty >= 0, else JSON_E_BAD_VALUE.
 */
int json_level(const struct json_doc *d, int lv, unsigned px_scale, unsigned qty_scale,
	       int64_t *px, int64_t *qty);

/* Emit one FKS_EV_BOOK_DELTA with hdr (its type is overwritten): action
 * SET, or DELETE when qty is 0.  Nothing when emit is NULL. */
void json_emit_delta(uint8_t side, int64_t px, int64_t qty, uint64_t update_id,
		     const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx);

/* Emit one FKS_BOOK_CLEAR delta with hdr and update_id (a snapshot starts
 * with one; a lost book ends with one).  Nothing when emit is NULL. */
void json_emit_clear(uint64_t update_id, const struct fks_event_hdr *hdr, feed_emit_fn emit,
		     void *ctx);

/*
 * Set a level of book and emit one FKS_EV_BOOK_DELTA (action SET, or
 * DELETE when qty is 0) with hdr (its type is overwritten) and update_id.
 * A delete of an absent level, or a set to the quantity already there,
 * changes nothing and emits nothing.  When the side is full, a new level
 * better than the side's worst evicts the worst (emitting its DELETE):
 * venue books are deeper than any snapshot, and the touch is what must stay
 * right; a new level worse than all held is refused with JSON_E_BOOK_FULL.
 * Returns JSON_OK, JSON_E_BOOK_FULL, or JSON_E_BAD_VALUE (px <= 0, qty < 0,
 * bad side).
 */
int json_book_set(struct book_l2 *b, uint8_t side, int64_t px, int64_t qty, uint64_t update_id,
		  const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx);

/* The top of book last emitted as a quote, to emit only changes. */
struct json_top {
	int64_t bid_px, bid_qty, ask_px, ask_qty;   /* 0 where the side is empty */
};

/* Emit FKS_EV_QUOTE with hdr if the book's top differs from *last, and
 * remember it.  Returns whether it emitted. */
bool json_quote_if_changed(const struct book_l2 *b, struct json_top *last,
			   const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx);

#endif
