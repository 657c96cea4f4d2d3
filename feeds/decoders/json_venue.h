/*
 * What the four JSON venue decoders (binance.h, bybit.h, coinbase.h,
 * kraken.h) hold and do alike, in one place: the token array, the books
 * with their level storage and last quoted top, the message and error
 * counters with their accessors, the symbol lookup, and the book paths
 * every venue takes (reset on a snapshot, lose on a gap, apply parsed
 * levels, quote the new top).  A venue embeds one struct json_venue as its
 * member `v` and keeps only its own protocol state (sequence numbers, sync
 * states, the diff buffer) beside it.
 *
 * Storage.  Two kinds of venue, one struct:
 *   - fixed (Binance, Bybit): the venue struct embeds arrays sized by its
 *     compile-time limits (a 1000-level snapshot) and hands them to
 *     json_venue_init; the caller frees the venue struct, nothing else.
 *   - sized at init (Coinbase, Kraken: depth and token count are
 *     configuration): json_venue_alloc makes one allocation for all of it,
 *     json_venue_free releases it.
 * Either way nothing is allocated after init: the decode path never
 * allocates, locks or calls the kernel.  The struct points into itself
 * (books into their levels): do not copy it after init.
 *
 * Books live in slots.  An instrument gets a slot when it first needs a
 * book (json_venue_slot with create), or at init for every id 1..max_books
 * (json_venue_alloc): then slot id-1 is instrument id.  No slot, no book:
 * json_venue_book returns NULL.
 */
#ifndef FKS_FEEDS_JSON_VENUE_H
#define FKS_FEEDS_JSON_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/feed.h"
#include "feeds/decoders/json.h"

#define JSON_VENUE_MAX_COUNTS 8          /* message kinds a venue counts */
#define JSON_VENUE_MAX_EXTRA_ERRORS 8    /* venue errors beyond enum json_err */

/* One instrument's book. */
struct json_venue_book {
	struct book_l2 book;      /* book.stale: not to be trusted until a snapshot */
	struct json_top top;      /* last quote emitted */
	uint8_t sync;             /* the venue's own sync state; 0, as on a new
				   * slot, means awaiting a snapshot */
};

/* Holds the event before the current one so that the last event of a
 * decode call can carry FKS_EVF_LAST (Coinbase, Kraken). */
struct json_stage {
	union fks_event pending;
	bool has_pending;
	feed_emit_fn emit;        /* of the current call */
	void *ctx;
};

struct json_venue {
	struct feed_symtab *symbols;
	struct json_tok *tok;
	uint32_t max_tokens;
	struct json_venue_book *slot;            /* [max_books] */
	struct book_level *levels;               /* 2 * max_levels per slot */
	uint32_t max_books, max_levels, nbooks;
	uint16_t slot_of[FEED_MAX_SYMBOLS + 1];  /* instrument -> slot + 1, 0: none */
	void *owned;                             /* json_venue_alloc's block */

	struct named_counter counts[JSON_VENUE_MAX_COUNTS];
	uint32_t ncounts, nerrors;
	/* [-reason]: enum json_err, then the venue's own; [0] is "ok", unused */
	struct named_counter errors[JSON_E_COUNT_ + JSON_VENUE_MAX_EXTRA_ERRORS];

	struct json_stage stage;
};

/*
 * Fixed storage: tok[max_tokens], slots[max_books], levels[max_books * 2 *
 * max_levels], all owned by the caller (usually arrays in the venue
 * struct).  count_names[ncounts] name the message counters; extra_names
 * [nextra] the venue's errors -JSON_E_COUNT_, -JSON_E_COUNT_-1, ...  v must
 * be zeroed.  Slots are made on demand.
 */
void json_venue_init(struct json_venue *v, struct feed_symtab *symbols, struct json_tok *tok,
		     uint32_t max_tokens, struct json_venue_book *slots, struct book_level *levels,
		     uint32_t max_books, uint32_t max_levels, const char *const *count_names,
		     uint32_t ncounts, const char *const *extra_names, uint32_t nextra);

/* Storage sized at init, one allocation, with a slot already made (not
 * stale) for every instrument 1..max_books.  v must be zeroed.  Returns 0,
 * or -1 when out of memory (v is then left freed). */
int json_venue_alloc(struct json_venue *v, struct feed_symtab *symbols, uint32_t max_tokens,
		     uint32_t max_books, uint32_t max_levels, const char *const *count_names,
		     uint32_t ncounts, const char *const *extra_names, uint32_t nextra);

/* Release what json_venue_alloc took; safe twice, and on fixed storage. */
void json_venue_free(struct json_venue *v);

/* Tokenise one message into the venue's token array (json_parse). */
int json_venue_parse(struct json_venue *v, struct json_doc *doc, const char *msg, size_t len);

/* Count reason under errors[-reason] when it is one of the venue's
 * errors; returns reason (0 passes through uncounted). */
int json_venue_fail(struct json_venue *v, int reason);

/* The counters, as X_counts / X_errors give them: errors without the
 * unused "ok" entry. */
size_t json_venue_counts(const struct json_venue *v, const struct named_counter **out);
size_t json_venue_errors(const struct json_venue *v, const struct named_counter **out);
/* The count of one reason; 0 for anything that is not a reason. */
uint64_t json_venue_error_count(const struct json_venue *v, int reason);

/* The slot of instrument id; when it has none and create is set, a new
 * one (empty book, stale, sync 0) if any is left.  NULL otherwise. */
struct json_venue_book *json_venue_slot(struct json_venue *v, uint32_t id, bool create);

/* The book of instrument id, or NULL when it has no slot. */
const struct book_l2 *json_venue_book(const struct json_venue *v, uint32_t id);

/* Whether instrument id has a book with sync 0 (awaiting a snapshot), and
 * the list of all such, in slot order (X_needs_snapshot,
 * X_pending_snapshots). */
bool json_venue_needs_snapshot(const struct json_venue *v, uint32_t id);
size_t json_venue_pending_snapshots(const struct json_venue *v, uint32_t *ids, size_t cap);

/*
 * The instrument named by the string member key of obj: JSON_OK with *id
 * and *sym (the scales); JSON_E_MISSING_FIELD, JSON_E_WRONG_TYPE,
 * JSON_E_BAD_UTF8; JSON_E_UNKNOWN_SYMBOL when the table does not know it.
 */
int json_venue_symbol(const struct json_venue *v, const struct json_doc *doc, int obj,
		      const char *key, uint32_t *id, const struct feed_symbol **sym);

/* An instrument of a message whose unknown symbols are skipped, not fatal. */
struct json_instr {
	uint32_t id;                    /* 0: not ours, skip */
	unsigned px_scale, qty_scale;
	struct json_venue_book *bk;     /* NULL: no book for this id */
};

/* json_venue_symbol, except that an unknown symbol is JSON_OK with p->id 0
 * and *skip = JSON_E_UNKNOWN_SYMBOL (*skip is 0 otherwise).  p->bk is the
 * instrument's existing slot. */
int json_venue_instr(struct json_venue *v, const struct json_doc *doc, int obj, const char *key,
		     struct json_instr *p, int *skip);

/*
 * Parse the [price, qty] arrays (json_level) of the array member key of obj
 * into out[*n..cap), advancing *n.  JSON_E_TOO_MANY_TOKENS beyond cap.
 */
int json_venue_levels(const struct json_doc *doc, int obj, const char *key,
		      const struct feed_symbol *sym, struct book_level *out, uint32_t cap,
		      uint32_t *n);

/* A snapshot begins: the book is emptied and trusted again, and one
 * FKS_BOOK_CLEAR (hdr, update_id) goes out. */
void json_venue_book_reset(struct json_venue_book *bk, uint64_t update_id,
			   const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx);

/* Sync is lost: no book is better than a wrong one.  The book is emptied
 * and marked stale; a FKS_BOOK_CLEAR (hdr, update_id) and the now empty
 * quote go out, both with hdr's flags (the caller sets FKS_EVF_STALE). */
void json_venue_book_lost(struct json_venue_book *bk, uint64_t update_id,
			  const struct fks_event_hdr *hdr, feed_emit_fn emit, void *ctx);

/*
 * Apply lv[0..nb) as bids and lv[nb..nb+na) as asks to bk (json_book_set,
 * each with update_id and hdr), counting any refusal (book_full) in v, then
 * quote the top if it changed.  reverse: the venue lists best first (a
 * snapshot), so apply from the worst end, where the sorted book appends
 * without moving anything.
 */
void json_venue_apply(struct json_venue *v, struct json_venue_book *bk,
		      const struct book_level *lv, uint32_t nb, uint32_t na, bool reverse,
		      uint64_t update_id, const struct fks_event_hdr *hdr, feed_emit_fn emit,
		      void *ctx);

/* Quote bk's top if it changed, at event time ns, flagged FKS_EVF_STALE
 * when the book is stale. */
void json_venue_quote(struct json_venue_book *bk, int64_t ns, int64_t recv_ns, feed_emit_fn emit,
		      void *ctx);

/* ---- FKS_EVF_LAST staging ------------------------------------------------ */

/* Start a decode call that emits to emit(ctx) through json_stage_emit. */
void json_stage_begin(struct json_stage *st, feed_emit_fn emit, void *ctx);
/* A feed_emit_fn (ctx is the struct json_stage): hold ev, send the one
 * held before. */
void json_stage_emit(void *st, const union fks_event *ev);
/* End the call: the held event goes out flagged FKS_EVF_LAST. */
void json_stage_flush(struct json_stage *st);

#endif
