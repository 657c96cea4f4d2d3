/*
 * Reading a run back from the bus, on any host: its metadata (symbols,
 * scales, config), then its events in journal order, as journal records,
 * so that `fks tail --nats` and `fks replay --input nats://...` print and
 * replay exactly what the local journal gives.  Events come through an
 * ephemeral pull consumer (no acknowledgements; started again where it was
 * after a gap) from the run's metadata message on; other runs' messages
 * are skipped.
 */
#ifndef FKS_PIPELINE_BUS_READER_H
#define FKS_PIPELINE_BUS_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/config/config.h"
#include "pipeline/journal/journal.h"

struct bus_reader;

/* Connect to b, find run `run` ("": the stream's latest), read its
 * metadata and subscribe to its events from the first.  0, or -1 with err
 * (no server, no such stream, no run, metadata of another layout). */
int bus_reader_open(const struct fks_bus_cfg *b, const char *run, struct bus_reader **out, char *err,
		    size_t errlen);

/* The run's metadata (first_seq 1, part 1: the bus keeps no parts). */
const struct journal_meta *bus_reader_meta(const struct bus_reader *r);
/* The run token (bus_wire.h). */
const char *bus_reader_run(const struct bus_reader *r);
/* The name of the journal directory it was published from. */
const char *bus_reader_journal_name(const struct bus_reader *r);

/*
 * The next event: 1 with *rec (its payload valid until the next call);
 * 0 when none came within timeout_ms; JOURNAL_E_CORRUPT when a message
 * does not decode (a JSON payload, another layout, a bad value: the reason
 * is in bus_reader_error; it is skipped, so count it and go on); -1 on a
 * connection error.  *caught_up: nothing more of the stream was pending
 * when this message (or the skipped one) was delivered.
 */
int bus_reader_next(struct bus_reader *r, struct journal_record *rec, int timeout_ms, bool *caught_up);

/* Start again at the run's first event. 0, or -1 (bus_reader_error). */
int bus_reader_rewind(struct bus_reader *r);

const char *bus_reader_error(const struct bus_reader *r);
void bus_reader_close(struct bus_reader *r);

#endif
