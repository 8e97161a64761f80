/* A box's mounts: Docker's -v / --tmpfs flags (parsed purely, unit-tested),
 * resolved on the host into virtiofs shares, and the named-volume store
 * (DATA/volumes/<name>/_data, Docker's layout).
 *
 * Each bind mount or volume is one virtiofs share served by its own
 * virtiofsd (QEMU 7.2's virtiofsd serves exactly one directory per
 * process). A file bind mount shares only that file (the shim's virtiofsd
 * sees a directory holding just a bind of it). :ro holds on the host side
 * too: virtiofsd gets a read-only bind (src/shim/virtiofsd.c). */
#ifndef BOXVM_MOUNTS_H
#define BOXVM_MOUNTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"

#define BX_MAX_SHARES 16

enum bx_mount_kind { BX_MNT_BIND = 1, BX_MNT_VOLUME, BX_MNT_TMPFS };

struct bx_mount_req {
	enum bx_mount_kind kind;
	char source[PATH_MAX]; /* bind: absolute host path; volume: name ("" = anonymous) */
	char target[PATH_MAX]; /* absolute path in the box */
	bool ro;
	bool nocopy;           /* volume: -v ...:nocopy, no copy-up from the image */
	char options[256];     /* tmpfs: "size=64m,mode=1777" */
};

/* What virtiofsd serves for one share (vm.json "shares"). */
struct bx_share {
	char tag[16];          /* "m0", "m1", ... */
	char source[PATH_MAX]; /* host directory */
	char volume[128];      /* named volume it belongs to ("" = bind) */
	bool ro;
	bool file;             /* source is a file: the shim stages it (see above) */
};

/* -v SRC:DST[:ro|rw], -v DST (anonymous volume). Pure. */
int bx_volume_flag_parse(const char *text, struct bx_mount_req *out, struct bx_err *err);
/* --tmpfs DST[:OPTIONS]. Pure. Options limited to size=, mode=, and mount flags
 * (ro, noexec, nosuid, nodev, exec, suid, dev). */
int bx_tmpfs_flag_parse(const char *text, struct bx_mount_req *out, struct bx_err *err);
/* A valid volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's rule). */
bool bx_volume_name_valid(const char *name);
/* Sort mounts so a parent target comes before anything below it; reject a target twice. Pure. */
int bx_mounts_order(struct bx_mount_req *m, size_t n, struct bx_err *err);

#endif
