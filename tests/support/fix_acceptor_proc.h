/*
 * The QuickFIX acceptor (fix_acceptor.cpp) as a child process of a test:
 * started on a free loopback port with its store in a directory, told
 * things on its stdin, watched through its event log, stopped afterwards.
 * The child gets SIGKILL if the test process dies, so a failing test
 * leaves no acceptor behind.  The binary is $FKS_FIX_ACCEPTOR and the
 * dictionary $FKS_SHARED/data/fix/FIX44.xml (both set by meson).
 */
#ifndef FKS_TESTS_SUPPORT_FIX_ACCEPTOR_PROC_H
#define FKS_TESTS_SUPPORT_FIX_ACCEPTOR_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FIX_ACC_VENUE "VENUE"
#define FIX_ACC_FKS "FKS"

struct fix_acceptor {
	pid_t pid;
	int cmd_fd;                 /* its stdin */
	uint16_t port;
	char dir[256];              /* store, QuickFIX logs and the event log */
	char log[300];
	char cert[300], key[300];   /* set (fix_acceptor_tls): TLS only */
};

/* A fresh directory under TMPDIR for a store (and a free port, if port is 0). */
void fix_acceptor_prepare(struct fix_acceptor *a);
/* Make a self-signed certificate for 127.0.0.1 (openssl req) in a->dir:
 * the acceptor then speaks TLS only; the certificate is the trust anchor a
 * client needs (a->cert). */
void fix_acceptor_tls(struct fix_acceptor *a);
/* Start it on a->port with its store in a->dir and wait for "ready". */
void fix_acceptor_start(struct fix_acceptor *a);
/* One command line ("fill 17 2", "drop", ...) and wait for it to be done. */
void fix_acceptor_cmd(struct fix_acceptor *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lines of the event log that start with prefix. */
int fix_acceptor_count(const struct fix_acceptor *a, const char *prefix);
/* Close its stdin (a clean stop: Logout, store kept) and reap it. */
void fix_acceptor_stop(struct fix_acceptor *a);
void fix_acceptor_signal(struct fix_acceptor *a, int sig);
/* Remove a->dir and everything in it (after fix_acceptor_stop). */
void fix_acceptor_remove(struct fix_acceptor *a);

#endif
