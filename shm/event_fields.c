/* Field tables per event type and the printers that walk them (event_fields.h). */
#include "shm/event_fields.h"
#include "shm/reasons.h"

#include <string.h>

#define MEMBER_SIZE(T, m) sizeof(((struct T *)0)->m)
#define FIELD(T, m, kind, names) { #m, kind, offsetof(struct T, m), MEMBER_SIZE(T, m), names }
#define PX(T, m) FIELD(T, m, FKS_FIELD_PX, NULL)
#define QTY(T, m) FIELD(T, m, FKS_FIELD_QTY, NULL)
#define UINT(T, m) FIELD(T, m, FKS_FIELD_UINT, NULL)
#define ENUM(T, m, names) FIELD(T, m, FKS_FIELD_ENUM, names)

static const char *stage_name(unsigned v) { return fks_stage_name(v); }
static const char *event_type_name(unsigned v) { return fks_event_type_name(v); }
static const char *risk_reason_name(unsigned v) { return fks_risk_reason_name(v); }

static const struct fks_field header_fields[] = {
	ENUM(fks_event_hdr, type, event_type_name), ENUM(fks_event_hdr, source, stage_name),
	UINT(fks_event_hdr, flags), UINT(fks_event_hdr, instrument), UINT(fks_event_hdr, seq),
	FIELD(fks_event_hdr, event_time_ns, FKS_FIELD_TIME_NS, NULL),
	FIELD(fks_event_hdr, recv_time_ns, FKS_FIELD_TIME_NS, NULL),
};

static const struct fks_field quote_fields[] = {
	PX(fks_ev_quote, bid_px), QTY(fks_ev_quote, bid_qty), PX(fks_ev_quote, ask_px), QTY(fks_ev_quote, ask_qty),
};
static const struct fks_field trade_fields[] = {
	PX(fks_ev_trade, px), QTY(fks_ev_trade, qty), UINT(fks_ev_trade, trade_id),
	ENUM(fks_ev_trade, aggressor, fks_side_name),
};
static const struct fks_field book_fields[] = {
	ENUM(fks_ev_book_delta, side, fks_side_name), ENUM(fks_ev_book_delta, action, fks_book_action_name),
	PX(fks_ev_book_delta, px), QTY(fks_ev_book_delta, qty), UINT(fks_ev_book_delta, update_id),
};
static const struct fks_field signal_fields[] = {
	UINT(fks_ev_signal, signal_id), ENUM(fks_ev_signal, side, fks_side_name), PX(fks_ev_signal, entry_px),
	PX(fks_ev_signal, take_profit_px), PX(fks_ev_signal, stop_loss_px),
	FIELD(fks_ev_signal, confidence, FKS_FIELD_CONF, NULL), UINT(fks_ev_signal, strategy),
	UINT(fks_ev_signal, cause_seq),
};
static const struct fks_field order_new_fields[] = {
	UINT(fks_ev_order_new, order_id), UINT(fks_ev_order_new, signal_id),
	ENUM(fks_ev_order_new, side, fks_side_name), ENUM(fks_ev_order_new, ord_type, fks_ord_type_name),
	ENUM(fks_ev_order_new, tif, fks_tif_name), PX(fks_ev_order_new, px), QTY(fks_ev_order_new, qty),
	PX(fks_ev_order_new, take_profit_px), PX(fks_ev_order_new, stop_loss_px), UINT(fks_ev_order_new, strategy),
};
static const struct fks_field order_cancel_fields[] = {
	UINT(fks_ev_order_cancel, order_id), UINT(fks_ev_order_cancel, orig_signal_id),
};
static const struct fks_field order_replace_fields[] = {
	UINT(fks_ev_order_replace, order_id), UINT(fks_ev_order_replace, new_order_id),
	PX(fks_ev_order_replace, new_px), QTY(fks_ev_order_replace, new_qty),
};
static const struct fks_field risk_reject_fields[] = {
	UINT(fks_ev_risk_reject, order_id), UINT(fks_ev_risk_reject, signal_id),
	ENUM(fks_ev_risk_reject, reason, risk_reason_name),
	FIELD(fks_ev_risk_reject, limit, FKS_FIELD_RISK_AMOUNT, NULL),
	FIELD(fks_ev_risk_reject, value, FKS_FIELD_RISK_AMOUNT, NULL),
};
static const struct fks_field order_ack_fields[] = {
	UINT(fks_ev_order_ack, order_id), UINT(fks_ev_order_ack, venue_order_id), QTY(fks_ev_order_ack, leaves_qty),
};
static const struct fks_field fill_fields[] = {
	UINT(fks_ev_fill, order_id), PX(fks_ev_fill, px), QTY(fks_ev_fill, qty), QTY(fks_ev_fill, leaves_qty),
};
static const struct fks_field order_reject_fields[] = {
	UINT(fks_ev_order_reject, order_id), UINT(fks_ev_order_reject, reason),
};
static const struct fks_field cancel_ack_fields[] = {
	UINT(fks_ev_cancel_ack, order_id), QTY(fks_ev_cancel_ack, canceled_qty),
};
static const struct fks_field position_fields[] = {
	QTY(fks_ev_position, position), PX(fks_ev_position, avg_px), PX(fks_ev_position, realized_pnl),
	PX(fks_ev_position, unrealized_pnl), PX(fks_ev_position, fees), UINT(fks_ev_position, fills),
};
static const struct fks_field control_fields[] = {
	ENUM(fks_ev_control, op, fks_ctl_op_name), ENUM(fks_ev_control, reason, fks_control_reason_name),
	ENUM(fks_ev_control, stage, stage_name),
};
static const struct fks_field heartbeat_fields[] = {
	UINT(fks_ev_heartbeat, events_out),
};
static const struct fks_field instrument_def_fields[] = {
	/* "symbol" is every event's looked-up symbol; this one is the definition's. */
	{ "def_symbol", FKS_FIELD_SYMBOL, offsetof(struct fks_ev_instrument_def, symbol), FKS_SYMBOL_MAX, NULL },
	UINT(fks_ev_instrument_def, px_scale), UINT(fks_ev_instrument_def, qty_scale),
	UINT(fks_ev_instrument_def, venue),
};
static const struct fks_field applied_fields[] = {
	ENUM(fks_ev_applied, applied_source, stage_name), ENUM(fks_ev_applied, applied_type, event_type_name),
	UINT(fks_ev_applied, applied_seq), UINT(fks_ev_applied, input_pos),
};

#define LIST(a) { a, sizeof a / sizeof a[0] }
static const struct fks_field_list type_fields[FKS_EV_TYPE_COUNT] = {
	[FKS_EV_QUOTE] = LIST(quote_fields),
	[FKS_EV_TRADE] = LIST(trade_fields),
	[FKS_EV_BOOK_DELTA] = LIST(book_fields),
	[FKS_EV_SIGNAL] = LIST(signal_fields),
	[FKS_EV_ORDER_NEW] = LIST(order_new_fields),
	[FKS_EV_ORDER_CANCEL] = LIST(order_cancel_fields),
	[FKS_EV_ORDER_REPLACE] = LIST(order_replace_fields),
	[FKS_EV_RISK_REJECT] = LIST(risk_reject_fields),
	[FKS_EV_ORDER_ACK] = LIST(order_ack_fields),
	[FKS_EV_FILL] = LIST(fill_fields),
	[FKS_EV_ORDER_REJECT] = LIST(order_reject_fields),
	[FKS_EV_CANCEL_ACK] = LIST(cancel_ack_fields),
	[FKS_EV_POSITION] = LIST(position_fields),
	[FKS_EV_CONTROL] = LIST(control_fields),
	[FKS_EV_HEARTBEAT] = LIST(heartbeat_fields),
	[FKS_EV_INSTRUMENT_DEF] = LIST(instrument_def_fields),
	[FKS_EV_APPLIED] = LIST(applied_fields),
};

struct fks_field_list fks_event_fields(unsigned type)
{
	if (type >= FKS_EV_TYPE_COUNT)
		return (struct fks_field_list){ NULL, 0 };
	return type_fields[type];
}

struct fks_field_list fks_event_header_fields(void) { return (struct fks_field_list)LIST(header_fields); }

const char *fks_side_name(unsigned v)
{
	return v == FKS_SIDE_BUY ? "buy" : v == FKS_SIDE_SELL ? "sell" : v == FKS_SIDE_NONE ? "none" : NULL;
}

const char *fks_book_action_name(unsigned v)
{
	return v == FKS_BOOK_SET ? "set" : v == FKS_BOOK_DELETE ? "delete" : v == FKS_BOOK_CLEAR ? "clear" : NULL;
}

const char *fks_ord_type_name(unsigned v)
{
	return v == FKS_ORD_LIMIT ? "limit" : v == FKS_ORD_MARKET ? "market" : NULL;
}

const char *fks_tif_name(unsigned v)
{
	static const char *const names[] = { [FKS_TIF_DAY] = "day", [FKS_TIF_GTC] = "gtc",
					     [FKS_TIF_IOC] = "ioc", [FKS_TIF_FOK] = "fok" };
	return v < sizeof names / sizeof names[0] ? names[v] : NULL;
}

const char *fks_ctl_op_name(unsigned v)
{
	static const char *const names[] = { [FKS_CTL_KILL] = "kill", [FKS_CTL_HALT] = "halt",
					     [FKS_CTL_RESUME] = "resume", [FKS_CTL_STOP] = "stop" };
	return v < sizeof names / sizeof names[0] ? names[v] : NULL;
}

/* ---- printing ---------------------------------------------------------- */

void fks_print_name(struct fks_sink *s, const char *name, enum fks_text_style st)
{
	if (st == FKS_STYLE_JSON)
		fks_sink_ch(s, '"');
	fks_sink_str(s, name);
	if (st == FKS_STYLE_JSON)
		fks_sink_ch(s, '"');
}

void fks_print_symbol(struct fks_sink *s, const char *sym, size_t n, enum fks_text_style st)
{
	n = strnlen(sym, n);
	if (st == FKS_STYLE_JSON) {
		fks_sink_json_string(s, sym, n);
		return;
	}
	bool quote = st == FKS_STYLE_CSV && (memchr(sym, ',', n) || memchr(sym, '"', n));
	if (quote)
		fks_sink_ch(s, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)sym[i];
		if (st == FKS_STYLE_CSV && c == '"')
			fks_sink_mem(s, "\"\"", 2);
		else if (c < 0x20 || c >= 0x7f || (st == FKS_STYLE_TEXT && c == ' '))
			fks_sink_ch(s, '?');
		else
			fks_sink_ch(s, (char)c);
	}
	if (quote)
		fks_sink_ch(s, '"');
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

/* Scale of a risk reject's limit and value: the units the reason registry
 * (shm/reasons.c) gives them; -1 where they are plain numbers (counts,
 * nanoseconds, flags) or the instrument is unknown. */
static int risk_amount_scale(const union fks_event *ev, const struct fks_scales *sc)
{
	const struct fks_reason *r = fks_reason_risk(ev->risk_reject.reason);
	if (!sc || !r)
		return -1;
	if (r->unit == FKS_UNIT_QTY)
		return (int)sc->qty_scale;
	if (r->unit == FKS_UNIT_PX)
		return (int)sc->px_scale;
	return -1;
}

void fks_field_print(struct fks_sink *s, const union fks_event *ev, const struct fks_field *fd,
		     const struct fks_scales *sc, enum fks_text_style st)
{
	const unsigned char *p = ev->bytes + fd->off;
	int scale = -1;
	switch (fd->kind) {
	case FKS_FIELD_PX:
	case FKS_FIELD_QTY:
	case FKS_FIELD_RISK_AMOUNT:
		if (fd->kind == FKS_FIELD_RISK_AMOUNT)
			scale = risk_amount_scale(ev, sc);
		else if (sc)
			scale = (int)(fd->kind == FKS_FIELD_PX ? sc->px_scale : sc->qty_scale);
		if (scale >= 0)
			fks_sink_fx(s, load_i64(p), (unsigned)scale);
		else
			fks_sink_i64(s, load_i64(p));
		break;
	case FKS_FIELD_INT:
	case FKS_FIELD_TIME_NS: fks_sink_i64(s, load_i64(p)); break;
	case FKS_FIELD_UINT: fks_sink_u64(s, load_uint(p, fd->size)); break;
	case FKS_FIELD_ENUM: {
		unsigned v = (unsigned)load_uint(p, fd->size);
		const char *name = fd->enum_name(v);
		if (name)
			fks_print_name(s, name, st);
		else
			fks_sink_u64(s, v);
		break;
	}
	case FKS_FIELD_CONF: fks_sink_fx(s, (int64_t)load_uint(p, 4), 6); break;
	case FKS_FIELD_SYMBOL: fks_print_symbol(s, (const char *)p, fd->size, st); break;
	}
}

void fks_event_fields_text(struct fks_sink *s, const union fks_event *ev, const struct fks_scales *sc)
{
	struct fks_field_list l = fks_event_fields(ev->h.type);
	for (size_t i = 0; i < l.n; i++) {
		fks_sink_ch(s, ' ');
		fks_sink_str(s, l.f[i].name);
		fks_sink_ch(s, '=');
		fks_field_print(s, ev, &l.f[i], sc, FKS_STYLE_TEXT);
	}
}

void fks_event_fields_json(struct fks_sink *s, const union fks_event *ev, const struct fks_scales *sc)
{
	struct fks_field_list l = fks_event_fields(ev->h.type);
	for (size_t i = 0; i < l.n; i++) {
		fks_sink_str(s, ",\"");
		fks_sink_str(s, l.f[i].name);
		fks_sink_str(s, "\":");
		fks_field_print(s, ev, &l.f[i], sc, FKS_STYLE_JSON);
	}
}

static const struct fks_field *first_difference_in(struct fks_field_list l, const union fks_event *a,
						   const union fks_event *b)
{
	for (size_t i = 0; i < l.n; i++)
		if (memcmp(a->bytes + l.f[i].off, b->bytes + l.f[i].off, l.f[i].size))
			return &l.f[i];
	return NULL;
}

const struct fks_field *fks_event_first_difference(const union fks_event *a, const union fks_event *b)
{
	const struct fks_field *d = first_difference_in(fks_event_header_fields(), a, b);
	return d ? d : first_difference_in(fks_event_fields(a->h.type), a, b);
}
