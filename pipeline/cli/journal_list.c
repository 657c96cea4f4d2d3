/*
 * `fks journal list [DIR]`: every journal of DIR, the part being written at
 * DIR itself, the rotated parts DIR.<run start>.pNNNNNN and earlier runs'
 * journals DIR.<start time>, in time order, each with its sequence and
 * time range, size and whether its writer ended it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/cli/journal_common.h"
#include "pipeline/cli/options.h"
#include "pipeline/cli/record_print.h"
#include "pipeline/journal/journal.h"
#include "shm/text_sink.h"

#define LIST_MAX 100000 /* parts listed; past it the listing says so */

struct part_info {
	char path[PATH_MAX];
	int64_t run_start_ns;        /* sort key: the run, then the part */
	uint32_t part;
	uint64_t first_seq, last_seq, events;
	int64_t first_event_ns, last_event_ns;
	uint64_t bytes;              /* data.mdb's blocks on disk */
	bool readable, complete;
	const char *state;           /* rotated, closed, being written, unfinished, unreadable */
	char error[256];
};

static void list_usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks journal list [DIR] [--json]\n"
		"\n"
		"List every journal of DIR (default \"" JOURNAL_DEFAULT_DIR "\", as journal.path): the one at DIR\n"
		"(the latest run, or the part of it being written), the parts a rotation moved\n"
		"to DIR.<run start>.pNNNNNN (journal.rotate_mb, rotate_s) and earlier runs'\n"
		"journals DIR.<start time>, sorted by run and part, so in time order.  Each\n"
		"with its first and last sequence number, event count, first and last event\n"
		"time, size on disk (data.mdb's allocated blocks) and state:\n"
		"  rotated         complete: the run went on in the next part\n"
		"  closed          complete: the run ended here\n"
		"  being written   its writer (pid given) is still running\n"
		"  unfinished      not ended by its writer, which is gone (a crash or a kill);\n"
		"                  what it holds is valid up to its last commit\n"
		"  unreadable      not a journal this build reads (the reason is given)\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out, "\nExit status: 0 ok, 1 no journal found or one is unreadable, 2 usage.\n");
}

/* The first and last records' event times. */
static void event_times(struct journal_reader *r, struct part_info *p)
{
	struct journal_record rec;
	journal_seek(r, p->first_seq);
	if (journal_read(r, &rec) == 1)
		p->first_event_ns = rec.ev.h.event_time_ns;
	journal_seek(r, p->last_seq);
	if (journal_read(r, &rec) == 1)
		p->last_event_ns = rec.ev.h.event_time_ns;
}

static void describe_part(const char *path, struct part_info *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->path, sizeof p->path, "%s", path);
	p->state = "unreadable";
	struct journal_reader *r;
	struct journal_end end;
	struct journal_disk disk;
	if (journal_open_reader(path, &r, p->error, sizeof p->error))
		return;
	const struct journal_meta *m = journal_reader_meta(r);
	p->run_start_ns = m->start_time_ns;
	p->part = m->part;
	if (journal_bounds(r, &p->first_seq, &p->last_seq) || journal_reader_end(r, &end) ||
	    journal_disk_usage(r, &disk)) {
		snprintf(p->error, sizeof p->error, "%s", journal_reader_error(r));
		journal_reader_close(r);
		return;
	}
	p->events = disk.entries;
	p->bytes = disk.allocated_bytes;
	if (p->events)
		event_times(r, p);
	journal_reader_close(r);
	p->readable = true;
	p->complete = end.ended;
	p->state = end.ended ? (end.rotated ? "rotated" : "closed")
			     : journal_writer_pid(path) ? "being written" : "unfinished";
}

static int by_time(const void *a, const void *b)
{
	const struct part_info *x = a, *y = b;
	if (x->run_start_ns != y->run_start_ns)
		return x->run_start_ns < y->run_start_ns ? -1 : 1;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* dir's journals: dir itself and its siblings named "<base>.<anything>"
 * that hold a data.mdb.  Returns the count, or -1 after an error message. */
static long find_parts(const char *cmd, const char *dir, struct part_info **out)
{
	char copy1[PATH_MAX], copy2[PATH_MAX];
	snprintf(copy1, sizeof copy1, "%s", dir);
	for (size_t n = strlen(copy1); n > 1 && copy1[n - 1] == '/'; n--)
		copy1[n - 1] = 0;
	snprintf(copy2, sizeof copy2, "%s", copy1);
	const char *parent = dirname(copy1), *base = basename(copy2);
	size_t blen = strlen(base);
	DIR *d = opendir(parent);
	if (!d) {
		fprintf(stderr, "%s: %s: %s (the directory that holds the journals %s*)\n", cmd, parent, strerror(errno),
			dir);
		return -1;
	}
	struct part_info *parts = NULL;
	long n = 0, cap = 0;
	struct dirent *e;
	char path[PATH_MAX + 300], data[PATH_MAX + 320];
	struct stat st;
	while ((e = readdir(d)) && n < LIST_MAX) {
		if (strncmp(e->d_name, base, blen) || (e->d_name[blen] && e->d_name[blen] != '.'))
			continue;
		snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
		snprintf(data, sizeof data, "%s/data.mdb", path);
		if (stat(data, &st) || strlen(path) >= PATH_MAX)
			continue; /* not a journal directory (or an empty one) */
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct part_info *grown = realloc(parts, (size_t)cap * sizeof *parts);
			if (!grown) {
				fprintf(stderr, "%s: out of memory\n", cmd);
				free(parts);
				closedir(d);
				return -1;
			}
			parts = grown;
		}
		describe_part(path, &parts[n++]);
	}
	closedir(d);
	*out = parts;
	return n;
}

/* Why there is nothing to list: as specific as the path allows. */
static void explain_none(const char *cmd, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		fprintf(stderr, "%s: %s is not a directory, so not a journal, and no %s.* journals are beside it\n", cmd,
			dir, dir);
	else if (stat(dir, &st) == 0)
		fprintf(stderr, "%s: %s holds no journal (no data.mdb), and no %s.* journals are beside it\n", cmd, dir,
			dir);
	else
		fprintf(stderr, "%s: no journal at %s (%s), and no rotated or earlier journals %s.*\n", cmd, dir,
			strerror(errno), dir);
}

static void print_json(const struct part_info *p)
{
	char t0[48] = "", t1[48] = "";
	if (p->events) {
		iso_time(t0, sizeof t0, p->first_event_ns);
		iso_time(t1, sizeof t1, p->last_event_ns);
	}
	printf("{\"path\":\"");
	fks_json_fput_chars(stdout, p->path, strlen(p->path));
	printf("\",\"state\":\"%s\",\"complete\":%s", p->state, p->complete ? "true" : "false");
	if (!p->readable) {
		printf(",\"error\":\"");
		fks_json_fput_chars(stdout, p->error, strlen(p->error));
		printf("\"}\n");
		return;
	}
	printf(",\"run_start_ns\":%" PRId64 ",\"part\":%" PRIu32 ",\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64
	       ",\"events\":%" PRIu64 ",\"first_event_ns\":%" PRId64 ",\"last_event_ns\":%" PRId64
	       ",\"first_event_time\":\"%s\",\"last_event_time\":\"%s\",\"bytes\":%" PRIu64 "}\n",
	       p->run_start_ns, p->part, p->first_seq, p->last_seq, p->events, p->first_event_ns, p->last_event_ns, t0,
	       t1, p->bytes);
}

static void print_text(const struct part_info *p, int width)
{
	if (!p->readable) {
		printf("%-*s  unreadable: %s\n", width, p->path, p->error);
		return;
	}
	char t0[48] = "-", t1[48] = "-";
	if (p->events) {
		iso_time(t0, sizeof t0, p->first_event_ns);
		iso_time(t1, sizeof t1, p->last_event_ns);
	}
	printf("%-*s %5" PRIu32 " %12" PRIu64 " %12" PRIu64 " %10" PRIu64 "  %-30s  %-30s %9.1f  %s%s\n", width, p->path,
	       p->part, p->first_seq, p->last_seq, p->events, t0, t1, (double)p->bytes / (1024.0 * 1024.0), p->state,
	       p->complete ? "" : " (incomplete)");
}

int journal_cmd_list(int argc, char **argv)
{
	bool json = false;
	const struct opt opts[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = &json, .help = "one JSON object per journal, one per line" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks journal list", .help_col = 10, .opts = opts };
	const char *cmd = table.cmd;
	int code, npos = opts_parse_or_usage(&table, argc, argv, list_usage, &code);
	if (npos < 0)
		return code;
	if (npos > 1)
		return opts_usage_error(&table, "expected at most one journal directory");
	const char *dir = npos ? argv[1] : JOURNAL_DEFAULT_DIR;
	ignore_sigpipe();
	struct part_info *parts = NULL;
	long n = find_parts(cmd, dir, &parts);
	if (n <= 0) {
		if (n == 0)
			explain_none(cmd, dir);
		free(parts);
		return 1;
	}
	qsort(parts, (size_t)n, sizeof *parts, by_time);
	int width = 4, status = 0;
	for (long i = 0; i < n; i++) {
		int w = (int)strlen(parts[i].path);
		width = w > width ? w : width;
		status |= !parts[i].readable;
	}
	if (!json)
		printf("%-*s %5s %12s %12s %10s  %-30s  %-30s %9s  %s\n", width, "path", "part", "first seq", "last seq",
		       "events", "first event", "last event", "MiB", "state");
	for (long i = 0; i < n; i++)
		json ? print_json(&parts[i]) : print_text(&parts[i], width);
	if (n == LIST_MAX)
		fprintf(stderr, "%s: listed the first %d journals only\n", cmd, LIST_MAX);
	fflush(stdout);
	free(parts);
	return status;
}
