/* Everything the shim needs to run one box, written by the CLI as
 * BOXDIR/vm.json (atomically) and read by `boxvm-shim BOXDIR/vm.json`. */
#ifndef BOXVM_VMSPEC_H
#define BOXVM_VMSPEC_H

#include <limits.h>
#include <stdbool.h>

#include "err.h"

struct bx_vmspec {
	char id[65];             /* 64 hex */
	char box_dir[PATH_MAX];  /* DATA/boxes/<id>: rootfs/, vm.json, console.log, shim.log */
	char run_dir[PATH_MAX];  /* RUN/<id12>: vfs.sock, ctl.sock, attach.sock, shim.pid */
	char rootfs[PATH_MAX];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char cmdline[1024];      /* kernel command line */
	char accel[8];           /* "kvm" | "tcg" */
	char diag_dir[PATH_MAX]; /* DATA/diagnostics: kept logs of failed boots */
	char libexec[PATH_MAX];
	int mem_mb;
	int cpus;
	bool auto_remove;        /* --rm: remove box_dir when the box ends */
	int boot_timeout_s;      /* backstop only (BOXVM_BOOT_TIMEOUT, default 300) */
};

int bx_vmspec_write(const char *path, const struct bx_vmspec *s, struct bx_err *err);
int bx_vmspec_read(const char *path, struct bx_vmspec *s, struct bx_err *err);

/* "kvm" when /dev/kvm opens read-write AND cpu flags show vmx/svm; else "tcg".
 * BOXVM_ACCEL=kvm|tcg overrides. why: a human sentence. */
int bx_accel_detect(char accel[8], char *why, size_t why_size, struct bx_err *err);
/* Pure: the QEMU argv for this spec (NULL-terminated, malloc'd strings). */
int bx_qemu_argv(const struct bx_vmspec *s, char ***argv, struct bx_err *err);
void bx_strv_free(char **v);

#endif
