/* The host side of a box's -v/--tmpfs requests, for every front end that
 * creates boxes (mounts_resolve.c). */
#ifndef BOXVM_BOX_MOUNTS_RESOLVE_H
#define BOXVM_BOX_MOUNTS_RESOLVE_H

#include "../common/err.h"
#include "../common/paths.h"
#include "../vm/mounts.h"

/* Host side of `run`: turn the requests (in mount order) into shares for
 * vm.json (creating missing bind directories and volumes; file bind mounts
 * are staged by the shim) and the guest mount list in the spec. */
struct bx_spec;
int bx_mounts_resolve(const struct bx_paths *p, const struct bx_mount_req *m, size_t n, struct bx_share *shares,
		      int *nshares, struct bx_spec *spec, struct bx_err *err);

#endif
