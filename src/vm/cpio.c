/* newc ("070701") cpio writer into a growing memory buffer. Pure: no I/O.
 *
 * The kernel's initramfs unpacker needs every parent directory to exist before
 * a file in it, so bx_cpio_add() emits missing parents itself (it scans the
 * entries already in the buffer; archives here hold a handful of entries). */
#include "kernel.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NEWC_HDR 110

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static int reserve(struct bx_cpio *c, size_t more, struct bx_err *err)
{
	if (c->len + more <= c->cap)
		return 0;
	size_t cap = c->cap ? c->cap : 4096;
	while (cap < c->len + more)
		cap *= 2;
	uint8_t *nb = realloc(c->buf, cap);
	if (!nb)
		return bx_fail(err, ENOMEM, "cpio: out of memory");
	c->buf = nb;
	c->cap = cap;
	return 0;
}

static unsigned hex8(const uint8_t *p)
{
	char tmp[9];
	memcpy(tmp, p, 8);
	tmp[8] = '\0';
	return (unsigned)strtoul(tmp, NULL, 16);
}

/* Is there already an entry with this exact name in the buffer? */
static bool has_entry(const struct bx_cpio *c, const char *name)
{
	size_t off = 0, want = strlen(name) + 1;
	while (off + NEWC_HDR <= c->len) {
		const uint8_t *h = c->buf + off;
		size_t fsize = hex8(h + 6 + 6 * 8), nsize = hex8(h + 6 + 11 * 8);
		if (nsize == want && !memcmp(h + NEWC_HDR, name, want))
			return true;
		off += NEWC_HDR + nsize;
		off += pad4(off);
		off += fsize + pad4(fsize);
	}
	return false;
}

static int add_raw(struct bx_cpio *c, const char *name, unsigned mode, unsigned nlink, const void *data, size_t len,
		   struct bx_err *err)
{
	size_t nsize = strlen(name) + 1;
	if (len > 0xffffffffu)
		return bx_fail(err, EFBIG, "cpio: %s is too large", name);
	size_t total = NEWC_HDR + nsize + pad4(NEWC_HDR + nsize) + len + pad4(len);
	if (reserve(c, total + 1, err) < 0) /* +1: snprintf's NUL */
		return -1;
	char *h = (char *)c->buf + c->len;
	/* ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	 * rdevmajor, rdevminor, namesize, check. mtime 0 keeps archives reproducible. */
	snprintf(h, NEWC_HDR + 1, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++c->ino, mode, 0u,
		 0u, nlink, 0u, (unsigned)len, 0u, 0u, 0u, 0u, (unsigned)nsize, 0u);
	size_t off = c->len + NEWC_HDR;
	memcpy(c->buf + off, name, nsize);
	off += nsize;
	memset(c->buf + off, 0, pad4(off));
	off += pad4(off);
	if (len)
		memcpy(c->buf + off, data, len);
	off += len;
	memset(c->buf + off, 0, pad4(len));
	off += pad4(len);
	c->len = off;
	return 0;
}

int bx_cpio_add(struct bx_cpio *c, const char *name, unsigned mode, const void *data, size_t len, struct bx_err *err)
{
	while (*name == '/')
		name++;
	if (!*name || strlen(name) >= PATH_MAX)
		return bx_fail(err, EINVAL, "cpio: bad entry name");
	if (S_ISDIR(mode) && len)
		return bx_fail(err, EINVAL, "cpio: directory %s with data", name);
	/* parents first */
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", name);
	for (char *s = parent; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (!has_entry(c, parent) && add_raw(c, parent, S_IFDIR | 0755, 2, NULL, 0, err) < 0)
			return -1;
		*s = '/';
	}
	if (S_ISDIR(mode) && has_entry(c, name))
		return 0;
	return add_raw(c, name, mode, S_ISDIR(mode) ? 2 : 1, data, len, err);
}

int bx_cpio_finish(struct bx_cpio *c, struct bx_err *err)
{
	if (add_raw(c, "TRAILER!!!", 0, 1, NULL, 0, err) < 0)
		return -1;
	size_t pad = (512 - (c->len & 511)) & 511;
	if (reserve(c, pad, err) < 0)
		return -1;
	memset(c->buf + c->len, 0, pad);
	c->len += pad;
	return 0;
}

void bx_cpio_free(struct bx_cpio *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->ino = 0;
}
