/* `fks run`, `fks status`, `fks kill`: the supervisor, its observer, its kill switch. */
#ifndef FKS_PIPELINE_RUN_H
#define FKS_PIPELINE_RUN_H

int run_main(int argc, char **argv);
/* The version `fks run` writes into each journal's metadata; main() sets it
 * (version.h belongs to the executable, not to this library). */
extern const char *run_fks_version;
int status_main(int argc, char **argv);
int kill_main(int argc, char **argv);
/* `fks notify test` (pipeline/cli/notify_cmd.c) and `fks doctor`
 * (pipeline/cli/doctor.c). */
int notify_cmd_test(int argc, char **argv);
int doctor_main(int argc, char **argv);

#endif
