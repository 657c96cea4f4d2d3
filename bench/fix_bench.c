/*
 * `fks bench fix [--json] [--messages N] [--dict PATH]`: ns per message of
 * the fix44 codec encoding a NewOrderSingle and decoding an
 * ExecutionReport (with a Parties group), beside QuickFIX doing the same
 * to the same messages in the same run (fix_bench_qf.cpp).  The target is
 * 10x QuickFIX; a miss is reported, not an error.  Both sides' output is
 * cross-checked first: QuickFIX must parse what FKS encodes and FKS must
 * decode what QuickFIX encodes, or the run fails (exit 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "bench/bench_util.h"
#include "bench/fix_bench.h"
#include "gateway/venues/fix44/fix_codec.h"

#define TARGET_X 10.0

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The NewOrderSingle an order becomes (fix_venue.c's fields), numbered i. */
static size_t encode_nos(char *buf, size_t cap, uint64_t i, int64_t t, const char **msg)
{
	struct fix_writer w;
	fix_w_begin(&w, buf, cap, "D");
	fix_w_str(&w, 49, "FKS");
	fix_w_str(&w, 56, "VENUE");
	fix_w_u64(&w, 34, i + 1);
	fix_w_time(&w, 52, t);
	fix_w_u64(&w, 11, 1000000 + i);
	fix_w_str(&w, 1, "ACC1");
	fix_w_str(&w, 55, "BTC/USD");
	fix_w_char(&w, 54, '1');
	fix_w_time(&w, 60, t);
	fix_w_dec(&w, 38, 3, 0);
	fix_w_char(&w, 40, '2');
	fix_w_dec(&w, 44, 10150, 2);
	fix_w_char(&w, 59, '1');
	return fix_w_end(&w, msg);
}

/* A fill report, as a venue sends it. */
static size_t build_er(char *buf, size_t cap, const char **msg)
{
	struct fix_writer w;
	fix_w_begin(&w, buf, cap, "8");
	fix_w_str(&w, 49, "VENUE");
	fix_w_str(&w, 56, "FKS");
	fix_w_u64(&w, 34, 77);
	fix_w_time(&w, 52, 1767323045678000000LL);
	fix_w_str(&w, 37, "V123456");
	fix_w_u64(&w, 11, 1000042);
	fix_w_str(&w, 17, "X987654");
	fix_w_char(&w, 150, 'F');
	fix_w_char(&w, 39, '1');
	fix_w_str(&w, 1, "ACC1");
	fix_w_str(&w, 55, "BTC/USD");
	fix_w_char(&w, 54, '1');
	fix_w_dec(&w, 38, 3, 0);
	fix_w_dec(&w, 44, 10150, 2);
	fix_w_dec(&w, 32, 1, 0);
	fix_w_dec(&w, 31, 10150, 2);
	fix_w_dec(&w, 151, 2, 0);
	fix_w_dec(&w, 14, 1, 0);
	fix_w_dec(&w, 6, 10150, 2);
	fix_w_time(&w, 60, 1767323045678000000LL);
	fix_w_u64(&w, 453, 1);
	fix_w_str(&w, 448, "BROKER1");
	fix_w_char(&w, 447, 'D');
	fix_w_u64(&w, 452, 1);
	return fix_w_end(&w, msg);
}

static double fks_encode(uint64_t n)
{
	static char buf[FIX_MAX_MSG];
	const char *msg;
	size_t total = 0;
	int64_t t = 1767323045678000000LL;
	double start = now_ns();
	for (uint64_t i = 0; i < n; i++)
		total += encode_nos(buf, sizeof buf, i, t + (int64_t)i * 1000, &msg);
	double ns = (now_ns() - start) / (double)n;
	return total ? ns : -1;
}

/* Decode and read what the venue reads of a fill. */
static double fks_decode(uint64_t n, const char *er, size_t len)
{
	static struct fix_msg m;
	struct fix_decode_counters c = { 0 };
	int64_t sink = 0;
	double start = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		size_t used;
		int64_t px = 0, qty = 0, leaves = 0;
		if (fix_decode(er, len, &m, &used, &c) != FIX_OK)
			return -1;
		const struct fix_field *id = fix_get(&m, 11);
		fix_get_dec(&m, 31, 2, &px);
		fix_get_dec(&m, 32, 0, &qty);
		fix_get_dec(&m, 151, 0, &leaves);
		sink += (int64_t)id->len + fix_get_char(&m, 150) + px + qty + leaves;
	}
	double ns = (now_ns() - start) / (double)n;
	return sink > 0 ? ns : -1;
}

static int parse_args(int argc, char **argv, bool *json, uint64_t *n, const char **dict)
{
	const struct opt options[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = json },
		{ .name = "messages", .kind = OPT_COUNT, .dest = n, .arg = "N", .expect = "1..10^9", .umin = 1,
		  .umax = 1000000000 },
		{ .name = "dict", .kind = OPT_STRING, .dest = dict, .arg = "PATH" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks bench fix", .opts = options };
	int k = opts_parse(&table, argc, argv);
	if (k == OPTS_HELP) {
		printf("usage: fks bench fix [--json] [--messages N] [--dict PATH]\n"
		       "  NewOrderSingle encode and ExecutionReport decode, ns per message, FKS beside\n"
		       "  QuickFIX (default 1000000 messages; --dict: FIX44.xml, default\n"
		       "  $FKS_SHARED/data/fix/FIX44.xml)\n");
		return 0;
	}
	if (k > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	return k == 0 ? -1 : 2; /* a usage error is reported, with the hint */
}

static void row(bool json, const char *what, double fks, double qf)
{
	double x = fks > 0 && qf > 0 ? qf / fks : 0;
	if (json) {
		printf("{\"bench\":\"fix\",\"case\":\"%s\",\"fks_ns\":%.1f,\"quickfix_ns\":%.1f,\"speedup\":%.1f,"
		       "\"target\":%.0f,\"met\":%s}\n",
		       what, fks, qf, x, TARGET_X, x >= TARGET_X ? "true" : "false");
		return;
	}
	if (qf > 0)
		printf("%-22s %10.1f %12.1f %9.1fx  %s\n", what, fks, qf, x, x >= TARGET_X ? "met" : "MISSED");
	else
		printf("%-22s %10.1f %12s %10s  %s\n", what, fks, "skipped", "-", "-");
}

/* QuickFIX must read FKS's message and FKS QuickFIX's: the two sides
 * measure the same protocol, or the comparison means nothing. */
static int cross_check(const char *er, size_t er_len)
{
	static char buf[FIX_MAX_MSG], qf[FIX_MAX_MSG];
	static struct fix_msg m;
	const char *msg;
	size_t n = encode_nos(buf, sizeof buf, 0, 1767323045678000000LL, &msg), used;
	fix_bench_qf_encode(1, qf, sizeof qf);
	if (fix_decode(qf, strlen(qf), &m, &used, NULL) != FIX_OK || strcmp(m.type, "D") != 0) {
		fprintf(stderr, "bench fix: FKS cannot decode QuickFIX's NewOrderSingle\n");
		return 1;
	}
	if (fix_bench_qf_parse(1, er, er_len) < 0 || n == 0) {
		fprintf(stderr, "bench fix: QuickFIX refuses FKS's ExecutionReport\n");
		return 1;
	}
	return 0;
}

int bench_fix_main(int argc, char **argv)
{
	bool json = false;
	uint64_t n = 1000000;
	const char *dict = NULL;
	int rc = parse_args(argc, argv, &json, &n, &dict);
	if (rc >= 0)
		return rc;
	char path[1024], err[256];
	const char *shared = getenv("FKS_SHARED");
	snprintf(path, sizeof path, "%s", dict ? dict : "");
	if (!dict)
		snprintf(path, sizeof path, "%s/data/fix/FIX44.xml", shared ? shared : "../shared");
	static char erbuf[FIX_MAX_MSG];
	const char *er;
	size_t er_len = build_er(erbuf, sizeof erbuf, &er);
	bool qf = fix_bench_qf_load(path, err, sizeof err) == 0;
	if (!qf)
		fprintf(stderr, "bench fix: %s: QuickFIX columns skipped\n", err);
	if (qf && cross_check(er, er_len) != 0)
		return 1;

	double enc = fks_encode(n), dec = fks_decode(n, er, er_len);
	static char last[FIX_MAX_MSG];
	double qenc = qf ? fix_bench_qf_encode(n, last, sizeof last) : -1;
	double qdec = qf ? fix_bench_qf_parse(n, er, er_len) : -1;
	if (enc < 0 || dec < 0) {
		fprintf(stderr, "bench fix: the FKS codec failed on its own messages\n");
		return 1;
	}
	if (!json)
		printf("fks bench fix: %" PRIu64 " messages each, ns per message\n%-22s %10s %12s %10s  %s\n", n,
		       "case", "fks", "quickfix", "speedup", "10x target");
	row(json, "new_order_encode", enc, qenc);
	row(json, "exec_report_decode", dec, qdec);
	return 0;
}
