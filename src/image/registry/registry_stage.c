/* Staging area for pulls: DATA/blobs/incoming/. See pull.h for the protocol.
 * A blob is hashed as it streams in; a resumed download re-hashes the bytes
 * already on disk first, so the verdict always covers the whole file. */
#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/crashpoint.h"
#include "../image.h"

static int incoming(const struct bx_paths *p, const char *digest, const char *suffix, char *out, size_t size,
		    struct bx_err *err)
{
	if (!bx_digest_valid(digest))
		return bx_fail(err, 0, "invalid digest '%s' (only sha256:<64 hex> is supported)", digest);
	return bx_path_join(out, size, err, "%s/blobs/incoming/%s%s", p->data, digest + 7, suffix);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

struct sink {
	int fd;
	EVP_MD_CTX *md;
	long long size, expect;
	const char *digest, *path;
	const struct bx_pull_opts *o;
	size_t index, count;
	bool hashed_ok;
};

static int sink_write(void *vs, const void *buf, size_t len, struct bx_err *err)
{
	struct sink *s = vs;
	if (!buf) { /* the server restarted from byte 0 */
		if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
			return bx_fail(err, errno, "cannot truncate %s", s->path);
		s->size = 0;
		if (!EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))
			return bx_fail(err, 0, "sha256 init failed");
		return 0;
	}
	if (s->o && s->o->cancelled && s->o->cancelled(s->o->progress_ctx))
		return bx_fail(err, ECANCELED, "the pull of %s was cancelled", s->digest);
	if (s->size + (long long)len > s->expect)
		return bx_fail(err, 0, "blob %s is larger than the %lld bytes its manifest says; the registry's copy is corrupt",
			       s->digest, s->expect);
	if (!EVP_DigestUpdate(s->md, buf, len))
		return bx_fail(err, 0, "sha256 update failed");
	const char *c = buf;
	size_t left = len;
	while (left) {
		ssize_t n = write(s->fd, c, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return bx_fail(err, errno, "cannot write %s", s->path);
		}
		c += n;
		left -= (size_t)n;
	}
	s->size += (long long)len;
	if (s->size >= (1 << 20) && s->size < s->expect)
		bx_crash_point("pull.blob"); /* a MiB of a blob staged: the next pull resumes it */
	if (s->o && s->o->progress) {
		struct bx_pull_event ev = {BX_PULL_LAYER_PROGRESS, s->digest, s->size, s->expect, s->index, s->count};
		s->o->progress(s->o->progress_ctx, &ev);
	}
	return 0;
}

/* Hash the bytes a previous attempt left, so the download can continue after them. */
static int rehash(struct sink *s, struct bx_err *err)
{
	char buf[1 << 16];
	ssize_t n;
	if (lseek(s->fd, 0, SEEK_SET) < 0)
		return bx_fail(err, errno, "cannot read %s", s->path);
	while ((n = read(s->fd, buf, sizeof(buf))) > 0) {
		if (!EVP_DigestUpdate(s->md, buf, (size_t)n))
			return bx_fail(err, 0, "sha256 update failed");
		s->size += n;
	}
	if (n < 0)
		return bx_fail(err, errno, "cannot read %s", s->path);
	return 0;
}

static void hexdigest(EVP_MD_CTX *md, char out[BX_DIGEST_SIZE])
{
	unsigned char h[32];
	unsigned int l = 0;
	EVP_DigestFinal_ex(md, h, &l);
	static const char hx[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hx[h[i] >> 4];
		out[8 + 2 * i] = hx[h[i] & 15];
	}
	out[71] = '\0';
}

static int download(const struct bx_paths *p, struct bx_registry *r, const char *digest, long long size,
		    const struct bx_pull_opts *o, size_t index, size_t count, struct bx_err *err)
{
	char partial[PATH_MAX], done[PATH_MAX];
	if (incoming(p, digest, ".partial", partial, sizeof(partial), err) < 0 ||
	    incoming(p, digest, "", done, sizeof(done), err) < 0)
		return -1;
	struct sink s = {.expect = size, .digest = digest, .path = partial, .o = o, .index = index, .count = count};
	s.fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s.fd < 0)
		return bx_fail(err, errno, "cannot create %s", partial);
	int rc = -1;
	bool bad = false; /* the bytes are wrong, not just incomplete: do not resume from them */
	s.md = EVP_MD_CTX_new();
	if (!s.md || !EVP_DigestInit_ex(s.md, EVP_sha256(), NULL)) {
		bx_fail(err, 0, "sha256 init failed");
		goto out;
	}
	if (rehash(&s, err) < 0)
		goto out;
	if (s.size > size) { /* left by a corrupt earlier attempt */
		if (ftruncate(s.fd, 0) < 0) {
			bx_fail(err, errno, "cannot truncate %s", partial);
			goto out;
		}
		s.size = 0;
		EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
	}
	if (lseek(s.fd, 0, SEEK_END) < 0) {
		bx_fail(err, errno, "cannot seek %s", partial);
		goto out;
	}
	bool resumed;
	if (s.size != size) { /* equal: complete already, just verify */
		if (bx_registry_blob(r, digest, s.size, sink_write, &s, &resumed, err) < 0) {
			bad = strstr(err->msg, "larger than") != NULL;
			goto out;
		}
	}
	char got[BX_DIGEST_SIZE];
	hexdigest(s.md, got);
	if (strcmp(got, digest) != 0 || s.size != size) {
		bad = true;
		if (strcmp(got, digest) != 0)
			bx_fail(err, 0, "blob %s from %s/%s failed verification: its content has digest %s; the registry's copy is corrupt or was tampered with",
				digest, r->ref.domain, r->ref.path, got);
		else
			bx_fail(err, 0, "blob %s from %s/%s is %lld bytes but the manifest says %lld", digest, r->ref.domain,
				r->ref.path, s.size, size);
		goto out;
	}
	if (fsync(s.fd) < 0) {
		bx_fail(err, errno, "cannot sync %s", partial);
		goto out;
	}
	if (rename(partial, done) < 0) {
		bx_fail(err, errno, "cannot rename %s", partial);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(s.md);
	close(s.fd);
	/* wrong bytes must not be resumed from; no bytes at all (a 404, a refused
	 * connection) leave nothing worth keeping */
	if (rc < 0 && (bad || s.size == 0))
		unlink(partial);
	return rc;
}

int bx_stage_blob(const struct bx_paths *p, struct bx_registry *r, const char *digest, long long size,
		  const struct bx_pull_opts *o, size_t index, size_t count, bool *fetched, struct bx_err *err)
{
	char dir[PATH_MAX], lockp[PATH_MAX], store[PATH_MAX], done[PATH_MAX];
	*fetched = false;
	if (bx_path_join(dir, sizeof(dir), err, "%s/blobs/incoming", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    incoming(p, digest, ".lock", lockp, sizeof(lockp), err) < 0 ||
	    incoming(p, digest, "", done, sizeof(done), err) < 0 || bx_blob_path(p, digest, store, sizeof(store), err) < 0)
		return -1;
	if (exists(store))
		return 0;
	/* The lock file is unlinked by its holder when done, so after locking check
	 * that it is still the file at that path; otherwise lock the new one. */
	int lfd;
	for (bool told = false;;) {
		lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lfd < 0)
			return bx_fail(err, errno, "cannot open %s", lockp);
		if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
			if (!told && o && o->progress) {
				struct bx_pull_event ev = {BX_PULL_LAYER_WAITING, digest, 0, size, index, count};
				o->progress(o->progress_ctx, &ev);
				told = true;
			}
			while (flock(lfd, LOCK_EX) < 0 && errno == EINTR)
				;
		}
		struct stat a, b;
		if (fstat(lfd, &a) == 0 && stat(lockp, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			break;
		close(lfd);
	}
	int rc = 0;
	/* whoever held the lock may have finished it (staged, or already committed) */
	if (!exists(store) && !exists(done)) {
		rc = download(p, r, digest, size, o, index, count, err);
		*fetched = rc == 0;
	}
	unlink(lockp); /* still ours: see above */
	close(lfd);
	return rc;
}

int bx_stage_buf(const struct bx_paths *p, const char *buf, size_t len, const char *digest, struct bx_err *err)
{
	char dir[PATH_MAX], done[PATH_MAX], store[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/blobs/incoming", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    incoming(p, digest, "", done, sizeof(done), err) < 0 || bx_blob_path(p, digest, store, sizeof(store), err) < 0)
		return -1;
	if (exists(store) || exists(done))
		return 0;
	/* bx_write_file_atomic goes through its own temp + rename, so a reader never sees half of it */
	return bx_write_file_atomic(done, buf, len, 0600, err);
}

int bx_stage_commit(const struct bx_paths *p, char *const *digests, size_t n, bool *created, struct bx_err *err)
{
	char sdir[PATH_MAX];
	if (bx_path_join(sdir, sizeof(sdir), err, "%s/blobs/sha256", p->data) < 0 || bx_mkdir_p(sdir, 0700, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char store[PATH_MAX], done[PATH_MAX];
		created[i] = false;
		if (bx_blob_path(p, digests[i], store, sizeof(store), err) < 0 ||
		    incoming(p, digests[i], "", done, sizeof(done), err) < 0)
			return -1;
		if (exists(store)) {
			unlink(done); /* a concurrent pull committed it first */
			continue;
		}
		if (chmod(done, 0644) < 0 || rename(done, store) < 0)
			return bx_fail(err, errno, "cannot move blob %s into the store", digests[i]);
		created[i] = true;
	}
	_cleanup_close_ int dfd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd); /* the renames must be durable before the index points at them */
	return 0;
}
