/*
 * The four stage processes.  Each is a loop around the pure logic in
 * feeds/, strategies/ and gateway/: read a batch, apply it, emit, count.
 *
 * Rules every loop follows:
 *  - Feedback first: execution reports are applied before the next
 *    main-line batch, so a stage acts on the freshest position.
 *  - Never block on an output while feedback is waiting: a stage whose
 *    output ring is full keeps draining its feedback ring, otherwise the
 *    cycle strategy -> risk -> gateway -> strategy could deadlock.
 *  - Waits are bounded (STAGE_TICK_NS), so an idle stage still beats its
 *    heartbeat and sees the control words.
 *  - Shutdown is a cascade of closes: the feed closes market data; each
 *    stage, once its main input is closed and drained, closes its main
 *    output; the gateway then cancels what is open and closes the
 *    execution rings; strategy and risk exit once those are drained.
 */
#include "stage.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "fixed.h"
#include "ma_cross.h"
#include "proctitle.h"
#include "risk.h"
#include "sim_venue.h"
#include "synthetic.h"

#define STAGE_TICK_NS 20000000ull /* longest wait before a heartbeat */
/* order_reject.reason for an order the gateway refused itself; venue
 * reasons (enum sim_reject_reason) are small numbers. */
#define GATEWAY_REJ_KILL_SWITCH 100
#define BATCH 32

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t stage_ring_slot_size(enum run_ring r)
{
	return r == RUN_RING_MD ? 64 : 128;
}

uint32_t stage_ring_capacity(const struct fks_config *cfg, enum run_ring r)
{
	switch (r) {
	case RUN_RING_MD: return cfg->ring[FKS_RING_MARKET_DATA].capacity;
	case RUN_RING_ORDERS: return cfg->ring[FKS_RING_ORDERS].capacity;
	case RUN_RING_RISK_OUT: return cfg->ring[FKS_RING_RISK_OUT].capacity;
	default: return cfg->ring[FKS_RING_EXEC_REPORTS].capacity;
	}
}

/* ---- runtime shared by every stage ------------------------------------- */

struct stage {
	const struct stage_args *a;
	struct run_segment *run;
	struct stage_stats *st;
	struct ring_wait wait;
	uint64_t last_beat;
};

static int stage_fail(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stage_fail(struct stage *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->st->error, sizeof s->st->error, fmt, ap);
	va_end(ap);
	fprintf(stderr, "fks:%s: %s\n", config_stage_name(s->a->id), s->st->error);
	atomic_store_explicit(&s->st->state, STAGE_FAILED, memory_order_release);
	return 1;
}

static void beat(struct stage *s, uint64_t now)
{
	if (now - s->last_beat < 1000000)
		return;
	s->last_beat = now;
	atomic_store_explicit(&s->st->heartbeat_ns, now, memory_order_relaxed);
}

static bool control_on(_Atomic uint32_t *w)
{
	return atomic_load_explicit(w, memory_order_relaxed) != 0;
}

static int attach_in(struct stage *s, struct ring_consumer *c, enum run_ring r)
{
	int rc = ring_consumer_attach(c, s->run->ring_name[r], stage_ring_slot_size(r),
				      stage_ring_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

static int attach_out(struct stage *s, struct ring_producer *p, enum run_ring r)
{
	int rc = ring_producer_attach(p, s->run->ring_name[r], stage_ring_slot_size(r),
				      stage_ring_capacity(s->a->cfg, r), &s->wait);
	return rc ? stage_fail(s, "attach %s: %s", s->run->ring_name[r], ring_strerror(rc)) : 0;
}

/* Bounded waits: the deadline is the next heartbeat. */
static void wait_until_tick(struct stage *s, struct ring_wait *w)
{
	*w = s->wait;
	w->deadline_ns = now_ns() + STAGE_TICK_NS;
}

static void copy_event(void *dst, const union fks_event *ev)
{
	memcpy(dst, ev, fks_event_size(ev->h.type));
}

/* ---- feed -------------------------------------------------------------- */

static int feed_params(const struct fks_config *cfg, struct synth_params *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->seed = cfg->feed.seed;
	sp->trade_ratio_ppm = cfg->feed.trade_ratio_ppm;
	sp->volatility_bps_x100 = cfg->feed.volatility_bps_x100;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sp->start_time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	sp->step_ns = cfg->feed.rate ? (int64_t)(1000000000ull / cfg->feed.rate) : 1000;
	sp->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		sp->instrument[i].id = cfg->instrument[i].id;
		sp->instrument[i].start_px = cfg->instrument[i].start_px;
		sp->instrument[i].px_scale = cfg->instrument[i].px_scale;
		sp->instrument[i].qty_scale = cfg->instrument[i].qty_scale;
	}
	return 0;
}

/* Paced mode: event k is due at t0 + k * period.  The feed sends every event
 * that is due, each stamped with its own due time as its receive time, so
 * latency measured downstream includes any queueing the pipeline caused
 * (no coordinated omission).  Between bursts it sleeps, unless its wait
 * strategy is spin: a feed that spins to pace itself takes the whole core,
 * and on a shared core the stage next to it would run only when the
 * scheduler preempts the feed. */
static void pace_sleep_until(uint64_t t, bool spin)
{
	if (!spin) {
		struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		return;
	}
	while (now_ns() < t)
		ring_cpu_relax();
}

static int run_feed(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct synth_feed feed;
	struct synth_params sp;
	feed_params(cfg, &sp);
	if (synth_init(&feed, &sp) != 0)
		return stage_fail(s, "synthetic feed: invalid parameters");
	struct ring_producer md;
	if (attach_out(s, &md, RUN_RING_MD))
		return 1;
	bool conflate = cfg->ring[FKS_RING_MARKET_DATA].overflow == FKS_OVERFLOW_CONFLATE;
	uint64_t period = cfg->feed.rate ? 1000000000ull / cfg->feed.rate : 0;
	uint64_t limit = s->a->max_events, sent = 0;
	uint64_t t0 = now_ns();
	int rc = 0;

	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	bool spin_pace = s->wait.kind == RING_WAIT_SPIN;
	if (period && !spin_pace)
		prctl(PR_SET_TIMERSLACK, 1UL); /* wake when asked, not up to 50 us later */
	while (!control_on(&s->run->control.stop) && (!limit || sent < limit)) {
		uint32_t n = BATCH;
		uint64_t t_busy = now_ns();
		if (period) {
			uint64_t due = (t_busy - t0) / period + 1; /* events due by now */
			if (due <= sent) {
				pace_sleep_until(t0 + sent * period, spin_pace);
				uint64_t t_wake = now_ns();
				stats_add(&s->st->idle_ns, t_wake - t_busy);
				beat(s, t_wake);
				continue;
			}
			if (due - sent < n)
				n = (uint32_t)(due - sent);
		}
		if (limit && limit - sent < n)
			n = (uint32_t)(limit - sent);
		int k = conflate ? (int)ring_try_claim(&md, n) : ring_claim(&md, n);
		if (k < 0) {
			/* The strategy died: the supervisor is already stopping us. */
			if (!(k == RING_E_PEER_DEAD && (control_on(&s->run->control.stop) ||
							control_on(&s->run->control.kill))))
				rc = stage_fail(s, "market data ring: %s", ring_strerror(k));
			break;
		}
		if (k < (int)n) { /* conflate: the consumer is behind; drop, and count it */
			stats_add(&s->st->counter[CTR_DROPPED], n - (uint32_t)k);
			if (k == 0) {
				sent += n;
				continue;
			}
		}
		for (int i = 0; i < k; i++) {
			union fks_event *ev = ring_wslot(&md, (uint32_t)i);
			unsigned type = synth_next(&feed, ev);
			ev->h.recv_time_ns = (int64_t)(period ? t0 + (sent + (uint64_t)i) * period : t_busy);
			stats_add(&s->st->counter[type == FKS_EV_QUOTE ? CTR_QUOTES : CTR_TRADES], 1);
		}
		ring_publish(&md, (uint32_t)k);
		sent += n;
		uint64_t t_end = now_ns();
		stats_add(&s->st->events_out, (uint64_t)k);
		stats_add(&s->st->busy_ns, t_end - t_busy);
		beat(s, t_end);
	}
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	ring_producer_detach(&md); /* closes: the cascade starts here */
	return rc;
}

/* ---- strategy and risk: a main input, a feedback input, a main output -- */

struct relay {
	struct stage *s;
	struct ring_consumer main_in, feedback;
	struct ring_producer out;
	bool main_done, out_closed;
	uint64_t seq; /* the stage's own events (orders, rejects): one sequence per source */
	void (*on_feedback)(struct relay *r, const union fks_event *ev);
	/* Handle one main-line event: write 0..2 events to the claimed output
	 * slots starting at *used, advance *used. */
	void (*on_main)(struct relay *r, const union fks_event *ev, uint32_t *used, uint64_t now);
	void *logic;
};

static void relay_drain_feedback(struct relay *r)
{
	int k;
	while ((k = (int)ring_try_peek(&r->feedback, BATCH)) > 0) {
		for (int i = 0; i < k; i++)
			r->on_feedback(r, ring_rslot(&r->feedback, (uint32_t)i));
		ring_release(&r->feedback, (uint32_t)k);
		stats_add(&r->s->st->events_in, (uint64_t)k);
		stats_add(&r->s->st->counter[CTR_EXEC_IN], (uint64_t)k);
	}
}

/* Claim n output slots, draining feedback while the output is full. */
static int relay_claim(struct relay *r, uint32_t n)
{
	for (;;) {
		if (ring_try_claim(&r->out, n) == n)
			return (int)n;
		relay_drain_feedback(r);
		stats_add(&r->s->st->counter[CTR_OUT_WAIT_DRAINS], 1);
		struct ring_wait saved = r->out.wait;
		r->out.wait.deadline_ns = now_ns() + 1000000; /* re-check feedback every ms */
		int k = ring_claim(&r->out, n);
		r->out.wait = saved;
		if (k == (int)n)
			return k;
		if (k != RING_E_TIMEOUT)
			return k;
		beat(r->s, now_ns());
	}
}

static void relay_close_out(struct relay *r)
{
	if (!r->out_closed) {
		ring_producer_detach(&r->out);
		r->out_closed = true;
		atomic_store_explicit(&r->s->st->state, STAGE_DRAINING, memory_order_release);
	}
}

static int relay_main_batch(struct relay *r)
{
	int k = (int)ring_try_peek(&r->main_in, BATCH);
	if (k <= 0)
		return 0;
	uint64_t t_busy = now_ns();
	/* Each main-line event yields at most two output events (itself,
	 * forwarded, and one order or reject). */
	int claimed = relay_claim(r, 2 * (uint32_t)k);
	if (claimed < 0)
		return stage_fail(r->s, "output ring %s", ring_strerror(claimed));
	uint32_t used = 0;
	for (int i = 0; i < k; i++)
		r->on_main(r, ring_rslot(&r->main_in, (uint32_t)i), &used, t_busy);
	ring_publish(&r->out, used);
	ring_release(&r->main_in, (uint32_t)k);
	uint64_t t_end = now_ns();
	struct stage_stats *st = r->s->st;
	stats_add(&st->events_in, (uint64_t)k);
	stats_add(&st->events_out, used);
	stats_add(&st->busy_ns, t_end - t_busy);
	return 0;
}

/* Forward a main-line event unchanged and record its receive-to-emit time. */
static void relay_forward(struct relay *r, const union fks_event *ev, uint32_t *used, uint64_t now)
{
	copy_event(ring_wslot(&r->out, (*used)++), ev);
	stats_add(&r->s->st->counter[ev->h.type == FKS_EV_TRADE ? CTR_TRADES : CTR_QUOTES], 1);
	if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
		hist_record(&r->s->st->latency, now - (uint64_t)ev->h.recv_time_ns);
}

static int relay_run(struct relay *r)
{
	struct stage *s = r->s;
	struct ring_consumer *inputs[2] = { &r->feedback, &r->main_in };
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	for (;;) {
		if (control_on(&s->run->control.kill) || control_on(&s->run->control.feed_dead))
			r->on_feedback(r, NULL); /* lets risk see the control words */
		relay_drain_feedback(r);
		if (!r->main_done && relay_main_batch(r))
			return 1;
		if (!r->main_done && atomic_load_explicit(&r->main_in.shm->closed, memory_order_acquire) &&
		    !ring_try_peek(&r->main_in, 1)) {
			r->main_done = true;
			relay_close_out(r);
		}
		struct ring_wait w;
		wait_until_tick(s, &w);
		r->feedback.wait = w;
		r->main_in.wait = w;
		unsigned which = 0;
		uint64_t t_idle = now_ns();
		int rc = ring_wait_any(inputs, r->main_done ? 1 : 2, &which);
		uint64_t t_wake = now_ns();
		stats_add(&s->st->idle_ns, t_wake - t_idle);
		beat(s, t_wake);
		if (rc == RING_E_CLOSED && r->main_done)
			break; /* feedback closed and drained too: done */
		if (rc == RING_E_PEER_DEAD && which == 1) {
			/* The main input's producer died: nothing more will come. */
			r->main_done = true;
			relay_close_out(r);
		} else if (rc == RING_E_PEER_DEAD) {
			return stage_fail(s, "execution reports: producer died");
		} else if (rc < 0 && rc != RING_E_TIMEOUT && rc != RING_E_CLOSED) {
			return stage_fail(s, "wait: %s", ring_strerror(rc));
		}
	}
	relay_close_out(r);
	ring_consumer_detach(&r->main_in);
	ring_consumer_detach(&r->feedback);
	return 0;
}

/* Attach a relay stage's three rings and run it. */
static int relay_start(struct stage *s, struct relay *r, enum run_ring in, enum run_ring fb, enum run_ring out)
{
	r->s = s;
	if (attach_in(s, &r->main_in, in) || attach_in(s, &r->feedback, fb) || attach_out(s, &r->out, out))
		return 1;
	return relay_run(r);
}

/* ---- strategy ---------------------------------------------------------- */

struct strategy_logic {
	uint32_t n;
	struct ma_cross inst[FKS_MAX_INSTRUMENTS];
};

static struct ma_cross *strategy_for(struct strategy_logic *L, uint32_t instrument)
{
	return instrument >= 1 && instrument <= L->n ? &L->inst[instrument - 1] : NULL;
}

static void strategy_on_feedback(struct relay *r, const union fks_event *ev)
{
	struct strategy_logic *L = r->logic;
	if (!ev)
		return;
	struct ma_cross *m = strategy_for(L, ev->h.instrument);
	if (m)
		ma_cross_on_exec(m, ev);
	if (ev->h.type == FKS_EV_FILL)
		stats_add(&r->s->st->counter[CTR_FILLS], 1);
}

static void strategy_on_main(struct relay *r, const union fks_event *ev, uint32_t *used, uint64_t now)
{
	struct strategy_logic *L = r->logic;
	relay_forward(r, ev, used, now);
	struct ma_cross *m = strategy_for(L, ev->h.instrument);
	struct fks_ev_order_new order;
	if (m && ma_cross_on_market(m, ev, &order)) {
		order.h.seq = ++r->seq; /* one sequence for the stage, not per instance */
		memcpy(ring_wslot(&r->out, (*used)++), &order, sizeof order);
		stats_add(&r->s->st->counter[CTR_ORDERS], 1);
	}
}

static int run_strategy(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct strategy_logic L;
	L.n = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		struct ma_cross_params p = {
			.instrument = ic->id,
			.fast = cfg->strategy.fast,
			.slow = cfg->strategy.slow,
			.qty = ic->order_qty,
			.order_type = (uint8_t)cfg->strategy.order_type,
			.strategy_id = (uint16_t)i,
			.order_id_base = (uint64_t)ic->id << 40,
		};
		int rc = ma_cross_init(&L.inst[i], &p);
		if (rc)
			return stage_fail(s, "ma_cross %s: %s", ic->symbol, ma_cross_strerror(rc));
	}
	static struct relay r = { .on_main = strategy_on_main, .on_feedback = strategy_on_feedback };
	r.logic = &L;
	return relay_start(s, &r, RUN_RING_MD, RUN_RING_EXEC_STRATEGY, RUN_RING_ORDERS);
}

/* ---- risk -------------------------------------------------------------- */

static void risk_publish_positions(struct relay *r)
{
	struct risk *R = r->logic;
	for (uint32_t id = 1; id <= r->s->a->cfg->n_instruments; id++) {
		int64_t pos, ob, os;
		if (risk_exposure(R, id, &pos, &ob, &os))
			atomic_store_explicit(&r->s->st->position[id], pos, memory_order_relaxed);
	}
}

static void risk_on_feedback(struct relay *r, const union fks_event *ev)
{
	struct risk *R = r->logic;
	if (!ev) { /* control words changed */
		if (control_on(&r->s->run->control.kill))
			risk_set_kill(R, true);
		if (control_on(&r->s->run->control.feed_dead))
			risk_set_feed_stale(R, true);
		return;
	}
	risk_on_exec(R, ev);
	if (ev->h.type == FKS_EV_FILL) {
		stats_add(&r->s->st->counter[CTR_FILLS], 1);
		risk_publish_positions(r);
	}
}

static void risk_on_main(struct relay *r, const union fks_event *ev, uint32_t *used, uint64_t now)
{
	struct risk *R = r->logic;
	if (ev->h.type != FKS_EV_ORDER_NEW) {
		relay_forward(r, ev, used, now);
		return;
	}
	stats_add(&r->s->st->counter[CTR_ORDERS], 1);
	int64_t limit = 0, value = 0;
	enum fks_risk_reason why = risk_check_order(R, &ev->order_new, (int64_t)now, &limit, &value);
	void *slot = ring_wslot(&r->out, (*used)++);
	if (why == FKS_RISK_OK) {
		copy_event(slot, ev);
		stats_add(&r->s->st->counter[CTR_RISK_PASSED], 1);
	} else {
		struct fks_ev_risk_reject rej;
		risk_build_reject(&ev->order_new, why, limit, value, ++r->seq, &rej);
		memcpy(slot, &rej, sizeof rej);
		stats_add(&r->s->st->counter[CTR_RISK_REJECTED], 1);
		if (why < 16)
			stats_add(&r->s->st->reject_reason[why], 1);
	}
	if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
		hist_record(&r->s->st->latency, now - (uint64_t)ev->h.recv_time_ns);
}

static int run_risk(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct risk R;
	static struct risk_params p;
	p.n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		p.instrument[i] = (struct risk_limits){
			.id = ic->id,
			.qty_scale = ic->qty_scale,
			.max_order_qty = ic->max_order_qty,
			.max_notional = ic->max_notional,
			.max_position = ic->max_position,
		};
	}
	p.stale_data_ns = (int64_t)cfg->risk.stale_data_ms * 1000000;
	p.kill_switch = cfg->risk.kill_switch;
	if (risk_init(&R, &p) != 0)
		return stage_fail(s, "risk: invalid limits");
	static struct relay r = { .on_main = risk_on_main, .on_feedback = risk_on_feedback };
	r.logic = &R;
	return relay_start(s, &r, RUN_RING_ORDERS, RUN_RING_EXEC_RISK, RUN_RING_RISK_OUT);
}

/* ---- gateway ----------------------------------------------------------- */

struct gateway {
	struct stage *s;
	struct sim_venue venue;
	struct ring_consumer in;
	struct ring_producer exec_risk, exec_strategy;
	bool killed;
	uint64_t seq;
	/* position accounting for the summary, by instrument id */
	int64_t position[FKS_MAX_INSTRUMENTS + 1];
	int64_t avg_px[FKS_MAX_INSTRUMENTS + 1];
	int64_t realized[FKS_MAX_INSTRUMENTS + 1];
};

static void gateway_emit_to(struct gateway *g, struct ring_producer *p, const union fks_event *ev)
{
	int k = ring_claim(p, 1);
	if (k != 1) {
		stage_fail(g->s, "execution ring: %s", ring_strerror(k));
		return;
	}
	copy_event(ring_wslot(p, 0), ev);
	ring_publish(p, 1);
	stats_add(&g->s->st->events_out, 1);
}

/* Average-cost accounting, at the instrument's scales. */
static void gateway_account_fill(struct gateway *g, const struct fks_ev_fill *f, int8_t sign)
{
	uint32_t id = f->h.instrument;
	if (id == 0 || id > FKS_MAX_INSTRUMENTS)
		return;
	int64_t qty_unit = fx_pow10(g->s->a->cfg->instrument[id - 1].qty_scale);
	int64_t pos = g->position[id], q = sign * f->qty;
	if (pos == 0 || (pos > 0) == (q > 0)) {
		__int128 cost = (__int128)g->avg_px[id] * (pos < 0 ? -pos : pos) + (__int128)f->px * f->qty;
		int64_t new_abs = (pos < 0 ? -pos : pos) + f->qty;
		g->avg_px[id] = (int64_t)(cost / new_abs);
	} else {
		int64_t closed = f->qty < (pos < 0 ? -pos : pos) ? f->qty : (pos < 0 ? -pos : pos);
		__int128 pnl = (__int128)(f->px - g->avg_px[id]) * closed * (pos > 0 ? 1 : -1) / qty_unit;
		g->realized[id] += (int64_t)pnl;
		if (f->qty > closed)
			g->avg_px[id] = f->px; /* flipped side: the rest opens at this price */
	}
	g->position[id] = pos + q;
	atomic_store_explicit(&g->s->st->position[id], g->position[id], memory_order_relaxed);
	atomic_store_explicit(&g->s->st->realized_pnl[id], g->realized[id], memory_order_relaxed);
}

static int8_t gateway_fill_sign(struct gateway *g, uint64_t order_id)
{
	uint8_t side = FKS_SIDE_NONE;
	sim_venue_order_side(&g->venue, order_id, &side);
	return side == FKS_SIDE_SELL ? -1 : 1;
}

static void gateway_emit(void *ctx, const union fks_event *in)
{
	struct gateway *g = ctx;
	struct stage_stats *st = g->s->st;
	/* Everything the gateway emits, the venue's events and its own kill
	 * rejects alike, shares one sequence: the gateway is one source. */
	union fks_event copy;
	copy_event(&copy, in);
	copy.h.seq = ++g->seq;
	const union fks_event *ev = &copy;
	switch (ev->h.type) {
	case FKS_EV_ORDER_ACK: stats_add(&st->counter[CTR_ACKS], 1); break;
	case FKS_EV_FILL:
		stats_add(&st->counter[CTR_FILLS], 1);
		gateway_account_fill(g, &ev->fill, gateway_fill_sign(g, ev->fill.order_id));
		if (ev->fill.leaves_qty == 0)
			stats_add(&st->counter[CTR_TERMINAL], 1);
		break;
	case FKS_EV_ORDER_REJECT:
		stats_add(&st->counter[CTR_VENUE_REJECTS], 1);
		stats_add(&st->counter[CTR_TERMINAL], 1);
		break;
	case FKS_EV_CANCEL_ACK:
		stats_add(&st->counter[CTR_CANCELS], 1);
		stats_add(&st->counter[CTR_TERMINAL], 1);
		break;
	default: break;
	}
	gateway_emit_to(g, &g->exec_risk, ev);
	gateway_emit_to(g, &g->exec_strategy, ev);
}

static void gateway_kill(struct gateway *g)
{
	if (g->killed)
		return;
	g->killed = true;
	atomic_store_explicit(&g->s->st->counter[CTR_ORDERS_AT_KILL],
			      atomic_load_explicit(&g->s->st->counter[CTR_ORDERS], memory_order_relaxed),
			      memory_order_relaxed);
	sim_venue_cancel_all(&g->venue, gateway_emit, g);
}

static void gateway_on_event(struct gateway *g, const union fks_event *ev, uint64_t now)
{
	struct stage_stats *st = g->s->st;
	switch (ev->h.type) {
	case FKS_EV_ORDER_NEW:
		if (g->killed) {
			/* No order leaves once the kill switch is on; the strategy
			 * and risk learn of it through a venue-style reject. */
			union fks_event rej;
			memset(&rej, 0, sizeof rej);
			rej.order_reject.h = ev->h;
			rej.order_reject.h.type = FKS_EV_ORDER_REJECT;
			rej.order_reject.h.source = FKS_STAGE_GATEWAY;
			rej.order_reject.order_id = ev->order_new.order_id;
			rej.order_reject.reason = GATEWAY_REJ_KILL_SWITCH;
			stats_add(&st->counter[CTR_KILL_BLOCKED], 1);
			gateway_emit(g, &rej);
			return;
		}
		stats_add(&st->counter[CTR_ORDERS], 1);
		if (ev->h.recv_time_ns > 0 && now > (uint64_t)ev->h.recv_time_ns)
			hist_record(&st->tick_to_trade, now - (uint64_t)ev->h.recv_time_ns);
		sim_venue_on_order(&g->venue, ev, gateway_emit, g);
		break;
	case FKS_EV_ORDER_CANCEL:
		sim_venue_on_order(&g->venue, ev, gateway_emit, g);
		break;
	case FKS_EV_RISK_REJECT:
		/* risk already knows; the strategy must release its pending qty */
		gateway_emit_to(g, &g->exec_strategy, ev);
		break;
	case FKS_EV_QUOTE:
	case FKS_EV_TRADE:
		stats_add(&st->counter[ev->h.type == FKS_EV_QUOTE ? CTR_QUOTES : CTR_TRADES], 1);
		sim_venue_on_market(&g->venue, ev, gateway_emit, g);
		break;
	default:
		break;
	}
}

static int run_gateway(struct stage *s)
{
	const struct fks_config *cfg = s->a->cfg;
	static struct gateway g;
	g.s = s;
	static struct sim_venue_params vp;
	vp.fill = (uint8_t)cfg->venue.fill;
	vp.latency_us = cfg->venue.latency_us;
	vp.n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++)
		vp.instrument[i] = cfg->instrument[i].id;
	if (sim_venue_init(&g.venue, &vp) != 0)
		return stage_fail(s, "simulated venue: invalid parameters");
	if (attach_in(s, &g.in, RUN_RING_RISK_OUT) || attach_out(s, &g.exec_risk, RUN_RING_EXEC_RISK) ||
	    attach_out(s, &g.exec_strategy, RUN_RING_EXEC_STRATEGY))
		return 1;
	atomic_store_explicit(&s->st->state, STAGE_RUNNING, memory_order_release);
	int rc = 0;
	for (;;) {
		if (control_on(&s->run->control.kill))
			gateway_kill(&g);
		wait_until_tick(s, &g.in.wait);
		uint64_t t_idle = now_ns();
		int k = ring_peek(&g.in, BATCH);
		uint64_t t_busy = now_ns();
		stats_add(&s->st->idle_ns, t_busy - t_idle);
		beat(s, t_busy);
		if (k == RING_E_TIMEOUT)
			continue;
		if (k == RING_E_CLOSED || k == RING_E_PEER_DEAD)
			break;
		if (k < 0) {
			rc = stage_fail(s, "input: %s", ring_strerror(k));
			break;
		}
		for (int i = 0; i < k; i++)
			gateway_on_event(&g, ring_rslot(&g.in, (uint32_t)i), t_busy);
		ring_release(&g.in, (uint32_t)k);
		stats_add(&s->st->events_in, (uint64_t)k);
		stats_add(&s->st->busy_ns, now_ns() - t_busy);
	}
	/* Input is over: leave nothing open at the venue, then close the
	 * execution rings so strategy and risk can finish. */
	atomic_store_explicit(&s->st->state, STAGE_DRAINING, memory_order_release);
	if (control_on(&s->run->control.kill))
		gateway_kill(&g); /* the input may have ended because of what tripped it */
	sim_venue_cancel_all(&g.venue, gateway_emit, &g);
	ring_producer_detach(&g.exec_risk);
	ring_producer_detach(&g.exec_strategy);
	ring_consumer_detach(&g.in);
	return rc;
}

/* ---- entry ------------------------------------------------------------- */

static int pin_to(int core)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

int stage_main(const struct stage_args *a)
{
	char title[32];
	snprintf(title, sizeof title, "fks:%s", config_stage_name(a->id));
	proctitle_set(title);

	struct stage s = { .a = a };
	int rc = runseg_open(a->prefix, true, &s.run);
	if (rc) {
		fprintf(stderr, "%s: run segment: %s\n", title, ring_strerror(rc));
		return 1;
	}
	s.st = &s.run->stage[a->id];
	s.wait = a->cfg->stage[a->id].wait;
	atomic_store_explicit(&s.st->pid, getpid(), memory_order_relaxed);
	atomic_store_explicit(&s.st->heartbeat_ns, now_ns(), memory_order_relaxed);
	if (pin_to(a->cfg->stage[a->id].core) != 0)
		return stage_fail(&s, "cannot pin to core %d: %s", a->cfg->stage[a->id].core, strerror(errno));

	switch (a->id) {
	case FKS_CFG_FEED: rc = run_feed(&s); break;
	case FKS_CFG_STRATEGY: rc = run_strategy(&s); break;
	case FKS_CFG_RISK: rc = run_risk(&s); break;
	case FKS_CFG_GATEWAY: rc = run_gateway(&s); break;
	default: rc = stage_fail(&s, "unknown stage"); break;
	}
	if (rc == 0)
		atomic_store_explicit(&s.st->state, STAGE_EXITED, memory_order_release);
	runseg_close(s.run);
	return rc;
}
