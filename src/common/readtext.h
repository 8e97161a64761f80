/* A small text file (/proc, /sys) read whole into a caller's buffer. */
#ifndef BOXVM_READTEXT_H
#define BOXVM_READTEXT_H

#include <stddef.h>

/* At most cap-1 bytes of path into buf, NUL-terminated; "" if it cannot be
 * read. Returns buf. */
const char *bx_read_text(const char *path, char *buf, size_t cap);

#endif
