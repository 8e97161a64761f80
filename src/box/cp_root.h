/* The host's half of cp with a box that is not running, shared by `boxvm
 * cp` (cli/cp_host.c) and the Engine API's archive endpoints: its root
 * (BOXDIR/rootfs) is on the host, and every path in it is resolved as the
 * box would resolve it, never leaving it (bx_open_in_root, treecopy.h). */
#ifndef BOXVM_BOX_CP_ROOT_H
#define BOXVM_BOX_CP_ROOT_H

#include <stdbool.h>
#include <sys/stat.h>

#include "../common/err.h"
#include "../store/state.h"

/* The directory that holds dir/name in the root (for contents, dir/name
 * itself), checked to hold it: an fd, or -1 with err (errnum ENOENT or
 * ENOTDIR when it is not there; src names it in the message). */
int bx_cp_root_open_src(int root, const char *dir, const char *name, bool contents, const char *src,
			struct bx_err *err);

/* The host's tar packs dirfd/name to out_fd (GNU tar follows no symlink
 * while it packs), numeric owners as the guest's tar would give them. */
int bx_cp_root_tar(int dirfd, const char *name, int out_fd, struct bx_err *err);

/* What Docker refuses and what a box that is not running cannot give: a
 * write into a read-only root or mount, and (not running) a path on one of
 * its mounts, whose contents are elsewhere on the host (the message says
 * where). 0, or -1 with err. */
int bx_cp_check_box_path(const struct bx_box_record *box, const char *path, bool into_box, bool running,
			 struct bx_err *err);

#endif
