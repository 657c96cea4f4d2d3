/*
 * Signals in (pipeline/bus/bus_signals.h): the parse and check of a signal
 * (each refusal its own counted kind), and the durable pull consumer
 * against a real nats-server -js on loopback, with a sink that journals
 * each order request in a real journal before it returns: a good signal is
 * journaled, then acknowledged; a malformed one is terminated and counted
 * and never reaches the sink; one the sink cannot take is delivered again
 * and journaled once.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "pipeline/bus/bus_signals.h"
#include "pipeline/journal/journal.h"
#include "tests/support/nats_test_server.h"

static struct fks_config cfg;

static void load_cfg(const char *url)
{
	char text[2048], err[1024];
	snprintf(text, sizeof text,
		 "stages: {feed: {core: 0}, strategy: {core: 0}, risk: {core: 0}, gateway: {core: 0}}\n"
		 "instruments:\n"
		 "  - {symbol: BTCUSDT, px_scale: 2, qty_scale: 6}\n"
		 "  - {symbol: ETHUSDT, px_scale: 2, qty_scale: 5}\n"
		 "strategy: {fast: 5, slow: 20, qty: 0.01}\n"
		 "risk: {max_order_qty: 1, max_notional: 100000, max_position: 5}\n"
		 "bus: {url: \"%s\"}\n", url);
	cr_assert_eq(config_load_string(text, strlen(text), "s.yaml", &cfg, err, sizeof err), 0, "%s", err);
}

static int parse(const char *json, struct fks_ev_order_new *ev, enum bus_signal_error *e)
{
	char why[256];
	return bus_signal_parse(json, strlen(json), &cfg, 42, ev, e, why, sizeof why);
}

Test(bus_signal_parse, limit_and_market_orders)
{
	load_cfg("nats://127.0.0.1:1");
	struct fks_ev_order_new ev;
	enum bus_signal_error e;
	cr_assert_eq(parse("{\"symbol\": \"ETHUSDT\", \"side\": \"sell\", \"qty\": \"0.25\", \"px\": 3000.5, "
			   "\"tif\": \"ioc\", \"stop_loss\": \"3100\", \"id\": \"abc\"}", &ev, &e), 0);
	cr_assert_eq(ev.h.type, FKS_EV_ORDER_NEW);
	cr_assert_eq(ev.h.instrument, cfg.instrument[1].id);
	cr_assert_eq(ev.side, FKS_SIDE_SELL);
	cr_assert_eq(ev.qty, 25000, "qty at the instrument's 5 decimals");
	cr_assert_eq(ev.px, 300050);
	cr_assert_eq(ev.stop_loss_px, 310000);
	cr_assert_eq(ev.tif, FKS_TIF_IOC);
	cr_assert_eq(ev.ord_type, FKS_ORD_LIMIT);
	cr_assert_eq(ev.signal_id, 42);
	cr_assert_eq(ev.order_id, 0, "the sink numbers orders");
	cr_assert_eq(parse("{\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"qty\":\"0.01\",\"type\":\"market\"}", &ev, &e), 0);
	cr_assert_eq(ev.ord_type, FKS_ORD_MARKET);
	cr_assert_eq(ev.tif, FKS_TIF_GTC);
	cr_assert_eq(ev.qty, 10000);
}

Test(bus_signal_parse, each_refusal_its_kind)
{
	load_cfg("nats://127.0.0.1:1");
	const struct { const char *json; enum bus_signal_error e; } bad[] = {
		{ "not json", SIG_BAD_JSON },
		{ "{\"symbol\": \"BTCUSDT\"} trailing", SIG_BAD_JSON },
		{ "{\"symbol\": {\"x\": 1}, \"side\": \"buy\", \"qty\": 1}", SIG_BAD_JSON },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\"}", SIG_MISSING_FIELD },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": 1}", SIG_MISSING_FIELD },
		{ "{\"symbol\": \"DOGE\", \"side\": \"buy\", \"qty\": 1, \"px\": 1}", SIG_UNKNOWN_SYMBOL },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"long\", \"qty\": 1, \"px\": 1}", SIG_BAD_SIDE },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": 1, \"px\": 1, \"type\": \"stop\"}", SIG_BAD_TYPE },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": 1, \"px\": 1, \"tif\": \"gtd\"}", SIG_BAD_TIF },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": \"-1\", \"px\": 1}", SIG_BAD_NUMBER },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": \"0.0000001\", \"px\": 1}", SIG_BAD_NUMBER },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": 1, \"px\": \"1.001\"}", SIG_BAD_NUMBER },
		{ "{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": 1, \"px\": 1, \"stop_los\": 2}", SIG_UNKNOWN_KEY },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fks_ev_order_new ev;
		enum bus_signal_error e = SIG_ERROR_COUNT;
		cr_assert_eq(parse(bad[i].json, &ev, &e), -1, "accepted: %s", bad[i].json);
		cr_assert_eq(e, bad[i].e, "%s: %s, expected %s", bad[i].json, bus_signal_error_name(e),
			     bus_signal_error_name(bad[i].e));
	}
	char big[5000];
	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[sizeof big - 1] = '}';
	struct fks_ev_order_new ev;
	enum bus_signal_error e;
	char why[128];
	cr_assert_eq(bus_signal_parse(big, sizeof big, &cfg, 1, &ev, &e, why, sizeof why), -1);
	cr_assert_eq(e, SIG_TOO_LARGE);
}

/* ---- against a real server ---------------------------------------------- */

static struct nats_test_server srv;

/* The stub sink: refuses the first `refuse` requests, journals the rest. */
struct journaling_sink {
	struct journal *j;
	int refuse;
	int calls;
	uint64_t signal_ids[16];
};

static int sink_submit(void *ctx, const struct fks_ev_order_new *ev)
{
	struct journaling_sink *s = ctx;
	s->signal_ids[s->calls++ % 16] = ev->signal_id;
	if (s->refuse > 0) {
		s->refuse--;
		return -1;
	}
	union fks_event u = { 0 };
	memcpy(&u, ev, sizeof *ev);
	if (journal_append(s->j, &u, NULL, 0) || journal_commit(s->j))
		return -1;
	return 0;
}

static void start_server(void)
{
	if (!nats_test_server_start(&srv))
		cr_skip_test("nats-server is not available (scripts/setup installs it)");
	load_cfg(srv.url);
}

static void stop_server(void) { nats_test_server_stop(&srv); }

static void publish_signals(const char *const *bodies, int n)
{
	natsConnection *nc;
	jsCtx *js;
	cr_assert_eq(natsConnection_ConnectTo(&nc, srv.url), NATS_OK);
	cr_assert_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	for (int i = 0; i < n; i++) {
		jsErrCode jerr = 0;
		jsPubAck *pa = NULL;
		cr_assert_eq(js_Publish(&pa, js, "fks.signals.v1", bodies[i], (int)strlen(bodies[i]), NULL, &jerr),
			     NATS_OK, "publish %d: %d", i, jerr);
		jsPubAck_Destroy(pa);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

static struct journal *scratch_journal(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/fks-test-signals-XXXXXX");
	cr_assert(mkdtemp(dir));
	rmdir(dir);
	static struct journal_meta meta;
	journal_meta_from_config(&meta, &cfg, "test");
	struct journal *j;
	char err[512];
	cr_assert_eq(journal_create(dir, &meta, NULL, &j, err, sizeof err), 0, "%s", err);
	return j;
}

/* Poll until want messages were handled, or tries polls of 200 ms. */
static int poll_until(struct bus_signals *s, int want, int tries)
{
	int got = 0;
	for (int i = 0; i < tries && got < want; i++) {
		int n = bus_signals_poll(s, 16, 200);
		cr_assert_geq(n, 0, "%s", bus_signals_error(s));
		got += n;
	}
	return got;
}

Test(bus_signals, journaled_then_acked_bad_ones_terminated_and_counted, .init = start_server, .fini = stop_server)
{
	char dir[64], err[512];
	struct journaling_sink sink = { .j = scratch_journal(dir, sizeof dir) };
	struct bus_signals *s;
	cr_assert_eq(bus_signals_open(&cfg, (struct bus_signal_sink){ sink_submit, &sink }, &s, err, sizeof err), 0,
		     "%s", err);
	const char *bodies[] = {
		"{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": \"0.5\", \"px\": \"30000\"}",
		"{\"symbol\": \"BTCUSDT\", \"side\": \"buy\", \"qty\": ",
		"{\"symbol\": \"NOPE\", \"side\": \"buy\", \"qty\": 1, \"px\": 1}",
	};
	publish_signals(bodies, 3);
	cr_assert_eq(poll_until(s, 3, 50), 3);
	const struct bus_signals_stats *st = bus_signals_stats(s);
	cr_assert_eq(st->received, 3);
	cr_assert_eq(st->acked, 1);
	cr_assert_eq(st->terminated, 2);
	cr_assert_eq(st->err[SIG_BAD_JSON], 1);
	cr_assert_eq(st->err[SIG_UNKNOWN_SYMBOL], 1);
	cr_assert_eq(sink.calls, 1, "a bad signal never reaches the sink");
	cr_assert_eq(sink.signal_ids[0], 1, "signal_id is the stream sequence");
	/* Nothing comes again: acknowledged and terminated are both final. */
	cr_assert_eq(poll_until(s, 1, 5), 0);
	bus_signals_close(s);
	/* The durable consumer remembers: a new consumer process sees nothing. */
	cr_assert_eq(bus_signals_open(&cfg, (struct bus_signal_sink){ sink_submit, &sink }, &s, err, sizeof err), 0);
	cr_assert_eq(poll_until(s, 1, 5), 0);
	bus_signals_close(s);
	journal_close(sink.j);
	struct journal_reader *r;
	struct journal_record rec;
	cr_assert_eq(journal_open_reader(dir, &r, err, sizeof err), 0, "%s", err);
	cr_assert_eq(journal_read(r, &rec), 1);
	cr_assert_eq(rec.ev.h.type, FKS_EV_ORDER_NEW);
	cr_assert_eq(rec.ev.order_new.qty, 500000);
	cr_assert_eq(rec.ev.order_new.px, 3000000);
	cr_assert_eq(journal_read(r, &rec), 0, "journaled once");
	journal_reader_close(r);
}

Test(bus_signals, not_acked_until_journaled, .init = start_server, .fini = stop_server)
{
	char dir[64], err[512];
	struct journaling_sink sink = { .j = scratch_journal(dir, sizeof dir), .refuse = 1 };
	struct bus_signals *s;
	cr_assert_eq(bus_signals_open(&cfg, (struct bus_signal_sink){ sink_submit, &sink }, &s, err, sizeof err), 0,
		     "%s", err);
	const char *bodies[] = { "{\"symbol\": \"ETHUSDT\", \"side\": \"sell\", \"qty\": 1, \"type\": \"market\"}" };
	publish_signals(bodies, 1);
	cr_assert_eq(poll_until(s, 2, 50), 2, "refused once, so delivered twice");
	const struct bus_signals_stats *st = bus_signals_stats(s);
	cr_assert_eq(st->naked, 1);
	cr_assert_eq(st->acked, 1);
	cr_assert_eq(sink.calls, 2);
	cr_assert_eq(sink.signal_ids[0], sink.signal_ids[1], "a redelivery keeps its signal_id");
	bus_signals_close(s);
	journal_close(sink.j);
}
