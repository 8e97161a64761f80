/* A byte stream (a build step's output) as well-formed UTF-8 for a JSON
 * string, as Go's encoder makes it for Docker: every malformed byte becomes
 * U+FFFD, the rest passes as is. A sequence cut by the end of a read is
 * kept for the next one. Pure. */
#ifndef BOXVM_UTF8FIX_H
#define BOXVM_UTF8FIX_H

#include <stdbool.h>
#include <stddef.h>

/* out holds at least 3 * len bytes. Returns the bytes written; *used the
 * bytes of in consumed: all of them when at_end, else all but an
 * incomplete sequence at the end (at most 3 bytes, to be read again). */
size_t bx_utf8_fix(const unsigned char *in, size_t len, bool at_end, char *out, size_t *used);

#endif
