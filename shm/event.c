#include "shm/event.h"

#include <string.h>

/* One table for every per-type property, indexed by type, so adding a type
 * is one line and the name, size and parser can never disagree. */
static const struct {
	const char *name;
	unsigned size;
} event_types[FKS_EV_TYPE_COUNT] = {
	[FKS_EV_QUOTE] = { "quote", sizeof(struct fks_ev_quote) },
	[FKS_EV_TRADE] = { "trade", sizeof(struct fks_ev_trade) },
	[FKS_EV_BOOK_DELTA] = { "book_delta", sizeof(struct fks_ev_book_delta) },
	[FKS_EV_SIGNAL] = { "signal", sizeof(struct fks_ev_signal) },
	[FKS_EV_ORDER_NEW] = { "order_new", sizeof(struct fks_ev_order_new) },
	[FKS_EV_ORDER_CANCEL] = { "order_cancel", sizeof(struct fks_ev_order_cancel) },
	[FKS_EV_ORDER_REPLACE] = { "order_replace", sizeof(struct fks_ev_order_replace) },
	[FKS_EV_RISK_REJECT] = { "risk_reject", sizeof(struct fks_ev_risk_reject) },
	[FKS_EV_ORDER_ACK] = { "order_ack", sizeof(struct fks_ev_order_ack) },
	[FKS_EV_FILL] = { "fill", sizeof(struct fks_ev_fill) },
	[FKS_EV_ORDER_REJECT] = { "order_reject", sizeof(struct fks_ev_order_reject) },
	[FKS_EV_CANCEL_ACK] = { "cancel_ack", sizeof(struct fks_ev_cancel_ack) },
	[FKS_EV_POSITION] = { "position", sizeof(struct fks_ev_position) },
	[FKS_EV_CONTROL] = { "control", sizeof(struct fks_ev_control) },
	[FKS_EV_HEARTBEAT] = { "heartbeat", sizeof(struct fks_ev_heartbeat) },
	[FKS_EV_INSTRUMENT_DEF] = { "instrument_def", sizeof(struct fks_ev_instrument_def) },
	[FKS_EV_APPLIED] = { "applied", sizeof(struct fks_ev_applied) },
};

size_t fks_event_size(unsigned type)
{
	return type < FKS_EV_TYPE_COUNT ? event_types[type].size : 0;
}

const char *fks_event_type_name(unsigned type)
{
	return type < FKS_EV_TYPE_COUNT ? event_types[type].name : NULL;
}

unsigned fks_event_type_from_name(const char *name)
{
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++)
		if (event_types[t].name && !strcmp(event_types[t].name, name))
			return t;
	return FKS_EV_NONE;
}

const char *fks_stage_name(unsigned stage)
{
	static const char *const names[FKS_STAGE_COUNT] = {
		[FKS_STAGE_FEED] = "feed",         [FKS_STAGE_STRATEGY] = "strategy",
		[FKS_STAGE_RISK] = "risk",         [FKS_STAGE_GATEWAY] = "gateway",
		[FKS_STAGE_JOURNAL] = "journal",   [FKS_STAGE_SUPERVISOR] = "supervisor",
		[FKS_STAGE_REPLAY] = "replay",
	};
	return stage < FKS_STAGE_COUNT && names[stage] ? names[stage] : NULL;
}
