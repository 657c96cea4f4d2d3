/*
 * The bus section (config.h, struct fks_bus_cfg): NATS URLs without
 * credentials in them (the config is copied into every journal), stream
 * and consumer names and a subject prefix that NATS accepts, max_age a
 * duration; and, for a run, creds_file readable and of mode 0600.  A
 * server that is down is not a config error: the bus catches up later.
 */
#include "pipeline/config/config_int.h"

#include <errno.h>
#include <stdlib.h>

#include "feeds/net/secret.h"

int config_parse_duration(const char *text, int64_t *ns)
{
	if (!(*text >= '0' && *text <= '9'))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	int64_t unit;
	switch (*end) {
	case 0: case 's': unit = 1000000000ll; break;
	case 'm': unit = 60ll * 1000000000ll; break;
	case 'h': unit = 3600ll * 1000000000ll; break;
	case 'd': unit = 86400ll * 1000000000ll; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (errno || v > (unsigned long long)(INT64_MAX / unit))
		return -1;
	*ns = (int64_t)v * unit;
	return 0;
}

/* A stream or consumer name: JetStream refuses '.', '*', '>', spaces and
 * path separators; we keep to a plain, portable alphabet. */
static bool bus_name_ok(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Subject tokens of the same alphabet, separated by single dots. */
static bool bus_prefix_ok(const char *s)
{
	bool token_start = true;
	if (!s[0])
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (token_start)
				return false;
			token_start = true;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
		token_start = false;
	}
	return !token_start;
}

/* One URL of the list: nats:// or tls://, host and port, no user info. */
static int check_one_url(struct loader *ld, const struct fks_bus_cfg *b, const char *u, size_t n)
{
	const char *rest = NULL;
	if (n > 7 && !strncmp(u, "nats://", 7))
		rest = u + 7;
	else if (n > 6 && !strncmp(u, "tls://", 6))
		rest = u + 6;
	if (!rest)
		return cfg_fail_field(ld, b->url, "\"%.*s\": expected nats://HOST:PORT or tls://HOST:PORT", (int)n, u);
	size_t rn = n - (size_t)(rest - u);
	if (memchr(rest, '@', rn))
		return cfg_fail_field(ld, b->url, "\"%.*s\": no user or password in the URL (the config is copied "
					  "into every journal); use creds_file or FKS_NATS_TOKEN / FKS_NATS_USER and "
					  "FKS_NATS_PASSWORD", (int)n, u);
	const char *colon = NULL;
	for (size_t i = 0; i < rn; i++)
		if (rest[i] == ':')
			colon = rest + i;
	if (!colon || colon == rest || colon + 1 == rest + rn)
		return cfg_fail_field(ld, b->url, "\"%.*s\": expected a host and a port after the scheme", (int)n, u);
	for (const char *p = colon + 1; p < rest + rn; p++)
		if (*p < '0' || *p > '9')
			return cfg_fail_field(ld, b->url, "\"%.*s\": the port is not a number", (int)n, u);
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return cfg_fail_field(ld, b->url, "\"%.*s\": the port is not in 1..65535", (int)n, u);
	return 0;
}

int cfg_check_bus(struct loader *ld, struct fks_config *cfg)
{
	struct fks_bus_cfg *b = &cfg->bus;
	if (!cfg_find_mark(ld, b->url))
		return 0; /* no bus section */
	if (!b->url[0])
		return cfg_fail_field(ld, b->url, "must not be empty (leave bus out to run without it)");
	for (const char *u = b->url; *u;) {
		const char *comma = strchr(u, ',');
		size_t n = comma ? (size_t)(comma - u) : strlen(u);
		if (check_one_url(ld, b, u, n))
			return -1;
		u += n + (comma ? 1 : 0);
		if (comma && !*u)
			return cfg_fail_field(ld, b->url, "a URL list must not end with ','");
	}
	if (!bus_name_ok(b->stream))
		return cfg_fail_field(ld, b->stream, "\"%s\": a stream name is 1 or more of [A-Za-z0-9_-]", b->stream);
	if (!bus_prefix_ok(b->subjects_prefix))
		return cfg_fail_field(ld, b->subjects_prefix,
				      "\"%s\": expected subject tokens of [A-Za-z0-9_-] separated by single dots, "
				      "e.g. fks or desk1.fks", b->subjects_prefix);
	if (!bus_name_ok(b->signals.stream))
		return cfg_fail_field(ld, b->signals.stream, "\"%s\": a stream name is 1 or more of [A-Za-z0-9_-]",
				      b->signals.stream);
	if (!strcmp(b->signals.stream, b->stream))
		return cfg_fail_field(ld, b->signals.stream, "\"%s\": the signals need a stream of their own "
				      "(the event stream has exactly one writer, `fks bus publish`)", b->stream);
	if (!bus_name_ok(b->signals.consumer))
		return cfg_fail_field(ld, b->signals.consumer,
				      "\"%s\": a consumer name is 1 or more of [A-Za-z0-9_-]", b->signals.consumer);
	if (config_parse_duration(b->max_age, &b->max_age_ns))
		return cfg_fail_field(ld, b->max_age, "\"%s\": expected 0 (keep everything) or a duration such as "
				      "90s, 30m, 24h or 7d", b->max_age);
	return 0;
}

int cfg_check_bus_host(struct loader *ld, const struct fks_config *cfg)
{
	const struct fks_bus_cfg *b = &cfg->bus;
	if (!b->url[0] || !b->creds_file[0])
		return 0;
	char secret[SECRET_MAX];
	size_t len;
	int rc = secret_from_file(b->creds_file, secret, sizeof secret, &len);
	secret_wipe(secret, sizeof secret);
	/* A .creds file holds a JWT and a seed: longer than SECRET_MAX is fine. */
	if (rc && rc != SECRET_TOO_LONG)
		return cfg_fail_field(ld, b->creds_file, "\"%s\": %s", b->creds_file, secret_strerror(rc));
	return 0;
}
