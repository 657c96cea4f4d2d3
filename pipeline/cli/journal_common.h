/*
 * What `fks tail` and `fks journal stats|verify|export` share: event
 * filters (--type, --stage, --symbol, --to), stop signals and opening the
 * journal with the error reported.  All of them open the journal
 * read-only, so they can run beside the writer, and read it through
 * journal_read, which never holds a snapshot while it waits.  Their
 * options are parsed by pipeline/cli/options.h.
 */
#ifndef FKS_PIPELINE_CLI_JOURNAL_COMMON_H
#define FKS_PIPELINE_CLI_JOURNAL_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pipeline/journal/journal.h"

#define POLL_NS 10000000l                /* -f: poll every 10 ms */
#define OPEN_POLL_NS 50000000l           /* -f: wait for a journal to appear */
#define PROGRESS_EVENTS 1000000u
#define PROGRESS_NS 2000000000ll

struct filter {
	uint32_t types;                  /* bit per event type; 0: all */
	uint32_t stages;                 /* bit per source stage; 0: all */
	uint32_t n_ids;                  /* instruments; 0: all */
	uint32_t ids[JOURNAL_SYMBOLS_MAX];
	uint64_t to;                     /* last seq; 0: no end */
};

struct symbol_ctx {
	struct filter *fl;
	const struct journal_meta *meta;
};

/* A journal_seek_last / loop predicate over a struct filter. */
bool filter_match(const struct journal_record *rec, void *ctx);
/* Split "a,b,c" and hand each word to add; a word it refuses is a usage
 * error, reported with the option's name: returns 2, else 0. */
int parse_list(const char *cmd, const char *opt, const char *list, void *ctx,
	       bool (*add)(void *ctx, const char *word));
bool add_type(void *ctx, const char *w);           /* ctx: struct filter */
bool add_stage(void *ctx, const char *w);          /* ctx: struct filter */
bool add_symbol(void *ctx, const char *w);         /* ctx: struct symbol_ctx */
void list_types(FILE *out);
void list_symbols(FILE *out, const struct journal_meta *m);

/* Set by SIGINT/SIGTERM once catch_stop_signals ran. */
extern volatile sig_atomic_t stop_requested;
void catch_stop_signals(void);
void sleep_ns(long ns);
int64_t mono_ns(void);
/* journal_open_reader, with its error printed after cmd. */
int open_or_report(const char *cmd, const char *dir, struct journal_reader **r);

/* Following a live journal (`fks tail -f`, `fks bus publish`). */

/* The inode of dir/data.mdb (0 when there is none): a new run moves the
 * old journal away and creates a new one under the same name. */
ino_t journal_dir_inode(const char *dir);
/* *r ended rotated at end_seq and everything up to it was read: switch to
 * the run's next part once it is there (parts deleted by retention before
 * they were read are reported on stderr after cmd).  Returns 1 switched
 * (*r replaced, positioned at the part's first key), 0 not yet. */
int journal_follow_rotation(const char *cmd, const char *dir, struct journal_reader **r, uint64_t end_seq);

#endif
