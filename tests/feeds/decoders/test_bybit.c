/*
 * Bybit decoder: the shared fixtures (values copied by hand), the real
 * XRPUSDT orderbook.500 recording against an independent naive replay,
 * gaps and resync, u == 1, and bad input.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/bybit.h"
#include "tests/feeds/decoders/venue_test_util.h"

static struct bybit *dec;
static struct feed_symtab *syms;
static struct sink out;

static uint64_t err_count(const char *name)
{
	const struct named_counter *c;
	size_t n = bybit_errors(dec, &c);
	return counter(c, n, name);
}

static uint64_t msg_count(const char *name)
{
	const struct named_counter *c;
	size_t n = bybit_counts(dec, &c);
	return counter(c, n, name);
}

static void setup_learning(void)
{
	dec = malloc(sizeof *dec);
	syms = malloc(sizeof *syms);
	cr_assert(dec && syms);
	feed_symtab_init(syms, true, 8, 8);
	cr_assert_eq(bybit_init(dec, syms), 0);
	memset(&out, 0, sizeof out);
}

static void teardown(void)
{
	free(dec);
	free(syms);
	free(out.ev);
}

static int decode_str(const char *s)
{
	return bybit_decode(dec, s, strlen(s), 42, collect, &out);
}

static int decode_file(const char *rel)
{
	size_t len;
	char *buf = slurp(rel, &len);
	int r = bybit_decode(dec, buf, len, 42, collect, &out);
	free(buf);
	return r;
}

/* ---- fixtures ----------------------------------------------------------- */

TestSuite(bybit_fixtures, .init = setup_learning, .fini = teardown);

Test(bybit_fixtures, snapshot_then_delta)
{
	cr_assert_eq(decode_file("bybit/ws_orderbook_snapshot.json"), 0);
	uint32_t id = feed_symtab_lookup(syms, "BTCUSDT", 7);
	const struct book_l2 *b = bybit_book(dec, id);
	cr_assert_not_null(b);
	/* b [["27450.00","0.500"],["27449.50","1.000"]],
	 * a [["27451.00","0.750"],["27451.50","0.900"]], u 123456789, ts 1709891679000 */
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->px, 2745000000000LL);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->qty, 50000000);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->px, 2745100000000LL);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->qty, 75000000);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 2);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_SELL), 2);
	cr_assert_eq(b->last_update_id, 123456789);
	cr_assert_not(b->stale);
	/* CLEAR, 4 SETs, one quote; all snapshot-flagged */
	cr_assert_eq(out.n, 6);
	cr_assert_eq(out.ev[0].book.action, FKS_BOOK_CLEAR);
	for (size_t i = 0; i < out.n; i++) {
		cr_assert(out.ev[i].h.flags & FKS_EVF_SNAPSHOT);
		cr_assert_eq(out.ev[i].h.event_time_ns, 1709891679000LL * 1000000);
		cr_assert_eq(out.ev[i].h.source, FKS_STAGE_FEED);
		cr_assert_eq(out.ev[i].h.instrument, id);
	}
	cr_assert_eq(out.ev[5].h.type, FKS_EV_QUOTE);
	cr_assert_eq(out.ev[5].quote.bid_px, 2745000000000LL);
	cr_assert_eq(out.ev[5].quote.ask_qty, 75000000);

	/* delta u 123456790: b 27450.00 -> 0.400; a 27451.00 -> 0 (deleted) */
	out.n = 0;
	cr_assert_eq(decode_file("bybit/ws_orderbook_delta.json"), 0);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->qty, 40000000);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->px, 2745150000000LL);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->qty, 90000000);
	cr_assert_eq(b->last_update_id, 123456790);
	cr_assert_eq(out.n, 3);
	cr_assert_eq(out.ev[0].book.action, FKS_BOOK_SET);
	cr_assert_eq(out.ev[0].book.update_id, 123456790);
	cr_assert_eq(out.ev[1].book.action, FKS_BOOK_DELETE);
	cr_assert_eq(out.ev[1].book.side, FKS_SIDE_SELL);
	cr_assert_eq(out.ev[1].book.px, 2745100000000LL);
	cr_assert_eq(out.ev[2].h.type, FKS_EV_QUOTE);
	cr_assert_eq(out.ev[2].h.flags, 0);
	cr_assert_eq(out.ev[2].h.event_time_ns, 1709891679500LL * 1000000);
	cr_assert_eq(msg_count("snapshot"), 1);
	cr_assert_eq(msg_count("delta"), 1);
}

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

Test(bybit_fixtures, public_trade)
{
	cr_assert_eq(decode_file("bybit/ws_public_trade.json"), 0);
	cr_assert_eq(out.n, 1);
	const struct fks_ev_trade *t = &out.ev[0].trade;
	/* "T": 1709891679000, "S": "Buy", "v": "0.010", "p": "27451.00",
	 * "i": "9dc75fca-4bdd-4773-9f78-6f5d7ab2a110" */
	cr_assert_eq(t->h.type, FKS_EV_TRADE);
	cr_assert_eq(t->h.event_time_ns, 1709891679000LL * 1000000);
	cr_assert_eq(t->h.recv_time_ns, 42);
	cr_assert_eq(t->px, 2745100000000LL);
	cr_assert_eq(t->qty, 1000000);
	cr_assert_eq(t->aggressor, FKS_SIDE_BUY);
	cr_assert_eq(t->trade_id, fnv1a64("9dc75fca-4bdd-4773-9f78-6f5d7ab2a110"));
	cr_assert_eq(msg_count("publicTrade"), 1);
}

Test(bybit_fixtures, tickers_are_not_handled_and_replies_are_counted)
{
	cr_assert_eq(decode_file("bybit/ws_ticker_linear.json"), JSON_E_UNKNOWN_TYPE);
	cr_assert_eq(err_count("unknown_type"), 1);
	cr_assert_eq(decode_str("{\"success\":true,\"ret_msg\":\"\",\"conn_id\":\"abc\",\"op\":\"subscribe\"}"), 0);
	cr_assert_eq(msg_count("response"), 1);
	cr_assert_eq(out.n, 0);
}

/* ---- the XRPUSDT orderbook.500 recording -------------------------------- */

/* Independent replay: find "b":[ and "a":[ in each line, read the
 * ["px","qty"] pairs by hand (px has exactly 4 decimals in this file, qty
 * none), keep plain arrays, sort at the end. */
struct naive {
	int64_t px[2][2000], qty[2][2000];
	int n[2];
};

static int64_t digits(const char *s, const char *end)
{
	int64_t v = 0;
	for (; s < end; s++)
		if (*s != '.') {
			cr_assert(*s >= '0' && *s <= '9');
			v = v * 10 + (*s - '0');
		}
	return v;
}

static void naive_side(struct naive *m, int side, const char *line, const char *key)
{
	const char *p = strstr(line, key);
	cr_assert_not_null(p);
	p += strlen(key);
	while (*p == '[') {
		const char *a = p + 2, *ae = strchr(a, '"');
		const char *q = ae + 3, *qe = strchr(q, '"');
		cr_assert_eq(ae - a, 6, "px with 4 decimals");
		int64_t px = digits(a, ae), qty = digits(q, qe);
		int i;
		for (i = 0; i < m->n[side] && m->px[side][i] != px; i++)
			;
		if (i == m->n[side]) {
			if (qty) {
				m->px[side][i] = px;
				m->qty[side][i] = qty;
				m->n[side]++;
			}
		} else if (qty) {
			m->qty[side][i] = qty;
		} else {
			m->n[side]--;
			m->px[side][i] = m->px[side][m->n[side]];
			m->qty[side][i] = m->qty[side][m->n[side]];
		}
		p = qe + 2;       /* past "] */
		if (*p == ',')
			p++;
	}
}

static void naive_line(struct naive *m, const char *line)
{
	if (strstr(line, "\"type\":\"snapshot\""))
		m->n[0] = m->n[1] = 0;
	naive_side(m, 0, line, "\"b\":[");
	naive_side(m, 1, line, "\"a\":[");
}

/* The best k levels of a side, best first, by selection. */
static int naive_top(const struct naive *m, int side, struct book_level *out, int k)
{
	int64_t bound = side ? 0 : INT64_MAX;   /* strictly worse than the previous pick */
	int got = 0;
	for (; got < k; got++) {
		int best = -1;
		for (int i = 0; i < m->n[side]; i++) {
			int64_t p = m->px[side][i];
			bool ok = side ? p > bound : p < bound;
			if (ok && (best < 0 || (side ? p < m->px[side][best] : p > m->px[side][best])))
				best = i;
		}
		if (best < 0)
			break;
		out[got] = (struct book_level){ m->px[side][best], m->qty[side][best] };
		bound = out[got].px;
	}
	return got;
}

static char *lines[64];
static size_t line_len[64], nlines;
static char *file;
static uint32_t xrp;

static void setup_ob500(void)
{
	setup_learning();
	feed_symtab_init(syms, false, 8, 8);
	xrp = feed_symtab_add(syms, "XRPUSDT", 7, 4, 0);
	size_t len;
	file = slurp("bybit/2024-12-01_XRPUSDT_ob500.data", &len);
	nlines = 0;
	char *save = NULL;
	for (char *l = strtok_r(file, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(nlines, 64);
		lines[nlines] = l;
		line_len[nlines++] = strlen(l);
	}
	/* README: a 500-level snapshot followed by 49 deltas */
	cr_assert_eq(nlines, 50);
}

static void teardown_ob500(void)
{
	free(file);
	teardown();
}

static void check_top10(const struct naive *m, const struct book_l2 *b)
{
	for (int side = 0; side < 2; side++) {
		struct book_level want[10], got[10];
		int nw = naive_top(m, side, want, 10);
		uint32_t ng = book_l2_top(b, side ? FKS_SIDE_SELL : FKS_SIDE_BUY, got, 10);
		cr_assert_eq(nw, 10);
		cr_assert_eq(ng, 10u);
		for (int i = 0; i < 10; i++) {
			cr_assert_eq(got[i].px, want[i].px, "side %d level %d", side, i);
			cr_assert_eq(got[i].qty, want[i].qty, "side %d level %d", side, i);
		}
		cr_assert_eq(book_l2_levels(b, side ? FKS_SIDE_SELL : FKS_SIDE_BUY), (uint32_t)m->n[side]);
	}
}

TestSuite(bybit_ob500, .init = setup_ob500, .fini = teardown_ob500);

Test(bybit_ob500, snapshot_by_hand_and_final_top10_against_a_naive_replay)
{
	static struct naive m;
	memset(&m, 0, sizeof m);
	cr_assert_eq(bybit_decode(dec, lines[0], line_len[0], 1, collect, &out), 0);
	const struct book_l2 *b = bybit_book(dec, xrp);
	/* first line: "b":[["1.9531","6203"],..., "a":[["1.9532","10480"],...,
	 * 500 levels a side, "u":20254869 */
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->px, 19531);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->qty, 6203);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->px, 19532);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->qty, 10480);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 500);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_SELL), 500);
	cr_assert_eq(b->last_update_id, 20254869);
	naive_line(&m, lines[0]);
	check_top10(&m, b);

	for (size_t i = 1; i < nlines; i++) {
		cr_assert_eq(bybit_decode(dec, lines[i], line_len[i], (int64_t)i, collect, &out), 0, "line %zu", i + 1);
		naive_line(&m, lines[i]);
	}
	cr_assert_eq(b->last_update_id, 20254918, "last line's u");
	check_top10(&m, b);
	cr_assert_not(b->stale);
	cr_assert_not(book_l2_crossed(b));
	cr_assert_eq(msg_count("snapshot"), 1);
	cr_assert_eq(msg_count("delta"), 49);
	const struct named_counter *c;
	size_t n = bybit_errors(dec, &c);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(c[i].n, 0, "error %s", c[i].name);

	/* the last quote event is the final top */
	for (size_t i = out.n; i-- > 0;)
		if (out.ev[i].h.type == FKS_EV_QUOTE) {
			cr_assert_eq(out.ev[i].quote.bid_px, book_l2_best(b, FKS_SIDE_BUY)->px);
			cr_assert_eq(out.ev[i].quote.ask_px, book_l2_best(b, FKS_SIDE_SELL)->px);
			cr_assert_eq(out.ev[i].quote.ask_qty, book_l2_best(b, FKS_SIDE_SELL)->qty);
			break;
		}
}

Test(bybit_ob500, lost_delta_is_a_gap_until_the_resubscribe_snapshot)
{
	static struct naive m;
	memset(&m, 0, sizeof m);
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(bybit_decode(dec, lines[i], line_len[i], 0, collect, &out), 0);
	/* line 11 (u 20254879) is lost */
	size_t before = out.n;
	cr_assert_eq(bybit_decode(dec, lines[11], line_len[11], 0, collect, &out), JSON_E_GAP);
	const struct book_l2 *b = bybit_book(dec, xrp);
	cr_assert(b->stale);
	cr_assert(bybit_needs_snapshot(dec, xrp));
	uint32_t ids[2];
	cr_assert_eq(bybit_pending_snapshots(dec, ids, 2), 1);
	cr_assert_eq(ids[0], xrp);
	cr_assert_eq(dec->resync_requests, 1);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 0, "no wrong book");
	cr_assert_eq(out.ev[before].book.action, FKS_BOOK_CLEAR);
	cr_assert(out.ev[before].h.flags & FKS_EVF_STALE);
	cr_assert_eq(out.ev[before + 1].h.type, FKS_EV_QUOTE);
	cr_assert(out.ev[before + 1].h.flags & FKS_EVF_STALE);
	cr_assert_eq(bybit_decode(dec, lines[12], line_len[12], 0, collect, &out), JSON_E_NOT_SYNCED);
	cr_assert_eq(err_count("gap"), 1);
	cr_assert_eq(err_count("not_synced"), 1);

	/* resubscribed: a snapshot again (the recording's own), then deltas */
	for (size_t i = 0; i < nlines; i++) {
		cr_assert_eq(bybit_decode(dec, lines[i], line_len[i], 0, collect, &out), 0, "line %zu", i + 1);
		naive_line(&m, lines[i]);
	}
	cr_assert_not(b->stale);
	cr_assert_not(bybit_needs_snapshot(dec, xrp));
	check_top10(&m, b);
	/* an old delta again is dropped, not applied */
	cr_assert_eq(bybit_decode(dec, lines[5], line_len[5], 0, collect, &out), JSON_E_STALE_UPDATE);
	check_top10(&m, b);
}

Test(bybit_ob500, delta_before_any_snapshot_is_refused)
{
	cr_assert_eq(bybit_decode(dec, lines[1], line_len[1], 0, collect, &out), JSON_E_NOT_SYNCED);
	cr_assert(bybit_needs_snapshot(dec, xrp));
	cr_assert_eq(out.n, 0);
}

TestSuite(bybit_sync, .init = setup_learning, .fini = teardown);

Test(bybit_sync, u_equal_one_is_a_snapshot)
{
	cr_assert_eq(decode_file("bybit/ws_orderbook_snapshot.json"), 0);
	const char *restart = "{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"delta\",\"ts\":1709891680000,"
			      "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"27000.00\",\"2\"]],\"a\":[[\"27001.00\",\"3\"]],\"u\":1,\"seq\":5}}";
	cr_assert_eq(decode_str(restart), 0);
	const struct book_l2 *b = bybit_book(dec, 1);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 1, "the old levels are gone");
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->px, 2700000000000LL);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->px, 2700100000000LL);
	cr_assert_eq(b->last_update_id, 1);
	const char *next = "{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"delta\",\"ts\":1709891680100,"
			   "\"data\":{\"s\":\"BTCUSDT\",\"b\":[],\"a\":[[\"27001.00\",\"0\"]],\"u\":2,\"seq\":6}}";
	cr_assert_eq(decode_str(next), 0);
	cr_assert_null(book_l2_best(b, FKS_SIDE_SELL));
}

/* ---- bad input ---------------------------------------------------------- */

TestSuite(bybit_bad, .init = setup_learning, .fini = teardown);

Test(bybit_bad, every_truncation_of_the_snapshot_fixture_is_an_error)
{
	size_t len;
	char *buf = slurp("bybit/ws_orderbook_snapshot.json", &len);
	size_t end = len;
	while (end > 0 && strchr(" \n\r\t", buf[end - 1]))
		end--;
	for (size_t n = 0; n < end; n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		int r = bybit_decode(dec, copy, n, 0, collect, &out);
		free(copy);
		cr_assert_lt(r, 0, "prefix of %zu bytes accepted", n);
	}
	cr_assert_eq(out.n, 0);
	cr_assert_gt(err_count("truncated"), 0);
	free(buf);
	cr_assert_eq(decode_file("bybit/ws_orderbook_snapshot.json"), 0, "the stream goes on");
}

Test(bybit_bad, reordered_keys_whitespace_and_unknown_keys)
{
	const char *m = "\n{ \"data\" : [ { \"BT\":false, \"i\" : \"2100000000007542\", \"p\":\"27451.00\" ,\n"
			"\t\"v\":\"0.010\", \"extra\": {\"p\": \"1\"}, \"S\":\"Sell\",\"s\":\"BTCUSDT\",\"T\":1709891679000} ],"
			" \"ts\" : 1709891679005, \"type\":\"snapshot\", \"topic\" : \"publicTrade.BTCUSDT\" }\r\n";
	cr_assert_eq(decode_str(m), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_eq(out.ev[0].trade.aggressor, FKS_SIDE_SELL);
	cr_assert_eq(out.ev[0].trade.trade_id, 2100000000007542ull, "numeric ids are kept");
	cr_assert_eq(out.ev[0].trade.px, 2745100000000LL);
}

struct bad_case {
	const char *msg;
	int err;
};

#define BOOK(data) "{\"topic\":\"orderbook.1.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1,\"data\":" data "}"
#define TRADE(t) "{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1,\"data\":[" t "]}"

Test(bybit_bad, each_malformation_has_its_reason)
{
	static const struct bad_case cases[] = {
		{ BOOK("{\"s\":\"BTCUSDT\",\"b\":[],\"a\":[]}"), JSON_E_MISSING_FIELD },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"a\":[]}"), JSON_E_MISSING_FIELD },
		{ BOOK("{\"u\":1,\"b\":[],\"a\":[]}"), JSON_E_MISSING_FIELD },
		{ BOOK("[1]"), JSON_E_WRONG_TYPE },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":\"x\",\"b\":[],\"a\":[]}"), JSON_E_BAD_NUMBER },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"b\":[[\"1\",\"2\"]],\"a\":{}}"), JSON_E_WRONG_TYPE },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"b\":[[\"1\",true]],\"a\":[]}"), JSON_E_WRONG_TYPE },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"b\":[[\"1\",\"2e3\"]],\"a\":[]}"), JSON_E_BAD_NUMBER },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"b\":[[\"1\",\"99999999999999999999\"]],\"a\":[]}"), JSON_E_NUMBER_OVERFLOW },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":99999999999999999999,\"b\":[],\"a\":[]}"), JSON_E_NUMBER_OVERFLOW },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"b\":[[\"1.000000001\",\"2\"]],\"a\":[]}"), JSON_E_PRECISION },
		{ BOOK("{\"s\":\"BTC\xe2\x82\",\"u\":1,\"b\":[],\"a\":[]}"), JSON_E_BAD_UTF8 },
		{ BOOK("{\"s\":\"BTCUSDT\",\"u\":1,\"b\":[[\"-1\",\"2\"]],\"a\":[]}"), JSON_E_BAD_VALUE },
		{ "{\"topic\":\"orderbook.1.BTCUSDT\",\"type\":\"partial\",\"data\":{}}", JSON_E_UNKNOWN_TYPE },
		{ "{\"topic\":\"orderbook.1.BTCUSDT\",\"type\":\"snapshot\"}", JSON_E_MISSING_FIELD },
		{ "{\"topic\":\"orderbook.1.BTCUSDT\",\"data\":{}}", JSON_E_MISSING_FIELD },
		{ "{\"topic\":17,\"data\":{}}", JSON_E_WRONG_TYPE },
		{ "{\"topic\":\"kline.1.BTCUSDT\",\"data\":[]}", JSON_E_UNKNOWN_TYPE },
		{ "{\"data\":[]}", JSON_E_MISSING_FIELD },
		{ TRADE("{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Up\",\"v\":\"1\",\"p\":\"1\",\"i\":\"x\"}"), JSON_E_BAD_VALUE },
		{ TRADE("{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\"}"), JSON_E_MISSING_FIELD },
		{ TRADE("{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"0\",\"p\":\"1\",\"i\":\"x\"}"), JSON_E_BAD_VALUE },
		{ TRADE("{\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\",\"i\":\"x\"}"), JSON_E_MISSING_FIELD },
		{ TRADE("{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\",\"i\":\"x\"},7"), JSON_E_WRONG_TYPE },
		{ TRADE("{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1e1\",\"i\":\"x\"}"), JSON_E_BAD_NUMBER },
		{ TRADE("{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"B\xc0\xafy\",\"v\":\"1\",\"p\":\"1\",\"i\":\"x\"}"), JSON_E_BAD_UTF8 },
		{ "{\"topic\":\"publicTrade.BTCUSDT\",\"data\":{}}", JSON_E_WRONG_TYPE },
		{ "{\"topic\":\"publicTrade.BTCUSDT\",\"data\":[", JSON_E_TRUNCATED },
		{ "{\"topic\":\"publicTrade.BTCUSDT\"]", JSON_E_BAD_JSON },
		{ "", JSON_E_TRUNCATED },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t before = out.n;
		int r = decode_str(cases[i].msg);
		cr_assert_eq(r, cases[i].err, "case %zu: %s gives %s", i, cases[i].msg, json_err_name(r));
		cr_assert_eq(out.n, before, "case %zu emitted", i);
	}
	cr_assert_eq(err_count("bad_utf8"), 2);
	cr_assert_eq(err_count("precision"), 1);
	cr_assert_eq(err_count("number_overflow"), 2);
	/* the first trade of a message with a bad second one was not emitted */
	cr_assert_eq(out.n, 0);
	cr_assert_eq(decode_file("bybit/ws_public_trade.json"), 0, "the stream goes on");
}

Test(bybit_bad, unknown_symbol_in_a_fixed_table)
{
	feed_symtab_init(syms, false, 8, 8);
	feed_symtab_add(syms, "XRPUSDT", 7, 4, 0);
	cr_assert_eq(decode_file("bybit/ws_public_trade.json"), JSON_E_UNKNOWN_SYMBOL);
	cr_assert_eq(decode_file("bybit/ws_orderbook_snapshot.json"), JSON_E_UNKNOWN_SYMBOL);
	cr_assert_eq(err_count("unknown_symbol"), 2);
	cr_assert_null(bybit_book(dec, 1));
}
