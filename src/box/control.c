/* Box control, for every front end: requests to a box's shim (signals to
 * its pid, after its start time proved it is still our shim), stop, pause,
 * start and attach. */
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../client/shim_client.h"
#include "../client/tty_keys.h"
#include "../common/cleanup.h"
#include "../common/crashpoint.h"
#include "../store/boxconfig.h"
#include "../store/events.h"
#include "../vm/vmspec.h"
#include "pool.h"

static int alive_shim(const struct bx_box_record *r, struct bx_err *err)
{
	if (!bx_box_status_live(r->status) || !bx_proc_alive(r->shim_pid, r->shim_start_time))
		return bx_fail(err, 0, "box %s is not running", r->name[0] ? r->name : r->id);
	return r->shim_pid;
}

/* A request to the box's shim: signo with a value (src/shim/README.md, Signals). */
static int queue(const struct bx_box_record *r, int signo, int value, struct bx_err *err)
{
	int pid = alive_shim(r, err);
	if (pid < 0)
		return -1;
	union sigval v = {.sival_int = value};
	if (sigqueue(pid, signo, v) < 0)
		return bx_fail(err, errno, "cannot signal the supervisor of box %s", r->name[0] ? r->name : r->id);
	return 0;
}

/* Docker's "kill" event, for every signal a box is sent (stop's too) */
static void kill_event(const struct bx_box_record *r, int sig)
{
	char s[16];
	snprintf(s, sizeof(s), "%d", sig);
	bx_event_box(r->box_dir, "kill", (const char *const[]){"signal", s, NULL}, NULL);
}

int bx_box_signal(const struct bx_box_record *r, int sig, struct bx_err *err)
{
	if (queue(r, SIGUSR1, sig, err) < 0)
		return -1;
	kill_event(r, sig);
	return 0;
}

int bx_box_kill_vm(const struct bx_box_record *r, struct bx_err *err)
{
	int pid = alive_shim(r, err);
	if (pid < 0)
		return -1;
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return bx_fail(err, errno, "cannot signal the supervisor of box %s", r->name);
	kill_event(r, SIGKILL); /* the VM dies as a SIGKILLed container */
	return 0;
}

static int set_stopped(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	if (r->manually_stopped)
		return 1;
	r->manually_stopped = true;
	return 0;
}

int bx_box_mark_stopped(const struct bx_box_record *r, struct bx_err *err)
{
	return bx_state_update(r->box_dir, set_stopped, NULL, NULL, err);
}

bool bx_box_not_running(const struct bx_box_record *r, void *ctx)
{
	return !bx_box_status_live(r->status);
}

int bx_box_wait_shim_gone(int shim_pidfd, const char *name, struct bx_err *err)
{
	char what[160];
	snprintf(what, sizeof(what), "the supervisor of box %s", name);
	return bx_pidfd_wait(shim_pidfd, SHIM_EXIT_GUARD_MS, what, err);
}

static int stop_box(struct bx_box_record *r, int sig, int timeout_s, struct bx_err *err)
{
	if (bx_box_mark_stopped(r, err) < 0)
		return -1;
	bx_crash_point("stop.marked");
	struct bx_err e2;
	/* a paused box: the shim unpauses it before it delivers the signal; a
	 * starting one: main gets it the moment it runs (it follows the TIME
	 * that starts main on the same channel), and the timeout still applies */
	if ((r->status == BX_BOX_RUNNING || r->status == BX_BOX_PAUSED || r->status == BX_BOX_STARTING) &&
	    bx_box_signal(r, sig, &e2) < 0) {
		/* it ended meanwhile: fine */
	}
	if (r->status == BX_BOX_RESTARTING)
		bx_box_kill_vm(r, &e2); /* between boots there is nothing to signal */
	int w = bx_state_wait(r->box_dir, bx_box_not_running, NULL, timeout_s * 1000, r, err);
	if (w < 0)
		return err->errnum == ENOENT ? 0 : -1; /* --rm: the box is gone, which is stopped too */
	if (w == 1)
		return 0;
	/* the timeout passed: kill the VM (137), as Docker's SIGKILL */
	if (bx_box_kill_vm(r, &e2) < 0 && !bx_box_not_running(r, NULL)) {
		/* the shim went away between the wait and the kill: reconcile shows it */
	}
	w = bx_state_wait(r->box_dir, bx_box_not_running, NULL, 30000, r, err);
	if (w == 0)
		return bx_fail(err, 0, "box %s did not stop within 30 s of being killed", r->name);
	return w < 0 && err->errnum != ENOENT ? -1 : 0;
}

/* Stopped means every process of the box is gone: the record says exited
 * a moment before its shim has finished cleaning up, so wait for the shim too. */
int bx_box_stop(struct bx_box_record *r, int sig, int timeout_s, struct bx_err *err)
{
	if (bx_box_not_running(r, NULL))
		return 0; /* Docker: stopping a stopped box succeeds */
	char name[sizeof(r->name)];
	snprintf(name, sizeof(name), "%s", r->name);
	_cleanup_close_ int shim = bx_proc_pidfd(r->shim_pid, r->shim_start_time);
	char box_dir[sizeof(r->box_dir)];
	snprintf(box_dir, sizeof(box_dir), "%s", r->box_dir);
	if (stop_box(r, sig, timeout_s, err) < 0 || bx_box_wait_shim_gone(shim, name, err) < 0)
		return -1;
	bx_event_box(box_dir, "stop", NULL, NULL); /* a --rm box is gone by now: no event, its destroy tells */
	return 0;
}

/* The shim has acted on the request (or said why it could not), or the box
 * is no longer running. */
static bool pause_settled(const struct bx_box_record *r, void *ctx)
{
	enum bx_box_status from = *(enum bx_box_status *)ctx;
	char path[PATH_MAX];
	return r->status != from ||
	       (bx_path_join(path, sizeof(path), NULL, "%s/pause.err", r->box_dir) == 0 && access(path, F_OK) == 0);
}

int bx_box_pause(const char *ref, struct bx_box_record *r, bool pause, struct bx_err *err)
{
	if (r->status == BX_BOX_RESTARTING && pause)
		return bx_fail(err, 0, "box %s is restarting, wait until it is running", ref);
	if (!pause && r->status != BX_BOX_PAUSED)
		return bx_fail(err, 0, "box %s is not paused", ref);
	if (!bx_box_is_running(r))
		return bx_fail(err, 0, "box %s is not running", ref);
	if (pause && r->status == BX_BOX_PAUSED)
		return bx_fail(err, 0, "box %s is already paused", ref);
	bx_pause_error_clear(r->box_dir);
	if (queue(r, SIGUSR2, pause ? 1 : 0, err) < 0)
		return -1;
	enum bx_box_status from = r->status;
	int guard = bx_vmspec_pause_guard_ms(r->box_dir);
	int w = bx_state_wait(r->box_dir, pause_settled, &from, guard, r, err);
	char why[256];
	if (bx_pause_error_take(r->box_dir, why, sizeof(why)))
		return bx_fail(err, 0, "cannot %s box %s: %s", pause ? "pause" : "unpause", ref, why);
	if (w < 0 && err->errnum == ENOENT)
		return bx_fail(err, 0, "box %s was removed before it could be %s", ref, pause ? "paused" : "unpaused");
	if (w < 0)
		return -1;
	if (w == 0)
		return bx_fail(err, 0, "box %s was not %s within %d s; its supervisor's log %s/shim.log says why", ref,
			       pause ? "paused" : "unpaused", guard / 1000, r->box_dir);
	if (r->status != (pause ? BX_BOX_PAUSED : BX_BOX_RUNNING))
		return bx_fail(err, 0, "box %s stopped before it could be %s", ref, pause ? "paused" : "unpaused");
	bx_event_box(r->box_dir, pause ? "pause" : "unpause", NULL, NULL);
	return 0;
}

struct start_ctx {
	bool hold_output;
};

static int reset_for_start(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	struct start_ctx *c = ctx;
	if (bx_box_status_live(r->status))
		return bx_fail(err, 0, "box %s is already running", r->name);
	if (r->status == BX_BOX_REMOVING)
		return bx_fail(err, 0, "box %s is being removed", r->name);
	r->manually_stopped = false;
	r->restart_count = 0;
	r->hold_output = c->hold_output;
	return 0;
}

/* A box removed under us: told as the lookup would have (errnum ENOENT, no
 * errno text appended). */
static int gone(struct bx_err *err, const char *name)
{
	bx_fail(err, 0, "no such box: %s", name);
	if (err)
		err->errnum = ENOENT;
	return -1;
}

static int start_box(const struct bx_paths *p, struct bx_box_record *r, bool hold_output, bool attach,
		     bool forward_stdin, struct bx_err *err);

int bx_box_start(const struct bx_paths *p, struct bx_box_record *r, bool attach, bool forward_stdin,
		  struct bx_err *err)
{
	return start_box(p, r, attach, attach, forward_stdin, err);
}

int bx_box_start_held(const struct bx_paths *p, struct bx_box_record *r, struct bx_err *err)
{
	return start_box(p, r, true, false, false, err);
}

/* hold_output: the shim keeps main's output for a client that attaches
 * next (this one when attach, another one otherwise) */
static int start_box(const struct bx_paths *p, struct bx_box_record *r, bool hold_output, bool attach,
		     bool forward_stdin, struct bx_err *err)
{
	char name[sizeof(r->name)];
	snprintf(name, sizeof(name), "%s", r->name);
	_cleanup_close_ int lock = bx_state_start_lock(r->box_dir, err);
	if (lock < 0)
		return err->errnum == ENOENT ? gone(err, name) : -1;
	/* under the lock, the record as it is now: another start may just have
	 * finished */
	if (bx_state_read(r->box_dir, r, err) < 0)
		return err->errnum == ENOENT ? gone(err, name) : -1;
	bx_state_reconcile(r);
	if (r->status == BX_BOX_PAUSED && bx_box_is_running(r))
		return bx_fail(err, 0, "box %s is paused; unpause it instead", r->name);
	if (bx_box_is_running(r) || r->status == BX_BOX_RESTARTING || r->status == BX_BOX_STARTING)
		return bx_fail(err, 0, "box %s is already running; stop it first or use restart", r->name);
	char path[PATH_MAX];
	struct bx_vmspec vm;
	struct start_ctx c = {.hold_output = hold_output};
	/* the record first: a box removed meanwhile is told as such, not as a
	 * missing vm.json (once reset, an rm waits for our shim or loses) */
	if (bx_state_update(r->box_dir, reset_for_start, &c, r, err) < 0)
		return err->errnum == ENOENT ? gone(err, name) : -1;
	if (bx_path_join(path, sizeof(path), err, "%s/vm.json", r->box_dir) < 0 || bx_vmspec_read(path, &vm, err) < 0)
		return -1;
	bx_crash_point("start.reset");
	if (bx_box_boot(p, &vm, err) < 0)
		return -1;
	close(lock); /* not held while attached */
	lock = -1;
	if (!attach)
		return 0;
	struct bx_detach keys;
	bx_detach_parse(BX_DETACH_DEFAULT, &keys, NULL);
	return bx_box_attach(&vm, forward_stdin, &keys, err);
}

int bx_box_attach(const struct bx_vmspec *vm, bool forward_stdin, const struct bx_detach *keys, struct bx_err *err)
{
	/* opened before the box can end, so the wait below cannot miss the shim */
	_cleanup_close_ int shim = bx_box_shim_pidfd(vm->box_dir);
	bool detached = false;
	int rc = vm->tty ? bx_shim_attach_tty(vm->run_dir, vm->id, forward_stdin, keys, &detached, err)
			 : bx_shim_attach(vm, forward_stdin, err);
	if (detached)
		return rc < 0 ? -1 : 0; /* the box goes on: nothing to wait for */
	/* a failed attach waits too: the box may be ending (its error is the one told) */
	struct bx_err e2;
	if (bx_box_wait_shim_gone(shim, vm->id, rc < 0 ? &e2 : err) < 0 && rc >= 0)
		return -1;
	return rc;
}

int bx_box_shim_pidfd(const char *box_dir)
{
	struct bx_box_record rec;
	struct bx_err e;
	if (bx_state_read(box_dir, &rec, &e) < 0)
		return -1; /* a --rm box that is already gone */
	return bx_proc_pidfd(rec.shim_pid, rec.shim_start_time);
}

int bx_box_kill(struct bx_box_record *rec, int sig, const char *ref, struct bx_err *err)
{
	struct bx_box_config cfg;
	if (bx_box_config_read(rec->box_dir, &cfg, err) < 0)
		return -1;
	if (!bx_box_status_live(rec->status))
		return bx_fail(err, 0, "cannot kill box %s: it is not running", ref);
	if ((sig == SIGKILL || sig == cfg.stop_signal) && bx_box_mark_stopped(rec, err) < 0)
		return -1;
	return sig == SIGKILL || rec->status == BX_BOX_RESTARTING ? bx_box_kill_vm(rec, err) : bx_box_signal(rec, sig, err);
}
