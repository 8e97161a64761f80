/* Docker's rm of one box, for every front end (`boxvm rm`, the Engine
 * API's DELETE /containers/ID): a running box needs force, which kills its
 * VM first and waits for its shim to finish; volumes (and the end of a --rm
 * box) also removes its anonymous volumes. */
#ifndef BOXVM_BOX_REMOVE_H
#define BOXVM_BOX_REMOVE_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../store/state.h"

/* ref: the name the user gave (for messages). */
int bx_box_remove(const struct bx_paths *p, const char *ref, struct bx_box_record *r, bool force, bool volumes,
		  struct bx_err *err);

#endif
