/* shm/index: every call checked against a naive reference (a flat array
 * searched linearly), plus the table's own invariant: each entry is reachable
 * from its home slot without crossing an empty one.  Small tables and keys
 * chosen to home on the last slots make clusters wrap past the end, which is
 * where backward-shift deletion goes wrong if it does. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "shm/index.h"

/* ---- reference and helpers -------------------------------------------- */

#define REF_MAX 4096

struct ref {
	uint64_t key[REF_MAX];
	uint32_t value[REF_MAX];
	uint32_t n;
};

static int ref_find(const struct ref *r, uint64_t key)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (r->key[i] == key)
			return (int)i;
	return -1;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t n_slots(const struct index *ix)
{
	return ix->mask + 1;
}

/* Where key lands when inserted alone: its home slot.  Found through the
 * index itself, so the test does not restate the hash. */
static uint32_t home_of(uint64_t key, uint32_t slots)
{
	struct index_slot st[slots];
	struct index ix;
	cr_assert_eq(index_init(&ix, slots - 1, st, slots), INDEX_OK);
	cr_assert_eq(index_put(&ix, key, 0), INDEX_OK);
	for (uint32_t i = 0; i < slots; i++)
		if (st[i].key == key)
			return i;
	cr_assert_fail("key %llu not stored", (unsigned long long)key);
	return 0;
}

/* The table holds exactly the reference, and every entry sits in the probe
 * run that starts at its home. */
static void check_matches(const struct index *ix, const struct ref *r)
{
	cr_assert_eq(index_count(ix), r->n);
	uint32_t stored = 0;
	for (uint32_t i = 0; i < n_slots(ix); i++) {
		uint64_t key = ix->slot[i].key;
		if (key == 0)
			continue;
		stored++;
		int at = ref_find(r, key);
		cr_assert_geq(at, 0, "slot %u holds key %llu, deleted or never put", i,
			      (unsigned long long)key);
		cr_assert_eq(ix->slot[i].value, r->value[at]);
		for (uint32_t j = home_of(key, n_slots(ix)); j != i; j = (j + 1) & ix->mask)
			cr_assert_neq(ix->slot[j].key, 0, "key %llu in slot %u unreachable: slot %u empty",
				      (unsigned long long)key, i, j);
	}
	cr_assert_eq(stored, r->n);
	for (uint32_t k = 0; k < r->n; k++) {
		uint32_t v = ~0u;
		cr_assert_eq(index_get(ix, r->key[k], &v), INDEX_OK);
		cr_assert_eq(v, r->value[k]);
	}
}

/* One put, checked against the reference, which it updates. */
static void put_both(struct index *ix, struct ref *r, uint64_t key, uint32_t value)
{
	int at = ref_find(r, key);
	int want = key == 0 ? INDEX_E_KEY
		   : at >= 0 ? INDEX_OK
		   : r->n == ix->max_entries ? INDEX_E_FULL : INDEX_OK;
	cr_assert_eq(index_put(ix, key, value), want, "put %llu", (unsigned long long)key);
	if (want != INDEX_OK)
		return;
	if (at < 0) {
		at = (int)r->n++;
		r->key[at] = key;
	}
	r->value[at] = value;
}

static void del_both(struct index *ix, struct ref *r, uint64_t key)
{
	int at = ref_find(r, key);
	uint32_t v = 0xDEADu;
	int want = key == 0 ? INDEX_E_KEY : at < 0 ? INDEX_E_NOTFOUND : INDEX_OK;
	cr_assert_eq(index_del(ix, key, &v), want, "del %llu", (unsigned long long)key);
	if (want != INDEX_OK) {
		cr_assert_eq(v, 0xDEADu, "a failed del wrote *value");
		return;
	}
	cr_assert_eq(v, r->value[at]);
	r->n--;
	r->key[at] = r->key[r->n];
	r->value[at] = r->value[r->n];
}

static void get_both(const struct index *ix, const struct ref *r, uint64_t key)
{
	int at = ref_find(r, key);
	uint32_t v = 0xBEEFu;
	int want = key == 0 ? INDEX_E_KEY : at < 0 ? INDEX_E_NOTFOUND : INDEX_OK;
	cr_assert_eq(index_get(ix, key, &v), want, "get %llu", (unsigned long long)key);
	cr_assert_eq(v, want == INDEX_OK ? r->value[at] : 0xBEEFu);
}

/* n distinct keys whose home is one of the last `span` slots (or, with span
 * 0, any slot), starting the search at *next. */
static void keys_homed_near_end(uint64_t *out, uint32_t n, uint32_t slots, uint32_t span,
				uint64_t *next)
{
	for (uint32_t k = 0; k < n; (*next)++)
		if (span == 0 || home_of(*next, slots) >= slots - span)
			out[k++] = *next;
}

/* ---- init -------------------------------------------------------------- */

Test(index, init_refuses_bad_sizes)
{
	struct index_slot st[16];
	struct index ix;
	cr_assert_eq(index_init(&ix, 1, st, 0), INDEX_E_INVAL);
	cr_assert_eq(index_init(&ix, 1, st, 1), INDEX_E_INVAL);
	cr_assert_eq(index_init(&ix, 1, st, 12), INDEX_E_INVAL, "not a power of two");
	cr_assert_eq(index_init(&ix, 0, st, 16), INDEX_E_INVAL, "no entries");
	cr_assert_eq(index_init(&ix, 16, st, 16), INDEX_E_INVAL, "no empty slot left");
	cr_assert_eq(index_init(&ix, 4, NULL, 16), INDEX_E_INVAL, "n_slots with NULL storage");
	cr_assert_eq(index_init(&ix, 0, NULL, 0), INDEX_E_INVAL);
	cr_assert_eq(index_init(&ix, INDEX_MAX_ALLOC_ENTRIES + 1, NULL, 0), INDEX_E_INVAL);
	cr_assert_null(ix.slot, "a failed init leaves ix zeroed");
	index_free(&ix); /* safe after a failed init */
	cr_assert_eq(index_init(&ix, 15, st, 16), INDEX_OK, "n_slots - 1 entries is allowed");
}

Test(index, allocated_storage_is_at_most_half_full)
{
	const uint32_t want[][2] = {{1, 2}, {2, 4}, {3, 8}, {5, 16}, {8, 16}, {9, 32}, {1000, 2048}};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		struct index ix;
		cr_assert_eq(index_init(&ix, want[i][0], NULL, 0), INDEX_OK);
		cr_assert_eq(n_slots(&ix), want[i][1], "max_entries %u", want[i][0]);
		cr_assert(ix.owned);
		cr_assert_eq(index_count(&ix), 0);
		index_free(&ix);
		cr_assert_null(ix.slot);
	}
}

Test(index, init_clears_caller_storage)
{
	struct index_slot st[8];
	memset(st, 0x5A, sizeof st);
	struct index ix;
	cr_assert_eq(index_init(&ix, 4, st, 8), INDEX_OK);
	cr_assert(!ix.owned);
	cr_assert_eq(ix.slot, st);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(st[i].key, 0);
	uint32_t v;
	cr_assert_eq(index_get(&ix, 0x5A5A5A5A5A5A5A5Aull, &v), INDEX_E_NOTFOUND);
	index_free(&ix); /* must not free st */
	cr_assert_null(ix.slot);
}

/* ---- single operations ------------------------------------------------- */

Test(index, key_zero_is_refused_everywhere)
{
	struct index_slot st[8];
	struct index ix;
	index_init(&ix, 4, st, 8);
	cr_assert_eq(index_put(&ix, 7, 70), INDEX_OK);
	uint32_t v = 123;
	cr_assert_eq(index_put(&ix, 0, 1), INDEX_E_KEY);
	cr_assert_eq(index_get(&ix, 0, &v), INDEX_E_KEY);
	cr_assert_eq(index_del(&ix, 0, &v), INDEX_E_KEY);
	cr_assert_eq(v, 123);
	cr_assert_eq(index_count(&ix), 1);
	cr_assert_eq(index_get(&ix, 7, &v), INDEX_OK);
	cr_assert_eq(v, 70);
}

Test(index, put_updates_get_reads_del_removes)
{
	struct index_slot st[16];
	struct index ix;
	index_init(&ix, 8, st, 16);
	uint32_t v;
	cr_assert_eq(index_get(&ix, 42, &v), INDEX_E_NOTFOUND);
	cr_assert_eq(index_put(&ix, 42, 1), INDEX_OK);
	cr_assert_eq(index_put(&ix, UINT64_MAX, 2), INDEX_OK);
	cr_assert_eq(index_put(&ix, 42, 3), INDEX_OK, "update");
	cr_assert_eq(index_count(&ix), 2, "an update adds no entry");
	cr_assert_eq(index_get(&ix, 42, &v), INDEX_OK);
	cr_assert_eq(v, 3);
	cr_assert_eq(index_get(&ix, UINT64_MAX, &v), INDEX_OK);
	cr_assert_eq(v, 2);
	cr_assert_eq(index_del(&ix, 42, NULL), INDEX_OK, "value may be NULL");
	cr_assert_eq(index_del(&ix, 42, &v), INDEX_E_NOTFOUND);
	cr_assert_eq(index_get(&ix, 42, &v), INDEX_E_NOTFOUND);
	cr_assert_eq(index_count(&ix), 1);
	index_clear(&ix);
	cr_assert_eq(index_count(&ix), 0);
	cr_assert_eq(index_get(&ix, UINT64_MAX, &v), INDEX_E_NOTFOUND);
}

Test(index, full_refuses_new_keys_but_updates_old_ones)
{
	struct index_slot st[8];
	struct index ix;
	struct ref r = {0};
	index_init(&ix, 7, st, 8);
	for (uint64_t k = 1; k <= 7; k++)
		put_both(&ix, &r, k * 1000003, (uint32_t)k);
	cr_assert_eq(index_put(&ix, 99, 9), INDEX_E_FULL);
	cr_assert_eq(index_count(&ix), 7);
	check_matches(&ix, &r);
	/* One empty slot left: lookups of absent keys still end. */
	for (uint64_t k = 1; k < 200; k++)
		get_both(&ix, &r, k);
	put_both(&ix, &r, 3 * 1000003, 333);
	check_matches(&ix, &r);
	del_both(&ix, &r, 5 * 1000003);
	put_both(&ix, &r, 99, 9);
	check_matches(&ix, &r);
}

/* ---- backward shift across the end of the table ------------------------ */

/* A cluster homed on the last slots wraps to the front; deleting each of its
 * members in turn, in every rotation, must leave the others reachable. */
Test(index, deletes_in_wrapped_clusters)
{
	enum { SLOTS = 16, N = 12 };
	uint64_t next = 1, late[8], any[N - 8];
	keys_homed_near_end(late, 8, SLOTS, 3, &next);
	keys_homed_near_end(any, N - 8, SLOTS, 0, &next);
	uint64_t keys[N];
	memcpy(keys, late, sizeof late);
	memcpy(keys + 8, any, sizeof any);

	for (uint32_t first = 0; first < N; first++) {
		struct index_slot st[SLOTS];
		struct index ix;
		struct ref r = {0};
		index_init(&ix, SLOTS - 1, st, SLOTS);
		for (uint32_t k = 0; k < N; k++)
			put_both(&ix, &r, keys[k], k);
		cr_assert_neq(st[0].key, 0, "the cluster should wrap into slot 0");
		check_matches(&ix, &r);
		for (uint32_t k = 0; k < N; k++) {
			del_both(&ix, &r, keys[(first + k) % N]);
			check_matches(&ix, &r);
		}
		cr_assert_eq(index_count(&ix), 0);
	}
}

/* ---- random operations against the reference --------------------------- */

static void random_run(uint32_t slots, uint32_t max_entries, uint64_t seed, int ops)
{
	struct index_slot *st = malloc(slots * sizeof *st);
	struct ref *r = calloc(1, sizeof *r);
	struct index ix;
	cr_assert_eq(index_init(&ix, max_entries, st, slots), INDEX_OK);
	/* A universe of 2 * max_entries keys, a third homed on the last slots,
	 * so puts hit both present and absent keys, the table fills, and
	 * clusters wrap. */
	uint32_t n_keys = 2 * max_entries;
	uint64_t *keys = malloc(n_keys * sizeof *keys), next = seed * 7919 + 1;
	keys_homed_near_end(keys, n_keys / 3, slots, slots / 8 + 1, &next);
	keys_homed_near_end(keys + n_keys / 3, n_keys - n_keys / 3, slots, 0, &next);
	uint64_t s = seed;
	for (int i = 0; i < ops; i++) {
		uint64_t x = splitmix(&s);
		uint64_t key = x % 64 == 0 ? 0 : keys[(x >> 8) % n_keys];
		switch ((x >> 40) % 10) {
		case 0: case 1: case 2: case 3: case 4:
			put_both(&ix, r, key, (uint32_t)(x >> 32));
			break;
		case 5: case 6: case 7:
			del_both(&ix, r, key);
			break;
		default:
			get_both(&ix, r, key);
		}
		if (x % 997 == 0) {
			index_clear(&ix);
			r->n = 0;
		}
		if (i % 64 == 0)
			check_matches(&ix, r);
	}
	check_matches(&ix, r);
	free(keys);
	free(r);
	free(st);
}

Test(index, random_ops_small_and_crowded)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		random_run(16, 15, seed, 4000);
}

Test(index, random_ops_half_full)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		random_run(64, 32, seed, 6000);
}

Test(index, random_ops_larger)
{
	random_run(1024, 700, 99, 20000);
}

/* Sequential keys, the shape of order ids and ITCH references, through the
 * allocated path: every one is found and deletes leave the rest intact. */
Test(index, sequential_keys_allocated)
{
	enum { N = 3000 };
	struct index ix;
	struct ref *r = calloc(1, sizeof *r);
	cr_assert_eq(index_init(&ix, N, NULL, 0), INDEX_OK);
	for (uint64_t k = 1; k <= N; k++)
		put_both(&ix, r, 1000000 + k, (uint32_t)k);
	cr_assert_eq(index_put(&ix, 1, 1), INDEX_E_FULL);
	for (uint64_t k = 1; k <= N; k += 3)
		del_both(&ix, r, 1000000 + k);
	check_matches(&ix, r);
	index_free(&ix);
	free(r);
}

Test(index, strerror_names_every_status)
{
	const int all[] = {INDEX_OK, INDEX_E_NOTFOUND, INDEX_E_FULL, INDEX_E_KEY, INDEX_E_INVAL,
			   INDEX_E_NOMEM};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		cr_assert_str_neq(index_strerror(all[i]), "unknown index status");
	cr_assert_str_eq(index_strerror(-99), "unknown index status");
}
