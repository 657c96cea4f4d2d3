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

#endif
