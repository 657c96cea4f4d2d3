/*
 * `fks feed decode`: one recording through the same feed_source the feed
 * stage runs, with a learning symbol table, then a summary: messages by
 * venue type, errors by reason, transport counters, and each symbol's
 * final book.  Prices and quantities print as exact decimals (fx_format).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/cli/options.h"
#include "pipeline/runtime/feed_source.h"
#include "shm/fixed.h"
#include "shm/text_sink.h"
#include "feeds/decoders/itch.h"

#define PROGRESS_EVERY 1000000

/* The options, writing into a decode_opts. */
struct decode_opts {
	const char *venue, *path, *session_date;
	bool json, progress;
	int64_t book_n, utc_offset;
};

static const char usage_head[] =
	"usage: fks feed decode --venue VENUE FILE [--json] [--book N] [--session-date YYYY-MM-DD]\n"
	"                       [--utc-offset MIN] [--progress]\n"
	"\n"
	"Decode a recording and print messages by type, errors by reason and each\n"
	"symbol's final book (best bid/ask, level counts).\n"
	"\n";
static const char usage_tail[] =
	"\n"
	"Exit status: 0 the file was read to its end (decode errors, e.g. unknown_ref,\n"
	"are counted and printed); 1 it could not be opened or was not read to its end\n"
	"(a transport error: truncated, unframeable, read_error; the summary is still\n"
	"printed); 2 usage.\n";

static void usage(FILE *out, const struct opt_table *t)
{
	fputs(usage_head, out);
	opts_print_help(t, out);
	fputs(usage_tail, out);
}

static void json_str(FILE *o, const char *s, size_t len)
{
	fputc('"', o);
	fks_json_fput_chars(o, s, len);
	fputc('"', o);
}

static const char *fx(int64_t v, unsigned scale, char *buf)
{
	if (fx_format(v, scale, buf, FX_FORMAT_MAX + 1) < 0)
		strcpy(buf, "?");
	return buf;
}

struct decode_ctx {
	uint64_t events;
};

static void count_event(void *ctx, const union fks_event *ev)
{
	(void)ev;
	((struct decode_ctx *)ctx)->events++;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static void print_counters_json(FILE *o, const char *key, const struct named_counter *c, size_t n, bool first)
{
	fprintf(o, "%s\"%s\": {", first ? "" : ", ", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "%s", i ? ", " : "");
		json_str(o, c[i].name, strlen(c[i].name));
		fprintf(o, ": %llu", (unsigned long long)c[i].n);
	}
	fprintf(o, "}");
}

static bool take_int(const char *opt, const char *v, long lo, long hi, const char *expect, int64_t *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (*end || !*v || x < lo || x > hi) {
		fprintf(stderr, "fks feed decode: %s %s: expected %s\n", opt, v, expect);
		return false;
	}
	*out = x;
	return true;
}

static bool take_book(void *ctx, char *v)
{
	return take_int("--book", v, 0, 10000, "0..10000", &((struct decode_opts *)ctx)->book_n);
}

static bool take_utc_offset(void *ctx, char *v)
{
	return take_int("--utc-offset", v, -24 * 60, 24 * 60, "minutes, -1440..1440",
			&((struct decode_opts *)ctx)->utc_offset);
}

/* The options and the one FILE into d, checked: 0, 1 after --help, 2 on a
 * usage error (printed). */
static int parse_decode_opts(int argc, char **argv, struct decode_opts *d)
{
	*d = (struct decode_opts){ .session_date = "", .progress = isatty(2), .utc_offset = -300 };
	const struct opt options[] = {
		{ .name = "venue", .kind = OPT_STRING, .dest = &d->venue, .arg = "VENUE",
		  .help = "itch (raw length-prefixed ITCH 5.0; a .pcap file is read as\n"
			  "MoldUDP64 captures), binance, bybit, coinbase, kraken (JSON lines)" },
		{ .name = "json", .kind = OPT_FLAG, .dest = &d->json, .help = "print one JSON object instead of text" },
		{ .name = "book", .kind = OPT_CALL, .call = take_book, .ctx = d, .arg = "N",
		  .help = "also print the best N levels of each side per symbol" },
		{ .name = "session-date", .kind = OPT_STRING, .dest = &d->session_date, .arg = "D",
		  .help = "ITCH: the session's date, for event times (default: none)" },
		{ .name = "utc-offset", .kind = OPT_CALL, .call = take_utc_offset, .ctx = d, .arg = "MIN",
		  .help = "ITCH: the session's UTC offset in minutes", .dflt = "-300" },
		{ .name = "progress", .kind = OPT_FLAG, .dest = &d->progress,
		  .help = "progress on stderr every 1M messages (default: when a tty)" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = "fks feed decode", .help_col = 21, .opts = options };
	int n = opts_parse(&t, argc, argv);
	if (n == OPTS_HELP) {
		usage(stdout, &t);
		return 1;
	}
	if (n < 0)
		return 2; /* reported, with the hint */
	if (n > 1)
		return opts_usage_error(&t, "one FILE only ('%s' and '%s')", argv[1], argv[2]);
	d->path = n ? argv[1] : NULL;
	if (!d->venue || !d->path)
		return opts_usage_error(&t, "%s is required", !d->venue ? "--venue" : "FILE");
	return 0;
}

/* The feed source for d, learning its symbols into *symbols; NULL with
 * *rc set (and the message printed): 2 for a bad venue or date, 1 when it
 * cannot be opened. */
static struct feed_source *open_source(const struct decode_opts *d, struct feed_symtab *symbols, int *rc)
{
	const char *path = d->path, *date = d->session_date;
	enum fks_feed_type type = feed_source_type_parse(d->venue);
	*rc = 2;
	if (!type || type == FKS_FEED_SYNTHETIC) {
		fprintf(stderr, "fks feed decode: unknown venue '%s' (itch, binance, bybit, coinbase, kraken)\n", d->venue);
		return NULL;
	}
	if (date[0] && feed_source_session_midnight(date, (int32_t)d->utc_offset) < 0) {
		fprintf(stderr, "fks feed decode: --session-date %s: expected YYYY-MM-DD\n", date);
		return NULL;
	}

	struct fks_feed_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.type = type;
	cfg.source = type == FKS_FEED_ITCH && (ends_with(path, ".pcap") || ends_with(path, ".pcapng"))
			     ? FKS_SOURCE_PCAP
			     : FKS_SOURCE_FILE;
	snprintf(cfg.path, sizeof cfg.path, "%s", path);
	strcpy(cfg.speed, "asap");
	strcpy(cfg.market, "spot");
	snprintf(cfg.session_date, sizeof cfg.session_date, "%s", date);
	cfg.utc_offset_min = (int32_t)d->utc_offset;

	/* ITCH fixes its scales; learned JSON symbols get 8 and 8 decimals,
	 * enough for every price and size these venues publish. */
	if (type == FKS_FEED_ITCH)
		feed_symtab_init(symbols, true, ITCH_PX_SCALE, ITCH_QTY_SCALE);
	else
		feed_symtab_init(symbols, true, 8, 8);
	char err[512];
	struct feed_source *src = feed_source_open(&cfg, symbols, err, sizeof err);
	if (!src) {
		fprintf(stderr, "fks feed decode: %s\n", err);
		*rc = 1;
		return NULL;
	}
	return src;
}

/* What one read of the recording counted. */
struct decode_summary {
	uint64_t messages, events;
	const struct named_counter *counts, *errors;
	size_t n_counts, n_errors, n_x;
	struct named_counter xc[FEED_SOURCE_MAX_XPORT_COUNTERS];
	uint64_t n_err, n_dec_err; /* transport errors; decoder errors */
};

/* Poll src to its end, with progress on stderr if asked: 0, or 1 after a
 * read error (printed). */
static int read_all(struct feed_source *src, bool progress, struct decode_ctx *dc)
{
	uint64_t next_progress = PROGRESS_EVERY;
	for (;;) {
		int n = feed_source_poll(src, count_event, dc, 4096, 0);
		if (n == FEED_SOURCE_END)
			return 0;
		if (n < 0) {
			fprintf(stderr, "fks feed decode: %s\n", feed_source_error(src));
			return 1;
		}
		if (progress && feed_source_messages(src) >= next_progress) {
			uint64_t done, total;
			feed_source_progress(src, &done, &total);
			fprintf(stderr, "fks feed decode: %llu messages, %llu%%\n",
				(unsigned long long)feed_source_messages(src),
				(unsigned long long)(total ? done * 100 / total : 0));
			next_progress += PROGRESS_EVERY;
		}
	}
}

static void summarise(struct feed_source *src, uint64_t events, struct decode_summary *sm)
{
	sm->messages = feed_source_messages(src);
	sm->events = events;
	sm->n_counts = feed_source_counts(src, &sm->counts);
	sm->n_errors = feed_source_errors(src, &sm->errors);
	sm->n_x = feed_source_xport_counters(src, sm->xc, FEED_SOURCE_MAX_XPORT_COUNTERS);
	if (sm->n_x > FEED_SOURCE_MAX_XPORT_COUNTERS)
		sm->n_x = FEED_SOURCE_MAX_XPORT_COUNTERS;
	sm->n_err = sm->n_dec_err = 0;
	for (size_t i = 0; i < sm->n_errors; i++)
		sm->n_dec_err += sm->errors[i].n;
	for (size_t i = 0; i < sm->n_x; i++)
		/* transport errors; "skipped", "filtered" and the MoldUDP64
		 * bookkeeping are not errors, gaps are */
		if (strcmp(sm->xc[i].name, "skipped") && strcmp(sm->xc[i].name, "filtered") &&
		    strcmp(sm->xc[i].name, "ignored_messages") && strncmp(sm->xc[i].name, "mold_", 5))
			sm->n_err += sm->xc[i].n;
}

/* The summary and each symbol's book (with its best top_n levels, lv
 * holding that many) as one JSON object. */
static void print_json(FILE *o, const struct decode_opts *d, struct feed_source *src,
		       const struct feed_symtab *symbols, const struct decode_summary *sm, struct book_level *lv,
		       uint32_t top_n)
{
	char b1[FX_FORMAT_MAX + 1], b2[FX_FORMAT_MAX + 1];
	fprintf(o, "{\"venue\": \"%s\", \"messages\": %llu, \"events\": %llu, ", d->venue,
		(unsigned long long)sm->messages, (unsigned long long)sm->events);
	print_counters_json(o, "counts", sm->counts, sm->n_counts, true);
	print_counters_json(o, "errors", sm->errors, sm->n_errors, false);
	print_counters_json(o, "transport", sm->xc, sm->n_x, false);
	fprintf(o, ", \"books\": {");
	bool first = true;
	for (uint32_t id = 1; id <= symbols->n; id++) {
		struct feed_book_info bi;
		if (!feed_source_book(src, id, &bi))
			continue;
		const struct feed_symbol *sym = feed_symtab_get(symbols, id);
		fprintf(o, "%s", first ? "" : ", ");
		first = false;
		json_str(o, sym->name, sym->len);
		fprintf(o, ": {");
		struct book_level best;
		if (feed_source_book_top(src, id, FKS_SIDE_BUY, &best, 1))
			fprintf(o, "\"bid_px\": \"%s\", \"bid_qty\": \"%s\", ", fx(best.px, sym->px_scale, b1),
				fx(best.qty, sym->qty_scale, b2));
		if (feed_source_book_top(src, id, FKS_SIDE_SELL, &best, 1))
			fprintf(o, "\"ask_px\": \"%s\", \"ask_qty\": \"%s\", ", fx(best.px, sym->px_scale, b1),
				fx(best.qty, sym->qty_scale, b2));
		fprintf(o, "\"bid_levels\": %u, \"ask_levels\": %u", bi.bid_levels, bi.ask_levels);
		if (bi.has_unknown_refs)
			fprintf(o, ", \"unknown_refs\": %llu", (unsigned long long)bi.unknown_refs);
		fprintf(o, ", \"stale\": %s", bi.stale ? "true" : "false");
		for (int side = 0; top_n && side < 2; side++) {
			uint8_t sd = side == 0 ? FKS_SIDE_BUY : FKS_SIDE_SELL;
			uint32_t k = feed_source_book_top(src, id, sd, lv, top_n);
			fprintf(o, ", \"%s\": [", side == 0 ? "bids" : "asks");
			for (uint32_t i = 0; i < k; i++)
				fprintf(o, "%s[\"%s\", \"%s\"]", i ? ", " : "", fx(lv[i].px, sym->px_scale, b1),
					fx(lv[i].qty, sym->qty_scale, b2));
			fprintf(o, "]");
		}
		fprintf(o, "}");
	}
	fprintf(o, "}}\n");
}

/* The same as text. */
static void print_text(FILE *o, const struct decode_opts *d, struct feed_source *src,
		       const struct feed_symtab *symbols, const struct decode_summary *sm, struct book_level *lv,
		       uint32_t top_n)
{
	char b1[FX_FORMAT_MAX + 1], b2[FX_FORMAT_MAX + 1];
	fprintf(o, "%s: %llu messages, %llu events\n", d->path, (unsigned long long)sm->messages,
		(unsigned long long)sm->events);
	fprintf(o, "messages by type:\n");
	for (size_t i = 0; i < sm->n_counts; i++)
		if (sm->counts[i].n)
			fprintf(o, "  %-16s %llu\n", sm->counts[i].name, (unsigned long long)sm->counts[i].n);
	fprintf(o, "errors:%s\n", sm->n_err + sm->n_dec_err ? "" : " none");
	for (size_t i = 0; i < sm->n_errors; i++)
		if (sm->errors[i].n)
			fprintf(o, "  %-16s %llu\n", sm->errors[i].name, (unsigned long long)sm->errors[i].n);
	for (size_t i = 0; i < sm->n_x; i++)
		if (sm->xc[i].n)
			fprintf(o, "  transport %-20s %llu\n", sm->xc[i].name, (unsigned long long)sm->xc[i].n);
	fprintf(o, "books:\n");
	for (uint32_t id = 1; id <= symbols->n; id++) {
		struct feed_book_info bi;
		if (!feed_source_book(src, id, &bi))
			continue;
		const struct feed_symbol *sym = feed_symtab_get(symbols, id);
		struct book_level bid, ask;
		bool hb = feed_source_book_top(src, id, FKS_SIDE_BUY, &bid, 1);
		bool ha = feed_source_book_top(src, id, FKS_SIDE_SELL, &ask, 1);
		fprintf(o, "  %-10.*s bid ", (int)sym->len, sym->name);
		if (hb)
			fprintf(o, "%s x %s", fx(bid.qty, sym->qty_scale, b2), fx(bid.px, sym->px_scale, b1));
		else
			fprintf(o, "-");
		fprintf(o, "  ask ");
		if (ha)
			fprintf(o, "%s x %s", fx(ask.px, sym->px_scale, b1), fx(ask.qty, sym->qty_scale, b2));
		else
			fprintf(o, "-");
		fprintf(o, "  levels %u/%u", bi.bid_levels, bi.ask_levels);
		if (bi.has_unknown_refs && bi.unknown_refs)
			fprintf(o, "  unknown_refs %llu", (unsigned long long)bi.unknown_refs);
		if (bi.stale)
			fprintf(o, "  STALE");
		fprintf(o, "\n");
		for (int side = 0; top_n && side < 2; side++) {
			uint8_t sd = side == 0 ? FKS_SIDE_BUY : FKS_SIDE_SELL;
			uint32_t k = feed_source_book_top(src, id, sd, lv, top_n);
			for (uint32_t i = 0; i < k; i++)
				fprintf(o, "    %s %2u  %s x %s\n", side == 0 ? "bid" : "ask", i + 1,
					fx(lv[i].px, sym->px_scale, b1), fx(lv[i].qty, sym->qty_scale, b2));
		}
	}
}

int feed_cmd_decode(int argc, char **argv)
{
	struct decode_opts d;
	int rc = parse_decode_opts(argc, argv, &d);
	if (rc)
		return rc == 1 ? 0 : rc;
	static struct feed_symtab symbols;
	struct feed_source *src = open_source(&d, &symbols, &rc);
	if (!src)
		return rc;
	struct decode_ctx dc = { 0 };
	rc = read_all(src, d.progress, &dc);
	static struct decode_summary sm;
	summarise(src, dc.events, &sm);
	/* Decoder errors are facts about the data and are reported; exit 1
	 * says the file itself could not be read to its end. */
	if (sm.n_err)
		rc = 1;

	uint32_t top_n = (uint32_t)d.book_n;
	struct book_level *lv = top_n ? calloc(top_n, sizeof *lv) : NULL;
	if (top_n && !lv) {
		fprintf(stderr, "fks feed decode: out of memory\n");
		feed_source_close(src);
		return 1;
	}
	if (d.json)
		print_json(stdout, &d, src, &symbols, &sm, lv, top_n);
	else
		print_text(stdout, &d, src, &symbols, &sm, lv, top_n);
	free(lv);
	feed_source_close(src);
	return rc;
}
