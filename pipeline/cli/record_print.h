/*
 * Journal records as an operator reads them, shared by `fks tail` and `fks
 * journal export`: one line of text, one JSON object or one CSV row per
 * record.  The event's own fields come from its field table
 * (shm/event_fields.h); this adds what the journal knows (the record's
 * sequence, the symbol and its scales, ISO times, the payload).
 *
 * Output goes through a buffer over write(2): on EPIPE (`fks tail | head`)
 * a command stops quietly and exits 0, because the reader going away is not
 * an error of ours.  SIGPIPE is ignored so that EPIPE is what we see.
 */
#ifndef FKS_PIPELINE_CLI_RECORD_PRINT_H
#define FKS_PIPELINE_CLI_RECORD_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/journal/journal.h"
#include "shm/text_sink.h"

struct out {
	struct fks_sink s;
	int fd;
	bool broken;                     /* EPIPE: whoever read us is gone */
	int error;                       /* another write error (errno) */
	char buf[1 << 16];
};

/* Per-command formatting state: the journal's symbols, and the last ISO
 * date spelled (most events share their second with the one before). */
struct fmt {
	const struct journal_meta *meta;
	int64_t date_sec;
	bool have_date;
	int date_len;
	char date[80];                   /* "YYYY-MM-DDTHH:MM:SS", room for any int */
};

/* Standard output through a fresh buffer; NULL (reported) if out of memory. */
struct out *out_new(const char *cmd);
void out_flush(struct out *o);
/* Flushes; the exit status after output: a vanished reader is fine (0),
 * a write error is reported and is 1, otherwise status.  o stays valid. */
int out_finish(const char *cmd, struct out *o, int status);
void ignore_sigpipe(void);

/* ISO 8601 UTC with nanoseconds: 2024-05-01T12:00:00.123456789Z */
void print_time(struct fks_sink *s, struct fmt *f, int64_t ns);
/* The same into buf (for summaries printed with stdio). */
void iso_time(char *buf, size_t cap, int64_t ns);

void print_record_text(struct out *o, struct fmt *f, const struct journal_record *rec);
void print_record_json(struct out *o, struct fmt *f, const struct journal_record *rec);
void print_csv_header(struct out *o);
void print_record_csv(struct out *o, struct fmt *f, const struct journal_record *rec);

#endif
