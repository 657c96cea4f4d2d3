/*
 * feeds/https_get against a TLS server on 127.0.0.1 (https_test_server.c)
 * that serves a Binance depth snapshot built here from
 * $FKS_SHARED/data/binance/btcusdt-depth-snap.csv.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "feeds/net/https_get.h"
#include "tests/support/https_test_server.h"

/* The REST body {"lastUpdateId":L,"bids":[["p","q"],...],"asks":[...]} from
 * the CSV's rows (columns: symbol,timestamp,first_update_id,last_update_id,
 * side,update_type,price,qty,pu).  Returns a malloc'd string. */
static char *snapshot_body(size_t *len)
{
	const char *shared = getenv("FKS_SHARED");
	cr_assert(shared, "FKS_SHARED is not set");
	char path[512];
	snprintf(path, sizeof path, "%s/data/binance/btcusdt-depth-snap.csv", shared);
	FILE *f = fopen(path, "r");
	cr_assert(f, "%s", path);
	size_t cap = 1 << 16, n = 0;
	char *bids = calloc(1, cap), *asks = calloc(1, cap);
	size_t nb = 0, na = 0;
	unsigned long long last = 0;
	char line[256];
	cr_assert(fgets(line, sizeof line, f)); /* header */
	while (fgets(line, sizeof line, f)) {
		char sym[16], side[4], type[8], px[32], qty[32];
		unsigned long long ts, first, lid;
		long long pu;
		cr_assert_eq(sscanf(line, "%15[^,],%llu,%llu,%llu,%3[^,],%7[^,],%31[^,],%31[^,],%lld", sym, &ts, &first,
				    &lid, side, type, px, qty, &pu), 9, "%s", line);
		last = lid;
		char *dst = side[0] == 'b' ? bids : asks;
		size_t *k = side[0] == 'b' ? &nb : &na;
		size_t used = strlen(dst);
		snprintf(dst + used, cap - used, "%s[\"%s\",\"%s\"]", *k ? "," : "", px, qty);
		(*k)++;
	}
	fclose(f);
	cr_assert_eq(nb + na, 100);
	char *body = malloc(3 * cap);
	n = (size_t)snprintf(body, 3 * cap, "{\"lastUpdateId\":%llu,\"bids\":[%s],\"asks\":[%s]}", last, bids, asks);
	free(bids);
	free(asks);
	*len = n;
	return body;
}

static struct hts *start(enum hts_mode mode, const char *body, size_t len, size_t chunk)
{
	struct hts_config c = { .modes = { mode }, .n_modes = 1, .body = body, .body_len = len, .chunk = chunk };
	char err[256] = "";
	struct hts *s = hts_start(&c, err, sizeof err);
	cr_assert(s, "%s", err);
	return s;
}

static struct https_client *client(const char *ca, int timeout_ms, size_t max_body)
{
	struct https_config c = { .ca_file = ca, .timeout_ms = timeout_ms, .max_body = max_body };
	char err[256] = "";
	struct https_client *h = https_client_new(&c, err, sizeof err);
	cr_assert(h, "%s", err);
	return h;
}

#define PATH "/api/v3/depth?symbol=BTCUSDT&limit=1000"

static void url_of(char *url, size_t cap, const struct hts *s)
{
	snprintf(url, cap, "https://127.0.0.1:%u" PATH, hts_port(s));
}

/* 200 + Content-Length or chunked: the exact body, and the request line. */
static void serve_and_check(enum hts_mode mode, size_t chunk)
{
	size_t len;
	char *body = snapshot_body(&len);
	cr_assert(len > 2000, "a 100-level body is a few KB, got %zu", len);
	cr_assert(!strncmp(body, "{\"lastUpdateId\":2098021528332,\"bids\":[[\"20377.00\",\"1.770\"]", 55), "%.60s", body);
	struct hts *s = start(mode, body, len, chunk);
	struct https_client *h = client(hts_ca_file(s), 5000, 0);
	char url[256];
	url_of(url, sizeof url, s);
	struct https_response r;
	int rc = https_get(h, url, &r);
	cr_assert_eq(rc, HTTPS_OK, "%s: %s", https_strerror(rc), https_client_last_error(h));
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.len, len);
	cr_assert(!memcmp(r.body, body, len));
	cr_assert_eq(r.body[len], 0);
	const struct https_stats *st = https_client_stats(h);
	cr_assert_eq(st->requests, 1);
	cr_assert_eq(st->ok, 1);
	cr_assert_eq(st->body_bytes, len);
	/* a second request on the same client: a fresh connection */
	rc = https_get(h, url, &r);
	cr_assert_eq(rc, HTTPS_OK, "%s", https_client_last_error(h));
	cr_assert_eq(r.len, len);
	hts_stop(s);
	cr_assert_eq(hts_n_conns(s), 2);
	cr_assert_str_eq(hts_conn(s, 0)->request_line, "GET " PATH " HTTP/1.1");
	cr_assert(hts_conn(s, 0)->connection_close);
	hts_free(s);
	https_client_free(h);
	free(body);
}

Test(https_get, content_length) { serve_and_check(HTS_LENGTH, 0); }
Test(https_get, chunked) { serve_and_check(HTS_CHUNKED, 777); }
Test(https_get, chunked_one_byte_chunks) { serve_and_check(HTS_CHUNKED, 1); }

/* One failing request: its status and the one counter it must bump. */
static void expect_fail(enum hts_mode mode, const char *body, size_t len, bool trust, int timeout_ms,
			size_t max_body, int want, size_t counter_off, int want_http)
{
	struct hts *s = start(mode, body, len, 100);
	struct https_client *h = client(trust ? hts_ca_file(s) : NULL, timeout_ms, max_body);
	char url[256];
	url_of(url, sizeof url, s);
	struct https_response r;
	int rc = https_get(h, url, &r);
	cr_assert_eq(rc, want, "got %s (%s), want %s", https_strerror(rc), https_client_last_error(h),
		     https_strerror(want));
	cr_assert_eq(r.status, want_http);
	cr_assert_null(r.body);
	const struct https_stats *st = https_client_stats(h);
	cr_assert_eq(st->requests, 1);
	cr_assert_eq(st->ok, 0);
	cr_assert_eq(*(const uint64_t *)((const char *)st + counter_off), 1, "counter at %zu", counter_off);
	/* exactly one error counter moved */
	struct named_counter fc[HTTPS_STATS_COUNT];
	cr_assert_eq(https_client_counters(h, fc, HTTPS_STATS_COUNT), HTTPS_STATS_COUNT);
	uint64_t errs = 0;
	for (size_t i = 3; i < HTTPS_STATS_COUNT; i++)
		errs += fc[i].n;
	cr_assert_eq(errs, 1);
	cr_assert(https_client_last_error(h)[0]);
	cr_assert_null(strstr(https_client_last_error(h), "symbol="), "no query in the error text");
	hts_stop(s);
	hts_free(s);
	https_client_free(h);
}

#define OFF(f) offsetof(struct https_stats, f)
static const char small[] = "{\"lastUpdateId\":1,\"bids\":[],\"asks\":[]}";

Test(https_get, status_404_is_counted)
{
	expect_fail(HTS_404, small, sizeof small - 1, true, 5000, 0, HTTPS_E_STATUS, OFF(status_errors), 404);
}

Test(https_get, oversize_by_content_length)
{
	expect_fail(HTS_LENGTH, small, sizeof small - 1, true, 5000, sizeof small - 2, HTTPS_E_OVERSIZE, OFF(oversize), 200);
}

Test(https_get, oversize_chunked)
{
	size_t len;
	char *body = snapshot_body(&len);
	expect_fail(HTS_CHUNKED, body, len, true, 5000, len - 1, HTTPS_E_OVERSIZE, OFF(oversize), 200);
	free(body);
}

Test(https_get, exact_cap_fits)
{
	struct hts *s = start(HTS_CHUNKED, small, sizeof small - 1, 7);
	struct https_client *h = client(hts_ca_file(s), 5000, sizeof small - 1);
	char url[256];
	url_of(url, sizeof url, s);
	struct https_response r;
	cr_assert_eq(https_get(h, url, &r), HTTPS_OK, "%s", https_client_last_error(h));
	cr_assert_str_eq(r.body, small);
	hts_stop(s);
	hts_free(s);
	https_client_free(h);
}

Test(https_get, untrusted_certificate_is_tls_error)
{
	expect_fail(HTS_LENGTH, small, sizeof small - 1, false, 5000, 0, HTTPS_E_TLS, OFF(tls_errors), 0);
}

Test(https_get, silent_server_times_out)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	expect_fail(HTS_SILENT, small, sizeof small - 1, true, 300, 0, HTTPS_E_TIMEOUT, OFF(timeouts), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	cr_assert(ms >= 290 && ms < 3000, "took %.0f ms", ms);
}

Test(https_get, no_length_is_refused)
{
	expect_fail(HTS_NO_LENGTH, small, sizeof small - 1, true, 5000, 0, HTTPS_E_FRAMING, OFF(framing_errors), 200);
}

Test(https_get, gzip_is_refused)
{
	expect_fail(HTS_GZIP, small, sizeof small - 1, true, 5000, 0, HTTPS_E_FRAMING, OFF(framing_errors), 200);
}

Test(https_get, truncated_body_is_io_error)
{
	expect_fail(HTS_TRUNCATED, small, sizeof small - 1, true, 5000, 0, HTTPS_E_IO, OFF(io_errors), 200);
}

Test(https_get, bad_urls)
{
	struct https_client *h = client(NULL, 1000, 0);
	static const char *bad[] = { "http://127.0.0.1/", "https://", "https:///x", "https://h:0/", "https://h:99999/",
				     "https://h/a b", "https://h/\r\nX: y", "https://[::1/", "https://h:12x/", NULL };
	struct https_response r;
	size_t i = 0;
	for (; bad[i]; i++)
		cr_assert_eq(https_get(h, bad[i], &r), HTTPS_E_URL, "%s", bad[i]);
	cr_assert_eq(https_get(h, NULL, &r), HTTPS_E_URL);
	cr_assert_eq(https_client_stats(h)->url_errors, i + 1);
	https_client_free(h);
}

Test(https_get, refused_port_is_tcp_error)
{
	/* a port that was just free: bind, read it, close */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	char url[64];
	snprintf(url, sizeof url, "https://127.0.0.1:%u/", ntohs(a.sin_port));
	struct https_client *h = client(NULL, 2000, 0);
	struct https_response r;
	cr_assert_eq(https_get(h, url, &r), HTTPS_E_TCP, "%s", https_client_last_error(h));
	cr_assert_eq(https_client_stats(h)->tcp_errors, 1);
	https_client_free(h);
}

Test(https_get, bad_ca_file_is_refused_at_new)
{
	struct https_config c = { .ca_file = "/nonexistent/ca.pem" };
	char err[256] = "";
	cr_assert_null(https_client_new(&c, err, sizeof err));
	cr_assert(strstr(err, "ca_file"), "%s", err);
}
