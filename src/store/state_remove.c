/* Removing a box for good, and waiting for a box's state to change. */
#include "../common/cleanup.h"
#include "../common/clock.h"
#include "../common/crashpoint.h"
#include "../image/rootfs.h"
#include "../vm/cgroup.h"
#include "events.h"
#include "networks.h"
#include "state.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

/* Checked and marked under the record's lock: a start that got there first
 * (its shim now alive) wins, and one that comes after finds "removing" and
 * refuses (reset_for_start, and the shim's own set_starting). */
static int mark_removing(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	if (bx_box_status_live(r->status) && bx_proc_alive(r->shim_pid, r->shim_start_time))
		return bx_fail(err, EBUSY, "box %s was started meanwhile; stop it first or use rm -f",
			       r->name[0] ? r->name : r->id);
	r->status = BX_BOX_REMOVING;
	return 0;
}

/* Order matters for a crash half-way: the record says "removing" first (ps
 * shows it, nothing starts it), the name goes next (a stale name would be
 * taken over anyway), and the directory holding the record goes last. */
int bx_state_remove_locked(const struct bx_paths *p, const struct bx_box_record *r, struct bx_err *err)
{
	/* otherwise best effort: a corrupt record must not make a box unremovable */
	struct bx_err e = {0};
	if (bx_state_update(r->box_dir, mark_removing, NULL, NULL, &e) < 0 && e.errnum == EBUSY) {
		if (err)
			*err = e;
		return -1;
	}
	bx_crash_point("rm.marked");
	bx_name_release(p, r->name, r->id);
	bx_networks_release_box(p, r->id); /* its addresses on named networks */
	bx_crash_point("rm.name_released");
	if (r->run_dir[0] && bx_rm_rf(r->run_dir, err) < 0)
		return -1;
	bx_cgroup_remove_box(r->id); /* its shim removes it; one that was killed could not */
	return bx_box_remove_dir(r->box_dir, err); /* unmounts the overlay rootfs first */
}

int bx_state_start_lock(const char *box_dir, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/start.lock", box_dir) < 0)
		return -1;
	return bx_lock_file(path, LOCK_EX, err);
}

int bx_state_remove(const struct bx_paths *p, const struct bx_box_record *r, struct bx_err *err)
{
	int op = bx_store_op_begin(p->data, err);
	if (op < 0)
		return -1;
	/* a start in flight finishes first: then its shim is recorded, and
	 * mark_removing sees a live box instead of removing it under the shim */
	int lock = bx_state_start_lock(r->box_dir, NULL);
	/* the event's labels are in the box's config.json, gone once it is removed */
	struct bx_event ev;
	bool have_ev = bx_event_box_prepare(r->box_dir, "destroy", NULL, &ev, NULL) == 0;
	int rc = bx_state_remove_locked(p, r, err);
	if (lock >= 0)
		close(lock);
	bx_store_op_end(op);
	if (have_ev) {
		if (rc == 0)
			bx_event_append(p->data, &ev, NULL);
		bx_event_free(&ev);
	}
	return rc;
}

/* inotify on the box directory wakes us on every record replacement (rename
 * into place); the periodic re-check catches a shim that died without
 * writing anything (its liveness is not a file event). */
int bx_state_wait(const char *box_dir, bool (*done)(const struct bx_box_record *r, void *ctx), void *ctx,
		  int timeout_ms, struct bx_box_record *out, struct bx_err *err)
{
	return bx_state_wait_fd(box_dir, done, ctx, timeout_ms, -1, out, err);
}

int bx_state_wait_fd(const char *box_dir, bool (*done)(const struct bx_box_record *r, void *ctx), void *ctx,
		     int timeout_ms, int cancel_fd, struct bx_box_record *out, struct bx_err *err)
{
	_cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd >= 0)
		inotify_add_watch(ifd, box_dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
	long long deadline = timeout_ms >= 0 ? bx_mono_ms() + timeout_ms : -1;
	for (;;) {
		struct bx_box_record r;
		if (bx_state_read(box_dir, &r, err) < 0)
			return -1;
		if (bx_state_reconcile(&r))
			return bx_fail(err, ENOENT, "box %.12s was removed", r.id); /* a dead --rm box */
		if (done(&r, ctx)) {
			if (out)
				*out = r;
			return 1;
		}
		int wait = 500;
		if (deadline >= 0) {
			long long left = deadline - bx_mono_ms();
			if (left <= 0) {
				if (out)
					*out = r;
				return 0;
			}
			if (left < wait)
				wait = (int)left;
		}
		/* (a negative fd is left out by poll) */
		struct pollfd pfd[2] = {{.fd = ifd, .events = POLLIN}, {.fd = cancel_fd, .events = 0}};
		if (poll(pfd, 2, wait) > 0) {
			if (pfd[1].revents)
				return bx_fail(err, ECANCELED, "the wait for box %.12s was given up", r.id);
			char buf[4096];
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		}
	}
}
