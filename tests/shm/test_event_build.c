/* Event builders (shm/event_build.h).  Each builder writes into a buffer
 * full of garbage; the result must equal an expected image made byte by
 * byte at the offsets the layout promises (event.h), with every other byte
 * zero: so a field in the wrong place, a missed field and a leaked padding
 * byte all fail the same comparison. */
#include <criterion/criterion.h>
#include <string.h>

#include "shm/event_build.h"

#define GARBAGE 0xA5

/* The image under construction: a header at 0, then payload fields. */
struct image {
	uint8_t b[2 * FKS_EVENT_LINE];
};

static void put(struct image *im, size_t off, const void *v, size_t n)
{
	memcpy(im->b + off, v, n);
}

#define PUT(im, off, val)                                                      \
	do {                                                                   \
		__typeof__(val) v_ = (val);                                    \
		put((im), (off), &v_, sizeof v_);                              \
	} while (0)

static void put_hdr(struct image *im, uint8_t type, uint8_t source, uint16_t flags,
		    uint32_t instrument, uint64_t seq, int64_t event_ns, int64_t recv_ns)
{
	PUT(im, 0, type);
	PUT(im, 1, source);
	PUT(im, 2, flags);
	PUT(im, 4, instrument);
	PUT(im, 8, seq);
	PUT(im, 16, event_ns);
	PUT(im, 24, recv_ns);
}

static void assert_image(const void *built, const struct image *want, size_t size)
{
	const uint8_t *got = built;

	for (size_t k = 0; k < size; k++)
		cr_assert_eq(got[k], want->b[k], "byte %zu: got 0x%02x, want 0x%02x", k, got[k],
			     want->b[k]);
}

/* A cause that differs from the header a producer would make in every field. */
static const struct fks_event_hdr cause = {
	.type = FKS_EV_QUOTE,
	.source = FKS_STAGE_FEED,
	.flags = FKS_EVF_STALE | FKS_EVF_LAST,
	.instrument = 7,
	.seq = 99,
	.event_time_ns = 1700000000123456789ll,
	.recv_time_ns = 555000111,
};

static struct fks_event_hdr origin_hdr(void)
{
	struct fks_event_hdr h;

	memset(&h, GARBAGE, sizeof h);
	fks_hdr_origin(&h, FKS_EV_NONE, FKS_STAGE_FEED, 0, 3, FKS_EVF_SNAPSHOT, 1000, 2000);
	return h;
}

Test(event_build, origin_header_takes_every_field_given)
{
	struct fks_event_hdr h;
	struct image want = {0};

	memset(&h, GARBAGE, sizeof h);
	fks_hdr_origin(&h, FKS_EV_TRADE, FKS_STAGE_REPLAY, 12, 42, FKS_EVF_STALE, -5, 77);
	put_hdr(&want, FKS_EV_TRADE, FKS_STAGE_REPLAY, FKS_EVF_STALE, 42, 12, -5, 77);
	assert_image(&h, &want, sizeof h);
}

Test(event_build, header_from_cause_carries_instrument_and_times_not_flags)
{
	struct fks_event_hdr h;
	struct image want = {0};

	memset(&h, GARBAGE, sizeof h);
	fks_hdr_from_cause(&h, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, 4, &cause);
	put_hdr(&want, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, 0, cause.instrument, 4,
		cause.event_time_ns, cause.recv_time_ns);
	assert_image(&h, &want, sizeof h);
}

Test(event_build, header_from_cause_with_flags_carries_the_flags_too)
{
	struct fks_event_hdr h;
	struct image want = {0};

	memset(&h, GARBAGE, sizeof h);
	fks_hdr_from_cause_with_flags(&h, FKS_EV_RISK_REJECT, FKS_STAGE_RISK, 8, &cause);
	put_hdr(&want, FKS_EV_RISK_REJECT, FKS_STAGE_RISK, cause.flags, cause.instrument, 8,
		cause.event_time_ns, cause.recv_time_ns);
	assert_image(&h, &want, sizeof h);
}

Test(event_build, quote)
{
	struct fks_event_hdr h = origin_hdr();
	struct fks_ev_quote ev;
	struct image want = {0};

	memset(&ev, GARBAGE, sizeof ev);
	fks_build_quote(&ev, &h, 101, 5, 102, 6);
	put_hdr(&want, FKS_EV_QUOTE, FKS_STAGE_FEED, FKS_EVF_SNAPSHOT, 3, 0, 1000, 2000);
	PUT(&want, 32, (int64_t)101);
	PUT(&want, 40, (int64_t)5);
	PUT(&want, 48, (int64_t)102);
	PUT(&want, 56, (int64_t)6);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, trade_zeroes_its_padding)
{
	struct fks_event_hdr h = origin_hdr();
	struct fks_ev_trade ev;
	struct image want = {0};

	memset(&ev, GARBAGE, sizeof ev);
	fks_build_trade(&ev, &h, 250, 3, 0x1122334455667788ull, FKS_SIDE_SELL);
	put_hdr(&want, FKS_EV_TRADE, FKS_STAGE_FEED, FKS_EVF_SNAPSHOT, 3, 0, 1000, 2000);
	PUT(&want, 32, (int64_t)250);
	PUT(&want, 40, (int64_t)3);
	PUT(&want, 48, (uint64_t)0x1122334455667788ull);
	PUT(&want, 56, (uint8_t)FKS_SIDE_SELL);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, book_delta)
{
	struct fks_event_hdr h = origin_hdr();
	struct fks_ev_book_delta ev;
	struct image want = {0};

	memset(&ev, GARBAGE, sizeof ev);
	fks_build_book_delta(&ev, &h, FKS_SIDE_BUY, FKS_BOOK_DELETE, 99, 0, 31);
	put_hdr(&want, FKS_EV_BOOK_DELTA, FKS_STAGE_FEED, FKS_EVF_SNAPSHOT, 3, 0, 1000, 2000);
	PUT(&want, 32, (int64_t)99);
	PUT(&want, 48, (uint64_t)31);
	PUT(&want, 56, (uint8_t)FKS_SIDE_BUY);
	PUT(&want, 57, (uint8_t)FKS_BOOK_DELETE);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, instrument_def_pads_the_symbol_and_cuts_it_at_the_maximum)
{
	struct fks_event_hdr h = origin_hdr();
	struct fks_ev_instrument_def ev;
	struct image want = {0};

	memset(&ev, GARBAGE, sizeof ev);
	fks_build_instrument_def(&ev, &h, "BTCUSDT", 2, 5, 9);
	put_hdr(&want, FKS_EV_INSTRUMENT_DEF, FKS_STAGE_FEED, FKS_EVF_SNAPSHOT, 3, 0, 1000, 2000);
	put(&want, 32, "BTCUSDT", 7);
	PUT(&want, 48, (uint8_t)2);
	PUT(&want, 49, (uint8_t)5);
	PUT(&want, 50, (uint16_t)9);
	assert_image(&ev, &want, sizeof ev);

	fks_build_instrument_def(&ev, &h, "ABCDEFGHIJKLMNOPQRST", 2, 5, 9);
	cr_assert_eq(memcmp(ev.symbol, "ABCDEFGHIJKLMNOP", FKS_SYMBOL_MAX), 0);
	cr_assert_eq(ev.px_scale, 2, "the symbol ran over px_scale");
}

Test(event_build, signal_from_its_quote)
{
	struct fks_event_hdr h;
	struct fks_ev_signal ev;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, 5, &cause);
	memset(&ev, GARBAGE, sizeof ev);
	fks_build_signal(&ev, &h, &(struct fks_signal_terms){
		.signal_id = 11, .entry_px = 100, .take_profit_px = 110, .stop_loss_px = 95,
		.confidence = FKS_CONF_ONE / 2, .strategy = 3, .side = FKS_SIDE_BUY,
		.cause_seq = cause.seq,
	});
	put_hdr(&want, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, 0, cause.instrument, 5,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)11);
	PUT(&want, 40, (int64_t)100);
	PUT(&want, 48, (int64_t)110);
	PUT(&want, 56, (int64_t)95);
	PUT(&want, 64, (uint32_t)(FKS_CONF_ONE / 2));
	PUT(&want, 68, (uint16_t)3);
	PUT(&want, 70, (uint8_t)FKS_SIDE_BUY);
	PUT(&want, 72, (uint64_t)99);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, order_new)
{
	struct fks_event_hdr h;
	struct fks_ev_order_new ev;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_ORDER_NEW, FKS_STAGE_STRATEGY, 6, &cause);
	memset(&ev, GARBAGE, sizeof ev);
	fks_build_order_new(&ev, &h, &(struct fks_order_terms){
		.order_id = 1001, .signal_id = 11, .px = 100, .qty = 4, .take_profit_px = 110,
		.stop_loss_px = 95, .side = FKS_SIDE_SELL, .ord_type = FKS_ORD_LIMIT,
		.tif = FKS_TIF_IOC, .strategy = 0x0102,
	});
	put_hdr(&want, FKS_EV_ORDER_NEW, FKS_STAGE_STRATEGY, 0, cause.instrument, 6,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (uint64_t)11);
	PUT(&want, 48, (int64_t)100);
	PUT(&want, 56, (int64_t)4);
	PUT(&want, 64, (int64_t)110);
	PUT(&want, 72, (int64_t)95);
	PUT(&want, 80, (uint8_t)FKS_SIDE_SELL);
	PUT(&want, 81, (uint8_t)FKS_ORD_LIMIT);
	PUT(&want, 82, (uint8_t)FKS_TIF_IOC);
	PUT(&want, 84, (uint16_t)0x0102);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, order_cancel_and_replace)
{
	struct fks_event_hdr h;
	struct fks_ev_order_cancel c;
	struct fks_ev_order_replace r;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_ORDER_CANCEL, FKS_STAGE_STRATEGY, 7, &cause);
	memset(&c, GARBAGE, sizeof c);
	fks_build_order_cancel(&c, &h, 1001, 11);
	put_hdr(&want, FKS_EV_ORDER_CANCEL, FKS_STAGE_STRATEGY, 0, cause.instrument, 7,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (uint64_t)11);
	assert_image(&c, &want, sizeof c);

	memset(&want, 0, sizeof want);
	memset(&r, GARBAGE, sizeof r);
	fks_build_order_replace(&r, &h, 1001, 1002, 120, 8);
	put_hdr(&want, FKS_EV_ORDER_REPLACE, FKS_STAGE_STRATEGY, 0, cause.instrument, 7,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (uint64_t)1002);
	PUT(&want, 48, (int64_t)120);
	PUT(&want, 56, (int64_t)8);
	assert_image(&r, &want, sizeof r);
}

Test(event_build, risk_reject_keeps_its_orders_flags)
{
	struct fks_event_hdr h;
	struct fks_ev_risk_reject ev;
	struct image want = {0};

	fks_hdr_from_cause_with_flags(&h, FKS_EV_RISK_REJECT, FKS_STAGE_RISK, 9, &cause);
	memset(&ev, GARBAGE, sizeof ev);
	fks_build_risk_reject(&ev, &h, 1001, 11, FKS_RISK_MAX_QTY, 10, 12);
	put_hdr(&want, FKS_EV_RISK_REJECT, FKS_STAGE_RISK, cause.flags, cause.instrument, 9,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (uint64_t)11);
	PUT(&want, 48, (uint32_t)FKS_RISK_MAX_QTY);
	PUT(&want, 56, (int64_t)10);
	PUT(&want, 64, (int64_t)12);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, order_ack_and_fill)
{
	struct fks_event_hdr h;
	struct fks_ev_order_ack a;
	struct fks_ev_fill f;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_ORDER_ACK, FKS_STAGE_GATEWAY, 2, &cause);
	memset(&a, GARBAGE, sizeof a);
	fks_build_order_ack(&a, &h, 1001, 777, 4);
	put_hdr(&want, FKS_EV_ORDER_ACK, FKS_STAGE_GATEWAY, 0, cause.instrument, 2,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (uint64_t)777);
	PUT(&want, 48, (int64_t)4);
	assert_image(&a, &want, sizeof a);

	memset(&want, 0, sizeof want);
	memset(&f, GARBAGE, sizeof f);
	fks_build_fill(&f, &h, 1001, 100, 3, 1);
	put_hdr(&want, FKS_EV_FILL, FKS_STAGE_GATEWAY, 0, cause.instrument, 2,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (int64_t)100);
	PUT(&want, 48, (int64_t)3);
	PUT(&want, 56, (int64_t)1);
	assert_image(&f, &want, sizeof f);
}

Test(event_build, order_reject_and_cancel_ack)
{
	struct fks_event_hdr h;
	struct fks_ev_order_reject rj;
	struct fks_ev_cancel_ack ca;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_ORDER_REJECT, FKS_STAGE_GATEWAY, 3, &cause);
	memset(&rj, GARBAGE, sizeof rj);
	fks_build_order_reject(&rj, &h, 1001, 0xBEEF);
	put_hdr(&want, FKS_EV_ORDER_REJECT, FKS_STAGE_GATEWAY, 0, cause.instrument, 3,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (uint32_t)0xBEEF);
	assert_image(&rj, &want, sizeof rj);

	memset(&want, 0, sizeof want);
	memset(&ca, GARBAGE, sizeof ca);
	fks_build_cancel_ack(&ca, &h, 1001, 2);
	put_hdr(&want, FKS_EV_CANCEL_ACK, FKS_STAGE_GATEWAY, 0, cause.instrument, 3,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)1001);
	PUT(&want, 40, (int64_t)2);
	assert_image(&ca, &want, sizeof ca);
}

Test(event_build, position)
{
	struct fks_event_hdr h;
	struct fks_ev_position ev;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_POSITION, FKS_STAGE_RISK, 4, &cause);
	memset(&ev, GARBAGE, sizeof ev);
	fks_build_position(&ev, &h, &(struct fks_position_terms){
		.position = -3, .avg_px = 100, .realized_pnl = 5, .unrealized_pnl = -2,
		.fees = 1, .fills = 6,
	});
	put_hdr(&want, FKS_EV_POSITION, FKS_STAGE_RISK, 0, cause.instrument, 4,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (int64_t)-3);
	PUT(&want, 40, (int64_t)100);
	PUT(&want, 48, (int64_t)5);
	PUT(&want, 56, (int64_t)-2);
	PUT(&want, 64, (int64_t)1);
	PUT(&want, 72, (uint64_t)6);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, control_and_heartbeat)
{
	struct fks_event_hdr h;
	struct fks_ev_control c;
	struct fks_ev_heartbeat hb;
	struct image want = {0};

	fks_hdr_origin(&h, FKS_EV_CONTROL, FKS_STAGE_SUPERVISOR, 1, 0, 0, 0, 10);
	memset(&c, GARBAGE, sizeof c);
	fks_build_control(&c, &h, FKS_CTL_KILL, 17, FKS_STAGE_RISK);
	put_hdr(&want, FKS_EV_CONTROL, FKS_STAGE_SUPERVISOR, 0, 0, 1, 0, 10);
	PUT(&want, 32, (uint32_t)FKS_CTL_KILL);
	PUT(&want, 36, (uint32_t)17);
	PUT(&want, 40, (uint32_t)FKS_STAGE_RISK);
	assert_image(&c, &want, sizeof c);

	memset(&want, 0, sizeof want);
	memset(&hb, GARBAGE, sizeof hb);
	fks_build_heartbeat(&hb, &h, 123);
	put_hdr(&want, FKS_EV_HEARTBEAT, FKS_STAGE_SUPERVISOR, 0, 0, 1, 0, 10);
	PUT(&want, 32, (uint64_t)123);
	assert_image(&hb, &want, sizeof hb);
}

Test(event_build, applied_names_the_report)
{
	struct fks_event_hdr h;
	struct fks_ev_applied ev;
	struct image want = {0};

	fks_hdr_from_cause(&h, FKS_EV_APPLIED, FKS_STAGE_RISK, 12, &cause);
	memset(&ev, GARBAGE, sizeof ev);
	fks_build_applied(&ev, &h, &cause, 40);
	put_hdr(&want, FKS_EV_APPLIED, FKS_STAGE_RISK, 0, cause.instrument, 12,
		cause.event_time_ns, cause.recv_time_ns);
	PUT(&want, 32, (uint64_t)cause.seq);
	PUT(&want, 40, (uint64_t)40);
	PUT(&want, 48, (uint8_t)cause.source);
	PUT(&want, 49, (uint8_t)cause.type);
	assert_image(&ev, &want, sizeof ev);
}

Test(event_build, the_builder_sets_the_type_whatever_the_template_says)
{
	struct fks_event_hdr h = origin_hdr();   /* type NONE: a decoder's template */
	union fks_event ev;

	h.type = FKS_EV_FILL;
	fks_build_quote(&ev.quote, &h, 1, 1, 2, 1);
	cr_assert_eq(ev.h.type, FKS_EV_QUOTE);
}

Test(event_build, a_template_inside_the_output_survives_the_zeroing)
{
	union fks_event ev;

	memset(&ev, GARBAGE, sizeof ev);
	fks_hdr_from_cause(&ev.h, FKS_EV_NONE, FKS_STAGE_FEED, 4, &cause);
	fks_build_trade(&ev.trade, &ev.h, 10, 1, 2, FKS_SIDE_BUY);
	cr_assert_eq(ev.h.instrument, cause.instrument);
	cr_assert_eq(ev.h.seq, 4);
	cr_assert_eq(ev.h.recv_time_ns, cause.recv_time_ns);
	cr_assert_eq(ev.trade.pad[6], 0);
}

Test(event_build, a_draft_restamped_in_place_keeps_what_it_had)
{
	struct fks_event_hdr h = cause;

	fks_hdr_from_cause_with_flags(&h, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, 31, &h);
	cr_assert_eq(h.type, FKS_EV_SIGNAL);
	cr_assert_eq(h.source, FKS_STAGE_STRATEGY);
	cr_assert_eq(h.seq, 31);
	cr_assert_eq(h.flags, cause.flags);
	cr_assert_eq(h.instrument, cause.instrument);
	cr_assert_eq(h.event_time_ns, cause.event_time_ns);
	cr_assert_eq(h.recv_time_ns, cause.recv_time_ns);
}
