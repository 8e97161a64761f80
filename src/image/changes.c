/* A box's changes over its image (changes.h). */
#include "changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree_walk.h"

struct changes {
	bool compare; /* the "upper" is a whole copy of the lower (tree_walk.h) */
	struct bx_change *v;
	size_t n, cap;
	/* directories already listed (or walked as directories), as Docker's changedDirs */
	char **dirs;
	size_t ndirs, capdirs;
};

static int push_str(char ***v, size_t *n, size_t *cap, const char *s, struct bx_err *err)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return bx_fail(err, ENOMEM, "out of memory");
		*v = nv;
		*cap = c;
	}
	if (!((*v)[*n] = strdup(s)))
		return bx_fail(err, ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

/* The walk is in path order, so a directory is recorded before anything
 * under it; a linear search from the end finds a parent quickly. */
static bool dir_seen(const struct changes *c, const char *path)
{
	for (size_t i = c->ndirs; i > 0; i--)
		if (!strcmp(c->dirs[i - 1], path))
			return true;
	return false;
}

static int add(struct changes *c, const char *rel, enum bx_change_kind kind, struct bx_err *err)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct bx_change *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return bx_fail(err, ENOMEM, "out of memory");
		c->v = nv;
		c->cap = cap;
	}
	size_t len = strlen(rel);
	char *p = malloc(len + 2);
	if (!p)
		return bx_fail(err, ENOMEM, "out of memory");
	p[0] = '/';
	memcpy(p + 1, rel, len + 1);
	c->v[c->n].path = p;
	c->v[c->n].kind = kind;
	c->n++;
	return 0;
}

/* Go's sameFsTime: equal, or equal seconds where one side has no nanoseconds */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && (a->tv_nsec == b->tv_nsec || !a->tv_nsec || !b->tv_nsec);
}

/* Whether a directory's entries were added or deleted (what moves its
 * mtime, Docker's test), not counting the agent's per-start /etc files:
 * those alone leave /etc unchanged, as Docker's bind mounts do. */
static bool entries_changed(const struct bx_walk_entry *e, bool compare)
{
	int up = openat(e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int low = openat(e->lower_dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = up >= 0 && low >= 0 ? fdopendir(up) : NULL;
	bool changed = !d;
	struct dirent *de;
	while (d && !changed && (de = readdir(d))) {
		char path[BX_WALK_MAX_PATH + 1];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", e->path, de->d_name);
		if (bx_walk_runtime_file(path))
			continue;
		if (fstatat(up, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0)
			changed = true; /* a whiteout */
		else if (fstatat(low, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			changed = true; /* added */
	}
	/* a whole copy shows a deletion by the name's absence */
	int low2 = compare && !changed && low >= 0 ? fcntl(low, F_DUPFD_CLOEXEC, 0) : -1;
	DIR *ld = low2 >= 0 ? fdopendir(low2) : NULL;
	while (ld && !changed && (de = readdir(ld))) {
		struct stat st;
		char path[BX_WALK_MAX_PATH + 1];
		snprintf(path, sizeof(path), "%s/%s", e->path, de->d_name);
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !bx_walk_runtime_file(path) &&
		    fstatat(up, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			changed = true;
	}
	if (ld)
		closedir(ld);
	else if (low2 >= 0)
		close(low2);
	if (d)
		closedir(d);
	else if (up >= 0)
		close(up);
	if (low >= 0)
		close(low);
	return changed;
}

static int on_entry(void *ctx, const struct bx_walk_entry *e, struct bx_err *err)
{
	struct changes *c = ctx;
	if (bx_walk_runtime_file(e->path))
		return 0;
	if (!strncmp(e->name, ".wh..wh.", 8))
		return 0; /* aufs metadata, skipped as Docker does */
	if (e->same)
		return 0;
	enum bx_change_kind kind;
	char del[BX_WALK_MAX_PATH + 1];
	const char *path = e->path;
	if (e->kind == BX_WALK_WHITEOUT || e->opaque) {
		kind = BX_CHANGE_DELETE;
	} else if (!bx_layer_name_plain(e->name)) {
		/* an aufs-style whiteout file: the name without its prefix was deleted */
		size_t dlen = strlen(e->path) - strlen(e->name); /* "dir/" before the name */
		snprintf(del, sizeof(del), "%.*s%s", (int)dlen, e->path, e->name + 4);
		path = del;
		kind = BX_CHANGE_DELETE;
	} else {
		kind = BX_CHANGE_ADD;
		struct stat lst;
		if (e->lower_dirfd >= 0 && fstatat(e->lower_dirfd, e->name, &lst, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(lst.st_mode) && S_ISDIR(e->st.st_mode) && lst.st_mode == e->st.st_mode &&
			    lst.st_uid == e->st.st_uid && lst.st_gid == e->st.st_gid &&
			    (same_time(&lst.st_mtim, &e->st.st_mtim) || !entries_changed(e, c->compare)))
				return 0; /* copied up for its children: they say what changed */
			kind = BX_CHANGE_MODIFY;
		}
	}
	if (S_ISDIR(e->st.st_mode) && push_str(&c->dirs, &c->ndirs, &c->capdirs, e->path, err) < 0)
		return -1;
	if (kind != BX_CHANGE_MODIFY) {
		const char *slash = strrchr(path, '/');
		if (slash) {
			char parent[BX_WALK_MAX_PATH + 1];
			snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
			if (!dir_seen(c, parent) &&
			    (add(c, parent, BX_CHANGE_MODIFY, err) < 0 || push_str(&c->dirs, &c->ndirs, &c->capdirs, parent, err) < 0))
				return -1;
		}
	}
	return add(c, path, kind, err);
}

void bx_changes_free(struct bx_change *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].path);
	free(c);
}

int bx_changes(int upper_fd, int lower_fd, bool copy, struct bx_change **out, size_t *n, struct bx_err *err)
{
	struct changes c = {.compare = copy};
	struct bx_walk_opts wo = {.upper = !copy, .lower_fd = lower_fd, .one_fs = true, .compare = copy};
	int rc = bx_tree_walk(upper_fd, &wo, on_entry, &c, err);
	for (size_t i = 0; i < c.ndirs; i++)
		free(c.dirs[i]);
	free(c.dirs);
	if (rc < 0) {
		bx_changes_free(c.v, c.n);
		return -1;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

char bx_change_letter(enum bx_change_kind k)
{
	return k == BX_CHANGE_ADD ? 'A' : k == BX_CHANGE_DELETE ? 'D' : 'C';
}
