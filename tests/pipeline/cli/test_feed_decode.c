/* `fks feed decode` and `fks run` over a recording, through the real fks
 * binary (FKS_BIN).  Expected values come from the shared data's README
 * and from a naive replay of the raw bytes written here, independently of
 * feeds/ and pipeline/. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/journal/journal.h"
#include "tests/support/fks_test.h"

#define OUT_MAX (1024 * 1024)

static char out_buf[OUT_MAX], err_buf[OUT_MAX];

static void itch_path(char *buf, size_t cap)
{
	const char *sh = getenv("FKS_SHARED");
	cr_assert_not_null(sh, "FKS_SHARED must name the shared directory");
	snprintf(buf, cap, "%s/data/itch/ex20101224.TEST_ITCH_50", sh);
}

/* Run fks with args (NULL-terminated); stdout/stderr into out_buf/err_buf. */
static int run_fks(const char *const *args)
{
	return fks_test_capture(args, out_buf, err_buf, OUT_MAX);
}

/* The string value of "key": "..." after scope, into buf. */
static void json_text(const char *json, const char *scope, const char *key, char *buf, size_t cap)
{
	const char *s = strstr(json, scope);
	cr_assert_not_null(s, "no %s", scope);
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": \"", key);
	const char *k = strstr(s, pat);
	cr_assert_not_null(k, "no %s in %s", key, scope);
	k += strlen(pat);
	size_t n = strcspn(k, "\"");
	cr_assert_lt(n, cap);
	memcpy(buf, k, n);
	buf[n] = 0;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	static unsigned char buf[1 << 20];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return buf;
}

/* ---- a naive ITCH replay, for one stock ------------------------------ */

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sizes of the types present in the sample (ITCH 5.0 spec, section 4). */
static size_t type_len(unsigned char t)
{
	switch (t) {
	case 'S': return 12;
	case 'R': return 39;
	case 'H': return 25;
	case 'A': return 36;
	case 'F': return 40;
	case 'E': return 31;
	case 'C': return 36;
	case 'X': return 23;
	case 'D': return 19;
	case 'U': return 35;
	case 'P': return 44;
	default: return 0;
	}
}

struct naive_order {
	uint64_t ref;
	int64_t px, qty;
	char side;
	bool live;
};

static struct naive_order orders[16384];
static size_t n_orders;

static struct naive_order *find_order(uint64_t ref)
{
	for (size_t i = n_orders; i-- > 0;)
		if (orders[i].live && orders[i].ref == ref)
			return &orders[i];
	return NULL;
}

/* Replay every message of `stock` (8 chars, space padded) and return the
 * best bid and ask (price at 4 decimals, total shares there). */
static void naive_best(const char *stock, int64_t *bid_px, int64_t *bid_qty, int64_t *ask_px, int64_t *ask_qty)
{
	char path[512];
	itch_path(path, sizeof path);
	size_t len;
	const unsigned char *b = read_file(path, &len);
	n_orders = 0;
	uint16_t locate = 0;
	size_t off = 0;
	while (off + 2 < len) {
		size_t n = be(b + off, 2);
		off += 2;
		if (n == 0)
			n = type_len(b[off]);
		cr_assert_gt(n, 0, "type %c at %zu", b[off], off);
		const unsigned char *m = b + off;
		off += n;
		uint16_t loc = (uint16_t)be(m + 1, 2);
		if (m[0] == 'R' && !memcmp(m + 11, stock, 8))
			locate = loc;
		if (!locate || loc != locate)
			continue;
		switch (m[0]) {
		case 'A':
		case 'F':
			cr_assert_lt(n_orders, sizeof orders / sizeof *orders);
			orders[n_orders++] = (struct naive_order){ be(m + 11, 8), (int64_t)be(m + 32, 4),
								  (int64_t)be(m + 20, 4), (char)m[19], true };
			break;
		case 'E':
		case 'X': {
			struct naive_order *o = find_order(be(m + 11, 8));
			if (o && (o->qty -= (int64_t)be(m + 19, 4)) <= 0)
				o->live = false;
			break;
		}
		case 'D': {
			struct naive_order *o = find_order(be(m + 11, 8));
			if (o)
				o->live = false;
			break;
		}
		case 'U': {
			struct naive_order *o = find_order(be(m + 11, 8));
			if (o) {
				o->live = false;
				cr_assert_lt(n_orders, sizeof orders / sizeof *orders);
				orders[n_orders++] = (struct naive_order){ be(m + 19, 8), (int64_t)be(m + 31, 4),
									  (int64_t)be(m + 27, 4), o->side, true };
			}
			break;
		}
		}
	}
	*bid_px = 0, *ask_px = INT64_MAX;
	for (size_t i = 0; i < n_orders; i++) {
		if (!orders[i].live)
			continue;
		if (orders[i].side == 'B' && orders[i].px > *bid_px)
			*bid_px = orders[i].px;
		if (orders[i].side == 'S' && orders[i].px < *ask_px)
			*ask_px = orders[i].px;
	}
	*bid_qty = *ask_qty = 0;
	for (size_t i = 0; i < n_orders; i++) {
		if (!orders[i].live)
			continue;
		if (orders[i].side == 'B' && orders[i].px == *bid_px)
			*bid_qty += orders[i].qty;
		if (orders[i].side == 'S' && orders[i].px == *ask_px)
			*ask_qty += orders[i].qty;
	}
}

static void px4(int64_t v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%lld.%04lld", (long long)(v / 10000), (long long)(v % 10000));
}

/* ---- fks feed decode -------------------------------------------------- */

Test(feed_decode, itch_sample_counts_match_the_readme)
{
	char path[512];
	itch_path(path, sizeof path);
	const char *args[] = { "feed", "decode", "--venue", "itch", path, "--json", NULL };
	cr_assert_eq(run_fks(args), 0, "exit status; stderr: %s", err_buf);
	const char *j = out_buf;
	cr_assert_eq(fks_test_json_num(j, NULL, "messages"), 12012);
	/* shared/data/README.md: S 6, R 3, H 3, A 4997, F 3, E 198, X 45,
	 * D 1745, U 12, P 5000 */
	static const struct { const char *t; long long n; } want[] = {
		{ "S", 6 }, { "R", 3 }, { "H", 3 }, { "A", 4997 }, { "F", 3 },
		{ "E", 198 }, { "X", 45 }, { "D", 1745 }, { "U", 12 }, { "P", 5000 }, { "C", 0 }, { "Q", 0 },
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		cr_expect_eq(fks_test_json_num(j, "\"counts\"", want[i].t), want[i].n, "count of %s", want[i].t);
	cr_expect_eq(fks_test_json_num(j, "\"transport\"", "truncated"), 0);
}

Test(feed_decode, itch_final_books_match_a_naive_replay)
{
	char path[512];
	itch_path(path, sizeof path);
	const char *args[] = { "feed", "decode", "--venue", "itch", path, "--json", "--book", "3", NULL };
	cr_assert_eq(run_fks(args), 0, "stderr: %s", err_buf);
	static const char *const stocks[] = { "ALC", "BOB", "CHAR" };
	for (size_t i = 0; i < 3; i++) {
		char padded[9], scope[16], got[32], want[32];
		snprintf(padded, sizeof padded, "%-8s", stocks[i]);
		snprintf(scope, sizeof scope, "\"%s\": {", stocks[i]);
		int64_t bp, bq, ap, aq;
		naive_best(padded, &bp, &bq, &ap, &aq);
		cr_assert_gt(bp, 0, "%s has bids", stocks[i]);
		cr_assert_lt(ap, INT64_MAX, "%s has asks", stocks[i]);
		px4(bp, want, sizeof want);
		json_text(out_buf, scope, "bid_px", got, sizeof got);
		cr_expect_str_eq(got, want, "%s bid_px", stocks[i]);
		px4(ap, want, sizeof want);
		json_text(out_buf, scope, "ask_px", got, sizeof got);
		cr_expect_str_eq(got, want, "%s ask_px", stocks[i]);
		snprintf(want, sizeof want, "%lld", (long long)bq);
		json_text(out_buf, scope, "bid_qty", got, sizeof got);
		cr_expect_str_eq(got, want, "%s bid_qty", stocks[i]);
		snprintf(want, sizeof want, "%lld", (long long)aq);
		json_text(out_buf, scope, "ask_qty", got, sizeof got);
		cr_expect_str_eq(got, want, "%s ask_qty", stocks[i]);
	}
	/* The example in the brief, read off the file by hand once too. */
	char got[32];
	json_text(out_buf, "\"ALC\": {", "bid_px", got, sizeof got);
	cr_expect_str_eq(got, "27.0600");
	cr_expect(strstr(out_buf, "\"bids\": [[") != NULL, "--book 3 lists levels");
}

Test(feed_decode, a_truncated_itch_file_is_counted_and_exits_1)
{
	char path[512], cut[64];
	itch_path(path, sizeof path);
	size_t len;
	const unsigned char *b = read_file(path, &len);
	/* 100000 bytes: inside a message (the sample's frames do not end there
	 * - checked by the test: the transport must count it) */
	snprintf(cut, sizeof cut, "/tmp/fks-tfd-cut-%d.itch", (int)getpid());
	FILE *f = fopen(cut, "wb");
	cr_assert_not_null(f);
	fwrite(b, 1, 100000, f);
	fclose(f);
	const char *args[] = { "feed", "decode", "--venue", "itch", cut, "--json", NULL };
	int rc = run_fks(args);
	unlink(cut);
	cr_assert_eq(rc, 1, "a file not read to its end exits 1; stderr: %s", err_buf);
	cr_assert_eq(fks_test_json_num(out_buf, "\"transport\"", "truncated"), 1, "%s", out_buf);
	long long msgs = fks_test_json_num(out_buf, NULL, "messages");
	cr_assert(msgs > 2000 && msgs < 12012, "everything before the cut was decoded: %lld", msgs);
}

Test(feed_decode, bad_usage_and_missing_files)
{
	char path[512];
	itch_path(path, sizeof path);
	const char *missing[] = { "feed", "decode", "--venue", "itch", "/nonexistent/x.itch", NULL };
	cr_expect_eq(run_fks(missing), 1);
	cr_expect(strstr(err_buf, "No such file") != NULL, "%s", err_buf);
	const char *venue[] = { "feed", "decode", "--venue", "nasdaq", path, NULL };
	cr_expect_eq(run_fks(venue), 2);
	cr_expect(strstr(err_buf, "unknown venue 'nasdaq'") != NULL, "%s", err_buf);
	const char *novenue[] = { "feed", "decode", path, NULL };
	cr_expect_eq(run_fks(novenue), 2);
	const char *nofile[] = { "feed", "decode", "--venue", "itch", NULL };
	cr_expect_eq(run_fks(nofile), 2);
	const char *badbook[] = { "feed", "decode", "--venue", "itch", path, "--book", "x", NULL };
	cr_expect_eq(run_fks(badbook), 2);
	const char *baddate[] = { "feed", "decode", "--venue", "itch", path, "--session-date", "2010-13-01", NULL };
	cr_expect_eq(run_fks(baddate), 2);
	const char *help[] = { "feed", "decode", "--help", NULL };
	cr_expect_eq(run_fks(help), 0);
	cr_expect(strstr(out_buf, "usage: fks feed decode") != NULL);
	const char *group[] = { "feed", "--help", NULL };
	cr_expect_eq(run_fks(group), 0);
	cr_expect(strstr(out_buf, "decode") != NULL);
}

/* ---- fks run over a recording ------------------------------------------ */

static const char *itch_config(char *cfg_path, size_t cap, const char *journal)
{
	char path[512];
	itch_path(path, sizeof path);
	snprintf(cfg_path, cap, "/tmp/fks-tfd-%d.yaml", (int)getpid());
	FILE *f = fopen(cfg_path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"stages:\n"
		"  feed: {core: 0, wait: park}\n"
		"  strategy: {core: 0, wait: park}\n"
		"  risk: {core: 0, wait: park}\n"
		"  gateway: {core: 0, wait: park}\n"
		"rings:\n  capacity: 1024\n  overflow: block\n"
		"instruments:\n"
		"  - {symbol: ALC, px_scale: 4, qty_scale: 0}\n"
		"  - {symbol: CHAR, px_scale: 4, qty_scale: 0}\n"
		"feed:\n  type: itch\n  source: file\n  path: %s\n  session_date: \"2010-12-24\"\n"
		"strategy: {type: ma_cross, fast: 5, slow: 20, qty: \"100\", order_type: limit}\n"
		"risk: {max_order_qty: \"1000\", max_notional: \"1000000\", max_position: \"10000\", stale_data_ms: 1000}\n"
		"venue: {type: sim, fill: touch, latency_us: 0}\n"
		"journal: {path: %s, sync: async, batch_events: 4096, batch_us: 1000}\n"
		"supervisor: {heartbeat_timeout_ms: 2000, stats: fks}\n",
		path, journal);
	fclose(f);
	return cfg_path;
}

Test(feed_run, an_itch_recording_runs_to_its_end_and_is_journaled_once, .timeout = 120)
{
	char journal[96], cfg[96], prefix[48];
	snprintf(journal, sizeof journal, "/tmp/fks-tfd-j-%d", (int)getpid());
	snprintf(prefix, sizeof prefix, "fkstfd%d", (int)getpid() % 100000);
	itch_config(cfg, sizeof cfg, journal);
	const char *args[] = { "run", "-c", cfg, "--journal", journal, "--prefix", prefix, "--json", NULL };
	int rc = run_fks(args);
	unlink(cfg);
	cr_assert_eq(rc, 0, "fks run over a recording exits 0 at its end; stderr: %s", err_buf);
	const char *j = out_buf;
	long long quotes = fks_test_json_num(j, "\"feed\":", "quotes"), trades = fks_test_json_num(j, "\"feed\":", "trades");
	long long out = fks_test_json_num(j, "\"feed\":", "events_out");
	cr_assert_gt(quotes, 0);
	cr_assert_gt(trades, 0);

	/* What the journal holds, counted here. */
	struct journal_reader *r;
	char err[512];
	cr_assert_eq(journal_open_reader(journal, &r, err, sizeof err), JOURNAL_OK, "%s", err);
	journal_seek(r, 1);
	static struct journal_record rec;
	long long jq = 0, jt = 0, jb = 0, feed_events = 0;
	uint64_t next_seq = 1;
	bool dense = true, only_config_ids = true;
	while ((rc = journal_read(r, &rec)) == 1) {
		if (rec.ev.h.source != FKS_STAGE_FEED)
			continue;
		feed_events++;
		if (rec.ev.h.seq != next_seq)
			dense = false;
		next_seq = rec.ev.h.seq + 1;
		if (rec.ev.h.instrument < 1 || rec.ev.h.instrument > 2)
			only_config_ids = false;
		jq += rec.ev.h.type == FKS_EV_QUOTE;
		jt += rec.ev.h.type == FKS_EV_TRADE;
		jb += rec.ev.h.type == FKS_EV_BOOK_DELTA;
	}
	cr_assert_eq(rc, 0, "read: %s", journal_reader_error(r));
	journal_reader_close(r);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", journal);
	cr_expect_eq(system(cmd), 0);
	cr_expect_eq(jq, quotes, "journal quotes vs summary");
	cr_expect_eq(jt, trades, "journal trades vs summary");
	cr_expect_eq(feed_events, out, "every event the feed published is journaled once");
	cr_expect_eq(jq + jt + jb, feed_events);
	cr_expect(dense, "feed sequence is dense from 1");
	cr_expect(only_config_ids, "only the configured instruments, by config id");
	/* The strategy saw them all. */
	cr_expect_eq(fks_test_json_num(j, "\"strategy\":", "events_in") - fks_test_json_num(j, "\"strategy\":", "exec_in"), out);
}

Test(feed_run, an_itch_feed_with_wrong_scales_is_refused, .timeout = 60)
{
	char path[512], cfg[96];
	itch_path(path, sizeof path);
	snprintf(cfg, sizeof cfg, "/tmp/fks-tfd-s-%d.yaml", (int)getpid());
	FILE *f = fopen(cfg, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"stages:\n  feed: {core: 0}\n  strategy: {core: 0}\n  risk: {core: 0}\n  gateway: {core: 0}\n"
		"instruments:\n  - {symbol: ALC, px_scale: 2, qty_scale: 0}\n"
		"feed: {type: itch, source: file, path: %s}\n"
		"strategy: {type: ma_cross, fast: 5, slow: 20, qty: \"1\", order_type: limit}\n"
		"risk: {max_order_qty: \"1000\", max_notional: \"1000000\", max_position: \"10000\", stale_data_ms: 1000}\n"
		"venue: {type: sim, fill: touch, latency_us: 0}\n"
		"journal: {path: /tmp/fks-tfd-s-j, sync: async, batch_events: 64, batch_us: 1000}\n"
		"supervisor: {heartbeat_timeout_ms: 2000, stats: fks}\n",
		path);
	fclose(f);
	char prefix[48], journal[64];
	snprintf(prefix, sizeof prefix, "fkstfs%d", (int)getpid() % 100000);
	snprintf(journal, sizeof journal, "/tmp/fks-tfd-sj-%d", (int)getpid());
	const char *args[] = { "run", "-c", cfg, "--journal", journal, "--prefix", prefix, NULL };
	int rc = run_fks(args);
	unlink(cfg);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'*", journal);
	cr_expect_eq(system(cmd), 0);
	cr_expect_neq(rc, 0, "a feed that cannot start fails the run");
	cr_expect(strstr(err_buf, "px_scale 4") != NULL, "the reason is given: %s", err_buf);
}

/* ---- Bybit: a naive L2 replay of the ob500 recording ------------------- */

/* "1.9531" -> 195310000 (8 decimals); digits and one dot only. */
static int64_t dec8(const char *s, size_t n)
{
	int64_t v = 0;
	int frac = -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			frac = 0;
			continue;
		}
		v = v * 10 + (s[i] - '0');
		if (frac >= 0)
			frac++;
	}
	for (int f = frac < 0 ? 0 : frac; f < 8; f++)
		v *= 10;
	return v;
}

struct lvl { int64_t px, qty; };
static struct lvl nb_bid[4096], nb_ask[4096];
static size_t nb_nbid, nb_nask;

static void nb_set(struct lvl *side, size_t *n, int64_t px, int64_t qty)
{
	for (size_t i = 0; i < *n; i++)
		if (side[i].px == px) {
			if (qty)
				side[i].qty = qty;
			else
				side[i] = side[--*n];
			return;
		}
	if (qty) {
		cr_assert_lt(*n, 4096);
		side[(*n)++] = (struct lvl){ px, qty };
	}
}

/* Apply the ["px","qty"] pairs of the array after key in line. */
static void nb_apply(const char *line, const char *key, struct lvl *side, size_t *n)
{
	const char *p = strstr(line, key);
	cr_assert_not_null(p, "%s", key);
	p += strlen(key);
	while (*p == '[' && p[1] == '"') {
		const char *a = p + 2, *ae = strchr(a, '"');
		const char *b = ae + 3, *be_ = strchr(b, '"');
		nb_set(side, n, dec8(a, (size_t)(ae - a)), dec8(b, (size_t)(be_ - b)));
		p = be_ + 2; /* past "] */
		if (*p == ',')
			p++;
	}
}

Test(feed_decode, bybit_ob500_final_book_matches_a_naive_replay)
{
	const char *sh = getenv("FKS_SHARED");
	cr_assert_not_null(sh);
	char path[512];
	snprintf(path, sizeof path, "%s/data/bybit/2024-12-01_XRPUSDT_ob500.data", sh);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	static char line[1 << 20];
	int lines = 0;
	while (fgets(line, sizeof line, f)) {
		lines++;
		if (strstr(line, "\"type\":\"snapshot\""))
			nb_nbid = nb_nask = 0;
		nb_apply(line, "\"b\":[", nb_bid, &nb_nbid);
		nb_apply(line, "\"a\":[", nb_ask, &nb_nask);
	}
	fclose(f);
	cr_assert_eq(lines, 50, "README: a snapshot and 49 deltas");
	struct lvl bb = { 0, 0 }, ba = { INT64_MAX, 0 };
	for (size_t i = 0; i < nb_nbid; i++)
		if (nb_bid[i].px > bb.px)
			bb = nb_bid[i];
	for (size_t i = 0; i < nb_nask; i++)
		if (nb_ask[i].px < ba.px)
			ba = nb_ask[i];

	const char *args[] = { "feed", "decode", "--venue", "bybit", path, "--json", NULL };
	cr_assert_eq(run_fks(args), 0, "stderr: %s", err_buf);
	cr_assert_eq(fks_test_json_num(out_buf, NULL, "messages"), 50);
	cr_assert_eq(fks_test_json_num(out_buf, "\"counts\"", "snapshot"), 1);
	cr_assert_eq(fks_test_json_num(out_buf, "\"counts\"", "delta"), 49);
	char got[32];
	json_text(out_buf, "\"XRPUSDT\": {", "bid_px", got, sizeof got);
	cr_expect_eq(dec8(got, strlen(got)), bb.px, "bid_px %s", got);
	json_text(out_buf, "\"XRPUSDT\": {", "bid_qty", got, sizeof got);
	cr_expect_eq(dec8(got, strlen(got)), bb.qty, "bid_qty %s", got);
	json_text(out_buf, "\"XRPUSDT\": {", "ask_px", got, sizeof got);
	cr_expect_eq(dec8(got, strlen(got)), ba.px, "ask_px %s", got);
	json_text(out_buf, "\"XRPUSDT\": {", "ask_qty", got, sizeof got);
	cr_expect_eq(dec8(got, strlen(got)), ba.qty, "ask_qty %s", got);
	cr_expect_eq(fks_test_json_num(out_buf, "\"XRPUSDT\": {", "bid_levels"), (long long)nb_nbid);
	cr_expect_eq(fks_test_json_num(out_buf, "\"XRPUSDT\": {", "ask_levels"), (long long)nb_nask);
}
