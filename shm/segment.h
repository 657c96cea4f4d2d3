/*
 * Named shared-memory segments: a file in /dev/shm, mode 0600, owned by the
 * user that created it.  The ring and the pipeline's run segment are both
 * built on this; each adds its own header (magic, version, geometry) and
 * validates it after seg_map.
 */
#ifndef FKS_SHM_SEGMENT_H
#define FKS_SHM_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "shm/ring.h" /* the RING_E_* status codes are shared by every segment */

#define SEG_NAME_MAX RING_NAME_MAX

/* Create /dev/shm/<name> (O_EXCL, 0600 whatever the umask), size it to len
 * zeroed bytes and map it read-write.  RING_E_NAME, RING_E_EXISTS,
 * RING_E_SYS (errno kept). */
int seg_create(const char *name, size_t len, void **map);

/* Open and map an existing segment after checking, in order: it exists
 * (RING_E_NOENT), this user owns the file (RING_E_OWNER), no group or other
 * permission bits (RING_E_PERMS), at least min_len bytes (RING_E_SHORT).
 * *len is the whole file. */
int seg_map(const char *name, bool writable, size_t min_len, void **map, size_t *len);

void seg_unmap(const void *map, size_t len);
/* RING_E_NOENT if it did not exist. */
int seg_unlink(const char *name);

/* Owner and mode of an existing segment, for a message about one that
 * seg_map refused: needs no permission on the segment itself.
 * RING_E_NAME, RING_E_NOENT, RING_E_SYS (errno kept). */
int seg_stat(const char *name, struct stat *st);

/* Who holds a segment is recorded as a pid and that process's start time
 * (field 22 of /proc/PID/stat, clock ticks since boot): the start time tells
 * a recycled pid from the process that wrote it.  Fills both for pid and
 * the state letter (a zombie, 'Z', is dead though kill(pid, 0) succeeds);
 * returns -1 if there is no such process. */
int seg_proc_identity(pid_t pid, uint64_t *start_ticks, char *state);
/* The process pid, started at start_ticks, still exists and is no zombie. */
bool seg_proc_alive(pid_t pid, uint64_t start_ticks);

#endif
