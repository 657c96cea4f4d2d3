/*
 * config_describe: the resolved config as text, every default filled in and
 * every per-instrument value at its scale (what `fks config check` prints).
 */
#include "pipeline/config/config_int.h"

#include <inttypes.h>

#include "shm/fixed.h"

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
	fprintf(out, "config %s\nrunners:\n", cfg->name);
	for (uint32_t r = 0; r < cfg->n_runners; r++) {
		const struct fks_runner_cfg *rc = &cfg->runner[r];
		fprintf(out, "  %-9s core %" PRId32 " idle %s spin_iters %" PRIu32 " stages", rc->name, rc->core,
			config_idle_name((enum fks_idle)rc->idle), rc->spin_iters);
		for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++)
			if (rc->stages & (1u << s))
				fprintf(out, " %s", config_stage_name(s));
		fprintf(out, "\n");
	}
	fprintf(out, "stages:\n");
	for (int s = 0; s < FKS_CFG_STAGE_COUNT; s++)
		fprintf(out, "  %-9s core %" PRId32 " wait %s spin_iters %" PRIu32 " runner %s\n", config_stage_name(s),
			cfg->stage[s].core, ring_wait_name(cfg->stage[s].wait.kind), cfg->stage[s].wait.spin_iters,
			cfg->runner[cfg->stage_runner[s]].name);
	fprintf(out, "rings:\n");
	for (int r = 0; r < FKS_RING_COUNT; r++)
		fprintf(out, "  %-13s capacity %" PRIu32 " overflow %s\n", config_ring_name(r),
			cfg->ring[r].capacity, cfg_choice_name(cfg_overflow_choices, cfg->ring[r].overflow));
	fprintf(out, "instruments:\n");
	for (uint32_t i = 0; i < cfg->n_instruments; i++)
		describe_instrument(&cfg->instrument[i], out);
	fprintf(out, "feed:       %s seed %" PRIu64 " rate %" PRIu64 "/s trade_ratio %s volatility_bps %s\n",
		cfg_choice_name(cfg_feed_type_choices, cfg->feed.type), cfg->feed.seed, cfg->feed.rate,
		fx_text(cfg->feed.trade_ratio_ppm, 6, a), fx_text(cfg->feed.volatility_bps_x100, 2, b));
	fprintf(out, "strategy:   %s fast %" PRIu32 " slow %" PRIu32 " qty %s order_type %s\n",
		cfg_choice_name(cfg_strategy_type_choices, cfg->strategy.type), cfg->strategy.fast, cfg->strategy.slow,
		cfg->strategy.qty, cfg_choice_name(cfg_order_type_choices, cfg->strategy.order_type));
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
	fprintf(out, "journal:    %s sync %s batch_events %" PRIu32 " batch_us %" PRIu32 "%s%s\n", cfg->journal.path,
		cfg_choice_name(cfg_sync_choices, cfg->journal.sync), cfg->journal.batch_events, cfg->journal.batch_us,
		cfg->journal.commit_when_idle ? "" : " commit_when_idle false",
		cfg->journal.write_ahead ? " write_ahead" : "");
	if (cfg->journal.rotate_mb || cfg->journal.rotate_s)
		fprintf(out, "            rotate_mb %" PRIu32 " rotate_s %" PRIu32 " retain %" PRIu32 "\n",
			cfg->journal.rotate_mb, cfg->journal.rotate_s, cfg->journal.retain);
	fprintf(out, "supervisor: heartbeat_timeout_ms %" PRIu32 " stats %s\n",
		cfg->supervisor.heartbeat_timeout_ms, cfg->supervisor.stats_prefix);
	if (cfg->metrics.listen[0])
		fprintf(out, "metrics:    listen %s\n", cfg->metrics.listen);
	if (cfg->bus.url[0])
		fprintf(out, "bus:        %s stream %s prefix %s replicas %" PRIu32 " max_age %s%s%s; signals %s/%s\n",
			cfg->bus.url, cfg->bus.stream, cfg->bus.subjects_prefix, cfg->bus.replicas, cfg->bus.max_age,
			cfg->bus.tls ? " tls" : "", cfg->bus.creds_file[0] ? " creds_file" : "", cfg->bus.signals.stream,
			cfg->bus.signals.consumer);
}
