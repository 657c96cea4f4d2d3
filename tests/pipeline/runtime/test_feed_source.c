/* feed_source: the ITCH file source with a fixed symbol table, session
 * midnights, and refusals, without the pipeline around it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/runtime/feed_source.h"

static void itch_path(char *buf, size_t cap)
{
	const char *sh = getenv("FKS_SHARED");
	cr_assert_not_null(sh, "FKS_SHARED must name the shared directory");
	snprintf(buf, cap, "%s/data/itch/ex20101224.TEST_ITCH_50", sh);
}

Test(feed_source, session_midnight_is_local_midnight_in_epoch_ns)
{
	/* 2010-12-24 00:00 EST = 05:00 UTC = 1293166800 (date -d) */
	cr_assert_eq(feed_source_session_midnight("2010-12-24", -300), 1293166800LL * 1000000000);
	cr_assert_eq(feed_source_session_midnight("1970-01-01", 0), 0);
	/* 2024-02-29 00:00 UTC+01:00 = 2024-02-28 23:00 UTC = 1709161200 */
	cr_assert_eq(feed_source_session_midnight("2024-02-29", 60), 1709161200LL * 1000000000);
	cr_assert_eq(feed_source_session_midnight("2023-02-29", 0), -1);
	cr_assert_eq(feed_source_session_midnight("2010-13-01", 0), -1);
	cr_assert_eq(feed_source_session_midnight("2010-12-24x", 0), -1);
	cr_assert_eq(feed_source_session_midnight("10-12-24", 0), -1);
	cr_assert_eq(feed_source_session_midnight("", 0), -1);
}

struct seen {
	uint64_t events, quotes, trades, deltas, other_ids, bad_hdr;
	int64_t first_time, last_time;
};

static void on_event(void *ctx, const union fks_event *ev)
{
	struct seen *s = ctx;
	s->events++;
	s->quotes += ev->h.type == FKS_EV_QUOTE;
	s->trades += ev->h.type == FKS_EV_TRADE;
	s->deltas += ev->h.type == FKS_EV_BOOK_DELTA;
	if (ev->h.instrument != 1)
		s->other_ids++;
	if (ev->h.source != FKS_STAGE_FEED || ev->h.seq != 0 || ev->h.recv_time_ns <= 0)
		s->bad_hdr++;
	if (!s->first_time)
		s->first_time = ev->h.event_time_ns;
	s->last_time = ev->h.event_time_ns;
}

static struct feed_symtab symbols;

static struct fks_feed_cfg itch_cfg(void)
{
	struct fks_feed_cfg c;
	memset(&c, 0, sizeof c);
	c.type = FKS_FEED_ITCH;
	c.source = FKS_SOURCE_FILE;
	itch_path(c.path, sizeof c.path);
	strcpy(c.speed, "asap");
	strcpy(c.session_date, "2010-12-24");
	c.utc_offset_min = -300;
	return c;
}

Test(feed_source, itch_file_with_a_fixed_table_emits_only_its_instruments)
{
	struct fks_feed_cfg c = itch_cfg();
	feed_symtab_init(&symbols, false, 0, 0);
	cr_assert_eq(feed_symtab_add(&symbols, "BOB", 3, 4, 0), 1u);
	char err[256];
	struct feed_source *s = feed_source_open(&c, &symbols, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	cr_assert(feed_source_is_recording(s));
	struct seen seen = { 0 };
	int n, polls = 0;
	uint64_t msgs = 0;
	while ((n = feed_source_poll(s, on_event, &seen, 100, 0)) != FEED_SOURCE_END) {
		cr_assert_geq(n, 0);
		cr_assert_leq(n, 100, "the budget holds");
		msgs += (uint64_t)n;
		polls++;
	}
	cr_assert_eq(feed_source_poll(s, on_event, &seen, 100, 0), FEED_SOURCE_END, "END stays END");
	/* every message is a message, BOB's or not (README: 12012) */
	cr_assert_eq(msgs, 12012);
	cr_assert_eq(feed_source_messages(s), 12012);
	cr_assert_gt(polls, 100);
	cr_assert_gt(seen.quotes, 0);
	cr_assert_gt(seen.deltas, 0);
	cr_assert_eq(seen.other_ids, 0, "only BOB, as id 1");
	cr_assert_eq(seen.bad_hdr, 0);
	/* event times are on 2010-12-24 (New York): after its midnight, within the day */
	int64_t mid = 1293166800LL * 1000000000;
	cr_assert(seen.first_time > mid && seen.last_time < mid + 86400LL * 1000000000);
	struct feed_book_info bi;
	cr_assert(feed_source_book(s, 1, &bi));
	cr_assert(bi.has_unknown_refs);
	cr_assert_gt(bi.bid_levels, 0);
	cr_assert(!feed_source_book(s, 2, &bi));
	struct book_level lv[3];
	cr_assert_eq(feed_source_book_top(s, 1, FKS_SIDE_BUY, lv, 3), 3);
	cr_assert_gt(lv[0].px, lv[1].px, "best first");
	const struct named_counter *c1;
	size_t k = feed_source_counts(s, &c1);
	uint64_t sum = 0;
	for (size_t i = 0; i < k; i++)
		sum += c1[i].n;
	cr_assert_eq(sum, 12012);
	struct named_counter x[FEED_SOURCE_MAX_XPORT_COUNTERS];
	size_t nx = feed_source_xport_counters(s, x, FEED_SOURCE_MAX_XPORT_COUNTERS);
	cr_assert_gt(nx, 0);
	cr_assert_leq(nx, FEED_SOURCE_MAX_XPORT_COUNTERS);
	feed_source_close(s);
}

Test(feed_source, refusals_name_the_reason)
{
	char err[256];
	struct fks_feed_cfg c = itch_cfg();
	feed_symtab_init(&symbols, false, 0, 0);
	feed_symtab_add(&symbols, "ALC", 3, 2, 0);
	cr_assert_null(feed_source_open(&c, &symbols, err, sizeof err));
	cr_assert(strstr(err, "px_scale 4"), "%s", err);

	feed_symtab_init(&symbols, false, 0, 0);
	feed_symtab_add(&symbols, "ALC", 3, 4, 0);
	strcpy(c.path, "/nonexistent/file");
	cr_assert_null(feed_source_open(&c, &symbols, err, sizeof err));
	cr_assert(strstr(err, "No such file"), "%s", err);

	c = itch_cfg();
	c.source = FKS_SOURCE_UDP;
	strcpy(c.address, "not-an-address");
	cr_assert_null(feed_source_open(&c, &symbols, err, sizeof err));
	cr_assert(strstr(err, "feed.address"), "%s", err);

	c = itch_cfg();
	strcpy(c.session_date, "2010-02-30");
	cr_assert_null(feed_source_open(&c, &symbols, err, sizeof err));
	cr_assert(strstr(err, "session_date"), "%s", err);
}

Test(feed_source, paced_replay_waits_and_calls_the_hook)
{
	/* Speed 1e6: the sample spans hours of ITCH time, so a paced replay
	 * takes measurable but short wall time, and still delivers everything. */
	struct fks_feed_cfg c = itch_cfg();
	strcpy(c.speed, "1000000");
	feed_symtab_init(&symbols, false, 0, 0);
	feed_symtab_add(&symbols, "ALC", 3, 4, 0);
	char err[256];
	struct feed_source *s = feed_source_open(&c, &symbols, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	struct seen seen = { 0 };
	while (feed_source_poll(s, on_event, &seen, 1000, 0) != FEED_SOURCE_END)
		;
	cr_assert_eq(feed_source_messages(s), 12012);
	feed_source_close(s);
}
