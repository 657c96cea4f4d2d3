/*
 * `fks journal export`: events as JSON lines or CSV, through the same
 * printers as `fks tail` (record_print.h).
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

/* ---- fks journal export ------------------------------------------------ */

static void export_usage(FILE *out)
{
	fprintf(out,
		"usage: fks journal export DIR [--format jsonl|csv] [--from SEQ] [--to SEQ] [--type T,...]\n"
		"\n"
		"Write the journal's events to stdout: JSON lines (the same objects as\n"
		"fks tail --json; the default) or CSV with a header (common columns, then\n"
		"the union of every type's fields, empty where a type has none).  Progress\n"
		"goes to stderr every million events or two seconds.\n"
		"\n"
		"  --format F     jsonl (default) or csv\n"
		"  --from SEQ     first sequence number (default: the first)\n"
		"  --to SEQ       last sequence number, inclusive (default: the last committed\n"
		"                 when the export starts)\n"
		"  --type T,...   only these event types\n"
		"\n"
		"Exit status: 0 ok, 1 the journal cannot be read or holds a corrupted record\n"
		"(skipped, each named on stderr), 2 usage.\n");
}

struct export_opts {
	bool csv, have_to;
	uint64_t from, to;
};

/* Options into e and fl, the journal at argv[optind]; 0, or the exit
 * status (help: -1 then 0). */
static int export_parse(int argc, char **argv, struct export_opts *e, struct filter *fl)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 't' },
		{ "type", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "fks journal export";
	int ch, status = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (!strcmp(optarg, "csv")) {
				e->csv = true;
			} else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json")) {
				e->csv = false;
			} else {
				fprintf(stderr, "%s: --format: expected jsonl or csv, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'F':
			if (!parse_u64_arg(optarg, &e->from)) {
				fprintf(stderr, "%s: --from: expected a sequence number, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 't':
			e->have_to = true;
			if (!parse_u64_arg(optarg, &e->to)) {
				fprintf(stderr, "%s: --to: expected a sequence number, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'T': status = status ? status : parse_list(cmd, "--type", optarg, fl, add_type); break;
		case 'h': export_usage(stdout); return -1;
		default: status = 2; break;
		}
	}
	if (!status && optind != argc - 1) {
		fprintf(stderr, "%s: expected one journal directory\n", cmd);
		status = 2;
	}
	if (!status && e->have_to && e->to < e->from) {
		fprintf(stderr, "%s: --to %" PRIu64 " is before --from %" PRIu64 "\n", cmd, e->to, e->from);
		status = 2;
	}
	if (status)
		export_usage(stderr);
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
	const char *dir = argv[optind];
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
