/*
 * Exact positions and P&L, in integers: one module for the live summary,
 * risk and the backtest report, so that they print the same numbers.
 *
 * Units: quantities at the instrument's qty scale, prices at its px scale,
 * and every cash amount (cost, realized, fees) in "cash units" = px * qty,
 * i.e. at scale px_scale + qty_scale, in 128 bits, with no rounding except
 * where stated.
 *
 * Average cost.  open_cost is the signed cash paid for the open quantity
 * (positive long, negative short).  A fill that adds to the position (or
 * opens one) adds its notional to it.  A fill that reduces it closes
 * c = min(fill qty, |qty|); the cost taken out is open_cost * c / |qty|
 * (truncated toward zero; all of it when c == |qty|, so nothing is ever
 * lost) and realized grows by the close's proceeds minus that cost.  What
 * is left of a fill that goes through zero opens the other side at its
 * price.  So at every flat point realized is exactly the cash taken in
 * since the start, which is what the report's round trips add up to, and
 * at all times
 *
 *     cash = realized - open_cost,   net = realized + unrealized(mark) - fees.
 *
 * Fees are charged per fill: ceil(notional * fee_ppm / 10^6)
 * (position_fee), the report's rule.
 */
#ifndef FKS_GATEWAY_POSITION_H
#define FKS_GATEWAY_POSITION_H

#include <stdint.h>

struct position {
	int64_t qty;                  /* signed: long > 0, short < 0 */
	__int128 open_cost;           /* cash paid for qty (signed like qty) */
	__int128 realized;            /* gross realized P&L, cash units */
	__int128 fees;                /* cash units, >= 0 */
	__int128 turnover;            /* sum of |px * qty| of every fill */
	uint64_t fills;
	uint64_t bad_fills;           /* refused: side not buy/sell, qty <= 0, px < 0, overflow */
};

void position_init(struct position *p);

/* Apply one fill (side enum fks_side).  fee is in cash units (see
 * position_fee).  Returns 0, or -1 for a bad fill, which is counted in
 * bad_fills and changes nothing else. */
int position_on_fill(struct position *p, uint8_t side, int64_t px, int64_t qty, __int128 fee);

/* The report's fee for one fill: ceil(px * qty * fee_ppm / 10^6). */
__int128 position_fee(int64_t px, int64_t qty, uint32_t fee_ppm);

/* Signed cash flow since the start: what the fills paid and received. */
__int128 position_cash(const struct position *p);

/* Open quantity valued at mark_px, minus its cost. */
__int128 position_unrealized(const struct position *p, int64_t mark_px);

/* Average entry price of the open quantity, truncated; 0 when flat. */
int64_t position_avg_px(const struct position *p);

#endif
