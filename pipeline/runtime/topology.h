/*
 * The pipeline's topology as data: every ring between the stages, who
 * produces it, who consumes it, its slot size and the config ring its
 * capacity comes from.  The supervisor creates the rings from this table
 * and closes a dead stage's outputs by it; the stages attach by it; replay
 * (pipeline/runtime/lockstep.h) routes events along the same edges with
 * direct calls.  Adding a stage is adding its rows.
 *
 *   feed --md--> strategy --orders--> risk --risk_out--> gateway
 *                   ^                   ^                   |
 *                   +---exec_strategy---+----exec_risk------+
 *   and a tap from each of feed, strategy, risk, gateway to the journal.
 */
#ifndef FKS_PIPELINE_TOPOLOGY_H
#define FKS_PIPELINE_TOPOLOGY_H

#include <stdint.h>

#include "pipeline/config/config.h"
#include "pipeline/runtime/runseg.h"

enum topo_edge_kind {
	TOPO_MAIN,     /* the main line: market data and orders, in order */
	TOPO_FEEDBACK, /* execution reports back, applied before the next main-line batch */
	TOPO_TAP,      /* what a stage originates, to the journal */
};

struct topo_ring {
	const char *name;              /* the shared-memory suffix: <prefix>.<name> */
	enum topo_edge_kind kind;
	enum fks_cfg_stage producer, consumer;
	uint32_t slot_size;            /* 128 where orders or risk rejects travel, else 64 */
	enum fks_ring_id capacity_key; /* the config's logical ring that sizes it */
};

/* By enum run_ring. */
extern const struct topo_ring topology[RUN_RING_COUNT];

static inline uint32_t topo_capacity(const struct fks_config *cfg, enum run_ring r)
{
	return cfg->ring[topology[r].capacity_key].capacity;
}

#endif
