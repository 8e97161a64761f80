/* What an exec/pty session inherits from its box, as `docker exec` does: the
 * box's environment (image Env + run's -e) with the exec's own -e on top, and
 * the box's user and working directory unless the exec names its own. */
#ifndef BOXVM_AGENT_EXEC_DEFAULTS_H
#define BOXVM_AGENT_EXEC_DEFAULTS_H

#include "../../common/err.h"
#include "../../proto/spec.h"

/* Rewrite req in place from box (the main process's spec). On failure req is
 * unchanged. */
int bx_exec_apply_box_defaults(struct bx_spec *req, const struct bx_spec *box, struct bx_err *err);

#endif
