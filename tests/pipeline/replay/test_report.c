/*
 * Tests for pipeline/report.c: accounting, fees, round trips and metrics,
 * against values worked out by hand below.
 *
 * Instrument 1: px_scale 2, qty_scale 0, so a cash unit is 0.01 USD.
 *   t=0     quote 99.99 / 100.01
 *   t=1ms   buy 10 @ 100.00     notional 100000, fee ceil(100000*1000/1e6) = 100
 *   t=1.5ms quote 99.00 / 99.10
 *   t=2ms   sell 15 @ 101.00    notional 151500, fee ceil(151.5) = 152
 *           closes trade 1: gross -100000 + 101000 = 1000, fees 252, net 748: won
 *           opens trade 2 short 5: gross +50500
 *   t=2.5ms quote 101.90 / 102.00
 *   t=3ms   buy 5 @ 102.00      notional 51000, fee 51
 *           closes trade 2: gross 50500 - 51000 = -500, fees 51: lost
 *   cash 500, fees 303, net 197 = "1.97"; turnover 302500 = 3025.00
 * Equity samples (1 ms grid, each taken before the event at that time):
 *   0 at 0, 0 at 1ms, -11.00 at 2ms (long 10 marked at bid 99.00:
 *   -100000 + 99000 - 100 = -1100), final 1.97 at 3ms.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "gateway/position.h"
#include "pipeline/replay/report.h"

static struct report rep;

static void quote(int64_t t, int64_t bid, int64_t ask)
{
	union fks_event e;
	memset(&e, 0, sizeof e);
	e.h.type = FKS_EV_QUOTE;
	e.h.instrument = 1;
	e.h.event_time_ns = t;
	e.quote.bid_px = bid;
	e.quote.ask_px = ask;
	e.quote.bid_qty = e.quote.ask_qty = 1000;
	report_on_market(&rep, &e);
}

static void fill(int64_t t, uint8_t side, int64_t px, int64_t qty)
{
	struct fks_ev_fill f;
	memset(&f, 0, sizeof f);
	f.h.type = FKS_EV_FILL;
	f.h.instrument = 1;
	f.h.event_time_ns = t;
	f.px = px;
	f.qty = qty;
	report_on_fill(&rep, &f, side, 3);
}

static void run_script(uint32_t fee_ppm)
{
	struct report_params p = { .fee_ppm = fee_ppm, .n_instruments = 1 };
	p.instrument[0] = (struct report_instrument){ .id = 1, .symbol = "TEST", .px_scale = 2, .qty_scale = 0 };
	cr_assert_eq(report_init(&rep, &p), 0);
	quote(0, 9999, 10001);
	fill(1000000, FKS_SIDE_BUY, 10000, 10);
	quote(1500000, 9900, 9910);
	fill(2000000, FKS_SIDE_SELL, 10100, 15);
	quote(2500000, 10190, 10200);
	fill(3000000, FKS_SIDE_BUY, 10200, 5);
	report_finish(&rep);
}

Test(report, exact_money_and_round_trips)
{
	run_script(1000);
	__int128 fees, net = report_net_cash(&rep, 1, &fees);
	cr_assert(net == 197);
	cr_assert(fees == 303);
	char buf[64];
	report_format_cash(&rep, 0, net, buf, sizeof buf);
	cr_assert_str_eq(buf, "1.97");
	report_format_cash(&rep, 0, -5, buf, sizeof buf);
	cr_assert_str_eq(buf, "-0.05");

	cr_assert_eq(rep.n_trades, 2);
	cr_assert(rep.trade[0].gross == 1000 && rep.trade[0].fees == 252 && !rep.trade[0].open);
	cr_assert_eq(rep.trade[0].side, FKS_SIDE_BUY);
	cr_assert(rep.trade[1].gross == -500 && rep.trade[1].fees == 51 && !rep.trade[1].open);
	cr_assert_eq(rep.trade[1].side, FKS_SIDE_SELL);
	cr_assert_eq(rep.trade[1].max_qty, 5);

	struct report_metrics m;
	report_metrics(&rep, -1, 0, &m);
	cr_assert_eq(m.fills, 3);
	cr_assert_eq(m.trades, 2);
	cr_assert_eq(m.wins, 1);
	cr_assert_float_eq(m.win_rate, 0.5, 1e-12);
	cr_assert_float_eq(m.net, 1.97, 1e-9);
	cr_assert_float_eq(m.fees, 3.03, 1e-9);
	cr_assert_float_eq(m.gross, 5.00, 1e-9);
	cr_assert_float_eq(m.turnover, 3025.00, 1e-9);
	cr_assert_float_eq(m.max_drawdown, 11.00, 1e-9);
	cr_assert_float_eq(m.exposure, 2.0 / 3.0, 1e-12);

	/* Sharpe and Sortino from the samples 0, 0, -11, 1.97 (dt 1 ms). */
	cr_assert_eq(rep.n_samples, 4);
	double r[3] = { 0, -11.0, 12.97 }, mean = (r[0] + r[1] + r[2]) / 3, var = 0, down = 0;
	for (int i = 0; i < 3; i++) {
		var += (r[i] - mean) * (r[i] - mean);
		down += r[i] < 0 ? r[i] * r[i] : 0;
	}
	double P = 365.25 * 86400 * 1000;
	cr_assert_float_eq(m.sharpe, mean / sqrt(var / 2) * sqrt(P), 1e-6 * fabs(m.sharpe));
	cr_assert_float_eq(m.sortino, mean / sqrt(down / 3) * sqrt(P), 1e-6 * fabs(m.sortino));
	double year = 365.25 * 86400e9, span = 3e6;
	cr_assert_float_eq(m.calmar, 1.97 * year / span / 11.0, 1e-6 * m.calmar);

	/* Filters: strategy 3 is everything, strategy 4 nothing. */
	report_metrics(&rep, 3, 1, &m);
	cr_assert_eq(m.fills, 3);
	report_metrics(&rep, 4, 0, &m);
	cr_assert_eq(m.fills, 0);
	report_free(&rep);
}

Test(report, zero_fee_and_open_position_marked_at_bid)
{
	struct report_params p = { .fee_ppm = 0, .n_instruments = 1 };
	p.instrument[0] = (struct report_instrument){ .id = 1, .symbol = "TEST", .px_scale = 2, .qty_scale = 0 };
	cr_assert_eq(report_init(&rep, &p), 0);
	quote(0, 9999, 10001);
	fill(10, FKS_SIDE_BUY, 10001, 2);
	quote(20, 10050, 10060);  /* long 2 marked at the bid: 2 * (100.50 - 100.01) = 0.98 */
	report_finish(&rep);
	__int128 fees, net = report_net_cash(&rep, 1, &fees);
	cr_assert(net == 98 && fees == 0);
	struct report_metrics m;
	report_metrics(&rep, -1, 0, &m);
	cr_assert_eq(m.trades, 0);
	cr_assert_eq(m.open_trades, 1);
	cr_assert_float_eq(m.exposure, 10.0 / 20.0, 1e-12);
	/* unknown instruments and sides are counted, not booked */
	struct fks_ev_fill f = { .h = { .type = FKS_EV_FILL, .instrument = 9 }, .px = 1, .qty = 1 };
	report_on_fill(&rep, &f, FKS_SIDE_BUY, 0);
	f.h.instrument = 1;
	report_on_fill(&rep, &f, FKS_SIDE_NONE, 0);
	cr_assert_eq(rep.unknown_fills, 2);
	/* and so is what gateway/position refuses: a negative price */
	f.px = -1;
	report_on_fill(&rep, &f, FKS_SIDE_BUY, 0);
	cr_assert_eq(rep.unknown_fills, 3);
	cr_assert_eq(rep.n_books, 1);
	cr_assert_eq(rep.book[0].pos.fills, 1);
	report_free(&rep);
}

Test(report, json_is_written)
{
	run_script(1000);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(report_write_json(&rep, f, "t"), 0);
	fclose(f);
	cr_assert_not_null(strstr(buf, "\"net_pnl_exact\": \"1.97\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"fees_exact\": \"3.03\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"gross\": \"10.00\", \"fees\": \"2.52\""), "%s", buf);
	free(buf);
	report_free(&rep);
}

/*
 * The live summary (gateway/position, one position per instrument) and the
 * report (one book per strategy and instrument, with its round trips) must
 * print the same realized P&L for the same fills.  One strategy, fee 1000
 * ppm, px_scale 2, so prices below are in cents:
 *   buy 3 @ 100.00     open long 3, cost 30000, fee ceil(30.0) = 30
 *   buy 2 @ 103.00     add: long 5, cost 50600, fee ceil(20.6) = 21
 *   sell 1 @ 105.00    partial close: cost out 50600 * 1 / 5 = 10120
 *                      (truncated), realized 10500 - 10120 = 380, fee 11
 *   sell 7 @ 101.00    closes 4 (the rest of the cost, 40480): realized
 *                      += 40400 - 40480 = -80, so 300; opens short 3 at
 *                      101.00; fee ceil(70.7) = 71
 *   buy 3 @ 99.00      closes the short: realized += 30300 - 29700 = 600
 * Flat: realized 900 = the cash taken in (-30000 - 20600 + 10500 + 70700 -
 * 29700), the round trips' gross 300 + 600, fees 163, net 737.
 */
Test(report, realized_pnl_matches_the_live_position_at_flat)
{
	static const struct { uint8_t side; int64_t px, qty; } fills[] = {
		{ FKS_SIDE_BUY, 10000, 3 },  { FKS_SIDE_BUY, 10300, 2 }, { FKS_SIDE_SELL, 10500, 1 },
		{ FKS_SIDE_SELL, 10100, 7 }, { FKS_SIDE_BUY, 9900, 3 },
	};
	struct report_params p = { .fee_ppm = 1000, .n_instruments = 1 };
	p.instrument[0] = (struct report_instrument){ .id = 1, .symbol = "TEST", .px_scale = 2, .qty_scale = 0 };
	cr_assert_eq(report_init(&rep, &p), 0);
	struct position live;
	position_init(&live);

	quote(0, 9999, 10001);
	for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++) {
		fill((int64_t)(i + 1) * 1000000, fills[i].side, fills[i].px, fills[i].qty);
		cr_assert_eq(position_on_fill(&live, fills[i].side, fills[i].px, fills[i].qty,
					      position_fee(fills[i].px, fills[i].qty, p.fee_ppm)), 0);
		cr_assert(report_realized_cash(&rep, 1) == live.realized, "after fill %zu", i);
	}
	report_finish(&rep);

	cr_assert_eq(live.qty, 0);
	cr_assert(live.realized == 900);
	cr_assert(live.fees == 163);
	cr_assert(report_realized_cash(&rep, 1) == 900);
	__int128 fees, net = report_net_cash(&rep, 1, &fees);
	cr_assert(fees == live.fees);
	cr_assert(net == live.realized - live.fees && net == 737);
	/* The round trips add up to the same realized P&L. */
	cr_assert_eq(rep.n_trades, 2);
	cr_assert(!rep.trade[0].open && !rep.trade[1].open);
	cr_assert(rep.trade[0].gross == 300 && rep.trade[1].gross == 600);
	cr_assert(rep.trade[0].fees + rep.trade[1].fees == 163);
	report_free(&rep);
}
