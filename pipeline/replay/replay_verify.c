/*
 * fks replay --verify.
 *
 * Feed a live journal's market data through strategy and risk, applying the
 * journaled execution reports where its FKS_EV_APPLIED markers say, and
 * compare every produced order and risk reject with the journaled one.
 * h.seq and h.flags are not compared: the live stages number markers and
 * orders in one sequence, and replay sets FKS_EVF_REPLAY.  Risk's clock is
 * the order's receive time, plus the age a journaled STALE_DATA reject of
 * that order recorded (the one input live timing adds).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/replay/replay_int.h"
#include "shm/event_fields.h"
#include "shm/text_sink.h"

struct jev {
	uint64_t key;
	union fks_event ev;
};

struct jarr {
	struct jev *v;
	size_t n, cap;
};

static int jarr_push(struct jarr *a, uint64_t key, const union fks_event *ev)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 1024;
		struct jev *n = realloc(a->v, cap * sizeof *n);
		if (!n)
			return -1;
		a->v = n;
		a->cap = cap;
	}
	a->v[a->n].key = key;
	a->v[a->n].ev = *ev;
	a->n++;
	return 0;
}

static int cmp_md_seq(const void *a, const void *b)
{
	const struct jev *x = a, *y = b;
	if (x->ev.h.seq != y->ev.h.seq)
		return x->ev.h.seq < y->ev.h.seq ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_marker_pos(const void *a, const void *b)
{
	const struct jev *x = a, *y = b;
	if (x->ev.applied.input_pos != y->ev.applied.input_pos)
		return x->ev.applied.input_pos < y->ev.applied.input_pos ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key; /* journal order within one point */
}

/* Field values are short (a number, an enum's name, a 16-byte symbol), so
 * the buffer never fills: a drain would only ever drop. */
static void drop_drain(struct fks_sink *s) { s->len = 0; }

/* One field's value as the field table prints it: prices and quantities
 * as raw integers (no scales here), enums by name. */
static void field_text(const union fks_event *e, const struct fks_field *f, char *out, size_t cap)
{
	char buf[128];
	struct fks_sink s = { .buf = buf, .cap = sizeof buf, .drain = drop_drain };
	fks_field_print(&s, e, f, NULL, FKS_STYLE_TEXT);
	snprintf(out, cap, "%.*s", (int)s.len, buf);
}

/* False when equal; else true, and out names the first field that differs
 * (shm/event_fields.h, the one field table) and both values.  seq and
 * flags are not compared (see the top of this file): the replayed event
 * takes the journal's before the comparison. */
static bool event_diff(const union fks_event *journal, const union fks_event *replay, char *out, size_t cap)
{
	union fks_event r = *replay;
	r.h.seq = journal->h.seq;
	r.h.flags = journal->h.flags;
	const struct fks_field *f = fks_event_first_difference(journal, &r);
	if (!f)
		return false;
	char a[64], b[64];
	field_text(journal, f, a, sizeof a);
	field_text(&r, f, b, sizeof b);
	snprintf(out, cap, "%s: journal %s, replay %s", f->name, a, b);
	return true;
}

struct verify {
	struct jarr md, orders, rejects, smark, rmark, gw;
	const union fks_event **gw_by_seq, **rej_by_seq;
	uint64_t gw_max, rej_max;
	uint64_t bad_key;        /* first mismatch (journal key), UINT64_MAX none */
	char what[600];
};

static void mismatch(struct verify *v, uint64_t key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mismatch(struct verify *v, uint64_t key, const char *fmt, ...)
{
	if (key >= v->bad_key)
		return;
	v->bad_key = key;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->what, sizeof v->what, fmt, ap);
	va_end(ap);
}

static const union fks_event *report_of(struct verify *v, const struct jev *mk)
{
	uint64_t s = mk->ev.applied.applied_seq;
	if (mk->ev.applied.applied_source == FKS_STAGE_GATEWAY)
		return s >= 1 && s <= v->gw_max ? v->gw_by_seq[s] : NULL;
	if (mk->ev.applied.applied_source == FKS_STAGE_RISK)
		return s >= 1 && s <= v->rej_max ? v->rej_by_seq[s] : NULL;
	return NULL;
}

static int index_by_seq(const struct jarr *a, const union fks_event ***out, uint64_t *max)
{
	uint64_t m = 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].ev.h.seq > m)
			m = a->v[i].ev.h.seq;
	*out = calloc(m + 1, sizeof **out);
	if (!*out)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		(*out)[a->v[i].ev.h.seq] = &a->v[i].ev;
	*max = m;
	return 0;
}

/* The live strategy and risk kernels in lockstep (lockstep.h), driven a
 * stage at a time; what a call makes is caught from their taps. */
#define DRIVE_MAX_OUT 128 /* a strategy's events per market event (the relay's limit) */

struct drive {
	struct lockstep *ls;
	union fks_event out[DRIVE_MAX_OUT]; /* what the strategy sent for the last market event */
	unsigned n_out;
	union fks_event rej;                /* risk's reject of the last order, if has_rej */
	bool has_rej;
};

static void drive_tap(void *ctx, enum fks_cfg_stage from, const union fks_event *ev)
{
	struct drive *d = ctx;
	size_t size = fks_event_size(ev->h.type);
	if (ev->h.type == FKS_EV_APPLIED)
		return;
	if (from == FKS_CFG_STRATEGY && d->n_out < DRIVE_MAX_OUT) {
		memcpy(&d->out[d->n_out++], ev, size);
	} else if (from == FKS_CFG_RISK && ev->h.type == FKS_EV_RISK_REJECT) {
		memcpy(&d->rej, ev, size);
		d->has_rej = true;
	}
}

/* Risk checks one produced order; the next journaled reject must be its. */
static void verify_risk_order(struct verify *v, struct drive *core, const union fks_event *order, size_t oi,
			      size_t pos, size_t *rk)
{
	const struct fks_ev_order_new *o = &order->order_new;
	const struct fks_ev_risk_reject *next = *rk < v->rejects.n ? &v->rejects.v[*rk].ev.risk_reject : NULL;
	int64_t now = o->h.recv_time_ns;
	if (next && next->order_id == o->order_id && next->reason == FKS_RISK_STALE_DATA && next->limit > 0)
		now += next->value; /* the live clock, where it mattered */
	core->has_rej = false;
	lockstep_stage_event(core->ls, FKS_CFG_RISK, order, (uint64_t)now);
	if (core->has_rej) {
		const union fks_event *rej = &core->rej;
		enum fks_risk_reason why = rej->risk_reject.reason;
		char what[200];
		if (!next)
			mismatch(v, oi < v->orders.n ? v->orders.v[oi].key : v->md.v[pos].key,
				 "replay's risk rejects order %" PRIu64 " (%s); the journal has no such reject", o->order_id,
				 fks_risk_reason_name(why));
		else if (event_diff(&v->rejects.v[*rk].ev, rej, what, sizeof what))
			mismatch(v, v->rejects.v[*rk].key, "risk_reject (risk seq %" PRIu64 "): %s", v->rejects.v[*rk].ev.h.seq,
				 what);
		++*rk;
	} else if (next && next->order_id == o->order_id) {
		mismatch(v, v->rejects.v[*rk].key, "risk_reject of order %" PRIu64 " (%s): replay's risk passes it",
			 o->order_id, fks_risk_reason_name(next->reason));
		++*rk;
	}
}

/* Sort the journal's events into the lists --verify compares. */
static struct jarr *verify_list(struct verify *v, const union fks_event *e)
{
	switch (e->h.type) {
	case FKS_EV_QUOTE: case FKS_EV_TRADE: case FKS_EV_BOOK_DELTA: return &v->md;
	case FKS_EV_ORDER_NEW: case FKS_EV_SIGNAL: case FKS_EV_ORDER_CANCEL: case FKS_EV_ORDER_REPLACE:
		/* everything the strategy sends down */
		return e->h.source == FKS_STAGE_STRATEGY ? &v->orders : NULL;
	case FKS_EV_RISK_REJECT: return e->h.source == FKS_STAGE_RISK ? &v->rejects : NULL;
	case FKS_EV_ORDER_ACK: case FKS_EV_FILL: case FKS_EV_ORDER_REJECT: case FKS_EV_CANCEL_ACK:
		return e->h.source == FKS_STAGE_GATEWAY ? &v->gw : NULL;
	case FKS_EV_APPLIED:
		return e->h.source == FKS_STAGE_STRATEGY ? &v->smark : e->h.source == FKS_STAGE_RISK ? &v->rmark : NULL;
	default: return NULL;
	}
}

/* Read the journal into v's lists, then order and index them. */
static int verify_load(const char *path, struct verify *v, char *err, size_t errlen)
{
	struct journal_reader *jr;
	if (journal_open_reader(path, &jr, err, errlen) != JOURNAL_OK)
		return -1;
	struct journal_record rec;
	int rc;
	uint64_t corrupt = 0;
	while ((rc = journal_read(jr, &rec)) != 0) {
		if (rc == JOURNAL_E_CORRUPT) {
			corrupt++;
			continue;
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path, journal_reader_error(jr));
			journal_reader_close(jr);
			return -1;
		}
		struct jarr *dst = verify_list(v, &rec.ev);
		if (dst && jarr_push(dst, rec.seq, &rec.ev)) {
			snprintf(err, errlen, "out of memory");
			journal_reader_close(jr);
			return -1;
		}
	}
	journal_reader_close(jr);
	if (corrupt)
		fprintf(stderr, "fks replay --verify: %s: %" PRIu64 " corrupt records skipped\n", path, corrupt);

	/* The strategy's main input is the market data in feed order. */
	qsort(v->md.v, v->md.n, sizeof *v->md.v, cmp_md_seq);
	qsort(v->smark.v, v->smark.n, sizeof *v->smark.v, cmp_marker_pos);
	qsort(v->rmark.v, v->rmark.n, sizeof *v->rmark.v, cmp_marker_pos);
	if (index_by_seq(&v->gw, &v->gw_by_seq, &v->gw_max) || index_by_seq(&v->rejects, &v->rej_by_seq, &v->rej_max)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* What the strategy pass produced: every event it sends (orders, signals,
 * cancels), each remembered with the market event that caused it. */
struct produced {
	size_t *first_out;      /* md index -> first produced; n_md + 1 entries */
	union fks_event *ev;
	size_t n, cap;
};

/* The strategy's journaled applied markers at input_pos pos, from *mi on. */
static void verify_strategy_markers(struct verify *v, struct drive *core, size_t pos, size_t *mi)
{
	for (; *mi < v->smark.n && v->smark.v[*mi].ev.applied.input_pos == pos; ++*mi) {
		const union fks_event *r = report_of(v, &v->smark.v[*mi]);
		if (!r) {
			mismatch(v, v->smark.v[*mi].key, "applied marker names report %s seq %" PRIu64
				 " that is not in the journal", fks_stage_name(v->smark.v[*mi].ev.applied.applied_source),
				 v->smark.v[*mi].ev.applied.applied_seq);
			continue;
		}
		lockstep_stage_apply(core->ls, FKS_CFG_STRATEGY, r);
	}
}

/* Keep and compare what the strategy answered to market event pos. */
static void verify_strategy_out(struct verify *v, struct drive *core, size_t pos, struct produced *p)
{
	for (unsigned i = 0; i < core->n_out; i++) {
		const union fks_event *o = &core->out[i];
		if (p->n == p->cap) {
			union fks_event *np = realloc(p->ev, 2 * p->cap * sizeof *np);
			if (!np)
				break;
			p->ev = np;
			p->cap *= 2;
		}
		p->ev[p->n] = *o;
		char what[200];
		if (p->n >= v->orders.n)
			mismatch(v, v->md.v[pos].key, "replay's strategy sends %s after market event key %" PRIu64
				 "; the journal has nothing more from the strategy", fks_event_type_name(o->h.type),
				 v->md.v[pos].key);
		else if (event_diff(&v->orders.v[p->n].ev, o, what, sizeof what))
			mismatch(v, v->orders.v[p->n].key, "%s (strategy seq %" PRIu64 "): %s",
				 fks_event_type_name(v->orders.v[p->n].ev.h.type), v->orders.v[p->n].ev.h.seq, what);
		p->n++;
	}
}

/* Strategy pass: the market data in feed order, with the journaled
 * reports applied where the strategy's markers say. */
static void verify_strategy_pass(struct verify *v, struct drive *core, struct produced *p)
{
	size_t n_md = v->md.n, mi = 0;
	for (size_t pos = 0; pos <= n_md; pos++) {
		verify_strategy_markers(v, core, pos, &mi);
		p->first_out[pos] = p->n;
		if (pos == n_md)
			break;
		core->n_out = 0;
		lockstep_stage_event(core->ls, FKS_CFG_STRATEGY, &v->md.v[pos].ev, (uint64_t)v->md.v[pos].ev.h.recv_time_ns);
		verify_strategy_out(v, core, pos, p);
	}
	if (mi < v->smark.n)
		mismatch(v, v->smark.v[mi].key, "strategy applied marker at input_pos %" PRIu64 " beyond the %zu market events",
			 v->smark.v[mi].ev.applied.input_pos, n_md);
	if (p->n < v->orders.n)
		mismatch(v, v->orders.v[p->n].key, "journaled %s (strategy seq %" PRIu64 ") is not produced by replay",
			 fks_event_type_name(v->orders.v[p->n].ev.h.type), v->orders.v[p->n].ev.h.seq);
}

/* Risk's journaled applied markers at input_pos rpos, from *ri on. */
static void verify_risk_markers(struct verify *v, struct drive *core, uint64_t rpos, size_t *ri)
{
	for (; *ri < v->rmark.n && v->rmark.v[*ri].ev.applied.input_pos == rpos; ++*ri) {
		const union fks_event *r = report_of(v, &v->rmark.v[*ri]);
		if (r)
			lockstep_stage_apply(core->ls, FKS_CFG_RISK, r);
		else
			mismatch(v, v->rmark.v[*ri].key, "applied marker names report seq %" PRIu64
				 " that is not in the journal", v->rmark.v[*ri].ev.applied.applied_seq);
	}
}

/* Risk pass: its input is the market data with each order right after
 * the event that caused it; markers at input_pos p apply once p of those
 * events are consumed. */
static void verify_risk_pass(struct verify *v, struct drive *core, const struct produced *p)
{
	size_t n_md = v->md.n, rk = 0, ri = 0;
	uint64_t rpos = 0;
	for (size_t pos = 0;; pos++) {
		verify_risk_markers(v, core, rpos, &ri);
		if (pos >= n_md)
			break;
		rpos++; /* the market event */
		lockstep_stage_event(core->ls, FKS_CFG_RISK, &v->md.v[pos].ev, (uint64_t)v->md.v[pos].ev.h.recv_time_ns);
		verify_risk_markers(v, core, rpos, &ri);
		for (size_t oi = p->first_out[pos]; oi < p->first_out[pos + 1]; oi++) {
			if (p->ev[oi].h.type == FKS_EV_SIGNAL)
				continue; /* journaled, never sent to risk */
			rpos++; /* each strategy event after it */
			if (p->ev[oi].h.type == FKS_EV_ORDER_NEW)
				verify_risk_order(v, core, &p->ev[oi], oi, pos, &rk);
			else /* a cancel: risk passes it on */
				lockstep_stage_event(core->ls, FKS_CFG_RISK, &p->ev[oi],
						     (uint64_t)p->ev[oi].h.recv_time_ns);
			verify_risk_markers(v, core, rpos, &ri);
		}
	}
	if (ri < v->rmark.n)
		mismatch(v, v->rmark.v[ri].key, "risk applied marker at input_pos %" PRIu64 " beyond its %" PRIu64
			 " input events", v->rmark.v[ri].ev.applied.input_pos, rpos);
	if (rk < v->rejects.n)
		mismatch(v, v->rejects.v[rk].key, "journaled risk reject of order %" PRIu64 " is not produced by replay",
			 v->rejects.v[rk].ev.risk_reject.order_id);
}

static int verify_run(const char *path, const struct replay_setup *s, struct verify *v, char *err, size_t errlen)
{
	if (verify_load(path, v, err, errlen))
		return -1;
	struct drive *core = calloc(1, sizeof *core);
	if (!core || replay_lockstep_open(s, drive_tap, core, &core->ls, err, errlen)) {
		if (!core)
			snprintf(err, errlen, "out of memory");
		free(core);
		return -1;
	}
	struct produced p = { .cap = 1024 };
	p.first_out = calloc(v->md.n + 1, sizeof *p.first_out);
	p.ev = malloc(p.cap * sizeof *p.ev);
	if (!p.first_out || !p.ev) {
		free(p.first_out);
		free(p.ev);
		lockstep_close(core->ls);
		free(core);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	verify_strategy_pass(v, core, &p);
	verify_risk_pass(v, core, &p);
	free(p.first_out);
	free(p.ev);
	lockstep_close(core->ls);
	free(core);
	return 0;
}

int replay_verify(const struct opts *o, const struct replay_setup *s)
{
	struct verify v;
	char err[512];
	memset(&v, 0, sizeof v);
	v.bad_key = UINT64_MAX;
	int rc = verify_run(o->input, s, &v, err, sizeof err);
	if (rc)
		fprintf(stderr, "fks replay --verify: %s\n", err);
	else if (v.bad_key != UINT64_MAX)
		fprintf(stderr, "fks replay --verify: %s: MISMATCH at journal key %" PRIu64 ": %s\n", o->input, v.bad_key, v.what);
	else
		printf("verify: %s: %zu market events, %zu orders, %zu risk rejects, %zu + %zu applied markers: all match\n",
		       o->input, v.md.n, v.orders.n, v.rejects.n, v.smark.n, v.rmark.n);
	free(v.md.v); free(v.orders.v); free(v.rejects.v); free(v.smark.v); free(v.rmark.v); free(v.gw.v);
	free(v.gw_by_seq); free(v.rej_by_seq);
	return rc ? 1 : v.bad_key != UINT64_MAX ? 1 : 0;
}

