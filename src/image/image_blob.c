/* Content-addressed blob store: DATA/blobs/sha256/<hex>, written through temp
 * files in DATA/blobs/tmp (same filesystem, so the final rename is atomic) and
 * hashed while streaming so a large layer is never held in memory. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

static void hex_digest(const unsigned char *md, char out[BX_DIGEST_SIZE])
{
	static const char hx[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hx[md[i] >> 4];
		out[8 + 2 * i] = hx[md[i] & 15];
	}
	out[71] = '\0';
}

int bx_sha256_buf(const void *buf, size_t len, char out[BX_DIGEST_SIZE], struct bx_err *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return bx_fail(err, 0, "sha256 failed");
	hex_digest(md, out);
	return 0;
}

int bx_blob_path(const struct bx_paths *p, const char *digest, char *out, size_t size, struct bx_err *err)
{
	if (!bx_digest_valid(digest))
		return bx_fail(err, 0, "invalid digest '%s' (only sha256:<64 hex> is supported)", digest);
	return bx_path_join(out, size, err, "%s/blobs/sha256/%s", p->data, digest + 7);
}

int bx_blob_read(const struct bx_paths *p, const char *digest, size_t max, char **out, size_t *len,
		 struct bx_err *err)
{
	char path[PATH_MAX], got[BX_DIGEST_SIZE];
	struct stat st;
	if (bx_blob_path(p, digest, path, sizeof(path), err) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return bx_fail(err, errno, "blob %s is missing from the store (%s); load the image again", digest,
			       path);
	if ((size_t)st.st_size > max)
		return bx_fail(err, 0, "blob %s is too large (%lld bytes) to be a manifest or config", digest,
			       (long long)st.st_size);
	if (bx_read_file(path, out, len, err) < 0)
		return -1;
	/* small metadata blobs are cheap to re-check, and a corrupt one would mislead everything after */
	if (bx_sha256_buf(*out, *len, got, err) < 0 || strcmp(got, digest) != 0) {
		free(*out);
		*out = NULL;
		return bx_fail(err, 0, "blob %s in the store is corrupt (%s); remove it and load the image again",
			       digest, path);
	}
	return 0;
}

int bx_blob_writer_open(const struct bx_paths *p, struct bx_blob_writer *w, struct bx_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/blobs/tmp", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    bx_path_join(w->tmp, sizeof(w->tmp), err, "%s/blob-XXXXXX", dir) < 0)
		return -1;
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;
		w->tmp[0] = '\0';
		return bx_fail(err, e, "cannot create a temp file in %s", dir);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		bx_blob_writer_abort(w);
		return bx_fail(err, 0, "sha256 init failed");
	}
	w->md = ctx;
	return 0;
}

int bx_blob_writer_write(struct bx_blob_writer *w, const void *buf, size_t len, struct bx_err *err)
{
	if (!EVP_DigestUpdate(w->md, buf, len))
		return bx_fail(err, 0, "sha256 update failed");
	const char *c = buf;
	while (len > 0) {
		ssize_t n = write(w->fd, c, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return bx_fail(err, errno, "cannot write %s", w->tmp);
		}
		c += n;
		len -= (size_t)n;
		w->size += n;
	}
	return 0;
}

int bx_blob_writer_finish(struct bx_blob_writer *w, char digest[BX_DIGEST_SIZE], struct bx_err *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int ok = EVP_DigestFinal_ex(w->md, md, &mdlen);
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
	if (!ok || mdlen != 32)
		return bx_fail(err, 0, "sha256 failed");
	hex_digest(md, digest);
	if (fsync(w->fd) < 0)
		return bx_fail(err, errno, "cannot sync %s", w->tmp);
	int rc = close(w->fd);
	w->fd = -1;
	if (rc < 0)
		return bx_fail(err, errno, "cannot write %s", w->tmp);
	return 0;
}

void bx_blob_writer_abort(struct bx_blob_writer *w)
{
	if (w->md)
		EVP_MD_CTX_free(w->md);
	w->md = NULL;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0])
		unlink(w->tmp);
	w->tmp[0] = '\0';
}

int bx_blob_commit(const struct bx_paths *p, const char *tmp, const char *digest, bool *created,
		   struct bx_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	*created = false;
	if (bx_blob_path(p, digest, path, sizeof(path), err) < 0 ||
	    bx_path_join(dir, sizeof(dir), err, "%s/blobs/sha256", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (access(path, F_OK) == 0) {
		unlink(tmp);
		return 0;
	}
	if (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0)
		return bx_fail(err, errno, "cannot store blob %s as %s", digest, path);
	*created = true;
	return 0;
}

enum bx_comp bx_blob_compression(const char *path)
{
	unsigned char m[4] = {0};
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && read(fd, m, sizeof(m)) < 0)
		m[0] = 0;
	if (m[0] == 0x1f && m[1] == 0x8b)
		return BX_COMP_GZIP;
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return BX_COMP_ZSTD;
	return BX_COMP_NONE;
}

int bx_blob_inflate(const char *path, bx_inflate_sink sink, void *ctx, char digest[BX_DIGEST_SIZE],
		    long long *size, struct bx_err *err)
{
	struct archive *a = archive_read_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct archive_entry *e;
	int rc = -1;
	if (!a || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		bx_fail(err, 0, "cannot decompress %s: %s", path, archive_error_string(a));
		goto out;
	}
	char buf[1 << 16];
	la_ssize_t n;
	long long max, total = 0;
	if (bx_layer_max_size(&max, err) < 0)
		goto out;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if ((total += n) > max) {
			bx_fail(err, 0, "layer %s decompresses to more than %lld bytes; if the image is genuine, raise BOXVM_MAX_LAYER_SIZE",
				path, max);
			goto out;
		}
		if (!EVP_DigestUpdate(md, buf, (size_t)n)) {
			bx_fail(err, 0, "sha256 update failed");
			goto out;
		}
		if (sink && sink(ctx, buf, (size_t)n, err) < 0)
			goto out;
	}
	if (n < 0) {
		bx_fail(err, 0, "cannot decompress %s: %s", path, archive_error_string(a));
		goto out;
	}
	unsigned char d[32];
	unsigned int dl = 0;
	if (!EVP_DigestFinal_ex(md, d, &dl) || dl != 32) {
		bx_fail(err, 0, "sha256 failed");
		goto out;
	}
	hex_digest(d, digest);
	if (size)
		*size = total;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	archive_read_free(a);
	return rc;
}
