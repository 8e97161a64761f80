/* Host side of -v/--tmpfs for `run`: check/create the sources, assign share
 * tags, and describe the guest mounts in the box's spec. */
#include "mounts_resolve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/boxid.h"
#include "../proto/spec.h"
#include "../store/volumes.h"
#include "../vm/mounts.h"

static int add_share(struct bx_share *shares, int *nshares, const char *source, const char *volume, bool ro,
		     bool file, struct bx_err *err)
{
	if (*nshares >= BX_MAX_SHARES)
		return bx_fail(err, 0, "too many bind mounts and volumes (at most %d per box)", BX_MAX_SHARES);
	struct bx_share *sh = &shares[*nshares];
	memset(sh, 0, sizeof(*sh));
	snprintf(sh->tag, sizeof(sh->tag), "m%d", *nshares);
	snprintf(sh->volume, sizeof(sh->volume), "%s", volume);
	sh->ro = ro;
	sh->file = file;
	/* the path without symlinks: the shim refuses a source that has become
	 * one since (a guest with a writable share of a parent directory could
	 * otherwise point it elsewhere on the host for the next start) */
	if (!realpath(source, sh->source))
		return bx_fail(err, errno, "invalid mount source %s", source);
	(*nshares)++;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

int bx_mounts_resolve(const struct bx_paths *p, const struct bx_mount_req *m, size_t n, struct bx_share *shares,
		      int *nshares, struct bx_spec *spec, struct bx_err *err)
{
	*nshares = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bx_mount_req *r = &m[i];
		if (r->kind == BX_MNT_TMPFS) {
			if (bx_spec_add_mount(spec, BX_SM_TMPFS, r->ro, "", r->target, r->options, err) < 0)
				return -1;
			continue;
		}
		char source[PATH_MAX], name[80];
		const char *volume = "";
		bool file = false;
		if (r->kind == BX_MNT_VOLUME) {
			if (r->source[0]) {
				snprintf(name, sizeof(name), "%s", r->source);
			} else if (bx_boxid_new(name, err) < 0) { /* anonymous volume: a random 64-hex name */
				return -1;
			}
			if (bx_volume_create(p, name, NULL, source, sizeof(source), err) < 0)
				return -1;
			volume = r->source[0] ? r->source : name;
		} else {
			struct stat st;
			if (stat(r->source, &st) < 0) {
				if (errno != ENOENT)
					return bx_fail(err, errno, "invalid mount source %s", r->source);
				/* Docker's -v creates a missing host directory (and its parents) 0755 */
				if (bx_mkdir_p_parents(r->source, 0755, 0755, err) < 0)
					return bx_wrap(err, "cannot create bind mount source");
			} else if (S_ISREG(st.st_mode)) {
				file = true;
			} else if (!S_ISDIR(st.st_mode)) {
				return bx_fail(err, 0, "invalid mount source %s: only directories and regular files can be "
						       "bind-mounted", r->source);
			}
			snprintf(source, sizeof(source), "%s", r->source);
		}
		if (add_share(shares, nshares, source, volume, r->ro, file, err) < 0)
			return -1;
		const struct bx_share *sh = &shares[*nshares - 1];
		if (bx_spec_add_mount(spec, file ? BX_SM_FILE : BX_SM_DIR, r->ro, sh->tag, r->target,
				      file ? base_name(sh->source) : "", err) < 0)
			return -1;
	}
	return 0;
}
