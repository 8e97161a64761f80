/* Sizing a directory tree (treesize.h): nftw, so the walk's depth costs
 * bounded fds and no recursion of our own. */
#include "treesize.h"

#include <ftw.h>
#include <search.h>
#include <stdlib.h>
#include <sys/stat.h>

/* nftw's callback takes no context: one walk at a time (the CLI is single-threaded) */
static long long walk_total;
static void *walk_inodes; /* tsearch tree of the hard-linked inodes seen */

struct inode_key {
	dev_t dev;
	ino_t ino;
};

static int inode_cmp(const void *a, const void *b)
{
	const struct inode_key *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* true the first time a hard-linked inode is met */
static int first_sight(const struct stat *st)
{
	struct inode_key *k = malloc(sizeof(*k));
	if (!k)
		return 1; /* counted twice rather than not at all */
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	struct inode_key **found = tsearch(k, &walk_inodes, inode_cmp);
	if (found && *found != k) {
		free(k);
		return 0;
	}
	return 1;
}

static int add_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type != FTW_F && type != FTW_SL && type != FTW_SLN)
		return 0;
	if (st->st_size <= 0 || (st->st_nlink > 1 && type == FTW_F && !first_sight(st)))
		return 0;
	walk_total += st->st_size;
	return 0;
}

long long bx_tree_bytes(const char *path)
{
	walk_total = 0;
	walk_inodes = NULL;
	nftw(path, add_entry, 32, FTW_PHYS | FTW_MOUNT);
	tdestroy(walk_inodes, free);
	walk_inodes = NULL;
	return walk_total;
}
