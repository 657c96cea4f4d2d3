#include "gateway/position.h"

#include <string.h>

#include "shm/event.h"

void position_init(struct position *p)
{
	memset(p, 0, sizeof *p);
}

__int128 position_fee(int64_t px, int64_t qty, uint32_t fee_ppm)
{
	__int128 notional = (__int128)px * qty;
	return (notional * fee_ppm + 999999) / 1000000;
}

#define POSITION_CASH_MAX ((__int128)(((unsigned __int128)1 << 127) - 1))

/* cost * part / whole, truncated toward zero as C division is, without
 * forming cost * part, which can pass 2^127 when cost is a large position's
 * cost (up to 2^126) and part a large quantity. */
static __int128 share_of(__int128 cost, int64_t part, int64_t whole)
{
	__int128 q = cost / whole, r = cost % whole;
	return q * part + r * part / whole;
}

int position_on_fill(struct position *p, uint8_t side, int64_t px, int64_t qty, __int128 fee)
{
	if ((side != FKS_SIDE_BUY && side != FKS_SIDE_SELL) || qty <= 0 || px < 0 || fee < 0 ||
	    (side == FKS_SIDE_BUY ? p->qty > INT64_MAX - qty : p->qty < INT64_MIN + qty)) {
		p->bad_fills++;
		return -1;
	}
	int s = side == FKS_SIDE_BUY ? 1 : -1;
	__int128 notional = (__int128)px * qty; /* < 2^126: both factors are int64 */
	int64_t held = p->qty < 0 ? -p->qty : p->qty;

	/* The running totals are 128-bit: refuse the fill that would carry one
	 * past its range rather than wrap (undefined in C).  Only a book of
	 * absurd prices and sizes gets near: 2^127 is 10^38 cash units. */
	if (p->turnover > POSITION_CASH_MAX - notional || p->fees > POSITION_CASH_MAX - fee) {
		p->bad_fills++;
		return -1;
	}

	p->fills++;
	p->fees += fee;
	p->turnover += notional;
	if (p->qty == 0 || (p->qty > 0) == (s > 0)) {
		p->open_cost += s * notional;
	} else {
		int64_t closed = qty < held ? qty : held;
		/* All of the cost when the position closes, so nothing is lost
		 * to the truncation of a partial close. */
		__int128 cost_out = closed == held ? p->open_cost : share_of(p->open_cost, closed, held);
		int sign_held = p->qty > 0 ? 1 : -1;

		p->realized += sign_held * (__int128)px * closed - cost_out;
		p->open_cost -= cost_out;
		if (qty > closed)
			p->open_cost += s * (__int128)px * (qty - closed);
	}
	p->qty += s * qty;
	return 0;
}

__int128 position_cash(const struct position *p)
{
	return p->realized - p->open_cost;
}

__int128 position_unrealized(const struct position *p, int64_t mark_px)
{
	return (__int128)p->qty * mark_px - p->open_cost;
}

int64_t position_avg_px(const struct position *p)
{
	if (p->qty == 0)
		return 0;
	return (int64_t)(p->open_cost / p->qty);
}
