/*
 * FKS events: the fixed-size records that stages exchange.
 *
 * An event is one 64-byte cache line, or two (128 bytes) where the payload
 * needs more.  The same bytes travel through the rings, are stored in the
 * journal and are read back by replay, so every layout here is part of the
 * on-disk format: change one and bump FKS_EVENT_LAYOUT_VERSION.
 *
 * Conventions:
 *  - Prices and quantities are int64 fixed point.  The scale (number of
 *    decimal places) belongs to the instrument and is declared once, in its
 *    FKS_EV_INSTRUMENT_DEF event; see shm/fixed.h for conversions.
 *  - event_time_ns is venue/exchange time, ns since the Unix epoch.
 *  - recv_time_ns is the local CLOCK_MONOTONIC time at which the *input* that
 *    caused this event was received.  Derived events copy it from their cause,
 *    so the gateway measures tick-to-trade without reading a second clock.
 *  - All fields are little-endian host order; FKS targets x86-64 only.
 */
#ifndef FKS_SHM_EVENT_H
#define FKS_SHM_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define FKS_EVENT_LAYOUT_VERSION 1u
#define FKS_EVENT_LINE 64u

enum fks_event_type {
	FKS_EV_NONE = 0,
	FKS_EV_QUOTE = 1,          /* top of book */
	FKS_EV_TRADE = 2,
	FKS_EV_BOOK_DELTA = 3,     /* one price level set or deleted */
	FKS_EV_SIGNAL = 4,
	FKS_EV_ORDER_NEW = 5,
	FKS_EV_ORDER_CANCEL = 6,
	FKS_EV_ORDER_REPLACE = 7,
	FKS_EV_RISK_REJECT = 8,
	FKS_EV_ORDER_ACK = 9,
	FKS_EV_FILL = 10,
	FKS_EV_ORDER_REJECT = 11,  /* rejected by the venue */
	FKS_EV_CANCEL_ACK = 12,
	FKS_EV_POSITION = 13,      /* position / P&L snapshot */
	FKS_EV_CONTROL = 14,       /* kill switch, halt, resume */
	FKS_EV_HEARTBEAT = 15,
	FKS_EV_INSTRUMENT_DEF = 16,
	FKS_EV_APPLIED = 17,       /* a stage applied an execution report here */
	FKS_EV_TYPE_COUNT
};

/* Which stage produced an event.  Small, dense ids: they index counters. */
enum fks_stage_id {
	FKS_STAGE_NONE = 0,
	FKS_STAGE_FEED = 1,
	FKS_STAGE_STRATEGY = 2,
	FKS_STAGE_RISK = 3,
	FKS_STAGE_GATEWAY = 4,
	FKS_STAGE_JOURNAL = 5,
	FKS_STAGE_SUPERVISOR = 6,
	FKS_STAGE_REPLAY = 7,
	FKS_STAGE_COUNT
};

/* Header flags. */
enum {
	FKS_EVF_REPLAY = 1u << 0,    /* produced by `fks replay`, not live */
	FKS_EVF_STALE = 1u << 1,     /* source data is known stale (gap, dead feed) */
	FKS_EVF_SNAPSHOT = 1u << 2,  /* part of a book snapshot, not an incremental */
	FKS_EVF_LAST = 1u << 3,      /* last event of a batch from one input */
};

enum fks_side { FKS_SIDE_NONE = 0, FKS_SIDE_BUY = 1, FKS_SIDE_SELL = 2 };

/* The common header: 32 bytes, the first half of every event. */
struct fks_event_hdr {
	uint8_t type;            /* enum fks_event_type */
	uint8_t source;          /* enum fks_stage_id */
	uint16_t flags;          /* FKS_EVF_* */
	uint32_t instrument;     /* symbol-table id; 0 where not applicable */
	uint64_t seq;            /* per-source sequence number, from 1, no gaps */
	int64_t event_time_ns;   /* venue time, ns since the Unix epoch */
	int64_t recv_time_ns;    /* CLOCK_MONOTONIC receive time of the cause */
};

/* ---- 64-byte events --------------------------------------------------- */

struct fks_ev_quote {
	struct fks_event_hdr h;
	int64_t bid_px, bid_qty;
	int64_t ask_px, ask_qty;
};

struct fks_ev_trade {
	struct fks_event_hdr h;
	int64_t px, qty;
	uint64_t trade_id;       /* venue trade id where numeric, else a hash */
	uint8_t aggressor;       /* enum fks_side; NONE when the venue won't say */
	uint8_t pad[7];
};

enum fks_book_action { FKS_BOOK_SET = 1, FKS_BOOK_DELETE = 2, FKS_BOOK_CLEAR = 3 };

struct fks_ev_book_delta {
	struct fks_event_hdr h;
	int64_t px, qty;         /* qty is the new total at px (L2 semantics) */
	uint64_t update_id;      /* venue book update id, 0 where none */
	uint8_t side;            /* enum fks_side */
	uint8_t action;          /* enum fks_book_action */
	uint8_t pad[6];
};

struct fks_ev_order_cancel {
	struct fks_event_hdr h;
	uint64_t order_id;
	uint64_t orig_signal_id;
	uint8_t pad[16];
};

/* Venue acknowledgement of a new order, a cancel or a replace. */
struct fks_ev_order_ack {
	struct fks_event_hdr h;
	uint64_t order_id;
	uint64_t venue_order_id;
	int64_t leaves_qty;
	uint8_t pad[8];
};

struct fks_ev_fill {
	struct fks_event_hdr h;
	uint64_t order_id;
	int64_t px, qty;         /* this fill */
	int64_t leaves_qty;      /* 0 means the order is done */
};

/* Reject from the venue (risk rejects have their own type and reasons). */
struct fks_ev_order_reject {
	struct fks_event_hdr h;
	uint64_t order_id;
	uint32_t reason;         /* venue-specific code, mapped by the gateway */
	uint8_t pad[20];
};

struct fks_ev_cancel_ack {
	struct fks_event_hdr h;
	uint64_t order_id;
	int64_t canceled_qty;
	uint8_t pad[16];
};

enum fks_control_op {
	FKS_CTL_KILL = 1,        /* kill switch: no new orders, cancel open ones */
	FKS_CTL_HALT = 2,        /* stop sending new orders, keep open ones */
	FKS_CTL_RESUME = 3,
	FKS_CTL_STOP = 4,        /* orderly shutdown: drain and exit */
};

struct fks_ev_control {
	struct fks_event_hdr h;
	uint32_t op;             /* enum fks_control_op */
	uint32_t reason;         /* why, e.g. which stage died */
	uint32_t stage;          /* stage the reason refers to, enum fks_stage_id */
	uint8_t pad[20];
};

struct fks_ev_heartbeat {
	struct fks_event_hdr h;
	uint64_t events_out;     /* events this source has emitted so far */
	uint8_t pad[24];
};

#define FKS_SYMBOL_MAX 16    /* bytes, NUL-padded, not necessarily terminated */

struct fks_ev_instrument_def {
	struct fks_event_hdr h;  /* h.instrument is the id being defined */
	char symbol[FKS_SYMBOL_MAX];
	uint8_t px_scale;        /* decimal places of every price of this id */
	uint8_t qty_scale;       /* decimal places of every quantity */
	uint16_t venue;
	uint8_t pad[12];
};

/*
 * Where a stage applied an execution report to its state, so that replay can
 * put it at the same point.  Strategy and risk read market data and orders
 * on their main input ring and execution reports on a feedback ring; the
 * interleaving of the two is a matter of timing, not of the data, and it
 * changes their decisions (positions, pending quantity).  Each time one of
 * them applies a report it journals this marker: "report (source, seq) was
 * applied after the first input_pos events of my main input".  Replay
 * rebuilds each stage's main input deterministically and applies the
 * reports at exactly those positions.  h.source is the applying stage.
 */
struct fks_ev_applied {
	struct fks_event_hdr h;
	uint64_t applied_seq;    /* h.seq of the report that was applied */
	uint64_t input_pos;      /* main-input events consumed before it */
	uint8_t applied_source;  /* h.source of that report */
	uint8_t applied_type;    /* h.type of that report */
	uint8_t pad[14];
};

/* ---- 128-byte events -------------------------------------------------- */

enum fks_order_type { FKS_ORD_LIMIT = 1, FKS_ORD_MARKET = 2 };
enum fks_tif { FKS_TIF_DAY = 1, FKS_TIF_GTC = 2, FKS_TIF_IOC = 3, FKS_TIF_FOK = 4 };

/* Confidence is fixed point too: FKS_CONF_ONE means 1.0. */
#define FKS_CONF_ONE 1000000u

struct fks_ev_signal {
	struct fks_event_hdr h;
	uint64_t signal_id;
	int64_t entry_px;
	int64_t take_profit_px;  /* 0: none */
	int64_t stop_loss_px;    /* 0: none */
	uint32_t confidence;     /* 0..FKS_CONF_ONE */
	uint16_t strategy;       /* strategy instance id */
	uint8_t side;            /* enum fks_side */
	uint8_t pad0;
	uint64_t cause_seq;      /* seq of the market event that triggered it */
	uint8_t pad[48];
};

struct fks_ev_order_new {
	struct fks_event_hdr h;
	uint64_t order_id;
	uint64_t signal_id;      /* links the order back to its signal */
	int64_t px;              /* limit price; for market orders the reference
	                            (touch) price risk checks notional against */
	int64_t qty;
	int64_t take_profit_px;
	int64_t stop_loss_px;
	uint8_t side;            /* enum fks_side */
	uint8_t ord_type;        /* enum fks_order_type */
	uint8_t tif;             /* enum fks_tif */
	uint8_t pad0;
	uint16_t strategy;
	uint8_t pad1[2];
	uint8_t pad[40];
};

struct fks_ev_order_replace {
	struct fks_event_hdr h;
	uint64_t order_id;
	uint64_t new_order_id;
	int64_t new_px;
	int64_t new_qty;
	uint8_t pad[64];
};

/* Why risk refused an order.  Stable numbers: they are journaled. */
enum fks_risk_reason {
	FKS_RISK_OK = 0,
	FKS_RISK_MAX_QTY = 1,
	FKS_RISK_MAX_NOTIONAL = 2,
	FKS_RISK_MAX_POSITION = 3,
	FKS_RISK_MAX_EXPOSURE = 4,
	FKS_RISK_PRICE_BAND = 5,
	FKS_RISK_RISK_PER_TRADE = 6,
	FKS_RISK_DAILY_LOSS = 7,
	FKS_RISK_DRAWDOWN = 8,
	FKS_RISK_THROTTLE = 9,
	FKS_RISK_STALE_DATA = 10,
	FKS_RISK_CIRCUIT_BREAKER = 11,
	FKS_RISK_KILL_SWITCH = 12,
	FKS_RISK_BAD_ORDER = 13,
};

struct fks_ev_risk_reject {
	struct fks_event_hdr h;
	uint64_t order_id;
	uint64_t signal_id;
	uint32_t reason;         /* enum fks_risk_reason */
	uint8_t pad0[4];
	int64_t limit;           /* the limit that was breached, in its own units */
	int64_t value;           /* the value that breached it */
	uint8_t pad[56];
};

struct fks_ev_position {
	struct fks_event_hdr h;
	int64_t position;        /* signed quantity, instrument qty scale */
	int64_t avg_px;
	int64_t realized_pnl;    /* quote currency, instrument px scale */
	int64_t unrealized_pnl;
	int64_t fees;
	uint64_t fills;
	uint8_t pad[48];
};

/* Any event, sized for the largest.  Rings carrying 128-byte events use
 * 128-byte slots; a 64-byte event in such a slot leaves the tail unused. */
union fks_event {
	struct fks_event_hdr h;
	struct fks_ev_quote quote;
	struct fks_ev_trade trade;
	struct fks_ev_book_delta book;
	struct fks_ev_signal signal;
	struct fks_ev_order_new order_new;
	struct fks_ev_order_cancel order_cancel;
	struct fks_ev_order_replace order_replace;
	struct fks_ev_risk_reject risk_reject;
	struct fks_ev_order_ack order_ack;
	struct fks_ev_fill fill;
	struct fks_ev_order_reject order_reject;
	struct fks_ev_cancel_ack cancel_ack;
	struct fks_ev_position position;
	struct fks_ev_control control;
	struct fks_ev_heartbeat heartbeat;
	struct fks_ev_instrument_def instrument_def;
	struct fks_ev_applied applied;
	uint8_t bytes[2 * FKS_EVENT_LINE];
};

/* Size in bytes of an event of this type: 64, 128, or 0 if unknown. */
size_t fks_event_size(unsigned type);
/* Short lower-case name ("quote", "order_new", ...), or NULL if unknown. */
const char *fks_event_type_name(unsigned type);
/* Inverse of fks_event_type_name; FKS_EV_NONE if unknown. */
unsigned fks_event_type_from_name(const char *name);
const char *fks_stage_name(unsigned stage);
/* The reason's name from the registry (shm/reasons.c), or NULL. */
const char *fks_risk_reason_name(unsigned reason);

/* ---- layout checks: these are the wire/disk format -------------------- */

#define FKS_ASSERT_SIZE(T, n) _Static_assert(sizeof(T) == (n), #T " must be " #n " bytes")
#define FKS_ASSERT_OFF(T, f, n) _Static_assert(offsetof(T, f) == (n), #T "." #f " must be at " #n)

FKS_ASSERT_SIZE(struct fks_event_hdr, 32);
FKS_ASSERT_OFF(struct fks_event_hdr, type, 0);
FKS_ASSERT_OFF(struct fks_event_hdr, source, 1);
FKS_ASSERT_OFF(struct fks_event_hdr, flags, 2);
FKS_ASSERT_OFF(struct fks_event_hdr, instrument, 4);
FKS_ASSERT_OFF(struct fks_event_hdr, seq, 8);
FKS_ASSERT_OFF(struct fks_event_hdr, event_time_ns, 16);
FKS_ASSERT_OFF(struct fks_event_hdr, recv_time_ns, 24);

FKS_ASSERT_SIZE(struct fks_ev_quote, 64);
FKS_ASSERT_OFF(struct fks_ev_quote, bid_px, 32);
FKS_ASSERT_OFF(struct fks_ev_quote, bid_qty, 40);
FKS_ASSERT_OFF(struct fks_ev_quote, ask_px, 48);
FKS_ASSERT_OFF(struct fks_ev_quote, ask_qty, 56);
FKS_ASSERT_SIZE(struct fks_ev_trade, 64);
FKS_ASSERT_OFF(struct fks_ev_trade, px, 32);
FKS_ASSERT_OFF(struct fks_ev_trade, qty, 40);
FKS_ASSERT_OFF(struct fks_ev_trade, trade_id, 48);
FKS_ASSERT_OFF(struct fks_ev_trade, aggressor, 56);
FKS_ASSERT_SIZE(struct fks_ev_book_delta, 64);
FKS_ASSERT_OFF(struct fks_ev_book_delta, px, 32);
FKS_ASSERT_OFF(struct fks_ev_book_delta, qty, 40);
FKS_ASSERT_OFF(struct fks_ev_book_delta, update_id, 48);
FKS_ASSERT_OFF(struct fks_ev_book_delta, side, 56);
FKS_ASSERT_OFF(struct fks_ev_book_delta, action, 57);
FKS_ASSERT_SIZE(struct fks_ev_order_cancel, 64);
FKS_ASSERT_OFF(struct fks_ev_order_cancel, order_id, 32);
FKS_ASSERT_SIZE(struct fks_ev_order_ack, 64);
FKS_ASSERT_OFF(struct fks_ev_order_ack, order_id, 32);
FKS_ASSERT_OFF(struct fks_ev_order_ack, leaves_qty, 48);
FKS_ASSERT_SIZE(struct fks_ev_fill, 64);
FKS_ASSERT_OFF(struct fks_ev_fill, order_id, 32);
FKS_ASSERT_OFF(struct fks_ev_fill, px, 40);
FKS_ASSERT_OFF(struct fks_ev_fill, qty, 48);
FKS_ASSERT_OFF(struct fks_ev_fill, leaves_qty, 56);
FKS_ASSERT_SIZE(struct fks_ev_order_reject, 64);
FKS_ASSERT_OFF(struct fks_ev_order_reject, reason, 40);
FKS_ASSERT_SIZE(struct fks_ev_cancel_ack, 64);
FKS_ASSERT_OFF(struct fks_ev_cancel_ack, canceled_qty, 40);
FKS_ASSERT_SIZE(struct fks_ev_control, 64);
FKS_ASSERT_OFF(struct fks_ev_control, op, 32);
FKS_ASSERT_OFF(struct fks_ev_control, reason, 36);
FKS_ASSERT_OFF(struct fks_ev_control, stage, 40);
FKS_ASSERT_SIZE(struct fks_ev_heartbeat, 64);
FKS_ASSERT_SIZE(struct fks_ev_instrument_def, 64);
FKS_ASSERT_OFF(struct fks_ev_instrument_def, symbol, 32);
FKS_ASSERT_OFF(struct fks_ev_instrument_def, px_scale, 48);
FKS_ASSERT_OFF(struct fks_ev_instrument_def, qty_scale, 49);
FKS_ASSERT_OFF(struct fks_ev_instrument_def, venue, 50);
FKS_ASSERT_SIZE(struct fks_ev_applied, 64);
FKS_ASSERT_OFF(struct fks_ev_applied, applied_seq, 32);
FKS_ASSERT_OFF(struct fks_ev_applied, input_pos, 40);
FKS_ASSERT_OFF(struct fks_ev_applied, applied_source, 48);
FKS_ASSERT_OFF(struct fks_ev_applied, applied_type, 49);

FKS_ASSERT_SIZE(struct fks_ev_signal, 128);
FKS_ASSERT_OFF(struct fks_ev_signal, signal_id, 32);
FKS_ASSERT_OFF(struct fks_ev_signal, entry_px, 40);
FKS_ASSERT_OFF(struct fks_ev_signal, take_profit_px, 48);
FKS_ASSERT_OFF(struct fks_ev_signal, stop_loss_px, 56);
FKS_ASSERT_OFF(struct fks_ev_signal, confidence, 64);
FKS_ASSERT_OFF(struct fks_ev_signal, strategy, 68);
FKS_ASSERT_OFF(struct fks_ev_signal, side, 70);
FKS_ASSERT_OFF(struct fks_ev_signal, cause_seq, 72);
FKS_ASSERT_SIZE(struct fks_ev_order_new, 128);
FKS_ASSERT_OFF(struct fks_ev_order_new, order_id, 32);
FKS_ASSERT_OFF(struct fks_ev_order_new, signal_id, 40);
FKS_ASSERT_OFF(struct fks_ev_order_new, px, 48);
FKS_ASSERT_OFF(struct fks_ev_order_new, qty, 56);
FKS_ASSERT_OFF(struct fks_ev_order_new, take_profit_px, 64);
FKS_ASSERT_OFF(struct fks_ev_order_new, stop_loss_px, 72);
FKS_ASSERT_OFF(struct fks_ev_order_new, side, 80);
FKS_ASSERT_OFF(struct fks_ev_order_new, ord_type, 81);
FKS_ASSERT_OFF(struct fks_ev_order_new, tif, 82);
FKS_ASSERT_OFF(struct fks_ev_order_new, strategy, 84);
FKS_ASSERT_SIZE(struct fks_ev_order_replace, 128);
FKS_ASSERT_OFF(struct fks_ev_order_replace, new_px, 48);
FKS_ASSERT_SIZE(struct fks_ev_risk_reject, 128);
FKS_ASSERT_OFF(struct fks_ev_risk_reject, order_id, 32);
FKS_ASSERT_OFF(struct fks_ev_risk_reject, signal_id, 40);
FKS_ASSERT_OFF(struct fks_ev_risk_reject, reason, 48);
FKS_ASSERT_OFF(struct fks_ev_risk_reject, limit, 56);
FKS_ASSERT_OFF(struct fks_ev_risk_reject, value, 64);
FKS_ASSERT_SIZE(struct fks_ev_position, 128);
FKS_ASSERT_OFF(struct fks_ev_position, position, 32);
FKS_ASSERT_OFF(struct fks_ev_position, realized_pnl, 48);
FKS_ASSERT_SIZE(union fks_event, 128);

#endif
