/*
 * The pipeline config: what `fks run -c config.yaml` reads before it starts
 * anything.  docs/config.md is the reference for every key; this header is
 * the C view of the same model.
 *
 * Loading either succeeds completely or fails with one message of the form
 *
 *     file:line:column: key.path: what is wrong
 *
 * and a non-zero status, so a bad config never starts half a pipeline.
 *
 * struct fks_config is plain data: fixed arrays, no pointers, no handle to
 * free.  It can be copied, kept in a forked child or written out as is.  It
 * keeps the raw text it was loaded from (for the journal's run metadata).
 *
 * Decimal values (prices, quantities, limits) are read as exact decimal text
 * and converted with fx_parse, never through a double.  Those whose scale
 * depends on the instrument are kept as text in their section and resolved
 * at load time into every fks_instrument_cfg, at that instrument's scale; a
 * value that is not exact at some instrument's scale is a load error that
 * names the key and the instrument.
 *
 * No global state: every function is reentrant.
 */
#ifndef FKS_PIPELINE_CONFIG_H
#define FKS_PIPELINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/journal/journal.h"
#include "shm/event.h"
#include "shm/ring.h"

#define FKS_MAX_INSTRUMENTS 64
#define FKS_CONFIG_TEXT_MAX JOURNAL_CONFIG_MAX /* bytes of YAML; larger is refused */
#define FKS_CONFIG_NAME_MAX 256         /* file name kept for messages */
#define FKS_DECIMAL_TEXT_MAX 32         /* a decimal as written, with its NUL */
#define FKS_CONFIG_PATH_MAX 256
#define FKS_STATS_PREFIX_MAX 32
#define FKS_PX_SCALE_MAX 9              /* px_scale and qty_scale: 0..9 */

/* The stages the config places on cores, in pipeline order. */
enum fks_cfg_stage {
	FKS_CFG_FEED = 0,
	FKS_CFG_STRATEGY = 1,
	FKS_CFG_RISK = 2,
	FKS_CFG_GATEWAY = 3,
	FKS_CFG_JOURNAL = 4,        /* drains every stage's tap ring into LMDB */
	FKS_CFG_STAGE_COUNT
};

/* Logical rings.  exec_reports is one setting for both physical rings that
 * carry execution reports back (gateway->risk and gateway->strategy). */
enum fks_ring_id {
	FKS_RING_MARKET_DATA = 0,   /* feed -> strategy */
	FKS_RING_ORDERS = 1,        /* strategy -> risk */
	FKS_RING_RISK_OUT = 2,      /* risk -> gateway */
	FKS_RING_EXEC_REPORTS = 3,  /* gateway -> risk, gateway -> strategy */
	FKS_RING_JOURNAL = 4,       /* each stage's tap -> journal: one setting, four rings */
	FKS_RING_COUNT
};

enum fks_overflow {
	FKS_OVERFLOW_BLOCK = 0,     /* a full ring blocks the producer */
	FKS_OVERFLOW_CONFLATE = 1,  /* market_data only: drop and count */
};

/* Where market data comes from: the synthetic walk, or one venue's format
 * (decoded by feeds/) over one transport. */
enum fks_feed_type {
	FKS_FEED_SYNTHETIC = 1,
	FKS_FEED_ITCH = 2,
	FKS_FEED_BINANCE = 3,
	FKS_FEED_BYBIT = 4,
	FKS_FEED_COINBASE = 5,
	FKS_FEED_KRAKEN = 6,
};
enum fks_feed_source {
	FKS_SOURCE_FILE = 1,       /* a recording: raw ITCH, or JSON lines */
	FKS_SOURCE_PCAP = 2,       /* a capture of MoldUDP64 packets (ITCH) */
	FKS_SOURCE_UDP = 3,        /* live MoldUDP64, multicast or unicast (ITCH) */
	FKS_SOURCE_DPDK = 4,       /* live MoldUDP64 through a DPDK port (ITCH) */
	FKS_SOURCE_WEBSOCKET = 5,  /* live venue websocket over TLS (JSON venues) */
};
#define FKS_FEED_TEXT_MAX 256
enum fks_strategy_type { FKS_STRATEGY_MA_CROSS = 1 };

#define FKS_RUNNER_NAME_MAX 16

struct fks_stage_cfg {
	int32_t core;               /* CPU id; checked against this process's affinity */
	struct ring_wait wait;      /* ring_wait_default() with kind/spin_iters from the file */
	char runner[FKS_RUNNER_NAME_MAX]; /* "": a runner of its own, on `core` */
};

/* What a runner does when a whole duty cycle found no work. */
enum fks_idle {
	FKS_IDLE_BACKOFF = 0, /* the default: spin a while, then yield, then park */
	FKS_IDLE_SPIN = 1,    /* poll again at once: a core of its own, isolated */
	FKS_IDLE_PARK = 2,    /* park on its input rings after a short spin */
};

/* A runner: one process pinned to one core, running its stages' kernels in
 * one duty cycle (docs/architecture.md).  The `runners` section declares
 * them and `stages.<name>.runner` places a stage; a stage placed nowhere
 * gets a runner of its own, named after it, from its core and wait. */
struct fks_runner_cfg {
	char name[FKS_RUNNER_NAME_MAX];
	int32_t core;
	uint32_t idle;              /* enum fks_idle */
	uint32_t spin_iters;        /* backoff and park: empty cycles spun first */
	uint32_t stages;            /* bit (1 << enum fks_cfg_stage) per stage it runs: set by the checks */
	bool declared;              /* under `runners`; false: a stage's own, named after it */
};

struct fks_ring_cfg {
	uint32_t capacity;          /* slots, power of two, 16..2^24 */
	enum fks_overflow overflow;
};

struct fks_instrument_cfg {
	uint32_t id;                /* index + 1: the symbol-table id */
	char symbol[FKS_SYMBOL_MAX];/* 1..15 chars of [A-Z0-9._/-], NUL-terminated */
	uint8_t px_scale;           /* 0..9 */
	uint8_t qty_scale;          /* 0..9 */
	char start_px_text[FKS_DECIMAL_TEXT_MAX];
	/* Resolved at this instrument's scales at load time. */
	int64_t start_px;           /* px_scale */
	int64_t order_qty;          /* strategy.qty, qty_scale */
	/* The legacy risk shorthand resolved (0 under risk.rules, where each
	 * rule resolves its own limits): */
	int64_t max_order_qty;      /* risk.max_order_qty, qty_scale */
	int64_t max_position;       /* risk.max_position, qty_scale */
	int64_t max_notional;       /* risk.max_notional, px_scale: compare it with
	                               px * qty / 10^qty_scale, in 128-bit arithmetic */
};

struct fks_feed_cfg {
	enum fks_feed_type type;
	enum fks_feed_source source;  /* not synthetic; default file */
	char path[FKS_CONFIG_PATH_MAX];   /* file, pcap */
	char speed[16];               /* file, pcap: "asap" (default) or a factor: "1", "10", "0.5" */
	char address[64];             /* udp: "239.1.1.1:26400" or "0.0.0.0:26400" */
	char interface[64];           /* udp: local address joining the group ("" any) */
	char dpdk_args[FKS_FEED_TEXT_MAX]; /* dpdk: EAL arguments */
	char url[FKS_FEED_TEXT_MAX];  /* websocket: overrides the venue's default */
	char rest_url[FKS_FEED_TEXT_MAX]; /* binance websocket: where depth snapshots come from */
	char ca_file[FKS_CONFIG_PATH_MAX]; /* websocket: extra trusted CAs */
	char market[16];              /* binance, bybit: "spot" (default) or "futures" */
	uint32_t depth;               /* websocket book depth; 0: the venue's default */
	char session_date[16];        /* itch: "YYYY-MM-DD", the session's date */
	int32_t utc_offset_min;       /* itch: the session's UTC offset; default -300 (New York, EST) */
	uint64_t seed;
	uint64_t rate;                /* events/s; 0: as fast as possible */
	uint32_t trade_ratio_ppm;     /* trade_ratio * 10^6: 0..1000000 */
	uint32_t volatility_bps_x100; /* volatility_bps * 100 (0.01 bps steps) */
};

struct fks_strategy_cfg {
	enum fks_strategy_type type;
	uint32_t fast, slow;          /* moving-average windows, 1 <= fast < slow */
	char qty[FKS_DECIMAL_TEXT_MAX]; /* as written; resolved as order_qty */
	enum fks_order_type order_type; /* from event.h */
};

struct fks_journal_cfg {
	char path[FKS_CONFIG_PATH_MAX];
	enum fks_journal_sync sync;
	uint32_t batch_events;      /* commit after this many events ... */
	uint32_t batch_us;          /* ... or this long after the first pending one */
	/* ... or as soon as its taps are empty (default true; always with
	 * write_ahead): stage_journal.c says why. */
	bool commit_when_idle;
	uint32_t rotate_mb;         /* start a new part past this data.mdb size; 0: never */
	uint32_t rotate_s;          /* ... or once a part is this old; 0: never */
	uint32_t retain;            /* rotated parts of the run kept; 0: all */
	/* The gateway sends an order only once the journal has committed it;
	 * the journal then commits whenever its taps are empty, whatever
	 * commit_when_idle says. */
	bool write_ahead;
};

/*
 * Strategy instances run by the signal engine (strategies/engine.h).  When
 * `strategies` is present it replaces the single `strategy` crossover.
 * Parameters are kept as text, exactly as written, and each strategy (and
 * the engine) parses its own: the loader checks them by building the
 * engine once, and reports a refused value at its own line and column.
 */
#define FKS_MAX_STRATEGIES 32
#define FKS_PARAMS_MAX 24
#define FKS_PARAM_KEY_MAX 32
#define FKS_PARAM_VALUE_MAX 48
#define FKS_STRATEGY_NAME_MAX 32
#define FKS_DEFAULT_EQUITY_CENTS 10000000  /* account.equity: 100000.00 */

/* A parameter as the config holds it (copied text); plug-ins are handed
 * views of it, struct fks_param (shm/params.h). */
struct fks_param_text {
	char key[FKS_PARAM_KEY_MAX];
	char value[FKS_PARAM_VALUE_MAX];
};

/*
 * Pre-trade risk (gateway/risk/): the rules to apply, in order, each a name
 * from the rule registry and its parameters as text, checked by the rule
 * itself at load (config_build_risk).  The pinned rules (kill_switch,
 * bad_order, feed_dead, throttle) are always applied and never listed.
 *
 * The legacy shorthand (max_order_qty, max_notional, max_position,
 * stale_data_ms) is kept because every existing journal embeds it: the
 * loader expands it into `rules` (stale_data, max_order_qty, max_notional,
 * max_position: today's order), and also resolves its limits into each
 * fks_instrument_cfg.  It cannot be mixed with `rules`.
 */
#define FKS_MAX_RISK_RULES 12
#define FKS_RISK_PARAMS_MAX 8

struct fks_risk_rule_cfg {
	char rule[FKS_STRATEGY_NAME_MAX]; /* a registry name: "max_notional" */
	uint32_t n_params;
	struct fks_param_text param[FKS_RISK_PARAMS_MAX];
};

struct fks_risk_cfg {
	bool kill_switch;             /* start with the kill switch engaged */
	uint32_t n_rules;             /* after the legacy expansion: >= 1 */
	struct fks_risk_rule_cfg rules[FKS_MAX_RISK_RULES];
	/* The legacy shorthand as written ("" when not used). */
	bool legacy;
	char max_order_qty[FKS_DECIMAL_TEXT_MAX];
	char max_notional[FKS_DECIMAL_TEXT_MAX];
	char max_position[FKS_DECIMAL_TEXT_MAX];
	uint32_t stale_data_ms;
};

/*
 * The venue section: `type` names a venue of the registry
 * (gateway/venues/registry.c) and every other key is that venue's own
 * parameter, kept as text like a strategy's and checked by running the
 * venue's init once at load (a refused value is reported at its line and
 * column).  The loader knows no venue's parameters.
 */
#define FKS_VENUE_TYPE_MAX 32
#define FKS_VENUE_PARAMS_MAX 16

struct fks_venue_cfg {
	char type[FKS_VENUE_TYPE_MAX];       /* default "sim" */
	uint32_t n_params;
	struct fks_param_text param[FKS_VENUE_PARAMS_MAX];
};

struct fks_strategy_inst {
	char name[FKS_STRATEGY_NAME_MAX]; /* unique; what `gate:` refers to */
	char kind[FKS_STRATEGY_NAME_MAX]; /* ma_cross, rsi, bollinger, asmbtr, markov */
	char instrument[FKS_SYMBOL_MAX];  /* a symbol of `instruments` */
	uint32_t n_params;
	struct fks_param_text param[FKS_PARAMS_MAX];
};

struct fks_account_cfg {
	char equity[FKS_DECIMAL_TEXT_MAX]; /* as written, in the quote currency */
	int64_t equity_cents;              /* resolved at scale 2 */
};

struct fks_supervisor_cfg {
	uint32_t heartbeat_timeout_ms;
	char stats_prefix[FKS_STATS_PREFIX_MAX]; /* shared-memory name prefix */
};

/* metrics.listen: "HOST:PORT" (IPv4 or [IPv6], port 0..65535), where the
 * supervisor serves the Prometheus exporter (pipeline/metrics/metrics.h)
 * while the pipeline runs; "" (the default): no exporter. */
#define FKS_LISTEN_MAX 64
struct fks_metrics_cfg {
	char listen[FKS_LISTEN_MAX];
};

/*
 * Direct notifications (pipeline/notify/notify.h): where the supervisor
 * posts the events that must page an operator even without Prometheus.
 * A target's webhook URL is a secret and never in the config, whose text
 * is embedded in every journal: it comes from an environment variable
 * (url_env) or a file of mode 0600 (url_file), exactly one of the two.
 */
#define FKS_MAX_NOTIFY_TARGETS 8
#define FKS_NOTIFY_NAME_MAX 32
#define FKS_NOTIFY_ENV_MAX 64

enum fks_notify_kind { FKS_NOTIFY_DISCORD = 1, FKS_NOTIFY_SLACK = 2 };
/* Ordered: a target gets what is at least its min_severity. */
enum fks_severity { FKS_SEV_INFO = 0, FKS_SEV_WARNING = 1, FKS_SEV_CRITICAL = 2 };

struct fks_notify_target_cfg {
	char name[FKS_NOTIFY_NAME_MAX];   /* unique; names the target in messages */
	uint32_t kind;                    /* enum fks_notify_kind */
	char url_env[FKS_NOTIFY_ENV_MAX]; /* the variable holding the URL, or "" */
	char url_file[FKS_CONFIG_PATH_MAX]; /* a 0600 file holding the URL, or "" */
	uint32_t min_severity;            /* enum fks_severity; default warning */
};

struct fks_notify_cfg {
	uint32_t n_targets;
	struct fks_notify_target_cfg target[FKS_MAX_NOTIFY_TARGETS];
};

/*
 * The bus (pipeline/bus/bus.h, docs/bus.md): NATS JetStream, where `fks bus
 * publish` sends every journal event and from where signals come in.  No
 * secret is ever in here (the config is copied into every journal): the
 * credentials come from creds_file (a NATS .creds file of mode 0600) or the
 * environment (FKS_NATS_TOKEN, or FKS_NATS_USER and FKS_NATS_PASSWORD), and
 * a URL with a user or password in it is refused.
 */
#define FKS_BUS_URL_MAX 512
#define FKS_BUS_NAME_MAX 64      /* stream and consumer names */
#define FKS_BUS_PREFIX_MAX 64    /* subjects_prefix */

struct fks_bus_signals_cfg {
	char stream[FKS_BUS_NAME_MAX];   /* default "FKS_SIGNALS" */
	char consumer[FKS_BUS_NAME_MAX]; /* default "execution" */
};

struct fks_bus_cfg {
	char url[FKS_BUS_URL_MAX];       /* "nats://h:p[,nats://h2:p2...]"; "": no bus */
	char creds_file[FKS_CONFIG_PATH_MAX];
	bool tls;                        /* require TLS (system CAs) */
	char stream[FKS_BUS_NAME_MAX];   /* default "FKS" */
	char subjects_prefix[FKS_BUS_PREFIX_MAX]; /* default "fks" */
	uint32_t replicas;               /* 1..5, default 1 */
	char max_age[32];                /* "0" (keep), "90s", "30m", "24h", "7d" */
	int64_t max_age_ns;              /* resolved from max_age */
	struct fks_bus_signals_cfg signals;
};

struct fks_config {
	char name[FKS_CONFIG_NAME_MAX]; /* what errors were reported against */
	struct fks_stage_cfg stage[FKS_CFG_STAGE_COUNT];
	uint32_t n_runners;              /* declared, then one per unplaced stage */
	struct fks_runner_cfg runner[FKS_CFG_STAGE_COUNT + 1];
	uint8_t stage_runner[FKS_CFG_STAGE_COUNT]; /* index into runner[] */
	struct fks_ring_cfg ring_default; /* rings.capacity / rings.overflow */
	struct fks_ring_cfg ring[FKS_RING_COUNT]; /* effective, defaults applied */
	uint32_t n_instruments;
	struct fks_instrument_cfg instrument[FKS_MAX_INSTRUMENTS];
	struct fks_feed_cfg feed;
	struct fks_strategy_cfg strategy;
	struct fks_risk_cfg risk;
	struct fks_venue_cfg venue;
	struct fks_journal_cfg journal;
	struct fks_supervisor_cfg supervisor;
	struct fks_metrics_cfg metrics;
	struct fks_account_cfg account;
	struct fks_notify_cfg notify;
	struct fks_bus_cfg bus;
	uint32_t n_strategies;           /* 0: the `strategy` crossover runs */
	struct fks_strategy_inst strategies[FKS_MAX_STRATEGIES];
	size_t text_len;
	char text[FKS_CONFIG_TEXT_MAX + 1]; /* the YAML as loaded, NUL-terminated */
};

/*
 * Load and validate a config.  Return 0, or -1 with a NUL-terminated message
 * in err (truncated to errlen).  On failure *out holds partial data: use
 * nothing from it.  On success err is "".
 *
 * config_load_file reports a file it cannot read as "path: strerror".
 * config_load_string names the text `name` in messages; text need not be
 * NUL-terminated.  Both refuse more than FKS_CONFIG_TEXT_MAX bytes.
 *
 * Cores are checked against the calling process's CPU affinity, so load the
 * config on the machine (and in the cpuset) that will run it.
 */
int config_load_file(const char *path, struct fks_config *out, char *err, size_t errlen);
int config_load_string(const char *text, size_t len, const char *name,
		       struct fks_config *out, char *err, size_t errlen);

/* The embedded default config (pipeline/default_config.yaml), NUL-terminated. */
const char *config_default_text(void);
/* config_load_string of the default, named "(default config)". */
int config_load_default(struct fks_config *out, char *err, size_t errlen);

/*
 * config_load_file (config_load_default when path is NULL), then what running
 * the config needs of this host, at the key's line and column: a file or
 * pcap feed's recording readable, journal.path a directory that exists or
 * can be created (not "/", not a file).  `fks run` and `fks config check`
 * load with it; replay, which reads neither, loads without.
 */
int config_load_to_run(const char *path, struct fks_config *out, char *err, size_t errlen);

/* Split a listen address "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464") into
 * host (without brackets) and port.  0, or -1 with why set to what is wrong.
 * Only the form is checked: whether HOST is a literal address is up to the
 * caller (inet_pton), which config_check_listen also does. */
int config_split_listen(const char *text, char *host, size_t cap, uint16_t *port, const char **why);
/* "discord", "slack"; "info", "warning", "critical"; "?" if unknown. */
const char *config_notify_kind_name(enum fks_notify_kind k);
const char *config_severity_name(enum fks_severity s);

/* A duration "0", "N", "Ns", "Nm", "Nh" or "Nd" (bus.max_age) into ns;
 * -1 when it is not one. */
int config_parse_duration(const char *text, int64_t *ns);

/* Index of the instrument with this symbol, or -1. */
int config_find_instrument(const struct fks_config *cfg, const char *symbol);

/* The YAML key of a stage or ring ("feed", "market_data"); "?" if unknown. */
const char *config_stage_name(enum fks_cfg_stage s);
/* "spin", "backoff", "park"; "?" if unknown. */
const char *config_idle_name(enum fks_idle k);
const char *config_ring_name(enum fks_ring_id r);

/* A human-readable summary of the effective config, resolved values included. */
void config_describe(const struct fks_config *cfg, FILE *out);

/*
 * `fks config default`: print the embedded default.
 * `fks config check [-c] FILE`: load FILE, print the summary or the error;
 * exit status 0 when valid, 1 when not, 2 on usage errors.
 * argv[0] is the command's own name (pipeline/cli/main.c); both live in
 * pipeline/cli/config_cmd.c.
 */
int config_cmd_default(int argc, char **argv);
int config_cmd_check(int argc, char **argv);

/* Build the signal engine of cfg's `strategies` into e (engine_init, then
 * engine_add per instance, in order, so a `gate` may name an earlier
 * instance).  On failure *bad is the instance at fault, err says why (and
 * which parameter), and e is freed.  Used by the loader to check the
 * parameters, and by the strategy stage and `fks replay` to run them. */
struct engine;
struct fks_param_error;
int config_build_engine(const struct fks_config *cfg, struct engine *e,
			void (*emit)(void *user, const union fks_event *ev), void *user, uint32_t *bad,
			struct fks_param_error *err);

/* Build the risk rule runner of cfg's `risk` (gateway/risk/risk.h) into r
 * (about 200 KiB: not on a small stack).  On failure err says which rule
 * (err->rule indexes cfg->risk.rules) and which parameter.  Used by the
 * loader to check every rule's parameters, and by the risk stage and
 * `fks replay` to run them. */
struct risk;
struct risk_error;
int config_build_risk(const struct fks_config *cfg, struct risk *r, struct risk_error *err);

/* The venue section as a venue's init takes it (gateway/venue.h): the
 * instruments it trades, and its parameters, which point into cfg and
 * live as long as it.  config_venue_params returns how many it wrote
 * (at most FKS_VENUE_PARAMS_MAX). */
struct venue_ctx;
struct fks_param;
void config_venue_ctx(const struct fks_config *cfg, struct venue_ctx *ctx);
size_t config_venue_params(const struct fks_config *cfg, struct fks_param *out);

/* Fill a journal's metadata from a loaded config: its text and instruments,
 * the version string (FKS_VERSION lives with the executable, so the caller
 * passes it), the host and the current time (pipeline/config/journal_meta.c). */
void journal_meta_from_config(struct journal_meta *meta, const struct fks_config *cfg,
			      const char *fks_version);

#endif
