/*
 * Tests for `fks replay` (pipeline/replay/) through the real fks binary.
 *
 *  - determinism: one synthetic journal replayed twice gives byte-identical
 *    output journals (event bytes, key by key) and reports;
 *  - parity: --verify accepts a journal laid out like a live run (the
 *    replay's own output), and rejects a copy with one order altered,
 *    naming that order's journal key and the field;
 *  - correctness: the Kraken trades (converted at test time by
 *    tests/replay_ref.py) replayed with the simple fill rule give exactly
 *    the fills and the net P&L and fees of the Python reference;
 *  - bad inputs: missing input, not a journal, bad --sweep, unknown key,
 *    garbage lines in a recording (counted, skipped).
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/config/config.h"
#include "pipeline/journal/journal.h"
#include "feeds/synthetic.h"

static char tmp[256];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/fks-test-replay-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

/* Run a shell command; its exit status.  Output goes to tmp/out.txt. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096], full[4400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "(%s) >'%s/out.txt' 2>&1", cmd, tmp);
	int st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return b;
}

static char *output(void)
{
	char p[300];
	snprintf(p, sizeof p, "%s/out.txt", tmp);
	return slurp(p, NULL);
}

static const char *fks(void)
{
	const char *b = getenv("FKS_BIN");
	cr_assert_not_null(b, "FKS_BIN not set (run through meson test)");
	return b;
}

/* A journal like a live run's market data: the default config, N synthetic
 * events of both instruments (seed 7), source feed. */
static void write_synthetic_journal(const char *dir, uint64_t n)
{
	static struct fks_config cfg;
	static struct journal_meta meta;
	char err[256];
	cr_assert_eq(config_load_default(&cfg, err, sizeof err), 0, "%s", err);
	journal_meta_from_config(&meta, &cfg, "test");
	meta.start_time_ns = 1700000000000000000;
	struct journal *j;
	cr_assert_eq(journal_create(dir, &meta, NULL, &j, err, sizeof err), JOURNAL_OK, "%s", err);
	struct synth_feed feed;
	struct synth_params sp = { .seed = 7, .trade_ratio_ppm = 200000, .volatility_bps_x100 = 200,
				   .start_time_ns = 1700000000000000000, .step_ns = 1000000, .n_instruments = 2 };
	for (int i = 0; i < 2; i++)
		sp.instrument[i] = (struct synth_instrument){ .id = cfg.instrument[i].id,
							      .start_px = cfg.instrument[i].start_px,
							      .px_scale = cfg.instrument[i].px_scale,
							      .qty_scale = cfg.instrument[i].qty_scale };
	cr_assert_eq(synth_init(&feed, &sp), 0);
	for (uint64_t i = 0; i < n; i++) {
		union fks_event e;
		memset(&e, 0, sizeof e);
		synth_next(&feed, &e);
		e.h.recv_time_ns = 5000 + (int64_t)i * 1000; /* as a feed would stamp it */
		cr_assert_eq(journal_append(j, &e, NULL, 0), JOURNAL_OK);
	}
	cr_assert_eq(journal_close(j), JOURNAL_OK);
}

struct jcopy {
	size_t n;
	uint64_t *key;
	union fks_event *ev;
};

static void read_journal(const char *dir, struct jcopy *c)
{
	struct journal_reader *r;
	char err[256];
	cr_assert_eq(journal_open_reader(dir, &r, err, sizeof err), JOURNAL_OK, "%s", err);
	size_t cap = 1024;
	c->n = 0;
	c->key = malloc(cap * sizeof *c->key);
	c->ev = malloc(cap * sizeof *c->ev);
	struct journal_record rec;
	int rc;
	while ((rc = journal_read(r, &rec)) == 1) {
		if (c->n == cap) {
			cap *= 2;
			c->key = realloc(c->key, cap * sizeof *c->key);
			c->ev = realloc(c->ev, cap * sizeof *c->ev);
		}
		c->key[c->n] = rec.seq;
		c->ev[c->n++] = rec.ev;
	}
	cr_assert_eq(rc, 0);
	journal_reader_close(r);
}

static void free_copy(struct jcopy *c)
{
	free(c->key);
	free(c->ev);
}

TestSuite(replay, .init = setup, .fini = teardown, .timeout = 120);

Test(replay, same_input_twice_gives_identical_journals_and_reports)
{
	char in[300], a[300], b[300];
	snprintf(in, sizeof in, "%s/in", tmp);
	snprintf(a, sizeof a, "%s/a", tmp);
	snprintf(b, sizeof b, "%s/b", tmp);
	write_synthetic_journal(in, 20000);
	cr_assert_eq(sh("%s replay --input %s --out %s --report %s/ra", fks(), in, a, tmp), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s --out %s --report %s/rb", fks(), in, b, tmp), 0, "%s", output());

	struct jcopy x, y;
	read_journal(a, &x);
	read_journal(b, &y);
	cr_assert_gt(x.n, 20000, "market data plus produced events");
	cr_assert_eq(x.n, y.n);
	size_t orders = 0;
	for (size_t i = 0; i < x.n; i++) {
		cr_assert_eq(x.key[i], y.key[i]);
		cr_assert_eq(memcmp(&x.ev[i], &y.ev[i], fks_event_size(x.ev[i].h.type)), 0, "key %" PRIu64, x.key[i]);
		orders += x.ev[i].h.type == FKS_EV_ORDER_NEW;
	}
	cr_assert_gt(orders, 0, "the crossover must trade on 20000 events");
	free_copy(&x);
	free_copy(&y);

	for (int k = 0; k < 2; k++) {
		char pa[300], pb[300];
		const char *f = k ? "report.html" : "report.json";
		snprintf(pa, sizeof pa, "%s/ra/%s", tmp, f);
		snprintf(pb, sizeof pb, "%s/rb/%s", tmp, f);
		size_t la, lb;
		char *ta = slurp(pa, &la), *tb = slurp(pb, &lb);
		cr_assert_eq(la, lb, "%s", f);
		cr_assert_eq(memcmp(ta, tb, la), 0, "%s differs", f);
		if (k) {
			cr_assert_not_null(strstr(ta, "<svg"), "inline SVG chart");
			cr_assert_null(strstr(ta, "src=\"http"), "no external assets");
		} else {
			cr_assert_not_null(strstr(ta, "\"sharpe\""));
			cr_assert_not_null(strstr(ta, "\"by_instrument\""));
		}
		free(ta);
		free(tb);
	}
}

Test(replay, verify_accepts_live_layout_and_names_an_altered_order)
{
	char in[300], a[300], bad[300];
	snprintf(in, sizeof in, "%s/in", tmp);
	snprintf(a, sizeof a, "%s/a", tmp);
	snprintf(bad, sizeof bad, "%s/bad", tmp);
	write_synthetic_journal(in, 20000);
	cr_assert_eq(sh("%s replay --input %s --out %s", fks(), in, a), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s --verify", fks(), a), 0, "%s", output());
	char *o = output();
	cr_assert_not_null(strstr(o, "all match"), "%s", o);
	free(o);

	/* Copy it with the third order's qty doubled. */
	struct jcopy x;
	read_journal(a, &x);
	static struct journal_meta meta;
	static struct fks_config cfg;
	char err[256];
	cr_assert_eq(config_load_default(&cfg, err, sizeof err), 0);
	journal_meta_from_config(&meta, &cfg, "test");
	struct journal *j;
	cr_assert_eq(journal_create(bad, &meta, NULL, &j, err, sizeof err), JOURNAL_OK, "%s", err);
	int seen = 0;
	uint64_t altered = 0;
	for (size_t i = 0; i < x.n; i++) {
		union fks_event e = x.ev[i];
		if (e.h.type == FKS_EV_ORDER_NEW && ++seen == 3) {
			e.order_new.qty *= 2;
			altered = x.key[i];
		}
		cr_assert_eq(journal_append(j, &e, NULL, 0), JOURNAL_OK);
	}
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	cr_assert_gt(altered, 0);
	free_copy(&x);

	cr_assert_eq(sh("%s replay --input %s --verify", fks(), bad), 1);
	o = output();
	char want[128];
	snprintf(want, sizeof want, "MISMATCH at journal key %" PRIu64 ": order_new", altered);
	cr_assert_not_null(strstr(o, want), "want '%s' in: %s", want, o);
	cr_assert_not_null(strstr(o, "qty"), "%s", o);
	free(o);
}

/* The config for the Kraken tape: XBTUSDT at Kraken's precision. */
static const char kraken_yaml[] =
	"stages:\n  feed: {core: 0, wait: park}\n  strategy: {core: 0, wait: park}\n"
	"  risk: {core: 0, wait: park}\n  gateway: {core: 0, wait: park}\n"
	"instruments:\n  - symbol: XBTUSDT\n    px_scale: 5\n    qty_scale: 8\n    start_px: \"100000\"\n"
	"feed: {type: synthetic, seed: 1, rate: 0, trade_ratio: 0.2, volatility_bps: 1}\n"
	"strategy: {type: ma_cross, fast: 5, slow: 20, qty: \"0.01\", order_type: limit}\n"
	"risk: {max_order_qty: \"1\", max_notional: \"100000\", max_position: \"5\", stale_data_ms: 1000, kill_switch: false}\n"
	"venue: {type: sim, fill: touch, latency_us: 0}\n"
	"journal: {path: fks-journal, sync: durable}\n"
	"supervisor: {heartbeat_timeout_ms: 1000, stats: fks}\n";

static void kraken_recording(char *rec, size_t cap, char *cfgp, size_t cfgcap)
{
	const char *shared = getenv("FKS_SHARED"), *py = getenv("FKS_PYTHON"), *ref = getenv("FKS_REPLAY_REF");
	cr_assert(shared && py && ref, "FKS_SHARED, FKS_PYTHON, FKS_REPLAY_REF (set by meson)");
	snprintf(rec, cap, "%s/kraken.jsonl", tmp);
	cr_assert_eq(sh("%s %s convert-kraken %s/data/kraken/http_trades.json %s", py, ref, shared, rec), 0, "%s",
		     output());
	snprintf(cfgp, cfgcap, "%s/kraken.yaml", tmp);
	FILE *f = fopen(cfgp, "w");
	fputs(kraken_yaml, f);
	fclose(f);
}

Test(replay, kraken_trades_match_the_python_reference)
{
	char rec[300], cfgp[300], outj[300];
	kraken_recording(rec, sizeof rec, cfgp, sizeof cfgp);
	snprintf(outj, sizeof outj, "%s/out", tmp);
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades --out %s --report %s/rep", fks(), rec, cfgp,
			outj, tmp), 0, "%s", output());
	char path[300];
	snprintf(path, sizeof path, "%s/rep/report.json", tmp);
	char *json = slurp(path, NULL);

	cr_assert_eq(sh("%s %s ma-cross %s --fast 5 --slow 20 --qty 0.01 --px-scale 5 --qty-scale 8 --fee-ppm 1000",
			getenv("FKS_PYTHON"), getenv("FKS_REPLAY_REF"), rec), 0, "%s", output());
	char *ref = output();

	/* Fills: the journal's, in order, against the reference's lines. */
	struct jcopy x;
	read_journal(outj, &x);
	char *line = ref;
	size_t fills = 0, market = 0;
	for (size_t i = 0; i < x.n; i++) {
		const union fks_event *e = &x.ev[i];
		market += e->h.type == FKS_EV_TRADE;
		if (e->h.type != FKS_EV_FILL)
			continue;
		uint8_t side = 0;
		for (size_t k = i; k-- > 0;)
			if (x.ev[k].h.type == FKS_EV_ORDER_NEW && x.ev[k].order_new.order_id == e->fill.order_id) {
				side = x.ev[k].order_new.side;
				break;
			}
		char want[200];
		snprintf(want, sizeof want, "FILL %" PRId64 " %s %" PRId64 " %" PRId64 " ", e->h.event_time_ns,
			 side == FKS_SIDE_BUY ? "buy" : "sell", e->fill.px, e->fill.qty);
		cr_assert_eq(strncmp(line, want, strlen(want)), 0, "fill %zu: replay '%s', reference '%.80s'", fills, want, line);
		line = strchr(line, '\n') + 1;
		fills++;
	}
	free_copy(&x);
	/* 1000 trades in the file (the README says about 1,000; counted with
	 * jq '.result.XBTUSDT | length' = 1000). */
	cr_assert_eq(market, 1000);
	cr_assert_gt(fills, 0);
	cr_assert_eq(strncmp(line, "NET ", 4), 0, "reference has more fills: %.80s", line);

	/* Net and fees: the reference prints cash units (10^-13 USDT); the
	 * report prints the same as an exact decimal at 13 places. */
	long long net = 0, fees = 0;
	cr_assert_eq(sscanf(line, "NET %lld\nFEES %lld", &net, &fees), 2);
	char want[200];
	snprintf(want, sizeof want, "\"net_pnl_exact\": \"%s%lld.%013lld\"", net < 0 ? "-" : "",
		 llabs(net) / 10000000000000LL, llabs(net) % 10000000000000LL);
	cr_assert_not_null(strstr(json, want), "want %s in report", want);
	snprintf(want, sizeof want, "\"fees_exact\": \"%lld.%013lld\"", fees / 10000000000000LL, fees % 10000000000000LL);
	cr_assert_not_null(strstr(json, want), "want %s in report", want);
	free(ref);
	free(json);
}

Test(replay, sweep_ranks_a_grid)
{
	char rec[300], cfgp[300];
	kraken_recording(rec, sizeof rec, cfgp, sizeof cfgp);
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades --sweep fast=3,5 --sweep slow=20,40", fks(), rec,
			cfgp), 0, "%s", output());
	char *o = output();
	cr_assert_not_null(strstr(o, "sweep: 4/4 done"), "%s", o);
	/* four ranked rows */
	cr_assert_not_null(strstr(o, "\n   4 "), "%s", o);
	cr_assert_null(strstr(o, "\n   5 "), "%s", o);
	free(o);
}

Test(replay, bad_inputs)
{
	char p[300];
	cr_assert_eq(sh("%s replay --input %s/nothing-here", fks(), tmp), 1);
	char *o = output();
	cr_assert_not_null(strstr(o, "No such file"), "%s", o);
	free(o);

	snprintf(p, sizeof p, "%s/notjournal", tmp);
	mkdir(p, 0700);
	cr_assert_eq(sh("echo junk > %s/data.mdb && %s replay --input %s", p, fks(), p), 1);
	o = output();
	cr_assert_not_null(strstr(o, "replay:"), "%s", o);
	free(o);

	cr_assert_eq(sh("%s replay", fks()), 2);
	cr_assert_eq(sh("%s replay --input %s --sweep fast", fks(), tmp), 2);
	cr_assert_eq(sh("%s replay --input %s --sweep fast=3,,4", fks(), tmp), 2);
	cr_assert_eq(sh("%s replay --input %s --speed fast", fks(), tmp), 2);
	cr_assert_eq(sh("%s replay --input %s --bogus", fks(), tmp), 2);

	/* A recording with garbage: counted per reason, the rest replayed. */
	snprintf(p, sizeof p, "%s/rec.jsonl", tmp);
	FILE *f = fopen(p, "w");
	fputs("{\"ts\": 1000, \"price\": \"60000.00\", \"qty\": \"0.5\", \"side\": \"buy\"}\n"
	      "not json at all\n"
	      "{\"ts\": 2000, \"price\": \"60000.001\", \"qty\": \"0.5\", \"side\": \"buy\"}\n"
	      "{\"ts\": 3000, \"price\": \"60000.00\", \"qty\": \"0.5\", \"side\": \"up\"}\n"
	      "{\"ts\": 4000, \"price\": \"60000.00\"}\n"
	      "{\"ts\": 5000, \"price\": \"99999999999999999999\", \"qty\": \"1\", \"side\": \"s\"}\n"
	      "{\"ts\": 6000, \"price\": \"60000\", \"qty\": \"1\", \"side\": \"s\", \"symbol\": \"NOPE\"}\n"
	      "\xff\xfe\n"
	      "{\"ts\": 7000, \"bid\": \"59999\", \"bid_qty\": \"1\", \"ask\": \"60001\", \"ask_qty\": \"1\"}\n",
	      f);
	fclose(f);
	cr_assert_eq(sh("%s replay --input %s", fks(), p), 0);
	o = output();
	cr_assert_not_null(strstr(o, "market events 2 "), "%s", o);
	cr_assert_not_null(strstr(o, "2 lines skipped: bad_json"), "%s", o);
	cr_assert_not_null(strstr(o, "2 lines skipped: bad_number"), "%s", o);
	cr_assert_not_null(strstr(o, "1 lines skipped: bad_side"), "%s", o);
	cr_assert_not_null(strstr(o, "1 lines skipped: missing_field"), "%s", o);
	cr_assert_not_null(strstr(o, "1 lines skipped: unknown_symbol"), "%s", o);
	free(o);

	/* Unknown knob, named. */
	cr_assert_eq(sh("%s replay --input %s --sweep colour=red,blue", fks(), p), 2);
	o = output();
	cr_assert_not_null(strstr(o, "unknown key 'colour'"), "%s", o);
	free(o);
	cr_assert_eq(sh("%s replay --input %s --set fast=0", fks(), p), 2);
	/* A venue recording whose config does not fit the venue: said so. */
	cr_assert_eq(sh("%s replay --input %s --venue itch", fks(), p), 1);
	o = output();
	cr_assert_not_null(strstr(o, "must have px_scale 4"), "%s", o);
	free(o);
	cr_assert_eq(sh("%s replay --input %s --venue nasdaq", fks(), p), 1);
	o = output();
	cr_assert_not_null(strstr(o, "unknown format"), "%s", o);
	free(o);
	/* --verify on a recording */
	cr_assert_eq(sh("%s replay --input %s --verify", fks(), p), 2);
}

enum order_alteration { ALTER_QTY, ALTER_PX };

/* Copy journal src to dst with the n-th order_new altered (qty doubled, or
 * px one tick up); its key. */
static uint64_t copy_altering_order(const char *src, const char *dst, int n, enum order_alteration what)
{
	struct jcopy x;
	read_journal(src, &x);
	static struct journal_meta meta;
	static struct fks_config cfg;
	char err[256];
	cr_assert_eq(config_load_default(&cfg, err, sizeof err), 0);
	journal_meta_from_config(&meta, &cfg, "test");
	struct journal *j;
	cr_assert_eq(journal_create(dst, &meta, NULL, &j, err, sizeof err), JOURNAL_OK, "%s", err);
	int seen = 0;
	uint64_t altered = 0;
	for (size_t i = 0; i < x.n; i++) {
		union fks_event e = x.ev[i];
		if (e.h.type == FKS_EV_ORDER_NEW && ++seen == n) {
			if (what == ALTER_QTY)
				e.order_new.qty *= 2;
			else
				e.order_new.px += 1;
			altered = x.key[i];
		}
		cr_assert_eq(journal_append(j, &e, NULL, 0), JOURNAL_OK);
	}
	cr_assert_eq(journal_close(j), JOURNAL_OK);
	free_copy(&x);
	return altered;
}

/* A real `fks run` journal (five processes, live timing): --verify must
 * reproduce every order from the journaled inputs and APPLIED markers. */
Test(replay, verify_accepts_a_real_fks_run_journal, .timeout = 240)
{
	char live[300], bad[300], prefix[64];
	snprintf(live, sizeof live, "%s/live", tmp);
	snprintf(prefix, sizeof prefix, "fkstr%d", (int)getpid());
	cr_assert_eq(sh("%s run --events 60000 --journal %s --prefix %s", fks(), live, prefix), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s --verify", fks(), live), 0, "%s", output());
	char *o = output();
	cr_assert_not_null(strstr(o, "all match"), "%s", o);
	cr_assert_null(strstr(o, " 0 orders"), "the run must have traded: %s", o);
	free(o);

	/* The mismatch names the first differing field from the field table. */
	static const struct { enum order_alteration what; const char *names; } cases[] = {
		{ ALTER_QTY, "): qty: journal " }, { ALTER_PX, "): px: journal " },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		snprintf(bad, sizeof bad, "%s/bad%zu", tmp, c);
		uint64_t altered = copy_altering_order(live, bad, 5, cases[c].what);
		cr_assert_gt(altered, 0);
		cr_assert_eq(sh("%s replay --input %s --verify", fks(), bad), 1);
		o = output();
		char want[128];
		snprintf(want, sizeof want, "MISMATCH at journal key %" PRIu64 ": order_new", altered);
		cr_assert_not_null(strstr(o, want), "want '%s' in: %s", want, o);
		cr_assert_not_null(strstr(o, cases[c].names), "want '%s' in: %s", cases[c].names, o);
		free(o);
	}
}

/* The engine path: two strategies, determinism and --verify, and a changed
 * parameter is caught. */
Test(replay, engine_strategies_replay_deterministically_and_verify)
{
	char rec[300], cfgp[300], a[300], b[300];
	kraken_recording(rec, sizeof rec, cfgp, sizeof cfgp);
	snprintf(a, sizeof a, "%s/a", tmp);
	snprintf(b, sizeof b, "%s/b", tmp);
	const char *strats = "--strategy sma_cross:fast=5,slow=20,sizing=fixed,fraction=0.01 "
			     "--strategy asmbtr:depth=4,on=trade,sizing=fixed,fraction=0.01";
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades %s --out %s", fks(), rec, cfgp, strats, a), 0,
		     "%s", output());
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades %s --out %s", fks(), rec, cfgp, strats, b), 0,
		     "%s", output());
	struct jcopy x, y;
	read_journal(a, &x);
	read_journal(b, &y);
	cr_assert_eq(x.n, y.n);
	size_t signals = 0, fills = 0;
	for (size_t i = 0; i < x.n; i++) {
		cr_assert_eq(memcmp(&x.ev[i], &y.ev[i], fks_event_size(x.ev[i].h.type)), 0, "key %" PRIu64, x.key[i]);
		signals += x.ev[i].h.type == FKS_EV_SIGNAL;
		fills += x.ev[i].h.type == FKS_EV_FILL;
	}
	cr_assert_gt(signals, 0);
	cr_assert_gt(fills, 0);
	free_copy(&x);
	free_copy(&y);
	cr_assert_eq(sh("%s replay --input %s %s --verify", fks(), a, strats), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s %s --set asmbtr.fraction=0.02 --verify", fks(), a, strats), 1);
	char *o = output();
	cr_assert_not_null(strstr(o, "MISMATCH at journal key"), "%s", o);
	cr_assert_not_null(strstr(o, "qty"), "%s", o);
	free(o);
	/* a sweep over an engine parameter */
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades %s --sweep asmbtr.depth=4,6 --rank sharpe", fks(),
			rec, cfgp, strats), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s -c %s %s --sweep nosuch.depth=4", fks(), rec, cfgp, strats), 2);
	cr_assert_eq(sh("%s replay --input %s -c %s --strategy nosuch", fks(), rec, cfgp), 2);
}

/* --speed paces by event time and changes nothing in the output.  The
 * Kraken tape spans about 24600 s of event time: x10^6 takes ~25 ms. */
Test(replay, pacing_changes_nothing)
{
	char rec[300], cfgp[300], a[300], b[300];
	kraken_recording(rec, sizeof rec, cfgp, sizeof cfgp);
	snprintf(a, sizeof a, "%s/a", tmp);
	snprintf(b, sizeof b, "%s/b", tmp);
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades --out %s", fks(), rec, cfgp, a), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s -c %s --touch-from-trades --speed x1000000 --out %s", fks(), rec, cfgp, b), 0,
		     "%s", output());
	struct jcopy x, y;
	read_journal(a, &x);
	read_journal(b, &y);
	cr_assert_eq(x.n, y.n);
	for (size_t i = 0; i < x.n; i++)
		cr_assert_eq(memcmp(&x.ev[i], &y.ev[i], fks_event_size(x.ev[i].h.type)), 0, "key %" PRIu64, x.key[i]);
	free_copy(&x);
	free_copy(&y);
	/* --out into an existing journal is refused, not appended to */
	cr_assert_eq(sh("%s replay --input %s -c %s --out %s", fks(), rec, cfgp, a), 1);
}

/* A venue recording (the shared ITCH sample) replays through the same
 * feed source `fks run` reads it with: the replay's output journal holds
 * exactly the market events a live run over the same file journals, in the
 * same order and with the same bytes (receive times aside). */
Test(replay, an_itch_recording_replays_as_fks_run_reads_it, .timeout = 240)
{
	const char *shared = getenv("FKS_SHARED");
	cr_assert_not_null(shared);
	char itch[512], cfgp[300], live[300], out[300], prefix[64];
	snprintf(itch, sizeof itch, "%s/data/itch/ex20101224.TEST_ITCH_50", shared);
	snprintf(cfgp, sizeof cfgp, "%s/itch.yaml", tmp);
	snprintf(live, sizeof live, "%s/live", tmp);
	snprintf(out, sizeof out, "%s/out", tmp);
	snprintf(prefix, sizeof prefix, "fkstri%d", (int)getpid());
	FILE *f = fopen(cfgp, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"stages: {feed: {core: 0}, strategy: {core: 0}, risk: {core: 0}, gateway: {core: 0}}\n"
		"instruments:\n"
		"  - {symbol: ALC, px_scale: 4, qty_scale: 0}\n"
		"  - {symbol: CHAR, px_scale: 4, qty_scale: 0}\n"
		"feed: {type: itch, source: file, path: \"%s\", session_date: \"2010-12-24\"}\n"
		"strategy: {fast: 3, slow: 8, qty: \"100\"}\n"
		"risk: {max_order_qty: 1000, max_notional: 1000000, max_position: 10000}\n",
		itch);
	fclose(f);
	cr_assert_eq(sh("%s run -c %s --journal %s --prefix %s", fks(), cfgp, live, prefix), 0, "%s", output());
	cr_assert_eq(sh("%s replay --input %s --venue itch -c %s --out %s", fks(), itch, cfgp, out), 0, "%s",
		     output());
	static struct jcopy a, b;
	read_journal(live, &a);
	read_journal(out, &b);
	size_t ia = 0, ib = 0, n = 0;
	for (;; ia++, ib++) {
		while (ia < a.n && a.ev[ia].h.source != FKS_STAGE_FEED)
			ia++;
		while (ib < b.n && b.ev[ib].h.source != FKS_STAGE_FEED)
			ib++;
		if (ia == a.n || ib == b.n)
			break;
		union fks_event x = a.ev[ia], y = b.ev[ib];
		x.h.recv_time_ns = y.h.recv_time_ns = 0; /* live: the wall clock; replay: none */
		x.h.flags &= (uint16_t)~FKS_EVF_REPLAY;
		y.h.flags &= (uint16_t)~FKS_EVF_REPLAY;
		cr_assert_eq(memcmp(&x, &y, fks_event_size(x.h.type)), 0, "market event %zu differs (live key %" PRIu64 ")",
			     n, a.key[ia]);
		n++;
	}
	cr_assert_eq(ia, a.n, "the live journal has more market events than the replay");
	cr_assert_eq(ib, b.n, "the replay has more market events than the live journal");
	cr_assert_gt(n, 1000, "the two stocks trade in the sample");
	free_copy(&a);
	free_copy(&b);
}

/* A recording `fks feed decode` rejects (cut inside a message: the
 * transport counts it truncated) is not replayed as if it were whole: exit 1
 * with the reason, as feed decode does. */
Test(replay, a_truncated_venue_recording_exits_1_with_the_reason, .timeout = 60)
{
	const char *shared = getenv("FKS_SHARED");
	cr_assert_not_null(shared);
	char itch[512], cut[300], cfgp[300];
	snprintf(itch, sizeof itch, "%s/data/itch/ex20101224.TEST_ITCH_50", shared);
	snprintf(cut, sizeof cut, "%s/cut.itch", tmp);
	snprintf(cfgp, sizeof cfgp, "%s/itch-cut.yaml", tmp);
	cr_assert_eq(sh("head -c 100000 %s > %s", itch, cut), 0);
	FILE *f = fopen(cfgp, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"stages: {feed: {core: 0}, strategy: {core: 0}, risk: {core: 0}, gateway: {core: 0}}\n"
		"instruments:\n"
		"  - {symbol: ALC, px_scale: 4, qty_scale: 0}\n"
		"feed: {type: itch, source: file, path: \"%s\", session_date: \"2010-12-24\"}\n"
		"strategy: {fast: 3, slow: 8, qty: \"100\"}\n"
		"risk: {max_order_qty: 1000, max_notional: 1000000, max_position: 10000}\n",
		cut);
	fclose(f);
	cr_assert_eq(sh("%s feed decode --venue itch %s", fks(), cut), 1, "%s", output());
	cr_assert_eq(sh("%s replay --input %s --venue itch -c %s", fks(), cut, cfgp), 1, "%s", output());
	char *o = output();
	cr_assert_not_null(strstr(o, "cut.itch: not read to its end: 1 truncated"), "%s", o);
	free(o);
	/* The whole recording still replays. */
	cr_assert_eq(sh("%s replay --input %s --venue itch -c %s", fks(), itch, cfgp), 0, "%s", output());
}
