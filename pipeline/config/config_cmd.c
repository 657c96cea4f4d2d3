/*
 * `fks config default` and `fks config check`.
 */
#include "pipeline/config/config_int.h"

#include <stdlib.h>

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
