/*
 * `fks config default` and `fks config check`: the config's two commands,
 * on the shared option parser (pipeline/cli/options.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pipeline/cli/options.h"
#include "pipeline/config/config.h"

int config_cmd_default(int argc, char **argv)
{
	const struct opt opts[] = { { 0 } };
	const struct opt_table table = { .cmd = "fks config default", .help_col = 18, .opts = opts };
	int npos = opts_parse(&table, argc, argv);
	if (npos == OPTS_HELP) {
		printf("usage: fks config default\n\nPrint the embedded default config: a commented "
		       "starting point to copy and edit.\n");
		return 0;
	}
	if (npos == OPTS_BAD)
		return 2;
	if (npos > 0)
		return opts_usage_error(&table, "unexpected argument '%s'", argv[1]);
	fputs(config_default_text(), stdout);
	return 0;
}

static const char check_usage[] = "usage: fks config check [-c] FILE\n";

int config_cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	const struct opt opts[] = {
		{ .name = "config", .short_name = 'c', .kind = OPT_STRING, .dest = &path, .arg = "FILE",
		  .help = "the config to check (or name it without -c)" },
		{ 0 },
	};
	const struct opt_table table = { .cmd = "fks config check", .help_col = 22, .opts = opts };
	int npos = opts_parse(&table, argc, argv);
	if (npos == OPTS_HELP) {
		printf("%s\nLoad and validate FILE as `fks run` would, and print the effective config.\n"
		       "Exit status 0: valid; 1: invalid; 2: usage.\n\n", check_usage);
		opts_print_help(&table, stdout);
		return 0;
	}
	if (npos == OPTS_BAD)
		return 2; /* reported, with the hint */
	if ((npos == 1 && path) || npos > 1)
		return opts_usage_error(&table, "one FILE only");
	if (npos == 0 && !path)
		return opts_usage_error(&table, "FILE is required");
	if (npos == 1)
		path = argv[1];
	struct fks_config *cfg = malloc(sizeof *cfg);
	if (!cfg) {
		fprintf(stderr, "fks config check: out of memory\n");
		return 1;
	}
	char err[1024];
	int rc = config_load_to_run(path, cfg, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	else
		config_describe(cfg, stdout);
	free(cfg);
	return rc ? 1 : 0;
}
