/*
 * Incremental technical indicators: SMA, EMA, RSI (Wilder), MACD, Bollinger
 * bands, ATR (Wilder), rolling z-score, VWAP and rolling volatility of log
 * returns, plus the exact rolling mean/variance they share.
 *
 * Every indicator is a plain struct the caller owns (no allocation, ever),
 * set up by *_init() and fed one sample at a time by *_update(): O(1) work
 * per update, no clock, no I/O.  Windowed indicators keep their samples in a
 * ring inside the struct, up to IND_MAX_WINDOW (so those structs are about
 * 32 KiB: keep them off small stacks).  Re-running *_init() resets one.
 *
 * Warm-up.  *_ready() says whether the value is defined; the value getters
 * return false (and leave *out alone) until then.  The sample that makes an
 * indicator ready is stated for each one below ("ready at sample n").
 *
 * Units.  Inputs are the pipeline's int64 fixed-point prices (and
 * quantities), taken as raw integers: an SMA of prices at px_scale 8 is a
 * value at px_scale 8.  Values come back as double in those same raw units
 * (divide by 10^px_scale to show them); ind_round_fx() turns one back into a
 * fixed-point price for an order.  Dimensionless outputs (RSI in [0, 100],
 * z-scores, log-return volatility) have no scale.
 *
 * Numerics (docs/strat-ind.md has the details):
 *  - Exact integers where cheap.  The rolling sums behind SMA, Bollinger and
 *    z-score are int128 sums of x and a 192-bit sum of x^2, so
 *    n*sum(x^2) - sum(x)^2 is computed exactly for ANY int64 inputs and the
 *    variance has no cancellation and no drift however long the run: only
 *    the final conversion to double rounds.  VWAP keeps int128 sums of px*qty
 *    and qty.
 *  - IEEE double where division, sqrt, exp or log is the point: EMA, MACD,
 *    RSI and ATR smoothing, square roots, logs.  Each uses a fixed evaluation
 *    order and no -ffast-math, so the same inputs give bit-identical values
 *    on every run of the same binary (the project builds as ISO C17, where
 *    gcc does not contract a*b+c into an FMA).
 *  - Log returns are quantised to int64 at 2^-56 (about 1.4e-17) and then go
 *    through the same exact rolling variance.
 *
 * Gaps.  Tick indicators take no time: a gap between samples is invisible to
 * them (a bar builder, strategies/bars.h, is the way to make time matter).
 * Only VWAP reads event time, for its optional session reset.
 *
 * Bad input (a non-positive price for a log return, a non-positive quantity
 * for VWAP, high < low for ATR, a NaN or infinite double) is ignored and
 * counted in the indicator's `rejected` field; it never changes the value.
 */
#ifndef FKS_STRATEGIES_INDICATORS_H
#define FKS_STRATEGIES_INDICATORS_H

#include <stdbool.h>
#include <stdint.h>

#define IND_MAX_WINDOW 4096u   /* largest window of the ring-based indicators */

/* *_init() results. */
enum ind_status {
	IND_OK = 0,
	IND_E_WINDOW = -1,     /* window outside its allowed range */
	IND_E_PARAM = -2,      /* another parameter out of range (see each init) */
};

const char *ind_strerror(int status);

/*
 * Round a value in raw fixed-point units to the nearest int64, halves away
 * from zero, saturating at INT64_MIN / INT64_MAX; NaN gives 0.
 */
int64_t ind_round_fx(double v);

/* ---- exact rolling mean and variance ----------------------------------- */

/* 192-bit unsigned accumulator; private to indicators.c. */
struct ind_u192 {
	unsigned __int128 lo;
	uint64_t hi;
};

/*
 * Mean and variance of the last n int64 samples, exact until the final
 * rounding to double.  1 <= n <= IND_MAX_WINDOW.  Ready at sample n.
 * The building block of SMA-like, Bollinger, z-score and volatility; usable
 * on its own.
 */
struct ind_rstats {
	uint32_t n;                 /* window */
	uint32_t pos;               /* ring slot of the next sample */
	uint64_t count;             /* samples seen */
	__int128 sum;               /* of the samples in the window */
	struct ind_u192 sumsq;      /* of their squares */
	int64_t ring[IND_MAX_WINDOW];
};

int ind_rstats_init(struct ind_rstats *s, uint32_t n);
void ind_rstats_update(struct ind_rstats *s, int64_t x);
static inline bool ind_rstats_ready(const struct ind_rstats *s) { return s->count >= s->n; }
/* Mean of the window. */
bool ind_rstats_mean(const struct ind_rstats *s, double *out);
/* Population variance (divide by n) and its square root. */
bool ind_rstats_var(const struct ind_rstats *s, double *out);
bool ind_rstats_std(const struct ind_rstats *s, double *out);
/* Sample variance (divide by n - 1); false also when n == 1. */
bool ind_rstats_var_sample(const struct ind_rstats *s, double *out);

/* ---- SMA ---------------------------------------------------------------- */

/*
 * Simple moving average of the last n samples (1 <= n <= IND_MAX_WINDOW).
 * Ready at sample n.  The int128 sum is exact; ind_sma_sum() exposes it for
 * callers that compare averages as rationals (sum_a * n_b vs sum_b * n_a).
 */
struct ind_sma {
	uint32_t n, pos;
	uint64_t count;
	__int128 sum;
	int64_t ring[IND_MAX_WINDOW];
};

int ind_sma_init(struct ind_sma *s, uint32_t n);
void ind_sma_update(struct ind_sma *s, int64_t x);
static inline bool ind_sma_ready(const struct ind_sma *s) { return s->count >= s->n; }
bool ind_sma_value(const struct ind_sma *s, double *out);
static inline __int128 ind_sma_sum(const struct ind_sma *s) { return s->sum; }

/* ---- EMA ---------------------------------------------------------------- */

/*
 * Exponential moving average with alpha = 2 / (n + 1), 1 <= n (no upper
 * limit: it keeps no window).  Seeding: the first value, at sample n, is the
 * simple mean of the first n samples; each later sample x gives
 *     ema = ema + alpha * (x - ema).
 * Ready at sample n.  Takes doubles so it can smooth derived series (MACD);
 * feed prices as (double)px (exact below 2^53).  NaN or infinite samples are
 * rejected and counted.
 */
struct ind_ema {
	uint32_t n;
	double alpha;
	double seed_sum;            /* sum of the first samples, until ready */
	double value;
	uint64_t count;             /* accepted samples */
	uint64_t rejected;
};

int ind_ema_init(struct ind_ema *e, uint32_t n);
void ind_ema_update(struct ind_ema *e, double x);
static inline bool ind_ema_ready(const struct ind_ema *e) { return e->count >= e->n; }
bool ind_ema_value(const struct ind_ema *e, double *out);

/* ---- RSI (Wilder) ------------------------------------------------------- */

/*
 * Relative strength index over n periods, Wilder's smoothing, 1 <= n.
 * Sample k >= 2 gives the change d = p_k - p_{k-1} (exact, int128), split
 * into gain = max(d, 0) and loss = max(-d, 0).  The first averages are the
 * simple means of the first n gains and losses (so ready at PRICE n + 1);
 * after that avg = (avg * (n - 1) + x) / n.
 *     RSI = 100 - 100 / (1 + avg_gain / avg_loss)
 * with the edge cases defined: avg_loss == 0 and avg_gain > 0 gives 100,
 * both zero (constant price) gives 50, avg_gain == 0 < avg_loss gives 0.
 */
struct ind_rsi {
	uint32_t n;
	uint64_t count;             /* prices seen */
	int64_t prev;               /* last price */
	double avg_gain, avg_loss;  /* sums until ready, then the averages */
};

int ind_rsi_init(struct ind_rsi *r, uint32_t n);
void ind_rsi_update(struct ind_rsi *r, int64_t px);
static inline bool ind_rsi_ready(const struct ind_rsi *r) { return r->count > r->n; }
bool ind_rsi_value(const struct ind_rsi *r, double *out);

/* ---- MACD --------------------------------------------------------------- */

/*
 * MACD line = EMA(fast) - EMA(slow) of price; signal = EMA(signal) of the
 * MACD line, fed from the first sample at which the line exists; histogram =
 * line - signal.  1 <= fast < slow, 1 <= signal.  The line is ready at price
 * `slow`, the whole (signal, histogram) at price slow + signal - 1 (the
 * classic 12/26/9 is complete at price 34).
 */
struct ind_macd {
	struct ind_ema fast, slow, signal;
	double line;                /* last MACD line, once the slow EMA is ready */
};

struct ind_macd_out {
	double line, signal, hist;
};

int ind_macd_init(struct ind_macd *m, uint32_t fast, uint32_t slow, uint32_t signal);
void ind_macd_update(struct ind_macd *m, int64_t px);
static inline bool ind_macd_line_ready(const struct ind_macd *m) { return ind_ema_ready(&m->slow); }
static inline bool ind_macd_ready(const struct ind_macd *m) { return ind_ema_ready(&m->signal); }
bool ind_macd_line(const struct ind_macd *m, double *out);
bool ind_macd_value(const struct ind_macd *m, struct ind_macd_out *out);

/* ---- Bollinger bands ---------------------------------------------------- */

/*
 * mid = SMA(n); upper/lower = mid +/- k * sigma, where sigma is the
 * POPULATION standard deviation of the same n samples (divide by n, as
 * Bollinger defines the bands; not the sample n - 1).  1 <= n <=
 * IND_MAX_WINDOW, k finite and >= 0.  Ready at sample n.  Constant input
 * gives sigma 0 and three equal bands.
 */
struct ind_bollinger {
	struct ind_rstats st;
	double k;
};

struct ind_bollinger_out {
	double mid, upper, lower, sigma;
};

int ind_bollinger_init(struct ind_bollinger *b, uint32_t n, double k);
void ind_bollinger_update(struct ind_bollinger *b, int64_t x);
static inline bool ind_bollinger_ready(const struct ind_bollinger *b) { return ind_rstats_ready(&b->st); }
bool ind_bollinger_value(const struct ind_bollinger *b, struct ind_bollinger_out *out);

/* ---- ATR (Wilder) ------------------------------------------------------- */

/*
 * Average true range over n bars, 1 <= n.  True range of a bar:
 *     max(high - low, |high - prev_close|, |low - prev_close|)
 * and of the very first bar (no previous close) high - low.  The first ATR
 * is the simple mean of the first n true ranges (ready at BAR n); after that
 * atr = (atr * (n - 1) + tr) / n.  A bar with high < low, or a close outside
 * [low, high], is rejected and counted (prev_close is not moved).
 */
struct ind_atr {
	uint32_t n;
	uint64_t count;             /* bars accepted */
	uint64_t rejected;
	int64_t prev_close;
	double value;               /* sum of TRs until ready, then the ATR */
};

int ind_atr_init(struct ind_atr *a, uint32_t n);
void ind_atr_update(struct ind_atr *a, int64_t high, int64_t low, int64_t close);
static inline bool ind_atr_ready(const struct ind_atr *a) { return a->count >= a->n; }
bool ind_atr_value(const struct ind_atr *a, double *out);

/* ---- rolling z-score ---------------------------------------------------- */

/*
 * z = (x - mean) / sigma over the last n samples INCLUDING x, sigma the
 * population standard deviation; 2 <= n <= IND_MAX_WINDOW.  Ready at sample
 * n.  sigma == 0 (constant window) gives z = 0.  Computed from the exact
 * sums as (n*x - sum) / sqrt(n*sum(x^2) - sum^2): one rounding each side.
 */
struct ind_zscore {
	struct ind_rstats st;
	int64_t last;
};

int ind_zscore_init(struct ind_zscore *z, uint32_t n);
void ind_zscore_update(struct ind_zscore *z, int64_t x);
static inline bool ind_zscore_ready(const struct ind_zscore *z) { return ind_rstats_ready(&z->st); }
bool ind_zscore_value(const struct ind_zscore *z, double *out);

/* ---- VWAP --------------------------------------------------------------- */

/*
 * Volume-weighted average price, sum(px * qty) / sum(qty), of trades.
 *  - window == 0: cumulative since init or the last reset.
 *  - window == n (1 <= n <= IND_MAX_WINDOW): over the last n trades.
 * Session reset: when session_ns > 0, a trade whose event time falls in a
 * different epoch-aligned session (floor(t / session_ns)) than the previous
 * trade resets the sums first (session_ns = 86400e9 is a UTC day); time
 * going backwards into an earlier session does NOT reset (it is counted in
 * `late`).  ind_vwap_reset() resets by hand.
 * Ready once one trade is in the sums (cumulative) or at trade n (rolling).
 * A trade with qty <= 0, or whose px * qty would overflow the int128 sums,
 * is rejected and counted.
 */
struct ind_vwap {
	uint32_t window;            /* 0: cumulative */
	uint32_t pos;
	int64_t session_ns;         /* 0: no automatic reset */
	int64_t session;            /* latest floor(t / session_ns) seen */
	bool have_session;          /* `session` is set */
	uint64_t count;             /* trades in the sums since the last reset */
	uint64_t rejected;
	uint64_t late;              /* trades timed before the current session */
	uint64_t resets;            /* automatic session resets */
	__int128 pq, q;             /* sum of px * qty, sum of qty */
	int64_t ring_px[IND_MAX_WINDOW], ring_qty[IND_MAX_WINDOW];
};

int ind_vwap_init(struct ind_vwap *v, uint32_t window, int64_t session_ns);
void ind_vwap_reset(struct ind_vwap *v);
void ind_vwap_update(struct ind_vwap *v, int64_t t_ns, int64_t px, int64_t qty);
static inline bool ind_vwap_ready(const struct ind_vwap *v)
{
	return v->count > 0 && v->count >= v->window;
}
bool ind_vwap_value(const struct ind_vwap *v, double *out);

/* ---- rolling volatility of log returns ---------------------------------- */

/*
 * Standard deviation of the last n log returns r_k = ln(p_k / p_{k-1}),
 * 2 <= n <= IND_MAX_WINDOW.  SAMPLE standard deviation (divide by n - 1),
 * as realised-volatility estimates usually are.  Ready at PRICE n + 1.
 * When ann_factor > 0 the value is multiplied by sqrt(ann_factor) (e.g. 252
 * for daily bars, 365*24*60 for minute bars); 0 leaves it per period.
 * A price <= 0 is rejected and counted, and the next return is taken from
 * the last accepted price.
 */
struct ind_logvol {
	struct ind_rstats st;       /* quantised returns, r * 2^56 */
	double ann_factor;
	int64_t prev;               /* last accepted price; 0 before the first */
	uint64_t rejected;
};

int ind_logvol_init(struct ind_logvol *v, uint32_t n, double ann_factor);
void ind_logvol_update(struct ind_logvol *v, int64_t px);
static inline bool ind_logvol_ready(const struct ind_logvol *v) { return ind_rstats_ready(&v->st); }
bool ind_logvol_value(const struct ind_logvol *v, double *out);

#endif
