/*
 * One replay: an input through the core, with the --out journal, the
 * --report files, the pacing of --speed and the printed summary.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/replay/replay_int.h"

struct out_sink {
	struct journal *j;
	const struct journal_meta *meta_src;
	struct journal_meta *meta;
	const char *dir;
	int err;
	char msg[512];
	uint64_t since_commit;
};

static void out_sink_fn(void *ctx, const union fks_event *ev)
{
	struct out_sink *o = ctx;
	if (o->err)
		return;
	int rc = journal_append(o->j, ev, NULL, 0);
	if (rc == JOURNAL_OK && ++o->since_commit >= 65536) {
		o->since_commit = 0;
		rc = journal_commit(o->j);
	}
	if (rc != JOURNAL_OK) {
		o->err = rc;
		snprintf(o->msg, sizeof o->msg, "%s: %s", o->dir, journal_error(o->j));
	}
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Pacing only: wall time decides when an event is fed, never what is in it. */
static void pace(const struct opts *o, int64_t *t0_wall, int64_t *t0_ev, int64_t ev_ns)
{
	if (o->speed == SPEED_ASAP)
		return;
	if (*t0_wall == 0) {
		*t0_wall = mono_ns();
		*t0_ev = ev_ns;
		return;
	}
	double due = (double)(ev_ns - *t0_ev) / o->speed_x;
	int64_t target = *t0_wall + (int64_t)due;
	int64_t now = mono_ns();
	if (target > now) {
		struct timespec ts = { .tv_sec = (time_t)(target / 1000000000), .tv_nsec = (long)(target % 1000000000) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void safe_title(const char *path, char *out, size_t cap)
{
	const char *b = strrchr(path, '/');
	b = b && b[1] ? b + 1 : path;
	size_t k = 0;
	for (; *b && k + 1 < cap; b++)
		out[k++] = (*b == '"' || *b == '\\' || *b == '<' || *b == '>' || *b == '&' || (unsigned char)*b < 32) ? '_' : *b;
	out[k] = 0;
}

/* The --out journal: metadata from the setup's config, with no wall clock
 * and no host name, so the same replay writes the same metadata. */
static int out_sink_open(struct out_sink *sink, const struct opts *o, const struct replay_setup *s,
			 const struct input *in)
{
	char err[512] = "";
	sink->meta = calloc(1, sizeof *sink->meta);
	if (!sink->meta)
		return 1;
	journal_meta_from_config(sink->meta, &s->cfg, "fks-replay");
	snprintf(sink->meta->host, sizeof sink->meta->host, "replay");
	sink->meta->start_time_ns = in->meta && in->meta->start_time_ns ? in->meta->start_time_ns : 1;
	struct journal_options jo = { .sync = FKS_SYNC_NOMETASYNC, .batch_hint = 65536 };
	if (journal_create(o->out, sink->meta, &jo, &sink->j, err, sizeof err) != JOURNAL_OK) {
		fprintf(stderr, "fks replay: --out %s\n", err);
		free(sink->meta);
		sink->meta = NULL;
		return 1;
	}
	return 0;
}

/* Every market event of the input through the core; 0, or 1 with the
 * message printed (an --out failure is left in sink for the caller). */
static int feed_core(const struct opts *o, struct replay_core *core, struct input *in, const struct out_sink *sink)
{
	char err[512] = "";
	union fks_event ev;
	int64_t t0_wall = 0, t0_ev = 0;
	int got;
	while ((got = input_next(in, &ev, err, sizeof err)) == 1) {
		pace(o, &t0_wall, &t0_ev, ev.h.event_time_ns);
		if (replay_core_market(core, &ev)) {
			fprintf(stderr, "fks replay: %s\n", replay_core_error(core));
			return 1;
		}
		if (sink->err)
			break;
	}
	if (got < 0) {
		fprintf(stderr, "fks replay: %s\n", err);
		return 1;
	}
	return 0;
}

static void print_summary(const struct replay_core *core, const struct input *in, const struct report *rep,
			  const struct report_metrics *m)
{
	struct replay_counts c;
	replay_core_counts(core, &c);
	input_print_errors(in, stderr);
	printf("market events %" PRIu64 "  orders %" PRIu64 "  risk rejects %" PRIu64 "  fills %" PRIu64
	       "  cancels %" PRIu64 "  venue rejects %" PRIu64 "\n",
	       c.market, c.orders, c.risk_rejects, c.fills, c.cancels, c.venue_rejects);
	printf("trades %" PRIu64 " (open %" PRIu64 ")  win rate %.2f%%  gross %.6f  fees %.6f  net %.6f\n",
	       m->trades, m->open_trades, m->win_rate * 100, m->gross, m->fees, m->net);
	printf("sharpe %.4f  sortino %.4f  calmar %.4f  max drawdown %.6f  exposure %.2f%%  turnover %.6f\n",
	       m->sharpe, m->sortino, m->calmar, m->max_drawdown, m->exposure * 100, m->turnover);
	for (uint32_t i = 0; i < rep->p.n_instruments; i++) {
		__int128 fees, net = report_net_cash(rep, rep->p.instrument[i].id, &fees);
		char a[80], b[80];
		report_format_cash(rep, (int)i, net, a, sizeof a);
		report_format_cash(rep, (int)i, fees, b, sizeof b);
		printf("%s net %s fees %s\n", rep->p.instrument[i].symbol, a, b);
	}
}

int replay_run_one(const struct opts *o, const struct replay_setup *s_in, struct input *in,
		   struct report_metrics *m, bool print)
{
	char err[512] = "";
	struct replay_core *core = NULL;
	struct out_sink sink = { .dir = o->out };
	int rc = 1;

	if (o->out && out_sink_open(&sink, o, s_in, in))
		return 1;
	if (replay_core_new(&core, s_in, o->out ? out_sink_fn : NULL, &sink, err, sizeof err)) {
		fprintf(stderr, "fks replay: %s\n", err);
		goto done;
	}
	if (feed_core(o, core, in, &sink))
		goto done;
	replay_core_finish(core);
	if (replay_core_error(core)) {
		fprintf(stderr, "fks replay: %s\n", replay_core_error(core));
		goto done;
	}
	if (sink.err) {
		fprintf(stderr, "fks replay: --out %s\n", sink.msg);
		goto done;
	}
	if (sink.j) {
		int jr = journal_close(sink.j);
		sink.j = NULL;
		if (jr != JOURNAL_OK) {
			fprintf(stderr, "fks replay: --out %s: %s\n", o->out, journal_strerror(jr));
			goto done;
		}
	}
	const struct report *rep = replay_core_report(core);
	report_metrics(rep, -1, 0, m);
	if (o->report_dir) {
		char title[256];
		safe_title(in->title ? in->title : o->input, title, sizeof title);
		if (report_write(rep, o->report_dir, title, err, sizeof err)) {
			fprintf(stderr, "fks replay: --report %s\n", err);
			goto done;
		}
	}
	if (print)
		print_summary(core, in, rep, m);
	rc = 0;
done:
	if (sink.j)
		journal_close(sink.j);
	free(sink.meta);
	replay_core_free(core);
	return rc;
}
