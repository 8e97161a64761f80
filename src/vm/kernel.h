/* Guest kernel and initramfs. The kernel is Debian's cloud kernel, unpacked by
 * `boxvm kernel prepare` into KERNEL_DIR/<version>/ (boot/vmlinuz-<v>,
 * lib/modules/<v>/ with modules.dep from depmod -b), or boxvm's tailored one,
 * built by `boxvm kernel build` into its own directory in the same layout
 * (boot/vmlinuz-<v>, boot/config-<v>) with everything built in: its config
 * says CONFIG_MODULES is not set, and its initramfs then carries no modules.
 *
 * The initramfs is two concatenated newc cpio archives (the kernel unpacks
 * both): a cached base (the static agent as /init, the modules it needs under
 * /lib/boxvm-modules/NN-name.ko in dependency order) and a tiny per-box segment
 * holding /boxvm/spec (an encoded bx_spec for the main process). */
#ifndef BOXVM_KERNEL_H
#define BOXVM_KERNEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/paths.h"

struct bx_kernel {
	char version[128];
	char vmlinuz[PATH_MAX];
	char moddir[PATH_MAX]; /* .../lib/modules/<version> */
	unsigned tsc_khz_hint; /* 0 unless known */
	unsigned hz;           /* CONFIG_HZ from the kernel's config, 250 if unknown */
	bool builtin;          /* no loadable modules (CONFIG_MODULES off): nothing to load */
	char kind[16];         /* BX_KERNEL_CLOUD or BX_KERNEL_TAILORED (paths.h) */
};

/* Modules the agent loads, by name; dependencies are resolved from modules.dep. */
extern const char *const bx_guest_modules[];

/* Find the newest prepared kernel of the selected kind (p->kernel_kind). Missing:
 * "guest kernel not prepared: run 'boxvm kernel prepare'" (cloud), "tailored
 * guest kernel not built: run 'boxvm kernel build'" (tailored). */
int bx_kernel_find(const struct bx_paths *p, struct bx_kernel *k, struct bx_err *err);
/* Pure: given modules.dep text and wanted module names, return the .ko paths
 * (relative, as in modules.dep) in load order (dependencies first, no repeats). */
int bx_modules_dep_order(const char *modules_dep, const char *const *wanted, char ***ordered, size_t *n,
			 struct bx_err *err);
/* Build (or reuse) the cached base initramfs for this kernel + agent; path into out. */
int bx_initramfs_base(const struct bx_paths *p, const struct bx_kernel *k, const char *agent_path, char *out,
		      size_t out_size, struct bx_err *err);
/* Write base + a segment with /boxvm/spec to out_path. */
int bx_initramfs_box(const char *base_path, const uint8_t *spec, size_t spec_len, const char *out_path,
		     struct bx_err *err);
/* The encoded spec in a box's initramfs at path (malloc'd), which must be
 * base_path's base and that spec: what a warm-pool VM booted from that base
 * is sent when the box claims it (another base: another agent, refused). */
int bx_initramfs_box_spec(const char *base_path, const char *path, uint8_t **spec, size_t *spec_len,
			  struct bx_err *err);
/* A box's initramfs at path with its spec changed by change (e.g. `update`'s
 * limits for the next boot), written anew (temp file and rename). */
struct bx_spec;
int bx_initramfs_box_respec(const char *path, int (*change)(struct bx_spec *s, void *ctx, struct bx_err *err),
			    void *ctx, struct bx_err *err);

/* newc cpio writer into a growing buffer (pure). */
struct bx_cpio {
	uint8_t *buf;
	size_t len, cap;
	unsigned ino;
};
int bx_cpio_add(struct bx_cpio *c, const char *name, unsigned mode, const void *data, size_t len, struct bx_err *err);
int bx_cpio_finish(struct bx_cpio *c, struct bx_err *err); /* TRAILER!!! + pad to 512 */
void bx_cpio_free(struct bx_cpio *c);

/* --- additions (kernel.c) --- */
#include <stdbool.h>

/* Free what bx_modules_dep_order returned. */
void bx_modules_free(char **v, size_t n);
/* Pure: whether a kernel config text enables loadable modules (CONFIG_MODULES=y). */
bool bx_config_modular(const char *config_text);
/* Pure: CONFIG_HZ from a kernel config text (0 if absent). */
unsigned bx_config_hz(const char *config_text);
/* Pure: host TSC estimate in kHz from /proc/cpuinfo text ("cpu MHz"), 0 if absent. */
unsigned bx_cpuinfo_khz(const char *cpuinfo_text);
/* Pure: the guest kernel command line: "console=ttyS0 panic=-1 reboot=t quiet",
 * plus under TCG "tsc_early_khz=K lpj=L" (the cloud kernel hangs calibrating
 * the TSC under TCG without them; needs k->tsc_khz_hint), plus "boxvm.debug=1"
 * when debug. */
int bx_kernel_cmdline(const struct bx_kernel *k, const char *accel, bool debug, char *buf, size_t size,
		      struct bx_err *err);

#endif
