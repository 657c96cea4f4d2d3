/* A nonblocking TCP listener (tcp_listen.h). */
#include "feeds/net/tcp_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* addr as an IPv4 or IPv6 literal into ss; its length, 0 if neither. */
static socklen_t parse_literal(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		return sizeof *v4;
	}
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		return sizeof *v6;
	}
	return 0;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int tcp_listen_open(struct tcp_listener *l, const char *addr, uint16_t port, int backlog, char *err,
		    size_t errlen)
{
	l->fd = -1;
	l->port = 0;
	struct sockaddr_storage ss;
	socklen_t len = addr ? parse_literal(addr, port, &ss) : 0;
	if (!len) {
		snprintf(err, errlen, "listen address \"%s\": expected an IPv4 or IPv6 literal", addr ? addr : "");
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		snprintf(err, errlen, "bind %s:%u: %s", addr, (unsigned)port, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog > 0 ? backlog : 16)) {
		snprintf(err, errlen, "listen %s:%u: %s", addr, (unsigned)port, strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->port = bound_port(fd);
	return 0;
}

int tcp_listen_accept(struct tcp_listener *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

void tcp_listen_close(struct tcp_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
