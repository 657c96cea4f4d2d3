/*
 * The inputs of `fks replay`: a journal directory (its market events, in
 * journal order), a recording in replay's own JSON-lines format (dec_jsonl,
 * one event per line), a venue recording read through
 * pipeline/runtime/feed_source exactly as `fks run` reads it (IN_VENUE),
 * or a run on NATS JetStream, read back as the journal's records (IN_BUS).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/bus/bus_conn.h"
#include "pipeline/bus/bus_reader.h"
#include "pipeline/replay/replay_int.h"
#include "shm/event_build.h"
#include "shm/fixed.h"

#include <jsmn.h>

static const char *const rec_error_name[REC_ERROR_COUNT] = {
	"bad_json", "missing_field", "bad_number", "bad_side", "unknown_symbol", "line_too_long",
};

static int dec_jsonl(struct input *in, const char *msg, size_t len);

/* jsonl is replay's own trade/quote format; the venues' recordings go
 * through pipeline/feed_source (decode NULL here), exactly as `fks run`
 * reads them. */
static const struct replay_decoder decoders[] = {
	{ "jsonl", dec_jsonl },
	{ "itch", NULL }, { "binance", NULL }, { "bybit", NULL }, { "coinbase", NULL }, { "kraken", NULL },
	{ NULL, NULL },
};

static void venue_push(void *ctx, const union fks_event *ev)
{
	struct input *in = ctx;
	if (in->vq_n == in->vq_cap) {
		size_t cap = in->vq_cap ? 2 * in->vq_cap : 1024;
		union fks_event *q = realloc(in->vq, cap * sizeof *q);
		if (!q) {
			in->vq_oom = true;
			return;
		}
		in->vq = q;
		in->vq_cap = cap;
	}
	union fks_event *e = &in->vq[in->vq_n++];
	*e = *ev;
	e->h.source = FKS_STAGE_FEED;
	e->h.seq = ++in->seq; /* as the feed stage numbers them */
}

/* Open a venue recording with the config's instruments as a fixed symbol
 * table, so ids are the config's, as in `fks run`. */
static int venue_open(struct input *in, const char *venue, char *err, size_t errlen)
{
	const struct fks_config *cfg = in->cfg;
	struct fks_feed_cfg fc = cfg->feed;
	fc.type = feed_source_type_parse(venue);
	fc.source = FKS_SOURCE_FILE;
	snprintf(fc.path, sizeof fc.path, "%s", in->path);
	snprintf(fc.speed, sizeof fc.speed, "asap"); /* replay paces by event time itself */
	in->symbols = malloc(sizeof *in->symbols);
	if (!in->symbols) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	feed_symtab_init(in->symbols, false, 0, 0);
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		if (feed_symtab_add(in->symbols, ic->symbol, strlen(ic->symbol), ic->px_scale, ic->qty_scale) != ic->id) {
			snprintf(err, errlen, "instrument %s: cannot enter it in the symbol table", ic->symbol);
			return -1;
		}
	}
	in->src = feed_source_open(&fc, in->symbols, err, errlen);
	return in->src ? 0 : -1;
}

static void in_push(struct input *in, const union fks_event *ev)
{
	if (in->qn < QUEUE_MAX)
		in->q[in->qn++] = *ev;
}

static bool tok_is(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);
	return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n && !memcmp(js + t->start, s, n);
}

/* A value token as number text: a string or a bare primitive. */
static int tok_fixed(const char *js, const jsmntok_t *t, unsigned scale, int64_t *out)
{
	if (t->type != JSMN_STRING && t->type != JSMN_PRIMITIVE)
		return -1;
	return fx_parse(js + t->start, (size_t)(t->end - t->start), scale, out) == FX_OK ? 0 : -1;
}

/* The fields of one jsonl line, as value tokens; NULL when absent. */
struct jsonl_fields {
	const jsmntok_t *ts, *px, *qty, *side, *sym, *bid, *ask, *bq, *aq;
};

/* Sort the object's values by key; unknown keys are ignored. */
static int jsonl_fields(struct input *in, const char *msg, const jsmntok_t *t, int n, struct jsonl_fields *f)
{
	memset(f, 0, sizeof *f);
	for (int i = 1; i + 1 < n; i += 2) {
		const jsmntok_t *k = &t[i], *v = &t[i + 1];
		if (k->type != JSMN_STRING || v->type == JSMN_OBJECT || v->type == JSMN_ARRAY) {
			in->err[REC_BAD_JSON]++;
			return -1;
		}
		if (tok_is(msg, k, "ts")) f->ts = v;
		else if (tok_is(msg, k, "price")) f->px = v;
		else if (tok_is(msg, k, "qty")) f->qty = v;
		else if (tok_is(msg, k, "side")) f->side = v;
		else if (tok_is(msg, k, "symbol")) f->sym = v;
		else if (tok_is(msg, k, "bid")) f->bid = v;
		else if (tok_is(msg, k, "ask")) f->ask = v;
		else if (tok_is(msg, k, "bid_qty")) f->bq = v;
		else if (tok_is(msg, k, "ask_qty")) f->aq = v;
	}
	return 0;
}

/* The config index of the line's instrument: its symbol, else the first. */
static int jsonl_instrument(struct input *in, const char *msg, const jsmntok_t *sym)
{
	if (!sym)
		return 0;
	char name[FKS_SYMBOL_MAX + 1];
	size_t sl = (size_t)(sym->end - sym->start);
	if (sym->type != JSMN_STRING || sl >= sizeof name) {
		in->err[REC_UNKNOWN_SYMBOL]++;
		return -1;
	}
	memcpy(name, msg + sym->start, sl);
	name[sl] = 0;
	int idx = config_find_instrument(in->cfg, name);
	if (idx < 0)
		in->err[REC_UNKNOWN_SYMBOL]++;
	return idx;
}

/* The header of one recorded event.  It is numbered here, after a good
 * parse, and numbered again by in_push, as it always was: both draw on
 * in->seq, so the numbers the journal shows stay what they were. */
static void jsonl_hdr(struct input *in, struct fks_event_hdr *h, const struct fks_instrument_cfg *ic,
		      int64_t t_ns)
{
	fks_hdr_origin(h, FKS_EV_NONE, FKS_STAGE_FEED, ++in->seq, ic->id, 0, t_ns, 0);
}

static int jsonl_quote(struct input *in, const char *msg, const struct jsonl_fields *f,
		       const struct fks_instrument_cfg *ic, int64_t t_ns)
{
	int64_t bid, ask, bq, aq;
	if (tok_fixed(msg, f->bid, ic->px_scale, &bid) ||
	    tok_fixed(msg, f->ask, ic->px_scale, &ask) ||
	    tok_fixed(msg, f->bq, ic->qty_scale, &bq) ||
	    tok_fixed(msg, f->aq, ic->qty_scale, &aq)) {
		in->err[REC_BAD_NUMBER]++;
		return -1;
	}
	union fks_event ev;
	struct fks_event_hdr h;
	jsonl_hdr(in, &h, ic, t_ns);
	fks_build_quote(&ev.quote, &h, bid, bq, ask, aq);
	in_push(in, &ev);
	return 0;
}

static int jsonl_trade(struct input *in, const char *msg, const struct jsonl_fields *f,
		       const struct fks_instrument_cfg *ic, int64_t t_ns)
{
	int64_t px, qty;
	uint8_t aggressor;
	if (tok_fixed(msg, f->px, ic->px_scale, &px) || tok_fixed(msg, f->qty, ic->qty_scale, &qty) ||
	    px <= 0 || qty <= 0) {
		in->err[REC_BAD_NUMBER]++;
		return -1;
	}
	if (tok_is(msg, f->side, "buy") || tok_is(msg, f->side, "b"))
		aggressor = FKS_SIDE_BUY;
	else if (tok_is(msg, f->side, "sell") || tok_is(msg, f->side, "s"))
		aggressor = FKS_SIDE_SELL;
	else {
		in->err[REC_BAD_SIDE]++;
		return -1;
	}
	union fks_event ev;
	struct fks_event_hdr h;
	jsonl_hdr(in, &h, ic, t_ns);
	fks_build_trade(&ev.trade, &h, px, qty, in->lines, aggressor);
	in_push(in, &ev);
	if (in->touch_from_trades) {
		/* The last trade as the touch, with unlimited depth: every order
		 * fills in full at the last price (the "simple fill rule"). */
		union fks_event q;
		struct fks_event_hdr qh;
		fks_hdr_from_cause_with_flags(&qh, FKS_EV_QUOTE, FKS_STAGE_FEED, ++in->seq, &ev.h);
		fks_build_quote(&q.quote, &qh, px, INT64_MAX / 4, px, INT64_MAX / 4);
		in_push(in, &q);
	}
	return 0;
}

/*
 * One JSON object per line (docs/replay.md):
 *   {"ts": NS, "price": P, "qty": Q, "side": "buy"|"sell"|"b"|"s"[, "symbol": S]}   a trade
 *   {"ts": NS, "bid": P, "bid_qty": Q, "ask": P, "ask_qty": Q[, "symbol": S]}       a quote
 * ts is integer ns since the epoch; numbers may be quoted.  Without symbol:
 * the config's first instrument.
 */
static int dec_jsonl(struct input *in, const char *msg, size_t len)
{
	jsmn_parser p;
	jsmntok_t t[32];
	struct jsonl_fields f;

	jsmn_init(&p);
	int n = jsmn_parse(&p, msg, len, t, 32);
	if (n < 1 || t[0].type != JSMN_OBJECT) {
		in->err[REC_BAD_JSON]++;
		return -1;
	}
	if (jsonl_fields(in, msg, t, n, &f))
		return -1;
	bool is_quote = f.bid || f.ask;
	if (!f.ts || (is_quote ? !(f.bid && f.ask && f.bq && f.aq) : !(f.px && f.qty && f.side))) {
		in->err[REC_MISSING_FIELD]++;
		return -1;
	}
	int idx = jsonl_instrument(in, msg, f.sym);
	if (idx < 0)
		return -1;
	const struct fks_instrument_cfg *ic = &in->cfg->instrument[idx];
	int64_t t_ns;
	if (tok_fixed(msg, f.ts, 0, &t_ns) || t_ns < 0) {
		in->err[REC_BAD_NUMBER]++;
		return -1;
	}
	return is_quote ? jsonl_quote(in, msg, &f, ic, t_ns) : jsonl_trade(in, msg, &f, ic, t_ns);
}

/* The next-event readers below return 1 with *ev, 0 at the end, -1 on an
 * error that ends the input, or NEXT_AGAIN: nothing yet, call again. */
#define NEXT_AGAIN 2

/* Transport counters that say the recording was not read to its end
 * (truncated, unframeable, read_error, gaps), by the same rule as
 * `fks feed decode`: skipping, filtering and MoldUDP64 bookkeeping are not
 * errors.  Returns how many there were, named in err. */
static uint64_t venue_transport_errors(const struct input *in, char *err, size_t errlen)
{
	struct named_counter xc[FEED_SOURCE_MAX_XPORT_COUNTERS];
	size_t n = feed_source_xport_counters(in->src, xc, FEED_SOURCE_MAX_XPORT_COUNTERS);
	if (n > FEED_SOURCE_MAX_XPORT_COUNTERS)
		n = FEED_SOURCE_MAX_XPORT_COUNTERS;
	uint64_t total = 0;
	size_t used = (size_t)snprintf(err, errlen, "%s: not read to its end:", in->path);
	for (size_t i = 0; i < n; i++) {
		if (!xc[i].n || !strcmp(xc[i].name, "skipped") || !strcmp(xc[i].name, "filtered") ||
		    !strcmp(xc[i].name, "ignored_messages") || !strncmp(xc[i].name, "mold_", 5))
			continue;
		total += xc[i].n;
		if (used < errlen)
			used += (size_t)snprintf(err + used, errlen - used, " %" PRIu64 " %s", xc[i].n, xc[i].name);
	}
	return total;
}

static int next_venue(struct input *in, union fks_event *ev, char *err, size_t errlen)
{
	if (in->vq_i < in->vq_n) {
		*ev = in->vq[in->vq_i++];
		return 1;
	}
	in->vq_i = in->vq_n = 0;
	int rc = feed_source_poll(in->src, venue_push, in, 64, 0);
	if (in->vq_oom) {
		snprintf(err, errlen, "%s: out of memory", in->path);
		return -1;
	}
	if (rc == FEED_SOURCE_END && in->vq_n == 0)
		return venue_transport_errors(in, err, errlen) ? -1 : 0;
	if (rc < 0 && rc != FEED_SOURCE_END) {
		snprintf(err, errlen, "%s: %s", in->path, feed_source_error(in->src));
		return -1;
	}
	return NEXT_AGAIN;
}

static int market_only(const struct journal_record *rec, union fks_event *ev);

/* Market events only; corrupt records are counted and skipped. */
static int next_journal(struct input *in, union fks_event *ev, char *err, size_t errlen)
{
	struct journal_record rec;
	int rc = journal_read(in->jr, &rec);
	if (rc == 0)
		return 0;
	if (rc == JOURNAL_E_CORRUPT) {
		in->corrupt++;
		return NEXT_AGAIN;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", in->path, journal_reader_error(in->jr));
		return -1;
	}
	return market_only(&rec, ev);
}

/* The bus gives the journal's records: the same market events, and the
 * same counting of what does not decode.  The end is the message that
 * was the stream's last when it was delivered. */
#define BUS_READ_WAIT_MS 10000
static int next_bus(struct input *in, union fks_event *ev, char *err, size_t errlen)
{
	struct journal_record rec;
	if (in->bus_caught_up)
		return 0;
	int rc = bus_reader_next(in->br, &rec, BUS_READ_WAIT_MS, &in->bus_caught_up);
	if (rc == 0 && !in->bus_caught_up) {
		snprintf(err, errlen, "%s: no message for %d s before the end of the run", in->path,
			 BUS_READ_WAIT_MS / 1000);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (rc == JOURNAL_E_CORRUPT) {
		in->corrupt++;
		return NEXT_AGAIN;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", in->path, bus_reader_error(in->br));
		return -1;
	}
	return market_only(&rec, ev);
}

static int market_only(const struct journal_record *rec, union fks_event *ev)
{
	unsigned ty = rec->ev.h.type;
	if (ty == FKS_EV_QUOTE || ty == FKS_EV_TRADE || ty == FKS_EV_BOOK_DELTA) {
		*ev = rec->ev;
		return 1;
	}
	return NEXT_AGAIN;
}

/* One line of a recording through its decoder, into in->q. */
static int next_line(struct input *in)
{
	ssize_t n = getline(&in->line, &in->line_cap, in->f);
	if (n < 0)
		return 0;
	in->lines++;
	while (n > 0 && (in->line[n - 1] == '\n' || in->line[n - 1] == '\r'))
		n--;
	if (n == 0)
		return NEXT_AGAIN;
	if (n > 4096) {
		in->err[REC_LINE_TOO_LONG]++;
		return NEXT_AGAIN;
	}
	in->dec->decode(in, in->line, (size_t)n);
	return NEXT_AGAIN;
}

int input_next(struct input *in, union fks_event *ev, char *err, size_t errlen)
{
	for (;;) {
		if (in->qi < in->qn) {
			*ev = in->q[in->qi++];
			return 1;
		}
		in->qi = in->qn = 0;
		int rc;
		if (in->kind == IN_VENUE)
			rc = next_venue(in, ev, err, errlen);
		else if (in->kind == IN_JOURNAL)
			rc = next_journal(in, ev, err, errlen);
		else if (in->kind == IN_BUS)
			rc = next_bus(in, ev, err, errlen);
		else
			rc = next_line(in);
		if (rc != NEXT_AGAIN)
			return rc;
	}
}

void input_close(struct input *in)
{
	if (in->src)
		feed_source_close(in->src);
	free(in->symbols);
	free(in->vq);
	if (in->jr)
		journal_reader_close(in->jr);
	bus_reader_close(in->br);
	if (in->f)
		fclose(in->f);
	free(in->line);
	memset(in, 0, sizeof *in);
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A run on the bus: its metadata stands in for the journal's. */
static int bus_open(struct input *in, const char *path, const char *venue, char *err, size_t errlen)
{
	if (venue) {
		snprintf(err, errlen, "%s: --venue is for recordings, this is a run on the bus", path);
		return -1;
	}
	struct fks_bus_cfg *b = malloc(sizeof *b);
	char run[BUS_RUN_MAX];
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = bus_parse_remote(path, b, run, err, errlen);
	if (!rc)
		rc = bus_reader_open(b, run, &in->br, err, errlen);
	free(b);
	if (rc)
		return -1;
	in->kind = IN_BUS;
	in->meta = bus_reader_meta(in->br);
	in->title = bus_reader_journal_name(in->br); /* the title the journal's replay has */
	return 0;
}

int input_open(struct input *in, const char *path, const char *venue, const char *config_path,
	       bool touch_from_trades, struct fks_config *cfg, char *err, size_t errlen)
{
	memset(in, 0, sizeof *in);
	in->path = path;
	in->touch_from_trades = touch_from_trades;
	in->cfg = cfg;
	struct stat st;
	if (bus_is_remote(path)) {
		if (bus_open(in, path, venue, err, errlen))
			return -1;
	} else if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	} else if (is_dir(path)) {
		if (venue) {
			snprintf(err, errlen, "%s: --venue is for recordings, this is a directory (a journal?)", path);
			return -1;
		}
		in->kind = IN_JOURNAL;
		if (journal_open_reader(path, &in->jr, err, errlen) != JOURNAL_OK)
			return -1;
		in->meta = journal_reader_meta(in->jr);
	} else {
		const char *v = venue ? venue : "jsonl";
		for (const struct replay_decoder *d = decoders; d->name; d++)
			if (!strcmp(d->name, v))
				in->dec = d;
		if (!in->dec) {
			snprintf(err, errlen, "--venue %s: unknown format (known: jsonl, itch, binance, bybit, coinbase, kraken)", v);
			return -1;
		}
		if (in->dec->decode) {
			in->kind = IN_RECORDING;
			in->f = fopen(path, "r");
			if (!in->f) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				return -1;
			}
		} else {
			in->kind = IN_VENUE; /* opened once the config is known */
		}
	}
	int rc;
	if (config_path)
		rc = config_load_file(config_path, cfg, err, errlen);
	else if (in->meta && in->meta->config_len > 0)
		rc = config_load_string(in->meta->config, in->meta->config_len, path, cfg, err, errlen);
	else
		rc = config_load_default(cfg, err, errlen);
	if (rc || (in->kind == IN_VENUE && venue_open(in, venue, err, errlen))) {
		input_close(in);
		return -1;
	}
	return 0;
}

void input_print_errors(const struct input *in, FILE *f)
{
	for (int i = 0; i < REC_ERROR_COUNT; i++)
		if (in->err[i])
			fprintf(f, "fks replay: %s: %" PRIu64 " lines skipped: %s\n", in->path, in->err[i], rec_error_name[i]);
	if (in->corrupt)
		fprintf(f, "fks replay: %s: %" PRIu64 " corrupt records skipped\n", in->path, in->corrupt);
}

