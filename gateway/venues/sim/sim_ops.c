#include "gateway/venues/sim/sim_ops.h"

#include <string.h>

#include "gateway/venues/sim/sim_venue.h"

_Static_assert(VENUE_MAX_INSTRUMENTS <= SIM_VENUE_MAX_INSTRUMENTS, "a venue_ctx fits the sim venue");

static const char *const fill_names[] = { "touch", "none", "queue" };
static const uint8_t fill_models[] = { SIM_FILL_TOUCH, SIM_FILL_NONE, SIM_FILL_QUEUE };

static int parse_fill(const struct fks_param *p, uint8_t *fill, struct fks_param_error *err)
{
	for (size_t i = 0; i < sizeof fill_names / sizeof fill_names[0]; i++)
		if (p->value && strcmp(p->value, fill_names[i]) == 0) {
			*fill = fill_models[i];
			return 0;
		}
	return fks_param_fail(err, p->key, "expected touch, none or queue, got '%s'",
			  p->value ? p->value : "");
}

static int parse_param(struct sim_venue_params *sp, const struct fks_param *p,
		       struct fks_param_error *err)
{
	if (strcmp(p->key, "fill") == 0)
		return parse_fill(p, &sp->fill, err);
	if (strcmp(p->key, "latency_us") == 0)
		return venue_parse_u32(p, 0, SIM_VENUE_MAX_LATENCY_US, &sp->latency_us, err);
	if (strcmp(p->key, "slippage_bps") == 0)
		return venue_parse_u32(p, 0, SIM_VENUE_MAX_SLIPPAGE_BPS, &sp->slippage_bps, err);
	if (strcmp(p->key, "slippage_ticks") == 0)
		return venue_parse_u32(p, 0, UINT32_MAX, &sp->slippage_ticks, err);
	return fks_param_fail(err, p->key, "unknown sim venue parameter");
}

int sim_venue_parse_params(struct sim_venue_params *sp, const struct fks_param *params, size_t n_params,
			   struct fks_param_error *err)
{
	memset(sp, 0, sizeof *sp);
	sp->fill = SIM_FILL_TOUCH;
	for (size_t i = 0; i < n_params; i++)
		if (parse_param(sp, &params[i], err) != 0)
			return -1;
	return 0;
}

static int sim_init(void *state, const struct venue_ctx *ctx, const struct fks_param *params,
		    size_t n_params, struct fks_param_error *err)
{
	struct sim_venue_params sp;

	if (sim_venue_parse_params(&sp, params, n_params, err) != 0)
		return -1;
	if (ctx->n_instruments == 0 || ctx->n_instruments > SIM_VENUE_MAX_INSTRUMENTS)
		return fks_param_fail(err, NULL, "%u instruments: the sim venue trades 1..%u",
				  ctx->n_instruments, SIM_VENUE_MAX_INSTRUMENTS);
	sp.n_instruments = ctx->n_instruments;
	memcpy(sp.instrument, ctx->instrument, ctx->n_instruments * sizeof sp.instrument[0]);
	if (sim_venue_init(state, &sp) != 0)
		return fks_param_fail(err, NULL, "instrument ids must be nonzero and distinct");
	return 0;
}

static void sim_on_order(void *state, const union fks_event *ev, venue_emit_fn emit, void *ctx)
{
	sim_venue_on_order(state, ev, emit, ctx);
}

static void sim_on_market(void *state, const union fks_event *md, venue_emit_fn emit, void *ctx)
{
	sim_venue_on_market(state, md, emit, ctx);
}

static void sim_cancel_all(void *state, venue_emit_fn emit, void *ctx)
{
	sim_venue_cancel_all(state, emit, ctx);
}

static bool sim_order_side(const void *state, uint64_t order_id, uint8_t *side)
{
	return sim_venue_order_side(state, order_id, side);
}

/* No sockets, no timers: poll, fds and close stay NULL. */
const struct venue_vtbl sim_venue_vtbl = {
	.type = "sim",
	.state_size = sizeof(struct sim_venue),
	.init = sim_init,
	.on_order = sim_on_order,
	.on_market = sim_on_market,
	.cancel_all = sim_cancel_all,
	.order_side = sim_order_side,
};
