/* The host's half of `boxvm cp`: laying a copy down at DEST by Docker's
 * rules, and copying straight to and from the root of a box that is not
 * running (BOXDIR/rootfs is on the host; every path in it is resolved as the
 * box would, never leaving it: treecopy.h). */
#ifndef BOXVM_BOX_CP_HOST_H
#define BOXVM_BOX_CP_HOST_H

#include <limits.h>
#include <stdbool.h>

#include "../common/err.h"

/* One side of a copy, as given: "DIR/NAME", or DIR's contents ("DIR/."). */
struct bx_cp_path {
	char dir[PATH_MAX];
	char name[NAME_MAX + 1];
	bool contents;       /* the "SRC/." form: what the directory holds, not the directory */
	bool trailing_slash; /* "DEST/": must be a directory */
};
void bx_cp_path_split(const char *path, struct bx_cp_path *out);

/* Where DEST is: its parent directory and name, and DEST itself when it is
 * an existing directory (-1 otherwise). Close both with bx_cp_dest_close. */
struct bx_cp_dest {
	int parent;
	char name[NAME_MAX + 1];
	int dir;
	bool exists;
};
void bx_cp_dest_close(struct bx_cp_dest *d);
/* DEST on the host (a plain path). */
int bx_cp_dest_open_host(const char *dst, struct bx_cp_dest *d, struct bx_err *err);

/* Lay down what tmp holds (src->name, or for src->contents the entries
 * themselves) at d by Docker's rules: into an existing directory DEST (a
 * directory merged into one of the same name), else as DEST's new name. */
int bx_cp_place(int tmp, const struct bx_cp_path *src, const struct bx_cp_dest *d, struct bx_err *err);

/* A new temporary directory ".boxvm-cp.XXXXXX" in parent: its fd, name in
 * name (for removing it). */
int bx_cp_tmpdir(int parent, char name[32], struct bx_err *err);

/* cp between the host and the root of a box that is not running. */
/* follow (-L) with a symlink as SRC is refused there (an error that says so). */
int bx_cp_out_of_root(const char *rootfs, const char *src, const char *dst, bool follow, struct bx_err *err);
int bx_cp_into_root(const char *rootfs, const char *src, const char *dst, bool follow, struct bx_err *err);
/* The tar read from in_fd unpacked into the directory dst of the root
 * (bx_tar_extract_fd: it changes the working directory, so call it from a
 * single-threaded process). */
int bx_cp_tar_into_root(const char *rootfs, int in_fd, const char *dst, struct bx_err *err);

#endif
