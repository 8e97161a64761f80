/* Docker's --ulimit TYPE=SOFT[:HARD] (HostConfig.Ulimits): resource limits
 * of main and, as in Docker, of every exec (pure; unit-tested). */
#ifndef BOXVM_BOX_ULIMITS_H
#define BOXVM_BOX_ULIMITS_H

#include <jansson.h>

#include "../common/err.h"
#include "../proto/spec.h"

/* Each of ulimits (NULL-terminated, may be NULL) checked with Docker's words
 * and, when spec is not NULL, added to its rlimits (-1: unlimited). */
int bx_ulimits_apply(char **ulimits, struct bx_spec *spec, struct bx_err *err);
/* HostConfig.Ulimits as Docker records them: [{"Name","Hard","Soft"}] sorted
 * by name (the last of a type given twice), null when none. */
json_t *bx_ulimits_json(char **ulimits);

#endif
