/* The rings of the pipeline (topology.h). */
#include "pipeline/runtime/topology.h"

const struct topo_ring topology[RUN_RING_COUNT] = {
	[RUN_RING_MD] = { "market_data", TOPO_MAIN, FKS_CFG_FEED, FKS_CFG_STRATEGY, 64, FKS_RING_MARKET_DATA },
	[RUN_RING_ORDERS] = { "orders", TOPO_MAIN, FKS_CFG_STRATEGY, FKS_CFG_RISK, 128, FKS_RING_ORDERS },
	[RUN_RING_RISK_OUT] = { "risk_out", TOPO_MAIN, FKS_CFG_RISK, FKS_CFG_GATEWAY, 128, FKS_RING_RISK_OUT },
	[RUN_RING_EXEC_RISK] = { "exec_risk", TOPO_FEEDBACK, FKS_CFG_GATEWAY, FKS_CFG_RISK, 128,
				 FKS_RING_EXEC_REPORTS },
	/* risk rejects come back to the strategy through the gateway: 128 */
	[RUN_RING_EXEC_STRATEGY] = { "exec_strategy", TOPO_FEEDBACK, FKS_CFG_GATEWAY, FKS_CFG_STRATEGY, 128,
				     FKS_RING_EXEC_REPORTS },
	[RUN_RING_TAP_FEED] = { "tap_feed", TOPO_TAP, FKS_CFG_FEED, FKS_CFG_JOURNAL, 64, FKS_RING_JOURNAL },
	[RUN_RING_TAP_STRATEGY] = { "tap_strategy", TOPO_TAP, FKS_CFG_STRATEGY, FKS_CFG_JOURNAL, 128,
				    FKS_RING_JOURNAL },
	[RUN_RING_TAP_RISK] = { "tap_risk", TOPO_TAP, FKS_CFG_RISK, FKS_CFG_JOURNAL, 128, FKS_RING_JOURNAL },
	[RUN_RING_TAP_GATEWAY] = { "tap_gateway", TOPO_TAP, FKS_CFG_GATEWAY, FKS_CFG_JOURNAL, 64, FKS_RING_JOURNAL },
};
