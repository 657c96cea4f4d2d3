/*
 * `fks bench fix`: the fix44 codec (gateway/venues/fix44/fix_codec.h)
 * beside QuickFIX on the same messages, in the same run.  The QuickFIX
 * side is C++ (fix_bench_qf.cpp), built when QuickFIX is installed; this
 * header is the C face of it.
 */
#ifndef FKS_BENCH_FIX_BENCH_H
#define FKS_BENCH_FIX_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Load the FIX 4.4 dictionary QuickFIX parses with.  0, or -1 with the
 * reason in err (also when QuickFIX is not built in). */
int fix_bench_qf_load(const char *dictionary, char *err, size_t errlen);
/* n NewOrderSingles built and serialised the QuickFIX way; ns per message.
 * The last one's text goes to out (cap bytes) for the cross-check. */
double fix_bench_qf_encode(uint64_t n, char *out, size_t cap);
/* n parses (validating length and checksum, with the dictionary) of msg
 * and reads of the fields a venue uses; ns per message, or -1 if QuickFIX
 * refused msg. */
double fix_bench_qf_parse(uint64_t n, const char *msg, size_t len);

#ifdef __cplusplus
}
#endif

#endif
