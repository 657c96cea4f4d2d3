#include "strategies/indicators.h"

#include <math.h>
#include <string.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

const char *ind_strerror(int status)
{
	switch (status) {
	case IND_OK: return "ok";
	case IND_E_WINDOW: return "indicator window out of range (at most " STRINGIFY(IND_MAX_WINDOW) " for windowed ones)";
	case IND_E_PARAM: return "indicator parameter out of range";
	}
	return "unknown indicator status";
}

int64_t ind_round_fx(double v)
{
	if (isnan(v))
		return 0;
	if (v >= 0x1p63)
		return INT64_MAX;
	if (v < -0x1p63)
		return INT64_MIN;
	/* llround rounds halves away from zero whatever the rounding mode. */
	return (int64_t)llround(v);
}

/* ---- 192-bit arithmetic -------------------------------------------------
 * Just enough to keep sum(x^2) of up to 4096 int64 samples (< 2^138) and to
 * form n * sum(x^2) - sum(x)^2 (< 2^150) exactly. */

typedef unsigned __int128 u128;

struct w3 {
	uint64_t w[3];   /* little-endian limbs */
};

static void u192_add(struct ind_u192 *a, u128 v)
{
	a->lo += v;
	if (a->lo < v)
		a->hi++;
}

static void u192_sub(struct ind_u192 *a, u128 v)
{
	if (a->lo < v)
		a->hi--;
	a->lo -= v;
}

static u128 square64(int64_t x)
{
	/* |INT64_MIN| = 2^63 is representable as uint64; its square is 2^126. */
	uint64_t ax = x < 0 ? -(uint64_t)x : (uint64_t)x;

	return (u128)ax * ax;
}

static u128 uabs128(__int128 v)
{
	return v < 0 ? -(u128)v : (u128)v;
}

/* n * q, for n < 2^32 and a product below 2^192. */
static struct w3 mul_small(const struct ind_u192 *q, uint32_t n)
{
	u128 p0 = (u128)(uint64_t)q->lo * n;
	u128 p1 = (u128)(uint64_t)(q->lo >> 64) * n + (p0 >> 64);
	u128 p2 = (u128)q->hi * n + (p1 >> 64);
	struct w3 r = { { (uint64_t)p0, (uint64_t)p1, (uint64_t)p2 } };

	return r;
}

/* a * a for a < 2^96 (|sum| of 4096 int64 is below 2^76). */
static struct w3 square_u96(u128 a)
{
	uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
	u128 lo = (u128)a0 * a0;
	u128 mid = (u128)a0 * a1;          /* < 2^96; doubled < 2^97 */
	u128 mid2 = mid << 1;
	struct w3 r = { { (uint64_t)lo, (uint64_t)(lo >> 64), 0 } };
	u128 t = (u128)r.w[1] + (uint64_t)mid2;

	r.w[1] = (uint64_t)t;
	r.w[2] = (uint64_t)(t >> 64) + (uint64_t)(mid2 >> 64) + a1 * a1;
	return r;
}

static struct w3 sub_w3(struct w3 a, struct w3 b)
{
	struct w3 r;
	unsigned borrow = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t d = a.w[i] - b.w[i] - borrow;

		borrow = a.w[i] < b.w[i] || (a.w[i] == b.w[i] && borrow);
		r.w[i] = d;
	}
	return r;
}

static bool is_zero_w3(struct w3 a)
{
	return (a.w[0] | a.w[1] | a.w[2]) == 0;
}

/* Correctly rounded: the top 64 bits with a sticky bit for everything below
 * convert to double with a single rounding. */
static double w3_to_double(struct w3 a)
{
	uint64_t top, rest;
	int exp;

	if (a.w[2]) {
		int s = __builtin_clzll(a.w[2]);

		top = s ? a.w[2] << s | a.w[1] >> (64 - s) : a.w[2];
		rest = (s ? a.w[1] << s : a.w[1]) | a.w[0];
		exp = 128 - s;
	} else if (a.w[1]) {
		int s = __builtin_clzll(a.w[1]);

		top = s ? a.w[1] << s | a.w[0] >> (64 - s) : a.w[1];
		rest = s ? a.w[0] << s : a.w[0];
		exp = 64 - s;
	} else {
		return (double)a.w[0];
	}
	return ldexp((double)(top | (rest != 0)), exp);
}

/* ---- rolling mean and variance ------------------------------------------ */

int ind_rstats_init(struct ind_rstats *s, uint32_t n)
{
	memset(s, 0, sizeof *s);
	if (n < 1 || n > IND_MAX_WINDOW)
		return IND_E_WINDOW;
	s->n = n;
	return IND_OK;
}

void ind_rstats_update(struct ind_rstats *s, int64_t x)
{
	if (s->count >= s->n) {
		int64_t old = s->ring[s->pos];

		s->sum -= old;
		u192_sub(&s->sumsq, square64(old));
	}
	s->ring[s->pos] = x;
	s->sum += x;
	u192_add(&s->sumsq, square64(x));
	s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
	s->count++;
}

/* n * sum(x^2) - sum(x)^2 = n^2 * population variance, exactly (>= 0 by
 * Cauchy-Schwarz). */
static struct w3 rstats_num(const struct ind_rstats *s)
{
	return sub_w3(mul_small(&s->sumsq, s->n), square_u96(uabs128(s->sum)));
}

bool ind_rstats_mean(const struct ind_rstats *s, double *out)
{
	if (!ind_rstats_ready(s))
		return false;
	*out = (double)s->sum / s->n;
	return true;
}

bool ind_rstats_var(const struct ind_rstats *s, double *out)
{
	if (!ind_rstats_ready(s))
		return false;
	*out = w3_to_double(rstats_num(s)) / ((double)s->n * s->n);
	return true;
}

bool ind_rstats_std(const struct ind_rstats *s, double *out)
{
	if (!ind_rstats_ready(s))
		return false;
	*out = sqrt(w3_to_double(rstats_num(s))) / s->n;
	return true;
}

bool ind_rstats_var_sample(const struct ind_rstats *s, double *out)
{
	if (!ind_rstats_ready(s) || s->n < 2)
		return false;
	*out = w3_to_double(rstats_num(s)) / ((double)s->n * (s->n - 1));
	return true;
}

/* ---- SMA ----------------------------------------------------------------- */

int ind_sma_init(struct ind_sma *s, uint32_t n)
{
	memset(s, 0, sizeof *s);
	if (n < 1 || n > IND_MAX_WINDOW)
		return IND_E_WINDOW;
	s->n = n;
	return IND_OK;
}

void ind_sma_update(struct ind_sma *s, int64_t x)
{
	if (s->count >= s->n)
		s->sum -= s->ring[s->pos];
	s->ring[s->pos] = x;
	s->sum += x;
	s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
	s->count++;
}

bool ind_sma_value(const struct ind_sma *s, double *out)
{
	if (!ind_sma_ready(s))
		return false;
	*out = (double)s->sum / s->n;
	return true;
}

/* ---- EMA ----------------------------------------------------------------- */

int ind_ema_init(struct ind_ema *e, uint32_t n)
{
	memset(e, 0, sizeof *e);
	if (n < 1)
		return IND_E_WINDOW;
	e->n = n;
	e->alpha = 2.0 / ((double)n + 1.0);
	return IND_OK;
}

void ind_ema_update(struct ind_ema *e, double x)
{
	if (!isfinite(x)) {
		e->rejected++;
		return;
	}
	if (e->count < e->n) {
		e->seed_sum += x;
		if (++e->count == e->n)
			e->value = e->seed_sum / e->n;
		return;
	}
	e->value += e->alpha * (x - e->value);
	e->count++;
}

bool ind_ema_value(const struct ind_ema *e, double *out)
{
	if (!ind_ema_ready(e))
		return false;
	*out = e->value;
	return true;
}

/* ---- RSI ----------------------------------------------------------------- */

int ind_rsi_init(struct ind_rsi *r, uint32_t n)
{
	memset(r, 0, sizeof *r);
	if (n < 1)
		return IND_E_WINDOW;
	r->n = n;
	return IND_OK;
}

void ind_rsi_update(struct ind_rsi *r, int64_t px)
{
	if (r->count == 0) {
		r->prev = px;
		r->count = 1;
		return;
	}
	__int128 d = (__int128)px - r->prev;
	double gain = d > 0 ? (double)d : 0.0;
	double loss = d < 0 ? (double)-d : 0.0;

	r->prev = px;
	if (r->count <= r->n) {
		/* Change number `count` of the first n: summed, then averaged. */
		r->avg_gain += gain;
		r->avg_loss += loss;
		if (++r->count == (uint64_t)r->n + 1) {
			r->avg_gain /= r->n;
			r->avg_loss /= r->n;
		}
		return;
	}
	r->avg_gain = (r->avg_gain * (r->n - 1) + gain) / r->n;
	r->avg_loss = (r->avg_loss * (r->n - 1) + loss) / r->n;
	r->count++;
}

bool ind_rsi_value(const struct ind_rsi *r, double *out)
{
	if (!ind_rsi_ready(r))
		return false;
	if (r->avg_loss == 0.0)
		*out = r->avg_gain == 0.0 ? 50.0 : 100.0;
	else
		*out = 100.0 - 100.0 / (1.0 + r->avg_gain / r->avg_loss);
	return true;
}

/* ---- MACD ---------------------------------------------------------------- */

int ind_macd_init(struct ind_macd *m, uint32_t fast, uint32_t slow, uint32_t signal)
{
	memset(m, 0, sizeof *m);
	if (fast < 1 || fast >= slow || signal < 1)
		return IND_E_WINDOW;
	ind_ema_init(&m->fast, fast);
	ind_ema_init(&m->slow, slow);
	ind_ema_init(&m->signal, signal);
	return IND_OK;
}

void ind_macd_update(struct ind_macd *m, int64_t px)
{
	double x = (double)px;

	ind_ema_update(&m->fast, x);
	ind_ema_update(&m->slow, x);
	if (ind_ema_ready(&m->slow)) {
		m->line = m->fast.value - m->slow.value;
		ind_ema_update(&m->signal, m->line);
	}
}

bool ind_macd_line(const struct ind_macd *m, double *out)
{
	if (!ind_macd_line_ready(m))
		return false;
	*out = m->line;
	return true;
}

bool ind_macd_value(const struct ind_macd *m, struct ind_macd_out *out)
{
	if (!ind_macd_ready(m))
		return false;
	out->line = m->line;
	out->signal = m->signal.value;
	out->hist = m->line - m->signal.value;
	return true;
}

/* ---- Bollinger ------------------------------------------------------------ */

int ind_bollinger_init(struct ind_bollinger *b, uint32_t n, double k)
{
	int rc = ind_rstats_init(&b->st, n);

	b->k = 0;
	if (rc != IND_OK)
		return rc;
	if (!isfinite(k) || k < 0)
		return IND_E_PARAM;
	b->k = k;
	return IND_OK;
}

void ind_bollinger_update(struct ind_bollinger *b, int64_t x)
{
	ind_rstats_update(&b->st, x);
}

bool ind_bollinger_value(const struct ind_bollinger *b, struct ind_bollinger_out *out)
{
	double mid, sigma;

	if (!ind_rstats_mean(&b->st, &mid) || !ind_rstats_std(&b->st, &sigma))
		return false;
	out->mid = mid;
	out->sigma = sigma;
	out->upper = mid + b->k * sigma;
	out->lower = mid - b->k * sigma;
	return true;
}

/* ---- ATR ----------------------------------------------------------------- */

int ind_atr_init(struct ind_atr *a, uint32_t n)
{
	memset(a, 0, sizeof *a);
	if (n < 1)
		return IND_E_WINDOW;
	a->n = n;
	return IND_OK;
}

static __int128 abs128(__int128 v) { return v < 0 ? -v : v; }

void ind_atr_update(struct ind_atr *a, int64_t high, int64_t low, int64_t close)
{
	if (high < low || close < low || close > high) {
		a->rejected++;
		return;
	}
	__int128 tr = (__int128)high - low;

	if (a->count > 0) {
		__int128 up = abs128((__int128)high - a->prev_close);
		__int128 down = abs128((__int128)low - a->prev_close);

		if (up > tr)
			tr = up;
		if (down > tr)
			tr = down;
	}
	a->prev_close = close;
	if (a->count < a->n) {
		a->value += (double)tr;
		if (++a->count == a->n)
			a->value /= a->n;
		return;
	}
	a->value = (a->value * (a->n - 1) + (double)tr) / a->n;
	a->count++;
}

bool ind_atr_value(const struct ind_atr *a, double *out)
{
	if (!ind_atr_ready(a))
		return false;
	*out = a->value;
	return true;
}

/* ---- z-score ------------------------------------------------------------- */

int ind_zscore_init(struct ind_zscore *z, uint32_t n)
{
	z->last = 0;
	if (n < 2) {
		ind_rstats_init(&z->st, 1);
		return IND_E_WINDOW;
	}
	return ind_rstats_init(&z->st, n);
}

void ind_zscore_update(struct ind_zscore *z, int64_t x)
{
	ind_rstats_update(&z->st, x);
	z->last = x;
}

bool ind_zscore_value(const struct ind_zscore *z, double *out)
{
	if (!ind_zscore_ready(z))
		return false;
	struct w3 num = rstats_num(&z->st);

	if (is_zero_w3(num)) {
		*out = 0.0;
		return true;
	}
	/* (x - mean) / sigma = (n*x - sum) / sqrt(n*sum(x^2) - sum^2); the
	 * numerator is below 2^77, exact in int128. */
	__int128 dev = (__int128)z->st.n * z->last - z->st.sum;

	*out = (double)dev / sqrt(w3_to_double(num));
	return true;
}

/* ---- VWAP ---------------------------------------------------------------- */

int ind_vwap_init(struct ind_vwap *v, uint32_t window, int64_t session_ns)
{
	memset(v, 0, sizeof *v);
	if (window > IND_MAX_WINDOW)
		return IND_E_WINDOW;
	if (session_ns < 0)
		return IND_E_PARAM;
	v->window = window;
	v->session_ns = session_ns;
	return IND_OK;
}

void ind_vwap_reset(struct ind_vwap *v)
{
	/* The ring needs no clearing: slots are read only after being written
	 * since the reset (count >= window). */
	v->pos = 0;
	v->count = 0;
	v->pq = 0;
	v->q = 0;
}

static int64_t floor_div(int64_t t, int64_t d)
{
	int64_t q = t / d;

	if (t % d != 0 && t < 0)
		q--;
	return q;
}

void ind_vwap_update(struct ind_vwap *v, int64_t t_ns, int64_t px, int64_t qty)
{
	if (qty <= 0) {
		v->rejected++;
		return;
	}
	if (v->session_ns > 0) {
		int64_t s = floor_div(t_ns, v->session_ns);

		if (!v->have_session) {
			v->session = s;
			v->have_session = true;
		} else if (s > v->session) {
			ind_vwap_reset(v);
			v->session = s;
			v->resets++;
		} else if (s < v->session) {
			v->late++;
		}
	}

	/* |px * qty| <= 2^126: never overflows by itself; the sums might. */
	__int128 p = (__int128)px * qty, pq = v->pq, q = v->q;
	bool full = v->window > 0 && v->count >= v->window;

	if (full) {
		int64_t opx = v->ring_px[v->pos], oqty = v->ring_qty[v->pos];

		pq -= (__int128)opx * oqty;   /* back to a sum that was checked */
		q -= oqty;
	}
	if (__builtin_add_overflow(pq, p, &pq) || __builtin_add_overflow(q, (__int128)qty, &q)) {
		v->rejected++;
		return;
	}
	v->pq = pq;
	v->q = q;
	if (v->window > 0) {
		v->ring_px[v->pos] = px;
		v->ring_qty[v->pos] = qty;
		v->pos = v->pos + 1 == v->window ? 0 : v->pos + 1;
	}
	v->count++;
}

bool ind_vwap_value(const struct ind_vwap *v, double *out)
{
	if (!ind_vwap_ready(v) || v->q <= 0)
		return false;
	*out = (double)v->pq / (double)v->q;
	return true;
}

/* ---- log-return volatility ------------------------------------------------ */

#define LOGRET_SCALE 0x1p56   /* |ln(p1/p0)| < 44 for int64 prices: < 2^62 scaled */

int ind_logvol_init(struct ind_logvol *v, uint32_t n, double ann_factor)
{
	v->prev = 0;
	v->rejected = 0;
	v->ann_factor = 0;
	if (n < 2) {
		ind_rstats_init(&v->st, 1);
		return IND_E_WINDOW;
	}
	int rc = ind_rstats_init(&v->st, n);

	if (rc != IND_OK)
		return rc;
	if (!isfinite(ann_factor) || ann_factor < 0)
		return IND_E_PARAM;
	v->ann_factor = ann_factor;
	return IND_OK;
}

/* ln(px / prev) for positive prices.  Near 1 the ratio minus one is formed
 * exactly (int128 difference) and log1p keeps the small return's digits;
 * far from 1, log of the ratio. */
static double log_return(int64_t prev, int64_t px)
{
	double d = (double)((__int128)px - prev) / (double)prev;

	if (fabs(d) < 0.5)
		return log1p(d);
	return log((double)px / (double)prev);
}

void ind_logvol_update(struct ind_logvol *v, int64_t px)
{
	if (px <= 0) {
		v->rejected++;
		return;
	}
	if (v->prev > 0) {
		/* Truncation toward zero, not lrint: independent of the
		 * rounding mode.  The scaling by 2^56 itself is exact. */
		int64_t q = (int64_t)(log_return(v->prev, px) * LOGRET_SCALE);

		ind_rstats_update(&v->st, q);
	}
	v->prev = px;
}

bool ind_logvol_value(const struct ind_logvol *v, double *out)
{
	if (!ind_logvol_ready(v))
		return false;
	uint32_t n = v->st.n;
	double sd = sqrt(w3_to_double(rstats_num(&v->st)) / ((double)n * (n - 1))) / LOGRET_SCALE;

	if (v->ann_factor > 0)
		sd *= sqrt(v->ann_factor);
	*out = sd;
	return true;
}
