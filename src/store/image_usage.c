/* Image sizes and users for system df, and image prune (image_usage.h). */
#include "image_usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildcache.h"
#include "image_gc.h"
#include "state.h"

static void count_box(const char *id, const char *dir, void *ctx)
{
	char image[BX_DIGEST_SIZE], chain[BX_DIGEST_SIZE];
	struct bx_box_record r;
	if (!bx_box_image(dir, image, chain))
		return;
	if (bx_state_read(dir, &r, NULL) == 0 && (bx_state_reconcile(&r) || r.status == BX_BOX_REMOVING))
		return; /* gone, or going */
	json_t *n = json_object_get(ctx, image);
	json_object_set_new(ctx, image, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* hex -> size of every blob in the store */
static json_t *blob_sizes(const struct bx_paths *p)
{
	json_t *all = json_object();
	char dir[PATH_MAX];
	if (!all || bx_path_join(dir, sizeof(dir), NULL, "%s/blobs/sha256", p->data) < 0)
		return all;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (strlen(e->d_name) == 64 && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			json_object_set_new(all, e->d_name, json_integer(st.st_size));
	}
	if (d)
		closedir(d);
	return all;
}

/* The blobs the figures count (hex -> size): every listed image's layers
 * (the manifest's sizes, as `images` adds them) and every blob no listed
 * image references. */
static json_t *counted_blobs(const struct bx_paths *p, const struct bx_image *v, size_t n, long long *layers,
			     long long *unlisted)
{
	json_t *counted = json_object(), *all = blob_sizes(p);
	*layers = *unlisted = 0;
	if (!counted || !all) {
		json_decref(all);
		return counted;
	}
	for (size_t i = 0; i < n; i++) {
		json_object_del(all, v[i].manifest_digest + 7);
		json_object_del(all, v[i].id + 7);
		for (size_t l = 0; l < v[i].nlayers; l++) {
			json_object_del(all, v[i].layers[l] + 7);
			if (json_object_get(counted, v[i].layers[l] + 7))
				continue;
			long long sz = v[i].layer_sizes && v[i].layer_sizes[l] > 0 ? v[i].layer_sizes[l] : 0;
			json_object_set_new(counted, v[i].layers[l] + 7, json_integer(sz));
			*layers += sz;
		}
	}
	const char *hex;
	json_t *sz;
	json_object_foreach(all, hex, sz) {
		json_object_set(counted, hex, sz);
		*unlisted += json_integer_value(sz);
	}
	json_decref(all);
	return counted;
}

/* the listed image img's config names as its parent, -1 none */
static long parent_of(const struct bx_paths *p, const struct bx_image *v, size_t n, const struct bx_image *img)
{
	char *buf = NULL;
	size_t len;
	if (bx_blob_read(p, img->id, BX_CONFIG_MAX, &buf, &len, NULL) < 0)
		return -1;
	json_t *doc = json_loadb(buf, len, 0, NULL);
	const char *parent = json_string_value(json_object_get(doc, "parent"));
	long found = -1;
	for (size_t i = 0; parent && i < n && found < 0; i++)
		if (!strcmp(v[i].id, parent))
			found = (long)i;
	json_decref(doc);
	free(buf);
	return found;
}

int bx_image_usage(const struct bx_paths *p, struct bx_image_usage *u, struct bx_err *err)
{
	memset(u, 0, sizeof(*u));
	struct bx_image *v;
	size_t n;
	if (bx_image_list(p, &v, &n, err) < 0)
		return -1;
	json_t *users = json_object(), *owners = json_object(); /* layer hex -> how many images have it */
	u->v = calloc(n + 1, sizeof(*u->v));
	if (!users || !owners || !u->v) {
		for (size_t i = 0; i < n; i++)
			bx_image_free(&v[i]);
		free(v);
		free(u->v);
		u->v = NULL;
		json_decref(users);
		json_decref(owners);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	bx_each_box_dir(p, count_box, users, NULL);
	json_decref(counted_blobs(p, v, n, &u->layers, &u->unlisted));
	for (size_t i = 0; i < n; i++)
		for (size_t l = 0; l < v[i].nlayers; l++) {
			bool again = false; /* an image listing one layer twice owns it once */
			for (size_t k = 0; k < l && !again; k++)
				again = !strcmp(v[i].layers[k], v[i].layers[l]);
			json_t *c = json_object_get(owners, v[i].layers[l]);
			if (!again)
				json_object_set_new(owners, v[i].layers[l], json_integer(c ? json_integer_value(c) + 1 : 1));
		}
	for (size_t i = 0; i < n; i++) {
		struct bx_image_use *e = &u->v[i];
		e->img = v[i];
		e->boxes = (int)json_integer_value(json_object_get(users, v[i].id));
		e->parent = parent_of(p, v, n, &v[i]);
		for (size_t l = 0; l < v[i].nlayers; l++)
			if (json_integer_value(json_object_get(owners, v[i].layers[l])) > 1 && v[i].layer_sizes)
				e->shared += v[i].layer_sizes[l] > 0 ? v[i].layer_sizes[l] : 0;
	}
	u->n = n;
	free(v); /* the images themselves moved into u->v */
	json_decref(users);
	json_decref(owners);
	return 0;
}

void bx_image_usage_free(struct bx_image_usage *u)
{
	for (size_t i = 0; u->v && i < u->n; i++)
		bx_image_free(&u->v[i].img);
	free(u->v);
	memset(u, 0, sizeof(*u));
}

static bool has_tag(const struct bx_image *img)
{
	for (char **s = img->names; s && *s; s++)
		if (!strchr(*s, '@'))
			return true;
	return false;
}

int bx_image_prune(const struct bx_paths *p, bool all, bool (*pick)(void *ctx, const struct bx_image *img),
		   void *ctx, void (*report)(void *rctx, const char *verb, const char *what), void *rctx,
		   long long *reclaimed, struct bx_err *err)
{
	*reclaimed = 0;
	struct bx_image_usage u;
	if (bx_image_usage(p, &u, err) < 0)
		return -1;
	struct bx_image *imgs = calloc(u.n + 1, sizeof(*imgs));
	long long layers, unlisted;
	json_t *before = NULL;
	for (size_t i = 0; imgs && i < u.n; i++)
		imgs[i] = u.v[i].img;
	before = imgs ? counted_blobs(p, imgs, u.n, &layers, &unlisted) : NULL;
	free(imgs);
	if (!before) {
		bx_image_usage_free(&u);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	/* dangling: what stays (a tag, a box, one pick keeps) keeps the images under it */
	struct bx_bc_image *g = calloc(u.n + 1, sizeof(*g));
	bool *kept = calloc(u.n + 1, sizeof(*kept));
	if (!g || !kept) {
		free(g);
		free(kept);
		json_decref(before);
		bx_image_usage_free(&u);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < u.n; i++)
		g[i] = (struct bx_bc_image){.named = has_tag(&u.v[i].img) || (pick && !pick(ctx, &u.v[i].img)),
					    .cached = true, .boxes = u.v[i].boxes, .parent = u.v[i].parent};
	bx_buildcache_kept(g, u.n, kept);
	for (size_t i = 0; i < u.n; i++) {
		const struct bx_image *img = &u.v[i].img;
		if (u.v[i].boxes || (!all && kept[i]) || (pick && !pick(ctx, img)))
			continue;
		/* name by name, as Docker's prune deletes every reference: the last one deletes the image */
		for (char **s = img->names; s && *s; s++) {
			struct bx_err e;
			/* an untagged image's own entry (image_create.h) is no reference: by ID */
			if (bx_image_remove(p, strncmp(*s, "<none>@", 7) ? *s : img->id, false, report, rctx, &e) < 0)
				break; /* a box uses it now, or another client removed it: it is not ours to force */
		}
	}
	free(g);
	free(kept);
	bx_image_usage_free(&u);
	struct bx_gc_stats st;
	int rc = bx_image_gc(p, &st, err);
	char dir[PATH_MAX];
	const char *hex;
	json_t *sz;
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/blobs/sha256", p->data) == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		json_object_foreach(before, hex, sz) {
			struct stat s;
			if (dfd < 0 || (fstatat(dfd, hex, &s, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT))
				*reclaimed += json_integer_value(sz);
		}
		if (dfd >= 0)
			close(dfd);
	}
	json_decref(before);
	return rc;
}
