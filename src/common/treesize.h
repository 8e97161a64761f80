/* How many bytes a directory tree's files take, as Docker sizes a volume
 * or a container's writable layer (its pkg/directory.Size). */
#ifndef BOXVM_TREESIZE_H
#define BOXVM_TREESIZE_H

/* The apparent sizes of every entry below path but directories (files and
 * symlinks; a file with several hard links once), without following links
 * or crossing onto another filesystem: the tree may be a guest's work.
 * 0 for a missing or unreadable path. */
long long bx_tree_bytes(const char *path);

#endif
