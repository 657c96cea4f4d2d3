/* feeds/net/tcp_listen: bind, listen and accept on loopback, nonblocking. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "feeds/net/tcp_listen.h"

static int connect_loopback(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s", strerror(errno));
	return fd;
}

Test(tcp_listen, port_zero_binds_a_free_port_and_accept_is_nonblocking)
{
	struct tcp_listener l;
	char err[128];
	cr_assert_eq(tcp_listen_open(&l, "127.0.0.1", 0, 4, err, sizeof err), 0, "%s", err);
	cr_assert_neq(l.port, 0);
	cr_assert(fcntl(l.fd, F_GETFL) & O_NONBLOCK);
	errno = 0;
	cr_assert_eq(tcp_listen_accept(&l), -1, "nobody connected yet");
	cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "errno %d", errno);
	tcp_listen_close(&l);
	cr_assert_eq(l.fd, -1);
}

Test(tcp_listen, accepts_a_connection_and_carries_bytes)
{
	struct tcp_listener l;
	char err[128];
	cr_assert_eq(tcp_listen_open(&l, "127.0.0.1", 0, 4, err, sizeof err), 0, "%s", err);
	int c = connect_loopback(l.port);
	struct pollfd p = { .fd = l.fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 5000), 1, "the listener never became readable");
	int s = tcp_listen_accept(&l);
	cr_assert(s >= 0, "accept: %s", strerror(errno));
	cr_assert(fcntl(s, F_GETFL) & O_NONBLOCK, "accepted sockets are nonblocking");
	cr_assert(fcntl(s, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(write(c, "ping", 4), 4);
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 5000), 1);
	char buf[8] = { 0 };
	cr_assert_eq(read(s, buf, sizeof buf), 4);
	cr_assert_str_eq(buf, "ping");
	close(s);
	close(c);
	tcp_listen_close(&l);
}

Test(tcp_listen, ipv6_loopback)
{
	struct tcp_listener l;
	char err[128];
	if (tcp_listen_open(&l, "::1", 0, 4, err, sizeof err))
		cr_skip_test("no IPv6 loopback here: %s", err);
	cr_assert_neq(l.port, 0);
	tcp_listen_close(&l);
}

Test(tcp_listen, refuses_a_name_and_a_port_in_use)
{
	struct tcp_listener l, again;
	char err[128];
	cr_assert_eq(tcp_listen_open(&l, "localhost", 0, 4, err, sizeof err), -1);
	cr_assert(strstr(err, "IPv4 or IPv6 literal"), "%s", err);
	cr_assert_eq(l.fd, -1);
	cr_assert_eq(tcp_listen_open(&l, "127.0.0.1", 0, 4, err, sizeof err), 0, "%s", err);
	cr_assert_eq(tcp_listen_open(&again, "127.0.0.1", l.port, 4, err, sizeof err), -1,
		     "a second listener on the same port");
	cr_assert(strstr(err, "bind"), "%s", err);
	tcp_listen_close(&l);
}
