/* One function per command; each returns the process exit code. argv[0] is
 * the command name. */
#ifndef BOXVM_CLI_H
#define BOXVM_CLI_H

#include "../lib/err.h"

int cmd_run(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_kernel(int argc, char **argv);

/* Print "boxvm: <msg>" on stderr and return the error's exit code (125 default). */
int bx_cli_report(const struct bx_err *err);

#endif
