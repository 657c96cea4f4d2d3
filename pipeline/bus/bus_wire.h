/*
 * What FKS puts on the bus, and how it reads it back: subjects, message
 * headers, and the encoding of a run's metadata.  Pure functions (no
 * connection), shared by the publisher, the remote readers (`fks tail
 * --nats`, `fks replay --input nats://...`) and their tests.
 *
 * Subjects (docs/bus.md): <prefix>.<run>.<class>[.<symbol>], where run is
 * the run's start time in decimal ns since the epoch (the journal's
 * start_time_ns, unique per run and the same in every part), class is what
 * bus_event_class says, and market data adds the instrument's symbol
 * ('.' spelled '_' and '/' spelled '~', which NATS tokens cannot hold).
 * The run's metadata (symbols, scales, config: what a remote tail or
 * replay needs) is one message on <prefix>.<run>.meta, published before
 * the run's first event.
 *
 * An event message carries the journal value unchanged (the event's fixed
 * 64 or 128 bytes, then the payload framing when the record has one, as
 * pipeline/journal/journal.h lays it out), or, with json, the line `fks
 * tail --json` prints.  Its headers, kept few because each costs the
 * publisher and the server per message (docs/benchmarks.md, "Bus"),
 * besides the publisher's Nats-Expected-Last-Sequence:
 * Nats-Msg-Id "<run>-<seq>" (the duplicate window's key, and where a
 * reader finds the run and the journal sequence) and Fks-Layout
 * (FKS_EVENT_LAYOUT_VERSION); a JSON payload adds Fks-Format "json".  The
 * metadata message's id is "<run>-meta", with Fks-Kind "meta".
 */
#ifndef FKS_PIPELINE_BUS_WIRE_H
#define FKS_PIPELINE_BUS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/journal/journal.h"

#define BUS_SUBJECT_MAX 192
#define BUS_RUN_MAX 24           /* decimal int64 and the NUL */

#define BUS_HDR_MSG_ID "Nats-Msg-Id"
#define BUS_HDR_LAYOUT "Fks-Layout"
#define BUS_HDR_FORMAT "Fks-Format"  /* "json" on a JSON payload; absent: binary */
#define BUS_HDR_KIND "Fks-Kind"      /* "meta" on the metadata message */
#define BUS_MSG_ID_MAX (BUS_RUN_MAX + 24)

/* The run token of a journal's start time. */
void bus_run_id(int64_t start_time_ns, char out[BUS_RUN_MAX]);

/* "<run>-<seq>"; seq 0: "<run>-meta". */
void bus_msg_id(char out[BUS_MSG_ID_MAX], const char *run, uint64_t seq);
/* The run and journal sequence of a message id (seq 0: the metadata);
 * false when it is not one of ours. */
bool bus_msg_id_parse(const char *id, char run[BUS_RUN_MAX], uint64_t *seq);

/* "md", "signals", "orders", "risk", "fills", "positions", "control",
 * "heartbeat", "applied"; NULL for an unknown type. */
const char *bus_event_class(unsigned type);

/* The subject of one event of a run (meta gives the symbol of market
 * data; an instrument it lacks is spelled "id<N>").  false when it does
 * not fit in cap or the type is unknown. */
bool bus_event_subject(char *out, size_t cap, const char *prefix, const char *run, const union fks_event *ev,
		       const struct journal_meta *meta);
/* <prefix>.<run>.meta; with run "*", every run's. */
bool bus_meta_subject(char *out, size_t cap, const char *prefix, const char *run);
/* The subjects of the event stream, one per class: "<prefix>.*.md.*",
 * "<prefix>.*.orders", ..., "<prefix>.*.meta", rather than "<prefix>.>",
 * so that the signals subject <prefix>.signals.v1 (bus_signals.h), in a
 * stream of its own, overlaps none of them (JetStream refuses two streams
 * with overlapping subjects).  Returns how many, at most BUS_STREAM_SUBJECTS. */
#define BUS_STREAM_SUBJECTS 10
int bus_stream_subjects(const char *prefix, char out[BUS_STREAM_SUBJECTS][BUS_SUBJECT_MAX]);
/* <prefix>.signals.v1 */
bool bus_signals_subject(char *out, size_t cap, const char *prefix);

/* The journal value of a record (event bytes, then the payload framing
 * when it has one) into buf; returns its length, 0 when cap is short. */
size_t bus_record_value(const struct journal_record *rec, void *buf, size_t cap);

/* The metadata message's body: a versioned, fixed-layout header (with the
 * journal directory's name, which a remote replay titles its report
 * with, as a local one does), the symbol table and the config text.
 * bus_meta_encode returns a malloc'ed buffer (NULL: out of memory). */
#define BUS_JOURNAL_NAME_MAX 128
void *bus_meta_encode(const struct journal_meta *m, const char *journal_name, size_t *len);
/* 0, or -1 with why (a short body, another wire version, counts that do
 * not add up to its length).  name gets the journal's name. */
int bus_meta_decode(const void *body, size_t len, struct journal_meta *m, char name[BUS_JOURNAL_NAME_MAX],
		    char *why, size_t whylen);

#endif
