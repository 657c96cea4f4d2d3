/*
 * A real `nats-server -js` for a test: on 127.0.0.1 at a free port, its
 * store in a fresh temporary directory, killed (and the store removed) by
 * nats_test_server_stop, and killed by the kernel if the test process dies
 * first (PR_SET_PDEATHSIG), so no server outlives a failed test.
 */
#ifndef FKS_TESTS_SUPPORT_NATS_TEST_SERVER_H
#define FKS_TESTS_SUPPORT_NATS_TEST_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct nats_test_server {
	pid_t pid;
	int port;
	char url[64];
	char store[128];
};

/* false (with the reason on stderr) when nats-server cannot be started:
 * not installed, or it did not listen within 10 s. */
bool nats_test_server_start(struct nats_test_server *s);
void nats_test_server_stop(struct nats_test_server *s);

#endif
