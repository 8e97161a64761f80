/* The loop of the CLI's multi-box commands (stop, kill, pause, rm, ...). */
#ifndef BOXVM_CLI_BOX_CTL_H
#define BOXVM_CLI_BOX_CTL_H

#include "../box/control.h"

/* The loop of Docker's multi-box commands (stop, kill, pause, rm, ...): each
 * operand argv[first..argc) is looked up and handed to fn; a failure is
 * reported and the loop goes on with the next; a success prints the operand
 * as given. Returns 0, or the report's exit code if any failed. */
typedef int (*cli_box_fn)(const struct bx_paths *p, const char *ref, struct bx_box_record *r, void *ctx,
			  struct bx_err *err);
int cli_each_box(int first, int argc, char **argv, cli_box_fn fn, void *ctx);
/* The same, but an operand that names no box is reported without failing
 * the command, as Docker's rm -f. */
int cli_each_box_missing_ok(int first, int argc, char **argv, cli_box_fn fn, void *ctx);

#endif
