/* DATA/images.json: {"images": {"busybox:latest": "sha256:<manifest>", ...}}.
 * Readers take no lock (the file is replaced atomically); writers hold
 * flock(DATA/images.lock) across read-modify-write. */
#include "../common/cleanup.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int bx_image_index_lock(const struct bx_paths *p, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_mkdir_p(p->data, 0700, err) < 0 || bx_path_join(path, sizeof(path), err, "%s/images.lock", p->data) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return bx_fail(err, errno, "cannot lock %s", path);
	return BX_TAKE_FD(fd);
}

void bx_image_index_free(struct bx_image_index_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].name);
	free(e);
}

int bx_image_index_read(const struct bx_paths *p, struct bx_image_index_entry **out, size_t *n,
			struct bx_err *err)
{
	char path[PATH_MAX];
	*out = NULL;
	*n = 0;
	if (bx_path_join(path, sizeof(path), err, "%s/images.json", p->data) < 0)
		return -1;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (bx_read_file(path, &buf, &len, err) < 0)
		return -1;
	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(buf, len, 0, &je);
	json_t *imgs = json_object_get(root, "images");
	if (!json_is_object(imgs))
		return bx_fail(err, 0, "%s is corrupt (%s); fix or remove it and load the images again", path,
			       root ? "no \"images\" object" : je.text);
	struct bx_image_index_entry *e = calloc(json_object_size(imgs) + 1, sizeof(*e));
	if (!e)
		return bx_fail(err, ENOMEM, "out of memory");
	const char *name;
	json_t *v;
	size_t k = 0;
	json_object_foreach(imgs, name, v) {
		if (!json_is_string(v) || !bx_digest_valid(json_string_value(v)))
			continue; /* an entry we cannot use is skipped, not fatal for the others */
		if (!(e[k].name = strdup(name))) {
			bx_image_index_free(e, k);
			return bx_fail(err, ENOMEM, "out of memory");
		}
		strcpy(e[k].manifest, json_string_value(v));
		k++;
	}
	*out = e;
	*n = k;
	return 0;
}

int bx_image_index_write(const struct bx_paths *p, const struct bx_image_index_entry *e, size_t n,
			 struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/images.json", p->data) < 0)
		return -1;
	json_t *imgs = json_object();
	_cleanup_json_ json_t *root = json_pack("{s:i,s:o}", "version", 1, "images", imgs);
	if (!root)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (json_object_set_new(imgs, e[i].name, json_string(e[i].manifest)) < 0)
			return bx_fail(err, 0, "cannot record image name '%s'", e[i].name);
	_cleanup_free_ char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return bx_fail(err, ENOMEM, "out of memory");
	return bx_write_file_atomic(path, s, strlen(s), 0600, err);
}

int bx_image_index_set_names(const struct bx_paths *p, char *const *names, size_t nn, const char *manifest,
			     bool *moved, struct bx_err *err)
{
	struct bx_image_index_entry *e;
	size_t ne;
	if (bx_image_index_read(p, &e, &ne, err) < 0)
		return -1;
	int rc = -1;
	for (size_t k = 0; k < nn; k++) {
		size_t j = 0;
		while (j < ne && strcmp(e[j].name, names[k]) != 0)
			j++;
		if (j == ne) {
			struct bx_image_index_entry *ng = realloc(e, (ne + 1) * sizeof(*ng));
			if (!ng) {
				bx_fail(err, ENOMEM, "out of memory");
				goto out;
			}
			e = ng;
			if (!(e[ne].name = strdup(names[k]))) {
				bx_fail(err, ENOMEM, "out of memory");
				goto out;
			}
			e[ne].manifest[0] = '\0';
			ne++;
		}
		if (strcmp(e[j].manifest, manifest) != 0)
			*moved = true;
		snprintf(e[j].manifest, sizeof(e[j].manifest), "%s", manifest);
	}
	rc = *moved ? bx_image_index_write(p, e, ne, err) : 0;
out:
	bx_image_index_free(e, ne);
	return rc;
}
