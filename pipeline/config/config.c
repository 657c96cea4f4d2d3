/*
 * Config loader: YAML text -> struct fks_config, or one precise error.
 *
 * Why libyaml's document API and a table-driven walker rather than libcyaml:
 * libcyaml maps a schema onto structs with a little less code, but it gives
 * positions only as free text through its log callback, it places an unknown
 * key at the line of the enclosing mapping rather than at the key, and the
 * structs it returns carry no positions at all.  Every check that needs more
 * than one value (duplicate symbols, slow > fast, a limit that is not exact
 * at some instrument's scale, cores) could then not name a line.  libyaml's
 * document tree keeps a mark on every node, so with one table per section
 * every error below points at the exact key or value at fault.
 *
 * Loading makes two passes over one YAML document:
 *
 *  1. walk: the field tables say, per key, its type, its range and where in
 *     struct fks_config it goes.  Syntax, types, ranges, unknown, duplicate
 *     and missing keys fail here.  The mark and key path of every stored
 *     value are recorded, keyed by the address the value went to.
 *  2. check: rules over several values (ring defaults, symbols, slow > fast,
 *     per-instrument decimals, cores) are reported at the recorded mark of
 *     the value at fault.
 *
 * The walker descends only where a table has a section, three levels at
 * most, so YAML aliases - even a recursive one - cannot make it loop.
 */
#include "pipeline/config/config.h"
#include "strategies/impl/ma_cross.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "default_config.h"
#include "gateway/risk/risk.h"
#include "gateway/venue.h"
#include "strategies/engine.h"
#include "shm/fixed.h"

/* Defaults of optional keys.  docs/config.md lists the same values. */
#define DEFAULT_RING_CAPACITY 65536
#define DEFAULT_START_PX "100"
#define DEFAULT_FEED_SEED 1
#define DEFAULT_FEED_RATE 100000
#define DEFAULT_TRADE_RATIO_PPM 200000      /* 0.2 */
#define DEFAULT_VOLATILITY_BPS_X100 100     /* 1 bps per step */
#define DEFAULT_STALE_DATA_MS 1000
#define DEFAULT_JOURNAL_PATH "fks-journal"
#define DEFAULT_JOURNAL_BATCH_EVENTS 4096
#define DEFAULT_JOURNAL_BATCH_US 1000
#define DEFAULT_HEARTBEAT_TIMEOUT_MS 1000
#define DEFAULT_STATS_PREFIX "fks"

#define DEFAULT_CONFIG_NAME "(default config)"
#define KEY_PATH_MAX 96
#define MAX_MARKS 2048  /* > every scalar the schema can hold: ~60 + 64 * 4 + 32 * 27 + 12 * 9 */

_Static_assert(FKS_RISK_PARAMS_MAX <= RISK_MAX_RULE_PARAMS, "risk.rules[].params: more than a rule takes");
_Static_assert(FKS_MAX_RISK_RULES <= RISK_MAX_RULES - 4, "risk.rules: more than the runner holds");
_Static_assert(FKS_MAX_INSTRUMENTS <= RISK_MAX_INSTRUMENTS, "instruments: more than risk holds");

/* Enums are stored through their size, like integers. */
_Static_assert(sizeof(enum ring_wait_kind) == sizeof(uint32_t), "enum is 4 bytes");
_Static_assert(sizeof(enum fks_overflow) == sizeof(uint32_t), "enum is 4 bytes");
_Static_assert(sizeof(enum fks_order_type) == sizeof(uint32_t), "enum is 4 bytes");

/* ---- the schema ---------------------------------------------------------- */

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
	FK_PARAMS,   /* a mapping of any keys to scalars, kept as text (struct fks_param) */
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

/* Same names as ring_wait_name(). */
static const struct choice wait_choices[] = {
	{ "spin", RING_WAIT_SPIN }, { "yield", RING_WAIT_SPIN_YIELD }, { "park", RING_WAIT_SPIN_PARK },
	{ NULL, 0 },
};
static const struct choice overflow_choices[] = {
	{ "block", FKS_OVERFLOW_BLOCK }, { "conflate", FKS_OVERFLOW_CONFLATE }, { NULL, 0 },
};
static const struct choice feed_type_choices[] = {
	{ "synthetic", FKS_FEED_SYNTHETIC }, { "itch", FKS_FEED_ITCH }, { "binance", FKS_FEED_BINANCE },
	{ "bybit", FKS_FEED_BYBIT }, { "coinbase", FKS_FEED_COINBASE }, { "kraken", FKS_FEED_KRAKEN },
	{ NULL, 0 },
};
static const struct choice feed_source_choices[] = {
	{ "file", FKS_SOURCE_FILE }, { "pcap", FKS_SOURCE_PCAP }, { "udp", FKS_SOURCE_UDP },
	{ "dpdk", FKS_SOURCE_DPDK }, { "websocket", FKS_SOURCE_WEBSOCKET }, { NULL, 0 },
};
static const struct choice strategy_type_choices[] = { { "ma_cross", FKS_STRATEGY_MA_CROSS }, { NULL, 0 } };
static const struct choice order_type_choices[] = {
	{ "limit", FKS_ORD_LIMIT }, { "market", FKS_ORD_MARKET }, { NULL, 0 },
};
static const struct choice sync_choices[] = {
	{ "durable", FKS_SYNC_DURABLE }, { "nometasync", FKS_SYNC_NOMETASYNC }, { "async", FKS_SYNC_ASYNC },
	{ NULL, 0 },
};

static const struct field stage_fields[] = {
	{ .key = "core", .kind = FK_INT, AT(struct fks_stage_cfg, core), .required = true,
	  .min = 0, .max = CPU_SETSIZE - 1 },
	{ .key = "wait", .kind = FK_ENUM, AT(struct fks_stage_cfg, wait.kind), .choices = wait_choices },
	{ .key = "spin_iters", .kind = FK_INT, AT(struct fks_stage_cfg, wait.spin_iters),
	  .min = 0, .max = 1000000000 },
	{ .key = NULL },
};

#define STAGE(name, id) { .key = name, .kind = FK_SECTION, AT(struct fks_config, stage[id]), \
			  .required = true, .sub = stage_fields }
static const struct field stages_fields[] = {
	STAGE("feed", FKS_CFG_FEED),
	STAGE("strategy", FKS_CFG_STRATEGY),
	STAGE("risk", FKS_CFG_RISK),
	STAGE("gateway", FKS_CFG_GATEWAY),
	/* Optional: check_stages() gives it a core when the file does not. */
	{ .key = "journal", .kind = FK_SECTION, AT(struct fks_config, stage[FKS_CFG_JOURNAL]),
	  .sub = stage_fields },
	{ .key = NULL },
};

#define RING_CAPACITY(type, member) { .key = "capacity", .kind = FK_INT, AT(type, member), \
				      .pow2 = true, .min = 16, .max = 1 << 24 }
static const struct field ring_fields[] = {
	RING_CAPACITY(struct fks_ring_cfg, capacity),
	{ .key = "overflow", .kind = FK_ENUM, AT(struct fks_ring_cfg, overflow), .choices = overflow_choices },
	{ .key = NULL },
};

#define RING(name, id) { .key = name, .kind = FK_SECTION, AT(struct fks_config, ring[id]), \
			 .sub = ring_fields }
static const struct field rings_fields[] = {
	RING_CAPACITY(struct fks_config, ring_default.capacity),
	{ .key = "overflow", .kind = FK_ENUM, AT(struct fks_config, ring_default.overflow),
	  .choices = overflow_choices },
	RING("market_data", FKS_RING_MARKET_DATA),
	RING("orders", FKS_RING_ORDERS),
	RING("risk_out", FKS_RING_RISK_OUT),
	RING("exec_reports", FKS_RING_EXEC_REPORTS),
	RING("journal", FKS_RING_JOURNAL),
	{ .key = NULL },
};

static const struct field instrument_fields[] = {
	{ .key = "symbol", .kind = FK_STRING, AT(struct fks_instrument_cfg, symbol), .required = true },
	{ .key = "px_scale", .kind = FK_INT, AT(struct fks_instrument_cfg, px_scale), .required = true,
	  .min = 0, .max = FKS_PX_SCALE_MAX },
	{ .key = "qty_scale", .kind = FK_INT, AT(struct fks_instrument_cfg, qty_scale), .required = true,
	  .min = 0, .max = FKS_PX_SCALE_MAX },
	{ .key = "start_px", .kind = FK_DECIMAL, AT(struct fks_instrument_cfg, start_px_text) },
	{ .key = NULL },
};

static const struct field feed_fields[] = {
	{ .key = "type", .kind = FK_ENUM, AT(struct fks_feed_cfg, type), .choices = feed_type_choices },
	{ .key = "seed", .kind = FK_U64, AT(struct fks_feed_cfg, seed) },
	{ .key = "rate", .kind = FK_INT, AT(struct fks_feed_cfg, rate), .min = 0, .max = 1000000000 },
	{ .key = "trade_ratio", .kind = FK_FIXED, AT(struct fks_feed_cfg, trade_ratio_ppm),
	  .scale = 6, .min = 0, .max = 1000000 },
	{ .key = "volatility_bps", .kind = FK_FIXED, AT(struct fks_feed_cfg, volatility_bps_x100),
	  .scale = 2, .min = 0, .max = 1000000 },
	{ .key = "source", .kind = FK_ENUM, AT(struct fks_feed_cfg, source), .choices = feed_source_choices },
	{ .key = "path", .kind = FK_STRING, AT(struct fks_feed_cfg, path) },
	{ .key = "speed", .kind = FK_STRING, AT(struct fks_feed_cfg, speed) },
	{ .key = "address", .kind = FK_STRING, AT(struct fks_feed_cfg, address) },
	{ .key = "interface", .kind = FK_STRING, AT(struct fks_feed_cfg, interface) },
	{ .key = "dpdk_args", .kind = FK_STRING, AT(struct fks_feed_cfg, dpdk_args) },
	{ .key = "url", .kind = FK_STRING, AT(struct fks_feed_cfg, url) },
	{ .key = "rest_url", .kind = FK_STRING, AT(struct fks_feed_cfg, rest_url) },
	{ .key = "ca_file", .kind = FK_STRING, AT(struct fks_feed_cfg, ca_file) },
	{ .key = "market", .kind = FK_STRING, AT(struct fks_feed_cfg, market) },
	{ .key = "depth", .kind = FK_INT, AT(struct fks_feed_cfg, depth), .min = 0, .max = 5000 },
	{ .key = "session_date", .kind = FK_STRING, AT(struct fks_feed_cfg, session_date) },
	{ .key = "utc_offset_min", .kind = FK_INT, AT(struct fks_feed_cfg, utc_offset_min), .min = -840, .max = 840 },
	{ .key = NULL },
};

static const struct field strategy_fields[] = {
	{ .key = "type", .kind = FK_ENUM, AT(struct fks_strategy_cfg, type), .choices = strategy_type_choices },
	/* The strategy keeps its window in a fixed array (no allocation per
	 * instance): MA_CROSS_MAX_WINDOW samples. */
	{ .key = "fast", .kind = FK_INT, AT(struct fks_strategy_cfg, fast), .required = true,
	  .min = 1, .max = MA_CROSS_MAX_WINDOW - 1 },
	{ .key = "slow", .kind = FK_INT, AT(struct fks_strategy_cfg, slow), .required = true,
	  .min = 2, .max = MA_CROSS_MAX_WINDOW },
	{ .key = "qty", .kind = FK_DECIMAL, AT(struct fks_strategy_cfg, qty), .required = true },
	{ .key = "order_type", .kind = FK_ENUM, AT(struct fks_strategy_cfg, order_type),
	  .choices = order_type_choices },
	{ .key = NULL },
};

static const struct field risk_rule_fields[] = {
	{ .key = "rule", .kind = FK_STRING, AT(struct fks_risk_rule_cfg, rule), .required = true },
	{ .key = "params", .kind = FK_PARAMS, AT(struct fks_risk_rule_cfg, param), .max_items = FKS_RISK_PARAMS_MAX,
	  .count_offset = offsetof(struct fks_risk_rule_cfg, n_params) },
	{ .key = NULL },
};

/* Either `rules` or the legacy shorthand (check_risk says which is needed).
 * Limits have no defaults on purpose: a guessed risk limit is worse than none. */
static const struct field risk_fields[] = {
	{ .key = "max_order_qty", .kind = FK_DECIMAL, AT(struct fks_risk_cfg, max_order_qty) },
	{ .key = "max_notional", .kind = FK_DECIMAL, AT(struct fks_risk_cfg, max_notional) },
	{ .key = "max_position", .kind = FK_DECIMAL, AT(struct fks_risk_cfg, max_position) },
	{ .key = "stale_data_ms", .kind = FK_INT, AT(struct fks_risk_cfg, stale_data_ms),
	  .min = 1, .max = 3600000 },
	{ .key = "kill_switch", .kind = FK_BOOL, AT(struct fks_risk_cfg, kill_switch) },
	{ .key = "rules", .kind = FK_LIST, AT(struct fks_risk_cfg, rules), .sub = risk_rule_fields,
	  .elem_size = sizeof(struct fks_risk_rule_cfg), .max_items = FKS_MAX_RISK_RULES,
	  .count_offset = offsetof(struct fks_risk_cfg, n_rules) },
	{ .key = NULL },
};

static const struct field journal_fields[] = {
	{ .key = "path", .kind = FK_STRING, AT(struct fks_journal_cfg, path) },
	{ .key = "sync", .kind = FK_ENUM, AT(struct fks_journal_cfg, sync), .choices = sync_choices },
	{ .key = "batch_events", .kind = FK_INT, AT(struct fks_journal_cfg, batch_events),
	  .min = 1, .max = 1 << 20 },
	{ .key = "batch_us", .kind = FK_INT, AT(struct fks_journal_cfg, batch_us), .min = 0, .max = 1000000 },
	{ .key = NULL },
};

static const struct field strategy_inst_fields[] = {
	{ .key = "name", .kind = FK_STRING, AT(struct fks_strategy_inst, name), .required = true },
	{ .key = "kind", .kind = FK_STRING, AT(struct fks_strategy_inst, kind), .required = true },
	{ .key = "instrument", .kind = FK_STRING, AT(struct fks_strategy_inst, instrument), .required = true },
	{ .key = "params", .kind = FK_PARAMS, AT(struct fks_strategy_inst, param), .max_items = FKS_PARAMS_MAX,
	  .count_offset = offsetof(struct fks_strategy_inst, n_params) },
	{ .key = NULL },
};

static const struct field account_fields[] = {
	{ .key = "equity", .kind = FK_DECIMAL, AT(struct fks_account_cfg, equity) },
	{ .key = NULL },
};

static const struct field supervisor_fields[] = {
	{ .key = "heartbeat_timeout_ms", .kind = FK_INT, AT(struct fks_supervisor_cfg, heartbeat_timeout_ms),
	  .min = 1, .max = 3600000 },
	{ .key = "stats", .kind = FK_STRING, AT(struct fks_supervisor_cfg, stats_prefix) },
	{ .key = NULL },
};

#define SECTION(name, member, fields, req) { .key = name, .kind = FK_SECTION, \
	AT(struct fks_config, member), .required = req, .sub = fields }
static const struct field top_fields[] = {
	/* stages and rings fill several members of fks_config: offset 0. */
	{ .key = "stages", .kind = FK_SECTION, .offset = 0, .required = true, .sub = stages_fields },
	{ .key = "rings", .kind = FK_SECTION, .offset = 0, .sub = rings_fields },
	{ .key = "instruments", .kind = FK_LIST, AT(struct fks_config, instrument), .required = true,
	  .sub = instrument_fields, .elem_size = sizeof(struct fks_instrument_cfg),
	  .max_items = FKS_MAX_INSTRUMENTS, .count_offset = offsetof(struct fks_config, n_instruments) },
	SECTION("feed", feed, feed_fields, false),
	SECTION("strategy", strategy, strategy_fields, false), /* required unless `strategies` */
	{ .key = "strategies", .kind = FK_LIST, AT(struct fks_config, strategies), .sub = strategy_inst_fields,
	  .elem_size = sizeof(struct fks_strategy_inst), .max_items = FKS_MAX_STRATEGIES,
	  .count_offset = offsetof(struct fks_config, n_strategies) },
	SECTION("account", account, account_fields, false),
	SECTION("risk", risk, risk_fields, true),
	{ .key = "venue", .kind = FK_VENUE, AT(struct fks_config, venue) },
	SECTION("journal", journal, journal_fields, false),
	SECTION("supervisor", supervisor, supervisor_fields, false),
	{ .key = NULL },
};

/* ---- loader state and error reporting ----------------------------------- */

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

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf,
		    3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int vfail_at(struct loader *ld, const yaml_mark_t *m, const char *path, const char *fmt,
		    va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (path && *path)
		set_err(ld->err, ld->errlen, "%s:%zu:%zu: %s: %s", ld->name, m->line + 1, m->column + 1, path, msg);
	else
		set_err(ld->err, ld->errlen, "%s:%zu:%zu: %s", ld->name, m->line + 1, m->column + 1, msg);
	return -1;
}

/* Report at a mark; returns -1 so callers can `return fail_at(...)`. */
static int fail_at(struct loader *ld, const yaml_mark_t *m, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(struct loader *ld, const yaml_mark_t *m, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(ld, m, path, fmt, ap);
	va_end(ap);
	return -1;
}

static void remember(struct loader *ld, const void *dst, const yaml_node_t *v, const char *path)
{
	if (ld->n_marks == MAX_MARKS)
		return;
	struct value_mark *vm = &ld->marks[ld->n_marks++];
	vm->dst = dst;
	vm->mark = v->start_mark;
	snprintf(vm->path, sizeof vm->path, "%s", path);
}

static const struct value_mark *find_mark(const struct loader *ld, const void *dst)
{
	for (unsigned i = 0; i < ld->n_marks; i++)
		if (ld->marks[i].dst == dst)
			return &ld->marks[i];
	return NULL;
}

/* dst was derived from the value at src (the legacy risk shorthand): report
 * its errors where src was written. */
static void remember_as(struct loader *ld, const void *dst, const void *src)
{
	const struct value_mark *from = find_mark(ld, src);
	if (!from || ld->n_marks == MAX_MARKS)
		return;
	struct value_mark *vm = &ld->marks[ld->n_marks++];
	*vm = *from;
	vm->dst = dst;
}

/* Report against the value stored at dst, at the mark it was read from.  A
 * value nobody wrote is a default; defaults are valid, but say so anyway. */
static int fail_field(struct loader *ld, const void *dst, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_field(struct loader *ld, const void *dst, const char *fmt, ...)
{
	const struct value_mark *vm = find_mark(ld, dst);
	static const yaml_mark_t top = { 0, 0, 0 };
	va_list ap;
	va_start(ap, fmt);
	vfail_at(ld, vm ? &vm->mark : &top, vm ? vm->path : "(a default)", fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- scalars -------------------------------------------------------------- */

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
static size_t scalar_len(const yaml_node_t *n) { return n->data.scalar.length; }
static bool is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	return scalar_len(n) == strlen(s) && !memcmp(scalar(n), s, scalar_len(n));
}

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

static const char *choice_name(const struct choice *c, int value)
{
	for (; c->name; c++)
		if (c->value == value)
			return c->name;
	return "?";
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

static int fail_type(struct loader *ld, const yaml_node_t *v, const char *path,
		     const struct field *f)
{
	char want[160], got[64];
	return fail_at(ld, &v->start_mark, path, "expected %s, got %s",
		       expected_what(f, want, sizeof want), describe(v, got, sizeof got));
}

/* Numbers, true and false are YAML plain scalars; "5" in quotes is a string. */
static int fail_quoted(struct loader *ld, const yaml_node_t *v, const char *path,
		       const struct field *f)
{
	char want[160], got[64];
	return fail_at(ld, &v->start_mark, path, "expected %s, got the quoted string %s; write it without quotes",
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
	return fail_at(ld, &v->start_mark, path, "%.*s%s is out of range: expected %s..%s",
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
		return fail_type(ld, v, path, f);
	if (st == INT_LEADING_ZERO)
		return fail_at(ld, &v->start_mark, path, "write integers without leading zeros "
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
		return fail_at(ld, &v->start_mark, path, "%" PRId64 " is not a power of two (%" PRId64
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
		return fail_type(ld, v, path, f);
	if (st == INT_LEADING_ZERO)
		return fail_at(ld, &v->start_mark, path, "write integers without leading zeros "
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
		return fail_type(ld, v, path, f);
	if (rc == FX_E_PRECISION) {
		char got[64];
		return fail_at(ld, &v->start_mark, path, "%s has more than %u decimal places",
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
		return fail_type(ld, v, path, f);
	if (rc == FX_E_OVERFLOW) {
		char got[64];
		return fail_at(ld, &v->start_mark, path, "%s is too large for a 64-bit fixed-point value",
			       describe(v, got, sizeof got));
	}
	if (scalar_len(v) >= f->size) {
		char got[64];
		return fail_at(ld, &v->start_mark, path, "%s is too long (at most %zu characters)",
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
		return fail_type(ld, v, path, f);
	memcpy(dst, &b, sizeof b);
	return 0;
}

static int store_string(struct loader *ld, const struct field *f, const yaml_node_t *v,
			const char *path, void *dst)
{
	if (memchr(scalar(v), '\0', scalar_len(v)))
		return fail_at(ld, &v->start_mark, path, "contains a NUL character");
	if (scalar_len(v) >= f->size) {
		char got[64];
		return fail_at(ld, &v->start_mark, path, "%s is too long (at most %zu characters)",
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
	return fail_at(ld, &v->start_mark, path, "unknown value %s; expected one of: %s",
		       describe(v, got, sizeof got), names);
}

static int store_scalar(struct loader *ld, const struct field *f, const yaml_node_t *v,
			const char *path, void *dst)
{
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail_type(ld, v, path, f);
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
	return fail_type(ld, v, path, f);
}

/* ---- the walk ------------------------------------------------------------- */

static yaml_node_t *node(struct loader *ld, int id) { return yaml_document_get_node(&ld->doc, id); }

static void child_path(char *buf, const char *parent, const char *key, size_t key_len)
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
	return fail_at(ld, &key->start_mark, path, "unknown key; valid keys here: %s", valid);
}

/* An earlier pair of the same mapping with the same key, or NULL. */
static const yaml_node_t *earlier_key(struct loader *ld, const yaml_node_t *map,
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

static int walk_mapping(struct loader *ld, const yaml_node_t *map, const yaml_mark_t *owner,
			const char *path, const struct field *fields, char *base);

static int walk_list(struct loader *ld, const struct field *f, const yaml_node_t *seq,
		     const char *path, char *base)
{
	static const struct field want_list = { .kind = FK_LIST };
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail_type(ld, seq, path, &want_list);
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0)
		return fail_at(ld, &seq->start_mark, path, "at least one entry is required");
	if (n > f->max_items) {
		const yaml_node_t *extra = node(ld, seq->data.sequence.items.start[f->max_items]);
		return fail_at(ld, &extra->start_mark, path, "too many entries: at most %" PRIu32, f->max_items);
	}
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *item = node(ld, seq->data.sequence.items.start[i]);
		char item_path[KEY_PATH_MAX];
		snprintf(item_path, sizeof item_path, "%.60s[%zu]", path, i);
		if (walk_mapping(ld, item, &item->start_mark, item_path, f->sub, base + f->offset + i * f->elem_size))
			return -1;
	}
	store_uint(base + f->count_offset, sizeof(uint32_t), n);
	return 0;
}

/* One `key: value` pair of a parameter mapping, kept as text in out[*n]:
 * any plain key, any scalar value, as written. */
static int take_param(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *p, const char *path,
		      struct fks_param *out, uint32_t *n, uint32_t max)
{
	const yaml_node_t *key = node(ld, p->key), *v = node(ld, p->value);
	char sub[KEY_PATH_MAX];
	if (key->type != YAML_SCALAR_NODE || scalar_len(key) == 0 || scalar_len(key) >= FKS_PARAM_KEY_MAX ||
	    memchr(scalar(key), '\0', scalar_len(key)))
		return fail_at(ld, &key->start_mark, path, "parameter names are plain names of 1 to %d characters",
			       FKS_PARAM_KEY_MAX - 1);
	child_path(sub, path, scalar(key), scalar_len(key));
	const yaml_node_t *first = earlier_key(ld, map, p);
	if (first)
		return fail_at(ld, &key->start_mark, sub, "duplicate key (first at line %zu)",
			       first->start_mark.line + 1);
	if (*n == max)
		return fail_at(ld, &key->start_mark, sub, "too many parameters: at most %" PRIu32, max);
	static const struct field as_text = { .kind = FK_STRING, .size = FKS_PARAM_VALUE_MAX };
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail_at(ld, &v->start_mark, sub, "a parameter value must be a single value, not a list or mapping");
	memcpy(out[*n].key, scalar(key), scalar_len(key));
	out[*n].key[scalar_len(key)] = '\0';
	if (store_string(ld, &as_text, v, sub, out[*n].value))
		return -1;
	remember(ld, out[*n].value, v, sub);
	(*n)++;
	return 0;
}

/* Strategy parameters: a mapping of take_param pairs. */
static int walk_params(struct loader *ld, const struct field *f, const yaml_node_t *map, const char *path,
		       char *base)
{
	static const struct field want_mapping = { .kind = FK_SECTION };
	if (map->type != YAML_MAPPING_NODE)
		return fail_type(ld, map, path, &want_mapping);
	struct fks_param *out = (struct fks_param *)(base + f->offset);
	uint32_t n = 0;
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
		if (take_param(ld, map, p, path, out, &n, f->max_items))
			return -1;
	store_uint(base + f->count_offset, sizeof(uint32_t), n);
	return 0;
}

/* The venue section: `type`, a name of the venue registry (check_venue
 * looks it up), and every other key a parameter of that venue, kept as
 * text for its init: the loader knows no venue's parameters. */
static int walk_venue(struct loader *ld, const struct field *f, const yaml_node_t *map, const char *path,
		      char *base)
{
	static const struct field want_mapping = { .kind = FK_SECTION };
	static const struct field type_field = { .key = "type", .kind = FK_STRING,
						 AT(struct fks_venue_cfg, type) };
	if (map->type != YAML_MAPPING_NODE)
		return fail_type(ld, map, path, &want_mapping);
	struct fks_venue_cfg *vc = (struct fks_venue_cfg *)(base + f->offset);
	uint32_t n = 0;
	char sub[KEY_PATH_MAX];
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = node(ld, p->key);
		if (key->type != YAML_SCALAR_NODE || !scalar_is(key, type_field.key)) {
			if (take_param(ld, map, p, path, vc->param, &n, FKS_VENUE_PARAMS_MAX))
				return -1;
			continue;
		}
		child_path(sub, path, scalar(key), scalar_len(key));
		const yaml_node_t *first = earlier_key(ld, map, p);
		if (first)
			return fail_at(ld, &key->start_mark, sub, "duplicate key (first at line %zu)",
				       first->start_mark.line + 1);
		const yaml_node_t *v = node(ld, p->value);
		if (store_scalar(ld, &type_field, v, sub, vc->type))
			return -1;
		remember(ld, vc->type, v, sub);
	}
	vc->n_params = n;
	return 0;
}

static int walk_value(struct loader *ld, const struct field *f, const yaml_node_t *key,
		      const yaml_node_t *v, const char *path, char *base)
{
	if (f->kind == FK_PARAMS)
		return walk_params(ld, f, v, path, base);
	if (f->kind == FK_VENUE)
		return walk_venue(ld, f, v, path, base);
	if (f->kind == FK_SECTION)
		return walk_mapping(ld, v, &key->start_mark, path, f->sub, base + f->offset);
	if (f->kind == FK_LIST)
		return walk_list(ld, f, v, path, base);
	if (store_scalar(ld, f, v, path, base + f->offset))
		return -1;
	remember(ld, base + f->offset, v, path);
	return 0;
}

/*
 * Walk one mapping against its field table.  owner is where a missing key
 * is reported: the line of the key that holds this mapping.
 */
static int walk_mapping(struct loader *ld, const yaml_node_t *map, const yaml_mark_t *owner,
			const char *path, const struct field *fields, char *base)
{
	static const struct field want_mapping = { .kind = FK_SECTION };
	if (map->type != YAML_MAPPING_NODE)
		return fail_type(ld, map, path, &want_mapping);

	char sub[KEY_PATH_MAX];
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = node(ld, p->key);
		if (key->type != YAML_SCALAR_NODE) {
			char got[64];
			return fail_at(ld, &key->start_mark, path, "keys must be plain names, got %s",
				       describe(key, got, sizeof got));
		}
		child_path(sub, path, scalar(key), scalar_len(key));
		const yaml_node_t *first = earlier_key(ld, map, p);
		if (first)
			return fail_at(ld, &key->start_mark, sub, "duplicate key (first at line %zu)",
				       first->start_mark.line + 1);
		const struct field *f = find_field(fields, key);
		if (!f)
			return fail_unknown_key(ld, key, sub, fields);
		if (walk_value(ld, f, key, node(ld, p->value), sub, base))
			return -1;
	}
	for (const struct field *f = fields; f->key; f++) {
		if (f->required && !has_key(ld, map, f->key)) {
			child_path(sub, path, f->key, strlen(f->key));
			return fail_at(ld, owner, sub, "required key is missing");
		}
	}
	return 0;
}

/* ---- checks over several values ------------------------------------------ */

static void available_cores(cpu_set_t *set)
{
	if (sched_getaffinity(0, sizeof *set, set) == 0)
		return;
	long n = sysconf(_SC_NPROCESSORS_CONF);
	CPU_ZERO(set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, set);
}

/* "0-3,6" */
static void format_cores(const cpu_set_t *set, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < CPU_SETSIZE && used < cap; i++) {
		if (!CPU_ISSET(i, set))
			continue;
		int j = i;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
			j++;
		if (j == i)
			used += (size_t)snprintf(buf + used, cap - used, "%s%d", used ? "," : "", i);
		else
			used += (size_t)snprintf(buf + used, cap - used, "%s%d-%d", used ? "," : "", i, j);
		i = j;
	}
}

/* Without stages.journal, the journal shares the core of the first stage
 * that does not spin, gateway first: it mostly waits on the disk. */
static int default_journal_stage(struct loader *ld, struct fks_config *cfg)
{
	struct fks_stage_cfg *j = &cfg->stage[FKS_CFG_JOURNAL];
	if (j->core >= 0)
		return 0;
	static const enum fks_cfg_stage order[] = { FKS_CFG_GATEWAY, FKS_CFG_FEED, FKS_CFG_RISK, FKS_CFG_STRATEGY };
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (cfg->stage[order[i]].wait.kind != RING_WAIT_SPIN) {
			j->core = cfg->stage[order[i]].core;
			return 0;
		}
	}
	return fail_field(ld, &cfg->stage[FKS_CFG_GATEWAY].core,
			  "every stage spins on its own core, so the journal has none to share: "
			  "give it one under stages.journal");
}

static int check_stages(struct loader *ld, struct fks_config *cfg)
{
	if (default_journal_stage(ld, cfg))
		return -1;
	cpu_set_t cores;
	available_cores(&cores);
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		const struct fks_stage_cfg *st = &cfg->stage[s];
		if (!CPU_ISSET(st->core, &cores)) {
			char list[256];
			format_cores(&cores, list, sizeof list);
			return fail_field(ld, &st->core, "core %d does not exist or is not available to this "
					  "process (available: %s)", st->core, list);
		}
	}
	/* A spinning stage never gives its core away: whoever shares it starves. */
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		const struct fks_stage_cfg *st = &cfg->stage[s];
		if (st->wait.kind != RING_WAIT_SPIN)
			continue;
		for (int t = 0; t < FKS_CFG_STAGE_COUNT; t++) {
			if (t != s && cfg->stage[t].core == st->core)
				return fail_field(ld, &st->wait.kind, "spin on core %d, which stages.%s also uses; "
						  "a spinning stage needs a core of its own (use yield or park)",
						  st->core, config_stage_name(t));
		}
	}
	return 0;
}

static int check_rings(struct loader *ld, struct fks_config *cfg)
{
	if (cfg->ring_default.overflow == FKS_OVERFLOW_CONFLATE)
		return fail_field(ld, &cfg->ring_default.overflow, "conflate applies to market data only; "
				  "set it under rings.market_data");
	for (int r = 0; r < FKS_RING_COUNT; r++) {
		struct fks_ring_cfg *ring = &cfg->ring[r];
		if (!find_mark(ld, &ring->capacity))
			ring->capacity = cfg->ring_default.capacity;
		if (!find_mark(ld, &ring->overflow))
			ring->overflow = cfg->ring_default.overflow;
		if (r != FKS_RING_MARKET_DATA && ring->overflow == FKS_OVERFLOW_CONFLATE)
			return fail_field(ld, &ring->overflow, "conflate applies to market data only; "
					  "the %s ring must block", config_ring_name(r));
	}
	return 0;
}

static bool symbol_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
}

/* The sign of a decimal that fx_parse accepted: -1, 0 or 1. */
static int decimal_sign(const char *s)
{
	bool neg = *s == '-';
	for (; *s; s++)
		if (*s >= '1' && *s <= '9')
			return neg ? -1 : 1;
	return 0;
}

static int check_symbol(struct loader *ld, const struct fks_config *cfg, uint32_t i)
{
	const char *sym = cfg->instrument[i].symbol;
	if (!*sym)
		return fail_field(ld, sym, "must not be empty");
	for (const char *c = sym; *c; c++)
		if (!symbol_char_ok(*c))
			return fail_field(ld, sym, "\"%s\": a symbol may contain only A-Z, 0-9 and . _ - /", sym);
	for (uint32_t j = 0; j < i; j++) {
		if (strcmp(cfg->instrument[j].symbol, sym))
			continue;
		const struct value_mark *first = find_mark(ld, cfg->instrument[j].symbol);
		return fail_field(ld, sym, "duplicate symbol \"%s\" (first defined at line %zu, instruments[%" PRIu32 "])",
				  sym, first ? first->mark.line + 1 : 0, j);
	}
	return 0;
}

/*
 * Resolve decimal text at one instrument's scale.  `text` is also the key
 * its mark was recorded under.
 */
static int resolve_decimal(struct loader *ld, const char *text, const struct fks_instrument_cfg *in,
			   const char *scale_name, unsigned scale, int64_t *out)
{
	int rc = fx_parse(text, strlen(text), scale, out);
	if (rc == FX_OK)
		return 0;
	if (rc == FX_E_PRECISION)
		return fail_field(ld, text, "\"%s\" is not exact for instruments[%" PRIu32 "] (%s): "
				  "more decimal places than its %s %u", text, in->id - 1, in->symbol, scale_name, scale);
	return fail_field(ld, text, "\"%s\" does not fit in 64 bits at instruments[%" PRIu32 "] (%s) %s %u",
			  text, in->id - 1, in->symbol, scale_name, scale);
}

static int check_positive(struct loader *ld, const char *text, bool zero_ok)
{
	int sign = decimal_sign(text);
	if (sign < 0 || (sign == 0 && !zero_ok))
		return fail_field(ld, text, "must be %s 0, got %s", zero_ok ? "at least" : "greater than", text);
	return 0;
}

static int check_instruments(struct loader *ld, struct fks_config *cfg)
{
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		struct fks_instrument_cfg *in = &cfg->instrument[i];
		in->id = i + 1;
		if (check_symbol(ld, cfg, i) || check_positive(ld, in->start_px_text, false) ||
		    resolve_decimal(ld, in->start_px_text, in, "px_scale", in->px_scale, &in->start_px))
			return -1;
	}
	return 0;
}

/* The single `strategy` crossover is configured (it is the one that runs
 * when there is no `strategies` list). */
static bool have_strategy_section(struct loader *ld, const struct fks_config *cfg)
{
	return find_mark(ld, cfg->strategy.qty) != NULL; /* qty is required inside it */
}

static int check_strategy_and_risk(struct loader *ld, const struct fks_config *cfg)
{
	const struct fks_strategy_cfg *st = &cfg->strategy;
	bool legacy = have_strategy_section(ld, cfg);
	if (!legacy && cfg->n_strategies == 0) {
		yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
		return fail_at(ld, &root->start_mark, "strategy",
			       "required key is missing (or give a `strategies` list)");
	}
	if (legacy && st->slow <= st->fast)
		return fail_field(ld, &st->slow, "must be greater than strategy.fast (%" PRIu32 "), got %" PRIu32,
				  st->fast, st->slow);
	const struct fks_risk_cfg *r = &cfg->risk;
	if (legacy && check_positive(ld, st->qty, false))
		return -1;
	if (r->legacy && (check_positive(ld, r->max_order_qty, false) || check_positive(ld, r->max_notional, false) ||
			  check_positive(ld, r->max_position, true)))
		return -1;
	return 0;
}

static void discard_event(void *user, const union fks_event *ev)
{
	(void)user;
	(void)ev;
}

/* Each instance: a known instrument, a unique name, and parameters that
 * the engine accepts.  The engine is built once here, exactly as the
 * strategy stage will build it, so every parameter error is found before
 * anything starts, and reported at the value's own line and column. */
static int check_strategies(struct loader *ld, struct fks_config *cfg)
{
	if (cfg->n_strategies == 0)
		return 0;
	if (cfg->account.equity[0]) {
		if (check_positive(ld, cfg->account.equity, false))
			return -1;
		if (fx_parse(cfg->account.equity, strlen(cfg->account.equity), 2, &cfg->account.equity_cents) != FX_OK)
			return fail_field(ld, cfg->account.equity, "\"%s\" is not an amount with at most 2 decimals",
					  cfg->account.equity);
	}
	for (uint32_t i = 0; i < cfg->n_strategies; i++) {
		const struct fks_strategy_inst *si = &cfg->strategies[i];
		if (config_find_instrument(cfg, si->instrument) < 0)
			return fail_field(ld, si->instrument, "\"%s\" is not one of `instruments`", si->instrument);
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(cfg->strategies[k].name, si->name))
				return fail_field(ld, si->name, "\"%s\" names strategies[%" PRIu32 "] too", si->name, k);
	}
	struct engine *e = malloc(sizeof *e);
	if (!e) {
		set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	uint32_t bad = 0;
	struct strategy_error serr;
	int rc = config_build_engine(cfg, e, discard_event, NULL, &bad, &serr);
	if (rc == 0) {
		engine_free(e);
		free(e);
		return 0;
	}
	free(e);
	const struct fks_strategy_inst *si = &cfg->strategies[bad];
	for (uint32_t k = 0; serr.key && k < si->n_params; k++)
		if (!strcmp(si->param[k].key, serr.key))
			return fail_field(ld, si->param[k].value, "%s", serr.msg);
	return fail_field(ld, si->kind, "%s", serr.msg);
}

static int fail_venue_type(struct loader *ld, const struct fks_config *cfg)
{
	char known[160];
	size_t used = 0;
	known[0] = '\0';
	for (size_t i = 0; venue_at(i) && used < sizeof known; i++)
		used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", venue_at(i)->type);
	return fail_field(ld, cfg->venue.type, "unknown venue type \"%s\"; known types: %s", cfg->venue.type, known);
}

/* The venue: a type of the registry, and parameters its own init accepts.
 * The init runs once here, on scratch state, with what the gateway stage
 * will give it, so a refused parameter is reported at its own line and
 * column before anything starts.  (A venue whose init connects would want
 * a check of its own instead; sim, the only one, connects to nothing.) */
static int check_venue(struct loader *ld, const struct fks_config *cfg)
{
	const struct venue_vtbl *vt = venue_find(cfg->venue.type);
	if (!vt)
		return fail_venue_type(ld, cfg);
	void *state = calloc(1, vt->state_size);
	if (!state) {
		set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	struct venue_ctx ctx;
	struct venue_param params[FKS_VENUE_PARAMS_MAX];
	struct venue_error verr = { .key = NULL };
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
			return fail_field(ld, cfg->venue.param[k].value, "%s", verr.msg);
	return fail_field(ld, cfg->venue.type, "%s", verr.msg);
}

/* Limits that are quantities take qty_scale; a notional is money, px_scale. */
static int check_limits(struct loader *ld, struct fks_config *cfg)
{
	const struct fks_risk_cfg *r = &cfg->risk;
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		struct fks_instrument_cfg *in = &cfg->instrument[i];
		if (cfg->strategy.qty[0] &&
		    resolve_decimal(ld, cfg->strategy.qty, in, "qty_scale", in->qty_scale, &in->order_qty))
			return -1;
		if (r->legacy &&
		    (resolve_decimal(ld, r->max_order_qty, in, "qty_scale", in->qty_scale, &in->max_order_qty) ||
		     resolve_decimal(ld, r->max_position, in, "qty_scale", in->qty_scale, &in->max_position) ||
		     resolve_decimal(ld, r->max_notional, in, "px_scale", in->px_scale, &in->max_notional)))
			return -1;
	}
	return 0;
}

/* ---- risk ------------------------------------------------------------------ */

/* Where a top-level key was written (the root when it was not). */
static yaml_mark_t top_key_mark(struct loader *ld, const char *key)
{
	const yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
	for (const yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(ld, p->key);
		if (k->type == YAML_SCALAR_NODE && scalar_is(k, key))
			return k->start_mark;
	}
	return root->start_mark;
}

/* `rules`, or the whole legacy shorthand: one of the two, never both. */
static int check_risk_form(struct loader *ld, struct fks_config *cfg)
{
	struct fks_risk_cfg *r = &cfg->risk;
	const char *const names[] = { "max_order_qty", "max_notional", "max_position" };
	const char *const limits[] = { r->max_order_qty, r->max_notional, r->max_position };
	r->legacy = find_mark(ld, &r->stale_data_ms) != NULL;
	for (int i = 0; i < 3; i++)
		r->legacy |= find_mark(ld, limits[i]) != NULL;
	yaml_mark_t at = top_key_mark(ld, "risk");
	if (r->legacy && r->n_rules)
		return fail_field(ld, r->rules[0].rule, "risk.rules replaces the legacy keys (max_order_qty, "
				  "max_notional, max_position, stale_data_ms): give one or the other");
	if (!r->legacy && !r->n_rules)
		return fail_at(ld, &at, "risk.rules", "required key is missing (or the legacy max_order_qty, "
			       "max_notional and max_position)");
	for (int i = 0; r->legacy && i < 3; i++) {
		if (find_mark(ld, limits[i]))
			continue;
		char path[KEY_PATH_MAX];
		child_path(path, "risk", names[i], strlen(names[i]));
		return fail_at(ld, &at, path, "required key is missing");
	}
	return 0;
}

/* The legacy shorthand as rules, in today's order; errors in them point at
 * the legacy keys they came from. */
static void expand_legacy_risk(struct loader *ld, struct fks_risk_cfg *r)
{
	const struct { const char *rule, *key; const char *text; const void *src; } from[] = {
		{ "stale_data", "max_age_ms", NULL, &r->stale_data_ms },
		{ "max_order_qty", "limit", r->max_order_qty, r->max_order_qty },
		{ "max_notional", "limit", r->max_notional, r->max_notional },
		{ "max_position", "limit", r->max_position, r->max_position },
	};
	for (uint32_t i = 0; i < sizeof from / sizeof from[0]; i++) {
		struct fks_risk_rule_cfg *rc = &r->rules[i];
		snprintf(rc->rule, sizeof rc->rule, "%s", from[i].rule);
		rc->n_params = 1;
		snprintf(rc->param[0].key, sizeof rc->param[0].key, "%s", from[i].key);
		if (from[i].text)
			snprintf(rc->param[0].value, sizeof rc->param[0].value, "%s", from[i].text);
		else
			snprintf(rc->param[0].value, sizeof rc->param[0].value, "%" PRIu32, r->stale_data_ms);
		remember_as(ld, rc->param[0].value, from[i].src);
	}
	r->n_rules = sizeof from / sizeof from[0];
}

/* Build the runner once, exactly as the risk stage will, so that every
 * rule's parameter errors are found before anything starts, at the value's
 * own line and column. */
static int check_risk_rules(struct loader *ld, struct fks_config *cfg)
{
	struct fks_risk_cfg *r = &cfg->risk;
	if (r->legacy)
		expand_legacy_risk(ld, r);
	struct risk *rk = malloc(sizeof *rk);
	if (!rk) {
		set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	struct risk_error e = { 0 };
	int rc = config_build_risk(cfg, rk, &e);
	free(rk);
	if (rc == 0)
		return 0;
	if (e.rule >= r->n_rules) {
		yaml_mark_t at = top_key_mark(ld, "risk");
		return fail_at(ld, &at, "risk", "%s", e.msg);
	}
	const struct fks_risk_rule_cfg *bad = &r->rules[e.rule];
	for (uint32_t k = 0; e.key && k < bad->n_params; k++)
		if (!strcmp(bad->param[k].key, e.key))
			return fail_field(ld, bad->param[k].value, "%s", e.msg);
	return fail_field(ld, bad->rule, "\"%s\": %s", bad->rule, e.msg);
}

static bool stats_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int check_names(struct loader *ld, const struct fks_config *cfg)
{
	if (!cfg->journal.path[0])
		return fail_field(ld, cfg->journal.path, "must not be empty");
	const char *prefix = cfg->supervisor.stats_prefix;
	if (!*prefix)
		return fail_field(ld, prefix, "must not be empty");
	for (const char *c = prefix; *c; c++)
		if (!stats_char_ok(*c))
			return fail_field(ld, prefix, "\"%s\": a shared-memory prefix may contain only "
					  "A-Z, a-z, 0-9 and . _ -", prefix);
	return 0;
}

/* Which keys each source needs, and which sources each venue speaks. */
static int check_feed(struct loader *ld, struct fks_config *cfg)
{
	struct fks_feed_cfg *f = &cfg->feed;
	if (f->type == FKS_FEED_SYNTHETIC)
		return 0;
	bool itch = f->type == FKS_FEED_ITCH;
	/* Errors about the source point at feed.source, or at feed.type when
	 * the source is the default. */
	const void *src = find_mark(ld, &f->source) ? (const void *)&f->source : (const void *)&f->type;
	switch (f->source) {
	case FKS_SOURCE_FILE:
	case FKS_SOURCE_PCAP:
		if (!f->path[0])
			return fail_field(ld, src, "feed.path is required for a %s source",
					  choice_name(feed_source_choices, f->source));
		if (f->source == FKS_SOURCE_PCAP && !itch)
			return fail_field(ld, src, "pcap carries MoldUDP64, so only the itch feed reads it");
		break;
	case FKS_SOURCE_UDP:
	case FKS_SOURCE_DPDK:
		if (!itch)
			return fail_field(ld, src, "%s carries MoldUDP64, so only the itch feed reads it",
					  choice_name(feed_source_choices, f->source));
		if (f->source == FKS_SOURCE_UDP && !f->address[0])
			return fail_field(ld, src, "feed.address (\"group-or-ip:port\") is required for udp");
		if (f->source == FKS_SOURCE_DPDK && !f->dpdk_args[0])
			return fail_field(ld, src, "feed.dpdk_args (the EAL arguments) is required for dpdk");
		break;
	case FKS_SOURCE_WEBSOCKET:
		if (itch)
			return fail_field(ld, src, "ITCH does not come over a websocket: use file, pcap, udp or dpdk");
		break;
	}
	if (strcmp(f->speed, "asap")) {
		char *end;
		double x = strtod(f->speed, &end);
		if (*end || !(x > 0 && x <= 1e6))
			return fail_field(ld, f->speed, "\"%s\": expected asap or a speed factor > 0 (1 is real time)",
					  f->speed);
	}
	if (f->rest_url[0] && (f->type != FKS_FEED_BINANCE || f->source != FKS_SOURCE_WEBSOCKET))
		return fail_field(ld, f->rest_url, "rest_url is for the binance websocket feed (its depth snapshots)");
	if (f->rest_url[0] && strncmp(f->rest_url, "https://", 8))
		return fail_field(ld, f->rest_url, "\"%s\": expected https://host[:port]", f->rest_url);
	if (strcmp(f->market, "spot") && strcmp(f->market, "futures"))
		return fail_field(ld, f->market, "\"%s\": expected spot or futures", f->market);
	if (itch && f->session_date[0]) {
		int y, m, d;
		char extra;
		if (sscanf(f->session_date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
			return fail_field(ld, f->session_date, "\"%s\": expected a date YYYY-MM-DD", f->session_date);
	}
	return 0;
}

static int check_config(struct loader *ld, struct fks_config *cfg)
{
	if (check_stages(ld, cfg) || check_rings(ld, cfg) || check_instruments(ld, cfg) || check_feed(ld, cfg) ||
	    check_risk_form(ld, cfg) || check_strategy_and_risk(ld, cfg) || check_limits(ld, cfg) ||
	    check_risk_rules(ld, cfg) || check_strategies(ld, cfg) || check_names(ld, cfg) || check_venue(ld, cfg))
		return -1;
	return 0;
}

/* ---- parsing -------------------------------------------------------------- */

/* The reader reports invalid bytes by offset only: turn it into a mark. */
static yaml_mark_t mark_at_offset(const char *text, size_t len, size_t offset)
{
	yaml_mark_t m = { 0, 0, 0 };
	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

static int fail_yaml(struct loader *ld, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR) {
		set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	yaml_mark_t m = p->problem_mark;
	if (p->error == YAML_READER_ERROR)
		m = mark_at_offset(ld->text, ld->len, p->problem_offset);
	const char *problem = p->problem ? p->problem : "malformed document";
	if (p->context)
		return fail_at(ld, &m, NULL, "invalid YAML: %s (%s at line %zu)", problem, p->context,
			       p->context_mark.line + 1);
	return fail_at(ld, &m, NULL, "invalid YAML: %s", problem);
}

/* Load the one document of ld->text into ld->doc; a second one is an error. */
static int parse_document(struct loader *ld)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		set_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->text, ld->len);
	int rc = 0;
	if (!yaml_parser_load(&parser, &ld->doc)) {
		fail_yaml(ld, &parser);
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_document_t extra;
	if (!yaml_parser_load(&parser, &extra)) {
		rc = fail_yaml(ld, &parser);
	} else {
		if (yaml_document_get_root_node(&extra))
			rc = fail_at(ld, &extra.start_mark, NULL, "only one YAML document is allowed");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	if (rc)
		yaml_document_delete(&ld->doc);
	return rc;
}

static void set_defaults(struct fks_config *c)
{
	/* Not the text: config_load_string may be handed c->text itself. */
	memset(c, 0, offsetof(struct fks_config, text_len));
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		c->stage[s].core = -1;
		c->stage[s].wait = ring_wait_default();
	}
	c->ring_default = (struct fks_ring_cfg){ DEFAULT_RING_CAPACITY, FKS_OVERFLOW_BLOCK };
	for (int r = 0; r < FKS_RING_COUNT; r++)
		c->ring[r] = c->ring_default;
	for (int i = 0; i < FKS_MAX_INSTRUMENTS; i++)
		strcpy(c->instrument[i].start_px_text, DEFAULT_START_PX);
	c->feed = (struct fks_feed_cfg){
		.type = FKS_FEED_SYNTHETIC,
		.seed = DEFAULT_FEED_SEED,
		.rate = DEFAULT_FEED_RATE,
		.trade_ratio_ppm = DEFAULT_TRADE_RATIO_PPM,
		.volatility_bps_x100 = DEFAULT_VOLATILITY_BPS_X100,
		.source = FKS_SOURCE_FILE,
		.speed = "asap",
		.market = "spot",
		.utc_offset_min = -300,
	};
	c->strategy.type = FKS_STRATEGY_MA_CROSS;
	c->strategy.order_type = FKS_ORD_LIMIT;
	c->risk.stale_data_ms = DEFAULT_STALE_DATA_MS;
	strcpy(c->venue.type, "sim"); /* with no parameters: the sim venue's defaults */
	strcpy(c->journal.path, DEFAULT_JOURNAL_PATH);
	c->journal.sync = FKS_SYNC_DURABLE;
	c->journal.batch_events = DEFAULT_JOURNAL_BATCH_EVENTS;
	c->journal.batch_us = DEFAULT_JOURNAL_BATCH_US;
	c->supervisor.heartbeat_timeout_ms = DEFAULT_HEARTBEAT_TIMEOUT_MS;
	strcpy(c->supervisor.stats_prefix, DEFAULT_STATS_PREFIX);
}

static void start_load(struct fks_config *out, const char *name, char *err, size_t errlen)
{
	set_defaults(out);
	snprintf(out->name, sizeof out->name, "%s", name ? name : "(config)");
	set_err(err, errlen, "%s", "");
}

/* Parse, walk and check out->text[0..text_len). */
static int load_text(struct fks_config *out, char *err, size_t errlen)
{
	/* ~50 KiB of marks: too much for the stack of a small thread. */
	struct loader *ld = calloc(1, sizeof *ld);
	if (!ld) {
		set_err(err, errlen, "%s: out of memory", out->name);
		return -1;
	}
	ld->name = out->name;
	ld->text = out->text;
	ld->len = out->text_len;
	ld->err = err;
	ld->errlen = errlen;
	int rc = parse_document(ld);
	if (rc == 0) {
		const yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
		static const yaml_mark_t start = { 0, 0, 0 };
		if (!root)
			rc = fail_at(ld, &start, NULL, "the config is empty");
		else
			rc = walk_mapping(ld, root, &root->start_mark, "", top_fields, (char *)out);
		if (rc == 0)
			rc = check_config(ld, out);
		yaml_document_delete(&ld->doc);
	}
	free(ld);
	return rc;
}

static int fail_too_large(struct fks_config *out, char *err, size_t errlen)
{
	set_err(err, errlen, "%s: the config is larger than %d bytes", out->name, FKS_CONFIG_TEXT_MAX);
	return -1;
}

int config_load_string(const char *text, size_t len, const char *name,
		       struct fks_config *out, char *err, size_t errlen)
{
	start_load(out, name, err, errlen);
	if (len > FKS_CONFIG_TEXT_MAX)
		return fail_too_large(out, err, errlen);
	if (len)
		memmove(out->text, text, len);
	out->text[len] = '\0';
	out->text_len = len;
	return load_text(out, err, errlen);
}

/* Read at most FKS_CONFIG_TEXT_MAX + 1 bytes: enough to know it is too big,
 * and it bounds the read of a FIFO or a device. */
static ssize_t read_bounded(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int config_load_file(const char *path, struct fks_config *out, char *err, size_t errlen)
{
	char why[128];
	start_load(out, path, err, errlen);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: cannot open: %s", out->name, strerror_r(errno, why, sizeof why));
		return -1;
	}
	ssize_t n = read_bounded(fd, out->text, FKS_CONFIG_TEXT_MAX + 1);
	int saved = errno;
	close(fd);
	if (n < 0) {
		set_err(err, errlen, "%s: cannot read: %s", out->name, strerror_r(saved, why, sizeof why));
		return -1;
	}
	if (n > FKS_CONFIG_TEXT_MAX)
		return fail_too_large(out, err, errlen);
	out->text[n] = '\0';
	out->text_len = (size_t)n;
	return load_text(out, err, errlen);
}

const char *config_default_text(void)
{
	return fks_default_config_yaml;
}

int config_load_default(struct fks_config *out, char *err, size_t errlen)
{
	return config_load_string(fks_default_config_yaml, fks_default_config_yaml_len,
				  DEFAULT_CONFIG_NAME, out, err, errlen);
}

int config_find_instrument(const struct fks_config *cfg, const char *symbol)
{
	for (uint32_t i = 0; i < cfg->n_instruments; i++)
		if (!strcmp(cfg->instrument[i].symbol, symbol))
			return (int)i;
	return -1;
}

const char *config_stage_name(enum fks_cfg_stage s)
{
	if ((unsigned)s >= FKS_CFG_STAGE_COUNT)
		return "?";
	return stages_fields[s].key;
}

const char *config_ring_name(enum fks_ring_id r)
{
	if ((unsigned)r >= FKS_RING_COUNT)
		return "?";
	return rings_fields[2 + r].key; /* after capacity and overflow */
}

/* ---- describe and the `fks config` commands -------------------------------- */

static const char *fx_text(int64_t v, unsigned scale, char *buf)
{
	if (fx_format(v, scale, buf, FX_FORMAT_MAX + 1) < 0)
		return "?";
	return buf;
}

static void describe_instrument(const struct fks_instrument_cfg *in, FILE *out)
{
	char a[FX_FORMAT_MAX + 1], b[FX_FORMAT_MAX + 1], c[FX_FORMAT_MAX + 1], d[FX_FORMAT_MAX + 1],
	     e[FX_FORMAT_MAX + 1];
	fprintf(out, "  %2" PRIu32 " %-15s px_scale %u qty_scale %u start_px %s\n"
		"     order_qty %s max_order_qty %s max_position %s max_notional %s\n",
		in->id, in->symbol, in->px_scale, in->qty_scale, fx_text(in->start_px, in->px_scale, a),
		fx_text(in->order_qty, in->qty_scale, b), fx_text(in->max_order_qty, in->qty_scale, c),
		fx_text(in->max_position, in->qty_scale, d), fx_text(in->max_notional, in->px_scale, e));
}

void config_describe(const struct fks_config *cfg, FILE *out)
{
	char a[FX_FORMAT_MAX + 1], b[FX_FORMAT_MAX + 1];
	fprintf(out, "config %s\nstages:\n", cfg->name);
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++)
		fprintf(out, "  %-9s core %" PRId32 " wait %s spin_iters %" PRIu32 "\n", config_stage_name(s),
			cfg->stage[s].core, ring_wait_name(cfg->stage[s].wait.kind), cfg->stage[s].wait.spin_iters);
	fprintf(out, "rings:\n");
	for (int r = 0; r < FKS_RING_COUNT; r++)
		fprintf(out, "  %-13s capacity %" PRIu32 " overflow %s\n", config_ring_name(r),
			cfg->ring[r].capacity, choice_name(overflow_choices, cfg->ring[r].overflow));
	fprintf(out, "instruments:\n");
	for (uint32_t i = 0; i < cfg->n_instruments; i++)
		describe_instrument(&cfg->instrument[i], out);
	fprintf(out, "feed:       %s seed %" PRIu64 " rate %" PRIu64 "/s trade_ratio %s volatility_bps %s\n",
		choice_name(feed_type_choices, cfg->feed.type), cfg->feed.seed, cfg->feed.rate,
		fx_text(cfg->feed.trade_ratio_ppm, 6, a), fx_text(cfg->feed.volatility_bps_x100, 2, b));
	fprintf(out, "strategy:   %s fast %" PRIu32 " slow %" PRIu32 " qty %s order_type %s\n",
		choice_name(strategy_type_choices, cfg->strategy.type), cfg->strategy.fast, cfg->strategy.slow,
		cfg->strategy.qty, choice_name(order_type_choices, cfg->strategy.order_type));
	fprintf(out, "risk:       kill_switch %s%s\n", cfg->risk.kill_switch ? "true" : "false",
		cfg->risk.legacy ? " (legacy shorthand)" : "");
	for (uint32_t i = 0; i < cfg->risk.n_rules; i++) {
		const struct fks_risk_rule_cfg *rc = &cfg->risk.rules[i];
		fprintf(out, "  rule %s", rc->rule);
		for (uint32_t k = 0; k < rc->n_params; k++)
			fprintf(out, " %s %s", rc->param[k].key, rc->param[k].value);
		fprintf(out, "\n");
	}
	fprintf(out, "venue:      %s", cfg->venue.type);
	for (uint32_t k = 0; k < cfg->venue.n_params; k++)
		fprintf(out, " %s %s", cfg->venue.param[k].key, cfg->venue.param[k].value);
	fputc('\n', out);
	fprintf(out, "journal:    %s sync %s batch_events %" PRIu32 " batch_us %" PRIu32 "\n", cfg->journal.path,
		choice_name(sync_choices, cfg->journal.sync), cfg->journal.batch_events, cfg->journal.batch_us);
	fprintf(out, "supervisor: heartbeat_timeout_ms %" PRIu32 " stats %s\n",
		cfg->supervisor.heartbeat_timeout_ms, cfg->supervisor.stats_prefix);
}

static bool is_help_arg(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

int config_cmd_default(int argc, char **argv)
{
	if (argc > 1 && is_help_arg(argv[1])) {
		printf("usage: fks config default\n\nPrint the embedded default config: a commented "
		       "starting point to copy and edit.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "fks config default: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	fputs(config_default_text(), stdout);
	return 0;
}

int config_cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	if (argc == 2 && is_help_arg(argv[1])) {
		printf("usage: fks config check [-c] FILE\n\nLoad and validate FILE as `fks run` would, "
		       "and print the effective config.\nExit status 0: valid; 1: invalid.\n");
		return 0;
	}
	if (argc == 2)
		path = argv[1];
	else if (argc == 3 && !strcmp(argv[1], "-c"))
		path = argv[2];
	if (!path) {
		fprintf(stderr, "usage: fks config check [-c] FILE\n");
		return 2;
	}
	struct fks_config *cfg = malloc(sizeof *cfg);
	if (!cfg) {
		fprintf(stderr, "fks config check: out of memory\n");
		return 1;
	}
	char err[1024];
	int rc = config_load_file(path, cfg, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	else
		config_describe(cfg, stdout);
	free(cfg);
	return rc ? 1 : 0;
}

/* ---- the risk rules and the engine the config describes -------------------- */

int config_build_risk(const struct fks_config *cfg, struct risk *r, struct risk_error *err)
{
	struct risk_setup s = {
		.n_instruments = cfg->n_instruments,
		.n_rules = cfg->risk.n_rules,
		.equity = cfg->account.equity_cents,
		.equity_scale = 2,
		.kill_switch = cfg->risk.kill_switch,
	};
	for (uint32_t i = 0; i < cfg->n_instruments && i < RISK_MAX_INSTRUMENTS; i++) {
		const struct fks_instrument_cfg *ic = &cfg->instrument[i];
		s.instrument[i] = (struct risk_instrument_def){ .id = ic->id, .px_scale = ic->px_scale,
								.qty_scale = ic->qty_scale };
		snprintf(s.instrument[i].symbol, sizeof s.instrument[i].symbol, "%s", ic->symbol);
	}
	for (uint32_t i = 0; i < cfg->risk.n_rules && i < FKS_MAX_RISK_RULES; i++) {
		const struct fks_risk_rule_cfg *rc = &cfg->risk.rules[i];
		s.rule[i].name = rc->rule;
		s.rule[i].n_params = rc->n_params;
		for (uint32_t k = 0; k < rc->n_params && k < RISK_MAX_RULE_PARAMS; k++)
			s.rule[i].param[k] = (struct risk_param){ rc->param[k].key, rc->param[k].value };
	}
	return risk_init_rules(r, &s, err);
}

void config_venue_ctx(const struct fks_config *cfg, struct venue_ctx *ctx)
{
	_Static_assert(FKS_MAX_INSTRUMENTS <= VENUE_MAX_INSTRUMENTS, "every instrument fits a venue_ctx");
	memset(ctx, 0, sizeof *ctx);
	ctx->n_instruments = cfg->n_instruments;
	for (uint32_t i = 0; i < cfg->n_instruments; i++)
		ctx->instrument[i] = cfg->instrument[i].id;
}

size_t config_venue_params(const struct fks_config *cfg, struct venue_param *out)
{
	size_t n = cfg->venue.n_params < FKS_VENUE_PARAMS_MAX ? cfg->venue.n_params : FKS_VENUE_PARAMS_MAX;
	for (size_t k = 0; k < n; k++)
		out[k] = (struct venue_param){ cfg->venue.param[k].key, cfg->venue.param[k].value };
	return n;
}

int config_build_engine(const struct fks_config *cfg, struct engine *e,
			void (*emit)(void *user, const union fks_event *ev), void *user, uint32_t *bad,
			struct strategy_error *err)
{
	struct engine_params ep = {
		.equity = cfg->account.equity_cents ? cfg->account.equity_cents : FKS_DEFAULT_EQUITY_CENTS,
		.equity_scale = 2,
		.order_id_base = (uint64_t)1 << 40,
	};
	if (engine_init(e, &ep, emit, user) != 0) {
		*bad = 0;
		err->key = NULL;
		snprintf(err->msg, sizeof err->msg, "the signal engine refused its parameters");
		return -1;
	}
	for (uint32_t i = 0; i < cfg->n_strategies; i++) {
		const struct fks_strategy_inst *si = &cfg->strategies[i];
		int idx = config_find_instrument(cfg, si->instrument);
		const struct fks_instrument_cfg *ic = &cfg->instrument[idx < 0 ? 0 : idx];
		struct strategy_ctx ctx = { .instrument = ic->id, .px_scale = ic->px_scale, .qty_scale = ic->qty_scale,
					    .strategy_id = (uint16_t)i };
		struct strategy_param params[FKS_PARAMS_MAX];
		for (uint32_t k = 0; k < si->n_params; k++)
			params[k] = (struct strategy_param){ si->param[k].key, si->param[k].value };
		if (idx < 0 || engine_add(e, si->name, si->kind, &ctx, params, si->n_params, err) != 0) {
			if (idx < 0) {
				err->key = NULL;
				snprintf(err->msg, sizeof err->msg, "unknown instrument '%s'", si->instrument);
			}
			*bad = i;
			engine_free(e);
			return -1;
		}
	}
	return 0;
}
