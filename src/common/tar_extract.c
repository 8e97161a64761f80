/* In-process extraction of a guest-made tar (see tar_extract.h). The host's
 * GNU tar running as root would restore setuid-root files, device nodes and
 * ownership exactly as a hostile guest asks; libarchive's disk writer with
 * its SECURE_* flags and without OWNER/XATTR/ACL/FFLAGS does not. */
#include "tar_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* A guest-chosen name printed on the user's terminal: no control characters. */
static void printable(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (; in && *in && n + 1 < size; in++)
		out[n++] = ((unsigned char)*in < 0x20 || *in == 0x7f) ? '?' : *in;
	out[n] = '\0';
}

/* Names the host can hold: bounded (libarchive would chdir its way down a
 * deeper path). Where a name or a hard-link target may lead is libarchive's
 * SECURE_* check, which covers hard-link targets too. */
static const char *bad_name(const char *name)
{
	if (!name || !*name)
		return "has no name";
	if (strlen(name) >= PATH_MAX)
		return "has a name longer than PATH_MAX";
	for (const char *c = name; *c;) {
		size_t l = strcspn(c, "/");
		if (l > NAME_MAX)
			return "has a name component longer than NAME_MAX";
		c += l;
		c += strspn(c, "/");
	}
	return NULL;
}

static const char *skipped_kind(mode_t type)
{
	switch (type) {
	case AE_IFCHR: return "character device";
	case AE_IFBLK: return "block device";
	case AE_IFIFO: return "FIFO";
	case AE_IFSOCK: return "socket";
	default: return NULL;
	}
}

/* max: bytes the entries may claim, headers included (0: no bound) */
static int extract(struct archive *in, struct archive *out, const char *what, unsigned long long max, bool from_box,
		   struct bx_err *err)
{
	const char *src = from_box ? "the archive from the box" : "the archive"; /* said in the messages */
	struct archive_entry *e;
	int r;
	char shown[256];
	unsigned long long total = 0;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e), *why;
		printable(name, shown, sizeof(shown));
		if ((why = bad_name(name)) || (hl && (why = bad_name(hl))))
			return bx_fail(err, 0, "%s: %s is unsafe: entry '%s' %s; nothing was copied", what,
				       src, shown, why);
		/* a file's declared size (a sparse one's too) and a block per entry: a
		 * small compressed stream cannot fill the disk nor make a billion files */
		la_int64_t size = archive_entry_size(e);
		total += 512 + (size > 0 ? (unsigned long long)size : 0);
		if (max && total > max)
			return bx_fail(err, EFBIG, "%s: the archive unpacks to more than %llu MiB (at '%s')", what, max >> 20,
				       shown);
		const char *kind = hl ? NULL : skipped_kind(archive_entry_filetype(e));
		if (kind) {
			fprintf(stderr, "boxvm: %s: skipping %s '%s': device nodes, FIFOs and sockets are not copied\n",
				what, kind, shown);
			continue;
		}
		/* ownership is the caller's (no ARCHIVE_EXTRACT_OWNER): a setuid/setgid bit would make it root's */
		archive_entry_set_perm(e, archive_entry_perm(e) & ~(mode_t)(S_ISUID | S_ISGID));
		archive_entry_xattr_clear(e);
		archive_entry_acl_clear(e);
		archive_entry_set_fflags(e, 0, 0);
		r = archive_write_header(out, e);
		if (r < ARCHIVE_WARN) {
			char why_shown[256]; /* libarchive's reason may quote the guest's names */
			printable(archive_error_string(out), why_shown, sizeof(why_shown));
			return bx_fail(err, 0, "%s: %s is unsafe or unreadable: entry '%s': %s; nothing was copied", what,
				       src, shown, why_shown);
		}
		if (archive_entry_size(e) > 0 && !hl) {
			const void *buf;
			size_t len;
			la_int64_t off;
			while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
					return bx_fail(err, archive_errno(out) > 0 ? archive_errno(out) : 0,
						       "%s: cannot write '%s'", what, shown);
			if (r != ARCHIVE_EOF)
				return bx_fail(err, 0, "%s: cannot read '%s' from %s: %s", what, shown, src,
					       archive_error_string(in));
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			return bx_fail(err, 0, "%s: cannot finish '%s': %s", what, shown, archive_error_string(out));
	}
	if (r != ARCHIVE_EOF)
		return bx_fail(err, 0, "%s: %s is unreadable: %s", what, src, archive_error_string(in));
	return 0;
}

static int extract_fd(int fd, const char *dest, const char *what, bool compressed, unsigned long long max,
		      struct bx_err *err)
{
	/* libarchive's disk writer works relative to the working directory,
	 * which threads share: the API service unpacks two builds' contexts at
	 * once, and each file must land in its own build's. This thread gets a
	 * working directory of its own (for its life; harmless in a process of
	 * one thread). */
	if (unshare(CLONE_FS) < 0)
		return bx_fail(err, errno, "%s: cannot have a working directory of its own", what);
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return bx_fail(err, errno, "%s: cannot open the working directory", what);
	if (chdir(dest) < 0)
		return bx_fail(err, errno, "%s: cannot enter %s", what, dest);
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	int rc = -1;
	if (!in || !out) {
		bx_fail(err, ENOMEM, "out of memory");
		goto done;
	}
	archive_read_support_format_tar(in);
	if (compressed) /* a build's ADD of a local .tar.gz/.bz2/.xz */
		archive_read_support_filter_all(in);
	/* no bytes at all: the guest failed before its tar started (its own message
	 * says why); nothing to refuse, and cp reports the guest's failure */
	archive_read_support_format_empty(in);
	/* no OWNER, XATTR, ACL, FFLAGS or MAC_METADATA: nothing of that kind is taken from a guest */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SPARSE |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK) {
		bx_fail(err, 0, compressed ? "%s: not a readable archive: %s" : "%s: the box sent no readable archive: %s", what,
			archive_error_string(in));
		goto done;
	}
	rc = extract(in, out, what, max, !compressed, err);
	/* directory modes and times are applied at close; a failed extraction still closes */
	if (archive_write_close(out) < ARCHIVE_WARN && rc == 0)
		rc = bx_fail(err, 0, "%s: cannot finish the copy: %s", what, archive_error_string(out));
done:
	archive_read_free(in);
	archive_write_free(out);
	if (fchdir(cwd) < 0 && rc == 0)
		rc = bx_fail(err, errno, "%s: cannot return to the working directory", what);
	return rc;
}

int bx_tar_extract_fd(int fd, const char *dest, const char *what, struct bx_err *err)
{
	return extract_fd(fd, dest, what, false, 0, err);
}

int bx_archive_extract_fd(int fd, const char *dest, const char *what, struct bx_err *err)
{
	return extract_fd(fd, dest, what, true, 0, err);
}

int bx_archive_extract_fd_max(int fd, const char *dest, const char *what, unsigned long long max, struct bx_err *err)
{
	return extract_fd(fd, dest, what, true, max, err);
}
