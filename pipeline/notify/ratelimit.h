/*
 * The rate limit of one notification target: at most `limit` messages in
 * any window of `window_ns` (Discord and Slack webhooks: 30 a minute).
 *
 * A token bucket whose tokens come back one window after each was spent,
 * rather than dripping back at limit/window: a bucket of 30 refilled at
 * one token every 2 s lets 30 through at once and 29 more within the same
 * minute, which the webhook would answer with 429s.  Kept as the send
 * times of the last `limit` tokens, so the check is exact for any window.
 *
 * The clock is the caller's (monotonic ns), so tests drive it by hand.
 * Plain data, no allocation, not thread-safe (one sender owns it).
 */
#ifndef FKS_PIPELINE_NOTIFY_RATELIMIT_H
#define FKS_PIPELINE_NOTIFY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATE_LIMIT_MAX 64  /* the largest limit the bucket can hold */

struct rate_limit {
	uint32_t limit;            /* tokens per window, 1..RATE_LIMIT_MAX */
	uint64_t window_ns;
	uint32_t head, spent;      /* the oldest spent token, and how many are out */
	uint64_t spent_at[RATE_LIMIT_MAX];
};

/* A full bucket; limit is clamped to 1..RATE_LIMIT_MAX. */
void rate_limit_init(struct rate_limit *rl, uint32_t limit, uint64_t window_ns);

/* Take a token at now_ns (never earlier than a previous call's): true, or
 * false when `limit` were taken in the window ending now_ns. */
bool rate_limit_take(struct rate_limit *rl, uint64_t now_ns);

/* When the next token comes back: now_ns when one is there now. */
uint64_t rate_limit_next_ns(const struct rate_limit *rl, uint64_t now_ns);

#endif
