#include "tests/support/fks_test.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *fks_test_bin(void)
{
	const char *b = getenv("FKS_BIN");
	cr_assert_not_null(b, "FKS_BIN must name the fks executable (meson sets it)");
	return b;
}

static char scratch[64];

static void remove_scratch(void)
{
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
	if (scratch[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", scratch);
}

const char *fks_test_scratch_dir(void)
{
	if (!scratch[0]) {
		snprintf(scratch, sizeof scratch, "/tmp/fks-test-%d", (int)getpid());
		cr_assert_eq(mkdir(scratch, 0700), 0, "mkdir %s", scratch);
		atexit(remove_scratch);
	}
	return scratch;
}

void fks_test_new_journal_dir(char *buf, size_t cap)
{
	static int n;
	snprintf(buf, cap, "%s/j%d", fks_test_scratch_dir(), n++);
}

void fks_test_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Read a captured output file into buf (up to cap - 1 bytes), and remove it. */
static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	buf[n] = 0;
	if (f)
		fclose(f);
	unlink(path);
}

/* Name the files a child's stdout and stderr go to: one pair per start. */
static void output_paths(char *out, char *err, size_t cap)
{
	static int n;
	snprintf(out, cap, "/tmp/fks-test-%d-%d.out", (int)getpid(), n);
	snprintf(err, cap, "/tmp/fks-test-%d-%d.err", (int)getpid(), n++);
}

/* In the child: stdout and stderr to the files (stdout to a pipe nobody
 * reads when unread), then exec fks with args and the extra arguments. */
static void exec_fks(const char *out_path, const char *err_path, bool unread, const char *const *args,
		     const char *const *extra)
{
	int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (unread) {
		int fds[2];
		if (pipe(fds) != 0)
			_exit(126);
		close(fds[0]);
		o = fds[1];
	}
	dup2(o, 1);
	dup2(e, 2);
	const char *argv[40] = { fks_test_bin() };
	int i = 0;
	for (; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	for (int j = 0; extra && extra[j] && i < 36; j++)
		argv[++i] = extra[j];
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int fks_test_capture(const char *const *args, char *out, char *err, size_t cap)
{
	char out_path[96], err_path[96];
	output_paths(out_path, err_path, sizeof out_path);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		exec_fks(out_path, err_path, false, args, NULL);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	slurp(out_path, out, cap);
	slurp(err_path, err, cap);
	return exit_code(status);
}

bool fks_test_dedicated_layout(void)
{
	const char *l = getenv("FKS_TEST_LAYOUT");
	return l && !strcmp(l, "dedicated");
}

static const char dedicated_block[] =
	"stages:\n"
	"  feed:\n    core: 0\n    wait: park\n"
	"  strategy:\n    core: 1\n    wait: park\n"
	"  risk:\n    core: 1\n    wait: park\n"
	"  gateway:\n    core: 0\n    wait: park\n"
	"  journal:\n    core: 0\n    wait: park\n";

size_t fks_test_read_config(const char *path, char *buf, size_t cap)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "'%s' config default", fks_test_bin());
	FILE *f = path ? fopen(path, "r") : popen(cmd, "r");
	cr_assert_not_null(f, "read config %s", path ? path : "(default)");
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	if (path)
		fclose(f);
	else
		pclose(f);
	return n;
}

/* The dedicated copy of a run's config, into out; false if the config has
 * no default placement block to replace. */
static bool dedicated_config(const char *path, char *out, size_t cap)
{
	static char text[65536], copy[65536];
	fks_test_read_config(path, text, sizeof text);
	char *from = strstr(text, "\nrunners:\n");
	char *end = from ? strstr(from, "    runner: journal\n") : NULL;
	if (!end)
		return false;
	end += strlen("    runner: journal\n");
	snprintf(copy, sizeof copy, "%.*s\n%s%s", (int)(from - text), text, dedicated_block, end);
	static int n;
	snprintf(out, cap, "%s/dedicated-%d.yaml", fks_test_scratch_dir(), n++);
	FILE *f = fopen(out, "w");
	cr_assert_not_null(f);
	fputs(copy, f);
	fclose(f);
	return true;
}

/* args, or under the dedicated layout a `run`'s args with -c naming the
 * dedicated copy of its config (in swapped, which holds 40). */
static const char *const *placed_args(const char *const *args, const char **swapped)
{
	static char layout_cfg[256];
	if (!args[0] || strcmp(args[0], "run") || !fks_test_dedicated_layout())
		return args;
	int c = -1, n = 0;
	for (; args[n] && n < 36; n++)
		if (!strcmp(args[n], "-c") && args[n + 1])
			c = n + 1;
	if (!dedicated_config(c >= 0 ? args[c] : NULL, layout_cfg, sizeof layout_cfg))
		return args;
	for (int i = 0; i <= n; i++)
		swapped[i] = args[i];
	if (c >= 0) {
		swapped[c] = layout_cfg;
	} else {
		swapped[n] = "-c";
		swapped[n + 1] = layout_cfg;
		swapped[n + 2] = NULL;
	}
	return swapped;
}

void fks_test_start(struct fks_proc *p, const char *const *args)
{
	const char *swapped[40];
	args = placed_args(args, swapped);
	output_paths(p->out_path, p->err_path, sizeof p->out_path);
	p->journal[0] = 0;
	p->prefix[0] = 0;
	bool is_run = args[0] && !strcmp(args[0], "run"), has_journal = false;
	for (int i = 0; args[i]; i++) {
		if (!strcmp(args[i], "--journal")) {
			has_journal = true;
			snprintf(p->journal, sizeof p->journal, "%s", args[i + 1] ? args[i + 1] : "");
		}
		if (!strcmp(args[i], "--prefix"))
			snprintf(p->prefix, sizeof p->prefix, "%s", args[i + 1] ? args[i + 1] : "");
	}
	if (is_run && !has_journal)
		fks_test_new_journal_dir(p->journal, sizeof p->journal);
	const char *extra[] = { "--journal", p->journal, NULL };
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	p->running = true;
	if (p->pid == 0) {
		if (p->own_group)
			setpgid(0, 0);
		exec_fks(p->out_path, p->err_path, p->stdout_unread, args, is_run && !has_journal ? extra : NULL);
	}
}

int fks_test_finish(struct fks_proc *p)
{
	cr_assert_eq(waitpid(p->pid, &p->status, 0), p->pid);
	p->running = false;
	slurp(p->out_path, p->out, sizeof p->out);
	slurp(p->err_path, p->err, sizeof p->err);
	return exit_code(p->status);
}

int fks_test_run(struct fks_proc *p, const char *const *args)
{
	fks_test_start(p, args);
	return fks_test_finish(p);
}

long long fks_test_json_num(const char *json, const char *scope, const char *key)
{
	const char *s = scope ? strstr(json, scope) : json;
	cr_assert_not_null(s, "no %s in: %.300s", scope, json);
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *k = strstr(s, pat);
	cr_assert_not_null(k, "no %s in %s", key, scope ? scope : "the output");
	return strtoll(k + strlen(pat), NULL, 10);
}

void fks_test_expect_verify_ok(const char *dir)
{
	static struct fks_proc v;
	const char *args[] = { "journal", "verify", dir, NULL };
	cr_assert_eq(fks_test_run(&v, args), 0, "fks journal verify %s:\n%s%s", dir, v.out, v.err);
}

uint64_t fks_test_count_tail_lines(const char *path, bool *in_order)
{
	FILE *f = fopen(path, "r");
	*in_order = true;
	if (!f)
		return 0;
	static char line[4096];
	uint64_t n = 0;
	while (fgets(line, sizeof line, f)) {
		if (!strchr(line, '\n'))
			break; /* half-written last line */
		n++;
		unsigned long long seq = 0;
		if (sscanf(line, "{\"seq\":%llu,", &seq) != 1 || seq != n)
			*in_order = false;
	}
	fclose(f);
	return n;
}
