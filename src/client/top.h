/* `top`: the box's processes from ps run inside its guest (busybox's or the
 * image's own ps), for `boxvm top` and the Engine API's GET /containers/ID/top. */
#ifndef BOXVM_CLIENT_TOP_H
#define BOXVM_CLIENT_TOP_H

#include <stddef.h>

#include "../common/err.h"
#include "../proto/spec.h"

/* spec (initialised) becomes `ps ARGS...` (none: -o pid,ppid,user,stat,args), run as root
 * in / so that every process is visible whatever the box's user is. */
int bx_top_spec(struct bx_spec *spec, char *const *args, size_t n, struct bx_err *err);

#endif
