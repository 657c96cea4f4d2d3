/*
 * Binance decoder: the shared fixtures (values copied by hand from the
 * files), the futures book sync built at test time from the shared CSVs and
 * checked against a naive model book, gaps and resyncs, and bad input.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/binance.h"
#include "shm/fixed.h"
#include "tests/feeds/decoders/venue_test_util.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t count_type(const struct sink *s, unsigned type)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->ev[i].h.type == type;
	return n;
}

static uint64_t err_count(const struct binance *d, const char *name)
{
	const struct named_counter *c;
	size_t n = binance_errors(d, &c);
	return counter(c, n, name);
}

static uint64_t msg_count(const struct binance *d, const char *name)
{
	const struct named_counter *c;
	size_t n = binance_counts(d, &c);
	return counter(c, n, name);
}

static struct binance *dec;
static struct feed_symtab *syms;
static struct sink out;

/* Learning symbols at scales 8 and 8, like `fks feed decode`. */
static void setup_learning(void)
{
	dec = malloc(sizeof *dec);
	syms = malloc(sizeof *syms);
	cr_assert(dec && syms);
	feed_symtab_init(syms, true, 8, 8);
	cr_assert_eq(binance_init(dec, syms), 0);
	memset(&out, 0, sizeof out);
}

/* Fixed symbols: BTCUSDT at 2 and 3 decimals (its tick and lot). */
static void setup_fixed(void)
{
	setup_learning();
	feed_symtab_init(syms, false, 8, 8);
	cr_assert_eq(feed_symtab_add(syms, "BTCUSDT", 7, 2, 3), 1);
}

static void teardown(void)
{
	free(dec);
	free(syms);
	free(out.ev);
}

static int decode_str(const char *s)
{
	return binance_decode(dec, s, strlen(s), 42, collect, &out);
}

static int decode_file(const char *rel)
{
	size_t len;
	char *buf = slurp(rel, &len);
	int r = binance_decode(dec, buf, len, 42, collect, &out);
	free(buf);
	return r;
}

/* ---- the shared fixtures ------------------------------------------------ */

TestSuite(binance_fixtures, .init = setup_learning, .fini = teardown);

Test(binance_fixtures, spot_trade_in_combined_stream)
{
	cr_assert_eq(decode_file("binance/ws_spot_trade.json"), 0);
	cr_assert_eq(out.n, 1);
	const struct fks_ev_trade *t = &out.ev[0].trade;
	/* ws_spot_trade.json: "s":"ETHUSDT","t":705291099,"p":"4149.74000000",
	 * "q":"0.43870000","T":1639351062243,"m":true */
	cr_assert_eq(t->h.type, FKS_EV_TRADE);
	cr_assert_eq(t->h.source, FKS_STAGE_FEED);
	cr_assert_eq(t->h.seq, 0);
	cr_assert_eq(t->h.instrument, feed_symtab_lookup(syms, "ETHUSDT", 7));
	cr_assert_eq(t->h.recv_time_ns, 42);
	cr_assert_eq(t->h.event_time_ns, 1639351062243LL * 1000000);
	cr_assert_eq(t->px, 414974000000LL);
	cr_assert_eq(t->qty, 43870000);
	cr_assert_eq(t->trade_id, 705291099);
	cr_assert_eq(t->aggressor, FKS_SIDE_SELL, "buyer is maker: the seller hit the bid");
	cr_assert_eq(msg_count(dec, "trade"), 1);
}

Test(binance_fixtures, spot_agg_trade)
{
	cr_assert_eq(decode_file("binance/ws_spot_agg_trade.json"), 0);
	cr_assert_eq(out.n, 1);
	const struct fks_ev_trade *t = &out.ev[0].trade;
	/* "a":226532,"p":"1632.46000000","q":"0.34305000","T":1675759520847,"m":false */
	cr_assert_eq(t->h.type, FKS_EV_TRADE);
	cr_assert_eq(t->px, 163246000000LL);
	cr_assert_eq(t->qty, 34305000);
	cr_assert_eq(t->trade_id, 226532);
	cr_assert_eq(t->h.event_time_ns, 1675759520847LL * 1000000);
	cr_assert_eq(t->aggressor, FKS_SIDE_BUY);
	cr_assert_eq(msg_count(dec, "aggTrade"), 1);
}

Test(binance_fixtures, spot_book_ticker_without_event_type)
{
	cr_assert_eq(decode_file("binance/ws_spot_ticker_book.json"), 0);
	cr_assert_eq(out.n, 1);
	const struct fks_ev_quote *q = &out.ev[0].quote;
	/* "b":"4507.24000000","B":"2.35950000","a":"4507.25000000",
	 * "A":"2.84570000","T":1646199228121 */
	cr_assert_eq(q->h.type, FKS_EV_QUOTE);
	cr_assert_eq(q->bid_px, 450724000000LL);
	cr_assert_eq(q->bid_qty, 235950000);
	cr_assert_eq(q->ask_px, 450725000000LL);
	cr_assert_eq(q->ask_qty, 284570000);
	cr_assert_eq(q->h.event_time_ns, 1646199228121LL * 1000000);
	cr_assert_eq(msg_count(dec, "bookTicker"), 1);
}

Test(binance_fixtures, futures_book_ticker)
{
	cr_assert_eq(decode_file("binance/ws_futures_book_ticker.json"), 0);
	cr_assert_eq(out.n, 1);
	const struct fks_ev_quote *q = &out.ev[0].quote;
	/* "s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000",
	 * "A":"40.66000000","T": 1568014460891 */
	cr_assert_eq(q->h.instrument, feed_symtab_lookup(syms, "BNBUSDT", 7));
	cr_assert_eq(q->bid_px, 2535190000LL);
	cr_assert_eq(q->bid_qty, 3121000000LL);
	cr_assert_eq(q->ask_px, 2536520000LL);
	cr_assert_eq(q->ask_qty, 4066000000LL);
	cr_assert_eq(q->h.event_time_ns, 1568014460891LL * 1000000);
}

Test(binance_fixtures, execution_reports_are_not_market_data)
{
	cr_assert_eq(decode_file("binance/ws_spot_execution_report_new.json"), JSON_E_UNKNOWN_TYPE);
	cr_assert_eq(decode_file("binance/ws_spot_execution_report_trade.json"), JSON_E_UNKNOWN_TYPE);
	cr_assert_eq(decode_file("binance/ws_spot_execution_report_canceled.json"), JSON_E_UNKNOWN_TYPE);
	cr_assert_eq(decode_file("binance/ws_spot_execution_report_rejected.json"), JSON_E_UNKNOWN_TYPE);
	cr_assert_eq(err_count(dec, "unknown_type"), 4);
	cr_assert_eq(out.n, 0);
	cr_assert_eq(decode_str("{\"result\":null,\"id\":1}"), 0);
	cr_assert_eq(msg_count(dec, "response"), 1);
}

TestSuite(binance_depth, .init = setup_fixed, .fini = teardown);

Test(binance_depth, futures_depth_fixture_after_a_snapshot)
{
	/* ws_futures_depth_update.json: U 390497796, u 390497878, pu 390497794.
	 * Before the snapshot it is buffered. */
	cr_assert_eq(decode_file("binance/ws_futures_depth_update.json"), 0);
	cr_assert(binance_needs_snapshot(dec, 1));
	uint32_t ids[4];
	cr_assert_eq(binance_pending_snapshots(dec, ids, 4), 1);
	cr_assert_eq(ids[0], 1);
	cr_assert_eq(out.n, 0);
	cr_assert(binance_book(dec, 1)->stale);

	/* A snapshot inside [U, u], with one bid the update leaves alone and
	 * one the update deletes ("7403.89","0.002" is a set, not a delete). */
	struct book_level bids[] = { { 740000, 1000 }, { 740389, 5 } };
	struct book_level asks[] = { { 741000, 7000 } };
	cr_assert_eq(binance_snapshot(dec, 1, 390497800, bids, 2, asks, 1, 7, collect, &out), 0);
	cr_assert_not(binance_needs_snapshot(dec, 1));
	const struct book_l2 *b = binance_book(dec, 1);
	cr_assert_not(b->stale);
	cr_assert_eq(b->last_update_id, 390497878);
	/* best bid "7405.43","2.562"; best ask "7405.96","3.340" */
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->px, 740543);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->qty, 2562);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->px, 740596);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->qty, 3340);
	cr_assert_eq(book_l2_qty(b, FKS_SIDE_BUY, 740389), 2, "7403.89 set to 0.002");
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 6);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_SELL), 6);

	/* Events: the snapshot (CLEAR + 3 SET + quote, flagged SNAPSHOT), then
	 * the replayed update: 10 level changes and one quote. */
	cr_assert_eq(out.ev[0].book.action, FKS_BOOK_CLEAR);
	cr_assert(out.ev[0].h.flags & FKS_EVF_SNAPSHOT);
	cr_assert_eq(count_type(&out, FKS_EV_BOOK_DELTA), 1 + 3 + 10);
	cr_assert_eq(count_type(&out, FKS_EV_QUOTE), 2);
	const union fks_event *last = &out.ev[out.n - 1];
	cr_assert_eq(last->h.type, FKS_EV_QUOTE);
	cr_assert_eq(last->quote.bid_px, 740543);
	cr_assert_eq(last->quote.ask_px, 740596);
	cr_assert_eq(last->h.event_time_ns, 1571889248276LL * 1000000, "T");
	cr_assert_eq(last->h.recv_time_ns, 42, "the buffered message's own receive time");
	cr_assert_eq(last->h.flags, 0);
	cr_assert_eq(out.ev[out.n - 2].book.update_id, 390497878);
}

Test(binance_depth, futures_precision_beyond_the_scale_is_an_error)
{
	feed_symtab_init(syms, false, 8, 8);
	feed_symtab_add(syms, "BTCUSDT", 7, 1, 3);  /* "7403.89" needs 2 */
	cr_assert_eq(decode_file("binance/ws_futures_depth_update.json"), JSON_E_PRECISION);
	cr_assert_eq(err_count(dec, "precision"), 1);
	cr_assert_null(binance_book(dec, 1), "nothing was applied or created");
}

/* Spot: U/u contiguous, drop u <= L, the first event straddles L+1. */
static char *spot_depth(uint64_t U, uint64_t u, const char *bid_px, const char *bid_q)
{
	static char buf[512];
	snprintf(buf, sizeof buf,
		 "{\"e\":\"depthUpdate\",\"E\":1700000000000,\"s\":\"BTCUSDT\",\"U\":%" PRIu64
		 ",\"u\":%" PRIu64 ",\"b\":[[\"%s\",\"%s\"]],\"a\":[]}",
		 U, u, bid_px, bid_q);
	return buf;
}

Test(binance_depth, spot_sync_drops_old_and_needs_a_straddling_first_event)
{
	cr_assert_eq(decode_str(spot_depth(1, 3, "100.00", "1.000")), 0);
	cr_assert_eq(decode_str(spot_depth(4, 6, "101.00", "2.000")), 0);
	cr_assert_eq(decode_str(spot_depth(7, 9, "102.00", "3.000")), 0);
	cr_assert_eq(dec->buffered, 3);
	cr_assert_eq(out.n, 0);
	struct book_level bids[] = { { 9900, 5000 } };
	cr_assert_eq(binance_snapshot(dec, 1, 5, bids, 1, NULL, 0, 0, collect, &out), 0);
	const struct book_l2 *b = binance_book(dec, 1);
	cr_assert_eq(dec->dropped_old, 1, "u=3 <= 5");
	cr_assert_eq(book_l2_qty(b, FKS_SIDE_BUY, 10000), 0, "dropped");
	cr_assert_eq(book_l2_qty(b, FKS_SIDE_BUY, 10100), 2000, "U=4 <= 6 <= u=6");
	cr_assert_eq(book_l2_qty(b, FKS_SIDE_BUY, 10200), 3000);
	cr_assert_eq(b->last_update_id, 9);
	cr_assert_eq(dec->npend, 0, "buffer emptied");
	/* live: U must be 10 */
	cr_assert_eq(decode_str(spot_depth(10, 10, "102.00", "0")), 0);
	cr_assert_eq(book_l2_qty(b, FKS_SIDE_BUY, 10200), 0);
	cr_assert_eq(decode_str(spot_depth(5, 10, "103.00", "1")), JSON_E_STALE_UPDATE);
	cr_assert_eq(decode_str(spot_depth(12, 13, "104.00", "1")), JSON_E_GAP, "11 is missing");
	cr_assert(b->stale);
	cr_assert(binance_needs_snapshot(dec, 1));
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 0, "no wrong book");
	cr_assert_eq(err_count(dec, "gap"), 1);
	cr_assert_eq(err_count(dec, "stale_update"), 1);
}

Test(binance_depth, spot_first_event_after_the_snapshot_must_not_skip)
{
	cr_assert_eq(decode_str(spot_depth(8, 9, "102.00", "3.000")), 0);
	uint64_t before = dec->resync_requests;
	cr_assert_eq(binance_snapshot(dec, 1, 5, NULL, 0, NULL, 0, 0, collect, &out), 0);
	/* 6 and 7 were never seen: U=8 > L+1 */
	cr_assert(binance_needs_snapshot(dec, 1));
	cr_assert_eq(dec->resync_requests, before + 1);
	cr_assert_eq(err_count(dec, "gap"), 1);
	cr_assert_eq(dec->npend, 1, "the event waits for the next snapshot");
	cr_assert_eq(binance_snapshot(dec, 1, 8, NULL, 0, NULL, 0, 0, collect, &out), 0);
	cr_assert_not(binance_needs_snapshot(dec, 1));
	cr_assert_eq(book_l2_qty(binance_book(dec, 1), FKS_SIDE_BUY, 10200), 3000);
}

Test(binance_depth, full_diff_buffer_is_counted_and_forces_a_resync)
{
	uint64_t u = 1;
	uint64_t before = dec->resync_requests;
	for (int i = 0; i < BINANCE_BUF_MSGS; i++, u++)
		cr_assert_eq(decode_str(spot_depth(u, u, "100.00", "1")), 0);
	cr_assert_eq(decode_str(spot_depth(u, u, "100.00", "2")), JSON_E_BUFFER_FULL);
	cr_assert_eq(err_count(dec, "buffer_full"), 1);
	cr_assert_eq(dec->npend, 1, "the old diffs went, the newest waits");
	cr_assert_gt(dec->resync_requests, before);
	cr_assert(binance_needs_snapshot(dec, 1));
	/* A snapshot older than the kept diff cannot be bridged: a gap. */
	cr_assert_eq(binance_snapshot(dec, 1, u - 5, NULL, 0, NULL, 0, 0, collect, &out), 0);
	cr_assert(binance_needs_snapshot(dec, 1));
	cr_assert_eq(binance_snapshot(dec, 1, u - 1, NULL, 0, NULL, 0, 0, collect, &out), 0);
	cr_assert_not(binance_needs_snapshot(dec, 1));
	cr_assert_eq(book_l2_qty(binance_book(dec, 1), FKS_SIDE_BUY, 10000), 2000);
}

Test(binance_depth, json_snapshot_body)
{
	const char *body = "{\n \"lastUpdateId\": 1027024, \"E\":1589436922972,\"T\":1589436922959,\n"
			   " \"bids\": [[\"4.00\",\"431.000\"]], \"asks\": [[\"4.02\",\"12.000\"],[\"4.03\",\"0\"]]}";
	cr_assert_eq(binance_snapshot_json(dec, "BTCUSDT", 7, body, strlen(body), 0, collect, &out), 0);
	const struct book_l2 *b = binance_book(dec, 1);
	cr_assert_eq(b->last_update_id, 1027024);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->px, 400);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->qty, 431000);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_SELL)->px, 402);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_SELL), 1, "qty 0 is no level");
	cr_assert_eq(msg_count(dec, "snapshot"), 1);
	cr_assert_eq(binance_snapshot_json(dec, "ETHUSDT", 7, body, strlen(body), 0, collect, &out),
		     JSON_E_UNKNOWN_SYMBOL);
	cr_assert_eq(binance_snapshot_json(dec, "BTCUSDT", 7, body, 20, 0, collect, &out),
		     JSON_E_TRUNCATED);
}

/* ---- the futures book from the shared CSVs ------------------------------ */

/* One CSV row: symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu */
struct row {
	int64_t ts;
	uint64_t first, last;
	int64_t pu;
	char side;
	char px[32], qty[32];
};

static size_t read_csv(const char *rel, struct row *rows, size_t cap)
{
	size_t len, n = 0;
	char *buf = slurp(rel, &len);
	char *save = NULL;
	char *line = strtok_r(buf, "\n", &save);   /* header */
	while ((line = strtok_r(NULL, "\n", &save)) && n < cap) {
		struct row *r = &rows[n];
		char sym[32], type[16];
		int got = sscanf(line, "%31[^,],%" SCNd64 ",%" SCNu64 ",%" SCNu64 ",%c,%15[^,],%31[^,],%31[^,],%" SCNd64,
				 sym, &r->ts, &r->first, &r->last, &r->side, type, r->px, r->qty, &r->pu);
		cr_assert_eq(got, 9, "bad CSV row: %s", line);
		n++;
	}
	free(buf);
	return n;
}

/* The independent model: unsorted arrays, linear search. */
struct model {
	int64_t px[2][4096], qty[2][4096];
	int n[2];
};

static void model_set(struct model *m, int side, int64_t px, int64_t qty)
{
	int s = side == FKS_SIDE_BUY ? 0 : 1;
	for (int i = 0; i < m->n[s]; i++) {
		if (m->px[s][i] != px)
			continue;
		if (qty) {
			m->qty[s][i] = qty;
		} else {
			m->n[s]--;
			m->px[s][i] = m->px[s][m->n[s]];
			m->qty[s][i] = m->qty[s][m->n[s]];
		}
		return;
	}
	if (qty) {
		m->px[s][m->n[s]] = px;
		m->qty[s][m->n[s]++] = qty;
	}
}

/* Every level of the model is in the book with its quantity, and the book
 * has no other level; and the best is the model's best. */
static void check_book(const struct model *m, const struct book_l2 *b)
{
	for (int s = 0; s < 2; s++) {
		uint8_t side = s ? FKS_SIDE_SELL : FKS_SIDE_BUY;
		cr_assert_eq(book_l2_levels(b, side), (uint32_t)m->n[s], "levels on side %d", side);
		int64_t best = 0;
		for (int i = 0; i < m->n[s]; i++) {
			cr_assert_eq(book_l2_qty(b, side, m->px[s][i]), m->qty[s][i]);
			if (!best || (s == 0 ? m->px[s][i] > best : m->px[s][i] < best))
				best = m->px[s][i];
		}
		if (m->n[s])
			cr_assert_eq(book_l2_best(b, side)->px, best);
	}
}

static int64_t fx(const char *s, unsigned scale)
{
	int64_t v;
	cr_assert_eq(fx_parse(s, strlen(s), scale, &v), FX_OK, "%s", s);
	return v;
}

/* A pretty-printed futures depthUpdate of rows[lo, hi), keys in another
 * order than Binance sends them, plus an unknown key. */
static size_t depth_json(char *buf, size_t cap, const struct row *rows, size_t lo, size_t hi,
			 uint64_t U, uint64_t u, int64_t pu, int64_t ts)
{
	size_t n = 0;
	n += (size_t)snprintf(buf + n, cap - n,
			      "{\n  \"a\" : [");
	int first = 1;
	for (size_t i = lo; i < hi; i++)
		if (rows[i].side == 'a') {
			n += (size_t)snprintf(buf + n, cap - n, "%s\n    [ \"%s\", \"%s\" ]", first ? "" : ",",
					      rows[i].px, rows[i].qty);
			first = 0;
		}
	n += (size_t)snprintf(buf + n, cap - n, "\n  ],\n  \"b\":[");
	first = 1;
	for (size_t i = lo; i < hi; i++)
		if (rows[i].side == 'b') {
			n += (size_t)snprintf(buf + n, cap - n, "%s[\"%s\",\"%s\"]", first ? "" : ",",
					      rows[i].px, rows[i].qty);
			first = 0;
		}
	n += (size_t)snprintf(buf + n, cap - n,
			      "],\n\t\"pu\": %" PRId64 ", \"u\": %" PRIu64 ", \"U\": %" PRIu64
			      ",\r\n  \"s\": \"BTCUSDT\", \"x-unknown\": {\"nested\": [1, 2, {\"s\": \"ETHUSDT\"}]},"
			      " \"T\": %" PRId64 ", \"E\": %" PRId64 ", \"e\": \"depthUpdate\" }\n",
			      pu, u, U, ts, ts + 1);
	cr_assert_lt(n, cap);
	return n;
}

static struct row snap_rows[200], upd_rows[200];
static size_t nsnap, nupd;
static struct model *model;

static void setup_csv(void)
{
	setup_fixed();
	nsnap = read_csv("binance/btcusdt-depth-snap.csv", snap_rows, 200);
	nupd = read_csv("binance/btcusdt-depth-update.csv", upd_rows, 200);
	/* README: a 100-row snapshot and 100 rows of diff updates */
	cr_assert_eq(nsnap, 100);
	cr_assert_eq(nupd, 100);
	model = calloc(1, sizeof *model);
}

static void teardown_csv(void)
{
	free(model);
	teardown();
}

static int snapshot_from_rows(uint64_t lid)
{
	static struct book_level bids[200], asks[200];
	uint32_t nb = 0, na = 0;
	for (size_t i = 0; i < nsnap; i++) {
		struct book_level l = { fx(snap_rows[i].px, 2), fx(snap_rows[i].qty, 3) };
		if (snap_rows[i].side == 'b')
			bids[nb++] = l;
		else
			asks[na++] = l;
		model_set(model, snap_rows[i].side == 'b' ? FKS_SIDE_BUY : FKS_SIDE_SELL, l.px, l.qty);
	}
	return binance_snapshot(dec, 1, lid, bids, nb, asks, na, 1, collect, &out);
}

static void model_rows(const struct row *rows, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		model_set(model, rows[i].side == 'b' ? FKS_SIDE_BUY : FKS_SIDE_SELL, fx(rows[i].px, 2),
			  fx(rows[i].qty, 3));
}

TestSuite(binance_csv, .init = setup_csv, .fini = teardown_csv);

Test(binance_csv, real_update_does_not_reach_back_to_the_real_snapshot)
{
	/* The CSVs: snapshot lastUpdateId 2098021528332 (10 minutes before
	 * the diff), one diff U 2098041693435 u 2098041696700 pu
	 * 2098041693400.  Everything between is missing: a gap, detected. */
	cr_assert_eq(snap_rows[0].first, 2098021528332ull);
	cr_assert_eq(upd_rows[0].first, 2098041693435ull);
	static char buf[32768];
	size_t len = depth_json(buf, sizeof buf, upd_rows, 0, nupd, upd_rows[0].first, upd_rows[0].last,
				upd_rows[0].pu, upd_rows[0].ts);
	cr_assert_eq(snapshot_from_rows(2098021528332ull), 0);
	const struct book_l2 *b = binance_book(dec, 1);
	check_book(model, b);
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->px, 2037700, "first CSV row: 20377.00");
	cr_assert_eq(book_l2_best(b, FKS_SIDE_BUY)->qty, 1770, "1.770");
	size_t before = out.n;
	cr_assert_eq(binance_decode(dec, buf, len, 5, collect, &out), JSON_E_GAP);
	cr_assert(b->stale);
	cr_assert(binance_needs_snapshot(dec, 1));
	cr_assert_eq(err_count(dec, "gap"), 1);
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY), 0);
	/* downstream hears it: a CLEAR and an empty quote, both STALE */
	cr_assert_eq(out.n, before + 2);
	cr_assert_eq(out.ev[before].book.action, FKS_BOOK_CLEAR);
	cr_assert(out.ev[before].h.flags & FKS_EVF_STALE);
	cr_assert_eq(out.ev[before + 1].h.type, FKS_EV_QUOTE);
	cr_assert_eq(out.ev[before + 1].quote.bid_px, 0);
	cr_assert(out.ev[before + 1].h.flags & FKS_EVF_STALE);
}

Test(binance_csv, sync_chain_gap_and_resync_against_a_model)
{
	static char buf[32768];
	const uint64_t U0 = upd_rows[0].first, u0 = upd_rows[0].last;
	const int64_t pu0 = upd_rows[0].pu;

	/* Subscribe first: the real diff arrives before the snapshot, and an
	 * older one (wholly before the snapshot) before it. */
	size_t len = depth_json(buf, sizeof buf, upd_rows, 0, 3, U0 - 100, pu0, pu0 - 100, upd_rows[0].ts - 100);
	cr_assert_eq(binance_decode(dec, buf, len, 1, collect, &out), 0);
	len = depth_json(buf, sizeof buf, upd_rows, 0, nupd, U0, u0, pu0, upd_rows[0].ts);
	cr_assert_eq(binance_decode(dec, buf, len, 2, collect, &out), 0);
	cr_assert_eq(dec->buffered, 2);
	cr_assert_eq(out.n, 0);

	/* The CSV snapshot, relabelled as if taken inside the diff's range
	 * (made up here: the real one is too old, see the test above). */
	cr_assert_eq(snapshot_from_rows(U0 + 10), 0);
	model_rows(upd_rows, 0, nupd);
	const struct book_l2 *b = binance_book(dec, 1);
	cr_assert_eq(dec->dropped_old, 1, "u < lastUpdateId");
	cr_assert_not(b->stale);
	cr_assert_eq(b->last_update_id, u0);
	check_book(model, b);
	cr_assert_gt(book_l2_levels(b, FKS_SIDE_SELL), 0, "asks come from the diff");

	/* Follow-on events chained by pu, made of the diff rows in chunks of
	 * 10 with the quantities changed. */
	static struct row mod[200];
	memcpy(mod, upd_rows, sizeof mod);
	uint64_t prev = u0;
	for (size_t k = 0; k < 5; k++) {
		for (size_t i = 10 * k; i < 10 * k + 10; i++)
			snprintf(mod[i].qty, sizeof mod[i].qty, "%d.%03d", (int)k, (int)(i * 7 % 1000));
		uint64_t U = prev + 3, u = prev + 9;   /* futures ids skip */
		len = depth_json(buf, sizeof buf, mod, 10 * k, 10 * k + 10, U, u, (int64_t)prev, 1667347200000 + (int64_t)k);
		cr_assert_eq(binance_decode(dec, buf, len, 10 + (int64_t)k, collect, &out), 0, "event %zu", k);
		model_rows(mod, 10 * k, 10 * k + 10);
		check_book(model, b);
		prev = u;
	}

	/* Event 6 is lost on the way (the venue applied it: the model too);
	 * event 7 reveals the gap, event 8 waits with it. */
	for (size_t i = 50; i < 60; i++)
		snprintf(mod[i].qty, sizeof mod[i].qty, "9.%03d", (int)i);
	uint64_t u6 = prev + 4;
	model_rows(mod, 50, 60);
	for (size_t i = 60; i < 80; i++)
		snprintf(mod[i].qty, sizeof mod[i].qty, "%d.500", (int)(i % 3));   /* some "0.500" */
	uint64_t u7 = u6 + 5, u8 = u7 + 5;
	len = depth_json(buf, sizeof buf, mod, 60, 70, u6 + 1, u7, (int64_t)u6, 1667347200010);
	uint64_t resyncs = dec->resync_requests;
	cr_assert_eq(binance_decode(dec, buf, len, 20, collect, &out), JSON_E_GAP);
	cr_assert(b->stale);
	cr_assert_eq(dec->resync_requests, resyncs + 1);
	cr_assert(binance_needs_snapshot(dec, 1));
	len = depth_json(buf, sizeof buf, mod, 70, 80, u7 + 1, u8, (int64_t)u7, 1667347200011);
	cr_assert_eq(binance_decode(dec, buf, len, 21, collect, &out), 0, "buffered");
	cr_assert_eq(book_l2_levels(b, FKS_SIDE_BUY) + book_l2_levels(b, FKS_SIDE_SELL), 0);
	cr_assert_eq(err_count(dec, "gap"), 1);

	/* The new snapshot: the venue's book after event 6, at u6. */
	static struct book_level bids[4096], asks[4096];
	uint32_t nb = 0, na = 0;
	for (int i = 0; i < model->n[0]; i++)
		bids[nb++] = (struct book_level){ model->px[0][i], model->qty[0][i] };
	for (int i = 0; i < model->n[1]; i++)
		asks[na++] = (struct book_level){ model->px[1][i], model->qty[1][i] };
	cr_assert_eq(binance_snapshot(dec, 1, u6, bids, nb, asks, na, 30, collect, &out), 0);
	model_rows(mod, 60, 80);
	cr_assert_not(b->stale);
	cr_assert_not(binance_needs_snapshot(dec, 1));
	cr_assert_eq(b->last_update_id, u8);
	check_book(model, b);
	cr_assert_eq(err_count(dec, "gap"), 1, "the replay found no new gap");

	/* and the final quote event says what the book says */
	const union fks_event *q = NULL;
	for (size_t i = out.n; i-- > 0;)
		if (out.ev[i].h.type == FKS_EV_QUOTE) {
			q = &out.ev[i];
			break;
		}
	cr_assert_not_null(q);
	cr_assert_eq(q->quote.bid_px, book_l2_best(b, FKS_SIDE_BUY)->px);
	cr_assert_eq(q->quote.ask_px, book_l2_best(b, FKS_SIDE_SELL)->px);
	cr_assert_eq(q->quote.ask_qty, book_l2_best(b, FKS_SIDE_SELL)->qty);
}

/* ---- bad input ---------------------------------------------------------- */

TestSuite(binance_bad, .init = setup_learning, .fini = teardown);

static const char trade_ok[] =
	"{\"e\":\"trade\",\"E\":1639351062244,\"s\":\"ETHUSDT\",\"t\":705291099,"
	"\"p\":\"4149.74000000\",\"q\":\"0.43870000\",\"T\":1639351062243,\"m\":true}";

Test(binance_bad, every_truncation_of_a_fixture_is_an_error_not_a_crash)
{
	size_t len;
	char *buf = slurp("binance/ws_futures_depth_update.json", &len);
	for (size_t n = 0; n < len; n++) {
		/* a trailing-whitespace cut is still the whole message */
		size_t end = len;
		while (end > 0 && strchr(" \n\r\t", buf[end - 1]))
			end--;
		if (n >= end)
			break;
		char *copy = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
		memcpy(copy, buf, n);
		int r = binance_decode(dec, copy, n, 0, collect, &out);
		free(copy);
		cr_assert_lt(r, 0, "prefix of %zu bytes accepted", n);
	}
	cr_assert_gt(err_count(dec, "truncated"), 0);
	free(buf);
	/* and the stream goes on */
	cr_assert_eq(decode_str(trade_ok), 0);
}

Test(binance_bad, reordered_keys_whitespace_and_unknown_keys_are_fine)
{
	const char *m = "\r\n{ \"m\" : true ,\n\t\"T\":1639351062243,\"q\":\"0.43870000\", \"zz\": [1,{\"p\":\"1\"}],"
			"\"p\" :\"4149.74000000\",\"t\": 705291099 ,\"s\":\"ETHUSDT\",\"e\":\"trade\" }  \n";
	cr_assert_eq(decode_str(m), 0);
	cr_assert_eq(decode_str(trade_ok), 0);
	cr_assert_eq(out.n, 2);
	cr_assert_eq(memcmp(&out.ev[0], &out.ev[1], 64), 0, "same event either way");
}

struct bad_case {
	const char *msg;
	int err;
};

Test(binance_bad, each_malformation_has_its_reason)
{
	static const struct bad_case cases[] = {
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_MISSING_FIELD },
		{ "{\"e\":\"trade\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_MISSING_FIELD },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1}", JSON_E_MISSING_FIELD },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":true,\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_WRONG_TYPE },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":[\"1\"],\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_WRONG_TYPE },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":\"true\"}", JSON_E_WRONG_TYPE },
		{ "{\"e\":\"trade\",\"s\":5,\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_WRONG_TYPE },
		{ "{\"e\":7,\"s\":\"ETHUSDT\"}", JSON_E_WRONG_TYPE },
		{ "{\"stream\":\"x\",\"data\":[1]}", JSON_E_WRONG_TYPE },
		{ "[1,2]", JSON_E_WRONG_TYPE },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"4.1e3\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_BAD_NUMBER },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":4.1E3,\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_BAD_NUMBER },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"abc\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_BAD_NUMBER },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1e9,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_BAD_NUMBER },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"99999999999999999999\",\"T\":1,\"m\":true}", JSON_E_NUMBER_OVERFLOW },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":123456789012345678901234,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_NUMBER_OVERFLOW },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":99999999999999999,\"m\":true}", JSON_E_NUMBER_OVERFLOW },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1.000000001\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_PRECISION },
		{ "{\"e\":\"trade\",\"s\":\"ETH\xc3\x28\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_BAD_UTF8 },
		{ "{\"e\":\"tr\xff\",\"s\":\"ETHUSDT\"}", JSON_E_BAD_UTF8 },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"0\",\"q\":\"1\",\"T\":1,\"m\":true}", JSON_E_BAD_VALUE },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"-1\",\"T\":1,\"m\":true}", JSON_E_BAD_VALUE },
		{ "{\"e\":\"kline\",\"s\":\"ETHUSDT\"}", JSON_E_UNKNOWN_TYPE },
		{ "{\"foo\":1}", JSON_E_UNKNOWN_TYPE },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true", JSON_E_TRUNCATED },
		{ "{\"e\":\"trade\" \"s\"}", JSON_E_BAD_JSON },
		{ "{\"e\":\"trade\",\"s\":\"ETHUSDT\"}}", JSON_E_BAD_JSON },
		{ "not json", JSON_E_BAD_JSON },
		{ "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":5,\"u\":4,\"b\":[],\"a\":[]}", JSON_E_BAD_VALUE },
		{ "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,\"u\":4,\"b\":[[\"1\"]],\"a\":[]}", JSON_E_WRONG_TYPE },
		{ "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,\"u\":4,\"b\":{},\"a\":[]}", JSON_E_WRONG_TYPE },
		{ "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,\"u\":4,\"b\":[]}", JSON_E_MISSING_FIELD },
		{ "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":-1,\"u\":4,\"b\":[],\"a\":[]}", JSON_E_BAD_NUMBER },
		{ "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,\"u\":4,\"b\":[[\"1e2\",\"1\"]],\"a\":[]}", JSON_E_BAD_NUMBER },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t before = out.n;
		int r = decode_str(cases[i].msg);
		cr_assert_eq(r, cases[i].err, "case %zu: %s gives %s", i, cases[i].msg, json_err_name(r));
		cr_assert_eq(out.n, before, "case %zu emitted", i);
	}
	/* counted by reason */
	cr_assert_eq(err_count(dec, "bad_utf8"), 2);
	cr_assert_eq(err_count(dec, "precision"), 1);
	cr_assert_eq(err_count(dec, "bad_number"), 6);
	cr_assert_eq(decode_str(trade_ok), 0, "the stream goes on");
}

Test(binance_bad, a_fixed_table_ignores_and_counts_unknown_symbols)
{
	feed_symtab_init(syms, false, 8, 8);
	feed_symtab_add(syms, "BTCUSDT", 7, 2, 3);
	cr_assert_eq(decode_str(trade_ok), JSON_E_UNKNOWN_SYMBOL);
	cr_assert_eq(err_count(dec, "unknown_symbol"), 1);
	cr_assert_eq(out.n, 0);
}

Test(binance_bad, a_message_bigger_than_the_token_array)
{
	size_t cap = 3 * 1024 * 1024, n = 0;
	char *m = malloc(cap);
	n += (size_t)sprintf(m, "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,\"u\":2,\"a\":[],\"b\":[");
	for (int i = 0; i < 4000; i++)
		n += (size_t)sprintf(m + n, "%s[\"%d\",\"1\"]", i ? "," : "", i + 1);
	n += (size_t)sprintf(m + n, "]}");
	cr_assert_eq(binance_decode(dec, m, n, 0, collect, &out), JSON_E_TOO_MANY_TOKENS);
	free(m);
	cr_assert_eq(err_count(dec, "too_many_tokens"), 1);
}
