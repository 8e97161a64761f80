/* Tars of guest-written trees and the gzip layer blobs made of them (layer_write.h). */
#include "layer_write.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/cleanup.h"
#include "tree_walk.h"
#include "upper_snap.h"

/* (dev, ino) -> the first path written for a file with more links, so the
 * next ones become hardlink entries; open addressing, grown at half full. */
struct link_slot {
	dev_t dev;
	ino_t ino;
	char *path;
};
struct links {
	struct link_slot *v;
	size_t cap, n;
};

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
	unsigned long long h = (unsigned long long)ino * 0x9E3779B97F4A7C15ULL ^ (unsigned long long)dev;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct link_slot *link_find(struct links *l, dev_t dev, ino_t ino)
{
	for (size_t i = l->cap ? link_hash(dev, ino, l->cap) : 0; l->cap; i = (i + 1) & (l->cap - 1))
		if (!l->v[i].path || (l->v[i].dev == dev && l->v[i].ino == ino))
			return &l->v[i];
	return NULL;
}

static int link_add(struct links *l, dev_t dev, ino_t ino, const char *path, struct bx_err *err)
{
	if (2 * (l->n + 1) > l->cap) {
		struct links g = {.cap = l->cap ? l->cap * 2 : 64};
		if (!(g.v = calloc(g.cap, sizeof(*g.v))))
			return bx_fail(err, ENOMEM, "out of memory");
		for (size_t i = 0; i < l->cap; i++)
			if (l->v[i].path)
				*link_find(&g, l->v[i].dev, l->v[i].ino) = l->v[i];
		g.n = l->n;
		free(l->v);
		*l = g;
	}
	struct link_slot *s = link_find(l, dev, ino);
	if (!(s->path = strdup(path)))
		return bx_fail(err, ENOMEM, "out of memory");
	s->dev = dev;
	s->ino = ino;
	l->n++;
	return 0;
}

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->cap; i++)
		free(l->v[i].path);
	free(l->v);
}

struct tar_job {
	struct archive *a;
	bool upper;
	bx_tar_sink sink;
	void *sink_ctx;
	EVP_MD_CTX *md;
	long long tar_size;
	long long file_bytes, max_bytes;
	struct links links;
	const struct bx_upper_snap *since; /* a build VM's step: only what changed since then */
	struct bx_upper_snap *after;       /* ... and the upper dir as it is now, for the next step */
	struct bx_err sink_err;
	bool sink_failed;
	char buf[65536];
};

static la_ssize_t archive_out(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct tar_job *j = ctx;
	if (!EVP_DigestUpdate(j->md, buf, len)) {
		bx_fail(&j->sink_err, 0, "cannot hash the tar");
		j->sink_failed = true;
		return -1;
	}
	if (j->sink(j->sink_ctx, buf, len, &j->sink_err) < 0) {
		j->sink_failed = true;
		return -1;
	}
	j->tar_size += (long long)len;
	return (la_ssize_t)len;
}

static int archive_fail(struct tar_job *j, const char *path, struct bx_err *err)
{
	if (j->sink_failed) {
		*err = j->sink_err;
		return -1;
	}
	return bx_fail(err, 0, "cannot write /%s into the tar: %s", path, archive_error_string(j->a));
}

/* The allow-listed xattrs of an open file or directory. */
static void add_xattrs(struct archive_entry *ae, int fd)
{
	char names[4096];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;
		char val[4096];
		ssize_t vn;
		if (bx_layer_xattr_allowed(name) && (vn = fgetxattr(fd, name, val, sizeof(val))) >= 0)
			archive_entry_xattr_add_entry(ae, name, val, (size_t)vn);
	}
}

static int write_header(struct tar_job *j, struct archive_entry *ae, const char *path, struct bx_err *err)
{
	if (archive_write_header(j->a, ae) < ARCHIVE_WARN)
		return archive_fail(j, path, err);
	return 0;
}

/* A regular file's bytes: exactly the size its header declared (zeros if it
 * shrank meanwhile, the rest ignored if it grew). */
static int write_body(struct tar_job *j, int fd, long long size, const char *path, struct bx_err *err)
{
	while (size > 0) {
		size_t want = size < (long long)sizeof(j->buf) ? (size_t)size : sizeof(j->buf);
		ssize_t n = read(fd, j->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bx_fail(err, errno, "cannot read /%s", path);
		if (n == 0) {
			memset(j->buf, 0, want);
			n = (ssize_t)want;
		}
		if (archive_write_data(j->a, j->buf, (size_t)n) < 0)
			return archive_fail(j, path, err);
		size -= n;
	}
	return 0;
}

static int entry_base(struct archive_entry *ae, const char *path, const struct stat *st)
{
	archive_entry_set_pathname(ae, path);
	archive_entry_set_uid(ae, st->st_uid);
	archive_entry_set_gid(ae, st->st_gid);
	archive_entry_set_mode(ae, st->st_mode);
	archive_entry_set_mtime(ae, st->st_mtim.tv_sec, 0);
	return 0;
}

/* A build VM's step: the entry as it now is goes into the next snapshot;
 * 1 when it is as the last step left it (nothing to write). *opaque: whether
 * it newly hides what is below (a directory the earlier steps had made stays
 * as they made it). */
static int since_last_step(struct tar_job *j, const struct bx_walk_entry *e, bool *opaque, struct bx_err *err)
{
	bool whiteout = e->kind == BX_WALK_WHITEOUT;
	if (bx_upper_snap_add(j->after, e->path, &e->st, whiteout, e->opaque, err) < 0)
		return -1;
	const struct bx_snap_entry *was = bx_upper_snap_find(j->since, e->path);
	if (was && bx_upper_snap_same(was, &e->st, whiteout, e->opaque))
		return 1;
	*opaque = e->opaque && !(was && was->opaque && was->st.st_ino == e->st.st_ino);
	return 0;
}

static int on_entry(void *ctx, const struct bx_walk_entry *walked, struct bx_err *err)
{
	struct tar_job *j = ctx;
	if (j->upper && (bx_walk_runtime_file(walked->path) || walked->same))
		return 0;
	struct bx_walk_entry step;
	const struct bx_walk_entry *e = walked;
	if (j->after) {
		step = *walked;
		int r = since_last_step(j, walked, &step.opaque, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
		e = &step;
	}
	struct archive_entry *ae = archive_entry_new();
	if (!ae)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = -1;
	if (e->kind == BX_WALK_WHITEOUT) {
		char wh[BX_WALK_MAX_PATH + 8];
		if (bx_whiteout_path(e->path, wh, sizeof(wh)) < 0) {
			bx_fail(err, ENAMETOOLONG, "path /%s is too long for a whiteout", e->path);
			goto out;
		}
		archive_entry_set_pathname(ae, wh);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0);
		archive_entry_set_mtime(ae, e->st.st_mtim.tv_sec, 0);
		rc = write_header(j, ae, e->path, err);
		goto out;
	}
	if (j->upper && !bx_layer_name_plain(e->name)) {
		bx_fail(err, 0, "/%s: a name starting with \".wh.\" would read as a deletion in an image layer; "
				     "rename or remove it first",
			e->path);
		goto out;
	}
	entry_base(ae, e->path, &e->st);
	mode_t type = e->st.st_mode & S_IFMT;
	if (type == S_IFSOCK) {
		rc = 0; /* as Docker: sockets are not archived */
	} else if (type == S_IFLNK) {
		char target[BX_WALK_MAX_PATH + 1];
		ssize_t n = readlinkat(e->dirfd, e->name, target, sizeof(target));
		if (n < 0 || n >= (ssize_t)sizeof(target)) {
			bx_fail(err, n < 0 ? errno : ENAMETOOLONG, "cannot read the symlink /%s", e->path);
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_symlink(ae, target);
		rc = write_header(j, ae, e->path, err);
	} else if (type == S_IFCHR || type == S_IFBLK || type == S_IFIFO) {
		archive_entry_set_rdevmajor(ae, major(e->st.st_rdev));
		archive_entry_set_rdevminor(ae, minor(e->st.st_rdev));
		rc = write_header(j, ae, e->path, err);
	} else if (type == S_IFDIR) {
		_cleanup_close_ int fd = openat(e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			add_xattrs(ae, fd);
		if (write_header(j, ae, e->path, err) < 0)
			goto out;
		rc = 0;
		if (e->opaque) {
			char opq[BX_WALK_MAX_PATH + 16];
			archive_entry_clear(ae);
			if (bx_opaque_path(e->path, opq, sizeof(opq)) < 0) {
				rc = bx_fail(err, ENAMETOOLONG, "path /%s is too long for an opaque marker", e->path);
				goto out;
			}
			archive_entry_set_pathname(ae, opq);
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0);
			archive_entry_set_mtime(ae, e->st.st_mtim.tv_sec, 0);
			rc = write_header(j, ae, e->path, err);
		}
	} else if (type == S_IFREG) {
		if (e->st.st_nlink > 1) {
			struct link_slot *s = link_find(&j->links, e->st.st_dev, e->st.st_ino);
			if (s && s->path) {
				archive_entry_set_hardlink(ae, s->path);
				archive_entry_set_size(ae, 0);
				rc = write_header(j, ae, e->path, err);
				goto out;
			}
		}
		_cleanup_close_ int fd =
			openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != e->st.st_ino ||
		    st.st_dev != e->st.st_dev) {
			bx_fail(err, fd < 0 ? errno : EAGAIN, "cannot open /%s (changed while read?)", e->path);
			goto out;
		}
		if (j->upper && (fgetxattr(fd, "trusted.overlay.metacopy", NULL, 0) >= 0 ||
				 fgetxattr(fd, "user.overlay.metacopy", NULL, 0) >= 0)) {
			bx_fail(err, EXDEV, "/%s is an overlayfs metacopy (its data is in the lower layer); mount overlayfs "
					    "without metacopy",
				e->path);
			goto out;
		}
		if (st.st_size > j->max_bytes - j->file_bytes) {
			bx_fail(err, EFBIG, "the files total more than the layer size limit (BOXVM_MAX_LAYER_SIZE, %lld bytes)",
				j->max_bytes);
			goto out;
		}
		j->file_bytes += st.st_size;
		archive_entry_set_size(ae, st.st_size);
		add_xattrs(ae, fd);
		if (write_header(j, ae, e->path, err) < 0 || write_body(j, fd, st.st_size, e->path, err) < 0)
			goto out;
		if (e->st.st_nlink > 1 && link_add(&j->links, e->st.st_dev, e->st.st_ino, e->path, err) < 0)
			goto out;
		rc = 0;
	} else {
		rc = 0; /* nothing else exists */
	}
out:
	archive_entry_free(ae);
	return rc;
}

static void hex_of(const unsigned char *md, char out[BX_DIGEST_SIZE])
{
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

/* A path an earlier step made and this one removed: its whiteout, after
 * the walk (its parent exists, and nothing of this layer is under it). */
static int on_gone(void *ctx, const struct bx_snap_entry *gone, struct bx_err *err)
{
	struct tar_job *j = ctx;
	char wh[BX_WALK_MAX_PATH + 8];
	if (bx_whiteout_path(gone->path, wh, sizeof(wh)) < 0)
		return bx_fail(err, ENAMETOOLONG, "path /%s is too long for a whiteout", gone->path);
	struct archive_entry *ae = archive_entry_new();
	if (!ae)
		return bx_fail(err, ENOMEM, "out of memory");
	archive_entry_set_pathname(ae, wh);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0);
	archive_entry_set_mtime(ae, gone->st.st_mtim.tv_sec, 0);
	int rc = write_header(j, ae, gone->path, err);
	archive_entry_free(ae);
	return rc;
}

static int tree_tar(int root_fd, bool upper, int copy_of, const struct bx_upper_snap *since,
		    struct bx_upper_snap *after, bx_tar_sink sink, void *ctx, char diff_id[BX_DIGEST_SIZE],
		    long long *tar_size, struct bx_err *err)
{
	_cleanup_free_ struct tar_job *j = calloc(1, sizeof(*j));
	if (!j)
		return bx_fail(err, ENOMEM, "out of memory");
	j->since = since;
	j->after = after;
	j->upper = upper;
	j->sink = sink;
	j->sink_ctx = ctx;
	if (bx_layer_max_size(&j->max_bytes, err) < 0)
		return -1;
	int rc = -1;
	j->md = EVP_MD_CTX_new();
	j->a = archive_write_new();
	if (!j->md || !j->a || !EVP_DigestInit_ex(j->md, EVP_sha256(), NULL)) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	/* PAX only where ustar cannot say it (long names, big ids, xattrs), as Docker's writer */
	if (archive_write_set_format_pax_restricted(j->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(j->a, 1) != ARCHIVE_OK ||
	    archive_write_open(j->a, j, NULL, archive_out, NULL) != ARCHIVE_OK) {
		archive_fail(j, "", err);
		goto out;
	}
	struct bx_walk_opts wo = {.upper = upper && copy_of < 0, .lower_fd = copy_of, .one_fs = true,
				  .compare = copy_of >= 0};
	if (bx_tree_walk(root_fd, &wo, on_entry, j, err) < 0 ||
	    (after && bx_upper_snap_gone(since, after, on_gone, j, err) < 0))
		goto out;
	if (archive_write_close(j->a) != ARCHIVE_OK) {
		archive_fail(j, "", err);
		goto out;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_DigestFinal_ex(j->md, md, &mdlen) || mdlen != 32) {
		bx_fail(err, 0, "cannot hash the tar");
		goto out;
	}
	hex_of(md, diff_id);
	*tar_size = j->tar_size;
	rc = 0;
out:
	if (j->a)
		archive_write_free(j->a);
	EVP_MD_CTX_free(j->md);
	links_free(&j->links);
	return rc;
}

int bx_tree_tar(int root_fd, bool upper, int copy_of, bx_tar_sink sink, void *ctx, char diff_id[BX_DIGEST_SIZE],
		long long *tar_size, struct bx_err *err)
{
	return tree_tar(root_fd, upper, copy_of, NULL, NULL, sink, ctx, diff_id, tar_size, err);
}

/* gzip (no name, no time: reproducible) in front of a blob writer */
struct gz_sink {
	z_stream z;
	struct bx_blob_writer *blob;
	unsigned char out[65536];
};

static int gz_push(struct gz_sink *g, int flush, struct bx_err *err)
{
	int r;
	do {
		g->z.next_out = g->out;
		g->z.avail_out = sizeof(g->out);
		r = deflate(&g->z, flush);
		if (r == Z_STREAM_ERROR)
			return bx_fail(err, 0, "gzip failed");
		size_t have = sizeof(g->out) - g->z.avail_out;
		if (have && bx_blob_writer_write(g->blob, g->out, have, err) < 0)
			return -1;
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
	return 0;
}

static int gz_write(void *ctx, const void *buf, size_t len, struct bx_err *err)
{
	struct gz_sink *g = ctx;
	g->z.next_in = (unsigned char *)buf;
	g->z.avail_in = (uInt)len;
	return gz_push(g, Z_NO_FLUSH, err);
}

static int layer_begin(const struct bx_paths *p, struct bx_new_layer *out, struct gz_sink *g, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	out->blob.fd = -1;
	memset(g, 0, sizeof(*g));
	g->blob = &out->blob;
	if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return bx_fail(err, ENOMEM, "cannot start gzip");
	if (bx_blob_writer_open(p, &out->blob, err) < 0) {
		deflateEnd(&g->z);
		return -1;
	}
	return 0;
}

static int layer_end(struct bx_new_layer *out, struct gz_sink *g, int rc, struct bx_err *err)
{
	if (rc == 0)
		rc = gz_push(g, Z_FINISH, err);
	deflateEnd(&g->z);
	if (rc == 0)
		rc = bx_blob_writer_finish(&out->blob, out->digest, err);
	if (rc < 0)
		bx_blob_writer_abort(&out->blob);
	return rc;
}

int bx_layer_from_tree(const struct bx_paths *p, int root_fd, bool upper, int copy_of, struct bx_new_layer *out,
		       struct bx_err *err)
{
	_cleanup_free_ struct gz_sink *g = malloc(sizeof(*g));
	if (!g)
		return bx_fail(err, ENOMEM, "out of memory");
	if (layer_begin(p, out, g, err) < 0)
		return -1;
	int rc = bx_tree_tar(root_fd, upper, copy_of, gz_write, g, out->diff_id, &out->tar_size, err);
	return layer_end(out, g, rc, err);
}

int bx_layer_from_upper_since(const struct bx_paths *p, int upper_fd, const struct bx_upper_snap *since,
			      struct bx_upper_snap *after, struct bx_new_layer *out, struct bx_err *err)
{
	_cleanup_free_ struct gz_sink *g = malloc(sizeof(*g));
	if (!g)
		return bx_fail(err, ENOMEM, "out of memory");
	if (layer_begin(p, out, g, err) < 0)
		return -1;
	int rc = tree_tar(upper_fd, true, -1, since, after, gz_write, g, out->diff_id, &out->tar_size, err);
	return layer_end(out, g, rc, err);
}

/* Import: the tar is read by libarchive (any compression) and rewritten
 * entry by entry, so what is stored is a plain, checked tar whatever came in. */
struct copy_job {
	EVP_MD_CTX *md;
	struct gz_sink *g;
	long long size;
	struct bx_err err;
	bool failed;
};

static la_ssize_t copy_out(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct copy_job *c = ctx;
	if (!EVP_DigestUpdate(c->md, buf, len) || gz_write(c->g, buf, len, &c->err) < 0) {
		c->failed = true;
		return -1;
	}
	c->size += (long long)len;
	return (la_ssize_t)len;
}

static int copy_tar(int fd, struct copy_job *c, struct bx_err *err)
{
	struct archive *in = archive_read_new(), *out = archive_write_new();
	int rc = -1;
	long long max, total = 0;
	if (bx_layer_max_size(&max, err) < 0)
		goto done;
	if (!in || !out) {
		bx_fail(err, ENOMEM, "out of memory");
		goto done;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_write_set_format_pax_restricted(out);
	archive_write_set_bytes_in_last_block(out, 1);
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		bx_fail(err, 0, "import: not a tar archive: %s", archive_error_string(in));
		goto done;
	}
	if (archive_write_open(out, c, NULL, copy_out, NULL) != ARCHIVE_OK) {
		bx_fail(err, 0, "import: %s", archive_error_string(out));
		goto done;
	}
	struct archive_entry *ae;
	int r;
	char buf[65536];
	while ((r = archive_read_next_header(in, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (archive_write_header(out, ae) < ARCHIVE_WARN)
			goto werr;
		ssize_t n;
		while ((n = archive_read_data(in, buf, sizeof(buf))) > 0) {
			if ((total += n) > max) {
				bx_fail(err, EFBIG, "import: the archive's files total more than BOXVM_MAX_LAYER_SIZE (%lld bytes)",
					max);
				goto done;
			}
			if (archive_write_data(out, buf, (size_t)n) < 0)
				goto werr;
		}
		if (n < 0) {
			bx_fail(err, 0, "import: cannot read the archive: %s", archive_error_string(in));
			goto done;
		}
	}
	if (r != ARCHIVE_EOF) {
		bx_fail(err, 0, "import: cannot read the archive: %s", archive_error_string(in));
		goto done;
	}
	if (archive_write_close(out) != ARCHIVE_OK)
		goto werr;
	rc = 0;
	goto done;
werr:
	if (c->failed)
		*err = c->err;
	else
		bx_fail(err, 0, "import: cannot write the layer: %s", archive_error_string(out));
done:
	if (in)
		archive_read_free(in);
	if (out)
		archive_write_free(out);
	return rc;
}

int bx_layer_from_tar_fd(const struct bx_paths *p, int fd, struct bx_new_layer *out, struct bx_err *err)
{
	_cleanup_free_ struct gz_sink *g = malloc(sizeof(*g));
	if (!g)
		return bx_fail(err, ENOMEM, "out of memory");
	if (layer_begin(p, out, g, err) < 0)
		return -1;
	struct copy_job c = {.md = EVP_MD_CTX_new(), .g = g};
	int rc = -1;
	if (!c.md || !EVP_DigestInit_ex(c.md, EVP_sha256(), NULL))
		bx_fail(err, ENOMEM, "out of memory");
	else if ((rc = copy_tar(fd, &c, err)) == 0) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		if (!EVP_DigestFinal_ex(c.md, md, &mdlen) || mdlen != 32)
			rc = bx_fail(err, 0, "cannot hash the tar");
		else {
			hex_of(md, out->diff_id);
			out->tar_size = c.size;
		}
	}
	EVP_MD_CTX_free(c.md);
	return layer_end(out, g, rc, err);
}
