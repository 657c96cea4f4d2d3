/*
 * What every feed decoder shares: how it hands out events, and how venue
 * symbols become the pipeline's small instrument ids.
 *
 * A decoder is a pure function from bytes to normalised events (quote,
 * trade, book delta; shm/event.h).  It never allocates on the hot path and
 * never reads a clock: the receive time it stamps (h.recv_time_ns) is the
 * one its caller passes in with the bytes.  Every event goes out through an
 * emit callback, synchronously, as a zeroed 64-byte event.
 */
#ifndef FKS_FEEDS_FEED_H
#define FKS_FEEDS_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/net/counter.h"
#include "shm/event.h"

typedef void (*feed_emit_fn)(void *ctx, const union fks_event *ev);

/*
 * Every decoder follows one shape, and publishes it as an ops table
 * (feeds/decoder.h) so `fks feed decode` and the feed stage drive them all
 * alike (X is the venue: itch, binance, bybit, coinbase, kraken):
 *
 *   int  X_init(struct X *d, struct feed_symtab *symbols, ...);
 *   int  X_decode(struct X *d, const char *msg, size_t len, int64_t recv_ns,
 *                 feed_emit_fn emit, void *ctx);
 *            one venue message (one websocket frame, one JSON line, one
 *            ITCH message); returns 0, or a negative reason that is also
 *            counted; a bad message never stops the next one
 *   size_t X_counts(const struct X *d, const struct named_counter **out);
 *            messages decoded by venue message type ("A", "depthUpdate")
 *   size_t X_errors(const struct X *d, const struct named_counter **out);
 *            errors by reason ("truncated", "bad_number", ...)
 *
 * and a way to reach the book of each instrument for its final state.
 */

/* Append counter (name, v) to out if n < cap; returns n + 1, so a caller
 * learns how many there are even when out is short. */
size_t feed_counter_put(struct named_counter *out, size_t cap, size_t n, const char *name, uint64_t v);
/* Append c[first..k). */
size_t feed_counter_put_all(struct named_counter *out, size_t cap, size_t n, const struct named_counter *c,
			    size_t k, size_t first);

#define FEED_MAX_SYMBOLS 1024
#define FEED_SYMBOL_MAX FKS_SYMBOL_MAX  /* bytes of a venue symbol we keep */

/*
 * Venue symbol -> instrument id.  Either fixed (the pipeline: only the
 * configured instruments exist, anything else is ignored and counted by the
 * decoder) or learning (`fks feed decode`: each new symbol gets the next id,
 * 1, 2, ...).  Lookups are a linear probe in an open-addressed table with
 * no allocation; ids are dense and index per-instrument arrays.
 */
struct feed_symbol {
	char name[FEED_SYMBOL_MAX];      /* NUL-padded */
	uint8_t len;
	uint8_t px_scale, qty_scale;     /* decimal places of this instrument */
	uint32_t id;                     /* 0: empty slot */
};

struct feed_symtab {
	bool learn;                      /* add unknown symbols on lookup */
	uint8_t default_px_scale, default_qty_scale; /* for learned symbols */
	uint32_t n;                      /* symbols held; ids are 1..n */
	uint32_t slot_of_id[FEED_MAX_SYMBOLS + 1];
	struct feed_symbol slot[2 * FEED_MAX_SYMBOLS];
};

void feed_symtab_init(struct feed_symtab *t, bool learn, uint8_t px_scale, uint8_t qty_scale);

/* Add a symbol with its scales; returns its id, or 0 when the table is full
 * or the name is empty or longer than FEED_SYMBOL_MAX.  Adding a name that
 * is already there returns the existing id. */
uint32_t feed_symtab_add(struct feed_symtab *t, const char *name, size_t len,
			 uint8_t px_scale, uint8_t qty_scale);

/* The id of name, learning it if the table learns; 0 when unknown. */
uint32_t feed_symtab_lookup(struct feed_symtab *t, const char *name, size_t len);

/* The entry of an id (1..n), or NULL. */
const struct feed_symbol *feed_symtab_get(const struct feed_symtab *t, uint32_t id);

#endif
