/*
 * Private to pipeline/config/: what the files of the config loader share.
 *
 *   config_schema.c      the schema: one field table per section (key, type,
 *                        range, destination), the enum names, the defaults
 *   config_load.c        text -> one YAML document -> walk -> checks; the
 *                        entry points, and errors as file:line:column: key
 *   config_walk.c        the walk: each YAML node against its field table,
 *                        scalars typed, ranged and stored, marks recorded
 *   config_checks.c      rules over several values: stages and cores, rings,
 *                        instruments, limits, names, the feed
 *   config_risk.c        the risk section: `rules` or the legacy shorthand,
 *                        and config_build_risk
 *   config_venue.c       the venue section: its walk, its check, its context
 *   config_strategies.c  the strategies list: its check, config_build_engine
 *   config_describe.c    config_describe: the resolved config as text
 *   config_host.c        what running needs of this host: the feed's
 *                        recording, the journal's directory
 *   config_notify.c      the notify section: its check, and its URLs' sources
 *   config_bus.c         the bus section: URLs, names, max_age, creds_file
 *
 * Outside this folder, use config.h.
 */
#ifndef FKS_PIPELINE_CONFIG_INT_H
#define FKS_PIPELINE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "pipeline/config/config.h"

#define KEY_PATH_MAX 96
#define MAX_MARKS 2048  /* > every scalar the schema can hold: ~60 + 64 * 4 + 32 * 27 + 12 * 9 */

/* ---- the schema (config_schema.c) ------------------------------------------ */

enum field_kind {
	FK_SECTION,  /* a mapping described by `sub` */
	FK_LIST,     /* a sequence of mappings described by `sub` */
	FK_INT,      /* plain integer in min..max, stored in `size` bytes */
	FK_U64,      /* plain integer, the whole uint64 range */
	FK_FIXED,    /* decimal stored as an integer at `scale`, in min..max */
	FK_DECIMAL,  /* decimal kept as text: its scale depends on the instrument */
	FK_BOOL,
	FK_STRING,
	FK_ENUM,     /* one of `choices`, stored as its value */
	FK_PARAMS,   /* a mapping of any keys to scalars, kept as text (struct fks_param_text) */
	FK_VENUE,    /* the venue section: `type`, and any other key as a param (struct fks_venue_cfg) */
};

struct choice {
	const char *name;
	int value;
};

struct field {
	const char *key;
	enum field_kind kind;
	size_t offset;               /* of the destination in the enclosing struct */
	size_t size;                 /* of the destination */
	bool required;
	bool pow2;                   /* FK_INT: also a power of two */
	int64_t min, max;            /* FK_INT; FK_FIXED in scaled units */
	unsigned scale;              /* FK_FIXED */
	const struct choice *choices;/* FK_ENUM: ends with a NULL name */
	const struct field *sub;     /* FK_SECTION, FK_LIST: ends with a NULL key */
	size_t elem_size;            /* FK_LIST */
	uint32_t max_items;          /* FK_LIST (which also needs one item at least) */
	size_t count_offset;         /* FK_LIST: where the uint32_t count goes */
};

#define AT(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* The names of the enum keys, shared with the checks and config_describe. */
extern const struct choice cfg_overflow_choices[];
extern const struct choice cfg_feed_type_choices[];
extern const struct choice cfg_feed_source_choices[];
extern const struct choice cfg_strategy_type_choices[];
extern const struct choice cfg_order_type_choices[];
extern const struct choice cfg_sync_choices[];

/* A notify target's keys: the walk names the secret sources when `url` is written. */
extern const struct field cfg_notify_target_fields[];

/* The root of the schema: the top-level keys of a config file. */
extern const struct field cfg_top_fields[];

/* Every key's default, before the file is walked. */
void cfg_set_defaults(struct fks_config *c);
/* The name of an enum value, or "?". */
const char *cfg_choice_name(const struct choice *c, int value);

/* ---- loader state and error reporting (config_load.c) ---------------------- */

/* Where a stored value came from, found again by the address it went to. */
struct value_mark {
	const void *dst;
	yaml_mark_t mark;
	char path[KEY_PATH_MAX];
};

struct loader {
	const char *name;
	const char *text;
	size_t len;
	char *err;
	size_t errlen;
	yaml_document_t doc;
	unsigned n_marks;
	struct value_mark marks[MAX_MARKS];
};

void cfg_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Report at a mark; returns -1 so callers can `return cfg_fail_at(...)`. */
int cfg_fail_at(struct loader *ld, const yaml_mark_t *m, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Report against the value stored at dst, at the mark it was read from. */
int cfg_fail_field(struct loader *ld, const void *dst, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record that the value at dst was read from node v, at key path `path`. */
void cfg_remember(struct loader *ld, const void *dst, const yaml_node_t *v, const char *path);
/* Where the value at dst was read from, or NULL for a default. */
const struct value_mark *cfg_find_mark(const struct loader *ld, const void *dst);

/* ---- the walk (config_walk.c) ---------------------------------------------- */

/* YAML node accessors: every file that reads nodes uses them. */
static inline const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
static inline size_t scalar_len(const yaml_node_t *n) { return n->data.scalar.length; }
static inline bool is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static inline bool scalar_is(const yaml_node_t *n, const char *s)
{
	return scalar_len(n) == strlen(s) && !memcmp(scalar(n), s, scalar_len(n));
}

static inline yaml_node_t *node(struct loader *ld, int id) { return yaml_document_get_node(&ld->doc, id); }

/* `parent.key`, cut to KEY_PATH_MAX. */
void cfg_child_path(char *buf, const char *parent, const char *key, size_t key_len);
/* An earlier pair of the same mapping with the same key, or NULL. */
const yaml_node_t *cfg_earlier_key(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *pair);
int cfg_fail_type(struct loader *ld, const yaml_node_t *v, const char *path, const struct field *f);
/* Type-check, range-check and store one scalar of field f at dst. */
int cfg_store_scalar(struct loader *ld, const struct field *f, const yaml_node_t *v, const char *path, void *dst);
/* One `key: value` pair of a parameter mapping, kept as text in out[*n]. */
int cfg_take_param(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *p, const char *path,
		   struct fks_param_text *out, uint32_t *n, uint32_t max);
/* Walk one mapping against its field table; owner is where a missing key
 * is reported. */
int cfg_walk_mapping(struct loader *ld, const yaml_node_t *map, const yaml_mark_t *owner, const char *path,
		     const struct field *fields, char *base);

/* ---- checks over several values (config_checks.c and the sections) -------- */

/* Every check, in order, once the walk succeeded. */
int cfg_check_config(struct loader *ld, struct fks_config *cfg);
/* A decimal that fx_parse accepted is > 0 (>= 0 when zero_ok). */
int cfg_check_positive(struct loader *ld, const char *text, bool zero_ok);

/* ---- the risk section (config_risk.c) -------------------------------------- */

/* `rules`, or the whole legacy shorthand: one of the two, never both. */
int cfg_check_risk_form(struct loader *ld, struct fks_config *cfg);
/* Expand the legacy shorthand into rules and build the runner once. */
int cfg_check_risk_rules(struct loader *ld, struct fks_config *cfg);
/* strategy.qty at most every max_order_qty rule's limit, at every instrument. */
int cfg_check_order_size(struct loader *ld, const struct fks_config *cfg);

/* ---- what running needs of this host (config_host.c) ----------------------- */

/* The feed's recording readable, the journal's path usable as a directory. */
int cfg_check_host(struct loader *ld, const struct fks_config *cfg);

/* ---- the notify section (config_notify.c) ---------------------------------- */

/* Unique target names, exactly one URL source per target. */
int cfg_check_notify(struct loader *ld, const struct fks_config *cfg);
/* Each target's URL readable (set, or a 0600 file) and https. */
int cfg_check_notify_host(struct loader *ld, const struct fks_config *cfg);

/* ---- the bus section (config_bus.c) --------------------------------------- */

/* URLs without credentials, stream/consumer names and the prefix as NATS
 * takes them, max_age a duration (resolved into max_age_ns). */
int cfg_check_bus(struct loader *ld, struct fks_config *cfg);
/* creds_file readable and of mode 0600. */
int cfg_check_bus_host(struct loader *ld, const struct fks_config *cfg);

/* ---- the venue section (config_venue.c) ------------------------------------ */

/* `type`, and every other key a parameter of that venue, kept as text. */
int cfg_walk_venue(struct loader *ld, const struct field *f, const yaml_node_t *map, const char *path,
		   char *base);
/* A type of the venue registry, and parameters its own init accepts. */
int cfg_check_venue(struct loader *ld, const struct fks_config *cfg);
/* metrics.listen: an IP address and a port (config_metrics.c). */
int cfg_check_metrics(struct loader *ld, const struct fks_config *cfg);

/* ---- the strategies list (config_strategies.c) ----------------------------- */

/* Known instruments, unique names, parameters the engine accepts. */
int cfg_check_strategies(struct loader *ld, struct fks_config *cfg);

#endif
