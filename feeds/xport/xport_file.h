/*
 * File replay: raw length-prefixed files (ITCH) and JSON-lines recordings.
 * (pcap files: xport_pcap.h.)
 *
 * The file is mapped read-only (MADV_SEQUENTIAL) and messages are handed to
 * the callback straight out of the mapping: no copy, no allocation after
 * open.
 *
 * Raw format (XPORT_FILE_RAW): each message is preceded by a 2-byte
 * big-endian length.  A length of 0 means "not recorded" (the shared Nasdaq
 * sample is written that way): the length then comes from
 * opts.size_of_type(first byte of the message), which keeps this file
 * venue-neutral.  A zero prefix whose type size_of_type does not know leaves
 * no way to find the next message: it is counted (unknown_type) and the
 * replay ends there.
 *
 * JSON-lines format (XPORT_FILE_JSONL): one message per line, lines end in
 * '\n' (a '\r' before it is dropped, so CRLF files work).  A line may start
 * with a receive timestamp: 1 to 19 decimal digits, then a TAB, then the
 * message; the digits are ns on whatever clock the recorder used (only
 * differences matter, for pacing).  A line without a leading "digits TAB"
 * has no timestamp and is the message as is.  Blank lines are skipped.
 *
 *   1703412345000000000<TAB>{"e":"trade","s":"BTCUSDT",...}
 *   {"e":"trade","s":"BTCUSDT",...}
 *
 * Pacing: with opts.speed > 0, messages that carry a recorded time (a JSONL
 * timestamp, or opts.record_ns for raw files) are handed over at their
 * recorded spacing divided by speed (xport.h, struct xport_pacer); speed 0
 * is as fast as possible.  recv_ns is always CLOCK_MONOTONIC at hand-over;
 * xport_file_record_ns() gives the recorded time of the message being
 * delivered.
 *
 * Errors (counters, named by xport_file_errors):
 *   truncated      the final record is cut short: a lone length byte, a
 *                  body shorter than its length, or a last line with no
 *                  '\n'.  Not delivered; everything before it was.
 *   unknown_type   raw: zero length and size_of_type() returned 0; stops.
 *   bad_timestamp  jsonl: "digits TAB" but the digits overflow int64;
 *                  the message is delivered without a time.
 *   backwards      a recorded time earlier than one before it; delivered
 *                  anyway, at once.
 *   time_jump      a recorded time more than max_gap_ns after the one
 *                  before: delivered at once, pacing restarts there.
 */
#ifndef FKS_FEEDS_XPORT_FILE_H
#define FKS_FEEDS_XPORT_FILE_H

#include "feeds/xport/xport.h"

enum xport_file_format {
	XPORT_FILE_RAW,
	XPORT_FILE_JSONL,
};

enum xport_file_err {
	XPORT_FILE_E_TRUNCATED,
	XPORT_FILE_E_UNKNOWN_TYPE,
	XPORT_FILE_E_BAD_TIMESTAMP,
	XPORT_FILE_E_BACKWARDS,
	XPORT_FILE_E_TIME_JUMP,
	XPORT_FILE_E_N
};

struct xport_file_opts {
	enum xport_file_format format;
	/* raw: size of a message from its type byte, 0 when unknown; needed
	 * only for zero length prefixes (NULL: a zero prefix is unknown_type) */
	size_t (*size_of_type)(uint8_t type);
	/* raw: the recorded time of a message, or XPORT_NO_TIME; NULL: none,
	 * so raw files replay unpaced */
	int64_t (*record_ns)(void *ctx, const uint8_t *msg, size_t len);
	void *record_ctx;
	double speed;  /* 0: as fast as possible; 1: recorded pace; 10: ten times faster */
	int64_t max_gap_ns; /* see struct xport_pacer; 0: one minute, < 0: no limit */
};

struct xport_file {
	struct xport_file_opts o;
	const uint8_t *base;      /* the mapping, or the caller's buffer */
	size_t size, off;
	bool mapped;
	bool done;                /* end of data, a truncated tail, or lost framing */
	int64_t rec_ns;           /* recorded time of the current message */
	struct xport_pacer pacer;
	struct xport_stats stats;
	struct named_counter err[XPORT_FILE_E_N];
};

/* Map path.  Returns 0, -EINVAL for bad opts, or -errno from open/mmap.
 * An empty file is fine (nothing to deliver). */
int xport_file_open(struct xport_file *x, const char *path, const struct xport_file_opts *o);

/* Replay from memory the caller keeps alive until close (tests, benchmarks). */
int xport_file_open_mem(struct xport_file *x, const void *buf, size_t len,
			const struct xport_file_opts *o);

/*
 * Deliver messages until the data ends (returns 0) or the callback returns
 * nonzero (returns 1; call again to go on with the next message).
 */
int xport_file_run(struct xport_file *x, xport_deliver_fn fn, void *ctx);

/* Recorded time of the message being delivered, or XPORT_NO_TIME. */
static inline int64_t xport_file_record_ns(const struct xport_file *x)
{
	return x->rec_ns;
}

/* The error counters, by name; returns how many. */
size_t xport_file_errors(const struct xport_file *x, const struct named_counter **out);

void xport_file_close(struct xport_file *x);

#endif
