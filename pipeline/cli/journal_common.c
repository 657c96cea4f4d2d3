/* Filters and plumbing shared by the journal commands (journal_common.h). */
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
#include "pipeline/cli/record_print.h"
#include "pipeline/journal/journal.h"

/* ---- filters ----------------------------------------------------------- */

bool filter_match(const struct journal_record *rec, void *ctx)
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
int parse_list(const char *cmd, const char *opt, const char *list, void *ctx,
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

bool add_type(void *ctx, const char *w)
{
	unsigned t = fks_event_type_from_name(w);
	if (t == FKS_EV_NONE)
		return false;
	((struct filter *)ctx)->types |= 1u << t;
	return true;
}

bool add_stage(void *ctx, const char *w)
{
	for (unsigned s = 1; s < FKS_STAGE_COUNT; s++)
		if (fks_stage_name(s) && !strcmp(fks_stage_name(s), w)) {
			((struct filter *)ctx)->stages |= 1u << s;
			return true;
		}
	return false;
}

bool add_symbol(void *ctx, const char *w)
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

void list_types(FILE *out)
{
	fprintf(out, "event types:");
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++)
		fprintf(out, " %s", fks_event_type_name(t));
	fprintf(out, "\nstages:");
	for (unsigned s = 1; s < FKS_STAGE_COUNT; s++)
		fprintf(out, " %s", fks_stage_name(s));
	fprintf(out, "\n");
}

void list_symbols(FILE *out, const struct journal_meta *m)
{
	fprintf(out, "symbols in this journal:");
	for (uint32_t i = 0; i < m->n_symbols; i++)
		fprintf(out, " %s", m->symbol[i].symbol);
	fprintf(out, "%s\n", m->n_symbols ? "" : " (none)");
}

/* ---- shared command plumbing ------------------------------------------- */

volatile sig_atomic_t stop_requested;
static void on_stop_signal(int sig) { (void)sig; stop_requested = 1; }

void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART: wake the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000l, ns % 1000000000l };
	nanosleep(&ts, NULL);
}

int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int open_or_report(const char *cmd, const char *dir, struct journal_reader **r)
{
	char err[512];
	int rc = journal_open_reader(dir, r, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s: %s\n", cmd, err);
	return rc;
}

/* ---- following a live journal ------------------------------------------ */

/* The inode of dir/data.mdb (0 when there is none): a new run moves the old
 * journal away and creates a new one under the same name. */
ino_t journal_dir_inode(const char *dir)
{
	char path[PATH_MAX + 16];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/*
 * Following a rotation.  The writer ends a part (meta end=rotated, end_seq)
 * before it moves it to its rotated name and creates the next part at dir,
 * so once the reader has read up to end_seq the next part is either still
 * to come at dir, already at dir, or (a tail that fell behind) already
 * rotated itself.  Parts deleted by retention before the tail got to them
 * are reported, and the tail goes on at the oldest part that is left.
 */
static bool same_run_later_part(struct journal_reader *n, const struct journal_meta *m)
{
	const struct journal_meta *nm = journal_reader_meta(n);
	return nm->start_time_ns == m->start_time_ns && nm->part > m->part;
}

/* The next part's reader, or NULL while it does not exist yet. */
static struct journal_reader *next_part(const char *dir, const struct journal_meta *m)
{
	char err[512], path[PATH_MAX + 80];
	struct journal_reader *n;
	for (uint32_t p = m->part + 1; p <= m->part + 64; p++) {
		if (!journal_part_path(dir, m->start_time_ns, p, path, sizeof path))
			break;
		if (journal_open_reader(path, &n, err, sizeof err) == JOURNAL_OK) {
			if (same_run_later_part(n, m))
				return n;
			journal_reader_close(n);
		}
	}
	if (journal_open_reader(dir, &n, err, sizeof err) == JOURNAL_OK) {
		if (same_run_later_part(n, m))
			return n;
		journal_reader_close(n);
	}
	return NULL;
}

/* *r ended rotated at end_seq and everything up to it was read: switch to
 * the next part once it is there.  Returns 1 switched, 0 not yet. */
int journal_follow_rotation(const char *cmd, const char *dir, struct journal_reader **r, uint64_t end_seq)
{
	struct journal_reader *n = next_part(dir, journal_reader_meta(*r));
	if (!n)
		return 0;
	const struct journal_meta *nm = journal_reader_meta(n);
	if (nm->first_seq != end_seq + 1)
		fprintf(stderr,
			"%s: part %" PRIu32 " starts at seq %" PRIu64 ": seq %" PRIu64 "..%" PRIu64
			" were in parts deleted (journal.retain) before they could be read\n",
			cmd, nm->part, nm->first_seq, end_seq + 1, nm->first_seq - 1);
	journal_reader_close(*r);
	*r = n;
	journal_seek(n, nm->first_seq);
	return 1;
}

