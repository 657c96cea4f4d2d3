/*
 * A nonblocking TCP listener, for the ingress endpoints that take
 * connections (the webhook ingress) and for the loopback test servers.
 *
 *   tcp_listen_open(&l, "127.0.0.1", 0, 16, err, errlen)   port 0: any free port
 *   l.port                                                 the port bound
 *   fd = tcp_listen_accept(&l)   a nonblocking, close-on-exec connection;
 *                                -1 with errno EAGAIN when none is waiting
 *   tcp_listen_close(&l)
 *
 * The listening socket is nonblocking and close-on-exec, with SO_REUSEADDR
 * so a restarted process can bind again while old connections sit in
 * TIME_WAIT.  Only IPv4 and IPv6 literals are accepted as the address (no
 * name resolution: a listener binds where it is told).
 */
#ifndef FKS_FEEDS_NET_TCP_LISTEN_H
#define FKS_FEEDS_NET_TCP_LISTEN_H

#include <stddef.h>
#include <stdint.h>

struct tcp_listener {
	int fd;          /* -1 when closed */
	uint16_t port;   /* the bound port (the kernel's choice when 0 was asked) */
};

/* 0, or -1 with the reason in err (a bad address, bind or listen failed). */
int tcp_listen_open(struct tcp_listener *l, const char *addr, uint16_t port, int backlog, char *err,
		    size_t errlen);

/* A connected socket (nonblocking, close-on-exec, TCP_NODELAY), or -1 with
 * errno set (EAGAIN / EWOULDBLOCK: nobody is waiting). */
int tcp_listen_accept(struct tcp_listener *l);

void tcp_listen_close(struct tcp_listener *l);

#endif
