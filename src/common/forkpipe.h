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

/* A process of its own for background work that outlives the caller (a
 * pool refill): forked twice (reparented, never the caller's zombie), in a
 * session of its own, stdio on /dev/null and no other descriptor of the
 * caller's (its locks, sockets and pipes must not live on in it). Returns
 * true in that process, false in the caller (once the middle one is reaped). */
bool bx_fork_detached(void);

#endif
