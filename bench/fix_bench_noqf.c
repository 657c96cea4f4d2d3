/* `fks bench fix` built without QuickFIX: its columns are skipped. */
#include "bench/fix_bench.h"

#include <stdio.h>

int fix_bench_qf_load(const char *dictionary, char *err, size_t errlen)
{
	(void)dictionary;
	snprintf(err, errlen, "this fks was built without QuickFIX");
	return -1;
}

double fix_bench_qf_encode(uint64_t n, char *out, size_t cap)
{
	(void)n;
	if (cap)
		out[0] = '\0';
	return -1;
}

double fix_bench_qf_parse(uint64_t n, const char *msg, size_t len)
{
	(void)n, (void)msg, (void)len;
	return -1;
}
