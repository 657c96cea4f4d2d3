#include "pipeline/notify/notify_url.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feeds/net/secret.h"

/* The host of "scheme://host[:port]/..." is one of the loopback names. */
static bool host_is_loopback(const char *hostport)
{
	size_t n = strcspn(hostport, "/?#");
	if (n >= 5 && !strncmp(hostport, "[::1]", 5))
		return n == 5 || hostport[5] == ':';
	size_t h = strcspn(hostport, ":/?#");
	if (h == 9 && !strncasecmp(hostport, "localhost", 9))
		return true;
	return h >= 4 && !strncmp(hostport, "127.", 4) && strspn(hostport, "0123456789.") == h;
}

int notify_url_check(const char *url, char *why, size_t cap)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f) {
			snprintf(why, cap, "it holds a space or a control character");
			return -1;
		}
	const char *rest;
	if (!strncasecmp(url, "https://", 8)) {
		rest = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		rest = url + 7;
		if (!host_is_loopback(rest)) {
			snprintf(why, cap, "plain http:// is allowed only to a loopback address; use https://");
			return -1;
		}
	} else {
		snprintf(why, cap, "it must start with https://");
		return -1;
	}
	if (!rest[0] || strchr("/?#:", rest[0])) {
		snprintf(why, cap, "it has no host");
		return -1;
	}
	return 0;
}

int notify_url_read(const struct fks_notify_target_cfg *t, char *out, size_t cap, char *why, size_t whycap)
{
	size_t len;
	bool env = t->url_env[0] != '\0';
	const char *from = env ? t->url_env : t->url_file;
	int rc = env ? secret_from_env(from, out, cap, &len) : secret_from_file(from, out, cap, &len);
	if (rc) {
		snprintf(why, whycap, "%s%s: %s", env ? "$" : "", from, secret_strerror(rc));
		return -1;
	}
	char bad[128];
	if (notify_url_check(out, bad, sizeof bad)) {
		secret_wipe(out, cap);
		snprintf(why, whycap, "the URL in %s%s: %s", env ? "$" : "", from, bad);
		return -1;
	}
	return 0;
}
