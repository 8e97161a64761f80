/* Which boxes use an image, and garbage collection of blobs, incoming pull
 * leftovers and rootfs cache entries nothing references any more. */
#include "image_gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../image/layercache.h"
#include "../image/rootfs.h"
#include "state.h"

bool bx_box_image(const char *box_dir, char image[BX_DIGEST_SIZE], char chain[BX_DIGEST_SIZE])
{
	struct bx_rootfs_info info;
	struct bx_box_record r;
	image[0] = chain[0] = '\0';
	if (bx_rootfs_info_read(box_dir, &info, NULL) == 0) {
		memcpy(image, info.image_id, BX_DIGEST_SIZE);
		memcpy(chain, info.chain, BX_DIGEST_SIZE);
	}
	if (!image[0] && bx_state_read(box_dir, &r, NULL) == 0)
		snprintf(image, BX_DIGEST_SIZE, "%s", r.image_id);
	return image[0] != '\0';
}

int bx_each_box_dir(const struct bx_paths *p, void (*fn)(const char *id, const char *dir, void *ctx), void *ctx,
		    struct bx_err *err)
{
	char boxes[PATH_MAX];
	if (bx_path_join(boxes, sizeof(boxes), err, "%s/boxes", p->data) < 0)
		return -1;
	DIR *d = opendir(boxes);
	if (!d)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot read %s", boxes);
	struct dirent *e;
	while ((e = readdir(d))) {
		char dir[PATH_MAX];
		if (e->d_name[0] == '.' || bx_path_join(dir, sizeof(dir), NULL, "%s/%s", boxes, e->d_name) < 0)
			continue;
		fn(e->d_name, dir, ctx);
	}
	closedir(d);
	return 0;
}

struct users_ctx {
	const char *image_id;
	struct bx_image_users *u;
};

static void count_user(const char *id, const char *dir, void *ctx)
{
	struct users_ctx *c = ctx;
	char image[BX_DIGEST_SIZE], chain[BX_DIGEST_SIZE];
	if (!bx_box_image(dir, image, chain) || strcmp(image, c->image_id))
		return;
	struct bx_box_record r;
	bool running = false;
	if (bx_state_read(dir, &r, NULL) == 0) {
		if (bx_state_reconcile(&r))
			return; /* a dead --rm box, removed just now */
		running = bx_box_status_live(r.status);
	}
	if (!c->u->boxes++ || (running && !c->u->running))
		snprintf(c->u->first, sizeof(c->u->first), "%s", id); /* name a running one if any */
	c->u->running += running;
}

int bx_image_users(const struct bx_paths *p, const char *image_id, struct bx_image_users *u, struct bx_err *err)
{
	memset(u, 0, sizeof(*u));
	struct users_ctx c = {image_id, u};
	return bx_each_box_dir(p, count_user, &c, err);
}

/* ---- garbage collection ---- */

static void add_chain(const char *id, const char *dir, void *ctx)
{
	char image[BX_DIGEST_SIZE], chain[BX_DIGEST_SIZE];
	if (bx_box_image(dir, image, chain) && chain[0])
		json_object_set_new(ctx, chain + 7, json_true());
}

/* hex -> true for every blob of every named image, and the chains they use. */
static int referenced(const struct bx_paths *p, json_t *blobs, json_t *chains, struct bx_err *err)
{
	struct bx_image *v;
	size_t n;
	if (bx_image_list(p, &v, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		json_object_set_new(blobs, v[i].manifest_digest + 7, json_true());
		json_object_set_new(blobs, v[i].id + 7, json_true());
		for (size_t l = 0; l < v[i].nlayers; l++)
			json_object_set_new(blobs, v[i].layers[l] + 7, json_true());
		char **diff_ids = NULL, chain[BX_DIGEST_SIZE];
		if (v[i].nlayers && (bx_image_diff_ids(p, &v[i], &diff_ids, err) < 0 ||
				     bx_chain_id(diff_ids, v[i].nlayers, chain, err) < 0))
			rc = -1; /* an unreadable image: collect nothing rather than the wrong thing */
		else if (v[i].nlayers)
			json_object_set_new(chains, chain + 7, json_true());
		bx_strv_free(diff_ids);
	}
	for (size_t i = 0; i < n; i++)
		bx_image_free(&v[i]);
	free(v);
	return rc;
}

static long long size_of(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (long long)st.st_size : 0;
}

static void gc_blobs(const struct bx_paths *p, json_t *keep, struct bx_gc_stats *st)
{
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/blobs/sha256", p->data) < 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 64 || json_object_get(keep, e->d_name))
			continue;
		long long sz = size_of(dirfd(d), e->d_name);
		if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
			st->blobs++;
			st->bytes += sz;
		}
	}
	if (d)
		closedir(d);
}

/* incoming/HEX, HEX.partial, HEX.lock of pulls that are not running (their
 * lock is free) and are older than an hour: a running pull releases a blob's
 * lock once the blob is staged and commits all of them at the end, so a
 * recent staged blob may still be about to be used. The lock file goes last,
 * unlinked while held (registry_stage.c re-checks the inode after locking). */
#define INCOMING_GRACE_S 3600
static void gc_incoming(const struct bx_paths *p, struct bx_gc_stats *st)
{
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/blobs/incoming", p->data) < 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	json_t *done = json_object();
	while (d && done && (e = readdir(d))) {
		char hex[65];
		struct stat est;
		if (strlen(e->d_name) < 64 || e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &est, 0) < 0 ||
		    time(NULL) - est.st_mtime < INCOMING_GRACE_S)
			continue;
		snprintf(hex, sizeof(hex), "%.64s", e->d_name);
		if (json_object_get(done, hex))
			continue;
		json_object_set_new(done, hex, json_true());
		char lockp[PATH_MAX];
		if (bx_path_join(lockp, sizeof(lockp), NULL, "%s/%s.lock", dir, hex) < 0)
			continue;
		int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		struct stat a, b;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 && stat(lockp, &b) == 0 && a.st_ino == b.st_ino) {
			char name[80];
			snprintf(name, sizeof(name), "%s", hex);
			long long sz = size_of(dirfd(d), name);
			if (unlinkat(dirfd(d), name, 0) == 0)
				st->incoming++, st->bytes += sz;
			snprintf(name, sizeof(name), "%s.partial", hex);
			sz = size_of(dirfd(d), name);
			if (unlinkat(dirfd(d), name, 0) == 0)
				st->incoming++, st->bytes += sz;
			unlink(lockp);
		}
		close(fd);
	}
	json_decref(done);
	if (d)
		closedir(d);
}

/* Entries no image and no box uses, and half-built ones whose builder is gone.
 * The entry's lock is taken (never waited for) first and the boxes are read
 * after it: a box being created holds it until its rootfs.json names the entry. */
static void gc_cache(const struct bx_paths *p, json_t *keep, struct bx_gc_stats *st)
{
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/rootfs-cache", p->data) < 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *hex = !strncmp(e->d_name, ".tmp-", 5) ? e->d_name + 5 : e->d_name;
		if (strlen(hex) != 64 || json_object_get(keep, hex))
			continue;
		int lock = bx_layercache_lock(p, hex, true, NULL);
		if (lock < 0)
			continue; /* being built or mounted right now */
		json_t *boxes = json_object();
		bx_each_box_dir(p, add_chain, boxes, NULL);
		char path[PATH_MAX];
		if (boxes && !json_object_get(boxes, hex) &&
		    bx_path_join(path, sizeof(path), NULL, "%s/%s", dir, e->d_name) == 0 && bx_rm_rf(path, NULL) == 0) {
			if (hex == e->d_name) {
				st->cache_entries++;
				if (bx_path_join(path, sizeof(path), NULL, "%s/%s.lock", dir, hex) == 0)
					unlink(path);
			}
		}
		json_decref(boxes);
		close(lock);
	}
	if (d)
		closedir(d);
}

int bx_image_gc(const struct bx_paths *p, struct bx_gc_stats *st, struct bx_err *err)
{
	memset(st, 0, sizeof(*st));
	/* pulls and loads commit blobs and names under this lock: nothing can
	 * become referenced while we decide what is not */
	int lock = bx_image_index_lock(p, err);
	if (lock < 0)
		return -1;
	json_t *blobs = json_object(), *chains = json_object();
	int rc = -1;
	if (!blobs || !chains) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (referenced(p, blobs, chains, err) < 0) {
		bx_wrap(err, "garbage collection skipped");
		goto out;
	}
	gc_blobs(p, blobs, st);
	gc_incoming(p, st);
	gc_cache(p, chains, st);
	rc = 0;
out:
	json_decref(blobs);
	json_decref(chains);
	close(lock);
	return rc;
}
