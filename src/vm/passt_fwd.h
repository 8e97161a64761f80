/* Forwarding every UDP port of a joined network namespace to the box
 * (boxvm-runtime, a pod's namespace with no io.boxvm.ports annotation; its
 * TCP ports follow the box's listeners instead, src/shim/podnet.c).
 *
 * passt's "-u all" binds one socket per port below the ephemeral range
 * (1-32767), per IP family, skipping ports it cannot bind (already bound in
 * the namespace): every such socket is a file descriptor, so "all" needs
 * some 33k (IPv4) or 66k (IPv4 + IPv6) of them, and passt gives up outright
 * when RLIMIT_NOFILE is lower. These pure helpers pick the widest
 * forwarding a limit allows. */
#ifndef BOXVM_PASST_FWD_H
#define BOXVM_PASST_FWD_H

#include <stddef.h>

#define BX_PASST_PORT_TOP 32767     /* passt's "all": every port below its ephemeral minimum 32768 */
#define BX_PASST_FD_RESERVE 2048    /* fds left for passt's connections, tap, epoll, log */

/* The RLIMIT_NOFILE passt needs for "-u all": families is 1 (IPv4 only)
 * or 2 (IPv4 and IPv6). Pure. */
long bx_passt_all_nofile(int families);

/* The -u port spec forwarding as many ports as nofile (passt raises its
 * soft limit to the hard one, so: the hard limit) allows: "all" when it
 * fits, else "1-TOP" (low ports first: well-known ports are the likely
 * ones). Returns TOP (BX_PASST_PORT_TOP for "all"), 0 when
 * not even port 1 fits. Pure. */
int bx_passt_all_spec(long nofile, int families, char *spec, size_t size);

#endif
