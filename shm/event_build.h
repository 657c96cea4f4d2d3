/*
 * Event builders: the one way to stamp an event header and fill an event.
 *
 * Two header stampers say where an event's header comes from:
 *  - fks_hdr_origin: an event that starts a chain (market data from a
 *    decoder, a synthetic feed, a recording): every header field is given.
 *  - fks_hdr_from_cause: an event derived from another one (a signal from a
 *    quote, a reject from an order): instrument, event time and receive time
 *    come from the cause, so the receive time of the input travels with every
 *    event derived from it (tick-to-trade without a second clock read).  The
 *    derived event's flags start empty; fks_hdr_from_cause_with_flags also
 *    carries the cause's flags, for an event that speaks for the same input
 *    (a risk reject keeps its order's FKS_EVF_REPLAY, a touch quote made from
 *    a trade keeps the trade's flags).
 *
 * Then one builder per event type takes such a header as a template: it
 * zeroes the whole event first (so no padding byte carries stack garbage and
 * the journal bytes are deterministic), copies the header, writes its own
 * type over the template's (an event's type always matches its layout) and
 * sets the payload.  A decoder may keep one template per message and build
 * every event of the message from it.
 *
 * Everything here is static inline: producers call these on the hot path,
 * and each compiles to a few stores.
 */
#ifndef FKS_SHM_EVENT_BUILD_H
#define FKS_SHM_EVENT_BUILD_H

#include <stdint.h>
#include <string.h>

#include "shm/event.h"

/* ---- headers ------------------------------------------------------------ */

/* A header for an event with no cause event: seq 0 where the stage that
 * publishes it numbers it (the feed stage numbers what decoders emit). */
static inline void fks_hdr_origin(struct fks_event_hdr *h, unsigned type, unsigned source,
				  uint64_t seq, uint32_t instrument, uint16_t flags,
				  int64_t event_time_ns, int64_t recv_time_ns)
{
	*h = (struct fks_event_hdr){
		.type = (uint8_t)type,
		.source = (uint8_t)source,
		.flags = flags,
		.instrument = instrument,
		.seq = seq,
		.event_time_ns = event_time_ns,
		.recv_time_ns = recv_time_ns,
	};
}

/* A header for an event caused by cause: its instrument and times, no flags.
 * h may be cause itself: a draft re-stamped in place by the stage that
 * numbers it. */
static inline void fks_hdr_from_cause(struct fks_event_hdr *h, unsigned type, unsigned source,
				      uint64_t seq, const struct fks_event_hdr *cause)
{
	fks_hdr_origin(h, type, source, seq, cause->instrument, 0, cause->event_time_ns,
		       cause->recv_time_ns);
}

/* As fks_hdr_from_cause, and the cause's flags too. */
static inline void fks_hdr_from_cause_with_flags(struct fks_event_hdr *h, unsigned type,
						 unsigned source, uint64_t seq,
						 const struct fks_event_hdr *cause)
{
	fks_hdr_origin(h, type, source, seq, cause->instrument, cause->flags,
		       cause->event_time_ns, cause->recv_time_ns);
}

/* Zero the event (size bytes), copy the header template, set the type. */
static inline void fks_build_start(void *out, size_t size, const struct fks_event_hdr *h,
				   unsigned type)
{
	struct fks_event_hdr copy = *h;   /* h may point into out */

	memset(out, 0, size);
	copy.type = (uint8_t)type;
	memcpy(out, &copy, sizeof copy);
}

/* ---- market data -------------------------------------------------------- */

static inline void fks_build_quote(struct fks_ev_quote *out, const struct fks_event_hdr *h,
				   int64_t bid_px, int64_t bid_qty, int64_t ask_px,
				   int64_t ask_qty)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_QUOTE);
	out->bid_px = bid_px;
	out->bid_qty = bid_qty;
	out->ask_px = ask_px;
	out->ask_qty = ask_qty;
}

/* aggressor: enum fks_side, FKS_SIDE_NONE when the venue won't say. */
static inline void fks_build_trade(struct fks_ev_trade *out, const struct fks_event_hdr *h,
				   int64_t px, int64_t qty, uint64_t trade_id, uint8_t aggressor)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_TRADE);
	out->px = px;
	out->qty = qty;
	out->trade_id = trade_id;
	out->aggressor = aggressor;
}

/* side: enum fks_side; action: enum fks_book_action; qty is the new total. */
static inline void fks_build_book_delta(struct fks_ev_book_delta *out,
					const struct fks_event_hdr *h, uint8_t side,
					uint8_t action, int64_t px, int64_t qty,
					uint64_t update_id)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_BOOK_DELTA);
	out->px = px;
	out->qty = qty;
	out->update_id = update_id;
	out->side = side;
	out->action = action;
}

static inline void fks_build_instrument_def(struct fks_ev_instrument_def *out,
					    const struct fks_event_hdr *h, const char *symbol,
					    uint8_t px_scale, uint8_t qty_scale, uint16_t venue)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_INSTRUMENT_DEF);
	/* NUL-padded, not necessarily terminated (event.h). */
	for (size_t k = 0; k < FKS_SYMBOL_MAX && symbol[k]; k++)
		out->symbol[k] = symbol[k];
	out->px_scale = px_scale;
	out->qty_scale = qty_scale;
	out->venue = venue;
}

/* ---- strategy ----------------------------------------------------------- */

/* The payload of a signal, by name: eight fields are too many to pass in a
 * row without mixing two up. */
struct fks_signal_terms {
	uint64_t signal_id;
	int64_t entry_px;
	int64_t take_profit_px;   /* 0: none */
	int64_t stop_loss_px;     /* 0: none */
	uint32_t confidence;      /* 0..FKS_CONF_ONE */
	uint16_t strategy;
	uint8_t side;             /* enum fks_side */
	uint64_t cause_seq;
};

static inline void fks_build_signal(struct fks_ev_signal *out, const struct fks_event_hdr *h,
				    const struct fks_signal_terms *t)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_SIGNAL);
	out->signal_id = t->signal_id;
	out->entry_px = t->entry_px;
	out->take_profit_px = t->take_profit_px;
	out->stop_loss_px = t->stop_loss_px;
	out->confidence = t->confidence;
	out->strategy = t->strategy;
	out->side = t->side;
	out->cause_seq = t->cause_seq;
}

/* ---- orders ------------------------------------------------------------- */

/* The payload of a new order, by name (see fks_signal_terms). */
struct fks_order_terms {
	uint64_t order_id;
	uint64_t signal_id;
	int64_t px;
	int64_t qty;
	int64_t take_profit_px;
	int64_t stop_loss_px;
	uint8_t side;             /* enum fks_side */
	uint8_t ord_type;         /* enum fks_order_type */
	uint8_t tif;              /* enum fks_tif */
	uint16_t strategy;
};

static inline void fks_build_order_new(struct fks_ev_order_new *out,
				       const struct fks_event_hdr *h,
				       const struct fks_order_terms *t)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_ORDER_NEW);
	out->order_id = t->order_id;
	out->signal_id = t->signal_id;
	out->px = t->px;
	out->qty = t->qty;
	out->take_profit_px = t->take_profit_px;
	out->stop_loss_px = t->stop_loss_px;
	out->side = t->side;
	out->ord_type = t->ord_type;
	out->tif = t->tif;
	out->strategy = t->strategy;
}

static inline void fks_build_order_cancel(struct fks_ev_order_cancel *out,
					  const struct fks_event_hdr *h, uint64_t order_id,
					  uint64_t orig_signal_id)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_ORDER_CANCEL);
	out->order_id = order_id;
	out->orig_signal_id = orig_signal_id;
}

static inline void fks_build_order_replace(struct fks_ev_order_replace *out,
					   const struct fks_event_hdr *h, uint64_t order_id,
					   uint64_t new_order_id, int64_t new_px, int64_t new_qty)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_ORDER_REPLACE);
	out->order_id = order_id;
	out->new_order_id = new_order_id;
	out->new_px = new_px;
	out->new_qty = new_qty;
}

/* reason: enum fks_risk_reason; limit and value in the reason's units. */
static inline void fks_build_risk_reject(struct fks_ev_risk_reject *out,
					 const struct fks_event_hdr *h, uint64_t order_id,
					 uint64_t signal_id, uint32_t reason, int64_t limit,
					 int64_t value)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_RISK_REJECT);
	out->order_id = order_id;
	out->signal_id = signal_id;
	out->reason = reason;
	out->limit = limit;
	out->value = value;
}

/* ---- execution reports -------------------------------------------------- */

static inline void fks_build_order_ack(struct fks_ev_order_ack *out,
				       const struct fks_event_hdr *h, uint64_t order_id,
				       uint64_t venue_order_id, int64_t leaves_qty)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_ORDER_ACK);
	out->order_id = order_id;
	out->venue_order_id = venue_order_id;
	out->leaves_qty = leaves_qty;
}

/* px and qty of this fill; leaves_qty 0 means the order is done. */
static inline void fks_build_fill(struct fks_ev_fill *out, const struct fks_event_hdr *h,
				  uint64_t order_id, int64_t px, int64_t qty, int64_t leaves_qty)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_FILL);
	out->order_id = order_id;
	out->px = px;
	out->qty = qty;
	out->leaves_qty = leaves_qty;
}

static inline void fks_build_order_reject(struct fks_ev_order_reject *out,
					  const struct fks_event_hdr *h, uint64_t order_id,
					  uint32_t reason)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_ORDER_REJECT);
	out->order_id = order_id;
	out->reason = reason;
}

static inline void fks_build_cancel_ack(struct fks_ev_cancel_ack *out,
					const struct fks_event_hdr *h, uint64_t order_id,
					int64_t canceled_qty)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_CANCEL_ACK);
	out->order_id = order_id;
	out->canceled_qty = canceled_qty;
}

/* The payload of a position snapshot, by name (see fks_signal_terms). */
struct fks_position_terms {
	int64_t position;
	int64_t avg_px;
	int64_t realized_pnl;
	int64_t unrealized_pnl;
	int64_t fees;
	uint64_t fills;
};

static inline void fks_build_position(struct fks_ev_position *out,
				      const struct fks_event_hdr *h,
				      const struct fks_position_terms *t)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_POSITION);
	out->position = t->position;
	out->avg_px = t->avg_px;
	out->realized_pnl = t->realized_pnl;
	out->unrealized_pnl = t->unrealized_pnl;
	out->fees = t->fees;
	out->fills = t->fills;
}

/* ---- control and bookkeeping -------------------------------------------- */

/* op: enum fks_control_op; stage: the enum fks_stage_id reason refers to. */
static inline void fks_build_control(struct fks_ev_control *out, const struct fks_event_hdr *h,
				     uint32_t op, uint32_t reason, uint32_t stage)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_CONTROL);
	out->op = op;
	out->reason = reason;
	out->stage = stage;
}

static inline void fks_build_heartbeat(struct fks_ev_heartbeat *out,
				       const struct fks_event_hdr *h, uint64_t events_out)
{
	fks_build_start(out, sizeof *out, h, FKS_EV_HEARTBEAT);
	out->events_out = events_out;
}

/* "report was applied after input_pos events of my main input" (event.h). */
static inline void fks_build_applied(struct fks_ev_applied *out, const struct fks_event_hdr *h,
				     const struct fks_event_hdr *report, uint64_t input_pos)
{
	uint64_t seq = report->seq;            /* report may alias out */
	uint8_t source = report->source, type = report->type;

	fks_build_start(out, sizeof *out, h, FKS_EV_APPLIED);
	out->applied_seq = seq;
	out->input_pos = input_pos;
	out->applied_source = source;
	out->applied_type = type;
}

#endif
