/* Option strings of helper programs built from paths. virtiofsd splits each
 * -o argument at ',' (libfuse's fuse_opt), so an unescaped path such as
 * "/tmp/a,source=/etc" would add options of its own; a backslash escapes
 * the next character there. */
#ifndef BOXVM_HELPEROPT_H
#define BOXVM_HELPEROPT_H

#include <stddef.h>

#include "err.h"

/* "key=value" into out, with ',' and '\' in value escaped by '\' (fuse_opt's
 * rule). Fails (ENAMETOOLONG) when it does not fit. Pure. */
int bx_fuse_opt(char *out, size_t size, const char *key, const char *value, struct bx_err *err);

#endif
