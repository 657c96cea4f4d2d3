/*
 * The feed decoder interface: one ops table per venue wire format (itch,
 * binance, bybit, coinbase, kraken), each defined in its decoder's own
 * file, and a registry by name (feeds/decoders/registry.c).  The feed
 * source (pipeline/runtime/feed_source.c) and so `fks feed decode` drive
 * every venue through this table alone: adding a venue decoder is one file
 * with its table and one registry line.
 *
 * An instance is created from struct feed_decoder_params, then fed venue
 * messages (or, from a packet transport, whole packets), and asked for its
 * counters and books.  The rules of feeds/feed.h hold: decode never
 * allocates and never reads a clock.
 */
#ifndef FKS_FEEDS_DECODER_H
#define FKS_FEEDS_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/feed.h"

/* What a decoder may need from the feed's configuration. */
struct feed_decoder_params {
	struct feed_symtab *symbols;   /* fixed or learning; outlives the decoder */
	bool live;                     /* udp, dpdk, websocket: not a recording */
	bool packets;                  /* the transport delivers packets (decode_packet) */
	bool websocket;                /* the transport is the venue's websocket */
	bool futures;                  /* feed.market "futures" */
	uint32_t depth;                /* feed.depth; 0: the venue's default */
	const char *session_date;      /* itch: "YYYY-MM-DD" or "" */
	int32_t utc_offset_min;        /* itch: the session's zone */
	const char *ws_url;            /* feed.url or "" */
	const char *rest_url;          /* feed.rest_url or "" */
	const char *ca_file;           /* feed.ca_file or NULL */
};

/* How a recording file frames this wire format. */
enum feed_framing {
	FEED_FRAMING_LENGTH_PREFIXED,  /* 2-byte big-endian length, then the message */
	FEED_FRAMING_JSON_LINES,       /* one message per line */
};

/* Final state of one instrument's book. */
struct feed_book_info {
	uint32_t bid_levels, ask_levels;
	uint64_t unknown_refs;     /* ITCH only */
	bool has_unknown_refs;     /* the decoder keeps order references (ITCH) */
	bool stale;
};

/* The websocket a venue is reached by: enum ws_venue (feeds/xport/ws_venue.h)
 * and its channel bits. */
struct feed_ws_plan {
	int venue;
	unsigned channels;
};

struct feed_decoder_ops {
	const char *name;                      /* feed.type: "itch", "binance", ... */
	enum feed_framing framing;
	size_t (*size_of_type)(uint8_t type);  /* length-prefixed: a zero prefix's size; may be NULL */

	/* A decoder, or NULL with the reason in err (a symbol at the wrong
	 * scales, a bad session date, out of memory). */
	void *(*create)(const struct feed_decoder_params *p, char *err, size_t errlen);
	void (*destroy)(void *d);

	/* One venue message; 0 or a negative reason, already counted. */
	int (*decode)(void *d, const char *msg, size_t len, int64_t recv_ns, feed_emit_fn emit, void *ctx);
	/* One packet of messages (MoldUDP64); returns the messages decoded.
	 * NULL: the format does not travel in packets. */
	uint32_t (*decode_packet)(void *d, const uint8_t *pkt, size_t len, int64_t recv_ns, feed_emit_fn emit,
				  void *ctx);
	/* The recorded time of a message, for pacing a replay, or
	 * XPORT_NO_TIME; NULL: the transport's recorded time is used. */
	int64_t (*record_ns)(const void *d, const uint8_t *msg, size_t len);

	/* Messages by venue type, errors by reason (zeros included). */
	size_t (*counts)(const void *d, const struct named_counter **out);
	size_t (*errors)(const void *d, const struct named_counter **out);
	/* Further counters (framing, snapshot fetches): copies up to cap,
	 * returns how many there are.  May be NULL. */
	size_t (*counters)(const void *d, struct named_counter *out, size_t cap);

	/* false when the instrument has no book. */
	bool (*book)(const void *d, uint32_t instrument, struct feed_book_info *info);
	/* Up to n best levels of side (enum fks_side), best first. */
	uint32_t (*book_top)(const void *d, uint32_t instrument, uint8_t side, struct book_level *out, uint32_t n);

	/* Live by websocket: the venue and channels (false: not offered).
	 * May be NULL: no websocket. */
	bool (*websocket)(const struct feed_decoder_params *p, struct feed_ws_plan *plan);
	/* The websocket reconnected.  May be NULL: the venue resyncs from the
	 * snapshot that follows the resubscribe. */
	void (*reconnected)(void *d);
	/* After each live poll: work beside the stream (Binance's REST depth
	 * snapshots).  Returns the messages it handed to the decoder.  May be
	 * NULL. */
	uint32_t (*upkeep)(void *d, feed_emit_fn emit, void *ctx);
	/* A named runtime option ("rest_url", "rest_ca_file"); 0, or -1 with
	 * the reason in err.  May be NULL: the venue has none. */
	int (*set_option)(void *d, const char *key, const char *value, char *err, size_t errlen);
};

/* The registered decoder called name, or NULL. */
const struct feed_decoder_ops *feed_decoder_find(const char *name);
/* The i-th registered decoder (0..), NULL past the last. */
const struct feed_decoder_ops *feed_decoder_at(size_t i);

/* Helpers for the decoders that keep L2 books (book_l2.h). */
bool feed_decoder_l2_info(const struct book_l2 *b, struct feed_book_info *info);
uint32_t feed_decoder_l2_top(const struct book_l2 *b, uint8_t side, struct book_level *out, uint32_t n);

#endif
