/*
 * `fks tail --nats URL`: the same filters and output as the local tail
 * (tail.c), over a run read back from the bus (pipeline/bus/bus_reader.h).
 */
#ifndef FKS_PIPELINE_CLI_TAIL_REMOTE_H
#define FKS_PIPELINE_CLI_TAIL_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/cli/journal_common.h"

struct tail_opts {
	const char *dir, *symbols, *nats;
	bool follow, json, have_from, have_last;
	uint64_t from, last;
};

/* The exit status of `fks tail --nats`, as tail's own. */
int tail_remote(const struct tail_opts *t, struct filter *fl);

#endif
