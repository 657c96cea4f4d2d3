/* The options of `fks replay` (one table: it parses argv and prints --help)
 * and its entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/options.h"
#include "pipeline/replay/replay_int.h"

static int parse_kv(char *arg, char **key, char **val)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return -1;
	*eq = 0;
	*key = arg;
	*val = eq + 1;
	return 0;
}

static int parse_speed(struct opts *o, const char *v)
{
	if (!strcmp(v, "asap"))
		o->speed = SPEED_ASAP;
	else if (!strcmp(v, "real"))
		o->speed = SPEED_REAL;
	else if (v[0] == 'x') {
		char *end;
		o->speed = SPEED_REAL;
		o->speed_x = strtod(v + 1, &end);
		if (*end || !(o->speed_x > 0) || o->speed_x > 1e9) {
			fprintf(stderr, "fks replay: --speed %s: use asap, real or xN with N > 0\n", v);
			return 2;
		}
	} else {
		fprintf(stderr, "fks replay: --speed %s: use asap, real or xN\n", v);
		return 2;
	}
	return 0;
}

/* --sweep key=v1,v2,...: arg is split in place (the axis points into it). */
static int parse_sweep_axis(struct opts *o, char *arg)
{
	const char *v = arg;
	char *key, *vals;
	if (o->n_sweep == REPLAY_SWEEP_AXES || parse_kv(arg, &key, &vals) || strlen(key) >= sizeof o->sweep[0].key) {
		fprintf(stderr, "fks replay: --sweep %s: expected key=v1,v2,... (at most 8 axes)\n", v);
		return 2;
	}
	if (vals[0] == ',' || vals[strlen(vals) - 1] == ',' || strstr(vals, ",,")) {
		fprintf(stderr, "fks replay: --sweep %s: empty value\n", key);
		return 2;
	}
	struct sweep_axis *ax = &o->sweep[o->n_sweep++];
	snprintf(ax->key, sizeof ax->key, "%s", key);
	for (char *save = NULL, *t = strtok_r(vals, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (ax->n == REPLAY_SWEEP_VALUES) {
			fprintf(stderr, "fks replay: --sweep %s: at most 64 values per key\n", key);
			return 2;
		}
		ax->vals[ax->n++] = t;
	}
	if (ax->n == 0) {
		fprintf(stderr, "fks replay: --sweep %s: empty value\n", key);
		return 2;
	}
	return 0;
}

static bool take_rank(void *ctx, char *v)
{
	if (strcmp(v, "net") && strcmp(v, "sharpe")) {
		fprintf(stderr, "fks replay: --rank %s: use net or sharpe\n", v);
		return false;
	}
	((struct opts *)ctx)->rank = v;
	return true;
}

static bool take_speed(void *ctx, char *v)
{
	return parse_speed(ctx, v) == 0;
}

static bool take_strategy(void *ctx, char *v)
{
	struct opts *o = ctx;
	if (o->n_strategy == REPLAY_MAX_SPECS) {
		fprintf(stderr, "fks replay: at most %d --strategy\n", REPLAY_MAX_SPECS);
		return false;
	}
	o->strategy[o->n_strategy++] = v;
	return true;
}

static bool take_set(void *ctx, char *v)
{
	struct opts *o = ctx;
	if (o->n_set == REPLAY_MAX_SETS || parse_kv(v, &o->set_key[o->n_set], &o->set_val[o->n_set])) {
		fprintf(stderr, "fks replay: --set %s: expected key=value\n", v);
		return false;
	}
	o->n_set++;
	return true;
}

static bool take_sweep(void *ctx, char *v)
{
	return parse_sweep_axis(ctx, v) == 0;
}

static void usage(FILE *f, const struct opt_table *t)
{
	struct opt_table block = *t;
	block.opts = t->opts + 1; /* without --input */
	fprintf(f, "usage: fks replay --input JOURNAL_DIR|RECORDING [options]\n");
	opts_print_help(&block, f);
}

/* The checks across options, once all are read. */
static int check_opts(const struct opts *o, const struct opt_table *t)
{
	if (!o->input)
		return opts_usage_error(t, "--input is required");
	if (o->n_sweep && (o->out || o->report_dir || o->verify)) {
		fprintf(stderr, "fks replay: --sweep writes a ranked table only: no --out, --report or --verify with it\n");
		return 2;
	}
	if (o->n_sweep && replay_sweep_count(o) > 100000) {
		fprintf(stderr, "fks replay: --sweep: more than 100000 combinations\n");
		return 2;
	}
	return 0;
}

/* 0, 1 after --help, 2 on a usage error (printed). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->speed_x = 1;
	/* The first, --input, is in the usage line rather than the options block. */
	const struct opt options[] = {
		{ .name = "input", .short_name = 'i', .kind = OPT_STRING, .dest = &o->input,
		  .arg = "JOURNAL_DIR|RECORDING" },
		{ .name = "venue", .kind = OPT_STRING, .dest = &o->venue, .arg = "FORMAT",
		  .help = "recording format: jsonl (default); itch, binance, bybit,\n"
			  "coinbase, kraken (read as fks run reads them; -c names\n"
			  "the instruments, at the venue's symbols and scales)" },
		{ .name = "touch-from-trades", .kind = OPT_FLAG, .dest = &o->touch_from_trades,
		  .help = "recording: after each trade, a quote at its price with\n"
			  "unlimited size (every order fills at the last price)" },
		{ .name = "config", .short_name = 'c', .kind = OPT_STRING, .dest = &o->config, .arg = "FILE",
		  .help = "config (default: the journal's, else the built-in one)" },
		{ .name = "out", .kind = OPT_STRING, .dest = &o->out, .arg = "JOURNAL_DIR",
		  .help = "write every event to a new journal" },
		{ .name = "report", .kind = OPT_STRING, .dest = &o->report_dir, .arg = "DIR",
		  .help = "write DIR/report.json and DIR/report.html" },
		{ .name = "speed", .kind = OPT_CALL, .call = take_speed, .ctx = o, .arg = "asap|real|xN",
		  .help = "pacing by event time", .dflt = "asap" },
		{ .name = "strategy", .kind = OPT_CALL, .call = take_strategy, .ctx = o,
		  .arg = "KIND[:k=v,...]",
		  .help = "run strategies/engine with this strategy on every\n"
			  "instrument (repeatable; default: the config's strategies)\n"
			  "kinds: sma_cross rsi_mr bollinger asmbtr markov" },
		{ .name = "set", .kind = OPT_CALL, .call = take_set, .ctx = o, .arg = "key=value",
		  .help = "one knob (see --sweep keys)" },
		{ .name = "sweep", .kind = OPT_CALL, .call = take_sweep, .ctx = o, .arg = "key=v1,v2,...",
		  .help = "grid over knobs (repeatable), in parallel processes;\n"
			  "keys: fast slow order_type fill latency_us slippage_bps\n"
			  "slippage_ticks fee_ppm equity NAME.key" },
		{ .name = "rank", .kind = OPT_CALL, .call = take_rank, .ctx = o, .arg = "net|sharpe",
		  .help = "sweep ranking (default net: net P&L)" },
		{ .name = "verify", .kind = OPT_FLAG, .dest = &o->verify,
		  .help = "check a live journal: strategy and risk must reproduce\n"
			  "every order and reject; exit 1 at the first difference" },
		{ 0 },
	};
	const struct opt_table t = { .cmd = "fks replay", .help_col = 25, .opts = options };
	int n = opts_parse(&t, argc, argv);
	if (n == OPTS_HELP) {
		usage(stdout, &t);
		return 1;
	}
	if (n > 0) /* fks replay takes no words: the input is --input */
		return opts_usage_error(&t, "unknown option '%s'", argv[1]);
	if (n != 0)
		return 2; /* reported, with the hint */
	return check_opts(o, &t);
}

/* The setup from the input's config and the options; 0, or 2 with the
 * message printed. */
static int setup_from_opts(struct replay_setup *s, const struct opts *o, const struct fks_config *cfg)
{
	char err[512];
	replay_setup_from_config(s, cfg);
	for (int i = 0; i < o->n_strategy; i++)
		if (replay_setup_add_strategy(s, o->strategy[i], err, sizeof err)) {
			fprintf(stderr, "fks replay: %s\n", err);
			return 2;
		}
	for (int i = 0; i < o->n_set; i++)
		if (replay_setup_set(s, o->set_key[i], o->set_val[i], err, sizeof err)) {
			fprintf(stderr, "fks replay: --set %s\n", err);
			return 2;
		}
	if (replay_uses_crossover(s) && s->cfg.strategy.fast >= s->cfg.strategy.slow) {
		fprintf(stderr, "fks replay: fast %u must be below slow %u\n", s->cfg.strategy.fast, s->cfg.strategy.slow);
		return 2;
	}
	return 0;
}

/* --verify, --sweep or one replay, with the input open; closes it. */
static int run_mode(const struct opts *o, const struct replay_setup *s, struct input *in)
{
	if (o->verify) {
		if (in->kind != IN_JOURNAL) {
			fprintf(stderr, "fks replay: --verify needs a journal directory\n");
			input_close(in);
			return 2;
		}
		input_close(in); /* one reader per process: verify opens its own */
		return replay_verify(o, s);
	}
	if (o->n_sweep) {
		input_close(in); /* each worker opens its own */
		return replay_sweep(o, s);
	}
	struct report_metrics m;
	int rc = replay_run_one(o, s, in, &m, true);
	input_close(in);
	return rc;
}

int replay_main(int argc, char **argv)
{
	struct opts *o = calloc(1, sizeof *o);
	struct fks_config *cfg = calloc(1, sizeof *cfg);
	struct replay_setup *s = calloc(1, sizeof *s);
	char err[512];
	struct input in;
	int rc;

	if (!o || !cfg || !s) {
		rc = 1;
		goto out;
	}
	rc = parse_opts(argc, argv, o);
	if (rc) {
		rc = rc == 1 ? 0 : rc;
		goto out;
	}
	if (input_open(&in, o->input, o->venue, o->config, o->touch_from_trades, cfg, err, sizeof err)) {
		fprintf(stderr, "fks replay: %s\n", err);
		rc = 1;
		goto out;
	}
	rc = setup_from_opts(s, o, cfg);
	if (rc)
		input_close(&in);
	else
		rc = run_mode(o, s, &in);
out:
	free(o);
	free(cfg);
	free(s);
	return rc;
}
