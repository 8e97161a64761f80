/* The host's half of `boxvm cp`: laying a copy down at DEST by Docker's
 * rules, and copying straight to and from the root of a box that is not
 * running (BOXDIR/rootfs is on the host; every path in it is resolved as the
 * box would, never leaving it: treecopy.h). */
#ifndef BOXVM_CLI_CP_HOST_H
#define BOXVM_CLI_CP_HOST_H

#include <limits.h>
#include <stdbool.h>

#include "../common/err.h"

/* One side of a copy, as given: "DIR/NAME", or DIR's contents ("DIR/."). */
struct cp_path {
	char dir[PATH_MAX];
	char name[NAME_MAX + 1];
	bool contents;       /* the "SRC/." form: what the directory holds, not the directory */
	bool trailing_slash; /* "DEST/": must be a directory */
};
void cp_path_split(const char *path, struct cp_path *out);

/* Where DEST is: its parent directory and name, and DEST itself when it is
 * an existing directory (-1 otherwise). Close both with cp_dest_close. */
struct cp_dest {
	int parent;
	char name[NAME_MAX + 1];
	int dir;
	bool exists;
};
void cp_dest_close(struct cp_dest *d);
/* DEST on the host (a plain path). */
int cp_dest_open_host(const char *dst, struct cp_dest *d, struct bx_err *err);

/* Lay down what tmp holds (src->name, or for src->contents the entries
 * themselves) at d by Docker's rules: into an existing directory DEST (a
 * directory merged into one of the same name), else as DEST's new name. */
int cp_place(int tmp, const struct cp_path *src, const struct cp_dest *d, struct bx_err *err);

/* A new temporary directory ".boxvm-cp.XXXXXX" in parent: its fd, name in
 * name (for removing it). */
int cp_tmpdir(int parent, char name[32], struct bx_err *err);

/* cp between the host and the root of a box that is not running. */
/* follow (-L) with a symlink as SRC is refused there (an error that says so). */
int cp_out_of_root(const char *rootfs, const char *src, const char *dst, bool follow, struct bx_err *err);
int cp_into_root(const char *rootfs, const char *src, const char *dst, bool follow, struct bx_err *err);

#endif
