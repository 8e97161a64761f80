/* `boxvm save`: images as the archive Docker 25 writes, which both `docker
 * load` and OCI tools read:
 *
 *   oci-layout, blobs/sha256/<hex>     the stored manifest, config and layer blobs
 *   index.json    one descriptor per tag (io.containerd.image.name: the full
 *                 name, org.opencontainers.image.ref.name: the tag), one
 *                 without annotations for an image saved untagged
 *   manifest.json Docker's list: [{"Config":"blobs/sha256/<hex>",
 *                 "RepoTags":["busybox:latest"] or null,"Layers":[paths]}]
 *
 * Layers go in as stored. Docker 20.10's `docker load` decompresses gzip
 * layers itself but not zstd ones ("archive/tar: invalid tar header", tried
 * against Docker 20.10.24), so a zstd layer also gets its uncompressed tar
 * (blobs/sha256/<diff_id>, as Docker 25 names its layers), which manifest.json
 * lists instead; the OCI manifest keeps the stored blob. There is no
 * `repositories` file: Docker reads it only from archives without
 * manifest.json.
 *
 * Which images and tags (Docker's rules, moby's tarexport parseNames):
 * "name:tag" saves that tag; a bare "name" every tag of that repository;
 * an image ID or "name@digest" the image without tags. Every reference is
 * resolved before a byte is written, so a missing image writes nothing. */
#include "../common/cleanup.h"
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

#include "ref.h"

/* One image to save and the tags it is saved under (familiar "name:tag", what
 * RepoTags lists; none when it was named by ID or digest only). */
struct save_image {
	struct bx_image img;
	char **tags;
	size_t ntags;
};

struct save_set {
	struct save_image *v;
	size_t n;
};

static void save_set_free(struct save_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		bx_image_free(&s->v[i].img);
		bx_strv_free(s->v[i].tags);
	}
	free(s->v);
}

/* The set's entry for img's manifest; img is moved into a new entry or freed. */
static struct save_image *set_take(struct save_set *s, struct bx_image *img, struct bx_err *err)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].img.manifest_digest, img->manifest_digest)) {
			bx_image_free(img);
			return &s->v[i];
		}
	struct save_image *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv) {
		bx_image_free(img);
		return bx_fail(err, ENOMEM, "out of memory"), NULL;
	}
	s->v = nv;
	memset(&nv[s->n], 0, sizeof(nv[0]));
	nv[s->n].img = *img;
	memset(img, 0, sizeof(*img));
	return &nv[s->n++];
}

static int add_tag(struct save_image *si, const char *tag, struct bx_err *err)
{
	for (size_t i = 0; i < si->ntags; i++)
		if (!strcmp(si->tags[i], tag))
			return 0;
	return bx_strv_push(&si->tags, &si->ntags, tag, err);
}

/* A reference without a tag or digest ("busybox", "localhost:5000/app"). */
static bool bare_name(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	return !strchr(ref, '@') && !strchr(slash ? slash : ref, ':');
}

/* 1: stored name nm is repo:TAG, 2: repo@DIGEST, 0: another repository */
static int name_in_repo(const char *nm, const char *repo)
{
	size_t l = strlen(repo);
	if (strncmp(nm, repo, l) != 0)
		return 0;
	if (nm[l] == ':' && !strchr(nm + l, '/'))
		return 1;
	return nm[l] == '@' ? 2 : 0;
}

/* Every image of a bare name's repository, with its tags; 0 when it has none. */
static int resolve_repo(const struct bx_paths *p, const char *repo, struct save_set *s, struct bx_err *err)
{
	struct bx_image *v;
	size_t n;
	int found = 0;
	if (bx_image_list(p, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && found >= 0; i++) {
		bool any = false;
		for (char **nm = v[i].names; nm && *nm; nm++)
			any = any || name_in_repo(*nm, repo);
		if (!any)
			continue;
		struct save_image *si = set_take(s, &v[i], err);
		if (!si) {
			found = -1;
			break;
		}
		found = 1;
		/* a digest name only selects the image: Docker saves no tag for it */
		for (char **nm = si->img.names; nm && *nm && found > 0; nm++)
			if (name_in_repo(*nm, repo) == 1 && add_tag(si, *nm, err) < 0)
				found = -1;
	}
	for (size_t i = 0; i < n; i++)
		bx_image_free(&v[i]);
	free(v);
	return found;
}

static int resolve(const struct bx_paths *p, const char *ref, struct save_set *s, struct bx_err *err)
{
	char norm[512];
	bool named = bx_image_ref_normalize(ref, norm, sizeof(norm), NULL) == 0 && !strchr(norm, '@');
	if (named && bare_name(ref)) {
		*strrchr(norm, ':') = '\0'; /* the ":latest" normalising added */
		int r = resolve_repo(p, norm, s, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
		named = false; /* no tag in that repository: Docker tries it as an image ID */
	}
	struct bx_image img;
	if (bx_image_lookup(p, ref, &img, err) < 0)
		return -1;
	bool tagged = false; /* else it was found by ID: saved without tags */
	for (char **nm = img.names; named && nm && *nm && !tagged; nm++)
		tagged = !strcmp(*nm, norm);
	struct save_image *si = set_take(s, &img, err);
	if (!si)
		return -1;
	return tagged ? add_tag(si, norm, err) : 0;
}

/* ---- writing the tar ---- */

struct writer {
	const struct bx_paths *p;
	struct archive *a;
	json_t *done; /* digests already in the tar */
};

static int add_header(struct writer *w, const char *name, long long size, struct bx_err *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return bx_fail(err, ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	int r = archive_write_header(w->a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(w->a));
}

static int add_data(void *ctx, const void *buf, size_t len, struct bx_err *err)
{
	struct writer *w = ctx;
	if (archive_write_data(w->a, buf, len) != (la_ssize_t)len)
		return bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(w->a));
	return 0;
}

static int add_buf(struct writer *w, const char *name, const char *buf, size_t len, struct bx_err *err)
{
	return add_header(w, name, (long long)len, err) < 0 ? -1 : add_data(w, buf, len, err);
}

static int add_json(struct writer *w, const char *name, json_t *doc, struct bx_err *err)
{
	_cleanup_free_ char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!s)
		return bx_fail(err, ENOMEM, "out of memory");
	return add_buf(w, name, s, strlen(s), err);
}

static void blob_name(const char *digest, char name[96])
{
	snprintf(name, 96, "blobs/sha256/%s", digest + 7);
}

static int add_blob(struct writer *w, const char *digest, struct bx_err *err)
{
	if (json_object_get(w->done, digest))
		return 0;
	char path[PATH_MAX], name[96];
	if (bx_blob_path(w->p, digest, path, sizeof(path), err) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "blob %s is missing from the store; pull or load the image again", digest);
	blob_name(digest, name);
	if (add_header(w, name, st.st_size, err) < 0)
		return -1;
	char buf[1 << 16];
	ssize_t n;
	long long left = st.st_size;
	while (left > 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bx_fail(err, errno, "cannot read %s", path);
		if (n > left)
			n = (ssize_t)left; /* the header promised st_size bytes */
		if (add_data(w, buf, (size_t)n, err) < 0)
			return -1;
		left -= n;
	}
	if (left > 0)
		return bx_fail(err, 0, "blob %s shrank while it was being saved", digest);
	return json_object_set_new(w->done, digest, json_true()) < 0 ? bx_fail(err, ENOMEM, "out of memory") : 0;
}

/* The layer manifest.json lists: the stored blob, unless Docker 20.10 could not
 * read it (zstd); then its uncompressed tar, added under its diff_id. The tar
 * header needs the size first, so the layer is decompressed twice rather than
 * spooled to disk. */
static int add_docker_layer(struct writer *w, const char *digest, char out[BX_DIGEST_SIZE], struct bx_err *err)
{
	char path[PATH_MAX], name[96], diff[BX_DIGEST_SIZE], again[BX_DIGEST_SIZE];
	long long size, size2;
	snprintf(out, BX_DIGEST_SIZE, "%s", digest);
	if (bx_blob_path(w->p, digest, path, sizeof(path), err) < 0)
		return -1;
	if (bx_blob_compression(path) != BX_COMP_ZSTD)
		return 0;
	if (bx_blob_inflate(path, NULL, NULL, diff, &size, err) < 0)
		return -1;
	snprintf(out, BX_DIGEST_SIZE, "%s", diff);
	if (json_object_get(w->done, diff))
		return 0;
	blob_name(diff, name);
	if (add_header(w, name, size, err) < 0 || bx_blob_inflate(path, add_data, w, again, &size2, err) < 0)
		return -1;
	if (size2 != size || strcmp(again, diff) != 0)
		return bx_fail(err, 0, "layer %s decompressed differently twice; the store is corrupt", digest);
	return json_object_set_new(w->done, diff, json_true()) < 0 ? bx_fail(err, ENOMEM, "out of memory") : 0;
}

/* index.json's descriptor of the manifest for one tag. containerd and Docker
 * 25 write the full name ("docker.io/library/busybox:latest"); load reads
 * either form. */
static json_t *tagged_desc(const json_t *desc, const char *tag, struct bx_err *err)
{
	struct bx_ref r;
	char full[sizeof(r.domain) + sizeof(r.path) + sizeof(r.tag) + 2];
	if (bx_ref_parse(tag, &r, err) < 0)
		return NULL;
	snprintf(full, sizeof(full), "%s/%s:%s", r.domain, r.path, r.tag);
	json_t *d = json_deep_copy(desc);
	if (d && json_object_set_new(d, "annotations",
				     json_pack("{s:s,s:s}", "io.containerd.image.name", full,
					       "org.opencontainers.image.ref.name", r.tag)) == 0)
		return d;
	json_decref(d);
	return bx_fail(err, ENOMEM, "out of memory"), NULL;
}

/* An image's blobs into the tar, its descriptors into index.json's manifests
 * and its entry into manifest.json. */
static int add_image(struct writer *w, const struct save_image *si, json_t *index, json_t *docker,
		     struct bx_err *err)
{
	const struct bx_image *img = &si->img;
	_cleanup_free_ char *mbuf = NULL;
	size_t mlen;
	char name[96];
	if (bx_blob_read(w->p, img->manifest_digest, BX_MANIFEST_MAX, &mbuf, &mlen, err) < 0)
		return -1;
	_cleanup_json_ json_t *m = json_loadb(mbuf, mlen, 0, NULL);
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	_cleanup_json_ json_t *desc = json_pack("{s:s,s:s,s:I}", "mediaType",
						mt ? mt : "application/vnd.oci.image.manifest.v1+json", "digest",
						img->manifest_digest, "size", (json_int_t)mlen);
	_cleanup_json_ json_t *layers = json_array(), *tags = si->ntags ? json_array() : json_null();
	if (!desc || !layers || !tags)
		return bx_fail(err, ENOMEM, "out of memory");
	if (add_blob(w, img->manifest_digest, err) < 0 || add_blob(w, img->id, err) < 0)
		return -1;
	for (size_t i = 0; i < img->nlayers; i++) {
		char dl[BX_DIGEST_SIZE];
		if (add_blob(w, img->layers[i], err) < 0 || add_docker_layer(w, img->layers[i], dl, err) < 0)
			return -1;
		blob_name(dl, name);
		if (json_array_append_new(layers, json_string(name)) < 0)
			return bx_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < si->ntags; i++) {
		json_t *d = tagged_desc(desc, si->tags[i], err);
		if (!d)
			return -1;
		if (json_array_append_new(index, d) < 0 || json_array_append_new(tags, json_string(si->tags[i])) < 0)
			return bx_fail(err, ENOMEM, "out of memory");
	}
	if (!si->ntags && json_array_append(index, desc) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	blob_name(img->id, name);
	if (json_array_append_new(docker, json_pack("{s:s,s:O,s:O}", "Config", name, "RepoTags", tags, "Layers",
						    layers)) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	return 0;
}

static int write_all(const struct bx_paths *p, const struct save_set *s, int fd, struct bx_err *err)
{
	struct writer w = {.p = p, .a = archive_write_new(), .done = json_object()};
	json_t *manifests = json_array(), *docker = json_array(), *index = NULL;
	int rc = -1;
	if (!w.a || !w.done || !manifests || !docker) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	archive_write_set_format_pax_restricted(w.a);
	if (archive_write_open_fd(w.a, fd) != ARCHIVE_OK) {
		bx_fail(err, 0, "cannot write the tar: %s", archive_error_string(w.a));
		goto out;
	}
	const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (add_buf(&w, "oci-layout", layout, strlen(layout), err) < 0)
		goto out;
	for (size_t i = 0; i < s->n; i++)
		if (add_image(&w, &s->v[i], manifests, docker, err) < 0)
			goto out;
	index = json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType", "application/vnd.oci.image.index.v1+json",
			  "manifests", manifests);
	if (add_json(&w, "index.json", index, err) < 0 || add_json(&w, "manifest.json", docker, err) < 0)
		goto out;
	if (archive_write_close(w.a) != ARCHIVE_OK) {
		bx_fail(err, 0, "cannot finish the tar: %s", archive_error_string(w.a));
		goto out;
	}
	rc = 0;
out:
	json_decref(w.done);
	json_decref(manifests);
	json_decref(docker);
	json_decref(index);
	if (w.a)
		archive_write_free(w.a);
	return rc;
}

/* out: a file, replaced atomically (temp beside it, then rename) so a failed
 * save leaves no half-written archive; a device or FIFO (-o /dev/null) is
 * written in place, there being nothing to replace. */
static int write_file(const struct bx_paths *p, const struct save_set *s, const char *out, struct bx_err *err)
{
	struct stat st;
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return bx_fail(err, 0, "cannot write %s: it is a directory", out);
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		_cleanup_close_ int fd = open(out, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return bx_fail(err, errno, "cannot open %s", out);
		return write_all(p, s, fd, err);
	}
	char tmp[PATH_MAX];
	if (bx_path_join(tmp, sizeof(tmp), err, "%s.tmp.XXXXXX", out) < 0)
		return -1;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) /* named by the file asked for: the temp name means nothing to the user */
		return bx_fail(err, errno, "cannot create %s", out);
	int rc = write_all(p, s, fd, err);
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = bx_fail(err, errno, "cannot write %s", tmp);
	if (close(fd) < 0 && rc == 0)
		rc = bx_fail(err, errno, "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, out) < 0)
		rc = bx_fail(err, errno, "cannot move %s to %s", tmp, out);
	if (rc < 0)
		unlink(tmp); /* nothing half-written stays */
	return rc;
}

static int resolve_all(const struct bx_paths *p, char *const *refs, size_t n, struct save_set *s, struct bx_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (resolve(p, refs[i], s, err) < 0)
			return -1;
	return 0;
}

int bx_image_save_check(const struct bx_paths *p, char *const *refs, size_t n, struct bx_err *err)
{
	struct save_set s = {0};
	int rc = resolve_all(p, refs, n, &s, err);
	save_set_free(&s);
	return rc;
}

int bx_image_save_fd(const struct bx_paths *p, char *const *refs, size_t n, int fd, struct bx_err *err)
{
	struct save_set s = {0};
	int rc = resolve_all(p, refs, n, &s, err);
	if (rc == 0)
		rc = write_all(p, &s, fd, err);
	save_set_free(&s);
	return rc;
}

int bx_image_save(const struct bx_paths *p, char *const *refs, size_t n, const char *out, struct bx_err *err)
{
	if (!out)
		return bx_image_save_fd(p, refs, n, STDOUT_FILENO, err);
	struct save_set s = {0};
	int rc = resolve_all(p, refs, n, &s, err);
	if (rc == 0)
		rc = write_file(p, &s, out, err);
	save_set_free(&s);
	return rc;
}
