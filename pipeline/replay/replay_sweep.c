/*
 * fks replay --sweep: every combination of the grid, replayed in worker
 * processes (one per online CPU), then ranked in one table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/replay/replay_int.h"

struct sweep_result {
	int ok;
	struct report_metrics m;
};

int replay_sweep_count(const struct opts *o)
{
	int n = 1;
	for (int a = 0; a < o->n_sweep; a++)
		n *= o->sweep[a].n;
	return n;
}

/* Combination i: axis 0 varies slowest. */
static void sweep_combo(const struct opts *o, int i, int *pick)
{
	for (int a = o->n_sweep - 1; a >= 0; a--) {
		pick[a] = i % o->sweep[a].n;
		i /= o->sweep[a].n;
	}
}

static int sweep_setup(const struct opts *o, const struct replay_setup *base, int i, struct replay_setup *s,
		       char *err, size_t errlen)
{
	int pick[REPLAY_SWEEP_AXES];
	*s = *base;
	sweep_combo(o, i, pick);
	for (int a = 0; a < o->n_sweep; a++)
		if (replay_setup_set(s, o->sweep[a].key, o->sweep[a].vals[pick[a]], err, errlen))
			return -1;
	if (replay_uses_crossover(s) && s->cfg.strategy.fast >= s->cfg.strategy.slow) {
		snprintf(err, errlen, "fast %u must be below slow %u", s->cfg.strategy.fast, s->cfg.strategy.slow);
		return -1;
	}
	return 0;
}

struct ranked {
	int i;
	struct sweep_result r;
};

static const struct opts *rank_opts;

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->r.ok != y->r.ok)
		return y->r.ok - x->r.ok;
	bool sh = rank_opts->rank && !strcmp(rank_opts->rank, "sharpe");
	double u = sh ? x->r.m.sharpe : x->r.m.net, v = sh ? y->r.m.sharpe : y->r.m.net;
	if (u != v)
		return u > v ? -1 : 1;
	return x->i - y->i; /* ties: grid order, so the table is deterministic */
}

/* Check every combination before starting any: 0, or 2 with the message
 * printed. */
static int sweep_check_all(const struct opts *o, const struct replay_setup *base, int n)
{
	char err[512];
	for (int i = 0; i < n; i++) {
		struct replay_setup *s = malloc(sizeof *s);
		struct replay_core *probe = NULL;
		if (!s || sweep_setup(o, base, i, s, err, sizeof err) || replay_core_new(&probe, s, NULL, NULL, err, sizeof err)) {
			fprintf(stderr, "fks replay: --sweep: %s\n", s ? err : "out of memory");
			free(s);
			return 2;
		}
		replay_core_free(probe);
		free(s);
	}
	return 0;
}

/* In the forked worker: replay combination i, write its result to fd and
 * exit. */
static _Noreturn void sweep_child(const struct opts *o, const struct replay_setup *base, int i, int fd)
{
	char err[512];
	struct sweep_result r = { 0 };
	struct replay_setup *s = malloc(sizeof *s);
	struct fks_config *cfg = malloc(sizeof *cfg);
	struct input in;
	if (s && cfg && input_open(&in, o->input, o->venue, o->config, o->touch_from_trades, cfg, err,
				   sizeof err) == 0) {
		sweep_setup(o, base, i, s, err, sizeof err);
		struct opts one = *o;
		one.out = NULL;
		one.report_dir = NULL;
		r.ok = replay_run_one(&one, s, &in, &r.m, false) == 0;
		input_close(&in);
	} else if (s && cfg) {
		fprintf(stderr, "fks replay: %s\n", err);
	}
	ssize_t w = write(fd, &r, sizeof r);
	free(s);
	free(cfg);
	_exit(w == (ssize_t)sizeof r && r.ok ? 0 : 1);
}

/* The workers: their pids and result pipes, by combination. */
struct sweep_pool {
	struct ranked *res;
	pid_t *pid;
	int *fd;
	int next, running, done, failed;
};

/* Fork the worker for combination pool->next; 0, or -1 with the message
 * printed (the children already started are reaped by init). */
static int sweep_start(struct sweep_pool *pool, const struct opts *o, const struct replay_setup *base)
{
	int p[2];
	if (pipe(p)) {
		perror("fks replay: pipe");
		return -1;
	}
	pid_t c = fork();
	if (c < 0) {
		perror("fks replay: fork");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (c == 0) {
		close(p[0]);
		sweep_child(o, base, pool->next, p[1]);
	}
	close(p[1]);
	pool->pid[pool->next] = c;
	pool->fd[pool->next] = p[0];
	pool->res[pool->next].i = pool->next;
	pool->next++;
	pool->running++;
	return 0;
}

/* Collect the result of the worker that exited as w. */
static void sweep_reap(struct sweep_pool *pool, pid_t w, int n)
{
	for (int i = 0; i < pool->next; i++) {
		if (pool->pid[i] != w)
			continue;
		struct ranked *res = &pool->res[i];
		if (read(pool->fd[i], &res->r, sizeof res->r) != (ssize_t)sizeof res->r)
			res->r.ok = 0;
		close(pool->fd[i]);
		pool->pid[i] = 0;
		pool->running--;
		pool->done++;
		if (!res->r.ok)
			pool->failed++;
		fprintf(stderr, "sweep: %d/%d done%s\n", pool->done, n, res->r.ok ? "" : " (one failed)");
	}
}

/* The ranked table: the best first, the axes' values, then the metrics. */
static void sweep_print(const struct opts *o, const struct ranked *res, int n)
{
	printf("rank");
	for (int a = 0; a < o->n_sweep; a++)
		printf("  %12s", o->sweep[a].key);
	printf("  %14s %14s %10s %8s %9s %14s\n", "net_pnl", "fees", "sharpe", "trades", "win_rate", "max_drawdown");
	for (int k = 0; k < n; k++) {
		int pick[REPLAY_SWEEP_AXES];
		sweep_combo(o, res[k].i, pick);
		printf("%4d", k + 1);
		for (int a = 0; a < o->n_sweep; a++)
			printf("  %12s", o->sweep[a].vals[pick[a]]);
		if (!res[k].r.ok) {
			printf("  failed\n");
			continue;
		}
		const struct report_metrics *m = &res[k].r.m;
		printf("  %14.6f %14.6f %10.4f %8" PRIu64 " %8.2f%% %14.6f\n", m->net, m->fees, m->sharpe, m->trades,
		       m->win_rate * 100, m->max_drawdown);
	}
}

int replay_sweep(const struct opts *o, const struct replay_setup *base)
{
	int n = replay_sweep_count(o);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers = ncpu > 0 ? (int)ncpu : 1;

	if (sweep_check_all(o, base, n))
		return 2;
	struct sweep_pool pool = {
		.res = calloc((size_t)n, sizeof *pool.res),
		.pid = calloc((size_t)n, sizeof *pool.pid),
		.fd = calloc((size_t)n, sizeof *pool.fd),
	};
	int rc = 1;
	if (!pool.res || !pool.pid || !pool.fd)
		goto out;
	fflush(stdout);
	fflush(stderr);
	while (pool.done < n) {
		while (pool.running < workers && pool.next < n)
			if (sweep_start(&pool, o, base))
				goto out;
		int st;
		pid_t w = wait(&st);
		if (w < 0)
			break;
		sweep_reap(&pool, w, n);
	}
	rank_opts = o;
	qsort(pool.res, (size_t)n, sizeof *pool.res, cmp_ranked);
	sweep_print(o, pool.res, n);
	rc = pool.failed ? 1 : 0;
out:
	free(pool.res);
	free(pool.pid);
	free(pool.fd);
	return rc;
}
