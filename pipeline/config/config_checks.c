/*
 * Checks over several values, once the walk has stored them all: stages and
 * their cores, ring defaults, instruments and their symbols, decimal limits
 * at each instrument's scale, names, and which feed keys each source needs.
 * Each error is reported at the recorded mark of the value at fault.
 */
#include "pipeline/config/config_int.h"

#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "shm/fixed.h"

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
	if (j->core >= 0 || j->runner[0])
		return 0;
	static const enum fks_cfg_stage order[] = { FKS_CFG_GATEWAY, FKS_CFG_FEED, FKS_CFG_RISK, FKS_CFG_STRATEGY };
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const struct fks_stage_cfg *st = &cfg->stage[order[i]];
		if (!st->runner[0] && st->wait.kind != RING_WAIT_SPIN) {
			j->core = st->core;
			return 0;
		}
	}
	return cfg_fail_field(ld, &cfg->stage[FKS_CFG_GATEWAY].core,
			      "no stage has a core the journal can share: "
			      "give it one under stages.journal (core, or runner)");
}

static int find_runner(const struct fks_config *cfg, const char *name)
{
	for (uint32_t r = 0; r < cfg->n_runners; r++)
		if (!strcmp(cfg->runner[r].name, name))
			return (int)r;
	return -1;
}

/* The stage's ring waits follow its runner: a spinning runner's stages spin
 * on a full ring too; the others park. */
static enum ring_wait_kind idle_wait_kind(uint32_t idle)
{
	return idle == FKS_IDLE_SPIN ? RING_WAIT_SPIN : RING_WAIT_SPIN_PARK;
}

static uint32_t wait_kind_idle(enum ring_wait_kind k)
{
	return k == RING_WAIT_SPIN ? FKS_IDLE_SPIN : k == RING_WAIT_SPIN_YIELD ? FKS_IDLE_BACKOFF : FKS_IDLE_PARK;
}

/* Place every stage: in the runner it names, or in a runner of its own
 * (named after it, from its core and wait: the dedicated layout). */
static int place_stages(struct loader *ld, struct fks_config *cfg)
{
	for (uint32_t r = 0; r < cfg->n_runners; r++) {
		if (!cfg_find_mark(ld, &cfg->runner[r].spin_iters))
			cfg->runner[r].spin_iters = ring_wait_default().spin_iters;
		if (!cfg->runner[r].name[0])
			return cfg_fail_field(ld, cfg->runner[r].name, "a runner needs a name");
		if (find_runner(cfg, cfg->runner[r].name) != (int)r)
			return cfg_fail_field(ld, cfg->runner[r].name, "runner '%s' is declared twice",
					      cfg->runner[r].name);
	}
	uint32_t declared = cfg->n_runners;
	for (uint32_t r = 0; r < declared; r++)
		cfg->runner[r].declared = true;
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++) {
		struct fks_stage_cfg *st = &cfg->stage[s];
		int r;
		if (st->runner[0]) {
			r = find_runner(cfg, st->runner);
			if (r < 0 || (uint32_t)r >= declared)
				return cfg_fail_field(ld, st->runner, "no runner named '%s' under runners", st->runner);
			if (cfg_find_mark(ld, &st->core))
				return cfg_fail_field(ld, &st->core, "stages.%s runs in runner '%s', which sets its "
						      "core: remove this one", config_stage_name(s), st->runner);
			st->core = cfg->runner[r].core;
			st->wait.kind = idle_wait_kind(cfg->runner[r].idle);
		} else {
			if (st->core < 0)
				return cfg_fail_field(ld, st, "stages.%s needs a core, or a runner",
						      config_stage_name(s));
			r = (int)cfg->n_runners++;
			struct fks_runner_cfg *rc = &cfg->runner[r];
			snprintf(rc->name, sizeof rc->name, "%s", config_stage_name(s));
			rc->core = st->core;
			rc->idle = wait_kind_idle(st->wait.kind);
			rc->spin_iters = st->wait.spin_iters;
		}
		cfg->runner[r].stages |= 1u << s;
		cfg->stage_runner[s] = (uint8_t)r;
	}
	for (uint32_t r = 0; r < declared; r++)
		if (!cfg->runner[r].stages)
			return cfg_fail_field(ld, cfg->runner[r].name, "runner '%s' runs no stage: place one in it "
					      "with stages.<name>.runner, or remove it", cfg->runner[r].name);
	/* Every stage blocks on a full tap (back-pressure, never a drop), and
	 * only the journal drains the taps: in a runner with another stage, a
	 * full tap would wait for the very process it holds.  And a commit can
	 * take a second on a slow disk, which no hot-path stage should wait. */
	const struct fks_runner_cfg *jr = &cfg->runner[cfg->stage_runner[FKS_CFG_JOURNAL]];
	if (jr->stages != 1u << FKS_CFG_JOURNAL)
		return cfg_fail_field(ld, cfg->stage[FKS_CFG_JOURNAL].runner,
				      "the journal needs a runner of its own (runner '%s' also runs other stages): "
				      "the stages wait on it when their taps fill, and its commits wait on the disk",
				      jr->name);
	return 0;
}

static int check_stages(struct loader *ld, struct fks_config *cfg)
{
	if (default_journal_stage(ld, cfg) || place_stages(ld, cfg))
		return -1;
	cpu_set_t cores;
	available_cores(&cores);
	for (uint32_t r = 0; r < cfg->n_runners; r++) {
		const struct fks_runner_cfg *rc = &cfg->runner[r];
		if (!CPU_ISSET(rc->core, &cores)) {
			char list[256];
			format_cores(&cores, list, sizeof list);
			const int32_t *at = r < FKS_CFG_STAGE_COUNT && cfg_find_mark(ld, &rc->core) ? &rc->core : NULL;
			for (int s = 0; !at && s < FKS_CFG_STAGE_COUNT; s++)
				if (cfg->stage_runner[s] == r)
					at = &cfg->stage[s].core;
			return cfg_fail_field(ld, at, "core %d does not exist or is not available to this "
					      "process (available: %s)", rc->core, list);
		}
	}
	/* A spinning runner never gives its core away: whoever shares it starves. */
	for (uint32_t r = 0; r < cfg->n_runners; r++) {
		const struct fks_runner_cfg *rc = &cfg->runner[r];
		if (rc->idle != FKS_IDLE_SPIN)
			continue;
		for (uint32_t t = 0; t < cfg->n_runners; t++) {
			const struct fks_runner_cfg *other = &cfg->runner[t];
			if (t == r || other->core != rc->core)
				continue;
			if (!rc->declared && !other->declared) /* two stages of the dedicated layout */
				return cfg_fail_field(ld, &cfg->stage[__builtin_ctz(rc->stages)].wait.kind,
						      "spin on core %d, which stages.%s also uses; a spinning stage "
						      "needs a core of its own (use yield or park)",
						      rc->core, config_stage_name(__builtin_ctz(other->stages)));
			return cfg_fail_field(ld, rc->declared ? (const void *)&rc->idle
					      : (const void *)&cfg->stage[__builtin_ctz(rc->stages)].wait.kind,
					      "runner '%s' spins on core %d, which runner '%s' also uses; "
					      "a spinning runner needs a core of its own (use backoff or park)",
					      rc->name, rc->core, other->name);
		}
	}
	return 0;
}

static int check_rings(struct loader *ld, struct fks_config *cfg)
{
	if (cfg->ring_default.overflow == FKS_OVERFLOW_CONFLATE)
		return cfg_fail_field(ld, &cfg->ring_default.overflow, "conflate applies to market data only; "
				      "set it under rings.market_data");
	for (int r = 0; r < FKS_RING_COUNT; r++) {
		struct fks_ring_cfg *ring = &cfg->ring[r];
		if (!cfg_find_mark(ld, &ring->capacity))
			ring->capacity = cfg->ring_default.capacity;
		if (!cfg_find_mark(ld, &ring->overflow))
			ring->overflow = cfg->ring_default.overflow;
		if (r != FKS_RING_MARKET_DATA && ring->overflow == FKS_OVERFLOW_CONFLATE)
			return cfg_fail_field(ld, &ring->overflow, "conflate applies to market data only; "
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
		return cfg_fail_field(ld, sym, "must not be empty");
	for (const char *c = sym; *c; c++)
		if (!symbol_char_ok(*c))
			return cfg_fail_field(ld, sym, "\"%s\": a symbol may contain only A-Z, 0-9 and . _ - /", sym);
	for (uint32_t j = 0; j < i; j++) {
		if (strcmp(cfg->instrument[j].symbol, sym))
			continue;
		const struct value_mark *first = cfg_find_mark(ld, cfg->instrument[j].symbol);
		return cfg_fail_field(ld, sym, "duplicate symbol \"%s\" (first defined at line %zu, instruments[%" PRIu32 "])",
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
		return cfg_fail_field(ld, text, "\"%s\" is not exact for instruments[%" PRIu32 "] (%s): "
				      "more decimal places than its %s %u", text, in->id - 1, in->symbol, scale_name, scale);
	return cfg_fail_field(ld, text, "\"%s\" does not fit in 64 bits at instruments[%" PRIu32 "] (%s) %s %u",
			      text, in->id - 1, in->symbol, scale_name, scale);
}

int cfg_check_positive(struct loader *ld, const char *text, bool zero_ok)
{
	int sign = decimal_sign(text);
	if (sign < 0 || (sign == 0 && !zero_ok))
		return cfg_fail_field(ld, text, "must be %s 0, got %s", zero_ok ? "at least" : "greater than", text);
	return 0;
}

static int check_instruments(struct loader *ld, struct fks_config *cfg)
{
	for (uint32_t i = 0; i < cfg->n_instruments; i++) {
		struct fks_instrument_cfg *in = &cfg->instrument[i];
		in->id = i + 1;
		if (check_symbol(ld, cfg, i) || cfg_check_positive(ld, in->start_px_text, false) ||
		    resolve_decimal(ld, in->start_px_text, in, "px_scale", in->px_scale, &in->start_px))
			return -1;
	}
	return 0;
}

/* The single `strategy` crossover is configured (it is the one that runs
 * when there is no `strategies` list). */
static bool have_strategy_section(struct loader *ld, const struct fks_config *cfg)
{
	return cfg_find_mark(ld, cfg->strategy.qty) != NULL; /* qty is required inside it */
}

static int check_strategy_and_risk(struct loader *ld, const struct fks_config *cfg)
{
	const struct fks_strategy_cfg *st = &cfg->strategy;
	bool legacy = have_strategy_section(ld, cfg);
	if (!legacy && cfg->n_strategies == 0) {
		yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
		return cfg_fail_at(ld, &root->start_mark, "strategy",
				   "required key is missing (or give a `strategies` list)");
	}
	if (legacy && st->slow <= st->fast)
		return cfg_fail_field(ld, &st->slow, "must be greater than strategy.fast (%" PRIu32 "), got %" PRIu32,
				      st->fast, st->slow);
	const struct fks_risk_cfg *r = &cfg->risk;
	if (legacy && cfg_check_positive(ld, st->qty, false))
		return -1;
	if (r->legacy && (cfg_check_positive(ld, r->max_order_qty, false) || cfg_check_positive(ld, r->max_notional, false) ||
			  cfg_check_positive(ld, r->max_position, true)))
		return -1;
	return 0;
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

static bool stats_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int check_names(struct loader *ld, const struct fks_config *cfg)
{
	if (!cfg->journal.path[0])
		return cfg_fail_field(ld, cfg->journal.path, "must not be empty");
	const char *prefix = cfg->supervisor.stats_prefix;
	if (!*prefix)
		return cfg_fail_field(ld, prefix, "must not be empty");
	for (const char *c = prefix; *c; c++)
		if (!stats_char_ok(*c))
			return cfg_fail_field(ld, prefix, "\"%s\": a shared-memory prefix may contain only "
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
	const void *src = cfg_find_mark(ld, &f->source) ? (const void *)&f->source : (const void *)&f->type;
	switch (f->source) {
	case FKS_SOURCE_FILE:
	case FKS_SOURCE_PCAP:
		if (!f->path[0])
			return cfg_fail_field(ld, src, "feed.path is required for a %s source",
					      cfg_choice_name(cfg_feed_source_choices, f->source));
		if (f->source == FKS_SOURCE_PCAP && !itch)
			return cfg_fail_field(ld, src, "pcap carries MoldUDP64, so only the itch feed reads it");
		break;
	case FKS_SOURCE_UDP:
	case FKS_SOURCE_DPDK:
		if (!itch)
			return cfg_fail_field(ld, src, "%s carries MoldUDP64, so only the itch feed reads it",
					      cfg_choice_name(cfg_feed_source_choices, f->source));
		if (f->source == FKS_SOURCE_UDP && !f->address[0])
			return cfg_fail_field(ld, src, "feed.address (\"group-or-ip:port\") is required for udp");
		if (f->source == FKS_SOURCE_DPDK && !f->dpdk_args[0])
			return cfg_fail_field(ld, src, "feed.dpdk_args (the EAL arguments) is required for dpdk");
		break;
	case FKS_SOURCE_WEBSOCKET:
		if (itch)
			return cfg_fail_field(ld, src, "ITCH does not come over a websocket: use file, pcap, udp or dpdk");
		break;
	}
	if (strcmp(f->speed, "asap")) {
		char *end;
		double x = strtod(f->speed, &end);
		if (*end || !(x > 0 && x <= 1e6))
			return cfg_fail_field(ld, f->speed, "\"%s\": expected asap or a speed factor > 0 (1 is real time)",
					      f->speed);
	}
	if (f->rest_url[0] && (f->type != FKS_FEED_BINANCE || f->source != FKS_SOURCE_WEBSOCKET))
		return cfg_fail_field(ld, f->rest_url, "rest_url is for the binance websocket feed (its depth snapshots)");
	if (f->rest_url[0] && strncmp(f->rest_url, "https://", 8))
		return cfg_fail_field(ld, f->rest_url, "\"%s\": expected https://host[:port]", f->rest_url);
	if (strcmp(f->market, "spot") && strcmp(f->market, "futures"))
		return cfg_fail_field(ld, f->market, "\"%s\": expected spot or futures", f->market);
	if (itch && f->session_date[0]) {
		int y, m, d;
		char extra;
		if (sscanf(f->session_date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
			return cfg_fail_field(ld, f->session_date, "\"%s\": expected a date YYYY-MM-DD", f->session_date);
	}
	return 0;
}

int cfg_check_config(struct loader *ld, struct fks_config *cfg)
{
	if (check_stages(ld, cfg) || check_rings(ld, cfg) || check_instruments(ld, cfg) || check_feed(ld, cfg) ||
	    cfg_check_risk_form(ld, cfg) || check_strategy_and_risk(ld, cfg) || check_limits(ld, cfg) ||
	    cfg_check_risk_rules(ld, cfg) || cfg_check_order_size(ld, cfg) || cfg_check_strategies(ld, cfg) || check_names(ld, cfg) || cfg_check_venue(ld, cfg) ||
	    cfg_check_metrics(ld, cfg) ||
	    cfg_check_notify(ld, cfg) || cfg_check_bus(ld, cfg))
		return -1;
	return 0;
}
