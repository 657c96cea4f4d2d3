/*
 * The walk: one YAML mapping against its field table, recursively.  Types,
 * ranges, unknown, duplicate and missing keys fail here, at the node at
 * fault; the mark and key path of every stored value are recorded for the
 * checks that run after (config_checks.c).
 */
#include "pipeline/config/config_int.h"

#include <inttypes.h>

#include "shm/fixed.h"

/* ---- scalars -------------------------------------------------------------- */

/* YAML's null: an empty plain value (`key:`), ~ or null. */
static bool is_null(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && is_plain(n) &&
	       (scalar_len(n) == 0 || scalar_is(n, "~") || scalar_is(n, "null") ||
		scalar_is(n, "Null") || scalar_is(n, "NULL"));
}

/* "a mapping", "an empty value" or the scalar quoted, cut and made printable. */
static const char *describe(const yaml_node_t *n, char *buf, size_t cap)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "an empty value";
	enum { SHOWN = 40 };
	char shown[SHOWN + 1];
	size_t len = scalar_len(n) < SHOWN ? scalar_len(n) : SHOWN;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)scalar(n)[i];
		shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	shown[len] = '\0';
	snprintf(buf, cap, "\"%s\"%s", shown, scalar_len(n) > SHOWN ? "..." : "");
	return buf;
}

static void list_choices(const struct choice *c, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (; c->name && used < cap; c++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", c->name);
}

static const char *expected_what(const struct field *f, char *buf, size_t cap)
{
	switch (f->kind) {
	case FK_SECTION:
	case FK_PARAMS:
	case FK_VENUE: return "a mapping";
	case FK_LIST: return "a list";
	case FK_INT:
	case FK_U64: return "an integer";
	case FK_FIXED:
	case FK_DECIMAL: return "a decimal number";
	case FK_BOOL: return "true or false";
	case FK_STRING: return "a string";
	case FK_ENUM: break;
	}
	char names[128];
	list_choices(f->choices, names, sizeof names);
	snprintf(buf, cap, "one of: %s", names);
	return buf;
}

int cfg_fail_type(struct loader *ld, const yaml_node_t *v, const char *path,
		  const struct field *f)
{
	char want[160], got[64];
	return cfg_fail_at(ld, &v->start_mark, path, "expected %s, got %s",
			   expected_what(f, want, sizeof want), describe(v, got, sizeof got));
}

/* Numbers, true and false are YAML plain scalars; "5" in quotes is a string. */
static int fail_quoted(struct loader *ld, const yaml_node_t *v, const char *path,
		       const struct field *f)
{
	char want[160], got[64];
	return cfg_fail_at(ld, &v->start_mark, path, "expected %s, got the quoted string %s; write it without quotes",
			   expected_what(f, want, sizeof want), describe(v, got, sizeof got));
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

enum int_status { INT_OK, INT_BAD, INT_LEADING_ZERO, INT_TOO_BIG };

/* [+-]digits, decimal only.  *mag is the magnitude; -0 is 0. */
static enum int_status parse_integer(const char *s, size_t len, bool *neg, uint64_t *mag)
{
	size_t i = 0;
	*neg = false;
	*mag = 0;
	if (len && (s[0] == '-' || s[0] == '+'))
		*neg = s[i++] == '-';
	if (i == len)
		return INT_BAD;
	bool too_big = false;
	for (size_t j = i; j < len; j++) {
		if (s[j] < '0' || s[j] > '9')
			return INT_BAD;
		unsigned d = (unsigned)(s[j] - '0');
		if (*mag > (UINT64_MAX - d) / 10)
			too_big = true;
		else
			*mag = *mag * 10 + d;
	}
	/* YAML 1.1 reads 010 as octal, 1.2 as ten: refuse to guess. */
	if (s[i] == '0' && len - i > 1)
		return INT_LEADING_ZERO;
	return too_big ? INT_TOO_BIG : INT_OK;
}

/* Only for text that parsed as a number: it is digits, a sign and a dot. */
static int fail_range(struct loader *ld, const yaml_node_t *v, const char *path, const char *lo,
		      const char *hi)
{
	int shown = scalar_len(v) > 40 ? 40 : (int)scalar_len(v);
	return cfg_fail_at(ld, &v->start_mark, path, "%.*s%s is out of range: expected %s..%s",
			   shown, scalar(v), scalar_len(v) > 40 ? "..." : "", lo, hi);
}

static int store_int(struct loader *ld, const struct field *f, const yaml_node_t *v,
		     const char *path, void *dst)
{
	bool neg;
	uint64_t mag;
	char lo[24], hi[24];
	snprintf(lo, sizeof lo, "%" PRId64, f->min);
	snprintf(hi, sizeof hi, "%" PRId64, f->max);

	enum int_status st = parse_integer(scalar(v), scalar_len(v), &neg, &mag);
	if (st == INT_BAD)
		return cfg_fail_type(ld, v, path, f);
	if (st == INT_LEADING_ZERO)
		return cfg_fail_at(ld, &v->start_mark, path, "write integers without leading zeros "
				   "(YAML 1.1 reads them as octal)");
	if (st == INT_TOO_BIG || mag > (uint64_t)INT64_MAX)
		return fail_range(ld, v, path, lo, hi);
	int64_t x = neg ? -(int64_t)mag : (int64_t)mag;
	if (x < f->min || x > f->max)
		return fail_range(ld, v, path, lo, hi);
	if (f->pow2 && (x & (x - 1)) != 0) {
		int64_t up = 1;
		while (up < x)
			up <<= 1;
		return cfg_fail_at(ld, &v->start_mark, path, "%" PRId64 " is not a power of two (%" PRId64
				   " or %" PRId64 " are)", x, up >> 1, up);
	}
	store_uint(dst, f->size, (uint64_t)x);
	return 0;
}

static int store_u64(struct loader *ld, const struct field *f, const yaml_node_t *v,
		     const char *path, void *dst)
{
	bool neg;
	uint64_t mag;
	enum int_status st = parse_integer(scalar(v), scalar_len(v), &neg, &mag);
	if (st == INT_BAD)
		return cfg_fail_type(ld, v, path, f);
	if (st == INT_LEADING_ZERO)
		return cfg_fail_at(ld, &v->start_mark, path, "write integers without leading zeros "
				   "(YAML 1.1 reads them as octal)");
	if (st == INT_TOO_BIG || (neg && mag))
		return fail_range(ld, v, path, "0", "18446744073709551615");
	memcpy(dst, &mag, sizeof mag);
	return 0;
}

/* fx_format without the trailing fractional zeros: 1000000 at 6 is "1". */
static void format_trimmed(int64_t v, unsigned scale, char *buf, size_t cap)
{
	int n = fx_format(v, scale, buf, cap);
	if (n <= 0 || !strchr(buf, '.'))
		return;
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

static int store_fixed(struct loader *ld, const struct field *f, const yaml_node_t *v,
		       const char *path, void *dst)
{
	int64_t x;
	int rc = fx_parse(scalar(v), scalar_len(v), f->scale, &x);
	if (rc == FX_E_JUNK || rc == FX_E_EMPTY)
		return cfg_fail_type(ld, v, path, f);
	if (rc == FX_E_PRECISION) {
		char got[64];
		return cfg_fail_at(ld, &v->start_mark, path, "%s has more than %u decimal places",
				   describe(v, got, sizeof got), f->scale);
	}
	char lo[FX_FORMAT_MAX + 1], hi[FX_FORMAT_MAX + 1];
	format_trimmed(f->min, f->scale, lo, sizeof lo);
	format_trimmed(f->max, f->scale, hi, sizeof hi);
	if (rc != FX_OK || x < f->min || x > f->max)
		return fail_range(ld, v, path, lo, hi);
	store_uint(dst, f->size, (uint64_t)x);
	return 0;
}

/* Only the syntax here: the scale comes with each instrument, in check_limits. */
static int store_decimal(struct loader *ld, const struct field *f, const yaml_node_t *v,
			 const char *path, void *dst)
{
	int64_t ignored;
	int rc = fx_parse(scalar(v), scalar_len(v), 0, &ignored);
	if (rc == FX_E_JUNK || rc == FX_E_EMPTY)
		return cfg_fail_type(ld, v, path, f);
	if (rc == FX_E_OVERFLOW) {
		char got[64];
		return cfg_fail_at(ld, &v->start_mark, path, "%s is too large for a 64-bit fixed-point value",
				   describe(v, got, sizeof got));
	}
	if (scalar_len(v) >= f->size) {
		char got[64];
		return cfg_fail_at(ld, &v->start_mark, path, "%s is too long (at most %zu characters)",
				   describe(v, got, sizeof got), f->size - 1);
	}
	memcpy(dst, scalar(v), scalar_len(v));
	((char *)dst)[scalar_len(v)] = '\0';
	return 0;
}

static int store_bool(struct loader *ld, const struct field *f, const yaml_node_t *v,
		      const char *path, void *dst)
{
	bool b;
	if (scalar_is(v, "true") || scalar_is(v, "True") || scalar_is(v, "TRUE"))
		b = true;
	else if (scalar_is(v, "false") || scalar_is(v, "False") || scalar_is(v, "FALSE"))
		b = false;
	else
		return cfg_fail_type(ld, v, path, f);
	memcpy(dst, &b, sizeof b);
	return 0;
}

static int store_string(struct loader *ld, const struct field *f, const yaml_node_t *v,
			const char *path, void *dst)
{
	if (memchr(scalar(v), '\0', scalar_len(v)))
		return cfg_fail_at(ld, &v->start_mark, path, "contains a NUL character");
	if (scalar_len(v) >= f->size) {
		char got[64];
		return cfg_fail_at(ld, &v->start_mark, path, "%s is too long (at most %zu characters)",
				   describe(v, got, sizeof got), f->size - 1);
	}
	memcpy(dst, scalar(v), scalar_len(v));
	((char *)dst)[scalar_len(v)] = '\0';
	return 0;
}

static int store_enum(struct loader *ld, const struct field *f, const yaml_node_t *v,
		      const char *path, void *dst)
{
	for (const struct choice *c = f->choices; c->name; c++) {
		if (scalar_is(v, c->name)) {
			store_uint(dst, f->size, (uint64_t)c->value);
			return 0;
		}
	}
	char names[128], got[64];
	list_choices(f->choices, names, sizeof names);
	return cfg_fail_at(ld, &v->start_mark, path, "unknown value %s; expected one of: %s",
			   describe(v, got, sizeof got), names);
}

int cfg_store_scalar(struct loader *ld, const struct field *f, const yaml_node_t *v,
		     const char *path, void *dst)
{
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return cfg_fail_type(ld, v, path, f);
	bool wants_plain = f->kind == FK_INT || f->kind == FK_U64 || f->kind == FK_BOOL;
	if (wants_plain && !is_plain(v))
		return fail_quoted(ld, v, path, f);

	switch (f->kind) {
	case FK_INT: return store_int(ld, f, v, path, dst);
	case FK_U64: return store_u64(ld, f, v, path, dst);
	case FK_FIXED: return store_fixed(ld, f, v, path, dst);
	case FK_DECIMAL: return store_decimal(ld, f, v, path, dst);
	case FK_BOOL: return store_bool(ld, f, v, path, dst);
	case FK_STRING: return store_string(ld, f, v, path, dst);
	case FK_ENUM: return store_enum(ld, f, v, path, dst);
	case FK_SECTION:
	case FK_LIST:
	case FK_PARAMS:
	case FK_VENUE: break;
	}
	return cfg_fail_type(ld, v, path, f);
}

/* ---- the walk ------------------------------------------------------------- */

void cfg_child_path(char *buf, const char *parent, const char *key, size_t key_len)
{
	int shown = key_len > 40 ? 40 : (int)key_len;
	/* A long path is cut, not overrun: it only names a key in a message. */
	int n = snprintf(buf, KEY_PATH_MAX, "%.50s%s", parent, *parent ? "." : "");
	snprintf(buf + n, KEY_PATH_MAX - (size_t)n, "%.*s", shown, key);
}

static const struct field *find_field(const struct field *fields, const yaml_node_t *key)
{
	for (const struct field *f = fields; f->key; f++)
		if (scalar_is(key, f->key))
			return f;
	return NULL;
}

static int fail_unknown_key(struct loader *ld, const yaml_node_t *key, const char *path,
			    const struct field *fields)
{
	char valid[256];
	size_t used = 0;
	valid[0] = '\0';
	for (const struct field *f = fields; f->key && used < sizeof valid; f++)
		used += (size_t)snprintf(valid + used, sizeof valid - used, "%s%s", used ? ", " : "", f->key);
	/* A webhook URL written in the config would be embedded in every journal. */
	bool url_here = scalar_is(key, "url") && fields == cfg_notify_target_fields;
	return cfg_fail_at(ld, &key->start_mark, path, "unknown key; valid keys here: %s%s", valid,
			   url_here ? " (a webhook URL is a secret, and the config is copied into every journal: "
				      "name an environment variable with url_env or a 0600 file with url_file)"
				    : "");
}

/* An earlier pair of the same mapping with the same key, or NULL. */
const yaml_node_t *cfg_earlier_key(struct loader *ld, const yaml_node_t *map,
				   const yaml_node_pair_t *pair)
{
	const yaml_node_t *key = node(ld, pair->key);
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		const yaml_node_t *k = node(ld, p->key);
		if (k->type == YAML_SCALAR_NODE && scalar_len(k) == scalar_len(key) &&
		    !memcmp(scalar(k), scalar(key), scalar_len(key)))
			return k;
	}
	return NULL;
}

static bool has_key(struct loader *ld, const yaml_node_t *map, const char *key)
{
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(ld, p->key);
		if (k->type == YAML_SCALAR_NODE && scalar_is(k, key))
			return true;
	}
	return false;
}

static int walk_list(struct loader *ld, const struct field *f, const yaml_node_t *seq,
		     const char *path, char *base)
{
	static const struct field want_list = { .kind = FK_LIST };
	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_fail_type(ld, seq, path, &want_list);
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0)
		return cfg_fail_at(ld, &seq->start_mark, path, "at least one entry is required");
	if (n > f->max_items) {
		const yaml_node_t *extra = node(ld, seq->data.sequence.items.start[f->max_items]);
		return cfg_fail_at(ld, &extra->start_mark, path, "too many entries: at most %" PRIu32, f->max_items);
	}
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *item = node(ld, seq->data.sequence.items.start[i]);
		char item_path[KEY_PATH_MAX];
		snprintf(item_path, sizeof item_path, "%.60s[%zu]", path, i);
		if (cfg_walk_mapping(ld, item, &item->start_mark, item_path, f->sub, base + f->offset + i * f->elem_size))
			return -1;
	}
	store_uint(base + f->count_offset, sizeof(uint32_t), n);
	return 0;
}

/* One `key: value` pair of a parameter mapping, kept as text in out[*n]:
 * any plain key, any scalar value, as written. */
int cfg_take_param(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *p, const char *path,
		   struct fks_param_text *out, uint32_t *n, uint32_t max)
{
	const yaml_node_t *key = node(ld, p->key), *v = node(ld, p->value);
	char sub[KEY_PATH_MAX];
	if (key->type != YAML_SCALAR_NODE || scalar_len(key) == 0 || scalar_len(key) >= FKS_PARAM_KEY_MAX ||
	    memchr(scalar(key), '\0', scalar_len(key)))
		return cfg_fail_at(ld, &key->start_mark, path, "parameter names are plain names of 1 to %d characters",
				   FKS_PARAM_KEY_MAX - 1);
	cfg_child_path(sub, path, scalar(key), scalar_len(key));
	const yaml_node_t *first = cfg_earlier_key(ld, map, p);
	if (first)
		return cfg_fail_at(ld, &key->start_mark, sub, "duplicate key (first at line %zu)",
				   first->start_mark.line + 1);
	if (*n == max)
		return cfg_fail_at(ld, &key->start_mark, sub, "too many parameters: at most %" PRIu32, max);
	static const struct field as_text = { .kind = FK_STRING, .size = FKS_PARAM_VALUE_MAX };
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return cfg_fail_at(ld, &v->start_mark, sub, "a parameter value must be a single value, not a list or mapping");
	memcpy(out[*n].key, scalar(key), scalar_len(key));
	out[*n].key[scalar_len(key)] = '\0';
	if (store_string(ld, &as_text, v, sub, out[*n].value))
		return -1;
	cfg_remember(ld, out[*n].value, v, sub);
	(*n)++;
	return 0;
}

/* Strategy parameters: a mapping of cfg_take_param pairs. */
static int walk_params(struct loader *ld, const struct field *f, const yaml_node_t *map, const char *path,
		       char *base)
{
	static const struct field want_mapping = { .kind = FK_SECTION };
	if (map->type != YAML_MAPPING_NODE)
		return cfg_fail_type(ld, map, path, &want_mapping);
	struct fks_param_text *out = (struct fks_param_text *)(base + f->offset);
	uint32_t n = 0;
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
		if (cfg_take_param(ld, map, p, path, out, &n, f->max_items))
			return -1;
	store_uint(base + f->count_offset, sizeof(uint32_t), n);
	return 0;
}

static int walk_value(struct loader *ld, const struct field *f, const yaml_node_t *key,
		      const yaml_node_t *v, const char *path, char *base)
{
	if (f->kind == FK_PARAMS)
		return walk_params(ld, f, v, path, base);
	if (f->kind == FK_VENUE)
		return cfg_walk_venue(ld, f, v, path, base);
	if (f->kind == FK_SECTION)
		return cfg_walk_mapping(ld, v, &key->start_mark, path, f->sub, base + f->offset);
	if (f->kind == FK_LIST)
		return walk_list(ld, f, v, path, base);
	if (cfg_store_scalar(ld, f, v, path, base + f->offset))
		return -1;
	cfg_remember(ld, base + f->offset, v, path);
	return 0;
}

/*
 * Walk one mapping against its field table.  owner is where a missing key
 * is reported: the line of the key that holds this mapping.
 */
int cfg_walk_mapping(struct loader *ld, const yaml_node_t *map, const yaml_mark_t *owner,
		     const char *path, const struct field *fields, char *base)
{
	static const struct field want_mapping = { .kind = FK_SECTION };
	if (map->type != YAML_MAPPING_NODE)
		return cfg_fail_type(ld, map, path, &want_mapping);

	char sub[KEY_PATH_MAX];
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = node(ld, p->key);
		if (key->type != YAML_SCALAR_NODE) {
			char got[64];
			return cfg_fail_at(ld, &key->start_mark, path, "keys must be plain names, got %s",
					   describe(key, got, sizeof got));
		}
		cfg_child_path(sub, path, scalar(key), scalar_len(key));
		const yaml_node_t *first = cfg_earlier_key(ld, map, p);
		if (first)
			return cfg_fail_at(ld, &key->start_mark, sub, "duplicate key (first at line %zu)",
					   first->start_mark.line + 1);
		const struct field *f = find_field(fields, key);
		if (!f)
			return fail_unknown_key(ld, key, sub, fields);
		if (walk_value(ld, f, key, node(ld, p->value), sub, base))
			return -1;
	}
	for (const struct field *f = fields; f->key; f++) {
		if (f->required && !has_key(ld, map, f->key)) {
			cfg_child_path(sub, path, f->key, strlen(f->key));
			return cfg_fail_at(ld, owner, sub, "required key is missing");
		}
	}
	return 0;
}
