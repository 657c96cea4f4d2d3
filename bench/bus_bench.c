/*
 * `fks bench bus`: what `fks bus publish` delivers, beside a bare libnats
 * JetStream publish loop (the floor), in the same run, on one JetStream
 * server (started here on loopback with a temporary file store, or --url).
 *
 *   floor      js_PublishAsync of N 64-byte messages to a file-storage
 *              stream of its own, a window of 1024 in flight, then
 *              js_PublishAsyncComplete: events/s, no headers, no journal.
 *   publish    a journal of N 64-byte quotes, written and closed first;
 *              then `fks bus publish --until-closed` (this executable, as a
 *              child) catches up on it.  A core NATS subscriber counts the
 *              messages: events/s = messages / (first .. last received).
 *   lag        a journal written at --rate events/s (commits of 10 events)
 *              while `fks bus publish` follows it; the subscriber stamps
 *              each message as it arrives: lag = arrival - the return of
 *              the journal_commit that made it visible (one monotonic
 *              clock, one host): p50, p99, p99.9 and max.
 *
 * The subscriber is a plain NATS subscription on the stream's subjects, so
 * a message is seen when the server routes it, as a remote tail -f would
 * see it; JetStream's storage runs beside that.  Compare publish with the
 * floor as a ratio: absolute rates on a shared machine are noise.
 */
#include "bench/bench.h"
#include "bench/bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/journal/journal.h"
#include "shm/event_build.h"

#define PROG "fks bench bus"
#define PAYLOAD 64
#define LAG_BATCH 10

struct bench_opts {
	bool json;
	uint64_t events, rate;
	const char *url;
};

struct collector {                 /* the subscriber's side, on libnats' thread */
	atomic_uint_fast64_t count;
	int64_t first_ns, last_ns;
	int64_t *recv_ns;              /* lag phase: by journal sequence */
	uint64_t cap;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
	(void)nc;
	(void)sub;
	struct collector *c = closure;
	int64_t t = now_ns();
	const char *id = NULL, *dash;
	/* Nats-Msg-Id is "<run>-<journal seq>" (pipeline/bus/bus_wire.h). */
	if (c->recv_ns && natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && (dash = strrchr(id, '-'))) {
		uint64_t s = strtoull(dash + 1, NULL, 10);
		if (s && s <= c->cap)
			c->recv_ns[s - 1] = t;
	}
	if (atomic_fetch_add(&c->count, 1) == 0)
		c->first_ns = t;
	c->last_ns = t;
	natsMsg_Destroy(m);
}

/* ---- the server --------------------------------------------------------- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int port = -1;
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t start_server(const char *store, char *url, size_t cap)
{
	int port = free_port();
	char p[16];
	snprintf(p, sizeof p, "%d", port);
	snprintf(url, cap, "nats://127.0.0.1:%d", port);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", p, "-sd", store, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 200; i++) {
		natsConnection *nc = NULL;
		if (natsConnection_ConnectTo(&nc, url) == NATS_OK) {
			natsConnection_Destroy(nc);
			return pid;
		}
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	fprintf(stderr, PROG ": nats-server did not start (is it installed? scripts/setup installs it)\n");
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* ---- the floor ---------------------------------------------------------- */

static double run_floor(jsCtx *js, uint64_t n)
{
	const char *subjects[] = { "benchfloor.>" };
	jsStreamConfig sc;
	jsStreamConfig_Init(&sc);
	sc.Name = "BENCHFLOOR";
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	jsErrCode jerr = 0;
	if (js_AddStream(NULL, js, &sc, NULL, &jerr) != NATS_OK)
		return -1;
	char payload[PAYLOAD];
	memset(payload, 'q', sizeof payload);
	int64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++)
		if (js_PublishAsync(js, "benchfloor.md.BENCH", payload, PAYLOAD, NULL) != NATS_OK)
			return -1;
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = 60000;
	if (js_PublishAsyncComplete(js, &po) != NATS_OK)
		return -1;
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

/* ---- journals and the publisher ---------------------------------------- */

static struct journal *bench_journal(const char *dir)
{
	static struct journal_meta meta;
	memset(&meta, 0, sizeof meta);
	meta.n_symbols = 1;
	meta.symbol[0] = (struct journal_symbol){ .id = 0, .symbol = "BENCH", .px_scale = 2, .qty_scale = 0 };
	struct journal *j = NULL;
	char err[512];
	if (journal_create(dir, &meta, NULL, &j, err, sizeof err)) {
		fprintf(stderr, PROG ": %s\n", err);
		return NULL;
	}
	return j;
}

static void append_quote(struct journal *j, uint64_t i)
{
	union fks_event ev;
	struct fks_event_hdr h;
	fks_hdr_origin(&h, FKS_EV_QUOTE, FKS_STAGE_FEED, i + 1, 0, 0, (int64_t)i, 0);
	fks_build_quote(&ev.quote, &h, 10000 + (int64_t)(i % 7), 5, 10001 + (int64_t)(i % 7), 5);
	journal_append(j, &ev, NULL, 0);
}

static pid_t start_publisher(const char *exe, const char *dir, const char *url, const char *stream,
			     const char *prefix)
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!freopen("/dev/null", "w", stderr))
			_exit(126);
		execl(exe, exe, "bus", "publish", "-j", dir, "--url", url, "--stream", stream, "--prefix", prefix,
		      "--until-closed", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int wait_publisher(pid_t pid)
{
	int st;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static natsSubscription *collect(natsConnection *nc, const char *prefix, struct collector *c)
{
	char subject[64];
	natsSubscription *sub = NULL;
	snprintf(subject, sizeof subject, "%s.>", prefix);
	if (natsConnection_Subscribe(&sub, nc, subject, on_msg, c) != NATS_OK)
		return NULL;
	natsSubscription_SetPendingLimits(sub, -1, -1);
	natsConnection_Flush(nc);
	return sub;
}

/* Catch-up: the journal first, then the publisher over it. */
static double run_publish(natsConnection *nc, const char *exe, const char *root, const char *url, uint64_t n)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/publish-journal", root);
	struct journal *j = bench_journal(dir);
	if (!j)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		append_quote(j, i);
		if ((i + 1) % 1000 == 0)
			journal_commit(j);
	}
	journal_close(j);
	struct collector c = { 0 };
	natsSubscription *sub = collect(nc, "benchpub", &c);
	if (!sub || wait_publisher(start_publisher(exe, dir, url, "BENCHPUB", "benchpub")))
		return -1;
	natsConnection_Flush(nc);
	natsSubscription_Drain(sub);
	natsSubscription_WaitForDrainCompletion(sub, 10000);
	natsSubscription_Destroy(sub);
	uint64_t got = atomic_load(&c.count);
	if (got < n)
		return -1;
	return (double)(got - 1) * 1e9 / (double)(c.last_ns - c.first_ns);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Paced: commits of LAG_BATCH events at rate while the publisher follows. */
static int run_lag(natsConnection *nc, const char *exe, const char *root, const char *url, uint64_t n,
		   uint64_t rate, int64_t pct[4])
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/lag-journal", root);
	int64_t *commit_ns = calloc(n, sizeof *commit_ns);
	struct collector c = { .recv_ns = calloc(n, sizeof(int64_t)), .cap = n };
	struct journal *j = commit_ns && c.recv_ns ? bench_journal(dir) : NULL;
	natsSubscription *sub = j ? collect(nc, "benchlag", &c) : NULL;
	pid_t pub = sub ? start_publisher(exe, dir, url, "BENCHLAG", "benchlag") : -1;
	int64_t period = (int64_t)(1e9 * LAG_BATCH / (double)rate), next = now_ns();
	for (uint64_t i = 0; pub > 0 && i < n; i++) {
		append_quote(j, i);
		if ((i + 1) % LAG_BATCH && i + 1 < n)
			continue;
		journal_commit(j);
		int64_t t = now_ns();
		for (uint64_t k = i + 1 - ((i % LAG_BATCH) + 1); k <= i; k++)
			commit_ns[k] = t;
		next += period;
		while (now_ns() < next)
			;
	}
	if (j)
		journal_close(j);
	int rc = wait_publisher(pub);
	if (sub) {
		natsConnection_Flush(nc);
		natsSubscription_Drain(sub);
		natsSubscription_WaitForDrainCompletion(sub, 10000);
		natsSubscription_Destroy(sub);
	}
	uint64_t m = 0;
	for (uint64_t i = 0; !rc && i < n; i++)
		if (c.recv_ns[i])
			commit_ns[m++] = c.recv_ns[i] > commit_ns[i] ? c.recv_ns[i] - commit_ns[i] : 0;
	if (!rc && m == n) {
		qsort(commit_ns, m, sizeof *commit_ns, cmp_i64);
		pct[0] = commit_ns[m / 2];
		pct[1] = commit_ns[m * 99 / 100];
		pct[2] = commit_ns[m * 999 / 1000];
		pct[3] = commit_ns[m - 1];
	}
	free(commit_ns);
	free(c.recv_ns);
	return !rc && m == n ? 0 : -1;
}

/* ---- the command -------------------------------------------------------- */

static void usage(FILE *out, const struct opt_table *t)
{
	fprintf(out, "usage: " PROG " [--json] [--events N] [--rate R] [--url URL]\n\n"
		     "fks bus publish's throughput (catching up on a journal) and end-to-end lag\n"
		     "(journal commit to a subscriber), beside a bare libnats JetStream publish loop\n"
		     "of the same payload size, on a nats-server -js started on loopback.\n\n");
	opts_print_help(t, out);
}

static void print_results(const struct bench_opts *o, const struct bench_machine *mc, double floor, double pub,
			  const int64_t pct[4])
{
	if (o->json) {
		printf("{\"bench\":\"bus\",\"peer\":\"libnats_js_publish_async\",\"metric\":\"rate\",\"value\":%.0f,"
		       "\"unit\":\"events/s\",\"events\":%" PRIu64 ",\"payload\":%d}\n", floor, o->events, PAYLOAD);
		printf("{\"bench\":\"bus\",\"peer\":\"fks_bus_publish\",\"metric\":\"rate\",\"value\":%.0f,"
		       "\"unit\":\"events/s\",\"ratio_to_floor\":%.3f}\n", pub, pub / floor);
		printf("{\"bench\":\"bus\",\"peer\":\"fks_bus_publish\",\"metric\":\"lag\",\"rate\":%" PRIu64
		       ",\"p50_ns\":%" PRId64 ",\"p99_ns\":%" PRId64 ",\"p999_ns\":%" PRId64 ",\"max_ns\":%" PRId64 "}\n",
		       o->rate, pct[0], pct[1], pct[2], pct[3]);
		return;
	}
	printf(PROG ": %" PRIu64 " events of %d bytes; %s; %ld CPUs; %s\n", o->events, PAYLOAD, mc->cpu_model,
	       mc->cpus_online, mc->date);
	printf("  %-36s %12s %10s\n", "", "events/s", "vs floor");
	printf("  %-36s %12.0f %10s\n", "floor: libnats js_PublishAsync", floor, "1.00");
	printf("  %-36s %12.0f %10.2f\n", "fks bus publish (catching up)", pub, pub / floor);
	printf("  lag, journal commit -> subscriber, at %" PRIu64 " events/s (commits of %d):\n", o->rate, LAG_BATCH);
	printf("    p50 %" PRId64 " us  p99 %" PRId64 " us  p99.9 %" PRId64 " us  max %" PRId64 " us\n", pct[0] / 1000,
	       pct[1] / 1000, pct[2] / 1000, pct[3] / 1000);
}

int bench_bus_main(int argc, char **argv)
{
	struct bench_opts o = { .events = 200000, .rate = 20000 };
	const struct opt opts[] = {
		{ .name = "json", .kind = OPT_FLAG, .dest = &o.json, .help = "one JSON object per result" },
		{ .name = "events", .kind = OPT_COUNT, .dest = &o.events, .arg = "N", .umin = 1000, .umax = 100000000,
		  .help = "events per phase", .dflt = "200k" },
		{ .name = "rate", .kind = OPT_COUNT, .dest = &o.rate, .arg = "R", .umin = 100, .umax = 10000000,
		  .help = "events/s written in the lag phase", .dflt = "20k" },
		{ .name = "url", .kind = OPT_STRING, .dest = &o.url, .arg = "URL",
		  .help = "an existing JetStream server instead of starting one" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = PROG, .help_col = 16, .opts = opts };
	int rc = bench_parse_options(&t, argc, argv, usage);
	if (rc >= 0)
		return rc;
	struct bench_machine mc;
	bench_machine_read(&mc, argc, argv);
	char exe[PATH_MAX], root[] = "/tmp/fks-bench-bus-XXXXXX", store[PATH_MAX], url[128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || !mkdtemp(root)) {
		fprintf(stderr, PROG ": %s\n", strerror(errno));
		return 1;
	}
	exe[n] = 0;
	snprintf(store, sizeof store, "%s/store", root);
	snprintf(url, sizeof url, "%s", o.url ? o.url : "");
	pid_t server = o.url ? 0 : start_server(store, url, sizeof url);
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	double floor = -1, pub = -1;
	int64_t pct[4] = { 0 };
	rc = 1;
	if (server >= 0 && natsConnection_ConnectTo(&nc, url) == NATS_OK &&
	    natsConnection_JetStream(&js, nc, NULL) == NATS_OK) {
		floor = run_floor(js, o.events);
		pub = floor > 0 ? run_publish(nc, exe, root, url, o.events) : -1;
		if (pub > 0 && !run_lag(nc, exe, root, url, o.events, o.rate, pct)) {
			print_results(&o, &mc, floor, pub, pct);
			rc = 0;
		}
	}
	if (rc)
		fprintf(stderr, PROG ": a phase failed (floor %.0f, publish %.0f events/s)\n", floor, pub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, PROG ": could not remove %s\n", root);
	return rc;
}
