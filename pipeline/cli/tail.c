/*
 * `fks tail`: print journal events, or follow them live with -f.  Events
 * are printed by record_print.h from the field table of their type.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/journal_common.h"
#include "pipeline/cli/options.h"
#include "pipeline/cli/record_print.h"
#include "pipeline/cli/tail_remote.h"
#include "pipeline/journal/journal.h"

#define TAIL_DEFAULT_LAST 10
#define TEXT_OF(x) #x
#define TEXT(x) TEXT_OF(x) /* the macro's value, for --help */

/* ---- fks tail ---------------------------------------------------------- */

static void tail_usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks tail [-j DIR | --nats URL] [-f] [--from SEQ | --last N] [--type T,...]\n"
		"                [--symbol S,...] [--stage NAME,...] [--json]\n"
		"\n"
		"Print journal events, one line each: sequence number, event time (ISO 8601 UTC),\n"
		"type, source stage#its sequence, symbol, then every field of the event, prices\n"
		"and quantities in decimal units at the instrument's scales. recv_ns is the\n"
		"monotonic receive time of the input that caused the event, in raw ns.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out,
		"\n"
		"Exit status: 0 ok (also when the output is closed early, as by head),\n"
		"1 the journal cannot be read or holds a corrupted record, 2 usage.\n");
	list_types(out);
}

/* In follow mode a journal may not exist yet: wait for it.  Returns the
 * open status; *waited says whether it had to wait. */
static int tail_open(const char *dir, bool follow, struct journal_reader **r, bool *waited)
{
	char err[512];
	bool told = false;
	*waited = false;
	for (;;) {
		int rc = journal_open_reader(dir, r, err, sizeof err);
		if (!rc)
			return 0;
		if (!follow || (rc != JOURNAL_E_NOENT && rc != JOURNAL_E_NOT_JOURNAL)) {
			fprintf(stderr, "fks tail: %s\n", err);
			return rc;
		}
		if (!told)
			fprintf(stderr, "fks tail: waiting for a journal at %s (%s)\n", dir, err);
		told = true;
		*waited = true;
		sleep_ns(OPEN_POLL_NS);
		if (stop_requested)
			return JOURNAL_E_NOENT;
	}
}


/* Options into t and fl; 0, or the exit status (help: -1 then 0). */
static int tail_parse(int argc, char **argv, struct tail_opts *t, struct filter *fl)
{
	const struct opt opts[] = {
		{ .name = "journal", .short_name = 'j', .kind = OPT_STRING, .dest = &t->dir, .arg = "DIR",
		  .help = "the journal", .dflt = "\"" JOURNAL_DEFAULT_DIR "\", as journal.path" },
		{ .name = "follow", .short_name = 'f', .kind = OPT_FLAG, .dest = &t->follow,
		  .help = "keep printing new events as they are committed (polls\n"
			  "every 10 ms; waits for the journal if it does not exist\n"
			  "yet, and then starts at its first event; follows a\n"
			  "rotation into the run's next part, and a new run into\n"
			  "its journal); Ctrl-C to stop" },
		{ .name = "from", .kind = OPT_UINT, .dest = &t->from, .arg = "SEQ", .seen = &t->have_from,
		  .help = "start at sequence number SEQ", .expect = "a sequence number" },
		{ .name = "last", .kind = OPT_UINT, .dest = &t->last, .arg = "N", .seen = &t->have_last,
		  .help = "start N matching events before the end", .dflt = TEXT(TAIL_DEFAULT_LAST), .expect = "a count" },
		{ .name = "type", .kind = OPT_LIST, .word = add_type, .ctx = fl, .arg = "T,...",
		  .help = "only these event types" },
		{ .name = "symbol", .kind = OPT_STRING, .dest = &t->symbols, .arg = "S,...",
		  .help = "only these instruments (symbols of the journal)" },
		{ .name = "stage", .kind = OPT_LIST, .word = add_stage, .ctx = fl, .arg = "NAME,...",
		  .help = "only events whose source is this stage" },
		{ .name = "json", .kind = OPT_FLAG, .dest = &t->json, .help = "one JSON object per line instead of text" },
		{ .name = "nats", .kind = OPT_STRING, .dest = &t->nats, .arg = "URL",
		  .help = "read the run from NATS JetStream instead of a journal:\n"
			  "nats://HOST:PORT[?stream=S&prefix=P&run=R] (defaults\n"
			  "FKS, fks, the latest run); see docs/bus.md" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks tail", .help_col = 22, .opts = opts };
	int status = 0, n = opts_parse(&table, argc, argv);
	if (n == OPTS_HELP) {
		tail_usage(stdout, &table);
		return -1;
	}
	if (n == OPTS_BAD)
		return 2; /* reported, with the hint */
	if (!status && n > 0) {
		fprintf(stderr, "%s: unexpected argument '%s' (the journal is -j DIR)\n", table.cmd, argv[1]);
		status = 2;
	}
	if (!status && t->nats && t->dir && strcmp(t->dir, JOURNAL_DEFAULT_DIR)) {
		fprintf(stderr, "%s: -j and --nats exclude each other\n", table.cmd);
		status = 2;
	}
	if (!status && t->have_from && t->have_last) {
		fprintf(stderr, "%s: --from and --last exclude each other\n", table.cmd);
		status = 2;
	}
	if (status)
		opts_hint(&table);
	return status;
}

/* Print matching records until the end (or, following, until stopped or
 * the reader goes away); *r may be replaced when the journal rotates or a
 * new run replaces it.  Returns the exit status before output is finished. */
static int tail_print(const struct tail_opts *t, struct filter *fl, struct journal_reader **r, struct out *o)
{
	const char *cmd = "fks tail";
	struct fmt f = { .meta = journal_reader_meta(*r) };
	struct journal_record rec;
	uint64_t corrupt = 0, idle_polls = 0;
	bool end_seen = false; /* the part ended rotated, seen before the last read */
	ino_t ino = journal_dir_inode(t->dir);
	int rc, status = 0;
	bool waited;
	while (!o->broken && !o->error && !stop_requested) {
		rc = journal_read(*r, &rec);
		if (rc == 1) {
			if (filter_match(&rec, fl)) {
				if (t->json)
					print_record_json(o, &f, &rec);
				else
					print_record_text(o, &f, &rec);
			}
			continue;
		}
		if (rc == JOURNAL_E_CORRUPT || rc < 0) {
			out_flush(o);
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(*r));
			if (rc == JOURNAL_E_CORRUPT) {
				corrupt++;
				continue;
			}
			status = 1;
			break;
		}
		out_flush(o); /* caught up: show it now */
		if (!t->follow)
			break;
		sleep_ns(POLL_NS);
		/* Every half second of quiet: has a new run replaced the journal?
		 * Looked at before the end marker: a rotation writes that before it
		 * replaces the journal, so a replacement by a rotation is never
		 * mistaken for a new run. */
		bool replaced = ++idle_polls % 50 == 0 && journal_dir_inode(t->dir) != ino;
		struct journal_end end;
		if (journal_reader_end(*r, &end) == JOURNAL_OK && end.rotated) {
			/* The end is written after the part's last commit: once a read
			 * that began after seeing it finds nothing, all is read. */
			if (!end_seen) {
				end_seen = true;
				continue;
			}
			if (journal_follow_rotation(cmd, t->dir, r, end.end_seq)) {
				f.meta = journal_reader_meta(*r);
				ino = journal_dir_inode(t->dir);
				end_seen = false;
			}
			continue;
		}
		if (replaced) {
			journal_reader_close(*r);
			*r = NULL;
			fprintf(stderr, "%s: %s was replaced (a new run started): following the new journal\n", cmd,
				t->dir);
			if (tail_open(t->dir, true, r, &waited)) {
				status = stop_requested ? status : 1;
				break;
			}
			ino = journal_dir_inode(t->dir);
			f.meta = journal_reader_meta(*r);
			journal_seek(*r, 1);
		}
	}
	if (corrupt) {
		fprintf(stderr, "%s: %" PRIu64 " corrupted record%s skipped\n", cmd, corrupt, corrupt == 1 ? "" : "s");
		status = 1;
	}
	return status;
}

/* Where to start: --from, the first event of a journal we waited for, or
 * --last N matching events before the end. */
static int tail_seek(const struct tail_opts *t, struct filter *fl, struct journal_reader *r, bool waited)
{
	if (t->have_from || (waited && !t->have_last)) {
		/* everything in a journal we saw born is new */
		journal_seek(r, t->have_from ? t->from : 1);
		return 0;
	}
	return journal_seek_last(r, t->last, filter_match, fl);
}

int journal_cmd_tail(int argc, char **argv)
{
	const char *cmd = "fks tail";
	struct tail_opts t = { .dir = JOURNAL_DEFAULT_DIR, .last = TAIL_DEFAULT_LAST };
	struct filter *fl = calloc(1, sizeof *fl);
	if (!fl)
		return 1;
	int status = tail_parse(argc, argv, &t, fl);
	if (status) {
		free(fl);
		return status < 0 ? 0 : status;
	}
	ignore_sigpipe();
	catch_stop_signals();
	if (t.nats) {
		status = tail_remote(&t, fl);
		free(fl);
		return status;
	}
	struct journal_reader *r;
	bool waited;
	if (tail_open(t.dir, t.follow, &r, &waited)) {
		free(fl);
		return stop_requested ? 0 : 1;
	}
	const struct journal_meta *meta = journal_reader_meta(r);
	struct symbol_ctx sc = { fl, meta };
	if (t.symbols && parse_list(cmd, "--symbol", t.symbols, &sc, add_symbol)) {
		list_symbols(stderr, meta);
		journal_reader_close(r);
		free(fl);
		return 2;
	}
	int rc = tail_seek(&t, fl, r, waited);
	struct out *o = out_new(cmd);
	if (rc || !o) {
		if (rc)
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
		journal_reader_close(r);
		free(o);
		free(fl);
		return 1;
	}
	status = out_finish(cmd, o, tail_print(&t, fl, &r, o));
	if (r)
		journal_reader_close(r);
	free(o);
	free(fl);
	return status;
}
