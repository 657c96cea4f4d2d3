/*
 * THE order model: one order's life as a table of (state, input) -> state,
 * used by every venue, by risk, by the gateway stage and by replay, so that
 * they cannot disagree about what an order is doing.
 *
 *   PENDING_NEW --ack--> NEW --fill--> PARTIALLY_FILLED --fill (leaves 0)--> FILLED
 *        |                |  \                |
 *        +--reject--> REJECTED  +--cancel_req--> PENDING_CANCEL --cancel_ack--> CANCELED
 *                         |                     (cancel_reject: back to NEW / PARTIALLY_FILLED)
 *                         +--replace_req--> PENDING_REPLACE --replace_ack--> REPLACED
 *                                           (replace_reject: back to NEW / PARTIALLY_FILLED)
 *
 * Besides the requested paths, a working order (NEW, PARTIALLY_FILLED, or
 * pending a cancel or a replace) may be canceled unsolicited (an IOC
 * remainder, the kill switch) or expired by the venue, and may fill while a
 * cancel or replace is pending: a fill that leaves nothing ends it FILLED.
 * A fill in PENDING_NEW is legal too (a venue may report the fill before
 * the ack).  FILLED, CANCELED, REPLACED, REJECTED and EXPIRED are final.
 *
 * order_apply() is the only writer of a state.  An input the table refuses
 * leaves the order as it was and counts one error in the caller's
 * order_errors, by state and input: bad input from a venue is a counted
 * error, never an abort.
 */
#ifndef FKS_GATEWAY_ORDER_H
#define FKS_GATEWAY_ORDER_H

#include <stdbool.h>
#include <stdint.h>

enum order_state {
	ORDER_ST_NONE = 0,            /* no order: before ORDER_IN_SUBMIT */
	ORDER_ST_PENDING_NEW = 1,     /* sent (or received, at a venue), not acked */
	ORDER_ST_NEW = 2,             /* acked, working, nothing filled */
	ORDER_ST_PARTIALLY_FILLED = 3,
	ORDER_ST_FILLED = 4,
	ORDER_ST_PENDING_CANCEL = 5,
	ORDER_ST_CANCELED = 6,
	ORDER_ST_PENDING_REPLACE = 7,
	ORDER_ST_REPLACED = 8,        /* this id is done; the replacement lives on */
	ORDER_ST_REJECTED = 9,
	ORDER_ST_EXPIRED = 10,
	ORDER_ST_COUNT
};

enum order_input {
	ORDER_IN_SUBMIT = 0,          /* a new order is sent / arrives */
	ORDER_IN_ACK = 1,
	ORDER_IN_REJECT = 2,          /* the new order is refused */
	ORDER_IN_FILL = 3,            /* a fill; order_apply picks partial or full */
	ORDER_IN_CANCEL_REQUEST = 4,
	ORDER_IN_CANCEL_ACK = 5,      /* requested or not (IOC remainder, kill switch) */
	ORDER_IN_CANCEL_REJECT = 6,
	ORDER_IN_REPLACE_REQUEST = 7,
	ORDER_IN_REPLACE_ACK = 8,
	ORDER_IN_REPLACE_REJECT = 9,
	ORDER_IN_EXPIRE = 10,
	ORDER_IN_COUNT
};

/* One order as everybody tracks it.  Plain data: copy it, embed it. */
struct order {
	uint64_t order_id;
	uint32_t instrument;
	uint8_t side, ord_type, tif;  /* enum fks_side, fks_order_type, fks_tif */
	uint8_t state;                /* enum order_state; written by order_apply only */
	int64_t px, qty;              /* limit price (0 for market), original quantity */
	int64_t leaves, filled;       /* open and executed quantity */
};

/* Refused inputs, by the state they met: [state][input]. */
struct order_errors {
	uint64_t illegal[ORDER_ST_COUNT][ORDER_IN_COUNT];
	uint64_t total;
	uint64_t bad_fill;            /* fill quantity <= 0 or above the leaves */
};

/* The state `in` moves `from` to, or ORDER_ST_NONE if the table refuses
 * it.  A fill maps to PARTIALLY_FILLED (or stays pending); order_apply
 * turns it into FILLED when nothing is left.  A cancel or replace reject
 * maps to NEW; order_apply makes it PARTIALLY_FILLED if something filled. */
enum order_state order_next(enum order_state from, enum order_input in);

/* A fresh order in ORDER_ST_PENDING_NEW (the SUBMIT transition), leaves = qty. */
void order_submit(struct order *o, uint64_t order_id, uint32_t instrument, uint8_t side,
		  uint8_t ord_type, uint8_t tif, int64_t px, int64_t qty);

/* Apply one input.  fill_qty is read for ORDER_IN_FILL only (it reduces
 * leaves and grows filled); ORDER_IN_CANCEL_ACK, _EXPIRE and _REPLACE_ACK
 * zero the leaves.  Returns true if the order moved; false (state, leaves
 * untouched, err counted if not NULL) if the input is illegal here. */
bool order_apply(struct order *o, enum order_input in, int64_t fill_qty, struct order_errors *err);

/* Working: acked or pending, not final (it may still fill). */
bool order_is_open(enum order_state s);
bool order_is_final(enum order_state s);

const char *order_state_name(enum order_state s);
const char *order_input_name(enum order_input in);

#endif
