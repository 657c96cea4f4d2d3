#include "tests/support/fix_acceptor_proc.h"

#include <criterion/criterion.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		  getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	close(fd);
	return ntohs(sa.sin_port);
}

void fix_acceptor_prepare(struct fix_acceptor *a)
{
	memset(a, 0, sizeof *a);
	const char *tmp = getenv("TMPDIR");
	snprintf(a->dir, sizeof a->dir, "%s/fks-fixacc.XXXXXX", tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(a->dir));
	snprintf(a->log, sizeof a->log, "%s/events", a->dir);
	a->port = free_port();
	a->pid = -1;
	a->cmd_fd = -1;
}

int fix_acceptor_count(const struct fix_acceptor *a, const char *prefix)
{
	FILE *f = fopen(a->log, "r");
	if (!f)
		return 0;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f))
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(f);
	return n;
}

static void wait_count(const struct fix_acceptor *a, const char *prefix, int want)
{
	for (int ms = 0; ms < WAIT_MS; ms += 5) {
		if (fix_acceptor_count(a, prefix) >= want)
			return;
		usleep(5000);
	}
	cr_assert_fail("the acceptor never logged %d x '%s'", want, prefix);
}

void fix_acceptor_tls(struct fix_acceptor *a)
{
	snprintf(a->cert, sizeof a->cert, "%s/cert.pem", a->dir);
	snprintf(a->key, sizeof a->key, "%s/key.pem", a->dir);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
		 "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
		 a->key, a->cert);
	cr_assert_eq(system(cmd), 0, "openssl req made no certificate");
}

void fix_acceptor_start(struct fix_acceptor *a)
{
	const char *bin = getenv("FKS_FIX_ACCEPTOR"), *shared = getenv("FKS_SHARED");
	cr_assert(bin && shared, "FKS_FIX_ACCEPTOR and FKS_SHARED come from meson");
	char dict[512], port[8];
	snprintf(dict, sizeof dict, "%s/data/fix/FIX44.xml", shared);
	snprintf(port, sizeof port, "%u", a->port);
	int ready = fix_acceptor_count(a, "ready");
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t parent = getpid();
	a->pid = fork();
	cr_assert_geq(a->pid, 0);
	if (a->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if (a->cert[0])
			execl(bin, bin, port, a->dir, dict, FIX_ACC_VENUE, FIX_ACC_FKS, a->log, a->cert, a->key,
			      (char *)NULL);
		else
			execl(bin, bin, port, a->dir, dict, FIX_ACC_VENUE, FIX_ACC_FKS, a->log, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	a->cmd_fd = p[1];
	wait_count(a, "ready", ready + 1);
}

void fix_acceptor_cmd(struct fix_acceptor *a, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	char cmd[64] = "done ";
	sscanf(line, "%58s", cmd + 5);
	int before = fix_acceptor_count(a, cmd);
	line[n++] = '\n';
	cr_assert_eq(write(a->cmd_fd, line, (size_t)n), n);
	wait_count(a, cmd, before + 1);
}

void fix_acceptor_signal(struct fix_acceptor *a, int sig)
{
	if (a->pid > 0)
		kill(a->pid, sig);
}

void fix_acceptor_stop(struct fix_acceptor *a)
{
	if (a->pid <= 0)
		return;
	close(a->cmd_fd);
	a->cmd_fd = -1;
	for (int ms = 0; ms < WAIT_MS; ms += 5) {
		if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
			a->pid = -1;
			return;
		}
		usleep(5000);
	}
	kill(a->pid, SIGKILL);
	waitpid(a->pid, NULL, 0);
	a->pid = -1;
}

void fix_acceptor_remove(struct fix_acceptor *a)
{
	char cmd[300];
	if (!a->dir[0] || strncmp(strrchr(a->dir, '/'), "/fks-fixacc.", 12) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", a->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", a->dir);
	a->dir[0] = '\0';
}
