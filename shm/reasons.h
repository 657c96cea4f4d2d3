/*
 * The reason registry: every reject reason in the journal, with its name and
 * the units of the numbers that travel with it.
 *
 * Two event fields carry a reason:
 *  - fks_ev_risk_reject.reason: enum fks_risk_reason (shm/event.h), with a
 *    limit and a value whose units depend on the reason (see fks_reason_unit);
 *  - fks_ev_order_reject.reason: a venue's own code (1..99) or one of the
 *    gateway's (FKS_GATEWAY_REJ_BASE and up), with no numbers attached.
 *
 * Numbers are journaled: never renumber, only add.  Counter arrays indexed
 * by a risk reason are FKS_RISK_REASON_SLOTS wide (a static assert below
 * keeps every reason inside them).
 */
#ifndef FKS_SHM_REASONS_H
#define FKS_SHM_REASONS_H

#include "shm/event.h"

/* One past the largest enum fks_risk_reason. */
#define FKS_RISK_REASON_COUNT (FKS_RISK_BAD_ORDER + 1)
/* Width of per-reason counter arrays that live in shared memory: room to
 * add reasons without changing the layout of those segments. */
#define FKS_RISK_REASON_SLOTS 16
_Static_assert(FKS_RISK_REASON_COUNT <= FKS_RISK_REASON_SLOTS, "a risk reason outside the counter slots");

/* The units of a risk reject's limit and value. */
enum fks_reason_unit {
	FKS_UNIT_NONE = 0,      /* both 0: nothing to measure (bad order) */
	FKS_UNIT_FLAG = 1,      /* limit 0, value 1: a switch was on */
	FKS_UNIT_QTY = 2,       /* a quantity at the instrument's qty_scale */
	FKS_UNIT_PX = 3,        /* money at the instrument's px_scale (a price or a notional) */
	FKS_UNIT_NS = 4,        /* nanoseconds */
	FKS_UNIT_COUNT = 5,     /* a plain count (orders) */
};

/* Who refused an order. */
enum fks_reason_origin {
	FKS_ORIGIN_RISK = 1,    /* a risk rule: fks_ev_risk_reject */
	FKS_ORIGIN_VENUE = 2,   /* the venue: fks_ev_order_reject, code 1..99 */
	FKS_ORIGIN_GATEWAY = 3, /* the gateway itself: fks_ev_order_reject, code >= 100 */
};

/* fks_ev_order_reject.reason from a venue.  The simulated venue's codes
 * (gateway/venues/sim/sim_venue.h) are these numbers. */
enum fks_venue_reject_reason {
	FKS_VENUE_REJ_UNKNOWN_INSTRUMENT = 1,
	FKS_VENUE_REJ_DUPLICATE_ORDER_ID = 2,
	FKS_VENUE_REJ_BAD_ORDER = 3,
	FKS_VENUE_REJ_VENUE_FULL = 4,
	FKS_VENUE_REJ_UNKNOWN_ORDER = 5,
	FKS_VENUE_REJ_ORDER_DONE = 6,
	FKS_VENUE_REJ_UNSUPPORTED = 7,
	/* A remote venue's (gateway/venues/fix44): */
	FKS_VENUE_REJ_VENUE_REJECTED = 8,   /* the counterparty refused the order (ExecType 8) */
	FKS_VENUE_REJ_SESSION_REJECT = 9,   /* a session-level Reject of the request */
	FKS_VENUE_REJ_BUSINESS_REJECT = 10, /* a BusinessMessageReject of the request */
	FKS_VENUE_REJ_NOT_CONNECTED = 11,   /* no session: the request was never sent */
	FKS_VENUE_REJ_REPLACE_REJECTED = 12,/* the replace was refused; the old order lives on */
};

/* fks_ev_order_reject.reason for an order the gateway refused before any
 * venue saw it.  Above every venue code, so the two never collide. */
#define FKS_GATEWAY_REJ_BASE 100
enum fks_gateway_reject_reason {
	FKS_GATEWAY_REJ_KILL_SWITCH = FKS_GATEWAY_REJ_BASE,
	/* The journal stage was dead or stalled: an order it could not record
	 * must not leave. */
	FKS_GATEWAY_REJ_JOURNAL_DOWN = FKS_GATEWAY_REJ_BASE + 1,
};

/* fks_ev_control.reason of an FKS_CTL_KILL: why the kill switch tripped;
 * the event's stage names the stage it refers to. */
enum fks_control_reason {
	FKS_CTL_REASON_OPERATOR = 1,     /* `fks kill` */
	FKS_CTL_REASON_STAGE_FAILED = 2, /* the stage died or stalled (the supervisor) */
	FKS_CTL_REASON_VENUE_LOST = 3,   /* the gateway lost its venue */
	FKS_CTL_REASON_INPUT_DEAD = 4,   /* the gateway's input producer (risk) died */
};

/* "operator", "stage_failed", ...; NULL for an unknown code. */
const char *fks_control_reason_name(unsigned code);

struct fks_reason {
	unsigned code;
	enum fks_reason_origin origin;
	const char *name;           /* lower-case, stable: "max_qty", "venue_full" */
	enum fks_reason_unit unit;  /* risk reasons; FKS_UNIT_NONE for order rejects */
};

/* The entry of a risk reason (FKS_RISK_OK included, as "ok"), or NULL. */
const struct fks_reason *fks_reason_risk(unsigned code);
/* The entry of an order_reject reason (venue or gateway), or NULL. */
const struct fks_reason *fks_reason_order_reject(unsigned code);

#endif
