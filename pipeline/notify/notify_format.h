/*
 * What a notification says, and its JSON for each kind of webhook.
 *
 *   Discord  {"username": "FKS", "embeds": [{"title", "description",
 *            "color" (by severity), "fields": [{"name", "value", "inline"}],
 *            "timestamp"}]}  (discord.com/developers: Execute Webhook)
 *   Slack    {"text" (the fallback shown in notifications), "blocks":
 *            [header, section (mrkdwn), section with "fields"]}
 *            (api.slack.com: incoming webhooks, Block Kit)
 *
 * Every text is escaped as a JSON string and cut (on a UTF-8 boundary) to
 * the limits both services accept, so a long reason cannot get the whole
 * message refused.  Pure functions: the builders fill a struct, the
 * formatter writes a buffer; no allocation, no clock (the event's time is
 * a field of the message).
 */
#ifndef FKS_PIPELINE_NOTIFY_FORMAT_H
#define FKS_PIPELINE_NOTIFY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/config/config.h"

#define NOTIFY_TITLE_MAX 128
#define NOTIFY_TEXT_MAX 768
#define NOTIFY_FIELDS_MAX 6
#define NOTIFY_FIELD_NAME_MAX 32
#define NOTIFY_FIELD_VALUE_MAX 192
#define NOTIFY_BODY_MAX 8192  /* a formatted message always fits */

/* What happened: the events FKS pages for. */
enum notify_event {
	NOTIFY_KILL_SWITCH = 0,     /* the kill switch tripped */
	NOTIFY_STAGE_DEAD = 1,      /* a stage (or its runner) died, failed or stalled */
	NOTIFY_ACCOUNT_DISABLED = 2,/* an account was disabled (daily loss, drawdown, ...) */
	NOTIFY_BREAKER_OPEN = 3,    /* a venue's circuit breaker opened */
	NOTIFY_RATE_SUMMARY = 4,    /* messages the rate limit held back, counted */
	NOTIFY_TEST = 5,            /* `fks notify test` */
};

struct notify_field {
	char name[NOTIFY_FIELD_NAME_MAX];
	char value[NOTIFY_FIELD_VALUE_MAX];
};

struct notify_msg {
	enum notify_event event;
	enum fks_severity severity;
	int64_t wall_s;             /* when it happened, s since the Unix epoch */
	char title[NOTIFY_TITLE_MAX];
	char text[NOTIFY_TEXT_MAX];
	uint32_t n_fields;
	struct notify_field field[NOTIFY_FIELDS_MAX];
};

/* The builders: severity, title, text and the event's own fields.  Texts
 * longer than their member are cut. */
void notify_msg_kill_switch(struct notify_msg *m, int64_t wall_s, const char *reason);
void notify_msg_stage_dead(struct notify_msg *m, int64_t wall_s, const char *stage, const char *how);
void notify_msg_account_disabled(struct notify_msg *m, int64_t wall_s, const char *account, const char *reason);
void notify_msg_breaker_open(struct notify_msg *m, int64_t wall_s, const char *venue, const char *reason);
/* `fks notify test`: message i of n, at severity sev. */
void notify_msg_test(struct notify_msg *m, int64_t wall_s, enum fks_severity sev, uint64_t i, uint64_t n);

/* Append a field if there is room (NOTIFY_FIELDS_MAX); texts are cut. */
void notify_msg_add_field(struct notify_msg *m, const char *name, const char *value);

/* The JSON body for a target of this kind, NUL-terminated, into buf (at
 * least NOTIFY_BODY_MAX bytes): its length, or 0 if cap is too small. */
size_t notify_format(enum fks_notify_kind kind, const struct notify_msg *m, char *buf, size_t cap);

/* Discord's embed colour for a severity (0xRRGGBB). */
uint32_t notify_severity_colour(enum fks_severity s);

#endif
