/* A log file with a size ceiling, for a guest's console and QEMU's stderr (capfile.h). */
#include "capfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int bx_capfile_open(struct bx_capfile *f, const char *path, off_t cap, struct bx_err *err)
{
	f->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0)
		return bx_fail(err, errno, "cannot create %s", path);
	fchmod(f->fd, 0600); /* an older file of the box may have had another mode */
	f->size = 0;
	f->cap = cap < 2 ? 2 : cap;
	return 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, off_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Move the n bytes at from down to offset 0 (from > 0: a forward copy never
 * overwrites what it has still to read). */
static int move_to_front(int fd, off_t from, off_t n)
{
	uint8_t buf[65536];
	for (off_t done = 0; done < n;) {
		size_t want = (size_t)(n - done) < sizeof(buf) ? (size_t)(n - done) : sizeof(buf);
		ssize_t r = pread(fd, buf, want, from + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || pwrite_all(fd, buf, (size_t)r, done) < 0)
			return -1;
		done += r;
	}
	return 0;
}

int bx_capfile_write(struct bx_capfile *f, const void *buf, size_t len, struct bx_err *err)
{
	if (f->fd < 0)
		return 0;
	const uint8_t *p = buf;
	if (f->size + (off_t)len <= f->cap) {
		if (pwrite_all(f->fd, p, len, f->size) < 0)
			return bx_fail(err, errno, "cannot write a capped log");
		f->size += (off_t)len;
		return 0;
	}
	off_t keep = f->cap / 2;
	off_t new_keep = (off_t)len < keep ? (off_t)len : keep;
	off_t old_keep = f->size < keep - new_keep ? f->size : keep - new_keep;
	if (move_to_front(f->fd, f->size - old_keep, old_keep) < 0 ||
	    pwrite_all(f->fd, p + len - (size_t)new_keep, (size_t)new_keep, old_keep) < 0 ||
	    ftruncate(f->fd, old_keep + new_keep) < 0)
		return bx_fail(err, errno, "cannot cut a capped log");
	f->size = old_keep + new_keep;
	return 0;
}

void bx_capfile_close(struct bx_capfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int bx_read_tail(const char *path, size_t max, char **out, size_t *len, struct bx_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "cannot read %s", path);
	off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	size_t want = (size_t)(st.st_size - from);
	_cleanup_free_ char *text = malloc(want + 1);
	if (!text)
		return bx_fail(err, ENOMEM, "out of memory");
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(fd, text + got, want - got, from + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bx_fail(err, errno, "cannot read %s", path);
		if (r == 0)
			break; /* the file shrank meanwhile */
		got += (size_t)r;
	}
	text[got] = '\0';
	*out = BX_TAKE_PTR(text);
	if (len)
		*len = got;
	return 0;
}
