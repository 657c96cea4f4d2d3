/*
 * The venue section: `type`, a name of the venue registry, and every other
 * key a parameter of that venue, kept as text for its own init, which the
 * loader runs once to check them.
 */
#include "pipeline/config/config_int.h"

#include <stdlib.h>

#include "gateway/venue.h"

/* The venue section: `type`, a name of the venue registry (cfg_check_venue
 * looks it up), and every other key a parameter of that venue, kept as
 * text for its init: the loader knows no venue's parameters. */
int cfg_walk_venue(struct loader *ld, const struct field *f, const yaml_node_t *map, const char *path,
		   char *base)
{
	static const struct field want_mapping = { .kind = FK_SECTION };
	static const struct field type_field = { .key = "type", .kind = FK_STRING,
						 AT(struct fks_venue_cfg, type) };
	if (map->type != YAML_MAPPING_NODE)
		return cfg_fail_type(ld, map, path, &want_mapping);
	struct fks_venue_cfg *vc = (struct fks_venue_cfg *)(base + f->offset);
	uint32_t n = 0;
	char sub[KEY_PATH_MAX];
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = node(ld, p->key);
		if (key->type != YAML_SCALAR_NODE || !scalar_is(key, type_field.key)) {
			if (cfg_take_param(ld, map, p, path, vc->param, &n, FKS_VENUE_PARAMS_MAX))
				return -1;
			continue;
		}
		cfg_child_path(sub, path, scalar(key), scalar_len(key));
		const yaml_node_t *first = cfg_earlier_key(ld, map, p);
		if (first)
			return cfg_fail_at(ld, &key->start_mark, sub, "duplicate key (first at line %zu)",
					   first->start_mark.line + 1);
		const yaml_node_t *v = node(ld, p->value);
		if (cfg_store_scalar(ld, &type_field, v, sub, vc->type))
			return -1;
		cfg_remember(ld, vc->type, v, sub);
	}
	vc->n_params = n;
	return 0;
}

static int fail_venue_type(struct loader *ld, const struct fks_config *cfg)
{
	char known[160];
	size_t used = 0;
	known[0] = '\0';
	for (size_t i = 0; venue_at(i) && used < sizeof known; i++)
		used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", venue_at(i)->type);
	return cfg_fail_field(ld, cfg->venue.type, "unknown venue type \"%s\"; known types: %s", cfg->venue.type, known);
}

/* The venue: a type of the registry, and parameters its own init accepts.
 * The init runs once here, on scratch state, with what the gateway stage
 * will give it, so a refused parameter is reported at its own line and
 * column before anything starts.  (A venue whose init connects would want
 * a check of its own instead; sim, the only one, connects to nothing.) */
int cfg_check_venue(struct loader *ld, const struct fks_config *cfg)
{
	const struct venue_vtbl *vt = venue_find(cfg->venue.type);
	if (!vt)
		return fail_venue_type(ld, cfg);
	void *state = calloc(1, vt->state_size);
	if (!state) {
		cfg_set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	struct venue_ctx ctx;
	struct fks_param params[FKS_VENUE_PARAMS_MAX];
	struct fks_param_error verr = { .key = NULL };
	config_venue_ctx(cfg, &ctx);
	size_t n = config_venue_params(cfg, params);
	int rc = vt->init(state, &ctx, params, n, &verr);
	if (rc == 0 && vt->close)
		vt->close(state);
	free(state);
	if (rc == 0)
		return 0;
	for (size_t k = 0; verr.key && k < n; k++)
		if (!strcmp(params[k].key, verr.key))
			return cfg_fail_field(ld, cfg->venue.param[k].value, "%s", verr.msg);
	return cfg_fail_field(ld, cfg->venue.type, "%s", verr.msg);
}

void config_venue_ctx(const struct fks_config *cfg, struct venue_ctx *ctx)
{
	_Static_assert(FKS_MAX_INSTRUMENTS <= VENUE_MAX_INSTRUMENTS, "every instrument fits a venue_ctx");
	memset(ctx, 0, sizeof *ctx);
	ctx->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		ctx->instrument[i] = cfg->instrument[i].id;
		memcpy(ctx->symbol[i], cfg->instrument[i].symbol, FKS_SYMBOL_MAX);
		ctx->symbol[i][FKS_SYMBOL_MAX - 1] = '\0';
		ctx->px_scale[i] = cfg->instrument[i].px_scale;
		ctx->qty_scale[i] = cfg->instrument[i].qty_scale;
	}
}

size_t config_venue_params(const struct fks_config *cfg, struct fks_param *out)
{
	size_t n = cfg->venue.n_params < FKS_VENUE_PARAMS_MAX ? cfg->venue.n_params : FKS_VENUE_PARAMS_MAX;
	for (size_t k = 0; k < n; k++)
		out[k] = (struct fks_param){ cfg->venue.param[k].key, cfg->venue.param[k].value };
	return n;
}
