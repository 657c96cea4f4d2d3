/* What the tests that run the real fks binary (FKS_BIN) share: starting it
 * with its output captured, a scratch directory removed at exit, numbers
 * from its JSON, and the placement under test (FKS_TEST_LAYOUT).  Every
 * function fails the current Criterion test on an error it cannot go on
 * from. */
#ifndef FKS_TESTS_SUPPORT_FKS_TEST_H
#define FKS_TESTS_SUPPORT_FKS_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FKS_TEST_OUT_MAX (512 * 1024)

struct fks_proc {
	pid_t pid;
	bool own_group;          /* start in a process group of its own */
	bool stdout_unread;      /* stdout a pipe whose read end is closed, as in `fks run | true` */
	bool running;            /* started, not reaped yet */
	char journal[96];        /* `run`: the --journal it was given */
	char prefix[48];         /* `run`: the --prefix it was given */
	char out_path[96], err_path[96];
	int status;
	char out[FKS_TEST_OUT_MAX], err[FKS_TEST_OUT_MAX];
};

/* The fks executable under test (FKS_BIN, which meson sets). */
const char *fks_test_bin(void);

/* This test process's scratch directory, /tmp/fks-test-<pid>, made on first
 * use and removed with everything in it when the process exits. */
const char *fks_test_scratch_dir(void);

/* A fresh journal directory name under the scratch directory. */
void fks_test_new_journal_dir(char *buf, size_t cap);

void fks_test_sleep_ms(int ms);

/* Run fks with args (NULL-terminated, without the program name) to the end;
 * up to cap - 1 bytes of its stdout and stderr into out and err; its exit
 * code (128 + the signal if a signal ended it). */
int fks_test_capture(const char *const *args, char *out, char *err, size_t cap);

/* Start fks with args.  A `run` without --journal gets a fresh one under
 * the scratch directory, so tests never share a journal; under the
 * dedicated layout a `run` gets a dedicated copy of its config (below). */
void fks_test_start(struct fks_proc *p, const char *const *args);
/* Wait for it; its stdout and stderr into p->out, p->err; its exit code. */
int fks_test_finish(struct fks_proc *p);
int fks_test_run(struct fks_proc *p, const char *const *args);

/* The value of "key":<number> inside the JSON object that follows "scope"
 * (the whole text when scope is NULL). */
long long fks_test_json_num(const char *json, const char *scope, const char *key);

/* Read a config into buf (up to cap - 1 bytes): the file, or `fks config
 * default` when path is NULL; its length. */
size_t fks_test_read_config(const char *path, char *buf, size_t cap);

/* `fks journal verify dir` exits 0. */
void fks_test_expect_verify_ok(const char *dir);

/* The lines of a file `fks tail --json` wrote; *in_order: each line's "seq"
 * is the previous one's + 1, from 1.  A half-written last line is left out. */
uint64_t fks_test_count_tail_lines(const char *path, bool *in_order);

/*
 * Placement under test.  The default config runs the hot path in one shared
 * runner; with FKS_TEST_LAYOUT=dedicated (the run_dedicated suite) every
 * `run` gets a copy of its config (the default, or the file after -c) with
 * the default's runners and stages replaced by one runner per stage, the
 * layout before runners existed.  A config without the default's block is
 * used as it is.
 */
bool fks_test_dedicated_layout(void);

#endif
