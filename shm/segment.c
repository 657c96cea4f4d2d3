#include "shm/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int seg_path(const char *name, char *buf, size_t cap)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > SEG_NAME_MAX || strchr(name, '/') || n + 2 > cap)
		return RING_E_NAME;
	buf[0] = '/';
	memcpy(buf + 1, name, n + 1);
	return RING_OK;
}

int seg_create(const char *name, size_t len, void **map)
{
	char path[SEG_NAME_MAX + 2];
	int rc = seg_path(name, path, sizeof path);
	if (rc)
		return rc;
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? RING_E_EXISTS : RING_E_SYS;
	/* The umask can only remove bits from 0600, but say it outright. */
	void *m = MAP_FAILED;
	if (fchmod(fd, 0600) == 0 && ftruncate(fd, (off_t)len) == 0)
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int saved = errno;
	close(fd);
	if (m == MAP_FAILED) {
		shm_unlink(path);
		errno = saved;
		return RING_E_SYS;
	}
	*map = m;
	return RING_OK;
}

int seg_map(const char *name, bool writable, size_t min_len, void **map, size_t *len)
{
	char path[SEG_NAME_MAX + 2];
	int rc = seg_path(name, path, sizeof path);
	if (rc)
		return rc;
	int fd = shm_open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? RING_E_NOENT : RING_E_SYS;
	struct stat st;
	if (fstat(fd, &st) != 0)
		rc = RING_E_SYS;
	else if (st.st_uid != geteuid())
		rc = RING_E_OWNER;
	else if (st.st_mode & 077)
		rc = RING_E_PERMS;
	else if ((uint64_t)st.st_size < min_len)
		rc = RING_E_SHORT;
	if (rc == RING_OK) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			rc = RING_E_SYS;
		} else {
			*map = m;
			*len = (size_t)st.st_size;
		}
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

void seg_unmap(const void *map, size_t len)
{
	munmap((void *)map, len);
}

int seg_unlink(const char *name)
{
	char path[SEG_NAME_MAX + 2];
	int rc = seg_path(name, path, sizeof path);
	if (rc)
		return rc;
	if (shm_unlink(path) != 0)
		return errno == ENOENT ? RING_E_NOENT : RING_E_SYS;
	return RING_OK;
}

int seg_stat(const char *name, struct stat *st)
{
	char path[SEG_NAME_MAX + 2];
	int rc = seg_path(name, path, sizeof path);
	if (rc)
		return rc;
	/* shm_open's directory on Linux; stat needs no access to the file. */
	char full[sizeof "/dev/shm" + sizeof path];
	snprintf(full, sizeof full, "/dev/shm%s", path);
	if (stat(full, st) != 0)
		return errno == ENOENT ? RING_E_NOENT : RING_E_SYS;
	return RING_OK;
}

int seg_proc_identity(pid_t pid, uint64_t *start_ticks, char *state)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* comm (field 2) may hold spaces and parentheses: skip to the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	/* p is at field 3; field 22 is 19 fields further on. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	*start_ticks = strtoull(p, NULL, 10);
	return 0;
}

bool seg_proc_alive(pid_t pid, uint64_t start_ticks)
{
	uint64_t ticks;
	char state;
	if (pid <= 0 || seg_proc_identity(pid, &ticks, &state) != 0)
		return false;
	return state != 'Z' && state != 'X' && ticks == start_ticks;
}
