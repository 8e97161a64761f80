/* AF_UNIX stream sockets between boxvm's own processes (CLI, shim, runtime). */
#ifndef BOXVM_UNIXSOCK_H
#define BOXVM_UNIXSOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Connect to path (SOCK_CLOEXEC). Returns the fd, or -1 with err whose errnum
 * is connect's errno (ENOENT/ECONNREFUSED: nobody listens there). */
int bx_unix_connect(const char *path, struct bx_err *err);
/* Listen on path (a stale socket there is replaced), mode 0600: only our
 * own user may connect. sock_flags adds to SOCK_STREAM | SOCK_CLOEXEC (e.g.
 * SOCK_NONBLOCK). Returns the fd, or -1 with err. */
int bx_unix_listen(const char *path, int backlog, int sock_flags, struct bx_err *err);
/* Send len bytes (at least 1) carrying nfds descriptors as SCM_RIGHTS. */
int bx_unix_send_fds(int sock, const void *data, size_t len, const int *fds, size_t nfds, struct bx_err *err);
/* Receive one message of at most cap bytes and at most one descriptor
 * (close-on-exec; *fd -1 when none came, and any beyond the first are
 * closed). Returns the byte count (0 at EOF), or -1 with err. */
ssize_t bx_unix_recv_fd(int sock, void *buf, size_t cap, int *fd, struct bx_err *err);
/* The same with up to nfds descriptors, in the order sent (fds[i] = -1 past
 * the last one received; any beyond nfds are closed). */
ssize_t bx_unix_recv_fds(int sock, void *buf, size_t cap, int *fds, size_t nfds, struct bx_err *err);

#endif
