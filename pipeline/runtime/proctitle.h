/*
 * Process titles, so `ps` shows each stage as fks:feed, fks:strategy, ...
 * Stages are forked, not exec'd, so the title is written over the argv
 * strings the process started with (what `ps` reads from
 * /proc/PID/cmdline), and the thread name is set with PR_SET_NAME (what
 * `ps -o comm` and top read).
 */
#ifndef FKS_PIPELINE_PROCTITLE_H
#define FKS_PIPELINE_PROCTITLE_H

/* Remember where argv lives; call once from main before argv is modified. */
void proctitle_init(int argc, char **argv);
/* Set both the command line `ps` shows and the 15-byte thread name. */
void proctitle_set(const char *title);

#endif
