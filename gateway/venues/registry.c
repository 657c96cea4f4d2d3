/*
 * The venue registry: one line per venue type, and the integer parser the
 * implementations share.  Adding a venue is its folder and one line here.
 */
#include "gateway/venue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/venues/fix44/fix44_ops.h"
#include "gateway/venues/sim/sim_ops.h"

static const struct venue_vtbl *const registry[] = {
	&sim_venue_vtbl,
	&fix44_venue_vtbl,
};

#define N_VENUES (sizeof registry / sizeof registry[0])

const struct venue_vtbl *venue_find(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < N_VENUES; i++)
		if (strcmp(registry[i]->type, type) == 0)
			return registry[i];
	return NULL;
}

const struct venue_vtbl *venue_at(size_t i)
{
	return i < N_VENUES ? registry[i] : NULL;
}

int venue_parse_u32(const struct fks_param *p, uint32_t lo, uint32_t hi, uint32_t *out,
		    struct fks_param_error *err)
{
	const char *s = p->value;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return fks_param_fail(err, p->key, "expected an integer in %u..%u, got '%s'", lo, hi,
				  s ? s : "");
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return fks_param_fail(err, p->key, "expected an integer in %u..%u, got '%s'", lo, hi, s);
	*out = (uint32_t)v;
	return 0;
}
