/* Unpack a tar stream that came from a guest (`boxvm cp BOX:SRC DEST`) into a
 * host directory, trusting nothing in it. */
#ifndef BOXVM_TAR_EXTRACT_H
#define BOXVM_TAR_EXTRACT_H

#include "err.h"

/* Extract the tar read from fd into the existing directory dest, as `docker cp`
 * without -a does, with the host's safety first:
 *  - an entry with a ".." component, an absolute path, a path through a
 *    symlink (one the archive made or one already there) or a hard link to
 *    anything outside dest fails the whole extraction (libarchive's
 *    SECURE_NODOTDOT | SECURE_NOABSOLUTEPATHS | SECURE_SYMLINKS, also applied
 *    to hard-link targets);
 *  - files belong to the caller (ownership is never restored), setuid and
 *    setgid bits are dropped, and no xattrs, ACLs or file flags are applied
 *    (no file capabilities, no immutable files);
 *  - device nodes, FIFOs and sockets are skipped with one warning line each on
 *    stderr;
 *  - a name longer than PATH_MAX or with a component over NAME_MAX is refused;
 *    sparse files stay sparse;
 *  - an empty stream (the guest failed before its tar wrote anything) is
 *    success with nothing written, so the caller reports the guest's failure.
 * The working directory is dest while it runs and restored after (libarchive
 * resolves entries against it), so call it from a single-threaded process. */
int bx_tar_extract_fd(int fd, const char *dest, const char *what, struct bx_err *err);

/* The same for a tar in any compression libarchive reads (gzip, bzip2, xz):
 * a build's ADD of a local archive from the context. */
int bx_archive_extract_fd(int fd, const char *dest, const char *what, struct bx_err *err);

/* The same, refused (EFBIG) once the entries claim more than max bytes in
 * all (each file's size plus 512 for every entry): a build context from
 * stdin, whose few compressed bytes could unpack to any size. What was
 * unpacked before is left for the caller to remove. */
int bx_archive_extract_fd_max(int fd, const char *dest, const char *what, unsigned long long max, struct bx_err *err);

#endif
