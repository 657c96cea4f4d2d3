/*
 * The metrics section: where the supervisor serves the Prometheus exporter.
 * The address is checked at load, at its line and column, so a typo stops
 * `fks run` before anything starts instead of after the stages are up.
 */
#include "pipeline/config/config_int.h"

#include <arpa/inet.h>
#include <stdlib.h>

int config_split_listen(const char *text, char *host, size_t cap, uint16_t *port, const char **why)
{
	const char *colon = strrchr(text, ':');
	const char *h = text;
	size_t hlen;
	if (!colon) {
		*why = "expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464";
		return -1;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close + 1 != colon) {
			*why = "an IPv6 address goes in brackets: [::1]:9464";
			return -1;
		}
		h = text + 1;
		hlen = (size_t)(close - h);
	} else {
		hlen = (size_t)(colon - text);
		if (memchr(text, ':', hlen)) {
			*why = "an IPv6 address goes in brackets: [::1]:9464";
			return -1;
		}
	}
	if (!hlen || hlen >= cap) {
		*why = "expected a host address before the ':'";
		return -1;
	}
	const char *p = colon + 1;
	char *end;
	unsigned long v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
	if (!(*p >= '0' && *p <= '9') || *end || v > 65535 || end - p > 5) {
		*why = "expected a port 0..65535 after the ':'";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = 0;
	*port = (uint16_t)v;
	return 0;
}

int cfg_check_metrics(struct loader *ld, const struct fks_config *cfg)
{
	const char *listen = cfg->metrics.listen;
	if (!listen[0])
		return cfg_find_mark(ld, listen) ? cfg_fail_field(ld, listen, "must not be empty (leave metrics out "
								  "to run without the exporter)") : 0;
	char host[FKS_LISTEN_MAX];
	uint16_t port;
	const char *why;
	if (config_split_listen(listen, host, sizeof host, &port, &why))
		return cfg_fail_field(ld, listen, "\"%s\": %s", listen, why);
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		return cfg_fail_field(ld, listen, "\"%s\": %s is not an IP address (the exporter binds a literal "
					   "address, e.g. 127.0.0.1 or 0.0.0.0)", listen, host);
	return 0;
}
