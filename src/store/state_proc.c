/* Is a box's shim still alive? A pid alone proves nothing after a reboot or
 * pid reuse, so a record carries the shim's pid AND its start time (field 22
 * of /proc/PID/stat); a box whose shim is gone is reconciled to exited. */
#include "../common/cleanup.h"
#include "../common/clock.h"
#include "events.h"
#include "keptlog.h"
#include "state.h"
#include "vmproc.h"

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bx_proc_start_time(int pid, unsigned long long *out, struct bx_err *err)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	if (pid <= 0)
		return bx_fail(err, ESRCH, "no process %d", pid);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (bx_read_file(path, &text, NULL, err) < 0)
		return -1;
	unsigned long long utime, stime;
	if (bx_proc_stat_times(text, &utime, &stime, out) < 0)
		return bx_fail(err, 0, "cannot parse %s", path);
	return 0;
}

bool bx_proc_alive(int pid, unsigned long long start_time)
{
	unsigned long long now;
	if (bx_proc_start_time(pid, &now, NULL) < 0 || now != start_time)
		return false;
	/* a zombie shim (its parent has not reaped it yet) is dead too */
	char path[64];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (bx_read_file(path, &text, NULL, NULL) < 0)
		return false;
	char *p = strrchr(text, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int bx_proc_pidfd(int pid, unsigned long long start_time)
{
	if (pid <= 0)
		return -1;
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* checked after opening: the fd now pins the process we verified */
	if (fd < 0 || !bx_proc_alive(pid, start_time))
		return -1;
	return BX_TAKE_FD(fd); /* pidfds are close-on-exec */
}

int bx_pidfd_wait(int pidfd, int timeout_ms, const char *what, struct bx_err *err)
{
	if (pidfd < 0)
		return 0;
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	int r;
	/* the timeout is a hang guard only: an interrupted wait may start it over */
	while ((r = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r > 0)
		return 0; /* readable: the process has exited */
	if (r < 0)
		return bx_fail(err, errno, "cannot wait for %s", what);
	return bx_fail(err, 0, "%s did not exit within %d s", what, timeout_ms / 1000);
}

bool bx_box_status_live(enum bx_box_status s)
{
	return s == BX_BOX_RUNNING || s == BX_BOX_PAUSED || s == BX_BOX_RESTARTING || s == BX_BOX_STARTING;
}

static bool shim_gone(const struct bx_box_record *r)
{
	return bx_box_status_live(r->status) && !bx_proc_alive(r->shim_pid, r->shim_start_time);
}

bool bx_box_is_running(const struct bx_box_record *r)
{
	return (r->status == BX_BOX_RUNNING || r->status == BX_BOX_PAUSED) &&
	       bx_proc_alive(r->shim_pid, r->shim_start_time);
}

static int mark_exited(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	if (!shim_gone(r))
		return 1; /* re-checked under the lock: someone got there first */
	*(bool *)ctx = true;
	r->status = BX_BOX_EXITED;
	r->exit_code = 128 + 9; /* the VM died with its supervisor: killed */
	r->finished_ns = bx_real_ns();
	r->shim_pid = 0;
	r->shim_start_time = 0;
	return 0;
}

/* A --rm box whose shim died never got its removal: do it now, as Docker's
 * daemon removes its auto-remove containers when it comes back. The exit was
 * a kill (137), so the log is kept like any failed --rm box's. */
static bool remove_orphan(const struct bx_box_record *r)
{
	struct bx_paths p;
	char tmp[PATH_MAX];
	memset(&p, 0, sizeof(p));
	/* DATA is two levels above BOXDIR (DATA/boxes/<id>) */
	if (bx_path_join(tmp, sizeof(tmp), NULL, "%s", r->box_dir) < 0 ||
	    bx_path_join(p.data, sizeof(p.data), NULL, "%s", dirname(dirname(tmp))) < 0)
		return false;
	bx_keptlog_save(&p, r, NULL);
	return bx_state_remove(&p, r, NULL) == 0;
}

bool bx_state_reconcile(struct bx_box_record *r)
{
	if (!shim_gone(r))
		return false;
	struct bx_box_record fixed;
	bool marked = false;
	struct bx_err err = {0};
	if (bx_state_update(r->box_dir, mark_exited, &marked, &fixed, &err) == 0) {
		*r = fixed;
		if (marked) /* its shim could not tell: whoever finds it dead does */
			bx_event_box(r->box_dir, "die", (const char *const[]){"exitCode", "137", NULL}, NULL);
		/* the dead shim could not remove its sockets: do it for it */
		if (r->run_dir[0])
			bx_rm_rf(r->run_dir, NULL);
		if (r->auto_remove && r->status == BX_BOX_EXITED && remove_orphan(r)) {
			r->status = BX_BOX_REMOVING;
			return true;
		}
	} else if (err.errnum == ENOENT) {
		/* its directory went between our read and now (a --rm box's shim
		 * removed it): gone, not "exited" with the code of the stale read */
		r->status = BX_BOX_REMOVING;
		return true;
	} else if (shim_gone(r)) {
		r->status = BX_BOX_EXITED; /* cannot persist (read-only store?): still show the truth */
	}
	return false;
}
