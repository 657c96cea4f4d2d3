/*
 * `fks run` with a bus section starts `fks bus publish` beside the
 * pipeline: a child process, not a stage, that only reads the journal.
 * Nothing about it can fail the run: it is not supervised, it is not
 * waited for by the stage watch, and its exit status is only reported.
 * At the end of the run it gets a few seconds to publish the journal's
 * tail (it exits by itself once the closed journal is all in the stream),
 * then SIGTERM; what is left is published by the next `fks bus publish`,
 * which resumes where the stream ends.
 */
#ifndef FKS_PIPELINE_BUS_SIDE_H
#define FKS_PIPELINE_BUS_SIDE_H

#include <sys/types.h>

#define BUS_SIDE_FINISH_MS 5000

/* Start `fks bus publish -c config_path -j journal_dir --until-closed`
 * (this executable); the child also gets SIGTERM if the caller dies.
 * Returns its pid, or 0 when it could not be started (said on stderr). */
pid_t bus_side_start(const char *config_path, const char *journal_dir);

/* Give it up to wait_ms to finish, then SIGTERM it and reap it, and say
 * how it ended on stderr.  pid 0: nothing to do. */
void bus_side_stop(pid_t pid, int wait_ms);

#endif
