/* Pause and unpause: the whole VM frozen through QEMU's QMP monitor
 * (RUN/qmp.sock, "stop"/"cont"), asked for by the CLI with SIGUSR2 and
 * sigqueue value 1 (pause) or 0 (unpause).
 *
 * The outcome is published in two places, both written after QEMU answered:
 * the state record's status ("paused"/"running", for boxvm; the CLI waits on
 * it) and RUN/paused (present while frozen, for boxvm-runtime, whose boxes
 * have no record). When to freeze and thaw is the state machine's (fsm.c):
 * a guest that has not booted yet is frozen once it has (PAUSE_PENDING),
 * since the boot backstop counts from the start of the boot and must never
 * fire because a pause stopped the clock of a guest that could not answer. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../store/state.h"
#include "../vm/vmspec.h"
#include "shim.h"

/* QEMU answers stop/cont at once; this only guards against a wedged QEMU */
#define QMP_GUARD_MS 5000

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
	return shim_qmp(s, cmd, NULL, NULL, QMP_GUARD_MS, err);
}

int shim_pause_freeze(struct shim *s)
{
	struct bx_err err;
	if (qmp(s, "stop", &err) < 0) {
		shim_log(s, true, "cannot pause the VM: %s", err.msg);
		bx_pause_error_write(s->spec.box_dir, err.msg);
		return -1;
	}
	shim_log(s, false, "VM paused");
	publish(s, true);
	return 0;
}

int shim_pause_thaw(struct shim *s)
{
	struct bx_err err;
	if (qmp(s, "cont", &err) < 0) {
		shim_log(s, true, "cannot unpause the VM: %s", err.msg);
		bx_pause_error_write(s->spec.box_dir, err.msg);
		return -1;
	}
	shim_log(s, false, "VM unpaused");
	return 0;
}

void shim_pause_thawed(struct shim *s)
{
	/* the guest's clock stood still while frozen: the host's time goes out
	 * before the CLI hears "running", so anything it runs next is behind it */
	shim_link_send_time(s);
	shim_link_writable(s);
	publish(s, false);
}

void shim_pause_forget(struct shim *s)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/paused", s->spec.run_dir) == 0)
		unlink(path);
}
