/* `boxvm load`: import an OCI image-layout tar or a `docker save` tar.
 *
 * A first pass over the archive lists its members without copying anything
 * (archives can be large and their member order is arbitrary). The format
 * reader (image_load_oci.c / image_load_docker.c) then asks for what the
 * image references: metadata is copied as it is read, blobs in one more pass
 * for all of them, each into DATA/blobs/tmp while hashing it and only up to
 * the size its descriptor (or a cap) allows, so a member nothing references
 * (a sparse 1 GiB file, say) is never written. Everything queued is verified;
 * only then, under the index lock, are blobs renamed into the store and names
 * recorded. Any failure removes the temps and any blob this import added, so
 * nothing new is left behind. */
#include "../common/cleanup.h"
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/crashpoint.h"

/* more members than any image archive has: a listing bomb, not an image */
#define MEMBERS_MAX 100000

/* Lexically clean an archive path relative to base ("" = archive root):
 * drops "", ".", leading "/", resolves "..". NULL if it climbs above the root. */
static char *clean_path(const char *base, const char *path)
{
	size_t cap = strlen(base) + strlen(path) + 2;
	_cleanup_free_ char *out = malloc(cap), *in = malloc(cap);
	if (!out || !in)
		return NULL;
	snprintf(in, cap, "%s/%s", path[0] == '/' ? "" : base, path);
	size_t n = 0;
	char *save = NULL;
	for (char *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (n == 0)
				return NULL;
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* the separator */
			continue;
		}
		if (n > 0)
			out[n++] = '/';
		memcpy(out + n, c, strlen(c));
		n += strlen(c);
	}
	out[n] = '\0';
	return BX_TAKE_PTR(out);
}

static struct bx_load_file *add_file(struct bx_load *l, struct bx_err *err)
{
	struct bx_load_file *nf = realloc(l->files, (l->nfiles + 1) * sizeof(*nf));
	if (!nf)
		return bx_fail(err, ENOMEM, "out of memory"), NULL;
	l->files = nf;
	memset(&nf[l->nfiles], 0, sizeof(nf[0]));
	return &nf[l->nfiles++];
}

static int copy_entry(struct bx_load *l, struct archive *a, struct bx_load_file *f, struct bx_err *err)
{
	struct bx_blob_writer w;
	if (bx_blob_writer_open(l->p, &w, err) < 0)
		return -1;
	snprintf(f->tmp, sizeof(f->tmp), "%s", w.tmp); /* recorded first so cleanup sees it */
	static const char zeros[4096];
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	/* sparse members: the holes are zeros in the blob, up to the size that was accepted (hdr_size) */
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		if (off < w.size || off + (long long)len > f->hdr_size) {
			bx_fail(err, 0, "%s: member %s has more data than its header declares; the archive is corrupt",
				l->archive, f->name);
			goto fail;
		}
		while (w.size < off) {
			size_t z = (size_t)(off - w.size) < sizeof(zeros) ? (size_t)(off - w.size) : sizeof(zeros);
			if (bx_blob_writer_write(&w, zeros, z, err) < 0)
				goto fail;
		}
		if (bx_blob_writer_write(&w, buf, len, err) < 0)
			goto fail;
		bx_crash_point("load.blob"); /* a temp blob half-written: the sweep removes it */
	}
	if (r != ARCHIVE_EOF) {
		bx_fail(err, 0, "%s: cannot read member %s: %s", l->archive, f->name, archive_error_string(a));
		goto fail;
	}
	while (w.size < f->hdr_size) { /* a trailing hole */
		size_t z = (size_t)(f->hdr_size - w.size) < sizeof(zeros) ? (size_t)(f->hdr_size - w.size) : sizeof(zeros);
		if (bx_blob_writer_write(&w, zeros, z, err) < 0)
			goto fail;
	}
	if (bx_blob_writer_finish(&w, f->digest, err) < 0)
		goto fail;
	f->size = w.size;
	f->want = false;
	return 0;
fail:
	bx_blob_writer_abort(&w);
	f->tmp[0] = '\0';
	return -1;
}

static struct archive *open_archive(struct bx_load *l, struct bx_err *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return bx_fail(err, ENOMEM, "out of memory"), NULL;
	archive_read_support_filter_all(a); /* `docker save | gzip` is common */
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, l->path, 1 << 16) != ARCHIVE_OK) {
		if (archive_errno(a) == EILSEQ) /* libarchive: no format it knows (ARCHIVE_ERRNO_FILE_FORMAT) */
			bx_fail(err, 0, "%s is not a tar archive; load reads a `docker save` or `boxvm save` tar", l->archive);
		else
			bx_fail(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "cannot open %s", l->archive);
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The listing: names, links and declared sizes; the data is skipped (seeked
 * over in a plain tar file), never written. */
static int scan_archive(struct bx_load *l, struct bx_err *err)
{
	struct archive *a = open_archive(l, err);
	if (!a)
		return -1;
	int rc = -1;
	struct archive_entry *e;
	int r;
	for (long long index = 0; (r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN; index++) {
		mode_t type = archive_entry_filetype(e);
		const char *hl = archive_entry_hardlink(e), *sl = archive_entry_symlink(e);
		if (!hl && type != AE_IFREG && type != AE_IFLNK)
			continue;
		/* kept in memory for every member: a pax header allows a MiB each */
		const char *raw = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
		if (strlen(raw) >= PATH_MAX || (hl && strlen(hl) >= PATH_MAX) || (sl && strlen(sl) >= PATH_MAX)) {
			bx_fail(err, 0, "%s has a member name or link target longer than PATH_MAX; it is not an image archive",
				l->archive);
			goto out;
		}
		_cleanup_free_ char *name = clean_path("", raw);
		if (!name)
			continue; /* a member outside the archive root cannot be one we look up */
		if (l->nfiles >= MEMBERS_MAX) {
			bx_fail(err, 0, "%s has more than %d files; it is not an image archive", l->archive, MEMBERS_MAX);
			goto out;
		}
		struct bx_load_file *f = add_file(l, err);
		if (!f)
			goto out;
		f->index = index;
		f->hdr_size = archive_entry_size(e) > 0 ? archive_entry_size(e) : 0;
		f->name = BX_TAKE_PTR(name);
		if (hl) {
			if (!(f->link = clean_path("", hl)))
				f->link = strdup("/"); /* unresolvable on purpose */
		} else if (type == AE_IFLNK) {
			_cleanup_free_ char *dir = strdup(f->name);
			char *slash = dir ? strrchr(dir, '/') : NULL;
			if (slash)
				*slash = '\0';
			else if (dir)
				dir[0] = '\0';
			f->link = dir && sl ? clean_path(dir, sl) : NULL;
			if (!f->link)
				f->link = strdup("/");
		}
	}
	if (r != ARCHIVE_EOF) {
		bx_fail(err, 0, "%s is not a readable tar archive: %s", l->archive, archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

int bx_load_materialize(struct bx_load *l, struct bx_err *err)
{
	size_t pending = 0;
	for (size_t i = 0; i < l->nfiles; i++)
		pending += l->files[i].want && !l->files[i].tmp[0] && l->files[i].index >= 0;
	if (!pending)
		return 0;
	struct archive *a = open_archive(l, err);
	if (!a)
		return -1;
	int rc = -1, r;
	struct archive_entry *e;
	size_t next = 0; /* listed members are in archive order */
	for (long long index = 0; pending && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN);
	     index++) {
		while (next < l->nfiles && l->files[next].index >= 0 && l->files[next].index < index)
			next++;
		if (next == l->nfiles || l->files[next].index != index)
			continue;
		struct bx_load_file *f = &l->files[next];
		if (!f->want || f->tmp[0] || f->link)
			continue;
		if (archive_entry_size(e) != f->hdr_size) {
			bx_fail(err, 0, "%s changed while it was being loaded", l->archive);
			goto out;
		}
		if (copy_entry(l, a, f, err) < 0)
			goto out;
		pending--;
	}
	if (pending) {
		bx_fail(err, 0, "%s changed while it was being loaded (or is not a readable tar archive: %s)", l->archive,
			archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

struct bx_load_file *bx_load_find(struct bx_load *l, const char *name)
{
	for (int hops = 0; name && hops < 16; hops++) {
		struct bx_load_file *f = NULL;
		for (size_t i = l->nfiles; i-- > 0;) /* a later member replaces an earlier one */
			if (l->files[i].name && !strcmp(l->files[i].name, name)) {
				f = &l->files[i];
				break;
			}
		if (!f || !f->link)
			return f;
		name = f->link;
	}
	return NULL;
}

int bx_load_want(struct bx_load *l, struct bx_load_file *f, long long max, const char *what, struct bx_err *err)
{
	if (f->hdr_size > max)
		return bx_fail(err, 0, "%s: %s (%s) is %lld bytes, more than the %lld accepted", l->archive, f->name, what,
			       f->hdr_size, max);
	if (!f->tmp[0] && f->index >= 0)
		f->want = true;
	return 0;
}

/* A copied file against the digest its referrer claims. */
static int verify(struct bx_load *l, struct bx_load_file *f, struct bx_err *err)
{
	if (f->tmp[0] && f->expect[0] && strcmp(f->digest, f->expect) != 0)
		return bx_fail(err, 0, "blob %s in %s does not match its digest (content is %s); the archive is corrupt",
			       f->expect, l->archive, f->digest);
	return 0;
}

int bx_load_read(struct bx_load *l, struct bx_load_file *f, size_t max, char **out, size_t *len,
		 struct bx_err *err)
{
	if (!f)
		return bx_fail(err, 0, "%s is incomplete: a file it references is missing", l->archive);
	if (f->hdr_size > (long long)max || (f->tmp[0] && f->size > (long long)max))
		return bx_fail(err, 0, "%s: %s is too large (%lld bytes) for image metadata (at most %zu)", l->archive,
			       f->name, f->tmp[0] ? f->size : f->hdr_size, max);
	if (bx_load_want(l, f, (long long)max, "metadata", err) < 0 || bx_load_materialize(l, err) < 0 ||
	    verify(l, f, err) < 0)
		return -1;
	return bx_read_file(f->tmp, out, len, err);
}

int bx_load_queue(struct bx_load *l, struct bx_load_file *f, struct bx_err *err)
{
	/* deduplicated by content: the digest a referrer claims (verified before commit), else the copy's */
	const char *key = f->expect[0] ? f->expect : f->digest;
	for (size_t i = 0; i < l->ncommit; i++) {
		const struct bx_load_file *q = &l->files[l->commit[i]];
		if (q == f || !strcmp(q->expect[0] ? q->expect : q->digest, key))
			return 0;
	}
	size_t *nc = realloc(l->commit, (l->ncommit + 1) * sizeof(*nc));
	if (!nc)
		return bx_fail(err, ENOMEM, "out of memory");
	l->commit = nc;
	nc[l->ncommit++] = (size_t)(f - l->files);
	return 0;
}

int bx_load_need_blob(struct bx_load *l, const char *digest, long long size, long long max, const char *referrer,
		      struct bx_err *err)
{
	char path[128];
	if (!bx_digest_valid(digest))
		return bx_fail(err, 0, "%s: %s references '%s', which is not a sha256 digest", l->archive, referrer,
			       digest);
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	struct bx_load_file *f = bx_load_find(l, path);
	if (!f)
		return bx_fail(err, 0, "%s is incomplete: blob %s (referenced by %s) is missing; save the image again",
			       l->archive, digest, referrer);
	if (size < 0)
		return bx_fail(err, 0, "%s: %s references blob %s without a size; the image is invalid", l->archive,
			       referrer, digest);
	if (size > max)
		return bx_fail(err, 0, "%s: %s says blob %s is %lld bytes, more than the %lld accepted", l->archive,
			       referrer, digest, size, max);
	long long have = f->tmp[0] ? f->size : f->hdr_size;
	if (have != size)
		return bx_fail(err, 0, "blob %s in %s is %lld bytes but %s says %lld; the archive is corrupt", digest,
			       l->archive, have, referrer, size);
	if (f->expect[0] && strcmp(f->expect, digest) != 0)
		return bx_fail(err, 0, "%s: %s and %s are the same file; the archive is corrupt", l->archive, f->expect,
			       digest);
	snprintf(f->expect, sizeof(f->expect), "%s", digest);
	if (bx_load_want(l, f, max, referrer, err) < 0 || verify(l, f, err) < 0)
		return -1;
	return bx_load_queue(l, f, err);
}

int bx_load_add_buf(struct bx_load *l, const char *buf, size_t len, char digest[BX_DIGEST_SIZE],
		    struct bx_err *err)
{
	struct bx_load_file *f = add_file(l, err);
	if (!f)
		return -1;
	struct bx_blob_writer w;
	f->index = -1;
	if (!(f->name = strdup("")))
		return bx_fail(err, ENOMEM, "out of memory");
	if (bx_blob_writer_open(l->p, &w, err) < 0)
		return -1;
	snprintf(f->tmp, sizeof(f->tmp), "%s", w.tmp);
	if (bx_blob_writer_write(&w, buf, len, err) < 0 || bx_blob_writer_finish(&w, f->digest, err) < 0) {
		bx_blob_writer_abort(&w);
		f->tmp[0] = '\0';
		return -1;
	}
	f->size = (long long)len;
	strcpy(digest, f->digest);
	return bx_load_queue(l, f, err);
}

int bx_load_add_name(struct bx_load *l, const char *ref, const char *manifest, struct bx_err *err)
{
	char norm[512];
	if (bx_image_ref_normalize(ref, norm, sizeof(norm), err) < 0)
		return bx_wrap(err, "%s", l->archive);
	if (strchr(norm, '@'))
		return bx_fail(err, 0, "%s: image name %s is a digest reference; a tag is needed", l->archive, ref);
	for (size_t i = 0; i < l->nnames; i++)
		if (!strcmp(l->names[i], norm)) {
			if (strcmp(l->targets[i], manifest) != 0)
				return bx_fail(err, 0, "%s names two different images %s", l->archive, norm);
			return 0;
		}
	size_t n = l->nnames;
	if (bx_strv_push(&l->names, &n, norm, err) < 0)
		return -1;
	n = l->nnames;
	if (bx_strv_push(&l->targets, &n, manifest, err) < 0)
		return -1;
	l->nnames++;
	return 0;
}

/* Rename queued blobs into the store and point the names at their manifests,
 * all under the index lock so a rollback cannot race another load. */
static int commit(struct bx_load *l, struct bx_err *err)
{
	_cleanup_close_ int lock = bx_image_index_lock(l->p, err);
	if (lock < 0)
		return -1;
	_cleanup_free_ bool *created = calloc(l->ncommit + 1, sizeof(*created));
	struct bx_image_index_entry *e = NULL;
	size_t ne = 0, i;
	int rc = -1;
	if (!created)
		return bx_fail(err, ENOMEM, "out of memory");
	for (i = 0; i < l->ncommit; i++) {
		struct bx_load_file *f = &l->files[l->commit[i]];
		if (bx_blob_commit(l->p, f->tmp, f->digest, &created[i], err) < 0)
			goto out;
		f->tmp[0] = '\0'; /* moved (or dropped as a duplicate): no longer ours to unlink */
	}
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/blobs/sha256", l->p->data) == 0) {
		_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			fsync(dfd); /* the renames must be durable before the index points at them */
	}
	if (bx_image_index_read(l->p, &e, &ne, err) < 0)
		goto out;
	for (size_t k = 0; k < l->nnames; k++) {
		size_t j = 0;
		while (j < ne && strcmp(e[j].name, l->names[k]) != 0)
			j++;
		if (j == ne) {
			struct bx_image_index_entry *ng = realloc(e, (ne + 1) * sizeof(*ng));
			if (!ng || !(ng[ne].name = strdup(l->names[k]))) {
				e = ng ? ng : e;
				bx_fail(err, ENOMEM, "out of memory");
				goto out;
			}
			e = ng;
			ne++;
		}
		/* re-loading a name moves it to the new image */
		snprintf(e[j].manifest, sizeof(e[j].manifest), "%s", l->targets[k]);
	}
	if (bx_image_index_write(l->p, e, ne, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		for (size_t k = 0; k < l->ncommit; k++) {
			char path[PATH_MAX];
			if (created[k] && bx_blob_path(l->p, l->files[l->commit[k]].digest, path, sizeof(path), NULL) == 0)
				unlink(path);
		}
	bx_image_index_free(e, ne);
	return rc;
}

static void load_free(struct bx_load *l)
{
	for (size_t i = 0; i < l->nfiles; i++) {
		if (l->files[i].tmp[0])
			unlink(l->files[i].tmp);
		free(l->files[i].name);
		free(l->files[i].link);
	}
	free(l->files);
	free(l->commit);
	bx_strv_free(l->names);
	bx_strv_free(l->targets);
}

/* An empty input is told apart from a malformed one: libarchive says
 * "Unrecognized archive format" for both. */
static int check_not_empty(const struct bx_load *l, struct bx_err *err)
{
	_cleanup_close_ int fd = open(l->path, O_RDONLY | O_CLOEXEC);
	char c;
	ssize_t n;
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", l->archive);
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return bx_fail(err, errno, "cannot read %s", l->archive);
	if (n == 0)
		return bx_fail(err, 0, "%s is empty; load reads a `docker save` or `boxvm save` tar", l->archive);
	return 0;
}

int bx_image_load_tar(const struct bx_paths *p, const char *tar_path, const char *label, char ***names,
		      struct bx_err *err)
{
	struct bx_load l = {.p = p, .path = tar_path, .archive = label ? label : tar_path};
	_cleanup_free_ char *meta = NULL;
	size_t len;
	int rc = -1;
	*names = NULL;
	if (check_not_empty(&l, err) < 0)
		goto out;
	if (scan_archive(&l, err) < 0)
		goto out;
	struct bx_load_file *index = bx_load_find(&l, "index.json");
	struct bx_load_file *dmanifest = bx_load_find(&l, "manifest.json");
	if (!index && !dmanifest) {
		bx_fail(err, 0, "%s is not an image archive: no index.json or manifest.json", l.archive);
		goto out;
	}
	if (index) {
		if (bx_load_read(&l, index, BX_MANIFEST_MAX, &meta, &len, err) < 0)
			goto out;
		int r = bx_load_oci(&l, meta, len, err);
		if (r < 0 || (r > 0 && !dmanifest))
			goto out;
		if (r > 0) { /* only tags in index.json: Docker's manifest.json may name it */
			free(meta);
			meta = NULL;
			l.ncommit = 0;
			for (size_t i = 0; i < l.nfiles; i++)
				l.files[i].want = false;
		}
	}
	if (!l.nnames) {
		if (bx_load_read(&l, dmanifest, BX_MANIFEST_MAX, &meta, &len, err) < 0 ||
		    bx_load_docker(&l, meta, len, err) < 0)
			goto out;
	}
	/* the blobs: copied in one pass, each checked against its digest before anything is stored */
	if (bx_load_materialize(&l, err) < 0)
		goto out;
	for (size_t i = 0; i < l.ncommit; i++)
		if (verify(&l, &l.files[l.commit[i]], err) < 0)
			goto out;
	if (commit(&l, err) < 0)
		goto out;
	*names = l.names;
	l.names = NULL;
	rc = 0;
out:
	load_free(&l);
	return rc;
}
