/*
 * What goes on the bus (pipeline/bus/bus_wire.h): subjects by type and
 * symbol, record values as the journal lays them out, the metadata message
 * and its refusals; and remote addresses (bus_conn.h).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/bus/bus_conn.h"
#include "pipeline/bus/bus_wire.h"

static struct journal_meta meta, back;

static void setup_meta(void)
{
	memset(&meta, 0, sizeof meta);
	meta.journal_format = JOURNAL_FORMAT_VERSION;
	meta.event_layout = FKS_EVENT_LAYOUT_VERSION;
	strcpy(meta.fks_version, "v1");
	strcpy(meta.host, "h1");
	meta.start_time_ns = 1796326416354488049ll;
	meta.n_symbols = 2;
	meta.symbol[0] = (struct journal_symbol){ .id = 0, .symbol = "BTC.USD", .px_scale = 2, .qty_scale = 6 };
	meta.symbol[1] = (struct journal_symbol){ .id = 1, .symbol = "ETH/USD", .px_scale = 2, .qty_scale = 5 };
	strcpy(meta.config, "instruments: []\n");
	meta.config_len = strlen(meta.config);
}

Test(bus_wire, subjects_by_type_and_symbol)
{
	setup_meta();
	char run[BUS_RUN_MAX], s[BUS_SUBJECT_MAX];
	bus_run_id(meta.start_time_ns, run);
	cr_assert_str_eq(run, "1796326416354488049");
	union fks_event ev = { 0 };
	ev.h.type = FKS_EV_QUOTE;
	ev.h.instrument = 0;
	cr_assert(bus_event_subject(s, sizeof s, "fks", run, &ev, &meta));
	cr_assert_str_eq(s, "fks.1796326416354488049.md.BTC_USD");
	ev.h.instrument = 1;
	ev.h.type = FKS_EV_TRADE;
	cr_assert(bus_event_subject(s, sizeof s, "desk.fks", "7", &ev, &meta));
	cr_assert_str_eq(s, "desk.fks.7.md.ETH~USD");
	ev.h.instrument = 9;
	cr_assert(bus_event_subject(s, sizeof s, "fks", "7", &ev, &meta));
	cr_assert_str_eq(s, "fks.7.md.id9");
	const struct { unsigned type; const char *subject; } by_type[] = {
		{ FKS_EV_ORDER_NEW, "fks.7.orders" }, { FKS_EV_ORDER_ACK, "fks.7.orders" },
		{ FKS_EV_CANCEL_ACK, "fks.7.orders" }, { FKS_EV_FILL, "fks.7.fills" },
		{ FKS_EV_RISK_REJECT, "fks.7.risk" }, { FKS_EV_SIGNAL, "fks.7.signals" },
		{ FKS_EV_POSITION, "fks.7.positions" }, { FKS_EV_CONTROL, "fks.7.control" },
		{ FKS_EV_HEARTBEAT, "fks.7.heartbeat" }, { FKS_EV_APPLIED, "fks.7.applied" },
	};
	for (size_t i = 0; i < sizeof by_type / sizeof by_type[0]; i++) {
		ev.h.type = (uint8_t)by_type[i].type;
		cr_assert(bus_event_subject(s, sizeof s, "fks", "7", &ev, &meta));
		cr_assert_str_eq(s, by_type[i].subject);
	}
	ev.h.type = FKS_EV_TYPE_COUNT;
	cr_assert_not(bus_event_subject(s, sizeof s, "fks", "7", &ev, &meta), "an unknown type has no subject");
	ev.h.type = FKS_EV_FILL;
	cr_assert_not(bus_event_subject(s, 8, "fks", "7", &ev, &meta), "too small a buffer");
	cr_assert(bus_meta_subject(s, sizeof s, "fks", "7"));
	cr_assert_str_eq(s, "fks.7.meta");
	/* The event stream's subjects leave the signals subject to its own stream. */
	char subjects[BUS_STREAM_SUBJECTS][BUS_SUBJECT_MAX];
	int n = bus_stream_subjects("fks", subjects);
	cr_assert_eq(n, 10);
	cr_assert_str_eq(subjects[0], "fks.*.md.*");
	cr_assert(bus_signals_subject(s, sizeof s, "fks"));
	cr_assert_str_eq(s, "fks.signals.v1");
	for (int i = 0; i < n; i++) {
		size_t len = strlen(subjects[i]);
		cr_assert(len < 3 || strcmp(subjects[i] + len - 3, ".v1"), "%s would take the signals", subjects[i]);
	}
}

Test(bus_wire, message_ids_carry_run_and_sequence)
{
	char id[BUS_MSG_ID_MAX], run[BUS_RUN_MAX];
	uint64_t seq = 99;
	bus_msg_id(id, "1796326416354488049", 24323);
	cr_assert_str_eq(id, "1796326416354488049-24323");
	cr_assert(bus_msg_id_parse(id, run, &seq));
	cr_assert_str_eq(run, "1796326416354488049");
	cr_assert_eq(seq, 24323);
	bus_msg_id(id, "7", 0);
	cr_assert_str_eq(id, "7-meta");
	cr_assert(bus_msg_id_parse(id, run, &seq));
	cr_assert_eq(seq, 0, "the metadata");
	const char *bad[] = { "", "7", "-5", "7-", "7-0", "7-12x", "x7-12", "7-meta2", "123456789012345678901234-1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_not(bus_msg_id_parse(bad[i], run, &seq), "accepted \"%s\"", bad[i]);
}

Test(bus_wire, record_value_is_the_journal_value)
{
	struct journal_record rec = { .seq = 5, .ev_size = 64 }, back_rec;
	rec.ev.h.type = FKS_EV_FILL;
	rec.ev.h.seq = 77;
	char buf[512], why[128];
	size_t n = bus_record_value(&rec, buf, sizeof buf);
	cr_assert_eq(n, 64);
	cr_assert_eq(journal_decode(buf, n, &back_rec, why, sizeof why), 0, "%s", why);
	cr_assert_eq(back_rec.ev.h.seq, 77);
	rec.payload = "abc";
	rec.payload_len = 3;
	n = bus_record_value(&rec, buf, sizeof buf);
	cr_assert_eq(n, 64 + 8 + 3);
	cr_assert_eq(journal_decode(buf, n, &back_rec, why, sizeof why), 0, "%s", why);
	cr_assert_eq(back_rec.payload_len, 3);
	cr_assert_eq(memcmp(back_rec.payload, "abc", 3), 0);
	cr_assert_eq(bus_record_value(&rec, buf, 70), 0, "too small a buffer");
}

Test(bus_wire, metadata_round_trip_and_refusals)
{
	setup_meta();
	size_t len;
	char name[BUS_JOURNAL_NAME_MAX], why[256];
	char *body = bus_meta_encode(&meta, "day1-journal", &len);
	cr_assert(body);
	cr_assert_eq(bus_meta_decode(body, len, &back, name, why, sizeof why), 0, "%s", why);
	cr_assert_str_eq(name, "day1-journal");
	cr_assert_eq(back.start_time_ns, meta.start_time_ns);
	cr_assert_eq(back.n_symbols, 2);
	cr_assert_str_eq(back.symbol[1].symbol, "ETH/USD");
	cr_assert_eq(back.symbol[1].qty_scale, 5);
	cr_assert_str_eq(back.config, meta.config);
	cr_assert_str_eq(back.host, "h1");
	cr_assert_eq(bus_meta_decode(body, 10, &back, name, why, sizeof why), -1);
	cr_assert(strstr(why, "shorter than its header"), "%s", why);
	cr_assert_eq(bus_meta_decode(body, len - 1, &back, name, why, sizeof why), -1);
	cr_assert(strstr(why, "do not make"), "%s", why);
	body[8] = 9; /* the wire version */
	cr_assert_eq(bus_meta_decode(body, len, &back, name, why, sizeof why), -1);
	cr_assert(strstr(why, "another wire version"), "%s", why);
	free(body);
	meta.event_layout = FKS_EVENT_LAYOUT_VERSION + 1;
	body = bus_meta_encode(&meta, "j", &len);
	cr_assert_eq(bus_meta_decode(body, len, &back, name, why, sizeof why), -1);
	cr_assert(strstr(why, "event layout"), "%s", why);
	free(body);
}

Test(bus_conn, remote_addresses)
{
	struct fks_bus_cfg b;
	char run[BUS_RUN_MAX], err[256];
	cr_assert_eq(bus_parse_remote("nats://h:4222", &b, run, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(b.url, "nats://h:4222");
	cr_assert_str_eq(b.stream, "FKS");
	cr_assert_str_eq(b.subjects_prefix, "fks");
	cr_assert_str_eq(run, "");
	cr_assert_eq(bus_parse_remote("tls://a:1,tls://b:2?stream=S1&prefix=d.fks&run=123", &b, run, err,
				      sizeof err), 0, "%s", err);
	cr_assert_str_eq(b.url, "tls://a:1,tls://b:2");
	cr_assert(b.tls);
	cr_assert_str_eq(b.stream, "S1");
	cr_assert_str_eq(b.subjects_prefix, "d.fks");
	cr_assert_str_eq(run, "123");
	cr_assert_eq(bus_parse_remote("nats://h:1?bogus=1", &b, run, err, sizeof err), -1);
	cr_assert(strstr(err, "bogus"), "%s", err);
	cr_assert_eq(bus_parse_remote("nats://u:p@h:1", &b, run, err, sizeof err), -1);
	cr_assert(strstr(err, "no user or password"), "%s", err);
	cr_assert_eq(bus_parse_remote("/tmp/journal", &b, run, err, sizeof err), -1);
	cr_assert_not(bus_is_remote("/tmp/journal"));
}
