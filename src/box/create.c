/* Creating a box on disk (box.h). */
#include "create.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/boxid.h"
#include "../common/debug.h"
#include "../image/rootfs.h"
#include "../vm/kernel.h"

static int boot_timeout_s(void)
{
	const char *v = getenv("BOXVM_BOOT_TIMEOUT");
	int t = v ? atoi(v) : 0;
	return t > 0 ? t : 300;
}

int bx_box_vm_machine(const struct bx_paths *p, struct bx_vmspec *vm, char *base, size_t base_size, struct bx_err *err)
{
	struct bx_kernel k;
	if (bx_kernel_find(p, &k, err) < 0 || bx_accel_detect(vm->accel, NULL, 0, err) < 0)
		return -1;
	if (bx_path_join(vm->diag_dir, sizeof(vm->diag_dir), err, "%s/diagnostics", p->data) < 0 ||
	    bx_path_join(vm->kernel, sizeof(vm->kernel), err, "%s", k.vmlinuz) < 0 ||
	    bx_path_join(vm->libexec, sizeof(vm->libexec), err, "%s", p->libexec) < 0)
		return -1;
	if (bx_kernel_cmdline(&k, vm->accel, bx_debug_enabled(), vm->cmdline, sizeof(vm->cmdline), err) < 0)
		return -1;
	/* BOXVM_KERNEL_APPEND: extra guest kernel parameters (debugging aid) */
	const char *extra = getenv("BOXVM_KERNEL_APPEND");
	if (extra && *extra) {
		size_t used = strlen(vm->cmdline);
		if (snprintf(vm->cmdline + used, sizeof(vm->cmdline) - used, " %s", extra) >= (int)(sizeof(vm->cmdline) - used))
			return bx_fail(err, 0, "BOXVM_KERNEL_APPEND is too long");
	}
	vm->boot_timeout_s = boot_timeout_s();
	char agent[PATH_MAX];
	if (bx_path_join(agent, sizeof(agent), err, "%s/boxvm-agent", p->libexec) < 0)
		return -1;
	return bx_initramfs_base(p, &k, agent, base, base_size, err);
}

int bx_box_build_vm(const struct bx_paths *p, const struct bx_spec *spec, struct bx_vmspec *vm, struct bx_err *err)
{
	char base[PATH_MAX], vmjson[PATH_MAX];
	if (bx_box_vm_machine(p, vm, base, sizeof(base), err) < 0 ||
	    bx_path_join(vm->initrd, sizeof(vm->initrd), err, "%s/initrd.img", vm->box_dir) < 0 ||
	    bx_path_join(vmjson, sizeof(vmjson), err, "%s/vm.json", vm->box_dir) < 0)
		return -1;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	int rc = bx_spec_encode(spec, &enc, &enc_len, err);
	if (rc == 0)
		rc = bx_initramfs_box(base, enc, enc_len, vm->initrd, err);
	free(enc);
	return rc == 0 ? bx_vmspec_write(vmjson, vm, err) : -1;
}

int bx_box_create(const struct bx_paths *p, const struct bx_image *img, const struct bx_spec *spec,
		  const struct bx_box_opts *opts, const char *id, struct bx_vmspec *vm, struct bx_err *err)
{
	memset(vm, 0, sizeof(*vm));
	snprintf(vm->id, sizeof(vm->id), "%s", id);
	if (bx_path_join(vm->box_dir, sizeof(vm->box_dir), err, "%s/boxes/%s", p->data, id) < 0 ||
	    bx_path_join(vm->run_dir, sizeof(vm->run_dir), err, "%s/%.*s", p->run, BX_SHORT_ID_LEN, id) < 0 ||
	    bx_path_join(vm->rootfs, sizeof(vm->rootfs), err, "%s/rootfs", vm->box_dir) < 0)
		return -1;
	vm->mem_mb = opts->mem_mb;
	vm->cpus = opts->cpus;
	vm->nano_cpus = opts->nano_cpus;
	vm->cpu_shares = opts->cpu_shares;
	snprintf(vm->cpuset_cpus, sizeof(vm->cpuset_cpus), "%s", opts->cpuset_cpus);
	vm->auto_remove = opts->auto_remove;
	vm->network = opts->network;
	for (vm->nports = 0; vm->nports < opts->nports && vm->nports < BX_MAX_PORTS; vm->nports++)
		vm->ports[vm->nports] = opts->ports[vm->nports];
	for (vm->nnets = 0; vm->nnets < opts->nnets && vm->nnets < BX_MAX_NETS; vm->nnets++)
		vm->nets[vm->nnets] = opts->nets[vm->nnets];
	for (vm->nshares = 0; vm->nshares < opts->nshares && vm->nshares < BX_MAX_SHARES; vm->nshares++)
		vm->shares[vm->nshares] = opts->shares[vm->nshares];
	vm->tty = spec->tty;
	vm->rootfs_ro = spec->read_only; /* held by virtiofsd too, not only by the guest's mount */

	char boxes[PATH_MAX];
	if (bx_path_join(boxes, sizeof(boxes), err, "%s/boxes", p->data) < 0 || bx_mkdir_p(boxes, 0700, err) < 0)
		return -1;
	if (bx_mkdir_p(vm->box_dir, 0700, err) < 0)
		return -1;
	struct bx_rootfs_info rinfo; /* overlay of the shared rootfs cache (rootfs.h) */
	if (bx_rootfs_prepare(p, img, vm->box_dir, &rinfo, err) < 0 || bx_box_build_vm(p, spec, vm, err) < 0) {
		bx_box_destroy(vm);
		return -1;
	}
	return 0;
}

void bx_box_destroy(const struct bx_vmspec *vm)
{
	if (vm->box_dir[0])
		bx_box_remove_dir(vm->box_dir, NULL); /* unmounts the rootfs first */
	if (vm->run_dir[0])
		bx_rm_rf(vm->run_dir, NULL);
}
