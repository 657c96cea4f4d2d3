/* The field tables and their printers (shm/event_fields.h, shm/text_sink.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "shm/event_fields.h"

struct mem_sink {
	struct fks_sink s;
	char buf[256];
};

static void no_drain(struct fks_sink *s) { cr_assert_fail("sink of %zu bytes overflowed", s->cap); }

static void mem_init(struct mem_sink *m)
{
	m->s = (struct fks_sink){ .buf = m->buf, .cap = sizeof m->buf - 1, .drain = no_drain };
}

static const char *mem_text(struct mem_sink *m)
{
	m->buf[m->s.len] = 0;
	return m->buf;
}

static union fks_event a_fill(void)
{
	union fks_event ev;
	memset(&ev, 0, sizeof ev);
	ev.h.type = FKS_EV_FILL;
	ev.h.source = FKS_STAGE_GATEWAY;
	ev.h.seq = 7;
	ev.fill.order_id = 42;
	ev.fill.px = 2706;
	ev.fill.qty = 150;
	ev.fill.leaves_qty = 0;
	return ev;
}

Test(event_fields, every_type_has_a_table_with_fields_inside_the_event)
{
	for (unsigned t = FKS_EV_NONE + 1; t < FKS_EV_TYPE_COUNT; t++) {
		struct fks_field_list l = fks_event_fields(t);
		cr_assert_gt(l.n, 0, "type %u has no fields", t);
		for (size_t i = 0; i < l.n; i++)
			cr_assert_leq(l.f[i].off + l.f[i].size, fks_event_size(t), "%s outside type %u",
				      l.f[i].name, t);
	}
	cr_assert_eq(fks_event_fields(FKS_EV_TYPE_COUNT).n, 0);
}

Test(event_fields, text_prints_prices_and_quantities_at_the_scales)
{
	union fks_event ev = a_fill();
	struct fks_scales sc = { .px_scale = 2, .qty_scale = 1 };
	struct mem_sink m;
	mem_init(&m);
	fks_event_fields_text(&m.s, &ev, &sc);
	cr_assert_str_eq(mem_text(&m), " order_id=42 px=27.06 qty=15.0 leaves_qty=0.0");
	mem_init(&m);
	fks_event_fields_text(&m.s, &ev, NULL);
	cr_assert_str_eq(mem_text(&m), " order_id=42 px=2706 qty=150 leaves_qty=0");
}

Test(event_fields, json_quotes_enum_names_and_numbers_unknown_ones)
{
	union fks_event ev;
	memset(&ev, 0, sizeof ev);
	ev.h.type = FKS_EV_BOOK_DELTA;
	ev.book.side = FKS_SIDE_SELL;
	ev.book.action = 99;
	struct mem_sink m;
	mem_init(&m);
	fks_event_fields_json(&m.s, &ev, NULL);
	cr_assert_str_eq(mem_text(&m), ",\"side\":\"sell\",\"action\":99,\"px\":0,\"qty\":0,\"update_id\":0");
}

Test(event_fields, first_difference_names_the_field)
{
	union fks_event a = a_fill(), b = a_fill();
	cr_assert_null(fks_event_first_difference(&a, &b));
	b.fill.qty = 151;
	b.fill.leaves_qty = 1;
	const struct fks_field *d = fks_event_first_difference(&a, &b);
	cr_assert_not_null(d);
	cr_assert_str_eq(d->name, "qty");
	b = a_fill();
	b.h.recv_time_ns = 5;
	cr_assert_str_eq(fks_event_first_difference(&a, &b)->name, "recv_time_ns");
	b = a_fill();
	b.h.type = FKS_EV_ORDER_ACK;
	cr_assert_str_eq(fks_event_first_difference(&a, &b)->name, "type");
}

Test(text_sink, json_escaper_keeps_output_ascii_and_valid)
{
	struct mem_sink m;
	mem_init(&m);
	fks_sink_json_string(&m.s, "a\"b\\c\n\x7f\xc3", 8);
	cr_assert_str_eq(mem_text(&m), "\"a\\\"b\\\\c\\u000a\\u007f\\u00c3\"");
}

static char drained[512];
static size_t drained_len;

static void append_drain(struct fks_sink *s)
{
	memcpy(drained + drained_len, s->buf, s->len);
	drained_len += s->len;
	s->len = 0;
}

/* The smallest sink the header allows (64 bytes), filled past its
 * capacity several times over, by strings and by numbers. */
Test(text_sink, drains_when_full_and_keeps_every_byte)
{
	char small[64];
	char want[400];
	size_t want_len = 0;
	struct fks_sink s = { .buf = small, .cap = sizeof small, .drain = append_drain };
	for (int i = 0; i < 8; i++) {
		fks_sink_str(&s, "0123456789");
		fks_sink_u64(&s, 18446744073709551615u);
		memcpy(want + want_len, "012345678918446744073709551615", 30);
		want_len += 30;
	}
	append_drain(&s);
	cr_assert_eq(drained_len, want_len);
	cr_assert_arr_eq(drained, want, want_len);
}
