/*
 * index: one open-addressing hash index from a nonzero uint64 key to a
 * uint32 value, the slot of a record in the caller's own pool.  It replaces
 * the private order tables of the L3 books, risk and the sim venue.
 *
 * Linear probing over a power-of-two number of slots, Fibonacci hashing
 * (order ids and references are nearly sequential; the multiply spreads
 * consecutive keys across the table), and backward-shift deletion: a delete
 * pulls later members of its probe run into the hole, so no tombstones
 * accumulate over a trading day and probe lengths never creep up.
 *
 * Key 0 marks an empty slot, so it is never a key: every call refuses it
 * with INDEX_E_KEY.  A caller whose keys can be 0 stores key + 1 or similar.
 *
 * Storage is either the caller's (a static array inside a plain-data struct:
 * risk, the sim venue) or allocated once by index_init (sized from the
 * entry limit: the L3 books).  No call after index_init allocates.
 *
 * Capacity is an entry limit, max_entries, fixed at init and always below
 * the slot count, so a probe always meets an empty slot and ends.  At most
 * half full (n_slots >= 2 * max_entries) keeps probes short; index_init
 * allows up to n_slots - 1 entries for callers that know their keys.
 *
 * Nothing walks the slots to produce output, so their order (which depends
 * on the insertion history) can never reach a journal or a report.
 *
 * Not thread-safe: one index belongs to one thread.  Every call is O(1)
 * expected, except index_init and index_clear, which are O(n_slots).
 */
#ifndef FKS_SHM_INDEX_H
#define FKS_SHM_INDEX_H

#include <stdbool.h>
#include <stdint.h>

/* Errors are negative; index_strerror() describes each.  Stable numbers. */
enum index_status {
	INDEX_OK = 0,
	INDEX_E_NOTFOUND = -1, /* get/del: no entry has this key */
	INDEX_E_FULL = -2,     /* put of a new key with max_entries present */
	INDEX_E_KEY = -3,      /* key 0: reserved for empty slots */
	INDEX_E_INVAL = -4,    /* init: n_slots not a power of two >= 2, or
	                          max_entries 0 or not below n_slots */
	INDEX_E_NOMEM = -5,    /* init: the slot allocation failed */
};

/* One slot.  key == 0: empty. */
struct index_slot {
	uint64_t key;
	uint32_t value;
};

struct index {
	struct index_slot *slot;
	uint32_t mask;        /* n_slots - 1 */
	uint32_t shift;       /* 64 - log2(n_slots), for the hash */
	uint32_t count;       /* entries present */
	uint32_t max_entries; /* put refuses a new key beyond this */
	bool owned;           /* slot was allocated by index_init */
};

/* The largest max_entries that index_init will allocate for (2^31 slots). */
#define INDEX_MAX_ALLOC_ENTRIES (1u << 30)

/*
 * Set up ix, empty, holding at most max_entries entries.
 *
 *  - slots != NULL: the caller's storage of n_slots slots, which must be a
 *    power of two >= 2 and greater than max_entries.  The slots are cleared
 *    here; they must outlive ix and not be shared with another index.
 *  - slots == NULL: index_init allocates the smallest power of two of slots
 *    that is >= 2 * max_entries (n_slots must be 0); max_entries at most
 *    INDEX_MAX_ALLOC_ENTRIES.  index_free releases it.
 *
 * Returns INDEX_OK, INDEX_E_INVAL (ix is then zeroed) or INDEX_E_NOMEM.
 */
int index_init(struct index *ix, uint32_t max_entries, struct index_slot *slots,
	       uint32_t n_slots);

/* Release storage that index_init allocated (never the caller's) and zero
 * ix.  Safe on a zeroed struct and after a failed init; ix may be set up
 * again with index_init. */
void index_free(struct index *ix);

/* Look key up.  INDEX_OK with *value set, INDEX_E_NOTFOUND (*value left
 * alone), or INDEX_E_KEY for key 0. */
int index_get(const struct index *ix, uint64_t key, uint32_t *value);

/* Insert key -> value, or, when key is present, replace its value (that
 * never fails for being full).  INDEX_OK, INDEX_E_FULL when key is new and
 * max_entries are present (nothing changes), or INDEX_E_KEY for key 0. */
int index_put(struct index *ix, uint64_t key, uint32_t value);

/* Remove key.  INDEX_OK with *value (when value is not NULL) set to what key
 * mapped to, INDEX_E_NOTFOUND, or INDEX_E_KEY for key 0.  Other entries'
 * slots may move; their keys and values do not change. */
int index_del(struct index *ix, uint64_t key, uint32_t *value);

/* Remove every entry.  O(n_slots). */
void index_clear(struct index *ix);

/* Entries present, 0 .. max_entries. */
static inline uint32_t index_count(const struct index *ix)
{
	return ix->count;
}

/* A static description of status; "unknown index status" for others. */
const char *index_strerror(int status);

#endif
