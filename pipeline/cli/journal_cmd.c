/*
 * `fks tail` and `fks journal stats|verify|export`: the journal seen by an
 * operator.  All of them open the journal read-only, so they can run beside
 * the writer, and read it through journal_read, which never holds a
 * snapshot while it waits.
 *
 * Events are printed by pipeline/cli/record_print.h from the field table
 * of their type (shm/event_fields.h), prices and quantities at their
 * instrument's scales from the journal's own symbol table, so the numbers
 * mean what they meant to the run that wrote them.
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

#include "shm/fixed.h"
#include "pipeline/cli/record_print.h"
#include "pipeline/journal/journal.h"

#define POLL_NS 10000000l                /* -f: poll every 10 ms */
#define OPEN_POLL_NS 50000000l           /* -f: wait for a journal to appear */
#define TAIL_DEFAULT_LAST 10
#define PROGRESS_EVENTS 1000000u
#define PROGRESS_NS 2000000000ll

/* ---- filters ----------------------------------------------------------- */

struct filter {
	uint32_t types;                  /* bit per event type; 0: all */
	uint32_t stages;                 /* bit per source stage; 0: all */
	uint32_t n_ids;                  /* instruments; 0: all */
	uint32_t ids[JOURNAL_SYMBOLS_MAX];
	uint64_t to;                     /* last seq; 0: no end */
};

static bool filter_match(const struct journal_record *rec, void *ctx)
{
	const struct filter *fl = ctx;
	const struct fks_event_hdr *h = &rec->ev.h;
	if (fl->types && !(fl->types & (1u << h->type)))
		return false;
	if (fl->stages && (h->source >= 32 || !(fl->stages & (1u << h->source))))
		return false;
	if (fl->n_ids) {
		uint32_t i = 0;
		while (i < fl->n_ids && fl->ids[i] != h->instrument)
			i++;
		if (i == fl->n_ids)
			return false;
	}
	return true;
}

/* Split "a,b,c" and hand each word to add; a word it refuses is a usage
 * error, reported with the option's name. */
static int parse_list(const char *cmd, const char *opt, const char *list, void *ctx,
		      bool (*add)(void *ctx, const char *word))
{
	char buf[1024];
	if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
		fprintf(stderr, "%s: %s: list too long\n", cmd, opt);
		return 2;
	}
	for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (!add(ctx, w)) {
			fprintf(stderr, "%s: %s: unknown '%s'\n", cmd, opt, w);
			return 2;
		}
	return 0;
}

static bool add_type(void *ctx, const char *w)
{
	unsigned t = fks_event_type_from_name(w);
	if (t == FKS_EV_NONE)
		return false;
	((struct filter *)ctx)->types |= 1u << t;
	return true;
}

static bool add_stage(void *ctx, const char *w)
{
	for (unsigned s = 1; s < FKS_STAGE_COUNT; s++)
		if (fks_stage_name(s) && !strcmp(fks_stage_name(s), w)) {
			((struct filter *)ctx)->stages |= 1u << s;
			return true;
		}
	return false;
}

struct symbol_ctx {
	struct filter *fl;
	const struct journal_meta *meta;
};

static bool add_symbol(void *ctx, const char *w)
{
	struct symbol_ctx *sc = ctx;
	for (uint32_t i = 0; i < sc->meta->n_symbols; i++)
		if (!strcmp(sc->meta->symbol[i].symbol, w)) {
			if (sc->fl->n_ids < JOURNAL_SYMBOLS_MAX)
				sc->fl->ids[sc->fl->n_ids++] = sc->meta->symbol[i].id;
			return true;
		}
	return false;
}

static void list_types(FILE *out)
{
	fprintf(out, "event types:");
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++)
		fprintf(out, " %s", fks_event_type_name(t));
	fprintf(out, "\nstages:");
	for (unsigned s = 1; s < FKS_STAGE_COUNT; s++)
		fprintf(out, " %s", fks_stage_name(s));
	fprintf(out, "\n");
}

static void list_symbols(FILE *out, const struct journal_meta *m)
{
	fprintf(out, "symbols in this journal:");
	for (uint32_t i = 0; i < m->n_symbols; i++)
		fprintf(out, " %s", m->symbol[i].symbol);
	fprintf(out, "%s\n", m->n_symbols ? "" : " (none)");
}

/* ---- shared command plumbing ------------------------------------------- */

static bool parse_u64_arg(const char *s, uint64_t *out)
{
	char *end;
	if (!s[0] || s[0] == '-' || s[0] == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static volatile sig_atomic_t stop_requested;
static void on_stop_signal(int sig) { (void)sig; stop_requested = 1; }


static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART: wake the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000l, ns % 1000000000l };
	nanosleep(&ts, NULL);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}



static int open_or_report(const char *cmd, const char *dir, struct journal_reader **r)
{
	char err[512];
	int rc = journal_open_reader(dir, r, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s: %s\n", cmd, err);
	return rc;
}

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

int journal_cmd_tail(int argc, char **argv)
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
	const char *cmd = "fks tail", *dir = JOURNAL_DEFAULT_DIR, *symbols = NULL;
	bool follow = false, json = false, have_from = false, have_last = false;
	uint64_t from = 0, last = TAIL_DEFAULT_LAST;
	struct filter *fl = calloc(1, sizeof *fl);
	if (!fl)
		return 1;
	int ch, status = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "j:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': dir = optarg; break;
		case 'f': follow = true; break;
		case 'F':
			have_from = true;
			if (!parse_u64_arg(optarg, &from)) {
				fprintf(stderr, "%s: --from: expected a sequence number, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'L':
			have_last = true;
			if (!parse_u64_arg(optarg, &last)) {
				fprintf(stderr, "%s: --last: expected a count, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'T': status = status ? status : parse_list(cmd, "--type", optarg, fl, add_type); break;
		case 'S': symbols = optarg; break;
		case 'G': status = status ? status : parse_list(cmd, "--stage", optarg, fl, add_stage); break;
		case 'J': json = true; break;
		case 'h': tail_usage(stdout); free(fl); return 0;
		default: status = 2; break;
		}
	}
	if (!status && optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (the journal is -j DIR)\n", cmd, argv[optind]);
		status = 2;
	}
	if (!status && have_from && have_last) {
		fprintf(stderr, "%s: --from and --last exclude each other\n", cmd);
		status = 2;
	}
	if (status) {
		tail_usage(stderr);
		free(fl);
		return status;
	}

	ignore_sigpipe();
	catch_stop_signals();
	struct journal_reader *r;
	bool waited;
	if (tail_open(dir, follow, &r, &waited)) {
		free(fl);
		return stop_requested ? 0 : 1;
	}
	const struct journal_meta *meta = journal_reader_meta(r);
	struct symbol_ctx sc = { fl, meta };
	if (symbols && parse_list(cmd, "--symbol", symbols, &sc, add_symbol)) {
		list_symbols(stderr, meta);
		journal_reader_close(r);
		free(fl);
		return 2;
	}

	int rc = 0;
	if (have_from)
		journal_seek(r, from);
	else if (waited && !have_last)
		journal_seek(r, 1); /* everything in a journal we saw born is new */
	else
		rc = journal_seek_last(r, last, filter_match, fl);
	struct out *o = out_new(cmd);
	struct fmt f = { .meta = meta };
	if (rc || !o) {
		if (rc)
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
		journal_reader_close(r);
		free(o);
		free(fl);
		return 1;
	}
	struct journal_record rec;
	uint64_t corrupt = 0, idle_polls = 0;
	ino_t ino = journal_inode(dir);
	while (!o->broken && !o->error && !stop_requested) {
		rc = journal_read(r, &rec);
		if (rc == 1) {
			if (filter_match(&rec, fl)) {
				if (json)
					print_record_json(o, &f, &rec);
				else
					print_record_text(o, &f, &rec);
			}
			continue;
		}
		if (rc == JOURNAL_E_CORRUPT) {
			out_flush(o);
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
			corrupt++;
			continue;
		}
		if (rc < 0) {
			out_flush(o);
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
			status = 1;
			break;
		}
		out_flush(o); /* caught up: show it now */
		if (!follow)
			break;
		sleep_ns(POLL_NS);
		/* Every half second of quiet: has a new run replaced the journal? */
		if (++idle_polls % 50 == 0 && journal_inode(dir) != ino) {
			journal_reader_close(r);
			r = NULL;
			fprintf(stderr, "%s: %s was replaced (a new run started): following the new journal\n", cmd, dir);
			if (tail_open(dir, true, &r, &waited)) {
				status = stop_requested ? status : 1;
				break;
			}
			ino = journal_inode(dir);
			meta = journal_reader_meta(r);
			sc.meta = meta;
			f.meta = meta;
			journal_seek(r, 1);
		}
	}
	if (corrupt) {
		fprintf(stderr, "%s: %" PRIu64 " corrupted record%s skipped\n", cmd, corrupt, corrupt == 1 ? "" : "s");
		status = 1;
	}
	status = out_finish(cmd, o, status);
	if (r)
		journal_reader_close(r);
	free(o);
	free(fl);
	return status;
}

/* ---- fks journal stats ------------------------------------------------- */

static void stats_usage(FILE *out)
{
	fprintf(out,
		"usage: fks journal stats [--config] DIR\n"
		"\n"
		"Events by type and by source stage, first and last sequence number and event\n"
		"time, size on disk, and the run metadata (fks version, host, start time, sync\n"
		"mode, formats, symbol table).  Reads the whole journal once.\n"
		"\n"
		"  --config   also print the config text the run was started with\n"
		"\n"
		"Exit status: 0 ok, 1 the journal cannot be read or holds a corrupted record,\n"
		"2 usage.\n");
}

static void put_size(FILE *out, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	fprintf(out, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}


int journal_cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "fks journal stats";
	bool show_config = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': show_config = true; break;
		case 'h': stats_usage(stdout); return 0;
		default: stats_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: expected one journal directory\n", cmd);
		stats_usage(stderr);
		return 2;
	}
	const char *dir = argv[optind];
	ignore_sigpipe();
	struct journal_reader *r;
	if (open_or_report(cmd, dir, &r))
		return 1;
	const struct journal_meta *m = journal_reader_meta(r);

	uint64_t by_type[FKS_EV_TYPE_COUNT] = { 0 }, by_source[256] = { 0 };
	uint64_t n = 0, corrupt = 0, first_seq = 0, last_seq = 0, payload_bytes = 0;
	int64_t first_time = 0, last_time = 0;
	struct journal_record rec;
	int rc, status = 0;
	journal_seek(r, 0);
	while ((rc = journal_read(r, &rec)) != 0) {
		if (rc == JOURNAL_E_CORRUPT) {
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
			corrupt++;
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
			status = 1;
			break;
		}
		if (!n++) {
			first_seq = rec.seq;
			first_time = rec.ev.h.event_time_ns;
		}
		last_seq = rec.seq;
		last_time = rec.ev.h.event_time_ns;
		by_type[rec.ev.h.type]++;
		by_source[rec.ev.h.source]++;
		payload_bytes += rec.payload_len;
	}
	struct journal_disk disk;
	int drc = journal_disk_usage(r, &disk);

	char t[64];
	printf("journal:       %s\n", dir);
	printf("format:        journal %" PRIu32 ", event layout %" PRIu32 "\n", m->journal_format, m->event_layout);
	printf("fks version:   %s\n", m->fks_version[0] ? m->fks_version : "(not recorded)");
	printf("host:          %s\n", m->host);
	iso_time(t, sizeof t, m->start_time_ns);
	printf("started:       %s\n", t);
	printf("sync mode:     %s\n", journal_sync_name(m->sync));
	printf("config:        %zu bytes%s\n", m->config_len, show_config ? " (below)" : " (--config prints it)");
	printf("symbols:       %" PRIu32 "\n", m->n_symbols);
	for (uint32_t i = 0; i < m->n_symbols; i++)
		printf("  %4" PRIu32 "  %-16s px_scale %u  qty_scale %u\n", m->symbol[i].id, m->symbol[i].symbol,
		       m->symbol[i].px_scale, m->symbol[i].qty_scale);
	printf("events:        %" PRIu64 "\n", n);
	if (n) {
		iso_time(t, sizeof t, first_time);
		printf("first:         seq %" PRIu64 " at %s\n", first_seq, t);
		iso_time(t, sizeof t, last_time);
		printf("last:          seq %" PRIu64 " at %s\n", last_seq, t);
	}
	if (payload_bytes)
		printf("payloads:      %" PRIu64 " bytes\n", payload_bytes);
	if (corrupt)
		printf("corrupted:     %" PRIu64 " records (run fks journal verify)\n", corrupt);
	if (!drc) {
		printf("size on disk:  ");
		put_size(stdout, disk.allocated_bytes);
		printf(" allocated, data.mdb ");
		put_size(stdout, disk.data_bytes);
		printf(", %" PRIu64 " pages of %" PRIu32 " in use, map ", disk.pages_used, disk.page_size);
		put_size(stdout, disk.map_bytes);
		printf("\n");
	} else {
		fprintf(stderr, "%s: %s\n", cmd, journal_reader_error(r));
		status = 1;
	}
	printf("by type:\n");
	for (unsigned ty = 1; ty < FKS_EV_TYPE_COUNT; ty++)
		if (by_type[ty])
			printf("  %-16s %12" PRIu64 "\n", fks_event_type_name(ty), by_type[ty]);
	printf("by stage:\n");
	for (unsigned s = 0; s < 256; s++)
		if (by_source[s]) {
			if (fks_stage_name(s))
				printf("  %-16s %12" PRIu64 "\n", fks_stage_name(s), by_source[s]);
			else
				printf("  source %-9u %12" PRIu64 "\n", s, by_source[s]);
		}
	if (show_config)
		printf("config text:\n%s%s", m->config, m->config_len && m->config[m->config_len - 1] != '\n' ? "\n" : "");
	fflush(stdout);
	journal_reader_close(r);
	return status || corrupt ? 1 : 0;
}

/* ---- fks journal verify ------------------------------------------------ */

static void verify_usage(FILE *out)
{
	fprintf(out,
		"usage: fks journal verify DIR\n"
		"\n"
		"Check a journal: its metadata is present and of this build's format; keys run\n"
		"1, 2, 3, ... with no gap; every record decodes (its size fits its type); every\n"
		"source stage's sequence numbers (h.seq, kept by stages that forward an event)\n"
		"start at 1 and rise by 1 with no gap or repeat; every instrument id is in the\n"
		"symbol table.  It may run while the journal is being written.\n"
		"\n"
		"Prints \"ok: ...\" and exits 0, or prints the first problem found (which key,\n"
		"what is wrong) and exits 1.  2: usage.\n");
}

static int verify_fail(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int verify_fail(const char *dir, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL: %s: ", dir);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	return 1;
}

static const char *source_label(unsigned s, char *buf, size_t cap)
{
	if (fks_stage_name(s))
		return fks_stage_name(s);
	snprintf(buf, cap, "source %u", s);
	return buf;
}

int journal_cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			verify_usage(stdout);
			return 0;
		}
		verify_usage(stderr);
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "fks journal verify: expected one journal directory\n");
		verify_usage(stderr);
		return 2;
	}
	const char *dir = argv[optind];
	ignore_sigpipe();
	char err[512];
	struct journal_reader *r;
	if (journal_open_reader(dir, &r, err, sizeof err))
		return verify_fail(dir, "%s", err);
	const struct journal_meta *m = journal_reader_meta(r);

	uint64_t *last_src_seq = calloc(256, sizeof *last_src_seq);
	if (!last_src_seq) {
		journal_reader_close(r);
		return verify_fail(dir, "out of memory");
	}
	uint64_t expect = 1, n = 0;
	struct journal_record rec;
	char label[32];
	int rc, status = 0;
	journal_seek(r, 0);
	while ((rc = journal_read(r, &rec)) != 0) {
		if (rc < 0) {
			/* The reader's message names the key and the reason. */
			status = verify_fail(dir, "%s", journal_reader_error(r));
			break;
		}
		if (rec.seq != expect) {
			status = verify_fail(dir, "key %" PRIu64 " follows key %" PRIu64 ": keys %" PRIu64 "..%" PRIu64
					     " are missing (keys must run 1, 2, 3, ...)",
					     rec.seq, expect - 1, expect, rec.seq - 1);
			break;
		}
		expect++;
		n++;
		const struct fks_event_hdr *h = &rec.ev.h;
		if (h->source == FKS_STAGE_NONE || !fks_stage_name(h->source)) {
			status = verify_fail(dir, "key %" PRIu64 ": %s event from unknown source stage %u", rec.seq,
					     fks_event_type_name(h->type), h->source);
			break;
		}
		uint64_t want = last_src_seq[h->source] + 1;
		if (h->seq != want) {
			const char *src = source_label(h->source, label, sizeof label);
			if (h->seq > want)
				status = verify_fail(dir, "key %" PRIu64 ": %s seq %" PRIu64 " where %" PRIu64
						     " was expected: a gap of %" PRIu64 " in %s's sequence",
						     rec.seq, src, h->seq, want, h->seq - want, src);
			else
				status = verify_fail(dir, "key %" PRIu64 ": %s seq %" PRIu64 " where %" PRIu64
						     " was expected: %s's sequence repeats or goes back",
						     rec.seq, src, h->seq, want, src);
			break;
		}
		last_src_seq[h->source] = h->seq;
		if (h->instrument && !journal_meta_symbol(m, h->instrument)) {
			status = verify_fail(dir, "key %" PRIu64 ": instrument %" PRIu32 " is not in the symbol table",
					     rec.seq, h->instrument);
			break;
		}
	}
	if (!status) {
		printf("ok: %s: %" PRIu64 " events", dir, n);
		if (n)
			printf(", keys 1..%" PRIu64, n);
		for (unsigned s = 0; s < 256; s++)
			if (last_src_seq[s])
				printf(", %s 1..%" PRIu64, source_label(s, label, sizeof label), last_src_seq[s]);
		printf("; metadata ok (journal format %" PRIu32 ", event layout %" PRIu32 ", %" PRIu32 " symbols)\n",
		       m->journal_format, m->event_layout, m->n_symbols);
		fflush(stdout);
	}
	free(last_src_seq);
	journal_reader_close(r);
	return status;
}

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

int journal_cmd_export(int argc, char **argv)
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
	bool csv = false, have_to = false;
	uint64_t from = 0, to = 0;
	struct filter *fl = calloc(1, sizeof *fl);
	if (!fl)
		return 1;
	int ch, status = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (!strcmp(optarg, "csv")) {
				csv = true;
			} else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json")) {
				csv = false;
			} else {
				fprintf(stderr, "%s: --format: expected jsonl or csv, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'F':
			if (!parse_u64_arg(optarg, &from)) {
				fprintf(stderr, "%s: --from: expected a sequence number, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 't':
			have_to = true;
			if (!parse_u64_arg(optarg, &to)) {
				fprintf(stderr, "%s: --to: expected a sequence number, got '%s'\n", cmd, optarg);
				status = 2;
			}
			break;
		case 'T': status = status ? status : parse_list(cmd, "--type", optarg, fl, add_type); break;
		case 'h': export_usage(stdout); free(fl); return 0;
		default: status = 2; break;
		}
	}
	if (!status && optind != argc - 1) {
		fprintf(stderr, "%s: expected one journal directory\n", cmd);
		status = 2;
	}
	if (!status && have_to && to < from) {
		fprintf(stderr, "%s: --to %" PRIu64 " is before --from %" PRIu64 "\n", cmd, to, from);
		status = 2;
	}
	if (status) {
		export_usage(stderr);
		free(fl);
		return status;
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
	uint64_t end = have_to && to < last ? to : last;
	uint64_t start = from > first ? from : first;
	uint64_t total = end >= start && last ? end - start + 1 : 0;
	struct fmt f = { .meta = journal_reader_meta(r) };
	if (csv)
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
			if (csv)
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
