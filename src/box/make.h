/* One new box, whichever front end asks (the CLI's `run`/`create`, the
 * Engine API's container create): the process from the image and the
 * options, the network and mounts, the name, the VM on disk and the record,
 * in that order, everything undone on failure. */
#ifndef BOXVM_BOX_MAKE_H
#define BOXVM_BOX_MAKE_H

#include <stdbool.h>

#include "create.h"
#include "healthopts.h"
#include "netmount.h"
#include "resources.h"
#include "register.h"
#include "runconfig.h"
#include "secopts.h"
#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"
#include "../vm/vmspec.h"

struct bx_box_make {
	const struct bx_image *img;
	const char *image_ref;       /* as the user named it (Config.Image) */
	struct bx_run_opts *ro;      /* checked (bx_run_opts_check); hostname is set here */
	struct bx_netmount *nm;      /* checked (bx_netmount_check) */
	struct bx_healthopts *health;
	const struct bx_secopts *sec; /* checked (bx_secopts_check); NULL: Docker's defaults */
	const struct bx_resources *res; /* checked (bx_resources_check); NULL: no limits. A memory limit sizes
	                                 * the VM (bo->mem_mb, resources.h) */
	struct bx_box_lc *lc;        /* the caller frees it (bx_box_lc_free), and ro, nm, health */
	struct bx_box_opts *bo;      /* mem_mb, cpus, auto_remove set; the rest is filled here */
	bx_getenv_fn getenv_fn;      /* resolves a bare -e NAME (the caller's environment) */
	bool hold_output;            /* a client attaches right after start: the shim keeps main's output for it */
	bool start_lock;             /* hold the box's start lock (bx_state_start_lock) from registration on */
	bool idle_main;              /* a build's VM: main waits for its stop signal (BX_T_IDLE), steps are execs */
};

/* Make the box: *vm is what its shim reads (bx_shim_start); *start_lock
 * the held lock when m->start_lock (else -1; the caller closes it). */
int bx_box_make(const struct bx_paths *p, const struct bx_box_make *m, struct bx_vmspec *vm, int *start_lock,
		struct bx_err *err);

#endif
