/* `fks bus ...` (pipeline/cli/bus_cmd.c, bus_signals_cmd.c); argv[0] is the
 * command's own name, as in main.c's tables. */
#ifndef FKS_PIPELINE_CLI_BUS_CMD_H
#define FKS_PIPELINE_CLI_BUS_CMD_H

int bus_cmd_publish(int argc, char **argv);

#endif
