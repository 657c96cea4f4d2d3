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

#include "pipeline/runtime/feed_source.h"
#include "shm/fixed.h"
#include "shm/text_sink.h"
#include "feeds/decoders/itch.h"

#define PROGRESS_EVERY 1000000

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fks feed decode --venue VENUE FILE [--json] [--book N] [--session-date YYYY-MM-DD]\n"
		"                       [--utc-offset MIN] [--progress]\n"
		"\n"
		"Decode a recording and print messages by type, errors by reason and each\n"
		"symbol's final book (best bid/ask, level counts).\n"
		"\n"
		"  --venue VENUE      itch (raw length-prefixed ITCH 5.0; a .pcap file is read as\n"
		"                     MoldUDP64 captures), binance, bybit, coinbase, kraken (JSON lines)\n"
		"  --json             print one JSON object instead of text\n"
		"  --book N           also print the best N levels of each side per symbol\n"
		"  --session-date D   ITCH: the session's date, for event times (default: none)\n"
		"  --utc-offset MIN   ITCH: the session's UTC offset in minutes (default -300)\n"
		"  --progress         progress on stderr every 1M messages (default: when a tty)\n"
		"\n"
		"Exit status: 0 the file was read to its end (decode errors, e.g. unknown_ref,\n"
		"are counted and printed); 1 it could not be opened or was not read to its end\n"
		"(a transport error: truncated, unframeable, read_error; the summary is still\n"
		"printed); 2 usage.\n");
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

int feed_cmd_decode(int argc, char **argv)
{
	const char *venue = NULL, *path = NULL, *date = "";
	bool json = false, progress = isatty(2);
	long book_n = 0, utc_offset = -300;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--progress")) {
			progress = true;
		} else if (!strcmp(a, "--venue") || !strcmp(a, "--book") || !strcmp(a, "--session-date") ||
			   !strcmp(a, "--utc-offset")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "fks feed decode: %s needs a value\n", a);
				return 2;
			}
			const char *v = argv[++i];
			char *end;
			if (!strcmp(a, "--venue")) {
				venue = v;
			} else if (!strcmp(a, "--session-date")) {
				date = v;
			} else if (!strcmp(a, "--book")) {
				book_n = strtol(v, &end, 10);
				if (*end || !*v || book_n < 0 || book_n > 10000) {
					fprintf(stderr, "fks feed decode: --book %s: expected 0..10000\n", v);
					return 2;
				}
			} else {
				utc_offset = strtol(v, &end, 10);
				if (*end || !*v || utc_offset < -24 * 60 || utc_offset > 24 * 60) {
					fprintf(stderr, "fks feed decode: --utc-offset %s: expected minutes, -1440..1440\n", v);
					return 2;
				}
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "fks feed decode: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (!path) {
			path = a;
		} else {
			fprintf(stderr, "fks feed decode: one FILE only ('%s' and '%s')\n", path, a);
			return 2;
		}
	}
	if (!venue || !path) {
		fprintf(stderr, "fks feed decode: %s is required\n", !venue ? "--venue" : "FILE");
		usage(stderr);
		return 2;
	}
	enum fks_feed_type type = feed_source_type_parse(venue);
	if (!type || type == FKS_FEED_SYNTHETIC) {
		fprintf(stderr, "fks feed decode: unknown venue '%s' (itch, binance, bybit, coinbase, kraken)\n", venue);
		return 2;
	}
	if (date[0] && feed_source_session_midnight(date, (int32_t)utc_offset) < 0) {
		fprintf(stderr, "fks feed decode: --session-date %s: expected YYYY-MM-DD\n", date);
		return 2;
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
	cfg.utc_offset_min = (int32_t)utc_offset;

	static struct feed_symtab symbols;
	/* ITCH fixes its scales; learned JSON symbols get 8 and 8 decimals,
	 * enough for every price and size these venues publish. */
	if (type == FKS_FEED_ITCH)
		feed_symtab_init(&symbols, true, ITCH_PX_SCALE, ITCH_QTY_SCALE);
	else
		feed_symtab_init(&symbols, true, 8, 8);
	char err[512];
	struct feed_source *src = feed_source_open(&cfg, &symbols, err, sizeof err);
	if (!src) {
		fprintf(stderr, "fks feed decode: %s\n", err);
		return 1;
	}

	struct decode_ctx dc = { 0 };
	uint64_t next_progress = PROGRESS_EVERY;
	int rc = 0;
	for (;;) {
		int n = feed_source_poll(src, count_event, &dc, 4096, 0);
		if (n == FEED_SOURCE_END)
			break;
		if (n < 0) {
			fprintf(stderr, "fks feed decode: %s\n", feed_source_error(src));
			rc = 1;
			break;
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

	const struct named_counter *counts, *errors;
	size_t n_counts = feed_source_counts(src, &counts);
	size_t n_errors = feed_source_errors(src, &errors);
	struct named_counter xc[FEED_SOURCE_MAX_XPORT_COUNTERS];
	size_t n_x = feed_source_xport_counters(src, xc, FEED_SOURCE_MAX_XPORT_COUNTERS);
	if (n_x > FEED_SOURCE_MAX_XPORT_COUNTERS)
		n_x = FEED_SOURCE_MAX_XPORT_COUNTERS;
	/* Decoder errors are facts about the data and are reported; exit 1
	 * says the file itself could not be read to its end. */
	uint64_t n_err = 0, n_dec_err = 0;
	for (size_t i = 0; i < n_errors; i++)
		n_dec_err += errors[i].n;
	for (size_t i = 0; i < n_x; i++)
		/* transport errors; "skipped", "filtered" and the MoldUDP64
		 * bookkeeping are not errors, gaps are */
		if (strcmp(xc[i].name, "skipped") && strcmp(xc[i].name, "filtered") &&
		    strcmp(xc[i].name, "ignored_messages") && strncmp(xc[i].name, "mold_", 5))
			n_err += xc[i].n;
	if (n_err)
		rc = 1;

	FILE *o = stdout;
	uint32_t top_n = (uint32_t)book_n;
	struct book_level *lv = top_n ? calloc(top_n, sizeof *lv) : NULL;
	if (top_n && !lv) {
		fprintf(stderr, "fks feed decode: out of memory\n");
		feed_source_close(src);
		return 1;
	}
	char b1[FX_FORMAT_MAX + 1], b2[FX_FORMAT_MAX + 1];
	if (json) {
		fprintf(o, "{\"venue\": \"%s\", \"messages\": %llu, \"events\": %llu, ", venue,
			(unsigned long long)feed_source_messages(src), (unsigned long long)dc.events);
		print_counters_json(o, "counts", counts, n_counts, true);
		print_counters_json(o, "errors", errors, n_errors, false);
		print_counters_json(o, "transport", xc, n_x, false);
		fprintf(o, ", \"books\": {");
		bool first = true;
		for (uint32_t id = 1; id <= symbols.n; id++) {
			struct feed_book_info bi;
			if (!feed_source_book(src, id, &bi))
				continue;
			const struct feed_symbol *sym = feed_symtab_get(&symbols, id);
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
	} else {
		fprintf(o, "%s: %llu messages, %llu events\n", path, (unsigned long long)feed_source_messages(src),
			(unsigned long long)dc.events);
		fprintf(o, "messages by type:\n");
		for (size_t i = 0; i < n_counts; i++)
			if (counts[i].n)
				fprintf(o, "  %-16s %llu\n", counts[i].name, (unsigned long long)counts[i].n);
		fprintf(o, "errors:%s\n", n_err + n_dec_err ? "" : " none");
		for (size_t i = 0; i < n_errors; i++)
			if (errors[i].n)
				fprintf(o, "  %-16s %llu\n", errors[i].name, (unsigned long long)errors[i].n);
		for (size_t i = 0; i < n_x; i++)
			if (xc[i].n)
				fprintf(o, "  transport %-20s %llu\n", xc[i].name, (unsigned long long)xc[i].n);
		fprintf(o, "books:\n");
		for (uint32_t id = 1; id <= symbols.n; id++) {
			struct feed_book_info bi;
			if (!feed_source_book(src, id, &bi))
				continue;
			const struct feed_symbol *sym = feed_symtab_get(&symbols, id);
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
	free(lv);
	feed_source_close(src);
	return rc;
}
