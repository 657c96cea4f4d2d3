/*
 * The journal stage: the one LMDB writer (pipeline/journal), draining the
 * four taps.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pipeline/runtime/stage_int.h"
#include "pipeline/journal/journal.h"

/*
 * The one LMDB writer.  It drains the four taps in turn, appends each event
 * under the next global sequence number, and commits a batch when it holds
 * journal.batch_events events, when its first event has waited batch_us, or
 * (journal.commit_when_idle, the default) when the taps are empty: group
 * commit that adapts to the backlog (journal_commit_when_idle).  It never
 * drops: when it falls behind, the taps fill and their stages block.  It
 * ignores the kill switch (a killed pipeline still wants its record) and
 * stops once every tap is closed and drained.
 */
#define JOURNAL_TAPS 4

/*
 * A commit (an LMDB transaction and, in the durable sync modes, an
 * fdatasync) can take longer than the supervisor's heartbeat timeout on a
 * slow disk: 682 ms was seen unforced, 1.2 s under load.  The stage loop
 * cannot beat while it waits, so a keeper thread beats for it while a
 * commit is in progress.  A slow commit then holds the journal back (its
 * taps fill and the producers block: back-pressure), it does not kill it.
 * A commit still running after JOURNAL_COMMIT_STALL_NS is a stuck disk: the
 * keeper stops beating and the supervisor declares the journal dead one
 * heartbeat timeout later.
 */
#define JOURNAL_COMMIT_STALL_NS (30ull * 1000000000ull)
#define JOURNAL_KEEPER_PERIOD_NS 20000000ull /* a healthy stage's beat */

/*
 * Test-only hook: FKS_TEST_JOURNAL_COMMIT_DELAY_MS=<ms> in the environment of
 * `fks run` makes every commit of the journal stage sleep that long first,
 * a slow disk on demand (tests/e2e/test_run.c).  Read once at journal-stage
 * start; unset, it costs nothing.  Not a setting: never set it in
 * production.
 */
#define JOURNAL_TEST_DELAY_ENV "FKS_TEST_JOURNAL_COMMIT_DELAY_MS"

/* What the journal has taken from each source up to one global key: the
 * private twin of runseg.h's struct journal_mark.  A tap is one source: tap
 * t carries enum fks_cfg_stage t. */
struct source_mark {
	uint64_t global_seq, events[JOURNAL_TAPS], seq[JOURNAL_TAPS];
};
/* Commits whose end is not yet known to be on disk (async mode has one in
 * flight and one filling; durable, none once journal_commit returns). */
#define JOURNAL_MARKS 64

struct journal_stage {
	struct stage *s;
	struct journal *j;
	struct ring_consumer tap[JOURNAL_TAPS];
	bool done[JOURNAL_TAPS];
	uint64_t liveness_ns[JOURNAL_TAPS]; /* last /proc look at each producer */
	uint64_t batch_n;       /* appended since the last commit */
	uint64_t due_ns;        /* commit by then; 0: nothing pending */
	uint64_t handed_seq;    /* async: the end of the last batch handed to a free committer */
	_Atomic uint64_t commit_since_ns; /* a commit, create or close began then; 0: none */
	_Atomic bool keeper_stop;
	bool keeper_on;
	pthread_t keeper;
	uint32_t test_delay_ms; /* JOURNAL_TEST_DELAY_ENV; 0 outside tests */
	struct journal_options opt;
	uint64_t part_born_ns;  /* CLOCK_MONOTONIC creation of the part being written */
	struct journal_meta meta; /* ~100 KiB: allocated with the rest; its
				     first_seq and part follow the rotations */
	struct source_mark appended;               /* by source, all appended so far */
	struct source_mark marks[JOURNAL_MARKS];   /* handed to commits, oldest first */
	unsigned n_marks;
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull) };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) != 0)
		; /* interrupted: sleep the rest */
}

/* The keeper thread: beats for the stage while a commit runs, up to the
 * stall bound.  Outside a commit the stage loop beats itself. */
static void *journal_keeper(void *arg)
{
	struct journal_stage *J = arg;
	while (!atomic_load_explicit(&J->keeper_stop, memory_order_acquire)) {
		sleep_ns(JOURNAL_KEEPER_PERIOD_NS);
		uint64_t since = atomic_load_explicit(&J->commit_since_ns, memory_order_acquire);
		uint64_t now = stage_now_ns();
		if (since && now - since < JOURNAL_COMMIT_STALL_NS)
			atomic_store_explicit(&J->s->st->heartbeat_ns, now, memory_order_relaxed);
	}
	return NULL;
}

static int journal_keeper_start(struct journal_stage *J)
{
	const char *delay = getenv(JOURNAL_TEST_DELAY_ENV);
	J->test_delay_ms = delay ? (uint32_t)strtoul(delay, NULL, 10) : 0;
	int rc = pthread_create(&J->keeper, NULL, journal_keeper, J);
	if (rc)
		return stage_fail(J->s, "journal keeper thread: %s", strerror(rc));
	J->keeper_on = true;
	return 0;
}

static void journal_keeper_stop(struct journal_stage *J)
{
	if (!J->keeper_on)
		return;
	atomic_store_explicit(&J->keeper_stop, true, memory_order_release);
	pthread_join(J->keeper, NULL);
	J->keeper_on = false;
}

/* Bracket a wait on the disk (creating the journal, a commit, the close,
 * which commits the rest): the keeper beats in between. */
static void journal_disk_wait_begins(struct journal_stage *J)
{
	uint64_t now = stage_now_ns();
	atomic_store_explicit(&J->commit_since_ns, now, memory_order_release);
	atomic_store_explicit(&J->s->st->disk_wait_since_ns, now, memory_order_relaxed);
}

static void journal_commit_begins(struct journal_stage *J)
{
	journal_disk_wait_begins(J);
	if (J->test_delay_ms)
		sleep_ns(J->test_delay_ms * 1000000ull);
}

static void journal_commit_ends(struct journal_stage *J, uint64_t now)
{
	atomic_store_explicit(&J->commit_since_ns, 0, memory_order_release);
	atomic_store_explicit(&J->s->st->disk_wait_since_ns, 0, memory_order_relaxed);
	stage_beat(J->s, now);
}

/*
 * Rotation (journal.rotate_mb, rotate_s): only right after a commit, so a
 * part ends on a batch boundary with nothing pending.  journal_next_part
 * ends the part, moves it aside and creates the next one, whose keys go on
 * from the last; the taps simply wait meanwhile (back-pressure, nothing is
 * dropped).  It waits on the disk like a commit, so the keeper beats for
 * it.  Retention then deletes the oldest rotated parts beyond
 * journal.retain; a part it cannot delete is reported and kept, never a
 * reason to stop journaling.
 */
static bool journal_rotation_due(const struct journal_stage *J, uint64_t now)
{
	const struct fks_journal_cfg *c = &J->s->a->cfg->journal;
	if (c->rotate_mb && journal_data_bytes(J->j) > (uint64_t)c->rotate_mb << 20)
		return true;
	return c->rotate_s && now - J->part_born_ns >= c->rotate_s * 1000000000ull;
}

static void journal_marks_settle(struct journal_stage *J);

static int journal_stage_rotate(struct journal_stage *J)
{
	struct stage *s = J->s;
	const struct fks_journal_cfg *c = &s->a->cfg->journal;
	char moved[PATH_MAX + 80], err[1024], rerr[1024];
	journal_commit_begins(J); /* the keeper beats; the test hook's delay applies too */
	int rc = journal_next_part(&J->j, &J->meta, &J->opt, moved, sizeof moved, err, sizeof err);
	unsigned removed = 0;
	int kept = rc ? 0 : journal_retain(s->a->journal_dir, J->meta.start_time_ns, J->meta.part, c->retain,
					   &removed, rerr, sizeof rerr);
	uint64_t now = stage_now_ns();
	journal_commit_ends(J, now);
	if (rc)
		return stage_fail(s, "journal rotation: %s", err);
	J->part_born_ns = now;
	/* async: the events still pending went into the old part's end. */
	atomic_store_explicit(&s->st->counter[CTR_JOURNALED], journal_committed_seq(J->j), memory_order_relaxed);
	journal_marks_settle(J);
	atomic_store_explicit(&s->st->journal_part, J->meta.part, memory_order_relaxed);
	atomic_store_explicit(&s->st->journal_parts_removed, atomic_load(&s->st->journal_parts_removed) + removed,
			      memory_order_relaxed);
	if (kept)
		fprintf(stderr, "fks:journal: retention: %s (the part is kept; journaling goes on)\n", rerr);
	return 0;
}

static int journal_stage_commit(struct journal_stage *J);

/* ---- what is committed, by source (runseg.h struct journal_progress) ---- */

static void journal_note_source(struct journal_stage *J, unsigned t, const union fks_event *ev)
{
	J->appended.events[t]++;
	if (ev->h.seq > J->appended.seq[t])
		J->appended.seq[t] = ev->h.seq;
}

static void journal_mark_publish(struct journal_mark *m, const struct source_mark *src)
{
	for (unsigned t = 0; t < JOURNAL_TAPS; t++) {
		atomic_store_explicit(&m->events[t], src->events[t], memory_order_relaxed);
		atomic_store_explicit(&m->seq[t], src->seq[t], memory_order_release);
	}
	atomic_store_explicit(&m->global_seq, src->global_seq, memory_order_release);
}

/* Before a commit: where it ends, queued and published as `committing`.
 * A full queue (an async committer far behind) merges into its newest
 * mark: later, so never more than the disk holds. */
static void journal_marks_push(struct journal_stage *J)
{
	J->appended.global_seq = journal_appended_seq(J->j);
	if (J->n_marks && J->marks[J->n_marks - 1].global_seq == J->appended.global_seq)
		return;
	if (J->n_marks == JOURNAL_MARKS)
		J->n_marks--;
	J->marks[J->n_marks++] = J->appended;
	journal_mark_publish(&J->s->run->journal.committing, &J->appended);
}

/* Publish the newest queued mark the journal has committed. */
static void journal_marks_settle(struct journal_stage *J)
{
	uint64_t done = journal_committed_seq(J->j);
	unsigned k = 0;
	while (k < J->n_marks && J->marks[k].global_seq <= done)
		k++;
	if (!k)
		return;
	journal_mark_publish(&J->s->run->journal.committed, &J->marks[k - 1]);
	memmove(J->marks, J->marks + k, (J->n_marks - k) * sizeof J->marks[0]);
	J->n_marks -= k;
}

/*
 * Commit when the taps are empty: nothing more is there to group with the
 * batch, so committing now costs no event any latency, and an idle run's
 * lone event is durable at once instead of batch_us later.  Under load the
 * taps are never empty after a pass: events keep arriving while a commit
 * runs (an fdatasync in the durable modes), the next pass finds them, and
 * batches grow with the backlog up to batch_events.  So the batch size
 * follows the load: about the events that arrive during one commit.
 *
 * journal.commit_when_idle (default true) turns it off for a disk where
 * every extra sync costs (shared, or slow to flush): at moderate rates it
 * commits more often than batch_us would.  journal.write_ahead always
 * commits when idle: the gateway holds each order until it is committed,
 * so a batch window would be its tick-to-trade.
 *
 * In async mode a commit hands the batch to the committer thread, and a
 * call while that is still busy would do nothing but count a commit: the
 * idle commit waits until the last batch handed over is committed, and
 * then hands over everything appended meanwhile.  (batch_us still calls
 * regardless, so a hand-off that raced the committer's end is late by at
 * most batch_us.)
 */
static bool journal_committer_free(struct journal_stage *J)
{
	return J->s->a->cfg->journal.sync != FKS_SYNC_ASYNC || journal_committed_seq(J->j) >= J->handed_seq;
}

static int journal_commit_when_idle(struct journal_stage *J, bool took)
{
	const struct fks_journal_cfg *c = &J->s->a->cfg->journal;
	if (!(c->commit_when_idle || c->write_ahead) || took || !journal_pending(J->j) || !journal_committer_free(J))
		return 0;
	return journal_stage_commit(J);
}

static int journal_stage_commit(struct journal_stage *J)
{
	if (journal_committer_free(J))
		J->handed_seq = journal_appended_seq(J->j);
	journal_marks_push(J);
	uint64_t t = stage_now_ns();
	journal_commit_begins(J);
	int rc = journal_commit(J->j);
	uint64_t t_end = stage_now_ns();
	journal_commit_ends(J, t_end);
	if (rc)
		return stage_fail(J->s, "journal commit: %s", journal_error(J->j));
	struct stage_stats *st = J->s->st;
	/* Busy: a commit is the journal's work, wherever it is called from
	 * (a full batch, the taps empty, batch_us); the drain counts only its
	 * appends. */
	stats_add(&st->busy_ns, t_end - t);
	hist_record(&st->latency, t_end - t);
	stats_add(&st->counter[CTR_COMMITS], 1);
	atomic_store_explicit(&st->counter[CTR_JOURNALED], journal_committed_seq(J->j), memory_order_relaxed);
	atomic_store_explicit(&st->counter[CTR_MAP_GROWS], journal_map_grows(J->j), memory_order_relaxed);
	journal_marks_settle(J);
	J->batch_n = 0;
	if (journal_rotation_due(J, t_end)) {
		if (journal_stage_rotate(J))
			return 1;
		J->due_ns = 0; /* the rotation committed everything */
		return 0;
	}
	/* async: a busy committer leaves events pending; come back for them. */
	J->due_ns = journal_pending(J->j) ? t_end + J->s->a->cfg->journal.batch_us * 1000ull : 0;
	return 0;
}

/* Append what one tap holds now; returns events taken, or -1 on failure. */
static int journal_stage_drain(struct journal_stage *J, unsigned t)
{
	const struct fks_config *cfg = J->s->a->cfg;
	int total = 0, k;
	while ((k = (int)ring_try_peek(&J->tap[t], BATCH * 4)) > 0) {
		uint64_t t_busy = stage_now_ns();
		for (int i = 0; i < k; i++) {
			const union fks_event *ev = ring_rslot(&J->tap[t], (uint32_t)i);
			int rc = journal_append(J->j, ev, NULL, 0);
			if (rc)
				return stage_fail(J->s, "journal append (type %u from tap %u): %s", ev->h.type, t,
						  journal_strerror(rc)), -1;
			journal_note_source(J, t, ev);
		}
		ring_release(&J->tap[t], (uint32_t)k);
		if (!J->batch_n)
			J->due_ns = t_busy + cfg->journal.batch_us * 1000ull;
		J->batch_n += (uint64_t)k;
		total += k;
		stats_add(&J->s->st->events_in, (uint64_t)k);
		stats_add(&J->s->st->busy_ns, stage_now_ns() - t_busy);
		if (J->batch_n >= cfg->journal.batch_events && journal_stage_commit(J))
			return -1;
		stage_beat(J->s, stage_now_ns()); /* a busy journal is not a stalled one */
		if ((uint64_t)total >= cfg->journal.batch_events)
			break; /* let the other taps in: no tap starves another */
	}
	return total;
}

/* Its producer closed the tap, or died (checked through /proc, so only
 * every 100 ms).  The supervisor deals with a death; the journal only
 * stops waiting for that tap. */
static bool journal_tap_over(struct journal_stage *J, unsigned t, uint64_t now)
{
	const struct ring_shared *shm = J->tap[t].shm;
	if (atomic_load_explicit(&shm->closed, memory_order_acquire))
		return true;
	if (now - J->liveness_ns[t] < 100000000ull)
		return false;
	J->liveness_ns[t] = now;
	return ring_side_state(shm, RING_PRODUCER, now, 0) == RING_PEER_DEAD;
}

/* How long an idle journal sleeps between looks at its taps: its batch
 * window, within [50 us, 1 ms].  Well inside `fks tail`'s 50 ms. */
static uint64_t journal_poll_ns(const struct fks_config *cfg)
{
	uint64_t ns = cfg->journal.batch_us * 1000ull;
	return ns < 50000 ? 50000 : ns > 1000000 ? 1000000 : ns;
}

/* Nothing new: note the taps that are over; false once all are. */
static bool journal_any_open(struct journal_stage *J, uint64_t now)
{
	bool any_open = false;
	for (unsigned t = 0; t < JOURNAL_TAPS; t++) {
		if (J->done[t])
			continue;
		if (ring_try_peek(&J->tap[t], 1) == 0 && journal_tap_over(J, t, now) &&
		    ring_try_peek(&J->tap[t], 1) == 0)
			J->done[t] = true; /* nothing more comes */
		else
			any_open = true;
	}
	return any_open;
}

/* One pass over the taps: events taken, KERNEL_DONE once every tap is over,
 * or KERNEL_FAILED. */
static int journal_poll(struct kernel *k, uint64_t now)
{
	struct journal_stage *J = k->state;
	const struct fks_config *cfg = k->s.a->cfg;
	int took = 0;
	for (unsigned t = 0; t < JOURNAL_TAPS; t++) {
		if (J->done[t])
			continue;
		int n = journal_stage_drain(J, t);
		if (n < 0)
			return KERNEL_FAILED;
		took += n;
	}
	if (journal_commit_when_idle(J, took > 0))
		return KERNEL_FAILED;
	now = stage_now_ns();
	if (J->due_ns && now >= J->due_ns && journal_stage_commit(J))
		return KERNEL_FAILED;
	if (J->n_marks)
		journal_marks_settle(J); /* async: a commit in flight landed */
	if (took)
		return took;
	if (!journal_any_open(J, now))
		return KERNEL_DONE;
	/* Poll, never park: a parked consumer costs every producer a futex
	 * wake-up per batch, a syscall on the hot path of the feed, to save a
	 * journal that is not latency-critical a few wake-ups.  So the runner
	 * sleeps to the next look (n_wake_in stays 0). */
	uint64_t until = now + journal_poll_ns(cfg);
	if (J->due_ns && J->due_ns < until)
		until = J->due_ns;
	k->wake_ns = until;
	return 0;
}

static int journal_open(struct kernel *k)
{
	struct stage *s = &k->s;
	struct journal_stage *J = calloc(1, sizeof *J);
	if (!J)
		return stage_fail(s, "out of memory");
	k->state = J;
	const struct fks_config *cfg = s->a->cfg;
	J->s = s;
	journal_meta_from_config(&J->meta, cfg, s->a->version ? s->a->version : "unknown");
	J->opt = (struct journal_options){ .sync = cfg->journal.sync, .batch_hint = cfg->journal.batch_events };
	char err[512];
	if (journal_keeper_start(J))
		return 1;
	journal_disk_wait_begins(J);
	int created = journal_create(s->a->journal_dir, &J->meta, &J->opt, &J->j, err, sizeof err);
	J->part_born_ns = stage_now_ns();
	journal_commit_ends(J, J->part_born_ns);
	if (created)
		return stage_fail(s, "%s", err);
	atomic_store_explicit(&s->st->journal_part, 1, memory_order_relaxed);
	static const enum run_ring taps[JOURNAL_TAPS] = { RUN_RING_TAP_FEED, RUN_RING_TAP_STRATEGY,
							  RUN_RING_TAP_RISK, RUN_RING_TAP_GATEWAY };
	for (unsigned t = 0; t < JOURNAL_TAPS; t++)
		if (stage_attach_in(s, &J->tap[t], taps[t]))
			return 1;
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	return 0;
}

/* Commit the rest and close; detach the taps. */
static int journal_close_kernel(struct kernel *k)
{
	struct journal_stage *J = k->state;
	struct stage *s = &k->s;
	if (!J)
		return 1;
	int rc = 0;
	bool failed = atomic_load_explicit(&s->st->state, memory_order_acquire) == STAGE_FAILED;
	/* After a failure the journal is left as its last commit made it: the
	 * process ends, and a commit of what failed could only fail again. */
	if (J->j && !failed) {
		atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
		uint64_t appended = journal_appended_seq(J->j);
		journal_marks_push(J);
		journal_commit_begins(J);
		rc = journal_close(J->j); /* commits the rest and flushes it; frees J->j */
		journal_commit_ends(J, stage_now_ns());
		J->j = NULL;
		if (rc == 0) {
			atomic_store_explicit(&s->st->counter[CTR_JOURNALED], appended, memory_order_relaxed);
			J->appended.global_seq = appended;
			journal_mark_publish(&s->run->journal.committed, &J->appended);
		}
	}
	for (unsigned t = 0; t < JOURNAL_TAPS; t++)
		ring_consumer_detach(&J->tap[t]);
	journal_keeper_stop(J);
	free(J);
	k->state = NULL;
	if (rc)
		return stage_fail(s, "journal close: %s", journal_strerror(rc));
	return failed ? 1 : 0;
}

const struct kernel_ops journal_kernel = { .open = journal_open, .poll = journal_poll, .close = journal_close_kernel };
