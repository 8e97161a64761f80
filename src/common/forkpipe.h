/* fork() with a pipe between parent and child: the shim's start and the
 * runtime's monitor report on one (reply.h), cp streams tar through one. */
#ifndef BOXVM_COMMON_FORKPIPE_H
#define BOXVM_COMMON_FORKPIPE_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* Fork with a pipe: the child gets the write end in *fd if child_writes,
 * else the read end; the parent the other one. Each process's other end is
 * closed; both are close-on-exec. Returns fork()'s result, or -1 with err
 * filled if the pipe or the fork failed. */
pid_t bx_fork_pipe(int *fd, bool child_writes, struct bx_err *err);

#endif
