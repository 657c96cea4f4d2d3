/*
 * Direct notifications: the supervisor's pages to Discord and Slack
 * webhooks (the config's `notify.targets`), for the events that must reach
 * someone even when nobody runs Prometheus.
 *
 *   notifier_open   reads every target's URL (notify_url.h): a target that
 *                   cannot be reached is an error before anything starts
 *   notifier_start  one sender thread per target.  Start it after the
 *                   runners are forked: a fork copies only the calling
 *                   thread, and a child must not inherit a lock a sender
 *                   held.
 *   notify_*        enqueue and return: a copy into the target's bounded
 *                   queue under its mutex, never a network call, so the
 *                   supervisor's watch loop is never held up by a webhook
 *   notifier_close  flush what is queued, up to a deadline, stop the
 *                   senders, print on stderr what could not be delivered
 *
 * Each sender posts its target's queue in order, within the target's rate
 * limit (30 messages in any minute, ratelimit.h).  A message over the limit
 * is not sent but counted, and the counts go out as one summary message as
 * soon as the limit allows; nothing is dropped without a count, and counts
 * that never got out by the close deadline are printed on stderr.  A post
 * that fails on the network or with a 5xx is retried with exponential
 * back-off (from 1 s, doubling, up to NOTIFY_ATTEMPTS attempts); a 429 is
 * retried after its Retry-After; any other status is a permanent failure.
 * Log lines name the target, never its URL.
 *
 * Test hooks (environment): FKS_NOTIFY_WINDOW_MS shortens the rate window
 * (default 60000) and FKS_NOTIFY_BACKOFF_MS the first back-off (1000).
 *
 * Every function takes a NULL notifier (no targets) and does nothing.
 */
#ifndef FKS_PIPELINE_NOTIFY_H
#define FKS_PIPELINE_NOTIFY_H

#include <stdint.h>

#include "pipeline/config/config.h"
#include "pipeline/notify/notify_format.h"

#define NOTIFY_RATE_LIMIT 30       /* messages per target per window */
#define NOTIFY_WINDOW_MS 60000u
#define NOTIFY_ATTEMPTS 6          /* posts of one message, the first included */
#define NOTIFY_QUEUE_MAX 64        /* per target; more is counted into the summary */
#define NOTIFY_FLUSH_MS 10000u     /* how long `fks run` waits for its last messages */

struct notifier;

/* Counters of one target, since notifier_open. */
struct notify_stats {
	uint64_t queued;        /* accepted by notify_post */
	uint64_t delivered;     /* posted and answered 2xx, summaries included */
	uint64_t retries;       /* posts repeated after a network error, 5xx or 429 */
	uint64_t failed;        /* given up on: a 4xx, or NOTIFY_ATTEMPTS failures */
	uint64_t suppressed;    /* over the rate limit or the queue: counted, not sent */
	uint64_t summarised;    /* of those, reported in a summary that was delivered */
	uint64_t undelivered;   /* still queued or unsummarised at the close deadline */
};

/* *out is NULL when cfg has no targets.  0, or -1 with the reason in err
 * ("notify target \"ops\": $FKS_HOOK: the environment variable is not set"). */
int notifier_open(const struct fks_notify_cfg *cfg, const char *pipeline, struct notifier **out, char *err,
		  size_t errlen);

/* Start the senders: 0, or -1 with the reason in err. */
int notifier_start(struct notifier *n, char *err, size_t errlen);

/* Queue m for every target whose min_severity it reaches.  The pipeline and
 * host fields are added here. */
void notify_post(struct notifier *n, const struct notify_msg *m);

/* The supervisor's events, built (notify_format.h) and posted. */
void notify_kill_switch(struct notifier *n, const char *reason);
void notify_stage_dead(struct notifier *n, const char *stage, const char *how);
void notify_account_disabled(struct notifier *n, const char *account, const char *reason);
void notify_breaker_open(struct notifier *n, const char *venue, const char *reason);

/* Deliver what is queued (and any pending summary) for up to flush_ms,
 * stop and join the senders, report what was not delivered on stderr as
 * "<who>: notify target NAME: ...", wipe the URLs and free n.  total (may
 * be NULL) gets the sum of every target's counters.  Returns failed +
 * undelivered (0: everything got out, as a message or in a summary). */
uint64_t notifier_close(struct notifier *n, uint32_t flush_ms, const char *who, struct notify_stats *total);

#endif
