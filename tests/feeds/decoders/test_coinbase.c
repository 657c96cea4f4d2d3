/*
 * Coinbase Advanced Trade decoder against the shared fixtures
 * ($FKS_SHARED/data/coinbase/ws_*.json).  Every expected value below is
 * copied by hand from those files (the comment says which) or written
 * literally; epoch seconds come from `date -u -d ... +%s`, not from the
 * decoder.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/coinbase.h"
#include "tests/feeds/decoders/venue_test_util.h"

#define RECV 777

/* 2026-04-07T14:30:00Z is 1775572200 s since the epoch. */
#define T_2026_04_07_143000 1775572200LL
#define NS 1000000000LL

static struct feed_symtab tab;
static struct coinbase dec;
static struct sink sink;
static uint32_t btc; /* BTC-USD: cents and 1e-8 BTC, Coinbase's increments */

static void setup(void)
{
	feed_symtab_init(&tab, false, 2, 8);
	btc = feed_symtab_add(&tab, "BTC-USD", 7, 2, 8);
	cr_assert_eq(btc, 1);
	cr_assert_eq(coinbase_init(&dec, &tab, 4, 64, 4096), 0);
	memset(&sink, 0, sizeof sink);
}

static void teardown(void)
{
	coinbase_free(&dec);
	free(sink.ev);
}

/* A fixture of data/coinbase/, malloc'ed (slurp). */
static char *load(const char *name, size_t *len)
{
	char rel[256];
	snprintf(rel, sizeof rel, "coinbase/%s", name);
	return slurp(rel, len);
}

static int feed(const char *msg, size_t len)
{
	return coinbase_decode(&dec, msg, len, RECV, collect, &sink);
}

static int feed_str(const char *msg)
{
	return feed(msg, strlen(msg));
}

static int feed_file(const char *name)
{
	size_t len;
	char *m = load(name, &len);
	int r = feed(m, len);
	free(m);
	return r;
}

static uint64_t counted(const char *name, bool errors)
{
	const struct named_counter *c;
	size_t n = errors ? coinbase_errors(&dec, &c) : coinbase_counts(&dec, &c);
	return counter(c, n, name);
}

static void check_hdr(const union fks_event *e, uint8_t type, int64_t t, uint16_t flags)
{
	cr_assert_eq(e->h.type, type, "type %u, want %u", e->h.type, type);
	cr_assert_eq(e->h.source, FKS_STAGE_FEED);
	cr_assert_eq(e->h.seq, 0);
	cr_assert_eq(e->h.instrument, btc);
	cr_assert_eq(e->h.recv_time_ns, RECV);
	cr_assert_eq(e->h.event_time_ns, t, "time %lld, want %lld", (long long)e->h.event_time_ns,
		     (long long)t);
	cr_assert_eq(e->h.flags, flags, "flags %#x, want %#x", e->h.flags, flags);
}

static void check_delta(const union fks_event *e, uint8_t side, uint8_t action, int64_t px,
			int64_t qty)
{
	cr_assert_eq(e->book.side, side);
	cr_assert_eq(e->book.action, action);
	cr_assert_eq(e->book.px, px, "px %lld want %lld", (long long)e->book.px, (long long)px);
	cr_assert_eq(e->book.qty, qty, "qty %lld want %lld", (long long)e->book.qty, (long long)qty);
}

static void check_quote(const union fks_event *e, int64_t bp, int64_t bq, int64_t ap, int64_t aq)
{
	cr_assert_eq(e->quote.bid_px, bp);
	cr_assert_eq(e->quote.bid_qty, bq);
	cr_assert_eq(e->quote.ask_px, ap);
	cr_assert_eq(e->quote.ask_qty, aq);
}

/* ---- timestamps -------------------------------------------------------- */

static int64_t t_of(const char *s)
{
	int64_t ns = -42;
	cr_assert_eq(coinbase_parse_time(s, strlen(s), &ns), 0, "%s should parse", s);
	return ns;
}

Test(coinbase_time, exact_nanoseconds)
{
	cr_assert_eq(t_of("2026-04-07T14:30:00.123456Z"), T_2026_04_07_143000 * NS + 123456000);
	cr_assert_eq(t_of("2026-04-07T14:30:00Z"), T_2026_04_07_143000 * NS);
	cr_assert_eq(t_of("2026-04-07T14:30:00.1Z"), T_2026_04_07_143000 * NS + 100000000);
	cr_assert_eq(t_of("2026-04-07T14:30:00.000000001Z"), T_2026_04_07_143000 * NS + 1);
	cr_assert_eq(t_of("2026-04-07T14:30:00.999999999z"), T_2026_04_07_143000 * NS + 999999999);
	/* the heartbeat's current_time form: space, 9 digits, numeric offset */
	cr_assert_eq(t_of("2026-04-07 14:30:10.000000000+00:00"), (T_2026_04_07_143000 + 10) * NS);
	/* offsets: 16:30+02:00 and 12:00-02:30 are 14:30 UTC */
	cr_assert_eq(t_of("2026-04-07T16:30:00+02:00"), T_2026_04_07_143000 * NS);
	cr_assert_eq(t_of("2026-04-07T12:00:00-02:30"), T_2026_04_07_143000 * NS);
	cr_assert_eq(t_of("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(t_of("2000-02-29T23:59:59Z"), 951868799LL * NS); /* a leap day */
	cr_assert_eq(t_of("2023-10-06T17:35:55.440295Z"), 1696613755LL * NS + 440295000);
}

Test(coinbase_time, malformed_is_refused)
{
	static const char *bad[] = {
		"", "2026-04-07", "2026-04-07T14:30:00", "2026-04-07T14:30:00.Z",
		"2026-04-07T14:30:00.1234567890Z", "2026-4-07T14:30:00Z", "2026-04-07X14:30:00Z",
		"2026-13-07T14:30:00Z", "2026-00-07T14:30:00Z", "2026-02-29T14:30:00Z",
		"2026-04-31T14:30:00Z", "2026-04-07T24:00:00Z", "2026-04-07T14:60:00Z",
		"2026-04-07T14:30:60Z", "2026-04-07T14:30:00+2:00", "2026-04-07T14:30:00+24:00",
		"2026-04-07T14:30:00Zjunk", "1969-12-31T23:59:59Z", "2262-04-11T23:47:17Z",
		"1970-01-01T00:00:00+00:01", "2026-04-07T14:30:0aZ", "+026-04-07T14:30:00Z",
		"2026-04-07T14:30:00.12 Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ns = -42;
		cr_assert_eq(coinbase_parse_time(bad[i], strlen(bad[i]), &ns), -1, "'%s' parsed",
			     bad[i]);
		cr_assert_eq(ns, -42);
	}
}

/* ---- the fixtures ------------------------------------------------------ */

TestSuite(coinbase, .init = setup, .fini = teardown);

/* ws_l2_data_snapshot.json: BTC-USD bids 68900.00/1.5, 68899.50/0.75,
 * 68899.00/2.3; offers 68901.00/0.5, 68901.50/1.2, 68902.00/0.8; all at
 * event_time 2026-04-07T14:30:00.123456Z. */
#define SNAP_T (T_2026_04_07_143000 * NS + 123456000)

static void check_snapshot_events(size_t first)
{
	const uint16_t S = FKS_EVF_SNAPSHOT;
	cr_assert_eq(sink.n, first + 8);
	const union fks_event *e = &sink.ev[first];
	check_hdr(&e[0], FKS_EV_BOOK_DELTA, SNAP_T, S);
	cr_assert_eq(e[0].book.action, FKS_BOOK_CLEAR);
	check_hdr(&e[1], FKS_EV_BOOK_DELTA, SNAP_T, S);
	check_delta(&e[1], FKS_SIDE_BUY, FKS_BOOK_SET, 6890000, 150000000);
	check_delta(&e[2], FKS_SIDE_BUY, FKS_BOOK_SET, 6889950, 75000000);
	check_delta(&e[3], FKS_SIDE_BUY, FKS_BOOK_SET, 6889900, 230000000);
	check_delta(&e[4], FKS_SIDE_SELL, FKS_BOOK_SET, 6890100, 50000000);
	check_delta(&e[5], FKS_SIDE_SELL, FKS_BOOK_SET, 6890150, 120000000);
	check_delta(&e[6], FKS_SIDE_SELL, FKS_BOOK_SET, 6890200, 80000000);
	for (int i = 1; i < 7; i++)
		check_hdr(&e[i], FKS_EV_BOOK_DELTA, SNAP_T, S);
	check_hdr(&e[7], FKS_EV_QUOTE, SNAP_T, FKS_EVF_LAST);
	check_quote(&e[7], 6890000, 150000000, 6890100, 50000000);
}

Test(coinbase, l2_snapshot_fixture)
{
	cr_assert_eq(feed_file("ws_l2_data_snapshot.json"), 0);
	check_snapshot_events(0);
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert_not_null(b);
	cr_assert_eq(b->bid.n, 3);
	cr_assert_eq(b->ask.n, 3);
	cr_assert_not(b->stale);
	cr_assert_eq(counted("l2_data.snapshot", false), 1);
}

/* ws_l2_data_update.json (sequence_num 1): bid 68900.00 -> 2.0, offer
 * 68901.00 -> 0 (deleted), at 2026-04-07T14:30:01.456789Z. */
Test(coinbase, l2_update_fixture_after_snapshot)
{
	cr_assert_eq(feed_file("ws_l2_data_snapshot.json"), 0);
	cr_assert_eq(feed_file("ws_l2_data_update.json"), 0);
	const int64_t t = (T_2026_04_07_143000 + 1) * NS + 456789000;
	cr_assert_eq(sink.n, 8 + 3);
	const union fks_event *e = &sink.ev[8];
	check_hdr(&e[0], FKS_EV_BOOK_DELTA, t, 0);
	check_delta(&e[0], FKS_SIDE_BUY, FKS_BOOK_SET, 6890000, 200000000);
	check_hdr(&e[1], FKS_EV_BOOK_DELTA, t, 0);
	check_delta(&e[1], FKS_SIDE_SELL, FKS_BOOK_DELETE, 6890100, 0);
	check_hdr(&e[2], FKS_EV_QUOTE, t, FKS_EVF_LAST);
	/* best offer is now the 68901.50 level of the snapshot */
	check_quote(&e[2], 6890000, 200000000, 6890150, 120000000);
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert_eq(b->ask.n, 2);
	cr_assert_eq(counted("l2_data.update", false), 1);
	cr_assert_eq(counted("gap", true), 0);
}

/* ws_market_trades.json: 995098700 BUY 0.0015 @ 68900.50 at 14:30:02.789012;
 * 995098701 SELL 0.05 @ 68900.00 at 14:30:02.800000. */
Test(coinbase, market_trades_fixture)
{
	cr_assert_eq(feed_file("ws_market_trades.json"), 0);
	cr_assert_eq(sink.n, 2);
	const union fks_event *e = sink.ev;
	check_hdr(&e[0], FKS_EV_TRADE, (T_2026_04_07_143000 + 2) * NS + 789012000, 0);
	cr_assert_eq(e[0].trade.px, 6890050);
	cr_assert_eq(e[0].trade.qty, 150000);
	cr_assert_eq(e[0].trade.trade_id, 995098700);
	cr_assert_eq(e[0].trade.aggressor, FKS_SIDE_BUY);
	check_hdr(&e[1], FKS_EV_TRADE, (T_2026_04_07_143000 + 2) * NS + 800000000, FKS_EVF_LAST);
	cr_assert_eq(e[1].trade.px, 6890000);
	cr_assert_eq(e[1].trade.qty, 5000000);
	cr_assert_eq(e[1].trade.trade_id, 995098701);
	cr_assert_eq(e[1].trade.aggressor, FKS_SIDE_SELL);
	cr_assert_eq(counted("market_trades", false), 1);
}

/* ws_ticker.json: best_bid 68900.00 x 1.5, best_ask 68901.00 x 0.5 at
 * timestamp 2026-04-07T14:30:03.000000Z. */
Test(coinbase, ticker_fixture)
{
	cr_assert_eq(feed_file("ws_ticker.json"), 0);
	cr_assert_eq(sink.n, 1);
	check_hdr(&sink.ev[0], FKS_EV_QUOTE, (T_2026_04_07_143000 + 3) * NS, FKS_EVF_LAST);
	check_quote(&sink.ev[0], 6890000, 150000000, 6890100, 50000000);
	cr_assert_eq(counted("ticker", false), 1);
}

/* ws_heartbeats.json: heartbeat_counter 42, no market data. */
Test(coinbase, heartbeats_fixture)
{
	cr_assert_eq(feed_file("ws_heartbeats.json"), 0);
	cr_assert_eq(sink.n, 0);
	cr_assert_eq(dec.last_heartbeat, 42);
	cr_assert_eq(counted("heartbeats", false), 1);
}

/* ---- sequence numbers -------------------------------------------------- */

static const char *l2_msg(char *buf, size_t cap, unsigned seq, const char *type,
			  const char *side, const char *px, const char *qty)
{
	snprintf(buf, cap,
		 "{\"channel\":\"l2_data\",\"client_id\":\"\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		 "\"sequence_num\":%u,\"events\":[{\"type\":\"%s\",\"product_id\":\"BTC-USD\","
		 "\"updates\":[{\"side\":\"%s\",\"event_time\":\"2026-04-07T14:30:05Z\","
		 "\"price_level\":\"%s\",\"new_quantity\":\"%s\"}]}]}",
		 seq, type, side, px, qty);
	return buf;
}

Test(coinbase, sequence_gap_marks_books_stale_until_a_snapshot)
{
	char m[1024];
	cr_assert_eq(feed_file("ws_l2_data_snapshot.json"), 0); /* sequence_num 0 */
	cr_assert_eq(feed_str(l2_msg(m, sizeof m, 1, "update", "bid", "68800.00", "1")), 0);
	cr_assert_not(dec.resync);
	/* 2 and 3 are lost */
	sink.n = 0;
	int rc = feed_str(l2_msg(m, sizeof m, 4, "update", "bid", "68700.00", "1"));
	cr_assert_eq(rc, JSON_E_GAP);
	cr_assert_eq(counted("gap", true), 1);
	cr_assert(dec.resync);
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert(b->stale);
	/* the update is still applied, flagged stale */
	cr_assert_eq(sink.n, 1);
	cr_assert_eq(sink.ev[0].h.flags, FKS_EVF_STALE | FKS_EVF_LAST);
	cr_assert_eq(b->bid.n, 5);
	/* a replayed or duplicate number is dropped */
	sink.n = 0;
	rc = feed_str(l2_msg(m, sizeof m, 4, "update", "bid", "68600.00", "1"));
	cr_assert_eq(rc, JSON_E_STALE_UPDATE);
	cr_assert_eq(sink.n, 0);
	cr_assert_eq(b->bid.n, 5);
	/* a snapshot makes the book good again */
	dec.resync = false;
	cr_assert_eq(feed_str(l2_msg(m, sizeof m, 5, "snapshot", "offer", "69000.00", "2")), 0);
	cr_assert_not(b->stale);
	cr_assert_eq(b->bid.n, 0);
	cr_assert_eq(b->ask.n, 1);
	cr_assert_eq(sink.ev[0].h.flags, FKS_EVF_SNAPSHOT);
	cr_assert_eq(sink.ev[0].book.action, FKS_BOOK_CLEAR);
	/* after a reconnect the numbers start again */
	coinbase_reconnect(&dec);
	cr_assert(b->stale);
	cr_assert_eq(feed_str(l2_msg(m, sizeof m, 0, "snapshot", "bid", "68000.00", "1")), 0);
	cr_assert_not(b->stale);
	cr_assert_eq(counted("gap", true), 1);
	cr_assert_eq(counted("stale_update", true), 1);
}

Test(coinbase, unknown_product_is_skipped_and_counted)
{
	char m[1024];
	const char *msg = l2_msg(m, sizeof m, 0, "snapshot", "bid", "1.00", "1");
	char *p = strstr(m, "BTC-USD");
	memcpy(p, "ETH-USD", 7);
	cr_assert_eq(feed_str(msg), 0);
	cr_assert_eq(sink.n, 0);
	cr_assert_eq(counted("unknown_symbol", true), 1);
}

/* ---- whitespace, key order, unknown keys ------------------------------ */

Test(coinbase, any_whitespace_key_order_and_unknown_keys)
{
	/* the update fixture, keys reversed, tabs and CRLFs, extra keys of every
	 * JSON type */
	const char *m =
		"\r\n\t{ \"events\" : [ { \"updates\" : [\n"
		"\t{\"new_quantity\":\"2.00000000\",\"price_level\":\"68900.00\",\"x\":{\"a\":[1,{}]},"
		"\"event_time\":\"2026-04-07T14:30:01.456789Z\",\"side\":\"bid\"} ],"
		"\"product_id\" : \"BTC-USD\", \"extra\": null, \"type\" : \"update\" } ] ,"
		"\"sequence_num\" : 1 , \"timestamp\":\"2026-04-07T14:30:01.456789Z\","
		"\"client_id\":\"\", \"new\": [true, false, 1.5e3, \"s\"], \"channel\" : \"l2_data\" }  \n";
	cr_assert_eq(feed_file("ws_l2_data_snapshot.json"), 0);
	sink.n = 0;
	cr_assert_eq(feed_str(m), 0);
	cr_assert_eq(sink.n, 2);
	check_delta(&sink.ev[0], FKS_SIDE_BUY, FKS_BOOK_SET, 6890000, 200000000);
	cr_assert_eq(sink.ev[0].h.event_time_ns, (T_2026_04_07_143000 + 1) * NS + 456789000);
	check_quote(&sink.ev[1], 6890000, 200000000, 6890100, 50000000);
}

/* ---- malformed input ------------------------------------------------- */

static void expect_error(const char *msg, int err, const char *name)
{
	uint64_t before = counted(name, true);
	size_t n0 = sink.n;
	int rc = feed_str(msg);
	cr_assert_eq(rc, err, "rc %d, want %d (%s) for %s", rc, err, name, msg);
	cr_assert_eq(counted(name, true), before + 1, "%s not counted", name);
	cr_assert_eq(sink.n, n0, "a bad message emitted events");
}

Test(coinbase, every_truncation_of_every_fixture_is_an_error)
{
	static const char *files[] = {"ws_l2_data_snapshot.json", "ws_l2_data_update.json",
				      "ws_market_trades.json", "ws_ticker.json",
				      "ws_heartbeats.json"};
	for (size_t f = 0; f < 5; f++) {
		size_t len;
		char *m = load(files[f], &len);
		while (len && (m[len - 1] == '\n' || m[len - 1] == ' '))
			len--;
		static char copy[8192];
		for (size_t cut = 0; cut < len; cut++) {
			memcpy(copy, m, cut); /* exact length: ASan sees an overread */
			int rc = feed(copy, cut);
			cr_assert_lt(rc, 0, "%s cut at %zu accepted", files[f], cut);
		}
		free(m);
	}
	cr_assert_eq(sink.n, 0);
	cr_assert_gt(counted("truncated", true), 0);
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert_eq(b->bid.n + b->ask.n, 0);
}

Test(coinbase, wrong_types)
{
	char m[1024];
	/* price as a JSON number */
	l2_msg(m, sizeof m, 0, "snapshot", "bid", "X", "1");
	char *p = strstr(m, "\"X\"");
	memcpy(p, "123", 3);
	expect_error(m, JSON_E_WRONG_TYPE, "wrong_type");
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":\"1\",\"events\":[]}",
		     CB_E_BAD_SEQUENCE, "bad_sequence");
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":1,\"events\":{}}",
		     JSON_E_WRONG_TYPE, "wrong_type");
	expect_error("{\"channel\":7,\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":2,\"events\":[]}",
		     JSON_E_WRONG_TYPE, "wrong_type");
	expect_error("[1,2,3]", JSON_E_BAD_JSON, "bad_json");
	expect_error("\"channel\"", JSON_E_BAD_JSON, "bad_json");
	expect_error("{\"channel\":\"market_trades\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":3,\"events\":[{\"trades\":[{\"trade_id\":\"1\","
		     "\"product_id\":\"BTC-USD\",\"price\":\"1.00\",\"size\":\"1\","
		     "\"side\":\"BUY\",\"time\":20260407}]}]}",
		     JSON_E_WRONG_TYPE, "wrong_type");
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":4,\"events\":[{\"type\":\"update\",\"product_id\":"
		     "\"BTC-USD\",\"updates\":[[\"bid\",\"1\",\"1\"]]}]}",
		     JSON_E_WRONG_TYPE, "wrong_type");
}

Test(coinbase, bad_numbers_huge_numbers_and_exponents)
{
	char m[1024];
	unsigned seq = 0;
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "99999999999999999999.00", "1"),
		     JSON_E_NUMBER_OVERFLOW, "number_overflow");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "68900.001", "1"),
		     JSON_E_PRECISION, "precision");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "6.89e4", "1"),
		     JSON_E_BAD_NUMBER, "bad_number");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "68900.00", "1E2"),
		     JSON_E_BAD_NUMBER, "bad_number");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "", "1"), JSON_E_BAD_NUMBER,
		     "bad_number");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", " 1", "1"), JSON_E_BAD_NUMBER,
		     "bad_number");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "-1.00", "1"), JSON_E_BAD_VALUE,
		     "bad_value");
	expect_error(l2_msg(m, sizeof m, seq++, "snapshot", "bid", "1.00", "-1"), JSON_E_BAD_VALUE,
		     "bad_value");
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":123456789012345678901234567890,\"events\":[]}",
		     CB_E_BAD_SEQUENCE, "bad_sequence");
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":1e3,\"events\":[]}",
		     CB_E_BAD_SEQUENCE, "bad_sequence");
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert_eq(b->bid.n + b->ask.n, 0, "no bad message touched the book");
}

Test(coinbase, bad_utf8)
{
	char m[1024];
	l2_msg(m, sizeof m, 0, "snapshot", "bid", "1.00", "1");
	char *p = strstr(m, "BTC-USD");
	p[3] = (char)0xff; /* never valid in UTF-8 */
	expect_error(m, JSON_E_BAD_UTF8, "bad_utf8");
	l2_msg(m, sizeof m, 1, "snapshot", "bid", "1.00", "1");
	p = strstr(m, "client_id\":\"");
	/* an overlong encoding of '/', and a lone continuation byte */
	const char *bads[] = {"\xc0\xaf", "\x80", "\xed\xa0\x80", "\xe2\x82"};
	for (size_t i = 0; i < 4; i++) {
		char w[1200];
		size_t at = (size_t)(p - m) + 12;
		snprintf(w, sizeof w, "%.*s%s%s", (int)at, m, bads[i], m + at);
		expect_error(w, JSON_E_BAD_UTF8, "bad_utf8");
	}
	/* valid multi-byte UTF-8 in an ignored string is fine */
	char w[1200];
	size_t at = (size_t)(p - m) + 12;
	snprintf(w, sizeof w, "%.*s%s%s", (int)at, m, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", m + at);
	cr_assert_eq(feed_str(w), 0);
}

Test(coinbase, missing_fields_bad_sides_and_times)
{
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":0,\"events\":[{\"type\":\"snapshot\",\"updates\":[]}]}",
		     JSON_E_MISSING_FIELD, "missing_field");
	expect_error("{\"timestamp\":\"2026-04-07T14:30:05Z\",\"sequence_num\":1,\"events\":[]}",
		     JSON_E_MISSING_FIELD, "missing_field");
	expect_error("{\"channel\":\"l2_data\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":2,\"events\":[{\"type\":\"snapshot\",\"product_id\":"
		     "\"BTC-USD\",\"updates\":[{\"side\":\"bid\",\"event_time\":"
		     "\"2026-04-07T14:30:05Z\",\"price_level\":\"1.00\"}]}]}",
		     JSON_E_MISSING_FIELD, "missing_field");
	expect_error("{\"channel\":\"ticker\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":3,\"events\":[{\"type\":\"update\",\"tickers\":"
		     "[{\"product_id\":\"BTC-USD\",\"best_bid\":\"1.00\"}]}]}",
		     JSON_E_MISSING_FIELD, "missing_field");
	char m[1024];
	expect_error(l2_msg(m, sizeof m, 4, "snapshot", "ask", "1.00", "1"), JSON_E_BAD_VALUE,
		     "bad_value");
	expect_error(l2_msg(m, sizeof m, 5, "sideways", "bid", "1.00", "1"), JSON_E_UNKNOWN_TYPE,
		     "unknown_type");
	l2_msg(m, sizeof m, 6, "snapshot", "bid", "1.00", "1");
	char *p = strstr(m, "\"event_time\":\"2026-04-07");
	memcpy(p + 19, "02-30", 5); /* 30 February */
	expect_error(m, CB_E_BAD_TIME, "bad_time");
	expect_error("{\"channel\":\"ticker\",\"timestamp\":\"yesterday\","
		     "\"sequence_num\":7,\"events\":[]}",
		     CB_E_BAD_TIME, "bad_time");
	expect_error("{\"channel\":\"level3\",\"timestamp\":\"2026-04-07T14:30:05Z\","
		     "\"sequence_num\":8,\"events\":[]}",
		     CB_E_UNKNOWN_CHANNEL, "unknown_channel");
	expect_error("{\"type\":\"error\",\"message\":\"failure to subscribe\"}",
		     CB_E_VENUE_ERROR, "venue_error");
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert_eq(b->bid.n + b->ask.n, 0);
}

Test(coinbase, a_rejected_update_makes_the_book_stale)
{
	char m[1024];
	cr_assert_eq(feed_file("ws_l2_data_snapshot.json"), 0);
	expect_error(l2_msg(m, sizeof m, 1, "update", "bid", "68900.001", "1"), JSON_E_PRECISION,
		     "precision");
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert(b->stale);
	cr_assert(dec.resync);
	cr_assert_eq(b->bid.n, 3, "book unchanged");
}

Test(coinbase, a_full_side_keeps_its_best_levels)
{
	char m[1024];
	unsigned seq = 0;
	/* max_levels is 64 per side: bids 100.00 down to 36.00 (65 levels) */
	for (unsigned i = 0; i <= 64; i++) {
		char px[32];
		snprintf(px, sizeof px, "%u.00", 100 - i);
		int rc = feed_str(l2_msg(m, sizeof m, seq++, i == 0 ? "snapshot" : "update", "bid",
					 px, "1"));
		cr_assert_eq(rc, i < 64 ? 0 : JSON_E_BOOK_FULL, "level %u rc %d", i, rc);
	}
	const struct book_l2 *b = coinbase_book(&dec, btc);
	cr_assert_eq(b->bid.n, 64);
	cr_assert_eq(b->bid.lv[0].px, 3700, "the worst kept is 37.00");
	cr_assert_not(b->stale, "levels beyond what we keep do not make the touch wrong");
	cr_assert_eq(counted("book_full", true), 1);
	/* a better level evicts the worst, with a delete event for it */
	sink.n = 0;
	cr_assert_eq(feed_str(l2_msg(m, sizeof m, seq++, "update", "bid", "100.50", "1")), 0);
	cr_assert_eq(b->bid.n, 64);
	cr_assert_eq(b->bid.lv[0].px, 3800);
	cr_assert_eq(sink.n, 3, "delete of 37.00, set of 100.50, quote");
}
