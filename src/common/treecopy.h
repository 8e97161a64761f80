/* Copying files and trees between directories by fd, for trees that come
 * from a box or an image (hostile: see DESIGN.md, "Trust boundaries"):
 * nothing is followed (every step is *at(..., O_NOFOLLOW) on a name read
 * from the source directory), depth is bounded, and device nodes and
 * sockets are skipped. Used by a volume's copy-up from the image and by
 * `cp` of a stopped box, whose root is read and written on the host.
 *
 * A path inside a box's root is resolved with bx_open_in_root: symlinks are
 * followed as the box would see them (an absolute link or ".." stays inside
 * the root), never out of it. */
#ifndef BOXVM_TREECOPY_H
#define BOXVM_TREECOPY_H

#include <dirent.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

#define BX_TREECOPY_MAX_DEPTH 256

struct bx_treecopy_opts {
	bool keep_owner;  /* copy uid/gid; otherwise the copy belongs to owner_uid:owner_gid */
	uid_t owner_uid;
	gid_t owner_gid;
	bool keep_setid;  /* keep setuid/setgid bits of files (never for a copy onto the host) */
};

/* openat2(rootfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) with flags
 * (O_CLOEXEC added); path is taken relative to the root whether or not it
 * starts with '/'. errno-style: the fd, or -1 with errno. */
int bx_open_in_root(int rootfd, const char *path, int flags);

/* A directory stream over a dup of fd (fd itself stays open and unmoved);
 * NULL with errno. closedir() it. */
DIR *bx_dir_stream(int fd);

/* Copy srcdir/name (any type but devices and sockets, which are skipped) to
 * dstdir/dname, which must not exist; a directory with all it holds. Modes
 * and times are kept, ownership per o. On failure the partial copy is
 * removed. */
int bx_tree_copy(int srcdir, const char *name, int dstdir, const char *dname, const struct bx_treecopy_opts *o,
		 struct bx_err *err);

/* Copy what the directory src holds into the directory dst (which should be
 * empty), and src's own owner and mode onto dst. On failure dst is emptied
 * again. */
int bx_tree_copy_contents(int src, int dst, const struct bx_treecopy_opts *o, struct bx_err *err);

/* Move srcdir/name to dstdir/dname as `docker cp` lays a copy down: a new
 * name or a non-directory is renamed into place (replacing a file there); a
 * directory onto an existing directory is merged, entry by entry. A
 * directory and a non-directory do not replace each other (an error). Both
 * sides must be on one filesystem (the copy was made beside its target). */
int bx_tree_merge(int srcdir, const char *name, int dstdir, const char *dname, struct bx_err *err);
/* bx_tree_merge of every entry of the directory src into the directory dst. */
int bx_tree_merge_children(int src, int dst, struct bx_err *err);

#endif
