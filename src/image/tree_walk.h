/* A bounded, symlink-proof walk of a directory tree a guest wrote (a box's
 * overlayfs upper dir, or its merged root), for diff, commit and export.
 *
 * Every step is one name opened relative to its parent's fd with O_NOFOLLOW
 * (a directory is entered only when the entry itself is a directory, never
 * through a symlink), entries come in Go's filepath.Walk order (each
 * directory before its children, names sorted bytewise), depth and path
 * length are bounded, and nothing but directories is opened by the walk.
 * In upper mode, overlayfs's own language is decoded: a 0:0 character device
 * is a whiteout, trusted/user.overlay.opaque=y an opaque directory, and a
 * redirect or metacopy xattr (a rename or a metadata-only copy overlayfs
 * could not express as plain files) is refused. In compare mode the root
 * is a whole tree copied from the lower one, and the walk reports what an
 * upper dir would have held: deletions as whiteouts, unchanged entries
 * flagged. */
#ifndef BOXVM_IMAGE_TREE_WALK_H
#define BOXVM_IMAGE_TREE_WALK_H

#include <stdbool.h>
#include <sys/stat.h>

#include "../common/err.h"

#define BX_WALK_MAX_DEPTH 256   /* one fd per level is held open */
#define BX_WALK_MAX_PATH 4096   /* bytes of a relative path */

enum bx_walk_kind {
	BX_WALK_ENTRY,    /* a file, directory, symlink, device, fifo or socket as it is */
	BX_WALK_WHITEOUT, /* upper mode: overlayfs's 0:0 char device: the name was deleted */
};

struct bx_walk_entry {
	const char *path;       /* relative, no leading "/", e.g. "etc/passwd" */
	const char *name;       /* its last component */
	int dirfd;              /* its parent directory (open for the callback's duration) */
	int lower_dirfd;        /* the same parent in the lower tree, -1 if it has none (or no lower) */
	struct stat st;         /* lstat of the entry */
	enum bx_walk_kind kind;
	bool opaque;            /* upper mode: a directory that hides everything below it in the lower */
	bool same;              /* compare mode: as the lower has it (type, mode, owner, mtime, and
				 * a file's size, a link's target, a device's number); a directory
				 * flagged so is still walked */
};

/* Return 0 to go on, 1 to skip a directory's children, -1 (err filled) to stop. */
typedef int (*bx_walk_fn)(void *ctx, const struct bx_walk_entry *e, struct bx_err *err);

struct bx_walk_opts {
	bool upper;      /* decode overlayfs whiteouts, opaque dirs; refuse redirects */
	int lower_fd;    /* the tree beneath (diff's comparisons), -1 for none */
	bool one_fs;     /* do not descend into other file systems (a merged root's mounts) */
	bool compare;    /* the root is a full copy of lower_fd's tree (a box without overlayfs): a name
			  * only the lower has is reported as a whiteout, entries are flagged same */
};

/* Walk the children of root_fd (the root itself is not reported). */
int bx_tree_walk(int root_fd, const struct bx_walk_opts *o, bx_walk_fn fn, void *ctx, struct bx_err *err);

/* Pure: the box-owned files boxvm's agent writes at every start (hostname,
 * hosts, resolv.conf: Docker bind-mounts these, so they are never part of a
 * container's changes). path as bx_walk_entry.path. */
bool bx_walk_runtime_file(const char *path);
/* Pure: a name a layer may carry as a plain entry: not ".wh."-prefixed
 * (that is a whiteout to every reader of the layer). */
bool bx_layer_name_plain(const char *name);
/* Pure: the OCI whiteout for path ("a/b" -> "a/.wh.b"); -1 if it doesn't fit. */
int bx_whiteout_path(const char *path, char *out, size_t size);
/* Pure: the OCI opaque marker for a directory path ("a" -> "a/.wh..wh..opq"). */
int bx_opaque_path(const char *dir, char *out, size_t size);

#endif
