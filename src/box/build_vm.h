/* A build stage's shared VM: one box of the stage's image boots when the
 * first RUN that misses the cache comes, its main idles (BX_T_IDLE), and
 * every RUN of the stage is an exec in it with the step's command, env,
 * user and working directory. Each step's layer is what its exec changed
 * in the box's overlayfs upper dir since the step before (upper_snap.h),
 * so it is exactly that step's changes, as a fresh box per RUN would give,
 * for a cold boot per stage instead of per RUN. A step that changes the
 * tree from outside (COPY, ADD, VOLUME, a new FROM) ends the VM; the next
 * RUN boots another. */
#ifndef BOXVM_BOX_BUILD_VM_H
#define BOXVM_BOX_BUILD_VM_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/layer_write.h"
#include "../image/upper_snap.h"
#include "../proto/spec.h"
#include "../vm/vmspec.h"
#include "resources.h"
#include "../store/state.h"

/* What every box of a build gets from its flags (docker build's --network,
 * --add-host, -m, --memory-swap, --cpu-shares, --cpuset-cpus). */
struct bx_build_box_opts {
	const char *network;            /* NULL: the default network; "none"; a network of the store */
	char **add_hosts;               /* HOST:IP, NULL-terminated, may be NULL */
	const struct bx_resources *res; /* NULL: no limits */
};

/* A box of img for a build step (the shared VM, or a box per RUN): ro's
 * command, env, user and workdir, no health check; *vm and *start_lock
 * as bx_box_make's (held). idle: main waits (BX_T_IDLE); hold_output: a
 * client attaches at once. Nothing is left on failure. */
struct bx_run_opts;
int bx_build_box_make(const struct bx_paths *p, const struct bx_image *img, const char *image_ref,
		      struct bx_run_opts *ro, const struct bx_build_box_opts *bo, bool idle, bool hold_output,
		      struct bx_vmspec *vm, int *start_lock, struct bx_err *err);

struct bx_build_vm {
	bool up;
	struct bx_box_record rec;
	int upper_fd;
	struct bx_upper_snap snap; /* the upper dir as the last committed step left it */
	char image[BX_DIGEST_SIZE]; /* the image the VM's tree is now */
};

void bx_build_vm_init(struct bx_build_vm *vm);
/* Boot a VM of image_id; 1 when up, 0 when this store's boxes have no
 * overlayfs upper dir to take steps from (BOXVM_NO_OVERLAY: the caller
 * runs a box per step), -1 with err. */
int bx_build_vm_boot(const struct bx_paths *p, const char *image_id, const struct bx_build_box_opts *bo,
		     struct bx_build_vm *vm, struct bx_err *err);
/* Run one step (spec: args, env, cwd, user) with its output on out_fd and
 * err_fd; returns its exit code (126/127 when it could not start), -1. */
int bx_build_vm_run(struct bx_build_vm *vm, struct bx_spec *spec, int out_fd, int err_fd, struct bx_err *err);
/* The layer of what changed since the last step (*layer to commit or
 * abort); the snapshot moves on only when *layer is committed: call
 * bx_build_vm_step_done(vm, &after) then. */
int bx_build_vm_layer(const struct bx_paths *p, struct bx_build_vm *vm, struct bx_upper_snap *after,
		      struct bx_new_layer *layer, struct bx_err *err);
void bx_build_vm_step_done(struct bx_build_vm *vm, struct bx_upper_snap *after, const char *image_id);
/* Remove the VM's box (its volumes too); quiet about a box already gone. */
int bx_build_vm_end(const struct bx_paths *p, struct bx_build_vm *vm, struct bx_err *err);

#endif
