/*
 * A feed source: one transport (feeds/xport/transport.h) joined to one
 * venue decoder (feeds/decoder.h), each found by its config name in its
 * registry and driven through its ops table, the same way by the feed stage
 * and by `fks feed decode`.
 *
 *   feed_source_open(src, &cfg.feed, symbols, err, errlen)
 *   loop: n = feed_source_poll(src, emit, ctx, max_msgs, timeout_ms)
 *         n > 0              messages decoded; their events went to emit
 *         n == 0             idle: nothing arrived within timeout_ms
 *         FEED_SOURCE_END    a recording is exhausted (or a MoldUDP64
 *                            end-of-session was seen on a recording)
 *         n < END            a fatal transport error (feed_source_error)
 *   feed_source_close(src)
 *
 * What is supported (type x source):
 *   itch      file       raw 2-byte length-prefixed ITCH; a zero prefix
 *                        falls back to the type's size (itch_msg_len)
 *             pcap       MoldUDP64 in UDP, through moldudp -> itch
 *             udp        live MoldUDP64 (io_uring multishot or recvmmsg)
 *             dpdk       live MoldUDP64 from a DPDK port (if built with it)
 *   binance, bybit, coinbase, kraken: see docs/feeds.md (file = JSON lines,
 *             websocket = live) once their decoders are built in.
 *
 * Events are the decoders' own: zeroed 64-byte quote, trade and book_delta
 * events with h.source FKS_STAGE_FEED, h.seq 0 (the caller numbers them) and
 * h.recv_time_ns the transport's receive time (CLOCK_MONOTONIC).
 *
 * ITCH session midnight (event_time_ns = midnight + the message's ns since
 * midnight): cfg.session_date at 00:00 in the zone cfg.utc_offset_min
 * minutes east of UTC.  Without session_date: live sources (udp, dpdk) take
 * today's date in that zone; recordings (file, pcap) take midnight = 0, so
 * event times are plainly "ns since the session's midnight" rather than a
 * guessed date.
 *
 * Pacing: file and pcap replay at cfg.speed ("asap": no pacing; a factor:
 * recorded spacing divided by it), by the rule of struct xport_pacer
 * (xport.h: anchor at the first message, a time going backwards is handed
 * over at once, a recorded gap over a minute re-anchors).  The source paces
 * itself rather than through the transport's pacer so that a long quiet
 * spell is slept in 10 ms slices, calling the wait hook between them: the
 * feed stage beats its heartbeat there and can cut the wait short.  Raw
 * ITCH files are paced by the ITCH timestamps, pcap by capture times.
 *
 * Memory: open allocates (the decoder's books, the transport's buffers);
 * poll does not.  A source is single-threaded.
 */
#ifndef FKS_PIPELINE_FEED_SOURCE_H
#define FKS_PIPELINE_FEED_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds/books/book_l2.h"
#include "feeds/decoder.h"
#include "feeds/feed.h"
#include "pipeline/config/config.h"

#define FEED_SOURCE_END (-1)
#define FEED_SOURCE_E_TRANSPORT (-2)

struct feed_source;

/*
 * Open cfg's transport and decoder.  symbols is the caller's (fixed for the
 * pipeline, learning for `fks feed decode`) and must outlive the source.
 * Returns a source, or NULL with the reason in err (no such file, an
 * unsupported type/source pair, a bad address, out of memory).
 */
struct feed_source *feed_source_open(const struct fks_feed_cfg *cfg, struct feed_symtab *symbols,
				     char *err, size_t errlen);
void feed_source_close(struct feed_source *s);

/*
 * Decode up to about max_msgs venue messages (it stops after the message
 * that reaches the budget; one message may emit many events), waiting up
 * to timeout_ms for live input when none is ready (recordings never wait,
 * except for pacing).  Returns as described above.
 */
int feed_source_poll(struct feed_source *s, feed_emit_fn emit, void *ctx, uint32_t max_msgs,
		     int timeout_ms);

/* Called at least every 10 ms while a paced replay waits; a nonzero return
 * ends the wait (the message is handed over at once). */
void feed_source_set_wait_hook(struct feed_source *s, int (*hook)(void *ctx), void *ctx);
/* The longest sleep of a paced replay between two calls of the wait hook
 * (default 10 ms): shorter where the hook has other work to run. */
void feed_source_set_pace_slice(struct feed_source *s, int64_t ns);

/* The last fatal error, "" if none. */
const char *feed_source_error(const struct feed_source *s);

/* Is this source a recording (file, pcap), which ends? */
bool feed_source_is_recording(const struct feed_source *s);

/* Venue messages decoded so far (transport deliveries for ITCH over UDP
 * are packets; this counts messages). */
uint64_t feed_source_messages(const struct feed_source *s);

/* Decoder counters: messages by venue type ("A", "depthUpdate") and
 * errors by reason ("truncated", "unknown_ref"); zeros included. */
size_t feed_source_counts(const struct feed_source *s, const struct named_counter **out);
size_t feed_source_errors(const struct feed_source *s, const struct named_counter **out);

/* Transport counters by name: its errors and, for MoldUDP64, sequencing
 * (gaps, missed, duplicates, ...).  Copies up to cap, returns how many
 * there are. */
size_t feed_source_xport_counters(const struct feed_source *s, struct named_counter *out, size_t cap);
#define FEED_SOURCE_MAX_XPORT_COUNTERS 48

/* Progress of a recording: bytes consumed and the total (0 if not known). */
void feed_source_progress(const struct feed_source *s, uint64_t *done, uint64_t *total);

/* Final state of one instrument's book: struct feed_book_info (feeds/decoder.h). */
/* false when the instrument has no book. */
bool feed_source_book(const struct feed_source *s, uint32_t instrument, struct feed_book_info *info);
/* Up to n best levels of side (enum fks_side), best first; returns how many. */
uint32_t feed_source_book_top(const struct feed_source *s, uint32_t instrument, uint8_t side,
			      struct book_level *out, uint32_t n);

/*
 * A decoder's runtime option, by name (feeds/decoder.h set_option).  Live
 * Binance: "rest_url" ("https://host[:port]", the path /api/v3/depth or
 * /fapi/v1/depth is added) is where depth snapshots are fetched from, and
 * "rest_ca_file" the trust anchors for it (feeds/decoders/binance_rest.h).
 * 0, or -1 with the reason in err (an unknown option, a bad value, not a
 * live source).
 */
int feed_source_set_option(struct feed_source *s, const char *key, const char *value, char *err,
			   size_t errlen);

/* ITCH session midnight, epoch ns, for "YYYY-MM-DD" at utc_offset_min;
 * -1 on a malformed date. */
int64_t feed_source_session_midnight(const char *date, int32_t utc_offset_min);

/* The feed.type name ("itch") of a type and back; NULL / 0 when unknown. */
const char *feed_source_type_name(enum fks_feed_type t);
enum fks_feed_type feed_source_type_parse(const char *name);

/*
 * `fks feed decode --venue V FILE [--json] [--book N] [--session-date D]
 * [--progress]`: decode a recording with a learning symbol table and print
 * a summary (docs/feeds.md).  Exit 0; 1 when the file cannot be read or
 * the decoder or transport counted errors; 2 on usage errors.
 */
int feed_cmd_decode(int argc, char **argv);

#endif
