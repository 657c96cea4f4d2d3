/*
 * /metrics: every family in the Prometheus text exposition format, version 0.0.4.
 *
 * Names follow Prometheus conventions: the fks_ prefix, _total on counters,
 * base units (seconds, bytes).  Every series is written on every scrape,
 * zeros included, so rate() and absent() behave.  Latency histograms map
 * struct hist (pipeline/runtime/hist.h) onto cumulative `le` buckets: two
 * per power of two (1.5 * 2^p and 2^(p+1), less 1 ns) from 191 ns to 8.6 s,
 * each bound the exact upper edge of a hist bucket, so a cumulative count is
 * exact, never interpolated.  Two, not the hist's sixteen: 53 series per
 * histogram keeps six histograms a modest load on Prometheus, and
 * histogram_quantile stays within a factor 1.5 of the value; `fks status`
 * and the journal keep the fine resolution.
 */
#include "pipeline/metrics/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "shm/fixed.h"

#define LE_FIRST_POW2 7  /* 128 ns */
#define LE_LAST_POW2 32  /* up to 2^33 - 1 ns, 8.6 s */
#define LE_PER_POW2 2

static void family(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(o, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", o);
		else
			fputc(*s, o);
	}
}

static void stage_labels(FILE *o, const struct fks_config *cfg, int s)
{
	fprintf(o, "stage=\"%s\",runner=\"", config_stage_name((enum fks_cfg_stage)s));
	label_value(o, cfg->runner[cfg->stage_runner[s]].name);
	fputc('"', o);
}

/* ns as seconds, exactly: 255 -> 0.000000255. */
static void seconds_exact(FILE *o, uint64_t ns)
{
	fprintf(o, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

/* One histogram's series; labels is written inside the braces ("" for
 * none).  _count is the sum of the buckets read, not h->count, so +Inf
 * equals _count even when a sample lands while this reads. */
static void histogram(FILE *o, const char *name, const char *labels, const struct hist *h)
{
	uint64_t seen = 0;
	unsigned next_pow2 = LE_FIRST_POW2, next_sub = HIST_SUB / LE_PER_POW2 - 1;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
		unsigned at = (next_pow2 - HIST_SUB_BITS + 1) * HIST_SUB + next_sub;
		if (next_pow2 > LE_LAST_POW2 || b != at)
			continue;
		fprintf(o, "%s_bucket{%s%sle=\"", name, labels, labels[0] ? "," : "");
		seconds_exact(o, hist_bucket_high(b));
		fprintf(o, "\"} %" PRIu64 "\n", seen);
		next_sub += HIST_SUB / LE_PER_POW2;
		if (next_sub >= HIST_SUB) {
			next_sub = HIST_SUB / LE_PER_POW2 - 1;
			next_pow2++;
		}
	}
	fprintf(o, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, labels[0] ? "," : "", seen);
	const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
	fprintf(o, "%s_sum%s%s%s ", name, open, labels, close);
	seconds_exact(o, atomic_load_explicit(&h->sum, memory_order_relaxed));
	fprintf(o, "\n%s_count%s%s%s %" PRIu64 "\n", name, open, labels, close, seen);
}

typedef uint64_t (*stage_value_fn)(const struct stage_stats *st);

static uint64_t v_events_in(const struct stage_stats *st) { return atomic_load(&st->events_in); }
static uint64_t v_events_out(const struct stage_stats *st) { return atomic_load(&st->events_out); }
static uint64_t v_busy(const struct stage_stats *st) { return atomic_load(&st->busy_ns); }
static uint64_t v_idle(const struct stage_stats *st) { return atomic_load(&st->idle_ns); }
static uint64_t v_cpu(const struct stage_stats *st) { return atomic_load(&st->cpu_ns); }

/* A per-stage family; ns: the value is nanoseconds, written as seconds. */
static void per_stage(FILE *o, const struct metrics_view *v, const char *name, const char *type, const char *help,
		      stage_value_fn value, bool ns)
{
	family(o, name, type, help);
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		fprintf(o, "%s{", name);
		stage_labels(o, v->cfg, s);
		fputs("} ", o);
		uint64_t x = value(&v->rs->stage[s]);
		if (ns)
			seconds_exact(o, x);
		else
			fprintf(o, "%" PRIu64, x);
		fputc('\n', o);
	}
}

static void stages(FILE *o, const struct metrics_view *v, const struct metrics_assessment *a, uint64_t now)
{
	const struct run_segment *rs = v->rs;
	family(o, "fks_stage_up", "gauge", "1 while the stage's process lives and the stage has not ended");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		fputs("fks_stage_up{", o);
		stage_labels(o, v->cfg, s);
		fprintf(o, "} %d\n", a->stage_up[s]);
	}
	family(o, "fks_stage_state", "gauge", "1 for the state the stage is in (starting, running, draining, exited, failed)");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++)
		for (int k = STAGE_STARTING; k <= STAGE_FAILED; k++) {
			fputs("fks_stage_state{", o);
			stage_labels(o, v->cfg, s);
			fprintf(o, ",state=\"%s\"} %d\n", runseg_state_name((enum stage_state)k),
				atomic_load(&rs->stage[s].state) == (uint32_t)k);
		}
	per_stage(o, v, "fks_stage_events_in_total", "counter", "Events the stage consumed", v_events_in, false);
	per_stage(o, v, "fks_stage_events_out_total", "counter", "Events the stage emitted", v_events_out, false);
	per_stage(o, v, "fks_stage_busy_seconds_total", "counter", "Time the stage spent handling events", v_busy, true);
	per_stage(o, v, "fks_stage_idle_seconds_total", "counter", "Time the stage spent waiting for input", v_idle, true);
	per_stage(o, v, "fks_stage_cpu_seconds_total", "counter",
		  "CPU time of the stage's process, every thread (sampled every few ms)", v_cpu, true);
	family(o, "fks_stage_busy_ratio", "gauge", "Busy time over busy plus idle time since the stage started");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		uint64_t busy = v_busy(&rs->stage[s]), idle = v_idle(&rs->stage[s]);
		fputs("fks_stage_busy_ratio{", o);
		stage_labels(o, v->cfg, s);
		fprintf(o, "} %.6f\n", busy + idle ? (double)busy / (double)(busy + idle) : 0.0);
	}
	family(o, "fks_stage_heartbeat_age_seconds", "gauge", "Time since the stage's last heartbeat");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		uint64_t beat = atomic_load(&rs->stage[s].heartbeat_ns);
		fputs("fks_stage_heartbeat_age_seconds{", o);
		stage_labels(o, v->cfg, s);
		fputs("} ", o);
		seconds_exact(o, beat && now > beat ? now - beat : 0);
		fputc('\n', o);
	}
	family(o, "fks_stage_latency_seconds", "histogram",
	       "Receive of the cause to emit, per event (journal: per commit)");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		char labels[256] = "";
		FILE *lo = fmemopen(labels, sizeof labels - 1, "w");
		if (lo) {
			stage_labels(lo, v->cfg, s);
			fclose(lo);
		}
		histogram(o, "fks_stage_latency_seconds", labels, &rs->stage[s].latency);
	}
}

static void rings(FILE *o, const struct metrics_view *v)
{
	static const struct { const char *name, *type, *help; } fam[] = {
		{ "fks_ring_depth", "gauge", "Events in the ring, written and not yet read" },
		{ "fks_ring_capacity", "gauge", "Slots in the ring" },
		{ "fks_ring_blocked_seconds_total", "counter", "Time the producer waited on a full ring" },
		{ "fks_ring_full_waits_total", "counter", "Times the producer found the ring full" },
	};
	const struct ring_shared *shm[RUN_RING_COUNT];
	size_t len[RUN_RING_COUNT];
	for (int r = 0; r < RUN_RING_COUNT; r++)
		if (ring_observe(v->rs->ring_name[r], &shm[r], &len[r]) != RING_OK)
			shm[r] = NULL; /* gone with a finished run: no series */
	size_t plen = strlen(v->rs->prefix) + 1;
	for (size_t f = 0; f < sizeof fam / sizeof *fam; f++) {
		family(o, fam[f].name, fam[f].type, fam[f].help);
		for (int r = 0; r < RUN_RING_COUNT; r++) {
			if (!shm[r])
				continue;
			const struct ring_side_info *p = &shm[r]->side[RING_PRODUCER];
			fprintf(o, "%s{ring=\"%s\"} ", fam[f].name, v->rs->ring_name[r] + plen);
			if (f == 0)
				fprintf(o, "%" PRIu64 "\n", ring_depth(shm[r]));
			else if (f == 1)
				fprintf(o, "%" PRIu64 "\n", shm[r]->capacity);
			else if (f == 2) {
				seconds_exact(o, atomic_load(&p->blocked_ns));
				fputc('\n', o);
			} else
				fprintf(o, "%" PRIu64 "\n", (uint64_t)atomic_load(&p->waits));
		}
	}
	for (int r = 0; r < RUN_RING_COUNT; r++)
		if (shm[r])
			ring_unobserve(shm[r], len[r]);
}

static void counter(FILE *o, const char *name, const char *help, uint64_t value)
{
	family(o, name, "counter", help);
	fprintf(o, "%s %" PRIu64 "\n", name, value);
}

static void orders(FILE *o, const struct metrics_view *v)
{
	const struct run_segment *rs = v->rs;
	const struct stage_stats *fd = &rs->stage[FKS_CFG_FEED], *sg = &rs->stage[FKS_CFG_STRATEGY];
	const struct stage_stats *rk = &rs->stage[FKS_CFG_RISK], *gw = &rs->stage[FKS_CFG_GATEWAY];
#define C(st, c) ((uint64_t)atomic_load(&(st)->counter[c]))
	counter(o, "fks_feed_quotes_total", "Quotes the feed published", C(fd, CTR_QUOTES));
	counter(o, "fks_feed_trades_total", "Trades the feed published", C(fd, CTR_TRADES));
	counter(o, "fks_feed_dropped_total", "Market data events the feed dropped by conflation", C(fd, CTR_DROPPED));
	counter(o, "fks_strategy_intents_total", "Order intents the strategies emitted", C(sg, CTR_ORDERS));
	counter(o, "fks_risk_passed_total", "Order intents that passed risk", C(rk, CTR_RISK_PASSED));
	counter(o, "fks_orders_total", "Orders the gateway sent to the venue", C(gw, CTR_ORDERS));
	counter(o, "fks_acks_total", "Venue acknowledgements", C(gw, CTR_ACKS));
	counter(o, "fks_fills_total", "Fills from the venue", C(gw, CTR_FILLS));
	counter(o, "fks_cancels_total", "Cancels confirmed by the venue", C(gw, CTR_CANCELS));
	family(o, "fks_order_rejects_total", "counter",
	       "Orders refused, by who refused them (origin) and why (reason; the venue's are not split by code)");
	for (unsigned r = 1; r < FKS_RISK_REASON_SLOTS; r++) {
		const char *name = fks_risk_reason_name(r);
		if (name)
			fprintf(o, "fks_order_rejects_total{origin=\"risk\",reason=\"%s\"} %" PRIu64 "\n", name,
				(uint64_t)atomic_load(&rk->reject_reason[r]));
	}
	fprintf(o, "fks_order_rejects_total{origin=\"gateway\",reason=\"kill_switch\"} %" PRIu64 "\n",
		C(gw, CTR_KILL_BLOCKED));
	fprintf(o, "fks_order_rejects_total{origin=\"gateway\",reason=\"journal_down\"} %" PRIu64 "\n",
		C(gw, CTR_JOURNAL_BLOCKED));
	fprintf(o, "fks_order_rejects_total{origin=\"venue\",reason=\"venue\"} %" PRIu64 "\n", C(gw, CTR_VENUE_REJECTS));
	family(o, "fks_tick_to_trade_seconds", "histogram", "Feed receive of the tick to the order leaving for the venue");
	histogram(o, "fks_tick_to_trade_seconds", "", &gw->tick_to_trade);
#undef C
}

static void positions(FILE *o, const struct metrics_view *v)
{
	const struct fks_config *cfg = v->cfg;
	const struct stage_stats *gw = &v->rs->stage[FKS_CFG_GATEWAY];
	family(o, "fks_position", "gauge", "Position per instrument, in units of the instrument");
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		fputs("fks_position{instrument=\"", o);
		label_value(o, ic->symbol);
		fprintf(o, "\"} %.9g\n", (double)atomic_load(&gw->position[ic->id]) / (double)fx_pow10(ic->qty_scale));
	}
	family(o, "fks_realized_pnl", "gauge",
	       "Realized P&L per instrument, in its quote currency (read while the gateway writes: may be torn)");
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		double cash = (double)runseg_realized_cash(gw, ic->id);
		fputs("fks_realized_pnl{instrument=\"", o);
		label_value(o, ic->symbol);
		fprintf(o, "\"} %.9g\n", cash / (double)fx_pow10(ic->px_scale) / (double)fx_pow10(ic->qty_scale));
	}
}

static void journal(FILE *o, const struct metrics_view *v, const struct metrics_assessment *a, uint64_t now)
{
	const struct run_segment *rs = v->rs;
	const struct stage_stats *jn = &rs->stage[FKS_CFG_JOURNAL];
	counter(o, "fks_journal_commits_total", "LMDB transactions the journal committed", atomic_load(&jn->counter[CTR_COMMITS]));
	counter(o, "fks_journal_events_total", "Events the journal committed", atomic_load(&jn->counter[CTR_JOURNALED]));
	counter(o, "fks_journal_map_grows_total", "Times the journal's map doubled", atomic_load(&jn->counter[CTR_MAP_GROWS]));
	family(o, "fks_journal_lag_events", "gauge", "Events the stage tapped that the journal has not committed yet");
	for (int s = 0; s < FKS_CFG_JOURNAL; s++) {
		fputs("fks_journal_lag_events{", o);
		stage_labels(o, v->cfg, s);
		fprintf(o, "} %" PRIu64 "\n", runseg_not_journaled(rs, &rs->journal.committed, (enum fks_cfg_stage)s));
	}
	/* While the journal stage lives, tapped but uncommitted is in flight;
	 * once it is gone, it is lost. */
	family(o, "fks_journal_not_journaled_events", "gauge",
	       "Events the stage tapped that the journal will never hold (the journal stage is gone)");
	for (int s = 0; s < FKS_CFG_JOURNAL; s++) {
		fputs("fks_journal_not_journaled_events{", o);
		stage_labels(o, v->cfg, s);
		fprintf(o, "} %" PRIu64 "\n",
			a->stage_up[FKS_CFG_JOURNAL] ? 0
						     : runseg_not_journaled(rs, &rs->journal.committed, (enum fks_cfg_stage)s));
	}
	family(o, "fks_journal_commit_wait_seconds", "gauge", "How long the commit in progress has waited on the disk");
	uint64_t since = atomic_load(&jn->disk_wait_since_ns);
	fputs("fks_journal_commit_wait_seconds ", o);
	seconds_exact(o, since && now > since ? now - since : 0);
	fprintf(o, "\n");
	family(o, "fks_journal_part", "gauge", "The journal part being written (1, 2, ... as it rotates)");
	fprintf(o, "fks_journal_part %u\n", atomic_load(&jn->journal_part));
}

void metrics_write(struct metrics_view *v, uint64_t now_ns, FILE *o)
{
	struct metrics_assessment a;
	metrics_assess(v, now_ns, &a);
	const struct run_segment *rs = v->rs;
	family(o, "fks_up", "gauge", "1 while the pipeline's supervisor runs");
	fprintf(o, "fks_up %d\n", a.supervisor_alive);
	if (!rs) { /* no run yet: only what can be said without one */
		family(o, "fks_health", "gauge", "0 ok, 1 degraded, 2 unhealthy (as /health)");
		fprintf(o, "fks_health %d\n", (int)a.verdict);
		family(o, "fks_ready", "gauge", "1 once every stage runs and market data has flowed (as /ready)");
		fprintf(o, "fks_ready 0\n");
		return;
	}
	family(o, "fks_start_time_seconds", "gauge", "When the run started, seconds since the epoch");
	fprintf(o, "fks_start_time_seconds %.3f\n", (double)rs->start_realtime_ns / 1e9);
	family(o, "fks_health", "gauge", "0 ok, 1 degraded, 2 unhealthy (as /health)");
	fprintf(o, "fks_health %d\n", (int)a.verdict);
	family(o, "fks_ready", "gauge", "1 once every stage runs and market data has flowed (as /ready)");
	fprintf(o, "fks_ready %d\n", a.ready);
	family(o, "fks_kill_switch", "gauge", "1 while the kill switch is on");
	fprintf(o, "fks_kill_switch %d\n", a.kill);
	family(o, "fks_stopping", "gauge", "1 once the pipeline is stopping (signal, --duration, a failure)");
	fprintf(o, "fks_stopping %d\n", a.stopping);
	family(o, "fks_feed_stale", "gauge", "1 while market data is stale (feed dead, or quiet past risk.stale_data_ms)");
	fprintf(o, "fks_feed_stale %d\n", a.feed_stale);
	family(o, "fks_feed_quiet_seconds", "gauge", "Time since the feed's events out last moved, as the exporter saw it");
	fprintf(o, "fks_feed_quiet_seconds %.3f\n", a.feed_quiet_s);
	stages(o, v, &a, now_ns);
	rings(o, v);
	orders(o, v);
	positions(o, v);
	journal(o, v, &a, now_ns);
}
