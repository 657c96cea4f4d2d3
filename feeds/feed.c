/* The venue symbol table (feed.h). */
#include "feeds/feed.h"

#include <string.h>

#define SLOTS (2 * FEED_MAX_SYMBOLS)
_Static_assert((SLOTS & (SLOTS - 1)) == 0, "slot count must be a power of two");

void feed_symtab_init(struct feed_symtab *t, bool learn, uint8_t px_scale, uint8_t qty_scale)
{
	memset(t, 0, sizeof *t);
	t->learn = learn;
	t->default_px_scale = px_scale;
	t->default_qty_scale = qty_scale;
}

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a: symbols are short, this is enough */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The slot holding name, or the empty slot where it would go. */
static struct feed_symbol *probe(struct feed_symtab *t, const char *name, size_t len)
{
	for (uint32_t i = hash(name, len);; i++) {
		struct feed_symbol *e = &t->slot[i & (SLOTS - 1)];
		if (!e->id || (e->len == len && memcmp(e->name, name, len) == 0))
			return e;
	}
}

uint32_t feed_symtab_add(struct feed_symtab *t, const char *name, size_t len,
			 uint8_t px_scale, uint8_t qty_scale)
{
	if (len == 0 || len > FEED_SYMBOL_MAX)
		return 0;
	struct feed_symbol *e = probe(t, name, len);
	if (e->id)
		return e->id;
	if (t->n == FEED_MAX_SYMBOLS) /* the table is at most half full: probes end */
		return 0;
	memcpy(e->name, name, len);
	e->len = (uint8_t)len;
	e->px_scale = px_scale;
	e->qty_scale = qty_scale;
	e->id = ++t->n;
	t->slot_of_id[e->id] = (uint32_t)(e - t->slot);
	return e->id;
}

uint32_t feed_symtab_lookup(struct feed_symtab *t, const char *name, size_t len)
{
	if (len == 0 || len > FEED_SYMBOL_MAX)
		return 0;
	struct feed_symbol *e = probe(t, name, len);
	if (e->id)
		return e->id;
	return t->learn ? feed_symtab_add(t, name, len, t->default_px_scale, t->default_qty_scale) : 0;
}

const struct feed_symbol *feed_symtab_get(const struct feed_symtab *t, uint32_t id)
{
	return id >= 1 && id <= t->n ? &t->slot[t->slot_of_id[id]] : NULL;
}

size_t feed_counter_put(struct named_counter *out, size_t cap, size_t n, const char *name, uint64_t v)
{
	if (n < cap)
		out[n] = (struct named_counter){ name, v };
	return n + 1;
}

size_t feed_counter_put_all(struct named_counter *out, size_t cap, size_t n, const struct named_counter *c,
			    size_t k, size_t first)
{
	for (size_t i = first; i < k; i++)
		n = feed_counter_put(out, cap, n, c[i].name, c[i].n);
	return n;
}
