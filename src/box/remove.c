/* Removing a box, for every front end (remove.h). */
#include "remove.h"

#include <errno.h>

#include "control.h"
#include "../common/cleanup.h"
#include "../store/boxconfig.h"
#include "../store/volumes.h"
#include "../vm/mounts.h"

/* Docker removes a box's anonymous volumes with it for rm -v and for a
 * --rm box; one still used by another box stays (no error, as in Docker). */
static int remove_with_volumes(const struct bx_paths *p, const struct bx_box_record *r, bool volumes,
			       struct bx_err *err)
{
	char names[BX_MAX_SHARES][BX_VOLUME_NAME_MAX];
	int n = volumes || r->auto_remove ? bx_box_anon_volumes(r->box_dir, names, BX_MAX_SHARES) : 0;
	if (bx_state_remove(p, r, err) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		bx_volume_remove(p, names[i], true, NULL);
	return 0;
}

static int remove_once(const struct bx_paths *p, const char *ref, struct bx_box_record *r, bool force, bool volumes,
		       struct bx_err *err)
{
	struct bx_box_record rec = *r;
	if (!bx_box_not_running(&rec, NULL)) {
		if (!force)
			return bx_fail(err, 0, "cannot remove box %s: it is running; stop it first or use rm -f", ref);
		/* no restart after this, then the VM dies (137) */
		if (bx_box_mark_stopped(&rec, err) < 0)
			return -1;
		_cleanup_close_ int shim = bx_proc_pidfd(rec.shim_pid, rec.shim_start_time);
		struct bx_err e2;
		bx_box_kill_vm(&rec, &e2);
		int w = bx_state_wait(rec.box_dir, bx_box_not_running, NULL, 30000, &rec, err);
		if (w == 0)
			return bx_fail(err, 0, "box %s did not stop within 30 s of being killed", ref);
		if (w < 0 && err->errnum != ENOENT)
			return -1;
		/* removed means no process of the box is left: its shim finishes first */
		if (bx_box_wait_shim_gone(shim, ref, err) < 0)
			return -1;
		if (w < 0)
			return 0; /* --rm removed it already */
	}
	return remove_with_volumes(p, &rec, volumes, err);
}

int bx_box_remove(const struct bx_paths *p, const char *ref, struct bx_box_record *r, bool force, bool volumes,
		  struct bx_err *err)
{
	int rc = remove_once(p, ref, r, force, volumes, err);
	/* rm -f of a box another client started meanwhile (bx_state_remove
	 * refuses a live box): it is running now, so stop it as rm -f does */
	if (rc < 0 && force && err->errnum == EBUSY && bx_state_lookup(p, r->id, r, err) == 0)
		rc = remove_once(p, ref, r, force, volumes, err);
	return rc;
}
