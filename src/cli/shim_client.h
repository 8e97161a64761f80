/* The CLI side of a box's shim: start it, attach stdio to the main process,
 * proxy signals, and collect the exit code. */
#ifndef BOXVM_CLI_SHIM_CLIENT_H
#define BOXVM_CLI_SHIM_CLIENT_H

#include <stdbool.h>

#include "../lib/err.h"
#include "../lib/vmspec.h"

/* Spawn `boxvm-shim --sync-fd N BOXDIR/vm.json` detached (double fork + setsid)
 * and wait for its "ok" (attach socket listening) or its one-line error. */
int bx_shim_start(const struct bx_vmspec *vm, struct bx_err *err);
/* Attach stdin/stdout/stderr; returns the box's exit code, or -1 with err. */
int bx_shim_attach(const struct bx_vmspec *vm, bool forward_stdin, struct bx_err *err);

#endif
