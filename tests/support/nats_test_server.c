/* A nats-server -js for tests (nats_test_server.h). */
#include "tests/support/nats_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

static bool listening(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

bool nats_test_server_start(struct nats_test_server *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->store, sizeof s->store, "/tmp/fks-nats-test-XXXXXX");
	s->port = free_port();
	if (!mkdtemp(s->store) || s->port <= 0) {
		perror("nats_test_server: scratch");
		return false;
	}
	snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);
	char port[16];
	snprintf(port, sizeof port, "%d", s->port);
	pid_t parent = getpid();
	s->pid = fork();
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd", s->store,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (listening(s->port))
			return true;
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			fprintf(stderr, "nats_test_server: nats-server exited (status %d): is it installed?\n", st);
			s->pid = 0;
			return false;
		}
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	fprintf(stderr, "nats_test_server: nats-server did not listen on %d\n", s->port);
	nats_test_server_stop(s);
	return false;
}

void nats_test_server_stop(struct nats_test_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->store[0]) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->store);
		if (system(cmd) != 0)
			fprintf(stderr, "nats_test_server: could not remove %s\n", s->store);
		s->store[0] = 0;
	}
}
