/* What an overlayfs upper dir held at one moment, entry by entry (path,
 * type, owner, mode, size, times, inode, whiteout, opaque): a build's shared
 * VM commits each RUN step as the changes since the step before, so the
 * layer is exactly that step's changes although the VM (and its upper dir)
 * lives on. An entry is unchanged when its stat and overlayfs meaning are;
 * the host's ctime moves on every write, chmod, chown, link or xattr change
 * and a guest cannot set it, so a file rewritten to the same size and mtime
 * still shows. Pure: built from what the walk reports (layer_write.c). */
#ifndef BOXVM_IMAGE_UPPER_SNAP_H
#define BOXVM_IMAGE_UPPER_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "../common/err.h"

/* Entries a snapshot holds at most (about 200 bytes each): a guest cannot
 * make the host hold an unbounded list by writing many files. */
#define BX_UPPER_SNAP_MAX (1u << 20)

struct bx_snap_entry {
	char *path; /* relative, as bx_walk_entry.path */
	struct stat st;
	bool whiteout, opaque;
};

struct bx_upper_snap {
	struct bx_snap_entry *v;
	size_t n, cap;
};

/* Order of a tree walk: a directory right before its children, names
 * bytewise ("a" < "a/b" < "a.b"). */
int bx_snap_path_cmp(const char *a, const char *b);

/* Entries are added in walk order (checked: -1 otherwise), at most
 * BX_UPPER_SNAP_MAX of them (E2BIG). */
int bx_upper_snap_add(struct bx_upper_snap *s, const char *path, const struct stat *st, bool whiteout, bool opaque,
		      struct bx_err *err);
const struct bx_snap_entry *bx_upper_snap_find(const struct bx_upper_snap *s, const char *path);
/* The entry is as it was (same inode, type, mode, owner, size, device,
 * mtime and ctime to the nanosecond, same whiteout and opaque meaning). */
bool bx_upper_snap_same(const struct bx_snap_entry *was, const struct stat *st, bool whiteout, bool opaque);
/* Calls fn for each topmost path of before that is gone from after (its
 * whiteout undoes what the earlier steps made there); nothing under a
 * directory that is now something else (it replaced the whole subtree). */
typedef int (*bx_snap_gone_fn)(void *ctx, const struct bx_snap_entry *gone, struct bx_err *err);
int bx_upper_snap_gone(const struct bx_upper_snap *before, const struct bx_upper_snap *after, bx_snap_gone_fn fn,
		       void *ctx, struct bx_err *err);
void bx_upper_snap_free(struct bx_upper_snap *s);

#endif
