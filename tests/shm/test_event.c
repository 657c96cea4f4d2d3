/* Event layouts and the per-type tables.  The offsets themselves are
 * static asserts in event.h; here: sizes agree with the table, names round
 * trip, and every type fits the slot size its size implies. */
#include <criterion/criterion.h>
#include <string.h>

#include "shm/event.h"

Test(event, every_type_has_a_name_and_a_one_or_two_line_size)
{
	for (unsigned t = 1; t < FKS_EV_TYPE_COUNT; t++) {
		const char *n = fks_event_type_name(t);
		cr_assert_not_null(n, "type %u has no name", t);
		size_t sz = fks_event_size(t);
		cr_assert(sz == 64 || sz == 128, "type %s is %zu bytes", n, sz);
		cr_assert_eq(fks_event_type_from_name(n), t, "name %s does not map back", n);
	}
	cr_assert_eq(fks_event_size(FKS_EV_TYPE_COUNT), 0);
	cr_assert_eq(fks_event_size(0), 0);
	cr_assert_null(fks_event_type_name(200));
	cr_assert_eq(fks_event_type_from_name("no_such_type"), FKS_EV_NONE);
}

Test(event, names_are_unique)
{
	for (unsigned a = 1; a < FKS_EV_TYPE_COUNT; a++)
		for (unsigned b = a + 1; b < FKS_EV_TYPE_COUNT; b++)
			cr_assert_str_neq(fks_event_type_name(a), fks_event_type_name(b));
}

Test(event, sizes_match_the_structs)
{
	cr_assert_eq(fks_event_size(FKS_EV_QUOTE), 64);
	cr_assert_eq(fks_event_size(FKS_EV_TRADE), 64);
	cr_assert_eq(fks_event_size(FKS_EV_FILL), 64);
	cr_assert_eq(fks_event_size(FKS_EV_SIGNAL), 128);
	cr_assert_eq(fks_event_size(FKS_EV_ORDER_NEW), 128);
	cr_assert_eq(fks_event_size(FKS_EV_RISK_REJECT), 128);
	cr_assert_eq(fks_event_size(FKS_EV_POSITION), 128);
}

/* The header is read through the union whatever the type: check that a
 * quote written field by field reads back through the generic header. */
Test(event, header_is_common_to_every_type)
{
	union fks_event e;
	memset(&e, 0, sizeof e);
	e.quote.h.type = FKS_EV_QUOTE;
	e.quote.h.seq = 42;
	e.quote.h.recv_time_ns = 7;
	e.quote.bid_px = 1234500;
	cr_assert_eq(e.h.type, FKS_EV_QUOTE);
	cr_assert_eq(e.h.seq, 42);
	cr_assert_eq(e.fill.h.recv_time_ns, 7);
	uint64_t raw;
	memcpy(&raw, e.bytes + 32, 8);
	cr_assert_eq(raw, 1234500, "payload starts right after the 32-byte header");
}

Test(event, stage_and_reason_names)
{
	cr_assert_str_eq(fks_stage_name(FKS_STAGE_RISK), "risk");
	cr_assert_null(fks_stage_name(FKS_STAGE_COUNT));
	cr_assert_str_eq(fks_risk_reason_name(FKS_RISK_STALE_DATA), "stale_data");
	cr_assert_null(fks_risk_reason_name(1000));
}
