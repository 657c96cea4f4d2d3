/*
 * The feed stage: market data onto the md ring and the feed's tap, from
 * the synthetic generator (feeds/synthetic.h) or from a venue through a
 * feed_source (transport + decoder, feed_source.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "pipeline/runtime/stage_int.h"
#include "pipeline/runtime/feed_source.h"
#include "feeds/synthetic.h"

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
 * (no coordinated omission).  Between bursts it asks its runner to wake it
 * at the next due time: a spinning runner polls until then, the others
 * sleep, so on a shared core the stages next to it run. */

/* ---- feed from a venue: a feed_source (feed_source.h) ------------------- */

/* Events wait here between the decoder's emit and the ring: one venue
 * message can emit many (a 500-level snapshot), so the buffer is flushed
 * whenever it fills, and once per poll. */
#define FEED_PUB_BUF 256
#define FEED_POLL_MSGS 64     /* venue messages per poll */
#define FEED_POLL_TIMEOUT_MS 10 /* live sources: longest wait for input */
/* In a shared runner a source is never waited on: it is polled again this
 * soon when it had nothing, and a paced recording's sleep is cut in slices
 * this long, between which the other kernels run. */
#define FEED_SHARED_WAIT_NS 50000ll

struct feed_pub {
	struct stage *s;
	struct ring_producer md;
	struct tap tap;
	bool conflate;
	bool halted;             /* stop/kill, or the ring failed: emit discards */
	int rc;
	uint32_t claim_max;
	uint64_t seq;            /* dense per-source sequence of what was published */
	uint32_t n;
	union fks_event buf[FEED_PUB_BUF];
};

/* The synthetic feed's loop state, between attach and close. */
struct synth_run {
	struct ring_producer md;
	bool conflate;
	uint64_t period;         /* paced: ns between events; 0 as fast as possible */
	uint64_t limit, sent, t0;
};

/* The feed stage's state: one of the two sources, and what it publishes
 * through. */
struct feed_stage {
	struct feed_symtab symbols; /* venue: the configured instruments */
	struct feed_source *src;    /* venue */
	struct feed_pub pub;        /* venue */
	struct synth_feed synth;    /* synthetic */
	struct synth_run run;       /* synthetic */
	struct tap tap;             /* synthetic */
};

static bool feed_should_stop(struct stage *s)
{
	return stage_control_on(&s->run->control.stop) || stage_control_on(&s->run->control.kill);
}

/* Publish the buffered events to the market data ring, then the journal,
 * exactly as the synthetic path does.  Waits for room in slices of
 * STAGE_TICK_NS, beating and watching the control words. */
static void feed_pub_flush(struct feed_pub *p)
{
	struct stage *s = p->s;
	uint32_t done = 0;
	while (done < p->n && !p->halted) {
		uint32_t want = p->n - done;
		if (want > p->claim_max)
			want = p->claim_max;
		int k;
		if (p->conflate) {
			k = (int)ring_try_claim(&p->md, want);
			if (k < (int)want) /* the consumer is behind: drop, and count it */
				stats_add(&s->st->counter[CTR_DROPPED], want - (uint32_t)k);
		} else {
			k = stage_claim(s, &p->md, want, STAGE_TICK_NS);
			if (k == RING_E_TIMEOUT) {
				stage_beat(s, stage_now_ns());
				if (feed_should_stop(s))
					p->halted = true;
				continue;
			}
		}
		if (k < 0) {
			/* The strategy died: the supervisor is already stopping us. */
			if (!(k == RING_E_PEER_DEAD && feed_should_stop(s)))
				p->rc = stage_fail(s, "market data ring: %s", ring_strerror(k));
			p->halted = true;
			break;
		}
		uint64_t quotes = 0, trades = 0;
		for (int i = 0; i < k; i++) {
			union fks_event *ev = &p->buf[done + (uint32_t)i];
			ev->h.seq = ++p->seq;
			stage_copy_event(ring_wslot(&p->md, (uint32_t)i), ev);
			tap_put(&p->tap, ev);
			quotes += ev->h.type == FKS_EV_QUOTE;
			trades += ev->h.type == FKS_EV_TRADE;
		}
		/* Published to the strategy first, to the journal right after. */
		ring_publish(&p->md, (uint32_t)k);
		tap_flush(&p->tap);
		stats_add(&s->st->counter[CTR_QUOTES], quotes);
		stats_add(&s->st->counter[CTR_TRADES], trades);
		stats_add(&s->st->events_out, (uint64_t)k);
		done += want;
	}
	p->n = 0;
}

static void feed_pub_emit(void *ctx, const union fks_event *ev)
{
	struct feed_pub *p = ctx;
	if (p->halted)
		return;
	union fks_event *e = &p->buf[p->n++];
	stage_copy_event(e, ev);
	e->h.source = FKS_STAGE_FEED;
	if (!e->h.recv_time_ns)
		e->h.recv_time_ns = (int64_t)stage_now_ns();
	if (p->n == FEED_PUB_BUF)
		feed_pub_flush(p);
}

/* Called by a paced replay while it sleeps: in a shared runner the other
 * kernels run meanwhile. */
static int feed_pace_hook(void *ctx)
{
	struct feed_pub *p = ctx;
	if (stage_shared(p->s))
		stage_yield(p->s);
	stage_beat(p->s, stage_now_ns());
	return feed_should_stop(p->s);
}

/* Log the decoder's and transport's nonzero error counters at the end. */
static void feed_log_counters(struct stage *s, const struct feed_source *src)
{
	const struct named_counter *c;
	size_t n = feed_source_errors(src, &c);
	for (size_t i = 0; i < n; i++)
		if (c[i].n)
			fprintf(stderr, "fks:feed: decoder %s: %llu\n", c[i].name, (unsigned long long)c[i].n);
	struct named_counter x[FEED_SOURCE_MAX_XPORT_COUNTERS];
	n = feed_source_xport_counters(src, x, FEED_SOURCE_MAX_XPORT_COUNTERS);
	for (size_t i = 0; i < n && i < FEED_SOURCE_MAX_XPORT_COUNTERS; i++)
		if (x[i].n)
			fprintf(stderr, "fks:feed: transport %s: %llu\n", x[i].name, (unsigned long long)x[i].n);
	(void)s;
}

/* Open the configured venue source, with a fixed table of the configured
 * instruments (ids are config ids); NULL after stage_fail. */
static struct feed_source *feed_venue_source(struct stage *s, struct feed_symtab *symbols)
{
	const struct fks_config *cfg = s->a->cfg;
	feed_symtab_init(symbols, false, 0, 0);
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		const struct fks_instrument_cfg *in = &cfg->instrument[i];
		uint32_t id = feed_symtab_add(symbols, in->symbol, strlen(in->symbol), in->px_scale, in->qty_scale);
		if (id != in->id) {
			stage_fail(s, "instrument %s: symbol table id %u, config id %u", in->symbol, id, in->id);
			return NULL;
		}
	}
	char err[512];
	struct feed_source *src = feed_source_open(&cfg->feed, symbols, err, sizeof err);
	if (!src)
		stage_fail(s, "%s", err);
	return src;
}

static int feed_venue_open(struct stage *s, struct feed_stage *f)
{
	const struct fks_config *cfg = s->a->cfg;
	struct feed_pub *p = &f->pub;
	p->s = s;
	f->src = feed_venue_source(s, &f->symbols);
	if (!f->src)
		return 1;
	if (stage_attach_out(s, &p->md, RUN_RING_MD) || tap_attach(s, &p->tap, RUN_RING_TAP_FEED))
		return 1;
	p->conflate = cfg->ring[FKS_RING_MARKET_DATA].overflow == FKS_OVERFLOW_CONFLATE;
	uint32_t cap = topo_capacity(cfg, RUN_RING_MD);
	p->claim_max = cap < 64 ? cap : 64;
	feed_source_set_wait_hook(f->src, feed_pace_hook, p);
	if (stage_shared(s))
		feed_source_set_pace_slice(f->src, FEED_SHARED_WAIT_NS);
	return 0;
}

static int feed_venue_poll(struct kernel *k, struct feed_stage *f, uint64_t now)
{
	struct stage *s = &k->s;
	struct feed_pub *p = &f->pub;
	uint64_t limit = s->a->max_events;
	if (p->halted || feed_should_stop(s) || (limit && p->seq >= limit))
		return p->rc ? KERNEL_FAILED : KERNEL_DONE;
	/* A source of its own runner may block in its poll; in a shared runner
	 * it must not, and is looked at again soon. */
	bool shared = stage_shared(s);
	int n = feed_source_poll(f->src, feed_pub_emit, p, FEED_POLL_MSGS, shared ? 0 : FEED_POLL_TIMEOUT_MS);
	if (n == FEED_SOURCE_END)
		return KERNEL_DONE; /* the recording is exhausted: close, like --events */
	if (n < 0) {
		p->rc = stage_fail(s, "feed: %s", feed_source_error(f->src));
		return KERNEL_FAILED;
	}
	feed_pub_flush(p);
	uint64_t t_end = stage_now_ns();
	stats_add(n ? &s->st->busy_ns : &s->st->idle_ns, t_end - now);
	k->wake_ns = shared ? t_end + FEED_SHARED_WAIT_NS : t_end;
	return p->rc ? KERNEL_FAILED : n;
}

static void feed_venue_close(struct feed_stage *f)
{
	struct feed_pub *p = &f->pub;
	if (f->src)
		feed_log_counters(p->s, f->src);
	ring_producer_detach(&p->md); /* closes: the cascade starts here */
	tap_close(&p->tap);
	if (f->src)
		feed_source_close(f->src);
}

/* Publish up to n due events; 0, or the exit code of a failure (1). */
static int synth_burst(struct stage *s, struct feed_stage *f, struct synth_run *r, uint32_t n, uint64_t t_busy,
		       bool *stop)
{
	int k;
	if (r->conflate) {
		k = (int)ring_try_claim(&r->md, n);
	} else {
		/* Held back by a full ring: wait in heartbeat-long slices and beat
		 * between them, so the supervisor sees back-pressure, not a stall. */
		for (;;) {
			k = stage_claim(s, &r->md, n, STAGE_TICK_NS);
			if (k != RING_E_TIMEOUT)
				break;
			stage_beat(s, stage_now_ns());
		}
	}
	if (k < 0) {
		*stop = true;
		/* The strategy died: the supervisor is already stopping us. */
		if (!(k == RING_E_PEER_DEAD && (stage_control_on(&s->run->control.stop) ||
						stage_control_on(&s->run->control.kill))))
			return stage_fail(s, "market data ring: %s", ring_strerror(k));
		return 0;
	}
	if (k < (int)n) { /* conflate: the consumer is behind; drop, and count it */
		stats_add(&s->st->counter[CTR_DROPPED], n - (uint32_t)k);
		if (k == 0) {
			r->sent += n;
			return 0;
		}
	}
	for (int i = 0; i < k; i++) {
		union fks_event *ev = ring_wslot(&r->md, (uint32_t)i);
		unsigned type = synth_next(&f->synth, ev);
		ev->h.recv_time_ns = (int64_t)(r->period ? r->t0 + (r->sent + (uint64_t)i) * r->period : t_busy);
		tap_put(&f->tap, ev);
		stats_add(&s->st->counter[type == FKS_EV_QUOTE ? CTR_QUOTES : CTR_TRADES], 1);
	}
	/* Published to the strategy first, to the journal right after. */
	ring_publish(&r->md, (uint32_t)k);
	tap_flush(&f->tap);
	r->sent += n;
	uint64_t t_end = stage_now_ns();
	stats_add(&s->st->events_out, (uint64_t)k);
	stats_add(&s->st->busy_ns, t_end - t_busy);
	stage_beat(s, t_end);
	return 0;
}

static int feed_synthetic_open(struct stage *s, struct feed_stage *f)
{
	const struct fks_config *cfg = s->a->cfg;
	struct synth_params sp;
	feed_params(cfg, &sp);
	if (synth_init(&f->synth, &sp) != 0)
		return stage_fail(s, "synthetic feed: invalid parameters");
	struct synth_run *r = &f->run;
	if (stage_attach_out(s, &r->md, RUN_RING_MD) || tap_attach(s, &f->tap, RUN_RING_TAP_FEED))
		return 1;
	r->conflate = cfg->ring[FKS_RING_MARKET_DATA].overflow == FKS_OVERFLOW_CONFLATE;
	r->period = cfg->feed.rate ? 1000000000ull / cfg->feed.rate : 0;
	r->limit = s->a->max_events;
	r->t0 = stage_now_ns();
	if (r->period)
		prctl(PR_SET_TIMERSLACK, 1UL); /* wake when asked, not up to 50 us later */
	return 0;
}

static int feed_synthetic_poll(struct kernel *k, struct feed_stage *f, uint64_t now)
{
	struct stage *s = &k->s;
	struct synth_run *r = &f->run;
	if (stage_control_on(&s->run->control.stop) || (r->limit && r->sent >= r->limit))
		return KERNEL_DONE;
	uint32_t n = BATCH;
	if (r->period) {
		uint64_t due = (now - r->t0) / r->period + 1; /* events due by now */
		if (due <= r->sent) {
			k->wake_ns = r->t0 + r->sent * r->period;
			return 0;
		}
		if (due - r->sent < n)
			n = (uint32_t)(due - r->sent);
	}
	if (r->limit && r->limit - r->sent < n)
		n = (uint32_t)(r->limit - r->sent);
	bool stop = false;
	if (synth_burst(s, f, r, n, now, &stop))
		return KERNEL_FAILED;
	k->wake_ns = 0;
	return stop ? KERNEL_DONE : (int)n;
}

static bool feed_is_synthetic(const struct stage *s)
{
	return s->a->cfg->feed.type == FKS_FEED_SYNTHETIC;
}

static int feed_open(struct kernel *k)
{
	struct feed_stage *f = calloc(1, sizeof *f);
	if (!f)
		return stage_fail(&k->s, "out of memory");
	k->state = f;
	f->pub.s = &k->s;
	int rc = feed_is_synthetic(&k->s) ? feed_synthetic_open(&k->s, f) : feed_venue_open(&k->s, f);
	if (rc == 0)
		atomic_store_explicit(&k->s.st->state, STAGE_RUNNING, memory_order_release);
	return rc;
}

static int feed_poll(struct kernel *k, uint64_t now)
{
	struct feed_stage *f = k->state;
	return feed_is_synthetic(&k->s) ? feed_synthetic_poll(k, f, now) : feed_venue_poll(k, f, now);
}

static int feed_close(struct kernel *k)
{
	struct feed_stage *f = k->state;
	if (!f)
		return 1;
	if (atomic_load_explicit(&k->s.st->state, memory_order_acquire) == STAGE_RUNNING)
		atomic_store_explicit(&k->s.st->state, STAGE_DRAINING, memory_order_release);
	if (feed_is_synthetic(&k->s)) {
		ring_producer_detach(&f->run.md); /* closes: the cascade starts here */
		tap_close(&f->tap);
	} else {
		feed_venue_close(f);
	}
	int rc = f->pub.rc;
	free(f);
	k->state = NULL;
	return rc;
}

const struct kernel_ops feed_kernel = { .open = feed_open, .poll = feed_poll, .close = feed_close };
