/*
 * The FIX 4.4 venue: FKS's order events as FIX requests over one session
 * (fix_session.h), and the counterparty's reports as the events every
 * venue emits, each order kept in the one order model (gateway/order.h).
 *
 * Out:
 *   FKS_EV_ORDER_NEW      NewOrderSingle (D), ClOrdID = the order id in decimal
 *   FKS_EV_ORDER_CANCEL   OrderCancelRequest (F), ClOrdID "<id>.C<k>" for
 *                         its k-th cancel, OrigClOrdID the order's
 *   FKS_EV_ORDER_REPLACE  OrderCancelReplaceRequest (G), ClOrdID the new
 *                         order id, OrigClOrdID the old one
 * ClOrdIDs come from FKS's order ids, so a resend after a restart names the
 * same order.  A request made with no ACTIVE session is not sent: a new
 * order (or a replace) is refused at once with NOT_CONNECTED; a cancel is
 * kept and sent at the next logon.
 *
 * In (ExecutionReport by ExecType, and the rejects):
 *   0 New                 ORDER_ACK (venue_order_id: OrderID's digits)
 *   F Trade               FILL at LastPx for LastQty, leaves LeavesQty
 *   4 Canceled, C Expired CANCEL_ACK for what was left
 *   5 Replaced            CANCEL_ACK of the old id, ORDER_ACK of the new
 *   8 Rejected            ORDER_REJECT VENUE_REJECTED
 *   OrderCancelReject     cancel: the order works on, nothing emitted;
 *                         replace: ORDER_REJECT REPLACE_REJECTED of the new id
 *   BusinessMessageReject and session Reject of a request: as a rejected
 *                         new order (BUSINESS_ / SESSION_REJECT), a refused
 *                         cancel, or a refused replace
 *   anything else         counted (ignored_reports), nothing emitted
 * A report for an order not known here (a restart forgot it) is counted in
 * unknown_order.  An ORDER_REJECT never names an order that is still open.
 *
 * Output headers: h.source FKS_STAGE_GATEWAY, h.seq 1, 2, ... per venue,
 * h.instrument the order's, h.event_time_ns the report's arrival (wall
 * clock) and h.recv_time_ns the order's own recv time.
 */
#ifndef FKS_GATEWAY_VENUES_FIX44_FIX_VENUE_H
#define FKS_GATEWAY_VENUES_FIX44_FIX_VENUE_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/order.h"
#include "gateway/venue.h"
#include "gateway/venues/fix44/fix_session.h"
#include "shm/index.h"

#define FIX_VENUE_MAX_ORDERS 4096
#define FIX_VENUE_ID_SLOTS (2 * FIX_VENUE_MAX_ORDERS)
#define FIX_SYMBOL_MAX 32
#define FIX_ACCOUNT_MAX 32

struct fix_instrument {
	uint32_t id;
	char symbol[FIX_SYMBOL_MAX];  /* as the venue names it */
	uint8_t px_scale, qty_scale;
};

/* Private to fix_venue.c. */
struct fix_order {
	struct order ord;
	uint64_t venue_order_id;
	uint64_t req_seq;             /* MsgSeqNum of the last request about it */
	uint64_t replaced_by;         /* a pending replace's new id; 0: none */
	uint64_t replaces;            /* for a replacement: the id it replaces */
	int64_t recv_time_ns;
	uint32_t cancels;             /* cancel requests sent: the k of "<id>.C<k>" */
	uint8_t book;                 /* index into fix_venue.inst */
	uint8_t req;                  /* 'D', 'F' or 'G': that request */
	bool cancel_wanted;           /* a cancel to send at the next logon */
};

struct fix_venue_counters {
	uint64_t orders, cancels, replaces;            /* requests sent */
	uint64_t acks, fills, rejects, cancel_acks;    /* events emitted, by type */
	uint64_t cancel_rejects, replace_rejects;      /* OrderCancelReject */
	uint64_t session_rejects, business_rejects;    /* of our requests */
	uint64_t not_connected;                        /* requests refused: no session */
	uint64_t cancels_deferred;                     /* kept for the next logon */
	uint64_t unknown_order;                        /* reports of orders not known here */
	uint64_t bad_report;                           /* a report with a bad or missing number */
	uint64_t ignored_reports;                      /* pending / restated / other ExecTypes */
	uint64_t venue_full;                           /* no record free for a new order */
};

struct fix_venue {
	struct fix_session s;
	char account[FIX_ACCOUNT_MAX];    /* "" : no Account(1) */
	uint32_t n_inst;
	struct fix_instrument inst[VENUE_MAX_INSTRUMENTS];
	uint64_t seq;                     /* h.seq of what it emits */
	venue_emit_fn emit;               /* set for the duration of a call */
	void *emit_ctx;
	int emitted;
	uint32_t cursor;                  /* next record to try when allocating */
	struct fix_order rec[FIX_VENUE_MAX_ORDERS];
	struct index ids;
	struct index_slot id_slot[FIX_VENUE_ID_SLOTS];
	struct fix_venue_counters c;
	struct order_errors order_errors;
};

/* Set up v: its session (nothing connects yet), account and instruments. */
void fix_venue_init(struct fix_venue *v, const struct fix_session_cfg *scfg, const char *account,
		    const struct fix_instrument *inst, uint32_t n_inst);
void fix_venue_on_order(struct fix_venue *v, const union fks_event *ev, venue_emit_fn emit, void *ctx);
/* Drive the session; the events emitted, or -1 when an ACTIVE session was lost. */
int fix_venue_poll(struct fix_venue *v, int64_t now_ns, venue_emit_fn emit, void *ctx);
int fix_venue_fds(const struct fix_venue *v, int *fds, int max, int64_t *deadline_ns);
void fix_venue_cancel_all(struct fix_venue *v, venue_emit_fn emit, void *ctx);
bool fix_venue_order_side(const struct fix_venue *v, uint64_t order_id, uint8_t *side);
/* The order's state, ORDER_ST_NONE if not known here. */
enum order_state fix_venue_order_state(const struct fix_venue *v, uint64_t order_id);
void fix_venue_close(struct fix_venue *v);

#endif
