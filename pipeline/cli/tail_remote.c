/*
 * `fks tail --nats URL`: the local tail's filters and printing over a run
 * read back from JetStream.  --last N counts the matching events of the
 * run first (one pass to the end of what the stream holds), then reads it
 * again and prints the last N: the bus has no index to seek backwards in.
 * --from SEQ skips what comes before the journal sequence SEQ.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/bus/bus_conn.h"
#include "pipeline/bus/bus_reader.h"
#include "pipeline/cli/record_print.h"
#include "pipeline/cli/tail_remote.h"

#define CMD "fks tail"
#define READ_WAIT_MS 5000    /* not following: this long without a message is the end */
#define FOLLOW_WAIT_MS 100
#define REOPEN_NS 500000000l

/* In follow mode the run may not be there yet: wait for it. */
static int remote_open(const struct tail_opts *t, const struct fks_bus_cfg *b, const char *run,
		       struct bus_reader **r)
{
	char err[512];
	bool told = false;
	for (;;) {
		if (!bus_reader_open(b, run, r, err, sizeof err))
			return 0;
		if (!t->follow) {
			fprintf(stderr, "%s: %s\n", CMD, err);
			return 1;
		}
		if (!told)
			fprintf(stderr, "%s: waiting for the run on %s (%s)\n", CMD, b->url, err);
		told = true;
		sleep_ns(REOPEN_NS);
		if (stop_requested)
			return 1;
	}
}

/* How many events of the run match, up to what the stream holds now. */
static int count_matching(struct bus_reader *r, struct filter *fl, uint64_t *n, uint64_t *corrupt)
{
	struct journal_record rec;
	bool caught_up = false;
	*n = 0;
	while (!caught_up && !stop_requested) {
		int rc = bus_reader_next(r, &rec, READ_WAIT_MS, &caught_up);
		if (rc == 1 && filter_match(&rec, fl))
			(*n)++;
		else if (rc == JOURNAL_E_CORRUPT)
			(*corrupt)++;
		else if (rc == 0)
			break;
		else if (rc < 0)
			return -1;
	}
	return bus_reader_rewind(r);
}

static int remote_print(const struct tail_opts *t, struct filter *fl, struct bus_reader *r, uint64_t skip,
			struct out *o)
{
	struct fmt f = { .meta = bus_reader_meta(r) };
	struct journal_record rec;
	uint64_t corrupt = 0, skipped = 0;
	bool caught_up = false;
	int status = 0;
	while (!o->broken && !o->error && !stop_requested) {
		int rc = bus_reader_next(r, &rec, t->follow ? FOLLOW_WAIT_MS : READ_WAIT_MS, &caught_up);
		if (rc == 1) {
			if ((!t->have_from || rec.seq >= t->from) && filter_match(&rec, fl) && skipped++ >= skip) {
				if (t->json)
					print_record_json(o, &f, &rec);
				else
					print_record_text(o, &f, &rec);
			}
		} else if (rc == JOURNAL_E_CORRUPT) {
			out_flush(o);
			fprintf(stderr, "%s: %s\n", CMD, bus_reader_error(r));
			corrupt++;
		} else if (rc < 0) {
			out_flush(o);
			fprintf(stderr, "%s: %s\n", CMD, bus_reader_error(r));
			status = 1;
			break;
		} else if (!t->follow) {
			break; /* nothing for READ_WAIT_MS: the end */
		}
		if (caught_up || rc == 0) {
			out_flush(o); /* caught up: show it now */
			if (!t->follow)
				break;
		}
	}
	if (corrupt) {
		fprintf(stderr, "%s: %" PRIu64 " corrupted record%s skipped\n", CMD, corrupt, corrupt == 1 ? "" : "s");
		status = 1;
	}
	return status;
}

int tail_remote(const struct tail_opts *t, struct filter *fl)
{
	char err[512], run[BUS_RUN_MAX];
	struct fks_bus_cfg *b = malloc(sizeof *b);
	if (!b)
		return 1;
	if (bus_parse_remote(t->nats, b, run, err, sizeof err)) {
		fprintf(stderr, "%s: --nats %s\n", CMD, err);
		free(b);
		return 2;
	}
	struct bus_reader *r = NULL;
	int status = remote_open(t, b, run, &r);
	free(b);
	if (status)
		return stop_requested ? 0 : 1;
	struct symbol_ctx sc = { fl, bus_reader_meta(r) };
	if (t->symbols && parse_list(CMD, "--symbol", t->symbols, &sc, add_symbol)) {
		list_symbols(stderr, bus_reader_meta(r));
		bus_reader_close(r);
		return 2;
	}
	uint64_t skip = 0, matching = 0, corrupt = 0;
	if (!t->have_from) {
		if (count_matching(r, fl, &matching, &corrupt)) {
			fprintf(stderr, "%s: %s\n", CMD, bus_reader_error(r));
			bus_reader_close(r);
			return 1;
		}
		skip = matching > t->last ? matching - t->last : 0;
	}
	struct out *o = out_new(CMD);
	if (!o) {
		bus_reader_close(r);
		return 1;
	}
	status = out_finish(CMD, o, remote_print(t, fl, r, skip, o));
	bus_reader_close(r);
	free(o);
	return status;
}
