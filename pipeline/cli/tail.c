/*
 * `fks tail`: print journal events, or follow them live with -f.  Events
 * are printed by record_print.h from the field table of their type.
 */
#include <errno.h>
#include <getopt.h>
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
#include "pipeline/cli/record_print.h"
#include "pipeline/journal/journal.h"

#define TAIL_DEFAULT_LAST 10

/* ---- fks tail ---------------------------------------------------------- */

static void tail_usage(FILE *out)
{
	fprintf(out,
		"usage: fks tail [-j DIR] [-f] [--from SEQ | --last N] [--type T,...] [--symbol S,...]\n"
		"                [--stage NAME,...] [--json]\n"
		"\n"
		"Print journal events, one line each: sequence number, event time (ISO 8601 UTC),\n"
		"type, source stage#its sequence, symbol, then every field of the event, prices\n"
		"and quantities in decimal units at the instrument's scales. recv_ns is the\n"
		"monotonic receive time of the input that caused the event, in raw ns.\n"
		"\n"
		"  -j, --journal DIR   the journal (default \"%s\", as journal.path)\n"
		"  -f, --follow        keep printing new events as they are committed (polls\n"
		"                      every 10 ms; waits for the journal if it does not exist\n"
		"                      yet, and then starts at its first event); Ctrl-C to stop\n"
		"  --from SEQ          start at sequence number SEQ\n"
		"  --last N            start N matching events before the end (default 10)\n"
		"  --type T,...        only these event types\n"
		"  --symbol S,...      only these instruments (symbols of the journal)\n"
		"  --stage NAME,...    only events whose source is this stage\n"
		"  --json              one JSON object per line instead of text\n"
		"\n"
		"Exit status: 0 ok (also when the output is closed early, as by head),\n"
		"1 the journal cannot be read or holds a corrupted record, 2 usage.\n",
		JOURNAL_DEFAULT_DIR);
	list_types(out);
}

/* The inode of dir/data.mdb (0 when there is none): a new run moves the old
 * journal away and creates a new one under the same name. */
static ino_t journal_inode(const char *dir)
{
	char path[PATH_MAX + 16];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	return stat(path, &st) == 0 ? st.st_ino : 0;
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

struct tail_opts {
	const char *dir, *symbols;
	bool follow, json, have_from, have_last;
	uint64_t from, last;
};

/* Options into t and fl; 0, or the exit status (help: -1 then 0). */
static int tail_parse(int argc, char **argv, struct tail_opts *t, struct filter *fl)
{
	static const struct option longopts[] = {
		{ "journal", required_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "last", required_argument, NULL, 'L' },
		{ "type", required_argument, NULL, 'T' },
		{ "symbol", required_argument, NULL, 'S' },
		{ "stage", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "fks tail";
	int ch, status = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "j:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': t->dir = optarg; break;
		case 'f': t->follow = true; break;
		case 'F':
			t->have_from = true;
			if (!parse_u64_arg(optarg, &t->from)) {
				fprintf(stderr, "%s: --from: expected a sequence number, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'L':
			t->have_last = true;
			if (!parse_u64_arg(optarg, &t->last)) {
				fprintf(stderr, "%s: --last: expected a count, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'T': status = status ? status : parse_list(cmd, "--type", optarg, fl, add_type); break;
		case 'S': t->symbols = optarg; break;
		case 'G': status = status ? status : parse_list(cmd, "--stage", optarg, fl, add_stage); break;
		case 'J': t->json = true; break;
		case 'h': tail_usage(stdout); return -1;
		default: status = 2; break;
		}
	}
	if (!status && optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (the journal is -j DIR)\n", cmd, argv[optind]);
		status = 2;
	}
	if (!status && t->have_from && t->have_last) {
		fprintf(stderr, "%s: --from and --last exclude each other\n", cmd);
		status = 2;
	}
	if (status)
		tail_usage(stderr);
	return status;
}

/* Print matching records until the end (or, following, until stopped or
 * the reader goes away); *r may be replaced when a new run replaces the
 * journal.  Returns the exit status before output is finished. */
static int tail_print(const struct tail_opts *t, struct filter *fl, struct journal_reader **r, struct out *o)
{
	const char *cmd = "fks tail";
	struct fmt f = { .meta = journal_reader_meta(*r) };
	struct journal_record rec;
	uint64_t corrupt = 0, idle_polls = 0;
	ino_t ino = journal_inode(t->dir);
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
		/* Every half second of quiet: has a new run replaced the journal? */
		if (++idle_polls % 50 == 0 && journal_inode(t->dir) != ino) {
			journal_reader_close(*r);
			*r = NULL;
			fprintf(stderr, "%s: %s was replaced (a new run started): following the new journal\n", cmd,
				t->dir);
			if (tail_open(t->dir, true, r, &waited)) {
				status = stop_requested ? status : 1;
				break;
			}
			ino = journal_inode(t->dir);
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
