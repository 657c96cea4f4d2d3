/* Secrets from the environment or an owner-only file (secret.h). */
#include "feeds/net/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

void secret_wipe(void *buf, size_t cap)
{
	if (buf && cap)
		OPENSSL_cleanse(buf, cap);
}

/* Drop one trailing "\n" or "\r\n" and check what is left. */
static int finish(char *out, size_t cap, size_t n, size_t *len)
{
	if (n && out[n - 1] == '\n') {
		n--;
		if (n && out[n - 1] == '\r')
			n--;
	}
	if (!n) {
		secret_wipe(out, cap);
		return SECRET_EMPTY;
	}
	out[n] = 0;
	*len = n;
	return SECRET_OK;
}

int secret_from_env(const char *var, char *out, size_t cap, size_t *len)
{
	if (!var || !out || !cap || !len)
		return SECRET_BAD_ARGS;
	out[0] = 0;
	const char *v = getenv(var);
	if (!v)
		return SECRET_ENV_UNSET;
	size_t n = strlen(v);
	if (n >= cap || n >= SECRET_MAX)
		return SECRET_TOO_LONG;
	memcpy(out, v, n);
	return finish(out, cap, n, len);
}

/* Read the whole of fd into out; -1 on a read error, or cap when it does
 * not fit (out is then wiped). */
static ssize_t read_all(int fd, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			secret_wipe(out, cap);
			return (ssize_t)cap;
		}
		ssize_t r = read(fd, out + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			secret_wipe(out, cap);
			return -1;
		}
		if (r == 0)
			return (ssize_t)n;
		n += (size_t)r;
	}
}

int secret_from_file(const char *path, char *out, size_t cap, size_t *len)
{
	if (!path || !out || !cap || !len)
		return SECRET_BAD_ARGS;
	out[0] = 0;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the open; the
	 * fstat below refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? SECRET_NO_FILE : SECRET_IO;
	struct stat st; /* of what was opened, not of the path: no race */
	int rc = SECRET_OK;
	if (fstat(fd, &st))
		rc = SECRET_IO;
	else if (!S_ISREG(st.st_mode))
		rc = SECRET_NOT_REGULAR;
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		rc = SECRET_OPEN_TO_OTHERS;
	if (rc) {
		close(fd);
		return rc;
	}
	size_t room = cap < SECRET_MAX ? cap : SECRET_MAX;
	ssize_t n = read_all(fd, out, room - 1);
	close(fd);
	if (n < 0)
		return SECRET_IO;
	if ((size_t)n == room - 1) {
		/* a full buffer may be a longer secret cut short: refuse */
		secret_wipe(out, cap);
		return SECRET_TOO_LONG;
	}
	return finish(out, cap, (size_t)n, len);
}

const char *secret_strerror(int status)
{
	switch (status) {
	case SECRET_OK: return "ok";
	case SECRET_ENV_UNSET: return "the environment variable is not set";
	case SECRET_NO_FILE: return "the secret file does not exist";
	case SECRET_NOT_REGULAR: return "the secret file is not a regular file";
	case SECRET_OPEN_TO_OTHERS:
		return "the secret file is open to group or others (chmod 600 it)";
	case SECRET_EMPTY: return "the secret is empty";
	case SECRET_TOO_LONG: return "the secret is too long";
	case SECRET_IO: return "the secret file cannot be read";
	case SECRET_BAD_ARGS: return "no name or no buffer given";
	default: return "unknown secret error";
	}
}
