/*
 * File replay of raw length-prefixed and JSON-lines recordings.  See
 * xport_file.h for the formats and the counters.
 */
#include "feeds/xport/xport_file.h"
#include "shm/clock.h"

#include "feeds/xport/transport.h"
#include <stdio.h>
#include <stdlib.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const file_err_name[XPORT_FILE_E_N] = {
	[XPORT_FILE_E_TRUNCATED] = "truncated",
	[XPORT_FILE_E_UNKNOWN_TYPE] = "unknown_type",
	[XPORT_FILE_E_BAD_TIMESTAMP] = "bad_timestamp",
	[XPORT_FILE_E_BACKWARDS] = "backwards",
	[XPORT_FILE_E_TIME_JUMP] = "time_jump",
};

static int file_init(struct xport_file *x, const struct xport_file_opts *o)
{
	memset(x, 0, sizeof *x);
	if (o->format != XPORT_FILE_RAW && o->format != XPORT_FILE_JSONL)
		return -EINVAL;
	if (!(o->speed >= 0)) /* also rejects NaN */
		return -EINVAL;
	x->o = *o;
	x->rec_ns = XPORT_NO_TIME;
	xport_pacer_init(&x->pacer, o->speed, o->max_gap_ns);
	for (int i = 0; i < XPORT_FILE_E_N; i++)
		x->err[i].name = file_err_name[i];
	return 0;
}

int xport_file_open_mem(struct xport_file *x, const void *buf, size_t len,
			const struct xport_file_opts *o)
{
	int rc = file_init(x, o);
	if (rc < 0)
		return rc;
	x->base = buf;
	x->size = len;
	return 0;
}

int xport_file_open(struct xport_file *x, const char *path, const struct xport_file_opts *o)
{
	int rc = file_init(x, o);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	x->size = (size_t)st.st_size;
	if (x->size > 0) {
		/* MAP_POPULATE would read a whole multi-GB day up front; the
		 * sequential hint gets the kernel to read ahead instead. */
		void *p = mmap(NULL, x->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			rc = -errno;
			close(fd);
			return rc;
		}
		madvise(p, x->size, MADV_SEQUENTIAL);
		x->base = p;
		x->mapped = true;
	}
	close(fd);
	return 0;
}

void xport_file_close(struct xport_file *x)
{
	if (x->mapped)
		munmap((void *)x->base, x->size);
	x->base = NULL;
	x->mapped = false;
}

size_t xport_file_errors(const struct xport_file *x, const struct named_counter **out)
{
	*out = x->err;
	return XPORT_FILE_E_N;
}

static void count_err(struct xport_file *x, enum xport_file_err e)
{
	x->err[e].n++;
	x->stats.errors++;
}

/* Pace (or not) by the recorded time, then hand the message over. */
static int deliver(struct xport_file *x, const uint8_t *msg, size_t len, int64_t rec_ns,
		   xport_deliver_fn fn, void *ctx)
{
	x->rec_ns = rec_ns;
	if (rec_ns != XPORT_NO_TIME) {
		uint64_t before = x->pacer.backwards, jumps = x->pacer.jumps;
		xport_pacer_wait(&x->pacer, rec_ns);
		if (x->pacer.backwards != before)
			count_err(x, XPORT_FILE_E_BACKWARDS);
		if (x->pacer.jumps != jumps)
			count_err(x, XPORT_FILE_E_TIME_JUMP);
	}
	x->stats.messages++;
	x->stats.bytes += len;
	return fn(ctx, msg, len, clock_mono_ns());
}

static int run_raw(struct xport_file *x, xport_deliver_fn fn, void *ctx)
{
	while (!x->done) {
		size_t left = x->size - x->off;
		if (left == 0) {
			x->done = true;
			break;
		}
		const uint8_t *p = x->base + x->off;
		if (left < 2) {
			count_err(x, XPORT_FILE_E_TRUNCATED);
			x->done = true;
			break;
		}
		size_t len = (size_t)p[0] << 8 | p[1];
		if (len == 0) {
			if (left < 3) {
				count_err(x, XPORT_FILE_E_TRUNCATED);
				x->done = true;
				break;
			}
			len = x->o.size_of_type ? x->o.size_of_type(p[2]) : 0;
			if (len == 0) {
				count_err(x, XPORT_FILE_E_UNKNOWN_TYPE);
				x->done = true;
				break;
			}
		}
		if (left - 2 < len) {
			count_err(x, XPORT_FILE_E_TRUNCATED);
			x->done = true;
			break;
		}
		const uint8_t *msg = p + 2;
		x->off += 2 + len;
		x->stats.input_bytes = x->off;
		int64_t rec = x->o.record_ns ? x->o.record_ns(x->o.record_ctx, msg, len) : XPORT_NO_TIME;
		if (deliver(x, msg, len, rec, fn, ctx) != 0)
			return 1;
	}
	return 0;
}

/* "digits TAB" at the start of a line: returns the bytes it takes (0 when
 * the line has no timestamp) and sets *ts, or XPORT_NO_TIME on overflow. */
static size_t jsonl_timestamp(const uint8_t *p, size_t n, int64_t *ts)
{
	size_t i = 0;
	while (i < n && i < 20 && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == 0 || i >= n || p[i] != '\t')
		return 0;
	if (i > 19) {
		*ts = XPORT_NO_TIME;
		return i + 1;
	}
	uint64_t v = 0;
	for (size_t k = 0; k < i; k++)
		v = v * 10 + (uint64_t)(p[k] - '0'); /* 19 digits fit in uint64 */
	*ts = v > (uint64_t)INT64_MAX ? XPORT_NO_TIME : (int64_t)v;
	return i + 1;
}

static int run_jsonl(struct xport_file *x, xport_deliver_fn fn, void *ctx)
{
	while (!x->done) {
		size_t left = x->size - x->off;
		if (left == 0) {
			x->done = true;
			break;
		}
		const uint8_t *p = x->base + x->off;
		const uint8_t *nl = memchr(p, '\n', left);
		if (!nl) {
			/* A recorder killed mid-write leaves a partial line;
			 * a decoder would only reject it less precisely. */
			count_err(x, XPORT_FILE_E_TRUNCATED);
			x->done = true;
			break;
		}
		size_t n = (size_t)(nl - p);
		x->off += n + 1;
		x->stats.input_bytes = x->off;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		int64_t ts = XPORT_NO_TIME;
		size_t skip = jsonl_timestamp(p, n, &ts);
		if (skip > 0 && ts == XPORT_NO_TIME)
			count_err(x, XPORT_FILE_E_BAD_TIMESTAMP);
		if (n == skip) {
			x->stats.skipped++;
			continue;
		}
		if (deliver(x, p + skip, n - skip, ts, fn, ctx) != 0)
			return 1;
	}
	return 0;
}

int xport_file_run(struct xport_file *x, xport_deliver_fn fn, void *ctx)
{
	return x->o.format == XPORT_FILE_RAW ? run_raw(x, fn, ctx) : run_jsonl(x, fn, ctx);
}

/* ---- ops table (feeds/xport/transport.h) ---------------------------------- */

struct file_feed {
	struct xport_file x;
	xport_deliver_fn deliver;
	void *ctx;
};

static void *file_open_op(const struct feed_xport_params *p, char *err, size_t errlen)
{
	struct file_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* paced by the feed source, not by the transport (xport_file_opts.speed 0) */
	struct xport_file_opts o = { .format = XPORT_FILE_JSONL };
	if (p->framing == FEED_FRAMING_LENGTH_PREFIXED)
		o = (struct xport_file_opts){ .format = XPORT_FILE_RAW, .size_of_type = p->size_of_type };
	int rc = xport_file_open(&f->x, p->path, &o);
	if (rc) {
		snprintf(err, errlen, "%s: %s", p->path, strerror(-rc));
		free(f);
		return NULL;
	}
	f->deliver = p->deliver;
	f->ctx = p->ctx;
	return f;
}

static void file_close_op(void *x)
{
	xport_file_close(&((struct file_feed *)x)->x);
	free(x);
}

static int file_poll_op(void *x, int timeout_ms)
{
	(void)timeout_ms;
	struct file_feed *f = x;
	return xport_file_run(&f->x, f->deliver, f->ctx);
}

static const char *file_error_op(const void *x)
{
	(void)x;
	return "";
}

static int64_t file_record_op(const void *x) { return xport_file_record_ns(&((const struct file_feed *)x)->x); }

static size_t file_counters_op(void *x, struct named_counter *out, size_t cap)
{
	struct file_feed *f = x;
	const struct named_counter *c;
	size_t k = xport_file_errors(&f->x, &c);
	size_t n = feed_counter_put_all(out, cap, 0, c, k, 0);
	return feed_counter_put(out, cap, n, "skipped", f->x.stats.skipped);
}

static void file_progress_op(const void *x, uint64_t *done, uint64_t *total)
{
	const struct file_feed *f = x;
	*done = f->x.stats.input_bytes;
	*total = f->x.size;
}

const struct feed_xport_ops xport_file_ops = {
	.name = "file",
	.recording = true,
	.open = file_open_op,
	.close = file_close_op,
	.poll = file_poll_op,
	.error = file_error_op,
	.record_ns = file_record_op,
	.counters = file_counters_op,
	.progress = file_progress_op,
};
