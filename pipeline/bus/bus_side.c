/* `fks bus publish` beside `fks run` (bus_side.h). */
#include "pipeline/bus/bus_side.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t bus_side_start(const char *config_path, const char *journal_dir)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		fprintf(stderr, "fks run: bus: /proc/self/exe: %s; running without the bus\n", strerror(errno));
		return 0;
	}
	exe[n] = 0;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		execl(exe, exe, "bus", "publish", "-c", config_path, "-j", journal_dir, "--until-closed", (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		fprintf(stderr, "fks run: bus: fork: %s; running without the bus\n", strerror(errno));
		return 0;
	}
	fprintf(stderr, "fks run: bus: fks bus publish started (pid %d)\n", (int)pid);
	return pid;
}

void bus_side_stop(pid_t pid, int wait_ms)
{
	if (pid <= 0)
		return;
	int status = 0;
	bool done = false;
	for (int waited = 0; !done && waited < wait_ms; waited += 10) {
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (!done)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (!done) {
		fprintf(stderr, "fks run: bus: not caught up after %d ms; stopping it (the next fks bus publish "
			"resumes where the stream ends)\n", wait_ms);
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "fks run: bus: fks bus publish ended with status %d (the run is not affected)\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}
