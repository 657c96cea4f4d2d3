/* The strategy stage's logic (signal_logic.h). */
#include "pipeline/runtime/signal_logic.h"

#include <stdio.h>
#include <string.h>

static void engine_out(void *user, const union fks_event *ev)
{
	struct signal_logic *L = user;
	L->emit(L->ctx, ev);
}

int signal_logic_init(struct signal_logic *L, const struct fks_config *cfg, signal_emit_fn emit, void *ctx,
		      char *err, size_t errlen)
{
	memset(L, 0, sizeof *L);
	L->emit = emit;
	L->ctx = ctx;
	if (cfg->n_strategies) {
		L->use_engine = true;
		uint32_t bad = 0;
		struct fks_param_error serr;
		if (config_build_engine(cfg, &L->engine, engine_out, L, &bad, &serr)) {
			snprintf(err, errlen, "strategies[%u] (%s): %s%s%s", bad, cfg->strategies[bad].name,
				 serr.key ? serr.key : "", serr.key ? ": " : "", serr.msg);
			return -1;
		}
		return 0;
	}
	L->n = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		struct ma_cross_params p = {
			.instrument = ic->id,
			.fast = cfg->strategy.fast,
			.slow = cfg->strategy.slow,
			.qty = ic->order_qty,
			.order_type = (uint8_t)cfg->strategy.order_type,
			.strategy_id = (uint16_t)i,
			.order_id_base = (uint64_t)ic->id << 40,
		};
		int rc = ma_cross_init(&L->cross[i], &p);
		if (rc) {
			snprintf(err, errlen, "ma_cross %s: %s", ic->symbol, ma_cross_strerror(rc));
			return -1;
		}
	}
	return 0;
}

void signal_logic_free(struct signal_logic *L)
{
	if (L->use_engine)
		engine_free(&L->engine);
}

static struct ma_cross *cross_for(struct signal_logic *L, uint32_t instrument)
{
	return instrument >= 1 && instrument <= L->n ? &L->cross[instrument - 1] : NULL;
}

void signal_logic_on_market(struct signal_logic *L, const union fks_event *md)
{
	if (L->use_engine) {
		engine_on_market(&L->engine, md);
		return;
	}
	struct ma_cross *m = cross_for(L, md->h.instrument);
	union fks_event order;
	if (m && ma_cross_on_market(m, md, &order.order_new))
		L->emit(L->ctx, &order);
}

void signal_logic_on_exec(struct signal_logic *L, const union fks_event *ev)
{
	if (L->use_engine) {
		engine_on_exec(&L->engine, ev);
		return;
	}
	struct ma_cross *m = cross_for(L, ev->h.instrument);
	if (m)
		ma_cross_on_exec(m, ev);
}
