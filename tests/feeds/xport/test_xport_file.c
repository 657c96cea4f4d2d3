/*
 * File replay: raw length-prefixed ITCH and JSON lines, bad inputs, pacing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds/xport/xport_file.h"
#include "shm/clock.h"

/* ITCH 5.0 message sizes, from the Nasdaq TotalView-ITCH 5.0 specification
 * (length of each message type including its type byte). */
static size_t itch_size(uint8_t t)
{
	switch (t) {
	case 'S': return 12;
	case 'R': return 39;
	case 'H': return 25;
	case 'Y': return 20;
	case 'L': return 26;
	case 'V': return 35;
	case 'W': return 12;
	case 'K': return 28;
	case 'J': return 35;
	case 'h': return 21;
	case 'A': return 36;
	case 'F': return 40;
	case 'E': return 31;
	case 'C': return 36;
	case 'X': return 23;
	case 'D': return 19;
	case 'U': return 35;
	case 'P': return 44;
	case 'Q': return 40;
	case 'B': return 19;
	case 'I': return 50;
	case 'N': return 20;
	case 'O': return 48;
	default: return 0;
	}
}

#define MAX_MSGS 64

struct sink {
	uint64_t n, bytes;
	uint64_t by_type[256];
	int64_t last_recv, first_recv;
	bool recv_monotonic;
	size_t stop_after;              /* 0: never stop */
	size_t kept;
	char msg[MAX_MSGS][128];
	size_t len[MAX_MSGS];
	int64_t rec[MAX_MSGS];
	uint8_t last[MAX_MSGS];
	struct xport_file *x;
};

static int sink_fn(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct sink *s = ctx;
	if (s->n == 0) {
		s->first_recv = recv_ns;
		s->recv_monotonic = true;
	} else if (recv_ns < s->last_recv) {
		s->recv_monotonic = false;
	}
	s->last_recv = recv_ns;
	if (len > 0)
		s->by_type[msg[0]]++;
	if (s->kept < MAX_MSGS) {
		size_t k = len < 127 ? len : 127;
		memcpy(s->msg[s->kept], msg, k);
		s->msg[s->kept][k] = '\0';
		s->len[s->kept] = len;
		s->last[s->kept] = len ? msg[len - 1] : 0;
		s->rec[s->kept] = s->x ? xport_file_record_ns(s->x) : 0;
		s->kept++;
	}
	s->n++;
	s->bytes += len;
	return s->stop_after && s->n % s->stop_after == 0;
}

static uint64_t err_of(const struct xport_file *x, const char *name)
{
	const struct named_counter *c;
	size_t n = xport_file_errors(x, &c);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].n;
	cr_assert_fail("no counter %s", name);
	return 0;
}

static const char *shared(const char *rel, char *buf, size_t n)
{
	const char *root = getenv("FKS_SHARED");
	cr_assert(root, "FKS_SHARED not set");
	snprintf(buf, n, "%s/data/%s", root, rel);
	return buf;
}

Test(xport_file, itch_sample_zero_prefixes)
{
	char path[512];
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_RAW, .size_of_type = itch_size };
	cr_assert_eq(xport_file_open(&x, shared("itch/ex20101224.TEST_ITCH_50", path, sizeof path), &o), 0);
	struct sink s = { 0 };
	int64_t t0 = clock_mono_ns();
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	int64_t t1 = clock_mono_ns();
	/* data/README.md: 12,012 messages, 465,048 bytes, and these per type */
	cr_assert_eq(s.n, 12012);
	cr_assert_eq(s.by_type['S'], 6);
	cr_assert_eq(s.by_type['R'], 3);
	cr_assert_eq(s.by_type['H'], 3);
	cr_assert_eq(s.by_type['A'], 4997);
	cr_assert_eq(s.by_type['F'], 3);
	cr_assert_eq(s.by_type['E'], 198);
	cr_assert_eq(s.by_type['X'], 45);
	cr_assert_eq(s.by_type['D'], 1745);
	cr_assert_eq(s.by_type['U'], 12);
	cr_assert_eq(s.by_type['P'], 5000);
	cr_assert_eq(s.bytes, 465048 - 2 * 12012); /* everything but the prefixes */
	cr_assert_eq(x.stats.input_bytes, 465048);
	cr_assert_eq(x.stats.messages, 12012);
	cr_assert_eq(x.stats.errors, 0);
	/* the first message, from the file's hexdump: 00 00 | 'S' 00 00 ... */
	cr_assert_eq(s.len[0], 12);
	cr_assert_eq(s.msg[0][0], 'S');
	cr_assert(s.recv_monotonic);
	cr_assert(s.first_recv >= t0 && s.last_recv <= t1);
	cr_assert_eq(xport_file_record_ns(&x), XPORT_NO_TIME);
	xport_file_close(&x);
}

Test(xport_file, raw_real_prefixes_stop_and_resume)
{
	/* three messages with real lengths: "ab", "", then "xyz" is type x...
	 * lengths are trusted as given, size_of_type is not consulted */
	static const uint8_t buf[] = { 0, 2, 'S', '1', 0, 3, 'A', 'b', 'c', 0, 1, 'Z' };
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_RAW };
	cr_assert_eq(xport_file_open_mem(&x, buf, sizeof buf, &o), 0);
	struct sink s = { .stop_after = 1 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 1);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.msg[0], "S1");
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 1);
	cr_assert_str_eq(s.msg[1], "Abc");
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 1);
	cr_assert_str_eq(s.msg[2], "Z");
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(x.stats.errors, 0);
	cr_assert_eq(x.stats.input_bytes, sizeof buf);
	xport_file_close(&x);
}

/* The ITCH sample cut short: every whole message before the cut arrives,
 * the cut one is counted. */
static void itch_cut(size_t cut, uint64_t want_msgs, const char *want_err)
{
	char path[512];
	FILE *f = fopen(shared("itch/ex20101224.TEST_ITCH_50", path, sizeof path), "rb");
	cr_assert(f);
	static uint8_t data[465048];
	cr_assert_eq(fread(data, 1, sizeof data, f), sizeof data);
	fclose(f);
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_RAW, .size_of_type = itch_size };
	cr_assert_eq(xport_file_open_mem(&x, data, cut, &o), 0);
	struct sink s = { 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, want_msgs, "cut %zu: %lu messages", cut, (unsigned long)s.n);
	cr_assert_eq(err_of(&x, want_err), 1);
	cr_assert_eq(x.stats.errors, 1);
	/* done: another run delivers nothing and counts nothing more */
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(x.stats.errors, 1);
	xport_file_close(&x);
}

Test(xport_file, raw_truncated_tail)
{
	/* From the hexdump: S (2+12 bytes) at 0, R (2+39) at 14, R at 55. */
	itch_cut(14 + 41 + 1, 2, "truncated");      /* one byte of the 3rd prefix */
	itch_cut(14 + 41 + 2, 2, "truncated");      /* whole zero prefix, no type byte */
	itch_cut(14 + 41 + 2 + 38, 2, "truncated"); /* body one byte short */
}

Test(xport_file, raw_unknown_type_stops_framing)
{
	static const uint8_t buf[] = { 0, 0, 'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				       0, 0, '?', 1, 2, 3 };
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_RAW, .size_of_type = itch_size };
	cr_assert_eq(xport_file_open_mem(&x, buf, sizeof buf, &o), 0);
	struct sink s = { 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(err_of(&x, "unknown_type"), 1);
	/* and without a size_of_type a zero prefix is unknown too */
	o.size_of_type = NULL;
	cr_assert_eq(xport_file_open_mem(&x, buf, sizeof buf, &o), 0);
	s = (struct sink){ 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(err_of(&x, "unknown_type"), 1);
}

Test(xport_file, jsonl_timestamps_crlf_blank)
{
	static const char text[] =
		"100\t{\"a\":1}\n"
		"{\"b\":2}\r\n"
		"\n"
		"\r\n"
		"300\t{\"c\":3}\n"
		"200\t{\"d\":4}\n"                      /* backwards: delivered, counted */
		"99999999999999999999\t{\"e\":5}\n"     /* 20 digits: bad_timestamp */
		"9223372036854775808\t{\"f\":6}\n"      /* INT64_MAX + 1 */
		"12345 {\"g\":7}\n"                     /* digits, no TAB: no timestamp */
		"400\t\n"                               /* timestamp, empty message */
		"42\n";                                 /* a bare number line */
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL };
	cr_assert_eq(xport_file_open_mem(&x, text, strlen(text), &o), 0);
	struct sink s = { .x = &x };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 8);
	cr_assert_str_eq(s.msg[0], "{\"a\":1}");
	cr_assert_eq(s.rec[0], 100);
	cr_assert_str_eq(s.msg[1], "{\"b\":2}");
	cr_assert_eq(s.rec[1], XPORT_NO_TIME);
	cr_assert_str_eq(s.msg[2], "{\"c\":3}");
	cr_assert_eq(s.rec[2], 300);
	cr_assert_str_eq(s.msg[3], "{\"d\":4}");
	cr_assert_eq(s.rec[3], 200);
	cr_assert_str_eq(s.msg[4], "{\"e\":5}");
	cr_assert_eq(s.rec[4], XPORT_NO_TIME);
	cr_assert_str_eq(s.msg[5], "{\"f\":6}");
	cr_assert_eq(s.rec[5], XPORT_NO_TIME);
	cr_assert_str_eq(s.msg[6], "12345 {\"g\":7}");
	cr_assert_str_eq(s.msg[7], "42");
	cr_assert_eq(err_of(&x, "backwards"), 1);
	cr_assert_eq(err_of(&x, "bad_timestamp"), 2);
	cr_assert_eq(err_of(&x, "truncated"), 0);
	cr_assert_eq(x.stats.errors, 3);
	cr_assert_eq(x.stats.skipped, 3); /* two blank lines, one empty message */
	cr_assert_eq(x.stats.input_bytes, strlen(text));
}

Test(xport_file, jsonl_truncated_last_line)
{
	static const char text[] = "{\"a\":1}\n{\"b\":2}\n{\"c\":";
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL };
	cr_assert_eq(xport_file_open_mem(&x, text, strlen(text), &o), 0);
	struct sink s = { 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.msg[1], "{\"b\":2}");
	cr_assert_eq(err_of(&x, "truncated"), 1);
	cr_assert_eq(x.stats.errors, 1);
}

Test(xport_file, jsonl_bybit_recording)
{
	char path[512];
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL };
	cr_assert_eq(xport_file_open(&x, shared("bybit/2024-12-01_XRPUSDT_ob500.data", path, sizeof path), &o), 0);
	struct sink s = { 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	/* data/README.md: a snapshot and 49 deltas, one per CRLF line */
	cr_assert_eq(s.n, 50);
	cr_assert_eq(x.stats.errors, 0);
	cr_assert(strncmp(s.msg[0], "{\"topic\":\"orderbook.500.XRPUSDT\",\"type\":\"snapshot\"", 49) == 0);
	for (size_t i = 0; i < s.kept; i++)
		cr_assert_eq(s.last[i], '}', "line %zu ends in %#x, not '}'", i + 1, s.last[i]);
	xport_file_close(&x);
}

Test(xport_file, open_errors_and_empty_file)
{
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL };
	cr_assert_eq(xport_file_open(&x, "/nonexistent/fks/file", &o), -ENOENT);
	cr_assert_eq(xport_file_open(&x, "/tmp", &o), -EINVAL);
	struct xport_file_opts bad = { .format = XPORT_FILE_JSONL, .speed = -1 };
	cr_assert_eq(xport_file_open_mem(&x, "", 0, &bad), -EINVAL);

	char tmp[] = "/tmp/fks_xport_empty_XXXXXX";
	int fd = mkstemp(tmp);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(xport_file_open(&x, tmp, &o), 0);
	struct sink s = { 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(x.stats.errors, 0);
	xport_file_close(&x);
	unlink(tmp);
}

/* Timestamps 0, 40 ms, 80 ms: paced at x1 the last is handed over >= 80 ms
 * after the first; at x10, >= 8 ms and well under 80; unpaced, at once. */
static int64_t paced_span(double speed)
{
	static const char text[] = "0\ta\n40000000\tb\n80000000\tc\n";
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL, .speed = speed };
	cr_assert_eq(xport_file_open_mem(&x, text, strlen(text), &o), 0);
	struct sink s = { 0 };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert(s.recv_monotonic);
	return s.last_recv - s.first_recv;
}

Test(xport_file, pacing_speed_factor)
{
	int64_t x1 = paced_span(1.0);
	cr_assert(x1 >= 80000000, "x1 span %ld", (long)x1);
	cr_assert(x1 < 1000000000, "x1 span %ld", (long)x1);
	int64_t x10 = paced_span(10.0);
	cr_assert(x10 >= 8000000, "x10 span %ld", (long)x10);
	cr_assert(x10 < 60000000, "x10 span %ld", (long)x10);
	int64_t half = paced_span(0.5);
	cr_assert(half >= 160000000, "x0.5 span %ld", (long)half);
	int64_t fast = paced_span(0);
	cr_assert(fast < 8000000, "unpaced span %ld", (long)fast);
}

/* Raw files pace through the caller's record_ns: here the first byte * 10 ms. */
static int64_t byte_time(void *ctx, const uint8_t *msg, size_t len)
{
	(void)ctx;
	return len ? (int64_t)msg[0] * 10000000 : XPORT_NO_TIME;
}

Test(xport_file, raw_paced_by_record_ns)
{
	static const uint8_t buf[] = { 0, 1, 0, 0, 1, 3, 0, 1, 1 };
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_RAW, .record_ns = byte_time, .speed = 1.0 };
	cr_assert_eq(xport_file_open_mem(&x, buf, sizeof buf, &o), 0);
	struct sink s = { .x = &x };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.rec[1], 30000000);
	cr_assert_eq(err_of(&x, "backwards"), 1); /* 30 ms then 10 ms */
	cr_assert(s.last_recv - s.first_recv >= 30000000);
}

/* A corrupt timestamp far ahead must not stall a paced replay: the jump is
 * counted and pacing restarts there.  Times: 0, 10 ms, then a jump of 10^18
 * ns, then 20 ms after it: paced spans 10 + 20 ms, not decades. */
Test(xport_file, time_jump_does_not_stall)
{
	static const char text[] = "0\ta\n10000000\tb\n1000000000000000000\tc\n1000000000020000000\td\n";
	struct xport_file x;
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL, .speed = 1.0, .max_gap_ns = 100000000 };
	cr_assert_eq(xport_file_open_mem(&x, text, strlen(text), &o), 0);
	struct sink s = { .x = &x };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(err_of(&x, "time_jump"), 1);
	cr_assert_eq(err_of(&x, "backwards"), 0);
	int64_t span = s.last_recv - s.first_recv;
	cr_assert(span >= 30000000 && span < 500000000, "span %ld", (long)span);
	/* the default limit (one minute) applies when max_gap_ns is 0 */
	o.max_gap_ns = 0;
	cr_assert_eq(xport_file_open_mem(&x, text, strlen(text), &o), 0);
	s = (struct sink){ .x = &x };
	cr_assert_eq(xport_file_run(&x, sink_fn, &s), 0);
	cr_assert_eq(err_of(&x, "time_jump"), 1);
}
