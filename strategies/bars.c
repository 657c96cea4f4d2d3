#include "strategies/bars.h"

#include <string.h>

int bars_init(struct bars *b, const struct bars_params *p)
{
	memset(b, 0, sizeof *b);
	if (p->kind == BARS_TIME) {
		if (p->interval_ns <= 0)
			return BARS_E_INTERVAL;
	} else if (p->kind == BARS_VOLUME) {
		if (p->threshold <= 0)
			return BARS_E_THRESHOLD;
	} else {
		return BARS_E_KIND;
	}
	b->p = *p;
	return BARS_OK;
}

const char *bars_strerror(int status)
{
	switch (status) {
	case BARS_OK: return "ok";
	case BARS_E_KIND: return "bar kind must be time or volume";
	case BARS_E_INTERVAL: return "time bar interval must be > 0 ns";
	case BARS_E_THRESHOLD: return "volume bar threshold must be > 0";
	}
	return "unknown bars status";
}

/* Start of the epoch-aligned interval holding t: t - (t mod interval) with
 * the modulus in [0, interval).  Saturates instead of overflowing at the far
 * ends of int64 time. */
static int64_t interval_start(int64_t t, int64_t interval)
{
	int64_t m = t % interval;
	int64_t start;

	if (m < 0)
		m += interval;
	if (__builtin_sub_overflow(t, m, &start))
		return INT64_MIN;
	return start;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static void emit(struct bars *b, struct bar *out)
{
	*out = b->cur;
	b->open = false;
	b->have_prev = true;
	b->prev_end = b->cur.end_ns;
	b->c.bars++;
}

/* Time bars: close the open bar if t is at or past its end. */
static bool close_if_ended(struct bars *b, int64_t t, struct bar *out)
{
	if (b->p.kind != BARS_TIME || !b->open || t < b->cur.end_ns)
		return false;
	emit(b, out);
	return true;
}

/* Make sure a bar is open for an update at time t. */
static void open_for(struct bars *b, int64_t t)
{
	if (b->p.kind == BARS_TIME) {
		if (b->open) {
			if (t < b->cur.start_ns)
				b->c.late++;
			return;
		}
		int64_t iv = b->p.interval_ns, start = interval_start(t, iv);

		/* Never reopen an interval already emitted: a late event
		 * goes into the next interval after it. */
		if (b->have_prev && start < b->prev_end) {
			b->c.late++;
			start = b->prev_end;
		}
		memset(&b->cur, 0, sizeof b->cur);
		b->cur.start_ns = start;
		b->cur.end_ns = sat_add(start, iv);
		if (b->have_prev)
			b->cur.skipped = (uint64_t)(((__int128)start - b->prev_end) / iv);
		b->open = true;
		return;
	}
	if (b->open) {
		if (t < b->cur.end_ns)
			b->c.late++;
		else
			b->cur.end_ns = t;
		return;
	}
	memset(&b->cur, 0, sizeof b->cur);
	b->cur.start_ns = t;
	b->cur.end_ns = t;
	b->open = true;
}

static void add_px(struct bar *cur, int64_t px)
{
	if (cur->updates == 0) {
		cur->open = cur->high = cur->low = px;
	} else {
		if (px > cur->high)
			cur->high = px;
		if (px < cur->low)
			cur->low = px;
	}
	cur->close = px;
	cur->updates++;
}

bool bars_time_advance(struct bars *b, int64_t t_ns, struct bar *out)
{
	return close_if_ended(b, t_ns, out);
}

bool bars_on_trade(struct bars *b, int64_t t_ns, int64_t px, int64_t qty, struct bar *out)
{
	if (qty <= 0) {
		b->c.bad_qty++;
		return close_if_ended(b, t_ns, out);
	}
	bool emitted = close_if_ended(b, t_ns, out);

	open_for(b, t_ns);
	add_px(&b->cur, px);
	if (__builtin_add_overflow(b->cur.volume, qty, &b->cur.volume)) {
		b->cur.volume = INT64_MAX;
		b->c.volume_saturated++;
	}
	b->cur.trades++;
	b->c.trades++;
	if (b->p.kind == BARS_VOLUME && b->cur.volume >= b->p.threshold) {
		emit(b, out);
		emitted = true;
	}
	return emitted;
}

bool bars_on_quote(struct bars *b, int64_t t_ns, int64_t bid, int64_t ask, struct bar *out)
{
	if (!b->p.use_quote_mids)
		return close_if_ended(b, t_ns, out);
	if (bid <= 0 || bid > ask) {
		b->c.bad_quotes++;
		return close_if_ended(b, t_ns, out);
	}
	bool emitted = close_if_ended(b, t_ns, out);

	/* Positive operands: the shift is floor((bid + ask) / 2), and the
	 * result lies in [bid, ask], so it fits int64. */
	int64_t mid = (int64_t)(((__int128)bid + ask) >> 1);

	open_for(b, t_ns);
	add_px(&b->cur, mid);
	b->c.mids++;
	return emitted;
}

bool bars_on_event(struct bars *b, const union fks_event *ev, struct bar *out)
{
	bool ours = b->p.instrument == 0 || ev->h.instrument == b->p.instrument;

	if (ours && ev->h.type == FKS_EV_TRADE)
		return bars_on_trade(b, ev->h.event_time_ns, ev->trade.px, ev->trade.qty, out);
	if (ours && ev->h.type == FKS_EV_QUOTE)
		return bars_on_quote(b, ev->h.event_time_ns, ev->quote.bid_px, ev->quote.ask_px, out);
	return bars_time_advance(b, ev->h.event_time_ns, out);
}

bool bars_flush(struct bars *b, struct bar *out)
{
	if (!b->open)
		return false;
	emit(b, out);
	return true;
}
