/* `boxvm build -`: the build context read from stdin, as Docker's CLI takes
 * it. A tar (gzip, bzip2 or xz compressed, or not: told by its first bytes,
 * bx_archive_sniff) is unpacked into a private directory under
 * DATA/buildtmp with cp's rules (bx_archive_extract_fd_max: no "..", no
 * absolute names, no link out, ownership and setuid bits dropped, at most
 * BX_BUILD_STDIN_MAX bytes); anything else is a Dockerfile alone in an
 * empty context (at most BX_DOCKERFILE_MAX bytes). The caller removes the
 * directory on every path (bx_build_stdin_remove); one left by a build that
 * was killed is removed by the next one (its PID is in its name). */
#ifndef BOXVM_BOX_BUILD_STDIN_H
#define BOXVM_BOX_BUILD_STDIN_H

#include <limits.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"

#define BX_BUILD_STDIN_MAX (8ull << 30) /* bytes a context from stdin may unpack to */

struct bx_build_stdin {
	char dir[PATH_MAX];     /* DATA/buildtmp/stdin-PID-XXXXXX; "": none made */
	char context[PATH_MAX]; /* dir/ctx: the build context */
	bool archive;           /* stdin was a tar (a -f names a file in it); else context/Dockerfile is stdin */
};

/* Reads fd to its end. On failure nothing is left behind. */
int bx_build_stdin_open(const struct bx_paths *p, int fd, struct bx_build_stdin *out, struct bx_err *err);
/* Removes the directory (no-op when none was made). */
void bx_build_stdin_remove(struct bx_build_stdin *s);

#endif
