#include "pipeline/replay/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shm/fixed.h"

#define YEAR_NS (365.25 * 86400.0 * 1e9)
#define FIRST_DT_NS 1000000

static int inst_index(const struct report *r, uint32_t id)
{
	if (id >= 1 && id <= r->p.n_instruments && r->p.instrument[id - 1].id == id)
		return (int)id - 1;
	for (uint32_t i = 0; i < r->p.n_instruments; i++)
		if (r->p.instrument[i].id == id)
			return (int)i;
	return -1;
}

int report_init(struct report *r, const struct report_params *p)
{
	memset(r, 0, sizeof *r);
	if (p->n_instruments == 0 || p->n_instruments > REPORT_MAX_INSTRUMENTS)
		return -1;
	r->p = *p;
	r->equity = calloc((size_t)REPORT_MAX_BOOKS * REPORT_SAMPLES, sizeof *r->equity);
	if (!r->equity)
		return -1;
	r->dt_ns = FIRST_DT_NS;
	return 0;
}

void report_free(struct report *r)
{
	free(r->equity);
	free(r->trade);
	r->equity = NULL;
	r->trade = NULL;
}

static __int128 pow10_128(unsigned n)
{
	__int128 v = 1;
	while (n--)
		v *= 10;
	return v;
}

/* The price closing the book's position would get: the bid for a long, the
 * ask for a short, the last trade when no quote was seen. */
static int64_t mark_px(const struct report *r, const struct report_book *b)
{
	const struct report_mark *m = &r->mark[b->inst];
	int64_t px = b->pos.qty > 0 ? m->bid : m->ask;

	return px > 0 ? px : m->last;
}

/* Gross P&L at the mark, in cash units: realized + unrealized. */
static __int128 book_gross(const struct report *r, const struct report_book *b)
{
	return b->pos.realized + position_unrealized(&b->pos, mark_px(r, b));
}

static __int128 book_net(const struct report *r, const struct report_book *b)
{
	return book_gross(r, b) - b->pos.fees;
}

static double cash_to_double(const struct report *r, int inst, __int128 v)
{
	const struct report_instrument *ri = &r->p.instrument[inst];
	return (double)v / (double)pow10_128(ri->px_scale + ri->qty_scale);
}

static void take_sample(struct report *r, int64_t t)
{
	if (r->n_samples == REPORT_SAMPLES) {
		/* Keep every other sample and double the interval. */
		uint32_t k = 0;
		for (uint32_t i = 0; i < REPORT_SAMPLES; i += 2, k++) {
			r->sample_ns[k] = r->sample_ns[i];
			for (uint32_t b = 0; b < r->n_books; b++)
				r->equity[(size_t)b * REPORT_SAMPLES + k] = r->equity[(size_t)b * REPORT_SAMPLES + i];
		}
		r->n_samples = k;
		r->dt_ns *= 2;
		r->next_sample_ns = r->sample_ns[k - 1] + r->dt_ns;
		if (t < r->next_sample_ns)
			return;
	}
	uint32_t s = r->n_samples++;
	r->sample_ns[s] = t;
	for (uint32_t b = 0; b < r->n_books; b++)
		r->equity[(size_t)b * REPORT_SAMPLES + s] = cash_to_double(r, r->book[b].inst, book_net(r, &r->book[b]));
}

static void advance_time(struct report *r, int64_t t)
{
	if (!r->started) {
		r->started = true;
		r->first_ns = r->last_ns = t;
		take_sample(r, t);
		r->next_sample_ns = t + r->dt_ns;
		return;
	}
	if (t < r->last_ns)
		t = r->last_ns; /* time never runs backwards in the books */
	/* One sample per grid point passed; an idle stretch takes the equity
	 * unchanged at each point, which is what it was. */
	while (t >= r->next_sample_ns) {
		int64_t at = r->next_sample_ns;
		r->next_sample_ns += r->dt_ns;
		take_sample(r, at);
	}
	r->last_ns = t;
}

void report_on_market(struct report *r, const union fks_event *md)
{
	int i = inst_index(r, md->h.instrument);

	r->market_events++;
	/* Sample before the mark moves: a grid point's equity is the one that
	 * held up to it. */
	advance_time(r, md->h.event_time_ns);
	if (i < 0)
		return;
	if (md->h.type == FKS_EV_QUOTE) {
		r->mark[i].bid = md->quote.bid_px;
		r->mark[i].ask = md->quote.ask_px;
	} else if (md->h.type == FKS_EV_TRADE && md->trade.px > 0) {
		r->mark[i].last = md->trade.px;
	}
}

static struct report_book *find_book(struct report *r, uint16_t strategy, uint32_t instrument, int inst)
{
	for (uint32_t b = 0; b < r->n_books; b++)
		if (r->book[b].strategy == strategy && r->book[b].instrument == instrument)
			return &r->book[b];
	if (r->n_books == REPORT_MAX_BOOKS)
		return NULL;
	struct report_book *b = &r->book[r->n_books];
	memset(b, 0, sizeof *b);
	b->strategy = strategy;
	b->instrument = instrument;
	b->inst = inst;
	position_init(&b->pos);
	b->trade = -1;
	/* Its equity was 0 at every sample so far: calloc'd. */
	r->n_books++;
	return b;
}

static struct report_trade *new_trade(struct report *r, struct report_book *b, uint8_t side, int64_t t)
{
	if (r->n_trades == r->cap_trades) {
		size_t cap = r->cap_trades ? 2 * r->cap_trades : 256;
		struct report_trade *n = realloc(r->trade, cap * sizeof *n);
		if (!n) {
			r->oom = true;
			b->trade = -1;
			return NULL;
		}
		r->trade = n;
		r->cap_trades = cap;
	}
	struct report_trade *tr = &r->trade[r->n_trades];
	memset(tr, 0, sizeof *tr);
	tr->strategy = b->strategy;
	tr->instrument = b->instrument;
	tr->side = side;
	tr->open = true;
	tr->entry_ns = tr->exit_ns = t;
	tr->realized_at_entry = b->pos.realized;
	b->trade = (int64_t)r->n_trades++;
	return tr;
}

/* The round trips a fill of the book's position (before -> b->pos.qty)
 * moves: the trade it adds to, closes or opens, with its gross taken from
 * the position's realized P&L and cash, so that a trade's gross and the
 * book's realized P&L are the same sums. */
static void book_trades(struct report *r, struct report_book *b, int64_t before, uint8_t side,
			__int128 fee, int64_t t)
{
	int64_t after = b->pos.qty;
	int64_t abs_after = after < 0 ? -after : after;
	bool flipped = before != 0 && after != 0 && (before > 0) != (after > 0);
	struct report_trade *tr = b->trade >= 0 ? &r->trade[b->trade] : NULL;

	if (before == 0) {
		/* new_trade sets b->trade, -1 when out of memory. */
		tr = new_trade(r, b, side, t);
		if (tr)
			tr->fees += fee;
	} else if (tr) {
		tr->fees += fee; /* all of a flip's fee goes to the trade it closes */
		if (after == 0 || flipped) {
			tr->gross = b->pos.realized - tr->realized_at_entry;
			tr->open = false;
			tr->exit_ns = t;
			b->trade = -1;
			tr = NULL;
		}
	}
	if (flipped)
		tr = new_trade(r, b, side, t);
	if (tr) {
		/* Open: its cash flow so far (realized gained, less the open cost). */
		tr->gross = position_cash(&b->pos) - tr->realized_at_entry;
		if (abs_after > tr->max_qty)
			tr->max_qty = abs_after;
	}
}

void report_on_fill(struct report *r, const struct fks_ev_fill *f, uint8_t side, uint16_t strategy)
{
	int inst = inst_index(r, f->h.instrument);
	int64_t t = f->h.event_time_ns;

	/* What gateway/position refuses for a fresh book, refused before a book
	 * is made for it. */
	if (inst < 0 || f->qty <= 0 || f->px < 0 || (side != FKS_SIDE_BUY && side != FKS_SIDE_SELL)) {
		r->unknown_fills++;
		return;
	}
	advance_time(r, t);
	t = r->last_ns;

	struct report_book *b = find_book(r, strategy, f->h.instrument, inst);
	if (!b) {
		r->books_full++;
		return;
	}
	int64_t before = b->pos.qty;
	__int128 fee = position_fee(f->px, f->qty, r->p.fee_ppm);

	if (position_on_fill(&b->pos, side, f->px, f->qty, fee) != 0) {
		r->unknown_fills++; /* the position would leave int64 */
		return;
	}
	book_trades(r, b, before, side, fee, t);

	/* Exposure. */
	if (before == 0 && b->pos.qty != 0)
		b->open_since = t;
	else if (before != 0 && b->pos.qty == 0)
		b->exposed_ns += t - b->open_since;
}

void report_finish(struct report *r)
{
	if (!r->started)
		return;
	for (uint32_t b = 0; b < r->n_books; b++) {
		if (r->book[b].pos.qty != 0) {
			r->book[b].exposed_ns += r->last_ns - r->book[b].open_since;
			r->book[b].open_since = r->last_ns;
		}
	}
	for (size_t i = 0; i < r->n_trades; i++)
		if (r->trade[i].open)
			r->trade[i].exit_ns = r->last_ns;
	/* The last sample is the final state, even when a grid point fell on
	 * the last event time (it was taken before that event). */
	if (r->n_samples == 0 || r->sample_ns[r->n_samples - 1] != r->last_ns) {
		if (r->n_samples == REPORT_SAMPLES)
			r->n_samples--; /* the final state matters more than one grid point */
		r->n_samples++;
	}
	{
		uint32_t s = r->n_samples - 1;
		r->sample_ns[s] = r->last_ns;
		for (uint32_t b = 0; b < r->n_books; b++)
			r->equity[(size_t)b * REPORT_SAMPLES + s] =
				cash_to_double(r, r->book[b].inst, book_net(r, &r->book[b]));
	}
}

static bool book_in(const struct report_book *b, int strategy, uint32_t instrument)
{
	return (strategy < 0 || b->strategy == strategy) && (instrument == 0 || b->instrument == instrument);
}

static double set_equity(const struct report *r, int strategy, uint32_t instrument, uint32_t s)
{
	double e = 0;
	for (uint32_t b = 0; b < r->n_books; b++)
		if (book_in(&r->book[b], strategy, instrument))
			e += r->equity[(size_t)b * REPORT_SAMPLES + s];
	return e;
}

void report_metrics(const struct report *r, int strategy, uint32_t instrument, struct report_metrics *m)
{
	memset(m, 0, sizeof *m);
	uint32_t nb = 0;
	double exposed = 0;
	for (uint32_t i = 0; i < r->n_books; i++) {
		const struct report_book *b = &r->book[i];
		if (!book_in(b, strategy, instrument))
			continue;
		nb++;
		m->fills += b->pos.fills;
		m->gross += cash_to_double(r, b->inst, book_gross(r, b));
		m->fees += cash_to_double(r, b->inst, b->pos.fees);
		m->turnover += cash_to_double(r, b->inst, b->pos.turnover);
		exposed += (double)b->exposed_ns;
	}
	m->net = m->gross - m->fees;
	for (size_t i = 0; i < r->n_trades; i++) {
		const struct report_trade *t = &r->trade[i];
		if ((strategy >= 0 && t->strategy != strategy) || (instrument && t->instrument != instrument))
			continue;
		if (t->open) {
			m->open_trades++;
			continue;
		}
		m->trades++;
		if (t->gross - t->fees > 0)
			m->wins++;
	}
	m->win_rate = m->trades ? (double)m->wins / (double)m->trades : 0;
	double span = (double)(r->last_ns - r->first_ns);
	m->exposure = nb && span > 0 ? exposed / (nb * span) : 0;

	uint32_t n = r->n_samples;
	if (n >= 2) {
		double sum = 0, peak = set_equity(r, strategy, instrument, 0), mdd = 0, prev = peak;
		double *ret = malloc((n - 1) * sizeof *ret);
		if (!ret)
			return;
		/* Intervals: the grid's dt; the last one may be shorter, use the
		 * grid dt for annualisation (documented). */
		for (uint32_t s = 1; s < n; s++) {
			double e = set_equity(r, strategy, instrument, s);
			ret[s - 1] = e - prev;
			sum += ret[s - 1];
			prev = e;
			if (e > peak)
				peak = e;
			if (peak - e > mdd)
				mdd = peak - e;
		}
		double k = (double)(n - 1), mean = sum / k, var = 0, down = 0;
		for (uint32_t i = 0; i + 1 < n; i++) {
			var += (ret[i] - mean) * (ret[i] - mean);
			if (ret[i] < 0)
				down += ret[i] * ret[i];
		}
		free(ret);
		double periods = YEAR_NS / (double)r->dt_ns;
		double sd = k > 1 ? sqrt(var / (k - 1)) : 0, dd = sqrt(down / k);
		m->sharpe = sd > 0 ? mean / sd * sqrt(periods) : 0;
		m->sortino = dd > 0 ? mean / dd * sqrt(periods) : 0;
		m->max_drawdown = mdd;
		m->calmar = mdd > 0 && span > 0 ? (m->net * YEAR_NS / span) / mdd : 0;
	}
}

__int128 report_net_cash(const struct report *r, uint32_t instrument, __int128 *fees)
{
	__int128 net = 0, f = 0;
	for (uint32_t b = 0; b < r->n_books; b++) {
		if (r->book[b].instrument != instrument)
			continue;
		net += book_net(r, &r->book[b]);
		f += r->book[b].pos.fees;
	}
	if (fees)
		*fees = f;
	return net;
}

__int128 report_realized_cash(const struct report *r, uint32_t instrument)
{
	__int128 realized = 0;
	for (uint32_t b = 0; b < r->n_books; b++)
		if (r->book[b].instrument == instrument)
			realized += r->book[b].pos.realized;
	return realized;
}

void report_format_cash(const struct report *r, int inst, __int128 v, char *buf, size_t cap)
{
	unsigned scale = r->p.instrument[inst].px_scale + r->p.instrument[inst].qty_scale;
	char digits[64];
	int n = 0;
	bool neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;

	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u || n <= (int)scale);
	size_t o = 0;
	if (neg && o + 1 < cap)
		buf[o++] = '-';
	for (int i = n - 1; i >= 0 && o + 1 < cap; i--) {
		buf[o++] = digits[i];
		if (i == (int)scale && scale > 0 && o + 1 < cap)
			buf[o++] = '.';
	}
	buf[o] = 0;
}

/* ---- output -------------------------------------------------------------- */

static void json_metrics(FILE *f, const struct report_metrics *m)
{
	fprintf(f,
		"{\"fills\": %" PRIu64 ", \"trades\": %" PRIu64 ", \"wins\": %" PRIu64
		", \"open_trades\": %" PRIu64 ", \"win_rate\": %.10g, \"gross_pnl\": %.10g, \"fees\": %.10g"
		", \"net_pnl\": %.10g, \"turnover\": %.10g, \"sharpe\": %.10g, \"sortino\": %.10g"
		", \"calmar\": %.10g, \"max_drawdown\": %.10g, \"exposure\": %.10g}",
		m->fills, m->trades, m->wins, m->open_trades, m->win_rate, m->gross, m->fees, m->net, m->turnover,
		m->sharpe, m->sortino, m->calmar, m->max_drawdown, m->exposure);
}

static const char *side_name(uint8_t s)
{
	return s == FKS_SIDE_BUY ? "buy" : s == FKS_SIDE_SELL ? "sell" : "none";
}

/* Distinct strategy ids of the books, ascending. */
static uint32_t strategies_of(const struct report *r, uint16_t *out)
{
	uint32_t n = 0;
	for (uint32_t b = 0; b < r->n_books; b++) {
		uint16_t s = r->book[b].strategy;
		uint32_t i = 0;
		while (i < n && out[i] < s)
			i++;
		if (i < n && out[i] == s)
			continue;
		memmove(&out[i + 1], &out[i], (n - i) * sizeof *out);
		out[i] = s;
		n++;
	}
	return n;
}

int report_write_json(const struct report *r, FILE *f, const char *title)
{
	struct report_metrics m;
	char a[80], b[80];

	report_metrics(r, -1, 0, &m);
	fprintf(f, "{\n  \"title\": \"%s\",\n  \"first_event_ns\": %" PRId64 ",\n  \"last_event_ns\": %" PRId64
		   ",\n  \"market_events\": %" PRIu64 ",\n  \"fee_ppm\": %u,\n  \"sample_interval_ns\": %" PRId64
		   ",\n  \"total\": ",
		title, r->first_ns, r->last_ns, r->market_events, r->p.fee_ppm, r->dt_ns);
	json_metrics(f, &m);
	fprintf(f, ",\n  \"by_instrument\": [");
	bool first = true;
	for (uint32_t i = 0; i < r->p.n_instruments; i++) {
		const struct report_instrument *ri = &r->p.instrument[i];
		__int128 fees, net = report_net_cash(r, ri->id, &fees);
		report_metrics(r, -1, ri->id, &m);
		report_format_cash(r, (int)i, net, a, sizeof a);
		report_format_cash(r, (int)i, fees, b, sizeof b);
		fprintf(f, "%s\n    {\"instrument\": %u, \"symbol\": \"%s\", \"net_pnl_exact\": \"%s\", \"fees_exact\": \"%s\", \"metrics\": ",
			first ? "" : ",", ri->id, ri->symbol, a, b);
		json_metrics(f, &m);
		fputc('}', f);
		first = false;
	}
	fprintf(f, "\n  ],\n  \"by_strategy\": [");
	uint16_t st[REPORT_MAX_BOOKS];
	uint32_t ns = strategies_of(r, st);
	for (uint32_t i = 0; i < ns; i++) {
		report_metrics(r, st[i], 0, &m);
		fprintf(f, "%s\n    {\"strategy\": %u, \"metrics\": ", i ? "," : "", st[i]);
		json_metrics(f, &m);
		fputc('}', f);
	}
	fprintf(f, "\n  ],\n  \"trades\": [");
	for (size_t i = 0; i < r->n_trades; i++) {
		const struct report_trade *t = &r->trade[i];
		int inst = inst_index(r, t->instrument);
		report_format_cash(r, inst, t->gross, a, sizeof a);
		report_format_cash(r, inst, t->fees, b, sizeof b);
		fprintf(f, "%s\n    {\"strategy\": %u, \"instrument\": %u, \"side\": \"%s\", \"open\": %s, \"entry_ns\": %" PRId64
			   ", \"exit_ns\": %" PRId64 ", \"max_qty\": %" PRId64 ", \"gross\": \"%s\", \"fees\": \"%s\"}",
			i ? "," : "", t->strategy, t->instrument, side_name(t->side), t->open ? "true" : "false",
			t->entry_ns, t->exit_ns, t->max_qty, a, b);
	}
	fprintf(f, "\n  ],\n  \"equity\": [");
	for (uint32_t s = 0; s < r->n_samples; s++)
		fprintf(f, "%s[%" PRId64 ", %.10g]", s ? ", " : "", r->sample_ns[s], set_equity(r, -1, 0, s));
	fprintf(f, "],\n  \"unknown_fills\": %" PRIu64 ",\n  \"books_full\": %" PRIu64 "\n}\n", r->unknown_fills,
		r->books_full);
	return ferror(f) ? -1 : 0;
}

/* An SVG polyline chart of n values; drawdown when dd is set. */
static void svg_chart(FILE *f, const struct report *r, bool dd, const char *label, const char *color)
{
	const double W = 800, H = 220;
	uint32_t n = r->n_samples;
	double lo = 0, hi = 0, peak = -INFINITY;
	double *v = malloc((n ? n : 1) * sizeof *v);

	if (!v)
		return;
	for (uint32_t s = 0; s < n; s++) {
		double e = set_equity(r, -1, 0, s);
		if (e > peak)
			peak = e;
		v[s] = dd ? e - peak : e;
		if (s == 0 || v[s] < lo)
			lo = v[s];
		if (s == 0 || v[s] > hi)
			hi = v[s];
	}
	if (hi == lo) {
		hi += 1;
		lo -= dd ? 0 : 1;
	}
	fprintf(f, "<h2>%s</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
		   "viewBox=\"0 0 %g %g\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n",
		label, W, H + 20, W, H + 20);
	double zy = H - (0 - lo) / (hi - lo) * H + 10;
	fprintf(f, "<line x1=\"0\" x2=\"%g\" y1=\"%.2f\" y2=\"%.2f\" stroke=\"#999\" stroke-dasharray=\"4\"/>\n", W, zy, zy);
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", color);
	for (uint32_t s = 0; s < n; s++) {
		double x = n > 1 ? (double)s / (n - 1) * W : 0;
		double y = H - (v[s] - lo) / (hi - lo) * H + 10;
		fprintf(f, "%s%.2f,%.2f", s ? " " : "", x, y);
	}
	fprintf(f, "\"/>\n<text x=\"4\" y=\"14\" font-size=\"11\">max %.6g</text><text x=\"4\" y=\"%g\" "
		   "font-size=\"11\">min %.6g</text></svg>\n",
		hi, H + 16, lo);
	free(v);
}

static void html_metrics_row(FILE *f, const char *name, const struct report_metrics *m)
{
	fprintf(f,
		"<tr><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%.2f%%</td><td>%.6g</td><td>%.6g</td>"
		"<td>%.6g</td><td>%.4g</td><td>%.4g</td><td>%.4g</td><td>%.6g</td><td>%.2f%%</td><td>%.6g</td></tr>\n",
		name, m->fills, m->trades, m->win_rate * 100, m->gross, m->fees, m->net, m->sharpe, m->sortino,
		m->calmar, m->max_drawdown, m->exposure * 100, m->turnover);
}

static int write_html(const struct report *r, FILE *f, const char *title)
{
	struct report_metrics m;
	char name[64], a[80], b[80];

	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>fks replay: %s</title>\n"
		   "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
		   "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}</style>"
		   "</head><body>\n<h1>fks replay: %s</h1>\n<p>%" PRIu64 " market events, event time %" PRId64
		   " .. %" PRId64 " ns, fee %u ppm, sample interval %" PRId64 " ns.</p>\n",
		title, title, r->market_events, r->first_ns, r->last_ns, r->p.fee_ppm, r->dt_ns);
	svg_chart(f, r, false, "Equity (net P&amp;L)", "#1f77b4");
	svg_chart(f, r, true, "Drawdown", "#d62728");
	fprintf(f, "<h2>Summary</h2>\n<table><tr><th>set</th><th>fills</th><th>trades</th><th>win rate</th>"
		   "<th>gross</th><th>fees</th><th>net</th><th>Sharpe</th><th>Sortino</th><th>Calmar</th>"
		   "<th>max DD</th><th>exposure</th><th>turnover</th></tr>\n");
	report_metrics(r, -1, 0, &m);
	html_metrics_row(f, "total", &m);
	for (uint32_t i = 0; i < r->p.n_instruments; i++) {
		report_metrics(r, -1, r->p.instrument[i].id, &m);
		snprintf(name, sizeof name, "instrument %s", r->p.instrument[i].symbol);
		html_metrics_row(f, name, &m);
	}
	uint16_t st[REPORT_MAX_BOOKS];
	uint32_t ns = strategies_of(r, st);
	for (uint32_t i = 0; i < ns; i++) {
		report_metrics(r, st[i], 0, &m);
		snprintf(name, sizeof name, "strategy %u", st[i]);
		html_metrics_row(f, name, &m);
	}
	fprintf(f, "</table>\n<h2>Trades</h2>\n<table><tr><th>#</th><th>strategy</th><th>instrument</th><th>side</th>"
		   "<th>entry ns</th><th>exit ns</th><th>max qty</th><th>gross</th><th>fees</th><th>state</th></tr>\n");
	for (size_t i = 0; i < r->n_trades; i++) {
		const struct report_trade *t = &r->trade[i];
		int inst = inst_index(r, t->instrument);
		report_format_cash(r, inst, t->gross, a, sizeof a);
		report_format_cash(r, inst, t->fees, b, sizeof b);
		fprintf(f, "<tr><td>%zu</td><td>%u</td><td>%s</td><td>%s</td><td>%" PRId64 "</td><td>%" PRId64
			   "</td><td>%" PRId64 "</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			i + 1, t->strategy, r->p.instrument[inst].symbol, side_name(t->side), t->entry_ns, t->exit_ns,
			t->max_qty, a, b, t->open ? "open" : "closed");
	}
	fprintf(f, "</table>\n</body></html>\n");
	return ferror(f) ? -1 : 0;
}

int report_write(const struct report *r, const char *dir, const char *title, char *err, size_t errlen)
{
	char path[4096];

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof path, "%s/%s", dir, k == 0 ? "report.json" : "report.html");
		FILE *f = fopen(path, "w");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		int rc = k == 0 ? report_write_json(r, f, title) : write_html(r, f, title);
		if (fclose(f) != 0 || rc != 0) {
			snprintf(err, errlen, "%s: write failed", path);
			return -1;
		}
	}
	return 0;
}
