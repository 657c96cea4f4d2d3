/*
 * What running a config needs of this host, beyond a valid file: the feed's
 * recording must be readable now, and the journal's path must be a directory
 * the run can use.  Found here, at the key's line and column, rather than by
 * a stage that fails after the others have started.  Only `fks run` and
 * `fks config check` ask (config_load_to_run): replay reads neither.
 */
#include "pipeline/config/config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_recording(struct loader *ld, const struct fks_feed_cfg *f)
{
	if (f->type == FKS_FEED_SYNTHETIC || (f->source != FKS_SOURCE_FILE && f->source != FKS_SOURCE_PCAP))
		return 0;
	char why[128];
	/* O_NONBLOCK: a FIFO without a writer must not hang the check. */
	int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cfg_fail_field(ld, f->path, "\"%s\": cannot read the recording: %s", f->path,
				      strerror_r(errno, why, sizeof why));
	struct stat st;
	bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	if (dir)
		return cfg_fail_field(ld, f->path, "\"%s\" is a directory, not a recording", f->path);
	return 0;
}

/* The directory that holds `path` (path itself has no trailing slash). */
static void parent_dir(const char *path, char *buf, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, cap, ".");
	else if (slash == path)
		snprintf(buf, cap, "/");
	else
		snprintf(buf, cap, "%.*s", (int)(slash - path), path);
}

/* The journal is a directory: created if missing, and a previous journal in
 * it is moved aside to a sibling, so its parent must take new entries. */
static int check_journal_path(struct loader *ld, const struct fks_journal_cfg *j)
{
	char why[128], path[FKS_CONFIG_PATH_MAX], resolved[PATH_MAX], parent[FKS_CONFIG_PATH_MAX];
	snprintf(path, sizeof path, "%s", j->path);
	for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	bool root = !strcmp(path, "/") || (realpath(path, resolved) && !strcmp(resolved, "/"));
	if (root)
		return cfg_fail_field(ld, j->path, "\"%s\" is the root directory: give the journal a directory of "
				      "its own", j->path);
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return cfg_fail_field(ld, j->path, "\"%s\" exists and is not a directory", j->path);
		if (access(path, W_OK | X_OK))
			return cfg_fail_field(ld, j->path, "\"%s\": the journal directory is not writable: %s", j->path,
					      strerror_r(errno, why, sizeof why));
		return 0;
	}
	if (errno != ENOENT)
		return cfg_fail_field(ld, j->path, "\"%s\": %s", j->path, strerror_r(errno, why, sizeof why));
	parent_dir(path, parent, sizeof parent);
	if (stat(parent, &st) || !S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK))
		return cfg_fail_field(ld, j->path, "\"%s\" cannot be created: %s: %s", j->path, parent,
				      errno ? strerror_r(errno, why, sizeof why) : "not a directory");
	return 0;
}

int cfg_check_host(struct loader *ld, const struct fks_config *cfg)
{
	return check_recording(ld, &cfg->feed) || check_journal_path(ld, &cfg->journal) ||
			       cfg_check_notify_host(ld, cfg) || cfg_check_bus_host(ld, cfg)
		       ? -1
		       : 0;
}
