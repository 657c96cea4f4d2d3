#include "pipeline/runtime/runseg.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shm/segment.h"
#include "shm/clock.h"

const char *runseg_counter_name(enum stage_counter c)
{
	static const char *const names[CTR_COUNT] = {
		[CTR_QUOTES] = "quotes",
		[CTR_TRADES] = "trades",
		[CTR_ORDERS] = "orders",
		[CTR_RISK_PASSED] = "risk_passed",
		[CTR_RISK_REJECTED] = "risk_rejected",
		[CTR_ACKS] = "acks",
		[CTR_FILLS] = "fills",
		[CTR_VENUE_REJECTS] = "venue_rejects",
		[CTR_CANCELS] = "cancels",
		[CTR_KILL_BLOCKED] = "kill_blocked",
		[CTR_EXEC_IN] = "exec_in",
		[CTR_OUT_WAIT_DRAINS] = "out_wait_drains",
		[CTR_DROPPED] = "dropped",
		[CTR_TERMINAL] = "terminal",
		[CTR_ORDERS_AT_KILL] = "orders_at_kill",
		[CTR_TAPPED] = "tapped",
		[CTR_NOT_JOURNALED] = "not_journaled",
		[CTR_JOURNALED] = "journaled",
		[CTR_COMMITS] = "commits",
		[CTR_MAP_GROWS] = "map_grows",
	};
	return c < CTR_COUNT ? names[c] : "?";
}

const char *runseg_state_name(enum stage_state s)
{
	switch (s) {
	case STAGE_STARTING: return "starting";
	case STAGE_RUNNING: return "running";
	case STAGE_DRAINING: return "draining";
	case STAGE_EXITED: return "exited";
	case STAGE_FAILED: return "failed";
	}
	return "?";
}

void runseg_name(const char *prefix, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.run", prefix);
}

void runseg_ring_name(const char *prefix, enum run_ring r, char *buf, size_t cap)
{
	static const char *const names[RUN_RING_COUNT] = {
		[RUN_RING_MD] = "market_data",
		[RUN_RING_ORDERS] = "orders",
		[RUN_RING_RISK_OUT] = "risk_out",
		[RUN_RING_EXEC_RISK] = "exec_risk",
		[RUN_RING_EXEC_STRATEGY] = "exec_strategy",
		[RUN_RING_TAP_FEED] = "tap_feed",
		[RUN_RING_TAP_STRATEGY] = "tap_strategy",
		[RUN_RING_TAP_RISK] = "tap_risk",
		[RUN_RING_TAP_GATEWAY] = "tap_gateway",
	};
	snprintf(buf, cap, "%s.%s", prefix, names[r]);
}

int runseg_create(const char *prefix, struct run_segment **out)
{
	char name[RUNSEG_NAME_MAX];
	runseg_name(prefix, name, sizeof name);
	void *m;
	int rc = seg_create(name, sizeof(struct run_segment), &m);
	if (rc)
		return rc;
	struct run_segment *rs = m;
	rs->version = RUNSEG_VERSION;
	rs->n_stages = FKS_CFG_STAGE_COUNT;
	rs->supervisor_pid = getpid();
	rs->start_realtime_ns = clock_real_ns();
	snprintf(rs->prefix, sizeof rs->prefix, "%s", prefix);
	for (int r = 0; r < RUN_RING_COUNT; r++)
		runseg_ring_name(prefix, (enum run_ring)r, rs->ring_name[r], sizeof rs->ring_name[r]);
	__atomic_store_n(&rs->magic, RUNSEG_MAGIC, __ATOMIC_RELEASE);
	*out = rs;
	return RING_OK;
}

int runseg_open(const char *prefix, bool writable, struct run_segment **out)
{
	char name[RUNSEG_NAME_MAX];
	runseg_name(prefix, name, sizeof name);
	void *m;
	size_t len;
	int rc = seg_map(name, writable, sizeof(struct run_segment), &m, &len);
	if (rc)
		return rc;
	struct run_segment *rs = m;
	if (__atomic_load_n(&rs->magic, __ATOMIC_ACQUIRE) != RUNSEG_MAGIC)
		rc = RING_E_MAGIC;
	else if (rs->version != RUNSEG_VERSION || len != sizeof *rs)
		rc = RING_E_VERSION;
	if (rc) {
		seg_unmap(m, len);
		return rc;
	}
	*out = rs;
	return RING_OK;
}

void runseg_close(struct run_segment *rs)
{
	if (rs)
		seg_unmap(rs, sizeof *rs);
}

int runseg_unlink(const char *prefix)
{
	char name[RUNSEG_NAME_MAX];
	runseg_name(prefix, name, sizeof name);
	return seg_unlink(name);
}
