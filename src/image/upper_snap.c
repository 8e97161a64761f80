/* Snapshots of an overlayfs upper dir and what went from one to the next (upper_snap.h). */
#include "upper_snap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bx_snap_path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca != cb || !ca) {
			/* '/' ends a name: before any byte a longer name goes on with */
			ca = ca == '/' ? 1 : ca ? ca + 1 : 0;
			cb = cb == '/' ? 1 : cb ? cb + 1 : 0;
			return ca < cb ? -1 : ca > cb;
		}
	}
}

int bx_upper_snap_add(struct bx_upper_snap *s, const char *path, const struct stat *st, bool whiteout, bool opaque,
		      struct bx_err *err)
{
	if (s->n && bx_snap_path_cmp(s->v[s->n - 1].path, path) >= 0)
		return bx_fail(err, EINVAL, "snapshot: /%s out of walk order", path);
	if (s->n >= BX_UPPER_SNAP_MAX)
		return bx_fail(err, E2BIG, "the box's changes hold more than %u files; a build step can make at most that many",
			       BX_UPPER_SNAP_MAX);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct bx_snap_entry *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return bx_fail(err, ENOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	struct bx_snap_entry *e = &s->v[s->n];
	if (!(e->path = strdup(path)))
		return bx_fail(err, ENOMEM, "out of memory");
	e->st = *st;
	e->whiteout = whiteout;
	e->opaque = opaque;
	s->n++;
	return 0;
}

const struct bx_snap_entry *bx_upper_snap_find(const struct bx_upper_snap *s, const char *path)
{
	size_t lo = 0, hi = s ? s->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bx_snap_path_cmp(s->v[mid].path, path);
		if (!c)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool bx_upper_snap_same(const struct bx_snap_entry *was, const struct stat *st, bool whiteout, bool opaque)
{
	const struct stat *o = &was->st;
	return was->whiteout == whiteout && was->opaque == opaque && o->st_ino == st->st_ino && o->st_dev == st->st_dev &&
	       o->st_mode == st->st_mode && o->st_uid == st->st_uid && o->st_gid == st->st_gid &&
	       o->st_size == st->st_size && o->st_rdev == st->st_rdev && o->st_nlink == st->st_nlink &&
	       same_time(&o->st_mtim, &st->st_mtim) && same_time(&o->st_ctim, &st->st_ctim);
}

/* path is below dir ("a/b" is below "a", "ab" is not) */
static bool below(const char *path, const char *dir)
{
	size_t l = strlen(dir);
	return !strncmp(path, dir, l) && path[l] == '/';
}

int bx_upper_snap_gone(const struct bx_upper_snap *before, const struct bx_upper_snap *after, bx_snap_gone_fn fn,
		       void *ctx, struct bx_err *err)
{
	const char *skip = NULL; /* the subtree of a path already accounted for */
	for (size_t i = 0; before && i < before->n; i++) {
		const struct bx_snap_entry *b = &before->v[i];
		if (skip && below(b->path, skip))
			continue;
		skip = NULL;
		const struct bx_snap_entry *now = bx_upper_snap_find(after, b->path);
		if (!now) {
			if (fn(ctx, b, err) < 0)
				return -1;
			skip = b->path;
		} else if (S_ISDIR(b->st.st_mode) && !b->whiteout && (!S_ISDIR(now->st.st_mode) || now->whiteout)) {
			skip = b->path; /* the new entry (or whiteout) took the directory's place, children and all */
		}
	}
	return 0;
}

void bx_upper_snap_free(struct bx_upper_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
