/*
 * The simulated venue behind gateway/venue.h.  Parameters (all optional):
 *   fill            touch | none | queue      (default touch)
 *   latency_us      0..SIM_VENUE_MAX_LATENCY_US   (default 0)
 *   slippage_bps    0..SIM_VENUE_MAX_SLIPPAGE_BPS (default 0)
 *   slippage_ticks  0..4294967295               (default 0)
 * Its state is a struct sim_venue; see sim_venue.h for what it does.
 */
#ifndef FKS_GATEWAY_VENUES_SIM_SIM_OPS_H
#define FKS_GATEWAY_VENUES_SIM_SIM_OPS_H

#include "gateway/venue.h"
#include "gateway/venues/sim/sim_venue.h"

extern const struct venue_vtbl sim_venue_vtbl;

/* The parameters above into *sp (defaults first; no instruments): what
 * init parses, for callers that run a struct sim_venue directly and may
 * change a parameter before sim_venue_init (`fks replay --set fill=...`).
 * 0, or -1 with *err naming the key. */
int sim_venue_parse_params(struct sim_venue_params *sp, const struct fks_param *params, size_t n_params,
			   struct fks_param_error *err);

#endif
