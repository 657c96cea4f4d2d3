#include "shm/reasons.h"

#include <stddef.h>

#define RISK(c, n, u) [c] = { .code = c, .origin = FKS_ORIGIN_RISK, .name = n, .unit = u }
static const struct fks_reason risk_reasons[FKS_RISK_REASON_COUNT] = {
	RISK(FKS_RISK_OK, "ok", FKS_UNIT_NONE),
	RISK(FKS_RISK_MAX_QTY, "max_qty", FKS_UNIT_QTY),
	RISK(FKS_RISK_MAX_NOTIONAL, "max_notional", FKS_UNIT_PX),
	RISK(FKS_RISK_MAX_POSITION, "max_position", FKS_UNIT_QTY),
	RISK(FKS_RISK_MAX_EXPOSURE, "max_exposure", FKS_UNIT_PX),
	RISK(FKS_RISK_PRICE_BAND, "price_band", FKS_UNIT_PX),
	RISK(FKS_RISK_RISK_PER_TRADE, "risk_per_trade", FKS_UNIT_PX),
	RISK(FKS_RISK_DAILY_LOSS, "daily_loss", FKS_UNIT_PX),
	RISK(FKS_RISK_DRAWDOWN, "drawdown", FKS_UNIT_PX),
	RISK(FKS_RISK_THROTTLE, "throttle", FKS_UNIT_COUNT),
	RISK(FKS_RISK_STALE_DATA, "stale_data", FKS_UNIT_NS),
	RISK(FKS_RISK_CIRCUIT_BREAKER, "circuit_breaker", FKS_UNIT_FLAG),
	RISK(FKS_RISK_KILL_SWITCH, "kill_switch", FKS_UNIT_FLAG),
	RISK(FKS_RISK_BAD_ORDER, "bad_order", FKS_UNIT_NONE),
};

#define REJ(c, o, n) { .code = c, .origin = o, .name = n, .unit = FKS_UNIT_NONE }
static const struct fks_reason order_reject_reasons[] = {
	REJ(FKS_VENUE_REJ_UNKNOWN_INSTRUMENT, FKS_ORIGIN_VENUE, "unknown_instrument"),
	REJ(FKS_VENUE_REJ_DUPLICATE_ORDER_ID, FKS_ORIGIN_VENUE, "duplicate_order_id"),
	REJ(FKS_VENUE_REJ_BAD_ORDER, FKS_ORIGIN_VENUE, "bad_order"),
	REJ(FKS_VENUE_REJ_VENUE_FULL, FKS_ORIGIN_VENUE, "venue_full"),
	REJ(FKS_VENUE_REJ_UNKNOWN_ORDER, FKS_ORIGIN_VENUE, "unknown_order"),
	REJ(FKS_VENUE_REJ_ORDER_DONE, FKS_ORIGIN_VENUE, "order_done"),
	REJ(FKS_VENUE_REJ_UNSUPPORTED, FKS_ORIGIN_VENUE, "unsupported"),
	REJ(FKS_VENUE_REJ_VENUE_REJECTED, FKS_ORIGIN_VENUE, "venue_rejected"),
	REJ(FKS_VENUE_REJ_SESSION_REJECT, FKS_ORIGIN_VENUE, "session_reject"),
	REJ(FKS_VENUE_REJ_BUSINESS_REJECT, FKS_ORIGIN_VENUE, "business_reject"),
	REJ(FKS_VENUE_REJ_NOT_CONNECTED, FKS_ORIGIN_VENUE, "not_connected"),
	REJ(FKS_VENUE_REJ_REPLACE_REJECTED, FKS_ORIGIN_VENUE, "replace_rejected"),
	REJ(FKS_GATEWAY_REJ_KILL_SWITCH, FKS_ORIGIN_GATEWAY, "gateway_kill_switch"),
	REJ(FKS_GATEWAY_REJ_JOURNAL_DOWN, FKS_ORIGIN_GATEWAY, "gateway_journal_down"),
};

const char *fks_control_reason_name(unsigned code)
{
	static const char *const names[] = {
		[FKS_CTL_REASON_OPERATOR] = "operator",
		[FKS_CTL_REASON_STAGE_FAILED] = "stage_failed",
		[FKS_CTL_REASON_VENUE_LOST] = "venue_lost",
		[FKS_CTL_REASON_INPUT_DEAD] = "input_dead",
	};
	return code < sizeof names / sizeof names[0] ? names[code] : NULL;
}

const struct fks_reason *fks_reason_risk(unsigned code)
{
	return code < FKS_RISK_REASON_COUNT && risk_reasons[code].name ? &risk_reasons[code] : NULL;
}

const struct fks_reason *fks_reason_order_reject(unsigned code)
{
	for (size_t i = 0; i < sizeof order_reject_reasons / sizeof order_reject_reasons[0]; i++)
		if (order_reject_reasons[i].code == code)
			return &order_reject_reasons[i];
	return NULL;
}

const char *fks_risk_reason_name(unsigned reason)
{
	const struct fks_reason *r = fks_reason_risk(reason);
	return r ? r->name : NULL;
}
