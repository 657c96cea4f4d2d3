/*
 * Connections, the event stream and its tail (bus_conn.h).
 */
#include "pipeline/bus/bus_conn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/net/secret.h"

#define BUS_CONNECT_TIMEOUT_MS 2000
#define BUS_DUPLICATE_WINDOW_NS (120ll * 1000000000ll)

void bus_nats_error(char *err, size_t errlen, const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);
	if (last && *last && strcmp(last, natsStatus_GetText(s)))
		snprintf(err, errlen, "%s: %s: %s", what, natsStatus_GetText(s), last);
	else
		snprintf(err, errlen, "%s: %s", what, natsStatus_GetText(s));
}

/* The server list of a comma-separated url. */
static int split_servers(const char *url, char *copy, size_t cap, const char **servers, int max)
{
	snprintf(copy, cap, "%s", url);
	int n = 0;
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		servers[n++] = t;
	return n;
}

/* Credentials: creds_file, else the environment (bus_conn.h). */
static natsStatus set_credentials(natsOptions *o, const struct fks_bus_cfg *b, char *err, size_t errlen)
{
	if (b->creds_file[0]) {
		char secret[SECRET_MAX];
		size_t len;
		int rc = secret_from_file(b->creds_file, secret, sizeof secret, &len);
		secret_wipe(secret, sizeof secret);
		if (rc && rc != SECRET_TOO_LONG) {
			snprintf(err, errlen, "creds_file %s: %s", b->creds_file, secret_strerror(rc));
			return NATS_INVALID_ARG;
		}
		return natsOptions_SetUserCredentialsFromFiles(o, b->creds_file, NULL);
	}
	char user[SECRET_MAX], pass[SECRET_MAX];
	size_t len;
	natsStatus s = NATS_OK;
	if (!secret_from_env("FKS_NATS_TOKEN", user, sizeof user, &len)) {
		s = natsOptions_SetToken(o, user);
	} else if (!secret_from_env("FKS_NATS_USER", user, sizeof user, &len)) {
		if (secret_from_env("FKS_NATS_PASSWORD", pass, sizeof pass, &len)) {
			snprintf(err, errlen, "FKS_NATS_USER is set but FKS_NATS_PASSWORD is not");
			s = NATS_INVALID_ARG;
		} else {
			s = natsOptions_SetUserInfo(o, user, pass);
		}
		secret_wipe(pass, sizeof pass);
	}
	secret_wipe(user, sizeof user);
	return s;
}

static natsStatus build_options(natsOptions *o, const struct fks_bus_cfg *b, bool reconnect, char *err,
				size_t errlen)
{
	char copy[FKS_BUS_URL_MAX];
	const char *servers[16];
	int n = split_servers(b->url, copy, sizeof copy, servers, 16);
	natsStatus s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, BUS_CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, reconnect ? -1 : 0);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(o, reconnect);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(o, true);
	if (s == NATS_OK && (b->tls || strstr(b->url, "tls://")))
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK)
		s = set_credentials(o, b, err, errlen);
	return s;
}

int bus_connect(const struct fks_bus_cfg *b, const jsOptions *jo, bool reconnect, struct bus_conn *c, char *err,
		size_t errlen)
{
	natsOptions *o = NULL;
	memset(c, 0, sizeof *c);
	err[0] = 0;
	natsStatus s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = build_options(o, b, reconnect, err, errlen);
	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&c->js, c->nc, (jsOptions *)jo);
	natsOptions_Destroy(o);
	if (s != NATS_OK) {
		if (!err[0])
			bus_nats_error(err, errlen, b->url, s);
		bus_disconnect(c);
		return -1;
	}
	return 0;
}

void bus_disconnect(struct bus_conn *c)
{
	if (c->js)
		jsCtx_Destroy(c->js);
	if (c->nc) {
		natsConnection_Close(c->nc);
		natsConnection_Destroy(c->nc);
	}
	memset(c, 0, sizeof *c);
}

bool bus_connected(const struct bus_conn *c)
{
	return c->nc && natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

int bus_ensure_stream(struct bus_conn *c, const struct fks_bus_cfg *b, uint64_t *last_seq, char *err,
		      size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, c->js, b->stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND) {
		char subject[BUS_STREAM_SUBJECTS][BUS_SUBJECT_MAX];
		const char *subjects[BUS_STREAM_SUBJECTS];
		int n = bus_stream_subjects(b->subjects_prefix, subject);
		for (int i = 0; i < n; i++)
			subjects[i] = subject[i];
		jsStreamConfig sc;
		jsStreamConfig_Init(&sc);
		sc.Name = b->stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = n;
		sc.Storage = js_FileStorage;
		sc.Replicas = (int64_t)b->replicas;
		sc.MaxAge = b->max_age_ns;
		/* The duplicate window may not be longer than what is kept. */
		sc.Duplicates = b->max_age_ns && b->max_age_ns < BUS_DUPLICATE_WINDOW_NS ? b->max_age_ns
											  : BUS_DUPLICATE_WINDOW_NS;
		s = js_AddStream(&si, c->js, &sc, NULL, &jerr);
	}
	if (s != NATS_OK) {
		char what[FKS_BUS_NAME_MAX + 32];
		snprintf(what, sizeof what, "stream %s", b->stream);
		bus_nats_error(err, errlen, what, s);
		return -1;
	}
	*last_seq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return 0;
}

int bus_stream_tail(struct bus_conn *c, const char *stream, char run[BUS_RUN_MAX], uint64_t *seq,
		    uint64_t *stream_seq, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	run[0] = 0;
	*seq = 0;
	*stream_seq = 0;
	natsStatus s = js_GetStreamInfo(&si, c->js, stream, NULL, &jerr);
	if (s != NATS_OK) {
		bus_nats_error(err, errlen, stream, s);
		return -1;
	}
	*stream_seq = si->State.LastSeq;
	bool empty = si->State.Msgs == 0;
	jsStreamInfo_Destroy(si);
	if (empty)
		return 0;
	natsMsg *m = NULL;
	s = js_GetMsg(&m, c->js, stream, *stream_seq, NULL, &jerr);
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK) {
		bus_nats_error(err, errlen, stream, s);
		return -1;
	}
	const char *id = NULL;
	if (natsMsgHeader_Get(m, BUS_HDR_MSG_ID, &id) != NATS_OK || !bus_msg_id_parse(id, run, seq)) {
		run[0] = 0;
		*seq = 0;
	}
	natsMsg_Destroy(m);
	return 0;
}

bool bus_is_remote(const char *text)
{
	return !strncmp(text, "nats://", 7) || !strncmp(text, "tls://", 6);
}

/* One key=value of the query into b or run. */
static int remote_param(const char *kv, struct fks_bus_cfg *b, char run[BUS_RUN_MAX], char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	size_t kn = eq ? (size_t)(eq - kv) : 0;
	const char *v = eq ? eq + 1 : "";
	char *dst = NULL;
	size_t cap = 0;
	if (kn == 6 && !strncmp(kv, "stream", 6))
		dst = b->stream, cap = sizeof b->stream;
	else if (kn == 6 && !strncmp(kv, "prefix", 6))
		dst = b->subjects_prefix, cap = sizeof b->subjects_prefix;
	else if (kn == 3 && !strncmp(kv, "run", 3))
		dst = run, cap = BUS_RUN_MAX;
	if (!dst || !*v || strlen(v) >= cap || strpbrk(v, " *>")) {
		snprintf(err, errlen, "\"%s\": expected stream=NAME, prefix=SUBJECT_PREFIX or run=START_NS", kv);
		return -1;
	}
	snprintf(dst, cap, "%s", v);
	return 0;
}

int bus_parse_remote(const char *text, struct fks_bus_cfg *b, char run[BUS_RUN_MAX], char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	snprintf(b->stream, sizeof b->stream, "FKS");
	snprintf(b->subjects_prefix, sizeof b->subjects_prefix, "fks");
	b->replicas = 1;
	run[0] = 0;
	if (!bus_is_remote(text)) {
		snprintf(err, errlen, "%s: expected nats://HOST:PORT[?stream=S&prefix=P&run=R]", text);
		return -1;
	}
	const char *q = strchr(text, '?');
	size_t un = q ? (size_t)(q - text) : strlen(text);
	if (un >= sizeof b->url || memchr(text, '@', un)) {
		snprintf(err, errlen, "%s: %s", text, un >= sizeof b->url ? "too long" :
			 "no user or password in the address: use FKS_NATS_TOKEN or FKS_NATS_USER/FKS_NATS_PASSWORD");
		return -1;
	}
	memcpy(b->url, text, un);
	b->url[un] = 0;
	b->tls = !strncmp(text, "tls://", 6);
	char query[512];
	snprintf(query, sizeof query, "%s", q ? q + 1 : "");
	for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save))
		if (remote_param(kv, b, run, err, errlen))
			return -1;
	return 0;
}
