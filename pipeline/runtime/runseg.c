#include "pipeline/runtime/runseg.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm/segment.h"
#include "shm/clock.h"
#include "pipeline/runtime/topology.h"

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
		[CTR_TAP_REFUSED] = "tap_refused",
		[CTR_JOURNALED] = "journaled",
		[CTR_COMMITS] = "commits",
		[CTR_MAP_GROWS] = "map_grows",
		[CTR_JOURNAL_BLOCKED] = "journal_blocked",
	};
	return c < CTR_COUNT ? names[c] : "?";
}

uint64_t runseg_not_journaled(const struct run_segment *rs, const struct journal_mark *m, enum fks_cfg_stage s)
{
	if (s >= FKS_CFG_JOURNAL)
		return 0; /* the journal stage taps nothing */
	uint64_t tapped = atomic_load(&rs->stage[s].counter[CTR_TAPPED]);
	uint64_t held = atomic_load(&m->events[s]);
	return tapped > held ? tapped - held : 0;
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
	snprintf(buf, cap, "%s.%s", prefix, topology[r].name);
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
	char pstate;
	if (seg_proc_identity(getpid(), &rs->supervisor_start_ticks, &pstate) != 0) {
		/* without it no later run could tell this one alive from dead */
		int saved = errno;
		seg_unmap(m, sizeof *rs);
		seg_unlink(name);
		errno = saved;
		return RING_E_SYS;
	}
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

int runseg_claim_lock(unsigned timeout_ms)
{
	int fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (unsigned waited = 0;; waited++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK || waited >= timeout_ms)
			break;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

void runseg_claim_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

bool runseg_supervisor_alive(const struct run_segment *rs)
{
	return seg_proc_alive(rs->supervisor_pid, rs->supervisor_start_ticks);
}

/* The cause part of runseg_explain, from what is known of the file. */
static void explain_cause(const char *name, int rc, int err, const struct stat *st, char *buf, size_t cap)
{
	if (st && st->st_uid != geteuid()) {
		snprintf(buf, cap, "it belongs to another user (this is uid %u)", (unsigned)geteuid());
		return;
	}
	switch (rc) {
	case RING_E_PERMS:
		snprintf(buf, cap, "its mode lets other users in, and FKS makes run segments 0600");
		return;
	case RING_E_SHORT:
		snprintf(buf, cap, "%lld bytes, too short for a run segment (%zu bytes)",
			 st ? (long long)st->st_size : -1LL, sizeof(struct run_segment));
		return;
	case RING_E_MAGIC:
		snprintf(buf, cap, "not an FKS run segment, or one whose run is still being created");
		return;
	case RING_E_VERSION: {
		void *m;
		size_t len;
		uint32_t version = 0;
		if (seg_map(name, false, offsetof(struct run_segment, n_stages), &m, &len) == RING_OK) {
			version = ((const struct run_segment *)m)->version;
			seg_unmap(m, len);
		}
		snprintf(buf, cap, "layout version %u of %lld bytes, from another FKS build (this one uses version %u, %zu bytes)",
			 version, st ? (long long)st->st_size : -1LL, RUNSEG_VERSION, sizeof(struct run_segment));
		return;
	}
	case RING_E_SYS:
		snprintf(buf, cap, "%s: %s", ring_strerror(rc), strerror(err));
		return;
	default:
		snprintf(buf, cap, "%s", ring_strerror(rc));
		return;
	}
}

void runseg_explain(const char *prefix, int rc, char *buf, size_t cap)
{
	int err = errno;
	char name[RUNSEG_NAME_MAX], cause[160];
	runseg_name(prefix, name, sizeof name);
	struct stat st;
	bool known = seg_stat(name, &st) == RING_OK;
	explain_cause(name, rc, err, known ? &st : NULL, cause, sizeof cause);
	if (known)
		snprintf(buf, cap, "/dev/shm/%s (owner uid %u, mode %04o): %s", name, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777), cause);
	else
		snprintf(buf, cap, "/dev/shm/%s: %s", name, cause);
}
