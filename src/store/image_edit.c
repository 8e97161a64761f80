/* tag and rmi: changes to the image index (DATA/images.json), made under its
 * lock by read-modify-write, and the Docker rules for untag versus delete. */
#include "events.h"
#include "image_gc.h"
#include "../image/image_create.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Remove the names in drop (NULL-terminated) from the index, and/or set
 * add -> manifest. */
static int index_edit(const struct bx_paths *p, char *const *drop, const char *add, const char *manifest,
		      struct bx_err *err)
{
	int lock = bx_image_index_lock(p, err);
	if (lock < 0)
		return -1;
	struct bx_image_index_entry *e;
	size_t n, k = 0;
	int rc = -1;
	if (bx_image_index_read(p, &e, &n, err) < 0)
		goto out_unlock;
	struct bx_image_index_entry *v = calloc(n + 2, sizeof(*v));
	if (!v) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool gone = add && !strcmp(e[i].name, add);
		for (char *const *d = drop; d && *d && !gone; d++)
			gone = !strcmp(e[i].name, *d);
		if (!gone)
			v[k++] = e[i];
	}
	if (add) {
		v[k].name = (char *)add;
		snprintf(v[k].manifest, sizeof(v[k].manifest), "%s", manifest);
		k++;
	}
	rc = bx_image_index_write(p, v, k, err);
	free(v);
out:
	bx_image_index_free(e, n);
out_unlock:
	close(lock);
	return rc;
}

int bx_image_tag(const struct bx_paths *p, const char *src, const char *target, struct bx_err *err)
{
	char norm[512];
	if (bx_image_ref_normalize(target, norm, sizeof(norm), err) < 0)
		return bx_wrap(err, "invalid target reference '%s'", target);
	if (strchr(norm, '@'))
		return bx_fail(err, 0, "refusing to tag with a digest reference '%s'; give NAME[:TAG]", target);
	struct bx_image img;
	if (bx_image_lookup(p, src, &img, err) < 0)
		return -1;
	/* a tagged image is no longer kept as untagged ("<none>@<manifest>",
	 * image_create.h): a build's last step, `tag` of a dangling image */
	char untagged[BX_DIGEST_SIZE + 16];
	snprintf(untagged, sizeof(untagged), "%s@%s", BX_UNTAGGED_REPO, img.manifest_digest);
	char *drop[] = {untagged, NULL};
	int rc = index_edit(p, drop, norm, img.manifest_digest, err);
	if (rc == 0)
		bx_event_emit(p->data, "image", "tag", img.id, (const char *const[]){"name", norm, NULL}, NULL);
	bx_image_free(&img);
	return rc;
}

/* Every name (tags and NAME@DIGEST references) of any manifest with this image ID. */
static int names_of(const struct bx_paths *p, const char *id, char ***names, size_t *n, size_t *tags,
		    struct bx_err *err)
{
	struct bx_image *v;
	size_t nv;
	*names = NULL;
	*n = *tags = 0;
	if (bx_image_list(p, &v, &nv, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < nv && rc == 0; i++)
		for (char **s = v[i].names; rc == 0 && s && *s; s++)
			if (!strcmp(v[i].id, id)) {
				rc = bx_strv_push(names, n, *s, err);
				*tags += strchr(*s, '@') ? 0 : 1;
			}
	for (size_t i = 0; i < nv; i++)
		bx_image_free(&v[i]);
	free(v);
	return rc;
}

/* Docker 20.10 names the image by its ID in untag and delete events */
static void image_event(const struct bx_paths *p, const char *action, const char *id)
{
	bx_event_emit(p->data, "image", action, id, (const char *const[]){"name", id, NULL}, NULL);
}

int bx_image_remove(const struct bx_paths *p, const char *ref, bool force,
		    void (*report)(void *ctx, const char *verb, const char *what), void *ctx, struct bx_err *err)
{
	struct bx_image img;
	if (bx_image_lookup(p, ref, &img, err) < 0)
		return -1;
	char norm[512] = "", **names = NULL, *one[2] = {norm, NULL};
	size_t nnames, ntags;
	struct bx_image_users u;
	int rc = -1;
	if (names_of(p, img.id, &names, &nnames, &ntags, err) < 0 || bx_image_users(p, img.id, &u, err) < 0)
		goto out;
	bool by_name = false;
	if (bx_image_ref_normalize(ref, norm, sizeof(norm), NULL) == 0)
		for (size_t i = 0; i < nnames && !by_name; i++)
			by_name = !strcmp(names[i], norm);

	if (by_name && (strchr(norm, '@') ? nnames > 1 : ntags > 1)) { /* other names remain: untag only */
		if (index_edit(p, one, NULL, NULL, err) < 0)
			goto out;
		report(ctx, "Untagged", norm);
		image_event(p, "untag", img.id);
		rc = 0;
		goto out;
	}
	if (!by_name && ntags > 1 && !force) {
		bx_fail(err, 0, "conflict: unable to delete %.19s (must be forced) - image is referenced in multiple "
			"repositories", img.id + 7);
		goto out;
	}
	if (u.boxes && (!force || (!by_name && u.running))) {
		if (by_name)
			bx_fail(err, 0, "conflict: unable to remove repository reference \"%s\" (must force) - box %.12s is "
				"using its referenced image %.12s", ref, u.first, img.id + 7);
		else
			bx_fail(err, 0, "conflict: unable to delete %.12s (%s) - image is being used by %s box %.12s", img.id + 7,
				u.running ? "cannot be forced" : "must be forced", u.running ? "running" : "stopped", u.first);
		goto out;
	}
	if (index_edit(p, names, NULL, NULL, err) < 0)
		goto out;
	for (size_t i = 0; i < nnames; i++) {
		if (!strncmp(names[i], "<none>@", 7))
			continue; /* an untagged image's index entry (image_create.h): nothing to untag */
		report(ctx, "Untagged", names[i]);
		image_event(p, "untag", img.id);
	}
	report(ctx, "Deleted", img.id);
	image_event(p, "delete", img.id);
	/* what only this image used goes now; boxes keep their cache entry (rootfs.json) */
	struct bx_gc_stats st;
	rc = bx_image_gc(p, &st, err);
out:
	bx_strv_free(names);
	bx_image_free(&img);
	return rc;
}
