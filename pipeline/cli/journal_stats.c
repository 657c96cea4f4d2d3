/*
 * `fks journal stats`: events by type and stage, sequence range, size and
 * run metadata.
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

/* ---- fks journal stats ------------------------------------------------- */

static void stats_usage(FILE *out, const struct opt_table *table)
{
	fprintf(out,
		"usage: fks journal stats [--config] DIR\n"
		"\n"
		"Events by type and by source stage, first and last sequence number and event\n"
		"time, size on disk, and the run metadata (fks version, host, start time, sync\n"
		"mode, formats, symbol table).  Reads the whole journal once.\n"
		"\n");
	opts_print_help(table, out);
	fprintf(out,
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
	bool show_config = false;
	const struct opt opts[] = {
		{ .name = "config", .kind = OPT_FLAG, .dest = &show_config,
		  .help = "also print the config text the run was started with" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks journal stats", .help_col = 13, .opts = opts };
	const char *cmd = table.cmd;
	int code, npos = opts_parse_or_usage(&table, argc, argv, stats_usage, &code);
	if (npos < 0)
		return code;
	if (npos != 1)
		return opts_usage_error(&table, "expected one journal directory");
	const char *dir = argv[1];
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
	/* Only for a rotated run's parts: a journal that never rotated reads as before. */
	struct journal_end end;
	if (journal_reader_end(r, &end) == JOURNAL_OK && (m->part > 1 || end.rotated)) {
		iso_time(t, sizeof t, m->part_start_ns);
		printf("part:          %" PRIu32 " of its run, from seq %" PRIu64 ", created %s, %s\n", m->part,
		       m->first_seq, t, end.rotated ? "rotated (the run goes on in the next part)"
				       : end.ended ? "closed (the run ended here)" : "not ended by its writer");
	}
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
