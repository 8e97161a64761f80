/* Creating a box on disk: its directory, its rootfs from the image, its
 * initramfs and the vm.json its shim reads. Everything is rolled back on
 * failure. */
#ifndef BOXVM_BOX_H
#define BOXVM_BOX_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"
#include "../proto/spec.h"
#include "../vm/vmspec.h"

struct bx_box_opts {
	bool auto_remove;
	int mem_mb;
	int cpus;
	long long nano_cpus; /* --cpus as a quota of the VM's host cgroup (0: none) */
	long long cpu_shares; /* --cpu-shares: its weight (0: the default) */
	char cpuset_cpus[BX_CPUSET_TEXT]; /* --cpuset-cpus, checked against the host ("": every CPU) */
	/* network and shares, copied into vm.json (see netspec.h, mounts.h) */
	bool network;
	const struct bx_port *ports;
	int nports;
	const struct bx_share *shares;
	int nshares;
	const struct bx_vm_net *nets; /* named networks (store/networks.h: addresses already given) */
	int nnets;
};

/* The VM half of every box, whoever makes it (`run`/`create` through
 * bx_box_create, boxvm-runtime's create): the kernel and its command line
 * (boot flags, boxvm.debug when BOXVM_DEBUG is set and not "0", then
 * BOXVM_KERNEL_APPEND), the accelerator, the boot backstop
 * (BOXVM_BOOT_TIMEOUT), the initramfs holding spec at vm->initrd and
 * box_dir/vm.json. The caller has set id, box_dir (existing), run_dir,
 * rootfs and the sizing, network and share fields. */
int bx_box_build_vm(const struct bx_paths *p, const struct bx_spec *spec, struct bx_vmspec *vm, struct bx_err *err);
/* Its machine part alone, shared with the warm pool's VMs (pool.c): kernel,
 * command line, accelerator, helpers, backstop, and the base initramfs's
 * path in base (the box's own initramfs is base + its spec). */
int bx_box_vm_machine(const struct bx_paths *p, struct bx_vmspec *vm, char *base, size_t base_size, struct bx_err *err);

/* Fills *vm (id, dirs, kernel, initrd, cmdline, accel...). On failure nothing is left. */
int bx_box_create(const struct bx_paths *p, const struct bx_image *img, const struct bx_spec *spec,
		  const struct bx_box_opts *opts, const char *id, struct bx_vmspec *vm, struct bx_err *err);
/* Remove a box's directories (used on failures before the shim owns the box). */
void bx_box_destroy(const struct bx_vmspec *vm);

#endif
