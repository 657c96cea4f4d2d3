#include "pipeline/notify/notify_format.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Copy src into dst (cap bytes), cut on a UTF-8 character boundary. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void msg_init(struct notify_msg *m, enum notify_event ev, enum fks_severity sev, int64_t wall_s,
		     const char *title, const char *text)
{
	memset(m, 0, sizeof *m);
	m->event = ev;
	m->severity = sev;
	m->wall_s = wall_s;
	copy_cut(m->title, sizeof m->title, title);
	copy_cut(m->text, sizeof m->text, text);
}

void notify_msg_add_field(struct notify_msg *m, const char *name, const char *value)
{
	if (m->n_fields >= NOTIFY_FIELDS_MAX)
		return;
	struct notify_field *f = &m->field[m->n_fields++];
	copy_cut(f->name, sizeof f->name, name);
	copy_cut(f->value, sizeof f->value, value);
}

void notify_msg_kill_switch(struct notify_msg *m, int64_t wall_s, const char *reason)
{
	char text[NOTIFY_TEXT_MAX];
	snprintf(text, sizeof text, "No new orders leave; the gateway cancels open orders. Reason: %s", reason);
	msg_init(m, NOTIFY_KILL_SWITCH, FKS_SEV_CRITICAL, wall_s, "FKS kill switch tripped", text);
	notify_msg_add_field(m, "Reason", reason);
}

void notify_msg_stage_dead(struct notify_msg *m, int64_t wall_s, const char *stage, const char *how)
{
	char title[NOTIFY_TITLE_MAX], text[NOTIFY_TEXT_MAX];
	snprintf(title, sizeof title, "FKS stage %s died", stage);
	snprintf(text, sizeof text, "Stage %s %s. The pipeline stops; see the journal and `fks run`'s log.", stage,
		 how);
	msg_init(m, NOTIFY_STAGE_DEAD, FKS_SEV_CRITICAL, wall_s, title, text);
	notify_msg_add_field(m, "Stage", stage);
	notify_msg_add_field(m, "Cause", how);
}

void notify_msg_account_disabled(struct notify_msg *m, int64_t wall_s, const char *account, const char *reason)
{
	char title[NOTIFY_TITLE_MAX], text[NOTIFY_TEXT_MAX];
	snprintf(title, sizeof title, "FKS account %s disabled", account);
	snprintf(text, sizeof text, "Account %s takes no new orders: %s", account, reason);
	msg_init(m, NOTIFY_ACCOUNT_DISABLED, FKS_SEV_CRITICAL, wall_s, title, text);
	notify_msg_add_field(m, "Account", account);
	notify_msg_add_field(m, "Reason", reason);
}

void notify_msg_breaker_open(struct notify_msg *m, int64_t wall_s, const char *venue, const char *reason)
{
	char title[NOTIFY_TITLE_MAX], text[NOTIFY_TEXT_MAX];
	snprintf(title, sizeof title, "FKS breaker open for venue %s", venue);
	snprintf(text, sizeof text, "Orders to %s are refused until the breaker closes: %s", venue, reason);
	msg_init(m, NOTIFY_BREAKER_OPEN, FKS_SEV_WARNING, wall_s, title, text);
	notify_msg_add_field(m, "Venue", venue);
	notify_msg_add_field(m, "Reason", reason);
}

void notify_msg_test(struct notify_msg *m, int64_t wall_s, enum fks_severity sev, uint64_t i, uint64_t n)
{
	char title[NOTIFY_TITLE_MAX];
	snprintf(title, sizeof title, "FKS test notification %llu of %llu", (unsigned long long)i,
		 (unsigned long long)n);
	msg_init(m, NOTIFY_TEST, sev, wall_s, title,
		 "Sent by `fks notify test`: this target receives what FKS pages for.");
}

uint32_t notify_severity_colour(enum fks_severity s)
{
	switch (s) {
	case FKS_SEV_CRITICAL: return 0xE01E2Eu; /* red */
	case FKS_SEV_WARNING: return 0xF2A900u;  /* amber */
	case FKS_SEV_INFO: break;
	}
	return 0x2E86DEu; /* blue */
}

/* ---- JSON ----------------------------------------------------------------- */

struct out {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n >= o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(o, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* s as a JSON string, quotes included. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = { '\\', (char)*p };
			put(o, esc, 2);
		} else if (*p == '\n') {
			put(o, "\\n", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			putf(o, "\\u%04x", *p);
		} else {
			put(o, (const char *)p, 1);
		}
	}
	put(o, "\"", 1);
}

static void iso_time(int64_t wall_s, char *buf, size_t cap)
{
	time_t t = (time_t)wall_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void format_discord(struct out *o, const struct notify_msg *m)
{
	char when[32];
	iso_time(m->wall_s, when, sizeof when);
	puts_(o, "{\"username\":\"FKS\",\"embeds\":[{\"title\":");
	put_str(o, m->title);
	puts_(o, ",\"description\":");
	put_str(o, m->text);
	putf(o, ",\"color\":%u,\"fields\":[", notify_severity_colour(m->severity));
	puts_(o, "{\"name\":\"Severity\",\"value\":");
	put_str(o, config_severity_name(m->severity));
	puts_(o, ",\"inline\":true}");
	for (uint32_t i = 0; i < m->n_fields; i++) {
		puts_(o, ",{\"name\":");
		put_str(o, m->field[i].name);
		puts_(o, ",\"value\":");
		put_str(o, m->field[i].value[0] ? m->field[i].value : "-"); /* Discord refuses an empty value */
		puts_(o, ",\"inline\":true}");
	}
	puts_(o, "],\"timestamp\":");
	put_str(o, when);
	puts_(o, "}]}");
}

static void format_slack(struct out *o, const struct notify_msg *m)
{
	char when[32], fallback[NOTIFY_TITLE_MAX + NOTIFY_TEXT_MAX + 32], field[NOTIFY_FIELD_NAME_MAX + NOTIFY_FIELD_VALUE_MAX + 8];
	iso_time(m->wall_s, when, sizeof when);
	snprintf(fallback, sizeof fallback, "[%s] %s: %s", config_severity_name(m->severity), m->title, m->text);
	puts_(o, "{\"text\":");
	put_str(o, fallback);
	puts_(o, ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":");
	put_str(o, m->title);
	puts_(o, "}},{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
	put_str(o, m->text);
	puts_(o, "}},{\"type\":\"section\",\"fields\":[");
	snprintf(field, sizeof field, "*Severity*\n%s", config_severity_name(m->severity));
	puts_(o, "{\"type\":\"mrkdwn\",\"text\":");
	put_str(o, field);
	puts_(o, "}");
	/* Slack takes at most 10 fields: Severity, the message's own, Time. */
	for (uint32_t i = 0; i < m->n_fields; i++) {
		snprintf(field, sizeof field, "*%s*\n%s", m->field[i].name, m->field[i].value);
		puts_(o, ",{\"type\":\"mrkdwn\",\"text\":");
		put_str(o, field);
		puts_(o, "}");
	}
	snprintf(field, sizeof field, "*Time*\n%s", when);
	puts_(o, ",{\"type\":\"mrkdwn\",\"text\":");
	put_str(o, field);
	puts_(o, "}]}]}");
}

size_t notify_format(enum fks_notify_kind kind, const struct notify_msg *m, char *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
	if (kind == FKS_NOTIFY_SLACK)
		format_slack(&o, m);
	else
		format_discord(&o, m);
	return o.overflow ? 0 : o.len;
}
