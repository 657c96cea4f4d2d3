/*
 * Secrets (API keys, webhook signing keys) read from an environment
 * variable or from a file only its owner can read.
 *
 *   char key[SECRET_MAX]; size_t len;
 *   int rc = secret_from_file("/etc/fks/binance.key", key, sizeof key, &len);
 *   if (rc) fprintf(stderr, "binance key: %s\n", secret_strerror(rc));
 *   ...
 *   secret_wipe(key, sizeof key);
 *
 * A file must be a regular file with no permission bits for group or
 * others (mode 0600 or 0400): a key that other accounts on the host can
 * read is refused, not used.  One trailing newline ("\n" or "\r\n") is
 * dropped, as editors add one.  An empty secret is refused too: it would
 * sign with an empty key rather than fail.
 *
 * The errors name what is wrong and never contain the secret or any part
 * of it; on any error out holds no bytes of it.
 */
#ifndef FKS_FEEDS_NET_SECRET_H
#define FKS_FEEDS_NET_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024   /* bytes of a secret, including the NUL */

enum secret_status {
	SECRET_OK = 0,
	SECRET_ENV_UNSET = -1,    /* the environment variable is not set */
	SECRET_NO_FILE = -2,      /* the file does not exist */
	SECRET_NOT_REGULAR = -3,  /* a directory, a device, a FIFO, ... */
	SECRET_OPEN_TO_OTHERS = -4, /* group or others have some permission */
	SECRET_EMPTY = -5,        /* nothing left after the trailing newline */
	SECRET_TOO_LONG = -6,     /* SECRET_MAX - 1 bytes or more */
	SECRET_IO = -7,           /* open or read failed otherwise (EACCES, EIO) */
	SECRET_BAD_ARGS = -8,     /* a NULL name or buffer, or cap 0 */
};

/* 0 with the secret (NUL-terminated) in out and its length in *len, or a
 * negative enum secret_status. */
int secret_from_env(const char *var, char *out, size_t cap, size_t *len);
int secret_from_file(const char *path, char *out, size_t cap, size_t *len);

/* A sentence for a status; never the secret. */
const char *secret_strerror(int status);

/* Zero a buffer that held a secret, in a way the compiler keeps. */
void secret_wipe(void *buf, size_t cap);

#endif
