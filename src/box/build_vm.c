/* A build stage's shared VM (build_vm.h). */
#include "build_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "make.h"
#include "remove.h"
#include "../client/exec_client.h"
#include "../client/shim_client.h"
#include "../common/cleanup.h"
#include "../image/rootfs.h"

void bx_build_vm_init(struct bx_build_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->upper_fd = -1;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

static int open_upper(struct bx_build_vm *vm, struct bx_err *err)
{
	struct bx_rootfs_info info;
	int r = bx_rootfs_info_read(vm->rec.box_dir, &info, err);
	if (r < 0)
		return -1;
	if (r == 1 || !info.overlay)
		return 0;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/overlay/upper", vm->rec.box_dir) < 0)
		return -1;
	if ((vm->upper_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	return 1;
}

int bx_build_box_make(const struct bx_paths *p, const struct bx_image *img, const char *image_ref,
		      struct bx_run_opts *ro, const struct bx_build_box_opts *o, bool idle, bool hold_output,
		      struct bx_vmspec *vm, int *start_lock, struct bx_err *err)
{
	/* large, and an API service runs builds side by side: never static */
	_cleanup_free_ struct bx_netmount *nm = calloc(1, sizeof(*nm));
	if (!nm)
		return bx_fail(err, ENOMEM, "out of memory");
	nm->network = o ? o->network : NULL;
	size_t nhosts = 0; /* the netmount owns (frees) its lists */
	for (char **h = o ? o->add_hosts : NULL; h && *h; h++)
		if (bx_strv_push(&nm->add_hosts, &nhosts, *h, err) < 0) {
			bx_netmount_free(nm);
			return -1;
		}
	struct bx_healthopts health = {.none = true}; /* a build step is no service to check */
	struct bx_box_lc lc;
	bx_box_lc_init(&lc);
	struct bx_box_opts bo = {.mem_mb = 512, .cpus = 2};
	int rc = -1;
	if (bx_run_opts_check(ro, no_env, err) < 0 || bx_netmount_check(nm, err) < 0 ||
	    bx_healthopts_check(&health, err) < 0 || (o && o->res && bx_resources_check(o->res, bo.cpus, err) < 0))
		goto out;
	const struct bx_box_make make = {.img = img, .image_ref = image_ref, .ro = ro, .nm = nm, .health = &health,
					 .res = o ? o->res : NULL, .lc = &lc, .bo = &bo, .getenv_fn = no_env,
					 .hold_output = hold_output, .start_lock = true, .idle_main = idle};
	rc = bx_box_make(p, &make, vm, start_lock, err);
out:
	bx_box_lc_free(&lc);
	bx_netmount_free(nm);
	return rc;
}

int bx_build_vm_boot(const struct bx_paths *p, const char *image_id, const struct bx_build_box_opts *bo,
		     struct bx_build_vm *vm, struct bx_err *err)
{
	bx_build_vm_init(vm);
	struct bx_image img;
	if (bx_image_lookup(p, image_id, &img, err) < 0)
		return -1;
	char *command[] = {"/bin/sh", NULL}; /* what ps shows: main idles, it runs nothing */
	struct bx_run_opts ro = {.entrypoint = "", .command = command};
	_cleanup_free_ struct bx_vmspec *spec = calloc(1, sizeof(*spec)); /* large */
	int rc = -1, start_lock = -1;
	if (!spec) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (bx_build_box_make(p, &img, image_id, &ro, bo, true, false, spec, &start_lock, err) < 0)
		goto out;
	int started = bx_shim_start(spec, err);
	if (start_lock >= 0)
		close(start_lock);
	struct bx_err e2 = {0};
	if (bx_state_lookup(p, spec->id, &vm->rec, started < 0 ? &e2 : err) < 0) {
		if (started == 0)
			goto out;
	} else {
		vm->up = true; /* from here on, bx_build_vm_end removes it */
	}
	if (started < 0) {
		bx_build_vm_end(p, vm, &e2);
		goto out;
	}
	rc = open_upper(vm, err);
	if (rc <= 0) {
		bx_build_vm_end(p, vm, rc < 0 ? &e2 : err);
		goto out;
	}
	snprintf(vm->image, sizeof(vm->image), "%s", image_id);
out:
	bx_image_free(&img);
	return rc;
}

/* A file a step writes must get a ctime other than the snapshot's; ext4's
 * clock is coarse (a tick), so wait for the tick after the newest one seen. */
static void past_snapshot(const struct bx_upper_snap *s)
{
	struct timespec newest = {0}, now;
	for (size_t i = 0; i < s->n; i++) {
		const struct timespec *t = &s->v[i].st.st_ctim;
		if (t->tv_sec > newest.tv_sec || (t->tv_sec == newest.tv_sec && t->tv_nsec > newest.tv_nsec))
			newest = *t;
	}
	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (now.tv_sec > newest.tv_sec || (now.tv_sec == newest.tv_sec && now.tv_nsec > newest.tv_nsec))
			return;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
}

int bx_build_vm_run(struct bx_build_vm *vm, struct bx_spec *spec, int out_fd, int err_fd, struct bx_err *err)
{
	past_snapshot(&vm->snap);
	spec->build_step = true; /* WORKDIR's directory made, nothing left running after it */
	char what[64];
	snprintf(what, sizeof(what), "build box %.12s", vm->rec.id);
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = out_fd, .err_fd = err_fd, .what = what};
	return bx_exec_run_internal(&vm->rec, spec, &o, err);
}

int bx_build_vm_layer(const struct bx_paths *p, struct bx_build_vm *vm, struct bx_upper_snap *after,
		      struct bx_new_layer *layer, struct bx_err *err)
{
	memset(after, 0, sizeof(*after));
	if (bx_layer_from_upper_since(p, vm->upper_fd, &vm->snap, after, layer, err) < 0) {
		bx_upper_snap_free(after);
		return -1;
	}
	return 0;
}

void bx_build_vm_step_done(struct bx_build_vm *vm, struct bx_upper_snap *after, const char *image_id)
{
	bx_upper_snap_free(&vm->snap);
	vm->snap = *after;
	memset(after, 0, sizeof(*after));
	snprintf(vm->image, sizeof(vm->image), "%s", image_id);
}

int bx_build_vm_end(const struct bx_paths *p, struct bx_build_vm *vm, struct bx_err *err)
{
	int rc = 0;
	if (vm->up) {
		struct bx_box_record rec;
		if (bx_state_lookup(p, vm->rec.id, &rec, err) < 0 || bx_box_remove(p, vm->rec.id, &rec, true, true, err) < 0)
			rc = -1;
	}
	if (vm->upper_fd >= 0)
		close(vm->upper_fd);
	bx_upper_snap_free(&vm->snap);
	bx_build_vm_init(vm);
	return rc;
}
