/*
 * The view of a running pipeline and what it says about its health.
 *
 * A stage is dead when its process is gone (or a zombie) while its state
 * still says it runs: a SIGKILLed stage writes nothing on its way out.
 * Market data is stale when the supervisor has said so (control.feed_dead)
 * or when the feed's events out have not moved for longer than
 * risk.stale_data_ms, as far as this exporter's looks can tell.
 */
#include "pipeline/metrics/metrics.h"

#include <stdarg.h>
#include <string.h>

#include "shm/segment.h"

int metrics_view_open(struct metrics_view *v, const struct fks_config *cfg, const char *prefix)
{
	memset(v, 0, sizeof *v);
	v->cfg = cfg;
	snprintf(v->prefix, sizeof v->prefix, "%s", prefix);
	return runseg_open(prefix, false, &v->rs);
}

void metrics_view_close(struct metrics_view *v)
{
	runseg_close(v->rs);
	v->rs = NULL;
}

void metrics_view_follow(struct metrics_view *v)
{
	if (v->rs && runseg_supervisor_alive(v->rs))
		return;
	struct run_segment *next;
	if (runseg_open(v->prefix, false, &next) != RING_OK)
		return;
	if (!runseg_supervisor_alive(next) ||
	    (v->rs && next->supervisor_pid == v->rs->supervisor_pid &&
	     next->supervisor_start_ticks == v->rs->supervisor_start_ticks)) {
		runseg_close(next); /* the same dead run, or another dead one */
		return;
	}
	runseg_close(v->rs);
	v->rs = next;
	v->feed_out_seen = 0;
	v->feed_moved_ns = 0;
}

const char *metrics_verdict_name(enum metrics_verdict v)
{
	switch (v) {
	case METRICS_OK: return "ok";
	case METRICS_DEGRADED: return "degraded";
	case METRICS_UNHEALTHY: return "unhealthy";
	}
	return "?";
}

static void note(struct metrics_assessment *a, enum metrics_verdict at_least, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct metrics_assessment *a, enum metrics_verdict at_least, const char *fmt, ...)
{
	if (a->verdict < at_least)
		a->verdict = at_least;
	size_t n = strlen(a->reasons);
	if (n && n + 2 < sizeof a->reasons)
		n += (size_t)snprintf(a->reasons + n, sizeof a->reasons - n, "; ");
	if (n + 1 >= sizeof a->reasons)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->reasons + n, sizeof a->reasons - n, fmt, ap);
	va_end(ap);
}

static bool process_lives(int32_t pid)
{
	uint64_t ticks;
	char state;
	return pid > 0 && seg_proc_identity(pid, &ticks, &state) == 0 && state != 'Z' && state != 'X';
}

static void assess_stages(const struct run_segment *rs, struct metrics_assessment *a)
{
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		const struct stage_stats *st = &rs->stage[s];
		const char *name = config_stage_name((enum fks_cfg_stage)s);
		uint32_t state = atomic_load(&st->state);
		int32_t pid = atomic_load(&st->pid);
		bool ended = state == STAGE_EXITED || state == STAGE_FAILED;
		/* A stage not started yet has no pid: it is starting, not dead. */
		a->stage_dead[s] = !ended && pid > 0 && !process_lives(pid);
		a->stage_up[s] = !ended && !a->stage_dead[s];
		if (state == STAGE_FAILED)
			note(a, METRICS_UNHEALTHY, "stage %s failed%s%.160s", name, st->error[0] ? ": " : "", st->error);
		else if (a->stage_dead[s])
			note(a, METRICS_UNHEALTHY, "stage %s died (pid %d gone)", name, (int)pid);
		else if (state == STAGE_EXITED && !a->stopping)
			note(a, METRICS_UNHEALTHY, "stage %s exited", name);
		if (state != STAGE_RUNNING)
			a->ready = false;
	}
}

static void assess_feed(struct metrics_view *v, uint64_t now_ns, struct metrics_assessment *a)
{
	const struct run_segment *rs = v->rs;
	uint64_t out = atomic_load(&rs->stage[FKS_CFG_FEED].events_out);
	if (!v->feed_moved_ns || out != v->feed_out_seen) {
		v->feed_out_seen = out;
		v->feed_moved_ns = now_ns;
	}
	a->feed_quiet_s = now_ns > v->feed_moved_ns ? (double)(now_ns - v->feed_moved_ns) / 1e9 : 0.0;
	bool dead = atomic_load(&rs->control.feed_dead);
	bool quiet = a->feed_quiet_s * 1e3 > (double)v->cfg->risk.stale_data_ms;
	a->feed_stale = dead || quiet;
	if (!out)
		a->ready = false;
	if (dead)
		note(a, METRICS_DEGRADED, "market data is stale: the feed is dead");
	else if (quiet && !a->stopping)
		note(a, METRICS_DEGRADED, "market data is stale: no event from the feed for %.1f s (risk.stale_data_ms %u)",
		     a->feed_quiet_s, (unsigned)v->cfg->risk.stale_data_ms);
}

void metrics_assess(struct metrics_view *v, uint64_t now_ns, struct metrics_assessment *a)
{
	memset(a, 0, sizeof *a);
	const struct run_segment *rs = v->rs;
	if (!rs) { /* `fks metrics` started before any run under the prefix */
		note(a, METRICS_UNHEALTHY, "no pipeline has run under prefix '%s' since the exporter started", v->prefix);
		return;
	}
	a->ready = true;
	a->supervisor_alive = runseg_supervisor_alive(rs);
	a->kill = atomic_load(&rs->control.kill);
	a->stopping = atomic_load(&rs->control.stop);
	if (!a->supervisor_alive) {
		note(a, METRICS_UNHEALTHY, "the pipeline is not running (supervisor pid %d gone)", rs->supervisor_pid);
		a->ready = false;
	}
	if (a->kill)
		note(a, METRICS_UNHEALTHY, "kill switch on: %.120s", rs->control.kill_reason);
	if (a->stopping) {
		note(a, METRICS_DEGRADED, "stopping");
		a->ready = false;
	}
	assess_stages(rs, a);
	assess_feed(v, now_ns, a);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void metrics_write_health(const struct metrics_view *v, const struct metrics_assessment *a, uint64_t now_ns,
			  FILE *out)
{
	const struct run_segment *rs = v->rs;
	fprintf(out, "{\"status\":\"%s\",\"prefix\":", metrics_verdict_name(a->verdict));
	json_string(out, v->prefix);
	if (!rs) {
		fprintf(out, ",\"supervisor_alive\":false,\"reasons\":");
		json_string(out, a->reasons);
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, ",\"supervisor_alive\":%s,\"kill_switch\":%s,\"stopping\":%s,\"stages\":{",
		a->supervisor_alive ? "true" : "false", a->kill ? "true" : "false", a->stopping ? "true" : "false");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		const struct stage_stats *st = &rs->stage[s];
		uint64_t beat = atomic_load(&st->heartbeat_ns);
		fprintf(out, "%s\"%s\":{\"state\":\"%s\",\"pid\":%d,\"up\":%s,\"dead\":%s,\"heartbeat_age_seconds\":%.6f}",
			s ? "," : "", config_stage_name((enum fks_cfg_stage)s), runseg_state_name(atomic_load(&st->state)),
			(int)atomic_load(&st->pid), a->stage_up[s] ? "true" : "false", a->stage_dead[s] ? "true" : "false",
			beat && now_ns > beat ? (double)(now_ns - beat) / 1e9 : 0.0);
	}
	fprintf(out, "},\"feed\":{\"stale\":%s,\"quiet_seconds\":%.3f},\"reasons\":",
		a->feed_stale ? "true" : "false", a->feed_quiet_s);
	json_string(out, a->reasons);
	fprintf(out, "}\n");
}

void metrics_write_ready(const struct metrics_assessment *a, FILE *out)
{
	fprintf(out, "{\"ready\":%s}\n", a->ready ? "true" : "false");
}
