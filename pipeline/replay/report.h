/*
 * Backtest accounting and the report of `fks replay --report DIR`.
 *
 * Fed by the replay driver: every market event (for marks and time) and
 * every fill with the side and strategy of its order.  It keeps one "book"
 * per (strategy, instrument) pair and derives everything from the fills.
 *
 * Money is exact.  Each book is one struct position (gateway/position.h,
 * the module the live summary and risk use too), so a book's cash, fees,
 * turnover and realized P&L are the position module's, in "cash units",
 * 10^-(px_scale + qty_scale) of the quote currency, as 128-bit integers: a
 * fill of qty at px moves cash by exactly px * qty (minus for a buy, plus
 * for a sell).
 *   fee of a fill   ceil(px * qty * fee_ppm / 10^6) cash units, i.e. rounded
 *                   up (never in our favour) at the finest unit there is;
 *                   the default fee_ppm 1000 is 0.1% of notional
 *   gross P&L       realized + unrealized at the mark (= cash + position *
 *                   mark), where the mark is the bid for a long and the ask
 *                   for a short (what closing would get), or the last trade
 *                   price when no quote was seen
 *   net P&L         gross P&L - fees
 *   turnover        sum of px * qty over fills
 * Amounts are printed as exact decimals at px_scale + qty_scale places.
 *
 * Round trips ("trades"): a book's trade opens when its position leaves 0
 * and closes when it returns to 0.  A fill that flips the position closes
 * the trade with the part of its quantity that reaches 0 and opens the next
 * with the rest; its whole fee goes to the trade it closes.  A trade's gross
 * is the book's realized P&L gained between its open and its close (while
 * open: its cash flow so far, i.e. realized gained minus the open cost).
 * A trade is won
 * when its net (gross cash flow - fees) is > 0.  Trades still open at the
 * end are listed as open and not counted in the win rate.
 *
 * Time series: equity (net P&L) of every book is sampled on a grid of event
 * time, interval dt starting at 1 ms; when REPORT_SAMPLES samples are held,
 * every other one is dropped and dt doubles, so memory is bounded and the
 * grid stays uniform.  The first sample is at the first market event.
 * From the per-interval P&L changes r_i (currency, not returns on capital:
 * no capital is assumed, and every ratio below is scale-free), with
 * P = (365.25 * 86400 s) / dt intervals per year and risk-free rate 0:
 *   Sharpe       mean(r) / stdev(r) * sqrt(P)        (sample stdev, n - 1)
 *   Sortino      mean(r) / sqrt(sum(min(r,0)^2) / n) * sqrt(P)
 *   max drawdown max over samples of (running peak of equity - equity)
 *   Calmar       (net P&L * year / event-time span) / max drawdown
 *   exposure     share of the event-time span with a position open; for a
 *                set of books, summed exposed time / (books * span)
 * A ratio whose denominator is 0 is reported as 0.  These are doubles:
 * statistics, not money.
 *
 * Nothing here reads a clock; the output is a function of the calls, so two
 * identical replays write byte-identical reports.
 */
#ifndef FKS_PIPELINE_REPORT_H
#define FKS_PIPELINE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gateway/position.h"
#include "shm/event.h"

#define REPORT_MAX_INSTRUMENTS 64
#define REPORT_MAX_BOOKS 256
#define REPORT_SAMPLES 2048
#define REPORT_DEFAULT_FEE_PPM 1000u

struct report_instrument {
	uint32_t id;
	char symbol[FKS_SYMBOL_MAX + 1];
	uint8_t px_scale, qty_scale;
};

struct report_params {
	uint32_t fee_ppm;            /* fee per fill, ppm of notional */
	uint32_t n_instruments;
	struct report_instrument instrument[REPORT_MAX_INSTRUMENTS];
};

/* One round trip. */
struct report_trade {
	uint16_t strategy;
	uint32_t instrument;
	uint8_t side;                /* of the opening fill */
	bool open;                   /* still open at the end */
	int64_t entry_ns, exit_ns;
	int64_t max_qty;             /* largest absolute position during it */
	__int128 gross, fees;        /* cash units */
	__int128 realized_at_entry;  /* its book's realized P&L when it opened */
};

struct report_book {
	uint16_t strategy;
	uint32_t instrument;
	int inst;                    /* index into params.instrument */
	struct position pos;         /* qty, cash, fees, turnover, fills, realized */
	int64_t exposed_ns, open_since;
	int64_t trade;               /* index of its open trade, -1 none */
};

struct report_mark {
	int64_t bid, ask, last;
};

struct report {
	struct report_params p;
	struct report_mark mark[REPORT_MAX_INSTRUMENTS];
	uint32_t n_books;
	struct report_book book[REPORT_MAX_BOOKS];
	struct report_trade *trade;  /* grows */
	size_t n_trades, cap_trades;
	int64_t first_ns, last_ns;
	bool started;
	int64_t dt_ns, next_sample_ns;
	uint32_t n_samples;
	int64_t sample_ns[REPORT_SAMPLES];
	double *equity;              /* [REPORT_MAX_BOOKS][REPORT_SAMPLES] */
	uint64_t market_events;
	uint64_t unknown_fills;      /* fills not booked: instrument not in params,
					side not buy/sell, qty <= 0, px < 0, or a
					position beyond int64 */
	uint64_t books_full;         /* fills dropped: REPORT_MAX_BOOKS in use */
	bool oom;
};

/* Metrics of a set of books (all, one strategy, or one instrument). */
struct report_metrics {
	uint64_t fills, trades, wins, open_trades;
	double gross, fees, net, turnover; /* quote currency */
	double win_rate, sharpe, sortino, calmar, max_drawdown, exposure;
};

/* 0, or -1 (allocation failed, or params out of range). */
int report_init(struct report *r, const struct report_params *p);
void report_free(struct report *r);

void report_on_market(struct report *r, const union fks_event *md);
void report_on_fill(struct report *r, const struct fks_ev_fill *f, uint8_t side, uint16_t strategy);
/* Close the books at the last event time (takes the last sample). */
void report_finish(struct report *r);

/* Filter: strategy < 0 and instrument 0 mean any. */
void report_metrics(const struct report *r, int strategy, uint32_t instrument, struct report_metrics *m);

/* Exact net P&L of one instrument, summed over strategies, in cash units
 * (10^-(px_scale + qty_scale)); and its fees likewise. */
__int128 report_net_cash(const struct report *r, uint32_t instrument, __int128 *fees);

/* Exact realized P&L (gross of fees) of one instrument, summed over
 * strategies, in cash units: what gateway/position gives for its fills. */
__int128 report_realized_cash(const struct report *r, uint32_t instrument);

/* Format a cash amount of instrument index i as an exact decimal. */
void report_format_cash(const struct report *r, int inst, __int128 v, char *buf, size_t cap);

/* Write report.json and report.html into dir (created if missing).
 * 0, or -1 with a message in err. */
int report_write(const struct report *r, const char *dir, const char *title, char *err, size_t errlen);
int report_write_json(const struct report *r, FILE *f, const char *title);

#endif
