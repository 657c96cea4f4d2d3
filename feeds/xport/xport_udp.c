/*
 * UDP receive: io_uring multishot recvmsg over a provided buffer ring, or
 * recvmmsg.  See xport_udp.h.
 */
#include "feeds/xport/xport_udp.h"
#include "shm/clock.h"

#include "feeds/xport/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define BGID 7               /* our buffer group id */
#define MMSG_BATCH 64
/* Control space: a timespec stamp and the drop counter. */
#define CTRL_LEN (CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)))

static const char *const udp_err_name[XPORT_UDP_E_N] = {
	[XPORT_UDP_E_TRUNCATED] = "truncated",
	[XPORT_UDP_E_NOBUFS] = "nobufs",
	[XPORT_UDP_E_RECV_ERROR] = "recv_error",
	[XPORT_UDP_E_KERNEL_DROPS] = "kernel_drops",
};

struct xport_udp_impl {
	unsigned buf_size, n_bufs;
	/* multishot */
	bool ring_up, armed;
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	uint8_t *slab;           /* n_bufs buffers of stride bytes */
	size_t stride, slab_bytes;
	struct msghdr tmpl;      /* what the multishot recvmsg lays out per buffer */
	/* recvmmsg */
	struct mmsghdr mm[MMSG_BATCH];
	struct iovec iov[MMSG_BATCH];
	uint8_t ctrl[MMSG_BATCH][CTRL_LEN] __attribute__((aligned(8)));
	unsigned mm_n, mm_next;  /* batch held, next to deliver */
	/* realtime -> monotonic for kernel stamps, read once per batch */
	int64_t mono_now, real_minus_mono;
	uint64_t delivered_total;
};

static void count_err(struct xport_udp *x, enum xport_udp_err e)
{
	x->err[e].n++;
	x->stats.errors++;
}

static void batch_clock(struct xport_udp_impl *m)
{
	m->mono_now = clock_mono_ns();
	m->real_minus_mono = clock_real_ns() - m->mono_now;
}

/* Read the control messages of one datagram: its kernel stamp (as
 * monotonic ns, or 0) and the socket's cumulative drop count. */
static int64_t read_cmsg(struct xport_udp *x, struct cmsghdr *c, struct cmsghdr *(*next)(void *, struct cmsghdr *),
			 void *it)
{
	int64_t stamp = 0;
	for (; c; c = next(it, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SO_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof ts);
			int64_t real = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			stamp = real - x->impl->real_minus_mono;
			/* a clock step between arrival and our read must not
			 * put the arrival in the future */
			if (stamp > x->impl->mono_now || stamp <= 0)
				stamp = x->impl->mono_now;
		} else if (c->cmsg_type == SO_RXQ_OVFL && c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			uint32_t drops;
			memcpy(&drops, CMSG_DATA(c), sizeof drops);
			/* cumulative and 32-bit: count what is new */
			uint64_t seen = x->err[XPORT_UDP_E_KERNEL_DROPS].n;
			uint32_t fresh = drops - (uint32_t)seen;
			x->err[XPORT_UDP_E_KERNEL_DROPS].n += fresh;
			x->stats.errors += fresh;
		}
	}
	x->kernel_stamp = stamp != 0;
	return stamp != 0 ? stamp : clock_mono_ns();
}

/* ---- socket ------------------------------------------------------------ */

static int fail(struct xport_udp *x, const char *what, int err)
{
	snprintf(x->errbuf, sizeof x->errbuf, "%s: %s", what, strerror(err));
	return -1;
}

static int open_socket(struct xport_udp *x, const struct xport_udp_opts *o)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(x, "socket", errno);
	x->fd = fd;
	int one = 1, zero = 0;
	/* several feed handlers (A and B lines, a recorder) share the port */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (o->rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &o->rcvbuf, sizeof o->rcvbuf) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof o->rcvbuf); /* capped by rmem_max */
	if (!o->no_kernel_timestamps)
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	int n_groups = 0;
	while (n_groups < XPORT_UDP_MAX_GROUPS && o->groups[n_groups])
		n_groups++;
	const char *bind_to = n_groups == 1 ? o->groups[0] : n_groups > 1 ? NULL : o->bind_addr;
	if (bind_to && inet_pton(AF_INET, bind_to, &sa.sin_addr) != 1) {
		snprintf(x->errbuf, sizeof x->errbuf, "bad IPv4 address '%s'", bind_to);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return fail(x, "bind", errno);
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	x->port = ntohs(sa.sin_port);

	if (n_groups > 0) {
		unsigned ifindex = 0;
		if (o->iface && !(ifindex = if_nametoindex(o->iface)))
			return fail(x, o->iface, errno);
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
		for (int i = 0; i < n_groups; i++) {
			struct ip_mreqn mr = { .imr_ifindex = (int)ifindex };
			if (inet_pton(AF_INET, o->groups[i], &mr.imr_multiaddr) != 1) {
				snprintf(x->errbuf, sizeof x->errbuf, "bad group address '%s'", o->groups[i]);
				return -1;
			}
			if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
				char what[96];
				snprintf(what, sizeof what, "IP_ADD_MEMBERSHIP %s on %s", o->groups[i],
					 o->iface ? o->iface : "(default)");
				return fail(x, what, errno);
			}
		}
	}
	return 0;
}

/* ---- multishot --------------------------------------------------------- */

static void ms_teardown(struct xport_udp_impl *m)
{
	if (m->ring_up)
		io_uring_queue_exit(&m->ring); /* also unregisters the buffer ring */
	m->ring_up = false;
	if (m->br)
		munmap(m->br, m->br_bytes);
	m->br = NULL;
	if (m->slab)
		munmap(m->slab, m->slab_bytes);
	m->slab = NULL;
}

static void ms_arm(struct xport_udp *x)
{
	struct xport_udp_impl *m = x->impl;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&m->ring);
	io_uring_prep_recvmsg_multishot(sqe, x->fd, &m->tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_submit(&m->ring);
	m->armed = true;
}

/* Returns 0, or a negative errno that says the kernel cannot do it. */
static int ms_setup(struct xport_udp *x)
{
	struct xport_udp_impl *m = x->impl;
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE, .cq_entries = 2 * m->n_bufs };
	int rc = io_uring_queue_init_params(8, &m->ring, &p);
	if (rc < 0)
		return rc;
	m->ring_up = true;

	struct io_uring_probe *probe = io_uring_get_probe_ring(&m->ring);
	bool has_recvmsg = probe && io_uring_opcode_supported(probe, IORING_OP_RECVMSG);
	io_uring_free_probe(probe);
	if (!has_recvmsg)
		return -EOPNOTSUPP;

	m->br_bytes = (size_t)m->n_bufs * sizeof(struct io_uring_buf);
	void *br = mmap(NULL, m->br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		return -errno;
	m->br = br;
	m->tmpl = (struct msghdr){ .msg_namelen = 0, .msg_controllen = CTRL_LEN };
	m->stride = sizeof(struct io_uring_recvmsg_out) + CTRL_LEN + m->buf_size;
	m->stride = (m->stride + 7) & ~(size_t)7; /* keeps each header aligned */
	m->slab_bytes = m->stride * m->n_bufs;
	void *slab = mmap(NULL, m->slab_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slab == MAP_FAILED)
		return -errno;
	m->slab = slab;

	struct io_uring_buf_reg reg = { .ring_addr = (uintptr_t)m->br, .ring_entries = m->n_bufs, .bgid = BGID };
	rc = io_uring_register_buf_ring(&m->ring, &reg, 0);
	if (rc < 0)
		return rc;
	io_uring_buf_ring_init(m->br);
	int mask = io_uring_buf_ring_mask(m->n_bufs);
	for (unsigned i = 0; i < m->n_bufs; i++)
		io_uring_buf_ring_add(m->br, m->slab + i * m->stride, (unsigned)m->stride, (unsigned short)i, mask,
				      (int)i);
	io_uring_buf_ring_advance(m->br, (int)m->n_bufs);
	ms_arm(x);
	return 0;
}

static void ms_recycle(struct xport_udp_impl *m, unsigned bid)
{
	io_uring_buf_ring_add(m->br, m->slab + bid * m->stride, (unsigned)m->stride, (unsigned short)bid,
			      io_uring_buf_ring_mask(m->n_bufs), 0);
	io_uring_buf_ring_advance(m->br, 1);
}

static struct cmsghdr *ms_cmsg_next(void *it, struct cmsghdr *c)
{
	struct io_uring_recvmsg_out *o = it;
	/* tmpl is the same for every buffer; only its lengths are read */
	static const struct msghdr shape = { .msg_namelen = 0, .msg_controllen = CTRL_LEN };
	return io_uring_recvmsg_cmsg_nexthdr(o, (struct msghdr *)&shape, c);
}

static int mm_setup(struct xport_udp *x);
static int mm_poll(struct xport_udp *x, int timeout_ms, xport_deliver_fn fn, void *ctx);

static int ms_poll(struct xport_udp *x, int timeout_ms, xport_deliver_fn fn, void *ctx)
{
	struct xport_udp_impl *m = x->impl;
	struct io_uring_cqe *cqe;
	int delivered = 0;

	if (!m->armed)
		ms_arm(x);
	if (io_uring_peek_cqe(&m->ring, &cqe) != 0) {
		if (timeout_ms == 0)
			return 0;
		int rc;
		if (timeout_ms < 0) {
			rc = io_uring_wait_cqe(&m->ring, &cqe);
		} else {
			struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000,
							.tv_nsec = (long long)(timeout_ms % 1000) * 1000000 };
			rc = io_uring_wait_cqe_timeout(&m->ring, &cqe, &ts);
		}
		if (rc == -ETIME || rc == -EINTR)
			return 0;
		if (rc < 0)
			return fail(x, "io_uring_wait_cqe", -rc);
	}
	batch_clock(m);
	while (io_uring_peek_cqe(&m->ring, &cqe) == 0) {
		int res = cqe->res;
		unsigned flags = cqe->flags;
		if (!(flags & IORING_CQE_F_MORE))
			m->armed = false;
		if (res < 0) {
			io_uring_cqe_seen(&m->ring, cqe);
			if (res == -EINVAL && m->delivered_total == 0 &&
			    !(flags & IORING_CQE_F_BUFFER)) {
				/* the kernel has buffer rings but not multishot
				 * recvmsg (5.19): fall back, once, before any data */
				snprintf(x->why_fallback, sizeof x->why_fallback,
					 "multishot recvmsg: EINVAL (kernel before 6.0)");
				ms_teardown(m);
				if (mm_setup(x) < 0)
					return -1;
				return delivered + mm_poll(x, timeout_ms, fn, ctx);
			}
			if (res == -ENOBUFS) {
				count_err(x, XPORT_UDP_E_NOBUFS);
			} else {
				count_err(x, XPORT_UDP_E_RECV_ERROR);
				snprintf(x->errbuf, sizeof x->errbuf, "multishot recvmsg: %s", strerror(-res));
			}
			if (!m->armed)
				ms_arm(x);
			continue;
		}
		unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *buf = m->slab + (size_t)bid * m->stride;
		struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &m->tmpl);
		int stop = 0;
		if (!o) {
			count_err(x, XPORT_UDP_E_RECV_ERROR);
		} else {
			int64_t recv_ns = read_cmsg(x, io_uring_recvmsg_cmsg_firsthdr(o, &m->tmpl), ms_cmsg_next, o);
			if (o->flags & MSG_TRUNC) {
				count_err(x, XPORT_UDP_E_TRUNCATED);
			} else {
				const uint8_t *payload = io_uring_recvmsg_payload(o, &m->tmpl);
				size_t len = io_uring_recvmsg_payload_length(o, res, &m->tmpl);
				x->stats.messages++;
				x->stats.bytes += len;
				x->stats.input_bytes += len;
				m->delivered_total++;
				delivered++;
				stop = fn(ctx, payload, len, recv_ns);
			}
		}
		ms_recycle(m, bid);
		io_uring_cqe_seen(&m->ring, cqe);
		if (!m->armed)
			ms_arm(x);
		if (stop)
			break;
	}
	return delivered;
}

/* ---- recvmmsg ---------------------------------------------------------- */

static int mm_setup(struct xport_udp *x)
{
	struct xport_udp_impl *m = x->impl;
	m->slab_bytes = (size_t)MMSG_BATCH * m->buf_size;
	void *slab = mmap(NULL, m->slab_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slab == MAP_FAILED)
		return fail(x, "mmap", errno);
	m->slab = slab;
	for (unsigned i = 0; i < MMSG_BATCH; i++)
		m->iov[i] = (struct iovec){ .iov_base = m->slab + (size_t)i * m->buf_size, .iov_len = m->buf_size };
	x->path = XPORT_UDP_PATH_RECVMMSG;
	return 0;
}

static struct cmsghdr *mm_cmsg_next(void *it, struct cmsghdr *c)
{
	return CMSG_NXTHDR((struct msghdr *)it, c);
}

static int mm_poll(struct xport_udp *x, int timeout_ms, xport_deliver_fn fn, void *ctx)
{
	struct xport_udp_impl *m = x->impl;
	int delivered = 0;

	if (m->mm_next == m->mm_n) {
		for (int tries = 0;; tries++) {
			for (unsigned i = 0; i < MMSG_BATCH; i++)
				m->mm[i].msg_hdr = (struct msghdr){ .msg_iov = &m->iov[i],
								    .msg_iovlen = 1,
								    .msg_control = m->ctrl[i],
								    .msg_controllen = CTRL_LEN };
			int n = recvmmsg(x->fd, m->mm, MMSG_BATCH, MSG_DONTWAIT, NULL);
			if (n > 0) {
				m->mm_n = (unsigned)n;
				m->mm_next = 0;
				break;
			}
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				count_err(x, XPORT_UDP_E_RECV_ERROR);
				snprintf(x->errbuf, sizeof x->errbuf, "recvmmsg: %s", strerror(errno));
				return 0;
			}
			if (timeout_ms == 0 || tries > 0)
				return 0;
			struct pollfd pfd = { .fd = x->fd, .events = POLLIN };
			if (poll(&pfd, 1, timeout_ms) <= 0)
				return 0;
		}
		batch_clock(m);
	}
	while (m->mm_next < m->mm_n) {
		struct mmsghdr *h = &m->mm[m->mm_next];
		const uint8_t *payload = m->iov[m->mm_next].iov_base;
		m->mm_next++;
		int64_t recv_ns = read_cmsg(x, CMSG_FIRSTHDR(&h->msg_hdr), mm_cmsg_next, &h->msg_hdr);
		if (h->msg_hdr.msg_flags & MSG_TRUNC) {
			count_err(x, XPORT_UDP_E_TRUNCATED);
			continue;
		}
		x->stats.messages++;
		x->stats.bytes += h->msg_len;
		x->stats.input_bytes += h->msg_len;
		m->delivered_total++;
		delivered++;
		if (fn(ctx, payload, h->msg_len, recv_ns) != 0)
			break;
	}
	return delivered;
}

/* ---- public ------------------------------------------------------------ */

int xport_udp_open(struct xport_udp *x, const struct xport_udp_opts *o)
{
	memset(x, 0, sizeof *x);
	x->fd = -1;
	for (int i = 0; i < XPORT_UDP_E_N; i++)
		x->err[i].name = udp_err_name[i];
	unsigned n_bufs = o->n_bufs ? o->n_bufs : 256;
	unsigned buf_size = o->buf_size ? o->buf_size : 2048;
	if ((n_bufs & (n_bufs - 1)) || n_bufs > 32768 || buf_size > 65536) {
		snprintf(x->errbuf, sizeof x->errbuf, "n_bufs must be a power of two <= 32768, buf_size <= 65536");
		return -1;
	}
	x->impl = calloc(1, sizeof *x->impl);
	if (!x->impl)
		return fail(x, "calloc", ENOMEM);
	x->impl->n_bufs = n_bufs;
	x->impl->buf_size = buf_size;
	if (open_socket(x, o) < 0)
		goto err;

	if (o->mode != XPORT_UDP_RECVMMSG) {
		int rc = ms_setup(x);
		if (rc == 0) {
			x->path = XPORT_UDP_PATH_MULTISHOT;
			return 0;
		}
		ms_teardown(x->impl);
		if (o->mode == XPORT_UDP_MULTISHOT) {
			fail(x, "io_uring multishot set-up", -rc);
			goto err;
		}
		snprintf(x->why_fallback, sizeof x->why_fallback, "io_uring set-up: %s", strerror(-rc));
	}
	if (mm_setup(x) == 0)
		return 0;
err:
	xport_udp_close(x);
	return -1;
}

void xport_udp_close(struct xport_udp *x)
{
	if (x->impl) {
		ms_teardown(x->impl);
		free(x->impl);
		x->impl = NULL;
	}
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->path = XPORT_UDP_PATH_NONE;
}

int xport_udp_poll(struct xport_udp *x, int timeout_ms, xport_deliver_fn fn, void *ctx)
{
	switch (x->path) {
	case XPORT_UDP_PATH_MULTISHOT:
		return ms_poll(x, timeout_ms, fn, ctx);
	case XPORT_UDP_PATH_RECVMMSG:
		return mm_poll(x, timeout_ms, fn, ctx);
	default:
		snprintf(x->errbuf, sizeof x->errbuf, "not open");
		return -1;
	}
}

const char *xport_udp_path_name(const struct xport_udp *x)
{
	switch (x->path) {
	case XPORT_UDP_PATH_MULTISHOT:
		return "io_uring multishot recvmsg, provided buffer ring";
	case XPORT_UDP_PATH_RECVMMSG:
		return "recvmmsg";
	default:
		return "closed";
	}
}

const char *xport_udp_stamp_name(const struct xport_udp *x)
{
	return x->kernel_stamp ? "kernel SO_TIMESTAMPNS" : "clock_gettime after completion";
}

size_t xport_udp_errors(const struct xport_udp *x, const struct named_counter **out)
{
	*out = x->err;
	return XPORT_UDP_E_N;
}

/* ---- ops table (feeds/xport/transport.h) ---------------------------------- */

struct udp_feed {
	struct xport_udp x;
	xport_deliver_fn deliver;
	void *ctx;
	char err[320];
};

static bool is_multicast(const char *host)
{
	struct in_addr a;
	return inet_pton(AF_INET, host, &a) == 1 && IN_MULTICAST(ntohl(a.s_addr));
}

static void *udp_open_op(const struct feed_xport_params *p, char *err, size_t errlen)
{
	struct xport_udp_opts o = { 0 };
	char host[64];
	if (feed_xport_split_addr(p->address, host, sizeof host, &o.port)) {
		snprintf(err, errlen, "feed.address \"%s\": expected ipv4:port (a multicast group or a local address)",
			 p->address);
		return NULL;
	}
	if (is_multicast(host)) {
		o.groups[0] = host;
		o.iface = p->interface && p->interface[0] ? p->interface : NULL;
	} else {
		o.bind_addr = host;
	}
	struct udp_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (xport_udp_open(&f->x, &o)) {
		snprintf(err, errlen, "udp %s: %s", p->address, f->x.errbuf);
		free(f);
		return NULL;
	}
	f->deliver = p->deliver;
	f->ctx = p->ctx;
	return f;
}

static void udp_close_op(void *x)
{
	xport_udp_close(&((struct udp_feed *)x)->x);
	free(x);
}

static int udp_poll_op(void *x, int timeout_ms)
{
	struct udp_feed *f = x;
	if (xport_udp_poll(&f->x, timeout_ms, f->deliver, f->ctx) < 0) {
		snprintf(f->err, sizeof f->err, "udp: %s", f->x.errbuf);
		return -1;
	}
	return 1;
}

static const char *udp_error_op(const void *x) { return ((const struct udp_feed *)x)->err; }

static size_t udp_counters_op(void *x, struct named_counter *out, size_t cap)
{
	const struct named_counter *c;
	size_t k = xport_udp_errors(&((struct udp_feed *)x)->x, &c);
	return feed_counter_put_all(out, cap, 0, c, k, 0);
}

const struct feed_xport_ops xport_udp_ops = {
	.name = "udp",
	.packets = true,
	.open = udp_open_op,
	.close = udp_close_op,
	.poll = udp_poll_op,
	.error = udp_error_op,
	.counters = udp_counters_op,
};
