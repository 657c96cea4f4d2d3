/*
 * The publisher behind `fks bus publish`: it follows a journal as `fks
 * tail -f` does (rotations, a new run replacing the journal) and publishes
 * every committed event to JetStream (subjects and headers: bus_wire.h).
 * It only reads the journal, so the pipeline never waits for it.
 *
 * Exactly once, in journal order: messages go out asynchronously in
 * windows, each with Nats-Expected-Last-Sequence (the stream sequence it
 * must follow) and Nats-Msg-Id "<run>-<seq>".  A message lost in flight
 * (a server restart, a dropped connection) makes every later one of the
 * window fail its expected sequence instead of landing after a gap; the
 * publisher then asks the stream where it stands (its last message's run
 * and journal sequence: bus_stream_tail) and goes on from the next event.
 * A restarted publisher starts the same way, and the duplicate window
 * drops what a killed one had sent but not seen acknowledged.  This needs
 * the stream to have one writer: one publisher per stream.  Two
 * publishers of one journal exclude each other (a lock beside it,
 * "<dir>.bus.lock"): the second waits and takes over if the first stops.
 *
 * A server that is missing or unreachable stops nothing: the publisher
 * retries with back-off (0.1 s doubling to 5 s), the lag (events committed
 * in the journal and not yet acknowledged by the stream) grows, and it
 * catches up when the server is back.
 */
#ifndef FKS_PIPELINE_BUS_PUBLISH_H
#define FKS_PIPELINE_BUS_PUBLISH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pipeline/config/config.h"

struct bus_publish_opts {
	const struct fks_bus_cfg *bus;
	const char *journal_dir;
	bool json;                 /* payload: the `fks tail --json` line, not the bytes */
	uint32_t window;           /* messages in flight; 0: 1024 */
	uint32_t report_ms;        /* a progress line on stderr this often; 0: never */
	const char *metrics_file;  /* Prometheus text file, rewritten every report (or 1 s); NULL: none */
	bool until_closed;         /* stop once the run's journal is closed and all of it published */
};

struct bus_publish_stats {
	uint64_t published;        /* messages acknowledged by the stream (metadata included) */
	uint64_t duplicates;       /* of those, dropped by the duplicate window */
	uint64_t resyncs;          /* times the position was asked of the stream again */
	uint64_t connects;         /* successful connections */
	uint64_t connect_failures;
	uint64_t corrupt;          /* journal records that did not decode: not published */
	uint64_t journal_seq;      /* the journal's last committed sequence */
	uint64_t published_seq;    /* the last journal sequence the stream acknowledged */
	bool connected;
};

/* Run until *stop (or, with until_closed, the end of the run).  *st holds
 * the counters when it returns.  0, or 1 when the journal cannot be read. */
int bus_publish_run(const struct bus_publish_opts *o, volatile sig_atomic_t *stop, struct bus_publish_stats *st);

#endif
