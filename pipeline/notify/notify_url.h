/*
 * Which webhook URLs a notification target may post to, and reading one
 * from where the config says it is.  Shared by the config loader (which
 * checks a target at load, at its line and column) and the notifier
 * (which reads it again when `fks run` starts).
 *
 * A URL is a secret (whoever has it can post to the channel): it is read
 * from an environment variable or a 0600 file (feeds/net/secret.h), and no
 * message here ever contains it or any part of it.
 */
#ifndef FKS_PIPELINE_NOTIFY_URL_H
#define FKS_PIPELINE_NOTIFY_URL_H

#include <stddef.h>

#include "pipeline/config/config.h"

#define NOTIFY_URL_MAX 1024 /* bytes of a URL, with its NUL (SECRET_MAX) */

/* 0 when url is https://HOST/..., or http:// to a loopback host (127.x,
 * localhost, [::1]: a local relay, and the tests' listener); else -1 with
 * the reason, which never quotes the URL, in why. */
int notify_url_check(const char *url, char *why, size_t cap);

/* The URL of target t, read from its url_env or url_file and checked:
 * 0, or -1 with the reason in why ("$VAR: the environment variable is not
 * set", "/etc/fks/hook: the secret file is open to group or others (chmod
 * 600 it)", "the URL in $VAR: ..."); out then holds no byte of it. */
int notify_url_read(const struct fks_notify_target_cfg *t, char *out, size_t cap, char *why, size_t whycap);

#endif
