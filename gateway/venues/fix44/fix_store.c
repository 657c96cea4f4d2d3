#include "gateway/venues/fix44/fix_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAGIC "FKSFIX44"
#define STORE_VERSION 1

static void init_header(struct fix_store_file *f, const char *sender, const char *target)
{
	memcpy(f->magic, STORE_MAGIC, sizeof f->magic);
	f->version = STORE_VERSION;
	f->slots = FIX_STORE_SLOTS;
	snprintf(f->sender, sizeof f->sender, "%s", sender);
	snprintf(f->target, sizeof f->target, "%s", target);
	f->next_out = f->next_in = 1;
}

static int check_header(const struct fix_store_file *f, const char *path, const char *sender,
			const char *target, char *err, size_t errlen)
{
	if (memcmp(f->magic, STORE_MAGIC, sizeof f->magic) != 0) {
		snprintf(err, errlen, "%s is not a fix44 session store", path);
		return -1;
	}
	if (f->version != STORE_VERSION || f->slots != FIX_STORE_SLOTS) {
		snprintf(err, errlen, "%s: store version %u with %u slots, expected %u with %u", path, f->version,
			 f->slots, STORE_VERSION, FIX_STORE_SLOTS);
		return -1;
	}
	if (strncmp(f->sender, sender, sizeof f->sender) != 0 || strncmp(f->target, target, sizeof f->target) != 0) {
		snprintf(err, errlen, "%s belongs to the session %.32s -> %.32s, not %s -> %s", path, f->sender,
			 f->target, sender, target);
		return -1;
	}
	if (f->next_out == 0 || f->next_in == 0) {
		snprintf(err, errlen, "%s: sequence numbers of 0", path);
		return -1;
	}
	return 0;
}

int fix_store_open(struct fix_store *s, const char *path, const char *sender, const char *target, char *err,
		   size_t errlen)
{
	s->f = NULL;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	bool fresh = fstat(fd, &st) == 0 && st.st_size == 0;
	if (fstat(fd, &st) != 0 || (st.st_size != 0 && (size_t)st.st_size != sizeof(struct fix_store_file)) ||
	    (fresh && ftruncate(fd, sizeof(struct fix_store_file)) != 0)) {
		snprintf(err, errlen, "%s: not a fix44 session store (size %lld)", path, (long long)st.st_size);
		close(fd);
		return -1;
	}
	void *p = mmap(NULL, sizeof(struct fix_store_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	s->f = p;
	if (fresh) {
		init_header(s->f, sender, target);
		fix_store_sync(s);
	} else if (check_header(s->f, path, sender, target, err, errlen) != 0) {
		fix_store_close(s);
		return -1;
	}
	return 0;
}

void fix_store_close(struct fix_store *s)
{
	if (!s->f)
		return;
	fix_store_sync(s);
	munmap(s->f, sizeof *s->f);
	s->f = NULL;
}

void fix_store_sync(struct fix_store *s)
{
	if (s->f)
		(void)msync(s->f, sizeof *s->f, MS_SYNC);
}

void fix_store_reset(struct fix_store *s)
{
	for (size_t i = 0; i < FIX_STORE_SLOTS; i++)
		s->f->slot[i].seq = 0;
	s->f->next_out = s->f->next_in = 1;
}

void fix_store_put(struct fix_store *s, uint64_t seq, const char *type, int64_t sending_time_ns, const char *body,
		   size_t len)
{
	struct fix_store_slot *sl = &s->f->slot[seq % FIX_STORE_SLOTS];
	sl->seq = 0;
	if (len > FIX_STORE_BODY_MAX || strlen(type) >= sizeof sl->type)
		return;
	memcpy(sl->body, body, len);
	sl->len = (uint32_t)len;
	sl->sending_time_ns = sending_time_ns;
	snprintf(sl->type, sizeof sl->type, "%s", type);
	sl->seq = seq;
}

const struct fix_store_slot *fix_store_get(const struct fix_store *s, uint64_t seq)
{
	const struct fix_store_slot *sl = &s->f->slot[seq % FIX_STORE_SLOTS];
	return sl->seq == seq && seq != 0 ? sl : NULL;
}
