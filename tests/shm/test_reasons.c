/* shm/reasons: every journaled reason has one entry, its own number, a
 * unique name and units. */
#include <criterion/criterion.h>

#include <string.h>

#include "shm/reasons.h"

Test(reasons, every_risk_reason_has_its_entry)
{
	for (unsigned c = 0; c < FKS_RISK_REASON_COUNT; c++) {
		const struct fks_reason *r = fks_reason_risk(c);
		cr_assert_not_null(r, "risk reason %u", c);
		cr_assert_eq(r->code, c);
		cr_assert_eq(r->origin, FKS_ORIGIN_RISK);
		cr_assert_str_eq(fks_risk_reason_name(c), r->name);
		for (unsigned d = 0; d < c; d++)
			cr_assert_str_neq(fks_reason_risk(d)->name, r->name, "%u and %u share a name", d, c);
	}
	cr_assert_null(fks_reason_risk(FKS_RISK_REASON_COUNT));
	cr_assert_null(fks_risk_reason_name(1000));
}

/* The units journal readers print limit and value in. */
Test(reasons, risk_units_are_those_the_rules_report)
{
	cr_assert_eq(fks_reason_risk(FKS_RISK_MAX_QTY)->unit, FKS_UNIT_QTY);
	cr_assert_eq(fks_reason_risk(FKS_RISK_MAX_POSITION)->unit, FKS_UNIT_QTY);
	cr_assert_eq(fks_reason_risk(FKS_RISK_MAX_NOTIONAL)->unit, FKS_UNIT_PX);
	cr_assert_eq(fks_reason_risk(FKS_RISK_STALE_DATA)->unit, FKS_UNIT_NS);
	cr_assert_eq(fks_reason_risk(FKS_RISK_THROTTLE)->unit, FKS_UNIT_COUNT);
	cr_assert_eq(fks_reason_risk(FKS_RISK_KILL_SWITCH)->unit, FKS_UNIT_FLAG);
	cr_assert_eq(fks_reason_risk(FKS_RISK_BAD_ORDER)->unit, FKS_UNIT_NONE);
}

Test(reasons, order_rejects_split_venue_and_gateway_codes)
{
	for (unsigned c = FKS_VENUE_REJ_UNKNOWN_INSTRUMENT; c <= FKS_VENUE_REJ_REPLACE_REJECTED; c++) {
		const struct fks_reason *r = fks_reason_order_reject(c);
		cr_assert_not_null(r, "venue reason %u", c);
		cr_assert_eq(r->origin, FKS_ORIGIN_VENUE);
		cr_assert_lt(c, FKS_GATEWAY_REJ_BASE);
	}
	const struct fks_reason *g = fks_reason_order_reject(FKS_GATEWAY_REJ_KILL_SWITCH);
	cr_assert_not_null(g);
	cr_assert_eq(g->code, 100, "journaled as 100 before the registry existed");
	cr_assert_eq(g->origin, FKS_ORIGIN_GATEWAY);
	cr_assert_str_eq(g->name, "gateway_kill_switch");
	cr_assert_null(fks_reason_order_reject(0));
	cr_assert_null(fks_reason_order_reject(FKS_VENUE_REJ_REPLACE_REJECTED + 1));
	cr_assert_null(fks_reason_order_reject(99));
}
