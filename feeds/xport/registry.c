/* The registry of feed transports (feeds/xport/transport.h): one line each. */
#include "feeds/xport/transport.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct feed_xport_ops xport_file_ops;
extern const struct feed_xport_ops xport_pcap_ops;
extern const struct feed_xport_ops xport_udp_ops;
extern const struct feed_xport_ops xport_dpdk_ops;
extern const struct feed_xport_ops xport_ws_ops;

#ifndef FKS_HAVE_DPDK_XPORT
/* Built without libdpdk: the name is still known, and says why it fails. */
static void *dpdk_absent_open(const struct feed_xport_params *p, char *err, size_t errlen)
{
	(void)p;
	snprintf(err, errlen, "dpdk: this fks was built without DPDK (libdpdk not found at build time)");
	return NULL;
}

const struct feed_xport_ops xport_dpdk_ops = { .name = "dpdk", .packets = true, .open = dpdk_absent_open };
#endif

static const struct feed_xport_ops *const registry[] = {
	&xport_file_ops,
	&xport_pcap_ops,
	&xport_udp_ops,
	&xport_dpdk_ops,
	&xport_ws_ops,
};

const struct feed_xport_ops *feed_xport_at(size_t i)
{
	return i < sizeof registry / sizeof *registry ? registry[i] : NULL;
}

const struct feed_xport_ops *feed_xport_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof registry / sizeof *registry; i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

int feed_xport_split_addr(const char *addr, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= cap)
		return -1;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == 0 || p == 0 || p > 65535)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) != 1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}
