/* One function per command; each returns the process exit code. argv[0] is
 * the command name. */
#ifndef BOXVM_CLI_H
#define BOXVM_CLI_H

#include "../common/err.h"

int cmd_run(int argc, char **argv);
/* network and volumes (issue 6) */
int cmd_port(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_system(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
/* box lifecycle (issue 4) */
int cmd_create(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_logout(int argc, char **argv);
/* image management (issue 3) */
int cmd_tag(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_save(int argc, char **argv);
/* image authoring (issue 15) */
int cmd_diff(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_builder(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_image(int argc, char **argv);
/* housekeeping (issue 14) */
int cmd_container(int argc, char **argv);
int cmd_system_df(int argc, char **argv);
int cmd_system_service(int argc, char **argv);
int cmd_system_prune(int argc, char **argv);
int cmd_system_ksm(int argc, char **argv);
int cmd_network(int argc, char **argv);
/* speed and density (issue 17) */
int cmd_pool(int argc, char **argv);

/* An exit_code (bx_fail_code) that bx_cli_report turns into exit status
 * code in every command, whatever the command's own mapping of errors (see
 * main.c); above 255, so no ordinary exit_code is mistaken for one. */
#define CLI_EXIT_ALWAYS(code) (256 + (code))
/* The exit_code of an inspect command's -f template that does not parse:
 * 64, as Docker's inspect commands exit (a bad `ps`/`images` --format
 * exits 1). */
#define CLI_EXIT_BAD_TEMPLATE CLI_EXIT_ALWAYS(64)

/* How the running command maps its errors (main.c sets it; report.c) */
enum error_codes { ERRORS_EXIT_1, ERRORS_RUN };
extern enum error_codes cli_error_codes;

/* Print "boxvm: <msg>" on stderr and return the exit code Docker's client
 * gives that error in the command being run (see main.c: 125/126/127 for
 * `run`, 126/127 for `exec`'s start failures, 1 otherwise; N for
 * CLI_EXIT_ALWAYS(N)). */
int bx_cli_report(const struct bx_err *err);
/* The exit code of the running command's errors: 125 in `run`, 1 elsewhere. */
int cli_error_exit(void);

#endif
