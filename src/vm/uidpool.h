/* Dynamic user ids for the boxes' QEMU processes: each running box's QEMU
 * gets a uid (and a gid of the same number) of its own, so a compromised
 * QEMU owns no file and cannot signal or ptrace another box's QEMU.
 *
 * The range, 2063597568-2063663103 (0x7B000000 + 65536), lies in what
 * systemd documents as unused (0x70000000-0x7FFEFFFF: above the nspawn
 * container ranges, below the sign bit); ids that the passwd or group
 * database names are skipped. A uid is leased by holding an exclusive
 * flock on LOCK_DIR/<uid> for the box's life (the shim keeps the fd), so
 * concurrent boxes never share one, and a killed shim frees its uid with its
 * last fd: nothing stale to clean up. The lock directory is host-wide
 * (/run/boxvm-uids, not the runtime dir: two boxvm installs with different
 * BOXVM_RUNTIME_DIRs still share the uid range). */
#ifndef BOXVM_UIDPOOL_H
#define BOXVM_UIDPOOL_H

#include <sys/types.h>

#include "../common/err.h"

#define BX_QEMU_UID_BASE 2063597568u /* 0x7B000000 */
#define BX_QEMU_UID_COUNT 65536u
#define BX_UID_LOCK_DIR "/run/boxvm-uids"

struct bx_uid_lease {
	uid_t uid;
	int lock_fd; /* -1: none held */
};

/* Lease the lowest free id in [base, base + count). */
int bx_uid_lease_take(const char *lock_dir, uid_t base, unsigned count, struct bx_uid_lease *l, struct bx_err *err);
void bx_uid_lease_release(struct bx_uid_lease *l);

/* Pure: the supplementary group that lets QEMU's user open a /dev/kvm of
 * this mode and group read-write: 1 with *group set, 0 when everyone may,
 * -1 when only root may (never hand QEMU group root). */
int bx_kvm_group(mode_t mode, gid_t owner_gid, gid_t *group);

#endif
