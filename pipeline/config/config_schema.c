/*
 * The config schema: one field table per section, saying for each key its
 * type, its range, whether it is required and where in struct fks_config it
 * goes; the names of every enum value; and the default of every optional key.
 * docs/config.md is the same model in prose.
 */
#include "pipeline/config/config_int.h"

#include <sched.h>

#include "strategies/impl/ma_cross.h"

/* Defaults of optional keys.  docs/config.md lists the same values. */
/*
 * Also the capacity of the journal's four taps (rings.journal), which must
 * hold what the producers write while one commit syncs, or the feed blocks
 * on its tap.  A durable commit of a full batch (4096 events, one
 * fdatasync of the data and a synchronous meta-page write) took p50 1-3 ms,
 * p99 2-10 ms and at most 16 ms in 20 as-fast-as-possible runs on the
 * 2-vCPU VM of docs/benchmarks.md (2026-12-04, "Group commit"); a bare
 * fdatasync p99 was 4-9 ms.  At 1M events/s the feed tap (every market
 * event) takes 16k events during the slowest of those: 65536 slots (4 MiB
 * at 64 bytes) are 65 ms of feed, four times the slowest commit seen and
 * six times the p99.  A commit slower than that
 * (682 ms was seen on a loaded VM, docs/operations.md) is a slow disk:
 * back-pressure, not a tap to size for.
 */
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
#define DEFAULT_BUS_STREAM "FKS"
#define DEFAULT_BUS_PREFIX "fks"
#define DEFAULT_BUS_SIGNALS_STREAM "FKS_SIGNALS"
#define DEFAULT_BUS_SIGNALS_CONSUMER "execution"

/* Enums are stored through their size, like integers. */
_Static_assert(sizeof(enum ring_wait_kind) == sizeof(uint32_t), "enum is 4 bytes");
_Static_assert(sizeof(enum fks_overflow) == sizeof(uint32_t), "enum is 4 bytes");
_Static_assert(sizeof(enum fks_order_type) == sizeof(uint32_t), "enum is 4 bytes");

/* Same names as ring_wait_name(). */
static const struct choice wait_choices[] = {
	{ "spin", RING_WAIT_SPIN }, { "yield", RING_WAIT_SPIN_YIELD }, { "park", RING_WAIT_SPIN_PARK },
	{ NULL, 0 },
};
const struct choice cfg_overflow_choices[] = {
	{ "block", FKS_OVERFLOW_BLOCK }, { "conflate", FKS_OVERFLOW_CONFLATE }, { NULL, 0 },
};
const struct choice cfg_feed_type_choices[] = {
	{ "synthetic", FKS_FEED_SYNTHETIC }, { "itch", FKS_FEED_ITCH }, { "binance", FKS_FEED_BINANCE },
	{ "bybit", FKS_FEED_BYBIT }, { "coinbase", FKS_FEED_COINBASE }, { "kraken", FKS_FEED_KRAKEN },
	{ NULL, 0 },
};
const struct choice cfg_feed_source_choices[] = {
	{ "file", FKS_SOURCE_FILE }, { "pcap", FKS_SOURCE_PCAP }, { "udp", FKS_SOURCE_UDP },
	{ "dpdk", FKS_SOURCE_DPDK }, { "websocket", FKS_SOURCE_WEBSOCKET }, { NULL, 0 },
};
const struct choice cfg_strategy_type_choices[] = { { "ma_cross", FKS_STRATEGY_MA_CROSS }, { NULL, 0 } };
const struct choice cfg_order_type_choices[] = {
	{ "limit", FKS_ORD_LIMIT }, { "market", FKS_ORD_MARKET }, { NULL, 0 },
};
const struct choice cfg_sync_choices[] = {
	{ "durable", FKS_SYNC_DURABLE }, { "nometasync", FKS_SYNC_NOMETASYNC }, { "async", FKS_SYNC_ASYNC },
	{ NULL, 0 },
};

/* Same names as config_idle_name(). */
static const struct choice idle_choices[] = {
	{ "spin", FKS_IDLE_SPIN }, { "backoff", FKS_IDLE_BACKOFF }, { "park", FKS_IDLE_PARK }, { NULL, 0 },
};

const char *config_idle_name(enum fks_idle k)
{
	for (const struct choice *c = idle_choices; c->name; c++)
		if (c->value == (int)k)
			return c->name;
	return "?";
}

static const struct field runner_fields[] = {
	{ .key = "name", .kind = FK_STRING, AT(struct fks_runner_cfg, name), .required = true },
	{ .key = "core", .kind = FK_INT, AT(struct fks_runner_cfg, core), .required = true,
	  .min = 0, .max = CPU_SETSIZE - 1 },
	{ .key = "idle", .kind = FK_ENUM, AT(struct fks_runner_cfg, idle), .choices = idle_choices },
	{ .key = "spin_iters", .kind = FK_INT, AT(struct fks_runner_cfg, spin_iters), .min = 0, .max = 1000000000 },
	{ .key = NULL },
};

static const struct field stage_fields[] = {
	/* Required unless `runner` places the stage: check_stages() says so. */
	{ .key = "core", .kind = FK_INT, AT(struct fks_stage_cfg, core), .min = 0, .max = CPU_SETSIZE - 1 },
	{ .key = "runner", .kind = FK_STRING, AT(struct fks_stage_cfg, runner) },
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
	{ .key = "overflow", .kind = FK_ENUM, AT(struct fks_ring_cfg, overflow), .choices = cfg_overflow_choices },
	{ .key = NULL },
};

#define RING(name, id) { .key = name, .kind = FK_SECTION, AT(struct fks_config, ring[id]), \
			 .sub = ring_fields }
static const struct field rings_fields[] = {
	RING_CAPACITY(struct fks_config, ring_default.capacity),
	{ .key = "overflow", .kind = FK_ENUM, AT(struct fks_config, ring_default.overflow),
	  .choices = cfg_overflow_choices },
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
	{ .key = "type", .kind = FK_ENUM, AT(struct fks_feed_cfg, type), .choices = cfg_feed_type_choices },
	{ .key = "seed", .kind = FK_U64, AT(struct fks_feed_cfg, seed) },
	{ .key = "rate", .kind = FK_INT, AT(struct fks_feed_cfg, rate), .min = 0, .max = 1000000000 },
	{ .key = "trade_ratio", .kind = FK_FIXED, AT(struct fks_feed_cfg, trade_ratio_ppm),
	  .scale = 6, .min = 0, .max = 1000000 },
	{ .key = "volatility_bps", .kind = FK_FIXED, AT(struct fks_feed_cfg, volatility_bps_x100),
	  .scale = 2, .min = 0, .max = 1000000 },
	{ .key = "source", .kind = FK_ENUM, AT(struct fks_feed_cfg, source), .choices = cfg_feed_source_choices },
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
	{ .key = "type", .kind = FK_ENUM, AT(struct fks_strategy_cfg, type), .choices = cfg_strategy_type_choices },
	/* The strategy keeps its window in a fixed array (no allocation per
	 * instance): MA_CROSS_MAX_WINDOW samples. */
	{ .key = "fast", .kind = FK_INT, AT(struct fks_strategy_cfg, fast), .required = true,
	  .min = 1, .max = MA_CROSS_MAX_WINDOW - 1 },
	{ .key = "slow", .kind = FK_INT, AT(struct fks_strategy_cfg, slow), .required = true,
	  .min = 2, .max = MA_CROSS_MAX_WINDOW },
	{ .key = "qty", .kind = FK_DECIMAL, AT(struct fks_strategy_cfg, qty), .required = true },
	{ .key = "order_type", .kind = FK_ENUM, AT(struct fks_strategy_cfg, order_type),
	  .choices = cfg_order_type_choices },
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
	{ .key = "sync", .kind = FK_ENUM, AT(struct fks_journal_cfg, sync), .choices = cfg_sync_choices },
	{ .key = "batch_events", .kind = FK_INT, AT(struct fks_journal_cfg, batch_events),
	  .min = 1, .max = 1 << 20 },
	{ .key = "batch_us", .kind = FK_INT, AT(struct fks_journal_cfg, batch_us), .min = 0, .max = 1000000 },
	{ .key = "commit_when_idle", .kind = FK_BOOL, AT(struct fks_journal_cfg, commit_when_idle) },
	{ .key = "rotate_mb", .kind = FK_INT, AT(struct fks_journal_cfg, rotate_mb), .min = 0, .max = 1 << 20 },
	{ .key = "rotate_s", .kind = FK_INT, AT(struct fks_journal_cfg, rotate_s), .min = 0, .max = 7 * 86400 },
	{ .key = "retain", .kind = FK_INT, AT(struct fks_journal_cfg, retain), .min = 0, .max = 100000 },
	{ .key = "write_ahead", .kind = FK_BOOL, AT(struct fks_journal_cfg, write_ahead) },
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
	/* A healthy stage beats at least every STAGE_TICK_NS (20 ms); a parked
	 * stage on a shared core can wait a scheduler slice or two more.  Below
	 * five ticks, a healthy pipeline would be killed as stalled. */
	{ .key = "heartbeat_timeout_ms", .kind = FK_INT, AT(struct fks_supervisor_cfg, heartbeat_timeout_ms),
	  .min = 100, .max = 3600000 },
	{ .key = "stats", .kind = FK_STRING, AT(struct fks_supervisor_cfg, stats_prefix) },
	{ .key = NULL },
};

static const struct field metrics_fields[] = {
	{ .key = "listen", .kind = FK_STRING, AT(struct fks_metrics_cfg, listen) },
	{ .key = NULL },
};

static const struct choice notify_kind_choices[] = {
	{ "discord", FKS_NOTIFY_DISCORD }, { "slack", FKS_NOTIFY_SLACK }, { NULL, 0 },
};
static const struct choice severity_choices[] = {
	{ "info", FKS_SEV_INFO }, { "warning", FKS_SEV_WARNING }, { "critical", FKS_SEV_CRITICAL }, { NULL, 0 },
};

const char *config_notify_kind_name(enum fks_notify_kind k) { return cfg_choice_name(notify_kind_choices, (int)k); }
const char *config_severity_name(enum fks_severity s) { return cfg_choice_name(severity_choices, (int)s); }

/* No `url` key: a URL written here would be copied into every journal
 * (config_notify.c says so when one is written). */
const struct field cfg_notify_target_fields[] = {
	{ .key = "name", .kind = FK_STRING, AT(struct fks_notify_target_cfg, name), .required = true },
	{ .key = "kind", .kind = FK_ENUM, AT(struct fks_notify_target_cfg, kind), .required = true,
	  .choices = notify_kind_choices },
	{ .key = "url_env", .kind = FK_STRING, AT(struct fks_notify_target_cfg, url_env) },
	{ .key = "url_file", .kind = FK_STRING, AT(struct fks_notify_target_cfg, url_file) },
	{ .key = "min_severity", .kind = FK_ENUM, AT(struct fks_notify_target_cfg, min_severity),
	  .choices = severity_choices },
	{ .key = NULL },
};

static const struct field notify_fields[] = {
	{ .key = "targets", .kind = FK_LIST, AT(struct fks_notify_cfg, target), .sub = cfg_notify_target_fields,
	  .elem_size = sizeof(struct fks_notify_target_cfg), .max_items = FKS_MAX_NOTIFY_TARGETS,
	  .count_offset = offsetof(struct fks_notify_cfg, n_targets) },
	{ .key = NULL },
};

static const struct field bus_signals_fields[] = {
	{ .key = "stream", .kind = FK_STRING, AT(struct fks_bus_signals_cfg, stream) },
	{ .key = "consumer", .kind = FK_STRING, AT(struct fks_bus_signals_cfg, consumer) },
	{ .key = NULL },
};

/* No user or password key: the config is copied into every journal
 * (config_bus.c says where credentials come from). */
static const struct field bus_fields[] = {
	{ .key = "url", .kind = FK_STRING, AT(struct fks_bus_cfg, url), .required = true },
	{ .key = "creds_file", .kind = FK_STRING, AT(struct fks_bus_cfg, creds_file) },
	{ .key = "tls", .kind = FK_BOOL, AT(struct fks_bus_cfg, tls) },
	{ .key = "stream", .kind = FK_STRING, AT(struct fks_bus_cfg, stream) },
	{ .key = "subjects_prefix", .kind = FK_STRING, AT(struct fks_bus_cfg, subjects_prefix) },
	/* JetStream replicates a stream on at most 5 servers. */
	{ .key = "replicas", .kind = FK_INT, AT(struct fks_bus_cfg, replicas), .min = 1, .max = 5 },
	{ .key = "max_age", .kind = FK_STRING, AT(struct fks_bus_cfg, max_age) },
	{ .key = "signals", .kind = FK_SECTION, AT(struct fks_bus_cfg, signals), .sub = bus_signals_fields },
	{ .key = NULL },
};

#define SECTION(name, member, fields, req) { .key = name, .kind = FK_SECTION, \
	AT(struct fks_config, member), .required = req, .sub = fields }
const struct field cfg_top_fields[] = {
	/* stages and rings fill several members of fks_config: offset 0. */
	{ .key = "stages", .kind = FK_SECTION, .offset = 0, .required = true, .sub = stages_fields },
	{ .key = "runners", .kind = FK_LIST, AT(struct fks_config, runner), .sub = runner_fields,
	  .elem_size = sizeof(struct fks_runner_cfg), .max_items = FKS_CFG_STAGE_COUNT,
	  .count_offset = offsetof(struct fks_config, n_runners) },
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
	SECTION("metrics", metrics, metrics_fields, false),
	SECTION("notify", notify, notify_fields, false),
	SECTION("bus", bus, bus_fields, false),
	{ .key = NULL },
};

void cfg_set_defaults(struct fks_config *c)
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
	c->journal.commit_when_idle = true;
	c->supervisor.heartbeat_timeout_ms = DEFAULT_HEARTBEAT_TIMEOUT_MS;
	strcpy(c->supervisor.stats_prefix, DEFAULT_STATS_PREFIX);
	for (int i = 0; i < FKS_MAX_NOTIFY_TARGETS; i++)
		c->notify.target[i].min_severity = FKS_SEV_WARNING;
	strcpy(c->bus.stream, DEFAULT_BUS_STREAM);
	strcpy(c->bus.subjects_prefix, DEFAULT_BUS_PREFIX);
	c->bus.replicas = 1;
	strcpy(c->bus.max_age, "0");
	strcpy(c->bus.signals.stream, DEFAULT_BUS_SIGNALS_STREAM);
	strcpy(c->bus.signals.consumer, DEFAULT_BUS_SIGNALS_CONSUMER);
}

const char *cfg_choice_name(const struct choice *c, int value)
{
	for (; c->name; c++)
		if (c->value == value)
			return c->name;
	return "?";
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
