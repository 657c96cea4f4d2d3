/*
 * The notifier's pure parts: the rate limit under a clock the test drives
 * (30 in any minute, exactly), the JSON of each webhook kind, the
 * messages of the hooks, and which URLs a target may post to.  The
 * sender threads, retries and the summary are tested against a real
 * listener in tests/e2e/test_notify.py.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/notify/notify.h"
#include "pipeline/notify/notify_format.h"
#include "pipeline/notify/notify_url.h"
#include "pipeline/notify/ratelimit.h"

#define S 1000000000ull
#define MINUTE (60 * S)

Test(ratelimit, thirty_then_none_until_a_minute_after_the_first)
{
	struct rate_limit rl;
	rate_limit_init(&rl, NOTIFY_RATE_LIMIT, MINUTE);
	uint64_t t0 = 1000 * S;
	for (int i = 0; i < 30; i++)
		cr_assert(rate_limit_take(&rl, t0 + (uint64_t)i * S), "token %d", i);
	/* A bucket refilled at 30/min would have given one back by now. */
	cr_assert_not(rate_limit_take(&rl, t0 + 30 * S));
	cr_assert_not(rate_limit_take(&rl, t0 + MINUTE - 1));
	cr_assert_eq(rate_limit_next_ns(&rl, t0 + 30 * S), t0 + MINUTE);
	cr_assert(rate_limit_take(&rl, t0 + MINUTE), "the first token is back a window after it was spent");
	cr_assert_not(rate_limit_take(&rl, t0 + MINUTE), "only that one");
	cr_assert(rate_limit_take(&rl, t0 + MINUTE + S), "the second a second later");
}

Test(ratelimit, a_burst_of_100_gets_30)
{
	struct rate_limit rl;
	rate_limit_init(&rl, NOTIFY_RATE_LIMIT, MINUTE);
	int ok = 0;
	for (int i = 0; i < 100; i++)
		ok += rate_limit_take(&rl, 5 * S);
	cr_assert_eq(ok, 30);
	cr_assert_eq(rate_limit_next_ns(&rl, 6 * S), 5 * S + MINUTE);
}

/* Over hours of irregular arrivals, no 60 s window ever holds more than 30
 * sends, and a send is refused only when the window before it is full. */
Test(ratelimit, never_more_than_30_in_any_minute)
{
	struct rate_limit rl;
	rate_limit_init(&rl, NOTIFY_RATE_LIMIT, MINUTE);
	enum { N = 20000 };
	static uint64_t sent[N];
	int n = 0;
	uint64_t now = 0;
	srand(7);
	for (int i = 0; i < N; i++) {
		now += (uint64_t)(rand() % 4000) * 1000000ull; /* 0..4 s apart */
		int in_window = 0;
		for (int j = n - 1; j >= 0 && now - sent[j] < MINUTE; j--)
			in_window++;
		bool took = rate_limit_take(&rl, now);
		cr_assert_eq(took, in_window < 30, "at %llu ns: took %d with %d in the window", (unsigned long long)now,
			     took, in_window);
		if (took)
			sent[n++] = now;
	}
	cr_assert_gt(n, 1000);
}

static bool contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

Test(format, discord_embed_with_colour_fields_and_escapes)
{
	struct notify_msg m;
	notify_msg_kill_switch(&m, 0, "strategy killed by \"signal 9\"\nat once");
	char buf[NOTIFY_BODY_MAX];
	size_t n = notify_format(FKS_NOTIFY_DISCORD, &m, buf, sizeof buf);
	cr_assert_gt(n, 0);
	cr_assert_eq(strlen(buf), n);
	cr_assert(contains(buf, "\"embeds\":[{\"title\":\"FKS kill switch tripped\""), "%s", buf);
	cr_assert(contains(buf, "\"color\":14687790"), "critical is red: %s", buf); /* 0xE01E2E */
	cr_assert(contains(buf, "killed by \\\"signal 9\\\"\\nat once"), "escaped: %s", buf);
	cr_assert(contains(buf, "{\"name\":\"Severity\",\"value\":\"critical\",\"inline\":true}"), "%s", buf);
	cr_assert(contains(buf, "\"timestamp\":\"1970-01-01T00:00:00Z\""), "%s", buf);
}

Test(format, slack_text_and_blocks)
{
	struct notify_msg m;
	notify_msg_stage_dead(&m, 86400, "risk", "killed by signal 9 (Killed)");
	char buf[NOTIFY_BODY_MAX];
	cr_assert_gt(notify_format(FKS_NOTIFY_SLACK, &m, buf, sizeof buf), 0);
	cr_assert(contains(buf, "{\"text\":\"[critical] FKS stage risk died: Stage risk killed by signal 9"), "%s", buf);
	cr_assert(contains(buf, "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\"FKS stage risk died\"}}"),
		  "%s", buf);
	cr_assert(contains(buf, "{\"type\":\"mrkdwn\",\"text\":\"*Stage*\\nrisk\"}"), "%s", buf);
	cr_assert(contains(buf, "*Time*\\n1970-01-02T00:00:00Z"), "%s", buf);
}

Test(format, too_small_a_buffer_is_refused_not_cut)
{
	struct notify_msg m;
	notify_msg_stage_dead(&m, 0, "feed", "exited with status 1");
	char buf[64];
	cr_assert_eq(notify_format(FKS_NOTIFY_DISCORD, &m, buf, sizeof buf), 0);
}

Test(format, the_hooks_of_later_issues)
{
	struct notify_msg m;
	notify_msg_account_disabled(&m, 0, "main", "daily loss limit 5000.00 reached");
	cr_assert_eq(m.event, NOTIFY_ACCOUNT_DISABLED);
	cr_assert_eq(m.severity, FKS_SEV_CRITICAL);
	cr_assert_str_eq(m.title, "FKS account main disabled");
	notify_msg_breaker_open(&m, 0, "binance", "5 rejects in 10 s");
	cr_assert_eq(m.event, NOTIFY_BREAKER_OPEN);
	cr_assert_eq(m.severity, FKS_SEV_WARNING);
	char buf[NOTIFY_BODY_MAX];
	notify_format(FKS_NOTIFY_DISCORD, &m, buf, sizeof buf);
	cr_assert(contains(buf, "\"color\":15902976"), "warning is amber: %s", buf); /* 0xF2A900 */
}

Test(format, long_texts_are_cut_on_a_character_boundary)
{
	char reason[2000];
	memset(reason, 'x', sizeof reason);
	memcpy(reason + 120, "\xc3\xa9\xc3\xa9", 4); /* é twice, around the title's cut */
	reason[sizeof reason - 1] = '\0';
	struct notify_msg m;
	notify_msg_stage_dead(&m, 0, reason, "gone");
	size_t n = strlen(m.title);
	cr_assert_lt(n, NOTIFY_TITLE_MAX);
	cr_assert_neq((unsigned char)m.title[n - 1], 0xc3, "no half character at the end");
}

Test(url, https_anywhere_http_only_to_loopback)
{
	char why[128];
	cr_assert_eq(notify_url_check("https://discord.com/api/webhooks/1/abc", why, sizeof why), 0);
	cr_assert_eq(notify_url_check("http://127.0.0.1:8080/hook", why, sizeof why), 0);
	cr_assert_eq(notify_url_check("http://localhost/hook", why, sizeof why), 0);
	cr_assert_eq(notify_url_check("http://[::1]:9/x", why, sizeof why), 0);
	cr_assert_eq(notify_url_check("http://hooks.slack.com/services/T/B/X", why, sizeof why), -1);
	cr_assert(contains(why, "loopback"), "%s", why);
	cr_assert_eq(notify_url_check("http://127.0.0.1.evil.com/x", why, sizeof why), -1);
	cr_assert_eq(notify_url_check("ftp://x/y", why, sizeof why), -1);
	cr_assert_eq(notify_url_check("https:///nohost", why, sizeof why), -1);
	cr_assert_eq(notify_url_check("https://a.b/x y", why, sizeof why), -1);
	cr_assert_not(contains(why, "a.b"), "the reason never quotes the URL: %s", why);
}
