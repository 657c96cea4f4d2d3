/* `fks run`, `fks status`, `fks kill`: the supervisor, its observer, its kill switch. */
#ifndef FKS_PIPELINE_RUN_H
#define FKS_PIPELINE_RUN_H

int run_main(int argc, char **argv);
int status_main(int argc, char **argv);
int kill_main(int argc, char **argv);

#endif
