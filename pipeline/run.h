/* `fks run` and `fks status`: the supervisor and its observer. */
#ifndef FKS_PIPELINE_RUN_H
#define FKS_PIPELINE_RUN_H

int run_main(int argc, char **argv);
int status_main(int argc, char **argv);

#endif
