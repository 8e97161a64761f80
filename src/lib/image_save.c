/* `boxvm save`: images as an OCI image layout tar (oci-layout, index.json
 * naming each image with io.containerd.image.name and
 * org.opencontainers.image.ref.name, blobs/sha256/<hex>), which `boxvm load`
 * and other OCI tools read back. */
#include "image_inspect.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static int add_entry(struct archive *a, const char *name, long long size, struct archive_entry **pe,
		     struct bx_err *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return bx_fail(err, ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		archive_entry_free(e);
		return bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(a));
	}
	*pe = e;
	return 0;
}

static int add_buf(struct archive *a, const char *name, const char *buf, size_t len, struct bx_err *err)
{
	struct archive_entry *e;
	if (add_entry(a, name, (long long)len, &e, err) < 0)
		return -1;
	int rc = archive_write_data(a, buf, len) == (la_ssize_t)len ? 0
			: bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

static int add_blob(const struct bx_paths *p, struct archive *a, json_t *done, const char *digest, struct bx_err *err)
{
	if (json_object_get(done, digest))
		return 0;
	char path[PATH_MAX], name[96];
	if (bx_blob_path(p, digest, path, sizeof(path), err) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "blob %s is missing from the store; pull or load the image again", digest);
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	struct archive_entry *e;
	if (add_entry(a, name, st.st_size, &e, err) < 0)
		return -1;
	char buf[1 << 16];
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = bx_fail(err, errno, "cannot read %s", path);
		else if (archive_write_data(a, buf, (size_t)n) != n)
			rc = bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(a));
	}
	archive_entry_free(e);
	json_object_set_new(done, digest, json_true());
	return rc;
}

/* One index.json descriptor per name; blobs added to the tar. */
static int add_image(const struct bx_paths *p, struct archive *a, json_t *done, json_t *manifests,
		     const struct bx_image *img, char *const *names, struct bx_err *err)
{
	_cleanup_free_ char *mbuf = NULL;
	size_t mlen;
	if (bx_blob_read(p, img->manifest_digest, BX_MANIFEST_MAX, &mbuf, &mlen, err) < 0)
		return -1;
	json_t *m = json_loadb(mbuf, mlen, 0, NULL);
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	char media[128];
	snprintf(media, sizeof(media), "%s", mt ? mt : "application/vnd.oci.image.manifest.v1+json");
	json_decref(m);
	if (add_blob(p, a, done, img->manifest_digest, err) < 0 || add_blob(p, a, done, img->id, err) < 0)
		return -1;
	for (size_t i = 0; i < img->nlayers; i++)
		if (add_blob(p, a, done, img->layers[i], err) < 0)
			return -1;
	for (char *const *n = names; n && *n; n++) {
		if (strchr(*n, '@'))
			continue; /* a digest reference is no name to load under */
		const char *colon = strrchr(*n, ':'), *slash = strrchr(*n, '/');
		const char *tag = colon && (!slash || colon > slash) ? colon + 1 : "latest";
		json_array_append_new(manifests,
				      json_pack("{s:s,s:s,s:I,s:{s:s,s:s}}", "mediaType", media, "digest",
						img->manifest_digest, "size", (json_int_t)mlen, "annotations",
						"io.containerd.image.name", *n, "org.opencontainers.image.ref.name", tag));
	}
	return 0;
}

static int write_all(const struct bx_paths *p, char *const *refs, size_t n, int fd, struct bx_err *err)
{
	struct archive *a = archive_write_new();
	json_t *done = json_object(), *manifests = json_array();
	int rc = -1;
	if (!a || !done || !manifests) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(a));
		goto out;
	}
	const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (add_buf(a, "oci-layout", layout, strlen(layout), err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct bx_image img;
		if (bx_image_lookup(p, refs[i], &img, err) < 0)
			goto out;
		/* a name saves that name; an image ID saves every name it has */
		char norm[512], *one[2] = {norm, NULL};
		bool by_name = false;
		if (bx_image_ref_normalize(refs[i], norm, sizeof(norm), NULL) == 0)
			for (char **s = img.names; s && *s && !by_name; s++)
				by_name = !strcmp(*s, norm);
		int r = add_image(p, a, done, manifests, &img, by_name ? one : img.names, err);
		bx_image_free(&img);
		if (r < 0)
			goto out;
	}
	json_t *index = json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType",
				  "application/vnd.oci.image.index.v1+json", "manifests", manifests);
	char *s = index ? json_dumps(index, JSON_COMPACT) : NULL;
	json_decref(index);
	if (!s) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	rc = add_buf(a, "index.json", s, strlen(s), err);
	free(s);
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = bx_fail(err, 0, "cannot finish the tar: %s", archive_error_string(a));
out:
	json_decref(done);
	json_decref(manifests);
	if (a)
		archive_write_free(a);
	return rc;
}

int bx_image_save(const struct bx_paths *p, char *const *refs, size_t n, const char *out, struct bx_err *err)
{
	char tmp[PATH_MAX];
	if (bx_path_join(tmp, sizeof(tmp), err, "%s.tmp.XXXXXX", out) < 0)
		return -1;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot create %s", tmp);
	int rc = write_all(p, refs, n, fd, err);
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = bx_fail(err, errno, "cannot write %s", tmp);
	close(fd);
	if (rc == 0 && rename(tmp, out) < 0)
		rc = bx_fail(err, errno, "cannot move %s to %s", tmp, out);
	if (rc < 0)
		unlink(tmp); /* nothing half-written stays */
	return rc;
}
