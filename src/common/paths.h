/* Where boxvm keeps things. Defaults (root): data /var/lib/boxvm, runtime
 * /run/boxvm. Overrides: BOXVM_ROOT (data), BOXVM_RUNTIME_DIR, BOXVM_KERNEL_DIR
 * (default DATA/kernel), BOXVM_LIBEXEC (dir holding boxvm-shim, boxvm-agent,
 * boxvm-prepare-kernel; default: the running binary's dir, then
 * ../libexec/boxvm beside it).
 *
 * Which guest kernel: BOXVM_KERNEL (set by `boxvm --kernel`) is "cloud"
 * (Debian's, `boxvm kernel prepare`, in BOXVM_KERNEL_DIR) or "tailored"
 * (boxvm's own, `boxvm kernel build`, in BOXVM_TAILORED_KERNEL_DIR, default
 * DATA/kernel-tailored); `kernel` below is the selected one's directory. */
#ifndef BOXVM_PATHS_H
#define BOXVM_PATHS_H

#include <limits.h>

#include "err.h"

struct bx_paths {
	char data[PATH_MAX];    /* images, boxes, caches */
	char run[PATH_MAX];     /* per-box sockets and pids (short: sun_path is 108 bytes) */
	char kernel[PATH_MAX];  /* prepared kernel tree(s) of the selected kind */
	char kernel_kind[16];   /* BX_KERNEL_CLOUD or BX_KERNEL_TAILORED */
	char libexec[PATH_MAX];
};

int bx_paths_init(struct bx_paths *p, struct bx_err *err);

#define BX_KERNEL_CLOUD "cloud"
#define BX_KERNEL_TAILORED "tailored"
/* Pure: 0 if kind names a guest kernel kind, else -1 with a one-line error. */
int bx_kernel_kind_check(const char *kind, struct bx_err *err);
/* The kernel directory of a kind (its env override, else under p->data). */
int bx_kernel_dir_of(const struct bx_paths *p, const char *kind, char *out, size_t size, struct bx_err *err);
/* snprintf into out, failing cleanly on truncation. */
int bx_path_join(char *out, size_t size, struct bx_err *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* mkdir -p: the leaf (if missing) gets mode, missing parents 0700, so DATA
 * and everything boxvm keeps below it stay private to its owner whichever
 * subdirectory is made first. Existing directories are left as they are. */
int bx_mkdir_p(const char *path, unsigned mode, struct bx_err *err);
/* The same with an explicit mode for missing parents (a user's host path,
 * which Docker creates 0755 all the way down). */
int bx_mkdir_p_parents(const char *path, unsigned mode, unsigned parent_mode, struct bx_err *err);
/* rm -rf (does not cross mount points; refuses "/" and ""). */
int bx_rm_rf(const char *path, struct bx_err *err);
/* rm -rf of dirfd/name without following symlinks or crossing mount points;
 * errno-style (0, or -1 with errno), a missing name is success. */
int bx_rm_at(int dirfd, const char *name);
/* Write a whole file atomically: temp in the same dir, fsync, rename, fsync dir. */
int bx_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, struct bx_err *err);
/* Open path (created 0600 if missing; O_CLOEXEC, O_NOFOLLOW) and flock it
 * with how (LOCK_SH or LOCK_EX, | LOCK_NB to not wait); returns the fd, whose
 * close releases the lock, or -1 with err (errnum EWOULDBLOCK: held). */
int bx_lock_file(const char *path, int how, struct bx_err *err);
/* Read a whole file (NUL-terminated, malloc'd). */
int bx_read_file(const char *path, char **out, size_t *len, struct bx_err *err);

#endif
