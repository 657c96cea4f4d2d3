/*
 * Markov regime filter: see markov.h.
 */
#include "strategies/impl/markov.h"

#include <string.h>

#define COUNT_MAX (1ull << 40)

static int markov_init(void *state, const struct strategy_ctx *ctx,
		       const struct fks_param *params, size_t n, struct fks_param_error *err)
{
	static const char *const sources[] = { "quote", "trade" };
	struct markov *m = state;
	uint32_t bar_ms = 0;

	memset(m, 0, sizeof *m);
	m->ctx = *ctx;
	m->window = 100;
	m->bull_ppm = m->bear_ppm = 20000;
	m->on = STRATEGY_ON_QUOTE;
	if (ctx->instrument == 0)
		return fks_param_fail(err, NULL, "markov: instrument id must not be 0");
	for (size_t i = 0; i < n; i++) {
		const struct fks_param *p = &params[i];
		int rc;

		if (strcmp(p->key, "window") == 0) {
			rc = strategy_parse_u32(p, 2, 1000000, &m->window, err);
		} else if (strcmp(p->key, "bull") == 0) {
			rc = strategy_parse_ppm(p, 100, 1000000, &m->bull_ppm, err);
		} else if (strcmp(p->key, "bear") == 0) {
			rc = strategy_parse_ppm(p, 100, 1000000, &m->bear_ppm, err);
		} else if (strcmp(p->key, "on") == 0) {
			unsigned v;

			rc = strategy_parse_enum(p, sources, 2, &v, err);
			m->on = (enum strategy_source)v;
		} else if (strcmp(p->key, "bar_ms") == 0) {
			rc = strategy_parse_u32(p, 1, 86400000, &bar_ms, err);
		} else {
			return fks_param_fail(err, p->key, "markov: unknown key '%s'", p->key);
		}
		if (rc)
			return -1;
	}
	if (bar_ms) {
		const struct bars_params bp = {
			.kind = BARS_TIME,
			.use_quote_mids = m->on == STRATEGY_ON_QUOTE,
			.instrument = ctx->instrument,
			.interval_ns = (int64_t)bar_ms * 1000000,
		};

		if (bars_init(&m->bars, &bp) != BARS_OK)
			return fks_param_fail(err, "bar_ms", "markov: bar_ms: %s", "bad interval");
		m->use_bars = true;
	}
	return 0;
}

static enum strategy_regime classify(const struct markov *m, int64_t first, int64_t last)
{
	/* return > bull  <=>  (last - first) * 10^6 > bull_ppm * first */
	__int128 diff = ((__int128)last - first) * 1000000;

	if (diff > (__int128)m->bull_ppm * first)
		return STRATEGY_REGIME_BULL;
	if (diff < -(__int128)m->bear_ppm * first)
		return STRATEGY_REGIME_BEAR;
	return STRATEGY_REGIME_SIDEWAYS;
}

static bool markov_on_market(void *state, const union fks_event *md, struct fks_ev_signal *out)
{
	struct markov *m = state;
	struct strategy_sample s;

	(void)out;
	if (m->use_bars) {
		struct bar b;

		if (!bars_on_event(&m->bars, md, &b))
			return false;
		s.px2 = 2 * b.close;
	} else if (!strategy_sample(md, m->on, &s)) {
		return false;
	}
	if (m->in_window++ == 0)
		m->first_px2 = s.px2;
	if (m->in_window < m->window)
		return false;

	enum strategy_regime r = classify(m, m->first_px2, s.px2);

	if (m->current != STRATEGY_REGIME_UNKNOWN) {
		uint64_t *c = &m->counts[m->current - 1][r - 1];

		if (*c < COUNT_MAX)
			(*c)++;
	}
	m->current = r;
	m->windows++;
	m->in_window = 0;
	return false;
}

static enum strategy_regime markov_regime(const void *state)
{
	const struct markov *m = state;

	if (m->current == STRATEGY_REGIME_UNKNOWN)
		return STRATEGY_REGIME_UNKNOWN;
	const uint64_t *row = m->counts[m->current - 1];
	unsigned best = 0;
	bool tie = false;

	for (unsigned j = 1; j < 3; j++) {
		if (row[j] > row[best]) {
			best = j;
			tie = false;
		} else if (row[j] == row[best]) {
			tie = true;
		}
	}
	if (row[best] == 0 || tie)
		return STRATEGY_REGIME_UNKNOWN;
	return (enum strategy_regime)(best + 1);
}

uint64_t markov_count(const struct markov *m, enum strategy_regime from, enum strategy_regime to)
{
	if (from < 1 || from > 3 || to < 1 || to > 3)
		return 0;
	return m->counts[from - 1][to - 1];
}

bool markov_steady_state(const struct markov *m, uint32_t ppm[3])
{
	unsigned __int128 c[3][3], r[3], w[3], sum = 0;
	bool any = false;

	for (unsigned i = 0; i < 3; i++) {
		r[i] = 0;
		for (unsigned j = 0; j < 3; j++) {
			c[i][j] = m->counts[i][j];
			r[i] += c[i][j];
		}
		if (r[i]) {
			any = true;
		} else {
			/* unseen row: no evidence, every next regime alike */
			c[i][0] = c[i][1] = c[i][2] = 1;
			r[i] = 3;
		}
	}
	if (!any)
		return false;
	/* Spanning trees into each root; counts < 2^40, so each product of
	 * three is < 2^120 and the sums fit. */
	w[0] = r[0] * (c[1][0] * c[2][0] + c[1][0] * c[2][1] + c[1][2] * c[2][0]);
	w[1] = r[1] * (c[0][1] * c[2][1] + c[0][1] * c[2][0] + c[0][2] * c[2][1]);
	w[2] = r[2] * (c[0][2] * c[1][2] + c[0][2] * c[1][0] + c[0][1] * c[1][2]);
	for (unsigned i = 0; i < 3; i++)
		sum += w[i];
	if (sum == 0)
		return false;
	/* Keep w * 10^6 inside 128 bits: drop low bits of all three alike
	 * (only reached with counts beyond 2^30). */
	while (sum >> 100) {
		sum = 0;
		for (unsigned i = 0; i < 3; i++)
			sum += (w[i] >>= 1);
	}
	for (unsigned i = 0; i < 3; i++)
		ppm[i] = (uint32_t)(w[i] * 1000000 / sum);
	return true;
}

const struct strategy_vtbl markov_vtbl = {
	.kind = "markov",
	.state_size = sizeof(struct markov),
	.init = markov_init,
	.on_market = markov_on_market,
	.regime = markov_regime,
};
