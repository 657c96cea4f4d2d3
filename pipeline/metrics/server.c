/*
 * The exporter's HTTP side: libmicrohttpd with one internal thread, which
 * serialises the requests, so the view needs no lock.  The socket is bound
 * here, not by libmicrohttpd, so a refused address comes back with its
 * errno ("Address already in use") and port 0 resolves to a free port.
 */
#include "pipeline/metrics/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shm/clock.h"

struct metrics_server {
	struct MHD_Daemon *daemon;
	int fd;
	struct metrics_view view;
	char address[FKS_LISTEN_MAX + 8];
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **req)
{
	(void)version, (void)upload, (void)req;
	struct metrics_server *s = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&body, &len);
	if (!o)
		return MHD_NO;
	unsigned status = MHD_HTTP_OK;
	const char *type = "application/json";
	if (*upload_size || (strcmp(method, "GET") && strcmp(method, "HEAD"))) {
		*upload_size = 0;
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		fprintf(o, "{\"error\":\"only GET and HEAD\"}\n");
	} else if (!strcmp(url, "/metrics")) {
		metrics_view_follow(&s->view);
		type = "text/plain; version=0.0.4; charset=utf-8";
		metrics_write(&s->view, (uint64_t)clock_mono_ns(), o);
	} else if (!strcmp(url, "/health") || !strcmp(url, "/ready")) {
		metrics_view_follow(&s->view);
		struct metrics_assessment a;
		uint64_t now = (uint64_t)clock_mono_ns();
		metrics_assess(&s->view, now, &a);
		if (url[1] == 'h') {
			metrics_write_health(&s->view, &a, now, o);
			status = a.verdict == METRICS_UNHEALTHY ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
		} else {
			metrics_write_ready(&a, o);
			status = a.ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
		}
	} else {
		status = MHD_HTTP_NOT_FOUND;
		fprintf(o, "{\"error\":\"not found: the exporter serves /metrics, /health and /ready\"}\n");
	}
	if (fclose(o)) {
		free(body);
		return MHD_NO;
	}
	return reply(c, status, type, body, len);
}

/* A bound, listening socket for "HOST:PORT", or -1 with err set. */
static int listen_on(const char *where, char *address, size_t addrcap, char *err, size_t errlen)
{
	char host[FKS_LISTEN_MAX];
	uint16_t port;
	const char *why;
	if (config_split_listen(where, host, sizeof host, &port, &why)) {
		snprintf(err, errlen, "listen address \"%s\": %s", where, why);
		return -1;
	}
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		sl = sizeof *v4;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		sl = sizeof *v6;
	} else {
		snprintf(err, errlen, "listen address \"%s\": %s is not an IP address", where, host);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64) || getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET)
		snprintf(address, addrcap, "%s:%u", host, ntohs(v4->sin_port));
	else
		snprintf(address, addrcap, "[%s]:%u", host, ntohs(v6->sin6_port));
	return fd;
}

int metrics_server_start(const struct fks_config *cfg, const char *prefix, const char *listen, bool wait_for_run,
			 struct metrics_server **out, char *err, size_t errlen)
{
	struct metrics_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = metrics_view_open(&s->view, cfg, prefix);
	/* No run yet: serve "down" until one starts (metrics_view_follow). */
	if (rc == RING_E_NOENT && wait_for_run)
		rc = RING_OK;
	if (rc) {
		char why[320];
		runseg_explain(prefix, rc, why, sizeof why);
		if (rc == RING_E_NOENT)
			snprintf(err, errlen, "no running pipeline with prefix '%s' (%s)", prefix, ring_strerror(rc));
		else
			snprintf(err, errlen, "cannot read the run segment %s", why);
		free(s);
		return -1;
	}
	s->fd = listen_on(listen, s->address, sizeof s->address, err, errlen);
	if (s->fd < 0) {
		metrics_view_close(&s->view);
		free(s);
		return -1;
	}
	/* The server's thread inherits this mask: stop signals go to the
	 * thread that acts on them (the supervisor's loop, fks metrics' wait). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* Room for many idle or half-sent connections, dropped after 3 s of
	 * silence: a few stuck clients must not lock Prometheus out (a scrape
	 * takes milliseconds; its interval is a second or more). */
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT, 512u,
				     MHD_OPTION_CONNECTION_TIMEOUT, 3u, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot start the HTTP server on %s", s->address);
		close(s->fd);
		metrics_view_close(&s->view);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

bool metrics_server_has_run(const struct metrics_server *s)
{
	return s->view.rs != NULL;
}

const char *metrics_server_address(const struct metrics_server *s)
{
	return s->address;
}

void metrics_server_stop(struct metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->daemon); /* joins its thread; the socket is ours to close */
	close(s->fd);
	metrics_view_close(&s->view);
	free(s);
}
