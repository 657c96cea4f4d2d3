/*
 * fks bench: benchmarks that ship inside the fks executable.
 */
#ifndef FKS_BENCH_BENCH_H
#define FKS_BENCH_BENCH_H

/* `fks bench ring [--json] [--roundtrips N] [--events N] [--only LIST]`.
 * argv[0] is "ring", the rest are options.  Returns the process exit code:
 * 0 all requested transports ran and verified, 1 a transport failed (error,
 * out-of-order event, checksum mismatch), 2 usage error.  Missed performance
 * targets are reported, not turned into a failure. */
int bench_ring_main(int argc, char **argv);

/* `fks bench pipeline [--json] [--events N] [--rates LIST] [--layouts LIST]`:
 * end-to-end throughput and tick-to-trade of the whole pipeline, one
 * `fks run` child per (layout, rate), beside the ring floor.  Returns 0 all
 * runs ok, 1 a run (or the floor) failed (exit status, counters that
 * disagree), 2 usage error. */
int bench_pipeline_main(int argc, char **argv);

/* `fks bench journal [--json] [--events N] [--seconds S] [--repeat K]
 * [--dir PATH] [--modes LIST] [--batches LIST] [--order-batch N]
 * [--raw cursor|put]`: append rate and commit latency of the LMDB journal
 * per sync mode and batch size, beside a raw LMDB MDB_APPEND loop of the
 * same records (the floor).  Returns 0 all runs ok and verified, 1 a run
 * failed or did not verify, 2 usage error.  Missed targets are reported,
 * not turned into a failure. */
int bench_journal_main(int argc, char **argv);

/* `fks bench fix [--json] [--messages N] [--dict PATH]`: the fix44
 * codec's NewOrderSingle encode and ExecutionReport decode beside
 * QuickFIX's (bench/fix_bench.c).  Returns 0, 1 when a side cannot read
 * the other's messages, 2 usage error. */
int bench_fix_main(int argc, char **argv);

/* `fks bench bus [--json] [--events N] [--rate R] [--url URL]`: `fks bus
 * publish` throughput and journal-commit-to-subscriber lag, beside a bare
 * libnats JetStream publish loop (bench/bus_bench.c).  Returns 0 all
 * phases ran, 1 one failed (no server, a publisher that failed, messages
 * missing), 2 usage error. */
int bench_bus_main(int argc, char **argv);

#endif
