/* The build cache's entries in the store, what they hold and keep, and
 * builder prune (buildcache.h). */
#include "buildcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_usage.h"
#include "../common/cleanup.h"
#include "../common/clock.h"

#define ENTRY_MAX 4096 /* an entry is ~100 bytes: anything longer is not ours */

int bx_buildcache_key(const char *parent, const char *created_by, char hex[65], struct bx_err *err)
{
	_cleanup_free_ char *key = NULL;
	if (asprintf(&key, "%s\n%s", parent, created_by) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	char dig[BX_DIGEST_SIZE];
	if (bx_sha256_buf(key, strlen(key), dig, err) < 0)
		return -1;
	snprintf(hex, 65, "%s", dig + 7);
	return 0;
}

static int entry_path(const struct bx_paths *p, const char *hex, char *path, size_t size, struct bx_err *err)
{
	return bx_path_join(path, size, err, "%s/buildcache/%s", p->data, hex);
}

/* the entry's record, its times from the file where it has none */
static int entry_read(int dfd, const char *hex, struct bx_buildcache_rec *r, struct bx_err *err)
{
	_cleanup_close_ int fd = openat(dfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "cannot open build cache entry %s", hex);
	if (!S_ISREG(st.st_mode) || st.st_size > ENTRY_MAX)
		return bx_fail(err, EINVAL, "build cache entry %s is no entry", hex);
	char buf[ENTRY_MAX + 1];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return bx_fail(err, errno, "cannot read build cache entry %s", hex);
	if (bx_buildcache_parse(buf, (size_t)n, r, err) < 0)
		return -1;
	long long mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	if (!r->created_ns)
		r->created_ns = mtime;
	if (!r->last_used_ns)
		r->last_used_ns = r->created_ns;
	return 0;
}

static int entry_write(const struct bx_paths *p, const char *hex, const struct bx_buildcache_rec *r, struct bx_err *err)
{
	char path[PATH_MAX], dir[PATH_MAX], text[256];
	if (bx_path_join(dir, sizeof(dir), err, "%s/buildcache", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    entry_path(p, hex, path, sizeof(path), err) < 0)
		return -1;
	if (bx_buildcache_format(r, text, sizeof(text)) < 0)
		return bx_fail(err, E2BIG, "build cache entry too long");
	return bx_write_file_atomic(path, text, strlen(text), 0600, err);
}

int bx_buildcache_get(const struct bx_paths *p, const char *hex, char id[BX_DIGEST_SIZE], struct bx_err *err)
{
	(void)err;
	char dir[PATH_MAX];
	struct bx_err e2;
	if (bx_path_join(dir, sizeof(dir), &e2, "%s/buildcache", p->data) < 0)
		return 0;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct bx_buildcache_rec r;
	struct bx_image img;
	if (dfd < 0 || entry_read(dfd, hex, &r, &e2) < 0 || bx_image_lookup(p, r.image, &img, &e2) < 0)
		return 0; /* none, or its image went (pruned): build again */
	snprintf(id, BX_DIGEST_SIZE, "%s", img.id);
	bx_image_free(&img);
	r.uses++;
	r.last_used_ns = bx_real_ns();
	entry_write(p, hex, &r, &e2); /* figures that could not be written are only figures */
	return 1;
}

void bx_buildcache_put(const struct bx_paths *p, const char *hex, const char *id)
{
	struct bx_buildcache_rec r = {.uses = 1};
	struct bx_err e2;
	snprintf(r.image, sizeof(r.image), "%s", id);
	r.created_ns = r.last_used_ns = bx_real_ns();
	entry_write(p, hex, &r, &e2);
}

/* DATA/buildcache.lock taken with how (DATA made first: a fresh store has none) */
static int cache_lock(const struct bx_paths *p, int how, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_mkdir_p(p->data, 0700, err) < 0 || bx_path_join(path, sizeof(path), err, "%s/buildcache.lock", p->data) < 0)
		return -1;
	return bx_lock_file(path, how, err);
}

int bx_buildcache_hold(const struct bx_paths *p, struct bx_err *err)
{
	return cache_lock(p, LOCK_SH, err);
}

/* ---- listing ---- */

static bool named(const struct bx_image *img)
{
	for (char **s = img->names; s && *s; s++)
		if (strncmp(*s, "<none>@", 7))
			return true;
	return false;
}

static long find_image(const struct bx_image_usage *u, const char *id)
{
	for (size_t i = 0; id && i < u->n; i++)
		if (!strcmp(u->v[i].img.id, id))
			return (long)i;
	return -1;
}

/* the images of the store with what keeps them, and which images are kept */
struct graph {
	struct bx_image_usage u;
	struct bx_bc_image *v;
	bool *kept;
	json_t *blob_sizes; /* hex -> bytes, as stored */
};

static void graph_free(struct graph *g)
{
	bx_image_usage_free(&g->u);
	free(g->v);
	free(g->kept);
	json_decref(g->blob_sizes);
}

static long long blob_size(struct graph *g, const struct bx_paths *p, const char *digest)
{
	json_t *v = json_object_get(g->blob_sizes, digest + 7);
	if (v)
		return json_integer_value(v);
	char path[PATH_MAX];
	struct stat st;
	long long sz = 0;
	if (bx_path_join(path, sizeof(path), NULL, "%s/blobs/sha256/%s", p->data, digest + 7) == 0 &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode))
		sz = st.st_size;
	json_object_set_new(g->blob_sizes, digest + 7, json_integer(sz));
	return sz;
}

static int graph_load(const struct bx_paths *p, struct bx_buildcache_entry *e, size_t ne, struct graph *g,
		      struct bx_err *err)
{
	memset(g, 0, sizeof(*g));
	if (bx_image_usage(p, &g->u, err) < 0)
		return -1;
	g->v = calloc(g->u.n + 1, sizeof(*g->v));
	g->kept = calloc(g->u.n + 1, sizeof(*g->kept));
	g->blob_sizes = json_object();
	if (!g->v || !g->kept || !g->blob_sizes)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < g->u.n; i++) {
		const struct bx_image *img = &g->u.v[i].img;
		g->v[i].named = named(img);
		g->v[i].boxes = g->u.v[i].boxes;
		g->v[i].parent = g->u.v[i].parent;
	}
	for (size_t k = 0; k < ne; k++) {
		long i = find_image(&g->u, e[k].rec.image);
		if (i >= 0)
			g->v[i].cached = true;
	}
	bx_buildcache_kept(g->v, g->u.n, g->kept);
	return 0;
}

static bool has_layer(const struct bx_image *img, const char *digest)
{
	for (size_t l = 0; img && l < img->nlayers; l++)
		if (!strcmp(img->layers[l], digest))
			return true;
	return false;
}

/* the layers image i adds to its parent's (an image's size is its layers',
 * as `images` and image prune count it); for an unshared one only those no
 * kept image holds and no entry counted before (counted: hex -> true) */
static long long own_bytes(const struct bx_paths *p, struct graph *g, size_t i, bool unshared, json_t *counted)
{
	const struct bx_image *img = &g->u.v[i].img;
	const struct bx_image *parent = g->v[i].parent >= 0 ? &g->u.v[g->v[i].parent].img : NULL;
	long long sum = 0;
	for (size_t l = 0; l < img->nlayers; l++) {
		const char *d = img->layers[l];
		if (has_layer(parent, d))
			continue;
		bool held = false;
		for (size_t k = 0; unshared && k < g->u.n && !held; k++)
			held = g->kept[k] && has_layer(&g->u.v[k].img, d);
		if (held || (unshared && json_object_get(counted, d + 7)))
			continue;
		if (unshared)
			json_object_set_new(counted, d + 7, json_true());
		sum += blob_size(g, p, d);
	}
	return sum;
}

static int newest_first(const void *a, const void *b)
{
	const struct bx_buildcache_entry *x = a, *y = b;
	return (y->rec.created_ns > x->rec.created_ns) - (y->rec.created_ns < x->rec.created_ns);
}

/* the entries alone (no image read) */
static int read_entries(const struct bx_paths *p, struct bx_buildcache *c, struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/buildcache", p->data) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot read %s", dir);
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		struct bx_buildcache_rec r;
		struct bx_err e2;
		if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64 ||
		    entry_read(dirfd(d), de->d_name, &r, &e2) < 0)
			continue; /* temp files of a write, or not ours */
		if (c->n == cap) {
			struct bx_buildcache_entry *nv = realloc(c->v, (cap = cap * 2 + 16) * sizeof(*nv));
			if (!nv) {
				rc = bx_fail(err, ENOMEM, "out of memory");
				break;
			}
			c->v = nv;
		}
		struct bx_buildcache_entry *e = &c->v[c->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", de->d_name);
		e->rec = r;
	}
	closedir(d);
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), newest_first);
	return rc;
}

static int classify(const struct bx_paths *p, struct bx_buildcache *c, struct graph *g, struct bx_err *err)
{
	if (graph_load(p, c->v, c->n, g, err) < 0)
		return -1;
	json_t *counted = json_object();
	if (!counted)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t k = 0; k < c->n; k++) {
		struct bx_buildcache_entry *e = &c->v[k];
		long i = find_image(&g->u, e->rec.image);
		e->image_gone = i < 0;
		if (i < 0)
			continue;
		e->in_use = g->v[i].boxes > 0;
		e->shared = g->kept[i] && !e->in_use;
		e->size = own_bytes(p, g, (size_t)i, !g->kept[i], counted);
	}
	json_decref(counted);
	return 0;
}

int bx_buildcache_list(const struct bx_paths *p, struct bx_buildcache *c, struct bx_err *err)
{
	if (read_entries(p, c, err) < 0)
		return -1;
	struct graph g;
	int rc = classify(p, c, &g, err);
	graph_free(&g);
	if (rc < 0)
		bx_buildcache_free(c);
	return rc;
}

void bx_buildcache_free(struct bx_buildcache *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- prune ---- */

static bool picked(void *ctx, const struct bx_image *img)
{
	return json_object_get(ctx, img->id) != NULL;
}

static void quiet(void *ctx, const char *verb, const char *what)
{
	(void)ctx, (void)verb, (void)what; /* Docker lists the cache objects, not the images behind them */
}

int bx_buildcache_prune(const struct bx_paths *p, bool all, const struct bx_prune_filter *f,
			void (*removed)(void *ctx, const char *key), void *ctx, long long *reclaimed, struct bx_err *err)
{
	*reclaimed = 0;
	char dir[PATH_MAX];
	_cleanup_close_ int lock = cache_lock(p, LOCK_EX | LOCK_NB, err);
	if (lock < 0)
		return err->errnum == EWOULDBLOCK
			       ? bx_fail(err, EBUSY, "a build (or another prune) is running: prune the build cache again once it has ended")
			       : -1;
	struct bx_buildcache c;
	struct graph g = {0};
	if (read_entries(p, &c, err) < 0)
		return -1;
	json_t *images = json_object(); /* the images only removed entries kept */
	int rc = images ? classify(p, &c, &g, err) : bx_fail(err, ENOMEM, "out of memory");
	if (rc == 0 && bx_path_join(dir, sizeof(dir), err, "%s/buildcache", p->data) < 0)
		rc = -1;
	for (size_t k = 0; rc == 0 && k < c.n; k++) {
		struct bx_buildcache_entry *e = &c.v[k];
		bool dangling = e->image_gone || (!e->shared && !e->in_use);
		if ((!all && !dangling) || e->in_use || (f && !bx_prune_until_match(f, e->rec.last_used_ns)))
			continue;
		char path[PATH_MAX];
		if (bx_path_join(path, sizeof(path), NULL, "%s/%s", dir, e->key) < 0 || unlink(path) < 0)
			continue; /* another prune took it */
		removed(ctx, e->key);
		if (!e->image_gone && !e->shared)
			json_object_set_new(images, e->rec.image, json_true());
	}
	graph_free(&g);
	bx_buildcache_free(&c);
	if (rc == 0 && json_object_size(images))
		rc = bx_image_prune(p, true, picked, images, quiet, NULL, reclaimed, err);
	json_decref(images);
	return rc;
}
