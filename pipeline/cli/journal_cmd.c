/*
 * `fks tail` and `fks journal stats|verify|export`: the journal seen by an
 * operator.  All of them open the journal read-only, so they can run beside
 * the writer, and read it through journal_read, which never holds a
 * snapshot while it waits.
 *
 * Events are printed from one table of fields per event type (which member,
 * and whether it is a price, a quantity, an enum, ...).  The text, JSON and
 * CSV formatters all walk that table, so a field is described once and the
 * three formats cannot disagree.  Prices and quantities are printed at their
 * instrument's scales from the journal's own symbol table, so the numbers
 * mean what they meant to the run that wrote them.
 *
 * Output goes through a buffer over write(2): on EPIPE (`fks tail | head`)
 * a command stops quietly and exits 0, because the reader going away is not
 * an error of ours.  SIGPIPE is ignored so that EPIPE is what we see.
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
#include "pipeline/journal/journal.h"

#define POLL_NS 10000000l                /* -f: poll every 10 ms */
#define OPEN_POLL_NS 50000000l           /* -f: wait for a journal to appear */
#define TAIL_DEFAULT_LAST 10
#define PROGRESS_EVENTS 1000000u
#define PROGRESS_NS 2000000000ll
#define EVENT_TEXT_MAX 2048              /* the fixed part of one formatted event */

/* ---- output ------------------------------------------------------------ */

struct out {
	int fd;
	bool broken;                     /* EPIPE: whoever read us is gone */
	int error;                       /* another write error (errno) */
	size_t len;
	char buf[1 << 16];
};

static void out_flush(struct out *o)
{
	size_t done = 0;
	while (done < o->len && !o->broken && !o->error) {
		ssize_t n = write(o->fd, o->buf + done, o->len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno == EPIPE)
			o->broken = true;
		else if (n < 0 && errno != EINTR)
			o->error = errno;
	}
	o->len = 0; /* once broken, output is dropped: the caller stops soon */
}

/* Room for n more bytes at the end of the buffer (n <= its size). */
static char *out_reserve(struct out *o, size_t n)
{
	if (o->len + n > sizeof o->buf)
		out_flush(o);
	return o->buf + o->len;
}

static void put_mem(struct out *o, const char *s, size_t n)
{
	while (n) {
		size_t k = n < sizeof o->buf / 2 ? n : sizeof o->buf / 2;
		memcpy(out_reserve(o, k), s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void put_str(struct out *o, const char *s) { put_mem(o, s, strlen(s)); }

static void put_ch(struct out *o, char c)
{
	*out_reserve(o, 1) = c;
	o->len++;
}

static void put_u64(struct out *o, uint64_t x)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	char *p = out_reserve(o, sizeof tmp);
	while (n)
		*p++ = tmp[--n];
	o->len = (size_t)(p - o->buf);
}

static void put_i64(struct out *o, int64_t x)
{
	if (x < 0) {
		put_ch(o, '-');
		put_u64(o, 0 - (uint64_t)x);
	} else {
		put_u64(o, (uint64_t)x);
	}
}

static void put_fx(struct out *o, int64_t v, unsigned scale)
{
	char *p = out_reserve(o, FX_FORMAT_MAX + 1);
	int n = fx_format(v, scale, p, FX_FORMAT_MAX + 1);
	if (n < 0)
		put_i64(o, v); /* scales are checked when the journal opens */
	else
		o->len += (size_t)n;
}

/* ---- event formatting -------------------------------------------------- */

enum field_kind {
	FK_PX,           /* int64 at the instrument's px_scale */
	FK_QTY,          /* int64 at its qty_scale */
	FK_RISK_AMOUNT,  /* risk reject limit/value: units depend on the reason */
	FK_U64, FK_U32, FK_U16, FK_U8,
	FK_SIDE, FK_BOOK_ACTION, FK_ORD_TYPE, FK_TIF, FK_RISK_REASON, FK_CTL_OP, FK_STAGE, FK_STAGE8, FK_EVTYPE8,
	FK_CONF,         /* uint32, FKS_CONF_ONE is 1.0 */
	FK_SYMBOL,       /* char[FKS_SYMBOL_MAX], NUL-padded */
};

struct field {
	const char *name;
	uint8_t kind;
	uint8_t off;
};

#define F(T, m, kind) { #m, kind, offsetof(struct T, m) }

static const struct field quote_fields[] = {
	F(fks_ev_quote, bid_px, FK_PX), F(fks_ev_quote, bid_qty, FK_QTY),
	F(fks_ev_quote, ask_px, FK_PX), F(fks_ev_quote, ask_qty, FK_QTY),
};
static const struct field trade_fields[] = {
	F(fks_ev_trade, px, FK_PX), F(fks_ev_trade, qty, FK_QTY),
	F(fks_ev_trade, trade_id, FK_U64), F(fks_ev_trade, aggressor, FK_SIDE),
};
static const struct field book_fields[] = {
	F(fks_ev_book_delta, side, FK_SIDE), F(fks_ev_book_delta, action, FK_BOOK_ACTION),
	F(fks_ev_book_delta, px, FK_PX), F(fks_ev_book_delta, qty, FK_QTY),
	F(fks_ev_book_delta, update_id, FK_U64),
};
static const struct field signal_fields[] = {
	F(fks_ev_signal, signal_id, FK_U64), F(fks_ev_signal, side, FK_SIDE),
	F(fks_ev_signal, entry_px, FK_PX), F(fks_ev_signal, take_profit_px, FK_PX),
	F(fks_ev_signal, stop_loss_px, FK_PX), F(fks_ev_signal, confidence, FK_CONF),
	F(fks_ev_signal, strategy, FK_U16), F(fks_ev_signal, cause_seq, FK_U64),
};
static const struct field order_new_fields[] = {
	F(fks_ev_order_new, order_id, FK_U64), F(fks_ev_order_new, signal_id, FK_U64),
	F(fks_ev_order_new, side, FK_SIDE), F(fks_ev_order_new, ord_type, FK_ORD_TYPE),
	F(fks_ev_order_new, tif, FK_TIF), F(fks_ev_order_new, px, FK_PX),
	F(fks_ev_order_new, qty, FK_QTY), F(fks_ev_order_new, take_profit_px, FK_PX),
	F(fks_ev_order_new, stop_loss_px, FK_PX), F(fks_ev_order_new, strategy, FK_U16),
};
static const struct field order_cancel_fields[] = {
	F(fks_ev_order_cancel, order_id, FK_U64), F(fks_ev_order_cancel, orig_signal_id, FK_U64),
};
static const struct field order_replace_fields[] = {
	F(fks_ev_order_replace, order_id, FK_U64), F(fks_ev_order_replace, new_order_id, FK_U64),
	F(fks_ev_order_replace, new_px, FK_PX), F(fks_ev_order_replace, new_qty, FK_QTY),
};
static const struct field risk_reject_fields[] = {
	F(fks_ev_risk_reject, order_id, FK_U64), F(fks_ev_risk_reject, signal_id, FK_U64),
	F(fks_ev_risk_reject, reason, FK_RISK_REASON), F(fks_ev_risk_reject, limit, FK_RISK_AMOUNT),
	F(fks_ev_risk_reject, value, FK_RISK_AMOUNT),
};
static const struct field order_ack_fields[] = {
	F(fks_ev_order_ack, order_id, FK_U64), F(fks_ev_order_ack, venue_order_id, FK_U64),
	F(fks_ev_order_ack, leaves_qty, FK_QTY),
};
static const struct field fill_fields[] = {
	F(fks_ev_fill, order_id, FK_U64), F(fks_ev_fill, px, FK_PX),
	F(fks_ev_fill, qty, FK_QTY), F(fks_ev_fill, leaves_qty, FK_QTY),
};
static const struct field order_reject_fields[] = {
	F(fks_ev_order_reject, order_id, FK_U64), F(fks_ev_order_reject, reason, FK_U32),
};
static const struct field cancel_ack_fields[] = {
	F(fks_ev_cancel_ack, order_id, FK_U64), F(fks_ev_cancel_ack, canceled_qty, FK_QTY),
};
static const struct field position_fields[] = {
	F(fks_ev_position, position, FK_QTY), F(fks_ev_position, avg_px, FK_PX),
	F(fks_ev_position, realized_pnl, FK_PX), F(fks_ev_position, unrealized_pnl, FK_PX),
	F(fks_ev_position, fees, FK_PX), F(fks_ev_position, fills, FK_U64),
};
static const struct field control_fields[] = {
	F(fks_ev_control, op, FK_CTL_OP), F(fks_ev_control, reason, FK_U32),
	F(fks_ev_control, stage, FK_STAGE),
};
static const struct field heartbeat_fields[] = {
	F(fks_ev_heartbeat, events_out, FK_U64),
};
static const struct field instrument_def_fields[] = {
	/* "symbol" is every event's looked-up symbol; this one is the definition's. */
	{ "def_symbol", FK_SYMBOL, offsetof(struct fks_ev_instrument_def, symbol) },
	F(fks_ev_instrument_def, px_scale, FK_U8), F(fks_ev_instrument_def, qty_scale, FK_U8),
	F(fks_ev_instrument_def, venue, FK_U16),
};
static const struct field applied_fields[] = {
	F(fks_ev_applied, applied_source, FK_STAGE8), F(fks_ev_applied, applied_type, FK_EVTYPE8),
	F(fks_ev_applied, applied_seq, FK_U64), F(fks_ev_applied, input_pos, FK_U64),
};

#define FIELDS(a) { a, sizeof a / sizeof a[0] }
static const struct {
	const struct field *f;
	size_t n;
} type_fields[FKS_EV_TYPE_COUNT] = {
	[FKS_EV_QUOTE] = FIELDS(quote_fields),
	[FKS_EV_TRADE] = FIELDS(trade_fields),
	[FKS_EV_BOOK_DELTA] = FIELDS(book_fields),
	[FKS_EV_SIGNAL] = FIELDS(signal_fields),
	[FKS_EV_ORDER_NEW] = FIELDS(order_new_fields),
	[FKS_EV_ORDER_CANCEL] = FIELDS(order_cancel_fields),
	[FKS_EV_ORDER_REPLACE] = FIELDS(order_replace_fields),
	[FKS_EV_RISK_REJECT] = FIELDS(risk_reject_fields),
	[FKS_EV_ORDER_ACK] = FIELDS(order_ack_fields),
	[FKS_EV_FILL] = FIELDS(fill_fields),
	[FKS_EV_ORDER_REJECT] = FIELDS(order_reject_fields),
	[FKS_EV_CANCEL_ACK] = FIELDS(cancel_ack_fields),
	[FKS_EV_POSITION] = FIELDS(position_fields),
	[FKS_EV_CONTROL] = FIELDS(control_fields),
	[FKS_EV_HEARTBEAT] = FIELDS(heartbeat_fields),
	[FKS_EV_INSTRUMENT_DEF] = FIELDS(instrument_def_fields),
	[FKS_EV_APPLIED] = FIELDS(applied_fields),
};

enum style { STYLE_TEXT, STYLE_JSON, STYLE_CSV };

/* Per-command formatting state. */
struct fmt {
	const struct journal_meta *meta;
	int64_t date_sec;                /* the second `date` spells */
	bool have_date;
	int date_len;
	char date[80];                   /* "YYYY-MM-DDTHH:MM:SS", room for any int */
};

static const char *side_name(unsigned v)
{
	return v == FKS_SIDE_BUY ? "buy" : v == FKS_SIDE_SELL ? "sell" : v == FKS_SIDE_NONE ? "none" : NULL;
}

static const char *book_action_name(unsigned v)
{
	return v == FKS_BOOK_SET ? "set" : v == FKS_BOOK_DELETE ? "delete" : v == FKS_BOOK_CLEAR ? "clear" : NULL;
}

static const char *ord_type_name(unsigned v)
{
	return v == FKS_ORD_LIMIT ? "limit" : v == FKS_ORD_MARKET ? "market" : NULL;
}

static const char *tif_name(unsigned v)
{
	static const char *const names[] = { [FKS_TIF_DAY] = "day", [FKS_TIF_GTC] = "gtc",
					     [FKS_TIF_IOC] = "ioc", [FKS_TIF_FOK] = "fok" };
	return v < sizeof names / sizeof names[0] ? names[v] : NULL;
}

static const char *ctl_op_name(unsigned v)
{
	static const char *const names[] = { [FKS_CTL_KILL] = "kill", [FKS_CTL_HALT] = "halt",
					     [FKS_CTL_RESUME] = "resume", [FKS_CTL_STOP] = "stop" };
	return v < sizeof names / sizeof names[0] ? names[v] : NULL;
}

/* An identifier-like name: never needs escaping, only JSON's quotes. */
static void put_name(struct out *o, const char *s, enum style st)
{
	if (st == STYLE_JSON)
		put_ch(o, '"');
	put_str(o, s);
	if (st == STYLE_JSON)
		put_ch(o, '"');
}

/* Bytes from the journal (a symbol, at most n, NUL-padded): escaped for the
 * format.  JSON keeps every byte (as \u00XX); text and CSV print a byte
 * that is not printable ASCII as '?', so one event stays one line. */
static void put_text(struct out *o, const char *s, size_t n, enum style st)
{
	static const char hex[] = "0123456789abcdef";
	n = strnlen(s, n);
	bool quote = st == STYLE_JSON || (st == STYLE_CSV && (memchr(s, ',', n) || memchr(s, '"', n)));
	if (quote)
		put_ch(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (st == STYLE_JSON && (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')) {
			char *p = out_reserve(o, 6);
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			o->len += 6;
		} else if (st == STYLE_CSV && c == '"') {
			put_mem(o, "\"\"", 2);
		} else if (c < 0x20 || c >= 0x7f || (st == STYLE_TEXT && c == ' ')) {
			put_ch(o, '?');
		} else {
			put_ch(o, (char)c);
		}
	}
	if (quote)
		put_ch(o, '"');
}

static void put_enum(struct out *o, const char *name, uint64_t v, enum style st)
{
	if (name)
		put_name(o, name, st);
	else
		put_u64(o, v);
}

static uint64_t load_uint(const unsigned char *p, unsigned size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	switch (size) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

static int64_t load_i64(const unsigned char *p)
{
	int64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* Scale of a risk reject's limit and value: the units of what was checked,
 * as gateway/risk.c fills them; -1 where they are plain numbers (counts,
 * nanoseconds, flags). */
static int risk_amount_scale(const union fks_event *ev, const struct journal_symbol *sym)
{
	if (!sym)
		return -1;
	switch (ev->risk_reject.reason) {
	case FKS_RISK_MAX_QTY:
	case FKS_RISK_MAX_POSITION:
		return sym->qty_scale;
	case FKS_RISK_MAX_NOTIONAL:
		return sym->px_scale;
	}
	return -1;
}

static void put_value(struct out *o, const union fks_event *ev, const struct journal_symbol *sym,
		      const struct field *fd, enum style st)
{
	const unsigned char *p = ev->bytes + fd->off;
	int scale;
	switch (fd->kind) {
	case FK_PX:
	case FK_QTY:
		/* Without a symbol-table entry the scale is unknown: the raw
		 * integer is the only number that is not a guess. */
		if (sym)
			put_fx(o, load_i64(p), fd->kind == FK_PX ? sym->px_scale : sym->qty_scale);
		else
			put_i64(o, load_i64(p));
		break;
	case FK_RISK_AMOUNT:
		scale = risk_amount_scale(ev, sym);
		if (scale >= 0)
			put_fx(o, load_i64(p), (unsigned)scale);
		else
			put_i64(o, load_i64(p));
		break;
	case FK_U64: put_u64(o, load_uint(p, 8)); break;
	case FK_U32: put_u64(o, load_uint(p, 4)); break;
	case FK_U16: put_u64(o, load_uint(p, 2)); break;
	case FK_U8: put_u64(o, load_uint(p, 1)); break;
	case FK_SIDE: put_enum(o, side_name(*p), *p, st); break;
	case FK_BOOK_ACTION: put_enum(o, book_action_name(*p), *p, st); break;
	case FK_ORD_TYPE: put_enum(o, ord_type_name(*p), *p, st); break;
	case FK_TIF: put_enum(o, tif_name(*p), *p, st); break;
	case FK_RISK_REASON: {
		unsigned v = (unsigned)load_uint(p, 4);
		put_enum(o, fks_risk_reason_name(v), v, st);
		break;
	}
	case FK_CTL_OP: {
		unsigned v = (unsigned)load_uint(p, 4);
		put_enum(o, ctl_op_name(v), v, st);
		break;
	}
	case FK_STAGE: {
		unsigned v = (unsigned)load_uint(p, 4);
		put_enum(o, fks_stage_name(v), v, st);
		break;
	}
	case FK_STAGE8: put_enum(o, fks_stage_name(*p), *p, st); break;
	case FK_EVTYPE8: put_enum(o, fks_event_type_name(*p), *p, st); break;
	case FK_CONF: put_fx(o, (int64_t)load_uint(p, 4), 6); break;
	case FK_SYMBOL: put_text(o, (const char *)p, FKS_SYMBOL_MAX, st); break;
	}
}

/* ISO 8601 UTC with nanoseconds: 2024-05-01T12:00:00.123456789Z */
static void put_time(struct out *o, struct fmt *f, int64_t ns)
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
			put_i64(o, ns);
			return;
		}
		f->date_len = snprintf(f->date, sizeof f->date, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
				       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		f->date_sec = sec;
		f->have_date = true;
	}
	put_mem(o, f->date, (size_t)f->date_len);
	char *p = out_reserve(o, 11);
	p[0] = '.';
	for (int i = 9; i >= 1; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p[10] = 'Z';
	o->len += 11;
}

static void put_source(struct out *o, unsigned source, enum style st)
{
	put_enum(o, fks_stage_name(source), source, st);
}

static const struct journal_symbol *event_symbol(const struct fmt *f, const union fks_event *ev)
{
	return ev->h.instrument ? journal_meta_symbol(f->meta, ev->h.instrument) : NULL;
}

static void put_flag_names(struct out *o, unsigned flags)
{
	static const char *const names[] = { "replay", "stale", "snapshot", "last" };
	bool first = true;
	for (unsigned b = 0; b < 16; b++) {
		if (!(flags & (1u << b)))
			continue;
		if (!first)
			put_ch(o, ',');
		first = false;
		if (b < sizeof names / sizeof names[0]) {
			put_str(o, names[b]);
		} else {
			put_str(o, "bit");
			put_u64(o, b);
		}
	}
}

/* 42 2024-05-01T12:00:00.123456789Z quote feed#41 BTCUSDT bid_px=27.0600 ... recv_ns=123 */
static void format_text(struct out *o, struct fmt *f, const struct journal_record *rec)
{
	const union fks_event *ev = &rec->ev;
	const struct journal_symbol *sym = event_symbol(f, ev);
	out_reserve(o, EVENT_TEXT_MAX);
	put_u64(o, rec->seq);
	put_ch(o, ' ');
	put_time(o, f, ev->h.event_time_ns);
	put_ch(o, ' ');
	put_str(o, fks_event_type_name(ev->h.type));
	put_ch(o, ' ');
	put_source(o, ev->h.source, STYLE_TEXT);
	put_ch(o, '#');
	put_u64(o, ev->h.seq);
	put_ch(o, ' ');
	if (sym) {
		put_text(o, sym->symbol, FKS_SYMBOL_MAX, STYLE_TEXT);
	} else if (ev->h.instrument) {
		put_ch(o, '#');
		put_u64(o, ev->h.instrument);
	} else {
		put_ch(o, '-');
	}
	const struct field *fd = type_fields[ev->h.type].f;
	for (size_t i = 0; i < type_fields[ev->h.type].n; i++) {
		put_ch(o, ' ');
		put_str(o, fd[i].name);
		put_ch(o, '=');
		put_value(o, ev, sym, &fd[i], STYLE_TEXT);
	}
	put_str(o, " recv_ns=");
	put_i64(o, ev->h.recv_time_ns);
	if (ev->h.flags) {
		put_str(o, " flags=");
		put_flag_names(o, ev->h.flags);
	}
	if (rec->payload_len) {
		put_str(o, " payload=");
		put_u64(o, rec->payload_len);
		put_ch(o, 'B');
	}
	put_ch(o, '\n');
}

static void put_json_key(struct out *o, const char *key)
{
	put_str(o, ",\"");
	put_str(o, key);
	put_str(o, "\":");
}

static void format_json(struct out *o, struct fmt *f, const struct journal_record *rec)
{
	static const char hex[] = "0123456789abcdef";
	const union fks_event *ev = &rec->ev;
	const struct journal_symbol *sym = event_symbol(f, ev);
	out_reserve(o, EVENT_TEXT_MAX);
	put_str(o, "{\"seq\":");
	put_u64(o, rec->seq);
	put_json_key(o, "type");
	put_name(o, fks_event_type_name(ev->h.type), STYLE_JSON);
	put_json_key(o, "source");
	put_source(o, ev->h.source, STYLE_JSON);
	put_json_key(o, "src_seq");
	put_u64(o, ev->h.seq);
	put_json_key(o, "flags");
	put_u64(o, ev->h.flags);
	put_json_key(o, "instrument");
	put_u64(o, ev->h.instrument);
	put_json_key(o, "symbol");
	if (sym)
		put_text(o, sym->symbol, FKS_SYMBOL_MAX, STYLE_JSON);
	else
		put_str(o, "null");
	put_json_key(o, "event_time");
	put_ch(o, '"');
	put_time(o, f, ev->h.event_time_ns);
	put_ch(o, '"');
	put_json_key(o, "event_time_ns");
	put_i64(o, ev->h.event_time_ns);
	put_json_key(o, "recv_time_ns");
	put_i64(o, ev->h.recv_time_ns);
	const struct field *fd = type_fields[ev->h.type].f;
	for (size_t i = 0; i < type_fields[ev->h.type].n; i++) {
		put_json_key(o, fd[i].name);
		put_value(o, ev, sym, &fd[i], STYLE_JSON);
	}
	if (rec->payload_len) {
		put_json_key(o, "payload_len");
		put_u64(o, rec->payload_len);
		put_json_key(o, "payload_hex");
		put_ch(o, '"');
		const unsigned char *b = rec->payload;
		for (size_t i = 0; i < rec->payload_len; i++) {
			char *p = out_reserve(o, 2);
			p[0] = hex[b[i] >> 4];
			p[1] = hex[b[i] & 15];
			o->len += 2;
		}
		put_ch(o, '"');
	}
	put_str(o, "}\n");
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
		for (size_t i = 0; i < type_fields[t].n; i++) {
			const char *name = type_fields[t].f[i].name;
			int c = 0;
			while (c < csv_ncols && strcmp(csv_cols[c], name))
				c++;
			if (c == csv_ncols) {
				if (csv_ncols == CSV_MAX_FIELD_COLS)
					abort(); /* a build-time table outgrew its array */
				csv_cols[csv_ncols++] = name;
			}
			csv_field_at[t][c] = (int8_t)i;
		}
	}
}

static void format_csv_header(struct out *o)
{
	csv_init();
	for (size_t i = 0; i < sizeof csv_common / sizeof csv_common[0]; i++) {
		put_str(o, csv_common[i]);
		put_ch(o, ',');
	}
	for (int c = 0; c < csv_ncols; c++) {
		put_str(o, csv_cols[c]);
		put_ch(o, ',');
	}
	put_str(o, "payload_len\n");
}

static void format_csv(struct out *o, struct fmt *f, const struct journal_record *rec)
{
	const union fks_event *ev = &rec->ev;
	const struct journal_symbol *sym = event_symbol(f, ev);
	csv_init();
	out_reserve(o, EVENT_TEXT_MAX);
	put_u64(o, rec->seq);
	put_ch(o, ',');
	put_str(o, fks_event_type_name(ev->h.type));
	put_ch(o, ',');
	put_source(o, ev->h.source, STYLE_CSV);
	put_ch(o, ',');
	put_u64(o, ev->h.seq);
	put_ch(o, ',');
	put_u64(o, ev->h.flags);
	put_ch(o, ',');
	put_u64(o, ev->h.instrument);
	put_ch(o, ',');
	if (sym)
		put_text(o, sym->symbol, FKS_SYMBOL_MAX, STYLE_CSV);
	put_ch(o, ',');
	put_time(o, f, ev->h.event_time_ns);
	put_ch(o, ',');
	put_i64(o, ev->h.event_time_ns);
	put_ch(o, ',');
	put_i64(o, ev->h.recv_time_ns);
	put_ch(o, ',');
	const struct field *fd = type_fields[ev->h.type].f;
	for (int c = 0; c < csv_ncols; c++) {
		int i = csv_field_at[ev->h.type][c];
		if (i >= 0)
			put_value(o, ev, sym, &fd[i], STYLE_CSV);
		put_ch(o, ',');
	}
	put_u64(o, rec->payload_len);
	put_ch(o, '\n');
}

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

static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

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

/* Exit status after output: a vanished reader is fine, a full disk is not. */
static int finish_output(const char *cmd, struct out *o, int status)
{
	out_flush(o);
	if (o->error) {
		fprintf(stderr, "%s: writing output: %s\n", cmd, strerror(o->error));
		return 1;
	}
	return o->broken ? 0 : status;
}

static struct out *new_out(const char *cmd)
{
	struct out *o = malloc(sizeof *o);
	if (!o) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		return NULL;
	}
	o->fd = STDOUT_FILENO;
	o->broken = false;
	o->error = 0;
	o->len = 0;
	return o;
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
	struct out *o = new_out(cmd);
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
					format_json(o, &f, &rec);
				else
					format_text(o, &f, &rec);
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
	status = finish_output(cmd, o, status);
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

static void iso_time(char *buf, size_t cap, int64_t ns)
{
	struct out *o = malloc(sizeof *o);
	struct fmt f = { 0 };
	if (!o) {
		snprintf(buf, cap, "%" PRId64, ns);
		return;
	}
	o->len = 0;
	put_time(o, &f, ns);
	snprintf(buf, cap, "%.*s", (int)o->len, o->buf);
	free(o);
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
	struct out *o = new_out(cmd);
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
		format_csv_header(o);
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
				format_csv(o, &f, &rec);
			else
				format_json(o, &f, &rec);
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
	status = finish_output(cmd, o, status);
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
