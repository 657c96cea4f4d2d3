/*
 * `fks journal export`: events as JSON lines or CSV, through the same
 * printers as `fks tail` (record_print.h).
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
#include "pipeline/journal/journal.h"

/* ---- fks journal export ------------------------------------------------ */

static void export_usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks journal export DIR [--format jsonl|csv] [--from SEQ] [--to SEQ] [--type T,...]\n"
		"\n"
		"Write the journal's events to stdout: JSON lines (the same objects as\n"
		"fks tail --json; the default) or CSV with a header (common columns, then\n"
		"the union of every type's fields, empty where a type has none).  Progress\n"
		"goes to stderr every million events or two seconds.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out,
		"\n"
		"Exit status: 0 ok, 1 the journal cannot be read or holds a corrupted record\n"
		"(skipped, each named on stderr), 2 usage.\n");
}

/* --format: jsonl (or json) or csv. */
static bool set_format(bool *csv, const char *w)
{
	if (!strcmp(w, "csv"))
		*csv = true;
	else if (!strcmp(w, "jsonl") || !strcmp(w, "json"))
		*csv = false;
	else
		return false;
	return true;
}

struct export_opts {
	const char *format;
	bool csv, have_to;
	uint64_t from, to;
};

/* Options into e and fl, the journal at argv[1]; 0, or the exit status
 * (help: -1 then 0). */
static int export_parse(int argc, char **argv, struct export_opts *e, struct filter *fl)
{
	const struct opt opts[] = {
		{ .name = "format", .kind = OPT_STRING, .dest = &e->format, .arg = "F", .help = "jsonl (default) or csv" },
		{ .name = "from", .kind = OPT_UINT, .dest = &e->from, .arg = "SEQ",
		  .help = "first sequence number (default: the first)", .expect = "a sequence number" },
		{ .name = "to", .kind = OPT_UINT, .dest = &e->to, .arg = "SEQ", .seen = &e->have_to,
		  .help = "last sequence number, inclusive (default: the last committed\nwhen the export starts)",
		  .expect = "a sequence number" },
		{ .name = "type", .kind = OPT_LIST, .word = add_type, .ctx = fl, .arg = "T,...",
		  .help = "only these event types" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks journal export", .help_col = 17, .opts = opts };
	int status = 0, n = opts_parse(&table, argc, argv);
	if (n == OPTS_HELP) {
		export_usage(stdout, &table);
		return -1;
	}
	if (n == OPTS_BAD)
		return 2; /* reported, with the hint */
	if (!status && e->format && !set_format(&e->csv, e->format)) {
		fprintf(stderr, "%s: --format: expected jsonl or csv, got '%s'\n", table.cmd, e->format);
		status = 2;
	}
	if (!status && n != 1) {
		fprintf(stderr, "%s: expected one journal directory\n", table.cmd);
		status = 2;
	}
	if (!status && e->have_to && e->to < e->from) {
		fprintf(stderr, "%s: --to %" PRIu64 " is before --from %" PRIu64 "\n", table.cmd, e->to, e->from);
		status = 2;
	}
	if (status)
		opts_hint(&table);
	return status;
}

int journal_cmd_export(int argc, char **argv)
{
	const char *cmd = "fks journal export";
	struct export_opts e = { 0 };
	struct filter *fl = calloc(1, sizeof *fl);
	if (!fl)
		return 1;
	int status = export_parse(argc, argv, &e, fl);
	if (status) {
		free(fl);
		return status < 0 ? 0 : status;
	}
	const char *dir = argv[1];
	ignore_sigpipe();
	struct journal_reader *r;
	if (open_or_report(cmd, dir, &r)) {
		free(fl);
		return 1;
	}
	uint64_t first, last;
	struct out *o = out_new(cmd);
	if (!o || journal_bounds(r, &first, &last)) {
		if (o)
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
		journal_reader_close(r);
		free(o);
		free(fl);
		return 1;
	}
	/* A fixed end, so an export of a live journal terminates. */
	uint64_t end = e.have_to && e.to < last ? e.to : last;
	uint64_t start = e.from > first ? e.from : first;
	uint64_t total = end >= start && last ? end - start + 1 : 0;
	struct fmt f = { .meta = journal_reader_meta(r) };
	if (e.csv)
		print_csv_header(o);
	journal_seek(r, start);
	struct journal_record rec;
	uint64_t seen = 0, written = 0, corrupt = 0;
	int64_t t0 = mono_ns(), last_report = t0;
	bool reported = false;
	int rc;
	while (total && !o->broken && !o->error && (rc = journal_read(r, &rec)) != 0) {
		if (rc == JOURNAL_E_CORRUPT) {
			fprintf(stderr, "%s: %s (skipped)\n", cmd, journal_reader_error(r));
			corrupt++;
		} else if (rc < 0) {
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
			status = 1;
			break;
		} else if (rec.seq > end) {
			break;
		} else if (filter_match(&rec, fl)) {
			if (e.csv)
				print_record_csv(o, &f, &rec);
			else
				print_record_json(o, &f, &rec);
			written++;
		}
		if (++seen % PROGRESS_EVENTS == 0 || (seen % 4096 == 0 && mono_ns() - last_report >= PROGRESS_NS)) {
			last_report = mono_ns();
			fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " events read (%.0f%%), %" PRIu64 " written, %.1f s\n",
				cmd, seen, total, 100.0 * (double)seen / (double)total, written,
				(double)(last_report - t0) / 1e9);
			reported = true;
		}
		if (rec.seq >= end)
			break;
	}
	status = out_finish(cmd, o, status);
	if (reported && !o->broken)
		fprintf(stderr, "%s: done: %" PRIu64 " events written in %.1f s\n", cmd, written,
			(double)(mono_ns() - t0) / 1e9);
	if (corrupt) {
		fprintf(stderr, "%s: %" PRIu64 " corrupted record%s skipped\n", cmd, corrupt, corrupt == 1 ? "" : "s");
		status = status ? status : 1;
	}
	journal_reader_close(r);
	free(o);
	free(fl);
	return status;
}
