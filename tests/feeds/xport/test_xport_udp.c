/*
 * UDP receive over loopback: every datagram arrives, in order, byte for
 * byte, on both paths (multishot and the forced recvmmsg fallback);
 * oversized datagrams are counted; multicast on lo when the sandbox allows.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "feeds/xport/xport_udp.h"
#include "shm/clock.h"

#define N_DGRAMS 500

struct sink {
	size_t n;
	bool in_order, bytes_ok;
	int64_t last_recv;
	bool recv_monotonic;
	int64_t before;          /* taken before the first send */
	size_t stop_after;
};

/* Datagram i: 20 + i % 300 bytes; byte j is (i * 31 + j) & 0xff, and the
 * first 4 bytes are i, big-endian (a sequence number like MoldUDP64's). */
static size_t make_dgram(uint8_t *b, uint32_t i)
{
	size_t len = 20 + i % 300;
	for (size_t j = 0; j < len; j++)
		b[j] = (uint8_t)(i * 31 + j);
	b[0] = (uint8_t)(i >> 24);
	b[1] = (uint8_t)(i >> 16);
	b[2] = (uint8_t)(i >> 8);
	b[3] = (uint8_t)i;
	return len;
}

static int sink_fn(void *ctx, const uint8_t *msg, size_t len, int64_t recv_ns)
{
	struct sink *s = ctx;
	uint8_t want[512];
	size_t wl = make_dgram(want, (uint32_t)s->n);
	if (len != wl || memcmp(msg, want, wl) != 0) {
		s->bytes_ok = false;
		uint32_t seq = len >= 4 ? (uint32_t)msg[0] << 24 | msg[1] << 16 | msg[2] << 8 | msg[3] : ~0u;
		if (seq != s->n)
			s->in_order = false;
	}
	if (recv_ns < s->before || recv_ns > clock_mono_ns() || (s->n > 0 && recv_ns < s->last_recv))
		s->recv_monotonic = false;
	s->last_recv = recv_ns;
	s->n++;
	return s->stop_after && s->n % s->stop_after == 0;
}

static int sender(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(fd >= 0);
	return fd;
}

static void send_to(int fd, const char *addr, uint16_t port, const void *b, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	cr_assert_eq(sendto(fd, b, n, 0, (struct sockaddr *)&sa, sizeof sa), (ssize_t)n, "sendto: %s",
		     strerror(errno));
}

static void drain(struct xport_udp *x, struct sink *s, size_t want)
{
	for (int idle = 0; s->n < want && idle < 20;) {
		int got = xport_udp_poll(x, 100, sink_fn, s);
		cr_assert(got >= 0, "%s", x->errbuf);
		idle = got == 0 ? idle + 1 : 0;
	}
}

/* Send in chunks that fit the socket buffer, receive after each chunk. */
static void loopback_run(enum xport_udp_mode mode, enum xport_udp_path want_path, bool kernel_stamps)
{
	struct xport_udp x;
	struct xport_udp_opts o = { .bind_addr = "127.0.0.1", .mode = mode, .n_bufs = 64, .buf_size = 1024,
				    .rcvbuf = 1 << 20, .no_kernel_timestamps = !kernel_stamps };
	int rc = xport_udp_open(&x, &o);
	cr_assert_eq(rc, 0, "%s", x.errbuf);
	cr_log_info("udp path: %s%s%s", xport_udp_path_name(&x), x.why_fallback[0] ? "; fallback because " : "",
		    x.why_fallback);
	if (mode == XPORT_UDP_AUTO && x.path != want_path)
		cr_skip_test("this kernel gives %s (%s)", xport_udp_path_name(&x), x.why_fallback);
	cr_assert_eq(x.path, want_path);
	cr_assert_neq(x.port, 0);

	int fd = sender();
	struct sink s = { .in_order = true, .bytes_ok = true, .recv_monotonic = true, .before = clock_mono_ns() };
	uint8_t b[512];
	for (uint32_t i = 0; i < N_DGRAMS; i++) {
		send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, i));
		if (i % 50 == 49)
			drain(&x, &s, i + 1);
	}
	drain(&x, &s, N_DGRAMS);
	cr_assert_eq(s.n, N_DGRAMS, "%zu of %d arrived", s.n, N_DGRAMS);
	cr_assert(s.in_order);
	cr_assert(s.bytes_ok);
	cr_assert(s.recv_monotonic);
	cr_assert_eq(x.stats.messages, N_DGRAMS);
	cr_assert_eq(x.stats.errors, 0);
	cr_assert_eq(x.kernel_stamp, kernel_stamps, "stamp: %s", xport_udp_stamp_name(&x));

	/* oversized: 1500 bytes into 1024-byte buffers, between good ones */
	uint8_t big[1500];
	memset(big, 0xab, sizeof big);
	s = (struct sink){ .in_order = true, .bytes_ok = true, .recv_monotonic = true, .before = clock_mono_ns() };
	send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, 0));
	send_to(fd, "127.0.0.1", x.port, big, sizeof big);
	send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, 1));
	drain(&x, &s, 2);
	for (int i = 0; i < 3 && xport_udp_poll(&x, 50, sink_fn, &s) >= 0;)
		i++; /* let a wrongly delivered oversize one show up */
	cr_assert_eq(s.n, 2);
	cr_assert(s.bytes_ok);
	const struct named_counter *c;
	xport_udp_errors(&x, &c);
	cr_assert_str_eq(c[XPORT_UDP_E_TRUNCATED].name, "truncated");
	cr_assert_eq(c[XPORT_UDP_E_TRUNCATED].n, 1);
	cr_assert_eq(x.stats.errors, 1);

	/* stop from the callback: the rest waits for the next poll */
	s = (struct sink){ .in_order = true, .bytes_ok = true, .recv_monotonic = true, .before = clock_mono_ns(),
			   .stop_after = 1 };
	for (uint32_t i = 0; i < 5; i++)
		send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, i));
	usleep(20000);
	cr_assert_eq(xport_udp_poll(&x, 100, sink_fn, &s), 1);
	drain(&x, &s, 5);
	cr_assert_eq(s.n, 5);
	cr_assert(s.in_order && s.bytes_ok);

	close(fd);
	xport_udp_close(&x);
}

Test(xport_udp, multishot_loopback)
{
	loopback_run(XPORT_UDP_AUTO, XPORT_UDP_PATH_MULTISHOT, true);
}

Test(xport_udp, multishot_without_kernel_stamps)
{
	loopback_run(XPORT_UDP_AUTO, XPORT_UDP_PATH_MULTISHOT, false);
}

Test(xport_udp, forced_recvmmsg_fallback)
{
	loopback_run(XPORT_UDP_RECVMMSG, XPORT_UDP_PATH_RECVMMSG, true);
}

Test(xport_udp, nonblocking_poll_returns_at_once)
{
	struct xport_udp x;
	struct xport_udp_opts o = { .bind_addr = "127.0.0.1" };
	cr_assert_eq(xport_udp_open(&x, &o), 0, "%s", x.errbuf);
	struct sink s = { .in_order = true, .bytes_ok = true };
	int64_t t0 = clock_mono_ns();
	cr_assert_eq(xport_udp_poll(&x, 0, sink_fn, &s), 0);
	cr_assert_eq(xport_udp_poll(&x, 30, sink_fn, &s), 0);
	int64_t dt = clock_mono_ns() - t0;
	cr_assert(dt >= 25000000 && dt < 1000000000, "waited %ld ns", (long)dt);
	xport_udp_close(&x);
}

Test(xport_udp, bad_options)
{
	struct xport_udp x;
	cr_assert_eq(xport_udp_open(&x, &(struct xport_udp_opts){ .n_bufs = 100 }), -1);
	cr_assert(strstr(x.errbuf, "power of two"), "%s", x.errbuf);
	cr_assert_eq(xport_udp_open(&x, &(struct xport_udp_opts){ .bind_addr = "not-an-ip" }), -1);
	cr_assert(strstr(x.errbuf, "bad IPv4"), "%s", x.errbuf);
	cr_assert_eq(xport_udp_open(&x, &(struct xport_udp_opts){ .groups = { "239.1.1.1" }, .iface = "nosuchif0" }),
		     -1);
	cr_assert(strstr(x.errbuf, "nosuchif0"), "%s", x.errbuf);
	cr_assert_eq(xport_udp_open(&x, &(struct xport_udp_opts){ .groups = { "239.1.1.1", "999.1.1.1" } }), -1);
	cr_assert(strstr(x.errbuf, "bad group"), "%s", x.errbuf);
}

Test(xport_udp, multicast_on_lo)
{
	struct xport_udp x;
	struct xport_udp_opts o = { .groups = { "239.255.77.1" }, .iface = "lo" };
	if (xport_udp_open(&x, &o) != 0)
		cr_skip_test("cannot join 239.255.77.1 on lo here: %s", x.errbuf);
	int fd = sender();
	struct in_addr lo = { .s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char loop = 1;
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo) < 0) {
		xport_udp_close(&x);
		cr_skip_test("IP_MULTICAST_IF lo: %s", strerror(errno));
	}
	struct sink s = { .in_order = true, .bytes_ok = true, .recv_monotonic = true, .before = clock_mono_ns() };
	uint8_t b[512];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(x.port) };
	inet_pton(AF_INET, "239.255.77.1", &sa.sin_addr);
	for (uint32_t i = 0; i < 20; i++) {
		size_t n = make_dgram(b, i);
		if (sendto(fd, b, n, 0, (struct sockaddr *)&sa, sizeof sa) != (ssize_t)n) {
			int e = errno;
			close(fd);
			xport_udp_close(&x);
			cr_skip_test("multicast send on lo: %s", strerror(e));
		}
	}
	drain(&x, &s, 20);
	close(fd);
	xport_udp_close(&x);
	if (s.n == 0)
		cr_skip_test("joined 239.255.77.1 on lo but nothing arrived: no multicast on lo here");
	cr_assert_eq(s.n, 20);
	cr_assert(s.in_order && s.bytes_ok);
}

/* More datagrams than buffers before the first poll: multishot runs dry
 * (nobufs), is re-armed, and the datagrams that waited in the socket still
 * arrive, all of them, in order. */
Test(xport_udp, multishot_out_of_buffers_rearms)
{
	struct xport_udp x;
	struct xport_udp_opts o = { .bind_addr = "127.0.0.1", .n_bufs = 4, .buf_size = 512, .rcvbuf = 1 << 20 };
	cr_assert_eq(xport_udp_open(&x, &o), 0, "%s", x.errbuf);
	if (x.path != XPORT_UDP_PATH_MULTISHOT)
		cr_skip_test("no multishot here: %s", x.why_fallback);
	int fd = sender();
	uint8_t b[512];
	for (uint32_t i = 0; i < 40; i++)
		send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, i));
	usleep(20000);
	struct sink s = { .in_order = true, .bytes_ok = true, .recv_monotonic = true, .before = 0 };
	drain(&x, &s, 40);
	cr_assert_eq(s.n, 40);
	cr_assert(s.in_order && s.bytes_ok);
	const struct named_counter *c;
	xport_udp_errors(&x, &c);
	cr_assert(c[XPORT_UDP_E_NOBUFS].n >= 1, "nobufs %lu", (unsigned long)c[XPORT_UDP_E_NOBUFS].n);
	cr_assert_eq(c[XPORT_UDP_E_KERNEL_DROPS].n, 0);
	close(fd);
	xport_udp_close(&x);
}

/* A socket buffer too small for a burst: the kernel drops, SO_RXQ_OVFL
 * reports it, and delivered + counted drops account for every datagram. */
static void kernel_drops(enum xport_udp_mode mode)
{
	struct xport_udp x;
	/* few buffers too: an armed multishot takes datagrams off the socket
	 * as they come, so only once it runs dry does the socket fill */
	struct xport_udp_opts o = { .bind_addr = "127.0.0.1", .mode = mode, .rcvbuf = 4096, .n_bufs = 4 };
	cr_assert_eq(xport_udp_open(&x, &o), 0, "%s", x.errbuf);
	int fd = sender();
	uint8_t b[512];
	for (uint32_t i = 0; i < 200; i++)
		send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, i));
	usleep(20000);
	struct sink s = { .in_order = true, .bytes_ok = true, .recv_monotonic = true };
	size_t got = 0;
	for (int idle = 0; idle < 3;) {
		s.n = 0; /* sequence checks do not apply across drops */
		int n = xport_udp_poll(&x, 50, sink_fn, &s);
		cr_assert(n >= 0);
		got += (size_t)n;
		idle = n ? 0 : idle + 1;
	}
	/* one more: its control message carries the final drop count */
	send_to(fd, "127.0.0.1", x.port, b, make_dgram(b, 0));
	s.n = 0;
	drain(&x, &s, 1);
	got += s.n;
	const struct named_counter *c;
	xport_udp_errors(&x, &c);
	uint64_t drops = c[XPORT_UDP_E_KERNEL_DROPS].n;
	cr_log_info("%s: delivered %zu, kernel drops %lu", xport_udp_path_name(&x), got, (unsigned long)drops);
	cr_assert(drops > 0, "a 4 KB socket buffer took 200 datagrams without a drop");
	cr_assert_eq(got + drops, 201);
	cr_assert_eq(x.stats.errors, drops + c[XPORT_UDP_E_NOBUFS].n);
	close(fd);
	xport_udp_close(&x);
}

Test(xport_udp, kernel_drops_multishot)
{
	kernel_drops(XPORT_UDP_AUTO);
}

Test(xport_udp, kernel_drops_recvmmsg)
{
	kernel_drops(XPORT_UDP_RECVMMSG);
}
