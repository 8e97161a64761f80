/* Pause and unpause: the whole VM frozen through QEMU's QMP monitor
 * (RUN/qmp.sock, "stop"/"cont"), asked for by the CLI with SIGUSR2 and
 * sigqueue value 1 (pause) or 0 (unpause).
 *
 * The outcome is published in two places, both written after QEMU answered:
 * the state record's status ("paused"/"running", for boxvm; the CLI waits on
 * it) and RUN/paused (present while frozen, for boxvm-runtime, whose boxes
 * have no record). A guest that has not booted yet is frozen once it has:
 * the boot backstop counts from the start of the boot and must never fire
 * because a pause stopped the clock of a guest that could not answer. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../store/state.h"
#include "../vm/qmp.h"
#include "../vm/vmspec.h"
#include "shim.h"

/* QEMU answers stop/cont at once; this only guards against a wedged QEMU */
#define QMP_GUARD_MS 5000

static bool guest_up(const struct shim *s)
{
	return s->hb_pong || s->main_activity; /* exactly what disarms the backstop (link.c) */
}

struct flip {
	enum bx_box_status from, to;
};

static int set_status(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	const struct flip *f = ctx;
	if (r->status != f->from)
		return 1; /* the box ended (or a stop rewrote it) meanwhile: leave it */
	r->status = f->to;
	return 0;
}

static void publish(struct shim *s, bool paused)
{
	char path[PATH_MAX];
	struct bx_err err;
	if (bx_path_join(path, sizeof(path), &err, "%s/paused", s->spec.run_dir) == 0) {
		if (paused ? bx_write_file_atomic(path, "", 0, 0600, &err) < 0 : unlink(path) < 0)
			shim_log(s, true, "cannot %s %s", paused ? "create" : "remove", path);
	}
	struct flip f = {paused ? BX_BOX_RUNNING : BX_BOX_PAUSED, paused ? BX_BOX_PAUSED : BX_BOX_RUNNING};
	if (s->lc.have_state && bx_state_update(s->spec.box_dir, set_status, &f, NULL, &err) < 0) {
		shim_log(s, true, "cannot record the box as %s: %s", paused ? "paused" : "running", err.msg);
		bx_pause_error_write(s->spec.box_dir, err.msg);
	}
}

static int qmp(struct shim *s, const char *cmd, struct bx_err *err)
{
	char sock[PATH_MAX];
	if (bx_path_join(sock, sizeof(sock), err, "%s/qmp.sock", s->spec.run_dir) < 0)
		return -1;
	return bx_qmp_execute(sock, cmd, QMP_GUARD_MS, err);
}

static void freeze(struct shim *s)
{
	s->pause_pending = false;
	struct bx_err err;
	if (qmp(s, "stop", &err) < 0) {
		shim_log(s, true, "cannot pause the VM: %s", err.msg);
		bx_pause_error_write(s->spec.box_dir, err.msg);
		return;
	}
	s->paused = true;
	shim_log(s, false, "VM paused");
	publish(s, true);
}

void shim_pause_resume(struct shim *s)
{
	s->pause_pending = false;
	if (!s->paused)
		return;
	if (s->qemu_exited) {
		s->paused = false; /* killed while paused: the box's end rewrites the record */
		return;
	}
	struct bx_err err;
	if (qmp(s, "cont", &err) < 0) {
		shim_log(s, true, "cannot unpause the VM: %s", err.msg);
		bx_pause_error_write(s->spec.box_dir, err.msg);
		return;
	}
	s->paused = false;
	shim_log(s, false, "VM unpaused");
	/* the guest's clock stood still while frozen: the host's time goes out
	 * before the CLI hears "running", so anything it runs next is behind it */
	shim_link_send_time(s);
	shim_link_writable(s);
	publish(s, false);
}

void shim_pause_request(struct shim *s, const struct signalfd_siginfo *si)
{
	if (si->ssi_int != 0 && si->ssi_int != 1) {
		shim_log(s, true, "ignoring a pause request with value %d from pid %u", si->ssi_int, si->ssi_pid);
		return;
	}
	shim_log(s, false, "%s requested by pid %u", si->ssi_int ? "pause" : "unpause", si->ssi_pid);
	if (!si->ssi_int) {
		shim_pause_resume(s);
		return;
	}
	if (s->end || s->qemu_exited || s->paused)
		return; /* ending: the record turns "exited", which ends the CLI's wait */
	s->pause_pending = true;
	shim_pause_tick(s);
}

void shim_pause_tick(struct shim *s)
{
	if (!s->pause_pending)
		return;
	if (s->end || s->qemu_exited)
		s->pause_pending = false;
	else if (guest_up(s))
		freeze(s);
}

void shim_pause_reset(struct shim *s)
{
	s->paused = s->pause_pending = false;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/paused", s->spec.run_dir) == 0)
		unlink(path);
}
