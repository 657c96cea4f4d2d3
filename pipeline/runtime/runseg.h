/*
 * The run segment: one shared-memory file per running pipeline,
 * /dev/shm/<prefix>.run, created by the supervisor.  It holds the control
 * words (kill switch, stop) and every stage's counters and histograms.
 *
 * Each stage block is written by that stage only; the supervisor and
 * `fks status` only read it, so observing a pipeline never disturbs it.
 * The control block is written by the supervisor and read by the stages on
 * their slow path (once per batch): a relaxed load of a line that stays
 * shared in their caches.
 */
#ifndef FKS_PIPELINE_RUNSEG_H
#define FKS_PIPELINE_RUNSEG_H

#include <stdatomic.h>
#include <stdint.h>

#include "pipeline/config/config.h"
#include "pipeline/runtime/hist.h"
#include "shm/reasons.h"

#define RUNSEG_MAGIC 0x314e5552534b46ull /* "FKSRUN1" */
#define RUNSEG_VERSION 7u /* 4: the supervisor's start time; 5: disk_wait_since_ns;
			     6: journal_progress, journal_blocked, tap_refused;
			     7: cpu_ns, cpu_since_ns, cpu_at_ns, journal_part, journal_parts_removed */
#define RUNSEG_NAME_MAX 64

enum stage_state {
	STAGE_STARTING = 0,
	STAGE_RUNNING = 1,
	STAGE_DRAINING = 2, /* input closed: finishing what is queued */
	STAGE_EXITED = 3,   /* clean exit */
	STAGE_FAILED = 4,   /* the stage reported an error before exiting */
};

/* Stage-specific counters, one array shared by all stages; each stage uses
 * the ones that apply.  Names are in runseg_counter_name(). */
enum stage_counter {
	CTR_QUOTES,          /* feed: quotes out; others: quotes in */
	CTR_TRADES,
	CTR_ORDERS,          /* strategy: intents out; risk: intents in; gateway: orders to venue */
	CTR_RISK_PASSED,
	CTR_RISK_REJECTED,
	CTR_ACKS,
	CTR_FILLS,
	CTR_VENUE_REJECTS,
	CTR_CANCELS,
	CTR_KILL_BLOCKED,    /* gateway: orders refused because the kill switch is on */
	CTR_EXEC_IN,         /* execution reports consumed */
	CTR_OUT_WAIT_DRAINS, /* output ring full: feedback drained while waiting */
	CTR_DROPPED,         /* feed: market data dropped by conflation */
	CTR_TERMINAL,        /* gateway: orders that reached filled, canceled or rejected */
	CTR_ORDERS_AT_KILL,  /* gateway: orders sent to the venue when it first saw the kill switch */
	CTR_TAPPED,          /* events this stage handed to its journal tap (taken or not) */
	/* Of those, the ones its tap could not take: the journal stage had died.
	 * What was not journaled in all is tapped minus what the journal
	 * committed (runseg_not_journaled), not this. */
	CTR_TAP_REFUSED,
	CTR_JOURNALED,       /* journal: events committed */
	CTR_COMMITS,         /* journal: LMDB transactions committed */
	CTR_MAP_GROWS,       /* journal: times the map doubled on MDB_MAP_FULL */
	/* gateway: orders refused because the journal stage was dead or stalled,
	 * or its tap's consumer gone: an order the journal cannot record never
	 * leaves.  At the end, so the JSON summary's keys keep their order. */
	CTR_JOURNAL_BLOCKED,
	CTR_COUNT
};

struct stage_stats {
	_Alignas(128) _Atomic int32_t pid;
	_Atomic uint32_t state;          /* enum stage_state */
	_Atomic uint64_t heartbeat_ns;   /* CLOCK_MONOTONIC */
	/* journal: CLOCK_MONOTONIC start of the commit (or create, close) it is
	 * waiting on the disk for; 0: none.  `fks status` shows a long one. */
	_Atomic uint64_t disk_wait_since_ns;
	_Atomic uint64_t events_in;
	_Atomic uint64_t events_out;
	_Atomic uint64_t busy_ns;        /* handling events */
	_Atomic uint64_t idle_ns;        /* waiting for input */
	_Atomic uint64_t counter[CTR_COUNT];
	_Atomic int64_t position[FKS_MAX_INSTRUMENTS + 1]; /* risk: by instrument id */
	/* gateway: exact realized P&L (gateway/position.h) in cash units (scale
	 * px_scale + qty_scale), a signed 128-bit integer in two halves, so it
	 * cannot overflow; runseg_realized_cash() joins them.  Read after the
	 * gateway has stopped (the summary); a reader while it runs may join
	 * halves of two different values. */
	_Atomic uint64_t realized_cash_lo[FKS_MAX_INSTRUMENTS + 1];
	_Atomic uint64_t realized_cash_hi[FKS_MAX_INSTRUMENTS + 1];
	_Atomic uint64_t reject_reason[FKS_RISK_REASON_SLOTS]; /* risk: by enum fks_risk_reason */
	char error[160];                 /* why the stage failed, for the supervisor */
	struct hist latency;             /* receive of the cause -> emit, ns */
	struct hist tick_to_trade;       /* gateway: feed receive -> order to venue, ns */
	/* The stage process's CPU time (CLOCK_PROCESS_CPUTIME_ID, every thread),
	 * sampled by stage_beat every STAGE_CPU_SAMPLE_NS and when the stage
	 * ends, and the CLOCK_MONOTONIC times of its start and of the sample:
	 * "cpu %" is cpu_ns / (cpu_at_ns - cpu_since_ns).  Unlike busy_ns and
	 * idle_ns, which count the sections a stage times itself, it sees
	 * everything the process spends: polling, syscalls, its other threads. */
	_Atomic uint64_t cpu_ns;
	_Atomic uint64_t cpu_since_ns;
	_Atomic uint64_t cpu_at_ns;
	/* journal: the part being written (1, 2, ... as it rotates) and the
	 * rotated parts deleted by journal.retain. */
	_Atomic uint32_t journal_part;
	_Atomic uint32_t journal_parts_removed;
};

struct run_control {
	_Alignas(128) _Atomic uint32_t kill;     /* kill switch: no new orders, cancel open */
	_Atomic uint32_t kill_stage;             /* enum fks_cfg_stage that caused it */
	_Atomic uint32_t stop;                   /* orderly stop: the feed stops, stages drain */
	_Atomic uint32_t feed_dead;              /* market data is stale for good */
	char kill_reason[120];
};

/*
 * What the journal stage has committed from each source (feed, strategy,
 * risk, gateway: one tap each), written by the journal stage only.  A
 * source's event seq is dense in its tap, so `seq` is also how far the
 * source is journaled: the gateway's write-ahead wait compares an order's
 * seq with it.  `events` counts what was committed, for runseg_not_journaled.
 */
struct journal_mark {
	_Atomic uint64_t global_seq;                  /* the journal's key of the last event */
	_Atomic uint64_t events[FKS_CFG_STAGE_COUNT]; /* by enum fks_cfg_stage */
	_Atomic uint64_t seq[FKS_CFG_STAGE_COUNT];    /* highest source seq */
};

struct journal_progress {
	_Alignas(128) struct journal_mark committed;
	/* The batch being committed: published before the commit starts, so
	 * after a crash of the journal stage the summary can tell which of the
	 * two marks the journal on disk ends at (its last key is one of the two
	 * global_seq). */
	struct journal_mark committing;
};

struct run_segment {
	uint64_t magic;
	uint32_t version;
	uint32_t n_stages;
	int32_t supervisor_pid;
	uint32_t pad0;
	int64_t start_realtime_ns;
	/* The supervisor's /proc start time (shm/segment.h): with its pid, what
	 * tells a running pipeline from a crashed one whose pid was reused. */
	uint64_t supervisor_start_ticks;
	char prefix[FKS_STATS_PREFIX_MAX];
	char ring_name[9][RUNSEG_NAME_MAX]; /* by enum run_ring */
	struct run_control control;
	struct stage_stats stage[FKS_CFG_STAGE_COUNT];
	struct journal_progress journal;
};

/* Physical rings: the four of the config plus the second exec ring. */
enum run_ring {
	RUN_RING_MD = 0,            /* feed -> strategy: market data */
	RUN_RING_ORDERS = 1,        /* strategy -> risk: market data forwarded + order intents */
	RUN_RING_RISK_OUT = 2,      /* risk -> gateway: market data forwarded + checked orders */
	RUN_RING_EXEC_RISK = 3,     /* gateway -> risk: execution reports */
	RUN_RING_EXEC_STRATEGY = 4, /* gateway -> strategy: execution reports */
	/* Taps: what each stage originates, on its way to the journal. */
	RUN_RING_TAP_FEED = 5,      /* market data */
	RUN_RING_TAP_STRATEGY = 6,  /* orders, APPLIED markers */
	RUN_RING_TAP_RISK = 7,      /* risk rejects, APPLIED markers */
	RUN_RING_TAP_GATEWAY = 8,   /* execution reports */
	RUN_RING_COUNT
};
_Static_assert(RUN_RING_COUNT == sizeof(((struct run_segment *)0)->ring_name) / RUNSEG_NAME_MAX,
	       "one ring name per physical ring");

const char *runseg_counter_name(enum stage_counter c);
const char *runseg_state_name(enum stage_state s);

/* "<prefix>.run" and "<prefix>.<ring>" */
void runseg_name(const char *prefix, char *buf, size_t cap);
void runseg_ring_name(const char *prefix, enum run_ring r, char *buf, size_t cap);

/* Supervisor: create a fresh segment (RING_E_EXISTS if one is there). */
int runseg_create(const char *prefix, struct run_segment **out);
/* Stages (writable) and observers (read-only): map and validate. */
int runseg_open(const char *prefix, bool writable, struct run_segment **out);
void runseg_close(struct run_segment *rs);
int runseg_unlink(const char *prefix);

/* Claiming a prefix is check-then-create: look at the segment there, remove
 * it if its run crashed, create ours.  Two supervisors doing that at once
 * could both remove and both fail, so every claim holds this lock, an
 * exclusive flock(2) on /dev/shm itself (a lock file of its own would be
 * left behind, or race with its own removal).  It is held for milliseconds;
 * runseg_claim_lock waits up to timeout_ms for it.  The fd to pass to
 * runseg_claim_unlock, or -1 with errno (EWOULDBLOCK: still held). */
int runseg_claim_lock(unsigned timeout_ms);
void runseg_claim_unlock(int fd);

/* The supervisor that created rs still runs: a process with its pid exists
 * and started at the recorded time.  Otherwise the run crashed (the
 * supervisor removes its segments on every orderly stop), and its segments
 * are stale, even if another process now has that pid. */
bool runseg_supervisor_alive(const struct run_segment *rs);

/* Why runseg_open refused prefix's segment with rc, for the operator: the
 * file, its owner and mode, and the cause, e.g. "/dev/shm/fks.run (owner
 * uid 1001, mode 0600): it belongs to another user".  Call it right after
 * runseg_open (it reads errno). */
void runseg_explain(const char *prefix, int rc, char *buf, size_t cap);

static inline void stats_add(_Atomic uint64_t *c, uint64_t v)
{
	/* one writer per stage block: no locked add needed */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

/* Events stage s tapped that the journal does not hold, given the mark the
 * journal ends at (rs->journal.committed unless the summary found out
 * otherwise).  While the run goes on, what is in flight; after the journal
 * stage is gone, what was lost. */
uint64_t runseg_not_journaled(const struct run_segment *rs, const struct journal_mark *m, enum fks_cfg_stage s);

/* The stage's wall time so far (from its start to its last CPU sample),
 * and its CPU time over it in percent of one core (0 before a sample). */
static inline uint64_t runseg_cpu_wall_ns(const struct stage_stats *st)
{
	uint64_t since = atomic_load(&st->cpu_since_ns), at = atomic_load(&st->cpu_at_ns);
	return since && at > since ? at - since : 0;
}

static inline double runseg_cpu_pct(const struct stage_stats *st)
{
	uint64_t wall = runseg_cpu_wall_ns(st);
	return wall ? 100.0 * (double)atomic_load(&st->cpu_ns) / (double)wall : 0.0;
}

/* The gateway's realized P&L of instrument id, in cash units. */
static inline __int128 runseg_realized_cash(const struct stage_stats *st, uint32_t id)
{
	unsigned __int128 u = (unsigned __int128)atomic_load(&st->realized_cash_hi[id]) << 64 |
			      atomic_load(&st->realized_cash_lo[id]);
	return (__int128)u;
}

#endif
