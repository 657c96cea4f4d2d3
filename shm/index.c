/* The open-addressing key -> record-slot index (index.h). */
#include "shm/index.h"

#include <stdlib.h>
#include <string.h>

static uint32_t home(const struct index *ix, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> ix->shift);
}

/* The slot holding key, or the empty slot ending its probe run. */
static uint32_t probe(const struct index *ix, uint64_t key)
{
	uint32_t i = home(ix, key);
	while (ix->slot[i].key != key && ix->slot[i].key != 0)
		i = (i + 1) & ix->mask;
	return i;
}

static uint32_t log2_of(uint64_t pow2)
{
	return (uint32_t)__builtin_ctzll(pow2);
}

int index_init(struct index *ix, uint32_t max_entries, struct index_slot *slots,
	       uint32_t n_slots)
{
	memset(ix, 0, sizeof *ix);
	uint64_t n = n_slots;
	if (slots == NULL) {
		if (n_slots != 0 || max_entries == 0 || max_entries > INDEX_MAX_ALLOC_ENTRIES)
			return INDEX_E_INVAL;
		for (n = 2; n < 2ull * max_entries; n <<= 1)
			;
	} else if (n < 2 || (n & (n - 1)) != 0 || max_entries == 0 || max_entries >= n) {
		return INDEX_E_INVAL;
	}
	if (slots == NULL) {
		slots = calloc((size_t)n, sizeof *slots);
		if (slots == NULL)
			return INDEX_E_NOMEM;
		ix->owned = true;
	}
	ix->slot = slots;
	ix->mask = (uint32_t)(n - 1);
	ix->shift = 64 - log2_of(n);
	ix->max_entries = max_entries;
	index_clear(ix);
	return INDEX_OK;
}

void index_free(struct index *ix)
{
	if (ix->owned)
		free(ix->slot);
	memset(ix, 0, sizeof *ix);
}

int index_get(const struct index *ix, uint64_t key, uint32_t *value)
{
	if (key == 0)
		return INDEX_E_KEY;
	const struct index_slot *s = &ix->slot[probe(ix, key)];
	if (s->key == 0)
		return INDEX_E_NOTFOUND;
	*value = s->value;
	return INDEX_OK;
}

int index_put(struct index *ix, uint64_t key, uint32_t value)
{
	if (key == 0)
		return INDEX_E_KEY;
	struct index_slot *s = &ix->slot[probe(ix, key)];
	if (s->key == 0) {
		if (ix->count == ix->max_entries)
			return INDEX_E_FULL;
		s->key = key;
		ix->count++;
	}
	s->value = value;
	return INDEX_OK;
}

int index_del(struct index *ix, uint64_t key, uint32_t *value)
{
	if (key == 0)
		return INDEX_E_KEY;
	uint32_t hole = probe(ix, key);
	if (ix->slot[hole].key == 0)
		return INDEX_E_NOTFOUND;
	if (value)
		*value = ix->slot[hole].value;
	/* Backward shift: walk the rest of the run; an entry whose home is not
	 * cyclically within (hole, j] would be unreachable past the hole, so it
	 * moves into it and its old slot becomes the hole. */
	for (uint32_t j = (hole + 1) & ix->mask; ix->slot[j].key != 0; j = (j + 1) & ix->mask) {
		uint32_t h = home(ix, ix->slot[j].key);
		bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
		if (!stays) {
			ix->slot[hole] = ix->slot[j];
			hole = j;
		}
	}
	ix->slot[hole] = (struct index_slot){0};
	ix->count--;
	return INDEX_OK;
}

void index_clear(struct index *ix)
{
	if (ix->slot)
		memset(ix->slot, 0, ((size_t)ix->mask + 1) * sizeof *ix->slot);
	ix->count = 0;
}

const char *index_strerror(int status)
{
	switch (status) {
	case INDEX_OK: return "ok";
	case INDEX_E_NOTFOUND: return "no entry has this key";
	case INDEX_E_FULL: return "index full: max_entries present";
	case INDEX_E_KEY: return "key 0 is reserved for empty slots";
	case INDEX_E_INVAL: return "invalid index size (slots not a power of two above max_entries)";
	case INDEX_E_NOMEM: return "index slot allocation failed";
	}
	return "unknown index status";
}
