/*
 * `fks journal verify`: keys, records, per-stage sequences and metadata;
 * exit 1 on the first problem.
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
		"A rotated run's later parts (journal.rotate_mb, rotate_s) are checked the same\n"
		"way from where they start: keys from the part's first_seq, and each source's\n"
		"sequence from its first event in the part; a part that its writer ended must\n"
		"end at the key it recorded.\n"
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
	/* No options of its own; the table gives it -h and the errors. */
	const struct opt opts[] = { { 0 } };
	const struct opt_table table = { .cmd = "fks journal verify", .opts = opts };
	int npos = opts_parse(&table, argc, argv);
	if (npos == OPTS_HELP) {
		verify_usage(stdout);
		return 0;
	}
	if (npos == OPTS_BAD)
		return 2; /* reported, with the hint */
	if (npos != 1)
		return opts_usage_error(&table, "expected one journal directory");
	const char *dir = argv[1];
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
	uint64_t expect = m->first_seq, n = 0;
	bool later_part = m->first_seq > 1; /* sources' sequences started in an earlier part */
	uint64_t *first_src_seq = calloc(256, sizeof *first_src_seq);
	if (!first_src_seq) {
		free(last_src_seq);
		journal_reader_close(r);
		return verify_fail(dir, "out of memory");
	}
	struct journal_record rec;
	char label[32];
	int rc, status = 0;
	struct journal_end end;
	if (journal_reader_end(r, &end)) {
		status = verify_fail(dir, "%s", journal_reader_error(r));
		goto out;
	}
	journal_seek(r, 0);
	while ((rc = journal_read(r, &rec)) != 0) {
		if (rc < 0) {
			/* The reader's message names the key and the reason. */
			status = verify_fail(dir, "%s", journal_reader_error(r));
			break;
		}
		if (rec.seq != expect) {
			if (rec.seq < expect)
				status = verify_fail(dir, "key %" PRIu64 " comes before the part's first key %" PRIu64,
						     rec.seq, m->first_seq);
			else
				status = verify_fail(dir, "key %" PRIu64 " follows key %" PRIu64 ": keys %" PRIu64 "..%" PRIu64
						     " are missing (keys must run %" PRIu64 ", %" PRIu64 ", ...)",
						     rec.seq, expect - 1, expect, rec.seq - 1, m->first_seq, m->first_seq + 1);
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
		if (later_part && !last_src_seq[h->source])
			want = first_src_seq[h->source] = h->seq; /* it began in an earlier part */
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
	/* A part its writer ended holds exactly the keys up to end_seq, no more
	 * (records after it) and no fewer (a lost tail). */
	if (!status && end.ended && expect - 1 != end.end_seq)
		status = verify_fail(dir, "the part was ended at key %" PRIu64 " but its last key is %" PRIu64,
				     end.end_seq, expect - 1);
	if (!status) {
		printf("ok: %s: %" PRIu64 " events", dir, n);
		if (n)
			printf(", keys %" PRIu64 "..%" PRIu64, m->first_seq, m->first_seq + n - 1);
		for (unsigned s = 0; s < 256; s++)
			if (last_src_seq[s])
				printf(", %s %" PRIu64 "..%" PRIu64, source_label(s, label, sizeof label),
				       first_src_seq[s] ? first_src_seq[s] : 1, last_src_seq[s]);
		if (m->part > 1 || end.rotated)
			printf("; part %" PRIu32 " of its run%s", m->part, end.rotated ? ", rotated" : "");
		printf("; metadata ok (journal format %" PRIu32 ", event layout %" PRIu32 ", %" PRIu32 " symbols)\n",
		       m->journal_format, m->event_layout, m->n_symbols);
		fflush(stdout);
	}
out:
	free(first_src_seq);
	free(last_src_seq);
	journal_reader_close(r);
	return status;
}
