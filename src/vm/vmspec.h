/* Everything the shim needs to run one box, written by the CLI as
 * BOXDIR/vm.json (atomically) and read by `boxvm-shim BOXDIR/vm.json`. */
#ifndef BOXVM_VMSPEC_H
#define BOXVM_VMSPEC_H

#include <limits.h>
#include <stdbool.h>

#include "../common/err.h"
#include "cglimits.h"
#include "mounts.h"
#include "netspec.h"

/* A box's NIC on a named network (docs/ARCHITECTURE.md, "Named networks"):
 * a tap on the network's bridge, opened by the shim in the network's
 * namespace and handed to QEMU. At most BX_MAX_NETS per box: microvm has
 * 24 virtio-mmio slots, and the rootfs, 16 shares, passt, the balloon and
 * the serial port may take 20 of them. */
#define BX_MAX_NETS 4
#define BX_VIRTIO_MMIO_SLOTS 24
/* Spare NICs: a running box cannot be given a new device (microvm has no
 * hotplug), so it boots with up to this many NICs kept down, each backed by
 * a tap parked in QEMU's own network namespace as "spareN"; `network
 * connect` moves one onto the network's bridge and brings it up in the guest
 * (src/box/netlive.c). A spare's MAC in the guest is BX_SPARE_MAC_FMT of N
 * (proto/msg.h); the kernel command line says how many ("boxvm.spares=N"). */
#define BX_SPARE_NICS 2
#define BX_SPARE_NAME_FMT "spare%d"
struct bx_vm_net {
	char id[65];
	char name[128];
	char ip[16];      /* the box's address */
	int prefix;
	char gateway[16]; /* the bridge's address: the network's DNS server */
	char mac[18];
	bool internal;
};

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
	/* the host cgroup's limits of the VM's processes (src/vm/cgroup.h),
	 * applied at each boot; `update` rewrites them (and mem_mb) */
	long long nano_cpus;     /* --cpus as a quota (0: none); cpus is the vCPU count, ceil of it */
	long long cpu_shares;    /* --cpu-shares (0: the default) */
	char cpuset_cpus[BX_CPUSET_TEXT]; /* --cpuset-cpus ("": every CPU) */
	bool auto_remove;        /* --rm: remove box_dir when the box ends */
	bool tty;                /* main runs on a pty (run -t): attach relays a raw terminal */
	bool rootfs_host_edits;  /* others may change the rootfs on the host while the box runs (boxvm-runtime's
				  * bundle root: podman cp, image tools): the guest revalidates its cache */
	bool rootfs_ro;          /* --read-only / OCI root.readonly: virtiofsd serves the rootfs read-only (vmspec_box.c) */
	int boot_timeout_s;      /* backstop only (BOXVM_BOOT_TIMEOUT, default 300) */
	bool hold_main;          /* the guest boots but main waits for the shim's SIGUSR2 (value 2): boxvm-runtime's
	                          * exec into a created container */
	/* network and mounts (vmspec_box.c): passt + one virtiofsd per share, owned by the shim */
	bool network;            /* false: --network none (no NIC) */
	struct bx_port ports[BX_MAX_PORTS];
	int nports;
	bool all_ports;          /* passt forwards every port of the namespace it runs in (boxvm-runtime) */
	struct bx_share shares[BX_MAX_SHARES];
	int nshares;
	struct bx_vm_net nets[BX_MAX_NETS]; /* named networks, in the order they were joined */
	int nnets;
	int net_taps[BX_MAX_NETS]; /* not in vm.json: the shim's tap fds for QEMU (0: none), bx_qemu_fds.taps */
	int net_fd;              /* not in vm.json: the shim's fd for QEMU's end of the passt socketpair (0: none);
				  * QEMU gets it as bx_qemu_fds.net */
	int nspares;             /* not in vm.json: spare NICs this boot (bx_vm_spares), bx_qemu_fds.spares */
};

int bx_vmspec_write(const char *path, const struct bx_vmspec *s, struct bx_err *err);
int bx_vmspec_read(const char *path, struct bx_vmspec *s, struct bx_err *err);
/* How long to wait for a pause before calling it hung: a pause of a guest
 * still booting waits for the boot, which BOXDIR/vm.json's boot_timeout_s
 * backstop bounds, plus a minute for QEMU to answer. */
int bx_vmspec_pause_guard_ms(const char *box_dir);
/* A pause/unpause the shim could not carry out leaves its one-line reason in
 * BOXDIR/pause.err (atomic), so a waiting caller fails at once with it. The
 * caller clears it before asking; take reads and removes it (1: there was
 * one, in msg). */
void bx_pause_error_clear(const char *box_dir);
int bx_pause_error_write(const char *box_dir, const char *msg);
int bx_pause_error_take(const char *box_dir, char *msg, size_t size);
/* vmspec_box.c: the "network", "ports" and "shares" members (json_t *, opaque here). */
int bx_vmspec_box_to_json(void *json_obj, const struct bx_vmspec *s);
int bx_vmspec_box_from_json(void *json_obj, struct bx_vmspec *s, const char *path, struct bx_err *err);

/* The guest's view of its named networks, /boxvm/net in a per-boot
 * initramfs segment the shim appends (src/shim/netns.c): one line
 * "nic MAC ADDR/PREFIX" per network, then "dns GATEWAY" (the first network's
 * responder, which replaces the default nameserver in resolv.conf). Pure;
 * returns the length, or -1 if it does not fit. */
int bx_vm_netconf(const struct bx_vmspec *s, char *out, size_t size);
/* How many spare NICs a boot of s can have: none for --network none, else
 * up to BX_SPARE_NICS, within BX_MAX_NETS and the virtio-mmio slots left. Pure. */
int bx_vm_spares(const struct bx_vmspec *s);

/* virtiofsd's cache option for the box's rootfs: "cache=always" when only
 * the guest changes it, "cache=auto" (1 s revalidation) with rootfs_host_edits. Pure. */
const char *bx_vmspec_rootfs_cache(const struct bx_vmspec *s);

/* "kvm" when /dev/kvm opens read-write AND cpu flags show vmx/svm; else "tcg".
 * BOXVM_ACCEL=kvm|tcg overrides. why: a human sentence. */
int bx_accel_detect(char accel[8], char *why, size_t why_size, struct bx_err *err);
/* The file descriptors QEMU is handed, by their numbers in QEMU's process
 * (the shim lays them out before exec, src/shim/confine.c). QEMU opens no
 * path of boxvm's data or runtime directories itself: every socket, the
 * console and the boot files come as one of these. 0 = not given. */
struct bx_qemu_fds {
	int console;   /* socket: the guest's serial console (the shim reads and caps it) */
	int ctl;       /* socket: the host end of the control port (virtio-serial) */
	int qmp;       /* listening socket: the QMP monitor (the shim connects to RUN/qmp.sock) */
	int vfs;       /* connected vhost-user socket of the rootfs virtiofsd */
	int shares[BX_MAX_SHARES]; /* the same for each share's virtiofsd */
	int net;       /* socket: QEMU's end of the passt socketpair */
	int taps[BX_MAX_NETS]; /* a tap on each named network's bridge */
	int spares[BX_SPARE_NICS]; /* a tap parked in QEMU's own network namespace (vmspec.h, spare NICs) */
	int kernel;    /* read-only fds of the boot files (-kernel /proc/self/fd/N) */
	int initrd;
};
/* QEMU's seccomp filter: no obsolete syscalls, no setuid/setgid, no fork or
 * exec, no scheduler/affinity changes. */
#define BX_QEMU_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
/* Pure: the QEMU argv for this spec and these fds (NULL-terminated, malloc'd strings). */
int bx_qemu_argv(const struct bx_vmspec *s, const struct bx_qemu_fds *fds, char ***argv, struct bx_err *err);
void bx_strv_free(char **v);

#endif
