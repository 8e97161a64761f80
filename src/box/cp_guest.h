/* The box's side of `cp` with a running box, shared by `boxvm cp` and the
 * Engine API's archive endpoints: the guest's own sh and tar, run through
 * an internal exec (no exec events) as root in /. Their streams are the
 * guest's: whoever reads them trusts nothing in them (tar_extract.h). */
#ifndef BOXVM_BOX_CP_GUEST_H
#define BOXVM_BOX_CP_GUEST_H

#include <stdbool.h>

#include "../client/relay.h"
#include "../common/err.h"
#include "../store/state.h"

/* the exit code of the guest's scripts for a path that is not there (or not a directory where one is needed) */
#define BX_CP_GUEST_MISSING 2

/* tar of dir/name (contents: of what the directory dir/name holds, "."
 * entries) to o->out_fd; follow: -h. Returns the guest's exit code
 * (BX_CP_GUEST_MISSING with a line on o->err_fd when there is no such
 * path), or -1 with err. */
int bx_cp_guest_pack(const struct bx_box_record *box, const char *dir, const char *name, bool follow, bool contents,
		     const struct bx_relay_opts *o, struct bx_err *err);

/* Unpack the tar read from o->in_fd at dest: name "" unpacks into the
 * directory dest as is; otherwise the archive holds name (or, for ".", a
 * directory's contents) laid down as dest, through a temp dir beside it.
 * Returns the exit code, or -1 with err. */
int bx_cp_guest_unpack(const struct bx_box_record *box, const char *dest, const char *name,
		       const struct bx_relay_opts *o, struct bx_err *err);

/* lstat of path in the guest, as Docker's container path stat: the size,
 * mode (st_mode), mtime and a symlink's target. 1 found, 0 not there, -1 err. */
struct bx_cp_stat {
	long long size, mtime_s;
	unsigned mode;
	char link[4096];
};
int bx_cp_guest_stat(const struct bx_box_record *box, const char *path, struct bx_cp_stat *st, struct bx_err *err);

/* A file for a guest's short answer (a stat, an error line): memory of
 * BX_CP_GUEST_CAPTURE_MAX bytes, NUL-filled, that cannot grow (a longer
 * answer fails to write). -1 with errno. */
#define BX_CP_GUEST_CAPTURE_MAX 65536
int bx_cp_guest_capture(const char *name);
/* The first line of what the guest wrote there, made safe to show (safetext.h). */
void bx_cp_guest_said(int fd, char *out, size_t size);

#endif
