/* Renaming a box and restarting one: the work of `boxvm rename` / `boxvm
 * restart` and of the Engine API's rename and restart, in one place. */
#ifndef BOXVM_BOX_RENAME_H
#define BOXVM_BOX_RENAME_H

#include "../common/err.h"
#include "../common/paths.h"
#include "../store/state.h"

/* rec (as looked up) gets the name to: reserved first (atomically; taken:
 * EEXIST), then the record changes, then the old name is released; a
 * failure undoes the reservation. A crash between the steps leaves a name
 * the sweep releases (src/store/state_sweep.c). to is checked (bad: EINVAL);
 * the name it has already: EINVAL. */
int bx_box_rename(const struct bx_paths *p, struct bx_box_record *rec, const char *to, struct bx_err *err);

/* Docker's restart: stop (sig 0 / timeout_s -1: the box's own stop signal
 * and timeout), then start again, and the restart event. */
int bx_box_restart(const struct bx_paths *p, struct bx_box_record *rec, int sig, int timeout_s, struct bx_err *err);

#endif
