/* Journal records as text, JSON lines and CSV (record_print.h). */
#include "pipeline/cli/record_print.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shm/event_fields.h"

#define EVENT_TEXT_MAX 2048              /* the fixed part of one formatted event */

/* ---- output ------------------------------------------------------------ */

static void out_drain(struct fks_sink *s)
{
	struct out *o = s->ctx;
	size_t done = 0;
	while (done < s->len && !o->broken && !o->error) {
		ssize_t n = write(o->fd, s->buf + done, s->len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno == EPIPE)
			o->broken = true;
		else if (n < 0 && errno != EINTR)
			o->error = errno;
	}
	s->len = 0; /* once broken, output is dropped: the caller stops soon */
}

static void out_init(struct out *o, int fd)
{
	o->fd = fd;
	o->broken = false;
	o->error = 0;
	o->s = (struct fks_sink){ .buf = o->buf, .cap = sizeof o->buf, .drain = out_drain, .ctx = o };
}

struct out *out_new(const char *cmd)
{
	struct out *o = malloc(sizeof *o);
	if (!o) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		return NULL;
	}
	out_init(o, STDOUT_FILENO);
	return o;
}

void out_flush(struct out *o) { out_drain(&o->s); }

int out_finish(const char *cmd, struct out *o, int status)
{
	out_flush(o);
	if (o->error) {
		fprintf(stderr, "%s: writing output: %s\n", cmd, strerror(o->error));
		return 1;
	}
	return o->broken ? 0 : status;
}

void ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

/* ---- pieces ------------------------------------------------------------ */

void print_time(struct fks_sink *s, struct fmt *f, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (!f->have_date || sec != f->date_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		if (!gmtime_r(&t, &tm)) {
			fks_sink_i64(s, ns);
			return;
		}
		f->date_len = snprintf(f->date, sizeof f->date, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
				       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		f->date_sec = sec;
		f->have_date = true;
	}
	fks_sink_mem(s, f->date, (size_t)f->date_len);
	char *p = fks_sink_reserve(s, 11);
	p[0] = '.';
	for (int i = 9; i >= 1; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p[10] = 'Z';
	s->len += 11;
}

/* A sink over memory that only grows to its capacity: drain drops. */
static void drop_drain(struct fks_sink *s) { s->len = 0; }

void iso_time(char *buf, size_t cap, int64_t ns)
{
	char tmp[128];
	struct fmt f = { 0 };
	struct fks_sink s = { .buf = tmp, .cap = sizeof tmp, .drain = drop_drain };
	print_time(&s, &f, ns);
	snprintf(buf, cap, "%.*s", (int)s.len, tmp);
}

/* The event's instrument and its scales, from the journal's symbol table. */
static const struct journal_symbol *event_symbol(const struct fmt *f, const union fks_event *ev,
						 struct fks_scales *sc)
{
	const struct journal_symbol *sym = ev->h.instrument ? journal_meta_symbol(f->meta, ev->h.instrument) : NULL;
	if (sym)
		*sc = (struct fks_scales){ sym->px_scale, sym->qty_scale };
	return sym;
}

static void print_source(struct fks_sink *s, unsigned source, enum fks_text_style st)
{
	const char *name = fks_stage_name(source);
	if (name)
		fks_print_name(s, name, st);
	else
		fks_sink_u64(s, source);
}

static void print_flag_names(struct fks_sink *s, unsigned flags)
{
	static const char *const names[] = { "replay", "stale", "snapshot", "last" };
	bool first = true;
	for (unsigned b = 0; b < 16; b++) {
		if (!(flags & (1u << b)))
			continue;
		if (!first)
			fks_sink_ch(s, ',');
		first = false;
		if (b < sizeof names / sizeof names[0]) {
			fks_sink_str(s, names[b]);
		} else {
			fks_sink_str(s, "bit");
			fks_sink_u64(s, b);
		}
	}
}

/* ---- the three formats ------------------------------------------------- */

/* 42 2024-05-01T12:00:00.123456789Z quote feed#41 BTCUSDT bid_px=27.0600 ... recv_ns=123 */
void print_record_text(struct out *o, struct fmt *f, const struct journal_record *rec)
{
	struct fks_sink *s = &o->s;
	const union fks_event *ev = &rec->ev;
	struct fks_scales sc;
	const struct journal_symbol *sym = event_symbol(f, ev, &sc);
	fks_sink_reserve(s, EVENT_TEXT_MAX);
	fks_sink_u64(s, rec->seq);
	fks_sink_ch(s, ' ');
	print_time(s, f, ev->h.event_time_ns);
	fks_sink_ch(s, ' ');
	fks_sink_str(s, fks_event_type_name(ev->h.type));
	fks_sink_ch(s, ' ');
	print_source(s, ev->h.source, FKS_STYLE_TEXT);
	fks_sink_ch(s, '#');
	fks_sink_u64(s, ev->h.seq);
	fks_sink_ch(s, ' ');
	if (sym) {
		fks_print_symbol(s, sym->symbol, FKS_SYMBOL_MAX, FKS_STYLE_TEXT);
	} else if (ev->h.instrument) {
		fks_sink_ch(s, '#');
		fks_sink_u64(s, ev->h.instrument);
	} else {
		fks_sink_ch(s, '-');
	}
	fks_event_fields_text(s, ev, sym ? &sc : NULL);
	fks_sink_str(s, " recv_ns=");
	fks_sink_i64(s, ev->h.recv_time_ns);
	if (ev->h.flags) {
		fks_sink_str(s, " flags=");
		print_flag_names(s, ev->h.flags);
	}
	if (rec->payload_len) {
		fks_sink_str(s, " payload=");
		fks_sink_u64(s, rec->payload_len);
		fks_sink_ch(s, 'B');
	}
	fks_sink_ch(s, '\n');
}

static void json_key(struct fks_sink *s, const char *key)
{
	fks_sink_str(s, ",\"");
	fks_sink_str(s, key);
	fks_sink_str(s, "\":");
}

static void print_payload_hex(struct fks_sink *s, const unsigned char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	fks_sink_ch(s, '"');
	for (size_t i = 0; i < n; i++) {
		char *p = fks_sink_reserve(s, 2);
		p[0] = hex[b[i] >> 4];
		p[1] = hex[b[i] & 15];
		s->len += 2;
	}
	fks_sink_ch(s, '"');
}

void print_record_json(struct out *o, struct fmt *f, const struct journal_record *rec)
{
	struct fks_sink *s = &o->s;
	const union fks_event *ev = &rec->ev;
	struct fks_scales sc;
	const struct journal_symbol *sym = event_symbol(f, ev, &sc);
	fks_sink_reserve(s, EVENT_TEXT_MAX);
	fks_sink_str(s, "{\"seq\":");
	fks_sink_u64(s, rec->seq);
	json_key(s, "type");
	fks_print_name(s, fks_event_type_name(ev->h.type), FKS_STYLE_JSON);
	json_key(s, "source");
	print_source(s, ev->h.source, FKS_STYLE_JSON);
	json_key(s, "src_seq");
	fks_sink_u64(s, ev->h.seq);
	json_key(s, "flags");
	fks_sink_u64(s, ev->h.flags);
	json_key(s, "instrument");
	fks_sink_u64(s, ev->h.instrument);
	json_key(s, "symbol");
	if (sym)
		fks_print_symbol(s, sym->symbol, FKS_SYMBOL_MAX, FKS_STYLE_JSON);
	else
		fks_sink_str(s, "null");
	json_key(s, "event_time");
	fks_sink_ch(s, '"');
	print_time(s, f, ev->h.event_time_ns);
	fks_sink_ch(s, '"');
	json_key(s, "event_time_ns");
	fks_sink_i64(s, ev->h.event_time_ns);
	json_key(s, "recv_time_ns");
	fks_sink_i64(s, ev->h.recv_time_ns);
	fks_event_fields_json(s, ev, sym ? &sc : NULL);
	if (rec->payload_len) {
		json_key(s, "payload_len");
		fks_sink_u64(s, rec->payload_len);
		json_key(s, "payload_hex");
		print_payload_hex(s, rec->payload, rec->payload_len);
	}
	fks_sink_str(s, "}\n");
}

/* CSV: the common columns, then the union of every type's fields (empty
 * where a type has no such field), then the payload length. */
#define CSV_MAX_FIELD_COLS 64
static const char *const csv_common[] = { "seq", "type", "source", "src_seq", "flags", "instrument",
					  "symbol", "event_time", "event_time_ns", "recv_time_ns" };
static const char *csv_cols[CSV_MAX_FIELD_COLS];
static int csv_ncols;
static int8_t csv_field_at[FKS_EV_TYPE_COUNT][CSV_MAX_FIELD_COLS]; /* field index or -1 */

static void csv_init(void)
{
	if (csv_ncols)
		return;
	memset(csv_field_at, -1, sizeof csv_field_at);
	for (unsigned t = 0; t < FKS_EV_TYPE_COUNT; t++) {
		struct fks_field_list l = fks_event_fields(t);
		for (size_t i = 0; i < l.n; i++) {
			int c = 0;
			while (c < csv_ncols && strcmp(csv_cols[c], l.f[i].name))
				c++;
			if (c == csv_ncols) {
				if (csv_ncols == CSV_MAX_FIELD_COLS)
					abort(); /* a build-time table outgrew its array */
				csv_cols[csv_ncols++] = l.f[i].name;
			}
			csv_field_at[t][c] = (int8_t)i;
		}
	}
}

void print_csv_header(struct out *o)
{
	csv_init();
	for (size_t i = 0; i < sizeof csv_common / sizeof csv_common[0]; i++) {
		fks_sink_str(&o->s, csv_common[i]);
		fks_sink_ch(&o->s, ',');
	}
	for (int c = 0; c < csv_ncols; c++) {
		fks_sink_str(&o->s, csv_cols[c]);
		fks_sink_ch(&o->s, ',');
	}
	fks_sink_str(&o->s, "payload_len\n");
}

void print_record_csv(struct out *o, struct fmt *f, const struct journal_record *rec)
{
	struct fks_sink *s = &o->s;
	const union fks_event *ev = &rec->ev;
	struct fks_scales sc;
	const struct journal_symbol *sym = event_symbol(f, ev, &sc);
	csv_init();
	fks_sink_reserve(s, EVENT_TEXT_MAX);
	fks_sink_u64(s, rec->seq);
	fks_sink_ch(s, ',');
	fks_sink_str(s, fks_event_type_name(ev->h.type));
	fks_sink_ch(s, ',');
	print_source(s, ev->h.source, FKS_STYLE_CSV);
	fks_sink_ch(s, ',');
	fks_sink_u64(s, ev->h.seq);
	fks_sink_ch(s, ',');
	fks_sink_u64(s, ev->h.flags);
	fks_sink_ch(s, ',');
	fks_sink_u64(s, ev->h.instrument);
	fks_sink_ch(s, ',');
	if (sym)
		fks_print_symbol(s, sym->symbol, FKS_SYMBOL_MAX, FKS_STYLE_CSV);
	fks_sink_ch(s, ',');
	print_time(s, f, ev->h.event_time_ns);
	fks_sink_ch(s, ',');
	fks_sink_i64(s, ev->h.event_time_ns);
	fks_sink_ch(s, ',');
	fks_sink_i64(s, ev->h.recv_time_ns);
	fks_sink_ch(s, ',');
	struct fks_field_list l = fks_event_fields(ev->h.type);
	for (int c = 0; c < csv_ncols; c++) {
		int i = csv_field_at[ev->h.type][c];
		if (i >= 0)
			fks_field_print(s, ev, &l.f[i], sym ? &sc : NULL, FKS_STYLE_CSV);
		fks_sink_ch(s, ',');
	}
	fks_sink_u64(s, rec->payload_len);
	fks_sink_ch(s, '\n');
}
