/*
 * The strategy registry and the helpers every implementation shares.
 */
#include "strategies/strategy.h"

#include <stdio.h>
#include <string.h>

#include "shm/event_build.h"
#include "shm/fixed.h"

extern const struct strategy_vtbl asmbtr_vtbl;
extern const struct strategy_vtbl markov_vtbl;
extern const struct strategy_vtbl sma_cross_vtbl;
extern const struct strategy_vtbl rsi_mr_vtbl;
extern const struct strategy_vtbl bollinger_vtbl;

static const struct strategy_vtbl *const registry[] = {
	&sma_cross_vtbl,
	&rsi_mr_vtbl,
	&bollinger_vtbl,
	&asmbtr_vtbl,
	&markov_vtbl,
};

const struct strategy_vtbl *strategy_find(const char *kind)
{
	if (!kind)
		return NULL;
	for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
		if (strcmp(registry[i]->kind, kind) == 0)
			return registry[i];
	return NULL;
}

static int parse_fixed(const struct fks_param *p, unsigned scale, int64_t *v,
		       struct fks_param_error *err)
{
	const char *s = p->value ? p->value : "";
	int rc = fx_parse(s, strlen(s), scale, v);

	if (rc != FX_OK)
		return fks_param_fail(err, p->key, "%s: '%s' is not a number here (%s)", p->key, s,
				     fx_strerror(rc));
	return 0;
}

int strategy_parse_u32(const struct fks_param *p, uint32_t lo, uint32_t hi,
		       uint32_t *out, struct fks_param_error *err)
{
	int64_t v;

	if (parse_fixed(p, 0, &v, err))
		return -1;
	if (v < (int64_t)lo || v > (int64_t)hi)
		return fks_param_fail(err, p->key, "%s: %lld is outside %u..%u", p->key, (long long)v,
				     lo, hi);
	*out = (uint32_t)v;
	return 0;
}

int strategy_parse_ppm(const struct fks_param *p, uint32_t lo, uint32_t hi,
		       uint32_t *out, struct fks_param_error *err)
{
	int64_t v;

	if (parse_fixed(p, 6, &v, err))
		return -1;
	if (v < (int64_t)lo || v > (int64_t)hi)
		return fks_param_fail(err, p->key, "%s: %s is outside %u.%06u..%u.%06u", p->key,
				     p->value, lo / 1000000, lo % 1000000, hi / 1000000,
				     hi % 1000000);
	*out = (uint32_t)v;
	return 0;
}

int strategy_parse_enum(const struct fks_param *p, const char *const *names, unsigned n,
			unsigned *out, struct fks_param_error *err)
{
	const char *s = p->value ? p->value : "";

	for (unsigned i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	char list[96] = "";
	size_t used = 0;

	for (unsigned i = 0; i < n && used < sizeof list; i++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? "|" : "",
					 names[i]);
	return fks_param_fail(err, p->key, "%s: '%s' is not one of %s", p->key, s, list);
}

bool strategy_sample(const union fks_event *md, enum strategy_source on,
		     struct strategy_sample *s)
{
	if (on == STRATEGY_ON_QUOTE && md->h.type == FKS_EV_QUOTE) {
		s->px2 = md->quote.bid_px + md->quote.ask_px;
		s->buy_px = md->quote.ask_px;
		s->sell_px = md->quote.bid_px;
		return true;
	}
	if (on == STRATEGY_ON_TRADE && md->h.type == FKS_EV_TRADE && md->trade.px > 0) {
		s->px2 = 2 * md->trade.px;
		s->buy_px = s->sell_px = md->trade.px;
		return true;
	}
	return false;
}

void strategy_bracket_defaults(struct strategy_bracket *b)
{
	memset(b, 0, sizeof *b);
	b->tp_bps = 100;
	b->sl_bps = 50;
}

int strategy_bracket_param(struct strategy_bracket *b, const struct fks_param *p,
			   bool allow_atr, struct fks_param_error *err)
{
	bool tp = strcmp(p->key, "tp_bps") == 0 || strcmp(p->key, "tp_atr") == 0;
	bool atr = strcmp(p->key, "tp_atr") == 0 || strcmp(p->key, "sl_atr") == 0;

	if (!tp && !atr && strcmp(p->key, "sl_bps") != 0)
		return 0;
	if (atr && !allow_atr)
		return fks_param_fail(err, p->key, "%s: this strategy keeps no ATR; use %s_bps",
				     p->key, tp ? "tp" : "sl");
	uint32_t v;

	if (atr) {
		if (strategy_parse_ppm(p, 100000, 50000000, &v, err))
			return -1;
	} else if (strategy_parse_u32(p, 1, 10000, &v, err)) {
		return -1;
	}
	if (tp) {
		b->tp_bps = atr ? 0 : v;
		b->tp_atr_ppm = atr ? v : 0;
	} else {
		b->sl_bps = atr ? 0 : v;
		b->sl_atr_ppm = atr ? v : 0;
	}
	return 1;
}

static int64_t distance(int64_t entry, uint32_t bps, uint32_t atr_ppm, int64_t atr)
{
	__int128 d;

	if (atr_ppm)
		d = (__int128)(atr > 0 ? atr : 0) * atr_ppm / 1000000;
	else
		d = (__int128)entry * bps / 10000;
	if (d < 1)
		d = 1;
	if (d > INT64_MAX / 2)
		d = INT64_MAX / 2;
	return (int64_t)d;
}

void strategy_bracket_apply(const struct strategy_bracket *b, uint8_t side, int64_t entry,
			    int64_t atr, int64_t *tp, int64_t *sl)
{
	int64_t up = distance(entry, b->tp_bps, b->tp_atr_ppm, atr);
	int64_t dn = distance(entry, b->sl_bps, b->sl_atr_ppm, atr);
	/* entry > 0 and distances <= INT64_MAX / 2: sums stay in range for any
	 * entry below INT64_MAX / 2, which every real price is. */
	int64_t t, s;

	if (side == FKS_SIDE_BUY) {
		t = entry + up;
		s = entry - dn;
	} else {
		t = entry - up;
		s = entry + dn;
	}
	*tp = t > 0 ? t : 1;
	*sl = s > 0 ? s : 1;
}

void strategy_signal_init(struct fks_ev_signal *out, const union fks_event *md,
			  const struct strategy_ctx *ctx, uint8_t side, uint32_t confidence,
			  int64_t entry)
{
	struct fks_event_hdr h;

	/* Unnumbered: the engine numbers what it emits.  The instrument is the
	 * instance's own (the engine only hands it events of that one). */
	fks_hdr_from_cause(&h, FKS_EV_SIGNAL, FKS_STAGE_STRATEGY, 0, &md->h);
	h.instrument = ctx->instrument;
	fks_build_signal(out, &h, &(struct fks_signal_terms){
		.entry_px = entry,
		.confidence = confidence > FKS_CONF_ONE ? FKS_CONF_ONE : confidence,
		.strategy = ctx->strategy_id,
		.side = side,
		.cause_seq = md->h.seq,
	});
}

void strategy_common_init(struct strategy_common *c, const struct strategy_ctx *ctx)
{
	memset(c, 0, sizeof *c);
	c->ctx = *ctx;
	c->on = STRATEGY_ON_QUOTE;
	strategy_bracket_defaults(&c->bracket);
	ind_atr_init(&c->atr, 14);
}

int strategy_common_param(struct strategy_common *c, const struct fks_param *p,
			  struct fks_param_error *err)
{
	static const char *const sources[] = { "quote", "trade" };
	static const char *const bar_kinds[] = { "time", "volume" };

	if (strcmp(p->key, "on") == 0) {
		unsigned v;

		if (strategy_parse_enum(p, sources, 2, &v, err))
			return -1;
		c->on = (enum strategy_source)v;
		c->on_given = true;
		return 1;
	}
	if (strcmp(p->key, "bar") == 0) {
		unsigned v;

		if (strategy_parse_enum(p, bar_kinds, 2, &v, err))
			return -1;
		c->bar_kind = v == 0 ? BARS_TIME : BARS_VOLUME;
		return 1;
	}
	if (strcmp(p->key, "bar_ms") == 0)
		return strategy_parse_u32(p, 1, 86400000, &c->bar_ms, err) ? -1 : 1;
	if (strcmp(p->key, "bar_volume") == 0) {
		int64_t v;

		if (parse_fixed(p, c->ctx.qty_scale, &v, err))
			return -1;
		if (v <= 0)
			return fks_param_fail(err, p->key, "%s: %s is not above 0", p->key,
					     p->value);
		c->bar_volume = v;
		return 1;
	}
	if (strcmp(p->key, "bracket_atr") == 0) {
		uint32_t n;

		if (strategy_parse_u32(p, 1, 1000, &n, err))
			return -1;
		ind_atr_init(&c->atr, n);
		return 1;
	}
	return strategy_bracket_param(&c->bracket, p, true, err);
}

int strategy_common_finish(struct strategy_common *c, struct fks_param_error *err)
{
	/* Keys may come in any order, so their combinations are checked here. */
	if (c->bar_ms && c->bar_kind != BARS_TIME)
		return fks_param_fail(err, "bar_ms", "bar_ms: needs bar: time");
	if (c->bar_volume && c->bar_kind != BARS_VOLUME)
		return fks_param_fail(err, "bar_volume", "bar_volume: needs bar: volume");
	if (c->bar_kind == 0)
		return 0;
	if (c->bar_kind == BARS_TIME && !c->bar_ms)
		return fks_param_fail(err, "bar", "bar: time needs bar_ms");
	if (c->bar_kind == BARS_VOLUME && !c->bar_volume)
		return fks_param_fail(err, "bar", "bar: volume needs bar_volume");
	/* Bars are made of trades; a quote source would be silently ignored. */
	if (c->on_given && c->on == STRATEGY_ON_QUOTE)
		return fks_param_fail(err, "on", "on: bars are built from trades; use on: trade "
					    "or leave on out");
	c->on = STRATEGY_ON_TRADE;

	const struct bars_params bp = {
		.kind = c->bar_kind,
		.use_quote_mids = false,
		.instrument = c->ctx.instrument,
		.interval_ns = (int64_t)c->bar_ms * 1000000,
		.threshold = c->bar_volume,
	};
	int rc = bars_init(&c->bars, &bp);

	if (rc != BARS_OK)
		return fks_param_fail(err, "bar", "bar: %s", bars_strerror(rc));
	return 0;
}

bool strategy_common_sample(struct strategy_common *c, const union fks_event *md,
			    struct strategy_sample *s)
{
	if (c->bar_kind) {
		struct bar b;

		if (!bars_on_event(&c->bars, md, &b))
			return false;
		s->px2 = 2 * b.close;
		s->buy_px = s->sell_px = b.close;
		ind_atr_update(&c->atr, 2 * b.high, 2 * b.low, 2 * b.close);
		return true;
	}
	if (!strategy_sample(md, c->on, s))
		return false;
	ind_atr_update(&c->atr, s->px2, s->px2, s->px2);
	return true;
}

bool strategy_common_signal(struct strategy_common *c, const union fks_event *md, uint8_t side,
			    uint32_t confidence, const struct strategy_sample *s,
			    struct fks_ev_signal *out)
{
	int64_t entry = side == FKS_SIDE_BUY ? s->buy_px : s->sell_px;
	int64_t atr = 0;
	double a2;

	/* The ATR is of doubled prices: halve it, rounding down. */
	if (ind_atr_value(&c->atr, &a2) && a2 >= 0)
		atr = ind_round_fx(a2) / 2;
	else if (c->bracket.tp_atr_ppm || c->bracket.sl_atr_ppm)
		return false;
	strategy_signal_init(out, md, &c->ctx, side, confidence, entry);
	strategy_bracket_apply(&c->bracket, side, entry, atr, &out->take_profit_px,
			       &out->stop_loss_px);
	return true;
}

uint32_t strategy_confidence(double strength)
{
	if (!(strength > 0))
		strength = 0;
	if (strength > 1)
		strength = 1;
	return (uint32_t)(500000.0 + 500000.0 * strength);
}
