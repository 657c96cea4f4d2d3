/*
 * The notifier (notify.h): per target, a bounded queue filled by the
 * supervisor and a sender thread that posts it with libcurl.
 *
 * libcurl rather than feeds/net/https_get: that client is GET-only, TLS
 * only and keeps no Retry-After; a webhook needs POST, and the tests (and
 * a local relay) need plain HTTP on loopback.  This runs off the hot path,
 * in the supervisor process only, so a general client costs nothing where
 * it matters.
 */
#include "pipeline/notify/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feeds/net/secret.h"
#include "pipeline/notify/notify_url.h"
#include "pipeline/notify/ratelimit.h"

#define POST_TIMEOUT_MS 10000L
#define BACKOFF_MAX_NS (30ull * 1000000000ull)
#define RETRY_AFTER_MAX_S 600

struct target {
	struct notifier *owner;
	struct fks_notify_target_cfg cfg;
	char url[NOTIFY_URL_MAX];
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;        /* everything below */
	pthread_cond_t cv;         /* on CLOCK_MONOTONIC */
	bool stopping;             /* notifier_close: flush until deadline_ns, then stop */
	uint64_t deadline_ns;
	struct notify_msg queue[NOTIFY_QUEUE_MAX];
	uint32_t head, count;
	/* Held back, for the next summary. */
	uint64_t held, held_by_sev[3];
	int64_t held_first_s, held_last_s;
	char held_first[NOTIFY_TITLE_MAX], held_last[NOTIFY_TITLE_MAX];
	struct notify_stats stats;
	struct rate_limit rl;      /* the sender's alone */
};

struct notifier {
	char pipeline[FKS_CONFIG_NAME_MAX];
	char host[64];
	uint64_t backoff_ns;
	bool curl_ready;
	uint32_t n;
	struct target t[FKS_MAX_NOTIFY_TARGETS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t env_ms(const char *var, uint64_t dflt)
{
	const char *v = getenv(var);
	char *end;
	unsigned long long ms = v && *v ? strtoull(v, &end, 10) : 0;
	return v && *v && !*end && ms > 0 ? ms : dflt;
}

int notifier_open(const struct fks_notify_cfg *cfg, const char *pipeline, struct notifier **out, char *err,
		  size_t errlen)
{
	*out = NULL;
	if (cfg->n_targets == 0)
		return 0;
	struct notifier *n = calloc(1, sizeof *n);
	if (!n) {
		snprintf(err, errlen, "notify: out of memory");
		return -1;
	}
	snprintf(n->pipeline, sizeof n->pipeline, "%s", pipeline);
	if (gethostname(n->host, sizeof n->host))
		snprintf(n->host, sizeof n->host, "?");
	n->host[sizeof n->host - 1] = '\0';
	n->backoff_ns = env_ms("FKS_NOTIFY_BACKOFF_MS", 1000) * 1000000ull;
	uint64_t window_ns = env_ms("FKS_NOTIFY_WINDOW_MS", NOTIFY_WINDOW_MS) * 1000000ull;
	for (uint32_t i = 0; i < cfg->n_targets; i++) {
		struct target *t = &n->t[i];
		char why[FKS_CONFIG_PATH_MAX + 128];
		t->owner = n;
		t->cfg = cfg->target[i];
		if (notify_url_read(&t->cfg, t->url, sizeof t->url, why, sizeof why)) {
			snprintf(err, errlen, "notify target \"%s\": %s", t->cfg.name, why);
			n->n = i;
			notifier_close(n, 0, NULL, NULL);
			return -1;
		}
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_mutex_init(&t->mu, NULL);
		pthread_cond_init(&t->cv, &ca);
		pthread_condattr_destroy(&ca);
		rate_limit_init(&t->rl, NOTIFY_RATE_LIMIT, window_ns);
		n->n = i + 1;
	}
	*out = n;
	return 0;
}

/* ---- enqueue (the supervisor's side) ----------------------------------------- */

static void hold_back(struct target *t, const struct notify_msg *m)
{
	if (t->held++ == 0) {
		t->held_first_s = m->wall_s;
		snprintf(t->held_first, sizeof t->held_first, "%s", m->title);
	}
	t->held_last_s = m->wall_s;
	snprintf(t->held_last, sizeof t->held_last, "%s", m->title);
	t->held_by_sev[m->severity <= FKS_SEV_CRITICAL ? m->severity : FKS_SEV_CRITICAL]++;
	t->stats.suppressed++;
}

void notify_post(struct notifier *n, const struct notify_msg *m)
{
	if (!n)
		return;
	struct notify_msg full = *m;
	notify_msg_add_field(&full, "Pipeline", n->pipeline);
	notify_msg_add_field(&full, "Host", n->host);
	for (uint32_t i = 0; i < n->n; i++) {
		struct target *t = &n->t[i];
		if (m->severity < t->cfg.min_severity)
			continue;
		pthread_mutex_lock(&t->mu);
		t->stats.queued++;
		if (t->count == NOTIFY_QUEUE_MAX) {
			hold_back(t, &full); /* the sender is behind (retrying): count it */
		} else {
			t->queue[(t->head + t->count) % NOTIFY_QUEUE_MAX] = full;
			t->count++;
		}
		pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
	}
}

static int64_t wall_s(void) { return (int64_t)time(NULL); }

void notify_kill_switch(struct notifier *n, const char *reason)
{
	struct notify_msg m;
	if (!n)
		return;
	notify_msg_kill_switch(&m, wall_s(), reason);
	notify_post(n, &m);
}

void notify_stage_dead(struct notifier *n, const char *stage, const char *how)
{
	struct notify_msg m;
	if (!n)
		return;
	notify_msg_stage_dead(&m, wall_s(), stage, how);
	notify_post(n, &m);
}

void notify_account_disabled(struct notifier *n, const char *account, const char *reason)
{
	struct notify_msg m;
	if (!n)
		return;
	notify_msg_account_disabled(&m, wall_s(), account, reason);
	notify_post(n, &m);
}

void notify_breaker_open(struct notifier *n, const char *venue, const char *reason)
{
	struct notify_msg m;
	if (!n)
		return;
	notify_msg_breaker_open(&m, wall_s(), venue, reason);
	notify_post(n, &m);
}

/* ---- the sender ------------------------------------------------------------ */

/* With t->mu held: sleep until `until` (monotonic ns).  False, at once,
 * when the close deadline comes first: waiting would only delay the exit. */
static bool wait_until(struct target *t, uint64_t until)
{
	for (;;) {
		if (t->stopping && until > t->deadline_ns)
			return false;
		if (mono_ns() >= until)
			return true;
		struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ull),
				       .tv_nsec = (long)(until % 1000000000ull) };
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
}

static size_t discard_body(char *p, size_t size, size_t n, void *user)
{
	(void)p;
	(void)user;
	return size * n;
}

/* One POST of body.  The HTTP status, or 0 on a network error (why says
 * which: curl's text for its code, which never holds the URL);
 * *retry_after_s is a 429's Retry-After, -1 without one. */
static long post_once(struct target *t, CURL *c, const char *body, size_t len, long timeout_ms,
		      long *retry_after_s, char *why, size_t cap)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, t->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fks-notify");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_off_t ra = -1;
	*retry_after_s = -1;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status == 429 && curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra >= 0)
			*retry_after_s = ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)ra;
		snprintf(why, cap, "HTTP %ld", status);
	} else {
		snprintf(why, cap, "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(hdr);
	return status;
}

/* With t->mu held (dropped around each POST): post body until it is
 * delivered, refused for good, out of attempts, or past the close
 * deadline.  True when delivered. */
static bool deliver(struct target *t, CURL *c, const char *body, size_t len)
{
	uint64_t backoff = t->owner->backoff_ns;
	for (int attempt = 1;; attempt++) {
		long timeout_ms = POST_TIMEOUT_MS;
		if (t->stopping) {
			uint64_t now = mono_ns();
			long left = now < t->deadline_ns ? (long)((t->deadline_ns - now) / 1000000) : 0;
			timeout_ms = left < 1 ? 1 : left < timeout_ms ? left : timeout_ms;
		}
		char why[160];
		long retry_after = -1;
		pthread_mutex_unlock(&t->mu);
		long status = post_once(t, c, body, len, timeout_ms, &retry_after, why, sizeof why);
		pthread_mutex_lock(&t->mu);
		if (status >= 200 && status < 300) {
			t->stats.delivered++;
			return true;
		}
		bool transient = status == 0 || status == 429 || status >= 500;
		if (!transient || attempt >= NOTIFY_ATTEMPTS) {
			t->stats.failed++;
			if (transient)
				fprintf(stderr, "fks: notify target %s: %s; giving up after %d attempts\n", t->cfg.name, why,
					NOTIFY_ATTEMPTS);
			else
				fprintf(stderr, "fks: notify target %s: %s; not retried (the webhook refused the message)\n",
					t->cfg.name, why);
			return false;
		}
		uint64_t wait = backoff;
		if (status == 429 && retry_after >= 0)
			wait = (uint64_t)retry_after * 1000000000ull;
		else
			backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
		fprintf(stderr, "fks: notify target %s: %s; retrying in %.3g s%s\n", t->cfg.name, why, (double)wait / 1e9,
			status == 429 && retry_after >= 0 ? " (its Retry-After)" : "");
		t->stats.retries++;
		if (!wait_until(t, mono_ns() + wait)) {
			t->stats.undelivered++;
			fprintf(stderr, "fks: notify target %s: not retried: past the close deadline\n", t->cfg.name);
			return false;
		}
	}
}

static void hms(int64_t wall_s, char *buf, size_t cap)
{
	time_t tt = (time_t)wall_s;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%H:%M:%SZ", &tm);
}

/* With t->mu held: the held-back counts as one message, and reset them. */
static void take_summary(struct target *t, struct notify_msg *m)
{
	char title[NOTIFY_TITLE_MAX], text[NOTIFY_TEXT_MAX], from[16], to[16], count[24];
	enum fks_severity sev = t->held_by_sev[FKS_SEV_CRITICAL] ? FKS_SEV_CRITICAL
				: t->held_by_sev[FKS_SEV_WARNING] ? FKS_SEV_WARNING
								  : FKS_SEV_INFO;
	hms(t->held_first_s, from, sizeof from);
	hms(t->held_last_s, to, sizeof to);
	snprintf(title, sizeof title, "FKS: %" PRIu64 " notifications held back by the rate limit", t->held);
	snprintf(text, sizeof text,
		 "Target %s takes at most %u messages in %.3g s. %" PRIu64 " more (%" PRIu64 " critical, %" PRIu64
		 " warning, %" PRIu64 " info) came between %s and %s and were counted instead of sent. "
		 "First: %s. Last: %s.",
		 t->cfg.name, t->rl.limit, (double)t->rl.window_ns / 1e9, t->held, t->held_by_sev[FKS_SEV_CRITICAL],
		 t->held_by_sev[FKS_SEV_WARNING], t->held_by_sev[FKS_SEV_INFO], from, to, t->held_first, t->held_last);
	memset(m, 0, sizeof *m);
	m->event = NOTIFY_RATE_SUMMARY;
	m->severity = sev;
	m->wall_s = wall_s();
	snprintf(m->title, sizeof m->title, "%s", title);
	snprintf(m->text, sizeof m->text, "%s", text);
	snprintf(count, sizeof count, "%" PRIu64, t->held);
	notify_msg_add_field(m, "Held back", count);
	notify_msg_add_field(m, "Pipeline", t->owner->pipeline);
	notify_msg_add_field(m, "Host", t->owner->host);
	t->held = 0;
	memset(t->held_by_sev, 0, sizeof t->held_by_sev);
}

static void pop(struct target *t)
{
	t->head = (t->head + 1) % NOTIFY_QUEUE_MAX;
	t->count--;
}

/* Over the limit: queued messages are counted at once (a page that waits a
 * minute behind a burst is worth less than a count now); a pending summary
 * waits for the next token, and goes once the queue is empty. */
static void *sender_main(void *arg)
{
	struct target *t = arg;
	CURL *c = curl_easy_init();
	char body[NOTIFY_BODY_MAX];
	pthread_mutex_lock(&t->mu);
	while (c) {
		if (!t->count && !t->held) {
			if (t->stopping)
				break;
			pthread_cond_wait(&t->cv, &t->mu);
			continue;
		}
		uint64_t now = mono_ns();
		if (t->stopping && now >= t->deadline_ns)
			break;
		if (!rate_limit_take(&t->rl, now)) {
			if (t->count) {
				hold_back(t, &t->queue[t->head]);
				pop(t);
			} else if (!wait_until(t, rate_limit_next_ns(&t->rl, now))) {
				break;
			}
			continue;
		}
		/* The queue first: the summary counts what came before it. */
		struct notify_msg m;
		uint64_t summarised = t->count ? 0 : t->held;
		if (summarised) {
			take_summary(t, &m);
		} else {
			m = t->queue[t->head];
			pop(t);
		}
		size_t len = notify_format(t->cfg.kind, &m, body, sizeof body);
		if (deliver(t, c, body, len))
			t->stats.summarised += summarised;
		else if (summarised)
			fprintf(stderr, "fks: notify target %s: the summary of %" PRIu64
					" held-back notifications was not delivered\n", t->cfg.name, summarised);
	}
	if (!c)
		fprintf(stderr, "fks: notify target %s: curl_easy_init failed: nothing can be sent\n", t->cfg.name);
	if (t->count || t->held) {
		fprintf(stderr, "fks: notify target %s: %u queued and %" PRIu64
				" held-back notifications not delivered before the close deadline\n",
			t->cfg.name, t->count, t->held);
		t->stats.undelivered += t->count + t->held;
		t->count = 0;
		t->held = 0;
	}
	pthread_mutex_unlock(&t->mu);
	curl_easy_cleanup(c);
	return NULL;
}

int notifier_start(struct notifier *n, char *err, size_t errlen)
{
	if (!n)
		return 0;
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "notify: curl_global_init: %s", curl_easy_strerror(rc));
		return -1;
	}
	n->curl_ready = true;
	/* Signals are the supervisor's: its main thread polls got_signal. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int failed = 0;
	for (uint32_t i = 0; i < n->n && !failed; i++) {
		failed = pthread_create(&n->t[i].thread, NULL, sender_main, &n->t[i]);
		n->t[i].started = !failed;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (failed) {
		snprintf(err, errlen, "notify: cannot start a sender thread: %s", strerror(failed));
		return -1;
	}
	return 0;
}

static void add_stats(struct notify_stats *a, const struct notify_stats *b)
{
	a->queued += b->queued;
	a->delivered += b->delivered;
	a->retries += b->retries;
	a->failed += b->failed;
	a->suppressed += b->suppressed;
	a->summarised += b->summarised;
	a->undelivered += b->undelivered;
}

uint64_t notifier_close(struct notifier *n, uint32_t flush_ms, const char *who, struct notify_stats *total)
{
	struct notify_stats sum = { 0 };
	if (n) {
		uint64_t deadline = mono_ns() + (uint64_t)flush_ms * 1000000ull;
		for (uint32_t i = 0; i < n->n; i++) {
			struct target *t = &n->t[i];
			pthread_mutex_lock(&t->mu);
			t->stopping = true;
			t->deadline_ns = deadline;
			pthread_cond_broadcast(&t->cv);
			pthread_mutex_unlock(&t->mu);
		}
		for (uint32_t i = 0; i < n->n; i++) {
			struct target *t = &n->t[i];
			if (t->started)
				pthread_join(t->thread, NULL);
			const struct notify_stats *s = &t->stats;
			if (who && (s->failed || s->undelivered))
				fprintf(stderr, "%s: notify target %s: %" PRIu64 " of %" PRIu64
						" notifications not delivered (%" PRIu64 " refused or out of attempts, %" PRIu64
						" past the close deadline)\n",
					who, t->cfg.name, s->failed + s->undelivered, s->queued, s->failed, s->undelivered);
			add_stats(&sum, s);
			secret_wipe(t->url, sizeof t->url);
			pthread_cond_destroy(&t->cv);
			pthread_mutex_destroy(&t->mu);
		}
		if (n->curl_ready)
			curl_global_cleanup();
		free(n);
	}
	if (total)
		*total = sum;
	return sum.failed + sum.undelivered;
}
