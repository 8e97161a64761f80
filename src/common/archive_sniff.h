/* What a stream's first bytes say it is, as Docker's CLI tells a build
 * context on stdin (a tar, maybe compressed) from a plain Dockerfile. Pure. */
#ifndef BOXVM_ARCHIVE_SNIFF_H
#define BOXVM_ARCHIVE_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

#define BX_SNIFF_HEAD 512 /* bytes to look at: one tar header block */

/* true: gzip, bzip2 or xz magic, or a tar header block whose checksum is
 * right (Docker's build.IsArchive); false: anything else, a short stream or
 * a block of zeros included. */
bool bx_archive_sniff(const unsigned char *head, size_t n);

#endif
