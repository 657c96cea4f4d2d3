#include "gateway/order.h"

#include <string.h>

/* The table.  Rows: states; columns: inputs; ORDER_ST_NONE (0, the
 * zero-initialised default) refuses.  A fill moves to PARTIALLY_FILLED or
 * keeps a pending state; order_apply promotes it to FILLED when the leaves
 * reach 0.  Rejects of a cancel or replace go back to NEW, which
 * order_apply reads as PARTIALLY_FILLED once something has filled. */
static const uint8_t next_state[ORDER_ST_COUNT][ORDER_IN_COUNT] = {
	[ORDER_ST_NONE] = {
		[ORDER_IN_SUBMIT] = ORDER_ST_PENDING_NEW,
	},
	[ORDER_ST_PENDING_NEW] = {
		[ORDER_IN_ACK] = ORDER_ST_NEW,
		[ORDER_IN_REJECT] = ORDER_ST_REJECTED,
		[ORDER_IN_FILL] = ORDER_ST_PARTIALLY_FILLED,
		[ORDER_IN_CANCEL_REQUEST] = ORDER_ST_PENDING_CANCEL,
		[ORDER_IN_CANCEL_ACK] = ORDER_ST_CANCELED,
		[ORDER_IN_EXPIRE] = ORDER_ST_EXPIRED,
	},
	[ORDER_ST_NEW] = {
		[ORDER_IN_FILL] = ORDER_ST_PARTIALLY_FILLED,
		[ORDER_IN_CANCEL_REQUEST] = ORDER_ST_PENDING_CANCEL,
		[ORDER_IN_CANCEL_ACK] = ORDER_ST_CANCELED,
		[ORDER_IN_REPLACE_REQUEST] = ORDER_ST_PENDING_REPLACE,
		[ORDER_IN_EXPIRE] = ORDER_ST_EXPIRED,
	},
	[ORDER_ST_PARTIALLY_FILLED] = {
		[ORDER_IN_FILL] = ORDER_ST_PARTIALLY_FILLED,
		[ORDER_IN_CANCEL_REQUEST] = ORDER_ST_PENDING_CANCEL,
		[ORDER_IN_CANCEL_ACK] = ORDER_ST_CANCELED,
		[ORDER_IN_REPLACE_REQUEST] = ORDER_ST_PENDING_REPLACE,
		[ORDER_IN_EXPIRE] = ORDER_ST_EXPIRED,
	},
	[ORDER_ST_PENDING_CANCEL] = {
		[ORDER_IN_FILL] = ORDER_ST_PENDING_CANCEL,
		[ORDER_IN_CANCEL_ACK] = ORDER_ST_CANCELED,
		[ORDER_IN_CANCEL_REJECT] = ORDER_ST_NEW,
		[ORDER_IN_EXPIRE] = ORDER_ST_EXPIRED,
	},
	[ORDER_ST_PENDING_REPLACE] = {
		[ORDER_IN_FILL] = ORDER_ST_PENDING_REPLACE,
		[ORDER_IN_CANCEL_ACK] = ORDER_ST_CANCELED,
		[ORDER_IN_REPLACE_ACK] = ORDER_ST_REPLACED,
		[ORDER_IN_REPLACE_REJECT] = ORDER_ST_NEW,
		[ORDER_IN_EXPIRE] = ORDER_ST_EXPIRED,
	},
	/* FILLED, CANCELED, REPLACED, REJECTED, EXPIRED: final, all zero. */
};

enum order_state order_next(enum order_state from, enum order_input in)
{
	if ((unsigned)from >= ORDER_ST_COUNT || (unsigned)in >= ORDER_IN_COUNT)
		return ORDER_ST_NONE;
	return (enum order_state)next_state[from][in];
}

void order_submit(struct order *o, uint64_t order_id, uint32_t instrument, uint8_t side,
		  uint8_t ord_type, uint8_t tif, int64_t px, int64_t qty)
{
	memset(o, 0, sizeof *o);
	o->order_id = order_id;
	o->instrument = instrument;
	o->side = side;
	o->ord_type = ord_type;
	o->tif = tif;
	o->px = px;
	o->qty = qty;
	o->leaves = qty;
	o->state = ORDER_ST_PENDING_NEW;
}

static bool refuse(const struct order *o, enum order_input in, struct order_errors *err)
{
	if (err) {
		unsigned s = o->state < ORDER_ST_COUNT ? o->state : ORDER_ST_NONE;
		unsigned i = (unsigned)in < ORDER_IN_COUNT ? (unsigned)in : 0;
		err->illegal[s][i]++;
		err->total++;
	}
	return false;
}

bool order_apply(struct order *o, enum order_input in, int64_t fill_qty, struct order_errors *err)
{
	enum order_state to = order_next((enum order_state)o->state, in);

	if (to == ORDER_ST_NONE)
		return refuse(o, in, err);
	switch (in) {
	case ORDER_IN_SUBMIT:
		o->leaves = o->qty;
		o->filled = 0;
		break;
	case ORDER_IN_FILL:
		if (fill_qty <= 0 || fill_qty > o->leaves) {
			if (err)
				err->bad_fill++;
			return refuse(o, in, err);
		}
		o->leaves -= fill_qty;
		o->filled += fill_qty;
		if (o->leaves == 0)
			to = ORDER_ST_FILLED;
		break;
	case ORDER_IN_CANCEL_REJECT:
	case ORDER_IN_REPLACE_REJECT:
		if (o->filled > 0)
			to = ORDER_ST_PARTIALLY_FILLED;
		break;
	case ORDER_IN_REJECT:
	case ORDER_IN_CANCEL_ACK:
	case ORDER_IN_REPLACE_ACK:
	case ORDER_IN_EXPIRE:
		o->leaves = 0;
		break;
	default:
		break;
	}
	o->state = (uint8_t)to;
	return true;
}

bool order_is_final(enum order_state s)
{
	return s == ORDER_ST_FILLED || s == ORDER_ST_CANCELED || s == ORDER_ST_REPLACED ||
	       s == ORDER_ST_REJECTED || s == ORDER_ST_EXPIRED;
}

bool order_is_open(enum order_state s)
{
	return s != ORDER_ST_NONE && (unsigned)s < ORDER_ST_COUNT && !order_is_final(s);
}

const char *order_state_name(enum order_state s)
{
	static const char *const names[ORDER_ST_COUNT] = {
		[ORDER_ST_NONE] = "none",
		[ORDER_ST_PENDING_NEW] = "pending_new",
		[ORDER_ST_NEW] = "new",
		[ORDER_ST_PARTIALLY_FILLED] = "partially_filled",
		[ORDER_ST_FILLED] = "filled",
		[ORDER_ST_PENDING_CANCEL] = "pending_cancel",
		[ORDER_ST_CANCELED] = "canceled",
		[ORDER_ST_PENDING_REPLACE] = "pending_replace",
		[ORDER_ST_REPLACED] = "replaced",
		[ORDER_ST_REJECTED] = "rejected",
		[ORDER_ST_EXPIRED] = "expired",
	};
	return (unsigned)s < ORDER_ST_COUNT ? names[s] : "?";
}

const char *order_input_name(enum order_input in)
{
	static const char *const names[ORDER_IN_COUNT] = {
		[ORDER_IN_SUBMIT] = "submit",
		[ORDER_IN_ACK] = "ack",
		[ORDER_IN_REJECT] = "reject",
		[ORDER_IN_FILL] = "fill",
		[ORDER_IN_CANCEL_REQUEST] = "cancel_request",
		[ORDER_IN_CANCEL_ACK] = "cancel_ack",
		[ORDER_IN_CANCEL_REJECT] = "cancel_reject",
		[ORDER_IN_REPLACE_REQUEST] = "replace_request",
		[ORDER_IN_REPLACE_ACK] = "replace_ack",
		[ORDER_IN_REPLACE_REJECT] = "replace_reject",
		[ORDER_IN_EXPIRE] = "expire",
	};
	return (unsigned)in < ORDER_IN_COUNT ? names[in] : "?";
}
